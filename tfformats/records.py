"""TFRecord files: read, count, index and write.

A TFRecord file is a sequence of length-prefixed, CRC-checked byte strings
(see :mod:`tfformats._io.records` for the layout), optionally GZIP, ZLIB or
SNAPPY compressed as a whole::

    import tfformats.records as tfr

    for data in tfr.read("train.tfrecord"):          # bytes, lazily, constant memory
        ...
    tfr.count("train.tfrecord.gz")                    # compression detected from the content
    with tfr.RecordFile("train.tfrecord") as recs:    # random access (uncompressed files)
        len(recs), recs[10], recs[-1]
    tfr.write("out.tfrecord", [b"a", b"b"], compression="GZIP")

Sources can be paths, ``file://`` or fsspec URLs (``gs://``, ``s3://``,
``https://``... with the ``remote`` extra), ``bytes``, or open binary files
(read from their current position).  Damaged files raise
:class:`~tfformats.errors.DataLossError` (:class:`~tfformats.errors.ChecksumError`
for CRC mismatches) naming the file, the record number and the byte offset;
``errors="skip"`` skips damaged stretches instead and lists them in
``bad_records``.
"""

from __future__ import annotations

import os
from array import array
from typing import Iterable, Iterator, Optional, Union

from ._io import records as _rec
from ._io.records import COMPRESSIONS, BadRecord, RecordIterator
from .errors import ChecksumError, DataLossError, InvalidArgumentError, TFFormatsError, UnsupportedError

__all__ = [
    "read",
    "count",
    "write",
    "detect_compression",
    "RecordFile",
    "open_records",
    "RecordWriter",
    "RecordIterator",
    "BadRecord",
    "COMPRESSIONS",
    "read_records",
    "count_records",
    "write_records",
]

PathOrFile = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, object]


def _open_input(source, *, random_access: bool = False) -> tuple[_rec.RawInput, bool]:
    """A RawInput for a path, URL, buffer, ByteSource or file object, and whether we own it."""
    from ._io.source import ByteSource, BytesSource, is_remote, open_source

    if isinstance(source, _rec.RawInput):
        return source, False
    if isinstance(source, ByteSource):
        return _rec.SourceInput(source, owns=False), False
    if isinstance(source, (bytes, bytearray, memoryview)):
        return _rec.SourceInput(BytesSource(source, "<bytes>"), owns=True), True
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        if is_remote(path):
            return _rec.SourceInput(open_source(path), owns=True), True
        if path.startswith("file://"):
            path = path[len("file://") :]
        return _rec.LocalFileInput(path), True
    if hasattr(source, "read"):
        if random_access:
            seekable = getattr(source, "seekable", None)
            if seekable is not None and not seekable():
                raise InvalidArgumentError("random access needs a seekable file object")
            return _rec.SourceInput(open_source(source), owns=False), False
        return _rec.StreamInput(source), False
    raise TypeError(f"expected a path, URL, bytes or a binary file object, not {type(source).__name__}")


def read(
    source: PathOrFile,
    compression: Optional[str] = None,
    *,
    verify: bool = True,
    errors: str = "raise",
    tolerate_truncation: bool = False,
    start: int = 0,
    end: Optional[int] = None,
    max_record_size: Optional[int] = None,
    chunk_size: int = _rec.DEFAULT_CHUNK_SIZE,
    copy: bool = True,
    mmap: bool = False,
) -> RecordIterator:
    """Iterate over the records of a TFRecord file, as ``bytes``, lazily.

    ``compression``: ``None`` detects it from the content; or ``""``/``"NONE"``,
    ``"GZIP"``, ``"ZLIB"``, ``"SNAPPY"`` as TensorFlow spells them.
    ``verify``: check the length and data CRC of every record.
    ``errors``: ``"raise"`` (default) raises on the first damaged record;
    ``"skip"`` skips it, finds the next valid record (resynchronising on a
    valid length CRC followed by a valid data CRC) and appends a
    :class:`BadRecord` to the iterator's ``bad_records``.
    ``tolerate_truncation``: an incomplete last record (a writer still
    running, a copy cut short) ends iteration quietly; the iterator's
    ``truncated`` then says what was left.
    ``start``/``end``: only the records *starting* in the byte range
    ``[start, end)`` of an uncompressed file — the first one found by
    resynchronising at ``start`` — so several workers can split one file
    by bytes and together read every record exactly once.
    ``max_record_size``: refuse records longer than this many bytes
    (:class:`~tfformats.errors.ResourceLimitError`), a guard for streams.
    ``copy=False`` yields read-only ``memoryview`` slices of the read buffers
    instead of ``bytes`` copies (faster for big records; protobuf parses
    them directly; each view keeps its chunk of the file alive).
    ``mmap=True`` maps an uncompressed local file into memory and checks the
    CRCs on the mapped pages instead of reading them into buffers first: the
    fastest way through a big file (with ``copy=False`` no record is copied
    at all). It is off by default because a file that another process
    truncates while it is mapped makes the operating system kill this
    process (``SIGBUS``) when the lost pages are touched; appending to the
    file, renaming or replacing it is harmless. Use it for files nothing
    rewrites in place. Compressed files, streams, URLs and ``start > 0``
    ignore it.

    Memory stays at about ``chunk_size`` plus the largest record (with
    ``mmap=True`` the mapping uses the page cache, not the process's memory).
    """
    raw, owns = _open_input(source, random_access=bool(start))
    try:
        return RecordIterator(
            raw,
            compression,
            verify=verify,
            errors=errors,
            tolerate_truncation=tolerate_truncation,
            start=start,
            end=end,
            max_record_size=max_record_size,
            chunk_size=chunk_size,
            copy=copy,
            mmap=mmap,
            owns_input=owns,
        )
    except BaseException:
        if owns:
            raw.close()
        raise


def count(source: PathOrFile, compression: Optional[str] = None, *, verify: bool = True) -> int:
    """The number of records in a TFRecord file.

    On an uncompressed file only the headers are read (length CRCs checked,
    like TensorFlow's own record counting); data CRCs are not checked — use
    :func:`read` for that.  Compressed files are decompressed in full.
    """
    raw, owns = _open_input(source)
    try:
        comp = _rec.normalize_compression(compression)
        if comp is None:
            comp = _rec.detect_input(raw)
        if comp == _rec.NONE and raw.random_access:
            n = 0
            for _ in _rec.iter_spans(raw, verify=verify):
                n += 1
            return n
        it = RecordIterator(raw, comp, verify=verify, owns_input=False)
        n = 0
        for _ in it:
            n += 1
        return n
    finally:
        if owns:
            raw.close()


def detect_compression(source: PathOrFile) -> str:
    """``"NONE"``, ``"GZIP"``, ``"ZLIB"`` or ``"SNAPPY"``, from the first bytes of a TFRecord file."""
    raw, owns = _open_input(source, random_access=not hasattr(source, "read"))
    try:
        return _rec.detect_input(raw)
    finally:
        if owns:
            raw.close()


class RecordFile:
    """Random access to the records of an uncompressed TFRecord file.

    The index of record offsets is built on first use by reading the headers
    (length CRCs checked); ``recs[i]`` then reads one record with a single
    positional read and checks its CRCs.  Works on local files (``pread``),
    ``bytes`` and fsspec URLs (ranged reads; building the index reads the
    file once)::

        with RecordFile("train.tfrecord") as recs:
            n = len(recs)
            first, last = recs[0], recs[-1]
            some = recs[100:110]          # a list of bytes
            recs.offsets[5]               # byte offset of record 5
    """

    def __init__(self, source: PathOrFile, *, verify: bool = True) -> None:
        self._raw, self._owns = _open_input(source, random_access=True)
        self.name = self._raw.name
        self.verify = verify
        self._offsets: Optional[array] = None
        self._lengths: Optional[array] = None
        try:
            comp = _rec.detect_input(self._raw)
        except BaseException:
            self.close()
            raise
        if comp != _rec.NONE:
            self.close()
            raise UnsupportedError(
                f"random access needs an uncompressed TFRecord file; this one is {comp}: "
                "iterate it with tfformats.records.read(), or decompress it first",
                path=self.name,
            )

    def _index(self) -> None:
        offsets = array("q")
        lengths = array("q")
        for off, length in _rec.iter_spans(self._raw, verify=self.verify):
            offsets.append(off)
            lengths.append(length)
        self._offsets, self._lengths = offsets, lengths

    @property
    def offsets(self) -> array:
        """Byte offset of each record's header (an ``array('q')``)."""
        if self._offsets is None:
            self._index()
        return self._offsets

    @property
    def lengths(self) -> array:
        """Data length of each record (an ``array('q')``)."""
        if self._lengths is None:
            self._index()
        return self._lengths

    def __len__(self) -> int:
        return len(self.offsets)

    #: Iteration and slices read runs of consecutive records up to this many bytes at once
    #: (one ranged request for many small records of a remote file, not one each).
    RUN_BYTES = 4 << 20

    def _data(self, i: int, frame, at: int) -> bytes:
        """Record ``i``'s data out of ``frame``, whose byte ``at`` is the record's header."""
        length = self._lengths[i]
        data = frame[at + 12 : at + 12 + length]
        if self.verify and _rec._mask(_rec._crc32c(data)) != _rec._I.unpack_from(frame, at + 12 + length)[0]:
            err = ChecksumError(
                f"record {i}: data CRC mismatch over {length} bytes", path=self.name, offset=self._offsets[i]
            )
            err.record = i
            raise err
        return bytes(data)

    def _read(self, i: int) -> bytes:
        off = self.offsets[i]
        length = self._lengths[i]
        frame = self._raw.pread(off, length + 16)
        if len(frame) != length + 16:
            raise DataLossError(f"record {i}: file shrank while reading", path=self.name, offset=off)
        return self._data(i, frame, 0)

    def _read_run(self, i: int, j: int) -> Iterator[bytes]:
        """Records ``i`` to ``j - 1``, with one read per run of up to :attr:`RUN_BYTES` bytes."""
        offsets, lengths = self.offsets, self._lengths
        k = i
        while k < j:
            start = offsets[k]
            stop = start + lengths[k] + 16
            end = k + 1
            while end < j and offsets[end] == stop and stop + lengths[end] + 16 - start <= self.RUN_BYTES:
                stop += lengths[end] + 16
                end += 1
            if end == k + 1:
                yield self._read(k)
                k += 1
                continue
            run = self._raw.pread(start, stop - start)
            if len(run) != stop - start:
                raise DataLossError(f"record {k}: file shrank while reading", path=self.name, offset=start)
            mv = memoryview(run)
            for m in range(k, end):
                yield self._data(m, mv, offsets[m] - start)
            k = end

    def __getitem__(self, key):
        n = len(self)
        if isinstance(key, slice):
            start, stop, step = key.indices(n)
            if step == 1:
                return list(self._read_run(start, max(start, stop)))
            return [self._read(i) for i in range(start, stop, step)]
        try:
            i = key.__index__()
        except AttributeError:
            raise TypeError(f"record indices must be integers or slices, not {type(key).__name__}") from None
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(f"record index {key} out of range for {n} records")
        return self._read(i)

    def __iter__(self) -> Iterator[bytes]:
        yield from self._read_run(0, len(self))

    def close(self) -> None:
        if self._owns:
            self._raw.close()
            self._owns = False

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        n = f"{len(self._offsets)} records" if self._offsets is not None else "not indexed yet"
        return f"<tfformats RecordFile {self.name!r} ({n})>"


def open_records(source: PathOrFile, *, verify: bool = True) -> RecordFile:
    """Open an uncompressed TFRecord file for ``len()`` and random access (a :class:`RecordFile`)."""
    return RecordFile(source, verify=verify)


class RecordWriter:
    """Write records to a TFRecord file that TensorFlow reads.

    ``dest``: a path, an fsspec URL, or a binary file object (left open).
    ``compression``: ``None``/``""``/``"NONE"``, ``"GZIP"``, ``"ZLIB"`` or
    ``"SNAPPY"`` (TF's framing, blocks of at most 256 KiB).
    ``level``: the zlib compression level for GZIP/ZLIB (default 6).

    ``write()`` accepts bytes-like objects and protobuf messages::

        with RecordWriter("out.tfrecord.gz", compression="GZIP") as w:
            for ex in examples:
                w.write(ex)
    """

    _FLUSH_BYTES = 1 << 20

    def __init__(self, dest, compression: Optional[str] = None, *, level: Optional[int] = None) -> None:
        comp = _rec.normalize_compression(compression) or _rec.NONE
        self.compression = comp
        self._enc = _rec.FrameEncoder()
        self._comp = _rec.make_compressor(comp, level)
        self._parts: list = []
        self._pending = 0
        self.records_written = 0
        self._closed = False
        if isinstance(dest, (str, os.PathLike)):
            path = os.fspath(dest)
            if isinstance(path, bytes):
                path = os.fsdecode(path)
            self.name = path
            from ._io.source import is_remote

            try:
                if is_remote(path):
                    from ._io.remote import _fsspec

                    self._f = _fsspec().open(path, "wb").open()
                else:
                    if path.startswith("file://"):
                        path = path[len("file://") :]
                    self._f = open(path, "wb")
            except OSError as exc:
                raise TFFormatsError(f"cannot open for writing: {exc}", path=path) from exc
            self._owns = True
        elif hasattr(dest, "write"):
            self._f = dest
            self._owns = False
            self.name = str(getattr(dest, "name", "<stream>"))
        else:
            raise TypeError(f"expected a path, URL or a writable binary file, not {type(dest).__name__}")

    def write(self, record) -> None:
        """Append one record (bytes-like, or a protobuf message)."""
        if self._closed:
            raise InvalidArgumentError("write to a closed RecordWriter", path=self.name)
        if not isinstance(record, (bytes, bytearray, memoryview)):
            ser = getattr(record, "SerializeToString", None)
            if ser is None:
                raise TypeError(f"records must be bytes-like or protobuf messages, not {type(record).__name__}")
            record = ser()
        length = len(record) if not isinstance(record, memoryview) else record.nbytes
        parts = self._parts
        parts.append(self._enc.header(length))
        parts.append(record)
        parts.append(_rec._I.pack(_rec._mask(_rec._crc32c(record))))
        self.records_written += 1
        self._pending += length + 16
        if self._pending >= self._FLUSH_BYTES:
            self._drain()

    def write_all(self, records: Iterable) -> int:
        """Append every record of an iterable; returns how many were written."""
        n = 0
        for r in records:
            self.write(r)
            n += 1
        return n

    def _drain(self) -> None:
        if not self._parts:
            return
        data = b"".join(self._parts)
        self._parts = []
        self._pending = 0
        out = self._comp.compress(data)
        if out:
            self._f.write(out)

    def flush(self) -> None:
        """Push everything written so far to the file (a sync point for GZIP/ZLIB, a block end for SNAPPY)."""
        self._drain()
        out = self._comp.flush()
        if out:
            self._f.write(out)
        self._f.flush()

    def close(self) -> None:
        if self._closed:
            return
        try:
            self._drain()
            out = self._comp.finish()
            if out:
                self._f.write(out)
            self._f.flush()
        finally:
            self._closed = True
            if self._owns:
                self._f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<tfformats RecordWriter {self.name!r} {self.compression} ({self.records_written} records, {state})>"


def write(dest, records: Iterable, compression: Optional[str] = None, *, level: Optional[int] = None) -> int:
    """Write an iterable of records (bytes-like or protobuf messages) to a TFRecord file; returns the count."""
    with RecordWriter(dest, compression, level=level) as w:
        return w.write_all(records)


# Names exported at the package top level (tfformats.read_records...).
read_records = read
count_records = count
write_records = write
