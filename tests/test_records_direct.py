"""Local uncompressed files that start with a big record are read record by record.

``RecordIterator._parse_direct`` reads each big record straight into its own
``bytes`` (one copy) and hands over to the general chunk parser at the first
damaged record.  Whatever the damage and the options, it must give the same
records, errors, skipped stretches and truncation reports as the general
parser gives for the same bytes in memory.
"""

from __future__ import annotations

import io
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tfformats.records as tfr
from tfformats._io import records as _rec
from tfformats.errors import DataLossError, TFFormatsError

BIG = _rec.DIRECT_RECORD_SIZE
SIZES = [0, 1, 700, BIG - 1, BIG, BIG + 3, 3 * BIG + 11]


def frames(recs) -> bytes:
    buf = io.BytesIO()
    tfr.write(buf, recs)
    return buf.getvalue()


def outcome(it):
    got = []
    err = None
    try:
        for r in it:
            assert isinstance(r, bytes if it._copy else memoryview)
            got.append(bytes(r))
    except TFFormatsError as exc:
        err = (type(exc), exc.message, exc.offset, getattr(exc, "record", None))
    bad = [(b.record, b.offset, b.skipped, b.reason) for b in it.bad_records]
    trunc = it.truncated and (it.truncated.record, it.truncated.offset, it.truncated.reason)
    return got, err, bad, trunc


def damaged(data: bytes, edits, cut) -> bytes:
    """``data`` with bytes overwritten (``(position, value)`` pairs, positions wrapped) and cut."""
    data = bytearray(data)
    for pos, val in edits:
        if data:
            data[pos % len(data)] = val
    if cut is not None:
        data = data[: cut % (len(data) + 1)]
    return bytes(data)


# read() options, drawn at random: every path must give the general parser's outcome under each
READ_OPTIONS = st.fixed_dictionaries(
    {},
    optional={
        "verify": st.booleans(),
        "copy": st.booleans(),
        "errors": st.sampled_from(["raise", "skip"]),
        "tolerate_truncation": st.booleans(),
        "max_record_size": st.sampled_from([600, BIG, 4 * BIG]),
        "end": st.integers(0, 1 << 18),
        "chunk_size": st.sampled_from([4096, 65536]),
    },
)


def records(rnd: int, sizes) -> list:
    return [bytes([(rnd + i) % 251]) * s if s % 2 else os.urandom(s) for i, s in enumerate(sizes)]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(st.sampled_from(SIZES), min_size=0, max_size=5),
    st.sampled_from([BIG, BIG + 5, 2 * BIG]),
    st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 255)), max_size=3),
    st.one_of(st.none(), st.integers(0, 1 << 20)),
    READ_OPTIONS,
)
def test_direct_reading_equals_the_general_parser(tmp_path, rest, first, edits, cut, opts):
    data = damaged(frames(records(len(rest), [first] + rest)), edits, cut)
    path = tmp_path / "big.tfrecord"
    path.write_bytes(data)
    direct = tfr.read(path, compression="NONE", **opts)
    general = tfr.read(data, compression="NONE", **opts)  # bytes in memory: the chunk parser
    assert outcome(direct) == outcome(general)


def test_big_records_take_the_direct_path(tmp_path):
    recs = records(0, [BIG, 5 * BIG, 3, BIG + 1, 0, 2 * BIG])
    path = tmp_path / "big.tfrecord"
    path.write_bytes(frames(recs))
    it = tfr.read(path)
    assert it._direct_ok()
    assert list(it) == recs
    views = list(tfr.read(path, copy=False))
    assert all(isinstance(v, memoryview) for v in views) and [bytes(v) for v in views] == recs
    assert not tfr.read(frames(recs))._direct_ok()  # not a local file
    small = tmp_path / "small.tfrecord"
    small.write_bytes(frames([b"x"] + recs))
    assert not tfr.read(small)._direct_ok()


def test_records_between_chunk_and_direct_size(tmp_path):
    # longer than a chunk, shorter than DIRECT_RECORD_SIZE: read whole in one window, never looping
    recs = records(1, [BIG, BIG // 2, BIG // 2 + 1, 100, BIG // 3])
    path = tmp_path / "mid.tfrecord"
    path.write_bytes(frames(recs))
    for copy in (True, False):
        assert [bytes(r) for r in tfr.read(path, chunk_size=4096, copy=copy)] == recs


@pytest.mark.parametrize("copy", [True, False])
@pytest.mark.parametrize("cut", [0, 5, 16, 2000])
def test_file_shrinking_while_read_is_a_located_error(tmp_path, copy, cut):
    recs = records(2, [2 * BIG] * 4)
    path = tmp_path / "shrink.tfrecord"
    path.write_bytes(frames(recs))
    it = tfr.read(path, copy=copy)
    assert bytes(next(it)) == recs[0]
    second = 2 * BIG + 16
    os.truncate(path, second + cut)
    with pytest.raises(DataLossError) as exc:
        list(it)
    assert exc.value.record == 1 and exc.value.offset == second
    assert str(path) in str(exc.value)


@pytest.mark.parametrize("copy", [True, False])
@pytest.mark.parametrize("cut", [0, 5, 600])
def test_small_record_file_shrinking_while_read(tmp_path, copy, cut):
    # the general parser (records smaller than DIRECT_RECORD_SIZE) knows the size at opening too
    recs = records(3, [1000] * 40)
    path = tmp_path / "shrink.tfrecord"
    path.write_bytes(frames(recs))
    it = tfr.read(path, copy=copy, chunk_size=4096)
    assert not it._direct_ok()
    assert bytes(next(it)) == recs[0]
    at = 20 * 1016
    os.truncate(path, at + cut)
    with pytest.raises(DataLossError) as exc:
        list(it)
    assert exc.value.record == 20 and exc.value.offset == at
    assert "shrink" in str(exc.value)
