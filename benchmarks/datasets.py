"""tf.data saved datasets: tfformats vs TensorFlow's Dataset.load, side by side in one run.

    python benchmarks/datasets.py --tf-python /path/to/venv-with-tf/bin/python

Builds (once, under --workdir, outside the repository) with TensorFlow's Dataset.save:
  mnist_like/   --elements elements of {"image": uint8 [28, 28], "label": int64} (~80 MB), uncompressed
  text_like/    --elements elements of {"tokens": int32 [0..63], "text": string} (varying lengths)
then measures, printing a table with ratios (best of --repeat, files in the page cache):
  1. every element as numpy values, one by one: tfformats iteration vs Dataset.load().as_numpy_iterator()
  2. everything as stacked numpy arrays: tfformats to_numpy() vs Dataset.load().batch(N) (one batch)
  3. a new process that opens the folder and reads the first element (imports included)
Each TensorFlow measurement runs in the --tf-python interpreter; tfformats in this one.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

BUILD = r"""
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np, tensorflow as tf
work, n = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(0)
p = os.path.join(work, "mnist_like")
if not os.path.exists(p):
    tf.data.Dataset.from_tensor_slices(
        {"image": rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), "label": rng.integers(0, 10, n)}).save(p)
p = os.path.join(work, "text_like")
if not os.path.exists(p):
    lengths = rng.integers(0, 64, n)
    def gen():
        for i, k in enumerate(lengths):
            yield {"tokens": np.arange(k, dtype=np.int32), "text": b"x" * int(k)}
    sig = {"tokens": tf.TensorSpec([None], tf.int32), "text": tf.TensorSpec([], tf.string)}
    tf.data.Dataset.from_generator(gen, output_signature=sig).save(p)
print("built")
"""

TF_ITER = r"""
import os, sys, time, json
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import tensorflow as tf
path, repeat, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
best = None
for _ in range(repeat):
    t = time.perf_counter()
    ds = tf.data.Dataset.load(path)
    if mode == "iter":
        n = sum(1 for _ in ds.as_numpy_iterator())
    else:
        n = 0
        for b in ds.batch(1 << 30).as_numpy_iterator():
            n += len(next(iter(b.values())))
    dt = time.perf_counter() - t
    best = dt if best is None else min(best, dt)
print(json.dumps({"seconds": best, "elements": n}))
"""

TF_FIRST = r"""
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import tensorflow as tf
next(iter(tf.data.Dataset.load(sys.argv[1]).as_numpy_iterator()))
"""

OURS_FIRST = r"""
import sys, tfformats
next(iter(tfformats.load_dataset(sys.argv[1])))
"""


def _ours(path: str, repeat: int, mode: str) -> dict:
    import tfformats

    best = None
    for _ in range(repeat):
        t = time.perf_counter()
        ds = tfformats.load_dataset(path)
        if mode == "iter":
            n = sum(1 for _ in ds)
        else:
            cols = ds.to_numpy()
            n = len(next(iter(cols.values())))
        dt = time.perf_counter() - t
        best = dt if best is None else min(best, dt)
    return {"seconds": best, "elements": n}


def _process(python: str, code: str, *args, repeat: int = 3) -> float:
    best = None
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run([python, "-c", code, *args], check=True, capture_output=True)
        dt = time.perf_counter() - t
        best = dt if best is None else min(best, dt)
    return best


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tf-python", required=True, help="a Python with tensorflow")
    p.add_argument("--workdir", default="/tmp/tfformats-bench-datasets")
    p.add_argument("--elements", type=int, default=100_000)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args(argv)
    os.makedirs(args.workdir, exist_ok=True)
    subprocess.run([args.tf_python, "-c", BUILD, args.workdir, str(args.elements)], check=True)
    sys.path.insert(0, ROOT)
    rows = []
    for name in ("mnist_like", "text_like"):
        path = os.path.join(args.workdir, name)
        for mode, label, peer in (("iter", "element by element", "as_numpy_iterator()"),
                                  ("stack", "all as stacked arrays", "batch(N), one batch")):
            if name == "text_like" and mode == "stack":
                continue  # varying lengths: TensorFlow cannot batch them into one dense array
            ours = _ours(path, args.repeat, mode)
            theirs = json.loads(subprocess.run([args.tf_python, "-c", TF_ITER, path, str(args.repeat), mode],
                                               check=True, capture_output=True, text=True).stdout)
            assert ours["elements"] == theirs["elements"], (ours, theirs)
            rows.append((f"{name}: {label} ({ours['elements']:,} elements)", f"Dataset.load {peer}",
                         theirs["seconds"], ours["seconds"]))
        rows.append((f"{name}: new process, first element", "Dataset.load",
                     _process(args.tf_python, TF_FIRST, path), _process(sys.executable, OURS_FIRST, path)))
    print("| measurement | peer | peer s | tfformats s | peer / tfformats |")
    print("|---|---|---:|---:|---:|")
    for what, peer, theirs, ours in rows:
        print(f"| {what} | {peer} | {theirs:.3f} | {ours:.3f} | {theirs / ours:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
