"""Write reference bundles with real TensorFlow into tests/data/checkpoint_write/.

Run with a TensorFlow virtual environment::

    TF_CPP_MIN_LOG_LEVEL=3 python tests/generate/gen_checkpoint_write.py

The writer tests rewrite the same tensors with tfformats, in the same order,
and compare the files byte for byte with these.

- ``dtypes.*``: one ``tf.raw_ops.SaveV2`` call with one tensor per dtype
  TensorFlow can save (names in sorted order, so the data file is in name
  order), scalars, zero-size tensors and string tensors (empty, unicode,
  binary, a 300-byte string whose length needs a 2-byte varint).
- ``many.*``: 6000 float32 scalars (value i under a name starting with a hash
  of i): an index of two 256 KiB blocks, so the block boundary and the
  separator key TensorFlow chose are in the file.
- ``keras/``: a tf_keras ``Sequential`` (Dense 2->3, Dense 3->1) saved three
  times by ``tf.train.CheckpointManager(max_to_keep=2)``: ``ckpt-2``,
  ``ckpt-3`` and the ``checkpoint`` state file TensorFlow wrote (``ckpt-1``
  was deleted by the manager).
- ``expected.json`` / ``expected.npz``: what ``tf.train.load_checkpoint``
  reads back from ``dtypes`` (dtype name, shape, raw bytes or strings as
  hex), and which dtypes TensorFlow refused to save.
"""

from __future__ import annotations

import json
import os
import shutil

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

import tensorflow as tf  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "data", "checkpoint_write"))

NUMERIC = [
    "float16", "float32", "float64", "bfloat16",
    "float8_e5m2", "float8_e4m3fn", "float8_e4m3fnuz", "float8_e4m3b11fnuz", "float8_e5m2fnuz",
    "int4", "uint4", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "bool", "complex64", "complex128", "qint8", "quint8", "qint16", "quint16", "qint32",
]


def make(dtype: str, shape, rng) -> tf.Tensor:
    tfd = tf.as_dtype(dtype)
    n = int(np.prod(shape)) if shape else 1
    if dtype == "bool":
        return tf.constant(rng.integers(0, 2, n).astype(bool).reshape(shape))
    if dtype.startswith("complex"):
        v = (rng.standard_normal(n) + 1j * rng.standard_normal(n)).astype(dtype).reshape(shape)
        return tf.constant(v)
    if tfd.is_quantized:
        base = {"qint8": np.int8, "quint8": np.uint8, "qint16": np.int16, "quint16": np.uint16, "qint32": np.int32}[dtype]
        info = np.iinfo(base)
        v = rng.integers(max(info.min, -1000), min(info.max, 1000), n).astype(base).reshape(shape)
        return tf.constant(v, dtype=tfd)
    if dtype in ("int4", "uint4"):
        lo, hi = (-8, 8) if dtype == "int4" else (0, 16)
        return tf.cast(tf.constant(rng.integers(lo, hi, n).astype(np.int32).reshape(shape)), tfd)
    if dtype.endswith("fnuz"):  # TF cannot cast to these: build them in numpy (ml_dtypes)
        import ml_dtypes

        v = (rng.standard_normal(n) * 3).astype(getattr(ml_dtypes, dtype)).reshape(shape)
        return tf.constant(v, dtype=tfd)
    if tfd.is_integer:
        info = np.iinfo(tfd.as_numpy_dtype)
        v = rng.integers(info.min, info.max, n, dtype=np.int64 if info.min < 0 else np.uint64, endpoint=True)
        return tf.constant(v.astype(tfd.as_numpy_dtype).reshape(shape))
    v = (rng.standard_normal(n) * 3).astype(np.float32).reshape(shape)
    return tf.cast(tf.constant(v), tfd)


def save(prefix: str, tensors: dict) -> None:
    names = sorted(tensors)
    tf.raw_ops.SaveV2(
        prefix=prefix,
        tensor_names=names,
        shape_and_slices=[""] * len(names),
        tensors=[tensors[n] for n in names],
    )


def record(prefix: str, expected: dict, arrays: dict, tag: str) -> None:
    reader = tf.train.load_checkpoint(prefix)
    dtypes = reader.get_variable_to_dtype_map()
    shapes = reader.get_variable_to_shape_map()
    out = {}
    for i, name in enumerate(sorted(shapes)):
        value = reader.get_tensor(name)
        info = {"dtype": dtypes[name].name, "shape": list(shapes[name])}
        if dtypes[name] == tf.string:
            info["strings"] = [bytes(x).hex() for x in np.asarray(value, dtype=object).reshape(-1)]
        else:
            key = f"{tag}_{i}"
            arrays[key] = np.frombuffer(np.ascontiguousarray(value).tobytes(), np.uint8)
            info["npz"] = key
        out[name] = info
    expected[tag] = out


def main() -> None:
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    rng = np.random.default_rng(20240501)
    tensors: dict = {}
    refused = {}
    for dtype in NUMERIC:
        try:
            tensors[f"t/{dtype}"] = make(dtype, (3, 2), rng)
            tensors[f"t/{dtype}/scalar"] = make(dtype, (), rng)
            tensors[f"t/{dtype}/empty"] = make(dtype, (0, 4), rng)
            # SaveV2 refuses some dtypes only when it runs: try each alone.
            tmp = os.path.join(OUT, "probe")
            save(tmp, {"x": tensors[f"t/{dtype}"]})
        except Exception as exc:  # noqa: BLE001 - record and skip what TF refuses
            refused[dtype] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
            for suffix in ("", "/scalar", "/empty"):
                tensors.pop(f"t/{dtype}{suffix}", None)
    for f in os.listdir(OUT):
        os.remove(os.path.join(OUT, f))
    strings = [b"", b"hello", "h\u00e9llo w\u00f6rld \u4e16\u754c".encode(), bytes(range(256)), b"x" * 300, b"\x00\xff\x00"]
    tensors["s/vector"] = tf.constant(strings)
    tensors["s/matrix"] = tf.constant(np.array([[b"a", b""], [b"bc", b"\x80"]], dtype=object))
    tensors["s/scalar"] = tf.constant(b"just one")
    tensors["s/empty"] = tf.constant(np.zeros((0, 2), dtype=object).astype(bytes), dtype=tf.string)
    tensors["s/empty_strings"] = tf.constant([b"", b"", b""])
    save(os.path.join(OUT, "dtypes"), tensors)

    many = {}
    for i in range(6000):
        h = (i * 2654435761) % (1 << 32)
        name = f"{h:08x}/layer_{i % 97:03d}/" + "abcdefghij"[i % 10] * (i % 7) + "/kernel"
        many[name] = tf.constant(np.float32(i))
    save(os.path.join(OUT, "many"), many)

    import tf_keras as keras

    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.layers.Dense(3, input_shape=(2,)), keras.layers.Dense(1)])
    manager = tf.train.CheckpointManager(tf.train.Checkpoint(model=model), os.path.join(OUT, "keras"), max_to_keep=2)
    for _ in range(3):
        for v in model.variables:
            v.assign_add(tf.ones_like(v))
        manager.save()

    expected: dict = {"tensorflow": tf.__version__, "refused": refused}
    arrays: dict = {}
    record(os.path.join(OUT, "dtypes"), expected, arrays, "dtypes")
    record(os.path.join(OUT, "keras", "ckpt-3"), expected, arrays, "keras")
    np.savez_compressed(os.path.join(OUT, "expected.npz"), **arrays)
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
    print("refused:", refused)


if __name__ == "__main__":
    main()
