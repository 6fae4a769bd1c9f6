"""Damaged TFRecord files: located errors, bounded memory, skipping and resynchronising."""

from __future__ import annotations

import gzip
import io
import os
import struct
import tracemalloc
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tfformats.records as tfr
from tfformats._io import crc
from tfformats.errors import ChecksumError, DataLossError, TFFormatsError

from conftest import DATA

RECS = [b"r%d-" % i + bytes([i]) * (i * 37 % 200) for i in range(12)]


def frames(recs=RECS) -> bytes:
    buf = io.BytesIO()
    tfr.write(buf, recs)
    return buf.getvalue()


def offset_of(i: int, recs=RECS) -> int:
    return sum(len(r) + 16 for r in recs[:i])


def header(length: int) -> bytes:
    lb = struct.pack("<Q", length)
    return lb + struct.pack("<I", crc.masked_value(lb))


def flip(data: bytes, pos: int) -> bytes:
    b = bytearray(data)
    b[pos] ^= 0x40
    return bytes(b)


def write(tmp_path, data: bytes, name="bad.tfrecord"):
    p = tmp_path / name
    p.write_bytes(data)
    return p


def check_located(exc, path, record: int, offset: int):
    msg = str(exc)
    assert str(path) in msg
    assert f"record {record}" in msg
    assert f"offset {offset}" in msg
    assert exc.value.offset == offset if hasattr(exc, "value") else True


# -- located errors ----------------------------------------------------------------------------
def test_bad_length_crc(tmp_path):
    off = offset_of(3)
    p = write(tmp_path, flip(frames(), off + 2))
    it = tfr.read(p)
    with pytest.raises(ChecksumError, match="length CRC mismatch") as e:
        for _ in it:
            pass
    assert e.value.offset == off and e.value.record == 3 and e.value.path == str(p)
    check_located(e.value, p, 3, off)


def test_bad_length_crc_on_stored_crc_bytes(tmp_path):
    off = offset_of(5)
    p = write(tmp_path, flip(frames(), off + 9))
    with pytest.raises(ChecksumError) as e:
        list(tfr.read(p))
    check_located(e.value, p, 5, off)


def test_bad_data_crc(tmp_path):
    off = offset_of(4)
    p = write(tmp_path, flip(frames(), off + 12 + 1))
    with pytest.raises(ChecksumError, match="data CRC mismatch") as e:
        list(tfr.read(p))
    check_located(e.value, p, 4, off)
    # without verification the damaged bytes come through
    assert len(list(tfr.read(p, verify=False))) == len(RECS)


def test_bad_data_crc_in_random_access(tmp_path):
    off = offset_of(2)
    p = write(tmp_path, flip(frames(), off + 14))
    recs = tfr.RecordFile(p)
    assert recs[1] == RECS[1]
    with pytest.raises(ChecksumError) as e:
        recs[2]
    check_located(e.value, p, 2, off)
    assert tfr.RecordFile(p, verify=False)[2] != RECS[2]


def test_bad_header_while_indexing(tmp_path):
    off = offset_of(6)
    p = write(tmp_path, flip(frames(), off))
    with pytest.raises(ChecksumError) as e:
        len(tfr.RecordFile(p))
    check_located(e.value, p, 6, off)
    with pytest.raises(ChecksumError):
        tfr.count(p)


@pytest.mark.parametrize("cut", [1, 5, 11, 12, 13, 20])
def test_truncated_last_record(tmp_path, cut):
    data = frames()
    last = offset_of(len(RECS) - 1)
    p = write(tmp_path, data[: last + cut])
    with pytest.raises(DataLossError, match="truncated") as e:
        list(tfr.read(p))
    assert not isinstance(e.value, ChecksumError)
    check_located(e.value, p, len(RECS) - 1, last)
    it = tfr.read(p, tolerate_truncation=True)
    assert list(it) == RECS[:-1]
    assert it.truncated is not None and it.truncated.record == len(RECS) - 1 and it.truncated.offset == last
    with pytest.raises(DataLossError, match="truncated"):
        len(tfr.RecordFile(p))


@pytest.mark.parametrize("comp", ["GZIP", "ZLIB", "SNAPPY"])
def test_truncated_compressed_file(tmp_path, comp):
    p = tmp_path / "c"
    tfr.write(p, RECS, compression=comp)
    data = p.read_bytes()
    q = write(tmp_path, data[: len(data) - 30])
    with pytest.raises(DataLossError, match="truncated|ends") as e:
        list(tfr.read(q, compression=comp))
    assert str(q) in str(e.value)
    got = list(tfr.read(q, compression=comp, tolerate_truncation=True))
    assert got == RECS[: len(got)]
    if comp != "SNAPPY":  # a snappy file this small is a single block, lost whole
        assert len(got) >= len(RECS) - 3


@pytest.mark.parametrize("comp", ["GZIP", "ZLIB"])
def test_unclosed_compressed_stream_reads_to_its_last_whole_record(tmp_path, comp):
    # a writer flushed and still open: whole records, no end marker (TensorFlow reads them all);
    # the same stream cut inside a record is still a truncation
    p = tmp_path / "open"
    w = tfr.RecordWriter(p, comp)
    for r in RECS:
        w.write(r)
    w.flush()
    snapshot = p.read_bytes()
    w.close()
    q = write(tmp_path, snapshot)
    it = tfr.read(q, compression=comp)
    assert list(it) == RECS and it.truncated is None
    assert it.unterminated.startswith(f"the {comp} stream has no end marker")
    assert tfr.count(q, compression=comp) == len(RECS)
    cut = write(tmp_path, _recompress_cut(snapshot, comp))
    with pytest.raises(DataLossError, match="truncated.*no end marker"):
        list(tfr.read(cut, compression=comp))


def _recompress_cut(stream: bytes, comp: str) -> bytes:
    """The same records, flushed unclosed, with the last record cut in half before the flush."""
    import zlib

    plain = zlib.decompressobj(31 if comp == "GZIP" else 15).decompress(stream)
    c = zlib.compressobj(6, zlib.DEFLATED, 31 if comp == "GZIP" else 15)
    return c.compress(plain[: len(plain) - 5]) + c.flush(zlib.Z_SYNC_FLUSH)


def test_length_larger_than_the_file(tmp_path):
    data = frames()[: offset_of(3)] + header(10_000) + b"tiny" + b"\0" * 4
    p = write(tmp_path, data)
    with pytest.raises(DataLossError, match="claims 10000 bytes") as e:
        list(tfr.read(p))
    check_located(e.value, p, 3, offset_of(3))


@pytest.mark.parametrize("comp", ["NONE", "GZIP", "stream"])
def test_huge_length_never_allocates(tmp_path, comp):
    data = frames()[: offset_of(2)] + header(1 << 60) + os.urandom(64)
    if comp == "GZIP":
        data = gzip.compress(data)
    source = io.BufferedReader(io.BytesIO(data)) if comp == "stream" else write(tmp_path, data)
    if comp == "stream":
        source = _NoSeek(data)
    tracemalloc.start()
    try:
        with pytest.raises(DataLossError) as e:
            list(tfr.read(source))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "record 2" in str(e.value) and f"offset {offset_of(2)}" in str(e.value)
    assert peak < 64 << 20
    # the same with the length CRC not checked
    with pytest.raises(DataLossError):
        list(tfr.read(_NoSeek(data) if comp == "stream" else source, verify=False))


class _NoSeek(io.RawIOBase):
    def __init__(self, data):
        self._b = io.BytesIO(data)

    def readable(self):
        return True

    def read(self, n=-1):
        return self._b.read(n)


def test_not_a_tfrecord_file(tmp_path):
    p = write(tmp_path, b"This is a plain text file, certainly not records.\n" * 3)
    with pytest.raises(ChecksumError, match="is this a TFRecord file") as e:
        list(tfr.read(p))
    check_located(e.value, p, 0, 0)


def test_corrupt_gzip_data(tmp_path):
    p = tmp_path / "g"
    tfr.write(p, [os.urandom(5000) for _ in range(5)], compression="GZIP")
    data = bytearray(p.read_bytes())
    for i in range(200, 260):
        data[i] ^= 0xFF
    q = write(tmp_path, bytes(data))
    with pytest.raises(DataLossError, match="GZIP") as e:
        list(tfr.read(q))
    assert str(q) in str(e.value)
    it = tfr.read(q, errors="skip")
    list(it)
    assert it.bad_records and "GZIP" in it.bad_records[-1].reason


@pytest.mark.parametrize("after", [b"junk", zlib.compress(frames([b"second stream"]))])
def test_bytes_after_a_zlib_stream_are_ignored_as_tensorflow_ignores_them(tmp_path, after):
    # tf.data.TFRecordDataset(compression_type="ZLIB") on these files yields the first stream's
    # records and nothing else, without an error (checked with TF 2.21; tests_tf has the differential)
    first = zlib.compress(frames())
    p = write(tmp_path, first + after)
    it = tfr.read(p)
    assert it.compression == "ZLIB" and list(it) == RECS
    assert f"ends at offset {len(first)}" in it.ignored_data
    clean = tfr.read(write(tmp_path, first, "clean"))
    assert list(clean) == RECS and clean.ignored_data is None


def test_trailing_garbage_after_gzip_member(tmp_path):
    p = write(tmp_path, gzip.compress(frames()) + b"junk")
    with pytest.raises(DataLossError, match="trailing data after the end of the GZIP stream"):
        list(tfr.read(p, compression="GZIP"))


def test_concatenated_gzip_members(tmp_path):
    p = write(tmp_path, gzip.compress(frames(RECS[:5])) + gzip.compress(frames(RECS[5:])))
    assert list(tfr.read(p)) == RECS


def test_corrupt_snappy_block(tmp_path):
    p = tmp_path / "s"
    tfr.write(p, [bytes(range(256)) * 50] * 3, compression="SNAPPY")
    data = bytearray(p.read_bytes())
    data[4] = 0xFF  # the block's uncompressed-length prefix
    data[5] = 0xFF
    data[6] = 0xFF
    data[7] = 0xFF
    data[8] = 0x7F
    q = write(tmp_path, bytes(data))
    with pytest.raises(DataLossError, match="SNAPPY"):
        list(tfr.read(q, compression="SNAPPY"))


# -- skipping -------------------------------------------------------------------------------------
def test_skip_bad_data_crc(tmp_path):
    p = write(tmp_path, flip(frames(), offset_of(3) + 12))
    it = tfr.read(p, errors="skip")
    assert list(it) == RECS[:3] + RECS[4:]
    (bad,) = it.bad_records
    assert bad.record == 3 and bad.offset == offset_of(3) and bad.skipped == len(RECS[3]) + 16
    assert "data CRC" in bad.reason


def test_skip_bad_header_resynchronises(tmp_path):
    p = write(tmp_path, flip(frames(), offset_of(3) + 1))
    it = tfr.read(p, errors="skip")
    assert list(it) == RECS[:3] + RECS[4:]
    (bad,) = it.bad_records
    assert bad.record == 3 and bad.offset == offset_of(3) and bad.skipped == len(RECS[3]) + 16
    assert "length CRC" in bad.reason


def test_skip_garbage_between_records(tmp_path):
    data = frames()
    junk = bytes(range(256)) + b"\0" * 50 + os.urandom(300)
    p = write(tmp_path, data[: offset_of(5)] + junk + data[offset_of(5) :])
    it = tfr.read(p, errors="skip", chunk_size=4096)
    assert list(it) == RECS
    assert [(b.record, b.offset, b.skipped) for b in it.bad_records] == [(5, offset_of(5), len(junk))]


def test_skip_several_damaged_spots_and_tail(tmp_path):
    data = flip(flip(frames(), offset_of(2) + 3), offset_of(7) + 12)
    data = data[: offset_of(11) + 5]
    it = tfr.read(write(tmp_path, data), errors="skip")
    got = list(it)
    assert got == [RECS[i] for i in (0, 1, 3, 4, 5, 6, 8, 9, 10)]
    assert [b.record for b in it.bad_records] == [2, 7, 11]
    assert it.bad_records[-1].skipped is None and "truncated" in it.bad_records[-1].reason


def test_skip_inside_a_gzip_stream(tmp_path):
    p = write(tmp_path, gzip.compress(flip(frames(), offset_of(4) + 2)))
    it = tfr.read(p, errors="skip")
    assert list(it) == RECS[:4] + RECS[5:]
    assert [(b.record, b.offset) for b in it.bad_records] == [(4, offset_of(4))]


def test_skip_a_stream(tmp_path):
    it = tfr.read(_NoSeek(flip(frames(), offset_of(8) + 1)), errors="skip", chunk_size=4096)
    assert list(it) == RECS[:8] + RECS[9:]


def test_skip_everything_bad(tmp_path):
    it = tfr.read(write(tmp_path, os.urandom(5000)), errors="skip")
    assert list(it) == []
    assert len(it.bad_records) == 1 and it.bad_records[0].skipped is None


# -- fuzzing ----------------------------------------------------------------------------------------
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 2000), st.integers(0, 255)), min_size=1, max_size=6), st.integers(0, 2500))
def test_random_damage_is_always_a_located_error(edits, cut):
    data = bytearray(frames())
    for pos, val in edits:
        if pos < len(data):
            data[pos] = val
    data = bytes(data[: max(cut, len(data) // 2)])
    try:
        list(tfr.read(data))
    except TFFormatsError as exc:
        assert "record " in str(exc) and "offset " in str(exc)
    it = tfr.read(data, errors="skip")
    got = list(it)
    assert all(r in RECS for r in got)  # a false resync would produce a foreign record
    for b in it.bad_records:
        assert 0 <= b.offset <= len(data)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=3000), st.sampled_from([None, "GZIP", "ZLIB", "SNAPPY"]))
def test_arbitrary_bytes_never_escape_as_foreign_errors(data, comp):
    for errors in ("raise", "skip"):
        try:
            list(tfr.read(data, compression=comp, errors=errors))
        except TFFormatsError:
            pass


def test_fixture_with_each_byte_flipped():
    data = (DATA / "records" / "sequence_examples.none.tfrecord").read_bytes()
    good = list(tfr.read(data))
    for pos in range(0, len(data), 7):
        bad = flip(data, pos)
        with pytest.raises(ChecksumError):
            list(tfr.read(bad))
        it = tfr.read(bad, errors="skip")
        got = list(it)
        assert len(got) == len(good) - 1 and len(it.bad_records) == 1
