"""LEB128 varints as used by protobuf and LevelDB-style tables.

``decode(buf, pos, limit, max_bytes)`` returns ``(value, new_pos)`` and raises
:class:`ValueError` (callers turn it into a located ``DataLossError``) when the
varint runs past ``limit`` or is longer than ``max_bytes``.
"""

from __future__ import annotations


class VarintError(ValueError):
    pass


def decode(buf, pos: int, limit: int, max_bytes: int = 10) -> tuple[int, int]:
    # Fast path: one byte (the common case for lengths in tables).
    if pos < limit:
        b = buf[pos]
        if b < 0x80:
            return b, pos + 1
    result = 0
    shift = 0
    end = min(limit, pos + max_bytes)
    while pos < end:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7
    if pos >= limit:
        raise VarintError("varint runs past the end of its buffer")
    raise VarintError(f"varint longer than {max_bytes} bytes")


def decode32(buf, pos: int, limit: int) -> tuple[int, int]:
    value, pos = decode(buf, pos, limit, 5)
    if value > 0xFFFFFFFF:
        raise VarintError("varint32 out of range")
    return value, pos


def encode(value: int) -> bytes:
    if value < 0:
        raise ValueError("varint of a negative number")
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)
