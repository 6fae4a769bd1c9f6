"""Named tensors behind one small interface, whatever file they come from.

``ls``, ``show``, ``diff`` and ``export`` see a :class:`TensorSource`:

- checkpoints (V1/V2) and a SavedModel's ``variables/`` bundle read through
  :class:`tfformats.CheckpointReader`;
- GraphDefs, frozen graphs and MetaGraphs expose their ``Const`` nodes (the
  weights of a frozen graph) by node name, decoded with
  :func:`tfformats.tensor.tensor_to_numpy`;
- Keras ``.h5``/``.weights.h5`` files and ``.keras`` archives expose their
  weights by HDF5 path, read by :mod:`tfformats.keras`;
- tf.data saved datasets expose each component stacked over the elements,
  by its path in the element structure (:mod:`tfformats.dataset`).
"""

from __future__ import annotations

from dataclasses import dataclass

from ._common import input_error
from ._detect import Target


@dataclass
class TensorInfo:
    name: str
    dtype: str  # TF's dtype name ('float32', 'bfloat16', 'string')
    shape: list  # ints
    size: int  # number of elements
    nbytes: int | None  # bytes on disk / in memory (None for strings when unknown)
    kind: str = "tensor"  # 'variable' | 'constant' | 'tensor'
    partitioned: bool = False
    layer: str | None = None  # Keras 3.6+: the name path of the layer holding the weight


class TensorSource:
    """Base interface (see module doc)."""

    kind: str
    path: str

    def names(self) -> list[str]:
        raise NotImplementedError

    def info(self, name: str) -> TensorInfo:
        raise NotImplementedError

    def get(self, name: str):
        raise NotImplementedError

    def get_for_export(self, name: str):
        """The value, zero-copy where the format allows (read-only then)."""
        return self.get(name)

    def get_rows(self, name: str, start: int, stop: int):
        return self.get(name)[start:stop]

    def __contains__(self, name: str) -> bool:
        return name in set(self.names())

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _numel(shape) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n


class CheckpointSource(TensorSource):
    def __init__(self, target: Target, *, verify: bool = True) -> None:
        from ..checkpoint.reader import load_checkpoint

        self.kind = target.kind
        self.path = target.path
        prefix = target.path
        if target.kind == "saved_model":
            from ._detect import file_exists, join_path

            prefix = join_path(target, "variables", "variables")
            if not file_exists(target, prefix + ".index"):
                self.reader = None
                return
        try:
            self.reader = load_checkpoint(prefix, verify_checksums=verify)
        except ImportError as exc:  # the V1 reader module not present in this build
            raise input_error(f"{target.given}: cannot read this checkpoint format here ({exc})") from None

    def names(self) -> list[str]:
        return list(self.reader.keys()) if self.reader is not None else []

    def info(self, name: str) -> TensorInfo:
        r = self.reader
        if r is None or name not in r:
            from ..errors import UnknownTensorError

            raise UnknownTensorError(f"no tensor named {name!r}", path=self.path)
        dtype = r.get_dtype(name)
        shape = list(r.get_shape(name))
        n = _numel(shape)
        nbytes = None
        partitioned = False
        backend = r.backend
        if hasattr(backend, "entry"):
            e = backend.entry(name)
            partitioned = len(e.slices) > 0
            if dtype == "string":
                nbytes = sum(se.size for _, se in backend.slice_entries(name)) if partitioned else e.size
            else:
                nbytes = r.nbytes(name)
        elif dtype != "string":
            nbytes = r.nbytes(name)
        return TensorInfo(name, dtype, shape, n, nbytes, "variable", partitioned)

    def get(self, name: str):
        return self.reader.get_tensor(name)

    def get_for_export(self, name: str):
        r = self.reader
        if r.format == "v2":
            try:
                return r.get_tensor_view(name, verify=r.verify_checksums)
            except Exception:
                pass
        return r.get_tensor(name)

    def get_rows(self, name: str, start: int, stop: int):
        return self.reader.get_slice(name)[start:stop]

    def close(self) -> None:
        if self.reader is not None:
            self.reader.close()


class GraphConstSource(TensorSource):
    """The Const nodes of a GraphDef (top-level graph only), by node name
    (through :func:`tfformats.graph.graph_constants`)."""

    def __init__(self, target: Target) -> None:
        from ..graph import graph_constants
        from ._detect import graph_message

        self.kind = target.kind
        self.path = target.path
        msg = graph_message(target)
        graph = msg.graph_def if target.kind == "meta_graph" else msg
        self._consts = graph_constants(graph, path=target.path)

    def names(self) -> list[str]:
        return self._consts.keys()

    def __contains__(self, name: str) -> bool:
        return name in self._consts

    def info(self, name: str) -> TensorInfo:
        c = self._consts
        shape = c.shape(name)
        if shape is None:
            from ..errors import DataLossError

            raise DataLossError("the constant's TensorProto has an invalid shape", path=self.path, entry=name)
        shape = list(shape)
        return TensorInfo(name, c.dtype(name), shape, _numel(shape), c.nbytes(name), "constant")

    def get(self, name: str):
        return self._consts[name]


class KerasWeightsSource(TensorSource):
    """The datasets of a Keras ``.h5``/``.weights.h5`` file or a ``.keras`` archive's
    ``model.weights.h5``, by HDF5 path (through :func:`tfformats.keras.load_keras_weights`)."""

    def __init__(self, target: Target) -> None:
        from ..keras import load_keras_weights

        self.kind = target.kind
        self.path = target.path
        self.reader = load_keras_weights(target.path)

    def names(self) -> list[str]:
        return list(self.reader)

    def __contains__(self, name: str) -> bool:
        return name in self.reader

    def info(self, name: str) -> TensorInfo:
        if name not in self.reader:
            from ..errors import UnknownTensorError

            raise UnknownTensorError(f"no tensor named {name!r}", path=self.path)
        dtype = self.reader.get_variable_to_dtype_map()[name]
        shape = self.reader.get_variable_to_shape_map()[name]
        n = _numel(shape)
        itemsize = self.reader.itemsize(name)
        return TensorInfo(name, dtype, shape, n, n * itemsize if itemsize else None, "variable",
                          layer=self.reader.layer_of(name))

    def get(self, name: str):
        return self.reader.get_tensor(name)

    def close(self) -> None:
        self.reader.close()


class DatasetSource(TensorSource):
    """The components of a tf.data saved dataset, each stacked over the elements
    (``[num_elements, ...]``), by leaf path (through :mod:`tfformats.dataset`).

    Components that do not stack (shapes varying between elements, ragged or
    sparse values) are left out; ``tfformats info`` lists every component.
    """

    def __init__(self, target: Target, *, verify: bool = True) -> None:
        from ..dataset import load_dataset

        self.kind = target.kind
        self.path = target.path
        self.ds = load_dataset(target.path, verify=verify)
        self._cols = None

    def _columns(self) -> dict:
        if self._cols is None:
            import numpy as np

            self._cols = {k: v for k, v in self.ds.columns().items() if isinstance(v, np.ndarray)}
        return self._cols

    def names(self) -> list[str]:
        return list(self._columns())

    def info(self, name: str) -> TensorInfo:
        cols = self._columns()
        if name not in cols:
            from ..errors import UnknownTensorError

            raise UnknownTensorError(f"no stackable component named {name!r}", path=self.path)
        a = cols[name]
        from ..dtypes import from_numpy

        dtype = dict(self.ds.leaf_specs())[name].dtype if a.dtype == object else from_numpy(a.dtype).name
        return TensorInfo(name, dtype, list(a.shape), int(a.size), None if a.dtype == object else int(a.nbytes), "tensor")

    def get(self, name: str):
        self.info(name)
        return self._cols[name]


def open_tensors(target: Target, *, verify: bool = True) -> TensorSource:
    """A TensorSource for a detected target, or a CLIError for kinds without tensors."""
    if target.kind in ("checkpoint", "checkpoint_v1", "saved_model"):
        return CheckpointSource(target, verify=verify)
    if target.kind in ("graph_def", "frozen_graph", "meta_graph"):
        return GraphConstSource(target)
    if target.kind in ("keras_h5", "keras_archive", "keras_sharded"):
        return KerasWeightsSource(target)
    if target.kind == "tf_dataset":
        return DatasetSource(target, verify=verify)
    what = target.kind.replace("_", " ")
    raise input_error(f"{target.given}: {'an' if what[:1] in 'aeiou' else 'a'} {what} holds no named tensors "
                      "(try 'tfformats info')")
