"""Tensor slices and the ordered-code keys TensorFlow stores them under.

A slice is one ``(start, length)`` pair per dimension; ``length == -1`` means
"the whole dimension" (a ``TensorSliceProto.Extent`` with no ``length``).

Slice keys (``EncodeTensorNameSlice``)::

    00                                  WriteNumIncreasing(0): sorts after "", before names
    name, 00 -> 00 FF, FF -> FF 00, 00 01   WriteString
    len(n) n-bytes-big-endian           WriteNumIncreasing(rank)
    per dimension: SignedNumIncreasing(start), SignedNumIncreasing(length)

``SignedNumIncreasing(v)``: with ``x = ~v if v < 0 else v``, one byte
``0x80 ^ v`` when ``x < 64``; otherwise ``L = bit_length(x) // 7 + 1`` bytes
of ``v`` sign-extended big-endian, the first two XORed with a length header.
"""

from __future__ import annotations

import re
from typing import Sequence

Extent = tuple[int, int]  # (start, length); length -1 = full

_HEADER = {2: (0xC0, 0), 3: (0xE0, 0), 4: (0xF0, 0), 5: (0xF8, 0), 6: (0xFC, 0),
           7: (0xFE, 0), 8: (0xFF, 0), 9: (0xFF, 0x80), 10: (0xFF, 0xC0)}
_ESCAPE = re.compile(rb"[\x00\xff]")


def _escape(m: re.Match) -> bytes:
    return b"\x00\xff" if m.group() == b"\x00" else b"\xff\x00"


def write_num_increasing(n: int) -> bytes:
    if n < 0:
        raise ValueError("negative number")
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    return bytes([len(body)]) + body


def write_signed_num_increasing(v: int) -> bytes:
    x = ~v if v < 0 else v
    if x < 64:
        return bytes([(0x80 ^ v) & 0xFF])
    length = min(x.bit_length() // 7 + 1, 10)
    buf = bytearray(v.to_bytes(length, "big", signed=True))
    h0, h1 = _HEADER[length]
    buf[0] ^= h0
    buf[1] ^= h1
    return bytes(buf)


def write_string(s: bytes) -> bytes:
    return _ESCAPE.sub(_escape, s) + b"\x00\x01"


def encode_tensor_name_slice(name: str | bytes, extents: Sequence[Extent]) -> bytes:
    """The table key of one slice of tensor ``name``."""
    if isinstance(name, str):
        name = name.encode("utf-8", "surrogateescape")
    parts = [write_num_increasing(0), write_string(name), write_num_increasing(len(extents))]
    for start, length in extents:
        parts.append(write_signed_num_increasing(start))
        parts.append(write_signed_num_increasing(length))
    return b"".join(parts)


def extents_from_proto(slice_proto) -> list[Extent]:
    """``[(start, length)]`` from a TensorSliceProto (length -1 when full)."""
    out = []
    for e in slice_proto.extent:
        out.append((e.start, e.length if e.HasField("length") else -1))
    return out


def check_extents(extents: Sequence[Extent], shape: Sequence[int]) -> list[tuple[int, int]]:
    """Resolve full extents against ``shape``; returns ``[(start, stop)]``.

    Raises ValueError when the slice has the wrong rank or leaves the shape.
    """
    if len(extents) != len(shape):
        raise ValueError(f"slice has rank {len(extents)} but the tensor has rank {len(shape)}")
    out = []
    for (start, length), dim in zip(extents, shape):
        if length == -1:
            if start != 0:
                raise ValueError(f"full extent with start {start}")
            out.append((0, dim))
            continue
        if start < 0 or length < 0 or start + length > dim:
            raise ValueError(f"extent start {start} length {length} outside dimension of size {dim}")
        out.append((start, start + length))
    return out


def format_extents(extents: Sequence[Extent]) -> str:
    """TF's text form of a slice: ``"0,5:-"`` style."""
    return ":".join("-" if length == -1 else f"{start},{length}" for start, length in extents)


def check_tiling(boxes: Sequence[Sequence[tuple[int, int]]], shape: Sequence[int]) -> None:
    """Raise ValueError unless ``boxes`` (``[(start, stop)]`` per dimension,
    already inside ``shape``) cover every element of ``shape`` exactly once."""
    total = 1
    for d in shape:
        total *= d
    covered = 0
    for box in boxes:
        n = 1
        for a, b in box:
            n *= b - a
        covered += n
    # Sorted on the first axis, a box can only overlap the boxes that start
    # before it ends there, so the scan stops early for row partitions.
    ordered = sorted(boxes, key=lambda b: [a for a, _ in b])
    for i, bi in enumerate(ordered):
        for bj in ordered[i + 1 :]:
            if bi and bj and bj[0][0] >= bi[0][1]:
                break
            if all(max(a0, a1) < min(b0, b1) for (a0, b0), (a1, b1) in zip(bi, bj)):
                raise ValueError("two slices of the tensor overlap")
    if covered != total:
        raise ValueError(f"the slices cover {covered} of the tensor's {total} elements")
