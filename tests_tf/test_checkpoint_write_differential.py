"""Checkpoints written by tfformats, read and restored by TensorFlow."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tfformats
from tfformats import dtypes as _dt

tf = pytest.importorskip("tensorflow")
tf1 = tf.compat.v1

# dtypes TensorFlow's CheckpointReader hands back as numpy arrays
# (every numeric dtype tfformats writes; quantized ones come back as their base integer type)
NUMERIC = [
    "float16", "float32", "float64", "bfloat16", "float8_e5m2", "float8_e4m3fn",
    "float8_e4m3fnuz", "float8_e4m3b11fnuz", "float8_e5m2fnuz", "float4_e2m1fn",
    "int4", "uint4", "int2", "uint2",
    "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "bool", "complex64", "complex128", "qint8", "quint8", "qint16", "quint16", "qint32",
]
SUB_BYTE = {"int4": (-8, 8), "uint4": (0, 16), "int2": (-2, 2), "uint2": (0, 4)}

# what TensorFlow can read from a big-endian bundle on a little-endian machine
# (byte_swap_tensor.cc: float8 and 4-bit types are refused with "Byte-swapping not supported")
BIG_ENDIAN_OK = {
    "string", "qint8", "quint8", "bool", "uint8", "int8", "bfloat16", "float16", "qint16", "quint16",
    "uint16", "int16", "float32", "int32", "qint32", "uint32", "int64", "float64", "uint64",
    "complex64", "complex128",
}


def _array(dtype: str, shape, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    d = _dt.BY_NAME[dtype]
    n = int(np.prod(shape)) if shape else 1
    if dtype == "string":
        out = np.empty(n, object)
        out[:] = [rng.bytes(int(rng.integers(0, 300 if i % 5 else 3))) for i in range(n)]
        return out.reshape(shape)
    if dtype == "bool":
        return rng.integers(0, 2, n).astype(bool).reshape(shape)
    if dtype in SUB_BYTE:
        lo, hi = SUB_BYTE[dtype]
        return rng.integers(lo, hi, n).astype(d.numpy).reshape(shape)
    if dtype == "float4_e2m1fn":  # every 4-bit pattern (no NaN/inf in this type)
        return rng.integers(0, 16, n).astype(np.uint8).view(d.numpy).reshape(shape)
    if d.numpy.kind in "iu":
        return rng.integers(0, 256, n * d.itemsize, dtype=np.uint8).view(d.numpy).reshape(shape)
    # floats: finite values (NaN payloads are checked bit-exactly in the main suite)
    vals = rng.standard_normal(n) * 4
    if d.numpy.kind == "c":
        vals = vals + 1j * rng.standard_normal(n)
    return vals.astype(d.numpy).reshape(shape)


def _same(ours: np.ndarray, theirs, dtype: str) -> None:
    if dtype == "string":
        assert np.asarray(theirs, dtype=object).reshape(-1).tolist() == ours.reshape(-1).tolist()
        return
    theirs = np.asarray(theirs)
    if theirs.dtype.names:  # a quantized type as numpy's 1-field struct
        theirs = theirs.view(theirs.dtype[0])
    assert theirs.shape == ours.shape
    assert theirs.dtype == ours.dtype, (theirs.dtype, ours.dtype)
    assert theirs.tobytes() == ours.tobytes()


def _tf_tensor(value: np.ndarray, dtype: str):
    dt = tf.as_dtype(dtype)
    if dt.is_quantized:
        return tf.constant(value.view(dt.as_numpy_dtype), dt)
    return tf.constant(value, dtype=dt)


tensor_specs = st.lists(
    st.tuples(
        st.text("abcxyz_/.-0123456789", min_size=1, max_size=12).filter(lambda s: not s.startswith("\x00")),
        st.sampled_from(NUMERIC + ["string"]),
        st.lists(st.integers(0, 5), max_size=3),
        st.integers(0, 2**32 - 1),
    ),
    min_size=1,
    max_size=8,
    unique_by=lambda t: t[0],
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tensor_specs, st.integers(1, 3), st.sampled_from(["little", "big"]))
def test_random_tensors_read_by_tensorflow(tmp_path_factory, specs, num_shards, endianness):
    if endianness == "big":
        specs = [(n, d if d in BIG_ENDIAN_OK else "float32", s, seed) for n, d, s, seed in specs]
    tensors = {name: _array(dtype, tuple(shape), seed) for name, dtype, shape, seed in specs}
    dtypes = {name: dtype for name, dtype, _, _ in specs}
    prefix = str(tmp_path_factory.mktemp("rand") / "ckpt")
    tfformats.save_checkpoint(prefix, tensors, dtypes=dtypes, num_shards=num_shards, endianness=endianness)
    reader = tf.train.load_checkpoint(prefix)
    assert reader.get_variable_to_shape_map() == {n: list(v.shape) for n, v in tensors.items()}
    dtype_map = reader.get_variable_to_dtype_map()
    for name, value in tensors.items():
        assert dtype_map[name] == tf.as_dtype(dtypes[name]), name
        _same(value, reader.get_tensor(name), dtypes[name])


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tensor_specs)
def test_same_bytes_as_save_v2(tmp_path_factory, specs):
    """tf.raw_ops.SaveV2 with the names in sorted order writes exactly our files."""
    tensors = {name: _array(dtype, tuple(shape), seed) for name, dtype, shape, seed in specs}
    dtypes = {name: dtype for name, dtype, _, _ in specs}
    d = tmp_path_factory.mktemp("savev2")
    names = sorted(tensors)
    tf.raw_ops.SaveV2(
        prefix=str(d / "tf"), tensor_names=names, shape_and_slices=[""] * len(names),
        tensors=[_tf_tensor(tensors[n], dtypes[n]) for n in names],
    )
    tfformats.save_checkpoint(d / "ours", tensors, dtypes=dtypes)
    for suffix in (".index", ".data-00000-of-00001"):
        assert (d / f"ours{suffix}").read_bytes() == (d / f"tf{suffix}").read_bytes(), suffix


def test_big_endian_float8_is_refused_by_tensorflow(tmp_path):
    """Documents a TensorFlow limit: it cannot byte-swap 1-byte float8 tensors (tfformats reads them)."""
    x = np.array([1.0, 2.0], dtype=_dt.BY_NAME["float8_e4m3fn"].numpy)
    prefix = tfformats.save_checkpoint(tmp_path / "be", {"x": x}, endianness="big")
    with pytest.raises(Exception, match="Byte-swapping not supported"):
        tf.train.load_checkpoint(prefix).get_tensor("x")
    assert tfformats.load_checkpoint(prefix)["x"].tobytes() == x.tobytes()


def test_many_tensors_multi_block_index(tmp_path):
    rng = np.random.default_rng(3)
    tensors = {f"{rng.integers(1 << 40):x}/w{i}/" + "k" * (i % 40): np.float32(i) for i in range(8000)}
    prefix = tfformats.save_checkpoint(tmp_path / "many", tensors)
    reader = tf.train.load_checkpoint(prefix)
    assert len(reader.get_variable_to_shape_map()) == 8000
    for name in list(tensors)[::97]:
        assert reader.get_tensor(name) == tensors[name]


def test_quantized_and_max_shard_size(tmp_path):
    tensors = {"q": np.array([1, -2, 3], np.int8), "big": np.arange(1000, dtype=np.float32), "s": np.array([b"x"], object)}
    prefix = tfformats.save_checkpoint(tmp_path / "q", tensors, dtypes={"q": "qint8"}, max_shard_size=1000)
    reader = tf.train.load_checkpoint(prefix)
    assert reader.get_variable_to_dtype_map()["q"] == tf.qint8
    assert np.array_equal(reader.get_tensor("big"), tensors["big"])
    # name order: big (4000 bytes) fills shard 0, q and s share shard 1
    assert sorted(f for f in os.listdir(tmp_path) if ".data-" in f) == ["q.data-00000-of-00002", "q.data-00001-of-00002"]


def test_tf1_saver_restores_graph_variables_including_partitioned(tmp_path):
    rng = np.random.default_rng(5)
    w = rng.standard_normal((7, 3)).astype(np.float32)
    b = rng.standard_normal(3)
    emb = rng.standard_normal((10, 4)).astype(np.float32)
    words = np.array([b"a", b"bb", b""], object)
    # our partitioning (2 parts, 2 shards) differs from the graph's (3 parts): TF reassembles
    prefix = tfformats.save_checkpoint(
        tmp_path / "model.ckpt-9",
        {"scope/w": w, "b": b, "emb": emb, "words": words, "global_step": np.int64(9)},
        partitions={"emb": 2}, num_shards=2,
    )
    g = tf.Graph()
    with g.as_default():
        with tf1.variable_scope("scope"):
            vw = tf1.get_variable("w", shape=(7, 3), dtype=tf.float32)
        vb = tf1.get_variable("b", shape=(3,), dtype=tf.float64)
        ve = tf1.get_variable("emb", shape=(10, 4), dtype=tf.float32, partitioner=tf1.fixed_size_partitioner(3))
        vs = tf1.get_variable("words", shape=(3,), dtype=tf.string, initializer=tf1.constant_initializer(""))
        gs = tf1.train.get_or_create_global_step()
        saver = tf1.train.Saver()
        with tf1.Session() as sess:
            saver.restore(sess, prefix)
            got_w, got_b, got_e, got_s, step = sess.run([vw, vb, tf.concat(list(ve), 0), vs, gs])
    assert np.array_equal(got_w, w) and np.array_equal(got_b, b) and np.array_equal(got_e, emb)
    assert got_s.tolist() == words.tolist() and step == 9


def test_tf1_partitioned_same_partitioning_as_saver(tmp_path):
    """A Saver checkpoint of a partitioned variable and ours have the same index entries (offsets aside)."""
    emb = np.arange(40, dtype=np.float32).reshape(10, 4)
    g = tf.Graph()
    with g.as_default():
        ve = tf1.get_variable("emb", shape=(10, 4), partitioner=tf1.fixed_size_partitioner(3))
        saver = tf1.train.Saver()
        with tf1.Session() as sess:
            row = 0
            for part in ve:
                n = part.shape[0]
                sess.run(part.assign(emb[row : row + n]))
                row += n
            tf_prefix = saver.save(sess, str(tmp_path / "tf"), write_meta_graph=False)
    ours = tfformats.save_checkpoint(tmp_path / "ours", {"emb": emb}, partitions={"emb": 3})
    from tfformats._io.table import Table
    from tfformats.proto import pb

    def entries(prefix):
        out = {}
        with Table(prefix + ".index") as t:
            for k, v in t.items():
                if k:
                    e = pb.BundleEntryProto.FromString(v)
                    e.ClearField("offset")
                    out[k] = e
        return out

    assert entries(ours) == entries(tf_prefix)
    assert np.array_equal(tf.train.load_variable(ours, "emb"), emb)


def _dense_tree(k0, b0, k1, b1, aliases: bool):
    l0 = {"kernel": k0, "bias": b0}
    l1 = {"kernel": k1, "bias": b1}
    model = {"layer_with_weights-0": l0, "layer_with_weights-1": l1}
    if aliases:
        model.update({"layer-0": l0, "layer-1": l1})
    return model


@pytest.mark.parametrize("aliases", [False, True])
def test_tf2_checkpoint_restores_into_tf_keras_model(tmp_path, aliases):
    tf_keras = pytest.importorskip("tf_keras")
    rng = np.random.default_rng(11)
    k0, b0 = rng.standard_normal((4, 3)).astype(np.float32), rng.standard_normal(3).astype(np.float32)
    k1, b1 = rng.standard_normal((3, 2)).astype(np.float32), rng.standard_normal(2).astype(np.float32)
    prefix = tfformats.save_object_checkpoint(
        tmp_path / "ckpt-7", {"model": _dense_tree(k0, b0, k1, b1, aliases)}, save_counter=7
    )
    model = tf_keras.Sequential([tf_keras.layers.Dense(3, input_shape=(4,)), tf_keras.layers.Dense(2)])
    ckpt = tf.train.Checkpoint(model=model)
    status = ckpt.restore(prefix)
    status.assert_consumed()
    status.assert_existing_objects_matched()
    assert np.array_equal(model.layers[0].kernel.numpy(), k0)
    assert np.array_equal(model.layers[0].bias.numpy(), b0)
    assert np.array_equal(model.layers[1].kernel.numpy(), k1)
    assert np.array_equal(model.layers[1].bias.numpy(), b1)
    assert int(ckpt.save_counter.numpy()) == 7
    x = rng.standard_normal((5, 4)).astype(np.float32)
    np.testing.assert_allclose(model(x).numpy(), (x @ k0 + b0) @ k1 + b1, rtol=1e-5, atol=1e-5)


def test_tf2_checkpoint_loads_with_keras_load_weights(tmp_path):
    tf_keras = pytest.importorskip("tf_keras")
    rng = np.random.default_rng(12)
    k0, b0 = rng.standard_normal((4, 3)).astype(np.float32), rng.standard_normal(3).astype(np.float32)
    k1, b1 = rng.standard_normal((3, 2)).astype(np.float32), rng.standard_normal(2).astype(np.float32)
    prefix = tfformats.save_object_checkpoint(tmp_path / "weights", _dense_tree(k0, b0, k1, b1, True))
    model = tf_keras.Sequential([tf_keras.layers.Dense(3, input_shape=(4,)), tf_keras.layers.Dense(2)])
    model.load_weights(prefix).assert_consumed()
    assert np.array_equal(model.layers[1].kernel.numpy(), k1)


def test_tf2_checkpoint_restores_into_keras3_model(tmp_path):
    """Keras 3 tracks a Sequential's layers under model/_functional/_operations/N."""
    keras = pytest.importorskip("keras")
    if not keras.__version__.startswith("3"):
        pytest.skip("needs Keras 3")
    k = np.arange(6, dtype=np.float32).reshape(2, 3)
    b = np.array([0.5, -1, 2], np.float32)
    tree = {"model": {"_functional": {"_operations": {"1": {"_kernel": k, "bias": b}}}}}
    prefix = tfformats.save_object_checkpoint(tmp_path / "k3", tree, save_counter=1)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)])
    status = tf.train.Checkpoint(model=model).restore(prefix)
    status.assert_consumed()
    status.assert_existing_objects_matched()
    assert np.array_equal(model.layers[0].kernel.numpy(), k) and np.array_equal(model.layers[0].bias.numpy(), b)


def test_tf2_checkpoint_restores_plain_variables_and_modules(tmp_path):
    """A tf.Module tree with nested modules and a string variable."""
    m = tf.Module()
    m.sub = tf.Module()
    m.sub.w = tf.Variable(tf.zeros((2, 2)))
    m.v = tf.Variable(tf.zeros((), tf.int32))
    m.name_var = tf.Variable("")
    w = np.array([[1, 2], [3, 4]], np.float32)
    prefix = tfformats.save_object_checkpoint(
        tmp_path / "mod", {"m": {"sub": {"w": w}, "v": np.int32(5), "name_var": b"hello"}}, save_counter=1
    )
    status = tf.train.Checkpoint(m=m).restore(prefix)
    status.assert_consumed()
    assert np.array_equal(m.sub.w.numpy(), w) and int(m.v.numpy()) == 5 and m.name_var.numpy() == b"hello"


def test_tensorflow_reads_our_state_file(tmp_path):
    d = tmp_path / "train"
    for i in range(1, 5):
        p = tfformats.save_object_checkpoint(d / f"ckpt-{i}", {"x": np.float32(i)}, save_counter=i)
        tfformats.update_checkpoint_state(d, p, max_to_keep=2, delete_old=True)
    assert tf.train.latest_checkpoint(str(d)) == str(d / "ckpt-4")
    state = tf.train.get_checkpoint_state(str(d))
    assert list(state.all_model_checkpoint_paths) == [str(d / "ckpt-3"), str(d / "ckpt-4")]
    # a CheckpointManager opened on the directory picks the history up
    x = tf.Variable(0.0)
    ckpt = tf.train.Checkpoint(x=x)
    manager = tf.train.CheckpointManager(ckpt, str(d), max_to_keep=2)
    assert manager.checkpoints == [str(d / "ckpt-3"), str(d / "ckpt-4")]
    ckpt.restore(manager.latest_checkpoint).assert_consumed()
    assert float(x.numpy()) == 4.0


def test_max_to_keep_deletes_the_files_tf1_saver_deletes(tmp_path):
    """Saver(max_to_keep=2) over 4 saves, and the same 4 saves by tfformats: the same files remain."""
    tf_dir, our_dir = tmp_path / "tf", tmp_path / "ours"
    g = tf.Graph()
    with g.as_default():
        v = tf1.get_variable("v", shape=(3,), dtype=tf.float32)
        saver = tf1.train.Saver(max_to_keep=2)
        with tf1.Session() as sess:
            for step in range(1, 5):
                sess.run(v.assign(np.full(3, step, np.float32)))
                saver.save(sess, str(tf_dir / "model.ckpt"), global_step=step)  # writes .meta files too
    for step in range(1, 5):
        p = tfformats.save_checkpoint(our_dir / f"model.ckpt-{step}", {"v": np.full(3, step, np.float32)})
        (our_dir / f"model.ckpt-{step}.meta").write_bytes((tf_dir / "model.ckpt-4.meta").read_bytes())
        tfformats.update_checkpoint_state(our_dir, p, max_to_keep=2)
    assert sorted(os.listdir(our_dir)) == sorted(os.listdir(tf_dir))
    ours, theirs = tf.train.get_checkpoint_state(str(our_dir)), tf.train.get_checkpoint_state(str(tf_dir))
    assert [os.path.basename(p) for p in ours.all_model_checkpoint_paths] == [
        os.path.basename(p) for p in theirs.all_model_checkpoint_paths
    ] == ["model.ckpt-3", "model.ckpt-4"]
    with tf.Graph().as_default():
        v = tf1.get_variable("v", shape=(3,), dtype=tf.float32)
        with tf1.Session() as sess:
            tf1.train.Saver().restore(sess, tf.train.latest_checkpoint(str(our_dir)))
            assert sess.run(v).tolist() == [4.0, 4.0, 4.0]
