"""Checkpoints for the remote-storage tests (tests/test_remote_checkpoint.py).

Writes, with real TensorFlow, into tests/data/remote/:

* ``tf1/`` -- a graph-mode ``tf.compat.v1.train.Saver`` checkpoint (``model.ckpt-10``) holding a
  partitioned embedding (3 slices), float32/int64/bfloat16/string variables and one larger
  kernel, so a single-tensor read is much smaller than the data shard.  The Saver writes
  absolute paths into its ``checkpoint`` state file; the generator writes into a temporary
  directory first, so those paths name a directory that no longer exists (as when a training
  directory is copied to a bucket).
* ``tf2/`` -- a ``tf.train.Checkpoint`` saved by a ``CheckpointManager`` (relative paths in the
  state file) with ``MaxShardSizePolicy``, so the data is split over several shards.

and, for each, ``expected.npz`` (numeric tensors as TF reads them back with
``tf.train.load_checkpoint``) and ``expected.json`` (variable list with dtypes and shapes,
string tensors, data file sizes).

``examples/{plain,gzip,zlib}/`` -- sharded ``tf.train.Example`` TFRecord datasets (uncompressed,
GZIP, ZLIB) written by ``tf.io.TFRecordWriter``, with ``<layout>.json`` (per file: record count
and the SHA-256 of the records as ``tf.data.TFRecordDataset`` reads them, each prefixed by its
length as u64le) and ``<layout>.npz``
(``tf.io.parse_example`` columns; VarLen features as values + row lengths).  ``score`` is in
a third of the records only.

``events/run1/`` -- one TF2 event file (scalars, text) with the scalars
``summary_iterator`` reads in ``events/expected.json``.
"""

import json
import os
import shutil
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np
import tensorflow as tf

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "data", "remote")


def dump_expected(prefix: str, out_dir: str) -> None:
    reader = tf.train.load_checkpoint(prefix)
    dtypes = reader.get_variable_to_dtype_map()
    variables = []
    arrays = {}
    strings = {}
    for name, shape in tf.train.list_variables(prefix):
        dt = dtypes[name]
        variables.append([name, list(shape), dt.name])
        value = reader.get_tensor(name)
        if dt == tf.string:
            strings[name] = [v.hex() for v in np.asarray(value, dtype=object).reshape(-1)]
        else:
            arr = np.asarray(value)
            if dt == tf.bfloat16:  # npz cannot hold bfloat16: store the raw 16-bit patterns
                arr = arr.view(np.uint16)
            arrays[name] = arr
    np.savez(os.path.join(out_dir, "expected.npz"), **arrays)
    files = {
        f: os.path.getsize(os.path.join(out_dir, f))
        for f in sorted(os.listdir(out_dir))
        if ".data-" in f or f.endswith(".index")
    }
    with open(os.path.join(out_dir, "expected.json"), "w") as f:
        json.dump(
            {
                "tensorflow_version": tf.__version__,
                "prefix": os.path.basename(prefix),
                "variables": variables,
                "strings_hex": strings,
                "files": files,
            },
            f,
            indent=1,
        )


def gen_tf1(tmp: str) -> None:
    out = os.path.join(OUT, "tf1")
    g = tf.Graph()
    with g.as_default():
        tf.compat.v1.set_random_seed(1)
        v1 = tf.compat.v1
        step = v1.train.get_or_create_global_step()
        v1.get_variable(
            "emb",
            shape=[300, 64],
            dtype=tf.float32,
            initializer=v1.random_normal_initializer(seed=2),
            partitioner=v1.fixed_size_partitioner(3),
        )
        v1.get_variable("dense/kernel", shape=[64, 64], initializer=v1.glorot_uniform_initializer(seed=3))
        v1.get_variable("dense/bias", shape=[64], initializer=v1.constant_initializer(0.25))
        v1.get_variable("big/kernel", shape=[256, 256], initializer=v1.random_uniform_initializer(seed=4))
        v1.get_variable("counts", initializer=tf.constant(np.arange(10, dtype=np.int64) * 1_000_000_007))
        v1.get_variable(
            "half", initializer=tf.cast(tf.constant(np.linspace(-2, 2, 64).reshape(8, 8), tf.float32), tf.bfloat16)
        )
        v1.Variable(tf.constant([b"alpha", b"", b"\xff\x00bytes", b"gamma" * 40, b"z"]), name="words")
        assign = step.assign(10)
        saver = v1.train.Saver()
        with v1.Session(graph=g) as sess:
            sess.run(v1.global_variables_initializer())
            sess.run(assign)
            prefix = saver.save(sess, os.path.join(tmp, "tf1", "model.ckpt"), global_step=step)
    shutil.copytree(os.path.join(tmp, "tf1"), out, ignore=shutil.ignore_patterns("*.meta"))
    dump_expected(os.path.join(out, os.path.basename(prefix)), out)


def gen_tf2() -> None:
    out = os.path.join(OUT, "tf2")
    tf.random.set_seed(5)
    root = tf.train.Checkpoint(
        a=tf.Variable(tf.random.normal([200, 100], seed=6)),
        b=tf.Variable(tf.random.uniform([100, 100], seed=7)),
        c=tf.Variable(tf.range(50, dtype=tf.int32)),
        s=tf.Variable(tf.constant(["one", "two", "three"])),
    )
    options = tf.train.CheckpointOptions(
        experimental_sharding_callback=tf.train.experimental.MaxShardSizePolicy(max_shard_size=50_000)
    )
    manager = tf.train.CheckpointManager(root, out, max_to_keep=1)
    prefix = manager.save(checkpoint_number=3, options=options)
    dump_expected(prefix, out)


FEATURES = {
    "label": tf.io.FixedLenFeature([], tf.int64),
    "dense": tf.io.FixedLenFeature([4], tf.float32),
    "id": tf.io.FixedLenFeature([], tf.string),
    "tokens": tf.io.VarLenFeature(tf.int64),
    "weights": tf.io.VarLenFeature(tf.float32),
    "score": tf.io.VarLenFeature(tf.float32),
}


def make_example(rng, shard: int, i: int) -> bytes:
    def ints(v):
        return tf.train.Feature(int64_list=tf.train.Int64List(value=v))

    def floats(v):
        return tf.train.Feature(float_list=tf.train.FloatList(value=v))

    def strs(v):
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=v))

    feature = {
        "label": ints([int(rng.integers(-(2**40), 2**40))]),
        "dense": floats(rng.standard_normal(4).astype(np.float32).tolist()),
        "id": strs([f"s{shard}-r{i}".encode() + bytes(rng.integers(0, 256, int(rng.integers(0, 4)), dtype=np.uint8))]),
        "tokens": ints(rng.integers(0, 50_000, int(rng.integers(0, 12))).tolist()),
        "weights": floats(rng.random(int(rng.integers(0, 3))).astype(np.float32).tolist()),
    }
    if i % 3 == 0:  # present in a third of the records only
        feature["score"] = floats([float(np.float32(rng.random()))])
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def dump_examples(paths, out_json: str, out_npz: str, compression: str) -> None:
    """What TensorFlow reads back: record hashes per file, parsed feature columns."""
    import hashlib

    files = {}
    arrays = {}
    for path in paths:
        name = os.path.basename(path)
        raw = [r.numpy() for r in tf.data.TFRecordDataset(path, compression_type=compression)]
        digest = hashlib.sha256()
        for r in raw:  # every record, length-prefixed
            digest.update(len(r).to_bytes(8, "little") + r)
        files[name] = {"records": len(raw), "sha256": digest.hexdigest()}
        parsed = tf.io.parse_example(tf.constant(raw), FEATURES)
        arrays[f"{name}/label"] = parsed["label"].numpy()
        arrays[f"{name}/dense"] = parsed["dense"].numpy()
        files[name]["id_hex"] = [v.hex() for v in parsed["id"].numpy()]
        for k in ("tokens", "weights", "score"):
            sp = parsed[k]
            arrays[f"{name}/{k}/values"] = sp.values.numpy()
            arrays[f"{name}/{k}/row_lengths"] = np.bincount(sp.indices.numpy()[:, 0], minlength=len(raw)).astype(np.int64)
    np.savez(out_npz, **arrays)
    with open(out_json, "w") as f:
        json.dump({"tensorflow_version": tf.__version__, "compression": compression, "files": files}, f, indent=1)


def gen_records() -> None:
    """Sharded tf.train.Example datasets written by tf.io.TFRecordWriter."""
    out = os.path.join(OUT, "examples")
    rng = np.random.default_rng(11)
    layouts = [("plain", "", "train-{:05d}-of-00004.tfrecord", 4, 400),
               ("gzip", "GZIP", "train-{:05d}-of-00002.tfrecord.gz", 2, 300),
               ("zlib", "ZLIB", "train-{:05d}-of-00001.tfrecord.zz", 1, 300)]
    for sub, comp, pattern, shards, n in layouts:
        os.makedirs(os.path.join(out, sub))
        paths = []
        for shard in range(shards):
            path = os.path.join(out, sub, pattern.format(shard))
            with tf.io.TFRecordWriter(path, options=tf.io.TFRecordOptions(compression_type=comp)) as w:
                for i in range(n):
                    w.write(make_example(rng, shard, i))
            paths.append(path)
        dump_examples(paths, os.path.join(out, f"{sub}.json"), os.path.join(out, f"{sub}.npz"), comp)


def gen_events() -> None:
    """One TF2 event file with scalars and text, and the events TF reads back."""
    out = os.path.join(OUT, "events", "run1")
    writer = tf.summary.create_file_writer(out)
    with writer.as_default():
        for step in range(200):
            tf.summary.scalar("loss", 1.0 / (step + 1), step=step)
            tf.summary.scalar("lr", 0.001 * 0.99**step, step=step)
            if step % 50 == 0:
                tf.summary.text("note", f"step {step}", step=step)
    writer.close()
    (path,) = [os.path.join(out, f) for f in os.listdir(out)]
    scalars = []
    records = 0
    for ev in tf.compat.v1.train.summary_iterator(path):
        records += 1
        for v in ev.summary.value:
            if v.metadata.plugin_data.plugin_name == "scalars":
                scalars.append([v.tag, ev.step, float(tf.make_ndarray(v.tensor))])
    with open(os.path.join(OUT, "events", "expected.json"), "w") as f:
        json.dump({"tensorflow_version": tf.__version__, "file": os.path.relpath(path, OUT),
                   "records": records, "scalars": scalars}, f, indent=1)


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    with tempfile.TemporaryDirectory() as tmp:
        gen_tf1(tmp)
    gen_tf2()
    gen_records()
    gen_events()
    for d in sorted(os.listdir(OUT)):
        print(d, sorted(os.listdir(os.path.join(OUT, d))))


if __name__ == "__main__":
    main()
