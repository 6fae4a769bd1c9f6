"""TensorFlow and tfformats on the same TFRecord, Example and event files, both directions."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

tf = pytest.importorskip("tensorflow")

import tfformats  # noqa: E402
import tfformats.events as tfev  # noqa: E402
from tfformats._io.varint import encode as _varint  # noqa: E402
import tfformats.example as tfe  # noqa: E402
import tfformats.records as tfr  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(os.path.dirname(HERE), "tests", "data")

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
records_st = st.lists(st.binary(max_size=300), max_size=30)


def tf_read(path, comp) -> list[bytes]:
    return [r.numpy() for r in tf.data.TFRecordDataset(str(path), compression_type=comp)]


# -- TFRecord framing ----------------------------------------------------------------------------
@pytest.mark.parametrize("comp", ["", "GZIP", "ZLIB", "SNAPPY"])
def test_tensorflow_reads_what_we_write(tmp_path, comp):
    rng = np.random.default_rng(1)
    recs = [b"", b"a", rng.bytes(1000), rng.bytes(300_000), bytes(1 << 20), *(rng.bytes(int(n)) for n in rng.integers(0, 5000, 200))]
    p = tmp_path / "ours.tfrecord"
    tfr.write(p, recs, compression=comp)
    assert tf_read(p, comp) == recs


@pytest.mark.parametrize("comp", ["GZIP", "ZLIB", "SNAPPY"])
def test_tensorflow_reads_our_flushed_streams(tmp_path, comp):
    p = tmp_path / "flushed.tfrecord"
    with tfr.RecordWriter(p, comp) as w:
        for i in range(50):
            w.write(b"%d" % i * i)
            if i % 7 == 0:
                w.flush()
    assert tf_read(p, comp) == [b"%d" % i * i for i in range(50)]


@pytest.mark.parametrize("comp", ["GZIP", "ZLIB"])
def test_unclosed_tensorflow_writer_reads_like_tensorflow(tmp_path, comp):
    # a TFRecordWriter flushed and still open (a job still writing): no end marker yet
    p = tmp_path / "open.tfrecord"
    w = tf.io.TFRecordWriter(str(p), tf.io.TFRecordOptions(compression_type=comp))
    for i in range(40):
        w.write(b"%d" % i * (i + 1))
    w.flush()
    snap = tmp_path / "snapshot.tfrecord"
    snap.write_bytes(p.read_bytes())
    w.close()
    want = tf_read(snap, comp)
    assert len(want) == 40
    it = tfr.read(snap)
    assert list(it) == want and it.unterminated is not None and it.truncated is None
    assert tfr.count(snap) == 40


@pytest.mark.parametrize("comp", ["GZIP", "ZLIB"])
@pytest.mark.parametrize("after", ["second stream", "garbage", "zeros"])
def test_bytes_after_a_compressed_stream_read_like_tensorflow(tmp_path, comp, after):
    # a second TFRecordWriter appending to the file, or anything else after the first stream's end:
    # TF reads further gzip members, fails on other bytes after a gzip member, and ignores
    # everything after the end of a zlib stream
    first, second = tmp_path / "a.tfrecord", tmp_path / "b.tfrecord"
    tfr.write(first, [b"a1", b"a2" * 100], compression=comp)
    tfr.write(second, [b"b1"], compression=comp)
    tail = {"second stream": second.read_bytes(), "garbage": b"not a stream", "zeros": bytes(64)}[after]
    p = tmp_path / "joined.tfrecord"
    p.write_bytes(first.read_bytes() + tail)
    try:
        want = tf_read(p, comp)
    except tf.errors.DataLossError:
        want = None
    if want is None:
        with pytest.raises(tfformats.errors.DataLossError):
            list(tfr.read(p, comp))
        return
    it = tfr.read(p, comp)
    assert list(it) == want
    assert (it.ignored_data is not None) == (comp == "ZLIB")


@SETTINGS
@given(records_st, st.sampled_from(["", "GZIP", "ZLIB"]))
def test_we_read_what_tensorflow_writes(tmp_path, recs, comp):
    p = tmp_path / "tf.tfrecord"
    with tf.io.TFRecordWriter(str(p), tf.io.TFRecordOptions(compression_type=comp)) as w:
        for r in recs:
            w.write(r)
    assert list(tfr.read(p)) == recs
    assert list(tfr.read(p, compression=comp)) == recs
    assert tfr.count(p) == len(recs)
    if recs or comp:
        assert tfr.detect_compression(p) == (comp or "NONE")


@SETTINGS
@given(records_st)
def test_byte_identical_uncompressed_output(tmp_path, recs):
    p, q = tmp_path / "tf", tmp_path / "ours"
    with tf.io.TFRecordWriter(str(p)) as w:
        for r in recs:
            w.write(r)
    tfr.write(q, recs)
    assert p.read_bytes() == q.read_bytes()


def test_we_read_tensorflows_snappy_writer(tmp_path):
    recs = [b"x" * n for n in (0, 10, 1000, 100_000)]
    p = tmp_path / "snappy.tfrecord"
    tf.data.experimental.TFRecordWriter(str(p), compression_type="SNAPPY").write(tf.data.Dataset.from_tensor_slices(recs))
    assert tfr.detect_compression(p) == "SNAPPY"
    assert list(tfr.read(p)) == recs == tf_read(p, "SNAPPY")


def test_tensorflows_snappy_writer_makes_blocks_its_reader_refuses(tmp_path):
    # A record over 256 KiB goes into one snappy block, which TF's own reader
    # rejects ("Output buffer ... too small"); tfformats reads it.
    recs = [b"y" * 400_000]
    p = tmp_path / "big_snappy.tfrecord"
    tf.data.experimental.TFRecordWriter(str(p), compression_type="SNAPPY").write(tf.data.Dataset.from_tensor_slices(recs))
    with pytest.raises(tf.errors.ResourceExhaustedError):
        tf_read(p, "SNAPPY")
    assert list(tfr.read(p)) == recs


def test_fixtures_agree_with_tf_data():
    d = os.path.join(DATA, "records")
    for name in sorted(os.listdir(d)):
        if name.endswith(".tfrecord"):
            comp = tfr.detect_compression(os.path.join(d, name)) if os.path.getsize(os.path.join(d, name)) else ""
            assert list(tfr.read(os.path.join(d, name))) == tf_read(os.path.join(d, name), "" if comp == "NONE" else comp)


# -- Examples ---------------------------------------------------------------------------------------
feature_values = st.one_of(
    st.lists(st.integers(-(2**63), 2**63 - 1), max_size=5).map(lambda v: ("int64", v)),
    st.lists(st.floats(width=32), max_size=5).map(lambda v: ("float32", v)),
    st.lists(st.binary(max_size=6), max_size=4).map(lambda v: ("bytes", v)),
)
TF_DTYPE = {"int64": tf.int64, "float32": tf.float32, "bytes": tf.string}


@SETTINGS
@given(st.dictionaries(st.text("abcdefgh", min_size=1, max_size=4), feature_values, min_size=1, max_size=5))
def test_tensorflow_parses_our_examples(feats):
    kinds = {k: kind for k, (kind, _) in feats.items()}
    rec = tfe.encode_example({k: v for k, (_, v) in feats.items()}, kinds=kinds)
    spec = {k: tf.io.VarLenFeature(TF_DTYPE[kind]) for k, kind in kinds.items()}
    parsed = tf.io.parse_single_example(rec, spec)
    ours = tfe.decode_example(rec)
    for k, (kind, v) in feats.items():
        got = parsed[k].values.numpy()
        want = np.asarray(v, dtype=object if kind == "bytes" else kind)
        assert got.tolist() == want.tolist() or (kind == "float32" and np.array_equal(got, want, equal_nan=True))
        assert np.array_equal(ours[k], got, equal_nan=kind == "float32") if kind != "bytes" else ours[k].tolist() == got.tolist()
    # and TF's own protobuf sees the same message
    ex = tf.train.Example.FromString(rec)
    assert set(ex.features.feature) == set(feats)


@SETTINGS
@given(st.lists(st.dictionaries(st.sampled_from(["p", "q", "r"]), feature_values, max_size=3), min_size=1, max_size=10))
def test_decode_examples_matches_parse_example(rows):
    kinds: dict = {}
    for r in rows:
        for k, (kind, _) in r.items():
            kinds.setdefault(k, kind)
    rows = [{k: v for k, (kind, v) in r.items() if kinds[k] == kind} for r in rows]
    recs = []
    for r in rows:  # built and serialized by TensorFlow's own classes
        f = {}
        for k, v in r.items():
            if kinds[k] == "int64":
                f[k] = tf.train.Feature(int64_list=tf.train.Int64List(value=v))
            elif kinds[k] == "float32":
                f[k] = tf.train.Feature(float_list=tf.train.FloatList(value=v))
            else:
                f[k] = tf.train.Feature(bytes_list=tf.train.BytesList(value=v))
        recs.append(tf.train.Example(features=tf.train.Features(feature=f)).SerializeToString())
    spec = {k: tf.io.VarLenFeature(TF_DTYPE[kind]) for k, kind in kinds.items()}
    parsed = tf.io.parse_example(tf.constant(recs), spec) if spec else {}
    cols = tfe.decode_examples(recs, {k: tfe.FeatureSpec(kind) for k, kind in kinds.items()})
    for k in kinds:
        sp = parsed[k]
        lengths = np.bincount(sp.indices.numpy()[:, 0], minlength=len(recs))
        assert cols[k].row_lengths.tolist() == lengths.tolist()
        v = sp.values.numpy()
        if kinds[k] == "float32":
            assert np.array_equal(cols[k].values, v, equal_nan=True)
        else:
            assert cols[k].values.tolist() == v.tolist()


@SETTINGS
@given(
    st.lists(st.lists(st.floats(width=32, allow_nan=False), min_size=2, max_size=2), max_size=4),
    st.lists(st.lists(st.integers(-5, 5), max_size=3), max_size=4),
)
def test_tensorflow_parses_our_sequence_examples(frames, ids):
    rec = tfe.encode_sequence_example(
        {"id": 7, "name": "seq"},
        {"frames": np.array(frames, np.float32).reshape(-1, 2), "ids": ids},
        kinds={"frames": "float32", "ids": "int64"},
    )
    ctx, lists = tf.io.parse_single_sequence_example(
        rec,
        {"id": tf.io.FixedLenFeature([], tf.int64), "name": tf.io.FixedLenFeature([], tf.string)},
        {"frames": tf.io.FixedLenSequenceFeature([2], tf.float32), "ids": tf.io.RaggedFeature(tf.int64)},
    )
    assert ctx["id"].numpy() == 7 and ctx["name"].numpy() == b"seq"
    assert np.array_equal(lists["frames"].numpy(), np.array(frames, np.float32).reshape(-1, 2))
    assert lists["ids"].to_list() == ids
    ours_ctx, ours = tfe.decode_sequence_example(rec, None, {"frames": ("float32", (2,)), "ids": tfe.FeatureSpec("int64")})
    assert np.array_equal(ours["frames"], lists["frames"].numpy())
    assert ours["ids"].to_list() == ids


# -- event files ---------------------------------------------------------------------------------------
def test_fresh_tf2_event_file(tmp_path):
    rng = np.random.default_rng(3)
    w = tf.summary.create_file_writer(str(tmp_path / "run"))
    with w.as_default():
        for step in range(30):
            tf.summary.scalar("a", rng.normal(), step=step)
            tf.summary.scalar("b", step * 2, step=step)
            if step % 10 == 0:
                tf.summary.histogram("h", rng.normal(size=50), step=step)
                tf.summary.text("t", f"step {step}", step=step)
    w.close()
    (path,) = [os.path.join(tmp_path / "run", f) for f in os.listdir(tmp_path / "run")]
    theirs = list(tf.compat.v1.train.summary_iterator(path))
    ours = list(tfev.iter_events(path))
    assert [e.SerializeToString() for e in ours] == [e.SerializeToString() for e in theirs]
    log = tfev.read_events(tmp_path)
    want = sorted(
        ("run", v.tag, e.step, e.wall_time, float(tf.make_ndarray(v.tensor)))
        for e in theirs if e.HasField("summary") for v in e.summary.value if v.tag in ("a", "b")
    )
    assert sorted(tuple(r) for r in log.scalars) == want
    hist = {r.step: r.value.buckets for r in log.histograms}
    for e in theirs:
        for v in e.summary.value if e.HasField("summary") else []:
            if v.tag == "h":
                assert np.array_equal(hist[e.step], tf.make_ndarray(v.tensor))
    assert [r.value for r in log.text] == [f"step {s}" for s in (0, 10, 20)]


def test_fixture_event_files_agree_with_summary_iterator():
    runs = tfev.find_runs(os.path.join(DATA, "events"))
    n = 0
    for files in runs.values():
        for f in files:
            theirs = [e.SerializeToString() for e in tf.compat.v1.train.summary_iterator(f)]
            assert [e.SerializeToString() for e in tfev.iter_events(f)] == theirs
            n += 1
    assert n == 5


# -- event files from other writers ------------------------------------------------------------------
import sys  # noqa: E402

sys.path[:0] = [os.path.join(os.path.dirname(HERE), "tests"), os.path.join(os.path.dirname(HERE), "tests", "generate")]
import gen_event_writers as writers  # noqa: E402
from _event_oracle import check_against_tensorboard  # noqa: E402

WRITERS = {
    "pytorch": writers.gen_pytorch,
    "tensorboardx": writers.gen_tensorboardx,
    "tf1_extra": writers.gen_tf1_extra,
    "tf1_reopen": writers.gen_tf1_reopen,
    "tf2_extra": writers.gen_tf2_extra,
    "keras3": lambda d: writers.gen_keras(d, "keras3"),
    "tf_keras": lambda d: writers.gen_keras(d, "tf_keras"),
}


@pytest.mark.parametrize("which", sorted(WRITERS))
def test_fresh_logs_of_other_writers_agree_with_tensorboard(tmp_path, which):
    logdir = str(tmp_path / which)
    WRITERS[which](logdir)
    arrays: dict = {}
    view = writers.tensorboard_view(logdir, arrays)
    counts = check_against_tensorboard(tfev.read_events(logdir), view, arrays)
    assert sum(counts.values()) > 0
    for files in tfev.find_runs(logdir).values():
        for f in files:
            theirs = [e.SerializeToString() for e in tf.compat.v1.train.summary_iterator(f)]
            assert [e.SerializeToString() for e in tfev.iter_events(f)] == theirs


import gen_event_restarts as restarts  # noqa: E402


@pytest.mark.parametrize("purge", [False, True])
@pytest.mark.parametrize("which", sorted(restarts.GENERATORS))
def test_fresh_restarted_logs_agree_with_tensorboard(tmp_path, which, purge):
    # TensorBoard's EventAccumulator(purge_orphaned_data=purge) and read_events(purge_orphaned_data=purge)
    logdir = str(tmp_path / which)
    restarts.GENERATORS[which](logdir)
    arrays: dict = {}
    view = writers.tensorboard_view(logdir, arrays, purge=purge)
    counts = check_against_tensorboard(tfev.read_events(logdir, purge_orphaned_data=purge), view, arrays)
    assert counts["scalars"] > 0


@pytest.mark.parametrize("which", sorted(WRITERS))
def test_purging_the_logs_of_other_writers_agrees_with_tensorboard(tmp_path, which):
    logdir = str(tmp_path / which)
    WRITERS[which](logdir)
    arrays: dict = {}
    view = writers.tensorboard_view(logdir, arrays, purge=True)
    check_against_tensorboard(tfev.read_events(logdir, purge_orphaned_data=True), view, arrays)


def test_committed_writer_fixtures_agree_with_summary_iterator():
    n = 0
    for files in tfev.find_runs(os.path.join(DATA, "event_writers")).values():
        for f in files:
            theirs = [e.SerializeToString() for e in tf.compat.v1.train.summary_iterator(f)]
            assert [e.SerializeToString() for e in tfev.iter_events(f)] == theirs
            n += 1
    assert n == 14


# -- schema inference: the inferred spec is one TensorFlow parses the whole file with ---------------
@pytest.mark.parametrize("name", ["examples.none.tfrecord", "examples.gzip.tfrecord", "examples.snappy.tfrecord"])
def test_inferred_schema_parses_the_file_in_tensorflow(name):
    path = os.path.join(DATA, "records", name)
    schema = tfe.infer_schema(path)
    spec = eval(schema.to_tf_code(), {"tf": tf})  # noqa: S307 - our own generated code
    comp = tfr.detect_compression(path)
    recs = tf_read(path, "" if comp == "NONE" else comp)
    parsed = tf.io.parse_example(tf.constant(recs), spec)
    ours = tfe.read_examples(path, schema)
    for k, t in parsed.items():
        if isinstance(t, tf.SparseTensor):
            assert ours[k].row_lengths.tolist() == np.bincount(t.indices.numpy()[:, 0], minlength=len(recs)).tolist()
            got, want = ours[k].values, t.values.numpy()
        else:
            got, want = ours[k], t.numpy()
        assert got.shape == want.shape, k
        if got.dtype.kind == "f":
            assert np.array_equal(got, want, equal_nan=True), k
        else:
            assert got.tolist() == want.tolist(), k
    for k, f in schema.items():
        assert f.fixed == (not isinstance(spec[k], tf.io.VarLenFeature)), k


def test_inferred_sequence_schema_parses_the_file_in_tensorflow():
    path = os.path.join(DATA, "records", "sequence_examples.zlib.tfrecord")
    schema = tfe.infer_schema(path)
    ns = {"tf": tf}
    exec(schema.to_tf_code(), ns)  # noqa: S102 - our own generated code
    ctx_spec, seq_spec = ns["context_features"], ns["sequence_features"]
    for rec in tf_read(path, "ZLIB"):
        ctx, lists = tf.io.parse_single_sequence_example(rec, ctx_spec, seq_spec)
        our_ctx, our_lists = tfe.decode_sequence_example(rec, schema.context, schema.feature_lists)
        for k, t in ctx.items():
            assert np.asarray(our_ctx[k]).tolist() == np.asarray(t.numpy()).tolist(), k
        for k, t in lists.items():
            got = our_lists[k]
            if isinstance(t, tf.RaggedTensor):
                assert got.row_lengths.tolist() == t.row_lengths().numpy().tolist(), k
                got, want = got.values, t.flat_values.numpy()
            else:
                want = t.numpy()
                assert got.shape == want.shape, k
            assert np.asarray(got).reshape(-1).tolist() == want.reshape(-1).tolist(), k


def _ld(tag: int, body: bytes) -> bytes:
    assert len(body) < 128
    return bytes([tag, len(body)]) + body


# Feature encodings where TensorFlow's Example parser and protobuf disagree (protobuf merges
# repeated list fields and concatenates packed runs; TF reads one packed run): tfformats must
# read them as TensorFlow does.  Found by the example fuzz harness, whose protobuf oracle now
# skips these encodings.
ODD_FEATURES = {
    "two packed int64 runs": (tf.int64, _ld(0x1A, _ld(0x0A, b"t0") + _ld(0x0A, b"t1"))),
    "packed then unpacked int64": (tf.int64, _ld(0x1A, _ld(0x0A, b"\x05\x06") + b"\x08\x07")),
    "two packed float runs": (tf.float32, _ld(0x12, _ld(0x0A, b"\x00\x00\x80\x3f") + _ld(0x0A, b"\x00\x00\x00\x40"))),
    "unpacked floats": (tf.float32, _ld(0x12, b"\x0d\x00\x00\x80\x3f\x0d\x00\x00\x00\x40")),
    "unpacked int64": (tf.int64, _ld(0x1A, b"\x08\x01\x08\x02\x08\x03")),
}


@pytest.mark.parametrize("case", sorted(ODD_FEATURES))
def test_odd_list_encodings_read_like_tensorflow(case):
    dtype, feature = ODD_FEATURES[case]
    example = _ld(0x0A, _ld(0x0A, _ld(0x0A, b"x") + _ld(0x12, feature)))
    want = tf.sparse.to_dense(tf.io.parse_single_example(example, {"x": tf.io.VarLenFeature(dtype)})["x"]).numpy()
    got = tfe.decode_example(example)["x"]
    assert got.tolist() == want.tolist(), (case, got, want)
    batch = tf.sparse.to_dense(tf.io.parse_example([example, example], {"x": tf.io.VarLenFeature(dtype)})["x"]).numpy()
    cols = tfe.decode_examples([example, example])["x"]
    assert [np.asarray(cols[i]).reshape(-1).tolist() for i in range(2)] == batch.tolist(), case


@pytest.mark.parametrize("values", [[2**63], [-1, 2**63], [2**64], [-(2**63) - 1]])
def test_out_of_range_integers_are_refused_like_tensorflow(values):
    with pytest.raises(ValueError):
        tf.train.Int64List(value=values)
    with pytest.raises(ValueError):  # tfformats' InvalidArgumentError is a ValueError
        tfe.encode_example({"x": values})


def test_inferred_sequence_schema_parses_records_lacking_a_feature_list(tmp_path):
    # found by a compatibility hunt: the generated FixedLenSequenceFeature lacked allow_missing=True,
    # so TensorFlow refused the records that have no such list
    F = tf.train.Feature

    def se(ctx, fl):
        return tf.train.SequenceExample(
            context=tf.train.Features(feature=ctx),
            feature_lists=tf.train.FeatureLists(feature_list={k: tf.train.FeatureList(feature=v) for k, v in fl.items()}),
        ).SerializeToString()

    recs = [se({"id": F(int64_list=tf.train.Int64List(value=[1]))}, {"f": [F(float_list=tf.train.FloatList(value=[1, 2]))]}),
            se({"id": F(int64_list=tf.train.Int64List(value=[2]))}, {})]
    p = tmp_path / "seq.tfrecord"
    tfr.write(p, recs)
    code = tfe.infer_schema(str(p)).to_tf_code()
    assert "allow_missing=True" in code
    ns = {"tf": tf}
    exec(code, ns)
    for r in recs:
        tf.io.parse_single_sequence_example(r, ns["context_features"], ns["sequence_features"])


def test_feature_with_no_list_set_is_missing_like_tensorflow():
    recs = [tf.train.Example(features=tf.train.Features(feature={"x": tf.train.Feature()})).SerializeToString(),
            tf.train.Example(features=tf.train.Features(feature={
                "x": tf.train.Feature(int64_list=tf.train.Int64List(value=[3]))})).SerializeToString()]
    want = tf.io.parse_example(recs, {"x": tf.io.FixedLenFeature([], tf.int64, default_value=5)})["x"].numpy()
    got = tfe.decode_examples(recs, {"x": tfe.FeatureSpec("int64", (), default=5)})["x"]
    np.testing.assert_array_equal(got, want)
    assert tfe.decode_example(recs[0], {"x": tfe.FeatureSpec("int64", (), default=5)})["x"] == want[0]


def _ld(tag, payload):
    return bytes([tag]) + _varint(len(payload)) + payload  # a length-delimited field


@pytest.mark.parametrize("body", [b"\x08\x05\x10\x06", b"\x08\x08" + _ld(0x0A, _varint(7))])
def test_unpacked_int64_list_followed_by_anything_else_is_refused_like_tensorflow(body):
    # found by a compatibility hunt: protobuf merges a packed run or skips an unknown field after
    # unpacked int64 values; TensorFlow's parser rejects the record, and so does tfformats now
    rec = _ld(0x0A, _ld(0x0A, _ld(0x0A, b"a") + _ld(0x12, _ld(0x1A, body))))
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.io.parse_example([rec], {"a": tf.io.VarLenFeature(tf.int64)})
    with pytest.raises(tfformats.DataLossError):
        tfe.decode_example(rec)
    with pytest.raises(tfformats.DataLossError):
        tfe.decode_examples([rec])
    good = _ld(0x0A, _ld(0x0A, _ld(0x0A, b"a") + _ld(0x12, _ld(0x1A, b"\x08\x05\x08\x06"))))
    want = tf.io.parse_example([good], {"a": tf.io.VarLenFeature(tf.int64)})["a"].values.numpy()
    np.testing.assert_array_equal(tfe.decode_example(good)["a"], want)


def test_schema_code_for_a_name_that_is_not_utf8_runs_in_tensorflow():
    # to_tf_code printed the surrogate-escaped str, which TF cannot convert; TF takes bytes keys
    e = tf.train.Example()
    e.features.feature["zz"].int64_list.value.append(3)
    rec = e.SerializeToString().replace(b"zz", b"\xff\xfe")
    code = tfe.infer_schema([rec]).to_tf_code()
    assert "b'\\xff\\xfe'" in code
    spec = eval(code, {"tf": tf})
    out = tf.io.parse_example([rec], spec)
    assert out[b"\xff\xfe"].numpy().tolist() == [3]
