"""minimal — no extra packages, caches or package lists in the runtime image.

Only the final stage is rewritten: builder stages never ship, so their caches cost nothing at run time.

What it changes
    * ``apt-get install`` / ``apt install`` gets ``--no-install-recommends`` right after ``install``
      (hadolint DL3015). ``-o APT::Install-Recommends=false`` counts as already present.
    * A RUN that runs ``apt-get update`` (or ``apt update``) and does not remove the package lists
      gets ``&& rm -rf /var/lib/apt/lists/*`` after its last command (DL3009). ``apt-get dist-clean``
      and a cache mount on ``/var/lib/apt`` count as removing them.
    * ``apk add`` gets ``--no-cache`` (DL3019).
    * ``pip install`` / ``pip3 install`` / ``python -m pip install`` gets ``--no-cache-dir`` (DL3042),
      unless ``PIP_NO_CACHE_DIR`` is set (ENV, ARG, an env prefix or ``export`` in the RUN).
    * A bare ``npm ci`` / ``npm install`` gets ``--omit=dev`` (``--production`` on Node 14 and older,
      whose npm 6 ignores ``--omit``) when the build context has a lockfile
      (``package-lock.json`` or ``npm-shrinkwrap.json``) and ``NODE_ENV=production`` is not set.
    * ``yum`` / ``dnf`` / ``microdnf`` / ``tdnf install`` without a later ``clean all`` in the same RUN
      gets ``&& <tool> clean all`` after the RUN's last command (DL3032, DL3040).
    * ``ADD`` of local files and folders becomes ``COPY`` (DL3020); only the keyword changes, in the
      case it was written in (``add`` -> ``copy``).
    Flags are inserted after a word, so continuation lines and the comment lines inside them stay
    byte for byte; nothing is reordered and no package the user named is dropped or added.
    ``CMD``/``ENTRYPOINT`` are left to ``signals``.

When it refuses (a note; that change is not made)
    * A RUN in exec form (``RUN ["apt-get", ...]``) or with a heredoc whose script installs packages.
    * Appending a cleanup (``rm -rf /var/lib/apt/lists/*``, ``<tool> clean all``) when the commands
      after the package manager are not a plain ``&&`` / ``;`` chain (pipes, ``||``, subshells, ``if``,
      background jobs) or the RUN does not parse: the place to insert it would be a guess.
    * Removing the apt lists when a later RUN of the stage installs with apt before running
      ``apt-get update`` itself (it needs the lists), or when ``apt-get update`` runs in a RUN of its
      own with no install (the lists already sit in that layer: merge it with the install).
    * ``--omit=dev`` when the start command, or a package script it runs (``npm start`` →
      ``scripts.start`` → ``npm run build`` → ``tsc``), runs a command of a dev dependency (the note
      names the command, the script and the package).
    * ``--omit=dev`` when a later step runs ``npm run``, ``npm test``, ``npm exec`` or ``npx`` (it may
      need dev dependencies: build in an earlier stage instead).
    * ``ADD`` of a URL, of a git repository, of a local tar archive (ADD extracts it, COPY would not),
      of a source given by a variable or a wildcard that may match an archive, or with an ADD-only
      flag (``--checksum``, ``--keep-git-dir``, ``--unpack``). These notes are not refusals.
    * Caches kept on purpose on a ``--mount=type=cache`` are left alone (a note says why).
    * Builder stages, Windows stages, stages with a non-POSIX ``SHELL`` and ``ONBUILD`` are skipped.

Fix safety
    ``--no-cache``, ``--no-cache-dir``, removing the apt lists, ``clean all`` and ``ADD`` -> ``COPY`` are
    **safe**: the same packages and files end up in the image, only caches are gone. (ADD extracts
    local tar archives by their content; a source without an archive extension is taken not to be
    one. A later RUN that runs a script keeps the lists: the script may install with apt without
    updating.)
    ``--no-install-recommends`` is **unsafe**: it changes the set of installed packages, and a
    recommended package is often what the build or the app needs (``gcc`` recommends ``libc6-dev``,
    without which ``stdio.h`` is missing; ``git`` recommends ``openssh-client``; PHP's Apache module
    recommends ``apache2``; ``curl`` recommends ``ca-certificates``). The message names the
    recommendations known to matter (``transforms/minimal.py``'s table) so they can be added by name.
    ``--omit=dev`` is **unsafe**: a later step or the start command may still need a dev dependency.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from rewriter.core.edits import Applicability, Edit, Fix, Note
from rewriter.core.shell import Command, Script, parse_shell
from rewriter.core.syntax import Instruction, Stage
from rewriter.facts import Context
from rewriter.facts.commands import POSIX_SHELLS as _POSIX_SHELLS
from rewriter.facts.commands import PackageCall as _Call
from rewriter.facts.commands import basename as _basename
from rewriter.facts.commands import package_calls as _calls
from rewriter.facts.commands import program_index, runs_unknown_code
from rewriter.facts.start import is_posix_shell, shell_c
from transforms._base import Codemod

ID = "minimal"

#: apt subcommands that read /var/lib/apt/lists
_APT_CONSUMERS = {"install", "reinstall", "build-dep", "source", "download", "satisfy"}
#: packages whose recommended packages are commonly needed at run time: package -> recommends
_NEEDED_RECOMMENDS: dict[str, tuple[str, ...]] = {
    "curl": ("ca-certificates",),
    "wget": ("ca-certificates",),
    "git": ("ca-certificates", "openssh-client"),
    "gcc": ("libc6-dev",),
    "g++": ("libc6-dev",),
    "libapache2-mod-php": ("apache2",),
    "python3-pip": ("build-essential", "python3-dev"),
    "python-pip": ("build-essential", "python-dev"),
}
#: file name endings hadolint and BuildKit treat as (possibly compressed) tar archives
_ARCHIVE_EXT = (
    ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tbz2", ".tb2", ".tar.xz", ".txz", ".tar.zst", ".tzst",
    ".tar.lz", ".tlz", ".tar.lzma", ".tZ", ".tpz", ".tar.Z", ".gz", ".bz2", ".xz", ".lz", ".lzma", ".zst", ".Z",
)  # fmt: skip
_COPY_FLAGS = {"chown", "chmod", "link", "exclude"}
_NPM_INSTALL = {"ci", "install", "i", "clean-install", "isntall", "add", "in", "ic"}
_NPM_KEEPS_DEV = ("--omit", "--production", "--only", "--include", "--also", "--dev", "-D", "--save-dev",
                  "-g", "--global", "--prod")  # fmt: skip
_NPM_RUNS = {"run", "run-script", "rum", "urn", "test", "t", "tst", "exec", "x"}
_OFF = {"0", "false", "no", "off"}

_RECOMMENDS = "--no-install-recommends"
_APT_LISTS = "/var/lib/apt/lists"


# --------------------------------------------------------------------------- package manager calls


def _argv_script(argv: Sequence[str]) -> Script:
    """A script for an exec-form argument list (``["sh", "-c", "..."]`` gives the inner script)."""
    text = shell_c(argv)
    return parse_shell(text if text is not None else shlex.join(argv))


# --------------------------------------------------------------------------- what a RUN lacks


@dataclass(frozen=True)
class _Finding:
    """One rule that applies to a command; ``at`` is an insertion offset in the script text (or None)."""

    rule: str
    summary: str  #: what is missing, for notes ("apt-get install without --no-install-recommends")
    at: int | None = None
    content: str = ""
    message: str = ""
    applicability: Applicability = Applicability.SAFE
    note: str = ""  #: why it is not fixed (``at`` is None)
    refusal: bool = True


@dataclass(frozen=True)
class _StageFacts:
    """What the rules need to know about the stage around one RUN."""

    env: dict[str, str]
    mounts: tuple[dict[str, str], ...]
    lockfile: str | None
    apt_needed_later: int | None  #: line of a later RUN that installs with apt before updating
    npm_runs_later: tuple[str, int] | None  #: (what, line) of a later step running npm scripts / npx
    apt_named: frozenset[str]  #: packages installed with apt in this stage up to this RUN
    base_has_ca: bool
    #: the npm flag that leaves dev dependencies out with the npm the image ships (npm 6: --production)
    npm_omit: str = "--omit=dev"
    #: why the start needs a dev dependency ("the start runs `tsc` (scripts.start), from typescript")
    start_needs_dev: str | None = None
    #: the stage sets no CMD/ENTRYPOINT (an image to build upon)
    no_start: bool = False


def _cache_mounted(mounts: Iterable[dict[str, str]], *prefixes: str) -> bool:
    for m in mounts:
        if m.get("type") != "cache":
            continue
        target = (m.get("target") or m.get("dst") or m.get("destination") or "").rstrip("/")
        if target and any(target == p or target.startswith(p + "/") or p.startswith(target + "/") for p in prefixes):
            return True
    return False


def _findings(script: Script, facts: _StageFacts) -> list[_Finding]:
    calls = _calls(script)
    out: list[_Finding] = []
    for call in calls:
        sub = call.sub
        if sub is None:
            continue
        name = call.subcommand
        if call.family == "apt" and name == "install":
            out.extend(_no_recommends(call, facts))
        elif call.family == "apk" and name == "add" and not call.has_word("--no-cache"):
            if call.has_word("--no-network"):
                out.append(_Finding("DL3019", "apk add --no-network", note="apk add --no-network installs from "
                                    "what is already on disk, so --no-cache was not added", refusal=False))
            elif _cache_mounted(facts.mounts, "/var/cache/apk", "/etc/apk/cache"):
                out.append(_Finding("DL3019", "apk add uses a cache mount", note="apk add keeps its cache on a "
                                    "--mount=type=cache, so --no-cache was not added", refusal=False))
            else:
                out.append(_Finding(
                    "DL3019", "apk add without --no-cache", sub.end, " --no-cache",
                    "apk add --no-cache: do not keep the package index in the image (DL3019)",
                ))
        elif call.tool == "pip" and name == "install" and not call.has_word("--no-cache-dir"):
            out.extend(_pip(script, call, facts))
        elif call.tool == "npm" and name in _NPM_INSTALL:
            out.extend(_npm(script, call, facts))
    out.extend(_apt_lists(script, calls, facts))
    out.extend(_rpm_clean(script, calls, facts))
    return out


def _named_packages(call: _Call) -> list[str]:
    names = []
    for w in call.rest:
        if w.text.startswith("-") or not w.is_literal:
            continue
        names.append(re.split(r"[=:]", w.text, maxsplit=1)[0])
    return names


def _no_recommends(call: _Call, facts: _StageFacts) -> list[_Finding]:
    for w in call.after_program:
        text = w.text
        if text == _RECOMMENDS or text.startswith(_RECOMMENDS + "="):
            return []
        m = re.search(r"APT::Install-Recommends=[\"']?(\w*)", text, re.IGNORECASE)
        if m and m.group(1).lower() in _OFF:
            return []
    assert call.sub is not None
    missing: dict[str, str] = {}
    named = _named_packages(call)
    for pkg in named:
        for rec in _NEEDED_RECOMMENDS.get(pkg) or _NEEDED_RECOMMENDS.get(re.sub(r"[\d.]+$", "", pkg), ()):
            if rec in facts.apt_named or rec in named or (rec == "ca-certificates" and facts.base_has_ca):
                continue
            missing.setdefault(rec, pkg)
    message = (f"{call.program} install {_RECOMMENDS}: install only the packages that are needed (DL3015; "
               "unsafe: a recommended package the build or the app needs is no longer installed")
    if missing:
        named_too = ", ".join(f"{rec} (recommended by {pkg})" for rec, pkg in missing.items())
        message += f"; installs by name what is known to be needed: {named_too}"
    return [_Finding("DL3015", f"{call.program} install without {_RECOMMENDS}", call.sub.end,
                     " " + " ".join([_RECOMMENDS, *missing]), message + ")", Applicability.UNSAFE)]


def _pip(script: Script, call: _Call, facts: _StageFacts) -> list[_Finding]:
    assert call.sub is not None
    if _env_set(script, call, facts, "PIP_NO_CACHE_DIR"):
        return []
    short = next((w.text for w in call.after_program if w.text.startswith("--no-cache") and len(w.text) > 5
                  and "--no-cache-dir".startswith(w.text)), None)
    if short is not None:
        return [_Finding("DL3042", f"pip install {short}", note=f"pip install {short} already disables the "
                         "cache (pip reads it as --no-cache-dir; hadolint DL3042 wants the full name)", refusal=False)]
    if call.has_word("--cache-dir"):
        return [_Finding("DL3042", "pip install sets --cache-dir", note="pip install sets --cache-dir; "
                         "--no-cache-dir was not added", refusal=False)]
    if _cache_mounted(facts.mounts, "/root/.cache/pip", "/root/.cache") or any(
        "pip" in (m.get("target") or m.get("dst") or "") for m in facts.mounts if m.get("type") == "cache"
    ):
        return [_Finding("DL3042", "pip install uses a cache mount", note="pip install keeps its cache on a "
                         "--mount=type=cache, so --no-cache-dir was not added", refusal=False)]
    return [_Finding(
        "DL3042", f"{call.program} install without --no-cache-dir", call.sub.end, " --no-cache-dir",
        f"{call.program} install --no-cache-dir: do not keep pip's download cache in the image (DL3042)",
    )]


def _env_set(script: Script, call: _Call, facts: _StageFacts, name: str) -> bool:
    """Whether ``name`` is set for ``call``: ENV/ARG of the stage, an env prefix, or ``export`` before it."""
    if name in facts.env:
        return True
    if any(a.name == name for a in call.cmd.env):
        return True
    for cmd in script.commands[: call.index]:
        if not cmd.words and any(a.name == name for a in cmd.env):
            return True
        if cmd.name in {"export", "declare", "typeset"} and any(
            w.text.startswith(name + "=") for w in cmd.args
        ):
            return True
    return False


def _npm(script: Script, call: _Call, facts: _StageFacts) -> list[_Finding]:
    assert call.sub is not None
    if facts.lockfile is None:
        return []
    if any(not w.text.startswith("-") for w in call.rest):
        return []  # installs named packages
    if call.has_word(*_NPM_KEEPS_DEV):
        return []
    node_env = facts.env.get("NODE_ENV")
    node_env = next((a.value.text for a in call.cmd.env if a.name == "NODE_ENV" and a.value), node_env)
    if node_env == "production":
        return []  # npm already omits dev dependencies
    what = f"npm {call.subcommand}"
    if facts.start_needs_dev:
        return [_Finding("npm", what, note=f"{what} keeps dev dependencies: {facts.start_needs_dev}, so "
                         f"{facts.npm_omit} was not added")]
    step = next(filter(None, map(_npm_script_step, script.commands[call.index + 1 :])), None)
    later = (step, 0) if step is not None else facts.npm_runs_later
    if later is not None:
        step, line = later
        where = f"the same RUN runs `{step}`" if line == 0 else f"a later step (line {line}) runs `{step}`"
        return [_Finding("npm", what, note=f"{what} in the final stage keeps dev dependencies: {where}, which "
                         "may need them, so --omit=dev was not added; build in an earlier stage")]
    if facts.no_start:
        return [_Finding("npm", what, note=f"{what} keeps dev dependencies: the stage sets no CMD or ENTRYPOINT, so "
                         "it is an image to build upon whose children may run them; --omit=dev was not added")]
    flag = facts.npm_omit
    older = " (npm 6, which this Node image ships, knows --production, not --omit=dev)" if flag != "--omit=dev" else ""
    return [_Finding(
        "npm", what, call.sub.end, f" {flag}",
        f"{what} {flag}: no dev dependencies in the runtime image{older} "
        "(unsafe: check that the start command needs none)",
        Applicability.UNSAFE,
    )]


#: the programs whose steps _npm_script_step reads
_NPM_PROGRAMS = frozenset({"npx", "npm", "yarn", "pnpm"})


def _npm_script_step(cmd: Command) -> str | None:
    """``npx x`` / ``npm run build`` / ``yarn build``: a step that may need dev dependencies (as text)."""
    p = program_index(cmd.words)
    if p is None:
        return None
    name = _basename(cmd.words[p].text)
    if name not in _NPM_PROGRAMS:  # most commands: no need to look at their arguments
        return None
    rest = [a for a in cmd.argv[p + 1 :] if not a.startswith("-")]
    if name == "npx" or (rest and (
        rest[0] in _NPM_RUNS or (name != "npm" and rest[0] not in {"install", "add", "start"})
    )):
        return " ".join([name, *rest[:2]])
    return None


def _append_point(script: Script, first: int) -> tuple[int | None, str]:
    """Offset after the script's last command when ``commands[first:]`` is a top-level ``&&``/``;`` chain.

    Otherwise ``(None, why)``: appending ``&& cleanup`` there would change what runs when.
    """
    if script.has_error:
        return None, "the RUN could not be parsed as shell"
    if any(c.operator == "&" for c in script.commands):
        return None, "the RUN starts a background job"
    tail = script.commands[first:]
    for k, cmd in enumerate(tail):
        allowed = (None, ";", "\n") if k == len(tail) - 1 else ("&&", ";", "\n")
        if cmd.depth:
            return None, "it runs inside a subshell, group, loop or if"
        if cmd.in_pipeline:
            return None, "its output goes through a pipe"
        if cmd.negated or cmd.operator not in allowed:
            return None, f"it is followed by `{cmd.operator or '!'}`"
    last = tail[-1] if tail else None
    if last is None or last.name in {"exit", "exec"} or not (last.words or last.env):
        return None, "the RUN does not end with a plain command"
    return last.end, ""


def _apt_lists(script: Script, calls: list[_Call], facts: _StageFacts) -> list[_Finding]:
    apt = [c for c in calls if c.family == "apt"]
    updates = [c for c in apt if c.subcommand == "update"]
    if not updates:
        return []
    last_update = updates[-1].index
    for cmd in script.commands[last_update + 1 :]:
        if _basename(cmd.name) == "rm" and any(w.text.rstrip("/*").startswith(_APT_LISTS) for w in cmd.args):
            return []
    if any(c.subcommand in {"dist-clean", "distclean"} and c.index > last_update for c in apt):
        return [_Finding("DL3009", "apt-get dist-clean", note="the RUN removes the package lists with "
                         "`apt-get dist-clean` (hadolint DL3009 does not recognise it)", refusal=False)]
    if _cache_mounted(facts.mounts, _APT_LISTS, "/var/lib/apt"):
        return []
    program = updates[-1].program
    what = f"{program} update without rm -rf {_APT_LISTS}/*"
    later = facts.apt_needed_later
    if not any(c.index > last_update for c in apt):
        # an update with nothing after it: whatever needs the lists runs later (maybe in a script)
        for_what = f" for the RUN at line {later}" if later is not None else ""
        return [_Finding("DL3009", what, note=f"package lists not removed: {program} update runs in a RUN "
                         f"without an install, so the lists stay in this layer{for_what}; update, install and "
                         f"remove {_APT_LISTS}/* in one RUN")]
    if later is not None:
        return [_Finding("DL3009", what, note=f"package lists not removed: the RUN at line {later} installs "
                         f"with apt without running {program} update, or runs a script that may")]
    at, why = _append_point(script, apt[-1].index)
    if at is None:
        return [_Finding("DL3009", what, note=f"package lists not removed: the last {apt[-1].program} is not "
                         f"in a plain && chain ({why}); add `&& rm -rf {_APT_LISTS}/*` at its end by hand")]
    return [_Finding(
        "DL3009", what, at, f" && rm -rf {_APT_LISTS}/*",
        f"rm -rf {_APT_LISTS}/* in the RUN that runs {updates[-1].program} update: "
        "package lists do not belong in the image (DL3009)",
    )]


def _rpm_clean(script: Script, calls: list[_Call], facts: _StageFacts) -> list[_Finding]:
    rpm = [c for c in calls if c.family == "rpm"]
    installs = [c for c in rpm if c.subcommand in {"install", "groupinstall", "reinstall"}]
    if not installs:
        return []
    last = installs[-1]
    tool = last.program
    if any(c.subcommand == "clean" and c.index > last.index for c in rpm):
        return []
    for cmd in script.commands[last.index + 1 :]:
        if _basename(cmd.name) == "rm" and any(
            w.text.startswith(("/var/cache/yum", "/var/cache/dnf", "/var/cache/tdnf", "/var/cache/libdnf5"))
            for w in cmd.args
        ):
            return []
    if _cache_mounted(facts.mounts, "/var/cache/yum", "/var/cache/dnf", "/var/cache/libdnf5", "/var/cache/tdnf"):
        return []
    what = f"{tool} install without {tool} clean all"
    at, why = _append_point(script, rpm[-1].index)
    if at is None:
        return [_Finding("DL3032", what, note=f"{tool} cache not cleaned: the last {rpm[-1].program} is not in a "
                         f"plain && chain ({why}); add `&& {tool} clean all` at its end by hand")]
    return [_Finding(
        "DL3032", what, at, f" && {tool} clean all",
        f"{tool} clean all after {tool} install: the package cache does not belong in the image (DL3032/DL3040)",
    )]


# --------------------------------------------------------------------------- the transform


class MinimalTransform(Codemod):
    id = ID
    description = "No extra packages, caches or package lists in the runtime image."

    def run(self, ctx: Context) -> Iterator[Fix | Note]:
        stage = ctx.final_stage
        if stage is None or not ctx.is_final(stage) or ctx.is_windows(stage):
            return
        if not is_posix_shell(ctx.facts.shell(stage)):
            return
        lockfile = next((f for f in ("package-lock.json", "npm-shrinkwrap.json") if ctx.read_side(f) is not None), None)
        scripts = _stage_scripts(stage)
        base_has_ca = _base_has_ca(ctx, stage)
        npm_omit = _npm_omit_flag(ctx, stage)
        start_needs_dev = _start_needs_dev(ctx, stage)
        # no CMD/ENTRYPOINT: an image to build upon (or its start is the base image's); the images built FROM
        # it may run the dev tools (a build, the tests), as nonroot's refusal for such stages says
        no_start = ctx.start_use(stage) is None
        apt_named: set[str] = set()
        apt_later = _apt_needed_later(stage, scripts)
        npm_later = _npm_runs_later(stage, scripts)
        for pos, inst in enumerate(stage.instructions):
            if inst.keyword == "ADD":
                yield from _add(inst)
                continue
            if inst.keyword != "RUN":
                continue
            for script in scripts[pos]:
                for call in _calls(script):
                    if call.family == "apt" and call.subcommand == "install":
                        apt_named.update(_named_packages(call))
            facts = _StageFacts(
                env=_known_env(ctx, inst),
                mounts=tuple(inst.mounts),
                lockfile=lockfile,
                apt_needed_later=apt_later[pos],
                npm_runs_later=npm_later[pos],
                apt_named=frozenset(apt_named),
                base_has_ca=base_has_ca,
                npm_omit=npm_omit,
                start_needs_dev=start_needs_dev,
                no_start=no_start,
            )
            yield from _run(inst, facts)


def _run(inst: Instruction, facts: _StageFacts) -> Iterator[Fix | Note]:
    line = inst.start_line
    if inst.is_json:
        found = [f for f in _findings(_argv_script(inst.exec_args or ()), facts) if f.at is not None]
        if found:
            yield Note(ID, f"exec-form RUN left unchanged: {_summaries(found)}; fix it by hand", line, True)
        return
    text, offset = inst.shell_text()
    script = parse_shell(text)
    if inst.heredocs:
        found = [f for s in (script, *_heredoc_scripts(script)) for f in _findings(s, facts) if f.at is not None]
        if found:
            yield Note(ID, f"heredoc RUN left unchanged: {_summaries(found)}; fix it by hand", line, True)
        return
    found = _findings(script, facts)
    if script.has_error and any(f.at is not None for f in found):
        yield Note(ID, f"RUN could not be parsed as shell; left unchanged: {_summaries(found)}", line, True)
        return
    base = inst.start + offset
    for f in found:
        if f.at is None:
            yield Note(ID, f.note, line, f.refusal)
        else:
            yield Fix(ID, f.message, (Edit(base + f.at, base + f.at, f.content),), f.applicability, line)


def _summaries(found: Sequence[_Finding]) -> str:
    return ", ".join(dict.fromkeys(f.summary for f in found))


def _stage_scripts(stage: Stage) -> list[list[Script]]:
    """For each instruction of the stage, the shell scripts it runs (RUN/CMD/ENTRYPOINT), else []."""
    out: list[list[Script]] = []
    for inst in stage.instructions:
        scripts: list[Script] = []
        if inst.keyword in {"RUN", "CMD", "ENTRYPOINT"}:
            if inst.is_json:
                scripts.append(_argv_script(inst.exec_args or ()))
            elif inst.arguments.strip():
                head = parse_shell(inst.shell_text()[0])
                scripts += [head, *_heredoc_scripts(head)]
        out.append(scripts)
    return out


def _heredoc_scripts(head: Script) -> list[Script]:
    """Heredoc bodies a shell runs as a script (``RUN <<EOF``, ``RUN bash -e <<EOF``), parsed."""
    out = []
    for cmd in head.commands:
        if cmd.words and _basename(cmd.name) not in _POSIX_SHELLS:
            continue  # cat <<EOF > file, python3 <<EOF: the body is data or another language
        out += [parse_shell(r.heredoc.content) for r in cmd.redirects if r.heredoc is not None]
    return out


#: a later instruction that says nothing either way: look further
_ON = object()


def _first_later(stage: Stage, scripts: list[list[Script]], verdict: Callable[[Instruction, list[Script]], Any]
                 ) -> list[Any]:
    """For each position of the stage, the verdict of the first instruction after it that gives one (not
    :data:`_ON`), else None: one pass from the end, so a stage of n instructions costs n, not n²."""
    out: list[Any] = [None] * len(stage.instructions)
    found: Any = None
    for pos in range(len(stage.instructions) - 1, -1, -1):
        out[pos] = found
        here = verdict(stage.instructions[pos], scripts[pos])
        if here is not _ON:
            found = here
    return out


def _apt_verdict(inst: Instruction, runs: list[Script]) -> Any:
    """None: the RUN refreshes the apt lists first; its line: it uses them (or runs code that may);
    :data:`_ON`: neither."""
    if inst.keyword != "RUN":
        return _ON
    for script in runs:
        for call in _calls(script):
            if call.family == "apt" and call.subcommand == "update":
                return None
            if (call.family == "apt" and call.subcommand in _APT_CONSUMERS) or call.program == "apt-cache":
                return inst.start_line
        if any(runs_unknown_code(cmd) for cmd in script.commands):
            return inst.start_line  # a script may install with apt without updating: it is not seen
    return _ON


def _apt_needed_later(stage: Stage, scripts: list[list[Script]]) -> list[int | None]:
    """For each position: the line of the first later RUN that uses the apt lists before refreshing them."""
    return _first_later(stage, scripts, _apt_verdict)


def _npm_verdict(inst: Instruction, runs: list[Script]) -> Any:
    for script in runs:
        step = next(filter(None, map(_npm_script_step, script.commands)), None)
        if step is not None:
            return step, inst.start_line
    return _ON


def _npm_runs_later(stage: Stage, scripts: list[list[Script]]) -> list[tuple[str, int] | None]:
    """For each position: the first later step that may need dev dependencies (``npm run build``...), and its line."""
    return _first_later(stage, scripts, _npm_verdict)


#: Node majors whose images ship npm 6, where dev dependencies are left out with --production
_NPM6_NODE = 14
#: dev dependencies whose command is not named like the package
_DEV_BINS = {"typescript": ("tsc", "tsserver"), "@nestjs/cli": ("nest",), "@babel/cli": ("babel",),
             "webpack-cli": ("webpack", "webpack-cli"), "@angular/cli": ("ng",),
             "@vue/cli-service": ("vue-cli-service",)}


def _npm_omit_flag(ctx: Context, stage: Stage) -> str:
    base = ctx.resolved_base(stage)
    m = re.match(r"^(?:[\w.-]+(?::\d+)?/)*(?:library/)?node:(\d+)", base)
    return "--production" if m and int(m.group(1)) <= _NPM6_NODE else "--omit=dev"


def _start_needs_dev(ctx: Context, stage: Stage) -> str | None:
    """Why the start command needs a dev dependency of package.json (None: it needs none that is known):
    the start (``npm start``, ``npm run X``, ``npx X``, or the command itself) and the package scripts it
    runs, looked up in ``devDependencies`` and their commands (``typescript`` gives ``tsc``)."""
    import json

    text = ctx.read_side("package.json")
    if text is None:
        return None
    try:
        pkg = json.loads(text)
    except ValueError:
        return None
    dev = pkg.get("devDependencies") if isinstance(pkg, dict) else None
    scripts = pkg.get("scripts") if isinstance(pkg, dict) else None
    if not isinstance(dev, dict) or not dev:
        return None
    scripts = scripts if isinstance(scripts, dict) else {}
    # type packages (@types/node) have no command; any other is run by its name unless the table says
    bins = {b: name for name in dev if not name.startswith("@types/")
            for b in _DEV_BINS.get(name, (name.rsplit("/", 1)[-1],))}
    # the start in effect (inherited ENTRYPOINT/CMD included), the scripts and package scripts it runs
    use = ctx.start_use(stage)
    for cmd in use.commands if use is not None else ():
        argv = list(cmd.argv)
        if cmd.program in {"npx", "pnpx"} or argv[:2] in (["pnpm", "exec"], ["yarn", "exec"], ["npm", "exec"]):
            rest = [a for a in argv[1 if cmd.program in {"npx", "pnpx"} else 2:] if not a.startswith("-")]
            argv = rest
        name = _basename(argv[0]) if argv else ""
        if name in bins:
            return f"the start runs `{name}` ({cmd.where}), from the dev dependency {bins[name]}"
    return None


def _base_has_ca(ctx: Context, stage: Stage) -> bool:
    return ctx.base_image(stage).ca_certificates


def _known_env(ctx: Context, inst: Instruction) -> dict[str, str]:
    """ENV (this stage and the stages it is built from) and ARG with a default in force at ``inst``
    (an ENV whose value is not known here counts as set, with an empty value)."""
    scope = ctx.facts.before(inst)
    known = {k: v for k, v in scope.args.items() if v is not None}
    known.update({k: v or "" for k, v in scope.env.items()})
    return known


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


# --------------------------------------------------------------------------- ADD -> COPY


def _add(inst: Instruction) -> Iterator[Fix | Note]:
    line = inst.start_line
    odd = [f.name for f in inst.flags if f.name not in _COPY_FLAGS]
    if odd:
        yield Note(ID, f"ADD --{odd[0]} left as ADD (COPY has no such flag)", line)
        return
    words = list(inst.exec_args or ()) if inst.is_json else [_unquote(w.text) for w in inst.words]
    if len(words) < 2:
        return
    for src in words[:-1]:
        reason = _add_reason(src)
        if reason:
            yield Note(ID, f"ADD {src} left as ADD: {reason}", line)
            return
    span = inst.keyword_span
    if span is None:
        yield Note(ID, "ADD left as ADD: a line continuation splits its keyword", line)
        return
    keyword_at = span[0]
    written = inst.raw[keyword_at : keyword_at + 3]
    copy = "copy" if written.islower() else "COPY" if written.isupper() else "Copy"
    start = inst.start + keyword_at
    yield Fix(
        ID,
        "COPY instead of ADD for local files and folders: ADD also fetches URLs and extracts archives (DL3020)",
        (Edit(start, start + 3, copy),),
        Applicability.SAFE,
        line,
    )


def _add_reason(src: str) -> str | None:
    """Why ``ADD src`` must stay ADD, or None when COPY does the same."""
    if src.startswith("<<"):
        return None  # a heredoc: COPY takes it as well
    lower = src.lower()
    if re.match(r"[a-z][a-z0-9+.-]*://", lower) or lower.startswith("git@"):
        return "it fetches a URL, which COPY cannot"
    if lower.endswith(".git") or ".git#" in lower:
        return "it clones a git repository, which COPY cannot"
    if "$" in src:
        return "the source is a variable that may name a URL or an archive"
    name = src.rstrip("/").rsplit("/", 1)[-1]
    if src.endswith("/") or name in {"", ".", ".."}:
        return None  # a folder: archives inside it are not extracted
    if name.endswith(_ARCHIVE_EXT):
        return "ADD extracts a local tar archive; COPY would copy the archive itself"
    if re.search(r"[*?\[]", name):
        tail = re.split(r"[*?\]]", name)[-1]
        if "." not in tail:
            return "the wildcard may match a tar archive, which ADD extracts"
    return None


TRANSFORM = MinimalTransform()
