"""Compare a tfformats EventLog with TensorBoard's reading of the same log directory.

``view`` is what ``tests/generate/gen_event_writers.py:tensorboard_view`` records
from TensorBoard's ``EventAccumulator`` (after its TF1 -> TF2 migrations): per
run, per tag, the plugin and each event's step, wall time and tensor (a key
into ``arrays``).  No TensorFlow here: the main suite uses it on committed
fixtures, the differential suite on freshly written logs.
"""

from __future__ import annotations

import numpy as np

# TensorBoard's graph sub-plugins (dataclass_compat turns their strings into blob sequences)
GRAPH_SUB_PLUGINS = ("graph_run_metadata", "graph_run_metadata_graph", "graph_keras_model")


def load(arrays, key):
    """A stored array; strings are kept as ``KEY.bytes`` + ``KEY.lengths``."""
    if key in arrays:
        return arrays[key]
    data = bytes(arrays[key + ".bytes"])
    lengths = arrays[key + ".lengths"]
    out = np.empty(lengths.shape, object)
    flat = out.reshape(-1)
    pos = 0
    for i, n in enumerate(lengths.reshape(-1).tolist()):
        flat[i] = data[pos : pos + n]
        pos += n
    return out


def _rows(table, run, tag=None):
    return [r for r in table if r.run == run and (tag is None or r.tag == tag)]


def check_against_tensorboard(log, view: dict, arrays) -> dict:
    """Assert that ``log`` holds exactly what TensorBoard shows; return counts per table."""
    counts = {k: 0 for k in ("scalars", "histograms", "images", "audio", "text", "tensors", "graphs", "run_metadata")}
    assert sorted(log.runs) == sorted(view), (log.runs, sorted(view))
    for run, rv in view.items():
        for tag, tv in rv["tags"].items():
            plugin = tv["plugin_name"]
            evs = tv["events"]
            where = f"run {run!r} tag {tag!r} ({plugin or 'no plugin'})"
            if plugin == "scalars":
                got = [(r.step, r.wall_time, r.value) for r in _rows(log.scalars, run, tag)]
                want = [(e["step"], e["wall_time"], float(load(arrays, e["npz"]))) for e in evs]
                assert got == want, where
                counts["scalars"] += len(got)
            elif plugin == "histograms":
                got = _rows(log.histograms, run, tag)
                assert [(r.step, r.wall_time) for r in got] == [(e["step"], e["wall_time"]) for e in evs], where
                for r, e in zip(got, evs):
                    tb = load(arrays, e["npz"])
                    assert r.value.buckets.shape == tb.shape, where
                    # TF1 HistogramProtos: TensorBoard converts to float32; TF2 tensors are kept as written
                    np.testing.assert_allclose(r.value.buckets, tb, rtol=1e-6, err_msg=where)
                counts["histograms"] += len(got)
            elif plugin == "images":
                got = _rows(log.images, run, tag)
                want = []
                for e in evs:
                    tb = load(arrays, e["npz"])  # [width, height, encoded...]
                    for j, img in enumerate(tb[2:].tolist()):
                        want.append((e["step"], e["wall_time"], j, int(tb[0]), int(tb[1]), img))
                assert [(r.step, r.wall_time, r.index, r.width, r.height, r.value) for r in got] == want, where
                counts["images"] += len(got)
            elif plugin == "audio":
                got = _rows(log.audio, run, tag)
                want = []
                for e in evs:
                    tb = load(arrays, e["npz"])  # [k] encoded clips (TensorBoard drops the labels column)
                    for j in range(tb.shape[0]):
                        want.append((e["step"], e["wall_time"], j, tb.reshape(tb.shape[0], -1)[j, 0]))
                assert [(r.step, r.wall_time, r.index, r.value) for r in got] == want, where
                assert all(r.sample_rate > 0 and r.content_type == "audio/wav" for r in got), where
                counts["audio"] += len(got)
            elif plugin == "text":
                got = _rows(log.text, run, tag)
                assert [(r.step, r.wall_time) for r in got] == [(e["step"], e["wall_time"]) for e in evs], where
                for r, e in zip(got, evs):
                    tb = load(arrays, e["npz"])
                    if tb.ndim == 0:
                        assert r.value == tb.item().decode("utf-8"), where
                    else:
                        assert np.asarray(r.value).tolist() == [b.decode("utf-8") for b in tb.reshape(-1)] or (
                            np.asarray(r.value).reshape(-1).tolist() == [b.decode("utf-8") for b in tb.reshape(-1)]
                        ), where
                counts["text"] += len(got)
            elif plugin == "graphs":  # TensorBoard turns each graph_def event into a [1] string tensor
                got = [r for r in log.graphs if r.run == run]
                want = [(e["step"], e["wall_time"], load(arrays, e["npz"]).reshape(-1)[0]) for e in evs]
                assert [(r.step, r.wall_time, r.value) for r in got] == want, where
                counts["graphs"] += len(got)
            elif plugin == "graph_tagged_run_metadata":  # a tagged_run_metadata event, likewise
                got = [(r.step, r.wall_time, r.value) for r in log.run_metadata if r.run == run and r.tag == tag]
                want = [(e["step"], e["wall_time"], load(arrays, e["npz"]).reshape(-1)[0]) for e in evs]
                assert got == want, where
                counts["run_metadata"] += len(got)
            elif plugin == "hparams":
                # metadata-only values (the plugin content is the data): TensorBoard gives them a
                # placeholder tensor; tfformats gives the plugin content bytes
                got = _rows(log.tensors, run, tag)
                content = bytes.fromhex(tv["plugin_content_hex"])
                assert [(r.step, r.wall_time, r.plugin, r.value) for r in got] == [
                    (e["step"], e["wall_time"], "hparams", content) for e in evs
                ], where
                counts["tensors"] += len(got)
            else:  # other plugins, or none: raw tensors
                got = _rows(log.tensors, run, tag)
                assert [(r.step, r.wall_time, r.plugin) for r in got] == [(e["step"], e["wall_time"], plugin) for e in evs], where
                for r, e in zip(got, evs):
                    tb = load(arrays, e["npz"])
                    if plugin in GRAPH_SUB_PLUGINS:  # same bytes; TensorBoard reshapes them
                        assert np.asarray(r.value, object).reshape(-1).tolist() == tb.reshape(-1).tolist()[-1:], where
                    else:
                        assert r.value.shape == tb.shape and r.value.dtype == tb.dtype, where
                        assert r.value.tolist() == tb.tolist(), where
                counts["tensors"] += len(got)
        if rv["graph"] and "graph_nodes" in rv:
            assert [n.name for n in log.graph_def(run).node] == rv["graph_nodes"], f"graph of run {run!r}"
    # nothing beyond what TensorBoard shows
    for kind, n in counts.items():
        assert len(getattr(log, kind)) == n, (kind, len(getattr(log, kind)), n)
    return counts
