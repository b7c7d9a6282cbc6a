"""The ``dockerfix`` command: ``fix``, ``diff``, ``check``, ``list``, ``explain``, ``suggest``, ``lsp``,
``verify``, ``migrate``, ``merge-reports``.

The console entry point. The common forms of ``fix``/``diff``/``check`` (a pre-commit hook's, an
editor's) are read by :mod:`rewriter.faces.fastargs` and run without loading the CLI framework;
every other command line goes to the typer app, :mod:`rewriter.faces.app` (help, usage errors, the
other commands). Both call :func:`rewriter.faces.filerun.run` for the three file commands.

Exit codes: 0 no change or done, 1 ``check`` found changes, 2 an error (bad input, bad option,
internal error), 130/143 interrupted by SIGINT/SIGTERM.
"""

# ruff: noqa: E402 (the imports follow classcode.install(), which must come first)
from __future__ import annotations

from rewriter.core import classcode

classcode.install()  # the command line's process (and its forked workers): before the first dataclass

import sys


def main() -> None:
    """Console entry point: usage errors exit 2; nothing else may raise to the user."""
    try:
        from rewriter.faces import fastargs

        parsed = fastargs.parse(sys.argv[1:])
        if parsed is not None:
            fastargs.invoke(*parsed)
        from rewriter.faces.app import run_app

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
    main()
