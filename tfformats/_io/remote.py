"""Remote files through fsspec (the optional extra ``remote``).

Any URL with a scheme other than ``file://`` (``http(s)://``, ``s3://``,
``gs://``, ``memory://``...) is handed to fsspec.  Local paths never come
here, so they never import fsspec.

Two access patterns, two ways of opening:

* random access (checkpoints, indexed records): :class:`RemoteSource`, a
  :class:`~tfformats._io.source.ByteSource` whose every ``read(offset, size)``
  is one ranged request for exactly those bytes.  The fsspec files behind it
  are opened with ``cache_type="none"``: fsspec's block caches would round a
  read of a few kilobytes up to a multi-megabyte block.  Large reads are split
  into chunks fetched by a few threads at once.
* streaming (TFRecords, event files): :func:`open_stream`, an fsspec file
  with a ``readahead`` cache of one block, so memory stays bounded by the
  block size whatever the file size.

Remote files are read with the filesystem options of fsspec's configuration
(``fsspec.config.conf`` or ``FSSPEC_<PROTOCOL>_<OPTION>`` environment
variables) unless ``storage_options`` are given.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from ..errors import DataLossError, NotFoundError, TFFormatsError, UnsupportedError
from .source import ByteSource, BytesSource

#: Reads larger than this are split into chunks fetched concurrently.
PARALLEL_CHUNK = 8 << 20
#: Threads fetching chunks of one large read.
PARALLEL_READS = 4
#: Sequential reads at least this large are read one chunk ahead.
READAHEAD_MIN = 256 << 10
#: Readahead block of streamed files.
STREAM_BLOCK = 4 << 20


def _fsspec():
    try:
        import fsspec
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise UnsupportedError(
            "reading remote URLs needs fsspec: pip install 'tfformats[remote]'"
        ) from exc
    return fsspec


def _wrap(exc: BaseException, url: str, what: str, offset: int | None = None) -> TFFormatsError:
    """Turn an fsspec/transport error into the library's error naming the URL."""
    if isinstance(exc, TFFormatsError):
        return exc
    if isinstance(exc, FileNotFoundError):
        return NotFoundError("no such file", path=url)
    text = str(exc) or type(exc).__name__
    if isinstance(exc, ValueError) and "range" in text.lower():
        # fsspec's HTTP file says so when a server answers a ranged GET with
        # the whole file: refuse rather than download it.
        return UnsupportedError(f"the server does not support range requests ({text})", path=url, offset=offset)
    return TFFormatsError(f"{what} failed: {text}", path=url, offset=offset)


def url_to_fs(url: str, storage_options: dict | None = None):
    """``(filesystem, path)`` for an fsspec URL."""
    fsspec = _fsspec()
    try:
        return fsspec.core.url_to_fs(url, **(storage_options or {}))
    except ImportError as exc:  # e.g. s3fs/gcsfs not installed
        raise UnsupportedError(f"no filesystem for this URL: {exc}", path=url) from exc
    except Exception as exc:
        raise _wrap(exc, url, "opening the filesystem") from exc


def _is_http(fs) -> bool:
    protocol = fs.protocol
    protocols = (protocol,) if isinstance(protocol, str) else tuple(protocol)
    return any(p in ("http", "https") for p in protocols)


class RemoteSource(ByteSource):
    """A remote file read by ranged requests of exactly the bytes asked.

    Thread-safe: each concurrent reader borrows its own fsspec file from a
    small pool, so reads from several threads go out in parallel.
    """

    def __init__(self, url: str, *, fs=None, path: str | None = None, size: int | None = None,
                 storage_options: dict | None = None) -> None:
        if fs is None:
            fs, path = url_to_fs(url, storage_options)
        self.name = url
        self._fs = fs
        self._path = path
        self._http = _is_http(fs)
        if size is None:
            try:
                size = fs.size(path)
            except Exception as exc:
                raise _wrap(exc, url, "finding the file size") from exc
        if size is None:
            raise UnsupportedError("the server does not report the file size, so it cannot be read at random", path=url)
        self.size = int(size)
        self._free: list = []
        self._lock = threading.Lock()
        self._closed = False
        # sequential read-ahead: (offset, size, future) of the next chunk
        self._last_end = -1
        self._last_size = -1
        self._ahead = None
        self._ahead_pool = None
        #: requests sent and bytes received (for tests and diagnostics)
        self.requests = 0
        self.bytes_fetched = 0

    # -- file handles --------------------------------------------------------
    def _open_handle(self):
        kwargs = {"cache_type": "none", "block_size": 1 << 20}
        if self._http:
            kwargs["size"] = self.size  # skip a second HEAD request
        try:
            return self._fs.open(self._path, "rb", **kwargs)
        except Exception as exc:
            raise _wrap(exc, self.name, "opening the file") from exc

    def _acquire(self):
        with self._lock:
            if self._closed:
                raise TFFormatsError("read from a closed remote file", path=self.name)
            if self._free:
                return self._free.pop()
        return self._open_handle()

    def _release(self, handle, ok: bool) -> None:
        with self._lock:
            if ok and not self._closed:
                self._free.append(handle)
                return
        try:
            handle.close()
        except Exception:
            pass

    def _fetch(self, offset: int, size: int) -> bytes:
        handle = self._acquire()
        ok = False
        try:
            handle.seek(offset)
            data = handle.read(size)
            ok = True
        except Exception as exc:
            raise _wrap(exc, self.name, f"reading {size} bytes", offset) from exc
        finally:
            self._release(handle, ok)
        with self._lock:
            self.requests += 1
            self.bytes_fetched += len(data)
        if len(data) != size:
            raise DataLossError(f"short read: wanted {size} bytes, got {len(data)}", path=self.name, offset=offset)
        return data

    def _sequential(self, offset: int, size: int) -> bytes | None:
        """Serve front-to-back reading (a record stream) one chunk ahead.

        When a read starts where the previous one of the same size ended (a
        reader going through a file chunk by chunk), the following chunk is
        fetched on a helper thread while the caller works on this one: the
        network and the decoding overlap, and memory holds at most two chunks.
        Random reads (checkpoint tensors) never trigger it.
        """
        with self._lock:
            ahead, self._ahead = self._ahead, None
            sequential = offset == self._last_end and size == self._last_size
            self._last_end = offset + size
            self._last_size = size
        data = None
        if ahead is not None:
            a_off, a_size, fut = ahead
            if a_off == offset and a_size == size:
                data = fut.result()
            else:
                fut.cancel()
        if data is None:
            data = self._fetch(offset, size)
        nxt = offset + size
        if sequential and size >= READAHEAD_MIN and nxt < self.size:
            n = min(size, self.size - nxt)
            with self._lock:
                if self._closed:
                    return data
                if self._ahead_pool is None:
                    self._ahead_pool = ThreadPoolExecutor(1, thread_name_prefix="tfformats-readahead")
                self._ahead = (nxt, n, self._ahead_pool.submit(self._fetch, nxt, n))
        return data

    # -- ByteSource ----------------------------------------------------------
    def read(self, offset: int, size: int) -> bytes | memoryview:
        self._check(offset, size)
        if size == 0:
            return b""
        if size <= PARALLEL_CHUNK:
            return self._sequential(offset, size)
        buf = bytearray(size)
        self.readinto(offset, buf)
        return memoryview(buf)

    def readinto(self, offset: int, buf) -> None:
        mv = memoryview(buf).cast("B")
        n = mv.nbytes
        self._check(offset, n)
        if n == 0:
            return
        if n <= PARALLEL_CHUNK:
            mv[:] = self._fetch(offset, n)
            return
        spans = [(lo, min(n, lo + PARALLEL_CHUNK)) for lo in range(0, n, PARALLEL_CHUNK)]

        def fill(span):
            lo, hi = span
            mv[lo:hi] = self._fetch(offset + lo, hi - lo)

        with ThreadPoolExecutor(min(PARALLEL_READS, len(spans)), thread_name_prefix="tfformats-fetch") as pool:
            for _ in pool.map(fill, spans):
                pass

    @property
    def prefers_large_reads(self) -> bool:
        """True: one large ``readinto`` is faster than many small ones."""
        return True

    def close(self) -> None:
        with self._lock:
            self._closed = True
            ahead, self._ahead = self._ahead, None
            pool, self._ahead_pool = self._ahead_pool, None
        if ahead is not None:
            ahead[2].cancel()
        if pool is not None:
            pool.shutdown(wait=True)
        with self._lock:
            handles, self._free = self._free, []
        for h in handles:
            try:
                h.close()
            except Exception:
                pass


def read_bytes(url: str, storage_options: dict | None = None) -> bytes:
    """The whole content of a (small) remote file, in one request."""
    fs, path = url_to_fs(url, storage_options)
    try:
        return fs.cat_file(path)
    except Exception as exc:
        raise _wrap(exc, url, "reading the file") from exc


def open_remote_source(url: str, *, whole: bool = False, storage_options: dict | None = None) -> ByteSource:
    """A ByteSource over a remote file.

    ``whole=True`` downloads the file in one request and serves reads from
    memory: right for files read entirely anyway (a checkpoint ``.index``).
    Otherwise every read is a ranged request (:class:`RemoteSource`).
    """
    if whole:
        return BytesSource(read_bytes(url, storage_options), url)
    return RemoteSource(url, storage_options=storage_options)


def open_stream(url: str, *, block_size: int = STREAM_BLOCK, storage_options: dict | None = None):
    """A binary file object for reading a remote file front to back.

    fsspec's ``readahead`` cache keeps one block of ``block_size`` bytes, so
    memory stays bounded; servers that do not report a size (or support
    ranges) are streamed by fsspec's HTTP stream file.
    """
    fs, path = url_to_fs(url, storage_options)
    try:
        return fs.open(path, "rb", block_size=block_size, cache_type="readahead")
    except Exception as exc:
        raise _wrap(exc, url, "opening the file") from exc


def exists(url: str, storage_options: dict | None = None) -> bool:
    """True when ``url`` names an existing file (False on any error).

    Asks for the file's metadata (a HEAD request over HTTP), never its
    content: fsspec's HTTP ``exists``/``isfile`` send a GET.
    """
    try:
        fs, path = url_to_fs(url, storage_options)
        info = fs.info(path)
    except Exception:
        return False
    return info.get("type", "file") != "directory"


def join(url: str, *names: str) -> str:
    """``url/name/...`` with exactly one slash between parts."""
    out = url.rstrip("/")
    for n in names:
        out = f"{out}/{n.strip('/')}"
    return out


def expand(urlpath, storage_options: dict | None = None) -> tuple[object, list[str], str]:
    """Glob an fsspec URL (or list of URLs) to ``(fs, [paths], protocol)``.

    Paths come back without protocol (``fs.unstrip_protocol(p)`` gives the
    URL back): sorted for a glob, in the order given for a list.
    """
    fsspec = _fsspec()
    try:
        fs, _, paths = fsspec.core.get_fs_token_paths(urlpath, mode="rb", storage_options=storage_options or {})
    except Exception as exc:
        raise _wrap(exc, str(urlpath), "listing files") from exc
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    if isinstance(urlpath, (str, bytes)) or not hasattr(urlpath, "__iter__"):
        paths = sorted(paths)
    return fs, list(paths), protocol
