"""TFRecord framing, compression and the streaming record parser.

One record, all integers little-endian::

    uint64  length
    uint32  masked CRC32C of the 8 length bytes
    byte    data[length]
    uint32  masked CRC32C of data

There is no file magic.  Compression wraps the whole stream of records:

* ``GZIP`` — a gzip member (zlib with ``windowBits = 15 + 16``);
* ``ZLIB`` — a zlib stream (``windowBits = 15``);
* ``SNAPPY`` — TensorFlow's own framing, a sequence of
  ``uint32 big-endian compressed_length | raw snappy block``; TF's reader keeps
  each uncompressed block within 256 KiB.

The parser reads the (decompressed) stream in large chunks and slices
records out of them, so memory stays at about one chunk plus one record
whatever the file size.  A record length is never trusted for an allocation:
with a known file size it is checked against the bytes left; on a stream the
record is gathered chunk by chunk, so memory grows only with bytes that
really arrive.

This module is bytes-only (no protobuf); numpy is imported only by
:func:`read_all`, which checks the CRCs of a whole stream at once.
"""

from __future__ import annotations

import os
import struct
import zlib
from dataclasses import dataclass
from typing import Iterator, Optional

from crc32c import crc32c as _crc32c

from ..errors import ChecksumError, DataLossError, InvalidArgumentError, ResourceLimitError, UnsupportedError
from . import crc as _crc

__all__ = [
    "HEADER_SIZE",
    "FOOTER_SIZE",
    "NONE",
    "GZIP",
    "ZLIB",
    "SNAPPY",
    "COMPRESSIONS",
    "normalize_compression",
    "detect_compression",
    "BadRecord",
    "RecordIterator",
    "RawInput",
    "LocalFileInput",
    "SourceInput",
    "StreamInput",
    "iter_spans",
    "FrameEncoder",
    "make_compressor",
]

HEADER_SIZE = 12
FOOTER_SIZE = 4
NONE, GZIP, ZLIB, SNAPPY = "NONE", "GZIP", "ZLIB", "SNAPPY"
COMPRESSIONS = (NONE, GZIP, ZLIB, SNAPPY)

DEFAULT_CHUNK_SIZE = 4 << 20
# Records at least this big are read one by one into their own bytes objects (one copy, not two)
# when a local uncompressed file starts with one.
DIRECT_RECORD_SIZE = 32 << 10
SNAPPY_BLOCK_SIZE = 256 << 10  # TF's SnappyInputStream output buffer: blocks must fit
_MAX_SANE_LENGTH = 1 << 40  # resync only considers headers below 1 TiB (top 3 bytes zero)
_HEADER_CACHE_LIMIT = 4096

_Q = struct.Struct("<Q")
_I = struct.Struct("<I")
_QI = struct.Struct("<QI")
_BE_I = struct.Struct(">I")
_M32 = 0xFFFFFFFF
_DELTA = 0xA282EAD8

_ALIASES = {
    "": NONE,
    "none": NONE,
    "gzip": GZIP,
    "gz": GZIP,
    "zlib": ZLIB,
    "snappy": SNAPPY,
}


def normalize_compression(value) -> Optional[str]:
    """``None``/``"auto"`` → ``None`` (detect); TF spellings → ``NONE``/``GZIP``/``ZLIB``/``SNAPPY``."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidArgumentError(f"compression must be a string such as 'GZIP', not {type(value).__name__}")
    key = value.strip().lower()
    if key == "auto":
        return None
    try:
        return _ALIASES[key]
    except KeyError:
        raise InvalidArgumentError(
            f"unknown compression {value!r}: use one of '', 'NONE', 'GZIP', 'ZLIB', 'SNAPPY' or None to detect"
        ) from None


def _mask(c: int) -> int:
    return ((((c >> 15) | (c << 17)) & _M32) + _DELTA) & _M32


def header_is_valid(buf, pos: int = 0) -> bool:
    """Whether the 12 bytes at ``pos`` are a record header with a matching length CRC."""
    if len(buf) - pos < HEADER_SIZE:
        return False
    return _mask(_crc32c(buf[pos : pos + 8])) == _I.unpack_from(buf, pos + 8)[0]


# ---------------------------------------------------------------------------
# Raw inputs: where the (possibly compressed) bytes come from.


class RawInput:
    """A source of raw file bytes: sequential chunks, and positional reads when possible."""

    name: str = "<stream>"
    size: Optional[int] = None
    random_access: bool = False

    def pread(self, offset: int, n: int) -> bytes:  # pragma: no cover - interface
        raise UnsupportedError("this input cannot be read at an offset", path=self.name)

    def chunks(self, offset: int, chunk_size: int) -> Iterator[bytes]:
        """Chunks of the file from ``offset`` on (random-access inputs: any offset)."""
        pos = offset
        while True:
            data = self.pread(pos, chunk_size)
            if not data:
                return
            pos += len(data)
            yield data
            data = None  # not held while the next chunk is fetched

    def head(self, n: int) -> bytes:
        """Up to ``n`` first bytes, without consuming them."""
        return self.pread(0, n)

    def close(self) -> None:
        pass


class LocalFileInput(RawInput):
    """A local file read with ``os.pread``: one copy from the page cache per chunk."""

    random_access = True

    def __init__(self, path: str) -> None:
        from ..errors import NotFoundError, TFFormatsError

        self.name = path
        try:
            self._fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0))
        except FileNotFoundError as exc:
            raise NotFoundError("no such file", path=path) from exc
        except IsADirectoryError as exc:
            raise NotFoundError("is a directory, not a file", path=path) from exc
        except OSError as exc:
            raise TFFormatsError(f"cannot open: {exc.strerror or exc}", path=path) from exc
        st = os.fstat(self._fd)
        import stat as _stat

        if _stat.S_ISDIR(st.st_mode):
            os.close(self._fd)
            from ..errors import NotFoundError

            raise NotFoundError("is a directory, not a file", path=path)
        self.size = st.st_size
        if not hasattr(os, "pread"):  # pragma: no cover - Windows
            self._f = os.fdopen(self._fd, "rb", buffering=0)

    def pread(self, offset: int, n: int) -> bytes:
        if n <= 0 or offset >= self.size:
            return b""
        n = min(n, self.size - offset)
        if hasattr(os, "pread"):
            data = os.pread(self._fd, n, offset)
            if len(data) < n:  # a short read: loop (regular files rarely do this)
                parts = [data]
                got = len(data)
                while got < n:
                    more = os.pread(self._fd, n - got, offset + got)
                    if not more:
                        break
                    parts.append(more)
                    got += len(more)
                data = b"".join(parts)
            return data
        self._f.seek(offset)  # pragma: no cover - Windows
        return self._f.read(n)  # pragma: no cover

    def chunks(self, offset: int, chunk_size: int, reuse: bool = False) -> Iterator[bytes]:
        # One read ahead on a helper thread: pread releases the GIL, so the
        # next chunk arrives while this one is being checked and sliced.
        if reuse and hasattr(os, "preadv") and self.size - offset > chunk_size:
            yield from self._chunks_reused(offset, chunk_size)
            return
        if self.size - offset <= chunk_size:
            data = self.pread(offset, chunk_size)
            if data:
                yield data
            return
        from concurrent.futures import ThreadPoolExecutor

        ex = ThreadPoolExecutor(1, thread_name_prefix="tfformats-readahead")
        try:
            fut = ex.submit(self.pread, offset, chunk_size)
            while fut is not None:
                data = fut.result()
                if not data:
                    return
                offset += len(data)
                fut = ex.submit(self.pread, offset, chunk_size) if offset < self.size else None
                yield data
                data = None
        finally:
            ex.shutdown(wait=True)

    def map(self):
        """The file's first ``size`` bytes (its size when opened) mapped read-only, or ``None``.

        ``None`` when the file is empty, has shrunk below that size since it
        was opened, or cannot be mapped (a pipe, a file system without mmap).
        """
        import mmap as _mmap

        if self.size <= 0 or self._fd < 0:
            return None
        try:
            if os.fstat(self._fd).st_size < self.size:
                return None
            return _mmap.mmap(self._fd, self.size, access=_mmap.ACCESS_READ)
        except (OSError, ValueError, OverflowError):
            return None

    def readinto(self, view: memoryview, offset: int) -> int:
        """Fill ``view`` from ``offset`` on; returns how many bytes were read (fewer at the end of the file)."""
        got = 0
        n = len(view)
        while got < n:
            r = os.preadv(self._fd, [view[got:]], offset + got)
            if r <= 0:
                break
            got += r
        return got

    def _chunks_reused(self, offset: int, chunk_size: int) -> Iterator[memoryview]:
        """Chunks read into two reused buffers, double-buffered.

        A yielded view is only valid until the next chunk is asked for: the
        caller copies out what it keeps (records, and the unfinished tail)
        before that.  Saves allocating (and faulting in) fresh memory for
        every chunk, which costs about as much as the read itself.
        """
        from concurrent.futures import ThreadPoolExecutor

        bufs = (bytearray(chunk_size), bytearray(chunk_size))
        fd, size = self._fd, self.size

        def fill(k: int, off: int) -> memoryview:
            mv = memoryview(bufs[k])
            n = min(chunk_size, size - off)
            got = 0
            while got < n:
                r = os.preadv(fd, [mv[got:n]], off + got)
                if r <= 0:
                    break
                got += r
            return mv[:got]

        ex = ThreadPoolExecutor(1, thread_name_prefix="tfformats-readahead")
        try:
            k = 0
            fut = ex.submit(fill, k, offset)
            while fut is not None:
                view = fut.result()
                if not len(view):
                    return
                offset += len(view)
                k ^= 1
                fut = ex.submit(fill, k, offset) if offset < size else None
                yield view
                view = None
        finally:
            ex.shutdown(wait=True)

    def close(self) -> None:
        if self._fd >= 0:
            try:
                if hasattr(self, "_f"):  # pragma: no cover
                    self._f.close()
                else:
                    os.close(self._fd)
            finally:
                self._fd = -1


class SourceInput(RawInput):
    """A :class:`~tfformats._io.source.ByteSource` (bytes in memory, seekable files, fsspec files)."""

    random_access = True

    def __init__(self, source, owns: bool = False) -> None:
        self._src = source
        self._owns = owns
        self.name = source.name
        self.size = source.size

    def pread(self, offset: int, n: int) -> bytes:
        if n <= 0 or offset >= self.size:
            return b""
        n = min(n, self.size - offset)
        data = self._src.read(offset, n)
        return data if isinstance(data, bytes) else bytes(data)

    def close(self) -> None:
        if self._owns:
            self._src.close()


class StreamInput(RawInput):
    """A binary stream read front to back with ``read(n)`` (pipes, sockets, HTTP bodies)."""

    def __init__(self, fileobj, name: Optional[str] = None, owns: bool = False) -> None:
        self._f = fileobj
        self._owns = owns
        self._head = b""
        self._started = False
        if name is None:
            name = getattr(fileobj, "name", None)
            # a pipe's or socket's file object is named by its descriptor number
            name = f"<stream fd {name}>" if isinstance(name, int) else (str(name) if name else "<stream>")
        self.name = name

    def head(self, n: int) -> bytes:
        if self._started:
            raise InvalidArgumentError("stream already consumed", path=self.name)
        while len(self._head) < n:
            data = self._f.read(n - len(self._head))
            if not data:
                break
            self._head += data
        return self._head[:n]

    def chunks(self, offset: int, chunk_size: int) -> Iterator[bytes]:
        if offset != 0 or self._started:
            raise InvalidArgumentError("a stream can only be read once, from its start", path=self.name)
        self._started = True
        if self._head:
            head, self._head = self._head, b""
            yield head
        read = self._f.read
        while True:
            data = read(chunk_size)
            if not data:
                return
            yield data if isinstance(data, bytes) else bytes(data)
            data = None

    def close(self) -> None:
        if self._owns:
            self._f.close()


# ---------------------------------------------------------------------------
# Compression: detection and decompressing chunk streams.


def _looks_like_zlib(b: bytes) -> bool:
    # RFC 1950: CM = 8 (deflate), CINFO <= 7, FDICT clear, (CMF*256 + FLG) % 31 == 0.
    return len(b) >= 2 and (b[0] & 0x0F) == 8 and (b[0] >> 4) <= 7 and not (b[1] & 0x20) and ((b[0] << 8) | b[1]) % 31 == 0


def _snappy():
    try:
        import snappy
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise UnsupportedError("SNAPPY-compressed TFRecords need python-snappy") from exc
    return snappy


def _snappy_uncompressed_length(block: bytes) -> int:
    result = shift = 0
    for i in range(min(len(block), 5)):
        b = block[i]
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result
        shift += 7
    raise ValueError("bad snappy length prefix")


def _snappy_block(block: bytes, name, offset) -> bytes:
    try:
        n = _snappy_uncompressed_length(block)
    except ValueError:
        raise DataLossError("SNAPPY block has a malformed length prefix", path=name, offset=offset) from None
    # A snappy copy op of at most 3 bytes emits at most 64 bytes: bound the claim.
    if n > 22 * len(block) + 64:
        raise DataLossError(
            f"SNAPPY block of {len(block)} bytes claims {n} uncompressed bytes, more than snappy can encode",
            path=name,
            offset=offset,
        )
    try:
        out = _snappy().uncompress(block)
    except Exception as exc:  # snappy/cramjam raise their own error classes
        raise DataLossError(f"corrupt SNAPPY block: {exc}", path=name, offset=offset) from None
    out = bytes(out)
    if len(out) != n:
        raise DataLossError("SNAPPY block decompressed to the wrong size", path=name, offset=offset)
    return out


def _snappy_prefix(block, n: int) -> bytes:
    """Up to the first ``n`` uncompressed bytes of a raw snappy block that may be cut short.

    Decodes the block's elements (literals, and copies of 1, 2 or 4-byte
    offsets) only until ``n`` bytes are out, so the start of a block of any
    size can be checked from its first few dozen bytes.  A malformed or
    truncated block gives what could be decoded (possibly ``b""``).
    """
    out = bytearray()
    size = len(block)
    pos = 0
    for _ in range(5):  # the varint uncompressed length: skipped
        if pos >= size:
            return b""
        pos += 1
        if block[pos - 1] < 0x80:
            break
    else:
        return b""
    while len(out) < n and pos < size:
        tag = block[pos]
        pos += 1
        kind = tag & 3
        if kind == 0:  # literal
            length = tag >> 2
            if length >= 60:
                extra = length - 59
                if pos + extra > size:
                    break
                length = int.from_bytes(block[pos : pos + extra], "little")
                pos += extra
            length += 1
            out += block[pos : pos + min(length, n - len(out))]
            pos += length
            continue
        if kind == 1:
            if pos + 1 > size:
                break
            length = 4 + ((tag >> 2) & 7)
            offset = ((tag >> 5) << 8) | block[pos]
            pos += 1
        else:
            width = 2 if kind == 2 else 4
            if pos + width > size:
                break
            length = 1 + (tag >> 2)
            offset = int.from_bytes(block[pos : pos + width], "little")
            pos += width
        if not 0 < offset <= len(out):
            break  # malformed
        for _ in range(min(length, n - len(out))):  # may overlap its own output
            out.append(out[-offset])
    return bytes(out[:n])


def detect_compression(head: bytes, size: Optional[int] = None) -> str:
    """Guess the compression of a TFRecord file from its first bytes.

    A valid first record header (length CRC matches) means uncompressed, and
    wins over everything else: a record of 40,056 bytes starts with the same
    two bytes as a zlib stream.  Then gzip's magic, a zlib header, and TF's
    snappy framing whose first block starts with a valid record header once
    decompressed (only the start of the block is decoded, so a few dozen
    bytes settle it whatever the block's size).  Anything else is treated as
    uncompressed, so the parser reports the bad header.
    """
    if not head:
        return NONE
    if header_is_valid(head):
        return NONE
    if head[:3] == b"\x1f\x8b\x08":
        return GZIP
    if _looks_like_zlib(head):
        return ZLIB
    if len(head) >= 5:
        clen = _BE_I.unpack_from(head, 0)[0]
        if clen > 0 and header_is_valid(_snappy_prefix(head[4 : 4 + clen], HEADER_SIZE)):
            return SNAPPY
    return NONE


# A record header is the first 12 uncompressed bytes; a snappy block yields them from at most
# 5 (length varint) + 12 * 5 (elements) bytes.  Kept generous for callers that pass more.
_DETECT_BYTES = 128


def detect_input(raw: RawInput) -> str:
    """:func:`detect_compression` of an input from its first 128 bytes (streams: not consumed)."""
    return detect_compression(raw.head(_DETECT_BYTES), raw.size)


class _StreamState:
    """Shared between a decompressing chunk generator and the record parser."""

    def __init__(self) -> None:
        self.truncated: Optional[str] = None  # why the compressed stream ended early
        # a zlib stream that stops without its end marker, at a whole record: an unclosed writer
        # (TensorFlow reads such files without complaint), or a copy cut at an unlucky place
        self.unterminated: Optional[str] = None
        # bytes after the end of a ZLIB stream, which TensorFlow ignores (so this reader does too)
        self.ignored: Optional[str] = None
        self.error: Optional[DataLossError] = None


def _zlib_chunks(raw: Iterator[bytes], kind: str, name, chunk_size: int, state: _StreamState) -> Iterator[bytes]:
    wbits = 31 if kind == GZIP else 15
    d = zlib.decompressobj(wbits)
    consumed = 0  # compressed bytes fed so far (for messages)
    started = False
    for data in raw:
        while data:
            started = True
            try:
                out = d.decompress(data, chunk_size)
            except zlib.error as exc:
                state.error = DataLossError(
                    f"corrupt {kind} stream: {exc}", path=name, offset=consumed
                )
                return
            fed = len(data) - len(d.unconsumed_tail)
            consumed += fed
            data = d.unconsumed_tail
            if out:
                yield out
            if d.eof:
                rest = d.unused_data + data
                if not rest:
                    data = b""
                    continue
                consumed -= len(d.unused_data)
                if kind == GZIP and rest[:2] == b"\x1f\x8b":
                    d = zlib.decompressobj(wbits)  # another gzip member follows
                    data = rest
                    continue
                if kind == ZLIB:
                    # TensorFlow's reader stops at the end of the first zlib stream and never looks
                    # at what follows (a second stream, or anything else): read what it reads
                    state.ignored = (
                        f"the ZLIB stream ends at offset {consumed} of the file and the bytes after it "
                        "(another stream appended, or anything else) are not read, as TensorFlow does not read them"
                    )
                    return
                state.error = DataLossError(
                    f"{len(rest)}+ bytes of trailing data after the end of the {kind} stream",
                    path=name,
                    offset=consumed,
                )
                return
    if not started:
        return  # an empty file holds no records, compressed or not
    try:
        out = d.flush()
    except zlib.error as exc:  # pragma: no cover - flush rarely fails
        state.error = DataLossError(f"corrupt {kind} stream: {exc}", path=name, offset=consumed)
        return
    if out:
        yield out
    if not d.eof:
        state.unterminated = (
            f"the {kind} stream has no end marker (its writer not closed yet, or the file cut short)"
        )


def _snappy_chunks(raw: Iterator[bytes], name, size: Optional[int], state: _StreamState) -> Iterator[bytes]:
    buf = b""
    pos = 0
    offset = 0  # compressed offset of buf[pos]

    def fill(need: int) -> bool:
        nonlocal buf, pos
        have = len(buf) - pos
        if have >= need:
            return True
        parts = [buf[pos:]]
        for data in raw:
            parts.append(data)
            have += len(data)
            if have >= need:
                break
        buf = b"".join(parts)
        pos = 0
        return have >= need

    while True:
        if not fill(4):
            if len(buf) - pos:
                state.truncated = "the SNAPPY stream ends inside a block length"
            return
        clen = _BE_I.unpack_from(buf, pos)[0]
        if size is not None and offset + 4 + clen > size:
            state.truncated = f"SNAPPY block of {clen} bytes at offset {offset} runs past the end of the file"
            return
        if not fill(4 + clen):
            state.truncated = f"SNAPPY block of {clen} bytes at offset {offset} runs past the end of the stream"
            return
        block = buf[pos + 4 : pos + 4 + clen]
        try:
            out = _snappy_block(block, name, offset)
        except DataLossError as exc:
            state.error = exc
            return
        pos += 4 + clen
        offset += 4 + clen
        if out:
            yield out


# ---------------------------------------------------------------------------
# The record parser.


def _new_length(cache: dict, view, pos: int, length: int, hcrc: int, verify: bool, max_len: int) -> Optional[str]:
    """A record length not in ``cache`` yet: its header CRC checked (the stored CRC is a
    function of the length, so once per length is enough) and the length bounded.

    Returns ``"header"`` (bad length CRC) or ``"too-long"``, else records the
    length in ``cache`` and returns ``None``.  The parsers call it only on a
    cache miss, keeping the check of a known length inline.
    """
    if verify:
        c = _crc32c(view[pos : pos + 8])
        if ((((c >> 15) | (c << 17)) & _M32) + _DELTA) & _M32 != hcrc:
            return "header"
    if length > max_len:
        return "too-long"
    if len(cache) >= _HEADER_CACHE_LIMIT:
        cache.clear()
    cache[length] = hcrc
    return None


@dataclass(frozen=True)
class BadRecord:
    """A damaged stretch of a TFRecord stream that a reader skipped.

    ``record`` is the number of the record that was expected there (counting
    from 0, damaged stretches count as one record), ``offset`` its byte offset
    in the (decompressed) stream, ``skipped`` how many bytes were skipped
    (``None`` when the rest of the stream was lost), ``reason`` what was wrong.
    """

    record: int
    offset: int
    skipped: Optional[int]
    reason: str


class RecordIterator:
    """Iterator over the records of one TFRecord stream, as ``bytes``.

    Made by :func:`tfformats.records.read`.  After (or during) iteration,
    ``bad_records`` lists the damaged stretches skipped with ``errors="skip"``
    and ``truncated`` describes an incomplete last record that was tolerated.
    Close it (or use ``with``) to release the file early.
    """

    def __init__(
        self,
        raw: RawInput,
        compression: Optional[str] = None,
        *,
        verify: bool = True,
        errors: str = "raise",
        tolerate_truncation: bool = False,
        start: int = 0,
        end: Optional[int] = None,
        max_record_size: Optional[int] = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        copy: bool = True,
        mmap: bool = False,
        owns_input: bool = True,
    ) -> None:
        if errors not in ("raise", "skip"):
            raise InvalidArgumentError(f"errors must be 'raise' or 'skip', not {errors!r}")
        if chunk_size < 4096:
            raise InvalidArgumentError("chunk_size must be at least 4096 bytes")
        self.name = raw.name
        self.verify = bool(verify)
        self.errors = errors
        self.tolerate_truncation = bool(tolerate_truncation)
        self.max_record_size = max_record_size
        self.bad_records: list[BadRecord] = []
        self.truncated: Optional[BadRecord] = None
        self._raw = raw
        self._owns = owns_input
        self._chunk = int(chunk_size)
        self._copy = bool(copy)
        self._mmap = bool(mmap)
        self._state = _StreamState()
        comp = normalize_compression(compression)
        if comp is None:
            comp = detect_input(raw)
        self.compression = comp
        if comp != NONE and (start or end is not None):
            raise InvalidArgumentError(
                f"byte ranges (start/end) need an uncompressed file; this one is {comp}", path=raw.name
            )
        if start < 0 or (end is not None and end < start):
            raise InvalidArgumentError(f"bad byte range start={start}, end={end}", path=raw.name)
        if start and not raw.random_access:
            raise InvalidArgumentError("start > 0 needs a seekable input", path=raw.name)
        self._start = int(start)
        self._end = end
        self._gen = self._run()

    # -- public protocol
    def __iter__(self):
        return self._gen

    def __next__(self) -> bytes:
        return next(self._gen)

    @property
    def unterminated(self) -> Optional[str]:
        """Why a GZIP/ZLIB stream that ended on a whole record is incomplete, else ``None``.

        Set when the compressed stream stops without its end marker, as a
        file still being written does (TensorFlow reads such a file to its
        last whole record without complaint, and so does this iterator).
        """
        return self._state.unterminated

    @property
    def ignored_data(self) -> Optional[str]:
        """What was left unread after the end of a ZLIB stream, else ``None``.

        TensorFlow reads a ZLIB record file up to the end of its first zlib
        stream and ignores whatever follows (a second stream appended to the
        file, or garbage); this iterator yields the same records and says so
        here.  (GZIP differs: further gzip members are read, as TensorFlow
        reads them, and anything else after a member is an error.)
        """
        return self._state.ignored

    def close(self) -> None:
        self._gen.close()
        if self._owns:
            self._raw.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        comp = "" if self.compression == NONE else f" {self.compression}"
        return f"<tfformats RecordIterator {self.name!r}{comp}>"

    # -- helpers
    def _where(self) -> str:
        return "" if self.compression == NONE else f" (offset in the decompressed {self.compression} stream)"

    def _fail(self, cls, index: int, offset: int, what: str):
        err = cls(f"record {index}: {what}{self._where()}", path=self.name, offset=offset)
        err.record = index
        return err

    def _chunks(self, offset: int) -> Iterator[bytes]:
        raw = self._raw
        if self.compression == NONE:
            if self._copy and isinstance(raw, LocalFileInput):
                return raw.chunks(offset, self._chunk, reuse=True)
            return raw.chunks(offset, self._chunk)
        src = raw.chunks(0, self._chunk)
        if self.compression == SNAPPY:
            return _snappy_chunks(src, self.name, raw.size, self._state)
        return _zlib_chunks(src, self.compression, self.name, self._chunk, self._state)

    def _run(self) -> Iterator[bytes]:
        try:
            mapped = self._map() if self._mmap else None
            if mapped is not None:
                yield from self._parse_mapped(mapped)
            elif self._direct_ok():
                yield from self._parse_direct()
            else:
                pieces = _Pieces(self._chunks(self._start))
                try:
                    yield from self._parse(pieces)
                finally:
                    pieces.close()
        finally:
            if self._owns:
                self._raw.close()

    def _direct_ok(self) -> bool:
        """Whether records can be read straight from a local file (:meth:`_parse_direct`)."""
        raw = self._raw
        if self.compression != NONE or self._start or not isinstance(raw, LocalFileInput) or not hasattr(os, "pread"):
            return False
        head = raw.pread(0, HEADER_SIZE)
        return len(head) == HEADER_SIZE and _Q.unpack_from(head)[0] >= DIRECT_RECORD_SIZE

    def _parse_direct(self) -> Iterator[bytes]:
        """Records of an uncompressed local file, each big one read by itself into its own bytes.

        A big record costs one ``pread`` of its data (one copy, from the page
        cache straight into the object handed out) and one small read of its
        footer and the next header; small records between them are sliced
        out of chunk-sized reads as usual.  At the first thing out of the
        ordinary (a CRC mismatch, a truncated record, a length over
        ``max_record_size``) the general parser takes over at that record, so
        errors, skipping and truncation behave exactly as they do there.
        """
        raw = self._raw
        pread = raw.pread
        size = raw.size
        chunk = self._chunk
        verify = self.verify
        copy = self._copy
        crc = _crc32c
        unpack_i = _I.unpack_from
        unpack_qi = _QI.unpack_from
        max_len = self.max_record_size if self.max_record_size is not None else 1 << 64
        end = self._end if self._end is not None else 1 << 62
        cache: dict = {}
        window = b""
        view = memoryview(window)
        wbase = 0  # file offset of window[0]
        refilled = -1  # where a window was last read to hold a whole small record
        want = 16  # how much to read for the next header: just it (and a footer) while records are big
        pos = 0
        index = 0
        while pos < end:
            off = pos - wbase
            if off + HEADER_SIZE > len(window):
                if pos >= size:
                    return
                window = pread(pos, want)
                view = memoryview(window)
                wbase, off = pos, 0
                if len(window) < HEADER_SIZE:
                    break
            length, hcrc = unpack_qi(window, off)
            if cache.get(length) != hcrc and _new_length(cache, view, off, length, hcrc, verify, max_len):
                break
            nxt = pos + 16 + length
            if nxt > size:
                break
            dend = off + 12 + length
            if dend + 4 <= len(window):  # the whole record is in the window
                rec = view[off + 12 : dend]
                if verify:
                    c = crc(rec)
                    if ((((c >> 15) | (c << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF != unpack_i(window, dend)[0]:
                        break
                yield bytes(rec) if copy else rec
            elif length < DIRECT_RECORD_SIZE:
                # a small record across the window's end: read on from its header
                if refilled == pos:
                    break  # just read whole from here, and still not whole: the file shrank meanwhile
                window = pread(pos, max(chunk, length + 16))  # the file holds that much (checked above)
                view = memoryview(window)
                wbase = refilled = pos
                want = chunk  # small records: read them by the chunk
                continue
            elif copy:
                data = pread(pos + 12, length)
                # then its footer and the next header
                window = pread(pos + 12 + length, 16)
                view = memoryview(window)
                wbase = pos + 12 + length
                if len(data) != length or len(window) < 4:
                    break  # the file shrank meanwhile
                if verify:
                    c = crc(data)
                    if ((((c >> 15) | (c << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF != unpack_i(window, 0)[0]:
                        break
                want = 16
                yield data
            else:
                # a view is handed out: one read for the data, its footer and the next header
                window = pread(pos + 12, length + 16)
                view = memoryview(window)
                wbase = pos + 12
                if len(window) < length + 4:
                    break  # the file shrank meanwhile
                rec = view[:length]
                want = 16
                if verify:
                    c = crc(rec)
                    if ((((c >> 15) | (c << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF != unpack_i(window, length)[0]:
                        break
                yield rec
            index += 1
            pos = nxt
        else:
            return
        window = view = None
        yield from self._take_over(pos, index)

    def _take_over(self, pos: int, index: int) -> Iterator[bytes]:
        """Something is wrong at ``pos`` (record ``index``): the general parser goes on from there.

        So errors, skipping and truncation behave exactly as they do there.
        """
        pieces = _Pieces(self._chunks(pos))
        try:
            yield from self._parse(pieces, pos, index)
        finally:
            pieces.close()

    def _map(self):
        raw = self._raw
        if self.compression != NONE or self._start or not isinstance(raw, LocalFileInput):
            return None
        return raw.map()

    def _parse_mapped(self, mapped) -> Iterator[bytes]:
        """Records of an uncompressed local file mapped into memory (``mmap=True``).

        CRCs are computed over the mapped page-cache pages, so a record is
        never copied unless ``copy`` asks for it; with ``copy=False`` each
        record is a read-only view of the mapping, which stays mapped while any
        view of it is alive.  Only the size the file had when opened is read.
        At the first thing out of the ordinary the general parser takes over,
        as in :meth:`_parse_direct`.
        """
        verify = self.verify
        copy = self._copy
        crc = _crc32c
        unpack_i = _I.unpack_from
        unpack_qi = _QI.unpack_from
        max_len = self.max_record_size if self.max_record_size is not None else 1 << 64
        size = len(mapped)
        end = min(self._end, size) if self._end is not None else size
        view = memoryview(mapped)
        cache: dict = {}
        pos = 0
        index = 0
        try:
            while pos < end:
                if pos + HEADER_SIZE > size:
                    break
                length, hcrc = unpack_qi(mapped, pos)
                if cache.get(length) != hcrc and _new_length(cache, view, pos, length, hcrc, verify, max_len):
                    break
                dend = pos + 12 + length
                if dend + 4 > size:
                    break
                rec = view[pos + 12 : dend]
                if verify:
                    c = crc(rec)
                    if ((((c >> 15) | (c << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF != unpack_i(mapped, dend)[0]:
                        break
                yield bytes(rec) if copy else rec
                rec = None
                index += 1
                pos = dend + 4
            else:
                return
        finally:
            rec = None
            try:
                view.release()
                mapped.close()
            except BufferError:
                pass  # records handed out as views still use the mapping; it closes with the last of them
        yield from self._take_over(pos, index)

    def _parse(self, pieces: "_Pieces", base: Optional[int] = None, index: int = 0) -> Iterator[bytes]:  # noqa: C901 - one hot loop, kept in one frame for speed
        verify = self.verify
        skip = self.errors == "skip"
        copy = self._copy
        crc = _crc32c
        unpack_i = _I.unpack_from
        unpack_qi = _QI.unpack_from
        max_len = self.max_record_size if self.max_record_size is not None else 1 << 64
        cache: dict = {}  # record length -> its masked CRC, once checked
        total = self._raw.size if self.compression == NONE else None  # bytes in the record stream, when known
        end = self._end
        buf = b""
        pos = 0
        shrank = False  # the file turned out shorter than its size when opened
        resync = base is None  # start at self._start, or at a record boundary known to be right
        if resync:
            base = self._start  # absolute offset of buf[0]

        if base and resync:
            found = self._resync(pieces, b"", base, base)
            if found is None:
                return
            buf, base, pos = found

        while True:
            n = len(buf)
            # a read-only view: slices are free, and hashable for the header cache
            view = buf.toreadonly() if isinstance(buf, memoryview) else memoryview(buf)
            stop = (end - base) if end is not None else 1 << 62
            problem = None
            need = 0
            # ---- fast path: slice whole records out of the buffer
            while True:
                if pos >= stop:
                    return
                if pos + 12 > n:
                    need = 12
                    break
                length, hcrc = unpack_qi(view, pos)
                if cache.get(length) != hcrc:
                    problem = _new_length(cache, view, pos, length, hcrc, verify, max_len)
                    if problem is not None:
                        break
                dend = pos + 12 + length
                if dend + 4 > n:
                    need = length + 16
                    break
                rec = view[pos + 12 : dend]
                if verify:
                    c = crc(rec)
                    if ((((c >> 15) | (c << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF != unpack_i(view, dend)[0]:
                        problem = "data"
                        break
                yield bytes(rec) if copy else rec
                index += 1
                pos = dend + 4

            # ---- slow path: more data, end of stream, or damage
            at = base + pos
            view = rec = None  # let go of this chunk before fetching the next (bounded memory)
            if problem is None:
                if total is not None and at + need > total:
                    if at == total:
                        return
                    problem = "truncated"
                elif pos >= n:
                    # Nothing left over: carry on in the next chunk without copying.
                    buf = b""
                    piece = pieces.next()
                    if piece is not None:
                        buf, pos = piece
                        base = at - pos
                        continue
                    if total is not None and at < total:
                        problem, shrank = "truncated", True  # the file had more bytes when it was opened
                    else:
                        problem = self._end_of_stream(index, at, skip, leftover=False)
                        if problem is None:
                            return
                else:
                    # A record straddles chunks: copy just that record into a small buffer
                    # (the tail first: a reused chunk buffer is refilled by the next read).
                    buf, base, pos = bytes(buf[pos:]), at, 0
                    buf, base, pos = pieces.gather(buf, base, at, need)
                    if len(buf) >= need:
                        continue
                    shrank = total is not None  # the size at opening said these bytes were there
                    problem = self._end_of_stream(index, at, skip, leftover=True)
                    if problem is None:
                        return

            if problem == "truncated":
                have = (total - at) if total is not None else len(buf) - pos
                kind = "file" if total is not None else "stream"
                if shrank:
                    what = f"truncated: the file ends early, shorter than the {total} bytes it had when opened (did it shrink while being read?)"
                elif have >= 12:  # the header was read: need was length + 16
                    what = f"truncated: the record claims {length} bytes but the {kind} ends {have} bytes after its start"
                elif have > 0:
                    what = f"truncated: only {have} bytes left, fewer than a record header"
                else:
                    what = self._state.truncated or "truncated"
                if self._state.truncated and have > 0:
                    what += "; " + self._state.truncated
                elif self._state.unterminated:
                    what += "; " + self._state.unterminated
                if self.tolerate_truncation:
                    self.truncated = BadRecord(index, at, None, what)
                    return
                if not skip:
                    raise self._fail(DataLossError, index, at, what)
                if have >= 12:
                    # A length running past the end may itself be the damage:
                    # look for later records before giving up.
                    found = self._resync(pieces, buf, base, at + 1)
                    if found is not None:
                        buf, base, pos = found
                        self.bad_records.append(BadRecord(index, at, base + pos - at, what))
                        index += 1
                        continue
                self.bad_records.append(BadRecord(index, at, None, what))
                return

            if problem == "header":
                stored = unpack_i(buf, pos + 8)[0]
                what = (
                    f"length CRC mismatch (stored {stored:#010x}, computed {_crc.mask(crc(buf[pos:pos + 8])):#010x})"
                    + (" — is this a TFRecord file?" if at == 0 else "")
                )
                cls = ChecksumError
            elif problem == "data":
                what = (
                    f"data CRC mismatch over {length} bytes (stored {unpack_i(buf, dend)[0]:#010x}, "
                    f"computed {_crc.mask(crc(buf[pos + 12:dend])):#010x})"
                )
                cls = ChecksumError
            else:  # too-long
                what = f"record length {length} exceeds max_record_size={self.max_record_size}"
                cls = ResourceLimitError
            if not skip:
                raise self._fail(cls, index, at, what)
            if problem == "data":
                # The header checked out, so its length is trustworthy: skip exactly one record.
                self.bad_records.append(BadRecord(index, at, length + 16, what))
                index += 1
                pos = dend + 4
                continue
            found = self._resync(pieces, buf, base, at + 1)
            if found is None:
                err = self._state.error
                extra = f"; then {err.message}" if err is not None else "; no valid record after it"
                self.bad_records.append(BadRecord(index, at, None, what + extra))
                return
            buf, base, pos = found
            self.bad_records.append(BadRecord(index, at, base + pos - at, what))
            index += 1

    def _end_of_stream(self, index: int, at: int, skip: bool, leftover: bool) -> Optional[str]:
        """At the end of the data: ``None`` for a clean end, else the problem to report."""
        err = self._state.error
        if err is not None:
            if skip:
                self.bad_records.append(BadRecord(index, at, None, err.message))
                return None
            raise err
        return "truncated" if leftover or self._state.truncated else None

    def _resync(self, pieces: "_Pieces", buf, base: int, at: int):
        """Find the first offset >= ``at`` where a whole valid record starts.

        A candidate needs a matching length CRC *and* data CRC (a false match
        is a 1 in 2^64 event).  Only lengths below 1 TiB are considered, which
        lets ``bytes.find`` jump to places whose length has three zero top
        bytes instead of checking every offset.
        Returns ``(buf, base, pos)`` with ``base + pos`` the record start, or
        ``None`` at the end of the stream.
        """
        total = self._raw.size if self.compression == NONE else None
        crc = _crc32c
        if not isinstance(buf, bytes):
            buf = bytes(buf)  # bytes.find; and a reused chunk buffer may be refilled meanwhile
        if not 0 <= at - base <= len(buf):
            buf, base = b"", at  # only happens at a split start: nothing consumed yet
        p = at - base  # candidate search starts here (index into buf)
        while True:
            q = buf.find(b"\x00\x00\x00", p + 5)
            if q < 0:
                # Nothing here: keep the last 7 bytes (a header may straddle) and read on.
                keep = base + max(p, len(buf) - 7)
                if total is not None and keep + 12 > total:
                    return None
                end_before = base + len(buf)
                buf, base, p = pieces.gather(buf, base, keep, self._chunk)
                if base + len(buf) <= end_before or len(buf) < 12:
                    return None  # no more data
                continue
            c = q - 5
            length = _Q.unpack_from(buf, c)[0] if c + 12 <= len(buf) else 0
            if c + 12 > len(buf):
                buf, base, c = pieces.gather(buf, base, base + c, 12)
                if len(buf) < 12:
                    return None
                length = _Q.unpack_from(buf, c)[0]
            if length < _MAX_SANE_LENGTH and _mask(crc(buf[c : c + 8])) == _I.unpack_from(buf, c + 8)[0]:
                start_abs = base + c
                if total is None or start_abs + 16 + length <= total:
                    if c + 16 + length > len(buf):
                        buf, base, c = pieces.gather(buf, base, start_abs, length + 16)
                    if len(buf) - c >= length + 16:
                        d = buf[c + 12 : c + 12 + length]
                        if _mask(crc(d)) == _I.unpack_from(buf, c + 12 + length)[0]:
                            return buf, base, c
            p = c + 1


class _Pieces:
    """The chunks of a stream, handed out without copies where possible.

    ``next()`` returns ``(chunk, offset)``: the next unread bytes are
    ``chunk[offset:]``.  ``gather(buf, base, keep, need)`` builds a new
    buffer holding the bytes from absolute offset ``keep`` (which must lie in
    ``buf`` or right after it) up to ``need`` bytes, pulling only what it
    needs from the following chunks; the rest of the last chunk stays
    pending for ``next()``.
    """

    __slots__ = ("_it", "_pending")

    def __init__(self, it: Iterator[bytes]) -> None:
        self._it = it
        self._pending = None

    def next(self):
        p = self._pending
        if p is not None:
            self._pending = None
            return p
        for data in self._it:
            if data:
                return data, 0
        return None

    def gather(self, buf, base: int, keep: int, need: int):
        i = keep - base
        parts = [buf[i:]] if i < len(buf) else []
        have = len(buf) - i if i < len(buf) else 0
        while have < need:
            piece = self.next()
            if piece is None:
                break
            c, o = piece
            avail = len(c) - o
            take = need - have
            if avail <= take:
                # copied now: asking for the next chunk may refill a reused buffer
                parts.append(bytes(c[o:]) if isinstance(c, memoryview) else (c[o:] if o else c))
                have += avail
            else:
                parts.append(c[o : o + take])
                self._pending = (c, o + take)
                have += take
        data = parts[0] if len(parts) == 1 else b"".join(parts)
        if isinstance(data, memoryview):  # pragma: no cover - chunks are bytes
            data = bytes(data)
        return data, keep, 0

    def close(self) -> None:
        close = getattr(self._it, "close", None)
        if close is not None:
            close()


def read_all(raw: RawInput, compression: Optional[str] = None, *, verify: bool = True, pad: int = 0):
    """The whole record stream in one buffer, and where its records are.

    Returns ``(data, starts, lengths, compression)``: ``data`` holds the
    (decompressed) stream and record ``i`` is ``data[starts[i]:starts[i] +
    lengths[i]]`` (int64 numpy arrays).  Both CRCs of every record are checked
    unless ``verify`` is false; damage raises the same located errors as
    :class:`RecordIterator`.  For callers that need every record in memory
    anyway (decoding a file into columns): no object per record is made.
    ``pad`` zero bytes follow the stream in ``data``, for readers that look a
    few bytes ahead; ``data`` is then a ``bytearray`` when a local file is
    read straight into it (no copy to add them), else ``bytes``.
    """
    import itertools

    comp = normalize_compression(compression)
    if comp is None:
        comp = detect_input(raw)
    where = "" if comp == NONE else f" (offset in the decompressed {comp} stream)"
    name = raw.name
    if comp == NONE and raw.random_access:
        size = raw.size
        if pad and isinstance(raw, LocalFileInput) and hasattr(os, "preadv"):
            data = bytearray(size + pad)  # the file's size: bytes it holds
            got = raw.readinto(memoryview(data)[:size], 0)
        else:
            data = raw.pread(0, size)
            got = len(data)
            if pad:
                data += bytes(pad)
        if got != size:
            raise DataLossError("file shrank while reading", path=name, offset=got)
    else:
        it = RecordIterator(raw, comp, owns_input=False)  # for its decompressing chunk streams
        state = it._state
        data = b"".join(itertools.chain(it._chunks(0), (bytes(pad),)))
        if state.error is not None:
            raise state.error
        if state.truncated is not None:
            raise DataLossError(state.truncated, path=name, offset=len(data) - pad)
    starts, lengths, problem = _walk(data, verify, len(data) - pad)
    if problem is not None:
        index, pos, cls, what = problem
        err = cls(f"record {index}: {what}{where}", path=name, offset=pos)
        err.record = index
        raise err
    return data, starts, lengths, comp


def _walk(data, verify: bool, n: Optional[int] = None):
    """Record spans of the record stream ``data[:n]`` in memory, and the first damage found.

    Returns ``(starts, lengths, problem)``: int64 arrays of the data start
    and length of every record before the first damaged one, and ``None`` or
    ``(record index, offset, error class, message)``.  Only the walk from
    header to header is a Python loop; both CRCs of all records are then
    checked at once (the length CRC once per distinct length, the data CRCs
    in one C-level ``map``), and the earliest damage wins, the length CRC
    before the rest of the same record, as :class:`RecordIterator` reports.
    """
    import numpy as np

    from array import array

    if n is None:
        n = len(data)
    heads = array("q")  # 8 bytes per record (a record takes at least 16 bytes of the file)
    add = heads.append
    unpack_q = _Q.unpack_from
    pos = 0
    last = n - 16  # a record starting after this cannot be whole
    length = 0
    try:
        while True:  # pos > last ends it: struct.error past the end, or the check below
            length = unpack_q(data, pos)[0]
            nxt = pos + 16 + length
            if nxt > n:
                break
            add(pos)
            pos = nxt
    except struct.error:
        pass
    trunc = None  # (message, whether the header can be checked)
    if pos < n:
        if pos > last:
            trunc = (f"truncated: only {n - pos} bytes left, fewer than a whole record", False)
        else:
            trunc = (f"truncated: the record claims {length} bytes but the stream ends {n - pos} bytes after its start", True)
    k = len(heads)
    h = np.frombuffer(heads, np.int64) if k else np.zeros(0, np.int64)
    lengths = np.empty(k, np.int64)
    if k:
        lengths[:-1] = np.diff(h) - 16
        lengths[-1] = pos - h[-1] - 16  # pos: where the walk stopped, right after the last record
    starts = h + 12
    first_bad = k  # records before this one are sound
    problem = None
    if verify and k:
        u32 = np.ndarray((max(n - 3, 0),), np.dtype("<u4"), buffer=data, strides=(1,))  # u32[i] = data[i:i+4]
        # length CRCs: the stored CRC is a function of the length, so check each distinct length once
        top = int(lengths.max())
        if top < 1 << 20:  # small records: a table by length (no sort)
            uniq = np.flatnonzero(np.bincount(lengths))
            want = np.zeros(top + 1, np.uint32)
            want[uniq] = np.fromiter((_mask(_crc32c(_Q.pack(x))) for x in uniq.tolist()), np.uint32, len(uniq))
            bad = np.flatnonzero(want[lengths] != u32[h + 8])
        else:
            uniq, inv = np.unique(lengths, return_inverse=True)
            want = np.fromiter((_mask(_crc32c(_Q.pack(int(x)))) for x in uniq.tolist()), np.uint32, len(uniq))
            bad = np.flatnonzero(want[inv.reshape(-1)] != u32[h + 8])
        if len(bad):
            first_bad = int(bad[0])
            problem = (first_bad, int(h[first_bad]), ChecksumError,
                       "length CRC mismatch" + (" — is this a TFRecord file?" if first_bad == 0 else ""))
        # data CRCs, of the records before that one
        m = first_bad
        if m:
            mv = memoryview(data)
            s = starts[:m]
            e = s + lengths[:m]
            got = np.fromiter(map(_crc32c, map(mv.__getitem__, map(slice, s.tolist(), e.tolist()))), np.uint64, m)
            masked = ((((got >> np.uint64(15)) | (got << np.uint64(17))) & np.uint64(_M32)) + np.uint64(_DELTA)) & np.uint64(_M32)
            bad = np.flatnonzero(masked != u32[e])
            if len(bad):
                first_bad = int(bad[0])
                problem = (first_bad, int(h[first_bad]), ChecksumError, f"data CRC mismatch over {int(lengths[first_bad])} bytes")
    if problem is None and trunc is not None:
        what, has_header = trunc
        if verify and has_header and _mask(_crc32c(data[pos : pos + 8])) != _I.unpack_from(data, pos + 8)[0]:
            what = "length CRC mismatch" + (" — is this a TFRecord file?" if pos == 0 else "")
            problem = (k, pos, ChecksumError, what)
        else:
            problem = (k, pos, DataLossError, what)
    return starts[:first_bad], lengths[:first_bad], problem


def iter_spans(raw: RawInput, *, verify: bool = True, chunk_size: int = 1 << 20) -> Iterator[tuple[int, int]]:
    """``(offset, length)`` of every record of an uncompressed random-access input.

    Reads headers only (length CRCs checked); record data is not read.
    Raises ``DataLossError``/``ChecksumError`` naming the record and offset.
    """
    size = raw.size
    pos = 0
    index = 0
    buf = b""
    base = 0
    unpack_q = _Q.unpack_from
    unpack_i = _I.unpack_from
    small = 64 << 10
    want = chunk_size
    while pos < size:
        i = pos - base
        if i < 0 or i + 12 > len(buf):
            if size - pos < 12:
                raise DataLossError(
                    f"record {index}: truncated: {size - pos} bytes left, fewer than a record header",
                    path=raw.name,
                    offset=pos,
                )
            buf = raw.pread(pos, want)
            base = pos
            i = 0
            hits = 0
        length = unpack_q(buf, i)[0]
        if verify and _mask(_crc32c(buf[i : i + 8])) != unpack_i(buf, i + 8)[0]:
            err = ChecksumError(
                f"record {index}: length CRC mismatch" + (" — is this a TFRecord file?" if pos == 0 else ""),
                path=raw.name,
                offset=pos,
            )
            err.record = index
            raise err
        if length > size - pos - 16:
            err = DataLossError(
                f"record {index}: truncated: the record claims {length} bytes but the file ends "
                f"{size - pos} bytes after its start",
                path=raw.name,
                offset=pos,
            )
            err.record = index
            raise err
        yield pos, length
        index += 1
        pos += 16 + length
        hits += 1
        # Big records: read just enough around each header instead of whole chunks.
        if pos - base >= len(buf):
            want = small if hits <= 1 else chunk_size


# ---------------------------------------------------------------------------
# Writing.


class FrameEncoder:
    """Frames record data as TFRecords (header and footer with masked CRCs)."""

    def __init__(self) -> None:
        self._headers: dict[int, bytes] = {}

    def header(self, length: int) -> bytes:
        h = self._headers.get(length)
        if h is None:
            lb = _Q.pack(length)
            h = lb + _I.pack(_mask(_crc32c(lb)))
            if len(self._headers) >= _HEADER_CACHE_LIMIT:
                self._headers.clear()
            self._headers[length] = h
        return h

    def frame(self, data) -> bytes:
        return b"".join((self.header(len(data)), data, _I.pack(_mask(_crc32c(data)))))


class _Identity:
    def compress(self, data) -> bytes:
        return data

    def flush(self) -> bytes:
        return b""

    def finish(self) -> bytes:
        return b""


class _Zlib:
    def __init__(self, kind: str, level: Optional[int]) -> None:
        self._c = zlib.compressobj(
            zlib.Z_DEFAULT_COMPRESSION if level is None else level, zlib.DEFLATED, 31 if kind == GZIP else 15
        )

    def compress(self, data) -> bytes:
        return self._c.compress(data)

    def flush(self) -> bytes:
        return self._c.flush(zlib.Z_SYNC_FLUSH)

    def finish(self) -> bytes:
        return self._c.flush(zlib.Z_FINISH)


class _Snappy:
    """TF's snappy framing; each block holds at most 256 KiB so TF's reader accepts it."""

    def __init__(self) -> None:
        self._snappy = _snappy()
        self._pending: list = []
        self._n = 0

    def _block(self, data) -> bytes:
        out = self._snappy.compress(bytes(data))
        return _BE_I.pack(len(out)) + bytes(out)

    def compress(self, data) -> bytes:
        self._pending.append(bytes(data))
        self._n += len(data)
        if self._n < SNAPPY_BLOCK_SIZE:
            return b""
        joined = b"".join(self._pending)
        cut = len(joined) - len(joined) % SNAPPY_BLOCK_SIZE
        out = b"".join(self._block(joined[i : i + SNAPPY_BLOCK_SIZE]) for i in range(0, cut, SNAPPY_BLOCK_SIZE))
        rest = joined[cut:]
        self._pending = [rest] if rest else []
        self._n = len(rest)
        return out

    def flush(self) -> bytes:
        if not self._n:
            return b""
        out = self._block(b"".join(self._pending))
        self._pending = []
        self._n = 0
        return out

    finish = flush


def make_compressor(kind: str, level: Optional[int] = None):
    """An object with ``compress(data)``, ``flush()`` and ``finish()`` for one compression."""
    if kind == NONE:
        return _Identity()
    if kind in (GZIP, ZLIB):
        return _Zlib(kind, level)
    if kind == SNAPPY:
        return _Snappy()
    raise InvalidArgumentError(f"unknown compression {kind!r}")  # pragma: no cover
