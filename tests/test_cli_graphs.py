"""``tfformats`` on SavedModels and graphs written by TensorFlow (and copies damaged on purpose)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from cli_helpers import DATA, SCAN, run_cli, run_cli_json

SM = DATA / "saved_models"
REPORT = json.loads((SM / "report.json").read_text())
MODELS = ["keras3_export", "pbtxt_model", "tf1_builder", "tf2_module", "tf_keras_model"]


@pytest.mark.parametrize("name", MODELS)
def test_ls_saved_model_variables_as_tensorflow_lists_them(capsys, name):
    code, doc = run_cli_json(capsys, "ls", SM / name)
    assert code == 0 and doc["kind"] == "saved_model"
    want = REPORT[name]["checkpoint"]["list_variables"]  # tf.train.list_variables on variables/variables
    assert {t["name"]: t["shape"] for t in doc["tensors"]} == want
    assert [t["name"] for t in doc["tensors"]] == sorted(want)


@pytest.mark.parametrize("name", MODELS)
def test_verify_and_scan_tensorflow_saved_models(capsys, name):
    code, doc = run_cli_json(capsys, "verify", SM / name)
    assert code == 0 and doc["ok"], doc["problems"]
    assert doc["checked"]["tensors"] == len(REPORT[name]["checkpoint"]["list_variables"])
    code, doc = run_cli_json(capsys, "scan", SM / name, "--min-severity", "info")
    assert code in (0, 1)
    assert not [f for f in doc["findings"] if f["rule"] == "unknown-op"]


def test_scan_tf1_asset_is_low(capsys):
    code, doc = run_cli_json(capsys, "scan", SM / "tf1_builder")
    reads = [f for f in doc["findings"] if f["op"] == "InitializeTableFromTextFileV2"]
    assert reads and all(f["severity"] == "low" and "vocab.txt" in f["why"] for f in reads)
    assert code == 0


def test_info_tags(capsys):
    assert REPORT["tf1_builder"]["tag_sets"] == [["serve"], ["serve", "train"]]
    code, doc = run_cli_json(capsys, "info", SM / "tf1_builder", "--tags", "serve,train")
    assert code == 0 and doc["saved_model"]["tags"] == ["serve", "train"]
    code, out, err = run_cli(capsys, "info", SM / "tf1_builder", "--tags", "gpu")
    assert code == 2 and "tag" in err


def test_export_and_diff_saved_model_variables(capsys, tmp_path):
    out = tmp_path / "v.npz"
    code, doc = run_cli_json(capsys, "export", SM / "tf2_module", out)
    assert code == 0
    z = np.load(out)
    want = REPORT["tf2_module"]["checkpoint"]["list_variables"]
    assert {k: list(z[k].shape) for k in z.files if k != "_CHECKPOINTABLE_OBJECT_GRAPH"} == {
        k: v for k, v in want.items() if k != "_CHECKPOINTABLE_OBJECT_GRAPH"
    }
    # a SavedModel and its own variables/ checkpoint hold the same tensors
    code, doc = run_cli_json(capsys, "diff", SM / "tf2_module", SM / "tf2_module" / "variables" / "variables")
    assert code == 0 and doc["same"] and doc["summary"]["identical"] == len(want)


def _damaged_copy(tmp_path, name="clean_module"):
    from tfformats.proto import pb

    d = tmp_path / name
    shutil.copytree(SCAN / name, d)
    sm = pb.SavedModel.FromString((d / "saved_model.pb").read_bytes())
    return d, sm


def test_verify_saved_model_bad_signature_and_missing_shard(tmp_path, capsys):
    d, sm = _damaged_copy(tmp_path)
    sig = sm.meta_graphs[0].signature_def["serving_default"]
    key = next(iter(sig.outputs))
    sig.outputs[key].name = "no_such_node:0"
    (d / "saved_model.pb").write_bytes(sm.SerializeToString())
    next((d / "variables").glob("variables.data-*")).unlink()
    code, doc = run_cli_json(capsys, "verify", d)
    assert code == 1
    errors = [p for p in doc["problems"] if p["severity"] == "error"]
    assert any("no_such_node:0" in p["message"] and "serving_default" in p["entry"] for p in errors)
    assert any("missing" in p["message"] and "variables.data" in p["file"] for p in errors)


def test_verify_truncated_saved_model_pb(tmp_path, capsys):
    d, _ = _damaged_copy(tmp_path)
    data = (d / "saved_model.pb").read_bytes()
    (d / "saved_model.pb").write_bytes(data[: len(data) // 2])
    code, doc = run_cli_json(capsys, "verify", d)
    assert code == 1 and doc["problems"][0]["file"].endswith("saved_model.pb")


def test_verify_graph_recursion_and_dangling_input(tmp_path, capsys):
    from google.protobuf import text_format

    from tfformats.proto import pb, pool

    g = pb.GraphDef()
    text_format.Parse((SCAN / "hidden_write.pbtxt").read_text(), g, descriptor_pool=pool())
    f = g.library.function[0]
    call = f.node_def.add()
    call.name, call.op = "again", f.signature.name  # the function calls itself
    g.node[0].input.append("ghost:0")
    p = tmp_path / "bad.pbtxt"
    p.write_text(text_format.MessageToString(g))
    code, doc = run_cli_json(capsys, "verify", p)
    assert code == 1
    msgs = [x["message"] for x in doc["problems"]]
    assert any("recursively" in m for m in msgs) and any("ghost:0" in m for m in msgs)
    code, doc = run_cli_json(capsys, "verify", SCAN / "hidden_write.pbtxt")
    assert code == 0 and doc["ok"]


def test_show_and_diff_frozen_graph_constants(capsys):
    frozen = DATA / "graphs" / "tf1_mlp" / "frozen.pb"
    values = np.load(DATA / "graphs" / "tf1_mlp" / "variable_values.npz")
    code, doc = run_cli_json(capsys, "ls", frozen)
    consts = {t["name"] for t in doc["tensors"]}
    # the generator stored each variable's TF value under its name with "/" spelled "__"
    common = sorted(n for n in values.files if n.replace("__", "/") in consts)
    assert len(common) >= 4  # the frozen graph's Const nodes carry the variables' names
    for key in common:
        code, doc = run_cli_json(capsys, "show", frozen, key.replace("__", "/"), "--full")
        np.testing.assert_array_equal(np.array(doc["values"], values[key].dtype), values[key])
    code, doc = run_cli_json(capsys, "diff", frozen, frozen)
    assert code == 0 and doc["same"]


def test_verify_reports_a_gradient_entry_naming_a_missing_function(tmp_path, capsys):
    # TF 2.21's import_graph_def refuses it ("FunctionDefLibrary missing 'missing_grad' FunctionDef";
    # the differential suite checks that); verify said OK
    from tfformats.proto import pb

    g = pb.GraphDef()
    g.library.function.add().signature.name = "f_a"
    g.library.gradient.add(function_name="f_a", gradient_func="missing_grad")
    n = g.node.add(name="c", op="Const")
    n.attr["dtype"].type = 1
    n.attr["value"].tensor.dtype = 1
    n.attr["value"].tensor.float_val.append(1.0)
    p = tmp_path / "g.pb"
    p.write_bytes(g.SerializeToString())
    code, doc = run_cli_json(capsys, "verify", p)
    assert code == 1 and any("missing_grad" in q["message"] for q in doc["problems"])
