"""``load_dataset`` on fsspec URLs (``memory://``): the same elements as from the local folder."""

from __future__ import annotations

import os

import numpy as np
import pytest

fsspec = pytest.importorskip("fsspec")

import tfformats  # noqa: E402

from conftest import DATA  # noqa: E402

CASES = ["save_plain", "save_gzip", "save_nested", "save_ragged", "save_shards", "snapshot_auto", "legacy_gzip",
         "legacy_snappy"]


def _upload(case: str) -> str:
    fs = fsspec.filesystem("memory")
    src = DATA / "datasets" / case
    base = f"/tfformats-ds/{case}"
    if fs.exists(base):
        fs.rm(base, recursive=True)
    for d, _, files in os.walk(src):
        for f in files:
            rel = os.path.relpath(os.path.join(d, f), src).replace(os.sep, "/")
            with open(os.path.join(d, f), "rb") as fh:
                fs.pipe_file(f"{base}/{rel}", fh.read())
    return f"memory://{base}"


def _same(a, b) -> bool:
    if isinstance(a, dict):
        return sorted(a) == sorted(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (tuple, list)) and not isinstance(a, np.ndarray):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if hasattr(a, "to_list"):
        return a == b
    if hasattr(a, "dense_shape"):
        return all(np.array_equal(x, y) for x, y in zip(a, b))
    return np.array_equal(np.asarray(a), np.asarray(b))


@pytest.mark.parametrize("case", CASES)
def test_remote_folder_reads_as_the_local_one(case):
    url = _upload(case)
    local = tfformats.load_dataset(DATA / "datasets" / case)
    remote = tfformats.load_dataset(url)
    assert (remote.kind, remote.version, remote.compression, remote.num_elements, remote.num_shards) == (
        local.kind, local.version, local.compression, local.num_elements, local.num_shards)
    assert remote.files[0].startswith("memory://")
    got, want = list(remote), list(local)
    assert len(got) == len(want) and all(_same(a, b) for a, b in zip(got, want))
    cols_r, cols_l = remote.columns(), local.columns()
    assert list(cols_r) == list(cols_l)
    for k in cols_l:
        if isinstance(cols_l[k], np.ndarray):
            np.testing.assert_array_equal(cols_r[k], cols_l[k])


def test_remote_missing_folder():
    with pytest.raises(tfformats.NotFoundError):
        tfformats.load_dataset("memory:///tfformats-ds/no-such-thing")


def test_cli_on_a_remote_folder(capsys):
    from cli_helpers import run_cli_json

    url = _upload("save_shards")
    code, doc = run_cli_json(capsys, "info", url)
    assert code == 0 and doc["kind"] == "tf_dataset" and doc["num_elements"] == 20 and doc["file_bytes"] > 0
    code, doc = run_cli_json(capsys, "verify", url)
    assert code == 0 and doc["ok"] and doc["checked"]["elements"] == 20
    code, doc = run_cli_json(capsys, "ls", url)
    assert code == 0 and [t["name"] for t in doc["tensors"]] == ["0"]
