"""GraphDef / MetaGraphDef reading, writing, constants and summaries, against TF-written files.

Fixtures (tests/generate/gen_graphs.py): a TF1 MLP with reference variables
(tf1_mlp) and one with resource variables and an embedding (tf1_resource),
each saved with Saver (model.ckpt + .meta), written with tf.io.write_graph as
text (graph.pbtxt) and binary (graph.pb), and frozen by TF (frozen.pb);
report.json holds what TensorFlow said about them.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from conftest import require_data

import tfformats
from tfformats.errors import DataLossError, InvalidArgumentError, NotFoundError, UnknownTensorError
from tfformats.graph import (
    GraphConstants,
    graph_constants,
    read_graph_def,
    read_graph_file,
    read_meta_graph,
    summarize_graph,
    write_graph_def,
)
from tfformats.proto import pb

MODELS = ["tf1_mlp", "tf1_resource"]


@pytest.fixture(scope="module")
def report():
    return json.loads(require_data("graphs/report.json").read_text())


def model_dir(name):
    return require_data(f"graphs/{name}")


def nodes_of(graph):
    return [{"name": n.name, "op": n.op, "inputs": list(n.input), "device": n.device} for n in graph.node]


# -- reading -------------------------------------------------------------------


@pytest.mark.parametrize("name", MODELS)
def test_text_and_binary_graphs_match_tensorflow(name, report):
    d = model_dir(name)
    text = read_graph_def(d / "graph.pbtxt")
    binary = read_graph_def(d / "graph.pb")
    assert text == binary
    assert nodes_of(binary) == report[name]["graph_nodes"]
    assert binary.versions.producer == report[name]["producer"]


@pytest.mark.parametrize("name", MODELS)
def test_encoding_is_detected_from_content_not_name(name, tmp_path):
    d = model_dir(name)
    shutil.copy(d / "graph.pbtxt", tmp_path / "looks_binary.pb")
    shutil.copy(d / "graph.pb", tmp_path / "looks_text.pbtxt")
    shutil.copy(d / "model.ckpt.meta", tmp_path / "noext")
    expected = read_graph_def(d / "graph.pb")
    assert read_graph_def(tmp_path / "looks_binary.pb") == expected
    assert read_graph_def(tmp_path / "looks_text.pbtxt") == expected
    assert read_graph_def(str(tmp_path / "looks_text.pbtxt")) == expected  # str paths too
    assert read_graph_def((d / "graph.pb").read_bytes()) == expected  # and bytes
    assert read_meta_graph(tmp_path / "noext").graph_def.node[0].name == expected.node[0].name


@pytest.mark.parametrize("name", MODELS)
def test_meta_graph(name, report):
    d = model_dir(name)
    meta = read_meta_graph(d / "model.ckpt.meta")
    r = report[name]
    assert [n.name for n in meta.graph_def.node] == [n["name"] for n in r["graph_nodes"]]
    assert meta.saver_def.filename_tensor_name == r["saver_def"]["filename_tensor_name"]
    assert meta.saver_def.restore_op_name == r["saver_def"]["restore_op_name"]
    assert meta.saver_def.version == r["saver_def"]["version"]
    assert sorted(meta.collection_def) == r["meta_collections"]
    assert meta.meta_info_def.tensorflow_version == r["tensorflow_version"]


def test_read_graph_file_tells_graph_def_from_meta_graph(tmp_path):
    d = model_dir("tf1_mlp")
    assert read_graph_file(d / "graph.pb").DESCRIPTOR.name == "GraphDef"
    assert read_graph_file(d / "graph.pbtxt").DESCRIPTOR.name == "GraphDef"
    assert read_graph_file(d / "frozen.pb").DESCRIPTOR.name == "GraphDef"
    assert read_graph_file(d / "model.ckpt.meta").DESCRIPTOR.name == "MetaGraphDef"
    meta = read_meta_graph(d / "model.ckpt.meta")
    meta_text = write_graph_def(meta, tmp_path / "model.meta", as_text=True)
    assert read_graph_file(meta_text).DESCRIPTOR.name == "MetaGraphDef"
    assert read_meta_graph(meta_text) == meta


def test_wrong_reader_says_what_the_file_is(tmp_path):
    d = model_dir("tf1_mlp")
    with pytest.raises(InvalidArgumentError, match="holds a MetaGraphDef.*read_meta_graph"):
        read_graph_def(d / "model.ckpt.meta")
    with pytest.raises(InvalidArgumentError, match="holds a GraphDef.*read_graph_def"):
        read_meta_graph(d / "graph.pb")
    sm = require_data("saved_models/tf2_module/saved_model.pb")
    with pytest.raises(InvalidArgumentError, match="holds a SavedModel"):
        read_graph_def(sm)
    with pytest.raises(InvalidArgumentError, match="holds a SavedModel"):
        read_graph_file(sm)
    (tmp_path / "bom.pbtxt").write_bytes(b"\xef\xbb\xbf" + (d / "graph.pbtxt").read_bytes())
    assert read_graph_def(tmp_path / "bom.pbtxt") == read_graph_def(d / "graph.pb")


def test_bad_files(tmp_path):
    good = (model_dir("tf1_mlp") / "graph.pb").read_bytes()
    (tmp_path / "trunc.pb").write_bytes(good[: len(good) // 2])
    with pytest.raises(DataLossError, match="trunc.pb"):
        read_graph_def(tmp_path / "trunc.pb")
    (tmp_path / "bad.pbtxt").write_text("node {\n  name: 'a'\n  op: 'Const'\n  bogus_field: 3\n}\n")
    with pytest.raises(DataLossError, match="text-format GraphDef"):
        read_graph_def(tmp_path / "bad.pbtxt")
    (tmp_path / "empty.pb").write_bytes(b"")
    assert len(read_graph_def(tmp_path / "empty.pb").node) == 0
    with pytest.raises(NotFoundError):
        read_graph_def(tmp_path / "missing.pb")
    with pytest.raises(InvalidArgumentError, match="directory"):
        read_graph_def(tmp_path)
    (tmp_path / "deep.pb").write_bytes(b"\x0a\x80\x01" + b"\x00" * 5)
    with pytest.raises(DataLossError):
        read_graph_def(tmp_path / "deep.pb")


def test_deeply_nested_text_is_an_error_not_a_crash(tmp_path):
    # AttrValue.list.func.attr ... nested 5000 deep
    depth = 5000
    text = "node { name: 'a' op: 'X' attr { key: 'f' value { " + "func { name: 'g' attr { key: 'f' value { " * depth
    text += "}}}" * depth + "}}}"
    (tmp_path / "deep.pbtxt").write_text(text)
    with pytest.raises(DataLossError):
        read_graph_def(tmp_path / "deep.pbtxt")


# -- writing -------------------------------------------------------------------


def test_write_graph_def_reproduces_tensorflow_bytes(tmp_path):
    d = model_dir("tf1_mlp")
    g = read_graph_def(d / "graph.pb")
    text = write_graph_def(g, tmp_path / "g.pbtxt")  # text by suffix
    binary = write_graph_def(g, tmp_path / "g.pb")  # binary by suffix
    assert (tmp_path / "g.pbtxt").read_bytes() == (d / "graph.pbtxt").read_bytes()
    assert (tmp_path / "g.pb").read_bytes() == (d / "graph.pb").read_bytes()
    assert text.endswith("g.pbtxt") and binary.endswith("g.pb")
    write_graph_def(g, tmp_path / "sub" / "forced.pb", as_text=True)
    assert (tmp_path / "sub" / "forced.pb").read_bytes() == (d / "graph.pbtxt").read_bytes()
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["forced.pb"]  # no temp file left


def test_write_accepts_only_messages(tmp_path):
    with pytest.raises(InvalidArgumentError):
        write_graph_def({"node": []}, tmp_path / "x.pb")


# -- constants -----------------------------------------------------------------


@pytest.mark.parametrize("name", MODELS)
def test_frozen_constants_are_the_variables_tensorflow_froze(name, report):
    d = model_dir(name)
    consts = graph_constants(d / "frozen.pb")
    assert isinstance(consts, GraphConstants)
    assert sorted(consts) == report[name]["frozen_constants"]
    var_values = np.load(d / "variable_values.npz")
    checked = 0
    for key in var_values.files:
        var = key.replace("__", "/")
        if var in consts:
            np.testing.assert_array_equal(consts[var], var_values[key])
            assert consts.dtype(var) == str(var_values[key].dtype)
            assert consts.shape(var) == var_values[key].shape
            assert consts.nbytes(var) == var_values[key].nbytes
            checked += 1
    assert checked >= 4
    assert repr(consts).startswith("<tfformats GraphConstants")
    with pytest.raises(KeyError):
        consts["nope"]
    with pytest.raises(UnknownTensorError):
        consts.get_tensor("nope")
    assert consts.list_variables() == sorted(consts.list_variables())


def test_constants_of_meta_graph_and_tf_graph_defs():
    d = model_dir("tf1_mlp")
    from_meta = graph_constants(read_meta_graph(d / "model.ckpt.meta"))
    from_graph = graph_constants(read_graph_def(d / "graph.pb"))
    assert list(from_meta) == list(from_graph)


def test_const_with_mismatched_dtype_is_data_loss():
    g = pb.GraphDef()
    n = g.node.add(name="c", op="Const")
    n.attr["dtype"].type = 3  # int32
    n.attr["value"].tensor.CopyFrom(tfformats.numpy_to_tensor(np.ones(3, np.float32)))
    consts = graph_constants(g)
    assert consts.dtype("c") == "float32"
    with pytest.raises(DataLossError, match="dtype attribute is int32"):
        consts["c"]
    assert any("dtype attribute int32" in p for p in summarize_graph(g).problems)


# -- summaries -------------------------------------------------------------------


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("fname", ["graph.pb", "graph.pbtxt", "model.ckpt.meta"])
def test_summary_of_tf1_graph(name, fname, report):
    r = report[name]
    s = summarize_graph(model_dir(name) / fname)
    assert s.kind == ("MetaGraphDef" if fname.endswith(".meta") else "GraphDef")
    assert s.node_count == len(r["graph_nodes"])
    assert sum(s.op_histogram.values()) == s.node_count
    assert [(t.name, t.dtype, t.shape, t.op) for t in s.inputs] == [
        (p["name"] + ":0", p["dtype"], p["shape"], p["op"]) for p in r["placeholders"]
        if not p["name"].startswith("save/")  # the saver's filename is machinery, not a model input
    ]
    assert [t.name for t in s.outputs] == ["output:0"]
    assert [(v.name, v.dtype, v.shape) for v in s.variables] == [
        (v["name"], v["dtype"], v["shape"]) for v in r["variables"]
    ]
    assert s.variable_elements == sum(int(np.prod(v["shape"])) for v in r["variables"])
    assert s.parameter_count == s.variable_elements  # all numeric
    assert s.producer == r["producer"]
    if fname.endswith(".meta"):
        assert s.tensorflow_version == r["tensorflow_version"]
    assert not s.is_frozen and not s.problems
    d = s.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert "output:0" in str(s)


@pytest.mark.parametrize("name", MODELS)
def test_summary_of_frozen_graph(name, report):
    s = summarize_graph(model_dir(name) / "frozen.pb")
    assert s.is_frozen and s.kind == "frozen GraphDef"
    assert s.variables == []
    consts = graph_constants(model_dir(name) / "frozen.pb")
    assert s.constant_count == len(consts)
    assert s.constant_elements == sum(v.size for v in consts.values())
    assert s.parameter_count == sum(v.size for v in consts.values() if v.dtype != bool)
    assert [t.name for t in s.outputs] == ["output:0"]


@pytest.mark.parametrize("name", ["tf1_cflow_v1", "tf1_cflow_v2"])
@pytest.mark.parametrize("fname", ["graph.pb", "model.ckpt.meta"])
def test_summary_of_control_flow_graphs(name, fname):
    """Outputs are the results the generator fetched, plus the one loop variable the model
    computes and never uses; no cond pivots, While counters, pass-throughs or resource handles."""
    rep = json.loads(require_data("graphs/control_flow.json").read_text())[name]
    s = summarize_graph(model_dir(name) / fname)
    by = {n.name: n for n in read_graph_file(model_dir(name) / fname).graph_def.node} if fname.endswith(".meta") \
        else {n.name: n for n in read_graph_def(model_dir(name) / fname).node}
    names = [t.node for t in s.outputs]
    extra = [n for n in names if n not in rep["outputs"]]
    assert sorted(n for n in names if n in rep["outputs"]) == sorted(rep["outputs"])
    assert len(extra) == 1, extra
    loop_var = by[extra[0]]
    if name.endswith("v1"):
        assert loop_var.op == "Exit"
    else:
        assert loop_var.op == "Identity" and by[loop_var.input[0].split(":")[0]].op == "While"
        assert loop_var.input[0].endswith(":2")  # after while_v2's counter and iteration limit
    assert all(t.dtype != "resource" for t in s.outputs)
    assert sorted(v.name for v in s.variables) == sorted(rep["variables"])
    assert {v.name: v.op for v in s.variables} == rep["variables"]
    if name.endswith("v2"):
        assert {"ReadVariableOp", "ResourceGather", "If"} <= set(s.function_op_histogram)
        assert sorted(s.functions_called) == sorted(rep["functions"])


def test_public_names():
    for name in ("read_graph_def", "read_meta_graph", "write_graph_def", "summarize_graph", "graph_constants",
                 "freeze_graph", "iter_nodes", "load_saved_model", "SavedModel", "freeze_saved_model"):
        assert name in tfformats.__all__
        assert getattr(tfformats, name) is not None


def test_a_traced_functions_graph_is_not_called_frozen():
    # found by a compatibility hunt: a concrete function's graph (written by TF 2.21 with
    # tf.io.write_graph) has no variable ops and holds constants, but reads its variable
    # through a resource placeholder: it is not a frozen graph
    s = tfformats.summarize_graph(require_data("graphs/traced_fn.pb"))
    assert s.kind == "GraphDef" and not s.is_frozen and not s.variables
    assert s.op_histogram["ReadVariableOp"] == 1
    frozen = tfformats.summarize_graph(require_data("graphs/tf1_mlp/frozen.pb"))
    assert frozen.kind == "frozen GraphDef" and frozen.is_frozen
