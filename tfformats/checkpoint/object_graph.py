"""TF2 object-based checkpoints: the ``_CHECKPOINTABLE_OBJECT_GRAPH`` tree.

The tensor is a string scalar holding a serialized ``TrackableObjectGraph``.
Node 0 is the root; each node names its children (``local_name`` -> node id),
its saved attributes (``name`` -> ``checkpoint_key``, the key of the tensor in
the bundle) and, for optimizers, slot variables (which optimizer slot of which
variable is stored in which node).

Object paths join escaped local names with ``/``; the escaping is ``.`` ->
``..`` then ``/`` -> ``.S``.  The ``checkpoint_key`` stored in the graph is the
authority for where each value lives.
"""

from __future__ import annotations

import bisect
from collections import deque
from dataclasses import dataclass, field

from ..errors import DataLossError


def escape_local_name(name: str) -> str:
    return name.replace(".", "..").replace("/", ".S")


@dataclass
class SlotVariable:
    original_node: int
    slot_name: str
    slot_node: int


@dataclass
class TrackableNode:
    """One object of the graph."""

    id: int
    path: str  # e.g. "model/layer_with_weights-0/kernel"; "" for the root
    children: dict[str, int] = field(default_factory=dict)
    attributes: dict[str, str] = field(default_factory=dict)  # attribute name -> checkpoint key
    slot_variables: list[SlotVariable] = field(default_factory=list)
    registered_saver: str = ""

    @property
    def is_variable(self) -> bool:
        return "VARIABLE_VALUE" in self.attributes

    def __repr__(self) -> str:
        return f"<TrackableNode {self.id} {self.path or '(root)'!r}: {len(self.children)} children, {len(self.attributes)} attributes>"


class ObjectGraph:
    """The object tree of a TF2 checkpoint.

    ``nodes[i]`` are :class:`TrackableNode` objects with a path from the root
    (shortest path, as TF names objects).  ``variables()`` maps each saved
    attribute's checkpoint key to the object path owning it,
    ``tensor_owners(reader.keys())`` each stored tensor (some objects write
    their tensors under the key plus a suffix); ``slots()`` lists optimizer
    slots.
    """

    def __init__(self, proto, path: str = "<checkpoint>") -> None:
        self.proto = proto
        n = len(proto.nodes)
        paths: dict[int, str] = {0: ""} if n else {}
        queue = deque([0] if n else [])
        while queue:
            i = queue.popleft()
            for ref in proto.nodes[i].children:
                c = ref.node_id
                if not 0 <= c < n:
                    raise DataLossError(
                        f"object graph node {i} has a child reference to node {c} of {n}", path=path,
                        entry="_CHECKPOINTABLE_OBJECT_GRAPH",
                    )
                if c not in paths:
                    base = paths[i]
                    local = escape_local_name(ref.local_name)
                    paths[c] = f"{base}/{local}" if base else local
                    queue.append(c)
        # Slot variables are not children of anything: TF names them
        # "{variable path}/.OPTIMIZER_SLOT/{optimizer path}/{slot name}".
        for i, node in enumerate(proto.nodes):
            for s in node.slot_variables:
                var, slot = s.original_variable_node_id, s.slot_variable_node_id
                if slot not in paths and var in paths and i in paths and 0 <= slot < n:
                    paths[slot] = f"{paths[var]}/.OPTIMIZER_SLOT/{paths[i]}/{escape_local_name(s.slot_name)}"
        self.nodes: list[TrackableNode] = []
        for i, node in enumerate(proto.nodes):
            tn = TrackableNode(id=i, path=paths.get(i, f"<unreachable node {i}>"))
            tn.children = {ref.local_name: ref.node_id for ref in node.children}
            tn.attributes = {a.name: a.checkpoint_key for a in node.attributes}
            tn.registered_saver = node.registered_saver.name if node.HasField("registered_saver") else ""
            for s in node.slot_variables:
                if not (0 <= s.original_variable_node_id < n and 0 <= s.slot_variable_node_id < n):
                    raise DataLossError(
                        f"object graph node {i} has a slot variable pointing outside the graph", path=path,
                        entry="_CHECKPOINTABLE_OBJECT_GRAPH",
                    )
                tn.slot_variables.append(SlotVariable(s.original_variable_node_id, s.slot_name, s.slot_variable_node_id))
            self.nodes.append(tn)

    @classmethod
    def from_bytes(cls, data: bytes, path: str = "<checkpoint>") -> "ObjectGraph":
        from ..proto import pb

        try:
            proto = pb.TrackableObjectGraph.FromString(bytes(data))
        except Exception as exc:
            raise DataLossError(f"cannot parse the object graph: {exc}", path=path, entry="_CHECKPOINTABLE_OBJECT_GRAPH") from None
        return cls(proto, path)

    @property
    def root(self) -> TrackableNode:
        return self.nodes[0]

    def variables(self) -> dict[str, str]:
        """``{checkpoint_key: object path}`` for every saved attribute."""
        out = {}
        for node in self.nodes:
            for attr, key in node.attributes.items():
                out[key] = node.path if attr == "VARIABLE_VALUE" else f"{node.path}/{attr}"
        return out

    def _attribute_keys(self) -> dict[str, tuple[TrackableNode, str]]:
        keys = getattr(self, "_keys", None)
        if keys is None:
            keys = {}
            for node in self.nodes:
                for attr, key in node.attributes.items():
                    keys.setdefault(key, (node, attr))
            self._keys = keys
        return keys

    def owner(self, tensor_name: str) -> tuple[TrackableNode, str] | None:
        """``(node, attribute name)`` of the saved attribute that wrote a tensor.

        Variables and objects with ``_serialize_to_tensors`` store one tensor
        under each attribute's ``checkpoint_key``.  Objects saved through
        legacy SaveableObjects store theirs under the key plus a suffix: a
        tf.data iterator's ``.../ITERATOR`` writes ``.../ITERATOR_STATE``, a
        hash table's ``.../table`` writes ``.../table-keys`` and
        ``.../table-values``.  The longest key that starts the name wins.
        ``None`` for tensors no attribute wrote (the object graph itself).
        """
        keys = self._attribute_keys()
        hit = keys.get(tensor_name)
        if hit is not None:
            return hit
        for end in range(len(tensor_name) - 1, 0, -1):
            hit = keys.get(tensor_name[:end])
            if hit is not None:
                return hit
        return None

    def tensor_owners(self, names) -> dict[str, str]:
        """``{tensor name: object path}`` for the checkpoint's tensor names
        (e.g. ``reader.keys()``), like :meth:`variables` but keyed by the
        tensors actually stored (see :meth:`owner`); unowned names are left out."""
        out = {}
        for name in names:
            hit = self.owner(name)
            if hit is not None:
                node, attr = hit
                out[name] = node.path if attr == "VARIABLE_VALUE" else f"{node.path}/{attr}"
        return out

    def keys_without_tensors(self, names) -> list[tuple[str, str]]:
        """``[(checkpoint_key, object path)]`` of saved attributes that wrote no
        tensor among ``names`` (neither the key itself nor the key plus a
        suffix): a damaged or partial checkpoint."""
        names = sorted(names)
        missing = []
        for key, (node, attr) in sorted(self._attribute_keys().items()):
            i = bisect.bisect_left(names, key)
            if i < len(names) and names[i].startswith(key):
                continue
            missing.append((key, node.path if attr == "VARIABLE_VALUE" else f"{node.path}/{attr}"))
        return missing

    def slots(self) -> list[dict]:
        """Optimizer slots: ``{"optimizer", "variable", "slot", "key"}`` dicts."""
        out = []
        for node in self.nodes:
            for s in node.slot_variables:
                var, slot = self.nodes[s.original_node], self.nodes[s.slot_node]
                out.append(
                    {
                        "optimizer": node.path,
                        "variable": var.path,
                        "variable_key": var.attributes.get("VARIABLE_VALUE"),
                        "slot": s.slot_name,
                        "key": slot.attributes.get("VARIABLE_VALUE"),
                    }
                )
        return out

    def parents(self, node_id: int) -> list[tuple[int, str]]:
        """``[(parent id, local name)]`` of every reference to ``node_id``.

        An object can be reachable along several paths: a Keras 3 layer's
        kernel is a child of the layer *and* of the optimizer's variable list,
        and its checkpoint key follows the shortest path (often the
        optimizer's).  The parents say which layer a variable belongs to.
        """
        return [
            (node.id, local)
            for node in self.nodes
            for local, child in node.children.items()
            if child == node_id
        ]

    def paths(self, node_id: int, limit: int = 64) -> list[str]:
        """Paths from the root to ``node_id`` along children, shortest first
        (at most ``limit``; the search is bounded, as a crafted graph can have
        exponentially many paths)."""
        found: list[str] = []
        if not self.nodes or not 0 <= node_id < len(self.nodes):
            return found
        stack = [(0, "", frozenset([0]))]
        budget = 100_000
        while stack and len(found) < limit and budget > 0:
            budget -= 1
            i, path, seen = stack.pop()
            if i == node_id:
                found.append(path)
                continue
            for local, child in reversed(list(self.nodes[i].children.items())):
                if child not in seen and 0 <= child < len(self.nodes):
                    name = escape_local_name(local)
                    stack.append((child, f"{path}/{name}" if path else name, seen | {child}))
        canonical = self.nodes[node_id].path
        if canonical and not canonical.startswith("<") and canonical not in found:
            found = [canonical] + found[: limit - 1]
        return sorted(found, key=lambda p: (p.count("/"), p != canonical, p))

    def find(self, path: str) -> TrackableNode | None:
        for node in self.nodes:
            if node.path == path:
                return node
        return None

    def __len__(self) -> int:
        return len(self.nodes)

    def __repr__(self) -> str:
        nvars = sum(1 for n in self.nodes if n.is_variable)
        return f"<tfformats ObjectGraph: {len(self.nodes)} objects, {nvars} variables>"
