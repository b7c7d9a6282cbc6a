"""What the start runs and touches: the commands of the start line, of the scripts it runs and of the
package scripts it invokes, and the paths those commands write.

Hardening codemods ask this one fact instead of reading CMD/ENTRYPOINT each their own way:
``nonroot`` (does the start need root; which paths must the user own; does it edit system files),
``minimal`` (does the start run a dev dependency's command).

How it is read
    * The start in effect (:func:`rewriter.facts.start.start_of`: inherited ENTRYPOINT/CMD included),
      as shell text (``sh -c TEXT`` as its text, an exec form as its quoted words).
    * A word naming a file that a COPY/ADD put into the image from the build context (an entry
      script, ``bin/start.sh``) is followed into that file, three deep; ``cd DIR`` moves the working
      directory the rest of that text is read in.
    * ``npm start``, ``npm run X``, ``yarn X``, ``pnpm X`` are followed into ``package.json``'s
      ``scripts`` (``prestart`` too).
    * Writes: redirections (``>``, ``>>``, ``&>``), ``tee``, ``sed -i``, ``cp``/``mv``/``install`` targets,
      ``mkdir``, ``touch``, ``ln``, ``git clone`` targets, Django's ``collectstatic`` (``STATIC_ROOT``
      from the environment or a literal path in a settings file of the context). A path with a
      variable is not resolved (it is not reported).
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rewriter.core.shell import Command, parse_shell
from rewriter.core.syntax import Stage
from rewriter.facts.commands import basename, program_index
from rewriter.facts.scope import join
from rewriter.facts.start import shell_c

if TYPE_CHECKING:
    from rewriter.facts.context import Context

#: wrappers of the start line that run the command after them (beyond those of program_index)
_START_WRAPPERS = frozenset({"tini", "dumb-init", "catatonit", "--"})
#: how deep scripts are followed (a script that runs a script that runs a script)
DEPTH = 3


@dataclass(frozen=True)
class StartCommand:
    """One simple command the start runs: its words from the program on, where it was found, and the
    working directory it runs in (absolute; None when not known)."""

    argv: tuple[str, ...]
    where: str
    cwd: str | None

    @property
    def program(self) -> str:
        return basename(self.argv[0]) if self.argv else ""


@dataclass(frozen=True)
class Write:
    """A path the start writes: absolute, a folder or a file, how, and where that was found.

    ``precreate``: making the folder before the start changes nothing it does (``mkdir -p``, Django's
    ``collectstatic``); otherwise the start makes it itself or copies into it (``mkdir X`` fails on an
    existing X, ``git clone`` and ``cp -r src X`` behave differently), and only its parent may be made."""

    path: str
    is_dir: bool
    how: str
    where: str
    precreate: bool = False


@dataclass(frozen=True)
class StartUse:
    commands: tuple[StartCommand, ...]
    writes: tuple[Write, ...]


def _program_words(cmd: Command) -> list[str]:
    i = program_index(cmd.words)
    if i is None:
        return []
    argv = list(cmd.argv[i:])
    while argv and basename(argv[0]) in _START_WRAPPERS:
        argv = argv[1:]
        while argv and argv[0].startswith("-"):
            argv = argv[1:]
    return argv


def _literal(word: str) -> bool:
    return bool(word) and not any(c in word for c in "$*?[`~")


def _abs(path: str, cwd: str | None) -> str | None:
    if not _literal(path):
        return None
    if path.startswith("/"):
        return join("/", path)
    return join(cwd, path) if cwd is not None else None


def _operands(argv: list[str], value_opts: frozenset[str] = frozenset()) -> list[str]:
    """The non-option words after the program (``--`` ends the options)."""
    out: list[str] = []
    i = 1
    options = True
    while i < len(argv):
        a = argv[i]
        if options and a == "--":
            options = False
        elif options and a.startswith("-") and len(a) > 1:
            if a in value_opts:
                i += 1
        else:
            out.append(a)
        i += 1
    return out


def _command_writes(argv: list[str], cwd: str | None) -> list[tuple[str, bool, str, bool]]:
    """(path, is_dir, how, precreate) that one command writes (relative paths resolved in ``cwd``)."""
    prog = basename(argv[0]) if argv else ""
    found: list[tuple[str | None, bool, str, bool]] = []
    if prog == "sed" and any(a == "-i" or (a.startswith("-i") and not a.startswith("--")) or
                             a.startswith("--in-place") for a in argv[1:]):
        ops = _operands(argv, frozenset({"-e", "-f", "--expression", "--file", "-l"}))
        has_script_opt = any(a in {"-e", "-f", "--expression", "--file"} or a.startswith(("--expression=",
                                                                                          "--file=")) for a in argv)
        files = ops if has_script_opt else ops[1:]
        found += [(_abs(f, cwd), False, "sed -i", False) for f in files]
    elif prog == "tee":
        found += [(_abs(f, cwd), False, "tee", False) for f in _operands(argv)]
    elif prog in {"cp", "mv", "install", "rsync"}:
        ops = _operands(argv, frozenset({"-t", "--target-directory", "-m", "--mode", "-o", "-g", "--owner",
                                         "--group", "-S", "--suffix"}))
        target = next((argv[i + 1] for i, a in enumerate(argv[:-1]) if a in {"-t", "--target-directory"}), None)
        if target is None and len(ops) >= 2:
            target = ops[-1]
        if target is not None:
            into = target.endswith("/") or len(ops) > 2 or "-t" in argv or "--target-directory" in argv
            found.append((_abs(target, cwd), into, prog, False))
    elif prog == "mkdir":
        parents = any(a in {"-p", "--parents"} or (a.startswith("-") and not a.startswith("--") and "p" in a)
                      for a in argv[1:])
        found += [(_abs(d, cwd), True, "mkdir -p" if parents else "mkdir", parents)
                  for d in _operands(argv, frozenset({"-m", "--mode"}))]
    elif prog == "touch":
        found += [(_abs(f, cwd), False, "touch", False) for f in _operands(argv, frozenset({"-d", "-r", "-t"}))]
    elif prog == "ln":
        ops = _operands(argv, frozenset({"-t", "--target-directory", "-S", "--suffix"}))
        if len(ops) == 2:
            found.append((_abs(ops[1], cwd), False, "ln", False))
    elif prog == "git" and len(argv) > 1 and argv[1] == "clone":
        ops = _operands(argv[1:], frozenset({"-b", "--branch", "--depth", "-o", "--origin", "-c", "--config",
                                             "--reference", "-j", "--jobs", "--filter", "--template"}))
        if len(ops) >= 2:
            found.append((_abs(ops[1], cwd), True, "git clone", False))
        elif len(ops) == 1:
            name = ops[0].rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1].removesuffix(".git")
            found.append((_abs(name, cwd), True, "git clone", False))
    return [(p, d, h, c) for p, d, h, c in found if p is not None]


def _writes(cmd: Command, argv: list[str], cwd: str | None) -> list[tuple[str, bool, str, bool]]:
    """(path, is_dir, how, precreate) of one command: its redirections and what its program writes."""
    return [*_redirect_writes(cmd, cwd), *(_command_writes(argv, cwd) if argv else [])]


def writes_of(cmd: Command, cwd: str | None) -> list[tuple[str, bool, str]]:
    """(path, is_dir, how) that one shell command writes, relative paths resolved in ``cwd`` (a RUN's
    WORKDIR, the start's)."""
    return [(p, d, h) for p, d, h, _pre in _writes(cmd, _program_words(cmd), cwd)]


def _redirect_writes(cmd: Command, cwd: str | None) -> list[tuple[str, bool, str, bool]]:
    out = []
    for r in cmd.redirects:
        if r.op in {">", ">>", "&>", "&>>", ">|"} and r.target is not None and r.target.is_literal:
            target = r.target.text
            if target.startswith(("/dev/", "/proc/")) or target.isdigit():
                continue
            path = _abs(target, cwd)
            if path is not None:
                out.append((path, False, f"`{r.op}` redirection", False))
    return out


#: Django's collected static files: the setting in a settings module (a literal absolute path)
_STATIC_ROOT = re.compile(r"""^STATIC_ROOT\s*=\s*(?:os\.environ\.get\([^,]+,\s*)?["'](/[^"'$]+)["']""", re.MULTILINE)


def _static_root(ctx: Context, chain: list[Stage], env: dict[str, str]) -> str | None:
    for name in ("STATIC_ROOT", "DJANGO_STATIC_ROOT"):
        value = env.get(name)
        if value and value.startswith("/") and _literal(value):
            return value
    for copy in ctx.facts.context_copies(chain):
        for src in copy.sources:
            for rel in settings_files(ctx, src):
                text = ctx.read_side(rel)
                m = _STATIC_ROOT.search(text or "")
                if m:
                    return m.group(1)
    return None


def settings_files(ctx: Context, src: str) -> list[str]:
    """Django settings modules under a copied source (``*/settings.py``, ``*/settings/*.py``)."""
    from rewriter.facts.context import inside

    root = inside(ctx.context_dir, src)
    if root is None or not root.is_dir():
        return [src] if src.endswith("settings.py") else []
    base = ctx.context_dir.resolve() if ctx.context_dir is not None else root
    out = []
    for pattern in ("settings.py", "*/settings.py", "*/settings/*.py", "*/*/settings.py"):
        out += [p.relative_to(base).as_posix() for p in sorted(root.glob(pattern)) if p.is_file()]
    return out[:10]


def _package_scripts(ctx: Context) -> dict[str, str]:
    text = ctx.read_side("package.json")
    try:
        pkg = json.loads(text) if text else None
    except ValueError:
        return {}
    scripts = pkg.get("scripts") if isinstance(pkg, dict) else None
    return {k: v for k, v in scripts.items() if isinstance(v, str)} if isinstance(scripts, dict) else {}


def _npm_script(argv: list[str]) -> str | None:
    """The package script an ``npm``/``yarn``/``pnpm`` command runs (``npm start`` -> start)."""
    prog = basename(argv[0]) if argv else ""
    if prog not in {"npm", "yarn", "pnpm"}:
        return None
    ops = [a for a in argv[1:] if not a.startswith("-")]
    if not ops:
        return None
    if ops[0] in {"start", "test", "stop", "restart"} and prog == "npm":
        return ops[0]
    if ops[0] in {"run", "run-script"}:
        return ops[1] if len(ops) > 1 else None
    return ops[0] if prog in {"yarn", "pnpm"} else None


def context_source(ctx: Context, chain: list[Stage], target: str, workdir: str) -> str | None:
    """The build-context path (file or folder) that a COPY/ADD put at ``target`` (an absolute path, one
    relative to ``workdir``, or a bare name looked up by its base name); None when none is known."""
    from rewriter.facts.context import inside

    if "$" in target:
        return None
    path = posixpath.normpath(target if target.startswith("/") else posixpath.join(workdir, target))
    for copy in reversed(list(ctx.facts.context_copies(chain))):
        dest = copy.dest.rstrip("/") or "/"
        for src in copy.sources:
            src_dir = src.rstrip("/")
            candidates = []
            if not copy.into_dir and path == dest:
                candidates.append(src)
            if path.startswith(dest.rstrip("/") + "/"):
                rest = path[len(dest.rstrip("/")) + 1:]
                candidates.append(rest if src_dir in {".", ""} else f"{src_dir}/{rest}")
                if copy.into_dir and "/" not in rest and basename(src) == rest:
                    candidates.append(src)
            if "/" not in target and basename(src) == target:
                candidates.append(src)
            for rel in candidates:
                rel = rel.removeprefix("./")
                if not rel or "*" in rel:
                    continue
                key = f"startuse:in-context:{rel}"  # the build context does not change during a run
                there = ctx.memo.get(key)
                if there is None:
                    found = inside(ctx.context_dir, rel)
                    there = ctx.memo[key] = bool(found is not None and found.exists()) or ctx.read_side(rel) is not None
                if there:
                    return rel
    return None


def context_script(ctx: Context, chain: list[Stage], target: str, workdir: str) -> tuple[str, str] | None:
    """(context path, text) of the build-context file that a COPY/ADD put at ``target``."""
    rel = context_source(ctx, chain, target, workdir)
    text = ctx.read_side(rel) if rel is not None else None
    return (rel, text) if rel is not None and text is not None else None


def start_use(ctx: Context, stage: Stage) -> StartUse | None:
    """What the start of ``stage`` runs and writes; None when the Dockerfile sets no start (it comes
    from the base image)."""
    start = ctx.facts.start(stage)
    texts = start.texts()
    if texts is None:
        return None
    chain = ctx.facts.chain(stage)
    workdir = ctx.facts.app_workdir(stage) or "/"
    env = dict(ctx.facts.final(stage).env)
    scripts: dict[str, str] | None = None
    queue: list[tuple[str, str, int, str | None]] = [
        (t, f"the {inst.keyword}", 0, workdir) for inst, t in zip(start.lines, texts, strict=True)]
    commands: list[StartCommand] = []
    writes: list[Write] = []
    seen: set[str] = set()
    while queue:
        text, where, depth, cwd = queue.pop(0)
        for cmd in _flatten(parse_shell(text).commands):
            argv = _program_words(cmd)
            writes += [Write(path, is_dir, how, where, pre) for path, is_dir, how, pre in _writes(cmd, argv, cwd)]
            if not argv:
                continue
            commands.append(StartCommand(tuple(argv), where, cwd))
            inner = shell_c(argv)
            if inner is not None:  # `sh -c "…"` inside a shell form or a script: its text runs too
                queue.append((inner, where, depth, cwd))
                continue
            if basename(argv[0]) == "cd" and cmd.depth == 0:
                ops = _operands(argv)
                cwd = _abs(ops[0], cwd) if ops else None
                continue
            if _is_collectstatic(argv):
                root = _static_root(ctx, chain, env)
                if root is not None:
                    writes.append(Write(root, True, "collectstatic (STATIC_ROOT)", where, precreate=True))
            if depth >= DEPTH:
                continue
            name = _npm_script(argv)
            if name is not None:
                scripts = _package_scripts(ctx) if scripts is None else scripts
                for key in (f"pre{name}", name):
                    if key in scripts and f"scripts.{key}" not in seen:
                        seen.add(f"scripts.{key}")
                        queue.append((scripts[key], f"scripts.{key} of package.json", depth + 1, cwd))
            for word in argv:
                if "/" not in word and not word.endswith(".sh") and "entrypoint" not in word:
                    continue
                found = context_script(ctx, chain, word, cwd or workdir)
                if found is not None and found[0] not in seen:
                    seen.add(found[0])
                    queue.append((found[1], f"the script {found[0]} (run at start)", depth + 1, cwd))
    return StartUse(tuple(commands), tuple(writes))


def _flatten(commands: tuple[Command, ...]) -> list[Command]:
    out: list[Command] = []
    for c in commands:
        out.append(c)
        out += _flatten(c.substitutions)
    return out


def _is_collectstatic(argv: list[str]) -> bool:
    words = [basename(a) for a in argv]
    return "collectstatic" in words and any(w in {"manage.py", "django-admin"} for w in words)
