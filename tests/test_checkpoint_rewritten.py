"""Checkpoints TensorFlow 2.21 does not write on this machine, built from its
fixtures: big-endian bundles and snappy-compressed tables.  They must read
exactly like the originals (whose values TF itself read)."""

from __future__ import annotations

import numpy as np
import pytest

import tfformats
from tfformats._io.table import SNAPPY_COMPRESSION
from tfformats.errors import UnsupportedError

from _checkpoint_helpers import (
    CK,
    assert_matches,
    block_compression_types,
    checkpoint,
    copy_prefix,
    header,
    path_of,
    read_index,
    to_big_endian,
    write_table,
)

BE_FIXTURES = ["dtypes", "strings", "big", "tf1_sharded", "tf2_sharded", "tf_keras_legacy"]


@pytest.fixture(scope="module")
def big_endian(tmp_path_factory):
    out = {}
    root = tmp_path_factory.mktemp("big_endian")
    for cid in BE_FIXTURES:
        d = root / cid
        d.mkdir()
        dst = str(d / "ckpt")
        to_big_endian(path_of(cid), dst)
        out[cid] = dst
    return out


@pytest.mark.parametrize("cid", BE_FIXTURES)
def test_big_endian_bundle_reads_like_the_original(big_endian, cid):
    prefix = big_endian[cid]
    assert header(read_index(prefix)[0][1]).endianness == 1
    c = checkpoint(cid)
    with tfformats.load_checkpoint(prefix) as r:
        assert r.backend.endianness == 1
        assert r.list_variables() == [tuple(x) for x in c["list_variables"]]
        assert r.get_variable_to_dtype_map() == c["dtype_map"]
        for name, info in c["tensors"].items():
            if "tf_error" not in info:
                assert_matches(r.get_tensor(name), cid, info, f"BE {cid}:{name}")
        for name, info in c.get("restored", {}).items():
            assert_matches(r.get_tensor(name), cid, info, f"BE {cid}:{name} (restored)")


def test_big_endian_data_really_is_swapped(big_endian):
    """The rewritten shard holds the float32 bytes in big-endian order."""
    with tfformats.load_checkpoint(path_of("big")) as le, tfformats.load_checkpoint(big_endian["big"]) as be:
        e = le.backend.entry("embedding")
        le_bytes = bytes(le.backend._shard(0, "embedding").read(e.offset, 16))
        be_bytes = bytes(be.backend._shard(0, "embedding").read(e.offset, 16))
        assert be_bytes == np.frombuffer(le_bytes, "<f4").astype(">f4").tobytes() != le_bytes
        assert be.backend.entry("embedding").crc32c != e.crc32c


def test_big_endian_partial_reads_and_views(big_endian):
    with tfformats.load_checkpoint(big_endian["big"]) as r, tfformats.load_checkpoint(path_of("big")) as le:
        for name in ("embedding", "rows_bf16", "rows_c128", "rows_strings"):
            full = le.get_tensor(name)
            part = r.get_slice(name)[3:11]
            if full.dtype == object:
                assert part.tolist() == full[3:11].tolist()
            else:
                assert part.dtype == full.dtype and part.tobytes() == full[3:11].tobytes(), name
        with pytest.raises(UnsupportedError) as ei:
            r.get_tensor_view("embedding")  # not in this machine's byte order
        assert big_endian["big"] in str(ei.value)
    with tfformats.load_checkpoint(big_endian["tf2_sharded"]) as r, tfformats.load_checkpoint(path_of("tf2_sharded")) as le:
        name = "big/.ATTRIBUTES/VARIABLE_VALUE"
        assert r.get_slice(name)[7:29].tobytes() == le.get_tensor(name)[7:29].tobytes()


def test_big_endian_checksums_are_verified(big_endian, tmp_path):
    prefix = copy_prefix(big_endian["strings"], tmp_path)
    data = tmp_path / "ckpt.data-00000-of-00001"
    raw = bytearray(data.read_bytes())
    raw[-1] ^= 0x20
    data.write_bytes(bytes(raw))
    with tfformats.load_checkpoint(prefix) as r:
        with pytest.raises(tfformats.ChecksumError):
            for name in r:
                r.get_tensor(name)


# ---------------------------------------------------------------------------
# Snappy-compressed tables
# ---------------------------------------------------------------------------
SNAPPY_V2 = ["dtypes", "tf1_sharded", "tf2_sharded", "keras3", "tf_keras_legacy"]


@pytest.mark.parametrize("cid", SNAPPY_V2)
def test_snappy_index_reads_identically(cid, tmp_path):
    prefix = copy_prefix(path_of(cid), tmp_path)
    items = read_index(prefix)
    # small blocks -> many blocks, most of them worth compressing
    write_table(prefix + ".index", items, compression="snappy", block_size=512)
    types = block_compression_types(prefix + ".index")
    assert SNAPPY_COMPRESSION in types, types
    c = checkpoint(cid)
    with tfformats.load_checkpoint(prefix) as r:
        assert r.list_variables() == [tuple(x) for x in c["list_variables"]]
        for name, info in c["tensors"].items():
            if "tf_error" not in info:
                assert_matches(r.get_tensor(name), cid, info, f"snappy {cid}:{name}")
        for name, info in c.get("restored", {}).items():
            assert_matches(r.get_tensor(name), cid, info, f"snappy {cid}:{name}")
        assert r.backend._index_source  # the index was read through the table layer


@pytest.mark.parametrize("cid", ["v1_single", "v1_dtypes"])
def test_snappy_v1_file_reads_identically(cid, tmp_path):
    from tfformats._io.table import Table

    src = path_of(cid)
    with Table(src) as t:
        items = list(t.items())
    dst = tmp_path / "model.ckpt"
    write_table(str(dst), items, compression="snappy", block_size=256)
    assert SNAPPY_COMPRESSION in block_compression_types(str(dst))
    c = checkpoint(cid)
    with tfformats.load_checkpoint(dst) as r:
        assert r.format == "v1"
        assert r.list_variables() == [tuple(x) for x in c["list_variables"]]
        for name, info in {**{k: v for k, v in c["tensors"].items() if "tf_error" not in v},
                           **c.get("restored", {})}.items():
            assert_matches(r.get_tensor(name), cid, info, f"snappy {cid}:{name}")


def test_index_with_many_blocks(tmp_path):
    """Tiny uncompressed blocks: lookups cross block boundaries correctly."""
    prefix = copy_prefix(path_of("dtypes"), tmp_path)
    write_table(prefix + ".index", read_index(prefix), block_size=48)
    assert len(block_compression_types(prefix + ".index")) > 40
    c = checkpoint("dtypes")
    with tfformats.load_checkpoint(prefix) as r:
        assert list(r) == [n for n, _ in c["list_variables"]]
        for name in ("bool/values", "uint64/scalar", "string/values", "float8_e5m2/values"):
            assert_matches(r.get_tensor(name), "dtypes", c["tensors"][name], name)
    assert (CK / "dtypes").is_dir()
