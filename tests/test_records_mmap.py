"""``records.read(mmap=True)``: records checked and sliced straight from a mapped file.

Whatever the damage and the options, the mapped path must give the same
records, errors, skipped stretches and truncation reports as the general
chunk parser gives for the same bytes in memory; it hands over to that parser
at the first record out of the ordinary.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tfformats.records as tfr
from tfformats.errors import DataLossError

from test_records_direct import BIG, READ_OPTIONS, damaged, frames, outcome, records

SIZES = [0, 1, 5, 700, 4095, BIG - 1, BIG + 3]


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(st.sampled_from(SIZES), min_size=0, max_size=6),
    st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 255)), max_size=3),
    st.one_of(st.none(), st.integers(0, 1 << 20)),
    READ_OPTIONS,
)
def test_mapped_reading_equals_the_general_parser(tmp_path, sizes, edits, cut, opts):
    data = damaged(frames(records(len(sizes), sizes)), edits, cut)
    path = tmp_path / "any.tfrecord"
    path.write_bytes(data)
    mapped = tfr.read(path, compression="NONE", mmap=True, **opts)
    general = tfr.read(data, compression="NONE", **opts)  # bytes in memory: the chunk parser
    assert outcome(mapped) == outcome(general)


def test_mapped_records_and_views(tmp_path):
    recs = records(0, [3, BIG, 0, 700, 2 * BIG + 1])
    path = tmp_path / "r.tfrecord"
    path.write_bytes(frames(recs))
    it = tfr.read(path, mmap=True)
    assert it._map() is not None  # the mapped path is the one taken
    assert list(it) == recs
    views = list(tfr.read(path, mmap=True, copy=False))
    assert all(isinstance(v, memoryview) and v.readonly for v in views)
    assert [bytes(v) for v in views] == recs


def test_views_outlive_the_iterator_and_the_mapping_goes_with_them(tmp_path):
    recs = records(1, [100, 5000, 7])
    path = tmp_path / "r.tfrecord"
    path.write_bytes(frames(recs))
    gc.collect()
    before = open_fds()
    with tfr.read(path, mmap=True, copy=False) as it:
        first = next(it)
    assert bytes(first) == recs[0]  # still readable after close()
    it = None
    del first
    gc.collect()
    assert open_fds() == before  # the mapping (and its file descriptor) went with the last view
    for _ in tfr.read(path, mmap=True):
        pass
    gc.collect()
    assert open_fds() == before


@pytest.mark.parametrize("compression", ["GZIP", "ZLIB", "SNAPPY"])
def test_compressed_files_ignore_mmap(tmp_path, compression):
    pytest.importorskip("snappy") if compression == "SNAPPY" else None
    recs = records(2, [0, 10, BIG])
    path = tmp_path / "c.tfrecord"
    tfr.write(path, recs, compression=compression)
    it = tfr.read(path, mmap=True)
    assert it._map() is None
    assert list(it) == recs


def test_byte_ranges_and_empty_files_with_mmap(tmp_path):
    recs = records(3, [100] * 10)
    path = tmp_path / "r.tfrecord"
    path.write_bytes(frames(recs))
    it = tfr.read(path, mmap=True, start=1)
    assert it._map() is None  # start > 0 resynchronises through the general parser
    assert list(it) == recs[1:]
    assert list(tfr.read(path, mmap=True, end=3 * 116)) == recs[:3]  # records starting before `end`
    empty = tmp_path / "e.tfrecord"
    empty.write_bytes(b"")
    assert list(tfr.read(empty, mmap=True)) == []


def test_file_shrunk_before_the_first_record_is_not_mapped(tmp_path):
    recs = records(4, [1000] * 8)
    path = tmp_path / "s.tfrecord"
    path.write_bytes(frames(recs))
    it = tfr.read(path, mmap=True)  # opened (size taken) but nothing read yet
    os.truncate(path, 3 * 1016 + 20)
    with pytest.raises(DataLossError) as exc:
        list(it)
    assert exc.value.record == 3 and exc.value.offset == 3 * 1016


def test_appending_while_mapped_reads_the_size_at_opening(tmp_path):
    recs = records(5, [500] * 4)
    path = tmp_path / "a.tfrecord"
    path.write_bytes(frames(recs))
    it = tfr.read(path, mmap=True)
    assert next(it) == recs[0]
    with open(path, "ab") as f:
        f.write(frames([b"later"]))
    assert list(it) == recs[1:]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SIGBUS on a truncated mapping is Linux behaviour")
def test_truncating_a_mapped_file_kills_the_reader_as_documented(tmp_path):
    # The reason mmap=True is not the default: this is the hazard the docstring names.
    path = tmp_path / "t.tfrecord"
    path.write_bytes(frames([b"x" * 100_000] * 8))
    code = (
        "import os, sys; import tfformats.records as tfr\n"
        "it = tfr.read(sys.argv[1], mmap=True, copy=False)\n"
        "first = next(it)\n"
        "os.truncate(sys.argv[1], 0)\n"
        "bytes(first)\n"
        "print('survived')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == -7 and "survived" not in proc.stdout  # 7 = SIGBUS on Linux
