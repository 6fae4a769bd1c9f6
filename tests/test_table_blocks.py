"""``Table.iter_blocks``: every data block of a TF-written index, checked one by one,
with damaged blocks reported where they are (and ``tfformats verify`` reporting each)."""

from __future__ import annotations

import shutil

import pytest

from cli_helpers import DATA, run_cli_json

from tfformats._io.table import Table, TableBlock
from tfformats.errors import ChecksumError, DataLossError

MANY = DATA / "checkpoint_write" / "many"  # TensorFlow's index of 6000 entries, in two data blocks


@pytest.fixture
def many(tmp_path):
    for suffix in (".index", ".data-00000-of-00001"):
        shutil.copy(str(MANY) + suffix, tmp_path / f"many{suffix}")
    return tmp_path / "many"


def _flip(path, offset):
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x20
    path.write_bytes(bytes(data))


def test_intact_blocks_hold_every_entry_in_order():
    with Table(str(MANY) + ".index") as t:
        blocks = list(t.iter_blocks())
        assert [(b.offset, b.size) for b in blocks] == t.block_spans()
        assert [b.index for b in blocks] == list(range(t.num_blocks)) and t.num_blocks == 2
        assert all(isinstance(b, TableBlock) and b.ok and b.error is None for b in blocks)
        pairs = [(k, v) for b in blocks for k, v in zip(b.keys, b.values)]
        assert pairs == list(t.items())
        assert sum(b.num_entries for b in blocks) == t.verify() == len(pairs)
    # header entry "" plus TensorFlow's 6000 tensors (tests/generate/gen_checkpoint_write.py)
    assert len(pairs) == 6001


def test_each_damaged_block_is_reported_at_its_offset_and_the_walk_goes_on(many):
    index = many.with_suffix(".index")
    with Table(str(index)) as t:
        spans = t.block_spans()
    for off, size in spans:
        _flip(index, off + size // 2)
    with Table(str(index)) as t:
        blocks = list(t.iter_blocks())
        assert len(blocks) == 2
        for b, (off, size) in zip(blocks, spans):
            assert not b.ok and b.keys is None and b.num_entries == 0
            assert isinstance(b.error, ChecksumError) and b.error.offset == off and (b.offset, b.size) == (off, size)
        with pytest.raises(ChecksumError) as exc:
            t.verify()
        assert exc.value.offset == spans[0][0]  # verify raises the first problem


def test_verify_reports_every_damaged_block(many, capsys):
    index = many.with_suffix(".index")
    with Table(str(index)) as t:
        spans = t.block_spans()
    for off, size in spans:
        _flip(index, off + size // 2)
    code, doc = run_cli_json(capsys, "verify", many)
    assert code == 1 and not doc["ok"]
    located = [(p["file"], p["offset"]) for p in doc["problems"] if "ChecksumError" in p["message"]]
    assert located == [(str(index), off) for off, _ in spans]
    assert "table_blocks" not in doc["checked"]


def test_one_damaged_block_leaves_the_other_checked(many, capsys):
    index = many.with_suffix(".index")
    with Table(str(index)) as t:
        (off0, size0), (off1, _) = t.block_spans()
    _flip(index, off0 + 10)
    with Table(str(index)) as t:
        first, second = t.iter_blocks()
    assert isinstance(first.error, DataLossError) and first.error.offset == off0
    assert second.ok and second.offset == off1 and second.num_entries == 96
    code, doc = run_cli_json(capsys, "verify", many)
    assert code == 1 and doc["checked"]["table_blocks"] == 1
    assert [p["offset"] for p in doc["problems"] if p["file"] == str(index)] == [off0]

