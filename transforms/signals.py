"""signals — the application is PID 1 and receives SIGTERM, so it can shut down gracefully.

What it changes
    * A shell-form ``CMD``/``ENTRYPOINT`` that is a plain command (no operators, expansions,
      redirects or globs) becomes exec form: ``CMD gunicorn app:app`` ->
      ``CMD ["gunicorn", "app:app"]``.
    * A shell-form command that needs the shell (``cd /app && python app.py``, ``$PORT``) keeps it,
      and its last command gets ``exec`` so the app replaces ``/bin/sh -c`` as PID 1.
    * An entry-point script copied from the build context (``COPY start.sh /``,
      ``ENTRYPOINT ["/start.sh"]``) whose last line starts the app without ``exec`` gets ``exec``;
      the script is edited in place and the diff shows it as a second file.
    * ``STOPSIGNAL`` is never touched.

When it refuses (a note, file unchanged)
    * The command cannot hand PID 1 to the app: pipelines, ``||``, background jobs, compound
      statements, or a last command that is a shell builtin. The note suggests ``tini`` (or
      ``docker run --init``) so signals are forwarded and zombies reaped.
    * The entry-point script sets a ``trap`` (it expects to outlive the command), ends in a
      conditional or loop, or cannot be read from the build context.
    * Windows stages (``escape`` backtick, ``SHELL`` powershell/cmd, Windows base images) and stages
      whose ``SHELL`` is not a POSIX shell.
    * A multi-line command whose continuation holds comment lines is not re-flowed into exec form
      (that would drop the comments); it gets the ``exec`` prefix instead.

Fix safety
    Exec form for a plain command and an ``exec`` prefix are **safe**: the same program runs with
    the same arguments, only without an intermediate shell. Converting a shell-form ``ENTRYPOINT``
    while the stage also has a ``CMD`` is **unsafe** (exec-form ENTRYPOINT appends CMD as
    arguments, shell form ignored it). Editing an entry-point script is **safe** when ``exec`` is
    added to its final top-level command only.
"""

from __future__ import annotations

import json
import posixpath
import shlex
from collections.abc import Iterator

from rewriter.edits import Applicability, Edit, Fix, Note
from rewriter.facts import Context
from rewriter.shell import Script, needs_shell, parse_shell, split_words
from rewriter.syntax import Instruction, Stage

ID = "signals"
_POSIX_SHELLS = {"sh", "bash", "ash", "dash", "zsh", "ksh"}
#: commands after which ``exec`` is wrong or pointless (builtins that do not start a program)
_NO_EXEC = {
    "exec", "cd", "export", "source", ".", "set", "unset", "alias", "eval", "trap", "wait", "exit",
    "return", "true", "false", ":", "shift", "ulimit", "umask", "read", "local", "declare", "test", "[",
    "echo", "printf", "sleep",
}  # fmt: skip
_TINI = "run it under an init: `docker run --init`, or install tini and use ENTRYPOINT [\"tini\", \"--\", ...]"


class SignalsTransform:
    id = ID
    description = "Run the app as PID 1 (exec form / exec) so SIGTERM reaches it and shutdown is graceful."

    @property
    def explain(self) -> str:
        return __doc__ or ""

    def run(self, ctx: Context) -> Iterator[Fix | Note]:
        for stage in ctx.tree.stages:
            entries = [i for i in stage.instructions if i.keyword in {"CMD", "ENTRYPOINT"}]
            if not entries:
                continue
            if ctx.is_windows(stage):
                yield Note(ID, f"stage {_stage_name(stage)} is a Windows stage; left unchanged", stage.start_line)
                continue
            if not _posix_shell(stage):
                yield Note(ID, f"stage {_stage_name(stage)} sets a non-POSIX SHELL; left unchanged", stage.start_line)
                continue
            # only the effective CMD/ENTRYPOINT of a stage matters; earlier ones are overridden
            last_cmd = stage.last("CMD")
            last_ep = stage.last("ENTRYPOINT")
            for inst in (last_ep, last_cmd):
                if inst is None:
                    continue
                if inst.is_json:
                    if inst is (last_ep or last_cmd):
                        yield from _script_fix(ctx, stage, inst)
                    continue
                if inst.keyword == "CMD" and last_ep is not None and not last_ep.is_json:
                    continue  # a shell-form ENTRYPOINT ignores CMD
                yield from _shell_form(inst, has_cmd=last_cmd is not None)


def _stage_name(stage: Stage) -> str:
    return stage.name or str(stage.index)


def _posix_shell(stage: Stage) -> bool:
    shell = stage.last("SHELL")
    if shell is None or not shell.exec_args:
        return True
    return shell.exec_args[0].rsplit("/", 1)[-1] in _POSIX_SHELLS


def _shell_form(inst: Instruction, *, has_cmd: bool) -> Iterator[Fix | Note]:
    text, offset = inst.shell_text()
    command_text = inst.arguments
    if not command_text.strip():
        return
    base = inst.start + offset
    if inst.heredocs:
        yield Note(ID, f"{inst.keyword} uses a heredoc; left unchanged", inst.start_line)
        return
    multiline = "\n" in inst.raw[inst.args_start : inst.args_end]
    if not needs_shell(command_text) and not multiline:
        try:
            argv = split_words(command_text)
        except ValueError:
            argv = []
        if argv:
            exec_form = json.dumps(argv, ensure_ascii=False)
            unsafe = inst.keyword == "ENTRYPOINT" and has_cmd
            msg = f"{inst.keyword} in exec form so the app is PID 1 and receives SIGTERM"
            if unsafe:
                msg += " (the stage's CMD becomes the ENTRYPOINT's arguments: check them)"
            yield Fix(
                ID,
                msg,
                (Edit(inst.start + inst.args_start, inst.start + inst.args_end, exec_form),),
                Applicability.UNSAFE if unsafe else Applicability.SAFE,
                inst.start_line,
            )
            return
    script = parse_shell(text)
    yield from _exec_prefix(script, base, inst.keyword, inst.start_line, None)


def _exec_prefix(script: Script, base: int, what: str, line: int, path: str | None) -> Iterator[Fix | Note]:
    last = script.last_top_level()
    if last is None or not last.words:
        return
    if last.name == "exec":
        return  # already hands over PID 1
    if not script.is_simple_chain():
        yield Note(ID, f"{what} runs a shell wrapper that cannot hand PID 1 to the app; {_TINI}", line)
        return
    if last.name in _NO_EXEC or (last.name.startswith("$") and not last.words[0].is_literal):
        if last.name in {"sleep", "echo", "printf", "true", ":"}:
            return  # not an application
        yield Note(ID, f"{what} ends with `{last.name}`, which cannot be exec'd; {_TINI}", line)
        return
    at = last.words[0].start  # after any env prefix: `A=1 exec app` exports A to the app
    yield Fix(
        ID,
        f"exec the last command of {what} so the app replaces the shell as PID 1 and receives SIGTERM",
        (Edit(base + at, base + at, "exec ", path),),
        Applicability.SAFE,
        line,
    )


def _script_fix(ctx: Context, stage: Stage, inst: Instruction) -> Iterator[Fix | Note]:
    """Add ``exec`` to the last command of an entry-point script copied from the context."""
    argv = inst.exec_args or ()
    if not argv:
        return
    # ["sh", "/start.sh"] / ["/bin/bash", "start.sh"] / ["/start.sh"]
    target = argv[0]
    if target.rsplit("/", 1)[-1] in _POSIX_SHELLS and len(argv) >= 2 and not argv[1].startswith("-"):
        target = argv[1]
    if not target.endswith(".sh") and "entrypoint" not in target.lower() and "start" not in target.lower():
        return
    rel = _context_source(ctx, stage, target)
    if rel is None:
        return
    content = ctx.read_side(rel)
    if content is None:
        return
    first = content.split("\n", 1)[0]
    if first.startswith("#!") and first[2:].strip().split(" ")[0].rsplit("/", 1)[-1] not in _POSIX_SHELLS | {"env"}:
        return
    if first.startswith("#!/usr/bin/env") and (first.split()[1:2] or [""])[0] not in _POSIX_SHELLS:
        return
    script = parse_shell(content)
    if script.has_error:
        yield Note(ID, f"entry-point script {rel} could not be parsed; left unchanged", inst.start_line)
        return
    if script.find("trap"):
        yield Note(ID, f"entry-point script {rel} sets a trap; not adding exec (the trap would never run)",
                   inst.start_line)
        return
    last = script.last_top_level()
    if last is None or last.name == "exec" or last is not script.commands[-1]:
        if last is not None and last is not script.commands[-1] and script.commands[-1].name != "exec":
            yield Note(ID, f"entry-point script {rel} ends in a compound statement; check that it execs the app",
                       inst.start_line)
        return
    if last.operator in {"&", "|"} or last.in_pipeline or last.depth:
        yield Note(ID, f"entry-point script {rel} cannot hand PID 1 to the app; {_TINI}", inst.start_line)
        return
    # only the final command needs to be exec'd; earlier setup lines may use any syntax
    if last.name in _NO_EXEC or not last.words or not last.words[0].is_literal:
        if last.name not in {"sleep", "echo", "printf", "true", ":", "exit"}:
            yield Note(ID, f"entry-point script {rel} ends with `{last.name}`; {_TINI}", inst.start_line)
        return
    at = last.words[0].start
    yield Fix(
        ID,
        f"exec the app at the end of entry-point script {rel} so it is PID 1 and receives SIGTERM",
        (Edit(at, at, "exec ", rel),),
        Applicability.SAFE,
        inst.start_line,
    )


def _join(base: str, path: str) -> str:
    return posixpath.normpath(posixpath.join(base, path))


def _context_source(ctx: Context, stage: Stage, target: str) -> str | None:
    """The build-context path a stage COPYs to ``target`` (absolute or relative to WORKDIR)."""
    workdir = "/"
    dest_of: dict[str, str] = {}
    for inst in stage.instructions:
        if inst.keyword == "WORKDIR" and inst.arguments:
            workdir = _join(workdir, inst.arguments.strip().strip("\"'"))
        elif inst.keyword in {"COPY", "ADD"} and not inst.flag("from") and not inst.heredocs:
            try:
                words = list(inst.exec_args) if inst.is_json and inst.exec_args else shlex.split(inst.arguments)
            except ValueError:
                continue
            if len(words) < 2:
                continue
            *srcs, dest = words
            dest_abs = _join(workdir, dest)
            for src in srcs:
                if any(ch in src for ch in "*?[$") or src.startswith(("http://", "https://")):
                    continue
                base = src.rstrip("/").rsplit("/", 1)[-1]
                dest_of[_join(dest_abs, base)] = src  # dest is (or may be) a folder
                if not dest.endswith("/") and len(srcs) == 1 and dest not in {".", "./"}:
                    dest_of[dest_abs] = src
    src = dest_of.get(_join(workdir, target))
    if src is None:
        return None
    return src.removeprefix("./")


TRANSFORM = SignalsTransform()
