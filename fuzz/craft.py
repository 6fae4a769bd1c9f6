"""Build hostile files on purpose: tables with chosen entries, bundles whose
index entries were rewritten, TFRecord streams with chosen length fields.

Used by the regression tests (``tests/test_robustness_cases.py``): each case
starts from a TensorFlow-written fixture and changes exactly one thing.
"""

from __future__ import annotations

import os
import struct

from .mutate import _crc32c, _mask, encode_varint

TABLE_MAGIC = 0xDB4775248B80FB57


def block(items) -> bytes:
    """A table block holding ``[(key, value)]`` as given (no prefix sharing, one restart)."""
    out = bytearray()
    for k, v in items:
        out += encode_varint(0) + encode_varint(len(k)) + encode_varint(len(v)) + k + v
    out += struct.pack("<I", 0) + struct.pack("<I", 1)
    return bytes(out)


def _with_trailer(contents: bytes) -> bytes:
    return contents + b"\x00" + struct.pack("<I", _mask(_crc32c(contents + b"\x00")))


def table(items, *, index_key: bytes | None = None, blocks: int = 1) -> bytes:
    """A valid table (unless ``index_key`` lies) of ``[(key, value)]`` in ``blocks`` data blocks."""
    items = list(items)
    out = bytearray()
    index_items = []
    per = max(1, -(-len(items) // blocks)) if items else 1
    chunks = [items[i : i + per] for i in range(0, len(items), per)] or [[]]
    for chunk in chunks:
        contents = block(chunk)
        handle = encode_varint(len(out)) + encode_varint(len(contents))
        key = index_key if index_key is not None else (chunk[-1][0] if chunk else b"")
        index_items.append((key, handle))
        out += _with_trailer(contents)
    meta = block([])
    meta_handle = encode_varint(len(out)) + encode_varint(len(meta))
    out += _with_trailer(meta)
    idx = block(index_items)
    idx_handle = encode_varint(len(out)) + encode_varint(len(idx))
    out += _with_trailer(idx)
    footer = (meta_handle + idx_handle).ljust(40, b"\x00") + struct.pack("<Q", TABLE_MAGIC)
    return bytes(out + footer)


def table_items(path_or_bytes) -> list[tuple[bytes, bytes]]:
    """Every ``(key, value)`` of a (valid) table, read with tfformats' own reader."""
    from tfformats._io.table import Table

    with Table(path_or_bytes) as t:
        return list(t.items())


def copy_bundle(src_prefix: str, dst_dir: str, name: str = "ckpt") -> str:
    """Copy a V2 checkpoint (index + shards) to ``dst_dir``; returns the new prefix."""
    import glob
    import shutil

    dst = os.path.join(dst_dir, name)
    shutil.copyfile(src_prefix + ".index", dst + ".index")
    for shard in glob.glob(glob.escape(src_prefix) + ".data-?????-of-?????"):
        shutil.copyfile(shard, dst + shard[len(src_prefix) :])
    return dst


def rewrite_bundle_entry(prefix: str, tensor: str, edit) -> None:
    """Rewrite the index of the bundle at ``prefix``: ``edit(BundleEntryProto)`` changes
    the entry of ``tensor`` (``""`` edits the header, a BundleHeaderProto)."""
    from tfformats.proto import pb

    items = table_items(prefix + ".index")
    out = []
    for k, v in items:
        if k == tensor.encode():
            msg = (pb.BundleHeaderProto if k == b"" else pb.BundleEntryProto).FromString(v)
            edit(msg)
            v = msg.SerializeToString()
        out.append((k, v))
    with open(prefix + ".index", "wb") as f:
        f.write(table(out))


def rewrite_bundle_index(prefix: str, edit) -> None:
    """Rewrite the index of the bundle at ``prefix``: ``edit(items)`` gets and returns the
    ``[(key, value bytes)]`` list (the table is written sorted by key)."""
    items = edit(table_items(prefix + ".index"))
    with open(prefix + ".index", "wb") as f:
        f.write(table(sorted(items)))


def record(payload: bytes, *, length: int | None = None) -> bytes:
    """One TFRecord with valid CRCs; ``length`` overrides the length field (its CRC matches it)."""
    header = struct.pack("<Q", len(payload) if length is None else length)
    return header + struct.pack("<I", _mask(_crc32c(header))) + payload + struct.pack("<I", _mask(_crc32c(payload)))
