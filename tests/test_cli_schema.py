"""The ``--json`` documents keep the schema documented in docs/cli.md ("JSON schemas").

Every subcommand runs on committed fixtures of every kind it handles.  Two checks:

- each documented field that is always present is there (removing or renaming one breaks
  scripts: it needs a new ``schema_version``);
- every key the command prints is named in that command's block of docs/cli.md (a new field
  must be documented before it ships).

Maps keyed by data (dtype names in ``info``, the GraphSummary and SavedModel dictionaries
whose schemas live in their own modules) are not descended into.
"""

from __future__ import annotations

import re

import pytest

from cli_helpers import CKPTS, DATA, ROOT, SAMPLE, SCAN, run_cli, run_cli_json, run_json_subprocess

DOC = (ROOT / "docs" / "cli.md").read_text()
SCHEMAS = DOC.split("## JSON schemas", 1)[1]
BLOCKS = {name: body for name, body in re.findall(r"\*\*(\w+)\*\*[^\n]*\n```\n(.*?)```", SCHEMAS, re.S)}
COMMON = {"command", "schema_version", "tfformats_version"}
KINDS = set(re.findall(r"^\| `(\w+)` \|", DOC.split("## What PATH can be", 1)[1].split("##", 1)[0], re.M))
KERNEL = "model/layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE"

# top-level fields that are always present, and fields every list item has
REQUIRED = {
    "ls": ({"path", "kind", "tensors"}, {"tensors": {"name", "dtype", "shape", "size", "nbytes", "kind", "partitioned"}}),
    "show": ({"path", "kind", "tensor", "selection", "statistics"}, {}),
    "verify": ({"path", "kind", "ok", "checked", "problems", "truncated"},
               {"problems": {"severity", "file", "entry", "offset", "message"}}),
    "diff": ({"a", "b", "same", "removed", "added", "common", "summary"},
             {"removed": {"name", "dtype", "shape"}, "added": {"name", "dtype", "shape"},
              "common": {"name", "dtype_a", "dtype_b", "shape_a", "shape_b", "status"}}),
    "export": ({"path", "kind", "out", "format", "bytes_written", "exported", "skipped"},
               {"exported": {"name", "key", "dtype", "stored_dtype", "shape"}, "skipped": {"name", "dtype", "reason"}}),
    "scan": ({"path", "kind", "fail_on", "min_severity", "failed", "counts", "scanned", "findings"},
             {"findings": {"severity", "rule", "op", "where", "location", "why"}}),
}
INFO_REQUIRED = {
    "checkpoint": {"format", "prefix", "num_shards", "num_tensors", "num_parameters", "num_bytes", "dtypes",
                   "partitioned", "files", "object_graph"},
    "graph_def": {"format", "summary"},
    "saved_model": {"format", "saved_model", "checkpoint"},
    "tfrecord": {"compression", "file_bytes", "num_records", "payload_bytes", "min_record_bytes", "max_record_bytes",
                 "example_schema"},
    "event_file": {"num_files", "num_values", "runs"},
    "keras_metadata": {"num_nodes", "nodes"},
    "keras_archive": {"keras_version", "saved_at", "model_class", "layer_classes", "members"},
    "keras_h5": {"format", "superblock_version", "userblock_bytes", "content", "keras_version", "backend",
                 "model_class", "layer_classes", "num_layers", "model_config_bytes", "training_config", "attributes",
                 "unreadable"},
    "tf_dataset": {"writer", "format_version", "compression", "finalized", "num_elements", "num_shards", "num_files",
                   "file_bytes", "run_id", "components"},
}
INFO_REQUIRED.update(checkpoint_v1=INFO_REQUIRED["checkpoint"], frozen_graph=INFO_REQUIRED["graph_def"],
                     meta_graph=INFO_REQUIRED["graph_def"], log_dir=INFO_REQUIRED["event_file"])
OPAQUE = {"dtypes", "saved_model", "summary", "layer_classes"}  # keyed by data, or documented in other modules


def _words(text: str) -> set[str]:
    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text))


def _keys(obj, opaque, out=None, path=""):
    out = set() if out is None else out
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.add(k)
            if k not in opaque:
                _keys(v, opaque, out, f"{path}.{k}")
    elif isinstance(obj, list):
        for v in obj:
            _keys(v, opaque, out, path)
    return out


def check(doc: dict, command: str) -> None:
    assert doc["command"] == command and doc["schema_version"] == 1 and isinstance(doc["tfformats_version"], str)
    top, items = REQUIRED.get(command, (set(), {}))
    if command == "info":
        top = {"path", "kind"} | INFO_REQUIRED[doc["kind"]]
    if "kind" in doc:
        assert doc["kind"] in KINDS, doc["kind"]
    assert top <= set(doc), (command, top - set(doc))
    for field, need in items.items():
        for item in doc[field]:
            assert need <= set(item), (command, field, need - set(item))
    opaque = OPAQUE if command == "info" else {"dtypes"}
    documented = _words(BLOCKS[command]) | COMMON | {"path", "kind"}
    extra = _keys(doc, opaque) - documented
    assert not extra, f"{command} prints undocumented keys {sorted(extra)}; document them in docs/cli.md"


def test_doc_has_a_block_per_subcommand():
    from tfformats.cli import SUBCOMMANDS

    assert set(BLOCKS) == set(SUBCOMMANDS)
    assert {"checkpoint", "saved_model", "tfrecord", "log_dir", "keras_archive", "keras_h5"} <= KINDS


INFO_PATHS = {
    "checkpoint prefix": CKPTS / "tf1_sharded" / "model.ckpt-7",
    "checkpoint dir": CKPTS / "tf1_sharded",
    "V1 checkpoint": CKPTS / "v1_single" / "model.ckpt-1",
    "meta": CKPTS / "tf1_steps" / "model.ckpt-3.meta",
    "pb": DATA / "graphs" / "tf1_mlp" / "graph.pb",
    "pbtxt": DATA / "graphs" / "tf1_mlp" / "graph.pbtxt",
    "frozen": DATA / "graphs" / "tf1_mlp" / "frozen.pb",
    "saved model": DATA / "saved_models" / "tf2_module",
    "saved model pbtxt": DATA / "saved_models" / "pbtxt_model",
    "tfrecord": DATA / "records" / "examples.gzip.tfrecord",
    "sequence tfrecord": DATA / "records" / "sequence_examples.none.tfrecord",
    "empty tfrecord": DATA / "records" / "empty.none.tfrecord",
    "event file": next((DATA / "events" / "tf1").iterdir()),
    "log dir": DATA / "events" / "logdir",
    "keras metadata": SCAN / "keras_lambda" / "keras_metadata.pb",
    "keras archive": SCAN / "lambda.keras",
    "keras h5": SCAN / "tfk_lambda.h5",
    "keras 2.12 hdf5 .keras": SCAN / "keras212_lambda.keras",
    "keras h5 dense attributes": SCAN / "h5_dense_attrs.h5",
    "dataset save": DATA / "datasets" / "save_ragged",
    "dataset snapshot": DATA / "datasets" / "snapshot_auto",
}


@pytest.mark.parametrize("label", sorted(INFO_PATHS))
def test_info_schema(capsys, label):
    code, doc = run_cli_json(capsys, "info", INFO_PATHS[label])
    assert code == 0
    check(doc, "info")


@pytest.mark.parametrize("path", [SAMPLE, DATA / "graphs" / "tf1_mlp" / "frozen.pb", DATA / "saved_models" / "tf2_module",
                                  CKPTS / "v1_sharded"])
def test_ls_schema(capsys, path):
    code, doc = run_cli_json(capsys, "ls", path, "--long")
    assert code == 0 and doc["tensors"]
    check(doc, "ls")


@pytest.mark.parametrize("args", [(SAMPLE, KERNEL), (SAMPLE, KERNEL, "--rows", "0:2"), (CKPTS / "dtypes", "bool/values"),
                                  (CKPTS / "dtypes", "string/values"), (CKPTS / "dtypes", "complex64/values", "--stats-only"),
                                  (CKPTS / "dtypes", "float32/values")])
def test_show_schema(capsys, args):
    code, doc = run_cli_json(capsys, "show", *args)
    assert code == 0
    check(doc, "show")
    assert "--stats-only" in args or {"values", "values_truncated", "head"} <= set(doc)


def test_verify_diff_export_scan_schemas(capsys, tmp_path):
    import shutil

    code, doc = run_cli_json(capsys, "verify", SAMPLE)
    assert code == 0
    check(doc, "verify")
    bad = tmp_path / "bad.tfrecord"
    data = bytearray((DATA / "records" / "examples.none.tfrecord").read_bytes())
    data[500] ^= 1
    bad.write_bytes(bytes(data))
    code, doc = run_cli_json(capsys, "verify", bad)
    assert code == 1 and doc["problems"]
    check(doc, "verify")
    d = tmp_path / "sm"
    shutil.copytree(DATA / "saved_models" / "tf2_module", d)
    code, doc = run_cli_json(capsys, "verify", d)
    check(doc, "verify")

    a, b = CKPTS / "tf1_steps" / "model.ckpt-3", CKPTS / "tf1_steps" / "model.ckpt-4"
    for extra in ((), ("--names-only",), ("--atol", "10")):
        code, doc = run_cli_json(capsys, "diff", a, b, *extra)
        check(doc, "diff")
    code, doc = run_cli_json(capsys, "diff", DATA / "saved_models" / "tf2_module", CKPTS / "tf2_sharded")
    assert doc["removed"] and doc["added"]
    check(doc, "diff")

    code, doc = run_cli_json(capsys, "export", CKPTS / "strings", tmp_path / "s.npz")
    assert code == 0 and doc["exported"] and doc["skipped"]
    check(doc, "export")

    for target in (SCAN / "dataset_graph_encoded", SCAN / "keras_lambda", SCAN / "lambda.keras", SCAN / "tf1_model.meta",
                   SAMPLE, SCAN / "k3_lambda.h5", SCAN / "h5_dense_attrs.h5", SCAN / "tfk_weights.h5"):
        code, doc = run_cli_json(capsys, "scan", target, "--min-severity", "info")
        check(doc, "scan")


def test_error_document_schema(capsys, tmp_path):
    code, out, err = run_cli(capsys, "ls", tmp_path / "missing", "--json")
    import json

    doc = json.loads(out)
    assert code == 3 and set(doc) == COMMON | {"error"} and set(doc["error"]) == {"type", "message", "exit_code"}
    assert all(f"`{k}`" in DOC or f'"{k}"' in DOC for k in ("error", "type", "message", "exit_code"))


def test_schema_through_a_subprocess():
    code, doc = run_json_subprocess("info", CKPTS / "v1_sharded")
    assert code == 0
    check(doc, "info")
