"""``tfformats.load_dataset`` on ``save``/``snapshot`` folders written by OLDER TensorFlow releases.

Fixtures: tests/generate/gen_datasets.py run with TensorFlow 2.4.4, 2.12.1 and 2.15.1 into
``tests/data/tf_versions/<version>/datasets/`` (see tests/generate/README.md); the same cases and
the same record of TensorFlow's own reading as ``tests/data/datasets/`` (TF 2.21, checked by
test_dataset.py).  A case a release could not write is listed under ``skipped`` in its
expected.json and has no folder.

TF 2.4 writes no ``dataset_spec.pb`` (2.12 and 2.15 do): its ``tf.data.experimental.load`` is given
the element_spec by its caller, the folder itself records only the flat component dtypes.  Here the
same pipeline's spec (from the TF 2.21 save) is handed to ``load_dataset(element_spec=...)``, and
without it the flat components are checked.
"""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest

import tfformats
from tfformats.dataset import _ragged, _sparse
from tfformats.proto import message_class

from conftest import DATA
from test_dataset import _compare as _compare_all
from test_dataset import _compare_leaves as _compare_leaves_all

ROOT = DATA / "tf_versions"
VERSIONS = sorted(
    p.name for p in ROOT.iterdir() if (p / "datasets" / "expected.json").is_file()
) if ROOT.is_dir() else []

_EXPECTED: dict = {}
_ARRAYS: dict = {}


def expected(version: str) -> dict:
    if version not in _EXPECTED:
        with open(ROOT / version / "datasets" / "expected.json") as f:
            _EXPECTED[version] = json.load(f)
    return _EXPECTED[version]


def arrays(version: str):
    if version not in _ARRAYS:
        with np.load(ROOT / version / "datasets" / "expected.npz") as z:
            _ARRAYS[version] = {k: z[k] for k in z.files}
    return _ARRAYS[version]


def folder(version: str, case: str) -> str:
    return str(ROOT / version / "datasets" / expected(version)["cases"][case]["folder"])


# Cases whose run folder TensorFlow leaves empty: git keeps no empty folders, so a checkout lacks it.
NO_ELEMENTS = ("save_empty", "save_unfinished")


def checked_out(version: str, case: str, tmp_path, *, run_folder: bool = False) -> str:
    """A copy of the case's folder as a git checkout holds it (no empty folders); ``run_folder``
    re-creates the empty run folder TensorFlow wrote."""
    src = folder(version, case)
    dst = os.path.join(str(tmp_path), case)
    shutil.copytree(src, dst)
    for d, subdirs, files in sorted(os.walk(dst), key=lambda t: -len(t[0])):
        if d != dst and not os.listdir(d):
            os.rmdir(d)
    if run_folder:
        meta = message_class("tensorflow.data.experimental.SnapshotMetadataRecord")
        with open(os.path.join(dst, "snapshot.metadata"), "rb") as f:
            os.makedirs(os.path.join(dst, meta.FromString(f.read()).run_id), exist_ok=True)
    return dst


def case_folder(version: str, case: str, tmp_path) -> str:
    return checked_out(version, case, tmp_path) if case in NO_ELEMENTS else folder(version, case)


def has_spec_file(version: str) -> bool:
    """Whether this release's save wrote dataset_spec.pb (2.12.1 and 2.15.1 did, 2.4.4 did not)."""
    return os.path.isfile(folder(version, "save_plain") + "/dataset_spec.pb")


def cases(prefix: str) -> list:
    return [(v, c) for v in VERSIONS for c in sorted(expected(v)["cases"]) if c.startswith(prefix)]


# ---------------------------------------------------------------------------
# Comparison (test_dataset.py's, against this version's arrays)


def _compare(elements, expected_elements, arr, key, *, drop_first=False):
    _compare_all(elements, expected_elements, key, drop_first=drop_first, arrays=arr)


def _compare_leaves(leaves_per_element, expected_elements, arr, key):
    _compare_leaves_all(leaves_per_element, expected_elements, key, arrays=arr)


def _flat_leaves(flat: tuple, want_dtypes: list, path: str) -> list:
    """The flat components of one element as leaves, decoding ragged/sparse variants as TF recorded them."""
    out = []
    for arr, dts in zip(flat, want_dtypes):
        if "splits0" in dts:
            r = _ragged(arr, path, "")
            parts = {"values": r.values}
            parts.update({f"splits{i}": s for i, s in enumerate(r.nested_row_splits)})
            out.append(parts)
        elif "indices" in dts:
            s = _sparse(arr, path, "")
            out.append({"indices": s.indices, "values": s.values, "dense_shape": s.dense_shape})
        else:  # as elements() gives a dense component: 0-d as a numpy scalar (bytes for strings)
            out.append({"value": arr[()] if arr.ndim == 0 else arr})
    return out


# ---------------------------------------------------------------------------


def test_versions_are_present():
    assert {"2.4.4", "2.12.1", "2.15.1"} <= set(VERSIONS), VERSIONS


@pytest.mark.parametrize("version", VERSIONS)
def test_manifest_and_skips(version):
    exp = expected(version)
    assert exp["manifest"]["tensorflow"] == version
    assert {"python", "numpy", "cpu_count"} <= set(exp["manifest"])
    skipped = exp.get("skipped", {})
    # every case of the 2.21 set is either recorded or skipped with a reason
    with open(DATA / "datasets" / "expected.json") as f:
        all_cases = set(json.load(f)["cases"])
    assert set(exp["cases"]) | set(skipped) == all_cases
    assert not set(exp["cases"]) & set(skipped)
    for case in skipped:
        assert not os.path.exists(ROOT / version / "datasets" / case), case
    for case, entry in exp["cases"].items():
        assert os.path.isdir(folder(version, case)), case


def _spec_for(version: str, case: str):
    """TF 2.4's save records no structure (its load() was given the element_spec by the caller): the
    same pipeline's spec, as TF 2.21 recorded it beside its own save, is handed to load_dataset."""
    if has_spec_file(version):
        return None
    return tfformats.load_dataset(DATA / "datasets" / case).element_spec


@pytest.mark.parametrize("version,case", cases("save_"))
def test_save_cases_read_as_tensorflow_loads_them(version, case, tmp_path):
    exp = expected(version)
    entry = exp["cases"][case]
    ds = tfformats.load_dataset(case_folder(version, case, tmp_path), element_spec=_spec_for(version, case))
    assert ds.version == 2
    elements = list(ds.elements(cycle_length=exp["manifest"]["cpu_count"]))
    _compare(elements, entry["elements"], arrays(version), case)
    assert ds.kind == "save"
    if case == "save_unfinished":
        assert not ds.finalized and ds.num_elements is None and ds.shards == []
    else:
        assert ds.finalized and len(ds) == entry["num_elements"]


@pytest.mark.parametrize("version,case", cases("save_"))
def test_save_cases_flat_components(version, case, tmp_path):
    """The values, component by component (what a folder without dataset_spec.pb still gives)."""
    exp = expected(version)
    entry = exp["cases"][case]
    ds = tfformats.load_dataset(case_folder(version, case, tmp_path))
    assert ds.version == 2
    flat = list(ds.iter_flat(cycle_length=exp["manifest"]["cpu_count"]))
    leaves = [_flat_leaves(f, want["dtypes"], ds.path) for f, want in zip(flat, entry["elements"])]
    assert len(flat) == len(entry["elements"]), case
    _compare_leaves(leaves, entry["elements"], arrays(version), case)
    if case != "save_unfinished":
        assert ds.finalized and ds.count() == entry["num_elements"]


@pytest.mark.parametrize("version,case", [(v, c) for v, c in cases("save_") if c in NO_ELEMENTS])
def test_save_without_elements_as_written(version, case, tmp_path):
    """With the empty run folder TensorFlow left (which a checkout lacks): no elements, no shards."""
    entry = expected(version)["cases"][case]
    assert entry["num_elements"] == 0
    ds = tfformats.load_dataset(checked_out(version, case, tmp_path, run_folder=True))
    assert ds.version == 2 and ds.shards == [] and list(ds) == [] and ds.count() == 0
    assert ds.finalized == (case == "save_empty")
    if has_spec_file(version):
        assert ds.kind == "save" and ds.num_elements == (0 if case == "save_empty" else None)


@pytest.mark.parametrize("version", [v for v in VERSIONS if "save_plain" in expected(v)["cases"]])
def test_compression_is_detected(version):
    for case, comp in (("save_plain", ""), ("save_gzip", "GZIP"), ("save_snappy", "SNAPPY")):
        assert tfformats.load_dataset(folder(version, case)).compression == comp, case


@pytest.mark.parametrize("version", [v for v in VERSIONS if "save_shards" in expected(v)["cases"]])
def test_shard_order_options(version):
    # (its elements are flat (int64, float32 vector) tuples: TF 2.4's folder without dataset_spec.pb
    # reads in the same structure)
    entry = expected(version)["cases"]["save_shards"]
    arr = arrays(version)
    ds = tfformats.load_dataset(folder(version, "save_shards"))
    assert ds.num_shards == 3
    _compare(list(ds.elements(cycle_length=2)), entry["cycle2"], arr, "save_shards:cycle2")
    _compare(list(ds.elements(cycle_length=3)), entry["cycle3"], arr, "save_shards:cycle3")
    per_shard = [el for i in range(ds.num_shards) for el in ds.elements(shard=i)]
    _compare(per_shard, entry["per_shard"], arr, "save_shards:per_shard")


@pytest.mark.parametrize("version,case", cases("snapshot_"))
def test_snapshots(version, case):
    exp = expected(version)
    entry = exp["cases"][case]
    ds = tfformats.load_dataset(folder(version, case))  # the folder given to snapshot(): one graph hash inside
    assert ds.kind == "snapshot" and ds.version == 2 and ds.num_elements is None and ds.finalized
    elements = list(ds.elements(cycle_length=exp["manifest"]["cpu_count"]))
    # with the default shard_func, snapshot() stores enumerate()'s index first
    _compare(elements, entry["elements"], arrays(version), case, drop_first=case != "snapshot_sharded")
    assert ds.compression == ("" if case == "snapshot_none" else "SNAPPY")  # snapshot's AUTO is SNAPPY
    assert ds.count() == entry["num_elements"]


@pytest.mark.parametrize("version,case", cases("legacy_"))
def test_legacy_snapshot_format(version, case):
    entry = expected(version)["cases"][case]
    ds = tfformats.load_dataset(folder(version, case))
    assert ds.version == 1 and ds.num_shards == 1
    assert ds.compression == {"legacy_none": "", "legacy_gzip": "GZIP", "legacy_snappy": "SNAPPY"}[case]
    _compare(list(ds), entry["elements"], arrays(version), case)


@pytest.mark.parametrize("version", [v for v in VERSIONS if not has_spec_file(v)])
def test_save_without_spec_file(version):
    """Without dataset_spec.pb and without element_spec: still a save (no graph hash), flat tuples, and
    a note saying why; a wrong element_spec is refused."""
    ds = tfformats.load_dataset(folder(version, "save_plain"))
    assert ds.kind == "save" and ds.finalized and len(ds) == expected(version)["cases"]["save_plain"]["num_elements"]
    assert "dataset_spec.pb" in ds.structure_note
    first = next(iter(ds))
    assert isinstance(first, tuple) and len(first) == len(ds.dtypes)
    # a plain Python structure works as element_spec: leaves stand for one component each
    ds2 = tfformats.load_dataset(folder(version, "save_plain"), element_spec={"id": 0, "name": 0, "vec": 0})
    el = next(iter(ds2))
    assert sorted(el) == ["id", "name", "vec"] and el["vec"].shape == (3,)
    assert ds2.element_spec["vec"].dtype == "float32"
    with pytest.raises(tfformats.InvalidArgumentError, match="components"):
        tfformats.load_dataset(folder(version, "save_plain"), element_spec=(0, 0))
