"""The one decision of whether a shell-form command needs a shell.

Every rewrite of a ``CMD``/``ENTRYPOINT``/``HEALTHCHECK`` start line (``signals``, ``logs``,
``multistage``, ``nonroot``) asks :func:`exec_argv`: a command becomes exec form only when nothing in
it needs ``/bin/sh`` — no variables (``$PORT``, ``${X:-d}``), globs, ``~``, operators (``&&``, ``|``,
``;``), redirections, substitutions or shell builtins (``cd``, ``exec``…). Otherwise it keeps its shell.
"""

from __future__ import annotations

from rewriter.core.shell import needs_shell, split_words


def exec_argv(command: str) -> list[str] | None:
    """``command`` as an exec-form argument list, or None when running it without a shell would
    change what it does (or it is empty)."""
    if needs_shell(command):
        return None
    try:
        return split_words(command) or None
    except ValueError:
        return None
