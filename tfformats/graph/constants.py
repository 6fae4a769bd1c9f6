"""The ``Const`` tensors of a graph as a read-only ``Mapping[str, numpy.ndarray]``.

In a frozen graph the weights are ``Const`` nodes whose ``value`` attribute
holds a TensorProto; this mapping reads them the way a checkpoint reader reads
variables: keys are node names, values are decoded on access (nothing is
decoded up front, nothing is cached), and dtype/shape/size come from the
proto without decoding.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Iterator

import numpy as np

from .. import dtypes as _dt
from ..errors import DataLossError, UnknownTensorError
from .nodes import num_elements, tensor_proto_shape

__all__ = ["GraphConstants", "graph_constants", "CONST_OPS"]

CONST_OPS = frozenset({"Const", "HostConst"})


class GraphConstants(Mapping):
    """``{node name: numpy array}`` for every ``Const`` node of a graph.

    ``dtype(name)``, ``shape(name)`` and ``nbytes(name)`` answer without
    decoding; ``list_variables()`` gives sorted ``(name, shape)`` pairs like a
    checkpoint reader.  A node whose ``dtype`` attribute disagrees with its
    tensor's dtype (a tampered graph) raises ``DataLossError`` on access.
    """

    def __init__(self, graph_def, *, path=None, max_fill_bytes: int | None = None) -> None:
        from .io import coerce_message
        from ..proto import pb

        graph_def = coerce_message(graph_def, pb.GraphDef, what="graph_constants")
        self.path = path
        self._max_fill = max_fill_bytes
        self._nodes = {}
        for node in graph_def.node:
            if node.op in CONST_OPS and "value" in node.attr and node.attr["value"].WhichOneof("value") == "tensor":
                self._nodes[node.name] = node
        self._names = sorted(self._nodes)

    def _node(self, name: str):
        node = self._nodes.get(name) if isinstance(name, str) else None
        if node is None:
            raise UnknownTensorError(f"no Const node named {name!r} in the graph", path=self.path)
        return node

    def tensor_proto(self, name: str):
        """The node's raw ``TensorProto``."""
        return self._node(name).attr["value"].tensor

    def dtype(self, name: str) -> str:
        """TF's dtype name (``'float32'``...) of the constant."""
        return _dt.name_of(self.tensor_proto(name).dtype)

    def shape(self, name: str) -> tuple[int, ...] | None:
        """The constant's shape, or None if the proto's shape is invalid."""
        return tensor_proto_shape(self.tensor_proto(name))

    def num_elements(self, name: str) -> int | None:
        return num_elements(self.shape(name))

    def nbytes(self, name: str) -> int | None:
        """Bytes of the decoded numeric value (None for strings/variants or bad shapes)."""
        t = self.tensor_proto(name)
        n = num_elements(tensor_proto_shape(t))
        d = _dt.BY_ENUM.get(_dt.base_enum(t.dtype))
        if n is None or d is None or d.itemsize == 0:
            return None
        return n * d.itemsize

    def list_variables(self) -> list[tuple[str, list[int] | None]]:
        """Sorted ``(name, shape)`` pairs, like ``tf.train.list_variables`` on a checkpoint."""
        return [(n, (list(s) if (s := self.shape(n)) is not None else None)) for n in self._names]

    def get_tensor(self, name: str) -> np.ndarray:
        """The constant's value as a new numpy array."""
        from ..tensor import DEFAULT_MAX_FILL_BYTES, tensor_to_numpy

        node = self._node(name)
        t = node.attr["value"].tensor
        if "dtype" in node.attr and node.attr["dtype"].WhichOneof("value") == "type":
            want = _dt.base_enum(node.attr["dtype"].type)
            if want != _dt.base_enum(t.dtype):
                raise DataLossError(
                    f"Const node's dtype attribute is {_dt.name_of(want)} but its value is a "
                    f"{_dt.name_of(t.dtype)} tensor",
                    path=self.path,
                    entry=name,
                )
        limit = self._max_fill if self._max_fill is not None else DEFAULT_MAX_FILL_BYTES
        return tensor_to_numpy(t, path=self.path, entry=name, max_fill_bytes=limit)

    # -- Mapping ---------------------------------------------------------------
    def __getitem__(self, name: str) -> np.ndarray:
        return self.get_tensor(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._nodes

    def keys(self):
        return list(self._names)

    def total_elements(self) -> int:
        """Elements in every constant with a valid shape."""
        return sum(n for name in self._names if (n := self.num_elements(name)) is not None)

    def __repr__(self) -> str:
        where = f" from {self.path!r}" if self.path else ""
        return f"<tfformats GraphConstants{where}: {len(self)} constants, {self.total_elements()} elements>"


def graph_constants(graph_def, *, path=None, max_fill_bytes: int | None = None) -> GraphConstants:
    """The ``Const`` nodes of a graph as a ``Mapping[str, numpy.ndarray]``.

    ``graph_def`` is a GraphDef (tfformats' or TensorFlow's), a MetaGraphDef
    (its graph is used), or a ``.pb``/``.pbtxt``/``.meta`` file (a path, an
    fsspec URL or an open binary file).
    Values are decoded lazily with :func:`tfformats.tensor_to_numpy`.
    """
    from ..proto import pb
    import os

    from .io import _file_object_name, _is_file_object, read_graph_file

    if isinstance(graph_def, (str, os.PathLike)) or _is_file_object(graph_def):
        if path is None:
            path = _file_object_name(graph_def) if _is_file_object(graph_def) else os.fspath(graph_def)
        graph_def = read_graph_file(graph_def)
    desc = getattr(graph_def, "DESCRIPTOR", None)
    if desc is not None and desc.full_name == "tensorflow.MetaGraphDef":
        graph_def = graph_def.graph_def
    return GraphConstants(graph_def, path=path, max_fill_bytes=max_fill_bytes)
