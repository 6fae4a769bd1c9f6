"""Helpers for the command-line tests: run ``tfformats`` in-process or as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent
SAMPLE = ROOT / "examples" / "sample_checkpoint"
CKPTS = DATA / "checkpoints"
SCAN = DATA / "scan"


def run_subprocess(*args, cwd=None) -> tuple[int, str, str]:
    """``python -m tfformats ARGS`` in a fresh interpreter: (exit code, stdout, stderr)."""
    env = dict(os.environ, TFFORMATS_NO_PROGRESS="1", PYTHONIOENCODING="utf-8")
    env.pop("TFFORMATS_DEBUG", None)
    p = subprocess.run(
        [sys.executable, "-m", "tfformats", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )
    return p.returncode, p.stdout, p.stderr


def run_json_subprocess(*args, cwd=None) -> tuple[int, dict]:
    code, out, err = run_subprocess(*args, "--json", cwd=cwd)
    assert "Traceback" not in err, err
    return code, json.loads(out)


def run_cli(capsys, *args) -> tuple[int, str, str]:
    """``tfformats ARGS`` in this process (fast); SystemExit from argparse becomes a code."""
    from tfformats.cli import main

    try:
        code = main([str(a) for a in args])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 2
    out, err = capsys.readouterr()
    return code, out, err


def run_cli_json(capsys, *args) -> tuple[int, dict]:
    code, out, err = run_cli(capsys, *args, "--json")
    assert "Traceback" not in err, err
    return code, json.loads(out)


def manifest() -> dict:
    return json.loads((CKPTS / "manifest.json").read_text())["checkpoints"]


def expected_tensor(cid: str, name: str) -> np.ndarray:
    """A tensor as TensorFlow read it, from the checkpoint generator's expected/*.npz."""
    info = manifest()[cid]["tensors"][name]
    z = np.load(CKPTS / "expected" / f"{cid}.npz", allow_pickle=False)
    key = info["npz"]
    if info["kind"] == "strings":
        lengths = z[key + "_lengths"]
        data = z[key + "_bytes"].tobytes()
        out, pos = [], 0
        for n in lengths.tolist():
            out.append(data[pos : pos + n])
            pos += n
        arr = np.empty(len(out), object)
        arr[:] = out
        return arr.reshape(info["shape"])
    assert info["kind"] == "bytes", info
    dtype = info["numpy_dtype"]
    if dtype in ("bfloat16",) or dtype.startswith(("float8", "float4", "int4", "uint4", "int2", "uint2")):
        import ml_dtypes

        dtype = getattr(ml_dtypes, dtype)
    return np.frombuffer(z[key].tobytes(), dtype).reshape(info["shape"])
