"""``tfformats.load_dataset`` against TensorFlow on folders ``Dataset.save``/``snapshot`` write now.

Every fixture case of tests/generate/gen_datasets.py is written afresh and compared with TensorFlow's
reading; random element structures (dtypes, shapes, nesting, compression, shard counts) are saved by
TensorFlow and compared with ``Dataset.load``; a checkpointed save is compared with its source.
"""

from __future__ import annotations

import importlib.util
import multiprocessing
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

tf = pytest.importorskip("tensorflow")

import tfformats  # noqa: E402
from tfformats.dataset import RaggedTensorValue, SparseTensorValue  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location(
    "gen_datasets", os.path.join(os.path.dirname(HERE), "tests", "generate", "gen_datasets.py")
)
gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen)
CPUS = multiprocessing.cpu_count()


def _leaves(value) -> list:
    if isinstance(value, SparseTensorValue):
        return [{"indices": value.indices, "values": value.values, "dense_shape": value.dense_shape}]
    if isinstance(value, dict):
        return [x for k in sorted(value) for x in _leaves(value[k])]
    if isinstance(value, (tuple, list)):
        return [x for v in value for x in _leaves(v)]
    if isinstance(value, RaggedTensorValue):
        parts = {"values": value.values}
        parts.update({f"splits{i}": s for i, s in enumerate(value.nested_row_splits)})
        return [parts]
    return [{"value": np.asarray(value)}]


def _assert_same(ours: list, theirs: list, *, drop_first: bool = False) -> None:
    assert len(ours) == len(theirs)
    for i, (a, b) in enumerate(zip(ours, theirs)):
        la, lb = _leaves(a), gen.leaves_of(b)
        if drop_first:
            la = la[1:]
        assert len(la) == len(lb), i
        for pa, pb in zip(la, lb):
            assert sorted(pa) == sorted(pb), i
            for k in pa:
                x, y = np.asarray(pa[k]), np.asarray(pb[k])
                assert x.dtype == y.dtype and x.shape == y.shape, (i, k, x.dtype, y.dtype, x.shape, y.shape)
                if x.dtype.kind == "f" or x.dtype.name == "bfloat16":
                    np.testing.assert_array_equal(x.view(f"u{x.dtype.itemsize}"), y.view(f"u{y.dtype.itemsize}"))
                else:
                    np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("case", gen.CASES)
def test_fixture_cases_written_now(tmp_path, case):
    path, theirs, extra = gen.write_case(case, str(tmp_path))
    ds = tfformats.load_dataset(path)
    ours = list(ds.elements(cycle_length=CPUS))
    _assert_same(ours, theirs, drop_first=case in ("snapshot_auto", "snapshot_none"))
    if "per_shard" in extra:
        _assert_same([e for i in range(ds.num_shards) for e in ds.elements(shard=i)], extra["per_shard"])
        _assert_same(list(ds.elements(cycle_length=2)), extra["cycle2"])
        _assert_same(list(ds.elements(cycle_length=3)), extra["cycle3"])
    if ds.kind == "save" and ds.finalized:
        assert len(ds) == len(theirs)


def test_checkpointed_save_reads_every_element(tmp_path):
    """With checkpoint_args the writer starts a new file at every checkpoint (00000000.snapshot,
    00000001.snapshot... in one shard folder): all of them are read, in order."""
    src = tf.data.Dataset.range(100).map(lambda x: (x, tf.strings.as_string(x)))
    step = tf.Variable(0, dtype=tf.int64)
    path = str(tmp_path / "ds")
    src.save(path, checkpoint_args={"checkpoint_interval": 10, "step_counter": step,
                                    "directory": str(tmp_path / "ckpt"), "max_to_keep": 2})
    ds = tfformats.load_dataset(path)
    assert len(ds.files) > 1 and len(ds) == 100
    _assert_same(list(ds), list(src))


_DTYPES = ["int8", "uint8", "int16", "int32", "int64", "uint32", "float16", "bfloat16", "float32", "float64",
           "bool", "complex64", "complex128", "string"]


def _component(dtype: str, shape: tuple, seed: int, n: int):
    rng = np.random.default_rng(seed)
    full = (n, *shape)
    if dtype == "string":
        return np.array([rng.bytes(int(k)) for k in rng.integers(0, 20, int(np.prod(full)))], dtype=object).reshape(full)
    if dtype == "bool":
        return rng.integers(0, 2, full).astype(bool)
    if dtype.startswith("complex"):
        return (rng.standard_normal(full) + 1j * rng.standard_normal(full)).astype(dtype)
    if dtype in ("float16", "float32", "float64"):
        return rng.standard_normal(full).astype(dtype)
    if dtype == "bfloat16":
        return rng.standard_normal(full).astype(np.float32)  # cast in TensorFlow
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, full, dtype=dtype, endpoint=True)


component_st = st.tuples(st.sampled_from(_DTYPES), st.lists(st.integers(0, 3), max_size=3).map(tuple),
                         st.integers(0, 1 << 30))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    comps=st.dictionaries(st.text("abcxyz_", min_size=1, max_size=6), component_st, min_size=1, max_size=5),
    as_tuple=st.booleans(),
    n=st.integers(0, 12),
    compression=st.sampled_from([None, "GZIP", "SNAPPY"]),
    shards=st.integers(1, 3),
)
def test_random_structures_read_as_tensorflow_loads_them(tmp_path_factory, comps, as_tuple, n, compression, shards):
    arrays = {k: _component(dt, shape, seed, n) for k, (dt, shape, seed) in comps.items()}
    src = tf.data.Dataset.from_tensor_slices(tuple(arrays[k] for k in sorted(arrays)) if as_tuple else arrays)
    bf = sorted(k for k, (dt, _, _) in comps.items() if dt == "bfloat16")
    if bf:
        def cast(*el):  # a tuple element arrives as separate arguments, a dict as one
            if as_tuple:
                return tuple(tf.cast(v, tf.bfloat16) if k in bf else v for k, v in zip(sorted(arrays), el))
            return {k: tf.cast(v, tf.bfloat16) if k in bf else v for k, v in el[0].items()}

        src = src.map(cast)
    path = str(tmp_path_factory.mktemp("ds") / "saved")
    src = src.enumerate()
    src.save(path, compression=compression, shard_func=lambda i, el: i % shards)
    theirs = list(tf.data.Dataset.load(path, compression=compression))
    ds = tfformats.load_dataset(path)
    assert ds.compression == (compression or "") or n == 0
    _assert_same(list(ds.elements(cycle_length=CPUS)), theirs)
    assert len(ds) == n


class _Pt(tf.experimental.BatchableExtensionType):
    __name__ = "tfformats_test.Pt"
    x: tf.Tensor
    y: tf.Tensor


def test_tensor_arrays_optionals_and_extension_types(tmp_path):
    """Composites beyond ragged and sparse: a TensorArray comes back as its elements, an optional as
    None or its value, a registered extension type as the tuple of its components."""
    ta = tf.data.Dataset.range(4).map(lambda i: tf.TensorArray(tf.int64, size=2).write(0, i).write(1, i * 2))
    ta.save(str(tmp_path / "ta"))
    theirs = [t.stack().numpy() for t in tf.data.Dataset.load(str(tmp_path / "ta"))]
    ours = list(tfformats.load_dataset(tmp_path / "ta"))
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(np.stack(a), b)

    opt = tf.data.Dataset.range(4).map(
        lambda i: tf.cond(i % 2 == 0, lambda: tf.experimental.Optional.from_value(i),
                          lambda: tf.experimental.Optional.empty(tf.TensorSpec([], tf.int64))))
    opt.save(str(tmp_path / "opt"))
    theirs = [o.get_value().numpy() if o.has_value() else None for o in tf.data.Dataset.load(str(tmp_path / "opt"))]
    assert list(tfformats.load_dataset(tmp_path / "opt")) == theirs

    ext = tf.data.Dataset.range(3).map(lambda i: (i, _Pt(x=tf.cast(i, tf.float32), y=tf.fill([2], i))))
    ext.save(str(tmp_path / "ext"))
    theirs = list(tf.data.Dataset.load(str(tmp_path / "ext")))
    ours = list(tfformats.load_dataset(tmp_path / "ext"))
    for (i, (x, y)), (ti, tp) in zip(ours, theirs):
        assert i == ti.numpy()
        np.testing.assert_array_equal(x, tp.x.numpy())
        np.testing.assert_array_equal(y, tp.y.numpy())
