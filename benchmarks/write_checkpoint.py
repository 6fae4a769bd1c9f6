"""Write a ~1 GiB checkpoint: tfformats vs tf.train.Checkpoint.write vs raw file writes.

    python benchmarks/write_checkpoint.py [--workdir /tmp] [--gib 1.0] [--variables 300] [--repeat 3]
        [--tf-python /work/venvs/tf/bin/python]

The variables (float32, a few hundred of varied shapes) are built in memory
first; only the writes are timed, best of ``--repeat`` rounds, output deleted
after each write.  Run it with TensorFlow's Python to time TensorFlow in this
process, the three writers interleaved in each round (fairer on a busy
machine); otherwise TensorFlow runs afterwards in a subprocess with
``--tf-python`` that rebuilds the same data from the same seed.  "raw" is the floor: every array's bytes written with
plain ``file.write`` into one file, no checksums, no index.  Nothing is
fsynced (TensorFlow does not fsync either), so the numbers are writes into
the page cache plus whatever writeback the kernel does meanwhile.  "CPU
seconds" is the process CPU time (all threads) of one write, minimum over
rounds: less sensitive than wall time to other load on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np


def make_variables(total_bytes: int, count: int, seed: int = 0) -> dict[str, np.ndarray]:
    """``count`` float32 arrays of varied 2-D shapes adding up to about ``total_bytes``."""
    rng = np.random.default_rng(seed)
    weights = rng.uniform(0.2, 1.8, count)
    sizes = (weights / weights.sum() * total_bytes / 4).astype(np.int64)
    out = {}
    for i, n in enumerate(sizes):
        cols = int(rng.choice([64, 128, 256, 512, 768, 1024]))
        rows = max(1, int(n) // cols)
        out[f"layer_{i:04d}/kernel"] = rng.random((rows, cols), dtype=np.float32)
    return out


def _clean(path: str) -> None:
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)


def time_rounds(writers: dict, root: str, repeat: int) -> dict[str, float]:
    """Best time of each writer; rounds interleave the writers so load changes hit all alike."""
    best = {name: float("inf") for name in writers}
    cpu = {name: float("inf") for name in writers}
    for _ in range(repeat):
        for name, fn in writers.items():
            out_dir = os.path.join(root, str(abs(hash(name))))
            _clean(out_dir)
            c0 = time.process_time()
            t0 = time.perf_counter()
            fn(out_dir)
            best[name] = min(best[name], time.perf_counter() - t0)
            cpu[name] = min(cpu[name], time.process_time() - c0)
            shutil.rmtree(out_dir, ignore_errors=True)
    CPU_SECONDS.update(cpu)
    return best


CPU_SECONDS: dict[str, float] = {}  # per writer: CPU time (all threads) of one write, minimum over rounds


def tfformats_writer(variables):
    import tfformats

    return lambda d: tfformats.save_checkpoint(os.path.join(d, "ckpt"), variables)


def raw_writer(variables):
    def write(d):
        with open(os.path.join(d, "raw.bin"), "wb") as f:
            for a in variables.values():
                f.write(memoryview(a).cast("B"))

    return write


def tf_writer(variables, warmup_dir):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    tf_vars = {f"v{i}": tf.Variable(a) for i, a in enumerate(variables.values())}
    ckpt = tf.train.Checkpoint(**tf_vars)
    os.makedirs(warmup_dir, exist_ok=True)
    ckpt.write(os.path.join(warmup_dir, "warmup"))  # traces the save function once, untimed
    shutil.rmtree(warmup_dir, ignore_errors=True)
    return (lambda d: ckpt.write(os.path.join(d, "ckpt"))), tf.__version__


def bench_tf_subprocess(tf_python, args, out_dir):
    cmd = [
        tf_python, os.path.abspath(__file__), "--tf-only", "--workdir", args.workdir, "--gib", str(args.gib),
        "--variables", str(args.variables), "--repeat", str(args.repeat), "--out", out_dir,
    ]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    res = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if res.returncode != 0:
        raise RuntimeError(f"TensorFlow subprocess failed:\n{res.stderr[-2000:]}")
    last = [line for line in res.stdout.splitlines() if line.startswith("{")][-1]
    data = json.loads(last)
    return data["seconds"], data["tf_version"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workdir", default=tempfile.gettempdir(), help="where checkpoints are written (outside the repo)")
    ap.add_argument("--gib", type=float, default=1.0)
    ap.add_argument("--variables", type=int, default=300)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--tf-python", default="/work/venvs/tf/bin/python")
    ap.add_argument("--tf-only", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()

    variables = make_variables(int(args.gib * (1 << 30)), args.variables)
    nbytes = sum(a.nbytes for a in variables.values())

    if args.tf_only:
        fn, version = tf_writer(variables, os.path.join(args.out, "warmup"))
        best = time_rounds({"tf": fn}, args.out, args.repeat)
        print(json.dumps({"seconds": best["tf"], "tf_version": version}))
        return

    root = os.path.join(args.workdir, f"tfformats-bench-write-{os.getpid()}")
    writers = {"raw file writes": raw_writer(variables), "tfformats.save_checkpoint": tfformats_writer(variables)}
    mode = "TensorFlow in this process, rounds interleaved"
    try:
        try:
            fn, version = tf_writer(variables, os.path.join(root, "warmup"))
            writers[f"tf.train.Checkpoint.write (TF {version})"] = fn
            tf_result = None
        except ImportError:
            tf_result = None
            if os.path.exists(args.tf_python):
                mode = f"TensorFlow in a subprocess ({args.tf_python}), after the others"
                tf_result = "pending"
            else:
                mode = "TensorFlow not available"
        results = time_rounds(writers, root, args.repeat)
        if tf_result == "pending":
            secs, version = bench_tf_subprocess(args.tf_python, args, os.path.join(root, "tf"))
            results[f"tf.train.Checkpoint.write (TF {version})"] = secs
    finally:
        shutil.rmtree(root, ignore_errors=True)

    gib = nbytes / (1 << 30)
    ours = results["tfformats.save_checkpoint"]
    print(f"{len(variables)} float32 variables, {gib:.3f} GiB; best of {args.repeat}; workdir {args.workdir}; {mode}")
    print()
    print("| writer | seconds | GiB/s | time vs tfformats | CPU seconds |")
    print("|---|---:|---:|---:|---:|")
    for name, secs in results.items():
        key = "tf" if name not in CPU_SECONDS and "tf" in CPU_SECONDS else name
        cpu = f"{CPU_SECONDS[key]:.3f}" if key in CPU_SECONDS and name in CPU_SECONDS else "n/a"
        print(f"| {name} | {secs:.3f} | {gib / secs:.2f} | {secs / ours:.2f}x | {cpu} |")
    raw = results["raw file writes"]
    print()
    print(f"tfformats / raw writes: {ours / raw:.2f}x (target <= 1.5x)")
    tf_secs = [s for n, s in results.items() if n.startswith("tf.train")]
    if tf_secs:
        print(f"TensorFlow / tfformats: {tf_secs[0] / ours:.2f}x (target >= 1x)")


if __name__ == "__main__":
    main()
