"""The start of the image: the CMD/ENTRYPOINT in effect, and whether a command needs a shell.

Every rewrite of a ``CMD``/``ENTRYPOINT``/``HEALTHCHECK`` start line (``signals``, ``logs``,
``multistage``, ``nonroot``) asks :func:`exec_argv`: a command becomes exec form only when nothing in
it needs ``/bin/sh`` — no variables (``$PORT``, ``${X:-d}``), globs, ``~``, operators (``&&``, ``|``,
``;``), redirections, substitutions or shell builtins (``cd``, ``exec``…). Otherwise it keeps its shell.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass

from rewriter.core.shell import needs_shell, split_words
from rewriter.core.syntax import Instruction, Stage
from rewriter.facts.commands import POSIX_SHELLS, basename


def exec_argv(command: str) -> list[str] | None:
    """``command`` as an exec-form argument list, or None when running it without a shell would
    change what it does (or it is empty)."""
    if needs_shell(command):
        return None
    try:
        return split_words(command) or None
    except ValueError:
        return None


def shell_c(argv: Sequence[str]) -> str | None:
    """The command text of an exec-form ``["sh", "-c", "TEXT", ...]`` (any POSIX shell, by path too,
    and option clusters such as ``-ec``), or None when ``argv`` is not a shell running a command text."""
    if len(argv) < 3 or basename(argv[0]) not in POSIX_SHELLS:
        return None
    flag = argv[1]
    if not (flag.startswith("-") and not flag.startswith("--") and "c" in flag[1:]):
        return None
    return argv[2]


def is_posix_shell(shell: Sequence[str] | None) -> bool:
    """Is a ``SHELL`` (its JSON arguments; None for the image's default ``/bin/sh -c``) a POSIX shell?"""
    return not shell or basename(shell[0]) in POSIX_SHELLS


@dataclass(frozen=True)
class Start:
    """The start line(s) in effect at the end of a stage (inherited from the stages it is built FROM).

    BuildKit's rule: an ENTRYPOINT clears a CMD inherited from an earlier stage (or the base image)
    unless the same stage sets CMD too."""

    entrypoint: Instruction | None
    cmd: Instruction | None

    @property
    def lines(self) -> list[Instruction]:
        """ENTRYPOINT then CMD, those that are set."""
        return [i for i in (self.entrypoint, self.cmd) if i is not None]

    def texts(self) -> list[str] | None:
        """The shell texts they run (an exec form as its shell-quoted words, ``sh -c`` as its text);
        None when the Dockerfile sets neither (the start comes from the base image)."""
        if not self.lines:
            return None
        out = []
        for inst in self.lines:
            argv = inst.exec_args
            if argv is None:
                out.append(inst.arguments)
            else:
                out.append(shell_c(argv) if shell_c(argv) is not None else shlex.join(argv))
        return out


def start_of(chain: Sequence[Stage]) -> Start:
    """The start in effect at the end of the last stage of ``chain`` (oldest first)."""
    entrypoint: Instruction | None = None
    cmd: Instruction | None = None
    for stage in chain:
        cmd_here = False
        for inst in stage.instructions:
            if inst.keyword == "CMD":
                cmd, cmd_here = inst, True
            elif inst.keyword == "ENTRYPOINT":
                entrypoint = inst
                if not cmd_here:
                    cmd = None
    return Start(entrypoint, cmd)
