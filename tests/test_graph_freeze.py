"""freeze_graph against TensorFlow's convert_variables_to_constants on the same files.

Running the frozen graphs needs TensorFlow: tests_tf/test_graph_differential.py
does that.  Here the frozen GraphDef is compared with the one TF wrote.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import require_data

import tfformats
from tfformats.errors import DataLossError, InvalidArgumentError, UnknownTensorError, UnsupportedError
from tfformats.graph import extract_sub_graph, freeze_graph, graph_constants, read_graph_def, read_meta_graph
from tfformats.graph.freeze import variable_checkpoint_keys
from tfformats.proto import pb

MODELS = ["tf1_mlp", "tf1_resource"]
OUTPUTS = ["output", "logits"]  # what the generator asked TF to keep


def d(name):
    return require_data(f"graphs/{name}")


@pytest.mark.parametrize("name", MODELS)
def test_frozen_from_graph_def_is_node_for_node_what_tensorflow_writes(name):
    ours = freeze_graph(d(name) / "graph.pb", d(name) / "model.ckpt", OUTPUTS)
    theirs = read_graph_def(d(name) / "frozen.pb")
    assert [(n.name, n.op) for n in ours.node] == [(n.name, n.op) for n in theirs.node]
    for a, b in zip(ours.node, theirs.node):
        assert a.SerializeToString(deterministic=True) == b.SerializeToString(deterministic=True), a.name
    assert ours.versions == theirs.versions


@pytest.mark.parametrize("name", MODELS)
def test_frozen_from_meta_graph_has_tensorflows_structure_and_values(name):
    ours = freeze_graph(d(name) / "model.ckpt.meta", d(name) / "model.ckpt", "output, logits")
    theirs = read_graph_def(d(name) / "frozen.pb")
    assert [(n.name, n.op, list(n.input)) for n in ours.node] == [(n.name, n.op, list(n.input)) for n in theirs.node]
    a, b = graph_constants(ours), graph_constants(theirs)
    assert list(a) == list(b)
    for k in b:
        np.testing.assert_array_equal(a[k], b[k])
        assert a.dtype(k) == b.dtype(k)


def test_resource_variables_become_identity_of_const():
    ours = freeze_graph(d("tf1_resource") / "graph.pb", d("tf1_resource") / "model.ckpt", ["output"])
    by = {n.name: n for n in ours.node}
    assert by["dense2/kernel"].op == "Const"
    read = by["MatMul_1/ReadVariableOp"]
    assert read.op == "Identity" and list(read.input) == ["dense2/kernel"] and read.attr["T"].type == 1
    gather = by["embedding_lookup"]
    assert gather.op == "GatherV2" and list(gather.input)[2] == "embedding_lookup/axis"
    assert by["embedding_lookup/axis"].op == "Const"
    assert not any(n.op in ("VarHandleOp", "ReadVariableOp", "VariableV2", "ResourceGather") for n in ours.node)


def test_partitioned_variable_parts_get_their_slices():
    keys = variable_checkpoint_keys(read_meta_graph(d("tf1_mlp") / "model.ckpt.meta"))
    assert keys["dense1/kernel/part_0"] == ("dense1/kernel", "4 8 0,2:0,8")
    assert keys["dense1/kernel/part_1"] == ("dense1/kernel", "4 8 2,2:0,8")
    assert keys["dense2/bias"] == ("dense2/bias", "")
    full = tfformats.load_variable(d("tf1_mlp") / "model.ckpt", "dense1/kernel")
    consts = graph_constants(freeze_graph(d("tf1_mlp") / "graph.pb", d("tf1_mlp") / "model.ckpt", ["output"]))
    np.testing.assert_array_equal(consts["dense1/kernel/part_0"], full[:2])
    np.testing.assert_array_equal(consts["dense1/kernel/part_1"], full[2:])


def test_checkpoint_may_be_a_mapping_or_reader():
    prefix = d("tf1_mlp") / "model.ckpt"
    with tfformats.load_checkpoint(prefix) as reader:
        from_reader = freeze_graph(d("tf1_mlp") / "graph.pb", reader, ["output"])
        values = {k: reader[k] for k in reader}
    from_mapping = freeze_graph(d("tf1_mlp") / "graph.pb", values, ["output"])
    assert from_reader == from_mapping


def test_pruning_drops_save_and_init_machinery():
    g = freeze_graph(d("tf1_mlp") / "model.ckpt.meta", d("tf1_mlp") / "model.ckpt", ["output"])
    names = [n.name for n in g.node]
    assert not any(n.startswith("save/") or n == "init" or n.endswith("/Assign") for n in names)
    assert "global_step" not in names  # not needed by the output
    sub = extract_sub_graph(read_graph_def(d("tf1_mlp") / "graph.pb"), ["hidden"])
    assert "dense2/kernel" not in [n.name for n in sub.node]


def test_allow_and_deny_lists_keep_variables():
    g = freeze_graph(d("tf1_mlp") / "graph.pb", d("tf1_mlp") / "model.ckpt", ["output"],
                     variable_names_denylist={"dense2/bias"})
    ops = {n.name: n.op for n in g.node}
    assert ops["dense2/bias"] == "VariableV2" and ops["dense2/kernel"] == "Const"
    g = freeze_graph(d("tf1_mlp") / "graph.pb", d("tf1_mlp") / "model.ckpt", ["output"],
                     variable_names_allowlist={"dense2/bias"})
    ops = {n.name: n.op for n in g.node}
    assert ops["dense2/bias"] == "Const" and ops["dense2/kernel"] == "VariableV2"


def test_errors():
    graph = d("tf1_mlp") / "graph.pb"
    prefix = d("tf1_mlp") / "model.ckpt"
    with pytest.raises(InvalidArgumentError, match="not_there"):
        freeze_graph(graph, prefix, ["output", "not_there"])
    with pytest.raises(InvalidArgumentError):
        freeze_graph(graph, prefix, [])
    with pytest.raises(UnknownTensorError, match="no value for variable .dense1/kernel/part_0"):
        freeze_graph(graph, {}, ["output"])
    with tfformats.load_checkpoint(prefix) as reader:
        values = {k: reader[k] for k in reader}
    values["dense2/bias"] = values["dense2/bias"].astype(np.float64)
    with pytest.raises(DataLossError, match="float32"):
        freeze_graph(graph, values, ["output"])
    values["dense2/bias"] = np.zeros(5, np.float32)
    with pytest.raises(DataLossError, match="shape"):
        freeze_graph(graph, values, ["output"])
    with pytest.raises(InvalidArgumentError):
        freeze_graph(graph, 42, ["output"])


def test_outputs_that_assign_variables_cannot_be_frozen():
    with pytest.raises(UnsupportedError, match="AssignAdd"):
        freeze_graph(d("tf1_mlp") / "graph.pb", d("tf1_mlp") / "model.ckpt", ["increment_step"])
    with pytest.raises(UnsupportedError, match="AssignAddVariableOp"):
        # assign_add on a resource variable: a read (ReadVariableOp) after AssignAddVariableOp
        freeze_graph(d("tf1_resource") / "graph.pb", d("tf1_resource") / "model.ckpt", ["ReadVariableOp"])


def test_a_call_to_a_function_missing_from_the_library_is_reported():
    g = pb.GraphDef()
    v = g.node.add(name="v", op="VarHandleOp")
    v.attr["dtype"].type = 1
    v.attr["shape"].shape.SetInParent()
    call = g.node.add(name="call", op="StatefulPartitionedCall", input=["v"])
    call.attr["f"].func.name = "fn"
    call.attr["Tin"].list.type.append(20)
    with pytest.raises(DataLossError, match="'fn', which is not in the graph's library"):
        freeze_graph(g, {"v": np.float32(1.0)}, ["call"])


# -- control flow (v1 and v2), Variable, ResourceGatherNd, VariableShape, Ref* ops ----------

CFLOW = ["tf1_cflow_v1", "tf1_cflow_v2"]


def cflow_report():
    import json

    return json.loads(require_data("graphs/control_flow.json").read_text())


def canonical(graph_def, drop=("_output_shapes",)):
    """Text form with the numbers of frozen function copies (TF uses a global counter) blanked."""
    import re

    g = pb.GraphDef()
    g.CopyFrom(graph_def)
    for n in g.node:
        for a in drop:
            if a in n.attr:
                del n.attr[a]
    return re.sub(r"_frozen_\d+", "_frozen_N", str(g))


@pytest.mark.parametrize("name", CFLOW)
def test_control_flow_freeze_is_what_tensorflow_writes(name):
    """TF froze the outputs it can (control_flow.json); from the same GraphDef ours is identical,
    function bodies included, up to the numbers TF puts in the copied functions' names."""
    rep = cflow_report()[name]
    assert rep["frozen_outputs"]
    ours = freeze_graph(d(name) / "graph.pb", d(name) / "model.ckpt", rep["frozen_outputs"])
    theirs = read_graph_def(d(name) / "frozen.pb")
    assert canonical(ours) == canonical(theirs)
    assert [(n["name"], n["op"], n["inputs"]) for n in rep["frozen_nodes"]] == [
        (n.name, n.op, list(n.input)) for n in ours.node]


@pytest.mark.parametrize("name", CFLOW)
def test_control_flow_freeze_from_the_meta_graph(name):
    rep = cflow_report()[name]
    ours = freeze_graph(d(name) / "model.ckpt.meta", d(name) / "model.ckpt", rep["frozen_outputs"])
    theirs = read_graph_def(d(name) / "frozen.pb")
    assert [(n.name, n.op, list(n.input)) for n in ours.node] == [(n.name, n.op, list(n.input)) for n in theirs.node]
    import re

    strip = lambda s: re.sub(r"_frozen_\d+$", "_frozen_N", s)  # noqa: E731
    want = sorted((strip(k), v["inputs"], v["ops"]) for k, v in rep["frozen_functions"].items())
    got = sorted(
        (strip(f.signature.name),
         [tfformats.dtypes.name_of(a.type) if a.type else a.type_attr for a in f.signature.input_arg],
         sorted({n.op for n in f.node_def}))
        for f in ours.library.function
    )
    assert got == want
    a, b = graph_constants(ours), graph_constants(theirs)
    assert list(a) == list(b)
    for k in b:
        np.testing.assert_array_equal(a[k], b[k])


def test_control_flow_v2_functions_are_copied_and_retyped():
    rep = cflow_report()["tf1_cflow_v2"]
    assert {"If", "While", "StatefulPartitionedCall", "Case", "StatelessIf"} <= set(rep["graph_ops"])
    ours = freeze_graph(d("tf1_cflow_v2") / "graph.pb", d("tf1_cflow_v2") / "model.ckpt",
                        ["out", "call_out", "case_out"])
    lib = {f.signature.name: f for f in ours.library.function}
    called = set()
    for n in ours.node:
        for a in n.attr.values():
            if a.HasField("func"):
                called.add(a.func.name)
            for f in a.list.func:
                called.add(f.name)
    case = next(n for n in ours.node if n.op == "Case")
    assert all("_frozen_" in f.name for f in case.attr["branches"].list.func)
    assert 20 not in list(case.attr["Tin"].list.type)
    assert called and all("_frozen_" in c for c in called)
    for c in called:  # no resource arguments are left, and no resource reads
        assert 20 not in [a.type for a in lib[c].signature.input_arg], c
    ops = {n.op for f in lib.values() if "_frozen_" in f.signature.name for n in f.node_def}
    assert not ops & {"ReadVariableOp", "ResourceGather", "VarHandleOp"}
    # the originals that were copied are gone (nothing calls them any more)
    assert not [name for name in rep["functions"] if name in lib and name.startswith(("while_body", "__inference"))]
    # the While carries the constants' types and shapes
    w = next(n for n in ours.node if n.op == "While")
    assert 20 not in list(w.attr["T"].list.type)


@pytest.mark.parametrize("name", CFLOW)
def test_outputs_tensorflow_cannot_freeze_are_frozen(name):
    """VariableShape, RefSwitch/RefIdentity and ResourceGather inside an If branch: TF's own
    freezing leaves graphs that fail (control_flow.json); ours reads only constants
    (tests_tf runs them and compares with the original graph)."""
    rep = cflow_report()[name]
    hard = [k for k, v in rep["tf_freeze"].items() if v != "ok"]
    assert hard
    frozen = freeze_graph(d(name) / "graph.pb", d(name) / "model.ckpt", hard)
    ops = {n.op for n in frozen.node} | {n.op for f in frozen.library.function
                                         if "_frozen_" in f.signature.name for n in f.node_def}
    assert not ops & {"VariableShape", "RefSwitch", "RefIdentity", "ResourceGather", "ReadVariableOp",
                      "VarHandleOp", "VariableV2"}


def test_legacy_variable_op_is_frozen_like_variable_v2():
    rep = cflow_report()["tf1_cflow_v1"]
    meta = read_meta_graph(d("tf1_cflow_v1") / "legacy.meta")
    assert sorted(n.name for n in meta.graph_def.node if n.op == "Variable") == rep["legacy_variable_ops"]
    outs = rep["outputs"]
    legacy = freeze_graph(meta, d("tf1_cflow_v1") / "model.ckpt", outs)
    modern = freeze_graph(d("tf1_cflow_v1") / "model.ckpt.meta", d("tf1_cflow_v1") / "model.ckpt", outs)
    assert canonical(legacy) == canonical(modern)
    consts = graph_constants(legacy)
    for var in rep["legacy_variable_ops"]:
        np.testing.assert_array_equal(consts[var], tfformats.load_variable(d("tf1_cflow_v1") / "model.ckpt", var))


def _handle(g, name):
    v = g.node.add(name=name, op="VarHandleOp")
    v.attr["dtype"].type = 1
    v.attr["shape"].shape.dim.add(size=2)
    v.attr["shared_name"].s = name.encode()
    return v


def _fn(lib, name, body):
    f = lib.function.add()
    f.signature.name = name
    a = f.signature.input_arg.add(name="h")
    a.type = 20
    o = f.signature.output_arg.add(name="out")
    o.type = 1
    body(f)
    return f


def test_function_shared_by_an_unconverted_caller_is_kept():
    """One caller gets a constant, another still passes a variable that stays (denylist)."""
    g = pb.GraphDef()
    _handle(g, "a")
    _handle(g, "b")

    def body(f):
        r = f.node_def.add(name="r", op="ReadVariableOp", input=["h"])
        r.attr["dtype"].type = 1
        f.ret["out"] = "r:value:0"

    _fn(g.library, "read_7", body)
    for name, src in (("call_a", "a"), ("call_b", "b")):
        c = g.node.add(name=name, op="StatefulPartitionedCall", input=[src])
        c.attr["f"].func.name = "read_7"
        c.attr["Tin"].list.type.append(20)
        c.attr["Tout"].list.type.append(1)
    values = {"a": np.array([1.0, 2.0], np.float32), "b": np.array([3.0, 4.0], np.float32)}
    out = freeze_graph(g, values, ["call_a", "call_b"], variable_names_denylist={"b"})
    lib = {f.signature.name: f for f in out.library.function}
    assert sorted(lib) == ["read_7", "read_frozen_1"]
    by = {n.name: n for n in out.node}
    assert by["call_a"].attr["f"].func.name == "read_frozen_1" and list(by["call_a"].attr["Tin"].list.type) == [1]
    assert by["call_b"].attr["f"].func.name == "read_7" and list(by["call_b"].attr["Tin"].list.type) == [20]
    frozen_fn = lib["read_frozen_1"]
    assert [a.type for a in frozen_fn.signature.input_arg] == [1]
    assert frozen_fn.node_def[0].op == "Identity" and frozen_fn.ret["out"] == "r:output:0"
    assert lib["read_7"].node_def[0].op == "ReadVariableOp"


def test_variable_changed_inside_a_function_cannot_be_frozen():
    g = pb.GraphDef()
    _handle(g, "v")

    def body(f):
        one = f.node_def.add(name="one", op="Const")
        one.attr["dtype"].type = 1
        one.attr["value"].tensor.dtype = 1
        one.attr["value"].tensor.float_val.append(1.0)
        upd = f.node_def.add(name="upd", op="AssignAddVariableOp", input=["h", "one:output:0"])
        upd.attr["dtype"].type = 1
        f.ret["out"] = "one:output:0"

    _fn(g.library, "bump", body)
    c = g.node.add(name="call", op="StatefulPartitionedCall", input=["v"])
    c.attr["f"].func.name = "bump"
    c.attr["Tin"].list.type.append(20)
    with pytest.raises(UnsupportedError, match="AssignAddVariableOp node 'upd' in function 'bump'"):
        freeze_graph(g, {"v": np.zeros(2, np.float32)}, ["call"])


def test_nested_calls_and_deep_chains_do_not_recurse():
    """A long Identity chain and a long chain of nested function calls: the walk is iterative."""
    g = pb.GraphDef()
    _handle(g, "v")
    prev = "v"
    for i in range(3000):
        n = g.node.add(name=f"id{i}", op="Identity", input=[prev])
        n.attr["T"].type = 20
        prev = n.name
    depth = 400
    for i in range(depth):
        f = g.library.function.add()
        f.signature.name = f"f{i}"
        f.signature.input_arg.add(name="h", type=20)
        f.signature.output_arg.add(name="out", type=1)
        if i + 1 < depth:
            c = f.node_def.add(name="c", op="PartitionedCall", input=["h"])
            c.attr["f"].func.name = f"f{i + 1}"
            c.attr["Tin"].list.type.append(20)
            f.ret["out"] = "c:output:0"
        else:
            r = f.node_def.add(name="r", op="ReadVariableOp", input=["h"])
            r.attr["dtype"].type = 1
            f.ret["out"] = "r:value:0"
    top = g.node.add(name="call", op="PartitionedCall", input=[prev])
    top.attr["f"].func.name = "f0"
    top.attr["Tin"].list.type.append(20)
    out = freeze_graph(g, {"v": np.zeros(2, np.float32)}, ["call"])
    lib = {f.signature.name: f for f in out.library.function}
    assert len(lib) == depth and all("_frozen_" in k for k in lib)
    last = next(f for f in lib.values() if f.node_def[0].op != "PartitionedCall")
    assert last.node_def[0].op == "Identity" and last.ret["out"] == "r:output:0"


# -- errors name the graph's file ------------------------------------------------------------


def _copy_model(tmp_path, name):
    import shutil

    dest = tmp_path / name
    shutil.copytree(d(name), dest)
    return dest


def _rewrite_graph(path, change):
    g = read_graph_def(path)
    change(g)
    path.write_bytes(g.SerializeToString())
    return path


def _raises_naming(cls, graph_file, fn, *args, match=None):
    with pytest.raises(cls, match=match) as info:
        fn(*args)
    assert type(info.value) is cls  # the class is the one the failure always had
    assert str(graph_file) in str(info.value)
    return info.value


def test_unsupported_op_error_names_the_graph_file(tmp_path):
    graph = d("tf1_mlp") / "graph.pb"
    exc = _raises_naming(UnsupportedError, graph, freeze_graph, graph, d("tf1_mlp") / "model.ckpt",
                         ["increment_step"], match="AssignAdd")
    assert exc.path == str(graph)
    with open(graph, "rb") as f:  # an open file: its name
        _raises_naming(UnsupportedError, graph, freeze_graph, f, d("tf1_mlp") / "model.ckpt", ["increment_step"])


def test_missing_function_error_names_the_graph_file(tmp_path):
    model = _copy_model(tmp_path, "tf1_cflow_v2")
    graph = _rewrite_graph(model / "graph.pb", lambda g: g.library.Clear())
    exc = _raises_naming(DataLossError, graph, freeze_graph, graph, model / "model.ckpt",
                         ["out", "call_out", "case_out"], match="not in the graph's library")
    assert exc.path == str(graph)


def test_variable_missing_from_the_checkpoint_names_graph_and_checkpoint(tmp_path):
    model = _copy_model(tmp_path, "tf1_mlp")

    def rename_key(g):
        names = next(n for n in g.node if n.name == "save/RestoreV2/tensor_names")
        t = names.attr["value"].tensor
        vals = [v.replace(b"dense2/bias", b"dense2/gone") for v in t.string_val]
        assert b"dense2/gone" in vals
        del t.string_val[:]
        t.string_val.extend(vals)

    graph = _rewrite_graph(model / "graph.pb", rename_key)
    exc = _raises_naming(UnknownTensorError, graph, freeze_graph, graph, model / "model.ckpt", ["output"],
                         match="dense2/gone")
    assert exc.path == str(model / "model.ckpt")  # the checkpoint stays the error's file
    assert exc.entry == "dense2/bias"
    # a Mapping has no file: the graph's file is the error's path
    exc = _raises_naming(UnknownTensorError, graph, freeze_graph, graph, {}, ["output"])
    assert exc.path == str(graph)


def test_malformed_graph_errors_name_the_graph_file(tmp_path):
    model = _copy_model(tmp_path, "tf1_resource")

    def drop_gather_indices(g):
        node = next(n for n in g.node if n.name == "embedding_lookup")
        del node.input[1:]

    graph = _rewrite_graph(model / "graph.pb", drop_gather_indices)
    exc = _raises_naming(DataLossError, graph, freeze_graph, graph, model / "model.ckpt", ["output"],
                         match="ResourceGather node 'embedding_lookup' has 1 inputs")
    assert exc.path == str(graph)
    # wrong dtype in the checkpoint's value, and an unknown output node
    with tfformats.load_checkpoint(d("tf1_mlp") / "model.ckpt") as reader:
        values = {k: reader[k] for k in reader}
    values["dense2/bias"] = values["dense2/bias"].astype(np.float64)
    _raises_naming(DataLossError, d("tf1_mlp") / "graph.pb", freeze_graph, d("tf1_mlp") / "graph.pb", values,
                   ["output"], match="float32")
    _raises_naming(InvalidArgumentError, graph, freeze_graph, graph, model / "model.ckpt", ["not_there"])


def test_errors_for_in_memory_graphs_have_no_file():
    g = read_graph_def(d("tf1_mlp") / "graph.pb")
    with pytest.raises(UnsupportedError) as info:
        freeze_graph(g, d("tf1_mlp") / "model.ckpt", ["increment_step"])
    assert info.value.path is None and "graph.pb" not in str(info.value)


def test_freeze_saved_model_errors_name_saved_model_pb(tmp_path):
    from tfformats.saved_model import freeze_saved_model

    sm = d("../saved_models/tf1_builder")
    exc = _raises_naming(UnsupportedError, sm / "saved_model.pb", freeze_saved_model, sm, ["w/Assign"])
    assert exc.path == str(sm / "saved_model.pb")
    # no variables checkpoint: every variable is missing
    import shutil

    damaged = tmp_path / "tf1_builder"
    shutil.copytree(sm, damaged)
    shutil.rmtree(damaged / "variables")
    _raises_naming(UnknownTensorError, damaged / "saved_model.pb", freeze_saved_model, damaged, ["y"])
    # a TF2 model whose signature function is gone from the library
    tf2 = tmp_path / "tf2_module"
    shutil.copytree(d("../saved_models/tf2_module"), tf2)
    saved = pb.SavedModel.FromString((tf2 / "saved_model.pb").read_bytes())
    lib = saved.meta_graphs[0].graph_def.library
    keep = [f for f in lib.function if f.signature.name != "__inference_signature_wrapper_scale_166"]
    del lib.function[:]
    lib.function.extend(keep)
    (tf2 / "saved_model.pb").write_bytes(saved.SerializeToString())
    _raises_naming(DataLossError, tf2 / "saved_model.pb", freeze_saved_model, tf2, ["StatefulPartitionedCall"],
                   match="not in the graph's library")


def test_warm_started_variables_take_the_savers_keys(capsys):
    # found by a compatibility hunt: a TF1 graph restores each variable twice, by its Saver and by
    # init_from_checkpoint (Estimator warm starts, TF1 Hub modules, BERT's init_checkpoint), which
    # reads *another* checkpoint under other keys; the first restore in graph order won, so `a` read
    # `b`'s value (silently) and a renamed warm start raised "no key 'old_c'"
    import json

    from cli_helpers import run_cli_json

    warm = require_data("graphs/warm_start")
    want = json.loads((warm / "warm_start.json").read_text())["variables"]  # as TensorFlow loaded them
    sm = tfformats.load_saved_model(warm / "sm")
    assert {v.name: v.checkpoint_key for v in sm.variables} == {n: n for n in want}
    assert {v.name: sm.get_variable(v.name).tolist() for v in sm.variables} == want and not sm.problems
    meta = read_meta_graph(warm / "new" / "ck.meta")
    assert {v: k for v, (k, _) in variable_checkpoint_keys(meta).items()} == {n: n for n in want}
    # without the saver_def (a bare GraphDef) the restores in a Saver's scope still come first
    assert {v: k for v, (k, _) in variable_checkpoint_keys(meta.graph_def).items()} == {n: n for n in want}
    for frozen in (tfformats.freeze_saved_model(warm / "sm"), freeze_graph(meta, warm / "new" / "ck", ["y"]),
                   freeze_graph(meta.graph_def, warm / "new" / "ck", ["y"])):
        consts = graph_constants(frozen)
        assert {n: consts[n].tolist() for n in want} == want
    code, doc = run_cli_json(capsys, "verify", warm / "sm")
    assert code == 0 and not doc["problems"]


def test_local_variables_are_not_expected_in_the_checkpoint(capsys):
    # found by a compatibility hunt: every Estimator eval export (streaming metrics are local
    # variables, which its Saver does not save and its main_op initializes) got one "has no value in
    # the checkpoint" warning per metric variable
    import json

    from cli_helpers import run_cli_json

    d = require_data("graphs/local_vars")
    tf_view = json.loads((d / "local_vars.json").read_text())
    sm = tfformats.load_saved_model(d / "sm")
    assert sorted(v.name for v in sm.variables if v.local) == tf_view["local"]
    assert sorted(v.checkpoint_key for v in sm.variables if not v.local) == tf_view["checkpoint_keys"]
    assert not sm.problems
    code, doc = run_cli_json(capsys, "verify", d / "sm")
    assert code == 0 and not doc["problems"]
    # still a warning for a variable its Saver restores but the checkpoint lacks
    warm = tfformats.load_saved_model(require_data("graphs/warm_start/sm"))
    assert not any(v.local for v in warm.variables)


def test_a_variable_its_saver_restores_must_be_in_the_checkpoint(tmp_path):
    import shutil

    sm_dir = tmp_path / "sm"
    shutil.copytree(require_data("graphs/warm_start/sm"), sm_dir)
    prefix = sm_dir / "variables" / "variables"
    with tfformats.load_checkpoint(prefix) as r:
        kept = {k: r.get_tensor(k) for k in r if k != "c"}
    for f in (sm_dir / "variables").iterdir():
        f.unlink()
    tfformats.save_checkpoint(prefix, kept)
    sm = tfformats.load_saved_model(sm_dir)
    assert sm.problems == ["variable 'c' has no value in the checkpoint"]
