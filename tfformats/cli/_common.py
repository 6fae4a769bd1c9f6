"""Shared plumbing of the subcommands: exit codes, output, errors, progress.

Nothing heavy is imported here: numpy and protobuf load inside the
subcommands that need them, so ``tfformats --help`` stays fast.
"""

from __future__ import annotations

import json
import math
import os
import sys

# Exit codes (documented in docs/cli.md; stable).
EXIT_OK = 0  # success; verify: intact; diff: no differences; scan: nothing at/above --fail-on
EXIT_FAILED = 1  # verify found a problem, diff found a difference, scan found something at/above --fail-on
EXIT_USAGE = 2  # bad command line, unknown tensor name, bad filter
EXIT_INPUT = 3  # input missing, unreadable, corrupt beyond use, or not a format tfformats knows
EXIT_INTERNAL = 4  # a bug in tfformats (please report it)
EXIT_INTERRUPTED = 130

SCHEMA_VERSION = 1


class CLIError(Exception):
    """A one-line error for the user, with the exit code to use."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


def usage_error(message: str) -> CLIError:
    return CLIError(message, EXIT_USAGE)


def input_error(message: str) -> CLIError:
    return CLIError(message, EXIT_INPUT)


# -- JSON -------------------------------------------------------------------
def _plain(obj):
    """Convert numpy scalars/arrays and odd floats into JSON-safe values."""
    if isinstance(obj, float):
        if math.isnan(obj):
            return "NaN"
        if math.isinf(obj):
            return "Infinity" if obj > 0 else "-Infinity"
        return obj
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, (str, int, bool)) or obj is None:
        return obj
    if isinstance(obj, bytes):
        return obj.decode("utf-8", "backslashreplace")
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    # numpy scalars and arrays, without importing numpy here
    tolist = getattr(obj, "tolist", None)
    if tolist is not None:
        return _plain(tolist())
    item = getattr(obj, "item", None)
    if item is not None:
        return _plain(item())
    return str(obj)


def document(command: str, **fields) -> dict:
    """The top-level JSON object every subcommand prints."""
    from .. import __version__

    doc = {"command": command, "schema_version": SCHEMA_VERSION, "tfformats_version": __version__}
    doc.update(fields)
    return doc


# Local copies of remote inputs (fetched by ``_detect``): their paths are shown as the URLs they came from.
_SHOWN_AS: list = []  # (local path prefix, URL prefix)


def show_as(local: str, url: str) -> None:
    """Print ``url`` wherever output would name ``local`` (or a path under it)."""
    _SHOWN_AS.append((local.rstrip("/"), url.rstrip("/")))


def shown(text: str) -> str:
    for local, url in _SHOWN_AS:
        text = text.replace(local, url)
    return text


def _shown_doc(obj):
    if isinstance(obj, str):
        return shown(obj)
    if isinstance(obj, dict):
        return {shown(k) if isinstance(k, str) else k: _shown_doc(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_shown_doc(v) for v in obj]
    return obj


def print_json(doc: dict, stream=None) -> None:
    stream = stream or sys.stdout
    doc = _plain(doc)
    if _SHOWN_AS:
        doc = _shown_doc(doc)
    json.dump(doc, stream, indent=2, allow_nan=False, ensure_ascii=False)
    stream.write("\n")


def write(text: str = "") -> None:
    text = shown(text) if _SHOWN_AS else text
    sys.stdout.write(text)
    if not text.endswith("\n"):
        sys.stdout.write("\n")


def warn(message: str) -> None:
    sys.stderr.write(f"tfformats: warning: {message}\n")


# -- filters ----------------------------------------------------------------
def int_at_least(minimum: int):
    """An argparse ``type=``: an integer no smaller than ``minimum`` (else a usage error)."""
    import argparse

    def parse(text: str) -> int:
        try:
            n = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
        if n < minimum:
            raise argparse.ArgumentTypeError(f"must be {minimum} or more, not {n}")
        return n

    return parse


def add_filter_arguments(parser, what: str = "tensors") -> None:
    parser.add_argument(
        "-g", "--glob", action="append", default=[], metavar="PATTERN",
        help=f"keep {what} whose name matches this shell pattern (repeatable; any match keeps)",
    )
    parser.add_argument(
        "-r", "--regex", action="append", default=[], metavar="REGEX",
        help=f"keep {what} whose name contains a match of this regular expression (repeatable)",
    )
    parser.add_argument(
        "-x", "--exclude", action="append", default=[], metavar="PATTERN",
        help=f"drop {what} whose name matches this shell pattern (repeatable)",
    )


def name_filter(args):
    """A predicate over names from --glob/--regex/--exclude (None: keep all)."""
    import fnmatch
    import re

    globs = list(getattr(args, "glob", []) or [])
    excludes = list(getattr(args, "exclude", []) or [])
    try:
        regexes = [re.compile(r) for r in (getattr(args, "regex", []) or [])]
    except re.error as exc:
        raise usage_error(f"bad --regex: {exc}") from None
    if not globs and not regexes and not excludes:
        return None

    def keep(name: str) -> bool:
        if any(fnmatch.fnmatchcase(name, p) for p in excludes):
            return False
        if not globs and not regexes:
            return True
        return any(fnmatch.fnmatchcase(name, p) for p in globs) or any(r.search(name) for r in regexes)

    return keep


# -- progress ---------------------------------------------------------------
PROGRESS_DELAY = 1.0  # seconds an operation runs before its bar appears
class _NoProgress:
    def update(self, n: int = 1) -> None:
        pass

    def set_description(self, text: str) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def progress(total: int | None, desc: str, unit: str = "it", enabled: bool = True):
    """A tqdm progress bar on stderr, only when stderr is a terminal, shown once
    the operation has taken a second (shorter ones never draw one).

    The bar comes from ``tqdm``, an optional extra (``pip install
    'tfformats[progress]'``); without it there is no bar (nothing hand-made is
    drawn instead).  Disabled by ``--no-progress`` or ``TFFORMATS_NO_PROGRESS``.
    Nothing is ever written to stdout.
    """
    if not enabled or os.environ.get("TFFORMATS_NO_PROGRESS") or not _isatty(sys.stderr):
        return _NoProgress()
    try:
        from tqdm import tqdm
    except ImportError:
        return _NoProgress()
    scale = unit == "B"
    return tqdm(total=total, desc=desc, unit=unit, unit_scale=scale, unit_divisor=1024 if scale else 1000,
                leave=False, file=sys.stderr, dynamic_ncols=True, mininterval=0.2, delay=PROGRESS_DELAY)


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


KERAS_JSON_LIMIT = 256 << 20  # a Keras 3 save's config.json / metadata.json over this is not read


def keras_json_member(name: str, *, archive=None, folder: str | None = None) -> tuple[bytes | None, str | None]:
    """The bytes of ``name`` (``config.json``, ``metadata.json``) of a Keras 3 save.

    The save is an open ``.keras`` :class:`zipfile.ZipFile` (``archive``) or an
    unzipped save's ``folder``.  Returns ``(data, None)``; ``(None, None)``
    when there is no such member; ``(None, why)`` when it is over
    :data:`KERAS_JSON_LIMIT` (for a zip member that is the size its directory
    declares, which the archive need not back).  Read errors (``OSError``,
    zipfile's refusals) are the caller's to report.
    """
    limit = f"over the {KERAS_JSON_LIMIT >> 20} MiB limit"
    if archive is not None:
        if name not in archive.namelist():
            return None, None
        size = archive.getinfo(name).file_size
        if size > KERAS_JSON_LIMIT:
            return None, f"{name} declares {size} bytes, {limit}"
        return archive.read(name), None
    path = os.path.join(folder, name)
    if not os.path.isfile(path):
        return None, None
    size = os.path.getsize(path)
    if size > KERAS_JSON_LIMIT:
        return None, f"{name} is {size} bytes, {limit}"
    with open(path, "rb") as f:
        return f.read(), None
