"""``TensorProto`` <-> numpy.

A TensorProto carries its values either in ``tensor_content`` (raw
little-endian bytes, exactly ``num_elements * itemsize`` of them; for
strings: every length as a varint32, then all the bytes; for variants the
same with serialized ``VariantTensorDataProto`` elements) or in the typed
repeated field of its dtype::

    float          float_val        double      double_val
    int32/16/8, uint8/16, qint*, quint*, int4/uint4/int2/uint2   int_val
    int64          int64_val        uint32      uint32_val      uint64  uint64_val
    bool           bool_val         string      string_val
    complex64      scomplex_val (re, im interleaved)   complex128  dcomplex_val
    half/bfloat16  half_val (the 16-bit patterns, one per int32)
    float8/float4  float8_val (one byte per element)
    resource       resource_handle_val               variant     variant_val

TensorFlow's fill rule: no values means zeros; fewer values than elements
means the last value repeats.  A tiny proto can therefore claim a huge
tensor; ``max_fill_bytes`` bounds how far such a proto may expand.
"""

from __future__ import annotations

import numpy as np

from . import dtypes as _dt
from ._io import varint as _varint
from .errors import DataLossError, InvalidArgumentError, ResourceLimitError, UnsupportedError

__all__ = ["tensor_to_numpy", "numpy_to_tensor", "shape_to_list", "DEFAULT_MAX_FILL_BYTES"]

DEFAULT_MAX_FILL_BYTES = 1 << 30  # 1 GiB from a repeated value is plenty for real graphs

_INT_VAL = {
    _dt.DT_INT32, _dt.DT_INT16, _dt.DT_INT8, _dt.DT_UINT8, _dt.DT_UINT16, _dt.DT_QINT8, _dt.DT_QUINT8,
    _dt.DT_QINT16, _dt.DT_QUINT16, _dt.DT_QINT32, _dt.DT_INT4, _dt.DT_UINT4, _dt.DT_INT2, _dt.DT_UINT2,
}
_FLOAT8 = {
    _dt.DT_FLOAT8_E5M2, _dt.DT_FLOAT8_E4M3FN, _dt.DT_FLOAT8_E4M3FNUZ, _dt.DT_FLOAT8_E4M3B11FNUZ,
    _dt.DT_FLOAT8_E5M2FNUZ, _dt.DT_FLOAT4_E2M1FN,
}


def shape_to_list(shape_proto, *, allow_unknown: bool = True) -> list | None:
    """A TensorShapeProto as a list with ``None`` for unknown dims, or ``None`` for unknown rank."""
    if shape_proto.unknown_rank:
        return None
    return [None if d.size < 0 else d.size for d in shape_proto.dim]


def _validated_shape(proto, path, entry) -> tuple[tuple[int, ...], int]:
    if proto.tensor_shape.unknown_rank:
        raise DataLossError("TensorProto has an unknown-rank shape", path=path, entry=entry)
    dims = tuple(d.size for d in proto.tensor_shape.dim)
    if len(dims) > _dt.max_numpy_rank():
        raise UnsupportedError(
            f"TensorProto has {len(dims)} dimensions; numpy arrays hold at most {_dt.max_numpy_rank()}",
            path=path,
            entry=entry,
        )
    n = 1
    nonzero = 1  # numpy refuses even an empty array when the other dims multiply past its limit
    for d in dims:
        if d < 0:
            raise DataLossError(f"TensorProto shape has a negative dimension ({d})", path=path, entry=entry)
        n *= d
        nonzero *= d or 1
        if n >= 1 << 62 or nonzero >= 1 << 58:
            raise DataLossError(f"TensorProto shape {list(dims)} overflows the element count", path=path, entry=entry)
    return dims, n


def _typed_values(proto, dtype: _dt.DType):
    """The typed repeated field holding this dtype's values, and its numpy dtype."""
    e = dtype.enum
    if e == _dt.DT_FLOAT:
        return proto.float_val, np.float32
    if e == _dt.DT_DOUBLE:
        return proto.double_val, np.float64
    if e in _INT_VAL:
        return proto.int_val, np.int64
    if e == _dt.DT_INT64:
        return proto.int64_val, np.int64
    if e == _dt.DT_UINT32:
        return proto.uint32_val, np.uint32
    if e == _dt.DT_UINT64:
        return proto.uint64_val, np.uint64
    if e == _dt.DT_BOOL:
        return proto.bool_val, np.bool_
    if e in (_dt.DT_HALF, _dt.DT_BFLOAT16):
        return proto.half_val, np.int64
    if e == _dt.DT_COMPLEX64:
        return proto.scomplex_val, np.float32
    if e == _dt.DT_COMPLEX128:
        return proto.dcomplex_val, np.float64
    raise UnsupportedError(f"no typed value field for {dtype.name}")


def _fill(values: np.ndarray, n: int, out_dtype, path, entry, max_fill_bytes: int) -> np.ndarray:
    """Apply TF's fill rule to ``values`` (1-D) for ``n`` elements."""
    m = len(values)
    if m >= n:
        return values[:n].astype(out_dtype, copy=False)
    nbytes = n * np.dtype(out_dtype).itemsize
    if nbytes > max_fill_bytes:
        raise ResourceLimitError(
            f"TensorProto with {m} values claims {n} elements ({nbytes} bytes), above max_fill_bytes={max_fill_bytes}",
            path=path,
            entry=entry,
        )
    out = np.zeros(n, out_dtype)
    if m:
        out[:m] = values
        out[m:] = values[-1]
    return out


def _decode_string_content(content: bytes, n: int, path, entry) -> np.ndarray:
    lengths = []
    pos = 0
    size = len(content)
    if n > size:
        raise DataLossError(f"string tensor_content of {size} bytes cannot hold {n} strings", path=path, entry=entry)
    try:
        for _ in range(n):
            ln, pos = _varint.decode32(content, pos, size)
            lengths.append(ln)
    except _varint.VarintError as exc:
        raise DataLossError(f"bad string length in tensor_content: {exc}", path=path, entry=entry) from None
    if pos + sum(lengths) != size:
        raise DataLossError("string lengths do not add up to tensor_content's size", path=path, entry=entry)
    out = np.empty(n, object)
    for i, ln in enumerate(lengths):
        out[i] = content[pos : pos + ln]
        pos += ln
    return out


def _decode_variant_content(content: bytes, n: int, path, entry) -> np.ndarray:
    """A variant ``tensor_content``: every element's length as a varint32, then the elements.

    This is how ``Tensor::AsProtoTensorContent`` (``port::EncodeVariantList``)
    writes variants, e.g. ``tf.io.serialize_tensor`` of a TensorList; each
    element is a serialized ``VariantTensorDataProto``.  The lengths must add
    up to the bytes present, as TensorFlow's ``DecodeVariantList`` requires.
    """
    from .proto import pb

    size = len(content)
    if n > size:  # every element needs at least its length byte
        raise DataLossError(f"variant tensor_content of {size} bytes cannot hold {n} elements", path=path, entry=entry)
    lengths = []
    pos = 0
    try:
        for _ in range(n):
            ln, pos = _varint.decode32(content, pos, size)
            lengths.append(ln)
    except _varint.VarintError as exc:
        raise DataLossError(f"bad variant length in tensor_content: {exc}", path=path, entry=entry) from None
    if pos + sum(lengths) != size:
        raise DataLossError(
            f"variant lengths add up to {sum(lengths)} bytes, tensor_content has {size - pos} after them",
            path=path,
            entry=entry,
        )
    parse = pb.VariantTensorDataProto.FromString
    out = np.empty(n, object)
    for i, ln in enumerate(lengths):
        try:
            out[i] = parse(content[pos : pos + ln])
        except Exception as exc:
            raise DataLossError(
                f"variant element {i} in tensor_content is not a VariantTensorDataProto: {exc}", path=path, entry=entry
            ) from None
        pos += ln
    return out


def tensor_to_numpy(proto, *, path=None, entry=None, max_fill_bytes: int = DEFAULT_MAX_FILL_BYTES) -> np.ndarray:
    """Decode a ``TensorProto`` (or its serialized bytes) to a new numpy array.

    Strings become an ``object`` array of ``bytes``; variant and resource
    tensors an ``object`` array of their protos.  Raises ``DataLossError`` for
    inconsistent protos and ``ResourceLimitError`` when the fill rule would
    expand a few values beyond ``max_fill_bytes``.
    """
    if isinstance(proto, (bytes, bytearray, memoryview)):
        from .proto import pb

        try:
            proto = pb.TensorProto.FromString(bytes(proto))
        except Exception as exc:
            raise DataLossError(f"cannot parse TensorProto: {exc}", path=path, entry=entry) from None
    dt_enum = proto.dtype
    dtype = _dt.BY_ENUM.get(_dt.base_enum(dt_enum))
    if dtype is None or dt_enum == _dt.DT_INVALID:
        raise UnsupportedError(f"TensorProto has unknown dtype {dt_enum}", path=path, entry=entry)
    shape, n = _validated_shape(proto, path, entry)
    e = dtype.enum
    content = proto.tensor_content

    if e == _dt.DT_STRING:
        if content:
            return _decode_string_content(bytes(content), n, path, entry).reshape(shape)
        vals = list(proto.string_val)
        if len(vals) < n and n * 8 > max_fill_bytes:
            raise ResourceLimitError(
                f"string TensorProto with {len(vals)} values claims {n} elements", path=path, entry=entry
            )
        out = np.empty(n, object)
        if len(vals) >= n:
            out[:] = vals[:n] if n else []
        else:
            out[: len(vals)] = vals
            out[len(vals) :] = vals[-1] if vals else b""
        return out.reshape(shape)
    if e == _dt.DT_VARIANT and content:
        return _decode_variant_content(bytes(content), n, path, entry).reshape(shape)
    if e in (_dt.DT_VARIANT, _dt.DT_RESOURCE):
        vals = list(proto.variant_val if e == _dt.DT_VARIANT else proto.resource_handle_val)
        if len(vals) != n:
            raise UnsupportedError(
                f"{dtype.name} TensorProto with {len(vals)} values for {n} elements", path=path, entry=entry
            )
        out = np.empty(n, object)
        out[:] = vals if n else []
        return out.reshape(shape)

    npdt = dtype.numpy
    if content:
        expected = n * npdt.itemsize
        if len(content) != expected:
            raise DataLossError(
                f"tensor_content has {len(content)} bytes, a {dtype.name} tensor of shape {list(shape)} needs {expected}",
                path=path,
                entry=entry,
            )
        le = npdt.newbyteorder("<") if npdt.kind in "iufc" and npdt.itemsize > 1 else npdt
        return np.frombuffer(content, le).astype(npdt, copy=True).reshape(shape)

    if e in _FLOAT8:
        raw = np.frombuffer(proto.float8_val, np.uint8)
        return _fill(raw, n, np.uint8, path, entry, max_fill_bytes).view(npdt).reshape(shape)

    field, field_dt = _typed_values(proto, dtype)
    values = np.array(field, dtype=field_dt) if len(field) else np.zeros(0, field_dt)
    if e in (_dt.DT_HALF, _dt.DT_BFLOAT16):
        bits = _fill(values.astype(np.uint16), n, np.uint16, path, entry, max_fill_bytes)
        return bits.view(npdt).reshape(shape)
    if e in (_dt.DT_COMPLEX64, _dt.DT_COMPLEX128):
        if len(values) % 2:
            raise DataLossError("complex TensorProto has an odd number of components", path=path, entry=entry)
        pairs = values.reshape(-1, 2)
        m = len(pairs)
        if m >= n:
            flat = pairs[:n]
        else:
            nbytes = n * npdt.itemsize
            if nbytes > max_fill_bytes:
                raise ResourceLimitError(
                    f"TensorProto with {m} values claims {n} elements", path=path, entry=entry
                )
            flat = np.zeros((n, 2), field_dt)
            if m:
                flat[:m] = pairs
                flat[m:] = pairs[-1]
        return np.ascontiguousarray(flat).view(npdt).reshape(shape)
    if e in _INT_VAL:
        # int_val holds every narrow integer type; cast wraps like TF's static_cast.
        return _fill(values, n, np.int64, path, entry, max_fill_bytes).astype(npdt).reshape(shape)
    return _fill(values, n, npdt, path, entry, max_fill_bytes).reshape(shape)


def numpy_to_tensor(array, dtype=None, *, use_tensor_content: bool = True):
    """Encode a numpy array (or scalar / nested list) as a ``TensorProto``.

    Numeric data goes to ``tensor_content`` (little-endian), or to the typed
    ``*_val`` field with ``use_tensor_content=False``.  Strings (object arrays
    of bytes/str, numpy ``S``/``U`` arrays) go to ``string_val``.
    """
    from .proto import pb

    if dtype is not None:
        tfdt = _dt.as_dtype(dtype)
        if tfdt.enum == _dt.DT_STRING:
            arr = np.asarray(array, dtype=object)
        else:
            arr = np.asarray(array, dtype=tfdt.numpy)
    else:
        arr = np.asarray(array)
        tfdt = _dt.from_numpy(arr.dtype)
    proto = pb.TensorProto(dtype=tfdt.enum)
    for d in arr.shape:
        proto.tensor_shape.dim.add(size=int(d))
    e = tfdt.enum
    if e == _dt.DT_STRING:
        items = []
        for v in arr.reshape(-1).tolist():
            if isinstance(v, str):
                v = v.encode("utf-8")
            elif not isinstance(v, (bytes, bytearray)):
                raise InvalidArgumentError(f"string tensors hold bytes or str, not {type(v).__name__}")
            items.append(bytes(v))
        proto.string_val.extend(items)
        return proto
    if tfdt.numpy_name is None:
        raise UnsupportedError(f"cannot encode {tfdt.name} tensors")
    npdt = tfdt.numpy
    if arr.dtype != npdt:
        arr = arr.astype(npdt)
    if use_tensor_content:
        le = npdt.newbyteorder("<") if npdt.kind in "iufc" and npdt.itemsize > 1 else npdt
        proto.tensor_content = np.ascontiguousarray(arr, dtype=le).tobytes()
        return proto
    flat = arr.reshape(-1)
    if e in _FLOAT8:
        proto.float8_val = flat.view(np.uint8).tobytes()
    elif e in (_dt.DT_HALF, _dt.DT_BFLOAT16):
        proto.half_val.extend(flat.view(np.uint16).astype(np.int64).tolist())
    elif e in (_dt.DT_COMPLEX64, _dt.DT_COMPLEX128):
        comp = flat.view(np.float32 if e == _dt.DT_COMPLEX64 else np.float64)
        (proto.scomplex_val if e == _dt.DT_COMPLEX64 else proto.dcomplex_val).extend(comp.tolist())
    else:
        field, _ = _typed_values(proto, tfdt)
        if e in _INT_VAL and npdt.name in ("int4", "uint4", "int2", "uint2"):
            field.extend(flat.astype(np.int64).tolist())
        else:
            field.extend(flat.tolist())
    return proto
