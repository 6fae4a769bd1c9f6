"""GraphDefs, MetaGraphDefs and frozen graphs.

* :func:`read_graph_def`, :func:`read_meta_graph`, :func:`read_graph_file`,
  :func:`write_graph_def`: binary or text, detected from the content;
* :func:`graph_constants`: the ``Const`` tensors as a ``Mapping[str, ndarray]``;
* :func:`summarize_graph`: inputs, outputs, variables, ops, versions, functions;
* :func:`iter_nodes`: every NodeDef with its location (top level, functions,
  graphs serialized in attributes), for audits;
* :func:`freeze_graph`: variables replaced by a checkpoint's values.
"""

from __future__ import annotations

from .constants import GraphConstants, graph_constants
from .freeze import extract_sub_graph, freeze_graph, variable_checkpoint_keys
from .io import parse_message, read_graph_def, read_graph_file, read_meta_graph, write_graph_def
from .nodes import node_name
from .signatures import Signature, TensorSpec, parse_signatures
from .summary import GraphSummary, VariableSpec, summarize_graph
from .walk import NodeLocation, iter_function_refs, iter_nodes

__all__ = [
    "GraphConstants",
    "GraphSummary",
    "NodeLocation",
    "Signature",
    "TensorSpec",
    "VariableSpec",
    "extract_sub_graph",
    "freeze_graph",
    "graph_constants",
    "iter_function_refs",
    "iter_nodes",
    "node_name",
    "parse_message",
    "parse_signatures",
    "read_graph_def",
    "read_graph_file",
    "read_meta_graph",
    "summarize_graph",
    "variable_checkpoint_keys",
    "write_graph_def",
]
