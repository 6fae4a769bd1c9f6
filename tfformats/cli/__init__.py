"""The ``tfformats`` command: inspect, verify, diff, export and scan TensorFlow files.

Usage: ``tfformats SUBCOMMAND [options]`` (or ``python -m tfformats``).  Each
subcommand lives in its own module exposing ``HELP`` (one line),
``DESCRIPTION``, ``EXAMPLES``, ``add_arguments(parser)`` and ``run(args) -> int``.
Subcommand modules import numpy/protobuf only inside ``run``, so startup stays
fast.  Exit codes and the JSON schemas are documented in ``docs/cli.md``.
"""

from __future__ import annotations

import argparse
import os
import sys
from importlib import import_module

from ._common import (
    EXIT_INPUT,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    CLIError,
    document,
    print_json,
)

__all__ = ["main", "build_parser", "SUBCOMMANDS"]

SUBCOMMANDS = ("info", "ls", "show", "verify", "diff", "export", "scan")

_EPILOG = """\
exit codes: 0 ok, 1 check failed (verify/diff/scan), 2 usage error,
            3 input missing/unreadable/corrupt, 4 internal error
Run 'tfformats SUBCOMMAND --help' for examples.  Docs: docs/cli.md"""


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error (no usage dump) and exit code 2."""

    json_requested = False  # set by main() when the command line asks for --json

    def error(self, message):  # noqa: D401 - argparse API
        if _Parser.json_requested:  # the error document on stdout, as for errors raised later
            parts = self.prog.split()
            command = parts[1] if len(parts) > 1 else "tfformats"
            sys.stdout.flush()
            print_json(document(command, error={"type": "UsageError", "message": f"{message} (see --help)",
                                                "exit_code": EXIT_USAGE}))
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = _Parser(
        prog="tfformats",
        description="Inspect, verify, diff, export and scan TensorFlow files without TensorFlow.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"tfformats {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print one JSON document (schema in docs/cli.md)")
    common.add_argument(
        "--no-progress", action="store_true", help="never show a progress bar (it only appears on a terminal)"
    )
    sub = parser.add_subparsers(dest="command", metavar="SUBCOMMAND", parser_class=_Parser)
    sub.required = True
    for name in SUBCOMMANDS:
        mod = import_module(f"{__name__}.{name}")
        p = sub.add_parser(
            name,
            help=mod.HELP,
            description=mod.DESCRIPTION,
            epilog="examples:\n" + mod.EXAMPLES.rstrip() + "\n",
            parents=[common],
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        mod.add_arguments(p)
        p.set_defaults(_module=mod)
    return parser


def _error(args, command: str, message: str, code: int, kind: str) -> int:
    from ._common import shown

    sys.stdout.flush()
    message = shown(message)
    sys.stderr.write(f"tfformats {command}: error: {message}\n")
    if getattr(args, "json", False):
        print_json(document(command, error={"type": kind, "message": message, "exit_code": code}))
    return code


def main(argv=None) -> int:
    """Run the command line; returns the exit code (also the console script's)."""
    parser = build_parser()
    _Parser.json_requested = "--json" in (sys.argv[1:] if argv is None else list(argv))
    args = parser.parse_args(argv)
    command = args.command
    debug = bool(os.environ.get("TFFORMATS_DEBUG"))
    from ..errors import InvalidArgumentError, TFFormatsError, UnknownTensorError

    try:
        code = args._module.run(args)
        sys.stdout.flush()
        return EXIT_OK if code is None else int(code)
    except CLIError as exc:
        return _error(args, command, str(exc), exc.code, "UsageError" if exc.code == EXIT_USAGE else "InputError")
    except (UnknownTensorError, InvalidArgumentError) as exc:
        if debug:
            raise
        return _error(args, command, str(exc), EXIT_USAGE, type(exc).__name__)
    except TFFormatsError as exc:
        if debug:
            raise
        return _error(args, command, str(exc), EXIT_INPUT, type(exc).__name__)
    except BrokenPipeError:
        # stdout closed early (e.g. piped into `head`): not an error worth a message
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return EXIT_OK
    except OSError as exc:
        if debug:
            raise
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        return _error(args, command, f"{where}{exc.strerror or exc}", EXIT_INPUT, type(exc).__name__)
    except MemoryError:
        if debug:
            raise
        return _error(args, command, "out of memory", EXIT_INPUT, "MemoryError")
    except KeyboardInterrupt:
        sys.stderr.write("\ninterrupted\n")
        return EXIT_INTERRUPTED
    except Exception as exc:  # a bug: one line, and a traceback only on request
        if debug:
            raise
        return _error(
            args,
            command,
            f"internal error ({type(exc).__name__}: {exc}); rerun with TFFORMATS_DEBUG=1 for a traceback and report it",
            EXIT_INTERNAL,
            "InternalError",
        )
