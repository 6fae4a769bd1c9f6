"""Writing TF2 object-based checkpoints (what ``tf.train.Checkpoint`` restores).

A TF2 checkpoint is an ordinary bundle whose tensors are keyed by object
path, plus one string scalar, ``_CHECKPOINTABLE_OBJECT_GRAPH``, holding a
serialized ``TrackableObjectGraph``: node 0 is the root, each node lists its
children (``local_name`` -> node id) and, for a variable, one attribute
``VARIABLE_VALUE`` whose ``checkpoint_key`` is the bundle key of its value::

    {"model": {"layer_with_weights-0": {"kernel": k, "bias": b}}}

    node 0 (root)                 children: model -> 1
    node 1 (model)                children: layer_with_weights-0 -> 2
    node 2                        children: kernel -> 3, bias -> 4
    node 3                        attributes: VARIABLE_VALUE ->
                                  "model/layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE"
    ...

Keys join the local names, escaped (``.`` -> ``..`` then ``/`` -> ``.S``),
with ``/``.  Nodes are numbered breadth-first in the order the dicts list
them, and an object reached twice (the same dict or array object under two
names, like Keras' ``layer-0`` alias of ``layer_with_weights-0``) is one
node, keyed by the first path found, as TensorFlow does.  Every node with a
value below it gets ``has_checkpoint_values = true``.

``tf.train.Checkpoint.save`` also stores a ``save_counter`` (int64 scalar) at
the root; ``save_object_checkpoint(..., save_counter=N)`` adds one.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping

import numpy as np

from ..errors import InvalidArgumentError
from .object_graph import escape_local_name

OBJECT_GRAPH_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH"
VARIABLE_VALUE = "VARIABLE_VALUE"
ATTRIBUTES = ".ATTRIBUTES"


def attribute_key(path: str, attribute: str = VARIABLE_VALUE) -> str:
    """The bundle key of an attribute of the object at (escaped) ``path``."""
    return f"{path}/{ATTRIBUTES}/{escape_local_name(attribute)}"


def build_object_graph(tree: Mapping) -> tuple[object, dict[str, object]]:
    """``(TrackableObjectGraph proto, {checkpoint key: value})`` for a nested dict.

    Inner mappings are objects, anything else is a variable's value.
    """
    from ..proto import pb

    if not isinstance(tree, Mapping):
        raise InvalidArgumentError(f"the object tree must be a mapping, not {type(tree).__name__}")
    graph = pb.TrackableObjectGraph()
    ids: dict[int, int] = {}  # id(object) -> node id, for dicts and arrays (shared objects)
    keep_alive: list[object] = []
    values: dict[str, object] = {}
    is_leaf: list[bool] = []
    children_of: list[list[int]] = []

    def node_for(obj, path: str, full_name: str) -> int:
        memo_key = id(obj) if isinstance(obj, (Mapping, np.ndarray)) else None
        if memo_key is not None and memo_key in ids:
            return ids[memo_key]
        nid = len(graph.nodes)
        node = graph.nodes.add()
        children_of.append([])
        if memo_key is not None:
            ids[memo_key] = nid
            keep_alive.append(obj)
        if isinstance(obj, Mapping):
            is_leaf.append(False)
            queue.append((nid, obj, path, full_name))
        else:
            is_leaf.append(True)
            key = attribute_key(path)
            attr = node.attributes.add()
            attr.name = VARIABLE_VALUE
            attr.full_name = full_name
            attr.checkpoint_key = key
            values[key] = obj
        return nid

    queue: deque = deque()
    node_for(tree, "", "")
    while queue:
        nid, obj, path, full_name = queue.popleft()
        for local_name, child in obj.items():
            if not isinstance(local_name, str) or not local_name:
                raise InvalidArgumentError(
                    f"object names must be non-empty str, not {local_name!r}", entry=path or "(root)"
                )
            escaped = escape_local_name(local_name)
            cpath = f"{path}/{escaped}" if path else escaped
            cfull = f"{full_name}/{local_name}" if full_name else local_name
            cid = node_for(child, cpath, cfull)
            ref = graph.nodes[nid].children.add()
            ref.node_id = cid
            ref.local_name = local_name
            children_of[nid].append(cid)

    # has_checkpoint_values: variables and everything above one (fixed point, cycles allowed).
    has = list(is_leaf)
    changed = True
    while changed:
        changed = False
        for nid, kids in enumerate(children_of):
            if not has[nid] and any(has[c] for c in kids):
                has[nid] = True
                changed = True
    for nid, node in enumerate(graph.nodes):
        node.has_checkpoint_values.value = has[nid]
    del keep_alive
    return graph, values


def object_checkpoint_tensors(tree: Mapping, *, save_counter: int | None = None) -> dict[str, object]:
    """``{bundle key: value}`` for a TF2 checkpoint of ``tree``, object graph included.

    Feed the result to :func:`~tfformats.save_checkpoint`, or stream it
    through a :class:`~tfformats.CheckpointWriter`.
    """
    if save_counter is not None:
        if not isinstance(tree, Mapping):
            raise InvalidArgumentError(f"the object tree must be a mapping, not {type(tree).__name__}")
        if "save_counter" in tree:
            raise InvalidArgumentError("the tree already has a 'save_counter' and save_counter= was given")
        tree = {**tree, "save_counter": np.int64(save_counter)}
    graph, values = build_object_graph(tree)
    if OBJECT_GRAPH_KEY in values:
        raise InvalidArgumentError(f"{OBJECT_GRAPH_KEY!r} is reserved for the object graph")
    values[OBJECT_GRAPH_KEY] = np.array(graph.SerializeToString(), dtype=object)
    return values


def save_object_checkpoint(prefix, tree: Mapping, *, save_counter: int | None = None, **options) -> str:
    """Write a TF2 object-based checkpoint that ``tf.train.Checkpoint`` restores.

    ``tree`` is a nested dict of object names ending in arrays, mirroring the
    Python objects of the restoring program: for
    ``tf.train.Checkpoint(model=keras_model)`` the root holds ``"model"``;
    for ``keras_model.load_weights(prefix)`` the root is the model itself.
    A Keras ``Sequential``/functional model names its layers
    ``layer_with_weights-N`` (N counts layers that have weights) and a layer
    its variables by attribute (``kernel``, ``bias``...).  ``save_counter``
    adds the counter ``tf.train.Checkpoint.save`` writes.  Other options go
    to :func:`~tfformats.save_checkpoint`.  Returns the prefix.
    """
    from .writer import save_checkpoint

    return save_checkpoint(prefix, object_checkpoint_tensors(tree, save_counter=save_counter), **options)
