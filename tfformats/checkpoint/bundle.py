"""Tensor bundles: V2 checkpoints (``PREFIX.index`` + ``PREFIX.data-SSSSS-of-NNNNN``).

The ``.index`` file is a table (see :mod:`tfformats._io.table`) whose keys are
tensor names and whose values are serialized ``BundleEntryProto``::

    ""            -> BundleHeaderProto {num_shards, endianness, version}
    "\\x00..."     -> one slice of a partitioned tensor (ordered-code key)
    "name"        -> BundleEntryProto {dtype, shape, shard_id, offset, size,
                                        crc32c (masked), slices}

A data shard is a plain concatenation of tensor bytes; each entry says where
its bytes are.  Numeric tensors are raw row-major buffers in the writer's byte
order.  String tensors are laid out as::

    varint64 len[0..n-1] | u32 mask(C_len) | bytes[0] ... bytes[n-1]

where ``C_len`` is the CRC32C of each length as a u32 (u64 when it does not
fit), and the entry's CRC32C continues from ``C_len`` over the 4 checksum
bytes and then the string bytes.

A partitioned tensor has a full entry (dtype, full shape, ``slices``; no
data) plus one entry per slice under ``encode_tensor_name_slice(name, slice)``.
"""

from __future__ import annotations

import os
import struct
from math import prod as _prod
import threading
from typing import Iterator

from .._lazy import lazy_module

np = lazy_module("numpy")

from .. import dtypes as _dt
from .._io import crc as _crc
from .._io.source import ByteSource, open_source, is_remote
from .._io.table import Table
from ..errors import ChecksumError, DataLossError, NotFoundError, UnknownTensorError, UnsupportedError
from . import slices as _slices

LITTLE = 0
BIG = 1
HEADER_KEY = b""
CHUNK = 4 << 20  # bytes copied (and checksummed) at a time


def index_path(prefix: str) -> str:
    return f"{prefix}.index"


def data_path(prefix: str, shard: int, num_shards: int) -> str:
    return f"{prefix}.data-{shard:05d}-of-{num_shards:05d}"


def _pb():
    from ..proto import pb

    return pb


def shape_of(shape_proto, *, path: str, entry: str) -> tuple[int, ...]:
    """Validated dims of a TensorShapeProto stored in a checkpoint."""
    if shape_proto.unknown_rank:
        raise DataLossError("tensor shape has unknown rank", path=path, entry=entry)
    dims = tuple([d.size for d in shape_proto.dim])
    if not dims:
        return dims
    if min(dims) < 0:
        raise DataLossError(f"tensor shape has a negative dimension ({min(dims)})", path=path, entry=entry)
    n = 1
    nonzero = 1  # numpy refuses even an empty array when the other dims multiply past its limit
    for d in dims:
        n *= d
        nonzero *= d or 1
    if n >= 1 << 62 or nonzero >= 1 << 58:
        raise DataLossError(f"tensor shape {list(dims)} has too many elements", path=path, entry=entry)
    return dims


def array_shape(shape_proto, *, path: str, entry: str) -> tuple[int, ...]:
    """:func:`shape_of`, also refusing ranks numpy cannot build (before reading values).

    Listings keep :func:`shape_of`, so such a tensor is still listed with its shape.
    """
    dims = shape_of(shape_proto, path=path, entry=entry)
    if len(dims) > _dt.max_numpy_rank():
        raise UnsupportedError(
            f"tensor has {len(dims)} dimensions; numpy arrays hold at most {_dt.max_numpy_rank()}",
            path=path,
            entry=entry,
        )
    return dims


def _num_elements(shape) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def decode_varints(buf: np.ndarray, count: int) -> tuple[np.ndarray, int]:
    """Decode ``count`` varint64s from the start of ``buf`` (uint8 array).

    Returns ``(values as uint64, bytes consumed)``; raises ValueError when the
    buffer ends first or a varint is longer than 10 bytes.  Vectorized.
    """
    if count == 0:
        return np.zeros(0, np.uint64), 0
    ends = np.flatnonzero(buf < 0x80)
    if len(ends) < count:
        raise ValueError("string lengths run past the end of the entry")
    ends = ends[:count]
    starts = np.empty(count, np.int64)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    lens = ends - starts + 1
    maxlen = int(lens.max())
    if maxlen > 10:
        raise ValueError("string length varint is longer than 10 bytes")
    values = (buf[starts] & 0x7F).astype(np.uint64)
    for k in range(1, maxlen):
        sel = np.flatnonzero(lens > k)
        values[sel] |= (buf[starts[sel] + k] & 0x7F).astype(np.uint64) << np.uint64(7 * k)
    return values, int(ends[-1]) + 1


class BundleReader:
    """Low-level reader of one V2 bundle.

    ``names()`` lists tensors (never slice keys), ``info(name)`` gives
    ``(DType, shape)``, ``read(name)`` returns an owned numpy array,
    assembling partitioned tensors from their slices.
    """

    def __init__(self, prefix: str, *, index_source=None) -> None:
        self.prefix = prefix
        self.index_file = index_path(prefix) if index_source is None else getattr(index_source, "name", prefix)
        if index_source is None and is_remote(self.index_file):
            # The whole index is parsed at open: fetch it in one request.
            from .._io import remote

            src = remote.open_remote_source(self.index_file, whole=True)
        else:
            src = open_source(index_source if index_source is not None else self.index_file)
        self._index_source = src
        self._shards: dict[int, ByteSource] = {}
        self._shard_lock = threading.Lock()
        try:
            table = Table(src)
            raw: dict[bytes, bytes] = {}
            header = None
            for key, value in table.items():
                if key == HEADER_KEY:
                    header = value
                else:
                    raw[key] = value
            if header is None:
                raise DataLossError("the index has no header entry", path=self.index_file)
            self._parse_header(header)
        except BaseException:
            src.close()
            raise
        self._raw = raw
        self._entries: dict[str, object] = {}
        self._info: dict[str, tuple] = {}
        self._entry_class = _pb().BundleEntryProto
        self._slice_keys = self._referenced_slice_keys(raw)
        self._names = sorted(
            k.decode("utf-8", "surrogateescape") for k in raw if k not in self._slice_keys
        )

    def _referenced_slice_keys(self, raw: dict) -> frozenset:
        """The keys that hold a slice of a partitioned tensor, which are not tensors of their own.

        As TensorFlow's reader: a key is hidden when some entry's ``slices``
        name it (slice keys start with a NUL byte, the ordered-code encoding);
        any other key, even one starting with a NUL, is a tensor.  Only
        checkpoints with NUL-led keys are parsed for this; an entry that does
        not parse names no slices (reading it reports the damage).
        """
        if not any(k[:1] == b"\x00" for k in raw):
            return frozenset()
        parse = self._entry_class.FromString
        out = set()
        parsed = {}
        for k, v in raw.items():
            if k == b"":
                continue
            try:
                e = parse(v)
            except Exception:
                continue
            parsed[k] = e
            for sp in e.slices:
                try:
                    out.add(_slices.encode_tensor_name_slice(k, _slices.extents_from_proto(sp)))
                except Exception:
                    continue
        # the entries of the tensors are kept, so reading them does not parse them again
        for k, e in parsed.items():
            if k not in out:
                self._entries[k.decode("utf-8", "surrogateescape")] = e
        return frozenset(out)

    # -- header and entries --------------------------------------------------
    def _parse_header(self, data: bytes) -> None:
        pb = _pb()
        try:
            h = pb.BundleHeaderProto.FromString(data)
        except Exception as exc:
            raise DataLossError(f"cannot parse the bundle header: {exc}", path=self.index_file, entry="") from None
        if h.endianness not in (LITTLE, BIG):
            raise DataLossError(f"unknown endianness {h.endianness} in header", path=self.index_file, entry="")
        v = h.version
        if v.producer < 0 or v.min_consumer > 1 or 1 in v.bad_consumers:
            raise UnsupportedError(
                f"bundle version (producer {v.producer}, min_consumer {v.min_consumer}) is newer than this reader",
                path=self.index_file,
            )
        if h.num_shards < 0:
            raise DataLossError(f"negative num_shards {h.num_shards}", path=self.index_file, entry="")
        self.num_shards = h.num_shards
        self.endianness = h.endianness
        self.header = h

    def _entry(self, name: str):
        e = self._entries.get(name)
        if e is None:
            raw = self._raw.get(name.encode("utf-8", "surrogateescape"))
            if raw is None or name.encode("utf-8", "surrogateescape") in self._slice_keys:
                raise UnknownTensorError(f"no tensor named {name!r} in the checkpoint", path=self.prefix)
            e = self._parse_entry(raw, name)
            self._entries[name] = e
        return e

    def _parse_entry(self, raw: bytes, name: str):
        try:
            e = self._entry_class.FromString(raw)
        except Exception as exc:
            raise DataLossError(f"cannot parse the index entry: {exc}", path=self.index_file, entry=name) from None
        return e

    def names(self) -> list[str]:
        return self._names

    def __contains__(self, name: str) -> bool:
        return name in self._entries or (
            name.encode("utf-8", "surrogateescape") not in self._slice_keys
            and name.encode("utf-8", "surrogateescape") in self._raw
        )

    def all_info(self) -> dict[str, tuple[_dt.DType, tuple[int, ...]]]:
        """``{name: (DType, shape)}`` of every tensor, in name order (cached)."""
        info = self._info
        if len(info) < len(self._names):
            parse = self._entry_class.FromString
            by_enum = _dt.BY_ENUM
            raw = self._raw
            for name in self._names:
                if name in info:
                    continue
                data = raw[name.encode("utf-8", "surrogateescape")]
                try:
                    e = parse(data)
                except Exception as exc:
                    raise DataLossError(f"cannot parse the index entry: {exc}", path=self.index_file, entry=name) from None
                dtype = by_enum.get(e.dtype)
                shp = e.shape
                dims = tuple([d.size for d in shp.dim])
                if dtype is None or shp.unknown_rank or (dims and (min(dims) < 0 or _prod(dims) >= 1 << 62)):
                    info[name] = (self._dtype(e, name), shape_of(shp, path=self.index_file, entry=name))
                else:
                    info[name] = (dtype, dims)
            if len(info) != len(self._names):
                raise DataLossError("index entries changed while reading", path=self.index_file)
            self._info = {n: info[n] for n in self._names}
        return self._info

    def info(self, name: str) -> tuple[_dt.DType, tuple[int, ...]]:
        r = self._info.get(name)
        if r is None:
            e = self._entry(name)
            r = (self._dtype(e, name), shape_of(e.shape, path=self.index_file, entry=name))
            self._info[name] = r
        return r

    def entry(self, name: str):
        """The raw ``BundleEntryProto`` of ``name`` (a copy-free protobuf)."""
        return self._entry(name)

    def _dtype(self, e, name: str) -> _dt.DType:
        d = _dt.BY_ENUM.get(e.dtype)
        if d is None:
            raise UnsupportedError(f"unknown dtype {e.dtype}", path=self.index_file, entry=name)
        return d

    # -- shards --------------------------------------------------------------
    def shard_path(self, shard_id: int) -> str:
        return data_path(self.prefix, shard_id, self.num_shards)

    def _shard(self, shard_id: int, name: str) -> ByteSource:
        if not 0 <= shard_id < self.num_shards:
            raise DataLossError(
                f"shard_id {shard_id} is outside the {self.num_shards} shards of the checkpoint",
                path=self.index_file,
                entry=name,
            )
        src = self._shards.get(shard_id)
        if src is None:
            with self._shard_lock:
                src = self._shards.get(shard_id)
                if src is None:
                    path = self.shard_path(shard_id)
                    try:
                        src = open_source(path)
                    except NotFoundError:
                        raise NotFoundError(
                            f"data shard {shard_id} of {self.num_shards} is missing", path=path, entry=name
                        ) from None
                    self._shards[shard_id] = src
        return src

    def _span(self, e, name: str) -> tuple[ByteSource, int, int]:
        src = self._shard(e.shard_id, name)
        if e.offset < 0 or e.size < 0 or e.offset + e.size > src.size:
            raise DataLossError(
                f"entry bytes [{e.offset}, {e.offset + e.size}) run past the end of the shard ({src.size} bytes)",
                path=src.name,
                entry=name,
                offset=e.offset,
            )
        return src, e.offset, e.size

    # -- reading -------------------------------------------------------------
    def read(self, name: str, *, verify: bool = True) -> np.ndarray:
        e = self._entry(name)
        dtype = self._dtype(e, name)
        shape = array_shape(e.shape, path=self.index_file, entry=name)
        if len(e.slices):
            return self._read_partitioned(name, e, dtype, shape, verify)
        return self._read_entry(e, name, dtype, shape, verify)

    def _read_entry(self, e, name: str, dtype: _dt.DType, shape, verify: bool) -> np.ndarray:
        if dtype.enum == _dt.DT_STRING:
            return self._read_strings(e, name, shape, verify)
        if dtype.enum == _dt.DT_VARIANT:
            return self._read_variants(e, name, shape, verify)
        if dtype.numpy_name is None:
            raise UnsupportedError(f"reading {dtype.name} tensors is not supported", path=self.index_file, entry=name)
        n = _num_elements(shape)
        expected = n * dtype.itemsize
        if e.size != expected:
            raise DataLossError(
                f"entry holds {e.size} bytes but a {dtype.name} tensor of shape {list(shape)} needs {expected}",
                path=self.index_file,
                entry=name,
            )
        src, offset, size = self._span(e, name)
        npdt = dtype.numpy
        out = np.empty(shape, npdt)
        flat = out.reshape(-1).view(np.uint8) if size else None
        running = 0
        if size and getattr(src, "prefers_large_reads", False):
            # Remote: one ranged read (fetched in parallel chunks), then the CRC.
            src.readinto(offset, flat)
            if verify:
                for lo in range(0, size, CHUNK):
                    running = _crc.extend(running, flat[lo : lo + CHUNK])
        elif size:
            # Copy in chunks straight into the result; the CRC of each chunk is
            # computed while it is still in the CPU cache.
            for lo in range(0, size, CHUNK):
                hi = min(size, lo + CHUNK)
                chunk = flat[lo:hi]
                src.readinto(offset + lo, chunk)
                if verify:
                    running = _crc.extend(running, chunk)
        if verify:
            self._check_crc(e, running, name, src.name if size else self.index_file)
        if self.endianness == BIG and npdt.itemsize > 1:
            out = self._from_big_endian(out, npdt)
        return out

    @staticmethod
    def _from_big_endian(out: np.ndarray, npdt: np.dtype) -> np.ndarray:
        if npdt.kind == "c":
            # complex: swap each float component separately
            parts = out.reshape(-1).view(np.dtype(f"f{npdt.itemsize // 2}"))  # (reshape: 0-d arrays cannot change itemsize)
            parts.byteswap(inplace=True)
            return out
        if npdt.kind in "iufb" or npdt.itemsize in (2, 4, 8):
            swapped = out.view(np.dtype(f"u{npdt.itemsize}"))
            swapped.byteswap(inplace=True)
        return out

    def _check_crc(self, e, running: int, name: str, where: str) -> None:
        actual = _crc.mask(running)
        if actual != e.crc32c:
            raise ChecksumError(
                f"checksum mismatch for tensor data (stored 0x{e.crc32c:08x}, computed 0x{actual:08x})",
                path=where,
                entry=name,
                offset=e.offset,
            )

    def _read_strings(self, e, name: str, shape, verify: bool) -> np.ndarray:
        n = _num_elements(shape)
        src, offset, size = self._span(e, name)
        if n > size:  # every element needs at least one length byte
            raise DataLossError(
                f"string tensor of {n} elements cannot fit in {size} bytes", path=src.name, entry=name, offset=offset
            )
        buf = src.read(offset, size)
        arr = np.frombuffer(buf, np.uint8)
        try:
            lengths, used = decode_varints(arr[: min(size, 10 * n)], n)
        except ValueError as exc:
            raise DataLossError(str(exc), path=src.name, entry=name, offset=offset) from None
        if used + 4 > size:
            raise DataLossError("string tensor lengths leave no room for their checksum", path=src.name, entry=name, offset=offset)
        big = self.endianness == BIG
        (stored_len_crc,) = struct.unpack_from(">I" if big else "<I", buf, used)
        # Each length must fit in the entry; then the sum cannot wrap around uint64
        # for any entry below 4 GiB (n <= size), and above that it is summed exactly.
        if n and int(lengths.max()) > size:
            raise DataLossError(
                f"a string length claims {int(lengths.max())} bytes, more than the entry's {size}",
                path=src.name,
                entry=name,
                offset=offset,
            )
        total = (int(lengths.sum(dtype=np.uint64)) if size < 1 << 32 else sum(lengths.tolist())) if n else 0
        if used + 4 + total != size:
            raise DataLossError(
                f"string lengths add up to {total} bytes but the entry has {size - used - 4}",
                path=src.name,
                entry=name,
                offset=offset,
            )
        if verify:
            if n == 0 or int(lengths.max()) <= 0xFFFFFFFF:
                len_bytes = lengths.astype(">u4" if big else "<u4").tobytes()
            else:
                fmt_end = ">" if big else "<"
                len_bytes = b"".join(
                    struct.pack(fmt_end + ("I" if x <= 0xFFFFFFFF else "Q"), x) for x in lengths.tolist()
                )
            c_len = _crc.value(len_bytes)
            if _crc.mask(c_len) != stored_len_crc:
                raise ChecksumError("checksum mismatch for string lengths", path=src.name, entry=name, offset=offset)
            running = _crc.extend(c_len, buf[used : used + 4])
            running = _crc.extend(running, buf[used + 4 :])
            self._check_crc(e, running, name, src.name)
        data = bytes(buf[used + 4 :])
        out = np.empty(n, dtype=object)
        ends = np.cumsum(lengths, dtype=np.uint64).tolist() if n else []
        start = 0
        items = []
        for end in ends:
            items.append(data[start:end])
            start = end
        out[:] = items if n else []
        return out.reshape(shape)

    def _read_variants(self, e, name: str, shape, verify: bool) -> np.ndarray:
        """A variant tensor: an ``object`` array of ``VariantTensorDataProto``.

        Each element is stored as ``varint64 len | serialized proto | u32
        masked CRC``, the CRC being the running CRC32C of everything before it
        in the entry, where each length counts as its 8 little-endian bytes
        (TensorFlow extends the CRC with the ``uint64`` in memory).  The
        entry's CRC covers the lengths (as u64), the protos and the per-element
        checksums.  tf.data iterator state and TensorLists are saved this way.
        """
        n = _num_elements(shape)
        src, offset, size = self._span(e, name)
        if n == 0:
            if size:
                raise DataLossError(
                    f"an empty variant tensor holds {size} bytes", path=src.name, entry=name, offset=offset
                )
            if verify:
                self._check_crc(e, 0, name, self.index_file)
            return np.empty(shape, dtype=object)
        if self.endianness == BIG:
            # TensorFlow refuses these too: the length CRC depends on the writer's byte order.
            raise UnsupportedError("variant tensors in a big-endian bundle cannot be read", path=src.name, entry=name)
        if 5 * n > size:  # every element needs a length byte and its 4-byte checksum
            raise DataLossError(
                f"variant tensor of {n} elements cannot fit in {size} bytes", path=src.name, entry=name, offset=offset
            )
        from .._io import varint as _varint

        buf = src.read(offset, size)
        out = np.empty(n, dtype=object)
        parse = _pb().VariantTensorDataProto.FromString
        u64 = struct.Struct("<Q")
        running = 0
        pos = 0
        for i in range(n):
            try:
                length, start = _varint.decode(buf, pos, size, 10)
            except _varint.VarintError as exc:
                raise DataLossError(
                    f"variant element {i}: bad length: {exc}", path=src.name, entry=name, offset=offset + pos
                ) from None
            end = start + length
            if end + 4 > size:
                raise DataLossError(
                    f"variant element {i} of {length} bytes runs past the end of the entry",
                    path=src.name,
                    entry=name,
                    offset=offset + pos,
                )
            body = buf[start:end]
            if verify:
                running = _crc.extend(_crc.extend(running, u64.pack(length)), body)
                (stored,) = struct.unpack_from("<I", buf, end)
                if _crc.unmask(stored) != running:
                    raise ChecksumError(
                        f"checksum mismatch after variant element {i}", path=src.name, entry=name, offset=offset + end
                    )
                running = _crc.extend(running, buf[end : end + 4])
            try:
                out[i] = parse(bytes(body))
            except Exception as exc:
                raise DataLossError(
                    f"variant element {i} is not a VariantTensorDataProto: {exc}",
                    path=src.name,
                    entry=name,
                    offset=offset + start,
                ) from None
            pos = end + 4
        if pos != size:
            raise DataLossError(
                f"variant tensor leaves {size - pos} bytes of its entry unused", path=src.name, entry=name, offset=offset + pos
            )
        if verify:
            self._check_crc(e, running, name, src.name)
        return out.reshape(shape)

    def _read_partitioned(self, name: str, e, dtype: _dt.DType, shape, verify: bool) -> np.ndarray:
        # Every slice is validated (inside the shape, tiling it exactly, its
        # bytes inside its shard) before the full tensor is allocated.
        parts = self.slice_entries(name)
        for box, se in parts:
            self._check_slice_bytes(name, box, se, dtype)
        out = np.empty(shape, dtype.numpy) if dtype.enum != _dt.DT_STRING else np.empty(shape, object)
        for box, se in parts:
            label = self._slice_label(name, box)
            sshape = tuple(b - a for a, b in box)
            out[tuple(slice(a, b) for a, b in box)] = self._read_entry(se, label, dtype, sshape, verify)
        return out

    @staticmethod
    def _slice_label(name: str, box) -> str:
        return f"{name}[{', '.join(f'{a}:{b}' for a, b in box)}]"

    def _check_slice_bytes(self, name: str, box, se, dtype: _dt.DType) -> None:
        label = self._slice_label(name, box)
        n = _num_elements(b - a for a, b in box)
        if dtype.enum != _dt.DT_STRING and dtype.numpy_name is not None and se.size != n * dtype.itemsize:
            raise DataLossError(
                f"slice entry holds {se.size} bytes but needs {n * dtype.itemsize}", path=self.index_file, entry=label
            )
        if dtype.enum == _dt.DT_STRING and n > se.size:
            raise DataLossError(f"string slice of {n} elements cannot fit in {se.size} bytes", path=self.index_file, entry=label)
        if dtype.enum == _dt.DT_VARIANT and 5 * n > se.size:
            raise DataLossError(f"variant slice of {n} elements cannot fit in {se.size} bytes", path=self.index_file, entry=label)
        self._span(se, label)

    def slice_entries(self, name: str):
        """``[(box, entry_proto)]`` of a partitioned tensor (``[]`` if not partitioned).

        ``box`` is ``[(start, stop)]`` per dimension.  Raises DataLossError
        unless the slices lie inside the shape and tile it exactly (no
        overlap, no gap) and each has an entry of the right dtype and shape.
        """
        e = self._entry(name)
        shape = array_shape(e.shape, path=self.index_file, entry=name)
        result = []
        for sp in e.slices:
            extents = _slices.extents_from_proto(sp)
            try:
                box = _slices.check_extents(extents, shape)
            except ValueError as exc:
                raise DataLossError(
                    f"bad slice {_slices.format_extents(extents)}: {exc}", path=self.index_file, entry=name
                ) from None
            label = self._slice_label(name, box)
            raw = self._raw.get(_slices.encode_tensor_name_slice(name, extents))
            if raw is None:
                raise DataLossError("the data of a slice is missing from the index", path=self.index_file, entry=label)
            se = self._parse_entry(raw, label)
            if se.dtype != e.dtype:
                raise DataLossError("slice dtype differs from its tensor's", path=self.index_file, entry=label)
            if len(se.slices):
                raise DataLossError("a slice entry is itself partitioned", path=self.index_file, entry=label)
            sshape = shape_of(se.shape, path=self.index_file, entry=label)
            want = tuple(b - a for a, b in box)
            if sshape != want:
                raise DataLossError(
                    f"slice entry has shape {list(sshape)}, expected {list(want)}", path=self.index_file, entry=label
                )
            result.append((box, se))
        if not result:
            return result
        try:
            _slices.check_tiling([box for box, _ in result], shape)
        except ValueError as exc:
            raise DataLossError(str(exc), path=self.index_file, entry=name) from None
        return result

    def view(self, name: str, *, verify: bool = False) -> np.ndarray:
        """A read-only, zero-copy array over the mapped data shard.

        Only for unpartitioned numeric tensors stored in this machine's byte
        order in a memory-mapped (local) shard.
        """
        e = self._entry(name)
        dtype = self._dtype(e, name)
        shape = array_shape(e.shape, path=self.index_file, entry=name)
        if len(e.slices) or dtype.numpy_name is None or dtype.enum == _dt.DT_STRING:
            raise UnsupportedError("zero-copy views need an unpartitioned numeric tensor", path=self.prefix, entry=name)
        expected = _num_elements(shape) * dtype.itemsize
        if e.size != expected:
            raise DataLossError(f"entry holds {e.size} bytes, expected {expected}", path=self.index_file, entry=name)
        if expected == 0:
            return np.empty(shape, dtype.numpy)
        src, offset, size = self._span(e, name)
        if not src.zero_copy or (self.endianness == BIG) != (np.little_endian is False):
            raise UnsupportedError("zero-copy views need a local shard in native byte order", path=src.name, entry=name)
        mv = src.read(offset, size)
        if verify:
            self._check_crc(e, _crc.value(mv), name, src.name)
        arr = np.frombuffer(mv, dtype.numpy).reshape(shape)
        arr.flags.writeable = False
        return arr

    def read_rows(self, name: str, start: int, stop: int, *, verify: bool = True) -> np.ndarray:
        """Rows ``[start, stop)`` along axis 0, reading only their bytes.

        No CRC check is possible on a partial read of a numeric tensor (the
        CRC covers the whole tensor).  String and variant tensors are read
        whole (their lengths come first), and checked when ``verify``.
        """
        e = self._entry(name)
        dtype = self._dtype(e, name)
        shape = array_shape(e.shape, path=self.index_file, entry=name)
        if not shape:
            raise UnsupportedError("a scalar has no rows", path=self.prefix, entry=name)
        start = max(0, min(start, shape[0]))
        stop = max(start, min(stop, shape[0]))
        out_shape = (stop - start,) + tuple(shape[1:])
        if len(e.slices):
            parts = self.slice_entries(name)
            for box, se in parts:  # the slices holding these rows are backed by their shards
                if max(box[0][0], start) < min(box[0][1], stop):
                    self._check_slice_bytes(name, box, se, dtype)
            out = np.empty(out_shape, dtype.numpy if dtype.enum != _dt.DT_STRING else object)
            for box, se in parts:
                (a, b) = box[0]
                lo, hi = max(a, start), min(b, stop)
                if lo >= hi:
                    continue
                label = self._slice_label(name, box)
                sshape = tuple(y - x for x, y in box)
                part = self._rows_of_entry(se, label, dtype, sshape, lo - a, hi - a, verify)
                idx = (slice(lo - start, hi - start),) + tuple(slice(x, y) for x, y in box[1:])
                out[idx] = part
            return out
        return self._rows_of_entry(e, name, dtype, shape, start, stop, verify)

    def _rows_of_entry(self, e, name, dtype, shape, start, stop, verify: bool = True) -> np.ndarray:
        if dtype.enum == _dt.DT_STRING or dtype.numpy_name is None:
            return self._read_entry(e, name, dtype, shape, verify)[start:stop]
        row = _num_elements(shape[1:]) * dtype.itemsize
        expected = _num_elements(shape) * dtype.itemsize
        if e.size != expected:
            raise DataLossError(f"entry holds {e.size} bytes, expected {expected}", path=self.index_file, entry=name)
        if expected:  # the entry lies inside its shard before anything is allocated
            src, offset, _ = self._span(e, name)
        out = np.empty((stop - start,) + tuple(shape[1:]), dtype.numpy)
        nbytes = (stop - start) * row
        if nbytes:
            src.readinto(offset + start * row, out.reshape(-1).view(np.uint8))
        if self.endianness == BIG and dtype.numpy.itemsize > 1:
            out = self._from_big_endian(out, dtype.numpy)
        return out

    def close(self) -> None:
        for s in self._shards.values():
            s.close()
        self._shards.clear()
        self._index_source.close()


def is_bundle_prefix(prefix: str) -> bool:
    if is_remote(prefix):
        from .._io import remote

        return remote.exists(index_path(prefix))
    return os.path.isfile(index_path(prefix))
