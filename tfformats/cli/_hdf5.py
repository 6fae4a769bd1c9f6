"""Just enough of HDF5 to read the root group's attributes of a Keras ``.h5`` file.

Keras (Keras 1/2, tf_keras, and Keras 3's legacy ``.h5`` saving), and Keras
2.12's ``model.save("m.keras")`` without ``save_format``, write the model as
HDF5: the architecture is JSON in the string attribute ``model_config`` of the
root group, with ``training_config``, ``keras_version`` and ``backend`` beside
it.  ``tfformats scan`` audits that JSON without h5py/libhdf5 (no dependency,
and no C parser run on an untrusted file), with this reader.

What it reads (HDF5 File Format Specification 3.0; layouts checked against
files written by h5py 3.x/libhdf5 with Keras 2.12, tf_keras 2.21, Keras 3.15):

- the superblock (versions 0-3) at offset 0 or after a user block (512, 1024,
  2048... bytes: libhdf5 looks for the signature at those offsets and takes
  every address as relative to where it finds it);
- the root group's object header, version 1 or 2 (``OHDR``), with its
  continuation blocks;
- attribute messages (versions 1-3) stored in that header ("compact" storage,
  what libhdf5 uses for a group with at most 8 small attributes, so for every
  file Keras writes);
- string values: fixed-length strings (what h5py 2.x stored for ``bytes``) and
  variable-length strings (h5py 3.x), read from the global heap (``GCOL``).

What it reports as unsupported (:class:`~tfformats.errors.UnsupportedError`),
never guesses at: attributes in "dense" storage (a fractal heap, used for more
than 8 attributes or for large ones in files created with newer format
versions), shared (committed) datatypes and messages, 16/32-byte addresses.

Every read is bounded by the file's size and by the limits below; every
damaged structure raises :class:`~tfformats.errors.DataLossError` naming the
file and offset.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from ..errors import DataLossError, UnsupportedError

MAGIC = b"\x89HDF\r\n\x1a\n"
UNDEF = object()  # an undefined address (all bits set)

MAX_HEADER_CHUNKS = 1024  # object header chunks (continuations) followed
MAX_HEADER_BYTES = 64 << 20  # bytes of object header read in all
MAX_MESSAGES = 1 << 16  # header messages looked at
MAX_VALUE_BYTES = 256 << 20  # an attribute value (a model config is a few KB to a few MB)
MAX_HEAP_OBJECTS = 1 << 16  # global heap objects stepped over to find one

# object header message types
_NIL, _ATTRIBUTE, _CONTINUATION, _ATTRIBUTE_INFO = 0x00, 0x0C, 0x10, 0x15
# datatype classes
_CLASS_NAMES = {0: "integer", 1: "float", 2: "time", 3: "string", 4: "bitfield", 5: "opaque", 6: "compound",
                7: "reference", 8: "enum", 9: "variable-length", 10: "array", 11: "complex"}


def find_superblock(path: str, size: int | None = None) -> int | None:
    """Offset of the HDF5 signature (0, 512, 1024, 2048...), where libhdf5 looks for it,
    when a plausible superblock follows; else None."""
    try:
        with open(path, "rb") as f:
            if size is None:
                size = os.fstat(f.fileno()).st_size
            pos = 0
            while pos + 16 <= size:
                f.seek(pos)
                head = f.read(16)
                if head[:8] == MAGIC and _plausible_superblock(head):
                    return pos
                pos = 512 if pos == 0 else pos * 2
    except OSError:
        return None
    return None


def _plausible_superblock(head: bytes) -> bool:
    version = head[8]
    if version in (0, 1):
        so, sl = head[13], head[14]
    elif version in (2, 3):
        so, sl = head[9], head[10]
    else:
        return False
    return so in (2, 4, 8, 16, 32) and sl in (2, 4, 8, 16, 32)


@dataclass
class Attribute:
    """One attribute of the root group: its name, type, shape and raw value bytes."""

    name: str
    offset: int  # absolute file offset of its attribute message
    type_class: int
    type_bits: int
    type_size: int
    shape: tuple | None  # () scalar, (n, ...) simple, None null
    raw: bytes

    @property
    def type_name(self) -> str:
        name = _CLASS_NAMES.get(self.type_class, f"class {self.type_class}")
        if self.type_class == 9:
            name += " string" if self.type_bits & 0x0F == 1 else " sequence"
        elif self.type_class == 3:
            name = f"fixed-length string ({self.type_size} bytes)"
        return name


@dataclass
class RootAttributes:
    """What :func:`read_root_attributes` found."""

    superblock_offset: int
    superblock_version: int
    object_header_version: int
    offset_size: int = 8
    length_size: int = 8
    truncated: bool = False  # the file is shorter than its superblock says (libhdf5 refuses to open it)
    attributes: dict = field(default_factory=dict)  # name -> Attribute
    unsupported: list = field(default_factory=list)  # why some attributes could not be read


class _File:
    def __init__(self, f, path: str, size: int, base: int) -> None:
        self.f, self.path, self.size, self.base = f, path, size, base
        self.so = self.sl = 8

    def err(self, message: str, offset: int | None = None) -> DataLossError:
        return DataLossError(message, path=self.path, offset=offset)

    def read(self, addr: int, n: int, what: str) -> bytes:
        """``n`` bytes at file address ``addr`` (relative to the superblock)."""
        pos = self.base + addr
        if addr < 0 or n < 0 or pos + n > self.size:
            raise self.err(f"{what} ({n} bytes at address {addr}) lies past the end of the file "
                           f"({self.size} bytes)", pos)
        self.f.seek(pos)
        data = self.f.read(n)
        if len(data) != n:
            raise self.err(f"{what}: short read", pos)
        return data


class _Buf:
    """A cursor over bytes read from the file, raising DataLossError past its end."""

    def __init__(self, file: _File, data: bytes, at: int, what: str) -> None:
        self.file, self.data, self.at, self.what, self.pos = file, data, at, what, 0

    def need(self, n: int) -> None:
        if n < 0 or self.pos + n > len(self.data):
            raise self.file.err(f"{self.what} is truncated (needs {n} bytes at +{self.pos}, has {len(self.data)})",
                                self.at + self.pos)

    def take(self, n: int) -> bytes:
        self.need(n)
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def skip(self, n: int) -> None:
        self.need(n)
        self.pos += n

    def uint(self, n: int) -> int:
        return int.from_bytes(self.take(n), "little")

    def u8(self) -> int:
        return self.uint(1)

    def u16(self) -> int:
        return self.uint(2)

    def u32(self) -> int:
        return self.uint(4)

    def addr(self):
        raw = self.take(self.file.so)
        return UNDEF if raw == b"\xff" * len(raw) else int.from_bytes(raw, "little")

    def length(self) -> int:
        return self.uint(self.file.sl)


def read_root_attributes(path: str, *, names=None) -> RootAttributes:
    """The attributes of the root group of the HDF5 file ``path`` (only ``names`` when
    given).  Raises DataLossError for a damaged file, UnsupportedError for a storage this
    reader does not know (see the module docstring)."""
    size = os.path.getsize(path)
    base = find_superblock(path, size)
    if base is None:
        raise DataLossError("no HDF5 superblock found (signature at offset 0, 512, 1024...)", path=path)
    with open(path, "rb") as f:
        hf = _File(f, path, size, base)
        version, root, truncated = _superblock(hf)
        out = RootAttributes(base, version, 0, hf.so, hf.sl, truncated)
        _root_attributes(hf, root, out, names)
    return out


def is_truncated(path: str) -> bool | None:
    """Whether the file is shorter than the end-of-file address its superblock records
    (libhdf5 then refuses to open it); None when the superblock cannot be read."""
    from ..errors import TFFormatsError

    try:
        size = os.path.getsize(path)
        base = find_superblock(path, size)
        if base is None:
            return None
        with open(path, "rb") as f:
            return _superblock(_File(f, path, size, base))[2]
    except (TFFormatsError, OSError):
        return None


def _superblock(hf: _File):
    head = _Buf(hf, hf.read(0, min(hf.size - hf.base, 256), "superblock"), hf.base, "superblock")
    head.skip(8)
    version = head.u8()
    if version in (0, 1):
        head.skip(4)  # free-space, root symbol table entry, reserved, shared header versions
        so, sl = head.u8(), head.u8()
        _sizes(hf, so, sl)
        head.skip(1 + 2 + 2 + 4 + (4 if version == 1 else 0))  # reserved, K values, flags, (indexed storage K)
        stored_base = head.addr()  # libhdf5 uses where the signature is, and shifts the end of file
        head.addr()  # free-space info
        eof = head.addr()
        head.addr()  # driver info block
        head.addr()  # root symbol table entry: link name offset
        root = head.addr()  # its object header address
    elif version in (2, 3):
        so, sl = head.u8(), head.u8()
        _sizes(hf, so, sl)
        head.skip(1)  # flags
        stored_base = head.addr()
        head.addr()  # superblock extension
        eof = head.addr()
        root = head.addr()
    else:
        raise UnsupportedError(f"HDF5 superblock version {version}", path=hf.path, offset=hf.base + 8)
    if root is UNDEF:
        raise hf.err("the superblock names no root group", hf.base)
    truncated = False
    if eof is not UNDEF and stored_base is not UNDEF:
        truncated = hf.size < eof - stored_base + hf.base  # libhdf5's check (H5F__super_read)
    return version, root, truncated


def _sizes(hf: _File, so: int, sl: int) -> None:
    if so not in (2, 4, 8) or sl not in (2, 4, 8):
        raise UnsupportedError(f"HDF5 file with {so}-byte addresses and {sl}-byte lengths", path=hf.path,
                               offset=hf.base + 8)
    hf.so, hf.sl = so, sl


def _root_attributes(hf: _File, addr: int, out: RootAttributes, names) -> None:
    for mtype, mflags, body, at in _messages(hf, addr, out):
        if mtype == _ATTRIBUTE:
            if mflags & 0x02:
                out.unsupported.append(f"a shared attribute message at offset {at} (not read)")
                continue
            attr = _attribute(hf, body, at, out, names)
            if attr is not None:
                if attr.name in out.attributes:
                    raise hf.err(f"two attributes named {attr.name!r} in the root group", at)
                out.attributes[attr.name] = attr
        elif mtype == _ATTRIBUTE_INFO:
            b = _Buf(hf, body, at, "attribute info message")
            b.skip(1)  # version
            flags = b.u8()
            if flags & 0x01:
                b.skip(2)  # maximum creation index
            heap = b.addr()
            if heap is not UNDEF:
                out.unsupported.append(f"attributes in dense storage (a fractal heap at address {heap}; not read)")


def _messages(hf: _File, addr, out: RootAttributes):
    """``(type, flags, body, absolute offset)`` of every message of the object header at ``addr``."""
    first = hf.read(addr, 16, "object header")
    if first[:4] == b"OHDR":
        out.object_header_version = 2
        yield from _messages_v2(hf, addr)
    elif first[0] == 1:
        out.object_header_version = 1
        yield from _messages_v1(hf, addr, first)
    else:
        raise hf.err(f"root group object header of unknown version {first[0]}", hf.base + addr)


def _messages_v1(hf: _File, addr: int, first: bytes):
    b = _Buf(hf, first, hf.base + addr, "object header")
    b.skip(2)  # version, reserved
    b.skip(2)  # number of messages: not relied on, the chunks say what they hold
    b.skip(4)  # reference count
    size0 = b.u32()
    chunks = [(addr + 16, size0)]  # the prefix is 12 bytes, padded to 16
    seen, total, count = set(), 0, 0
    while chunks:
        caddr, csize = chunks.pop(0)
        if (caddr, csize) in seen:
            continue
        seen.add((caddr, csize))
        total += csize
        if len(seen) > MAX_HEADER_CHUNKS or total > MAX_HEADER_BYTES:
            raise hf.err("object header continues past the reader's limits (a loop?)", hf.base + caddr)
        data = hf.read(caddr, csize, "object header chunk")
        c = _Buf(hf, data, hf.base + caddr, "object header chunk")
        while len(data) - c.pos >= 8:
            at = c.at + c.pos
            mtype, msize, mflags = c.u16(), c.u16(), c.u8()
            c.skip(3)
            body = c.take(msize)
            count += 1
            if count > MAX_MESSAGES:
                raise hf.err("too many object header messages", at)
            if mtype == _CONTINUATION:
                chunks.append(_continuation(hf, body, at))
            elif mtype != _NIL:
                yield mtype, mflags, body, at + 8


def _messages_v2(hf: _File, addr: int):
    head = _Buf(hf, hf.read(addr, min(40, hf.size - hf.base - addr), "object header"), hf.base + addr,
                "object header")
    head.skip(4)
    version = head.u8()
    if version != 2:
        raise hf.err(f"OHDR object header of version {version}", head.at + 4)
    flags = head.u8()
    if flags & 0x20:
        head.skip(16)  # access, modification, change, birth times
    if flags & 0x10:
        head.skip(4)  # attribute phase change values
    size0 = head.uint(1 << (flags & 0x03))
    tracked = bool(flags & 0x04)
    chunks = [(addr + head.pos, size0, False)]
    seen, total, count = set(), 0, 0
    while chunks:
        caddr, csize, cont = chunks.pop(0)
        if (caddr, csize) in seen:
            continue
        seen.add((caddr, csize))
        total += csize
        if len(seen) > MAX_HEADER_CHUNKS or total > MAX_HEADER_BYTES:
            raise hf.err("object header continues past the reader's limits (a loop?)", hf.base + caddr)
        if cont:
            if csize < 8:
                raise hf.err(f"object header continuation block of {csize} bytes", hf.base + caddr)
            data = hf.read(caddr, csize, "object header continuation block")
            if data[:4] != b"OCHK":
                raise hf.err("object header continuation block without its OCHK signature", hf.base + caddr)
            c = _Buf(hf, data[: len(data) - 4], hf.base + caddr, "object header continuation block")
            c.skip(4)
        else:
            data = hf.read(caddr, csize, "object header chunk")  # the checksum follows it
            c = _Buf(hf, data, hf.base + caddr, "object header chunk")
        hsize = 6 if tracked else 4
        while len(c.data) - c.pos >= hsize:  # fewer bytes left: a gap
            at = c.at + c.pos
            mtype, msize, mflags = c.u8(), c.u16(), c.u8()
            if tracked:
                c.skip(2)
            body = c.take(msize)
            count += 1
            if count > MAX_MESSAGES:
                raise hf.err("too many object header messages", at)
            if mtype == _CONTINUATION:
                a, n = _continuation(hf, body, at)
                chunks.append((a, n, True))
            elif mtype != _NIL:
                yield mtype, mflags, body, at + hsize


def _continuation(hf: _File, body: bytes, at: int):
    b = _Buf(hf, body, at, "continuation message")
    a = b.addr()
    n = b.length()
    if a is UNDEF or n <= 0:
        raise hf.err("continuation message with no block", at)
    if hf.base + a + n > hf.size:
        raise hf.err(f"continuation block ({n} bytes at address {a}) lies past the end of the file", at)
    return a, n


def _attribute(hf: _File, body: bytes, at: int, out: RootAttributes, names):
    b = _Buf(hf, body, at, "attribute message")
    version = b.u8()
    flags = b.u8()
    if version not in (1, 2, 3):
        raise hf.err(f"attribute message of unknown version {version}", at)
    name_size, type_size, space_size = b.u16(), b.u16(), b.u16()
    if version == 3:
        b.skip(1)  # name character set
    pad = (lambda n: (n + 7) & ~7) if version == 1 else (lambda n: n)
    raw_name = b.take(name_size)
    b.skip(pad(name_size) - name_size)
    name = raw_name.split(b"\0", 1)[0].decode("utf-8", "replace")
    if names is not None and name not in names:
        return None
    if version > 1 and flags & 0x03:
        out.unsupported.append(f"attribute {name!r} has a shared datatype or dataspace (not read)")
        return None
    dtype = _Buf(hf, b.take(type_size), b.at + b.pos - type_size, f"datatype of attribute {name!r}")
    b.skip(pad(type_size) - type_size)
    space = _Buf(hf, b.take(space_size), b.at + b.pos - space_size, f"dataspace of attribute {name!r}")
    b.skip(pad(space_size) - space_size)
    cls_ver = dtype.u8()
    bits = dtype.uint(3)
    elem = dtype.u32()
    shape = _dataspace(hf, space, name)
    count = _count(shape)
    nbytes = count * elem
    if nbytes > MAX_VALUE_BYTES:
        raise hf.err(f"attribute {name!r} claims {nbytes} bytes of data", at)
    raw = b.take(nbytes)
    return Attribute(name, at, cls_ver & 0x0F, bits, elem, shape, raw)


def _dataspace(hf: _File, b: _Buf, name: str):
    version = b.u8()
    rank = b.u8()
    b.skip(1)  # flags: maximum dimensions follow the dimensions, not needed
    if version == 1:
        b.skip(5)
        kind = 1 if rank else 0
    elif version == 2:
        kind = b.u8()
    else:
        raise hf.err(f"dataspace of attribute {name!r} has unknown version {version}", b.at)
    if kind == 2:
        return None
    if rank > 32:
        raise hf.err(f"dataspace of attribute {name!r} has rank {rank}", b.at)
    return tuple(b.length() for _ in range(rank))


def _count(shape) -> int:
    if shape is None:
        return 0
    n = 1
    for d in shape:
        n *= d
    return n


def string_value(path: str, attrs: RootAttributes, name: str) -> str:
    """The value of the string attribute ``name``, as h5py returns it (bytes decoded as
    UTF-8).  Raises DataLossError/UnsupportedError when it cannot be read."""
    attr = attrs.attributes[name]
    if attr.shape is None:
        raise DataLossError(f"attribute {name!r} has no value (null dataspace)", path=path, offset=attr.offset)
    count = _count(attr.shape)
    if count != 1:
        raise UnsupportedError(f"attribute {name!r} holds {count} values of shape {attr.shape}, not one string",
                               path=path, offset=attr.offset)
    if attr.type_class == 3:
        value = attr.raw
        pad = attr.type_bits & 0x0F
        if pad == 0:  # null-terminated
            value = value.split(b"\0", 1)[0]
        elif pad == 1:
            value = value.rstrip(b"\0")
        else:
            value = value.rstrip(b" ")
    elif attr.type_class == 9 and attr.type_bits & 0x0F == 1:
        value = _vlen_string(path, attrs, attr)
    else:
        raise UnsupportedError(f"attribute {name!r} is a {attr.type_name}, not a string", path=path,
                               offset=attr.offset)
    return value.decode("utf-8", "replace")


def _vlen_string(path: str, attrs: RootAttributes, attr: Attribute) -> bytes:
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        hf = _File(f, path, size, attrs.superblock_offset)
        hf.so, hf.sl = attrs.offset_size, attrs.length_size
        b = _Buf(hf, attr.raw, attr.offset, f"value of attribute {attr.name!r}")
        length = b.u32()
        heap = b.addr()
        index = b.u32()
        if length == 0:
            return b""
        if heap is UNDEF:
            raise hf.err(f"attribute {attr.name!r}: a string of {length} bytes in no heap", attr.offset)
        return _global_heap_object(hf, heap, index, length, attr.name)


def _global_heap_object(hf: _File, heap: int, index: int, length: int, name: str) -> bytes:
    hb = _Buf(hf, hf.read(heap, 8 + hf.sl, "global heap collection"), hf.base + heap, "global heap collection")
    if hb.take(4) != b"GCOL":
        raise hf.err(f"attribute {name!r}: no global heap collection (GCOL) at address {heap}", hf.base + heap)
    hb.skip(4)  # version, reserved
    csize = hb.length()
    end = heap + min(csize, hf.size - hf.base - heap)
    pos = heap + 8 + hf.sl
    ohead = 8 + hf.sl  # index, reference count, reserved, size
    for _ in range(MAX_HEAP_OBJECTS):
        if pos + ohead > end:
            break
        ob = _Buf(hf, hf.read(pos, ohead, "global heap object"), hf.base + pos, "global heap object")
        idx = ob.u16()
        ob.skip(6)
        osize = ob.length()
        if idx == 0:  # free space: the rest of the collection
            break
        if idx == index:
            if length > osize:
                raise hf.err(f"attribute {name!r}: a string of {length} bytes in a heap object of {osize}",
                             hf.base + pos)
            if length > MAX_VALUE_BYTES:
                raise hf.err(f"attribute {name!r}: a string of {length} bytes", hf.base + pos)
            return hf.read(pos + ohead, length, f"global heap object {index}")
        pos += ohead + ((osize + 7) & ~7)
    raise hf.err(f"attribute {name!r}: object {index} not found in the global heap collection at address {heap}",
                 hf.base + heap)
