"""Write checkpoint fixtures with real TensorFlow into tests/data/checkpoints/.

Run with a TensorFlow virtual environment (tensorflow-cpu + tf_keras)::

    TF_CPP_MIN_LOG_LEVEL=3 python tests/generate/gen_checkpoints.py

For every checkpoint written, TensorFlow reads it back (``tf.train.load_checkpoint``,
``tf.train.list_variables``) and what it returns is stored next to the fixtures:

- ``manifest.json``: per checkpoint its path (relative to tests/data/checkpoints),
  format, ``list_variables``, ``get_variable_to_shape_map``, dtype names from
  ``get_variable_to_dtype_map``, and where each tensor's value is kept;
- ``expected/<id>.npz``: the tensors TensorFlow read, as raw bytes (numeric) or
  concatenated bytes + lengths (strings), so comparisons are bit-exact;
- for object-based checkpoints, TensorFlow's own view of the object graph
  (``tf.train.CheckpointView``) and which live Keras layer / optimizer slot each
  node is (``CheckpointView.match``);
- ``refused``: which dtypes TensorFlow refused to save, per format;
- variant tensors, which ``get_tensor`` cannot return, as TensorFlow restores
  them (``RestoreV2``) and re-encodes them: each element's serialized
  ``VariantTensorDataProto`` (see ``variant_elements``).

The generator deletes and rewrites the whole folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

import tensorflow as tf  # noqa: E402
from tensorflow.python.framework import dtypes as tf_dtypes  # noqa: E402

tf1 = tf.compat.v1

HERE = os.path.dirname(os.path.abspath(__file__))
# TFFORMATS_GEN_OUT redirects the output (for a trial run outside the repo).
OUT = os.environ.get("TFFORMATS_GEN_OUT") or os.path.normpath(os.path.join(HERE, "..", "data", "checkpoints"))
EXPECTED = os.path.join(OUT, "expected")

ALL_DTYPES = [
    "float16", "float32", "float64", "bfloat16",
    "float8_e5m2", "float8_e4m3fn", "float8_e4m3fnuz", "float8_e4m3b11fnuz", "float8_e5m2fnuz",
    "float4_e2m1fn", "int4", "uint4", "int2", "uint2",
    "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "bool", "complex64", "complex128",
    "qint8", "quint8", "qint16", "quint16", "qint32",
    "string",
]

manifest: dict = {"tensorflow": tf.__version__, "checkpoints": {}, "refused": {}}


# ---------------------------------------------------------------------------
# Recording what TensorFlow reads back
# ---------------------------------------------------------------------------
def rel(path: str) -> str:
    return os.path.relpath(path, OUT).replace(os.sep, "/")


BIG = 64 << 10  # tensors above this are kept as a SHA-256 of TF's bytes


def store_value(arrays: dict, key: str, value: np.ndarray, info: dict) -> None:
    data = np.ascontiguousarray(value).tobytes()
    info["numpy_dtype"] = str(value.dtype)
    if len(data) > BIG:
        info["kind"] = "sha256"
        info["sha256"] = hashlib.sha256(data).hexdigest()
    else:
        info["kind"] = "bytes"
        arrays[key] = np.frombuffer(data, np.uint8)


def record(cid: str, path: str, fmt: str, restored: dict | None = None, **extra) -> dict:
    """Read ``path`` with TensorFlow and store everything it returns under ``cid``.

    ``restored`` holds variable values TensorFlow restored from the checkpoint
    into a fresh graph (used where ``load_checkpoint`` cannot read a tensor).
    """
    reader = tf.train.load_checkpoint(path)
    shapes = reader.get_variable_to_shape_map()
    dtypes = {k: v.name for k, v in reader.get_variable_to_dtype_map().items()}
    listed = [[n, list(s)] for n, s in tf.train.list_variables(path)]
    arrays = {}
    tensors = {}
    for i, name in enumerate(sorted(shapes)):
        key = f"t{i}"
        info = {"dtype": dtypes[name], "shape": list(shapes[name])}
        try:
            value = reader.get_tensor(name)
        except Exception as exc:  # TF cannot read it (e.g. partitioned string variables)
            info["tf_error"] = why(exc)
            if dtypes[name] == "variant":
                restored = dict(restored or {})
                restored[name] = variant_elements(path, name)
            tensors[name] = info
            continue
        if isinstance(value, bytes):  # TF returns a string scalar as plain bytes
            value = np.array(value, dtype=object)
        value = np.asarray(value)
        if value.dtype == object:
            flat = [bytes(x) for x in value.reshape(-1)]
            arrays[key + "_lengths"] = np.array([len(x) for x in flat], np.int64)
            arrays[key + "_bytes"] = np.frombuffer(b"".join(flat), np.uint8)
            info["kind"] = "strings"
        else:
            assert list(value.shape) == info["shape"], (name, value.shape, info)
            store_value(arrays, key, value, info)
        info["npz"] = key
        tensors[name] = info
    restored_info = {}
    for i, (name, value) in enumerate(sorted((restored or {}).items())):
        key = f"r{i}"
        info = {"npz": key, "shape": list(value.shape)}
        if value.dtype == object:
            flat = [bytes(x) for x in value.reshape(-1)]
            arrays[key + "_lengths"] = np.array([len(x) for x in flat], np.int64)
            arrays[key + "_bytes"] = np.frombuffer(b"".join(flat), np.uint8)
            info["kind"] = "variant" if dtypes.get(name) == "variant" else "strings"
        else:
            store_value(arrays, key, value, info)
        restored_info[name] = info
    if restored_info:
        extra["restored"] = restored_info
    np.savez_compressed(os.path.join(EXPECTED, f"{cid}.npz"), **arrays)
    entry = {
        "path": rel(path),
        "format": fmt,
        "list_variables": listed,
        "shape_map": {k: list(v) for k, v in shapes.items()},
        "dtype_map": dtypes,
        "tensors": tensors,
    }
    entry.update(extra)
    manifest["checkpoints"][cid] = entry
    print(f"  {cid}: {len(tensors)} tensors", flush=True)
    return entry


def variant_elements(prefix: str, name: str) -> np.ndarray:
    """A variant tensor as TensorFlow restores it: an object array holding each
    element's serialized ``VariantTensorDataProto``.

    ``get_tensor`` cannot return variants ("type 21 not convertible to numpy"),
    so the tensor is restored with ``RestoreV2`` (which decodes every element
    and checks the checksums) and serialized with ``tf.io.serialize_tensor``,
    whose ``tensor_content`` holds the elements re-encoded by TensorFlow:
    varint32 lengths, then the bytes.
    """
    from tensorflow.core.framework import tensor_pb2
    from google.protobuf.internal.decoder import _DecodeVarint32

    t = tf.raw_ops.RestoreV2(prefix=prefix, tensor_names=[name], shape_and_slices=[""], dtypes=[tf.variant])[0]
    proto = tensor_pb2.TensorProto.FromString(tf.io.serialize_tensor(t).numpy())
    shape = [d.size for d in proto.tensor_shape.dim]
    n = int(np.prod(shape, dtype=np.int64))
    content, pos, lengths = proto.tensor_content, 0, []
    for _ in range(n):
        length, pos = _DecodeVarint32(content, pos)
        lengths.append(length)
    out = np.empty(n, object)
    for i, length in enumerate(lengths):
        out[i] = content[pos : pos + length]
        pos += length
    assert pos == len(content), name
    return out.reshape(shape)


# ---------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------
def interesting_values(name: str, rng: np.random.Generator) -> np.ndarray:
    """A vector of values of dtype ``name`` covering specials and random bit patterns."""
    dt = getattr(tf_dtypes, name)
    if dt.is_quantized:  # numpy sees a structured dtype; values are the base integers
        base = {"qint8": np.int8, "quint8": np.uint8, "qint16": np.int16, "quint16": np.uint16,
                "qint32": np.int32}[name]
        info = np.iinfo(base)
        vals = np.concatenate([np.array([0, 1, info.min, info.max], base),
                               rng.integers(info.min, info.max, 8, dtype=base, endpoint=True)])
        return vals
    npdt = np.dtype(dt.as_numpy_dtype)
    if name == "bool":
        return np.array([True, False, True, True, False, False], bool)
    if name in ("int4", "uint4", "int2", "uint2"):
        bits = 4 if name.endswith("4") else 2
        lo = -(1 << (bits - 1)) if name.startswith("int") else 0
        hi = lo + (1 << bits)
        return np.arange(lo, hi).astype(npdt)
    if name.startswith("float8") or name == "float4_e2m1fn":
        n = 256 if name.startswith("float8") else 16
        raw = np.arange(n, dtype=np.uint8)
        return raw.view(npdt)  # every bit pattern
    if name in ("float16", "bfloat16"):
        specials = np.array([0x0000, 0x8000, 0x0001, 0x7C00 if name == "float16" else 0x7F80,
                             0xFC00 if name == "float16" else 0xFF80, 0x7E00 if name == "float16" else 0x7FC0,
                             0x7FFF, 0xFFFF, 0x3C00 if name == "float16" else 0x3F80], np.uint16)
        return np.concatenate([specials, rng.integers(0, 1 << 16, 39, dtype=np.uint16)]).view(npdt)
    if name in ("float32", "float64", "complex64", "complex128"):
        fdt = np.float32 if name in ("float32", "complex64") else np.float64
        udt = np.uint32 if fdt is np.float32 else np.uint64
        finfo = np.finfo(fdt)
        specials = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, finfo.max, finfo.min, finfo.tiny,
                             finfo.smallest_subnormal, 1.0, -1.5, np.pi], fdt)
        nan_payload = np.array([udt(~udt(0) >> udt(1))], udt).view(fdt)  # NaN with every payload bit
        rand = rng.integers(0, np.iinfo(udt).max, 19, dtype=udt, endpoint=True).view(fdt)
        vals = np.concatenate([specials, nan_payload, rand])
        if name.startswith("complex"):
            return vals.view(npdt)  # 32 floats -> 16 complex numbers
        return vals
    if npdt.kind in "iu":
        info = np.iinfo(npdt)
        specials = np.array([0, 1, info.max, info.min, info.max - 1], dtype=npdt)
        if npdt.kind == "i":
            specials = np.concatenate([specials, np.array([-1], npdt)])
        rand = rng.integers(info.min, info.max, 18, dtype=npdt, endpoint=True)
        return np.concatenate([specials, rand])
    raise AssertionError(name)


def as_tf_tensor(name: str, values: np.ndarray):
    dt = getattr(tf_dtypes, name)
    if name == "string":
        return tf.constant(values, dtype=tf.string)
    if dt.is_quantized:
        return tf.constant(np.array(np.asarray(values).tolist(), dtype=dt.as_numpy_dtype), dtype=dt)
    return tf.constant(values, dtype=dt)


def why(exc: Exception) -> str:
    """The informative line of a TF error message."""
    lines = [ln.strip() for ln in str(exc).splitlines()]
    skip = ("Graph execution error", "Detected at node", "File ", "Node:", "[[", "Original stack")
    for ln in lines:
        if ln and not ln.startswith(skip) and not ln.endswith(("in <module>", "line")):
            if "Node:" in ln or ln.startswith("/"):
                continue
            ln = ln.split(" with these attrs")[0]  # attr order varies from run to run
            return f"{type(exc).__name__}: {ln[:240]}"
    return f"{type(exc).__name__}: {lines[0][:240] if lines else ''}"


def scalar_of(name: str, vec: np.ndarray):
    return vec.reshape(-1)[min(3, vec.size - 1)]


# ---------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------
def save_v2(prefix: str, tensors: dict) -> None:
    names = list(tensors)
    tf.raw_ops.SaveV2(prefix=prefix, tensor_names=names, shape_and_slices=[""] * len(names),
                      tensors=[tensors[n] for n in names])


def gen_dtypes() -> None:
    """Every dtype SaveV2 accepts: values, a scalar and a zero-size tensor each."""
    rng = np.random.default_rng(2)
    os.makedirs(os.path.join(OUT, "dtypes"))
    prefix = os.path.join(OUT, "dtypes", "ckpt")
    tensors = {}
    refused = {}
    for name in ALL_DTYPES:
        try:
            if name == "string":
                vec = np.array([b"", b"a", "\u00e9\u2713".encode(), b"\x00\xff\x80", b"x" * 300], object)
            else:
                vec = interesting_values(name, rng)
            if vec.size % 2 == 0:
                vec = vec.reshape(2, -1)
            trial = {
                f"{name}/values": as_tf_tensor(name, vec),
                f"{name}/scalar": as_tf_tensor(name, np.array(scalar_of(name, vec), dtype=vec.dtype)),
                f"{name}/empty": as_tf_tensor(name, np.zeros((3, 0), dtype=vec.dtype) if name != "string"
                                              else np.zeros((3, 0), object)),
            }
            save_v2(os.path.join(OUT, "dtypes", "probe"), trial)  # does TF accept it alone?
            tensors.update(trial)
        except Exception as exc:
            refused[name] = why(exc)
    for f in os.listdir(os.path.join(OUT, "dtypes")):
        if f.startswith("probe"):
            os.remove(os.path.join(OUT, "dtypes", f))
    # Variant tensors, for the record.  (A resource tensor is not tried: SaveV2
    # aborts the whole process with "Check failed: DataTypeCanUseMemcpy".)
    refused["resource"] = "process abort: tensor_bundle.cc Check failed: DataTypeCanUseMemcpy(val.dtype())"
    for label, make in (
        ("variant", lambda: tf.raw_ops.TensorListFromTensor(tensor=tf.constant([1.0, 2.0]),
                                                              element_shape=tf.constant([], tf.int32))),
    ):
        try:
            save_v2(os.path.join(OUT, "dtypes", "probe"), {label: make()})
            refused.setdefault("_accepted_extra", []).append(label)
        except Exception as exc:
            refused[label] = why(exc)
        for f in os.listdir(os.path.join(OUT, "dtypes")):
            if f.startswith("probe"):
                os.remove(os.path.join(OUT, "dtypes", f))
    manifest["refused"]["v2_SaveV2"] = refused
    save_v2(prefix, tensors)
    record("dtypes", prefix, "v2", num_shards=1)


LONG_STRINGS = {
    "empty_vector": np.zeros((0,), object),
    "empty_matrix": np.zeros((2, 0), object),
    "scalar_empty": np.array(b"", object),
    "scalar_long": np.array(bytes(range(256)) * 80, object),  # 20480 bytes: 3-byte length varint
    "mixed": np.array([
        b"",
        "h\u00e9llo w\u00f6rld \u2713 \U0001f600".encode(),
        bytes(range(256)),
        b"\x00\x00\x00",
        b"a" * 127,   # 1-byte varint
        b"b" * 128,   # 2-byte varint
        b"c" * 16383,  # 2-byte varint (largest)
        b"d" * 16384,  # 3-byte varint
        b"\xff" * 5,
    ], object),
    "matrix": np.array([[b"r0c0", b""], [b"\x00", "\u4e2d\u6587".encode()], [b"x" * 200, b"y"]], object),
}


def gen_strings() -> None:
    os.makedirs(os.path.join(OUT, "strings"))
    prefix = os.path.join(OUT, "strings", "ckpt")
    save_v2(prefix, {k: tf.constant(v, tf.string) for k, v in LONG_STRINGS.items()})
    record("strings", prefix, "v2", num_shards=1)


def gen_big() -> None:
    rng = np.random.default_rng(3)
    os.makedirs(os.path.join(OUT, "big"))
    prefix = os.path.join(OUT, "big", "ckpt")
    save_v2(prefix, {
        "embedding": tf.constant(rng.standard_normal((1024, 256)).astype(np.float32)),  # 1 MiB
        "small": tf.constant(np.arange(10, dtype=np.int16)),
        "rows_bf16": tf.constant(rng.standard_normal((300, 5)).astype(np.float32), tf.bfloat16),
        "rows_strings": tf.constant(np.array([b"row%d" % i * (i % 4) for i in range(40)], object).reshape(20, 2)),
        "rows_c128": tf.constant((rng.standard_normal((17, 3)) + 1j * rng.standard_normal((17, 3)))),
    })
    record("big", prefix, "v2", num_shards=1)


def gen_tf2_sharded() -> None:
    """TF2 size-based sharding: one variable split into slices across shards."""
    rng = np.random.default_rng(4)
    d = os.path.join(OUT, "tf2_sharded")
    os.makedirs(d)
    root = tf.train.Checkpoint()
    root.big = tf.Variable(rng.standard_normal((40, 30)).astype(np.float32))  # 4800 bytes
    root.mid = tf.Variable(np.arange(300, dtype=np.int64))  # 2400 bytes
    root.small = tf.Variable(np.float64(2.5))
    root.text = tf.Variable(tf.constant([b"alpha", b"beta", b"gamma" * 50]))
    root.half = tf.Variable(rng.standard_normal((64, 8)).astype(np.float16))
    policy = tf.train.experimental.MaxShardSizePolicy(max_shard_size=1500)
    opts = tf.train.CheckpointOptions(experimental_sharding_callback=policy)
    path = root.write(os.path.join(d, "ckpt"), options=opts)
    num = len([f for f in os.listdir(d) if ".data-" in f])
    record("tf2_sharded", path, "v2", num_shards=num)


def _device_cycle(n: int):
    """A device function putting each variable on the next of ``n`` CPUs."""
    state = {"i": 0}

    def fn(op):
        if op.type in ("VariableV2", "VarHandleOp"):
            dev = f"/cpu:{state['i'] % n}"
            state["i"] += 1
            return dev
        return op.device

    return fn


def _tf1_graph(rng, *, strings=True, v1_only=False):
    """Variables of a small TF1 graph (several devices, partitioned ones).

    Returns ``{name: variable or PartitionedVariable}``.
    """
    with tf1.device(_device_cycle(3)), _collect() as made:
        tf1.get_variable("dense/kernel", initializer=rng.standard_normal((4, 3)).astype(np.float32))
        tf1.get_variable("dense/bias", initializer=np.arange(3, dtype=np.float32))
        tf1.get_variable("counts", initializer=np.array([1, -2, 3], np.int64))
        tf1.get_variable("flags", initializer=np.array([True, False]))
        tf1.get_variable("bytes8", initializer=np.array([0, 255, 7], np.uint8))
        tf1.get_variable("small8", initializer=np.array([-128, 127], np.int8))
        tf1.get_variable("small16", initializer=np.array([-300, 300], np.int16))
        tf1.get_variable("int32", initializer=np.array([[1, 2], [3, -4]], np.int32))
        tf1.get_variable("double", initializer=np.array(np.pi))
        if not v1_only:
            tf1.get_variable("half", initializer=np.array([1.5, -2.0], np.float16))
        if strings:
            tf1.get_variable("vocab", initializer=tf.constant([b"the", b"", "\u00fc".encode(), b"x" * 200]))
        # Partitioned: each part lands on another device (another shard when sharded).
        tf1.get_variable("emb", shape=[10, 3], dtype=tf.float32,
                         initializer=tf1.random_normal_initializer(seed=int(rng.integers(1000))),
                         partitioner=tf1.fixed_size_partitioner(3))
        tf1.get_variable("emb_cols", shape=[2, 7], dtype=tf.float64,
                         initializer=tf1.random_uniform_initializer(-1, 1, seed=int(rng.integers(1000))),
                         partitioner=tf1.fixed_size_partitioner(2, axis=1))
        tf1.get_variable("ids", shape=[5], dtype=tf.int32,
                         initializer=tf1.random_uniform_initializer(-100, 100, seed=int(rng.integers(1000))),
                         partitioner=tf1.fixed_size_partitioner(2))
        if strings:
            tf1.get_variable("words", initializer=tf.constant([b"w%d" % i * (i + 1) for i in range(5)]),
                             partitioner=tf1.fixed_size_partitioner(2))
    return made


class _collect:
    """Collect every ``tf1.get_variable`` result made inside the block."""

    def __enter__(self):
        self.made = {}
        self._orig = tf1.get_variable

        def wrapped(name, *args, **kwargs):
            v = self._orig(name, *args, **kwargs)
            self.made[name] = v
            return v

        tf1.get_variable = wrapped
        return self.made

    def __exit__(self, *exc):
        tf1.get_variable = self._orig


def _restore_values(build, path: str, write_version=None) -> dict:
    """Restore ``path`` into a fresh graph built by ``build`` and fetch every variable."""
    g = tf.Graph()
    with g.as_default():
        made = build(np.random.default_rng(999))
        kwargs = {} if write_version is None else {"write_version": write_version}
        saver = tf1.train.Saver(**kwargs)
        fetch = {name: tf.convert_to_tensor(v) for name, v in made.items()}
        with _session() as s:
            saver.restore(s, path)
            out = s.run(fetch)
    result = {}
    for k, v in out.items():
        v = np.asarray(v)
        if v.dtype.names:  # quantized types come back as one-field structs
            v = v.view(v.dtype[0])
        result[k] = v
    return result


def _session():
    return tf1.Session(config=tf1.ConfigProto(device_count={"CPU": 3}))


def gen_tf1_sharded() -> None:
    """TF1 Saver(sharded=True) over 3 devices, with partitioned variables."""
    rng = np.random.default_rng(5)
    d = os.path.join(OUT, "tf1_sharded")
    os.makedirs(d)
    g = tf.Graph()
    with g.as_default():
        _tf1_graph(rng)
        saver = tf1.train.Saver(sharded=True, save_relative_paths=True)
        with _session() as s:
            s.run(tf1.global_variables_initializer())
            path = saver.save(s, os.path.join(d, "model.ckpt"), global_step=7)
    num = len([f for f in os.listdir(d) if ".data-" in f])
    restored = _restore_values(_tf1_graph, path)
    record("tf1_sharded", path, "v2", restored=restored, num_shards=num, directory=rel(d))


def gen_tf1_steps() -> None:
    """A TF1 training directory: steps 1..4 saved, max_to_keep=2, .meta files."""
    d = os.path.join(OUT, "tf1_steps")
    os.makedirs(d)
    g = tf.Graph()
    with g.as_default():
        step = tf1.train.get_or_create_global_step()
        w = tf1.get_variable("w", initializer=np.zeros((3,), np.float32))
        update = tf1.group(w.assign_add(tf.ones([3])), step.assign_add(1))
        saver = tf1.train.Saver(max_to_keep=2, save_relative_paths=True)
        paths = []
        with tf1.Session() as s:
            s.run(tf1.global_variables_initializer())
            for i in range(1, 5):
                s.run(update)
                paths.append(saver.save(s, os.path.join(d, "model.ckpt"), global_step=i))
    state = tf.train.get_checkpoint_state(d)
    with open(os.path.join(d, "checkpoint")) as f:
        state_text = f.read()
    for p in paths[-2:]:
        record(f"tf1_steps_{os.path.basename(p)}", p, "v2", num_shards=1, directory=rel(d))
    manifest["directories"] = manifest.get("directories", {})
    manifest["directories"]["tf1_steps"] = {
        "latest_checkpoint": rel(tf.train.latest_checkpoint(d)),
        "model_checkpoint_path": rel(state.model_checkpoint_path),
        "all_model_checkpoint_paths": [rel(p) for p in state.all_model_checkpoint_paths],
        "deleted": [rel(p) for p in paths[:-2]],
        "state_file_text": state_text,
    }


def _object_graph_record(path: str, ckpt, model, optimizer, legacy: bool) -> dict:
    """TensorFlow's view of the object graph, plus which live object each node is."""
    view = tf.train.CheckpointView(path)
    from tensorflow.core.protobuf import trackable_object_graph_pb2

    reader = tf.train.load_checkpoint(path)
    proto = trackable_object_graph_pb2.TrackableObjectGraph()
    proto.ParseFromString(reader.get_tensor("_CHECKPOINTABLE_OBJECT_GRAPH"))
    nodes = []
    for i, n in enumerate(proto.nodes):
        nodes.append({
            "children": [[c.local_name, c.node_id] for c in n.children],
            "attributes": [[a.name, a.full_name, a.checkpoint_key] for a in n.attributes],
            "slot_variables": [[s.original_variable_node_id, s.slot_name, s.slot_variable_node_id]
                               for s in n.slot_variables],
        })
    matched = view.match(ckpt)  # node id -> live object
    ids = {}
    for node_id, obj in matched.items():
        ids.setdefault(id(obj), node_id)
    # match() follows children only; slot variables get their node ids from the
    # same traversal the saver used.
    from tensorflow.python.checkpoint import graph_view, util

    _, _, node_ids, _, _ = util.objects_ids_and_slot_variables_and_paths(graph_view.ObjectGraphView(ckpt))
    for obj, node_id in node_ids.items():
        if id(obj) in ids:
            assert ids[id(obj)] == node_id, "node numbering differs between match() and the saver"
        ids.setdefault(id(obj), node_id)

    def node_of(obj):
        return ids.get(id(obj))

    def key_of(node_id):
        for a in proto.nodes[node_id].attributes:
            if a.name == "VARIABLE_VALUE":
                return a.checkpoint_key
        return None

    layers = []
    for layer in model.layers:
        lid = node_of(layer)
        vars_ = []
        for v in layer.weights:
            vid = node_of(v)
            vars_.append({"name": getattr(v, "path", v.name), "node": vid, "key": key_of(vid) if vid is not None else None})
        layers.append({"name": layer.name, "node": lid, "variables": vars_})
    slots = []
    if legacy:
        for v in model.trainable_weights:
            for slot_name in optimizer.get_slot_names():
                sv = optimizer.get_slot(v, slot_name)
                slots.append({"variable_key": key_of(node_of(v)), "slot": slot_name,
                              "slot_key": key_of(node_of(sv)), "optimizer_node": node_of(optimizer)})
    return {
        "nodes": nodes,
        "children_by_view": {str(i): dict(view.children(i)) for i in range(len(proto.nodes))},
        "model_node": node_of(model),
        "optimizer_node": node_of(optimizer),
        "layers": layers,
        "slots": slots,
    }


def gen_keras3() -> None:
    import keras

    d = os.path.join(OUT, "keras3")
    os.makedirs(d)
    keras.utils.set_random_seed(6)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="relu", name="hidden"),
                              keras.layers.Dense(2, name="out")])
    opt = keras.optimizers.Adam(0.01)
    x = np.random.default_rng(6).standard_normal((8, 3)).astype(np.float32)
    y = np.random.default_rng(7).standard_normal((8, 2)).astype(np.float32)
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean((model(x) - y) ** 2)
    opt.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
    ckpt = tf.train.Checkpoint(model=model, optimizer=opt)
    mgr = tf.train.CheckpointManager(ckpt, d, max_to_keep=3)
    path = mgr.save()
    og = _object_graph_record(path, ckpt, model, opt, legacy=False)
    record("keras3", path, "v2", num_shards=1, directory=rel(d), object_graph=og)


def gen_tf_keras_legacy() -> None:
    import tf_keras

    d = os.path.join(OUT, "tf_keras_legacy")
    os.makedirs(d)
    tf.random.set_seed(8)
    model = tf_keras.Sequential([tf_keras.layers.Dense(4, activation="relu", input_shape=(3,), name="hidden"),
                                 tf_keras.layers.Dense(2, name="out")])
    opt = tf_keras.optimizers.legacy.Adam(0.01)
    x = np.random.default_rng(8).standard_normal((8, 3)).astype(np.float32)
    y = np.random.default_rng(9).standard_normal((8, 2)).astype(np.float32)
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean((model(x) - y) ** 2)
    opt.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
    ckpt = tf.train.Checkpoint(model=model, optimizer=opt)
    mgr = tf.train.CheckpointManager(ckpt, d, max_to_keep=3)
    path = mgr.save()
    og = _object_graph_record(path, ckpt, model, opt, legacy=True)
    record("tf_keras_legacy", path, "v2", num_shards=1, directory=rel(d), object_graph=og)


def gen_tf2_objects() -> None:
    """TF2 objects saved through SaveableObjects rather than as variables: their
    tensors are named ``checkpoint_key + suffix``.  A tf.data iterator that
    produced a batch (``ITERATOR`` -> ``ITERATOR_STATE``, a variant vector), a
    MutableHashTable (``table`` -> ``table-keys`` / ``table-values``), a
    TensorList held in a variant variable, and a plain variable."""
    d = os.path.join(OUT, "tf2_objects")
    os.makedirs(d)
    ds = tf.data.Dataset.range(20).shuffle(6, seed=13).batch(3)
    it = iter(ds)
    next(it)
    next(it)
    table = tf.lookup.experimental.MutableHashTable(tf.string, tf.int64, default_value=-1)
    table.insert(tf.constant([b"alpha", b"", "\u00fc".encode()]), tf.constant([1, -2, 3], tf.int64))
    items = tf.raw_ops.TensorListFromTensor(tensor=tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]),
                                            element_shape=tf.constant([2], tf.int32))
    root = tf.train.Checkpoint(data=it, vocab=table, items=tf.Variable(items),
                               scale=tf.Variable(np.float32(0.5)))
    path = root.write(os.path.join(d, "ckpt"))
    # Which object wrote which tensor, as TensorFlow's saver decides it
    # (save_util.serialize_graph_view: trackable -> {tensor name: tensor}),
    # as object-graph node ids.
    from tensorflow.python.checkpoint import graph_view, save_util, util

    view = graph_view.ObjectGraphView(root)
    serialized = save_util.serialize_graph_view(view)[0]
    _, _, node_ids, _, _ = util.objects_ids_and_slot_variables_and_paths(view)
    owners = {}
    for obj, tensor_dict in serialized.items():
        obj = getattr(obj, "obj", obj)  # legacy SaveableObjects come wrapped in a converter
        for key in tensor_dict:
            owners[key] = node_ids[obj]
    record("tf2_objects", path, "v2", num_shards=1, tensor_owners=owners)


def _v1_dtype_graph(rng, accepted=None):
    """One variable per dtype (for the V1 dtype probe and fixture)."""
    made = {}
    for name in (accepted if accepted is not None else ALL_DTYPES):
        vec = (np.array([b"a", b"", "\u00e9".encode(), b"z" * 130], object) if name == "string"
               else interesting_values(name, rng))
        made[name] = tf1.get_variable(name, initializer=as_tf_tensor(name, vec), use_resource=False)
    return made


def gen_v1() -> None:
    """Legacy V1 checkpoints (SavedTensorSlices tables): every dtype TF can still
    write as V1, a training graph in one file, and the same over 3 shards."""
    refused = {}
    accepted = []
    probe_dir = os.path.join(OUT, "v1_probe")
    os.makedirs(probe_dir)
    for name in ALL_DTYPES:
        g = tf.Graph()
        with g.as_default():
            try:
                _v1_dtype_graph(np.random.default_rng(10), [name])
                saver = tf1.train.Saver(write_version=tf1.train.SaverDef.V1)
                with tf1.Session() as s:
                    s.run(tf1.global_variables_initializer())
                    saver.save(s, os.path.join(probe_dir, "p"), write_meta_graph=False, write_state=False)
                accepted.append(name)
            except Exception as exc:
                refused[name] = why(exc)
    shutil.rmtree(probe_dir)
    manifest["refused"]["v1_Saver"] = refused

    d = os.path.join(OUT, "v1_dtypes")
    os.makedirs(d)

    def build_dtypes(rng):
        return _v1_dtype_graph(np.random.default_rng(10) if rng is None else rng, accepted)

    g = tf.Graph()
    with g.as_default():
        build_dtypes(np.random.default_rng(10))
        saver = tf1.train.Saver(write_version=tf1.train.SaverDef.V1)
        with tf1.Session() as s:
            s.run(tf1.global_variables_initializer())
            path = saver.save(s, os.path.join(d, "model.ckpt"), write_meta_graph=False, write_state=False)
    record("v1_dtypes", path, "v1", restored=_restore_values(build_dtypes, path, tf1.train.SaverDef.V1),
           num_shards=1)

    def build(rng):
        return _tf1_graph(rng, v1_only=True)

    V1 = tf1.train.SaverDef.V1
    d = os.path.join(OUT, "v1_single")
    os.makedirs(d)
    g = tf.Graph()
    with g.as_default():
        build(np.random.default_rng(11))
        saver = tf1.train.Saver(write_version=V1, save_relative_paths=True)
        with _session() as s:
            s.run(tf1.global_variables_initializer())
            path = saver.save(s, os.path.join(d, "model.ckpt"), global_step=1, write_meta_graph=False)
    record("v1_single", path, "v1", restored=_restore_values(build, path, V1), num_shards=1, directory=rel(d))

    d = os.path.join(OUT, "v1_sharded")
    os.makedirs(d)
    g = tf.Graph()
    with g.as_default():
        build(np.random.default_rng(12))
        saver = tf1.train.Saver(write_version=V1, sharded=True, save_relative_paths=True)
        with _session() as s:
            s.run(tf1.global_variables_initializer())
            path = saver.save(s, os.path.join(d, "model.ckpt"), global_step=2, write_meta_graph=False)
    files = sorted(f for f in os.listdir(d) if f != "checkpoint")
    record("v1_sharded", path, "v1", restored=_restore_values(build, path, V1), num_shards=len(files),
           directory=rel(d), files=files)


def main() -> None:
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(EXPECTED)
    tf1.enable_resource_variables()
    for gen in (gen_dtypes, gen_strings, gen_big, gen_tf2_sharded, gen_tf1_sharded, gen_tf1_steps,
                gen_keras3, gen_tf_keras_legacy, gen_tf2_objects, gen_v1):
        print(gen.__name__, flush=True)
        gen()
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(dp, fn)) for dp, _, fns in os.walk(OUT) for fn in fns)
    print(f"wrote {OUT}: {total / 1e6:.2f} MB", file=sys.stderr)


if __name__ == "__main__":
    main()
