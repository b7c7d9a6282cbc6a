"""logs — the application logs to stdout/stderr (the container's event stream), not to files.

What it changes (final stage only: the stage that runs the application)
    * Server flags that name a log file (``data/logs.yaml``): gunicorn/hypercorn
      ``--access-logfile``/``--error-logfile``/``--log-file`` get ``-``; celery ``--logfile``, uwsgi
      ``--logto``, Spring Boot ``-Dlogging.file…`` and the like are removed (the program then logs to
      the console), in shell-form and exec-form CMD/ENTRYPOINT (also inside ``sh -c "…"``).
    * Redirects of the start command into files (``>> /var/log/app.log 2>&1``) are removed; the
      command becomes exec form when nothing else needs the shell.
    * ``app > app.log 2>&1 & tail -f app.log`` keep-alives run the app in the foreground instead.
      A daemon kept alive by ``tail -f`` (``service nginx start && tail -f …``) is started in the
      foreground (``nginx -g "daemon off;"``) — unsafe, as the start mechanism changes.
    * Log files named in nginx/httpd configuration copied from the build context, and log files the
      Dockerfile creates with ``touch``, are linked to ``/dev/stdout`` (access) or ``/dev/stderr``
      (errors) in the image, as the official nginx image does.
    * ``ENV`` variables naming a log file (``LOG_FILE=/var/log/app.log``) point at ``/dev/stdout``.
    * supervisord configuration in the context: its own log goes to ``/dev/stdout``
      (``logfile_maxbytes=0``), edited in the config file (shown as a second file in the diff).
    * Logging configuration files the image copies from the build context (directly or in a copied
      folder) that write to files are rewritten as side files, everything else byte for byte: Python
      ``fileConfig`` INI (file handlers -> ``StreamHandler`` on ``sys.stdout``/``sys.stderr``), logback
      and log4j2 XML (file appenders -> console appenders, layouts kept), php.ini ``error_log`` ->
      ``/dev/stderr``, Python ``dictConfig`` YAML/JSON (``transforms/_logconfig.py``). A file name decided
      by a template is left, with a note.
    * Python apps get ``ENV PYTHONUNBUFFERED=1``; Rails apps ``RAILS_LOG_TO_STDOUT=1``.
    * ``VOLUME /var/log`` is removed — unsafe: the volume may be used for something else.

When it refuses (a note, unchanged)
    * Several processes in one container (supervisord with two or more programs, several
      ``service … start``, a keep-alive ``tail -f`` after more than one command): one application
      per container — the note says so.
    * Log paths given by variables or relative to a server prefix; images without a shell
      (distroless, scratch) where links cannot be created; Windows stages.

Fix safety
    **Safe**: the same program runs and writes the same lines; they go to the container's output
    instead of a file inside it. The exceptions marked **unsafe** are listed above.
"""

from __future__ import annotations

import json
import posixpath
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass

from rewriter.core.edits import Applicability, Edit, Fix, Note
from rewriter.core.shell import Command, needs_shell, parse_shell
from rewriter.core.syntax import Instruction, Stage, split_lines
from rewriter.facts import Context, parse_image
from rewriter.facts.start import exec_argv, shell_c
from transforms import _logconfig
from transforms._base import Codemod
from transforms._data import first_match, matches_any, merged
from transforms._startline import form_change_risk

ID = "logs"


class LogsTransform(Codemod):
    id = ID
    description = "Send application logs to stdout/stderr instead of files inside the container."

    def run(self, ctx: Context) -> Iterator[Fix | Note]:
        stage = ctx.final_stage
        if stage is None or ctx.is_windows(stage):
            return
        table = merged("logs", ctx.config.tables.get("logs"))
        base = parse_image(ctx.resolved_base(stage))
        has_shell = ctx.base_image(stage).has_shell
        linked = _linked(ctx, stage) | set((first_match(table["prelinked"], base) or {}).get("files", []))
        for keyword in ("ENTRYPOINT", "CMD"):
            inst = stage.last(keyword)
            if inst is not None and not (keyword == "CMD" and _shell_entrypoint(stage)):
                yield from _entry(ctx, stage, inst, table)
        yield from _config_files(ctx, stage, table, linked, has_shell)
        yield from _logging_configs(ctx)
        yield from _touched(stage, linked)
        yield from _env_paths(ctx, stage, table)
        yield from _volumes(stage)
        yield from _framework_env(ctx, stage, table)


def _shell_entrypoint(stage: Stage) -> bool:
    ep = stage.last("ENTRYPOINT")
    return ep is not None and not ep.is_json


# --------------------------------------------------------------------------- CMD / ENTRYPOINT


def _is_console(value: str, table: dict) -> bool:
    v = value.strip("\"'")
    return v in table["console_values"] or v.startswith(("syslog:", "/dev/", "/proc/self/fd/", "&"))


def _flag_rows(program: str, table: dict) -> list[dict]:
    prog = program.rsplit("/", 1)[-1]
    return [row for row in table["flags"] if prog in row["programs"]]


def _log_file_ops(argv: list[str], table: dict) -> list[tuple[int, int, list[str]]]:
    """Where the flag table changes an argument vector: (first index, end index, replacement words)."""
    rows = _flag_rows(argv[0], table) if argv else []
    if argv and argv[0].rsplit("/", 1)[-1] in {"python", "python3"} and "-m" in argv[:3]:
        rows = _flag_rows(argv[argv.index("-m") + 1], table) if argv.index("-m") + 1 < len(argv) else []
    ops: list[tuple[int, int, list[str]]] = []
    i = 0
    while rows and i < len(argv):
        name, eq, value = argv[i].partition("=")
        row = next((r for r in rows if name in r["flags"]), None)
        if row is None:
            i += 1
            continue
        has_value = bool(eq) or (i + 1 < len(argv) and not name.startswith("-D"))
        value = value if eq else (argv[i + 1] if has_value and i + 1 < len(argv) else "")
        step = 1 if eq or name.startswith("-D") else 2
        if name == "--daemonize" or not _is_console(value, table):
            replacement = ([f"{name}=-"] if eq else [name, "-"]) if row["to"] == "-" else []
            ops.append((i, min(i + step, len(argv)), replacement))
        i += step
    return ops


def _argv_without_log_files(argv: list[str], table: dict) -> list[str]:
    """Apply the flag table to an argument vector (exec form)."""
    out = list(argv)
    for start, end, replacement in reversed(_log_file_ops(argv, table)):
        out[start:end] = replacement
    return out


@dataclass(frozen=True)
class _Rewrite:
    """A start command without log files; ``unsafe`` when a daemon now runs in the foreground, and
    ``tailed`` the log files it still writes (linked to the output, as `tail -f` showed them)."""

    text: str
    unsafe: bool = False
    tailed: tuple[str, ...] = ()


def _entry(ctx: Context, stage: Stage, inst: Instruction, table: dict) -> Iterator[Fix | Note]:
    nl = ctx.tree.newline
    span = (inst.start + inst.args_start, inst.start + inst.args_end)
    rewrite: _Rewrite | None = None
    if inst.is_json:
        argv = list(inst.exec_args or ())
        inner = shell_c(argv)
        if inner is not None:
            rewrite, notes = _script_without_log_files(inner, table, inst)
            yield from notes
            if rewrite is None:
                return
            # the shell stays when the command still needs it (``$PORT``); a plain command runs without it
            new = (_exec_form(rewrite.text) if len(argv) == 3 else None) or [*argv[:2], rewrite.text, *argv[3:]]
        else:
            new = _argv_without_log_files(argv, table)
        if new == argv:
            return
        text = json.dumps(new, ensure_ascii=False)
    else:
        if inst.heredocs or "\n" in inst.raw[inst.args_start : inst.args_end].rstrip("\n"):
            return  # multi-line shell commands keep their layout; signals/exec handle them
        rewrite, notes = _script_without_log_files(inst.arguments, table, inst)
        yield from notes
        if rewrite is None or rewrite.text == inst.arguments:
            return
        argv = _exec_form(rewrite.text)
        cmd = stage.last("CMD")
        has_cmd = cmd is not None and not (cmd.is_json and not cmd.exec_args)
        if argv and form_change_risk(ctx, stage, inst, argv, has_cmd=has_cmd):
            argv = None  # the form stays: changing it would change what the entry point does (signals says so)
        text = json.dumps(argv, ensure_ascii=False) if argv else rewrite.text
    edits = [Edit(*span, text)]
    if rewrite is not None and rewrite.tailed:  # the daemon still writes them: link them to the output
        edits.append(Edit.insert(inst.start, _links_run([(p, "stdout") for p in rewrite.tailed], nl)))
    unsafe = rewrite is not None and rewrite.unsafe
    yield Fix(ID, f"{inst.keyword} logs to the container's output instead of files"
              + (" (the daemon now runs in the foreground: check its start options)" if unsafe else ""),
              tuple(edits), Applicability.UNSAFE if unsafe else Applicability.SAFE, inst.start_line)


def _exec_form(command: str) -> list[str] | None:
    """The command as an argument vector, or None when it needs a shell (the facts layer decides)."""
    return exec_argv(command)


def _script_without_log_files(
    script_text: str, table: dict, inst: Instruction
) -> tuple[_Rewrite | None, list[Note]]:
    """The start command with log-file flags, file redirects and ``tail -f`` keep-alives removed.

    Returns (the rewrite, or None when unchanged or refused; notes).
    """
    script = parse_shell(script_text)
    if script.has_error:
        return None, []
    notes: list[Note] = []
    top = [c for c in script.commands if c.depth == 0]
    tail = top[-1] if top and top[-1].name == "tail" and any(a.text in {"-f", "-F", "--follow"}
                                                             for a in top[-1].args) else None
    if tail is not None:
        return _keep_alive(top, tail, table, inst)
    if len([c for c in top if c.name == "service"]) >= 2:
        notes.append(Note(ID, f"{inst.keyword} starts several services: run one application per container, "
                              "each logging to stdout", inst.start_line))
        return None, notes
    edits: list[tuple[int, int, str]] = []
    for cmd in script.commands:
        edits += _flag_edits(script_text, cmd, table)
        edits += _redirect_edits(script_text, cmd, table)
    if not edits:
        return None, notes
    return _Rewrite(_apply(script_text, edits)), notes


def _apply(text: str, edits: list[tuple[int, int, str]]) -> str:
    out = text
    for s, e, c in sorted(edits, reverse=True):
        out = out[:s] + c + out[e:]
    return out.strip()


def _flag_edits(text: str, cmd: Command, table: dict) -> list[tuple[int, int, str]]:
    """Edits of the shell text for the log-file flags of ``cmd``; every other word keeps its own
    spelling (``0.0.0.0:$PORT`` stays an expansion)."""
    edits = []
    for first, end, replacement in _log_file_ops(list(cmd.argv), table):
        start, stop = cmd.words[first].start, cmd.words[end - 1].end
        if not replacement:
            while start > 0 and text[start - 1] in " \t":
                start -= 1
        edits.append((start, stop, " ".join(a if a == "-" else shlex.quote(a) for a in replacement)))
    return edits


def _redirect_edits(text: str, cmd: Command, table: dict) -> list[tuple[int, int, str]]:
    file_redirects = [r for r in cmd.redirects if r.op in {">", ">>", "&>", "&>>"} and r.target is not None
                      and not _is_console(r.target.text, table)]
    if not file_redirects:
        return []
    edits = []
    for r in cmd.redirects:
        dup = r.op == ">&" and r.target is not None and r.target.text == "1" and r.fd == 2
        if r in file_redirects or dup:
            s = r.start
            while s > 0 and text[s - 1] in " \t":
                s -= 1
            edits.append((s, r.end, ""))
    return edits


def _keep_alive(
    top: list[Command], tail: Command, table: dict, inst: Instruction
) -> tuple[_Rewrite | None, list[Note]]:
    before = top[:-1]
    if len(before) != 1:
        return None, [Note(ID, f"{inst.keyword} keeps the container alive with `tail -f` after several commands: "
                               "run one application per container in the foreground, logging to stdout",
                           inst.start_line)]
    app = before[0]
    daemon = app.argv[1] if app.name == "service" and len(app.argv) >= 3 and app.argv[2] == "start" else app.name
    daemon = daemon.rsplit("/", 1)[-1]
    if app.operator == "&":
        command = " ".join(w.raw for w in app.words)
        if not app.words or needs_shell(command):
            return None, []
        return _Rewrite(command), []
    if daemon in table["foreground"]:
        files = [a.text for a in tail.args if not a.text.startswith("-") and _is_log_path(a.text)]
        command = " ".join(shlex.quote(a) for a in table["foreground"][daemon])
        return _Rewrite(command, unsafe=True, tailed=tuple(files)), []
    return None, [Note(ID, f"{inst.keyword} starts `{daemon}` and keeps the container alive with `tail -f`: run "
                           "the application in the foreground so its logs and exit reach the container",
                       inst.start_line)]


# --------------------------------------------------------------------------- files in the image


def _linked(ctx: Context, stage: Stage) -> set[str]:
    """Paths a RUN of the stage already links to /dev/stdout or /dev/stderr."""
    out: set[str] = set()
    for run in ctx.facts.runs.of(stage):
        for cmd in run.commands:
            if cmd.name == "ln" and len(cmd.args) >= 2:
                args = [a.text for a in cmd.args if not a.text.startswith("-")]
                if len(args) == 2 and args[0].startswith(("/dev/std", "/proc/self/fd/")):
                    out.add(args[1])
    return out


def _links_run(paths: list[tuple[str, str]], nl: str) -> str:
    dirs = sorted({posixpath.dirname(p) for p, _ in paths})
    parts = [f"mkdir -p {' '.join(shlex.quote(d) for d in dirs)}"] if dirs else []
    parts += [f"ln -sf /dev/{stream} {shlex.quote(p)}" for p, stream in paths]
    return "RUN " + " \\\n && ".join(parts).replace("\n", nl) + nl


def _config_files(ctx: Context, stage: Stage, table: dict, linked: set[str], has_shell: bool) -> Iterator[Fix | Note]:
    nl = ctx.tree.newline
    for inst in stage.instructions:
        if inst.keyword not in {"COPY", "ADD"} or inst.flag("from") or inst.heredocs or inst.is_json:
            continue
        words = list(inst.argv)
        found: list[tuple[str, str]] = []
        for src in words[:-1]:
            rel = posixpath.normpath(src.lstrip("/"))
            if rel.startswith("..") or any(ch in rel for ch in "*?[$"):
                continue
            content = ctx.read_side(rel)
            if content is None:
                continue
            if re.search(r"(?m)^\s*\[supervisord\]", content):
                yield from _supervisord(ctx, rel, content, inst)
                continue
            found += _config_logs(content, table)
        paths = [(p, s) for p, s in dict.fromkeys(found) if p not in linked]
        if not paths:
            continue
        if not has_shell:
            yield Note(ID, f"configuration copied at line {inst.start_line} logs to files, and the image has no shell "
                           "to link them to /dev/stdout: point the configuration at /dev/stdout and /dev/stderr",
                       inst.start_line)
            continue
        linked.update(p for p, _ in paths)
        yield Fix(ID, "log files named in the copied configuration are linked to the container's output: "
                      + ", ".join(f"{p} -> /dev/{s}" for p, s in paths),
                  (_insert_after(inst, _links_run(paths, nl), nl),),
                  Applicability.SAFE, inst.start_line)


#: files that may hold a logging configuration (the content decides: see transforms/_logconfig.py)
_LOGCONFIG_SUFFIXES = (".ini", ".conf", ".cfg", ".xml", ".yaml", ".yml", ".json")


def _logging_configs(ctx: Context) -> Iterator[Fix | Note]:
    """Logging configuration files of the build context that an image copies (directly, or in a copied
    folder: ``src/main/resources/logback.xml`` of a Java build too) and that write to files."""
    if ctx.context_dir is None:
        return
    copies = list(ctx.facts.context_copies(ctx.tree.stages))
    if not copies:
        return  # nothing of the context is copied: no walk of it
    from rewriter.sidefiles import dockerignore

    key = f"{ID}:config-candidates"
    if key not in ctx.memo:  # the walk of the build context is the same in every round
        ctx.memo[key] = dockerignore.find_files(ctx.context_dir, lambda rel: rel.endswith(_LOGCONFIG_SUFFIXES),
                                                max_depth=6, max_files=5000)
    candidates: list[str] = ctx.memo[key]  # type: ignore[assignment]
    done: set[str] = set()
    for copy in copies:
        for src in copy.sources:
            rel = posixpath.normpath(src.lstrip("/"))
            if rel.startswith("..") or any(ch in rel for ch in "*?["):
                continue
            inside_src = [c for c in candidates if rel in {".", c} or c.startswith(rel.rstrip("/") + "/")]
            for f in inside_src:
                if f in done:
                    continue
                done.add(f)
                text = ctx.read_side(f)
                kind = _logconfig.kind_of(f, text) if text is not None else None
                if kind is None or text is None:
                    continue
                spans, what = _logconfig.rewrite(kind, text)
                if spans is None:
                    if "template" in what:
                        yield Note(ID, f"{f}: {what}", copy.inst.start_line)
                    continue
                yield Fix(ID, f"{f} logs to the container's output instead of files: {what}",
                          tuple(Edit(s, e, new, f) for s, e, new in spans), Applicability.SAFE, copy.inst.start_line)


def _insert_after(inst: Instruction, text: str, nl: str) -> Edit:
    """Insert whole lines after ``inst``, keeping a missing final newline missing."""
    if inst.raw.endswith("\n"):
        return Edit.insert(inst.end, text)
    return Edit.insert(inst.end, nl + text[: -len(nl)])


def _config_logs(content: str, table: dict) -> list[tuple[str, str]]:
    out = []
    for row in table["config_directives"]:
        for m in re.finditer(rf"(?m)^\s*{re.escape(row['directive'])}\s+(\"[^\"]+\"|\S+)", content):
            value = m.group(1).strip('"').rstrip(";")
            if value.startswith("/") and "$" not in value and not _is_console(value, table) and "|" not in value:
                out.append((value, row["stream"]))
    return out


def _supervisord(ctx: Context, rel: str, content: str, inst: Instruction) -> Iterator[Fix | Note]:
    programs = re.findall(r"(?m)^\s*\[program:([^\]]+)\]", content)
    if len(programs) >= 2:
        yield Note(ID, f"supervisord runs {len(programs)} programs ({', '.join(programs)}): one application per "
                       "container, each logging to stdout", inst.start_line)
    lines = split_lines(content)
    section = ""
    edits: list[Edit] = []
    pos = 0
    seen_maxbytes = False
    sup_end = None
    nl = "\r\n" if "\r\n" in content else "\n"
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("["):
            if section == "supervisord" and sup_end is None:
                sup_end = pos
            section = stripped.strip("[]").strip()
        elif section == "supervisord":
            key, eq, value = stripped.partition("=")
            key = key.strip()
            if eq and key == "logfile" and value.strip() not in {"/dev/stdout", "/dev/fd/1"}:
                edits.append(Edit(pos, pos + len(line.rstrip("\r\n")), "logfile=/dev/stdout", rel))
            elif eq and key == "logfile_maxbytes":
                seen_maxbytes = True
                if value.strip() != "0":
                    edits.append(Edit(pos, pos + len(line.rstrip("\r\n")), "logfile_maxbytes=0", rel))
        pos += len(line)
    if section == "supervisord" and sup_end is None:
        sup_end = pos
    if not any(e.content == "logfile=/dev/stdout" for e in edits) and not re.search(
            r"(?m)^\s*logfile\s*=\s*/dev/(stdout|fd/1)", content):
        # no logfile line: supervisord's default is a file in its cwd — add one
        at = _section_body_start(content, "supervisord")
        if at is not None:
            edits.append(Edit.insert(at, f"logfile=/dev/stdout{nl}", rel))
    if not seen_maxbytes and edits:
        at = _section_body_start(content, "supervisord")
        if at is not None:
            edits.append(Edit.insert(at, f"logfile_maxbytes=0{nl}", rel))
    if not edits:
        return
    merged = _merge_same_point(edits)
    yield Fix(ID, f"supervisord's own log goes to the container's output ({rel}: logfile=/dev/stdout, "
                  "logfile_maxbytes=0)", tuple(merged), Applicability.SAFE, inst.start_line)


def _merge_same_point(edits: list[Edit]) -> list[Edit]:
    out: dict[tuple[int, int, str | None], str] = {}
    for e in edits:
        key = (e.start, e.end, e.path)
        out[key] = out.get(key, "") + e.content if e.start == e.end else e.content
    return [Edit(s, e, c, p) for (s, e, p), c in sorted(out.items(), key=lambda kv: kv[0][:2])]


def _section_body_start(content: str, name: str) -> int | None:
    m = re.search(rf"(?m)^\s*\[{re.escape(name)}\][^\n]*\n", content)
    return m.end() if m else None


def _touched(stage: Stage, linked: set[str]) -> Iterator[Fix]:
    """``touch /var/log/app.log`` -> ``ln -sf /dev/stdout /var/log/app.log``."""
    for inst in stage.instructions:
        if inst.keyword != "RUN" or inst.is_json or inst.heredocs:
            continue
        text, offset = inst.shell_text()
        for cmd in parse_shell(text).commands:
            if cmd.name != "touch" or not cmd.args or any(a.text.startswith("-") for a in cmd.args):
                continue
            files = [a.text for a in cmd.args]
            if not all(_is_log_path(f) and f not in linked for f in files):
                continue
            links = " && ".join(f"ln -sf /dev/{'stderr' if 'err' in posixpath.basename(f) else 'stdout'} "
                                f"{shlex.quote(f)}" for f in files)
            yield Fix(ID, f"log file{'s' if len(files) > 1 else ''} {', '.join(files)} created by RUN linked to the "
                          "container's output instead",
                      (Edit(inst.start + offset + cmd.start, inst.start + offset + cmd.end, links),),
                      Applicability.SAFE, inst.start_line)


def _is_log_path(path: str) -> bool:
    return path.startswith("/") and "$" not in path and (path.endswith(".log") or path.startswith("/var/log/"))


def _env_paths(ctx: Context, stage: Stage, table: dict) -> Iterator[Fix]:
    for inst in stage.instructions:
        if inst.keyword != "ENV":
            continue
        values = ctx.facts.scopes.after(inst).env  # the values it sets, expanded (facts layer)
        for w in inst.words:  # the words: where an edit goes
            name, eq, _value = w.text.partition("=")
            if not eq or not matches_any(name.upper(), table["env_names"]):
                continue
            v = values.get(name) or ""
            if not _is_log_path(v) or _is_console(v, table):
                continue
            stream = "stderr" if "ERR" in name.upper() else "stdout"
            yield Fix(ID, f"{name} points at /dev/{stream} so the app's log file is the container's output",
                      (Edit(inst.start + w.start, inst.start + w.end, f"{name}=/dev/{stream}"),),
                      Applicability.SAFE, inst.start_line)


def _volumes(stage: Stage) -> Iterator[Fix]:
    for inst in stage.instructions:
        if inst.keyword != "VOLUME":
            continue
        values = list(inst.exec_args) if inst.exec_args is not None else [w.text for w in inst.words]
        logs = [v for v in values if v.rstrip("/") == "/var/log" or v.startswith("/var/log/")]
        if logs and len(logs) == len(values):
            yield Fix(ID, f"VOLUME {' '.join(logs)} removed: logs go to the container's output (unsafe: the "
                          "volume may also hold other files)", (Edit.delete(inst.start, inst.end),),
                      Applicability.UNSAFE, inst.start_line)


def _framework_env(ctx: Context, stage: Stage, table: dict) -> Iterator[Fix]:
    words: set[str] = set()
    env = set(ctx.facts.final(stage).env)  # ENV names in force (the stages it is built FROM included)
    for inst in stage.instructions:
        if inst.keyword in {"CMD", "ENTRYPOINT"}:
            for w in inst.exec_args or inst.arguments.split():
                words.update(posixpath.basename(x) for x in w.split())
    base = parse_image(ctx.resolved_base(stage))
    wanted: dict[str, str] = {}
    for row in table["unbuffered"] + table["framework_env"]:
        image_hit = matches_any(base.short_name, row.get("images", []))
        if words & set(row["markers"]) or (env & set(row["markers"])) or image_hit:
            wanted.update({k: v for k, v in row["env"].items() if k not in env})
    if not wanted:
        return
    frm = stage.from_instruction
    line = "ENV " + " ".join(f"{k}={v}" for k, v in wanted.items()) + ctx.tree.newline
    at = frm.end
    text = line if ctx.text[:at].endswith("\n") else ctx.tree.newline + line.rstrip("\r\n")
    yield Fix(ID, f"{', '.join(f'{k}={v}' for k, v in wanted.items())}: log lines reach the container's output "
                  "as they are written", (Edit.insert(at, text),), Applicability.SAFE, frm.start_line)


TRANSFORM = LogsTransform()
