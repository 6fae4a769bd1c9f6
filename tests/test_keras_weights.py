"""Keras weights files (tfformats.keras) against what h5py, and so Keras, reads from them.

Fixtures: tests/generate/gen_keras_weights.py (tf_keras, Keras 3 and h5py-written variants), with
h5py's listing and values in expected.json/expected.npz.
"""

from __future__ import annotations

import json
import os
import shutil
import zipfile

import numpy as np
import pytest

import tfformats
from cli_helpers import DATA, run_cli, run_cli_json
from tfformats.errors import DataLossError, TFFormatsError, UnknownTensorError, UnsupportedError

KW = DATA / "keras_weights"
EXPECTED = json.loads((KW / "expected.json").read_text())["files"]
VALUES = np.load(KW / "expected.npz", allow_pickle=False)
READABLE = sorted(EXPECTED)
# what the reader lists but does not decode (h5py reads them; Keras never writes them)
UNSUPPORTED = {"layouts/chunked", "layouts/gzip", "unsupported/vlen_strings", "unsupported/compound"}


@pytest.mark.parametrize("name", READABLE)
def test_every_dataset_matches_h5py(name):
    want = EXPECTED[name]["datasets"]
    with tfformats.load_keras_weights(KW / name) as r:
        assert sorted(r) == sorted(want)
        assert r.get_variable_to_shape_map() == {n: e["shape"] for n, e in want.items()}
        for n, e in want.items():
            if n in UNSUPPORTED:
                with pytest.raises(UnsupportedError, match="does not"):
                    r.get_tensor(n)
                continue
            got = r.get_tensor(n)
            assert list(got.shape) == e["shape"]
            key = f"{name}::{n}"
            if "strings" in e:
                assert [v.hex() for v in got.reshape(-1).tolist()] == e["strings"]
            elif r.get_variable_to_dtype_map()[n] == "bfloat16" and e["dtype"] == "|V2":
                # Keras' bfloat16: an opaque 2-byte type h5py leaves as raw bytes (their bit patterns)
                np.testing.assert_array_equal(got.view(np.uint16), VALUES[key])
            elif r.get_variable_to_dtype_map()[n] == "bfloat16":
                assert e["dtype"] == "float32"  # h5py converts the custom 16-bit float to float32
                np.testing.assert_array_equal(got.astype(np.float32), VALUES[key])
            else:
                assert str(got.dtype) == e["dtype"] == r.get_variable_to_dtype_map()[n]
                np.testing.assert_array_equal(got, VALUES[key])
                assert got.flags.writeable and got.dtype.isnative
        assert set(r.unreadable()) == (UNSUPPORTED if name == "variants.h5" else set())


@pytest.mark.parametrize("name", sorted(n for n in READABLE if EXPECTED[n]["keras"]))
def test_keras_files_hold_every_weight_keras_saved(name):
    """As many datasets as the model has weights (tf_keras .h5 adds the optimizer's too), with the
    shapes of model.get_weights()."""
    view = EXPECTED[name]["keras"]
    with tfformats.load_keras_weights(KW / name) as r:
        shapes = sorted(map(tuple, r.get_variable_to_shape_map().values()))
        for s in view["weight_shapes"]:
            assert tuple(s) in shapes
            shapes.remove(tuple(s))


def test_a_keras_archive_reads_its_weights_in_place():
    with tfformats.load_keras_weights(KW / "k3_model.keras") as a, tfformats.load_keras_weights(KW / "k3.weights.h5") as b:
        assert a.format == "keras_v3" and b.format == "h5"
        assert list(a) == list(b)
        for n in a:
            np.testing.assert_array_equal(a[n], b[n])
    with tfformats.load_keras_weights(KW / "k3_model.keras") as a:
        names = list(a)
        # Keras 3 numbers a layer's variables: listed in numeric order
        opt = [n for n in names if n.startswith("optimizer/vars/")]
        assert opt == [f"optimizer/vars/{i}" for i in range(len(opt))] and len(opt) > 10


def test_dense_link_storage_is_read():
    # found by a compatibility hunt: one non-ASCII layer name among 9 or more layers makes libhdf5
    # keep a Keras .h5's group links in dense storage (a fractal heap indexed by a version 2 B-tree),
    # as libver="latest" does for any group of more than 8; such files raised "dense storage"
    with tfformats.load_keras_weights(KW / "dense_links.h5") as r:
        assert len(r) == len(EXPECTED["dense_links.h5"]["datasets"]) == 21 and not r.unreadable()


def test_unknown_names_and_bad_arguments():
    with tfformats.load_keras_weights(KW / "tfk_weights.h5") as r:
        with pytest.raises(UnknownTensorError):
            r.get_tensor("nope")
        with pytest.raises(KeyError):
            r["nope"]
        assert not r.has_tensor(3)
    with pytest.raises(tfformats.NotFoundError):
        tfformats.load_keras_weights(KW / "missing.h5")
    with pytest.raises(DataLossError, match="not a Keras weights index"):
        tfformats.load_keras_weights(KW / "expected.json")  # JSON, but no weight_map
    with pytest.raises(DataLossError, match="no HDF5 superblock"):
        tfformats.load_keras_weights(DATA / "graphs" / "tf1_mlp" / "graph.pbtxt")


def test_a_keras_archive_without_weights_or_with_compressed_weights(tmp_path):
    src = zipfile.ZipFile(KW / "k3_model.keras")
    no_weights = tmp_path / "no_weights.keras"
    with zipfile.ZipFile(no_weights, "w") as z:
        z.writestr("config.json", src.read("config.json"))
    with pytest.raises(tfformats.NotFoundError, match="model.weights.h5"):
        tfformats.load_keras_weights(no_weights)
    deflated = tmp_path / "deflated.keras"
    with zipfile.ZipFile(deflated, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            z.writestr(info.filename, src.read(info.filename))
    with pytest.raises(UnsupportedError, match="compressed"):
        tfformats.load_keras_weights(deflated)


@pytest.mark.parametrize("cut", [0.1, 0.5, 0.9, 0.999])
def test_truncated_files_raise_the_library_error(tmp_path, cut):
    data = (KW / "tfk_model.h5").read_bytes()
    p = tmp_path / "cut.h5"
    p.write_bytes(data[: int(len(data) * cut)])
    try:
        with tfformats.load_keras_weights(p) as r:
            for n in r:
                r.get_tensor(n)
    except TFFormatsError as exc:
        assert str(p) in str(exc)
    else:
        pytest.fail("a truncated file read without an error")


def test_byte_flips_only_raise_the_library_error(tmp_path):
    """Anything but the library's error fails the test; both outcomes occur."""
    data = bytearray((KW / "k3.weights.h5").read_bytes())
    rng = np.random.default_rng(3)
    p = tmp_path / "flip.h5"
    outcomes = {"read": 0, "error": 0}
    for _ in range(300):
        d = bytearray(data)
        for i in rng.integers(0, len(d), 4):
            d[i] ^= 1 << int(rng.integers(0, 8))
        p.write_bytes(bytes(d))
        try:
            with tfformats.load_keras_weights(p) as r:
                for n in r:
                    r.get_tensor(n)
        except TFFormatsError:
            outcomes["error"] += 1
        else:
            outcomes["read"] += 1
    assert outcomes["read"] > 0 and outcomes["error"] > 0, outcomes


# -- the command-line tool ------------------------------------------------------------------------
def test_ls_show_diff_export_of_keras_files(capsys, tmp_path):
    code, doc = run_cli_json(capsys, "ls", KW / "tfk_model.h5")
    assert code == 0
    listed = {t["name"]: t for t in doc["tensors"]}
    assert set(listed) == set(EXPECTED["tfk_model.h5"]["datasets"])
    name = "model_weights/dense/dense/kernel:0"
    assert listed[name]["dtype"] == "float32" and listed[name]["shape"] == EXPECTED["tfk_model.h5"]["datasets"][name]["shape"]
    code, out, _ = run_cli(capsys, "show", KW / "tfk_model.h5", name)
    assert code == 0 and "float32" in out
    code, out, _ = run_cli(capsys, "diff", KW / "k3.weights.h5", KW / "k3_model.keras")
    assert code == 0 and "26 identical, 0 changed" in out
    out_npz = tmp_path / "v.npz"
    code, doc = run_cli_json(capsys, "export", KW / "variants.h5", out_npz)
    assert code == 0
    assert {s["name"] for s in doc["skipped"]} == UNSUPPORTED
    with np.load(out_npz, allow_pickle=False) as z:
        np.testing.assert_array_equal(z["dtypes/float64_be"], VALUES["variants.h5::dtypes/float64_be"])
    code, _ = run_cli_json(capsys, "export", KW / "variants.h5", tmp_path / "strict.npz", "--strict")
    assert code != 0


def test_info_counts_the_weights(capsys):
    code, doc = run_cli_json(capsys, "info", KW / "k3_model.keras")
    assert code == 0 and doc["kind"] == "keras_archive"
    assert doc["weights"]["num_tensors"] == len(EXPECTED["k3_model.keras"]["datasets"]) and doc["weights"]["error"] is None
    code, doc = run_cli_json(capsys, "info", KW / "variants.h5")
    assert set(doc["weights"]["unreadable"]) == UNSUPPORTED
    code, doc = run_cli_json(capsys, "info", KW / "dense_links.h5")
    assert code == 0 and doc["weights"]["error"] is None and doc["weights"]["num_tensors"] == 21


def test_a_userblock_and_keras_212_files_read_too():
    """A user block before the superblock; Keras 2.12's HDF5 '.keras' (the scan fixtures)."""
    for name in ("h5_userblock.h5", "keras212_clean.keras"):
        with tfformats.load_keras_weights(DATA / "scan" / name) as r:
            assert r.format == "h5"
            assert "model_weights/out/out/kernel:0" in r or "model_weights/dense/dense/kernel:0" in r
            assert all(r[n].size >= 1 for n in r)


def test_verify_reads_every_weight_and_reports_damage(capsys, tmp_path):
    code, doc = run_cli_json(capsys, "verify", KW / "k3_model.keras")
    assert code == 0 and doc["ok"] and doc["checked"]["tensors"] == len(EXPECTED["k3_model.keras"]["datasets"])
    code, out, _ = run_cli(capsys, "verify", KW / "k3_model.keras")
    assert "every value read" in out
    code, doc = run_cli_json(capsys, "verify", KW / "variants.h5")
    assert code == 0 and {p["entry"] for p in doc["problems"]} == UNSUPPORTED
    assert {p["severity"] for p in doc["problems"]} == {"warning"}
    data = (KW / "tfk_model.h5").read_bytes()
    cut = tmp_path / "cut.h5"
    cut.write_bytes(data[: len(data) - 1000])
    code, doc = run_cli_json(capsys, "verify", cut)
    assert code == 1 and not doc["ok"]
    assert any("truncated" in p["message"] for p in doc["problems"])


def test_info_tells_keras3_weights_files_by_their_layout(capsys):
    """Keras 3's .weights.h5 has no root attribute naming its layers, unlike Keras 2's: its content is
    told from the layers/<name>/vars/ layout.  A plain HDF5 file stays 'other'."""
    for name, content in (("k3.weights.h5", "weights"), ("tfk_weights.h5", "weights"), ("variants.h5", "other"),
                          ("tfk_model.h5", "model")):
        code, doc = run_cli_json(capsys, "info", KW / name)
        assert code == 0 and doc["content"] == content, name
        assert "names" not in doc["weights"]


def test_sharded_keras3_weights_read_as_one_set(tmp_path):
    index = KW / "k3_sharded" / "model.weights.json"
    shards = EXPECTED["k3_sharded/model.weights.json"]["shards"]
    assert len(shards) >= 2
    with tfformats.load_keras_weights(index) as s, tfformats.load_keras_weights(KW / "k3.weights.h5") as whole:
        assert s.format == "keras_v3_sharded" and [p.rsplit("/", 1)[-1] for p in s.files] == shards
        assert list(s) == list(whole)  # the optimizer's variables are split over the shards (one group, 3 files)
        for n in s:
            np.testing.assert_array_equal(s[n], whole[n])
    # a shard missing, a shard named by a path, an index without a weight_map
    broken = tmp_path / "broken"
    shutil.copytree(KW / "k3_sharded", broken)
    (broken / shards[-1]).unlink()
    with pytest.raises(tfformats.NotFoundError):
        tfformats.load_keras_weights(broken / "model.weights.json")
    for bad in ('{"weight_map": {"/layers/dense/vars": ["../../etc/passwd"]}}', '{"weight_map": {}}', "{not json"):
        (broken / "bad.json").write_text(bad)
        with pytest.raises(DataLossError):
            tfformats.load_keras_weights(broken / "bad.json")


def test_the_cli_reads_sharded_weights_by_index_or_folder(capsys):
    for path in (KW / "k3_sharded" / "model.weights.json", KW / "k3_sharded"):
        code, doc = run_cli_json(capsys, "info", path)
        assert code == 0 and doc["kind"] == "keras_sharded"
        assert [p.rsplit("/", 1)[-1] for p in doc["shards"]] == EXPECTED["k3_sharded/model.weights.json"]["shards"]
        assert doc["weights"]["num_tensors"] == len(EXPECTED["k3_sharded/model.weights.json"]["datasets"])
        code, doc = run_cli_json(capsys, "verify", path)
        assert code == 0 and doc["checked"]["files"] == len(EXPECTED["k3_sharded/model.weights.json"]["shards"])
    code, out, _ = run_cli(capsys, "diff", KW / "k3_sharded", KW / "k3.weights.h5")
    assert code == 0 and "26 identical, 0 changed" in out
    code, doc = run_cli_json(capsys, "scan", KW / "k3_sharded")
    assert code == 0 and doc["findings"] == []


def test_a_sharded_index_needs_its_path_to_find_its_shards():
    import io

    data = (KW / "k3_sharded" / "model.weights.json").read_bytes()
    with pytest.raises(tfformats.InvalidArgumentError, match="pass its path"):
        tfformats.load_keras_weights(io.BytesIO(data))
    with open(KW / "k3_sharded" / "model.weights.json", "rb") as f:  # an open file is not a path either
        with pytest.raises(tfformats.InvalidArgumentError):
            tfformats.load_keras_weights(f)


def test_keras_archive_crc_catches_a_flipped_weight(tmp_path, capsys):
    # found by a compatibility hunt: values are read in place inside the zip, so a flipped bit in a
    # weight came back silently and `verify` passed, while Keras refused the file ("Bad CRC-32").
    src = KW / "k3_model.keras"
    with zipfile.ZipFile(src) as z:
        info = z.getinfo("model.weights.h5")
    data = bytearray(src.read_bytes())
    local = info.header_offset
    name_len, extra_len = int.from_bytes(data[local + 26 : local + 28], "little"), int.from_bytes(data[local + 28 : local + 30], "little")
    start = local + 30 + name_len + extra_len
    with tfformats.load_keras_weights(src) as r:
        name = next(n for n in r if r.get_tensor(n).dtype == np.float32 and r.get_tensor(n).size > 4)
        want = r.get_tensor(name)
    at = bytes(data).find(want.astype("<f4").tobytes(), start)
    assert at > 0
    data[at + 1] ^= 0x10  # inside the first value of that weight
    p = tmp_path / "flipped.keras"
    p.write_bytes(bytes(data))
    with zipfile.ZipFile(p) as z:
        assert z.testzip() == "model.weights.h5"  # zipfile agrees the member is damaged
    with tfformats.load_keras_weights(p) as r:
        assert name in r  # listing reads no values
        with pytest.raises(tfformats.ChecksumError, match="CRC-32"):
            r.get_tensor(name)
    with tfformats.load_keras_weights(p, verify_checksums=False) as r:
        assert not np.array_equal(r.get_tensor(name), want)  # the damage the CRC stands for
    code, doc = run_cli_json(capsys, "verify", p)
    assert code == 1 and not doc["ok"] and len(doc["problems"]) == 1 and "CRC-32" in doc["problems"][0]["message"]
    code, doc = run_cli_json(capsys, "verify", src)
    assert code == 0 and doc["checked"]["archive_crcs"] == 1


def test_unzipped_keras_save_folder(tmp_path, capsys):
    # Keras 3 model.save(folder, zipped=False) writes the archive's members as files; rebuilt here from
    # the committed archive (found by a compatibility hunt: "no such file" for the folder)
    folder = tmp_path / "model_dir"
    with zipfile.ZipFile(KW / "k3_model.keras") as z:
        z.extractall(folder)
    assert (folder / "model.weights.h5").is_file() and (folder / "config.json").is_file()
    with tfformats.load_keras_weights(KW / "k3_model.keras") as a, tfformats.load_keras_weights(folder) as b:
        assert list(a) == list(b)
        for n in a:
            np.testing.assert_array_equal(a.get_tensor(n), b.get_tensor(n))
    code, doc = run_cli_json(capsys, "ls", folder)
    assert code == 0 and len(doc["tensors"]) == len(b)
    with pytest.raises(tfformats.NotFoundError, match="model.weights.h5"):
        tfformats.load_keras_weights(tmp_path)


@pytest.mark.parametrize("name", ["k3_bf16.keras", "k3_bf16.weights.h5", "tfk_bf16.h5"])
def test_bfloat16_weights_as_keras_writes_them(name):
    # found by a compatibility hunt: Keras 3 and tf_keras store bfloat16 as an HDF5 opaque type
    # (Keras 3 names it in a 'dtype' attribute); they were listed as 'opaque' and not read
    keras_values = sorted(EXPECTED[name]["keras"]["weight_values"])
    with tfformats.load_keras_weights(KW / name) as r:
        assert set(r.get_variable_to_dtype_map().values()) == {"bfloat16"} and not r.unreadable()
        got = sorted(r.get_tensor(n).astype(np.float32).reshape(-1).tolist() for n in r)
    assert got == keras_values


def test_unzipped_keras_save_folder_is_scanned_and_described(tmp_path, capsys):
    # found by a compatibility hunt: scan of a folder saved with zipped=False looked only at its
    # weights and passed a Lambda layer keras.saving.load_model(folder) would run
    folder = tmp_path / "lam"
    with zipfile.ZipFile(DATA / "scan" / "lambda.keras") as z:
        z.extractall(folder)
    code, doc = run_cli_json(capsys, "scan", folder)
    assert code == 1 and [f["rule"] for f in doc["findings"] if f["severity"] == "critical"] == ["keras-lambda"]
    code, doc = run_cli_json(capsys, "info", folder)
    assert code == 0 and doc["content"] == "folder" and "Lambda" in doc["layer_classes"]


def test_keras_archive_with_a_config_or_metadata_that_is_not_json(tmp_path, capsys):
    # Keras refuses a config.json that is not JSON and ignores a bad metadata.json: verify says so,
    # info still describes the archive (it gave up, exit 3, on a bad metadata.json)
    for member, code_want, severity in (("config.json", 1, "error"), ("metadata.json", 0, "warning")):
        dst = tmp_path / f"bad_{member}.keras"
        with zipfile.ZipFile(KW / "k3_model.keras") as zin, zipfile.ZipFile(dst, "w") as zout:
            for item in zin.infolist():
                zout.writestr(item, b"{not json" if item.filename == member else zin.read(item.filename))
        code, doc = run_cli_json(capsys, "verify", dst)
        assert code == code_want and [p["severity"] for p in doc["problems"]] == [severity]
        code, doc = run_cli_json(capsys, "info", dst)
        assert code == 0 and doc["unreadable"] == [f"{member} is not valid JSON (JSONDecodeError)"]
    code, doc = run_cli_json(capsys, "scan", tmp_path / "bad_config.json.keras")
    assert [f["severity"] for f in doc["findings"] if f["rule"] == "unparsable"] == ["medium"]


def test_absolute_hdf5_paths_name_the_same_weights():
    # h5py and Keras' sharded index write '/layers/dense/vars/0'; the reader lists names without it
    with tfformats.load_keras_weights(KW / "k3.weights.h5") as r:
        n = next(iter(r))
        assert r.has_tensor("/" + n) and "/" + n in r
        np.testing.assert_array_equal(r.get_tensor("/" + n), r.get_tensor(n))
        assert not r.has_tensor("/nope")


def test_reading_after_close_says_so():
    for name in ("k3_model.keras", "tfk_model.h5"):
        with tfformats.load_keras_weights(KW / name) as r:
            n = next(iter(r))
        with pytest.raises(tfformats.InvalidArgumentError, match="closed"):
            r.get_tensor(n)


def test_an_enum_whose_base_type_is_not_an_integer_is_not_decoded(tmp_path):
    # fuzz finding (keras harness): an enum datatype whose base type was damaged into a string
    # was listed as 'bytes8' and read as strings; HDF5 enums are of integers
    data = bytearray((KW / "variants.h5").read_bytes())
    at = data.index(bytes.fromhex("1802000001000000100800000100"))  # the bool enum (v1, 2 members) and its int8 base
    data[at + 8] = 0x13  # base class 0 (integer) -> 3 (string)
    p = tmp_path / "v.h5"
    p.write_bytes(bytes(data))
    with tfformats.load_keras_weights(p) as r:
        assert r.get_variable_to_dtype_map()["dtypes/bool"] == "enum of bytes8" and "dtypes/bool" in r.unreadable()
        with pytest.raises(UnsupportedError):
            r.get_tensor("dtypes/bool")


def _declare_size(archive, member: str, size: int) -> None:
    """Make the zip's central directory declare ``size`` bytes for ``member`` (the data stays small)."""
    data = bytearray(archive.read_bytes())
    name = member.encode()
    pos = 0
    while True:
        pos = data.index(b"PK\x01\x02", pos)
        n = int.from_bytes(data[pos + 28 : pos + 30], "little")
        if bytes(data[pos + 46 : pos + 46 + n]) == name:
            data[pos + 24 : pos + 28] = size.to_bytes(4, "little")
            break
        pos += 4
    archive.write_bytes(bytes(data))


def test_keras_config_over_the_read_limit(tmp_path, capsys):
    # config.json/metadata.json are read whole; over 256 MiB (declared, in an archive) they are not
    # read, and each command says so: info lists it, verify warns, scan gives a medium finding
    from tfformats.cli._common import KERAS_JSON_LIMIT

    big = KERAS_JSON_LIMIT + 1
    archive = tmp_path / "big.keras"
    archive.write_bytes((KW / "k3_model.keras").read_bytes())
    _declare_size(archive, "config.json", big)
    folder = tmp_path / "unzipped"
    with zipfile.ZipFile(KW / "k3_model.keras") as z:
        z.extractall(folder)
    os.truncate(folder / "config.json", big)  # sparse: nothing is written
    for target, says in ((archive, f"config.json declares {big} bytes"), (folder, f"config.json is {big} bytes")):
        code, doc = run_cli_json(capsys, "info", target)
        assert code == 0 and [u for u in doc["unreadable"] if says in u] == [f"{says}, over the 256 MiB limit: not read"]
        code, doc = run_cli_json(capsys, "verify", target)
        assert [(p["severity"], p["entry"]) for p in doc["problems"] if says in p["message"]] == [("warning", "config.json")]
        code, doc = run_cli_json(capsys, "scan", target)
        assert [(f["severity"], f["rule"]) for f in doc["findings"] if says in f["why"]] == [("medium", "archive")]


@pytest.mark.parametrize("name", ["k3_model.keras", "k3.weights.h5", "k3_sharded/model.weights.json",
                                  "k3_bf16.keras", "k3_bf16.weights.h5"])
def test_keras3_layer_names_give_the_keras_variable_paths(name):
    # Keras 3.6+ lays weights out by layer class and keeps the names given to the layers in an
    # attribute; layer_of() + the variable's own name is Keras' path (weight_paths recorded by Keras
    # when the generator saved the model), checked here shape by shape: a Functional model with a
    # nested Sequential ("inner/dense"), and a Sequential one, whose name leads ("sequential/d1")
    keras_paths = EXPECTED[name]["keras"]
    want = sorted((p.rpartition("/")[0], tuple(s)) for p, s in zip(keras_paths["weight_paths"], keras_paths["weight_shapes"]))
    with tfformats.load_keras_weights(KW / name) as r:
        got = sorted((r.layer_of(n), tuple(r.get_variable_to_shape_map()[n])) for n in r if n.startswith("layers/"))
        assert got == want
        assert r.layer_names()[""] in ("functional_1", "sequential")
        assert r.layer_of("/" + next(iter(r))) == r.layer_of(next(iter(r)))
        with pytest.raises(tfformats.UnknownTensorError):
            r.layer_of("layers/nope/vars/0")


@pytest.mark.parametrize("name", ["tfk_model.h5", "tfk_weights.h5", "k3_legacy.h5"])
def test_files_without_layer_names(name):
    # tf_keras/Keras 2 .h5 files name their groups after the layers already; nothing extra is recorded
    with tfformats.load_keras_weights(KW / name) as r:
        assert r.layer_names() == {} and {r.layer_of(n) for n in r} == {None}


def test_ls_shows_the_layer_names(capsys):
    prefixes = {p.rpartition("/")[0] for p in EXPECTED["k3_model.keras"]["keras"]["weight_paths"]}
    code, doc = run_cli_json(capsys, "ls", KW / "k3_model.keras")
    assert code == 0 and {t["layer"] for t in doc["tensors"] if t["name"].startswith("layers/")} == prefixes
    code, out, _ = run_cli(capsys, "ls", KW / "k3_model.keras")
    assert out.splitlines()[0].split()[-1] == "layer" and "inner/dense" in out
    code, doc = run_cli_json(capsys, "ls", KW / "tfk_model.h5")
    assert code == 0 and not any("layer" in t for t in doc["tensors"])


def test_verify_fails_a_file_whose_weights_it_cannot_list(tmp_path, capsys):
    # found by a compatibility hunt: a file whose weights could not be listed at all (then: dense
    # link storage) gave "checked: nothing readable" and "OK: ... every value read", exit 0
    data = bytearray((KW / "tfk_weights.h5").read_bytes())
    assert data[:8] == b"\x89HDF\r\n\x1a\n" and data[13] == 8
    data[13] = 16  # superblock v0: 16-byte addresses, which the reader does not read
    p = tmp_path / "w.h5"
    p.write_bytes(bytes(data))
    code, doc = run_cli_json(capsys, "verify", p)
    assert code == 1 and [(q["severity"], "16-byte addresses" in q["message"]) for q in doc["problems"]] == [("error", True)]
    code, out, _ = run_cli(capsys, "verify", KW / "variants.h5")  # datasets it does not decode: warnings
    assert code == 0 and "every value read but those the warnings name" in out


def test_keras_legacy_h5_with_a_non_ascii_layer_name():
    # Keras 3 (JAX backend) model.save("x.h5") of 9 layers, one named "dénse ñ": libhdf5 keeps the
    # model_weights group's links in dense storage with default settings (a fractal heap, FRHP, and
    # its version 2 B-tree name index, BTHD); every weight reads as Keras holds it
    name = "k3jax_unicode_legacy.h5"
    data = (KW / name).read_bytes()
    assert b"FRHP" in data and b"BTHD" in data
    keras = EXPECTED[name]["keras"]
    with tfformats.load_keras_weights(KW / name) as r:
        assert any("dénse ñ" in n for n in r) and not r.unreadable()
        got = sorted(r[n].reshape(-1).tolist() for n in r if n.startswith("model_weights/"))
    assert got == sorted(keras["weight_values"])


def test_damaged_dense_link_storage_is_a_located_error(tmp_path):
    from tfformats.errors import TFFormatsError

    src = (KW / "dense_links.h5").read_bytes()
    for sig in (b"BTHD", b"BTLF", b"FRHP"):
        assert sig in src
        at = src.index(sig)
        for damage in (b"XXXX", None):
            data = bytearray(src)
            if damage is None:  # the structure's version/type bytes
                data[at + 4] ^= 0x7F
            else:
                data[at : at + 4] = damage
            p = tmp_path / "d.h5"
            p.write_bytes(bytes(data))
            with pytest.raises(TFFormatsError) as e:
                with tfformats.load_keras_weights(p) as r:
                    [r[n] for n in r]
            assert str(p) in str(e.value) and e.value.offset is not None, (sig, damage)
