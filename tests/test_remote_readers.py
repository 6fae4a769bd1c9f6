"""Every public reader, three ways: a local path, an open binary file, an fsspec URL
(fsspec's ``memory://`` and real HTTP servers on loopback: nginx and the stdlib Range server).

Each reader's result from a URL or a file object must equal its result from the local path.
The files are TensorFlow-written fixtures of tests/data (graphs, SavedModels, Example shards,
event files, checkpoints); that the path results equal what TensorFlow read is checked by the
tests of each format.  Readers of several files (checkpoints, SavedModels) take no single open
file.  After the table: what graph readers do with odd file objects, and SavedModels from URLs
(every fixture, what goes over HTTP, asset names that try to leave the directory).
"""

from __future__ import annotations

import glob
import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import DATA

fsspec = pytest.importorskip("fsspec")
pytest.importorskip("aiohttp")

import tfformats  # noqa: E402
from tfformats import example as tfe  # noqa: E402

import _remote_servers as servers  # noqa: E402

REL = {
    "graph": "graphs/tf1_mlp/graph.pb",
    "graph_text": "graphs/tf1_mlp/graph.pbtxt",
    "meta": "graphs/tf1_mlp/model.ckpt.meta",
    "examples": "remote/examples/plain/train-00000-of-00004.tfrecord",
    "examples_gz": "remote/examples/gzip/train-00000-of-00002.tfrecord.gz",
    "events": os.path.relpath(glob.glob(str(DATA / "remote/events/run1/events.out.tfevents.*"))[0], DATA),
    "checkpoint": "remote/tf1/model.ckpt-10",
    "saved_model": "saved_models/tf2_module",
    "keras": "keras_weights/k3_model.keras",
    "keras_h5": "keras_weights/tfk_model.h5",
}


# -- how each reader's result is compared ------------------------------------------------
def same_columns(a: dict, b: dict) -> None:
    assert list(a) == list(b)
    for k in a:
        x, y = a[k], b[k]
        if isinstance(x, tfe.Ragged):
            assert isinstance(y, tfe.Ragged), k
            assert np.array_equal(x.row_lengths, y.row_lengths), k
            assert x.values.tolist() == y.values.tolist(), k
        else:
            assert np.asarray(x).tolist() == np.asarray(y).tolist(), k


def scalars(log) -> list:
    return [(r.tag, r.step, r.value) for r in log.scalars]


def tensors(reader) -> dict:
    with reader:
        return {n: reader[n].tolist() for n in reader}


READERS = {
    # name: (fixture, call, compare)
    "read_graph_def": ("graph", tfformats.read_graph_def, None),
    "read_graph_def (text)": ("graph_text", tfformats.read_graph_def, None),
    "read_meta_graph": ("meta", tfformats.read_meta_graph, None),
    "read_records": ("examples", lambda s: [bytes(r) for r in tfformats.read_records(s)], None),
    "read_records (GZIP)": ("examples_gz", lambda s: [bytes(r) for r in tfformats.read_records(s)], None),
    "count_records": ("examples", tfformats.count_records, None),
    "open_records": ("examples", lambda s: [bytes(r) for r in tfformats.open_records(s)], None),
    "read_examples": ("examples", tfformats.read_examples, same_columns),
    "read_examples (GZIP)": ("examples_gz", tfformats.read_examples, same_columns),
    "infer_example_schema": ("examples", lambda s: dict(tfformats.infer_example_schema(s).items()), None),
    "iter_events": ("events", lambda s: [e.SerializeToString() for e in tfformats.iter_events(s)], None),
    "read_events": ("events", lambda s: scalars(tfformats.read_events(s)), None),
    "iter_summaries": ("events", lambda s: len(list(tfformats.iter_summaries(s))), None),
    "load_checkpoint": ("checkpoint", lambda s: tensors(tfformats.load_checkpoint(s)), None),
    "list_variables": ("checkpoint", tfformats.list_variables, None),
    "load_variable": ("checkpoint", lambda s: tfformats.load_variable(s, "dense/kernel").tolist(), None),
    "load_saved_model": ("saved_model", lambda s: tfformats.load_saved_model(s).signatures.keys(), None),
    "load_keras_weights": ("keras", lambda s: tensors(tfformats.load_keras_weights(s)), None),
    "load_keras_weights (h5)": ("keras_h5", lambda s: tensors(tfformats.load_keras_weights(s)), None),
}

# A checkpoint or a SavedModel is several files: a single open file cannot hold it.
MULTI_FILE = {"load_checkpoint", "list_variables", "load_variable", "load_saved_model"}


def cases(ways):
    out = []
    for name in READERS:
        for way in ways:
            if way == "file" and name in MULTI_FILE:
                continue
            out.append(pytest.param(name, way, id=f"{name}-{way}"))
    return out


def check(name, source):
    fixture, call, compare = READERS[name]
    want = call(str(DATA / REL[fixture]))
    got = call(source)
    if compare is not None:
        compare(got, want)
    else:
        assert got == want


# -- memory:// and open files -----------------------------------------------------------
@pytest.fixture(scope="module")
def memfs():
    fs = fsspec.filesystem("memory")
    files = set()
    for key, rel in REL.items():
        p = DATA / rel
        if key == "checkpoint":  # a prefix: the index, the data shard, the state file
            files.update(p.parent.iterdir())
        elif p.is_dir():
            files.update(f for f in p.rglob("*") if f.is_file())
        else:
            files.add(p)
    for f in files:
        fs.pipe_file(f"/tfformats-readers/{f.relative_to(DATA).as_posix()}", f.read_bytes())
    yield "memory://tfformats-readers"
    fs.rm("/tfformats-readers", recursive=True)


@pytest.mark.parametrize("name, way", cases(["file", "memory"]))
def test_reader_accepts(memfs, name, way):
    rel = REL[READERS[name][0]]
    if way == "file":
        with open(DATA / rel, "rb") as f:
            check(name, f)
    else:
        check(name, f"{memfs}/{rel}")


def test_fsspec_open_file_objects():
    """An fsspec file object (what ``fsspec.open(url).open()`` gives) is a binary file like any other."""
    fs = fsspec.filesystem("memory")
    rel = REL["examples"]
    fs.pipe_file(f"/tfformats-fileobj/{rel}", (DATA / rel).read_bytes())
    try:
        with fsspec.open(f"memory://tfformats-fileobj/{rel}", "rb") as f:
            same_columns(tfformats.read_examples(f), tfformats.read_examples(str(DATA / rel)))
    finally:
        fs.rm("/tfformats-fileobj", recursive=True)


# -- HTTP -----------------------------------------------------------------------------------
@pytest.fixture(scope="module", params=servers.SERVER_KINDS)
def server(request, tmp_path_factory):
    srv = servers.start(request.param, DATA, tmp_path_factory)
    yield srv
    srv.close()


@pytest.mark.parametrize("name, way", cases(["http"]))
def test_reader_over_http(server, name, way):
    check(name, f"{server.url}/{REL[READERS[name][0]]}")


def test_http_graph_is_one_whole_file_read(server):
    rel = REL["graph"]
    server.reset()
    tfformats.read_graph_def(f"{server.url}/{rel}")
    reqs = [r for r in server.requests() if r.method == "GET"]
    assert servers.body_bytes(reqs) == os.path.getsize(DATA / rel)


# -- graph readers: open binary files of every kind ------------------------------------------
GRAPH = DATA / REL["graph"]
META = DATA / REL["meta"]
MLP_PREFIX = DATA / "graphs/tf1_mlp/model.ckpt"


class _Stream:
    """``read()`` only (no seek, tell or name), short reads: a pipe, a socket, an HTTP body."""

    def __init__(self, data: bytes, step: int = 1000) -> None:
        self._b = io.BytesIO(data)
        self._step = step

    def read(self, n: int = -1) -> bytes:
        return self._b.read(self._step if n is None or n < 0 else min(n, self._step))


def test_graph_readers_take_streams_and_read_from_the_current_position():
    want = tfformats.read_graph_def(str(GRAPH))
    data = GRAPH.read_bytes()
    assert tfformats.read_graph_def(_Stream(data)) == want
    assert tfformats.read_graph_def(io.BytesIO(data)) == want
    b = io.BytesIO(b"header" + data)
    b.seek(6)
    assert tfformats.read_graph_def(b) == want  # like f.read(): from where the file is
    meta = tfformats.read_meta_graph(str(META))
    assert tfformats.read_meta_graph(_Stream(META.read_bytes(), 7)) == meta
    with open(META, "rb") as f:
        assert tfformats.graph.read_graph_file(f) == meta
    with open(DATA / REL["graph_text"], "rb") as f:
        assert tfformats.graph.read_graph_file(f) == want


def test_file_object_claiming_a_huge_size_costs_only_what_it_holds():
    """An object that says it holds 2^62 bytes (``size``, ``seek``) is read for what ``read`` gives."""
    import tracemalloc

    data = GRAPH.read_bytes()

    class Liar(_Stream):
        size = 1 << 62  # fsspec files carry their size in this attribute

        def seek(self, offset, whence=0):
            return self.size

        def tell(self):
            return 0

    want = tfformats.read_graph_def(str(GRAPH))
    tracemalloc.start()
    try:
        got = tfformats.read_graph_def(Liar(data))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert got == want
    assert peak < 4 << 20, peak


def test_graph_reader_errors_name_the_open_file(tmp_path):
    bad = tmp_path / "broken.pb"
    bad.write_bytes(GRAPH.read_bytes()[: 9354 // 2])
    with open(bad, "rb") as f, pytest.raises(tfformats.DataLossError, match="broken.pb"):
        tfformats.read_graph_def(f)
    with open(GRAPH, "r") as f, pytest.raises(tfformats.InvalidArgumentError, match="graph.pb: .*text mode"):
        tfformats.read_graph_def(f)
    f = open(GRAPH, "rb")
    f.close()
    with pytest.raises(tfformats.InvalidArgumentError, match="graph.pb: cannot read"):
        tfformats.read_graph_def(f)
    with open(tmp_path / "w.pb", "wb") as f, pytest.raises(tfformats.InvalidArgumentError, match="w.pb"):
        tfformats.read_graph_def(f)
    with open(META, "rb") as f, pytest.raises(tfformats.InvalidArgumentError, match="model.ckpt.meta: .*MetaGraphDef"):
        tfformats.read_graph_def(f)
    with pytest.raises(tfformats.DataLossError, match="<file>"):
        tfformats.read_graph_def(io.BytesIO(b"\x12\xff\xff\xff"))
    with pytest.raises(tfformats.InvalidArgumentError, match="not bytes"):
        tfformats.read_graph_def(type("Odd", (), {"read": lambda self, n=-1: 42})())
    fs = fsspec.filesystem("memory")
    fs.pipe_file("/tfformats-broken/broken.pb", bad.read_bytes())
    try:
        with fsspec.open("memory://tfformats-broken/broken.pb", "rb") as f:
            with pytest.raises(tfformats.DataLossError, match="memory:///?tfformats-broken/broken.pb"):
                tfformats.read_graph_def(f)
    finally:
        fs.rm("/tfformats-broken", recursive=True)


def test_graph_functions_take_open_files():
    from tfformats.graph import graph_constants, summarize_graph

    want = tfformats.freeze_graph(str(META), str(MLP_PREFIX), ["output"])
    with open(META, "rb") as f:
        assert tfformats.freeze_graph(f, str(MLP_PREFIX), ["output"]) == want
    with open(GRAPH, "rb") as f:
        s = summarize_graph(f)
    assert s.path == str(GRAPH)
    assert s.to_dict() == summarize_graph(str(GRAPH)).to_dict()
    with open(GRAPH, "rb") as f:
        consts = graph_constants(f)
    assert consts.path == str(GRAPH) and list(consts) == list(graph_constants(str(GRAPH)))


def test_freeze_graph_over_http(server):
    base = f"{server.url}/graphs/tf1_mlp"
    want = tfformats.freeze_graph(str(META), str(MLP_PREFIX), ["output"])
    assert tfformats.freeze_graph(f"{base}/model.ckpt.meta", f"{base}/model.ckpt", ["output"]) == want


# -- SavedModels from URLs ---------------------------------------------------------------------
SAVED_MODELS = sorted(p.name for p in (DATA / "saved_models").iterdir() if p.is_dir())


def _normalized(d: dict, directory: str) -> dict:
    """``to_dict()`` with the model's location replaced (asset paths, summary path...)."""
    text = json.dumps(d, sort_keys=True)
    for where in sorted({directory, os.path.abspath(directory)}, key=len, reverse=True):
        text = text.replace(json.dumps(where)[1:-1], "<dir>")
    return json.loads(text)


def _same_as_local(url: str, name: str) -> None:
    local_dir = str(DATA / "saved_models" / name)
    with tfformats.load_saved_model(local_dir) as local, tfformats.load_saved_model(url) as rem:
        assert rem.is_remote and not local.is_remote
        assert rem.directory == url.rstrip("/")
        assert _normalized(rem.to_dict(), rem.directory) == _normalized(local.to_dict(), local_dir)
        for v in local.variables:
            if v.checkpoint_key is not None:
                np.testing.assert_array_equal(rem.get_variable(v.path), local.get_variable(v.path), err_msg=v.path)
        for a, b in zip(local.assets, rem.assets):
            assert b.path == f"{rem.directory}/assets/{a.filename}"
            if a.exists:
                assert b.read_bytes() == a.read_bytes()
    assert tfformats.freeze_saved_model(url) == tfformats.freeze_saved_model(local_dir)


@pytest.fixture(scope="module")
def sm_memfs():
    fs = fsspec.filesystem("memory")
    root = DATA / "saved_models"
    for f in root.rglob("*"):
        if f.is_file() and f.parent != root:
            fs.pipe_file(f"/tfformats-sm/{f.relative_to(root).as_posix()}", f.read_bytes())
    yield "memory://tfformats-sm"
    fs.rm("/tfformats-sm", recursive=True)


@pytest.mark.parametrize("name", SAVED_MODELS)
def test_saved_model_from_memory_equals_local(sm_memfs, name):
    _same_as_local(f"{sm_memfs}/{name}", name)


@pytest.mark.parametrize("name", SAVED_MODELS)
def test_saved_model_over_http_equals_local(server, name):
    _same_as_local(f"{server.url}/saved_models/{name}/", name)


def test_saved_model_file_url_names_its_directory(sm_memfs):
    with tfformats.load_saved_model(f"{sm_memfs}/tf2_module/saved_model.pb") as sm:
        assert sm.directory == f"{sm_memfs}/tf2_module"
    with tfformats.load_saved_model(f"{sm_memfs}/pbtxt_model/saved_model.pbtxt") as sm:
        assert sm.encoding == "text"


def test_saved_model_over_http_fetches_only_what_is_asked(server):
    rel = "saved_models/tf2_module"
    local = DATA / rel
    server.reset()
    sm = tfformats.load_saved_model(f"{server.url}/{rel}")
    reqs = server.requests()
    assert [(r.method, r.path) for r in reqs] == [("HEAD", f"/{rel}/saved_model.pb"), ("GET", f"/{rel}/saved_model.pb")]
    assert servers.body_bytes(reqs) == (local / "saved_model.pb").stat().st_size
    with sm:
        server.reset()
        (asset,) = sm.assets  # listed (a HEAD for its size), not downloaded
        assert asset.exists and asset.size == (local / "assets/labels.txt").stat().st_size
        reqs = server.requests()
        assert [(r.method, r.path) for r in reqs] == [("HEAD", f"/{rel}/assets/labels.txt")]
        server.reset()
        assert sm.fingerprint is not None
        assert [r.path for r in server.requests() if r.method == "GET"] == [f"/{rel}/fingerprint.pb"]
        server.reset()
        # TF2 variables: the checkpoint's .index, then its object graph (one ranged read)
        v = next(v for v in sm.variables if v.checkpoint_key)
        index = (local / "variables/variables.index").stat().st_size
        graph = sm.checkpoint.backend.entry("_CHECKPOINTABLE_OBJECT_GRAPH").size
        reqs = server.requests()
        assert [(r.method, r.path.rsplit("/", 1)[1]) for r in reqs] == [
            ("HEAD", "variables.index"), ("GET", "variables.index"),
            ("HEAD", "variables.data-00000-of-00001"), ("GET", "variables.data-00000-of-00001"),
        ]
        assert servers.body_bytes(reqs) == index + graph
        server.reset()
        value = sm.get_variable(v.path)
        size = sm.checkpoint.backend.entry(v.checkpoint_key).size
        data = [r for r in server.requests() if r.method == "GET"]
        assert [(r.status, r.body_bytes) for r in data] == [(206, size)] and value.nbytes == size
        server.reset()
        assert asset.read_bytes() == (local / "assets/labels.txt").read_bytes()
        assert [r.path for r in server.requests() if r.method == "GET"] == [f"/{rel}/assets/labels.txt"]


def test_remote_saved_model_errors_name_the_url(server, sm_memfs):
    with pytest.raises(tfformats.NotFoundError, match=f"{server.url}/saved_models/nope: .*no saved_model.pb"):
        tfformats.load_saved_model(f"{server.url}/saved_models/nope")
    fs = fsspec.filesystem("memory")
    good = (DATA / "saved_models/tf2_module/saved_model.pb").read_bytes()
    fs.pipe_file("/tfformats-sm-bad/cut/saved_model.pb", good[: len(good) // 3])
    fs.pipe_file("/tfformats-sm-bad/chunked/saved_model.cpb", b"chunks")
    try:
        with pytest.raises(tfformats.DataLossError, match="memory://tfformats-sm-bad/cut/saved_model.pb"):
            tfformats.load_saved_model("memory://tfformats-sm-bad/cut")
        with pytest.raises(tfformats.UnsupportedError, match="chunked"):
            tfformats.load_saved_model("memory://tfformats-sm-bad/chunked")
    finally:
        fs.rm("/tfformats-sm-bad", recursive=True)
    with pytest.raises(tfformats.TFFormatsError):
        tfformats.load_saved_model("nosuchprotocol://bucket/model")


# Asset names that leave assets/ one way or another once they are part of a URL.
ESCAPING = [
    "../secret.txt", "../../secret.txt", "sub/../../secret.txt", "..", ".", "", "/secret.txt",
    "%2e%2e/secret.txt", "..%2fsecret.txt", "%2E%2E%2F%2E%2E%2Fsecret.txt", "..\\secret.txt",
    "C:/secret.txt", "memory://tfformats-evil/secret.txt", "x::memory://tfformats-evil/secret.txt",
    "x\x00/../../secret.txt",
]
HTTP_ONLY = ["a?/../../secret.txt", "#/../../secret.txt"]


def _evil_tree(root):
    """root/secret.txt, and root/m: tf2_module whose meta graph lists ESCAPING + HTTP_ONLY as assets too."""
    import shutil

    from tfformats.proto import pb

    m = shutil.copytree(DATA / "saved_models/tf2_module", root / "m")
    (root / "secret.txt").write_text("secret")
    proto = pb.SavedModel.FromString((m / "saved_model.pb").read_bytes())
    for i, name in enumerate(ESCAPING + HTTP_ONLY):
        a = proto.meta_graphs[0].asset_file_def.add()
        a.filename = name
        a.tensor_info.name = f"evil_{i}:0"
    (m / "saved_model.pb").write_bytes(proto.SerializeToString())
    return m


def _check_evil(url, unsafe_names):
    with tfformats.load_saved_model(url) as sm:
        assets = {a.filename: a for a in sm.assets}
        assert assets["labels.txt"].safe and assets["labels.txt"].exists
        for name in unsafe_names:
            a = assets[name]
            assert (a.safe, a.path, a.exists) == (False, None, None), name
            with pytest.raises(tfformats.DataLossError, match="unsafe"):
                a.read_bytes()
            assert any(f"asset {name!r} is unsafe" in p for p in sm.problems), name
        json.dumps(sm.to_dict())


def test_remote_asset_names_that_escape_are_reported_and_never_opened(tmp_path, monkeypatch):
    from fsspec.implementations.memory import MemoryFileSystem

    _evil_tree(tmp_path)
    fs = fsspec.filesystem("memory")
    for f in tmp_path.rglob("*"):
        if f.is_file():
            fs.pipe_file(f"/tfformats-evil/{f.relative_to(tmp_path).as_posix()}", f.read_bytes())
    touched = []
    for method in ("info", "cat_file", "_open", "exists", "size"):
        real = getattr(MemoryFileSystem, method)

        def spy(self, path, *args, _real=real, **kwargs):
            touched.append(str(path))
            return _real(self, path, *args, **kwargs)

        monkeypatch.setattr(MemoryFileSystem, method, spy)
    try:
        _check_evil("memory://tfformats-evil/m", ESCAPING)
        assert touched and not [p for p in touched if "secret" in p]
    finally:
        monkeypatch.undo()
        fs.rm("/tfformats-evil", recursive=True)


@pytest.fixture(params=["nginx", "stdlib"])
def evil_server(request, tmp_path_factory):
    root = tmp_path_factory.mktemp("evil")
    _evil_tree(root)
    if request.param == "nginx":
        binary = servers.find_nginx()
        if binary is None:
            pytest.skip("nginx is not installed")
        srv = servers.NginxServer(root, tmp_path_factory.mktemp("nginx-evil"), binary)
    else:
        srv = servers.StdlibServer(root)
    yield srv
    srv.close()


def test_http_asset_names_that_escape_are_reported_and_never_requested(evil_server):
    evil_server.reset()
    _check_evil(f"{evil_server.url}/m", ESCAPING + HTTP_ONLY)
    paths = [r.path for r in evil_server.requests()]
    assert "/m/assets/labels.txt" in paths
    assert not [p for p in paths if "secret" in p or not p.startswith("/m/")]


def test_local_saved_models_and_graph_files_never_import_fsspec():
    code = (
        "import sys, tfformats\n"
        f"sm = tfformats.load_saved_model({str(DATA / 'saved_models/tf2_module')!r})\n"
        "sm.to_dict(); sm.assets[0].read_bytes(); sm.fingerprint\n"
        f"tfformats.freeze_saved_model({str(DATA / 'saved_models/tf1_builder')!r})\n"
        f"tfformats.read_graph_def(open({str(GRAPH)!r}, 'rb'))\n"
        "assert 'fsspec' not in sys.modules, 'fsspec imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
