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
    the same arguments, only without an intermediate shell. Exec form with an explicit shell
    (``["/bin/sh", "-c", "exec …"]``) is exactly the argument list the builder makes of a shell-form
    line, so it is safe for ENTRYPOINT and CMD alike. Plain exec form is **unsafe** where the form
    itself matters (``transforms/_startline.py``): a shell-form ``ENTRYPOINT`` (run-time arguments and
    the CMD are appended to an exec-form one, a shell-form one ignored them), and a ``CMD`` that an
    ENTRYPOINT in effect receives — the file's own (except an init such as ``tini --``), or an official
    image's entry point that acts on its first argument (redis, postgres, mysql, mariadb, mongo,
    rabbitmq, nginx, …: ``data/entrypoints.yaml``), which would then see the program instead of
    ``/bin/sh``. Editing an entry-point script is **safe** when ``exec`` is added to its final
    top-level command only.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Generator, Iterator

from rewriter.core.edits import Applicability, Edit, Fix, Note
from rewriter.core.shell import Script, parse_shell
from rewriter.core.syntax import Instruction, Stage, split_lines
from rewriter.facts import Context
from rewriter.facts.commands import POSIX_SHELLS as _POSIX_SHELLS
from rewriter.facts.scope import join as _join
from rewriter.facts.start import exec_argv, is_posix_shell
from transforms._base import Codemod
from transforms._startline import form_change_risk

ID = "signals"
#: commands after which ``exec`` is wrong or pointless (builtins that do not start a program)
_NO_EXEC = {
    "exec", "cd", "export", "source", ".", "set", "unset", "alias", "eval", "trap", "wait", "exit",
    "return", "true", "false", ":", "shift", "ulimit", "umask", "read", "local", "declare", "test", "[",
    "echo", "printf", "sleep",
}  # fmt: skip
#: last commands that are not an application (nothing to hand PID 1 to), left alone silently
_NOT_APPS = {"sleep", "echo", "printf", "true", ":", "exit"}
_TINI = "run it under an init: `docker run --init`, or install tini and use ENTRYPOINT [\"tini\", \"--\", ...]"


class SignalsTransform(Codemod):
    id = ID
    description = "Run the app as PID 1 (exec form / exec) so SIGTERM reaches it and shutdown is graceful."

    def run(self, ctx: Context) -> Iterator[Fix | Note]:
        for stage in ctx.tree.stages:
            entries = [i for i in stage.instructions if i.keyword in {"CMD", "ENTRYPOINT", "HEALTHCHECK"}]
            if not entries:
                continue
            if ctx.is_windows(stage):
                yield Note(ID, f"stage {_stage_name(stage)} is a Windows stage; left unchanged", stage.start_line)
                continue
            if not is_posix_shell(ctx.facts.shell(stage)):
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
                # an empty `CMD []` adds no arguments to an exec-form ENTRYPOINT
                has_cmd = last_cmd is not None and not (last_cmd.is_json and not last_cmd.exec_args)
                yield from _shell_form(ctx, inst, stage, has_cmd=has_cmd)
            health = stage.last("HEALTHCHECK")
            if health is not None:
                yield from _healthcheck(health)


def _stage_name(stage: Stage) -> str:
    return stage.name or str(stage.index)


def _healthcheck(inst: Instruction) -> Iterator[Fix]:
    """``HEALTHCHECK CMD <shell>`` -> exec form: the argv, or ``/bin/sh -c`` (what CMD-SHELL runs)."""
    words = inst.words
    if len(words) < 2 or words[0].text.upper() != "CMD" or words[1].text.startswith("["):
        return
    inner = split_lines(inst.raw[words[1].start : inst.args_end])[1:]
    if inst.heredocs or any(ln.lstrip(" \t").startswith("#") for ln in inner):
        return
    command = inst.with_changes(raw=inst.raw[: words[0].start] + inst.raw[words[1].start :]).arguments
    argv = exec_argv(command) or ["/bin/sh", "-c", command]
    yield Fix(ID, "HEALTHCHECK command in exec form (explicit about the shell it needs, if any)",
              (Edit(inst.start + words[1].start, inst.start + inst.args_end, json.dumps(argv, ensure_ascii=False)),),
              Applicability.SAFE, inst.start_line)


def _shell_form(ctx: Context, inst: Instruction, stage: Stage, *, has_cmd: bool) -> Iterator[Fix | Note]:
    """Exec form for a plain command; ``[shell, -c, "... exec app"]`` when a shell is needed."""
    if not inst.arguments.strip():
        return
    if inst.heredocs:
        yield Note(ID, f"{inst.keyword} uses a heredoc; left unchanged", inst.start_line)
        return
    span = (inst.start + inst.args_start, inst.start + inst.args_end)
    intended = _single_quoted_exec_form(inst.arguments)
    if intended is not None:
        yield Fix(
            ID,
            f"{inst.keyword} looks like exec form but uses single quotes, which is not JSON: Docker runs it "
            f"through a shell as the command {inst.arguments.split()[0]!r}; write the JSON the author meant",
            (Edit(*span, json.dumps(intended, ensure_ascii=False)),),
            Applicability.UNSAFE,
            inst.start_line,
        )
        return
    inner = split_lines(inst.raw[inst.args_start : inst.args_end])[1:]
    has_comments = any(ln.lstrip(" \t").startswith("#") for ln in inner)

    plain = inst.arguments
    words = plain.split(None, 1)
    if len(words) == 2 and words[0] == "exec":
        plain = words[1]  # `CMD exec app` is `CMD ["app"]`
    if not has_comments:
        argv = exec_argv(plain)
        if argv:
            risk = form_change_risk(ctx, stage, inst, argv, has_cmd=has_cmd)
            applicability = Applicability.UNSAFE if risk else Applicability.SAFE
            caveat = f" ({risk})" if risk else ""
            msg = f"{inst.keyword} in exec form so the app is PID 1 and receives SIGTERM{caveat}"
            yield Fix(ID, msg, (Edit(*span, json.dumps(argv, ensure_ascii=False)),), applicability, inst.start_line)
            return
    text, offset = inst.shell_text()
    script = parse_shell(text)
    at = yield from _exec_point(script, inst.keyword, inst.start_line)
    if at is None:
        return
    if has_comments:
        if at >= 0:
            yield Fix(ID, f"exec the last command of {inst.keyword} so the app replaces the shell as PID 1",
                      (Edit.insert(inst.start + offset + at, "exec "),), Applicability.SAFE, inst.start_line)
        yield Note(ID, f"{inst.keyword} stays in shell form to keep the comments inside it", inst.start_line)
        return
    raw = inst.raw if at < 0 else inst.raw[: offset + at] + "exec " + inst.raw[offset + at :]
    command = inst.with_changes(raw=raw).arguments
    # exactly the argument list the builder makes of a shell-form line (SHELL + text): what the entry
    # point and run-time arguments see does not change, so this is safe for ENTRYPOINT and CMD alike
    exec_form = json.dumps([*(ctx.facts.shell(stage) or ("/bin/sh", "-c")), command], ensure_ascii=False)
    yield Fix(
        ID,
        f"{inst.keyword} in exec form with an explicit shell that execs the app, so it is PID 1 and "
        "receives SIGTERM",
        (Edit(*span, exec_form),),
        Applicability.SAFE,
        inst.start_line,
    )


def _single_quoted_exec_form(arguments: str) -> list[str] | None:
    """``['a', 'b']`` (invalid JSON, so shell form) as the list the author meant, else None."""
    text = arguments.strip()
    if not (text.startswith("[") and text.endswith("]")) or "'" not in text or '"' in text:
        return None
    try:
        value = json.loads(text.replace("'", '"'))
    except ValueError:
        return None
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return value
    return None


def _exec_point(script: Script, what: str, line: int) -> Generator[Note, None, int | None]:
    """Offset where ``exec `` goes in ``script`` (-1: already execs; None: cannot, after a note)."""
    last = script.last_top_level()
    if last is not None and last.name == "exec" and script.is_simple_chain():
        return -1
    if last is None or not script.is_simple_chain():
        yield Note(ID, f"{what} runs a shell wrapper that cannot hand PID 1 to the app; {_TINI}", line)
        return None
    if last.name in _NOT_APPS:
        return None
    if last.name in _NO_EXEC or not last.words[0].is_literal:
        yield Note(ID, f"{what} ends with `{last.name}`, which cannot be exec'd; {_TINI}", line)
        return None
    return last.words[0].start  # after any env prefix: `A=1 exec app` exports A to the app


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
    if not _posix_script(content):
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
        if last.name not in _NOT_APPS:
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


def _posix_script(content: str) -> bool:
    """True when a script's shebang (if any) names a POSIX shell, directly or through env."""
    first = content.split("\n", 1)[0].strip()
    if not first.startswith("#!"):
        return True
    words = first[2:].split()
    if not words:
        return False
    prog = words[0].rsplit("/", 1)[-1]
    if prog == "env":
        prog = next((w for w in words[1:] if not w.startswith("-")), "")
    return prog in _POSIX_SHELLS


def _context_source(ctx: Context, stage: Stage, target: str) -> str | None:
    """The build-context file a stage COPYs to ``target`` (absolute or relative to WORKDIR).

    Later COPYs win. A source is matched as a file (``COPY a.sh /x.sh``, ``COPY a.sh /bin/``)
    or as a folder whose content lands under the destination (``COPY scripts/ ./bin/``).
    """
    workdir = ctx.facts.final(stage).workdir  # the start runs in the stage's last WORKDIR
    if workdir is None and not target.startswith("/"):
        return None
    target_abs = _join(workdir or "/", target)
    copies = [(list(c.sources), c.dest) for c in ctx.facts.context_copies([stage])]
    for srcs, dest in reversed(copies):
        for src in srcs:
            if any(ch in src for ch in "*?[$") or "://" in src:
                continue
            src_rel = posixpath.normpath(src.lstrip("/"))
            candidates = [src_rel] if target_abs == dest else []
            if target_abs.startswith(dest.rstrip("/") + "/"):
                rest = target_abs[len(dest.rstrip("/")) + 1 :]
                candidates.append(_join(src_rel, rest))  # a folder copied into dest
                if posixpath.basename(src_rel) == rest:
                    candidates.append(src_rel)  # a file copied into the folder dest
            for cand in candidates:
                if not cand.startswith("..") and ctx.read_side(cand) is not None:
                    return cand
    return None


TRANSFORM = SignalsTransform()
