"""``tfformats`` run as a subprocess, once per subcommand, on committed fixtures.

Expected values come from TensorFlow (examples/sample_checkpoint/expected.json,
tests/data/checkpoints/manifest.json and expected/*.npz, tests/data/scan/expected.json).
The many smaller cases run in-process in test_cli_*.py.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from cli_helpers import CKPTS, SAMPLE, SCAN, expected_tensor, manifest, run_json_subprocess, run_subprocess

KERNEL = "model/layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE"


@pytest.fixture(scope="module")
def sample_expected():
    return json.loads((SAMPLE / "expected.json").read_text())


def test_ls_subprocess(sample_expected):
    code, doc = run_json_subprocess("ls", SAMPLE)
    assert code == 0
    assert doc["command"] == "ls" and doc["schema_version"] == 1 and doc["kind"] == "checkpoint"
    got = [[t["name"], t["shape"], t["dtype"]] for t in doc["tensors"]]
    assert got == sample_expected["variables"]  # names, order, shapes and dtypes as TensorFlow lists them


def test_info_subprocess(sample_expected):
    code, doc = run_json_subprocess("info", SAMPLE)
    assert code == 0
    assert doc["kind"] == "checkpoint" and doc["format"] == "V2" and doc["num_shards"] == 1
    assert doc["num_tensors"] == len(sample_expected["variables"])
    params = sum(int(np.prod(s)) for _, s, d in sample_expected["variables"] if d != "string")
    assert doc["num_parameters"] == params
    assert doc["dtypes"]["float32"]["tensors"] == sum(d == "float32" for _, _, d in sample_expected["variables"])
    assert doc["object_graph"]["variables"] == len(sample_expected["variables"]) - 1
    assert doc["checkpoint_state"]["latest"].endswith(sample_expected["prefix"])


def test_show_subprocess(sample_expected):
    code, doc = run_json_subprocess("show", SAMPLE, KERNEL)
    assert code == 0
    want = np.array(sample_expected["kernel"], np.float32)
    np.testing.assert_array_equal(np.array(doc["values"], np.float32), want)
    st = doc["statistics"]
    assert st["count"] == want.size and st["nan"] == 0 and st["zeros"] == int((want == 0).sum())
    assert st["min"] == float(want.min()) and st["max"] == float(want.max())
    assert st["mean"] == pytest.approx(float(want.astype(np.float64).mean()))
    assert st["std"] == pytest.approx(float(want.astype(np.float64).std()))
    # the human form prints numpy-style rows
    code, out, err = run_subprocess("show", SAMPLE, KERNEL)
    assert code == 0 and "values:" in out and out.count("[") >= want.shape[0]


def test_verify_subprocess_intact_and_flipped_byte(tmp_path):
    code, doc = run_json_subprocess("verify", SAMPLE)
    assert code == 0 and doc["ok"] and doc["problems"] == [] and doc["checked"]["tensors"] == 16
    bad = tmp_path / "ckpt"
    shutil.copytree(SAMPLE, bad)
    shard = bad / "model-1.data-00000-of-00001"
    data = bytearray(shard.read_bytes())
    data[5] ^= 0x40  # inside the first tensor TF wrote
    shard.write_bytes(bytes(data))
    code, doc = run_json_subprocess("verify", bad)
    assert code == 1 and not doc["ok"]
    [p] = doc["problems"]
    assert p["severity"] == "error" and "ChecksumError" in p["message"]
    assert p["file"].endswith("model-1.data-00000-of-00001") and p["entry"] and p["offset"] is not None
    assert p["offset"] <= 5  # the tensor holding byte 5 starts at or before it


def test_diff_subprocess():
    a, b = CKPTS / "tf1_steps" / "model.ckpt-3", CKPTS / "tf1_steps" / "model.ckpt-4"
    code, doc = run_json_subprocess("diff", a, b)
    assert code == 1 and not doc["same"]
    rows = {r["name"]: r for r in doc["common"]}
    names = [n for n, _ in manifest()["tf1_steps_model.ckpt-3"]["list_variables"]]
    assert sorted(rows) == sorted(names) and doc["removed"] == [] and doc["added"] == []
    for n in names:
        x = expected_tensor("tf1_steps_model.ckpt-3", n).astype(np.float64)
        y = expected_tensor("tf1_steps_model.ckpt-4", n).astype(np.float64)
        r = rows[n]
        if np.array_equal(x, y):
            assert r["status"] == "identical"
        else:
            assert r["status"] == "different"
            assert r["max_abs_diff"] == pytest.approx(float(np.abs(x - y).max()))
            assert r["num_different"] == int((x != y).sum())
    code, doc = run_json_subprocess("diff", a, a)
    assert code == 0 and doc["same"]


def test_export_subprocess_safetensors_keeps_bfloat16(tmp_path):
    pytest.importorskip("safetensors")
    import ml_dtypes  # noqa: F401  (registers bfloat16 with numpy, which safetensors.numpy needs to load BF16)
    from safetensors.numpy import load_file

    out = tmp_path / "w.safetensors"
    code, doc = run_json_subprocess("export", CKPTS / "dtypes" / "ckpt", out, "--glob", "bfloat16/*", "--glob", "float32/*")
    assert code == 0
    loaded = load_file(str(out))
    names = [n for n in manifest()["dtypes"]["tensors"] if n.startswith(("bfloat16/", "float32/"))]
    assert sorted(loaded) == sorted(names)
    for n in names:
        want = expected_tensor("dtypes", n)
        assert loaded[n].dtype == want.dtype  # bfloat16 stays bfloat16
        assert loaded[n].shape == want.shape and loaded[n].tobytes() == want.tobytes()
    assert {e["name"]: e["stored_dtype"] for e in doc["exported"]}["bfloat16/values"] == "bfloat16"


def test_scan_subprocess():
    expected = json.loads((SCAN / "expected.json").read_text())["fixtures"]["write_file_fn"]
    code, doc = run_json_subprocess("scan", SCAN / "write_file_fn")
    assert code == 1 and doc["failed"]
    found = {(f["op"], f["location"].get("function")) for f in doc["findings"] if f["severity"] in ("high", "critical")}
    want = {(e["op"], e["function"]) for e in expected if e["op"] == "WriteFile"}
    assert want and want <= found
    code, doc = run_json_subprocess("scan", SCAN / "clean_module")
    assert code == 0 and not doc["failed"] and doc["counts"]["high"] == doc["counts"]["critical"] == 0


def test_bad_input_is_one_line_error_without_traceback(tmp_path):
    junk = tmp_path / "junk.pb"
    junk.write_bytes(b"\x00\x01garbage that is no TensorFlow file\xff" * 10)
    code, out, err = run_subprocess("info", junk)
    assert code == 3
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1 and "junk.pb" in err
    code, out, err = run_subprocess("ls", tmp_path / "missing")
    assert code == 3 and "Traceback" not in err
    code, out, err = run_subprocess("ls")
    assert code == 2 and "Traceback" not in err


HIDING = ["write_file_fn", "pbtxt_saved_model", "hidden_write.pbtxt", "read_file_cond", "dataset_map", "dataset_graph",
          "dataset_graph_encoded", "py_function", "print_fn", "while_body", "mlir_passthrough", "collection_graph.meta",
          "keras_lambda", "lambda.keras", "tfsm_layer.keras"]
CLEAN = ["clean_module", "clean_keras", "frozen_clean.pb", "tf1_model.meta", "tf1_saved_model"]


@pytest.mark.parametrize("name", HIDING + CLEAN)
def test_scan_subprocess_exit_status_gates_ci(name):
    """The CI gate as a user runs it: exit 1 for every model hiding a risky op or a Lambda layer,
    0 for the clean ones (default --fail-on high); --fail-on none never fails, --fail-on info
    fails on any finding."""
    code, doc = run_json_subprocess("scan", SCAN / name)
    high = doc["counts"]["high"] + doc["counts"]["critical"]
    if name in CLEAN:
        assert code == 0 and high == 0 and not doc["failed"]
    else:
        assert code == 1 and high >= 1 and doc["failed"]
    if name in ("dataset_graph_encoded", "clean_module"):
        code, out, err = run_subprocess("scan", SCAN / name, "--fail-on", "none")
        assert code == 0 and ("FAIL" not in out) and err == ""
        code, out, err = run_subprocess("scan", SCAN / name, "--fail-on", "info")
        assert code == 1 and sum(doc["counts"].values())  # the saver's own ops are info findings
