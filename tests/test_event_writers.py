"""Event files from other writers (PyTorch, tensorboardX, the Keras callback, TF1/TF2 odds).

Fixtures and TensorBoard's own reading of them come from
tests/generate/gen_event_writers.py; every table row is checked against what
TensorBoard's EventAccumulator shows for the same run and tag.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import tfformats.events as tfev
import tfformats.records as tfr

from _event_oracle import check_against_tensorboard
from conftest import DATA, require_data

EW = DATA / "event_writers"
TOPS = ["keras3", "pytorch", "tensorboardx", "tf1_extra", "tf1_reopen", "tf2_extra", "tf_keras"]


@pytest.fixture(scope="module")
def expected():
    with open(require_data("event_writers/expected.json")) as f:
        return json.load(f)["logdirs"]


@pytest.fixture(scope="module")
def arrays():
    return np.load(require_data("event_writers/expected.npz"))


def test_every_fixture_is_covered(expected):
    assert sorted(expected) == TOPS


@pytest.mark.parametrize("top", TOPS)
def test_tables_match_tensorboard(top, expected, arrays):
    counts = check_against_tensorboard(tfev.read_events(EW / top), expected[top], arrays)
    assert sum(counts.values()) > 0


@pytest.mark.parametrize("top", TOPS)
def test_streaming_gives_the_same_rows(top):
    log = tfev.read_events(EW / top)
    streamed = {k: [] for k in tfev.KINDS}
    for s in tfev.iter_summaries(EW / top):
        streamed[s.kind].append((s.run, s.tag, s.step, s.wall_time))
    for k in tfev.KINDS:
        table = getattr(log, k)
        assert sorted(streamed[k]) == sorted(zip(table["run"], table["tag"], table["step"].tolist(), table["wall_time"].tolist())), k


def test_pytorch_runs_and_scalars(expected):
    log = tfev.read_events(EW / "pytorch")
    # add_scalars writes one sub-run per series; add_hparams one more
    assert log.runs == [".", "hp_run", "lr_adam", "lr_sgd"]
    sc = log.scalars
    # new_style=True: a float_val tensor with no shape at all
    assert sc.filter(run=".", tag="Loss/new_style")["value"].tolist() == [0.5 * s for s in range(6)]
    # double_precision=True keeps float64 values that float32 would flush to zero
    assert sc.filter(run=".", tag="Loss/double")["value"].tolist() == [1e-300 * (s + 1) for s in range(6)]
    assert sc.filter(run="lr_sgd")["value"].tolist() == [float(np.float32(0.2))] * 6 and set(sc.filter(run="lr_adam").tags()) == {"lr"}
    # the restart with purge_step=4: TensorBoard would hide the first file's steps >= 4,
    # tfformats keeps every row and the SessionLog.START that marks the restart
    steps = sc.filter(run=".", tag="Loss/train")["step"].tolist()
    assert steps == [0, 1, 2, 3, 4, 5, 4, 5, 6]
    assert [(r.run, r.step, r.status) for r in log.session_logs] == [(".", 4, "START")]
    assert [f[2] for f in log.files if f[0] == "."] == ["brain.Event:2", "brain.Event:2"]


def test_pytorch_histograms_images_text_audio():
    log = tfev.read_events(EW / "pytorch", runs=["."])
    h = log.histograms.filter(tag="positive").row(0).value
    # torch stores a leading empty bucket to carry the left edge; it is dropped, min/max become the outer edges
    assert h.bucket[0] == 0 and len(h.buckets) == len(h.bucket) - 1
    assert h.edges[0] == h.min and h.edges[-1] == h.max and h.counts.sum() == h.num == 100
    single = log.histograms.filter(tag="single").row(0).value
    assert single.buckets.tolist() == [[3.0, 3.0, 5.0]]
    img = {r.tag: r for r in log.images}
    assert (img["image"].width, img["image"].height) == (7, 5) and img["image"].value[:4] == b"\x89PNG"
    assert (img["gray"].width, img["gray"].height) == (7, 5)
    assert [r.value.tolist() for r in log.text] == [["hello from *torch*"], ["dé second"]]
    assert log.text.tags() == ["notes/text_summary"]
    a = log.audio.row(0)
    assert (a.sample_rate, a.content_type, a.value[:4]) == (16000, "audio/wav", b"RIFF")
    t = {r.tag: r for r in log.tensors}
    assert t["tensor"].plugin == "tensor" and t["tensor"].value.tolist() == [[0, 1, 2], [3, 4, 5]]
    assert t["flags"].value.dtype == np.bool_ and t["pr"].plugin == "pr_curves" and t["pr"].value.shape == (6, 11)
    assert t["custom_scalars__config__"].plugin == "custom_scalars" and t["custom_scalars__config__"].value.dtype == object
    assert [n.op for n in log.graph_def().node] == ["IO Node", "prim::GetAttr", "aten::linear", "IO Node"]
    assert [(r.tag, r.step) for r in log.run_metadata] == [("step1", 0)]


def test_hparams_values_give_their_plugin_content(expected):
    log = tfev.read_events(EW / "pytorch", runs=["hp_run"])
    rows = {r.tag: r for r in log.tensors}
    assert sorted(rows) == ["_hparams_/experiment", "_hparams_/session_end_info", "_hparams_/session_start_info"]
    for tag, r in rows.items():
        assert r.plugin == "hparams" and r.value == bytes.fromhex(expected["pytorch"]["hp_run"]["tags"][tag]["plugin_content_hex"])
    assert b"optimizer" in rows["_hparams_/session_start_info"].value and b"adam" in rows["_hparams_/session_start_info"].value
    assert log.scalars.tags() == ["hparam/accuracy"]
    # TF2's hparams API writes an empty placeholder tensor with the metadata: same rows
    tf2 = tfev.read_events(EW / "tf2_extra")
    hp = tf2.tensors.filter(tag=["_hparams_/experiment", "_hparams_/session_start_info"])
    assert len(hp) == 2 and all(r.plugin == "hparams" and b"units" in r.value for r in hp)


def test_tensorboardx_file_without_file_version():
    log = tfev.read_events(EW / "tensorboardx")
    # its first event holds only a wall time: no file_version, no row
    assert [f[2] for f in log.files] == [None]
    assert log.scalars.tags() == ["data/scalar1", "data/scalar2"] and len(log.scalars) == 8
    assert log.scalars.filter(tag="data/scalar2")["value"].tolist() == [0.0, -1.0, -2.0, -3.0]
    first = next(tfev.iter_events(log.files[0][1]))
    assert first.WhichOneof("what") is None and first.wall_time == 1.7e9


@pytest.mark.parametrize("top", ["keras3", "tf_keras"])
def test_keras_callback_logs(top):
    runs = tfev.find_runs(EW / top)
    assert list(runs) == ["train", "validation"]  # plugins/profile folders hold no event files
    log = tfev.read_events(EW / top)
    assert {"epoch_loss", "epoch_accuracy", "batch_loss"} <= set(log.scalars.filter(run="train").tags())
    assert {"evaluation_loss_vs_iterations", "epoch_loss"} <= set(log.scalars.filter(run="validation").tags())
    assert log.scalars.filter(run="train", tag="epoch_loss")["step"].tolist() == [0, 1]
    assert len(log.histograms) == 8 and all(r.value.counts.sum() > 0 for r in log.histograms)
    assert all(r.value[:4] == b"\x89PNG" and r.width > 0 and r.height > 0 for r in log.images)
    plugins = {r.tag: r.plugin for r in log.tensors}
    assert plugins == {"keras": "graph_keras_model", "batch_2": "graph_run_metadata_graph"}
    config = json.loads(log.tensors.filter(tag="keras").row(0).value.item())
    assert config["class_name"] == "Sequential"
    if top == "tf_keras":
        assert any(n.op == "MatMul" for n in log.graph_def("train").node)


def test_meta_graph_stands_in_for_a_missing_graph(expected):
    log = tfev.read_events(EW / "tf1_extra")
    assert len(log.graphs) == 0 and len(log.meta_graphs) == 1
    assert [n.name for n in log.graph_def().node] == expected["tf1_extra"]["."]["graph_nodes"]
    # tensor_summary with only a description: no plugin, a raw tensor
    m = log.tensors.filter(tag="matrix")
    assert [r.plugin for r in m] == ["", ""] and m.row(0).value.tolist() == [[1.5, 2.5], [3.5, 4.5]]


def test_tf2_odds(arrays, expected):
    log = tfev.read_events(EW / "tf2_extra")
    assert log.scalars.filter(tag="accuracy")["step"].tolist() == [1 << 40]
    assert log.scalars.filter(tag="raw_simple")["value"].tolist() == [-2.5]
    const = log.histograms.filter(tag="constant").row(0).value
    assert const.counts.sum() == 10 and np.all(const.buckets[:, :2] == 2.5)
    assert [(r.index, r.sample_rate) for r in log.audio] == [(0, 22050), (1, 22050)]
    assert log.text.row(0).value.tolist() == ["one", "two", "three"]


def test_truncated_pytorch_file_ends_quietly(tmp_path):
    src = sorted((EW / "pytorch").glob("events.out.tfevents.*"))[0]
    data = src.read_bytes()
    with tfr.RecordFile(str(src)) as recs:
        last = recs.offsets[-1]
    (tmp_path / src.name).write_bytes(data[: last + 30])
    log = tfev.read_events(tmp_path)
    full = tfev.read_events(src)
    assert log.files[0][3] is not None and "truncated" in log.files[0][3].reason
    n = sum(len(getattr(full, k)) for k in ("scalars", "histograms", "graphs", "run_metadata", "tensors"))
    m = sum(len(getattr(log, k)) for k in ("scalars", "histograms", "graphs", "run_metadata", "tensors"))
    assert m == n - 1

