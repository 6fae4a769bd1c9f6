"""Checkpoint reading: tfformats vs TensorFlow, side by side in one run.

    python benchmarks/checkpoints.py --tf-python /path/to/venv-with-tf/bin/python

Builds (once, under --workdir, outside the repository) with TensorFlow:
  big/    ~1 GiB checkpoint of a few hundred float32 variables
  small/  a checkpoint of 20,000 small variables
then measures, printing a table with ratios:
  0. `import tfformats` vs `import tensorflow`, timed inside a fresh interpreter
  1. a new process that lists the 20,000 variables (imports included)
  2. get_tensor of all 20,000 small variables in one process
  3. every tensor of the 1 GiB checkpoint with CRC verification
  4. the same without verification, against reading the data file in 4 MiB
     chunks into a reused buffer (the page-cache limit)
  5. peak memory above the baseline while reading tensors one at a time,
     against the largest tensor

Timings are the best of --repeat runs, with the files in the page cache.
TensorFlow runs in its own interpreter (--tf-python) and times itself.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

BUILD = r"""
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np, tensorflow as tf
work, big_mb, n_small = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(0)
big = os.path.join(work, "big")
if not os.path.exists(big + ".ok"):
    n = 300
    per = big_mb * (1 << 20) // 4 // n
    vs = {}
    for i in range(n):
        rows = per // 256
        vs[f"layer_{i:03d}/kernel"] = tf.Variable(rng.standard_normal((rows, 256), dtype=np.float32))
    ck = tf.train.Checkpoint(**{k.replace("/", "_"): v for k, v in vs.items()})
    ck.write(os.path.join(big, "ckpt"))
    open(big + ".ok", "w").close()
small = os.path.join(work, "small")
if not os.path.exists(small + ".ok"):
    vs = {f"v{i:05d}": tf.Variable(rng.standard_normal((4, 4), dtype=np.float32)) for i in range(n_small)}
    tf.train.Checkpoint(**vs).write(os.path.join(small, "ckpt"))
    open(small + ".ok", "w").close()
print("built")
"""

TF_LIST = r"""
import os, sys, time
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import tensorflow as tf
v = tf.train.list_variables(sys.argv[1])
assert len(v) > 0
"""

TF_READ = r"""
import os, sys, time, json
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import tensorflow as tf
prefix, repeat = sys.argv[1], int(sys.argv[2])
best = None
for _ in range(repeat):
    t = time.perf_counter()
    r = tf.train.load_checkpoint(prefix)
    total = 0
    for name in r.get_variable_to_shape_map():
        total += getattr(r.get_tensor(name), "nbytes", 0)
    dt = time.perf_counter() - t
    best = dt if best is None else min(best, dt)
print(json.dumps({"seconds": best, "bytes": total}))
"""

OURS_LIST = r"""
import sys, tfformats
v = tfformats.list_variables(sys.argv[1])
assert len(v) > 0
"""

OURS_MEM = r"""
import sys, resource, json, gc
import numpy as np, tfformats
prefix = sys.argv[1]
r = tfformats.load_checkpoint(prefix)
names = [n for n, _ in r.list_variables()]
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
largest = 0
for n in names:
    a = r.get_tensor(n)
    largest = max(largest, a.nbytes)
    del a
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"base": base, "peak": peak, "largest": largest}))
"""

TF_MEM = r"""
import os, sys, resource, json
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import tensorflow as tf
prefix = sys.argv[1]
r = tf.train.load_checkpoint(prefix)
names = list(r.get_variable_to_shape_map())
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
for n in names:
    a = r.get_tensor(n)
    del a
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"base": base, "peak": peak}))
"""


def best_of(fn, repeat):
    best = None
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        dt = time.perf_counter() - t
        best = dt if best is None else min(best, dt)
    return best


def run_process(args, repeat):
    def go():
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    return best_of(go, repeat)


def json_out(args):
    out = subprocess.run(args, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def warm(path):
    for root, _, files in os.walk(path):
        for f in files:
            with open(os.path.join(root, f), "rb") as fh:
                while fh.read(1 << 24):
                    pass


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tf-python", default=os.environ.get("TF_PYTHON", sys.executable),
                    help="interpreter with tensorflow installed (default: this one)")
    ap.add_argument("--workdir", default=os.path.join("/tmp", "tfformats-bench"))
    ap.add_argument("--big-mb", type=int, default=1024)
    ap.add_argument("--small", type=int, default=20000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--markdown", action="store_true", help="print the table as markdown")
    args = ap.parse_args()

    import numpy as np

    import tfformats

    os.makedirs(args.workdir, exist_ok=True)
    subprocess.run([args.tf_python, "-c", BUILD, args.workdir, str(args.big_mb), str(args.small)], check=True,
                   stderr=subprocess.DEVNULL)
    big = os.path.join(args.workdir, "big", "ckpt")
    small = os.path.join(args.workdir, "small", "ckpt")
    warm(os.path.join(args.workdir, "big"))
    warm(os.path.join(args.workdir, "small"))
    rows = []

    # 0. the import itself, timed inside a fresh interpreter (best of --repeat processes)
    import_code = ("import time, json; t = time.perf_counter(); import {mod}; "
                   "print(json.dumps({{'seconds': time.perf_counter() - t}}))")

    def import_time(python, mod):
        return min(json_out([python, "-c", import_code.format(mod=mod)])["seconds"] for _ in range(args.repeat))

    rows.append(("import, in a new process", import_time(args.tf_python, "tensorflow"),
                 import_time(sys.executable, "tfformats"), "tfformats well under 0.2 s"))

    # 1. new process listing 20k variables
    ours = run_process([sys.executable, "-c", OURS_LIST, small], args.repeat)
    theirs = run_process([args.tf_python, "-c", TF_LIST, small], args.repeat)
    rows.append(("list 20k variables, new process", theirs, ours, "≥ 20x"))

    # 2. get_tensor of 20k small variables in one process
    def read_small():
        r = tfformats.load_checkpoint(small)
        for n in r:
            r.get_tensor(n)

    ours = best_of(read_small, args.repeat)
    theirs = json_out([args.tf_python, "-c", TF_READ, small, str(args.repeat)])["seconds"]
    rows.append(("get_tensor x 20k small variables", theirs, ours, "≥ 3x"))

    # 3. 1 GiB with CRC
    def read_big(verify):
        def go():
            r = tfformats.load_checkpoint(big, verify_checksums=verify)
            for n in r:
                r.get_tensor(n)
            r.close()

        return go

    ours_crc = best_of(read_big(True), args.repeat)
    theirs = json_out([args.tf_python, "-c", TF_READ, big, str(args.repeat)])["seconds"]
    rows.append(("read 1 GiB checkpoint, CRC on", theirs, ours_crc, "≥ 1.5x"))

    # 4. without verification vs raw chunked read
    ours_nocrc = best_of(read_big(False), args.repeat)
    shard = [os.path.join(os.path.dirname(big), f) for f in os.listdir(os.path.dirname(big)) if ".data-" in f]

    def raw():
        buf = bytearray(4 << 20)
        for path in shard:
            with open(path, "rb", buffering=0) as f:
                while f.readinto(buf):
                    pass

    raw_t = best_of(raw, args.repeat)
    rows.append(("read 1 GiB, CRC off vs raw 4 MiB reads", raw_t, ours_nocrc, "within 1.3x of raw"))

    # 5. memory
    mem = json_out([sys.executable, "-c", OURS_MEM, big])
    tfmem = json_out([args.tf_python, "-c", TF_MEM, big])
    extra = (mem["peak"] - mem["base"]) / 2**20
    tf_extra = (tfmem["peak"] - tfmem["base"]) / 2**20

    size = sum(os.path.getsize(p) for p in shard)
    lines = []
    lines.append(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
                 f"numpy {np.__version__}, tfformats {tfformats.__version__}")
    lines.append(f"big checkpoint: {size / 2**30:.2f} GiB in {len(list(tfformats.load_checkpoint(big)))} tensors; "
                 f"small: {args.small} variables; best of {args.repeat}, warm page cache")
    lines.append("")
    lines.append("| measurement | baseline (TF or raw) s | tfformats s | ratio | target |")
    lines.append("|---|---:|---:|---:|---|")
    for name, base, ours, target in rows:
        lines.append(f"| {name} | {base:.3f} | {ours:.3f} | {base / ours:.2f}x | {target} |")
    lines.append(
        f"| peak RSS above baseline, reading one at a time | TF {tf_extra:.0f} MiB | {extra:.0f} MiB | "
        f"largest tensor {mem['largest'] / 2**20:.1f} MiB | within 64 MiB of largest |"
    )
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
