"""Write graph, frozen-graph, MetaGraph and SavedModel fixtures with real TensorFlow.

Outputs (all small):

tests/data/graphs/
  tf1_mlp/         TF1 graph-mode MLP with reference variables (VariableV2, one of
                   them partitioned), saved with ``Saver`` (V2 checkpoint + ``.meta``),
                   ``write_graph`` as text (graph.pbtxt) and binary (graph.pb), and
                   frozen by TF's ``convert_variables_to_constants`` (frozen.pb).
  tf1_resource/    the same with resource variables (VarHandleOp + ReadVariableOp)
                   and an embedding lookup (ResourceGather).
  consts.pb        Const nodes of every dtype TensorFlow can decode, in both
                   encodings (tensor_content written by TF's own C++, and the
                   typed ``*_val`` fields), plus fill-rule cases.
  consts.json / consts_values.npz   what TensorFlow's C++ decoder (``parse_tensor``)
                   and ``tf.make_ndarray`` return for each of them.
  report.json      what TensorFlow reports for the graph files (node lists,
                   placeholders, ops, variables).
  tf1_cflow_v1/    TF1 graph-mode model with control flow v1 (Switch/Merge/Enter/Exit from
                   tf.cond and tf.while_loop) reading reference (VariableV2) and resource
                   (VarHandleOp) variables, an Identity chain on a resource handle,
                   ResourceGatherNd, VariableShape and RefSwitch/RefIdentity reads;
                   legacy.meta is the same MetaGraph with every VariableV2 renamed to the
                   pre-1.0 ``Variable`` op (TF still imports, restores and runs it).
  tf1_cflow_v2/    the same kind of model with control flow v2 (If/While with function
                   bodies, a nested If inside the While body, a tf.function called through
                   StatefulPartitionedCall, a ResourceGather inside an If branch, a Case from
                   tf.switch_case, a StatelessIf reading a reference variable).
                   Each: Saver checkpoint + .meta, graph.pb, frozen.pb (TF's
                   convert_variables_to_constants for the outputs it can freeze), sample.npz
                   (inputs and the original graph's outputs, restored from the checkpoint).
  control_flow.json  per model: outputs, whether TF's own freezing of each output runs,
                   TF's frozen node lists.

tests/data/saved_models/
  tf1_builder/     TF1 ``SavedModelBuilder``: two meta graphs (serve, train), an
                   asset (vocab.txt) feeding a lookup table, a main_op, two signatures.
  tf2_module/      ``tf.saved_model.save`` of a tf.Module: variables, an Asset, two
                   signatures (one with an unknown-rank input).
  keras3_export/   Keras 3 ``model.export()``.
  tf_keras_model/  tf_keras ``model.save(save_format="tf")`` (keras_metadata.pb).
  pbtxt_model/     a TF2 SavedModel whose saved_model.pb was rewritten as saved_model.pbtxt.
  report.json      signatures, tag sets, variables, assets, functions as TF sees them.
  samples.npz      sample inputs and TF's outputs for the models above.

Run with the TensorFlow virtualenv:  python tests/generate/gen_graphs.py [graphs] [control_flow] [saved_models]
(no argument: all of them)
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np
import tensorflow as tf
from google.protobuf import text_format

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data")
GRAPHS = os.path.join(DATA, "graphs")
SAVED = os.path.join(DATA, "saved_models")

v1 = tf.compat.v1
RNG = np.random.default_rng(20240601)


def fresh(path):
    if os.path.isdir(path):
        shutil.rmtree(path)
    elif os.path.exists(path):
        os.remove(path)
    os.makedirs(path)
    return path


def dump_json(obj, path):
    with open(path, "w") as f:
        json.dump(obj, f, indent=1, sort_keys=True)
        f.write("\n")


def shape_list(shape):
    """tf.TensorShape -> list with None for unknown dims, or None for unknown rank."""
    shape = tf.TensorShape(shape)
    if shape.rank is None:
        return None
    return [d for d in shape.as_list()]


def node_report(graph_def):
    return [{"name": n.name, "op": n.op, "inputs": list(n.input), "device": n.device} for n in graph_def.node]


# ---------------------------------------------------------------------------
# TF1 graph-mode models


def build_tf1_mlp(resource: bool):
    """x[None,4] (+ ids for the resource model) -> dense relu -> dense -> softmax."""
    g = tf.Graph()
    with g.as_default():
        x = v1.placeholder(tf.float32, [None, 4], name="x")
        scale = v1.placeholder_with_default(tf.constant(1.0), [], name="scale")
        init = v1.constant_initializer
        w2_val = RNG.standard_normal((8, 3)).astype(np.float32)
        with v1.variable_scope("dense1"):
            # Partitioned along axis 0: checkpoint key "dense1/kernel" with two slices.
            w1 = v1.get_variable(
                "kernel", initializer=v1.random_normal_initializer(seed=1), shape=[4, 8], dtype=tf.float32,
                partitioner=v1.fixed_size_partitioner(2), use_resource=resource,
            )
            b1 = v1.get_variable("bias", initializer=init(0.1), shape=[8], use_resource=resource)
        h = tf.nn.relu(tf.matmul(x, w1) + b1, name="hidden")
        if resource:
            ids = v1.placeholder(tf.int32, [None], name="ids")
            emb = v1.get_variable(
                "embedding", initializer=init(RNG.standard_normal((5, 8)).astype(np.float32)),
                shape=[5, 8], use_resource=True,
            )
            h = h + tf.nn.embedding_lookup(emb, ids)
        with v1.variable_scope("dense2"):
            w2 = v1.get_variable("kernel", initializer=init(w2_val), shape=[8, 3], use_resource=resource)
            b2 = v1.get_variable("bias", initializer=init(-0.2), shape=[3], use_resource=resource)
        logits = tf.add(tf.matmul(h, w2) + b2, 0.0, name="logits")
        out = tf.nn.softmax(logits * scale, name="output")
        # An integer step counter that is saved but not part of inference.
        step = v1.get_variable("global_step", initializer=init(7), shape=[], dtype=tf.int64,
                               trainable=False, use_resource=resource)
        inc = v1.assign_add(step, 1, name="increment_step")
        init_op = v1.global_variables_initializer()
        saver = v1.train.Saver(save_relative_paths=True)
    return g, dict(x=x, scale=scale, out=out, logits=logits, init=init_op, saver=saver, inc=inc,
                   ids=g.get_tensor_by_name("ids:0") if resource else None)


def gen_tf1(name: str, resource: bool, report: dict, samples: dict):
    d = fresh(os.path.join(GRAPHS, name))
    g, t = build_tf1_mlp(resource)
    x_val = RNG.standard_normal((5, 4)).astype(np.float32)
    feed = {t["x"]: x_val, t["scale"]: np.float32(1.5)}
    if resource:
        ids_val = np.array([0, 4, 2, 2, 1], np.int32)
        feed[t["ids"]] = ids_val
    with v1.Session(graph=g) as sess:
        sess.run(t["init"])
        sess.run(t["inc"])
        prefix = t["saver"].save(sess, os.path.join(d, "model.ckpt"))
        y_orig, logits_orig = sess.run([t["out"], t["logits"]], feed)
        graph_def = g.as_graph_def()
        tf.io.write_graph(graph_def, d, "graph.pbtxt", as_text=True)
        tf.io.write_graph(graph_def, d, "graph.pb", as_text=False)
        outputs = ["output", "logits"]
        frozen = v1.graph_util.convert_variables_to_constants(sess, graph_def, outputs)
        tf.io.write_graph(frozen, d, "frozen.pb", as_text=False)
        var_values = {v.op.name: sess.run(v) for v in v1.global_variables()}
        variables = [
            {"name": v.op.name, "op": v.op.type, "dtype": v.dtype.base_dtype.name, "shape": shape_list(v.shape)}
            for v in v1.global_variables()
        ]
    # Restore into a fresh graph from the .meta + checkpoint, as a user would.
    g2 = tf.Graph()
    with g2.as_default(), v1.Session(graph=g2) as sess:
        saver = v1.train.import_meta_graph(prefix + ".meta")
        saver.restore(sess, prefix)
        feed2 = {"x:0": x_val, "scale:0": np.float32(1.5)}
        if resource:
            feed2["ids:0"] = ids_val
        y_restored = sess.run("output:0", feed2)
        meta = saver.export_meta_graph()
    # Run TF's own frozen graph.
    g3 = tf.Graph()
    with g3.as_default():
        tf.graph_util.import_graph_def(frozen, name="")
    with v1.Session(graph=g3) as sess:
        y_frozen = sess.run("output:0", {"x:0": x_val, "scale:0": np.float32(1.5),
                                          **({"ids:0": ids_val} if resource else {})})
    np.testing.assert_allclose(y_orig, y_restored, rtol=1e-6)
    np.testing.assert_allclose(y_orig, y_frozen, rtol=1e-6)
    sample = {"x": x_val, "scale": np.float32(1.5), "output": y_orig, "logits": logits_orig}
    if resource:
        sample["ids"] = ids_val
    np.savez(os.path.join(d, "sample.npz"), **sample)
    ckpt = tf.train.load_checkpoint(prefix)
    report[name] = {
        "graph_nodes": node_report(graph_def),
        "frozen_nodes": node_report(frozen),
        "frozen_outputs": outputs,
        "meta_collections": sorted(meta.collection_def.keys()),
        "saver_def": {
            "filename_tensor_name": meta.saver_def.filename_tensor_name,
            "restore_op_name": meta.saver_def.restore_op_name,
            "version": int(meta.saver_def.version),
        },
        "variables": variables,
        "checkpoint": {k: s for k, s in tf.train.list_variables(prefix)},
        "checkpoint_dtypes": {k: v.name for k, v in ckpt.get_variable_to_dtype_map().items()},
        "placeholders": [
            {"name": n.name, "op": n.op, "dtype": tf.as_dtype(n.attr["dtype"].type).name,
             "shape": shape_list(tf.TensorShape(n.attr["shape"].shape)) if "shape" in n.attr else None}
            for n in graph_def.node if n.op in ("Placeholder", "PlaceholderWithDefault")
        ],
        "producer": graph_def.versions.producer,
        "tensorflow_version": meta.meta_info_def.tensorflow_version,
        "frozen_constants": sorted(n.name for n in frozen.node if n.op == "Const"),
    }
    np.savez(os.path.join(d, "variable_values.npz"), **{k.replace("/", "__"): v for k, v in var_values.items()})
    samples[name] = sample


# ---------------------------------------------------------------------------
# TF1 graphs with control flow (v1 and v2) and unusual variable reads


def build_cflow(v2: bool):
    """A TF1 graph-mode model reading variables through control flow and less common ops."""
    rng = np.random.default_rng(7 if v2 else 5)
    g = tf.Graph()
    t = {}
    with g.as_default():
        init = v1.constant_initializer
        x = v1.placeholder(tf.float32, [None, 3], name="x")
        ids = v1.placeholder(tf.int32, [None], name="ids")
        flag = v1.placeholder_with_default(True, [], name="flag")
        w_ref = v1.get_variable("w_ref", initializer=init(rng.standard_normal((3, 3)).astype(np.float32)),
                                shape=[3, 3], use_resource=False)
        b_ref = v1.get_variable("b_ref", initializer=init(rng.standard_normal(3).astype(np.float32)),
                                shape=[3], use_resource=False)
        w_res = v1.get_variable("w_res", initializer=init(rng.standard_normal((3, 3)).astype(np.float32)),
                                shape=[3, 3], use_resource=True)
        emb = v1.get_variable("emb", initializer=init(rng.standard_normal((5, 3)).astype(np.float32)),
                              shape=[5, 3], use_resource=True)
        counter = v1.get_variable("counter", initializer=init(4), shape=[], dtype=tf.int64, use_resource=True)
        # cond reading both kinds of variables
        y = tf.cond(flag, lambda: tf.matmul(x, w_ref) + b_ref, lambda: tf.matmul(x, w_res) - b_ref)
        # while loop reading both kinds of variables (and a cond inside the body)
        def body(i, acc):
            inner = tf.cond(i > 0, lambda: tf.reduce_sum(w_res), lambda: tf.reduce_sum(w_ref))
            return i + 1, acc + inner * tf.cast(i, tf.float32) + tf.reduce_sum(emb)
        _, acc = tf.while_loop(lambda i, acc: i < 3, body, [tf.constant(0), tf.zeros([])])
        # an Identity chain on a resource handle, then a read
        chained = tf.raw_ops.ReadVariableOp(
            resource=tf.identity(tf.identity(emb.handle, name="emb_handle"), name="emb_handle_2"), dtype=tf.float32)
        nd = tf.gather_nd(emb, [[1], [3]], name="gather_nd")  # ResourceGatherNd
        gathered = tf.gather(emb, ids, name="gather_top")  # ResourceGather
        out = tf.identity(
            y * acc + tf.reduce_sum(chained) + tf.reduce_sum(nd) + tf.reduce_sum(gathered)
            + tf.cast(counter.read_value(), tf.float32), name="out")
        t["outputs"] = {"out": out}
        # VariableShape of a resource variable: TF's own freezing leaves it reading a Const
        t["outputs"]["shape_out"] = tf.identity(tf.raw_ops.VariableShape(input=emb.handle), name="shape_out")
        if v2:
            @tf.function
            def project(v):
                return tf.matmul(v, w_res) + tf.reduce_sum(w_ref)

            # a ResourceGather inside an If branch (TF's freezing does not rewrite it)
            in_cond = tf.cond(flag, lambda: tf.gather(emb, ids), lambda: tf.gather(emb, ids) * 2.0)
            t["outputs"]["call_out"] = tf.identity(project(x), name="call_out")
            # tf.switch_case -> Case; a cond reading only a reference variable -> StatelessIf
            case = tf.switch_case(ids[0] % 2, [lambda: tf.reduce_sum(w_res), lambda: tf.reduce_sum(emb)])
            ref_only = tf.cond(flag, lambda: b_ref * 2.0, lambda: b_ref - 1.0)
            t["outputs"]["case_out"] = tf.identity(case + ref_only, name="case_out")
            t["outputs"]["gather_in_cond"] = tf.identity(in_cond, name="gather_in_cond")
        else:
            # reads through RefSwitch / RefIdentity of a reference variable
            rs = tf.raw_ops.RefSwitch(data=w_ref._ref(), pred=flag, name="ref_switch")
            ri = tf.raw_ops.RefIdentity(input=rs[1], name="ref_identity")
            merged = tf.raw_ops.Merge(inputs=[tf.identity(rs[0]) * 2.0, tf.identity(ri) * 3.0], name="ref_merge")
            t["outputs"]["ref_out"] = tf.identity(merged[0], name="ref_out")
        t["init"] = v1.global_variables_initializer()
        t["inc"] = v1.assign_add(counter, 1, name="increment")
        t["saver"] = v1.train.Saver(save_relative_paths=True)
        t["feed"] = {x: rng.standard_normal((2, 3)).astype(np.float32), ids: np.array([0, 4, 2], np.int32)}
        t["feed_names"] = {"x": "x:0", "ids": "ids:0"}
    return g, t


def gen_cflow(name: str, v2: bool, report: dict):
    if v2:
        v1.enable_control_flow_v2()
    else:
        v1.disable_control_flow_v2()
    try:
        d = fresh(os.path.join(GRAPHS, name))
        g, t = build_cflow(v2)
        outs = sorted(t["outputs"])
        feed_np = {k: t["feed"][g.get_tensor_by_name(v)] for k, v in t["feed_names"].items()}
        with v1.Session(graph=g) as sess:
            sess.run(t["init"])
            sess.run(t["inc"])
            prefix = t["saver"].save(sess, os.path.join(d, "model.ckpt"))
            graph_def = g.as_graph_def()
            tf.io.write_graph(graph_def, d, "graph.pb", as_text=False)
            values = dict(zip(outs, sess.run([t["outputs"][k] for k in outs], t["feed"])))
            # TF's own freezing, output by output: does the frozen graph run and agree?
            tf_freeze = {}
            for k in outs:
                try:
                    fr = v1.graph_util.convert_variables_to_constants(sess, graph_def, [k])
                    g3 = tf.Graph()
                    with g3.as_default():
                        tf.graph_util.import_graph_def(fr, name="")
                    present = {n.name for n in fr.node}
                    with v1.Session(graph=g3) as s3:
                        got = s3.run(k + ":0", {v: feed_np[kk] for kk, v in t["feed_names"].items() if kk in present})
                    tf_freeze[k] = "ok" if np.allclose(got, values[k], rtol=1e-6) else "different values"
                except Exception as exc:  # noqa: BLE001 - recorded: what TF's freezing cannot do
                    tf_freeze[k] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
            frozen_outputs = [k for k in outs if tf_freeze[k] == "ok"]
            frozen = v1.graph_util.convert_variables_to_constants(sess, graph_def, frozen_outputs)
            tf.io.write_graph(frozen, d, "frozen.pb", as_text=False)
        # the original graph restored from its .meta and checkpoint computes the same
        g2 = tf.Graph()
        with g2.as_default(), v1.Session(graph=g2) as sess:
            saver = v1.train.import_meta_graph(prefix + ".meta")
            saver.restore(sess, prefix)
            restored = sess.run([k + ":0" for k in outs], {v: feed_np[kk] for kk, v in t["feed_names"].items()})
        for k, r in zip(outs, restored):
            np.testing.assert_allclose(r, values[k], rtol=1e-6)
        rep = {
            "outputs": outs,
            "tf_freeze": tf_freeze,
            "frozen_outputs": frozen_outputs,
            "graph_ops": sorted({n.op for n in graph_def.node}),
            "functions": [f.signature.name for f in graph_def.library.function],
            "frozen_nodes": node_report(frozen),
            "frozen_functions": {
                f.signature.name: {"inputs": [tf.as_dtype(a.type).name if a.type else a.type_attr
                                              for a in f.signature.input_arg],
                                   "ops": sorted({n.op for n in f.node_def})}
                for f in frozen.library.function
            },
            "variables": {v.op.name: v.op.type for v in g.get_collection(v1.GraphKeys.GLOBAL_VARIABLES)},
        }
        if not v2:
            # The pre-1.0 ``Variable`` op: same graph, every VariableV2 renamed.  TF still
            # imports it, restores it from the checkpoint and runs it.
            from tensorflow.core.protobuf import meta_graph_pb2

            meta = meta_graph_pb2.MetaGraphDef()
            with open(prefix + ".meta", "rb") as f:
                meta.ParseFromString(f.read())
            renamed = []
            for n in meta.graph_def.node:
                if n.op == "VariableV2":
                    n.op = "Variable"
                    renamed.append(n.name)
            legacy = os.path.join(d, "legacy.meta")
            with open(legacy, "wb") as f:
                f.write(meta.SerializeToString())
            g4 = tf.Graph()
            with g4.as_default(), v1.Session(graph=g4) as sess:
                saver = v1.train.import_meta_graph(legacy)
                assert sorted(op.name for op in g4.get_operations() if op.type == "Variable") == sorted(renamed)
                saver.restore(sess, prefix)
                got = sess.run([k + ":0" for k in outs], {v: feed_np[kk] for kk, v in t["feed_names"].items()})
            for k, r in zip(outs, got):
                np.testing.assert_allclose(r, values[k], rtol=1e-6)
            rep["legacy_variable_ops"] = sorted(renamed)
        np.savez(os.path.join(d, "sample.npz"), **feed_np, **values)
        report[name] = rep
    finally:
        v1.enable_control_flow_v2()


# ---------------------------------------------------------------------------
# Const nodes of every dtype, both encodings


def sample_values(dt: tf.DType, n: int):
    """n representative values for dtype dt, as a numpy array of dt's numpy type."""
    name = dt.name
    if name == "string":
        base = [b"", b"a", b"hello", b"\x00\xff", "\u00e9t\u00e9".encode(), b"x" * 200]
        return np.array([base[i % len(base)] for i in range(n)], dtype=object)
    if name == "bool":
        return np.array([(i * 7) % 3 == 0 for i in range(n)])
    if name.startswith("complex"):
        re = np.array([1.0, -3.5, 0.0, 2.25, -0.5, 8.0])[np.arange(n) % 6]
        im = np.array([2.0, 0.5, -1.0, 0.0, 4.0, -0.125])[np.arange(n) % 6]
        return (re + 1j * im).astype(dt.as_numpy_dtype)
    if dt.is_floating or name.startswith("float"):
        vals = np.array([0.0, -1.5, 2.25, 3.0, 0.5, -0.25])[np.arange(n) % 6]
        if name == "float4_e2m1fn":
            vals = np.array([0.0, -1.5, 2.0, 3.0, 0.5, -6.0])[np.arange(n) % 6]
        return vals.astype(dt.as_numpy_dtype)
    quantized = {"qint8": np.int8, "quint8": np.uint8, "qint16": np.int16, "quint16": np.uint16, "qint32": np.int32}
    if name in quantized:
        info = np.iinfo(quantized[name])
        np_type = quantized[name]
    else:
        import ml_dtypes

        info = ml_dtypes.iinfo(dt.as_numpy_dtype)
        np_type = dt.as_numpy_dtype
    lo, hi = int(info.min), int(info.max)
    vals = np.array([0, 1, -2, 3, -4, 7, 5, -1])[np.arange(n) % 8]
    vals = np.clip(vals, lo, hi)
    vals = vals.astype(object)
    if hi > 100:
        vals[min(4, n - 1)] = hi  # exercise the top of the range
    if lo < -100:
        vals[min(5, n - 1)] = lo
    return np.array(vals.tolist(), dtype=np_type)


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def typed_proto(dt: tf.DType, values: np.ndarray, shape):
    """A TensorProto carrying ``values`` in the typed *_val field, set by hand."""
    p = tf.make_tensor_proto(0, dtype=tf.int32)  # just to get the class
    p = type(p)()
    p.dtype = dt.as_datatype_enum
    for s in shape:
        p.tensor_shape.dim.add(size=s)
    name = dt.name
    flat = values.reshape(-1)
    if name == "float32":
        p.float_val.extend(flat.tolist())
    elif name == "float64":
        p.double_val.extend(flat.tolist())
    elif name in ("float16", "bfloat16"):
        p.half_val.extend(flat.view(np.uint16).astype(np.int64).tolist())
    elif name.startswith("float8") or name == "float4_e2m1fn":
        p.float8_val = flat.view(np.uint8).tobytes()
    elif name in ("int64",):
        p.int64_val.extend(flat.tolist())
    elif name == "uint32":
        p.uint32_val.extend(flat.tolist())
    elif name == "uint64":
        p.uint64_val.extend(flat.tolist())
    elif name == "bool":
        p.bool_val.extend(flat.tolist())
    elif name == "string":
        p.string_val.extend(flat.tolist())
    elif name == "complex64":
        p.scomplex_val.extend(flat.view(np.float32).tolist())
    elif name == "complex128":
        p.dcomplex_val.extend(flat.view(np.float64).tolist())
    else:  # int32 and narrower ints, quantized, int4/uint4/int2/uint2
        p.int_val.extend(flat.astype(np.int64).tolist())
    return p


def numpy_of(t: tf.Tensor):
    """A tensor's value as a plain numpy array (quantized types as their base ints)."""
    a = np.asarray(t.numpy(), dtype=object if t.dtype == tf.string else None)
    if a.dtype.names:  # quantized types come back as structured dtypes
        a = a.view(a.dtype[0])
    return a


def npz_safe(a: np.ndarray):
    """(array storable in npz, dtype name) -- ml_dtypes arrays are stored as their bits."""
    if a.dtype == object:
        return a, "object"
    if a.dtype.kind == "V" or a.dtype.name in ("bfloat16",) or a.dtype.name.startswith(("float8", "float4", "int4", "uint4", "int2", "uint2")):
        bits = {1: np.uint8, 2: np.uint16}[a.dtype.itemsize]
        return a.view(bits), a.dtype.name
    return a, a.dtype.name


def gen_consts(report: dict):
    gd = tf.compat.v1.GraphDef()
    gd.versions.producer = 1  # overwritten below
    info = {}
    values = {}
    all_types = [
        tf.float32, tf.float64, tf.int32, tf.uint8, tf.int16, tf.int8, tf.string, tf.complex64,
        tf.int64, tf.bool, tf.qint8, tf.quint8, tf.qint32, tf.bfloat16, tf.qint16, tf.quint16,
        tf.uint16, tf.complex128, tf.float16, tf.uint32, tf.uint64,
    ]
    for extra in ("float8_e5m2", "float8_e4m3fn", "float8_e4m3fnuz", "float8_e4m3b11fnuz", "float8_e5m2fnuz",
                  "int4", "uint4", "int2", "uint2", "float4_e2m1fn"):
        if hasattr(tf.dtypes.experimental, extra):
            all_types.append(getattr(tf.dtypes.experimental, extra))
    skipped = {}
    for dt in all_types:
        name = dt.name
        vals = sample_values(dt, 6).reshape(2, 3)
        cases = {}
        # 1. tensor_content: written by TF's C++ (AsProtoTensorContent, through
        #    SerializeTensor) where TF can build the tensor; quantized tensors
        #    cannot be made from Python, so their raw little-endian bytes are set here.
        quantized = {"qint8": np.int8, "quint8": np.uint8, "qint16": np.int16, "quint16": np.uint16,
                     "qint32": np.int32}
        try:
            if name in quantized:
                cp = typed_proto(dt, vals, [2, 3])
                del cp.int_val[:]
                base_np = np.dtype(quantized[name])
                cp.tensor_content = vals.astype(base_np).astype(base_np.newbyteorder("<")).tobytes()
            else:
                try:
                    ser = tf.io.serialize_tensor(tf.constant(vals, dtype=dt)).numpy()
                    cp = type(tf.make_tensor_proto(0)).FromString(ser)
                except tf.errors.NotFoundError:  # no SerializeTensor kernel for float8/int4/...
                    cp = tf.make_tensor_proto(vals, dtype=dt)
                    if not cp.tensor_content:
                        # int4/uint4/int2/uint2: one element per byte, set by hand
                        cp = typed_proto(dt, vals, [2, 3])
                        del cp.int_val[:]
                        cp.tensor_content = vals.view(np.uint8).tobytes()
            cases["content"] = cp
        except Exception as exc:  # noqa: BLE001 - recorded, not hidden
            skipped[f"{name}/content"] = f"{type(exc).__name__}: {exc}"[:200]
        if name == "string":
            # TF's own writers put strings in string_val; tensor_content for strings
            # (all lengths as varint32, then all bytes) is set by hand and decoded by TF.
            sp = typed_proto(dt, vals, [2, 3])
            del sp.string_val[:]
            flat = [bytes(v) for v in vals.reshape(-1)]
            sp.tensor_content = b"".join(varint(len(v)) for v in flat) + b"".join(flat)
            cases["content"] = sp
        # 2. the typed field, one value per element
        cases["typed"] = typed_proto(dt, vals, [2, 3])
        # 3. fill rule: two values for six elements -> the last one repeats
        cases["fill"] = typed_proto(dt, vals.reshape(-1)[:2], [2, 3])
        # 4. no values at all -> zeros (empty strings)
        cases["zeros"] = typed_proto(dt, vals.reshape(-1)[:0], [2, 2])
        # 5. a scalar
        cases["scalar"] = typed_proto(dt, vals.reshape(-1)[2:3], [])
        # 6. zero elements
        cases["empty"] = typed_proto(dt, vals.reshape(-1)[:0], [0, 3])
        for case, proto in cases.items():
            node_name = f"{name}/{case}"
            # TF's C++ decoder is the authority: parse_tensor runs Tensor::FromProto.
            try:
                decoded = numpy_of(tf.io.parse_tensor(proto.SerializeToString(), out_type=dt))
            except Exception as exc:  # noqa: BLE001
                skipped[node_name] = f"parse_tensor: {type(exc).__name__}: {exc}"[:200]
                continue
            try:
                mk = tf.make_ndarray(proto)
                if mk.dtype.names:
                    mk = mk.view(mk.dtype[0])
            except Exception as exc:  # noqa: BLE001
                mk = None
                skipped[node_name + "#make_ndarray"] = f"{type(exc).__name__}: {exc}"[:200]
            node = gd.node.add(name=node_name, op="Const")
            node.attr["dtype"].type = dt.as_datatype_enum
            node.attr["value"].tensor.CopyFrom(proto)
            stored, stored_dtype = npz_safe(decoded)
            values[node_name] = stored
            entry = {
                "dtype": name,
                "shape": list(decoded.shape),
                "encoding": "tensor_content" if proto.tensor_content else "typed",
                "stored_as": stored_dtype,
            }
            if mk is not None:
                if decoded.dtype == object:
                    same = list(decoded.reshape(-1)) == list(mk.reshape(-1))
                else:  # compare values, not bit patterns (int4 -2 may be stored as 0x0e or 0xfe)
                    as_num = (lambda a: a) if decoded.dtype.kind == "c" else (lambda a: a.astype(np.float64))
                    same = np.array_equal(as_num(decoded), as_num(mk), equal_nan=decoded.dtype.kind != "b")
                same = same and decoded.shape == mk.shape
                entry["make_ndarray_agrees"] = bool(same)
            info[node_name] = entry
    gd.versions.producer = tf.compat.v1.GraphDef().versions.producer or 2000
    path = os.path.join(GRAPHS, "consts.pb")
    with open(path, "wb") as f:
        f.write(gd.SerializeToString())
    # TF can import the graph and run every node (checks the graph is valid as a whole).
    g = tf.Graph()
    ran = {}
    with g.as_default():
        tf.graph_util.import_graph_def(gd, name="")
    with v1.Session(graph=g) as sess:
        for node_name in info:
            try:
                out = sess.run(node_name + ":0")
                if isinstance(out, np.ndarray) and out.dtype.names:
                    out = out.view(out.dtype[0])
                ran[node_name] = True
            except Exception as exc:  # noqa: BLE001
                ran[node_name] = f"{type(exc).__name__}"
    for k, v in ran.items():
        info[k]["session_run"] = v
    np.savez(os.path.join(GRAPHS, "consts_values.npz"), **{k.replace("/", "__"): v for k, v in values.items()},
             allow_pickle=True)
    dump_json({"nodes": info, "skipped": skipped}, os.path.join(GRAPHS, "consts.json"))
    report["consts"] = {"count": len(info), "skipped": sorted(skipped)}


# ---------------------------------------------------------------------------
# SavedModels


def meta_graph_report(export_dir, tags):
    from tensorflow.python.tools import saved_model_utils

    mg = saved_model_utils.get_meta_graph_def(export_dir, ",".join(tags))
    sigs = {}
    for key, sig in mg.signature_def.items():
        def ti(t):
            return {
                "name": t.name or None,
                "dtype": tf.as_dtype(t.dtype).name if t.dtype else "invalid",
                "shape": None if t.tensor_shape.unknown_rank else [
                    None if d.size < 0 else d.size for d in t.tensor_shape.dim],
            }
        sigs[key] = {
            "method_name": sig.method_name,
            "inputs": {k: ti(v) for k, v in sig.inputs.items()},
            "outputs": {k: ti(v) for k, v in sig.outputs.items()},
        }
    return {
        "tag_sets": sorted(sorted(t) for t in saved_model_utils.get_saved_model_tag_sets(export_dir)),
        "signatures": sigs,
        "nodes": [n.name for n in mg.graph_def.node],
        "ops": sorted({n.op for n in mg.graph_def.node}),
        "functions": sorted(f.signature.name for f in mg.graph_def.library.function),
        "concrete_functions": sorted(mg.object_graph_def.concrete_functions.keys()),
        "tensorflow_version": mg.meta_info_def.tensorflow_version,
        "collections": sorted(mg.collection_def.keys()),
        "assets": [a.filename for a in mg.asset_file_def],
        "object_graph_nodes": len(mg.object_graph_def.nodes),
        "saved_variables": [
            {"name": n.variable.name, "dtype": tf.as_dtype(n.variable.dtype).name,
             "shape": shape_list(tf.TensorShape(n.variable.shape)), "trainable": n.variable.trainable}
            for n in mg.object_graph_def.nodes if n.WhichOneof("kind") == "variable"
        ],
    }


def checkpoint_report(export_dir):
    """TF's view of variables/variables, and every value it holds (saved as variables.npz)."""
    prefix = os.path.join(export_dir, "variables", "variables")
    reader = tf.train.load_checkpoint(prefix)
    out = {"list_variables": {k: s for k, s in tf.train.list_variables(prefix)}}
    values = {k: reader.get_tensor(k) for k in out["list_variables"] if k != "_CHECKPOINTABLE_OBJECT_GRAPH"}
    np.savez(os.path.join(export_dir, "..", os.path.basename(export_dir) + "_variables.npz"),
             **{k.replace("/", "__"): v for k, v in values.items()})
    return out


def asset_report(export_dir, tags):
    """The asset files TF's TF1 loader would feed, keyed by tensor name (relative paths)."""
    from tensorflow.python.saved_model import loader_impl
    from tensorflow.python.tools import saved_model_utils

    mg = saved_model_utils.get_meta_graph_def(export_dir, ",".join(tags))
    assets = loader_impl.get_asset_tensors(export_dir, mg)
    return {k: os.path.relpath(v.decode() if isinstance(v, bytes) else v, export_dir) for k, v in assets.items()}


def gen_tf1_builder(report, samples):
    d = os.path.join(SAVED, "tf1_builder")
    if os.path.exists(d):
        shutil.rmtree(d)
    tmp = tempfile.mkdtemp()
    vocab = os.path.join(tmp, "vocab.txt")
    with open(vocab, "w") as f:
        f.write("apple\nbanana\ncherry\n")
    g = tf.Graph()
    with g.as_default():
        x = v1.placeholder(tf.float32, [None, 3], name="x")
        words = v1.placeholder(tf.string, [None], name="words")
        w = v1.get_variable("w", initializer=v1.constant_initializer(np.arange(6, dtype=np.float32).reshape(3, 2)),
                            shape=[3, 2], use_resource=False)
        b = v1.get_variable("b", initializer=v1.constant_initializer(0.5), shape=[2], use_resource=True)
        y = tf.identity(tf.matmul(x, w) + b, name="y")
        asset = tf.constant(vocab, name="vocab_path")
        v1.add_to_collection(v1.GraphKeys.ASSET_FILEPATHS, asset)
        table = v1.lookup.StaticHashTable(
            v1.lookup.TextFileInitializer(asset, tf.string, v1.lookup.TextFileIndex.WHOLE_LINE,
                                          tf.int64, v1.lookup.TextFileIndex.LINE_NUMBER),
            default_value=-1,
        )
        ids = tf.identity(table.lookup(words), name="ids")
        main_op = tf.group(v1.tables_initializer(), name="main_op")
        with v1.Session(graph=g) as sess:
            sess.run(v1.global_variables_initializer())
            builder = v1.saved_model.Builder(d)
            sig_serve = v1.saved_model.predict_signature_def({"x": x}, {"y": y})
            sig_lookup = v1.saved_model.predict_signature_def({"words": words}, {"ids": ids})
            builder.add_meta_graph_and_variables(
                sess, ["serve"],
                signature_def_map={"serving_default": sig_serve, "lookup": sig_lookup},
                assets_collection=v1.get_collection(v1.GraphKeys.ASSET_FILEPATHS),
                main_op=main_op,
                strip_default_attrs=True,
            )
            builder.add_meta_graph(["train", "serve"], signature_def_map={"serving_default": sig_serve},
                                   assets_collection=v1.get_collection(v1.GraphKeys.ASSET_FILEPATHS))
            builder.save()
    shutil.rmtree(tmp)
    x_val = np.arange(6, dtype=np.float32).reshape(2, 3) / 4
    g2 = tf.Graph()
    with g2.as_default(), v1.Session(graph=g2) as sess:
        mg = v1.saved_model.loader.load(sess, ["serve"], d)
        y_val, ids_val = sess.run(["y:0", "ids:0"], {"x:0": x_val, "words:0": [b"banana", b"kiwi", b"apple"]})
    samples["tf1_builder"] = {"x": x_val, "y": y_val, "words": np.array([b"banana", b"kiwi", b"apple"]), "ids": ids_val}
    rep = meta_graph_report(d, ["serve"])
    rep["checkpoint"] = checkpoint_report(d)
    rep["asset_tensors"] = asset_report(d, ["serve"])
    rep["train_serve"] = meta_graph_report(d, ["train", "serve"])["signatures"]
    report["tf1_builder"] = rep


class TwoSignatures(tf.Module):
    def __init__(self, vocab_path):
        super().__init__()
        self.w = tf.Variable([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], name="weights")
        self.b = tf.Variable([0.5, -0.5], name="bias")
        self.steps = tf.Variable(3, dtype=tf.int64, trainable=False, name="steps")
        self.vocab = tf.saved_model.Asset(vocab_path)
        self.extra = {"nested": tf.Variable(np.float16(2.5), name="half_scalar")}

    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32, name="x")])
    def predict(self, x):
        return {"y": tf.matmul(x, self.w) + self.b}

    @tf.function(input_signature=[tf.TensorSpec([], tf.float32, name="a"), tf.TensorSpec(None, tf.float32, name="b")])
    def scale(self, a, b):
        return {"product": a * b, "total": tf.reduce_sum(b) + tf.cast(self.steps, tf.float32)}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def read_vocab(self, _):
        return tf.io.read_file(self.vocab)


def gen_tf2_module(report, samples):
    d = os.path.join(SAVED, "tf2_module")
    if os.path.exists(d):
        shutil.rmtree(d)
    tmp = tempfile.mkdtemp()
    vocab = os.path.join(tmp, "labels.txt")
    with open(vocab, "w") as f:
        f.write("cat\ndog\n")
    m = TwoSignatures(vocab)
    tf.saved_model.save(m, d, signatures={"serving_default": m.predict, "scale": m.scale})
    shutil.rmtree(tmp)
    loaded = tf.saved_model.load(d)
    x_val = np.array([[1.0, 0.0, -1.0], [0.5, 0.5, 0.5]], np.float32)
    y = loaded.signatures["serving_default"](x=tf.constant(x_val))["y"].numpy()
    samples["tf2_module"] = {"x": x_val, "y": y}
    rep = meta_graph_report(d, ["serve"])
    rep["checkpoint"] = checkpoint_report(d)
    rep["asset_tensors"] = asset_report(d, ["serve"])
    rep["loaded_signatures"] = loaded_signatures(loaded)
    rep["variables_by_path"] = {
        "w": m.w.name, "b": m.b.name, "steps": m.steps.name, "extra/nested": m.extra["nested"].name,
    }
    report["tf2_module"] = rep


def loaded_signatures(loaded):
    out = {}
    for key, fn in loaded.signatures.items():
        _, kwargs = fn.structured_input_signature
        outs = fn.structured_outputs
        out[key] = {
            "inputs": {k: {"dtype": s.dtype.name, "shape": shape_list(s.shape)} for k, s in kwargs.items()},
            "outputs": {k: {"dtype": s.dtype.name, "shape": shape_list(s.shape)} for k, s in outs.items()},
        }
    return out


def gen_keras3(report, samples):
    import keras

    d = os.path.join(SAVED, "keras3_export")
    if os.path.exists(d):
        shutil.rmtree(d)
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((4,), name="features"), keras.layers.Dense(3, activation="relu", name="hidden"),
                              keras.layers.Dense(2, name="head")])
    model.export(d, verbose=False)
    loaded = tf.saved_model.load(d)
    x_val = RNG.standard_normal((2, 4)).astype(np.float32)
    sig = loaded.signatures["serving_default"]
    key = list(sig.structured_input_signature[1])[0]
    y = list(sig(**{key: tf.constant(x_val)}).values())[0].numpy()
    samples["keras3_export"] = {"x": x_val, "y": y}
    rep = meta_graph_report(d, ["serve"])
    rep["checkpoint"] = checkpoint_report(d)
    rep["asset_tensors"] = asset_report(d, ["serve"])
    rep["loaded_signatures"] = loaded_signatures(loaded)
    rep["keras_version"] = keras.__version__
    report["keras3_export"] = rep


def gen_tf_keras(report, samples):
    import tf_keras

    d = os.path.join(SAVED, "tf_keras_model")
    if os.path.exists(d):
        shutil.rmtree(d)
    tf_keras.utils.set_random_seed(2)
    model = tf_keras.Sequential([
        tf_keras.Input((3,), name="inp"),
        tf_keras.layers.Dense(2, activation="tanh", name="dense"),
        tf_keras.layers.Lambda(lambda t: t * 2.0, name="double"),
    ])
    model.compile(optimizer="sgd", loss="mse")
    model.save(d, save_format="tf", include_optimizer=False)
    loaded = tf.saved_model.load(d)
    x_val = np.array([[0.1, 0.2, 0.3]], np.float32)
    sig = loaded.signatures["serving_default"]
    key = list(sig.structured_input_signature[1])[0]
    y = list(sig(**{key: tf.constant(x_val)}).values())[0].numpy()
    samples["tf_keras_model"] = {"x": x_val, "y": y}
    from tf_keras.protobuf import saved_metadata_pb2

    meta = saved_metadata_pb2.SavedMetadata()
    with open(os.path.join(d, "keras_metadata.pb"), "rb") as f:
        meta.ParseFromString(f.read())
    rep = meta_graph_report(d, ["serve"])
    rep["checkpoint"] = checkpoint_report(d)
    rep["asset_tensors"] = asset_report(d, ["serve"])
    rep["loaded_signatures"] = loaded_signatures(loaded)
    rep["keras_metadata"] = [
        {"node_id": n.node_id, "node_path": n.node_path, "identifier": n.identifier,
         "class_name": json.loads(n.metadata).get("class_name") if n.metadata else None}
        for n in meta.nodes
    ]
    report["tf_keras_model"] = rep


class Tiny(tf.Module):
    def __init__(self):
        super().__init__()
        self.v = tf.Variable([1.0, -2.0, 3.0], name="v")

    @tf.function(input_signature=[tf.TensorSpec([3], tf.float32, name="x")])
    def __call__(self, x):
        return {"out": x * self.v}


def gen_pbtxt(report, samples):
    from tensorflow.core.protobuf import saved_model_pb2

    d = os.path.join(SAVED, "pbtxt_model")
    if os.path.exists(d):
        shutil.rmtree(d)
    m = Tiny()
    tf.saved_model.save(m, d, signatures=m.__call__.get_concrete_function())
    sm = saved_model_pb2.SavedModel()
    with open(os.path.join(d, "saved_model.pb"), "rb") as f:
        sm.ParseFromString(f.read())
    with open(os.path.join(d, "saved_model.pbtxt"), "w") as f:
        f.write(text_format.MessageToString(sm))
    os.remove(os.path.join(d, "saved_model.pb"))
    if os.path.exists(os.path.join(d, "fingerprint.pb")):
        os.remove(os.path.join(d, "fingerprint.pb"))  # it hashes the .pb, which is gone
    loaded = tf.saved_model.load(d)  # TF reads the text form
    x_val = np.array([2.0, 3.0, 4.0], np.float32)
    y = loaded.signatures["serving_default"](x=tf.constant(x_val))["out"].numpy()
    samples["pbtxt_model"] = {"x": x_val, "y": y}
    rep = meta_graph_report(d, ["serve"])
    rep["checkpoint"] = checkpoint_report(d)
    rep["asset_tensors"] = asset_report(d, ["serve"])
    rep["loaded_signatures"] = loaded_signatures(loaded)
    report["pbtxt_model"] = rep


def fingerprints(report):
    from tensorflow.core.protobuf import fingerprint_pb2

    for name in os.listdir(SAVED):
        p = os.path.join(SAVED, name, "fingerprint.pb")
        if os.path.isfile(p):
            fp = fingerprint_pb2.FingerprintDef()
            with open(p, "rb") as f:
                fp.ParseFromString(f.read())
            report[name]["fingerprint"] = {
                "saved_model_checksum": str(fp.saved_model_checksum),
                "graph_def_program_hash": str(fp.graph_def_program_hash),
                "signature_def_hash": str(fp.signature_def_hash),
                "saved_object_graph_hash": str(fp.saved_object_graph_hash),
                "checkpoint_hash": str(fp.checkpoint_hash),
                "uuid": fp.uuid,
                "producer": fp.version.producer,
            }
            # what the public API says
            try:
                report[name]["fingerprint"]["api_checksum"] = str(
                    tf.saved_model.experimental.read_fingerprint(os.path.join(SAVED, name)).saved_model_checksum)
            except Exception:  # noqa: BLE001
                pass


def gen_traced():
    """``traced_fn.pb``: the graph of a tf.function's concrete function, as people write it with
    ``tf.io.write_graph(f.get_concrete_function().graph.as_graph_def(), ...)``: no variable ops,
    the variable read through a resource placeholder, a loop counter and scalars as constants."""
    v = tf.Variable([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])

    @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.float32)])
    def f(x):
        y = tf.matmul(x, v)
        for _ in tf.range(3):
            y = y * 0.5
        return y

    g = f.get_concrete_function().graph.as_graph_def()
    tf.io.write_graph(g, GRAPHS, "traced_fn.pb", as_text=False)


def gen_warm_start():
    """``graphs/warm_start/``: a TF1 model whose variables are also restored by
    ``init_from_checkpoint`` from another checkpoint, under other keys (a = prev "b", b = prev "a",
    c = prev "old_c"), as Estimator warm starts, TF1 Hub modules and BERT's init_checkpoint do; then
    trained, saved (``new/ck``, with its .meta) and exported (``sm/``, simple_save).  TensorFlow's
    loaded values and outputs go to ``warm_start.json``."""
    v1 = tf.compat.v1
    d = os.path.join(GRAPHS, "warm_start")
    fresh(d)
    with tf.Graph().as_default(), v1.Session() as s:
        for name, value in (("a", 1.0), ("b", 2.0), ("old_c", 3.0)):
            v1.get_variable(name, [3], initializer=v1.constant_initializer(value))
        s.run(v1.global_variables_initializer())
        v1.train.Saver().save(s, os.path.join(d, "prev", "ck"), write_meta_graph=False)
    with tf.Graph().as_default(), v1.Session() as s:
        x = v1.placeholder(tf.float32, [None, 3], name="x")
        a = v1.get_variable("a", [3], initializer=v1.zeros_initializer())
        b = v1.get_variable("b", [3], initializer=v1.zeros_initializer())
        c = v1.get_variable("c", [3], initializer=v1.zeros_initializer())
        v1.train.init_from_checkpoint(os.path.join(d, "prev", "ck"), {"a": "b", "b": "a", "old_c": "c"})  # checkpoint key -> variable
        y = tf.identity(tf.reduce_sum(x * a, 1) + tf.reduce_sum(b) * 10.0 + tf.reduce_sum(c) * 100.0, name="y")
        s.run(v1.global_variables_initializer())
        s.run([a.assign_add([10.0, 20.0, 30.0]), b.assign_add([100.0, 200.0, 300.0]), c.assign_add([7.0, 8.0, 9.0])])
        v1.train.Saver().save(s, os.path.join(d, "new", "ck"))
        v1.saved_model.simple_save(s, os.path.join(d, "sm"), {"x": x}, {"y": y})
    for state in ("prev", "new"):  # the state files hold this machine's absolute paths; not needed
        os.remove(os.path.join(d, state, "checkpoint"))
    probe = np.array([[1.0, 2.0, 3.0]], np.float32)
    with tf.Graph().as_default(), v1.Session() as s:
        v1.saved_model.loader.load(s, ["serve"], os.path.join(d, "sm"))
        values = {v.op.name: s.run(v).tolist() for v in v1.global_variables()}
        out = s.run("y:0", {"x:0": probe}).tolist()
    dump_json({"variables": values, "probe": probe.tolist(), "y": out, "tensorflow_version": tf.__version__},
              os.path.join(d, "warm_start.json"))


def gen_local_variables():
    """``graphs/local_vars/sm``: a TF1 SavedModel with local variables (streaming metrics, as an
    Estimator's eval export has), which its Saver does not save and its main_op initializes; what
    TensorFlow's loader gives for every variable goes to ``local_vars.json``."""
    v1 = tf.compat.v1
    d = fresh(os.path.join(GRAPHS, "local_vars"))
    with tf.Graph().as_default(), v1.Session() as s:
        x = v1.placeholder(tf.float32, [None], name="x")
        w = v1.get_variable("w", [], initializer=v1.constant_initializer(3.0))
        mean, update = v1.metrics.mean(x * w, name="metrics/mean")
        s.run([v1.global_variables_initializer(), v1.local_variables_initializer()])
        s.run(update, {x: [1.0, 2.0]})
        b = v1.saved_model.Builder(os.path.join(d, "sm"))
        b.add_meta_graph_and_variables(
            s, ["eval"], signature_def_map={"eval": v1.saved_model.predict_signature_def({"x": x}, {"mean": mean})},
            main_op=v1.local_variables_initializer())
        b.save()
    with tf.Graph().as_default(), v1.Session() as s:
        v1.saved_model.loader.load(s, ["eval"], os.path.join(d, "sm"))
        values = {v.op.name: np.asarray(s.run(v)).tolist() for v in v1.global_variables() + v1.local_variables()}
        saved = sorted(k for k, _ in tf.train.list_variables(os.path.join(d, "sm", "variables", "variables")))
    dump_json({"variables": values, "local": sorted(set(values) - set(saved)),
               "checkpoint_keys": saved, "tensorflow_version": tf.__version__},
              os.path.join(d, "local_vars.json"))


def main():
    os.makedirs(GRAPHS, exist_ok=True)
    os.makedirs(SAVED, exist_ok=True)
    which = set(sys.argv[1:])
    graph_report, graph_samples = {}, {}
    if not which or "graphs" in which:
        gen_tf1("tf1_mlp", resource=False, report=graph_report, samples=graph_samples)
        gen_tf1("tf1_resource", resource=True, report=graph_report, samples=graph_samples)
        gen_consts(graph_report)
        graph_report["tensorflow_version"] = tf.__version__
        dump_json(graph_report, os.path.join(GRAPHS, "report.json"))
    if not which or "traced" in which:
        gen_traced()
    if not which or "warm_start" in which:
        gen_warm_start()
        gen_local_variables()
    if not which or "control_flow" in which:
        cf_report = {}
        gen_cflow("tf1_cflow_v1", v2=False, report=cf_report)
        gen_cflow("tf1_cflow_v2", v2=True, report=cf_report)
        cf_report["tensorflow_version"] = tf.__version__
        dump_json(cf_report, os.path.join(GRAPHS, "control_flow.json"))
    if not which or "saved_models" in which:
        sm_report, sm_samples = {}, {}
        gen_tf1_builder(sm_report, sm_samples)
        gen_tf2_module(sm_report, sm_samples)
        gen_keras3(sm_report, sm_samples)
        gen_tf_keras(sm_report, sm_samples)
        gen_pbtxt(sm_report, sm_samples)
        fingerprints(sm_report)
        sm_report["tensorflow_version"] = tf.__version__
        dump_json(sm_report, os.path.join(SAVED, "report.json"))
        flat = {f"{m}__{k}": v for m, vals in sm_samples.items() for k, v in vals.items()}
        np.savez(os.path.join(SAVED, "samples.npz"), **flat)


if __name__ == "__main__":
    main()
