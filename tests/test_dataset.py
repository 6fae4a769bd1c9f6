"""``tfformats.load_dataset`` on folders written by ``Dataset.save``/``snapshot`` (TensorFlow 2.21).

Expected values are TensorFlow's own reading of the same folders (``Dataset.load``, or the
pipeline re-run over its finished snapshot), from tests/generate/gen_datasets.py.
"""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest

import tfformats
from tfformats.dataset import RaggedTensorValue, SparseTensorValue

DATA = os.path.join(os.path.dirname(__file__), "data", "datasets")
with open(os.path.join(DATA, "expected.json")) as _f:
    EXPECTED = json.load(_f)
ARRAYS = np.load(os.path.join(DATA, "expected.npz"))
CASES = EXPECTED["cases"]
CPUS = EXPECTED["manifest"]["cpu_count"]


def _structure(value):
    if isinstance(value, SparseTensorValue):
        return "sparse"
    if isinstance(value, dict):
        return {"dict": {k: _structure(v) for k, v in sorted(value.items())}}
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return {"namedtuple": [type(value).__name__, [[f, _structure(getattr(value, f))] for f in value._fields]]}
    if isinstance(value, (tuple, list)):
        return {type(value).__name__: [_structure(v) for v in value]}
    if isinstance(value, RaggedTensorValue):
        return "ragged"
    return "dense"


def _leaves(value) -> list:
    if isinstance(value, dict):
        return [x for k in sorted(value) for x in _leaves(value[k])]
    if isinstance(value, SparseTensorValue):
        return [{"indices": value.indices, "values": value.values, "dense_shape": value.dense_shape}]
    if isinstance(value, (tuple, list)):
        return [x for v in value for x in _leaves(v)]
    if isinstance(value, RaggedTensorValue):
        parts = {"values": value.values}
        for i, s in enumerate(value.nested_row_splits):
            parts[f"splits{i}"] = s
        return [parts]
    return [{"value": np.asarray(value)}]


def _same(got, want_dtype: str, key: str, arrays=None):
    want = (ARRAYS if arrays is None else arrays)[key]
    got = np.asarray(got)
    assert str(got.dtype) == want_dtype, key
    if want_dtype == "bfloat16":
        got = got.view(np.uint16)
    if want_dtype == "object":  # strings, kept as fixed-width bytes in the npz
        got = got.astype(bytes) if got.size else np.zeros(got.shape, "S1")
    assert got.shape == want.shape, key
    np.testing.assert_array_equal(got, want, err_msg=key)


def _compare(elements, expected, key, *, drop_first=False, arrays=None):
    assert len(elements) == len(expected), key
    leaves_per_element = []
    for i, (el, want) in enumerate(zip(elements, expected)):
        leaves = _leaves(el)
        if drop_first:  # a snapshot's enumerate index, which TensorFlow projects away
            assert int(np.asarray(leaves[0]["value"])) >= 0
            leaves = leaves[1:]
        else:
            assert _structure(el) == want["structure"], (key, i)
        leaves_per_element.append(leaves)
    _compare_leaves(leaves_per_element, expected, key, arrays=arrays)


def _compare_leaves(leaves_per_element, expected, key, *, arrays=None):
    """Leaves (dicts of parts) of each element against the recorded dtypes and arrays."""
    assert len(leaves_per_element) == len(expected), key
    for i, (leaves, want) in enumerate(zip(leaves_per_element, expected)):
        assert len(leaves) == len(want["dtypes"]), (key, i)
        for j, (parts, dts) in enumerate(zip(leaves, want["dtypes"])):
            assert sorted(parts) == sorted(dts), (key, i, j)
            for part, dt in dts.items():
                _same(parts[part], dt, f"{key}/{i}/{j}/{part}", arrays)


SAVE_CASES = [c for c in CASES if c.startswith("save_")]


@pytest.mark.parametrize("case", SAVE_CASES)
def test_save_cases_read_as_tensorflow_loads_them(case):
    exp = CASES[case]
    ds = tfformats.load_dataset(os.path.join(DATA, exp["folder"]))
    assert ds.kind == "save" and ds.version == 2
    elements = list(ds.elements(cycle_length=CPUS))  # TensorFlow's default reader on the generating machine
    _compare(elements, exp["elements"], case)
    if case == "save_unfinished":
        assert not ds.finalized and ds.num_elements is None and ds.shards == []
    else:
        assert ds.finalized and len(ds) == exp["num_elements"]


def test_element_spec_matches_tensorflow():
    ds = tfformats.load_dataset(os.path.join(DATA, "save_nested"))
    spec = ds.element_spec
    want = CASES["save_nested"]["element_spec"]
    # the same nesting and leaves as TensorFlow prints them
    assert repr(spec[0]["image"]) == "TensorSpec(shape=(4, 4, 3), dtype=uint8)"
    assert "TensorSpec(shape=(4, 4, 3), dtype=tf.uint8" in want
    assert type(spec[2]).__name__ == "Point" and spec[2]._fields == ("x", "y")
    assert repr(spec[3]) == "TensorSpec(shape=(None,), dtype=int32)"
    assert "shape=(None,), dtype=tf.int32" in want
    ragged = tfformats.load_dataset(os.path.join(DATA, "save_ragged")).element_spec
    assert ragged["words"].ragged_rank == 2 and ragged["words"].dtype == "string"
    assert "RaggedTensorSpec(TensorShape([2, None, None]), tf.string, 2, tf.int64)" in CASES["save_ragged"]["element_spec"]
    sparse = tfformats.load_dataset(os.path.join(DATA, "save_sparse")).element_spec
    assert repr(sparse[0]) == "SparseTensorSpec(shape=(3, 5), dtype=float32)"


def test_compression_is_detected():
    for case, comp in (("save_plain", ""), ("save_gzip", "GZIP"), ("save_snappy", "SNAPPY")):
        assert tfformats.load_dataset(os.path.join(DATA, case)).compression == comp


def test_shard_order_options():
    exp = CASES["save_shards"]
    ds = tfformats.load_dataset(os.path.join(DATA, "save_shards"))
    assert ds.num_shards == 3
    _compare(list(ds.elements(cycle_length=2)), exp["cycle2"], "save_shards:cycle2")
    _compare(list(ds.elements(cycle_length=3)), exp["cycle3"], "save_shards:cycle3")
    _compare(list(ds), exp["cycle3"], "save_shards:cycle3")  # default: every shard in the cycle
    per_shard = [el for i in range(ds.num_shards) for el in ds.elements(shard=i)]
    _compare(per_shard, exp["per_shard"], "save_shards:per_shard")


@pytest.mark.parametrize("case", ["snapshot_auto", "snapshot_none", "snapshot_sharded"])
def test_snapshots(case):
    exp = CASES[case]
    ds = tfformats.load_dataset(os.path.join(DATA, case))  # the folder given to snapshot(): one graph hash inside
    assert ds.kind == "snapshot" and ds.num_elements is None and ds.finalized
    elements = list(ds.elements(cycle_length=CPUS))
    # with the default shard_func, snapshot() stores enumerate()'s index first
    _compare(elements, exp["elements"], case, drop_first=case != "snapshot_sharded")
    assert ds.compression == ("" if case == "snapshot_none" else "SNAPPY")  # snapshot's AUTO is SNAPPY
    assert ds.count() == exp["num_elements"]


@pytest.mark.parametrize("case", ["legacy_none", "legacy_gzip", "legacy_snappy"])
def test_legacy_snapshot_format(case):
    exp = CASES[case]
    ds = tfformats.load_dataset(os.path.join(DATA, case))
    assert ds.version == 1 and ds.num_shards == 1
    assert ds.compression == {"legacy_none": "", "legacy_gzip": "GZIP", "legacy_snappy": "SNAPPY"}[case]
    _compare(list(ds), exp["elements"], case)


def test_to_numpy_stacks_components():
    ds = tfformats.load_dataset(os.path.join(DATA, "save_plain"))
    cols = ds.to_numpy()
    elements = list(ds)
    assert cols["vec"].shape == (12, 3) and cols["vec"].dtype == np.float32
    np.testing.assert_array_equal(cols["id"], [e["id"] for e in elements])
    assert list(cols["name"]) == [e["name"] for e in elements]
    nested = tfformats.load_dataset(os.path.join(DATA, "save_nested")).to_numpy()
    assert nested[0]["image"].shape == (7, 4, 4, 3)
    assert isinstance(nested[3], list) and [len(a) for a in nested[3]] == [0, 1, 2, 3, 0, 1, 2]
    ragged = tfformats.load_dataset(os.path.join(DATA, "save_ragged")).to_numpy()
    assert all(isinstance(r, RaggedTensorValue) for r in ragged["r1"])


def test_ragged_and_sparse_values():
    el = list(tfformats.load_dataset(os.path.join(DATA, "save_ragged")))[2]
    want = ARRAYS["save_ragged/2/1/values"], ARRAYS["save_ragged/2/1/splits0"]  # leaves: n, r1, words
    np.testing.assert_array_equal(el["r1"].values, want[0])
    assert el["r1"].to_list() == [want[0][a:b].tolist() for a, b in zip(want[1][:-1], want[1][1:])]
    sp = list(tfformats.load_dataset(os.path.join(DATA, "save_sparse")))[3][0]
    dense = sp.to_dense()
    assert dense.shape == (3, 5) and dense[0, 1] == 3 and dense[2, 3] == 6 and dense.sum() == 9


def test_errors(tmp_path):
    with pytest.raises(tfformats.NotFoundError):
        tfformats.load_dataset(tmp_path)
    with pytest.raises(tfformats.NotFoundError):
        tfformats.load_dataset(tmp_path / "missing")
    two = tmp_path / "two"
    shutil.copytree(os.path.join(DATA, "snapshot_none"), two)
    (hash_dir,) = os.listdir(two)
    shutil.copytree(two / hash_dir, two / "123")
    with pytest.raises(tfformats.InvalidArgumentError, match="2 snapshots"):
        tfformats.load_dataset(two)
    ds = tfformats.load_dataset(two / "123")
    with pytest.raises(tfformats.InvalidArgumentError):
        list(ds.elements(shard=5))


def _copy(case, tmp_path):
    dst = tmp_path / case
    shutil.copytree(os.path.join(DATA, case), dst)
    return dst


def _shard_file(root):
    for d, _, files in os.walk(root):
        for f in files:
            if f.endswith(".snapshot"):
                return os.path.join(d, f)
    raise AssertionError("no shard file")


def test_damaged_shard_is_a_data_loss_error(tmp_path):
    root = _copy("save_plain", tmp_path)
    f = _shard_file(root)
    data = bytearray(open(f, "rb").read())
    data[40] ^= 0xFF
    open(f, "wb").write(bytes(data))
    with pytest.raises(tfformats.DataLossError) as info:
        list(tfformats.load_dataset(root))
    assert f in str(info.value)
    # cut inside an element: the remaining components are missing
    root2 = _copy("save_snappy", tmp_path / "b")
    f2 = _shard_file(root2)
    with open(f2, "r+b") as fh:
        fh.truncate(os.path.getsize(f2) // 2)
    with pytest.raises(tfformats.DataLossError):
        list(tfformats.load_dataset(root2))


def test_damaged_legacy_file(tmp_path):
    root = _copy("legacy_none", tmp_path)
    f = _shard_file(root)
    data = bytearray(open(f, "rb").read())
    data[0:8] = (1 << 40).to_bytes(8, "little")  # a length the file cannot back
    open(f, "wb").write(bytes(data))
    with pytest.raises(tfformats.DataLossError, match="claimed"):
        list(tfformats.load_dataset(root))
    root2 = _copy("legacy_gzip", tmp_path / "g")
    f2 = _shard_file(root2)
    with open(f2, "r+b") as fh:
        fh.truncate(os.path.getsize(f2) - 30)
    with pytest.raises(tfformats.DataLossError):
        list(tfformats.load_dataset(root2))


def test_bad_metadata_and_spec(tmp_path):
    root = _copy("save_plain", tmp_path)
    (root / "snapshot.metadata").write_bytes(b"\xff\xff\xff")
    with pytest.raises(tfformats.DataLossError, match="SnapshotMetadataRecord"):
        tfformats.load_dataset(root)
    root2 = _copy("save_nested", tmp_path / "n")
    (root2 / "dataset_spec.pb").write_bytes(b"\x0a\x05garbage")
    with pytest.raises(tfformats.DataLossError):
        tfformats.load_dataset(root2)


@pytest.mark.parametrize("case", sorted(CASES))
def test_to_numpy_agrees_with_elements(case):
    """The whole-file column reader (format 2) and the record-by-record one give the same values."""
    ds = tfformats.load_dataset(os.path.join(DATA, CASES[case]["folder"]))
    cols = ds.columns()
    flat = list(ds.iter_flat())
    for j, (path, col) in enumerate(cols.items()):
        values = [f[j] for f in flat]
        if isinstance(col, np.ndarray):
            assert len(col) == len(values), path
            for i, want in enumerate(values):
                got = col[i : i + 1].reshape(col.shape[1:])
                assert got.dtype == want.dtype and got.shape == want.shape, path
                np.testing.assert_array_equal(got, want)
        else:
            assert len(col) == len(values), path


def test_to_numpy_of_a_file_whose_elements_differ_in_size(tmp_path):
    # save_shards: the float component varies in length, the int64 one is plain: each takes its own path
    ds = tfformats.load_dataset(os.path.join(DATA, "save_shards"))
    cols = ds.to_numpy()
    assert isinstance(cols[0], np.ndarray) and cols[0].dtype == np.int64
    assert isinstance(cols[1], list)
    assert cols[0].tolist() == [int(e[0]) for e in ds]


def test_legacy_gzip_length_claim_beyond_what_the_file_can_hold(tmp_path):
    import gzip

    root = _copy("legacy_gzip", tmp_path)
    f = _shard_file(root)
    raw = bytearray(gzip.decompress(open(f, "rb").read()))
    raw[0:8] = (1 << 50).to_bytes(8, "little")  # no gzip stream of this size holds that much
    open(f, "wb").write(gzip.compress(bytes(raw)))
    with pytest.raises(tfformats.DataLossError, match="claimed"):
        list(tfformats.load_dataset(root))


def test_interleave_cycle_longer_than_the_shards():
    ds = tfformats.load_dataset(os.path.join(DATA, "save_shards"))
    assert [int(e[0]) for e in ds.elements(cycle_length=10**9)] == [int(e[0]) for e in ds]


def test_to_pandas():
    pd = pytest.importorskip("pandas")
    ds = tfformats.load_dataset(os.path.join(DATA, "save_plain"))
    df = ds.to_pandas()
    assert isinstance(df, pd.DataFrame) and list(df.columns) == ["id", "name", "vec"] and len(df) == len(ds)
    elements = list(ds)
    assert df["id"].tolist() == [int(e["id"]) for e in elements]
    np.testing.assert_array_equal(df["vec"].iloc[3], elements[3]["vec"])
    nested = tfformats.load_dataset(os.path.join(DATA, "save_nested")).to_pandas()
    assert nested["0/image"].iloc[0].shape == (4, 4, 3) and len(nested["3"].iloc[2]) == 2


BATCHES = os.path.join(os.path.dirname(__file__), "data", "dataset_batches")
with open(os.path.join(BATCHES, "expected.json")) as _f:
    BATCH_EXPECTED = json.load(_f)["cases"]


def _as_recorded(v):
    if isinstance(v, SparseTensorValue):
        return {"sparse_dense": v.to_dense().tolist(), "dense_shape": v.dense_shape.tolist()}
    if isinstance(v, RaggedTensorValue):
        return {"ragged": v.to_list()}
    if isinstance(v, dict):
        return {k: _as_recorded(x) for k, x in v.items()}
    return {"dense": np.asarray(v).tolist()}


@pytest.mark.parametrize("case", sorted(BATCH_EXPECTED))
def test_batched_ragged_and_sparse_merge_as_tensorflow_does(case):
    # a batched composite is one encoded value per row ([batch] ragged variants, [batch, 3] sparse
    # ones): merged into one value with the batch as its outer dimension (DataLossError/Unsupported before)
    ds = tfformats.load_dataset(os.path.join(BATCHES, case))
    got = [_as_recorded(e) for e in ds]
    assert got == BATCH_EXPECTED[case]
    cols = ds.to_numpy()
    assert len(next(iter(cols.values())) if isinstance(cols, dict) else cols) == len(got)
