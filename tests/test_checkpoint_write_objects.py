"""TF2 object-based checkpoints written from nested dicts."""

from __future__ import annotations

import json

import numpy as np
import pytest

import tfformats
from tfformats.checkpoint.object_writer import (
    OBJECT_GRAPH_KEY,
    attribute_key,
    build_object_graph,
    object_checkpoint_tensors,
)
from tfformats.errors import InvalidArgumentError
from tfformats.proto import pb

from conftest import require_data


def _keras_tree_from_tf():
    """The tf_keras Sequential of the fixture, as a tree, with the values TF read back."""
    meta = json.loads(require_data("checkpoint_write/expected.json").read_text())["keras"]
    arrays = np.load(require_data("checkpoint_write/expected.npz"))

    def value(key):
        info = meta[key]
        return arrays[info["npz"]].view(np.dtype(info["dtype"])).reshape(info["shape"])

    layers = []
    for i in range(2):
        base = f"model/layer_with_weights-{i}"
        layers.append({
            "kernel": value(f"{base}/kernel/.ATTRIBUTES/VARIABLE_VALUE"),
            "bias": value(f"{base}/bias/.ATTRIBUTES/VARIABLE_VALUE"),
        })
    # Sequential tracks each layer twice: layer_with_weights-N and layer-N (same object)
    model = {"layer_with_weights-0": layers[0], "layer-0": layers[0], "layer_with_weights-1": layers[1], "layer-1": layers[1]}
    counter = int(value("save_counter/.ATTRIBUTES/VARIABLE_VALUE"))
    return {"model": model}, counter, meta


def _without_full_names(graph):
    g = pb.TrackableObjectGraph()
    g.CopyFrom(graph)
    for node in g.nodes:
        for attr in node.attributes:
            attr.full_name = ""
    return g


def test_object_graph_matches_tensorflow(tmp_path):
    tree, counter, meta = _keras_tree_from_tf()
    prefix = tfformats.save_object_checkpoint(tmp_path / "ckpt-3", tree, save_counter=counter)
    mine = tfformats.load_checkpoint(prefix)
    theirs = tfformats.load_checkpoint(require_data("checkpoint_write/keras/ckpt-3.index"))
    assert sorted(mine.keys()) == sorted(theirs.keys()) == sorted(meta)
    for k in mine.keys():
        if k != OBJECT_GRAPH_KEY:
            assert mine[k].dtype == theirs[k].dtype and mine[k].tobytes() == theirs[k].tobytes()
    g_mine = pb.TrackableObjectGraph.FromString(mine[OBJECT_GRAPH_KEY].item())
    g_tf = pb.TrackableObjectGraph.FromString(theirs[OBJECT_GRAPH_KEY].item())
    # Same nodes, same numbering, same children, keys and has_checkpoint_values; TF's
    # full_name is the variable's graph name ("dense/kernel"), ours the object path.
    assert _without_full_names(g_mine) == _without_full_names(g_tf)
    assert g_mine.nodes[5].attributes[0].full_name == "model/layer_with_weights-0/kernel"
    assert mine.object_graph.variables() == theirs.object_graph.variables()


def test_escaping_and_sharing():
    a = np.ones(2)
    tree = {"a.b": {"c/d": a, "same": a}, "e": {}, "f": np.int32(1)}
    graph, values = build_object_graph(tree)
    assert set(values) == {"a..b/c.Sd/.ATTRIBUTES/VARIABLE_VALUE", "f/.ATTRIBUTES/VARIABLE_VALUE"}
    assert attribute_key("x", "a/b.c") == "x/.ATTRIBUTES/a.Sb..c"
    # one node for the array reached twice; the empty object has no values
    assert len(graph.nodes) == 5
    names = {ref.local_name: ref.node_id for ref in graph.nodes[1].children}
    assert names["c/d"] == names["same"]
    empty = graph.nodes[0].children[1].node_id
    assert not graph.nodes[empty].has_checkpoint_values.value
    assert graph.nodes[0].has_checkpoint_values.value


def test_cycles_are_fine():
    inner = {"w": np.zeros(1)}
    inner["parent"] = inner
    graph, values = build_object_graph({"m": inner})
    assert list(values) == ["m/w/.ATTRIBUTES/VARIABLE_VALUE"]
    assert len(graph.nodes) == 3


def test_tensors_for_streaming(tmp_path):
    tensors = object_checkpoint_tensors({"net": {"w": np.arange(3)}}, save_counter=1)
    assert sorted(tensors) == [OBJECT_GRAPH_KEY, "net/w/.ATTRIBUTES/VARIABLE_VALUE", "save_counter/.ATTRIBUTES/VARIABLE_VALUE"]
    assert tensors["save_counter/.ATTRIBUTES/VARIABLE_VALUE"].dtype == np.int64
    with tfformats.CheckpointWriter(tmp_path / "s") as w:
        for k, v in tensors.items():
            w.add(k, v)
    r = tfformats.load_checkpoint(tmp_path / "s")
    assert r.object_graph.find("net/w").attributes == {"VARIABLE_VALUE": "net/w/.ATTRIBUTES/VARIABLE_VALUE"}


@pytest.mark.parametrize(
    "tree, kwargs, message",
    [
        ([1, 2], {}, "mapping"),
        ({"": np.ones(1)}, {}, "non-empty"),
        ({1: np.ones(1)}, {}, "non-empty"),
        ({"save_counter": np.int64(1)}, {"save_counter": 2}, "save_counter"),
        ({OBJECT_GRAPH_KEY: {}}, {}, None),
    ],
)
def test_bad_trees(tmp_path, tree, kwargs, message):
    if message is None:  # a child object may be called anything
        tfformats.save_object_checkpoint(tmp_path / "ok", tree, **kwargs)
        return
    with pytest.raises(InvalidArgumentError, match=message):
        tfformats.save_object_checkpoint(tmp_path / "x", tree, **kwargs)
