"""Writing V2 checkpoints (tensor bundles) that TensorFlow reads.

A bundle is ``PREFIX.index`` (a table, see :mod:`tfformats._io.table_writer`)
plus data shards ``PREFIX.data-SSSSS-of-NNNNN``.  Each tensor's bytes go to
one shard; the index maps its name to a ``BundleEntryProto``::

    ""      -> BundleHeaderProto {num_shards, endianness (LITTLE = 0 is not
               stored), version {producer: 1}}
    name    -> BundleEntryProto {dtype, shape, shard_id, offset, size,
               crc32c = mask(crc32c(bytes as stored))}

Numeric tensors are their raw row-major bytes in the bundle's byte order.
String tensors are stored as::

    varint64 len[0..n-1] | u32 mask(C_len) | bytes[0] ... bytes[n-1]

with ``C_len`` the CRC32C of each length as a u32 (a u64 when it does not
fit) and the entry CRC continuing from ``C_len`` over the 4 checksum bytes and
then the string bytes.  (In a big-endian bundle those u32/u64 values and the
checksum are big-endian; the varints are not affected.)

A partitioned tensor is a *full entry* (dtype, full shape, ``slices``; no
bytes) plus one ordinary entry per slice under
``encode_tensor_name_slice(name, extents)``.  TensorFlow stores each extent
with its real length, as done here.

Writes are atomic: every file is written under a temporary name next to its
final one (``.tempstate<random>``, TensorFlow's suffix) and renamed into place
at the end, data shards first and the index last (an older index under the
same prefix is removed before the shards are renamed), so a crash never
leaves a readable but half-written checkpoint.  Temporary files are removed
on error.
"""

from __future__ import annotations

import os
import re
import secrets
import struct
from collections.abc import Mapping
from typing import Iterable, Sequence

import numpy as np

from .. import dtypes as _dt
from .._io import crc as _crc
from .._io import varint as _varint
from .._io.table_writer import TableBuilder
from ..errors import InvalidArgumentError, TFFormatsError, UnsupportedError
from . import slices as _slices
from .bundle import BIG, LITTLE, data_path, index_path

CHUNK = 1 << 20  # bytes checksummed then written at a time (still cache-hot for the write)
WRITE_BUFFER = 256 << 10  # buffers small tensors; whole chunks (CHUNK > WRITE_BUFFER) bypass it
BUNDLE_VERSION = 1  # kTensorBundleVersion: the producer TensorFlow writes

_TEMP_SUFFIX = ".tempstate"
_STRING_ITEM_TYPES = (bytes, str, bytearray, memoryview, np.bytes_, np.str_)


def _pb():
    from ..proto import pb

    return pb


# -- argument checks -----------------------------------------------------------


def _check_name(name) -> bytes:
    if not isinstance(name, str):
        raise InvalidArgumentError(f"tensor names must be str, not {type(name).__name__}")
    if not name:
        raise InvalidArgumentError("tensor names cannot be empty (the empty key holds the bundle header)")
    if name.startswith("\x00"):
        raise InvalidArgumentError("tensor names cannot start with '\\x00' (reserved for slice keys)", entry=name)
    try:
        return name.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raise InvalidArgumentError("tensor name is not encodable as UTF-8", entry=name) from None


def _parse_endianness(endianness) -> int:
    if endianness in ("little", "<", LITTLE):
        return LITTLE
    if endianness in ("big", ">", BIG):
        return BIG
    raise InvalidArgumentError(f"endianness must be 'little' or 'big', not {endianness!r}")


def _resolve_dtype(dtype, name: str) -> _dt.DType:
    try:
        d = _dt.as_dtype(dtype)
    except TFFormatsError as exc:
        raise InvalidArgumentError(f"unsupported dtype {dtype!r}: {exc.message}", entry=name) from None
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"unknown dtype {dtype!r}", entry=name) from None
    if d.enum in (_dt.DT_RESOURCE, _dt.DT_VARIANT):
        raise UnsupportedError(f"writing {d.name} tensors is not supported", entry=name)
    return d


def _as_strings(arr: np.ndarray, name: str) -> list[bytes]:
    """The elements of a string-like array as bytes (str is UTF-8 encoded)."""
    items = arr.reshape(-1).tolist()
    out = []
    for x in items:
        if isinstance(x, bytes):
            out.append(x)
        elif isinstance(x, str):
            try:
                out.append(x.encode("utf-8"))
            except UnicodeEncodeError:
                raise InvalidArgumentError("a string element is not encodable as UTF-8", entry=name) from None
        elif isinstance(x, (bytearray, memoryview)):
            out.append(bytes(x))
        else:
            raise InvalidArgumentError(
                f"a string tensor holds a {type(x).__name__} element (only bytes and str are allowed)", entry=name
            )
    return out


def prepare(value, dtype=None, name: str = "") -> tuple[_dt.DType, np.ndarray]:
    """``(DType, array)`` for a value to be written.

    Numeric arrays come back C-contiguous in native byte order; string tensors
    as an object array of ``bytes``.  ``dtype`` (a TF name such as
    ``"qint8"``, a DType, an enum number or a numpy dtype) overrides the
    array's own: quantized types reinterpret their base integer type, other
    numeric types are converted with ``astype``.
    """
    if type(value) is np.ndarray:
        arr = value
    else:  # lists, scalars, subclasses such as np.matrix, anything with __array__
        try:
            arr = np.asarray(value)
        except (TypeError, ValueError) as exc:  # ragged lists and other things numpy refuses
            raise InvalidArgumentError(f"cannot convert the value to an array: {exc}", entry=name) from None
    target = _resolve_dtype(dtype, name) if dtype is not None else None
    kind = arr.dtype.kind
    if kind in "OSU":
        if target is not None and not target.is_string:
            if kind == "O":
                raise InvalidArgumentError(f"an object array cannot be written as {target.name}", entry=name)
            raise InvalidArgumentError(f"a string array cannot be written as {target.name}", entry=name)
        out = np.empty(arr.shape, dtype=object)
        items = _as_strings(arr, name)
        if items:
            out.reshape(-1)[:] = items
        return _dt.BY_ENUM[_dt.DT_STRING], out
    if target is not None and target.is_string:
        raise InvalidArgumentError(f"a {arr.dtype} array cannot be written as a string tensor", entry=name)
    if arr.dtype.byteorder not in ("=", "|"):
        arr = arr.astype(arr.dtype.newbyteorder("="))
    if target is None:
        try:
            target = _dt.from_numpy(arr.dtype)
        except TFFormatsError:
            raise InvalidArgumentError(f"numpy dtype {arr.dtype} has no TensorFlow equivalent", entry=name) from None
    want = target.numpy
    if arr.dtype != want:
        if arr.dtype.itemsize == want.itemsize and target.name.startswith("q") and arr.dtype.kind in "iu":
            arr = arr.view(want)  # quantized types share their base type's bits
        else:
            try:
                arr = arr.astype(want)
            except (TypeError, ValueError) as exc:
                raise InvalidArgumentError(f"cannot convert {arr.dtype} to {target.name}: {exc}", entry=name) from None
    if not arr.flags.c_contiguous:
        arr = arr.copy(order="C")  # (np.ascontiguousarray would turn a scalar into shape (1,))
    return target, arr


def _shape_proto(entry, shape) -> None:
    entry.shape.SetInParent()  # TensorFlow always writes the shape, even for scalars
    for d in shape:
        entry.shape.dim.add(size=int(d))


def _encode_varints(lengths: np.ndarray) -> bytes:
    if not len(lengths) or int(lengths.max()) < 0x80:
        return lengths.astype(np.uint8).tobytes()
    enc = _varint.encode
    return b"".join(enc(x) for x in lengths.tolist())


def _nbytes_estimate(value) -> int:
    nbytes = getattr(value, "nbytes", None)
    if isinstance(nbytes, (int, np.integer)):
        return int(nbytes)
    try:
        return int(np.asarray(value).nbytes)
    except Exception:
        return 0


def _check_num_shards(num_shards) -> None:
    if not isinstance(num_shards, (int, np.integer)) or isinstance(num_shards, bool) or not 1 <= num_shards <= 99999:
        raise InvalidArgumentError(f"num_shards must be an int from 1 to 99999, not {num_shards!r}")


# -- the writer ----------------------------------------------------------------


class _Shard:
    __slots__ = ("index", "temp", "file", "size", "final")

    def __init__(self, index: int, temp: str) -> None:
        self.index = index
        self.temp = temp
        self.file = None
        self.size = 0
        self.final: str | None = None


class _Partitioned:
    __slots__ = ("dtype", "shape", "extents")

    def __init__(self, dtype: _dt.DType, shape: tuple[int, ...]) -> None:
        self.dtype = dtype
        self.shape = shape
        self.extents: list[list[tuple[int, int]]] = []


class CheckpointWriter:
    """Stream tensors into a V2 checkpoint, one at a time.

    ::

        with tfformats.CheckpointWriter("out/model.ckpt") as w:
            w.add("dense/kernel", kernel)
            w.add("dense/bias", bias)
        # out/model.ckpt.index and out/model.ckpt.data-00000-of-00001 exist now

    Each tensor's bytes are written to its shard file as it is added; only the
    small index entries are kept until :meth:`close`, so memory stays at
    about one tensor.  Nothing appears under the final names until
    :meth:`close` succeeds (the ``with`` block ends without an exception);
    on error, or on :meth:`abort`, the temporary files are removed.

    Parameters:
        prefix: the checkpoint prefix (a path without ``.index``); missing
            parent directories are created.
        num_shards: number of data files.  A tensor goes to the shard given to
            :meth:`add`, or else to the shard with the fewest bytes so far.
        max_shard_size: instead of ``num_shards``, start a new data file when
            the next tensor would push the current one past this many bytes
            (a tensor bigger than the limit gets a file of its own; tensors
            are never split).
        endianness: ``"little"`` (what TensorFlow writes on every common
            machine) or ``"big"``.
        alignment: pad each tensor's bytes with zeros to a multiple of this
            (TensorFlow's ``data_alignment``; 1 = no padding).
        index_compression: ``None`` (as TensorFlow writes) or ``"snappy"``.
        sync: ``fsync`` the files and the directory before and after the
            renames, for durability across power loss (off by default, like
            TensorFlow).
    """

    def __init__(
        self,
        prefix,
        *,
        num_shards: int = 1,
        max_shard_size: int | None = None,
        endianness: str = "little",
        alignment: int = 1,
        index_compression: str | None = None,
        sync: bool = False,
    ) -> None:
        prefix = os.fspath(prefix)
        if isinstance(prefix, bytes):
            prefix = os.fsdecode(prefix)
        if not prefix or prefix.endswith(("/", os.sep)):
            raise InvalidArgumentError(f"a checkpoint prefix needs a file name part, not {prefix!r}")
        _check_num_shards(num_shards)
        if max_shard_size is not None:
            if num_shards != 1:
                raise InvalidArgumentError("give num_shards or max_shard_size, not both")
            if not isinstance(max_shard_size, (int, np.integer)) or max_shard_size < 1:
                raise InvalidArgumentError(f"max_shard_size must be a positive int, not {max_shard_size!r}")
        if not isinstance(alignment, (int, np.integer)) or alignment < 1:
            raise InvalidArgumentError(f"alignment must be a positive int, not {alignment!r}")
        if index_compression not in (None, "none", "snappy"):
            raise InvalidArgumentError(f"index_compression must be None or 'snappy', not {index_compression!r}")
        self.prefix = prefix
        self.endianness = _parse_endianness(endianness)
        self.alignment = int(alignment)
        self.max_shard_size = None if max_shard_size is None else int(max_shard_size)
        self.index_compression = None if index_compression == "none" else index_compression
        self.sync = sync
        self._token = secrets.token_hex(8)
        self._fixed_shards = int(num_shards)
        self._shards: list[_Shard] = []
        for i in range(self._fixed_shards):
            self._shards.append(self._new_shard(i))
        self._entries: dict[bytes, bytes] = {}
        self._partitioned: dict[bytes, _Partitioned] = {}
        self._slice_keys: set[bytes] = set()
        self._state = "open"
        self._index_temp = f"{index_path(prefix)}{_TEMP_SUFFIX}{self._token}"
        self._renamed: list[str] = []
        parent = os.path.dirname(prefix)
        if parent:
            try:
                os.makedirs(parent, exist_ok=True)
            except OSError as exc:
                raise TFFormatsError(f"cannot create the checkpoint directory: {exc.strerror or exc}", path=parent) from None

    # -- bookkeeping -----------------------------------------------------------
    def _new_shard(self, i: int) -> _Shard:
        return _Shard(i, f"{self.prefix}.data-{i:05d}{_TEMP_SUFFIX}{self._token}")

    def _open(self, shard: _Shard):
        if shard.file is None:
            try:
                shard.file = open(shard.temp, "wb", buffering=WRITE_BUFFER)
            except OSError as exc:
                raise TFFormatsError(f"cannot create a data file: {exc.strerror or exc}", path=shard.temp) from None
        return shard.file

    def _check_open(self) -> None:
        if self._state != "open":
            raise InvalidArgumentError(f"the checkpoint writer is {self._state}", path=self.prefix)

    @property
    def num_shards(self) -> int:
        return len(self._shards)

    @property
    def nbytes(self) -> int:
        """Bytes written to data files so far."""
        return sum(s.size for s in self._shards)

    def __len__(self) -> int:
        """Number of tensors added so far (a partitioned tensor counts once)."""
        return len(self._entries) - len(self._slice_keys) + len(self._partitioned)

    def __bool__(self) -> bool:  # a writer is truthy even before its first tensor
        return True

    def _pick_shard(self, shard, nbytes: int, name: str) -> _Shard:
        if shard is not None:
            if self.max_shard_size is not None:
                raise InvalidArgumentError("an explicit shard needs num_shards, not max_shard_size", entry=name)
            if not isinstance(shard, (int, np.integer)) or not 0 <= shard < self._fixed_shards:
                raise InvalidArgumentError(f"shard must be in [0, {self._fixed_shards}), not {shard!r}", entry=name)
            return self._shards[int(shard)]
        if self.max_shard_size is not None:
            if not self._shards:
                self._shards.append(self._new_shard(0))
            cur = self._shards[-1]
            if cur.size and cur.size + nbytes > self.max_shard_size:
                cur = self._new_shard(len(self._shards))
                self._shards.append(cur)
            return cur
        return min(self._shards, key=lambda s: s.size)

    # -- adding tensors ----------------------------------------------------------
    def add(self, name: str, value, *, dtype=None, shard: int | None = None) -> None:
        """Write one tensor (a numpy array or anything ``numpy.asarray`` takes).

        Strings are object arrays of ``bytes``/``str`` (str is UTF-8 encoded),
        or numpy ``S``/``U`` arrays.  ``dtype`` overrides the array's dtype
        (e.g. ``"qint8"`` for int8 data, ``"bfloat16"`` converts floats).
        """
        self._check_open()
        key = _check_name(name)
        if key in self._entries or key in self._partitioned:
            raise InvalidArgumentError("a tensor with this name was already added", entry=name)
        dt, arr = prepare(value, dtype, name)
        self._write_entry(key, name, dt, arr, shard)

    def add_slice(self, name: str, value, *, full_shape: Sequence[int], start: Sequence[int], dtype=None,
                  shard: int | None = None) -> None:
        """Write one slice (part) of a partitioned tensor.

        ``full_shape`` is the whole tensor's shape, ``start`` the slice's
        offset in each dimension; the slice's extent is ``value.shape``.  The
        slices of one tensor must not overlap and, by :meth:`close`, must
        cover it.  A slice covering the whole tensor is written as an ordinary
        tensor, as TensorFlow does.
        """
        self._check_open()
        key = _check_name(name)
        if key in self._entries:
            raise InvalidArgumentError("a tensor with this name was already added", entry=name)
        dt, arr = prepare(value, dtype, name)
        try:
            full = tuple(int(d) for d in full_shape)
            begin = tuple(int(s) for s in start)
        except (TypeError, ValueError):
            raise InvalidArgumentError("full_shape and start must be sequences of ints", entry=name) from None
        if len(full) != arr.ndim or len(begin) != arr.ndim:
            raise InvalidArgumentError(
                f"a slice of rank {arr.ndim} needs full_shape and start of that rank "
                f"(got {list(full)} and {list(begin)})",
                entry=name,
            )
        for b, n, d in zip(begin, arr.shape, full):
            if d < 0 or b < 0 or b + n > d:
                raise InvalidArgumentError(
                    f"slice at {list(begin)} of shape {list(arr.shape)} is outside the full shape {list(full)}",
                    entry=name,
                )
        part = self._partitioned.get(key)
        if part is None and begin == (0,) * len(begin) and tuple(arr.shape) == full:
            self._write_entry(key, name, dt, arr, shard)
            return
        if any(n == 0 for n in arr.shape):
            raise InvalidArgumentError("a slice of a partitioned tensor cannot be empty", entry=name)
        if part is None:
            part = self._partitioned[key] = _Partitioned(dt, full)
        elif part.dtype != dt or part.shape != full:
            raise InvalidArgumentError(
                f"slice of dtype {dt.name} and full shape {list(full)} does not match earlier slices "
                f"({part.dtype.name}, {list(part.shape)})",
                entry=name,
            )
        extents = [(b, n) for b, n in zip(begin, arr.shape)]
        skey = _slices.encode_tensor_name_slice(key, extents)
        if skey in self._entries:
            raise InvalidArgumentError(f"slice {_slices.format_extents(extents)} was already added", entry=name)
        self._write_entry(skey, f"{name}[{_slices.format_extents(extents)}]", dt, arr, shard)
        part.extents.append(extents)
        self._slice_keys.add(skey)

    def _write_entry(self, key: bytes, label: str, dt: _dt.DType, arr: np.ndarray, shard) -> None:
        if dt.is_string:
            items = arr.reshape(-1).tolist()
            nbytes = sum(len(x) for x in items) + len(items) + 4
        else:
            items = None
            nbytes = arr.nbytes
        target = self._pick_shard(shard, nbytes, label)
        f = self._open(target)
        entry = _pb().BundleEntryProto()
        entry.dtype = dt.enum
        _shape_proto(entry, arr.shape)
        entry.shard_id = target.index
        entry.offset = target.size
        try:
            if items is not None:
                size, crc = self._write_strings(f, items)
            else:
                size, crc = self._write_numeric(f, arr)
            target.size += size
            if self.alignment > 1 and target.size % self.alignment:
                pad = self.alignment - target.size % self.alignment
                f.write(bytes(pad))
                target.size += pad
        except OSError as exc:
            self.abort()
            raise TFFormatsError(f"cannot write tensor data: {exc.strerror or exc}", path=target.temp, entry=label) from None
        entry.size = size
        entry.crc32c = _crc.mask(crc)
        self._entries[key] = entry.SerializeToString()

    def _write_numeric(self, f, arr: np.ndarray) -> tuple[int, int]:
        flat = arr.reshape(-1).view(np.uint8)
        size = flat.nbytes
        itemsize = arr.dtype.itemsize
        swap = self.endianness == BIG and itemsize > 1
        if swap:
            # complex numbers swap each of their two float halves
            unit = np.dtype(f"u{itemsize // 2 if arr.dtype.kind == 'c' else itemsize}")
            step = CHUNK - CHUNK % itemsize
        else:
            step = CHUNK
        running = 0
        mv = memoryview(flat)
        for lo in range(0, size, step):
            chunk = mv[lo : lo + step]
            if swap:
                chunk = memoryview(np.frombuffer(chunk, unit).byteswap()).cast("B")
            running = _crc.extend(running, chunk)
            f.write(chunk)
        return size, running

    def _write_strings(self, f, items: list) -> tuple[int, int]:
        big = self.endianness == BIG
        lengths = np.fromiter((len(x) for x in items), dtype=np.uint64, count=len(items))
        if not len(lengths) or int(lengths.max()) <= 0xFFFFFFFF:
            len_bytes = lengths.astype(">u4" if big else "<u4").tobytes()
        else:
            fmt = ">" if big else "<"
            len_bytes = b"".join(struct.pack(fmt + ("I" if x <= 0xFFFFFFFF else "Q"), x) for x in lengths.tolist())
        c_len = _crc.value(len_bytes)
        checksum = struct.pack(">I" if big else "<I", _crc.mask(c_len))
        head = _encode_varints(lengths) + checksum
        f.write(head)
        running = _crc.extend(c_len, checksum)
        size = len(head)
        batch: list[bytes] = []
        pending = 0
        for x in items:
            batch.append(x)
            pending += len(x)
            if pending >= CHUNK:
                data = b"".join(batch)
                running = _crc.extend(running, data)
                f.write(data)
                size += len(data)
                batch, pending = [], 0
        if batch:
            data = b"".join(batch)
            running = _crc.extend(running, data)
            f.write(data)
            size += len(data)
        return size, running

    # -- finishing -------------------------------------------------------------
    def _check_partitions(self) -> None:
        for key, part in self._partitioned.items():
            name = key.decode("utf-8", "surrogateescape")
            boxes = [[(b, b + n) for b, n in ext] for ext in part.extents]
            for i in range(len(boxes)):
                for j in range(i):
                    if all(a0 < b1 and b0 < a1 for (a0, a1), (b0, b1) in zip(boxes[i], boxes[j])):
                        raise InvalidArgumentError(
                            f"slices {_slices.format_extents(part.extents[j])} and "
                            f"{_slices.format_extents(part.extents[i])} overlap",
                            entry=name,
                        )
            covered = sum(int(np.prod([n for _, n in ext], dtype=object)) for ext in part.extents)
            total = int(np.prod(part.shape, dtype=object))
            if covered != total:
                raise InvalidArgumentError(
                    f"the slices cover {covered} of the {total} elements of shape {list(part.shape)}", entry=name
                )

    def _full_entries(self) -> dict[bytes, bytes]:
        out = {}
        for key, part in self._partitioned.items():
            entry = _pb().BundleEntryProto()
            entry.dtype = part.dtype.enum
            _shape_proto(entry, part.shape)
            for ext in part.extents:
                sp = entry.slices.add()
                for b, n in ext:
                    sp.extent.add(start=b, length=n)
            out[key] = entry.SerializeToString()
        return out

    def _header(self) -> bytes:
        h = _pb().BundleHeaderProto()
        h.num_shards = len(self._shards)
        h.endianness = self.endianness
        h.version.producer = BUNDLE_VERSION
        return h.SerializeToString()

    def close(self) -> str:
        """Finish the checkpoint and move it into place; returns the prefix."""
        if self._state == "closed":
            return self.prefix
        self._check_open()
        try:
            self._check_partitions()
            if not self._shards:  # max_shard_size mode with no tensors at all
                self._shards.append(self._new_shard(0))
            n = len(self._shards)
            for s in self._shards:
                f = self._open(s)
                f.flush()
                if self.sync:
                    os.fsync(f.fileno())
                f.close()
                s.file = None
                s.final = data_path(self.prefix, s.index, n)
            items = dict(self._entries)
            items.update(self._full_entries())
            with open(self._index_temp, "wb") as f:
                builder = TableBuilder(f, compression=self.index_compression)
                builder.add(b"", self._header())
                for key in sorted(items):
                    builder.add(key, items[key])
                builder.finish()
                f.flush()
                if self.sync:
                    os.fsync(f.fileno())
            final_index = index_path(self.prefix)
            if os.path.lexists(final_index):
                os.remove(final_index)  # never leave an old index over new data
            for s in self._shards:
                os.replace(s.temp, s.final)
                self._renamed.append(s.final)
            os.replace(self._index_temp, final_index)
            self._renamed.append(final_index)
            if self.sync:
                _fsync_dir(os.path.dirname(self.prefix) or ".")
        except OSError as exc:
            self.abort()
            raise TFFormatsError(f"cannot write the checkpoint: {exc.strerror or exc}", path=getattr(exc, "filename", None) or self.prefix) from None
        except BaseException:
            self.abort()
            raise
        self._state = "closed"
        self._remove_stale_shards()
        return self.prefix

    finish = close

    def _remove_stale_shards(self) -> None:
        """Delete data files of an older checkpoint under this prefix with another shard count."""
        directory = os.path.dirname(self.prefix) or "."
        base = os.path.basename(self.prefix)
        pattern = re.compile(re.escape(base) + r"\.data-\d{5}-of-(\d{5})")
        n = len(self._shards)
        try:
            names = os.listdir(directory)
        except OSError:
            return
        for fname in names:
            m = pattern.fullmatch(fname)
            if m and int(m.group(1)) != n:
                try:
                    os.remove(os.path.join(directory, fname))
                except OSError:
                    pass

    def abort(self) -> None:
        """Stop writing and remove every file written so far."""
        if self._state != "open":
            return
        self._state = "aborted"
        for s in self._shards:
            if s.file is not None:
                try:
                    s.file.close()
                except OSError:
                    pass
                s.file = None
        for path in [s.temp for s in self._shards] + [self._index_temp] + self._renamed:
            try:
                os.remove(path)
            except OSError:
                pass

    def __enter__(self) -> "CheckpointWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def __del__(self) -> None:
        if getattr(self, "_state", None) == "open":
            try:
                self.abort()
            except Exception:
                pass

    def __repr__(self) -> str:
        return (
            f"<tfformats CheckpointWriter {self.prefix!r}: {len(self)} tensors, {self.nbytes} bytes, "
            f"{self.num_shards} shard{'s' if self.num_shards != 1 else ''}, {self._state}>"
        )


def _fsync_dir(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# -- one-call save ---------------------------------------------------------------


def partition_sizes(dim: int, parts: int | Sequence[int], name: str = "") -> list[int]:
    """Row counts of a tensor with ``dim`` rows split into ``parts``.

    An int splits like ``tf.compat.v1.fixed_size_partitioner``: the first
    ``dim % parts`` parts get one extra row.  A sequence gives the counts.
    """
    if isinstance(parts, (int, np.integer)) and not isinstance(parts, bool):
        n = int(parts)
        if not 1 <= n <= max(dim, 1):
            raise InvalidArgumentError(f"cannot split {dim} rows into {n} parts", entry=name)
        return [dim // n + (1 if i < dim % n else 0) for i in range(n)]
    try:
        sizes = [int(x) for x in parts]
    except (TypeError, ValueError):
        raise InvalidArgumentError("partitions are an int or a sequence of row counts", entry=name) from None
    if not sizes or any(x <= 0 for x in sizes) or sum(sizes) != dim:
        raise InvalidArgumentError(f"row counts {sizes} do not split {dim} rows into non-empty parts", entry=name)
    return sizes


def save_checkpoint(
    prefix,
    tensors: Mapping,
    *,
    num_shards: int = 1,
    max_shard_size: int | None = None,
    partitions: Mapping[str, int | Sequence[int]] | None = None,
    dtypes: Mapping[str, object] | None = None,
    endianness: str = "little",
    alignment: int = 1,
    index_compression: str | None = None,
    sync: bool = False,
) -> str:
    """Write ``{name: array}`` as a V2 checkpoint at ``prefix``; returns the prefix.

    Tensors are written in name order.  ``num_shards > 1`` spreads them over
    that many data files, biggest first onto the least-filled file;
    ``max_shard_size`` instead fills files in name order up to that many
    bytes.  ``partitions={"emb": 4}`` stores ``emb`` as a partitioned variable
    of 4 slices along its first axis (split like
    ``tf.compat.v1.fixed_size_partitioner``; a list gives the row counts),
    the way TF1 saves a partitioned variable.  ``dtypes`` overrides the dtype
    of some tensors (``{"q": "qint8"}``).  Other options are those of
    :class:`CheckpointWriter`.  ``tensors`` may be any mapping, e.g. a
    :class:`~tfformats.CheckpointReader` to copy or re-shard a checkpoint.
    """
    if not isinstance(tensors, Mapping):
        raise InvalidArgumentError(f"tensors must be a mapping of names to arrays, not {type(tensors).__name__}")
    _check_num_shards(num_shards)
    partitions = dict(partitions or {})
    dtypes = dict(dtypes or {})
    names = list(tensors.keys())
    for name in names:
        _check_name(name)
    for extra, what in ((partitions, "partitions"), (dtypes, "dtypes")):
        unknown = sorted(set(extra) - set(names), key=str)
        if unknown:
            raise InvalidArgumentError(f"{what} names tensors that are not being saved: {unknown}")
    names.sort()

    # Plan shards: one unit per tensor, or per slice of a partitioned tensor.
    plan: dict[tuple[str, int], int] = {}
    if num_shards > 1:
        units = []
        for name in names:
            nb = _nbytes(tensors, name)
            parts = partitions.get(name)
            if parts is None:
                units.append((nb, name, -1))
            else:
                rows = _rows(tensors[name], name)
                sizes = partition_sizes(rows, parts, name)
                for i, r in enumerate(sizes):
                    units.append((nb * r // max(rows, 1), name, i))
        load = [0] * int(num_shards)
        for nb, name, i in sorted(units, key=lambda u: (-u[0], u[1], u[2])):
            k = min(range(len(load)), key=load.__getitem__)
            plan[(name, i)] = k
            load[k] += nb

    writer = CheckpointWriter(
        prefix,
        num_shards=num_shards,
        max_shard_size=max_shard_size,
        endianness=endianness,
        alignment=alignment,
        index_compression=index_compression,
        sync=sync,
    )
    with writer:
        for name in names:
            value = tensors[name]
            dtype = dtypes.get(name)
            parts = partitions.get(name)
            if parts is None:
                writer.add(name, value, dtype=dtype, shard=plan.get((name, -1)))
                continue
            dt, arr = prepare(value, dtype, name)
            if arr.ndim == 0:
                raise InvalidArgumentError("a scalar cannot be partitioned", entry=name)
            begin = 0
            for i, r in enumerate(partition_sizes(arr.shape[0], parts, name)):
                start = (begin,) + (0,) * (arr.ndim - 1)
                writer.add_slice(name, arr[begin : begin + r], full_shape=arr.shape, start=start, dtype=dt,
                                 shard=plan.get((name, i)))
                begin += r
    return writer.prefix


def _nbytes(tensors: Mapping, name: str) -> int:
    nb = getattr(tensors, "nbytes", None)
    if callable(nb):  # a CheckpointReader: sizes without reading the data
        try:
            return int(nb(name))
        except Exception:
            pass
    return _nbytes_estimate(tensors[name])


def _rows(value, name: str) -> int:
    shape = getattr(value, "shape", None)
    if shape is None:
        shape = np.shape(value)
    if not len(shape):
        raise InvalidArgumentError("a scalar cannot be partitioned", entry=name)
    return int(shape[0])


def write_items(prefix, items: Iterable[tuple[str, object]], **options) -> str:
    """Stream ``(name, array)`` pairs into a checkpoint (generators welcome)."""
    with CheckpointWriter(prefix, **options) as w:
        for name, value in items:
            w.add(name, value)
    return w.prefix
