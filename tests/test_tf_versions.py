"""Files written by OLDER TensorFlow releases (1.15, 2.4, 2.12, 2.15), read with
tfformats and compared with what THAT TensorFlow reported when it wrote them.

Fixtures and answers: tests/generate/gen_other_versions.py, one folder per
TensorFlow version under tests/data/tf_versions/ (``manifest.json`` +
``expected.npz``).  Every other fixture of the suite comes from TF 2.21; these
catch format differences between releases.  Not every folder has every kind of
file (TF 1.15 has no tf.keras/TF2 parts; only releases before 2.12 wrote the
V1/sharded Saver checkpoints and the SavedModelBuilder model): each test runs on
the versions whose manifest has its section.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest

import tfformats
import tfformats.events as tfev
import tfformats.records as tfr
from tfformats.example import decode_example, read_examples

from _event_oracle import load
from cli_helpers import run_cli, run_cli_json, run_subprocess
from conftest import DATA

ROOT = DATA / "tf_versions"
VERSIONS = sorted(p.name for p in ROOT.iterdir() if (p / "manifest.json").is_file()) if ROOT.is_dir() else []


def test_older_versions_are_present():
    assert {"1.15.0", "2.4.4", "2.12.1", "2.15.1"} <= set(VERSIONS), VERSIONS


@functools.lru_cache(maxsize=None)
def manifest(version: str) -> dict:
    return json.loads((ROOT / version / "manifest.json").read_text())


def having(*sections: str) -> list[str]:
    """The versions whose manifest has every one of these sections."""
    return [v for v in VERSIONS if all(s in manifest(v) for s in sections)]


def test_sections_by_version():
    """What each folder is expected to hold (so a section cannot silently go missing)."""
    for v in VERSIONS:
        m = manifest(v)
        assert {"tf1_saver", "records", "events"} <= set(m), v
        tf2 = {"keras_ckpt", "keras_saved_model", "module_saved_model", "frozen_fn"}
        assert (tf2 <= set(m)) == (not v.startswith("1.")), v
        assert not v.startswith("1.") or not (tf2 & set(m)), v
        extras = {"tf1_saver_v1", "tf1_sharded", "builder_saved_model"}
        older = tuple(int(x) for x in v.split(".")[:2]) < (2, 12)
        assert (extras <= set(m)) == older and (older or not (extras & set(m))), v


@functools.lru_cache(maxsize=None)
def _npz(version: str) -> dict:
    with np.load(ROOT / version / "expected.npz") as z:
        return {k: z[k] for k in z.files}


def expected(version: str, key: str) -> np.ndarray:
    """A value TensorFlow returned; strings come back as an object array of bytes."""
    return load(_npz(version), key)


def same(got, want, label=""):
    """Same dtype, shape and bits (strings: same bytes)."""
    got = np.asarray(got) if not isinstance(got, bytes) else np.array(got, dtype=object)
    assert got.shape == want.shape, (label, got.shape, want.shape)
    if want.dtype == object:
        assert got.dtype == object, (label, got.dtype)
        assert got.reshape(-1).tolist() == want.reshape(-1).tolist(), label
    else:
        assert got.dtype == want.dtype, (label, got.dtype, want.dtype)
        assert np.ascontiguousarray(got).tobytes() == np.ascontiguousarray(want).tobytes(), label


def path(version: str, rel: str) -> str:
    return str(ROOT / version / rel)


def sha(b: bytes) -> str:
    return hashlib.sha256(bytes(b)).hexdigest()


versions = pytest.mark.parametrize("version", VERSIONS)


def versions_with(*sections: str):
    return pytest.mark.parametrize("version", having(*sections))


# ---------------------------------------------------------------------------
# Checkpoints
# ---------------------------------------------------------------------------
def check_checkpoint(version: str, rep: dict) -> None:
    prefix = path(version, rep["prefix"])
    want_list = [(n, s) for n, s in rep["list_variables"]]
    assert tfformats.list_variables(prefix) == want_list
    with tfformats.load_checkpoint(prefix) as r:
        assert r.list_variables() == want_list
        assert r.get_variable_to_shape_map() == {n: i["shape"] for n, i in rep["tensors"].items()}
        assert r.get_variable_to_dtype_map() == {n: i["dtype"] for n, i in rep["tensors"].items()}
        if rep.get("format") == "V1":
            assert r.format == "v1" and r.num_shards == len(rep["files"])
        else:
            assert r.format == "v2" and r.num_shards == len(rep["data_files"])
        for name, info in rep["tensors"].items():
            value = r.get_tensor(name)
            if name == "_CHECKPOINTABLE_OBJECT_GRAPH":
                assert sha(value.item() if isinstance(value, np.ndarray) else value) == info["sha256"]
                continue
            same(value, expected(version, info["npz"]), f"{version}:{rep['prefix']}:{name}")


@versions
def test_tf1_saver_checkpoints(version):
    t = manifest(version)["tf1_saver"]
    assert len(t["checkpoints"]) == 2
    for rep in t["checkpoints"].values():
        check_checkpoint(version, rep)
    # the partitioned variable is one tensor, assembled from its slices
    with tfformats.load_checkpoint(path(version, t["latest_checkpoint"])) as r:
        for base in t["partitioned"]:
            same(r.get_tensor(base), expected(version, t["restored"][base]), base)
            assert len(r.backend.slice_entries(base)) == len(t["partitioned"][base])
        # every variable as TF restored it from the .meta + checkpoint
        for name, key in t["restored"].items():
            same(r.get_tensor(name), expected(version, key), name)


@versions
def test_tf1_saver_state_file(version):
    t = manifest(version)["tf1_saver"]
    d = path(version, "tf1_saver")
    assert tfformats.latest_checkpoint(d) == path(version, t["latest_checkpoint"])
    state = tfformats.get_checkpoint_state(d)
    assert state.model_checkpoint_path == path(version, t["model_checkpoint_path"])
    assert list(state.all_model_checkpoint_paths) == [path(version, p) for p in t["all_model_checkpoint_paths"]]
    for gone in t["deleted"]:
        assert not os.path.exists(path(version, gone) + ".index")
    with tfformats.load_checkpoint(d) as r:  # a directory opens its latest checkpoint
        assert r.list_variables() == tfformats.list_variables(path(version, t["latest_checkpoint"]))


@versions
def test_tf1_meta_graph(version):
    m = manifest(version)["tf1_saver"]["meta"]
    meta = tfformats.read_meta_graph(path(version, m["path"]))
    assert [n.name for n in meta.graph_def.node] == m["nodes"]
    assert sorted({n.op for n in meta.graph_def.node}) == m["ops"]
    assert sorted(meta.collection_def) == m["collections"]
    sd = meta.saver_def
    assert {
        "filename_tensor_name": sd.filename_tensor_name, "save_tensor_name": sd.save_tensor_name,
        "restore_op_name": sd.restore_op_name, "max_to_keep": sd.max_to_keep, "sharded": sd.sharded,
        "version": int(sd.version),
    } == m["saver_def"]
    assert meta.meta_info_def.tensorflow_version == m["tensorflow_version"] == version
    assert meta.meta_info_def.tensorflow_git_version == m["tensorflow_git_version"]
    assert meta.graph_def.versions.producer == m["producer"]
    assert sorted(op.name for op in meta.meta_info_def.stripped_op_list.op) == m["stripped_ops"]
    s = tfformats.summarize_graph(path(version, m["path"]))
    assert s.kind == "MetaGraphDef" and s.tensorflow_version == version
    variables = manifest(version)["tf1_saver"]["variables"]
    assert sorted(v.name for v in s.variables) == sorted(v["name"] for v in variables)


def check_graph(version: str, rep: dict, graph_def) -> None:
    assert [{"name": n.name, "op": n.op, "inputs": list(n.input)} for n in graph_def.node] == rep["nodes"]
    assert graph_def.versions.producer == rep["producer"]
    assert sorted(f.signature.name for f in graph_def.library.function) == rep["functions"]
    consts = tfformats.graph_constants(graph_def)
    assert sorted(consts) == sorted(rep["constants"])
    for name, info in rep["constants"].items():
        assert consts.dtype(name) == info["dtype"] or info["dtype"] == "string"
        same(consts[name], expected(version, info["npz"]), name)
    s = tfformats.summarize_graph(graph_def)
    placeholders = [i for i in s.inputs if i.op == "Placeholder"]
    assert [(i.name, i.dtype, i.shape) for i in placeholders] == [
        (p["name"] + ":0", p["dtype"], p["shape"]) for p in rep["placeholders"]
    ]


@versions
def test_tf1_write_graph_pbtxt_and_frozen_pb(version):
    t = manifest(version)["tf1_saver"]
    check_graph(version, t["graph_pbtxt"], tfformats.read_graph_def(path(version, t["graph_pbtxt"]["path"])))
    frozen = tfformats.read_graph_def(path(version, t["frozen"]["path"]))
    check_graph(version, t["frozen"], frozen)
    assert not any(n.op in ("VariableV2", "VarHandleOp") for n in frozen.node)


@versions
def test_freeze_graph_from_meta_and_checkpoint_matches_tf(version):
    """tfformats.freeze_graph on the .meta + latest checkpoint gives the graph TF froze
    with convert_variables_to_constants in the session that saved it."""
    t = manifest(version)["tf1_saver"]
    ours = tfformats.freeze_graph(path(version, t["meta"]["path"]), path(version, t["latest_checkpoint"]),
                                  t["frozen_outputs"])
    want = t["frozen"]
    assert sorted((n.name, n.op) for n in ours.node) == sorted((n["name"], n["op"]) for n in want["nodes"])
    assert {n.name: list(n.input) for n in ours.node} == {n["name"]: n["inputs"] for n in want["nodes"]}
    consts = tfformats.graph_constants(ours)
    assert sorted(consts) == sorted(want["constants"])
    for name, info in want["constants"].items():
        same(consts[name], expected(version, info["npz"]), name)


@versions_with("tf1_saver_v1")
def test_tf1_v1_format_saver(version):
    """tf.train.Saver(write_version=V1): one SavedTensorSlices table per step, the
    partitioned variable as slices; values as TF restored them from the .meta."""
    t = manifest(version)["tf1_saver_v1"]
    assert t["write_version"] == 1 and t["meta"]["saver_def"]["version"] == 1
    assert len(t["checkpoints"]) == 2
    for rep in t["checkpoints"].values():
        assert rep["format"] == "V1" and rep["data_files"] == []
        check_checkpoint(version, rep)
    d = path(version, "tf1_saver_v1")
    assert tfformats.latest_checkpoint(d) == path(version, t["latest_checkpoint"])
    state = tfformats.get_checkpoint_state(d)
    assert list(state.all_model_checkpoint_paths) == [path(version, p) for p in t["all_model_checkpoint_paths"]]
    for gone in t["deleted"]:
        assert not os.path.exists(path(version, gone))
    with tfformats.load_checkpoint(path(version, t["latest_checkpoint"])) as r:
        assert r.format == "v1"
        for name, key in t["restored"].items():  # (TF 1.15's own reader refuses the sliced "emb")
            same(r.get_tensor(name), expected(version, key), name)
        for base, parts in t["partitioned"].items():
            assert len(parts) == 3
    meta = tfformats.read_meta_graph(path(version, t["meta"]["path"]))
    assert [n.name for n in meta.graph_def.node] == t["meta"]["nodes"]
    assert meta.saver_def.version == 1 and meta.meta_info_def.tensorflow_version == version


@versions_with("tf1_saver_v1")
def test_freeze_graph_from_v1_checkpoint(version):
    """freeze_graph on the V1 .meta + checkpoint: the nodes TF's convert_variables_to_constants
    kept for the same model saved as V2, with the values TF restored from the V1 files."""
    m = manifest(version)
    t = m["tf1_saver_v1"]
    ours = tfformats.freeze_graph(path(version, t["meta"]["path"]), path(version, t["latest_checkpoint"]), ["output"])
    want = m["tf1_saver"]["frozen"]
    assert sorted((n.name, n.op) for n in ours.node) == sorted((n["name"], n["op"]) for n in want["nodes"])
    consts = tfformats.graph_constants(ours)
    restored = {k: expected(version, key) for k, key in t["restored"].items()}
    parts = sorted(n for n in consts if n.startswith("emb/part_"))
    assert len(parts) == 3
    same(np.concatenate([consts[n] for n in parts]), restored["emb"], "emb")
    for name in ("dense/kernel", "dense/bias"):
        same(consts[name], restored[name], name)


@versions_with("tf1_sharded")
@pytest.mark.parametrize("fmt", ["v1", "v2"])
def test_tf1_sharded_saver(version, fmt):
    """Saver(sharded=True) with variables on two devices: two V1 tables, or one V2 index with
    two data shards.  float16 and a partitioned float64 variable included (TF's V1 reader
    refuses both; the expected values are what Saver.restore gave)."""
    rep = manifest(version)["tf1_sharded"][fmt]
    ck = rep["checkpoint"]
    check_checkpoint(version, ck)
    if fmt == "v1":
        assert len(ck["files"]) == 2 and ck["prefix"].endswith("-?????-of-00002")
    else:
        assert len(ck["data_files"]) == 2
    d = os.path.dirname(path(version, rep["meta"]))
    assert tfformats.latest_checkpoint(d) == path(version, rep["latest_checkpoint"])
    with tfformats.load_checkpoint(path(version, rep["saved_path"])) as r:
        assert r.num_shards == 2
        for name, key in rep["restored"].items():
            same(r.get_tensor(name), expected(version, key), name)
    with tfformats.load_checkpoint(d) as r:  # the directory: its latest checkpoint
        assert sorted(r.list_variables()) == sorted((n, s) for n, s in ck["list_variables"])
    meta = tfformats.read_meta_graph(path(version, rep["meta"]))
    assert meta.saver_def.sharded and meta.saver_def.version == {"v1": 1, "v2": 2}[fmt]
    devices = {n.device for n in meta.graph_def.node if n.op == "VariableV2"}
    assert devices == set(manifest(version)["tf1_sharded"]["devices"])


@versions_with("builder_saved_model")
def test_builder_saved_model(version):
    """SavedModelBuilder: two meta graphs (serve, train), three signatures, an asset in the
    saved_model_assets collection, main_op and train_op collections, TF1 variables."""
    from tfformats.graph import node_name

    rep = manifest(version)["builder_saved_model"]
    d = path(version, rep["path"])
    assert sorted(os.listdir(d)) == rep["files"]
    assert sorted(os.listdir(os.path.join(d, "assets"))) == rep["assets_dir"] == ["vocab.txt"]
    for mg in rep["meta_graphs"]:
        with tfformats.load_saved_model(d, tags=mg["tags"]) as sm:
            assert sorted(sm.tag_sets) == rep["tag_sets"]
            assert sorted(sm.meta_graph.meta_info_def.tags) == mg["tags"]
            assert sm.tensorflow_version == mg["tensorflow_version"] == version
            assert not sm.is_tf2 and len(sm.object_graph.nodes) == mg["object_graph_nodes"] == 0
            assert sorted(sm.meta_graph.collection_def) == mg["collections"]
            assert set(sm.signatures) == set(mg["signatures"])
            for key, sig in sm.signatures.items():
                w = mg["signatures"][key]
                assert sig.method_name == w["method_name"]
                for side in ("inputs", "outputs"):
                    ours = {k: {"name": v.name, "dtype": v.dtype, "shape": v.shape} for k, v in getattr(sig, side).items()}
                    assert ours == w[side], (key, side)
            assert mg["asset_file_def"] == []  # TF1 keeps them in the collection only
            assert [(a.filename, a.tensor_name) for a in sm.assets] == [
                (a["filename"], a["tensor_name"]) for a in mg["assets_collection"]]
            for a in sm.assets:
                assert a.safe and a.exists and sha(a.read_bytes()) == rep["asset_sha256"][a.filename]
            assert sm.init_op == node_name(mg["main_op"][0])
            # a "train_op" graph collection is not the SavedModel's train op ("saved_model_train_op")
            assert mg["train_op"] == ["train_step"] and "saved_model_train_op" not in mg["collections"]
            assert sm.train_op is None
            assert sorted(v.name for v in sm.variables) == mg["variable_nodes"]
            for name, key in rep["variables"].items():  # as tf.saved_model.loader.load restored them
                same(sm.get_variable(name), expected(version, key), name)
            assert sm.problems == []
    check_checkpoint(version, rep["checkpoint"])


@pytest.mark.parametrize("version,name", [(v, n) for n in ("keras_ckpt", "keras_legacy_ckpt") for v in having(n)])
def test_keras2_object_checkpoints(version, name):
    rep = manifest(version)[name]
    check_checkpoint(version, rep)
    prefix = path(version, rep["prefix"])
    assert tfformats.latest_checkpoint(os.path.dirname(prefix)) == path(version, rep["latest_checkpoint"])
    with tfformats.load_checkpoint(prefix) as r:
        og = r.object_graph
    want = rep["object_graph"]
    assert og is not None and len(og) == len(want["nodes"])
    for node, w in zip(og.nodes, want["nodes"]):
        assert node.children == {n: i for n, i in w["children"]}
        assert node.attributes == {n: key for n, _, key in w["attributes"]}
        assert [(s.original_node, s.slot_name, s.slot_node) for s in node.slot_variables] == [
            tuple(s) for s in w["slot_variables"]
        ]
    assert og.nodes[want["model_node"]].path == "model"
    assert og.nodes[want["optimizer_node"]].path == "optimizer"
    keys = {n for n, _ in rep["list_variables"]} - {"_CHECKPOINTABLE_OBJECT_GRAPH"}
    assert set(og.variables()) == keys
    assert og.keys_without_tensors(keys | {"_CHECKPOINTABLE_OBJECT_GRAPH"}) == []
    for layer in want["layers"]:
        layer_node = og.nodes[layer["node"]]
        assert len(layer["variables"]) == 2
        for var in layer["variables"]:
            assert var["node"] in layer_node.children.values()
            assert og.nodes[var["node"]].attributes["VARIABLE_VALUE"] == var["key"]
    slots = og.slots()
    if "slots" in rep:
        # OptimizerV2 (TF < 2.11's Adam, later the legacy one) records slot variables
        # in the object graph: m and v of 4 variables
        assert len(slots) == len(rep["slots"]) == 8
        assert {(s["variable_key"], s["slot"]) for s in slots} == {
            (next(v["key"] for layer in want["layers"] for v in layer["variables"] if v["name"] == s["variable"]), s["slot"])
            for s in rep["slots"]
        }
        for s in slots:
            assert s["key"] in keys
    else:
        assert slots == []  # Keras 2.11+ optimizers keep their variables in a list


# ---------------------------------------------------------------------------
# SavedModels
# ---------------------------------------------------------------------------
def check_saved_model(version: str, rep: dict):
    d = path(version, rep["path"])
    assert sorted(os.listdir(d)) == rep["files"]
    with tfformats.load_saved_model(d) as sm:
        assert sorted(sm.tag_sets) == rep["tag_sets"]
        assert sm.tensorflow_version == rep["tensorflow_version"] == version
        assert set(sm.signatures) == set(rep["signatures"])
        for key, sig in sm.signatures.items():
            w = rep["signatures"][key]
            assert sig.method_name == w["method_name"]
            for side in ("inputs", "outputs"):
                ours = {k: {"name": v.name, "dtype": v.dtype, "shape": v.shape} for k, v in getattr(sig, side).items()}
                assert ours == w[side], (key, side)
        for key, w in rep["loaded_signatures"].items():  # as tf.saved_model.load's functions report them
            sig = sm.signatures[key]
            for side in ("inputs", "outputs"):
                assert {k: {"dtype": v.dtype, "shape": v.shape} for k, v in getattr(sig, side).items()} == w[side]
        assert sorted(sm.functions) == rep["functions"]
        assert sorted(k for k, f in sm.functions.items() if f.concrete) == rep["concrete_functions"]
        assert sm.is_tf2 and len(sm.object_graph.nodes) == rep["object_graph_nodes"]
        assert [(v.name, v.dtype, v.shape, v.trainable) for v in sm.variables] == [
            (v["name"], v["dtype"], v["shape"], v["trainable"]) for v in rep["saved_variables"]
        ]
        ck = rep["checkpoint"]["tensors"]
        for v in sm.variables:
            assert v.checkpoint_key in ck
            same(sm.get_variable(v.path), expected(version, ck[v.checkpoint_key]["npz"]), v.path)
        assert sm.problems == []
        if "fingerprint" in rep:
            fp = sm.fingerprint.to_dict()
            for k, want in rep["fingerprint"].items():
                assert str(fp[k]) == str(want), k
        else:
            assert sm.fingerprint is None
        yield sm
    check_checkpoint(version, rep["checkpoint"])


@versions_with("keras_saved_model")
def test_keras2_saved_model(version):
    rep = manifest(version)["keras_saved_model"]
    for sm in check_saved_model(version, rep):
        km = sm.keras_metadata
        if rep["keras_metadata"] is None:
            # TF < 2.5 wrote no keras_metadata.pb: the Keras JSON is each SavedUserObject's
            # metadata, which keras_metadata returns in the same form
            got = [(k["node_id"], k["identifier"], k["metadata"].get("class_name")) for k in km]
            assert got == [(u["node_id"], u["identifier"], u["class_name"]) for u in rep["user_object_metadata"]]
            assert {c for _, _, c in got} >= {"Sequential", "Dense"}
            assert km[0]["node_path"] == "root" and all(k["node_path"].startswith("root.") for k in km[1:])
        else:
            assert [(k["node_id"], k["node_path"], k["identifier"], k["version"],
                     k["metadata"]["class_name"] if k["metadata"] else None) for k in km] == [
                (k["node_id"], k["node_path"], k["identifier"], k["version"], k["class_name"])
                for k in rep["keras_metadata"]
            ]
            assert {k["metadata"]["class_name"] for k in km if k["metadata"]} >= {"Sequential", "Dense"}
        # the optimizer went into the SavedModel's checkpoint too
        assert any(k.startswith("optimizer/") for k in rep["checkpoint"]["tensors"])
        assert sm.signature("serving_default").inputs[rep["sample"]["input_key"]].dtype == "float32"


@versions_with("module_saved_model")
def test_module_saved_model(version):
    rep = manifest(version)["module_saved_model"]
    for sm in check_saved_model(version, rep):
        assert sm.keras_metadata is None
        by_path = {v.path: v for v in sm.variables}
        assert sorted(by_path) == sorted(rep["variables_by_path"])
        for p, tf_name in rep["variables_by_path"].items():
            assert by_path[p].name + ":0" == tf_name
        assert sm.signature("scale").inputs["b"].shape is None  # unknown rank


@versions_with("frozen_fn")
def test_frozen_v2_function(version):
    rep = manifest(version)["frozen_fn"]
    binary = tfformats.read_graph_def(path(version, rep["path"]))
    text = tfformats.read_graph_def(path(version, rep["pbtxt"]))
    assert binary == text
    check_graph(version, rep, binary)
    s = tfformats.summarize_graph(path(version, rep["path"]))
    assert s.is_frozen and s.variables == []
    assert [i.name for i in s.inputs] == rep["inputs"]
    consts = tfformats.graph_constants(path(version, rep["path"]))
    # the variables TF froze are among the constants, with the values they had
    for var, key in rep["variables"].items():
        want = expected(version, key)
        assert any(consts.dtype(n) == str(want.dtype) and consts.shape(n) == want.shape
                   and np.array_equal(consts[n], want) for n in consts), var


# ---------------------------------------------------------------------------
# TFRecords of Examples
# ---------------------------------------------------------------------------
@versions
@pytest.mark.parametrize("label", ["none", "gzip"])
def test_records_and_examples(version, label):
    rep = manifest(version)["records"]
    f = rep["files"][label]
    p = path(version, f["path"])
    assert tfr.detect_compression(p) in ({"": "", "GZIP": "GZIP"}[f["compression"]], {"": "NONE"}.get(f["compression"]))
    recs = list(tfr.read(p))
    assert [sha(r) for r in recs] == f["sha256"]
    assert tfr.count(p) == f["count"] == len(recs)
    dtypes = rep["feature_dtypes"]
    for rec, parsed in zip(recs, f["parsed"]):
        ex = decode_example(rec)
        for feat, info in parsed.items():
            want = expected(version, info["npz"])
            if feat not in ex:
                assert want.size == 0, feat  # absent: TF's VarLen gives no values
                continue
            got = ex[feat]
            assert info["dtype"] == dtypes[feat]
            same(got.reshape(-1), want, feat)
    cols = read_examples(p)
    for feat in dtypes:
        col = cols[feat]
        rows = [expected(version, parsed[feat]["npz"]) for parsed in f["parsed"]]
        for i, want in enumerate(rows):
            got = col[i]  # a dense column's row (a scalar for one value per record) or a Ragged row
            if isinstance(got, bytes):
                got = np.array([got], object)
            if want.size == 0:
                assert got is None or np.asarray(got).size == 0, (feat, i)
            else:
                same(np.asarray(got).reshape(-1), want, f"{feat}[{i}]")


# ---------------------------------------------------------------------------
# Event files
# ---------------------------------------------------------------------------
@versions
def test_events_match_summary_iterator(version):
    from tfformats.tensor import tensor_to_numpy

    files = manifest(version)["events"]["files"]
    # TF 1.15: the FileWriter's file only; 2.x: also a tf.summary (v2) file
    assert sorted(rel.split("/")[1] for rel in files) == (["tf1"] if version.startswith("1.") else ["tf1", "tf2"])
    for rel, events in files.items():
        got = list(tfev.iter_events(path(version, rel)))
        assert len(got) == len(events), rel
        for ev, w in zip(got, events):
            assert (ev.wall_time, ev.step, ev.WhichOneof("what")) == (w["wall_time"], w["step"], w["what"])
            if w["what"] == "file_version":
                assert ev.file_version == w["file_version"]
            elif w["what"] == "graph_def":
                assert sha(ev.graph_def) == w["graph_def"]["sha256"]
            elif w["what"] == "session_log":
                sl = ev.session_log
                assert (sl.checkpoint_path, sl.msg) == (w["session_log"]["checkpoint_path"], w["session_log"]["msg"])
            elif w["what"] == "tagged_run_metadata":
                t = ev.tagged_run_metadata
                assert (t.tag, sha(t.run_metadata)) == (w["tagged_run_metadata"]["tag"], w["tagged_run_metadata"]["sha256"])
            elif w["what"] == "summary":
                assert [v.tag for v in ev.summary.value] == [v["tag"] for v in w["values"]]
                for v, wv in zip(ev.summary.value, w["values"]):
                    assert v.WhichOneof("value") == wv["kind"]
                    if "metadata" in wv:
                        assert v.metadata.plugin_data.plugin_name == wv["metadata"]["plugin_name"]
                        assert base64.b64encode(v.metadata.plugin_data.content).decode() == wv["metadata"]["content_b64"]
                    if "tensor" in wv:
                        same(tensor_to_numpy(v.tensor), expected(version, wv["tensor"]["npz"]), wv["tag"])


@versions
def test_event_tables_match_tensorboard(version):
    files = manifest(version)["events"]["files"]
    log = tfev.read_events(path(version, "events"))
    assert log.runs == sorted({rel.split("/")[1] for rel in files})
    want = {"scalars": [], "histograms": [], "images": [], "text": [], "session_logs": [], "graphs": [],
            "run_metadata": []}
    plugins: dict = {}
    for rel, events in files.items():
        run = rel.split("/")[1]
        for ev in events:
            if ev["what"] == "session_log":
                s = ev["session_log"]
                want["session_logs"].append((run, ev["step"], s["status"], s["checkpoint_path"], s["msg"]))
            elif ev["what"] == "graph_def":
                want["graphs"].append((run, ev["step"], ev["graph_def"]["sha256"]))
            elif ev["what"] == "tagged_run_metadata":
                t = ev["tagged_run_metadata"]
                want["run_metadata"].append((run, t["tag"], ev["step"], ev["wall_time"], t["sha256"]))
            for v in ev.get("values", []):
                tb = v.get("tensorboard")
                if tb is None:
                    continue
                key = (run, v["tag"], ev["step"])
                arr = expected(version, tb["npz"])
                # TF1's FileWriter keeps a tag's SummaryMetadata on its first value only;
                # TensorBoard files the later ones under the plugin that first value named
                plugin = plugins.setdefault((run, v["tag"]), tb["plugin_name"]) or tb["plugin_name"]
                if plugin == "scalars":
                    want["scalars"].append((*key, ev["wall_time"], float(arr)))
                elif plugin == "histograms":
                    want["histograms"].append((key, arr, v.get("histo")))
                elif plugin == "images":
                    for j, png in enumerate(arr[2:].tolist()):
                        want["images"].append((*key, j, int(arr[0]), int(arr[1]), sha(png)))
                elif plugin == "text":
                    want["text"].append((*key, arr.item().decode()))
    # TF1 run: 3 scalars, 3 histograms, 3 images, 3 session logs, the graph (releases before 2.12
    # also: 3 texts and a traced step's run metadata); TF2 run: 3 + 1 scalars, 3 histograms,
    # 2 images, 1 text
    extras = "tf1_saver_v1" in manifest(version)
    counts = [3, 3, 3, 3 if extras else 0, 3, 1, 1 if extras else 0]
    if not version.startswith("1."):
        counts = [a + b for a, b in zip(counts, [4, 3, 2, 1, 0, 0, 0])]
    assert [len(want[k]) for k in ("scalars", "histograms", "images", "text", "session_logs", "graphs",
                                   "run_metadata")] == counts
    assert sorted(tuple(r) for r in log.scalars) == sorted(want["scalars"])
    assert sorted((r.run, r.tag, r.step, r.index, r.width, r.height, sha(r.value)) for r in log.images) == sorted(want["images"])
    assert sorted((r.run, r.tag, r.step, r.value) for r in log.text) == sorted(want["text"])
    assert [(r.run, r.step, r.status, r.checkpoint_path, r.msg) for r in log.session_logs] == want["session_logs"]
    assert [(r.run, r.step, sha(r.value)) for r in log.graphs] == want["graphs"]
    assert [(r.run, r.tag, r.step, r.wall_time, sha(r.value)) for r in log.run_metadata] == want["run_metadata"]
    hist = {(r.run, r.tag, r.step): r.value for r in log.histograms}
    assert len(hist) == len(want["histograms"]) > 0
    for key, arr, histo in want["histograms"]:
        h = hist[key]
        if histo is None:  # TF2: the stored [k, 3] tensor itself
            assert h.buckets.tolist() == arr.tolist()
        else:  # TF1 HistogramProto
            if not manifest(version)["tensorboard"].startswith("1."):
                np.testing.assert_allclose(h.buckets, arr, rtol=1e-6)
            # (TensorBoard 1.15's data_compat kept the empty outer buckets, giving "backwards"
            # [min, limit) rows; TensorBoard 2.x, which tfformats follows, trims them.  The proto
            # fields below are compared either way.)
            assert h.buckets[:, 2].sum() == histo["num"]
            assert (h.min, h.max, h.num, h.sum, h.sum_squares) == (
                histo["min"], histo["max"], histo["num"], histo["sum"], histo["sum_squares"])
            assert h.bucket_limit.tolist() == histo["bucket_limit"] and h.bucket.tolist() == histo["bucket"]


# ---------------------------------------------------------------------------
# The command line on every fixture
# ---------------------------------------------------------------------------
def _targets(version: str) -> list[str]:
    m = manifest(version)
    out = [
        m["tf1_saver"]["latest_checkpoint"], "tf1_saver", m["tf1_saver"]["meta"]["path"],
        m["tf1_saver"]["graph_pbtxt"]["path"], m["tf1_saver"]["frozen"]["path"],
        m["records"]["files"]["none"]["path"], m["records"]["files"]["gzip"]["path"],
        *m["events"]["files"], "events",
    ]
    for name in ("keras_ckpt", "keras_legacy_ckpt"):
        if name in m:
            out += [m[name]["prefix"], name]
    for name in ("keras_saved_model", "module_saved_model", "builder_saved_model"):
        if name in m:
            out.append(m[name]["path"])
    if "frozen_fn" in m:
        out += [m["frozen_fn"]["path"], m["frozen_fn"]["pbtxt"]]
    if "tf1_saver_v1" in m:
        t = m["tf1_saver_v1"]
        out += [t["latest_checkpoint"], "tf1_saver_v1", t["meta"]["path"]]
    if "tf1_sharded" in m:
        for fmt in ("v1", "v2"):
            t = m["tf1_sharded"][fmt]
            out += [t["saved_path"], "tf1_sharded/" + fmt, t["meta"]]
            out += ["tf1_sharded/%s/%s" % (fmt, f) for f in t["checkpoint"].get("files", [])]
    return out


@versions
def test_cli_info_and_verify(version, capsys):
    for rel in _targets(version):
        p = path(version, rel)
        code, out, err = run_cli(capsys, "info", p)
        assert code == 0 and "Traceback" not in err, (rel, code, err)
        code, doc = run_cli_json(capsys, "verify", p)
        assert code == 0 and doc["ok"] is True, (rel, doc)


SCANNABLE = ["keras_saved_model", "module_saved_model", "builder_saved_model", "tf1_saver/graph.pbtxt",
             "tf1_saver/frozen.pb", "frozen_fn/frozen.pb", "frozen_fn/frozen.pbtxt"]


@versions
def test_cli_scan_finds_nothing_high(version, capsys):
    m = manifest(version)
    metas = [m[k]["meta"]["path"] for k in ("tf1_saver", "tf1_saver_v1") if k in m]
    metas += [m["tf1_sharded"][f]["meta"] for f in ("v1", "v2") if "tf1_sharded" in m]
    for rel in [*(r for r in SCANNABLE if os.path.exists(path(version, r))), *metas]:
        code, doc = run_cli_json(capsys, "scan", path(version, rel), "--min-severity", "info")
        assert code == 0 and not doc["failed"], (rel, doc)
        assert doc["counts"]["critical"] == doc["counts"]["high"] == doc["counts"]["medium"] == 0, (rel, doc["findings"])


@versions
def test_cli_as_a_subprocess(version):
    """The installed entry point, in a fresh interpreter, on the Keras 2 (TF 1.15: the builder's) SavedModel."""
    p = path(version, "keras_saved_model" if "keras_saved_model" in manifest(version) else "builder_saved_model")
    for cmd in ("info", "verify", "scan"):
        code, out, err = run_subprocess(cmd, p)
        assert code == 0 and "Traceback" not in err, (cmd, code, out, err)
