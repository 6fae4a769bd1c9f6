"""Walk every NodeDef of a graph: the top level, every function of the
library, and graphs serialized inside attributes.

Ops can hide in three places a naive scan of ``graph_def.node`` misses:

* function bodies: ``graph_def.library.function[*].node_def``, called through
  ``func`` attributes (``PartitionedCall.f``, ``While.body``, ``If.then_branch``...);
* graphs serialized into bytes: a string attribute or a string ``Const`` tensor
  holding a binary (or text) GraphDef, as tf.data does for ``DatasetFromGraph``;
  such a nested graph has its own function library;
* any mix of the two, to any depth.

:func:`iter_nodes` visits them all without recursion, with a bound on how many
serialized graphs deep it goes and on how many bytes it will parse, so a
crafted file can neither hang it nor exhaust the stack.  Each node comes with a
:class:`NodeLocation` saying where it was found.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Iterator

from .. import dtypes as _dt

__all__ = ["NodeLocation", "iter_nodes", "iter_function_refs", "DEFAULT_MAX_DEPTH"]

DEFAULT_MAX_DEPTH = 8
DEFAULT_MAX_NESTED_BYTES = 1 << 30
_MIN_NESTED_BYTES = 4


@dataclass(frozen=True)
class NodeLocation:
    """Where a NodeDef lives.

    ``containers`` lists the enclosing scopes from the outside in, e.g.
    ``("meta_graph[0] {serve}", "function 'f'", "node 'ds' attr 'graph_def'",
    "function 'g'")``.  ``function`` is the innermost function whose body holds
    the node (None for a graph's top level); ``nested_depth`` counts the
    serialized graphs crossed to get there (0 for the file's own graph).
    """

    containers: tuple[str, ...] = ()
    function: str | None = None
    nested_depth: int = 0

    @property
    def in_function(self) -> bool:
        return self.function is not None

    @property
    def nested(self) -> bool:
        return self.nested_depth > 0

    def child(self, container: str, *, function: str | None = None, nested: bool = False) -> "NodeLocation":
        return NodeLocation(
            self.containers + (container,),
            function=function,
            nested_depth=self.nested_depth + (1 if nested else 0),
        )

    def describe(self, node_name: str | None = None) -> str:
        parts = list(self.containers) or ["graph"]
        if node_name is not None:
            parts.append(f"node {node_name!r}")
        return " > ".join(parts)

    def __str__(self) -> str:
        return self.describe()

    def to_dict(self) -> dict:
        return {"containers": list(self.containers), "function": self.function, "nested_depth": self.nested_depth}


def iter_function_refs(node) -> Iterator[tuple[str, str]]:
    """``(attr name, function name)`` for every function a NodeDef refers to.

    Covers ``func`` attrs and lists of them; a node whose *op* is a library
    function (a direct call) is reported by the caller, which knows the library.
    """
    for attr_name in sorted(node.attr):
        v = node.attr[attr_name]
        kind = v.WhichOneof("value")
        if kind == "func":
            if v.func.name:
                yield attr_name, v.func.name
            yield from _nested_func_refs(v.func, attr_name)
        elif kind == "list":
            for f in v.list.func:
                if f.name:
                    yield attr_name, f.name
                yield from _nested_func_refs(f, attr_name)


def _nested_func_refs(name_attr_list, attr_name, depth: int = 0):
    # NameAttrList.attr may itself hold func attrs (rare); bounded depth.
    if depth > 4:
        return
    for k in sorted(name_attr_list.attr):
        v = name_attr_list.attr[k]
        kind = v.WhichOneof("value")
        funcs = [v.func] if kind == "func" else (list(v.list.func) if kind == "list" else [])
        for f in funcs:
            if f.name:
                yield f"{attr_name}.{k}", f.name
            yield from _nested_func_refs(f, f"{attr_name}.{k}", depth + 1)


def _string_blobs(node, max_items: int = 4096) -> Iterator[tuple[str, bytes]]:
    """``(where, bytes)`` for byte strings in a node's attributes that might hold a graph."""
    for attr_name in sorted(node.attr):
        v = node.attr[attr_name]
        kind = v.WhichOneof("value")
        if kind == "s":
            yield f"attr {attr_name!r}", v.s
        elif kind == "tensor":
            yield from _tensor_blobs(v.tensor, f"attr {attr_name!r}", max_items)
        elif kind == "list":
            for i, s in enumerate(v.list.s[:max_items]):
                yield f"attr {attr_name!r}[{i}]", s
            for i, t in enumerate(v.list.tensor[:max_items]):
                yield from _tensor_blobs(t, f"attr {attr_name!r}[{i}]", max_items)


def _tensor_blobs(tensor, where: str, max_items: int) -> Iterator[tuple[str, bytes]]:
    if _dt.base_enum(tensor.dtype) != _dt.DT_STRING:
        return
    for i, s in enumerate(tensor.string_val[:max_items]):
        yield f"{where} value[{i}]", s
    if tensor.tensor_content:
        # every length as a varint32, then the bytes; decode leniently, never expand
        from .._io import varint as _varint

        content = bytes(tensor.tensor_content)
        pos, size, lengths, total = 0, len(content), [], 0
        try:
            while pos < size and len(lengths) < max_items:
                ln, pos = _varint.decode32(content, pos, size)
                lengths.append(ln)
                total += ln
                if total + pos >= size:
                    break
        except _varint.VarintError:
            return
        for i, ln in enumerate(lengths):
            if pos + ln > size:
                return
            yield f"{where} value[{i}]", content[pos : pos + ln]
            pos += ln


_OP_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_>.-/")


def _plausible_graph(g) -> bool:
    if not g.node and not g.library.function:
        return False
    for n in g.node:
        if not n.op or not set(n.op) <= _OP_CHARS or not n.name:
            return False
    for f in g.library.function:
        if not f.signature.name:
            return False
    return True


def _parse_nested_graph(blob: bytes):
    """A GraphDef serialized in ``blob`` (binary or text), or None."""
    from ..proto import pb
    from .io import _has_unknown_fields, looks_like_text

    if len(blob) < _MIN_NESTED_BYTES:
        return None
    if looks_like_text(blob):
        if b"node" not in blob and b"library" not in blob:
            return None
        from google.protobuf import text_format

        from ..proto import pool

        g = pb.GraphDef()
        try:
            text_format.Parse(blob.decode("utf-8"), g, descriptor_pool=pool())
        except Exception:  # not a text GraphDef, or RecursionError
            return None
        return g if _plausible_graph(g) else None
    try:
        g = pb.GraphDef.FromString(blob)
    except Exception:  # DecodeError, RecursionError
        return None
    if _has_unknown_fields(g, len(blob)) or not _plausible_graph(g):
        return None
    return g


def _roots(obj) -> list[tuple[NodeLocation, object]]:
    """The GraphDefs (with their locations) held by a GraphDef, MetaGraphDef, SavedModel..."""
    desc = getattr(obj, "DESCRIPTOR", None)
    full = desc.full_name if desc is not None else None
    if full == "tensorflow.GraphDef":
        return [(NodeLocation(), obj)]
    if full == "tensorflow.MetaGraphDef":
        return [(NodeLocation(), obj.graph_def)]
    if full == "tensorflow.SavedModel":
        out = []
        for i, mg in enumerate(obj.meta_graphs):
            tags = ",".join(sorted(mg.meta_info_def.tags))
            out.append((NodeLocation((f"meta_graph[{i}] {{{tags}}}",)), mg.graph_def))
        return out
    if full == "tensorflow.FunctionDefLibrary":
        from ..proto import pb

        g = pb.GraphDef()
        g.library.CopyFrom(obj)
        return [(NodeLocation(), g)]
    if full == "tensorflow.FunctionDef":
        from ..proto import pb

        g = pb.GraphDef()
        g.library.function.add().CopyFrom(obj)
        return [(NodeLocation(), g)]
    proto = getattr(obj, "proto", None)  # tfformats.SavedModel
    if proto is not None and proto is not obj:
        return _roots(proto)
    from ..errors import InvalidArgumentError

    raise InvalidArgumentError(f"cannot walk a {full or type(obj).__name__}; pass a GraphDef, MetaGraphDef or SavedModel")


def iter_nodes(
    graph,
    *,
    functions: bool = True,
    nested: bool = True,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_nested_bytes: int = DEFAULT_MAX_NESTED_BYTES,
) -> Iterator[tuple[NodeLocation, object]]:
    """Yield ``(location, node_def)`` for every node reachable in ``graph``.

    ``graph`` is a GraphDef, MetaGraphDef, SavedModel (proto or
    :class:`tfformats.SavedModel`), FunctionDefLibrary or FunctionDef.
    Visits the top-level nodes, then every function of the library (each once,
    whether or not anything calls it), then, breadth first, graphs serialized
    in string attributes and string constants (``functions`` and ``nested``
    switch those off).  ``max_depth`` bounds how many serialized graphs deep
    the walk goes; ``max_nested_bytes`` bounds the total bytes parsed as
    nested graphs.  Never recurses, so cycles and deep nesting are harmless.
    """
    queue = deque((loc, g) for loc, g in _roots(graph))
    parsed_bytes = 0
    while queue:
        loc, g = queue.popleft()
        scopes = [(loc, None, g.node)]
        if functions:
            for f in g.library.function:
                name = f.signature.name
                scopes.append((loc.child(f"function {name!r}", function=name), name, f.node_def))
        for scope_loc, _fn, nodes in scopes:
            for node in nodes:
                yield scope_loc, node
                if not nested or loc.nested_depth >= max_depth:
                    continue
                for where, blob in _string_blobs(node):
                    if len(blob) < _MIN_NESTED_BYTES or parsed_bytes + len(blob) > max_nested_bytes:
                        continue
                    parsed_bytes += len(blob)
                    inner = _parse_nested_graph(bytes(blob))
                    if inner is not None:
                        queue.append((scope_loc.child(f"node {node.name!r} {where}", nested=True), inner))
