"""The table builder: TensorFlow's bytes, separator keys, snappy, round trips."""

from __future__ import annotations

import io
import os

import numpy as np
import pytest
import snappy
from hypothesis import given, settings
from hypothesis import strategies as st

from tfformats._io import crc
from tfformats._io.table import MAGIC, Table, parse_block
from tfformats._io.table_writer import TableBuilder, build_table, short_successor, shortest_separator
from tfformats.errors import InvalidArgumentError

from conftest import require_data


def _tf_tables():
    return [require_data("checkpoint_write/dtypes.index"), require_data("checkpoint_write/many.index")]


@pytest.mark.parametrize("which", [0, 1])
def test_rebuilds_tensorflow_tables_byte_for_byte(which):
    path = _tf_tables()[which]
    with Table(path) as t:
        items = list(t.items())
    assert build_table(items) == path.read_bytes()


def test_empty_table_layout():
    data = build_table([])
    # empty data: no data block; metaindex = index = an empty block (8 bytes + trailer)
    empty_block = (0).to_bytes(4, "little") + (1).to_bytes(4, "little")
    trailer = b"\x00" + crc.masked_value(empty_block + b"\x00").to_bytes(4, "little")
    assert data[:13] == empty_block + trailer
    assert data[13:26] == empty_block + trailer
    footer = data[26:]
    assert len(footer) == 48
    assert footer[:4] == bytes([0, 8, 13, 8])  # metaindex (0, 8), index (13, 8)
    assert footer[4:40] == bytes(36)
    assert int.from_bytes(footer[40:], "little") == MAGIC
    with Table(data) as t:
        assert list(t.items()) == []


def test_separator_rules():
    # TensorFlow's FindShortestSeparator / FindShortSuccessor
    assert shortest_separator(b"the quick brown fox", b"the who") == b"the r"
    assert shortest_separator(b"abc", b"abcd") == b"abc"  # prefix: unchanged
    assert shortest_separator(b"abc", b"abd") == b"abc"  # c + 1 == d: unchanged
    assert shortest_separator(b"ab\xff", b"ac") == b"ab\xff"
    assert shortest_separator(b"a\xffz", b"b") == b"a\xffz"  # no room after 'a'? 'a'+1 == 'b'
    assert shortest_separator(b"a", b"c") == b"b"
    assert short_successor(b"zz_scalar") == b"{"
    assert short_successor(b"\xff\xffa") == b"\xff\xffb"
    assert short_successor(b"\xff\xff") == b"\xff\xff"
    assert short_successor(b"") == b""


def test_index_keys_and_restarts():
    items = [(b"key%05d" % i, b"v" * 100) for i in range(6000)]
    out = io.BytesIO()
    b = TableBuilder(out, block_size=4096)
    for k, v in items:
        b.add(k, v)
    size = b.finish()
    data = out.getvalue()
    assert size == len(data) and b.num_entries == 6000 and "finished" in repr(b)
    with Table(data) as t:
        assert t.num_blocks > 100
        assert list(t.items()) == items
        keys = t._index_keys
        blocks = [b.keys for b in t.iter_blocks()]
        for i, sep in enumerate(keys):
            assert blocks[i][-1] <= sep
            if i + 1 < len(blocks):
                assert sep < blocks[i + 1][0]
        # index entries restart at every key, data blocks every 16 keys
        off, sz = t.block_spans()[0]
        block = data[off : off + sz]
        n = int.from_bytes(block[-4:], "little")
        assert n == (len(blocks[0]) + 15) // 16


def test_large_entry_starts_its_own_block():
    out = io.BytesIO()
    b = TableBuilder(out, block_size=1000)
    b.add(b"a", b"x" * 10)
    b.add(b"b", b"y" * 2000)  # >= 2 * block_size: flushes "a" first
    b.add(b"c", b"z")
    b.finish()
    with Table(out.getvalue()) as t:
        assert [b.keys for b in t.iter_blocks()] == [[b"a"], [b"b"], [b"c"]]


def test_snappy_blocks_only_when_they_save_an_eighth():
    compressible = [(b"k%04d" % i, b"0" * 50) for i in range(200)]
    data = build_table(compressible, compression="snappy")
    with Table(data) as t:
        off, size = t.block_spans()[0]
        assert data[off + size] == 1
        assert list(t.items()) == compressible
        raw_block = snappy.uncompress(data[off : off + size])
        keys, values = parse_block(raw_block)
        assert keys == [k for k, _ in compressible]
    rng = np.random.default_rng(0)
    noise = [(b"k%04d" % i, rng.bytes(64)) for i in range(50)]
    data = build_table(noise, compression="snappy")
    with Table(data) as t:
        off, size = t.block_spans()[0]
        assert data[off + size] == 0  # incompressible: stored raw
        assert list(t.items()) == noise


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.binary(max_size=40), st.binary(max_size=300)), max_size=200, unique_by=lambda kv: kv[0]),
    st.sampled_from([None, "snappy"]),
    st.integers(64, 4096),
    st.integers(1, 20),
)
def test_round_trip_property(items, compression, block_size, interval):
    items = sorted(items)
    data = build_table(items, compression=compression, block_size=block_size, restart_interval=interval)
    with Table(data) as t:
        assert list(t.items()) == items
        for k, v in items[:20]:
            assert t.get(k) == v


def test_keys_must_increase():
    b = TableBuilder(io.BytesIO())
    b.add(b"b", b"")
    with pytest.raises(InvalidArgumentError, match="increasing"):
        b.add(b"b", b"")
    with pytest.raises(InvalidArgumentError, match="increasing"):
        b.add(b"a", b"")
    b.add(b"c", b"")
    b.finish()
    with pytest.raises(InvalidArgumentError, match="finished"):
        b.add(b"d", b"")
    with pytest.raises(InvalidArgumentError, match="finished"):
        b.finish()


@pytest.mark.parametrize(
    "kwargs", [{"compression": "zlib"}, {"block_size": 0}, {"restart_interval": 0}]
)
def test_bad_options(kwargs):
    with pytest.raises(InvalidArgumentError):
        TableBuilder(io.BytesIO(), **kwargs)


def test_writes_to_a_real_file(tmp_path):
    p = tmp_path / "t.table"
    with open(p, "wb") as f:
        b = TableBuilder(f)
        b.add(b"", b"header")
        b.add(b"\x00slice", b"s")
        b.add(b"name", b"v")
        n = b.finish()
    assert os.path.getsize(p) == n
    with Table(p) as t:
        assert list(t.items()) == [(b"", b"header"), (b"\x00slice", b"s"), (b"name", b"v")]
