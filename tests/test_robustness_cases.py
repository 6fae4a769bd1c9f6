"""Hostile inputs, one case each: the cases named in issue 7, plus a regression
test for every bug the fuzzers found (see docs/robustness.md).

Each case starts from a TensorFlow-written fixture and changes one thing, then
checks that the public reader raises the documented ``TFFormatsError``
subclass, naming the file and the entry or offset.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import struct
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import tfformats  # noqa: E402
from tfformats import (  # noqa: E402
    ChecksumError,
    DataLossError,
    ResourceLimitError,
    TFFormatsError,
)

from fuzz import craft, mutate  # noqa: E402

from conftest import DATA  # noqa: E402

CKPT = DATA / "checkpoints"


def needs(module: str):
    """Skip while another helper's module has not landed yet."""
    return pytest.mark.skipif(
        importlib.util.find_spec(module) is None, reason=f"{module} is not in this checkout yet"
    )


def located(exc: TFFormatsError, path=None, entry=None) -> None:
    """The error names the file (and the entry when given)."""
    text = str(exc)
    if path is not None:
        assert os.fspath(path) in text, text
        assert exc.path is not None
    if entry is not None:
        assert repr(entry) in text or entry in text, text


@pytest.fixture
def steps(tmp_path):
    """A copy of a small TF1 checkpoint (global_step int64 scalar, w float32[3])."""
    return craft.copy_bundle(str(CKPT / "tf1_steps" / "model.ckpt-3"), str(tmp_path))


def _set_shape(entry, dims):
    del entry.shape.dim[:]
    for d in dims:
        entry.shape.dim.add(size=d)


# -- shapes ------------------------------------------------------------------------------------
@pytest.mark.parametrize("dims", [[1 << 62, 4], [1 << 32, 1 << 32], [3037000500, 3037000500], [(1 << 63) - 1, 2]])
def test_bundle_shape_whose_element_count_overflows_int64(steps, dims):
    craft.rewrite_bundle_entry(steps, "w", lambda e: _set_shape(e, dims))
    with tfformats.load_checkpoint(steps) as r:
        with pytest.raises(DataLossError) as ei:
            r.get_tensor("w")
        located(ei.value, steps + ".index", "w")
        with pytest.raises(DataLossError):
            r.get_shape("w")
        assert r.get_tensor("global_step") == 3  # the other tensors still read


def test_bundle_dim_of_minus_five(steps):
    craft.rewrite_bundle_entry(steps, "w", lambda e: _set_shape(e, [-5]))
    with tfformats.load_checkpoint(steps) as r:
        with pytest.raises(DataLossError, match="negative") as ei:
            r.get_tensor("w")
        located(ei.value, steps + ".index", "w")
        with pytest.raises(DataLossError):
            r.get_tensor_view("w")
        with pytest.raises(DataLossError):
            r.get_slice("w")


def test_tensor_proto_shape_overflow_and_negative_dim():
    from tfformats.proto import pb
    from tfformats.tensor import tensor_to_numpy

    for dims in ([1 << 62, 4], [1 << 31, 1 << 31, 1 << 2], [-5]):
        t = pb.TensorProto(dtype=1)
        for d in dims:
            t.tensor_shape.dim.add(size=d)
        t.float_val.append(1.0)
        with pytest.raises(DataLossError) as ei:
            tensor_to_numpy(t.SerializeToString(), path="graph.pb", entry="node/value")
        located(ei.value, "graph.pb", "node/value")


def test_tensor_proto_1e12_elements_from_one_value():
    from tfformats.proto import pb
    from tfformats.tensor import tensor_to_numpy

    for dtype, field in ((1, "float_val"), (9, "int64_val"), (7, "string_val"), (8, "scomplex_val"), (19, "half_val")):
        t = pb.TensorProto(dtype=dtype)
        t.tensor_shape.dim.add(size=10**6)
        t.tensor_shape.dim.add(size=10**6)
        value = {"string_val": b"x", "scomplex_val": 1.0}.get(field, 1)
        getattr(t, field).extend([value, value] if field == "scomplex_val" else [value])
        with pytest.raises(ResourceLimitError) as ei:
            tensor_to_numpy(t.SerializeToString(), path="graph.pb", entry="big")
        located(ei.value, "graph.pb", "big")
        assert isinstance(ei.value, MemoryError)  # catchable as the builtin too


# -- slices, spans, shards -----------------------------------------------------------------------
def test_slice_outside_its_tensor(tmp_path):
    prefix = craft.copy_bundle(str(CKPT / "tf1_sharded" / "model.ckpt-7"), str(tmp_path))

    def move_slice(e):
        ext = e.slices[1].extent[0]
        ext.start = 9  # rows [9, 9 + length) of a 10-row tensor
    craft.rewrite_bundle_entry(prefix, "emb", move_slice)
    with tfformats.load_checkpoint(prefix) as r:
        with pytest.raises(DataLossError, match="slice") as ei:
            r.get_tensor("emb")
        located(ei.value, prefix + ".index", "emb")
        with pytest.raises(DataLossError):
            r.get_slice("emb")[0:10]
        assert r.get_tensor("dense/bias").shape == (3,)


def test_slice_of_the_wrong_rank(tmp_path):
    prefix = craft.copy_bundle(str(CKPT / "tf1_sharded" / "model.ckpt-7"), str(tmp_path))
    craft.rewrite_bundle_entry(prefix, "emb", lambda e: e.slices[0].extent.add(start=0, length=1))
    with tfformats.load_checkpoint(prefix) as r, pytest.raises(DataLossError, match="rank"):
        r.get_tensor("emb")


def test_bundle_entry_running_past_its_shard(steps):
    shard = steps + ".data-00000-of-00001"
    size = os.path.getsize(shard)

    def past_end(e):
        e.offset = size - 4  # 12 bytes of float32[3] from 4 bytes before the end

    craft.rewrite_bundle_entry(steps, "w", past_end)
    with tfformats.load_checkpoint(steps) as r:
        for read in (r.get_tensor, r.get_tensor_view, lambda n: r.get_slice(n)[1:3]):
            with pytest.raises(DataLossError, match="past the end") as ei:
                read("w")
            located(ei.value, shard, "w")

    craft.rewrite_bundle_entry(steps, "w", lambda e: setattr(e, "offset", (1 << 63) - 1))
    with tfformats.load_checkpoint(steps) as r, pytest.raises(DataLossError):
        r.get_tensor("w")


@pytest.mark.parametrize("shard_id", [1, 7, (1 << 31) - 1])
def test_shard_id_not_below_num_shards(steps, shard_id):
    craft.rewrite_bundle_entry(steps, "w", lambda e: setattr(e, "shard_id", shard_id))
    with tfformats.load_checkpoint(steps) as r:
        with pytest.raises(DataLossError, match="shard") as ei:
            r.get_tensor("w")
        located(ei.value, steps + ".index", "w")
        assert not os.path.exists(r.backend.shard_path(shard_id))


def test_num_shards_negative_or_zero_in_header(steps):
    for n in (0, -3):
        craft.rewrite_bundle_entry(steps, "", lambda h: setattr(h, "num_shards", n))
        try:
            r = tfformats.load_checkpoint(steps)
        except DataLossError as exc:
            located(exc, steps + ".index")
            continue
        with r, pytest.raises(DataLossError):
            r.get_tensor("w")


# -- string tensors ------------------------------------------------------------------------------
def _strings_copy(tmp_path):
    return craft.copy_bundle(str(CKPT / "strings" / "ckpt"), str(tmp_path))


def test_string_lengths_claiming_more_bytes_than_the_entry(tmp_path):
    prefix = _strings_copy(tmp_path)
    shard = prefix + ".data-00000-of-00001"
    with tfformats.load_checkpoint(prefix) as r:
        offset = r.backend.entry("matrix").offset
    data = bytearray(open(shard, "rb").read())
    assert data[offset] == 4  # len("r0c0")
    data[offset] = 0x7F
    open(shard, "wb").write(bytes(data))
    for verify in (True, False):
        with tfformats.load_checkpoint(prefix, verify_checksums=verify) as r:
            with pytest.raises(DataLossError, match="string lengths") as ei:
                r.get_tensor("matrix")
            located(ei.value, shard, "matrix")


def _string_entry_bytes(lengths, payload: bytes) -> tuple[bytes, int]:
    """Bytes of a string tensor as TF lays them out, and the entry's masked CRC."""
    from crc32c import crc32c

    head = b"".join(mutate.encode_varint(n) for n in lengths)
    len_bytes = b"".join(struct.pack("<I" if n <= 0xFFFFFFFF else "<Q", n) for n in lengths)
    c_len = crc32c(len_bytes)
    stored = struct.pack("<I", mutate._mask(c_len))
    return head + stored + payload, mutate._mask(crc32c(payload, crc32c(stored, c_len)))


def test_string_lengths_whose_sum_wraps_around_uint64(tmp_path):
    # Found while writing these cases: lengths [2**64 - 1, 2] add up to 1 modulo 2**64,
    # which matched a 1-byte payload and returned made-up strings, even with
    # every checksum right.
    prefix = _strings_copy(tmp_path)
    shard = prefix + ".data-00000-of-00001"
    blob, crc = _string_entry_bytes([(1 << 64) - 1, 2], b"z")
    offset = os.path.getsize(shard)
    with open(shard, "ab") as f:
        f.write(blob)

    def point(e):
        _set_shape(e, [2])
        e.offset, e.size, e.crc32c = offset, len(blob), crc

    craft.rewrite_bundle_entry(prefix, "matrix", point)
    for verify in (True, False):
        with tfformats.load_checkpoint(prefix, verify_checksums=verify) as r:
            with pytest.raises(DataLossError) as ei:
                r.get_tensor("matrix")
            located(ei.value, shard, "matrix")


def test_string_tensor_with_more_elements_than_bytes(tmp_path):
    prefix = _strings_copy(tmp_path)
    craft.rewrite_bundle_entry(prefix, "scalar_empty", lambda e: _set_shape(e, [1 << 40]))
    with tfformats.load_checkpoint(prefix) as r, pytest.raises(DataLossError):
        r.get_tensor("scalar_empty")


# -- the table reader ----------------------------------------------------------------------------
def test_table_block_keys_outside_their_index_range():
    # Found by the table harness: a data block holding a key above its index
    # separator was listed by items() but never found by get().
    from tfformats._io.table import Table

    data = craft.table([(b"a", b"1"), (b"z", b"2")], index_key=b"b")
    with Table(data) as t:
        with pytest.raises(DataLossError, match="outside the range"):
            list(t.items())
        with pytest.raises(DataLossError):
            t.get(b"a")
    good = craft.table([(b"a", b"1"), (b"b", b"2"), (b"c", b"3"), (b"d", b"4")], blocks=2)
    with Table(good) as t:
        assert list(t.items()) == [(b"a", b"1"), (b"b", b"2"), (b"c", b"3"), (b"d", b"4")]
        assert t.get(b"c") == b"3"


def test_table_block_with_corrupt_snappy_length_does_not_allocate(tmp_path):
    # python-snappy (cramjam) aborts the whole process when it cannot allocate
    # the length a block claims; the table reader must refuse first.
    from tfformats._io.table import Table

    contents = mutate.encode_varint(3_346_983_355) + b"\x00a"
    trailer = b"\x01" + struct.pack("<I", mutate._mask(mutate._crc32c(contents + b"\x01")))
    meta = craft.block([])
    body = contents + trailer
    meta_at = len(body)
    body += meta + b"\x00" + struct.pack("<I", mutate._mask(mutate._crc32c(meta + b"\x00")))
    footer = (
        mutate.encode_varint(meta_at) + mutate.encode_varint(len(meta))
        + mutate.encode_varint(0) + mutate.encode_varint(len(contents))
    ).ljust(40, b"\x00") + struct.pack("<Q", craft.TABLE_MAGIC)
    with pytest.raises(DataLossError, match="snappy"):
        Table(body + footer)


# -- the scan command ----------------------------------------------------------------------------
def _scan_json(target, capsys):
    import json

    from tfformats.cli import main

    code = main(["scan", str(target), "--json", "--fail-on", "none"])
    return code, json.loads(capsys.readouterr().out)


@needs("tfformats.cli.scan")
def test_scan_of_a_keras_archive_with_a_damaged_member(tmp_path, capsys, monkeypatch):
    # Found by the scan harness: zipfile.BadZipFile escaped from scan_keras_archive
    # (the CLI turned it into "internal error", exit 4).
    data = bytearray((DATA / "scan" / "lambda.keras").read_bytes())
    name_at = data.find(b"config.json")
    header = data.rfind(b"PK\x03\x04", 0, name_at)
    assert header >= 0
    data[header + 3] = 0x05  # local file header magic of config.json
    target = tmp_path / "model.keras"
    target.write_bytes(bytes(data))
    monkeypatch.setenv("TFFORMATS_DEBUG", "1")  # exceptions propagate instead of exit 4
    code, doc = _scan_json(target, capsys)
    assert code == 0
    assert any(f["rule"] == "unparsable" for f in doc["findings"]), doc["findings"]


@pytest.mark.parametrize("command", ["scan", "info"])
def test_zip_whose_directory_asks_for_an_unknown_zip_version(tmp_path, capsys, monkeypatch, command):
    # Found by the scan harness (29k executions in): a central directory entry needing
    # "zip file version 11.5" makes zipfile raise NotImplementedError while the file kind
    # is detected; it escaped as an internal error.  Now a damaged-input error (exit 3).
    from tfformats.cli import main

    data = bytearray((DATA / "scan" / "lambda.keras").read_bytes())
    central = data.find(b"PK\x01\x02")
    assert central >= 0
    data[central + 6 : central + 8] = struct.pack("<H", 115)  # version needed to extract
    target = tmp_path / "model.keras"
    target.write_bytes(bytes(data))
    monkeypatch.setenv("TFFORMATS_DEBUG", "1")  # exceptions propagate instead of exit 4
    code = main([command, str(target), "--json"])
    err = capsys.readouterr().err
    assert code == 3, err
    assert "damaged zip file" in err and "model.keras" in err


# -- tf.train.Example ----------------------------------------------------------------------------
def _example_with_packed_int64(payload: bytes) -> bytes:
    """An Example {"x": int64_list packed payload}, byte by byte."""
    def ld(tag: int, body: bytes) -> bytes:
        return bytes([tag]) + mutate.encode_varint(len(body)) + body

    feature = ld(0x1A, ld(0x0A, payload))  # Feature.int64_list { value: packed }
    return ld(0x0A, ld(0x0A, ld(0x0A, b"x") + ld(0x12, feature)))  # Example.features.feature["x"]


@needs("tfformats.example")
def test_packed_int64_list_ending_inside_a_varint():
    # Found by the example harness: in a batch, a packed int64 list whose last
    # varint is cut short made the vectorised decoder index past its arrays
    # (IndexError) instead of falling back and reporting the record.
    import tfformats.example as tfe

    good = tfe.encode_example({"x": [1, 2]})
    bad = _example_with_packed_int64(b"\x01\x80")
    stream = mutate.records([good, bad])
    for call in (
        lambda: tfe.decode_example(bad),
        lambda: tfe.decode_examples([good, bad]),
        lambda: tfe.infer_schema(stream),
        lambda: tfe.read_examples(stream),
    ):
        with pytest.raises(DataLossError, match="packed int64"):
            call()
    assert tfe.decode_examples([good, good])["x"].tolist() == [[1, 2], [1, 2]]


@needs("tfformats.example")
@pytest.mark.parametrize("key_length", [(1 << 63) + 5, (1 << 64) - 1, 1 << 62])
def test_feature_key_length_of_ten_byte_varint(key_length):
    # Found by the example harness (36k executions in): a feature entry whose key length
    # is a 10-byte varint of 2^63 or more turned negative in the vectorised batch decoder,
    # which then gathered bytes at a negative position (IndexError).
    import tfformats.example as tfe

    def varint(x):
        out = bytearray()
        while True:
            out.append((x & 0x7F) | (0x80 if x >> 7 else 0))
            x >>= 7
            if not x:
                return bytes(out)

    body = b"\x0a" + varint(key_length) + b"k\x12\x00"
    entry = b"\x0a" + varint(len(body)) + body
    bad = b"\x0a" + varint(len(entry)) + entry
    good = tfe.encode_example({"x": [1, 2]})
    stream = mutate.records([good, bad])
    for call in (
        lambda: tfe.decode_example(bad),
        lambda: tfe.decode_examples([bad]),
        lambda: tfe.decode_examples([good, bad, good]),
        lambda: tfe.read_examples(stream),
    ):
        with pytest.raises(DataLossError, match="not a valid tf.train.Example"):
            call()


def test_example_input_that_raised_a_systemerror_under_the_fuzzer():
    # The example harness (atheris, 168k executions in) reported "SystemError: error return
    # without exception set" in read_examples (_split_buffer) for this input.  It does not
    # reproduce outside that fuzzing process — neither with the same instrumentation nor with
    # the same address-space cap — and uses 25 KiB; kept so any recurrence shows here.
    from fuzz.harnesses import HARNESSES

    data = (DATA / "fuzz_inputs" / "example-systemerror-667e30a7.bin").read_bytes()
    for _ in range(3):
        HARNESSES["example"](data)  # the harness's own checks against protobuf's parse run too


@pytest.mark.parametrize("name", ["example-two-packed-runs-5e0ffc83.bin", "example-trailing-nul-bytes-f599896c.bin"])
def test_example_harness_oracles_agree_with_tensorflow(name):
    # Two "findings" of the example harness were its own oracles being wrong, not the
    # library: protobuf concatenates a second packed run of an int64 list where TensorFlow's
    # parser reads only the first (tests_tf/test_records_differential.py checks tfformats
    # follows TF), and np.asarray(b"ex-\x00\x00") drops trailing NUL bytes.  The oracles skip
    # encodings where TF and protobuf differ and compare bytes as bytes; these inputs pass.
    from fuzz.harnesses import HARNESSES, _values_equal

    HARNESSES["example"]((DATA / "fuzz_inputs" / name).read_bytes())
    assert _values_equal(b"ex-\x00\x00", np.array([b"ex-\x00\x00"], object))
    assert not _values_equal(b"ex-\x00\x00", np.array([b"ex-"], object))


# -- event files ---------------------------------------------------------------------------------
@needs("tfformats.events")
def test_event_file_whose_graph_bytes_are_damaged(tmp_path):
    # Found by the events harness: EventLog.graph_def() let protobuf's DecodeError escape.
    import tfformats.events as tfev

    src = DATA / "events" / "tf1" / "events.out.tfevents.1795316390.vm"
    events = list(tfev.iter_events(str(src)))
    graph_events = [e for e in events if e.HasField("graph_def")]
    assert len(graph_events) == 1
    graph_events[0].graph_def = b"\x0a\xff\xff\xff"  # a node whose length runs past the end
    run = tmp_path / "logs" / "train"
    run.mkdir(parents=True)
    target = run / src.name
    target.write_bytes(mutate.records([e.SerializeToString() for e in events]))
    log = tfev.read_events(str(tmp_path / "logs"))
    assert len(log.scalars) == len(tfev.read_events(str(src)).scalars)  # everything else still reads
    with pytest.raises(DataLossError) as ei:
        log.graph_def("train")
    located(ei.value, target)


# -- graphs: recursion and nesting ---------------------------------------------------------------
def _saved_model_copy(tmp_path, name="tf2_module"):
    import shutil

    dst = tmp_path / name
    shutil.copytree(DATA / "saved_models" / name, dst)
    return dst


def _edit_saved_model(directory, edit) -> None:
    from tfformats.proto import pb

    p = directory / "saved_model.pb"
    sm = pb.SavedModel.FromString(p.read_bytes())
    edit(sm)
    p.write_bytes(sm.SerializeToString())


@needs("tfformats.graph")
def test_self_recursive_function_library(tmp_path):
    from tfformats.graph import iter_nodes, summarize_graph

    d = _saved_model_copy(tmp_path)
    state = {}

    def recurse(sm):
        lib = sm.meta_graphs[0].graph_def.library
        f = next(f for f in lib.function if f.signature.name.startswith("__inference_predict"))
        g = next(f for f in lib.function if f.signature.name.startswith("__inference_scale"))
        f.node_def.add(name="again", op=f.signature.name)  # f calls itself directly
        call = g.node_def.add(name="back", op="StatefulPartitionedCall")  # g -> f -> f ...
        call.attr["f"].func.name = f.signature.name
        state["f"], state["g"] = f.signature.name, g.signature.name

    _edit_saved_model(d, recurse)
    with tfformats.load_saved_model(d) as sm:
        s = sm.summary()
        assert state["f"] in s.recursive_functions
        assert state["f"] in sm.functions
        meta = sm.meta_graph
    s2 = summarize_graph(meta)
    assert state["f"] in s2.recursive_functions
    names = [n.name for loc, n in iter_nodes(meta)]
    assert names.count("again") == 1  # each function visited once


@needs("tfformats.graph")
def test_function_call_chain_deeper_than_the_interpreter_stack():
    # 5000 functions each calling the next: a recursive walk would hit RecursionError.
    from tfformats.graph import iter_nodes, summarize_graph
    from tfformats.proto import pb

    g = pb.GraphDef()
    g.node.add(name="start", op="f0")
    n = 5000
    for i in range(n):
        f = g.library.function.add()
        f.signature.name = f"f{i}"
        if i + 1 < n:
            f.node_def.add(name="next", op=f"f{i + 1}")
    s = summarize_graph(g)
    assert s.function_count == n
    assert not s.recursive_functions
    assert sum(1 for _ in iter_nodes(g)) == n  # "start" + 4999 calls
    assert g.library.function[-1].signature.name == f"f{n - 1}"


@needs("tfformats.graph")
def test_messages_nested_deeper_than_protobuf_allows():
    # AttrValue.func.attr[...] nested 5000 deep: protobuf's recursion limit refuses it, in
    # binary and in text format, and the reader says so with a DataLossError.
    from tfformats.graph import read_graph_def
    from tfformats.proto import pb

    depth = 5000
    payload = b""
    for _ in range(depth):  # AttrValue{func: NameAttrList{name: "f", attr{key: "a", value: <payload>}}}
        entry = b"\x0a\x01a" + b"\x12" + mutate.encode_varint(len(payload)) + payload
        nal = b"\x0a\x01f" + b"\x12" + mutate.encode_varint(len(entry)) + entry
        payload = b"\x52" + mutate.encode_varint(len(nal)) + nal
    attr = b"\x0a\x01a" + b"\x12" + mutate.encode_varint(len(payload)) + payload
    node = b"\x0a\x01n\x12\x05Const" + b"\x2a" + mutate.encode_varint(len(attr)) + attr
    graph = b"\x0a" + mutate.encode_varint(len(node)) + node
    with pytest.raises(DataLossError):
        read_graph_def(graph)
    text = "node { name: 'n' op: 'Const' attr { key: 'a' value { " + "func { name: 'f' attr { key: 'a' value { " * depth
    text += "}}} " * depth + "}}}"
    with pytest.raises(DataLossError):
        read_graph_def(text.encode())
    assert pb.GraphDef  # the pool still works afterwards


# -- SavedModels: dangling signatures, escaping assets ------------------------------------------
@needs("tfformats.saved_model")
def test_saved_model_signature_pointing_at_a_missing_node(tmp_path):
    d = _saved_model_copy(tmp_path)

    def dangle(sm):
        sig = sm.meta_graphs[0].signature_def["serving_default"]
        key = next(iter(sig.outputs))
        sig.outputs[key].name = "no_such_node:0"

    _edit_saved_model(d, dangle)
    with tfformats.load_saved_model(d) as sm:
        sig = sm.signature("serving_default")
        assert [s.name for s in sig.dangling()] == ["no_such_node:0"]
        assert any("no_such_node" in p for p in sm.problems)
        assert any("no_such_node" in p for p in sm.summary().problems)
        sm.to_dict()  # everything else still works


@needs("tfformats.saved_model")
def test_saved_model_asset_escaping_its_directory_is_reported_and_never_opened(tmp_path):
    d = _saved_model_copy(tmp_path, "tf1_builder")
    secret = tmp_path / "etc" / "passwd"  # what ../../etc/passwd resolves to from d/assets
    secret.parent.mkdir()
    secret.write_text("root:x:0:0\n")
    names = ["../../etc/passwd", "/etc/passwd", "vocab.txt/../../../etc/passwd"]

    def escape(sm):
        from tfformats.proto import pb

        mg = sm.meta_graphs[0]
        anys = mg.collection_def["saved_model_assets"].any_list.value
        assert len(anys) >= 1 or len(mg.asset_file_def) >= 1
        del mg.asset_file_def[:]
        del anys[:]
        for i, name in enumerate(names):
            a = pb.AssetFileDef(filename=name)
            a.tensor_info.name = f"asset_path_{i}:0"
            anys.add().Pack(a)

    _edit_saved_model(d, escape)
    opened = []

    def audit(event, args):
        if event == "open" and isinstance(args[0], (str, bytes, os.PathLike)) and "passwd" in os.fsdecode(args[0]):
            opened.append(args[0])

    sys.addaudithook(audit)
    with tfformats.load_saved_model(d) as sm:
        assets = sm.assets
        problems = sm.problems
        sm.to_dict()
    assert sorted(a.filename for a in assets) == sorted(names)
    for a in assets:
        assert not a.safe and a.path is None, a
        with pytest.raises(TFFormatsError):
            a.read_bytes()
    assert sum("passwd" in p and "unsafe" in p for p in problems) == len(names)
    assert not opened, opened


@needs("tfformats.cli.scan")
def test_scan_reports_an_escaping_asset_without_opening_it(tmp_path, capsys, monkeypatch):
    d = _saved_model_copy(tmp_path, "tf1_builder")

    def escape(sm):
        from tfformats.proto import pb

        mg = sm.meta_graphs[0]
        anys = mg.collection_def["saved_model_assets"].any_list.value
        del anys[:]
        a = pb.AssetFileDef(filename="../../etc/passwd")
        a.tensor_info.name = "asset_path:0"
        anys.add().Pack(a)

    _edit_saved_model(d, escape)
    opened = []
    sys.addaudithook(lambda e, a: opened.append(a[0]) if e == "open" and "passwd" in str(a[0]) else None)
    monkeypatch.setenv("TFFORMATS_DEBUG", "1")
    code, doc = _scan_json(d, capsys)
    assert code == 0
    assert any("passwd" in f["why"] + str(f.get("location", "")) for f in doc["findings"]), doc["findings"]
    assert not opened


# -- TFRecord lengths ----------------------------------------------------------------------------
@needs("tfformats.records")
def test_tfrecord_length_of_two_to_the_sixty(tmp_path):
    import gzip
    import io
    import zlib

    import tfformats.records as tfr

    good = (DATA / "records" / "examples.none.tfrecord").read_bytes()
    first = list(tfr.read(good))[:2]
    data = craft.record(first[0]) + craft.record(first[1], length=1 << 60)[:12] + first[1] + b"\0\0\0\0"
    path = tmp_path / "huge.tfrecord"
    path.write_bytes(data)
    sources = {
        "bytes": lambda: data,
        "file": lambda: str(path),
        "stream": lambda: io.BytesIO(data),
        "gzip": lambda: gzip.compress(data),
        "zlib": lambda: zlib.compress(data),
    }
    for kind, source in sources.items():
        got = []
        with pytest.raises(DataLossError) as ei:
            for rec in tfr.read(source()):
                got.append(rec)
        assert got == first[:1], kind  # the record before the bad length still reads
        assert ei.value.offset is not None or "offset" in str(ei.value), (kind, str(ei.value))
        it = tfr.read(source(), errors="skip")
        assert list(it)[:1] == first[:1]
        it = tfr.read(source(), tolerate_truncation=True)
        assert list(it)[:1] == first[:1]
    with pytest.raises(DataLossError):
        tfr.count(str(path))
    with pytest.raises(DataLossError), tfr.RecordFile(str(path)) as rf:
        len(rf)


@needs("tfformats.events")
def test_event_histogram_with_more_counts_than_limits(tmp_path):
    # Found by the events harness (68k executions in): a HistogramProto whose bucket and
    # bucket_limit lists differ in length let numpy's ValueError ("all input arrays must
    # have the same shape") escape.  Every writer gives one limit per count.
    import tfformats.events as tfev
    from tfformats.proto import pb

    first = pb.Event(file_version="brain.Event:2", wall_time=1.0)
    ev = pb.Event(wall_time=2.0, step=3)
    h = ev.summary.value.add(tag="w").histo
    h.min, h.max, h.num = -1.0, 1.0, 4
    h.bucket_limit.extend([0.0, 1.0])
    h.bucket.extend([1.0, 2.0, 1.0])
    path = tmp_path / "events.out.tfevents.1.host"
    path.write_bytes(mutate.records([first.SerializeToString(), ev.SerializeToString()]))
    with pytest.raises(DataLossError, match="3 bucket counts but 2 bucket limits") as ei:
        tfev.read_events(path)
    located(ei.value, path, "tag 'w'")
    del h.bucket[-1]  # matching lengths read as before
    path.write_bytes(mutate.records([first.SerializeToString(), ev.SerializeToString()]))
    assert tfev.read_events(path).histograms["value"][0].counts.tolist() == [1.0, 2.0]


@needs("tfformats.events")
def test_event_tensor_expanding_from_one_value():
    # Found while writing these cases: a 106-byte event file whose summary tensor claims
    # 2**27 floats from one value made read_events fill 512 MiB (TF's fill rule).
    # Summary writers store every element, so events now cap the expansion.
    import tfformats.events as tfev
    from tfformats.proto import pb

    first = pb.Event(file_version="brain.Event:2", wall_time=1.0)
    ev = pb.Event(wall_time=2.0, step=1)
    v = ev.summary.value.add(tag="t")
    v.metadata.plugin_data.plugin_name = "scalars"
    v.tensor.dtype = 1
    v.tensor.tensor_shape.dim.add(size=1 << 27)
    v.tensor.float_val.append(1.0)
    data = mutate.records([first.SerializeToString(), ev.SerializeToString()])
    assert len(data) < 200
    with pytest.raises(ResourceLimitError) as ei:
        tfev.read_events(data)
    assert "tag 't'" in str(ei.value)
    small = pb.Event(wall_time=2.0, step=1)  # a legitimate small fill still decodes
    w = small.summary.value.add(tag="t")
    w.tensor.dtype = 1
    w.tensor.tensor_shape.dim.add(size=1000)
    w.tensor.float_val.append(2.0)
    log = tfev.read_events(mutate.records([first.SerializeToString(), small.SerializeToString()]))
    assert log.tensors["value"][0].tolist() == [2.0] * 1000


# -- partitioned and V1 tensors ------------------------------------------------------------------
def test_partitioned_tensor_whose_slices_repeat_to_claim_a_huge_shape(tmp_path):
    # 1000 copies of one 4-row slice would "cover" a 3000-row tensor: refused before the
    # full tensor is allocated.
    prefix = craft.copy_bundle(str(CKPT / "tf1_sharded" / "model.ckpt-7"), str(tmp_path))

    def repeat(e):
        one = type(e.slices[0])()
        one.CopyFrom(next(s for s in e.slices if s.extent[0].start == 0))
        del e.slices[:]
        e.shape.dim[0].size = 4 * 1000
        for _ in range(1000):
            e.slices.add().CopyFrom(one)

    craft.rewrite_bundle_entry(prefix, "emb", repeat)
    with tfformats.load_checkpoint(prefix) as r:
        with pytest.raises(DataLossError, match="overlap") as ei:
            r.get_tensor("emb")
        located(ei.value, prefix + ".index", "emb")


def _v1_variant(tmp_path, edit_meta=None, edit_data=None, tensor="dense/bias"):
    """The V1 fixture with the meta entry and/or the data slice of ``tensor`` edited."""
    from tfformats.proto import pb

    out = []
    for k, v in craft.table_items(str(CKPT / "v1_single" / "model.ckpt-1")):
        m = pb.SavedTensorSlices.FromString(v)
        if k == b"" and edit_meta:
            edit_meta(next(t for t in m.meta.tensor if t.name == tensor))
        if k != b"" and m.data.name == tensor and edit_data:
            edit_data(m.data)
        out.append((k, m.SerializeToString()))
    path = tmp_path / "model.ckpt"
    path.write_bytes(craft.table(out))
    return path


def _dims(t, dims):
    del t.shape.dim[:]
    for d in dims:
        t.shape.dim.add(size=d)


@needs("tfformats.checkpoint.v1")
@pytest.mark.parametrize(
    "case, edit_meta, edit_data, match",
    [
        ("dim of -5", lambda t: _dims(t, [-5]), None, "negative"),
        ("element count overflows int64", lambda t: _dims(t, [1 << 62, 1 << 62]), None, "too many"),
        ("2**28 elements from a 2 KB file", lambda t: _dims(t, [1 << 28]), None, "cannot be stored"),
        ("slice outside its tensor", lambda t: (setattr(t.slice[0].extent[0], "start", 5),
                                                setattr(t.slice[0].extent[0], "length", 3)), None, "slice"),
        ("fewer values than elements", None, lambda d: d.data.float_val.__delitem__(slice(1, None)), "values"),
        ("data of another dtype", None, lambda d: setattr(d.data, "dtype", 9), "dtype"),
    ],
)
def test_v1_checkpoint_hostile_entries(tmp_path, case, edit_meta, edit_data, match):
    # A bad meta entry is refused when the file is opened (the V1 reader checks every
    # tensor's meta up front); bad data when that tensor is read, the rest still reading.
    path = _v1_variant(tmp_path, edit_meta, edit_data)
    with pytest.raises(DataLossError, match=match) as ei:
        with tfformats.load_checkpoint(path) as r:
            assert r.get_tensor("counts").tolist() == [1, -2, 3]
            r.get_tensor("dense/bias")
    located(ei.value, path, "dense/bias")


def test_row_reads_of_a_tensor_its_shard_cannot_back(steps, capped_address_space):
    # Found while reviewing read_rows after the cases above: get_slice(name)[:] allocated
    # the rows (4 GiB here) before checking that the entry lies inside its shard.
    def big(e):
        _set_shape(e, [1 << 20, 1 << 10])
        e.size = 4 << 30

    craft.rewrite_bundle_entry(steps, "w", big)
    with tfformats.load_checkpoint(steps) as r:
        for read in (lambda: r.get_slice("w")[:], lambda: r.get_slice("w")[5:], lambda: r.get_tensor("w")):
            with pytest.raises(DataLossError, match="past the end"):
                read()


def test_row_reads_of_a_partitioned_tensor_whose_slices_are_not_backed(tmp_path, capped_address_space):
    # Same for partitioned tensors: the slices tile a 10**8-row shape, but the big one's
    # bytes are not in its shard; rows must not be allocated before that is checked.
    from tfformats.checkpoint import slices as sl
    from tfformats.proto import pb

    prefix = craft.copy_bundle(str(CKPT / "tf1_sharded" / "model.ckpt-7"), str(tmp_path))
    rows = 10**8

    def retile(items):
        out = [(k, v) for k, v in items if not k.startswith(b"\x00emb\x00") and k != b"emb"]
        full = pb.BundleEntryProto.FromString(dict(items)[b"emb"])
        slice_entry = pb.BundleEntryProto.FromString(
            next(v for k, v in items if k.startswith(b"\x00emb\x00")))
        _set_shape(full, [rows, 3])
        del full.slices[:]
        for start, length in ((0, rows - 4), (rows - 4, 4)):
            ext = [(start, length), (0, -1)]
            sp = full.slices.add()
            sp.extent.add(start=start, length=length)
            sp.extent.add()
            se = pb.BundleEntryProto()
            se.CopyFrom(slice_entry)
            _set_shape(se, [length, 3])
            se.size = length * 3 * 4
            out.append((sl.encode_tensor_name_slice("emb", ext), se.SerializeToString()))
        out.append((b"emb", full.SerializeToString()))
        return out

    craft.rewrite_bundle_index(prefix, retile)
    with tfformats.load_checkpoint(prefix) as r:
        assert r.get_shape("emb") == (rows, 3)
        for read in (lambda: r.get_slice("emb")[:], lambda: r.get_slice("emb")[0:10], lambda: r.get_tensor("emb")):
            with pytest.raises(DataLossError, match="past the end|shard"):
                read()


@pytest.fixture
def capped_address_space():
    """The soft RLIMIT_AS lowered to what the process maps now + 1 GiB, for one test."""
    import resource

    from fuzz import worker

    before = resource.getrlimit(resource.RLIMIT_AS)
    if sys.platform.startswith("linux"):
        worker.cap_address_space(1 << 30)
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, before)


def test_empty_shapes_whose_other_dims_overflow():
    # Found by the tensor_proto harness (1.07M executions in): a shape with a 0 dim has no
    # elements, but numpy refuses even an empty array when the other dims multiply past
    # its limit (ValueError "array is too big").  Such shapes are refused as overflowing.
    from tfformats.proto import pb
    from tfformats.tensor import tensor_to_numpy

    for dtype in (1, 7, 18):
        for dims in ([1 << 31, 1 << 31, 0], [0, 1 << 40, 1 << 40], [(1 << 63) - 1, 0]):
            t = pb.TensorProto(dtype=dtype)
            for d in dims:
                t.tensor_shape.dim.add(size=d)
            with pytest.raises(DataLossError, match="overflow"):
                tensor_to_numpy(t.SerializeToString(), path="g.pb", entry="c")
    t = pb.TensorProto(dtype=1)
    for d in (1 << 20, 0, 3):
        t.tensor_shape.dim.add(size=d)
    assert tensor_to_numpy(t).shape == (1 << 20, 0, 3)  # ordinary empty shapes still decode


def test_bundle_empty_shape_whose_other_dims_overflow(steps):
    craft.rewrite_bundle_entry(steps, "w", lambda e: (_set_shape(e, [1 << 40, 1 << 40, 0]), setattr(e, "size", 0)))
    with tfformats.load_checkpoint(steps) as r:
        for read in (r.get_tensor, r.get_shape, r.get_tensor_view, lambda n: r.get_slice(n)[0:1]):
            with pytest.raises(DataLossError, match="too many elements"):
                read("w")


def test_shapes_of_more_dimensions_than_numpy_allows():
    # Found by the tensor_proto harness (451k executions in): TensorFlow allows up to 254
    # dimensions, numpy 64 (32 before numpy 2); a 72-dim shape of ones let numpy's
    # ValueError escape.  Such tensors are refused as unsupported, whatever their dtype.
    from tfformats import UnsupportedError
    from tfformats.proto import pb
    from tfformats.tensor import tensor_to_numpy

    for dtype in (1, 7, 14, 18):
        t = pb.TensorProto(dtype=dtype)
        for _ in range(72):
            t.tensor_shape.dim.add(size=1)
        with pytest.raises(UnsupportedError, match="72 dimensions") as ei:
            tensor_to_numpy(t.SerializeToString(), path="g.pb", entry="c")
        assert "g.pb" in str(ei.value) and "c" in str(ei.value)
    t = pb.TensorProto(dtype=1, float_val=[2.0])
    for _ in range(32):
        t.tensor_shape.dim.add(size=1)
    assert tensor_to_numpy(t).shape == (1,) * 32  # ranks numpy holds still decode


def test_bundle_entry_of_more_dimensions_than_numpy_allows(steps):
    # Same limit in checkpoints: the entry is listed with its shape (as TensorFlow would),
    # reading it is refused before any value is touched.
    from tfformats import UnsupportedError

    craft.rewrite_bundle_entry(steps, "w", lambda e: _set_shape(e, [1] * 70 + [d.size for d in e.shape.dim]))
    with tfformats.load_checkpoint(steps) as r:
        assert len(dict(r.list_variables())["w"]) >= 70
        for read in (r.get_tensor, r.get_tensor_view, lambda n: r.get_slice(n)[0:1]):
            with pytest.raises(UnsupportedError, match="dimensions") as ei:
                read("w")
            located(ei.value, steps + ".index", "w")


# -- freeze_graph --------------------------------------------------------------------------------
# Found while adding the freeze_graph harness, by a structure-level probe of the same calls
# (random edits of the NodeDefs of the cflow fixtures); the byte-level harness runs did not reach them.
CFLOW_V2 = DATA / "graphs" / "tf1_cflow_v2"


def _function(meta, name):
    return next(f for f in meta.graph_def.library.function if f.signature.name == name)


def _function_node(fn, name):
    return next(n for n in fn.node_def if n.name == name)


def test_freeze_function_with_two_nodes_of_one_name():
    # A node of a loop body renamed to the name of a Const beside it: the consumer
    # table pointed at the Const, and rewriting the variable read indexed its
    # (empty) inputs: IndexError.  TF refuses such a function; so does freeze_graph.
    from tfformats.graph import freeze_graph

    meta = tfformats.read_meta_graph(CFLOW_V2 / "model.ckpt.meta")
    body = _function(meta, "while_body_622")
    _function_node(body, "Sum").name = "add_3/y"
    with pytest.raises(DataLossError, match="two nodes named 'add_3/y'"):
        freeze_graph(meta, CFLOW_V2 / "model.ckpt", ["while/Identity_6"])


def test_freeze_graph_with_two_top_level_nodes_of_one_name():
    # The mutate engine renamed a saver's Assign to the name of the variable it assigns
    # ("w_ref"); the name table kept the last of the two, so the denylisted variable
    # came out frozen anyway.  TF refuses to import such a graph; so does freeze_graph.
    from tfformats.graph import extract_sub_graph, freeze_graph

    meta = tfformats.read_meta_graph(CFLOW_V2 / "model.ckpt.meta")
    untouched = freeze_graph(meta, CFLOW_V2 / "model.ckpt", ["out"], variable_names_denylist=["w_ref"])
    assert {n.name: n.op for n in untouched.node}["w_ref"] == "VariableV2"
    assign = next(n for n in meta.graph_def.node if n.op == "Assign" and n.name.startswith("save/"))
    assign.name = "w_ref"
    for call in (
        lambda: freeze_graph(meta, CFLOW_V2 / "model.ckpt", ["out"], variable_names_denylist=["w_ref"]),
        lambda: extract_sub_graph(meta.graph_def, ["out"]),
    ):
        with pytest.raises(DataLossError, match="two nodes named 'w_ref'"):
            call()


def test_freeze_variable_read_with_a_stray_input_reading_itself():
    # A ReadVariableOp in a cond branch given a second data input (its own output):
    # rewritten to Identity(handle) first, then its output renamed for consumers that
    # included its own dropped input: IndexError.  The read freezes like the untouched one.
    from tfformats.graph import freeze_graph, graph_constants

    meta = tfformats.read_meta_graph(CFLOW_V2 / "model.ckpt.meta")
    want = graph_constants(freeze_graph(meta, CFLOW_V2 / "model.ckpt", ["out"]))
    read = _function_node(_function(meta, "cond_false_601"), "MatMul/ReadVariableOp")
    read.input.append("MatMul/ReadVariableOp:value:0")
    frozen = freeze_graph(meta, CFLOW_V2 / "model.ckpt", ["out"])
    got = graph_constants(frozen)
    assert list(got) == list(want)
    for name in want:
        np.testing.assert_array_equal(got[name], want[name])
    copies = [f for f in frozen.library.function if f.signature.name.startswith("cond_false_frozen_")]
    (node,) = [n for f in copies for n in f.node_def if n.name == "MatMul/ReadVariableOp"]
    assert node.op == "Identity" and list(node.input) == ["matmul_readvariableop_w_res"]


def test_hdf5_dataset_whose_shape_numpy_cannot_hold(tmp_path):
    # Finding 17 (keras harness): an empty dataset (a 0 in its shape) whose other dimension is 2**62
    # holds no bytes, so every size check passes, but numpy refuses the shape: ValueError.
    from tfformats import UnsupportedError

    src = DATA / "keras_weights" / "variants.h5"
    data = bytearray(src.read_bytes())
    with tfformats.load_keras_weights(src) as r:
        assert r.get_variable_to_shape_map()["dtypes/empty"] == [0, 3]
        at = r._datasets["dtypes/empty"].offset
    dims = struct.pack("<QQ", 0, 3)  # the dataspace message's dimensions
    i = data.find(dims, at)
    assert i > 0
    data[i : i + 16] = struct.pack("<QQ", 0, 1 << 62)
    p = tmp_path / "huge_empty.h5"
    p.write_bytes(bytes(data))
    with tfformats.load_keras_weights(p) as r:
        assert r.get_variable_to_shape_map()["dtypes/empty"] == [0, 1 << 62]
        with pytest.raises(UnsupportedError, match="cannot be a numpy array"):
            r.get_tensor("dtypes/empty")
        np.testing.assert_array_equal(r.get_tensor("dtypes/int8"), np.array([-128, 0, 127], np.int8))


def _hdf5_groups_sharing_one_symbol_table(n: int) -> bytes:
    """A hand-built HDF5 file (superblock 0, 8-byte addresses): the root group links ``n``
    groups, and all ``n`` index their links with one shared B-tree whose symbol table node has
    ``n`` links back to the root.  Each object is visited once (the links back lead to an object
    already seen), but each group's visit reads and parses the shared node."""
    undef = b"\xff" * 8
    q = lambda v: struct.pack("<Q", v)  # noqa: E731

    def header(btree: int, heap: int) -> bytes:  # object header v1: one symbol table message
        return struct.pack("<BBHII", 1, 0, 1, 1, 24) + b"\0" * 4 + struct.pack("<HHB3x", 0x11, 16, 0) + q(btree) + q(heap)

    def tree(snod: int, last_key: int) -> bytes:  # a leaf B-tree node with one symbol table node
        return b"TREE" + bytes([0, 0]) + struct.pack("<H", 1) + undef + undef + q(0) + q(snod) + q(last_key)

    names = b"\0" + b"".join(b"g%05d\0" % i for i in range(n))
    root, heap, heap_data = 96, 136, 168
    tree1 = heap_data + len(names)
    tree2 = tree1 + 48
    snod1 = tree2 + 48
    snod2 = snod1 + 8 + 40 * n
    groups = snod2 + 8 + 40 * n
    eof = groups + 40 * n
    sb = b"\x89HDF\r\n\x1a\n" + bytes([0, 0, 0, 0, 0, 8, 8, 0]) + struct.pack("<HHI", 4, 16, 0)
    sb += q(0) + undef + q(eof) + undef + q(0) + q(root) + b"\0" * 24
    out = bytearray(sb.ljust(root, b"\0"))
    out += header(tree1, heap)
    out += b"HEAP" + bytes([0, 0, 0, 0]) + q(len(names)) + undef + q(heap_data)
    out += names
    out += tree(snod1, len(names) - 1) + tree(snod2, len(names) - 1)
    for targets in ([groups + 40 * i for i in range(n)], [root] * n):
        out += b"SNOD" + bytes([1, 0]) + struct.pack("<H", n)
        for i, target in enumerate(targets):
            out += q(1 + 7 * i) + q(target) + b"\0" * 24
    for _ in range(n):
        out += header(tree2, heap)
    assert len(out) == eof
    return bytes(out)


def test_hdf5_groups_sharing_one_symbol_table_do_not_make_the_walk_quadratic(tmp_path):
    # Reviewing the HDF5 walk: visited objects are skipped, but 2,000 groups sharing one
    # 2,000-entry symbol table node made it parse 4 million entries (seconds; a larger file,
    # hours).  Structures may be read at most 8x the file's size (plus 8 MiB) per walk.
    from tfformats._io.hdf5 import HDF5File

    p = tmp_path / "shared.h5"
    p.write_bytes(_hdf5_groups_sharing_one_symbol_table(2000))
    with pytest.raises(DataLossError, match="read 8x over"):
        tfformats.load_keras_weights(p)
    small = tmp_path / "small.h5"
    small.write_bytes(_hdf5_groups_sharing_one_symbol_table(3))  # the same layout, small: it reads
    with HDF5File(str(small)) as h:
        assert h.datasets() == []


def test_keras_archive_whose_directory_offset_points_past_its_members(tmp_path, capsys):
    # Finding 19 (cli harness, once .keras seeds joined it): an end-of-central-directory record
    # whose directory offset is too large makes zipfile place every member before the start of
    # the file, and reading one seeks to a negative offset: OSError escaped `tfformats info`.
    from cli_helpers import run_cli

    data = bytearray((DATA / "keras_weights" / "k3_model.keras").read_bytes())
    eocd = data.rfind(b"PK\x05\x06")
    (offset,) = struct.unpack_from("<I", data, eocd + 16)
    struct.pack_into("<I", data, eocd + 16, offset + 1_000_000)
    p = tmp_path / "shifted.keras"
    p.write_bytes(bytes(data))
    code, _, err = run_cli(capsys, "info", p)
    assert code == 3 and "damaged .keras archive" in err and "internal error" not in err
    with pytest.raises(DataLossError):
        tfformats.load_keras_weights(p)
    code, out, _ = run_cli(capsys, "scan", p)
    assert code in (0, 1) and "cannot be read" in out


def test_hdf5_fixed_length_string_type_larger_than_numpy_allows(tmp_path):
    # Finding 20 (keras harness, 657k executions in): a fixed-length string datatype of
    # 4,294,901,765 bytes; numpy's dtype constructor raised TypeError while the file was listed.
    src = DATA / "keras_weights" / "variants.h5"
    data = bytearray(src.read_bytes())
    with tfformats.load_keras_weights(src) as r:
        at = r._datasets["dtypes/strings"].offset
    i = at
    while True:  # the datatype message: class 3 (string), then the 4-byte element size, 5
        i = data.index(struct.pack("<I", 5), i + 1)
        if data[i - 4] & 0x0F == 3:
            break
    struct.pack_into("<I", data, i, 4294901765)
    p = tmp_path / "huge_string.h5"
    p.write_bytes(bytes(data))
    with tfformats.load_keras_weights(p) as r:
        assert r.get_variable_to_dtype_map()["dtypes/strings"] == "fixed-length string of 4294901765 bytes"
        assert "dtypes/strings" in r.unreadable()
        with pytest.raises(tfformats.UnsupportedError):
            r.get_tensor("dtypes/strings")
        assert r.get_tensor("dtypes/int8").tolist() == [-128, 0, 127]


def test_dataset_spec_with_an_unknown_composite_of_several_components(tmp_path):
    # Finding 21 (dataset harness, 75k executions into its first long run): a dataset_spec.pb whose
    # type spec has a class name tfformats does not know, with two components: the element spec
    # gave one leaf path for both, so leaf_specs() listed fewer leaves than the metadata's dtypes.
    from tfformats.proto import message_class, pb

    src = DATA / "datasets" / "save_ragged"
    root = tmp_path / "ds"
    shutil.copytree(src, root)
    meta = message_class("tensorflow.data.experimental.SnapshotMetadataRecord").FromString(
        (root / "snapshot.metadata").read_bytes())
    spec = pb.StructuredValue()
    t = spec.tuple_value.values.add().type_spec_value
    t.type_spec_class_name = "SomeExtensionSpec"
    t.type_spec_class = 13
    leaf = spec.tuple_value.values.add().tensor_spec_value
    leaf.dtype = meta.dtype[2]
    (root / "dataset_spec.pb").write_bytes(spec.SerializeToString())
    ds = tfformats.load_dataset(root)
    assert [p for p, _ in ds.leaf_specs()] == ["0/0", "0/1", "1"]
    assert len(ds.leaf_specs()) == len(ds.dtypes) == 3
    first = next(iter(ds))
    assert isinstance(first[0], tuple) and len(first[0]) == 2


def test_dataset_ragged_component_whose_splits_are_a_scalar(tmp_path):
    # Finding 22 (dataset harness, 216k executions into its second run): a ragged component's variant
    # holding a 0-d tensor where its inner row_splits belong: len() of it raised TypeError. Reading the
    # folder the harness builds (shard CRCs repaired) now fails with DataLossError.
    from fuzz.harnesses import HARNESSES, _dataset_dir

    data = (DATA / "fuzz_inputs" / "dataset-ragged-scalar-splits-1dc3273c.bin").read_bytes()
    HARNESSES["dataset"].func(data)
    parts = mutate.unpack(data, 6)
    root = _dataset_dir(mutate.pack(*parts[:2], *[mutate.repair_record_crcs(p) for p in parts[2:]]))
    ds = tfformats.load_dataset(root)
    with pytest.raises(DataLossError, match="row_splits|ragged"):
        list(ds)
    with pytest.raises(DataLossError):
        ds.to_numpy()


def test_dataset_empty_column_whose_spec_shape_overflows():
    # Finding 23 (dataset harness, 265k executions into its third run): a dataset with no elements
    # whose dataset_spec.pb gives a component dims multiplying past numpy's limit: the empty stacked
    # column (0, *dims) made numpy raise ValueError ("array is too big"), finding 8 again.
    from fuzz.harnesses import HARNESSES

    HARNESSES["dataset"].func((DATA / "fuzz_inputs" / "dataset-empty-column-huge-spec-589fc46a.bin").read_bytes())
    from tfformats.dataset import TensorSpec, _empty_column

    col = _empty_column(TensorSpec((1 << 40, 1 << 40), "float32"), np.dtype(np.float32))
    assert col.shape == (0,) and col.dtype == np.float32
    assert _empty_column(TensorSpec((3, 4), "int8"), np.dtype(np.int8)).shape == (0, 3, 4)
