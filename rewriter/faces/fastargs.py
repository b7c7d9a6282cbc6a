"""The common forms of ``fix``, ``diff`` and ``check``, parsed without the CLI framework (issue 25).

A pre-commit hook runs ``dockerfix check FILE`` on every commit, and an editor or a script runs it
on one file at a time: the start is most of such a run. Importing typer and the click it carries
(and the standard modules they load: ``inspect``, ``subprocess``, ``locale``, ``platform``, ...)
took ~30 ms of a ~125 ms one-file check on the project's 2-core machine, more than any other
part. This module reads the forms such callers use and hands them to the same
:func:`rewriter.faces.filerun.run` that typer calls; anything else goes to typer.

Accepted, and nothing else (:func:`parse` answers ``None`` and typer parses the whole line):

* the command first: ``fix``, ``diff`` or ``check``;
* then, in any order, paths (an argument that does not start with ``-``, or exactly ``-``, the
  standard input) -- at least one;
* the flags in :data:`FLAGS`, and the options in :data:`VALUES` and :data:`REPEATED` as
  ``--option VALUE`` or ``--option=VALUE`` (a short one as ``-j VALUE``), with a value that is not
  empty and does not start with ``-``; ``--jobs``/``-j`` takes digits only, and at least 1.

So ``--help``, ``--``, bundled short flags (``-qj2``), a missing or odd value, an unknown option and
a shell-completion request all meet typer, with its help, its error messages and exit codes.
``tests/test_fastargs.py`` checks, over generated command lines, that every line accepted here gives
the options typer gives, and that these tables name exactly the options typer declares for the
three commands, so an option added to the app cannot be silently mis-read here.
"""

from __future__ import annotations

import errno
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from rewriter.faces.filerun import FileOptions, Mode, run

COMMANDS = {"fix": Mode.FIX, "diff": Mode.DIFF, "check": Mode.CHECK}

#: flag -> FileOptions field set to True
FLAGS = {"--quiet": "quiet", "-q": "quiet", "--unsafe-fixes": "unsafe_fixes", "--summary": "summary",
         "--no-cache": "no_cache"}
#: option taking one value (the last one given wins, as in click) -> FileOptions field
VALUES = {"--select": "select", "--ignore": "ignore", "--context": "context", "--format": "report_format",
          "--output": "output", "--stdin-filename": "stdin_filename", "--jobs": "jobs", "-j": "jobs",
          "--shard": "shard"}
#: repeatable option -> FileOptions field (a list, in the order given)
REPEATED = {"--exclude": "exclude", "--extend-exclude": "extend_exclude"}

_PATHS = {"context", "output"}
_DIGITS = re.compile(r"[0-9]+")


def parse(args: Sequence[str]) -> tuple[Mode, FileOptions] | None:
    """The command and its options for ``args`` (``sys.argv[1:]``), or None: typer must parse them."""
    if not args or args[0] not in COMMANDS or _completion_requested():
        return None
    paths: list[str] = []
    fields: dict[str, Any] = {"select": None, "ignore": None, "unsafe_fixes": False, "context": None,
                              "quiet": False, "stdin_filename": None}
    rest = iter(args[1:])
    for arg in rest:
        if arg == "-" or not arg.startswith("-"):
            paths.append(arg)
            continue
        # click splits "--option=value" only: "-j=2" is -j with the value "=2"
        name, eq, value = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        if name in FLAGS:
            if eq:
                return None  # click: "Option '--quiet' does not take a value."
            fields[FLAGS[name]] = True
            continue
        if name not in VALUES and name not in REPEATED:
            return None
        if not eq:
            value = next(rest, "")
        if not value or value.startswith("-"):
            return None
        if name in REPEATED:
            fields.setdefault(REPEATED[name], []).append(value)
            continue
        field = VALUES[name]
        if field == "jobs":
            if not _DIGITS.fullmatch(value) or int(value) < 1:
                return None
            fields[field] = int(value)
        else:
            fields[field] = Path(value) if field in _PATHS else value
    if not paths:
        return None
    return COMMANDS[args[0]], FileOptions(paths=paths, **fields)


def _completion_requested() -> bool:
    """click answers shell completion when ``_<PROG>_COMPLETE`` is set (PROG from ``argv[0]``)."""
    return any(k.startswith("_") and k.endswith("_COMPLETE") for k in os.environ)


class _Pacified:
    """A stream whose flush ignores a closed pipe (click's ``PacifyFlushWrapper``)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as exc:
            if exc.errno != errno.EPIPE:
                raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def invoke(mode: Mode, options: FileOptions) -> NoReturn:
    """Run the command and exit as typer's standalone mode does around a command's body.

    Its exit code; a KeyboardInterrupt exits 130 and an end of input "Aborted!" with 1, both as
    typer; a closed stdout (``dockerfix diff ... | head``) exits 1 without a traceback at exit.
    Any other exception goes up to :func:`rewriter.faces.cli.main` (an internal error).
    """
    try:
        code = run(mode, options)
    except KeyboardInterrupt:
        code = 130
    except EOFError:
        sys.stderr.write("\nAborted!\n")
        code = 1
    except OSError as exc:
        if exc.errno != errno.EPIPE:
            raise
        sys.stdout = _Pacified(sys.stdout)
        sys.stderr = _Pacified(sys.stderr)
        code = 1
    sys.exit(code)
