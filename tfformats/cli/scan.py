"""``tfformats scan``: a security audit of model files, without loading anything.

What is searched:

- every node of the top-level graph of each meta graph (SavedModel, ``.meta``,
  ``.pb``/``.pbtxt`` GraphDef, frozen graph);
- every function of the library, whether or not anything calls it, with the
  callers of each function recorded (``called_from``);
- graphs nested in tensors: a string constant that parses as a GraphDef, as
  is or base64/zlib/gzip-encoded (e.g. the ``graph_def`` input of
  ``DatasetFromGraph``), is scanned as a graph of its own, recursively, up to
  a depth limit; so is a graph in a meta graph's ``collection_def``;
- what ``DatasetFromGraph`` runs: its input followed back to constants
  (through ``Identity``, ``DecodeBase64``, ``DecodeCompressed``, ``StringJoin``
  and function arguments); a graph computed at run time is a ``high`` finding;
- the TensorFlow ops written as MLIR text in ``MlirPassthroughOp``;
- every SavedModel file of the directory (``saved_model.pb`` and
  ``saved_model.pbtxt``; a ``saved_model.cpb``, which the C++ loader prefers
  and tfformats cannot read, is a finding);
- Keras: ``keras_metadata.pb`` (tf_keras SavedModels), the object graph's
  user-object metadata, ``config.json`` of Keras 3 ``.keras`` archives, and the
  ``model_config``/``training_config`` attributes of Keras HDF5 models (``.h5``,
  Keras 2.12 ``.keras``; read by :mod:`tfformats._io.hdf5`, without h5py):
  ``Lambda`` layers (serialized Python bytecode), functions and classes
  imported from non-Keras modules;
- SavedModel assets whose names escape the assets directory;
- ops that TensorFlow 2.21's op registry does not know (a custom op library,
  i.e. native code, is needed to load the model); ``high`` when the name
  imitates a risky op (``writefile``, ``_WriteFile``, ``WriteFileV2``).

The rules (which ops, which severity, why) are in :mod:`tfformats.cli._rules`.
Checkpoint save/restore ops are expected inside the saver's own graph (found
through the MetaGraph's ``saver_def``) and reported there as ``info`` only;
found by naming convention alone (a bare GraphDef) they are ``low``.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from ._common import EXIT_FAILED, EXIT_OK, document, print_json, usage_error, warn, write
from ._rules import PATH_INPUT, RANK, RULES, SAVER_OPS, SEVERITIES

HELP = "security audit of a SavedModel/graph/Keras file: risky ops, hidden functions, nested graphs"
DESCRIPTION = """\
Audit a SavedModel directory, .pb/.pbtxt GraphDef, frozen graph, .meta
MetaGraph, keras_metadata.pb, Keras 3 .keras archive or Keras HDF5 model
(.h5, or a Keras 2.12 .keras, read without h5py) without loading or
running anything.  Flags ops that read or write files, run Python code, reach
the network, or print/log; Keras Lambda layers and modules imported by Keras
configs; ops unknown to TensorFlow (custom native code).  Searches the top-level
graph, every function of the library, and graphs nested in constants (e.g. the
serialized graph of a DatasetFromGraph, also base64/zlib/gzip-encoded) or in
meta graph collections.  Each finding has a severity
(info < low < medium < high < critical), a location and the reason.

Exit status 1 when a finding at or above --fail-on (default: high) is found,
for CI gates; 0 otherwise."""
EXAMPLES = """\
  tfformats scan saved_model_dir
  tfformats scan untrusted.pbtxt --fail-on medium
  tfformats scan model.keras --json
  tfformats scan model.h5
  tfformats scan saved_model_dir --min-severity info --fail-on none"""

MAX_DEPTH = 8  # nested graphs inside nested graphs
MAX_NESTED_BYTES = 1 << 30
INFLATE_BASE = 16 << 20  # a zlib/gzip string is inflated up to INFLATE_BASE + INFLATE_RATIO x its size
INFLATE_RATIO = 32  # (docs/robustness.md: memory stays within 48 MiB + 64 x the input's size)
_BASE64 = re.compile(rb"^[A-Za-z0-9+/_\-]{16,}={0,2}$")
_TRACED_SAVER_FN = re.compile(r"^__inference__traced_(save|restore)_\d+$")
_SAVER_SCOPE = re.compile(r"(^|/)save(_\d+)?/")  # a Saver's ops, also one made inside a name scope (a TF1 Hub module's)
# the restore tf.compat.v1.train.init_from_checkpoint makes for each variable it warm-starts
_INIT_FROM_CHECKPOINT = re.compile(r"(^|/)checkpoint_initializer(_\d+)?$")


def add_arguments(p) -> None:
    p.add_argument("path", help="SavedModel directory, GraphDef (.pb/.pbtxt), .meta, keras_metadata.pb, .keras or .h5 file")
    p.add_argument(
        "--fail-on", default="high", choices=SEVERITIES + ("none",),
        help="exit 1 when a finding of this severity or above is found (default: high; 'none' never fails)",
    )
    p.add_argument(
        "--min-severity", default="low", choices=SEVERITIES,
        help="report findings of this severity and above (default: low)",
    )
    p.add_argument("--no-unknown-ops", action="store_true", help="do not flag ops missing from TensorFlow's op registry")


# -- findings ----------------------------------------------------------------------
@dataclass
class Finding:
    severity: str
    rule: str
    why: str
    op: str | None = None
    location: dict = field(default_factory=dict)

    def where(self) -> str:
        loc = self.location
        parts = []
        for seg in loc.get("nested_in", []):
            parts.append(seg)
        if loc.get("meta_graph") is not None and not loc.get("nested_in"):
            parts.append(f"meta_graph{{{loc['meta_graph']}}}")
        if loc.get("function"):
            parts.append(f"function {loc['function']}")
        if loc.get("node"):
            parts.append(f"node {loc['node']}")
        if loc.get("detail"):
            parts.append(loc["detail"])
        text = " > ".join(parts) or os.path.basename(loc.get("file") or "")
        return text

    def as_dict(self) -> dict:
        return {"severity": self.severity, "rule": self.rule, "op": self.op, "location": self.location, "where": self.where(), "why": self.why}


def load_known_ops() -> frozenset | None:
    """Op names of TensorFlow's registry (generated file), or None when missing."""
    try:
        from importlib import resources

        text = resources.files(__package__).joinpath("known_ops.txt").read_text("utf-8")
    except (FileNotFoundError, OSError, ModuleNotFoundError):
        return None
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


class Scanner:
    def __init__(self, *, known_ops=None, check_unknown: bool = True) -> None:
        self.findings: list[Finding] = []
        self.known = known_ops
        self.check_unknown = check_unknown and known_ops is not None
        self.stats = Counter()
        self._keras_seen: dict[str, set] = {}
        self._nested_seen: set[bytes] = set()  # digests of nested graphs already scanned
        self.bar = None  # a progress bar, updated once per function scanned
        self._pending_dfg: list = []  # DatasetFromGraph nodes of the graphs being scanned
        self._in_saved_model = False  # Keras configs being scanned belong to a SavedModel

    def add(self, severity, rule, why, op=None, **location) -> None:
        # an empty tag set (TF1 Hub modules save their default graph so) is still a meta graph's name
        loc = {k: v for k, v in location.items() if v not in (None, [], "") or (k == "meta_graph" and v == "")}
        self.findings.append(Finding(severity, rule, why, op, loc))

    # -- graphs ---------------------------------------------------------------
    def scan_meta_graph(self, meta, *, file: str, tags: str | None, nested_in=(), depth: int = 0) -> None:
        self.stats["meta_graphs"] += 1
        saver = _saver_nodes(meta)
        asset_defs = _meta_assets(meta)
        assets = {t.split(":", 1)[0]: fn for t, fn in asset_defs if t}
        self.scan_graph_def(meta.graph_def, file=file, meta_graph=tags, saver=saver, nested_in=nested_in, depth=depth,
                            assets=assets, object_refs=_object_graph_functions(meta))
        for _, fn in asset_defs:
            if os.path.isabs(fn) or ".." in fn.replace("\\", "/").split("/"):
                self.add("high", "asset-path", f"asset filename {fn!r} points outside the SavedModel's assets directory",
                         file=file, meta_graph=tags, detail="asset_file_def")
        for i, node in enumerate(meta.object_graph_def.nodes):
            if node.WhichOneof("kind") == "user_object" and node.user_object.metadata:
                self.scan_keras_json(node.user_object.metadata, file=file, where=f"object_graph node {i} ({node.user_object.identifier})")
        self.scan_collections(meta, file=file, tags=tags, nested_in=nested_in, depth=depth)

    def scan_collections(self, meta, *, file, tags, nested_in=(), depth=0) -> None:
        """Graphs serialized in ``collection_def`` values (bytes or ``Any``): nothing in
        TensorFlow runs them by itself, but code that loads the meta graph can, and
        they are a place to hide a graph from scanners that only walk ``graph_def``."""
        for key in sorted(meta.collection_def):
            col = meta.collection_def[key]
            which = col.WhichOneof("kind")
            if which == "bytes_list":
                values = list(col.bytes_list.value)
            elif which == "any_list":
                values = [a.value for a in col.any_list.value]
            else:
                continue
            for i, v in enumerate(values[:4096]):
                self.scan_graph_bytes(v, label=f"collection {key!r}[{i}]", file=file, meta_graph=tags, function=None,
                                      node=None, op=None, nested_in=nested_in, depth=depth,
                                      detail=f"collection_def {key!r} value {i}")

    def scan_graph_def(self, graph, *, file, meta_graph=None, saver=None, nested_in=(), depth=0, assets=None,
                       object_refs=None) -> None:
        self.stats["graphs"] += 1
        library = {f.signature.name: f for f in graph.library.function}
        callers = defaultdict(list)  # function -> ["function X / node Y (attr f)", ...]
        for fname, refs in (object_refs or {}).items():
            callers[fname].extend(refs)  # SavedModel objects' methods: callable once loaded
        calls = defaultdict(set)  # caller function ("" = top level) -> callees
        for n in graph.node:
            for label, fname in _callees(n, library):
                callers[fname].append(f"node {n.name} ({label})")
                calls[""].add(fname)
        for fname, f in library.items():
            for n in f.node_def:
                for label, callee in _callees(n, library):
                    callers[callee].append(f"function {fname} / node {n.name} ({label})")
                    calls[fname].add(callee)
        # Which functions belong to the checkpoint saver
        saver_fns, saver_scope, saver_strength, shared = set(), None, None, set()
        saver_file = None
        if saver:
            names, scope, saver_file = saver
            saver_scope = scope
            saver_strength = "info"
            roots = set()
            by_name = {n.name: n for n in graph.node}
            for nm in names:
                node = by_name.get(nm)
                if node is not None:
                    roots.update(fn for _, fn in _callees(node, library))
            # a function also reachable from the rest of the graph is not only the saver's
            others = set()
            for n in graph.node:
                if n.name not in names:
                    others.update(fn for _, fn in _callees(n, library))
            shared = _closure(others, calls)
            saver_fns = _closure(roots, calls) - shared
        top_nodes = {n.name: n for n in graph.node}
        pending_before = len(self._pending_dfg)
        resolver = _Resolver(graph, library)
        for n in graph.node:
            self.stats["nodes"] += 1
            in_saver = None
            if n.op in SAVER_OPS:
                if saver_scope is not None and n.name.startswith(saver_scope + "/"):
                    in_saver = "info"
                elif _SAVER_SCOPE.search(n.name):
                    in_saver = "low"
            self.check_node(n, nodes=top_nodes, library=library, file=file, meta_graph=meta_graph, function=None,
                            nested_in=nested_in, depth=depth, in_saver=in_saver, assets=assets, saver_file=saver_file)
        asset_calls = _top_level_calls(graph) if assets else None
        for fname, f in library.items():
            self.stats["functions"] += 1
            in_saver = None
            if fname in saver_fns:
                in_saver = saver_strength
            elif _TRACED_SAVER_FN.match(fname) and fname not in shared:
                in_saver = "low"
            body = {n.name: n for n in f.node_def}
            cf = sorted(set(callers.get(fname, [])))[:10]
            arg_assets = _arg_assets(f, fname, asset_calls, top_nodes, assets) if assets else None
            for n in f.node_def:
                self.stats["nodes"] += 1
                self.check_node(n, nodes=body, library=library, assets=arg_assets, file=file, meta_graph=meta_graph, function=fname,
                                nested_in=nested_in, depth=depth, in_saver=in_saver if n.op in SAVER_OPS else None,
                                called_from=cf)
            if self.bar is not None:
                self.bar.update(1)
        # DatasetFromGraph: where does its graph come from?  Checked once every node of this
        # graph is seen, so that constants already scanned as nested graphs are not repeated.
        pending, self._pending_dfg = self._pending_dfg[pending_before:], self._pending_dfg[:pending_before]
        for n, loc in pending:
            self.check_dataset_from_graph(n, loc, resolver, depth=depth)

    def check_dataset_from_graph(self, n, loc, resolver, *, depth) -> None:
        inputs = [i for i in n.input if not i.startswith("^")]
        if not inputs:
            return
        values = resolver.resolve(loc.get("function") or "", inputs[0])
        if values is None:
            self.add("high", "nested-graph",
                     f"DatasetFromGraph runs a graph computed at run time (from {inputs[0]!r}, not a constant "
                     "expression tfformats can work out): its ops cannot be scanned, and it can run any op", n.op, **loc)
            return
        for i, v in enumerate(values[:64]):
            label = f"{n.op} input {inputs[0]!r}" + (f"[{i}]" if len(values) > 1 else "") + " (from constants)"
            self.scan_graph_bytes(v, label=label, file=loc.get("file"), meta_graph=loc.get("meta_graph"),
                                  function=loc.get("function"), node=n.name, op=n.op,
                                  nested_in=loc.get("nested_in") or [], depth=depth)

    def check_node(self, n, *, nodes, library, file, meta_graph, function, nested_in, depth, in_saver, called_from=None,
                   assets=None, saver_file=None):
        op = n.op
        loc = dict(file=file, meta_graph=meta_graph, function=function, node=n.name, nested_in=list(nested_in) or None,
                   called_from=called_from or None)
        rule = RULES.get(op)
        if rule is not None:
            severity, category, why = rule
            src = _path_sources(n, PATH_INPUT.get(op), nodes, saver_file)
            path = None
            if src is not None and src.consts and not src.fed and not src.saver:
                path = src.consts[0] if len(src.consts) == 1 else " + ".join(repr(c) for c in src.consts)[:200]
            severity, category, why, skip = _refine(op, n, severity, category, why, path)
            if in_saver is not None and src is not None:
                # the saver gets its path at run time, through its filename tensor (or, traced in a
                # function, an argument); a path made of constants alone is someone else's
                if saver_file is not None and function is None and in_saver == "info":
                    own = src.saver  # the saver saver_def names: fed through its filename tensor
                else:
                    own = src.fed
                if not own or any(".." in c.replace("\\", "/").split("/") for c in src.consts):
                    in_saver = None
            if in_saver is not None:
                severity = in_saver
                category = "saver"
                why = f"checkpoint {('save' if 'Save' in op or 'Merge' in op else 'restore')} op in the saver's own graph" + (
                    " (identified by naming convention only)" if in_saver == "low" else "")
            if (in_saver is None and op in ("RestoreV2", "Restore", "RestoreSlice") and path is not None
                    and _INIT_FROM_CHECKPOINT.search(n.name)):
                # a warm start: reads another checkpoint into variables when their initializers run
                # (a SavedModel loader restores through the saver instead); the path is a constant
                severity = "medium"
                why = ("restores variables from another checkpoint at a constant path when their initializers run "
                       "(tf.compat.v1.train.init_from_checkpoint: a warm start, a TF1 Hub module; identified by its "
                       "name)")
            asset = _asset_input(n, PATH_INPUT.get(op), assets) if category == "file-read" else None
            if asset is not None and in_saver is None:
                # TensorFlow rewrites an asset's path constant to point into assets/ when it loads the model
                severity = "low"
                why += f"; reads the SavedModel's own asset {asset!r}"
            elif not skip and path is not None and in_saver is None:
                why += f"; path: {path!r}"
            if not skip:
                self.add(severity, category, why, op, **loc)
        elif self.check_unknown and op not in self.known and op not in library:
            self.add(*_unknown_op(op), op, **loc)
        if op == "MlirPassthroughOp" and "mlir_module" in n.attr:
            for inner in sorted(set(re.findall(r"\btf\.([A-Za-z_][A-Za-z0-9_]*)", n.attr["mlir_module"].s.decode("utf-8", "replace")))):
                if inner in RULES and inner != op:
                    sev, cat, why = RULES[inner]
                    self.add(sev, cat, f"{why} (the op tf.{inner} is written in the MLIR text of mlir_module)", inner,
                             **dict(loc, detail="mlir_module"))
        # graphs nested in tensor attrs (Const values, etc.), also the attr values a call passes
        # to a function (f { name: "F" attr { ... } }), which fill its attr placeholders
        for key, t in _attr_tensors(n.attr):
            if t.dtype == 7:  # DT_STRING
                self._nested_from_tensor(t, n, key, file=file, meta_graph=meta_graph, function=function,
                                         nested_in=nested_in, depth=depth)
        if op == "DatasetFromGraph":
            self._pending_dfg.append((n, {k: v for k, v in loc.items() if v not in (None, [], "")}))

    def _nested_from_tensor(self, t, n, key, *, file, meta_graph, function, nested_in, depth) -> None:
        values = list(t.string_val)
        if not values and t.tensor_content:
            try:
                from ..tensor import tensor_to_numpy

                values = list(tensor_to_numpy(t).reshape(-1))
            except Exception:
                values = []
        for i, v in enumerate(values[:64]):
            self.scan_graph_bytes(v, label=f"{n.op} attr {key}{f'[{i}]' if len(values) > 1 else ''}", file=file,
                                  meta_graph=meta_graph, function=function, node=n.name, op=n.op, nested_in=nested_in,
                                  depth=depth)

    def scan_graph_bytes(self, v: bytes, *, label, file, meta_graph, function, node, op, nested_in, depth,
                         detail=None) -> bool:
        """Scan ``v`` as a nested graph when it is a serialized GraphDef, as is or
        base64/zlib/gzip-encoded (how ``DecodeBase64``/``DecodeCompressed`` would feed
        it to a ``DatasetFromGraph``).  Returns whether a graph was found."""
        import hashlib

        from ..proto import pb

        found = False
        for encoding, data in _decodings(v):
            if data is None:
                self.add("high", "nested-graph", f"a {encoding} string of {len(v):,} bytes inflates past "
                         f"{_inflate_limit(len(v)):,} bytes into what begins like a serialized GraphDef: not scanned",
                         op, file=file, meta_graph=meta_graph, function=function, node=node,
                         nested_in=list(nested_in), detail=detail)
                continue
            try:
                g = pb.GraphDef.FromString(data)
            except Exception:
                continue
            if not _plausible_graph(g, self.known):
                continue
            found = True
            digest = hashlib.sha256(data).digest()
            if digest in self._nested_seen:
                continue
            self._nested_seen.add(digest)
            what = f"{encoding} serialized GraphDef" if encoding else "serialized GraphDef"
            here = []
            if meta_graph is not None and not nested_in:
                here.append(f"meta_graph{{{meta_graph}}}")
            if function:
                here.append(f"function {function}")
            here.append(f"node {node} ({label}: {what})" if node else f"{label}: {what}")
            chain = list(nested_in) + here
            self.stats["nested_graphs"] += 1
            if depth + 1 > MAX_DEPTH:
                self.add("medium", "nested-graph", f"graphs nested more than {MAX_DEPTH} deep: not scanned further",
                         op, file=file, meta_graph=meta_graph, function=function, node=node, nested_in=list(nested_in),
                         detail=detail)
                continue
            self.add("info", "nested-graph", f"a {what} of {len(g.node)} nodes and {len(g.library.function)} functions "
                     "(scanned)", op, file=file, meta_graph=meta_graph, function=function, node=node,
                     nested_in=list(nested_in), detail=detail)
            self.scan_graph_def(g, file=file, meta_graph=meta_graph, saver=None, nested_in=chain, depth=depth + 1)
        return found

    # -- Keras ----------------------------------------------------------------------
    def scan_keras_json(self, text: str, *, file: str, where: str) -> None:
        try:
            doc = json.loads(text)
        except (ValueError, RecursionError):
            if where == "config.json":  # as an HDF5 model_config that is not JSON: Keras cannot load it
                self.add("medium", "unparsable", "the Keras config is not valid JSON (Keras cannot load the model); "
                         "not scanned", file=file, detail=where)
            else:
                self.add("low", "unparsable", "Keras metadata is not valid JSON; not scanned", file=file, detail=where)
            return
        self.scan_keras_doc(doc, file=file, where=where)

    def scan_keras_folder(self, directory: str) -> None:
        """An unzipped Keras 3 save (``model.save(folder, zipped=False)``): its ``config.json``,
        which ``keras.saving.load_model(folder)`` deserializes like an archive's."""
        from ._common import keras_json_member

        path = os.path.join(directory, "config.json")
        try:
            data, why = keras_json_member("config.json", folder=directory)
        except OSError as exc:
            data, why = None, f"config.json cannot be read ({exc.strerror or exc})"
        if data is None:
            self.add("medium", "archive" if why else "unparsable", f"{why or 'config.json is gone'}: not scanned", file=path)
            return
        self.stats["keras_configs"] += 1
        self.scan_keras_json(data.decode("utf-8", "replace"), file=path, where="config.json")

    def scan_keras_doc(self, doc, *, file: str, where: str) -> None:
        """A parsed Keras config (or object metadata) checked against the Keras rules."""
        before = len(self.findings)
        self._walk_keras(doc, file=file, where=where, path=[], depth=0)
        # one layer appears in its model's config and in its own metadata: report it once per file
        seen = self._keras_seen.setdefault(file, set())
        kept = self.findings[:before]
        for f in self.findings[before:]:
            layer = re.search(r"\(layer '([^']*)'\)", f.where())
            key = (f.rule, f.op, f.why, layer.group(1) if layer else f.where())
            if key not in seen:
                seen.add(key)
                kept.append(f)
        self.findings = kept

    def _walk_keras(self, obj, *, file, where, path, depth, in_lambda=False) -> None:
        from ._rules import DANGEROUS_MODULES

        if depth > 200:
            return
        if isinstance(obj, dict):
            cls = obj.get("class_name")
            here = "/".join(path) or "(root)"
            name = None
            cfg = obj.get("config")
            if isinstance(cfg, dict):
                name = cfg.get("name")
            label = f"{where} > {here}" + (f" (layer {name!r})" if name else "")
            if cls == "Lambda":
                fn = cfg.get("function") if isinstance(cfg, dict) else None
                kind = _lambda_kind(fn, cfg)
                self.add("critical", "keras-lambda",
                         f"Keras Lambda layer: {kind}; Keras runs it when the model is loaded or called",
                         "Lambda", file=file, detail=label)
            elif cls == "TFSMLayer":
                target = cfg.get("filepath") if isinstance(cfg, dict) else None
                self.add("high", "file-read", f"Keras TFSMLayer: loads and runs the SavedModel at {target!r} when the "
                         "model is loaded (outside this file, not scanned)", "TFSMLayer", file=file, detail=label)
            elif cls == "KerasLayer" and isinstance(cfg, dict) and "handle" in cfg:
                # tensorflow_hub.KerasLayer (given to load_model as a custom object): builds itself by
                # loading the SavedModel its handle names, downloading it when the handle is a URL
                target = cfg.get("handle")
                remote = isinstance(target, str) and "://" in target and not target.startswith("file://")
                self.add("high", "network" if remote else "file-read",
                         f"tensorflow_hub KerasLayer: loads and runs the SavedModel at {target!r} when the model is "
                         "loaded" + (" (downloaded from there)" if remote else "") + " (outside this file, not scanned)",
                         "KerasLayer", file=file, detail=label)
            elif cls in ("StringLookup", "IntegerLookup", "IndexLookup", "TextVectorization") and isinstance(cfg, dict) \
                    and isinstance(cfg.get("vocabulary"), str):
                if self._in_saved_model:
                    # tf.keras loads a SavedModel's lookup tables from its assets/ copy of the file
                    self.add("low", "file-read", f"Keras {cls} names the vocabulary file {cfg['vocabulary']!r}; loading "
                             "the SavedModel uses its assets/ copy, only a model rebuilt from this config alone reads "
                             "the path", cls, file=file, detail=label)
                else:
                    self.add("high", "file-read", f"Keras {cls} reads its vocabulary from the file "
                             f"{cfg['vocabulary']!r} (outside the archive) when the model is loaded", cls, file=file,
                             detail=label)
            elif cls == "TorchModuleWrapper" and isinstance(cfg, dict) and cfg.get("module") is not None:
                self.add("critical", "code-execution", "Keras TorchModuleWrapper: its config holds a torch.load() "
                         "pickle, which runs code when unpickled", cls, file=file, detail=label)
            elif cls == "__lambda__" and not in_lambda:
                self.add("critical", "keras-lambda", "serialized Python bytecode (a lambda) that Keras rebuilds and runs",
                         "__lambda__", file=file, detail=label)
            module = obj.get("module")
            if in_lambda and "function" in obj:
                module = None  # the Lambda finding above already names its function
            if isinstance(module, str) and module and not (module == "keras" or module.startswith("keras.")):
                top = module.split(".")[0]
                what = f"{cls!r} from module {module!r}" if cls else f"module {module!r}"
                if top in DANGEROUS_MODULES:
                    self.add("critical", "keras-import", f"the config makes Keras import {what}: a standard-library "
                             "module that can run commands or touch files", cls, file=file, detail=label)
                else:
                    self.add("medium", "keras-custom-object", f"the config makes Keras import {what} "
                             "(custom code that must be installed and trusted)", cls, file=file, detail=label)
            for k, v in obj.items():
                self._walk_keras(v, file=file, where=where, path=path + [str(k)], depth=depth + 1,
                                 in_lambda=in_lambda or (cls == "Lambda" and k == "config"))
        elif isinstance(obj, list):
            for i, v in enumerate(obj):
                self._walk_keras(v, file=file, where=where, path=path + [str(i)], depth=depth + 1)

    def scan_keras_metadata(self, msg, *, file: str) -> None:
        self.stats["keras_objects"] += len(msg.nodes)
        for node in msg.nodes:
            self.scan_keras_json(node.metadata, file=file, where=f"keras_metadata {node.node_path or node.node_id}")

    def scan_keras_h5(self, path: str) -> None:
        """A Keras HDF5 model (``.h5``, or a Keras 2.12 ``.keras``): the JSON of the root group's
        ``model_config`` attribute (the architecture: layers, Lambda bytecode) and
        ``training_config`` (optimizer, losses, metrics: objects Keras deserializes when it
        compiles the loaded model), read without libhdf5 (:mod:`tfformats._io.hdf5`).
        What cannot be read is a finding: ``high`` when it may hide the model config of a file
        libhdf5 would open, ``medium`` when the file is truncated (libhdf5 refuses it)."""
        from ..errors import TFFormatsError
        from .._io.hdf5 import is_truncated, read_root_attributes, string_value

        not_audited = "its Keras model config (layers, Lambda bytecode) is not audited"
        try:
            attrs = read_root_attributes(path)
        except TFFormatsError as exc:
            truncated = is_truncated(path)
            self.add("medium" if truncated else "high", "unparsable",
                     f"the HDF5 root group cannot be read ({exc.message}){_H5_TRUNCATED if truncated else ''}; "
                     + not_audited, file=path, detail="root group")
            return
        if attrs.truncated:
            self.add("medium", "unparsable", "the file is shorter than the end of file its superblock records"
                     + _H5_TRUNCATED + "; what can be read is scanned", file=path, detail="superblock")
        keys = [k for k in ("model_config", "training_config") if k in attrs.attributes]
        for why in attrs.unsupported:
            severity = "medium" if "model_config" in keys or attrs.truncated else "high"
            self.add(severity, "unparsable", f"the root group has {why}: tfformats cannot read it, and "
                     + ("the training config may be there" if "model_config" in keys
                        else "the model config may be there, so " + not_audited), file=path, detail="root group")
        if "model_config" not in keys and not attrs.unsupported:
            if not keys:
                self.stats["data_only"] = 1
            self.add("info", "keras-h5", "no model_config attribute in the root group: a weights file or other "
                     "HDF5 data, which Keras cannot load as a model", file=path, detail="root group")
        for key in keys:
            what = "model config (layers, Lambda bytecode)" if key == "model_config" else \
                "training config (optimizer, losses, metrics)"
            try:
                text = string_value(path, attrs, key)
            except TFFormatsError as exc:
                severity = "high" if key == "model_config" and not attrs.truncated else "medium"
                self.add(severity, "unparsable", f"the {key} attribute cannot be read ({exc.message}): "
                         f"its Keras {what} is not audited", file=path, detail=f"attribute {key}")
                continue
            try:
                doc = json.loads(text)
            except (ValueError, RecursionError) as exc:
                self.add("medium", "unparsable", f"the {key} attribute is not valid JSON ({type(exc).__name__}: "
                         f"{str(exc)[:200]}), which Keras cannot load either: its {what} is not audited",
                         file=path, detail=f"attribute {key}")
                continue
            self.stats["keras_configs"] += 1
            self.scan_keras_doc(doc, file=path, where=f"attribute {key}")

    def scan_keras_archive(self, path: str) -> None:
        from .._io.source import ZIP_REFUSALS

        # A damaged archive (bad headers, bad deflate data, encrypted or unknown
        # compression) is reported, not raised from inside zipfile.
        try:
            self._scan_keras_zip(path)
        except ZIP_REFUSALS as exc:
            self.add("medium", "unparsable", f"the archive cannot be read ({type(exc).__name__}: {exc}); not fully scanned",
                     file=path)

    def _scan_keras_zip(self, path: str) -> None:
        import zipfile

        from ._common import keras_json_member

        with zipfile.ZipFile(path) as z:
            for info in z.infolist():
                nm = info.filename
                if nm.startswith("/") or ".." in nm.replace("\\", "/").split("/"):
                    self.add("high", "archive-path", f"archive member {nm!r} would be extracted outside its directory",
                             file=path, detail=f"member {nm}")
            data, why = keras_json_member("config.json", archive=z)
            if why is not None:
                self.add("medium", "archive", f"{why}: not scanned", file=path)
            elif data is not None:
                self.stats["keras_configs"] += 1
                self.scan_keras_json(data.decode("utf-8", "replace"), file=path, where="config.json")


_H5_TRUNCATED = " (libhdf5, and so Keras, refuses to open a truncated file)"


def _lambda_kind(fn, cfg) -> str:
    ftype = cfg.get("function_type") if isinstance(cfg, dict) else None
    if isinstance(fn, dict) and fn.get("class_name") == "__lambda__":
        return "serialized Python bytecode"
    if isinstance(fn, (list, tuple)) or ftype == "lambda":
        return "serialized Python bytecode"
    if isinstance(fn, str):
        module = cfg.get("module") if isinstance(cfg, dict) else None
        return f"calls the Python function {module + '.' if module else ''}{fn}"
    if isinstance(fn, dict):
        return f"calls {fn.get('module', '?')}.{fn.get('config', fn.get('class_name', '?'))}"
    return "Python code"


def _inflate_limit(n: int) -> int:
    return INFLATE_BASE + INFLATE_RATIO * n


def _decodings(v: bytes, depth: int = 0):
    """``(encoding, bytes)`` readings of a string that may hold a serialized GraphDef:
    as is, base64 (TensorFlow's web-safe alphabet or the standard one, padded or
    not), zlib or gzip (``DecodeCompressed``), and these nested up to 3 deep.
    ``bytes`` is None when a string that inflates to what begins like a GraphDef
    passes ``_inflate_limit``."""
    import base64
    import binascii
    import zlib

    if len(v) < 8 or len(v) > MAX_NESTED_BYTES:
        return
    if v[:1] == b"\x0a":
        yield "", v
    if depth >= 3:
        return
    inner = None
    if _BASE64.match(v):
        s = v.translate(bytes.maketrans(b"-_", b"+/"))
        try:
            inner = ("base64", base64.b64decode(s + b"=" * (-len(s) % 4), validate=True))
        except (binascii.Error, ValueError):
            inner = None
    elif v[:2] == b"\x1f\x8b" or (v[0] & 0x0F == 8 and (v[0] << 8 | v[1]) % 31 == 0):
        kind = "gzip" if v[:2] == b"\x1f\x8b" else "zlib"
        d = zlib.decompressobj(31 if kind == "gzip" else 15)
        try:
            out = d.decompress(v, _inflate_limit(len(v)))
        except zlib.error:
            out = None
        if out is not None and d.unconsumed_tail and out[:1] == b"\x0a":
            yield kind, None
            out = None
        inner = (kind, out) if out else None
    if inner is not None:
        for enc, data in _decodings(inner[1], depth + 1):
            yield (f"{inner[0]}+{enc}" if enc else inner[0]), data


class _Resolver:
    """The constant value of a string tensor of a graph, when it can be computed
    without running anything: ``Const``, through ``Identity``-like ops,
    ``DecodeBase64``, ``DecodeCompressed``, ``StringJoin``, and function arguments
    whose every caller (a direct call or ``(Stateful)PartitionedCall``) passes one."""

    _PASS = frozenset({"Identity", "Snapshot", "StopGradient", "PreventGradient", "EnsureShape", "CheckNumerics"})

    def __init__(self, graph, library) -> None:
        self.limit = _inflate_limit(graph.ByteSize())  # no value computed here grows past this
        self.memo: dict = {}
        self.nodes = {"": {n.name: n for n in graph.node}}
        self.args = {}
        for name, f in library.items():
            self.nodes[name] = {n.name: n for n in f.node_def}
            self.args[name] = [a.name for a in f.signature.input_arg]
        self.sites = defaultdict(list)  # (function, arg index) -> [(caller context, input ref) | None]
        for ctx, nodes in self.nodes.items():
            for n in nodes.values():
                callee = None
                if n.op in library:
                    callee = n.op
                elif n.op in ("PartitionedCall", "StatefulPartitionedCall") and "f" in n.attr:
                    callee = n.attr["f"].func.name if n.attr["f"].func.name in library else None
                else:
                    for key, attr in n.attr.items():
                        which = attr.WhichOneof("value")
                        names = [attr.func.name] if which == "func" else [x.name for x in attr.list.func] if which == "list" else []
                        for fn in names:
                            for i in range(len(self.args.get(fn, ()))):
                                self.sites[(fn, i)].append(None)  # If/While/Map...: argument mapping not followed
                    continue
                if callee is None:
                    continue
                ins = [i for i in n.input if not i.startswith("^")]
                for i in range(len(self.args[callee])):
                    self.sites[(callee, i)].append((ctx, ins[i]) if i < len(ins) else None)

    def resolve(self, ctx: str, ref: str, depth: int = 0):
        """A list of possible byte values, or None when not a constant expression.
        Each (context, node) is computed once (a cycle resolves to None)."""
        if depth > 32 or ref.startswith("^"):
            return None
        key = (ctx, ref.split(":", 1)[0], ":" in ref)
        if key not in self.memo:
            self.memo[key] = None
            self.memo[key] = self._resolve(ctx, ref, depth)
        return self.memo[key]

    def _resolve(self, ctx: str, ref: str, depth: int):
        import base64
        import binascii
        import zlib

        name = ref.split(":", 1)[0]
        n = self.nodes.get(ctx, {}).get(name)
        if n is None:
            args = self.args.get(ctx, [])
            if ctx and name in args and ":" not in ref:
                sites = self.sites.get((ctx, args.index(name)))
                if not sites or None in sites:
                    return None
                out = []
                for c, r in sites[:64]:
                    vals = self.resolve(c, r, depth + 1)
                    if vals is None:
                        return None
                    out.extend(vals)
                return out if len(sites) <= 64 and len(out) <= 64 and sum(map(len, out)) <= self.limit else None
            return None
        ins = [i for i in n.input if not i.startswith("^")]
        if n.op == "Const":
            t = n.attr["value"].tensor if "value" in n.attr else None
            if t is None or t.dtype != 7 or len(t.string_val) != 1:
                return None
            return [t.string_val[0]]
        if n.op in self._PASS and ins:
            return self.resolve(ctx, ins[0], depth + 1)
        if n.op in ("DecodeBase64", "DecodeCompressed") and ins:
            vals = self.resolve(ctx, ins[0], depth + 1)
            if vals is None:
                return None
            out = []
            for v in vals:
                try:
                    if n.op == "DecodeBase64":
                        s = v.translate(bytes.maketrans(b"-_", b"+/"))
                        out.append(base64.b64decode(s + b"=" * (-len(s) % 4), validate=True))
                    else:
                        kind = n.attr["compression_type"].s if "compression_type" in n.attr else b""
                        if kind == b"":
                            out.append(v)
                        else:
                            d = zlib.decompressobj(31 if kind == b"GZIP" else 15)
                            data = d.decompress(v, self.limit)
                            if d.unconsumed_tail:
                                return None
                            out.append(data)
                except (binascii.Error, ValueError, zlib.error):
                    return None
            return out
        if n.op == "StringJoin":
            parts = []
            for i in ins:
                vals = self.resolve(ctx, i, depth + 1)
                if vals is None or len(vals) != 1:
                    return None
                parts.append(vals[0])
            sep = n.attr["separator"].s if "separator" in n.attr else b""
            if sum(map(len, parts)) + len(sep) * len(parts) > self.limit:
                return None
            return [sep.join(parts)]
        return None


def _norm_op(op: str) -> str:
    base = op.rsplit(">", 1)[-1]
    return re.sub(r"v\d+$", "", re.sub(r"[^a-z0-9]", "", base.lower()))


_LOOKALIKES: dict = {}


def _unknown_op(op: str):
    """``(severity, rule, why)`` of an op TensorFlow's registry does not know."""
    if not _LOOKALIKES:
        for name in sorted(RULES):
            _LOOKALIKES.setdefault(_norm_op(name), name)
    native = "loading needs a custom op library (native code)"
    twin = _LOOKALIKES.get(_norm_op(op))
    if twin is not None and twin != op:
        return ("high", RULES[twin][1],
                f"op {op!r} is not in TensorFlow's op registry but its name imitates {twin!r} ({RULES[twin][2]}); {native}")
    if op.startswith("IO>"):
        return ("high", "file-read", f"op {op!r} is a tensorflow-io op (that library's ops read files, archives, "
                "databases and network streams); " + native)
    return ("medium", "unknown-op", f"op {op!r} is not in TensorFlow's op registry nor in the function library: {native}")


def _attr_tensors(attrs, prefix: str = "", depth: int = 0):
    """``(attr path, TensorProto)`` of every tensor in an attr map, including the attrs of
    function values (``func`` and ``list.func``), a few levels deep."""
    for key, attr in attrs.items():
        which = attr.WhichOneof("value")
        here = f"{prefix}{key}"
        if which == "tensor":
            yield here, attr.tensor
        elif which == "list":
            for t in attr.list.tensor:
                yield here, t
            if depth < 4:
                for i, f in enumerate(attr.list.func):
                    yield from _attr_tensors(f.attr, f"{here}[{i}].{f.name}.", depth + 1)
        elif which == "func" and depth < 4:
            yield from _attr_tensors(attr.func.attr, f"{here}.{attr.func.name}.", depth + 1)


def _callees(node, library):
    """``(label, function name)`` pairs a node calls."""
    if node.op in library:
        yield "op", node.op
    for key, attr in node.attr.items():
        which = attr.WhichOneof("value")
        if which == "func" and attr.func.name in library:
            yield f"attr {key}", attr.func.name
        elif which == "list":
            for f in attr.list.func:
                if f.name in library:
                    yield f"attr {key}", f.name


def _closure(roots, calls) -> set:
    seen = set()
    stack = list(roots)
    while stack:
        f = stack.pop()
        if f in seen:
            continue
        seen.add(f)
        stack.extend(calls.get(f, ()))
    return seen


def _object_graph_functions(meta) -> dict:
    """function name -> ["object_graph node N (kind)"]: the SavedModel's objects whose methods
    (tf.function concrete functions) a loaded model exposes, called by no graph node."""
    refs = defaultdict(list)
    for i, node in enumerate(meta.object_graph_def.nodes):
        kind = node.WhichOneof("kind")
        if kind == "function":
            for name in node.function.concrete_functions:
                refs[name].append(f"object_graph node {i} (function)")
        elif kind == "bare_concrete_function":
            refs[node.bare_concrete_function.concrete_function_name].append(f"object_graph node {i} (concrete function)")
    return refs


def _saver_nodes(meta):
    """``(node names, scope)`` of the saver named by ``saver_def``, or None."""
    if not meta.HasField("saver_def"):
        return None
    sd = meta.saver_def
    names = {t.split(":", 1)[0] for t in (sd.filename_tensor_name, sd.save_tensor_name, sd.restore_op_name) if t}
    if not names:
        return None
    scopes = {n.rsplit("/", 1)[0] for n in names if "/" in n}
    scope = scopes.pop() if len(scopes) == 1 else None
    return names, scope, sd.filename_tensor_name.split(":", 1)[0] or None


def _meta_assets(meta) -> list[tuple[str, str]]:
    """``(tensor name, filename)`` of every asset: ``asset_file_def`` (TF2) and the
    ``saved_model_assets`` collection (TF1 SavedModelBuilder)."""
    out = [(a.tensor_info.name, a.filename) for a in meta.asset_file_def]
    if "saved_model_assets" in meta.collection_def:
        from ..proto import pb

        for any_msg in meta.collection_def["saved_model_assets"].any_list.value:
            a = pb.AssetFileDef()
            try:
                if any_msg.Unpack(a):
                    out.append((a.tensor_info.name, a.filename))
            except Exception:
                continue
    return out


def _asset_input(node, index, assets):
    """The asset filename when input ``index`` is an asset tensor of the meta graph (or, in a
    function, an argument every top-level caller feeds from one)."""
    if not assets or index is None or index >= len(node.input):
        return None
    return assets.get(node.input[index].lstrip("^").split(":", 1)[0])


def _top_level_calls(graph):
    """``({function: [top-level nodes calling it through attr f]}, {variable: [values assigned]})``."""
    calls: dict = {}
    assigns: dict = {}
    for n in graph.node:
        if "f" in n.attr and n.attr["f"].func.name:
            calls.setdefault(n.attr["f"].func.name, []).append(n)
        if n.op in ("AssignVariableOp", "Assign") and len(n.input) >= 2:
            assigns.setdefault(n.input[0].split(":", 1)[0], []).append(n.input[1])
    return calls, assigns


def _arg_assets(f, fname, asset_calls, top_nodes, assets) -> dict:
    """``{argument name: asset filename}`` for the arguments of function ``fname`` that every
    top-level call feeds from an asset tensor.

    In a TF2 SavedModel a vocabulary reaches its table initializer so: the asset placeholder is
    assigned to a variable, read (``ReadVariableOp``) and passed to the initializer function.
    """
    by_function, assigns = asset_calls
    calls = by_function.get(fname)
    if not calls:
        return {}
    out = {}
    for i, arg in enumerate(f.signature.input_arg):
        found = {_asset_behind(c.input[i], top_nodes, assets, assigns) if i < len(c.input) else None for c in calls}
        if len(found) == 1 and None not in found:
            out[arg.name] = found.pop()
    return out


def _asset_behind(ref: str, nodes, assets, assigns, limit: int = 64):
    """The asset filename ``ref`` carries (through identities and a variable it was assigned to), if any."""
    todo, seen = [ref], set()
    while todo and len(seen) < limit:
        name = todo.pop().lstrip("^").split(":", 1)[0]
        if name in seen:
            continue
        seen.add(name)
        if name in assets:
            return assets[name]
        n = nodes.get(name)
        if n is None:
            continue
        if n.op in ("Identity", "IdentityN", "Snapshot", "ReadVariableOp") and n.input:
            todo.append(n.input[0])
        elif n.op in ("VarHandleOp", "VariableV2", "Variable"):
            todo.extend(assigns.get(name, []))
    return None


class _Sources:
    """Where a path input comes from: constant strings met, whether something fed at run time
    (a placeholder, a function argument) takes part, and whether the saver's filename tensor does."""

    __slots__ = ("consts", "fed", "saver")

    def __init__(self) -> None:
        self.consts: list = []
        self.fed = False
        self.saver = False


_FED_OPS = frozenset({"Placeholder", "PlaceholderV2", "PlaceholderWithDefault", "_Arg", "_DeviceArg"})


def _path_sources(node, index, nodes, saver_file=None, limit: int = 256):
    """What input ``index`` of ``node`` is computed from, following every data input back.

    Stops at constants (their string values are collected), at placeholders
    and function arguments (names that are no node of ``nodes``), and at the
    saver's filename tensor ``saver_file``.  A ``PlaceholderWithDefault`` is
    both fed and followed into its default.  ``None`` when the op has no
    such input.
    """
    if index is None or index >= len(node.input):
        return None
    out = _Sources()
    seen: set = set()
    todo = [node.input[index]]
    while todo and len(seen) < limit:
        ref = todo.pop()
        if ref.startswith("^"):
            continue
        name = ref.split(":", 1)[0]
        if name in seen:
            continue
        seen.add(name)
        if saver_file is not None and name == saver_file:
            out.saver = True
            continue
        src = nodes.get(name)
        if src is None:
            out.fed = True  # a function argument (or a node this graph lacks)
            continue
        if src.op == "Const":
            t = src.attr["value"].tensor if "value" in src.attr else None
            if t is not None and t.dtype == 7:
                out.consts.extend(v.decode("utf-8", "backslashreplace")[:200] for v in t.string_val[:4])
            continue
        if src.op in _FED_OPS:
            out.fed = True
        todo.extend(src.input)
    return out


def _refine(op, node, severity, category, why, path):
    """Attr-dependent severities.  Returns ``(severity, category, why, skip)``."""
    attr = node.attr

    def s(key, default=""):
        return attr[key].s.decode("utf-8", "replace") if key in attr else default

    if op == "PrintV2":
        stream = s("output_stream", "stderr")
        if stream.startswith("file://"):
            return "high", "file-write", f"prints tensor values into the file {stream[7:]!r}", False
        return severity, category, f"{why} (output_stream {stream!r})", False
    if op.startswith("Debug"):
        urls = [u.decode("utf-8", "replace") for u in attr["debug_urls"].list.s] if "debug_urls" in attr else []
        if urls:
            cat = "network" if any(u.startswith("grpc://") for u in urls) else "file-write"
            return "high", cat, f"debug op that sends tensor values to {', '.join(urls)}", False
        return severity, category, why, False
    if op in ("_Send", "_Recv", "_HostSend", "_HostRecv", "Send", "Recv"):
        devices = {s("send_device"), s("recv_device")} - {""}
        remote = sorted(d for d in devices if "/job:" in d and "/job:localhost" not in d)
        if remote:
            return "medium", category, f"{why}; to/from {', '.join(remote)}", False
        return severity, category, why, False
    if op in ("DecodeProtoV2", "EncodeProto"):
        src = s("descriptor_source", "local://")
        if src == "local://" or src.startswith("bytes://"):
            return severity, category, why, True
        return "medium", "file-read", f"reads protobuf descriptors from the file {src!r}", False
    if op in ("CacheDataset", "CacheDatasetV2"):
        if path == "":
            return severity, category, why, True
        return "high", "file-write", "caches a dataset into files", False
    if op == "ImmutableConst":
        return severity, category, f"{why}: {s('memory_region_name', '?')!r}", False
    if op == "Skipgram" and "filename" in attr:
        return severity, category, f"{why}: {s('filename')!r}", False
    if op == "RecordInput" and "file_pattern" in attr:
        return severity, category, f"{why}: {s('file_pattern')!r}", False
    if op in ("DumpTensor", "CalibrationStatisticsSaver"):
        target = s("log_dir_path") or s("output_file_path")
        return severity, category, f"{why}: {target!r}" if target else why, False
    return severity, category, why, False


def _plausible_graph(g, known) -> bool:
    if not len(g.node) and not len(g.library.function):
        return False
    from ._detect import _sane_graph

    if not _sane_graph(g):
        return False
    if known is None:
        return True
    lib = {f.signature.name for f in g.library.function}
    return any(n.op in known or n.op in lib for n in g.node) or bool(lib)


# Add the ops the rules above do not list but whose attrs decide (CacheDataset, DecodeProtoV2...)
for _op, _rule in {
    "CacheDataset": ("info", "file-write", "caches a dataset"),
    "CacheDatasetV2": ("info", "file-write", "caches a dataset"),
    "DecodeProtoV2": ("info", "file-read", "decodes protobufs"),
    "EncodeProto": ("info", "file-read", "encodes protobufs"),
}.items():
    RULES.setdefault(_op, _rule)


# -- entry point ----------------------------------------------------------------------
def scan_target(target, *, check_unknown: bool = True, show_progress: bool = False) -> Scanner:
    from ._common import progress

    known = load_known_ops()
    if known is None and check_unknown:
        warn("known_ops.txt is missing from this installation: unknown ops are not checked")
    s = Scanner(known_ops=known, check_unknown=check_unknown)
    with progress(None, "scanning", unit=" functions", enabled=show_progress) as bar:
        s.bar = bar
        _scan_kind(s, target)
        s.bar = None
    return s


def _scan_kind(s: Scanner, target) -> None:
    from ._detect import GRAPH_KINDS, graph_message, load_saved_model_proto

    kind = target.kind
    if kind == "saved_model":
        s._in_saved_model = True
        main = target.details.get("file", "saved_model.pb")
        file = os.path.join(target.path, main)
        sm = load_saved_model_proto(target)
        for m in sm.meta_graphs:
            tags = ",".join(m.meta_info_def.tags)
            s.scan_meta_graph(m, file=file, tags=tags)
        if main in ("saved_model.pb", "saved_model.pbtxt"):
            _scan_sibling_saved_models(s, target.path, main)
        km = os.path.join(target.path, "keras_metadata.pb")
        if os.path.isfile(km):
            from ..proto import pb

            with open(km, "rb") as f:
                data = f.read()
            try:
                msg = pb.keras.SavedMetadata.FromString(data)
            except Exception as exc:
                s.add("medium", "unparsable", f"keras_metadata.pb cannot be parsed ({exc}); not scanned", file=km)
            else:
                s.scan_keras_metadata(msg, file=km)
    elif kind == "meta_graph":
        s.scan_meta_graph(graph_message(target), file=target.path, tags=None)
    elif kind in ("graph_def", "frozen_graph"):
        s.scan_graph_def(graph_message(target), file=target.path)
    elif kind == "keras_metadata":
        s.scan_keras_metadata(target.details["message"], file=target.path)
    elif kind == "keras_archive":
        s.scan_keras_archive(target.path)
    elif kind == "keras_h5":
        s.scan_keras_h5(target.path)
        if target.details.get("directory"):  # an unzipped Keras 3 save (detection found its config.json)
            s.scan_keras_folder(target.details["directory"])
    elif kind in ("checkpoint", "checkpoint_v1", "tfrecord", "event_file", "log_dir", "keras_sharded"):
        s.stats["data_only"] = 1  # nothing executable in these formats
        if kind in ("checkpoint", "checkpoint_v1"):
            _scan_graphs_beside_checkpoint(s, target)
    else:
        raise usage_error(f"{target.given}: 'scan' does not handle {kind}")
    if kind not in GRAPH_KINDS and kind != "keras_metadata" and os.path.isfile(target.path):
        _scan_disguised_graph(s, target.path, kind)


def _scan_graphs_beside_checkpoint(s: Scanner, target) -> None:
    """Graph files next to a checkpoint: ``PREFIX.meta`` (TF1's ``import_meta_graph`` loads it
    before restoring) and, for a directory given, its other ``.meta``/``.pb``/``.pbtxt`` files
    (an Estimator's ``graph.pbtxt``).  A checkpoint alone runs nothing; these do."""
    from ._detect import GRAPH_KINDS, detect

    prefix = target.path if target.kind == "checkpoint" else None
    paths = []
    seen = set()  # one file named two ways (the state file's absolute path, the folder given relative)

    def add(path: str) -> None:
        real = os.path.realpath(path)
        if real not in seen:
            seen.add(real)
            paths.append(path)

    if prefix and os.path.isfile(prefix + ".meta"):
        add(prefix + ".meta")
    directory = target.details.get("directory")
    if directory and os.path.isdir(directory):
        for name in sorted(os.listdir(directory))[:10_000]:
            full = os.path.join(directory, name)
            if name.endswith((".meta", ".pb", ".pbtxt")) and os.path.isfile(full):
                add(full)
    for path in paths[:50]:
        try:
            t = detect(path)
        except Exception as exc:  # a damaged neighbour: say so, keep going
            s.add("medium", "unparsable", f"a graph file beside the checkpoint cannot be read ({exc}); not scanned",
                  file=path)
            continue
        if t.kind not in GRAPH_KINDS:
            continue
        s.add("info", "beside-checkpoint", "a graph file beside the checkpoint (TF1 code loads the .meta next to the "
              "checkpoint it restores): scanned", file=path)
        _scan_kind(s, t)


_PROTO_SIZE_LIMIT = 2 << 30  # protobuf refuses larger messages


def _scan_disguised_graph(s: Scanner, path: str, kind: str) -> None:
    """A file detected as something else that TensorFlow would still import as a graph.

    Detection goes by magic numbers and headers, but code that does
    ``GraphDef.ParseFromString(open(path).read())`` does not look: a valid
    binary GraphDef/MetaGraphDef/SavedModel can be built to start like a
    TFRecord or end like a table.  The top-level protobuf fields are walked
    first (cheap; real data files fail at once), and only a file that walks
    cleanly to its end is parsed.
    """
    try:
        size = os.path.getsize(path)
    except OSError:
        return
    if not 0 < size < _PROTO_SIZE_LIMIT or not _wire_walks(path, size):
        return
    from ..proto import pb

    with open(path, "rb") as f:
        data = f.read(size)
    for name in ("GraphDef", "MetaGraphDef", "SavedModel"):
        try:
            msg = getattr(pb, name).FromString(data)
        except Exception:
            continue
        graphs = ([msg] if name == "GraphDef" else [msg.graph_def] if name == "MetaGraphDef"
                  else [m.graph_def for m in msg.meta_graphs])
        if not any(_plausible_graph(g, s.known) for g in graphs):
            continue
        nodes = sum(len(g.node) for g in graphs)
        functions = sum(len(g.library.function) for g in graphs)
        s.add("high", "disguised", f"the file, detected as {kind}, is also a valid binary {name} ({nodes} nodes, "
              f"{functions} functions) that TensorFlow would import: scanned as such", file=path)
        chain = [f"read as a binary {name}"]
        if name == "GraphDef":
            s.scan_graph_def(msg, file=path, nested_in=chain)
        elif name == "MetaGraphDef":
            s.scan_meta_graph(msg, file=path, tags=None, nested_in=chain)
        else:
            for m in msg.meta_graphs:
                s.scan_meta_graph(m, file=path, tags=",".join(m.meta_info_def.tags), nested_in=chain)


def _wire_walks(path: str, size: int, max_fields: int = 5_000_000) -> bool:
    """Whether the file is a well-formed sequence of protobuf fields from start to end
    (groups balanced), reading only field headers."""
    from .._io.varint import decode

    stack: list = []
    with open(path, "rb") as f:
        pos = 0
        for _ in range(max_fields):
            if pos == size:
                return not stack
            f.seek(pos)
            head = f.read(20)
            try:
                tag, n = decode(head, 0, len(head))
                if tag > 0xFFFFFFFF or tag >> 3 == 0:
                    return False
                wire = tag & 7
                if wire == 0:
                    _, n = decode(head, n, len(head))
                elif wire == 2:
                    length, n = decode(head, n, len(head))
                    n += length
                elif wire in (1, 5):
                    n += 8 if wire == 1 else 4
                elif wire == 3:
                    stack.append(tag >> 3)
                elif wire != 4 or not stack or stack.pop() != tag >> 3:
                    return False
            except ValueError:  # a varint that is malformed or runs off the end of the file
                return False
            pos += n
            if pos > size:
                return False
    return False


def _scan_sibling_saved_models(s: Scanner, directory: str, main: str) -> None:
    """The other SavedModel files of the directory: TensorFlow's Python loader reads
    ``saved_model.pb`` before ``saved_model.pbtxt``, but the C++ proto merger (and
    fingerprinting) read ``saved_model.cpb`` whenever it exists.  A second file is
    scanned too; a chunked one, which tfformats cannot read, is a finding."""
    from ._detect import parse_graph_message

    other = "saved_model.pbtxt" if main == "saved_model.pb" else "saved_model.pb"
    path = os.path.join(directory, other)
    if os.path.isfile(path):
        s.add("info", "unparsable", f"both {main} and {other} are present (TensorFlow loads saved_model.pb): both scanned",
              file=path)
        try:
            with open(path, "rb") as f:
                data = f.read()
            name, msg, _ = parse_graph_message(data, path=path, hint="SavedModel")
        except Exception as exc:  # a bad second file: report it, keep the first file's findings
            name, msg = None, f"{type(exc).__name__}: {exc}"
        if name == "SavedModel":
            for m in msg.meta_graphs:
                s.scan_meta_graph(m, file=path, tags=",".join(m.meta_info_def.tags))
        else:
            s.add("medium", "unparsable", f"{other} cannot be parsed as a SavedModel ({msg or 'unknown format'}); "
                  "not scanned", file=path)
    cpb = os.path.join(directory, "saved_model.cpb")
    if os.path.isfile(cpb):
        s.add("high", "unparsable", "a chunked saved_model.cpb is present: TensorFlow's C++ loader reads it instead of "
              f"{main}, and tfformats cannot read chunked SavedModels, so what it would run is not scanned", file=cpb)


def run(args) -> int:
    from ._detect import detect, localize

    target = localize(detect(args.path))  # reads every byte: a remote checkpoint or SavedModel is fetched first
    scanner = scan_target(target, check_unknown=not args.no_unknown_ops, show_progress=not args.no_progress)
    min_rank = RANK[args.min_severity]
    findings = sorted(
        (f for f in scanner.findings if RANK[f.severity] >= min_rank),
        key=lambda f: (-RANK[f.severity], f.rule, f.where()),
    )
    counts = Counter(f.severity for f in scanner.findings)
    fail = args.fail_on != "none" and any(RANK[f.severity] >= RANK[args.fail_on] for f in scanner.findings)
    if args.json:
        print_json(
            document(
                "scan",
                path=target.given,
                kind=target.kind,
                fail_on=args.fail_on,
                min_severity=args.min_severity,
                failed=fail,
                counts={s: counts.get(s, 0) for s in SEVERITIES},
                scanned=dict(scanner.stats),
                findings=[f.as_dict() for f in findings],
            )
        )
    else:
        _print_human(target, scanner, findings, counts, fail, args)
    return EXIT_FAILED if fail else EXIT_OK


def _print_human(target, scanner, findings, counts, fail, args) -> None:
    from ._table import table

    st = scanner.stats
    write(f"{target.describe()}: {target.given}")
    if st.get("data_only") and not st.get("graphs"):
        write("a data-only format: nothing in it can run code")
    else:
        parts = [f"{st.get(k, 0):,} {label}" for k, label in (
            ("meta_graphs", "meta graphs"), ("graphs", "graphs"), ("functions", "functions"), ("nodes", "nodes"),
            ("nested_graphs", "nested graphs"), ("keras_objects", "Keras objects"), ("keras_configs", "Keras configs"))
            if st.get(k)]
        write("scanned: " + (", ".join(parts) or "nothing"))
    if findings:
        rows = [[f.severity, f.rule, f.op or "", f.where(), f.why] for f in findings]
        write(table(["severity", "rule", "op", "where", "why"], rows, align="lllll"))
        called, seen = [], set()
        for f in findings:
            if f.location.get("called_from") and RANK[f.severity] >= RANK["medium"] and f.location["function"] not in seen:
                seen.add(f.location["function"])
                called.append(f)
        for f in called[:10]:
            write(f"  {f.location['function']} is called from: {'; '.join(f.location['called_from'][:3])}")
    summary = ", ".join(f"{counts[s]} {s}" for s in reversed(SEVERITIES) if counts.get(s))
    hidden = sum(counts.get(s, 0) for s in SEVERITIES if RANK[s] < RANK[args.min_severity])
    write(f"findings: {summary or 'none'}" + (f" ({hidden} below --min-severity {args.min_severity} not shown)" if hidden else ""))
    if args.fail_on != "none":
        write(f"{'FAIL' if fail else 'PASS'}: {'a' if fail else 'no'} finding at or above '{args.fail_on}'")
