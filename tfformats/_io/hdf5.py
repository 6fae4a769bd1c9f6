"""Just enough of HDF5 to read a Keras ``.h5`` file: the root group's attributes, and the
weights (every dataset of the file, found by walking its groups).

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
  what libhdf5 uses for at most 8 small attributes) or in "dense" storage (a
  fractal heap ``FRHP`` of attribute messages, indexed by a version 2 B-tree
  ``BTHD``);
- string values: fixed-length strings (what h5py 2.x stored for ``bytes``) and
  variable-length strings (h5py 3.x), read from the global heap (``GCOL``).

For the weights (:class:`HDF5File`, used by :mod:`tfformats.keras`): groups
indexed by a symbol table (a version-1 B-tree of ``SNOD`` nodes, names in a
local heap ``HEAP``), by link messages in the group's header, or by link
messages in dense storage (a fractal heap and its version 2 B-tree name index:
more than 8 links in a newer-format group, which libhdf5 makes for
``libver="latest"``, ``track_order`` or a non-ASCII link name); datasets with
contiguous or compact storage of integers, floats (16/32/64-bit and a
bfloat16-shaped custom float), h5py's int8 ``FALSE``/``TRUE`` enum (bool) and
fixed-length strings.  Other datasets are listed with the reason they are not
read (chunked or filtered storage, variable-length, compound and other types,
shared datatypes).

What it reports as unsupported (:class:`~tfformats.errors.UnsupportedError`),
never guesses at: fractal heaps with I/O filters, "huge" heap objects, indirect
heap blocks below the root, shared (committed) datatypes and messages,
16/32-byte addresses.

Every read is bounded by the file's size and by the limits below; every
damaged structure raises :class:`~tfformats.errors.DataLossError` naming the
file and offset.
"""

from __future__ import annotations

import bisect
import os
import re
from dataclasses import dataclass, field

from ..errors import DataLossError, TFFormatsError, UnsupportedError

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
        self.budget: int | None = None  # structure bytes still allowed to be read (None: no limit)

    def err(self, message: str, offset: int | None = None) -> DataLossError:
        return DataLossError(message, path=self.path, offset=offset)

    def read(self, addr: int, n: int, what: str) -> bytes:
        """``n`` bytes at file address ``addr`` (relative to the superblock)."""
        pos = self.base + addr
        if addr < 0 or n < 0 or pos + n > self.size:
            raise self.err(f"{what} ({n} bytes at address {addr}) lies past the end of the file "
                           f"({self.size} bytes)", pos)
        if self.budget is not None:
            self.budget -= n
            if self.budget < 0:
                raise self.err(f"reading {what}: the file's structures have been read {STRUCTURE_READS}x over "
                               "(structures shared between many groups?)", pos)
        try:
            self.f.seek(pos)
            data = self.f.read(n)
        except Exception as exc:  # a remote file's transport errors are as varied as its filesystem
            raise TFFormatsError(f"reading {what} failed: {type(exc).__name__}: {exc}", path=self.path,
                                 offset=pos) from None
        if len(data) != n:
            raise self.err(f"{what}: short read", pos)
        return data

    def readinto(self, addr: int, buf, what: str) -> None:
        """Fill the writable buffer ``buf`` from file address ``addr`` (one copy)."""
        mv = memoryview(buf).cast("B")
        n = mv.nbytes
        pos = self.base + addr
        if addr < 0 or pos + n > self.size:
            raise self.err(f"{what} ({n} bytes at address {addr}) lies past the end of the file "
                           f"({self.size} bytes)", pos)
        if not hasattr(self.f, "readinto"):
            mv[:] = self.read(addr, n, what)
            return
        try:
            self.f.seek(pos)
            got = 0
            while got < n:
                k = self.f.readinto(mv[got:])
                if not k:
                    break
                got += k
        except Exception as exc:  # a remote file's transport errors are as varied as its filesystem
            raise TFFormatsError(f"reading {what} failed: {type(exc).__name__}: {exc}", path=self.path,
                                 offset=pos) from None
        if got != n:
            raise self.err(f"{what}: short read", pos)


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
            try:
                dense = [_attribute(hf, data, where, out, names)
                         for data, where in _dense_messages(hf, body, at, "attribute", "root group")]
            except UnsupportedError as exc:
                out.unsupported.append(f"attributes in dense storage: {exc.message}")
                continue
            for attr in dense:
                if attr is None:
                    continue
                if attr.name in out.attributes:
                    raise hf.err(f"two attributes named {attr.name!r} in the root group", at)
                out.attributes[attr.name] = attr


def _messages(hf: _File, addr, out: RootAttributes | None = None, what: str = "root group"):
    """``(type, flags, body, absolute offset)`` of every message of the object header at ``addr``."""
    first = hf.read(addr, 16, f"object header of {what}")
    if first[:4] == b"OHDR":
        if out is not None:
            out.object_header_version = 2
        yield from _messages_v2(hf, addr)
    elif first[0] == 1:
        if out is not None:
            out.object_header_version = 1
        yield from _messages_v1(hf, addr, first)
    else:
        raise hf.err(f"{what} object header of unknown version {first[0]}", hf.base + addr)


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


def _dataspace(hf: _File, b: _Buf, name: str, what: str = "attribute"):
    version = b.u8()
    rank = b.u8()
    b.skip(1)  # flags: maximum dimensions follow the dimensions, not needed
    if version == 1:
        b.skip(5)
        kind = 1 if rank else 0
    elif version == 2:
        kind = b.u8()
    else:
        raise hf.err(f"dataspace of {what} {name!r} has unknown version {version}", b.at)
    if kind == 2:
        return None
    if rank > 32:
        raise hf.err(f"dataspace of {what} {name!r} has rank {rank}", b.at)
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
        value = _fixed_string(attr)
    elif attr.type_class == 9 and attr.type_bits & 0x0F == 1:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            hf = _File(f, path, size, attrs.superblock_offset)
            hf.so, hf.sl = attrs.offset_size, attrs.length_size
            value = _vlen_string(hf, attr)
    else:
        raise UnsupportedError(f"attribute {name!r} is a {attr.type_name}, not a string", path=path,
                               offset=attr.offset)
    return value.decode("utf-8", "replace")


def _fixed_string(attr: Attribute) -> bytes:
    """A fixed-length string attribute's value, its padding removed as its type says."""
    pad = attr.type_bits & 0x0F
    if pad == 0:  # null-terminated
        return attr.raw.split(b"\0", 1)[0]
    if pad == 1:
        return attr.raw.rstrip(b"\0")
    return attr.raw.rstrip(b" ")


def _vlen_string(hf: _File, attr: Attribute, max_length: int | None = None) -> bytes | None:
    """A variable-length string attribute's value, from the global heap (``None`` when it is
    longer than ``max_length``)."""
    b = _Buf(hf, attr.raw, attr.offset, f"value of attribute {attr.name!r}")
    length = b.u32()
    heap = b.addr()
    index = b.u32()
    if length == 0:
        return b""
    if max_length is not None and length > max_length:
        return None
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


# -- groups and datasets ------------------------------------------------------------
# Keras' weights are datasets: ``model_weights/<layer>/<layer>/kernel:0`` (Keras 1/2,
# tf_keras), ``layers/<layer>/vars/0`` (Keras 3).  h5py writes them contiguous (one run of
# bytes), in groups indexed by a symbol table (a version-1 B-tree of SNOD nodes whose
# names sit in a local heap) or, with newer format versions, by link messages in the
# group's own object header.
_DATASPACE, _LINK_INFO, _DATATYPE, _LINK, _LAYOUT, _SYMBOL_TABLE = 0x01, 0x02, 0x03, 0x06, 0x08, 0x11

MAX_DEPTH = 64  # groups nested
MAX_OBJECTS = 1 << 20  # objects (groups and datasets) visited in all
MAX_BTREE_NODES = 1 << 16  # B-tree and symbol table nodes read in all
MAX_HEAP_BYTES = 64 << 20  # a group's local heap (its link names)
# Walking the groups reads each header, heap and B-tree node once, so a file's structures come to
# at most its size; one B-tree or heap shared by many groups would be read again for each.  The
# walk may read this many times the file's size (plus 8 MiB) in structures.
STRUCTURE_READS = 8
MAX_STRING_BYTES = 1 << 30  # one fixed-length string value


@dataclass
class Dataset:
    """One dataset: where it is, what it holds, and why it cannot be read (``problem``)."""

    name: str  # its path from the root group, '/'-separated
    offset: int  # absolute file offset of its object header
    dtype: object  # numpy dtype (None when the type is not decoded)
    type_name: str
    shape: tuple  # () for a scalar
    layout: str  # 'contiguous', 'compact', 'chunked', 'virtual'
    address: object = None  # contiguous: file address of the data (UNDEF: never written)
    stored: int = 0  # bytes of storage the layout records
    raw: bytes | None = None  # compact: the data itself
    problem: str | None = None  # set when this reader cannot return the value

    @property
    def count(self) -> int:
        return _count(self.shape)


def find_superblock_in(f, start: int, end: int) -> int | None:
    """:func:`find_superblock` within the bytes ``[start, end)`` of an open file (a zip member)."""
    pos = 0
    while start + pos + 16 <= end:
        f.seek(start + pos)
        head = f.read(16)
        if head[:8] == MAGIC and _plausible_superblock(head):
            return pos
        pos = 512 if pos == 0 else pos * 2
    return None


class HDF5File:
    """An HDF5 file (or an HDF5 file stored inside another, such as a zip member at
    ``[start, end)``) opened to list and read its datasets."""

    def __init__(self, path, *, start: int = 0, end: int | None = None, name: str | None = None,
                 size: int | None = None, owns: bool = True) -> None:
        """``path`` is a local path, or an open binary file (then ``size`` is its size), which
        this object closes with itself when it ``owns`` it."""
        if isinstance(path, str):
            self.path = name or path
            self._f = open(path, "rb")
            self._owns = True
        else:
            self.path = name or str(getattr(path, "path", None) or getattr(path, "name", "<file>"))
            self._f = path
            self._owns = owns
        try:
            if size is None:
                size = os.fstat(self._f.fileno()).st_size
            end = size if end is None else min(end, size)
            sb = find_superblock_in(self._f, start, end)
            if sb is None:
                raise DataLossError("no HDF5 superblock found (signature at offset 0, 512, 1024...)", path=self.path,
                                    offset=start)
            self._hf = _File(self._f, self.path, end, start + sb)
            self._extent = end - start
            self.superblock_version, self._root, self.truncated = _superblock(self._hf)
            self._datasets: list | None = None
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self._owns:
            self._f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def datasets(self) -> list[Dataset]:
        """Every dataset reachable from the root group, once each (the first path found,
        children in name order), sorted by path with numbers in numeric order
        (``vars/2`` before ``vars/10``, as Keras 3 numbers a layer's variables)."""
        if self._datasets is None:
            out: list = []
            state = {"objects": 0, "nodes": 0, "seen": set(), "names": {}}
            self._hf.budget = STRUCTURE_READS * self._extent + (8 << 20)
            try:
                self._walk(self._root, "", 0, out, state)
            finally:
                self._hf.budget = None  # reading values later is not the walk
            self._datasets = sorted(out, key=lambda d: _natural(d.name))
            self._object_names = dict(sorted(state["names"].items(), key=lambda kv: _natural(kv[0])))
        return self._datasets

    def object_names(self) -> dict[str, str]:
        """``{group path: name}`` of the objects Keras 3 names in their ``vars`` group's
        ``name`` attribute (``{"layers/conv2d": "block1_conv"}``, ``""`` for the model
        itself); empty for files written before Keras 3.6 or by anything else."""
        self.datasets()
        return dict(self._object_names)

    def read(self, ds: Dataset):
        """The value of ``ds`` as a numpy array in native byte order (fixed-length
        strings as an ``object`` array of ``bytes``)."""
        import numpy as np

        hf = self._hf
        if ds.problem:
            raise UnsupportedError(ds.problem, path=self.path, entry=ds.name, offset=ds.offset)
        nbytes = ds.count * ds.dtype.itemsize
        if ds.layout == "contiguous" and ds.address is not UNDEF and ds.dtype.kind != "S" and ds.stored >= nbytes:
            # the common case (every Keras weight): straight from the file into the array
            if nbytes > hf.size:
                raise hf.err(f"dataset {ds.name!r}: {nbytes} bytes of data cannot fit in the file", ds.offset)
            flat = np.empty(ds.count, dtype=ds.dtype)
            hf.readinto(ds.address, flat.view(np.uint8), f"data of dataset {ds.name!r}")
            if not ds.dtype.isnative:
                flat = flat.byteswap().view(ds.dtype.newbyteorder("="))
            return self._shaped(flat, ds)
        if ds.layout == "compact":
            data = ds.raw or b""
        elif ds.address is UNDEF:
            if nbytes:
                raise UnsupportedError("the dataset was never written (no storage allocated; libhdf5 would return "
                                       "its fill value)", path=self.path, entry=ds.name, offset=ds.offset)
            data = b""
        else:
            if ds.stored < nbytes:
                raise hf.err(f"dataset {ds.name!r}: {ds.count} values of {ds.dtype.itemsize} bytes need {nbytes} "
                             f"bytes, its storage holds {ds.stored}", ds.offset)
            data = hf.read(ds.address, nbytes, f"data of dataset {ds.name!r}")
        if len(data) < nbytes:
            raise hf.err(f"dataset {ds.name!r}: {nbytes} bytes of data needed, {len(data)} stored", ds.offset)
        arr = self._shaped(np.frombuffer(data, dtype=ds.dtype, count=ds.count), ds)
        if ds.dtype.kind == "S":
            return _strings(arr)
        return arr.astype(ds.dtype.newbyteorder("="), copy=True)

    def _shaped(self, flat, ds: Dataset):
        try:
            return flat.reshape(ds.shape)
        except ValueError as exc:  # numpy's own limits: a dimension past 2**63 beside a 0, rank > numpy's
            raise UnsupportedError(f"shape {list(ds.shape)} cannot be a numpy array ({exc})", path=self.path,
                                   entry=ds.name, offset=ds.offset) from None

    # -- walking the groups
    def _walk(self, addr, prefix: str, depth: int, out: list, state: dict) -> None:
        hf = self._hf
        what = f"group {prefix.rstrip('/') or '/'}" if prefix or depth == 0 else "object"
        if addr is UNDEF or addr in state["seen"]:
            return  # a second link to an object already listed (h5py's visititems does the same)
        state["seen"].add(addr)
        state["objects"] += 1
        if state["objects"] > MAX_OBJECTS:
            raise hf.err(f"more than {MAX_OBJECTS} objects in the file", hf.base + addr)
        if depth > MAX_DEPTH:
            raise hf.err(f"groups nested deeper than {MAX_DEPTH} levels at {prefix!r}", hf.base + addr)
        messages = list(_messages(hf, addr, None, what))
        types = {m[0] for m in messages}
        if _LAYOUT in types:
            out.append(_dataset_of(hf, prefix.rstrip("/"), addr, messages))
            return
        children: dict = {}
        for mtype, mflags, body, at in messages:
            if mtype == _ATTRIBUTE and (prefix == "vars/" or prefix.endswith("/vars/")):
                # Keras 3 (3.6 on) names the layer whose variables a 'vars' group holds
                label = _string_attribute(hf, body, at, "name", 1024)
                if label is not None:
                    state["names"].setdefault(prefix[: -len("vars/")].rstrip("/"), label)
            elif mtype == _SYMBOL_TABLE:
                b = _Buf(hf, body, at, "symbol table message")
                btree, heap = b.addr(), b.addr()
                for name, child in self._symbol_table(btree, heap, at, state):
                    children.setdefault(name, child)
            elif mtype == _LINK:
                link = _link(hf, body, at)
                if link is not None:
                    children.setdefault(*link)
            elif mtype == _LINK_INFO:
                # more than 8 links (or long or non-ASCII names) in a newer-format group: a fractal heap
                for data, where in _dense_messages(hf, body, at, "link", what):
                    link = _link(hf, data, where)
                    if link is not None:
                        children.setdefault(*link)
        for name in sorted(children):
            if not name or "/" in name or name in (".", ".."):
                raise hf.err(f"{what} has a link named {name!r}", hf.base + addr)
            self._walk(children[name], prefix + name + "/", depth + 1, out, state)

    def _symbol_table(self, btree, heap, at: int, state: dict):
        """``(name, object header address)`` of a group indexed by a version-1 B-tree."""
        hf = self._hf
        if btree is UNDEF or heap is UNDEF:
            raise hf.err("symbol table message without its B-tree or heap", at)
        names = _local_heap(hf, heap)
        pending, seen = [btree], set()
        while pending:
            node = pending.pop()
            if node in seen:
                raise hf.err(f"group B-tree node at address {node} is reached twice (a loop)", hf.base + node)
            seen.add(node)
            state["nodes"] += 1
            if state["nodes"] > MAX_BTREE_NODES:
                raise hf.err(f"more than {MAX_BTREE_NODES} B-tree nodes", hf.base + node)
            sig = hf.read(node, 4, "group B-tree node")
            if sig == b"SNOD":
                yield from _symbol_node(hf, node, names)
                continue
            if sig != b"TREE":
                raise hf.err(f"no B-tree node (TREE) or symbol table node (SNOD) at address {node}", hf.base + node)
            head = _Buf(hf, hf.read(node, 8 + 2 * hf.so, "group B-tree node"), hf.base + node, "group B-tree node")
            head.skip(4)
            ntype, level, used = head.u8(), head.u8(), head.u16()
            head.skip(2 * hf.so)  # left and right siblings
            if ntype != 0:
                raise hf.err(f"group B-tree node of type {ntype} (groups use type 0)", hf.base + node)
            body = _Buf(hf, hf.read(node + head.pos, used * (hf.sl + hf.so) + hf.sl, "group B-tree node entries"),
                        hf.base + node + head.pos, "group B-tree node entries")
            kids = []
            for _ in range(used):
                body.skip(hf.sl)  # key: a heap offset (the largest name below the child)
                kids.append(body.addr())
            for child in reversed(kids):
                if child is UNDEF:
                    raise hf.err("group B-tree node with an undefined child", hf.base + node)
                if level == 0 and hf.read(child, 4, "symbol table node") != b"SNOD":
                    raise hf.err(f"no symbol table node (SNOD) at address {child}", hf.base + child)
                pending.append(child)


# -- dense storage: a fractal heap of link (or attribute) messages, indexed by a version 2 B-tree ----
MAX_DENSE_RECORDS = 1 << 20  # links in one group's dense storage


def _limit_enc_size(n: int) -> int:
    """Bytes libhdf5 uses to store a count of at most ``n`` (its H5VM_limit_enc_size)."""
    return (max(n, 1).bit_length() - 1) // 8 + 1


def _btree2_records(hf: _File, addr: int, want_type: int, what: str) -> list:
    """Every record (raw bytes) of the version 2 B-tree at ``addr``, whose type must be ``want_type``."""
    h = _Buf(hf, hf.read(addr, 16 + hf.so + 2 + hf.sl, f"{what} B-tree header"), hf.base + addr, f"{what} B-tree header")
    if h.take(4) != b"BTHD":
        raise hf.err(f"{what}: no version 2 B-tree header (BTHD) at address {addr}", hf.base + addr)
    version, btype = h.u8(), h.u8()
    if version != 0 or btype != want_type:
        raise hf.err(f"{what}: a version {version} B-tree of record type {btype} (expected 0 and {want_type})",
                     hf.base + addr)
    node_size, rec_size, depth = h.u32(), h.u16(), h.u16()
    h.skip(2)  # split and merge percents
    root, root_nrec, total = h.addr(), h.u16(), h.length()
    if rec_size == 0 or node_size < 16 or node_size > (1 << 24) or depth > 16 or total > MAX_DENSE_RECORDS:
        raise hf.err(f"{what}: implausible B-tree (node size {node_size}, record size {rec_size}, depth {depth}, "
                     f"{total} records)", hf.base + addr)
    # how libhdf5 sizes the child pointers of internal nodes (H5B2__hdr_init)
    max_nrec = [(node_size - 10) // rec_size]
    cum_max = [max_nrec[0]]
    cum_size = [0]
    nrec_size = _limit_enc_size(max_nrec[0])
    for d in range(1, depth + 1):
        ptr = hf.so + nrec_size + (cum_size[d - 1] if d > 1 else 0)
        max_nrec.append((node_size - 10 - ptr) // (rec_size + ptr))
        cum_max.append((max_nrec[d] + 1) * cum_max[d - 1] + max_nrec[d])
        cum_size.append(_limit_enc_size(cum_max[d]))
    out: list = []
    if root is UNDEF or total == 0:
        return out
    pending = [(root, root_nrec, depth)]
    seen: set = set()
    while pending:
        node, nrec, d = pending.pop()
        if node in seen:
            raise hf.err(f"{what}: B-tree node at address {node} is reached twice (a loop)", hf.base + node)
        seen.add(node)
        if len(seen) > MAX_BTREE_NODES or nrec > max_nrec[d]:
            raise hf.err(f"{what}: B-tree node at address {node} is past the reader's limits", hf.base + node)
        if len(seen) * node_size > STRUCTURE_READS * max(hf.size - hf.base, 0) + (8 << 20):
            raise hf.err(f"{what}: B-tree nodes read {STRUCTURE_READS}x over the file's size (nodes shared?)",
                         hf.base + node)
        sig = b"BTLF" if d == 0 else b"BTIN"
        b = _Buf(hf, hf.read(node, node_size, f"{what} B-tree node"), hf.base + node, f"{what} B-tree node")
        if b.take(4) != sig or b.u8() != 0 or b.u8() != btype:
            raise hf.err(f"{what}: no {sig.decode()} B-tree node at address {node}", hf.base + node)
        for _ in range(nrec):
            out.append(b.take(rec_size))
        if d:
            for _ in range(nrec + 1):
                child = b.addr()
                child_nrec = b.uint(nrec_size)
                if d > 1:
                    b.skip(cum_size[d - 1])
                if child is UNDEF:
                    raise hf.err(f"{what}: B-tree node with an undefined child", hf.base + node)
                pending.append((child, child_nrec, d - 1))
        if len(out) > total:
            break
    if len(out) != total:
        raise hf.err(f"{what}: the B-tree holds {len(out)} records, its header says {total}", hf.base + addr)
    return out


class _FractalHeap:
    """The managed objects of a fractal heap (FRHP), found by heap ID; its blocks are mapped once."""

    def __init__(self, hf: _File, addr: int, what: str) -> None:
        self.hf, self.what = hf, what
        n = 4 + 1 + 2 + 2 + 1 + 4 + 12 * hf.sl + 3 * hf.so + 2 + 2 * hf.sl + 2 + 2 + 2
        h = _Buf(hf, hf.read(addr, n, f"{what} fractal heap header"), hf.base + addr, f"{what} fractal heap header")
        if h.take(4) != b"FRHP" or h.u8() != 0:
            raise hf.err(f"{what}: no fractal heap header (FRHP, version 0) at address {addr}", hf.base + addr)
        self.id_len = h.u16()
        filters_len = h.u16()
        flags = h.u8()
        self.max_managed = h.u32()
        h.skip(hf.sl + hf.so + hf.sl + hf.so + 8 * hf.sl)  # huge objects, free space, counters
        width = h.u16()
        start, max_direct = h.length(), h.length()
        max_heap_bits = h.u16()
        h.skip(2)  # starting rows of the root indirect block
        root = h.addr()
        rows = h.u16()
        if filters_len:
            raise UnsupportedError(f"{what}: a fractal heap with I/O filters, which this reader does not read",
                                   path=hf.path, offset=hf.base + addr)
        if not (1 <= width <= 4096) or start < 16 or start & (start - 1) or max_direct < start \
                or max_direct & (max_direct - 1) or not (8 <= max_heap_bits <= 64) or rows > 64:
            raise hf.err(f"{what}: implausible fractal heap (width {width}, block sizes {start}..{max_direct}, "
                         f"{max_heap_bits}-bit offsets, {rows} rows)", hf.base + addr)
        self.checksummed = bool(flags & 0x02)
        self.off_size = (max_heap_bits + 7) // 8
        self.len_size = min((max_direct.bit_length() - 1 + 7) // 8, _limit_enc_size(self.max_managed))
        self.blocks: list = []  # (heap offset, size, address) of every direct block, by offset
        self._starts: list = []
        if root is UNDEF:
            return
        if rows == 0:
            self.blocks.append((0, start, root))
            self._starts.append(0)
            return
        direct_rows = (max_direct.bit_length() - 1) - (start.bit_length() - 1) + 2
        if rows > direct_rows:
            raise UnsupportedError(f"{what}: a fractal heap with indirect blocks below its root, which this reader "
                                   "does not read", path=hf.path, offset=hf.base + addr)
        entries = rows * width
        ib = _Buf(hf, hf.read(root, 5 + hf.so + self.off_size + entries * hf.so, f"{what} fractal heap indirect block"),
                  hf.base + root, f"{what} fractal heap indirect block")
        if ib.take(4) != b"FHIB" or ib.u8() != 0:
            raise hf.err(f"{what}: no fractal heap indirect block (FHIB) at address {root}", hf.base + root)
        ib.skip(hf.so + self.off_size)
        offset = 0
        for r in range(rows):
            size = start if r < 2 else start << (r - 1)
            for _ in range(width):
                a = ib.addr()
                if a is not UNDEF:
                    self.blocks.append((offset, size, a))
                    self._starts.append(offset)
                offset += size

    def object(self, heap_id: bytes) -> tuple[bytes, int]:
        """``(bytes, absolute offset)`` of the object a heap ID names."""
        hf, what = self.hf, self.what
        if len(heap_id) < 1 + self.off_size + self.len_size or heap_id[0] & 0xC0:
            raise hf.err(f"{what}: a heap ID of {len(heap_id)} bytes or of an unknown version", None)
        kind = (heap_id[0] >> 4) & 0x03
        if kind != 0:
            raise UnsupportedError(f"{what}: a {'huge' if kind == 1 else 'tiny'} fractal heap object, which this "
                                   "reader does not read", path=hf.path)
        off = int.from_bytes(heap_id[1 : 1 + self.off_size], "little")
        n = int.from_bytes(heap_id[1 + self.off_size : 1 + self.off_size + self.len_size], "little")
        i = bisect.bisect_right(self._starts, off) - 1  # blocks are in heap-offset order
        if i >= 0:
            start, size, addr = self.blocks[i]
            head = 5 + hf.so + self.off_size + (4 if self.checksummed else 0)
            if off + n <= start + size and off - start >= head:
                return hf.read(addr + off - start, n, f"{what} fractal heap object"), hf.base + addr + off - start
        raise hf.err(f"{what}: heap object at offset {off} ({n} bytes) is in no block of the heap", None)


def _dense_messages(hf: _File, body: bytes, at: int, kind: str, what: str):
    """``(message bytes, absolute offset)`` of each link (``kind="link"``) or attribute
    (``kind="attribute"``) message a link/attribute info message (``body``) keeps in dense storage:
    a fractal heap, indexed by a version 2 B-tree of names.  Nothing when they are compact."""
    b = _Buf(hf, body, at, f"{kind} info message")
    b.skip(1)
    if b.u8() & 0x01:
        b.skip(8 if kind == "link" else 2)  # maximum creation index
    heap, index = b.addr(), b.addr()
    if heap is UNDEF:
        return
    if index is UNDEF:
        raise hf.err(f"{what}: {kind}s in a fractal heap without their name index", at)
    fh = _FractalHeap(hf, heap, what)
    # name index records: links (type 5) a 4-byte hash, then the heap ID; attributes (type 8) an
    # 8-byte heap ID, then flags, creation order and hash
    rtype, ids = (5, slice(4, 4 + fh.id_len)) if kind == "link" else (8, slice(0, 8))
    for rec in _btree2_records(hf, index, rtype, f"{what} {kind} name index"):
        yield fh.object(rec[ids])


def _natural(name: str) -> list:
    parts = re.split(r"(\d+)", name)
    parts[1::2] = [int(p) for p in parts[1::2]]
    return parts


def _local_heap(hf: _File, addr) -> bytes:
    b = _Buf(hf, hf.read(addr, 8 + 2 * hf.sl + hf.so, "local heap"), hf.base + addr, "local heap")
    if b.take(4) != b"HEAP":
        raise hf.err(f"no local heap (HEAP) at address {addr}", hf.base + addr)
    b.skip(4)  # version, reserved
    size = b.length()
    b.length()  # free list
    data = b.addr()
    if data is UNDEF or size > MAX_HEAP_BYTES:
        raise hf.err(f"local heap with {size} bytes of data at address {data}", hf.base + addr)
    return hf.read(data, size, "local heap data")


def _heap_name(hf: _File, names: bytes, offset: int, at: int) -> str:
    if offset >= len(names):
        raise hf.err(f"link name at offset {offset} lies past its local heap ({len(names)} bytes)", at)
    end = names.find(b"\0", offset)
    if end < 0:
        raise hf.err(f"link name at offset {offset} of its local heap has no terminating NUL", at)
    return names[offset:end].decode("utf-8", "replace")


def _symbol_node(hf: _File, addr: int, names: bytes):
    head = _Buf(hf, hf.read(addr, 8, "symbol table node"), hf.base + addr, "symbol table node")
    head.skip(4)
    version = head.u8()
    head.skip(1)
    count = head.u16()
    if version != 1:
        raise hf.err(f"symbol table node of version {version}", hf.base + addr)
    esize = 2 * hf.so + 24
    b = _Buf(hf, hf.read(addr + 8, count * esize, "symbol table entries"), hf.base + addr + 8, "symbol table entries")
    for _ in range(count):
        at = b.at + b.pos
        name_off = b.uint(hf.so)
        obj = b.addr()
        b.skip(24)  # cache type, reserved, scratch pad
        yield _heap_name(hf, names, name_off, at), obj


def _link(hf: _File, body: bytes, at: int):
    """``(name, object header address)`` of a hard link message; None for soft/external links."""
    b = _Buf(hf, body, at, "link message")
    version = b.u8()
    if version != 1:
        raise hf.err(f"link message of version {version}", at)
    flags = b.u8()
    kind = b.u8() if flags & 0x08 else 0
    if flags & 0x04:
        b.skip(8)  # creation order
    if flags & 0x10:
        b.skip(1)  # character set
    length = b.uint(1 << (flags & 0x03))
    name = b.take(length).decode("utf-8", "replace")
    if kind != 0:
        return None
    return name, b.addr()


# -- dataset messages
def _ml_bfloat16():
    import ml_dtypes

    return ml_dtypes.bfloat16


def _datatype(hf: _File, b: _Buf, name: str, depth: int = 0):
    """``(numpy dtype or None, type name)`` of a datatype message at the cursor."""
    import numpy as np

    cv = b.u8()
    cls, version = cv & 0x0F, cv >> 4
    bits = b.uint(3)
    size = b.u32()
    type_name = _CLASS_NAMES.get(cls, f"class {cls}")
    if cls == 0:  # fixed-point
        b.skip(4)  # bit offset, precision
        order = ">" if bits & 0x01 else "<"
        if size in (1, 2, 4, 8):
            dt = np.dtype(f"{order}{'i' if bits & 0x08 else 'u'}{size}")
            return dt, dt.name
        return None, f"{size}-byte integer"
    if cls == 1:  # floating point
        b.skip(4)  # bit offset, precision
        b.skip(1)  # exponent location
        esize = b.u8()
        b.skip(1)  # mantissa location
        msize = b.u8()
        b.skip(4)  # exponent bias
        if bits & 0x40:
            return None, "VAX-order float"
        order = ">" if bits & 0x01 else "<"
        if size == 2 and (esize, msize) == (8, 7):
            dt = np.dtype(_ml_bfloat16()).newbyteorder(order)
            return dt, "bfloat16"
        if size in (2, 4, 8) and (esize, msize) in ((5, 10), (8, 23), (11, 52)):
            dt = np.dtype(f"{order}f{size}")
            return dt, dt.name
        return None, f"{size}-byte float ({esize}-bit exponent, {msize}-bit mantissa)"
    if cls == 3:  # fixed-length string
        if size == 0:
            return None, "empty fixed-length string"
        if size > MAX_STRING_BYTES:  # numpy's string types stop at 2**31 - 1 bytes
            return None, f"fixed-length string of {size} bytes"
        return np.dtype(f"S{size}"), "string"
    if cls == 8 and depth == 0:  # enum: h5py's bool is an int8 enum of FALSE and TRUE
        base, _ = _datatype(hf, b, name, depth + 1)
        members = bits & 0xFFFF
        labels = []
        if members == 2:  # only a two-member enum can be a bool: read its names
            for _ in range(2):
                end = b.data.find(b"\0", b.pos, b.pos + 256)
                if end < 0:
                    raise hf.err(f"datatype of dataset {name!r}: an enum member name without its NUL", b.at + b.pos)
                raw = b.take(end - b.pos)
                b.skip(1)
                if version < 3:  # names padded to a multiple of 8 bytes
                    b.skip((8 - (len(raw) + 1) % 8) % 8)
                labels.append(raw)
        if base is not None and base.kind not in "iu":  # HDF5 enums are of integers; anything else is damage
            return None, f"enum of {base.name}"
        if base is not None and base.itemsize == 1 and labels == [b"FALSE", b"TRUE"]:
            return np.dtype(bool), "bool"
        if base is not None:
            return base, base.name  # an enum's values are its base integers
        return None, "enum"
    if cls == 9:
        return None, "variable-length string" if bits & 0x0F == 1 else "variable-length sequence"
    if cls == 5 and 0 < size <= 16:  # opaque: how Keras stores ml_dtypes values (see _dataset_of)
        return np.dtype(f"V{size}"), "opaque"
    return None, type_name


def _layout(hf: _File, body: bytes, at: int, name: str):
    """``(layout, address, stored bytes, raw)`` of a data layout message."""
    b = _Buf(hf, body, at, f"layout message of dataset {name!r}")
    version = b.u8()
    if version in (1, 2):
        rank, cls = b.u8(), b.u8()
        b.skip(5)
        address = b.addr() if cls != 0 else None
        dims = [b.u32() for _ in range(rank)]
        if cls == 0:
            size = b.u32()
            return "compact", None, size, b.take(size)
        if cls == 1:
            return "contiguous", address, _count(dims), None
        return "chunked", None, 0, None
    if version in (3, 4):
        cls = b.u8()
        if cls == 0:
            size = b.u16()
            return "compact", None, size, b.take(size)
        if cls == 1:
            return "contiguous", b.addr(), b.length(), None
        if cls == 2:
            return "chunked", None, 0, None
        if cls == 3:
            return "virtual", None, 0, None
        raise hf.err(f"dataset {name!r} has a layout of unknown class {cls}", at)
    raise hf.err(f"dataset {name!r} has a layout message of unknown version {version}", at)


def _ml_dtype_of_opaque(size: int, dtype_attr: str | None):
    """``(dtype, name)`` for an opaque dataset: Keras 3 writes ml_dtypes values (bfloat16) as
    opaque bytes and names the type in a ``dtype`` attribute; tf_keras (and Keras 3's legacy
    .h5) write bfloat16 as a 2-byte opaque type without one.  ``(None, reason)`` otherwise."""
    import numpy as np

    if dtype_attr:
        try:
            import ml_dtypes

            dt = np.dtype(getattr(ml_dtypes, dtype_attr)) if hasattr(ml_dtypes, dtype_attr) else np.dtype(dtype_attr)
        except (TypeError, ValueError, AttributeError):
            return None, f"opaque ({size} bytes, dtype attribute {dtype_attr!r} unknown)"
        if dt.itemsize != size or dt.kind in "OSUM":
            return None, f"opaque ({size} bytes, dtype attribute {dtype_attr!r} of another size)"
        return dt, dt.name
    if size == 2:
        dt = np.dtype(_ml_bfloat16())
        return dt, "bfloat16"
    return None, f"opaque ({size} bytes)"


def _string_attribute(hf: _File, body: bytes, at: int, name: str, max_length: int) -> str | None:
    """The value of a short string attribute called ``name``, if this attribute message is it.

    ``None`` for another attribute, a value that is not one string of at most
    ``max_length`` bytes, or a damaged message (the object's own messages decide).
    """
    tmp = RootAttributes(0, 0, 0)
    try:
        attr = _attribute(hf, body, at, tmp, {name})
        if attr is None or attr.shape is None or _count(attr.shape) != 1:
            return None
        if attr.type_class == 3:
            value = _fixed_string(attr)
            if len(value) > max_length:
                return None
        elif attr.type_class == 9 and attr.type_bits & 0x0F == 1:
            value = _vlen_string(hf, attr, max_length=max_length)
        else:
            return None
    except DataLossError:
        return None
    return value.decode("utf-8", "backslashreplace") if value else None


def _dataset_dtype_attribute(hf: _File, body: bytes, at: int) -> str | None:
    """The string value of a dataset's ``dtype`` attribute (as Keras 3 sets it), if this message is it."""
    return _string_attribute(hf, body, at, "dtype", 64)  # a dtype's name is short


def _dataset_of(hf: _File, name: str, addr: int, messages) -> Dataset:
    dtype = shape = layout = None
    type_name = "?"
    address, stored, raw = None, 0, None
    dtype_attr = None
    for mtype, mflags, body, at in messages:
        if mtype == _ATTRIBUTE:
            dtype_attr = _dataset_dtype_attribute(hf, body, at) or dtype_attr
            continue
        if mflags & 0x02 and mtype in (_DATATYPE, _DATASPACE):
            return Dataset(name, hf.base + addr, None, "shared type", (), "?",
                           problem="a shared (committed) datatype or dataspace, which this reader does not read")
        if mtype == _DATATYPE and dtype is None and type_name == "?":
            dtype, type_name = _datatype(hf, _Buf(hf, body, at, f"datatype of dataset {name!r}"), name)
        elif mtype == _DATASPACE and shape is None:
            shape = _dataspace(hf, _Buf(hf, body, at, f"dataspace of dataset {name!r}"), name, "dataset")
            if shape is None:
                shape = ()
                type_name += " (null dataspace)"
        elif mtype == _LAYOUT and layout is None:
            layout, address, stored, raw = _layout(hf, body, at, name)
    if type_name == "opaque" and dtype is not None:
        dtype, type_name = _ml_dtype_of_opaque(dtype.itemsize, dtype_attr)
    ds = Dataset(name, hf.base + addr, dtype, type_name, shape if shape is not None else (), layout or "?",
                 address, stored, raw)
    if shape is None or type_name == "?":
        ds.problem = "a dataset without its dataspace or datatype message"
    elif dtype is None:
        ds.problem = f"values of type {type_name}, which this reader does not decode"
    elif layout not in ("contiguous", "compact"):
        ds.problem = f"{layout} storage (h5py's default is contiguous), which this reader does not read"
    elif "null dataspace" in type_name:
        ds.problem = "a dataset with a null dataspace holds no value"
    return ds


def _strings(arr):
    import numpy as np

    out = np.empty(arr.shape, dtype=object)
    flat = out.reshape(-1)
    for i, v in enumerate(arr.reshape(-1).tolist()):
        flat[i] = v
    return out
