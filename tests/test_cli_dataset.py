"""The command-line tool on tf.data saved datasets (tests/data/datasets, written by TensorFlow 2.21)."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest
from cli_helpers import DATA, run_cli, run_cli_json

import tfformats

DS = DATA / "datasets"
EXPECTED = json.loads((DS / "expected.json").read_text())


@pytest.mark.parametrize("case", ["save_plain", "save_nested", "snapshot_auto", "legacy_gzip"])
def test_detect(case):
    from tfformats.cli._detect import detect

    assert detect(DS / case).kind == "tf_dataset"


def test_info_lists_the_structure(capsys):
    code, doc = run_cli_json(capsys, "info", DS / "save_nested")
    assert code == 0
    assert doc["writer"] == "Dataset.save" and doc["num_elements"] == EXPECTED["cases"]["save_nested"]["num_elements"]
    comps = {c["path"]: c for c in doc["components"]}
    assert comps["0/image"] == {"path": "0/image", "kind": "tensor", "dtype": "uint8", "shape": [4, 4, 3]}
    assert comps["3"]["shape"] == [None]
    code, out, _ = run_cli(capsys, "info", DS / "save_ragged")
    assert code == 0 and "ragged (ragged_rank 2)" in out and "string" in out


def test_verify_counts_elements(capsys):
    code, doc = run_cli_json(capsys, "verify", DS / "save_shards")
    assert code == 0 and doc["ok"]
    assert doc["checked"] == {"files": 3, "elements": EXPECTED["cases"]["save_shards"]["num_elements"]}
    code, doc = run_cli_json(capsys, "verify", DS / "save_unfinished")
    assert code == 0 and [p["severity"] for p in doc["problems"]] == ["warning"]


def test_verify_finds_damage(capsys, tmp_path):
    root = tmp_path / "ds"
    shutil.copytree(DS / "save_gzip", root)
    (shard,) = [os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs if f.endswith(".snapshot")]
    data = bytearray(open(shard, "rb").read())
    data[len(data) // 2] ^= 0x55
    open(shard, "wb").write(bytes(data))
    code, doc = run_cli_json(capsys, "verify", root)
    assert code == 1 and not doc["ok"]
    assert doc["problems"][0]["file"] == shard


def test_ls_show_export_see_stacked_components(capsys, tmp_path):
    code, doc = run_cli_json(capsys, "ls", DS / "save_plain")
    assert code == 0
    assert {t["name"]: t["shape"] for t in doc["tensors"]} == {"id": [12], "name": [12], "vec": [12, 3]}
    code, doc = run_cli_json(capsys, "show", DS / "save_plain", "vec")
    assert code == 0 and doc["tensor"]["shape"] == [12, 3]
    want = tfformats.load_dataset(DS / "save_plain").to_numpy()["vec"]
    np.testing.assert_array_equal(np.array(doc["values"], dtype=np.float32), want)
    out = tmp_path / "ds.npz"
    code, _, _ = run_cli(capsys, "export", DS / "save_nested", out)
    assert code == 0
    with np.load(out) as z:
        assert z["0/image"].shape == (7, 4, 4, 3)
        assert "3" not in z.files  # varying length: not stackable
