"""tfformats.dask on a real distributed.LocalCluster (2 worker processes, 1 thread each).

Committed fixtures: tests/data/remote/examples/{plain,gzip,zlib}/ -- sharded tf.train.Example
TFRecords written by tf.io.TFRecordWriter, with what TensorFlow reads back
(tf.data.TFRecordDataset + tf.io.parse_example) in <layout>.json / <layout>.npz.
"""

from __future__ import annotations

import hashlib
import json
import os

import numpy as np
import pytest

from conftest import DATA

pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
pa = pytest.importorskip("pyarrow")
pd = pytest.importorskip("pandas")

import tfformats  # noqa: E402
import tfformats.dask as tfd  # noqa: E402
from tfformats import example as tfe  # noqa: E402
from tfformats import records as tfr  # noqa: E402

import _remote_servers as servers  # noqa: E402

EXAMPLES = DATA / "remote" / "examples"
LAYOUTS = ("plain", "gzip", "zlib")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
    )
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def expected(layout: str):
    meta = json.loads((EXAMPLES / f"{layout}.json").read_text())
    arrays = dict(np.load(EXAMPLES / f"{layout}.npz"))
    return meta, arrays


def arrow(series) -> "pa.Array":
    arr = pa.array(series)
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def assert_matches_tensorflow(df, layout: str):
    """The frame equals what TF parsed, file after file in sorted order."""
    meta, arrays = expected(layout)
    files = sorted(meta["files"])
    assert len(df) == sum(meta["files"][f]["records"] for f in files)
    cat = lambda key: np.concatenate([arrays[f"{f}/{key}"] for f in files])  # noqa: E731
    np.testing.assert_array_equal(df["label"].to_numpy(), cat("label"))
    dense = arrow(df["dense"])
    assert pa.types.is_fixed_size_list(dense.type) and dense.type.list_size == 4
    np.testing.assert_array_equal(dense.flatten().to_numpy().reshape(-1, 4), cat("dense"))
    assert [v.hex() for v in arrow(df["id"]).to_pylist()] == [h for f in files for h in meta["files"][f]["id_hex"]]
    for key in ("tokens", "weights", "score"):
        col = arrow(df[key])
        assert pa.types.is_list(col.type)
        np.testing.assert_array_equal(col.flatten().to_numpy(), cat(f"{key}/values"), err_msg=key)
        np.testing.assert_array_equal(col.value_lengths().to_numpy(), cat(f"{key}/row_lengths"), err_msg=key)


def single_process(paths, specs) -> "pd.DataFrame":
    """Reference: decode every file in this process with tfformats.example, no dask."""
    frames = []
    for p in paths:
        cols = tfe.read_examples(p, specs)
        n = len(next(iter(cols.values())))
        frames.append(tfd.frame_from_columns(cols, specs, n))
    return pd.concat(frames, ignore_index=True)


def assert_frames_identical(a, b):
    assert list(a.columns) == list(b.columns)
    assert a.dtypes.to_dict() == b.dtypes.to_dict()
    assert len(a) == len(b)
    for c in a.columns:
        assert arrow(a[c]).equals(arrow(b[c])), c


def read_workers(stream) -> dict:
    """{worker address: number of read tasks it ran}."""
    out: dict = {}
    for t in stream:
        if "read-tfrecord" in str(t["key"]):
            out[t["worker"]] = out.get(t["worker"], 0) + 1
    return out


# -- committed fixtures on the cluster ------------------------------------------------------
@pytest.mark.parametrize("layout", LAYOUTS)
def test_cluster_matches_tensorflow(client, layout):
    df = tfd.read_examples(str(EXAMPLES / layout / "*"))
    assert df.npartitions == len(expected(layout)[0]["files"])  # one partition per file
    result = df.compute()
    assert_matches_tensorflow(result.reset_index(drop=True), layout)


def test_schema_inferred_from_a_sample():
    df = tfd.read_examples(str(EXAMPLES / "plain" / "*.tfrecord"), sample=50)
    assert df.dtypes.to_dict() == {
        "dense": pd.ArrowDtype(pa.list_(pa.float32(), 4)),
        "id": pd.ArrowDtype(pa.binary()),
        "label": np.dtype("int64"),
        "score": pd.ArrowDtype(pa.list_(pa.float32())),  # present in a third of the records
        "tokens": pd.ArrowDtype(pa.list_(pa.int64())),
        "weights": pd.ArrowDtype(pa.list_(pa.float32())),
    }


def test_byte_ranges_on_the_cluster_hold_each_record_once(client):
    paths = sorted(str(p) for p in (EXAMPLES / "plain").glob("*.tfrecord"))
    parts = tfd.partitions(paths, blocksize=16_000)
    sizes = {p: os.path.getsize(p) for p in paths}
    assert len(parts) == sum(-(-n // 16_000) for n in sizes.values())
    assert all(p.is_range for p in parts)
    df = tfd.read_examples(paths, blocksize=16_000)
    assert df.npartitions == len(parts)
    with distributed.get_task_stream(client) as ts:
        result = df.compute()
    lengths = df.map_partitions(len).compute().tolist()
    assert sum(lengths) == 1600
    assert_matches_tensorflow(result.reset_index(drop=True), "plain")
    # the work was spread over both worker processes
    workers = read_workers(ts.data)
    assert len(workers) == 2, workers
    assert set(workers) == set(client.scheduler_info()["workers"])
    # and each range is identical to decoding the whole files in one process
    specs = dict(tfe.infer_schema(paths[0], limit=1000).items())
    assert_frames_identical(result.reset_index(drop=True), single_process(paths, specs))


def test_raw_records_bag_matches_tensorflow(client):
    meta, _ = expected("gzip")
    bag = tfd.read_records(str(EXAMPLES / "gzip" / "*.gz"))
    recs = bag.compute()
    digests = []
    start = 0
    for f in sorted(meta["files"]):
        n = meta["files"][f]["records"]
        h = hashlib.sha256()
        for r in recs[start : start + n]:
            h.update(len(r).to_bytes(8, "little") + r)
        digests.append(h.hexdigest())
        start += n
    assert digests == [meta["files"][f]["sha256"] for f in sorted(meta["files"])]


def test_column_projection_decodes_only_those_columns(client):
    df = tfd.read_examples(str(EXAMPLES / "plain" / "*.tfrecord"), blocksize=30_000)
    sub = df[["label", "tokens"]]
    assert list(sub.columns) == ["label", "tokens"]
    got = sub.compute()
    assert list(got.columns) == ["label", "tokens"]
    meta, arrays = expected("plain")
    files = sorted(meta["files"])
    np.testing.assert_array_equal(got["label"].to_numpy(), np.concatenate([arrays[f"{f}/label"] for f in files]))
    assert int(df["label"].sum().compute()) == int(sum(arrays[f"{f}/label"].sum() for f in files))
    only = tfd.read_examples(str(EXAMPLES / "plain" / "*.tfrecord"), columns=["id"])
    assert list(only.compute().columns) == ["id"]


def test_explicit_features():
    specs = {"label": tfe.FeatureSpec("int64", ()), "score": tfe.FeatureSpec("float32", (), default=-1.0)}
    df = tfd.read_examples(str(EXAMPLES / "zlib" / "*"), features=specs).compute(scheduler="sync")
    meta, arrays = expected("zlib")
    (f,) = meta["files"]
    score = df["score"].to_numpy()
    lengths = arrays[f"{f}/score/row_lengths"]
    np.testing.assert_array_equal(score[lengths == 1], arrays[f"{f}/score/values"])
    assert (score[lengths == 0] == -1.0).all()
    with pytest.raises(tfformats.InvalidArgumentError, match="missing"):
        tfd.read_examples(str(EXAMPLES / "zlib" / "*"), features={"score": tfe.FeatureSpec("float32", ())}).compute(
            scheduler="sync"
        )


def test_compressed_files_are_never_split():
    parts = tfd.partitions(str(EXAMPLES / "gzip" / "*.gz"), blocksize=1000)
    assert [(p.start, p.end) for p in parts] == [(0, None), (0, None)]
    # compression is detected on the first file; a compressed file among uncompressed
    # ones is split too, and each of its ranges refuses to read it rather than find nothing
    mixed = [str(EXAMPLES / "plain" / "train-00000-of-00004.tfrecord"), str(parts[0].path)]
    assert [p.path for p in tfd.partitions(mixed, blocksize=None)] == mixed  # a list keeps its order
    with pytest.raises(tfformats.InvalidArgumentError, match="uncompressed"):
        tfd.read_examples(mixed, blocksize=10_000, sample=100).compute(scheduler="sync")
    with pytest.raises(tfformats.InvalidArgumentError, match="uncompressed"):  # the sample reaches it
        tfd.read_examples(mixed, blocksize=10_000, sample=1000)


def test_errors():
    with pytest.raises(tfformats.InvalidArgumentError, match="no files"):
        tfd.read_examples(str(EXAMPLES / "nothing-*.tfrecord"))
    with pytest.raises(tfformats.InvalidArgumentError, match="unknown columns"):
        tfd.read_examples(str(EXAMPLES / "plain" / "*.tfrecord"), columns=["nope"])
    with pytest.raises(tfformats.InvalidArgumentError):
        tfd.read_examples(str(EXAMPLES / "plain" / "*.tfrecord"), blocksize="lots")


def test_corrupt_record_fails_on_the_worker_with_its_location(client, tmp_path):
    src = EXAMPLES / "plain" / "train-00001-of-00004.tfrecord"
    bad = tmp_path / "train-00001.tfrecord"
    raw = bytearray(src.read_bytes())
    raw[30_000] ^= 0xFF
    bad.write_bytes(bytes(raw))
    df = tfd.read_examples(str(bad), blocksize=None, sample=50)  # the sample stops before the damage
    with pytest.raises(tfformats.DataLossError) as info:
        df.compute()
    assert str(bad) in str(info.value) and "offset" in str(info.value)


# -- remote files on the cluster ----------------------------------------------------------
@pytest.fixture(scope="module", params=servers.SERVER_KINDS)
def server(request, tmp_path_factory):
    srv = servers.start(request.param, EXAMPLES, tmp_path_factory)
    yield srv
    srv.close()


def test_cluster_reads_over_http(client, server):
    url = f"{server.url}/plain/*.tfrecord"  # globbed through the server's directory listing
    df = tfd.read_examples(url, blocksize=20_000)
    assert df.npartitions == 16  # 4 files of ~60 KB in 20 KB ranges
    server.reset()
    result = df.compute()
    assert_matches_tensorflow(result.reset_index(drop=True), "plain")
    data = [r for r in server.requests() if r.path.endswith(".tfrecord") and r.method == "GET"]
    assert data and all(r.status == 206 for r in data)
    gz = tfd.read_examples([f"{server.url}/gzip/train-0000{i}-of-00002.tfrecord.gz" for i in range(2)])
    assert_matches_tensorflow(gz.compute().reset_index(drop=True), "gzip")


def test_cluster_passes_storage_options_to_the_workers(client, tmp_path):
    srv = servers.StdlibServer(EXAMPLES)
    try:
        opts = {"headers": {"User-Agent": "tfformats-dask-test"}}
        df = tfd.read_examples(f"{srv.url}/zlib/*.zz", storage_options=opts)
        srv.reset()
        assert_matches_tensorflow(df.compute().reset_index(drop=True), "zlib")
        data = [r for r in srv.requests() if r.path.endswith(".zz") and r.method == "GET"]
        assert data and {r.user_agent for r in data} == {"tfformats-dask-test"}
    finally:
        srv.close()


def test_memory_filesystem_in_process():
    fsspec = pytest.importorskip("fsspec")
    fs = fsspec.filesystem("memory")
    for p in (EXAMPLES / "zlib").iterdir():
        fs.pipe_file(f"/tfformats-dask/{p.name}", p.read_bytes())
    try:
        df = tfd.read_examples("memory://tfformats-dask/*.zz").compute(scheduler="sync")
        assert_matches_tensorflow(df, "zlib")
    finally:
        fs.rm("/tfformats-dask", recursive=True)


# -- a generated dataset of a few hundred MB ----------------------------------------------
def write_dataset(directory, total_bytes: int, shards: int, seed: int = 0) -> list[str]:
    """Shards of Examples (~2 KB each) drawn from a pool of distinct records, in a different order per shard."""
    rng = np.random.default_rng(seed)
    pool = []
    for i in range(3000):
        pool.append(
            tfe.encode_example(
                {
                    "label": np.int64(i),
                    "embedding": rng.standard_normal(64).astype(np.float32),
                    "tokens": rng.integers(0, 30_000, int(rng.integers(0, 40))).astype(np.int64),
                    "blob": rng.bytes(int(rng.integers(1200, 2400))),
                },
                kinds={"tokens": "int64"},
            )
        )
    mean = sum(map(len, pool)) / len(pool)
    per_shard = int(total_bytes / shards / (mean + 16))
    paths = []
    for s in range(shards):
        path = os.path.join(directory, f"train-{s:05d}-of-{shards:05d}.tfrecord")
        tfr.write(path, [pool[j] for j in rng.integers(0, len(pool), per_shard)])
        paths.append(path)
    return paths


@pytest.mark.slow
def test_generated_dataset_of_a_few_hundred_mb(client, tmp_path):
    paths = write_dataset(str(tmp_path), 240 << 20, shards=6)
    assert sum(os.path.getsize(p) for p in paths) > 200 << 20
    df = tfd.read_examples(str(tmp_path / "train-*.tfrecord"), blocksize="24MiB")
    assert df.npartitions >= 12
    with distributed.get_task_stream(client) as ts:
        result = df.compute()
    workers = read_workers(ts.data)
    assert len(workers) == 2 and min(workers.values()) >= 3, workers
    specs = dict(tfe.infer_schema(paths[0], limit=1000).items())
    reference = single_process(paths, specs)
    assert_frames_identical(result.reset_index(drop=True), reference)


def test_schema_sample_skips_an_empty_first_shard(tmp_path):
    import shutil

    shutil.copy(DATA / "records" / "empty.none.tfrecord", tmp_path / "train-00000.tfrecord")  # written by TF
    shutil.copy(EXAMPLES / "plain" / "train-00000-of-00004.tfrecord", tmp_path / "train-00001.tfrecord")
    df = tfd.read_examples(str(tmp_path / "train-*.tfrecord"))
    assert df.npartitions == 2
    got = df.compute(scheduler="sync")
    assert len(got) == 400 and "tokens" in got.columns
    assert df.map_partitions(len).compute(scheduler="sync").tolist() == [0, 400]
