"""One fuzz harness per parser entry point of tfformats.

A harness is a function ``f(data: bytes) -> None`` that turns the bytes into
files (or an in-memory buffer), opens them with a *public* reader and uses
everything the reader offers.  ``tfformats.TFFormatsError`` (the documented
outcome for a bad file) is caught; anything else escapes and is a finding.
Results are also checked for consistency where a cheap oracle exists (shapes
agree with the declared shape, a partial read agrees with the full read, a
decoded tensor survives a round trip), and such a mismatch is a finding too.

Inputs that are several files (a bundle's index + data shard, a SavedModel)
are packed with :func:`fuzz.mutate.pack`.  Harnesses whose format carries
CRCs also run the input with its CRCs rewritten (``repair_*_crcs``), so the
mutations reach the structure behind the checksum checks.

``HARNESSES`` maps a name to a :class:`Harness`; ``available()`` says whether
the module it needs is in this checkout.
"""

from __future__ import annotations

import atexit
import importlib.util
import io
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from typing import Callable

from . import mutate

import tfformats
from tfformats import TFFormatsError

# Reads are small; these caps keep a harness from spending its time in legal
# but huge expansions (the caps themselves are part of what is exercised).
MAX_FILL_BYTES = 1 << 20


class Mismatch(AssertionError):
    """A reader returned data that contradicts itself (a correctness finding)."""


def _check(cond: bool, what: str) -> None:
    if not cond:
        raise Mismatch(what)


# -- scratch files -------------------------------------------------------------------------------
_WORKDIR: str | None = None


def workdir() -> str:
    """A private scratch directory (in /dev/shm when there is one), removed at exit."""
    global _WORKDIR
    if _WORKDIR is None:
        base = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
        _WORKDIR = tempfile.mkdtemp(prefix="tfformats-fuzz-", dir=base)
        atexit.register(shutil.rmtree, _WORKDIR, True)
    return _WORKDIR


def write(rel: str, data: bytes) -> str:
    """Write a scratch file as a new inode (a reader that leaked a mapping of
    the previous file keeps its own bytes instead of faulting)."""
    path = os.path.join(workdir(), rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    with open(path, "wb") as f:
        f.write(data)
    return path


def clear(rel: str) -> str:
    path = os.path.join(workdir(), rel)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path, exist_ok=True)
    return path


# Distinct library errors seen so far ("DataLossError: entry runs past..."): the
# mutation engine keeps an input that produced a new one (cheap feedback).
SEEN: set[str] = set()


def note(exc: TFFormatsError) -> None:
    SEEN.add(f"{type(exc).__name__}: {exc.message[:32]}")


def _attempt(fn: Callable, *args, **kwargs):
    """``fn(...)``, or None when it raises the library's error."""
    try:
        return fn(*args, **kwargs)
    except TFFormatsError as exc:
        note(exc)
        return None


def _same_array(a, b) -> bool:
    import numpy as np

    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype == object:
        return all(x == y for x, y in zip(a.reshape(-1).tolist(), b.reshape(-1).tolist()))
    return np.ascontiguousarray(a).view(np.uint8).tobytes() == np.ascontiguousarray(b).view(np.uint8).tobytes()


# -- the table reader --------------------------------------------------------------------------
def table(data: bytes) -> None:
    for variant in _with_repaired(data, mutate.repair_table_crcs):
        _table_once(variant)


def _with_repaired(data: bytes, repair) -> list[bytes]:
    fixed = repair(data)
    return [data] if fixed == data else [data, fixed]


def _table_once(data: bytes) -> None:
    from tfformats._io.table import Table

    t = _attempt(Table, data)
    if t is None:
        return
    with t:
        repr(t)
        items = []
        try:
            for k, v in t.items():
                items.append((k, v))
                if len(items) > 100000:
                    break
        except TFFormatsError as exc:
            note(exc)
        for k, v in items[:64]:
            got = _attempt(t.get, k)
            _check(got == v, f"Table.get({k!r}) disagrees with items()")
        _attempt(t.get, b"\xff" * 8)
        if items:
            _attempt(lambda: list(t.items(start=items[len(items) // 2][0])))
        _attempt(t.verify)


# -- V2 bundles (index + data) and the checkpoint facade ----------------------------------------
def _exercise_checkpoint(path: str, verify: bool) -> None:
    r = _attempt(tfformats.load_checkpoint, path, verify_checksums=verify)
    if r is None:
        return
    with r:
        repr(r)
        names = list(r)
        _attempt(r.list_variables)
        _attempt(r.get_variable_to_dtype_map)
        _attempt(lambda: r.object_graph and (r.object_graph.variables(), r.object_graph.slots()))
        for name in names[:64]:
            _check(name in r and r.has_tensor(name), f"listed tensor {name!r} is not in the reader")
            shape = _attempt(r.get_shape, name)
            dtype = _attempt(r.get_dtype, name)
            arr = _attempt(r.get_tensor, name)
            if arr is not None:
                _check(shape is not None and arr.shape == tuple(shape), f"{name!r}: array shape {arr.shape} != {shape}")
            if shape:
                part = _attempt(lambda: r.get_slice(name)[0:2])
                if part is not None and arr is not None:
                    _check(_same_array(part, arr[0:2]), f"{name!r}: get_slice()[0:2] differs from get_tensor()[0:2]")
                if shape[0]:
                    _attempt(lambda: r.get_slice(name)[-1])
                whole = _attempt(lambda: r.get_slice(name)[:])
                if whole is not None and arr is not None:
                    _check(_same_array(whole, arr), f"{name!r}: get_slice()[:] differs from get_tensor()")
                _attempt(lambda: r.get_slice(name)[1::2])
            if r.format == "v2" and dtype is not None:
                view = _attempt(r.get_tensor_view, name, verify=verify)
                if view is not None and arr is not None:
                    _check(_same_array(view, arr), f"{name!r}: get_tensor_view() differs from get_tensor()")
            _attempt(r.nbytes, name)
        _attempt(r.get_tensor, "no such tensor")


def bundle(data: bytes) -> None:
    parts = mutate.unpack(data)
    index, shards = parts[0], parts[1:] or [b""]
    for variant in _with_repaired(index, mutate.repair_table_crcs):
        d = clear("bundle")
        write("bundle/ckpt.index", variant)
        for i, s in enumerate(shards):
            write(f"bundle/ckpt.data-{i:05d}-of-{len(shards):05d}", s)
        prefix = os.path.join(d, "ckpt")
        _exercise_checkpoint(prefix, verify=True)
        _exercise_checkpoint(prefix, verify=False)


# -- V1 checkpoints (SavedTensorSlices tables) -------------------------------------------------
def v1(data: bytes) -> None:
    """One V1 file, or several packed files written as the shards ``model.ckpt-0000i-of-0000N``."""
    parts = mutate.unpack(data)
    repair = mutate.repair_table_crcs
    variants = [parts] if [repair(p) for p in parts] == parts else [parts, [repair(p) for p in parts]]
    for files in variants:
        d = clear("v1")
        if len(files) == 1:
            path = write("v1/model.ckpt", files[0])
        else:
            for i, f in enumerate(files):
                write(f"v1/model.ckpt-{i:05d}-of-{len(files):05d}", f)
            path = os.path.join(d, "model.ckpt")
        _exercise_checkpoint(path, verify=True)


# -- TensorProto decoding ------------------------------------------------------------------------
def tensor_proto(data: bytes) -> None:
    import numpy as np

    from tfformats.tensor import numpy_to_tensor, tensor_to_numpy

    arr = _attempt(tensor_to_numpy, data, max_fill_bytes=MAX_FILL_BYTES, path="<fuzz>")
    if arr is None:
        return
    _check(isinstance(arr, np.ndarray), "tensor_to_numpy did not return an array")
    if arr.dtype == object and any(not isinstance(x, bytes) for x in arr.reshape(-1)[:1].tolist()):
        return  # variant/resource protos: nothing to round-trip
    back = _attempt(lambda: tensor_to_numpy(numpy_to_tensor(arr, dtype=_dtype_of(data))))
    if back is None:
        return
    _check(_same_array(arr, back), "TensorProto -> numpy -> TensorProto -> numpy changed the value")


def _dtype_of(data: bytes):
    from tfformats import dtypes
    from tfformats.proto import pb

    return dtypes.from_enum(pb.TensorProto.FromString(data).dtype)


# -- GraphDef / MetaGraphDef ---------------------------------------------------------------------
def _exercise_graph(msg, path: str) -> None:
    import json

    from tfformats.graph import graph_constants, iter_nodes, summarize_graph

    s = _attempt(summarize_graph, msg, path=path)
    if s is not None:
        str(s)
        json.dumps(s.to_dict())  # documented as JSON-able
    consts = _attempt(graph_constants, msg, path=path, max_fill_bytes=MAX_FILL_BYTES)
    if consts is not None:
        repr(consts)
        _attempt(consts.list_variables)
        for name in list(consts)[:64]:
            shape = _attempt(consts.shape, name)
            _attempt(consts.nbytes, name)
            arr = _attempt(consts.get_tensor, name)
            if arr is not None and shape is not None:
                _check(arr.shape == tuple(shape), f"constant {name!r}: array shape {arr.shape} != {shape}")
    count = 0
    try:
        for loc, node in iter_nodes(msg, max_nested_bytes=1 << 20):
            str(loc)
            count += 1
            if count > 200000:
                break
    except TFFormatsError as exc:
        note(exc)


def graph(data: bytes) -> None:
    """A GraphDef or MetaGraphDef file, binary or text."""
    from tfformats.graph import read_graph_def, read_graph_file, read_meta_graph

    _attempt(read_graph_def, data)
    _attempt(read_meta_graph, data)
    msg = _attempt(read_graph_file, data)
    if msg is not None:
        _exercise_graph(msg, "<fuzz>")
    path = write("graph/model.pb", data)
    msg2 = _attempt(read_graph_file, path)
    _check((msg is None) == (msg2 is None), "read_graph_file disagrees between bytes and the same bytes in a file")


# -- freeze_graph: a graph and its checkpoint -------------------------------------------------
# Ops that end a model graph without being one of its outputs (saving, initializing, training).
_NOT_OUTPUTS = ("NoOp", "SaveV2", "RestoreV2", "MergeV2Checkpoints", "Save", "SaveSlices", "Restore", "RestoreSlice",
                "VarIsInitializedOp", "IsVariableInitialized")
FREEZE_MAX_OUTPUTS = 8


def freeze_outputs(graph_def) -> tuple[list[str], list[str]]:
    """``(model outputs, every sink)``: sinks that read values, then all (savers, init and training ops too)."""
    from tfformats.graph.freeze import _mutates

    used = set()
    for n in graph_def.node:
        for name in n.input:
            used.add(name.lstrip("^").split(":")[0])
    sinks = [n for n in graph_def.node if n.name and n.name not in used]
    model = [n.name for n in sinks if n.op not in _NOT_OUTPUTS and not _mutates(n.op)
             and not n.name.startswith(("save", "init")) and "IsInitialized" not in n.name]
    return model[:FREEZE_MAX_OUTPUTS], [n.name for n in sinks][:FREEZE_MAX_OUTPUTS]


def _freeze_once(msg, graph_def, graph_path: str, prefix: str, reader, values, outputs) -> bool:
    """Freeze ``outputs`` four ways (path, reader, Mapping, with a denylist) and check they agree."""
    from tfformats.graph.freeze import VARIABLE_OPS

    frozen = _attempt(tfformats.freeze_graph, graph_path, prefix, outputs)
    if reader is not None:
        again = _attempt(tfformats.freeze_graph, msg, reader, outputs)
        _check((frozen is None) == (again is None),
               "freeze_graph(path, prefix) and freeze_graph(message, reader) disagree on failing")
        if frozen is not None and again is not None:
            _check(frozen == again, "freeze_graph(path, prefix) != freeze_graph(message, reader)")
    if frozen is not None and values is not None:
        from_mapping = _attempt(tfformats.freeze_graph, msg, values, outputs)
        _check(from_mapping == frozen, "freeze_graph with a Mapping of the same values differs")
    if frozen is None:
        return False
    names = {n.name for n in frozen.node}
    _check(all(o in names for o in outputs), f"outputs {outputs} missing from the frozen graph")
    left = [n.name for n in frozen.node if n.op in VARIABLE_OPS]
    _check(not left, f"variables left in the frozen graph: {left[:4]}")
    _exercise_graph(frozen, "<frozen>")
    variables = [n.name for n in graph_def.node if n.op in VARIABLE_OPS]
    if variables:
        kept = _attempt(tfformats.freeze_graph, msg, prefix, outputs, variable_names_denylist=variables[:1])
        if kept is not None:
            ops = {n.name: n.op for n in kept.node}
            _check(ops.get(variables[0], "VariableV2") in VARIABLE_OPS, f"denylisted variable {variables[0]!r} was frozen")
    return True


def freeze(data: bytes) -> None:
    """``pack(graph file, checkpoint .index, data shards...)``; the graph is a .meta, .pb or .pbtxt."""
    from tfformats.graph import read_graph_file

    parts = mutate.unpack(data)
    graph_bytes, index, shards = parts[0], parts[1] if len(parts) > 1 else b"", parts[2:] or [b""]
    d = clear("freeze")
    graph_path = write("freeze/graph.meta", graph_bytes)
    if index:
        write("freeze/model.ckpt.index", index)
    for i, shard in enumerate(shards):
        write(f"freeze/model.ckpt.data-{i:05d}-of-{len(shards):05d}", shard)
    prefix = os.path.join(d, "model.ckpt")
    with _no_escape():
        msg = _attempt(read_graph_file, graph_bytes)
        if msg is None:
            _attempt(tfformats.freeze_graph, graph_path, prefix, ["output"])
            return
        graph_def = msg.graph_def if msg.DESCRIPTOR.name == "MetaGraphDef" else msg
        reader = _attempt(tfformats.load_checkpoint, prefix)
        values = None
        if reader is not None and len(reader) <= 256:
            values = _attempt(lambda: {k: reader.get_tensor(k) for k in reader})
        try:
            model, everything = freeze_outputs(graph_def)
            if model and not _freeze_once(msg, graph_def, graph_path, prefix, reader, values, model):
                for name in model[:3]:  # one output that does not train may still freeze
                    _freeze_once(msg, graph_def, graph_path, prefix, reader, values, [name])
            if everything and everything != model:
                _freeze_once(msg, graph_def, graph_path, prefix, reader, values, everything)
        finally:
            if reader is not None:
                reader.close()


# -- SavedModel ----------------------------------------------------------------------------------
SAVED_MODEL_FILES = (
    "saved_model.pb",
    "variables/variables.index",
    "variables/variables.data-00000-of-00001",
    "fingerprint.pb",
    "keras_metadata.pb",
    "assets/vocab.txt",
)


def write_saved_model(data: bytes, rel: str = "sm") -> str:
    """Unpack ``data`` into a SavedModel directory (an empty part means: no such file)."""
    d = clear(rel)
    for name, part in zip(SAVED_MODEL_FILES, mutate.unpack(data, len(SAVED_MODEL_FILES))):
        if part:
            write(f"{rel}/{name}", part)
    return d


def _exercise_saved_model(d: str) -> None:
    import json

    sm = _attempt(tfformats.load_saved_model, d)
    if sm is None:
        return
    with sm:
        repr(sm)
        for tags in sm.tag_sets[:4]:
            other = _attempt(tfformats.load_saved_model, d, tags=tags)
            if other is not None:
                other.close()
        for sig in sm.signatures.values():
            json.dumps(sig.to_dict())
        _attempt(sm.signature)
        _attempt(lambda: sm.init_op)
        variables = _attempt(lambda: sm.variables) or []
        for v in variables[:16]:
            json.dumps(v.to_dict())
            _attempt(sm.get_variable, v.path)
        for prop in ("assets", "fingerprint", "keras_metadata", "functions", "problems", "checkpoint"):
            _attempt(getattr, sm, prop)
        s = _attempt(sm.summary)
        if s is not None:
            str(s)
            json.dumps(s.to_dict())
        dct = _attempt(sm.to_dict)
        if dct is not None:
            json.dumps(dct)


def saved_model(data: bytes) -> None:
    """A SavedModel directory: saved_model.pb, variables, fingerprint, Keras metadata, one asset."""
    d = write_saved_model(data)
    with _no_escape():
        _exercise_saved_model(d)


# -- TFRecord files ------------------------------------------------------------------------------
MAX_RECORDS = 100000


def _take(it, limit: int = MAX_RECORDS) -> list:
    out = []
    for x in it:
        out.append(bytes(x))
        if len(out) >= limit:
            break
    return out


def _outcome(it) -> tuple:
    """Records (up to MAX_RECORDS), the error and the skip/truncation reports of one read."""
    got, err = [], None
    try:
        got = _take(it)
    except TFFormatsError as exc:
        err = (type(exc), exc.message, exc.offset, getattr(exc, "record", None))
    bad = [(b.record, b.offset, b.skipped, b.reason) for b in it.bad_records]
    return got, err, bad, it.truncated


def _compress(kind: str, data: bytes) -> bytes:
    from tfformats._io.records import make_compressor

    c = make_compressor(kind)
    return c.compress(data) + c.finish()


def records(data: bytes) -> None:
    """TFRecord streams: the input as is and CRC-repaired, uncompressed and in every compression,
    from bytes, a file and a stream; plus the input itself taken as a compressed stream."""
    for variant in _with_repaired(data, mutate.repair_record_crcs):
        _records_once(variant)
    for kind in ("GZIP", "ZLIB", "SNAPPY"):
        _attempt(lambda: _take(_tfr().read(data, kind, tolerate_truncation=True)))
        _attempt(lambda: _take(_tfr().read(data, kind, errors="skip")))
    _attempt(_tfr().detect_compression, data)


def _tfr():
    import tfformats.records as tfr

    return tfr


def _records_once(data: bytes) -> None:
    tfr = _tfr()
    full = _attempt(lambda: _take(tfr.read(data, "NONE")))
    it = _attempt(tfr.read, data, "NONE", errors="skip")
    if it is not None:
        skipped = _attempt(lambda: _take(it))
        if full is not None and skipped is not None and len(full) < MAX_RECORDS:
            _check(skipped == full and not it.bad_records, "errors='skip' differs from errors='raise' on a valid file")
    _attempt(lambda: _take(tfr.read(data, "NONE", tolerate_truncation=True)))
    n = _attempt(tfr.count, data, "NONE")
    if full is not None and len(full) < MAX_RECORDS:
        _check(n == len(full), f"count() says {n}, read() gives {len(full)} records")
        rf = _attempt(tfr.RecordFile, data)
        if rf is not None:
            with rf:
                listed = _attempt(lambda: list(rf))
                _check(listed is None or listed == full, "RecordFile disagrees with read()")
        mid = len(data) // 2
        a = _attempt(lambda: _take(tfr.read(data, "NONE", start=0, end=mid)))
        b = _attempt(lambda: _take(tfr.read(data, "NONE", start=mid)))
        _check(a is None or b is None or a + b == full, "reading [0, mid) and [mid, end) does not give every record once")
        for kind in ("GZIP", "ZLIB", "SNAPPY"):
            blob = _compress(kind, data)
            got = _attempt(lambda: _take(tfr.read(blob, kind)))
            _check(got == full, f"{kind}-compressed stream reads differently from the uncompressed one")
            auto = _attempt(lambda: _take(tfr.read(blob)))
            _check(auto is None or auto == full, f"{kind} detected stream reads differently")
        path = write("records/data.tfrecord", data)
        _check(_attempt(lambda: _take(tfr.read(path))) == full, "reading from a file differs from bytes")
        for copy in (True, False):
            _check(_attempt(lambda: _take(tfr.read(path, "NONE", mmap=True, copy=copy))) == full,
                   "reading a mapped file differs from bytes")
        _check(_attempt(lambda: _take(tfr.read(io.BytesIO(data), "NONE"))) == full, "reading a stream differs from bytes")
    else:
        path = write("records/data.tfrecord", data)
        _attempt(lambda: _take(tfr.read(path)))
        for opts in ({}, {"errors": "skip", "tolerate_truncation": True}):
            _check(_outcome(tfr.read(path, "NONE", mmap=True, copy=False, **opts)) == _outcome(tfr.read(data, "NONE", **opts)),
                   f"a mapped file reads differently from its bytes ({opts or 'defaults'})")
        _attempt(lambda: _take(tfr.read(io.BytesIO(data), "NONE")))
        rf = _attempt(tfr.RecordFile, path)
        if rf is not None:
            with rf:
                _attempt(len, rf)
                _attempt(lambda: rf[-1] if len(rf) else None)


# -- tf.train.Example ----------------------------------------------------------------------------
def _wire_fields(buf: bytes):
    """``(field number, wire type, payload)`` of each field of a message; None if malformed."""
    out, pos = [], 0
    try:
        while pos < len(buf):
            key, pos = mutate._varint(buf, pos, len(buf))
            num, wt = key >> 3, key & 7
            if wt == 0:
                _, end = mutate._varint(buf, pos, len(buf))
            elif wt == 1:
                end = pos + 8
            elif wt == 5:
                end = pos + 4
            elif wt == 2:
                n, pos = mutate._varint(buf, pos, len(buf))
                end = pos + n
            else:
                return None
            if end > len(buf):
                return None
            out.append((num, wt, buf[pos:end]))
            pos = end
    except (ValueError, IndexError):
        return None
    return out


def _raw_feature(record: bytes, name: str):
    """The serialized Feature of ``name`` as the record holds it (the last one wins), or None."""
    found = None
    for num, _, features in _wire_fields(record) or []:
        if num != 1:
            continue
        for fnum, _, entry in _wire_fields(features) or []:
            if fnum != 1:
                continue
            fields = _wire_fields(entry) or []
            key = [p for n, w, p in fields if n == 1 and w == 2]
            value = [p for n, w, p in fields if n == 2 and w == 2]
            if key and key[-1] == name.encode("utf-8", "surrogateescape") and value:
                found = value[-1]
    return found


def _protobuf_reads_feature_like_tf(canonical: bytes, raw) -> bool:
    """Whether protobuf's parse of this Feature is what TensorFlow's parser reads.

    TensorFlow's Example parser (example_proto_fast_parsing.cc) reads one list
    field and, in a numeric list, one packed run, ignoring what follows it;
    protobuf merges repeated list fields and concatenates packed runs.  They
    agree when the Feature holds one list field whose numeric values are all
    packed in one run, or all unpacked.
    """
    if raw is None:
        return False
    if raw == canonical:
        return True
    fields = _wire_fields(raw)
    if fields is None or len(fields) != 1:
        return False
    num, wt, body = fields[0]
    if num == 1 or wt != 2:  # bytes_list: protobuf and TF agree on its repeated field
        return num == 1 and wt == 2
    inner = _wire_fields(body)
    if inner is None:
        return False
    packed = [w == 2 for _, w, _ in inner]
    return (sum(packed) == 1 and packed[0] and len(inner) == 1) or not any(packed)


def _pb_example_values(record: bytes):
    """``{name: numpy values}`` of an Example, decoded by protobuf itself (the oracle), or None."""
    import numpy as np

    from tfformats.proto import pb

    try:
        ex = pb.Example.FromString(record)
    except Exception:
        return None
    out = {}
    for name, f in ex.features.feature.items():
        if not _protobuf_reads_feature_like_tf(f.SerializeToString(), _raw_feature(record, name)):
            out[name] = None  # an encoding where TensorFlow's parser and protobuf's differ
            continue
        kind = f.WhichOneof("kind")
        if kind == "int64_list":
            out[name] = np.array(f.int64_list.value, np.int64)
        elif kind == "float_list":
            out[name] = np.array(f.float_list.value, np.float32)
        elif kind == "bytes_list":
            out[name] = np.array(list(f.bytes_list.value) or [], object)
        else:
            out[name] = None
    return out


def _values_equal(a, b) -> bool:
    import numpy as np

    def flat(x):
        if isinstance(x, (bytes, bytearray, memoryview)):  # np.asarray would make it 'S' and drop trailing NULs
            return np.array([bytes(x)], object)
        return np.asarray(x).reshape(-1)

    a, b = flat(a), flat(b)
    if len(a) != len(b):
        return False
    if a.dtype == object or b.dtype == object:
        return [bytes(x) for x in a.tolist()] == [bytes(x) for x in b.tolist()]
    if a.dtype.kind == "f" or b.dtype.kind == "f":
        return a.astype(np.float32).view(np.uint32).tolist() == b.astype(np.float32).view(np.uint32).tolist()
    return a.tolist() == b.tolist()


def example(data: bytes) -> None:
    """Example / SequenceExample records (packed): single, batch and file decoding, schema
    inference; single-record results are compared with protobuf's own parse."""
    import tfformats.example as tfe

    parts = mutate.unpack(data, 64)
    singles = []
    for rec in parts:
        got = _attempt(tfe.decode_example, rec)
        singles.append(got)
        want = _pb_example_values(rec) if got is not None else None
        if got is not None and want is not None:
            for name, values in want.items():
                if values is not None and name in got:
                    _check(_values_equal(got[name], values), f"decode_example({name!r}) differs from protobuf's parse")
        _attempt(tfe.decode_sequence_example, rec)
    cols = _attempt(tfe.decode_examples, parts)
    if cols is not None:
        for name, col in cols.items():
            _check(len(col) == len(parts), f"column {name!r} has {len(col)} rows for {len(parts)} records")
            for i, single in enumerate(singles):
                if single is not None and name in single:
                    _check(_values_equal(col[i], single[name]), f"decode_examples row {i} of {name!r} differs")
    stream = mutate.records(parts)
    _attempt(tfe.read_examples, stream)
    schema = _attempt(tfe.infer_schema, stream)
    if schema is not None:
        repr(schema)
        _attempt(schema.to_tf_code)
        if isinstance(schema, tfe.Schema):  # a SequenceSchema is not a features= argument
            _attempt(tfe.read_examples, stream, features=schema)
    _attempt(tfe.infer_schema, stream, sequence=True)


# -- TensorBoard event files ---------------------------------------------------------------------
def events(data: bytes) -> None:
    """One event file (a TFRecord stream of Events), as is and CRC-repaired: iter_events,
    read_events (bytes and a log directory), every table, graph_def(), iter_summaries."""
    for variant in _with_repaired(data, mutate.repair_record_crcs):
        _events_once(variant)


def _events_once(data: bytes) -> None:
    import tfformats.events as tfev

    _attempt(lambda: _take(x.SerializeToString() for x in tfev.iter_events(data)))
    _attempt(lambda: _take(x.SerializeToString() for x in tfev.iter_events(data, errors="skip")))
    log = _attempt(tfev.read_events, data)
    summaries = _attempt(lambda: list(tfev.iter_summaries(data)))
    if log is not None:
        repr(log)
        log.tags()
        total = 0
        for kind in (*tfev.KINDS, *tfev._EVENT_KINDS):
            table = getattr(log, kind, None)
            if table is None:
                continue
            repr(table)
            table.rows()
            table.to_dict()
            if kind in tfev.KINDS:
                total += len(table)
            for tag in table.tags()[:4] if "tag" in getattr(table, "fields", ()) else []:
                table.filter(tag=tag)
        for run in log.runs:
            _attempt(log.graph_def, run)
        if summaries is not None:
            _check(len(summaries) == total, f"iter_summaries gives {len(summaries)} values, read_events {total}")
    d = clear("logs")
    write("logs/train/events.out.tfevents.1700000000.fuzz", data)
    from_dir = _attempt(tfev.read_events, d)
    if from_dir is not None and log is not None:
        _check(len(from_dir.scalars) == len(log.scalars), "reading a log directory differs from reading the bytes")
    # the same file twice in one run: its STARTs (if any) then purge rows of the first copy
    write("logs/train/events.out.tfevents.1700000001.fuzz", data)
    kept = _attempt(tfev.read_events, d)
    purged = _attempt(tfev.read_events, d, purge_orphaned_data=True)
    _check((kept is None) == (purged is None), "purge_orphaned_data changed whether the log reads")
    if kept is not None and purged is not None:
        for kind in tfev.KINDS:
            _check(len(getattr(purged, kind)) <= len(getattr(kept, kind)), f"purging added {kind}")
        _check(len(purged.session_logs) == len(kept.session_logs), "purging dropped session logs")


# -- the scan command ----------------------------------------------------------------------------
SCAN_TARGETS = ("saved_model", "model.pb", "model.pbtxt", "model.meta", "model.keras", "keras_metadata.pb")


def scan_input(kind: str, payload: bytes) -> bytes:
    return bytes([SCAN_TARGETS.index(kind)]) + payload


def scan(data: bytes) -> None:
    """``tfformats scan --json`` on a SavedModel directory or a graph/Keras file; the first
    byte picks which (``SCAN_TARGETS``).  The JSON printed must parse."""
    import contextlib
    import json

    from tfformats.cli import main

    if not data:
        return
    kind = SCAN_TARGETS[data[0] % len(SCAN_TARGETS)]
    if kind == "saved_model":
        target = write_saved_model(data[1:], "scan_sm")
    else:
        clear("scan")
        target = write(f"scan/{kind}", data[1:])
    out = io.StringIO()
    old = os.environ.get("TFFORMATS_DEBUG")
    os.environ["TFFORMATS_DEBUG"] = "1"  # let exceptions through instead of "internal error"
    try:
        with _no_escape(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            code = _attempt(main, ["scan", target, "--json", "--fail-on", "none", "--min-severity", "info"])
    finally:
        if old is None:
            del os.environ["TFFORMATS_DEBUG"]
        else:
            os.environ["TFFORMATS_DEBUG"] = old
    if code is not None:
        # 0: scanned; 3: the CLI's documented "input missing/unreadable/corrupt" (a usage-level error).
        _check(code in (0, 3), f"scan exited with {code}")
        json.loads(out.getvalue())


# -- the other commands: info, verify, ls ---------------------------------------------------------
CLI_TARGETS = ("checkpoint", "model.ckpt", "data.tfrecord", "events.out.tfevents.1700000000.fuzz", "graph.pb",
               "saved_model", "model.h5")


def cli_input(kind: str, payload: bytes) -> bytes:
    return bytes([CLI_TARGETS.index(kind)]) + payload


def cli(data: bytes) -> None:
    """``tfformats info/verify/ls --json`` on a V2 checkpoint, V1 file, TFRecord, event file, graph,
    SavedModel or Keras weights file (the first byte picks which).  Exit codes 0-3 are documented; the JSON must parse."""
    import contextlib
    import json

    from tfformats.cli import main

    if not data:
        return
    kind = CLI_TARGETS[data[0] % len(CLI_TARGETS)]
    body = data[1:]
    if kind == "checkpoint":
        parts = mutate.unpack(body)
        d = clear("cli_ckpt")
        write("cli_ckpt/ckpt.index", parts[0])
        for i, part in enumerate(parts[1:] or [b""]):
            write(f"cli_ckpt/ckpt.data-{i:05d}-of-{max(1, len(parts) - 1):05d}", part)
        target = os.path.join(d, "ckpt")
    elif kind == "saved_model":
        target = write_saved_model(body, "cli_sm")
    else:
        clear("cli")
        target = write(f"cli/{kind}", body)
    old = os.environ.get("TFFORMATS_DEBUG")
    os.environ["TFFORMATS_DEBUG"] = "1"
    try:
        for command in ("info", "verify", "ls"):
            out = io.StringIO()
            with _no_escape(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
                code = _attempt(main, [command, target, "--json", "--no-progress"])
            if code is not None:
                _check(code in (0, 1, 2, 3), f"{command} exited with {code}")
                json.loads(out.getvalue())
    finally:
        if old is None:
            del os.environ["TFFORMATS_DEBUG"]
        else:
            os.environ["TFFORMATS_DEBUG"] = old


# -- files outside the scratch directory are never opened ---------------------------------------
_GUARD = {"on": False}


def _allowed_roots() -> tuple[str, ...]:
    import sys

    roots = {workdir(), os.path.dirname(tfformats.__file__), sys.prefix, sys.base_prefix, sys.exec_prefix}
    roots.update(p for p in sys.path if p and os.path.isdir(p))
    return tuple(os.path.realpath(r) for r in roots)


class EscapeFinding(AssertionError):
    """A reader opened a file outside the directory it was given (e.g. an asset ``../../x``)."""


def _audit(event: str, args) -> None:
    if not _GUARD["on"] or event != "open":
        return
    target = args[0]
    if isinstance(target, int):
        return
    try:
        p = os.path.realpath(os.fsdecode(target))
    except (TypeError, ValueError):
        return
    if p.startswith("/dev/") or p.startswith("/proc/"):
        return
    if not any(p == r or p.startswith(r + os.sep) for r in _GUARD["roots"]):
        _GUARD["on"] = False
        raise EscapeFinding(f"opened {p!r}, outside the input's directory")


class _no_escape:
    """While active, opening a file outside the scratch dir / Python installation is a finding."""

    installed = False

    def __enter__(self):
        import sys

        if not _no_escape.installed:
            _GUARD["roots"] = _allowed_roots()
            sys.addaudithook(_audit)
            _no_escape.installed = True
        _GUARD["on"] = True
        return self

    def __exit__(self, *exc):
        _GUARD["on"] = False


# -- registry ------------------------------------------------------------------------------------
@dataclass
class Harness:
    name: str
    func: Callable[[bytes], None]
    modules: list[str]  # tfformats modules it drives (instrumented by atheris)
    kind: str  # fixture kind its seeds come from (see fuzz/seeds.py)
    doc: str = ""
    needs: list[str] = field(default_factory=list)  # modules that must exist

    def available(self) -> bool:
        return all(importlib.util.find_spec(m) is not None for m in self.needs or self.modules)

    def __call__(self, data: bytes) -> None:
        self.func(data)


HARNESSES: dict[str, Harness] = {}


# -- tf.data saved datasets -----------------------------------------------------------------------
def _dataset_dir(data: bytes) -> str:
    """Unpack ``pack(snapshot.metadata, dataset_spec.pb, shard file...)`` into a dataset folder; the
    shard files go where the metadata's run id and format version put them (empty spec: none)."""
    parts = mutate.unpack(data, 6)
    root = clear("dataset")
    with open(os.path.join(root, "snapshot.metadata"), "wb") as f:
        f.write(parts[0])
    if len(parts) > 1 and parts[1]:
        with open(os.path.join(root, "dataset_spec.pb"), "wb") as f:
            f.write(parts[1])
    run_id, version = "0", 2
    try:
        from tfformats.proto import message_class

        meta = message_class("tensorflow.data.experimental.SnapshotMetadataRecord").FromString(parts[0])
        run_id, version = meta.run_id, meta.version
    except Exception:
        pass
    if not run_id or run_id in (".", "..") or "/" in run_id or "\\" in run_id or "\0" in run_id or len(run_id) > 100:
        run_id = "0"
    for i, shard in enumerate(parts[2:]):
        folder = os.path.join(root, run_id, f"{i:08d}.shard") if version >= 2 else os.path.join(root, run_id)
        os.makedirs(folder, exist_ok=True)
        name = "00000000.snapshot" if version >= 2 else f"{i:08d}.snapshot"
        with open(os.path.join(folder, name), "wb") as f:
            f.write(shard)
    return root


def dataset(data: bytes) -> None:
    """load_dataset on a Dataset.save / snapshot folder: every element in each order, flat and
    structured, to_numpy/columns; the orders hold the same elements, and counts agree."""
    import numpy as np

    import tfformats.dataset as tds

    parts = mutate.unpack(data, 6)
    variants = [data]
    repaired = mutate.pack(*parts[:2], *[mutate.repair_record_crcs(p) for p in parts[2:]])
    if repaired != data:
        variants.append(repaired)
    for variant in variants:
        root = _dataset_dir(variant)
        ds = _attempt(tds.load_dataset, root)
        if ds is None:
            continue
        repr(ds)
        specs = ds.leaf_specs()
        repr(ds.element_spec)
        _check(len(specs) == len(ds.dtypes), "leaf specs and component dtypes disagree")
        flat = _attempt(lambda: _take_items(ds.iter_flat()))
        if flat is None:
            continue
        _check(all(len(f) == len(ds.dtypes) for f in flat), "an element with the wrong number of components")
        per_shard = _attempt(lambda: [x for i in range(ds.num_shards) for x in _take_items(ds.iter_flat(shard=i))])
        if per_shard is not None:
            _check(len(per_shard) == len(flat), "per-shard reading gives another element count")
        elements = _attempt(lambda: _take_items(ds.elements()))
        if elements is not None:
            _check(len(elements) == len(flat), "structured and flat reading disagree on the count")
        _attempt(ds.to_numpy)
        cols = _attempt(ds.columns)
        if cols is not None:
            _check(len(cols) == len(ds.dtypes), "columns() and the component dtypes disagree")
            for j, col in enumerate(cols.values()):
                _check(len(col) == len(flat), "a column with another element count than iteration")
                if isinstance(col, np.ndarray):
                    for i, f in enumerate(flat):
                        got = col[i : i + 1].reshape(col.shape[1:])
                        _check(_same_array(got, f[j]), "a stacked column differs from the elements read one by one")
        if len(flat) < MAX_RECORDS:
            n = _attempt(ds.count)
            _check(n is None or n == len(flat), "count() differs from iteration")


def _take_items(it, limit: int = MAX_RECORDS) -> list:
    out = []
    for x in it:
        out.append(x)
        if len(out) >= limit:
            break
    return out


def _register(name, func, modules, kind, doc, needs=None):
    HARNESSES[name] = Harness(name, func, modules, kind, doc, needs or [])


# -- Keras weights (HDF5) ---------------------------------------------------------------------------
def keras(data: bytes) -> None:
    """load_keras_weights on an HDF5 file or a ``.keras`` zip (told apart by content): the
    listing, every tensor; each value agrees with the listed shape and dtype, and a second
    read returns the same bytes."""
    import tfformats.keras as tk

    path = write("keras/model.h5", data)
    for verify in (True, False) if data[:4] == b"PK\x03\x04" else (True,):  # zips also without their CRC,
        # so mutations reach the HDF5 inside
        r = _attempt(tk.load_keras_weights, path, verify_checksums=verify)
        if r is None:
            return
        _keras_once(r)


def _keras_once(r) -> None:
    with r:
        repr(r)
        shapes = r.get_variable_to_shape_map()
        dtypes = r.get_variable_to_dtype_map()
        unreadable = r.unreadable()
        _check(list(shapes) == list(r) == [n for n, _ in r.list_variables()], "listings disagree")
        names = r.layer_names()
        _check(all(isinstance(k, str) and isinstance(v, str) for k, v in names.items()), "layer names not strings")
        for n in r:
            layer = r.layer_of(n)
            _check(layer is None or n.rpartition("/vars/")[0] in names, f"{n!r}: a layer name from no vars group")
            v = _attempt(r.get_tensor, n)
            if v is None:
                continue
            _check(n not in unreadable, f"{n!r} is listed unreadable but was read")
            _check(list(v.shape) == shapes[n], f"{n!r}: shape {v.shape} but listed {shapes[n]}")
            _check(v.dtype == object if dtypes[n] == "string" else v.dtype.name == dtypes[n],
                   f"{n!r}: dtype {v.dtype} but listed {dtypes[n]}")
            _check(_same_array(v, r.get_tensor(n)), f"{n!r}: two reads differ")


_register(
    "table", table, ["tfformats._io.table", "tfformats._io.varint", "tfformats._io.source"], "table",
    "tfformats._io.table.Table over arbitrary bytes: items(), get(), verify()",
)
_register(
    "bundle", bundle,
    ["tfformats.checkpoint.reader", "tfformats.checkpoint.bundle", "tfformats.checkpoint.slices",
     "tfformats.checkpoint.object_graph", "tfformats._io.table", "tfformats._io.source"],
    "bundle",
    "load_checkpoint(prefix) on packed (index, data shard...): every tensor, slices, views, object graph",
    ["tfformats.checkpoint.bundle"],
)
_register(
    "v1", v1, ["tfformats.checkpoint.v1", "tfformats.checkpoint.reader", "tfformats._io.table"], "v1",
    "load_checkpoint(file) on a V1 SavedTensorSlices file: every tensor and slice",
    ["tfformats.checkpoint.v1"],
)
_register(
    "tensor_proto", tensor_proto, ["tfformats.tensor", "tfformats.dtypes"], "tensor_proto",
    "tensor_to_numpy on serialized TensorProto bytes, plus a numpy_to_tensor round trip",
)
_register(
    "graph", graph,
    ["tfformats.graph.io", "tfformats.graph.summary", "tfformats.graph.constants", "tfformats.graph.walk",
     "tfformats.graph.nodes", "tfformats.graph.signatures", "tfformats.tensor"],
    "graph",
    "read_graph_def/read_meta_graph/read_graph_file (binary or text), summarize_graph, graph_constants, iter_nodes",
    ["tfformats.graph"],
)
_register(
    "freeze_graph", freeze,
    ["tfformats.graph.freeze", "tfformats.graph.io", "tfformats.graph.nodes", "tfformats.checkpoint.reader",
     "tfformats.checkpoint.bundle", "tfformats.tensor"],
    "freeze_graph",
    "freeze_graph on packed (.meta/.pb/.pbtxt, checkpoint index, data shards): path, reader and Mapping agree, "
    "no variable left, denylist kept; the frozen graph summarized",
    ["tfformats.graph.freeze"],
)
_register(
    "saved_model", saved_model,
    ["tfformats.saved_model", "tfformats.graph.signatures", "tfformats.graph.summary", "tfformats.graph.io",
     "tfformats.checkpoint.bundle", "tfformats.checkpoint.reader"],
    "saved_model",
    "load_saved_model on packed (saved_model.pb, variables, fingerprint, keras_metadata, asset): everything it offers",
    ["tfformats.saved_model"],
)
_register(
    "records", records, ["tfformats.records", "tfformats._io.records"], "records",
    "tfformats.records read/count/RecordFile/split reads, uncompressed, GZIP, ZLIB, SNAPPY; bytes, file, stream",
    ["tfformats.records"],
)
_register(
    "keras", keras, ["tfformats.keras", "tfformats._io.hdf5"], "keras",
    "load_keras_weights on a Keras .h5/.weights.h5 file or a .keras zip: listing, every tensor, dtype/shape agreement",
    ["tfformats.keras"],
)
_register(
    "dataset", dataset,
    ["tfformats.dataset", "tfformats._io.snapshot", "tfformats.records", "tfformats._io.records", "tfformats.tensor"],
    "dataset",
    "load_dataset on a Dataset.save/snapshot folder (metadata, spec, shard files): every element, flat, "
    "structured, per shard, stacked",
    ["tfformats.dataset"],
)
_register(
    "scan", scan,
    ["tfformats.cli.scan", "tfformats.cli._detect", "tfformats.cli._graphcheck", "tfformats._io.hdf5",
     "tfformats.graph.walk", "tfformats.saved_model"],
    "scan",
    "tfformats scan --json on a SavedModel directory, .pb, .pbtxt, .meta, .keras, Keras .h5 or keras_metadata.pb",
    ["tfformats.cli.scan"],
)
_register(
    "example", example, ["tfformats.example", "tfformats.records", "tfformats._io.records"], "example",
    "decode_example/decode_sequence_example/decode_examples/read_examples/infer_schema; checked against protobuf",
    ["tfformats.example"],
)
_register(
    "events", events, ["tfformats.events", "tfformats.records", "tfformats._io.records", "tfformats.tensor"], "events",
    "iter_events/read_events/iter_summaries on an event file (bytes and log directory), every table, graph_def()",
    ["tfformats.events"],
)
_register(
    "cli", cli,
    ["tfformats.cli.info", "tfformats.cli.verify", "tfformats.cli.ls", "tfformats.cli._detect", "tfformats.cli._common",
     "tfformats.cli._sources", "tfformats.cli._records", "tfformats.cli._table"],
    "cli",
    "tfformats info/verify/ls --json on a checkpoint, V1 file, TFRecord, event file, graph, SavedModel or Keras file",
    ["tfformats.cli.info"],
)
