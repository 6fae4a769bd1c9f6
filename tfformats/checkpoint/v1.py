"""Legacy V1 checkpoints: tables of ``SavedTensorSlices`` (one file or shards).

A V1 checkpoint is one table file, or several (``PREFIX-00000-of-00003``...)
matched by a glob pattern.  In every file::

    ""                                   -> SavedTensorSlices{meta}
                                            meta.tensor[]: SavedSliceMeta {name, shape, type,
                                                                          slice[] stored in THIS file}
    encode_tensor_name_slice(name, box)  -> SavedTensorSlices{data}
                                            data: SavedSlice {name, slice, data: TensorProto}

Every tensor, partitioned or not, is stored as slices; an unpartitioned one is
one slice whose extents are all "full".  A slice's TensorProto carries only the
typed repeated field of the values (``float_val``, ``int_val``, ``string_val``...),
with neither dtype nor shape: those come from the meta entry.  The slices of one
tensor may be spread over several files; reading assembles them.
"""

from __future__ import annotations

import glob
import os
import re

import numpy as np

from .. import dtypes as _dt
from .._io.table import Table
from ..errors import DataLossError, NotFoundError, UnknownTensorError, UnsupportedError
from . import slices as _slices
from .bundle import shape_of

META_KEY = b""
# The newest V1 layout this reader understands (TF_CHECKPOINT_VERSION).
CHECKPOINT_VERSION = 1

# Fewest bytes one element can take in a SavedSlice's TensorProto (packed
# typed fields): used to refuse shapes a file is too small to hold before
# allocating them.
_MIN_BYTES = {_dt.DT_FLOAT: 4, _dt.DT_DOUBLE: 8, _dt.DT_COMPLEX64: 8, _dt.DT_COMPLEX128: 16}


def _pb():
    from ..proto import pb

    return pb


def _num_elements(shape) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


_SHARD = re.compile(r"^(.*)-(\d{5})-of-(\d{5})$")


def expand_pattern(path_or_pattern: str) -> list[str]:
    """The files of a V1 checkpoint: the file itself, or every match of a glob.

    When the matches are shards ``NAME-SSSSS-of-NNNNN`` of one checkpoint, all
    N of them must be there (a missing one raises ``NotFoundError`` naming it).
    """
    p = os.fspath(path_or_pattern)
    if os.path.isfile(p):
        return [p]
    if any(c in p for c in "*?["):
        files = sorted(f for f in glob.glob(p) if os.path.isfile(f))
        if files:
            _check_shard_set(files)
            return files
    raise NotFoundError("no V1 checkpoint file matches this path", path=p)


def _check_shard_set(files: list[str]) -> None:
    groups: dict[tuple[str, int], set[int]] = {}
    for f in files:
        m = _SHARD.match(f)
        if m is None:
            return  # not TF's shard naming: take the matches as they are
        groups.setdefault((m.group(1), int(m.group(3))), set()).add(int(m.group(2)))
    for (base, total), ids in groups.items():
        for i in range(total):
            if i not in ids:
                raise NotFoundError(
                    f"shard {i} of the {total} shards of the V1 checkpoint is missing",
                    path=f"{base}-{i:05d}-of-{total:05d}",
                )


class _Tensor:
    """What the meta entries of all files say about one tensor."""

    __slots__ = ("name", "dtype", "shape", "slices", "files")

    def __init__(self, name: str, dtype: _dt.DType, shape: tuple) -> None:
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.slices: list[tuple[list, list, int]] = []  # (extents, box, file index)
        self.files: set[int] = set()


class V1Reader:
    """Reader of a V1 (SavedTensorSlices) checkpoint: one file or a pattern.

    Same interface as :class:`~tfformats.checkpoint.bundle.BundleReader`:
    ``names()``, ``in``, ``info(name)``, ``read(name)``, ``close()``.
    Table blocks are CRC-checked; V1 stores no per-tensor checksum, so
    ``verify`` has nothing more to check.
    """

    def __init__(self, path_or_pattern) -> None:
        self.pattern = os.fspath(path_or_pattern)
        self.files = expand_pattern(self.pattern)
        self.num_shards = len(self.files)
        self._tables: list[Table] = []
        self._tensors: dict[str, _Tensor] = {}
        try:
            for i, f in enumerate(self.files):
                t = Table(f)
                self._tables.append(t)
                self._load_meta(i, t)
        except BaseException:
            self.close()
            raise
        self._names = sorted(self._tensors)
        self._checked: set[str] = set()

    # -- meta ----------------------------------------------------------------
    def _load_meta(self, index: int, table: Table) -> None:
        path = self.files[index]
        raw = table.get(META_KEY)
        if raw is None:
            raise DataLossError("V1 checkpoint file has no meta entry (empty key)", path=path)
        try:
            sts = _pb().SavedTensorSlices.FromString(raw)
        except Exception as exc:
            raise DataLossError(f"cannot parse the V1 meta entry: {exc}", path=path, entry="") from None
        if not sts.HasField("meta"):
            raise DataLossError("the V1 meta entry holds no SavedTensorSliceMeta", path=path, entry="")
        v = sts.meta.versions
        if v.producer < 0 or v.min_consumer > CHECKPOINT_VERSION or CHECKPOINT_VERSION in v.bad_consumers:
            raise UnsupportedError(
                f"V1 checkpoint version (producer {v.producer}, min_consumer {v.min_consumer}) "
                "is not readable by this reader",
                path=path,
            )
        for m in sts.meta.tensor:
            name = m.name
            dtype = _dt.BY_ENUM.get(_dt.base_enum(m.type))
            if dtype is None or m.type == _dt.DT_INVALID:
                raise UnsupportedError(f"unknown dtype {m.type}", path=path, entry=name)
            shape = shape_of(m.shape, path=path, entry=name)
            t = self._tensors.get(name)
            if t is None:
                t = self._tensors[name] = _Tensor(name, dtype, shape)
            elif t.dtype.enum != dtype.enum or t.shape != shape:
                raise DataLossError(
                    f"files disagree about the tensor: {t.dtype.name}{list(t.shape)} "
                    f"in {self.files[min(t.files)] if t.files else '?'} vs {dtype.name}{list(shape)}",
                    path=path,
                    entry=name,
                )
            for sp in m.slice:
                extents = _slices.extents_from_proto(sp)
                try:
                    box = _slices.check_extents(extents, shape)
                except ValueError as exc:
                    raise DataLossError(
                        f"bad slice {_slices.format_extents(extents)}: {exc}", path=path, entry=name
                    ) from None
                t.slices.append((extents, box, index))
                t.files.add(index)

    def _check_coverage(self, t: _Tensor) -> None:
        """Slices must tile the tensor: no overlap, nothing missing, and the
        files must be big enough to hold that many elements."""
        where = self.files[min(t.files)] if t.files else self.pattern
        total = _num_elements(t.shape)
        try:
            _slices.check_tiling([box for _, box, _ in t.slices], t.shape)
        except ValueError as exc:
            raise DataLossError(str(exc), path=where, entry=t.name) from None
        capacity = sum(self._tables[i].source.size for i in t.files)
        if total * _MIN_BYTES.get(t.dtype.enum, 1) > capacity:
            raise DataLossError(
                f"a {t.dtype.name} tensor of shape {list(t.shape)} cannot be stored in {capacity} bytes",
                path=where,
                entry=t.name,
            )

    # -- BundleReader-like API -----------------------------------------------
    def names(self) -> list[str]:
        return self._names

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._tensors

    def _tensor(self, name: str) -> _Tensor:
        t = self._tensors.get(name)
        if t is None:
            raise UnknownTensorError(f"no tensor named {name!r} in the checkpoint", path=self.pattern)
        return t

    def info(self, name: str) -> tuple[_dt.DType, tuple[int, ...]]:
        t = self._tensor(name)
        return t.dtype, t.shape

    def read(self, name: str, *, verify: bool = True) -> np.ndarray:
        """The whole tensor, assembled from its slices in every file."""
        t = self._tensor(name)
        if len(t.shape) > _dt.max_numpy_rank():
            raise UnsupportedError(
                f"tensor has {len(t.shape)} dimensions; numpy arrays hold at most {_dt.max_numpy_rank()}",
                path=self.pattern,
                entry=name,
            )
        if name not in self._checked:
            self._check_coverage(t)
            self._checked.add(name)
        if t.dtype.numpy_name is None:
            raise UnsupportedError(f"reading {t.dtype.name} tensors is not supported", path=self.pattern, entry=name)
        out = np.empty(t.shape, t.dtype.numpy)
        for extents, box, index in t.slices:
            part = self._read_slice(t, extents, box, index)
            out[tuple(slice(a, b) for a, b in box)] = part
        return out

    def _read_slice(self, t: _Tensor, extents, box, index: int) -> np.ndarray:
        from ..tensor import tensor_to_numpy

        path = self.files[index]
        label = f"{t.name}[{_slices.format_extents(extents)}]"
        raw = self._tables[index].get(_slices.encode_tensor_name_slice(t.name, extents))
        if raw is None:
            raise DataLossError("the data of a slice listed in the meta entry is missing", path=path, entry=label)
        try:
            sts = _pb().SavedTensorSlices.FromString(raw)
        except Exception as exc:
            raise DataLossError(f"cannot parse the slice record: {exc}", path=path, entry=label) from None
        saved = sts.data
        if not sts.HasField("data") or saved.name != t.name:
            raise DataLossError(
                f"the slice record names tensor {saved.name!r}", path=path, entry=label
            )
        if _slices.extents_from_proto(saved.slice) != list(extents):
            raise DataLossError("the slice record's extents differ from the meta entry's", path=path, entry=label)
        proto = saved.data
        if proto.dtype not in (0, t.dtype.enum):
            raise DataLossError(
                f"slice data has dtype {_dt.name_of(proto.dtype)}, the tensor is {t.dtype.name}", path=path, entry=label
            )
        shape = tuple(b - a for a, b in box)
        n = _num_elements(shape)
        if not proto.tensor_content:
            count = _value_count(proto, t.dtype)
            if count != n:
                raise DataLossError(
                    f"slice data holds {count} values for {n} elements", path=path, entry=label
                )
        proto.dtype = t.dtype.enum
        del proto.tensor_shape.dim[:]
        proto.tensor_shape.unknown_rank = False
        for d in shape:
            proto.tensor_shape.dim.add(size=d)
        return tensor_to_numpy(proto, path=path, entry=label)

    def close(self) -> None:
        for t in self._tables:
            t.close()
        self._tables = []

    def __repr__(self) -> str:
        return f"<tfformats V1Reader {self.pattern!r}: {len(self._tensors)} tensors in {self.num_shards} files>"


def _value_count(proto, dtype: _dt.DType) -> int:
    """How many elements the typed value field of a slice's TensorProto holds."""
    e = dtype.enum
    if e == _dt.DT_STRING:
        return len(proto.string_val)
    if e == _dt.DT_FLOAT:
        return len(proto.float_val)
    if e == _dt.DT_DOUBLE:
        return len(proto.double_val)
    if e == _dt.DT_INT64:
        return len(proto.int64_val)
    if e == _dt.DT_UINT32:
        return len(proto.uint32_val)
    if e == _dt.DT_UINT64:
        return len(proto.uint64_val)
    if e == _dt.DT_BOOL:
        return len(proto.bool_val)
    if e in (_dt.DT_HALF, _dt.DT_BFLOAT16):
        return len(proto.half_val)
    if e in (_dt.DT_COMPLEX64, _dt.DT_COMPLEX128):
        parts = len(proto.scomplex_val if e == _dt.DT_COMPLEX64 else proto.dcomplex_val)
        return parts // 2 if parts % 2 == 0 else -1  # an odd count pairs with nothing
    if dtype.numpy_name in ("float8_e5m2", "float8_e4m3fn", "float8_e4m3fnuz", "float8_e4m3b11fnuz",
                            "float8_e5m2fnuz", "float4_e2m1fn"):
        return len(proto.float8_val)
    return len(proto.int_val)
