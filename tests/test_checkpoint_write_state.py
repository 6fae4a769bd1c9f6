"""``update_checkpoint_state``: the text TensorFlow writes, history, max_to_keep."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest

import tfformats
from tfformats.errors import InvalidArgumentError

from conftest import require_data


def _tf_state():
    d = require_data("checkpoint_write/keras")
    state = tfformats.get_checkpoint_state(d)
    return d, state, (d / "checkpoint").read_text()


def _ckpt(prefix, value=0.0):
    return tfformats.save_checkpoint(prefix, {"v": np.float32(value)})


def test_same_text_as_checkpoint_manager(tmp_path):
    # Replay what tf.train.CheckpointManager(max_to_keep=2) did over three saves.
    tf_dir, tf_state, tf_text = _tf_state()
    t2, t3 = tf_state.all_model_checkpoint_timestamps
    t1 = t2 - 1.0
    d = tmp_path / "run"
    for i, t in ((1, t1), (2, t2), (3, t3)):
        prefix = _ckpt(d / f"ckpt-{i}", i)
        tfformats.update_checkpoint_state(
            d, prefix, max_to_keep=2, delete_old=True, timestamp=t,
            last_preserved_timestamp=tf_state.last_preserved_timestamp if i == 1 else None,
        )
    assert (d / "checkpoint").read_text() == tf_text
    assert sorted(os.listdir(d)) == sorted(os.listdir(tf_dir))  # ckpt-1 deleted, like the manager does
    assert tfformats.latest_checkpoint(d) == str(d / "ckpt-3")


def test_explicit_list_same_text(tmp_path):
    tf_dir, tf_state, tf_text = _tf_state()
    d = tmp_path / "keras"
    shutil.copytree(tf_dir, d)
    os.remove(d / "checkpoint")
    state = tfformats.update_checkpoint_state(
        d, d / "ckpt-3", [d / "ckpt-2", d / "ckpt-3"],
        all_model_checkpoint_timestamps=list(tf_state.all_model_checkpoint_timestamps),
        timestamp=tf_state.all_model_checkpoint_timestamps[1],
        last_preserved_timestamp=tf_state.last_preserved_timestamp,
    )
    assert (d / "checkpoint").read_text() == tf_text
    assert state.model_checkpoint_path == "ckpt-3"


def test_round_trip_with_readers(tmp_path):
    d = tmp_path / "train"
    prefixes = [_ckpt(d / f"model.ckpt-{i}", i) for i in range(4)]
    for p in prefixes:
        tfformats.update_checkpoint_state(d, p)
    state = tfformats.get_checkpoint_state(d)
    assert state.model_checkpoint_path == prefixes[-1]
    assert list(state.all_model_checkpoint_paths) == prefixes
    ts = list(state.all_model_checkpoint_timestamps)
    assert len(ts) == 4 and ts == sorted(ts)
    assert tfformats.latest_checkpoint(d) == prefixes[-1]
    assert float(tfformats.load_checkpoint(d)["v"]) == 3.0  # a directory opens its latest checkpoint
    text = (d / "checkpoint").read_text()
    assert 'model_checkpoint_path: "model.ckpt-3"' in text  # relative inside the directory


def test_max_to_keep_deletes_old_files_by_default_like_saver(tmp_path):
    d = tmp_path / "k"
    prefixes = [_ckpt(d / f"c-{i}", i) for i in range(5)]
    for p in prefixes:
        tfformats.update_checkpoint_state(d, p, max_to_keep=3)
    state = tfformats.get_checkpoint_state(d)
    assert list(state.all_model_checkpoint_paths) == prefixes[2:]
    assert [os.path.exists(p + ".index") for p in prefixes] == [False, False, True, True, True]
    assert [float(tfformats.load_checkpoint(p)["v"]) for p in prefixes[2:]] == [2.0, 3.0, 4.0]


def test_max_to_keep_without_deleting(tmp_path):
    d = tmp_path / "k"
    prefixes = [_ckpt(d / f"c-{i}") for i in range(5)]
    for p in prefixes:
        tfformats.update_checkpoint_state(d, p, max_to_keep=3, delete_old=False)
    state = tfformats.get_checkpoint_state(d)
    assert list(state.all_model_checkpoint_paths) == prefixes[2:]
    assert all(os.path.exists(p + ".index") for p in prefixes)  # delete_old=False: only the file is trimmed


def test_max_to_keep_deletes_what_remove_checkpoint_deletes(tmp_path):
    # tf.compat.v1.train.remove_checkpoint: PREFIX.meta, PREFIX.index, PREFIX.data-?????-of-?????
    d = tmp_path / "k"
    prefixes = [tfformats.save_checkpoint(d / f"c-{i}", {"v": np.ones(2)}, num_shards=2) for i in range(3)]
    for i in range(3):
        (d / f"c-{i}.meta").write_bytes(b"graph")
    (d / "c-0.data-extra").write_bytes(b"not a shard name")
    (d / "c-0-notes.txt").write_bytes(b"unrelated")
    for p in prefixes:
        tfformats.update_checkpoint_state(d, p, max_to_keep=1)
    assert sorted(os.listdir(d)) == [
        "c-0-notes.txt", "c-0.data-extra",
        "c-2.data-00000-of-00002", "c-2.data-00001-of-00002", "c-2.index", "c-2.meta", "checkpoint",
    ]


def test_meta_graph_suffix(tmp_path):
    d = tmp_path / "m"
    prefixes = [_ckpt(d / f"c-{i}") for i in range(3)]
    for p in prefixes:
        (d / (os.path.basename(p) + ".meta")).write_bytes(b"graph")
        (d / (os.path.basename(p) + ".mg")).write_bytes(b"graph")
    tfformats.update_checkpoint_state(d, prefixes[0])
    tfformats.update_checkpoint_state(d, prefixes[1], max_to_keep=1, meta_graph_suffix=None)  # drops c-0
    assert (d / "c-0.meta").exists() and (d / "c-0.mg").exists() and not (d / "c-0.index").exists()
    tfformats.update_checkpoint_state(d, prefixes[2], max_to_keep=1, meta_graph_suffix="mg")  # drops c-1
    assert not (d / "c-1.mg").exists() and (d / "c-1.meta").exists() and not (d / "c-1.index").exists()
    assert (d / "c-2.index").exists() and (d / "c-2.mg").exists()


def test_resave_same_prefix_moves_it_last(tmp_path):
    d = tmp_path / "r"
    a, b = _ckpt(d / "a"), _ckpt(d / "b")
    tfformats.update_checkpoint_state(d, a, timestamp=1.0)
    tfformats.update_checkpoint_state(d, b, timestamp=2.0)
    tfformats.update_checkpoint_state(d, a, timestamp=3.0)
    state = tfformats.get_checkpoint_state(d)
    assert list(state.all_model_checkpoint_paths) == [b, a]
    assert list(state.all_model_checkpoint_timestamps) == [2.0, 3.0]


def test_outside_directory_is_absolute(tmp_path):
    outside = _ckpt(tmp_path / "elsewhere" / "m")
    d = tmp_path / "state"
    tfformats.update_checkpoint_state(d, outside)
    assert f'model_checkpoint_path: "{outside}"' in (d / "checkpoint").read_text()
    assert tfformats.latest_checkpoint(d) == outside


def test_relative_paths_are_relative_to_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _ckpt("runs/ckpt-1")
    tfformats.update_checkpoint_state("runs", "runs/ckpt-1")
    assert 'model_checkpoint_path: "ckpt-1"' in (tmp_path / "runs" / "checkpoint").read_text()
    assert tfformats.latest_checkpoint("runs") == os.path.join(str(tmp_path), "runs", "ckpt-1")


def test_latest_filename_and_atomic_replace(tmp_path):
    d = tmp_path / "x"
    p = _ckpt(d / "c")
    tfformats.update_checkpoint_state(d, p, latest_filename="my_state")
    assert sorted(os.listdir(d)) == ["c.data-00000-of-00001", "c.index", "my_state"]
    assert tfformats.latest_checkpoint(d, "my_state") == p
    assert tfformats.latest_checkpoint(d) is None


def test_unreadable_state_file_is_replaced(tmp_path):
    d = tmp_path / "u"
    p = _ckpt(d / "c")
    (d / "checkpoint").write_text("this is { not a state")
    tfformats.update_checkpoint_state(d, p)
    assert tfformats.latest_checkpoint(d) == p


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"max_to_keep": -1}, "max_to_keep"),
        ({"max_to_keep": True}, "max_to_keep"),
        ({"meta_graph_suffix": ""}, "meta_graph_suffix"),
        ({"all_model_checkpoint_paths": "c"}, "list"),
        ({"all_model_checkpoint_paths": ["a", "b"], "all_model_checkpoint_timestamps": [1.0]}, "match"),
    ],
)
def test_bad_arguments(tmp_path, kwargs, message):
    with pytest.raises(InvalidArgumentError, match=message):
        tfformats.update_checkpoint_state(tmp_path, tmp_path / "c", **kwargs)


def test_prefix_cannot_be_the_state_file(tmp_path):
    with pytest.raises(InvalidArgumentError, match="state file"):
        tfformats.update_checkpoint_state(tmp_path, tmp_path / "checkpoint")
