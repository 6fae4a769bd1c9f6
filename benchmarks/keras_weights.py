"""Keras weights reading: tfformats vs h5py and Keras, side by side in one run.

    python benchmarks/keras_weights.py --tf-python /path/to/venv-with-tf/bin/python

Builds (once, under --workdir, outside the repository) with tf_keras and Keras 3:
  resnet152.h5     tf_keras ResNet152 (weights=None) saved with model.save (~240 MB HDF5)
  resnet50.keras   Keras 3 ResNet50 saved with model.save (weights in the zip's model.weights.h5)
then measures, printing a table with ratios (best of --repeat, files in the page cache):
  1. every weight as a numpy array: tfformats.load_keras_weights vs h5py (visititems + read),
     both in the TF interpreter's process for h5py and this one for tfformats
  2. a new process that lists the weights (imports included): tfformats vs h5py vs Keras
     building the model and loading the file (what a user without tfformats runs)
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
work = sys.argv[1]
h5 = os.path.join(work, "resnet152.h5")
if not os.path.exists(h5):
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    import tf_keras
    tf_keras.applications.ResNet152(weights=None).save(h5)
k3 = os.path.join(work, "resnet50.keras")
if not os.path.exists(k3):
    import keras
    keras.applications.ResNet50(weights=None).save(k3)
print("built")
"""

H5PY_READ = r"""
import sys, time, json, io, zipfile
import h5py
path, repeat = sys.argv[1], int(sys.argv[2])
best = None
for _ in range(repeat):
    t = time.perf_counter()
    src = io.BytesIO(zipfile.ZipFile(path).read("model.weights.h5")) if zipfile.is_zipfile(path) else path
    total = []
    with h5py.File(src, "r") as f:
        f.visititems(lambda n, o: total.append(o[()].nbytes) if isinstance(o, h5py.Dataset) else None)
    dt = time.perf_counter() - t
    best = dt if best is None else min(best, dt)
print(json.dumps({"seconds": best, "bytes": sum(total), "tensors": len(total)}))
"""

H5PY_LIST = r"""
import sys, io, zipfile, h5py
path = sys.argv[1]
src = io.BytesIO(zipfile.ZipFile(path).read("model.weights.h5")) if zipfile.is_zipfile(path) else path
names = []
with h5py.File(src, "r") as f:
    f.visititems(lambda n, o: names.append((n, o.shape)) if isinstance(o, h5py.Dataset) else None)
assert names
"""

KERAS_LOAD = r"""
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
path = sys.argv[1]
if path.endswith(".h5"):
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    import tf_keras as keras
else:
    import keras
m = keras.models.load_model(path, compile=False)
assert m.get_weights()
"""

OURS_LIST = r"""
import sys, tfformats
with tfformats.load_keras_weights(sys.argv[1]) as w:
    assert w.list_variables()
"""


def _ours_read(path: str, repeat: int) -> dict:
    import tfformats

    best = None
    for _ in range(repeat):
        t = time.perf_counter()
        with tfformats.load_keras_weights(path) as w:
            sizes = [w.get_tensor(n).nbytes for n in w]
        dt = time.perf_counter() - t
        best = dt if best is None else min(best, dt)
    return {"seconds": best, "bytes": sum(sizes), "tensors": len(sizes)}


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
    p.add_argument("--tf-python", required=True, help="a Python with tensorflow, tf_keras, keras 3 and h5py")
    p.add_argument("--workdir", default="/tmp/tfformats-bench-keras")
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args(argv)
    os.makedirs(args.workdir, exist_ok=True)
    subprocess.run([args.tf_python, "-c", BUILD, args.workdir], check=True)
    sys.path.insert(0, ROOT)
    rows = []
    for name in ("resnet152.h5", "resnet50.keras"):
        path = os.path.join(args.workdir, name)
        for _ in range(2):  # page cache warm
            with open(path, "rb") as f:
                while f.read(1 << 24):
                    pass
        ours = _ours_read(path, args.repeat)
        h5 = json.loads(subprocess.run([args.tf_python, "-c", H5PY_READ, path, str(args.repeat)], check=True,
                                       capture_output=True, text=True).stdout)
        assert (ours["bytes"], ours["tensors"]) == (h5["bytes"], h5["tensors"]), (ours, h5)
        mb = ours["bytes"] / 1e6
        rows.append((f"{name}: read all {ours['tensors']} weights ({mb:.0f} MB)", "h5py", h5["seconds"],
                     ours["seconds"]))
        ours_list = _process(sys.executable, OURS_LIST, path, repeat=args.repeat)
        h5_list = _process(args.tf_python, H5PY_LIST, path, repeat=args.repeat)
        keras_load = _process(args.tf_python, KERAS_LOAD, path, repeat=1)
        rows.append((f"{name}: list weights, new process", "h5py", h5_list, ours_list))
        rows.append((f"{name}: new process, Keras load_model vs tfformats list", "Keras", keras_load, ours_list))
    print(f"| measurement | peer | peer s | tfformats s | peer / tfformats |")
    print("|---|---|---:|---:|---:|")
    for what, peer, theirs, ours in rows:
        print(f"| {what} | {peer} | {theirs:.3f} | {ours:.3f} | {theirs / ours:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
