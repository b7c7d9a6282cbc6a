"""Secret variables for the secrets codemod: an ARG/ENV whose name holds a secret (or whose value
interpolates one) is removed and the RUNs that use it get a secret mount and ``export NAME=...`` in front
of their command; a secret variable no step uses is removed; a token written into a tool's credentials
file is removed before its layer ends; a variable written into an SSH key file is rewritten by ``ssh``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from rewriter.core.buildsecret import BuildSecret
from rewriter.core.edits import Applicability, Edit, Fix, Note
from rewriter.core.syntax import Instruction, Stage
from rewriter.facts import Context
from rewriter.facts.commands import Run, runs_unknown_code
from transforms._data import matches_any
from transforms.secrets.declarations import PERSISTING, Decl, declarations, references, remove_decl, written_to_file
from transforms.secrets.shared import (
    ID,
    NON_READERS,
    Runs,
    compose_edits,
    dedupe,
    has_mount,
    mount_edit,
    programs,
    syntax_note,
)
from transforms.secrets.ssh import KEY_FILE, expand_home, ssh_key_variable


def _secret_name(name: str, table: dict) -> bool:
    up = name.upper()
    if matches_any(up, table["variable_exceptions"]):
        return False
    return matches_any(up, table["variable_patterns"])


def variable_secrets(ctx: Context, stage: Stage, runs: Runs, table: dict) -> Iterator[Fix | Note]:
    globals_ = [i for i in ctx.tree.instructions if i.keyword == "ARG" and i.start < ctx.tree.stages[0].start_line
                and i.start < ctx.tree.stages[0].from_instruction.start]
    decls: dict[str, list[Decl]] = {}
    for inst in stage.instructions:
        if inst.keyword in {"ARG", "ENV"}:
            for d in declarations(inst):
                decls.setdefault(d.name, []).append(d)
    secret: dict[str, list[Decl]] = {}
    for name, ds in decls.items():
        if _secret_name(name, table):
            secret[name] = ds
    # ENV X=$SECRET: X carries the secret too
    for name, ds in decls.items():
        if name not in secret and any(d.value and any(references(d.value, s) for s in secret) for d in ds):
            secret[name] = ds
    for name, ds in secret.items():
        yield from _rewrite_variable(ctx, stage, runs, table, name, ds, globals_)


def _rewrite_variable(
    ctx: Context,
    stage: Stage,
    runs: Runs,
    table: dict,
    name: str,
    decls: list[Decl],
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
        if references(inst.raw, name):
            if inst.keyword in {"CMD", "ENTRYPOINT", "ENV"}:
                yield Note(ID, f"{name} is used at run time ({inst.keyword}): runtime secrets belong to the "
                               "orchestrator, not the image; pass it when the container starts", inst.start_line)
            else:
                yield Note(ID, f"{name} is used by {inst.keyword}, which cannot read a secret mount; left unchanged",
                           inst.start_line, refusal=True)
            return
    # a RUN uses the variable when it expands it, or names it (os.environ['NAME'], process.env.NAME)
    named = re.compile(r"(?<![A-Za-z0-9_])" + re.escape(name) + r"(?![A-Za-z0-9_])")
    explicit = [runs[i.start] for i in after if i.keyword == "RUN" and (references(i.raw, name)
                                                                           or named.search(i.raw))]
    consumers = _consumers(name, table)
    users = explicit or [runs[i.start] for i in after if i.keyword == "RUN" and runs[i.start].script is not None
                         and programs(runs[i.start]) & consumers]
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
    ssh = ssh_key_variable(ctx, stage, runs, table, name, decls, globals_, after, users)
    if ssh is not None:
        yield from ssh
        return
    appended: list[tuple[Run, str]] = []
    for r in users:
        leak = written_to_file(r, name)
        if leak and _removable_config(r, leak, after, runs, table):
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
        edits.append(remove_decl(d))
    for g in globals_:
        for d in declarations(g):
            if d.name == name:
                edits.append(remove_decl(d))
    # an ARG without a default was empty unless the build passed it: without the secret the RUN sees an
    # empty value again (no `required`); a default or an ENV value was always there, so the secret is required
    optional = all(d.inst.keyword == "ARG" and d.value is None for d in decls)
    mount_options = "" if optional else ",required=true"
    for r in users:
        if not has_mount(r.inst, "secret", ident):
            edits.append(mount_edit(r.inst, f"--mount=type=secret,id={ident}{mount_options}"))
        edits.append(Edit.insert(r.inst.start + r.inst.args_start, f'export {name}="$(cat /run/secrets/{ident})" && '))
    needs = BuildSecret(ident, environment=name)
    side = compose_edits(ctx, needs)
    edits.extend(side)
    lines = ", ".join(str(r.inst.start_line) for r in users)
    kind = "/".join(sorted({d.inst.keyword for d in decls}))
    yield from syntax_note(ctx)
    yield from side.notes  # the call sites left alone, by name
    written = ""
    if appended:
        files = ", ".join(sorted({leak for _r, leak in appended}))
        written = (f"; the RUN that writes it into {files} now removes that file before its layer ends (unsafe: "
                   "nothing later in the image can read that file)")
    yield Fix(
        ID,
        f"{kind} {name} no longer lands in the image history: a secret mount on RUN at line(s) {lines}; "
        f"unsafe: the build command changes, build with `docker build --secret id={ident},env={name} .`"
        f"{' (without the secret the RUN sees an empty value, as without --build-arg before)' if optional else ''}"
        f"{written}",
        tuple(dedupe(edits)),
        Applicability.UNSAFE,
        first.start_line,
        build_secrets=(needs,),
    )



def _removable_config(run: Run, leak: str, after: list[Instruction], runs: Runs, table: dict) -> bool:
    """A token written into a tool's credentials file (.npmrc, pip.conf, NuGet.Config …) by a RUN that is
    a plain ``&&`` chain and used there, with no later RUN that may read the file: the same RUN can
    remove it before its layer ends."""
    if run.script is None or not run.script.is_simple_chain() or "$" in leak:
        return False
    if leak.rsplit("/", 1)[-1] not in table["token_config_files"] or KEY_FILE.search(expand_home(leak)):
        return False
    commands = [c for c in run.script.commands if c.depth == 0]
    writer = next((k for k, c in enumerate(commands) if any(
        r.target is not None and r.target.text == leak for r in c.redirects) or tuple(c.argv[:2]) in PERSISTING),
        None)
    if writer is None or not any(c.name.rsplit("/", 1)[-1] not in NON_READERS for c in commands[writer + 1:]):
        return False  # the same RUN does not use the file after writing it
    # a later RUN that runs anything but file and package utilities may read the file (git, go, npm …)
    later = [runs[i.start] for i in after if i.keyword == "RUN" and i.start > run.inst.start]
    return all(r.script is not None and all(c.name.rsplit("/", 1)[-1] in NON_READERS for c in r.script.commands)
               for r in later)


def _runs_unknown_code(run: Run) -> bool:
    """Does the RUN run code whose reads are not seen (the facts layer's one answer)?"""
    return any(runs_unknown_code(c) for c in run.commands)


def _unused_variable(ctx: Context, stage: Stage, runs: Runs, name: str, decls: list[Decl],
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
    yield Fix(ID, msg, tuple(dedupe([remove_decl(d) for d in decls])), Applicability.UNSAFE, first.start_line)


def _consumers(name: str, table: dict) -> set[str]:
    up = name.upper()
    for row in table["env_prefix_consumers"]:
        if any(up.startswith(p) for p in row["prefixes"]):
            return set(row["programs"])
    return set(table["env_consumers"])
