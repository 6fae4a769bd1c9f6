"""Damaged graphs and SavedModels: only TFFormatsError comes out, never a crash or a hang.

Inputs are the TF-written fixtures with bytes flipped, cut or inserted
(hypothesis, few examples: the machine is shared)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import require_data

import tfformats
from tfformats.errors import TFFormatsError
from tfformats.graph import graph_constants, iter_nodes, read_graph_file, summarize_graph

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _mutate(data: bytes, edits) -> bytes:
    b = bytearray(data)
    for pos, kind, value in edits:
        if not b:
            break
        i = pos % len(b)
        if kind == 0:
            b[i] = value
        elif kind == 1:
            del b[i:]
        else:
            b[i:i] = bytes([value]) * 3
    return bytes(b)


EDITS = st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 2), st.integers(0, 255)), min_size=1, max_size=4)


def _exercise(msg):
    s = summarize_graph(msg)
    json.dumps(s.to_dict())
    str(s)
    for _ in iter_nodes(msg):
        pass
    consts = graph_constants(msg.graph_def if msg.DESCRIPTOR.name == "MetaGraphDef" else msg, max_fill_bytes=1 << 20)
    for name in consts:
        try:
            consts[name]
        except TFFormatsError:
            pass


@pytest.mark.parametrize("fname", ["graph.pb", "model.ckpt.meta", "frozen.pb", "graph.pbtxt"])
@SETTINGS
@given(edits=EDITS)
def test_damaged_graph_files(tmp_path, fname, edits):
    data = (require_data("graphs/tf1_resource") / fname).read_bytes()
    p = tmp_path / "g"
    p.write_bytes(_mutate(data, edits))
    try:
        msg = read_graph_file(p)
    except TFFormatsError:
        return
    _exercise(msg)


@SETTINGS
@given(edits=EDITS)
def test_damaged_saved_model(tmp_path, edits):
    dst = tmp_path / "m"
    if not dst.exists():
        shutil.copytree(require_data("saved_models/tf2_module"), dst)
    original = (require_data("saved_models/tf2_module") / "saved_model.pb").read_bytes()
    (dst / "saved_model.pb").write_bytes(_mutate(original, edits))
    try:
        sm = tfformats.load_saved_model(dst)
    except TFFormatsError:
        return
    with sm:
        for attr in ("variables", "assets", "functions", "problems", "fingerprint", "keras_metadata"):
            try:
                getattr(sm, attr)
            except TFFormatsError:
                pass
        try:
            json.dumps(sm.to_dict())
        except TFFormatsError:
            pass
        repr(sm)


# -- freezing damaged graphs: structural edits of the control-flow fixtures -----------------

_FREEZE_OPS = ["Identity", "ReadVariableOp", "ResourceGather", "ResourceGatherNd", "VariableShape", "If", "While",
               "StatefulPartitionedCall", "Merge", "Switch", "RefSwitch", "Enter", "AssignVariableOp", "Case",
               "VarHandleOp", "VariableV2", "Const"]
_FREEZE_INPUTS = ["h", "x:1", "foo:value:0", "gather_emb", "^x", "emb", "w_res:3", "cond_w_0"]
_FREEZE_EDITS = st.lists(st.tuples(st.integers(0, 8), st.integers(0, 1 << 16), st.integers(0, 1 << 16)),
                         min_size=1, max_size=6)


def _edit_graph(g, edits):
    """Change ops, drop or redirect inputs, drop function arguments, retarget function attrs."""
    for kind, a, b in edits:
        fns = list(g.library.function)
        if kind < 3 or not fns:
            n = g.node[a % len(g.node)]
        else:
            f = fns[a % len(fns)]
            if not f.node_def:
                continue
            n = f.node_def[b % len(f.node_def)]
        if kind in (0, 3):
            n.op = _FREEZE_OPS[b % len(_FREEZE_OPS)]
        elif kind in (1, 4) and n.input:
            del n.input[b % len(n.input)]
        elif kind in (2, 5) and n.input:
            n.input[b % len(n.input)] = _FREEZE_INPUTS[a % len(_FREEZE_INPUTS)]
        elif kind == 6 and fns:
            args = fns[b % len(fns)].signature.input_arg
            if args:
                del args[a % len(args)]
        elif kind == 7:
            for v in n.attr.values():
                if v.HasField("func"):
                    v.func.name = ([f.signature.name for f in fns] + ["nope"])[b % (len(fns) + 1)]
                elif v.HasField("list") and v.list.type:
                    del v.list.type[:]
        elif kind == 8 and n.attr:
            del n.attr[sorted(n.attr)[b % len(n.attr)]]


@pytest.mark.parametrize("name", ["tf1_cflow_v1", "tf1_cflow_v2"])
@SETTINGS
@given(edits=_FREEZE_EDITS)
def test_freezing_damaged_graphs(name, edits):
    from tfformats.graph import freeze_graph, read_graph_def
    from tfformats.proto import pb

    d = require_data(f"graphs/{name}")
    rep = json.loads(require_data("graphs/control_flow.json").read_text())[name]
    g = pb.GraphDef()
    g.CopyFrom(read_graph_def(d / "graph.pb"))
    _edit_graph(g, edits)
    try:
        frozen = freeze_graph(g, d / "model.ckpt", rep["outputs"])
    except TFFormatsError:
        return
    assert isinstance(frozen, pb.GraphDef)


@pytest.mark.parametrize("suffix", ["\u00b2", "1" * 5000, "\u0663", "99999999999999999999"])
def test_odd_output_indices_in_input_names(suffix):
    """Input names whose index is a superscript digit, an Arabic-Indic digit or thousands of
    digits: summaries and freezing answer or raise TFFormatsError (int() would raise ValueError)."""
    from tfformats.graph import freeze_graph
    from tfformats.proto import pb

    g = pb.GraphDef()
    v = g.node.add(name="v", op="VarHandleOp")
    v.attr["dtype"].type = 1
    v.attr["shape"].shape.SetInParent()
    r = g.node.add(name="r", op="ReadVariableOp", input=[f"v:{suffix}"])
    r.attr["dtype"].type = 1
    w = g.node.add(name="w", op="While", input=["r", f"v:{suffix}"])
    w.attr["_num_original_outputs"].i = 2
    g.node.add(name="out", op="Identity", input=[f"w:{suffix}"])
    s = summarize_graph(g)
    json.dumps(s.to_dict())
    try:
        freeze_graph(g, {"v": np.float32(1.0)}, ["out"])
    except TFFormatsError:
        pass
