"""The command-line tool on fsspec URLs (a real HTTP server on loopback).

Checkpoints and SavedModels are read in place by ranged requests (``ls``, ``show``,
``info``); ``verify`` and ``scan`` fetch them whole first.  TFRecord files, event files
and log directories stream in place for every command; other files are fetched.
Each remote answer is compared with the answer for the same local files, which the
other CLI tests check against TensorFlow's own reading.
"""

from __future__ import annotations

import json
import shutil

import pytest

from cli_helpers import DATA, run_cli, run_cli_json

pytest.importorskip("fsspec")
pytest.importorskip("aiohttp")

import _remote_servers as servers  # noqa: E402


@pytest.fixture(scope="module")
def server():
    srv = servers.StdlibServer(DATA)
    yield srv
    srv.close()


def _without_paths(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if k != "path"}


@pytest.mark.parametrize(
    "rel",
    [
        "remote/tf2",  # a training directory (a checkpoint state file)
        "remote/tf2/ckpt-3",  # a prefix
        "remote/tf2/ckpt-3.index",
        "remote/tf2/ckpt-3.data-00001-of-00003",
        "checkpoints/tf2_sharded/",  # one .index, no state file: found by listing the folder
        "saved_models/tf2_module",
    ],
)
def test_ls_of_a_url_matches_ls_of_the_files(capsys, server, rel):
    code, remote = run_cli_json(capsys, "ls", f"{server.url}/{rel}")
    assert code == 0
    code, local = run_cli_json(capsys, "ls", DATA / rel)
    assert code == 0
    assert remote["path"] == f"{server.url}/{rel}"
    assert _without_paths(remote) == _without_paths(local) and remote["tensors"]


def test_show_reads_one_tensor_without_downloading_the_checkpoint(capsys, server):
    name = "c/.ATTRIBUTES/VARIABLE_VALUE"
    code, local = run_cli_json(capsys, "show", DATA / "remote" / "tf2", name)
    assert code == 0
    server.reset()
    code, remote = run_cli_json(capsys, "show", f"{server.url}/remote/tf2", name)
    assert code == 0
    assert _without_paths(remote) == _without_paths(local)
    shards = sum(p.stat().st_size for p in (DATA / "remote" / "tf2").glob("ckpt-3.data-*"))
    fetched = sum(r.body_bytes for r in server.requests() if ".data-" in r.path)
    assert 0 < fetched < shards // 10  # a 50-element tensor, not 120 kB of shards


def test_info_of_a_remote_saved_model_matches_the_local_one(capsys, server):
    code, local = run_cli_json(capsys, "info", DATA / "saved_models" / "tf2_module")
    assert code == 0
    code, remote = run_cli_json(capsys, "info", f"{server.url}/saved_models/tf2_module")
    assert code == 0
    for key in ("kind", "format"):
        assert remote[key] == local[key]
    assert remote["saved_model"]["signatures"] == local["saved_model"]["signatures"]
    for key in ("num_tensors", "num_parameters", "num_bytes", "dtypes"):
        assert remote["checkpoint"][key] == local["checkpoint"][key]
    assert [f["bytes"] for f in remote["checkpoint"]["files"]] == [f["bytes"] for f in local["checkpoint"]["files"]]


def test_a_single_remote_file_is_fetched_and_read_like_the_local_one(capsys, server):
    code, local = run_cli_json(capsys, "info", DATA / "graphs" / "consts.pb")
    assert code == 0
    code, remote = run_cli_json(capsys, "info", f"{server.url}/graphs/consts.pb")
    assert code == 0
    assert remote["kind"] == local["kind"] == "frozen_graph"
    for key in ("node_count", "constant_count", "constant_bytes", "parameter_count"):
        assert remote["summary"][key] == local["summary"][key]
    assert remote["summary"]["path"] == f"{server.url}/graphs/consts.pb"
    code, out, _ = run_cli(capsys, "info", f"{server.url}/graphs/consts.pb")
    assert f"{server.url}/graphs/consts.pb" in out and "tfformats-fetch" not in out


@pytest.mark.parametrize("command", ["verify", "scan"])
def test_verify_and_scan_fetch_a_remote_saved_model_first(capsys, server, command):
    code_local, local = run_cli_json(capsys, command, DATA / "saved_models" / "tf2_module")
    code_remote, remote = run_cli_json(capsys, command, f"{server.url}/saved_models/tf2_module")
    assert code_remote == code_local
    local_dir, url = str(DATA / "saved_models" / "tf2_module"), f"{server.url}/saved_models/tf2_module"
    as_remote = json.loads(json.dumps(_without_paths(local)).replace(local_dir, url))
    assert _without_paths(remote) == as_remote  # the fetched copy is named by its URL
    assert "tfformats-fetch" not in json.dumps(remote)


def test_verify_of_a_damaged_remote_checkpoint_fails_like_the_local_copy(capsys, tmp_path):
    root = tmp_path / "www"
    shutil.copytree(DATA / "remote" / "tf2", root / "ckpt")
    shard = root / "ckpt" / "ckpt-3.data-00001-of-00003"
    raw = bytearray(shard.read_bytes())
    raw[1000] ^= 0x20
    shard.write_bytes(bytes(raw))
    code_local, out_local, _ = run_cli(capsys, "verify", root / "ckpt")
    srv = servers.StdlibServer(root)
    try:
        code_remote, out_remote, _ = run_cli(capsys, "verify", f"{srv.url}/ckpt")
    finally:
        srv.close()
    assert code_local == code_remote != 0
    assert "ckpt-3.data-00001-of-00003" in out_remote


def test_a_url_with_nothing_there_is_an_input_error(capsys, server):
    code, _, err = run_cli(capsys, "ls", f"{server.url}/no/such/thing")
    assert code == 3
    assert f"{server.url}/no/such/thing" in err and "no checkpoint, SavedModel or file at this URL" in err


def test_diff_and_export_take_urls(capsys, server, tmp_path):
    code, out, _ = run_cli(capsys, "diff", f"{server.url}/remote/tf2", DATA / "remote" / "tf2")
    assert code == 0 and "0 changed" in out
    import numpy as np

    local_out, remote_out = tmp_path / "local.npz", tmp_path / "remote.npz"
    assert run_cli(capsys, "export", DATA / "remote" / "tf2", local_out)[0] == 0
    assert run_cli(capsys, "export", f"{server.url}/remote/tf2", remote_out)[0] == 0
    with np.load(local_out, allow_pickle=False) as a, np.load(remote_out, allow_pickle=False) as b:
        assert sorted(a.files) == sorted(b.files) and a.files
        for k in a.files:
            np.testing.assert_array_equal(a[k], b[k])


def test_a_file_url_is_a_local_path(capsys):
    path = (DATA / "remote" / "tf2").resolve()
    code, via_url = run_cli_json(capsys, "ls", f"file://{path}")
    assert code == 0
    assert _without_paths(via_url) == _without_paths(run_cli_json(capsys, "ls", path)[1])


# -- log directories, event files and TFRecords: read in place, records streamed in order
def _as_urls(doc, local_root, url_root):
    return json.loads(json.dumps(doc).replace(str(local_root), url_root))


def _streamed(server, rel: str) -> bool:
    """Every GET of the file was a ranged request: read in place, never downloaded whole."""
    gets = [r for r in server.requests() if r.method == "GET" and r.path.endswith(rel)]
    return bool(gets) and all(r.range for r in gets)


@pytest.mark.parametrize("rel", ["events/logdir", "events/logdir/", "events/tf2", "events/tf1"])
def test_info_and_verify_of_a_remote_log_dir_match_the_local_one(capsys, server, rel):
    for command in ("info", "verify"):
        code, local = run_cli_json(capsys, command, DATA / rel)
        assert code == 0
        code, remote = run_cli_json(capsys, command, f"{server.url}/{rel}")
        assert code == 0
        assert remote["kind"] == local["kind"] == "log_dir"
        url = f"{server.url}/{rel.rstrip('/')}"
        assert _without_paths(remote) == _as_urls(_without_paths(local), DATA / rel.rstrip("/"), url)
    assert remote["checked"]["files"] >= 1 and remote["checked"]["events"] >= 1


@pytest.mark.parametrize("name", ["examples.none.tfrecord", "examples.gzip.tfrecord", "examples.zlib.tfrecord",
                                  "examples.snappy.tfrecord", "sequence_examples.zlib.tfrecord", "edge.none.tfrecord",
                                  "empty.gzip.tfrecord", "empty.none.tfrecord"])
def test_a_remote_tfrecord_is_streamed_and_read_like_the_local_one(capsys, server, name):
    rel = f"records/{name}"
    for command in ("info", "verify"):
        code, local = run_cli_json(capsys, command, DATA / rel)
        assert code == 0
        server.reset()
        code, remote = run_cli_json(capsys, command, f"{server.url}/{rel}")
        assert code == 0
        assert remote["kind"] == local["kind"] == "tfrecord"
        assert _without_paths(remote) == _as_urls(_without_paths(local), DATA / rel, f"{server.url}/{rel}")
        assert "tfformats-fetch" not in json.dumps(remote)
        if (DATA / rel).stat().st_size:
            assert _streamed(server, rel)


def test_a_remote_event_file_is_read_in_place(capsys, server):
    path = sorted((DATA / "events" / "tf2").rglob("*tfevents*"))[0]
    rel = path.relative_to(DATA).as_posix()
    code, local = run_cli_json(capsys, "info", path)
    assert code == 0
    server.reset()
    code, remote = run_cli_json(capsys, "info", f"{server.url}/{rel}")
    assert code == 0
    assert remote["kind"] == local["kind"] == "event_file"
    assert _without_paths(remote) == _as_urls(_without_paths(local), path, f"{server.url}/{rel}")
    assert _streamed(server, rel)


def test_verify_of_a_damaged_remote_tfrecord_names_the_same_record_as_the_local_copy(capsys, tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    raw = bytearray((DATA / "records" / "examples.none.tfrecord").read_bytes())
    raw[len(raw) // 2] ^= 0x01
    (root / "bad.tfrecord").write_bytes(bytes(raw))
    code_local, local = run_cli_json(capsys, "verify", root / "bad.tfrecord")
    srv = servers.StdlibServer(root)
    try:
        code_remote, remote = run_cli_json(capsys, "verify", f"{srv.url}/bad.tfrecord")
    finally:
        srv.close()
    assert code_local == code_remote != 0
    assert _without_paths(remote) == _as_urls(_without_paths(local), root / "bad.tfrecord", f"{srv.url}/bad.tfrecord")
    assert remote["problems"] and all("record" in p["entry"] for p in remote["problems"])


def test_a_url_whose_filesystem_package_is_missing_names_it(capsys):
    import importlib.util

    if importlib.util.find_spec("gcsfs") is not None:
        pytest.skip("gcsfs is installed here")
    for command in ("ls", "info", "verify"):
        code, _, err = run_cli(capsys, command, "gs://bucket/logs/")
        assert code == 3, err
        assert "gs://bucket/logs/: no filesystem for this URL" in err and "gcsfs" in err and "internal error" not in err


def test_find_runs_without_the_filesystem_package_raises_the_library_error():
    import importlib.util

    from tfformats.errors import UnsupportedError
    from tfformats.events import find_runs, read_events

    if importlib.util.find_spec("gcsfs") is not None:
        pytest.skip("gcsfs is installed here")
    for call in (find_runs, read_events):
        with pytest.raises(UnsupportedError, match="gcsfs"):
            call("gs://bucket/logs")


def test_a_remote_keras_weights_index_is_fetched_with_its_shards(capsys, server):
    rel = "keras_weights/k3_sharded/model.weights.json"
    code, local = run_cli_json(capsys, "info", DATA / rel)
    assert code == 0
    code, remote = run_cli_json(capsys, "info", f"{server.url}/{rel}")
    assert code == 0 and remote["kind"] == local["kind"] == "keras_sharded"
    assert remote["weights"] == local["weights"]
    folder = f"{server.url}/keras_weights/k3_sharded"
    assert remote["shards"] == [s.replace(str(DATA / "keras_weights" / "k3_sharded"), folder) for s in local["shards"]]
    code, out, _ = run_cli(capsys, "diff", f"{server.url}/{rel}", DATA / "keras_weights" / "k3.weights.h5")
    assert code == 0 and "26 identical, 0 changed" in out
