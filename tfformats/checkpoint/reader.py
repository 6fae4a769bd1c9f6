"""``load_checkpoint`` and the reader it returns, mirroring ``tf.train``."""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Mapping
from typing import Iterator

from .._lazy import lazy_module

np = lazy_module("numpy")

from .._io.source import is_remote
from ..errors import InvalidArgumentError, NotFoundError, TFFormatsError, UnsupportedError
from . import bundle as _bundle
from . import state as _state

OBJECT_GRAPH_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH"
_DATA_SUFFIX = re.compile(r"\.data-\d{5}-of-\d{5}$")
_V1_SHARD = re.compile(r"-\d{5}-of-\d{5}$")


def _resolve(path) -> tuple[str, str]:
    """``(kind, prefix_or_pattern)`` where kind is 'v2' or 'v1'."""
    p = os.fspath(path)
    if isinstance(p, bytes):
        p = os.fsdecode(p)
    if is_remote(p):
        from . import _remote

        return "v2", _remote.resolve(p)
    if os.path.isdir(p):
        prefix = _state.latest_checkpoint(p)
        if prefix is None:
            # Not a training directory: a SavedModel, or a folder with one checkpoint.
            sm = os.path.join(p, "variables", "variables")
            if os.path.isfile(sm + ".index"):
                return "v2", sm
            indexes = sorted(glob.glob(os.path.join(glob.escape(p), "*.index")))
            if len(indexes) == 1:
                return "v2", indexes[0][: -len(".index")]
            if _state.get_checkpoint_state(p) is not None:
                raise NotFoundError("the checkpoint state file names a checkpoint that does not exist", path=p)
            raise NotFoundError("no checkpoint state file and no single checkpoint in the directory", path=p)
        p = prefix
    if p.endswith(".index") and os.path.isfile(p):
        return "v2", p[: -len(".index")]
    m = _DATA_SUFFIX.search(p)
    if m and os.path.isfile(p):
        return "v2", p[: m.start()]
    if os.path.isfile(p + ".index"):
        return "v2", p
    if os.path.isfile(p):
        return "v1", p
    if any(c in p for c in "*?[") and glob.glob(p):
        return "v1", p  # a glob the caller wrote
    if glob.glob(glob.escape(p) + "-?????-of-?????"):  # a prefix (whose folder may hold "[" or "*")
        return "v1", glob.escape(p) + "-?????-of-?????"
    raise NotFoundError("no checkpoint at this path (looked for PATH.index, a V1 file and a directory)", path=p)


class CheckpointReader(Mapping):
    """A checkpoint opened for reading: TF's ``CheckpointReader`` API and a
    read-only ``Mapping[str, numpy.ndarray]``.

    ``verify_checksums`` (default True) checks each tensor's CRC32C as it is
    read; turn it off to trade that check for speed.
    """

    def __init__(self, path, *, verify_checksums: bool = True) -> None:
        self.verify_checksums = verify_checksums
        kind, target = _resolve(path)
        self.format = kind
        if kind == "v2":
            self._backend = _bundle.BundleReader(target)
        else:
            from . import v1

            self._backend = v1.V1Reader(target)
        self.prefix = target
        self._object_graph = None

    # -- tf.train.CheckpointReader API ---------------------------------------
    def _all_info(self) -> dict:
        all_info = getattr(self._backend, "all_info", None)
        if all_info is not None:
            return all_info()
        return {n: self._backend.info(n) for n in self._backend.names()}

    def list_variables(self) -> list[tuple[str, list[int]]]:
        """Sorted ``(name, shape)`` pairs, like ``tf.train.list_variables``."""
        return [(n, list(shape)) for n, (_, shape) in self._all_info().items()]

    def get_variable_to_shape_map(self) -> dict[str, list[int]]:
        return {n: list(shape) for n, (_, shape) in self._all_info().items()}

    def get_variable_to_dtype_map(self) -> dict[str, str]:
        """Names to dtype names as TF spells them (``'float32'``, ``'bfloat16'``...)."""
        return {n: dtype.name for n, (dtype, _) in self._all_info().items()}

    def has_tensor(self, name: str) -> bool:
        return isinstance(name, str) and name in self._backend

    def get_tensor(self, name: str) -> np.ndarray:
        """The tensor's value as an owned, writable numpy array.

        Partitioned variables are assembled from their slices; strings come
        back as an ``object`` array of ``bytes``.
        """
        if not isinstance(name, str):
            raise InvalidArgumentError(f"tensor names are strings, not {type(name).__name__}")
        return self._backend.read(name, verify=self.verify_checksums)

    def get_tensors(self, names, *, max_workers: int = 8) -> dict[str, np.ndarray]:
        """Several tensors, ``{name: array}`` in the order given.

        Reads run on a pool of ``max_workers`` threads, so the range requests
        of a remote checkpoint go out concurrently.
        """
        names = list(names)
        for name in names:
            if not isinstance(name, str):
                raise InvalidArgumentError(f"tensor names are strings, not {type(name).__name__}")
        if max_workers <= 1 or len(names) <= 1 or self.format != "v2":
            return {n: self.get_tensor(n) for n in names}
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(min(max_workers, len(names)), thread_name_prefix="tfformats-read") as pool:
            arrays = list(pool.map(self.get_tensor, names))
        return dict(zip(names, arrays))

    def get_tensor_view(self, name: str, *, verify: bool = False) -> np.ndarray:
        """A zero-copy read-only view of a numeric tensor in a local V2 shard.

        The view stays valid while the reader is open.  CRC is not checked
        unless ``verify=True`` (which reads every byte once).
        """
        if self.format != "v2":
            raise UnsupportedError("zero-copy views need a V2 checkpoint", path=self.prefix, entry=name)
        return self._backend.view(name, verify=verify)

    def get_slice(self, name: str) -> "TensorSlicer":
        """A lazy handle: ``reader.get_slice("emb")[1000:2000]`` reads only those rows."""
        if not isinstance(name, str):
            raise InvalidArgumentError(f"tensor names are strings, not {type(name).__name__}")
        if name not in self._backend:
            from ..errors import UnknownTensorError

            raise UnknownTensorError(f"no tensor named {name!r} in the checkpoint", path=self.prefix)
        return TensorSlicer(self, name)

    def get_dtype(self, name: str) -> str:
        return self._backend.info(name)[0].name

    def get_shape(self, name: str) -> tuple[int, ...]:
        return tuple(self._backend.info(name)[1])

    @property
    def object_graph(self):
        """The TF2 object graph (:class:`~tfformats.checkpoint.object_graph.ObjectGraph`), or None."""
        if self._object_graph is None and OBJECT_GRAPH_KEY in self._backend:
            from .object_graph import ObjectGraph

            raw = self.get_tensor(OBJECT_GRAPH_KEY)
            self._object_graph = ObjectGraph.from_bytes(raw.reshape(-1)[0] if raw.size else b"", path=self.prefix)
        return self._object_graph

    @property
    def num_shards(self) -> int:
        return getattr(self._backend, "num_shards", 1)

    @property
    def backend(self):
        """The format-level reader (:class:`~tfformats.checkpoint.bundle.BundleReader` for V2)."""
        return self._backend

    def nbytes(self, name: str) -> int:
        dtype, shape = self._backend.info(name)
        n = int(np.prod(shape, dtype=np.int64)) if shape else 1
        return n * dtype.itemsize

    # -- Mapping -------------------------------------------------------------
    def __getitem__(self, name: str) -> np.ndarray:
        return self.get_tensor(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._backend.names())

    def __len__(self) -> int:
        return len(self._backend.names())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._backend

    def keys(self):  # a list-like, sorted keys view is what users expect
        return self._backend.names()

    # -- lifetime ------------------------------------------------------------
    def close(self) -> None:
        self._backend.close()

    def __enter__(self) -> "CheckpointReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        n = len(self._backend.names())
        shards = f", {self.num_shards} shard{'s' if self.num_shards != 1 else ''}" if self.format == "v2" else ""
        return f"<tfformats CheckpointReader {self.prefix!r}: {self.format.upper()}, {n} tensors{shards}>"


class TensorSlicer:
    """``reader.get_slice(name)[...]``: reads only the rows it needs along axis 0."""

    def __init__(self, reader: CheckpointReader, name: str) -> None:
        self._reader = reader
        self.name = name
        dtype, shape = reader._backend.info(name)
        self.dtype = dtype.numpy
        self.tf_dtype = dtype.name
        self.shape = tuple(shape)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a scalar tensor")
        return self.shape[0]

    def __array__(self, dtype=None, copy=None):
        a = self._reader.get_tensor(self.name)
        return a.astype(dtype) if dtype is not None else a

    def __getitem__(self, key):
        backend = self._reader._backend
        if not self.shape or not hasattr(backend, "read_rows"):
            return self._reader.get_tensor(self.name)[key]
        first, rest = (key[0], key[1:]) if isinstance(key, tuple) else (key, ())
        if first is Ellipsis:
            return self._reader.get_tensor(self.name)[key]
        n = self.shape[0]
        if isinstance(first, (int, np.integer)):
            i = int(first)
            if i < -n or i >= n:
                raise IndexError(f"index {i} is out of bounds for axis 0 with size {n}")
            i %= n
            rows = backend.read_rows(self.name, i, i + 1, verify=self._reader.verify_checksums)
            return rows[(0,) + tuple(rest)]
        if isinstance(first, slice):
            start, stop, step = first.indices(n)
            if step > 0:
                lo, hi = start, max(start, stop)
                rows = backend.read_rows(self.name, lo, hi, verify=self._reader.verify_checksums)
                return rows[(slice(0, hi - lo, step),) + tuple(rest)]
        return self._reader.get_tensor(self.name)[key]

    def __repr__(self) -> str:
        return f"<tfformats TensorSlicer {self.name!r}: shape {self.shape}, dtype {self.tf_dtype}>"


def load_checkpoint(path, *, verify_checksums: bool = True) -> CheckpointReader:
    """Open a checkpoint: a prefix, an ``.index`` or ``.data-*`` file, a V1
    file or pattern, or a directory with a ``checkpoint`` state file."""
    return CheckpointReader(path, verify_checksums=verify_checksums)


def list_variables(path) -> list[tuple[str, list[int]]]:
    """Sorted ``(name, shape)`` pairs of every variable, like ``tf.train.list_variables``."""
    with load_checkpoint(path) as r:
        return r.list_variables()


def load_variable(path, name: str) -> np.ndarray:
    """One tensor's value, like ``tf.train.load_variable``."""
    if name.endswith(":0"):
        name = name[:-2]
    with load_checkpoint(path) as r:
        return r.get_tensor(name)
