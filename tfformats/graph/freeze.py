"""Freezing: variables replaced by constants holding a checkpoint's values.

What ``tf.compat.v1.graph_util.convert_variables_to_constants`` does, without
TensorFlow and without running anything:

1. keep only the nodes the outputs need: walk data inputs, control inputs
   (``^name``) and colocation constraints (``_class: loc:@name``) backward
   from the output nodes; the survivors keep their original order, and the
   function library and versions are copied;
2. each variable node left (``VariableV2``, ``Variable``, ``VarHandleOp``)
   becomes a ``Const`` with the same name, a ``dtype`` attribute (the
   variable's base dtype) and a ``value`` tensor read from the checkpoint;
3. its users are rewritten the way TF rewrites them: ``Identity`` and the
   other pass-through ops (``Enter``/``Exit``/``Switch``/``_SwitchN``/
   ``NextIteration``) get their ``T`` set to the base dtype and lose
   ``_output_shapes``, and their own users are visited in turn;
   ``ReadVariableOp`` becomes ``Identity(handle)`` with ``T`` = its
   ``dtype``; ``ResourceGather`` becomes ``GatherV2`` with a new
   ``<name>/axis`` constant; ``ResourceGatherNd`` becomes ``GatherNd``;
4. control flow v2 and function calls (``If``, ``While``, ``Case``,
   ``PartitionedCall`` and their stateless/stateful forms): the caller's input
   types (``Tin``/``T``) are updated and the called functions are rewritten
   from the argument on (recursively through nested calls), as copies named
   ``<base>_frozen_<n>`` that the caller now calls; a ``While`` also gets the
   constant's shape in ``output_shapes`` and its body the new output type.
   The original function stays in the library only while something else
   still calls it.

Beyond what TensorFlow's own converter does (its frozen graph fails to import
or run in these cases): ``VariableShape`` becomes ``Shape``; ``Merge`` is
retyped and followed like the other pass-through ops; the reference ops
``RefSwitch``/``RefIdentity``/``RefEnter``/``RefExit``/``RefNextIteration``/
``RefMerge`` fed a constant become their plain forms; ``ResourceGather``
inside a function body is rewritten too; and a ``ReadVariableOp`` returned
directly by a function has the function's ``ret`` fixed.  An op that would
change the variable (``Assign*``, ``ResourceApply*``...) or any other use of
a resource handle raises ``UnsupportedError``.

Which checkpoint key holds a variable: the graph's own saver says so
(``save/RestoreV2`` lists tensor names and slice specs, and each
``save/Assign*`` names the variable it restores; in TF2 SavedModels the saver
calls a restore function with the variable handles as arguments, and its
``AssignVariableOp``s say which ``RestoreV2`` output each gets); otherwise the MetaGraphDef's
``variables`` collection (``VariableDef.save_slice_info_def`` for partitioned
variables); otherwise the node name, then a ``VarHandleOp``'s ``shared_name``.
A partitioned variable's part (``w/part_1``) gets its slice of the full tensor.
"""

from __future__ import annotations

import os
import re
from collections import deque
from collections.abc import Mapping

import numpy as np

from .. import dtypes as _dt
from ..errors import DataLossError, InvalidArgumentError, TFFormatsError, UnknownTensorError, UnsupportedError, _where
from .nodes import node_name, output_index

__all__ = ["freeze_graph", "extract_sub_graph", "variable_checkpoint_keys"]

VARIABLE_OPS = frozenset({"VariableV2", "Variable", "VarHandleOp"})
# Reference-typed control-flow ops and their plain forms: fed a Const, they become the plain op.
_REF_TO_PLAIN = {"RefIdentity": "Identity", "RefEnter": "Enter", "RefExit": "Exit",
                 "RefNextIteration": "NextIteration", "RefSwitch": "Switch", "RefMerge": "Merge"}
# Ops that pass their input through: T is retyped and their consumers are visited.
_PASS_THROUGH = frozenset({"Identity", "Enter", "Exit", "NextIteration", "Switch", "_SwitchN", "Merge"}
                          | set(_REF_TO_PLAIN))
_MIN_INPUTS = {"ResourceGather": 2, "ResourceGatherNd": 2}
# Function callers: (first input that feeds the function, attr with the input types, function attrs).
_CALLERS = {
    "If": (1, "Tin", ("then_branch", "else_branch")),
    "StatelessIf": (1, "Tin", ("then_branch", "else_branch")),
    "Case": (1, "Tin", ("branches",)),
    "StatelessCase": (1, "Tin", ("branches",)),
    "PartitionedCall": (0, "Tin", ("f",)),
    "StatefulPartitionedCall": (0, "Tin", ("f",)),
    "While": (0, "T", ("body", "cond")),
    "StatelessWhile": (0, "T", ("body", "cond")),
}


_MUTATING_PREFIXES = ("Assign", "Scatter", "ResourceScatter", "ResourceApply", "ResourceSparseApply", "Apply",
                      "SparseApply", "ResourceStridedSliceAssign", "StridedSliceAssign", "CountUpTo",
                      "ResourceCountUpTo", "DestroyResourceOp", "VarIsInitializedOp", "IsVariableInitialized",
                      "DestroyTemporaryVariable")


def _mutates(op: str) -> bool:
    """Ops that need the variable itself (a ref or a handle), not its value."""
    return op.startswith(_MUTATING_PREFIXES)


def _output_names(output_node_names) -> list[str]:
    if isinstance(output_node_names, str):
        output_node_names = [n for n in re.split(r"[,\s]+", output_node_names) if n]
    names = [node_name(str(n)) for n in output_node_names]
    if not names:
        raise InvalidArgumentError("freeze_graph needs at least one output node name")
    return list(dict.fromkeys(names))


def extract_sub_graph(graph_def, dest_nodes):
    """The nodes ``dest_nodes`` depend on (data, control and colocation), in graph order.

    Like ``tf.compat.v1.graph_util.extract_sub_graph``; the library and
    versions are copied.  Raises ``InvalidArgumentError`` for unknown names
    and ``DataLossError`` for a graph in which two nodes share a name.
    """
    from ..proto import pb

    dest = _output_names(dest_nodes)
    by_name = {}
    order = {}
    for i, n in enumerate(graph_def.node):
        if n.name in by_name:
            # TensorFlow refuses to import such a graph; which of the two is meant cannot be told
            raise DataLossError(
                f"the graph has two nodes named {n.name!r} (nodes {order[n.name]} and {i}); node names must be unique"
            )
        by_name[n.name] = n
        order[n.name] = i
    missing = [d for d in dest if d not in by_name]
    if missing:
        raise InvalidArgumentError(f"output node(s) not in the graph: {', '.join(missing)}")
    keep = set()
    queue = deque(dest)
    while queue:
        name = queue.popleft()
        if name in keep:
            continue
        keep.add(name)
        node = by_name.get(name)
        if node is None:
            continue  # dangling reference: kept out, TF would fail the same way on import
        for inp in node.input:
            queue.append(node_name(inp))
        if "_class" in node.attr:
            for loc in node.attr["_class"].list.s:
                s = loc.decode("utf-8", "replace")
                if s.startswith("loc:@"):
                    queue.append(s[5:])
    out = pb.GraphDef()
    for name in sorted((k for k in keep if k in by_name), key=order.__getitem__):
        out.node.add().CopyFrom(by_name[name])
    out.library.CopyFrom(graph_def.library)
    out.versions.CopyFrom(graph_def.versions)
    return out


# -- which checkpoint key holds which variable -----------------------------------


def _const_strings(node) -> list[str] | None:
    if node is None or node.op != "Const" or "value" not in node.attr:
        return None
    from ..tensor import tensor_to_numpy

    try:
        arr = tensor_to_numpy(node.attr["value"].tensor, max_fill_bytes=1 << 24)
    except Exception:  # a malformed saver graph: ignore it, fall back to names
        return None
    if arr.dtype != object:
        return None
    return [v.decode("utf-8", "replace") for v in arr.reshape(-1)]


# RestoreV2/Restore ops a tf.compat.v1.train.Saver makes: in its "save" scope ("save", "save_1",
# "outer/save"...); init_from_checkpoint's are "checkpoint_initializer*", reading another checkpoint
_SAVER_SCOPE = re.compile(r"(?:^|/)save(?:_\d+)?/")


def _upstream(by_name: dict, start: str) -> set:
    """Names of ``start`` and every node it depends on (data and control inputs)."""
    seen = {start}
    todo = [start]
    while todo:
        n = by_name.get(todo.pop())
        if n is None:
            continue
        for inp in n.input:
            name = node_name(inp)
            if name not in seen:
                seen.add(name)
                todo.append(name)
    return seen


def _saver_keys(graph_def, restore_op: str | None = None) -> dict[str, tuple[str, str]]:
    """``{variable node: (checkpoint key, slice spec)}`` from the graph's restore ops.

    A graph can restore a variable in several places: its Saver (or several
    Savers), and ``init_from_checkpoint`` (warm starts, TF1 Hub modules, BERT's
    ``init_checkpoint``), whose restores read *another* checkpoint, under other
    keys.  With ``restore_op`` (a MetaGraphDef's ``saver_def.restore_op_name``)
    only the restores that op runs count, as when TensorFlow restores the
    graph; without it, restores in a Saver's ``save`` scope come before the
    others.
    """
    by_name = {n.name: n for n in graph_def.node}
    scope = _upstream(by_name, node_name(restore_op)) if restore_op and node_name(restore_op) in by_name else None

    def through_identity(inp: str, limit: int = 16) -> str:
        for _ in range(limit):
            n = by_name.get(node_name(inp))
            if n is None or n.op != "Identity" or not n.input:
                return inp
            inp = n.input[0]
        return inp

    restored = {}  # "restore_node:index" -> (key, slice)
    for n in graph_def.node:
        if n.op == "RestoreV2" and len(n.input) >= 3:
            keys = _const_strings(by_name.get(node_name(n.input[1])))
            specs = _const_strings(by_name.get(node_name(n.input[2])))
            if keys is None:
                continue
            specs = specs if specs is not None and len(specs) == len(keys) else [""] * len(keys)
            for i, (k, sp) in enumerate(zip(keys, specs)):
                restored[(n.name, i)] = (k, sp)
        elif n.op in ("Restore", "RestoreSlice") and len(n.input) >= 2:
            keys = _const_strings(by_name.get(node_name(n.input[1])))
            spec = [""]
            if n.op == "RestoreSlice" and len(n.input) >= 3:
                spec = _const_strings(by_name.get(node_name(n.input[2]))) or [""]
            if keys and len(keys) == 1:
                restored[(n.name, 0)] = (keys[0], spec[0])
    out = {}
    if restored:
        others = {}
        for n in graph_def.node:
            if n.op in ("Assign", "AssignVariableOp") and len(n.input) >= 2:
                if scope is not None and n.name not in scope:
                    continue
                src = through_identity(n.input[1])
                hit = restored.get((node_name(src), output_index(src)))
                if hit is not None:
                    var = node_name(through_identity(n.input[0]))
                    (out if scope is not None or _SAVER_SCOPE.search(node_name(src)) else others).setdefault(var, hit)
        for var, hit in others.items():
            out.setdefault(var, hit)
    # TF2 SavedModels (and graphs saved through a traced function) restore inside a
    # function: the caller passes the variable handles, the function assigns them.
    library = {f.signature.name: f for f in graph_def.library.function}
    for n in graph_def.node:
        if n.op not in ("StatefulPartitionedCall", "PartitionedCall") or "f" not in n.attr:
            continue
        fn = library.get(n.attr["f"].func.name)
        if fn is None or not any(x.op == "RestoreV2" for x in fn.node_def):
            continue
        data_inputs = [i for i in n.input if not i.startswith("^")]
        for arg, hit in _function_restore_keys(fn).items():
            if arg < len(data_inputs):
                out.setdefault(node_name(through_identity(data_inputs[arg])), hit)
    return out


def _decimal(text: str) -> int | None:
    """``int(text)`` for a plain decimal of at most 18 digits, else None (never raises)."""
    return int(text) if text.isdecimal() and len(text) <= 18 else None


def _function_restore_keys(fn) -> dict[int, tuple[str, str]]:
    """``{argument index: (key, slice spec)}`` for a restore function's AssignVariableOps."""
    nodes = {x.name: x for x in fn.node_def}
    args = {a.name: i for i, a in enumerate(fn.signature.input_arg)}

    def through_identity(inp: str, limit: int = 16) -> str:
        for _ in range(limit):
            x = nodes.get(inp.split(":", 1)[0])
            if x is None or x.op != "Identity" or not x.input or x.input[0].startswith("^"):
                return inp
            inp = x.input[0]
        return inp

    restored = {}
    for x in fn.node_def:
        if x.op == "RestoreV2" and len(x.input) >= 3:
            keys = _const_strings(nodes.get(x.input[1].split(":", 1)[0]))
            specs = _const_strings(nodes.get(x.input[2].split(":", 1)[0]))
            if keys is None:
                continue
            specs = specs if specs is not None and len(specs) == len(keys) else [""] * len(keys)
            for i, (k, sp) in enumerate(zip(keys, specs)):
                restored[(x.name, i)] = (k, sp)
    out = {}
    for x in fn.node_def:
        if x.op == "AssignVariableOp" and len(x.input) >= 2:
            parts = through_identity(x.input[1]).split(":")
            if len(parts) == 3 and parts[1] == "tensors" and _decimal(parts[2]) is not None:
                hit = restored.get((parts[0], _decimal(parts[2])))
                target = through_identity(x.input[0])
                if hit is not None and target in args:
                    out.setdefault(args[target], hit)
    return out


def _collection_keys(meta_graph) -> dict[str, tuple[str, str]]:
    """``{variable node: (key, slice spec)}`` from the MetaGraphDef's variables collections."""
    from ..proto import pb

    out = {}
    if meta_graph is None:
        return out
    for cname in ("variables", "trainable_variables", "local_variables", "model_variables"):
        if cname not in meta_graph.collection_def:
            continue
        for raw in meta_graph.collection_def[cname].bytes_list.value:
            try:
                vd = pb.VariableDef.FromString(raw)
            except Exception:
                continue
            var = node_name(vd.variable_name)
            if not var or var in out:
                continue
            if vd.HasField("save_slice_info_def") and vd.save_slice_info_def.full_name:
                si = vd.save_slice_info_def
                full = " ".join(str(d) for d in si.full_shape)
                sl = ":".join(f"{o},{s}" for o, s in zip(si.var_offset, si.var_shape))
                out[var] = (si.full_name, f"{full} {sl}")
    return out


def variable_checkpoint_keys(graph, checkpoint_keys=None) -> dict[str, tuple[str, str]]:
    """``{variable node name: (checkpoint key, slice spec)}`` for a graph's variables.

    ``graph`` is a GraphDef or MetaGraphDef.  The slice spec is ``""`` for a
    whole tensor, else TF's ``"full dims start,len:start,len"`` form.  When
    ``checkpoint_keys`` (a container of keys) is given, names that are not in
    it fall back to a VarHandleOp's ``shared_name``.
    """
    meta, graph_def = _split(graph)
    return _checkpoint_keys(meta, graph_def, checkpoint_keys)[0]


def _checkpoint_keys(meta, graph_def, checkpoint_keys=None) -> tuple[dict, set | None]:
    """:func:`variable_checkpoint_keys`, and the names of the variables the Saver that the
    MetaGraphDef's ``saver_def`` names restores (``None`` when it names none in the graph)."""
    restore_op = meta.saver_def.restore_op_name if meta is not None and meta.HasField("saver_def") else None
    if restore_op and node_name(restore_op) not in {n.name for n in graph_def.node}:
        restore_op = None
    from_saver = _saver_keys(graph_def, restore_op)
    from_coll = _collection_keys(meta)
    out = {}
    for n in graph_def.node:
        if n.op not in VARIABLE_OPS:
            continue
        if n.name in from_saver:
            out[n.name] = from_saver[n.name]
        elif n.name in from_coll:
            out[n.name] = from_coll[n.name]
        else:
            key = n.name
            shared = n.attr["shared_name"].s.decode("utf-8", "replace") if "shared_name" in n.attr else ""
            if checkpoint_keys is not None and key not in checkpoint_keys and shared and shared in checkpoint_keys:
                key = shared
            out[n.name] = (key, "")
    return out, (set(from_saver) if restore_op else None)


def _parse_slice_spec(spec: str, name: str):
    """``"4 8 0,2:0,8"`` -> ([4, 8], (slice(0, 2), slice(0, 8)))."""
    parts = spec.split()
    if not parts:
        return None, None
    try:
        full = [int(p) for p in parts[:-1]]
        dims = parts[-1].split(":")
        if len(dims) != len(full):
            raise ValueError("rank mismatch")
        sl = []
        for d, extent in zip(full, dims):
            if extent == "-":
                sl.append(slice(0, d))
            else:
                start, length = (int(x) for x in extent.split(","))
                if start < 0 or length < 0 or start + length > d:
                    raise ValueError("slice outside the tensor")
                sl.append(slice(start, start + length))
    except ValueError as exc:
        raise DataLossError(f"bad slice spec {spec!r} for variable: {exc}", entry=name) from None
    return full, tuple(sl)


# -- the rewrite -------------------------------------------------------------------


def _split(graph):
    from ..proto import pb
    from .io import _is_file_object, coerce_message, read_graph_file

    if isinstance(graph, (str, os.PathLike)) or _is_file_object(graph):
        graph = read_graph_file(graph)
    desc = getattr(graph, "DESCRIPTOR", None)
    if desc is not None and desc.full_name == "tensorflow.MetaGraphDef":
        meta = coerce_message(graph, pb.MetaGraphDef)
        return meta, meta.graph_def
    return None, coerce_message(graph, pb.GraphDef, what="freeze_graph")


class _Values:
    """Checkpoint access by key, from a path, a CheckpointReader or any Mapping."""

    def __init__(self, checkpoint):
        self._owned = None
        if isinstance(checkpoint, (str, os.PathLike)):
            from ..checkpoint.reader import load_checkpoint

            self._owned = self._m = load_checkpoint(checkpoint)
            self.where = os.fspath(checkpoint)
        elif isinstance(checkpoint, Mapping) or hasattr(checkpoint, "get_tensor"):
            self._m = checkpoint
            self.where = getattr(checkpoint, "prefix", None)
        else:
            raise InvalidArgumentError(
                f"checkpoint must be a path, a CheckpointReader or a Mapping, not {type(checkpoint).__name__}"
            )

    def __contains__(self, key) -> bool:
        try:
            return key in self._m
        except TypeError:
            return False

    def get(self, key):
        if hasattr(self._m, "get_tensor"):
            return self._m.get_tensor(key)
        return np.asarray(self._m[key])

    def close(self):
        if self._owned is not None:
            self._owned.close()


def _variable_value(node, key: str, spec: str, values: _Values) -> np.ndarray:
    if key not in values:
        raise UnknownTensorError(
            f"no value for variable {node.name!r} ({node.op}): checkpoint has no key {key!r}",
            path=values.where,
            entry=node.name,
        )
    value = values.get(key)
    full, sl = _parse_slice_spec(spec, node.name) if spec else (None, None)
    if full is not None:
        if list(value.shape) != full:
            raise DataLossError(
                f"variable {node.name!r} is a slice of {key!r} with full shape {full}, "
                f"but the checkpoint's tensor has shape {list(value.shape)}",
                path=values.where,
                entry=key,
            )
        value = np.ascontiguousarray(value[sl])
    want = _dt.base_enum(node.attr["dtype"].type) if "dtype" in node.attr else 0
    if want:
        d = _dt.from_enum(want)
        ok = value.dtype == object if d.is_string else value.dtype == d.numpy
        if not ok:
            got = "string" if value.dtype == object else str(value.dtype)
            raise DataLossError(
                f"variable {node.name!r} is {d.name} but checkpoint key {key!r} holds {got}",
                path=values.where,
                entry=key,
            )
    if "shape" in node.attr and not node.attr["shape"].shape.unknown_rank:
        dims = [d.size for d in node.attr["shape"].shape.dim]
        if all(d >= 0 for d in dims) and dims != list(value.shape):
            raise DataLossError(
                f"variable {node.name!r} has shape {dims} but its checkpoint value has shape {list(value.shape)}",
                path=values.where,
                entry=key,
            )
    return value


# The dtypes tf.make_tensor_proto writes as tensor_content (bool, complex, uint16 and the
# 4-/2-bit integers go to the typed fields).
_CONTENT_DTYPE_NAMES = ("float16", "float32", "float64", "int32", "uint8", "int16", "int8", "int64", "qint8",
                        "quint8", "qint16", "quint16", "qint32", "uint32", "uint64", "float8_e5m2",
                        "float8_e4m3fn", "float8_e4m3fnuz", "float8_e4m3b11fnuz", "float8_e5m2fnuz",
                        "float4_e2m1fn", "bfloat16")
_CONTENT_DTYPES: frozenset | None = None


def _content_dtypes() -> frozenset:
    global _CONTENT_DTYPES
    if _CONTENT_DTYPES is None:
        out = set()
        for name in _CONTENT_DTYPE_NAMES:
            try:
                out.add(_dt.as_dtype(name).enum)
            except Exception:  # a dtype this table does not know
                pass
        _CONTENT_DTYPES = frozenset(out)
    return _CONTENT_DTYPES


def _const_node(name: str, dtype_enum: int, value: np.ndarray):
    from ..proto import pb
    from ..tensor import numpy_to_tensor

    node = pb.NodeDef(name=name, op="Const")
    node.attr["dtype"].type = dtype_enum
    # like tf.make_tensor_proto: tensor_content for more than one element of its content types
    use_content = value.size > 1 and dtype_enum in _content_dtypes()
    node.attr["value"].tensor.CopyFrom(numpy_to_tensor(value, dtype=_dt.from_enum(dtype_enum), use_tensor_content=use_content))
    node.attr["value"].tensor.tensor_shape.SetInParent()  # present even for scalars, as TF writes it
    return node


def _rebuild(node, op: str):
    """Empty ``node`` in place (keeping its name) as a new ``op`` node; returns a copy of what it was."""
    from ..proto import pb

    original = pb.NodeDef()
    original.CopyFrom(node)
    node.Clear()
    node.name = original.name
    node.op = op
    return original


def _keep_class(node, original) -> None:
    """The colocation attribute of the node ``node`` replaced, if it had one."""
    if "_class" in original.attr:
        node.attr["_class"].CopyFrom(original.attr["_class"])


def _set_type(node, attr: str, index: int, dtype_enum: int) -> None:
    if attr not in node.attr:
        return
    v = node.attr[attr]
    kind = v.WhichOneof("value")
    if kind == "list" and len(v.list.type) > index:
        v.list.type[index] = dtype_enum
    elif kind == "type" and index == 0:
        v.type = dtype_enum


class _Converter:
    """Propagates "this input is now a constant of dtype D" through a graph and its functions.

    The same walk as TF's ``convert_to_constants`` (``_Node``/``_Function``
    convertibles): from each converted variable along data edges, rewriting
    readers, retyping pass-through ops, and following the inputs of function
    callers (``If``/``While``/``Case``/``PartitionedCall`` and their stateless
    and stateful forms) into the called functions' arguments.  A function that
    receives a constant is copied under a new name (``<base>_frozen_<n>``) and
    its callers are pointed at the copy.  The walk is iterative, so deeply
    nested graphs cannot exhaust the stack.
    """

    def __init__(self, graph_def):
        from ..proto import pb

        self.pb = pb
        self.out = pb.GraphDef()
        self.out.CopyFrom(graph_def)
        self.top = {n.name: n for n in self.out.node}
        self.top_consumers = self._consumers(self.out.node, None)
        self.library = {f.signature.name: f for f in graph_def.library.function}
        self.copies: dict = {}  # original function name -> converted FunctionDef copy
        self.copy_origin: dict[str, str] = {}  # copy's name -> original name
        self.fn_nodes: dict = {}  # original function name -> {node name: NodeDef of the copy}
        self.fn_consumers: dict = {}
        self.fn_rets: dict = {}
        self.orig_op: dict = {}  # (scope, node) -> op before any rewrite
        self.extra: list = []  # new top-level nodes (axis constants), appended at the end
        self.done: set = set()
        self.queue: deque = deque()
        self._taken = set(self.library)
        self._counter = 0

    # -- graph structure ---------------------------------------------------------
    @staticmethod
    def _source(inp: str, nodes, scope):
        """``(kind, name, output)`` an input string refers to: a node, or (in functions) an argument."""
        parts = inp.split(":")
        src = parts[0]
        if scope is None:
            return "node", src, output_index(inp)
        idx = (_decimal(parts[-1]) or 0) if len(parts) > 1 else 0
        if idx != 0 or src in nodes:
            return "node", src, parts[1] if len(parts) == 3 else idx
        return "arg", src, 0

    def _consumers(self, nodes, scope):
        by_name = {n.name for n in nodes}
        out: dict = {}
        for n in nodes:
            for i, inp in enumerate(n.input):
                if inp.startswith("^"):
                    continue
                kind, src, which = self._source(inp, by_name, scope)
                out.setdefault((kind, src), []).append((n.name, i, which))
        return out

    def _function_copy(self, fname: str, caller: str):
        if fname not in self.library:
            raise DataLossError(f"node {caller!r} calls function {fname!r}, which is not in the graph's library")
        if fname not in self.copies:
            base, sep, tail = fname.rpartition("_")
            base = base if sep and _decimal(tail) is not None else fname
            while True:
                self._counter += 1
                new_name = f"{base}_frozen_{self._counter}"
                if new_name not in self._taken:
                    break
            self._taken.add(new_name)
            copy = self.pb.FunctionDef()
            copy.CopyFrom(self.library[fname])
            copy.signature.name = new_name
            by_name = {}
            for n in copy.node_def:
                if n.name in by_name:  # TF refuses such a function too
                    raise DataLossError(f"function {fname!r} has two nodes named {n.name!r}", entry=fname)
                by_name[n.name] = n
            self.copies[fname] = copy
            self.copy_origin[new_name] = fname
            self.fn_nodes[fname] = by_name
            self.fn_consumers[fname] = self._consumers(copy.node_def, fname)
        return self.copies[fname]

    def _node(self, scope, name):
        return self.top[name] if scope is None else self.fn_nodes[scope][name]

    def _consumers_of(self, scope, kind, name):
        table = self.top_consumers if scope is None else self.fn_consumers[scope]
        return table.get((kind, name), ())

    def _where(self, scope, name) -> str:
        return repr(name) if scope is None else f"{name!r} in function {scope!r}"

    # -- the walk ------------------------------------------------------------------
    def variable_converted(self, var_name: str, dtype_enum: int, value: np.ndarray, var_op: str) -> None:
        handle = var_op == "VarHandleOp"
        for cname, idx, _ in self._consumers_of(None, "node", var_name):
            self.queue.append(("node", None, cname, idx, dtype_enum, value.shape, handle, var_name))
        while self.queue:
            item = self.queue.popleft()
            key = item[:4]
            if key in self.done:
                continue
            self.done.add(key)
            if item[0] == "node":
                self._convert_node(*item[1:])
            else:
                self._convert_arg(*item[1:])

    def _push_consumers(self, scope, name, dtype_enum, shape, handle, var, skip_output=None):
        for cname, idx, which in self._consumers_of(scope, "node", name):
            if skip_output is not None and which in skip_output:
                continue
            self.queue.append(("node", scope, cname, idx, dtype_enum, shape, handle, var))

    def _convert_arg(self, fname, index, dtype_enum, shape, handle, var):
        fn = self.copies[fname]
        args = fn.signature.input_arg
        if not 0 <= index < len(args):
            raise DataLossError(f"function {fname!r} has {len(args)} arguments; a caller passes it argument {index}")
        args[index].type = dtype_enum
        if "_input_shapes" in fn.attr:
            shapes = fn.attr["_input_shapes"].list.shape
            if index < len(shapes):
                del shapes[index].dim[:]
                shapes[index].unknown_rank = True
        arg_attrs = fn.arg_attr[index].attr  # (creates the entry, as TF's converter does)
        if "_output_shapes" in arg_attrs:
            shapes = arg_attrs["_output_shapes"].list.shape
            if shapes:
                del shapes[0].dim[:]
                shapes[0].unknown_rank = True
        for cname, idx, _ in self._consumers_of(fname, "arg", args[index].name):
            self.queue.append(("node", fname, cname, idx, dtype_enum, shape, handle, var))

    def _rename_output(self, scope, name, old: str, new: str) -> None:
        """Inside a function, consumers of ``name:old:i`` now read ``name:new:i``."""
        if scope is None:
            return
        prefix = f"{name}:{old}:"
        nodes = self.fn_nodes[scope]
        for cname, i, _ in self._consumers_of(scope, "node", name):
            consumer = nodes.get(cname)
            if consumer is None or i >= len(consumer.input):
                continue  # the consumer was rewritten already (a reader with a stray extra input)
            inp = consumer.input[i]
            if inp.startswith(prefix):
                consumer.input[i] = f"{name}:{new}:{inp[len(prefix):]}"
        if scope not in self.fn_rets:  # node name -> ret keys reading it
            by_node: dict = {}
            for k, v in self.copies[scope].ret.items():
                by_node.setdefault(v.split(":", 1)[0], []).append(k)
            self.fn_rets[scope] = by_node
        ret = self.copies[scope].ret
        for k in self.fn_rets[scope].get(name, ()):
            if ret[k].startswith(prefix):
                ret[k] = f"{name}:{new}:{ret[k][len(prefix):]}"

    def _new_const(self, scope, name, dtype_enum, value) -> str:
        """Adds a Const node next to its user; returns the input string that reads it."""
        if scope is None:
            if name not in self.top and all(e.name != name for e in self.extra):
                self.extra.append(_const_node(name, dtype_enum, value))
            return name
        nodes = self.fn_nodes[scope]
        if name not in nodes:
            node = self.copies[scope].node_def.add()
            node.CopyFrom(_const_node(name, dtype_enum, value))
            nodes[name] = node
        return f"{name}:output:0"

    def _convert_node(self, scope, name, idx, dtype_enum, shape, handle, var):
        node = self._node(scope, name)
        op = self.orig_op.setdefault((scope, name), node.op)
        needs = _MIN_INPUTS.get(op, 0)
        if len(node.input) < needs:
            raise DataLossError(f"{op} node {self._where(scope, name)} has {len(node.input)} inputs; it needs {needs}")
        if op in _PASS_THROUGH:
            if op in _REF_TO_PLAIN:
                node.op = _REF_TO_PLAIN[op]  # a Const is not a reference: read it with the plain op
            _set_type(node, "T", 0 if op in ("Merge", "RefMerge") else idx, dtype_enum)
            if "_output_shapes" in node.attr:
                del node.attr["_output_shapes"]
            # Merge's second output is the index of the input taken, not data
            skip = {1, "value_index"} if op in ("Merge", "RefMerge") else None
            self._push_consumers(scope, name, dtype_enum, shape, handle, var, skip)
        elif op == "ReadVariableOp":
            original = _rebuild(node, "Identity")
            node.input.append(original.input[0])
            node.attr["T"].CopyFrom(original.attr["dtype"])
            _keep_class(node, original)
            self._rename_output(scope, name, "value", "output")
        elif op == "ResourceGather" and idx == 0:
            if "batch_dims" in node.attr and node.attr["batch_dims"].i != 0:
                raise UnsupportedError(
                    f"cannot freeze ResourceGather {self._where(scope, name)} with batch_dims={node.attr['batch_dims'].i}"
                )
            tidx = node.attr["Tindices"].type if "Tindices" in node.attr else _dt.DT_INT32
            axis = self._new_const(scope, name + "/axis", tidx, np.array(0, _dt.from_enum(tidx).numpy))
            original = _rebuild(node, "GatherV2")
            node.input.extend([original.input[0], original.input[1], axis])
            node.attr["Tparams"].CopyFrom(original.attr["dtype"])
            node.attr["Tindices"].type = tidx
            node.attr["Taxis"].type = tidx
            _keep_class(node, original)
        elif op == "ResourceGatherNd" and idx == 0:
            original = _rebuild(node, "GatherNd")
            node.input.extend([original.input[0], original.input[1]])
            node.attr["Tparams"].CopyFrom(original.attr["dtype"])
            node.attr["Tindices"].CopyFrom(original.attr["Tindices"])
            _keep_class(node, original)
        elif op == "VariableShape" and idx == 0:
            original = _rebuild(node, "Shape")
            node.input.append(original.input[0])
            node.attr["T"].type = dtype_enum
            if "out_type" in original.attr:
                node.attr["out_type"].CopyFrom(original.attr["out_type"])
        elif op in _CALLERS:
            first, type_attr, fattrs = _CALLERS[op]
            if idx < first:
                return
            arg = idx - first
            _set_type(node, type_attr, arg, dtype_enum)
            for fattr in fattrs:
                if fattr not in node.attr:
                    continue
                v = node.attr[fattr]
                funcs = [v.func] if v.HasField("func") else list(v.list.func)
                for f in funcs:
                    orig_name = self.copy_origin.get(f.name, f.name)  # may already point at a copy
                    copy = self._function_copy(orig_name, name)
                    f.name = copy.signature.name
                    self.queue.append(("arg", orig_name, arg, dtype_enum, shape, handle, var))
            if op in ("While", "StatelessWhile"):
                # output idx is loop variable idx: now the constant's shape (the
                # .meta's _output_shapes too, or TF's import rejects the node)
                for shape_attr in ("output_shapes", "_output_shapes"):
                    shapes = node.attr[shape_attr].list.shape if shape_attr in node.attr else []
                    if idx < len(shapes):
                        shapes[idx].Clear()
                        for dim in shape:
                            shapes[idx].dim.add(size=int(dim))
                # the body's outputs are its next inputs: same types
                if "body" in node.attr and node.attr["body"].HasField("func"):
                    body = self.copies.get(self.copy_origin.get(node.attr["body"].func.name, ""))
                    if body is not None and arg < len(body.signature.output_arg):
                        body.signature.output_arg[arg].type = dtype_enum
        elif _mutates(op) or handle:
            raise UnsupportedError(
                f"the outputs depend on {op} node {self._where(scope, name)}, which uses variable {var!r} as a "
                "variable rather than reading its value; a frozen graph cannot keep it"
            )
        # any other op reads a reference variable's value: it now reads the Const

    # -- the result ----------------------------------------------------------------
    def result(self):
        from .walk import iter_function_refs

        out = self.out
        for node in self.extra:  # new constants go last, as TF adds them
            out.node.add().CopyFrom(node)
        if not self.copies:
            return out
        lib = {f.signature.name: f for f in out.library.function}

        def refs(nodes):
            for n in nodes:
                if n.op in lib:
                    yield n.op
                for _, fname in iter_function_refs(n):
                    yield fname

        # An original that was copied stays only while something still calls it.
        roots = set(refs(out.node))
        for name, f in lib.items():
            if name not in self.copies:
                roots.update(refs(f.node_def))
        for c in self.copies.values():
            roots.update(refs(c.node_def))
        reached = set()
        queue = deque(roots)
        while queue:
            fname = queue.popleft()
            if fname in reached or fname not in lib:
                continue
            reached.add(fname)
            queue.extend(refs(lib[fname].node_def))
        functions = []
        for f in out.library.function:
            name = f.signature.name
            if name in self.copies:
                functions.append(self.copies[name])
                if name in reached:
                    functions.append(f)
            else:
                functions.append(f)
        kept = {f.signature.name for f in functions}
        gradients = [g for g in out.library.gradient if g.function_name in kept]
        library = self.pb.FunctionDefLibrary()
        for f in functions:
            library.function.add().CopyFrom(f)
        for g in gradients:
            library.gradient.add().CopyFrom(g)
        for rf in out.library.registered_gradients:
            library.registered_gradients.add().CopyFrom(rf)
        out.library.CopyFrom(library)
        return out


def freeze_graph(
    graph,
    checkpoint,
    output_node_names,
    *,
    variable_names_allowlist=None,
    variable_names_denylist=None,
):
    """A frozen GraphDef: ``graph``'s variables replaced by ``checkpoint``'s values.

    ``graph`` is a MetaGraphDef or GraphDef (tfformats' or TensorFlow's) or a
    ``.meta``/``.pb``/``.pbtxt`` file (a path, an fsspec URL or an open binary
    file); ``checkpoint`` a checkpoint path/prefix (or URL), a
    :class:`~tfformats.CheckpointReader` or a
    ``Mapping[str, ndarray]``; ``output_node_names`` the nodes to keep
    (``"name"``, ``"name:0"`` and comma-separated strings are accepted).
    See the module docstring for what is rewritten.  Variables named in
    ``variable_names_denylist`` (or missing from an allowlist) stay variables.

    Errors keep their class (``UnsupportedError``, ``DataLossError``,
    ``UnknownTensorError``...) and, when ``graph`` is a file, name it: as the
    error's ``path``, or in the message when the path is the checkpoint's.
    """
    graph_file = _graph_file_name(graph)
    meta, graph_def = _split(graph)
    try:
        return _freeze(meta, graph_def, checkpoint, output_node_names, variable_names_allowlist,
                       variable_names_denylist)
    except TFFormatsError as exc:
        if graph_file is not None:
            _name_graph_file(exc, graph_file)
        raise


def _graph_file_name(graph) -> str | None:
    """What errors call the graph's file: the path, URL or open file's name; None for a message."""
    from .io import _file_object_name, _is_file_object

    if isinstance(graph, (str, os.PathLike)):
        return os.fsdecode(os.fspath(graph))
    if _is_file_object(graph):
        return _file_object_name(graph)
    return None


def _name_graph_file(exc: TFFormatsError, graph_file: str) -> TFFormatsError:
    """Make ``exc`` (raised while freezing) name the graph's file; returns it, same class.

    An error without a ``path`` gets the graph file as its path; one that
    names another file (the checkpoint) says which graph was being frozen.
    """
    if exc.path is None:
        exc.path = graph_file
    elif str(exc.path) != graph_file and graph_file not in exc.message:
        exc.message = f"{exc.message} (freezing the graph in {graph_file})"
    else:
        return exc
    exc.args = (f"{_where(exc.path, exc.entry, exc.offset)}: {exc.message}",) + tuple(exc.args[1:])
    return exc


def _freeze(meta, graph_def, checkpoint, output_node_names, variable_names_allowlist, variable_names_denylist):
    outputs = _output_names(output_node_names)
    sub = extract_sub_graph(graph_def, outputs)
    values = _Values(checkpoint)
    try:
        keys = variable_checkpoint_keys(meta if meta is not None else graph_def, checkpoint_keys=values)

        def convert(name: str) -> bool:
            if variable_names_allowlist is not None and name not in variable_names_allowlist:
                return False
            if variable_names_denylist is not None and name in variable_names_denylist:
                return False
            return True

        conv = _Converter(sub)
        for n in sub.node:
            if n.op not in VARIABLE_OPS or not convert(n.name):
                continue
            key, spec = keys.get(n.name, (n.name, ""))
            value = _variable_value(n, key, spec, values)
            dtype_enum = _dt.base_enum(n.attr["dtype"].type) if "dtype" in n.attr else _dt.from_numpy(value.dtype).enum
            conv.top[n.name].CopyFrom(_const_node(n.name, dtype_enum, value))
            conv.variable_converted(n.name, dtype_enum, value, n.op)
        return conv.result()
    finally:
        values.close()
