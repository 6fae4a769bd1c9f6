"""``tfformats.load_keras_weights`` on files Keras writes now, against Keras and h5py reading them.

Fresh models (tf_keras, and Keras 3 where installed) are trained a step and saved every way Keras
saves weights; every dataset h5py lists must read identically, and every array of
``model.get_weights()`` must be among them.  The model is then loaded back by Keras from the file
and its weights compared once more (what Keras itself reads from the file).
"""

from __future__ import annotations

import io
import os
import zipfile

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
h5py = pytest.importorskip("h5py")

import tfformats  # noqa: E402


def _h5py_datasets(path):
    src = io.BytesIO(zipfile.ZipFile(path).read("model.weights.h5")) if zipfile.is_zipfile(path) else path
    out = {}
    with h5py.File(src, "r") as f:
        f.visititems(lambda n, o: out.__setitem__(n, np.asarray(o[()])) if isinstance(o, h5py.Dataset) else None)
    return out


def _check(path, weights):
    want = _h5py_datasets(path)
    with tfformats.load_keras_weights(path) as r:
        assert sorted(r) == sorted(want)
        got = {n: r.get_tensor(n) for n in r}
    for n, w in want.items():
        assert got[n].dtype == w.dtype and got[n].shape == w.shape, n
        np.testing.assert_array_equal(got[n], w)
    pool = list(got.values())
    for w in weights:
        match = next((i for i, g in enumerate(pool) if g.shape == w.shape and np.array_equal(g, w)), None)
        assert match is not None, f"a weight of shape {w.shape} is not in {path}"
        pool.pop(match)


def _data(rng):
    return rng.standard_normal((16, 8)).astype("float32"), rng.standard_normal((16, 2)).astype("float32")


def test_tf_keras_files(tmp_path):
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    k = pytest.importorskip("tf_keras")
    rng = np.random.default_rng(0)
    inp = k.Input((8,))
    x = k.layers.Dense(5, activation="relu")(inp)
    x = k.layers.Reshape((5, 1))(x)
    x = k.layers.Conv1D(3, 2)(x)
    x = k.layers.GRU(4)(x)
    x = k.layers.BatchNormalization()(x)
    out = k.layers.Dense(2)(x)
    model = k.Model(inp, out)
    model.compile(k.optimizers.Adam(1e-3), "mse")
    model.fit(*_data(rng), epochs=1, verbose=0)
    weights = model.get_weights()
    for name, save in [("m.h5", lambda p: model.save(p)), ("w.h5", model.save_weights),
                       ("m.keras", lambda p: model.save(p))]:
        p = str(tmp_path / name)
        save(p)
        _check(p, weights)
        if name == "m.h5":
            back = k.models.load_model(p)
            with tfformats.load_keras_weights(p) as r:
                values = [r[n] for n in r]
            for w in back.get_weights():
                assert any(v.shape == w.shape and np.array_equal(v, w) for v in values)


def test_keras3_files(tmp_path):
    keras = pytest.importorskip("keras")
    if not keras.__version__.startswith("3"):
        pytest.skip(f"Keras {keras.__version__} is not Keras 3")
    rng = np.random.default_rng(1)
    inner = keras.Sequential([keras.layers.Dense(6, activation="relu"), keras.layers.Dropout(0.1),
                              keras.layers.Dense(4)], name="inner")
    inp = keras.Input((8,))
    x = inner(inp)
    x = keras.layers.LayerNormalization()(x)
    x = keras.layers.Embedding(10, 3)(keras.ops.cast(keras.ops.abs(x[:, :2]) * 3, "int32"))
    x = keras.layers.Flatten()(x)
    out = keras.layers.Dense(2)(x)
    model = keras.Model(inp, out)
    model.compile(keras.optimizers.AdamW(1e-3), "mse")
    model.fit(*_data(rng), epochs=1, verbose=0)
    weights = model.get_weights()
    for name, save in [("m.keras", model.save), ("w.weights.h5", model.save_weights), ("legacy.h5", model.save)]:
        p = str(tmp_path / name)
        save(p)
        _check(p, weights)
    back = keras.models.load_model(str(tmp_path / "m.keras"))
    with tfformats.load_keras_weights(tmp_path / "m.keras") as r:
        layer_vars = [r[n] for n in r if n.startswith("layers/")]
    assert len(layer_vars) == len(back.weights)
    for w in back.get_weights():
        assert any(v.shape == w.shape and np.array_equal(v, w) for v in layer_vars)


def _keras3_models(keras):
    """Models of every kind Keras 3 builds variables under a different name scope for."""
    D = keras.layers.Dense
    inner = keras.Sequential([D(5, name="in_a"), D(5, name="in_b")], name="inner")
    shared = D(5, name="shared")
    inp = keras.Input((6, 4))
    x = keras.layers.Conv1D(4, 2, padding="same", name="conv")(inp)
    x = keras.layers.BatchNormalization(name="bn")(x)
    x = keras.layers.LSTM(4, return_sequences=True, name="lstm")(x)
    x = keras.layers.Bidirectional(keras.layers.GRU(3, return_sequences=True), name="bi")(x)
    x = keras.layers.MultiHeadAttention(2, 3, name="mha")(x, x)
    x = keras.layers.LayerNormalization(name="ln")(x)
    x = keras.layers.Flatten()(x)
    x = inner(x)
    x = shared(shared(x))
    yield "functional", keras.Model(inp, keras.layers.Dense(2, name="head")(x), name="outer")
    yield "sequential", keras.Sequential([keras.Input((2,)), D(3, name="d1")], name="seq")

    class Sub(keras.Model):
        def __init__(self):
            super().__init__(name="sub")
            self.blk = D(3, name="blk_0")
            self.inner = keras.Sequential([D(2, name="id")], name="iseq")

        def call(self, x):
            return self.inner(self.blk(x))

    m = Sub()
    m(np.ones((1, 2), np.float32))
    yield "subclassed", m
    e_in = keras.Input((2,))
    enc = keras.Model(e_in, D(3, name="e1")(e_in), name="enc")
    yield "sequential around functional", keras.Sequential([keras.Input((2,)), enc, D(1, name="o2")], name="oseq")
    nested = keras.Sequential([D(2, name="is1")], name="iseq2")
    yield "sequential in sequential", keras.Sequential([keras.Input((2,)), nested, D(1, name="o1")], name="oseq2")
    f_in = keras.Input((2,))
    enc2 = keras.Model(f_in, D(3, name="e2")(f_in), name="enc2")
    outer_in = keras.Input((2,))
    yield "functional in functional", keras.Model(outer_in, D(1, name="h")(enc2(outer_in)), name="outer2")


def test_keras3_layer_names_prefix_the_variable_paths(tmp_path):
    # Keras 3.6+ keeps each layer's given name in its 'vars' group; layer_of() joins them as Keras
    # names the variable's path (models: Sequential and subclassed lead with their name, Functional
    # ones do not): for every weight, matched to its dataset by value, the two agree
    keras = pytest.importorskip("keras")
    if tuple(int(x) for x in keras.__version__.split(".")[:2]) < (3, 6):
        pytest.skip(f"Keras {keras.__version__} records no layer names")
    keras.utils.set_random_seed(3)
    for kind, model in _keras3_models(keras):
        for v in model.weights:  # every weight distinct, so a value names its dataset
            v.assign(np.random.default_rng(abs(hash(v.path)) % 2**32).standard_normal(v.shape).astype(v.dtype))
        for fname, save in (("m.keras", model.save), ("w.weights.h5", model.save_weights)):
            p = str(tmp_path / fname)
            save(p)
            with tfformats.load_keras_weights(p) as r:
                datasets = {n: r[n] for n in r if not n.startswith("optimizer")}
                assert len(datasets) == len(model.weights), kind
                for v in model.weights:
                    value = np.asarray(v)
                    (name,) = [n for n, d in datasets.items() if d.shape == value.shape and np.array_equal(d, value)]
                    assert r.layer_of(name) == v.path.rpartition("/")[0], (kind, fname, name, v.path)


@pytest.mark.parametrize("links", [9, 45, 46, 400, 1500])
@pytest.mark.parametrize("how", ["non-ascii", "latest", "track_order", "long names"])
def test_dense_link_storage_reads_like_h5py(tmp_path, links, how):
    # groups whose links libhdf5 keeps in a fractal heap indexed by a version 2 B-tree: a leaf root
    # (up to 45 links of 11-byte records in 512-byte nodes), then one and two levels of internal nodes
    p = tmp_path / "dense.h5"
    kw = {"libver": "latest"} if how == "latest" else {"track_order": True} if how == "track_order" else {}
    with h5py.File(p, "w", **kw) as f:
        g = f.create_group("model_weights")
        for i in range(links):
            name = f"layer_{i:05d}"
            if how == "non-ascii" and i == 3:
                name = "dénse ñ"
            elif how == "long names":
                name += "_" + "x" * 300
            g.create_dataset(name, data=np.full((2,), i, np.float32) if i % 7 else np.arange(i % 5, dtype=np.int64))
    want = _h5py_datasets(p)
    with tfformats.load_keras_weights(p) as r:
        assert sorted(r) == sorted(want)
        for n, w in want.items():
            np.testing.assert_array_equal(r[n], w)


@pytest.mark.parametrize("count", [9, 60, 600])
def test_dense_root_attributes_read_like_h5py(tmp_path, count):
    # more than 8 attributes in a newer-format header: libhdf5 keeps them in a fractal heap
    from tfformats._io.hdf5 import read_root_attributes, string_value

    p = tmp_path / "attrs.h5"
    with h5py.File(p, "w", libver="latest") as f:
        for i in range(count):
            f.attrs[f"note_{i}"] = f"value {i} " + "é" * (i % 5)
        f.attrs["model_config"] = '{"class_name": "Sequential", "config": {"layers": []}}'
    attrs = read_root_attributes(str(p))
    with h5py.File(p, "r") as f:
        want = {k: (v.decode() if isinstance(v, bytes) else str(v)) for k, v in f.attrs.items()}
    assert sorted(attrs.attributes) == sorted(want) and not attrs.unsupported
    for k, v in want.items():
        assert string_value(str(p), attrs, k) == v


def test_weights_file_whose_layer_names_are_split(tmp_path, capsys):
    # found by a compatibility hunt: Keras 2 / tf_keras split the 'layer_names' attribute into
    # 'layer_names0', 'layer_names1'... past 64 KiB; info called such a weights file "other"
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    import tf_keras as k

    from tfformats.cli import main

    layers = [k.Input((2,))] + [k.layers.Dense(2, name=f"l{i:03d}_" + "n" * 240) for i in range(300)]
    model = k.Sequential(layers)
    p = str(tmp_path / "w.h5")
    model.save_weights(p)
    with h5py.File(p, "r") as f:
        assert "layer_names0" in f.attrs and "layer_names" not in f.attrs
    _check(p, model.get_weights())
    capsys.readouterr()
    assert main(["info", p, "--json"]) == 0
    import json

    assert json.loads(capsys.readouterr().out)["content"] == "weights"


def test_only_groups_named_vars_give_layer_names(tmp_path):
    p = tmp_path / "n.h5"
    with h5py.File(p, "w") as f:
        for group in ("layers/dense/vars", "layers/myvars"):
            g = f.create_group(group)
            g.attrs["name"] = "given"
            g.create_dataset("0", data=np.ones(2, np.float32))
    with tfformats.load_keras_weights(p) as r:
        assert r.layer_names() == {"layers/dense": "given"}
        assert r.layer_of("layers/dense/vars/0") == "given" and r.layer_of("layers/myvars/0") is None
