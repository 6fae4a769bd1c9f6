"""TFRecords, Examples and event files: tfformats vs TensorFlow and other readers, side by side.

    python benchmarks/records.py --tf-python /path/to/venv-with-tf/bin/python

Builds once, under --workdir (outside the repository):
  raw_large.tfrecord   --large-mb of 100 KiB records (image-like)
  raw_small.tfrecord   --small-mb of 1 KiB records (tabular-like)
  examples.tfrecord    --examples tf.train.Examples built and written by TensorFlow: label int64,
                       image bytes (200 B), embedding float[16], tokens int64[0..29], weight float
  events/              --scalars TF2 scalar events in 4 runs x 5 tags, laid out byte for byte as
                       tf.summary.scalar writes them (the template event comes from TensorFlow)
then measures, printing tables with ratios:
  1. reading every record with CRC checks: tfformats.records.read (default, copy=False, and
     mmap=True with and without copies) vs tf.data.TFRecordDataset
     (per element, and in batches of 1024) vs the `tfrecord` package, against a plain read of
     the file in 4 MiB chunks (the limit)
  2. decoding the Examples: tfformats (decode from memory; read + decode) vs tf.io.parse_example
     (from memory) and a tf.data pipeline, vs the `tfrecord` package's example_loader
  3. loading all the scalars: tfformats.events.read_events vs tbparse.SummaryReader vs
     TensorBoard's EventAccumulator

Every case runs in its own fresh interpreter (TensorFlow's in --tf-python, which also needs the
peers: pip install tfrecord tbparse tensorboard) and times itself, best of --repeat (slow peers
once), reporting wall and CPU seconds of that run; files are in the page cache.  Imports are
outside the timings.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# ---------------------------------------------------------------------------------------------
# building the data

BUILD_RAW = r"""
import os, sys, numpy as np
sys.path.insert(0, sys.argv[4])
import tfformats.records as tfr
path, mb, rec = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
n = mb * (1 << 20) // (rec + 16)
rng = np.random.default_rng(0)
pool = rng.bytes(rec * 64 + 4096)
def recs():
    for i in range(n):
        j = (i * 977) % 4096
        yield pool[j * 7 % 4096 : j * 7 % 4096 + rec]
tfr.write(path + ".tmp", recs())
os.replace(path + ".tmp", path)
print(n)
"""

BUILD_TF = r"""
import os, sys, json, struct
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np, tensorflow as tf
work, n_examples = sys.argv[1], int(sys.argv[2])
path = os.path.join(work, "examples.tfrecord")
if not os.path.exists(path):
    rng = np.random.default_rng(1)
    with tf.io.TFRecordWriter(path + ".tmp") as w:
        for i in range(n_examples):
            f = {
                "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[int(rng.integers(0, 10))])),
                "image": tf.train.Feature(bytes_list=tf.train.BytesList(value=[rng.bytes(200)])),
                "embedding": tf.train.Feature(float_list=tf.train.FloatList(value=rng.random(16, dtype=np.float32))),
                "tokens": tf.train.Feature(int64_list=tf.train.Int64List(value=rng.integers(0, 50000, int(rng.integers(0, 30))))),
                "weight": tf.train.Feature(float_list=tf.train.FloatList(value=[float(rng.random())])),
            }
            w.write(tf.train.Example(features=tf.train.Features(feature=f)).SerializeToString())
    os.replace(path + ".tmp", path)
# one TF2 scalar event, as a template for the event files
tmpl = os.path.join(work, "scalar_template.bin")
if not os.path.exists(tmpl):
    d = os.path.join(work, "tmpl_run")
    w = tf.summary.create_file_writer(d)
    with w.as_default():
        tf.summary.scalar("x", 1.25, step=7)
    w.close()
    f = [os.path.join(d, x) for x in os.listdir(d)][0]
    evs = [e for e in tf.compat.v1.train.summary_iterator(f) if e.HasField("summary")]
    open(tmpl, "wb").write(evs[0].SerializeToString())
print("ok")
"""

BUILD_EVENTS = r"""
import os, sys, struct
sys.path.insert(0, sys.argv[4])
import tfformats.records as tfr
from tfformats.proto import pb
work, n = sys.argv[1], int(sys.argv[2])
tmpl = pb.Event.FromString(open(sys.argv[3], "rb").read())
runs, tags = 4, 5
per = n // (runs * tags)
for r in range(runs):
    d = os.path.join(work, "events", f"run{r}")
    os.makedirs(d, exist_ok=True)
    def events():
        yield pb.Event(wall_time=1.7e9, file_version="brain.Event:2").SerializeToString()
        e = pb.Event()
        e.CopyFrom(tmpl)
        v = e.summary.value[0]
        for step in range(per):
            e.step = step
            for t in range(tags):
                e.wall_time = 1.7e9 + step * 0.01 + t * 1e-4
                v.tag = f"metric_{t}"
                v.tensor.tensor_content = struct.pack("<f", step * 0.001 + t)
                yield e.SerializeToString()
    tfr.write(os.path.join(d, f"events.out.tfevents.1700000000.bench.{r}.v2"), events())
print(runs * tags * per)
"""

# ---------------------------------------------------------------------------------------------
# timed cases: each prints {"seconds": best, "n": count}

PRELUDE = r"""
import os, sys, time, json
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
sys.path.insert(0, sys.argv[3])
path, repeat = sys.argv[1], int(sys.argv[2])
def bench(fn):
    best = cpu = None
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        n = fn()
        dt, dc = time.perf_counter() - t, time.process_time() - c
        if best is None or dt < best:
            best, cpu = dt, dc
    print(json.dumps({"seconds": best, "cpu": cpu, "n": n}))
"""

CASES = {
    # -- raw records
    "plain read (4 MiB f.read)": ("py", r"""
def fn():
    n = 0
    with open(path, "rb", buffering=0) as f:
        while True:
            b = f.read(1 << 22)
            if not b:
                return n
            n += len(b)
bench(fn)
"""),
    "plain readinto (reused 4 MiB buffer)": ("py", r"""
def fn():
    buf = bytearray(1 << 22)
    n = 0
    with open(path, "rb", buffering=0) as f:
        while True:
            k = f.readinto(buf)
            if not k:
                return n
            n += k
bench(fn)
"""),
    "tf.data.TFRecordDataset (per record)": ("tf", r"""
import tensorflow as tf
def fn():
    n = 0
    for r in tf.data.TFRecordDataset(path):
        n += 1
    return n
bench(fn)
"""),
    "tf.data.TFRecordDataset (.batch(1024))": ("tf", r"""
import tensorflow as tf
def fn():
    n = 0
    for b in tf.data.TFRecordDataset(path).batch(1024):
        n += int(b.shape[0])
    return n
bench(fn)
"""),
    "tfrecord package (tfrecord_iterator, no CRC check)": ("tf", r"""
from tfrecord.reader import tfrecord_iterator
def fn():
    n = 0
    for r in tfrecord_iterator(path):
        n += 1
    return n
bench(fn)
"""),
    # -- examples
    "tfformats decode_examples (records in memory)": ("py", r"""
import tfformats.records as tfr, tfformats.example as tfe
recs = list(tfr.read(path))
def fn():
    cols = tfe.decode_examples(recs)
    return len(cols["label"])
bench(fn)
"""),
    "tfformats read_examples (read + decode)": ("py", r"""
import tfformats.example as tfe
def fn():
    cols = tfe.read_examples(path)
    return len(cols["label"])
bench(fn)
"""),
    "tf.io.parse_example (records in memory)": ("tf", r"""
import tensorflow as tf
recs = tf.constant([r.numpy() for r in tf.data.TFRecordDataset(path)])
spec = {"label": tf.io.FixedLenFeature([], tf.int64), "image": tf.io.FixedLenFeature([], tf.string),
        "embedding": tf.io.FixedLenFeature([16], tf.float32), "tokens": tf.io.VarLenFeature(tf.int64),
        "weight": tf.io.FixedLenFeature([], tf.float32)}
def fn():
    out = tf.io.parse_example(recs, spec)
    return int(out["label"].shape[0])
bench(fn)
"""),
    "tf.data + parse_example (read + decode, batches of 1024)": ("tf", r"""
import tensorflow as tf
spec = {"label": tf.io.FixedLenFeature([], tf.int64), "image": tf.io.FixedLenFeature([], tf.string),
        "embedding": tf.io.FixedLenFeature([16], tf.float32), "tokens": tf.io.VarLenFeature(tf.int64),
        "weight": tf.io.FixedLenFeature([], tf.float32)}
def fn():
    n = 0
    for b in tf.data.TFRecordDataset(path).batch(1024).map(lambda x: tf.io.parse_example(x, spec)):
        n += int(b["label"].shape[0])
    return n
bench(fn)
"""),
    "tfrecord package example_loader (read + decode)": ("tf", r"""
from tfrecord.reader import example_loader
desc = {"label": "int", "image": "byte", "embedding": "float", "tokens": "int", "weight": "float"}
def fn():
    n = 0
    for ex in example_loader(path, None, desc):
        n += 1
    return n
bench(fn)
"""),
    # -- events
    "tfformats read_events(kinds=['scalars'])": ("py", r"""
import tfformats.events as tfev
def fn():
    return len(tfev.read_events(path, kinds=["scalars"]).scalars)
bench(fn)
"""),
    "tfformats read_events (all kinds)": ("py", r"""
import tfformats.events as tfev
def fn():
    return len(tfev.read_events(path).scalars)
bench(fn)
"""),
    "tfformats read_events + to_pandas()": ("py", r"""
import tfformats.events as tfev
def fn():
    return len(tfev.read_events(path, kinds=["scalars"]).scalars.to_pandas())
bench(fn)
"""),
    "tbparse SummaryReader(...).tensors": ("tf", r"""
from tbparse import SummaryReader
def fn():
    return len(SummaryReader(path).tensors)
bench(fn)
"""),
    "TensorBoard EventAccumulator (per run, all tensors kept)": ("tf", r"""
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
def fn():
    n = 0
    for run in sorted(os.listdir(path)):
        acc = EventAccumulator(os.path.join(path, run), size_guidance={"tensors": 0})
        acc.Reload()
        for tag in acc.Tags()["tensors"]:
            n += len(acc.Tensors(tag))
    return n
bench(fn)
"""),
}

# tfformats.records.read with each set of options: one template
READ_CASE = r"""
import tfformats.records as tfr
def fn():
    n = 0
    for r in tfr.read(path{args}):
        n += 1
    return n
bench(fn)
"""
for _args in ("", "copy=False", "mmap=True", "mmap=True, copy=False", "verify=False"):
    CASES[f"tfformats.records.read({_args})" if _args else "tfformats.records.read"] = (
        "py", READ_CASE.format(args=", " + _args if _args else ""))

SLOW = {"tbparse SummaryReader(...).tensors", "TensorBoard EventAccumulator (per run, all tensors kept)",
        "tf.data.TFRecordDataset (per record)", "tfrecord package example_loader (read + decode)"}


def run_case(name: str, path: str, repeat: int, args) -> dict | None:
    kind, code = CASES[name]
    py = args.tf_python if kind == "tf" else sys.executable
    if kind == "tf" and not py:
        return None
    reps = 1 if name in SLOW else repeat
    proc = subprocess.run(
        [py, "-c", PRELUDE + code, path, str(reps), ROOT], capture_output=True, text=True, timeout=args.timeout
    )
    if proc.returncode != 0:
        print(f"  ! {name} failed: {proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else proc.returncode}",
              file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def table(title: str, rows: list, base: str, size: int | None, unit: str) -> str:
    lines = [
        f"\n### {title}\n",
        f"| reader | seconds | {'MB/s' if size else unit + '/s'} | time vs {base} | CPU seconds |",
        "|---|---:|---:|---:|---:|",
    ]
    ref = next((r for r in rows if r[0] == base and r[1]), None)
    for name, res in rows:
        if not res:
            lines.append(f"| {name} | n/a | | | |")
            continue
        s = res["seconds"]
        rate = f"{size / s / 1e6:,.0f}" if size else f"{res['n'] / s:,.0f}"
        ratio = f"{s / ref[1]['seconds']:.2f}x" if ref else ""
        lines.append(f"| {name} | {s:.3f} | {rate} | {ratio} | {res.get('cpu', 0):.3f} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tf-python", default=None, help="python of a virtualenv with tensorflow, tfrecord, tbparse")
    ap.add_argument("--workdir", default="/tmp/tfformats-bench-records")
    ap.add_argument("--large-mb", type=int, default=500)
    ap.add_argument("--small-mb", type=int, default=200)
    ap.add_argument("--examples", type=int, default=100_000)
    ap.add_argument("--scalars", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--timeout", type=int, default=1800)
    ap.add_argument("--only", choices=["records", "examples", "events"], action="append")
    args = ap.parse_args()
    work = args.workdir
    os.makedirs(work, exist_ok=True)
    sections = args.only or ["records", "examples", "events"]

    print(f"# machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}, Python {platform.python_version()}")
    if hasattr(os, "getloadavg"):
        print(f"# load average at start: {os.getloadavg()[0]:.2f}")
    out = []
    if "records" in sections:
        for label, mb, rec in (("large", args.large_mb, 100 << 10), ("small", args.small_mb, 1 << 10)):
            path = os.path.join(work, f"raw_{label}_{mb}mb.tfrecord")
            if not os.path.exists(path):
                print(f"building {path} ...", flush=True)
                subprocess.run([sys.executable, "-c", BUILD_RAW, path, str(mb), str(rec), ROOT], check=True)
            size = os.path.getsize(path)
            names = ["plain read (4 MiB f.read)", "plain readinto (reused 4 MiB buffer)", "tfformats.records.read",
                     "tfformats.records.read(copy=False)", "tfformats.records.read(mmap=True)",
                     "tfformats.records.read(mmap=True, copy=False)", "tfformats.records.read(verify=False)",
                     "tf.data.TFRecordDataset (per record)", "tf.data.TFRecordDataset (.batch(1024))",
                     "tfrecord package (tfrecord_iterator, no CRC check)"]
            rows = []
            for name in names:
                res = run_case(name, path, args.repeat, args)
                rows.append((name, res))
                print(f"  {name}: {res}", flush=True)
            out.append(table(f"Reading {size / 1e6:,.0f} MB of {rec >> 10} KiB records (CRC checked unless noted)",
                             rows, "plain read (4 MiB f.read)", size, "records"))
    if "examples" in sections or "events" in sections:
        if args.tf_python:
            subprocess.run([args.tf_python, "-c", BUILD_TF, work, str(args.examples)], check=True)
    if "examples" in sections:
        path = os.path.join(work, "examples.tfrecord")
        if os.path.exists(path):
            names = ["tfformats decode_examples (records in memory)", "tf.io.parse_example (records in memory)",
                     "tfformats read_examples (read + decode)", "tf.data + parse_example (read + decode, batches of 1024)",
                     "tfrecord package example_loader (read + decode)"]
            rows = []
            for name in names:
                res = run_case(name, path, args.repeat, args)
                rows.append((name, res))
                print(f"  {name}: {res}", flush=True)
            out.append(table(f"Decoding {args.examples:,} Examples", rows, "tfformats read_examples (read + decode)", None, "examples"))
    if "events" in sections:
        tmpl = os.path.join(work, "scalar_template.bin")
        evdir = os.path.join(work, "events")
        marker = os.path.join(work, f"events.{args.scalars}.ok")
        if os.path.exists(tmpl) and not os.path.exists(marker):
            print("building event files ...", flush=True)
            subprocess.run([sys.executable, "-c", BUILD_EVENTS, work, str(args.scalars), tmpl, ROOT], check=True)
            open(marker, "w").close()
        if os.path.exists(marker):
            names = ["tfformats read_events(kinds=['scalars'])", "tfformats read_events (all kinds)",
                     "tfformats read_events + to_pandas()", "tbparse SummaryReader(...).tensors",
                     "TensorBoard EventAccumulator (per run, all tensors kept)"]
            rows = []
            for name in names:
                res = run_case(name, evdir, args.repeat, args)
                rows.append((name, res))
                print(f"  {name}: {res}", flush=True)
            out.append(table(f"Loading {args.scalars:,} scalars (4 runs x 5 tags)", rows,
                             "tfformats read_events(kinds=['scalars'])", None, "scalars"))
    if hasattr(os, "getloadavg"):
        print(f"# load average at end: {os.getloadavg()[0]:.2f}")
    print("\n".join(out))


if __name__ == "__main__":
    main()
