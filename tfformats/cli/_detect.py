"""What is this path?  Detection from content, not from file names.

``detect(path)`` returns a :class:`Target` whose ``kind`` is one of:

============== ==========================================================
checkpoint     V2 tensor bundle: a prefix, its ``.index`` or a ``.data-*``
               shard, or a training directory (``checkpoint`` state file)
checkpoint_v1  V1 SavedTensorSlices: a table file whose ``""`` entry is a
               ``SavedTensorSlices`` (or a glob of V1 shards)
saved_model    a SavedModel directory (``saved_model.pb``/``.pbtxt``), or the
               ``saved_model.pb``/``.pbtxt`` file itself
meta_graph     a MetaGraphDef (``.meta``), binary or text
graph_def      a GraphDef (``.pb``/``.pbtxt``), binary or text
frozen_graph   a GraphDef with ``Const`` weights and no variable ops
tfrecord       a TFRecord file (uncompressed, GZIP or ZLIB): the first
               record's length CRC validates
event_file     a TFRecord whose first record is an ``Event`` with ``file_version``
log_dir        a directory holding event files (searched recursively)
keras_metadata a tf_keras ``keras_metadata.pb``
keras_archive  a Keras 3 ``.keras`` zip (``config.json`` inside)
keras_h5       an HDF5 file (signature at offset 0, or after a 512, 1024,
               2048... byte user block): a Keras ``.h5`` model or weights
               file, or a Keras 2.12 ``.keras`` (HDF5 despite the name)
keras_sharded  a Keras 3 sharded-weights index (JSON with a ``weight_map``
               naming ``.weights.h5`` shards beside it)
tf_dataset     a folder written by ``tf.data.Dataset.save`` or ``snapshot``
               (``snapshot.metadata`` in it, or in its one graph-hash folder)
============== ==========================================================

Files are recognized by their bytes: the HDF5 signature where libhdf5 (and
so Keras) looks for it, a table footer magic, a TFRecord length CRC, a zip or
gzip signature, a protobuf that parses as one of the
graph messages with sane node names, or text format whose first field names
the message.  Only a ``.data-NNNNN-of-NNNNN`` shard is recognized by its
name (its bytes have no structure of their own) and only when its
``.index`` sits beside it.
"""

from __future__ import annotations

import glob
import os
import re
import struct
import zlib
from dataclasses import dataclass, field

from ._common import input_error

KINDS = (
    "checkpoint",
    "checkpoint_v1",
    "saved_model",
    "meta_graph",
    "graph_def",
    "frozen_graph",
    "tfrecord",
    "event_file",
    "log_dir",
    "keras_metadata",
    "keras_archive",
    "keras_h5",
    "keras_sharded",
    "tf_dataset",
)
GRAPH_KINDS = ("saved_model", "meta_graph", "graph_def", "frozen_graph")
CHECKPOINT_KINDS = ("checkpoint", "checkpoint_v1")

TABLE_MAGIC = 0xDB4775248B80FB57
_DATA_SHARD = re.compile(r"\.data-\d{5}-of-\d{5}$")
_OP_NAME = re.compile(r"^[A-Za-z0-9_.\-/<>]+$")  # "<": tf.function(lambda) names its function __inference_<lambda>_N
VARIABLE_OPS = frozenset(
    {"VariableV2", "Variable", "VarHandleOp", "AutoReloadVariable", "TemporaryVariable", "_VarHandlesOp"}
)

# text-format first fields -> message
_TEXT_FIRST_FIELDS = {
    "node": "GraphDef",
    "library": "GraphDef",
    "versions": "GraphDef",
    "version": "GraphDef",
    "debug_info": "GraphDef",
    "meta_info_def": "MetaGraphDef",
    "graph_def": "MetaGraphDef",
    "saver_def": "MetaGraphDef",
    "collection_def": "MetaGraphDef",
    "signature_def": "MetaGraphDef",
    "asset_file_def": "MetaGraphDef",
    "object_graph_def": "MetaGraphDef",
    "saved_model_schema_version": "SavedModel",
    "meta_graphs": "SavedModel",
}


@dataclass
class Target:
    """A detected input: ``kind`` (see module doc), the ``path`` to open, details."""

    kind: str
    path: str
    given: str
    details: dict = field(default_factory=dict)

    def describe(self) -> str:
        extra = self.details.get("format")
        return f"{self.kind}{f' ({extra})' if extra else ''}"


# -- low-level probes --------------------------------------------------------
def _read_head(path: str, n: int) -> bytes:
    with open(path, "rb") as f:
        return f.read(n)


def _read_tail(path: str, n: int) -> bytes:
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        f.seek(max(0, size - n))
        return f.read(n)


def _is_table(path: str) -> bool:
    try:
        size = os.path.getsize(path)
        if size < 48:
            return False
        tail = _read_tail(path, 8)
    except OSError:
        return False
    return struct.unpack("<Q", tail)[0] == TABLE_MAGIC


def _table_header(path: str) -> bytes | None:
    """The value under key ``""`` of a table file (None if absent)."""
    from .._io.table import Table

    with Table(path) as t:
        for key, value in t.items():
            return value if key == b"" else None
    return None


def tfrecord_compression(head: bytes) -> str | None:
    """``''``, ``'GZIP'`` or ``'ZLIB'`` when ``head`` starts a TFRecord stream, else None."""
    if _record_header_ok(head):
        return ""
    if head[:2] == b"\x1f\x8b":
        try:
            import gzip
            import io

            with gzip.GzipFile(fileobj=io.BytesIO(head)) as g:
                data = g.read(12)
        except (OSError, EOFError, zlib.error):
            data = b""
        if len(data) == 0 and len(head) >= 18:
            return "GZIP"  # may be an empty stream: a valid 0-record file
        return "GZIP" if _record_header_ok(data) else None
    if len(head) >= 2 and head[0] & 0x0F == 8 and (head[0] << 8 | head[1]) % 31 == 0:
        d = zlib.decompressobj()
        try:
            data = d.decompress(head, 12)
        except zlib.error:
            return None
        if not data and d.eof:
            return "ZLIB"  # an empty stream: a valid file of zero records
        return "ZLIB" if _record_header_ok(data) else None
    return None


def _snappy_tfrecord(path: str) -> bool:
    """TF's SNAPPY framing whose first block decompresses to a valid record header."""
    try:
        from .._io import records as _rec
    except ImportError:
        return False
    with open(path, "rb") as f:
        head = f.read(_rec._DETECT_BYTES)
    try:
        return _rec.detect_compression(head, len(head)) == _rec.SNAPPY
    except Exception:
        return False


def _record_header_ok(b: bytes) -> bool:
    if len(b) < 12:
        return False
    from .._io import crc

    return struct.unpack_from("<I", b, 8)[0] == crc.masked_value(b[:8])


def first_record(path: str, compression: str, limit: int = 1 << 20) -> bytes | None:
    """The first record's payload if it is at most ``limit`` bytes and its CRC is right."""
    from .._io import crc

    with open(path, "rb") as f:
        if compression == "GZIP":
            import gzip

            stream = gzip.GzipFile(fileobj=f)
        elif compression == "ZLIB":
            d = zlib.decompressobj()
            raw = f.read(limit + 64)
            try:
                buf = d.decompress(raw, limit + 16)
            except zlib.error:
                return None
            import io

            stream = io.BytesIO(buf)
        else:
            stream = f
        try:
            header = stream.read(12)
            if not _record_header_ok(header):
                return None
            (length,) = struct.unpack_from("<Q", header)
            if length > limit:
                return None
            data = stream.read(length + 4)
        except (OSError, EOFError, zlib.error):
            return None
    if len(data) != length + 4:
        return None
    if struct.unpack_from("<I", data, length)[0] != crc.masked_value(data[:length]):
        return None
    return data[:length]


def is_event_record(data: bytes) -> bool:
    from ..proto import pb

    try:
        ev = pb.Event.FromString(data)
    except Exception:
        return False
    return ev.WhichOneof("what") == "file_version" and ev.file_version.startswith("brain.Event:")


def is_event_file(path: str) -> bool:
    try:
        head = _read_head(path, 12)
        if tfrecord_compression(head) != "":
            return False
        rec = first_record(path, "")
    except OSError:
        return False
    return rec is not None and is_event_record(rec)


def find_event_files(directory: str, limit: int = 100_000) -> list[str]:
    """Event files under ``directory`` (recursively), sorted by path.

    Named by TensorBoard's rule (``tfevents`` anywhere in the name), the one
    :func:`tfformats.events.find_runs` uses, so ``verify`` checks the files
    ``info`` and ``read_events`` read.
    """
    from ..events import _is_event_file

    out = []
    for root, dirs, files in os.walk(directory):
        dirs.sort()
        for name in sorted(files):
            if _is_event_file(name):
                p = os.path.join(root, name)
                if os.path.isfile(p):
                    out.append(p)
                    if len(out) >= limit:
                        return out
    return out


# -- protobuf graph messages -------------------------------------------------
def _looks_text(head: bytes) -> bool:
    if not head:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        # a multi-byte character cut at the end of the head is fine
        try:
            text = head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return False
    return all(c in "\t\n\r" or c >= " " for c in text) and _first_text_field(text) is not None


def _first_text_field(text: str) -> str | None:
    for line in text.splitlines():
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        m = re.match(r"([A-Za-z_][A-Za-z0-9_]*)\s*[:{<]", s)
        return m.group(1) if m else None
    return None


def _sane_graph(g) -> bool:
    nodes = g.node
    if not len(nodes) and not len(g.library.function):
        return False
    for n in nodes:
        if not n.name or not _OP_NAME.match(n.op or ""):
            return False
    for f in g.library.function:
        if not _OP_NAME.match(f.signature.name or "x"):
            return False
    return True


def parse_graph_message(data: bytes, *, path: str, hint: str | None = None):
    """``(message_name, message, 'binary'|'text')`` for GraphDef/MetaGraphDef/SavedModel bytes.

    ``hint`` names the message to try first.  Raises CLIError when nothing fits.
    """
    from google.protobuf import text_format

    from ..errors import DataLossError
    from ..proto import pb, pool

    head = data[:4096]
    if _looks_text(head):
        text = data.decode("utf-8", "replace")
        first = _first_text_field(text)
        name = hint or _TEXT_FIRST_FIELDS.get(first or "")
        if name is None:
            raise input_error(f"{path}: text file whose first field {first!r} is not a GraphDef, MetaGraphDef or SavedModel")
        msg = getattr(pb, name)()
        try:
            text_format.Parse(text, msg, descriptor_pool=pool(), allow_unknown_field=False)
        except text_format.ParseError as exc:
            raise DataLossError(f"cannot parse text-format {name}: {exc}", path=path) from None
        except RecursionError:  # TensorFlow's own text parser gives up on these too
            raise DataLossError(f"cannot parse text-format {name}: messages nested too deeply", path=path) from None
        return name, msg, "text"
    order = ["GraphDef", "MetaGraphDef", "SavedModel"]
    if data[:1] == b"\x08":
        order = ["SavedModel", "GraphDef", "MetaGraphDef"]
    if hint:
        order.remove(hint)
        order.insert(0, hint)
    for name in order:
        cls = getattr(pb, name)
        try:
            msg = cls.FromString(data)
        except Exception:
            continue
        if name == "GraphDef" and (_sane_graph(msg) or _empty_graph(msg, data)):
            return name, msg, "binary"
        if name == "MetaGraphDef" and (len(msg.graph_def.node) or msg.HasField("meta_info_def")) and _sane_graph(
            msg.graph_def
        ):
            return name, msg, "binary"
        if name == "SavedModel" and len(msg.meta_graphs) and all(
            _sane_graph(m.graph_def) or not len(m.graph_def.node) for m in msg.meta_graphs
        ) and (msg.saved_model_schema_version or any(
            len(m.graph_def.node) or m.HasField("meta_info_def") for m in msg.meta_graphs
        )):
            # TensorFlow always writes the schema version; without it and without any graph, the
            # bytes are more likely something else (a GraphDef's library field reads as meta_graphs)
            return name, msg, "binary"
    return None, None, None


def _empty_graph(g, data: bytes) -> bool:
    """A GraphDef without nodes or functions, as ``tf.io.write_graph`` writes an empty graph:
    ``versions`` (and maybe an empty ``library``), nothing else."""
    return (not len(g.node) and not len(g.library.function) and (g.HasField("versions") or g.HasField("library"))
            and g.ByteSize() == len(data))


def is_frozen(graph_def) -> bool:
    """A GraphDef with Const weights and no variable ops."""
    has_weights = False
    for n in graph_def.node:
        if n.op in VARIABLE_OPS:
            return False
        if n.op == "Const" and not has_weights:
            t = n.attr["value"].tensor if "value" in n.attr else None
            if t is not None and t.dtype not in (7, 20, 21):  # string, resource, variant
                count = 1
                for d in t.tensor_shape.dim:
                    count *= max(d.size, 0)
                if count > 1:
                    has_weights = True
    return has_weights


def _keras_metadata(data: bytes):
    from ..proto import pb

    try:
        msg = pb.keras.SavedMetadata.FromString(data)
    except Exception:
        return None
    if len(msg.nodes) and all(n.identifier.startswith("_tf_keras") for n in msg.nodes):
        return msg
    return None


# -- the entry point ---------------------------------------------------------
def detect(path) -> Target:
    """Detect what ``path`` holds (see the module docstring for kinds)."""
    given = os.fspath(path)
    if isinstance(given, bytes):
        given = os.fsdecode(given)
    p = given
    from .._io.source import is_remote

    if is_remote(p):
        return _detect_remote(p)
    if p.startswith("file://"):
        p = p[len("file://") :]
    if os.path.isdir(p):
        return _detect_dir(p, given)
    if os.path.isfile(p):
        return _detect_file(p, given)
    # not an existing file: a checkpoint prefix or a V1 glob pattern
    if os.path.isfile(p + ".index"):
        return Target("checkpoint", p, given, {"format": "V2"})
    if any(c in p for c in "*?["):
        matches = sorted(glob.glob(p))
        if matches and all(_is_table(m) for m in matches):
            return Target("checkpoint_v1", p, given, {"format": "V1", "files": len(matches)})
    shards = sorted(glob.glob(glob.escape(p) + "-?????-of-?????"))
    if shards and _is_table(shards[0]):
        return Target("checkpoint_v1", glob.escape(p) + "-?????-of-?????", given, {"format": "V1", "files": len(shards)})
    raise input_error(f"{given}: no such file, directory or checkpoint prefix")


# -- remote URLs (fsspec) ----------------------------------------------------
_REMOTE_HINT = (
    "the command-line tool reads remote checkpoints, SavedModels, log directories and TFRecord files in place "
    "and fetches other single files; download V1 checkpoints first"
)


def _detect_remote(url: str) -> Target:
    """A URL: checkpoints, SavedModels, log directories and TFRecord files are read in place
    (ranged reads); any other single file is fetched.

    A file is told by its first bytes.  Folders are probed by metadata requests
    (``remote.exists``) before any listing, so an object store without
    directories works the same; only a folder holding no checkpoint or
    SavedModel is listed (for one ``.index``, then for event files).
    """
    from .._io import remote
    from ..checkpoint._remote import resolve
    from ..errors import TFFormatsError

    try:
        remote.url_to_fs(url)  # a missing filesystem package (gcsfs, s3fs) is said first, by name
        if url.endswith(".index") or _DATA_SHARD.search(url):
            return Target("checkpoint", resolve(url), url, {"format": "V2", "remote": True})
        # a file (over HTTP a folder is a file too, whose content is a page of links)
        head = _remote_head(url) if not url.endswith("/") and remote.exists(url) else None
        if head is not None and not _looks_html(head):
            streamed = _remote_records(url, head)
            if streamed is not None:
                return streamed
            from ._common import show_as

            local = fetch_remote(url)
            show_as(local, url)
            target = _detect_file(local, url)
            target.details["fetched_from"] = url
            if target.kind == "keras_sharded":  # the shards the index names, beside it
                from ..keras import _shard_names

                with open(local, "rb") as f:
                    shards = _shard_names(f.read(), url)
                folder = os.path.dirname(local)
                for shard in shards:
                    fetch_remote(url.rsplit("/", 1)[0] + "/" + shard, folder)
                show_as(folder, url.rsplit("/", 1)[0])
            return target
        base = url.rstrip("/")
        if remote.exists(base + ".index"):
            return Target("checkpoint", base, url, {"format": "V2", "remote": True})
        for name in ("saved_model.pb", "saved_model.pbtxt"):
            if remote.exists(remote.join(base, name)):
                fmt = "text" if name.endswith("txt") else "binary"
                return Target("saved_model", base, url, {"format": fmt, "file": name, "remote": True})
        if remote.exists(remote.join(base, "checkpoint")):
            return Target("checkpoint", resolve(base), url, {"format": "V2", "directory": base, "remote": True})
        if remote.exists(remote.join(base, "snapshot.metadata")):  # a tf.data save (or snapshot graph-hash folder)
            return Target("tf_dataset", base, url, {"remote": True})
        single = _single_remote_index(base)
        if single is not None:
            return Target("checkpoint", single, url, {"format": "V2", "directory": base, "remote": True})
        runs = _remote_runs(url)
        if runs:
            return Target("log_dir", base, url, {"remote": True, "runs": runs})
    except TFFormatsError as exc:
        text = str(exc)
        raise input_error(text if text.startswith(url) else f"{url}: {text}") from None
    raise input_error(f"{url}: no checkpoint, SavedModel or file at this URL ({_REMOTE_HINT})")


def _remote_head(url: str, n: int = 4096) -> bytes:
    """The first ``n`` bytes of a remote file (one ranged request)."""
    from .._io import remote

    with remote.open_stream(url, block_size=n) as f:
        return f.read(n)


def _looks_html(head: bytes | None) -> bool:
    start = (head or b"")[:64].lstrip().lower()
    return start.startswith((b"<!doctype html", b"<html"))


def _remote_runs(url: str) -> dict | None:
    """``{run: [event file URLs]}`` under a remote folder, None when it holds none (or cannot be listed)."""
    from ..errors import TFFormatsError
    from ..events import find_runs

    try:
        runs = find_runs(url)
    except (TFFormatsError, OSError, ValueError):
        return None
    if not runs or _single_file_run(runs, url):
        return None
    return runs


def _single_file_run(runs: dict, url: str) -> bool:
    """``find_runs`` of a file URL answers the file itself as run ``"."``."""
    return list(runs) == ["."] and runs["."] == [url]


def _remote_records(url: str, head: bytes) -> Target | None:
    """A remote TFRecord or event file, recognized from its first bytes and read in place
    (records stream front to back); None for anything else (fetched and detected as a file)."""
    if not head:
        return Target("tfrecord", url, url, {"compression": "NONE", "empty": True, "remote": True})
    comp = tfrecord_compression(head)
    if comp == "":
        rec = _first_record_in(head)
        if rec is not None and is_event_record(rec):
            return Target("event_file", url, url, {"remote": True})
    if comp is None and head[:1] != b"\x0a":
        from .._io import records as _rec

        if _rec.detect_compression(head[: _rec._DETECT_BYTES]) == _rec.SNAPPY:
            comp = "SNAPPY"
    if comp is None:
        return None
    return Target("tfrecord", url, url, {"compression": comp or "NONE", "remote": True})


def _first_record_in(head: bytes) -> bytes | None:
    """The first record of an uncompressed TFRecord stream when ``head`` holds all of it, CRCs right."""
    from .._io import crc

    if not _record_header_ok(head):
        return None
    (length,) = struct.unpack_from("<Q", head)
    if 12 + length + 4 > len(head):
        return None
    data = head[12 : 12 + length]
    if struct.unpack_from("<I", head, 12 + length)[0] != crc.masked_value(data):
        return None
    return data


def _single_remote_index(base: str):
    """The prefix of the one ``*.index`` in a remote folder (when the store can list it), else None."""
    from .._io import remote

    try:
        fs, path = remote.url_to_fs(base)
        found = fs.glob(path.rstrip("/") + "/*.index")
    except Exception:
        return None
    if len(found) != 1:
        return None
    name = found[0].rstrip("/").rsplit("/", 1)[-1]
    return remote.join(base, name[: -len(".index")])


_FETCHED: list = []  # temporary folders of this process, removed at exit


def _scratch_dir() -> str:
    import atexit
    import shutil
    import tempfile

    d = tempfile.mkdtemp(prefix="tfformats-fetch-")
    if not _FETCHED:
        atexit.register(lambda: [shutil.rmtree(x, ignore_errors=True) for x in _FETCHED])
    _FETCHED.append(d)
    return d


def fetch_remote(url: str, into: str | None = None) -> str:
    """Download one remote file into a temporary folder (kept until exit); its local path."""
    from .._io import remote

    fs, path = remote.url_to_fs(url)
    name = path.rstrip("/").rsplit("/", 1)[-1] or "file"
    local = os.path.join(into or _scratch_dir(), name)
    try:
        fs.get_file(path, local)
    except Exception as exc:
        raise input_error(f"{url}: fetching the file failed: {exc}") from None
    return local


def localize(target: Target) -> Target:
    """The same input as local files: a remote checkpoint or SavedModel is downloaded first.

    For commands that read every byte anyway (``verify``, ``scan``): the
    whole checkpoint (index and shards) or SavedModel directory is fetched.
    TFRecord and event files stay remote: their records stream in order.
    """
    if not target.details.get("remote") or target.kind in ("tfrecord", "event_file", "log_dir", "tf_dataset"):
        return target  # local, or records read front to back as they stream in
    from .._io import remote
    from ._common import show_as

    d = _scratch_dir()
    if target.kind == "saved_model":
        fs, path = remote.url_to_fs(target.path)
        root = path.rstrip("/")
        local = os.path.join(d, "saved_model")
        try:
            files = [f for f in fs.find(root) if f.startswith(root + "/")]
        except Exception as exc:
            raise input_error(f"{target.given}: listing the SavedModel's files failed: {exc}") from None
        for f in files:
            rel = f[len(root) + 1 :]
            parts = [x for x in rel.split("/") if x]
            if not parts or any(x in (".", "..") for x in parts):
                continue  # never write outside the scratch folder
            dest = os.path.join(local, *parts[:-1])
            os.makedirs(dest, exist_ok=True)
            fetch_remote(remote.join(target.path, *parts), dest)
        if not os.path.isdir(local):
            raise input_error(f"{target.given}: fetching the SavedModel failed (the server lists no files)")
        show_as(local, target.path)
    else:
        from ..checkpoint.bundle import data_path
        from ..checkpoint.reader import load_checkpoint
        from ..errors import TFFormatsError

        prefix = target.path
        try:
            reader = load_checkpoint(prefix)  # reads the index only
            try:
                num_shards = reader.num_shards
            finally:
                reader.close()
        except TFFormatsError as exc:
            raise input_error(f"{target.given}: {exc}") from None
        index = fetch_remote(prefix + ".index", d)
        for k in range(num_shards):
            fetch_remote(data_path(prefix, k, num_shards), d)
        local = index[: -len(".index")]
        show_as(d, prefix.rsplit("/", 1)[0])
    out = detect(local)
    out.given = target.given
    out.details["fetched_from"] = target.given
    return out


def _dataset_root(p: str):
    """The folder with ``snapshot.metadata`` (``p``, or its only subfolder holding one), else None."""
    if os.path.isfile(os.path.join(p, "snapshot.metadata")):
        return p
    try:
        subs = [os.path.join(p, n) for n in os.listdir(p)]
    except OSError:
        return None
    found = [d for d in subs if os.path.isfile(os.path.join(d, "snapshot.metadata"))]
    return found[0] if len(found) == 1 else None


def _detect_dir(p: str, given: str) -> Target:
    for name in ("saved_model.pb", "saved_model.pbtxt"):
        if os.path.isfile(os.path.join(p, name)):
            return Target("saved_model", p, given, {"format": "text" if name.endswith("txt") else "binary", "file": name})
    if os.path.isfile(os.path.join(p, "saved_model.cpb")):
        return Target("saved_model", p, given, {"format": "chunked", "file": "saved_model.cpb"})
    if os.path.isfile(os.path.join(p, "checkpoint")) or glob.glob(os.path.join(glob.escape(p), "*.index")):
        from ..checkpoint.reader import _resolve

        kind, prefix = _resolve(p)
        return Target("checkpoint" if kind == "v2" else "checkpoint_v1", prefix, given, {"format": kind.upper(), "directory": p})
    dataset = _dataset_root(p)
    if dataset is not None:
        return Target("tf_dataset", p, given, {"metadata": dataset})
    events = find_event_files(p, limit=1)
    if events:
        return Target("log_dir", p, given, {})
    # a folder holding one V1 checkpoint (a single table file, or one set of shards)
    tables = sorted(
        f for f in os.listdir(p) if os.path.isfile(os.path.join(p, f)) and not f.endswith(".index") and _is_table(os.path.join(p, f))
    )
    if len(tables) == 1:
        return Target("checkpoint_v1", os.path.join(p, tables[0]), given, {"format": "V1", "directory": p})
    stems = {re.sub(r"-\d{5}-of-\d{5}$", "", f) for f in tables}
    if tables and len(stems) == 1 and all(re.search(r"-\d{5}-of-\d{5}$", f) for f in tables):
        pattern = glob.escape(os.path.join(p, stems.pop())) + "-?????-of-?????"
        return Target("checkpoint_v1", pattern, given, {"format": "V1", "directory": p, "files": len(tables)})
    if os.path.isfile(os.path.join(p, "model.weights.h5")) and os.path.isfile(os.path.join(p, "config.json")):
        # Keras 3 model.save(folder, zipped=False): a .keras archive's members, unzipped
        return Target("keras_h5", os.path.join(p, "model.weights.h5"), given, {"format": "HDF5", "directory": p})
    indexes = sorted(f for f in os.listdir(p) if f.endswith(".json") and os.path.isfile(os.path.join(p, f))
                     and os.path.getsize(os.path.join(p, f)) <= 64 << 20 and _is_keras_weights_index(os.path.join(p, f)))
    if len(indexes) == 1:  # a folder of Keras 3 sharded weights
        return Target("keras_sharded", os.path.join(p, indexes[0]), given, {"directory": p})
    raise input_error(
        f"{given}: directory holds no SavedModel, checkpoint, event files, Keras weights index or tf.data saved dataset"
        + _directory_hint(p, given)
    )


def _directory_hint(p: str, given: str) -> str:
    """What inside a directory tfformats could read, named one by one: TFRecord shards (a TFDS or
    tf.data dataset folder), SavedModels in subfolders (an Estimator's export/ base)."""
    records, models = [], []
    try:
        names = sorted(os.listdir(p))[:500]
    except OSError:
        return ""
    for name in names:
        full = os.path.join(p, name)
        try:
            if os.path.isdir(full):
                if os.path.isfile(os.path.join(full, "saved_model.pb")) or os.path.isfile(
                        os.path.join(full, "saved_model.pbtxt")):
                    models.append(name)
            elif os.path.isfile(full) and os.path.getsize(full) >= 16:
                with open(full, "rb") as f:
                    if _record_header_ok(f.read(16)):
                        records.append(name)
        except OSError:
            continue
    hints = []
    if records:
        hints.append(f"{len(records)} TFRecord file(s) ({', '.join(records[:3])}{', ...' if len(records) > 3 else ''}): "
                     "name one (tfformats info/verify FILE)")
    if models:
        hints.append(f"SavedModel(s) in subfolder(s) {', '.join(models[:3])}{', ...' if len(models) > 3 else ''}: "
                     f"name one ({os.path.join(given, models[-1])})")
    return ("; it holds " + "; and ".join(hints)) if hints else ""


def _detect_file(p: str, given: str) -> Target:
    size = os.path.getsize(p)
    if size == 0:
        # TensorFlow reads an empty file as a TFRecord file of zero records (and TensorBoard an
        # empty file named like an event file as one without events)
        from ..events import _is_event_file

        if _is_event_file(os.path.basename(p)):
            return Target("event_file", p, given, {"empty": True})
        return Target("tfrecord", p, given, {"compression": "NONE", "empty": True})
    m = _DATA_SHARD.search(p)
    if m and os.path.isfile(p[: m.start()] + ".index"):
        return Target("checkpoint", p[: m.start()], given, {"format": "V2"})
    from .._io.hdf5 import find_superblock

    userblock = find_superblock(p, size)
    if userblock is not None:
        # before anything else: Keras loads any file h5py.is_hdf5() accepts as an HDF5 model
        return Target("keras_h5", p, given, {"format": "HDF5", "userblock": userblock})
    if _is_table(p):
        try:
            header = _table_header(p)
        except Exception:
            header = None
        if header is not None and header[:1] == b"\x0a":
            return Target("checkpoint_v1", p, given, {"format": "V1"})
        if p.endswith(".index"):
            return Target("checkpoint", p[: -len(".index")], given, {"format": "V2"})
        if header is not None and header[:1] == b"\x08":
            raise input_error(f"{given}: a V2 checkpoint index must be named PREFIX.index")
        # A table with a broken header: let the checkpoint reader say what is wrong.
        return Target("checkpoint_v1", p, given, {"format": "V1"})
    head = _read_head(p, 4096)
    if head[:4] == b"PK\x03\x04":
        import zipfile

        from .._io.source import ZIP_REFUSALS

        try:
            with zipfile.ZipFile(p) as z:
                names = set(z.namelist())
        except ZIP_REFUSALS as exc:  # zipfile's refusals of a hostile directory are not all BadZipFile
            raise input_error(f"{given}: damaged zip file: {type(exc).__name__}: {exc}") from None
        if "config.json" in names:
            return Target("keras_archive", p, given, {})
        raise input_error(f"{given}: a zip file without config.json (not a .keras archive)")
    comp = tfrecord_compression(head)
    if comp is not None:
        if comp == "":
            rec = first_record(p, "")
            if rec is not None and is_event_record(rec):
                return Target("event_file", p, given, {})
        return Target("tfrecord", p, given, {"compression": comp or "NONE"})
    if head[:1] != b"\x0a" and _snappy_tfrecord(p):
        return Target("tfrecord", p, given, {"compression": "SNAPPY"})
    if head.lstrip()[:1] == b"{" and size <= 64 << 20 and _is_keras_weights_index(p):
        return Target("keras_sharded", p, given, {})
    if size > 1 << 31:
        # protobuf messages are limited to 2 GiB; nothing else of ours is this big
        raise input_error(f"{given}: {size} bytes and not a checkpoint, TFRecord or event file")
    if _looks_text(head) and _first_text_field(head.decode("utf-8", "replace")) in (
        "model_checkpoint_path", "all_model_checkpoint_paths"
    ):
        # a training directory's `checkpoint` state file: the checkpoint it names
        return _detect_dir(os.path.dirname(os.path.abspath(p)), given)
    with open(p, "rb") as f:
        data = f.read()
    name, msg, fmt = parse_graph_message(data, path=given)
    if name == "GraphDef":
        kind = "frozen_graph" if is_frozen(msg) else "graph_def"
        return Target(kind, p, given, {"format": fmt, "message": msg})
    if name == "MetaGraphDef":
        return Target("meta_graph", p, given, {"format": fmt, "message": msg})
    if name == "SavedModel":
        return Target("saved_model", os.path.dirname(os.path.abspath(p)), given, {"format": fmt, "file": os.path.basename(p), "message": msg})
    km = _keras_metadata(data)
    if km is not None:
        return Target("keras_metadata", p, given, {"message": km})
    if os.path.basename(p) == "tfhub_module.pb":
        # a TF1 Hub module's marker (a ModuleDef: field 1, the format version); the module is the
        # SavedModel beside it
        folder = os.path.dirname(os.path.abspath(p))
        if any(os.path.isfile(os.path.join(folder, n)) for n in ("saved_model.pb", "saved_model.pbtxt")):
            return _detect_dir(folder, given)
        raise input_error(f"{given}: a TF1 Hub module marker (tfhub_module.pb) without the saved_model.pb the "
                          "module keeps beside it")
    raise input_error(
        f"{given}: not a format tfformats knows (checked: checkpoint, TFRecord, event file, "
        "GraphDef, MetaGraphDef, SavedModel, Keras metadata, Keras .keras zip, HDF5)"
    )


def _is_keras_weights_index(path: str) -> bool:
    import json

    try:
        with open(path, "rb") as f:
            doc = json.loads(f.read().decode("utf-8"))
    except (ValueError, RecursionError, OSError):
        return False
    return isinstance(doc, dict) and isinstance(doc.get("weight_map"), dict)


def load_saved_model_proto(target: Target):
    """The SavedModel message of a ``saved_model`` target."""
    msg = target.details.get("message")
    if msg is not None:
        return msg
    fname = target.details.get("file", "saved_model.pb")
    full = join_path(target, fname)
    if fname.endswith(".cpb"):
        from ..errors import UnsupportedError

        raise UnsupportedError("chunked SavedModels (saved_model.cpb) are not supported", path=full)
    if target.details.get("remote"):
        from .._io import remote

        data = remote.read_bytes(full)
    else:
        with open(full, "rb") as f:
            data = f.read()
    name, msg, fmt = parse_graph_message(data, path=full, hint="SavedModel")
    if name != "SavedModel":
        from ..errors import DataLossError

        raise DataLossError("cannot parse the SavedModel protobuf", path=full)
    target.details["message"] = msg
    return msg


def join_path(target: Target, *names: str) -> str:
    """``target.path/names...``, a URL for a remote target."""
    if target.details.get("remote"):
        from .._io import remote

        return remote.join(target.path, *names)
    return os.path.join(target.path, *names)


def file_exists(target: Target, path: str) -> bool:
    if target.details.get("remote"):
        from .._io import remote

        return remote.exists(path)
    return os.path.isfile(path)


def file_size(target: Target, path: str):
    """A file's size in bytes (None when it cannot be told)."""
    if target.details.get("remote"):
        from .._io import remote

        try:
            fs, p = remote.url_to_fs(path)
            return int(fs.size(p))
        except Exception:
            return None
    return os.path.getsize(path) if os.path.isfile(path) else None


def graph_message(target: Target):
    """The parsed message of a graph-like target (GraphDef, MetaGraphDef or SavedModel)."""
    if target.kind == "saved_model":
        return load_saved_model_proto(target)
    return target.details["message"]
