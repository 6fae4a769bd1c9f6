"""Structural invariants of GraphDefs, function libraries and MetaGraphs.

Used by ``tfformats verify``.  Each check yields problem dicts
``{"severity": "error"|"warning", "file", "entry", "offset", "message"}``
where ``entry`` names the node/function/signature.
"""

from __future__ import annotations

import re

MAX_PROBLEMS_PER_GRAPH = 200
_FUNC_INPUT = re.compile(r"^([^:]+)(?::[^:]+(?::\d+)?)?$")


def problem(message: str, *, file=None, entry=None, offset=None, severity: str = "error") -> dict:
    return {"severity": severity, "file": file, "entry": entry, "offset": offset, "message": message}


def _node_input_name(inp: str) -> str:
    return inp[1:] if inp.startswith("^") else inp.split(":", 1)[0]


def check_graph_def(graph, *, file: str, where: str = "") -> list[dict]:
    """Node names unique, inputs resolve, referenced functions exist, no recursion."""
    out: list[dict] = []
    prefix = f"{where}: " if where else ""
    library = {f.signature.name: f for f in graph.library.function}
    if len(library) != len(graph.library.function):
        out.append(problem(f"{prefix}the function library defines a name twice", file=file, entry="library"))
    names = set()
    for n in graph.node:
        if not n.name:
            out.append(problem(f"{prefix}a node has an empty name", file=file, entry=f"op {n.op}"))
        elif n.name in names:
            out.append(problem(f"{prefix}node name {n.name!r} is used twice", file=file, entry=n.name))
        names.add(n.name)
        if not n.op:
            out.append(problem(f"{prefix}node has no op", file=file, entry=n.name))
    for n in graph.node:
        for inp in n.input:
            src = _node_input_name(inp)
            if src not in names:
                out.append(problem(f"{prefix}input {inp!r} names a node that does not exist", file=file, entry=n.name))
        out += _check_func_attrs(n, library, file=file, entry=f"{prefix}{n.name}")
        if len(out) > MAX_PROBLEMS_PER_GRAPH:
            return out
    for fname, f in library.items():
        out += check_function(f, library, file=file, where=f"{prefix}function {fname}")
        if len(out) > MAX_PROBLEMS_PER_GRAPH:
            return out
    for g in graph.library.gradient:
        for role, fn in (("function", g.function_name), ("gradient function", g.gradient_func)):
            if fn not in library:
                out.append(problem(f"{prefix}the library's gradient entry names the {role} {fn!r}, which it does not "
                                   "define; TensorFlow refuses such graphs", file=file, entry="library.gradient"))
    cycle = find_recursion(library)
    if cycle:
        out.append(
            problem(
                f"{prefix}functions call themselves recursively ({' -> '.join(cycle)}); TensorFlow rejects such graphs",
                file=file,
                entry=f"function {cycle[0]}",
            )
        )
    return out


def _func_refs(node):
    """Function names a node refers to through its attrs (and its op, when it is a function)."""
    for key, attr in node.attr.items():
        which = attr.WhichOneof("value")
        if which == "func":
            yield key, attr.func.name
        elif which == "list":
            for f in attr.list.func:
                yield key, f.name


def _check_func_attrs(node, library, *, file, entry) -> list[dict]:
    out = []
    for key, name in _func_refs(node):
        if name and name not in library:
            out.append(problem(f"attr {key!r} calls function {name!r}, which is not in the library", file=file, entry=entry))
    return out


def check_function(fdef, library, *, file: str, where: str) -> list[dict]:
    out = []
    sig = fdef.signature
    args = {a.name for a in sig.input_arg}
    names = set()
    for n in fdef.node_def:
        if n.name in names:
            out.append(problem("node name is used twice", file=file, entry=f"{where}/{n.name}"))
        names.add(n.name)
    for n in fdef.node_def:
        for inp in n.input:
            src = inp[1:] if inp.startswith("^") else _FUNC_INPUT.match(inp).group(1) if _FUNC_INPUT.match(inp) else inp
            if src not in names and src not in args:
                out.append(problem(f"input {inp!r} names neither an argument nor a node", file=file, entry=f"{where}/{n.name}"))
        out += _check_func_attrs(n, library, file=file, entry=f"{where}/{n.name}")
    outputs = {a.name for a in sig.output_arg}
    for key, value in fdef.ret.items():
        if key not in outputs:
            out.append(problem(f"ret {key!r} is not an output of the signature", file=file, entry=where))
        src = _FUNC_INPUT.match(value)
        if src and src.group(1) not in names and src.group(1) not in args:
            out.append(problem(f"output {key!r} comes from {value!r}, which does not exist", file=file, entry=where))
    for key in outputs - set(fdef.ret):
        out.append(problem(f"signature output {key!r} has no ret value", file=file, entry=where))
    return out


def find_recursion(library) -> list[str] | None:
    """A call cycle among library functions (as a list of names), or None."""
    calls = {}
    for name, f in library.items():
        targets = set()
        for n in f.node_def:
            if n.op in library:
                targets.add(n.op)
            for _, ref in _func_refs(n):
                if ref in library:
                    targets.add(ref)
        calls[name] = targets
    WHITE, GREY, BLACK = 0, 1, 2
    color = dict.fromkeys(calls, WHITE)
    for start in calls:
        if color[start] != WHITE:
            continue
        stack = [(start, iter(calls[start]))]
        path = [start]
        color[start] = GREY
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                color[node] = BLACK
                stack.pop()
                path.pop()
                continue
            if color[nxt] == GREY:
                return path[path.index(nxt):] + [nxt]
            if color[nxt] == WHITE:
                color[nxt] = GREY
                stack.append((nxt, iter(calls[nxt])))
                path.append(nxt)
    return None


def check_meta_graph(meta, *, file: str, where: str = "", assets_dir: str | None = None) -> list[dict]:
    import os

    out = check_graph_def(meta.graph_def, file=file, where=where)
    prefix = f"{where}: " if where else ""
    names = {n.name for n in meta.graph_def.node}
    for key, sig in meta.signature_def.items():
        for side, infos in (("input", sig.inputs), ("output", sig.outputs)):
            for k, t in infos.items():
                enc = t.WhichOneof("encoding")
                tensor_names = []
                if enc == "name":
                    tensor_names = [t.name]
                elif enc == "coo_sparse":
                    c = t.coo_sparse
                    tensor_names = [c.values_tensor_name, c.indices_tensor_name, c.dense_shape_tensor_name]
                for tn in tensor_names:
                    if tn and tn.split(":", 1)[0] not in names:
                        out.append(problem(f"{side} {k!r} names tensor {tn!r}, which is not in the graph", file=file, entry=f"{prefix}signature {key}"))
    if meta.HasField("saver_def"):
        sd = meta.saver_def
        for label, tn in (("filename tensor", sd.filename_tensor_name), ("save tensor", sd.save_tensor_name), ("restore op", sd.restore_op_name)):
            if tn and tn.split(":", 1)[0] not in names:
                out.append(problem(f"saver {label} {tn!r} is not in the graph", file=file, entry=f"{prefix}saver_def"))
    for a in meta.asset_file_def:
        fn = a.filename
        if os.path.isabs(fn) or ".." in fn.replace("\\", "/").split("/"):
            out.append(problem(f"asset filename {fn!r} points outside the assets directory", file=file, entry=f"{prefix}asset"))
        elif assets_dir is not None and not os.path.isfile(os.path.join(assets_dir, fn)):
            out.append(problem(f"asset file {fn!r} is missing from assets/", file=file, entry=f"{prefix}asset"))
        tn = a.tensor_info.name
        if tn and tn.split(":", 1)[0] not in names:
            out.append(problem(f"asset tensor {tn!r} is not in the graph", file=file, entry=f"{prefix}asset"))
    return out
