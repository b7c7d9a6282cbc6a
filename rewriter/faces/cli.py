"""The ``dockerfix`` command: ``fix``, ``diff``, ``check``, ``list``, ``explain``, ``suggest``, ``lsp``,
``verify``, ``migrate``, ``merge-reports``.

The console entry point. The common forms of ``fix``/``diff``/``check`` (a pre-commit hook's, an
editor's) are read by :mod:`rewriter.faces.fastargs` and run without loading the CLI framework;
every other command line goes to the typer app, :mod:`rewriter.faces.app` (help, usage errors, the
other commands). Both call :func:`rewriter.faces.filerun.run` for the three file commands.

Exit codes: 0 no change or done, 1 ``check`` found changes, 2 an error (bad input, bad option,
internal error), 130/143 interrupted by SIGINT/SIGTERM.
"""

# ruff: noqa: E402 (the imports follow collector.hold() and classcode.install(), which must come first)
from __future__ import annotations

from rewriter.core import collector

collector.hold()  # the file commands run their first files without the cyclic collector (see there)

from rewriter.core import classcode

classcode.install()  # the command line's process (and its forked workers): before the first dataclass

import os
import sys
from typing import NoReturn


def entry() -> NoReturn:
    """The console script (and ``python -m``): :func:`main`, then :func:`leave` with its exit code."""
    try:
        main()
    except SystemExit as stop:
        leave(stop.code)
    leave(None)


def leave(code: object) -> NoReturn:
    """End the process with ``code`` (a ``SystemExit`` code) without tearing the interpreter down.

    Why: a normal exit frees every object and module of the run one by one before the process ends;
    after a batch that was ~13 ms of a 142-file ``check`` (~5 % of it) on the project's machine, spent
    after the last result was printed. mypy ends the same way (``mypy.util.hard_exit``).

    What still happens, as at a normal exit: the ``atexit`` functions run (the dataclass code cache is
    saved there, ``weakref.finalize`` callbacks run), then standard output and error are flushed. The
    normal exit is taken instead when another thread is alive (the interpreter would wait for it),
    when the code is not an integer or None (Python prints it), or when a flush fails (the interpreter
    reports that as it always has, with status 120). Every file the command writes is closed before
    it returns.
    """
    import atexit

    threading = sys.modules.get("threading")  # not imported (a check's usual case): no other thread runs
    if not (code is None or isinstance(code, int)) or (threading is not None and threading.active_count() > 1):
        raise SystemExit(code)
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:
        raise SystemExit(code) from None
    os._exit(code or 0)


def main() -> None:
    """Console entry point: usage errors exit 2; nothing else may raise to the user."""
    try:
        from rewriter.faces import fastargs

        parsed = fastargs.parse(sys.argv[1:])
        if parsed is not None:
            fastargs.invoke(*parsed)
        from rewriter.faces.app import run_app

        collector.release()  # the other commands (the language server, migrate) keep Python's collector
        run_app(sys.argv)
    except KeyboardInterrupt:
        sys.stderr.write("dockerfix: interrupted\n")
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:
        sys.stderr.write(f"dockerfix: internal error: {type(exc).__name__}: {exc}\n")
        sys.exit(2)


if __name__ == "__main__":
    entry()
