"""``tfformats scan`` against TensorFlow's own view of the same files.

- Every risky op that a walk with TensorFlow's protobuf classes finds (top-level graph, every library
  function, GraphDefs serialized in string constants as is or as TensorFlow's DecodeBase64 /
  DecodeCompressed read them, joined by a StringJoin of constants, or held in a meta graph's
  collection_def) is reported by the scanner at the same function and node.
- Ops TensorFlow's registry knows are never reported as unknown, and the committed known-op list is
  the registry of the installed TensorFlow.
- TensorFlow itself builds the graphs the scanner flags and runs what they hide (a SavedModel with a
  hidden WriteFile, or with a base64-encoded dataset graph, writes the file when called).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

tf = pytest.importorskip("tensorflow")

from tfformats.cli._detect import detect  # noqa: E402
from tfformats.cli._rules import RULES, SAVER_OPS  # noqa: E402
from tfformats.cli.scan import load_known_ops, scan_target  # noqa: E402

DATA = Path(__file__).parent.parent / "tests" / "data"
FIXTURES = sorted(
    # TensorFlow graphs and SavedModels only: Keras archives (.keras) and HDF5 files (.h5) hold no
    # graph, and the .json files are the generator's records (tests/test_cli_scan_h5.py covers those)
    [p for p in (DATA / "scan").iterdir() if p.suffix not in (".json", ".keras", ".h5")]
    + [p for p in (DATA / "saved_models").iterdir() if p.is_dir()]
    + [p for p in (DATA / "graphs").rglob("*") if p.suffix in (".pb", ".pbtxt", ".meta") and p.stem != "saved_model"]
    + [p.parent for p in (DATA / "graphs").rglob("saved_model.pb")]  # SavedModels among the graph fixtures
)


def _registry() -> set[str]:
    from tensorflow.core.framework import op_def_pb2
    from tensorflow.python.client import pywrap_tf_session as c_api

    buf = c_api.TF_GetAllOpList()
    try:
        return {o.name for o in op_def_pb2.OpList.FromString(c_api.TF_GetBuffer(buf)).op}
    finally:
        c_api.TF_DeleteBuffer(buf)


def _tf_messages(path: Path):
    """The GraphDefs of a fixture, parsed by TensorFlow's classes: [(meta graph tags or None, GraphDef)]."""
    from google.protobuf import text_format
    from tensorflow.core.framework import graph_pb2
    from tensorflow.core.protobuf import meta_graph_pb2, saved_model_pb2

    if path.is_dir():
        sm = saved_model_pb2.SavedModel()
        if (path / "saved_model.pb").exists():
            sm.ParseFromString((path / "saved_model.pb").read_bytes())
        else:
            text_format.Parse((path / "saved_model.pbtxt").read_text(), sm)
        return [(",".join(m.meta_info_def.tags), m.graph_def) for m in sm.meta_graphs]
    data = path.read_bytes()
    for cls in (graph_pb2.GraphDef, meta_graph_pb2.MetaGraphDef):
        msg = cls()
        try:
            text_format.Parse(data.decode("utf-8"), msg)
        except Exception:
            try:
                msg = cls.FromString(data)
            except Exception:
                continue
        if isinstance(msg, meta_graph_pb2.MetaGraphDef):
            if msg.HasField("graph_def"):
                return [(None, msg.graph_def)]
        elif len(msg.node) and all(n.op for n in msg.node):
            return [(None, msg)]
    raise AssertionError(f"TensorFlow cannot parse {path}")


def _tf_decodings(s: bytes):
    """A string as is, and as TensorFlow's DecodeBase64 / DecodeCompressed kernels read it."""
    yield s
    for fn in (tf.io.decode_base64, lambda v: tf.io.decode_compressed(v, compression_type="ZLIB"),
               lambda v: tf.io.decode_compressed(v, compression_type="GZIP")):
        try:
            yield fn(tf.constant(s)).numpy()
        except Exception:
            continue


def _walk_bytes(data: bytes, out, depth):
    from tensorflow.core.framework import graph_pb2

    for v in _tf_decodings(data):
        g = graph_pb2.GraphDef()
        try:
            g.ParseFromString(v)
        except Exception:
            continue
        if len(g.node) and all(x.op and x.name for x in g.node):
            _walk(g, out, depth + 1)


def _walk(graph_def, out, depth=0):
    """(function or None, node name, op) of every node, TF-side, including nested GraphDefs."""

    def visit(n, fn, consts):
        out.append((fn, n.name, n.op, depth))
        if n.op == "Const" and n.attr["value"].tensor.dtype == tf.string.as_datatype_enum:
            for s in n.attr["value"].tensor.string_val:
                _walk_bytes(s, out, depth)
        if n.op == "StringJoin":
            parts = [consts.get(i.split(":")[0]) for i in n.input if not i.startswith("^")]
            if parts and all(p is not None for p in parts):
                _walk_bytes(n.attr["separator"].s.join(parts), out, depth)

    def string_consts(nodes):
        return {n.name: n.attr["value"].tensor.string_val[0] for n in nodes
                if n.op == "Const" and len(n.attr["value"].tensor.string_val) == 1}

    consts = string_consts(graph_def.node)
    for n in graph_def.node:
        visit(n, None, consts)
    for f in graph_def.library.function:
        consts = string_consts(f.node_def)
        for n in f.node_def:
            visit(n, f.signature.name, consts)


def _tf_collection_bytes(path: Path):
    """The bytes_list values of every meta graph's collection_def, parsed by TensorFlow's classes."""
    from tensorflow.core.protobuf import meta_graph_pb2, saved_model_pb2

    metas = []
    if path.is_dir() and (path / "saved_model.pb").exists():
        metas = list(saved_model_pb2.SavedModel.FromString((path / "saved_model.pb").read_bytes()).meta_graphs)
    elif path.suffix == ".meta":
        metas = [meta_graph_pb2.MetaGraphDef.FromString(path.read_bytes())]
    return [v for m in metas for c in m.collection_def.values() if c.WhichOneof("kind") == "bytes_list"
            for v in c.bytes_list.value]


def test_known_ops_list_is_the_installed_registry():
    assert load_known_ops() == _registry()


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: str(p.relative_to(DATA)))
def test_scanner_finds_what_tensorflow_sees(path):
    tf_nodes = []
    for _, g in _tf_messages(path):
        _walk(g, tf_nodes)
    for v in _tf_collection_bytes(path):
        _walk_bytes(v, tf_nodes, 0)
    scanner = scan_target(detect(path))
    found = {(f.location.get("function"), f.location.get("node"), f.op) for f in scanner.findings}
    for fn, node, op, depth in tf_nodes:
        if op in RULES and op not in ("DecodeProtoV2", "EncodeProto", "CacheDataset", "CacheDatasetV2"):
            assert (fn, node, op) in found, (path.name, fn, node, op, depth)
    # every fixture was written by TensorFlow: each op is registered or a library function, none "unknown"
    registry = _registry()
    functions = {f.signature.name for _, g in _tf_messages(path) for f in g.library.function}
    assert all(op in registry or op in functions for _, _, op, d in tf_nodes if d == 0)
    assert not [f for f in scanner.findings if f.rule == "unknown-op"]
    # the saver's own ops are never above low; anything at high names a risky op TF really has there
    for f in scanner.findings:
        if f.rule == "saver":
            assert f.severity in ("info", "low") and f.op in SAVER_OPS


def test_tensorflow_loads_the_model_hiding_writefile(tmp_path):
    """The flagged fixture is a real, loadable SavedModel; TF itself would run the hidden WriteFile."""
    loaded = tf.saved_model.load(str(DATA / "scan" / "write_file_fn"))
    probe = "/tmp/tfformats-scan-probe"
    if os.path.exists(probe):
        os.remove(probe)
    loaded.signatures["serving_default"](x=tf.constant([1.0, 2.0]))
    assert os.path.exists(probe)  # what the scanner warned about really happens
    os.remove(probe)


def test_tensorflow_runs_the_graph_hidden_in_base64():
    """The base64 dataset graph is no GraphDef constant: TensorFlow decodes it at run time and runs its
    WriteFile; the scanner finds that WriteFile by decoding the constant, and flags the DatasetFromGraph
    whose input is completed at run time."""
    probe = "/tmp/tfformats-scan-probe-b64"
    if os.path.exists(probe):
        os.remove(probe)
    loaded = tf.saved_model.load(str(DATA / "scan" / "dataset_graph_encoded"))
    loaded.signatures["b64"](pad=tf.constant(""))
    assert os.path.exists(probe)
    os.remove(probe)
    findings = scan_target(detect(DATA / "scan" / "dataset_graph_encoded")).findings
    assert any(f.op == "WriteFile" and f.severity == "high" and "'/tmp/tfformats-scan-probe-b64'" in f.why
               for f in findings)


def test_tensorflow_runs_the_while_body():
    probe = "/tmp/tfformats-scan-probe"
    if os.path.exists(probe):
        os.remove(probe)
    loaded = tf.saved_model.load(str(DATA / "scan" / "while_body"))
    loaded.signatures["serving_default"](n=tf.constant(2))
    assert os.path.exists(probe)
    os.remove(probe)


def test_tensorflow_keeps_the_collection_graph():
    """tf.compat.v1.train.import_meta_graph keeps the bytes of the collection: the graph is there to be used."""
    g = tf.Graph()
    with g.as_default():
        tf.compat.v1.train.import_meta_graph(str(DATA / "scan" / "collection_graph.meta"))
        [hidden] = g.get_collection("hidden_graph")
    from tensorflow.core.framework import graph_pb2

    assert "WriteFile" in {n.op for n in graph_pb2.GraphDef.FromString(hidden).node}


def test_keras_loads_the_model_a_tfsm_layer_names(tmp_path, monkeypatch):
    """Keras itself calls a TFSMLayer a risk of arbitrary code (refused in safe mode); unsafe, it opens
    the path of its config: from the fixture folder it finds clean_module, elsewhere it fails."""
    import shutil

    keras = pytest.importorskip("keras")
    monkeypatch.chdir(DATA / "scan")
    with pytest.raises(ValueError, match="arbitrary code execution"):
        keras.saving.load_model("tfsm_layer.keras")
    model = keras.saving.load_model("tfsm_layer.keras", safe_mode=False)
    assert any(type(layer).__name__ == "TFSMLayer" for layer in model.layers)
    shutil.copy(DATA / "scan" / "tfsm_layer.keras", tmp_path / "m.keras")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(Exception):
        keras.saving.load_model("m.keras", safe_mode=False)
