"""TensorFlow's table format (a LevelDB SSTable without filter blocks).

Used by checkpoint ``.index`` files and by V1 (SavedTensorSlices) checkpoints.

File layout::

    [data block][trailer] ... [metaindex block][trailer] [index block][trailer] [footer]

    trailer (5 bytes):  u8 compression (0 raw, 1 snappy)
                        u32le mask(crc32c(stored block bytes + compression byte))
    footer (48 bytes):  varint64 metaindex.offset, varint64 metaindex.size,
                        varint64 index.offset,     varint64 index.size,
                        zero padding up to byte 40,
                        u64le magic 0xdb4775248b80fb57

Block contents (after decompression)::

    entry*:  varint32 shared | varint32 non_shared | varint32 value_len
             | key bytes after the shared prefix [non_shared] | value [value_len]
    u32le restart_offset[num_restarts]
    u32le num_restarts

Keys are byte strings compared bytewise.  Each entry of the index block maps a
separator key (>= every key of one data block, < the first key of the next)
to the BlockHandle (varint64 offset, varint64 size) of that block.  A handle's
size does not include the trailer.
"""

from __future__ import annotations

import bisect
import struct
from collections import OrderedDict
from dataclasses import dataclass
from typing import Iterator

from ..errors import ChecksumError, DataLossError, TFFormatsError, UnsupportedError
from . import crc, varint
from .source import ByteSource, open_source

MAGIC = 0xDB4775248B80FB57
FOOTER_SIZE = 48
TRAILER_SIZE = 5
NO_COMPRESSION = 0
SNAPPY_COMPRESSION = 1

_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")


def _snappy_uncompress(data: bytes, path: str, offset: int) -> bytes:
    # The raw snappy format starts with the uncompressed length as a varint.
    # A snappy stream expands at most ~22x (a 3-byte copy yields 64 bytes), so
    # a claim beyond that cannot be backed by the data: refuse before allocating.
    try:
        claimed, _ = varint.decode32(data, 0, len(data))
    except varint.VarintError as exc:
        raise DataLossError(f"bad snappy block header: {exc}", path=path, offset=offset) from None
    if claimed > 22 * len(data) + 64:
        raise DataLossError(
            f"snappy block claims {claimed} bytes from {len(data)} compressed bytes",
            path=path,
            offset=offset,
        )
    import snappy

    try:
        out = snappy.uncompress(data)
    except Exception as exc:  # the binding raises its own error types
        raise DataLossError(f"corrupt snappy block: {exc}", path=path, offset=offset) from None
    if len(out) != claimed:
        raise DataLossError("snappy block has the wrong length", path=path, offset=offset)
    return bytes(out)


def decode_handle(buf, pos: int, limit: int) -> tuple[int, int, int]:
    """Decode a BlockHandle; returns ``(offset, size, new_pos)``."""
    offset, pos = varint.decode(buf, pos, limit, 10)
    size, pos = varint.decode(buf, pos, limit, 10)
    return offset, size, pos


def parse_block(data, path: str = "<table>", block_offset: int = 0) -> tuple[list, list]:
    """Decode every entry of a block: returns ``(keys, values)`` as bytes lists."""
    n = len(data)
    if n < 4:
        raise DataLossError("block shorter than its restart count", path=path, offset=block_offset)
    (num_restarts,) = _U32.unpack_from(data, n - 4)
    if num_restarts > (n - 4) // 4:
        raise DataLossError(
            f"block claims {num_restarts} restart points, more than fit", path=path, offset=block_offset
        )
    limit = n - 4 - 4 * num_restarts
    keys: list[bytes] = []
    values: list[bytes] = []
    key = b""
    pos = 0
    dec = varint.decode32
    try:
        while pos < limit:
            # Fast path: all three varints fit in one byte each.
            shared = data[pos]
            non_shared = data[pos + 1] if pos + 1 < limit else 0x80
            vlen = data[pos + 2] if pos + 2 < limit else 0x80
            if (shared | non_shared | vlen) < 0x80:
                pos += 3
            else:
                shared, pos = dec(data, pos, limit)
                non_shared, pos = dec(data, pos, limit)
                vlen, pos = dec(data, pos, limit)
            if shared > len(key):
                raise DataLossError(
                    f"entry shares {shared} key bytes but the previous key has {len(key)}",
                    path=path,
                    offset=block_offset + pos,
                )
            end = pos + non_shared + vlen
            if end > limit:
                raise DataLossError("entry runs past the end of its block", path=path, offset=block_offset + pos)
            key = key[:shared] + bytes(data[pos : pos + non_shared])
            keys.append(key)
            values.append(bytes(data[pos + non_shared : end]))
            pos = end
    except varint.VarintError as exc:
        raise DataLossError(f"bad varint in block: {exc}", path=path, offset=block_offset + pos) from None
    return keys, values


@dataclass(frozen=True)
class TableBlock:
    """One data block of a table, as :meth:`Table.iter_blocks` read it.

    ``offset``/``size`` locate the block in the file (``size`` without its
    5-byte trailer).  A block that reads, passes its CRC, parses and keeps its
    keys in order has ``keys``/``values`` and ``error`` None; otherwise
    ``keys``/``values`` are None and ``error`` is the located
    :class:`~tfformats.errors.TFFormatsError` reading it raised.
    """

    index: int
    offset: int
    size: int
    keys: list | None = None
    values: list | None = None
    error: TFFormatsError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def num_entries(self) -> int:
        return len(self.keys) if self.keys is not None else 0


class Table:
    """Read-only access to one table file.

    Blocks are read on demand (a few decoded blocks are cached), so iterating
    or looking up keys never loads the whole file.  Every block's CRC is checked.
    """

    def __init__(self, source, *, cache_blocks: int = 8) -> None:
        self._owns = not isinstance(source, ByteSource)
        self.source = open_source(source)
        self.path = self.source.name
        self._cache: OrderedDict[int, tuple[list, list]] = OrderedDict()
        self._cache_size = cache_blocks
        try:
            self._read_footer()
        except BaseException:
            if self._owns:
                self.source.close()
            raise

    # -- structure -----------------------------------------------------------
    def _read_footer(self) -> None:
        size = self.source.size
        if size < FOOTER_SIZE:
            raise DataLossError(
                f"file is too short to be a table ({size} bytes, the footer alone is {FOOTER_SIZE})",
                path=self.path,
            )
        footer = bytes(self.source.read(size - FOOTER_SIZE, FOOTER_SIZE))
        (magic,) = _U64.unpack_from(footer, 40)
        if magic != MAGIC:
            raise DataLossError(
                f"not a table file: bad magic number 0x{magic:016x} in the footer",
                path=self.path,
                offset=size - 8,
            )
        try:
            _, _, pos = decode_handle(footer, 0, 40)  # metaindex, unused
            off, sz, _ = decode_handle(footer, pos, 40)
        except varint.VarintError as exc:
            raise DataLossError(f"bad block handle in footer: {exc}", path=self.path, offset=size - FOOTER_SIZE) from None
        self._index_keys, handles = self._parse_index(self._read_block(off, sz, "index block"))
        self._handles = handles

    def _parse_index(self, contents: bytes) -> tuple[list, list]:
        keys, values = parse_block(contents, self.path)
        handles = []
        for k, v in zip(keys, values):
            try:
                off, sz, _ = decode_handle(v, 0, len(v))
            except varint.VarintError as exc:
                raise DataLossError(f"bad block handle in index for key {k!r}: {exc}", path=self.path) from None
            handles.append((off, sz))
        for a, b in zip(keys, keys[1:]):
            if a > b:
                raise DataLossError("index block keys are out of order", path=self.path)
        return keys, handles

    def _read_block(self, offset: int, size: int, what: str = "data block") -> bytes:
        end_limit = self.source.size - FOOTER_SIZE
        if offset < 0 or size < 0 or offset + size + TRAILER_SIZE > end_limit:
            raise DataLossError(
                f"{what} handle (offset {offset}, size {size}) points outside the file", path=self.path, offset=offset
            )
        raw = self.source.read(offset, size + TRAILER_SIZE)
        ctype = raw[size]
        (stored,) = _U32.unpack_from(raw, size + 1)
        actual = crc.masked_value(raw[: size + 1])
        if stored != actual:
            raise ChecksumError(
                f"{what} checksum mismatch (stored 0x{stored:08x}, computed 0x{actual:08x})",
                path=self.path,
                offset=offset,
            )
        if ctype == NO_COMPRESSION:
            return bytes(raw[:size])
        if ctype == SNAPPY_COMPRESSION:
            return _snappy_uncompress(bytes(raw[:size]), self.path, offset)
        raise UnsupportedError(f"{what} has unknown compression type {ctype}", path=self.path, offset=offset)

    def _block(self, i: int) -> tuple[list, list]:
        cached = self._cache.get(i)
        if cached is not None:
            self._cache.move_to_end(i)
            return cached
        off, sz = self._handles[i]
        block = parse_block(self._read_block(off, sz), self.path, off)
        keys = block[0]
        for a, b in zip(keys, keys[1:]):
            if a >= b:
                raise DataLossError("keys out of order in data block", path=self.path, offset=off)
        # The index key of a block separates it from its neighbours; a block whose keys
        # leave that range would be listed by items() yet never found by get().
        if keys and (keys[-1] > self._index_keys[i] or (i and keys[0] <= self._index_keys[i - 1])):
            raise DataLossError("data block keys lie outside the range its index entry gives", path=self.path, offset=off)
        self._cache[i] = block
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return block

    # -- public --------------------------------------------------------------
    @property
    def num_blocks(self) -> int:
        return len(self._handles)

    def get(self, key: bytes) -> bytes | None:
        """The value stored under ``key``, or ``None``."""
        i = bisect.bisect_left(self._index_keys, key)
        if i >= len(self._handles):
            return None
        keys, values = self._block(i)
        j = bisect.bisect_left(keys, key)
        if j < len(keys) and keys[j] == key:
            return values[j]
        return None

    def items(self, start: bytes = b"") -> Iterator[tuple[bytes, bytes]]:
        """``(key, value)`` pairs in key order, from the first key >= ``start``."""
        i = bisect.bisect_left(self._index_keys, start) if start else 0
        prev = None
        for b in range(i, len(self._handles)):
            keys, values = self._block(b)
            j = bisect.bisect_left(keys, start) if start and b == i else 0
            if keys and prev is not None and keys[0] <= prev:
                raise DataLossError("keys out of order across blocks", path=self.path, offset=self._handles[b][0])
            for k in range(j, len(keys)):
                yield keys[k], values[k]
            if keys:
                prev = keys[-1]

    def __iter__(self) -> Iterator[tuple[bytes, bytes]]:
        return self.items()

    def block_spans(self) -> list[tuple[int, int]]:
        """``(offset, size)`` of every data block, for verification tools."""
        return list(self._handles)

    def iter_blocks(self) -> Iterator[TableBlock]:
        """Read and check every data block in file order, one :class:`TableBlock` each.

        A damaged block does not stop the walk: its ``error`` says what is
        wrong and where, and the next block is read.  Besides each block's own
        checks (bounds, CRC, compression, entries, key order inside the block
        and against its index entry), a block whose first key does not come
        after the previous intact block's last key gets a "keys out of order
        across blocks" error.
        """
        prev = None
        for i, (off, sz) in enumerate(self._handles):
            try:
                keys, values = self._block(i)
                if keys and prev is not None and keys[0] <= prev:
                    raise DataLossError("keys out of order across blocks", path=self.path, offset=off)
            except TFFormatsError as exc:
                yield TableBlock(i, off, sz, error=exc)
                continue
            if keys:
                prev = keys[-1]
            yield TableBlock(i, off, sz, keys, values)

    def verify(self) -> int:
        """Read and check every block; returns the number of entries.

        Raises the first problem :meth:`iter_blocks` finds.
        """
        n = 0
        for block in self.iter_blocks():
            if block.error is not None:
                raise block.error
            n += block.num_entries
        return n

    def close(self) -> None:
        self._cache.clear()
        if self._owns:
            self.source.close()

    def __enter__(self) -> "Table":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<tfformats Table {self.path!r}: {len(self._handles)} data blocks>"
