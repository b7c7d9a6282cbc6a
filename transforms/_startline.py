"""What changing the form of a start line does beyond the command itself (shared by ``signals`` and
``logs``, the codemods that rewrite CMD/ENTRYPOINT in place).

A shell-form line runs as ``/bin/sh -c "TEXT"``; the same command in plain exec form runs the program
directly. The command is the same (the facts layer's ``exec_argv`` decides that nothing in it needs
the shell), but what surrounds it may not be:

* an ``ENTRYPOINT`` in exec form gets the runtime arguments (``docker run IMAGE ARGS``, compose
  ``command:``, a Kubernetes ``args:``) and the CMD appended; in shell form ``/bin/sh -c`` ignored them;
* a ``CMD`` in exec form reaches an ENTRYPOINT in effect (the file's own, or inherited) as its
  arguments: the entry point sees the program as ``$1`` where it saw ``/bin/sh``. The official images
  whose entry point acts on ``$1`` (privilege drop, initialisation) are in ``data/entrypoints.yaml``.

Keeping the shell (``["/bin/sh", "-c", "exec TEXT"]``) changes neither: that rewrite stays safe.
"""

from __future__ import annotations

from rewriter.core.syntax import Instruction, Stage
from rewriter.facts import Context
from transforms._data import matches_any

#: init programs that run their arguments unchanged (only their own options before them)
_INITS = frozenset({"tini", "tini-static", "dumb-init", "catatonit"})


def form_change_risk(ctx: Context, stage: Stage, inst: Instruction, argv: list[str], *,
                     has_cmd: bool) -> str | None:
    """Why turning shell-form ``inst`` into the plain exec form ``argv`` changes what the container
    does, or None."""
    if inst.keyword == "ENTRYPOINT":
        if has_cmd:
            return "the stage's CMD becomes the ENTRYPOINT's arguments: check them"
        return ("arguments given at run time (docker run IMAGE ARGS, compose command:) are now appended to "
                "the ENTRYPOINT; in shell form they were ignored")
    if inst.keyword != "CMD":
        return None
    entrypoint = ctx.facts.start(stage).entrypoint
    if entrypoint is not None:
        if not entrypoint.is_json or not entrypoint.exec_args:
            return None  # a shell-form ENTRYPOINT ignores CMD; `ENTRYPOINT []` runs the CMD alone
        words = list(entrypoint.exec_args)
        if words[0].rsplit("/", 1)[-1] in _INITS and all(w.startswith("-") for w in words[1:]):
            return None  # an init (tini --) runs its arguments as they are, in either form
        return (f"the ENTRYPOINT at line {entrypoint.start_line} now receives the command's words as its "
                "arguments instead of /bin/sh -c and the command text")
    row = ctx.base_image(stage).entrypoint
    if row is None or not argv:
        return None
    program = argv[0].rsplit("/", 1)[-1]
    acts = matches_any(program, row.get("programs") or []) or (
        bool(row.get("options")) and argv[0].startswith("-"))
    if not acts:
        return None
    return (f"the base image's entry point ({row['entrypoint']}) now sees the program as $1 instead of /bin/sh, "
            f"and {row['does']}")
