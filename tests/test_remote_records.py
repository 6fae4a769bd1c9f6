"""TFRecord files streamed from fsspec URLs: a real HTTP server on loopback (nginx, and the
stdlib Range server), fsspec's memory filesystem, and a byte-counting filesystem.

Fixtures written by TensorFlow: tests/data/records/ (every compression, empty files, a 1 MiB
record; per-record SHA-256 as tf.data.TFRecordDataset read them) and
tests/data/remote/examples/ (sharded Example datasets).
"""

from __future__ import annotations

import hashlib
import json
import os
import tracemalloc

import pytest

from conftest import DATA

fsspec = pytest.importorskip("fsspec")
pytest.importorskip("aiohttp")

import tfformats  # noqa: E402
from tfformats import records as tfr  # noqa: E402
from tfformats._io import remote as _remote  # noqa: E402

import _remote_servers as servers  # noqa: E402

RECORDS = DATA / "records"
EXAMPLES = DATA / "remote" / "examples"
EVENTS = DATA / "remote" / "events"
CHUNK = 4 << 20  # tfformats.records' default chunk


def record_files():
    meta = json.loads((RECORDS / "expected.json").read_text())["files"]
    return sorted(meta.items())


def sha(recs) -> list[str]:
    return [hashlib.sha256(bytes(r)).hexdigest() for r in recs]


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    """~40 MB of 48 KiB..80 KiB records (and a GZIP file of text-like ones), written by tfformats.records."""
    root = tmp_path_factory.mktemp("bigrecords")
    rng = __import__("numpy").random.default_rng(3)
    recs = [rng.bytes(int(n)) for n in rng.integers(48 << 10, 80 << 10, 620)]
    tfr.write(root / "big.tfrecord", recs)
    # compressible content, so the GZIP file is much smaller than what it expands to
    text = [bytes(r[:2048]) * 24 for r in recs[:620]]
    tfr.write(root / "big.tfrecord.gz", text, compression="GZIP")
    return root, sha(recs), sha(text)


@pytest.fixture(scope="module")
def served(tmp_path_factory, big):
    root = tmp_path_factory.mktemp("www-records")
    (root / "records").symlink_to(RECORDS.resolve())
    (root / "examples").symlink_to(EXAMPLES.resolve())
    (root / "big").symlink_to(big[0])
    (root / "events").symlink_to(EVENTS.resolve())
    return root


@pytest.fixture(scope="module", params=servers.SERVER_KINDS)
def server(request, served, tmp_path_factory):
    srv = servers.start(request.param, served, tmp_path_factory)
    yield srv
    srv.close()


# -- HTTP ---------------------------------------------------------------------------
@pytest.mark.parametrize("name,info", record_files(), ids=[n for n, _ in record_files()])
def test_http_records_match_tensorflow(server, name, info):
    url = f"{server.url}/records/{name}"
    with tfr.read(url) as it:
        got = list(it)
        assert it.compression == info["compression"]
    assert sha(got) == info["sha256"]
    assert tfr.count(url) == info["records"]


@pytest.mark.parametrize("layout", ["plain", "gzip", "zlib"])
def test_http_example_shards_match_tensorflow(server, layout):
    meta = json.loads((EXAMPLES / f"{layout}.json").read_text())
    for name, info in meta["files"].items():
        h = hashlib.sha256()
        n = 0
        for r in tfr.read(f"{server.url}/examples/{layout}/{name}"):
            h.update(len(r).to_bytes(8, "little") + r)
            n += 1
        assert (n, h.hexdigest()) == (info["records"], info["sha256"])


def test_http_streaming_is_bounded(server, big):
    _, want, _ = big
    url = f"{server.url}/big/big.tfrecord"
    size = os.path.getsize(big[0] / "big.tfrecord")
    server.reset()
    tracemalloc.start()
    try:
        got = []
        for r in tfr.read(url, chunk_size=1 << 20):
            got.append(hashlib.sha256(r).hexdigest())  # keep no record
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert got == want
    reqs = [r for r in server.requests() if r.method == "GET"]
    # every request is a range of at most one chunk (or the format-detection head); the file is read about once
    assert all(r.status == 206 and r.body_bytes <= 1 << 20 for r in reqs)
    assert size <= servers.body_bytes(reqs) <= size + (1 << 20)
    # memory: a few 1 MiB chunks (one being parsed, one read ahead, buffers), never the 40 MB file
    assert size > 36 << 20 and peak < 8 << 20, peak


def test_http_gzip_streaming_is_bounded(server, big):
    _, _, want = big
    url = f"{server.url}/big/big.tfrecord.gz"
    size = os.path.getsize(big[0] / "big.tfrecord.gz")
    tracemalloc.start()
    try:
        got = [hashlib.sha256(r).hexdigest() for r in tfr.read(url, chunk_size=1 << 20)]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert got == want
    expanded = sum(24 * 2048 + 16 for _ in want)
    assert expanded > 28 << 20 and expanded > 5 * size and peak < 8 << 20, (peak, size)


def test_http_byte_range_fetches_about_the_range(server, big):
    url = f"{server.url}/big/big.tfrecord"
    all_recs = sha(tfr.read(big[0] / "big.tfrecord"))
    server.reset()
    part = list(tfr.read(url, start=5_000_000, end=6_000_000, chunk_size=1 << 20))
    reqs = server.requests()
    assert part and sha(part) == all_recs[all_recs.index(sha(part[:1])[0]) :][: len(part)]
    assert servers.body_bytes(reqs) < 1_000_000 + 2 * (1 << 20) + (1 << 20)  # the range, a chunk past it, the head


def test_http_open_file_objects(server):
    name, info = next((n, i) for n, i in record_files() if i["compression"] == "GZIP" and i["records"] > 3)
    with fsspec.open(f"{server.url}/records/{name}", "rb") as f:  # a file object, read front to back
        assert sha(tfr.read(f)) == info["sha256"]
    with _remote.open_stream(f"{server.url}/records/{name}") as f:
        assert sha(tfr.read(f)) == info["sha256"]


def test_http_missing_file(server):
    with pytest.raises(tfformats.NotFoundError):
        list(tfr.read(f"{server.url}/records/nothing.tfrecord"))


# -- fsspec filesystems ---------------------------------------------------------------
def test_memory_filesystem_every_compression():
    fs = fsspec.filesystem("memory")
    for name, _ in record_files():
        fs.pipe_file(f"/tfformats-records/{name}", (RECORDS / name).read_bytes())
    try:
        for name, info in record_files():
            assert sha(tfr.read(f"memory://tfformats-records/{name}")) == info["sha256"], name
    finally:
        fs.rm("/tfformats-records", recursive=True)


def test_counting_filesystem_reads_each_byte_about_once(big):
    fs_cls = servers.counting_memory_fs()
    fs = fs_cls()
    data = (big[0] / "big.tfrecord").read_bytes()
    fs.pipe_file("/big.tfrecord", data)
    fs_cls.reset()
    try:
        assert sha(tfr.read("countmem://big.tfrecord")) == big[1]
        fetched = list(fs_cls.fetched)
    finally:
        fs_cls.store.clear()
        fs_cls.reset()
    assert max(n for _, _, n in fetched) <= CHUNK
    assert len(data) <= sum(n for _, _, n in fetched) <= len(data) + CHUNK


# -- event files ------------------------------------------------------------------------


def event_rows(log):
    return [[r.tag, r.step, r.value] for r in log.scalars]


def test_http_event_file_matches_tensorflow(server):
    from tfformats import events as tfev

    exp = json.loads((EVENTS / "expected.json").read_text())
    url = f"{server.url}/{exp['file']}"
    assert sum(1 for _ in tfev.iter_events(url)) == exp["records"]
    server.reset()
    assert event_rows(tfev.read_events(url)) == exp["scalars"]
    # finding the file's run takes its metadata (HEAD), never a whole-file GET
    gets = [r for r in server.requests() if r.method == "GET"]
    assert gets and all(r.range for r in gets)


def test_memory_filesystem_log_directory():
    from tfformats import events as tfev

    exp = json.loads((EVENTS / "expected.json").read_text())
    fs = fsspec.filesystem("memory")
    src = DATA / "remote" / exp["file"]
    fs.pipe_file(f"/tfformats-logs/train/{src.name}", src.read_bytes())
    fs.pipe_file(f"/tfformats-logs/eval/{src.name}", src.read_bytes())
    try:
        log = tfev.read_events("memory://tfformats-logs")
        assert log.runs == ["eval", "train"]
        assert [[r.run, r.tag, r.step, r.value] for r in log.scalars.filter(run="train")] == [
            ["train", *row] for row in exp["scalars"]
        ]
    finally:
        fs.rm("/tfformats-logs", recursive=True)


def test_http_log_directory(server):
    from tfformats import events as tfev

    exp = json.loads((EVENTS / "expected.json").read_text())
    log = tfev.read_events(f"{server.url}/events/")  # walked through the server's directory listing
    assert log.runs == ["run1"]
    assert event_rows(log) == exp["scalars"]


# -- RecordFile (random access) over a remote file ----------------------------------------


def test_http_record_file_iterates_in_few_requests(server):
    """Iterating or slicing a RecordFile reads runs of records, not one request per record."""
    rel = "examples/plain/train-00000-of-00004.tfrecord"
    local = EXAMPLES / "plain" / "train-00000-of-00004.tfrecord"
    want = [bytes(r) for r in tfr.read(local)]
    size = os.path.getsize(local)
    with tfformats.open_records(f"{server.url}/{rel}") as recs:
        assert len(recs) == len(want) == 400  # the index: the file read once
        server.reset()
        assert list(recs) == want
        assert recs[10:20] == want[10:20] and recs[5] == want[5]
        assert recs[::50] == want[::50]  # strided: one record per read
        reqs = [r for r in server.requests() if r.method == "GET"]
    assert len(reqs) == 1 + 1 + 1 + 8, [(r.range, r.body_bytes) for r in reqs]
    assert servers.body_bytes(reqs) == size + sum(len(r) + 16 for r in want[10:20] + [want[5]] + want[::50])


def test_record_file_runs_are_bounded_and_checked(tmp_path, monkeypatch):
    fs_cls = servers.counting_memory_fs()
    fs = fs_cls()
    recs = [bytes([i]) * (1000 + 37 * i) for i in range(60)]
    tfr.write(tmp_path / "r.tfrecord", recs)
    raw = bytearray((tmp_path / "r.tfrecord").read_bytes())
    fs.pipe_file("/runs/r.tfrecord", bytes(raw))
    offset_41 = sum(len(r) + 16 for r in recs[:41])
    raw[offset_41 + 12 + 5] ^= 0xFF  # record 41's data
    fs.pipe_file("/runs/bad.tfrecord", bytes(raw))
    monkeypatch.setattr(tfr.RecordFile, "RUN_BYTES", 10_000)
    try:
        with tfr.RecordFile("countmem://runs/r.tfrecord") as rf:
            len(rf)
            fs_cls.reset()
            assert list(rf) == recs
            runs = [n for _, _, n in fs_cls.fetched]
        assert max(runs) <= 10_000 and sum(runs) == len(raw)
        assert len(runs) < len(recs) // 4
        with tfr.RecordFile("countmem://runs/bad.tfrecord") as rf:
            got = []
            with pytest.raises(tfformats.ChecksumError) as info:
                for r in rf:
                    got.append(r)
        assert got == recs[:41]
        assert info.value.record == 41 and str(offset_41) in str(info.value)
        assert "countmem://runs/bad.tfrecord" in str(info.value)
    finally:
        fs_cls.store.clear()
        fs_cls.reset()
