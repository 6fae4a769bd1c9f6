"""iter_nodes and the function-library analysis: functions, nested serialized graphs,
recursion, depth bounds.  Graphs here are built with tfformats' own protos
around the TF-written SavedModel fixtures."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from conftest import require_data

import tfformats
from tfformats.graph import iter_nodes, summarize_graph
from tfformats.proto import pb


def _saved_model_proto(name):
    return pb.SavedModel.FromString(require_data(f"saved_models/{name}/saved_model.pb").read_bytes())


def _string_const(node, data: bytes):
    node.op = "Const"
    node.attr["dtype"].type = 7
    t = node.attr["value"].tensor
    t.dtype = 7
    t.string_val.append(data)


def _call(node, fname, op="PartitionedCall"):
    node.op = op
    node.attr["f"].func.name = fname


def test_every_function_node_is_visited_with_its_function_name():
    sm = _saved_model_proto("tf2_module")
    mg = sm.meta_graphs[0]
    seen = {}
    top = 0
    for loc, node in iter_nodes(mg):
        if loc.function is None:
            top += 1
        else:
            seen[loc.function] = seen.get(loc.function, 0) + 1
            assert loc.containers[-1] == f"function {loc.function!r}"
    assert top == len(mg.graph_def.node)
    assert seen == {f.signature.name: len(f.node_def) for f in mg.graph_def.library.function if f.node_def}
    report = json.loads(require_data("saved_models/report.json").read_text())["tf2_module"]
    assert sorted(f.signature.name for f in mg.graph_def.library.function) == report["functions"]
    # the read_vocab function reads its asset with ReadFile: found inside a function
    hits = [(loc, n) for loc, n in iter_nodes(mg) if n.op == "ReadFile"]
    assert hits and all(loc.in_function for loc, _ in hits)
    assert any("read_vocab" in loc.function for loc, _ in hits)


def test_saved_model_protos_and_objects_are_walkable():
    sm = _saved_model_proto("tf1_builder")
    locs = {loc.containers[0] for loc, _ in iter_nodes(sm)}
    assert locs == {"meta_graph[0] {serve}", "meta_graph[1] {serve,train}"}
    with tfformats.load_saved_model(require_data("saved_models/tf1_builder")) as model:
        assert sum(1 for _ in iter_nodes(model)) == sum(1 for _ in iter_nodes(sm))


def _graph_with_hidden_ops(text: bool = False):
    """A top-level graph whose string Const holds a serialized graph that hides
    WriteFile at its top level and ReadFile in its own library function."""
    inner = pb.GraphDef()
    inner.node.add(name="w", op="WriteFile", input=["fname", "contents"])
    f = inner.library.function.add()
    f.signature.name = "hidden_fn"
    f.node_def.add(name="r", op="ReadFile", input=["path"])
    _call(inner.node.add(name="call"), "hidden_fn")
    blob = str(inner).encode() if text else inner.SerializeToString()
    outer = pb.GraphDef()
    outer.node.add(name="x", op="Placeholder")
    _string_const(outer.node.add(name="graph_def"), blob)
    outer.node.add(name="ds", op="DatasetFromGraph", input=["graph_def"])
    return outer


@pytest.mark.parametrize("text", [False, True])
def test_graphs_serialized_in_string_constants_are_walked(text):
    outer = _graph_with_hidden_ops(text)
    found = {n.op: loc for loc, n in iter_nodes(outer)}
    assert found["WriteFile"].nested_depth == 1
    assert found["WriteFile"].function is None
    assert "node 'graph_def' attr 'value' value[0]" in found["WriteFile"].describe()
    assert found["ReadFile"].nested_depth == 1 and found["ReadFile"].function == "hidden_fn"
    assert "WriteFile" not in {n.op for _, n in iter_nodes(outer, nested=False)}
    s = summarize_graph(outer)
    assert s.nested_graph_count == 1
    assert {"WriteFile", "ReadFile", "PartitionedCall"} <= set(s.nested_op_histogram)
    assert "ReadFile" in s.all_ops


def test_graphs_in_string_attrs_and_tensor_content_are_walked():
    inner = pb.GraphDef()
    inner.node.add(name="p", op="PrintV2", input=["s"])
    blob = inner.SerializeToString()
    outer = pb.GraphDef()
    n = outer.node.add(name="a", op="SomeOp")
    n.attr["serialized"].s = blob
    c = outer.node.add(name="c", op="Const")
    c.attr["value"].tensor.CopyFrom(tfformats.numpy_to_tensor(np.array([b"junk", blob], dtype=object)))
    t = c.attr["value"].tensor
    # string tensor_content: every length as a varint, then the bytes
    items = [b"junk", blob]
    del t.string_val[:]

    def varint(v):
        out = bytearray()
        while True:
            b = v & 0x7F
            v >>= 7
            out.append(b | (0x80 if v else 0))
            if not v:
                return bytes(out)

    t.tensor_content = b"".join(varint(len(i)) for i in items) + b"".join(items)
    np.testing.assert_array_equal(tfformats.tensor_to_numpy(t), np.array(items, dtype=object))
    found = [loc.describe(n.name) for loc, n in iter_nodes(outer) if n.op == "PrintV2"]
    assert len(found) == 2
    assert any("attr 'serialized'" in f for f in found) and any("value[1]" in f for f in found)


def test_nesting_depth_is_bounded():
    g = pb.GraphDef()
    g.node.add(name="bottom", op="WriteFile")
    for i in range(30):
        outer = pb.GraphDef()
        _string_const(outer.node.add(name=f"level{i}"), g.SerializeToString())
        g = outer
    depths = [loc.nested_depth for loc, n in iter_nodes(g, max_depth=5)]
    assert max(depths) == 5
    assert "WriteFile" not in {n.op for _, n in iter_nodes(g, max_depth=5)}
    assert "WriteFile" in {n.op for _, n in iter_nodes(g, max_depth=40)}


def test_random_strings_are_not_taken_for_graphs():
    g = pb.GraphDef()
    rng = np.random.default_rng(0)
    for i in range(200):
        _string_const(g.node.add(name=f"c{i}"), rng.bytes(int(rng.integers(4, 64))))
    assert sum(1 for loc, _ in iter_nodes(g) if loc.nested) == 0


def _recursive_library(names_calls):
    g = pb.GraphDef()
    for name, callees in names_calls.items():
        f = g.library.function.add()
        f.signature.name = name
        for i, callee in enumerate(callees):
            _call(f.node_def.add(name=f"call{i}"), callee, op="StatefulPartitionedCall")
    return g


def test_self_recursive_function_library_neither_hangs_nor_overflows():
    g = _recursive_library({"f": ["f"], "g": ["h"], "h": ["g", "missing_fn"], "leaf": []})
    _call(g.node.add(name="top"), "f")
    nodes = list(iter_nodes(g))
    assert len(nodes) == 1 + 1 + 1 + 2  # each function body once
    s = summarize_graph(g)
    assert s.recursive_functions == ["f", "g", "h"]
    assert s.functions_called == ["f"]
    assert s.missing_functions == ["missing_fn"]
    assert any("missing_fn" in p for p in s.problems)


def test_long_call_chains_are_followed_iteratively():
    n = max(sys.getrecursionlimit() * 3, 5000)
    chain = {f"f{i}": [f"f{i + 1}"] for i in range(n)}
    chain[f"f{n}"] = ["f0"]  # one huge cycle
    g = _recursive_library(chain)
    _call(g.node.add(name="top"), "f0")
    s = summarize_graph(g, max_function_depth=100)
    assert len(s.functions_called) == 100
    assert any("deeper than 100" in p for p in s.problems)
    assert len(s.recursive_functions) == n + 1
    s2 = summarize_graph(g, max_function_depth=n + 10)
    assert len(s2.functions_called) == n + 1


def test_direct_calls_by_op_name_count_as_calls():
    g = _recursive_library({"my_fn": []})
    g.node.add(name="call", op="my_fn")
    assert summarize_graph(g).functions_called == ["my_fn"]


def test_walk_rejects_other_objects():
    with pytest.raises(tfformats.InvalidArgumentError):
        list(iter_nodes({"node": []}))


def test_summary_of_saved_model_graph_functions():
    report = json.loads(require_data("saved_models/report.json").read_text())["tf_keras_model"]
    mg = _saved_model_proto("tf_keras_model").meta_graphs[0]
    s = summarize_graph(mg)
    assert s.function_count == len(report["functions"])
    assert s.function_node_count == sum(len(f.node_def) for f in mg.graph_def.library.function)
    assert not s.missing_functions and not s.recursive_functions
    assert "RestoreV2" in s.function_op_histogram and "MatMul" in s.function_op_histogram
    assert set(s.functions_called) <= set(report["functions"]) and s.functions_called
