"""Byte-level helpers shared by the harnesses, the runner and the property tests.

* ``pack`` / ``unpack``: several files in one fuzz input (a bundle's index and
  data shards, a SavedModel's files), split on a separator that mutations
  rarely hit, so a mutated input still splits into files.
* ``repair_table_crcs`` / ``repair_record_crcs``: rewrite the CRCs of a
  mutated table or TFRecord stream so the parser gets past its checksum checks
  and the mutation reaches the structure behind them.  Both are best effort and
  never raise.
* ``Mutator``: the mutations of the fallback driver and of the property tests
  (truncation, bit flips, interesting integers written over length fields,
  varint rewrites, splices), all reproducible from a ``random.Random``.
"""

from __future__ import annotations

import random
import struct
import zlib

SEPARATOR = b"\xf0TFFZ\x0f"

_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")


# -- several files in one input ----------------------------------------------------------------
def pack(*parts: bytes) -> bytes:
    return SEPARATOR.join(parts)


def unpack(data: bytes, max_parts: int = 8) -> list[bytes]:
    """The files packed in ``data`` (always at least one; at most ``max_parts``)."""
    return data.split(SEPARATOR, max_parts - 1)


# -- CRC repair ----------------------------------------------------------------------------------
def _crc32c(data) -> int:
    from crc32c import crc32c

    return crc32c(data)


def _mask(crc: int) -> int:
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def _varint(buf, pos: int, limit: int) -> tuple[int, int]:
    result = shift = 0
    while pos < limit and shift < 70:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7
    raise ValueError("bad varint")


def _block_entries(block: bytes):
    """(key, value) pairs of a table block; stops quietly at the first bad entry."""
    n = len(block)
    if n < 4:
        return
    (restarts,) = _U32.unpack_from(block, n - 4)
    limit = n - 4 - 4 * restarts
    if limit < 0:
        return
    pos, key = 0, b""
    while pos < limit:
        try:
            shared, pos = _varint(block, pos, limit)
            non_shared, pos = _varint(block, pos, limit)
            vlen, pos = _varint(block, pos, limit)
        except ValueError:
            return
        if shared > len(key) or pos + non_shared + vlen > limit:
            return
        key = key[:shared] + block[pos : pos + non_shared]
        yield key, block[pos + non_shared : pos + non_shared + vlen]
        pos += non_shared + vlen


def repair_table_crcs(data: bytes) -> bytes:
    """``data`` with the CRC of every block a table's footer and index reach rewritten."""
    buf = bytearray(data)
    n = len(buf)
    if n < 48:
        return data

    def fix(off: int, size: int) -> bytes | None:
        if off < 0 or size < 0 or off + size + 5 > n - 48:
            return None
        _U32.pack_into(buf, off + size + 1, _mask(_crc32c(bytes(buf[off : off + size + 1]))))
        raw = bytes(buf[off : off + size])
        if buf[off + size] == 1:
            try:
                claimed, _ = _varint(raw, 0, min(len(raw), 5))
                if claimed > 22 * len(raw) + 64:  # cramjam aborts the process when it cannot allocate
                    return None
                import snappy

                return bytes(snappy.uncompress(raw))
            except Exception:
                return None
        return raw

    try:
        meta_off, pos = _varint(buf, n - 48, n - 8)
        meta_size, pos = _varint(buf, pos, n - 8)
        idx_off, pos = _varint(buf, pos, n - 8)
        idx_size, pos = _varint(buf, pos, n - 8)
    except ValueError:
        return data
    fix(meta_off, meta_size)
    index = fix(idx_off, idx_size)
    if index is None:
        return bytes(buf)
    for count, (_, value) in enumerate(_block_entries(index)):
        if count > 10000:
            break
        try:
            off, p = _varint(value, 0, len(value))
            size, _ = _varint(value, p, len(value))
        except ValueError:
            continue
        fix(off, size)
    return bytes(buf)


def repair_record_crcs(data: bytes) -> bytes:
    """``data`` (a TFRecord stream) with each record's two CRCs rewritten."""
    buf = bytearray(data)
    n = len(buf)
    pos = 0
    while pos + 12 <= n:
        (length,) = _U64.unpack_from(buf, pos)
        _U32.pack_into(buf, pos + 8, _mask(_crc32c(bytes(buf[pos : pos + 8]))))
        end = pos + 12 + length
        if end + 4 > n:
            break
        _U32.pack_into(buf, end, _mask(_crc32c(bytes(buf[pos + 12 : end]))))
        pos = end + 4
    return bytes(buf)


def records(payloads) -> bytes:
    """A TFRecord stream holding ``payloads`` (for seeds and regression inputs)."""
    out = bytearray()
    for p in payloads:
        header = _U64.pack(len(p))
        out += header + _U32.pack(_mask(_crc32c(header))) + p + _U32.pack(_mask(_crc32c(p)))
    return bytes(out)


def gzip_bytes(data: bytes) -> bytes:
    import gzip

    return gzip.compress(data, mtime=0)


def zlib_bytes(data: bytes) -> bytes:
    return zlib.compress(data)


# -- where the length fields are ------------------------------------------------------------------
def proto_length_fields(data: bytes, limit: int = 256, _base: int = 0, _depth: int = 0, _out=None) -> list[int]:
    """Offsets of the length varints of length-delimited fields in a protobuf message,
    descending into payloads that parse as messages themselves (best effort)."""
    out = [] if _out is None else _out
    pos, n = 0, len(data)
    found = []
    while pos < n:
        try:
            key, p = _varint(data, pos, n)
        except ValueError:
            return out
        wire = key & 7
        if key >> 3 == 0:
            return out
        if wire == 0:
            try:
                _, p = _varint(data, p, n)
            except ValueError:
                return out
        elif wire == 1:
            p += 8
        elif wire == 5:
            p += 4
        elif wire == 2:
            at = p
            try:
                length, p = _varint(data, p, n)
            except ValueError:
                return out
            if p + length > n:
                return out
            found.append((_base + at, data[p : p + length], _base + p))
            p += length
        else:
            return out
        if p > n:
            return out
        pos = p
    for at, payload, payload_at in found:
        if len(out) >= limit:
            break
        out.append(at)
        if _depth < 8 and payload:
            proto_length_fields(payload, limit, payload_at, _depth + 1, out)
    return out


def record_length_fields(data: bytes) -> list[int]:
    """Offsets of the u64 length field of each record of a TFRecord stream."""
    out, pos, n = [], 0, len(data)
    while pos + 12 <= n and len(out) < 4096:
        out.append(pos)
        (length,) = _U64.unpack_from(data, pos)
        pos += 16 + length
    return out


def table_length_fields(data: bytes) -> list[int]:
    """Offsets of the four block-handle varints in a table footer, and of the entry-header
    varints of the index block."""
    n = len(data)
    if n < 48:
        return []
    out = []
    pos = n - 48
    for _ in range(4):
        out.append(pos)
        try:
            _, pos = _varint(data, pos, n - 8)
        except ValueError:
            return out
    try:
        _, p = _varint(data, n - 48, n - 8)
        _, p = _varint(data, p, n - 8)
        idx_off, p = _varint(data, p, n - 8)
        idx_size, p = _varint(data, p, n - 8)
    except ValueError:
        return out
    if idx_off + idx_size <= n - 48:
        pos, end = idx_off, idx_off + idx_size - 4  # entries end before the restart array
        for _ in range(64):
            if pos >= end:
                break
            try:
                out.append(pos)
                _, pos = _varint(data, pos, end)  # shared
                out.append(pos)
                non_shared, pos = _varint(data, pos, end)
                out.append(pos)
                vlen, pos = _varint(data, pos, end)
            except ValueError:
                break
            pos += non_shared + vlen
    return out


# -- mutations -----------------------------------------------------------------------------------
INTERESTING = [
    0, 1, 2, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000,
    0xFFFFFFFF, 1 << 32, 1 << 40, 1 << 60, (1 << 63) - 1, 1 << 63, (1 << 64) - 1,
]


def encode_varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def truncate(data: bytes, at: int) -> bytes:
    return data[: max(0, min(at, len(data)))]


def flip(data: bytes, pos: int, mask: int) -> bytes:
    if not data:
        return data
    pos %= len(data)
    return data[:pos] + bytes([data[pos] ^ (mask & 0xFF or 1)]) + data[pos + 1 :]


def write_int(data: bytes, pos: int, value: int, width: int) -> bytes:
    """Overwrite ``width`` bytes at ``pos`` with ``value`` (little-endian, wrapped)."""
    if len(data) < width:
        return data
    pos %= len(data) - width + 1
    value &= (1 << (8 * width)) - 1
    return data[:pos] + value.to_bytes(width, "little") + data[pos + width :]


def rewrite_varint(data: bytes, pos: int, value: int) -> bytes:
    """Replace the varint starting at (or after) ``pos`` with ``value``'s encoding."""
    if not data:
        return data
    pos %= len(data)
    end = pos
    while end < len(data) and data[end] & 0x80 and end - pos < 10:
        end += 1
    return data[:pos] + encode_varint(value) + data[end + 1 :]


class Mutator:
    """Random structure-blind mutations, reproducible from a seed."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self.rng = rng or random.Random()

    def value(self) -> int:
        r = self.rng
        if r.random() < 0.7:
            v = r.choice(INTERESTING)
            return v + r.choice((-1, 0, 0, 1)) if v else v
        return r.getrandbits(r.choice((8, 16, 32, 64)))

    def mutate(self, data: bytes, others: list[bytes] | None = None) -> bytes:
        r = self.rng
        for _ in range(r.choice((1, 1, 1, 2, 3, 4, 8))):
            n = len(data)
            op = r.randrange(9)
            if op == 0 and n:
                data = truncate(data, r.randrange(n))
            elif op == 1 and n:
                data = flip(data, r.randrange(n), 1 << r.randrange(8))
            elif op == 2 and n:
                data = flip(data, r.randrange(n), r.randrange(1, 256))
            elif op == 3 and n:
                data = write_int(data, r.randrange(n), self.value(), r.choice((1, 2, 4, 8)))
            elif op == 4 and n:
                data = rewrite_varint(data, r.randrange(n), self.value())
            elif op == 5 and n:
                a = r.randrange(n)
                data = data[:a] + data[a + r.randrange(1, 64) :]
            elif op == 6:
                a = r.randrange(n + 1)
                data = data[:a] + bytes(r.getrandbits(8) for _ in range(r.randrange(1, 16))) + data[a:]
            elif op == 7 and n:
                a = r.randrange(n)
                b = min(n, a + r.randrange(1, 128))
                c = r.randrange(n + 1)
                data = data[:c] + data[a:b] + data[c:]
            elif op == 8 and others:
                o = r.choice(others)
                if o:
                    a = r.randrange(len(o))
                    cut = r.randrange(n + 1)
                    data = data[:cut] + o[a : a + r.randrange(1, 256)] + data[cut:]
        return data
