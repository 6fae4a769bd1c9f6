"""Writing TensorFlow's table format, the way ``tsl::table::TableBuilder`` does.

The output is byte-identical to TensorFlow's for the same keys, values and
options (checked against ``.index`` files written by TensorFlow 2.21)::

    [data block][trailer] ... [metaindex block][trailer] [index block][trailer] [footer]

Rules the builder follows (from ``table_builder.cc`` / ``block_builder.cc``):

* Keys are added in strictly increasing bytewise order.
* A data block holds entries with prefix-compressed keys and a restart point
  every 16 entries; the index block restarts at every entry.
* Before an entry whose key + value is at least twice the block size, the
  current block is flushed; after an entry, the block is flushed once its
  size estimate (bytes + 4 per restart + 4) reaches the block size
  (256 KiB by default).
* The index entry of a block is written when the next block starts, under
  the shortest separator between the block's last key and the next key: at the
  first differing byte, that byte + 1, cut there (only when neither key is a
  prefix of the other, the byte is not 0xff and byte + 1 is still below the
  next key's byte); otherwise the block's last key.  The last block's entry
  uses the shortest successor of its last key (first byte that is not 0xff,
  + 1, cut there).  So index keys are usually not real keys.
* The metaindex block is empty (a block with one restart at 0: 8 bytes).
* With snappy compression, a block is stored compressed only when that saves
  at least 12.5 % (``len(c) < len(raw) - len(raw) // 8``); TensorFlow writes
  bundle indexes uncompressed, which is the default here.
* Trailer: compression byte + ``mask(crc32c(stored bytes + compression
  byte))``; footer: the two block handles as varints, zero padding to 40
  bytes, then the magic number as u64 LE.
"""

from __future__ import annotations

import struct

from ..errors import InvalidArgumentError
from . import crc, varint
from .table import FOOTER_SIZE, MAGIC, NO_COMPRESSION, SNAPPY_COMPRESSION

DEFAULT_BLOCK_SIZE = 256 * 1024
DEFAULT_RESTART_INTERVAL = 16
_LARGE_ENTRY_RATIO = 2  # an entry this many blocks big starts a fresh block

_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_MAX_U32 = 0xFFFFFFFF


def shortest_separator(start: bytes, limit: bytes) -> bytes:
    """A short key ``k`` with ``start <= k < limit`` (TensorFlow's rule)."""
    n = min(len(start), len(limit))
    i = 0
    while i < n and start[i] == limit[i]:
        i += 1
    if i >= n:  # one is a prefix of the other: keep start
        return start
    b = start[i]
    if b < 0xFF and b + 1 < limit[i]:
        return start[:i] + bytes([b + 1])
    return start


def short_successor(key: bytes) -> bytes:
    """A short key ``>= key`` (TensorFlow's rule for the last index entry)."""
    for i, b in enumerate(key):
        if b != 0xFF:
            return key[:i] + bytes([b + 1])
    return key  # empty, or all 0xff


class _BlockBuilder:
    """Entries with prefix-compressed keys and a restart array."""

    __slots__ = ("interval", "buf", "restarts", "counter", "last_key")

    def __init__(self, interval: int) -> None:
        self.interval = interval
        self.reset()

    def reset(self) -> None:
        self.buf = bytearray()
        self.restarts = [0]
        self.counter = 0
        self.last_key = b""

    @property
    def empty(self) -> bool:
        return not self.buf

    def size_estimate(self) -> int:
        return len(self.buf) + 4 * len(self.restarts) + 4

    def add(self, key: bytes, value: bytes) -> None:
        shared = 0
        if self.counter < self.interval:
            last = self.last_key
            n = min(len(last), len(key))
            while shared < n and last[shared] == key[shared]:
                shared += 1
        else:
            self.restarts.append(len(self.buf))
            self.counter = 0
        non_shared = len(key) - shared
        buf = self.buf
        if shared < 0x80 and non_shared < 0x80 and len(value) < 0x80:
            buf += bytes((shared, non_shared, len(value)))
        else:
            buf += varint.encode(shared)
            buf += varint.encode(non_shared)
            buf += varint.encode(len(value))
        buf += key[shared:]
        buf += value
        self.last_key = key
        self.counter += 1

    def finish(self) -> bytes:
        out = self.buf
        out += struct.pack(f"<{len(self.restarts) + 1}I", *self.restarts, len(self.restarts))
        return bytes(out)


def _encode_handle(offset: int, size: int) -> bytes:
    return varint.encode(offset) + varint.encode(size)


class TableBuilder:
    """Build one table into a binary file object (anything with ``write``).

    ``add(key, value)`` in strictly increasing key order, then ``finish()``
    (returns the number of bytes written).  ``compression`` is ``None``
    (TensorFlow's choice for bundle indexes) or ``"snappy"``.
    """

    def __init__(
        self,
        file,
        *,
        block_size: int = DEFAULT_BLOCK_SIZE,
        restart_interval: int = DEFAULT_RESTART_INTERVAL,
        compression: str | None = None,
    ) -> None:
        if compression not in (None, "none", "snappy"):
            raise InvalidArgumentError(f"unknown table compression {compression!r} (use None or 'snappy')")
        if block_size < 1:
            raise InvalidArgumentError(f"block_size must be positive, not {block_size}")
        if restart_interval < 1:
            raise InvalidArgumentError(f"restart_interval must be positive, not {restart_interval}")
        self._file = file
        self._snappy = compression == "snappy"
        if self._snappy:
            import snappy  # noqa: F401  (fail early when the binding is missing)
        self.block_size = block_size
        self._data = _BlockBuilder(restart_interval)
        self._index = _BlockBuilder(1)
        self._offset = 0
        self._last_key = b""
        self._num_entries = 0
        self._pending_handle: tuple[int, int] | None = None
        self._closed = False

    @property
    def num_entries(self) -> int:
        return self._num_entries

    @property
    def file_size(self) -> int:
        """Bytes written so far (the whole file after :meth:`finish`)."""
        return self._offset

    def add(self, key, value) -> None:
        if self._closed:
            raise InvalidArgumentError("the table is already finished")
        key = bytes(key)
        value = bytes(value)
        if self._num_entries:
            if key <= self._last_key:
                raise InvalidArgumentError(
                    f"table keys must be added in strictly increasing order: {key!r} after {self._last_key!r}"
                )
            if len(key) + len(value) >= _LARGE_ENTRY_RATIO * self.block_size:
                self._flush()
        if len(key) > _MAX_U32 or len(value) > _MAX_U32:
            raise InvalidArgumentError("table keys and values must be shorter than 4 GiB")
        if self._pending_handle is not None:
            sep = shortest_separator(self._last_key, key)
            self._index.add(sep, _encode_handle(*self._pending_handle))
            self._pending_handle = None
        self._last_key = key
        self._num_entries += 1
        self._data.add(key, value)
        if self._data.size_estimate() >= self.block_size:
            self._flush()

    def _flush(self) -> None:
        if self._data.empty:
            return
        self._pending_handle = self._write_block(self._data)

    def _write_block(self, block: _BlockBuilder) -> tuple[int, int]:
        raw = block.finish()
        block.reset()
        ctype = NO_COMPRESSION
        stored = raw
        if self._snappy:
            import snappy

            packed = snappy.compress(raw)
            if len(packed) < len(raw) - len(raw) // 8:
                stored, ctype = packed, SNAPPY_COMPRESSION
        return self._write_raw_block(stored, ctype)

    def _write_raw_block(self, stored: bytes, ctype: int) -> tuple[int, int]:
        handle = (self._offset, len(stored))
        type_byte = bytes((ctype,))
        trailer = type_byte + _U32.pack(crc.mask(crc.extend(crc.value(stored), type_byte)))
        self._file.write(stored)
        self._file.write(trailer)
        self._offset += len(stored) + len(trailer)
        return handle

    def finish(self) -> int:
        """Write the remaining block, the metaindex and index blocks and the footer."""
        if self._closed:
            raise InvalidArgumentError("the table is already finished")
        self._flush()
        self._closed = True
        meta_handle = self._write_block(_BlockBuilder(DEFAULT_RESTART_INTERVAL))
        if self._pending_handle is not None:
            self._index.add(short_successor(self._last_key), _encode_handle(*self._pending_handle))
            self._pending_handle = None
        index_handle = self._write_block(self._index)
        handles = _encode_handle(*meta_handle) + _encode_handle(*index_handle)
        footer = handles + bytes(FOOTER_SIZE - 8 - len(handles)) + _U64.pack(MAGIC)
        self._file.write(footer)
        self._offset += len(footer)
        return self._offset

    def __repr__(self) -> str:
        state = "finished" if self._closed else "open"
        return f"<tfformats TableBuilder: {self._num_entries} entries, {self._offset} bytes, {state}>"


def build_table(items, **options) -> bytes:
    """The bytes of a table holding ``items`` (``(key, value)`` pairs in order)."""
    import io

    out = io.BytesIO()
    builder = TableBuilder(out, **options)
    for key, value in items:
        builder.add(key, value)
    builder.finish()
    return out.getvalue()
