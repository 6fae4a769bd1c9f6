"""TensorFlow and tfformats on the same graphs and SavedModels.

* parsing: the messages tfformats reads are byte-for-byte TF's;
* constants: every Const of consts.pb as TF's runtime evaluates it;
* SavedModels: signatures and variable values as tf.saved_model.load and the
  TF1 loader see them;
* freezing: TF imports tfformats' frozen graphs and computes the same outputs as
  the original graph restored from its checkpoint, and as its own
  convert_variables_to_constants.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

import tfformats  # noqa: E402
from tfformats.graph import freeze_graph, graph_constants, read_graph_def, read_meta_graph, write_graph_def  # noqa: E402
from tfformats.saved_model import freeze_saved_model, load_saved_model  # noqa: E402
from tfformats.graph import parse_message  # noqa: E402
from tfformats.proto import pb  # noqa: E402

v1 = tf.compat.v1
DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
GRAPHS = DATA / "graphs"
SAVED = DATA / "saved_models"
MODELS = ["tf1_mlp", "tf1_resource"]
SAVED_MODELS = ["tf1_builder", "tf2_module", "keras3_export", "tf_keras_model", "pbtxt_model"]


def tf_graph_def(path):
    from google.protobuf import text_format

    g = tf.compat.v1.GraphDef()
    data = Path(path).read_bytes()
    try:
        g.ParseFromString(data)
    except Exception:
        g = tf.compat.v1.GraphDef()
        text_format.Parse(data.decode(), g)
    return g


def run_graph(graph_def, fetch, feed):
    g = tf.Graph()
    with g.as_default():
        tf.graph_util.import_graph_def(tf.compat.v1.GraphDef.FromString(graph_def.SerializeToString()), name="")
    with v1.Session(graph=g) as sess:
        return sess.run(fetch, feed)


def sample_feed(sample):
    feed = {"x:0": sample["x"], "scale:0": sample["scale"]}
    if "ids" in sample.files:
        feed["ids:0"] = sample["ids"]
    return feed


# -- parsing ----------------------------------------------------------------------


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("fname", ["graph.pb", "graph.pbtxt", "frozen.pb"])
def test_graph_defs_parse_like_tensorflow(name, fname):
    ours = read_graph_def(GRAPHS / name / fname)
    theirs = tf_graph_def(GRAPHS / name / fname)
    assert ours.SerializeToString(deterministic=True) == theirs.SerializeToString(deterministic=True)
    assert [(n.name, n.op, list(n.input)) for n in ours.node] == [(n.name, n.op, list(n.input)) for n in theirs.node]


@pytest.mark.parametrize("name", MODELS)
def test_meta_graph_parses_like_tensorflow(name):
    from tensorflow.core.protobuf import meta_graph_pb2

    path = GRAPHS / name / "model.ckpt.meta"
    theirs = meta_graph_pb2.MetaGraphDef.FromString(path.read_bytes())
    ours = read_meta_graph(path)
    assert ours.SerializeToString(deterministic=True) == theirs.SerializeToString(deterministic=True)
    # and TF's own import sees the same nodes
    g = tf.Graph()
    with g.as_default():
        v1.train.import_meta_graph(str(path))
    assert [op.name for op in g.get_operations()] == [n.name for n in ours.graph_def.node]


@pytest.mark.parametrize("name", SAVED_MODELS)
def test_saved_model_protos_parse_like_tensorflow(name):
    from tensorflow.python.saved_model import loader_impl

    theirs = loader_impl.parse_saved_model(str(SAVED / name))
    with load_saved_model(SAVED / name) as sm:
        assert sm.proto.SerializeToString(deterministic=True) == theirs.SerializeToString(deterministic=True)


@pytest.mark.parametrize("name", ["tf1_builder", "tf2_module"])
def test_text_written_like_tensorflows(name, tmp_path):
    """Text output (Any fields expanded) and binary output equal TF's for the same message."""
    from google.protobuf import text_format
    from tensorflow.python.saved_model import loader_impl

    theirs = loader_impl.parse_saved_model(str(SAVED / name))
    with load_saved_model(SAVED / name) as sm:
        write_graph_def(sm.proto, tmp_path / "sm.pbtxt")
        write_graph_def(sm.proto, tmp_path / "sm.pb")
    assert (tmp_path / "sm.pbtxt").read_text() == text_format.MessageToString(theirs)
    assert (tmp_path / "sm.pb").read_bytes() == theirs.SerializeToString(deterministic=True)


def test_written_text_and_binary_graphs_import_in_tensorflow(tmp_path):
    g = read_graph_def(GRAPHS / "tf1_mlp" / "frozen.pb")
    write_graph_def(g, tmp_path / "f.pbtxt")
    write_graph_def(g, tmp_path / "f.pb")
    sample = np.load(GRAPHS / "tf1_mlp" / "sample.npz")
    for f in ("f.pbtxt", "f.pb"):
        out = run_graph(tf_graph_def(tmp_path / f), "output:0", sample_feed(sample))
        np.testing.assert_allclose(out, sample["output"], rtol=1e-6)


# -- constants ----------------------------------------------------------------------


def test_every_constant_matches_tensorflows_runtime():
    gd = read_graph_def(GRAPHS / "consts.pb")
    consts = graph_constants(gd)
    g = tf.Graph()
    with g.as_default():
        tf.graph_util.import_graph_def(tf_graph_def(GRAPHS / "consts.pb"), name="")
    checked = 0
    with v1.Session(graph=g) as sess:
        for name in consts:
            theirs = sess.run(name + ":0")
            theirs = np.asarray(theirs, dtype=object if consts.dtype(name) == "string" else None)
            if theirs.dtype.names:  # quantized
                theirs = theirs.view(theirs.dtype[0])
            ours = consts[name]
            assert ours.shape == theirs.shape, name
            if ours.dtype == object:
                assert ours.tolist() == theirs.tolist(), name
            elif ours.dtype.kind == "c":
                np.testing.assert_array_equal(ours, theirs, err_msg=name)
            else:
                np.testing.assert_array_equal(ours.astype(np.float64), theirs.astype(np.float64), err_msg=name)
            checked += 1
    assert checked == len(consts) > 150


@pytest.mark.parametrize("name", MODELS)
def test_frozen_constants_match_make_ndarray(name):
    theirs = tf_graph_def(GRAPHS / name / "frozen.pb")
    consts = graph_constants(GRAPHS / name / "frozen.pb")
    for n in theirs.node:
        if n.op == "Const":
            np.testing.assert_array_equal(consts[n.name], tf.make_ndarray(n.attr["value"].tensor))


def test_numpy_to_tensor_is_read_by_tensorflow():
    for dtype in ("float32", "float64", "int8", "uint16", "int64", "bool", "complex64", "float16", "bfloat16"):
        arr = np.arange(6).reshape(2, 3).astype(tfformats.dtypes.as_dtype(dtype).numpy)
        for content in (True, False):
            proto = tfformats.numpy_to_tensor(arr, use_tensor_content=content)
            theirs = tf.io.parse_tensor(proto.SerializeToString(), out_type=tf.as_dtype(dtype)).numpy()
            np.testing.assert_array_equal(theirs.astype(np.float64) if dtype != "complex64" else theirs,
                                          arr.astype(np.float64) if dtype != "complex64" else arr)
    s = tfformats.numpy_to_tensor(np.array([b"a", b"", "\u00e9".encode()], dtype=object))
    assert tf.io.parse_tensor(s.SerializeToString(), out_type=tf.string).numpy().tolist() == [b"a", b"", "\u00e9".encode()]


# -- SavedModels ----------------------------------------------------------------------


def _spec(s):
    return {"dtype": s.dtype.name, "shape": None if s.shape.rank is None else s.shape.as_list()}


@pytest.mark.parametrize("name", ["tf2_module", "keras3_export", "tf_keras_model", "pbtxt_model"])
def test_tf2_signatures_and_variables_match_tf_saved_model_load(name):
    loaded = tf.saved_model.load(str(SAVED / name))
    with load_saved_model(SAVED / name) as sm:
        model_sigs = {k: s for k, s in sm.signatures.items() if not s.internal}
        assert set(model_sigs) == set(loaded.signatures.keys())
        for key, fn in loaded.signatures.items():
            _, kwargs = fn.structured_input_signature
            assert {k: _spec(s) for k, s in kwargs.items()} == {
                k: {"dtype": v.dtype, "shape": v.shape} for k, v in model_sigs[key].inputs.items()
            }
            assert {k: _spec(s) for k, s in fn.structured_outputs.items()} == {
                k: {"dtype": v.dtype, "shape": v.shape} for k, v in model_sigs[key].outputs.items()
            }
        # every variable TF restored, found through its object path
        for var in sm.variables:
            obj = loaded
            for part in var.path.split("/"):
                part = part.replace(".S", "/").replace("..", ".")
                if isinstance(obj, (list, tuple)):
                    obj = obj[int(part)]
                elif isinstance(obj, dict):
                    obj = obj[part]
                else:
                    obj = getattr(obj, part)
            np.testing.assert_array_equal(obj.numpy(), sm.get_variable(var.path))
            assert obj.dtype.name == var.dtype
            assert obj.shape.as_list() == var.shape


def test_tf1_saved_model_matches_tf1_loader():
    g = tf.Graph()
    with g.as_default(), v1.Session(graph=g) as sess:
        mg = v1.saved_model.loader.load(sess, ["serve"], str(SAVED / "tf1_builder"))
        values = {v.op.name: sess.run(v) for v in v1.global_variables()}
    with load_saved_model(SAVED / "tf1_builder") as sm:
        assert set(sm.signatures) == set(mg.signature_def)
        for key, sig in sm.signatures.items():
            sd = mg.signature_def[key]
            for side in ("inputs", "outputs"):
                theirs = {k: (t.name, tf.as_dtype(t.dtype).name, tf.TensorShape(t.tensor_shape).as_list())
                          for k, t in getattr(sd, side).items()}
                ours = {k: (t.name, t.dtype, t.shape) for k, t in getattr(sig, side).items()}
                assert ours == theirs
        assert sorted(values) == sorted(v.name for v in sm.variables)
        for name, value in values.items():
            np.testing.assert_array_equal(sm.get_variable(name), value)


# -- freezing ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("source", ["model.ckpt.meta", "graph.pb", "graph.pbtxt"])
def test_tensorflow_runs_our_frozen_graph(name, source):
    sample = np.load(GRAPHS / name / "sample.npz")
    frozen = freeze_graph(GRAPHS / name / source, GRAPHS / name / "model.ckpt", ["output", "logits"])
    assert not {n.op for n in frozen.node} & {"VariableV2", "VarHandleOp", "ReadVariableOp"}
    ours = run_graph(frozen, ["output:0", "logits:0"], sample_feed(sample))
    # the original graph restored from its checkpoint (recorded by the generator)
    np.testing.assert_allclose(ours[0], sample["output"], rtol=1e-6)
    np.testing.assert_allclose(ours[1], sample["logits"], rtol=1e-6)
    # TF's own convert_variables_to_constants result, run now
    theirs = run_graph(read_graph_def(GRAPHS / name / "frozen.pb"), ["output:0", "logits:0"], sample_feed(sample))
    np.testing.assert_array_equal(ours[0], theirs[0])
    np.testing.assert_array_equal(ours[1], theirs[1])


@pytest.mark.parametrize("name", MODELS)
def test_our_frozen_graph_equals_convert_variables_to_constants_now(name):
    """Restore the .meta + checkpoint in TF, freeze it with TF, compare with ours."""
    d = GRAPHS / name
    g = tf.Graph()
    with g.as_default(), v1.Session(graph=g) as sess:
        saver = v1.train.import_meta_graph(str(d / "model.ckpt.meta"))
        saver.restore(sess, str(d / "model.ckpt"))
        theirs = v1.graph_util.convert_variables_to_constants(sess, g.as_graph_def(), ["output"])
    ours = freeze_graph(d / "model.ckpt.meta", d / "model.ckpt", ["output"])
    assert [(n.name, n.op, list(n.input)) for n in ours.node] == [(n.name, n.op, list(n.input)) for n in theirs.node]
    for a, b in zip(ours.node, theirs.node):
        if a.op == "Const":
            np.testing.assert_array_equal(tfformats.tensor_to_numpy(a.attr["value"].tensor),
                                          tf.make_ndarray(b.attr["value"].tensor))


@pytest.mark.parametrize("name", ["tf2_module", "keras3_export", "tf_keras_model", "pbtxt_model"])
def test_frozen_tf2_saved_model_runs_like_the_loaded_model(name):
    """TF imports the frozen serving signature and computes what tf.saved_model.load computed
    (samples.npz); TF's own route (TF1 loader + convert_variables_to_constants) gives the same
    nodes and the same rewritten functions.  TF renames each rewritten function in place, so a
    function another (unfrozen) caller still uses disappears from its library; ours keeps it."""
    import re

    samples = np.load(SAVED / "samples.npz")
    with load_saved_model(SAVED / name) as sm:
        sig = sm.signature()
        (inp,) = sig.inputs.values()
        (out,) = sig.outputs.values()
        frozen = freeze_saved_model(SAVED / name)
        checkpoint_values = {k: sm.checkpoint.get_tensor(k) for k in sm.checkpoint}
    y = run_graph(frozen, out.name, {inp.name: samples[f"{name}__x"]})
    np.testing.assert_allclose(y, samples[f"{name}__y"], rtol=1e-6)

    g = tf.Graph()
    with g.as_default(), v1.Session(graph=g) as sess:
        v1.saved_model.loader.load(sess, ["serve"], str(SAVED / name))
        graph_def = g.as_graph_def()
        theirs = v1.graph_util.convert_variables_to_constants(sess, graph_def, [out.node])
    ours = freeze_graph(pb.GraphDef.FromString(graph_def.SerializeToString()), checkpoint_values, [out.node])
    def nodes(gd):
        return [re.sub(r"_frozen_\d+", "_frozen_N", str(n)) for n in pb.GraphDef.FromString(
            gd.SerializeToString()).node]

    assert nodes(ours) == nodes(theirs)

    def functions(gd):
        return {re.sub(r"_frozen_\d+", "_frozen_N", str(f)) for f in pb.GraphDef.FromString(
            gd.SerializeToString()).library.function}

    assert functions(theirs) <= functions(ours)
    def names(gd):
        return {re.sub(r"_frozen_\d+", "_frozen_N", f.signature.name) for f in gd.library.function}

    assert all("_frozen_" not in e for e in names(ours) - names(theirs))  # originals kept for other callers


def test_freeze_tf1_saved_model_runs_like_the_loaded_model():
    samples = np.load(SAVED / "samples.npz")
    frozen = freeze_saved_model(SAVED / "tf1_builder")
    out = run_graph(frozen, "y:0", {"x:0": samples["tf1_builder__x"]})
    np.testing.assert_allclose(out, samples["tf1_builder__y"], rtol=1e-6)


# -- freezing through control flow, functions and unusual reads -----------------------------

CFLOW = ["tf1_cflow_v1", "tf1_cflow_v2"]


def _cflow_report():
    import json

    return json.loads((GRAPHS / "control_flow.json").read_text())


def _run_restored(meta_path, prefix, fetch, feed):
    """The original graph as a TF1 user runs it: import the .meta, restore the checkpoint."""
    g = tf.Graph()
    with g.as_default(), v1.Session(graph=g) as sess:
        saver = v1.train.import_meta_graph(str(meta_path))
        saver.restore(sess, str(prefix))
        return sess.run(fetch, feed)


@pytest.mark.parametrize("name, source", [(n, s) for n in CFLOW for s in ("graph.pb", "model.ckpt.meta")]
                         + [("tf1_cflow_v1", "legacy.meta")])
def test_tensorflow_runs_our_frozen_control_flow_graphs(name, source):
    """Every output, including those TF's own freezing leaves broken (VariableShape, RefSwitch,
    ResourceGather in an If branch): TF imports ours and computes what the original graph,
    restored from its checkpoint, computes."""
    d = GRAPHS / name
    rep = _cflow_report()[name]
    sample = np.load(d / "sample.npz")
    outs = rep["outputs"]
    feed = {"x:0": sample["x"], "ids:0": sample["ids"]}
    fetch = [o + ":0" for o in outs]
    frozen = freeze_graph(d / source, d / "model.ckpt", outs)
    assert not {n.op for n in frozen.node} & {"VariableV2", "Variable", "VarHandleOp", "ReadVariableOp"}
    ours = run_graph(frozen, fetch, feed)
    meta = d / ("legacy.meta" if source == "legacy.meta" else "model.ckpt.meta")
    original = _run_restored(meta, d / "model.ckpt", fetch, feed)
    for o, a, b, recorded in zip(outs, ours, original, (sample[o] for o in outs)):
        np.testing.assert_allclose(a, b, rtol=1e-6, err_msg=o)
        np.testing.assert_allclose(a, recorded, rtol=1e-6, err_msg=o)


@pytest.mark.parametrize("name", CFLOW)
def test_control_flow_freeze_equals_convert_variables_to_constants_now(name):
    """TF restores the .meta + checkpoint and freezes the outputs it can; ours from the same
    GraphDef has the same nodes and functions (up to the numbers in frozen function names)."""
    import re

    d = GRAPHS / name
    outs = _cflow_report()[name]["frozen_outputs"]
    g = tf.Graph()
    with g.as_default(), v1.Session(graph=g) as sess:
        saver = v1.train.import_meta_graph(str(d / "model.ckpt.meta"))
        saver.restore(sess, str(d / "model.ckpt"))
        graph_def = g.as_graph_def()
        theirs = v1.graph_util.convert_variables_to_constants(sess, graph_def, outs)
    ours = freeze_graph(parse_message(graph_def.SerializeToString(), pb.GraphDef)[0],
                        d / "model.ckpt", outs)

    def canon(gd):
        return re.sub(r"_frozen_\d+", "_frozen_N", str(pb.GraphDef.FromString(gd.SerializeToString())))

    assert canon(ours) == canon(theirs)


def test_function_returning_a_read_directly_runs_after_freezing():
    """A hand-built graph whose function returns a ReadVariableOp's output (no Identity after
    it): the frozen function's ret is rewritten to the Identity's output name, and TF runs it."""
    from tensorflow.core.framework import function_pb2, graph_pb2

    fd = function_pb2.FunctionDef()
    fd.signature.name = "read_it"
    fd.signature.input_arg.add(name="h", type=tf.resource.as_datatype_enum)
    fd.signature.output_arg.add(name="out", type=tf.float32.as_datatype_enum)
    r = fd.node_def.add(name="r", op="ReadVariableOp", input=["h"])
    r.attr["dtype"].type = tf.float32.as_datatype_enum
    fd.ret["out"] = "r:value:0"
    gd = graph_pb2.GraphDef()
    gd.library.function.add().CopyFrom(fd)
    v = gd.node.add(name="v", op="VarHandleOp")
    v.attr["dtype"].type = tf.float32.as_datatype_enum
    v.attr["shape"].shape.dim.add(size=2)
    v.attr["shared_name"].s = b"v"
    c = gd.node.add(name="call", op="StatefulPartitionedCall", input=["v"])
    c.attr["f"].func.name = "read_it"
    c.attr["Tin"].list.type.append(tf.resource.as_datatype_enum)
    c.attr["Tout"].list.type.append(tf.float32.as_datatype_enum)
    for k in ("config", "config_proto", "executor_type"):
        c.attr[k].s = b""
    value = np.array([1.5, -2.0], np.float32)
    # TF runs the original once the variable holds the value
    g = tf.Graph()
    with g.as_default():
        tf.graph_util.import_graph_def(gd, name="")
        assign = tf.raw_ops.AssignVariableOp(resource=g.get_tensor_by_name("v:0"), value=tf.constant(value))
    with v1.Session(graph=g) as sess:
        sess.run(assign)
        original = sess.run("call:0")
    frozen = freeze_graph(gd, {"v": value}, ["call"])
    np.testing.assert_array_equal(run_graph(frozen, "call:0", {}), original)


_VAR_DTYPES = ["float16", "bfloat16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "uint16",
               "uint32", "uint64", "bool", "complex64", "complex128", "string"]


def test_frozen_constants_of_every_variable_dtype_are_byte_for_byte_tensorflows(tmp_path):
    """Reference variables of every dtype a CPU variable can hold, scalar and 2x3, saved by TF:
    our frozen graph equals convert_variables_to_constants' node for node (tensor_content for
    the types make_tensor_proto packs, typed fields for bool, complex, uint16, strings)."""
    g = tf.Graph()
    outputs = []
    with g.as_default():
        for name in _VAR_DTYPES:
            dt = tf.as_dtype(name)
            for shape in ([], [2, 3]):
                size = int(np.prod(shape))
                if name == "string":
                    init = np.array([b"a", b"", b"xyz", b"\x00", b"q", b"r"][:size] or [b"s"], dtype=object)
                elif name == "bool":
                    init = np.array([True, False, True, True, False, True][: max(size, 1)])
                else:
                    init = (np.arange(max(size, 1)) % 5).astype(dt.as_numpy_dtype)
                init = init.reshape(shape)
                var = v1.Variable(init, dtype=dt, name=f"{name}_{len(shape)}", use_resource=False)
                outputs.append(tf.identity(var, name=f"out_{name}_{len(shape)}").op.name)
        saver = v1.train.Saver()
        init_op = v1.global_variables_initializer()
    with v1.Session(graph=g) as sess:
        sess.run(init_op)
        prefix = saver.save(sess, str(tmp_path / "m.ckpt"))
        graph_def = g.as_graph_def()
        # TF's converter fails on a scalar string variable (session.run gives bytes, it wants .shape)
        tf_outputs = [o for o in outputs if o != "out_string_0"]
        theirs = v1.graph_util.convert_variables_to_constants(sess, graph_def, tf_outputs)
        values = sess.run([o + ":0" for o in outputs])
    ours_graph = pb.GraphDef.FromString(graph_def.SerializeToString())
    same = freeze_graph(ours_graph, prefix, tf_outputs)
    assert len(same.node) == len(theirs.node)
    for a, b in zip(same.node, theirs.node):
        assert a.SerializeToString(deterministic=True) == b.SerializeToString(deterministic=True), a.name
    ours = freeze_graph(ours_graph, prefix, outputs)
    got = run_graph(ours, [o + ":0" for o in outputs], {})
    for o, x, y in zip(outputs, got, values):
        if isinstance(y, np.ndarray) and y.dtype == object or isinstance(y, bytes):
            assert np.asarray(x).tolist() == np.asarray(y).tolist(), o
        else:
            np.testing.assert_array_equal(np.asarray(x), np.asarray(y), err_msg=o)


def test_freeze_sharded_partitioned_resource_variables_like_tensorflow():
    """The sharded TF1 Saver fixture (three devices, partitioned resource variables, strings,
    bools, several int widths): node for node what TF freezes after restoring it, and TF
    reads the same values back from ours."""
    d = DATA / "checkpoints" / "tf1_sharded"
    meta = read_meta_graph(d / "model.ckpt-7.meta")
    outs = [n.name for n in meta.graph_def.node
            if n.name.endswith("/Read/ReadVariableOp") and not n.name.startswith("save")]
    config = v1.ConfigProto(device_count={"CPU": 3})
    g = tf.Graph()
    with g.as_default(), v1.Session(graph=g, config=config) as sess:
        saver = v1.train.import_meta_graph(str(d / "model.ckpt-7.meta"))
        saver.restore(sess, str(d / "model.ckpt-7"))
        graph_def = g.as_graph_def()
        theirs = v1.graph_util.convert_variables_to_constants(sess, graph_def, outs)
        values = sess.run([o + ":0" for o in outs])
    ours = freeze_graph(pb.GraphDef.FromString(graph_def.SerializeToString()), d / "model.ckpt-7", outs)
    assert len(ours.node) == len(theirs.node)
    for a, b in zip(ours.node, theirs.node):
        assert a.SerializeToString(deterministic=True) == b.SerializeToString(deterministic=True), a.name
    from_meta = freeze_graph(meta, d / "model.ckpt-7", outs)
    g3 = tf.Graph()
    with g3.as_default():
        tf.graph_util.import_graph_def(tf.compat.v1.GraphDef.FromString(from_meta.SerializeToString()), name="")
    with v1.Session(graph=g3, config=config) as sess:
        got = sess.run([o + ":0" for o in outs])
    for o, a, b in zip(outs, got, values):
        assert np.asarray(a).tolist() == np.asarray(b).tolist(), o


def test_tensorflow_refuses_a_gradient_entry_naming_a_missing_function():
    # the rule tfformats verify applies (tests/test_cli_graphs.py)
    from tensorflow.core.framework import graph_pb2

    g = graph_pb2.GraphDef()
    g.library.function.add().signature.name = "f_a"
    g.library.gradient.add(function_name="f_a", gradient_func="missing_grad")
    with pytest.raises(ValueError, match="missing_grad"):
        with tf.Graph().as_default():
            tf.graph_util.import_graph_def(g, name="")


def test_frozen_warm_started_graphs_compute_what_tensorflow_loads():
    # the variables of tests/data/graphs/warm_start are also restored by init_from_checkpoint from
    # another checkpoint; the frozen graphs must give the SavedModel's output as TF computes it
    import json

    warm = GRAPHS / "warm_start"
    want = json.loads((warm / "warm_start.json").read_text())
    meta = read_meta_graph(warm / "new" / "ck.meta")
    for frozen in (freeze_saved_model(warm / "sm"), freeze_graph(meta, warm / "new" / "ck", ["y"])):
        g = tf.Graph()
        with g.as_default():
            tf.graph_util.import_graph_def(tf.compat.v1.GraphDef.FromString(frozen.SerializeToString()), name="")
        with v1.Session(graph=g) as sess:
            y = sess.run("y:0", {"x:0": np.array(want["probe"], np.float32)})
        assert y.tolist() == want["y"]
