"""SavedModel directories, TF1 and TF2, without TensorFlow.

A SavedModel directory holds::

    saved_model.pb        a SavedModel proto: one MetaGraphDef per tag set
    (or saved_model.pbtxt, the same in text format)
    variables/variables.index, variables.data-*   a V2 checkpoint
    assets/               files the graph reads (vocabularies...)
    assets.extra/         files for other tools, not read by TF
    fingerprint.pb        hashes identifying the model (TF >= 2.12)
    keras_metadata.pb     tf_keras (Keras 2) layer metadata, JSON per object

Each MetaGraphDef carries a graph, signatures (named inputs/outputs),
the saver description, collections, asset descriptions and, for TF2 exports,
a ``SavedObjectGraph``: the Python objects (modules, variables, functions,
assets) whose node ids match the checkpoint's object graph, which is how a
TF2 variable's object path maps to its checkpoint key.

``load_saved_model(directory, tags=None)`` reads it and picks a meta graph the
way TensorFlow does: the one whose tag set equals ``tags`` exactly.  Nothing
is executed, and asset files are only looked at (never opened) when their
names stay inside ``assets/``.

The directory may also be an fsspec URL (``gs://bucket/model``,
``https://host/model``, ``memory://...``; the ``remote`` extra).  Object
stores and HTTP servers cannot list directories, so the files are found by
name: ``saved_model.pb``/``.pbtxt`` is read whole, the variables are opened
through the remote checkpoint reader (the ``.index``, then one ranged read
per tensor asked for), ``fingerprint.pb`` and ``keras_metadata.pb`` are
fetched when asked for, and assets are only looked up (their size), never
downloaded unless :meth:`Asset.read_bytes` is called.  Local paths never
import fsspec.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
from dataclasses import dataclass, field
from urllib.parse import unquote

from .errors import (
    DataLossError,
    InvalidArgumentError,
    NotFoundError,
    TFFormatsError,
    UnknownTensorError,
    UnsupportedError,
)
from .graph.nodes import node_name, shape_list
from .graph.signatures import INTERNAL_SIGNATURES, Signature, check_signatures, dtype_name, parse_signatures

__all__ = [
    "SavedModel",
    "SavedVariable",
    "Asset",
    "Fingerprint",
    "FunctionInfo",
    "load_saved_model",
    "freeze_saved_model",
    "decode_structured_value",
]

SAVED_MODEL_PB = "saved_model.pb"
SAVED_MODEL_PBTXT = "saved_model.pbtxt"
SAVED_MODEL_CPB = "saved_model.cpb"
ASSETS_DIRECTORY = "assets"
ASSETS_KEY = "saved_model_assets"
MAIN_OP_KEY = "saved_model_main_op"
LEGACY_INIT_OP_KEY = "legacy_init_op"
TRAIN_OP_KEY = "saved_model_train_op"
INIT_OP_SIGNATURE_KEY = "__saved_model_init_op"
TRAIN_OP_SIGNATURE_KEY = "__saved_model_train_op"
DEFAULT_SERVING_SIGNATURE = "serving_default"
VARIABLE_OPS = frozenset({"VariableV2", "Variable", "VarHandleOp"})


# -- value objects -------------------------------------------------------------


@dataclass
class SavedVariable:
    """A variable of the SavedModel and where its value lives.

    ``path`` is the TF2 object path (``"layer_with_weights-0/kernel"``) or,
    for TF1 models, the variable's node name; ``name`` the variable's own name
    (``SavedVariable.name`` / node name); ``checkpoint_key`` the key in
    ``variables/variables`` (None if the checkpoint has no value for it).
    ``local`` is True for a TF1 variable the graph's Saver does not restore
    (a local variable such as an Estimator eval export's ``metrics/*``, set by
    the init ops when the model is loaded): the checkpoint is not expected
    to hold it.
    """

    path: str
    name: str
    dtype: str | None
    shape: list | None
    trainable: bool | None = None
    checkpoint_key: str | None = None
    node_id: int | None = None
    device: str = ""
    slice_spec: str = ""
    local: bool = False

    def to_dict(self) -> dict:
        return {
            "path": self.path,
            "name": self.name,
            "dtype": self.dtype,
            "shape": self.shape,
            "trainable": self.trainable,
            "checkpoint_key": self.checkpoint_key,
            "node_id": self.node_id,
            "device": self.device,
            "slice_spec": self.slice_spec,
            "local": self.local,
        }


@dataclass
class Asset:
    """An asset file the graph reads.

    ``path`` is where TF would read it (``<dir>/assets/<filename>``, a URL
    for a remote SavedModel); it is None, and ``safe`` False, when
    ``filename`` would leave the assets directory (``../../etc/passwd``, an
    absolute path or URL, a symlink pointing outside): such files are
    reported, never opened.
    """

    filename: str
    tensor_name: str | None
    path: str | None
    safe: bool
    exists: bool | None
    size: int | None = None
    reason: str | None = None
    remote: bool = field(default=False, repr=False, compare=False)

    def read_bytes(self) -> bytes:
        """The asset file's content (refused for unsafe names)."""
        if not self.safe or self.path is None:
            raise DataLossError(f"refusing to open unsafe asset {self.filename!r}: {self.reason}")
        if self.remote:
            from ._io import remote

            return remote.read_bytes(self.path)
        return _read_local(self.path)

    def to_dict(self) -> dict:
        return {
            "filename": self.filename,
            "tensor_name": self.tensor_name,
            "path": self.path,
            "safe": self.safe,
            "exists": self.exists,
            "size": self.size,
            "reason": self.reason,
        }


@dataclass
class Fingerprint:
    """``fingerprint.pb``: 64-bit hashes of the SavedModel's parts, and a UUID."""

    saved_model_checksum: int
    graph_def_program_hash: int
    signature_def_hash: int
    saved_object_graph_hash: int
    checkpoint_hash: int
    uuid: str
    producer: int | None

    def to_dict(self) -> dict:
        return {
            "saved_model_checksum": self.saved_model_checksum,
            "graph_def_program_hash": self.graph_def_program_hash,
            "signature_def_hash": self.signature_def_hash,
            "saved_object_graph_hash": self.saved_object_graph_hash,
            "checkpoint_hash": self.checkpoint_hash,
            "uuid": self.uuid,
            "producer": self.producer,
        }


@dataclass
class FunctionInfo:
    """A function of the graph's library.

    ``inputs``/``outputs`` are the FunctionDef's arguments as ``(name,
    dtype)``; for TF2 concrete functions ``input_signature`` and
    ``output_signature`` are the Python-level structures TF recorded
    (decoded by :func:`decode_structured_value`).
    """

    name: str
    inputs: list[tuple[str, str | None]]
    outputs: list[tuple[str, str | None]]
    node_count: int
    ops: dict[str, int]
    concrete: bool = False
    input_signature: object = None
    output_signature: object = None
    bound_inputs: list[int] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "inputs": [list(a) for a in self.inputs],
            "outputs": [list(a) for a in self.outputs],
            "node_count": self.node_count,
            "ops": dict(self.ops),
            "concrete": self.concrete,
            "input_signature": self.input_signature,
            "output_signature": self.output_signature,
            "bound_inputs": list(self.bound_inputs),
        }


# -- helpers -------------------------------------------------------------------


def _escape(name: str) -> str:
    return name.replace(".", "..").replace("/", ".S")


def _object_paths(nodes) -> dict[int, str]:
    """Shortest object path of each node reachable from the root (node 0)."""
    n = len(nodes)
    paths = {0: ""} if n else {}
    queue = [0] if n else []
    head = 0
    while head < len(queue):
        i = queue[head]
        head += 1
        for ref in nodes[i].children:
            c = ref.node_id
            if 0 <= c < n and c not in paths:
                base = paths[i]
                local = _escape(ref.local_name)
                paths[c] = f"{base}/{local}" if base else local
                queue.append(c)
    return paths


def decode_structured_value(value, _depth: int = 0):
    """A ``StructuredValue`` (TF's record of Python structures) as JSON-able data.

    Tensor specs become ``{"TensorSpec": {"name", "shape", "dtype"}}``, tuples
    and lists become lists, dicts stay dicts, named tuples become
    ``{"NamedTuple": name, "fields": {...}}``; tensors are described, not decoded.
    """
    if _depth > 64:
        return "<nested too deeply>"
    kind = value.WhichOneof("kind")
    d = _depth + 1
    if kind is None or kind == "none_value":
        return None
    if kind in ("float64_value", "int64_value", "string_value", "bool_value"):
        return getattr(value, kind)
    if kind == "tensor_shape_value":
        return shape_list(value.tensor_shape_value)
    if kind == "tensor_dtype_value":
        return dtype_name(value.tensor_dtype_value)
    if kind in ("tensor_spec_value", "bounded_tensor_spec_value"):
        spec = getattr(value, kind)
        label = "TensorSpec" if kind == "tensor_spec_value" else "BoundedTensorSpec"
        return {label: {"name": spec.name or None, "shape": shape_list(spec.shape), "dtype": dtype_name(spec.dtype)}}
    if kind == "type_spec_value":
        ts = value.type_spec_value
        from .proto import pb

        try:
            cls_name = pb.TypeSpecProto.TypeSpecClass.Name(ts.type_spec_class)
        except ValueError:
            cls_name = str(ts.type_spec_class)
        return {"TypeSpec": cls_name, "class_name": ts.type_spec_class_name or None,
                "state": decode_structured_value(ts.type_state, d)}
    if kind in ("list_value", "tuple_value"):
        return [decode_structured_value(v, d) for v in getattr(value, kind).values]
    if kind == "dict_value":
        return {k: decode_structured_value(value.dict_value.fields[k], d) for k in sorted(value.dict_value.fields)}
    if kind == "named_tuple_value":
        nt = value.named_tuple_value
        return {"NamedTuple": nt.name, "fields": {p.key: decode_structured_value(p.value, d) for p in nt.values}}
    if kind in ("tensor_value", "numpy_value"):
        t = getattr(value, kind)
        return {"Tensor": {"dtype": dtype_name(t.dtype), "shape": shape_list(t.tensor_shape)}}
    return f"<{kind}>"


def _normalize_tags(tags) -> frozenset[str] | None:
    if tags is None:
        return None
    if isinstance(tags, str):
        return frozenset(t.strip() for t in tags.split(",") if t.strip())
    try:
        return frozenset(str(t) for t in tags)
    except TypeError:
        raise InvalidArgumentError(f"tags must be a string or a collection of strings, not {type(tags).__name__}") from None


def _fmt_tags(tags) -> str:
    return "{" + ", ".join(sorted(tags)) + "}"


def _read_local(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        raise NotFoundError("no such file", path=path) from None
    except OSError as exc:
        raise NotFoundError(f"cannot read: {exc.strerror or exc}", path=path) from None


def _asset_name_problem(filename: str) -> str | None:
    """Why an asset filename is unsafe wherever the model lives, or None."""
    if not filename:
        return "empty filename"
    if "\x00" in filename:
        return "filename contains a NUL byte"
    if os.path.isabs(filename) or filename.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", filename):
        return "absolute path"
    return None


def _asset_check(assets_dir: str, filename: str) -> tuple[str | None, bool, str | None]:
    """``(path, safe, reason)`` for an asset filename, without opening anything."""
    problem = _asset_name_problem(filename)
    if problem is not None:
        return None, False, problem
    base = os.path.normpath(os.path.abspath(assets_dir))
    target = os.path.normpath(os.path.join(base, filename))
    if os.path.commonpath([base, target]) != base or target == base:
        return None, False, "path leaves the assets directory"
    if os.path.lexists(target):
        real_base = os.path.realpath(base)
        real = os.path.realpath(target)
        if os.path.commonpath([real_base, real]) != real_base:
            return None, False, "a symbolic link leads outside the assets directory"
    return target, True, None


def _remote_asset_check(assets_url: str, filename: str, http: bool) -> tuple[str | None, bool, str | None]:
    """``(url, safe, reason)`` for an asset of a remote SavedModel, without any request.

    Stricter than on disk, since a URL has more ways out of a directory: the
    name is checked as given, percent-decoded (an HTTP server decodes
    ``%2e%2e`` to ``..``) and with backslashes read as slashes; ``://`` and
    fsspec's chaining ``::`` are refused, and over HTTP so are ``?`` and ``#``.
    """
    problem = _asset_name_problem(filename)
    if problem is None and ("://" in filename or "::" in filename):
        problem = "a URL (or an fsspec chain), not a file name"
    if problem is None and http and any(c in filename for c in "?#"):
        problem = "'?' or '#' would change the URL"
    if problem is not None:
        return None, False, problem
    for form in {filename, unquote(filename), filename.replace("\\", "/"), unquote(filename).replace("\\", "/")}:
        if _asset_name_problem(form) is not None:
            return None, False, "absolute path (once decoded)"
        depth = 0
        for part in form.split("/"):
            if part in ("", "."):
                continue
            depth = depth - 1 if part == ".." else depth + 1
            if depth < 0:
                break
        if depth <= 0:
            return None, False, "path leaves the assets directory"
    return f"{assets_url}/{posixpath.normpath(filename)}", True, None


class _LocalDirectory:
    """The files of a SavedModel on the local disk."""

    remote = False

    def __init__(self, path: str) -> None:
        self.path = path

    def join(self, *names: str) -> str:
        return os.path.join(self.path, *names)

    def stat(self, path: str) -> tuple[bool, int | None]:
        """``(is a file, its size)``."""
        try:
            return (True, os.path.getsize(path)) if os.path.isfile(path) else (False, None)
        except OSError:
            return False, None

    def read(self, path: str) -> bytes:
        return _read_local(path)

    def read_optional(self, path: str) -> bytes | None:
        return _read_local(path) if os.path.isfile(path) else None

    def checkpoint_path(self, prefix: str) -> str:
        return prefix

    def asset(self, assets_dir: str, filename: str):
        return _asset_check(assets_dir, filename)


class _RemoteDirectory:
    """The files of a SavedModel behind an fsspec URL, found by name (no listing)."""

    remote = True

    def __init__(self, url: str) -> None:
        from ._io import remote

        self._remote = remote
        self.path = url
        self._fs, _ = remote.url_to_fs(url)
        self._http = remote._is_http(self._fs)
        self._sizes: dict[str, int | None] = {}  # files found, and their sizes

    def join(self, *names: str) -> str:
        return self._remote.join(self.path, *names)

    def stat(self, url: str) -> tuple[bool, int | None]:
        """``(is a file, its size)`` from one metadata request (a HEAD over HTTP), never the content."""
        remote = self._remote
        try:
            fs, path = remote.url_to_fs(url)
            info = fs.info(path)
        except FileNotFoundError:
            return False, None
        except Exception as exc:
            raise remote._wrap(exc, url, "looking the file up") from exc
        if info.get("type", "file") == "directory":
            return False, None
        size = info.get("size")
        self._sizes[url] = int(size) if isinstance(size, int) else None
        return True, self._sizes[url]

    def read(self, url: str) -> bytes:
        """The whole file, by ranged reads of the size already looked up (no second HEAD)."""
        size = self._sizes.get(url)
        if size is None:
            from .graph.io import _read_bytes

            return _read_bytes(url)[0]
        remote = self._remote
        with remote.RemoteSource(url, size=size) as src:
            return bytes(src.read(0, size))

    def checkpoint_path(self, prefix: str) -> str:
        # the .index URL: the remote checkpoint reader takes it without probing again
        return prefix + ".index"

    def read_optional(self, url: str) -> bytes | None:
        try:
            return self._remote.read_bytes(url)
        except NotFoundError:
            return None

    def asset(self, assets_url: str, filename: str):
        return _remote_asset_check(assets_url, filename, self._http)


def _open_directory(directory):
    """``(location, directory)`` for a local path or an fsspec URL; a path to saved_model.pb(txt) names its directory."""
    from ._io.source import is_remote

    try:
        d = os.fspath(directory)
    except TypeError:
        raise InvalidArgumentError(
            f"expected a SavedModel directory (a path or an fsspec URL), not {type(directory).__name__}"
        ) from None
    if isinstance(d, bytes):
        d = os.fsdecode(d)
    if is_remote(d):
        base = d.rstrip("/") if not d.endswith("://") else d
        head, _, last = base.rpartition("/")
        if last in (SAVED_MODEL_PB, SAVED_MODEL_PBTXT) and "://" in head:
            base = head
        return _RemoteDirectory(base), base
    if d.startswith("file://"):
        d = d[len("file://") :]
    if os.path.isfile(d) and os.path.basename(d) in (SAVED_MODEL_PB, SAVED_MODEL_PBTXT):
        d = os.path.dirname(d) or "."
    if not os.path.isdir(d):
        raise NotFoundError("no such SavedModel directory", path=d)
    return _LocalDirectory(d), d


# -- the SavedModel ------------------------------------------------------------


class SavedModel:
    """A SavedModel directory, read without TensorFlow.  See the module docstring.

    Attributes: ``directory``, ``filename`` (the ``saved_model.pb``/``.pbtxt``
    read), ``proto`` (the ``SavedModel`` message), ``tag_sets``, ``tags`` (the
    chosen meta graph's), ``meta_graph``, ``graph_def``, ``signatures``.
    Lazily computed: ``variables``, ``checkpoint``, ``assets``, ``fingerprint``,
    ``keras_metadata``, ``functions``, ``problems``.
    """

    def __init__(self, directory, tags=None) -> None:
        from .graph.io import parse_message
        from .proto import pb

        self._loc, d = _open_directory(directory)
        self.directory = d
        pb_path = self._loc.join(SAVED_MODEL_PB)
        txt_path = self._loc.join(SAVED_MODEL_PBTXT)
        if self._loc.stat(pb_path)[0]:
            self.filename = pb_path
        elif self._loc.stat(txt_path)[0]:
            self.filename = txt_path
        elif self._loc.stat(self._loc.join(SAVED_MODEL_CPB))[0]:
            raise UnsupportedError(
                "chunked SavedModel (saved_model.cpb, written for protos over 2 GB) is not supported", path=d
            )
        else:
            raise NotFoundError("not a SavedModel directory: no saved_model.pb or saved_model.pbtxt", path=d)
        data = self._loc.read(self.filename)
        self.proto, self.encoding = parse_message(data, pb.SavedModel, path=self.filename)
        if not self.proto.meta_graphs:
            raise DataLossError("the SavedModel holds no meta graph", path=self.filename)
        self.tag_sets = [sorted(mg.meta_info_def.tags) for mg in self.proto.meta_graphs]
        self.meta_graph_index = self._select(_normalize_tags(tags))
        self.meta_graph = self.proto.meta_graphs[self.meta_graph_index]
        self.tags = sorted(self.meta_graph.meta_info_def.tags)
        self.graph_def = self.meta_graph.graph_def
        self.signatures: dict[str, Signature] = parse_signatures(self.meta_graph)
        self._signature_problems = check_signatures(self.signatures, self.graph_def)
        self._checkpoint = None
        self._checkpoint_error = None
        self._variables = None
        self._assets = None
        self._functions = None

    def _select(self, want) -> int:
        sets = [frozenset(t) for t in self.tag_sets]
        available = ", ".join(_fmt_tags(s) for s in sets)
        if want is None:
            if len(sets) == 1:
                return 0
            for default in ({"serve"}, frozenset()):  # the empty set: a TF1 Hub module's default graph
                for i, s in enumerate(sets):
                    if s == default:
                        return i
            raise InvalidArgumentError(
                f"the SavedModel has {len(sets)} meta graphs and none is tagged exactly {{serve}} or {{}}; "
                f"pass tags= (--tags on the command line) one of: {available}",
                path=self.directory,
            )
        for i, s in enumerate(sets):
            if s == want:
                return i
        raise InvalidArgumentError(
            f"no meta graph with tag set {_fmt_tags(want)}; available tag sets: {available}", path=self.directory
        )

    # -- basic facts -----------------------------------------------------------
    @property
    def is_tf2(self) -> bool:
        """Written by ``tf.saved_model.save`` (TF2): it has a SavedObjectGraph."""
        return len(self.meta_graph.object_graph_def.nodes) > 0

    @property
    def schema_version(self) -> int:
        return self.proto.saved_model_schema_version

    @property
    def tensorflow_version(self) -> str | None:
        return self.meta_graph.meta_info_def.tensorflow_version or None

    @property
    def tensorflow_git_version(self) -> str | None:
        return self.meta_graph.meta_info_def.tensorflow_git_version or None

    @property
    def object_graph(self):
        """The TF2 ``SavedObjectGraph`` proto (empty for TF1 models)."""
        return self.meta_graph.object_graph_def

    def signature(self, key: str | None = None) -> Signature:
        """A signature by key; by default ``serving_default`` or the only model signature."""
        if key is None:
            if DEFAULT_SERVING_SIGNATURE in self.signatures:
                return self.signatures[DEFAULT_SERVING_SIGNATURE]
            model = [k for k in self.signatures if k not in INTERNAL_SIGNATURES]
            if len(model) == 1:
                return self.signatures[model[0]]
            raise InvalidArgumentError(
                f"no {DEFAULT_SERVING_SIGNATURE!r} signature; choose one of: {', '.join(model) or '(none)'}",
                path=self.directory,
            )
        try:
            return self.signatures[key]
        except KeyError:
            raise UnknownTensorError(
                f"no signature {key!r}; signatures: {', '.join(self.signatures) or '(none)'}", path=self.directory
            ) from None

    @property
    def init_op(self) -> str | None:
        """The op TF runs after restoring: ``__saved_model_init_op``, else the main op, else the legacy init op."""
        sig = self.signatures.get(INIT_OP_SIGNATURE_KEY)
        if sig is not None:
            for spec in sig.outputs.values():
                if spec.name:
                    return node_name(spec.name)
        for key in (MAIN_OP_KEY, LEGACY_INIT_OP_KEY):
            cd = self.meta_graph.collection_def.get(key)
            if cd is not None and cd.node_list.value:
                return node_name(cd.node_list.value[0])
        return None

    @property
    def train_op(self) -> str | None:
        sig = self.signatures.get(TRAIN_OP_SIGNATURE_KEY)
        if sig is not None:
            for spec in sig.outputs.values():
                if spec.name:
                    return node_name(spec.name)
        cd = self.meta_graph.collection_def.get(TRAIN_OP_KEY)
        if cd is not None and cd.node_list.value:
            return node_name(cd.node_list.value[0])
        return None

    # -- variables -------------------------------------------------------------
    @property
    def is_remote(self) -> bool:
        """Whether the SavedModel was opened from an fsspec URL."""
        return self._loc.remote

    @property
    def variables_prefix(self) -> str:
        return self._loc.join("variables", "variables")

    @property
    def checkpoint(self):
        """The ``variables/variables`` checkpoint (a CheckpointReader), or None if there is none.

        For a remote SavedModel only the ``.index`` is fetched here; each
        tensor is then one ranged read of the data shard.
        """
        if self._checkpoint is None and self._checkpoint_error is None:
            if not self._loc.stat(self.variables_prefix + ".index")[0]:
                self._checkpoint_error = "no variables/variables.index"
                return None
            from .checkpoint.reader import load_checkpoint

            self._checkpoint = load_checkpoint(self._loc.checkpoint_path(self.variables_prefix))
        return self._checkpoint

    @property
    def variables(self) -> list[SavedVariable]:
        """Every variable with dtype, shape and checkpoint key (TF2: from the object graph)."""
        if self._variables is None:
            self._variables = self._tf2_variables() if self.is_tf2 else self._tf1_variables()
        return self._variables

    def _tf2_variables(self) -> list[SavedVariable]:
        nodes = self.object_graph.nodes
        paths = _object_paths(nodes)
        ckpt_by_path = {}
        ckpt_by_id = {}
        reader = self.checkpoint
        og = reader.object_graph if reader is not None else None
        if og is not None:
            for tn in og.nodes:
                key = tn.attributes.get("VARIABLE_VALUE")
                if key is not None:
                    ckpt_by_path[tn.path] = key
                    ckpt_by_id[tn.id] = key
        out = []
        for i, node in enumerate(nodes):
            if node.WhichOneof("kind") != "variable":
                continue
            v = node.variable
            path = paths.get(i, f"<unreachable node {i}>")
            key = ckpt_by_path.get(path)
            if key is None:
                key = ckpt_by_id.get(i)
            out.append(
                SavedVariable(
                    path=path,
                    name=v.name,
                    dtype=dtype_name(v.dtype),
                    shape=shape_list(v.shape),
                    trainable=v.trainable,
                    checkpoint_key=key,
                    node_id=i,
                    device=v.device,
                )
            )
        return out

    def _tf1_variables(self) -> list[SavedVariable]:
        from .graph.freeze import _checkpoint_keys
        from .graph.nodes import attr_dtype, attr_shape

        reader = self.checkpoint
        keys, restored = _checkpoint_keys(self.meta_graph, self.graph_def, reader)
        cd = self.meta_graph.collection_def.get("trainable_variables")
        trainable = self._collection_variables("trainable_variables")
        local = self._collection_variables("local_variables") if restored is None else None
        out = []
        for n in self.graph_def.node:
            if n.op not in VARIABLE_OPS:
                continue
            key, spec = keys.get(n.name, (n.name, ""))
            if reader is not None and key not in reader:
                key = None
            out.append(
                SavedVariable(
                    path=n.name,
                    name=n.name,
                    dtype=attr_dtype(n, ("dtype",)),
                    shape=attr_shape(n),
                    trainable=(n.name in trainable) if cd is not None else None,
                    checkpoint_key=key,
                    device=n.device,
                    slice_spec=spec,
                    local=(n.name not in restored) if restored is not None else n.name in local,
                )
            )
        return out

    def _collection_variables(self, collection: str) -> set:
        """Variable node names listed (as VariableDefs) in a collection of the meta graph."""
        from .proto import pb

        out = set()
        cd = self.meta_graph.collection_def.get(collection)
        if cd is not None:
            for raw in cd.bytes_list.value:
                try:
                    out.add(node_name(pb.VariableDef.FromString(raw).variable_name))
                except Exception:
                    pass
        return out

    def get_variable(self, name: str):
        """A variable's value by object path, variable name, or checkpoint key."""
        reader = self.checkpoint
        if reader is None:
            raise NotFoundError("the SavedModel has no variables checkpoint", path=self.directory)
        if name.endswith(":0"):
            name = name[:-2]
        for v in self.variables:
            if name in (v.path, v.name) and v.checkpoint_key is not None:
                value = reader.get_tensor(v.checkpoint_key)
                if v.slice_spec:
                    from .graph.freeze import _parse_slice_spec

                    _, sl = _parse_slice_spec(v.slice_spec, v.name)
                    value = value[sl].copy()
                return value
        if name in reader:
            return reader.get_tensor(name)
        known = ", ".join(v.path for v in self.variables[:8])
        raise UnknownTensorError(f"no variable {name!r} (variables: {known}{', ...' if len(self.variables) > 8 else ''})",
                                 path=self.directory)

    # -- assets ----------------------------------------------------------------
    @property
    def assets_directory(self) -> str:
        return self._loc.join(ASSETS_DIRECTORY)

    def _asset_defs(self):
        from .proto import pb

        if self.meta_graph.asset_file_def:
            return list(self.meta_graph.asset_file_def)
        # TF1 builders list assets in a collection of Any-wrapped AssetFileDefs;
        # TF keys them by tensor name, so repeats collapse.
        out = []
        seen = set()
        cd = self.meta_graph.collection_def.get(ASSETS_KEY)
        if cd is not None:
            for any_msg in cd.any_list.value:
                a = pb.AssetFileDef()
                try:
                    ok = any_msg.Unpack(a)
                except Exception:
                    ok = False
                if ok and (a.tensor_info.name, a.filename) not in seen:
                    seen.add((a.tensor_info.name, a.filename))
                    out.append(a)
        return out

    @property
    def assets(self) -> list[Asset]:
        """The asset files the graph reads, with a safety check of each name."""
        if self._assets is None:
            out = []
            for a in self._asset_defs():
                path, safe, reason = self._loc.asset(self.assets_directory, a.filename)
                exists = size = None
                if safe:
                    exists, size = self._loc.stat(path)
                    if not exists:
                        reason = "missing"
                out.append(Asset(filename=a.filename, tensor_name=a.tensor_info.name or None, path=path, safe=safe,
                                 exists=exists, size=size, reason=reason, remote=self._loc.remote))
            self._assets = out
        return self._assets

    # -- other files -----------------------------------------------------------
    @property
    def fingerprint(self) -> Fingerprint | None:
        """``fingerprint.pb`` (TF >= 2.12), or None when absent."""
        p = self._loc.join("fingerprint.pb")
        data = self._loc.read_optional(p)
        if data is None:
            return None
        from .proto import pb

        try:
            fp = pb.FingerprintDef.FromString(data)
        except Exception as exc:
            raise DataLossError(f"cannot parse the fingerprint: {exc}", path=p) from None
        return Fingerprint(
            saved_model_checksum=fp.saved_model_checksum,
            graph_def_program_hash=fp.graph_def_program_hash,
            signature_def_hash=fp.signature_def_hash,
            saved_object_graph_hash=fp.saved_object_graph_hash,
            checkpoint_hash=fp.checkpoint_hash,
            uuid=fp.uuid,
            producer=fp.version.producer if fp.HasField("version") else None,
        )

    @property
    def keras_metadata(self) -> list[dict] | None:
        """``keras_metadata.pb`` (tf_keras SavedModels): one dict per saved Keras object.

        Without that file (Keras SavedModels of TF 2.0-2.4), the same metadata is
        taken from the Keras objects of the object graph; None when there is none.

        Each has ``node_id``, ``node_path``, ``identifier``, ``version`` and
        ``metadata`` (the parsed JSON, or None with ``metadata_error`` set).
        """
        p = self._loc.join("keras_metadata.pb")
        data = self._loc.read_optional(p)
        if data is None:
            return self._keras_metadata_in_objects()
        from .proto import pb

        try:
            meta = pb.keras.SavedMetadata.FromString(data)
        except Exception as exc:
            raise DataLossError(f"cannot parse the Keras metadata: {exc}", path=p) from None
        out = []
        for n in meta.nodes:
            item = {
                "node_id": n.node_id,
                "node_path": n.node_path,
                "identifier": n.identifier,
                "version": {"producer": n.version.producer, "min_consumer": n.version.min_consumer}
                if n.HasField("version") else None,
                "metadata": None,
            }
            if n.metadata:
                try:
                    item["metadata"] = json.loads(n.metadata)
                except (ValueError, RecursionError) as exc:
                    item["metadata_error"] = f"not valid JSON: {str(exc)[:200]}"
            out.append(item)
        return out

    def _keras_metadata_in_objects(self) -> list[dict] | None:
        """Keras SavedModels written before ``keras_metadata.pb`` existed (TF 2.0-2.4)
        keep the same JSON in each Keras object's ``user_object.metadata``: the same
        dicts, with ``node_path`` the first path to the node from the root."""
        try:
            nodes = self.object_graph.nodes
        except TFFormatsError:
            return None
        paths = {0: "root"} if len(nodes) else {}
        queue = [0] if len(nodes) else []
        for i in queue:  # breadth first, children in their stored order
            for c in nodes[i].children:
                if 0 <= c.node_id < len(nodes) and c.node_id not in paths:
                    paths[c.node_id] = f"{paths[i]}.{c.local_name}"
                    queue.append(c.node_id)
        out = []
        for i, n in enumerate(nodes):
            if n.WhichOneof("kind") != "user_object":
                continue
            u = n.user_object
            if not (u.identifier.startswith("_tf_keras_") and u.metadata):
                continue
            item = {
                "node_id": i,
                "node_path": paths.get(i, ""),
                "identifier": u.identifier,
                "version": {"producer": u.version.producer, "min_consumer": u.version.min_consumer}
                if u.HasField("version") else None,
                "metadata": None,
            }
            try:
                item["metadata"] = json.loads(u.metadata)
            except (ValueError, RecursionError) as exc:
                item["metadata_error"] = f"not valid JSON: {str(exc)[:200]}"
            out.append(item)
        return out or None

    # -- functions -------------------------------------------------------------
    @property
    def functions(self) -> dict[str, FunctionInfo]:
        """The graph's function library, with TF2 concrete-function signatures."""
        if self._functions is None:
            concrete = self.object_graph.concrete_functions
            out = {}
            for f in self.graph_def.library.function:
                sig = f.signature
                name = sig.name

                def args(lst):
                    return [(a.name, dtype_name(a.type) if a.type else (a.type_attr or a.type_list_attr or None)) for a in lst]

                ops: dict[str, int] = {}
                for n in f.node_def:
                    ops[n.op] = ops.get(n.op, 0) + 1
                info = FunctionInfo(name=name, inputs=args(sig.input_arg), outputs=args(sig.output_arg),
                                    node_count=len(f.node_def), ops=dict(sorted(ops.items())))
                if name in concrete:
                    cf = concrete[name]
                    info.concrete = True
                    info.input_signature = decode_structured_value(cf.canonicalized_input_signature)
                    info.output_signature = decode_structured_value(cf.output_signature)
                    info.bound_inputs = list(cf.bound_inputs)
                out[name] = info
            self._functions = dict(sorted(out.items()))
        return self._functions

    # -- checks and summaries ----------------------------------------------------
    @property
    def problems(self) -> list[str]:
        """Inconsistencies found without running anything (dangling names, unsafe assets...)."""
        out = list(self._signature_problems)
        for a in self.assets:
            if not a.safe:
                out.append(f"asset {a.filename!r} is unsafe: {a.reason}")
            elif not a.exists:
                out.append(f"asset {a.filename!r} is missing from assets/")
        n_assets = len(self.meta_graph.asset_file_def)
        for i, node in enumerate(self.object_graph.nodes):
            if node.WhichOneof("kind") == "asset" and not 0 <= node.asset.asset_file_def_index < n_assets:
                out.append(f"object {i} refers to asset {node.asset.asset_file_def_index}, of {n_assets}")
        for name, cf in self.object_graph.concrete_functions.items():
            if name not in self.functions:
                out.append(f"concrete function {name!r} has no FunctionDef in the library")
        try:
            variables = self.variables
        except TFFormatsError as exc:
            out.append(f"cannot read the variables: {exc}")
        else:
            if variables and self.checkpoint is None:
                out.append("the graph has variables but there is no variables/ checkpoint")
            for v in variables:
                if v.checkpoint_key is None and self.checkpoint is not None and not v.local:
                    out.append(f"variable {v.path!r} has no value in the checkpoint")
        return out

    def summary(self):
        """A :class:`~tfformats.graph.GraphSummary` of the chosen meta graph; signatures are its inputs/outputs."""
        from .graph.summary import summarize_graph

        s = summarize_graph(self.meta_graph, path=self.directory, kind="SavedModel")
        s.tags = list(self.tags)
        seen = set(s.problems)
        for p in self.problems:
            if p not in seen:
                s.problems.append(p)
        return s

    def to_dict(self) -> dict:
        """Everything above as JSON-able data (the summary, variables, assets, fingerprint...)."""
        fp = self.fingerprint
        km = self.keras_metadata
        return {
            "directory": self.directory,
            "filename": posixpath.basename(self.filename) if self._loc.remote else os.path.basename(self.filename),
            "encoding": self.encoding,
            "tf2": self.is_tf2,
            "tag_sets": self.tag_sets,
            "tags": self.tags,
            "tensorflow_version": self.tensorflow_version,
            "signatures": {k: s.to_dict() for k, s in self.signatures.items()},
            "variables": [v.to_dict() for v in self.variables],
            "assets": [a.to_dict() for a in self.assets],
            "init_op": self.init_op,
            "fingerprint": fp.to_dict() if fp is not None else None,
            "keras_metadata": km,
            "functions": {k: f.to_dict() for k, f in self.functions.items()},
            "summary": self.summary().to_dict(),
        }

    # -- lifetime ----------------------------------------------------------------
    def close(self) -> None:
        if self._checkpoint is not None:
            self._checkpoint.close()
            self._checkpoint = None

    def __enter__(self) -> "SavedModel":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        kind = "TF2" if self.is_tf2 else "TF1"
        nsig = sum(1 for k in self.signatures if k not in INTERNAL_SIGNATURES)
        nvar = sum(1 for n in self.graph_def.node if n.op in VARIABLE_OPS) if not self.is_tf2 else sum(
            1 for n in self.object_graph.nodes if n.WhichOneof("kind") == "variable")
        return (
            f"<tfformats SavedModel {self.directory!r}: {kind}, tags {_fmt_tags(self.tags)}, "
            f"{nsig} signature{'s' if nsig != 1 else ''}, {nvar} variable{'s' if nvar != 1 else ''}, "
            f"{len(self.graph_def.library.function)} functions>"
        )


def load_saved_model(directory, tags=None) -> SavedModel:
    """Open a SavedModel directory and choose a meta graph by exact tag-set match.

    ``directory`` is a local path or an fsspec URL (``gs://bucket/model``,
    ``https://host/model``...; see the module docstring for what is fetched);
    a path or URL of the ``saved_model.pb`` itself names its directory.

    ``tags`` is a collection of tags (``["serve"]``) or a comma-separated
    string (``""``: the empty tag set); by default the only meta graph, or
    the one tagged ``{serve}``, or the one with the empty tag set (the default
    graph of a TF1 Hub module).
    Raises ``InvalidArgumentError`` listing the available tag sets when none
    matches, ``UnsupportedError`` for chunked (``saved_model.cpb``) models.
    """
    return SavedModel(directory, tags=tags)


def freeze_saved_model(directory, output_node_names=None, *, tags=None, signature_key: str | None = None):
    """A frozen GraphDef from a SavedModel: its graph with the variables' values inlined.

    ``directory`` is taken as by :func:`load_saved_model` (a URL reads only
    the tensors of the variables the outputs need).

    ``output_node_names`` defaults to the nodes of the chosen signature's
    outputs (``serving_default`` unless ``signature_key`` says otherwise).
    TF1 models (``SavedModelBuilder``, Estimator exports) are frozen like a
    ``.meta`` plus checkpoint.  TF2 models (``tf.saved_model.save``, Keras)
    are frozen the way TensorFlow's TF1 loader plus
    ``convert_variables_to_constants`` freezes them: the graph's variable
    handles find their checkpoint keys through the restore function, and the
    functions the signature calls are rewritten to read constants.
    """
    from .graph.freeze import freeze_graph, _name_graph_file

    with SavedModel(directory, tags=tags) as sm:
        if output_node_names is None:
            sig = sm.signature(signature_key)
            names = []
            for spec in sig.outputs.values():
                for t in spec.tensor_names():
                    names.append(node_name(t))
            output_node_names = list(dict.fromkeys(names))
            if not output_node_names:
                raise InvalidArgumentError(f"signature {sig.key!r} has no outputs to freeze", path=sm.directory)
        checkpoint = sm.checkpoint
        if checkpoint is None:
            checkpoint = {}
        try:
            return freeze_graph(sm.meta_graph, checkpoint, output_node_names)
        except TFFormatsError as exc:  # the graph came from saved_model.pb: say so
            _name_graph_file(exc, str(sm.filename))
            raise
