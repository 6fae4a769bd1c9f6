"""Which Example and SequenceExample layouts TensorFlow's parser accepts, and what it reads from them.

Records are assembled field by field (map entries without a key, keys given
twice, unknown fields at every level, lengths that run past their enclosing
message, groups, tag 0), then parsed by TensorFlow and by tfformats: both
must accept or both refuse, and accepted ones must give the same values.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

tf = pytest.importorskip("tensorflow")

import tfformats  # noqa: E402
import tfformats.example as tfe  # noqa: E402
from tfformats._io.varint import encode as _varint  # noqa: E402

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NAMES = ["a", "b"]


def _ld(tag: int, payload: bytes) -> bytes:
    return bytes([tag]) + _varint(len(payload)) + payload


def _int64_feature(values) -> bytes:
    return _ld(0x1A, _ld(0x0A, b"".join(_varint(v) for v in values)))


# Pieces of a record: (bytes, kind) where kind says what the piece is, for building lengths.
unknown_st = st.sampled_from([
    b"\x18\x05",  # field 3, varint
    b"\x1d\x01\x02\x03\x04",  # field 3, fixed32
    b"\x19" + bytes(8),  # field 3, fixed64
    b"\x19\x01\x02",  # fixed64 cut short
    b"\x22\x01\x00",  # field 4, length-delimited
    b"\x1b",  # group start
    b"\x1e",  # wire type 6
    b"\x00\x05",  # tag 0
    b"\x8a\x01\x00",  # field 17, length-delimited (two-byte tag)
    b"\x08\x01",  # field 1 as a varint
])
feature_st = st.one_of(
    st.lists(st.integers(0, 1000), min_size=1, max_size=3).map(_int64_feature),
    st.just(b""),  # a Feature with no list set
)
entry_field_st = st.one_of(
    st.sampled_from(NAMES).map(lambda n: _ld(0x0A, n.encode())),
    feature_st.map(lambda f: _ld(0x12, f)),
    unknown_st,
)


@st.composite
def entry_st(draw):
    """One map entry: usually a key and a value, sometimes not."""
    if draw(st.integers(0, 3)):
        fields = [_ld(0x0A, draw(st.sampled_from(NAMES)).encode()), _ld(0x12, draw(feature_st))]
        if draw(st.booleans()) and draw(st.booleans()):
            fields.reverse()
    else:
        fields = draw(st.lists(entry_field_st, max_size=3))
    body = b"".join(fields)
    extra = draw(st.sampled_from([0, 0, 0, 0, 2]))  # a length past the entry's end, sometimes
    return b"\x0a" + _varint(len(body) + extra) + body


@st.composite
def message_st(draw, field_tags=(0x0A,)):
    """A map message (Features, or a SequenceExample's parts): entries and, rarely, stray fields."""
    parts = draw(st.lists(st.one_of(entry_st(), entry_st(), entry_st(), unknown_st), max_size=4))
    body = b"".join(parts)
    tag = draw(st.sampled_from(field_tags))
    extra = draw(st.sampled_from([0, 0, 0, 0, 3]))
    return bytes([tag]) + _varint(len(body) + extra) + body


@st.composite
def example_st(draw):
    return b"".join(draw(st.lists(st.one_of(message_st(), message_st(), unknown_st), max_size=3)))


def _tf_example(rec):
    try:
        out = tf.io.parse_example([rec], {n: tf.io.VarLenFeature(tf.int64) for n in NAMES})
    except (tf.errors.InvalidArgumentError, UnicodeDecodeError):  # the error quotes the record, not always UTF-8
        return None
    return {n: out[n].values.numpy().tolist() for n in NAMES}


def _ours_example(rec):
    try:
        got = tfe.decode_example(rec, {n: tfe.FeatureSpec("int64", None) for n in NAMES})
    except tfformats.TFFormatsError:
        return None
    return {n: np.asarray(got[n].values if isinstance(got[n], tfe.Ragged) else got[n]).reshape(-1).tolist() for n in NAMES}


@SETTINGS
@given(example_st())
def test_example_layouts_accepted_and_read_like_tensorflow(rec):
    want = _tf_example(rec)
    assert _ours_example(rec) == want, rec
    # the batch reader (vectorised for plain layouts, by hand otherwise) agrees with the one-record one
    try:
        cols = tfe.decode_examples([rec, rec], {n: tfe.FeatureSpec("int64", None) for n in NAMES})
    except tfformats.TFFormatsError:
        assert want is None, rec
    else:
        assert want is not None, rec
        for n in NAMES:
            assert cols[n][0].tolist() == want[n]


def _step_list(draw_steps):
    return b"".join(_ld(0x0A, s) for s in draw_steps)


@st.composite
def sequence_st(draw):
    """A SequenceExample: context (Features) and feature_lists, each entry key-then-value or not."""
    parts = []
    for _ in range(draw(st.integers(0, 3))):
        which = draw(st.integers(0, 4))
        if which == 0:
            parts.append(draw(unknown_st))
        elif which == 1:
            parts.append(draw(message_st()))  # context
        else:
            entries = []
            for _ in range(draw(st.integers(0, 2))):
                steps = draw(st.lists(st.one_of(feature_st, st.sampled_from([b"\x1a\x00", b"\x0a\x00", b"\x1a"])), max_size=3))
                fl = _step_list(steps) + (draw(unknown_st) if not draw(st.integers(0, 6)) else b"")
                fields = [_ld(0x0A, draw(st.sampled_from(NAMES)).encode()), _ld(0x12, fl)]
                if not draw(st.integers(0, 5)):
                    fields.reverse()
                if not draw(st.integers(0, 8)):
                    fields.append(draw(entry_field_st))
                entries.append(_ld(0x0A, b"".join(fields)))
            parts.append(_ld(0x12, b"".join(entries)))
    return b"".join(parts)


def _tf_sequence(rec):
    try:
        ctx, lists = tf.io.parse_single_sequence_example(
            rec,
            context_features={n: tf.io.VarLenFeature(tf.int64) for n in NAMES},
            sequence_features={n: tf.io.RaggedFeature(tf.int64) for n in NAMES},
        )
    except (tf.errors.InvalidArgumentError, UnicodeDecodeError):  # the error quotes the record, not always UTF-8
        return None
    return ({n: ctx[n].values.numpy().tolist() for n in NAMES}, {n: lists[n].to_list() for n in NAMES})


def _ours_sequence(rec):
    try:
        ctx, lists = tfe.decode_sequence_example(
            rec,
            context_features={n: tfe.FeatureSpec("int64", None) for n in NAMES},
            sequence_features={n: tfe.FeatureSpec("int64", None) for n in NAMES},
        )
    except tfformats.TFFormatsError:
        return None

    def flat(v):
        return np.asarray(v.values if isinstance(v, tfe.Ragged) else v).reshape(-1).tolist()

    return ({n: flat(ctx[n]) for n in NAMES}, {n: lists[n].to_list() for n in NAMES})


@SETTINGS
@given(sequence_st())
def test_sequence_example_layouts_accepted_and_read_like_tensorflow(rec):
    assert _ours_sequence(rec) == _tf_sequence(rec), rec
