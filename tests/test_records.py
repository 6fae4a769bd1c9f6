"""TFRecord reading and writing against files written by TensorFlow (tests/data/records)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import pathlib
import zlib

import pytest

import tfformats
import tfformats.records as tfr
from tfformats.errors import ChecksumError, InvalidArgumentError, NotFoundError, ResourceLimitError, UnsupportedError

from conftest import DATA, require_data

REC = DATA / "records"


def expected():
    with open(require_data("records/expected.json")) as f:
        return json.load(f)["files"]


FILES = sorted(expected())


def sha(b) -> str:
    return hashlib.sha256(bytes(b)).hexdigest()


@pytest.mark.parametrize("name", FILES)
def test_read_matches_tensorflow(name):
    exp = expected()[name]
    got = list(tfr.read(REC / name))
    assert [sha(r) for r in got] == exp["sha256"]
    assert [len(r) for r in got] == exp["lengths"]
    assert all(type(r) is bytes for r in got)


@pytest.mark.parametrize("name", FILES)
def test_count_and_detection(name):
    exp = expected()[name]
    assert tfr.count(REC / name) == exp["records"]
    if exp["size"]:
        assert tfr.detect_compression(REC / name) == exp["compression"]
    it = tfr.read(REC / name)
    assert it.compression == (exp["compression"] if exp["size"] else "NONE")
    it.close()


@pytest.mark.parametrize("name", FILES)
def test_explicit_compression_and_every_kind_of_source(name):
    exp = expected()[name]
    comp = exp["compression"]
    path = REC / name
    with open(path, "rb") as f:
        data = f.read()
    for source in (str(path), pathlib.Path(path), data, bytearray(data), io.BytesIO(data), "file://" + str(path)):
        got = [sha(r) for r in tfr.read(source, compression=comp)]
        assert got == exp["sha256"], type(source)
    with open(path, "rb") as f:  # an open file, read from its current position
        assert [sha(r) for r in tfr.read(f)] == exp["sha256"]


class Trickle(io.RawIOBase):
    """A non-seekable stream that hands out at most ``n`` bytes per read."""

    def __init__(self, data: bytes, n: int = 7) -> None:
        self._data = data
        self._pos = 0
        self._n = n

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def read(self, size=-1):
        size = self._n if size is None or size < 0 else min(size, self._n)
        out = self._data[self._pos : self._pos + size]
        self._pos += len(out)
        return out


@pytest.mark.parametrize("name", ["examples.none.tfrecord", "examples.gzip.tfrecord", "examples.zlib.tfrecord",
                                  "examples.snappy.tfrecord", "edge.gzip.tfrecord", "empty.gzip.tfrecord"])
def test_non_seekable_stream(name):
    exp = expected()[name]
    data = (REC / name).read_bytes()
    got = [sha(r) for r in tfr.read(Trickle(data, 13))]
    assert got == exp["sha256"]


@pytest.mark.parametrize("name", ["edge.none.tfrecord", "edge.gzip.tfrecord", "examples.none.tfrecord", "examples.zlib.tfrecord"])
def test_small_chunks_split_records_everywhere(name):
    exp = expected()[name]
    got = [sha(r) for r in tfr.read(REC / name, chunk_size=4096)]
    assert got == exp["sha256"]


def test_zero_copy_views():
    exp = expected()["edge.none.tfrecord"]
    got = list(tfr.read(REC / "edge.none.tfrecord", copy=False))
    assert all(isinstance(r, memoryview) and r.readonly for r in got)
    assert [sha(r) for r in got] == exp["sha256"]


def test_empty_and_one_mib_records():
    recs = list(tfr.read(REC / "edge.zlib.tfrecord"))
    assert recs[0] == b"" and recs[1] == b"\x00" and len(recs[2]) == 1 << 20 and recs[3] == b"tail"


@pytest.mark.parametrize("name", [n for n in FILES if n.endswith(".none.tfrecord")])
def test_record_file_random_access(name):
    exp = expected()[name]
    with tfr.RecordFile(REC / name) as recs:
        assert "not indexed" in repr(recs)
        assert len(recs) == exp["records"]
        assert [sha(recs[i]) for i in range(len(recs))] == exp["sha256"]
        if len(recs):
            assert sha(recs[-1]) == exp["sha256"][-1]
            assert [sha(r) for r in recs[1::2]] == exp["sha256"][1::2]
            assert [sha(r) for r in recs] == exp["sha256"]
            assert list(recs.lengths) == exp["lengths"]
            assert recs.offsets[0] == 0
            assert f"{len(recs)} records" in repr(recs)
        with pytest.raises(IndexError):
            recs[len(recs)]
        with pytest.raises(TypeError):
            recs["x"]


def test_record_file_offsets_are_frame_boundaries():
    with tfformats.open_records(REC / "edge.none.tfrecord") as recs:
        offs = list(recs.offsets)
        lens = list(recs.lengths)
    assert offs == [sum(l + 16 for l in lens[:i]) for i in range(len(lens))]
    assert offs[-1] + lens[-1] + 16 == os.path.getsize(REC / "edge.none.tfrecord")


@pytest.mark.parametrize("name", ["examples.gzip.tfrecord", "examples.zlib.tfrecord", "examples.snappy.tfrecord"])
def test_record_file_refuses_compressed(name):
    with pytest.raises(UnsupportedError, match="uncompressed"):
        tfr.RecordFile(REC / name)


def test_record_file_on_seekable_file_object_and_bytes():
    exp = expected()["examples.none.tfrecord"]
    data = (REC / "examples.none.tfrecord").read_bytes()
    with open(REC / "examples.none.tfrecord", "rb") as f:
        assert sha(tfr.RecordFile(f)[5]) == exp["sha256"][5]
    assert sha(tfr.RecordFile(data)[-1]) == exp["sha256"][-1]


# -- byte ranges ------------------------------------------------------------------------------
def _split_read(path, cuts):
    bounds = [0, *cuts, os.path.getsize(path)]
    out = []
    for a, b in zip(bounds, bounds[1:]):
        out.extend(tfr.read(path, start=a, end=b))
    return out


def test_byte_ranges_cover_every_record_once_at_any_cut():
    path = REC / "examples.none.tfrecord"
    full = list(tfr.read(path))
    size = os.path.getsize(path)
    for cut in range(0, size + 1, 3):
        assert _split_read(path, [cut]) == full, cut


def test_byte_ranges_many_splits_with_big_records():
    path = REC / "edge.none.tfrecord"
    full = list(tfr.read(path))
    size = os.path.getsize(path)
    for n in (2, 3, 7, 50):
        cuts = [size * i // n for i in range(1, n)]
        assert _split_read(path, cuts) == full


def test_byte_range_arguments():
    with pytest.raises(InvalidArgumentError, match="uncompressed"):
        tfr.read(REC / "examples.gzip.tfrecord", start=10)
    with pytest.raises(InvalidArgumentError):
        tfr.read(REC / "examples.none.tfrecord", start=10, end=5)
    with pytest.raises(InvalidArgumentError):
        tfr.read(io.BufferedReader(Trickle(b"x" * 100)), start=10)


# -- writing ---------------------------------------------------------------------------------
RECORDS = [b"", b"a", os.urandom(1000), bytes(range(256)) * 2000, b"x" * 300_000, os.urandom(7)]


@pytest.mark.parametrize("comp", ["", "NONE", "GZIP", "ZLIB", "SNAPPY", None])
def test_write_read_round_trip(tmp_path, comp):
    p = tmp_path / "out.tfrecord"
    assert tfr.write(p, RECORDS, compression=comp) == len(RECORDS)
    assert list(tfr.read(p)) == RECORDS
    assert tfr.count(p) == len(RECORDS)
    assert tfr.detect_compression(p) == (comp or "NONE")
    assert list(tfr.read(p, compression=comp)) == RECORDS


def test_write_empty_files(tmp_path):
    for comp, size in (("", 0), ("GZIP", 20), ("ZLIB", 8)):
        p = tmp_path / f"e{comp}.tfrecord"
        tfr.write(p, [], compression=comp)
        assert os.path.getsize(p) == size == expected()[f"empty.{(comp or 'none').lower()}.tfrecord"]["size"]
        assert list(tfr.read(p)) == []


def test_uncompressed_output_is_byte_identical_to_tensorflows():
    recs = list(tfr.read(REC / "examples.none.tfrecord"))
    buf = io.BytesIO()
    tfr.write(buf, recs)
    assert buf.getvalue() == (REC / "examples.none.tfrecord").read_bytes()


def test_gzip_and_zlib_output_are_standard_streams(tmp_path):
    frames = io.BytesIO()
    tfr.write(frames, RECORDS)
    tfr.write(tmp_path / "g", RECORDS, compression="GZIP")
    tfr.write(tmp_path / "z", RECORDS, compression="ZLIB")
    assert gzip.decompress((tmp_path / "g").read_bytes()) == frames.getvalue()
    assert zlib.decompress((tmp_path / "z").read_bytes()) == frames.getvalue()


def test_snappy_blocks_stay_within_tensorflows_256k_limit(tmp_path):
    import snappy

    p = tmp_path / "s"
    tfr.write(p, RECORDS, compression="SNAPPY")
    data = p.read_bytes()
    pos = 0
    sizes = []
    while pos < len(data):
        n = int.from_bytes(data[pos : pos + 4], "big")
        sizes.append(len(snappy.uncompress(data[pos + 4 : pos + 4 + n])))
        pos += 4 + n
    assert pos == len(data) and max(sizes) <= 256 << 10 and len(sizes) > 2


def test_snappy_detected_from_the_start_of_a_big_first_block(tmp_path):
    import snappy

    from tfformats._io.records import FrameEncoder, _snappy_prefix

    # Incompressible records: our first block is ~256 KiB compressed; a non-seekable stream
    # must still be detected as SNAPPY without reading (or buffering) the whole block.
    recs = [os.urandom(200_000), os.urandom(90_000), b"end"]
    p = tmp_path / "s.tfrecord"
    tfr.write(p, recs, compression="SNAPPY")
    data = p.read_bytes()
    assert int.from_bytes(data[:4], "big") > 200_000
    assert tfr.detect_compression(Trickle(data, 7)) == "SNAPPY"
    assert list(tfr.read(Trickle(data, 4096))) == recs
    # TensorFlow's SNAPPY writer puts a big record in one block (2 MiB here): the same
    frame = FrameEncoder().frame(os.urandom(2 << 20))
    block = snappy.compress(frame)
    q = tmp_path / "big_block.tfrecord"
    q.write_bytes(len(block).to_bytes(4, "big") + block)
    assert tfr.detect_compression(q) == "SNAPPY" and tfr.detect_compression(Trickle(q.read_bytes(), 100)) == "SNAPPY"
    assert [len(r) for r in tfr.read(q)] == [2 << 20]
    # the partial decoder gives exactly the block's first bytes, literals and (overlapping) copies alike
    for raw in (os.urandom(500), bytes(500), b"\x07\x00\x00\x00\x00\x00\x00\x00" * 60, b"ab" * 300):
        b = snappy.compress(raw)
        for n in (0, 1, 12, 100, 600):
            assert _snappy_prefix(b, n) == raw[:n]
        assert raw.startswith(_snappy_prefix(b[: len(b) // 2], 600))
    assert _snappy_prefix(b"\xff\xff\xff\xff\xff\xff", 12) == b"" and _snappy_prefix(b"\x05\x0d\x00", 12) == b""


def test_stream_named_by_its_descriptor(tmp_path):
    r, w = os.pipe()
    os.write(w, b"\x00" * 20)
    os.close(w)
    with open(r, "rb") as f:
        with pytest.raises(ChecksumError) as e:
            list(tfr.read(f))
    assert f"<stream fd {r}>" in str(e.value)


def test_record_writer(tmp_path):
    from tfformats.proto import pb

    p = tmp_path / "w.tfrecord.gz"
    with tfformats.RecordWriter(p, compression="gzip", level=9) as w:
        w.write(b"one")
        w.write(memoryview(b"two"))
        w.write(bytearray(b"three"))
        w.write(pb.Example())  # protobuf messages are serialized
        w.flush()
        # flushed but not closed: no end marker yet; read to the last whole record, as TF does
        it = tfr.read(p)
        assert list(it) == [b"one", b"two", b"three", b""]
        assert "no end marker" in it.unterminated and it.truncated is None
        assert w.write_all([b"x", b"y"]) == 2
        assert "open" in repr(w) and "6 records" in repr(w)
    assert w.records_written == 6
    assert "closed" in repr(w)
    it = tfr.read(p)
    assert list(it) == [b"one", b"two", b"three", b"", b"x", b"y"] and it.unterminated is None
    with pytest.raises(InvalidArgumentError):
        w.write(b"late")
    with pytest.raises(TypeError):
        tfr.write(tmp_path / "bad", [123])


def test_writer_to_file_object_leaves_it_open():
    buf = io.BytesIO()
    with tfr.RecordWriter(buf, "ZLIB") as w:
        w.write(b"abc")
    assert not buf.closed
    assert list(tfr.read(buf.getvalue())) == [b"abc"]


def test_many_small_records_and_header_cache(tmp_path):
    recs = [bytes([i % 256]) * (i % 5) for i in range(20000)]
    p = tmp_path / "many"
    tfr.write(p, recs)
    assert list(tfr.read(p, chunk_size=4096)) == recs
    assert tfr.count(p) == len(recs)


# -- fsspec ----------------------------------------------------------------------------------
def test_fsspec_memory_urls():
    fsspec = pytest.importorskip("fsspec")
    fs = fsspec.filesystem("memory")
    fs.pipe("/tfformats-test/ex.tfrecord", (REC / "examples.gzip.tfrecord").read_bytes())
    url = "memory://tfformats-test/ex.tfrecord"
    exp = expected()["examples.gzip.tfrecord"]
    assert [sha(r) for r in tfr.read(url)] == exp["sha256"]
    assert tfr.count(url) == exp["records"]
    tfr.write("memory://tfformats-test/out.tfrecord", RECORDS, compression="ZLIB")
    assert list(tfr.read("memory://tfformats-test/out.tfrecord")) == RECORDS
    tfr.write("memory://tfformats-test/plain.tfrecord", RECORDS)
    with tfr.RecordFile("memory://tfformats-test/plain.tfrecord") as recs:
        assert recs[3] == RECORDS[3] and len(recs) == len(RECORDS)
    fs.rm("/tfformats-test", recursive=True)


# -- arguments --------------------------------------------------------------------------------
def test_bad_arguments():
    with pytest.raises(InvalidArgumentError, match="unknown compression"):
        tfr.read(REC / "examples.none.tfrecord", compression="LZ4")
    with pytest.raises(InvalidArgumentError, match="errors"):
        tfr.read(REC / "examples.none.tfrecord", errors="ignore")
    with pytest.raises(NotFoundError):
        tfr.read(REC / "nope.tfrecord")
    with pytest.raises(NotFoundError):
        tfr.read(REC)
    with pytest.raises(TypeError):
        tfr.read(12)
    with pytest.raises(ResourceLimitError, match="max_record_size"):
        list(tfr.read(REC / "edge.none.tfrecord", max_record_size=1000))


def test_iterator_protocol_and_close():
    it = tfr.read(REC / "examples.none.tfrecord")
    assert "RecordIterator" in repr(it)
    first = next(it)
    assert first == next(iter(tfr.read(REC / "examples.none.tfrecord")))
    it.close()
    with pytest.raises(StopIteration):
        next(it)
    with tfr.read(REC / "examples.gzip.tfrecord") as it2:
        assert "GZIP" in repr(it2)
        next(it2)


def test_top_level_names():
    assert tfformats.read_records is tfr.read
    assert tfformats.count_records is tfr.count
    assert tfformats.write_records is tfr.write
    assert tfformats.RecordFile is tfr.RecordFile
