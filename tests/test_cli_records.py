"""``tfformats info/verify`` on TFRecord and event files written by TensorFlow, and damaged copies."""

from __future__ import annotations

import json
import shutil
from collections import defaultdict

import numpy as np
import pytest

from cli_helpers import DATA, run_cli, run_cli_json, run_json_subprocess

import tfformats.records as tfr

REC = DATA / "records"
EV = DATA / "events"
REC_EXPECTED = json.loads((REC / "expected.json").read_text())["files"]
EV_EXPECTED = json.loads((EV / "expected.json").read_text())["files"]


@pytest.mark.parametrize("name", sorted(REC_EXPECTED))
def test_info_and_verify_every_tfrecord(capsys, name):
    want = REC_EXPECTED[name]
    code, doc = run_cli_json(capsys, "info", REC / name)
    assert code == 0 and doc["kind"] == "tfrecord"
    assert doc["compression"] == want["compression"] and doc["num_records"] == want["records"]
    assert doc["payload_bytes"] == sum(want["lengths"])
    if want["lengths"]:
        assert (doc["min_record_bytes"], doc["max_record_bytes"]) == (min(want["lengths"]), max(want["lengths"]))
    code, doc = run_cli_json(capsys, "verify", REC / name)
    assert code == 0 and doc["ok"] and doc["checked"]["records"] == want["records"]


def _tf_counts(feature: str, n: int, z) -> list[int]:
    """Values per record of a feature as tf.io.parse_single_example returned them (0 if absent)."""
    out = []
    for i in range(n):
        if f"{i}/{feature}" in z.files:
            out.append(int(np.asarray(z[f"{i}/{feature}"]).size))
        elif f"{i}/{feature}.lengths" in z.files:
            out.append(int(z[f"{i}/{feature}.lengths"].size))
        else:
            out.append(0)
    return out


def test_example_schema_matches_tensorflow_parse(capsys):
    code, doc = run_cli_json(capsys, "info", REC / "examples.none.tfrecord")
    schema = doc["example_schema"]
    assert schema["message"] == "Example" and schema["records_examined"] == 27
    z = np.load(REC / "expected_examples.npz", allow_pickle=False)
    n = REC_EXPECTED["examples.none.tfrecord"]["records"]
    for f in schema["features"]:
        counts = _tf_counts(f["name"], n, z)
        assert f["max_length"] == max(counts), f
        if f["fixed_length"] and f["present"] == n:
            assert len(set(counts)) == 1 and f["min_length"] == counts[0]
    assert "tf.io.FixedLenFeature([4], tf.float32)" in schema["tf_code"]  # embedding, as gen_records.py parses it


def test_sequence_example_schema(capsys):
    code, doc = run_cli_json(capsys, "info", REC / "sequence_examples.gzip.tfrecord")
    s = doc["example_schema"]
    assert s["message"] == "SequenceExample"
    kinds = {(f["name"], f["kind"]) for f in s["features"]}
    assert {("id", "context"), ("lang", "context"), ("frames", "feature_list")} <= kinds
    frames = next(f for f in s["features"] if f["name"] == "frames")
    assert frames["shape"] == [3]  # tf.io.FixedLenSequenceFeature([3], tf.float32) in the generator


def test_verify_corrupted_tfrecord_reports_each_record(tmp_path, capsys):
    src = REC / "examples.none.tfrecord"
    data = bytearray(src.read_bytes())
    from tfformats.records import RecordFile

    with RecordFile(src) as rf:
        offsets = list(rf.offsets)
    for k in (3, 10):  # damage the payload of records 3 and 10
        data[offsets[k] + 12 + 5] ^= 0xFF
    bad = tmp_path / "bad.tfrecord"
    bad.write_bytes(bytes(data))
    code, doc = run_json_subprocess("verify", bad)
    assert code == 1 and not doc["ok"]
    assert [p["entry"] for p in doc["problems"]] == ["record 3", "record 10"]
    assert [p["offset"] for p in doc["problems"]] == [offsets[3], offsets[10]]
    assert doc["checked"]["records"] == 25  # every other record was read and checked
    code, out, err = run_cli(capsys, "info", bad)
    assert code == 3 and "record 3" in err


def test_verify_truncated_and_damaged_gzip(tmp_path, capsys):
    src = (REC / "examples.none.tfrecord").read_bytes()
    (tmp_path / "t.tfrecord").write_bytes(src[:-7])
    code, doc = run_cli_json(capsys, "verify", tmp_path / "t.tfrecord")
    assert code == 1 and "record 26" in doc["problems"][-1]["entry"]
    gz = bytearray((REC / "examples.gzip.tfrecord").read_bytes())
    gz[len(gz) // 2] ^= 0x55
    (tmp_path / "g.tfrecord").write_bytes(bytes(gz))
    code, doc = run_cli_json(capsys, "verify", tmp_path / "g.tfrecord")
    assert code == 1 and doc["problems"]


def test_verify_warns_about_bytes_after_a_zlib_stream(tmp_path, capsys):
    import zlib

    z = (REC / "examples.zlib.tfrecord").read_bytes()
    (tmp_path / "z.tfrecord").write_bytes(z + zlib.compress(b"appended later"))
    code, doc = run_cli_json(capsys, "verify", tmp_path / "z.tfrecord")
    assert code == 0 and doc["checked"]["records"] == len(list(tfr.read(REC / "examples.zlib.tfrecord")))
    (warning,) = doc["problems"]
    assert warning["severity"] == "warning" and f"ends at offset {len(z)}" in warning["message"]
    code, doc = run_cli_json(capsys, "verify", REC / "examples.zlib.tfrecord")
    assert code == 0 and not doc["problems"]


def _expected_tags():
    runs = defaultdict(lambda: defaultdict(list))
    for rel, events in EV_EXPECTED.items():
        run = rel.rsplit("/", 1)[0]
        for e in events:
            for v in e.get("values", []):
                runs[run][v["tag"]].append(e["step"])
    return runs


def test_info_log_dir_tags_and_steps(capsys):
    code, doc = run_cli_json(capsys, "info", EV)
    assert code == 0 and doc["kind"] == "log_dir"
    want = _expected_tags()
    got = {r["run"]: {t["tag"]: t for t in r["tags"]} for r in doc["runs"]}
    assert set(got) == set(want)
    for run, tags in want.items():
        assert set(got[run]) == set(tags), run
        for tag, steps in tags.items():
            t = got[run][tag]
            assert (t["min_step"], t["max_step"]) == (min(steps), max(steps)), (run, tag)


def test_verify_event_files(tmp_path, capsys):
    code, doc = run_cli_json(capsys, "verify", EV)
    assert code == 0 and doc["checked"]["files"] == len(EV_EXPECTED)
    assert doc["checked"]["events"] == sum(len(v) for v in EV_EXPECTED.values())
    d = tmp_path / "logs"
    shutil.copytree(EV, d)
    f = d / "tf1" / next(p.name for p in (EV / "tf1").iterdir())
    data = bytearray(f.read_bytes())
    data[-3] ^= 0x01  # inside the last record's payload
    f.write_bytes(bytes(data))
    code, doc = run_cli_json(capsys, "verify", d)
    assert code == 1
    [p] = doc["problems"]
    assert p["file"].endswith(f.name) and p["entry"] == f"record {len(EV_EXPECTED['tf1/' + f.name]) - 1}"


def test_verify_event_file_cut_short_warns_and_tfrecord_cut_short_fails(tmp_path, capsys):
    # a log still being written ends in part of a record: TensorBoard reads up to it, so verify
    # warns (exit 0); a TFRecord file cut short is an error to tf.data, and to verify
    f = next((EV / "tf1").iterdir())
    cut = tmp_path / f.name
    cut.write_bytes(f.read_bytes()[:-5])
    code, doc = run_cli_json(capsys, "verify", cut)
    assert code == 0 and doc["ok"]
    [p] = doc["problems"]
    assert p["severity"] == "warning" and "truncated last record" in p["message"]
    assert p["entry"] == f"record {len(EV_EXPECTED['tf1/' + f.name]) - 1}"
    t = tmp_path / "t.tfrecord"
    t.write_bytes((REC / "examples.none.tfrecord").read_bytes()[:-5])
    code, doc = run_cli_json(capsys, "verify", t)
    assert code == 1 and doc["problems"][-1]["severity"] == "error"


def test_log_dir_with_a_file_named_like_an_event_file(tmp_path, capsys):
    # TensorBoard reads every file with "tfevents" in its name; a notes file named so holds no
    # records: read_events and info skip it (and say so), verify checks it and calls it out
    d = tmp_path / "logs"
    shutil.copytree(EV / "tf1", d / "run")
    (d / "run" / "tfevents_notes.txt").write_text("my notes on this run\n")
    code, doc = run_cli_json(capsys, "info", d)
    assert code == 0 and doc["num_files"] == 2 and doc["runs"][0]["values"] > 0
    code, doc = run_cli_json(capsys, "verify", d)
    assert code == 1 and doc["checked"]["files"] == 2
    [p] = doc["problems"]
    assert p["file"].endswith("tfevents_notes.txt") and "not a TFRecord file" in p["message"]


def test_info_kinds_follow_the_first_metadata_across_a_runs_files(capsys):
    # a TF1 FileWriter reopened: the second file's values carry no plugin metadata
    code, doc = run_cli_json(capsys, "info", DATA / "event_writers" / "tf1_reopen")
    assert code == 0 and doc["runs"][0]["values"] == 24
    kinds = {t["tag"]: t["kind"] for t in doc["runs"][0]["tags"]}
    assert kinds == {"note": "text", "loss": "scalars", "w": "histograms", "im/image/0": "images"}


def test_scan_data_only(capsys):
    code, doc = run_cli_json(capsys, "scan", REC / "examples.none.tfrecord")
    assert code == 0 and doc["kind"] == "tfrecord" and doc["findings"] == []


def test_examples_no_schema_fits_say_why(capsys, tmp_path):
    """A feature of two kinds (TensorFlow's parse_example would fail on it for either kind): info still
    reports the records and says which record and feature stop a schema."""
    from tfformats import example, records

    path = tmp_path / "mixed.tfrecord"
    records.write(path, [example.encode_example({"x": [1, 2], "y": [1.0]}), example.encode_example({"x": [1.5]})])
    code, doc = run_cli_json(capsys, "info", path)
    assert code == 0 and doc["num_records"] == 2
    s = doc["example_schema"]
    assert s["message"] is None and s["features"] == [] and s["tf_code"] is None
    assert "record 1" in s["error"] and "'x'" in s["error"] and "float32" in s["error"]
    code, out, _ = run_cli(capsys, "info", path)
    assert code == 0 and "no Example schema fits the first 2 records" in out


def test_ls_of_an_event_file_points_to_info(capsys):
    f = next((DATA / "events").rglob("*tfevents*"))
    code, out, err = run_cli(capsys, "ls", f)
    assert code == 3 and "an event file holds no named tensors (try 'tfformats info')" in err


def test_verify_several_shards_into_one_report(tmp_path, capsys):
    # found by a compatibility hunt: a TFDS dataset folder's shards could only be verified one by one
    names = ["examples.none.tfrecord", "examples.gzip.tfrecord", "edge.zlib.tfrecord"]
    paths = [REC / n for n in names]
    want = sum(len(list(tfr.read(p))) for p in paths)
    code, doc = run_cli_json(capsys, "verify", *paths)
    assert code == 0 and doc["path"] == [str(p) for p in paths] and doc["kind"] == ["tfrecord"] * 3
    assert doc["checked"]["files"] == 3 and doc["checked"]["records"] == want
    bad = tmp_path / "cut.tfrecord"
    bad.write_bytes((REC / "examples.none.tfrecord").read_bytes()[:-7])
    code, doc = run_cli_json(capsys, "verify", paths[0], bad, paths[1])
    assert code == 1 and [p["file"] for p in doc["problems"]] == [str(bad)]
    code, out, err = run_cli(capsys, "verify", paths[0], tmp_path / "nope.tfrecord")
    assert code == 3 and "nope.tfrecord" in err  # every path is found before anything is checked
    code, doc = run_cli_json(capsys, "verify", paths[0])
    assert doc["path"] == str(paths[0]) and doc["kind"] == "tfrecord"  # one path: as before
