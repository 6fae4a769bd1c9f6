"""Restarts in event logs: ``read_events(purge_orphaned_data=...)`` against TensorBoard's view.

The logs and TensorBoard's ``EventAccumulator`` view of them (with and without its
``purge_orphaned_data``) come from ``tests/generate/gen_event_restarts.py``.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import tfformats.events as tfev

from _event_oracle import check_against_tensorboard
from conftest import DATA

RESTARTS = DATA / "event_restarts"
LOGDIR = RESTARTS / "logdir"


@pytest.fixture(scope="module")
def expected():
    with open(RESTARTS / "expected.json") as f:
        views = json.load(f)["views"]
    return views, dict(np.load(RESTARTS / "expected.npz"))


@pytest.mark.parametrize("purge", [False, True])
def test_restarted_logs_read_as_tensorboard_shows_them(expected, purge):
    views, arrays = expected
    log = tfev.read_events(LOGDIR, purge_orphaned_data=purge)
    counts = check_against_tensorboard(log, views["purged" if purge else "kept"], arrays)
    assert counts["scalars"] and counts["histograms"] and counts["text"]


def test_purging_hides_exactly_what_the_restarts_re_ran(expected):
    kept = tfev.read_events(LOGDIR)
    purged = tfev.read_events(LOGDIR, purge_orphaned_data=True)
    # the restarts stay visible either way
    assert [(r.run, r.step, r.status) for r in purged.session_logs] == [
        (r.run, r.step, r.status) for r in kept.session_logs
    ]
    steps = lambda log, run: log.scalars.filter(run=run, tag="loss")["step"].tolist()  # noqa: E731
    assert steps(kept, "torch") == [0, 1, 2, 3, 4, 5, 4, 5, 6, 7, 6, 7, 8]
    assert steps(purged, "torch") == list(range(9))
    assert steps(purged, "tf1") == [0, 1, 2, 3, 4, 5]
    assert steps(purged, "torch_single") == steps(kept, "torch_single")  # a first START is no restart


def test_purging_with_kinds_reads_the_session_logs_it_needs_and_returns_only_what_was_asked():
    log = tfev.read_events(LOGDIR, kinds=["scalars"], purge_orphaned_data=True)
    assert log.scalars.filter(run="torch", tag="loss")["step"].tolist() == list(range(9))
    with pytest.raises(AttributeError, match="session_logs were not read"):
        log.session_logs
    assert tfev.read_events(LOGDIR, kinds="scalars", purge_orphaned_data=True).scalars["step"].tolist() == (
        log.scalars["step"].tolist()
    )


def test_purging_one_file_or_a_log_without_restarts_changes_nothing():
    for f in sorted((LOGDIR / "torch").iterdir()):
        one = tfev.read_events(f, purge_orphaned_data=True)
        assert one.scalars["step"].tolist() == tfev.read_events(f).scalars["step"].tolist()
    plain = DATA / "events" / "logdir"
    a, b = tfev.read_events(plain), tfev.read_events(plain, purge_orphaned_data=True)
    for kind in tfev.KINDS:
        assert len(getattr(a, kind)) == len(getattr(b, kind))
