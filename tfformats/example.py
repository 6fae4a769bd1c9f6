"""``tf.train.Example`` and ``tf.train.SequenceExample`` <-> numpy.

An Example is a map from feature name to one list of values, of one of
three kinds: ``int64``, ``float32`` or ``bytes``::

    import tfformats.example as tfe

    tfe.decode_example(record)        # {"label": array([3]), "image": array([b'...'], dtype=object)}
    cols = tfe.read_examples("train.tfrecord")
    cols["label"]                     # 1-D int64 array: one value per record
    cols["embedding"]                 # 2-D float32 array: 16 values per record
    cols["tokens"]                    # Ragged(values=..., row_lengths=...): varying lengths
    tfe.infer_schema("train.tfrecord")   # names, kinds, fixed or variable lengths
    tfe.encode_example({"label": 3, "embedding": np.zeros(16), "text": "hi"})   # bytes to write

Decoding never loops in Python over values.  Records are parsed by
protobuf's C implementation into raw per-feature byte strings (a private
schema in which each ``Feature`` is left as ``bytes``); a batch then decodes
each feature column at once with numpy: packed float lists are
reinterpreted in place, packed int64 varints are decoded by vectorised
arithmetic.  Anything unusual (unpacked lists, repeated fields) falls back
to protobuf for that one feature.

Shapes follow ``tf.io.FixedLenFeature``: a feature with one value per record
has shape ``()`` and decodes in a batch to a 1-D array; ``k`` values give
``(k,)`` and a 2-D ``[n, k]`` array; varying lengths give :class:`Ragged`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Mapping, Optional, Union

import numpy as np

from ._io import varint as _varint
from .errors import DataLossError, InvalidArgumentError

__all__ = [
    "INT64",
    "FLOAT32",
    "BYTES",
    "Ragged",
    "FeatureSpec",
    "Schema",
    "SequenceSchema",
    "decode_example",
    "decode_sequence_example",
    "decode_examples",
    "read_examples",
    "infer_schema",
    "encode_example",
    "encode_sequence_example",
    "make_example",
    "make_sequence_example",
    "infer_example_schema",
]

INT64, FLOAT32, BYTES = "int64", "float32", "bytes"
KINDS = (INT64, FLOAT32, BYTES)
# Feature oneof: bytes_list = 1, float_list = 2, int64_list = 3 (length-delimited tags).
_KIND_BY_TAG = {0x0A: BYTES, 0x12: FLOAT32, 0x1A: INT64}
_TAG_BY_KIND = {v: k for k, v in _KIND_BY_TAG.items()}
_DTYPE = {INT64: np.dtype(np.int64), FLOAT32: np.dtype(np.float32), BYTES: np.dtype(object)}
_LIST_FIELD = {INT64: "int64_list", FLOAT32: "float_list", BYTES: "bytes_list"}
_KIND_BY_FIELD = {v: k for k, v in _LIST_FIELD.items()}
_F32_LE = np.dtype("<f4")
_HIGH_BYTES = bytes(range(0x80, 0x100))


def _kind_name(kind) -> str:
    k = str(kind).lower().replace("tf.", "")
    aliases = {"int64": INT64, "int": INT64, "float32": FLOAT32, "float": FLOAT32, "bytes": BYTES, "string": BYTES, "str": BYTES}
    try:
        return aliases[k]
    except KeyError:
        raise InvalidArgumentError(f"unknown feature kind {kind!r}: use 'int64', 'float32' or 'bytes'") from None


# ---------------------------------------------------------------------------
# A private schema that leaves every Feature as raw bytes.

_RAW = None


def _raw():
    """Message classes for an Example with its Features kept as raw bytes, and a FeatureList.

    Wire-compatible with TensorFlow's messages; built in a pool of their own.
    They give the fast path only: a record they do not encode exactly (and
    every SequenceExample) is walked by hand (:func:`_walk_example`).
    """
    global _RAW
    if _RAW is not None:
        return _RAW
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    F = descriptor_pb2.FieldDescriptorProto
    fdp = descriptor_pb2.FileDescriptorProto(name="tfformats_raw_example.proto", package="tfformats_raw", syntax="proto3")

    def msg(name):
        return fdp.message_type.add(name=name)

    def fld(m, name, number, ftype, label=F.LABEL_OPTIONAL, type_name=None):
        f = m.field.add(name=name, number=number, type=ftype, label=label)
        if type_name:
            f.type_name = ".tfformats_raw." + type_name

    m = msg("FeaturesRaw")  # map<string, bytes> feature = 1
    entry = m.nested_type.add(name="FeatureEntry")
    entry.options.map_entry = True
    fld(entry, "key", 1, F.TYPE_STRING)
    fld(entry, "value", 2, F.TYPE_BYTES)
    fld(m, "feature", 1, F.TYPE_MESSAGE, F.LABEL_REPEATED, "FeaturesRaw.FeatureEntry")
    m = msg("FeatureListRaw")
    fld(m, "feature", 1, F.TYPE_BYTES, F.LABEL_REPEATED)
    m = msg("ExampleRaw")
    fld(m, "features", 1, F.TYPE_MESSAGE, type_name="FeaturesRaw")

    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)

    class _NS:
        pass

    ns = _NS()
    for name in ("ExampleRaw", "FeatureListRaw"):
        setattr(ns, name, message_factory.GetMessageClass(pool.FindMessageTypeByName(f"tfformats_raw.{name}")))
    from google.protobuf.message import DecodeError

    ns.DecodeError = DecodeError
    _RAW = ns
    return ns


def _pb():
    from .proto import pb

    return pb


def _as_buffer(record, index):
    if isinstance(record, (bytes, bytearray, memoryview)):
        return record
    ser = getattr(record, "SerializeToString", None)
    if ser is not None:
        return ser()
    raise TypeError(f"record {index}: expected bytes or a protobuf message, not {type(record).__name__}")


def _loose_key(k: bytes) -> str:
    return k.decode("utf-8", "surrogateescape")


def _py_key(name: str) -> str:
    """``name`` as Python source for TensorFlow: a bytes literal for a name that is not UTF-8
    (TensorFlow accepts bytes keys; the surrogate-escaped ``str`` would not convert)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return repr(name.encode("utf-8", "surrogateescape"))
    return repr(name)


def _example_features(record, index=None) -> dict:
    """``{name: raw Feature bytes}`` of one serialized Example, accepted as TensorFlow's parser accepts it.

    protobuf parses the record first (fast, in C); when the bytes are
    exactly the canonical encoding of what it found, nothing was merged,
    skipped or defaulted, and that result stands.  Anything else (unknown
    fields, repeated keys, entries missing a key or a value, names that
    are not UTF-8) goes through :func:`_walk_example`, which applies
    TensorFlow's own rules, including its refusals.
    """
    R = _raw()
    record = _as_buffer(record, index)
    try:
        fm = R.ExampleRaw.FromString(record).features.feature
        feats = {k: fm[k] for k in fm}  # faster than dict(fm), which goes through Mapping in Python
    except R.DecodeError:
        feats = None
    if feats is not None and _canonical_size(feats) == len(record):
        return feats
    return _walk_example(record, index)


def _vsize(n: int) -> int:
    """Bytes of ``n`` as a varint."""
    return 1 if n < 0x80 else 2 if n < 0x4000 else 3 if n < 0x200000 else 4 if n < 0x10000000 else 5


def _canonical_size(feats: dict) -> int:
    """Size of the plain encoding of an Example holding ``feats`` (-1 when it cannot be told).

    An empty name or an empty Feature may have been made up by protobuf for
    a missing field, so they send the record to the exact walk.
    """
    if not feats:
        return 0
    total = 0
    for k, v in feats.items():
        if not k or not v:
            return -1
        kl = len(k) if k.isascii() else len(k.encode("utf-8"))
        e = 2 + kl + _vsize(kl) + len(v) + _vsize(len(v))
        total += 1 + _vsize(e) + e
    return 1 + _vsize(total) + total


def _v32(buf, pos: int, limit: int, where) -> tuple[int, int]:
    """A length as TensorFlow's parser reads it: up to 10 varint bytes, kept to its low 32 bits."""
    try:
        v, pos = _varint.decode(buf, pos, limit)
    except ValueError:
        raise DataLossError("malformed length varint", entry=where) from None
    return v & 0xFFFFFFFF, pos


def _skip_field(buf, pos: int, end: int, where) -> int:
    """Skip one unknown field at ``pos`` the way TensorFlow's Example parsers do; the new position."""
    try:
        tag, pos = _varint.decode(buf, pos, end)
    except ValueError:
        raise DataLossError("malformed field tag", entry=where) from None
    wire = tag & 7
    if wire == 0:
        _, pos = _v32(buf, pos, end, where)
        return pos
    if wire == 2:
        n, pos = _v32(buf, pos, end, where)
        return min(pos + n, end)  # TF ignores a skip that runs off the end
    size = {1: 8, 5: 4}.get(wire)
    if size is None:
        raise DataLossError(f"field of wire type {wire} (a group or no type), which TensorFlow's parser refuses", entry=where)
    if pos + size > end:
        raise DataLossError(f"{size}-byte field runs past the end of the record", entry=where)
    return pos + size


def _map_entries(buf, pos: int, limit: int, where, any_order: bool):
    """``(key, value)`` pairs of the map entries in ``buf[pos:limit]``, each exactly two fields.

    ``any_order``: value may come before key and either may come twice
    (TensorFlow's Example parser); otherwise key then value strictly (its
    SequenceExample parser).
    """
    while pos < limit:
        if buf[pos] != 0x0A:
            raise DataLossError(f"map holds a field with tag byte {buf[pos]:#04x}, not an entry", entry=where)
        n, pos = _v32(buf, pos + 1, limit, where)
        elim = min(pos + n, limit)  # an inner length cannot reach past its enclosing one
        key = value = b""
        for i in range(2):
            tag = buf[pos] if pos < elim else 0
            if tag not in (0x0A, 0x12) or (not any_order and tag != (0x0A, 0x12)[i]):
                raise DataLossError("map entry is not one key and one value", entry=where)
            n, pos = _v32(buf, pos + 1, elim, where)
            if pos + n > elim:
                raise DataLossError("map entry field runs past its entry", entry=where)
            if tag == 0x0A:
                key = buf[pos : pos + n]
            else:
                value = buf[pos : pos + n]
            pos += n
        if pos != elim:
            raise DataLossError("map entry holds more than one key and one value", entry=where)
        yield key, value


def _walk_example(record, index=None) -> dict:
    """``{name: raw Feature}`` by TensorFlow's Example parser rules (``DataLossError`` where it refuses).

    Several ``features`` fields are merged (a name given twice: the last
    wins); unknown fields of the Example are skipped; inside ``features``
    only map entries of exactly one key and one value, in either order.
    """
    try:
        return _walk_example_body(bytes(record), _entry(index))
    except DataLossError as exc:
        raise DataLossError(f"not a valid tf.train.Example: {exc.message}", entry=exc.entry) from None


def _walk_example_body(buf: bytes, where) -> dict:
    end = len(buf)
    pos = 0
    out: dict = {}
    while pos < end:
        if buf[pos] != 0x0A:
            pos = _skip_field(buf, pos, end, where)
            continue
        n, pos = _v32(buf, pos + 1, end, where)
        lim = min(pos + n, end)  # TF reads a length past the record's end as up to its end
        for key, value in _map_entries(buf, pos, lim, where, any_order=True):
            name = _loose_key(key)
            out.pop(name, None)
            out[name] = value
        pos = lim
    return out


def _walk_sequence(record, index=None, what: str = "tf.train.SequenceExample") -> tuple[dict, dict]:
    """``(context, feature_lists)`` raw parts by TensorFlow's SequenceExample parser rules."""
    try:
        return _walk_sequence_body(bytes(record), index)
    except DataLossError as exc:
        raise DataLossError(f"not a valid {what}: {exc.message}", entry=exc.entry) from None


def _walk_sequence_body(buf: bytes, index) -> tuple[dict, dict]:
    where = _entry(index)
    end = len(buf)
    pos = 0
    ctx: dict = {}
    lists: dict = {}
    while pos < end:
        tag = buf[pos]
        if tag not in (0x0A, 0x12):
            pos = _skip_field(buf, pos, end, where)
            continue
        n, pos = _v32(buf, pos + 1, end, where)
        lim = min(pos + n, end)
        for key, value in _map_entries(buf, pos, lim, where, any_order=False):
            name = _loose_key(key)
            if tag == 0x0A:
                ctx.pop(name, None)
                ctx[name] = value
            else:
                lists.pop(name, None)
                lists[name] = value
        pos = lim
    return ctx, {name: _feature_list_steps(raw, _entry(index, name)) for name, raw in lists.items()}


def _feature_list_steps(raw: bytes, where) -> list:
    """The step Features of one serialized FeatureList (only field 1, as TensorFlow reads it).

    protobuf's parse stands when the bytes are exactly its plain encoding (no other field, no
    long-form length); anything else is walked by hand with TensorFlow's rules.
    """
    R = _raw()
    try:
        parsed = list(R.FeatureListRaw.FromString(raw).feature)
    except R.DecodeError:
        parsed = None
    if parsed is not None and sum(1 + _vsize(len(st)) + len(st) for st in parsed) == len(raw):
        return parsed
    steps = []
    pos, end = 0, len(raw)
    while pos < end:
        if raw[pos] != 0x0A:
            raise DataLossError(f"feature list holds a field with tag byte {raw[pos]:#04x}, not a step", entry=where)
        n, pos = _v32(raw, pos + 1, end, where)
        if pos + n > end:
            raise DataLossError("feature list step runs past the end of its list", entry=where)
        steps.append(raw[pos : pos + n])
        pos += n
    return steps


def _sequence_parts(record, index=None, what: str = "tf.train.SequenceExample") -> tuple[dict, dict]:
    """``({name: raw Feature}, {name: [raw Feature per step]})`` of one SequenceExample.

    Always walked by hand (:func:`_walk_sequence`): TensorFlow's parser wants
    each map entry's key before its value, which protobuf's result cannot show.
    """
    return _walk_sequence(_as_buffer(record, index), index, what)


def _entry(index, name=None) -> Optional[str]:
    if index is None and name is None:
        return None
    if name is None:
        return f"record {index}"
    if index is None:
        return f"feature {name!r}"
    return f"record {index}, feature {name!r}"


# ---------------------------------------------------------------------------
# One feature.


def _decode_feature(raw, name=None, index=None) -> tuple[Optional[str], np.ndarray]:
    """``(kind, values)`` of one serialized Feature, read the way TensorFlow's parser reads it.

    TensorFlow's fast Example parser (``example_proto_fast_parsing.cc``) takes
    the kind from the Feature's first byte and reads only that first list
    field (anything after it in the Feature is ignored); inside a float or
    int64 list it reads one packed run, or else unpacked values that must all
    carry the list's tag.  Plain protobuf parsing would merge repeated fields
    instead, so this is done by hand.  ``kind`` is ``None`` for an empty
    Feature (no list set), which decodes as an empty float32 array.
    """
    if not raw:
        return None, np.empty(0, np.float32)
    kind = _KIND_BY_TAG.get(raw[0])
    if kind is None:
        raise DataLossError(
            f"Feature starts with tag byte {raw[0]:#04x}, not a bytes, float or int64 list", entry=_entry(index, name)
        )
    try:
        n1, p = _varint.decode(raw, 1, len(raw))
    except ValueError:
        raise DataLossError("Feature has a malformed list length", entry=_entry(index, name)) from None
    if p + n1 > len(raw):
        raise DataLossError(f"{kind} list of {n1} bytes runs past the end of its Feature", entry=_entry(index, name))
    return kind, _list_body(kind, raw[p : p + n1], name, index)


def _list_body(kind: str, body, name, index) -> np.ndarray:
    if not body:
        return np.empty(0, _DTYPE[kind])
    pb = _pb()
    DecodeError = _pb_decode_error()
    if kind == BYTES:
        try:
            return _container_to_array(BYTES, pb.BytesList.FromString(body).value)
        except DecodeError as exc:
            raise DataLossError(f"malformed bytes list: {exc}", entry=_entry(index, name)) from None
    tag = body[0]
    if tag == 0x0A:  # one packed run; TF ignores whatever follows it
        try:
            n2, q = _varint.decode(body, 1, len(body))
        except ValueError:
            raise DataLossError(f"malformed packed {kind} list", entry=_entry(index, name)) from None
        if q + n2 > len(body):
            raise DataLossError(f"packed {kind} list runs past the end of its list", entry=_entry(index, name))
        if kind == FLOAT32:
            return np.frombuffer(body, _F32_LE, n2 // 4, q).astype(np.float32)  # TF drops a partial float too
        try:
            vals = pb.Int64List.FromString(body[: q + n2]).value
        except DecodeError:
            raise DataLossError("malformed packed int64 list", entry=_entry(index, name)) from None
        return np.fromiter(vals, np.int64, len(vals))
    if kind == FLOAT32 and tag == 0x0D:  # unpacked: 0x0d + 4 bytes per value
        b = np.frombuffer(body, np.uint8)
        if len(b) % 5 or (b[0::5] != 0x0D).any():
            raise DataLossError("malformed unpacked float list", entry=_entry(index, name))
        return b.reshape(-1, 5)[:, 1:].copy().view(_F32_LE).reshape(-1).astype(np.float32)
    if kind == INT64 and tag == 0x08:  # unpacked varints, every one with the list's tag (TF's parser
        # rejects anything else after them, a packed run or another field, where protobuf would merge)
        vals = []
        pos, end = 0, len(body)
        try:
            while pos < end:
                if body[pos] != 0x08:
                    raise ValueError(f"tag byte {body[pos]:#04x} among unpacked values")
                v, pos = _varint.decode(body, pos + 1, end)
                vals.append(v - (1 << 64) if v >= 1 << 63 else v)
        except ValueError as exc:
            raise DataLossError(f"malformed unpacked int64 list: {exc}", entry=_entry(index, name)) from None
        return np.array(vals, np.int64)
    raise DataLossError(f"{kind} list starts with tag byte {tag:#04x}", entry=_entry(index, name))


def _pb_decode_error():
    return _raw().DecodeError


def _container_to_array(kind: str, vals) -> np.ndarray:
    n = len(vals)
    if kind == BYTES:
        out = np.empty(n, object)
        if n:
            out[:] = list(vals)
        return out
    return np.fromiter(vals, _DTYPE[kind], n)


# ---------------------------------------------------------------------------
# Ragged columns.


class Ragged:
    """Rows of varying length: ``values`` concatenated, and each row's length.

    ``ragged[i]`` is row ``i`` (a view into ``values``); ``row_splits`` are
    the ``n + 1`` boundaries, as ``tf.RaggedTensor.from_row_lengths`` wants::

        tf.RaggedTensor.from_row_lengths(r.values, r.row_lengths)
    """

    __slots__ = ("values", "row_lengths", "_splits")

    def __init__(self, values: np.ndarray, row_lengths: np.ndarray) -> None:
        self.values = values
        self.row_lengths = np.asarray(row_lengths, dtype=np.int64)
        self._splits = None
        if int(self.row_lengths.sum()) != len(values):
            raise InvalidArgumentError(
                f"row lengths add up to {int(self.row_lengths.sum())} but there are {len(values)} values"
            )

    @property
    def row_splits(self) -> np.ndarray:
        if self._splits is None:
            s = np.zeros(len(self.row_lengths) + 1, np.int64)
            np.cumsum(self.row_lengths, out=s[1:])
            self._splits = s
        return self._splits

    @property
    def dtype(self) -> np.dtype:
        return self.values.dtype

    def __len__(self) -> int:
        return len(self.row_lengths)

    def __getitem__(self, i):
        s = self.row_splits
        if isinstance(i, slice):
            rows = range(*i.indices(len(self)))
            if i.step not in (None, 1):
                return [self[j] for j in rows]
            a, b = rows.start, max(rows.start, rows.stop)
            return Ragged(self.values[s[a] : s[b]], self.row_lengths[a:b])
        n = len(self)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(f"row {i} out of range for {n} rows")
        return self.values[s[i] : s[i + 1]]

    def __iter__(self) -> Iterator[np.ndarray]:
        s = self.row_splits
        v = self.values
        for i in range(len(self)):
            yield v[s[i] : s[i + 1]]

    def to_list(self) -> list:
        return [row.tolist() for row in self]

    def __eq__(self, other) -> bool:
        if not isinstance(other, Ragged):
            return NotImplemented
        return np.array_equal(self.row_lengths, other.row_lengths) and np.array_equal(
            self.values, other.values, equal_nan=self.values.dtype.kind == "f"
        )

    __hash__ = None

    def __repr__(self) -> str:
        return f"<Ragged {len(self)} rows, {len(self.values)} {self.values.dtype} values>"


# ---------------------------------------------------------------------------
# Schemas.


@dataclass(frozen=True)
class FeatureSpec:
    """How to read one feature: its kind and, for fixed-length features, its shape.

    ``shape=None`` means variable length (decoded as :class:`Ragged` in a
    batch); ``()`` one value per record; ``(k,)`` or any shape: that many
    values per record, reshaped.  ``default`` fills records that lack the
    feature (fixed-length only); without it such a record is an error.
    Schemas inferred from data also carry statistics: ``present`` (records
    having the feature) and ``min_length``/``max_length`` (values per
    record, or per step for feature lists, where ``min_steps``/``max_steps``
    count the steps).
    """

    kind: Optional[str]
    shape: Optional[tuple] = None
    default: Any = None
    present: int = field(default=0, compare=False)
    min_length: int = field(default=0, compare=False)
    max_length: int = field(default=0, compare=False)
    min_steps: Optional[int] = field(default=None, compare=False)
    max_steps: Optional[int] = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.kind is not None:
            object.__setattr__(self, "kind", _kind_name(self.kind))
        if self.shape is not None:
            object.__setattr__(self, "shape", tuple(int(d) for d in self.shape))

    @property
    def dtype(self) -> np.dtype:
        return _DTYPE[self.kind] if self.kind is not None else np.dtype(np.float32)

    @property
    def fixed(self) -> bool:
        return self.shape is not None

    @property
    def size(self) -> Optional[int]:
        """Number of values per record for a fixed shape."""
        if self.shape is None:
            return None
        n = 1
        for d in self.shape:
            n *= d
        return n

    def to_tf_code(self, sequence: bool = False, allow_missing: bool = False) -> str:
        """The ``tf.io`` feature spec as source; ``allow_missing`` (feature lists some records lack)
        adds ``allow_missing=True`` to a ``FixedLenSequenceFeature``."""
        dt = {INT64: "tf.int64", FLOAT32: "tf.float32", BYTES: "tf.string", None: "tf.float32"}[self.kind]
        if self.shape is None:
            if sequence:
                return f"tf.io.RaggedFeature({dt})"
            return f"tf.io.VarLenFeature({dt})"
        shape = list(self.shape)
        if sequence:
            missing = ", allow_missing=True" if allow_missing else ""
            return f"tf.io.FixedLenSequenceFeature({shape}, {dt}{missing})"
        return f"tf.io.FixedLenFeature({shape}, {dt})"

    def __repr__(self) -> str:
        kind = self.kind or "empty"
        shape = "variable" if self.shape is None else f"shape {self.shape}"
        extra = ""
        if self.present:
            extra = f", in {self.present} records, {self.min_length}..{self.max_length} values"
            if self.min_steps is not None:
                extra += f" per step, {self.min_steps}..{self.max_steps} steps"
        return f"FeatureSpec({kind}, {shape}{extra})"


class Schema(Mapping):
    """Feature name -> :class:`FeatureSpec`, as :func:`infer_schema` finds or a user writes.

    ``Schema({"label": FeatureSpec("int64", ()), "tokens": FeatureSpec("int64")})``
    """

    def __init__(self, features: Mapping[str, Any] = (), num_records: int = 0) -> None:
        specs = {}
        for name, spec in dict(features).items():
            if not isinstance(spec, FeatureSpec):
                spec = FeatureSpec(*spec) if isinstance(spec, tuple) else FeatureSpec(spec)
            specs[name] = spec
        self._specs = specs
        self.num_records = num_records

    def __getitem__(self, name: str) -> FeatureSpec:
        return self._specs[name]

    def __iter__(self):
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)

    def to_tf_code(self, sequence: bool = False) -> str:
        """Python source of the matching ``tf.io`` feature spec dict, to paste into a TF parser."""
        lines = ["{"]
        for name, spec in self._specs.items():
            # a feature list some records lack: TensorFlow's parser needs allow_missing=True for it
            missing = sequence and 0 < spec.present < self.num_records
            lines.append(f"    {_py_key(name)}: {spec.to_tf_code(sequence, allow_missing=missing)},")
        lines.append("}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        inner = ", ".join(f"{k!r}: {v!r}" for k, v in self._specs.items())
        n = f" from {self.num_records} records" if self.num_records else ""
        return f"Schema({{{inner}}}{n})"


class SequenceSchema:
    """The schema of SequenceExamples: a :class:`Schema` for ``context`` and one for ``feature_lists``."""

    def __init__(self, context: Mapping = (), feature_lists: Mapping = (), num_records: int = 0) -> None:
        self.context = context if isinstance(context, Schema) else Schema(context, num_records)
        self.feature_lists = feature_lists if isinstance(feature_lists, Schema) else Schema(feature_lists, num_records)
        self.num_records = num_records

    def to_tf_code(self) -> str:
        return (
            f"context_features = {self.context.to_tf_code()}\n"
            f"sequence_features = {self.feature_lists.to_tf_code(sequence=True)}"
        )

    def __eq__(self, other) -> bool:
        if not isinstance(other, SequenceSchema):
            return NotImplemented
        return dict(self.context) == dict(other.context) and dict(self.feature_lists) == dict(other.feature_lists)

    def __repr__(self) -> str:
        return f"SequenceSchema(context={self.context!r}, feature_lists={self.feature_lists!r})"


def _specs_of(features) -> Optional[dict]:
    """Normalize a ``features=`` argument: None, names, a Schema or a dict of specs."""
    if features is None:
        return None
    if isinstance(features, str):
        return {features: None}
    if isinstance(features, Mapping):
        out = {}
        for k, v in features.items():
            if v is None or isinstance(v, FeatureSpec):
                out[k] = v
            elif isinstance(v, tuple):
                out[k] = FeatureSpec(*v)
            else:
                out[k] = FeatureSpec(v)
        return out
    return {name: None for name in features}


# ---------------------------------------------------------------------------
# Single records.


def _shaped(kind, values: np.ndarray, spec: Optional[FeatureSpec], name, index) -> np.ndarray:
    if spec is None:
        return values
    if spec.kind is not None and kind is not None and kind != spec.kind:
        raise InvalidArgumentError(
            f"feature is {kind} but the schema says {spec.kind}", entry=_entry(index, name)
        )
    if kind is None and spec.kind is not None:
        values = values.astype(spec.dtype)
    if spec.shape is not None:
        if values.size != spec.size:
            raise InvalidArgumentError(
                f"has {values.size} values but the schema says shape {spec.shape} ({spec.size} values)",
                entry=_entry(index, name),
            )
        values = values.reshape(spec.shape)
    return values


def _missing(spec: Optional[FeatureSpec], name, index):
    if spec is None:
        return None
    if spec.shape is None:
        return np.empty(0, spec.dtype)
    if spec.default is None or np.size(spec.default) == 0:  # TF takes default_value=[] for none
        raise InvalidArgumentError("feature missing and the schema gives no default", entry=_entry(index, name))
    return _default_array(spec, name)


def _default_array(spec: FeatureSpec, name) -> np.ndarray:
    d = np.asarray(spec.default, dtype=spec.dtype)
    if d.size == 1 and spec.size != 1:
        d = np.full(spec.shape, d.reshape(()).item(), dtype=spec.dtype)
    if d.size != spec.size:
        raise InvalidArgumentError(f"default of {d.size} values for shape {spec.shape}", entry=_entry(None, name))
    return d.reshape(spec.shape)


def decode_example(record, features=None) -> dict[str, np.ndarray]:
    """Decode one serialized ``tf.train.Example`` to ``{name: numpy array}``.

    Arrays are ``int64``, ``float32`` or ``object`` (of ``bytes``), 1-D with
    the record's values, unless ``features`` (a :class:`Schema`, a dict of
    :class:`FeatureSpec`, or a list of names) gives shapes; then only those
    features are returned, checked and reshaped.  ``record`` may also be a
    ``tf.train.Example``-like protobuf message.
    """
    return _decode_features(_example_features(record), _specs_of(features))


def _decode_features(raw: dict, specs) -> dict[str, np.ndarray]:
    """``{name: array}`` of one record's raw features, shaped by ``specs`` when given."""
    if specs is None:
        return {name: _decode_feature(r, name)[1] for name, r in raw.items()}
    out = {}
    for name, spec in specs.items():
        r = raw.get(name)
        if not r:  # absent, or a Feature with no list set, which TensorFlow's parser takes for absent
            val = _missing(spec, name, None)
            if val is not None:
                out[name] = val
            continue
        kind, vals = _decode_feature(r, name)
        out[name] = _shaped(kind, vals, spec, name, None)
    return out


def _decode_steps(steps: list, name, index, spec: Optional[FeatureSpec] = None):
    if not steps:
        dtype = spec.dtype if spec is not None else np.float32
        if spec is not None and spec.shape is None:
            return Ragged(np.empty(0, dtype), np.empty(0, np.int64))
        shape = (0,) + (spec.shape if spec is not None else ())
        return np.empty(shape, dtype)
    kinds, arrays = [], []
    for r in steps:
        k, a = _decode_feature(r, name, index)
        kinds.append(k)
        arrays.append(a)
    ks = {k for k in kinds if k is not None}
    if len(ks) > 1:
        raise InvalidArgumentError(f"steps of the feature list mix kinds {sorted(ks)}", entry=_entry(index, name))
    kind = ks.pop() if ks else (spec.kind if spec is not None else None)
    dtype = _DTYPE[kind] if kind is not None else np.dtype(np.float32)
    arrays = [a if a.dtype == dtype else a.astype(dtype) for a in arrays]
    lengths = np.fromiter(map(len, arrays), np.int64, len(arrays))
    values = np.concatenate(arrays) if len(arrays) > 1 else arrays[0]
    if spec is not None and spec.kind is not None and kind is not None and kind != spec.kind:
        raise InvalidArgumentError(f"feature list is {kind} but the schema says {spec.kind}", entry=_entry(index, name))
    if spec is not None and spec.shape is not None:
        if (lengths != spec.size).any():
            raise InvalidArgumentError(
                f"a step has {int(lengths[lengths != spec.size][0])} values, the schema says shape {spec.shape}",
                entry=_entry(index, name),
            )
        return values.reshape((len(arrays),) + spec.shape)
    if spec is None and (lengths == lengths[0]).all():
        return values.reshape((len(arrays),) if lengths[0] == 1 else (len(arrays), int(lengths[0])))
    return Ragged(values, lengths)


def decode_sequence_example(record, context_features=None, sequence_features=None) -> tuple[dict, dict]:
    """Decode one serialized ``tf.train.SequenceExample`` to ``(context, feature_lists)``.

    ``context`` is like :func:`decode_example`'s result.  Each feature list
    becomes a 1-D array ``[steps]`` when every step has one value, a 2-D
    array ``[steps, k]`` when every step has ``k``, else a :class:`Ragged`
    of steps.  Schemas (``context_features``, ``sequence_features``) fix the
    shapes as :class:`FeatureSpec` does (step shape for feature lists).
    """
    ctx_raw, lists_raw = _sequence_parts(record)
    cspecs, sspecs = _specs_of(context_features), _specs_of(sequence_features)
    ctx = _decode_features(ctx_raw, cspecs)
    if sspecs is None:
        lists = {name: _decode_steps(steps, name, None) for name, steps in lists_raw.items()}
    else:
        lists = {}
        for name, spec in sspecs.items():
            steps = lists_raw.get(name)
            lists[name] = _decode_steps(steps or [], name, None, spec if spec is not None else None)
    return ctx, lists


# ---------------------------------------------------------------------------
# Columns: many records at once.

_PAD = b"\x00" * 24
_SHIFTS = (np.arange(10, dtype=np.uint64) * np.uint64(7))


def _varints_at(buf: np.ndarray, pos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised varint decode at each position: ``(values uint64, sizes)``; size 0 if over 10 bytes."""
    if not len(pos):
        return np.zeros(0, np.uint64), np.zeros(0, np.int64)
    b0 = buf[pos]
    values = b0.astype(np.uint64)
    sizes = np.ones(len(pos), np.int64)
    cont = np.flatnonzero(b0 >= 0x80)  # most lengths fit in one byte
    if len(cont):
        values[cont] &= np.uint64(0x7F)
    for k in range(1, 10):  # one round per further byte, over the varints still going
        if not len(cont):
            break
        bk = buf[pos[cont] + k]
        values[cont] |= (bk & 0x7F).astype(np.uint64) << np.uint64(7 * k)
        sizes[cont] += 1
        cont = cont[bk >= 0x80]
    if len(cont):
        sizes[cont] = 0  # over 10 bytes: not a varint
    return values, sizes


def _ragged_arange(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(s, s + n)`` for each (s, n)."""
    total = int(lengths.sum())
    if not total:
        return np.zeros(0, np.int64)
    offs = np.zeros(len(lengths), np.int64)
    np.cumsum(lengths[:-1], out=offs[1:])
    return np.repeat(starts - offs, lengths) + np.arange(total, dtype=np.int64)


def _gather(buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``concatenate([buf[s:s+n] for s, n in zip(starts, lengths)])``, in that order."""
    keep = lengths > 0
    starts, lengths = starts[keep], lengths[keep]
    if not len(starts):
        return buf[:0]
    if (lengths == lengths[0]).all() and len(starts) > 1 and (np.diff(starts) == starts[1] - starts[0]).all():
        # Evenly spaced ranges of one size (fixed-length features): a strided view.
        step = int(starts[1] - starts[0])
        first = int(starts[0])
        k = int(lengths[0])
        n = len(starts)
        if step >= k and first >= 0 and first + step * (n - 1) + k <= len(buf):
            # (a view of exactly the ranges: padding the buffer to n * step bytes, as this once did,
            # copied the whole batch for every feature, quadratic in features x records)
            rows = np.lib.stride_tricks.as_strided(
                buf[first:], shape=(n, k), strides=(step * buf.strides[0], buf.strides[0]), writeable=False
            )
            return rows.reshape(-1)
    if (lengths == lengths[0]).all():
        # rows of a sliding-window view: an index per row, not per byte
        k = int(lengths[0])
        return np.lib.stride_tricks.sliding_window_view(buf, k)[starts].reshape(-1)
    return buf[_ragged_arange(starts, lengths)]  # O(bytes gathered), whatever the buffer size


def _decode_varint_run(b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All varints in a byte array laid end to end: ``(int64 values, terminator mask)``."""
    term = b < 0x80
    ends = np.flatnonzero(term)
    if not len(ends):
        return np.zeros(0, np.int64), term
    if not term[-1]:  # bytes after the last terminator: a varint cut short
        raise ValueError("the last varint runs past the end")
    starts = np.empty_like(ends)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    sizes = ends - starts + 1
    longest = int(sizes.max())
    if longest > 10:
        raise ValueError("varint longer than 10 bytes")
    # one pass per byte position (varints are short): value |= (byte k & 0x7f) << 7k
    vals = (b[starts] & 0x7F).astype(np.uint64)
    for k in range(1, longest):
        sel = np.flatnonzero(sizes > k)
        vals[sel] |= (b[starts[sel] + k] & 0x7F).astype(np.uint64) << np.uint64(7 * k)
    return vals.view(np.int64), term


class _Column:
    """One feature decoded across a batch: kind, concatenated values, per-record counts, presence."""

    __slots__ = ("kind", "values", "counts", "present")

    def __init__(self, kind, values, counts, present):
        self.kind, self.values, self.counts, self.present = kind, values, counts, present


def _decode_column(raws: list, name, first_index: int = 0, want_values: bool = True) -> _Column:
    """Decode one feature across records; ``raws[i]`` is record i's raw Feature bytes or None."""
    n = len(raws)
    present = np.fromiter((r is not None for r in raws), bool, n)
    blobs = [r if r is not None else b"" for r in raws] if not present.all() else raws
    lens = np.fromiter(map(len, blobs), np.int64, n)
    starts = np.zeros(n, np.int64)
    if n:
        np.cumsum(lens[:-1], out=starts[1:])
    joined = b"".join(blobs)
    buf = np.frombuffer(joined + _PAD, np.uint8)
    return _decode_spans(joined, buf, starts, lens, present, name, first_index, want_values)


def _decode_spans(joined, buf, starts, lens, present, name, first_index: int = 0, want_values: bool = True) -> _Column:
    """Decode one feature across records from the spans of its serialized Feature in ``joined``.

    ``buf`` is ``joined`` as uint8 plus at least 24 bytes of padding;
    record ``i``'s Feature is ``joined[starts[i]:starts[i] + lens[i]]``
    (``present[i]`` False: the record lacks the feature, ``lens[i] == 0``).
    """
    n = len(starts)
    counts = np.zeros(n, np.int64)
    nonempty = np.flatnonzero(lens)
    tags = buf[starts[nonempty]]
    kinds_seen = set(np.flatnonzero(np.bincount(tags, minlength=256)).tolist())
    # ---- the regular layout: tag | len | 0x0a | len | payload (or an empty list: tag | 0)
    regular = np.zeros(n, bool)
    packed = np.zeros(n, bool)  # rows with the full layout (not an empty list)
    pay_start = np.zeros(n, np.int64)
    pay_len = np.zeros(n, np.int64)
    kind = None
    if len(kinds_seen) == 1 and next(iter(kinds_seen)) in _KIND_BY_TAG:
        kind = _KIND_BY_TAG[next(iter(kinds_seen))]
        s = starts[nonempty]
        L = lens[nonempty]
        v1, z1 = _varints_at(buf, s + 1)
        ok = (z1 > 0) & (1 + z1 + v1.astype(np.int64) == L)
        empty_list = ok & (v1 == 0)
        p2 = s + 1 + z1
        ok2 = ok & ~empty_list & (buf[np.minimum(p2, len(buf) - 1)] == 0x0A)
        v2, z2 = _varints_at(buf, p2 + 1)
        ok2 &= (z2 > 0) & (1 + z2 + v2.astype(np.int64) == v1.astype(np.int64))
        packed[nonempty[ok2]] = True
        reg_idx = nonempty[empty_list | ok2]
        regular[reg_idx] = True
        regular[lens == 0] = True
        pay_start[nonempty[ok2]] = (p2 + 1 + z2)[ok2]
        pay_len[nonempty[ok2]] = v2[ok2].astype(np.int64)
    elif kinds_seen:
        kind = None  # decided per record below
    else:
        regular[:] = True  # all empty or missing
    irregular = np.flatnonzero(~regular)

    # ---- regular rows, vectorised
    values = None
    if kind == FLOAT32:
        bad = regular & (pay_len % 4 != 0)
        if bad.any():
            regular &= ~bad
            irregular = np.flatnonzero(~regular)
        rows = np.flatnonzero(regular & (pay_len > 0))
        counts[rows] = pay_len[rows] // 4
        if want_values:
            values = _gather(buf, pay_start[rows], pay_len[rows]).view(_F32_LE).astype(np.float32)
    elif kind == INT64:
        rows = np.flatnonzero(regular & (pay_len > 0))
        payload = _gather(buf, pay_start[rows], pay_len[rows])
        try:
            vals, term = _decode_varint_run(payload)
            seg_end = np.cumsum(pay_len[rows])
            if len(rows) and not term[seg_end - 1].all():
                raise ValueError("a packed int64 list ends inside a varint")
        except ValueError:
            regular[rows] = False
            irregular = np.flatnonzero(~regular)
            rows = rows[:0]
            vals = np.zeros(0, np.int64)
            term = np.zeros(0, bool)
            seg_end = np.zeros(0, np.int64)
        if len(rows):
            ct = np.concatenate(([0], np.cumsum(term)))
            seg_start = seg_end - pay_len[rows]
            counts[rows] = ct[seg_end] - ct[seg_start]
        values = vals
    elif kind == BYTES:
        # A BytesList with one value has the regular layout, its "payload"
        # being that value; lists of several values go through protobuf.
        rows = np.flatnonzero(packed)
        counts[rows] = 1
        if want_values:
            ds = pay_start[rows].tolist()
            de = (pay_start[rows] + pay_len[rows]).tolist()
            values = np.empty(len(rows), object)
            if ds:
                if isinstance(joined, bytes):
                    values[:] = [joined[a:b] for a, b in zip(ds, de)]
                else:  # a bytearray (a file read straight into it): hand out bytes
                    values[:] = list(map(bytes, map(memoryview(joined).__getitem__, map(slice, ds, de))))
    else:
        values = np.zeros(0, np.float32)

    # ---- irregular rows, one by one through protobuf
    if len(irregular):
        pieces = {}
        for i in irregular.tolist():
            k, a = _decode_feature(joined[starts[i] : starts[i] + lens[i]], name, first_index + i)
            if k is not None:
                if kind is None:
                    kind = k
                elif k != kind:
                    raise InvalidArgumentError(
                        f"feature is {k} here but {kind} in other records", entry=_entry(first_index + i, name)
                    )
            pieces[i] = a
            counts[i] = len(a)
        if want_values:
            dtype = _DTYPE[kind] if kind is not None else np.dtype(np.float32)
            total = int(counts.sum())
            out = np.empty(total, dtype)
            splits = np.zeros(n + 1, np.int64)
            np.cumsum(counts, out=splits[1:])
            reg_mask = np.repeat(regular, counts)
            if values is not None and len(values):
                out[reg_mask] = values if values.dtype == dtype else values.astype(dtype)
            for i, a in pieces.items():
                out[splits[i] : splits[i + 1]] = a
            values = out
    if want_values and values is None:
        values = np.zeros(0, _DTYPE[kind] if kind else np.float32)
    if want_values and kind is not None and values.dtype != _DTYPE[kind]:
        values = values.astype(_DTYPE[kind])
    # a Feature with no list set (0 bytes) is absent to TensorFlow's parser, unlike an empty list
    present = present & (lens > 0)
    return _Column(kind, values, counts, present)


def _assemble(col: _Column, name, spec: Optional[FeatureSpec], first_index: int):
    """A decoded column as a dense array (fixed length) or a :class:`Ragged`."""
    n = len(col.counts)
    kind = col.kind
    values = col.values
    if spec is not None and spec.kind is not None:
        if kind is not None and kind != spec.kind:
            raise InvalidArgumentError(f"feature is {kind} but the schema says {spec.kind}", entry=_entry(None, name))
        if values.dtype != spec.dtype:
            values = values.astype(spec.dtype)
    if spec is not None and spec.shape is not None:
        size = spec.size
        missing = ~col.present
        if missing.any():
            if spec.default is None or np.size(spec.default) == 0:
                i = int(np.flatnonzero(missing)[0])
                raise InvalidArgumentError(
                    "feature missing and the schema gives no default", entry=_entry(first_index + i, name)
                )
            d = _default_array(spec, name).reshape(-1)
            counts = col.counts.copy()
            counts[missing] = size
            splits = np.zeros(n + 1, np.int64)
            np.cumsum(counts, out=splits[1:])
            out = np.empty(int(splits[-1]), values.dtype)
            out[np.repeat(col.present, counts)] = values
            out[~np.repeat(col.present, counts)] = np.tile(d, int(missing.sum()))
            values, col_counts = out, counts
        else:
            col_counts = col.counts
        wrong = np.flatnonzero(col_counts != size)
        if len(wrong):
            i = int(wrong[0])
            raise InvalidArgumentError(
                f"has {int(col_counts[i])} values but the schema says shape {spec.shape} ({size} values)",
                entry=_entry(first_index + i, name),
            )
        return values.reshape((n,) + spec.shape)
    if spec is None and n and col.present.all() and (col.counts == col.counts[0]).all():
        k = int(col.counts[0])
        return values.reshape((n,) if k == 1 else (n, k))
    return Ragged(values, col.counts)


_LENGTH_CAP = 1 << 40  # larger than any record; small enough that sums of a few stay in int64


class _Split:
    """Serialized Examples cut into per-feature spans, all at once (see :func:`_split_examples`)."""

    __slots__ = ("joined", "buf", "n", "spans")

    def __init__(self, joined, buf, n, spans) -> None:
        self.joined, self.buf, self.n, self.spans = joined, buf, n, spans

    def column(self, name):
        """``(starts, lens, present)`` of one feature; ``None`` if no record has it."""
        parts = self.spans.get(name)
        if parts is None:
            return None
        rec = np.concatenate([p[0] for p in parts])
        fs = np.concatenate([p[1] for p in parts])
        fl = np.concatenate([p[2] for p in parts])
        present = np.zeros(self.n, bool)
        starts = np.zeros(self.n, np.int64)
        lens = np.zeros(self.n, np.int64)
        # a name given twice in one record: the last one wins (assignment order is file order)
        present[rec] = True
        starts[rec] = fs
        lens[rec] = fl
        return starts, lens, present


_MAX_KEY = 256


def _split_examples(recs: list, first_index: int = 0) -> _Split:
    """:func:`_split_buffer` of a list of serialized records."""
    n = len(recs)
    try:
        joined = b"".join([*recs, _PAD])  # padded in the same copy
    except TypeError:  # protobuf messages among the records
        recs = [_as_buffer(r, first_index + i) for i, r in enumerate(recs)]
        joined = b"".join([*recs, _PAD])
    lens = np.fromiter(map(len, recs), np.int64, n)
    if int(lens.sum()) != len(joined) - len(_PAD):  # memoryviews of another format than bytes
        recs = [bytes(r) for r in recs]
        lens = np.fromiter(map(len, recs), np.int64, n)
    starts = np.zeros(n, np.int64)
    if n:
        np.cumsum(lens[:-1], out=starts[1:])
    return _split_buffer(joined, starts, lens, first_index, padded=True)


def _varints(buf: np.ndarray, pos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Varints at ``pos`` as ``(int64 values, sizes)``: one byte read for the (usual) short ones.

    ``buf`` must hold 10 bytes after every position.  Values past any
    buffer are capped at ``_LENGTH_CAP`` (never wrapped negative), so
    positions computed from them stay positive and fail bounds checks;
    size 0 marks a varint over 10 bytes.
    """
    b0 = buf[pos]
    val = b0.astype(np.int64)
    size = np.ones(len(pos), np.int64)
    big = np.flatnonzero(b0 >= 0x80)
    if len(big):
        v, z = _varints_at(buf, pos[big])
        val[big] = np.minimum(v, np.uint64(_LENGTH_CAP)).astype(np.int64)
        size[big] = z
    return val, size


_PEEL_GROUPS = 8  # keys differing at one entry position: peel off this many groups, then sort


def _key_groups(joined: bytes, buf: np.ndarray, ks: np.ndarray, lk: np.ndarray) -> list:
    """Group rows by the key bytes ``joined[ks:ks + lk]``: ``[(key, row mask or None for all)]``."""
    last = len(buf) - 1
    last8 = len(buf) - 8
    words = np.ndarray((len(buf) - 7,), np.dtype("<u8"), buffer=buf, strides=(1,))  # words[i] = buf[i:i+8]
    groups = []
    rest = None  # rows not grouped yet (None: all)
    while True:
        r_ks = ks if rest is None else ks[rest]
        r_lk = lk if rest is None else lk[rest]
        s0, k0 = int(r_ks[0]), int(r_lk[0])
        key = bytes(joined[s0 : s0 + k0])
        same = r_lk == k0
        # compared 8 bytes at a time through an overlapping uint64 view (one load per word)
        padded = key + bytes(-k0 % 8)
        for j in range(0, k0, 8):
            word = int.from_bytes(padded[j : j + 8], "little")
            got = words[np.minimum(r_ks + j, last8)]
            if k0 - j < 8:
                got &= np.uint64((1 << (8 * (k0 - j))) - 1)
            same &= got == np.uint64(word)
        if rest is None and same.all():
            return [(key, None)]
        rows = np.flatnonzero(same) if rest is None else rest[same]
        mask = np.zeros(len(ks), bool)
        mask[rows] = True
        groups.append((key, mask))
        rest = np.flatnonzero(~same) if rest is None else rest[~same]
        if not len(rest):
            return groups
        if len(groups) >= _PEEL_GROUPS:
            break
    # Many different keys here: sort them out at once.
    r_ks, r_lk = ks[rest], lk[rest]
    width = int(r_lk.max())
    mat = np.zeros((len(rest), width + 2), np.uint8)
    mat[:, 0] = r_lk & 0xFF
    mat[:, 1] = r_lk >> 8
    if width:
        cols = np.arange(width)
        inside = cols[None, :] < r_lk[:, None]
        mat[:, 2:] = np.where(inside, buf[np.minimum(r_ks[:, None] + cols, last)], 0)
    keys = mat.view(np.dtype((np.void, width + 2))).reshape(-1)
    uniq, inv = np.unique(keys, return_inverse=True)
    inv = inv.reshape(-1)
    for u_i, u in enumerate(uniq):
        b = bytes(u)
        mask = np.zeros(len(ks), bool)
        mask[rest[inv == u_i]] = True
        groups.append((b[2 : 2 + (b[0] | (b[1] << 8))], mask))
    return groups


def _split_buffer(joined, starts: np.ndarray, lens: np.ndarray, first_index: int = 0, padded: bool = False) -> _Split:
    """Find every feature of every record with vectorised parsing of the Example wire format.

    A record is ``0a len {0a len {0a len key 12 len Feature}}...``; the
    entries of all records are walked together, one entry per round.
    Records laid out otherwise (several ``features`` fields, unknown fields,
    value before key, keys over 256 bytes) are parsed one by one by
    protobuf instead, their Features appended to the buffer.
    ``joined`` is ``bytes`` or a ``bytearray``; ``padded``: it already ends
    with ``len(_PAD)`` zero bytes after the last record.
    """
    n = len(starts)
    buf = np.frombuffer(joined if padded else joined + _PAD, np.uint8)
    hi = len(buf) - 16  # clamp positions so that varint reads stay inside the padding
    ends = starts + lens
    empty = lens == 0
    ok = empty | (buf[np.minimum(starts, hi)] == 0x0A)
    flen, fz = _varints_at(buf, np.minimum(starts + 1, hi))
    fstart = starts + 1 + fz
    ok &= empty | ((fz > 0) & (fstart + flen.astype(np.int64) == ends))
    a = np.flatnonzero(ok & ~empty & (fstart < ends))  # records with entries still to walk
    p = fstart[a]  # where each one's next entry starts (inside the record: below len(joined))
    spans: dict = {}
    names: dict = {}
    while len(a):
        lim = ends[a]
        le, ze = _varints(buf, p + 1)
        es = p + 1 + ze  # entry content: key field, then value field
        ee = es + le
        good = (buf[p] == 0x0A) & (ze > 0) & (ee <= lim)
        es_c = np.minimum(es, hi)
        good &= buf[es_c] == 0x0A
        lk, zk = _varints(buf, es_c + 1)
        ks = es + 1 + zk
        ke = ks + lk
        good &= (zk > 0) & (lk <= _MAX_KEY) & (ke < ee)
        ke_c = np.minimum(ke, hi)
        good &= buf[ke_c] == 0x12
        lf, zf = _varints(buf, ke_c + 1)
        fs = ke + 1 + zf
        good &= (zf > 0) & (fs + lf == ee)
        if not good.all():
            ok[a[~good]] = False
            a, ks, lk, fs, lf, ee, lim = a[good], ks[good], lk[good], fs[good], lf[good], ee[good], lim[good]
            if not len(a):
                break
        for key, m in _key_groups(joined, buf, ks, lk):
            name = names.get(key)
            if name is None:
                name = names[key] = key.decode("utf-8", "surrogateescape")
            if m is None:
                spans.setdefault(name, []).append((a, fs, lf))
            else:
                spans.setdefault(name, []).append((a[m], fs[m], lf[m]))
        more = ee < lim
        a, p = a[more], ee[more]
    slow = np.flatnonzero(~ok)
    if len(slow):
        # Records protobuf has to parse: append their Features after the records.
        extra = []
        offset = len(joined)
        per_name: dict = {}
        for i in slow.tolist():
            rec = joined[int(starts[i]) : int(starts[i] + lens[i])]
            for name, raw in _example_features(rec, first_index + i).items():
                per_name.setdefault(name, ([], [], []))
                per_name[name][0].append(i)
                per_name[name][1].append(offset)
                per_name[name][2].append(len(raw))
                extra.append(raw)
                offset += len(raw)
        joined = joined + b"".join(extra)
        buf = np.frombuffer(joined + _PAD, np.uint8)
        for name, (ri, fo, fl) in per_name.items():
            spans.setdefault(name, []).append((np.array(ri, np.int64), np.array(fo, np.int64), np.array(fl, np.int64)))
    return _Split(joined, buf, n, spans)


def decode_examples(records: Iterable, features=None) -> dict[str, Union[np.ndarray, Ragged]]:
    """Decode many serialized Examples into columns ``{name: array or Ragged}``.

    Without ``features``, every feature seen becomes a column: a dense array
    ``[n]`` (one value per record) or ``[n, k]`` when every record has ``k``
    values, else a :class:`Ragged` (records lacking the feature get an empty
    row).  With ``features`` (a :class:`Schema`, dict of specs or list of
    names), only those columns, with the given shapes and defaults; a record
    that does not fit raises :class:`~tfformats.errors.InvalidArgumentError`
    naming it.
    """
    recs = records if isinstance(records, list) else list(records)
    return _columns(recs, _specs_of(features), 0)


def _columns(recs: list, specs: Optional[dict], first_index: int) -> dict:
    return _columns_of(_split_examples(recs, first_index), specs, first_index)


def _columns_of(split: _Split, specs: Optional[dict], first_index: int) -> dict:
    if specs is None:
        specs = {name: None for name in split.spans}
    out = {}
    n = split.n
    for name, spec in specs.items():
        col = split.column(name)
        if col is None:
            starts = lens = np.zeros(n, np.int64)
            present = np.zeros(n, bool)
        else:
            starts, lens, present = col
        c = _decode_spans(split.joined, split.buf, starts, lens, present, name, first_index)
        out[name] = _assemble(c, name, spec, first_index)
    return out


def _is_source(obj) -> bool:
    return isinstance(obj, (str, os.PathLike, bytes, bytearray, memoryview)) or hasattr(obj, "read")


def read_examples(
    source,
    features=None,
    *,
    batch_size: Optional[int] = None,
    **read_options,
):
    """Decode the Examples of a TFRecord file into columns (see :func:`decode_examples`).

    ``source`` is anything :func:`tfformats.records.read` takes, and
    ``read_options`` are passed to it (``compression``, ``verify``,
    ``start``/``end``...).  With ``batch_size``, yields one dict of columns
    per batch of records instead of one for the whole file — pass
    ``features`` (e.g. :func:`infer_schema`'s result) so every batch has the
    same columns and shapes.
    """
    from . import records as _records

    if batch_size is None and set(read_options) <= {"compression", "verify"}:
        # The whole file is decoded anyway: read it into one buffer and cut the
        # Examples out of it, without an object per record.
        from ._io import records as _rec

        raw, owns = _records._open_input(source)
        try:
            data, starts, lens, _ = _rec.read_all(
                raw, read_options.get("compression"), verify=read_options.get("verify", True), pad=len(_PAD)
            )
            split = _split_buffer(data, starts, lens, padded=True)
            return _columns_of(split, _specs_of(features), 0)
        except (DataLossError, InvalidArgumentError) as exc:
            raise _located(exc, raw.name) from None
        finally:
            if owns:
                raw.close()
    it = _records.read(source, **read_options)
    if batch_size is None:
        with it:
            try:
                return decode_examples(it, features)
            except (DataLossError, InvalidArgumentError) as exc:
                raise _located(exc, it.name) from None
    return _batches(it, features, batch_size)


def _located(exc, name):
    """The same error, naming the file it came from."""
    if exc.path is not None:
        return exc
    return type(exc)(exc.message, path=name, entry=exc.entry, offset=exc.offset)


def _batches(it, features, batch_size: int):
    specs = _specs_of(features)
    with it:
        batch = []
        first = 0
        try:
            for rec in it:
                batch.append(rec)
                if len(batch) >= batch_size:
                    yield _columns(batch, specs, first)
                    first += len(batch)
                    batch = []
            if batch:
                yield _columns(batch, specs, first)
        except (DataLossError, InvalidArgumentError) as exc:
            raise _located(exc, it.name) from None


# ---------------------------------------------------------------------------
# Schema inference.


class _Stats:
    __slots__ = ("kinds", "present", "min_len", "max_len", "min_steps", "max_steps")

    def __init__(self) -> None:
        self.kinds: set = set()
        self.present = 0
        self.min_len = None
        self.max_len = None
        self.min_steps = None
        self.max_steps = None

    def add(self, col: _Column, mask=None) -> None:
        if col.kind is not None:
            self.kinds.add(col.kind)
        counts = col.counts[col.present] if mask is None else col.counts[mask]
        if len(counts):
            lo, hi = int(counts.min()), int(counts.max())
            self.min_len = lo if self.min_len is None else min(self.min_len, lo)
            self.max_len = hi if self.max_len is None else max(self.max_len, hi)

    def add_steps(self, steps: np.ndarray) -> None:
        if len(steps):
            lo, hi = int(steps.min()), int(steps.max())
            self.min_steps = lo if self.min_steps is None else min(self.min_steps, lo)
            self.max_steps = hi if self.max_steps is None else max(self.max_steps, hi)

    def spec(self, name, num_records: int, sequence: bool) -> FeatureSpec:
        if len(self.kinds) > 1:
            raise InvalidArgumentError(f"feature has different kinds in different records: {sorted(self.kinds)}", entry=_entry(None, name))
        kind = next(iter(self.kinds)) if self.kinds else None
        lo = self.min_len or 0
        hi = self.max_len or 0
        everywhere = self.present == num_records
        fixed = (everywhere or sequence) and lo == hi and self.max_len is not None
        shape = (() if lo == 1 else (lo,)) if fixed else None
        return FeatureSpec(
            kind,
            shape,
            present=self.present,
            min_length=lo,
            max_length=hi,
            min_steps=self.min_steps if sequence else None,
            max_steps=self.max_steps if sequence else None,
        )


def infer_schema(source, *, limit: Optional[int] = None, sequence: Optional[bool] = None, batch_size: int = 4096, **read_options):
    """Infer the features of a file of Examples (or SequenceExamples).

    ``source`` is a path/URL/file (read with :func:`tfformats.records.read`
    and ``read_options``) or an iterable of serialized records.  Looks at the
    first ``limit`` records (all by default).  Returns a :class:`Schema` —
    each :class:`FeatureSpec` with its kind, a fixed shape when every record
    has the same number of values (else variable), and statistics — or a
    :class:`SequenceSchema` when the records are SequenceExamples
    (``sequence=None`` decides from the data: any record with feature lists).
    ``schema.to_tf_code()`` prints the matching ``tf.io`` parsing spec.
    """
    import itertools

    if _is_source(source):
        from . import records as _records

        it = _records.read(source, **read_options)
        path = it.name
    else:
        it = iter(source)
        path = None
    try:
        recs = itertools.islice(it, limit) if limit is not None else it
        # an Example parses as a SequenceExample (its features as the context)
        what = "tf.train.SequenceExample" if sequence else "tf.train.Example or SequenceExample"
        ctx_stats: dict = {}
        list_stats: dict = {}
        n = 0
        any_lists = False
        while True:
            batch = list(itertools.islice(recs, batch_size))
            if not batch:
                break
            parts = [_sequence_parts(r, n + i, what) for i, r in enumerate(batch)] if sequence is not False else [
                (_example_features(r, n + i), {}) for i, r in enumerate(batch)
            ]
            ctxs = [p[0] for p in parts]
            for name in {k for d in ctxs for k in d}:
                col = _decode_column([d.get(name) for d in ctxs], name, n, want_values=False)
                st = ctx_stats.setdefault(name, _Stats())
                st.present += int(col.present.sum())
                st.add(col)
            lists = [p[1] for p in parts]
            for name in {k for d in lists for k in d}:
                any_lists = True
                per_rec = [d.get(name) for d in lists]
                steps = np.array([len(s) for s in per_rec if s is not None], np.int64)
                flat = [f for s in per_rec if s is not None for f in s]
                st = list_stats.setdefault(name, _Stats())
                st.present += len(steps)
                st.add_steps(steps)
                if flat:
                    col = _decode_column(flat, name, n, want_values=False)
                    st.add(col, np.ones(len(flat), bool))
            n += len(batch)
        ctx = Schema({k: ctx_stats[k].spec(k, n, False) for k in sorted(ctx_stats)}, n)
        if sequence or (sequence is None and any_lists):
            lists = Schema({k: list_stats[k].spec(k, n, True) for k in sorted(list_stats)}, n)
            return SequenceSchema(ctx, lists, n)
        return ctx
    except (DataLossError, InvalidArgumentError) as exc:
        raise (_located(exc, path) if path is not None else exc) from None
    finally:
        close = getattr(it, "close", None)
        if close is not None:
            close()


infer_example_schema = infer_schema


# ---------------------------------------------------------------------------
# Encoding.


def _enc_varints(a: np.ndarray) -> bytes:
    """Varint encoding of int64 values (two's complement, 10 bytes for negatives), vectorised."""
    u = a.astype(np.int64, copy=False).view(np.uint64)
    if len(u) <= 8:
        return b"".join(_varint.encode(int(x)) for x in u.tolist())
    nbytes = np.ones(len(u), np.int64)
    for k in range(1, 10):
        nbytes += u >= np.uint64(1 << (7 * k))
    ends = np.cumsum(nbytes)
    starts = ends - nbytes
    out = np.empty(int(ends[-1]), np.uint8)
    for k in range(10):
        m = nbytes > k
        if not m.any():
            break
        byte = ((u[m] >> np.uint64(7 * k)) & np.uint64(0x7F)).astype(np.uint8)
        byte |= np.where(nbytes[m] > k + 1, np.uint8(0x80), np.uint8(0))
        out[starts[m] + k] = byte
    return out.tobytes()


def _ld(tag: int, payload: bytes) -> bytes:
    """A length-delimited field."""
    return bytes((tag,)) + _varint.encode(len(payload)) + payload


_INT64_MAX = (1 << 63) - 1


def _classify(value, kind: Optional[str], name):
    """``(kind, 1-D array or list of bytes)`` for a Python/numpy value."""
    if isinstance(value, (str, bytes, bytearray, memoryview)):
        value = [value]
    if kind is None:
        arr = value if isinstance(value, np.ndarray) else None
        if arr is None:
            seq = list(value) if isinstance(value, (list, tuple, range)) or hasattr(value, "__iter__") else [value]
            if not seq:
                return None, []
            first = seq[0]
            if isinstance(first, (str, bytes, bytearray, memoryview)):
                kind = BYTES
                value = seq
            else:
                arr = np.asarray(seq)
                if arr.dtype.kind in "fOu" and all(
                    isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_)) for x in seq
                ):
                    # integers numpy could not fit in int64 (it made them uint64, float64 or objects)
                    if arr.dtype.kind != "u" or int(arr.max()) > _INT64_MAX:
                        raise InvalidArgumentError(
                            "integer out of int64 range (an Int64List holds -2**63 .. 2**63-1)", entry=_entry(None, name)
                        )
        if arr is not None:
            if arr.dtype.kind in "iub":
                kind = INT64
            elif arr.dtype.kind == "f":
                kind = FLOAT32
            elif arr.dtype.kind in "SUO":
                kind = BYTES
            else:
                raise InvalidArgumentError(f"cannot store {arr.dtype} values in an Example", entry=_entry(None, name))
            value = arr
    if kind == BYTES:
        vals = value.reshape(-1).tolist() if isinstance(value, np.ndarray) else list(value)
        out = []
        for v in vals:
            if isinstance(v, str):
                out.append(v.encode("utf-8"))
            elif isinstance(v, (bytes, bytearray, memoryview, np.bytes_)):
                out.append(bytes(v))
            else:
                raise InvalidArgumentError(f"bytes feature got a {type(v).__name__}", entry=_entry(None, name))
        return BYTES, out
    arr = np.asarray(value).reshape(-1)
    if kind == INT64:
        if arr.dtype.kind == "u" and arr.dtype.itemsize == 8:
            if len(arr) and int(arr.max()) > _INT64_MAX:
                raise InvalidArgumentError(
                    "integer out of int64 range (an Int64List holds -2**63 .. 2**63-1)", entry=_entry(None, name)
                )
            return INT64, arr.view(np.int64)
        if arr.dtype.kind == "O":
            try:
                arr = np.array(arr.tolist(), dtype=np.int64)
            except OverflowError:
                raise InvalidArgumentError("integer out of int64 range", entry=_entry(None, name)) from None
        if arr.dtype.kind == "f" and not np.array_equal(arr, np.trunc(arr)):
            raise InvalidArgumentError("int64 feature got non-integer floats", entry=_entry(None, name))
        return INT64, arr.astype(np.int64)
    return FLOAT32, arr.astype(np.float32)


def _feature_bytes(value, kind: Optional[str], name) -> bytes:
    if hasattr(value, "SerializeToString") and hasattr(value, "WhichOneof"):
        return value.SerializeToString()  # already a tf.train.Feature
    kind, vals = _classify(value, kind, name)
    if kind is None:
        return b""
    if kind == FLOAT32:
        payload = vals.astype(_F32_LE, copy=False).tobytes()
        inner = _ld(0x0A, payload) if payload else b""
    elif kind == INT64:
        payload = _enc_varints(vals)
        inner = _ld(0x0A, payload) if payload else b""
    else:
        inner = b"".join(_ld(0x0A, v) for v in vals)
    return _ld(_TAG_BY_KIND[kind], inner)


def _features_bytes(features: Mapping, kinds: Optional[Mapping]) -> bytes:
    if not isinstance(features, Mapping):
        raise TypeError(f"features must be a mapping of name to values, not {type(features).__name__}")
    parts = []
    for name, value in features.items():
        if not isinstance(name, str):
            raise InvalidArgumentError(f"feature names must be strings, not {type(name).__name__}")
        kind = _kind_name(kinds[name]) if kinds and name in kinds else None
        feat = _feature_bytes(value, kind, name)
        entry = _ld(0x0A, name.encode("utf-8")) + _ld(0x12, feat)
        parts.append(_ld(0x0A, entry))
    return b"".join(parts)


def encode_example(features: Mapping[str, Any], kinds: Optional[Mapping[str, str]] = None) -> bytes:
    """Serialize ``{name: values}`` as a ``tf.train.Example``.

    Values may be numpy arrays (any shape; flattened), lists, scalars,
    ``bytes``/``str`` (UTF-8 encoded) or ``tf.train.Feature`` messages.  The
    kind follows the values: integers and bools → ``int64_list``, floats →
    ``float_list`` (stored as float32), bytes/str → ``bytes_list``;
    ``kinds={"x": "float32"}`` overrides it (e.g. for empty lists, which are
    otherwise written as a Feature with no list, which TensorFlow's parser
    takes for a missing feature).  Integers must fit int64, as TensorFlow's
    ``Int64List`` requires (``InvalidArgumentError`` otherwise; store uint64
    bit patterns with ``values.view(np.int64)``).
    """
    feats = _features_bytes(features, kinds)
    return _ld(0x0A, feats)


def make_example(features: Mapping[str, Any], kinds: Optional[Mapping[str, str]] = None):
    """Like :func:`encode_example`, returning a ``tf.train.Example`` message (tfformats' own class)."""
    return _pb().Example.FromString(encode_example(features, kinds))


def encode_sequence_example(
    context: Mapping[str, Any] = None,
    feature_lists: Mapping[str, Iterable] = None,
    kinds: Optional[Mapping[str, str]] = None,
) -> bytes:
    """Serialize a ``tf.train.SequenceExample``.

    ``context`` is like :func:`encode_example`'s features; ``feature_lists``
    maps a name to a sequence of steps (a 2-D array is a sequence of rows),
    each step encoded like one feature.
    """
    out = b""
    if context:
        out += _ld(0x0A, _features_bytes(context, kinds))
    if feature_lists:
        entries = []
        for name, steps in feature_lists.items():
            kind = _kind_name(kinds[name]) if kinds and name in kinds else None
            if isinstance(steps, np.ndarray) and kind is None:
                # Decide the kind once from the whole array, so every step agrees.
                kind, _ = _classify(steps.reshape(-1)[:1] if steps.size else steps, None, name)
            if kind is None:
                steps_list = list(steps)
                for s in steps_list:
                    k, v = _classify(s, None, name)
                    if k is not None:
                        kind = k
                        break
            else:
                steps_list = list(steps)
            fl = b"".join(_ld(0x0A, _feature_bytes(s, kind, name)) for s in steps_list)
            entry = _ld(0x0A, name.encode("utf-8")) + _ld(0x12, fl)
            entries.append(_ld(0x0A, entry))
        out += _ld(0x12, b"".join(entries))
    return out


def make_sequence_example(context=None, feature_lists=None, kinds=None):
    """Like :func:`encode_sequence_example`, returning a ``tf.train.SequenceExample`` message."""
    return _pb().SequenceExample.FromString(encode_sequence_example(context, feature_lists, kinds))
