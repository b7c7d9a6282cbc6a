"""Secret files for the secrets codemod: a ``COPY``/``ADD`` of ``.npmrc``, ``.netrc``, a private SSH key
… is removed with its cleanup, and every RUN in between that reads the file (or may: a script, ``make``,
an interpreter) gets a secret mount at the path it was copied to (``--mount=type=ssh`` for a key); a
folder the COPY created is kept when a later step may write into it.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from rewriter.core.buildsecret import BuildSecret
from rewriter.core.edits import Applicability, Edit, Fix, Note
from rewriter.core.syntax import Instruction, Stage
from rewriter.facts import Context
from rewriter.facts.commands import Run
from transforms.secrets.shared import (
    ID,
    NON_READERS,
    REMOVERS,
    Runs,
    compose_edits,
    content_confirms,
    dedupe,
    file_row,
    has_mount,
    join_path,
    mount_edit,
    programs,
    remove_word_or_command,
    syntax_note,
)
from transforms.secrets.ssh import uses_ssh


@dataclass
class _Change:
    """The edits of one secret's rewrite, built up and then emitted as one Fix."""

    edits: list[Edit] = field(default_factory=list)
    mounted: set[int] = field(default_factory=set)


def _copy_words(inst: Instruction) -> list[tuple[str, int, int]] | None:
    """(text, start, end) of a COPY's source/destination words, offsets in raw; None for JSON form."""
    if inst.is_json:
        return None
    return [(text, w.start, w.end) for text, w in zip(inst.argv, inst.words, strict=True)]


def file_secrets(ctx: Context, stage: Stage, runs: Runs, table: dict) -> Iterator[Fix | Note]:
    insts = stage.instructions
    workdirs = {"/"} | {ctx.facts.workdir_at(i) or "" for i in insts if i.keyword == "WORKDIR"}
    for idx, inst in enumerate(insts):
        if inst.keyword not in {"COPY", "ADD"} or inst.flag("from") or inst.heredocs:
            continue
        words = _copy_words(inst)
        srcs = words[:-1] if words and len(words) >= 2 else []
        for src, w_start, w_end in srcs:
            row = file_row(src, table)
            if row is None and len(srcs) == 1 and not words[-1][0].endswith("/") and not _TEMPLATE.search(src):
                row = file_row(words[-1][0], table)  # COPY .npmrc-ci .npmrc (not COPY .env.example .env)
            if row is None:
                continue
            if words is None:
                yield Note(ID, f"COPY in JSON form copies secret file {src}; move it to a secret mount by hand",
                           inst.start_line)
                continue
            confirmed = content_confirms(ctx, src, row)
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


#: a template a project ships for its settings (``.env.example``, ``config.sample``): no value in it is a secret
_TEMPLATE = re.compile(r"[._-](?:example|sample|template|dist|defaults?|tpl)$", re.IGNORECASE)


def _target(src: str, dest: str, workdir: str, n_srcs: int, workdirs: set[str]) -> str:
    """Where a COPY puts ``src``: into ``dest`` when it is a folder (``dest/``, several sources, ``.``, a
    WORKDIR of the stage), else at ``dest``."""
    dest_abs = join_path(workdir, dest)
    base = posixpath.basename(src.strip("\"'").rstrip("/"))
    if n_srcs > 1 or dest.endswith("/") or dest in {".", "./"} or dest_abs in workdirs:
        return join_path(dest_abs, base)
    if posixpath.basename(dest_abs) == base or "." in posixpath.basename(dest_abs):
        return dest_abs
    return join_path(dest_abs, base)


def _rewrite_file(
    ctx: Context,
    stage: Stage,
    runs: Runs,
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
        written = _writer(run, target, workdir)
        if written:
            blocked = (f"RUN at line {later.start_line} writes it ({written}), and a secret mount is read-only; "
                       "the app then reads what the build wrote")
            break
        uses = bool(programs(run) & used_by) or (is_ssh and uses_ssh(run, table, ctx)) or _opaque(run, table, row)
        removal: list[Edit] = []
        for cmd in run.script.commands:
            if cmd.name in REMOVERS or (is_ssh and cmd.name == "chmod"):
                edit = remove_word_or_command(run, cmd, {target}, workdir)
                if edit is not None:
                    removal.append(edit)
                    if cmd.name in REMOVERS:
                        cleanup_found = True
                elif any(join_path(workdir, w.text) == target for w in cmd.args):
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
        mount, needs = "--mount=type=ssh", BuildSecret.ssh()
    else:
        ident = row["id"]
        mount = f"--mount=type=secret,id={ident},target={target},required=true"
        needs = BuildSecret(ident, file=src_rel)
    build = needs.flag
    for run in users:
        if not has_mount(run.inst, needs.kind, None if is_ssh else needs.id):
            change.edits.append(mount_edit(run.inst, mount))
    side = compose_edits(ctx, needs, compose=not is_ssh)
    change.edits.extend(side)
    what = "SSH key" if is_ssh else "secret file"
    lines = ", ".join(str(r.inst.start_line) for r in users)
    msg = (f"{what} {src} no longer lands in a layer: mounted on RUN at line(s) {lines}; unsafe: the build "
           f"command changes, build with `docker build {build} .`")
    if not verified:
        msg += (f" (unsafe: {src} is not in the build context, so its content could not be checked; it may hold "
                "no credential at all)")
    stays = final and not cleanup_found
    if stays:
        msg += (f" (unsafe: {src} stayed in the final image, so the app may read it at run time; give it the file "
                "from the orchestrator if so)")
    yield from syntax_note(ctx)
    yield from side.notes  # the call sites left alone, by name
    # a new build flag is a new build command: never applied by a safe run (the CI that builds with the
    # original command would fail), so the fix is unsafe whatever else is known
    yield Fix(ID, msg, tuple(dedupe(change.edits)), Applicability.UNSAFE, copy.start_line,
              build_secrets=(needs,))


#: folders every Linux base image has: a COPY into them created nothing that must be kept
_ALWAYS_THERE = {"/", "/root", "/etc", "/tmp", "/usr", "/usr/local", "/usr/local/bin", "/usr/local/etc", "/var",
                 "/home", "/usr/share"}


_INTERPRETERS = {"python", "python3", "node", "ruby", "perl", "php", "sh", "bash", "make", "java"}


def _writer(run: Run, target: str, workdir: str) -> str | None:
    """How a RUN writes the file ``target`` (a redirection, ``sed -i``, ``tee``, ``cp``…, Laravel's
    ``artisan key:generate`` into the ``.env`` beside it), or None."""
    from rewriter.facts.startuse import writes_of

    for cmd in run.commands:
        for path, _is_dir, how in writes_of(cmd, workdir):
            if path == target:
                return how
        words = [w.text for w in cmd.words]
        if "artisan" in {posixpath.basename(w) for w in words} and "key:generate" in words and \
                target == join_path(workdir, ".env"):
            return "artisan key:generate"
    return None


def _made_before(stage: Stage, runs: Runs, idx: int, folder: str) -> bool:
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
    known = set(NON_READERS)
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


def _copies_over(inst: Instruction, target: str, workdir: str) -> bool:
    words = _copy_words(inst)
    if not words or len(words) < 2:
        return False
    return join_path(workdir, words[-1][0]) == target
