"""Event files and log directories against what TensorFlow, TensorBoard and tbparse read."""

from __future__ import annotations

import hashlib
import json
import shutil

import numpy as np
import pytest

import tfformats
import tfformats.events as tfev
import tfformats.records as tfr
from tfformats.errors import ChecksumError, DataLossError, InvalidArgumentError, NotFoundError

from conftest import DATA, require_data
from test_example import load

EV = DATA / "events"


@pytest.fixture(scope="module")
def expected():
    with open(require_data("events/expected.json")) as f:
        return json.load(f)["files"]


@pytest.fixture(scope="module")
def npz():
    return np.load(require_data("events/expected.npz"))


@pytest.fixture(scope="module")
def log():
    return tfev.read_events(EV)


def sha(b) -> str:
    return hashlib.sha256(b).hexdigest()


def run_of(rel: str) -> str:
    return rel.rsplit("/", 1)[0]


def test_iter_events_matches_summary_iterator(expected, npz):
    from tfformats.tensor import tensor_to_numpy

    for rel, events in expected.items():
        got = list(tfev.iter_events(EV / rel))
        assert len(got) == len(events), rel
        for ev, exp in zip(got, events):
            assert ev.wall_time == exp["wall_time"] and ev.step == exp["step"]
            assert ev.WhichOneof("what") == exp["what"]
            w = exp["what"]
            if w == "file_version":
                assert ev.file_version == exp["file_version"] == "brain.Event:2"
            elif w == "graph_def":
                assert sha(ev.graph_def) == exp["graph_def"]["sha256"]
            elif w == "summary":
                assert len(ev.summary.value) == len(exp["values"])
                for v, ve in zip(ev.summary.value, exp["values"]):
                    assert v.tag == ve["tag"] and v.WhichOneof("value") == ve["kind"]
                    if "tensor" in ve:
                        arr = tensor_to_numpy(v.tensor)
                        want = load(npz, ve["tensor"]["npz"])
                        assert arr.shape == tuple(ve["tensor"]["shape"])
                        assert arr.tolist() == want.tolist()


def test_runs_and_files():
    runs = tfev.find_runs(EV)
    assert list(runs) == ["logdir/eval", "logdir/train", "tf1", "tf2"]
    train = runs["logdir/train"]
    assert len(train) == 2 and train == sorted(train)
    assert tfev.find_runs(EV / "logdir") == {"eval": runs["logdir/eval"], "train": train}
    assert tfev.find_runs(train[0]) == {".": [train[0]]}
    with pytest.raises(NotFoundError):
        tfev.find_runs(EV / "nope")


def _expected_values(expected, kind_filter):
    for rel, events in expected.items():
        for ev in events:
            for v in ev.get("values", []):
                if kind_filter(v):
                    yield run_of(rel), ev, v


def test_scalars_match_tensorflow(log, expected, npz):
    want = []
    for run, ev, v in _expected_values(expected, lambda v: v.get("tensorboard", {}).get("plugin_name") == "scalars"):
        value = v["simple_value"] if v["kind"] == "simple_value" else float(load(npz, v["tensor"]["npz"]))
        want.append((run, v["tag"], ev["step"], ev["wall_time"], value))
    got = [tuple(r) for r in log.scalars]
    assert sorted(got) == sorted(want) and len(got) == 20
    assert log.scalars["value"].dtype == np.float64 and log.scalars["step"].dtype == np.int64
    # TF1 simple_value scalars are float32 on disk: exact after widening
    tf1 = log.scalars.filter(run="tf1")
    assert tf1.tags() == ["loss"] and tf1["value"].tolist() == [30.0, 60.0, 90.0]


def test_scalars_match_tbparse(log):
    with open(require_data("events/tbparse.json")) as f:
        tb = json.load(f)
    for top in ("tf1", "tf2", "logdir"):
        ours = tfev.read_events(EV / top, kinds=["scalars"]).scalars
        mine = sorted(
            ("" if r.run == "." else r.run, r.tag, r.step, r.value, r.wall_time) for r in ours
        )
        # tbparse's "tensors" also hold rank-0 tensors of other plugins ('custom'), which are not scalars
        theirs = sorted((t["dir_name"], t["tag"], t["step"], t["value"], t["wall_time"]) for t in tb[top] if t["tag"] != "custom")
        assert mine == theirs, top


def test_histograms_match_tensorboard(log, expected, npz):
    got = {(r.run, r.tag, r.step): r.value for r in log.histograms}
    n = 0
    for run, ev, v in _expected_values(expected, lambda v: v.get("tensorboard", {}).get("plugin_name") == "histograms"):
        h = got[(run, v["tag"], ev["step"])]
        tb = load(npz, v["tensorboard"]["npz"])
        if v["kind"] == "tensor":  # TF2: exactly the stored [k, 3] float64 tensor
            assert h.buckets.tolist() == load(npz, v["tensor"]["npz"]).tolist()
            assert h.min is None
        else:  # TF1 HistogramProto: TensorBoard's float32 conversion, and the proto's fields
            np.testing.assert_allclose(h.buckets, tb, rtol=1e-6)
            e = v["histo"]
            assert (h.min, h.max, h.num, h.sum, h.sum_squares) == (e["min"], e["max"], e["num"], e["sum"], e["sum_squares"])
            assert h.bucket_limit.tolist() == e["bucket_limit"] and h.bucket.tolist() == e["bucket"]
            assert h.counts.sum() == e["num"]
            assert h.edges[0] == e["min"] and h.edges[-1] == e["max"]
        n += 1
    assert n == len(log.histograms) == 7


def test_images(log, expected, npz):
    rows = {(r.run, r.tag, r.step, r.index): r for r in log.images}
    n = 0
    for run, ev, v in _expected_values(expected, lambda v: v.get("tensorboard", {}).get("plugin_name") == "images"):
        tb = load(npz, v["tensorboard"]["npz"])  # [width, height, png...]
        width, height = int(tb[0]), int(tb[1])
        for j, png in enumerate(tb[2:].tolist()):
            r = rows[(run, v["tag"], ev["step"], j)]
            assert (r.width, r.height) == (width, height) and r.value == png and png.startswith(b"\x89PNG")
            n += 1
        if v["kind"] == "image":
            assert sha(rows[(run, v["tag"], ev["step"], 0)].value) == v["image"]["sha256"]
    assert n == len(log.images) == 5
    assert {(r.width, r.height) for r in log.images.filter(run="tf2")} == {(3, 4)}


def test_audio(log, expected, npz):
    rows = {(r.run, r.tag, r.step, r.index): r for r in log.audio}
    n = 0
    for run, ev, v in _expected_values(expected, lambda v: v.get("tensorboard", {}).get("plugin_name") == "audio"):
        tb = load(npz, v["tensorboard"]["npz"])  # [[wav, label]]
        for j in range(tb.shape[0]):
            r = rows[(run, v["tag"], ev["step"], j)]
            assert r.value == tb[j, 0] and r.value[:4] == b"RIFF"
            n += 1
        if v["kind"] == "audio":
            r = rows[(run, v["tag"], ev["step"], 0)]
            assert r.sample_rate == v["audio"]["sample_rate"] == 4000 and r.content_type == v["audio"]["content_type"]
    assert n == len(log.audio) == 4
    assert log.audio.filter(run="tf2").row(0).sample_rate == 8000  # read from the WAV header


def test_text(log, expected, npz):
    got = {(r.run, r.tag, r.step): r.value for r in log.text}
    n = 0
    for run, ev, v in _expected_values(expected, lambda v: v.get("tensorboard", {}).get("plugin_name") == "text"
                                       or (v.get("tensor", {}).get("dtype") == "string" and v["tag"] == "caption")):
        want = load(npz, v["tensor"]["npz"])
        value = got[(run, v["tag"], ev["step"])]
        if want.shape == ():
            assert value == want.item().decode()
        else:
            assert value.tolist() == [[b.decode() for b in row] for row in want.tolist()]
        n += 1
    assert n == len(log.text) == 5
    assert got[("tf2", "notes", 1)].tolist() == [["a", "b"], ["c", "dé"]]


def test_tensors_and_plugins(log, npz, expected):
    rows = {(r.run, r.tag): r for r in log.tensors}
    assert set(rows) == {("tf2", "raw"), ("tf2", "custom")}
    assert rows[("tf2", "raw")].plugin == "" and rows[("tf2", "raw")].value.tolist() == [[1, 2, 3], [4, 5, 6]]
    assert rows[("tf2", "raw")].value.dtype == np.int32
    assert rows[("tf2", "custom")].plugin == "myplugin" and rows[("tf2", "custom")].value == 3.5


def test_graphs_run_metadata_and_session_logs(log, expected):
    by_run = {}
    for rel, events in expected.items():
        for ev in events:
            by_run.setdefault(run_of(rel), []).append(ev)
    for kind, what in (("graphs", "graph_def"), ("meta_graphs", "meta_graph_def")):
        want = sorted((run, e["step"], e[what]["sha256"]) for run, evs in by_run.items() for e in evs if e["what"] == what)
        assert sorted((r.run, r.step, sha(r.value)) for r in getattr(log, kind)) == want
    rm = [(r.run, r.tag, r.step, sha(r.value)) for r in log.run_metadata]
    want = [(run, e["tagged_run_metadata"]["tag"], e["step"], e["tagged_run_metadata"]["sha256"])
            for run, evs in by_run.items() for e in evs if e["what"] == "tagged_run_metadata"]
    assert rm == want
    sl = [(r.run, r.step, r.status, r.checkpoint_path, r.msg) for r in log.session_logs]
    want = [(run, e["step"], e["session_log"]["status"], e["session_log"]["checkpoint_path"], e["session_log"]["msg"])
            for run, evs in by_run.items() for e in evs if e["what"] == "session_log"]
    assert sl == want and [s[2] for s in sl] == ["START", "CHECKPOINT", "STOP"]
    g = log.graph_def("tf2")
    assert any(n.op == "Placeholder" for n in g.node)
    with pytest.raises(InvalidArgumentError, match="several runs"):
        log.graph_def()
    assert log.graph_def("tf1").node[0].name == "x"


def test_restarted_run_reads_files_in_order(log):
    train = log.scalars.filter(run="logdir/train")
    assert train["step"].tolist() == [0, 1, 2, 3, 4]
    assert train["value"].tolist() == [2.0, 1.75, 1.5, 1.25, 1.0]
    assert [f[0] for f in log.files].count("logdir/train") == 2
    assert all(f[2] == "brain.Event:2" and f[3] is None for f in log.files)


def test_selection_and_table_api(log):
    only = tfev.read_events(EV, kinds=["scalars"], tags="loss", runs=["logdir/eval", "tf2"])
    assert only.runs == ["logdir/eval", "tf2"]
    assert only.scalars.tags() == ["loss"] and len(only.scalars) == 8
    with pytest.raises(AttributeError, match="were not read"):
        only.histograms
    with pytest.raises(InvalidArgumentError):
        tfev.read_events(EV, kinds=["pictures"])
    t = log.scalars
    assert t.fields == ("run", "tag", "step", "wall_time", "value")
    row = next(iter(t))
    assert type(row.step) is int and type(row.value) is float and row.run == "logdir/eval"
    assert t.row(0) == row and t.rows()[0] == row
    assert set(t.to_dict()) == set(t.fields)
    with pytest.raises(KeyError, match="no column"):
        t["nope"]
    assert "scalars: 20 rows" in repr(t) and "4 run(s)" in repr(log)
    assert log.tags()["scalars"] == ["accuracy", "loss"]
    assert t.runs() == ["logdir/eval", "logdir/train", "tf1", "tf2"]


def test_to_pandas(log):
    pd = pytest.importorskip("pandas")
    df = log.scalars.to_pandas()
    assert list(df.columns) == ["run", "tag", "step", "wall_time", "value"] and len(df) == 20
    assert df["step"].dtype == np.int64
    hist = log.histograms.to_pandas()
    assert isinstance(hist["value"].iloc[0], tfev.Histogram)
    assert isinstance(df, pd.DataFrame)


def test_iter_summaries_streams_in_order():
    got = list(tfev.iter_summaries(EV / "tf2"))
    assert [s.kind for s in got][:6] == ["scalars"] * 6
    assert [(s.tag, s.step) for s in got if s.kind == "scalars"] == [("loss", i) for i in range(5)] + [("accuracy", 4)]
    imgs = [s for s in got if s.kind == "images"]
    assert [s.extra["index"] for s in imgs] == [0, 1] and imgs[0].extra["width"] == 3
    assert {s.run for s in got} == {"."}
    assert [s.kind for s in tfev.iter_summaries(EV / "tf1", kinds=["histograms"])] == ["histograms"] * 3


def test_truncated_last_record_ends_quietly(tmp_path):
    src = tfev.find_runs(EV / "tf2")["."][0]
    data = open(src, "rb").read()
    p = tmp_path / "events.out.tfevents.1.host"
    p.write_bytes(data[:-7])
    log = tfev.read_events(tmp_path)
    full = tfev.read_events(src)
    assert len(log.graphs) == 0 and len(full.graphs) == 1  # the graph was the last event
    assert len(log.scalars) == len(full.scalars)
    assert log.files[0][3] is not None and "truncated" in log.files[0][3].reason
    assert len(list(tfev.iter_events(p))) == len(list(tfev.iter_events(src))) - 1
    with pytest.raises(DataLossError):
        list(tfev.iter_events(p, tolerate_truncation=False))


def test_damaged_event_file(tmp_path):
    src = tfev.find_runs(EV / "tf1")["."][0]
    data = bytearray(open(src, "rb").read())
    with tfr.RecordFile(src) as recs:
        off = recs.offsets[4]
    data[off + 20] ^= 0x55
    p = tmp_path / "events.out.tfevents.2.host"
    p.write_bytes(bytes(data))
    with pytest.raises(ChecksumError) as e:
        tfev.read_events(p)
    assert str(p) in str(e.value) and "record 4" in str(e.value)
    log = tfev.read_events(p, errors="skip")
    assert len(log.scalars) == 2  # the summary event of step 0 was lost


def test_not_an_event(tmp_path):
    p = tmp_path / "events.out.tfevents.3.host"
    tfr.write(p, [b"\xff\xff\xff"])
    with pytest.raises(DataLossError, match="record 0 is not a tensorflow.Event"):
        tfev.read_events(p)


def test_sources_other_than_paths():
    src = tfev.find_runs(EV / "tf2")["."][0]
    data = open(src, "rb").read()
    assert len(tfev.read_events(data).scalars) == 6
    with open(src, "rb") as f:
        assert len(tfev.read_events(f).scalars) == 6


def test_fsspec_log_dir():
    fsspec = pytest.importorskip("fsspec")
    fs = fsspec.filesystem("memory")
    for run, files in tfev.find_runs(EV / "logdir").items():
        for f in files:
            fs.pipe(f"/tfformats-events/{run}/{f.rsplit('/', 1)[-1]}", open(f, "rb").read())
    try:
        log = tfev.read_events("memory://tfformats-events")
        assert log.runs == ["eval", "train"]
        local = tfev.read_events(EV / "logdir")
        assert [tuple(r) for r in log.scalars] == [tuple(r) for r in local.scalars]
    finally:
        fs.rm("/tfformats-events", recursive=True)


def test_top_level_names():
    assert tfformats.read_events is tfev.read_events
    assert tfformats.iter_events is tfev.iter_events
    assert tfformats.iter_summaries is tfev.iter_summaries


def _scalar_event(tag, step, value, *, wall_time=1.0, meta=True, use_float_val=False, double=False, description=None):
    from tfformats.proto import pb

    ev = pb.Event(wall_time=wall_time, step=step)
    v = ev.summary.value.add(tag=tag)
    v.tensor.tensor_shape.SetInParent()
    if double:
        v.tensor.dtype = 2
        v.tensor.tensor_content = np.float64(value).tobytes()
    else:
        v.tensor.dtype = 1
        if use_float_val:
            v.tensor.float_val.append(value)
        else:
            v.tensor.tensor_content = np.float32(value).tobytes()
    if meta:
        v.metadata.plugin_data.plugin_name = "scalars"
        if description:
            v.metadata.summary_description = description
    return ev


def test_batched_scalar_decoding_agrees_with_per_event_decoding(tmp_path):
    from tfformats.proto import pb

    rng = np.random.default_rng(0)
    events = [pb.Event(wall_time=0.5, file_version="brain.Event:2")]
    for i in range(40000):
        r = i % 9
        tag = f"t{i % 5}" if i % 11 else "é/ünïcode"
        if r == 0:
            ev = _scalar_event(tag, i, rng.normal(), wall_time=i * 0.25)
        elif r == 1:
            ev = _scalar_event(tag, i, rng.normal(), wall_time=i * 0.25, use_float_val=True)
        elif r == 2:
            ev = _scalar_event("d", i, rng.normal(), double=True)
        elif r == 3:
            ev = _scalar_event(tag, 1 << 40, 1.5, description="described")
        elif r == 4:
            ev = _scalar_event(tag, i, 2.5, meta=False)  # inherits the plugin of its tag
        elif r == 5:
            ev = pb.Event(step=i, wall_time=2.0)
            ev.summary.value.add(tag="simple", simple_value=float(i))
        elif r == 6:
            ev = _scalar_event(tag, i, 3.5)
            ev.summary.value.add(tag="second", simple_value=-1.0)  # two values in one event
        elif r == 7:
            ev = pb.Event(step=i, wall_time=3.0)
            h = ev.summary.value.add(tag="h").histo
            h.min, h.max, h.num = 0.0, 1.0, 1.0
            h.bucket_limit.append(1.0)
            h.bucket.append(1.0)
        else:
            ev = _scalar_event(tag, -i, rng.normal(), wall_time=-1.0)  # negative step: a 10-byte varint
        events.append(ev)
    p = tmp_path / "events.out.tfevents.1.mixed"
    tfr.write(p, [e.SerializeToString() for e in events])
    fast = tfev.read_events(p)
    slow = [(s.run, s.tag, s.step, s.wall_time, s.value) for s in tfev.iter_summaries(p, kinds=["scalars"])]
    assert [tuple(r) for r in fast.scalars] == slow
    # and both equal what the protos say
    from tfformats.tensor import tensor_to_numpy

    want, seen = [], set()  # a tensor without metadata is a scalar once its tag has had scalars metadata
    for e in events:
        for v in e.summary.value if e.HasField("summary") else []:
            if v.WhichOneof("value") == "simple_value":
                want.append((".", v.tag, e.step, e.wall_time, v.simple_value))
            elif v.WhichOneof("value") == "tensor":
                if v.metadata.plugin_data.plugin_name == "scalars":
                    seen.add(v.tag)
                if v.tag in seen:
                    want.append((".", v.tag, e.step, e.wall_time, float(tensor_to_numpy(v.tensor))))
    assert slow == want
    assert len(fast.tensors) == 1 and fast.tensors.row(0).tag == "t4"  # before t4 had metadata
    assert len(fast.histograms) == 40000 // 9
    only = tfev.read_events(p, tags=["t1", "d"]).scalars
    assert [tuple(r) for r in only] == [w for w in want if w[1] in ("t1", "d")]


# ---------------------------------------------------------------------------
# Bulk scalar decoding (whole files, numpy) against the per-event decoder

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _field(num: int, payload: bytes) -> bytes:
    return _varint(num << 3 | 2) + _varint(len(payload)) + payload


_TAGS = ["a", "b", "loss", "é/ünï", "x" * 130, "\udcff"]  # the last: an invalid UTF-8 byte below


def _tag_bytes(t: str) -> bytes:
    return b"\xff\xfe" if t == "\udcff" else t.encode()


@st.composite
def _value(draw):
    """One Summary.Value, serialized: scalar layouts (fast), their near misses and other summaries (slow)."""
    from tfformats.proto import pb

    tag = _tag_bytes(draw(st.sampled_from(_TAGS)))
    what = draw(st.sampled_from(
        ["simple", "f32", "f32", "f32val", "f64", "f64val", "nometa", "nometa64", "histo", "otherplugin",
         "hparams", "text", "described", "odd_tensor", "emptytag", "unknown_field", "twotensors"]))
    x = draw(st.floats(width=32, allow_nan=True))
    f4 = np.float32(x).tobytes()
    f8 = np.float64(x).tobytes()
    meta = b"\x4a\x0b\x0a\x09\x0a\x07scalars"
    if what == "simple":
        return _field(1, tag) + b"\x15" + f4
    if what in ("f32", "nometa"):
        return _field(1, tag) + _field(8, b"\x08\x01\x12\x00\x22\x04" + f4) + (meta if what == "f32" else b"")
    if what == "f32val":
        return _field(1, tag) + _field(8, b"\x08\x01\x12\x00\x2a\x04" + f4) + meta
    if what in ("f64", "nometa64"):
        return _field(1, tag) + _field(8, b"\x08\x02\x12\x00\x22\x08" + f8) + (meta if what == "f64" else b"")
    if what == "f64val":
        return _field(1, tag) + _field(8, b"\x08\x02\x12\x00\x32\x08" + f8) + meta
    v = pb.Summary.Value(tag=tag.decode("utf-8", "replace"))
    if what == "histo":
        v.histo.min, v.histo.max, v.histo.num = 0.0, 1.0, 1.0
        v.histo.bucket_limit.append(1.0)
        v.histo.bucket.append(1.0)
    elif what == "otherplugin":  # a rank-0 float tensor of another plugin: its tag stops being a scalar
        v.tensor.dtype = 1
        v.tensor.tensor_shape.SetInParent()
        v.tensor.float_val.append(x)
        v.metadata.plugin_data.plugin_name = draw(st.sampled_from(["custom", "histograms"]))
    elif what == "hparams":
        v.metadata.plugin_data.plugin_name = "hparams"
        v.metadata.plugin_data.content = b"\x01\x02"
    elif what == "text":
        v.tensor.dtype = 7
        v.tensor.string_val.append(b"hi")
        v.metadata.plugin_data.plugin_name = "text"
    elif what == "described":  # the scalars plugin, metadata bytes not the usual ones
        v.tensor.dtype = 1
        v.tensor.tensor_shape.SetInParent()
        v.tensor.float_val.append(x)
        v.metadata.plugin_data.plugin_name = "scalars"
        v.metadata.summary_description = "d"
    elif what == "odd_tensor":  # an int scalar / a [1] tensor / no shape: the per-event path only
        v.tensor.dtype = draw(st.sampled_from([1, 3, 9]))
        if v.tensor.dtype == 1:
            v.tensor.tensor_shape.dim.add(size=1)
            v.tensor.float_val.append(x)
        else:
            v.tensor.int64_val.append(7) if v.tensor.dtype == 9 else v.tensor.int_val.append(7)
        if draw(st.booleans()):
            v.metadata.plugin_data.plugin_name = "scalars"
    elif what == "emptytag":
        return _field(1, b"") + b"\x15" + f4
    elif what == "unknown_field":  # an unknown field after a scalar layout
        return _field(1, tag) + b"\x15" + f4 + b"\x78\x01"
    elif what == "twotensors":  # tensor field twice: the last one wins
        return _field(1, tag) + _field(8, b"\x08\x01\x12\x00\x22\x04" + f4) + _field(8, b"\x08\x01\x12\x00\x22\x04" + f4[::-1])
    return v.SerializeToString()


@st.composite
def _event(draw):
    """One serialized Event: mostly summaries (one value or several), sometimes other events or odd bytes."""
    from tfformats.proto import pb

    wt = draw(st.sampled_from([0.0, 1.5, 1.7e9, -2.0]))
    step = draw(st.sampled_from([0, 1, 127, 128, 300, 1 << 40, -1, -(1 << 63), (1 << 63) - 1]))
    head = (b"\x09" + np.float64(wt).tobytes() if wt else b"") + (b"\x10" + _varint(step) if step else b"")
    kind = draw(st.sampled_from(["summary"] * 8 + ["version", "session", "graph", "odd"]))
    if kind == "summary":
        values = draw(st.lists(_value(), min_size=0, max_size=4))
        if draw(st.integers(0, 20)) == 0:
            values = values * 20  # more values than decoded in bulk
        body = b"".join(_field(1, v) for v in values)
        if draw(st.integers(0, 10)) == 0:  # after the values: an unknown field, or damage
            body += draw(st.sampled_from([b"\x10\x01", b"\x0a\x05", b"\x0a", b"\x0a\x00"]))
        if draw(st.integers(0, 10)) == 0:  # non-minimal lengths: the same message
            return head + b"\x2a" + bytes([len(body) & 0x7F | 0x80, len(body) >> 7 | 0x80, 0x00]) + body
        return head + _field(5, body)
    if kind == "version":
        return pb.Event(wall_time=wt, file_version="brain.Event:2").SerializeToString()
    if kind == "session":
        return pb.Event(wall_time=wt, step=step, session_log=pb.SessionLog(status=1)).SerializeToString()
    if kind == "graph":
        return head + _field(4, b"\x0a\x02\x0a\x00")
    # odd: a scalar event cut or with a byte changed, or the summary field twice
    base = head + _field(5, _field(1, _field(1, b"t") + b"\x15" + bytes(4)))
    how = draw(st.sampled_from(["cut", "flip", "twice", "trailing"]))
    if how == "cut":
        return base[: draw(st.integers(0, len(base) - 1))]
    if how == "flip":
        i = draw(st.integers(0, len(base) - 1))
        return base[:i] + bytes([base[i] ^ draw(st.integers(1, 255))]) + base[i + 1 :]
    if how == "twice":
        return base + _field(5, _field(1, _field(1, b"u") + b"\x15" + bytes(4)))
    return base + b"\x10\x05"  # a step after the summary


def _tables_equal(a, b) -> None:
    assert a.runs == b.runs and a.files == b.files
    for k in tfev._FIELDS:
        try:
            ta = getattr(a, k)
        except AttributeError:
            with pytest.raises(AttributeError):
                getattr(b, k)
            continue
        tb = getattr(b, k)
        assert len(ta) == len(tb), k
        for f in ta.fields:
            ca, cb = ta[f], tb[f]
            assert type(ca) is type(cb), (k, f)
            if isinstance(ca, np.ndarray):
                assert ca.dtype == cb.dtype and ca.tobytes() == cb.tobytes(), (k, f)  # bit for bit, NaNs too
            else:
                assert [repr(x) for x in ca] == [repr(x) for x in cb], (k, f)


def _read_both(path, batch=None, **kw):
    """read_events in bulk and event by event (``batch``: records per bulk batch of files read batch-wise)."""
    got = []
    for bulk in (True, False):
        old = tfev._BULK, tfev._BATCH, tfev._SEGMENT
        tfev._BULK = bulk
        tfev._BATCH = batch or old[1]
        tfev._SEGMENT = batch or old[2]
        try:
            got.append(tfev.read_events(path, **kw))
        except tfformats.TFFormatsError as exc:
            got.append(exc)
        finally:
            tfev._BULK, tfev._BATCH, tfev._SEGMENT = old
    return got


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    files=st.lists(st.lists(_event(), max_size=30), min_size=1, max_size=3),
    two_runs=st.booleans(),
    tags=st.sampled_from([None, ["a"], ["loss", "x" * 130, "\ufffd\ufffd"]]),
    kinds=st.sampled_from([None, ["scalars"], ["scalars", "tensors"]]),
    cut=st.integers(0, 3),
    batch=st.sampled_from([None, 1, 3, 8]),
)
def test_bulk_scalars_agree_with_per_event_decoding(tmp_path_factory, files, two_runs, tags, kinds, cut, batch):
    """Random mixes of scalar events, near misses and other events: the bulk decoder changes nothing.

    ``cut`` bytes off the end of each file (a writer still running) send it to
    the record iterator, whose batches (of ``batch`` records) are decoded in
    bulk too; whole files are decoded ``batch`` records at a time as well.
    """
    d = tmp_path_factory.mktemp("bulk")
    for j, events in enumerate(files):
        run = d / (f"r{j % 2}" if two_runs else "r")
        run.mkdir(exist_ok=True)
        p = run / f"events.out.tfevents.{j}.host"
        tfr.write(p, events)
        if cut and events:
            p.write_bytes(p.read_bytes()[:-cut])
    fast, slow = _read_both(d, batch=batch, tags=tags, kinds=kinds)
    if isinstance(slow, Exception):
        assert type(fast) is type(slow) and str(fast) == str(slow)
    else:
        assert not isinstance(fast, Exception), fast
        _tables_equal(fast, slow)


def test_bulk_scalars_agree_on_the_fixtures_and_damage(tmp_path):
    fast, slow = _read_both(EV)
    _tables_equal(fast, slow)
    src = tfev.find_runs(EV / "tf2")["."][0]
    data = open(src, "rb").read()
    for cut in (len(data) - 7, len(data) // 2):  # truncated: the record iterator tolerates it
        p = tmp_path / f"cut{cut}" / "events.out.tfevents.1.host"
        p.parent.mkdir()
        p.write_bytes(data[:cut])
        fast, slow = _read_both(p.parent)
        _tables_equal(fast, slow)
        assert fast.files[0][3] is not None
    bad = bytearray(data)
    bad[40] ^= 1
    p = tmp_path / "events.out.tfevents.2.host"
    p.write_bytes(bytes(bad))
    fast, slow = _read_both(p)
    assert isinstance(slow, ChecksumError) and type(fast) is type(slow) and str(fast) == str(slow)


@pytest.mark.parametrize("cut, batch", [(0, None), (0, 2), (1, 2), (1, 3), (1, 100)])
def test_bulk_scalars_plugin_state_between_bulk_and_per_event_records(tmp_path, cut, batch):
    """A tag's plugin set by bulk-decoded values is seen by the events decoded one by one, and back.

    ``cut``: the files lose their last byte, so they are read batch by batch (``batch`` records).
    Empty files too.
    """
    meta = b"\x4a\x0b\x0a\x09\x0a\x07scalars"
    head = b"\x09" + np.float64(2.0).tobytes() + b"\x10\x03"

    def ev(*values):
        return head + _field(5, b"".join(_field(1, v) for v in values))

    def scalar(tag, x, with_meta):
        return _field(1, tag) + _field(8, b"\x08\x01\x12\x00\x22\x04" + np.float32(x).tobytes()) + (meta if with_meta else b"")

    histo = _field(1, b"h") + _field(5, b"\x09" + bytes(8))
    other = _field(1, b"t") + _field(8, b"\x08\x01\x12\x00\x2a\x04" + bytes(4)) + _field(9, _field(1, _field(1, b"custom")))
    files = [
        # bulk value with metadata, then per-event records (a histogram beside) without: scalars
        [ev(scalar(b"t", 1, True)), ev(histo, scalar(b"t", 2, False)), ev(scalar(b"t", 3, False))],
        # another plugin set per event, then a bulk value without metadata: a tensor (and back to scalars)
        [ev(other), ev(scalar(b"t", 4, False)), ev(scalar(b"t", 5, True)), ev(scalar(b"t", 6, False))],
        # no metadata ever in this run: tensors
        [ev(scalar(b"u", 7, False)), ev(histo, scalar(b"u", 8, False))],
    ]
    version = b"\x1a\x0dbrain.Event:2"
    for j, events in enumerate(files):
        d = tmp_path / ("r2" if j == 2 else "r1")
        d.mkdir(exist_ok=True)
        p = d / f"events.out.tfevents.{j}.host"
        tfr.write(p, [version] * 3 + events + [version])
        if cut:
            p.write_bytes(p.read_bytes()[:-cut])
    (tmp_path / "r1" / "events.out.tfevents.9.empty").write_bytes(b"")
    fast, slow = _read_both(tmp_path, batch=batch)
    _tables_equal(fast, slow)
    assert fast.scalars["value"].tolist() == [1, 2, 3, 5, 6]
    assert [(r.tag, r.plugin) for r in fast.tensors] == [("t", "custom"), ("t", "custom"), ("u", ""), ("u", "")]


def test_log_dir_skips_files_that_are_not_record_files(tmp_path):
    src = DATA / "events" / "tf1"
    d = tmp_path / "logs"
    shutil.copytree(src, d / "run")
    (d / "run" / "tfevents_notes.txt").write_text("not records\n")
    want = tfev.read_events(src)
    log = tfev.read_events(d)
    assert len(log.scalars) == len(want.scalars) and len(log.files) == 2
    [skipped] = [f for f in log.files if f.skipped]
    assert skipped.path.endswith("tfevents_notes.txt") and "not a TFRecord file" in skipped.skipped
    assert all(f.skipped is None for f in log.files if f is not skipped)
    assert len(list(tfev.iter_summaries(d))) == len(list(tfev.iter_summaries(src)))
    # named explicitly, the file is read, and refused
    with pytest.raises(DataLossError, match="tfevents_notes.txt"):
        tfev.read_events(d / "run" / "tfevents_notes.txt")


def test_tags_that_are_not_utf8_stay_apart(tmp_path):
    # TensorBoard refuses such files; tfformats keeps the two series apart instead of merging them
    from tfformats.proto import pb

    evs = []
    for step, tag in enumerate([b"t\xff1", b"t\xfe1", b"t\xff1"]):
        e = pb.Event(step=step, wall_time=1.0)
        v = e.summary.value.add()
        v.tag = "zzz"  # as long as the tags put in its place
        v.simple_value = float(step)
        raw = e.SerializeToString().replace(b"zzz", tag)
        evs.append(raw)
    p = tmp_path / "events.out.tfevents.1.host"
    tfr.write(p, evs)
    log = tfev.read_events(p)
    assert sorted(log.scalars.tags()) == ["t\\xfe1", "t\\xff1"]
    assert log.scalars.filter(tag="t\\xff1")["step"].tolist() == [0, 2]


@pytest.mark.parametrize("comp", ["GZIP", "ZLIB"])
def test_compressed_event_file_in_a_log_dir_is_read_not_skipped(tmp_path, comp):
    # found by the fuzzer (events harness): the not-a-record-file check looked at the raw bytes of a
    # compressed stream, which the readers decompress, and skipped a file they read
    src = next((DATA / "events" / "tf1").iterdir())
    d = tmp_path / "logs" / "run"
    d.mkdir(parents=True)
    tfr.write(d / "events.out.tfevents.1.host", tfr.read(src), compression=comp)
    want = tfev.read_events(src)
    log = tfev.read_events(tmp_path / "logs")
    assert len(log.scalars) == len(want.scalars) > 0 and log.files[0].skipped is None
