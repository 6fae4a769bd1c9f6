"""Keras weights files for tests/test_keras_weights.py (needs TensorFlow, tf_keras, Keras 3, h5py).

Writes into tests/data/keras_weights/:

* ``tfk_model.h5`` -- a tf_keras (Keras 2 API) functional model (Embedding, LSTM, BatchNormalization,
  Dense) trained one step with Adam and saved with ``model.save`` (weights under ``model_weights/``,
  optimizer slots under ``optimizer_weights/``); ``tfk_weights.h5`` -- its ``save_weights``.
* ``k3_model.keras`` -- a Keras 3 functional model holding a nested Sequential, trained one step with
  Adam (weights in the archive's ``model.weights.h5``); ``k3.weights.h5`` -- its ``save_weights``;
  ``k3_legacy.h5`` -- its legacy HDF5 save; ``k3_sharded/`` -- its sharded ``save_weights``
  (``model.weights.json`` naming ``model_0000N.weights.h5`` shards).
* ``variants.h5`` -- written with h5py: the dtypes and layouts a reader may meet (bool, big-endian
  float64, int8, uint16, float16, bfloat16 as a custom 16-bit float, fixed-length strings, a scalar, an
  empty dataset, compact storage, a group of 40 datasets (a multi-node B-tree), a soft link, a second hard
  link to one dataset) and some it reports as unsupported (chunked, gzip-compressed, variable-length
  strings, a compound type).
* ``k3_bf16.keras``, ``k3_bf16.weights.h5``, ``tfk_bf16.h5`` -- bfloat16 layers as Keras 3 and
  tf_keras write them (an opaque 2-byte HDF5 type), with the values Keras holds.
* ``dense_links.h5`` -- ``libver="latest"`` with a group of 20 links, which libhdf5 keeps in dense
  storage (a fractal heap indexed by a version 2 B-tree).
* ``k3jax_unicode_legacy.h5`` -- Keras 3 (JAX backend) legacy ``model.save`` of 9 layers, one with
  a non-ASCII name: dense link storage with h5py's default settings.

``expected.json``: per file, every dataset h5py lists (its ``visititems`` names, the names
Keras reads through h5py) with dtype and shape, and whether h5py reads it; ``expected.npz``:
the values h5py reads (``<file>::<name>``; bfloat16 as its 16-bit patterns).  For the Keras
models it also records ``model.get_weights()`` shapes in order, and the weight paths Keras gives.
"""

import io
import json
import os
import shutil
import zipfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import h5py
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "data", "keras_weights")


def _tf_keras_files(rng):
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    import tf_keras as k

    inp = k.Input((5,), dtype="int32")
    x = k.layers.Embedding(20, 4)(inp)
    x = k.layers.LSTM(3)(x)
    x = k.layers.BatchNormalization()(x)
    out = k.layers.Dense(2)(x)
    model = k.Model(inp, out)
    model.compile(k.optimizers.Adam(1e-3), "mse")
    model.fit(rng.integers(0, 20, (8, 5)), rng.standard_normal((8, 2)), epochs=1, verbose=0)
    model.save(os.path.join(OUT, "tfk_model.h5"))
    model.save_weights(os.path.join(OUT, "tfk_weights.h5"))
    return {"tfk_model.h5": _keras_view(model), "tfk_weights.h5": _keras_view(model)}


def _keras3_files(rng):
    import keras

    inner = keras.Sequential([keras.layers.Dense(4, activation="relu"), keras.layers.Dense(3)], name="inner")
    inp = keras.Input((6,))
    x = inner(inp)
    x = keras.layers.LayerNormalization()(x)
    out = keras.layers.Dense(1)(x)
    model = keras.Model(inp, out)
    model.compile(keras.optimizers.Adam(1e-3), "mse")
    model.fit(rng.standard_normal((8, 6)), rng.standard_normal((8, 1)), epochs=1, verbose=0)
    model.save(os.path.join(OUT, "k3_model.keras"))
    model.save_weights(os.path.join(OUT, "k3.weights.h5"))
    model.save(os.path.join(OUT, "k3_legacy.h5"))
    os.makedirs(os.path.join(OUT, "k3_sharded"))
    model.save_weights(os.path.join(OUT, "k3_sharded", "model.weights.json"), max_shard_size=3e-7)  # GB: ~300 B
    view = _keras_view(model)
    return {"k3_model.keras": view, "k3.weights.h5": view, "k3_legacy.h5": view, "k3_sharded": view}


def _bf16_files(rng):
    """bfloat16 weights as Keras writes them: an HDF5 *opaque* 2-byte type (Keras 3 adds a
    ``dtype`` attribute naming bfloat16; tf_keras does not).  Keras 3: ``k3_bf16.keras`` and
    ``k3_bf16.weights.h5``; tf_keras: ``tfk_bf16.h5`` (its legacy ``save_weights``)."""
    import keras

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, dtype="bfloat16", name="d1"),
                              keras.layers.Dense(2, dtype="bfloat16", name="d2")])
    model.save(os.path.join(OUT, "k3_bf16.keras"))
    model.save_weights(os.path.join(OUT, "k3_bf16.weights.h5"))
    view = _keras_view(model, values=True)
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    import tf_keras as k

    tmodel = k.Sequential([k.Input((3,)), k.layers.Dense(4, dtype="bfloat16", name="d1")])
    tmodel.save_weights(os.path.join(OUT, "tfk_bf16.h5"))  # legacy HDF5: no dtype attribute
    return {"k3_bf16.keras": view, "k3_bf16.weights.h5": view, "tfk_bf16.h5": _keras_view(tmodel, values=True)}


def _unicode_files(rng):
    """``k3jax_unicode_legacy.h5``: Keras 3 (JAX backend: TensorFlow's name scopes refuse non-ASCII
    layer names) legacy ``model.save`` of 9 layers, one named with non-ASCII letters: libhdf5 then
    keeps the weights group's links in dense storage (a fractal heap indexed by a version 2
    B-tree) even with h5py's default settings.  Written by this script run in a Keras + JAX
    environment (``$TFFORMATS_KERAS_JAX_PYTHON``, default /work/venvs/k3jax/bin/python: ``pip
    install keras==3.8.0 "jax[cpu]==0.4.30" h5py``); without it the committed file is kept."""
    import subprocess

    name = "k3jax_unicode_legacy.h5"
    python = os.environ.get("TFFORMATS_KERAS_JAX_PYTHON", "/work/venvs/k3jax/bin/python")
    if not os.path.exists(python):
        print(f"skipped {name}: no Keras + JAX interpreter at {python} (committed file kept)")
        with open(os.path.join(OUT, "expected.json")) as f:
            return {name: json.load(f)["files"][name]["keras"]}
    subprocess.run([python, os.path.abspath(__file__), "--keras-jax"], check=True,
                   env={**os.environ, "KERAS_BACKEND": "jax"})
    view_path = os.path.join(OUT, name + ".keras_view.json")
    with open(view_path) as f:
        view = json.load(f)
    os.remove(view_path)
    return {name: view}


def write_keras_jax():
    """(run in the Keras + JAX environment) the file of :func:`_unicode_files` and Keras' view of it."""
    import keras

    assert keras.backend.backend() == "jax", keras.backend.backend()
    keras.utils.set_random_seed(5)
    layers = [keras.Input((3,))] + [keras.layers.Dense(3, name=f"dense_{i}") for i in range(8)]
    model = keras.Sequential(layers + [keras.layers.Dense(2, name="dénse ñ")])
    model.compile(keras.optimizers.SGD(0.1), "mse")
    model.fit(np.ones((4, 3), np.float32), np.ones((4, 2), np.float32), epochs=1, verbose=0)
    name = "k3jax_unicode_legacy.h5"
    model.save(os.path.join(OUT, name))
    view = _keras_view(model, values=True)
    view["keras_version"] = keras.__version__
    with open(os.path.join(OUT, name + ".keras_view.json"), "w") as f:
        json.dump(view, f)


def _keras_view(model, values: bool = False):
    if values:  # the weights Keras holds, as float32 (exact for bfloat16)
        return {
            "weight_paths": [getattr(w, "path", None) or w.name for w in model.weights],
            "weight_shapes": [list(np.shape(w)) for w in model.get_weights()],
            "weight_values": [np.asarray(w, np.float32).reshape(-1).tolist() for w in model.get_weights()],
        }
    return _keras_view_plain(model)


def _keras_view_plain(model):
    return {
        "weight_paths": [getattr(w, "path", None) or w.name for w in model.weights],
        "weight_shapes": [list(np.shape(w)) for w in model.get_weights()],
    }


def _bfloat16_type():
    t = h5py.h5t.IEEE_F32LE.copy()
    t.set_fields(15, 7, 8, 0, 7)  # sign bit, exponent at 7 (8 bits), mantissa at 0 (7 bits)
    t.set_size(2)
    t.set_ebias(127)
    return t


def _variants(rng):
    path = os.path.join(OUT, "variants.h5")
    with h5py.File(path, "w") as f:
        g = f.create_group("dtypes")
        g["bool"] = np.array([True, False, True])
        g["float64_be"] = np.arange(6, dtype=">f8").reshape(2, 3) / 7
        g["int8"] = np.array([-128, 0, 127], np.int8)
        g["uint16"] = np.array([0, 1, 65535], np.uint16)
        g["float16"] = rng.standard_normal(5).astype(np.float16)
        g["int64_scalar"] = np.int64(-42)
        g["strings"] = np.array([b"alpha", b"be", b""], dtype="S5")
        g["empty"] = np.zeros((0, 3), np.float32)
        bits = (rng.standard_normal(4).astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)
        space = h5py.h5s.create_simple((4,))
        dset = h5py.h5d.create(g.id, b"bfloat16", _bfloat16_type(), space)
        dset.write(h5py.h5s.ALL, h5py.h5s.ALL, bits, mtype=_bfloat16_type())
        layouts = f.create_group("layouts")
        dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        dcpl.set_layout(h5py.h5d.COMPACT)
        compact = np.arange(12, dtype=np.int32).reshape(3, 4)
        d = h5py.h5d.create(layouts.id, b"compact", h5py.h5t.STD_I32LE, h5py.h5s.create_simple((3, 4)), dcpl=dcpl)
        d.write(h5py.h5s.ALL, h5py.h5s.ALL, compact)
        layouts.create_dataset("chunked", data=np.arange(100, dtype=np.float32), chunks=(10,))
        layouts.create_dataset("gzip", data=np.arange(100, dtype=np.float32), compression="gzip")
        many = f.create_group("many")
        for i in range(40):
            many[f"w{i:02d}"] = np.full((2,), i, np.float32)
        f["links/soft"] = h5py.SoftLink("/dtypes/int8")
        f["links/hard_again"] = f["dtypes/uint16"]
        other = f.create_group("unsupported")
        other.create_dataset("vlen_strings", data=["a", "bcd"], dtype=h5py.string_dtype())
        other["compound"] = np.array([(1, 2.0)], dtype=[("a", "i4"), ("b", "f4")])


def _dense_links():
    path = os.path.join(OUT, "dense_links.h5")
    with h5py.File(path, "w", libver="latest") as f:
        g = f.create_group("layers")
        for i in range(20):
            g[f"w{i:02d}"] = np.full((2,), i, np.float32)
        f["top"] = np.ones(3, np.float32)


def _h5py_view(name):
    path = os.path.join(OUT, name)
    if zipfile.is_zipfile(path):
        src = io.BytesIO(zipfile.ZipFile(path).read("model.weights.h5"))
    else:
        src = path
    listing, values = {}, {}

    def visit(n, obj):
        if not isinstance(obj, h5py.Dataset):
            return
        entry = {"dtype": str(obj.dtype), "shape": list(obj.shape), "layout": obj.id.get_create_plist().get_layout()}
        try:
            v = obj[()]
        except Exception as exc:  # noqa: BLE001
            entry["h5py_error"] = f"{type(exc).__name__}: {exc}"
        else:
            arr = np.asarray(v)
            entry["read"] = True
            if arr.dtype.kind == "O":
                entry["strings"] = [x.decode("utf-8") if isinstance(x, bytes) else str(x) for x in arr.reshape(-1)]
            elif arr.dtype.kind == "V" and arr.dtype.names:
                entry["compound"] = True
            elif arr.dtype.kind == "S":
                entry["strings"] = [x.hex() for x in arr.reshape(-1).tolist()]
            elif arr.dtype.itemsize == 2 and arr.dtype.kind == "V":
                values[f"{name}::{n}"] = arr.view(np.uint16)
            else:
                values[f"{name}::{n}"] = arr
        listing[n] = entry

    with h5py.File(src, "r") as f:
        f.visititems(visit)
    return listing, values


def main(only=None):
    """Every file afresh; ``gen_keras_weights.py bf16`` writes only the bfloat16 files (the others,
    and their Keras views, are kept)."""
    rng = np.random.default_rng(7)
    keras_views = {}
    if only:
        with open(os.path.join(OUT, "expected.json")) as f:
            keras_views = {n: e["keras"] for n, e in json.load(f)["files"].items() if e.get("keras")}
        keras_views["k3_sharded"] = keras_views.pop("k3_sharded/model.weights.json", None)
    else:
        shutil.rmtree(OUT, ignore_errors=True)
        os.makedirs(OUT)
        keras_views.update(_tf_keras_files(rng))
        keras_views.update(_keras3_files(rng))
        _variants(rng)
        _dense_links()
    if not only or "bf16" in only:
        keras_views.update(_bf16_files(rng))
    if not only or "unicode" in only:
        keras_views.update(_unicode_files(rng))
    expected, arrays = {"h5py": h5py.__version__, "files": {}}, {}
    for name in sorted(os.listdir(OUT)):
        if name in ("expected.json", "expected.npz"):
            continue
        if name == "k3_sharded":  # every shard, as one set of weights under the index's name
            index = os.path.join(OUT, name, "model.weights.json")
            shards = sorted({f for v in json.load(open(index))["weight_map"].values() for f in v})
            listing, values = {}, {}
            for shard in shards:
                part_listing, part_values = _h5py_view(os.path.join(name, shard))
                listing.update(part_listing)
                values.update({k.replace(f"{name}/{shard}::", f"{name}/model.weights.json::"): v
                               for k, v in part_values.items()})
            expected["files"][f"{name}/model.weights.json"] = {"datasets": listing, "keras": keras_views[name],
                                                               "shards": shards}
        else:
            listing, values = _h5py_view(name)
            expected["files"][name] = {"datasets": listing, "keras": keras_views.get(name)}
        arrays.update(values)
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
    np.savez(os.path.join(OUT, "expected.npz"), **arrays)
    print("wrote", sorted(os.listdir(OUT)))


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["--keras-jax"]:
        write_keras_jax()
    else:
        main(sys.argv[1:])
