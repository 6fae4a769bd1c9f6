"""Checkpoints read from fsspec URLs: a real HTTP server on loopback (nginx, and a stdlib
server with Range support), fsspec's memory filesystem, and a byte-counting filesystem.

Fixtures: tests/data/remote/{tf1,tf2} written by TensorFlow (tests/generate/gen_remote.py),
with the values TF read back in expected.npz / expected.json.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import DATA

fsspec = pytest.importorskip("fsspec")
pytest.importorskip("aiohttp")

import tfformats  # noqa: E402
from tfformats._io import remote as _remote  # noqa: E402

import _remote_servers as servers  # noqa: E402

REMOTE = DATA / "remote"
LAYOUTS = ("tf1", "tf2")


def expected(layout: str):
    meta = json.loads((REMOTE / layout / "expected.json").read_text())
    arrays = dict(np.load(REMOTE / layout / "expected.npz"))
    return meta, arrays


def assert_tensor_matches(name, value, meta, arrays):
    dtypes = {n: d for n, _, d in meta["variables"]}
    shapes = {n: s for n, s, _ in meta["variables"]}
    assert list(value.shape) == shapes[name], name
    if dtypes[name] == "string":
        got = [bytes(v).hex() for v in value.reshape(-1)]
        assert got == meta["strings_hex"][name], name
    elif dtypes[name] == "bfloat16":
        assert value.dtype.name == "bfloat16"
        np.testing.assert_array_equal(value.view(np.uint16), arrays[name], err_msg=name)
    else:
        assert value.dtype == arrays[name].dtype, name
        np.testing.assert_array_equal(value, arrays[name], err_msg=name)


def tensor_nbytes(reader, name: str) -> int:
    """Bytes of a tensor's entries in the data shards (the sum over its slices if partitioned)."""
    backend = reader.backend
    slices = backend.slice_entries(name)
    if slices:
        return sum(e.size for _, e in slices)
    return backend.entry(name).size


# -- servers ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A copy of the fixtures under a document root: root/{tf1,tf2}, plus a corrupted copy."""
    root = tmp_path_factory.mktemp("www")
    for layout in LAYOUTS:
        shutil.copytree(REMOTE / layout, root / layout)
    bad = root / "corrupt"
    shutil.copytree(REMOTE / "tf1", bad)
    reader = tfformats.load_checkpoint(REMOTE / "tf1")
    entry = reader.backend.entry("dense/kernel")
    data = bad / "model.ckpt-10.data-00000-of-00001"
    raw = bytearray(data.read_bytes())
    raw[entry.offset + 100] ^= 0x01
    data.write_bytes(bytes(raw))
    reader.close()
    missing = root / "missing_shard"
    shutil.copytree(REMOTE / "tf2", missing)
    (missing / "ckpt-3.data-00001-of-00003").unlink()
    return root


@pytest.fixture(scope="module", params=servers.SERVER_KINDS)
def server(request, served, tmp_path_factory):
    srv = servers.start(request.param, served, tmp_path_factory)
    yield srv
    srv.close()


@pytest.fixture
def countmem():
    """``countmem://ckpt/{tf1,tf2}``: a filesystem counting every byte fetched."""
    fs_cls = servers.counting_memory_fs()
    fs = fs_cls()
    for layout in LAYOUTS:
        for f in (REMOTE / layout).iterdir():
            fs.pipe_file(f"/ckpt/{layout}/{f.name}", f.read_bytes())
    fs_cls.reset()
    yield fs_cls
    fs_cls.store.clear()
    fs_cls.reset()


@pytest.fixture
def memfs():
    fs = fsspec.filesystem("memory")
    for layout in LAYOUTS:
        for f in (REMOTE / layout).iterdir():
            fs.pipe_file(f"/tfformats-test/{layout}/{f.name}", f.read_bytes())
    yield fs
    fs.rm("/tfformats-test", recursive=True)


# -- HTTP ---------------------------------------------------------------------------
@pytest.mark.parametrize("layout", LAYOUTS)
def test_http_every_tensor_matches_tensorflow(server, layout):
    meta, arrays = expected(layout)
    with tfformats.load_checkpoint(f"{server.url}/{layout}") as reader:  # directory: via the state file
        assert reader.prefix == f"{server.url}/{layout}/{meta['prefix']}"
        assert [[n, s, reader.get_dtype(n)] for n, s in reader.list_variables()] == meta["variables"]
        for name, _, _ in meta["variables"]:
            assert_tensor_matches(name, reader.get_tensor(name), meta, arrays)


def test_http_open_reads_only_the_index(server):
    meta, _ = expected("tf1")
    server.reset()
    reader = tfformats.load_checkpoint(f"{server.url}/tf1/model.ckpt-10")
    reqs = server.requests()
    reader.close()
    assert servers.body_bytes(reqs) == meta["files"]["model.ckpt-10.index"]
    assert not [r for r in reqs if ".data-" in r.path]


def test_http_single_tensor_fetches_its_own_bytes(server):
    meta, arrays = expected("tf1")
    index_size = meta["files"]["model.ckpt-10.index"]
    shard_size = meta["files"]["model.ckpt-10.data-00000-of-00001"]
    server.reset()
    with tfformats.load_checkpoint(f"{server.url}/tf1/model.ckpt-10") as reader:
        value = reader.get_tensor("dense/kernel")
        reqs = server.requests()
    np.testing.assert_array_equal(value, arrays["dense/kernel"])
    tensor = 64 * 64 * 4
    data_reqs = [r for r in reqs if ".data-" in r.path and r.method == "GET"]
    assert [(r.status, r.body_bytes) for r in data_reqs] == [(206, tensor)]
    # the index, plus the tensor -- the shard is 22x larger than the tensor
    assert servers.body_bytes(reqs) == index_size + tensor
    assert shard_size > 20 * tensor


def test_http_partitioned_tensor_fetches_only_its_slices(server):
    meta, arrays = expected("tf2")
    server.reset()
    with tfformats.load_checkpoint(f"{server.url}/tf2/ckpt-3") as reader:
        name = "a/.ATTRIBUTES/VARIABLE_VALUE"
        value = reader.get_tensor(name)
        need = tensor_nbytes(reader, name)
        reqs = server.requests()
    np.testing.assert_array_equal(value, arrays[name])
    data = [r for r in reqs if ".data-" in r.path and r.method == "GET"]
    assert {r.path.rsplit("/", 1)[1] for r in data} == {"ckpt-3.data-00000-of-00003", "ckpt-3.data-00001-of-00003"}
    assert sum(r.body_bytes for r in data) == need == 200 * 100 * 4
    assert all(r.status == 206 for r in data)
    assert servers.body_bytes(reqs) == meta["files"]["ckpt-3.index"] + need


def test_http_rows_of_a_tensor(server):
    _, arrays = expected("tf1")
    with tfformats.load_checkpoint(f"{server.url}/tf1/model.ckpt-10") as reader:
        server.reset()
        rows = reader.get_slice("big/kernel")[10:20]
        reqs = server.requests()
    np.testing.assert_array_equal(rows, arrays["big/kernel"][10:20])
    assert servers.body_bytes(reqs) == 10 * 256 * 4


def test_http_concurrent_reads(server):
    meta, arrays = expected("tf1")
    names = [n for n, _, _ in meta["variables"]]
    with tfformats.load_checkpoint(f"{server.url}/tf1/model.ckpt-10") as reader:
        server.reset()
        values = reader.get_tensors(names)
        reqs = server.requests()
        need = sum(tensor_nbytes(reader, n) for n in names)
    assert list(values) == names
    for n in names:
        assert_tensor_matches(n, values[n], meta, arrays)
    assert sum(r.body_bytes for r in reqs if ".data-" in r.path) == need


def test_http_corrupted_tensor_is_a_checksum_error(server):
    with tfformats.load_checkpoint(f"{server.url}/corrupt/model.ckpt-10") as reader:
        with pytest.raises(tfformats.ChecksumError) as info:
            reader.get_tensor("dense/kernel")
        assert "dense/kernel" in str(info.value) and server.url in str(info.value)
        reader.get_tensor("dense/bias")  # the others still read


def test_http_missing_checkpoint_and_shard(server):
    with pytest.raises(tfformats.NotFoundError) as info:
        tfformats.load_checkpoint(f"{server.url}/tf1/model.ckpt-99")
    assert isinstance(info.value, FileNotFoundError)
    with tfformats.load_checkpoint(f"{server.url}/missing_shard") as reader:
        reader.get_tensor("c/.ATTRIBUTES/VARIABLE_VALUE")  # in shard 2, present
        with pytest.raises(tfformats.NotFoundError, match="data shard 1 of 3"):
            reader.get_tensor("b/.ATTRIBUTES/VARIABLE_VALUE")


def test_http_latest_checkpoint_and_state(server):
    # tf1: the Saver stored absolute paths of a temporary directory; they are found by base name
    assert tfformats.latest_checkpoint(f"{server.url}/tf1") == f"{server.url}/tf1/model.ckpt-10"
    state = tfformats.get_checkpoint_state(f"{server.url}/tf2/")
    assert state.model_checkpoint_path == f"{server.url}/tf2/ckpt-3"
    assert list(state.all_model_checkpoint_paths) == [f"{server.url}/tf2/ckpt-3"]
    assert tfformats.get_checkpoint_state(f"{server.url}/nowhere") is None


def test_http_server_without_ranges_is_refused(served):
    srv = servers.StdlibServer(served, ranges=False)
    try:
        with tfformats.load_checkpoint(f"{srv.url}/tf1/model.ckpt-10") as reader:
            with pytest.raises(tfformats.UnsupportedError, match="range requests"):
                reader.get_tensor("dense/kernel")
    finally:
        srv.close()


# -- fsspec filesystems ---------------------------------------------------------------
@pytest.mark.parametrize(
    "where",
    ["tf1", "tf1/", "tf1/model.ckpt-10", "tf1/model.ckpt-10.index", "tf1/model.ckpt-10.data-00000-of-00001",
     "tf2", "tf2/ckpt-3"],
)
def test_memory_filesystem(memfs, where):
    layout = where.split("/")[0]
    meta, arrays = expected(layout)
    with tfformats.load_checkpoint(f"memory://tfformats-test/{where}") as reader:
        assert reader.prefix == f"memory://tfformats-test/{layout}/{meta['prefix']}"
        for name, _, _ in meta["variables"]:
            assert_tensor_matches(name, reader[name], meta, arrays)
    assert tfformats.list_variables(f"memory://tfformats-test/{where}") == [(n, s) for n, s, _ in meta["variables"]]


def test_memory_filesystem_not_found(memfs):
    with pytest.raises(tfformats.NotFoundError, match="looked for"):
        tfformats.load_checkpoint("memory://tfformats-test/nothing")


def test_counting_filesystem_single_tensor(countmem):
    meta, arrays = expected("tf1")
    reader = tfformats.load_checkpoint("countmem://ckpt/tf1/model.ckpt-10")
    assert countmem.total() == meta["files"]["model.ckpt-10.index"]
    countmem.reset()
    np.testing.assert_array_equal(reader.get_tensor("counts"), arrays["counts"])
    assert countmem.fetched == [(262144, 262144 + 80, 80)]
    countmem.reset()
    np.testing.assert_array_equal(reader.get_tensor("emb"), arrays["emb"])
    assert sorted(n for _, _, n in countmem.fetched) == [300 * 64 * 4 // 3] * 3
    reader.close()


def test_counting_filesystem_large_read_in_parallel_chunks(countmem, monkeypatch):
    monkeypatch.setattr(_remote, "PARALLEL_CHUNK", 40_000)
    _, arrays = expected("tf1")
    with tfformats.load_checkpoint("countmem://ckpt/tf1/") as reader:
        countmem.reset()
        np.testing.assert_array_equal(reader.get_tensor("big/kernel"), arrays["big/kernel"])
        spans = sorted((s, e) for s, e, _ in countmem.fetched)
    # 262144 bytes in 40,000-byte ranges, contiguous and not overlapping
    assert len(spans) == 7
    assert spans[0][0] == 0 and spans[-1][1] == 262144
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))


def test_remote_source_reads(countmem):
    src = _remote.open_remote_source("countmem://ckpt/tf2/ckpt-3.data-00000-of-00003")
    raw = (REMOTE / "tf2" / "ckpt-3.data-00000-of-00003").read_bytes()
    assert src.size == len(raw) and "RemoteSource" in repr(src)
    assert bytes(src.read(10, 20)) == raw[10:30]
    buf = bytearray(100)
    src.readinto(1000, buf)
    assert bytes(buf) == raw[1000:1100]
    with pytest.raises(tfformats.DataLossError):
        src.read(len(raw) - 5, 10)
    assert src.requests == 2 and src.bytes_fetched == 120
    src.close()
    with pytest.raises(tfformats.TFFormatsError, match="closed"):
        src.read(0, 1)


def test_unknown_protocol_is_a_clear_error():
    with pytest.raises(tfformats.TFFormatsError):
        tfformats.load_checkpoint("nosuchprotocol://bucket/model.ckpt-1")


def test_local_paths_never_import_fsspec():
    code = (
        "import sys, tfformats\n"
        f"r = tfformats.load_checkpoint({str(REMOTE / 'tf1')!r})\n"
        "r.get_tensor('dense/kernel')\n"
        "assert 'fsspec' not in sys.modules, 'fsspec imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_local_path_containing_a_protocol_separator_is_local(tmp_path):
    # "/tmp/x/a://b" is the local directory /tmp/x/a:/b, not a URL: only a protocol at the
    # start ("gs://", "memory://", fsspec chains "simplecache::s3://") makes a path remote.
    import shutil

    from tfformats._io.source import is_remote

    sample = Path(__file__).resolve().parent.parent / "examples" / "sample_checkpoint"
    where = tmp_path / "a:" / "b"
    shutil.copytree(sample, where)
    odd = f"{tmp_path}/a://b"
    assert not is_remote(odd) and not is_remote(odd + "/model-1")
    assert all(is_remote(u) for u in ("gs://bucket/ckpt", "memory://x", "simplecache::s3://b/k", "http://h/c"))
    with tfformats.load_checkpoint(odd + "/model-1") as r:
        with tfformats.load_checkpoint(sample / "model-1") as want:
            assert r.list_variables() == want.list_variables()
    assert tfformats.latest_checkpoint(odd).endswith("model-1")
