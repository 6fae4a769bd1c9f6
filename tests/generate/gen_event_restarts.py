"""Event logs with restarts, and what TensorBoard shows of them with and without purging.

Writes ``tests/data/event_restarts/``:

- ``logdir/torch``: torch.utils.tensorboard's layout (TensorBoard's EventFileWriter):
  a first session (``purge_step=0``) logging steps 0-5, a restart at step 4 logging
  4-7, a second restart at step 6 logging 6-8; scalars, histograms and text.
- ``logdir/torch_single``: one session opened with ``purge_step=3`` only (TensorBoard
  takes a run's first START for its first session: nothing is purged).
- ``logdir/tf1``: TF1 ``FileWriter``s (real TensorFlow) with ``add_session_log(START)``:
  a session logging steps 0-4, a restart at step 2 logging 2-5.
- ``expected.json`` / ``expected.npz``: TensorBoard's ``EventAccumulator`` view of every
  run with ``purge_orphaned_data`` False (``kept``) and True (``purged``).

Needs TensorFlow and TensorBoard (the differential environment).
"""

from __future__ import annotations

import os
import shutil
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen_event_writers as writers  # noqa: E402

OUT = os.path.join(os.path.dirname(HERE), "data", "event_restarts")
T0 = writers.T0


def _torch_session(logdir: str, purge_step, steps, offset: float) -> None:
    w = writers.TorchLikeWriter(logdir, purge_step=purge_step)
    for step in steps:
        wt = T0 + offset + step
        w.add_scalar("loss", offset + step / 10, step, wt)
        w.add_histogram("weights", np.linspace(-1, 1, 20) * (step + 1), step, bins=8, walltime=wt)
        w.add_text("note", f"session {offset:g} step {step}", step, wt)
    w.close()


def gen_torch(logdir: str) -> None:
    """Three sessions in one run: restarts at steps 4 and 6."""
    _torch_session(logdir, 0, range(0, 6), 0.0)
    _torch_session(logdir, 4, range(4, 8), 100.0)
    _torch_session(logdir, 6, range(6, 9), 200.0)


def gen_torch_single(logdir: str) -> None:
    """One session opened with a START: TensorBoard purges nothing."""
    _torch_session(logdir, 3, range(0, 6), 0.0)


def gen_tf1(logdir: str) -> None:
    """Real TF1 FileWriters: SessionLog.START at step 0, steps 0-4, a restart at 2, steps 2-5."""
    import tensorflow as tf

    v1 = tf.compat.v1
    with tf.Graph().as_default():
        for suffix, start, steps, base in (("", 0, range(0, 5), 0.0), (".restart", 2, range(2, 6), 10.0)):
            w = v1.summary.FileWriter(logdir, filename_suffix=suffix)
            w.add_session_log(tf.compat.v1.SessionLog(status=tf.compat.v1.SessionLog.START), global_step=start)
            for step in steps:
                s = tf.compat.v1.Summary(value=[tf.compat.v1.Summary.Value(tag="loss", simple_value=base + step)])
                w.add_summary(s, global_step=step)
            w.close()


GENERATORS = {"torch": gen_torch, "torch_single": gen_torch_single, "tf1": gen_tf1}


def main() -> None:
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    logdir = os.path.join(OUT, "logdir")
    for name, gen in GENERATORS.items():
        gen(os.path.join(logdir, name))
    npz: dict = {}
    views = {mode: writers.tensorboard_view(logdir, npz, prefix=mode + ":", purge=(mode == "purged"))
             for mode in ("kept", "purged")}
    total = writers.write_expected(OUT, {"views": views}, npz)
    print(f"wrote {len(GENERATORS)} runs, {total / 1e3:.1f} kB in all, into {OUT}")


if __name__ == "__main__":
    main()
