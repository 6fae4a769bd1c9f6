"""Random-access byte sources: a local file (memory-mapped), bytes in memory,
or any seekable binary file object (which covers fsspec files).

Every reader in tfformats reads through a :class:`ByteSource`, so a format
parser never cares where the bytes live.  ``read`` raises ``DataLossError``
naming the file and offset when the source is shorter than asked.
"""

from __future__ import annotations

import io
import mmap
import os
import re
import threading
from typing import BinaryIO, Union

from ..errors import DataLossError, NotFoundError, TFFormatsError

_FD_LOCK = threading.Lock()
PathLike = Union[str, "os.PathLike[str]"]


class ByteSource:
    """A read-only, random-access view of some bytes."""

    name: str
    size: int

    def read(self, offset: int, size: int) -> bytes | memoryview:
        """``size`` bytes at ``offset``; may be a zero-copy memoryview."""
        raise NotImplementedError

    def readinto(self, offset: int, buf) -> None:
        """Fill the writable buffer ``buf`` with the bytes at ``offset``."""
        mv = memoryview(buf).cast("B")
        mv[:] = self.read(offset, mv.nbytes)

    def _check(self, offset: int, size: int) -> None:
        if offset < 0 or size < 0 or offset + size > self.size:
            raise DataLossError(
                f"read of {size} bytes runs past the end of the file ({self.size} bytes)",
                path=self.name,
                offset=offset,
            )

    @property
    def zero_copy(self) -> bool:
        return False

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} ({self.size} bytes)>"


class BytesSource(ByteSource):
    def __init__(self, data, name: str = "<bytes>") -> None:
        self._mv = memoryview(data).cast("B")
        self.size = self._mv.nbytes
        self.name = name

    def read(self, offset: int, size: int) -> memoryview:
        self._check(offset, size)
        return self._mv[offset : offset + size]

    @property
    def zero_copy(self) -> bool:
        return True

    def close(self) -> None:
        self._mv.release()


class MmapSource(ByteSource):
    """A local file, memory-mapped read-only."""

    def __init__(self, path: PathLike) -> None:
        self.name = os.fspath(path)
        try:
            with open(self.name, "rb") as f:
                self.size = os.fstat(f.fileno()).st_size
                self._mmap = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if self.size else None
        except FileNotFoundError as exc:
            raise NotFoundError("no such file", path=self.name) from exc
        except IsADirectoryError as exc:
            raise NotFoundError("is a directory, not a file", path=self.name) from exc
        except OSError as exc:
            raise TFFormatsError(f"cannot open: {exc.strerror or exc}", path=self.name) from exc
        self._mv = memoryview(self._mmap) if self._mmap is not None else memoryview(b"")
        self._fd = -1

    def read(self, offset: int, size: int) -> memoryview:
        self._check(offset, size)
        return self._mv[offset : offset + size]

    def readinto(self, offset: int, buf) -> None:
        # Large copies go through pread: one copy from the page cache, no page
        # faults on the mapping and no file pages left counted in our RSS.
        mv = memoryview(buf).cast("B")
        self._check(offset, mv.nbytes)
        if mv.nbytes < (1 << 16) or not hasattr(os, "preadv"):
            mv[:] = self._mv[offset : offset + mv.nbytes]
            return
        if self._fd < 0:
            with _FD_LOCK:
                if self._fd < 0:
                    self._fd = os.open(self.name, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        got = 0
        while got < mv.nbytes:
            n = os.preadv(self._fd, [mv[got:]], offset + got)
            if n <= 0:
                raise DataLossError("file shrank while reading", path=self.name, offset=offset + got)
            got += n

    @property
    def zero_copy(self) -> bool:
        return True

    def close(self) -> None:
        # Views handed out keep the mapping alive; closing with views still
        # exported raises BufferError, in which case the GC unmaps later.
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        try:
            self._mv.release()
            if self._mmap is not None:
                self._mmap.close()
        except BufferError:
            pass


class FileSource(ByteSource):
    """A seekable binary file object (local or an fsspec file)."""

    def __init__(self, fileobj: BinaryIO, name: str | None = None, owns: bool = False) -> None:
        self._f = fileobj
        self._owns = owns
        self._lock = threading.Lock()
        self.name = name or str(getattr(fileobj, "path", None) or getattr(fileobj, "name", "<file>"))
        size = getattr(fileobj, "size", None)
        if not isinstance(size, int):
            pos = fileobj.tell()
            size = fileobj.seek(0, io.SEEK_END)
            fileobj.seek(pos)
        self.size = size

    def read(self, offset: int, size: int) -> bytes:
        self._check(offset, size)
        with self._lock:
            self._f.seek(offset)
            data = self._f.read(size)
        if len(data) != size:
            raise DataLossError(
                f"short read: wanted {size} bytes, got {len(data)}", path=self.name, offset=offset
            )
        return data

    def readinto(self, offset: int, buf) -> None:
        mv = memoryview(buf).cast("B")
        self._check(offset, mv.nbytes)
        with self._lock:
            self._f.seek(offset)
            got = 0
            readinto = getattr(self._f, "readinto", None)
            while got < mv.nbytes:
                if readinto is not None:
                    n = readinto(mv[got:])
                else:
                    chunk = self._f.read(mv.nbytes - got)
                    n = len(chunk)
                    mv[got : got + n] = chunk
                if not n:
                    raise DataLossError("short read", path=self.name, offset=offset + got)
                got += n

    def close(self) -> None:
        if self._owns:
            self._f.close()


_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*(://|::)")  # "gs://...", fsspec chains "simplecache::s3://..."


def is_remote(path: object) -> bool:
    """An fsspec URL (a protocol first), not a local path that merely contains "://"."""
    return isinstance(path, str) and _URL.match(path) is not None and not path.startswith("file://")


def open_source(obj, name: str | None = None) -> ByteSource:
    """A ByteSource for a path, an fsspec URL, bytes, or a binary file object."""
    if isinstance(obj, ByteSource):
        return obj
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return BytesSource(obj, name or "<bytes>")
    if isinstance(obj, (str, os.PathLike)):
        path = os.fspath(obj)
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        if is_remote(path):
            from . import remote

            return remote.open_remote_source(path)
        if path.startswith("file://"):
            path = path[len("file://") :]
        return MmapSource(path)
    if hasattr(obj, "read") and hasattr(obj, "seek"):
        return FileSource(obj, name)
    raise TypeError(f"expected a path, bytes or a binary file object, not {type(obj).__name__}")


def _zip_refusals() -> tuple:
    import zipfile
    import zlib

    return (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError,
            ValueError, RecursionError, OSError)


# Everything :mod:`zipfile` raises for a damaged or hostile archive (not only BadZipFile: a bad
# directory offset is an OSError, an unknown compression NotImplementedError, bad deflate data
# zlib.error, an encrypted member RuntimeError...): callers turn these into their own errors.
ZIP_REFUSALS = _zip_refusals()
