"""SavedModels written by TF1's Builder, tf.saved_model.save, Keras 3 export and
tf_keras, read without TensorFlow and compared with what TF reported
(tests/data/saved_models/report.json, *_variables.npz)."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest

from conftest import require_data

import tfformats
from tfformats.errors import (
    DataLossError,
    InvalidArgumentError,
    NotFoundError,
    UnknownTensorError,
    UnsupportedError,
)
from tfformats.proto import pb
from tfformats.saved_model import SavedModel, decode_structured_value, freeze_saved_model, load_saved_model

MODELS = ["tf1_builder", "tf2_module", "keras3_export", "tf_keras_model", "pbtxt_model"]


@pytest.fixture(scope="module")
def report():
    return json.loads(require_data("saved_models/report.json").read_text())


def sm_dir(name):
    return require_data(f"saved_models/{name}")


def tf_values(name):
    z = np.load(require_data(f"saved_models/{name}_variables.npz"))
    return {k.replace("__", "/"): z[k] for k in z.files}


@pytest.mark.parametrize("name", MODELS)
def test_tag_sets_and_signatures_match_tensorflow(name, report):
    r = report[name]
    with load_saved_model(sm_dir(name)) as sm:
        assert isinstance(sm, SavedModel)
        assert sorted(sm.tag_sets) == r["tag_sets"]
        assert sm.tags == ["serve"]
        assert set(sm.signatures) == set(r["signatures"])
        for key, sig in sm.signatures.items():
            expected = r["signatures"][key]
            assert sig.method_name == expected["method_name"]
            for side in ("inputs", "outputs"):
                ours = {k: {"name": v.name, "dtype": v.dtype, "shape": v.shape} for k, v in getattr(sig, side).items()}
                assert ours == expected[side], (key, side)
                for spec in getattr(sig, side).values():
                    assert spec.exists is True
        assert sm.tensorflow_version == r["tensorflow_version"]
        assert sorted(sm.functions) == r["functions"]
        assert sorted(k for k, f in sm.functions.items() if f.concrete) == r["concrete_functions"]
        assert sm.is_tf2 == (r["object_graph_nodes"] > 0)
        assert sm.problems == []


@pytest.mark.parametrize("name", ["tf2_module", "keras3_export", "tf_keras_model", "pbtxt_model"])
def test_signatures_agree_with_tf_saved_model_load(name, report):
    """dtype/shape of each signature input and output as the loaded TF function reports them."""
    loaded = report[name]["loaded_signatures"]
    with load_saved_model(sm_dir(name)) as sm:
        for key, expected in loaded.items():
            sig = sm.signatures[key]
            for side in ("inputs", "outputs"):
                ours = {k: {"dtype": v.dtype, "shape": v.shape} for k, v in getattr(sig, side).items()}
                assert ours == expected[side]


@pytest.mark.parametrize("name", ["tf2_module", "keras3_export", "tf_keras_model", "pbtxt_model"])
def test_tf2_variables_map_object_paths_to_checkpoint_keys(name, report):
    r = report[name]
    values = tf_values(name)
    with load_saved_model(sm_dir(name)) as sm:
        vs = sm.variables
        assert [(v.name, v.dtype, v.shape, v.trainable) for v in vs] == [
            (v["name"], v["dtype"], v["shape"], v["trainable"]) for v in r["saved_variables"]
        ]
        assert sorted({v.checkpoint_key for v in vs}) == sorted(values)
        for v in vs:
            assert v.checkpoint_key == f"{v.path}/.ATTRIBUTES/VARIABLE_VALUE"
            np.testing.assert_array_equal(sm.get_variable(v.path), values[v.checkpoint_key])
            assert sm.get_variable(v.checkpoint_key).dtype == values[v.checkpoint_key].dtype


def test_tf2_module_paths_and_names(report):
    with load_saved_model(sm_dir("tf2_module")) as sm:
        by_path = {v.path: v for v in sm.variables}
        assert sorted(by_path) == sorted(report["tf2_module"]["variables_by_path"])
        for path, tf_name in report["tf2_module"]["variables_by_path"].items():
            assert by_path[path].name + ":0" == tf_name
        np.testing.assert_array_equal(sm.get_variable("weights"), sm.get_variable("w"))  # by variable name
        with pytest.raises(UnknownTensorError):
            sm.get_variable("nope")


def test_tf1_builder(report):
    r = report["tf1_builder"]
    values = tf_values("tf1_builder")
    with load_saved_model(sm_dir("tf1_builder"), tags=["serve"]) as sm:
        assert not sm.is_tf2
        assert sm.init_op == "main_op"
        assert sorted(sm.meta_graph.collection_def) == r["collections"]
        assert [(v.name, v.dtype, v.shape, v.checkpoint_key, v.trainable) for v in sm.variables] == [
            ("w", "float32", [3, 2], "w", True), ("b", "float32", [2], "b", True)
        ]
        for v in sm.variables:
            np.testing.assert_array_equal(sm.get_variable(v.name), values[v.checkpoint_key])
        assert [(a.tensor_name, os.path.relpath(a.path, sm.directory)) for a in sm.assets] == sorted(
            r["asset_tensors"].items()
        )
        assert sm.assets[0].safe and sm.assets[0].exists and sm.assets[0].read_bytes().startswith(b"apple")
        assert sm.fingerprint is None  # the TF1 builder writes none
    with load_saved_model(sm_dir("tf1_builder"), tags="train,serve") as sm:
        assert sm.tags == ["serve", "train"] and list(sm.signatures) == list(r["train_serve"])


def test_tf2_asset(report):
    with load_saved_model(sm_dir("tf2_module")) as sm:
        assert [(a.tensor_name, os.path.relpath(a.path, sm.directory)) for a in sm.assets] == sorted(
            report["tf2_module"]["asset_tensors"].items()
        )
        assert sm.assets[0].read_bytes() == b"cat\ndog\n"


@pytest.mark.parametrize("name", ["tf2_module", "keras3_export", "tf_keras_model"])
def test_fingerprint(name, report):
    fp = report[name]["fingerprint"]
    with load_saved_model(sm_dir(name)) as sm:
        ours = sm.fingerprint.to_dict()
        for k in ("saved_model_checksum", "graph_def_program_hash", "signature_def_hash",
                  "saved_object_graph_hash", "checkpoint_hash"):
            assert str(ours[k]) == fp[k]
        assert ours["uuid"] == fp["uuid"] and ours["producer"] == fp["producer"]
        assert str(ours["saved_model_checksum"]) == fp["api_checksum"]


def test_keras_metadata(report):
    with load_saved_model(sm_dir("tf_keras_model")) as sm:
        km = sm.keras_metadata
        assert [(k["node_id"], k["node_path"], k["identifier"], k["metadata"]["class_name"]) for k in km] == [
            (k["node_id"], k["node_path"], k["identifier"], k["class_name"]) for k in report["tf_keras_model"]["keras_metadata"]
        ]
        lam = [k for k in km if k["metadata"]["class_name"] == "Lambda"]
        assert lam and "config" in lam[0]["metadata"]
    with load_saved_model(sm_dir("keras3_export")) as sm:
        assert sm.keras_metadata is None  # Keras 3 exports carry none


def test_pbtxt_model_is_read_as_text(report):
    with load_saved_model(sm_dir("pbtxt_model")) as sm:
        assert sm.encoding == "text" and sm.filename.endswith("saved_model.pbtxt")
        assert sm.signature().inputs["x"].shape == [3]


def test_text_saved_model_with_any_fields(tmp_path):
    """The TF1 builder's asset collection holds Any-wrapped AssetFileDefs; text format expands them."""
    dst = shutil.copytree(sm_dir("tf1_builder"), tmp_path / "m")
    proto = pb.SavedModel.FromString((dst / "saved_model.pb").read_bytes())
    text = tfformats.write_graph_def(proto, dst / "saved_model.pbtxt")
    assert "[type.googleapis.com/tensorflow.AssetFileDef]" in open(text).read()
    os.remove(dst / "saved_model.pb")
    with load_saved_model(dst) as sm:
        assert sm.encoding == "text" and sm.proto == proto
        assert [a.filename for a in sm.assets] == ["vocab.txt"]


def test_concrete_function_signatures():
    with load_saved_model(sm_dir("tf2_module")) as sm:
        predict = [f for name, f in sm.functions.items() if name.startswith("__inference_predict")][0]
        assert predict.concrete
        args, kwargs = predict.input_signature
        assert args == [{"TensorSpec": {"name": "x", "shape": [None, 3], "dtype": "float32"}}] and kwargs == {}
        assert predict.inputs[0] == ("x", "float32")
        assert ("resource" in [t for _, t in predict.inputs])  # captured variables
        assert json.loads(json.dumps(predict.to_dict())) == predict.to_dict()


def test_summary_uses_signatures(report):
    with load_saved_model(sm_dir("tf2_module")) as sm:
        s = sm.summary()
        assert s.kind == "SavedModel" and s.tags == ["serve"]
        assert [(t.signature, t.key, t.name) for t in s.inputs] == [
            ("serving_default", "x", "serving_default_x:0"), ("scale", "a", "scale_a:0"), ("scale", "b", "scale_b:0")
        ]
        assert [(t.signature, t.key) for t in s.outputs] == [
            ("serving_default", "y"), ("scale", "product"), ("scale", "total")
        ]
        assert s.tensorflow_version == report["tf2_module"]["tensorflow_version"]
        assert s.function_count == len(report["tf2_module"]["functions"])
        assert "ReadFile" in s.function_op_histogram
        d = sm.to_dict()
        assert json.loads(json.dumps(d)) == d
        assert "serving_default_x:0" in str(s)
        assert repr(sm).startswith("<tfformats SavedModel") and "TF2" in repr(sm)


def test_freeze_tf1_saved_model():
    values = tf_values("tf1_builder")
    g = freeze_saved_model(sm_dir("tf1_builder"))
    ops = {n.name: n.op for n in g.node}
    assert ops["w"] == "Const" and ops["b"] == "Const" and ops["y"] == "Identity"
    assert ops["add/ReadVariableOp"] == "Identity"
    assert not any(op in ("VariableV2", "VarHandleOp", "ReadVariableOp", "HashTableV2") for op in ops.values())
    consts = tfformats.graph_constants(g)
    np.testing.assert_array_equal(consts["w"], values["w"])
    np.testing.assert_array_equal(consts["b"], values["b"])
    g2 = freeze_saved_model(sm_dir("tf1_builder"), ["ids"], tags=["serve"])
    assert "HashTableV2" in {n.op for n in g2.node}  # tables stay; they need the init op


@pytest.mark.parametrize("name", ["tf2_module", "keras3_export", "tf_keras_model", "pbtxt_model"])
def test_freeze_tf2_saved_model(name, report):
    """The variable handles the signature uses become constants holding the checkpoint values
    TF reads (keys found through the restore function); the functions it calls read them."""
    from tfformats.graph.freeze import variable_checkpoint_keys

    values = tf_values(name)
    with load_saved_model(sm_dir(name)) as sm:
        keys = variable_checkpoint_keys(sm.meta_graph, checkpoint_keys=sm.checkpoint)
        g = freeze_saved_model(sm_dir(name))
        sig_out = sm.signature().outputs
    by = {n.name: n for n in g.node}
    assert all(by[t.node].op == "StatefulPartitionedCall" for t in sig_out.values())
    consts = tfformats.graph_constants(g)
    frozen_vars = [n for n in consts if n in keys]
    assert frozen_vars
    for var in frozen_vars:  # against TF's own reading of the checkpoint
        np.testing.assert_array_equal(consts[var], values[keys[var][0]])
    assert not {n.op for n in g.node} & {"VarHandleOp", "ReadVariableOp"}
    lib = {f.signature.name: f for f in g.library.function}
    reached, todo = set(), [a.func.name for n in g.node for a in n.attr.values() if a.HasField("func")]
    while todo:
        f = todo.pop()
        if f in reached:
            continue
        reached.add(f)
        todo.extend(a.func.name for n in lib[f].node_def for a in n.attr.values() if a.HasField("func"))
    assert reached and all("_frozen_" in f for f in reached)
    inside = {n.op for f in reached for n in lib[f].node_def}
    assert "ReadVariableOp" not in inside and inside & {"MatMul", "Mul"}
    assert all(20 not in [a.type for a in lib[f].signature.input_arg] for f in reached)


# -- tag selection and bad directories -------------------------------------------


def _rewrite(dst, edit):
    path = os.path.join(dst, "saved_model.pb")
    with open(path, "rb") as f:
        sm = pb.SavedModel.FromString(f.read())
    edit(sm)
    with open(path, "wb") as f:
        f.write(sm.SerializeToString())


def test_tag_selection(tmp_path):
    with pytest.raises(InvalidArgumentError, match=r"available tag sets: \{serve\}, \{serve, train\}"):
        load_saved_model(sm_dir("tf1_builder"), tags=["train"])  # exact match only
    dst = shutil.copytree(sm_dir("tf1_builder"), tmp_path / "m")

    def retag(sm):
        del sm.meta_graphs[0].meta_info_def.tags[:]
        sm.meta_graphs[0].meta_info_def.tags.extend(["serve", "gpu"])

    _rewrite(dst, retag)
    with pytest.raises(InvalidArgumentError, match="none is tagged exactly"):
        load_saved_model(dst)
    assert load_saved_model(dst, tags={"gpu", "serve"}).meta_graph_index == 0

    def hub_style(sm):  # TF1 Hub modules: the default graph has no tags, the training one {train}
        del sm.meta_graphs[0].meta_info_def.tags[:]
        del sm.meta_graphs[1].meta_info_def.tags[:]
        sm.meta_graphs[1].meta_info_def.tags.append("train")

    _rewrite(dst, hub_style)
    assert load_saved_model(dst).meta_graph_index == 0 and load_saved_model(dst).tags == []
    assert load_saved_model(dst, tags="").meta_graph_index == 0
    assert load_saved_model(dst, tags="train").meta_graph_index == 1


def test_legacy_init_op_and_train_op(tmp_path):
    dst = shutil.copytree(sm_dir("tf1_builder"), tmp_path / "m")

    def legacy(sm):
        cd = sm.meta_graphs[0].collection_def
        cd["legacy_init_op"].CopyFrom(cd["saved_model_main_op"])
        del cd["saved_model_main_op"]
        cd["saved_model_train_op"].node_list.value.append("main_op")

    _rewrite(dst, legacy)
    with load_saved_model(dst) as sm:
        assert sm.init_op == "main_op" and sm.train_op == "main_op"
    with load_saved_model(sm_dir("tf2_module")) as sm:
        assert sm.train_op is None


def test_missing_and_unsupported(tmp_path):
    with pytest.raises(NotFoundError):
        load_saved_model(tmp_path / "nope")
    with pytest.raises(NotFoundError, match="no saved_model.pb"):
        load_saved_model(tmp_path)
    (tmp_path / "saved_model.cpb").write_bytes(b"chunks")
    with pytest.raises(UnsupportedError, match="chunked"):
        load_saved_model(tmp_path)


def test_corrupt_saved_model_pb(tmp_path):
    dst = shutil.copytree(sm_dir("tf2_module"), tmp_path / "m")
    data = (dst / "saved_model.pb").read_bytes()
    (dst / "saved_model.pb").write_bytes(data[: len(data) // 3])
    with pytest.raises(DataLossError, match="saved_model.pb"):
        load_saved_model(dst)


def test_saved_model_file_path_is_accepted():
    with load_saved_model(sm_dir("tf2_module") / "saved_model.pb") as sm:
        assert sm.directory == str(sm_dir("tf2_module"))


def test_dangling_signature_is_reported_not_a_crash(tmp_path):
    dst = shutil.copytree(sm_dir("tf2_module"), tmp_path / "m")

    def dangle(sm):
        sm.meta_graphs[0].signature_def["serving_default"].outputs["y"].name = "no_such_node:0"

    _rewrite(dst, dangle)
    with load_saved_model(dst) as sm:
        sig = sm.signature()
        assert sig.outputs["y"].exists is False
        assert [s.key for s in sig.dangling()] == ["y"]
        assert any("no_such_node:0" in p for p in sm.problems)
        s = sm.summary()
        assert any("no_such_node" in p for p in s.problems)
        assert [t.exists for t in s.outputs if t.key == "y"] == [False]
        assert "MISSING" in str(s)


@pytest.mark.parametrize("filename", ["../../etc/passwd", "/etc/passwd", "sub/../../x", "..", ""])
def test_asset_names_that_escape_are_unsafe_and_never_opened(tmp_path, filename):
    dst = shutil.copytree(sm_dir("tf2_module"), tmp_path / "m")

    def evil(sm):
        sm.meta_graphs[0].asset_file_def[0].filename = filename

    _rewrite(dst, evil)
    with load_saved_model(dst) as sm:
        (asset,) = sm.assets
        assert asset.safe is False and asset.path is None and asset.exists is None
        with pytest.raises(DataLossError, match="unsafe"):
            asset.read_bytes()
        assert any("unsafe" in p for p in sm.problems)


def test_asset_symlink_leaving_the_directory_is_unsafe(tmp_path):
    dst = shutil.copytree(sm_dir("tf2_module"), tmp_path / "m")
    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    os.remove(dst / "assets" / "labels.txt")
    os.symlink(outside, dst / "assets" / "labels.txt")
    with load_saved_model(dst) as sm:
        assert sm.assets[0].safe is False and "symbolic link" in sm.assets[0].reason


def test_missing_asset_and_bad_asset_index(tmp_path):
    dst = shutil.copytree(sm_dir("tf2_module"), tmp_path / "m")
    os.remove(dst / "assets" / "labels.txt")

    def bad_index(sm):
        for node in sm.meta_graphs[0].object_graph_def.nodes:
            if node.WhichOneof("kind") == "asset":
                node.asset.asset_file_def_index = 7

    _rewrite(dst, bad_index)
    with load_saved_model(dst) as sm:
        assert sm.assets[0].safe and sm.assets[0].exists is False
        assert any("missing" in p for p in sm.problems)
        assert any("refers to asset 7" in p for p in sm.problems)


def test_bad_keras_metadata(tmp_path):
    dst = shutil.copytree(sm_dir("tf_keras_model"), tmp_path / "m")
    meta = pb.keras.SavedMetadata()
    meta.nodes.add(node_id=0, node_path="root", identifier="_tf_keras_layer", metadata="{not json")
    (dst / "keras_metadata.pb").write_bytes(meta.SerializeToString())
    with load_saved_model(dst) as sm:
        (item,) = sm.keras_metadata
        assert item["metadata"] is None and "not valid JSON" in item["metadata_error"]
    (dst / "keras_metadata.pb").write_bytes(b"\xff\xff\xff")
    with load_saved_model(dst) as sm, pytest.raises(DataLossError, match="keras_metadata.pb"):
        sm.keras_metadata


def test_missing_variables_are_problems(tmp_path):
    dst = shutil.copytree(sm_dir("tf1_builder"), tmp_path / "m")
    shutil.rmtree(dst / "variables")
    with load_saved_model(dst) as sm:
        assert sm.checkpoint is None
        assert any("no variables/" in p for p in sm.problems)
        with pytest.raises(NotFoundError):
            sm.get_variable("w")


def test_decode_structured_value():
    sv = pb.StructuredValue()
    t = sv.tuple_value.values.add()
    spec = t.tensor_spec_value
    spec.name = "x"
    spec.dtype = 1
    spec.shape.unknown_rank = True
    nt = sv.tuple_value.values.add().named_tuple_value
    nt.name = "Point"
    p = nt.values.add(key="a")
    p.value.int64_value = 3
    d = sv.tuple_value.values.add().dict_value
    d.fields["k"].none_value.SetInParent()
    assert decode_structured_value(sv) == [
        {"TensorSpec": {"name": "x", "shape": None, "dtype": "float32"}},
        {"NamedTuple": "Point", "fields": {"a": 3}},
        {"k": None},
    ]
