"""The files tf.data writes for ``Dataset.save`` and ``snapshot``: their framing, below the element
structure (which :mod:`tfformats.dataset` handles).

Format 2 (what TF 2.4 to 2.21 write): a shard file is a TFRecord file, one
serialized ``TensorProto`` per flat component, element after element.
Format 0/1 (the first snapshot op): records framed by an 8-byte little-endian
length only, the whole file optionally GZIP-compressed; per element one
``SnapshotRecord``, or with SNAPPY a ``SnapshotTensorMetadata`` record and a
raw snappy block of the component bytes (fixed-size dtypes as raw memory,
the others as serialized ``TensorProto``).

Also here: the folder access :class:`~tfformats.dataset.SavedDataset` uses,
for local folders and fsspec URLs.
"""

from __future__ import annotations

import os
import struct
from functools import lru_cache
from typing import Iterator, Optional

import numpy as np

from .. import dtypes as _dt
from ..errors import DataLossError, NotFoundError, TFFormatsError

_U64 = struct.Struct("<Q")
# How big a metadata or spec file may be before it is refused (TF writes a few hundred bytes).
MAX_METADATA_BYTES = 64 << 20


_LITTLE = np.dtype("<u2").isnative


@lru_cache(maxsize=None)
def plain_numpy(enum: int) -> Optional[np.dtype]:
    """The numpy dtype of a fixed-size TF dtype whose ``tensor_content`` numpy reads as is, else None."""
    d = _dt.BY_ENUM.get(enum)
    if d is None or d.enum in (_dt.DT_STRING, _dt.DT_VARIANT, _dt.DT_RESOURCE) or not d.numpy_name:
        return None
    npdt = d.numpy
    if npdt.itemsize > 1 and npdt.kind in "iufc" and not _LITTLE:
        return None  # big-endian host: the general decoder swaps bytes
    return npdt


def plain_shape(p, npdt: np.dtype) -> Optional[tuple]:
    """The shape of a TensorProto whose ``tensor_content`` holds exactly its elements, else None."""
    ts = p.tensor_shape
    if ts.unknown_rank:
        return None
    shape = tuple([d.size for d in ts.dim])
    if len(shape) > 32:
        return None
    n = 1
    for d in shape:
        if d < 0:
            return None
        n *= d
    return shape if n * npdt.itemsize == len(p.tensor_content) else None


PLAIN_FIELDS = frozenset({"dtype", "tensor_shape", "tensor_content"})


def plain_column(data, starts: np.ndarray, lengths: np.ndarray, enum: int) -> Optional[np.ndarray]:
    """One component of every element of a file read whole, without a message per record.

    When every record is the same bytes but for its ``tensor_content`` (the
    same dtype, shape and content length, which the first record, parsed,
    says are plain), the contents are cut out and joined; else None (the
    caller parses record by record, which also reports what is wrong).
    """
    from ..proto import pb

    npdt = plain_numpy(enum)
    n = len(starts)
    if npdt is None or n == 0:
        return None
    size = int(lengths[0])
    if np.any(lengths != size):
        return None
    s0 = int(starts[0])
    rec0 = bytes(data[s0 : s0 + size])
    try:
        p0 = pb.TensorProto.FromString(rec0)
    except Exception:
        return None
    content = p0.tensor_content
    if p0.dtype != enum or not content or {f.name for f, _ in p0.ListFields()} - PLAIN_FIELDS:
        return None
    shape = plain_shape(p0, npdt)
    h = size - len(content)
    if shape is None or 0 in shape or h <= 0 or rec0[h:] != content or p0.SerializeToString() != rec0:
        return None
    stride = int(starts[1] - starts[0]) if n > 1 else size
    if stride >= size and (n == 1 or np.all(np.diff(starts) == stride)):
        # evenly spaced (every element the same size): strided views over the buffer, no per-record work
        from numpy.lib.stride_tricks import as_strided

        u8 = np.frombuffer(data, np.uint8)
        rows = as_strided(u8[s0:], shape=(n, size), strides=(stride, 1), writeable=False)
        if not np.array_equal(rows[:, :h], np.broadcast_to(np.frombuffer(rec0[:h], np.uint8), (n, h))):
            return None  # some record differs in dtype, shape or layout
        return np.ascontiguousarray(rows[:, h:]).view(npdt).reshape((n, *shape))
    mv = memoryview(data)
    s = starts.tolist()
    mid = (starts + h).tolist()
    e = (starts + size).tolist()
    if b"".join(map(mv.__getitem__, map(slice, s, mid))) != rec0[:h] * n:
        return None  # some record differs in dtype, shape or layout
    joined = b"".join(map(mv.__getitem__, map(slice, mid, e)))
    return np.frombuffer(joined, npdt).reshape((n, *shape)).copy()


def elements_v2(raw, path: str, ncomp: int, verify: bool) -> Iterator[list]:
    """Elements of a version-2 shard file (``raw``, owned): ``ncomp`` TensorProto records each."""
    from .records import RecordIterator
    from ..proto import pb

    parse = pb.TensorProto.FromString
    group: list = []
    index = 0
    try:
        recs = RecordIterator(raw, None, verify=verify, owns_input=True)
    except BaseException:
        raw.close()
        raise
    with recs:
        for rec in recs:
            try:
                group.append(parse(rec))
            except Exception as exc:
                raise DataLossError(
                    f"element {index}, component {len(group)}: not a TensorProto ({exc})", path=path
                ) from None
            if len(group) == ncomp:
                yield group
                group = []
                index += 1
    if group:
        raise DataLossError(
            f"the file ends inside element {index}: {len(group)} of its {ncomp} components are present", path=path
        )


class _ByteStream:
    """Exact reads from a file (``raw``, owned), or from its decompressed GZIP stream."""

    def __init__(self, raw, path: str) -> None:
        from . import records as _rec

        self.path = path
        self._raw = raw
        head = self._raw.pread(0, 2)
        self.gzip = head == b"\x1f\x8b"
        self.pos = 0
        if self.gzip:
            self._state = _rec._StreamState()
            self._chunks = _rec._zlib_chunks(self._raw.chunks(0, 1 << 20), _rec.GZIP, path, 1 << 20, self._state)
            self._buf = b""
            self._bpos = 0

    def close(self) -> None:
        self._raw.close()

    def at_end(self) -> bool:
        if not self.gzip:
            return self.pos >= self._raw.size
        return not self._fill(1)

    def _fill(self, n: int) -> bool:
        """Make ``n`` bytes available in the buffer; False at the stream's end."""
        have = len(self._buf) - self._bpos
        if have >= n:
            return True
        parts = [self._buf[self._bpos :]]
        while have < n:
            chunk = next(self._chunks, None)
            if chunk is None:
                if self._state.error is not None:
                    raise self._state.error
                self._buf, self._bpos = b"".join(parts), 0
                return False
            parts.append(chunk)
            have += len(chunk)
        self._buf, self._bpos = b"".join(parts), 0  # one join per read, however many chunks it takes
        return True

    def read(self, n: int, what: str) -> bytes:
        if not self.gzip:
            if n > self._raw.size - self.pos:
                raise DataLossError(
                    f"{what}: {n} bytes claimed, {self._raw.size - self.pos} left in the file",
                    path=self.path,
                    offset=self.pos,
                )
            data = self._raw.pread(self.pos, n)
            if len(data) != n:
                raise DataLossError(f"{what}: the file ended early", path=self.path, offset=self.pos)
        else:
            # deflate expands at most 1032:1, so a claim beyond that cannot be backed by this file
            if n > 1032 * self._raw.size + (1 << 20) or not self._fill(n):
                raise DataLossError(
                    f"{what}: {n} bytes claimed, the GZIP stream ends first (offset in the decompressed stream)",
                    path=self.path,
                    offset=self.pos,
                )
            data = self._buf[self._bpos : self._bpos + n]
            self._bpos += n
        self.pos += n
        return data


def elements_v1(raw, path: str, dtypes: list, verify: bool) -> Iterator[list]:
    """Elements of a version-0/1 shard file (the first snapshot op's own framing)."""
    from .records import _snappy_block
    from ..proto import message_class

    parse_record = message_class("tensorflow.data.experimental.SnapshotRecord").FromString
    parse_meta = message_class("tensorflow.data.experimental.SnapshotTensorMetadata").FromString
    stream = _ByteStream(raw, path)
    snappy: Optional[bool] = None
    index = 0
    try:
        while not stream.at_end():
            start = stream.pos
            (n,) = _U64.unpack(stream.read(8, f"element {index}: record length"))
            data = stream.read(n, f"element {index}: record")
            if snappy is None:
                # A SnapshotRecord's tensors carry a dtype (field 1); tensor metadata never does.
                snappy = not is_snapshot_record(data)
            try:
                if not snappy:
                    tensors = list(parse_record(data).tensor)
                    if len(tensors) != len(dtypes):
                        raise DataLossError(
                            f"element {index} has {len(tensors)} components, the metadata says {len(dtypes)}",
                            path=path,
                            offset=start,
                        )
                    yield tensors
                else:
                    meta = parse_meta(data).tensor_metadata
                    (m,) = _U64.unpack(stream.read(8, f"element {index}: block length"))
                    block = stream.read(m, f"element {index}: snappy block")
                    yield _from_snappy_block(path, start, index, dtypes, meta, _snappy_block(block, path, start))
            except TFFormatsError:
                raise
            except Exception as exc:
                raise DataLossError(f"element {index}: cannot be parsed ({exc})", path=path, offset=start) from None
            index += 1
    finally:
        stream.close()


def is_snapshot_record(data: bytes) -> bool:
    from . import varint

    try:
        if not data or data[0] != 0x0A:  # field 1, length-delimited
            return True  # an empty SnapshotRecord, or not tensor metadata
        n, pos = varint.decode(data, 1, len(data))
        return n > 0 and data[pos] == 0x08  # the embedded message starts with field 1 (dtype), varint
    except Exception:
        return True


def _from_snappy_block(path, offset, index, dtypes, meta, raw: bytes) -> list:
    from ..proto import pb

    if len(meta) != len(dtypes):
        raise DataLossError(
            f"element {index} has {len(meta)} components, the metadata says {len(dtypes)}", path=path, offset=offset
        )
    total = sum(int(m.tensor_size_bytes) for m in meta)
    if total != len(raw) or any(m.tensor_size_bytes < 0 for m in meta):
        raise DataLossError(
            f"element {index}: component sizes add up to {total}, the snappy block holds {len(raw)}",
            path=path,
            offset=offset,
        )
    out = []
    pos = 0
    for enum, m in zip(dtypes, meta):
        size = int(m.tensor_size_bytes)
        piece = raw[pos : pos + size]
        pos += size
        dt = _dt.from_enum(enum)
        if dt.enum in (_dt.DT_STRING, _dt.DT_VARIANT, _dt.DT_RESOURCE):
            out.append(pb.TensorProto.FromString(piece))
        else:
            t = pb.TensorProto(dtype=enum, tensor_content=piece)
            t.tensor_shape.CopyFrom(m.tensor_shape)
            out.append(t)
    return out


class LocalFolders:
    """Folders and files on this machine."""

    remote = False

    @staticmethod
    def join(*parts: str) -> str:
        return os.path.join(*parts)

    @staticmethod
    def isfile(path: str) -> bool:
        return os.path.isfile(path)

    @staticmethod
    def isdir(path: str) -> bool:
        return os.path.isdir(path)

    @staticmethod
    def exists(path: str) -> bool:
        return os.path.exists(path)

    @staticmethod
    def listdir(path: str) -> list:
        """``[(name, is_folder)]``."""
        try:
            return [(n, os.path.isdir(os.path.join(path, n))) for n in os.listdir(path)]
        except OSError as exc:
            raise TFFormatsError(f"cannot list: {exc.strerror or exc}", path=path) from None

    @staticmethod
    def size(path: str) -> int:
        return os.path.getsize(path)

    @staticmethod
    def read_small(path: str, what: str) -> bytes:
        try:
            size = os.path.getsize(path)
            if size > MAX_METADATA_BYTES:
                raise DataLossError(f"{what} of {size} bytes is far larger than TensorFlow writes", path=path)
            with open(path, "rb") as f:
                return f.read(MAX_METADATA_BYTES + 1)
        except FileNotFoundError:
            raise NotFoundError(f"no {what}", path=path) from None
        except IsADirectoryError:
            raise NotFoundError(f"{what} is a directory", path=path) from None
        except OSError as exc:
            raise TFFormatsError(f"cannot read {what}: {exc.strerror or exc}", path=path) from None

    @staticmethod
    def raw(path: str):
        from .records import LocalFileInput

        return LocalFileInput(path)


class RemoteFolders:
    """Folders and files behind an fsspec URL (``gs://``, ``s3://``, ``memory://``...): listings and
    metadata requests, files read by ranged requests."""

    remote = True

    def __init__(self, url: str) -> None:
        from . import remote

        self._remote = remote
        self.fs, _ = remote.url_to_fs(url)

    def _path(self, url: str) -> str:
        return self.fs._strip_protocol(url)

    def _info(self, url: str):
        try:
            return self.fs.info(self._path(url))
        except Exception:
            return None

    def join(self, *parts: str) -> str:
        return self._remote.join(*parts)

    def isfile(self, url: str) -> bool:
        info = self._info(url)
        return info is not None and info.get("type", "file") != "directory"

    def isdir(self, url: str) -> bool:
        info = self._info(url)
        if info is not None and info.get("type") == "directory":
            return True
        try:  # object stores: a "folder" is a prefix of some object
            return bool(self.fs.ls(self._path(url), detail=False)) and not self.isfile(url)
        except Exception:
            return False

    def exists(self, url: str) -> bool:
        return self._info(url) is not None

    def listdir(self, url: str) -> list:
        try:
            entries = self.fs.ls(self._path(url), detail=True)
        except Exception as exc:
            raise self._remote._wrap(exc, url, "listing the folder") from None
        out = []
        for e in entries:
            name = str(e.get("name", "")).rstrip("/").rsplit("/", 1)[-1]
            if name:
                out.append((name, e.get("type") == "directory"))
        return out

    def size(self, url: str) -> int:
        info = self._info(url)
        return int(info.get("size") or 0) if info else 0

    def read_small(self, url: str, what: str) -> bytes:
        info = self._info(url)
        if info is None:
            raise NotFoundError(f"no {what}", path=url)
        if (info.get("size") or 0) > MAX_METADATA_BYTES:
            raise DataLossError(f"{what} of {info.get('size')} bytes is far larger than TensorFlow writes", path=url)
        return self._remote.read_bytes(url)[: MAX_METADATA_BYTES + 1]

    def raw(self, url: str):
        from .records import SourceInput

        return SourceInput(self._remote.RemoteSource(url, fs=self.fs, path=self._path(url)), owns=True)


