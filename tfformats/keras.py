"""Keras weights without Keras, h5py or libhdf5.

:func:`load_keras_weights` opens the files Keras saves weights in and reads
them as numpy arrays, with the same reader API as a checkpoint
(:func:`tfformats.load_checkpoint`):

- ``.h5`` files of Keras 1/2 and tf_keras: ``model.save("m.h5")`` (weights
  under ``model_weights/``, optimizer state under ``optimizer_weights/``) and
  ``model.save_weights("w.h5")`` (layers at the root), Keras 3's legacy
  ``.h5`` saving, and Keras 2.12's ``model.save("m.keras")`` without
  ``save_format`` (HDF5 despite the name);
- Keras 3 (and tf_keras v3) ``.keras`` archives, whose ``model.weights.h5``
  is read inside the zip, and ``.weights.h5`` files (``layers/<name>/vars/0``,
  ``optimizer/vars/0``);
- Keras 3 sharded weights, ``model.save_weights("m.weights.json",
  max_shard_size=...)``: the JSON index and the ``.weights.h5`` shards it
  names beside it, read as one set of weights.

Tensor names are the datasets' paths in the HDF5 file, as h5py names them
(``model_weights/dense/dense/kernel:0``, ``layers/dense/vars/0``); every
dataset of the file is listed.  The HDF5 structures are parsed by
:mod:`tfformats._io.hdf5` (contiguous and compact datasets of integers,
floats, bfloat16, bools and fixed-length strings, in groups indexed by symbol
tables or link messages: what h5py writes for Keras); anything else is
listed and raises :class:`~tfformats.errors.UnsupportedError` when read.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Mapping

from .errors import ChecksumError, DataLossError, InvalidArgumentError, NotFoundError, UnknownTensorError, UnsupportedError

__all__ = ["KerasWeights", "load_keras_weights"]

_WEIGHTS_MEMBER = "model.weights.h5"
_INDEX_LIMIT = 64 << 20  # a sharded-weights index (JSON) read whole


class KerasWeights(Mapping):
    """The weights of a Keras file: ``tf.train.CheckpointReader``'s API and a read-only
    ``Mapping[str, numpy.ndarray]`` (see the module doc for names)."""

    def __init__(self, path, *, verify_checksums: bool = True) -> None:
        f, size, owns, p = _open(path)
        self.path = p
        self.verify_checksums = bool(verify_checksums)
        self._closed = False
        self._member_crc = None  # (start, end, stored CRC-32, member) of a .keras archive's weights
        self._file, self._owns = f, owns
        self._parts: list = []  # HDF5File per shard
        self._datasets: dict = {}  # name -> Dataset
        self._part_of: dict = {}  # name -> index in _parts
        self._extra_files: list = []  # shard files opened beside an index
        self._layer_index: tuple | None = None  # layer_of(): (layer_names(), paths of Functional models)
        try:
            head = f.read(64)
            if head[:4] == b"PK\x03\x04":
                self.format = "keras_v3"
                self._open_archive(f, size, p)
            elif head.lstrip()[:1] == b"{":
                self.format = "keras_v3_sharded"
                if not isinstance(path, (str, os.PathLike)):
                    raise InvalidArgumentError("a sharded-weights index given as an open file: pass its path, so "
                                               "the shards beside it can be found")
                if size > _INDEX_LIMIT:
                    raise DataLossError(f"a weights index of {size} bytes (more than {_INDEX_LIMIT})", path=p)
                f.seek(0)
                self._open_shards(p, f.read(size))
            else:
                self.format = "h5"
                self._add_part(f, 0, size, p, size)
        except BaseException:
            self.close()
            raise
        from ._io.hdf5 import _natural

        self._datasets = dict(sorted(self._datasets.items(), key=lambda kv: _natural(kv[0])))

    def _add_part(self, f, start: int, end: int, name: str, size: int) -> None:
        from ._io.hdf5 import HDF5File

        part = HDF5File(f, start=start, end=end, name=name, size=size, owns=False)
        self._parts.append(part)
        for d in part.datasets():
            if d.name in self._datasets:
                raise DataLossError(f"dataset {d.name!r} is in two weight shards", path=name)
            self._datasets[d.name] = d
            self._part_of[d.name] = len(self._parts) - 1

    def _open_archive(self, f, size: int, p: str) -> None:
        """A ``.keras`` zip: its ``model.weights.h5``, read in place."""
        members = _zip_members(f, p)
        if _WEIGHTS_MEMBER not in members:
            if "model.weights.npz" in members:
                raise UnsupportedError("the archive keeps its weights in model.weights.npz (Keras' weights_format="
                                       "'npz'); tfformats reads model.weights.h5", path=p)
            raise NotFoundError(f"the archive holds no {_WEIGHTS_MEMBER} (a .keras file keeps its weights there)",
                                path=p)
        info = members[_WEIGHTS_MEMBER]
        start, end = _member_range(f, size, p, info)
        self._member_crc = (start, end, info.CRC & 0xFFFFFFFF, _WEIGHTS_MEMBER)
        self._add_part(f, start, end, f"{p}!{_WEIGHTS_MEMBER}", size)

    def _open_shards(self, p: str, data: bytes) -> None:
        """A Keras 3 sharded-weights index (``model.weights.json``) and the shards beside it."""
        for shard in _shard_names(data, p):
            f, size, owns, name = _open(_sibling(p, shard))
            if owns:
                self._extra_files.append(f)
            self._add_part(f, 0, size, name, size)

    # -- tf.train.CheckpointReader API
    def list_variables(self) -> list[tuple[str, list[int]]]:
        """Sorted ``(name, shape)`` pairs."""
        return [(n, list(d.shape)) for n, d in self._datasets.items()]

    def get_variable_to_shape_map(self) -> dict[str, list[int]]:
        return {n: list(d.shape) for n, d in self._datasets.items()}

    def get_variable_to_dtype_map(self) -> dict[str, str]:
        """Names to dtype names as TF spells them (``'float32'``, ``'bool'``, ``'string'``...);
        a type this reader does not decode is named as HDF5 describes it."""
        return {n: d.type_name for n, d in self._datasets.items()}

    def _name(self, name: str) -> str:
        """``name``, or it without its leading ``/`` (an absolute HDF5 path, as h5py and Keras'
        sharded index write them) when only that form is a dataset."""
        if name not in self._datasets and name.startswith("/") and name.lstrip("/") in self._datasets:
            return name.lstrip("/")
        return name

    def has_tensor(self, name: str) -> bool:
        return isinstance(name, str) and self._name(name) in self._datasets

    def get_tensor(self, name: str):
        """The dataset's value as an owned, writable numpy array (``/``-led absolute paths too)."""
        if not isinstance(name, str):
            raise InvalidArgumentError(f"tensor names are strings, not {type(name).__name__}")
        if self._closed and self._owns:
            raise InvalidArgumentError("the Keras weights reader is closed (read values inside its 'with' block)",
                                       path=self.path)
        name = self._name(name)
        ds = self._datasets.get(name)
        if ds is None:
            raise UnknownTensorError(f"no dataset named {name!r}", path=self.path)
        if self._member_crc is not None and self.verify_checksums:
            self.verify_archive()
        return self._parts[self._part_of[name]].read(ds)

    def verify_archive(self) -> None:
        """Check the zip CRC-32 of a ``.keras`` archive's ``model.weights.h5`` (reads the member once).

        HDF5 keeps no checksums over values, and values are read in place inside
        the zip, so the member's CRC-32 is the one check of every weight byte;
        :meth:`get_tensor` runs this before the first value it returns unless
        the reader was opened with ``verify_checksums=False`` (which spares
        reading the whole member, say for one tensor of a remote archive).
        Raises :class:`~tfformats.errors.ChecksumError`; nothing to do for
        other formats.
        """
        if self._member_crc is None:
            return
        import zlib

        start, end, want, member = self._member_crc
        crc = 0
        pos = start
        f = self._file
        try:
            f.seek(start)
            while pos < end:
                chunk = f.read(min(8 << 20, end - pos))
                if not chunk:
                    break
                crc = zlib.crc32(chunk, crc)
                pos += len(chunk)
        except (OSError, ValueError) as exc:
            raise DataLossError(f"reading {member} failed: {exc}", path=self.path, offset=pos) from None
        if pos != end:
            raise DataLossError(f"{member} ends early", path=self.path, offset=pos)
        if crc != want:
            raise ChecksumError(
                f"{member}: zip CRC-32 mismatch (stored 0x{want:08x}, computed 0x{crc:08x}): the archive is damaged",
                path=self.path,
            )
        self._member_crc = None  # checked once

    def layer_names(self) -> dict[str, str]:
        """``{group path: Keras name}`` of the layers (and the model, at ``""``, and the
        optimizer) as Keras 3.6 and later record them: ``{"layers/conv2d": "block1_conv"}``.

        A Keras 3 file lays weights out by layer *class* (``layers/conv2d_3/vars/0``),
        numbered in model order; the name each layer was given is kept only in a
        ``name`` attribute of its ``vars`` group, which this returns.  Empty for
        files written by Keras before 3.6, Keras 2 / tf_keras ``.h5`` files (whose
        groups are already named after the layers) or anything else.
        """
        out: dict = {}
        for part in self._parts:
            for path, label in part.object_names().items():
                out.setdefault(path, label)
        return out

    def layer_of(self, name: str) -> str | None:
        """The Keras name path of the layer holding weight ``name``, from :meth:`layer_names`:
        what Keras 3 prefixes the variable's ``path`` with.

        The names of the layers it is nested in are joined by ``/``, and of the
        models it is in, as Keras names variables when it builds them: a
        Sequential or subclassed model puts its name in front
        (``seq/dense_1/kernel``), a Functional model does not, nor does anything
        around it (its layers were built before it was nested).  So
        ``layers/multi_head_attention/query_dense/vars/0`` of a Functional model
        gives ``"mha/query"`` (Keras: ``mha/query/kernel``).  A Functional model is
        recognized by the InputLayer among its layers.  ``None`` when the file
        records no name for the layer right above the weight.
        """
        name = self._name(name)
        if name not in self._datasets:
            raise UnknownTensorError(f"no dataset named {name!r}", path=self.path)
        if self._layer_index is None:
            names = self.layer_names()
            functional = set()  # the models with an InputLayer among their layers: <model>/layers/input_layer*
            for key in names:
                head, _, last = key.rpartition("/")
                if last.startswith("input_layer") and (head == "layers" or head.endswith("/layers")):
                    functional.add(head[: -len("layers")].rstrip("/"))
            self._layer_index = (names, functional)
        names, functional = self._layer_index
        owner, _, _ = name.rpartition("/vars/")
        if not owner or owner not in names:
            return None
        parts, path = [], owner
        outside = owner == "optimizer" or owner.startswith("optimizer/")  # not built inside the model
        while True:
            if not path and outside:
                break
            if path in names:
                if path in functional and path != owner:
                    break  # a Functional model: its layers' paths start below it
                parts.append(names[path])
            if not path:
                break
            path = path.rpartition("/")[0]
        return "/".join(reversed(parts))

    def itemsize(self, name: str) -> int | None:
        """Bytes per value of a dataset (None when its type is not decoded)."""
        d = self._datasets[name]
        return d.dtype.itemsize if d.dtype is not None else None

    def unreadable(self) -> dict[str, str]:
        """``{name: why}`` of the datasets this reader lists but cannot return."""
        return {n: d.problem for n, d in self._datasets.items() if d.problem}

    # -- Mapping
    def __getitem__(self, name: str):
        return self.get_tensor(name)

    def __iter__(self):
        return iter(self._datasets)

    def __len__(self) -> int:
        return len(self._datasets)

    def __contains__(self, name) -> bool:
        return self.has_tensor(name)

    @property
    def files(self) -> list[str]:
        """The HDF5 files read: one, or each shard (``archive!member`` inside a zip)."""
        return [part.path for part in self._parts]

    def close(self) -> None:
        self._closed = True
        for f in self._extra_files:
            f.close()
        self._extra_files = []
        if self._owns:
            self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        shards = f" in {len(self._parts)} shards" if len(self._parts) > 1 else ""
        return f"<tfformats KerasWeights {self.path!r} ({self.format}): {len(self)} tensors{shards}>"


def load_keras_weights(path, *, verify_checksums: bool = True) -> KerasWeights:
    """Open a Keras ``.h5``, ``.weights.h5`` or ``.keras`` file's weights (see the module doc):
    a path, an fsspec URL (``gs://``, ``s3://``, ``https://``... with the ``remote`` extra) or
    an open, seekable binary file (left open).  ``verify_checksums``: a ``.keras`` archive's
    zip CRC-32 over ``model.weights.h5`` is checked before the first value is returned
    (:meth:`KerasWeights.verify_archive`); HDF5 itself has no checksums."""
    return KerasWeights(path, verify_checksums=verify_checksums)


def _open(path):
    """``(binary file, size, owned, name)`` for a local path, an fsspec URL (read through a
    block cache: the HDF5 walk makes many small reads near each other) or an open binary
    file (left open)."""
    from ._io.source import is_remote

    if hasattr(path, "read") and hasattr(path, "seek"):
        try:
            size = path.seek(0, os.SEEK_END)
            path.seek(0)
        except (OSError, ValueError) as exc:
            raise InvalidArgumentError(f"Keras weights need a seekable file ({exc})") from None
        return path, size, False, str(getattr(path, "name", "<file>"))
    p = os.fspath(path)
    if is_remote(p):
        from ._io import remote

        fs, rpath = remote.url_to_fs(p)
        try:
            size = int(fs.size(rpath))
            return fs.open(rpath, "rb", cache_type="blockcache", block_size=1 << 20), size, True, p
        except Exception as exc:
            raise remote._wrap(exc, p, "opening the file") from None
    if p.startswith("file://"):
        p = p[len("file://") :]
    if os.path.isdir(p):
        # Keras 3 model.save(folder, zipped=False): the archive's members, unzipped
        inner = os.path.join(p, _WEIGHTS_MEMBER)
        if not os.path.isfile(inner):
            raise NotFoundError(f"a folder without {_WEIGHTS_MEMBER} (what an unzipped Keras save holds)", path=p)
        p = inner
    if not os.path.isfile(p):
        raise NotFoundError("no such file", path=p)
    f = open(p, "rb")
    return f, os.fstat(f.fileno()).st_size, True, p


def _zip_members(f, path: str) -> dict:
    """``{name: ZipInfo}`` of a zip archive."""
    from ._io.source import ZIP_REFUSALS

    try:
        f.seek(0)
        with zipfile.ZipFile(f) as z:
            return {i.filename: i for i in z.infolist()}
    except ZIP_REFUSALS as exc:
        raise DataLossError(f"damaged zip archive: {type(exc).__name__}: {exc}", path=path) from None


def _member_range(f, size: int, path: str, info) -> tuple[int, int]:
    """Byte range ``[start, end)`` of a stored (uncompressed) zip member, as Keras writes them."""
    import struct

    member = info.filename
    if info.compress_type != zipfile.ZIP_STORED:
        raise UnsupportedError(f"{member} is compressed in the archive (Keras stores it uncompressed); "
                               "extract it first", path=path)
    try:
        f.seek(info.header_offset)
        local = f.read(30)
    except (OSError, ValueError) as exc:
        raise DataLossError(f"reading the zip entry of {member} failed: {exc}", path=path) from None
    if len(local) != 30 or local[:4] != b"PK\x03\x04":
        raise DataLossError(f"no local header for {member} where the zip directory says", path=path,
                            offset=info.header_offset)
    name_len, extra_len = struct.unpack_from("<HH", local, 26)
    start = info.header_offset + 30 + name_len + extra_len
    end = start + info.file_size
    if end > size:
        raise DataLossError(f"{member} ({info.file_size} bytes at offset {start}) runs past the end of the archive",
                            path=path, offset=start)
    return start, end


def _shard_names(data: bytes, path: str) -> list[str]:
    """The shard files a Keras 3 weights index names, in first-mention order; each a plain
    file name beside the index (Keras writes ``model_00000.weights.h5``...), never a path."""
    import json

    try:
        index = json.loads(data.decode("utf-8"))
        weight_map = index["weight_map"]
        values = list(weight_map.values())
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise DataLossError(f"not a Keras weights index (JSON with a weight_map): {type(exc).__name__}: {exc}",
                            path=path) from None
    out: list = []
    for v in values:
        for name in v if isinstance(v, list) else [v]:
            if not isinstance(name, str) or not name or "/" in name or "\\" in name or name in (".", "..") \
                    or name.startswith(".."):
                raise DataLossError(f"the weights index names a shard {name!r}, not a file name beside it", path=path)
            if name not in out:
                out.append(name)
    if not out:
        raise DataLossError("the weights index names no shard", path=path)
    return out


def _sibling(path: str, name: str) -> str:
    from ._io.source import is_remote

    if is_remote(path):
        return path.rsplit("/", 1)[0] + "/" + name
    return os.path.join(os.path.dirname(path), name)
