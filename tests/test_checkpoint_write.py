"""Writing V2 checkpoints: byte-exact against TensorFlow, round trips, sharding,
partitions, big-endian bundles, streaming, atomicity and bad inputs."""

from __future__ import annotations

import json
import os

import ml_dtypes
import numpy as np
import pytest

import tfformats
from tfformats import dtypes as _dt
from tfformats._io.table import Table
from tfformats.checkpoint import writer as _writer
from tfformats.checkpoint.bundle import BundleReader
from tfformats.checkpoint.slices import encode_tensor_name_slice
from tfformats.errors import InvalidArgumentError, TFFormatsError, UnsupportedError
from tfformats.proto import pb

from conftest import require_data

HERE = "checkpoint_write"


def _expected():
    meta = json.loads(require_data(f"{HERE}/expected.json").read_text())
    arrays = np.load(require_data(f"{HERE}/expected.npz"))
    return meta, arrays


def _value_from_tf(info: dict, arrays) -> np.ndarray:
    dtype = _dt.BY_NAME[info["dtype"]]
    if dtype.is_string:
        out = np.empty(len(info["strings"]), dtype=object)
        out[:] = [bytes.fromhex(h) for h in info["strings"]]
        return out.reshape(info["shape"])
    return arrays[info["npz"]].view(dtype.numpy).reshape(info["shape"])


def _tf_prefix(name: str) -> str:
    return str(require_data(f"{HERE}/{name}.index"))[: -len(".index")]


def _files(prefix) -> dict[str, bytes]:
    d = os.path.dirname(prefix)
    base = os.path.basename(prefix)
    return {f[len(base):]: open(os.path.join(d, f), "rb").read() for f in sorted(os.listdir(d)) if f.startswith(base + ".")}


# -- byte-exact against files TensorFlow wrote ----------------------------------------


def test_same_bytes_as_tensorflow_every_dtype(tmp_path):
    meta, arrays = _expected()
    prefix = str(tmp_path / "dtypes")
    with tfformats.CheckpointWriter(prefix) as w:
        for name in sorted(meta["dtypes"]):
            info = meta["dtypes"][name]
            w.add(name, _value_from_tf(info, arrays), dtype=info["dtype"])
    tf_files = _files(_tf_prefix("dtypes"))
    assert set(tf_files) == {".index", ".data-00000-of-00001"}
    mine = _files(prefix)
    assert mine[".data-00000-of-00001"] == tf_files[".data-00000-of-00001"]
    assert mine[".index"] == tf_files[".index"]


def test_save_checkpoint_same_bytes_as_tensorflow(tmp_path):
    # save_checkpoint writes in name order, as the generator asked SaveV2 to.
    meta, arrays = _expected()
    tensors = {n: _value_from_tf(i, arrays) for n, i in meta["dtypes"].items()}
    dtypes = {n: i["dtype"] for n, i in meta["dtypes"].items() if i["dtype"].startswith("q")}
    prefix = tfformats.save_checkpoint(tmp_path / "d", tensors, dtypes=dtypes)
    assert prefix == str(tmp_path / "d")
    assert _files(prefix) == _files(_tf_prefix("dtypes"))


def test_multi_block_index_same_bytes_as_tensorflow(tmp_path):
    tf_prefix = _tf_prefix("many")
    with Table(tf_prefix + ".index") as t:
        assert t.num_blocks >= 2  # the fixture exercises a block boundary
    reader = tfformats.load_checkpoint(tf_prefix)
    names = list(reader.keys())
    assert len(names) == 6000
    # value i is stored under a name starting with a hash of i (see the generator)
    assert sorted(int(reader[n]) for n in names) == list(range(6000))
    prefix = tfformats.save_checkpoint(tmp_path / "many", reader)
    assert _files(prefix) == _files(tf_prefix)


# -- round trips through the reader ----------------------------------------------------

ALL_NUMERIC = [d for d in _dt.BY_NAME.values() if d.numpy_name not in (None, "object")]


def _random(dtype: _dt.DType, shape, rng) -> np.ndarray:
    n = int(np.prod(shape)) if shape else 1
    npdt = dtype.numpy
    raw = rng.integers(0, 256, n * npdt.itemsize, dtype=np.uint8)
    if dtype.name in ("int4", "uint4", "int2", "uint2", "float4_e2m1fn"):
        bits = {"int4": 4, "uint4": 4, "int2": 2, "uint2": 2, "float4_e2m1fn": 4}[dtype.name]
        raw &= (1 << bits) - 1
        if dtype.name in ("int4", "int2"):
            return (raw.astype(np.int8) - (1 << (bits - 1))).astype(npdt).reshape(shape)
    if dtype.name == "bool":
        raw &= 1
    return raw.view(npdt).reshape(shape)


@pytest.mark.parametrize("endianness", ["little", "big"])
def test_round_trip_every_dtype_bit_exact(tmp_path, endianness):
    rng = np.random.default_rng(7)
    tensors = {}
    dtypes = {}
    for d in sorted(ALL_NUMERIC, key=lambda d: d.enum):
        for suffix, shape in (("", (3, 5)), ("/scalar", ()), ("/empty", (2, 0, 3))):
            name = f"{d.name}{suffix}"
            tensors[name] = _random(d, shape, rng)
            dtypes[name] = d.name
    prefix = tfformats.save_checkpoint(tmp_path / "c", tensors, dtypes=dtypes, endianness=endianness)
    r = tfformats.load_checkpoint(prefix)
    assert r.backend.endianness == (1 if endianness == "big" else 0)
    assert sorted(r.keys()) == sorted(tensors)
    for name, value in tensors.items():
        got = r[name]
        assert r.get_dtype(name) == dtypes[name]
        assert got.dtype == value.dtype and got.shape == value.shape
        assert got.tobytes() == value.tobytes(), name  # bit-exact, NaN payloads included


def _strings_cases():
    return {
        "empty_strings": np.array([b"", b"", b""], dtype=object),
        "unicode": np.array(["héllo", "世界", "🙂", ""], dtype=object),
        "binary": np.array([bytes(range(256)), b"\x00", b"\xff" * 7], dtype=object),
        "long": np.array([b"a" * 200, b"b" * 70_000, b"c"], dtype=object),  # 2- and 3-byte varints
        "scalar": np.array(b"one", dtype=object),
        "zero_size": np.zeros((0, 3), dtype=object),
        "matrix": np.array([[b"a", b"bc"], [b"", b"def"]], dtype=object),
        "numpy_S": np.array([b"ab", b"c"]),
        "numpy_U": np.array(["ab", "ç"]),
        "bytearray": np.array([bytearray(b"xy"), b"z"], dtype=object),
    }


@pytest.mark.parametrize("endianness", ["little", "big"])
def test_round_trip_strings(tmp_path, endianness):
    cases = _strings_cases()
    prefix = tfformats.save_checkpoint(tmp_path / "s", cases, endianness=endianness)
    r = tfformats.load_checkpoint(prefix)
    for name, value in cases.items():
        got = r[name]
        assert r.get_dtype(name) == "string"
        assert got.shape == value.shape
        want = [x.encode() if isinstance(x, str) else bytes(x) for x in value.reshape(-1).tolist()]
        assert got.reshape(-1).tolist() == want, name


def test_string_layout_and_crcs_by_hand(tmp_path):
    # varint lengths | u32 mask(crc(lengths as u32)) | bytes ; entry crc continues from C_len
    from tfformats._io import crc

    prefix = tfformats.save_checkpoint(tmp_path / "s", {"s": np.array([b"ab", b"", b"x" * 130], dtype=object)})
    data = open(prefix + ".data-00000-of-00001", "rb").read()
    c_len = crc.value(np.array([2, 0, 130], "<u4").tobytes())
    head = bytes([2, 0, 0x82, 0x01]) + crc.mask(c_len).to_bytes(4, "little")
    assert data == head + b"ab" + b"x" * 130
    entry = BundleReader(prefix).entry("s")
    assert entry.crc32c == crc.mask(crc.extend(crc.extend(c_len, head[4:]), b"ab" + b"x" * 130))
    assert entry.size == len(data)


def test_numeric_entry_fields(tmp_path):
    from tfformats._io import crc

    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    prefix = tfformats.save_checkpoint(tmp_path / "n", {"a": a, "b": np.zeros((0,), np.int8), "c": np.float64(2.5)})
    br = BundleReader(prefix)
    e = br.entry("a")
    assert (e.dtype, e.offset, e.size, e.shard_id) == (pb.DataType.Value("DT_FLOAT"), 0, 24, 0)
    assert e.crc32c == crc.masked_value(a.tobytes())
    e = br.entry("b")
    assert (e.offset, e.size, e.crc32c) == (24, 0, crc.mask(0))  # zero-size: mask(0), as TF writes
    e = br.entry("c")
    assert e.HasField("shape") and len(e.shape.dim) == 0
    h = br.header
    assert (h.num_shards, h.endianness, h.version.producer, h.version.min_consumer) == (1, 0, 1, 0)


def test_python_values_and_dtype_override(tmp_path):
    prefix = tfformats.save_checkpoint(
        tmp_path / "p",
        {"i": 3, "f": [1.5, 2.5], "b": True, "bf": np.array([1.0, 2.0], np.float32), "q": np.array([1, -2], np.int8),
         "s": "text", "h": np.arange(3)},
        dtypes={"bf": "bfloat16", "q": "qint8", "h": np.float16},
    )
    r = tfformats.load_checkpoint(prefix)
    assert r.get_variable_to_dtype_map() == {
        "b": "bool", "bf": "bfloat16", "f": "float64", "h": "float16", "i": "int64", "q": "qint8", "s": "string",
    }
    assert r["bf"].dtype == ml_dtypes.bfloat16 and r["bf"].tolist() == [1.0, 2.0]
    assert r["q"].tolist() == [1, -2]
    assert r["s"].item() == b"text"
    assert r["i"].shape == () and int(r["i"]) == 3


def test_non_native_byte_order_and_non_contiguous_input(tmp_path):
    a = np.arange(12, dtype=">i4").reshape(3, 4)
    t = np.arange(12, dtype=np.float64).reshape(3, 4).T
    prefix = tfformats.save_checkpoint(tmp_path / "o", {"a": a, "t": t[::2]})
    r = tfformats.load_checkpoint(prefix)
    assert r["a"].dtype == np.int32 and r["a"].tolist() == a.tolist()
    assert r["t"].tolist() == t[::2].tolist()


def test_big_endian_bytes_on_disk(tmp_path):
    prefix = tfformats.save_checkpoint(
        tmp_path / "be", {"i": np.array([1, 2], np.int32), "c": np.array([1 + 2j], np.complex64)}, endianness="big"
    )
    br = BundleReader(prefix)
    assert br.header.endianness == 1
    data = open(prefix + ".data-00000-of-00001", "rb").read()
    c, i = br.entry("c"), br.entry("i")
    assert data[i.offset : i.offset + i.size] == np.array([1, 2], ">i4").tobytes()
    assert data[c.offset : c.offset + c.size] == np.array([1, 2], ">f4").tobytes()


# -- sharding -------------------------------------------------------------------------


def test_num_shards_greedy_by_bytes(tmp_path):
    sizes = {"a": 1000, "b": 600, "c": 500, "d": 400, "e": 100}
    tensors = {k: np.zeros(v, np.uint8) + i for i, (k, v) in enumerate(sizes.items())}
    prefix = tfformats.save_checkpoint(tmp_path / "sh", tensors, num_shards=3)
    files = _files(prefix)
    assert sorted(files) == [".data-00000-of-00003", ".data-00001-of-00003", ".data-00002-of-00003", ".index"]
    br = BundleReader(prefix)
    assert br.header.num_shards == 3
    shard = {n: br.entry(n).shard_id for n in sizes}
    # largest first onto the least-filled shard: a->0, b->1, c->2, d->2, e->1
    assert shard == {"a": 0, "b": 1, "c": 2, "d": 2, "e": 1}
    assert [len(files[f".data-0000{i}-of-00003"]) for i in range(3)] == [1000, 700, 900]
    r = tfformats.load_checkpoint(prefix)
    for k, v in tensors.items():
        assert np.array_equal(r[k], v)


def test_max_shard_size(tmp_path):
    tensors = {f"t{i}": np.full(100 * (i + 1), i, np.uint8) for i in range(5)}  # 100..500 bytes
    prefix = tfformats.save_checkpoint(tmp_path / "m", tensors, max_shard_size=350)
    br = BundleReader(prefix)
    # name order: t0(100)+t1(200) | t2(300) | t3(400) | t4(500) (bigger than the limit: alone)
    assert br.header.num_shards == 4
    assert [br.entry(f"t{i}").shard_id for i in range(5)] == [0, 0, 1, 2, 3]
    r = tfformats.load_checkpoint(prefix)
    assert all(np.array_equal(r[k], v) for k, v in tensors.items())


def test_more_shards_than_tensors_and_empty_checkpoint(tmp_path):
    prefix = tfformats.save_checkpoint(tmp_path / "few", {"x": np.ones(3)}, num_shards=3)
    assert len(_files(prefix)) == 4  # empty shards exist, as TF writes them
    assert tfformats.load_checkpoint(prefix)["x"].tolist() == [1, 1, 1]
    prefix = tfformats.save_checkpoint(tmp_path / "none", {})
    r = tfformats.load_checkpoint(prefix)
    assert len(r) == 0 and r.num_shards == 1


def test_alignment(tmp_path):
    prefix = tfformats.save_checkpoint(tmp_path / "al", {"a": np.ones(3, np.int8), "b": np.ones(5, np.int8)}, alignment=64)
    br = BundleReader(prefix)
    assert (br.entry("a").offset, br.entry("a").size, br.entry("b").offset) == (0, 3, 64)
    assert os.path.getsize(prefix + ".data-00000-of-00001") == 128
    assert tfformats.load_checkpoint(prefix)["b"].tolist() == [1] * 5


# -- partitioned variables ---------------------------------------------------------------


def test_partitions_like_fixed_size_partitioner(tmp_path):
    emb = np.arange(40, dtype=np.float32).reshape(10, 4)
    prefix = tfformats.save_checkpoint(tmp_path / "p", {"emb": emb, "w": np.ones(2)}, partitions={"emb": 3})
    r = tfformats.load_checkpoint(prefix)
    assert r.list_variables() == [("emb", [10, 4]), ("w", [2])]  # slice keys hidden
    assert np.array_equal(r["emb"], emb)
    br = r.backend
    full = br.entry("emb")
    assert (full.shard_id, full.offset, full.size, full.crc32c) == (0, 0, 0, 0)  # no data of its own
    extents = [[(e.start, e.length) for e in s.extent] for s in full.slices]
    # 10 rows in 3 parts: 4, 3, 3; whole dimensions stored with their real length, as TF1 does
    assert extents == [[(0, 4), (0, 4)], [(4, 3), (0, 4)], [(7, 3), (0, 4)]]
    with Table(prefix + ".index") as t:
        keys = [k for k, _ in t.items()]
    assert encode_tensor_name_slice("emb", [(4, 3), (0, 4)]) in keys
    assert keys[0] == b"" and keys[1].startswith(b"\x00")  # slice keys sort right after the header


def test_partitions_explicit_counts_and_shards(tmp_path):
    emb = np.arange(30, dtype=np.int64).reshape(10, 3)
    prefix = tfformats.save_checkpoint(tmp_path / "p", {"emb": emb}, partitions={"emb": [2, 5, 3]}, num_shards=2)
    r = tfformats.load_checkpoint(prefix)
    assert np.array_equal(r["emb"], emb)
    shards = {se.shard_id for _, se in r.backend.slice_entries("emb")}
    assert shards == {0, 1}


def test_add_slice_boxes(tmp_path):
    full = np.arange(24, dtype=np.float64).reshape(4, 6)
    with tfformats.CheckpointWriter(tmp_path / "b") as w:
        w.add_slice("x", full[:2, :4], full_shape=(4, 6), start=(0, 0))
        w.add_slice("x", full[:2, 4:], full_shape=(4, 6), start=(0, 4))
        w.add_slice("x", full[2:], full_shape=(4, 6), start=(2, 0))
        w.add_slice("whole", full, full_shape=(4, 6), start=(0, 0))  # full slice: plain entry, like TF
        w.add_slice("strs", np.array([b"a", b"b"], dtype=object), full_shape=(3,), start=(0,))
        w.add_slice("strs", np.array([b"c"], dtype=object), full_shape=(3,), start=(2,))
    r = tfformats.load_checkpoint(tmp_path / "b")
    assert np.array_equal(r["x"], full) and np.array_equal(r["whole"], full)
    assert len(r.backend.entry("whole").slices) == 0
    assert r["strs"].tolist() == [b"a", b"b", b"c"]


@pytest.mark.parametrize(
    "slices, message",
    [
        ([((0, 0), (2, 6)), ((1, 0), (3, 6))], "overlap"),
        ([((0, 0), (2, 6))], "cover"),
    ],
)
def test_bad_slices_detected_at_close(tmp_path, slices, message):
    w = tfformats.CheckpointWriter(tmp_path / "bad")
    for start, shape in slices:
        w.add_slice("x", np.zeros(shape), full_shape=(4, 6), start=start)
    with pytest.raises(InvalidArgumentError, match=message):
        w.close()
    assert os.listdir(tmp_path) == []  # nothing left behind


def test_bad_slice_arguments(tmp_path):
    with tfformats.CheckpointWriter(tmp_path / "bad") as w:
        w.add("y", np.zeros(2))
        with pytest.raises(InvalidArgumentError, match="outside"):
            w.add_slice("x", np.zeros((3, 2)), full_shape=(4, 2), start=(2, 0))
        with pytest.raises(InvalidArgumentError, match="rank"):
            w.add_slice("x", np.zeros((3, 2)), full_shape=(4,), start=(0,))
        with pytest.raises(InvalidArgumentError, match="already"):
            w.add_slice("y", np.zeros(1), full_shape=(2,), start=(0,))
        w.add_slice("x", np.zeros((2, 2)), full_shape=(4, 2), start=(0, 0))
        with pytest.raises(InvalidArgumentError, match="does not match"):
            w.add_slice("x", np.zeros((2, 2), np.float32), full_shape=(4, 2), start=(2, 0))
        with pytest.raises(InvalidArgumentError, match="already"):
            w.add_slice("x", np.zeros((2, 2)), full_shape=(4, 2), start=(0, 0))
        with pytest.raises(InvalidArgumentError, match="already"):
            w.add("x", np.zeros(2))
        with pytest.raises(InvalidArgumentError, match="empty"):
            w.add_slice("x", np.zeros((0, 2)), full_shape=(4, 2), start=(2, 0))
        w.add_slice("x", np.ones((2, 2)), full_shape=(4, 2), start=(2, 0))
    assert tfformats.load_checkpoint(tmp_path / "bad")["x"].tolist() == [[0, 0], [0, 0], [1, 1], [1, 1]]


def test_bad_partitions_argument(tmp_path):
    with pytest.raises(InvalidArgumentError, match="not being saved"):
        tfformats.save_checkpoint(tmp_path / "p", {"a": np.ones(3)}, partitions={"b": 2})
    with pytest.raises(InvalidArgumentError, match="split"):
        tfformats.save_checkpoint(tmp_path / "p", {"a": np.ones(3)}, partitions={"a": 4})
    with pytest.raises(InvalidArgumentError, match="row counts"):
        tfformats.save_checkpoint(tmp_path / "p", {"a": np.ones(3)}, partitions={"a": [1, 1]})
    with pytest.raises(InvalidArgumentError, match="scalar"):
        tfformats.save_checkpoint(tmp_path / "p", {"a": np.float32(1)}, partitions={"a": 1})
    assert not any(f.startswith("p.") for f in os.listdir(tmp_path))


# -- streaming writer ---------------------------------------------------------------------


def test_streaming_writer_writes_as_it_goes(tmp_path):
    prefix = str(tmp_path / "stream")
    w = tfformats.CheckpointWriter(prefix)
    sizes = []
    for i in range(5):
        w.add(f"layer{i}", np.full((256, 256), i, np.float32))
        w._shards[0].file.flush()
        temp = [f for f in os.listdir(tmp_path) if ".tempstate" in f and ".data-" in f]
        assert len(temp) == 1
        sizes.append(os.path.getsize(tmp_path / temp[0]))
    assert sizes == [256 * 256 * 4 * (i + 1) for i in range(5)]  # bytes land in the file at add()
    assert not os.path.exists(prefix + ".index")
    assert "5 tensors" in repr(w) and "open" in repr(w)
    assert len(w) == 5 and w.nbytes == 5 * 256 * 256 * 4
    assert w.close() == prefix
    assert "closed" in repr(w)
    assert sorted(os.listdir(tmp_path)) == ["stream.data-00000-of-00001", "stream.index"]
    r = tfformats.load_checkpoint(prefix)
    assert [float(r[f"layer{i}"][0, 0]) for i in range(5)] == [0, 1, 2, 3, 4]
    with pytest.raises(InvalidArgumentError, match="closed"):
        w.add("more", np.ones(1))


@pytest.mark.parametrize("kind", ["numeric", "big-endian", "strings", "save_checkpoint"])
def test_streaming_writer_memory_stays_at_about_one_tensor(tmp_path, kind):
    """Python/numpy heap peak while writing 16 tensors of 4 MiB (64 MiB) from a generator.

    numpy reports its buffers to tracemalloc, so the peak counts the arrays, the
    writer's buffers and anything the writer might accumulate; it must stay a
    small multiple of one tensor, not grow with the checkpoint.
    """
    import tracemalloc

    tensor_bytes, count = 4 << 20, 16

    def make(i):
        if kind == "strings":  # 4 MiB of strings of 1..8 KiB
            rng = np.random.default_rng(i)
            out, total = [], 0
            while total < tensor_bytes:
                n = int(rng.integers(1024, 8192))
                out.append(bytes([i]) * n)
                total += n
            arr = np.empty(len(out), object)
            arr[:] = out
            return arr
        return np.full(tensor_bytes // 4, i, np.float32)

    class Lazy(dict):  # a mapping that makes each value when asked, like a reader over a file
        def __getitem__(self, name):
            return make(int(name[1:]))

    def items():
        for i in range(count):
            yield f"t{i:02d}", make(i)

    prefix = str(tmp_path / "mem")
    tracemalloc.start()
    try:
        if kind == "save_checkpoint":
            tfformats.save_checkpoint(prefix, Lazy({f"t{i:02d}": None for i in range(count)}))
        else:
            endianness = "big" if kind == "big-endian" else "little"
            _writer.write_items(prefix, items(), endianness=endianness)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    total = sum(os.path.getsize(tmp_path / f) for f in os.listdir(tmp_path) if ".data-" in f)
    assert total >= count * tensor_bytes
    # at most the tensor being written, the next one being made, and ~1 MiB chunks: never the 64 MiB
    assert peak < 3 * tensor_bytes, (kind, peak)
    r = tfformats.load_checkpoint(prefix)
    assert len(r) == count
    for i in (0, count - 1):
        got, want = r[f"t{i:02d}"], make(i)
        assert got.shape == want.shape and got.reshape(-1).tolist()[:3] == want.reshape(-1).tolist()[:3]


def test_streaming_writer_from_generator(tmp_path):
    def gen():
        for i in range(3):
            yield f"v{i}", np.arange(i + 1)

    prefix = _writer.write_items(tmp_path / "g", gen(), num_shards=2)
    r = tfformats.load_checkpoint(prefix)
    assert [r[f"v{i}"].tolist() for i in range(3)] == [[0], [0, 1], [0, 1, 2]]
    assert r.num_shards == 2


def test_explicit_shard(tmp_path):
    with tfformats.CheckpointWriter(tmp_path / "e", num_shards=3) as w:
        w.add("a", np.ones(1), shard=2)
        w.add("b", np.ones(1), shard=2)
        with pytest.raises(InvalidArgumentError, match="shard"):
            w.add("c", np.ones(1), shard=3)
    br = BundleReader(str(tmp_path / "e"))
    assert (br.entry("a").shard_id, br.entry("b").shard_id, br.entry("b").offset) == (2, 2, 8)


# -- atomicity -----------------------------------------------------------------------------


class Boom(Exception):
    pass


def test_exception_mid_write_leaves_nothing(tmp_path):
    prefix = str(tmp_path / "ckpt")
    with pytest.raises(Boom):
        with tfformats.CheckpointWriter(prefix, num_shards=2) as w:
            w.add("a", np.ones(1000))
            w.add("b", np.ones(1000))
            assert any(".tempstate" in f for f in os.listdir(tmp_path))
            raise Boom()
    assert os.listdir(tmp_path) == []


def test_failure_inside_add_cleans_up(tmp_path):
    class Unconvertible:
        def __array__(self, *a, **k):
            raise Boom()

    with pytest.raises(Boom):
        tfformats.save_checkpoint(tmp_path / "c", {"a": np.ones(3), "b": Unconvertible()})
    assert os.listdir(tmp_path) == []


def test_failure_during_index_write_keeps_old_checkpoint_unreadable_never_mixed(tmp_path, monkeypatch):
    prefix = str(tmp_path / "c")
    tfformats.save_checkpoint(prefix, {"a": np.zeros(4)})
    before = _files(prefix)

    def broken_finish(self):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_writer.TableBuilder, "finish", broken_finish)
    with pytest.raises(TFFormatsError, match="No space left"):
        tfformats.save_checkpoint(prefix, {"a": np.ones(4)})
    # the old checkpoint is untouched and no temp files remain
    assert _files(prefix) == before
    assert sorted(os.listdir(tmp_path)) == ["c.data-00000-of-00001", "c.index"]


def test_abort_and_garbage_collection_remove_temp_files(tmp_path):
    w = tfformats.CheckpointWriter(tmp_path / "a")
    w.add("x", np.ones(10))
    w.abort()
    assert os.listdir(tmp_path) == []
    w = tfformats.CheckpointWriter(tmp_path / "b")
    w.add("x", np.ones(10))
    del w
    import gc

    gc.collect()
    assert os.listdir(tmp_path) == []


def test_overwrite_replaces_and_removes_stale_shards(tmp_path):
    prefix = str(tmp_path / "c")
    tfformats.save_checkpoint(prefix, {"a": np.zeros(4), "b": np.zeros(4)}, num_shards=2)
    tfformats.save_checkpoint(prefix, {"a": np.ones(2)})
    assert sorted(os.listdir(tmp_path)) == ["c.data-00000-of-00001", "c.index"]
    assert tfformats.load_checkpoint(prefix)["a"].tolist() == [1, 1]


def test_creates_parent_directories_and_accepts_pathlike(tmp_path):
    prefix = tmp_path / "deep" / "er" / "model.ckpt-3"
    out = tfformats.save_checkpoint(prefix, {"a": np.ones(1)}, sync=True)
    assert out == str(prefix)
    assert tfformats.load_checkpoint(prefix)["a"].tolist() == [1]


def test_snappy_index(tmp_path):
    names = {f"layer_{i:04d}/some/long/shared/prefix/kernel": np.float32(i) for i in range(300)}
    prefix = tfformats.save_checkpoint(tmp_path / "z", names, index_compression="snappy")
    raw = open(prefix + ".index", "rb").read()
    with Table(prefix + ".index") as t:
        off, size = t.block_spans()[0]
        assert raw[off + size] == 1  # the data block is stored snappy-compressed
    r = tfformats.load_checkpoint(prefix)
    assert all(float(r[n]) == float(v) for n, v in names.items())


# -- bad inputs ------------------------------------------------------------------------------


@pytest.mark.parametrize("name, message", [("", "empty"), ("\x00x", "x00"), (b"x", "str"), (3, "str"), ("\ud800", "UTF-8")])
def test_bad_names(tmp_path, name, message):
    with tfformats.CheckpointWriter(tmp_path / "n") as w:
        with pytest.raises(InvalidArgumentError, match=message):
            w.add(name, np.ones(1))


def test_duplicate_name(tmp_path):
    with tfformats.CheckpointWriter(tmp_path / "d") as w:
        w.add("a", np.ones(1))
        with pytest.raises(InvalidArgumentError, match="already"):
            w.add("a", np.ones(1))


@pytest.mark.parametrize(
    "value, dtype, exc, message",
    [
        (np.array(["2020-01-01"], "datetime64[D]"), None, InvalidArgumentError, "no TensorFlow equivalent"),
        (np.array([1, None], dtype=object), None, InvalidArgumentError, "only bytes and str"),
        (np.array([b"a"], dtype=object), "float32", InvalidArgumentError, "object array"),
        (np.ones(2), "string", InvalidArgumentError, "string"),
        (np.ones(2), "no_such_dtype", InvalidArgumentError, "dtype"),
        (np.ones(2), "resource", UnsupportedError, "resource"),
        (np.ones(2), "variant", UnsupportedError, "variant"),
        ([[1, 2], [3]], None, InvalidArgumentError, "convert"),
    ],
)
def test_bad_values(tmp_path, value, dtype, exc, message):
    with tfformats.CheckpointWriter(tmp_path / "v") as w:
        with pytest.raises(exc, match=message):
            w.add("x", value, dtype=dtype)
    assert tfformats.load_checkpoint(tmp_path / "v").keys() == []


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"num_shards": 0}, "num_shards"),
        ({"num_shards": 2, "max_shard_size": 10}, "not both"),
        ({"max_shard_size": 0}, "max_shard_size"),
        ({"endianness": "middle"}, "endianness"),
        ({"alignment": 0}, "alignment"),
        ({"index_compression": "zlib"}, "index_compression"),
    ],
)
def test_bad_writer_options(tmp_path, kwargs, message):
    with pytest.raises(InvalidArgumentError, match=message):
        tfformats.CheckpointWriter(tmp_path / "o", **kwargs)
    assert os.listdir(tmp_path) == []


def test_bad_save_checkpoint_arguments(tmp_path):
    with pytest.raises(InvalidArgumentError, match="mapping"):
        tfformats.save_checkpoint(tmp_path / "x", [("a", np.ones(1))])
    with pytest.raises(InvalidArgumentError, match="file name"):
        tfformats.save_checkpoint(str(tmp_path) + "/", {"a": np.ones(1)})
    with pytest.raises(InvalidArgumentError, match="empty"):
        tfformats.save_checkpoint(tmp_path / "x", {"": np.ones(1)})
    assert os.listdir(tmp_path) == []


def test_errors_are_library_errors():
    assert issubclass(InvalidArgumentError, TFFormatsError) and issubclass(InvalidArgumentError, ValueError)


def test_public_names():
    for name in ("save_checkpoint", "CheckpointWriter", "update_checkpoint_state", "save_object_checkpoint"):
        assert name in tfformats.__all__
        assert getattr(tfformats, name) is not None


# -- property: anything written reads back bit-exactly -------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_WRITABLE = sorted(d.name for d in ALL_NUMERIC) + ["string"]


@st.composite
def _tensor(draw):
    dtype = draw(st.sampled_from(_WRITABLE))
    shape = tuple(draw(st.lists(st.integers(0, 4), max_size=3)))
    if dtype == "string":
        n = int(np.prod(shape)) if shape else 1
        out = np.empty(n, object)
        out[:] = draw(st.lists(st.binary(max_size=200) | st.text(max_size=20), min_size=n, max_size=n))
        return dtype, out.reshape(shape)
    seed = draw(st.integers(0, 2**32 - 1))
    return dtype, _random(_dt.BY_NAME[dtype], shape, np.random.default_rng(seed))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.dictionaries(st.text(min_size=1, max_size=10).filter(lambda s: not s.startswith("\x00")), _tensor(), max_size=6),
    st.integers(1, 3),
    st.sampled_from(["little", "big"]),
    st.sampled_from([1, 8]),
    st.data(),
)
def test_round_trip_property(tmp_path_factory, spec, num_shards, endianness, alignment, data):
    tensors = {name: value for name, (_, value) in spec.items()}
    dtypes = {name: dtype for name, (dtype, _) in spec.items()}
    partitions = {}
    for name, value in tensors.items():
        if value.ndim and value.shape[0] >= 2 and value.size and data.draw(st.booleans()):
            partitions[name] = data.draw(st.integers(1, value.shape[0]))
    d = tmp_path_factory.mktemp("prop")
    prefix = tfformats.save_checkpoint(
        d / "c", tensors, dtypes=dtypes, num_shards=num_shards, endianness=endianness, alignment=alignment,
        partitions=partitions,
    )
    r = tfformats.load_checkpoint(prefix)
    assert sorted(r.keys()) == sorted(tensors)
    for name, value in tensors.items():
        got = r[name]
        assert r.get_dtype(name) == dtypes[name]
        assert got.shape == value.shape
        if dtypes[name] == "string":
            want = [x.encode() if isinstance(x, str) else x for x in value.reshape(-1).tolist()]
            assert got.reshape(-1).tolist() == want
        else:
            assert got.dtype == value.dtype and got.tobytes() == value.tobytes()


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")
def test_matrix_subclass_and_truthiness(tmp_path):
    w = tfformats.CheckpointWriter(tmp_path / "m")
    assert w and len(w) == 0
    w.add("m", np.matrix([[1, 2], [3, 4]]))
    w.close()
    got = tfformats.load_checkpoint(tmp_path / "m")["m"]
    assert type(got) is np.ndarray and got.tolist() == [[1, 2], [3, 4]]
