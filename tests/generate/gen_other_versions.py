"""Fixtures written by OLDER TensorFlow releases, with what that TensorFlow reads back.

Every other generator here runs with the TensorFlow the project is developed
against (2.21).  This one is meant to be run with older releases, to catch
format differences between versions.  The committed fixtures under
``tests/data/tf_versions/<version>/`` were produced by:

* ``1.15.0``: tensorflow-cpu 1.15.0 (graph mode; tensorboard 1.15.0, numpy
  1.21.6, protobuf 3.20.3), Python 3.7.16;
* ``2.4.4``: tensorflow-cpu 2.4.4 (tf.keras = Keras 2.4.0 inside TF,
  tensorboard 2.11.2, numpy 1.19.5, protobuf 3.20.3), Python 3.8.18;
* ``2.12.1``: tensorflow-cpu 2.12.1 (tf.keras = Keras 2.12.0, numpy 1.24.3,
  tensorboard 2.12.3), Python 3.11;
* ``2.15.1``: tensorflow-cpu 2.15.1 (tf.keras = Keras 2.15.0, the last
  release whose built-in tf.keras is Keras 2), Python 3.11.

(``manifest.json`` of each folder records the exact versions.)  To regenerate
one, in a virtualenv with only that TensorFlow (never tfformats: the
generator must not depend on the code under test); the generator keeps to
Python 3.7 syntax for the 1.15 environment::

    /root/.pyenv/versions/3.7.16/bin/python3.7 -m venv /work/venvs/tf115
    /work/venvs/tf115/bin/pip install -q tensorflow-cpu==1.15.0 "protobuf<3.21"
    TF_CPP_MIN_LOG_LEVEL=3 /work/venvs/tf115/bin/python tests/generate/gen_other_versions.py

    /root/.pyenv/versions/3.8.18/bin/python3.8 -m venv /work/venvs/tf24
    /work/venvs/tf24/bin/pip install -q tensorflow-cpu==2.4.4
    TF_CPP_MIN_LOG_LEVEL=3 /work/venvs/tf24/bin/python tests/generate/gen_other_versions.py

    python3.11 -m venv /work/venvs/tf212
    /work/venvs/tf212/bin/pip install -q tensorflow-cpu==2.12.1
    TF_CPP_MIN_LOG_LEVEL=3 /work/venvs/tf212/bin/python tests/generate/gen_other_versions.py

    python3.11 -m venv /work/venvs/tf215
    /work/venvs/tf215/bin/pip install -q tensorflow-cpu==2.15.1
    TF_CPP_MIN_LOG_LEVEL=3 /work/venvs/tf215/bin/python tests/generate/gen_other_versions.py

Each run replaces only ``tests/data/tf_versions/<its version>/`` (set
``TFFORMATS_GEN_OUT`` to write elsewhere).  Run by ``run_all.py`` with
TensorFlow >= 2.16 it does nothing (``tf.keras`` is Keras 3 there, and the main
fixtures already cover that TensorFlow); pass ``--force`` to write
``tests/data/tf_versions/<that version>/`` anyway, with ``TF_USE_LEGACY_KERAS=1``
and tf_keras installed so that ``tf.keras`` is Keras 2 (tried with 2.21.0 before
this generator covered 1.15 and 2.4, not since: the tests passed on its output;
it is not committed).

Each version folder holds (all small; which folder has which part is checked by
``test_sections_by_version``):

``tf1_saver/``        a TF1 graph-mode model (reference and resource variables, a
                      variable partitioned in 3, a string variable) saved by
                      ``tf.compat.v1.train.Saver`` at steps 1..3 with ``max_to_keep=2``:
                      V2 bundles, ``.meta`` files, the ``checkpoint`` state file;
                      ``graph.pbtxt`` (``tf.io.write_graph`` as text) and ``frozen.pb``
                      (``convert_variables_to_constants`` v1 of output ``output``).
                      (TF 1.15 keeps its default of reference variables; 2.x runs
                      with ``enable_resource_variables()``, as before.)

Releases before 2.12 (1.15.0, 2.4.4) also write the TF1-API extras:

``tf1_saver_v1/``     the same model saved by ``Saver(write_version=V1)``: one
                      SavedTensorSlices table per step (``model.ckpt-3``), ``.meta``,
                      state file.
``tf1_sharded/v1``, ``tf1_sharded/v2``  variables on two CPU devices (``device_count``
                      2; float32, int32, string, float16, a float64 variable
                      partitioned in 2) saved by ``Saver(sharded=True)``: V1 as
                      ``model.ckpt-7-0000i-of-00002`` tables, V2 as one index with two
                      data shards.  TF's checkpoint reader refuses float16 and sliced
                      tensors in V1 files; those expected values are what
                      ``Saver.restore`` from the ``.meta`` gave (marked ``restored``).
``builder_saved_model/``  ``tf.compat.v1.saved_model.Builder``: meta graphs tagged
                      ``serve`` and ``train``, signatures ``serving_default`` and
                      ``lookup`` (predict) and ``classify`` (classification, on
                      serialized Examples), a vocabulary asset (a ``StaticHashTable``
                      from a text file; in the ``saved_model_assets`` collection),
                      ``main_op`` = the tables initializer; outputs and variables as
                      ``tf.saved_model.loader.load`` gives them (the build-time vocab
                      file is deleted first, so the lookup read ``assets/``).

Only TF 2.x writes (``TF1`` below is False):

``keras_ckpt/``       ``tf.train.Checkpoint(model=, optimizer=)`` of a tf.keras (Keras 2)
                      Sequential model after one Adam step (CheckpointManager); before
                      2.11 Adam is the OptimizerV2 whose slot variables are recorded.
``keras_legacy_ckpt/``  the same with ``tf.keras.optimizers.legacy.Adam`` (TF >= 2.11).
``keras_saved_model/``  ``model.save(dir, save_format="tf")`` of a compiled, fitted
                      Keras 2 model (optimizer included; ``keras_metadata.pb`` from TF
                      2.5 on; TF 2.4 keeps that JSON in the SavedUserObjects only,
                      recorded as ``user_object_metadata``).
``module_saved_model/`` ``tf.saved_model.save`` of a tf.Module with two signatures.
``frozen_fn/``        ``convert_variables_to_constants_v2`` of a tf.function as
                      ``frozen.pb`` and ``frozen.pbtxt`` (``tf.io.write_graph``).

Every version:

``records/``          8 ``tf.train.Example`` records, uncompressed and GZIP (TF 1.15:
                      read back by ``tf_record_iterator``, parsed in a session).
``events/tf2``        (2.x) a ``tf.summary`` writer: scalars, histograms, images, text.
``events/tf1``        a ``tf.compat.v1.summary.FileWriter``: graph, merged summaries
                      (scalar, histogram, image; before 2.12 also text, and a traced
                      step's ``add_run_metadata``), session logs.

``manifest.json`` is what that TensorFlow reported about each of them (checkpoint
listings, dtypes, object graphs, meta graphs, signatures, frozen nodes, records'
SHA-256 and parsed features, events), and ``expected.npz`` the values TensorFlow
read (keys named in the manifest; strings as ``KEY.bytes`` + ``KEY.lengths``).
The events' ``tensorboard`` entries are the installed TensorBoard's
``data_compat.migrate_value`` (TensorBoard 1.15 keeps empty outer histogram buckets
that 2.x drops).  Nothing in them is written by hand.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import platform
import shutil
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import tensorflow as tf

v1 = tf.compat.v1
TF1 = tf.__version__.startswith("1.")  # graph mode only: no eager, no tf.keras parts
MAJOR_MINOR = tuple(int(x) for x in tf.__version__.split(".")[:2])
# Releases before 2.12 also write the TF1-API extras (V1 and sharded Saver checkpoints,
# a SavedModelBuilder model, text and run metadata in the FileWriter's events); the
# 2.12.1 and 2.15.1 folders were written before these existed.
EXTRAS = MAJOR_MINOR < (2, 12)
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.environ.get("TFFORMATS_GEN_OUT") or os.path.normpath(os.path.join(HERE, "..", "data", "tf_versions"))
OUT = os.path.join(ROOT, tf.__version__)

ARRAYS: dict = {}
_counter = [0]


def put(value) -> str:
    """Store a value TensorFlow returned in expected.npz; return its key."""
    key = f"a{_counter[0]}"
    _counter[0] += 1
    if isinstance(value, bytes):
        value = np.array(value, dtype=object)
    arr = np.asarray(value)
    if arr.dtype == object or arr.dtype.kind in "SU":
        flat = [x.encode() if isinstance(x, str) else bytes(x) for x in arr.reshape(-1)]
        ARRAYS[key + ".bytes"] = np.frombuffer(b"".join(flat), np.uint8)
        ARRAYS[key + ".lengths"] = np.array([len(x) for x in flat], np.int64).reshape(arr.shape)
    else:
        ARRAYS[key] = arr.copy()  # (ascontiguousarray would make a scalar 1-d)
    return key


def rel(path) -> str:
    if isinstance(path, bytes):
        path = path.decode()
    return os.path.relpath(path, OUT).replace(os.sep, "/")


def sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def shape_list(shape):
    shape = tf.TensorShape(shape)
    return None if shape.rank is None else list(shape.as_list())


def why(exc: Exception) -> str:
    line = next((ln.strip() for ln in str(exc).splitlines() if ln.strip()), "")
    return f"{type(exc).__name__}: {line[:200]}"


def total_size(path: str) -> int:
    return sum(os.path.getsize(os.path.join(r, n)) for r, _, ns in os.walk(path) for n in ns)


# ---------------------------------------------------------------------------
# Checkpoints: what tf.train.load_checkpoint / list_variables report
# ---------------------------------------------------------------------------
def checkpoint_report(prefix: str, restored: dict | None = None) -> dict:
    reader = tf.train.load_checkpoint(prefix)
    shapes = reader.get_variable_to_shape_map()
    dtypes = {k: v.name for k, v in reader.get_variable_to_dtype_map().items()}
    tensors = {}
    for name in sorted(shapes):
        info = {"dtype": dtypes[name], "shape": list(shapes[name])}
        if name == "_CHECKPOINTABLE_OBJECT_GRAPH":
            info["sha256"] = sha(reader.get_tensor(name))
        else:
            try:
                info["npz"] = put(reader.get_tensor(name))
            except Exception as exc:  # e.g. partitioned string variables
                info["tf_error"] = why(exc)
                if restored and name in restored:
                    info["npz"] = put(restored[name])
                    info["restored"] = True
        tensors[name] = info
    rep = {
        "prefix": rel(prefix),
        "list_variables": [[n, list(s)] for n, s in tf.train.list_variables(prefix)],
        "tensors": tensors,
        "data_files": sorted(f for f in os.listdir(os.path.dirname(prefix))
                             if f.startswith(os.path.basename(prefix) + ".data-")),
    }
    if not os.path.exists(prefix + ".index"):  # a V1 checkpoint: one table file, or shards
        import glob

        rep["format"] = "V1"
        rep["files"] = sorted(os.path.basename(f) for f in glob.glob(prefix) if not f.endswith(".meta"))
    return rep


def object_graph_report(prefix: str, ckpt, model, optimizer) -> dict:
    from tensorflow.core.protobuf import trackable_object_graph_pb2
    try:
        from tensorflow.python.checkpoint import graph_view, util
    except ImportError:  # TF < 2.10
        from tensorflow.python.training.tracking import graph_view, util

    proto = trackable_object_graph_pb2.TrackableObjectGraph()
    proto.ParseFromString(tf.train.load_checkpoint(prefix).get_tensor("_CHECKPOINTABLE_OBJECT_GRAPH"))
    nodes = [{
        "children": [[c.local_name, c.node_id] for c in n.children],
        "attributes": [[a.name, a.full_name, a.checkpoint_key] for a in n.attributes],
        "slot_variables": [[s.original_variable_node_id, s.slot_name, s.slot_variable_node_id]
                           for s in n.slot_variables],
    } for n in proto.nodes]
    # the saver's own numbering of the live objects
    if hasattr(util, "objects_ids_and_slot_variables_and_paths"):
        _, _, node_ids, _, _ = util.objects_ids_and_slot_variables_and_paths(graph_view.ObjectGraphView(ckpt))
    else:  # TF < 2.10
        _, node_ids, _ = graph_view.ObjectGraphView(ckpt).objects_ids_and_slot_variables()
    ids = {id(obj): i for obj, i in node_ids.items()}

    def key_of(node_id):
        return next((a.checkpoint_key for a in proto.nodes[node_id].attributes if a.name == "VARIABLE_VALUE"), None)

    layers = []
    for layer in model.layers:
        layers.append({
            "name": layer.name,
            "node": ids.get(id(layer)),
            "variables": [{"name": v.name, "node": ids.get(id(v)), "key": key_of(ids[id(v)])} for v in layer.weights],
        })
    return {
        "nodes": nodes,
        "model_node": ids.get(id(model)),
        "optimizer_node": ids.get(id(optimizer)),
        "layers": layers,
    }


# ---------------------------------------------------------------------------
# TF1 graph-mode Saver checkpoints, .meta, write_graph, v1 freezing
# ---------------------------------------------------------------------------
def build_tf1(rng):
    x = v1.placeholder(tf.float32, [None, 4], name="x")
    ids = v1.placeholder(tf.int32, [None], name="ids")
    with v1.variable_scope("dense"):
        kernel = v1.get_variable("kernel", initializer=rng.standard_normal((4, 3)).astype(np.float32),
                                 use_resource=False)
        bias = v1.get_variable("bias", initializer=np.arange(3, dtype=np.float32) / 10, use_resource=True)
    emb = v1.get_variable("emb", shape=[7, 3], dtype=tf.float32, use_resource=False,
                          initializer=v1.random_normal_initializer(seed=int(rng.integers(1000))),
                          partitioner=v1.fixed_size_partitioner(3))
    counts = v1.get_variable("counts", initializer=np.array([1, -2, 3], np.int64), use_resource=False)
    vocab = v1.get_variable("vocab", initializer=tf.constant([b"alpha", b"", "\u00fc".encode()]), use_resource=False)
    step = v1.train.get_or_create_global_step()
    looked = tf.reduce_sum(tf.nn.embedding_lookup(emb, ids), axis=0)
    logits = tf.add(tf.matmul(x, kernel) + bias, looked, name="logits")
    out = tf.nn.softmax(logits, name="output")
    update = tf.group(kernel.assign_add(tf.fill([4, 3], 0.5)), bias.assign_add(tf.ones([3])),
                      counts.assign_add(tf.constant([1, 1, 1], tf.int64)), step.assign_add(1), name="train")
    return {"x": x, "ids": ids, "out": out, "update": update}


def gen_tf1_saver(manifest: dict, name: str = "tf1_saver", write_version=None) -> None:
    """``write_version`` None: the Saver's default (V2), with graph.pbtxt and frozen.pb;
    else a Saver writing that format (V1: one SavedTensorSlices table per step)."""
    d = os.path.join(OUT, name)
    os.makedirs(d)
    v2 = write_version is None
    g = tf.Graph()
    with g.as_default():
        t = build_tf1(np.random.default_rng(1))
        if v2:
            saver = v1.train.Saver(max_to_keep=2, save_relative_paths=True)
        else:
            saver = v1.train.Saver(max_to_keep=2, save_relative_paths=True, write_version=write_version)
        paths = []
        with v1.Session(graph=g) as sess:
            sess.run(v1.global_variables_initializer())
            for i in range(1, 4):
                sess.run(t["update"])
                paths.append(saver.save(sess, os.path.join(d, "model.ckpt"), global_step=i))
            graph_def = g.as_graph_def()
            if v2:
                tf.io.write_graph(graph_def, d, "graph.pbtxt", as_text=True)
                frozen = v1.graph_util.convert_variables_to_constants(sess, graph_def, ["output"])
                tf.io.write_graph(frozen, d, "frozen.pb", as_text=False)
            variables = [{"name": v.op.name, "op": v.op.type, "dtype": v.dtype.base_dtype.name,
                          "shape": shape_list(v.shape)} for v in v1.global_variables()]
            # partitioned variables assembled, as TF restores them (get_tensor may refuse strings)
            assembled = {}
            for v in v1.global_variables():
                base = v.op.name.split("/part_")[0]
                assembled.setdefault(base, []).append(v)
    # Values restored into a fresh graph from the last .meta, as a user would.
    restored, x_val, ids_val, y = restore_from_meta(paths[-1])
    # (and from the one before: its values, for what TF's checkpoint reader refuses to return)
    restored_before = restore_from_meta(paths[-2])[0]
    state = tf.train.get_checkpoint_state(d)
    with open(os.path.join(d, "checkpoint")) as f:
        state_text = f.read()
    from tensorflow.core.protobuf import meta_graph_pb2

    mg = meta_graph_pb2.MetaGraphDef()
    with open(paths[-1] + ".meta", "rb") as f:
        mg.ParseFromString(f.read())
    rep = {
        "latest_checkpoint": rel(tf.train.latest_checkpoint(d)),
        "model_checkpoint_path": rel(os.path.join(d, state.model_checkpoint_path)),
        "all_model_checkpoint_paths": [rel(os.path.join(d, p)) for p in state.all_model_checkpoint_paths],
        "deleted": [rel(p) for p in paths[:-2]],
        "state_file_text": state_text,
        "checkpoints": {os.path.basename(p): checkpoint_report(p, restored if p == paths[-1] else restored_before)
                        for p in paths[-2:]},
        "restored": {k: put(v) for k, v in sorted(restored.items())},
        "variables": variables,
        "partitioned": {k: [v.op.name for v in vs] for k, vs in assembled.items() if len(vs) > 1},
        "meta": {
            "path": rel(paths[-1] + ".meta"),
            "nodes": [n.name for n in mg.graph_def.node],
            "ops": sorted({n.op for n in mg.graph_def.node}),
            "collections": sorted(mg.collection_def),
            "saver_def": {
                "filename_tensor_name": mg.saver_def.filename_tensor_name,
                "save_tensor_name": mg.saver_def.save_tensor_name,
                "restore_op_name": mg.saver_def.restore_op_name,
                "max_to_keep": mg.saver_def.max_to_keep,
                "sharded": mg.saver_def.sharded,
                "version": int(mg.saver_def.version),
            },
            "tensorflow_version": mg.meta_info_def.tensorflow_version,
            "tensorflow_git_version": mg.meta_info_def.tensorflow_git_version,
            "producer": mg.graph_def.versions.producer,
            "stripped_ops": sorted(op.name for op in mg.meta_info_def.stripped_op_list.op),
        },
        "sample": {"x": put(x_val), "ids": put(ids_val), "output": put(y)},
    }
    if v2:
        rep["graph_pbtxt"] = graph_report(graph_def, os.path.join(d, "graph.pbtxt"))
        rep["frozen"] = graph_report(frozen, os.path.join(d, "frozen.pb"))
        rep["frozen_outputs"] = ["output"]
    else:
        rep["write_version"] = int(write_version)
    manifest[name] = rep


def restore_from_meta(prefix: str, config=None, meta: str | None = None):
    """import_meta_graph + restore in a fresh graph: every variable's value
    (partitioned ones concatenated) and the output on a sample input."""
    g2 = tf.Graph()
    with g2.as_default(), v1.Session(graph=g2, config=config) as sess:
        saver2 = v1.train.import_meta_graph(meta or prefix + ".meta")
        saver2.restore(sess, prefix)
        restored = {}
        for v in v1.global_variables():
            base = v.op.name.split("/part_")[0]
            restored.setdefault(base, []).append(sess.run(v))
        restored = {k: (np.concatenate(vs) if len(vs) > 1 else vs[0]) for k, vs in restored.items()}
        x_val = np.arange(8, dtype=np.float32).reshape(2, 4) / 8
        ids_val = np.array([0, 6, 3], np.int32)
        y = None
        if any(op.name == "output" for op in g2.get_operations()):
            y = sess.run("output:0", {"x:0": x_val, "ids:0": ids_val})
    return restored, x_val, ids_val, y


def gen_tf1_sharded(manifest: dict) -> None:
    """Variables on two CPU devices saved by ``Saver(sharded=True)``: V1 as
    ``PREFIX-0000i-of-00002`` tables, V2 as one index with two data shards."""
    from tensorflow.core.protobuf import saver_pb2

    d = os.path.join(OUT, "tf1_sharded")
    config = v1.ConfigProto(device_count={"CPU": 2})
    g = tf.Graph()
    with g.as_default():
        with tf.device("/cpu:0"):
            v1.get_variable("a", initializer=np.arange(6, dtype=np.float32).reshape(2, 3), use_resource=False)
            v1.get_variable("names", initializer=tf.constant([b"x", b"yy", b""]), use_resource=False)
        with tf.device("/cpu:1"):
            v1.get_variable("b", initializer=np.array([[1, -2], [3, 4]], np.int32), use_resource=False)
            v1.get_variable("p", shape=[5, 2], dtype=tf.float64, use_resource=False,
                            initializer=v1.random_normal_initializer(seed=3),
                            partitioner=v1.fixed_size_partitioner(2))
            v1.get_variable("h", initializer=np.array([0.5, -1.25], np.float16), use_resource=False)
        savers = {fmt: v1.train.Saver(sharded=True, write_version=version, save_relative_paths=True)
                  for fmt, version in (("v1", saver_pb2.SaverDef.V1), ("v2", saver_pb2.SaverDef.V2))}
        devices = sorted({v.device for v in v1.global_variables()})
        for fmt in savers:
            os.makedirs(os.path.join(d, fmt))
        with v1.Session(graph=g, config=config) as sess:
            sess.run(v1.global_variables_initializer())
            paths = {fmt: s.save(sess, os.path.join(d, fmt, "model.ckpt"), global_step=7) for fmt, s in savers.items()}
    rep = {"devices": devices}
    import re

    for fmt, prefix in paths.items():
        meta = re.sub(r"-\?{5}-of-\d{5}$", "", prefix) + ".meta"  # (V1 shards: save() returns the pattern)
        restored, _, _, _ = restore_from_meta(prefix, config, meta)
        rep[fmt] = {
            "saved_path": rel(prefix),
            "latest_checkpoint": rel(tf.train.latest_checkpoint(os.path.dirname(prefix))),
            "checkpoint": checkpoint_report(prefix, restored),
            "restored": {k: put(v) for k, v in sorted(restored.items())},
            "meta": rel(meta),
            "files": sorted(os.listdir(os.path.dirname(prefix))),
        }
    manifest["tf1_sharded"] = rep


# ---------------------------------------------------------------------------
# A TF1 SavedModel by SavedModelBuilder: signature_def_map, an asset, main_op
# ---------------------------------------------------------------------------
def gen_builder_saved_model(manifest: dict) -> None:
    from tensorflow.python.tools import saved_model_utils

    d = os.path.join(OUT, "builder_saved_model")
    import tempfile

    tmp = tempfile.mkdtemp(prefix="gen_other_versions_")  # (its path stays in the graph, as in users' models)
    vocab = os.path.join(tmp, "vocab.txt")
    with open(vocab, "w") as f:
        f.write("apple\nbanana\ncherry\n")
    tags = [v1.saved_model.tag_constants.SERVING]
    sdu = v1.saved_model.signature_def_utils
    g = tf.Graph()
    with g.as_default():
        rng = np.random.default_rng(11)
        x = v1.placeholder(tf.float32, [None, 3], name="x")
        words = v1.placeholder(tf.string, [None], name="words")
        examples = v1.placeholder(tf.string, [None], name="tf_example")
        w = v1.get_variable("w", initializer=rng.standard_normal((3, 2)).astype(np.float32), use_resource=False)
        b = v1.get_variable("b", initializer=np.array([0.5, -0.5], np.float32), use_resource=True)
        counter = v1.get_variable("counter", initializer=np.int64(5), use_resource=False, trainable=False)
        table = tf.lookup.StaticHashTable(
            tf.lookup.TextFileInitializer(vocab, tf.string, tf.lookup.TextFileIndex.WHOLE_LINE,
                                          tf.int64, tf.lookup.TextFileIndex.LINE_NUMBER), -1)
        y = tf.add(tf.matmul(x, w), b, name="y")
        ids = tf.identity(table.lookup(words), name="ids")
        feats = v1.io.parse_example(examples, {"x": v1.io.FixedLenFeature([3], tf.float32)})
        scores = tf.nn.softmax(tf.matmul(feats["x"], w) + b, name="scores")
        classes = tf.gather(tf.constant([b"neg", b"pos"]), tf.argmax(scores, axis=1), name="classes")
        train_op = tf.group(counter.assign_add(1), name="train_step")
        v1.add_to_collection(v1.GraphKeys.TRAIN_OP, train_op)  # (as Estimator's train graphs keep it)
        asset_paths = v1.get_collection(v1.GraphKeys.ASSET_FILEPATHS)
        sig_map = {
            "serving_default": sdu.predict_signature_def({"x": x}, {"y": y}),
            "lookup": sdu.predict_signature_def({"words": words}, {"ids": ids}),
            "classify": sdu.classification_signature_def(examples, classes, scores),
        }
        builder = v1.saved_model.Builder(d)
        with v1.Session(graph=g) as sess:
            sess.run([v1.global_variables_initializer(), v1.tables_initializer()])
            builder.add_meta_graph_and_variables(sess, tags, signature_def_map=sig_map,
                                                 assets_collection=v1.get_collection(v1.GraphKeys.ASSET_FILEPATHS),
                                                 main_op=v1.tables_initializer(), strip_default_attrs=True)
            builder.add_meta_graph([v1.saved_model.tag_constants.TRAINING], strip_default_attrs=True)
        builder.save()
    shutil.rmtree(tmp)
    sm = saved_model_utils.read_saved_model(d)

    def ti(t):
        return {"name": t.name or None, "dtype": tf.as_dtype(t.dtype).name,
                "shape": None if t.tensor_shape.unknown_rank else [None if d.size < 0 else d.size for d in t.tensor_shape.dim]}

    meta_graphs = []
    for mg in sm.meta_graphs:
        assets = []
        for any_msg in mg.collection_def["saved_model_assets"].any_list.value if "saved_model_assets" in mg.collection_def else []:
            from tensorflow.core.protobuf import meta_graph_pb2

            a = meta_graph_pb2.AssetFileDef()
            any_msg.Unpack(a)
            assets.append({"filename": a.filename, "tensor_name": a.tensor_info.name})
        meta_graphs.append({
            "tags": sorted(mg.meta_info_def.tags),
            "tensorflow_version": mg.meta_info_def.tensorflow_version,
            "signatures": {k: {"method_name": s.method_name, "inputs": {n: ti(v) for n, v in s.inputs.items()},
                               "outputs": {n: ti(v) for n, v in s.outputs.items()}} for k, s in mg.signature_def.items()},
            "collections": sorted(mg.collection_def),
            "asset_file_def": [{"filename": a.filename, "tensor_name": a.tensor_info.name} for a in mg.asset_file_def],
            "assets_collection": assets,
            "main_op": list(mg.collection_def["saved_model_main_op"].node_list.value)
            if "saved_model_main_op" in mg.collection_def else [],
            "train_op": list(mg.collection_def["train_op"].node_list.value) if "train_op" in mg.collection_def else [],
            "variable_nodes": sorted(n.name for n in mg.graph_def.node if n.op in ("VariableV2", "VarHandleOp")),
            "object_graph_nodes": len(mg.object_graph_def.nodes),
        })
    # the model as tf.saved_model.loader loads it
    x_val = np.array([[1.0, 0.0, -1.0], [0.5, 0.5, 0.5]], np.float32)
    words_val = np.array([b"banana", b"kiwi", b"apple"], object)
    ex_val = np.array([tf.train.Example(features=tf.train.Features(feature={"x": tf.train.Feature(
        float_list=tf.train.FloatList(value=list(row)))})).SerializeToString() for row in x_val], object)
    g2 = tf.Graph()
    with g2.as_default(), v1.Session(graph=g2) as sess:
        loaded = v1.saved_model.loader.load(sess, tags, d)
        sigs = loaded.signature_def
        got = {}
        for key, feed in (("serving_default", {"x": x_val}), ("lookup", {"words": words_val}),
                          ("classify", {"inputs": ex_val})):
            s = sigs[key]
            outs = sess.run({k: v.name for k, v in s.outputs.items()},
                            {s.inputs[k].name: val for k, val in feed.items()})
            got[key] = {k: put(v) for k, v in sorted(outs.items())}
        values = {v.op.name: put(sess.run(v)) for v in v1.global_variables()}
    rep = {
        "path": rel(d),
        "files": sorted(os.listdir(d)),
        "assets_dir": sorted(os.listdir(os.path.join(d, "assets"))),
        "asset_sha256": {n: sha(open(os.path.join(d, "assets", n), "rb").read())
                         for n in os.listdir(os.path.join(d, "assets"))},
        "asset_collection_at_build": [t.name for t in asset_paths],
        "tag_sets": sorted(sorted(t) for t in saved_model_utils.get_saved_model_tag_sets(d)),
        "meta_graphs": meta_graphs,
        "checkpoint": checkpoint_report(os.path.join(d, "variables", "variables")),
        "variables": values,
        "sample": {"x": put(x_val), "words": put(words_val), "examples": put(ex_val), "outputs": got},
    }
    manifest["builder_saved_model"] = rep


def graph_report(graph_def, path: str) -> dict:
    """Nodes, placeholders and every Const's value (tf.make_ndarray) of a GraphDef."""
    consts = {}
    for n in graph_def.node:
        if n.op == "Const":
            arr = tf.make_ndarray(n.attr["value"].tensor)
            consts[n.name] = {"dtype": tf.as_dtype(n.attr["dtype"].type).name, "shape": list(arr.shape),
                              "npz": put(arr)}
    return {
        "path": rel(path),
        "nodes": [{"name": n.name, "op": n.op, "inputs": list(n.input)} for n in graph_def.node],
        "placeholders": [
            {"name": n.name, "dtype": tf.as_dtype(n.attr["dtype"].type).name,
             "shape": shape_list(tf.TensorShape(n.attr["shape"].shape)) if "shape" in n.attr else None}
            for n in graph_def.node if n.op == "Placeholder"
        ],
        "constants": consts,
        "producer": graph_def.versions.producer,
        "functions": sorted(f.signature.name for f in graph_def.library.function),
    }


# ---------------------------------------------------------------------------
# TF2 object checkpoints of tf.keras (Keras 2) models
# ---------------------------------------------------------------------------
def keras_model(seed: int):
    if hasattr(tf.keras.utils, "set_random_seed"):
        tf.keras.utils.set_random_seed(seed)
    else:  # TF < 2.7
        np.random.seed(seed)
        tf.random.set_seed(seed)
    return tf.keras.Sequential([
        tf.keras.layers.Dense(4, activation="relu", input_shape=(3,), name="hidden"),
        tf.keras.layers.Dense(2, name="out"),
    ])


def gen_keras_ckpt(manifest: dict, name: str, legacy: bool) -> None:
    d = os.path.join(OUT, name)
    os.makedirs(d)
    model = keras_model(6)
    opt = tf.keras.optimizers.legacy.Adam(0.01) if legacy else tf.keras.optimizers.Adam(0.01)
    x = np.random.default_rng(6).standard_normal((8, 3)).astype(np.float32)
    y = np.random.default_rng(7).standard_normal((8, 2)).astype(np.float32)
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean((model(x) - y) ** 2)
    opt.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
    ckpt = tf.train.Checkpoint(model=model, optimizer=opt)
    mgr = tf.train.CheckpointManager(ckpt, d, max_to_keep=3)
    path = mgr.save()
    rep = checkpoint_report(path)
    rep["object_graph"] = object_graph_report(path, ckpt, model, opt)
    rep["optimizer_class"] = type(opt).__module__ + "." + type(opt).__name__
    rep["latest_checkpoint"] = rel(tf.train.latest_checkpoint(d))
    if legacy or hasattr(opt, "get_slot_names"):  # (TF < 2.11: Adam is the OptimizerV2 with slots)
        rep["slots"] = [
            {"variable": v.name, "slot": s, "slot_variable": opt.get_slot(v, s).name}
            for v in model.trainable_weights for s in opt.get_slot_names()
        ]
    manifest[name] = rep


# ---------------------------------------------------------------------------
# SavedModels
# ---------------------------------------------------------------------------
def saved_model_report(export_dir: str, loaded) -> dict:
    from tensorflow.python.tools import saved_model_utils

    mg = saved_model_utils.get_meta_graph_def(export_dir, "serve")

    def ti(t):
        return {
            "name": t.name or None,
            "dtype": tf.as_dtype(t.dtype).name if t.dtype else "invalid",
            "shape": None if t.tensor_shape.unknown_rank else [None if d.size < 0 else d.size for d in t.tensor_shape.dim],
        }

    sigs = {k: {"method_name": s.method_name, "inputs": {n: ti(v) for n, v in s.inputs.items()},
                "outputs": {n: ti(v) for n, v in s.outputs.items()}} for k, s in mg.signature_def.items()}
    loaded_sigs = {}
    for key, fn in loaded.signatures.items():
        _, kwargs = fn.structured_input_signature
        loaded_sigs[key] = {
            "inputs": {k: {"dtype": s.dtype.name, "shape": shape_list(s.shape)} for k, s in kwargs.items()},
            "outputs": {k: {"dtype": s.dtype.name, "shape": shape_list(s.shape)} for k, s in fn.structured_outputs.items()},
        }
    rep = {
        "path": rel(export_dir),
        "tag_sets": sorted(sorted(t) for t in saved_model_utils.get_saved_model_tag_sets(export_dir)),
        "signatures": sigs,
        "loaded_signatures": loaded_sigs,
        "tensorflow_version": mg.meta_info_def.tensorflow_version,
        "functions": sorted(f.signature.name for f in mg.graph_def.library.function),
        "concrete_functions": sorted(mg.object_graph_def.concrete_functions.keys()),
        "object_graph_nodes": len(mg.object_graph_def.nodes),
        "saved_variables": [
            {"name": n.variable.name, "dtype": tf.as_dtype(n.variable.dtype).name,
             "shape": shape_list(tf.TensorShape(n.variable.shape)), "trainable": n.variable.trainable}
            for n in mg.object_graph_def.nodes if n.WhichOneof("kind") == "variable"
        ],
        "checkpoint": checkpoint_report(os.path.join(export_dir, "variables", "variables")),
        # (an empty assets/ folder is removed: git would not keep it anyway)
        "files": sorted(f for f in os.listdir(export_dir)
                        if not (os.path.isdir(os.path.join(export_dir, f)) and not os.listdir(os.path.join(export_dir, f)))),
    }
    fp_path = os.path.join(export_dir, "fingerprint.pb")
    if os.path.isfile(fp_path):
        from tensorflow.core.protobuf import fingerprint_pb2

        fp = fingerprint_pb2.FingerprintDef()
        with open(fp_path, "rb") as f:
            fp.ParseFromString(f.read())
        rep["fingerprint"] = {k: str(getattr(fp, k)) for k in (
            "saved_model_checksum", "graph_def_program_hash", "signature_def_hash", "saved_object_graph_hash",
            "checkpoint_hash")}
        rep["fingerprint"]["producer"] = fp.version.producer
    return rep


def gen_keras_saved_model(manifest: dict) -> None:
    d = os.path.join(OUT, "keras_saved_model")
    model = keras_model(2)
    model.compile(optimizer="adam", loss="mse")
    x = np.random.default_rng(2).standard_normal((16, 3)).astype(np.float32)
    y = np.random.default_rng(3).standard_normal((16, 2)).astype(np.float32)
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    model.save(d, save_format="tf")
    loaded = tf.saved_model.load(d)
    sig = loaded.signatures["serving_default"]
    key = list(sig.structured_input_signature[1])[0]
    out = sig(**{key: tf.constant(x[:2])})
    rep = saved_model_report(d, loaded)
    rep["sample"] = {"input_key": key, "x": put(x[:2]), "outputs": {k: put(v.numpy()) for k, v in out.items()}}
    # keras_metadata.pb (TF >= 2.5), parsed with Keras' own proto
    if os.path.isfile(os.path.join(d, "keras_metadata.pb")):
        try:
            from keras.protobuf import saved_metadata_pb2
        except ImportError:  # older layouts
            from tensorflow.python.keras.protobuf import saved_metadata_pb2
        meta = saved_metadata_pb2.SavedMetadata()
        with open(os.path.join(d, "keras_metadata.pb"), "rb") as f:
            meta.ParseFromString(f.read())
        rep["keras_metadata"] = [
            {"node_id": n.node_id, "node_path": n.node_path, "identifier": n.identifier,
             "version": {"producer": n.version.producer, "min_consumer": n.version.min_consumer},
             "class_name": json.loads(n.metadata).get("class_name") if n.metadata else None}
            for n in meta.nodes
        ]
    else:  # older TF: the same JSON is each SavedUserObject's metadata in saved_model.pb
        from tensorflow.python.tools import saved_model_utils

        mg = saved_model_utils.get_meta_graph_def(d, "serve")
        rep["keras_metadata"] = None
        rep["user_object_metadata"] = [
            {"node_id": i, "identifier": n.user_object.identifier,
             "class_name": json.loads(n.user_object.metadata).get("class_name")}
            for i, n in enumerate(mg.object_graph_def.nodes)
            if n.WhichOneof("kind") == "user_object" and n.user_object.metadata
        ]
    rep["model_variables"] = [{"name": v.name, "npz": put(v.numpy())} for v in model.variables]
    manifest["keras_saved_model"] = rep


class Scaler(tf.Module):
    def __init__(self):
        super().__init__()
        self.w = tf.Variable([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], name="weights")
        self.b = tf.Variable([0.5, -0.5], name="bias")
        self.steps = tf.Variable(3, dtype=tf.int64, trainable=False, name="steps")
        self.extra = {"nested": tf.Variable(np.float16(2.5), name="half_scalar")}

    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32, name="x")])
    def predict(self, x):
        return {"y": tf.matmul(x, self.w) + self.b}

    @tf.function(input_signature=[tf.TensorSpec([], tf.float32, name="a"), tf.TensorSpec(None, tf.float32, name="b")])
    def scale(self, a, b):
        return {"product": a * b, "total": tf.reduce_sum(b) + tf.cast(self.steps, tf.float32)}


def gen_module_saved_model(manifest: dict) -> None:
    d = os.path.join(OUT, "module_saved_model")
    m = Scaler()
    tf.saved_model.save(m, d, signatures={"serving_default": m.predict, "scale": m.scale})
    loaded = tf.saved_model.load(d)
    x = np.array([[1.0, 0.0, -1.0], [0.5, 0.5, 0.5]], np.float32)
    rep = saved_model_report(d, loaded)
    rep["sample"] = {"x": put(x), "y": put(loaded.signatures["serving_default"](x=tf.constant(x))["y"].numpy())}
    rep["variables_by_path"] = {"w": m.w.name, "b": m.b.name, "steps": m.steps.name,
                                "extra/nested": m.extra["nested"].name}
    manifest["module_saved_model"] = rep


# ---------------------------------------------------------------------------
# A tf.function frozen by convert_variables_to_constants_v2
# ---------------------------------------------------------------------------
def gen_frozen_fn(manifest: dict) -> None:
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    d = os.path.join(OUT, "frozen_fn")
    os.makedirs(d)
    w = tf.Variable(np.random.default_rng(4).standard_normal((3, 2)).astype(np.float32), name="w")
    table = tf.Variable(np.array([[1, 2], [3, 4], [5, 6]], np.int32), name="table")
    names = tf.constant([b"zero", b"one", "\u00e9".encode()], name="names")

    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32, name="x"),
                                  tf.TensorSpec([None], tf.int32, name="idx")])
    def fn(x, idx):
        return {"scores": tf.nn.relu(tf.matmul(x, w)),
                "rows": tf.gather(table, idx),
                "labels": tf.gather(names, idx)}

    concrete = fn.get_concrete_function()
    frozen_fn = convert_variables_to_constants_v2(concrete)
    gd = frozen_fn.graph.as_graph_def()
    tf.io.write_graph(gd, d, "frozen.pb", as_text=False)
    tf.io.write_graph(gd, d, "frozen.pbtxt", as_text=True)
    rep = graph_report(gd, os.path.join(d, "frozen.pb"))
    rep["pbtxt"] = rel(os.path.join(d, "frozen.pbtxt"))
    rep["inputs"] = [t.name for t in frozen_fn.inputs]
    rep["outputs"] = [t.name for t in frozen_fn.outputs]
    rep["variables"] = {"w": put(w.numpy()), "table": put(table.numpy())}
    manifest["frozen_fn"] = rep


# ---------------------------------------------------------------------------
# TFRecords of Examples
# ---------------------------------------------------------------------------
FEATURES = {
    "label": tf.int64, "weights": tf.float32, "tokens": tf.int64, "name": tf.string, "tags": tf.string,
}


def gen_records(manifest: dict) -> None:
    d = os.path.join(OUT, "records")
    os.makedirs(d)
    rng = np.random.default_rng(8)
    examples = []
    for i in range(8):
        f = {
            "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[i % 3])),
            "weights": tf.train.Feature(float_list=tf.train.FloatList(value=rng.standard_normal(3).astype(np.float32))),
            "tokens": tf.train.Feature(int64_list=tf.train.Int64List(
                value=[int(v) for v in rng.integers(-(1 << 40), 1 << 40, size=i % 4)])),
            "name": tf.train.Feature(bytes_list=tf.train.BytesList(value=[f"ex-{i}-\u00e9".encode()])),
        }
        if i % 2:
            f["tags"] = tf.train.Feature(bytes_list=tf.train.BytesList(value=[b"t%d" % j for j in range(i % 4)]))
        examples.append(tf.train.Example(features=tf.train.Features(feature=f)).SerializeToString())
    files = {}
    for label, comp in (("none", ""), ("gzip", "GZIP")):
        path = os.path.join(d, f"examples.{label}.tfrecord")
        with tf.io.TFRecordWriter(path, options=tf.io.TFRecordOptions(compression_type=comp)) as w:
            for e in examples:
                w.write(e)
        spec = {k: tf.io.VarLenFeature(t) for k, t in FEATURES.items()}
        parsed = []
        if TF1:  # graph mode: the TF1 reader, and parse_single_example run in a session
            read = list(v1.io.tf_record_iterator(path, options=v1.io.TFRecordOptions(compression_type=comp)))
            g = tf.Graph()
            with g.as_default(), v1.Session(graph=g) as sess:
                s = v1.placeholder(tf.string, [])
                ex = v1.io.parse_single_example(s, spec)
                for r in read:
                    vals = sess.run(ex, {s: r})
                    parsed.append({k: {"dtype": ex[k].dtype.name, "npz": put(vals[k].values)} for k in ex})
        else:
            read = [r.numpy() for r in tf.data.TFRecordDataset(path, compression_type=comp)]
            for r in read:
                ex = tf.io.parse_single_example(r, spec)
                parsed.append({k: {"dtype": v.dtype.name, "npz": put(v.values.numpy())} for k, v in ex.items()})
        files[label] = {
            "path": rel(path), "compression": comp, "count": len(read),
            "sha256": [sha(r) for r in read], "parsed": parsed, "size": os.path.getsize(path),
        }
    manifest["records"] = {"files": files, "feature_dtypes": {k: t.name for k, t in FEATURES.items()}}


# ---------------------------------------------------------------------------
# Event files
# ---------------------------------------------------------------------------
def gen_tf2_events(logdir: str) -> None:
    rng = np.random.default_rng(5)
    w = tf.summary.create_file_writer(logdir)
    with w.as_default():
        for step in range(3):
            tf.summary.scalar("loss", 1.0 / (step + 1), step=step)
            tf.summary.histogram("weights", rng.normal(size=50) + step, step=step, buckets=5)
        tf.summary.scalar("accuracy", 0.75, step=2, description="share of right answers")
        tf.summary.image("images", (rng.random((2, 4, 3, 3)) * 255).astype(np.uint8), step=0, max_outputs=2)
        tf.summary.text("notes", "hello **world**", step=0)
    w.flush()
    w.close()


def gen_tf1_events(logdir: str, extras: bool = False) -> None:
    g = tf.Graph()
    with g.as_default():
        x = v1.placeholder(tf.float32, [None, 3], name="x")
        y = tf.reduce_sum(x * 2.0, name="y")
        v1.summary.scalar("loss", y)
        v1.summary.histogram("activations", x)
        v1.summary.image("picture", tf.reshape(tf.cast(tf.range(12), tf.float32) / 12.0, [1, 2, 2, 3]), max_outputs=1)
        if extras:
            v1.summary.text("notes", tf.constant("TF1 **text**"))
        merged = v1.summary.merge_all()
        fw = v1.summary.FileWriter(logdir, graph=g)
        SL = v1.SessionLog
        fw.add_session_log(SL(status=SL.START), global_step=0)
        with v1.Session(graph=g) as sess:
            for step in range(3):
                feed = {x: np.arange(6, dtype=np.float32).reshape(2, 3) * (step + 1)}
                if extras and step == 1:  # a traced step, as TensorBoard's profiler view read them
                    md = v1.RunMetadata()
                    s = sess.run(merged, feed, options=v1.RunOptions(trace_level=v1.RunOptions.SOFTWARE_TRACE),
                                 run_metadata=md)
                    fw.add_run_metadata(md, "step1", step)
                else:
                    s = sess.run(merged, feed)
                fw.add_summary(s, step)
        fw.add_session_log(SL(status=SL.CHECKPOINT, checkpoint_path="/tmp/model.ckpt-3", msg="saved"), 3)
        fw.add_session_log(SL(status=SL.STOP), 4)
        fw.close()


def describe_value(v) -> dict:
    d: dict = {"tag": v.tag, "kind": v.WhichOneof("value")}
    if v.HasField("metadata"):
        m = v.metadata
        d["metadata"] = {"plugin_name": m.plugin_data.plugin_name,
                         "content_b64": base64.b64encode(m.plugin_data.content).decode(),
                         "description": m.summary_description}
    k = d["kind"]
    if k == "simple_value":
        d["simple_value"] = v.simple_value
    elif k == "histo":
        h = v.histo
        d["histo"] = {"min": h.min, "max": h.max, "num": h.num, "sum": h.sum, "sum_squares": h.sum_squares,
                      "bucket_limit": list(h.bucket_limit), "bucket": list(h.bucket)}
    elif k == "image":
        im = v.image
        d["image"] = {"height": im.height, "width": im.width, "colorspace": im.colorspace,
                      "sha256": sha(im.encoded_image_string)}
    elif k == "tensor":
        arr = tf.make_ndarray(v.tensor)
        d["tensor"] = {"dtype": tf.as_dtype(v.tensor.dtype).name, "shape": list(arr.shape), "npz": put(arr)}
    from tensorboard import data_compat

    mig = data_compat.migrate_value(v)
    if mig.WhichOneof("value") == "tensor":
        arr = tf.make_ndarray(mig.tensor)
        d["tensorboard"] = {"plugin_name": mig.metadata.plugin_data.plugin_name,
                            "dtype": tf.as_dtype(mig.tensor.dtype).name, "shape": list(arr.shape), "npz": put(arr)}
    return d


def describe_file(path: str) -> list:
    events = []
    for ev in v1.train.summary_iterator(path):
        d: dict = {"wall_time": ev.wall_time, "step": ev.step, "what": ev.WhichOneof("what")}
        w = d["what"]
        if w == "file_version":
            d["file_version"] = ev.file_version
        elif w == "graph_def":
            d["graph_def"] = {"sha256": sha(ev.graph_def), "size": len(ev.graph_def)}
        elif w == "session_log":
            sl = ev.session_log
            d["session_log"] = {"status": v1.SessionLog.SessionStatus.Name(sl.status),
                                "checkpoint_path": sl.checkpoint_path, "msg": sl.msg}
        elif w == "summary":
            d["values"] = [describe_value(v) for v in ev.summary.value]
        elif w == "tagged_run_metadata":
            d["tagged_run_metadata"] = {"tag": ev.tagged_run_metadata.tag,
                                        "sha256": sha(ev.tagged_run_metadata.run_metadata)}
        events.append(d)
    return events


def gen_events(manifest: dict) -> None:
    d = os.path.join(OUT, "events")
    if not TF1:
        gen_tf2_events(os.path.join(d, "tf2"))
    gen_tf1_events(os.path.join(d, "tf1"), extras=EXTRAS)
    files = {}
    for root, _, names in os.walk(d):
        for name in sorted(names):
            if "tfevents" in name:
                p = os.path.join(root, name)
                files[rel(p)] = describe_file(p)
    manifest["events"] = {"files": dict(sorted(files.items()))}


# ---------------------------------------------------------------------------
def keras_version() -> str:
    try:
        return tf.keras.__version__
    except AttributeError:  # TF 2.13+: tf.keras is the separate keras package
        import keras

        return keras.__version__


def main() -> None:
    if MAJOR_MINOR >= (2, 16) and "--force" not in sys.argv[1:]:
        print(f"gen_other_versions: TensorFlow {tf.__version__} is not an older release; nothing written "
              "(run it with an older TensorFlow, or pass --force)")
        return
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    if not TF1:  # (TF1 keeps its own default: reference variables unless asked)
        v1.enable_resource_variables()
    import google.protobuf
    import tensorboard

    manifest: dict = {
        "tensorflow": tf.__version__,
        "tensorflow_git_version": tf.__git_version__,
        "keras": keras_version(),
        "numpy": np.__version__,
        "protobuf": google.protobuf.__version__,
        "tensorboard": tensorboard.__version__,
        "python": platform.python_version(),
    }
    gen_tf1_saver(manifest)
    if EXTRAS:
        from tensorflow.core.protobuf import saver_pb2

        gen_tf1_saver(manifest, "tf1_saver_v1", write_version=saver_pb2.SaverDef.V1)
        gen_tf1_sharded(manifest)
        gen_builder_saved_model(manifest)
    if not TF1:
        gen_keras_ckpt(manifest, "keras_ckpt", legacy=False)
        if hasattr(tf.keras.optimizers, "legacy"):  # TF >= 2.11
            gen_keras_ckpt(manifest, "keras_legacy_ckpt", legacy=True)
        gen_keras_saved_model(manifest)
        gen_module_saved_model(manifest)
        gen_frozen_fn(manifest)
    gen_records(manifest)
    gen_events(manifest)
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")
    np.savez_compressed(os.path.join(OUT, "expected.npz"), **ARRAYS)
    for root, dirs, files in os.walk(OUT, topdown=False):
        if not dirs and not files:
            os.rmdir(root)
    print(f"wrote {OUT}: {total_size(OUT) / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
