"""TensorProto <-> numpy against what TensorFlow's C++ decoder returned for the same protos.

tests/data/graphs/consts.pb holds Const nodes of every dtype in both encodings
(tensor_content and the typed *_val fields) plus fill-rule cases; the values
TensorFlow decoded (``tf.io.parse_tensor``, i.e. ``Tensor::FromProto``) are in
consts_values.npz, described by consts.json.
"""

from __future__ import annotations

import json

import ml_dtypes
import numpy as np
import pytest

from conftest import require_data

import tfformats
from tfformats import dtypes as _dt
from tfformats.errors import DataLossError, ResourceLimitError, TFFormatsError, UnsupportedError
from tfformats.graph import read_graph_def
from tfformats.proto import pb
from tfformats.tensor import numpy_to_tensor, tensor_to_numpy

GRAPHS = "graphs"


@pytest.fixture(scope="module")
def consts():
    graph = read_graph_def(require_data(f"{GRAPHS}/consts.pb"))
    info = json.loads(require_data(f"{GRAPHS}/consts.json").read_text())["nodes"]
    values = np.load(require_data(f"{GRAPHS}/consts_values.npz"), allow_pickle=True)
    nodes = {n.name: n for n in graph.node}
    return nodes, info, values


def expected_value(info, values, name):
    stored = values[name.replace("/", "__")]
    as_dtype = info[name]["stored_as"]
    if as_dtype == "object":
        return stored
    if stored.dtype.name != as_dtype:  # ml_dtypes stored as their bits
        return stored.view(getattr(ml_dtypes, as_dtype))
    return stored


def assert_same_values(ours, expected):
    assert ours.shape == expected.shape
    if expected.dtype == object:
        assert ours.dtype == object
        assert list(ours.reshape(-1)) == list(expected.reshape(-1))
    elif expected.dtype.kind == "c":
        np.testing.assert_array_equal(ours, expected)
    else:
        # compare values, not bit patterns (TF keeps int4 -2 from int_val as 0xfe, from bytes as 0x0e)
        np.testing.assert_array_equal(ours.astype(np.float64), expected.astype(np.float64))


def test_fixture_covers_every_dtype_and_encoding(consts):
    _, info, _ = consts
    dtypes = {v["dtype"] for v in info.values()}
    # every dtype TF can hold in a Const, except resource/variant
    expected = {d.name for d in _dt.BY_ENUM.values()} - {"resource", "variant"}
    assert dtypes == expected
    for d in dtypes:
        for case in ("content", "typed", "fill", "zeros", "scalar", "empty"):
            assert f"{d}/{case}" in info, f"{d}/{case}"
        assert info[f"{d}/content"]["encoding"] == "tensor_content"
        assert info[f"{d}/typed"]["encoding"] == "typed"


def test_every_const_decodes_like_tensorflow(consts):
    nodes, info, values = consts
    for name in info:
        ours = tensor_to_numpy(nodes[name].attr["value"].tensor)
        exp = expected_value(info, values, name)
        assert _dt.from_numpy(ours.dtype).name == info[name]["dtype"] or info[name]["dtype"].startswith("q"), name
        try:
            assert_same_values(ours, exp)
        except AssertionError as exc:
            raise AssertionError(f"{name}: {exc}") from None


def test_fill_rule_repeats_the_last_value(consts):
    nodes, info, values = consts
    for dtype in ("float32", "int8", "string", "complex64", "bfloat16", "float8_e4m3fn", "int4", "bool"):
        name = f"{dtype}/fill"
        proto = nodes[name].attr["value"].tensor
        ours = tensor_to_numpy(proto).reshape(-1)
        typed = tensor_to_numpy(nodes[f"{dtype}/typed"].attr["value"].tensor).reshape(-1)
        # two values given for six elements: elements 2.. repeat the second one
        assert_same_values(ours[:2], typed[:2])
        assert_same_values(ours[2:], np.repeat(typed[1:2], 4))
        assert_same_values(ours.reshape(2, 3), expected_value(info, values, name))


def test_no_values_means_zeros_and_empty_strings(consts):
    nodes, _, _ = consts
    assert tensor_to_numpy(nodes["string/zeros"].attr["value"].tensor).tolist() == [[b"", b""], [b"", b""]]
    z = tensor_to_numpy(nodes["float64/zeros"].attr["value"].tensor)
    assert z.shape == (2, 2) and not z.any()


@pytest.mark.parametrize("encoding", ["content", "typed"])
def test_numpy_to_tensor_round_trips_every_dtype(consts, encoding):
    nodes, info, values = consts
    for name in info:
        if not name.endswith("/typed"):
            continue
        dtype = info[name]["dtype"]
        value = expected_value(info, values, name)
        if dtype.startswith("q"):
            continue  # quantized values read as their base integers; encoding them needs the dtype
        proto = numpy_to_tensor(value, dtype=dtype, use_tensor_content=(encoding == "content"))
        assert _dt.name_of(proto.dtype) == dtype
        back = tensor_to_numpy(proto)
        assert_same_values(back, value)


def test_numpy_to_tensor_content_matches_tensorflow_bytes(consts):
    """tensor_content written by TF's C++ equals ours for the same values."""
    nodes, info, values = consts
    checked = 0
    for name in info:
        if not name.endswith("/content") or info[name]["dtype"] in ("string",) or info[name]["dtype"].startswith("q"):
            continue
        proto = nodes[name].attr["value"].tensor
        value = tensor_to_numpy(proto)
        ours = numpy_to_tensor(value, dtype=info[name]["dtype"])
        if info[name]["dtype"] in ("int4", "uint4", "int2", "uint2"):
            continue  # content for these was written by hand in the generator
        assert ours.tensor_content == proto.tensor_content, name
        checked += 1
    assert checked >= 20


def test_quantized_types_read_as_base_integers(consts):
    nodes, info, values = consts
    for q, base in (("qint8", np.int8), ("quint8", np.uint8), ("qint16", np.int16), ("quint16", np.uint16),
                    ("qint32", np.int32)):
        arr = tensor_to_numpy(nodes[f"{q}/content"].attr["value"].tensor)
        assert arr.dtype == base
        assert_same_values(arr, expected_value(info, values, f"{q}/content"))


def test_bytes_input_is_parsed():
    proto = numpy_to_tensor(np.arange(6, dtype=np.int16).reshape(2, 3))
    arr = tensor_to_numpy(proto.SerializeToString())
    np.testing.assert_array_equal(arr, np.arange(6, dtype=np.int16).reshape(2, 3))
    with pytest.raises(DataLossError):
        tensor_to_numpy(b"\xff\xff\xff")


def _huge(dtype_enum, field, value):
    p = pb.TensorProto(dtype=dtype_enum)
    for d in (1000, 1000, 1000, 1000):  # 1e12 elements
        p.tensor_shape.dim.add(size=d)
    if field == "float8_val":
        p.float8_val = value
    else:
        getattr(p, field).append(value)
    return p


@pytest.mark.parametrize(
    "dtype,field,value",
    [
        (_dt.DT_FLOAT, "float_val", 1.5),
        (_dt.DT_INT8, "int_val", 3),
        (_dt.DT_STRING, "string_val", b"x"),
        (_dt.DT_COMPLEX128, "dcomplex_val", 1.0),
        (_dt.DT_BFLOAT16, "half_val", 0x3F80),
        (_dt.DT_FLOAT8_E4M3FN, "float8_val", b"\x38"),
        (_dt.DT_BOOL, "bool_val", True),
    ],
)
def test_tiny_proto_claiming_1e12_elements_raises_without_allocating(dtype, field, value):
    p = _huge(dtype, field, value)
    if dtype == _dt.DT_COMPLEX128:
        p.dcomplex_val.append(2.0)
    with pytest.raises(ResourceLimitError) as exc_info:
        tensor_to_numpy(p)
    assert isinstance(exc_info.value, MemoryError) and isinstance(exc_info.value, TFFormatsError)
    assert "1000000000000" in str(exc_info.value)  # the error names the claim


def test_fill_limit_is_a_parameter():
    p = pb.TensorProto(dtype=_dt.DT_FLOAT)
    p.tensor_shape.dim.add(size=1000)
    p.float_val.append(2.0)
    with pytest.raises(ResourceLimitError):
        tensor_to_numpy(p, max_fill_bytes=100)
    assert tensor_to_numpy(p, max_fill_bytes=4000).sum() == 2000.0


def test_negative_and_unknown_dims_are_data_loss():
    p = pb.TensorProto(dtype=_dt.DT_FLOAT)
    p.tensor_shape.dim.add(size=-1)
    p.float_val.append(1.0)
    with pytest.raises(DataLossError, match="negative"):
        tensor_to_numpy(p, entry="w")
    q = pb.TensorProto(dtype=_dt.DT_FLOAT)
    q.tensor_shape.unknown_rank = True
    with pytest.raises(DataLossError, match="unknown-rank"):
        tensor_to_numpy(q)
    r = pb.TensorProto(dtype=_dt.DT_FLOAT)
    for _ in range(8):
        r.tensor_shape.dim.add(size=1 << 40)
    with pytest.raises(DataLossError, match="overflow"):
        tensor_to_numpy(r)


def test_content_of_the_wrong_size_is_data_loss():
    p = numpy_to_tensor(np.zeros((2, 3), np.float32))
    p.tensor_content = p.tensor_content[:-1]
    with pytest.raises(DataLossError, match="needs 24"):
        tensor_to_numpy(p, path="g.pb", entry="c")


@pytest.mark.parametrize("content", [b"\x05ab", b"\xff\xff\xff\xff\xff\xff", b"\x01\x02ab"])
def test_bad_string_content_is_data_loss(content):
    p = pb.TensorProto(dtype=_dt.DT_STRING)
    p.tensor_shape.dim.add(size=2)
    p.tensor_content = content
    with pytest.raises(DataLossError):
        tensor_to_numpy(p)


def test_unknown_dtype_is_unsupported():
    p = pb.TensorProto(dtype=77)
    with pytest.raises(UnsupportedError):
        tensor_to_numpy(p)


def test_public_names():
    assert tfformats.tensor_to_numpy is tensor_to_numpy
    assert tfformats.numpy_to_tensor is numpy_to_tensor


# -- variants in tensor_content (tf.io.serialize_tensor of TensorLists) -------------------

VARIANT_FILES = ["list_scalar", "list_int64", "list_strings", "list_empty", "list_vector"]


@pytest.fixture(scope="module")
def variant_expected():
    info = json.loads(require_data("tensors/variants.json").read_text())["files"]
    values = np.load(require_data("tensors/variants.npz"), allow_pickle=True)
    return info, values


@pytest.mark.parametrize("name", VARIANT_FILES)
def test_variant_tensor_content_decodes_to_what_tensorflow_reads(name, variant_expected):
    info, values = variant_expected
    data = require_data(f"tensors/{name}.pb").read_bytes()
    proto = pb.TensorProto.FromString(data)
    assert proto.dtype == _dt.DT_VARIANT and proto.tensor_content and not proto.variant_val
    arr = tensor_to_numpy(data)
    want = info[name]
    assert arr.dtype == object and list(arr.shape) == want["shape"]
    assert arr.size == len(want["elements"])
    for i, (element, meta) in enumerate(zip(arr.reshape(-1), want["elements"])):
        assert isinstance(element, pb.VariantTensorDataProto)
        assert element.type_name == "tensorflow::TensorList"
        assert len(element.tensors) == meta["length"]
        expected = values[f"{name}/{i}/values"]
        got = [tensor_to_numpy(t) for t in element.tensors]
        for t in element.tensors:
            assert _dt.from_enum(t.dtype).name == meta["element_dtype"]
        if got:
            stacked = np.stack(got)
            assert stacked.dtype == expected.dtype
            np.testing.assert_array_equal(stacked, expected)
        else:
            assert expected.shape[0] == 0


def test_variant_content_and_variant_val_give_the_same_objects():
    proto = pb.TensorProto.FromString(require_data("tensors/list_vector.pb").read_bytes())
    from_content = tensor_to_numpy(proto)
    other = pb.TensorProto(dtype=_dt.DT_VARIANT, tensor_shape=proto.tensor_shape)
    other.variant_val.extend(from_content.reshape(-1).tolist())
    from_val = tensor_to_numpy(other)
    assert [a.SerializeToString() for a in from_content] == [b.SerializeToString() for b in from_val]


def _variant_proto(n, content):
    p = pb.TensorProto(dtype=_dt.DT_VARIANT)
    p.tensor_shape.dim.add(size=n)
    p.tensor_content = content
    return p


@pytest.mark.parametrize(
    "n, content, match",
    [
        (2, b"\x05ab", "add up"),  # lengths run past the bytes
        (10**12, b"\x00" * 8, "cannot hold 1000000000000"),  # a huge count is refused before any allocation
        (1, b"\xff\xff\xff\xff\xff\xff", "bad variant length"),  # varint32 overflow
        (1, b"\x80", "bad variant length"),  # truncated varint
        (1, b"\x02ab\x00", "add up"),  # trailing bytes
        (1, b"\x03\x0a\x05a", "not a VariantTensorDataProto"),  # field 1 claims 5 bytes, has 1
        (2, b"\x7f\x7f", "add up"),
    ],
)
def test_hostile_variant_tensor_content_is_data_loss(n, content, match):
    with pytest.raises(DataLossError, match=match) as info:
        tensor_to_numpy(_variant_proto(n, content), path="t.pb", entry="v")
    assert "t.pb" in str(info.value) and "entry 'v'" in str(info.value)


def test_damaged_serialized_list_is_data_loss():
    data = bytearray(require_data("tensors/list_scalar.pb").read_bytes())
    proto = pb.TensorProto.FromString(bytes(data))
    proto.tensor_content = proto.tensor_content[:-3]
    with pytest.raises(DataLossError):
        tensor_to_numpy(proto)
