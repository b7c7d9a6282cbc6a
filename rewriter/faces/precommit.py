"""Entry point of the ``dockerfix-fix`` pre-commit hook: ``python -m rewriter.faces.precommit [OPTIONS] FILES``.

It runs ``dockerfix fix`` on the files pre-commit passes and exits 1 when anything was rewritten,
so the commit stops and the user reviews and stages the changes. pre-commit already fails a hook
that modifies tracked files, but it finds modifications with ``git diff``, which does not see a
file that did not exist before: a ``.dockerignore`` the ``secrets`` transform creates (to keep
``.npmrc`` out of ``COPY . .``) would otherwise let the commit through with the Dockerfile
unchanged. Exit codes: 0 nothing to rewrite, 1 files rewritten, 2 an error (as ``dockerfix``).

The ``dockerfix-check`` hook needs no wrapper: ``dockerfix check`` exits 1 when a file would change.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Sequence


def _dockerfix(args: Sequence[str], *, silent: bool = False) -> int:
    """Run one ``dockerfix`` command in process (through the console entry point); its exit code."""
    from rewriter.faces.cli import main as dockerfix_main

    saved, saved_err = sys.argv, sys.stderr
    sys.argv = ["dockerfix", *args]
    if silent:
        sys.stderr = io.StringIO()
    try:
        dockerfix_main()
    except SystemExit as exc:
        if exc.code is None:
            return 0
        return exc.code if isinstance(exc.code, int) else 2
    finally:
        sys.argv, sys.stderr = saved, saved_err
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``dockerfix fix`` for pre-commit: 1 when files were rewritten (see the module docstring)."""
    args = list(sys.argv[1:] if argv is None else argv)
    pending = _dockerfix(["check", "--quiet", *args], silent=True)  # the fix run reports
    code = _dockerfix(["fix", *args])
    if code:
        return code
    if pending == 1:
        sys.stderr.write("dockerfix: files were rewritten; review the changes, `git add` them and commit again\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
