"""A summary of a graph: what it computes from what, what it stores, who wrote it.

:func:`summarize_graph` accepts a GraphDef, a MetaGraphDef or a path to a
``.pb``/``.pbtxt``/``.meta`` file and returns a :class:`GraphSummary`:

* ``inputs``: placeholders (``Placeholder``, ``PlaceholderWithDefault``) with
  dtype and shape; for graphs that carry signatures (MetaGraphDefs from a
  SavedModel or an Estimator export) the signatures' inputs instead;
* ``outputs``: nodes nothing consumes, leaving out the save/restore/init
  machinery (``save/*``, ``init``, ``*/Assign``, ``report_uninitialized_*``,
  no-ops and assignments), resource handles and control-flow residue (the
  pivots of TF1 ``tf.cond``, a functional ``While``'s counter and pass-through
  outputs); or the signatures' outputs;
* ``variables``: ``VariableV2``/``Variable``/``VarHandleOp`` nodes with dtype
  and shape; ``constants`` and the parameter count;
* the op histogram, devices, the TF version and graph producer version;
* the ops used inside the function library and inside graphs serialized in
  attributes, which functions the top level calls, which references point at
  functions that do not exist, and which functions call themselves.

``GraphSummary.to_dict()`` is JSON-serializable (schema in its docstring);
``str(summary)`` is a short human-readable report.
"""

from __future__ import annotations

import os
import re
from collections import Counter, deque
from dataclasses import dataclass, field

from .. import dtypes as _dt
from .constants import CONST_OPS
from .nodes import attr_dtype, attr_shape, node_name, num_elements, output_index, tensor_proto_shape
from .signatures import Signature, TensorSpec, check_signatures, parse_signatures
from .walk import DEFAULT_MAX_DEPTH, iter_function_refs, iter_nodes

__all__ = ["GraphSummary", "VariableSpec", "summarize_graph", "VARIABLE_OPS", "PLACEHOLDER_OPS"]

VARIABLE_OPS = frozenset({"VariableV2", "Variable", "VarHandleOp"})
PLACEHOLDER_OPS = frozenset({"Placeholder", "PlaceholderWithDefault", "PlaceholderV2"})

# Ops that are never a model's result even when nothing consumes them.
_MACHINERY_OPS = frozenset({
    "NoOp", "Assign", "AssignAdd", "AssignSub", "AssignVariableOp", "AssignAddVariableOp",
    "AssignSubVariableOp", "SaveV2", "Save", "SaveSlices", "RestoreV2", "Restore", "RestoreSlice",
    "MergeV2Checkpoints", "ShardedFilename", "ShardedFilespec", "VarIsInitializedOp", "IsVariableInitialized",
    "Const", "HostConst", "Placeholder", "PlaceholderWithDefault", "PlaceholderV2", "VariableV2", "Variable",
    "VarHandleOp", "InitializeTableV2", "InitializeTableFromTextFileV2", "InitializeTable",
    "InitializeTableFromTextFile", "DestroyResourceOp",
})
# Node names of the saver, initializers and friends.
_MACHINERY_NAMES = re.compile(
    r"^(save(_\d+)?/|init(_\d+)?$|init_all_tables$|init_all_vars|legacy_init_op$|main_op$|group_deps"
    r"|report_uninitialized_(variables|resources)|saver_filename$|global_step/|.*/Assign(_\d+)?$"
    r"|.*/Initializer/|.*/IsInitialized/|.*/Read/ReadVariableOp$)"
)


@dataclass
class VariableSpec:
    """A variable node of the graph."""

    name: str
    op: str
    dtype: str | None
    shape: list | None
    device: str = ""
    shared_name: str | None = None

    def to_dict(self) -> dict:
        return {"name": self.name, "op": self.op, "dtype": self.dtype, "shape": self.shape,
                "device": self.device, "shared_name": self.shared_name}


@dataclass
class GraphSummary:
    """What a graph holds; see the module docstring.

    ``to_dict()`` schema (all keys always present)::

        kind: "GraphDef" | "frozen GraphDef" | "MetaGraphDef" | "SavedModel"
        path: str | null
        node_count: int;  op_histogram: {op: count}  (top-level graph)
        inputs, outputs: [{key, name, dtype, shape, encoding, op, signature?, exists?}]
        signatures: {key: {key, method_name, inputs, outputs}} | null
        variables: [{name, op, dtype, shape, device, shared_name}]
        variable_elements: int;  constant_count, constant_elements, constant_bytes: int
        parameter_count: int  (elements of numeric variables; for graphs without
                               variables, the elements of numeric constants)
        devices: [str];  tensorflow_version, tensorflow_git_version: str | null
        producer, min_consumer: int | null;  tags: [str] | null
        function_count, function_node_count: int;  function_op_histogram: {op: count}
        functions_called: [str];  missing_functions: [str];  recursive_functions: [str]
        nested_graph_count: int;  nested_op_histogram: {op: count}
        is_frozen: bool  (no variables, no resource inputs, and a numeric constant of
                          more than one element: weights held as constants)
        problems: [str]

    Shapes use null for unknown dimensions and for unknown rank.
    """

    kind: str = "GraphDef"
    path: str | None = None
    node_count: int = 0
    op_histogram: dict[str, int] = field(default_factory=dict)
    inputs: list[TensorSpec] = field(default_factory=list)
    outputs: list[TensorSpec] = field(default_factory=list)
    signatures: dict[str, Signature] | None = None
    variables: list[VariableSpec] = field(default_factory=list)
    variable_elements: int = 0
    constant_count: int = 0
    constant_elements: int = 0
    constant_bytes: int = 0
    parameter_count: int = 0
    devices: list[str] = field(default_factory=list)
    tensorflow_version: str | None = None
    tensorflow_git_version: str | None = None
    producer: int | None = None
    min_consumer: int | None = None
    tags: list[str] | None = None
    function_count: int = 0
    function_node_count: int = 0
    function_op_histogram: dict[str, int] = field(default_factory=dict)
    functions_called: list[str] = field(default_factory=list)
    missing_functions: list[str] = field(default_factory=list)
    recursive_functions: list[str] = field(default_factory=list)
    nested_graph_count: int = 0
    nested_op_histogram: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    _weight_constants: int = field(default=0, repr=False)  # numeric constants of more than one element
    _resource_inputs: int = field(default=0, repr=False)  # placeholders of resources (captured variables)

    @property
    def is_frozen(self) -> bool:
        """No variables, and weights held as constants.

        A traced function's graph (``get_concrete_function().graph``) has no
        variable ops either, but reads its variables through resource
        placeholders and holds only scalar constants: not frozen.
        """
        return (not self.variables and self._weight_constants > 0 and not self._resource_inputs
                and self.kind != "SavedModel")

    @property
    def all_ops(self) -> set[str]:
        """Every op type anywhere: top level, functions and nested graphs."""
        return set(self.op_histogram) | set(self.function_op_histogram) | set(self.nested_op_histogram)

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "path": self.path,
            "node_count": self.node_count,
            "op_histogram": dict(self.op_histogram),
            "inputs": [t.to_dict() for t in self.inputs],
            "outputs": [t.to_dict() for t in self.outputs],
            "signatures": None if self.signatures is None else {k: s.to_dict() for k, s in self.signatures.items()},
            "variables": [v.to_dict() for v in self.variables],
            "variable_elements": self.variable_elements,
            "constant_count": self.constant_count,
            "constant_elements": self.constant_elements,
            "constant_bytes": self.constant_bytes,
            "parameter_count": self.parameter_count,
            "devices": list(self.devices),
            "tensorflow_version": self.tensorflow_version,
            "tensorflow_git_version": self.tensorflow_git_version,
            "producer": self.producer,
            "min_consumer": self.min_consumer,
            "tags": self.tags,
            "function_count": self.function_count,
            "function_node_count": self.function_node_count,
            "function_op_histogram": dict(self.function_op_histogram),
            "functions_called": list(self.functions_called),
            "missing_functions": list(self.missing_functions),
            "recursive_functions": list(self.recursive_functions),
            "nested_graph_count": self.nested_graph_count,
            "nested_op_histogram": dict(self.nested_op_histogram),
            "is_frozen": self.is_frozen,
            "problems": list(self.problems),
        }

    def __str__(self) -> str:
        lines = []
        kind = self.kind
        head = f"{kind}" + (f" {self.path}" if self.path else "")
        who = []
        if self.tensorflow_version:
            who.append(f"TensorFlow {self.tensorflow_version}")
        if self.producer is not None:
            who.append(f"producer {self.producer}")
        lines.append(f"{head}: {self.node_count} nodes, {len(self.op_histogram)} op types" + (f" ({', '.join(who)})" if who else ""))
        if self.tags is not None:
            lines.append(f"tags: {', '.join(self.tags) or '(none)'}")

        def fmt(t: TensorSpec) -> str:
            shape = "?" if t.shape is None else "[" + ", ".join("?" if d is None else str(d) for d in t.shape) + "]"
            label = f"{t.signature}/{t.key}" if t.signature else (t.key or "")
            parts = [label, t.name or f"({t.encoding})", t.dtype or "?", shape, t.op or ""]
            if t.exists is False:
                parts.append("MISSING")
            return "  " + "  ".join(p for p in parts if p)

        lines.append(f"inputs ({len(self.inputs)}):")
        lines.extend(fmt(t) for t in self.inputs)
        lines.append(f"outputs ({len(self.outputs)}):")
        lines.extend(fmt(t) for t in self.outputs)
        lines.append(f"variables: {len(self.variables)} ({self.variable_elements} elements)")
        for v in self.variables[:50]:
            shape = "?" if v.shape is None else str(v.shape)
            lines.append(f"  {v.name}  {v.dtype}  {shape}  {v.op}")
        if len(self.variables) > 50:
            lines.append(f"  ... {len(self.variables) - 50} more")
        lines.append(
            f"constants: {self.constant_count} ({self.constant_elements} elements, {self.constant_bytes} bytes); "
            f"parameters: {self.parameter_count}" + (" [frozen]" if self.is_frozen else "")
        )
        top = sorted(self.op_histogram.items(), key=lambda kv: (-kv[1], kv[0]))
        lines.append("ops: " + ", ".join(f"{op} x{n}" for op, n in top[:20]) + (" ..." if len(top) > 20 else ""))
        if self.devices:
            lines.append("devices: " + ", ".join(self.devices))
        if self.function_count:
            fops = sorted(self.function_op_histogram.items(), key=lambda kv: (-kv[1], kv[0]))
            lines.append(
                f"functions: {self.function_count} ({self.function_node_count} nodes; called from the graph: "
                f"{len(self.functions_called)})"
            )
            lines.append("  ops inside: " + ", ".join(f"{op} x{n}" for op, n in fops[:20]) + (" ..." if len(fops) > 20 else ""))
        if self.missing_functions:
            lines.append("missing functions: " + ", ".join(self.missing_functions))
        if self.recursive_functions:
            lines.append("recursive functions: " + ", ".join(self.recursive_functions))
        if self.nested_graph_count:
            lines.append(f"nested graphs: {self.nested_graph_count} (ops: {', '.join(sorted(self.nested_op_histogram))})")
        for p in self.problems:
            lines.append(f"problem: {p}")
        return "\n".join(lines)


def _is_machinery(node) -> bool:
    return node.op in _MACHINERY_OPS or bool(_MACHINERY_NAMES.match(node.name))


def _is_assign_result(node, by_name) -> bool:
    """A read of a variable right after assigning it (what ``v.assign_add(1)`` returns)."""
    if node.op != "ReadVariableOp":
        return False
    for inp in node.input:
        if inp.startswith("^"):
            src = by_name.get(inp[1:])
            if src is not None and src.op.startswith("Assign"):
                return True
    return False


def _while_passthrough_outputs(loop, library) -> set[int]:
    """Outputs of a functional While that only carry a loop-invariant input through the body."""
    if "body" not in loop.attr or not loop.attr["body"].HasField("func"):
        return set()
    name = loop.attr["body"].func.name
    for f in library.function:
        if f.signature.name == name:
            ins, outs = f.signature.input_arg, f.signature.output_arg
            return {k for k in range(min(len(ins), len(outs))) if f.ret.get(outs[k].name) == ins[k].name}
    return set()


def _is_control_flow_residue(node, by_name, library) -> bool:
    """Identity nodes control flow leaves unconsumed without being results.

    * TF1 ``tf.cond``'s pivots (``cond/switch_t``, ``cond/switch_f``): Identity of
      ``Switch(pred, pred)``;
    * a functional ``tf.while_loop``'s (``While``, built by while_v2) per-output Identity
      of the loop counter, the iteration limit (outputs 0 and 1) and of inputs the body
      passes through unchanged (captured tensors and variables).
    """
    if node.op != "Identity" or len(node.input) < 1 or node.input[0].startswith("^"):
        return False
    src = by_name.get(node_name(node.input[0]))
    if src is None:
        return False
    if src.op in ("Switch", "RefSwitch"):
        data = [i for i in src.input if not i.startswith("^")]
        return len(data) == 2 and data[0] == data[1]
    if src.op in ("While", "StatelessWhile") and "_num_original_outputs" in src.attr:
        k = output_index(node.input[0])
        return k < 2 or k in _while_passthrough_outputs(src, library)
    return False


def _output_spec(node) -> TensorSpec:
    shape = attr_shape(node, names=())
    return TensorSpec(key=None, name=f"{node.name}:0", dtype=attr_dtype(node), shape=shape, op=node.op)


def _sccs(graph: dict[str, list[str]]) -> list[list[str]]:
    """Strongly connected components (iterative Tarjan)."""
    index = {}
    low = {}
    on_stack = set()
    stack = []
    out = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            v, i = work.pop()
            if i == 0:
                index[v] = low[v] = counter
                counter += 1
                stack.append(v)
                on_stack.add(v)
            succ = graph.get(v, [])
            recurse = False
            while i < len(succ):
                w = succ[i]
                i += 1
                if w not in graph:
                    continue
                if w not in index:
                    work.append((v, i))
                    work.append((w, 0))
                    recurse = True
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            if recurse:
                continue
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                out.append(comp)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[v])
    return out


def _function_calls(graph_def) -> tuple[dict[str, list[str]], list[str], set[str]]:
    """(callees of each library function, functions the top level calls, unresolved refs)."""
    lib = {f.signature.name for f in graph_def.library.function}
    calls: dict[str, list[str]] = {}
    missing: set[str] = set()

    def refs(nodes):
        out = []
        for n in nodes:
            if n.op in lib:
                out.append(n.op)
            for _, fname in iter_function_refs(n):
                if fname in lib:
                    out.append(fname)
                else:
                    missing.add(fname)
        return list(dict.fromkeys(out))

    for f in graph_def.library.function:
        calls[f.signature.name] = refs(f.node_def)
    # gradients registered for functions refer to other functions too
    for gdef in graph_def.library.gradient:
        if gdef.gradient_func and gdef.gradient_func not in lib:
            missing.add(gdef.gradient_func)
    top = refs(graph_def.node)
    return calls, top, missing


def _meta_of(obj):
    desc = getattr(obj, "DESCRIPTOR", None)
    return desc.full_name if desc is not None else None


def summarize_graph(
    graph,
    *,
    path=None,
    kind: str | None = None,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_function_depth: int = 256,
) -> GraphSummary:
    """Summarize a GraphDef or MetaGraphDef (or a file holding one: a path, an
    fsspec URL or an open binary file).

    See :class:`GraphSummary`.  ``max_depth`` bounds how many serialized
    graphs deep the scan of attributes goes; ``max_function_depth`` bounds the
    call chain followed from the top level into the function library.
    """
    from ..proto import pb
    from .io import _file_object_name, _is_file_object, coerce_message, read_graph_file

    if isinstance(graph, (str, os.PathLike)) or _is_file_object(graph):
        if path is None:
            path = _file_object_name(graph) if _is_file_object(graph) else os.fspath(graph)
        graph = read_graph_file(graph)
    meta = None
    full = _meta_of(graph)
    if full == "tensorflow.MetaGraphDef":
        meta = coerce_message(graph, pb.MetaGraphDef)
        graph_def = meta.graph_def
    else:
        graph_def = coerce_message(graph, pb.GraphDef, what="summarize_graph")

    s = GraphSummary(path=path)
    nodes = list(graph_def.node)
    by_name = {}
    for n in nodes:
        if n.name in by_name:
            s.problems.append(f"two nodes are named {n.name!r}")
        by_name[n.name] = n
    s.node_count = len(nodes)
    s.op_histogram = dict(sorted(Counter(n.op for n in nodes).items(), key=lambda kv: (-kv[1], kv[0])))

    # versions
    if graph_def.HasField("versions"):
        s.producer = graph_def.versions.producer
        s.min_consumer = graph_def.versions.min_consumer
    elif graph_def.version:
        s.producer = graph_def.version
    if meta is not None and meta.HasField("meta_info_def"):
        mi = meta.meta_info_def
        s.tensorflow_version = mi.tensorflow_version or None
        s.tensorflow_git_version = mi.tensorflow_git_version or None
        s.tags = list(mi.tags)

    # consumers, dangling inputs
    consumed = set()
    dangling = 0
    for n in nodes:
        for inp in n.input:
            src = node_name(inp)
            consumed.add(src)
            if src not in by_name:
                dangling += 1
                if dangling <= 20:
                    s.problems.append(f"node {n.name!r} has input {inp!r}, which is not in the graph")
    if dangling > 20:
        s.problems.append(f"... {dangling - 20} more dangling inputs")

    # variables
    numeric_var_elements = 0
    for n in nodes:
        if n.op in VARIABLE_OPS:
            shared = n.attr["shared_name"].s.decode("utf-8", "replace") if "shared_name" in n.attr else None
            var = VariableSpec(name=n.name, op=n.op, dtype=attr_dtype(n, ("dtype",)), shape=attr_shape(n),
                               device=n.device, shared_name=shared or None)
            s.variables.append(var)
            k = num_elements(var.shape)
            if k is not None:
                s.variable_elements += k
                if var.dtype not in ("string", "resource", "variant", None):
                    numeric_var_elements += k

    # constants
    numeric_const_elements = 0
    for n in nodes:
        if n.op in CONST_OPS and "value" in n.attr:
            t = n.attr["value"].tensor
            s.constant_count += 1
            k = num_elements(tensor_proto_shape(t))
            if k is None:
                s.problems.append(f"Const node {n.name!r} has an invalid shape")
                continue
            s.constant_elements += k
            d = _dt.BY_ENUM.get(_dt.base_enum(t.dtype))
            if d is None:
                s.problems.append(f"Const node {n.name!r} has unknown dtype {t.dtype}")
            elif d.itemsize:
                s.constant_bytes += k * d.itemsize
                if d.enum != _dt.DT_BOOL:
                    numeric_const_elements += k
                    if k > 1:
                        s._weight_constants += 1
            elif d.enum == _dt.DT_STRING:
                s.constant_bytes += sum(len(v) for v in t.string_val) + len(t.tensor_content)
            if "dtype" in n.attr and _dt.base_enum(n.attr["dtype"].type) != _dt.base_enum(t.dtype):
                s.problems.append(
                    f"Const node {n.name!r}: dtype attribute {_dt.name_of(n.attr['dtype'].type)} "
                    f"but value is {_dt.name_of(t.dtype)}"
                )
    s._resource_inputs = sum(1 for n in nodes if n.op in PLACEHOLDER_OPS and "dtype" in n.attr
                             and _dt.base_enum(n.attr["dtype"].type) == _dt.DT_RESOURCE)
    # the weights: variables when there are any, else (frozen graphs) numeric constants
    s.parameter_count = numeric_var_elements if s.variables else numeric_const_elements

    # inputs / outputs: signatures win when the graph has model signatures
    sigs = parse_signatures(meta) if meta is not None else {}
    if sigs:
        s.problems.extend(check_signatures(sigs, graph_def))
        s.signatures = sigs
        for sig in sigs.values():
            if sig.internal:
                continue
            s.inputs.extend(sig.inputs.values())
            s.outputs.extend(sig.outputs.values())
    else:
        for n in nodes:
            if n.op in PLACEHOLDER_OPS and not _is_machinery_input(n):
                s.inputs.append(TensorSpec(key=None, name=f"{n.name}:0", dtype=attr_dtype(n, ("dtype", "T")),
                                           shape=attr_shape(n), op=n.op))
        for n in nodes:
            if (n.name not in consumed and not _is_machinery(n) and not _is_assign_result(n, by_name)
                    and not _is_control_flow_residue(n, by_name, graph_def.library)
                    and attr_dtype(n) != "resource"):
                s.outputs.append(_output_spec(n))

    s.devices = sorted({n.device for n in nodes if n.device})

    # the function library
    lib = graph_def.library
    s.function_count = len(lib.function)
    calls, top_calls, missing = _function_calls(graph_def)
    s.missing_functions = sorted(missing)
    reached = []
    seen = set()
    queue = deque((f, 1) for f in top_calls)
    truncated = False
    while queue:
        f, depth = queue.popleft()
        if f in seen:
            continue
        if depth > max_function_depth:
            truncated = True
            continue
        seen.add(f)
        reached.append(f)
        for g in calls.get(f, ()):
            if g not in seen:
                queue.append((g, depth + 1))
    s.functions_called = sorted(reached)
    if truncated:
        s.problems.append(f"function calls nest deeper than {max_function_depth}; not followed further")
    recursive = set()
    for comp in _sccs(calls):
        if len(comp) > 1 or comp[0] in calls.get(comp[0], ()):
            recursive.update(comp)
    s.recursive_functions = sorted(recursive)
    if missing:
        s.problems.append(f"{len(missing)} function reference(s) point outside the library: " + ", ".join(sorted(missing)[:10]))

    fhist: Counter = Counter()
    nhist: Counter = Counter()
    nested_graphs = set()
    devices = set(s.devices)
    for loc, n in iter_nodes(graph_def, max_depth=max_depth):
        if loc.nested_depth:
            nhist[n.op] += 1
            nested_graphs.add(loc.containers[: _nested_prefix(loc)])
        elif loc.function is not None:
            fhist[n.op] += 1
            s.function_node_count += 1
            if n.device:
                devices.add(n.device)
    s.devices = sorted(devices)
    s.function_op_histogram = dict(sorted(fhist.items(), key=lambda kv: (-kv[1], kv[0])))
    s.nested_op_histogram = dict(sorted(nhist.items(), key=lambda kv: (-kv[1], kv[0])))
    s.nested_graph_count = len(nested_graphs)

    if kind is not None:
        s.kind = kind
    elif meta is not None:
        s.kind = "MetaGraphDef"
    else:
        s.kind = "frozen GraphDef" if s.is_frozen else "GraphDef"
    return s


def _nested_prefix(loc) -> int:
    """Length of ``loc.containers`` up to and including its innermost nested-graph container."""
    for i in range(len(loc.containers) - 1, -1, -1):
        if loc.containers[i].startswith("node "):
            return i + 1
    return len(loc.containers)


def _is_machinery_input(node) -> bool:
    return bool(_MACHINERY_NAMES.match(node.name))
