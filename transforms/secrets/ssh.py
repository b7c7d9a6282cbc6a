"""SSH keys for the secrets codemod: which RUNs fetch over SSH (``uses_ssh``, also used for a copied key
file), and ``ARG SSH_PRIVATE_KEY`` written into ``~/.ssh/id_rsa``, rewritten so the declaration and the
commands that write, chmod and remove the key go and the RUNs that fetch over SSH get
``--mount=type=ssh`` (the build's SSH agent).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from rewriter.core.buildsecret import BuildSecret
from rewriter.core.edits import Applicability, Edit, Fix, Note
from rewriter.core.syntax import Instruction, Stage
from rewriter.facts import Context
from rewriter.facts.commands import Run
from transforms.secrets.declarations import Decl, declarations, references, remove_decl, written_to_file
from transforms.secrets.shared import (
    ID,
    REMOVERS,
    Runs,
    compose_edits,
    dedupe,
    has_mount,
    mount_edit,
    remove_command,
    remove_word_or_command,
    syntax_note,
)

#: subcommands with which a package manager fetches its dependencies (``go build`` downloads modules too)
_FETCHING = {"mod", "get", "install", "ci", "update", "download", "build", "fetch"}
_REQUIREMENTS = {"-r", "--requirement", "-c", "--constraint"}


def _requirement_files(argv: list[str]) -> list[str]:
    out = []
    for i, arg in enumerate(argv):
        if arg in _REQUIREMENTS and i + 1 < len(argv):
            out.append(argv[i + 1])
        elif arg.startswith("--requirement="):
            out.append(arg.split("=", 1)[1])
    return out


def uses_ssh(run: Run, table: dict, ctx: Context | None = None) -> bool:
    """Does this RUN fetch over SSH? An ``ssh``/``scp`` call, a fetch with an SSH URL on its command line
    or in the requirements file it installs (``pip install -r requirements.txt`` naming
    ``git+ssh://``), or a package manager that fetches what its lockfile names (``go build``,
    ``npm ci``, ``bundle install``, ``cargo build``). ``git config … insteadOf git@…`` fetches nothing."""
    assert run.script is not None
    conf = table["ssh_users"]
    for cmd in run.script.commands:
        prog = cmd.name.rsplit("/", 1)[-1]
        if prog in conf["always"]:
            return True
        if prog == "git" and len(cmd.argv) > 1 and cmd.argv[1] == "config":
            continue  # configures URLs; the fetch happens in a later RUN
        if prog in conf["with_ssh_url"] and any(m in w.text for w in cmd.args for m in conf["url_markers"]):
            return True
        if prog in conf["fetchers"] and len(cmd.argv) > 1 and cmd.argv[1] in _FETCHING:
            return True
        if ctx is not None and prog in conf["with_ssh_url"]:
            for rel in _requirement_files(cmd.argv):
                text = ctx.read_side(rel.lstrip("./")) or ctx.read_side(rel.rsplit("/", 1)[-1]) or ""
                if any(m in text for m in conf["url_markers"]):
                    return True
    return False


KEY_FILE = re.compile(r"(?:^|/)\.ssh/(?:id_[a-z0-9_]+|[A-Za-z0-9._-]*key[A-Za-z0-9._-]*)$")


def expand_home(path: str) -> str:
    """``~/.ssh/id_rsa`` and ``$HOME/.ssh/id_rsa`` as the root user's absolute path."""
    for lead in ("~/", "$HOME/", "${HOME}/"):
        if path.startswith(lead):
            return "/root/" + path[len(lead):]
    return path


def ssh_key_variable(
    ctx: Context, stage: Stage, runs: Runs, table: dict, name: str, decls: list[Decl],
    globals_: list[Instruction], after: list[Instruction], users: list[Run],
) -> Iterator[Fix | Note] | None:
    """``ARG SSH_PRIVATE_KEY`` + ``echo "$SSH_PRIVATE_KEY" > ~/.ssh/id_rsa``: the key is written into a
    layer (and the build argument into the history). Rewritten: the declaration and the commands that
    write, chmod and remove the key file go, and every RUN from there that fetches over SSH gets
    ``--mount=type=ssh`` (the build's SSH agent; the key never touches a layer). None when the
    variable is not written into an SSH key file."""
    key = None
    for r in users:
        leak = written_to_file(r, name)
        if leak and KEY_FILE.search(expand_home(leak)):
            key = expand_home(leak)
            break
    if key is None:
        return None
    return _ssh_key_rewrite(ctx, stage, runs, table, name, decls, globals_, after, key)


def _ssh_key_rewrite(
    ctx: Context, stage: Stage, runs: Runs, table: dict, name: str, decls: list[Decl],
    globals_: list[Instruction], after: list[Instruction], key: str,
) -> Iterator[Fix | Note]:
    edits: list[Edit] = [remove_decl(d) for d in decls]
    for g in globals_:
        edits += [remove_decl(d) for d in declarations(g) if d.name == name]
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
            names_key = any(expand_home(w.text) == key for w in cmd.args) or any(
                r.target is not None and expand_home(r.target.text) == key for r in cmd.redirects)
            if prog in {"ssh-agent", "ssh-add"} or (prog == "eval" and "ssh-agent" in " ".join(cmd.argv)):
                yield Note(ID, f"RUN at line {inst.start_line} starts its own ssh-agent for {name}; with "
                               "`--mount=type=ssh` the build's agent serves the key: move it by hand",
                           inst.start_line, refusal=True)
                return
            expands = any(references(w.raw, name) for w in cmd.words)
            sole_operand = len([a for a in cmd.args if not a.text.startswith("-")]) == 1
            if expands or (names_key and prog in {"chmod", "chown", "touch"}) or (
                    names_key and prog in REMOVERS and sole_operand):
                if expands and not names_key:
                    yield Note(ID, f"RUN at line {inst.start_line} uses {name} for more than writing the key file; "
                                   "move it to `--mount=type=ssh` by hand", inst.start_line, refusal=True)
                    return
                edit = remove_command(run, cmd)
                if edit is None:
                    yield Note(ID, f"the key file command `{prog}` at line {inst.start_line} is inside a pipeline "
                                   "or `||` chain; move the key to `--mount=type=ssh` by hand", inst.start_line,
                               refusal=True)
                    return
                removal.append(edit)
                cleaned |= prog in REMOVERS
            elif names_key and prog in REMOVERS:
                edit = remove_word_or_command(run, cmd, {key}, workdir)
                if edit is not None:
                    removal.append(edit)
                    cleaned = True
        whole = any(e.start == inst.start and e.end == inst.end for e in removal)
        edits += removal
        if not whole and uses_ssh(run, table, ctx) and not has_mount(inst, "ssh", None):
            edits.append(mount_edit(inst, "--mount=type=ssh"))
            mounted.append(run)
        if cleaned:
            break
    if not mounted:
        yield Note(ID, f"{name} (an SSH key) is written to {key} but no later RUN here fetches over SSH; remove the "
                       "key by hand", decls[0].inst.start_line, refusal=True)
        return
    lines = ", ".join(str(r.inst.start_line) for r in mounted)
    # the scripts, workflows, Makefiles, bake and skaffold files that build this Dockerfile pass the agent
    side = compose_edits(ctx, BuildSecret.ssh(replaces=name), compose=False)
    edits += side
    yield from syntax_note(ctx)
    yield from side.notes
    yield Fix(
        ID,
        f"the SSH key in {name} is no longer written into a layer nor the image history: RUN at line(s) {lines} "
        f"fetch through `--mount=type=ssh`; build with `docker build --ssh default .` (an agent holding the key, "
        f"or `--ssh default=$HOME/.ssh/id_rsa`) instead of passing {name} (unsafe: the build command changes)",
        tuple(dedupe(edits)),
        Applicability.UNSAFE,
        decls[0].inst.start_line,
        build_secrets=(BuildSecret.ssh(replaces=name),),
    )
