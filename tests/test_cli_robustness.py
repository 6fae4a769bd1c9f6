"""Damaged inputs never make ``tfformats`` crash: every run ends with a documented exit code.

Each fixture (written by TensorFlow) is damaged in fixed, reproducible ways — bytes flipped,
truncated, zeroed stretches — and every subcommand that reads it must exit with 0, 1, 2 or 3:
never 4 (an internal error, i.e. an exception escaping from tfformats).
"""

from __future__ import annotations

import os
import random
import shutil
import zlib

import pytest

from cli_helpers import DATA, SAMPLE, SCAN, run_cli

FILES = [
    ("sample", SAMPLE / "model-1.index"),
    ("sample", SAMPLE / "model-1.data-00000-of-00001"),
    ("frozen", SCAN / "frozen_clean.pb"),
    ("meta", SCAN / "tf1_model.meta"),
    ("pbtxt", SCAN / "hidden_write.pbtxt"),
    ("keras", SCAN / "lambda.keras"),
    ("sm", SCAN / "dataset_graph" / "saved_model.pb"),
    ("kmeta", SCAN / "keras_lambda" / "keras_metadata.pb"),
    ("rec", DATA / "records" / "examples.none.tfrecord"),
    ("recgz", DATA / "records" / "examples.gzip.tfrecord"),
    ("ev", next((DATA / "events" / "tf2").iterdir())),
]
COMMANDS = [["info"], ["ls"], ["verify"], ["scan"], ["show", "_CHECKPOINTABLE_OBJECT_GRAPH"]]


def _mutations(data: bytes, seed: int, n: int):
    rng = random.Random(seed)
    yield data[: len(data) // 2]
    yield data[:-1]
    for _ in range(n):
        b = bytearray(data)
        kind = rng.randrange(3)
        if kind == 0:
            for _ in range(rng.randint(1, 4)):
                b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
        elif kind == 1:
            i = rng.randrange(len(b))
            b[i : i + rng.randint(1, 64)] = bytes(min(64, len(b) - i))
        else:
            i = rng.randrange(len(b))
            b[i : i + 1] = bytes([rng.randrange(256)]) * rng.randint(1, 3)
        yield bytes(b)


@pytest.mark.parametrize("label, src", FILES, ids=[f"{l}-{p.name}" for l, p in FILES])
def test_damaged_files_give_documented_exit_codes(tmp_path, capsys, label, src):
    root = src.parent
    work = tmp_path / "w"
    if label in ("rec", "recgz"):
        work.mkdir()
        shutil.copy(src, work / src.name)
    else:
        shutil.copytree(root, work)
    target = work / src.name
    data = src.read_bytes()
    path_arg = work if label in ("sample", "sm") else target
    for i, mutated in enumerate(_mutations(data, seed=zlib.crc32(src.name.encode()), n=int(os.environ.get("TFFORMATS_CLI_MUTATIONS", "15")))):
        target.write_bytes(mutated)
        for cmd in COMMANDS:
            code, out, err = run_cli(capsys, cmd[0], path_arg, *cmd[1:])
            assert code in (0, 1, 2, 3), (label, i, cmd, err)
            assert "Traceback" not in err
