"""Datasets tf.data writes to disk, for tests/test_dataset.py (needs TensorFlow).

Writes into tests/data/datasets/ one folder per case, written by TensorFlow itself:

* ``save_plain``, ``save_gzip``, ``save_snappy``: ``Dataset.save`` of a dict dataset (int64 scalar,
  float32 vector, string) uncompressed, GZIP and SNAPPY;
* ``save_nested``: tuples, a named tuple, dicts in dicts; bool, uint8 images, float16,
  bfloat16, float64, complex64, string matrices, a component of varying length;
* ``save_ragged`` (ragged rank 1 and 2, int and string values) and ``save_sparse``;
* ``save_shards``: a ``shard_func`` spreading elements over 3 shards;
* ``save_empty``: zero elements; ``save_batched``: a batched dataset (``batch(4)``, last batch short);
* ``save_unfinished``: what a ``save`` that failed after starting leaves (metadata, not finalized);
* ``snapshot_auto``, ``snapshot_none``, ``snapshot_sharded``: ``Dataset.snapshot`` with its
  default (AUTO = SNAPPY) compression and enumerate-index, none, and a ``shard_func``;
* ``legacy_none``, ``legacy_gzip``, ``legacy_snappy``: the first snapshot op (file format 1,
  ``tf.raw_ops.SnapshotDataset``, still in TensorFlow).

``expected.json`` gives, per case, TensorFlow's reading: the element count, the element spec as
TensorFlow prints it, each element's structure, and the kind of each leaf; ``expected.npz`` the leaf
values (``<case>/<element>/<leaf>/<part>``: ``value`` for dense leaves, ``values`` +
``splits<i>`` for ragged, ``indices``/``values``/``dense_shape`` for sparse).  TensorFlow reads
``Dataset.save`` folders with ``Dataset.load`` (its default reader on the generating machine:
``cycle_length`` = ``cpu_count``, recorded in ``manifest``), and snapshots by running the same
pipeline again over the finished snapshot.  ``save_shards`` is also read one shard at a time
(``reader_func`` = ``flat_map`` of each shard) and with ``cycle_length=2``.

The builders are shared with ``tests_tf/test_dataset_differential.py``, which writes fresh copies
and compares again.

Older releases: the same script runs with TensorFlow 2.4 (Python 3.8) to 2.21, and
``TFFORMATS_GEN_OUT`` chooses the output folder (default ``tests/data/datasets``; the committed
older-release sets are ``tests/data/tf_versions/<version>/datasets``, see README.md).  Where
``Dataset.save``/``load``/``snapshot`` are missing it uses ``tf.data.experimental.save``,
``tf.data.experimental.load`` (given the pipeline's ``element_spec``, which TF 2.4 requires) and ``ds.apply(tf.data.experimental.snapshot(...))``.  A case the release cannot write
(no ``checkpoint_args``, no legacy op...) is left out, with the reason under ``skipped`` in
``expected.json`` (the key is absent when nothing was skipped).  ``manifest`` records the
TensorFlow, Python and numpy versions.  The script keeps to Python 3.8 syntax.
"""

from __future__ import annotations

import collections
import inspect
import json
import multiprocessing
import os
import shutil
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# TFFORMATS_GEN_OUT chooses the output folder (older releases write tests/data/tf_versions/<version>/datasets).
OUT = os.environ.get("TFFORMATS_GEN_OUT") or os.path.join(ROOT, "tests", "data", "datasets")

Point = collections.namedtuple("Point", ["x", "y"])


def _tf():
    import tensorflow as tf

    return tf


# -- datasets -----------------------------------------------------------------


def ds_plain():
    tf = _tf()
    rng = np.random.default_rng(5)
    return tf.data.Dataset.from_tensor_slices(
        {
            "id": np.arange(12, dtype=np.int64),
            "vec": rng.standard_normal((12, 3)).astype(np.float32),
            "name": [f"item-{i}".encode() for i in range(12)],
        }
    )


def ds_nested():
    tf = _tf()

    def make(i):
        f = tf.cast(i, tf.float32)
        return (
            {
                "image": tf.cast(tf.fill([4, 4, 3], i * 10), tf.uint8),
                "meta": {"flag": i % 2 == 0, "half": tf.cast(f / 3, tf.float16), "bf": tf.cast(f * 1.5, tf.bfloat16)},
            },
            (tf.cast(f, tf.float64) / 7, tf.complex(f, -f)),
            Point(x=tf.strings.as_string(i), y=tf.reshape(tf.strings.as_string(tf.range(i, i + 4)), [2, 2])),
            tf.range(i % 4, dtype=tf.int32),
        )

    return tf.data.Dataset.range(7).map(make)


def ds_ragged():
    tf = _tf()

    def make(i):
        r1 = tf.RaggedTensor.from_row_lengths(tf.range(i * 3, dtype=tf.int64) % 5, [i, 0, 2 * i])
        words = tf.RaggedTensor.from_nested_row_lengths(
            tf.strings.as_string(tf.range(i + 2)), [[1, 1], tf.stack([1, i + 1])]
        )
        return {"r1": r1, "words": words, "n": i}

    return tf.data.Dataset.range(5).map(make)


def ds_sparse():
    tf = _tf()

    def make(i):
        return tf.sparse.SparseTensor(
            indices=[[0, 1], [2, 3]], values=tf.cast(tf.stack([i, i * 2]), tf.float32), dense_shape=[3, 5]
        ), tf.sparse.SparseTensor(indices=tf.zeros([0, 1], tf.int64), values=tf.zeros([0], tf.string), dense_shape=[4])

    return tf.data.Dataset.range(4).map(make)


def ds_shards():
    tf = _tf()
    return tf.data.Dataset.range(20).map(lambda x: (x, tf.fill([x % 3], tf.cast(x, tf.float32))))


def ds_batched():
    tf = _tf()
    return tf.data.Dataset.range(10).map(lambda x: {"x": x, "sq": tf.cast(x * x, tf.float32)}).batch(4)


def ds_legacy():
    tf = _tf()
    return tf.data.Dataset.range(6).map(
        lambda x: (x, tf.strings.as_string(x), tf.fill([2, 2], tf.cast(x, tf.float32)), x % 2 == 0)
    )


# -- writers ------------------------------------------------------------------
# Where Dataset.save/load/snapshot are missing (TF 2.4 has none of them): the tf.data.experimental
# spellings; TF 2.4's experimental.load needs the element_spec (there is no dataset_spec.pb to read).


def _save(ds, path, compression=None, shard_func=None):
    tf = _tf()
    if hasattr(ds, "save"):
        ds.save(path, compression=compression, shard_func=shard_func)
    else:
        tf.data.experimental.save(ds, path, compression=compression, shard_func=shard_func)


def _load(path, element_spec, compression=None, reader_func=None):
    """``Dataset.load`` without an element_spec where it exists (it reads dataset_spec.pb)."""
    tf = _tf()
    if hasattr(tf.data.Dataset, "load"):
        return tf.data.Dataset.load(path, compression=compression, reader_func=reader_func)
    return tf.data.experimental.load(path, element_spec, compression=compression, reader_func=reader_func)


def _snapshot(ds, path, **kwargs):
    tf = _tf()
    if hasattr(ds, "snapshot"):
        return ds.snapshot(path, **kwargs)
    return ds.apply(tf.data.experimental.snapshot(path, **kwargs))


def _save_params() -> set:
    tf = _tf()
    fn = getattr(tf.data.Dataset, "save", None) or tf.data.experimental.save
    return set(inspect.signature(fn).parameters)


def _load_crashes(name, path):
    """Whether this TensorFlow kills the process reading ``path`` (run in a child); a note if so."""
    import subprocess

    code = (
        "import os, sys; sys.path.insert(0, %r); import gen_datasets as g; "
        "print(len(list(g._load(%r, g.save_spec(%r)))))" % (os.path.dirname(os.path.abspath(__file__)), path, name)
    )
    proc = subprocess.run([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if proc.returncode >= 0:
        return None
    import signal

    try:
        sig = signal.Signals(-proc.returncode).name
    except ValueError:
        sig = str(-proc.returncode)
    return "TensorFlow's load() killed the process reading it (%s)" % sig


def cannot_write(name):
    """Why this TensorFlow cannot write case ``name`` (None when it can)."""
    if name == "save_unfinished" and "checkpoint_args" not in _save_params():
        return "save() has no checkpoint_args (the case is a save that fails after writing its metadata)"
    if name == "save_shards" and "shard_func" not in _save_params():
        return "save() has no shard_func"
    if name.startswith("legacy_"):
        from tensorflow.python.ops import gen_experimental_dataset_ops as ged

        if not hasattr(ged, "snapshot_dataset"):
            return "no SnapshotDataset (v1) op"
    return None


def _legacy_snapshot(ds, path, compression):
    """The first snapshot op (file format version 1), which TF 2.21 still has as tf.raw_ops.SnapshotDataset."""
    _tf()
    from tensorflow.python.data.ops import dataset_ops
    from tensorflow.python.ops import gen_experimental_dataset_ops as ged

    class _Snap(dataset_ops.UnaryUnchangedStructureDataset):
        def __init__(self, inp):
            vt = ged.snapshot_dataset(inp._variant_tensor, path, compression=compression, **inp._flat_structure)
            super().__init__(inp, vt)

    return _Snap(ds)


def write_case(name, out):
    """Write case ``name`` under folder ``out`` (created); returns (path to read, TF's elements, extra)."""
    tf = _tf()
    path = os.path.join(out, name)
    shutil.rmtree(path, ignore_errors=True)
    extra = {}
    if name in ("save_plain", "save_gzip", "save_snappy"):
        comp = {"save_plain": None, "save_gzip": "GZIP", "save_snappy": "SNAPPY"}[name]
        ds = ds_plain()
        _save(ds, path, compression=comp)
        return path, list(_load(path, ds.element_spec, compression=comp)), extra
    if name in ("save_nested", "save_ragged", "save_sparse", "save_batched", "save_empty"):
        ds = {
            "save_nested": ds_nested,
            "save_ragged": ds_ragged,
            "save_sparse": ds_sparse,
            "save_batched": ds_batched,
            "save_empty": lambda: ds_plain().take(0),
        }[name]()
        _save(ds, path)
        if name == "save_empty":
            crash = _load_crashes(name, path)
            if crash:  # TF 2.4: loading an empty save dies with SIGFPE; it holds no elements
                extra["tf_load"] = crash
                return path, [], extra
        return path, list(_load(path, ds.element_spec)), extra
    if name == "save_shards":
        ds = ds_shards()
        spec = ds.element_spec
        _save(ds, path, shard_func=lambda x, y: x % 3)
        loaded = _load(path, spec)
        extra["per_shard"] = list(_load(path, spec, reader_func=lambda dss: dss.flat_map(lambda d: d)))
        extra["cycle2"] = list(
            _load(path, spec, reader_func=lambda dss: dss.interleave(lambda d: d, cycle_length=2))
        )
        extra["cycle3"] = list(
            _load(path, spec, reader_func=lambda dss: dss.interleave(lambda d: d, cycle_length=3))
        )
        return path, list(loaded), extra
    if name == "save_unfinished":
        # Dataset.save writes its metadata, then fails building the checkpoint manager: the folder
        # is left as an interrupted save leaves it (metadata not finalized, no elements).
        try:
            ds = ds_plain()
            ckpt = {"directory": os.path.join(out, "_ckpt_tmp")}
            if hasattr(ds, "save"):
                ds.save(path, checkpoint_args=ckpt)
            else:
                tf.data.experimental.save(ds, path, checkpoint_args=ckpt)
        except TypeError:
            pass
        shutil.rmtree(os.path.join(out, "_ckpt_tmp"), ignore_errors=True)
        try:
            got = list(_load(path, ds.element_spec))
            extra["tf_load"] = f"{len(got)} elements"
        except Exception as exc:  # what TensorFlow does with it, for the record
            got = []
            extra["tf_load"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
        return path, got, extra
    if name in ("snapshot_auto", "snapshot_none", "snapshot_sharded"):
        kwargs = {
            "snapshot_auto": {},
            "snapshot_none": {"compression": None},
            "snapshot_sharded": {"shard_func": lambda x, y: x % 2},
        }[name]
        for _ in range(2):  # first pass writes, second reads the finished snapshot
            got = list(_snapshot(ds_shards(), path, **kwargs))
        return path, got, extra
    if name in ("legacy_none", "legacy_gzip", "legacy_snappy"):
        comp = {"legacy_none": "", "legacy_gzip": "GZIP", "legacy_snappy": "SNAPPY"}[name]
        for _ in range(2):
            got = list(_legacy_snapshot(ds_legacy(), path, comp))
        return path, got, extra
    raise KeyError(name)


CASES = [
    "save_plain",
    "save_gzip",
    "save_snappy",
    "save_nested",
    "save_ragged",
    "save_sparse",
    "save_shards",
    "save_batched",
    "save_empty",
    "save_unfinished",
    "snapshot_auto",
    "snapshot_none",
    "snapshot_sharded",
    "legacy_none",
    "legacy_gzip",
    "legacy_snappy",
]


# -- TensorFlow's values, flattened ----------------------------------------------


def structure_of(value):
    """A JSON description of an element's nesting (leaves as their kind)."""
    tf = _tf()
    if isinstance(value, dict):
        return {"dict": {k: structure_of(v) for k, v in sorted(value.items())}}
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return {"namedtuple": [type(value).__name__, [[f, structure_of(getattr(value, f))] for f in value._fields]]}
    if isinstance(value, (tuple, list)):
        return {type(value).__name__: [structure_of(v) for v in value]}
    if isinstance(value, tf.RaggedTensor):
        return "ragged"
    if isinstance(value, tf.SparseTensor):
        return "sparse"
    return "dense"


def leaves_of(value) -> list:
    """Leaf values in tf.nest order, each a dict of numpy parts."""
    tf = _tf()
    if isinstance(value, dict):
        return [x for k in sorted(value) for x in leaves_of(value[k])]
    if isinstance(value, (tuple, list)):
        return [x for v in value for x in leaves_of(v)]
    if isinstance(value, tf.RaggedTensor):
        parts = {"values": value.flat_values.numpy()}
        for i, s in enumerate(value.nested_row_splits):
            parts[f"splits{i}"] = s.numpy()
        return [parts]
    if isinstance(value, tf.SparseTensor):
        return [{"indices": value.indices.numpy(), "values": value.values.numpy(), "dense_shape": value.dense_shape.numpy()}]
    return [{"value": np.asarray(value.numpy())}]


def _storable(a: np.ndarray) -> np.ndarray:
    if a.dtype.name == "bfloat16":
        return a.view(np.uint16)
    if a.dtype == object:  # strings: fixed-width bytes (no pickles); numpy would drop trailing NULs
        assert all(not v.endswith(b"\x00") for v in a.reshape(-1)), "a string ending in NUL"
        return a.astype(bytes) if a.size else np.zeros(a.shape, "S1")
    return a


def record(name, elements, arrays, key=None):
    key = key or name
    out = []
    for i, el in enumerate(elements):
        leaves = leaves_of(el)
        for j, parts in enumerate(leaves):
            for part, a in parts.items():
                arrays[f"{key}/{i}/{j}/{part}"] = _storable(np.asarray(a))
        out.append({"structure": structure_of(el), "dtypes": [{p: str(a.dtype) for p, a in parts.items()} for parts in leaves]})
    return out


def save_spec(name):
    """The element_spec of a save case's pipeline (TF 2.4's load needs it)."""
    if name in ("save_plain", "save_gzip", "save_snappy", "save_unfinished"):
        return ds_plain().element_spec
    if name == "save_empty":
        return ds_plain().take(0).element_spec
    return {
        "save_nested": ds_nested,
        "save_ragged": ds_ragged,
        "save_sparse": ds_sparse,
        "save_shards": ds_shards,
        "save_batched": ds_batched,
    }[name]().element_spec


def main() -> int:
    tf = _tf()
    os.makedirs(OUT, exist_ok=True)
    expected = {
        "manifest": {
            "tensorflow": tf.__version__,
            "python": sys.version.split()[0],
            "numpy": np.__version__,
            "cpu_count": multiprocessing.cpu_count(),
        },
        "cases": {},
    }
    arrays: dict = {}
    skipped = {}
    for name in CASES:
        why = cannot_write(name)
        if why:
            shutil.rmtree(os.path.join(OUT, name), ignore_errors=True)
            skipped[name] = why
            print(name, "skipped:", why, flush=True)
            continue
        path, elements, extra = write_case(name, OUT)
        entry = {"num_elements": len(elements), "elements": record(name, elements, arrays)}
        for k, v in extra.items():
            if isinstance(v, list):
                entry[k] = record(name, v, arrays, key=f"{name}:{k}")
            else:
                entry[k] = v
        if name.startswith("save"):
            entry["element_spec"] = str(_load(path, save_spec(name)).element_spec)
        entry["folder"] = os.path.relpath(path, OUT)
        expected["cases"][name] = entry
        print(name, len(elements), flush=True)
    # snapshot() writes <hash>-graph.pbtxt dumps next to the data (legacy op): not needed to read
    for name in CASES:
        for f in os.listdir(os.path.join(OUT, name)) if os.path.isdir(os.path.join(OUT, name)) else []:
            if f.endswith("-graph.pbtxt"):
                os.remove(os.path.join(OUT, name, f))
    if skipped:
        expected["skipped"] = skipped
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
    np.savez_compressed(os.path.join(OUT, "expected.npz"), **arrays)
    return 0


if __name__ == "__main__":
    sys.exit(main())
