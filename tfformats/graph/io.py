"""Reading and writing GraphDef and MetaGraphDef files, binary or text.

TensorFlow writes the same messages two ways and names the files freely
(``tf.io.write_graph`` writes *text* by default, whatever the extension), so
the encoding is decided from the bytes:

* binary protobuf: a sequence of ``tag varint | payload``.  Every non-trivial
  GraphDef or MetaGraphDef holds control bytes: the tag of field 2 is ``0x12``
  (a NodeDef's ``op``, a MetaGraphDef's ``graph_def``), lengths under 32 are
  bytes ``0x00``-``0x1f``;
* text format: printable UTF-8, field names and braces (``node {``,
  ``versions {``, ``meta_info_def {``), ``#`` comments.

So: if the first 64 KiB decode as UTF-8 without control characters (other
than whitespace), the file is parsed as text first, otherwise as binary; if
that parse fails the other one is tried, and a binary parse is accepted for
text-looking bytes only if it leaves no unknown fields.  The errors say which
encodings were tried and why each failed.
"""

from __future__ import annotations

import io
import os
import uuid
import warnings

from .._io.source import open_source
from ..errors import DataLossError, InvalidArgumentError, NotFoundError, TFFormatsError

__all__ = [
    "read_graph_def",
    "read_meta_graph",
    "read_graph_file",
    "parse_message",
    "write_graph_def",
    "looks_like_text",
    "coerce_message",
]

_SNIFF = 65536
_TEXT_SUFFIXES = (".pbtxt", ".pbtext", ".txt", ".prototxt", ".textproto")


def looks_like_text(data: bytes) -> bool:
    """True when ``data`` starts like a text-format protobuf, not a binary one."""
    head = bytes(data[:_SNIFF])
    if not head.strip():
        return False  # empty or whitespace only: an empty binary message
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # a multi-byte character cut by the sniff window is fine
        if exc.start < len(head) - 4:
            return False
        text = head[: exc.start].decode("utf-8")
    return all(c >= " " or c in "\t\n\r\f\v" for c in text)


#: Open file objects are read in chunks of this size: memory grows with what
#: the file actually holds, never with a size the object claims.
_READ_CHUNK = 1 << 20


def _is_file_object(obj) -> bool:
    """Whether ``obj`` is read as an open file (it has ``read``), not a path or bytes."""
    return not isinstance(obj, (str, bytes, bytearray, memoryview, os.PathLike)) and callable(getattr(obj, "read", None))


def _file_object_name(f) -> str:
    """What errors call an open file: fsspec's URL, the file's name, or ``<file>``."""
    try:  # an fsspec file: its filesystem gives the URL back
        fs, path = getattr(f, "fs", None), getattr(f, "path", None)
        if isinstance(path, str) and callable(getattr(fs, "unstrip_protocol", None)):
            url = fs.unstrip_protocol(path)
            if isinstance(url, str) and url:
                return url
    except Exception:
        pass
    for attr in ("full_name", "path", "name"):
        try:
            value = getattr(f, attr, None)
        except Exception:  # a property that fails on a closed or odd object
            continue
        if isinstance(value, bytes):
            value = os.fsdecode(value)
        if isinstance(value, str) and value:
            return value
        if isinstance(value, os.PathLike):
            return os.fspath(value)
    return "<file>"


def _read_file_object(f) -> tuple[bytes, str]:
    """The rest of an open binary file (from its current position), read in bounded chunks."""
    name = _file_object_name(f)
    if isinstance(f, io.TextIOBase):
        raise InvalidArgumentError("the file is open in text mode: open it with 'rb'", path=name)
    chunks = []
    try:
        while True:
            chunk = f.read(_READ_CHUNK)
            if chunk is None:
                raise InvalidArgumentError("the file object is non-blocking and has no data ready", path=name)
            if isinstance(chunk, str):
                raise InvalidArgumentError("the file is open in text mode: open it with 'rb'", path=name)
            if not isinstance(chunk, (bytes, bytearray, memoryview)):
                raise InvalidArgumentError(f"read() returned {type(chunk).__name__}, not bytes", path=name)
            if not len(chunk):
                break
            chunks.append(bytes(chunk))
    except TFFormatsError:
        raise
    except (OSError, ValueError) as exc:  # closed, not readable, I/O error
        raise InvalidArgumentError(f"cannot read the file object: {exc}", path=name) from None
    return b"".join(chunks), name


def _read_bytes(path) -> tuple[bytes, str]:
    """``(content, name)`` of a path, an fsspec URL, bytes or an open binary file."""
    if isinstance(path, (bytes, bytearray, memoryview)):
        return bytes(path), "<bytes>"
    if _is_file_object(path):
        return _read_file_object(path)
    if not isinstance(path, (str, os.PathLike)):
        raise InvalidArgumentError(
            f"expected a path, an fsspec URL, bytes or a binary file object, not {type(path).__name__}"
        )
    name = os.fspath(path)
    if isinstance(name, str) and os.path.isdir(name):
        raise InvalidArgumentError("is a directory, not a graph file (use load_saved_model for SavedModels)", path=name)
    try:
        with open_source(path) as src:
            return bytes(src.read(0, src.size)), src.name
    except TFFormatsError:
        raise
    except FileNotFoundError:
        raise NotFoundError("no such file", path=name) from None
    except OSError as exc:
        raise NotFoundError(f"cannot read: {exc.strerror or exc}", path=name) from None


def _has_unknown_fields(msg, size: int) -> bool:
    """Whether parsing left unknown fields anywhere in ``msg`` (it is modified)."""
    msg.DiscardUnknownFields()
    return msg.ByteSize() != size


def _is_clean(msg) -> bool:
    """Whether ``msg`` holds no unknown fields, at any depth (``msg`` is not modified)."""
    copy = type(msg)()
    copy.CopyFrom(msg)
    copy.DiscardUnknownFields()
    return copy.ByteSize() == msg.ByteSize()


def _parse_binary(data: bytes, cls, name: str):
    try:
        return cls.FromString(data), None
    except RecursionError:
        return None, "messages nested too deeply"
    except Exception as exc:  # DecodeError and friends, whatever the backend
        return None, str(exc) or type(exc).__name__


def _parse_text(data: bytes, cls, name: str):
    from google.protobuf import text_format

    from ..proto import pool

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"not UTF-8 ({exc.reason} at byte {exc.start})"
    if text.startswith("\ufeff"):  # a byte-order mark some editors add
        text = text[1:]
    msg = cls()
    try:
        with warnings.catch_warnings():  # protobuf warns about odd escapes in damaged strings
            warnings.simplefilter("ignore", DeprecationWarning)
            text_format.Parse(text, msg, descriptor_pool=pool())
    except RecursionError:
        return None, "messages nested too deeply"
    except Exception as exc:  # text_format.ParseError, or a bad Any type URL
        return None, str(exc) or type(exc).__name__
    return msg, None


def parse_message(data: bytes, cls, *, path=None, what: str | None = None):
    """Parse ``data`` as message class ``cls``, binary or text (decided from the content).

    Returns ``(message, "binary" | "text")``.  Raises ``DataLossError`` when
    neither encoding parses.
    """
    what = what or cls.DESCRIPTOR.name
    name = path if path is not None else "<bytes>"
    data = bytes(data)
    if looks_like_text(data):
        msg, text_err = _parse_text(data, cls, name)
        if msg is not None:
            return msg, "text"
        msg, bin_err = _parse_binary(data, cls, name)
        if msg is not None:
            probe = cls.FromString(data)
            if not _has_unknown_fields(probe, len(data)):
                return msg, "binary"
            bin_err = "parses only with unknown fields"
        raise DataLossError(f"not a valid text-format {what}: {text_err} (as binary: {bin_err})", path=name)
    msg, bin_err = _parse_binary(data, cls, name)
    if msg is not None:
        return msg, "binary"
    msg, text_err = _parse_text(data, cls, name)
    if msg is not None:
        return msg, "text"
    raise DataLossError(f"not a valid binary {what}: {bin_err}", path=name)


_KIND_READERS = {
    "GraphDef": "read_graph_def",
    "MetaGraphDef": "read_meta_graph",
    "SavedModel": "load_saved_model (on its directory)",
}


def _kind_hint(data: bytes, not_kind: str) -> str | None:
    """Which other message kind ``data`` cleanly parses as, if any (for error messages)."""
    from ..proto import pb

    scores = {
        "MetaGraphDef": lambda m: _meta_score(m) >= 0,
        "GraphDef": lambda m: _graph_score(m) > 0,
        "SavedModel": lambda m: len(m.meta_graphs) > 0 and all(_meta_score(g) >= 0 for g in m.meta_graphs),
    }
    for kind, ok in scores.items():
        if kind == not_kind:
            continue
        try:
            msg, _ = parse_message(data, getattr(pb, kind))
        except DataLossError:
            continue
        if _is_clean(msg) and ok(msg):
            return kind
    return None


def _read_as(path, kind: str):
    from ..proto import pb

    data, name = _read_bytes(path)
    try:
        msg, _ = parse_message(data, getattr(pb, kind), path=name)
    except DataLossError as exc:
        other = _kind_hint(data, kind)
        if other is not None:
            raise InvalidArgumentError(
                f"this file holds a {other}, not a {kind}: use tfformats.{_KIND_READERS[other]}", path=name
            ) from None
        raise exc from None
    return msg


def read_graph_def(path):
    """Read a ``GraphDef`` from a binary ``.pb`` or a text ``.pbtxt`` file.

    The encoding is detected from the content, not the file name.  Frozen
    graphs are GraphDefs too.  ``path`` is a local path, an fsspec URL
    (``gs://``, ``https://``...), the file's bytes, or an open binary file
    (read from its current position to the end, not closed).
    """
    return _read_as(path, "GraphDef")


def read_meta_graph(path):
    """Read a ``MetaGraphDef`` (a ``.meta`` file, binary or text).

    It holds the graph, the saver's description (``saver_def``), collections,
    signatures and, for TF2 exports, the object graph.  ``path`` is taken as
    by :func:`read_graph_def`.
    """
    return _read_as(path, "MetaGraphDef")


def _graph_score(g) -> int:
    """How plausible a parsed GraphDef is (higher is better); -1 if implausible."""
    if not g.node and not g.library.function:
        return 0 if g.HasField("versions") else -1
    for n in g.node:
        if not n.op or not n.name:
            return -1
    return 2 + len(g.node)


def _meta_score(m) -> int:
    if m.HasField("graph_def") or m.HasField("meta_info_def") or m.signature_def or m.HasField("saver_def"):
        for n in m.graph_def.node:
            if not n.op or not n.name:
                return -1
        return 3 + len(m.graph_def.node)
    return -1


def read_graph_file(path):
    """Read a file holding either a ``GraphDef`` or a ``MetaGraphDef``.

    Returns the message; ``msg.DESCRIPTOR.name`` tells which.  Both are tried
    (binary or text) and the reading without unknown fields that looks like
    a real graph wins.  ``path`` is taken as by :func:`read_graph_def`.
    """
    from ..proto import pb

    data, name = _read_bytes(path)
    candidates = []
    errors = []
    for cls, score in ((pb.MetaGraphDef, _meta_score), (pb.GraphDef, _graph_score)):
        try:
            msg, enc = parse_message(data, cls, path=name)
        except DataLossError as exc:
            errors.append(exc.message)
            continue
        s = score(msg)
        if s >= 0:
            # a reading that leaves unknown fields is a misreading unless nothing else fits
            clean = enc == "text" or _is_clean(msg)
            candidates.append((clean, s, msg))
    if not candidates:
        if not data.strip():
            return pb.GraphDef()
        other = _kind_hint(data, "GraphDef")
        if other == "SavedModel":
            raise InvalidArgumentError("this file holds a SavedModel: use tfformats.load_saved_model", path=name)
        raise DataLossError("neither a GraphDef nor a MetaGraphDef: " + "; ".join(errors), path=name)
    candidates.sort(key=lambda c: (not c[0], -c[1]))
    return candidates[0][2]


def coerce_message(msg, cls, *, what: str | None = None):
    """``msg`` as an instance of tfformats' ``cls``.

    Accepts tfformats' own messages, the same message from another protobuf
    pool (e.g. TensorFlow's ``graph_pb2.GraphDef``, converted through bytes),
    or serialized bytes.
    """
    if isinstance(msg, cls):
        return msg
    if isinstance(msg, (bytes, bytearray, memoryview)):
        out, _ = parse_message(bytes(msg), cls)
        return out
    desc = getattr(msg, "DESCRIPTOR", None)
    if desc is not None and getattr(desc, "full_name", None) == cls.DESCRIPTOR.full_name:
        return cls.FromString(msg.SerializeToString())
    raise InvalidArgumentError(
        f"expected a {cls.DESCRIPTOR.full_name} message, not {type(msg).__name__}"
        + (f" (for {what})" if what else "")
    )


def write_graph_def(graph_def, path, *, as_text: bool | None = None) -> str:
    """Write a ``GraphDef`` (or any message, e.g. a ``MetaGraphDef``) to ``path``.

    ``as_text=None`` picks text for names ending in ``.pbtxt``/``.txt`` and
    binary otherwise.  Both are written the way ``tf.io.write_graph`` writes them (binary with
    deterministic map order).
    The file is replaced atomically; missing parent directories are created.
    Returns the path written.
    """
    from google.protobuf import message as _message

    p = os.fspath(path)
    if not isinstance(graph_def, _message.Message):
        raise InvalidArgumentError(f"expected a protobuf message, not {type(graph_def).__name__}")
    if as_text is None:
        as_text = p.lower().endswith(_TEXT_SUFFIXES)
    if as_text:
        from google.protobuf import text_format

        from ..proto import pool

        # with our pool, Any fields are written expanded ([type.googleapis.com/...] {...}) as TF does
        data = text_format.MessageToString(graph_def, descriptor_pool=pool()).encode("utf-8")
    else:
        data = graph_def.SerializeToString(deterministic=True)
    parent = os.path.dirname(os.path.abspath(p))
    os.makedirs(parent, exist_ok=True)
    tmp = os.path.join(parent, f".{os.path.basename(p)}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        with open(tmp, "xb") as f:  # default permissions, like any file the user writes
            f.write(data)
        os.replace(tmp, p)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise
    return p
