"""``tfformats`` on checkpoints, in-process: ls/show/info/verify/diff/export details."""

from __future__ import annotations

import json
import os
import shutil
import struct

import numpy as np
import pytest

from cli_helpers import CKPTS, DATA, SAMPLE, SCAN, expected_tensor, manifest, run_cli, run_cli_json

KERNEL = "model/layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE"
CHECKPOINT_IDS = [
    "big", "dtypes", "keras3", "strings", "tf1_sharded", "tf2_objects", "tf2_sharded", "tf_keras_legacy",
    "v1_dtypes", "v1_sharded", "v1_single",
]


@pytest.mark.parametrize("cid", CHECKPOINT_IDS)
def test_ls_matches_tensorflow_list_variables(capsys, cid):
    m = manifest()[cid]
    code, doc = run_cli_json(capsys, "ls", CKPTS / m["path"])
    assert code == 0
    assert [[t["name"], t["shape"]] for t in doc["tensors"]] == m["list_variables"]
    assert {t["name"]: t["dtype"] for t in doc["tensors"]} == m["dtype_map"]


@pytest.mark.parametrize("cid", CHECKPOINT_IDS)
def test_verify_every_fixture_is_intact(capsys, cid):
    m = manifest()[cid]
    code, doc = run_cli_json(capsys, "verify", CKPTS / m["path"])
    assert code == 0, doc["problems"]
    assert doc["ok"] and doc["checked"]["tensors"] == len(m["list_variables"])


@pytest.mark.parametrize("cid", ["keras3", "tf_keras_legacy"])
def test_verify_warns_of_object_graph_keys_whose_tensor_is_missing(capsys, tmp_path, cid):
    # tf2_objects (above) holds an iterator (ITERATOR -> ITERATOR_STATE) and a hash table
    # (table -> table-keys/table-values): keys plus a suffix are not missing, no warning.
    # A Keras checkpoint written again without one tensor gets that tensor's key warned about.
    import tfformats

    with tfformats.load_checkpoint(CKPTS / manifest()[cid]["path"]) as r:
        tensors = dict(r)
        owners = r.object_graph.tensor_owners(tensors)
    dropped = sorted(owners)[0]
    del tensors[dropped]
    tfformats.save_checkpoint(str(tmp_path / "ckpt"), tensors)
    code, doc = run_cli_json(capsys, "verify", tmp_path / "ckpt")
    assert code == 0 and doc["ok"]  # a warning, not an error
    warned = [p for p in doc["problems"] if p["severity"] == "warning"]
    assert len(warned) == 1 and "has no such tensor" in warned[0]["message"], doc["problems"]
    assert dropped.startswith(warned[0]["message"].split("'")[1])


def test_ls_filters(capsys):
    code, doc = run_cli_json(capsys, "ls", SAMPLE, "--glob", "*kernel*", "--exclude", "optimizer/*")
    assert [t["name"] for t in doc["tensors"]] == [
        "model/layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE",
        "model/layer_with_weights-1/kernel/.ATTRIBUTES/VARIABLE_VALUE",
    ]
    code, doc = run_cli_json(capsys, "ls", SAMPLE, "--regex", r"_variables/[12]/")
    assert [t["name"] for t in doc["tensors"]] == [
        "optimizer/_variables/1/.ATTRIBUTES/VARIABLE_VALUE",
        "optimizer/_variables/2/.ATTRIBUTES/VARIABLE_VALUE",
    ]
    code, out, err = run_cli(capsys, "ls", SAMPLE, "--regex", "(")
    assert code == 2 and "bad --regex" in err


def test_ls_human_table_is_aligned(capsys):
    code, out, _ = run_cli(capsys, "ls", SAMPLE)
    lines = out.splitlines()
    assert lines[0].split() == ["name", "dtype", "shape", "size"]
    col = lines[0].index("dtype")
    assert all(line[col - 2 : col] == "  " for line in lines[1:])  # the dtype column starts at one place
    assert "[8, 4]" in out


def test_ls_partitioned_long(capsys):
    m = manifest()["tf1_sharded"]
    code, doc = run_cli_json(capsys, "ls", CKPTS / m["path"], "--long")
    assert code == 0
    part = {t["name"] for t in doc["tensors"] if t["partitioned"]}
    assert part  # the fixture has partitioned variables: one full entry with slices
    for t in doc["tensors"]:
        if t["dtype"] != "string":
            assert t["nbytes"] == t["size"] * np.dtype(t["dtype"]).itemsize
    code, out, _ = run_cli(capsys, "ls", CKPTS / m["path"], "--long")
    assert "partitioned" in out.splitlines()[0] and "yes" in out


def test_show_rows_reads_a_slice(capsys):
    m = manifest()["big"]
    name = max(m["shape_map"], key=lambda n: m["shape_map"][n][0] if m["shape_map"][n] else 0)
    code, doc = run_cli_json(capsys, "show", CKPTS / m["path"], name, "--rows", "3:5")
    assert code == 0 and doc["selection"] == {"rows": [3, 5]}
    info = m["tensors"][name]
    if info["kind"] == "bytes":
        want = expected_tensor("big", name)[3:5]
        np.testing.assert_array_equal(np.array(doc["values"], dtype=np.float64), want.astype(np.float64))
    else:
        assert doc["statistics"]["count"] == 2 * int(np.prod(m["shape_map"][name][1:]))


def test_show_strings_and_stats_of_every_dtype(capsys):
    m = manifest()["strings"]
    name = sorted(m["tensors"])[0]
    code, doc = run_cli_json(capsys, "show", CKPTS / m["path"], name)
    want = expected_tensor("strings", name)
    st = doc["statistics"]
    assert st["count"] == want.size and st["total_bytes"] == sum(len(x) for x in want.reshape(-1))
    code, out, _ = run_cli(capsys, "show", CKPTS / m["path"], name)
    assert code == 0 and "values:" in out
    d = manifest()["dtypes"]
    for name, info in d["tensors"].items():
        if info["kind"] != "bytes" or not name.endswith("/values"):
            continue
        code, doc = run_cli_json(capsys, "show", CKPTS / d["path"], name, "--stats-only")
        assert code == 0, name
        want = expected_tensor("dtypes", name)
        st = doc["statistics"]
        assert st["count"] == want.size
        if want.dtype.kind in "iu" or info["dtype"] in ("bfloat16", "float16", "float32", "float64"):
            x = want.astype(np.float64)
            finite = x[np.isfinite(x)]
            assert st["min"] == pytest.approx(finite.min()) and st["max"] == pytest.approx(finite.max()), name
            assert st["zeros"] == int((x == 0).sum()), name


def test_show_unknown_name_suggests(capsys):
    code, out, err = run_cli(capsys, "show", SAMPLE, KERNEL.replace("kernel", "kernal"))
    assert code == 2 and "did you mean" in err and KERNEL in err
    # a TF2 object path names its variable's value
    code, doc = run_cli_json(capsys, "show", SAMPLE, "model/layer_with_weights-0/kernel")
    assert code == 0 and doc["tensor"]["name"] == KERNEL
    np.testing.assert_array_equal(np.array(doc["values"], np.float32), expected_kernel())


def test_info_partitioned_and_sharded(capsys):
    m = manifest()["tf1_sharded"]
    code, doc = run_cli_json(capsys, "info", CKPTS / m["path"])
    assert code == 0 and doc["num_shards"] == m["num_shards"] == 3
    assert len(doc["files"]) == 4 and all(f["bytes"] for f in doc["files"])
    assert doc["num_tensors"] == len(m["list_variables"])


def _corrupt(path, offset, xor=0x01):
    data = bytearray(path.read_bytes())
    data[offset] ^= xor
    path.write_bytes(bytes(data))


def test_verify_truncated_index(tmp_path, capsys):
    d = tmp_path / "c"
    shutil.copytree(SAMPLE, d)
    idx = d / "model-1.index"
    idx.write_bytes(idx.read_bytes()[:-10])
    code, doc = run_cli_json(capsys, "verify", d)
    assert code == 1 and doc["problems"][0]["file"].endswith("model-1.index")


def test_verify_index_block_crc(tmp_path, capsys):
    d = tmp_path / "c"
    shutil.copytree(SAMPLE, d)
    _corrupt(d / "model-1.index", 20)
    code, doc = run_cli_json(capsys, "verify", d)
    assert code == 1 and "ChecksumError" in doc["problems"][0]["message"]


def test_verify_missing_shard(tmp_path, capsys):
    src = CKPTS / "tf1_sharded"
    d = tmp_path / "s"
    shutil.copytree(src, d)
    (d / "model.ckpt-7.data-00001-of-00003").unlink()
    code, doc = run_cli_json(capsys, "verify", d)
    assert code == 1
    missing = [p for p in doc["problems"] if "missing" in p["message"]]
    assert missing and all(p["file"].endswith("data-00001-of-00003") for p in missing)
    assert doc["checked"]["tensors"] < len(manifest()["tf1_sharded"]["list_variables"])


def test_verify_each_bad_tensor_reported(tmp_path, capsys):
    """Two flipped bytes in two tensors: two problems, each naming its tensor."""
    from tfformats.checkpoint.reader import load_checkpoint

    d = tmp_path / "c"
    shutil.copytree(SAMPLE, d)
    with load_checkpoint(d) as r:
        spans = sorted((r.backend.entry(n).offset, r.backend.entry(n).size, n) for n in r.keys())
    targets = [s for s in spans if s[1] >= 8][:2]
    for off, size, _ in targets:
        _corrupt(d / "model-1.data-00000-of-00001", off + size // 2)
    code, doc = run_cli_json(capsys, "verify", d)
    assert code == 1
    assert sorted(p["entry"] for p in doc["problems"]) == sorted(n for _, _, n in targets)
    code, out, _ = run_cli(capsys, "verify", d)
    assert "FAILED: 2 error(s)" in out


def test_verify_v1_corrupted(tmp_path, capsys):
    d = tmp_path / "v1"
    shutil.copytree(CKPTS / "v1_single", d)
    f = d / "model.ckpt-1"
    _corrupt(f, 30)
    code, doc = run_cli_json(capsys, "verify", f)
    assert code == 1 and doc["problems"]


def test_diff_names_only_and_tolerance(capsys):
    a = CKPTS / "tf1_steps" / "model.ckpt-3"
    b = CKPTS / "tf1_steps" / "model.ckpt-4"
    code, doc = run_cli_json(capsys, "diff", a, b, "--names-only")
    assert code == 0 and all(r["status"] == "same_spec" for r in doc["common"])
    code, doc = run_cli_json(capsys, "diff", a, b, "--atol", "10")
    assert code == 0 and all(r["status"] == "close" for r in doc["common"])
    code, doc = run_cli_json(capsys, "diff", SAMPLE, a)
    assert code == 1 and doc["summary"]["common"] == 0
    assert len(doc["removed"]) == 16 and len(doc["added"]) == 2


def test_diff_damaged_copy_with_no_verify(tmp_path, capsys):
    d = tmp_path / "c"
    shutil.copytree(SAMPLE, d)
    with __import__("tfformats").load_checkpoint(d) as r:
        e = r.backend.entry(KERNEL)
    _corrupt(d / "model-1.data-00000-of-00001", e.offset + 3, 0x80)  # flips the sign of kernel[0, 0]
    code, out, err = run_cli(capsys, "diff", SAMPLE, d)
    assert code == 3 and "checksum" in err
    code, doc = run_cli_json(capsys, "diff", SAMPLE, d, "--no-verify")
    row = {r["name"]: r for r in doc["common"]}[KERNEL]
    k = expected_kernel()
    assert row["status"] == "different" and row["num_different"] == 1
    assert row["max_abs_diff"] == pytest.approx(2 * abs(float(k[0, 0])))
    assert row["max_rel_diff"] == pytest.approx(2.0)


def expected_kernel():
    import json

    return np.array(json.loads((SAMPLE / "expected.json").read_text())["kernel"], np.float32)


def test_export_npz_widens_and_keeps_strings(tmp_path, capsys):
    out = tmp_path / "all.npz"
    d = manifest()["dtypes"]
    code, doc = run_cli_json(capsys, "export", CKPTS / d["path"], out)
    assert code == 0
    z = np.load(out, allow_pickle=False)
    stored = {e["name"]: e for e in doc["exported"]}
    for name, info in d["tensors"].items():
        if info["kind"] != "bytes":
            continue
        want = expected_tensor("dtypes", name)
        got = z[stored[name]["key"]]
        assert got.shape == want.shape
        if info["dtype"] == "bfloat16" or info["dtype"].startswith("float8"):
            assert got.dtype == np.float32
            np.testing.assert_array_equal(got, want.astype(np.float32))
        elif info["dtype"] in ("int4", "int2"):
            assert got.dtype == np.int8
            np.testing.assert_array_equal(got, want.astype(np.int8))
        elif got.dtype == want.dtype:
            assert got.tobytes() == want.tobytes(), name
    with pytest.raises(Exception):
        np.load(out, allow_pickle=False)["nope"]
    code, out_text, err = run_cli(capsys, "export", CKPTS / d["path"], out)
    assert code == 2 and "exists" in err


def test_export_strings_npz_and_safetensors_skip(tmp_path, capsys):
    m = manifest()["strings"]
    code, doc = run_cli_json(capsys, "export", CKPTS / m["path"], tmp_path / "s.npz")
    assert code == 0
    z = np.load(tmp_path / "s.npz", allow_pickle=False)
    skipped = {s["name"] for s in doc["skipped"]}
    for name in m["tensors"]:
        want = expected_tensor("strings", name)
        if any(x.endswith(b"\0") for x in want.reshape(-1)):
            assert name in skipped and name not in z  # 'S' arrays would drop the trailing NULs
            continue
        got = z[name]
        assert got.dtype.kind == "S" and got.shape == want.shape
        assert [bytes(x) for x in got.reshape(-1)] == list(want.reshape(-1))
    assert skipped == {"matrix", "mixed"}
    pytest.importorskip("safetensors")
    code, doc = run_cli_json(capsys, "export", CKPTS / m["path"], tmp_path / "s.safetensors")
    assert code == 0 and doc["exported"] == [] and len(doc["skipped"]) == len(m["tensors"])
    code, doc = run_cli_json(capsys, "export", CKPTS / m["path"], tmp_path / "t.safetensors", "--strict")
    assert code == 1


def test_export_strip_attributes(tmp_path, capsys):
    pytest.importorskip("safetensors")
    import ml_dtypes  # noqa: F401
    from safetensors.numpy import load_file

    out = tmp_path / "w.safetensors"
    code, doc = run_cli_json(capsys, "export", SAMPLE, out, "--strip-attributes", "--glob", "model/*")
    assert code == 0
    got = load_file(str(out))
    assert "model/layer_with_weights-0/kernel" in got
    np.testing.assert_array_equal(got["model/layer_with_weights-0/kernel"], expected_kernel())


def test_export_bad_suffix(tmp_path, capsys):
    code, out, err = run_cli(capsys, "export", SAMPLE, tmp_path / "x.bin")
    assert code == 2 and ".npz or .safetensors" in err


def test_help_has_examples_for_every_subcommand(capsys):
    from tfformats.cli import SUBCOMMANDS

    for sub in SUBCOMMANDS:
        code, out, _ = run_cli(capsys, sub, "--help")
        assert code == 0 and "examples:" in out and f"tfformats {sub}" in out, sub
    code, out, _ = run_cli(capsys, "--help")
    assert code == 0 and all(s in out for s in SUBCOMMANDS) and "exit codes" in out


def test_json_error_document(capsys, tmp_path):
    code, out, err = run_cli(capsys, "info", tmp_path / "nothing", "--json")
    assert code == 3
    import json

    doc = json.loads(out)
    assert doc["error"]["exit_code"] == 3 and "nothing" in doc["error"]["message"]


def test_table_module():
    from tfformats.cli._table import human_bytes, table

    t = table(["a", "n"], [["x", 1], ["yyyy", 22]])
    assert t.splitlines() == ["a      n", "x      1", "yyyy  22"]
    assert human_bytes(1023) == "1023 B" and human_bytes(1536) == "1.5 KiB"
    assert struct.calcsize("<Q") == 8
    # one outsized name overflows its own row instead of widening every row
    t = table(["name", "dtype"], [["a", "float32"], ["x" * 300, "int64"], ["bb", "float16"]])
    assert t.splitlines()[1] == "a     float32" and t.splitlines()[2] == "x" * 300 + "  int64"


class _TTY(__import__("io").StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("argv", [("verify", SAMPLE), ("scan", SCAN / "clean_module"), ("info", DATA / "records" / "examples.gzip.tfrecord")])
def test_progress_bar_on_a_terminal_only(monkeypatch, capsys, argv):
    """A tqdm bar on stderr when stderr is a terminal (and tqdm is installed); stdout unchanged."""
    pytest.importorskip("tqdm")
    import sys

    from tfformats.cli import _common

    monkeypatch.delenv("TFFORMATS_NO_PROGRESS", raising=False)
    monkeypatch.setattr(_common, "PROGRESS_DELAY", 0)  # operations on the fixtures are shorter than the real delay
    code, plain, err = run_cli(capsys, *argv)
    assert code in (0, 1) and err == ""  # not a terminal: no bar
    orig = sys.stderr
    for extra, shown in (((), True), (("--no-progress",), False)):
        tty = _TTY()
        monkeypatch.setattr(sys, "stderr", tty)
        code2, out, _ = run_cli(capsys, *argv, *extra)
        monkeypatch.setattr(sys, "stderr", orig)
        assert code2 == code and out == plain  # the result never changes
        assert bool(tty.getvalue()) == shown, tty.getvalue()
        if shown:
            assert {"verify": "verifying", "scan": "scanning", "info": "reading records"}[argv[0]] in tty.getvalue()
    monkeypatch.setenv("TFFORMATS_NO_PROGRESS", "1")
    tty = _TTY()
    monkeypatch.setattr(sys, "stderr", tty)
    run_cli(capsys, *argv)
    monkeypatch.setattr(sys, "stderr", orig)
    assert tty.getvalue() == ""


def test_no_hand_made_bar_without_tqdm(monkeypatch, capsys):
    import sys

    from tfformats.cli import _common

    monkeypatch.delenv("TFFORMATS_NO_PROGRESS", raising=False)
    monkeypatch.setattr(_common, "PROGRESS_DELAY", 0)
    monkeypatch.setitem(sys.modules, "tqdm", None)  # the optional extra is not installed
    tty, orig = _TTY(), sys.stderr
    monkeypatch.setattr(sys, "stderr", tty)
    with _common.progress(2048, "verifying", unit="B") as bar:
        bar.update(1024)
    code, out, _ = run_cli(capsys, "verify", SAMPLE)
    monkeypatch.setattr(sys, "stderr", orig)
    assert code == 0 and "OK" in out and tty.getvalue() == ""


def test_verify_reports_the_partitioned_tensor_of_a_bad_slice(tmp_path, capsys):
    """TF2 size-based sharding splits a variable into slices across shards; damage one slice."""
    from tfformats.checkpoint.reader import load_checkpoint

    m = manifest()["tf2_sharded"]
    d = tmp_path / "s"
    shutil.copytree(CKPTS / "tf2_sharded", d)
    prefix = d / "ckpt"
    with load_checkpoint(prefix) as r:
        name = next(n for n in r.keys() if r.backend.slice_entries(n))
        _, se = max(r.backend.slice_entries(name), key=lambda bs: bs[1].size)
        shard = r.backend.shard_path(se.shard_id)
    _corrupt(__import__("pathlib").Path(shard), se.offset + se.size // 2)
    code, doc = run_cli_json(capsys, "verify", prefix)
    assert code == 1
    [p] = [p for p in doc["problems"] if p["severity"] == "error"]
    assert name in p["entry"] and "ChecksumError" in p["message"] and p["file"] == shard
    assert doc["checked"]["tensors"] == len(m["list_variables"]) - 1


def test_diff_of_string_tensors_human_and_json(capsys):
    """Two different string tensors (the TF2 object graphs of two checkpoints): no numeric detail to print."""
    a, b = DATA / "saved_models" / "tf2_module", CKPTS / "tf2_sharded"
    code, out, err = run_cli(capsys, "diff", a, b, "-g", "_CHECKPOINTABLE_OBJECT_GRAPH")
    assert code == 1 and err == "" and "1 elements differ" in out
    code, doc = run_cli_json(capsys, "diff", a, b, "-g", "_CHECKPOINTABLE_OBJECT_GRAPH")
    [row] = doc["common"]
    assert row["status"] == "different" and row["num_different"] == 1 and "max_abs_diff" not in row


def test_export_safetensors_keeps_ml_dtypes(tmp_path, capsys):
    """The safetensors header read directly (safetensors.numpy cannot load F8_* into numpy):
    bfloat16, float8 and complex64 stored as such, with TensorFlow's bytes."""
    pytest.importorskip("safetensors")
    import json

    out = tmp_path / "all.safetensors"
    code, doc = run_cli_json(capsys, "export", CKPTS / "dtypes", out, "-r", "/values$")
    assert code == 0
    raw = out.read_bytes()
    (n,) = struct.unpack_from("<Q", raw)
    header = json.loads(raw[8 : 8 + n])
    body = raw[8 + n :]
    want_dtype = {"bfloat16": "BF16", "float8_e4m3fn": "F8_E4M3", "float8_e5m2": "F8_E5M2",
                  "float8_e4m3fnuz": "F8_E4M3FNUZ", "float8_e5m2fnuz": "F8_E5M2FNUZ", "complex64": "C64",
                  "float16": "F16", "int4": "I8", "float8_e4m3b11fnuz": "F32"}
    for dtype, st in want_dtype.items():
        name = f"{dtype}/values"
        want = expected_tensor("dtypes", name)
        h = header[name]
        assert h["dtype"] == st and h["shape"] == list(want.shape), name
        got = body[h["data_offsets"][0] : h["data_offsets"][1]]
        if st in ("I8", "F32"):  # widened without loss
            assert got == want.astype(np.int8 if st == "I8" else np.float32).tobytes(), name
        else:
            assert got == want.tobytes(), name


def test_show_json_values_of_string_tensors(capsys):
    """Every string tensor of the strings fixture, any rank, as TensorFlow read it (UTF-8, \\xNN otherwise)."""
    m = manifest()["strings"]
    for name in m["tensors"]:
        code, doc = run_cli_json(capsys, "show", CKPTS / m["path"], name)
        assert code == 0, name
        want = expected_tensor("strings", name)
        decoded = np.vectorize(lambda b: b.decode("utf-8", "backslashreplace"), otypes=[object])(want) if want.size else want
        assert doc["values"] == (decoded.tolist() if want.size else want.tolist()), name
        assert doc["statistics"]["total_bytes"] == sum(len(x) for x in want.reshape(-1))


def test_info_v1_string_sizes_unknown(capsys):
    """V1 bundles keep strings inside SavedSlice protos: no byte count without reading them."""
    code, doc = run_cli_json(capsys, "info", CKPTS / "v1_single")
    assert code == 0 and doc["dtypes"]["string"]["bytes"] is None
    assert doc["num_bytes"] == sum(v["bytes"] for k, v in doc["dtypes"].items() if k != "string")
    code, out, _ = run_cli(capsys, "info", CKPTS / "v1_single")
    assert [ln.split()[-1] for ln in out.splitlines() if ln.startswith("string ")] == ["?"]


def test_diff_compares_big_integers_exactly_and_ml_dtypes_as_numbers(tmp_path, capsys):
    # found by a CLI hunt: integers above 2**53 were compared as float64 (a changed step counter
    # was "identical"), and bfloat16/float8 were compared like strings (a file differed from
    # itself where it held NaN, and --atol had no effect)
    import ml_dtypes

    import tfformats

    a = tfformats.save_checkpoint(tmp_path / "a", {
        "big": np.array([2**60, 5], np.int64), "u": np.array([2**63 + 2, 1], np.uint64),
        "w": np.array([1.0, 2.0, 3.0, np.nan], ml_dtypes.bfloat16), "f8": np.array([0.5, np.nan], ml_dtypes.float8_e4m3fn)})
    b = tfformats.save_checkpoint(tmp_path / "b", {
        "big": np.array([2**60 + 1, 5], np.int64), "u": np.array([2**63 + 3, 1], np.uint64),
        "w": np.array([1.0, 2.0, 3.015625, np.nan], ml_dtypes.bfloat16), "f8": np.array([0.5, np.nan], ml_dtypes.float8_e4m3fn)})
    code, doc = run_cli_json(capsys, "diff", a, b)
    rows = {r["name"]: r for r in doc["common"]}
    assert code == 1 and rows["big"]["status"] == "different" and rows["u"]["status"] == "different"
    assert rows["big"]["max_abs_diff"] == 1.0 and rows["f8"]["status"] == "identical"
    assert rows["w"]["status"] == "different" and rows["w"]["max_abs_diff"] == 0.015625
    code, doc = run_cli_json(capsys, "diff", a, b, "--atol", "0.1")
    assert {r["name"]: r["status"] for r in doc["common"]}["w"] == "close"
    code, doc = run_cli_json(capsys, "diff", CKPTS / "dtypes", CKPTS / "dtypes")
    assert code == 0 and all(r["status"] == "identical" for r in doc["common"])


def test_verify_counts_every_error_whatever_max_problems(tmp_path, capsys):
    # found by a CLI hunt: errors past --max-problems were dropped and verify said OK (exit 0)
    d = tmp_path / "c"
    shutil.copytree(SAMPLE, d)
    with __import__("tfformats").load_checkpoint(d) as r:
        e = r.backend.entry(KERNEL)
    _corrupt(d / "model-1.data-00000-of-00001", e.offset + 3, 0x80)
    code, doc = run_cli_json(capsys, "verify", d)
    assert code == 1 and not doc["ok"]
    n = sum(p["severity"] == "error" for p in doc["problems"])
    code, out, err = run_cli(capsys, "verify", d, "--max-problems", "1")
    assert code == 1 and "FAILED" in out
    if n > 1:
        assert "only the first 1 problems are listed" in out
    code, out, err = run_cli(capsys, "verify", d, "--max-problems", "0")
    assert code == 2 and "1 or more" in err


def test_show_options_and_statistics_edges(tmp_path, capsys):
    import ml_dtypes

    import tfformats

    p = tfformats.save_checkpoint(tmp_path / "s", {
        "bf": np.array([[0.1953125, 0.65625, -0.2314453125, 1.546875]], ml_dtypes.bfloat16),
        "huge": np.array([1e308, 1e308]), "one": np.array([1.7e308]), "strs": np.array([b"s%d" % i for i in range(50)], object)})
    code, out, err = run_cli(capsys, "show", p, "bf", "--precision", "2")
    assert code == 0 and "[[ 0.2 ,  0.66, -0.23,  1.55]]" in out
    code, out, err = run_cli(capsys, "show", p, "bf", "--precision", "-1")
    assert code == 2 and "0 or more" in err
    code, doc = run_cli_json(capsys, "show", p, "huge")
    assert doc["statistics"]["mean"] == 1e308 and doc["statistics"]["std"] == 0.0
    code, doc = run_cli_json(capsys, "show", p, "one")
    assert doc["statistics"]["std"] == 0.0
    assert "Warning" not in capsys.readouterr().err
    code, doc = run_cli_json(capsys, "show", p, "strs", "--max-items", "0")
    assert doc["values"] is None and doc["head"] == []
    code, out, err = run_cli(capsys, "show", p, "strs", "--max-items", "100")
    assert "..." not in out.split("values:")[1]
    code, out, err = run_cli(capsys, "show", p, "strs")
    assert "..." in out.split("values:")[1]  # strings print 20 by default


def test_json_usage_errors_from_argparse_are_documents(capsys):
    code, out, err = run_cli(capsys, "show", SAMPLE, "x", "--max-items", "x", "--json")
    assert code == 2 and json.loads(out)["error"]["exit_code"] == 2
    code, out, err = run_cli(capsys, "diff", SAMPLE, "--json")
    assert code == 2 and "required" in json.loads(out)["error"]["message"]


def test_export_into_a_missing_folder_names_the_folder(tmp_path, capsys):
    code, out, err = run_cli(capsys, "export", SAMPLE, tmp_path / "nope" / "x.npz")
    assert code == 2 and f"the folder {tmp_path / 'nope'} does not exist" in err


def test_info_of_a_training_folder_mentions_its_event_files(tmp_path, capsys):
    # the Keras TensorBoard callback (embeddings) writes a checkpoint into its run folder: the
    # folder is a checkpoint to info, which now says the event files are there too
    d = tmp_path / "train"
    shutil.copytree(CKPTS / "tf1_steps", d)
    ev = next((DATA / "events" / "tf1").iterdir())
    shutil.copy(ev, d / ev.name)
    code, doc = run_cli_json(capsys, "info", d)
    assert code == 0 and doc["kind"] == "checkpoint" and doc["event_files"] == [ev.name]
    code, out, err = run_cli(capsys, "info", d)
    assert "also holds 1 event file(s)" in out
    assert doc["event_dirs"] == [] and doc["saved_models"] == []
    # an Estimator's model_dir (found by a compatibility hunt): eval/ logs, export/<timestamp>/ models
    (d / "eval").mkdir()
    shutil.copy(ev, d / "eval" / ev.name)
    shutil.copytree(DATA / "saved_models" / "tf1_builder", d / "export" / "best" / "1796469649")
    code, doc = run_cli_json(capsys, "info", d)
    assert doc["event_dirs"] == ["eval"] and doc["saved_models"] == [os.path.join("export", "best", "1796469649")]
    code, out, err = run_cli(capsys, "info", d)
    assert f"tfformats info {d / 'eval'}" in out and f"tfformats info {d / 'export' / 'best' / '1796469649'}" in out


def test_info_says_when_the_state_files_latest_checkpoint_is_gone(tmp_path, capsys):
    # found by a compatibility hunt: a Saver with save_relative_paths=False writes absolute paths;
    # after the folder moved, info showed the old path as "latest" while reading the folder's own
    import tfformats

    moved = tmp_path / "moved"
    shutil.copytree(SAMPLE, moved)
    gone = tmp_path / "original" / "model-1"
    (moved / "checkpoint").write_text(f'model_checkpoint_path: "{gone}"\nall_model_checkpoint_paths: "{gone}"\n')
    assert tfformats.latest_checkpoint(str(moved)) is None  # as tf.train.latest_checkpoint
    code, doc = run_cli_json(capsys, "info", moved)
    st = doc["checkpoint_state"]
    assert st["latest"] == str(gone) and st["latest_exists"] is False
    code, out, _ = run_cli(capsys, "info", moved)
    assert "no such checkpoint" in out
    code, doc = run_cli_json(capsys, "info", SAMPLE)
    assert doc["checkpoint_state"]["latest_exists"] is True
