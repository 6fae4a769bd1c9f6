"""TF2 object graphs of Keras checkpoints, compared with TensorFlow's own view.

The generator recorded TF's parsed ``TrackableObjectGraph``, its
``tf.train.CheckpointView`` children, and which node is which live Keras layer,
variable and optimizer slot (``CheckpointView.match`` and the saver's own
object numbering).
"""

from __future__ import annotations

import pytest

import tfformats
from tfformats.checkpoint.object_graph import ObjectGraph, escape_local_name
from tfformats.errors import DataLossError, TFFormatsError

from _checkpoint_helpers import checkpoint, path_of

KERAS = ["keras3", "tf_keras_legacy"]


def graph(cid: str) -> ObjectGraph:
    with tfformats.load_checkpoint(path_of(cid)) as r:
        og = r.object_graph
    assert og is not None
    return og


@pytest.mark.parametrize("cid", KERAS)
def test_nodes_match_tf(cid):
    og = graph(cid)
    want = checkpoint(cid)["object_graph"]
    assert len(og) == len(want["nodes"])
    for node, w in zip(og.nodes, want["nodes"]):
        assert node.children == {name: i for name, i in w["children"]}
        assert node.attributes == {name: key for name, _, key in w["attributes"]}
        assert [(s.original_node, s.slot_name, s.slot_node) for s in node.slot_variables] == [
            tuple(s) for s in w["slot_variables"]
        ]
        assert node.children == {k: v for k, v in want["children_by_view"][str(node.id)].items()}
    assert og.root is og.nodes[0] and og.root.path == ""
    assert "ObjectGraph" in repr(og) and f"{len(og)} objects" in repr(og)


@pytest.mark.parametrize("cid", KERAS)
def test_every_checkpoint_key_is_an_attribute(cid):
    og = graph(cid)
    keys = {n for n, _ in checkpoint(cid)["list_variables"]} - {"_CHECKPOINTABLE_OBJECT_GRAPH"}
    assert set(og.variables()) == keys
    for key, path in og.variables().items():
        node = og.find(path)
        assert node is not None and node.attributes["VARIABLE_VALUE"] == key
        # TF's own key for an attribute starts with the object's (shortest) path
        assert key == f"{path}/.ATTRIBUTES/VARIABLE_VALUE"


@pytest.mark.parametrize("cid", KERAS)
def test_which_variable_belongs_to_which_layer(cid):
    og = graph(cid)
    want = checkpoint(cid)["object_graph"]
    assert og.nodes[want["model_node"]].path == "model"
    assert og.nodes[want["optimizer_node"]].path == "optimizer"
    assert len(want["layers"]) == 2
    for layer in want["layers"]:
        layer_node = og.nodes[layer["node"]]
        assert len(layer["variables"]) == 2
        for var in layer["variables"]:
            # the variable is a child of its layer's node ...
            assert var["node"] in layer_node.children.values()
            assert (layer_node.id, next(k for k, v in layer_node.children.items() if v == var["node"])) in og.parents(
                var["node"]
            )
            # ... and its value is stored under the key TF recorded for it
            assert og.nodes[var["node"]].attributes["VARIABLE_VALUE"] == var["key"]
            assert og.variables()[var["key"]] == og.nodes[var["node"]].path
            # one of the variable's paths runs through the layer
            assert any(p.startswith(layer_node.path + "/") for p in og.paths(var["node"]))
            leaf = var["name"].split("/")[-1].split(":")[0]
            assert any(local.lstrip("_") == leaf for _, local in og.parents(var["node"]))


def test_keras3_variables_are_keyed_under_the_optimizer():
    """Keras 3: the shortest path to a layer's kernel runs through the
    optimizer, so its key is ``optimizer/_trainable_variables/N``; the layer
    still references it (``_kernel``)."""
    og = graph("keras3")
    hidden = checkpoint("keras3")["object_graph"]["layers"][0]
    kernel = hidden["variables"][0]
    assert kernel["key"].startswith("optimizer/_trainable_variables/")
    paths = og.paths(kernel["node"])
    assert paths[0] == og.nodes[kernel["node"]].path
    assert any(p.endswith("/_kernel") for p in paths)
    assert og.slots() == [] == checkpoint("keras3")["object_graph"]["slots"]


def test_legacy_optimizer_slots_match_tf():
    og = graph("tf_keras_legacy")
    want = checkpoint("tf_keras_legacy")["object_graph"]
    assert len(want["slots"]) == 8  # m and v for 4 variables
    got = {(s["variable_key"], s["slot"], s["key"]) for s in og.slots()}
    assert got == {(s["variable_key"], s["slot"], s["slot_key"]) for s in want["slots"]}
    opt_path = og.nodes[want["optimizer_node"]].path
    assert {s["optimizer"] for s in og.slots()} == {opt_path}
    keys = {n for n, _ in checkpoint("tf_keras_legacy")["list_variables"]}
    for s in og.slots():
        assert s["key"] in keys and s["variable_key"] in keys
        assert s["key"] == f"{og.variables()[s['variable_key']]}/.OPTIMIZER_SLOT/{opt_path}/{s['slot']}/.ATTRIBUTES/VARIABLE_VALUE"


def test_v1_and_tf1_checkpoints_have_no_object_graph():
    for cid in ("tf1_sharded", "v1_single"):
        with tfformats.load_checkpoint(path_of(cid)) as r:
            assert r.object_graph is None


def test_escape_local_name():
    assert escape_local_name("a.b/c") == "a..b.Sc"
    assert escape_local_name("plain") == "plain"


def test_corrupt_object_graphs():
    from tfformats.proto import pb

    g = pb.TrackableObjectGraph()
    root = g.nodes.add()
    root.children.add(node_id=5, local_name="x")
    with pytest.raises(DataLossError) as ei:
        ObjectGraph.from_bytes(g.SerializeToString(), path="ck")
    assert "ck" in str(ei.value)
    g = pb.TrackableObjectGraph()
    g.nodes.add().slot_variables.add(original_variable_node_id=0, slot_name="m", slot_variable_node_id=9)
    with pytest.raises(DataLossError):
        ObjectGraph.from_bytes(g.SerializeToString(), path="ck")
    with pytest.raises(TFFormatsError):
        ObjectGraph.from_bytes(b"\xff\xff\xff", path="ck")


def test_paths_are_bounded_on_a_graph_with_many_paths():
    """A ladder of 40 diamonds has 2**40 paths to its last node: ``paths``
    returns at most ``limit`` of them, and gives up on an unreachable node."""
    from tfformats.proto import pb

    g = pb.TrackableObjectGraph()
    join = g.nodes.add()
    join_id = 0
    for _ in range(40):
        a, b, nxt = g.nodes.add(), g.nodes.add(), g.nodes.add()
        ids = len(g.nodes) - 3, len(g.nodes) - 2, len(g.nodes) - 1
        join.children.add(node_id=ids[0], local_name="l")
        join.children.add(node_id=ids[1], local_name="r")
        a.children.add(node_id=ids[2], local_name="j")
        b.children.add(node_id=ids[2], local_name="j")
        join, join_id = nxt, ids[2]
    g.nodes.add()  # unreachable
    og = ObjectGraph(g)
    assert og.nodes[join_id].path.count("/") == 79  # 80 names
    paths = og.paths(join_id, limit=10)
    assert len(paths) == 10 and len(set(paths)) == 10
    assert og.paths(len(og) - 1) == []
    assert og.parents(join_id) == [(join_id - 2, "j"), (join_id - 1, "j")]


def test_tensor_owners_match_the_saver():
    """Objects saved through SaveableObjects write ``checkpoint_key + suffix``
    (an iterator's ``ITERATOR_STATE``, a hash table's ``table-keys``/``-values``);
    every tensor maps to the node TensorFlow's saver wrote it for."""
    c = checkpoint("tf2_objects")
    want = c["tensor_owners"]  # tensor name -> node id, from save_util.serialize_graph_view
    assert {"data/.ATTRIBUTES/ITERATOR_STATE", "vocab/.ATTRIBUTES/table-keys"} <= set(want)
    with tfformats.load_checkpoint(path_of("tf2_objects")) as r:
        og = r.object_graph
        names = list(r)
        for name in names:
            hit = og.owner(name)
            if name == "_CHECKPOINTABLE_OBJECT_GRAPH":
                assert hit is None
                continue
            assert hit is not None, name
            assert hit[0].id == want[name], name
        owners = og.tensor_owners(names)
        assert set(owners) == set(want)
        assert owners["vocab/.ATTRIBUTES/table-values"] == og.nodes[want["vocab/.ATTRIBUTES/table-values"]].path + "/table"
        assert owners["scale/.ATTRIBUTES/VARIABLE_VALUE"] == og.nodes[want["scale/.ATTRIBUTES/VARIABLE_VALUE"]].path
        # the graph's own keys are prefixes, not tensor names
        assert "data/.ATTRIBUTES/ITERATOR" in og.variables() and "data/.ATTRIBUTES/ITERATOR" not in r
        assert og.keys_without_tensors(names) == []
        gone = [n for n in names if not n.startswith("vocab/")]
        assert og.keys_without_tensors(gone) == [("vocab/.ATTRIBUTES/table", "vocab/table")]


@pytest.mark.parametrize("cid", KERAS)
def test_every_keras_tensor_has_an_owner_under_its_own_key(cid):
    with tfformats.load_checkpoint(path_of(cid)) as r:
        og = r.object_graph
        names = [n for n in r if n != "_CHECKPOINTABLE_OBJECT_GRAPH"]
        owners = og.tensor_owners(names)
        assert owners == {k: v for k, v in og.variables().items() if k in names}
        assert set(owners) == set(names)
        assert og.keys_without_tensors(r.keys()) == []
