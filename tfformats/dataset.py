"""Datasets that tf.data wrote to disk: ``Dataset.save`` and ``Dataset.snapshot``.

``tf.data.Dataset.save(path)`` (``tf.data.experimental.save`` in older releases, such as 2.4)
writes the elements of a dataset so that ``tf.data.Dataset.load(path)`` gets
them back; ``Dataset.snapshot(path)`` caches a pipeline's output the same
way.  This module reads both without TensorFlow::

    import tfformats

    ds = tfformats.load_dataset("saved_ds")       # the folder given to Dataset.save
    ds.element_spec                                 # {'image': TensorSpec(shape=(28, 28), dtype=uint8), ...}
    len(ds)                                         # elements recorded at save time
    for element in ds:                              # like tf.data's as_numpy_iterator()
        element["image"], element["label"]
    ds.to_numpy()                                   # every element, components stacked

Layout, as TensorFlow writes it::

    <path>/snapshot.metadata        SnapshotMetadataRecord: run id, format version, flat dtypes,
                                    element count, whether the save finished
    <path>/dataset_spec.pb          the element structure (a StructuredValue); Dataset.save only
    <path>/<run id>/00000000.shard/00000000.snapshot   the elements of shard 0, then
                                    00000001.snapshot... when the writer checkpointed

``Dataset.snapshot`` adds a level: ``<path>/<graph hash>/snapshot.metadata``
and ``<path>/<graph hash>/<run id>/...``; either folder can be given.

File format version 2 (what TF 2.4, 2.12, 2.15 and 2.21 write, as checked): each shard file is a
TFRecord file (uncompressed, GZIP or SNAPPY, as told to the writer; detected
here from the content) holding, per element, one serialized ``TensorProto``
per flat component.  Version 1 (the first ``snapshot`` op, which TF 2.21 still
has as ``tf.raw_ops.SnapshotDataset``): records framed by an 8-byte length only,
the whole file optionally GZIP-compressed; per element one
``SnapshotRecord``, or with SNAPPY a ``SnapshotTensorMetadata`` record and
one raw snappy block of the component bytes.

Elements come back as ``as_numpy_iterator()`` gives them: numpy arrays,
numpy scalars for scalars, ``bytes`` for scalar strings, dicts, tuples,
lists and named tuples as in the element structure,
:class:`RaggedTensorValue` and :class:`SparseTensorValue` for ragged and
sparse components.  A snapshot records no structure: its elements are tuples
of the flat components (with the default ``shard_func``, ``snapshot`` stores
``enumerate``'s index as the first one).

Order: tf.data's default ``Dataset.load`` reader interleaves the shards, one
element from each in turn, ``cycle_length`` = the number of CPUs of the
reading machine; iteration here interleaves all shards (the same order
whenever there are no more shards than CPUs).  ``elements(cycle_length=N)``
gives the order on an N-CPU machine; ``elements(shard=i)`` one shard.
"""

from __future__ import annotations

import collections
import os
import re
from dataclasses import dataclass
from typing import Any, Iterator, Optional

import numpy as np

from . import dtypes as _dt
from ._io.snapshot import (
    LocalFolders,
    RemoteFolders,
    elements_v1,
    elements_v2,
    is_snapshot_record,
    plain_column,
    plain_numpy,
    plain_shape,
)
from .errors import DataLossError, InvalidArgumentError, NotFoundError, TFFormatsError, UnsupportedError

__all__ = [
    "load_dataset",
    "SavedDataset",
    "TensorSpec",
    "RaggedTensorSpec",
    "SparseTensorSpec",
    "OtherSpec",
    "RaggedTensorValue",
    "SparseTensorValue",
]

METADATA_FILE = "snapshot.metadata"
SPEC_FILE = "dataset_spec.pb"
_SHARD_RE = re.compile(r"^(\d+)\.shard$")
_FILE_RE = re.compile(r"^(\d+)\.snapshot$")


# ---------------------------------------------------------------------------
# Specs and values


def _shape_tuple(shape_proto) -> Optional[tuple]:
    if shape_proto.unknown_rank:
        return None
    return tuple(None if d.size < 0 else int(d.size) for d in shape_proto.dim)


def _shape_str(shape) -> str:
    if shape is None:
        return "<unknown>"
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


@dataclass(frozen=True)
class TensorSpec:
    """A dense component: its shape (``None`` for unknown dimensions, or rank) and dtype name."""

    shape: Optional[tuple]
    dtype: str
    name: Optional[str] = None

    def __repr__(self) -> str:
        return f"TensorSpec(shape={_shape_str(self.shape)}, dtype={self.dtype})"


@dataclass(frozen=True)
class RaggedTensorSpec:
    """A ``tf.RaggedTensor`` component (read as a :class:`RaggedTensorValue`)."""

    shape: Optional[tuple]
    dtype: str
    ragged_rank: int
    row_splits_dtype: str

    def __repr__(self) -> str:
        return (
            f"RaggedTensorSpec(shape={_shape_str(self.shape)}, dtype={self.dtype}, "
            f"ragged_rank={self.ragged_rank}, row_splits_dtype={self.row_splits_dtype})"
        )


@dataclass(frozen=True)
class SparseTensorSpec:
    """A ``tf.SparseTensor`` component (read as a :class:`SparseTensorValue`)."""

    shape: Optional[tuple]
    dtype: str

    def __repr__(self) -> str:
        return f"SparseTensorSpec(shape={_shape_str(self.shape)}, dtype={self.dtype})"


@dataclass(frozen=True)
class OtherSpec:
    """A composite TensorFlow type: a ``TensorArray`` (read as the list of its
    element arrays), an optional (``None`` or its value), or one tfformats
    does not decode (an extension type's components come as a tuple of
    arrays; anything else as TensorFlow stored it, an ``object`` array of
    ``VariantTensorDataProto`` messages)."""

    type_name: str

    def __repr__(self) -> str:
        return f"{self.type_name}(...)"


class RaggedTensorValue:
    """A ragged tensor: ``values`` and one ``row_splits`` array per ragged dimension (outermost first)."""

    __slots__ = ("values", "nested_row_splits")

    def __init__(self, values: np.ndarray, nested_row_splits: tuple) -> None:
        self.values = values
        self.nested_row_splits = tuple(nested_row_splits)

    @property
    def row_splits(self) -> Optional[np.ndarray]:
        return self.nested_row_splits[0] if self.nested_row_splits else None

    @property
    def ragged_rank(self) -> int:
        return len(self.nested_row_splits)

    def to_list(self) -> list:
        """Nested Python lists, as ``tf.RaggedTensor.to_list()`` gives."""
        rows = self.values.tolist()
        for splits in reversed(self.nested_row_splits):
            rows = [rows[int(a) : int(b)] for a, b in zip(splits[:-1], splits[1:])]
        return rows

    def __eq__(self, other) -> bool:
        return (
            isinstance(other, RaggedTensorValue)
            and len(other.nested_row_splits) == len(self.nested_row_splits)
            and all(np.array_equal(a, b) for a, b in zip(self.nested_row_splits, other.nested_row_splits))
            and np.array_equal(self.values, other.values)
        )

    def __repr__(self) -> str:
        return f"RaggedTensorValue({self.to_list()!r})"


class SparseTensorValue(collections.namedtuple("SparseTensorValue", ["indices", "values", "dense_shape"])):
    """A sparse tensor: ``indices`` [n, rank] int64, ``values`` [n], ``dense_shape`` [rank]."""

    __slots__ = ()

    def to_dense(self, default_value=0) -> np.ndarray:
        out = np.full(tuple(int(d) for d in self.dense_shape), default_value, dtype=self.values.dtype)
        if len(self.values):
            out[tuple(np.asarray(self.indices).T)] = self.values
        return out


# ---------------------------------------------------------------------------
# The element structure (from dataset_spec.pb)


class _Leaf:
    __slots__ = ("spec", "ncomp")

    def __init__(self, spec, ncomp: int) -> None:
        self.spec = spec
        self.ncomp = ncomp


_NAMEDTUPLES: dict = {}


def _namedtuple(name: str, fields: tuple):
    key = (name, fields)
    cls = _NAMEDTUPLES.get(key)
    if cls is None:
        try:
            cls = collections.namedtuple(name or "NamedTuple", fields)
        except ValueError:  # a name or field Python does not accept
            cls = collections.namedtuple("NamedTuple", fields, rename=True)
        _NAMEDTUPLES[key] = cls
    return cls


def _path_part(key: str) -> str:
    if key == "":
        return "%"
    return key.replace("%", "%25").replace("/", "%2F")


class _Structure:
    """Builds nested elements from flat components, following a StructuredValue."""

    def __init__(self, value, path, *, python: bool = False) -> None:
        self.path = path
        self.unknown = 0  # leaves whose component count is a guess
        self.root = self._py_node(value, 0) if python else self._node(value, 0)
        self.ncomp = self._count(self.root)

    def _py_node(self, v, depth: int):
        """A node from a nested Python structure of specs (``load_dataset(element_spec=...)``)."""
        if depth > 100:
            raise InvalidArgumentError("element_spec nested more than 100 deep")
        if isinstance(v, dict):
            return ("dict", None, [(k, self._py_node(v[k], depth + 1)) for k in sorted(v)])
        if isinstance(v, tuple) and hasattr(v, "_fields"):
            return ("namedtuple", type(v).__name__,
                    [(f, self._py_node(getattr(v, f), depth + 1)) for f in v._fields])
        if isinstance(v, (tuple, list)):
            kind = "tuple" if isinstance(v, tuple) else "list"
            return (kind, None, [(None, self._py_node(x, depth + 1)) for x in v])
        if v is None:
            return ("none", None, [])
        if isinstance(v, (TensorSpec, RaggedTensorSpec, SparseTensorSpec, OtherSpec)):
            return _Leaf(v, 1)
        return _Leaf(TensorSpec(None, "unknown"), 1)  # any other leaf: one dense component

    def _node(self, v, depth: int):
        if depth > 100:
            raise DataLossError("element structure nested more than 100 deep", path=self.path)
        kind = v.WhichOneof("kind")
        if kind == "tensor_spec_value" or kind == "bounded_tensor_spec_value":
            s = getattr(v, kind)
            return _Leaf(TensorSpec(_shape_tuple(s.shape), _dt.name_of(s.dtype), s.name or None), 1)
        if kind == "type_spec_value":
            return self._type_spec(v.type_spec_value)
        # containers: (kind, name, [(key, child)]); keys are None in tuples and lists
        if kind == "dict_value":
            keys = sorted(v.dict_value.fields)  # tf.nest flattens a dict in sorted key order
            return ("dict", None, [(k, self._node(v.dict_value.fields[k], depth + 1)) for k in keys])
        if kind == "tuple_value":
            return ("tuple", None, [(None, self._node(x, depth + 1)) for x in v.tuple_value.values])
        if kind == "list_value":
            return ("list", None, [(None, self._node(x, depth + 1)) for x in v.list_value.values])
        if kind == "named_tuple_value":
            nt = v.named_tuple_value
            return ("namedtuple", nt.name, [(p.key, self._node(p.value, depth + 1)) for p in nt.values])
        if kind == "none_value" or kind is None:
            return ("none", None, [])
        raise UnsupportedError(f"element structure holds a {kind}, not a spec", path=self.path)

    def _type_spec(self, ts):
        name = ts.type_spec_class_name
        state = ts.type_state
        parts = list(state.tuple_value.values) if state.WhichOneof("kind") == "tuple_value" else []

        def part(i, attr):
            if i < len(parts) and parts[i].WhichOneof("kind") == attr:
                return getattr(parts[i], attr)
            return None

        cls = ts.type_spec_class
        # both states start (shape, dtype, ...)
        shape_proto, dtype = part(0, "tensor_shape_value"), part(1, "tensor_dtype_value")
        shape = _shape_tuple(shape_proto) if shape_proto is not None else None
        dtype_name = _dt.name_of(dtype) if dtype is not None else "unknown"
        if name == "RaggedTensorSpec" or cls == 3:
            rank = part(2, "int64_value")
            splits = part(3, "tensor_dtype_value")
            return _Leaf(
                RaggedTensorSpec(
                    shape,
                    dtype_name,
                    int(rank) if rank is not None else -1,
                    _dt.name_of(splits) if splits is not None else "int64",
                ),
                1,
            )
        if name == "SparseTensorSpec" or cls == 1:
            return _Leaf(SparseTensorSpec(shape, dtype_name), 1)
        if name == "NoneTensorSpec":
            return ("none", None, [])
        if name in ("TensorArraySpec", "OptionalSpec", "DatasetSpec", "IteratorSpec") or cls in (4, 5, 6, 7):
            return _Leaf(OtherSpec(name or "TypeSpec"), 1)
        # An extension type or a registered spec: its count of components is not recorded.
        self.unknown += 1
        return _Leaf(OtherSpec(name or "TypeSpec"), -1)

    def _count(self, node) -> int:
        if isinstance(node, _Leaf):
            return max(node.ncomp, 0)
        return sum(self._count(c) for _, c in node[2])

    def fit(self, n: int) -> bool:
        """Settle unknown component counts against the metadata's ``n``; False when it cannot fit."""
        if self.unknown == 0:
            return self.ncomp == n
        if self.unknown == 1 and n >= self.ncomp:
            self._settle(self.root, n - self.ncomp)
            self.ncomp = n
            self.unknown = 0
            return True
        return False

    def _settle(self, node, k: int) -> None:
        if isinstance(node, _Leaf):
            if node.ncomp < 0:
                node.ncomp = k
            return
        for _, c in node[2]:
            self._settle(c, k)

    def paths(self, node=None, prefix: str = "") -> list:
        """``(path, spec)`` of every leaf, in component order; paths join keys and indices with ``/``
        (a key's own ``%`` and ``/`` written ``%25`` and ``%2F``, an empty key ``%``, so paths stay
        distinct)."""
        node = self.root if node is None else node
        if isinstance(node, _Leaf):
            if node.ncomp == 1:
                return [(prefix or ".", node.spec)]
            # a composite of several components (or none): one path per component
            return [(f"{prefix}/{i}" if prefix else str(i), node.spec) for i in range(node.ncomp)]
        out = []
        for i, (k, c) in enumerate(node[2]):
            part = _path_part(k) if k is not None else str(i)
            out += self.paths(c, f"{prefix}/{part}" if prefix else part)
        return out

    def fill_dtypes(self, dtypes: list) -> None:
        """Give leaves of unknown dtype (plain Python leaves of an element_spec) the metadata's dtype."""
        it = iter(dtypes)

        def walk(node):
            if isinstance(node, _Leaf):
                for _ in range(node.ncomp):
                    d = next(it)
                    if isinstance(node.spec, TensorSpec) and node.spec.dtype == "unknown":
                        node.spec = TensorSpec(None, d)
                return
            for _, c in node[2]:
                walk(c)

        walk(self.root)

    def leaves(self, node=None) -> list:
        """The spec of every flat component, in order."""
        node = self.root if node is None else node
        if isinstance(node, _Leaf):
            return [node.spec] * node.ncomp
        return [s for _, c in node[2] for s in self.leaves(c)]

    def specs(self, node=None):
        node = self.root if node is None else node
        if isinstance(node, _Leaf):
            return node.spec
        return self._assemble(node, [self.specs(c) for _, c in node[2]])

    @staticmethod
    def _assemble(node, values: list):
        kind, name, children = node
        if kind == "none":
            return None
        if kind == "dict":
            return {k: v for (k, _), v in zip(children, values)}
        if kind == "tuple":
            return tuple(values)
        if kind == "list":
            return values
        return _namedtuple(name, tuple(k for k, _ in children))(*values)

    def build(self, comps: list, convert) -> Any:
        return self._build(self.root, iter(comps), convert)

    def _build(self, node, it, convert):
        if isinstance(node, _Leaf):
            if node.ncomp == 1:
                return convert(node.spec, next(it))
            return tuple(convert(None, next(it)) for _ in range(node.ncomp))  # an undecoded composite
        return self._assemble(node, [self._build(c, it, convert) for _, c in node[2]])


# ---------------------------------------------------------------------------
# Component values


def _as_numpy_value(arr: np.ndarray):
    """What ``as_numpy_iterator`` hands out for a dense tensor: a numpy scalar (``bytes`` for strings) for 0-d."""
    return arr[()] if arr.ndim == 0 else arr


def _variant_tensors(arr: np.ndarray, what: str, path, entry) -> list:
    from .tensor import tensor_to_numpy

    out = []
    for v in arr.reshape(-1):
        if not hasattr(v, "tensors"):
            raise DataLossError(f"{what} component does not hold variant data", path=path, entry=entry)
        out.append([tensor_to_numpy(t, path=path, entry=entry) for t in v.tensors])
    return out


def _one_ragged(v, path, entry) -> RaggedTensorValue:
    """One ``RaggedTensorVariant``: its row_splits (outermost first), then its values."""
    type_name = getattr(v, "type_name", "")
    if "RaggedTensorVariant" not in type_name:
        raise DataLossError(f"ragged component holds a {type_name or 'non-variant'!r}", path=path, entry=entry)
    cell = np.empty(1, object)
    cell[0] = v
    (tensors,) = _variant_tensors(cell, "ragged", path, entry)
    if not tensors:
        raise DataLossError("ragged component holds no tensors", path=path, entry=entry)
    *splits, values = tensors
    for i, s in enumerate(splits):
        if s.ndim != 1 or len(s) < 1 or s.dtype.kind not in "iu":
            raise DataLossError(f"ragged component: row_splits {i} are not a 1-D integer tensor", path=path, entry=entry)
    if values.ndim < 1:
        raise DataLossError("ragged component: its values are a scalar", path=path, entry=entry)
    for i, s in enumerate(splits):
        inner = len(splits[i + 1]) - 1 if i + 1 < len(splits) else values.shape[0]
        if s[0] != 0 or np.any(np.diff(s) < 0) or s[-1] != inner:
            raise DataLossError(f"ragged component: row_splits {i} are inconsistent", path=path, entry=entry)
    return RaggedTensorValue(values, tuple(splits))


def _ragged(arr: np.ndarray, path, entry) -> RaggedTensorValue:
    """A ragged component: one encoded ragged tensor, or a batch of them (``batch()`` of ragged
    elements, ``ragged_batch``) stacked along a new ragged outer dimension, as TensorFlow decodes it."""
    if arr.ndim == 0:  # one ragged tensor (its variant is a scalar)
        return _one_ragged(arr.reshape(-1)[0], path, entry)
    if arr.ndim != 1:
        raise UnsupportedError(
            f"a ragged component of {arr.ndim}-D encoded ragged tensors is not decoded", path=path, entry=entry
        )
    rows = [_one_ragged(v, path, entry) for v in arr.tolist()]
    if not rows:
        raise UnsupportedError("an empty batch of encoded ragged tensors is not decoded", path=path, entry=entry)
    depth = rows[0].ragged_rank
    inner_shape = rows[0].values.shape[1:]
    if any(r.ragged_rank != depth or r.values.shape[1:] != inner_shape for r in rows):
        raise DataLossError("ragged component: the batched rows differ in ragged rank or inner shape", path=path, entry=entry)
    counts = [len(r.nested_row_splits[0]) - 1 if depth else r.values.shape[0] for r in rows]
    outer = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    nested = [outer]
    for level in range(depth):
        pieces = [np.zeros(1, np.int64)]
        offset = 0
        for r in rows:
            s = r.nested_row_splits[level].astype(np.int64)
            pieces.append(s[1:] + offset)
            offset += int(s[-1])
        nested.append(np.concatenate(pieces))
    splits_dtype = rows[0].nested_row_splits[0].dtype if depth else np.dtype(np.int64)
    values = np.concatenate([r.values for r in rows])
    return RaggedTensorValue(values, tuple(x.astype(splits_dtype) for x in nested))


def _one_sparse(parts: list, path, entry) -> SparseTensorValue:
    if len(parts) != 3 or any(len(p) != 1 for p in parts):
        raise DataLossError("sparse component is not (indices, values, dense_shape)", path=path, entry=entry)
    indices, values, dense_shape = (p[0] for p in parts)
    if indices.ndim != 2 or values.ndim != 1 or dense_shape.ndim != 1 or indices.shape != (len(values), len(dense_shape)):
        raise DataLossError(
            f"sparse component: indices {indices.shape}, values {values.shape} and dense_shape "
            f"{dense_shape.shape} do not agree",
            path=path,
            entry=entry,
        )
    if indices.dtype.kind not in "iu" or dense_shape.dtype.kind not in "iu" or np.any(dense_shape < 0):
        raise DataLossError("sparse component: indices and dense_shape must be non-negative integers", path=path, entry=entry)
    if len(values) and (np.any(indices < 0) or np.any(indices >= dense_shape)):
        raise DataLossError("sparse component: an index lies outside dense_shape", path=path, entry=entry)
    return SparseTensorValue(indices, values, dense_shape)


def _sparse(arr: np.ndarray, path, entry) -> SparseTensorValue:
    """A sparse component: ``[3]`` variants (indices, values, dense_shape), or ``[*batch, 3]`` of a
    batched one, merged as TensorFlow's ``deserialize_sparse`` merges them (the batch as leading
    dimensions, each other dimension the largest of the rows)."""
    if arr.ndim < 1 or arr.shape[-1] != 3:
        raise DataLossError("sparse component is not (indices, values, dense_shape)", path=path, entry=entry)
    if arr.ndim == 1:
        return _one_sparse(_variant_tensors(arr, "sparse", path, entry), path, entry)
    batch = arr.shape[:-1]
    flat = arr.reshape(-1, 3)
    rows = [_one_sparse(_variant_tensors(flat[i], "sparse", path, entry), path, entry) for i in range(len(flat))]
    if not rows:
        raise UnsupportedError("an empty batch of sparse tensors is not decoded", path=path, entry=entry)
    rank = len(rows[0].dense_shape)
    if any(len(r.dense_shape) != rank for r in rows):
        raise DataLossError("sparse component: the batched rows differ in rank", path=path, entry=entry)
    lead = np.array(np.unravel_index(np.arange(len(rows)), batch)).T.astype(np.int64)
    indices = np.concatenate(
        [np.hstack([np.repeat(lead[i : i + 1], len(r.values), axis=0), r.indices.astype(np.int64)]) for i, r in enumerate(rows)]
    )
    values = np.concatenate([r.values for r in rows])
    dense = np.max(np.stack([r.dense_shape.astype(np.int64) for r in rows]), axis=0) if rank else np.zeros(0, np.int64)
    return SparseTensorValue(indices, values, np.concatenate([np.asarray(batch, np.int64), dense]))


def _check_dtype(p, want: int, path, index: int, j: int) -> None:
    """A component's TensorProto must have the dtype the metadata lists for it."""
    if p.dtype != want and _dt.base_enum(p.dtype) != want:
        raise DataLossError(
            f"component is {_dt.name_of(p.dtype)}, the metadata says {_dt.name_of(want)}",
            path=path,
            entry=f"element {index} component {j}",
        )


def _decode(p, path, index: int, j: int) -> np.ndarray:
    """A component's array: plain ``tensor_content`` straight to numpy, anything else by the general decoder."""
    npdt = plain_numpy(p.dtype)
    if npdt is not None and p.tensor_content:
        shape = plain_shape(p, npdt)
        if shape is not None:
            return np.frombuffer(p.tensor_content, npdt).reshape(shape).copy()
    from .tensor import tensor_to_numpy

    return tensor_to_numpy(p, path=path, entry=f"element {index} component {j}")


def _empty_column(spec, npdt: np.dtype) -> np.ndarray:
    """A column of no elements, shaped ``(0, *spec.shape)`` when the spec gives a shape numpy takes."""
    shape = spec.shape if isinstance(spec, TensorSpec) and spec.shape is not None and None not in spec.shape else ()
    n = 1
    for d in shape:
        n *= d
    if len(shape) >= 32 or n * max(npdt.itemsize, 1) >= 1 << 62:  # numpy refuses even an empty array then
        shape = ()
    return np.empty((0, *shape), dtype=npdt)


def _stack_contents(items: list, enum: int) -> Optional[np.ndarray]:
    """The protos of ``(proto, file, index)`` items as one array, when each holds plain content of
    one shape; else None."""
    npdt = plain_numpy(enum)
    if npdt is None or not items:
        return None
    first = items[0][0]
    shape = plain_shape(first, npdt) if first.tensor_content else None
    if shape is None or 0 in shape:
        return None
    size = len(first.tensor_content)
    first_shape = first.tensor_shape
    contents = []
    for p, _, _ in items:
        c = p.tensor_content
        if len(c) != size or p.tensor_shape != first_shape:
            return None  # (equal shape messages: the same dims, so the size check covers the content)
        contents.append(c)
    return np.frombuffer(b"".join(contents), npdt).reshape((len(items), *shape)).copy()


def _other(spec: "OtherSpec", arr: np.ndarray, path, entry):
    """A TensorArray as the list of its elements, an optional as None or its value; else as stored."""
    from .tensor import tensor_to_numpy

    if arr.size != 1 or not hasattr(arr.reshape(-1)[0], "tensors"):
        return arr
    v = arr.reshape(-1)[0]
    if spec.type_name == "TensorArraySpec" and "TensorList" in v.type_name:
        if any(t.dtype == _dt.DT_INVALID for t in v.tensors):
            return arr  # elements never written: nothing to decode them to
        return [tensor_to_numpy(t, path=path, entry=entry) for t in v.tensors]
    if spec.type_name == "OptionalSpec" and "Optional" in v.type_name:
        values = [_as_numpy_value(tensor_to_numpy(t, path=path, entry=entry)) for t in v.tensors]
        return None if not values else values[0] if len(values) == 1 else tuple(values)
    return arr


# ---------------------------------------------------------------------------
# Shard files


# ---------------------------------------------------------------------------
# The dataset


def _find_root(fs, path: str) -> str:
    """The folder holding ``snapshot.metadata``: ``path`` itself or its one graph-hash folder."""
    if fs.isfile(fs.join(path, METADATA_FILE)):
        return path
    if not fs.isdir(path):
        if fs.exists(path):
            raise NotFoundError("not a folder: give the folder Dataset.save or Dataset.snapshot wrote", path=path)
        raise NotFoundError("no such folder", path=path)
    names = sorted(n for n, is_dir in fs.listdir(path) if is_dir)
    found = [n for n in names if fs.isfile(fs.join(path, n, METADATA_FILE))]
    if not found:
        raise NotFoundError(
            f"no {METADATA_FILE} here or in a graph-hash folder: not a Dataset.save or snapshot folder", path=path
        )
    if len(found) > 1:
        raise InvalidArgumentError(
            f"{len(found)} snapshots of different pipelines are here ({', '.join(found)}); give one of their folders",
            path=path,
        )
    return fs.join(path, found[0])


class SavedDataset:
    """A dataset written by ``Dataset.save`` or ``Dataset.snapshot`` (made by :func:`load_dataset`).

    Attributes: ``path`` (the folder with ``snapshot.metadata``), ``kind``
    (``"save"``, or ``"snapshot"``: the metadata names the pipeline's graph
    hash), ``version`` (file format), ``run_id``,
    ``graph_hash``, ``finalized`` (False: the writer did not finish, some
    elements may be missing), ``num_elements`` (as recorded; ``None`` when
    the writer did not count), ``dtypes`` (of the flat components),
    ``element_spec`` (nested specs; a tuple of :class:`TensorSpec` for a
    snapshot), ``shards`` (per shard, its files in reading order) and
    ``compression`` (of the first file: ``""``, ``"GZIP"`` or ``"SNAPPY"``).
    """

    def __init__(self, path, *, element_spec=None, verify: bool = True) -> None:
        from .proto import message_class, pb

        from ._io.source import is_remote

        path = os.fspath(path)
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        if path.startswith("file://"):
            path = path[len("file://") :]
        self._fs = RemoteFolders(path) if is_remote(path) else LocalFolders()
        fs = self._fs
        if fs.remote:
            path = path.rstrip("/")
        self.path = _find_root(fs, path)
        self.verify = bool(verify)
        meta_path = fs.join(self.path, METADATA_FILE)
        raw = fs.read_small(meta_path, METADATA_FILE)
        try:
            meta = message_class("tensorflow.data.experimental.SnapshotMetadataRecord").FromString(raw)
        except Exception:
            if b"element_spec" in raw[:4096]:
                raise UnsupportedError(
                    "a distributed snapshot (tf.data service's distributed_save) is not read yet", path=meta_path
                ) from None
            raise DataLossError("not a SnapshotMetadataRecord", path=meta_path) from None
        self.run_id = meta.run_id
        self.graph_hash = meta.graph_hash
        self.version = int(meta.version)
        self.finalized = bool(meta.finalized)
        self.dtypes = [_dt.name_of(d) for d in meta.dtype]
        self._dtype_enums = list(meta.dtype)
        if self.version not in (0, 1, 2):
            raise UnsupportedError(f"snapshot file format version {self.version} (known: 0, 1, 2)", path=meta_path)
        if not self.run_id or self.run_id in (".", "..") or "/" in self.run_id or "\\" in self.run_id:
            raise DataLossError(f"run id {self.run_id!r} is not a folder name", path=meta_path)
        if not self._dtype_enums:
            raise DataLossError("the metadata lists no component dtypes", path=meta_path)
        for d in self._dtype_enums:  # unknown dtypes: UnsupportedError now, not mid-iteration
            if _dt.BY_ENUM.get(_dt.base_enum(int(d))) is None:
                raise UnsupportedError(f"the metadata lists an unknown DataType {d}", path=meta_path)

        self.structure_note: Optional[str] = None
        spec_path = fs.join(self.path, SPEC_FILE)
        self._structure: Optional[_Structure] = None
        # Dataset.save leaves graph_hash empty; the snapshot ops fill it in.
        self.kind = "snapshot" if meta.graph_hash else "save"
        if element_spec is not None:
            structure = _Structure(element_spec, None, python=True)
            if structure.ncomp != len(self.dtypes):
                raise InvalidArgumentError(
                    f"element_spec has {structure.ncomp} components, the metadata lists {len(self.dtypes)}",
                    path=meta_path,
                )
            structure.fill_dtypes(self.dtypes)
            self._structure = structure
        elif fs.isfile(spec_path):
            try:
                value = pb.StructuredValue.FromString(fs.read_small(spec_path, SPEC_FILE))
            except TFFormatsError:
                raise
            except Exception:
                raise DataLossError("not a StructuredValue", path=spec_path) from None
            structure = _Structure(value, spec_path)
            if structure.fit(len(self.dtypes)):
                self._structure = structure
            else:
                self.structure_note = (
                    f"{SPEC_FILE} describes {structure.ncomp} components, the metadata {len(self.dtypes)}: "
                    "elements are given as flat tuples"
                )
        elif self.kind == "save":
            self.structure_note = (
                f"no {SPEC_FILE} (older TensorFlow, such as 2.4, did not write one): elements are given as flat "
                "tuples unless load_dataset(element_spec=...) says their structure"
            )
        # Dataset.save counts the elements (0 until it finishes); snapshot writers do not.
        counted = self.version >= 2 and (meta.num_elements > 0 or (self.finalized and self.kind == "save"))
        self.num_elements: Optional[int] = int(meta.num_elements) if counted else None
        self.run_dir = fs.join(self.path, self.run_id)
        self.shards = self._list_shards()
        self.compression = self._first_compression()

    # -- layout
    def _list_shards(self) -> list:
        fs = self._fs
        if not fs.isdir(self.run_dir):
            if self.num_elements == 0 or not self.finalized:
                return []  # nothing written (yet): TensorFlow reads no elements either
            raise NotFoundError(f"the run folder {self.run_id} named by {METADATA_FILE} is missing", path=self.run_dir)
        entries = fs.listdir(self.run_dir)
        shard_dirs = sorted((int(m.group(1)), n) for n, is_dir in entries if is_dir and (m := _SHARD_RE.match(n)))
        if shard_dirs:
            return [self._shard_files(fs.join(self.run_dir, n)) for _, n in shard_dirs]
        # The version-1 op wrote its files straight into the run folder.
        files = self._shard_files(self.run_dir, entries)
        return [files] if files else []

    def _shard_files(self, folder: str, entries: Optional[list] = None) -> list:
        """Checkpoint files 0, 1, 2... as TensorFlow reads them: in order, up to the first missing one."""
        fs = self._fs
        entries = fs.listdir(folder) if entries is None else entries
        ids = {int(m.group(1)) for n, is_dir in entries if not is_dir and (m := _FILE_RE.match(n))}
        out = []
        i = 0
        while i in ids:
            out.append(fs.join(folder, f"{i:08d}.snapshot"))
            i += 1
        return out

    def _first_compression(self) -> Optional[str]:
        first = next((f for files in self.shards for f in files), None)
        if first is None:
            return None
        from ._io.records import detect_input

        try:
            raw = self._fs.raw(first)
            try:
                head = raw.pread(0, 64)
                if head[:2] == b"\x1f\x8b":
                    return "GZIP"
                if self.version >= 2:  # a TFRecord file: its own detection, from the same open file
                    c = detect_input(raw)
                    return "" if c == "NONE" else c
            finally:
                raw.close()
        except (OSError, TFFormatsError):
            return None
        return "SNAPPY" if len(head) >= 9 and not is_snapshot_record(head[8:]) else ""

    # -- specs
    @property
    def element_spec(self):
        if self._structure is not None:
            return self._structure.specs()
        return tuple(TensorSpec(None, d) for d in self.dtypes)

    def leaf_specs(self) -> list:
        """``(path, spec)`` for every leaf of the element structure (``"image"``, ``"meta/flag"``, ``"0"``...)."""
        if self._structure is not None:
            return self._structure.paths()
        return [(str(i), TensorSpec(None, d)) for i, d in enumerate(self.dtypes)]

    @property
    def num_shards(self) -> int:
        return len(self.shards)

    @property
    def files(self) -> list:
        return [f for files in self.shards for f in files]

    def __len__(self) -> int:
        if self.num_elements is None:
            raise TypeError("this dataset's writer did not record its element count; count(ds) reads it")
        return self.num_elements

    def __repr__(self) -> str:
        n = "?" if self.num_elements is None else self.num_elements
        fin = "" if self.finalized else ", not finalized"
        return f"<tfformats SavedDataset {self.path!r} ({self.kind}, {n} elements, {self.num_shards} shards{fin})>"

    # -- reading
    def _flat(self, files: list) -> Iterator[tuple]:
        """``(protos, file, index in file)`` per element, the dtypes checked against the metadata."""
        n = len(self.dtypes)
        wants = self._dtype_enums
        for path in files:
            gen = (
                elements_v2(self._fs.raw(path), path, n, self.verify)
                if self.version >= 2
                else elements_v1(self._fs.raw(path), path, wants, self.verify)
            )
            for index, protos in enumerate(gen):
                for j, (p, want) in enumerate(zip(protos, wants)):
                    _check_dtype(p, want, path, index, j)
                yield protos, path, index

    def _arrays(self, item) -> list:
        protos, path, index = item
        return [_decode(p, path, index, j) for j, p in enumerate(protos)]

    def _convert(self, spec, arr, path, index, j):
        if isinstance(spec, RaggedTensorSpec):
            return _ragged(arr, path, f"element {index} component {j}")
        if isinstance(spec, SparseTensorSpec):
            return _sparse(arr, path, f"element {index} component {j}")
        if isinstance(spec, OtherSpec):
            return _other(spec, arr, path, f"element {index} component {j}")
        return _as_numpy_value(arr)

    def _element(self, item):
        arrays = self._arrays(item)
        if self._structure is None:
            return tuple(_as_numpy_value(a) for a in arrays)
        _, path, index = item
        return self._structure.build(
            [(a, j) for j, a in enumerate(arrays)],
            lambda spec, c: c[0] if spec is None else self._convert(spec, c[0], path, index, c[1]),
        )

    def iter_flat(self, shard: Optional[int] = None, *, cycle_length: Optional[int] = None) -> Iterator[tuple]:
        """Elements as tuples of the flat component arrays (no structure, no conversion)."""
        for item in self._ordered(shard, cycle_length):
            yield tuple(self._arrays(item))

    def elements(self, shard: Optional[int] = None, *, cycle_length: Optional[int] = None) -> Iterator[Any]:
        """Iterate the elements; ``shard=i`` reads one shard, ``cycle_length`` as tf.data's default reader."""
        for item in self._ordered(shard, cycle_length):
            yield self._element(item)

    def __iter__(self) -> Iterator[Any]:
        return self.elements()

    def _ordered(self, shard: Optional[int], cycle_length: Optional[int]) -> Iterator[tuple]:
        if shard is not None:
            yield from self._flat(self.shards[self._shard_index(shard)])
            return
        if cycle_length is not None and cycle_length < 1:
            raise InvalidArgumentError(f"cycle_length must be at least 1, not {cycle_length}")
        yield from _interleave([self._flat(files) for files in self.shards], cycle_length or len(self.shards) or 1)

    def count(self) -> int:
        """Count the elements by reading every file (checks them on the way)."""
        return sum(1 for _ in self._ordered(None, None))

    def _columns(self, shard: Optional[int]) -> list:
        n = len(self.dtypes)
        leaves = self._structure.leaves() if self._structure is not None else [None] * n
        if self.version >= 2:
            return self._columns_v2(shard, leaves)
        rows = list(self._ordered(shard, None))
        return [self._column(j, leaves[j], [(r[0][j], r[1], r[2]) for r in rows]) for j in range(n)]

    def _column(self, j: int, spec, items: list):
        """Component ``j`` of all elements from ``(proto, file, index)`` items: stacked, or a list."""
        if isinstance(spec, (RaggedTensorSpec, SparseTensorSpec)):
            return [self._convert(spec, _decode(p, f, i, j), f, i, j) for p, f, i in items]
        stacked = _stack_contents(items, self._dtype_enums[j]) if not isinstance(spec, OtherSpec) else None
        if stacked is not None:
            return stacked
        arrays = [_decode(p, f, i, j) for p, f, i in items]
        if isinstance(spec, OtherSpec):
            return [self._convert(spec, a, f, i, j) for a, (_, f, i) in zip(arrays, items)]
        if not arrays:
            return _empty_column(spec, _dt.from_enum(self._dtype_enums[j]).numpy)
        if all(a.shape == arrays[0].shape for a in arrays):
            return np.stack(arrays)
        return arrays

    def _columns_v2(self, shard: Optional[int], leaves: list) -> list:
        """Format 2: each file read whole (CRCs checked at once), plain columns cut out without a
        message per record; the rest parsed record by record."""
        from ._io.records import read_all
        from .proto import pb

        ncomp = len(self.dtypes)
        shards = self.shards if shard is None else [self.shards[self._shard_index(shard)]]
        files = []  # (path, data, starts, lengths, elements)
        counts = []
        for shard_files in shards:
            c = 0
            for f in shard_files:
                raw = self._fs.raw(f)
                try:
                    data, starts, lengths, _ = read_all(raw, verify=self.verify)
                finally:
                    raw.close()
                k = len(starts)
                if k % ncomp:
                    raise DataLossError(
                        f"the file ends inside element {k // ncomp}: {k % ncomp} of its {ncomp} components are present",
                        path=f,
                    )
                files.append((f, data, starts, lengths, k // ncomp))
                c += k // ncomp
            counts.append(c)
        parse = pb.TensorProto.FromString
        cols = []
        for j in range(ncomp):
            spec = leaves[j]
            col = None
            if not isinstance(spec, (RaggedTensorSpec, SparseTensorSpec, OtherSpec)):
                pieces = [
                    plain_column(data, starts[j::ncomp], lengths[j::ncomp], self._dtype_enums[j])
                    for _, data, starts, lengths, m in files
                    if m
                ]
                if pieces and all(p is not None for p in pieces) and len({p.shape[1:] for p in pieces}) == 1:
                    col = pieces[0] if len(pieces) == 1 else np.concatenate(pieces)
            if col is None:
                items = []
                want = self._dtype_enums[j]
                for f, data, starts, lengths, m in files:
                    mv = memoryview(data)
                    for i, (st, ln) in enumerate(zip(starts[j::ncomp].tolist(), lengths[j::ncomp].tolist())):
                        try:
                            proto = parse(mv[st : st + ln])
                        except Exception as exc:
                            raise DataLossError(
                                f"element {i}, component {j}: not a TensorProto ({exc})", path=f
                            ) from None
                        _check_dtype(proto, want, f, i, j)
                        items.append((proto, f, i))
                col = self._column(j, spec, items)
            cols.append(col)
        if len(counts) > 1:
            bases = np.concatenate([[0], np.cumsum(counts)[:-1]]).tolist()
            order = list(_interleave([iter(range(b, b + c)) for b, c in zip(bases, counts)], len(counts)))
            perm = np.asarray(order, dtype=np.int64)
            cols = [c[perm] if isinstance(c, np.ndarray) else [c[i] for i in order] for c in cols]
        return cols

    def _shard_index(self, shard: int) -> int:
        if not -len(self.shards) <= shard < len(self.shards):
            raise InvalidArgumentError(f"shard {shard} out of range: {len(self.shards)} shards", path=self.path)
        return shard

    def to_numpy(self, shard: Optional[int] = None):
        """Every element at once, in the element structure, each dense component stacked.

        Components of one shape over all elements become one array with a
        leading element dimension; others (varying shapes, ragged, sparse)
        a list of per-element values.
        """
        cols = self._columns(shard)
        if self._structure is None:
            return tuple(cols)
        return self._structure.build(cols, lambda spec, col: col)

    def to_pandas(self, shard: Optional[int] = None):
        """A ``pandas.DataFrame``, one row per element and one column per leaf path (needs pandas:
        ``pip install 'tfformats[pandas]'``).  Scalar components are plain columns; others hold one
        array (or ragged/sparse value) per row."""
        try:
            import pandas as pd
        except ImportError as exc:
            raise UnsupportedError("to_pandas() needs pandas: pip install 'tfformats[pandas]'") from exc
        data = {}
        for path, col in self.columns(shard).items():
            if isinstance(col, np.ndarray) and col.ndim == 1:
                data[path] = col
            else:
                cells = np.empty(len(col), object)
                for i in range(len(col)):
                    cells[i] = col[i]
                data[path] = cells
        return pd.DataFrame(data, columns=list(data))

    def columns(self, shard: Optional[int] = None) -> dict:
        """``{leaf path: stacked array or list}`` (paths as :meth:`leaf_specs` gives them)."""
        return {path: col for (path, _), col in zip(self.leaf_specs(), self._columns(shard))}


def _interleave(iterators: list, cycle_length: int) -> Iterator:
    """tf.data's deterministic ``interleave(lambda x: x, cycle_length)``, block length 1.

    Slots are visited in turn; an exhausted slot is left empty until the turn
    comes back to it, and only then takes the next input, as tf.data does.
    """
    pending = collections.deque(iterators)
    cycle_length = max(1, min(cycle_length, len(pending)))  # more slots than inputs change nothing
    slots: list = [None] * cycle_length
    i = 0
    while pending or any(s is not None for s in slots):
        it = slots[i]
        if it is None:
            if pending:
                slots[i] = pending.popleft()
                continue
        else:
            try:
                item = next(it)
            except StopIteration:
                slots[i] = None
            else:
                yield item
        i = (i + 1) % cycle_length


def load_dataset(path, *, element_spec=None, verify: bool = True) -> SavedDataset:
    """Open a folder written by ``tf.data.Dataset.save`` (or ``Dataset.snapshot``).

    ``path`` is the folder given to ``save``/``snapshot``, or for a snapshot
    its graph-hash folder.  ``element_spec``: the element structure, for
    folders that do not record it (saves of older TensorFlow such as 2.4, snapshots)
    or to override it: a nested dict/tuple/named tuple/list whose leaves are
    the specs of this module (:class:`TensorSpec`, :class:`RaggedTensorSpec`,
    :class:`SparseTensorSpec`...; any other leaf stands for one dense
    component), e.g. another save's ``element_spec``.  ``verify=False``
    skips the TFRecord CRCs.
    """
    return SavedDataset(path, element_spec=element_spec, verify=verify)
