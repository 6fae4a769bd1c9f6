"""Damaged and hostile checkpoints: each gives a located TFFormatsError.

Every case starts from a fixture TensorFlow wrote, copied to tmp_path and
broken in one way.  Each test asserts the exception class, that it is a
TFFormatsError, and that the message names the file at fault.
"""

from __future__ import annotations

import os
import shutil
import struct
from pathlib import Path

import pytest

import tfformats
from tfformats import ChecksumError, DataLossError, NotFoundError, TFFormatsError, UnsupportedError
from tfformats._io import crc, varint
from tfformats._io.table import FOOTER_SIZE, MAGIC, Table
from tfformats.checkpoint import slices as S

from _checkpoint_helpers import CK, copy_prefix, path_of, read_index, rewrite_entry, write_table


def raises(exc_type, path, fn, *args, **kwargs):
    """Run ``fn``; it must raise ``exc_type`` naming ``path``."""
    with pytest.raises(exc_type) as ei:
        fn(*args, **kwargs)
    err = ei.value
    assert isinstance(err, TFFormatsError), type(err)
    assert str(path) in str(err), (str(path), str(err))
    if os.environ.get("SHOW_ERRORS"):
        print(f"\n{type(err).__name__}: {err}")
    return err


def read_all(path, **kw):
    with tfformats.load_checkpoint(path, **kw) as r:
        for name in r:
            r.get_tensor(name)
        return r.list_variables()


@pytest.fixture
def sharded(tmp_path):
    return copy_prefix(path_of("tf1_sharded"), tmp_path)


@pytest.fixture
def strings(tmp_path):
    return copy_prefix(path_of("strings"), tmp_path)


# ---------------------------------------------------------------------------
# The index file
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("keep", [0, 1, 47, 48, 100, -1, -5, -48, -49])
def test_truncated_or_empty_index(sharded, keep):
    index = sharded + ".index"
    data = Path(index).read_bytes()
    Path(index).write_bytes(data[:keep] if keep >= 0 else data[:keep])
    raises(DataLossError, index, tfformats.load_checkpoint, sharded)


def test_flipped_byte_in_index_block(sharded):
    index = sharded + ".index"
    raw = bytearray(Path(index).read_bytes())
    raw[10] ^= 0x40  # inside the first data block
    Path(index).write_bytes(bytes(raw))
    raises(ChecksumError, index, read_all, sharded)


def test_bad_magic(sharded):
    index = sharded + ".index"
    raw = bytearray(Path(index).read_bytes())
    raw[-1] ^= 0xFF
    Path(index).write_bytes(bytes(raw))
    err = raises(DataLossError, index, tfformats.load_checkpoint, sharded)
    assert "magic" in str(err)


@pytest.mark.parametrize("which", ["index_offset", "index_size", "varint"])
def test_footer_handles_out_of_range(sharded, which):
    index = sharded + ".index"
    raw = bytearray(Path(index).read_bytes())
    size = len(raw)
    if which == "varint":
        footer = b"\xff" * 40 + struct.pack("<Q", MAGIC)
    else:
        big = varint.encode(10**12)
        handles = varint.encode(0) + varint.encode(8)
        handles += big + varint.encode(10) if which == "index_offset" else varint.encode(0) + big
        footer = handles + bytes(40 - len(handles)) + struct.pack("<Q", MAGIC)
    raw[size - FOOTER_SIZE :] = footer
    Path(index).write_bytes(bytes(raw))
    raises(DataLossError, index, tfformats.load_checkpoint, sharded)


def _raw_table(blocks: list[tuple[bytes, int]], index_entries) -> bytes:
    """A table assembled by hand: data blocks stored as given (with a valid
    trailer), then an index block built from ``index_entries(handles)``."""
    out = bytearray()
    handles = []

    def put(stored: bytes, ctype: int):
        handles.append((len(out), len(stored)))
        out.extend(stored)
        out.extend(bytes([ctype]) + struct.pack("<I", crc.masked_value(stored + bytes([ctype]))))

    for stored, ctype in blocks:
        put(stored, ctype)
    data_handles = list(handles)
    put(struct.pack("<II", 0, 1), 0)  # empty metaindex
    meta = handles[-1]
    index_block = bytearray()
    entries = index_entries(data_handles)
    for key, value in entries:
        index_block += varint.encode(0) + varint.encode(len(key)) + varint.encode(len(value)) + key + value
    index_block += struct.pack("<I", 0) * len(entries) + struct.pack("<I", len(entries))
    put(bytes(index_block), 0)
    idx = handles[-1]
    hs = varint.encode(meta[0]) + varint.encode(meta[1]) + varint.encode(idx[0]) + varint.encode(idx[1])
    out += hs + bytes(40 - len(hs)) + struct.pack("<Q", MAGIC)
    return bytes(out)


def _handle(h):
    return varint.encode(h[0]) + varint.encode(h[1])


def test_snappy_block_claiming_a_huge_size(tmp_path):
    """A 20-byte snappy block that claims 2 GiB once decompressed is refused
    before anything is allocated."""
    stored = varint.encode(2**31) + b"\x00" * 16
    path = tmp_path / "bad.index"
    path.write_bytes(_raw_table([(stored, 1)], lambda hs: [(b"\xff", _handle(hs[0]))]))
    (tmp_path / "bad.data-00000-of-00001").write_bytes(b"")
    raises(DataLossError, path, tfformats.load_checkpoint, path)


def test_corrupt_snappy_block(tmp_path):
    stored = varint.encode(50) + b"\xfe\xff\xff\xff\xff\xff\xff"
    path = tmp_path / "bad.index"
    path.write_bytes(_raw_table([(stored, 1)], lambda hs: [(b"\xff", _handle(hs[0]))]))
    raises(DataLossError, path, tfformats.load_checkpoint, path)


def test_unknown_block_compression(tmp_path):
    block = struct.pack("<II", 0, 1)
    path = tmp_path / "bad.index"
    path.write_bytes(_raw_table([(block, 7)], lambda hs: [(b"\xff", _handle(hs[0]))]))
    raises(UnsupportedError, path, tfformats.load_checkpoint, path)


@pytest.mark.parametrize("case", ["shared_too_long", "entry_past_end", "restarts", "varint", "tiny"])
def test_malformed_blocks(tmp_path, case):
    good = b"\x00\x01\x01ab" + struct.pack("<II", 0, 1)
    block = {
        "shared_too_long": b"\x05\x01\x01ab" + struct.pack("<II", 0, 1),
        "entry_past_end": b"\x00\x01\x7fab" + struct.pack("<II", 0, 1),
        "restarts": good[:-4] + struct.pack("<I", 10**6),
        "varint": b"\x00\xff\xff\xff\xff\xff" + struct.pack("<II", 0, 1),
        "tiny": b"\x01\x02",
    }[case]
    path = tmp_path / "bad.index"
    path.write_bytes(_raw_table([(block, 0)], lambda hs: [(b"\xff", _handle(hs[0]))]))
    raises(DataLossError, path, tfformats.load_checkpoint, path)


def test_data_block_handle_outside_file(tmp_path):
    path = tmp_path / "bad.index"
    path.write_bytes(_raw_table([], lambda hs: [(b"\xff", _handle((10**9, 100)))]))
    raises(DataLossError, path, tfformats.load_checkpoint, path)


def test_index_without_header(sharded):
    items = [(k, v) for k, v in read_index(sharded) if k]
    write_table(sharded + ".index", items)
    raises(DataLossError, sharded + ".index", tfformats.load_checkpoint, sharded)


def test_header_problems(sharded):
    index = sharded + ".index"

    def change(h):
        h.version.min_consumer = 7

    rewrite_entry(sharded, b"", change)
    raises(UnsupportedError, index, tfformats.load_checkpoint, sharded)

    def change(h):
        h.version.min_consumer = 0
        h.endianness = 5

    rewrite_entry(sharded, b"", change)
    raises(DataLossError, index, tfformats.load_checkpoint, sharded)


def test_unparseable_entry(sharded):
    items = [(k, b"\xff\xff\xff" if k == b"counts" else v) for k, v in read_index(sharded)]
    write_table(sharded + ".index", items)
    with tfformats.load_checkpoint(sharded) as r:
        err = raises(DataLossError, sharded + ".index", r.get_tensor, "counts")
    assert "counts" in str(err)


# ---------------------------------------------------------------------------
# Entries
# ---------------------------------------------------------------------------
def test_shard_id_out_of_range(sharded):
    rewrite_entry(sharded, "counts", lambda e: setattr(e, "shard_id", 3))
    with tfformats.load_checkpoint(sharded) as r:
        err = raises(DataLossError, sharded + ".index", r.get_tensor, "counts")
        assert "shard" in str(err) and "counts" in str(err)
        r.get_tensor("dense/kernel")  # the rest still reads
    rewrite_entry(sharded, "counts", lambda e: setattr(e, "shard_id", -1))
    with tfformats.load_checkpoint(sharded) as r:
        raises(DataLossError, sharded + ".index", r.get_tensor, "counts")


@pytest.mark.parametrize("offset", [10**9, -1, 2**62])
def test_offset_out_of_range(sharded, offset):
    with tfformats.load_checkpoint(sharded) as r:
        shard = r.backend.shard_path(r.backend.entry("counts").shard_id)
    rewrite_entry(sharded, "counts", lambda e: setattr(e, "offset", offset))
    with tfformats.load_checkpoint(sharded) as r:
        raises(DataLossError, shard, r.get_tensor, "counts")


def test_size_does_not_match_shape(sharded):
    rewrite_entry(sharded, "counts", lambda e: setattr(e, "size", e.size - 8))
    with tfformats.load_checkpoint(sharded) as r:
        err = raises(DataLossError, sharded + ".index", r.get_tensor, "counts")
        assert "counts" in str(err)


def _set_dims(e, dims):
    del e.shape.dim[:]
    for d in dims:
        e.shape.dim.add(size=d)


def test_negative_dimension(sharded):
    rewrite_entry(sharded, "counts", lambda e: _set_dims(e, [-3]))
    with tfformats.load_checkpoint(sharded) as r:
        raises(DataLossError, sharded + ".index", r.get_tensor, "counts")
        raises(DataLossError, sharded + ".index", r.list_variables)


def test_element_count_overflow(sharded):
    rewrite_entry(sharded, "counts", lambda e: _set_dims(e, [2**40, 2**40, 2**40]))
    with tfformats.load_checkpoint(sharded) as r:
        raises(DataLossError, sharded + ".index", r.get_tensor, "counts")


def test_huge_shape_with_matching_size_is_refused_before_allocating(sharded):
    """Shape and size agree (2**40 float32s) but the shard is tiny."""
    with tfformats.load_checkpoint(sharded) as r:
        shard = r.backend.shard_path(r.backend.entry("dense/kernel").shard_id)

    def change(e):
        _set_dims(e, [2**20, 2**20])
        e.size = 4 * 2**40

    rewrite_entry(sharded, "dense/kernel", change)
    with tfformats.load_checkpoint(sharded) as r:
        raises(DataLossError, shard, r.get_tensor, "dense/kernel")
        with pytest.raises(DataLossError):
            r.get_slice("dense/kernel")[5:7]


def test_unknown_dtype(sharded):
    rewrite_entry(sharded, "counts", lambda e: setattr(e, "dtype", 99))
    with tfformats.load_checkpoint(sharded) as r:
        raises(UnsupportedError, sharded + ".index", r.get_tensor, "counts")


def test_unknown_rank(sharded):
    rewrite_entry(sharded, "counts", lambda e: setattr(e.shape, "unknown_rank", True))
    with tfformats.load_checkpoint(sharded) as r:
        raises(DataLossError, sharded + ".index", r.get_tensor, "counts")


# ---------------------------------------------------------------------------
# Data shards
# ---------------------------------------------------------------------------
def test_flipped_byte_in_data_shard(sharded):
    with tfformats.load_checkpoint(sharded) as r:
        e = r.backend.entry("dense/kernel")
        shard = r.backend.shard_path(e.shard_id)
    raw = bytearray(Path(shard).read_bytes())
    raw[e.offset + 5] ^= 0x10
    Path(shard).write_bytes(bytes(raw))
    with tfformats.load_checkpoint(sharded) as r:
        err = raises(ChecksumError, shard, r.get_tensor, "dense/kernel")
        assert "dense/kernel" in str(err)
    with tfformats.load_checkpoint(sharded, verify_checksums=False) as r:
        r.get_tensor("dense/kernel")


def test_flipped_byte_in_a_partition(sharded):
    with tfformats.load_checkpoint(sharded) as r:
        box, se = r.backend.slice_entries("emb")[1]
        shard = r.backend.shard_path(se.shard_id)
    raw = bytearray(Path(shard).read_bytes())
    raw[se.offset] ^= 0x01
    Path(shard).write_bytes(bytes(raw))
    with tfformats.load_checkpoint(sharded) as r:
        err = raises(ChecksumError, shard, r.get_tensor, "emb")
        assert "emb[" in str(err)


@pytest.mark.parametrize("where", ["lengths_checksum", "body", "last"])
def test_flipped_byte_in_string_tensor(strings, where):
    with tfformats.load_checkpoint(strings) as r:
        e = r.backend.entry("mixed")
    shard = strings + ".data-00000-of-00001"
    raw = bytearray(Path(shard).read_bytes())
    used = 14  # varints of the 9 lengths: 1+1+2+1+1+2+2+3+1 bytes
    pos = {"lengths_checksum": e.offset + used + 1, "body": e.offset + used + 4 + 30,
           "last": e.offset + e.size - 1}[where]
    raw[pos] ^= 0x04
    Path(shard).write_bytes(bytes(raw))
    with tfformats.load_checkpoint(strings) as r:
        raises(ChecksumError, shard, r.get_tensor, "mixed")


def test_string_lengths_claiming_more_than_the_entry(strings):
    """Rewrite the first length varint of 'mixed' (0) as 127: the lengths then
    add up to more bytes than the entry has."""
    with tfformats.load_checkpoint(strings) as r:
        e = r.backend.entry("mixed")
    shard = strings + ".data-00000-of-00001"
    raw = bytearray(Path(shard).read_bytes())
    assert raw[e.offset] == 0
    raw[e.offset] = 0x7F
    Path(shard).write_bytes(bytes(raw))
    for verify in (True, False):
        with tfformats.load_checkpoint(strings, verify_checksums=verify) as r:
            err = raises(DataLossError, shard, r.get_tensor, "mixed")
            assert not isinstance(err, ChecksumError)


def test_string_lengths_running_past_the_entry(strings):
    """Every length byte has its continuation bit set: the varints never end."""
    with tfformats.load_checkpoint(strings) as r:
        e = r.backend.entry("scalar_long")
    shard = strings + ".data-00000-of-00001"
    raw = bytearray(Path(shard).read_bytes())
    raw[e.offset : e.offset + e.size] = b"\xff" * e.size
    Path(shard).write_bytes(bytes(raw))
    with tfformats.load_checkpoint(strings) as r:
        raises(DataLossError, shard, r.get_tensor, "scalar_long")


def test_string_tensor_claiming_more_elements_than_bytes(strings):
    rewrite_entry(strings, "mixed", lambda e: _set_dims(e, [10**9]))
    with tfformats.load_checkpoint(strings) as r:
        raises(DataLossError, strings, r.get_tensor, "mixed")


# ---------------------------------------------------------------------------
# Variant tensors (tf.data iterator state, TensorLists)
# ---------------------------------------------------------------------------
ITER = "data/.ATTRIBUTES/ITERATOR_STATE"


@pytest.fixture
def objects(tmp_path):
    return copy_prefix(path_of("tf2_objects"), tmp_path)


def _variant_layout(prefix, name):
    """``(shard path, entry, [(element start, body start, body end)])``."""
    with tfformats.load_checkpoint(prefix) as r:
        e = r.backend.entry(name)
        shard = r.backend.shard_path(e.shard_id)
    raw = Path(shard).read_bytes()
    pos, out = e.offset, []
    while pos < e.offset + e.size:
        length, body = varint.decode(raw, pos, len(raw))
        out.append((pos, body, body + length))
        pos = body + length + 4
    return shard, e, out


@pytest.mark.parametrize("where", ["body", "checksum", "last"])
def test_flipped_byte_in_variant_tensor(objects, where):
    shard, e, elems = _variant_layout(objects, ITER)
    assert len(elems) == 13
    start, body, end = elems[4]
    pos = {"body": body + 3, "checksum": end + 1, "last": e.offset + e.size - 1}[where]
    raw = bytearray(Path(shard).read_bytes())
    raw[pos] ^= 0x20
    Path(shard).write_bytes(bytes(raw))
    with tfformats.load_checkpoint(objects) as r:
        err = raises(ChecksumError, shard, r.get_tensor, ITER)
        assert ITER in str(err)
        r.get_tensor("items/.ATTRIBUTES/VARIABLE_VALUE")  # the other variant still reads


def test_variant_length_running_past_the_entry(objects):
    """The last element's length varint claims the most its width allows."""
    shard, e, elems = _variant_layout(objects, ITER)
    start, body, end = elems[-1]
    width = body - start
    raw = bytearray(Path(shard).read_bytes())
    raw[start:body] = b"\xff" * (width - 1) + b"\x7f"  # (1 << 7 * width) - 1
    Path(shard).write_bytes(bytes(raw))
    with tfformats.load_checkpoint(objects, verify_checksums=False) as r:
        err = raises(DataLossError, shard, r.get_tensor, ITER)
        assert "runs past the end" in str(err)


def test_variant_element_that_is_not_a_proto(objects):
    shard, e, elems = _variant_layout(objects, ITER)
    start, body, end = elems[0]
    raw = bytearray(Path(shard).read_bytes())
    raw[body] = 0xFF  # field 31, wire type 7: no such wire type
    Path(shard).write_bytes(bytes(raw))
    with tfformats.load_checkpoint(objects, verify_checksums=False) as r:
        err = raises(DataLossError, shard, r.get_tensor, ITER)
        assert "VariantTensorDataProto" in str(err)
    with tfformats.load_checkpoint(objects) as r:
        raises(ChecksumError, shard, r.get_tensor, ITER)


def test_variant_tensor_claiming_more_elements_than_bytes(objects):
    rewrite_entry(objects, ITER, lambda e: _set_dims(e, [10**9]))
    with tfformats.load_checkpoint(objects) as r:
        raises(DataLossError, objects, r.get_tensor, ITER)
    rewrite_entry(objects, ITER, lambda e: _set_dims(e, [12]))  # one element left over
    with tfformats.load_checkpoint(objects) as r:
        err = raises(DataLossError, objects, r.get_tensor, ITER)
        assert "unused" in str(err)


def test_variant_tensor_in_a_big_endian_bundle(objects):
    """TensorFlow refuses these too (the length CRC follows the writer's byte order)."""
    rewrite_entry(objects, b"", lambda h: setattr(h, "endianness", 1))
    with tfformats.load_checkpoint(objects) as r:
        raises(UnsupportedError, objects, r.get_tensor, ITER)


def test_missing_shard(sharded):
    with tfformats.load_checkpoint(sharded) as r:
        e = r.backend.entry("dense/kernel")
        shard = r.backend.shard_path(e.shard_id)
        other = next(n for n in r if not r.backend.entry(n).slices and r.backend.entry(n).shard_id != e.shard_id)
    os.remove(shard)
    with tfformats.load_checkpoint(sharded) as r:
        err = raises(NotFoundError, shard, r.get_tensor, "dense/kernel")
        assert isinstance(err, FileNotFoundError)
        r.get_tensor(other)  # tensors in the other shards still read
        assert len(r.list_variables()) == 15


def test_truncated_data_shard(sharded):
    with tfformats.load_checkpoint(sharded) as r:
        e = r.backend.entry("dense/kernel")
        shard = r.backend.shard_path(e.shard_id)
    raw = Path(shard).read_bytes()
    Path(shard).write_bytes(raw[: e.offset + e.size - 1])
    with tfformats.load_checkpoint(sharded) as r:
        raises(DataLossError, shard, r.get_tensor, "dense/kernel")


# ---------------------------------------------------------------------------
# Partitioned variables
# ---------------------------------------------------------------------------
def _slice_proto(e, extents):
    from tfformats.proto import pb

    sp = pb.TensorSliceProto()
    for start, length in extents:
        x = sp.extent.add()
        if length != -1:
            x.start = start
            x.length = length
    return sp


@pytest.mark.parametrize(
    "extents,why",
    [
        ([(8, 5), (0, 3)], "outside"),
        ([(0, 4)], "rank"),
        ([(-1, 4), (0, 3)], "negative start"),
        ([(0, 0), (0, 3)], "zero length"),
        ([(2, -1), (0, 3)], "full with start"),
    ],
)
def test_bad_slice_in_full_entry(sharded, extents, why):
    def change(e):
        e.slices[0].CopyFrom(_slice_proto(e, extents))
        if why == "full with start":
            e.slices[0].extent[0].start = 2
            e.slices[0].extent[0].ClearField("length")

    rewrite_entry(sharded, "emb", change)
    with tfformats.load_checkpoint(sharded) as r:
        raises(DataLossError, sharded + ".index", r.get_tensor, "emb")
        raises(DataLossError, sharded + ".index", r.get_slice("emb").__getitem__, slice(0, 2))


def test_slices_not_covering_the_tensor(sharded):
    # Drop one slice from the full entry: the rest do not cover the tensor.
    rewrite_entry(sharded, "emb", lambda e: e.slices.pop())
    with tfformats.load_checkpoint(sharded) as r:
        err = raises(DataLossError, sharded + ".index", r.get_tensor, "emb")
        assert "cover" in str(err)


def test_overlapping_slices(sharded):
    def change(e):
        e.slices.add().CopyFrom(e.slices[0])  # the same slice twice

    rewrite_entry(sharded, "emb", change)
    with tfformats.load_checkpoint(sharded) as r:
        err = raises(DataLossError, sharded + ".index", r.get_tensor, "emb")
        assert "overlap" in str(err)


def test_slice_entry_missing(sharded):
    items = read_index(sharded)
    key = next(k for k, _ in items if k.startswith(b"\x00emb\x00"))
    write_table(sharded + ".index", [(k, v) for k, v in items if k != key])
    with tfformats.load_checkpoint(sharded) as r:
        assert "emb" in r
        raises(DataLossError, sharded + ".index", r.get_tensor, "emb")


@pytest.mark.parametrize("field,value", [("dtype", 2), ("shape", [99, 3]), ("size", 4)])
def test_slice_entry_inconsistent(sharded, field, value):
    items = read_index(sharded)
    key = next(k for k, _ in items if k.startswith(b"\x00emb\x00"))

    def change(e):
        if field == "shape":
            _set_dims(e, value)
        else:
            setattr(e, field, value)

    rewrite_entry(sharded, key, change)
    with tfformats.load_checkpoint(sharded) as r:
        raises(DataLossError, sharded + ".index", r.get_tensor, "emb")


# ---------------------------------------------------------------------------
# V1 checkpoints
# ---------------------------------------------------------------------------
def _v1_items(path):
    with Table(str(path)) as t:
        return list(t.items())


def _sts(value):
    from tfformats.proto import pb

    return pb.SavedTensorSlices.FromString(value)


def _rewrite_v1(path, key, change):
    items = []
    for k, v in _v1_items(path):
        if k == key:
            m = _sts(v)
            change(m)
            v = m.SerializeToString()
        items.append((k, v))
    write_table(str(path), items)


@pytest.fixture
def v1(tmp_path):
    dst = tmp_path / "model.ckpt-1"
    shutil.copy2(path_of("v1_single"), dst)
    return dst


@pytest.fixture
def v1_sharded(tmp_path):
    d = tmp_path / "v1s"
    shutil.copytree(CK / "v1_sharded", d)
    return d


@pytest.mark.parametrize("keep", [0, 10, -1, -100])
def test_v1_truncated(v1, keep):
    data = v1.read_bytes()
    v1.write_bytes(data[:keep])
    raises(DataLossError, v1, tfformats.load_checkpoint, v1)


def test_v1_not_a_table(tmp_path):
    p = tmp_path / "random.bin"
    p.write_bytes(os.urandom(200))
    raises(DataLossError, p, tfformats.load_checkpoint, p)


def test_v1_no_meta(v1):
    write_table(str(v1), [(k, v) for k, v in _v1_items(v1) if k])
    raises(DataLossError, v1, tfformats.load_checkpoint, v1)


def _meta_tensor(m, name):
    return next(t for t in m.meta.tensor if t.name == name)


def test_v1_slice_outside_shape(v1):
    def change(m):
        sl = _meta_tensor(m, "emb").slice[0]
        sl.extent[0].start = 8
        sl.extent[0].length = 5

    _rewrite_v1(v1, b"", change)
    raises(DataLossError, v1, tfformats.load_checkpoint, v1)


def test_v1_slice_rank_mismatch(v1):
    def change(m):
        _meta_tensor(m, "dense/kernel").slice[0].extent.add()

    _rewrite_v1(v1, b"", change)
    raises(DataLossError, v1, tfformats.load_checkpoint, v1)


def test_v1_value_count_mismatch(v1):
    key = S.encode_tensor_name_slice("dense/kernel", [(0, -1), (0, -1)])

    def change(m):
        del m.data.data.float_val[-1]

    _rewrite_v1(v1, key, change)
    with tfformats.load_checkpoint(v1) as r:
        err = raises(DataLossError, v1, r.get_tensor, "dense/kernel")
        assert "dense/kernel" in str(err)
        r.get_tensor("dense/bias")


def test_v1_record_for_another_tensor(v1):
    key = S.encode_tensor_name_slice("dense/kernel", [(0, -1), (0, -1)])
    _rewrite_v1(v1, key, lambda m: setattr(m.data, "name", "other"))
    with tfformats.load_checkpoint(v1) as r:
        raises(DataLossError, v1, r.get_tensor, "dense/kernel")


def test_v1_slice_record_missing(v1):
    key = S.encode_tensor_name_slice("dense/kernel", [(0, -1), (0, -1)])
    write_table(str(v1), [(k, v) for k, v in _v1_items(v1) if k != key])
    with tfformats.load_checkpoint(v1) as r:
        raises(DataLossError, v1, r.get_tensor, "dense/kernel")


def test_v1_overlapping_slices(v1):
    def change(m):
        t = _meta_tensor(m, "emb")
        t.slice.add().CopyFrom(t.slice[0])

    _rewrite_v1(v1, b"", change)
    with tfformats.load_checkpoint(v1) as r:
        err = raises(DataLossError, v1, r.get_tensor, "emb")
        assert "overlap" in str(err)


def test_v1_huge_shape_is_refused_before_allocating(v1):
    def change(m):
        t = _meta_tensor(m, "dense/kernel")
        t.shape.dim[0].size = 2**31
        t.shape.dim[1].size = 2**20

    _rewrite_v1(v1, b"", change)
    with tfformats.load_checkpoint(v1) as r:
        raises(DataLossError, v1, r.get_tensor, "dense/kernel")


def test_v1_negative_dim_and_unknown_dtype(v1, tmp_path):
    other = tmp_path / "copy.ckpt"
    shutil.copy2(v1, other)
    _rewrite_v1(v1, b"", lambda m: setattr(_meta_tensor(m, "counts").shape.dim[0], "size", -4))
    raises(DataLossError, v1, tfformats.load_checkpoint, v1)
    _rewrite_v1(other, b"", lambda m: setattr(_meta_tensor(m, "counts"), "type", 77))
    raises(UnsupportedError, other, tfformats.load_checkpoint, other)


def test_v1_newer_version(v1):
    _rewrite_v1(v1, b"", lambda m: setattr(m.meta.versions, "min_consumer", 9))
    raises(UnsupportedError, v1, tfformats.load_checkpoint, v1)


def test_v1_missing_shard(v1_sharded):
    gone = v1_sharded / "model.ckpt-2-00001-of-00003"
    os.remove(gone)
    err = raises(NotFoundError, gone, tfformats.load_checkpoint, v1_sharded / "model.ckpt-2-?????-of-00003")
    assert isinstance(err, FileNotFoundError)
    raises(NotFoundError, gone, tfformats.load_checkpoint, v1_sharded)


def test_v1_shards_disagree_about_a_shape(v1_sharded):
    shard = v1_sharded / "model.ckpt-2-00002-of-00003"
    _rewrite_v1(shard, b"", lambda m: setattr(_meta_tensor(m, "emb").shape.dim[0], "size", 11))
    raises(DataLossError, shard, tfformats.load_checkpoint, v1_sharded / "model.ckpt-2-?????-of-00003")


def test_v1_flipped_byte_in_a_block(v1):
    raw = bytearray(v1.read_bytes())
    raw[30] ^= 0x08
    v1.write_bytes(bytes(raw))
    raises(ChecksumError, v1, read_all, v1)


def test_errors_are_plain_python_exceptions_too(sharded):
    os.remove(sharded + ".index")
    with pytest.raises(FileNotFoundError):
        tfformats.load_checkpoint(sharded)
    assert issubclass(DataLossError, ValueError) and issubclass(ChecksumError, DataLossError)
    for cls, builtin in [
        (tfformats.NotFoundError, FileNotFoundError),
        (tfformats.DataLossError, ValueError),
        (tfformats.ChecksumError, ValueError),
        (tfformats.UnknownTensorError, KeyError),
        (tfformats.UnsupportedError, NotImplementedError),
        (tfformats.InvalidArgumentError, ValueError),
        (tfformats.ResourceLimitError, MemoryError),
    ]:
        assert issubclass(cls, TFFormatsError) and issubclass(cls, builtin), cls


def test_errors_name_the_place_and_survive_pickling():
    import pickle

    err = tfformats.UnknownTensorError("no tensor named 'w'", path="/x/ckpt", entry="w")
    assert str(err) == "/x/ckpt, entry 'w': no tensor named 'w'"  # not KeyError's repr()
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is type(err) and str(back) == str(err) and (back.path, back.entry) == ("/x/ckpt", "w")
    err = tfformats.ChecksumError("bad", path="/x/ckpt.data-00000-of-00001", entry="w", offset=128)
    assert "offset 128" in str(err) and pickle.loads(pickle.dumps(err)).offset == 128
