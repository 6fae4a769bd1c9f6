"""The ``checkpoint`` state file: a text-format ``CheckpointState``.

    model_checkpoint_path: "model.ckpt-3"
    all_model_checkpoint_paths: "model.ckpt-1"      (oldest first)
    all_model_checkpoint_paths: "model.ckpt-3"
    all_model_checkpoint_timestamps: 1700000000.5
    last_preserved_timestamp: 1699999999.0

Relative paths are relative to the directory holding the file.
"""

from __future__ import annotations

import glob
import os

from ..errors import DataLossError, NotFoundError

STATE_FILENAME = "checkpoint"


def _is_url(path) -> bool:
    from .._io.source import is_remote

    return isinstance(path, str) and is_remote(path)


def _state_path(directory, latest_filename: str | None) -> str:
    return os.path.join(os.fspath(directory), latest_filename or STATE_FILENAME)


def get_checkpoint_state(checkpoint_dir, latest_filename: str | None = None):
    """The directory's ``CheckpointState`` with paths made absolute, or ``None``.

    Mirrors ``tf.train.get_checkpoint_state``: ``None`` when there is no state
    file; a malformed one raises :class:`~tfformats.DataLossError`.
    """
    if _is_url(checkpoint_dir):
        from . import _remote

        return _remote.get_checkpoint_state(checkpoint_dir, latest_filename)
    from google.protobuf import text_format

    from ..proto import pb

    path = _state_path(checkpoint_dir, latest_filename)
    try:
        with open(path, "rb") as f:
            text = f.read()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except IsADirectoryError:
        return None
    state = pb.CheckpointState()
    try:
        # Merge, as TensorFlow reads it: a field given twice keeps the last value.
        text_format.Merge(text.decode("utf-8"), state)
    except Exception as exc:
        raise DataLossError(f"cannot parse the checkpoint state file: {exc}", path=path) from None
    if not state.model_checkpoint_path:
        raise DataLossError("the checkpoint state file has an empty model_checkpoint_path", path=path)
    base = os.path.dirname(os.path.abspath(path))

    def absolute(p: str) -> str:
        return p if os.path.isabs(p) else os.path.join(base, p)

    state.model_checkpoint_path = absolute(state.model_checkpoint_path)
    paths = [absolute(p) for p in state.all_model_checkpoint_paths]
    del state.all_model_checkpoint_paths[:]
    state.all_model_checkpoint_paths.extend(paths)
    return state


def checkpoint_exists(prefix: str) -> bool:
    """True when ``prefix`` names a V2 bundle or V1 file(s)."""
    if _is_url(prefix):
        from . import _remote

        return _remote.checkpoint_exists(prefix)
    if os.path.isfile(prefix + ".index"):
        return True
    if os.path.isfile(prefix):
        return True
    return bool(glob.glob(glob.escape(prefix) + "-?????-of-?????")) or (
        any(c in prefix for c in "*?[") and bool(glob.glob(prefix))
    )


def latest_checkpoint(checkpoint_dir, latest_filename: str | None = None) -> str | None:
    """The newest checkpoint prefix named by the state file, if it exists.

    Mirrors ``tf.train.latest_checkpoint``: ``None`` when there is no state
    file or the checkpoint it names is gone.
    """
    state = get_checkpoint_state(checkpoint_dir, latest_filename)
    if state is None:
        return None
    prefix = state.model_checkpoint_path
    return prefix if checkpoint_exists(prefix) else None


def require_latest(directory: str) -> str:
    prefix = latest_checkpoint(directory)
    if prefix is None:
        raise NotFoundError("no checkpoint state file naming an existing checkpoint", path=directory)
    return prefix


def _delete_checkpoint_files(prefix: str, meta_graph_suffix: str | None = "meta") -> list[str]:
    """Remove a V2 checkpoint the way ``tf.compat.v1.train.remove_checkpoint`` does.

    That is ``PREFIX.meta`` (the meta graph a ``Saver`` writes beside each
    checkpoint; skipped when ``meta_graph_suffix`` is None), ``PREFIX.index``
    and ``PREFIX.data-?????-of-?????``.  Returns the paths removed.
    """
    removed = []
    paths = [prefix + "." + meta_graph_suffix] if meta_graph_suffix else []
    paths += [prefix + ".index", *glob.glob(glob.escape(prefix) + ".data-?????-of-?????")]
    for path in paths:
        try:
            os.remove(path)
            removed.append(path)
        except FileNotFoundError:
            pass
        except OSError as exc:
            from ..errors import TFFormatsError

            raise TFFormatsError(f"cannot delete an old checkpoint file: {exc.strerror or exc}", path=path) from None
    return removed


def _inside(path: str, directory: str) -> bool:
    try:
        return os.path.commonpath([path, directory]) == directory
    except ValueError:  # different drives
        return False


def update_checkpoint_state(
    directory,
    prefix,
    all_model_checkpoint_paths=None,
    *,
    max_to_keep: int | None = None,
    delete_old: bool | None = None,
    meta_graph_suffix: str | None = "meta",
    timestamp: float | None = None,
    all_model_checkpoint_timestamps=None,
    last_preserved_timestamp: float | None = None,
    latest_filename: str | None = None,
):
    """Write the directory's ``checkpoint`` state file naming ``prefix`` the latest.

    Like ``tf.train.CheckpointManager``: ``prefix`` is appended to the list of
    checkpoints (moved to the end if already listed) with ``timestamp``
    (default: now).  Without ``all_model_checkpoint_paths`` the list (and its
    timestamps) is read from the existing state file, so calling this after
    each save keeps a history; a given list (oldest first) replaces it.
    With ``max_to_keep=N`` (``None`` or 0 keep everything, like ``Saver``) only
    the newest N stay in the file and, as ``Saver(max_to_keep=N)`` and
    ``CheckpointManager`` do, the files of the checkpoints that fall off are
    deleted: ``.index``, ``.data-*`` and the ``Saver``'s ``.meta`` (the files
    ``tf.compat.v1.train.remove_checkpoint`` deletes; ``meta_graph_suffix=None``
    spares the ``.meta``).  ``delete_old=False`` only drops them from the
    file; ``delete_old`` defaults to deleting whenever ``max_to_keep`` drops
    something.  The checkpoint just named is never deleted.
    Checkpoints inside ``directory`` are written as relative paths, others
    as absolute ones.  Paths given as relative are relative to the current
    directory, like every other path.  The file is replaced atomically.

    Returns the ``CheckpointState`` written (paths as in the file).
    """
    import time

    from google.protobuf import text_format

    from ..errors import InvalidArgumentError
    from ..proto import pb

    directory = os.fspath(directory)
    prefix = os.fspath(prefix)
    if not isinstance(directory, str) or not isinstance(prefix, str) or not prefix:
        raise InvalidArgumentError("directory and prefix must be non-empty str paths")
    if max_to_keep is not None and (
        not isinstance(max_to_keep, int) or isinstance(max_to_keep, bool) or max_to_keep < 0
    ):
        raise InvalidArgumentError(f"max_to_keep must be a non-negative int or None, not {max_to_keep!r}")
    if meta_graph_suffix is not None and (not isinstance(meta_graph_suffix, str) or not meta_graph_suffix):
        raise InvalidArgumentError(f"meta_graph_suffix must be a non-empty str or None, not {meta_graph_suffix!r}")
    absdir = os.path.abspath(directory)
    state_path = _state_path(absdir, latest_filename)
    target = os.path.abspath(prefix)
    if target == os.path.abspath(state_path):
        raise InvalidArgumentError("the checkpoint prefix is the state file itself", path=state_path)
    now = time.time() if timestamp is None else float(timestamp)

    stamps: dict[str, float] = {}
    last_preserved = last_preserved_timestamp
    if all_model_checkpoint_paths is None:
        try:
            old = get_checkpoint_state(absdir, latest_filename)
        except DataLossError:
            old = None  # an unreadable state file is replaced, as TensorFlow ignores it
        paths = []
        if old is not None:
            paths = [os.path.abspath(p) for p in old.all_model_checkpoint_paths]
            if len(old.all_model_checkpoint_timestamps) == len(paths):
                stamps = dict(zip(paths, old.all_model_checkpoint_timestamps))
            if last_preserved is None and old.last_preserved_timestamp:
                last_preserved = old.last_preserved_timestamp
    else:
        if isinstance(all_model_checkpoint_paths, (str, bytes, os.PathLike)):
            raise InvalidArgumentError("all_model_checkpoint_paths must be a list of paths")
        paths = [os.path.abspath(os.fspath(p)) for p in all_model_checkpoint_paths]
        if all_model_checkpoint_timestamps is not None:
            ts = [float(t) for t in all_model_checkpoint_timestamps]
            if len(ts) != len(paths):
                raise InvalidArgumentError("all_model_checkpoint_timestamps must match all_model_checkpoint_paths")
            stamps = dict(zip(paths, ts))

    paths = [p for i, p in enumerate(paths) if p != target and p not in paths[:i]] + [target]
    stamps[target] = now
    dropped: list[str] = []
    if max_to_keep and len(paths) > max_to_keep:
        dropped, paths = paths[:-max_to_keep], paths[-max_to_keep:]

    def stamp(p: str) -> float:
        if p in stamps:
            return stamps[p]
        try:
            return os.path.getmtime(p + ".index")
        except OSError:
            return now

    def shown(p: str) -> str:
        return os.path.relpath(p, absdir) if _inside(p, absdir) else p

    state = pb.CheckpointState()
    state.model_checkpoint_path = shown(target)
    state.all_model_checkpoint_paths.extend(shown(p) for p in paths)
    state.all_model_checkpoint_timestamps.extend(stamp(p) for p in paths)
    if last_preserved is not None:
        state.last_preserved_timestamp = float(last_preserved)

    os.makedirs(absdir, exist_ok=True)
    import secrets

    tmp = f"{state_path}.tmp{secrets.token_hex(8)}"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text_format.MessageToString(state))
        os.replace(tmp, state_path)
    except OSError as exc:
        try:
            os.remove(tmp)
        except OSError:
            pass
        from ..errors import TFFormatsError

        raise TFFormatsError(f"cannot write the checkpoint state file: {exc.strerror or exc}", path=state_path) from None
    if delete_old is None or delete_old:
        for p in dropped:
            if p != target:
                _delete_checkpoint_files(p, meta_graph_suffix)
    return state
