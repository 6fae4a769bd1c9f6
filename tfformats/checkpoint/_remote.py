"""Finding a checkpoint behind an fsspec URL (``gs://``, ``s3://``, ``http://``...).

Object stores have no real directories, and plain HTTP servers cannot list
them, so a remote checkpoint is found by probing names rather than listing:

1. ``URL.index`` / ``URL.data-*-of-*`` -> the prefix before the suffix;
2. ``URL.index`` exists -> ``URL`` is a prefix;
3. ``URL/checkpoint`` (the state file) -> its ``model_checkpoint_path``;
4. ``URL/variables/variables.index`` -> a SavedModel's variables.

State files written by ``tf.compat.v1.train.Saver`` usually hold *absolute
local* paths of the machine that trained (``/home/me/run/model.ckpt-10``).
Such a path means nothing next to a URL, so it is looked up by its base name
in the state file's directory -- where the files are after the directory was
copied to a bucket.  Relative paths are relative to that directory, as in TF.
"""

from __future__ import annotations

import posixpath
import re

from .._io import remote
from ..errors import DataLossError, NotFoundError

STATE_FILENAME = "checkpoint"
_DATA_SUFFIX = re.compile(r"\.data-\d{5}-of-\d{5}$")


def _parse_state(data: bytes, url: str):
    from google.protobuf import text_format

    from ..proto import pb, pool

    state = pb.CheckpointState()
    try:
        text_format.Parse(data.decode("utf-8"), state, descriptor_pool=pool())
    except Exception as exc:
        raise DataLossError(f"cannot parse the checkpoint state file: {exc}", path=url) from None
    if not state.model_checkpoint_path:
        raise DataLossError("the checkpoint state file has an empty model_checkpoint_path", path=url)
    return state


def _locate(directory: str, p: str) -> str:
    """A prefix named in a state file, as a URL."""
    if "://" in p:
        return p
    if p.startswith("/") or (len(p) > 2 and p[1] == ":" and p[2] in "\\/"):
        # an absolute path of the machine that wrote the file: look beside the state file
        base = p.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
        return remote.join(directory, base)
    return remote.join(directory, posixpath.normpath(p))


def get_checkpoint_state(directory: str, latest_filename: str | None = None):
    """The remote directory's ``CheckpointState`` with paths made URLs, or None."""
    url = remote.join(directory, latest_filename or STATE_FILENAME)
    try:
        data = remote.read_bytes(url)
    except NotFoundError:
        return None
    state = _parse_state(data, url)
    state.model_checkpoint_path = _locate(directory, state.model_checkpoint_path)
    paths = [_locate(directory, p) for p in state.all_model_checkpoint_paths]
    del state.all_model_checkpoint_paths[:]
    state.all_model_checkpoint_paths.extend(paths)
    return state


def checkpoint_exists(prefix: str) -> bool:
    return remote.exists(prefix + ".index")


def latest_checkpoint(directory: str, latest_filename: str | None = None) -> str | None:
    state = get_checkpoint_state(directory, latest_filename)
    if state is None:
        return None
    prefix = state.model_checkpoint_path
    return prefix if checkpoint_exists(prefix) else None


def resolve(url: str) -> str:
    """The V2 prefix a remote URL names (see the module docstring)."""
    if url.endswith(".index"):
        return url[: -len(".index")]
    m = _DATA_SUFFIX.search(url)
    if m:
        return url[: m.start()]
    if url.endswith("/"):
        url = url.rstrip("/")
    elif remote.exists(url + ".index"):
        return url
    state = get_checkpoint_state(url)
    if state is not None:
        prefix = state.model_checkpoint_path
        if checkpoint_exists(prefix):
            return prefix
        raise NotFoundError(
            f"the checkpoint state file names {prefix!r}, which has no .index file",
            path=remote.join(url, STATE_FILENAME),
        )
    saved_model = remote.join(url, "variables", "variables")
    if checkpoint_exists(saved_model):
        return saved_model
    raise NotFoundError(
        "no remote checkpoint here (looked for URL.index, URL/checkpoint and URL/variables/variables.index)",
        path=url,
    )
