"""Small helpers over NodeDefs: input names, dtype and shape attributes.

NodeDef inputs are strings: ``"node"`` (output 0), ``"node:1"`` (output 1),
``"^node"`` (a control dependency).  Inside a FunctionDef body they read
``"arg"`` (a function argument) or ``"node:out_name:0"``.
"""

from __future__ import annotations

from .. import dtypes as _dt

__all__ = [
    "node_name",
    "is_control_input",
    "output_index",
    "attr_dtype",
    "attr_shape",
    "tensor_proto_shape",
    "num_elements",
    "DTYPE_ATTRS",
]

# Attributes that usually carry a node's (first) output dtype.
DTYPE_ATTRS = ("dtype", "T", "out_type", "output_type", "DstT", "Tout", "type")


def node_name(inp: str) -> str:
    """The node an input string refers to (``"^a"``, ``"a:1"`` -> ``"a"``)."""
    if inp.startswith("^"):
        inp = inp[1:]
    i = inp.find(":")
    return inp if i < 0 else inp[:i]


def is_control_input(inp: str) -> bool:
    return inp.startswith("^")


def output_index(tensor: str) -> int:
    """The output index of a top-level tensor name (``"a:2"`` -> 2, ``"a"`` -> 0).

    An index no graph can have (over 18 digits) reads as -1, matching no output.
    """
    _, sep, idx = tensor.rpartition(":")
    if sep and idx.isdecimal():
        return int(idx) if len(idx) <= 18 else -1
    return 0


def attr_dtype(node, names=DTYPE_ATTRS) -> str | None:
    """TF's name of the first dtype found in ``names`` attrs (``'float32'``), or None."""
    for a in names:
        if a in node.attr:
            v = node.attr[a]
            kind = v.WhichOneof("value")
            if kind == "type":
                return _dt.name_of(v.type) if v.type else None
            if kind == "list" and v.list.type:
                return _dt.name_of(v.list.type[0])
    return None


def shape_list(shape_proto) -> list | None:
    """A TensorShapeProto as a list (None for unknown dims), or None for unknown rank."""
    if shape_proto.unknown_rank:
        return None
    return [None if d.size < 0 else int(d.size) for d in shape_proto.dim]


def attr_shape(node, names=("shape",)) -> list | None:
    """The shape in the first of ``names`` attrs, else the first ``_output_shapes`` entry.

    ``None`` means unknown (no attribute, or unknown rank).
    """
    for a in names:
        if a in node.attr and node.attr[a].WhichOneof("value") == "shape":
            return shape_list(node.attr[a].shape)
    if "_output_shapes" in node.attr:
        shapes = node.attr["_output_shapes"].list.shape
        if shapes:
            return shape_list(shapes[0])
    return None


def tensor_proto_shape(tensor) -> tuple[int, ...] | None:
    """The shape of a TensorProto, or None if it is invalid (unknown rank, negative dims)."""
    if tensor.tensor_shape.unknown_rank:
        return None
    dims = tuple(int(d.size) for d in tensor.tensor_shape.dim)
    if any(d < 0 for d in dims):
        return None
    return dims


def num_elements(shape) -> int | None:
    """Product of a fully known shape; None if any dim (or the rank) is unknown."""
    if shape is None:
        return None
    n = 1
    for d in shape:
        if d is None or d < 0:
            return None
        n *= int(d)
    return n
