"""``tfformats scan``/``info`` on Keras HDF5 models, read without h5py.

The fixtures (tests/data/scan/, written by tests/generate/gen_scan.py) are
``model.save("x.h5")`` of tf_keras and Keras 3, Keras 2.12's ``model.save("x.keras")``
(HDF5 despite the name), a tf_keras weights file, and h5py rewrites of the tf_keras
model (fixed-length strings, a user block, ``libver="latest"``, attributes in dense
storage).  ``expected_h5.json`` is what h5py read from each and the Lambda layers of the
model Keras loaded back.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections import Counter

import pytest

from cli_helpers import SCAN, run_cli_json, run_json_subprocess

H5 = json.loads((SCAN / "expected_h5.json").read_text())["fixtures"]
DENSE = "h5_dense_attrs.h5"  # root attributes in dense storage (a fractal heap indexed by a version 2 B-tree)
MODELS = sorted(n for n, e in H5.items() if "model_config_sha256" in e)
LAMBDA = sorted(n for n in MODELS if H5[n]["keras_lambda_layers"])
HUB = sorted(n for n in MODELS if H5[n].get("hub_handles"))
CLEAN = sorted(n for n in MODELS if not H5[n]["keras_lambda_layers"] and n not in HUB)


def test_fixtures_cover_the_writers():
    assert {"tfk_lambda.h5", "k3_lambda.h5", "keras212_lambda.keras", "h5_fixed_strings.h5", "h5_userblock.h5",
            "h5_latest.h5", "h5_track_order.h5"} <= set(LAMBDA)
    assert {"tfk_clean.h5", "k3_clean.h5", "keras212_clean.keras"} <= set(CLEAN)
    assert H5["keras212_lambda.keras"]["keras_version"] == "2.12.0"
    assert (SCAN / "keras212_lambda.keras").read_bytes()[:8] == b"\x89HDF\r\n\x1a\n"
    assert H5["h5_userblock.h5"]["userblock"] == 512


@pytest.mark.parametrize("name", sorted(H5))
def test_reader_matches_h5py(name):
    """The no-dependency reader finds the root attributes h5py lists, and the same model config."""
    from tfformats._io.hdf5 import read_root_attributes, string_value

    e = H5[name]
    path = str(SCAN / name)
    attrs = read_root_attributes(path)
    assert attrs.superblock_offset == e["userblock"]
    assert not attrs.truncated
    assert sorted(attrs.attributes) == e["attributes"] and not attrs.unsupported
    assert string_value(path, attrs, "keras_version") == e["keras_version"]
    if "model_config_sha256" in e:
        text = string_value(path, attrs, "model_config")
        assert hashlib.sha256(text.encode("utf-8")).hexdigest() == e["model_config_sha256"]


@pytest.mark.parametrize("name", LAMBDA)
def test_lambda_found(name):
    code, doc = run_json_subprocess("scan", SCAN / name)
    assert code == 1 and doc["failed"] and doc["kind"] == "keras_h5"
    lam = [f for f in doc["findings"] if f["rule"] == "keras-lambda"]
    assert [f["severity"] for f in lam] == ["critical"] * len(H5[name]["keras_lambda_layers"])
    for layer in H5[name]["keras_lambda_layers"]:  # the layers Keras itself loaded as Lambda
        assert any(f"(layer '{layer}')" in f["where"] and "model_config" in f["where"] for f in lam), lam
    assert doc["scanned"]["keras_configs"] == 2  # model_config and training_config


@pytest.mark.parametrize("name", HUB)
def test_hub_keras_layer_found(name):
    # found by a compatibility hunt: a tensorflow_hub KerasLayer, which loads and runs the SavedModel
    # its handle names when the model is loaded (TFSMLayer's twin), passed scan unreported
    code, doc = run_json_subprocess("scan", SCAN / name)
    hub = [f for f in doc["findings"] if f["op"] == "KerasLayer"]
    assert code == 1 and [f["severity"] for f in hub] == ["high"] * len(H5[name]["hub_handles"])
    assert all(repr(h) in f["why"] for f, h in zip(hub, H5[name]["hub_handles"]))


@pytest.mark.parametrize("name", CLEAN)
def test_clean_models_pass(name):
    code, doc = run_json_subprocess("scan", SCAN / name, "--min-severity", "info")
    assert code == 0 and not doc["failed"] and doc["kind"] == "keras_h5"
    assert doc["findings"] == [] and doc["scanned"]["keras_configs"] == 2


def test_weights_file_is_data_only(capsys):
    code, doc = run_cli_json(capsys, "scan", SCAN / "tfk_weights.h5", "--min-severity", "info")
    assert code == 0 and doc["scanned"] == {"data_only": 1}
    assert [(f["severity"], f["rule"]) for f in doc["findings"]] == [("info", "keras-h5")]
    code, doc = run_cli_json(capsys, "info", SCAN / "tfk_weights.h5")
    assert code == 0 and doc["content"] == "weights" and doc["model_class"] is None
    assert doc["attributes"] == H5["tfk_weights.h5"]["attributes"]


def test_dense_attributes_are_read_and_audited(capsys):
    """h5py/Keras read root attributes in dense storage (more than 8 attributes in a newer-format
    header), and so does tfformats since the fractal heap reader: the Lambda is found (it was a
    'not audited' finding before)."""
    assert H5[DENSE]["keras_lambda_layers"] == ["double"]
    code, doc = run_cli_json(capsys, "scan", SCAN / DENSE)
    assert code == 1 and [f["rule"] for f in doc["findings"] if f["severity"] == "critical"] == ["keras-lambda"]
    assert not [f for f in doc["findings"] if f["rule"] == "unparsable"]


@pytest.mark.parametrize("name", MODELS)
def test_info(capsys, name):
    e = H5[name]
    code, doc = run_cli_json(capsys, "info", SCAN / name)
    assert code == 0 and doc["kind"] == "keras_h5" and doc["format"] == "HDF5"
    assert doc["content"] == "model" and doc["unreadable"] == []
    assert doc["keras_version"] == e["keras_version"] and doc["backend"] == e["backend"]
    assert doc["model_class"] == e["model_class"]
    assert doc["layer_classes"] == dict(Counter(e["config_layers"]))
    assert doc["num_layers"] == len(e["config_layers"])
    assert doc["model_config_bytes"] == e["model_config_bytes"]
    assert doc["userblock_bytes"] == e["userblock"] and doc["training_config"] is ("training_config" in e["attributes"])
    assert doc["attributes"] == e["attributes"]


def test_info_text_says_keras_hdf5():
    p = subprocess.run([sys.executable, "-m", "tfformats", "info", str(SCAN / "keras212_lambda.keras")],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert "keras_h5 (HDF5)" in p.stdout and "a Keras model" in p.stdout
    assert "3: Dense x1, InputLayer x1, Lambda x1" in p.stdout and "2.12.0" in p.stdout


def test_works_without_h5py():
    code = ("import sys, json; sys.modules['h5py'] = None\n"
            "from tfformats.cli import main\n"
            f"sys.exit(main(['scan', {str(SCAN / 'tfk_lambda.h5')!r}, '--json']))")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.returncode == 1, p.stderr
    assert [f["rule"] for f in json.loads(p.stdout)["findings"]] == ["keras-lambda"]


def test_signature_only_where_libhdf5_looks(tmp_path, capsys):
    data = (SCAN / "tfk_lambda.h5").read_bytes()
    moved = tmp_path / "at300.h5"
    moved.write_bytes(b"\0" * 300 + data)  # libhdf5 looks at 0, 512, 1024...: not an HDF5 file
    code, doc = run_cli_json(capsys, "scan", moved)
    assert code == 3 and "not a format tfformats knows" in doc["error"]["message"]
    ub = tmp_path / "at2048.h5"
    ub.write_bytes(b"x" * 2048 + data)  # a 2048-byte user block: addresses are relative to the superblock
    code, doc = run_cli_json(capsys, "scan", ub)
    assert code == 1 and [f["rule"] for f in doc["findings"]] == ["keras-lambda"]


# -- damaged and hostile copies ----------------------------------------------------------------------
def _scan_damaged(capsys, path):
    code, doc = run_cli_json(capsys, "scan", path, "--min-severity", "info")
    assert code in (0, 1, 3), (code, doc)
    return code, doc


def _rules(doc):
    return {(f["severity"], f["rule"]) for f in doc.get("findings", [])}


@pytest.mark.parametrize("name", ["tfk_lambda.h5", "h5_latest.h5", "h5_fixed_strings.h5"])
def test_truncated_copies(tmp_path, capsys, name):
    data = (SCAN / name).read_bytes()
    for cut in (9, 40, 100, 200, 600, 1000, 1100, 2100, 3000, len(data) // 2, len(data) - 1):
        p = tmp_path / f"cut{cut}.h5"
        p.write_bytes(data[:cut])
        code, doc = _scan_damaged(capsys, p)
        if code != 3:  # a truncated file is always reported: libhdf5 refuses to open it
            assert any(r == "unparsable" for _, r in _rules(doc)), (cut, doc["findings"])
            if any(f["rule"] == "keras-lambda" for f in doc["findings"]):
                continue
            assert any(s in ("medium", "high") for s, r in _rules(doc) if r == "unparsable"), (cut, doc["findings"])


@pytest.mark.parametrize("name", ["tfk_lambda.h5", "h5_latest.h5", "h5_userblock.h5", "k3_lambda.h5"])
def test_flipped_bytes(tmp_path, capsys, name):
    """Every 17th byte of the metadata area (and some of the rest), flipped: exit 0, 1 or 3, never 4."""
    data = (SCAN / name).read_bytes()
    positions = list(range(0, min(len(data), 6200), 17)) + list(range(6200, len(data), 401))
    p = tmp_path / "flip.h5"
    for pos in positions:
        bad = bytearray(data)
        bad[pos] ^= 0x5A
        p.write_bytes(bytes(bad))
        _scan_damaged(capsys, p)


def test_damaged_structures_are_findings(tmp_path, capsys):
    data = (SCAN / "tfk_lambda.h5").read_bytes()
    heap = data.find(b"GCOL")
    text = data.find(b'{"class_name": "Sequential"')
    assert heap > 0 and text > heap

    def scan_with(patch, name):
        bad = bytearray(data)
        patch(bad)
        p = tmp_path / name
        p.write_bytes(bytes(bad))
        return _scan_damaged(capsys, p)

    # the global heap collection's signature: the configs cannot be read (Keras cannot read them either,
    # but tfformats does not know what else would): high, the gate fails
    code, doc = scan_with(lambda b: b.__setitem__(slice(heap, heap + 4), b"XXXX"), "gcol.h5")
    assert code == 1 and ("high", "unparsable") in _rules(doc)
    assert any("model_config" in f["why"] and "not audited" in f["why"] for f in doc["findings"])
    # the JSON itself: Keras cannot parse it; a medium finding
    code, doc = scan_with(lambda b: b.__setitem__(text, ord("x")), "json.h5")
    assert code == 0 and ("medium", "unparsable") in _rules(doc)
    # the root object header address past the end of the file
    from tfformats._io.hdf5 import read_root_attributes

    assert read_root_attributes(str(SCAN / "tfk_lambda.h5")).superblock_version == 0  # root address at 0x40
    assert data[0x40:0x48] == (0x60).to_bytes(8, "little")
    code, doc = scan_with(lambda b: b.__setitem__(slice(0x40, 0x48), (1 << 40).to_bytes(8, "little")), "root.h5")
    assert code == 1 and ("high", "unparsable") in _rules(doc)
    assert "past the end of the file" in doc["findings"][0]["why"]
    # a huge string length in the attribute's heap ID
    attrs = read_root_attributes(str(SCAN / "tfk_lambda.h5"))
    at = data.find(attrs.attributes["model_config"].raw)
    code, doc = scan_with(lambda b: b.__setitem__(slice(at, at + 4), b"\xff\xff\xff\x7f"), "len.h5")
    assert code == 1 and ("high", "unparsable") in _rules(doc)
    # the signature: not HDF5 any more, nor anything else
    code, doc = scan_with(lambda b: b.__setitem__(1, ord("X")), "sig.h5")
    assert code == 3


def test_continuation_loop_is_bounded(tmp_path, capsys):
    """An object header whose continuation points back at itself (v2 header of h5_latest.h5 rewritten)."""
    from tfformats._io.hdf5 import MAX_HEADER_CHUNKS

    data = bytearray((SCAN / "h5_latest.h5").read_bytes())
    # root object header: superblock v3 at 0, root address at 8 + 4 + 3 * 8
    root = int.from_bytes(data[36:44], "little")
    assert data[root : root + 4] == b"OHDR"
    flags = data[root + 5]
    pos = root + 6 + (16 if flags & 0x20 else 0) + (4 if flags & 0x10 else 0)
    width = 1 << (flags & 3)
    size0 = int.from_bytes(data[pos : pos + width], "little")
    first = pos + width  # the first message: turn it into a continuation to an OCHK block pointing to itself
    block = len(data)
    msg = bytes([0x10]) + (16).to_bytes(2, "little") + b"\0" + block.to_bytes(8, "little") + (28).to_bytes(8, "little")
    chunk = b"OCHK" + msg + b"\0" * (28 - 4 - len(msg) - 4) + b"\0" * 4
    data[first : first + len(msg)] = msg
    data += chunk
    assert size0 >= len(msg) and MAX_HEADER_CHUNKS > 1
    p = tmp_path / "loop.h5"
    p.write_bytes(bytes(data))
    code, doc = _scan_damaged(capsys, p)
    assert code in (0, 1)
