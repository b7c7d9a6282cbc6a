"""secrets — build-time secrets reach RUN as BuildKit mounts and never land in a layer.

What it changes
    * ``COPY``/``ADD`` of a secret file (``.npmrc``, ``.netrc``, ``pip.conf`` with credentials,
      maven ``settings.xml`` with passwords, composer ``auth.json``, … — ``data/secrets.yaml``):
      the COPY (or just that source) is removed, so is its cleanup (``rm``/``shred`` of the copied
      path), and each RUN between them that runs a program reading the file gets
      ``--mount=type=secret,id=<id>,target=<where it was copied>,required=true``.
    * ``ARG``/``ENV`` whose name holds a secret (``*TOKEN*``, ``*PASSWORD*``, ``*SECRET*`` …) or
      whose value interpolates one: the declaration is removed and the RUNs that use the variable
      (by name, or by running a tool that reads it from the environment) get
      ``--mount=type=secret,id=<id>,required=true`` and ``export NAME="$(cat /run/secrets/<id>)" &&``
      in front of their command. (BuildKit's ``env=`` mount option is not used: buildah and
      BuildKit before dockerfile 1.10 do not know it; the ``export`` form builds with all.)
    * A copied private SSH key: the COPY, its ``chmod`` and its cleanup are removed; RUNs that
      fetch over SSH (``git`` with ``git@``/``ssh://`` URLs, ``go mod download``, ``bundle``,
      ``composer`` …) get ``--mount=type=ssh``. ``ssh-keyscan`` lines stay.
    * ``# syntax=docker/dockerfile:1`` is added as the first line when mounts are introduced.
    * ``COPY . .`` while secret-looking files in the build context are not excluded: they are
      added to ``.dockerignore`` (created if needed), shown in the diff as a second file (unsafe).
    * Compose files in the build context that build this Dockerfile get ``build.secrets`` and a
      top-level ``secrets`` entry for each new secret (round trip: comments and order survive).
    * The messages say how to build now (``docker build --secret id=npmrc,src=.npmrc .``).

When it refuses (a note, file unchanged)
    * The secret is read by the application at run time (a runtime-kind file left in the final
      stage, a secret variable used by CMD/ENTRYPOINT or by no RUN): runtime secrets belong to the
      orchestrator, so only a suggestion is given.
    * A generic key/certificate name (``*.pem``, ``*.key``, ``*.json``) whose content cannot be
      checked because the file is not in the build context; a file that is in the context and
      holds no credential marker is not a secret at all.
    * The secret is used in a way that cannot be mounted: exec-form or heredoc RUNs, cleanup
      inside a pipeline or ``||``, variables used outside RUN (``LABEL``, ``FROM``), JSON-form COPY.
    * A RUN writes a secret variable into a file that outlives that RUN.

Fix safety
    **Safe** when every use is found and mounted: the build reads the same bytes at the same
    path; only the layers stop holding them. A copied file's uses are every RUN between the COPY and
    its cleanup that runs a program that reads it, or anything that might (a script from the build
    context, ``make``, an interpreter: only known file and package utilities are passed over), so a
    consumer hidden in ``sh install-deps.sh`` still gets the mount. A COPY whose file no RUN reads is
    never removed, and the folder it created (``/root/.ssh``) is kept with ``RUN mkdir -p`` when a
    later step may write into it. **Unsafe**: a file whose content could not be checked, a secret
    copied into a final stage without a cleanup (the app may read it at run time) and the
    ``.dockerignore`` exclusion (a RUN after ``COPY .`` or the app may read the file from the tree).
    The build now needs ``--secret``/``--ssh`` flags, which every message and the compose wiring
    spell out. Never prints a secret's value: messages
    name files and variables only.
"""

from __future__ import annotations

import fnmatch
import functools
import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from rewriter.core.edits import Applicability, Edit, Fix, Note
from rewriter.core.shell import Command
from rewriter.core.syntax import Instruction, Stage
from rewriter.facts import COMPOSE_NAMES, Context
from rewriter.facts.commands import Run, runs_unknown_code
from transforms._base import Codemod
from transforms._data import load, merged

ID = "secrets"


@dataclass(frozen=True)
class _Secret:
    """A build secret to wire into compose files (turned into rewriter.sidefiles.compose.BuildSecret)."""

    id: str
    file: str | None = None
    environment: str | None = None
_REMOVERS = {"rm", "shred", "unlink"}
#: commands that store their arguments in a file that outlives the RUN
_PERSISTING = {
    ("git", "config"): "~/.gitconfig",
    ("npm", "config"): "~/.npmrc",
    ("yarn", "config"): "~/.yarnrc",
    ("pip", "config"): "pip.conf",
    ("pip3", "config"): "pip.conf",
    ("poetry", "config"): "poetry's config.toml",
    ("composer", "config"): "composer's config.json",
    ("dotnet", "nuget"): "NuGet.Config",
    ("nuget", "sources"): "NuGet.Config",
    ("docker", "login"): "~/.docker/config.json",
    ("helm", "registry"): "helm's registry config",
    ("gh", "auth"): "gh's hosts.yml",
}


def _programs(run: Run) -> set[str]:
    """The programs a RUN runs, by name and by path (``python3 x`` also names ``x``)."""
    out = set()
    for c in run.commands:
        names = [c.name, *(c.argv[1:2] if c.name in {"python", "python3", "sudo", "exec", "env"} else [])]
        for n in names:
            out.add(n.rsplit("/", 1)[-1])
            out.add(n)
    return out


class _Runs(dict[int, Run]):
    """The stage's RUNs by start offset, read from the facts layer (parsed once per tree)."""

    def __init__(self, ctx: Context, stage: Stage) -> None:
        super().__init__()
        self._facts = ctx.facts.runs
        self._insts = {i.start: i for i in stage.instructions if i.keyword == "RUN"}

    def __missing__(self, start: int) -> Run:
        run = self._facts.run(self._insts[start])
        self[start] = run
        return run


@dataclass
class _Change:
    """The edits of one secret's rewrite, built up and then emitted as one Fix."""

    edits: list[Edit] = field(default_factory=list)
    mounted: set[int] = field(default_factory=set)


class SecretsTransform(Codemod):
    id = ID
    description = "Move build secrets (files, ARG/ENV, SSH keys) into BuildKit secret/ssh mounts."

    def run(self, ctx: Context) -> Iterator[Fix | Note]:
        table = merged("secrets", ctx.config.tables.get("secrets"))
        for stage in ctx.tree.stages:
            if ctx.is_windows(stage):
                continue
            runs = _Runs(ctx, stage)
            yield from _file_secrets(ctx, stage, runs, table)
            yield from _variable_secrets(ctx, stage, runs, table)
        yield from _context_leak(ctx, table)


# --------------------------------------------------------------------------- shared edits


def _mount_edit(inst: Instruction, mount: str) -> Edit:
    """Insert `` <mount>`` right after the RUN keyword."""
    return Edit.insert(inst.start + inst.after_keyword, f" {mount}")


def _has_mount(inst: Instruction, kind: str, ident: str | None) -> bool:
    return any(m.get("type") == kind and (ident is None or m.get("id") == ident) for m in inst.mounts)


def _syntax_edit(ctx: Context) -> list[Edit]:
    if any(d.name == "syntax" for d in ctx.tree.directives):
        return []
    return [Edit.insert(len(ctx.tree.bom), "# syntax=docker/dockerfile:1" + ctx.tree.newline)]


def _syntax_note(ctx: Context) -> Iterator[Note]:
    for d in ctx.tree.directives:
        if d.name == "syntax" and d.value.split(":")[-1] in {"1.0", "1.1", "1.0-experimental", "1.1-experimental"}:
            yield Note(ID, f"# syntax={d.value} predates RUN --mount; use docker/dockerfile:1", d.start_line)


def _remove_command(run: Run, cmd: Command) -> Edit | None:
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


def _remove_word_or_command(run: Run, cmd: Command, paths: set[str], workdir: str) -> Edit | None:
    """Remove the arguments naming ``paths`` from a rm/chmod command, or the whole command."""
    targets = [w for w in cmd.args if not w.text.startswith("-") and _join(workdir, w.text) in paths]
    operands = [w for w in cmd.args if not w.text.startswith("-")]
    if cmd.name == "chmod":
        operands = operands[1:]
    if not targets:
        return None
    if len(targets) == len(operands):
        return _remove_command(run, cmd)
    if len(targets) > 1:
        return None
    w = targets[0]
    start = w.start
    text = run.script.text if run.script else ""
    while start > 0 and text[start - 1] in " \t":
        start -= 1
    return Edit.delete(run.pos(start), run.pos(w.end))


def _join(base: str, path: str) -> str:
    return posixpath.normpath(posixpath.join(base, path.strip("\"'")))


def _compose_edits(ctx: Context, secret: _Secret) -> list[Edit]:
    """Edits wiring ``secret`` into the compose files in the build context that build this file."""
    if ctx.context_dir is None or not any((ctx.context_dir / n).is_file() for n in COMPOSE_NAMES):
        return []
    from rewriter.sidefiles.compose import ComposeEditError, add_build_secrets, find_services, narrow_edit

    dockerfile = ctx.dockerfile or ctx.context_dir / (ctx.path.name if ctx.path else "Dockerfile")
    services: dict[str, list[str]] = {}
    for ref in find_services(ctx.context_dir, dockerfile):
        services.setdefault(ref.file, []).append(ref.service)
    edits: list[Edit] = []
    for file, names in services.items():
        old = ctx.read_side(file)
        if old is None:
            continue
        new = old
        for service in names:  # one edit per file, however many services build this Dockerfile
            try:
                new = add_build_secrets(new, service, [_to_compose(secret)])
            except ComposeEditError:
                continue
        edit = narrow_edit(old, new, file)
        if edit is not None:
            edits.append(edit)
    return edits


def _to_compose(secret: _Secret):
    from rewriter.sidefiles.compose import BuildSecret

    return BuildSecret(secret.id, file=secret.file, environment=secret.environment)


# --------------------------------------------------------------------------- secret files


def _file_row(src: str, table: dict) -> dict | None:
    """The secret-file row a source path matches (by its tail), or None."""
    tail = src.strip("\"'").rstrip("/").lower()
    if table is load("secrets"):
        return _file_row_for(tail)
    return _match_file_row(tail, table["files"])  # configuration added rows: not cached


@functools.lru_cache(maxsize=4096)
def _file_row_for(tail: str) -> dict | None:
    return _match_file_row(tail, load("secrets")["files"])


def _match_file_row(tail: str, rows: list[dict]) -> dict | None:
    for row in rows:
        pat = row["pattern"].lower()
        if "/" in pat:
            if tail == pat or tail.endswith("/" + pat):
                return row
        elif fnmatch.fnmatchcase(posixpath.basename(tail), pat):
            return row
    return None


def _confirmed(ctx: Context, src: str, row: dict) -> bool | None:
    """True/False when the context file's content confirms/denies a secret; None if unreadable."""
    rel = posixpath.normpath(src.strip("\"'").lstrip("/"))
    content = ctx.read_side(rel) if not rel.startswith("..") else None
    if content is None:
        return None
    markers = row.get("content")
    if not markers:
        return True
    return any(m.lower() in content.lower() for m in markers)


def _copy_words(inst: Instruction) -> list[tuple[str, int, int]] | None:
    """(text, start, end) of a COPY's source/destination words, offsets in raw; None for JSON form."""
    if inst.is_json:
        return None
    return [(text, w.start, w.end) for text, w in zip(inst.argv, inst.words, strict=True)]


def _file_secrets(ctx: Context, stage: Stage, runs: _Runs, table: dict) -> Iterator[Fix | Note]:
    insts = stage.instructions
    workdirs = {"/"} | {ctx.facts.workdir_at(i) or "" for i in insts if i.keyword == "WORKDIR"}
    for idx, inst in enumerate(insts):
        if inst.keyword not in {"COPY", "ADD"} or inst.flag("from") or inst.heredocs:
            continue
        words = _copy_words(inst)
        srcs = words[:-1] if words and len(words) >= 2 else []
        for src, w_start, w_end in srcs:
            row = _file_row(src, table)
            if row is None and len(srcs) == 1 and not words[-1][0].endswith("/"):
                row = _file_row(words[-1][0], table)  # COPY .npmrc-ci .npmrc
            if row is None:
                continue
            if words is None:
                yield Note(ID, f"COPY in JSON form copies secret file {src}; move it to a secret mount by hand",
                           inst.start_line)
                continue
            confirmed = _confirmed(ctx, src, row)
            if confirmed is False:
                continue
            generic = row["pattern"].startswith("*")
            if confirmed is None and generic:
                yield Note(ID, f"{src} may hold a private key or credentials but is not in the build context, so "
                               "it could not be checked; if it is a secret, mount it instead of copying it",
                           inst.start_line)
                continue
            dest = words[-1][0]
            workdir = ctx.facts.workdir_at(inst)
            if workdir is None and not dest.startswith("/"):
                yield Note(ID, f"secret file {src} is copied into a WORKDIR set from a variable whose value is not "
                               "in the Dockerfile; move it to a secret mount by hand", inst.start_line, refusal=True)
                continue
            target = _target(src, dest, workdir or "/", len(srcs), workdirs)
            verified = confirmed is True or not row.get("content")
            yield from _rewrite_file(ctx, stage, runs, table, idx, inst, (src, w_start, w_end), len(srcs),
                                     target, row, verified)


def _target(src: str, dest: str, workdir: str, n_srcs: int, workdirs: set[str]) -> str:
    """Where a COPY puts ``src``: into ``dest`` when it is a folder (``dest/``, several sources, ``.``, a
    WORKDIR of the stage), else at ``dest``."""
    dest_abs = _join(workdir, dest)
    base = posixpath.basename(src.strip("\"'").rstrip("/"))
    if n_srcs > 1 or dest.endswith("/") or dest in {".", "./"} or dest_abs in workdirs:
        return _join(dest_abs, base)
    if posixpath.basename(dest_abs) == base or "." in posixpath.basename(dest_abs):
        return dest_abs
    return _join(dest_abs, base)


def _rewrite_file(
    ctx: Context,
    stage: Stage,
    runs: _Runs,
    table: dict,
    idx: int,
    copy: Instruction,
    word: tuple[str, int, int],
    n_srcs: int,
    target: str,
    row: dict,
    verified: bool,
) -> Iterator[Fix | Note]:
    src = word[0]
    src_rel = posixpath.normpath(src.strip("\"'").lstrip("/"))
    is_ssh = bool(row.get("ssh"))
    used_by = set(row.get("used_by") or [])
    change = _Change()
    users: list[Run] = []
    cleanup_found = False
    blocked: str | None = None
    workdir_at_copy = ctx.facts.workdir_at(copy) or "/"
    for later in stage.instructions[idx + 1 :]:
        workdir = ctx.facts.workdir_at(later)
        if workdir is None:
            blocked = f"a WORKDIR after it (line {later.start_line}) is set from a variable not known here"
            break
        if later.keyword in {"COPY", "ADD"} and _copies_over(later, target, workdir):
            break  # replaced by another copy: our rewrite ends here
        if later.keyword != "RUN":
            continue
        run = runs[later.start]
        if run.script is None:
            if src_rel.rsplit("/", 1)[-1] in later.raw:
                blocked = "a heredoc or exec-form RUN uses it"
            continue
        uses = bool(_programs(run) & used_by) or (is_ssh and _uses_ssh(run, table)) or _opaque(run, table, row)
        removal: list[Edit] = []
        for cmd in run.script.commands:
            if cmd.name in _REMOVERS or (is_ssh and cmd.name == "chmod"):
                edit = _remove_word_or_command(run, cmd, {target}, workdir)
                if edit is not None:
                    removal.append(edit)
                    if cmd.name in _REMOVERS:
                        cleanup_found = True
                elif any(_join(workdir, w.text) == target for w in cmd.args):
                    blocked = f"its cleanup `{cmd.name}` is inside a pipeline or `||` chain"
        deleting_whole = any(e.start == later.start and e.end == later.end for e in removal)
        if uses and not deleting_whole:
            users.append(run)
        change.edits.extend(removal)
        if cleanup_found:
            break
    final = ctx.is_final(stage)
    if blocked:
        yield Note(ID, f"secret file {src} is copied into the image but {blocked}; move it to a secret mount by hand",
                   copy.start_line, refusal=True)
        return
    if not users and not cleanup_found:
        if row.get("runtime") and final:
            yield Note(ID, f"{src} stays in the final image, so the app may read it at run time: runtime secrets "
                           "belong to the orchestrator (a Kubernetes Secret, docker run --secret), not the image",
                       copy.start_line)
        else:
            yield Note(ID, f"secret file {src} is copied into the image and no RUN here reads it; remove the COPY, "
                           "or mount it on the RUN that needs it", copy.start_line)
        return
    if not users:
        yield Note(ID, f"secret file {src} is copied and removed again but no RUN in between reads it; remove "
                       "both by hand", copy.start_line)
        return
    # the COPY (or just this source of it); a folder it created stays for the steps after it
    if n_srcs == 1:
        parent = posixpath.dirname(target)
        made = parent in _ALWAYS_THERE or parent == workdir_at_copy or _made_before(stage, runs, idx, parent)
        keep = "" if made else parent
        ending = copy.raw[len(copy.raw.rstrip("\r\n")):]
        change.edits.append(Edit(copy.start, copy.end, f"RUN mkdir -p {keep}{ending}") if keep
                            else Edit.delete(copy.start, copy.end))
    else:
        s = word[1]
        while s > 0 and copy.raw[s - 1] in " \t":
            s -= 1
        change.edits.append(Edit.delete(copy.start + s, copy.start + word[2]))
    if is_ssh:
        mount, build = "--mount=type=ssh", "--ssh default"
        ident = "ssh"
    else:
        ident = row["id"]
        mount = f"--mount=type=secret,id={ident},target={target},required=true"
        build = f"--secret id={ident},src={src_rel}"
    for run in users:
        if not _has_mount(run.inst, "ssh" if is_ssh else "secret", None if is_ssh else ident):
            change.edits.append(_mount_edit(run.inst, mount))
    change.edits.extend(_syntax_edit(ctx))
    if not is_ssh:
        change.edits.extend(_compose_edits(ctx, _Secret(ident, file=src_rel)))
    what = "SSH key" if is_ssh else "secret file"
    lines = ", ".join(str(r.inst.start_line) for r in users)
    msg = (f"{what} {src} no longer lands in a layer: mounted on RUN at line(s) {lines}; "
           f"build with `docker build {build} .`")
    if not verified:
        msg += (f" (unsafe: {src} is not in the build context, so its content could not be checked; it may hold "
                "no credential at all)")
    stays = final and not cleanup_found
    if stays:
        msg += (f" (unsafe: {src} stayed in the final image, so the app may read it at run time; give it the file "
                "from the orchestrator if so)")
    yield from _syntax_note(ctx)
    yield Fix(ID, msg, tuple(_dedupe(change.edits)),
              Applicability.SAFE if verified and not stays else Applicability.UNSAFE,
              copy.start_line, build_flags=(build,))


#: folders every Linux base image has: a COPY into them created nothing that must be kept
_ALWAYS_THERE = {"/", "/root", "/etc", "/tmp", "/usr", "/usr/local", "/usr/local/bin", "/usr/local/etc", "/var",
                 "/home", "/usr/share"}
#: programs that read no other tool's credentials file (file, shell and package utilities); a RUN that
#: runs anything else (a script, make, an interpreter) may read the secret, so it gets the mount too
_NON_READERS = {
    "apt-get", "apt", "apk", "yum", "dnf", "microdnf", "dpkg", "rpm", "mkdir", "cp", "mv", "ln", "chmod", "chown",
    "chgrp", "rm", "shred", "unlink", "echo", "printf", "touch", "test", "[", "true", "false", "cd", "export",
    "set", "useradd", "groupadd", "adduser", "addgroup", "usermod", "ssh-keyscan", "sed", "grep", "tar", "gzip",
    "gunzip", "unzip", "cat", "ls", "find", "xargs", "tee", "sort", "head", "tail", "wc", "mktemp", "install",
    "update-ca-certificates", "ldconfig", "locale-gen", "rmdir", "sleep", "id", "whoami", "date", "which",
    "ssh-keygen", "chsh", "passwd", "ulimit", "umask", "awk", "cut", "tr", "basename", "dirname",
}  # fmt: skip
_INTERPRETERS = {"python", "python3", "node", "ruby", "perl", "php", "sh", "bash", "make", "java"}


def _made_before(stage: Stage, runs: _Runs, idx: int, folder: str) -> bool:
    """Whether a RUN before instruction ``idx`` makes ``folder`` with ``mkdir`` (absolute paths only)."""
    for inst in stage.instructions[:idx]:
        if inst.keyword != "RUN":
            continue
        run = runs[inst.start]
        if run.script is not None and any(
            c.name.rsplit("/", 1)[-1] == "mkdir" and folder in {a.rstrip("/") for a in c.argv[1:]}
            for c in run.script.commands
        ):
            return True
    return False


_KNOWN: list[tuple[dict, frozenset[str]]] = []


def _known_programs(table: dict) -> frozenset[str]:
    """Programs whose reads are known (file and package utilities, every secret file's consumers),
    interpreters excepted; built once per secrets table (the last table's set is kept)."""
    if _KNOWN and _KNOWN[0][0] is table:
        return _KNOWN[0][1]
    known = set(_NON_READERS)
    for other in table["files"]:
        known |= set(other.get("used_by") or [])
    result = frozenset(known - _INTERPRETERS)
    _KNOWN[:] = [(table, result)]
    return result


def _opaque(run: Run, table: dict, row: dict) -> bool:
    """Whether the RUN runs a program that may read the secret without being known to (a script from
    the context, ``make``, an interpreter, a tool not in any table)."""
    assert run.script is not None
    known = _known_programs(table) - set(row.get("used_by") or [])
    for cmd in run.script.commands:
        name = cmd.name.rsplit("/", 1)[-1]
        if name and name not in known and not name.startswith("$"):
            return True
    return False


def _dedupe(edits: list[Edit]) -> list[Edit]:
    out: list[Edit] = []
    for e in sorted(set(edits), key=lambda e: (e.path or "", e.start, e.end)):
        # drop edits contained in a whole-instruction deletion
        if any(o.path == e.path and o.start <= e.start and e.end <= o.end and o != e and not o.content
               and (o.end - o.start) > (e.end - e.start) for o in edits):
            continue
        out.append(e)
    return out


def _copies_over(inst: Instruction, target: str, workdir: str) -> bool:
    words = _copy_words(inst)
    if not words or len(words) < 2:
        return False
    return _join(workdir, words[-1][0]) == target


def _uses_ssh(run: Run, table: dict) -> bool:
    assert run.script is not None
    conf = table["ssh_users"]
    for cmd in run.script.commands:
        prog = cmd.name.rsplit("/", 1)[-1]
        if prog in conf["always"]:
            return True
        if prog in conf["with_ssh_url"] and any(m in w.text for w in cmd.args for m in conf["url_markers"]):
            return True
        if prog in conf["fetchers"] and len(cmd.argv) > 1 and cmd.argv[1] in {
            "mod", "get", "install", "ci", "update", "download"
        }:
            return True
    return False


# --------------------------------------------------------------------------- ARG / ENV


def _secret_name(name: str, table: dict) -> bool:
    up = name.upper()
    if any(fnmatch.fnmatchcase(up, p) for p in table["variable_exceptions"]):
        return False
    return any(fnmatch.fnmatchcase(up, p) for p in table["variable_patterns"])


@dataclass
class _Decl:
    inst: Instruction
    name: str
    word_start: int  # offsets in raw of the declaring word
    word_end: int
    n_words: int
    value: str | None


def _declarations(inst: Instruction) -> list[_Decl]:
    out = []
    words = inst.words
    if inst.keyword == "ENV" and len(words) >= 2 and "=" not in words[0].text:
        # legacy `ENV NAME value with spaces`
        return [_Decl(inst, words[0].text, words[0].start, words[-1].end, 1, " ".join(w.text for w in words[1:]))]
    for w in words:
        name, eq, value = w.text.partition("=")
        out.append(_Decl(inst, name, w.start, w.end, len(words), value if eq else None))
    return out


def _references(text: str, name: str) -> bool:
    """Does ``text`` expand variable ``name`` (``$NAME`` or ``${NAME...}``)?"""
    return re.search(r"\$(?:\{" + re.escape(name) + r"\b|" + re.escape(name) + r"(?![A-Za-z0-9_]))", text) is not None


def _variable_secrets(ctx: Context, stage: Stage, runs: _Runs, table: dict) -> Iterator[Fix | Note]:
    globals_ = [i for i in ctx.tree.instructions if i.keyword == "ARG" and i.start < ctx.tree.stages[0].start_line
                and i.start < ctx.tree.stages[0].from_instruction.start]
    decls: dict[str, list[_Decl]] = {}
    for inst in stage.instructions:
        if inst.keyword in {"ARG", "ENV"}:
            for d in _declarations(inst):
                decls.setdefault(d.name, []).append(d)
    secret: dict[str, list[_Decl]] = {}
    for name, ds in decls.items():
        if _secret_name(name, table):
            secret[name] = ds
    # ENV X=$SECRET: X carries the secret too
    for name, ds in decls.items():
        if name not in secret and any(d.value and any(_references(d.value, s) for s in secret) for d in ds):
            secret[name] = ds
    for name, ds in secret.items():
        yield from _rewrite_variable(ctx, stage, runs, table, name, ds, globals_)


def _rewrite_variable(
    ctx: Context,
    stage: Stage,
    runs: _Runs,
    table: dict,
    name: str,
    decls: list[_Decl],
    globals_: list[Instruction],
) -> Iterator[Fix | Note]:
    first = decls[0].inst
    after = [i for i in stage.instructions if i.start > first.start]
    if any(d.value and "$" not in d.value for d in decls):
        yield Note(ID, f"{name} has a value written in the Dockerfile itself: it is in version control; rotate it",
                   first.start_line)
    # uses outside RUN (other than the declarations themselves) block the rewrite
    for inst in after:
        if inst.keyword in {"RUN", "ARG"}:
            continue
        if inst.keyword == "ENV" and any(d.inst is inst for d in decls):
            continue
        if _references(inst.raw, name):
            if inst.keyword in {"CMD", "ENTRYPOINT", "ENV"}:
                yield Note(ID, f"{name} is used at run time ({inst.keyword}): runtime secrets belong to the "
                               "orchestrator, not the image; pass it when the container starts", inst.start_line)
            else:
                yield Note(ID, f"{name} is used by {inst.keyword}, which cannot read a secret mount; left unchanged",
                           inst.start_line, refusal=True)
            return
    # a RUN uses the variable when it expands it, or names it (os.environ['NAME'], process.env.NAME)
    named = re.compile(r"(?<![A-Za-z0-9_])" + re.escape(name) + r"(?![A-Za-z0-9_])")
    explicit = [runs[i.start] for i in after if i.keyword == "RUN" and (_references(i.raw, name)
                                                                           or named.search(i.raw))]
    consumers = _consumers(name, table)
    users = explicit or [runs[i.start] for i in after if i.keyword == "RUN" and runs[i.start].script is not None
                         and _programs(runs[i.start]) & consumers]
    if users:
        # a RUN that runs code this view cannot read (a script, make, an interpreter on a file) may read the
        # variable from its environment: it keeps it, through the mount
        users += [runs[i.start] for i in after if i.keyword == "RUN" and runs[i.start] not in users
                  and runs[i.start].script is not None and _runs_unknown_code(runs[i.start])]
        users.sort(key=lambda r: r.inst.start)
    blocked = [r for r in users if r.script is None]
    if blocked:
        yield Note(ID, f"{name} is used by a heredoc or exec-form RUN at line {blocked[0].inst.start_line}; "
                       "move it to a secret mount by hand", blocked[0].inst.start_line, refusal=True)
        return
    if not users:
        yield from _unused_variable(ctx, stage, runs, name, decls, after)
        return
    ssh = _ssh_key_variable(ctx, stage, runs, table, name, decls, globals_, after, users)
    if ssh is not None:
        yield from ssh
        return
    appended: list[tuple[Run, str]] = []
    for r in users:
        leak = _written_to_file(r, name)
        if leak and _removable_config(r, leak, after, runs):
            appended.append((r, leak))
        elif leak:
            yield Note(ID, f"RUN at line {r.inst.start_line} writes {name} into {leak}, which stays in the layer; "
                           "a mount would not help until that file is removed in the same RUN (or, for an SSH "
                           "key, replaced by `--mount=type=ssh`): left unchanged", r.inst.start_line, refusal=True)
            return
    ident = name.lower()
    edits: list[Edit] = []
    for r, leak in appended:
        last = r.script.last_top_level() if r.script is not None else None
        assert last is not None
        edits.append(Edit.insert(r.pos(last.end), f" && rm -f {leak}"))
    for d in decls:
        edits.append(_remove_decl(d))
    for g in globals_:
        for d in _declarations(g):
            if d.name == name:
                edits.append(_remove_decl(d))
    for r in users:
        if not _has_mount(r.inst, "secret", ident):
            edits.append(_mount_edit(r.inst, f"--mount=type=secret,id={ident},required=true"))
        edits.append(Edit.insert(r.inst.start + r.inst.args_start, f'export {name}="$(cat /run/secrets/{ident})" && '))
    edits.extend(_syntax_edit(ctx))
    edits.extend(_compose_edits(ctx, _Secret(ident, environment=name)))
    lines = ", ".join(str(r.inst.start_line) for r in users)
    kind = "/".join(sorted({d.inst.keyword for d in decls}))
    yield from _syntax_note(ctx)
    written = ""
    if appended:
        files = ", ".join(sorted({leak for _r, leak in appended}))
        written = (f"; the RUN that writes it into {files} now removes that file before its layer ends (unsafe: "
                   "nothing later in the image can read that file)")
    yield Fix(
        ID,
        f"{kind} {name} no longer lands in the image history: a secret mount on RUN at line(s) {lines}; "
        f"build with `docker build --secret id={ident},env={name} .`{written}",
        tuple(_dedupe(edits)),
        Applicability.UNSAFE if appended else Applicability.SAFE,
        first.start_line,
        build_flags=(f"--secret id={ident},env={name}",),
    )


_KEY_FILE = re.compile(r"(?:^|/)\.ssh/(?:id_[a-z0-9_]+|[A-Za-z0-9._-]*key[A-Za-z0-9._-]*)$")


def _home(path: str) -> str:
    """``~/.ssh/id_rsa`` and ``$HOME/.ssh/id_rsa`` as the root user's absolute path."""
    for lead in ("~/", "$HOME/", "${HOME}/"):
        if path.startswith(lead):
            return "/root/" + path[len(lead):]
    return path


def _ssh_key_variable(
    ctx: Context, stage: Stage, runs: _Runs, table: dict, name: str, decls: list[_Decl],
    globals_: list[Instruction], after: list[Instruction], users: list[Run],
) -> Iterator[Fix | Note] | None:
    """``ARG SSH_PRIVATE_KEY`` + ``echo "$SSH_PRIVATE_KEY" > ~/.ssh/id_rsa``: the key is written into a
    layer (and the build argument into the history). Rewritten: the declaration and the commands that
    write, chmod and remove the key file go, and every RUN from there that fetches over SSH gets
    ``--mount=type=ssh`` (the build's SSH agent; the key never touches a layer). None when the
    variable is not written into an SSH key file."""
    key = None
    for r in users:
        leak = _written_to_file(r, name)
        if leak and _KEY_FILE.search(_home(leak)):
            key = _home(leak)
            break
    if key is None:
        return None
    return _ssh_key_rewrite(ctx, stage, runs, table, name, decls, globals_, after, key)


def _ssh_key_rewrite(
    ctx: Context, stage: Stage, runs: _Runs, table: dict, name: str, decls: list[_Decl],
    globals_: list[Instruction], after: list[Instruction], key: str,
) -> Iterator[Fix | Note]:
    edits: list[Edit] = [_remove_decl(d) for d in decls]
    for g in globals_:
        edits += [_remove_decl(d) for d in _declarations(g) if d.name == name]
    mounted: list[Run] = []
    for inst in after:
        workdir = ctx.facts.workdir_at(inst) or "/"
        if inst.keyword != "RUN":
            continue
        run = runs[inst.start]
        if run.script is None:
            if name in inst.raw or key.rsplit("/", 1)[-1] in inst.raw:
                yield Note(ID, f"{name} (an SSH key) is used by a heredoc or exec-form RUN at line {inst.start_line}; "
                               "move it to `--mount=type=ssh` by hand", inst.start_line, refusal=True)
                return
            continue
        removal: list[Edit] = []
        cleaned = False
        for cmd in run.script.commands:
            prog = cmd.name.rsplit("/", 1)[-1]
            names_key = any(_home(w.text) == key for w in cmd.args) or any(
                r.target is not None and _home(r.target.text) == key for r in cmd.redirects)
            if prog in {"ssh-agent", "ssh-add"} or (prog == "eval" and "ssh-agent" in " ".join(cmd.argv)):
                yield Note(ID, f"RUN at line {inst.start_line} starts its own ssh-agent for {name}; with "
                               "`--mount=type=ssh` the build's agent serves the key: move it by hand",
                           inst.start_line, refusal=True)
                return
            expands = any(_references(w.raw, name) for w in cmd.words)
            sole_operand = len([a for a in cmd.args if not a.text.startswith("-")]) == 1
            if expands or (names_key and prog in {"chmod", "chown", "touch"}) or (
                    names_key and prog in _REMOVERS and sole_operand):
                if expands and not names_key:
                    yield Note(ID, f"RUN at line {inst.start_line} uses {name} for more than writing the key file; "
                                   "move it to `--mount=type=ssh` by hand", inst.start_line, refusal=True)
                    return
                edit = _remove_command(run, cmd)
                if edit is None:
                    yield Note(ID, f"the key file command `{prog}` at line {inst.start_line} is inside a pipeline "
                                   "or `||` chain; move the key to `--mount=type=ssh` by hand", inst.start_line,
                               refusal=True)
                    return
                removal.append(edit)
                cleaned |= prog in _REMOVERS
            elif names_key and prog in _REMOVERS:
                edit = _remove_word_or_command(run, cmd, {key}, workdir)
                if edit is not None:
                    removal.append(edit)
                    cleaned = True
        whole = any(e.start == inst.start and e.end == inst.end for e in removal)
        edits += removal
        if not whole and _uses_ssh(run, table) and not _has_mount(inst, "ssh", None):
            edits.append(_mount_edit(inst, "--mount=type=ssh"))
            mounted.append(run)
        if cleaned:
            break
    if not mounted:
        yield Note(ID, f"{name} (an SSH key) is written to {key} but no later RUN here fetches over SSH; remove the "
                       "key by hand", decls[0].inst.start_line, refusal=True)
        return
    edits.extend(_syntax_edit(ctx))
    lines = ", ".join(str(r.inst.start_line) for r in mounted)
    yield from _syntax_note(ctx)
    yield Fix(
        ID,
        f"the SSH key in {name} is no longer written into a layer nor the image history: RUN at line(s) {lines} "
        f"fetch through `--mount=type=ssh`; build with `docker build --ssh default .` (an agent holding the key, "
        f"or `--ssh default=$HOME/.ssh/id_rsa`) instead of passing {name} (unsafe: the build command changes)",
        tuple(_dedupe(edits)),
        Applicability.UNSAFE,
        decls[0].inst.start_line,
        build_flags=("--ssh default",),
    )


#: credential files a RUN may write a token into and read in the same RUN (basename)
_CONFIG_FILES = {".npmrc", ".yarnrc", ".yarnrc.yml", "pip.conf", ".pypirc", ".netrc", "NuGet.Config",
                 "nuget.config", "NuGet.config", "settings.xml", ".gitconfig", ".git-credentials", "auth.json",
                 "config.json"}


def _removable_config(run: Run, leak: str, after: list[Instruction], runs: _Runs) -> bool:
    """A token written into a tool's credentials file (.npmrc, pip.conf, NuGet.Config …) by a RUN that is
    a plain ``&&`` chain and used there, with no later RUN that may read the file: the same RUN can
    remove it before its layer ends."""
    if run.script is None or not run.script.is_simple_chain() or "$" in leak:
        return False
    if leak.rsplit("/", 1)[-1] not in _CONFIG_FILES or _KEY_FILE.search(_home(leak)):
        return False
    commands = [c for c in run.script.commands if c.depth == 0]
    writer = next((k for k, c in enumerate(commands) if any(
        r.target is not None and r.target.text == leak for r in c.redirects) or tuple(c.argv[:2]) in _PERSISTING),
        None)
    if writer is None or not any(c.name.rsplit("/", 1)[-1] not in _NON_READERS for c in commands[writer + 1:]):
        return False  # the same RUN does not use the file after writing it
    # a later RUN that runs anything but file and package utilities may read the file (git, go, npm …)
    later = [runs[i.start] for i in after if i.keyword == "RUN" and i.start > run.inst.start]
    return all(r.script is not None and all(c.name.rsplit("/", 1)[-1] in _NON_READERS for c in r.script.commands)
               for r in later)


def _runs_unknown_code(run: Run) -> bool:
    """Does the RUN run code whose reads are not seen (the facts layer's one answer)?"""
    return any(runs_unknown_code(c) for c in run.commands)


def _unused_variable(ctx: Context, stage: Stage, runs: _Runs, name: str, decls: list[_Decl],
                     after: list[Instruction]) -> Iterator[Fix | Note]:
    """A secret variable no step uses: an ARG (or a builder's ENV) is removed, so its value stops landing
    in the image history; an ENV with a literal value in the final stage is removed from the image's
    configuration (the orchestrator passes it). Unsafe: code that reads it without naming it loses it."""
    first = decls[0].inst
    final_env = any(d.inst.keyword == "ENV" for d in decls) and ctx.is_final(stage)
    literal = all(d.value and "$" not in d.value for d in decls if d.inst.keyword == "ENV")
    opaque = [i for i in after if i.keyword == "RUN" and (runs[i.start].script is None
                                                          or _runs_unknown_code(runs[i.start]))]
    if (final_env and not literal) or opaque:
        why = ("so the app may read it at run time: runtime secrets belong to the orchestrator, not the image"
               if final_env else f"but the RUN at line {opaque[0].start_line} runs code that may read it; if "
               "it does, mount it as a secret (`RUN --mount=type=secret`), otherwise remove the declaration")
        yield Note(ID, f"{name} looks like a secret and no RUN names it, {why}", first.start_line)
        return
    kind = "/".join(sorted({d.inst.keyword for d in decls}))
    if final_env:
        msg = (f"ENV {name} holds a literal secret in the image's configuration: removed (unsafe: the app must now "
               f"get {name} from the orchestrator, e.g. `docker run -e {name}` or a Kubernetes Secret; rotate it)")
    else:
        msg = (f"{kind} {name} looks like a secret and no step uses it: removed, so its value no longer lands in "
               "the image history (unsafe: a step that reads it without naming it would lose it)")
    yield Fix(ID, msg, tuple(_dedupe([_remove_decl(d) for d in decls])), Applicability.UNSAFE, first.start_line)


def _consumers(name: str, table: dict) -> set[str]:
    up = name.upper()
    for row in table["env_prefix_consumers"]:
        if any(up.startswith(p) for p in row["prefixes"]):
            return set(row["programs"])
    return set(table["env_consumers"])


def _remove_decl(d: _Decl) -> Edit:
    """Delete one declaration: the whole ARG/ENV, or its word and the space up to the next one."""
    if d.n_words <= 1:
        return Edit.delete(d.inst.start, d.inst.end)
    words = d.inst.words
    i = next(k for k, w in enumerate(words) if w.start == d.word_start)
    if i + 1 < len(words):
        return Edit.delete(d.inst.start + d.word_start, d.inst.start + words[i + 1].start)
    return Edit.delete(d.inst.start + words[i - 1].end, d.inst.start + d.word_end)


def _written_to_file(run: Run, name: str) -> str | None:
    """A file a RUN writes the variable into and does not remove in the same RUN."""
    assert run.script is not None
    written = []
    for cmd in run.script.commands:
        if any(_references(w.raw, name) for w in cmd.words):
            for r in cmd.redirects:
                if r.op in {">", ">>"} and r.target is not None:
                    written.append(r.target.text)
        if any(_references(w.raw, name) for w in cmd.words) and tuple(cmd.argv[:2]) in _PERSISTING:
            written.append(_PERSISTING[tuple(cmd.argv[:2])])
    removed = {w.text for c in run.script.commands if c.name in _REMOVERS for w in c.args}
    leaks = [f for f in written if f not in removed and not f.startswith("/dev/")]
    return leaks[0] if leaks else None


# --------------------------------------------------------------------------- build context


def _context_leak(ctx: Context, table: dict) -> Iterator[Fix | Note]:
    """``COPY . .`` with secret-looking files in the context that .dockerignore does not exclude."""
    if ctx.context_dir is None:
        return
    copies_all = [i for i in ctx.tree.instructions if i.keyword in {"COPY", "ADD"} and not i.flag("from")
                  and any(w.text.strip("\"'") in {".", "./"} for w in i.words[:-1])]
    if not copies_all:
        return
    from rewriter.sidefiles import dockerignore

    def wanted(rel: str) -> bool:
        row = _file_row(rel, table)
        if row is None:
            return False
        return _confirmed(ctx, rel, row) is not False

    key = f"{ID}:context-secrets"
    if key not in ctx.memo:  # the walk of the build context is the same in every round
        ctx.memo[key] = dockerignore.find_files(ctx.context_dir, wanted)
    found: list[str] = ctx.memo[key]  # type: ignore[assignment]
    original = ctx.read_side(".dockerignore")
    patterns = dockerignore.parse(original or "")
    missing = [p for p in found if not dockerignore.is_excluded(p, patterns)]
    if not missing:
        return
    new = dockerignore.extend(original, missing, "\r\n" if original and "\r\n" in original else "\n")
    if new == (original or ""):
        return
    edit = Edit(0, len(original or ""), new, ".dockerignore") if original is None else _append_edit(original, new)
    names = ", ".join(missing[:5]) + (" …" if len(missing) > 5 else "")
    yield Fix(ID, f"`COPY .` at line {copies_all[0].start_line} would send {names} into the image: excluded in "
                  ".dockerignore (unsafe: a RUN after the COPY, or the app at run time, may read it from the "
                  "copied tree; give a build step a secret mount, and the app the file from the orchestrator, e.g. "
                  "`docker run --env-file`)", (edit,), Applicability.UNSAFE, copies_all[0].start_line)


def _append_edit(original: str, new: str) -> Edit:
    if new.startswith(original):
        return Edit.insert(len(original), new[len(original):], ".dockerignore")
    return Edit(0, len(original), new, ".dockerignore")


TRANSFORM = SecretsTransform()
