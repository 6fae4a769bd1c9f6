"""TensorBoard event files: scalars, histograms, images, text, audio, tensors, graphs.

An event file (``events.out.tfevents.*``) is a TFRecord file of
``tensorflow.Event`` protos; a log directory holds one folder per *run*,
each with one or more event files read in name order::

    import tfformats.events as tfev

    log = tfev.read_events("logs/")            # every run under logs/, recursively
    log.runs                                   # ['eval', 'train']
    log.scalars                                # a Table: run, tag, step, wall_time, value
    for row in log.scalars.filter(tag="loss"):
        print(row.run, row.step, row.value)
    log.scalars["value"]                       # float64 numpy column
    df = log.scalars.to_pandas()               # with pandas installed
    log.histograms, log.images, log.audio, log.text, log.tensors
    log.graphs, log.meta_graphs, log.run_metadata, log.session_logs

    for ev in tfev.iter_events("logs/train/events.out.tfevents.1700000000.host"):
        ...                                    # raw tensorflow.Event messages

TF1 and TF2 forms are unified the way TensorBoard does it: ``simple_value``
and rank-0 tensors of the ``scalars`` plugin are scalars; ``HistogramProto``
and ``[k, 3]`` tensors (left edge, right edge, count) of the ``histograms``
plugin are histograms; ``Summary.Image`` and the ``images`` plugin's
``[width, height, png...]`` string tensors are images; ``Summary.Audio`` and
the ``audio`` plugin's ``[k, 2]`` tensors are audio; the ``text`` plugin's
string tensors are text.  A plugin's metadata is often written only with
the first event of a tag; later events of that tag inherit it.  Other
tensors (other plugins, no plugin) go to ``tensors``.  Tensors are decoded
with :func:`tfformats.tensor.tensor_to_numpy`.  Values of the ``hparams``
plugin keep their data in the plugin metadata: their ``tensors`` rows hold
that content (``HParamsPluginData`` bytes).  Files from PyTorch,
tensorboardX and the Keras callback read the same way.  Restarts are not
purged by default (TensorBoard hides steps re-run after a
``SessionLog.START``): every row is kept and the restart is in
``session_logs``; ``read_events(..., purge_orphaned_data=True)`` hides them
as TensorBoard does.

A truncated last record — a writer still running — ends a file quietly.
"""

from __future__ import annotations

import os
import struct
from collections import namedtuple
from dataclasses import dataclass
from typing import Iterable, Iterator, Optional, Union

import numpy as np

from .errors import DataLossError, InvalidArgumentError, NotFoundError, TFFormatsError, UnsupportedError

__all__ = [
    "iter_events",
    "read_events",
    "find_runs",
    "iter_summaries",
    "EventLog",
    "Table",
    "Histogram",
    "Summary",
    "KINDS",
]

KINDS = ("scalars", "histograms", "images", "audio", "text", "tensors")
_EVENT_KINDS = ("graphs", "meta_graphs", "run_metadata", "session_logs", "log_messages")

# column layouts of each table (run, tag, step, wall_time first)
_FIELDS = {
    "scalars": ("run", "tag", "step", "wall_time", "value"),
    "histograms": ("run", "tag", "step", "wall_time", "value"),
    "images": ("run", "tag", "step", "wall_time", "index", "width", "height", "value"),
    "audio": ("run", "tag", "step", "wall_time", "index", "sample_rate", "content_type", "label", "value"),
    "text": ("run", "tag", "step", "wall_time", "value"),
    "tensors": ("run", "tag", "step", "wall_time", "plugin", "value"),
    "graphs": ("run", "step", "wall_time", "value"),
    "meta_graphs": ("run", "step", "wall_time", "value"),
    "run_metadata": ("run", "tag", "step", "wall_time", "value"),
    "session_logs": ("run", "step", "wall_time", "status", "checkpoint_path", "msg"),
    "log_messages": ("run", "step", "wall_time", "level", "message"),
}
_ROW = {kind: namedtuple(kind.title().replace("_", "") + "Row", fields) for kind, fields in _FIELDS.items()}

_SESSION_STATUS = {0: "STATUS_UNSPECIFIED", 1: "START", 2: "STOP", 3: "CHECKPOINT"}
_LOG_LEVEL = {0: "UNKNOWN", 10: "DEBUGGING", 20: "INFO", 30: "WARN", 40: "ERROR", 50: "FATAL"}
_AUDIO_ENCODING = {0: "audio/wav"}  # AudioPluginData.Encoding: UNKNOWN=0 (TensorBoard treats as WAV), WAV=11
DT_FLOAT, DT_DOUBLE = 1, 2


def _pb():
    from .proto import pb

    return pb


_RAW = None


def _raw():
    """``Event`` with its nested messages left as bytes, in a pool of its own.

    Wire-compatible with ``tensorflow.Event``: reading a scalar then costs one
    parse and a few field reads, and a TF2 scalar's ``TensorProto`` is
    recognised from its bytes without building a message.  Everything else is
    parsed with the real classes when met.
    """
    global _RAW
    if _RAW is not None:
        return _RAW
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
    from google.protobuf.message import DecodeError

    F = descriptor_pb2.FieldDescriptorProto
    fdp = descriptor_pb2.FileDescriptorProto(name="tfformats_raw_event.proto", package="tfformats_raw_event", syntax="proto3")

    def add(m, name, number, ftype, label=F.LABEL_OPTIONAL, type_name=None, oneof=None):
        f = m.field.add(name=name, number=number, type=ftype, label=label)
        if type_name:
            f.type_name = ".tfformats_raw_event." + type_name
        if oneof is not None:
            f.oneof_index = oneof
        return f

    ev = fdp.message_type.add(name="EventRaw")
    ev.oneof_decl.add(name="what")
    add(ev, "wall_time", 1, F.TYPE_DOUBLE)
    add(ev, "step", 2, F.TYPE_INT64)
    add(ev, "file_version", 3, F.TYPE_BYTES, oneof=0)
    add(ev, "graph_def", 4, F.TYPE_BYTES, oneof=0)
    add(ev, "summary", 5, F.TYPE_MESSAGE, type_name="SummaryRaw", oneof=0)
    add(ev, "log_message", 6, F.TYPE_BYTES, oneof=0)
    add(ev, "session_log", 7, F.TYPE_BYTES, oneof=0)
    add(ev, "tagged_run_metadata", 8, F.TYPE_BYTES, oneof=0)
    add(ev, "meta_graph_def", 9, F.TYPE_BYTES, oneof=0)
    sm = fdp.message_type.add(name="SummaryRaw")
    add(sm, "value", 1, F.TYPE_MESSAGE, F.LABEL_REPEATED, "ValueRaw")
    v = fdp.message_type.add(name="ValueRaw")
    v.oneof_decl.add(name="value")
    add(v, "tag", 1, F.TYPE_BYTES)
    add(v, "simple_value", 2, F.TYPE_FLOAT, oneof=0)
    add(v, "obsolete_old_style_histogram", 3, F.TYPE_BYTES, oneof=0)
    add(v, "image", 4, F.TYPE_BYTES, oneof=0)
    add(v, "histo", 5, F.TYPE_BYTES, oneof=0)
    add(v, "audio", 6, F.TYPE_BYTES, oneof=0)
    add(v, "node_name", 7, F.TYPE_BYTES)
    add(v, "tensor", 8, F.TYPE_BYTES, oneof=0)
    add(v, "metadata", 9, F.TYPE_BYTES)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)

    class _NS:
        pass

    ns = _NS()
    ns.EventRaw = message_factory.GetMessageClass(pool.FindMessageTypeByName("tfformats_raw_event.EventRaw"))
    ns.DecodeError = DecodeError
    _RAW = ns
    return ns


# Serialized rank-0 TensorProtos as TF writes scalars: dtype, empty shape, then 4 or 8 value bytes
_F32_SCALARS = (b"\x08\x01\x12\x00\x22\x04", b"\x08\x01\x12\x00\x2a\x04")  # tensor_content / packed float_val
_F64_SCALARS = (b"\x08\x02\x12\x00\x22\x08", b"\x08\x02\x12\x00\x32\x08")  # tensor_content / packed double_val


# ---------------------------------------------------------------------------
# Values


@dataclass(frozen=True)
class Histogram:
    """One histogram: ``buckets`` is a float64 ``[k, 3]`` array of (left edge, right edge, count).

    For TF1 ``HistogramProto`` values, ``buckets`` is derived the way
    TensorBoard does it (empty buckets at both ends dropped, the outer edges
    replaced by ``min`` and ``max``) and the proto's own fields are kept:
    ``min``, ``max``, ``num``, ``sum``, ``sum_squares``, ``bucket_limit``
    (right edges) and ``bucket`` (counts).  TF2 histograms have only
    ``buckets``; the statistics are ``None``.
    """

    buckets: np.ndarray
    min: Optional[float] = None
    max: Optional[float] = None
    num: Optional[float] = None
    sum: Optional[float] = None
    sum_squares: Optional[float] = None
    bucket_limit: Optional[np.ndarray] = None
    bucket: Optional[np.ndarray] = None

    @property
    def counts(self) -> np.ndarray:
        return self.buckets[:, 2]

    @property
    def edges(self) -> np.ndarray:
        """``k + 1`` bucket edges (left edges, then the last right edge)."""
        if not len(self.buckets):
            return np.zeros(0)
        return np.append(self.buckets[:, 0], self.buckets[-1, 1])

    def __eq__(self, other) -> bool:
        if not isinstance(other, Histogram):
            return NotImplemented
        return np.array_equal(self.buckets, other.buckets)

    __hash__ = None

    def __repr__(self) -> str:
        total = float(self.buckets[:, 2].sum()) if len(self.buckets) else 0.0
        return f"<Histogram {len(self.buckets)} buckets, {total:g} values>"


def _histo_proto(h, path=None, entry=None) -> Histogram:
    limits = np.array(h.bucket_limit, dtype=np.float64)
    counts = np.array(h.bucket, dtype=np.float64)
    if len(limits) != len(counts):  # every writer gives one right edge per count
        raise DataLossError(
            f"histogram has {len(counts)} bucket counts but {len(limits)} bucket limits", path=path, entry=entry
        )
    nz = np.flatnonzero(counts > 0)
    if not len(nz):
        buckets = np.zeros((0, 3))
    else:
        a, b = int(nz[0]), int(nz[-1])
        inner = limits[a:b]
        lefts = np.concatenate(([h.min], inner))
        rights = np.concatenate((inner, [h.max]))
        buckets = np.stack([lefts, rights, counts[a : b + 1]], axis=1)
    return Histogram(buckets, h.min, h.max, h.num, h.sum, h.sum_squares, limits, counts)


# ---------------------------------------------------------------------------
# Tables


class Table:
    """Rows of one kind (scalars, histograms...), stored by column.

    Iterating gives named tuples (``row.run, row.tag, row.step,
    row.wall_time, row.value`` ...); ``table["step"]`` gives a column
    (numpy arrays for numbers, lists otherwise); ``filter()`` selects rows;
    ``to_pandas()`` makes a DataFrame when pandas is installed.
    """

    def __init__(self, kind: str, columns: dict) -> None:
        self.kind = kind
        self.fields = _FIELDS[kind]
        self._row = _ROW[kind]
        cols = {}
        n = None
        for f in self.fields:
            c = columns.get(f, [])
            if f == "step" or f in ("index", "width", "height", "sample_rate", "level"):
                c = np.asarray(c, dtype=np.int64) if not isinstance(c, np.ndarray) else c
            elif f == "wall_time" or (f == "value" and kind == "scalars"):
                c = np.asarray(c, dtype=np.float64) if not isinstance(c, np.ndarray) else c
            elif not isinstance(c, (list, np.ndarray)):
                c = list(c)
            if n is None:
                n = len(c)
            elif len(c) != n:
                raise InvalidArgumentError(f"column {f!r} has {len(c)} rows, expected {n}")
            cols[f] = c
        self._cols = cols
        self._n = n or 0

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, field: str):
        try:
            return self._cols[field]
        except KeyError:
            raise KeyError(f"{self.kind} have no column {field!r}; columns: {', '.join(self.fields)}") from None

    def __iter__(self):
        row = self._row
        cols = [c.tolist() if isinstance(c, np.ndarray) else c for c in (self._cols[f] for f in self.fields)]
        return (row(*vals) for vals in zip(*cols))

    def rows(self) -> list:
        """All rows as a list of named tuples."""
        return list(self)

    def row(self, i: int):
        c = self._cols
        return self._row(*(c[f][i].item() if isinstance(c[f], np.ndarray) else c[f][i] for f in self.fields))

    def _take(self, idx: np.ndarray) -> "Table":
        cols = {}
        for f, c in self._cols.items():
            cols[f] = c[idx] if isinstance(c, np.ndarray) else [c[i] for i in idx.tolist()]
        return Table(self.kind, cols)

    def filter(self, *, run: Union[str, Iterable[str], None] = None, tag: Union[str, Iterable[str], None] = None) -> "Table":
        """Rows of the given run(s) and/or tag(s)."""
        mask = np.ones(self._n, bool)
        for field, want in (("run", run), ("tag", tag)):
            if want is None or field not in self._cols:
                continue
            wanted = {want} if isinstance(want, str) else set(want)
            mask &= np.fromiter((v in wanted for v in self._cols[field]), bool, self._n)
        return self._take(np.flatnonzero(mask))

    def tags(self) -> list:
        return sorted(set(self._cols["tag"])) if "tag" in self._cols else []

    def runs(self) -> list:
        return sorted(set(self._cols["run"]))

    def to_dict(self) -> dict:
        """The columns, by name."""
        return dict(self._cols)

    def to_pandas(self):
        """A ``pandas.DataFrame`` of this table (needs pandas: ``pip install 'tfformats[pandas]'``)."""
        try:
            import pandas as pd
        except ImportError as exc:
            raise UnsupportedError("to_pandas() needs pandas: pip install 'tfformats[pandas]'") from exc
        data = {}
        for f in self.fields:
            c = self._cols[f]
            if isinstance(c, list):
                col = np.empty(len(c), object)
                col[:] = c
                c = col
            data[f] = c
        return pd.DataFrame(data, columns=list(self.fields))

    def __repr__(self) -> str:
        tags = self.tags()
        shown = ", ".join(tags[:5]) + (", ..." if len(tags) > 5 else "")
        return f"<tfformats events Table {self.kind}: {self._n} rows" + (f", tags {shown}>" if tags else ">")


# ---------------------------------------------------------------------------
# Finding files


def _is_event_file(name: str) -> bool:
    return "tfevents" in name


def _not_a_record_file(path) -> Optional[str]:
    """Why a local file found in a log directory is not a TFRecord file at all, else ``None``.

    Its first 12 bytes must be a record length and that length's CRC.  A
    file too short to tell, or a URL, is left to the reader.
    """
    from ._io.records import _DETECT_BYTES, HEADER_SIZE, NONE, detect_compression, header_is_valid

    if not isinstance(path, (str, os.PathLike)) or "://" in os.fspath(path):
        return None
    try:
        with open(path, "rb") as f:
            head = f.read(_DETECT_BYTES)
    except OSError:
        return None
    if len(head) < HEADER_SIZE or header_is_valid(head) or detect_compression(head) != NONE:
        return None  # too short to tell, a TFRecord header, or a compressed stream (read as one)
    return "not a TFRecord file (no valid record header at offset 0): skipped, as TensorBoard finds no events in it"


def find_runs(path) -> dict:
    """``{run: [event files in order]}`` under a log directory (recursively), or for one event file.

    A run is a directory holding event files (any file with ``tfevents`` in
    its name, as TensorBoard decides); its name is its path relative to
    ``path``, ``"."`` for ``path`` itself.  Files of a run are sorted by name,
    which orders them by creation time.  Works with fsspec URLs too.
    """
    from ._io.source import is_remote

    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"expected a path or URL, not {type(path).__name__}")
    p = os.fspath(path)
    if is_remote(p):
        return _find_runs_remote(p)
    if p.startswith("file://"):
        p = p[len("file://") :]
    if os.path.isfile(p):
        return {".": [p]}
    if not os.path.isdir(p):
        raise NotFoundError("no such file or directory", path=p)
    runs: dict = {}
    for root, dirs, files in os.walk(p):
        dirs.sort()
        ev = sorted(f for f in files if _is_event_file(f))
        if ev:
            rel = os.path.relpath(root, p)
            runs[rel.replace(os.sep, "/")] = [os.path.join(root, f) for f in ev]
    return dict(sorted(runs.items()))


def _find_runs_remote(url: str) -> dict:
    from ._io.remote import url_to_fs

    fs, path = url_to_fs(url)  # UnsupportedError when the URL's filesystem package is missing
    root = path.rstrip("/")
    protocol = url.split("://", 1)[0]

    def full(p: str) -> str:
        return p if "://" in p else f"{protocol}://{p}"

    # Directory first: over HTTP a directory listing also answers 200, so
    # fsspec calls it a file too; a path ending in "/" is a directory.  The
    # file's metadata (a HEAD request) settles most cases: fsspec's HTTP
    # isdir/isfile send GETs, which for a large file start sending all of it.
    try:
        info = fs.info(root)
    except Exception:
        info = {}
    plain_file = info.get("type") == "file" and info.get("mimetype", "") not in ("text/html", None)
    if plain_file and not url.endswith("/"):
        return {".": [url]}
    is_dir = url.endswith("/") or fs.isdir(root)
    if not is_dir:
        if fs.isfile(root):
            return {".": [url]}
        raise NotFoundError("no such file or directory", path=url)
    runs: dict = {}
    for d, _, files in fs.walk(root):
        ev = sorted(f for f in files if _is_event_file(f))
        if ev:
            rel = d.rstrip("/")[len(root) :].strip("/") or "."
            runs[rel] = [full(f"{d.rstrip('/')}/{f}") for f in ev]
    return dict(sorted(runs.items()))


# ---------------------------------------------------------------------------
# Raw events


def iter_events(source, *, verify: bool = True, errors: str = "raise", tolerate_truncation: bool = True) -> Iterator:
    """The ``tensorflow.Event`` messages of one event file, in order.

    ``source`` is a path, URL, ``bytes`` or binary file.  A truncated last
    record ends iteration quietly (``tolerate_truncation``); damaged records
    raise :class:`~tfformats.errors.DataLossError` unless ``errors="skip"``.
    """
    from . import records as _records

    Event = _pb().Event
    name = getattr(source, "name", source)
    it = _records.read(source, verify=verify, errors=errors, tolerate_truncation=tolerate_truncation)
    with it:
        for i, data in enumerate(it):
            try:
                yield Event.FromString(data)
            except Exception as exc:  # protobuf's DecodeError
                raise DataLossError(f"record {i} is not a tensorflow.Event: {exc}", path=str(name)) from None


# ---------------------------------------------------------------------------
# Summaries

EventFile = namedtuple("EventFile", "run path file_version truncated skipped", defaults=(None,))
EventFile.__doc__ = """One file of a log, as read (``EventLog.files``).

``truncated``: a :class:`~tfformats.records.BadRecord` for an incomplete last
record (a writer still running), else ``None``.  ``skipped``: why a file in a
log directory was not read (its name says ``tfevents`` but it is not a
TFRecord file, as TensorBoard finds nothing in it either), else ``None``.
"""

Summary = namedtuple("Summary", "run tag step wall_time kind value extra")
Summary.__doc__ = """One normalised summary value (see :func:`iter_summaries`).

``kind`` is one of ``scalars, histograms, images, audio, text, tensors``;
``extra`` holds the kind's other columns (e.g. ``width``/``height`` of an
image, ``plugin`` of a tensor) as a dict.
"""


_BATCH = 1 << 14
_PAD = bytes(64)
_SCALARS_META = b"\x0a\x09\x0a\x07scalars"  # SummaryMetadata{plugin_data{plugin_name: "scalars"}}


# ---------------------------------------------------------------------------
# Whole-file scalar decoding: every record of a file classified and decoded at once


_BULK = True  # read_events decodes scalars in bulk (False: event by event, for differential tests)
_MAXV = 64  # values per event decoded in bulk; an event with more goes to the per-event path
_WHOLE_LIMIT = 256 << 20  # larger files (or compressed ones, or streams) are read batch by batch
_SEGMENT = 1 << 18  # records of a whole file decoded together
_WHOLE_PAD = 64


def _u(pattern: bytes) -> int:
    return int.from_bytes(pattern, "little")


# 8-byte heads of a rank-0 TensorProto value (field 8 of Summary.Value) as TF writes scalars
_T_F32 = (_u(b"\x42\x0a\x08\x01\x12\x00\x22\x04"), _u(b"\x42\x0a\x08\x01\x12\x00\x2a\x04"))  # tensor_content / float_val
_T_F64 = (_u(b"\x42\x0e\x08\x02\x12\x00\x22\x08"), _u(b"\x42\x0e\x08\x02\x12\x00\x32\x08"))  # tensor_content / double_val
_META = b"\x4a\x0b" + _SCALARS_META  # Summary.Value.metadata = SummaryMetadata{plugin_data{plugin_name: "scalars"}}
_META_A, _META_B = _u(_META[:8]), _u(_META[5:13])


def _varints(buf: np.ndarray, pos: np.ndarray, nmax: int):
    """Varints at ``pos`` (at most ``nmax`` bytes each): ``(uint64 values, sizes)``, size 0 when not well formed.

    A 10-byte varint must end in 0 or 1 (it holds 64 bits).  ``buf`` must
    have ``nmax`` readable bytes after every position.
    """
    b = buf[pos]
    val = (b & 0x7F).astype(np.uint64)
    size = np.ones(len(pos), np.int64)
    cont = b >= 0x80
    k = 1
    while k < nmax:
        w = np.flatnonzero(cont)
        if not len(w):
            break
        bb = buf[pos[w] + k]
        if k == 9:
            bad = bb > 1
            bb = np.where(bad, 0x80, bb)  # stays "continuing": refused below
        val[w] |= (bb & 0x7F).astype(np.uint64) << np.uint64(7 * k)
        size[w] += 1
        cont[w] = bb >= 0x80
        k += 1
    size[cont] = 0
    return val, size


class _Scan:
    """What :func:`_scan_events` found: the records decoded in bulk and their values, in order."""

    __slots__ = ("fast", "key", "tag", "step", "wt", "value", "kind")


_SIMPLE, _WITH_META, _NO_META = 0, 1, 2  # how a bulk value was written (kind)


def _scan_events(data, starts: np.ndarray, lens: np.ndarray) -> "_Scan":
    """Find and decode, with numpy, the scalar events of a whole event file.

    ``data`` holds the records (``starts``/``lens``) and ``_WHOLE_PAD`` bytes
    after the last one.  A record is decoded here when it is exactly::

        09 wall_time:f64 [10 step:varint] 2a len Summary{ (0a len Value)* }

    and every Value is ``0a len tag`` (a non-empty tag) followed by exactly
    one of: ``15 simple_value:f32``; a rank-0 float or double tensor
    (``tensor_content`` or ``float_val``/``double_val``) with or without the
    ``scalars`` plugin metadata — the bytes TensorFlow (``tf.summary.scalar``,
    TF1 ``FileWriter``), PyTorch and tensorboardX write.  ``fast`` marks
    those records; every value of them is in the other arrays, ordered by
    ``key`` (``record * _MAXV + value index``), with ``tag`` as ``(start,
    length)`` pairs in ``data`` and ``kind`` one of ``_SIMPLE`` (always a
    scalar), ``_WITH_META`` (a scalar, and sets its tag's plugin) or
    ``_NO_META`` (a scalar only if its tag's plugin is ``scalars`` by then).
    """
    n = len(starts)
    out = _Scan()
    size = len(data)
    buf = np.frombuffer(data, np.uint8)
    u64 = np.ndarray((size - 7,), "<u8", buffer=data, strides=(1,))
    f32 = np.ndarray((size - 3,), "<f4", buffer=data, strides=(1,))
    f64 = np.ndarray((size - 7,), "<f8", buffer=data, strides=(1,))
    fast = np.zeros(n, bool)
    rec = np.flatnonzero((lens >= 21) & (buf[starts] == 0x09))
    s = starts[rec]
    e = s + lens[rec]
    wt_all = f64[s + 1]
    p = s + 9
    has_step = buf[p] == 0x10
    step_all = np.zeros(len(rec), np.uint64)
    w = np.flatnonzero(has_step)
    v, z = _varints(buf, p[w] + 1, 10)
    good = np.ones(len(rec), bool)
    good[w] = z > 0
    step_all[w] = v
    p[w] += 1 + z
    p = np.minimum(p, e)
    good &= buf[p] == 0x2A
    l1, z1 = _varints(buf, p + 1, 5)
    cur = p + 1 + z1
    good &= (z1 > 0) & (l1 == (e - cur).astype(np.uint64))
    live = good  # records still being decoded
    cur = np.minimum(cur, e)
    keys, places, tag_s, tag_l, vals, kinds = [], [], [], [], [], []
    for k in range(_MAXV):
        at = np.flatnonzero(live & (cur < e))
        if not len(at):
            break
        c = cur[at]
        ea = e[at]
        ok = buf[c] == 0x0A
        lv, zv = _varints(buf, c + 1, 5)
        vs = np.minimum(c + 1 + zv, ea)
        ok &= (zv > 0) & (lv <= (ea - vs).astype(np.uint64))
        ve = vs + np.minimum(lv, ea - vs).astype(np.int64)
        ok &= buf[vs] == 0x0A
        tl, zt = _varints(buf, vs + 1, 3)
        ts = np.minimum(vs + 1 + zt, ve)
        ok &= (zt > 0) & (tl > 0) & (tl < (ve - ts).astype(np.uint64))
        te = ts + np.minimum(tl, ve - ts).astype(np.int64)
        rest = ve - te
        simple = (buf[te] == 0x15) & (rest == 5)
        head = u64[te]
        is32 = (head == _T_F32[0]) | (head == _T_F32[1])
        is64 = (head == _T_F64[0]) | (head == _T_F64[1])
        meta = (u64[np.minimum(te + 12, ve)] == _META_A) & (u64[np.minimum(te + 17, ve)] == _META_B)
        meta64 = (u64[np.minimum(te + 16, ve)] == _META_A) & (u64[np.minimum(te + 21, ve)] == _META_B)
        t32 = is32 & ((rest == 12) | ((rest == 25) & meta))
        t64 = is64 & ((rest == 16) | ((rest == 29) & meta64))
        ok &= simple | t32 | t64
        with np.errstate(invalid="ignore"):  # signalling NaNs, here or in rows refused
            value = np.where(simple, f32[te + 1], f32[np.minimum(te + 8, size - 4)]).astype(np.float64)
        value = np.where(t64, f64[np.minimum(te + 8, size - 8)], value)
        kind = np.where(simple, _SIMPLE, np.where((rest == 25) | (rest == 29), _WITH_META, _NO_META))
        live[at[~ok]] = False
        g = np.flatnonzero(ok)
        keys.append(rec[at[g]] * _MAXV + k)
        places.append(at[g])
        tag_s.append(ts[g])
        tag_l.append(tl[g].astype(np.int64))
        vals.append(value[g])
        kinds.append(kind[g])
        cur[at] = np.where(ok, ve, cur[at])
    live &= cur >= e  # every value decoded (none left over after _MAXV)
    fast[rec[live]] = True
    step_all = step_all.view(np.int64)
    if keys:
        key = np.concatenate(keys)
        keep = np.flatnonzero(fast[key // _MAXV])
        key = key[keep]
        if len(keys) > 1 and len(key) > 1 and not (key[1:] > key[:-1]).all():  # events of several values
            order = np.argsort(key, kind="stable")
            keep, key = keep[order], key[order]
        where = np.concatenate(places)[keep]  # each value's record, as a place in rec
        out.tag = (np.concatenate(tag_s)[keep], np.concatenate(tag_l)[keep])
        out.value = np.concatenate(vals)[keep]
        out.kind = np.concatenate(kinds)[keep]
        out.step = step_all[where]
        out.wt = wt_all[where]
    else:
        key = np.zeros(0, np.int64)
        out.tag = (key, key)
        out.value = out.wt = np.zeros(0)
        out.kind = out.step = key
    out.fast = fast
    out.key = key
    return out


def _by_tag(ids: np.ndarray, rows: np.ndarray, n_tags: int):
    """``(tag id, rows of that tag in order)`` for the tags among ``ids[rows]``."""
    if not len(rows):
        return []
    sub = ids[rows]
    present = np.flatnonzero(np.bincount(sub, minlength=n_tags))
    if len(present) <= 32:
        return [(t, rows[sub == t]) for t in present.tolist()]
    order = rows[np.argsort(sub, kind="stable")]
    tids, first = np.unique(ids[order], return_index=True)
    return list(zip(tids.tolist(), np.split(order, first[1:])))


def _tag_name(b: bytes) -> str:
    """A tag as text; bytes that are not UTF-8 (TensorBoard refuses such files) kept apart as ``\\xNN``."""
    return b.decode("utf-8", "backslashreplace")


def _tag_ids(data, buf: np.ndarray, ts: np.ndarray, tl: np.ndarray):
    """Tags ``data[ts:ts+tl]`` as ``(ids, names)``: ``names[ids[j]]`` is tag j, decoded like the per-event path."""
    ids = np.zeros(len(ts), np.int64)
    names: list = []
    index: dict = {}
    if not len(ts):
        return ids, names

    def name_id(b: bytes) -> int:
        name = _tag_name(b)
        t = index.get(name)
        if t is None:
            t = index[name] = len(names)
            names.append(name)
        return t

    counts = np.bincount(tl)  # tag lengths are below 2**21 (3-byte varints)
    present = np.flatnonzero(counts)
    if len(present) == 1:
        groups = [(int(present[0]), np.arange(len(tl)))]
    else:
        order = np.argsort(tl, kind="stable")
        groups = zip(present.tolist(), np.split(order, np.cumsum(counts[present])[:-1]))
    size = len(data)
    u64 = np.ndarray((size - 7,), "<u8", buffer=data, strides=(1,))
    for length, rows in groups:
        # the tag as 8-byte words (the last one masked; data has 8 bytes after every tag)
        nw = (length + 7) // 8
        t0 = ts[rows]
        words = [u64[t0 + 8 * j] for j in range(nw)]
        tail = length - 8 * (nw - 1)
        if tail < 8:
            words[-1] = words[-1] & np.uint64((1 << (8 * tail)) - 1)
        # a few distinct tags (the usual case): peel them off one by one; else sort
        left = np.arange(len(rows))
        for _ in range(16):
            r = left[0]
            same = words[0][left] == words[0][r]
            for w in words[1:]:
                same &= w[left] == w[r]
            ids[rows[left[same]]] = name_id(bytes(data[t0[r] : t0[r] + length]))
            left = left[~same]
            if not len(left):
                break
        if len(left):
            mat = buf[t0[left][:, None] + np.arange(length)]
            sub = np.ascontiguousarray(mat).view(np.dtype((np.void, length))).reshape(-1)
            uniq, back = np.unique(sub, return_inverse=True)
            local = np.fromiter((name_id(bytes(u)) for u in uniq.tolist()), np.int64, len(uniq))
            ids[rows[left]] = local[back.reshape(-1)]
    return ids, names



class _Decoder:
    """Turns events into table rows; remembers each tag's plugin across events."""

    def __init__(self, kinds, tags) -> None:
        self.kinds = set(kinds) if kinds is not None else set(KINDS) | set(_EVENT_KINDS)
        bad = self.kinds - set(KINDS) - set(_EVENT_KINDS)
        if bad:
            raise InvalidArgumentError(f"unknown kinds {sorted(bad)}: choose from {', '.join(KINDS + _EVENT_KINDS)}")
        self.tags = {tags} if isinstance(tags, str) else (set(tags) if tags is not None else None)
        self.cols = {k: {f: [] for f in _FIELDS[k]} for k in self.kinds}
        self.plugin_of: dict = {}  # (run, tag) -> plugin name
        self.scalar_chunks: list = []  # (runs, tags, steps, wall times, values) of files read so far
        self.files: list = []

    def flush_scalars(self) -> None:
        """Move the scalars collected row by row into :attr:`scalar_chunks` (after each file)."""
        sc = self.cols.get("scalars")
        if sc is None or not sc["run"]:
            return
        self.scalar_chunks.append((
            list(sc["run"]), list(sc["tag"]), np.asarray(sc["step"], np.int64),
            np.asarray(sc["wall_time"], np.float64), np.asarray(sc["value"], np.float64),
        ))
        for c in sc.values():
            c.clear()

    def row_counts(self) -> dict:
        """``{kind: rows read so far}`` (scalars after :meth:`flush_scalars`)."""
        counts = {k: len(c["run"]) for k, c in self.cols.items() if k != "scalars"}
        if "scalars" in self.cols:
            counts["scalars"] = sum(len(c[0]) for c in self.scalar_chunks)
        return counts

    def scalar_columns(self) -> dict:
        """All scalars read, as columns (after :meth:`flush_scalars`)."""
        chunks = self.scalar_chunks
        runs, tags = [], []
        for c in chunks:
            runs += c[0]
            tags += c[1]
        cat = lambda j, dt: np.concatenate([c[j] for c in chunks]) if chunks else np.zeros(0, dt)  # noqa: E731
        return {"run": runs, "tag": tags, "step": cat(2, np.int64), "wall_time": cat(3, np.float64),
                "value": cat(4, np.float64)}
        self.files: list = []

    def feed_file(self, run: str, path, verify: bool, errors: str, batched: bool = False,
                  in_dir: bool = False) -> Iterator[None]:
        """Decode one file; yields after every event, or every batch of records when ``batched``.

        ``batched`` (read_events, wanting scalars): a clean file is read whole
        (:func:`tfformats._io.records.read_all`), else batch by batch from the
        record iterator; the scalar events of each buffer are found and
        decoded at once with numpy (:func:`_scan_events`), the other events
        one by one, and the rows merged in record order.  Scalars then go to
        :attr:`scalar_chunks` instead of ``cols["scalars"]``.  A tag's plugin
        is tracked across both: a value without metadata decoded one by one
        sees the plugin set by bulk values before it (``fix``/``hist``), and
        a bulk value without metadata whose tag turns out not to be a scalar
        makes the buffer be decoded again event by event.
        """
        from . import records as _records

        if in_dir:
            foreign = _not_a_record_file(path)
            if foreign is not None:
                self.files.append(EventFile(run, str(path), None, None, foreign))
                return
        pb = _pb()
        R = _raw()
        parse = R.EventRaw.FromString
        DecodeError = R.DecodeError
        unpack_f32 = struct.Struct("<f").unpack_from
        unpack_f64 = struct.Struct("<d").unpack_from
        f32_prefixes, f64_prefixes = _F32_SCALARS, _F64_SCALARS
        tagset = self.tags
        plugin_of = self.plugin_of
        meta_plugin: dict = {}  # serialized SummaryMetadata -> plugin name
        tag_str: dict = {}  # tag bytes -> str
        sc = self.cols.get("scalars")
        want_scalars = sc is not None
        versions: list = []

        def process(pairs, out):
            """The per-event decoder; scalars go to ``out`` (with record numbers when it has a 6th list)."""
            o_run, o_tag, o_step, o_wt, o_val, o_idx = out
            for i, data in pairs:
                try:
                    ev = parse(data)
                    what = ev.WhichOneof("what")
                    if what == "summary":
                        step = ev.step
                        wt = ev.wall_time
                        for v in ev.summary.value:
                            tb = v.tag
                            if not tb and v.node_name and v.WhichOneof("value") == "tensor":
                                tb = v.node_name  # TF1's first TensorSummary op named its values so, as TensorBoard reads
                            tag = tag_str.get(tb)
                            if tag is None:
                                tag = tag_str[tb] = _tag_name(tb)
                            if tagset is not None and tag not in tagset:
                                continue
                            kind = v.WhichOneof("value")
                            if kind == "tensor":
                                meta = v.metadata
                                if meta:
                                    plugin = meta_plugin.get(meta)
                                    if plugin is None:
                                        plugin = pb.SummaryMetadata.FromString(meta).plugin_data.plugin_name
                                        if len(meta_plugin) < 4096:
                                            meta_plugin[meta] = plugin
                                    if plugin:
                                        plugin_of[(run, tag)] = plugin
                                        if hist is not None:
                                            hist.setdefault(tag, []).append((i * _MAXV, plugin))
                                    else:
                                        plugin = plugin_of.get((run, tag), "")
                                        if fix is not None:
                                            plugin = fix(tag, i, plugin)
                                else:
                                    plugin = plugin_of.get((run, tag), "")
                                    if fix is not None:
                                        plugin = fix(tag, i, plugin)
                                t = v.tensor
                                if plugin == "scalars":
                                    if not want_scalars:
                                        continue
                                    n = len(t)
                                    if n == 10 and t[:6] in f32_prefixes:
                                        value = unpack_f32(t, 6)[0]
                                    elif n == 14 and t[:6] in f64_prefixes:
                                        value = unpack_f64(t, 6)[0]
                                    else:
                                        arr = self._tensor_array(t, name, i, tag)
                                        if arr.size != 1 or arr.dtype.kind not in "fiub":
                                            self._tensor(run, tag, step, wt, plugin, arr)
                                            continue
                                        value = float(arr.reshape(()))
                                    o_run.append(run)
                                    o_tag.append(tag)
                                    o_step.append(step)
                                    o_wt.append(wt)
                                    o_val.append(value)
                                    if o_idx is not None:
                                        o_idx.append(i)
                                    continue
                                if plugin == "hparams" and meta:
                                    # the data is the plugin content; the tensor is a placeholder
                                    content = pb.SummaryMetadata.FromString(meta).plugin_data.content
                                    self._tensor(run, tag, step, wt, plugin, content)
                                    continue
                                arr = self._tensor_array(t, name, i, tag)
                                self._plugin_tensor(run, tag, step, wt, plugin, arr, name, i)
                            elif kind == "simple_value":
                                if want_scalars:
                                    o_run.append(run)
                                    o_tag.append(tag)
                                    o_step.append(step)
                                    o_wt.append(wt)
                                    o_val.append(v.simple_value)
                                    if o_idx is not None:
                                        o_idx.append(i)
                            elif kind == "histo":
                                histo = _histo_proto(pb.HistogramProto.FromString(v.histo), name, f"record {i}, tag {tag!r}")
                                self._add("histograms", run, tag, step, wt, value=histo)
                            elif kind == "image":
                                im = pb.Summary.Image.FromString(v.image)
                                self._add(
                                    "images", run, tag, step, wt, index=0, width=im.width, height=im.height,
                                    value=im.encoded_image_string,
                                )
                            elif kind == "audio":
                                a = pb.Summary.Audio.FromString(v.audio)
                                self._add(
                                    "audio", run, tag, step, wt, index=0,
                                    sample_rate=int(a.sample_rate) or _wav_rate(a.encoded_audio_string),
                                    content_type=a.content_type, label=b"", value=a.encoded_audio_string,
                                )
                            elif kind is None and v.metadata:
                                # A value with metadata only: the hparams plugin's convention (its
                                # experiment and session infos live in the plugin content), as
                                # torch's add_hparams and TensorBoard's hparams API write them.
                                md = pb.SummaryMetadata.FromString(v.metadata)
                                if md.plugin_data.plugin_name == "hparams":
                                    plugin_of[(run, tag)] = "hparams"
                                    if hist is not None:
                                        hist.setdefault(tag, []).append((i * _MAXV, "hparams"))
                                    self._tensor(run, tag, step, wt, "hparams", md.plugin_data.content)
                    elif what == "file_version":
                        versions.append(ev.file_version.decode("utf-8", "replace"))
                    elif what == "graph_def":
                        self._add_event("graphs", run=run, step=ev.step, wall_time=ev.wall_time, value=ev.graph_def)
                    elif what == "meta_graph_def":
                        self._add_event("meta_graphs", run=run, step=ev.step, wall_time=ev.wall_time, value=ev.meta_graph_def)
                    elif what == "tagged_run_metadata":
                        t = pb.TaggedRunMetadata.FromString(ev.tagged_run_metadata)
                        if tagset is None or t.tag in tagset:
                            self._add_event(
                                "run_metadata", run=run, tag=t.tag, step=ev.step, wall_time=ev.wall_time, value=t.run_metadata
                            )
                    elif what == "session_log":
                        sl = pb.SessionLog.FromString(ev.session_log)
                        self._add_event(
                            "session_logs", run=run, step=ev.step, wall_time=ev.wall_time,
                            status=_SESSION_STATUS.get(sl.status, str(sl.status)), checkpoint_path=sl.checkpoint_path, msg=sl.msg,
                        )
                    elif what == "log_message":
                        lm = pb.LogMessage.FromString(ev.log_message)
                        self._add_event(
                            "log_messages", run=run, step=ev.step, wall_time=ev.wall_time, level=lm.level, message=lm.message
                        )
                except DecodeError as exc:
                    raise DataLossError(f"record {i} is not a tensorflow.Event: {exc}", path=name) from None
                yield

        fix = hist = None  # hooks of the per-event decoder while a file is decoded whole

        def whole_file() -> bool:
            """Decode the file from one buffer, its scalar events in bulk; False: use the record iterator.

            Only a clean read qualifies: anything :func:`read_all` objects to
            (damage, a truncated last record) is left to the record iterator,
            which raises or tolerates it exactly as before.
            """
            from ._io import records as _rec

            try:
                raw, owns = _records._open_input(path)
            except (TFFormatsError, OSError, TypeError):
                return False
            try:
                if not raw.random_access or raw.size is None or raw.size > _WHOLE_LIMIT:
                    return False
                if _rec.detect_input(raw) != _rec.NONE:
                    return False
                data, starts, lens, _ = _rec.read_all(raw, _rec.NONE, verify=verify, pad=_WHOLE_PAD)
            except TFFormatsError:
                return False
            finally:
                if owns:
                    raw.close()
            mv = memoryview(data)

            def pieces(sel):
                s0 = starts[sel]
                return zip((sel).tolist(), map(mv.__getitem__, map(slice, s0.tolist(), (s0 + lens[sel]).tolist())))

            for a in range(0, max(len(starts), 1), _SEGMENT):  # bounded work arrays
                bulk(data, starts[a : a + _SEGMENT], lens[a : a + _SEGMENT], a,
                     lambda sel, a=a: pieces(sel + a))
            return True

        def bulk(data, starts, lens, base: int, pieces) -> None:
            """Decode records ``data[starts:starts+lens]`` (numbered from ``base``), scalar events at once.

            ``data`` has ``_WHOLE_PAD`` bytes after the last record;
            ``pieces(local record numbers)`` gives ``(record number, bytes)``
            pairs of those records for the per-event decoder.
            """
            nonlocal fix, hist
            scan = _scan_events(data, starts, lens)
            ids, names = _tag_ids(data, np.frombuffer(data, np.uint8), *scan.tag)
            key, kind = scan.key + base * _MAXV, scan.kind
            if tagset is not None:
                keep = np.array([t in tagset for t in names], bool)[ids] if names else np.zeros(len(key), bool)
            else:
                keep = np.ones(len(key), bool)
            # each tag's values written with the scalars metadata (they set the tag's plugin)
            a_keys: dict = {}
            rows = np.flatnonzero(keep & (kind == _WITH_META))
            for t, part in _by_tag(ids, rows, len(names)):
                a_keys[names[t]] = key[part]
            b_rows = np.flatnonzero(keep & (kind == _NO_META))
            if len(b_rows):
                snap = {k: {f: len(c) for f, c in cols.items()} for k, cols in self.cols.items()}
                plugins_before = dict(plugin_of)
                n_versions = len(versions)

            def plugin_at(tag, i, plugin):
                """The plugin of ``tag`` at per-event record ``i``: ``plugin`` unless a bulk value set it since."""
                arr = a_keys.get(tag)
                if arr is None:
                    return plugin
                k = int(np.searchsorted(arr, i * _MAXV))
                if not k:
                    return plugin
                h = hist.get(tag)
                if h and h[-1][0] > arr[k - 1]:
                    return plugin
                return "scalars"

            hist = {}
            fix = plugin_at if a_keys else None
            slow = np.flatnonzero(~scan.fast)
            slow_out = ([], [], [], [], [], [])
            redo = False
            try:
                if len(slow):
                    for _ in process(pieces(slow), slow_out):
                        pass
                # values without metadata: scalars only if their tag's plugin is "scalars" by then
                if len(b_rows):
                    for t, part in _by_tag(ids, b_rows, len(names)):
                        part = key[part]
                        tag = names[t]
                        la = np.full(len(part), -1, np.int64)
                        arr = a_keys.get(tag)
                        if arr is not None:
                            j = np.searchsorted(arr, part)
                            la = np.where(j > 0, arr[np.maximum(j - 1, 0)], -1)
                        ls = np.full(len(part), -1, np.int64)
                        lsp = np.zeros(len(part), bool)
                        h = hist.get(tag)
                        if h:
                            hk = np.array([x[0] for x in h], np.int64)
                            hp = np.array([x[1] == "scalars" for x in h], bool)
                            j = np.searchsorted(hk, part)
                            ls = np.where(j > 0, hk[np.maximum(j - 1, 0)], -1)
                            lsp = (j > 0) & hp[np.maximum(j - 1, 0)]
                        start = plugins_before.get((run, tag), "") == "scalars"
                        if not ((la > ls) | ((ls >= 0) & lsp) | ((la < 0) & (ls < 0) & start)).all():
                            redo = True
                            break
            finally:
                hist_done = hist
                fix = hist = None
            if redo:
                # a tensor of another plugin in the scalar layout: undo, decode event by event
                for k, cols in self.cols.items():
                    for f, c in cols.items():
                        del c[snap[k][f]:]
                plugin_of.clear()
                plugin_of.update(plugins_before)
                del versions[n_versions:]
                out = ([], [], [], [], [], None)
                for _ in process(pieces(np.arange(len(starts))), out):
                    pass
                self.scalar_chunks.append((out[0], out[1], np.asarray(out[2], np.int64),
                                           np.asarray(out[3], np.float64), np.asarray(out[4], np.float64)))
                return
            for tag, arr in a_keys.items():
                h = hist_done.get(tag)
                if not h or h[-1][0] < arr[-1]:
                    plugin_of[(run, tag)] = "scalars"
            rows = np.flatnonzero(keep)
            names_obj = np.empty(len(names), object)
            names_obj[:] = names
            tag_col = names_obj[ids[rows]]
            step, wt, val = scan.step[rows], scan.wt[rows], scan.value[rows]
            s_run, s_tag, s_step, s_wt, s_val, s_idx = slow_out
            if s_idx:
                order = np.argsort(np.concatenate([key[rows], np.asarray(s_idx, np.int64) * _MAXV]), kind="stable")
                s_tags = np.empty(len(s_tag), object)
                s_tags[:] = s_tag
                tag_col = np.concatenate([tag_col, s_tags])[order]
                step = np.concatenate([step, np.asarray(s_step, np.int64)])[order]
                wt = np.concatenate([wt, np.asarray(s_wt, np.float64)])[order]
                val = np.concatenate([val, np.asarray(s_val, np.float64)])[order]
            self.scalar_chunks.append(([run] * len(tag_col), tag_col.tolist(), step, wt, val))

        name = str(path)
        if batched and want_scalars and errors == "raise" and whole_file():
            self.files.append(EventFile(run, name, versions[0] if versions else None, None))
            yield
            return
        it = _records.read(path, verify=verify, errors=errors, tolerate_truncation=True)
        with it:
            if not batched or not want_scalars:
                out = (sc["run"], sc["tag"], sc["step"], sc["wall_time"], sc["value"], None) if want_scalars else ([],) * 5 + (None,)
                yield from process(enumerate(it), out)
            else:
                import itertools

                pairs = enumerate(it)
                while True:
                    batch = list(itertools.islice(pairs, _BATCH))
                    if not batch:
                        break
                    recs = [d for _, d in batch]
                    lens = np.fromiter(map(len, recs), np.int64, len(recs))
                    starts = np.zeros(len(recs), np.int64)
                    np.cumsum(lens[:-1], out=starts[1:])
                    bulk(b"".join(recs) + _PAD, starts, lens, batch[0][0],
                         lambda sel, batch=batch: (batch[j] for j in sel.tolist()))
                    yield
        self.files.append(EventFile(run, name, versions[0] if versions else None, it.truncated))

    def _tensor_array(self, data: bytes, name: str, i: int, tag: str) -> np.ndarray:
        from .tensor import tensor_to_numpy

        proto = _pb().TensorProto.FromString(data)
        # TF's summary writers store every element; only a crafted proto relies on the
        # fill rule, so its expansion is held to a small multiple of the record.
        limit = max(1 << 20, 64 * len(data))
        return tensor_to_numpy(proto, path=name, entry=f"record {i}, tag {tag!r}", max_fill_bytes=limit)

    def _add(self, kind: str, run, tag, step, wt, **fields) -> None:
        cols = self.cols.get(kind)
        if cols is None:
            return
        cols["run"].append(run)
        cols["tag"].append(tag)
        cols["step"].append(step)
        cols["wall_time"].append(wt)
        for k, v in fields.items():
            cols[k].append(v)

    def _add_event(self, kind: str, **fields) -> None:
        cols = self.cols.get(kind)
        if cols is None:
            return
        for k, v in fields.items():
            cols[k].append(v)

    def _tensor(self, run, tag, step, wt, plugin, arr) -> None:
        self._add("tensors", run, tag, step, wt, plugin=plugin, value=arr)

    def _plugin_tensor(self, run, tag, step, wt, plugin, arr, name, i) -> None:
        if plugin == "histograms" and arr.ndim == 2 and arr.shape[1] == 3 and arr.dtype.kind in "fiu":
            self._add("histograms", run, tag, step, wt, value=Histogram(arr.astype(np.float64)))
        elif plugin == "images" and arr.ndim == 1 and arr.dtype == object and len(arr) >= 2:
            try:
                width, height = int(arr[0]), int(arr[1])
            except (TypeError, ValueError):
                raise DataLossError(
                    "image summary does not start with its width and height", path=name, entry=f"record {i}, tag {tag!r}"
                ) from None
            for j, img in enumerate(arr[2:].tolist()):
                self._add("images", run, tag, step, wt, index=j, width=width, height=height, value=img)
        elif plugin == "audio" and arr.dtype == object and arr.ndim == 2 and arr.shape[1] >= 1:
            for j in range(arr.shape[0]):
                label = arr[j, 1] if arr.shape[1] > 1 else b""
                data = arr[j, 0]
                rate = _wav_rate(data)
                self._add(
                    "audio", run, tag, step, wt, index=j, sample_rate=rate, content_type="audio/wav" if rate else "",
                    label=label, value=data,
                )
        elif plugin == "text" and arr.dtype == object:
            if arr.ndim == 0:
                value = _text(arr.item())
            else:
                value = np.empty(arr.shape, object)
                value.reshape(-1)[:] = [_text(b) for b in arr.reshape(-1).tolist()]
            self._add("text", run, tag, step, wt, value=value)
        elif plugin == "scalars" and arr.size == 1 and arr.dtype.kind in "fiub":
            self._add("scalars", run, tag, step, wt, value=float(arr.reshape(())))
        else:
            self._tensor(run, tag, step, wt, plugin, arr)


def _wav_rate(data) -> int:
    """The sample rate in a RIFF/WAVE header (TF2 audio summaries store it only there), else 0."""
    if isinstance(data, (bytes, bytearray)) and len(data) >= 28 and data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return int.from_bytes(data[24:28], "little")
    return 0


def _text(b) -> str:
    return b.decode("utf-8", "replace") if isinstance(b, (bytes, bytearray)) else str(b)


class EventLog:
    """Everything read from a log directory or event file, as :class:`Table` objects.

    Attributes: ``runs`` (sorted run names), ``files`` (``(run, path,
    file_version, truncated)`` of every file read), and one table per kind:
    ``scalars``, ``histograms``, ``images``, ``audio``, ``text``,
    ``tensors``, ``graphs``, ``meta_graphs``, ``run_metadata``,
    ``session_logs``, ``log_messages``.
    """

    def __init__(self, tables: dict, runs: list, files: list) -> None:
        self._tables = tables
        self.runs = runs
        self.files = files

    def __getattr__(self, name: str) -> Table:
        tables = self.__dict__.get("_tables")
        if tables is not None and name in _FIELDS:
            t = tables.get(name)
            if t is None:
                raise AttributeError(f"{name} were not read (pass kinds=... including {name!r})")
            return t
        raise AttributeError(name)

    def tags(self) -> dict:
        """``{kind: sorted tags}`` for every kind with tags."""
        return {k: t.tags() for k, t in self._tables.items() if "tag" in t.fields and len(t)}

    def graph_def(self, run: Optional[str] = None):
        """The last GraphDef written to ``run`` (the only run if there is one), as a message.

        As in TensorBoard, a run without a graph event falls back on the
        ``graph_def`` inside its last meta graph event (a TF1 ``FileWriter``
        given only ``add_meta_graph``).
        """
        pb = _pb()
        g = self._tables.get("graphs")
        m = self._tables.get("meta_graphs")
        g_runs = g.runs() if g is not None else []
        m_runs = m.runs() if m is not None else []
        runs = sorted(set(g_runs) | set(m_runs))
        if not runs:
            raise NotFoundError("no graph or meta graph events were read")
        if run is None:
            if len(runs) > 1:
                raise InvalidArgumentError(f"several runs have graphs ({', '.join(runs)}): pass run=")
            run = runs[0]
        where = next((f[1] for f in self.files if f[0] == run), None)
        try:
            if run in g_runs:
                return pb.GraphDef.FromString(g.filter(run=run)["value"][-1])
            for data in reversed(m.filter(run=run)["value"] if run in m_runs else []):
                meta = pb.MetaGraphDef.FromString(data)
                if meta.HasField("graph_def"):
                    return meta.graph_def
        except Exception as exc:  # protobuf's DecodeError: the event's graph bytes are damaged
            raise DataLossError(f"the graph of run {run!r} cannot be parsed: {exc}", path=where,
                                entry="graph_def") from None
        raise NotFoundError(f"no graph event (or meta graph holding a graph) in run {run!r}")

    def __repr__(self) -> str:
        counts = ", ".join(f"{len(t)} {k}" for k, t in self._tables.items() if len(t))
        return f"<tfformats EventLog: {len(self.runs)} run(s), {len(self.files)} file(s): {counts or 'no events'}>"


def read_events(
    path,
    *,
    kinds: Optional[Iterable[str]] = None,
    tags: Union[str, Iterable[str], None] = None,
    runs: Union[str, Iterable[str], None] = None,
    verify: bool = True,
    errors: str = "raise",
    purge_orphaned_data: bool = False,
) -> EventLog:
    """Read a log directory (every run, recursively) or one event file into an :class:`EventLog`.

    ``kinds`` limits what is kept (e.g. ``["scalars"]``, faster), ``tags``
    and ``runs`` select by name.  ``verify`` checks record CRCs;
    ``errors="skip"`` skips damaged records instead of raising.
    ``purge_orphaned_data``: drop what a restart made obsolete, as
    TensorBoard does: every ``SessionLog.START`` of a run after its first
    (a restarted TF1 session, PyTorch's ``purge_step``), at step T in a file
    with ``file_version`` 2, hides the rows of the run's earlier files with
    steps >= T.  Off by default: every row is kept and the restarts are in
    ``session_logs``.
    Also accepts an ``bytes`` object or open binary file holding one event file.
    """
    in_dir = _is_local_dir(path)
    if isinstance(path, (str, os.PathLike)):
        found = find_runs(path)
    else:
        found = {".": [path]}
    if runs is not None:
        wanted = {runs} if isinstance(runs, str) else set(runs)
        found = {r: f for r, f in found.items() if r in wanted}
    want_kinds = kinds
    if purge_orphaned_data and kinds is not None:
        want_kinds = {kinds} if isinstance(kinds, str) else set(kinds)
        kinds = [*want_kinds, "session_logs"]
    dec = _Decoder(kinds, tags)
    rows_after: list = []  # per file read: {kind: number of rows read so far}
    for run, files in found.items():
        for f in files:
            for _ in dec.feed_file(run, f, verify, errors, batched=_BULK, in_dir=in_dir):
                pass
            dec.flush_scalars()
            rows_after.append(dec.row_counts())
    if "scalars" in dec.cols:
        dec.cols["scalars"] = dec.scalar_columns()
    tables = {k: Table(k, dec.cols[k]) for k in (*KINDS, *_EVENT_KINDS) if k in dec.cols}
    if purge_orphaned_data:
        _purge_orphaned(tables, dec.files, rows_after)
        if want_kinds is not None and "session_logs" not in want_kinds:
            del tables["session_logs"]
    return EventLog(tables, sorted(found), dec.files)


# what TensorBoard's accumulator purges at a restart: its summary data (graphs and run
# metadata become tensors of the graphs plugin there), not session logs or meta graphs
_PURGED_KINDS = (*KINDS, "graphs", "run_metadata")


def _file_version(version: Optional[str]) -> float:
    """``"brain.Event:2"`` -> 2.0; 0.0 when absent or unreadable."""
    try:
        return float(version.rsplit(":", 1)[1]) if version else 0.0
    except (IndexError, ValueError):
        return 0.0


def _purge_orphaned(tables: dict, files: list, rows_after: list) -> None:
    """Drop the rows a ``SessionLog.START`` made obsolete (see :func:`read_events`), in place.

    As in TensorBoard, the first START of a run opens its first session and
    purges nothing; each later one is a restart.  Rows are in file order and
    ``rows_after[i][kind]`` counts a table's rows after file ``i``, so each
    row's file is known; a START in file ``k`` of
    a run hides that run's rows from files before ``k`` with steps at or
    past its step.  TensorBoard also drops such rows written before the
    START inside file ``k``; writers put it first in a new file, so this
    granularity meets theirs.  Files without ``file_version`` 2 get
    TensorBoard's older out-of-order-steps rule there; nothing is purged
    for them here.
    """
    logs = tables.get("session_logs")
    if logs is None or not len(logs):
        return

    def file_index(kind: str, n: int) -> np.ndarray:
        bounds = np.fromiter((r.get(kind, 0) for r in rows_after), np.int64, len(rows_after))
        return np.searchsorted(bounds, np.arange(n), side="right")

    log_files = file_index("session_logs", len(logs))
    starts = []
    seen: set = set()
    for run, step, status, k in zip(logs["run"], logs["step"].tolist(), logs["status"], log_files.tolist()):
        if status != "START" or k >= len(files) or _file_version(files[k][2]) < 2:
            continue
        if run not in seen:  # a run's first START is its first session, not a restart
            seen.add(run)
            continue
        starts.append((run, step, int(k)))
    if not starts:
        return
    for kind in _PURGED_KINDS:
        t = tables.get(kind)
        if t is None or not len(t):
            continue
        run_col = np.asarray(t["run"], dtype=object)
        steps = t["step"]
        where = file_index(kind, len(t))
        keep = np.ones(len(t), bool)
        for run, step, k in starts:
            keep &= ~((run_col == run) & (where < k) & (steps >= step))
        if not keep.all():
            tables[kind] = t._take(np.flatnonzero(keep))


def iter_summaries(
    path,
    *,
    kinds: Optional[Iterable[str]] = None,
    tags: Union[str, Iterable[str], None] = None,
    verify: bool = True,
    errors: str = "raise",
) -> Iterator[Summary]:
    """Normalised summary values one by one, in file order, in constant memory.

    Yields :class:`Summary` tuples ``(run, tag, step, wall_time, kind, value,
    extra)`` for the summary kinds (scalars, histograms, images, audio, text,
    tensors), event by event (values of one event grouped by kind).
    """
    found = find_runs(path) if isinstance(path, (str, os.PathLike)) else {".": [path]}
    yield from _summaries(found, kinds, tags, verify, errors, _is_local_dir(path))


def _is_local_dir(path) -> bool:
    """Whether ``path`` names a local folder (the files found in one are checked for being record
    files at all; remote files never are, see :func:`_not_a_record_file`)."""
    if not isinstance(path, (str, os.PathLike)):
        return False
    p = os.fspath(path)
    return os.path.isdir(p[len("file://"):] if p.startswith("file://") else p)


def _summaries(found: dict, kinds, tags, verify: bool, errors: str, in_dir: bool) -> Iterator[Summary]:
    """:func:`iter_summaries` over ``{run: [files]}``; a tag's plugin is remembered across a run's files."""
    want = [k for k in (kinds or KINDS) if k in KINDS]
    dec = _Decoder(want, tags)
    base = ("run", "tag", "step", "wall_time", "value")
    extras = {k: [x for x in _FIELDS[k] if x not in base] for k in want}
    for run, files in found.items():
        for f in files:
            for _ in dec.feed_file(run, f, verify, errors, in_dir=in_dir):
                for k in want:
                    cols = dec.cols[k]
                    if not cols["run"]:
                        continue
                    ex = extras[k]
                    for j in range(len(cols["run"])):
                        yield Summary(
                            cols["run"][j], cols["tag"][j], cols["step"][j], cols["wall_time"][j], k, cols["value"][j],
                            {x: cols[x][j] for x in ex},
                        )
                    for c in cols.values():
                        c.clear()
