"""TFRecord fixtures written by TensorFlow, and what TensorFlow reads back.

Writes into ``tests/data/records/``:

``examples.{none,gzip,zlib}.tfrecord`` and ``examples.snappy.tfrecord``
    24 ``tf.train.Example`` records built with ``tf.train.*`` and written by
    ``tf.io.TFRecordWriter`` (SNAPPY: ``tf.data.experimental.TFRecordWriter``,
    the only TF writer that accepts it), plus three hand-encoded records TF
    never writes itself but parses: unpacked lists, a list field repeated
    inside one Feature, and a feature name given twice.
``sequence_examples.{none,gzip,zlib}.tfrecord``
    10 ``tf.train.SequenceExample`` records (0 to 4 steps).
``edge.{none,gzip,zlib}.tfrecord``
    an empty record, a one-byte record, a 1 MiB record, a short record.
``empty.{none,gzip,zlib}.tfrecord``
    writers closed without records (GZIP: a 20-byte file).

``expected.json``: for each file, the compression, the number of records and
the SHA-256 of each record as ``tf.data.TFRecordDataset`` yields them.
``expected_examples.npz``: ``tf.io.parse_single_example`` of every Example
(key ``"{i}/{feature}"``; VarLen features as their values) and
``tf.io.parse_example`` of the whole file (``"batch/{feature}"``, VarLen as
``/values`` + ``/row_lengths``).
``expected_sequences.npz``: ``tf.io.parse_single_sequence_example``
(``"{i}/context/{f}"``, ``"{i}/lists/{f}"`` dense or ``/values`` + ``/row_lengths``).
String tensors are stored without pickles, as ``KEY.bytes`` (all values
concatenated, uint8) and ``KEY.lengths`` (each value's length, in the
tensor's shape).
"""

from __future__ import annotations

import hashlib
import json
import os
import struct

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import tensorflow as tf

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(os.path.dirname(HERE), "data", "records")

COMPRESSIONS = {"none": "", "gzip": "GZIP", "zlib": "ZLIB"}


# -- Examples ------------------------------------------------------------------------
def make_examples() -> list[bytes]:
    rng = np.random.default_rng(2024)
    out = []
    for i in range(24):
        f = {
            "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[i % 5])),
            "embedding": tf.train.Feature(float_list=tf.train.FloatList(value=rng.normal(size=4).astype(np.float32))),
            "tokens": tf.train.Feature(
                int64_list=tf.train.Int64List(value=[int(x) for x in rng.integers(-1000, 1 << 40, size=i % 7)])
            ),
            "name": tf.train.Feature(bytes_list=tf.train.BytesList(value=[f"ex-{i}-é".encode() if i % 4 else b""])),
            "tags": tf.train.Feature(bytes_list=tf.train.BytesList(value=[b"t%d" % j for j in range(i % 3)])),
            "special": tf.train.Feature(float_list=tf.train.FloatList(value=[np.nan, np.inf, -0.0] if i % 2 else [-np.inf, 1e-45, 3.4e38])),
            "extremes": tf.train.Feature(int64_list=tf.train.Int64List(value=[-(1 << 63), (1 << 63) - 1, -1, 0])),
        }
        if i % 3:
            f["score"] = tf.train.Feature(float_list=tf.train.FloatList(value=[i / 8.0]))
        out.append(tf.train.Example(features=tf.train.Features(feature=f)).SerializeToString())
    return out


def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    b = bytearray()
    while n >= 0x80:
        b.append((n & 0x7F) | 0x80)
        n >>= 7
    b.append(n)
    return bytes(b)


def _ld(tag: int, payload: bytes) -> bytes:
    return bytes([tag]) + _varint(len(payload)) + payload


def _entry(name: str, feature: bytes) -> bytes:
    return _ld(0x0A, _ld(0x0A, name.encode()) + _ld(0x12, feature))


def odd_examples() -> list[bytes]:
    """Valid encodings TF's writers never produce, all of which TF parses."""
    common = (
        _entry("label", _ld(0x1A, _ld(0x0A, _varint(7))))
        + _entry("embedding", _ld(0x12, _ld(0x0A, np.arange(4, dtype="<f4").tobytes())))
        + _entry("name", _ld(0x0A, _ld(0x0A, b"odd")))
        + _entry("special", _ld(0x12, _ld(0x0A, np.array([1, 2, 3], "<f4").tobytes())))
        + _entry("extremes", _ld(0x1A, _ld(0x0A, b"".join(_varint(v) for v in (1, 2, 3, 4)))))
        + _entry("tags", _ld(0x0A, b""))
    )
    # 1. unpacked: every float as its own fixed32 field (tag 0x0d), every int as a varint field (0x08)
    unpacked = common + _entry(
        "tokens", _ld(0x1A, b"".join(b"\x08" + _varint(v) for v in (5, -6, 1 << 50)))
    ) + _entry("score", _ld(0x12, b"".join(b"\x0d" + struct.pack("<f", v) for v in (0.5,))))
    # 2. the int64_list field twice inside one Feature: protobuf merges them
    merged = common + _entry(
        "tokens", _ld(0x1A, _ld(0x0A, _varint(1) + _varint(2))) + _ld(0x1A, _ld(0x0A, _varint(3)))
    )
    # 3. the same feature name twice in the map: the last one wins
    dup = common + _entry("tokens", _ld(0x1A, _ld(0x0A, _varint(100)))) + _entry("tokens", _ld(0x1A, _ld(0x0A, _varint(200) + _varint(201))))
    return [_ld(0x0A, unpacked), _ld(0x0A, merged), _ld(0x0A, dup)]


EXAMPLE_SPEC = {
    "label": tf.io.FixedLenFeature([], tf.int64),
    "embedding": tf.io.FixedLenFeature([4], tf.float32),
    "tokens": tf.io.VarLenFeature(tf.int64),
    "name": tf.io.FixedLenFeature([], tf.string),
    "tags": tf.io.VarLenFeature(tf.string),
    "special": tf.io.FixedLenFeature([3], tf.float32),
    "extremes": tf.io.VarLenFeature(tf.int64),
    "score": tf.io.VarLenFeature(tf.float32),
}


# -- SequenceExamples -----------------------------------------------------------------
def make_sequences() -> list[bytes]:
    rng = np.random.default_rng(7)
    out = []
    for i in range(10):
        steps = i % 5
        ctx = tf.train.Features(
            feature={
                "id": tf.train.Feature(int64_list=tf.train.Int64List(value=[1000 + i])),
                "lang": tf.train.Feature(bytes_list=tf.train.BytesList(value=[[b"en", b"fr", "日本".encode()][i % 3]])),
            }
        )
        lists = {
            "frames": tf.train.FeatureList(
                feature=[tf.train.Feature(float_list=tf.train.FloatList(value=rng.normal(size=3).astype(np.float32))) for _ in range(steps)]
            ),
            "words": tf.train.FeatureList(
                feature=[tf.train.Feature(bytes_list=tf.train.BytesList(value=[b"w%d" % j for j in range((s + i) % 3)])) for s in range(steps)]
            ),
            "ids": tf.train.FeatureList(
                feature=[tf.train.Feature(int64_list=tf.train.Int64List(value=list(range(s, s + (s % 2) + 1)))) for s in range(steps)]
            ),
        }
        seq = tf.train.SequenceExample(context=ctx, feature_lists=tf.train.FeatureLists(feature_list=lists))
        out.append(seq.SerializeToString())
    return out


CONTEXT_SPEC = {"id": tf.io.FixedLenFeature([], tf.int64), "lang": tf.io.FixedLenFeature([], tf.string)}
SEQUENCE_SPEC = {
    "frames": tf.io.FixedLenSequenceFeature([3], tf.float32),
    "words": tf.io.RaggedFeature(tf.string),
    "ids": tf.io.RaggedFeature(tf.int64),
}


# -- writing and reading back -------------------------------------------------------------
def write(path: str, records: list[bytes], compression: str) -> None:
    if compression == "SNAPPY":
        ds = tf.data.Dataset.from_tensor_slices(tf.constant(records, dtype=tf.string))
        tf.data.experimental.TFRecordWriter(path, compression_type="SNAPPY").write(ds)
        return
    with tf.io.TFRecordWriter(path, tf.io.TFRecordOptions(compression_type=compression)) as w:
        for r in records:
            w.write(r)


def read_back(path: str, compression: str) -> list[bytes]:
    return [r.numpy() for r in tf.data.TFRecordDataset(path, compression_type=compression)]


def put(npz: dict, key: str, arr) -> None:
    arr = np.array(arr, dtype=object) if isinstance(arr, bytes) else np.asarray(arr)
    if arr.dtype == object:
        flat = [bytes(v) for v in arr.reshape(-1)]
        npz[key + ".bytes"] = np.frombuffer(b"".join(flat), np.uint8)
        npz[key + ".lengths"] = np.array([len(v) for v in flat], np.int64).reshape(arr.shape)
    else:
        npz[key] = arr


def dump_example_values(records: list[bytes], npz: dict) -> None:
    for i, r in enumerate(records):
        parsed = tf.io.parse_single_example(r, EXAMPLE_SPEC)
        for name, t in parsed.items():
            put(npz, f"{i}/{name}", t.values.numpy() if isinstance(t, tf.SparseTensor) else t.numpy())
    batch = tf.io.parse_example(tf.constant(records), EXAMPLE_SPEC)
    for name, t in batch.items():
        if isinstance(t, tf.SparseTensor):
            put(npz, f"batch/{name}/values", t.values.numpy())
            rows = t.indices.numpy()[:, 0]
            npz[f"batch/{name}/row_lengths"] = np.bincount(rows, minlength=len(records)).astype(np.int64)
        else:
            put(npz, f"batch/{name}", t.numpy())


def dump_sequence_values(records: list[bytes], npz: dict) -> None:
    for i, r in enumerate(records):
        ctx, lists = tf.io.parse_single_sequence_example(r, CONTEXT_SPEC, SEQUENCE_SPEC)
        for name, t in ctx.items():
            put(npz, f"{i}/context/{name}", t.numpy())
        for name, t in lists.items():
            if isinstance(t, tf.RaggedTensor):
                put(npz, f"{i}/lists/{name}/values", t.flat_values.numpy())
                npz[f"{i}/lists/{name}/row_lengths"] = t.row_lengths().numpy().astype(np.int64)
            else:
                put(npz, f"{i}/lists/{name}", t.numpy())


def main() -> None:
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        os.remove(os.path.join(OUT, f))
    examples = make_examples() + odd_examples()
    sequences = make_sequences()
    pattern = (np.arange(1 << 20, dtype=np.int64) * 7919 % 251).astype(np.uint8).tobytes()
    edge = [b"", b"\x00", pattern, b"tail"]
    sets = {
        "examples": (examples, ["none", "gzip", "zlib", "snappy"]),
        "sequence_examples": (sequences, ["none", "gzip", "zlib"]),
        "edge": (edge, ["none", "gzip", "zlib"]),
        "empty": ([], ["none", "gzip", "zlib"]),
    }
    expected = {"tensorflow": tf.__version__, "files": {}}
    for stem, (records, comps) in sets.items():
        for c in comps:
            comp = COMPRESSIONS.get(c, c.upper())
            name = f"{stem}.{c}.tfrecord"
            path = os.path.join(OUT, name)
            write(path, records, comp)
            got = read_back(path, comp)
            assert got == records, name
            expected["files"][name] = {
                "compression": comp or "NONE",
                "records": len(got),
                "sha256": [hashlib.sha256(r).hexdigest() for r in got],
                "lengths": [len(r) for r in got],
                "size": os.path.getsize(path),
            }
    npz: dict = {}
    dump_example_values(examples, npz)
    np.savez(os.path.join(OUT, "expected_examples.npz"), **npz)
    npz = {}
    dump_sequence_values(sequences, npz)
    np.savez(os.path.join(OUT, "expected_sequences.npz"), **npz)
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"wrote {len(os.listdir(OUT))} files, {total / 1e6:.2f} MB, into {OUT}")


if __name__ == "__main__":
    main()
