"""What the secrets codemod's rewrites share: the stage's RUNs parsed once (``Runs``) and the programs a
RUN runs; the edits that add a mount and the ``# syntax=`` directive, remove a command or one of its
words, drop edits a whole-instruction deletion contains, and wire a secret into the compose files that
build this Dockerfile; and which path names a secret file (``file_row``) and whether the build
context's copy of it holds a credential (``content_confirms``).
"""

from __future__ import annotations

import functools
import posixpath
from collections.abc import Iterator

from rewriter.core.buildsecret import BuildSecret
from rewriter.core.edits import Edit, Note
from rewriter.core.shell import Command
from rewriter.core.syntax import Instruction, Stage
from rewriter.facts import COMPOSE_NAMES, Context
from rewriter.facts.commands import Run
from transforms._data import glob_matcher, load

ID = "secrets"


#: commands that remove a file (a secret's cleanup)
REMOVERS = {"rm", "shred", "unlink"}


def programs(run: Run) -> set[str]:
    """The programs a RUN runs, by name and by path (``python3 x`` also names ``x``)."""
    out = set()
    for c in run.commands:
        names = [c.name, *(c.argv[1:2] if c.name in {"python", "python3", "sudo", "exec", "env"} else [])]
        for n in names:
            out.add(n.rsplit("/", 1)[-1])
            out.add(n)
    return out


class Runs(dict[int, Run]):
    """The stage's RUNs by start offset, read from the facts layer (parsed once per tree)."""

    def __init__(self, ctx: Context, stage: Stage) -> None:
        super().__init__()
        self._facts = ctx.facts.runs
        self._insts = {i.start: i for i in stage.instructions if i.keyword == "RUN"}

    def __missing__(self, start: int) -> Run:
        run = self._facts.run(self._insts[start])
        self[start] = run
        return run


def mount_edit(inst: Instruction, mount: str) -> Edit:
    """Insert `` <mount>`` right after the RUN keyword."""
    return Edit.insert(inst.start + inst.after_keyword, f" {mount}")


def has_mount(inst: Instruction, kind: str, ident: str | None) -> bool:
    return any(m.get("type") == kind and (ident is None or m.get("id") == ident) for m in inst.mounts)


def syntax_note(ctx: Context) -> Iterator[Note]:
    for d in ctx.tree.directives:
        if d.name == "syntax" and d.value.split(":")[-1] in {"1.0", "1.1", "1.0-experimental", "1.1-experimental"}:
            yield Note(ID, f"# syntax={d.value} predates RUN --mount; use docker/dockerfile:1", d.start_line)


def remove_command(run: Run, cmd: Command) -> Edit | None:
    """An edit removing one top-level command (and its connecting operator) from a RUN."""
    assert run.script is not None
    top = [c for c in run.script.commands if c.depth == 0]
    if cmd.depth or cmd.in_pipeline or cmd not in top:
        return None
    i = top.index(cmd)
    if len(top) == 1:
        return Edit.delete(run.inst.start, run.inst.end)
    if i < len(top) - 1:
        if cmd.operator not in {"&&", ";", "\n"}:
            return None
        return Edit.delete(run.pos(cmd.start), run.pos(top[i + 1].start))
    prev = top[i - 1]
    if prev.operator not in {"&&", ";", "\n"}:
        return None
    return Edit.delete(run.pos(prev.end), run.pos(cmd.end))


def remove_word_or_command(run: Run, cmd: Command, paths: set[str], workdir: str) -> Edit | None:
    """Remove the arguments naming ``paths`` from a rm/chmod command, or the whole command."""
    targets = [w for w in cmd.args if not w.text.startswith("-") and join_path(workdir, w.text) in paths]
    operands = [w for w in cmd.args if not w.text.startswith("-")]
    if cmd.name == "chmod":
        operands = operands[1:]
    if not targets:
        return None
    if len(targets) == len(operands):
        return remove_command(run, cmd)
    if len(targets) > 1:
        return None
    w = targets[0]
    start = w.start
    text = run.script.text if run.script else ""
    while start > 0 and text[start - 1] in " \t":
        start -= 1
    return Edit.delete(run.pos(start), run.pos(w.end))


def join_path(base: str, path: str) -> str:
    return posixpath.normpath(posixpath.join(base, path.strip("\"'")))


def compose_edits(ctx: Context, secret: BuildSecret, *, compose: bool = True) -> _SideEdits:
    """Edits wiring ``secret`` into the places that build this file: the compose files of the build
    context, and the other call sites (CI workflows, GitLab CI, scripts, Makefiles, Jenkinsfiles, bake,
    skaffold: :mod:`rewriter.sidefiles.callsites`) in the build context. The list's ``notes`` name the
    call sites left alone (templated, a literal value, above the build context) and ``sites`` lists
    every call site found, changed or left. ``compose=False`` (an SSH agent, which compose files do not
    take) leaves the compose files alone."""
    from rewriter.core.edits import narrow_edit
    from rewriter.sidefiles.callsites import plan

    edits = _SideEdits()
    if ctx.context_dir is None:
        return edits
    dockerfile = ctx.dockerfile or ctx.context_dir / (ctx.path.name if ctx.path else "Dockerfile")
    services: dict[str, list[str]] = {}
    if compose and any((ctx.context_dir / n).is_file() for n in COMPOSE_NAMES):
        # the YAML library is loaded when there is a compose file to read (issue 25: start-up)
        from rewriter.sidefiles.compose import ComposeEditError, add_build_secrets, find_services

        for ref in find_services(ctx.context_dir, dockerfile):
            services.setdefault(ref.file, []).append(ref.service)
    for file, names in services.items():
        old = ctx.read_side(file)
        if old is None:
            continue
        new = old
        for service in names:  # one edit per file, however many services build this Dockerfile
            try:
                new = add_build_secrets(new, service, [secret])
            except ComposeEditError:
                continue
        edit = narrow_edit(old, new, file)
        if edit is not None:
            edits.append(edit)
    texts, edits.sites = plan(ctx.context_dir, dockerfile, [secret], ctx.read_side)
    for rel, new in texts.items():
        edit = narrow_edit(ctx.read_side(rel) or "", new, rel)
        if edit is not None:
            edits.append(edit)
    line = ctx.tree.instructions[0].start_line if ctx.tree.instructions else 0
    edits.notes = [Note(ID, s.describe(), line) for s in edits.sites if s.status == "left"]
    return edits


class _SideEdits(list[Edit]):
    """:func:`compose_edits`' edits, with the call sites found (``sites``) and notes for those left alone."""

    sites: list = []  # noqa: RUF012 - replaced per instance
    notes: list[Note] = []  # noqa: RUF012 - replaced per instance


def file_row(src: str, table: dict) -> dict | None:
    """The secret-file row a source path matches (by its tail), or None."""
    tail = src.strip("\"'").rstrip("/").lower()
    if table is load("secrets"):
        return _file_row_for(tail)
    return _match_file_row(tail, table["files"])  # configuration added rows: not cached


@functools.lru_cache(maxsize=4096)
def _file_row_for(tail: str) -> dict | None:
    return _match_file_row(tail, load("secrets")["files"])


def _match_file_row(tail: str, rows: list[dict]) -> dict | None:
    name = posixpath.basename(tail)
    for row in rows:
        pat = row["pattern"].lower()
        if "/" in pat:
            if tail == pat or tail.endswith("/" + pat):
                return row
        elif glob_matcher(pat)(name):  # fnmatch.fnmatchcase(name, pat), compiled once per pattern
            return row
    return None


def content_confirms(ctx: Context, src: str, row: dict) -> bool | None:
    """True/False when the context file's content confirms/denies a secret; None if unreadable."""
    rel = posixpath.normpath(src.strip("\"'").lstrip("/"))
    content = ctx.read_side(rel) if not rel.startswith("..") else None
    if content is None:
        return None
    markers = row.get("content")
    if not markers:
        return True
    return any(m.lower() in content.lower() for m in markers)


#: programs that read no other tool's credentials file (file, shell and package utilities); a RUN that
#: runs anything else (a script, make, an interpreter) may read the secret, so it gets the mount too
NON_READERS = {
    "apt-get", "apt", "apk", "yum", "dnf", "microdnf", "dpkg", "rpm", "mkdir", "cp", "mv", "ln", "chmod", "chown",
    "chgrp", "rm", "shred", "unlink", "echo", "printf", "touch", "test", "[", "true", "false", "cd", "export",
    "set", "useradd", "groupadd", "adduser", "addgroup", "usermod", "ssh-keyscan", "sed", "grep", "tar", "gzip",
    "gunzip", "unzip", "cat", "ls", "find", "xargs", "tee", "sort", "head", "tail", "wc", "mktemp", "install",
    "update-ca-certificates", "ldconfig", "locale-gen", "rmdir", "sleep", "id", "whoami", "date", "which",
    "ssh-keygen", "chsh", "passwd", "ulimit", "umask", "awk", "cut", "tr", "basename", "dirname",
}  # fmt: skip


def dedupe(edits: list[Edit]) -> list[Edit]:
    out: list[Edit] = []
    for e in sorted(set(edits), key=lambda e: (e.path or "", e.start, e.end)):
        # drop edits contained in a whole-instruction deletion
        if any(o.path == e.path and o.start <= e.start and e.end <= o.end and o != e and not o.content
               and (o.end - o.start) > (e.end - e.start) for o in edits):
            continue
        out.append(e)
    return out
