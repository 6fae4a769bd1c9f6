"""Reading every committed checkpoint fixture, compared with what TensorFlow read.

Fixtures and expected values: tests/generate/gen_checkpoints.py (TensorFlow 2.21).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pytest

import tfformats
from tfformats.errors import TFFormatsError, UnknownTensorError, UnsupportedError

from _checkpoint_helpers import CK, assert_matches, checkpoint, copy_prefix, manifest, path_of

CHECKPOINT_IDS = sorted(manifest()["checkpoints"])


@pytest.fixture(scope="module", params=CHECKPOINT_IDS)
def opened(request):
    cid = request.param
    with tfformats.load_checkpoint(path_of(cid)) as r:
        yield cid, r


# ---------------------------------------------------------------------------
# Listings and values, every fixture
# ---------------------------------------------------------------------------
def test_list_variables_matches_tf(opened):
    cid, r = opened
    want = [(n, s) for n, s in checkpoint(cid)["list_variables"]]
    assert r.list_variables() == [tuple(x) for x in want]
    assert tfformats.list_variables(path_of(cid)) == [tuple(x) for x in want]


def test_shape_and_dtype_maps_match_tf(opened):
    cid, r = opened
    c = checkpoint(cid)
    assert r.get_variable_to_shape_map() == c["shape_map"]
    assert r.get_variable_to_dtype_map() == c["dtype_map"]
    for name, dtype in c["dtype_map"].items():
        assert r.get_dtype(name) == dtype
        assert r.get_shape(name) == tuple(c["shape_map"][name])


def test_every_tensor_bit_exact(opened):
    cid, r = opened
    checked = 0
    for name, info in checkpoint(cid)["tensors"].items():
        if "tf_error" in info:
            continue  # TF could not read it; compared with restored values below
        assert r.has_tensor(name)
        assert_matches(r.get_tensor(name), cid, info, f"{cid}:{name}")
        checked += 1
    assert checked


@pytest.mark.parametrize("cid", [c for c in CHECKPOINT_IDS if checkpoint(c).get("restored")])
def test_values_restored_by_tf(cid):
    """Where ``tf.train.load_checkpoint`` cannot read a tensor (partitioned
    strings, sliced V1 tensors, V1 dtypes its reader lacks), the generator
    restored the checkpoint into a TF graph; we must read the same values."""
    with tfformats.load_checkpoint(path_of(cid)) as r:
        for name, info in checkpoint(cid)["restored"].items():
            assert_matches(r.get_tensor(name), cid, info, f"{cid}:{name} (restored)")


def test_tensors_tf_could_not_read_are_covered():
    """Every tensor TF's reader refused has a restored value to compare with."""
    missing = []
    for cid, c in manifest()["checkpoints"].items():
        for name, info in c["tensors"].items():
            if "tf_error" in info and name not in c.get("restored", {}):
                missing.append((cid, name))
    assert not missing


def test_get_tensor_is_owned_and_writable():
    r = tfformats.load_checkpoint(path_of("dtypes"))
    for name in ("float32/values", "complex128/values", "bfloat16/scalar", "int4/values"):
        a = r.get_tensor(name)
        assert a.flags.writeable and a.flags.owndata, name
        before = a.copy()
        a.reshape(-1)[:1] = 0
        assert r.get_tensor(name).tobytes() == before.tobytes(), name
    s = r.get_tensor("string/values")
    assert s.dtype == object and s.flags.writeable
    r.close()


def test_strings_come_back_as_bytes_with_long_lengths():
    with tfformats.load_checkpoint(path_of("strings")) as r:
        mixed = r.get_tensor("mixed")
        unicode = "h\u00e9llo w\u00f6rld \u2713 \U0001f600".encode()
        assert mixed[1] == unicode
        assert [len(x) for x in mixed] == [0, len(unicode), 256, 3, 127, 128, 16383, 16384, 5]
        assert r.get_tensor("scalar_long").shape == ()
        assert len(r.get_tensor("scalar_long")[()]) == 20480
        assert r.get_tensor("scalar_empty")[()] == b""
        assert r.get_tensor("empty_vector").shape == (0,)
        assert r.get_tensor("empty_matrix").shape == (2, 0)


def test_every_dtype_tf_saves_is_read():
    """The dtypes fixture holds values, a scalar and a zero-size tensor of every
    dtype SaveV2 accepted; ml_dtypes arrays for bfloat16 / float8 / int4..."""
    c = checkpoint("dtypes")
    refused = manifest()["refused"]["v2_SaveV2"]
    names = {n.split("/")[0] for n in c["dtype_map"]}
    assert names | (set(refused) - {"_accepted_extra", "resource", "variant"}) >= {
        "float16", "float32", "float64", "bfloat16", "float8_e5m2", "float8_e4m3fn", "int4", "uint4",
        "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "bool",
        "complex64", "complex128", "qint8", "quint8", "qint16", "quint16", "qint32", "string",
    }
    import ml_dtypes

    with tfformats.load_checkpoint(path_of("dtypes")) as r:
        assert r.get_tensor("bfloat16/values").dtype == ml_dtypes.bfloat16
        assert r.get_tensor("float8_e4m3fn/values").dtype == ml_dtypes.float8_e4m3fn
        assert r.get_tensor("int4/values").dtype == ml_dtypes.int4
        assert r.get_tensor("int4/values").reshape(-1).astype(int).tolist() == list(range(-8, 8))
        for dt in names:
            assert r.get_tensor(f"{dt}/empty").shape == (3, 0)
            assert r.get_tensor(f"{dt}/scalar").shape == ()


# ---------------------------------------------------------------------------
# Path forms
# ---------------------------------------------------------------------------
def _names(path) -> list[str]:
    with tfformats.load_checkpoint(path) as r:
        return list(r)


@pytest.mark.parametrize("cid", ["tf1_sharded", "tf2_sharded", "big"])
def test_prefix_index_and_data_paths_agree(cid):
    prefix = path_of(cid)
    want = [n for n, _ in checkpoint(cid)["list_variables"]]
    assert _names(prefix) == want
    assert _names(Path(prefix)) == want
    assert _names(prefix + ".index") == want
    n = checkpoint(cid)["num_shards"]
    for i in range(n):
        assert _names(f"{prefix}.data-{i:05d}-of-{n:05d}") == want
    with tfformats.load_checkpoint(prefix + ".index") as r:
        assert r.prefix == prefix and r.num_shards == n and r.format == "v2"


@pytest.mark.parametrize("cid", ["tf1_sharded", "keras3", "tf_keras_legacy", "v1_single", "v1_sharded"])
def test_directory_with_state_file(cid):
    d = CK / checkpoint(cid)["directory"]
    want = [n for n, _ in checkpoint(cid)["list_variables"]]
    assert _names(d) == want
    assert _names(str(d)) == want
    assert tfformats.list_variables(d) == [tuple(x) for x in checkpoint(cid)["list_variables"]]


def test_v1_file_and_pattern_and_prefix():
    single = path_of("v1_single")
    assert _names(single) == [n for n, _ in checkpoint("v1_single")["list_variables"]]
    pattern = path_of("v1_sharded")
    assert "?????" in pattern
    want = [n for n, _ in checkpoint("v1_sharded")["list_variables"]]
    assert _names(pattern) == want
    # The prefix without the shard suffix finds the shards too.
    assert _names(pattern.replace("-?????-of-00003", "")) == want
    with tfformats.load_checkpoint(pattern) as r:
        assert r.format == "v1" and r.num_shards == 3
        assert "V1" in repr(r) and "14 tensors" in repr(r)


def test_tf1_steps_directory(tmp_path):
    d = CK / "tf1_steps"
    info = manifest()["directories"]["tf1_steps"]
    assert tfformats.latest_checkpoint(d) == str(CK / info["latest_checkpoint"])
    assert tfformats.latest_checkpoint(str(d)) == str(CK / info["latest_checkpoint"])
    state = tfformats.get_checkpoint_state(d)
    assert state.model_checkpoint_path == str(CK / info["model_checkpoint_path"])
    assert list(state.all_model_checkpoint_paths) == [str(CK / p) for p in info["all_model_checkpoint_paths"]]
    for gone in info["deleted"]:
        assert not (CK / (gone + ".index")).exists()
        with pytest.raises(tfformats.NotFoundError):
            tfformats.load_checkpoint(CK / gone)
    # .meta files sit next to the checkpoints and do not confuse resolution.
    assert (CK / (info["latest_checkpoint"] + ".meta")).is_file()
    step4 = tfformats.load_variable(d, "global_step")
    step3 = tfformats.load_variable(CK / "tf1_steps" / "model.ckpt-3", "global_step:0")
    assert (int(step3), int(step4)) == (3, 4)
    np.testing.assert_array_equal(tfformats.load_variable(d, "w"), np.full(3, 4, np.float32))


def test_state_file_with_absolute_paths(tmp_path):
    src = CK / "tf1_steps"
    d = tmp_path / "run"
    shutil.copytree(src, d)
    other = tmp_path / "elsewhere"
    other.mkdir()
    abs_prefix = copy_prefix(str(d / "model.ckpt-3"), other)  # the newest lives outside the directory
    (d / "checkpoint").write_text(
        f'model_checkpoint_path: "{abs_prefix}"\n'
        f'all_model_checkpoint_paths: "{d / "model.ckpt-4"}"\n'
        f'all_model_checkpoint_paths: "{abs_prefix}"\n'
    )
    assert tfformats.latest_checkpoint(d) == abs_prefix
    state = tfformats.get_checkpoint_state(d)
    assert list(state.all_model_checkpoint_paths) == [str(d / "model.ckpt-4"), abs_prefix]
    assert int(tfformats.load_variable(d, "global_step")) == 3
    with tfformats.load_checkpoint(d) as r:
        assert r.prefix == abs_prefix


def test_relative_state_file_in_a_moved_directory(tmp_path):
    d = tmp_path / "moved"
    shutil.copytree(CK / "tf1_steps", d)
    assert tfformats.latest_checkpoint(d) == str(d / "model.ckpt-4")
    old = os.getcwd()
    try:
        os.chdir(tmp_path)
        assert int(tfformats.load_variable("moved", "global_step")) == 4
        assert tfformats.list_variables("moved/model.ckpt-3") == [("global_step", []), ("w", [3])]
    finally:
        os.chdir(old)


def test_state_file_missing_or_stale(tmp_path):
    assert tfformats.latest_checkpoint(tmp_path) is None
    assert tfformats.get_checkpoint_state(tmp_path) is None
    assert tfformats.latest_checkpoint(tmp_path / "nope") is None
    (tmp_path / "checkpoint").write_text('model_checkpoint_path: "gone"\n')
    assert tfformats.latest_checkpoint(tmp_path) is None
    with pytest.raises(tfformats.NotFoundError) as ei:
        tfformats.load_checkpoint(tmp_path)
    assert str(tmp_path) in str(ei.value)


def test_state_file_read_like_tensorflow(tmp_path):
    """TF reads the state file with text_format.Merge: a repeated singular field
    keeps its last value.  Unknown fields or an empty model_checkpoint_path are
    a DataLossError naming the file (TF logs and ignores the first, raises
    ValueError for the second)."""
    d = tmp_path / "run"
    shutil.copytree(CK / "tf1_steps", d)
    (d / "checkpoint").write_text(
        'model_checkpoint_path: "model.ckpt-3"\nmodel_checkpoint_path: "model.ckpt-4"\n'
        'all_model_checkpoint_paths: "model.ckpt-3"\n'
    )
    assert tfformats.latest_checkpoint(d) == str(d / "model.ckpt-4")
    for text in ("garbage {{", 'all_model_checkpoint_paths: "model.ckpt-3"\n'):
        (d / "checkpoint").write_text(text)
        with pytest.raises(tfformats.DataLossError) as ei:
            tfformats.get_checkpoint_state(d)
        assert str(d / "checkpoint") in str(ei.value)


def test_missing_path_is_not_found(tmp_path):
    with pytest.raises(tfformats.NotFoundError) as ei:
        tfformats.load_checkpoint(tmp_path / "no_such_ckpt")
    assert isinstance(ei.value, FileNotFoundError) and isinstance(ei.value, TFFormatsError)
    assert "no_such_ckpt" in str(ei.value)


# ---------------------------------------------------------------------------
# Mapping, context manager, repr
# ---------------------------------------------------------------------------
def test_mapping_behaviour():
    cid = "tf1_sharded"
    names = [n for n, _ in checkpoint(cid)["list_variables"]]
    with tfformats.load_checkpoint(path_of(cid)) as r:
        assert isinstance(r, Mapping)
        assert len(r) == len(names)
        assert list(r) == names == sorted(names)
        assert list(r.keys()) == names
        assert "dense/kernel" in r and "nope" not in r and 3 not in r and None not in r
        np.testing.assert_array_equal(r["dense/kernel"], r.get_tensor("dense/kernel"))
        assert r.get("nope") is None
        assert r.get("nope", 5) == 5
        with pytest.raises(KeyError):
            r["nope"]
        with pytest.raises(UnknownTensorError) as ei:
            r.get_tensor("nope")
        assert isinstance(ei.value, TFFormatsError) and "nope" in str(ei.value)
        items = dict(r.items())
        assert list(items) == names
        assert items["words"].tolist() == [b"w0", b"w1w1", b"w2w2w2", b"w3w3w3w3", b"w4w4w4w4w4"]
        assert len(list(r.values())) == len(names)
        with pytest.raises(TypeError):
            r["x"] = 1  # read-only
        assert not r.has_tensor(3)


def test_context_manager_and_repr():
    prefix = path_of("tf2_sharded")
    r = tfformats.load_checkpoint(prefix)
    with r as same:
        assert same is r
        text = repr(r)
    assert "CheckpointReader" in text and prefix in text and "V2" in text
    assert "6 tensors" in text and "6 shards" in text
    r.close()  # closing twice is harmless


def test_partitioned_variables_are_assembled_and_slice_keys_hidden():
    with tfformats.load_checkpoint(path_of("tf1_sharded")) as r:
        names = list(r)
        assert not any(n.startswith("\x00") or "/part_" in n for n in names)
        assert r.get_variable_to_shape_map()["emb"] == [10, 3]
        assert r.get_variable_to_shape_map()["emb_cols"] == [2, 7]
        for bad in ("emb/part_0", "emb/part_1", "words/part_0"):
            assert not r.has_tensor(bad)
            with pytest.raises(UnknownTensorError):
                r.get_tensor(bad)
        # each partition lives in another data shard
        shards = {se.shard_id for _, se in r.backend.slice_entries("emb")}
        assert len(shards) > 1
    with tfformats.load_checkpoint(path_of("tf2_sharded")) as r:
        # TF2 size-based sharding splits even unpartitioned variables into slices
        assert len(r.backend.slice_entries("big/.ATTRIBUTES/VARIABLE_VALUE")) > 1
        assert r.get_shape("big/.ATTRIBUTES/VARIABLE_VALUE") == (40, 30)
        # a raw slice key is not a tensor name
        key = next(k for k in r.backend._raw if k.startswith(b"\x00")).decode("latin-1")
        assert key not in r and not r.has_tensor(key)


# ---------------------------------------------------------------------------
# Partial reads, zero-copy views, checksums
# ---------------------------------------------------------------------------
SLICES = [
    ("big", "embedding", [slice(100, 200), slice(0, 1), slice(1000, 2000), slice(-5, None), slice(None),
                          slice(10, 3), slice(0, 50, 7), 5, -1, (slice(2, 4), 7), (3, slice(None, None, -1))]),
    ("big", "rows_bf16", [slice(3, 17), -2]),
    ("big", "rows_strings", [slice(4, 9), 0, (slice(1, 3), 1)]),
    ("big", "rows_c128", [slice(1, 16), (slice(None), 2)]),
    ("tf2_sharded", "big/.ATTRIBUTES/VARIABLE_VALUE", [slice(5, 33), slice(9, 11), slice(36, 40), 21]),
    ("tf2_sharded", "mid/.ATTRIBUTES/VARIABLE_VALUE", [slice(90, 150), slice(134, 139)]),
    ("tf1_sharded", "emb", [slice(2, 9), slice(4, 7), 9]),
    ("tf1_sharded", "emb_cols", [slice(0, 1), (slice(None), slice(3, 6))]),
    ("tf1_sharded", "words", [slice(1, 4)]),
    ("v1_sharded", "emb", [slice(2, 9), 3]),
    ("dtypes", "float32/scalar", [()]),
]


@pytest.mark.parametrize("cid,name,keys", SLICES, ids=[f"{c}:{n}" for c, n, _ in SLICES])
def test_get_slice_equals_full_read(cid, name, keys):
    with tfformats.load_checkpoint(path_of(cid)) as r:
        full = r.get_tensor(name)
        s = r.get_slice(name)
        assert s.shape == full.shape and s.ndim == full.ndim
        assert s.tf_dtype == r.get_dtype(name)
        assert name in repr(s)
        for key in keys:
            got = s[key]
            want = full[key]
            assert np.shape(got) == np.shape(want), key
            if full.dtype == object:
                assert np.asarray(got).tolist() == np.asarray(want).tolist(), key
            else:
                assert np.asarray(got).tobytes() == np.asarray(want).tobytes(), key
        if full.dtype != object:
            assert np.asarray(s).tobytes() == full.tobytes()


def test_get_slice_reads_only_the_rows_it_needs():
    with tfformats.load_checkpoint(path_of("big")) as r:
        backend = r.backend
        name = "embedding"
        e = backend.entry(name)
        src = backend._shard(e.shard_id, name)
        calls = []
        orig = src.readinto

        def spy(offset, buf):
            calls.append((offset, memoryview(buf).nbytes))
            return orig(offset, buf)

        src.readinto = spy
        part = r.get_slice(name)[1000:1010]
        row = 256 * 4
        assert calls == [(e.offset + 1000 * row, 10 * row)]
        assert part.tobytes() == r.get_tensor_view(name)[1000:1010].tobytes()
        with pytest.raises(IndexError):
            r.get_slice(name)[1024]
        with pytest.raises(UnknownTensorError):
            r.get_slice("nope")
        with pytest.raises(tfformats.InvalidArgumentError):
            r.get_slice(3)


def test_get_slice_of_strings_follows_the_checksum_switch(tmp_path):
    """Rows of a string tensor come from a whole read, checked unless switched off."""
    prefix = copy_prefix(path_of("big"), tmp_path)
    with tfformats.load_checkpoint(prefix) as r:
        e = r.backend.entry("rows_strings")
        good = r.get_tensor("rows_strings")
    data = tmp_path / "ckpt.data-00000-of-00001"
    raw = bytearray(data.read_bytes())
    raw[e.offset + e.size - 1] ^= 0x01  # last byte of the last string
    data.write_bytes(bytes(raw))
    with tfformats.load_checkpoint(prefix) as r:
        with pytest.raises(tfformats.ChecksumError):
            r.get_slice("rows_strings")[0:2]
    with tfformats.load_checkpoint(prefix, verify_checksums=False) as r:
        assert r.get_slice("rows_strings")[0:2].tolist() == good[0:2].tolist()


def test_get_tensor_view_is_zero_copy_and_read_only():
    with tfformats.load_checkpoint(path_of("big")) as r:
        v = r.get_tensor_view("embedding")
        full = r.get_tensor("embedding")
        assert v.shape == (1024, 256) and v.dtype == np.float32
        assert not v.flags.writeable and not v.flags.owndata
        assert v.tobytes() == full.tobytes()
        with pytest.raises(ValueError):
            v[0, 0] = 1.0
        # the view's memory is the mapped shard, not a copy
        base = v
        while isinstance(base, np.ndarray) and base.base is not None:
            base = base.base
        assert not isinstance(base, np.ndarray)
        np.testing.assert_array_equal(r.get_tensor_view("embedding", verify=True), full)
        with pytest.raises(UnsupportedError):
            r.get_tensor_view("rows_strings")
    with tfformats.load_checkpoint(path_of("tf1_sharded")) as r:
        with pytest.raises(UnsupportedError):
            r.get_tensor_view("emb")  # partitioned
        assert r.get_tensor_view("dense/kernel").tobytes() == r.get_tensor("dense/kernel").tobytes()
    with tfformats.load_checkpoint(path_of("dtypes")) as r:
        assert r.get_tensor_view("float64/empty").shape == (3, 0)
    with tfformats.load_checkpoint(path_of("v1_single")) as r:
        with pytest.raises(UnsupportedError):
            r.get_tensor_view("dense/kernel")


def test_verify_checksums_switch(tmp_path):
    prefix = copy_prefix(path_of("big"), tmp_path)
    e = None
    with tfformats.load_checkpoint(prefix) as r:
        e = r.backend.entry("embedding")
        good = r.get_tensor("embedding")
    data = tmp_path / "ckpt.data-00000-of-00001"
    raw = bytearray(data.read_bytes())
    raw[e.offset + 4 * 777] ^= 0x01  # one bit of element 777
    data.write_bytes(bytes(raw))
    with tfformats.load_checkpoint(prefix) as r:
        with pytest.raises(tfformats.ChecksumError) as ei:
            r.get_tensor("embedding")
        assert str(data) in str(ei.value)
        # other tensors still read (and verify)
        r.get_tensor("small")
    with tfformats.load_checkpoint(prefix, verify_checksums=False) as r:
        bad = r.get_tensor("embedding")
    diff = np.flatnonzero(bad.view(np.uint32).reshape(-1) != good.view(np.uint32).reshape(-1))
    assert diff.tolist() == [777]


def test_nbytes_and_num_shards():
    with tfformats.load_checkpoint(path_of("big")) as r:
        assert r.nbytes("embedding") == 1024 * 256 * 4
        assert r.num_shards == 1
    with tfformats.load_checkpoint(path_of("tf1_sharded")) as r:
        assert r.num_shards == checkpoint("tf1_sharded")["num_shards"] == 3


def test_load_variable_v1_and_unknown_names():
    c = checkpoint("v1_sharded")
    pattern = path_of("v1_sharded")
    from _checkpoint_helpers import assert_matches as check

    check(tfformats.load_variable(pattern, "emb"), "v1_sharded", c["restored"]["emb"], "emb")
    check(tfformats.load_variable(CK / c["directory"], "vocab:0"), "v1_sharded", c["tensors"]["vocab"], "vocab")
    with pytest.raises(UnknownTensorError) as ei:
        tfformats.load_variable(pattern, "missing")
    assert isinstance(ei.value, KeyError) and pattern in str(ei.value)
    with tfformats.load_checkpoint(pattern) as r:
        assert "V1Reader" in repr(r.backend) and "3 files" in repr(r.backend)
        assert r.backend.files == [str(CK / c["directory"] / f) for f in c["files"]]
