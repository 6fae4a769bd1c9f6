"""tf.train.Example / SequenceExample decoding and encoding, checked against what TensorFlow parsed."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tfformats
import tfformats.example as tfe
import tfformats.records as tfr
from tfformats.errors import DataLossError, InvalidArgumentError

from _event_oracle import load
from conftest import DATA, require_data

REC = DATA / "records"

# TF's parsing spec used by the generator (FixedLen [] / [k], else VarLen)
SHAPES = {"label": (), "embedding": (4,), "name": (), "special": (3,)}
VARLEN = ["tokens", "tags", "extremes", "score"]


def same(a, b):
    a = np.asarray(a)
    b = np.asarray(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    if b.dtype == object:
        assert a.dtype == object and a.tolist() == b.tolist()
    else:
        assert a.dtype == b.dtype, (a.dtype, b.dtype)
        assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
        if a.dtype.kind == "f":  # -0.0 and NaN payloads too
            assert a.tobytes() == b.tobytes()


@pytest.fixture(scope="module")
def tf_examples():
    return np.load(require_data("records/expected_examples.npz"))


@pytest.fixture(scope="module")
def records():
    return list(tfr.read(REC / "examples.none.tfrecord"))


def test_decode_example_matches_parse_single_example(records, tf_examples):
    assert len(records) == 27
    for i, rec in enumerate(records):
        d = tfe.decode_example(rec)
        for name in (*SHAPES, *VARLEN):
            exp = load(tf_examples, f"{i}/{name}")
            got = d.get(name)
            if got is None:  # missing VarLen feature: TF gives no values
                assert name in VARLEN and exp.size == 0
                continue
            if name in SHAPES:
                got = got.reshape(SHAPES[name])
            same(got, exp)


def test_decode_example_with_schema_reshapes_like_tensorflow(records, tf_examples):
    spec = {name: tfe.FeatureSpec(kind, SHAPES.get(name)) for name, kind in
            [("label", "int64"), ("embedding", "float32"), ("name", "bytes"), ("special", "float32"),
             ("tokens", "int64"), ("tags", "bytes"), ("extremes", "int64"), ("score", "float32")]}
    for i, rec in enumerate(records):
        d = tfe.decode_example(rec, spec)
        assert set(d) == set(spec)
        for name in spec:
            same(d[name], load(tf_examples, f"{i}/{name}"))


def test_tensorflow_parser_semantics_for_unusual_encodings(records, tf_examples):
    # 24: unpacked lists; 25: the int64_list field twice in one Feature (TF reads
    # the first only, protobuf would merge); 26: a feature name twice (last wins)
    unpacked, twice, dup = (tfe.decode_example(r) for r in records[24:27])
    same(unpacked["tokens"], load(tf_examples, "24/tokens"))
    same(unpacked["score"], load(tf_examples, "24/score"))
    same(twice["tokens"], load(tf_examples, "25/tokens"))
    assert twice["tokens"].tolist() == [1, 2]
    same(dup["tokens"], load(tf_examples, "26/tokens"))
    assert dup["tokens"].tolist() == [200, 201]


def _ld(tag: int, payload: bytes) -> bytes:
    from tfformats._io.varint import encode

    return bytes([tag]) + encode(len(payload)) + payload


_K, _V = _ld(0x0A, b"a"), _ld(0x12, _ld(0x1A, _ld(0x0A, b"\x07")))  # key "a", value int64_list [7]
_U = b"\x18\x05"  # an unknown varint field


def _ex(*entries: bytes) -> bytes:
    return _ld(0x0A, b"".join(_ld(0x0A, e) for e in entries))


# Outcomes as TensorFlow 2.21's parse_example gave them (None: it refuses the record); the
# differential test in tests_tf builds thousands more such records and compares them live.
EXAMPLE_LAYOUTS = {
    "value before key": (_ex(_V + _K), [7]),
    "no key": (_ex(_V), None),
    "no value": (_ex(_K), None),
    "empty entry": (_ex(b""), None),
    "key twice": (_ex(_ld(0x0A, b"zz") + _K + _V), None),
    "value twice": (_ex(_K + _V + _V), None),
    "unknown field in entry": (_ex(_K + _V + _U), None),
    "unknown field in features": (_ld(0x0A, _ld(0x0A, _K + _V) + _U), None),
    "unknown field in example": (_U + _ex(_K + _V) + b"\x1d\x01\x02\x03\x04", [7]),
    "group in example": (b"\x1b" + _ex(_K + _V), None),
    "tag 0 in example": (b"\x00\x05" + _ex(_K + _V), [7]),
    "features twice": (_ex(_K + _V) + _ex(_ld(0x0A, b"b") + _V), [7]),
    "features length past the end": (b"\x0a" + bytes([len(_ld(0x0A, _K + _V)) + 3]) + _ld(0x0A, _K + _V), [7]),
    "key length past its entry": (_ex(b"\x0a\x09a" + _V), None),
}


@pytest.mark.parametrize("case", sorted(EXAMPLE_LAYOUTS))
def test_example_layouts_accepted_or_refused_as_tensorflow_does(case):
    rec, want = EXAMPLE_LAYOUTS[case]
    if want is None:
        with pytest.raises(DataLossError, match="not a valid tf.train.Example"):
            tfe.decode_example(rec)
        with pytest.raises(DataLossError, match="record 1"):
            tfe.decode_examples([_ex(_K + _V), rec])
    else:
        assert tfe.decode_example(rec)["a"].tolist() == want
        assert tfe.decode_examples([_ex(_K + _V), rec])["a"].reshape(-1).tolist() == [7] + want


def test_sequence_example_entries_need_key_before_value():
    # TensorFlow 2.21's parse_single_sequence_example refuses value-before-key in either part
    # (its Example parser accepts it); an unknown field inside a FeatureList is refused too
    steps = _ld(0x0A, _ld(0x1A, _ld(0x0A, b"\x07")))
    good = _ld(0x0A, _ld(0x0A, _K + _V)) + _ld(0x12, _ld(0x0A, _K + _ld(0x12, steps)))
    ctx, lists = tfe.decode_sequence_example(good)
    assert ctx["a"].tolist() == [7] and lists["a"].tolist() == [7]
    for bad in (
        _ld(0x0A, _ld(0x0A, _V + _K)),
        _ld(0x12, _ld(0x0A, _ld(0x12, steps) + _K)),
        _ld(0x12, _ld(0x0A, _K + _ld(0x12, steps + _U))),
    ):
        with pytest.raises(DataLossError, match="not a valid tf.train.SequenceExample"):
            tfe.decode_sequence_example(bad)
    # unknown fields of the SequenceExample itself are skipped
    assert tfe.decode_sequence_example(_U + good)[1]["a"].tolist() == [7]


@pytest.mark.parametrize("comp", ["none", "gzip", "zlib", "snappy"])
def test_decode_examples_matches_parse_example(comp, tf_examples):
    cols = tfe.read_examples(REC / f"examples.{comp}.tfrecord")
    n = 27
    for name, shape in SHAPES.items():
        assert isinstance(cols[name], np.ndarray)
        same(cols[name], load(tf_examples, f"batch/{name}"))
        assert cols[name].shape == (n, *shape)
    for name in ("tokens", "tags", "score"):
        r = cols[name]
        assert isinstance(r, tfe.Ragged) and len(r) == n
        same(r.values, load(tf_examples, f"batch/{name}/values"))
        same(r.row_lengths, load(tf_examples, f"batch/{name}/row_lengths"))
    # 'extremes' has four values everywhere: inferred as fixed [n, 4]
    assert cols["extremes"].shape == (n, 4)
    same(cols["extremes"].reshape(-1), load(tf_examples, "batch/extremes/values"))


def test_decode_examples_with_schema(records, tf_examples):
    schema = tfe.Schema({"label": ("int64", ()), "tokens": tfe.FeatureSpec("int64"), "extremes": tfe.FeatureSpec("int64")})
    cols = tfe.decode_examples(records, schema)
    assert set(cols) == {"label", "tokens", "extremes"}
    same(cols["label"], load(tf_examples, "batch/label"))
    assert isinstance(cols["extremes"], tfe.Ragged)
    same(cols["extremes"].values, load(tf_examples, "batch/extremes/values"))
    cols = tfe.decode_examples(records, ["score"])  # names only: shapes inferred
    same(cols["score"].values, load(tf_examples, "batch/score/values"))


def test_batch_and_single_decoding_agree(records):
    cols = tfe.decode_examples(records)
    singles = [tfe.decode_example(r) for r in records]
    for name, col in cols.items():
        for i, d in enumerate(singles):
            row = col[i] if isinstance(col, tfe.Ragged) else np.asarray(col[i]).reshape(-1)
            exp = d.get(name, np.empty(0, row.dtype))
            same(np.asarray(row).astype(exp.dtype) if row.dtype != exp.dtype else row, exp)


def test_read_examples_in_batches(records):
    whole = tfe.decode_examples(records)
    schema = tfe.infer_schema(records)
    parts = list(tfe.read_examples(REC / "examples.gzip.tfrecord", schema, batch_size=10))
    assert len(parts) == 3
    for name, col in whole.items():
        if isinstance(col, tfe.Ragged):
            assert sum((p[name].to_list() for p in parts), []) == col.to_list()
        else:
            same(np.concatenate([p[name] for p in parts]), col)


def test_infer_schema():
    schema = tfe.infer_schema(REC / "examples.zlib.tfrecord")
    assert isinstance(schema, tfe.Schema) and schema.num_records == 27
    assert {k: (v.kind, v.shape) for k, v in schema.items()} == {
        "embedding": ("float32", (4,)),
        "extremes": ("int64", (4,)),
        "label": ("int64", ()),
        "name": ("bytes", ()),
        "score": ("float32", None),
        "special": ("float32", (3,)),
        "tags": ("bytes", None),
        "tokens": ("int64", None),
    }
    assert schema["score"].present == 17 and (schema["score"].min_length, schema["score"].max_length) == (1, 1)
    assert (schema["tokens"].min_length, schema["tokens"].max_length) == (0, 6)
    code = schema.to_tf_code()
    assert "'embedding': tf.io.FixedLenFeature([4], tf.float32)," in code
    assert "'tokens': tf.io.VarLenFeature(tf.int64)," in code
    assert "'name': tf.io.FixedLenFeature([], tf.string)," in code
    assert "FeatureSpec(float32, variable, in 17 records" in repr(schema)
    assert tfe.infer_schema(REC / "examples.none.tfrecord", limit=5).num_records == 5
    assert tfformats.infer_example_schema is tfe.infer_schema


# -- SequenceExamples -----------------------------------------------------------------------------
def test_decode_sequence_example_matches_tensorflow():
    z = np.load(require_data("records/expected_sequences.npz"))
    recs = list(tfr.read(REC / "sequence_examples.gzip.tfrecord"))
    assert len(recs) == 10
    for i, rec in enumerate(recs):
        ctx, lists = tfe.decode_sequence_example(rec)
        same(ctx["id"].reshape(()), load(z, f"{i}/context/id"))
        same(ctx["lang"].reshape(()), load(z, f"{i}/context/lang"))
        steps = i % 5
        frames = lists.get("frames")
        exp = load(z, f"{i}/lists/frames")
        if steps:
            same(frames, exp)
        for name in ("words", "ids"):
            got = lists.get(name)
            values = load(z, f"{i}/lists/{name}/values")
            lengths = load(z, f"{i}/lists/{name}/row_lengths")
            if isinstance(got, tfe.Ragged):
                same(got.values, values)
                same(got.row_lengths, lengths)
            elif steps:
                same(got.reshape(-1), values)
                assert (lengths == (got.shape[1] if got.ndim == 2 else 1)).all()
        # with TF's spec: the same shapes as TF
        ctx, lists = tfe.decode_sequence_example(
            rec, {"id": ("int64", ()), "lang": ("bytes", ())},
            {"frames": ("float32", (3,)), "words": tfe.FeatureSpec("bytes"), "ids": tfe.FeatureSpec("int64")},
        )
        same(lists["frames"], exp)
        same(ctx["id"], load(z, f"{i}/context/id"))
        for name in ("words", "ids"):
            got = lists[name]
            assert isinstance(got, tfe.Ragged)
            same(got.values, load(z, f"{i}/lists/{name}/values"))
            same(got.row_lengths, load(z, f"{i}/lists/{name}/row_lengths"))


def test_infer_sequence_schema():
    schema = tfe.infer_schema(REC / "sequence_examples.none.tfrecord")
    assert isinstance(schema, tfe.SequenceSchema)
    assert {k: (v.kind, v.shape) for k, v in schema.context.items()} == {"id": ("int64", ()), "lang": ("bytes", ())}
    fl = schema.feature_lists
    assert (fl["frames"].kind, fl["frames"].shape) == ("float32", (3,))
    assert (fl["words"].kind, fl["words"].shape) == ("bytes", None)
    assert (fl["frames"].min_steps, fl["frames"].max_steps) == (0, 4)
    assert "tf.io.FixedLenSequenceFeature([3], tf.float32)" in schema.to_tf_code()


# -- encoding ---------------------------------------------------------------------------------------
def test_encode_example_round_trip():
    feats = {
        "i": 7,
        "b": True,
        "f": 0.5,
        "fs": np.linspace(0, 1, 5),
        "is": np.array([[1, -2], [3, 1 << 62]]),
        "u": np.array([2**63 - 1], dtype=np.uint64),  # uint64 past int64: refused, as TF does (below)
        "s": "héllo",
        "bs": [b"a", b"", "c"],
        "obj": np.array([b"x", b"yz"], dtype=object),
        "empty": [],
        "ef": np.zeros(0, np.float32),
    }
    rec = tfe.encode_example(feats, kinds={"empty": "int64"})
    d = tfe.decode_example(rec)
    assert d["i"].tolist() == [7] and d["b"].tolist() == [1]
    assert d["f"].dtype == np.float32 and d["f"].tolist() == [0.5]
    same(d["fs"], np.linspace(0, 1, 5).astype(np.float32))
    assert d["is"].tolist() == [1, -2, 3, 1 << 62]
    assert d["u"].tolist() == [2**63 - 1]
    assert d["s"].tolist() == ["héllo".encode()]
    assert d["bs"].tolist() == [b"a", b"", b"c"]
    assert d["obj"].tolist() == [b"x", b"yz"]
    assert d["empty"].dtype == np.int64 and d["empty"].size == 0
    assert d["ef"].dtype == np.float32 and d["ef"].size == 0
    msg = tfe.make_example(feats)
    assert msg.features.feature["fs"].float_list.value[1] == pytest.approx(0.25)
    assert msg.SerializeToString(deterministic=True)  # a real protobuf message
    assert tfformats.encode_example is tfe.encode_example


def test_encode_example_errors():
    with pytest.raises(InvalidArgumentError):
        tfe.encode_example({"x": np.array([1 + 2j])})
    with pytest.raises(InvalidArgumentError):
        tfe.encode_example({"x": [1.5]}, kinds={"x": "int64"})
    with pytest.raises(InvalidArgumentError):
        tfe.encode_example({"x": [1 << 70]}, kinds={"x": "int64"})
    with pytest.raises(InvalidArgumentError):
        tfe.encode_example({"x": 1}, kinds={"x": "complex"})
    with pytest.raises(TypeError):
        tfe.encode_example([("x", 1)])


def test_encode_sequence_example_round_trip():
    rec = tfe.encode_sequence_example(
        {"id": 3},
        {"frames": np.arange(6, dtype=np.float32).reshape(3, 2), "words": [[b"a"], [], ["b", "c"]], "n": [1, 2]},
    )
    ctx, lists = tfe.decode_sequence_example(rec)
    assert ctx["id"].tolist() == [3]
    same(lists["frames"], np.arange(6, dtype=np.float32).reshape(3, 2))
    assert lists["words"].to_list() == [[b"a"], [], [b"b", b"c"]]
    assert lists["n"].tolist() == [1, 2]
    msg = tfe.make_sequence_example({"id": 3}, {"n": [1, 2]})
    assert len(msg.feature_lists.feature_list["n"].feature) == 2


values = st.one_of(
    st.lists(st.integers(-(2**63), 2**63 - 1), max_size=6).map(lambda v: ("int64", v)),
    st.lists(st.floats(width=32, allow_nan=False), max_size=6).map(lambda v: ("float32", v)),
    st.lists(st.binary(max_size=5), max_size=4).map(lambda v: ("bytes", v)),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), values, max_size=4), min_size=1, max_size=8))
def test_columns_agree_with_single_decoding_on_random_data(rows):
    # keep one kind per feature name across rows, as real datasets do
    kinds = {}
    for r in rows:
        for k, (kind, _) in r.items():
            kinds.setdefault(k, kind)
    rows = [{k: v for k, (kind, v) in r.items() if kinds[k] == kind} for r in rows]
    recs = [tfe.encode_example(r, kinds=kinds) for r in rows]
    cols = tfe.decode_examples(recs)
    for name, col in cols.items():
        for i, r in enumerate(rows):
            exp = tfe.decode_example(recs[i]).get(name)
            got = col[i] if isinstance(col, tfe.Ragged) else np.asarray(col[i]).reshape(-1)
            if exp is None:
                assert len(got) == 0
            else:
                assert np.asarray(got).tolist() == exp.tolist()
                if name in r:
                    want = np.asarray(r[name], dtype=object if kinds[name] == "bytes" else kinds[name])
                    assert exp.tolist() == want.tolist()


# -- errors -----------------------------------------------------------------------------------------
def test_schema_mismatches_name_the_record_and_feature(records):
    with pytest.raises(InvalidArgumentError, match="record 0, feature 'score'.*no default"):
        tfe.decode_examples(records[:3], {"score": ("float32", ())})  # missing in record 0
    with pytest.raises(InvalidArgumentError, match="feature 'label'.*int64 but the schema says float32"):
        tfe.decode_examples(records, {"label": ("float32", ())})
    with pytest.raises(InvalidArgumentError, match="record 0, feature 'tokens'"):
        tfe.decode_examples(records, {"tokens": ("int64", (2,))})
    with pytest.raises(InvalidArgumentError, match="feature 'label'"):
        tfe.decode_example(records[0], {"label": ("int64", (2,))})
    cols = tfe.decode_examples(records[:3], {"score": tfe.FeatureSpec("float32", (), default=-1.0)})
    assert cols["score"].tolist() == [-1.0, 0.125, 0.25]


def test_missing_feature_in_record_zero():
    recs = [tfe.encode_example({"a": 1}), tfe.encode_example({"a": 2, "b": 1.5})]
    with pytest.raises(InvalidArgumentError, match="record 0, feature 'b'"):
        tfe.decode_examples(recs, {"b": ("float32", ())})


@pytest.mark.parametrize(
    "raw",
    [
        b"\x0a\x05\x0a\x03\x0a\x01",  # truncated map entry
        b"\xff\xff",
        b"\x0a\x0b\x0a\x09\x0a\x01a\x12\x04\x22\x02\x0a\x00",  # Feature with an unknown list tag (0x22)
        b"\x0a\x0c\x0a\x0a\x0a\x01a\x12\x05\x12\x03\x0a\x09\x00",  # packed run longer than its list
        b"\x0a\x0d\x0a\x0b\x0a\x01a\x12\x06\x12\x04\x0d\x00\x00\x00",  # unpacked float cut short
    ],
)
def test_malformed_records_raise_data_loss(raw):
    with pytest.raises(DataLossError):
        tfe.decode_example(raw)
    with pytest.raises(DataLossError):
        tfe.decode_examples([tfe.encode_example({"a": 1}), raw])


def test_non_utf8_feature_names_are_kept():
    raw = b"\x0a\x0c\x0a\x0a\x0a\x02\xff\xfe\x12\x04\x1a\x02\x0a\x00"
    d = tfe.decode_example(raw)
    assert list(d) == ["\udcff\udcfe"]


def test_ragged():
    r = tfe.Ragged(np.arange(6), [2, 0, 3, 1])
    assert len(r) == 4 and r.row_splits.tolist() == [0, 2, 2, 5, 6]
    assert r[2].tolist() == [2, 3, 4] and r[-1].tolist() == [5] and r[1].size == 0
    assert r[1:3].to_list() == [[], [2, 3, 4]]
    assert [x.tolist() for x in r[::2]] == [[0, 1], [2, 3, 4]]
    assert r.to_list() == [[0, 1], [], [2, 3, 4], [5]]
    assert r == tfe.Ragged(np.arange(6), [2, 0, 3, 1]) and r != tfe.Ragged(np.arange(6), [3, 0, 2, 1])
    assert "4 rows, 6 int64 values" in repr(r) and r.dtype == np.int64
    with pytest.raises(IndexError):
        r[4]
    with pytest.raises(InvalidArgumentError):
        tfe.Ragged(np.arange(3), [1, 1])


def test_errors_from_files_name_the_file(tmp_path):
    p = tmp_path / "bad.tfrecord"
    tfr.write(p, [tfe.encode_example({"a": 1}), b"\xff\xff", tfe.encode_example({"a": 2})])
    for call in (lambda: tfe.read_examples(p), lambda: list(tfe.read_examples(p, batch_size=2)), lambda: tfe.infer_schema(p)):
        with pytest.raises(DataLossError) as e:
            call()
        assert str(p) in str(e.value) and "record 1" in str(e.value)
    with pytest.raises(DataLossError, match="not a valid tf.train.Example or SequenceExample"):
        tfe.infer_schema(p)


def test_schema_of_a_feature_with_two_kinds_names_the_file(tmp_path):
    p = tmp_path / "mixed.tfrecord"
    tfr.write(p, [tfe.encode_example({"a": 1}), tfe.encode_example({"a": 1.5})])
    for batch_size in (4096, 1):  # the kinds disagree inside one batch, or across batches
        with pytest.raises(InvalidArgumentError) as e:
            tfe.infer_schema(p, batch_size=batch_size)
        assert e.value.path == str(p) and "'a'" in str(e.value) and "int64" in str(e.value)


def test_batches_mixing_regular_and_unusual_example_layouts():
    from tfformats._io.varint import encode as v

    def ld(tag, payload):
        return bytes([tag]) + v(len(payload)) + payload

    feat = ld(0x1A, ld(0x0A, v(42)))
    value_first = ld(0x0A, ld(0x0A, ld(0x12, feat) + ld(0x0A, b"a")))  # value before key in the map entry
    two_fields = tfe.encode_example({"a": 1}) + tfe.encode_example({"b": [2.5]})  # concatenated Examples merge
    unknown = b"\x10\x05" + tfe.encode_example({"a": 3})  # an unknown field, skipped
    long_key = tfe.encode_example({"k" * 300: 1.5, "a": 4})
    regular = [tfe.encode_example({"a": i, "b": [float(i)] * (i % 3)}) for i in range(7)]
    recs = regular[:2] + [value_first] + regular[2:4] + [two_fields, unknown, long_key] + regular[4:]
    cols = tfe.decode_examples(recs)
    assert cols["a"].tolist() == [0, 1, 42, 2, 3, 1, 3, 4, 4, 5, 6]
    singles = [tfe.decode_example(r) for r in recs]
    for name, col in cols.items():
        for i, d in enumerate(singles):
            row = col[i] if isinstance(col, tfe.Ragged) else np.asarray(col[i]).reshape(-1)
            assert np.asarray(row).tolist() == d.get(name, np.empty(0)).tolist(), (name, i)
    assert cols["b"][5].tolist() == [2.5] and cols["k" * 300][7].tolist() == [1.5]


@pytest.mark.parametrize("comp", ["none", "gzip", "zlib", "snappy"])
def test_read_examples_whole_file_path_equals_record_path(comp, records):
    path = REC / f"examples.{comp}.tfrecord"
    fast = tfe.read_examples(path)  # the whole stream in one buffer
    slow = tfe.decode_examples(list(tfr.read(path)))
    assert list(fast) == list(slow)
    for name in fast:
        if isinstance(fast[name], tfe.Ragged):
            assert fast[name] == slow[name]
        else:
            same(fast[name], slow[name])


def test_read_examples_whole_file_errors(tmp_path):
    good = (REC / "examples.none.tfrecord").read_bytes()
    bad = bytearray(good)
    bad[500] ^= 1
    p = tmp_path / "bad.tfrecord"
    p.write_bytes(bytes(bad))
    with pytest.raises(DataLossError) as e:
        tfe.read_examples(p)
    assert str(p) in str(e.value) and "record 2" in str(e.value) and "offset 412" in str(e.value)
    p.write_bytes(good[:-3])
    with pytest.raises(DataLossError, match="truncated"):
        tfe.read_examples(p)
    assert len(tfe.read_examples(p, verify=False, tolerate_truncation=True)["label"]) == 26


def test_gather_of_evenly_spaced_ranges_reaching_the_buffer_end():
    # the strided branch of _gather (fixed-length features of records laid out alike) once padded the
    # buffer to n * step bytes with a copy per feature (quadratic in features x records); its values
    # must equal the plain gather, including ranges whose last one ends at the buffer's end
    from tfformats.example import _gather

    buf = np.arange(100, dtype=np.uint8)
    for first, step, k, n in [(0, 10, 3, 10), (7, 10, 3, 9), (92, 3, 2, 3), (5, 5, 5, 19), (2, 7, 1, 14)]:
        starts = first + step * np.arange(n)
        lengths = np.full(n, k)
        want = np.concatenate([buf[s : s + k] for s in starts])
        np.testing.assert_array_equal(_gather(buf, starts, lengths), want)


@pytest.mark.parametrize("values", [[2**63], [-1, 2**63], [2**64], [-(2**63) - 1], np.array([2**63], np.uint64)])
def test_encode_example_refuses_integers_out_of_int64_range(values):
    # found by a compatibility hunt: these wrapped, turned into a float feature, or said "bytes feature
    # got a int"; TensorFlow's Int64List raises "Value out of range" (tests_tf checks it)
    with pytest.raises(tfformats.InvalidArgumentError, match="out of int64 range"):
        tfe.encode_example({"x": values})


def test_encode_example_keeps_the_int64_extremes():
    got = tfe.decode_example(tfe.encode_example({"x": [2**63 - 1, -(2**63)], "u": np.array([3], np.uint64)}))
    assert got["x"].tolist() == [2**63 - 1, -(2**63)] and got["u"].tolist() == [3]


def test_a_feature_with_no_list_set_reads_as_absent():
    # TensorFlow's parser takes a Feature with no list set for a missing feature (tests_tf checks the
    # values against tf.io.parse_example); it was counted as present with 0 values
    empty = tfe.encode_example({"x": [], "y": [1]})  # an empty list is written as a Feature with no list
    absent = tfe.encode_example({"y": [1]})
    spec = {"x": tfe.FeatureSpec("int64", (), default=5), "y": tfe.FeatureSpec("int64", ())}
    for recs in ([empty], [empty, absent], [absent, empty]):
        got = tfe.decode_examples(recs, spec)
        assert got["x"].tolist() == [5] * len(recs)
    assert tfe.decode_example(empty, spec)["x"].tolist() == tfe.decode_example(absent, spec)["x"].tolist() == 5


def test_an_empty_default_is_no_default():
    # TensorFlow's FixedLenFeature takes default_value=[] for "no default": the feature is required
    rec = tfe.encode_example({"other": [1]})
    with pytest.raises(InvalidArgumentError, match="no default"):
        tfe.decode_example(rec, {"x": tfe.FeatureSpec("int64", (0,), default=[])})
    with pytest.raises(InvalidArgumentError, match="record 0"):
        tfe.decode_examples([rec], {"x": tfe.FeatureSpec("int64", (0,), default=[])})
    assert tfe.decode_example(rec, {"x": tfe.FeatureSpec("int64", (2,), default=[7, 8])})["x"].tolist() == [7, 8]


def test_schema_code_writes_names_that_are_not_utf8_as_bytes():
    from tfformats.proto import pb

    e = pb.Example()
    e.features.feature["zz"].int64_list.value.append(3)
    rec = e.SerializeToString().replace(b"zz", b"\xff\xfe")
    assert "b'\\xff\\xfe': tf.io.FixedLenFeature([], tf.int64)" in tfe.infer_schema([rec]).to_tf_code()
