"""TensorFlow ``DataType`` enum values and their numpy equivalents.

bfloat16, the float8 family and the sub-byte integers come from ``ml_dtypes``.
Sub-byte types (int4, uint4, int2, uint2, float4_e2m1fn) are stored by
TensorFlow one element per byte, which is exactly ml_dtypes' layout.
Quantized types (qint8, quint8, qint16, quint16, qint32) read as their base
integer type; string tensors read as numpy ``object`` arrays of ``bytes``.
"""

from __future__ import annotations

from functools import lru_cache

from ._lazy import lazy_module

np = lazy_module("numpy")

# DataType numbers (types.proto).
DT_INVALID = 0
DT_FLOAT = 1
DT_DOUBLE = 2
DT_INT32 = 3
DT_UINT8 = 4
DT_INT16 = 5
DT_INT8 = 6
DT_STRING = 7
DT_COMPLEX64 = 8
DT_INT64 = 9
DT_BOOL = 10
DT_QINT8 = 11
DT_QUINT8 = 12
DT_QINT32 = 13
DT_BFLOAT16 = 14
DT_QINT16 = 15
DT_QUINT16 = 16
DT_UINT16 = 17
DT_COMPLEX128 = 18
DT_HALF = 19
DT_RESOURCE = 20
DT_VARIANT = 21
DT_UINT32 = 22
DT_UINT64 = 23
DT_FLOAT8_E5M2 = 24
DT_FLOAT8_E4M3FN = 25
DT_FLOAT8_E4M3FNUZ = 26
DT_FLOAT8_E4M3B11FNUZ = 27
DT_FLOAT8_E5M2FNUZ = 28
DT_INT4 = 29
DT_UINT4 = 30
DT_INT2 = 31
DT_UINT2 = 32
DT_FLOAT4_E2M1FN = 33
REF_OFFSET = 100


def max_numpy_rank() -> int:
    """The most dimensions a numpy array may have here (64 on numpy 2, 32 before).

    TensorFlow allows up to 254, so a valid file can hold a tensor numpy
    cannot represent; readers refuse those with an ``UnsupportedError``.
    """
    return 64 if int(np.__version__.split(".")[0]) >= 2 else 32


class DType:
    """One TensorFlow dtype: its enum number, TF's name, and numpy type."""

    __slots__ = ("enum", "name", "numpy_name")

    def __init__(self, enum: int, name: str, numpy_name: str | None) -> None:
        self.enum = enum
        self.name = name  # as tf.DType.name spells it: 'float32', 'bfloat16', 'string'
        self.numpy_name = numpy_name  # None for resource/variant

    def __eq__(self, other) -> bool:
        return isinstance(other, DType) and other.enum == self.enum

    def __hash__(self) -> int:
        return hash(self.enum)

    @property
    def numpy(self) -> np.dtype:
        return _numpy_dtype(self.numpy_name) if self.numpy_name else np.dtype(object)

    @property
    def itemsize(self) -> int:
        """Bytes per element on disk (0 for variable-size types)."""
        if self.enum in (DT_STRING, DT_VARIANT, DT_RESOURCE):
            return 0
        return self.numpy.itemsize

    @property
    def is_string(self) -> bool:
        return self.enum == DT_STRING

    def __repr__(self) -> str:
        return f"tfformats.dtypes.{self.name}"


_TABLE = [
    (DT_FLOAT, "float32", "float32"),
    (DT_DOUBLE, "float64", "float64"),
    (DT_INT32, "int32", "int32"),
    (DT_UINT8, "uint8", "uint8"),
    (DT_INT16, "int16", "int16"),
    (DT_INT8, "int8", "int8"),
    (DT_STRING, "string", "object"),
    (DT_COMPLEX64, "complex64", "complex64"),
    (DT_INT64, "int64", "int64"),
    (DT_BOOL, "bool", "bool"),
    (DT_QINT8, "qint8", "int8"),
    (DT_QUINT8, "quint8", "uint8"),
    (DT_QINT32, "qint32", "int32"),
    (DT_BFLOAT16, "bfloat16", "bfloat16"),
    (DT_QINT16, "qint16", "int16"),
    (DT_QUINT16, "quint16", "uint16"),
    (DT_UINT16, "uint16", "uint16"),
    (DT_COMPLEX128, "complex128", "complex128"),
    (DT_HALF, "float16", "float16"),
    (DT_RESOURCE, "resource", None),
    (DT_VARIANT, "variant", None),
    (DT_UINT32, "uint32", "uint32"),
    (DT_UINT64, "uint64", "uint64"),
    (DT_FLOAT8_E5M2, "float8_e5m2", "float8_e5m2"),
    (DT_FLOAT8_E4M3FN, "float8_e4m3fn", "float8_e4m3fn"),
    (DT_FLOAT8_E4M3FNUZ, "float8_e4m3fnuz", "float8_e4m3fnuz"),
    (DT_FLOAT8_E4M3B11FNUZ, "float8_e4m3b11fnuz", "float8_e4m3b11fnuz"),
    (DT_FLOAT8_E5M2FNUZ, "float8_e5m2fnuz", "float8_e5m2fnuz"),
    (DT_INT4, "int4", "int4"),
    (DT_UINT4, "uint4", "uint4"),
    (DT_INT2, "int2", "int2"),
    (DT_UINT2, "uint2", "uint2"),
    (DT_FLOAT4_E2M1FN, "float4_e2m1fn", "float4_e2m1fn"),
]

BY_ENUM: dict[int, DType] = {e: DType(e, n, np_name) for e, n, np_name in _TABLE}
BY_NAME: dict[str, DType] = {d.name: d for d in BY_ENUM.values()}
# Aliases people type.
BY_NAME.update({"half": BY_ENUM[DT_HALF], "float": BY_ENUM[DT_FLOAT], "double": BY_ENUM[DT_DOUBLE]})

_ML_DTYPES = {
    "bfloat16", "float8_e5m2", "float8_e4m3fn", "float8_e4m3fnuz", "float8_e4m3b11fnuz",
    "float8_e5m2fnuz", "int4", "uint4", "int2", "uint2", "float4_e2m1fn",
}


@lru_cache(maxsize=None)
def _numpy_dtype(name: str) -> np.dtype:
    if name in _ML_DTYPES:
        import ml_dtypes

        return np.dtype(getattr(ml_dtypes, name))
    return np.dtype(name)


def is_ref(enum: int) -> bool:
    return enum > REF_OFFSET


def base_enum(enum: int) -> int:
    """Strip the ``_REF`` offset (graph attrs may carry ``DT_FLOAT_REF`` etc.)."""
    return enum - REF_OFFSET if enum > REF_OFFSET else enum


def from_enum(enum: int) -> DType:
    """The DType for a DataType number (``_REF`` types map to their base)."""
    d = BY_ENUM.get(base_enum(int(enum)))
    if d is None:
        from .errors import UnsupportedError

        raise UnsupportedError(f"unknown DataType {enum}")
    return d


def name_of(enum: int) -> str:
    """TF's name for a DataType number; unknown numbers give ``'DataType(N)'``."""
    d = BY_ENUM.get(base_enum(int(enum)))
    return d.name if d is not None else f"DataType({enum})"


def from_numpy(dtype) -> DType:
    """The DType for a numpy dtype (``object``/``bytes``/``str`` map to string)."""
    dt = np.dtype(dtype)
    if dt.kind in ("O", "S", "U"):
        return BY_ENUM[DT_STRING]
    for d in BY_ENUM.values():
        if d.numpy_name and d.enum not in (DT_QINT8, DT_QUINT8, DT_QINT16, DT_QUINT16, DT_QINT32, DT_STRING):
            if _numpy_dtype(d.numpy_name) == dt:
                return d
    from .errors import UnsupportedError

    raise UnsupportedError(f"numpy dtype {dt} has no TensorFlow equivalent")


def as_dtype(value) -> DType:
    """Accept a DType, an enum number, TF's name, or a numpy dtype."""
    if isinstance(value, DType):
        return value
    if isinstance(value, int):
        return from_enum(value)
    if isinstance(value, str) and value in BY_NAME:
        return BY_NAME[value]
    return from_numpy(value)
