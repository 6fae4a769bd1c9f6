"""TensorBoard event files written by TensorFlow, and what TensorFlow reads back.

Writes into ``tests/data/events/``:

``tf2/``
    one ``tf.summary`` writer: scalars, a scalar with a description,
    histograms, images, text (scalar and 2x2), audio, a raw tensor without
    metadata, a tensor with a custom plugin, and a graph.
``tf1/``
    a ``tf.compat.v1.summary.FileWriter`` in graph mode: the graph, a
    meta graph, run metadata, session logs (START, CHECKPOINT, STOP) and
    merged summaries (``simple_value`` scalars, ``HistogramProto``
    histograms, ``Summary.Image``, ``Summary.Audio``, text).
``logdir/``
    two runs, ``train`` (two event files, as after a restart) and ``eval``.

``expected.json``: every event as ``tf.compat.v1.train.summary_iterator``
reads it, per file (paths relative to ``tests/data/events``), with tensors
as keys into ``expected.npz`` (``tf.make_ndarray``; strings stored as
``KEY.bytes`` + ``KEY.lengths``), and, for every summary value, TensorBoard's
own normalised form (``tensorboard.data_compat.migrate_value``: TF1 scalars,
histograms, images and audio turned into TF2 tensors).
``tbparse.json``: the numeric scalars ``tbparse.SummaryReader`` finds in each top folder
(its ``scalars`` and rank-0 ``tensors``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import tensorflow as tf

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(os.path.dirname(HERE), "data", "events")


def gen_tf2(logdir: str) -> None:
    rng = np.random.default_rng(5)
    w = tf.summary.create_file_writer(logdir)
    with w.as_default():
        for step in range(5):
            tf.summary.scalar("loss", 1.0 / (step + 1), step=step)
        tf.summary.scalar("accuracy", 0.75, step=4, description="share of right answers")
        for step in range(3):
            tf.summary.histogram("weights", rng.normal(size=200) + step, step=step, buckets=6)
        tf.summary.histogram("empty_hist", np.zeros([0]), step=0)
        imgs = (rng.random((2, 4, 3, 3)) * 255).astype(np.uint8)
        tf.summary.image("images", imgs, step=0, max_outputs=2)
        tf.summary.text("notes", "hello **world**", step=0)
        tf.summary.text("notes", tf.constant([["a", "b"], ["c", "dé"]]), step=1)
        audio = np.sin(np.linspace(0, 20, 100, dtype=np.float32)).reshape(1, 100, 1)
        tf.summary.audio("sound", audio, sample_rate=8000, step=0, encoding="wav")
        tf.summary.write("raw", tf.constant([[1, 2, 3], [4, 5, 6]], tf.int32), step=0)
        meta = tf.compat.v1.SummaryMetadata(
            plugin_data=tf.compat.v1.SummaryMetadata.PluginData(plugin_name="myplugin", content=b"xyz")
        )
        tf.summary.write("custom", tf.constant(3.5, tf.float64), step=1, metadata=meta)
        fn = tf.function(lambda x: tf.reduce_sum(x * 2.0)).get_concrete_function(tf.TensorSpec([2], tf.float32))
        tf.summary.graph(fn.graph)
    w.flush()
    w.close()


def gen_tf1(logdir: str) -> None:
    g = tf.Graph()
    with g.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [None, 3], name="x")
        y = tf.reduce_sum(x * 2.0, name="y")
        tf.compat.v1.summary.scalar("loss", y)
        tf.compat.v1.summary.histogram("activations", x)
        img = tf.reshape(tf.cast(tf.range(12), tf.float32) / 12.0, [1, 2, 2, 3])
        tf.compat.v1.summary.image("picture", img, max_outputs=1)
        tf.compat.v1.summary.audio("noise", tf.reshape(tf.sin(tf.range(50.0)), [1, 50]), sample_rate=4000)
        tf.compat.v1.summary.text("caption", tf.constant("tf1 text"))
        merged = tf.compat.v1.summary.merge_all()
        fw = tf.compat.v1.summary.FileWriter(logdir, graph=g)
        SL = tf.compat.v1.SessionLog
        fw.add_session_log(SL(status=SL.START), global_step=0)
        with tf.compat.v1.Session(graph=g) as sess:
            for step in range(3):
                feed = {x: np.arange(6, dtype=np.float32).reshape(2, 3) * (step + 1)}
                if step == 1:
                    rm = tf.compat.v1.RunMetadata()
                    opts = tf.compat.v1.RunOptions(trace_level=tf.compat.v1.RunOptions.FULL_TRACE)
                    s = sess.run(merged, feed, options=opts, run_metadata=rm)
                    fw.add_run_metadata(rm, "step1", global_step=step)
                else:
                    s = sess.run(merged, feed)
                fw.add_summary(s, step)
        fw.add_meta_graph(tf.compat.v1.train.export_meta_graph(graph=g), global_step=3)
        fw.add_session_log(SL(status=SL.CHECKPOINT, checkpoint_path="/tmp/model.ckpt-3", msg="saved"), 3)
        fw.add_session_log(SL(status=SL.STOP), 4)
        fw.close()


def gen_logdir(logdir: str) -> None:
    train = os.path.join(logdir, "train")
    for steps in (range(0, 3), range(3, 5)):  # two files, as after a restart
        w = tf.summary.create_file_writer(train)
        with w.as_default():
            for s in steps:
                tf.summary.scalar("loss", 2.0 - s * 0.25, step=s)
        w.close()
    w = tf.summary.create_file_writer(os.path.join(logdir, "eval"))
    with w.as_default():
        for s in (0, 2, 4):
            tf.summary.scalar("loss", 2.5 - s * 0.3, step=s)
            tf.summary.scalar("accuracy", 0.1 * s, step=s)
    w.close()


def put(npz: dict, key: str, arr) -> None:
    arr = np.array(arr, dtype=object) if isinstance(arr, bytes) else np.asarray(arr)
    if arr.dtype == object:
        flat = [bytes(v) for v in arr.reshape(-1)]
        npz[key + ".bytes"] = np.frombuffer(b"".join(flat), np.uint8)
        npz[key + ".lengths"] = np.array([len(v) for v in flat], np.int64).reshape(arr.shape)
    else:
        npz[key] = arr


def sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def describe_value(v, key: str, npz: dict) -> dict:
    d: dict = {"tag": v.tag, "kind": v.WhichOneof("value")}
    if v.HasField("metadata"):
        m = v.metadata
        d["metadata"] = {
            "plugin_name": m.plugin_data.plugin_name,
            "content_b64": base64.b64encode(m.plugin_data.content).decode(),
            "display_name": m.display_name,
            "description": m.summary_description,
            "data_class": int(m.data_class),
        }
    k = d["kind"]
    if k == "simple_value":
        d["simple_value"] = v.simple_value
    elif k == "histo":
        h = v.histo
        d["histo"] = {
            "min": h.min, "max": h.max, "num": h.num, "sum": h.sum, "sum_squares": h.sum_squares,
            "bucket_limit": list(h.bucket_limit), "bucket": list(h.bucket),
        }
    elif k == "image":
        im = v.image
        d["image"] = {"height": im.height, "width": im.width, "colorspace": im.colorspace, "sha256": sha(im.encoded_image_string)}
    elif k == "audio":
        a = v.audio
        d["audio"] = {
            "sample_rate": a.sample_rate, "num_channels": a.num_channels, "length_frames": a.length_frames,
            "content_type": a.content_type, "sha256": sha(a.encoded_audio_string),
        }
    elif k == "tensor":
        arr = tf.make_ndarray(v.tensor)
        d["tensor"] = {"dtype": tf.dtypes.as_dtype(v.tensor.dtype).name, "shape": list(arr.shape), "npz": key}
        put(npz, key, arr)
    # TensorBoard's own normalisation of the value (TF1 forms to TF2 tensors)
    from tensorboard import data_compat

    mig = data_compat.migrate_value(v)
    if mig.WhichOneof("value") == "tensor":
        arr = tf.make_ndarray(mig.tensor)
        d["tensorboard"] = {
            "plugin_name": mig.metadata.plugin_data.plugin_name,
            "dtype": tf.dtypes.as_dtype(mig.tensor.dtype).name,
            "shape": list(arr.shape),
            "npz": key + "@tb",
        }
        put(npz, key + "@tb", arr)
    return d


def describe_file(path: str, rel: str, npz: dict) -> list:
    events = []
    for i, ev in enumerate(tf.compat.v1.train.summary_iterator(path)):
        d: dict = {"wall_time": ev.wall_time, "step": ev.step, "what": ev.WhichOneof("what")}
        w = d["what"]
        if w == "file_version":
            d["file_version"] = ev.file_version
        elif w == "graph_def":
            d["graph_def"] = {"sha256": sha(ev.graph_def), "size": len(ev.graph_def)}
        elif w == "meta_graph_def":
            d["meta_graph_def"] = {"sha256": sha(ev.meta_graph_def), "size": len(ev.meta_graph_def)}
        elif w == "session_log":
            sl = ev.session_log
            d["session_log"] = {
                "status": tf.compat.v1.SessionLog.SessionStatus.Name(sl.status),
                "checkpoint_path": sl.checkpoint_path,
                "msg": sl.msg,
            }
        elif w == "tagged_run_metadata":
            d["tagged_run_metadata"] = {"tag": ev.tagged_run_metadata.tag, "sha256": sha(ev.tagged_run_metadata.run_metadata)}
        elif w == "summary":
            d["values"] = [describe_value(v, f"{rel}/{i}/{j}", npz) for j, v in enumerate(ev.summary.value)]
        if ev.HasField("source_metadata"):
            d["source_writer"] = ev.source_metadata.writer
        events.append(d)
    return events


def tbparse_scalars(logdir: str) -> list | None:
    try:
        from tbparse import SummaryReader
    except ImportError:
        return None
    # TF1 simple_value scalars are tbparse "scalars"; TF2 scalars (rank-0 tensors) are "tensors".
    reader = SummaryReader(logdir, extra_columns={"dir_name", "wall_time"}, event_types={"scalars", "tensors"})
    rows = []
    for kind, df in (("scalars", reader.scalars), ("tensors", reader.tensors)):
        for r in df.itertuples():
            value = np.asarray(r.value)
            if value.shape != () or value.dtype.kind not in "fiu":
                continue
            rows.append(
                {"kind": kind, "dir_name": r.dir_name, "tag": r.tag, "step": int(r.step), "value": float(value), "wall_time": float(r.wall_time)}
            )
    return rows


def main() -> None:
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    gen_tf2(os.path.join(OUT, "tf2"))
    gen_tf1(os.path.join(OUT, "tf1"))
    gen_logdir(os.path.join(OUT, "logdir"))
    npz: dict = {}
    files = {}
    for root, _, names in os.walk(OUT):
        for name in sorted(names):
            if "tfevents" not in name:
                continue
            path = os.path.join(root, name)
            rel = os.path.relpath(path, OUT).replace(os.sep, "/")
            files[rel] = describe_file(path, rel, npz)
    expected = {"tensorflow": tf.__version__, "files": dict(sorted(files.items()))}
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
    np.savez(os.path.join(OUT, "expected.npz"), **npz)
    tb = {top: tbparse_scalars(os.path.join(OUT, top)) for top in ("tf2", "tf1", "logdir")}
    with open(os.path.join(OUT, "tbparse.json"), "w") as f:
        json.dump(tb, f, indent=1, sort_keys=True)
    total = sum(os.path.getsize(os.path.join(r, n)) for r, _, ns in os.walk(OUT) for n in ns)
    print(f"wrote {len(files)} event files, {total / 1e6:.2f} MB in all, into {OUT}")


if __name__ == "__main__":
    main()
