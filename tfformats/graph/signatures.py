"""SignatureDefs: the named entry points of a MetaGraphDef / SavedModel.

A ``SignatureDef`` maps input and output *keys* (what a caller passes, e.g.
``x``) to ``TensorInfo``: the tensor in the graph to feed or fetch
(``serving_default_x:0``), its dtype and shape.  A TensorInfo names its tensor
one of three ways: ``name`` (a plain tensor), ``coo_sparse`` (values, indices
and dense-shape tensors of a SparseTensor) or ``composite_tensor`` (a type
spec plus component TensorInfos, e.g. a RaggedTensor).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import dtypes as _dt
from .nodes import node_name, shape_list

__all__ = ["TensorSpec", "Signature", "parse_signatures", "INTERNAL_SIGNATURES", "dtype_name"]

# Signatures TF adds for its own machinery, not model entry points.
INTERNAL_SIGNATURES = frozenset({"__saved_model_init_op", "__saved_model_train_op"})
DEFAULT_SIGNATURE = "serving_default"


def dtype_name(enum: int) -> str:
    """TF's dtype name; ``'invalid'`` for DT_INVALID (used by init-op signatures)."""
    return "invalid" if enum == 0 else _dt.name_of(enum)


@dataclass
class TensorSpec:
    """One input or output of a signature (or of a graph summary).

    ``name`` is the graph tensor to feed/fetch (``"x:0"``), None for composite
    tensors (see ``components``).  ``shape`` has None for unknown dims and is
    None for an unknown rank.  ``exists`` is False when the tensor's node is
    not in the graph (a dangling signature), None when not checked.
    """

    key: str | None
    name: str | None
    dtype: str | None
    shape: list | None
    encoding: str = "name"  # "name", "coo_sparse" or "composite_tensor"
    op: str | None = None
    signature: str | None = None
    components: list["TensorSpec"] = field(default_factory=list)
    exists: bool | None = None

    @property
    def node(self) -> str | None:
        return node_name(self.name) if self.name else None

    def tensor_names(self) -> list[str]:
        """Every graph tensor this spec refers to (components included)."""
        out = [self.name] if self.name else []
        for c in self.components:
            out.extend(c.tensor_names())
        return out

    def to_dict(self) -> dict:
        d = {
            "key": self.key,
            "name": self.name,
            "dtype": self.dtype,
            "shape": self.shape,
            "encoding": self.encoding,
            "op": self.op,
        }
        if self.signature is not None:
            d["signature"] = self.signature
        if self.components:
            d["components"] = [c.to_dict() for c in self.components]
        if self.exists is not None:
            d["exists"] = self.exists
        return d

    def __str__(self) -> str:
        shape = "unknown rank" if self.shape is None else "[" + ", ".join("?" if d is None else str(d) for d in self.shape) + "]"
        return f"{self.key or self.name}: {self.name or self.encoding} {self.dtype} {shape}"


def _tensor_info(key: str, info, signature: str | None) -> TensorSpec:
    enc = info.WhichOneof("encoding") or "name"
    shape = shape_list(info.tensor_shape) if info.HasField("tensor_shape") else None
    spec = TensorSpec(key=key, name=None, dtype=dtype_name(info.dtype), shape=shape, encoding=enc, signature=signature)
    if enc == "name":
        spec.name = info.name or None
    elif enc == "coo_sparse":
        c = info.coo_sparse
        for part, tname in (("values", c.values_tensor_name), ("indices", c.indices_tensor_name),
                            ("dense_shape", c.dense_shape_tensor_name)):
            if tname:
                spec.components.append(TensorSpec(key=part, name=tname, dtype=None, shape=None, signature=signature))
    elif enc == "composite_tensor":
        for i, comp in enumerate(info.composite_tensor.components[:10000]):
            spec.components.append(_tensor_info(str(i), comp, signature))
    return spec


@dataclass
class Signature:
    """A SignatureDef: ``inputs`` and ``outputs`` keyed by their signature keys."""

    key: str
    method_name: str
    inputs: dict[str, TensorSpec]
    outputs: dict[str, TensorSpec]
    defaults: dict = field(default_factory=dict)

    @property
    def internal(self) -> bool:
        return self.key in INTERNAL_SIGNATURES

    def dangling(self) -> list[TensorSpec]:
        """Inputs/outputs whose tensor's node is missing from the graph (after :func:`check_signatures`)."""
        out = []
        for spec in list(self.inputs.values()) + list(self.outputs.values()):
            if spec.exists is False or any(c.exists is False for c in spec.components):
                out.append(spec)
        return out

    def to_dict(self) -> dict:
        return {
            "key": self.key,
            "method_name": self.method_name,
            "inputs": {k: v.to_dict() for k, v in self.inputs.items()},
            "outputs": {k: v.to_dict() for k, v in self.outputs.items()},
        }

    def __repr__(self) -> str:
        ins = ", ".join(f"{k}: {v.dtype}{'' if v.shape is None else v.shape}" for k, v in self.inputs.items())
        outs = ", ".join(f"{k}: {v.dtype}{'' if v.shape is None else v.shape}" for k, v in self.outputs.items())
        return f"<Signature {self.key!r} ({self.method_name or 'no method'}): ({ins}) -> ({outs})>"


def parse_signatures(meta_graph) -> dict[str, Signature]:
    """The MetaGraphDef's signatures, sorted by key, with ``serving_default`` first."""
    out = {}
    keys = sorted(meta_graph.signature_def, key=lambda k: (k != DEFAULT_SIGNATURE, k in INTERNAL_SIGNATURES, k))
    for key in keys:
        sd = meta_graph.signature_def[key]
        out[key] = Signature(
            key=key,
            method_name=sd.method_name,
            inputs={k: _tensor_info(k, sd.inputs[k], key) for k in sorted(sd.inputs)},
            outputs={k: _tensor_info(k, sd.outputs[k], key) for k in sorted(sd.outputs)},
            defaults={k: sd.defaults[k] for k in sorted(sd.defaults)},
        )
    return out


def check_signatures(signatures: dict[str, Signature], graph_def) -> list[str]:
    """Mark each TensorSpec's ``exists`` and ``op`` from ``graph_def``; return problems found."""
    nodes = {n.name: n for n in graph_def.node}
    problems = []

    def visit(sig, spec):
        for s in [spec] + spec.components:
            if s.name:
                n = nodes.get(node_name(s.name))
                s.exists = n is not None
                if n is None:
                    problems.append(
                        f"signature {sig.key!r} {s.key!r} refers to tensor {s.name!r}, whose node is not in the graph"
                    )
                else:
                    s.op = n.op

    for sig in signatures.values():
        for spec in list(sig.inputs.values()) + list(sig.outputs.values()):
            visit(sig, spec)
    return problems
