"""Content-based detection of what a path holds (tfformats.cli._detect)."""

from __future__ import annotations

import shutil

import pytest

from cli_helpers import CKPTS, SAMPLE, SCAN, run_cli, run_cli_json
from tfformats.cli._common import CLIError
from tfformats.cli._detect import detect


@pytest.mark.parametrize(
    "rel, kind",
    [
        (SAMPLE, "checkpoint"),
        (SAMPLE / "model-1", "checkpoint"),
        (SAMPLE / "model-1.index", "checkpoint"),
        (SAMPLE / "model-1.data-00000-of-00001", "checkpoint"),
        (CKPTS / "v1_single", "checkpoint_v1"),
        (CKPTS / "v1_single" / "model.ckpt-1", "checkpoint_v1"),
        (CKPTS / "v1_dtypes", "checkpoint_v1"),
        (CKPTS / "v1_sharded" / "model.ckpt-2-?????-of-00003", "checkpoint_v1"),
        (CKPTS / "v1_sharded" / "model.ckpt-2", "checkpoint_v1"),
        (CKPTS / "tf1_sharded" / "model.ckpt-7.meta", "meta_graph"),
        (SCAN / "tf1_model.meta", "meta_graph"),
        (SCAN / "hidden_write.pbtxt", "graph_def"),
        (SCAN / "frozen_clean.pb", "frozen_graph"),
        (SCAN / "clean_module", "saved_model"),
        (SCAN / "clean_module" / "saved_model.pb", "saved_model"),
        (SCAN / "pbtxt_saved_model", "saved_model"),
        (SCAN / "keras_lambda" / "keras_metadata.pb", "keras_metadata"),
        (SCAN / "lambda.keras", "keras_archive"),
        (SAMPLE / "checkpoint", "checkpoint"),  # the state file: the checkpoint it names
        (CKPTS / "v1_single" / "checkpoint", "checkpoint_v1"),
    ],
)
def test_detect(rel, kind):
    assert detect(rel).kind == kind


def test_detect_ignores_file_names(tmp_path):
    # content decides: a frozen graph named .meta, a MetaGraph named .pbtxt, a text GraphDef named .pb
    shutil.copy(SCAN / "frozen_clean.pb", tmp_path / "weights.meta")
    shutil.copy(SCAN / "tf1_model.meta", tmp_path / "graph.pbtxt")
    shutil.copy(SCAN / "hidden_write.pbtxt", tmp_path / "model.pb")
    shutil.copy(SCAN / "clean_module" / "saved_model.pb", tmp_path / "anything.bin")
    assert detect(tmp_path / "weights.meta").kind == "frozen_graph"
    assert detect(tmp_path / "graph.pbtxt").kind == "meta_graph"
    t = detect(tmp_path / "model.pb")
    assert t.kind == "graph_def" and t.details["format"] == "text"
    assert detect(tmp_path / "anything.bin").kind == "saved_model"


def test_detect_tfrecord_and_event_from_bytes(tmp_path):
    import struct

    from tfformats._io import crc
    from tfformats.proto import pb

    def record(data: bytes) -> bytes:
        head = struct.pack("<Q", len(data))
        return head + struct.pack("<I", crc.masked_value(head)) + data + struct.pack("<I", crc.masked_value(data))

    (tmp_path / "data.bin").write_bytes(record(b"hello") + record(b""))
    assert detect(tmp_path / "data.bin").kind == "tfrecord"
    ev = pb.Event(wall_time=1.0, file_version="brain.Event:2").SerializeToString()
    (tmp_path / "x").write_bytes(record(ev))
    assert detect(tmp_path / "x").kind == "event_file"
    import gzip

    (tmp_path / "z").write_bytes(gzip.compress(record(b"abc")))
    t = detect(tmp_path / "z")
    assert t.kind == "tfrecord" and t.details["compression"] == "GZIP"


def test_detect_errors(tmp_path):
    (tmp_path / "empty").write_bytes(b"")
    assert detect(tmp_path / "empty").kind == "tfrecord"  # TensorFlow reads it as zero records
    (tmp_path / "text.txt").write_text("hello world, not a graph\n")
    for p in ("text.txt", "nothing"):
        with pytest.raises(CLIError) as e:
            detect(tmp_path / p)
        assert e.value.code == 3
    (tmp_path / "d").mkdir()
    with pytest.raises(CLIError):
        detect(tmp_path / "d")


def test_info_on_graph_kinds(capsys):
    code, doc = run_cli_json(capsys, "info", SCAN / "tf1_model.meta")
    assert code == 0 and doc["kind"] == "meta_graph"
    summary = doc["summary"]
    assert [i["name"] for i in summary["inputs"]] == ["x:0"]
    assert [v["name"] for v in summary["variables"]] == ["w"]
    code, doc = run_cli_json(capsys, "info", SCAN / "frozen_clean.pb")
    assert code == 0 and doc["summary"]["is_frozen"] and doc["summary"]["constant_elements"] >= 2
    code, doc = run_cli_json(capsys, "info", SCAN / "clean_module")
    assert code == 0 and "serving_default" in doc["saved_model"]["signatures"]
    assert doc["checkpoint"]["num_tensors"] == 3  # w, b and the object graph
    code, out, _ = run_cli(capsys, "info", SCAN / "clean_module")
    assert code == 0 and "serving_default" in out and "SavedModel" in out


def test_ls_and_export_frozen_graph_constants(capsys, tmp_path):
    import numpy as np

    code, doc = run_cli_json(capsys, "ls", SCAN / "frozen_clean.pb")
    consts = {t["name"]: t for t in doc["tensors"]}
    assert consts["w"]["shape"] == [2, 1] and consts["w"]["kind"] == "constant"
    code, doc = run_cli_json(capsys, "show", SCAN / "frozen_clean.pb", "w")
    assert doc["values"] == [[1.0], [2.0]]  # the initializer gen_scan.py gave TF
    code, doc = run_cli_json(capsys, "export", SCAN / "frozen_clean.pb", tmp_path / "c.npz")
    np.testing.assert_array_equal(np.load(tmp_path / "c.npz")["w"], np.array([[1.0], [2.0]], np.float32))


def test_checkpoint_state_file_names_the_latest_checkpoint(capsys):
    """tf.train.latest_checkpoint reads the state file; info on the file itself opens that checkpoint."""
    import json
    import os

    tf_says = json.loads((CKPTS / "manifest.json").read_text())["directories"]["tf1_steps"]["latest_checkpoint"]
    code, doc = run_cli_json(capsys, "info", CKPTS / "tf1_steps" / "checkpoint")
    assert code == 0 and doc["prefix"] == os.path.abspath(CKPTS / tf_says)
    assert doc["checkpoint_state"]["latest"] == doc["prefix"]



def test_a_folder_of_readable_things_says_what_to_name(tmp_path, capsys):
    # found by a compatibility hunt: a TFDS dataset folder (TFRecord shards) and an Estimator's
    # export/ base (timestamped SavedModels) got "directory holds no ..." with no hint
    import shutil

    from cli_helpers import DATA, run_cli

    shards = tmp_path / "tiny_ds" / "1.0.0"
    shards.mkdir(parents=True)
    for i in range(2):
        shutil.copy(DATA / "records" / "examples.none.tfrecord", shards / f"tiny_ds-train.tfrecord-0000{i}-of-00002")
    (shards / "dataset_info.json").write_text("{}")
    code, _, err = run_cli(capsys, "info", shards)
    assert code == 3 and "2 TFRecord file(s) (tiny_ds-train.tfrecord-00000-of-00002" in err
    export = tmp_path / "export"
    shutil.copytree(DATA / "saved_models" / "tf1_builder", export / "1796469649")
    code, _, err = run_cli(capsys, "verify", export)
    assert code == 3 and f"SavedModel(s) in subfolder(s) 1796469649: name one ({export / '1796469649'})" in err


def test_a_tf1_hub_module_marker_names_its_saved_model(tmp_path, capsys):
    # tensorflow_hub writes tfhub_module.pb (a ModuleDef, format 3: bytes 08 03) beside the module's
    # SavedModel; named by itself it was "not a format tfformats knows"
    import shutil

    from cli_helpers import DATA, run_cli, run_cli_json

    module = tmp_path / "module"
    shutil.copytree(DATA / "saved_models" / "tf1_builder", module)
    (module / "tfhub_module.pb").write_bytes(b"\x08\x03")
    code, doc = run_cli_json(capsys, "info", module / "tfhub_module.pb")
    assert code == 0 and doc["kind"] == "saved_model"
    (tmp_path / "tfhub_module.pb").write_bytes(b"\x08\x03")
    code, _, err = run_cli(capsys, "info", tmp_path / "tfhub_module.pb")
    assert code == 3 and "TF1 Hub module marker" in err
