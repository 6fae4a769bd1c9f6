"""Names TensorFlow accepts that a reader may not expect (tests/generate/gen_odd_names.py, TF 2.21)."""

from __future__ import annotations

import json

import numpy as np
from cli_helpers import DATA, run_cli_json

import tfformats

BASE = DATA / "odd_names"
EXPECTED = json.loads((BASE / "expected.json").read_text())


def test_functions_named_after_a_lambda(capsys):
    # tf.function(lambda ...) names its function __inference_<lambda>_N: the "<" made the CLI's
    # detection throw away a graph that parsed, so verify failed on an intact SavedModel and a .pb
    # was "not a format tfformats knows".
    code, doc = run_cli_json(capsys, "verify", BASE / "lambda_saved_model")
    assert code == 0 and doc["ok"] and doc["kind"] == "saved_model"
    code, doc = run_cli_json(capsys, "info", BASE / "lambda_graph.pb")
    assert code == 0 and doc["kind"] in ("graph_def", "frozen_graph")
    code, doc = run_cli_json(capsys, "scan", BASE / "lambda_saved_model")
    assert code in (0, 1) and doc["kind"] == "saved_model"
    graph = tfformats.read_graph_def(BASE / "lambda_graph.pb")
    assert sorted(f.signature.name for f in graph.library.function) == EXPECTED["graph_functions"]
    assert any("<lambda>" in name for name in EXPECTED["graph_functions"])
    sm = tfformats.load_saved_model(BASE / "lambda_saved_model")
    assert "serving_default" in sm.signatures


def test_tensor_name_starting_with_nul():
    # TensorFlow hides only the keys a partitioned tensor's entry names as its slices; a tensor
    # whose own name starts with NUL is listed and read like any other (tfformats dropped it).
    want = {k.encode("ascii").decode("unicode_escape"): v for k, v in EXPECTED["nul_key"].items()}
    r = tfformats.load_checkpoint(BASE / "nul_key")
    assert sorted(r.keys()) == sorted(want)
    for name, w in want.items():
        assert r.has_tensor(name)
        assert list(r.get_variable_to_shape_map()[name]) == w["shape"]
        np.testing.assert_array_equal(r.get_tensor(name), np.array(w["value"]))


def test_slice_keys_of_partitioned_tensors_stay_hidden():
    # the other side of the rule: in a TF1 checkpoint of partitioned variables the slice keys (NUL-led)
    # are not listed
    import glob

    found = 0
    for index in glob.glob(str(DATA / "checkpoints" / "**" / "*.index"), recursive=True):
        r = tfformats.load_checkpoint(index[: -len(".index")])
        if hasattr(r.backend, "entry") and any(r.backend.entry(n).slices for n in r.keys()):
            assert not any(n.startswith("\x00") for n in r.keys()), index
            found += 1
    assert found


def test_sharded_v1_checkpoint_in_a_folder_whose_name_holds_glob_characters(tmp_path):
    # a folder named "run[1]": the prefix was taken for a glob the caller wrote, and the shard files
    # beside it were never looked for (V2 checkpoints in such folders opened fine)
    import shutil

    src = DATA / "checkpoints" / "v1_sharded"
    dst = tmp_path / "run[1]*"
    shutil.copytree(src, dst)
    (shard,) = {f.name.rsplit("-", 3)[0] for f in src.iterdir() if "-of-" in f.name}
    want = tfformats.load_checkpoint(src / shard)
    got = tfformats.load_checkpoint(dst / shard)
    assert sorted(got.keys()) == sorted(want.keys())
    for n in want.keys():
        np.testing.assert_array_equal(got.get_tensor(n), want.get_tensor(n))
