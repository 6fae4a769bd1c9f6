"""Event files from writers other than ``tf.summary``, and what TensorBoard reads from them.

Writes into ``tests/data/event_writers/``:

``pytorch/``
    laid out the way ``torch.utils.tensorboard.SummaryWriter`` writes them.
    torch is not needed: its ``FileWriter`` is a thin wrapper around
    TensorBoard's own ``tensorboard.summary.writer.event_file_writer.EventFileWriter``,
    which is used here, and the ``Summary`` protos are built the way
    ``torch/utils/tensorboard/summary.py`` builds them: TF1 ``simple_value``
    scalars (the default), ``new_style`` scalars (a ``float_val`` or
    ``double_val`` tensor *without* a shape), ``HistogramProto`` histograms
    with a leading empty bucket (``make_histogram``, default "tensorflow"
    bins and numpy bins) and ``histogram_raw``, ``Summary.Image`` PNGs,
    ``Summary.Audio`` WAVs, text (``tag/text_summary``, a ``[1]`` string
    tensor), PR curves, the custom-scalars layout, ``add_tensor`` (plugin
    ``tensor``), a graph event followed by ``step1`` run metadata, a restart
    with ``purge_step`` (a second ``file_version`` event and a
    ``SessionLog.START``), ``add_scalars`` (one sub-run per series) and
    ``add_hparams`` (a sub-run with metadata-only values).
``tensorboardx/``
    laid out the way older ``tensorboardX`` releases write them: the file
    name ``events.out.tfevents.<10-digit time>.<host>``, a first event with
    only a wall time (no ``file_version``), then ``simple_value`` scalars,
    histograms and text.
``keras3/`` and ``tf_keras/``
    the Keras ``TensorBoard`` callback of Keras 3 and of tf_keras (Keras 2):
    ``train/`` and ``validation/`` runs with batch and epoch metrics, weight
    histograms and images, the Keras model config, the graph (tf_keras), and
    a profiled batch (its trace summary; ``plugins/profile`` folders hold no
    event files).
``tf1_extra/``
    TF1 ``FileWriter`` odds: ``tf.compat.v1.summary.tensor_summary``, a meta
    graph without a graph event, and a ``Summary`` added by hand with
    several values of different kinds in one event.

``tf2_extra/``
    ``tf.summary`` odds: TensorBoard's hparams API (a config and a trial,
    placeholder tensors), a step past 2^32, histograms of equal values and of
    a scalar, two audio clips, a 1-D text tensor, and a TF1 ``Summary``
    written with ``write_raw_pb``.

``expected.json`` / ``expected.npz``: TensorBoard's own reading of every run
(``plugin_event_accumulator.EventAccumulator`` with nothing sampled away and
no purging): for every tag its plugin and every event's step, wall time and
tensor (after TensorBoard's ``data_compat``/``dataclass_compat`` migrations,
so TF1 values are in their TF2 form), and the graph and run-metadata tags.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import sys
import time
import wave

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(os.path.dirname(HERE), "data", "event_writers")
T0 = 1_700_000_000.0  # wall times given explicitly, as SummaryWriter(walltime=...) allows


# ---------------------------------------------------------------------------------------------
# torch.utils.tensorboard, reproduced on TensorBoard's EventFileWriter


class TorchLikeWriter:
    """What ``torch.utils.tensorboard.SummaryWriter`` puts in its files, method by method."""

    def __init__(self, log_dir: str, purge_step=None) -> None:
        from tensorboard.compat.proto.event_pb2 import Event, SessionLog
        from tensorboard.summary.writer.event_file_writer import EventFileWriter

        self.log_dir = log_dir
        self._writers = {log_dir: EventFileWriter(log_dir, 10, 120, "")}
        if purge_step is not None:  # SummaryWriter(purge_step=...): written first, at that step
            self._event(Event(step=purge_step, file_version="brain.Event:2"), None, None)
            self._event(Event(step=purge_step, session_log=SessionLog(status=SessionLog.START)), None, None)
        # SummaryWriter.default_bins: +-1e-12 * 1.1^k up to 1e20, and 0
        v, pos = 1e-12, []
        while v < 1e20:
            pos.append(v)
            v *= 1.1
        self.default_bins = [-b for b in reversed(pos)] + [0] + pos

    # FileWriter.add_event / add_summary
    def _event(self, event, step, walltime, log_dir=None):
        event.wall_time = time.time() if walltime is None else walltime
        if step is not None:
            event.step = int(step)
        self._writers[log_dir or self.log_dir].add_event(event)

    def _summary(self, summary, step, walltime, log_dir=None):
        from tensorboard.compat.proto.event_pb2 import Event

        self._event(Event(summary=summary), step, walltime, log_dir)

    def add_scalar(self, tag, value, step=None, walltime=None, new_style=False, double_precision=False):
        from tensorboard.compat.proto.summary_pb2 import Summary, SummaryMetadata
        from tensorboard.compat.proto.tensor_pb2 import TensorProto

        value = float(value)
        if new_style:  # no tensor_shape at all: an unset shape is a scalar
            t = TensorProto(double_val=[value], dtype="DT_DOUBLE") if double_precision else TensorProto(
                float_val=[value], dtype="DT_FLOAT"
            )
            md = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="scalars"))
            s = Summary(value=[Summary.Value(tag=tag, tensor=t, metadata=md)])
        else:
            s = Summary(value=[Summary.Value(tag=tag, simple_value=value)])
        self._summary(s, step, walltime)

    def add_scalars(self, main_tag, values: dict, step=None, walltime=None):
        from tensorboard.compat.proto.summary_pb2 import Summary
        from tensorboard.summary.writer.event_file_writer import EventFileWriter

        for tag, value in values.items():
            sub = self.log_dir + "/" + main_tag.replace("/", "_") + "_" + tag
            if sub not in self._writers:
                self._writers[sub] = EventFileWriter(sub, 10, 120, "")
            self._summary(Summary(value=[Summary.Value(tag=main_tag, simple_value=float(value))]), step, walltime, sub)

    @staticmethod
    def _make_histogram(values, bins):
        from tensorboard.compat.proto.summary_pb2 import HistogramProto

        values = np.asarray(values, float).reshape(-1)
        counts, limits = np.histogram(values, bins=bins)
        nonzero = np.flatnonzero(counts > 0)
        first, last = int(nonzero[0]), int(nonzero[-1]) + 1
        # only right edges are stored: a leading empty bucket carries the left edge
        counts = np.concatenate([[0], counts[:last]]) if first == 0 else counts[first - 1 : last]
        limits = limits[first : last + 1]
        return HistogramProto(
            min=values.min(), max=values.max(), num=len(values), sum=values.sum(),
            sum_squares=values.dot(values), bucket_limit=limits.tolist(), bucket=counts.tolist(),
        )

    def add_histogram(self, tag, values, step=None, bins="tensorflow", walltime=None):
        from tensorboard.compat.proto.summary_pb2 import Summary

        if isinstance(bins, str) and bins == "tensorflow":
            bins = self.default_bins
        h = self._make_histogram(values, bins)
        self._summary(Summary(value=[Summary.Value(tag=tag, histo=h)]), step, walltime)

    def add_histogram_raw(self, tag, min, max, num, sum, sum_squares, bucket_limits, bucket_counts, step=None, walltime=None):
        from tensorboard.compat.proto.summary_pb2 import HistogramProto, Summary

        h = HistogramProto(min=min, max=max, num=num, sum=sum, sum_squares=sum_squares,
                           bucket_limit=bucket_limits, bucket=bucket_counts)
        self._summary(Summary(value=[Summary.Value(tag=tag, histo=h)]), step, walltime)

    def add_image(self, tag, hwc_uint8, step=None, walltime=None):
        import tensorflow as tf
        from tensorboard.compat.proto.summary_pb2 import Summary

        height, width, channels = hwc_uint8.shape
        png = tf.io.encode_png(hwc_uint8).numpy()  # torch uses PIL; any PNG has this layout
        im = Summary.Image(height=height, width=width, colorspace=channels, encoded_image_string=png)
        self._summary(Summary(value=[Summary.Value(tag=tag, image=im)]), step, walltime)

    def add_audio(self, tag, samples, step=None, sample_rate=44100, walltime=None):
        from tensorboard.compat.proto.summary_pb2 import Summary

        pcm = (np.clip(samples, -1, 1) * np.iinfo(np.int16).max).astype("<i2")
        f = io.BytesIO()
        with wave.open(f, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(sample_rate)
            w.writeframes(pcm.tobytes())
        a = Summary.Audio(sample_rate=sample_rate, num_channels=1, length_frames=pcm.shape[-1],
                          encoded_audio_string=f.getvalue(), content_type="audio/wav")
        self._summary(Summary(value=[Summary.Value(tag=tag, audio=a)]), step, walltime)

    def add_text(self, tag, text, step=None, walltime=None):
        from tensorboard.compat.proto.summary_pb2 import Summary, SummaryMetadata
        from tensorboard.compat.proto.tensor_pb2 import TensorProto
        from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
        from tensorboard.plugins.text.plugin_data_pb2 import TextPluginData

        md = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(
            plugin_name="text", content=TextPluginData(version=0).SerializeToString()))
        t = TensorProto(dtype="DT_STRING", string_val=[text.encode("utf_8")],
                        tensor_shape=TensorShapeProto(dim=[TensorShapeProto.Dim(size=1)]))
        self._summary(Summary(value=[Summary.Value(tag=tag + "/text_summary", metadata=md, tensor=t)]), step, walltime)

    def add_tensor(self, tag, array, step=None, walltime=None):
        from tensorboard.compat.proto.summary_pb2 import Summary, SummaryMetadata
        from tensorboard.compat.proto.tensor_pb2 import TensorProto
        from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto

        field, dtype = {np.dtype(np.float32): ("float_val", "DT_FLOAT"), np.dtype(np.int64): ("int64_val", "DT_INT64"),
                        np.dtype(np.int32): ("int_val", "DT_INT32"), np.dtype(np.float64): ("double_val", "DT_DOUBLE"),
                        np.dtype(bool): ("bool_val", "DT_BOOL")}[array.dtype]
        t = TensorProto(dtype=dtype, tensor_shape=TensorShapeProto(dim=[TensorShapeProto.Dim(size=s) for s in array.shape]),
                        **{field: array.reshape(-1).tolist()})
        md = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="tensor"))
        self._summary(Summary(value=[Summary.Value(tag=tag, metadata=md, tensor=t)]), step, walltime)

    def add_pr_curve(self, tag, labels, predictions, step=None, num_thresholds=127, walltime=None):
        from tensorboard.compat.proto.summary_pb2 import Summary, SummaryMetadata
        from tensorboard.compat.proto.tensor_pb2 import TensorProto
        from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
        from tensorboard.plugins.pr_curve.plugin_data_pb2 import PrCurvePluginData

        num_thresholds = min(num_thresholds, 127)
        idx = np.int32(np.floor(predictions * (num_thresholds - 1)))
        lab = labels.astype(np.float64)
        tp_b, _ = np.histogram(idx, bins=num_thresholds, range=(0, num_thresholds - 1), weights=lab)
        fp_b, _ = np.histogram(idx, bins=num_thresholds, range=(0, num_thresholds - 1), weights=1.0 - lab)
        tp = np.cumsum(tp_b[::-1])[::-1]
        fp = np.cumsum(fp_b[::-1])[::-1]
        tn, fn = fp[0] - fp, tp[0] - tp
        precision = tp / np.maximum(1e-7, tp + fp)
        recall = tp / np.maximum(1e-7, tp + fn)
        data = np.stack((tp, fp, tn, fn, precision, recall))
        md = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(
            plugin_name="pr_curves", content=PrCurvePluginData(version=0, num_thresholds=num_thresholds).SerializeToString()))
        t = TensorProto(dtype="DT_FLOAT", float_val=data.reshape(-1).tolist(),
                        tensor_shape=TensorShapeProto(dim=[TensorShapeProto.Dim(size=s) for s in data.shape]))
        self._summary(Summary(value=[Summary.Value(tag=tag, metadata=md, tensor=t)]), step, walltime)

    def add_custom_scalars(self, layout: dict, walltime=None):
        from tensorboard.compat.proto.summary_pb2 import Summary, SummaryMetadata
        from tensorboard.compat.proto.tensor_pb2 import TensorProto
        from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
        from tensorboard.plugins.custom_scalar import layout_pb2

        cats = []
        for title, charts in layout.items():
            cs = [layout_pb2.Chart(title=name, multiline=layout_pb2.MultilineChartContent(tag=tags))
                  for name, (_, tags) in charts.items()]
            cats.append(layout_pb2.Category(title=title, chart=cs))
        md = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="custom_scalars"))
        t = TensorProto(dtype="DT_STRING", string_val=[layout_pb2.Layout(category=cats).SerializeToString()],
                        tensor_shape=TensorShapeProto())
        self._summary(Summary(value=[Summary.Value(tag="custom_scalars__config__", tensor=t, metadata=md)]), None, walltime)

    def add_graph(self, walltime=None):
        """A small traced-module graph as ``torch.utils.tensorboard._pytorch_graph`` lays it out."""
        from tensorboard.compat.proto.attr_value_pb2 import AttrValue
        from tensorboard.compat.proto.config_pb2 import RunMetadata
        from tensorboard.compat.proto.event_pb2 import Event, TaggedRunMetadata
        from tensorboard.compat.proto.graph_pb2 import GraphDef
        from tensorboard.compat.proto.node_def_pb2 import NodeDef
        from tensorboard.compat.proto.step_stats_pb2 import DeviceStepStats, StepStats
        from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
        from tensorboard.compat.proto.versions_pb2 import VersionDef

        def shape(*dims):
            return AttrValue(list=AttrValue.ListValue(shape=[TensorShapeProto(dim=[TensorShapeProto.Dim(size=d) for d in dims])]))

        nodes = [
            NodeDef(name="input/x", op="IO Node", attr={"_output_shapes": shape(2, 4), "attr": AttrValue(s=b"")}),
            NodeDef(name="Net/Linear[fc]/weight/weight.1", op="prim::GetAttr", input=["Net/Linear[fc]/weight"],
                    attr={"attr": AttrValue(s=b'{ name :  weight }')}),
            NodeDef(name="Net/Linear[fc]/input", op="aten::linear", input=["input/x", "Net/Linear[fc]/weight/weight.1"],
                    attr={"_output_shapes": shape(2, 3), "attr": AttrValue(s=b"{}")}),
            NodeDef(name="output/output.1", op="IO Node", input=["Net/Linear[fc]/input"], attr={"_output_shapes": shape(2, 3)}),
        ]
        g = GraphDef(node=nodes, versions=VersionDef(producer=22))
        rm = RunMetadata(step_stats=StepStats(dev_stats=[DeviceStepStats(device="/device:CPU:0")]))
        self._event(Event(graph_def=g.SerializeToString()), None, walltime)
        self._event(Event(tagged_run_metadata=TaggedRunMetadata(tag="step1", run_metadata=rm.SerializeToString())), None, walltime)

    def add_hparams(self, hparams: dict, metrics: dict, run_name: str, step=None, walltime=None):
        from tensorboard.compat.proto.summary_pb2 import Summary, SummaryMetadata
        from tensorboard.plugins.hparams import metadata as hp_meta
        from tensorboard.plugins.hparams.api_pb2 import DataType, Experiment, HParamInfo, MetricInfo, MetricName, Status
        from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData, SessionEndInfo, SessionStartInfo

        ssi = SessionStartInfo()
        infos = []
        for k, v in hparams.items():
            if isinstance(v, str):
                ssi.hparams[k].string_value = v
                infos.append(HParamInfo(name=k, type=DataType.Value("DATA_TYPE_STRING")))
            else:
                ssi.hparams[k].number_value = v
                infos.append(HParamInfo(name=k, type=DataType.Value("DATA_TYPE_FLOAT64")))

        def meta_only(tag, content):
            md = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(
                plugin_name=hp_meta.PLUGIN_NAME, content=content.SerializeToString()))
            return Summary(value=[Summary.Value(tag=tag, metadata=md)])

        exp = Experiment(hparam_infos=infos, metric_infos=[MetricInfo(name=MetricName(tag=k)) for k in metrics])
        sub = os.path.join(self.log_dir, run_name)
        hp = TorchLikeWriter(sub)
        hp._summary(meta_only(hp_meta.EXPERIMENT_TAG, HParamsPluginData(experiment=exp, version=hp_meta.PLUGIN_DATA_VERSION)), step, walltime)
        hp._summary(meta_only(hp_meta.SESSION_START_INFO_TAG,
                              HParamsPluginData(session_start_info=ssi, version=hp_meta.PLUGIN_DATA_VERSION)), step, walltime)
        hp._summary(meta_only(hp_meta.SESSION_END_INFO_TAG, HParamsPluginData(
            session_end_info=SessionEndInfo(status=Status.Value("STATUS_SUCCESS")), version=hp_meta.PLUGIN_DATA_VERSION)), step, walltime)
        for k, v in metrics.items():
            hp.add_scalar(k, v, step, walltime)
        hp.close()

    def close(self):
        for w in self._writers.values():
            w.close()


def gen_pytorch(logdir: str) -> None:
    rng = np.random.default_rng(11)
    w = TorchLikeWriter(logdir)
    for step in range(6):
        wt = T0 + step
        w.add_scalar("Loss/train", 1.0 / (step + 1), step, wt)
        w.add_scalar("Loss/new_style", 0.5 * step, step, wt, new_style=True)
        w.add_scalar("Loss/double", 1e-300 * (step + 1), step, wt, new_style=True, double_precision=True)
        w.add_scalars("lr", {"adam": 0.1 / (step + 1), "sgd": 0.2}, step, wt)
        if step % 2 == 0:
            w.add_histogram("weights", rng.normal(size=300) + step, step, walltime=wt)  # the 1.1^k default bins
            w.add_histogram("positive", rng.random(100) + 1, step, bins=8, walltime=wt)  # numpy bins: first bucket empty
    w.add_histogram_raw("raw", 0.001, 49.001, 1225, 30625.0, 1.0e6, list(range(1, 51)), [0] + list(range(1, 50)), 0, T0)
    w.add_histogram("single", np.full(5, 3.0), 0, bins=4, walltime=T0)  # every value in one bucket
    img = (rng.random((5, 7, 3)) * 255).astype(np.uint8)
    w.add_image("image", img, 0, T0)
    w.add_image("gray", img[:, :, :1], 1, T0 + 1)
    w.add_audio("audio", np.sin(np.linspace(0, 30, 400)), 0, sample_rate=16000, walltime=T0)
    w.add_text("notes", "hello from *torch*", 0, T0)
    w.add_text("notes", "dé second", 1, T0 + 1)
    w.add_tensor("tensor", np.arange(6, dtype=np.float32).reshape(2, 3), 0, T0)
    w.add_tensor("flags", np.array([True, False]), 0, T0)
    w.add_pr_curve("pr", rng.integers(0, 2, 50), rng.random(50), 0, num_thresholds=11, walltime=T0)
    w.add_custom_scalars({"Losses": {"both": ["Multiline", ["Loss/train", "Loss/new_style"]]}}, walltime=T0)
    w.add_graph(walltime=T0)
    w.add_hparams({"lr": 0.01, "optimizer": "adam"}, {"hparam/accuracy": 0.9}, run_name="hp_run", step=0, walltime=T0)
    w.close()
    # a restart: purge_step=4 (TensorBoard hides the first file's steps >= 4; tfformats keeps them)
    w = TorchLikeWriter(logdir, purge_step=4)
    for step in range(4, 7):
        w.add_scalar("Loss/train", 10.0 + step, step, T0 + 100 + step)
    w.close()


# ---------------------------------------------------------------------------------------------
# tensorboardX (older releases): its own RecordWriter, same framing; no file_version event


def gen_tensorboardx(logdir: str) -> None:
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.compat.proto.summary_pb2 import Summary
    from tensorboard.summary.writer.record_writer import RecordWriter

    os.makedirs(logdir, exist_ok=True)
    name = os.path.join(logdir, "events.out.tfevents." + str(T0)[:10] + "." + socket.gethostname())
    with open(name, "wb") as f:
        rw = RecordWriter(f)
        rw.write(Event(wall_time=T0).SerializeToString())  # EventsWriter's first event: a wall time only
        for step in range(4):
            s = Summary(value=[Summary.Value(tag="data/scalar1", simple_value=step * 0.5),
                               Summary.Value(tag="data/scalar2", simple_value=-step)])
            rw.write(Event(wall_time=T0 + step, step=step, summary=s).SerializeToString())
        h = TorchLikeWriter._make_histogram(np.arange(20.0), 5)
        rw.write(Event(wall_time=T0 + 5, step=5, summary=Summary(value=[Summary.Value(tag="hist", histo=h)])).SerializeToString())
        rw.close()


# ---------------------------------------------------------------------------------------------
# Keras TensorBoard callback


def gen_keras(logdir: str, which: str) -> None:
    """Run in a subprocess: Keras 3 and tf_keras cannot share one process."""
    import subprocess

    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    if which == "tf_keras":
        env["TF_USE_LEGACY_KERAS"] = "1"
    subprocess.run([sys.executable, os.path.abspath(__file__), "--keras", which, logdir], check=True, env=env)


def _keras_child(which: str, logdir: str) -> None:
    if which == "tf_keras":
        import tf_keras as keras
    else:
        import keras
    import tensorflow as tf

    tf.random.set_seed(1)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 4)).astype("float32")
    y = (x.sum(1) > 0).astype("float32")
    m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="relu", name="hidden"),
                          keras.layers.Dense(1, activation="sigmoid", name="out")])
    m.compile("sgd", "binary_crossentropy", metrics=["accuracy"])
    cb = keras.callbacks.TensorBoard(logdir, histogram_freq=1, write_graph=True, write_images=True,
                                     update_freq=2, profile_batch=2)
    m.fit(x, y, batch_size=8, epochs=2, validation_data=(x[:8], y[:8]), callbacks=[cb], verbose=0)


# ---------------------------------------------------------------------------------------------
# TF1 FileWriter odds


def gen_tf1_extra(logdir: str) -> None:
    import tensorflow as tf

    g = tf.Graph()
    with g.as_default():
        t = tf.constant([[1.5, 2.5], [3.5, 4.5]], name="t")
        tf.compat.v1.summary.tensor_summary("matrix", t, summary_description="a 2x2 tensor")
        tf.compat.v1.summary.scalar("loss", tf.constant(0.25))
        merged = tf.compat.v1.summary.merge_all()
        # the first tensor summary op: its value has a node_name and no tag (TensorBoard uses the name)
        old_style = tf.raw_ops.TensorSummary(tensor=t, name="old_style")
        fw = tf.compat.v1.summary.FileWriter(logdir)  # no graph event: only the meta graph below
        with tf.compat.v1.Session(graph=g) as sess:
            for step in range(2):
                fw.add_summary(sess.run(merged), step)
            fw.add_summary(sess.run(old_style), 1)
        fw.add_meta_graph(tf.compat.v1.train.export_meta_graph(graph=g), global_step=2)
        s = tf.compat.v1.Summary()
        s.value.add(tag="hand/scalar", simple_value=7.0)
        h = s.value.add(tag="hand/histo").histo
        h.min, h.max, h.num, h.sum, h.sum_squares = -1.0, 1.0, 4.0, 0.0, 4.0
        h.bucket_limit.extend([-1.0, 0.0, 1.0, 1.7976931348623157e308])
        h.bucket.extend([2.0, 0.0, 2.0, 0.0])
        fw.add_summary(s, 3)
        fw.close()


def gen_tf1_reopen(logdir: str) -> None:
    """A TF1 FileWriter closed and reopened: a second file whose values carry no plugin metadata
    (the writer sends each tag's metadata once), so their kind comes from the run's first file."""
    import tensorflow as tf

    v1 = tf.compat.v1
    g = tf.Graph()
    with g.as_default():
        p = v1.placeholder(tf.float32, [])
        v1.summary.text("note", tf.strings.as_string(p))
        v1.summary.scalar("loss", p)
        v1.summary.histogram("w", tf.stack([p, p + 1.0]))
        v1.summary.image("im", tf.cast(tf.fill([1, 2, 2, 1], p), tf.uint8))
        merged = v1.summary.merge_all()
    with v1.Session(graph=g) as sess:
        fw = v1.summary.FileWriter(logdir)
        for step in range(3):
            fw.add_summary(sess.run(merged, {p: float(step)}), step)
        fw.close()
        time.sleep(1.1)  # the second file's name (its time) sorts after the first
        fw.reopen()
        for step in range(3, 6):
            fw.add_summary(sess.run(merged, {p: float(step)}), step)
        fw.close()


def gen_tf2_extra(logdir: str) -> None:
    import tensorflow as tf
    from tensorboard.plugins.hparams import api as hp

    w = tf.summary.create_file_writer(logdir)
    with w.as_default():
        hp.hparams_config(hparams=[hp.HParam("units", hp.Discrete([8, 16])), hp.HParam("lr", hp.RealInterval(0.001, 0.1))],
                          metrics=[hp.Metric("accuracy")])
        hp.hparams({"units": 16, "lr": 0.01}, trial_id="trial-1")
        tf.summary.scalar("accuracy", 0.5, step=1 << 40)  # a step past 2^32
        tf.summary.histogram("constant", tf.fill([10], 2.5), step=0)  # every value equal
        tf.summary.histogram("scalar_input", 4.0, step=0)
        clips = np.stack([np.sin(np.linspace(0, 9, 64)), np.cos(np.linspace(0, 9, 64))]).astype(np.float32)[:, :, None]
        tf.summary.audio("clips", clips, sample_rate=22050, step=0, max_outputs=2)
        tf.summary.text("lines", tf.constant(["one", "two", "three"]), step=0)
        raw = tf.compat.v1.Summary()
        raw.value.add(tag="raw_simple", simple_value=-2.5)
        tf.summary.experimental.write_raw_pb(raw.SerializeToString(), step=3)
    w.close()


# ---------------------------------------------------------------------------------------------
# TensorBoard's reading


def put(npz: dict, key: str, arr) -> None:
    arr = np.asarray(arr)
    if arr.dtype == object:
        flat = [bytes(v) for v in arr.reshape(-1)]
        npz[key + ".bytes"] = np.frombuffer(b"".join(flat), np.uint8)
        npz[key + ".lengths"] = np.array([len(v) for v in flat], np.int64).reshape(arr.shape)
    else:
        npz[key] = arr


def event_runs(logdir: str) -> dict:
    """``{run: directory}`` for every directory holding event files (TensorBoard's rule)."""
    runs = {}
    for root, dirs, files in os.walk(logdir):
        dirs.sort()
        if any("tfevents" in f for f in files):
            runs[os.path.relpath(root, logdir).replace(os.sep, "/")] = root
    return dict(sorted(runs.items()))


def tensorboard_view(logdir: str, npz: dict, prefix: str = "", purge: bool = False) -> dict:
    """What TensorBoard's ``EventAccumulator`` reads from each run of ``logdir``
    (``purge``: with its ``purge_orphaned_data``, which hides what restarts re-ran)."""
    from tensorboard.backend.event_processing import plugin_event_accumulator as pea
    from tensorboard.compat.proto import summary_pb2
    from tensorboard.util import tensor_util

    view = {}
    for run, path in event_runs(logdir).items():
        acc = pea.EventAccumulator(
            path, size_guidance={pea.TENSORS: 0, pea.GRAPH: 0, pea.META_GRAPH: 0, pea.RUN_METADATA: 0},
            purge_orphaned_data=purge,
        )
        acc.Reload()
        tags = acc.Tags()
        out = {"tags": {}, "graph": bool(tags[pea.GRAPH]), "meta_graph": bool(tags[pea.META_GRAPH]),
               "run_metadata": sorted(tags[pea.RUN_METADATA])}
        if out["graph"]:
            out["graph_nodes"] = [n.name for n in acc.Graph().node]
        for tag in sorted(tags[pea.TENSORS]):
            # a value that never carried metadata (TF1's first TensorSummary op) has none
            md = acc.SummaryMetadata(tag) if tag in acc.summary_metadata else summary_pb2.SummaryMetadata()
            events = []
            for j, te in enumerate(acc.Tensors(tag)):
                key = f"{prefix}{run}/{tag}/{j}"
                put(npz, key, tensor_util.make_ndarray(te.tensor_proto))
                events.append({"step": te.step, "wall_time": te.wall_time, "npz": key})
            out["tags"][tag] = {"plugin_name": md.plugin_data.plugin_name,
                                "plugin_content_hex": md.plugin_data.content.hex(), "events": events}
        view[run] = out
    return view


GENERATORS = {
    "pytorch": gen_pytorch,
    "tensorboardx": gen_tensorboardx,
    "keras3": lambda d: gen_keras(d, "keras3"),
    "tf_keras": lambda d: gen_keras(d, "tf_keras"),
    "tf1_extra": gen_tf1_extra,
    "tf1_reopen": gen_tf1_reopen,
    "tf2_extra": gen_tf2_extra,
}


def main() -> None:
    """All logs afresh; ``--only NAME ...`` rewrites just those (TensorBoard's view of all is redone)."""
    only = sys.argv[sys.argv.index("--only") + 1:] if "--only" in sys.argv else None
    if only is None and os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT, exist_ok=True)
    for name, gen in GENERATORS.items():
        if only is None or name in only:
            shutil.rmtree(os.path.join(OUT, name), ignore_errors=True)
            gen(os.path.join(OUT, name))
    npz: dict = {}
    tops = {}
    for top in sorted(os.listdir(OUT)):
        if os.path.isdir(os.path.join(OUT, top)):
            tops[top] = tensorboard_view(os.path.join(OUT, top), npz, prefix=top + ":")
    total = write_expected(OUT, {"logdirs": tops}, npz)
    print(f"wrote {sum(len(v) for v in tops.values())} runs, {total / 1e6:.2f} MB in all, into {OUT}")


def write_expected(out: str, views: dict, npz: dict) -> int:
    """``out/expected.json`` (the versions of TF and TensorBoard, and ``views``) and ``out/expected.npz``;
    returns the bytes of everything under ``out``."""
    import tensorboard
    import tensorflow as tf

    expected = {"tensorflow": tf.__version__, "tensorboard": tensorboard.__version__, **views}
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
    np.savez(os.path.join(out, "expected.npz"), **npz)
    return sum(os.path.getsize(os.path.join(r, n)) for r, _, ns in os.walk(out) for n in ns)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--keras":
        _keras_child(sys.argv[2], sys.argv[3])
    else:
        main()
