"""What every ``multistage`` planner shares: the ``Plan`` a split carries out, ``Refuse`` (and
``_NotDistroless``, a refusal a same-family runtime may still take), the runtime table in force and the
day end of life is judged against (``TODAY``), and the helpers the stacks read the stage with (its
WORKDIR, absolute paths, a command's options, an image tag's version, a version's end of life).
It imports no other module of the package: every other one builds on it.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from rewriter.core.edits import Edit
from rewriter.core.shell import Command
from rewriter.core.syntax import Instruction, Stage
from rewriter.facts import Context, ImageRef
from rewriter.facts.scope import expand, join
from transforms._data import checked_date, load, merged

ID = "multistage"

#: the day the runtime table (``data/runtimes.yaml`` ``checked``) was last reviewed: end of life is
#: judged against it, so a decision never depends on the day dockerfix runs
TODAY = checked_date("runtimes")

#: the runtime table of the run in progress: the shipped one with the configuration's ``tables:
#: runtimes`` additions (set by the multistage codemod for the length of one ``run``)
_RUNTIMES: ContextVar[Any] = ContextVar("runtimes")


def runtimes() -> Any:
    """The runtime table in force (``data/runtimes.yaml`` plus the configuration's additions)."""
    table = _RUNTIMES.get(None)
    return table if table is not None else load("runtimes")


#: builder paths resolved from build arguments (``/out/${APP}`` -> ``/out/svc``) during one ``run``:
#: resolved path -> the path as written (the runtime's COPY keeps the argument, with its ARG re-declared)
_ARG_PATHS: ContextVar[dict[str, str]] = ContextVar("arg_paths")


def arg_paths() -> dict[str, str]:
    return _ARG_PATHS.get({})


@contextmanager
def runtimes_of(ctx: Context) -> Iterator[None]:
    """Make ``runtimes()`` the table with ``ctx``'s configuration additions while the block runs."""
    token = _RUNTIMES.set(merged("runtimes", ctx.config.tables.get("runtimes")))
    paths = _ARG_PATHS.set({})
    try:
        yield
    finally:
        _RUNTIMES.reset(token)
        _ARG_PATHS.reset(paths)


@dataclass
class Plan:
    """What the runtime stage needs."""

    stack: str
    runtime: str
    copies: list[tuple[str, str]] = field(default_factory=list)  # (builder path, runtime path)
    entrypoint: list[str] = field(default_factory=list)
    builder_edits: list[Edit] = field(default_factory=list)
    #: no builder: only the base image changes (a prebuilt static binary)
    rebase_only: bool = False
    packages: list[str] = field(default_factory=list)  # runtime libraries a slim runtime installs
    notes: list[str] = field(default_factory=list)
    #: a same-family runtime with a shell: the start lines move as they are (no exec-form rewrite)
    shell: bool = False
    #: the package manager of the runtime stage (``apt`` or ``apk``)
    installer: str = "apt"
    #: ``--no-install-recommends`` on the runtime's apt-get install (as every install of the builder had it)
    no_recommends: bool = True
    #: the USER the runtime stage runs as (the builder's last USER), if any
    user: str | None = None


class Refuse(Exception):
    """Leave the file unchanged: ``reason`` says why, ``hint`` (optional) what the user can do; the note
    is ``message``. Callers that fall back to another plan read ``reason``, never the text."""

    def __init__(self, reason: str, hint: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.hint = hint

    @property
    def message(self) -> str:
        return f"{self.reason}; {self.hint}" if self.hint else self.reason

    def __str__(self) -> str:
        return self.message


class _NotDistroless(Refuse):
    """The app cannot run on distroless (its start needs a shell, a library distroless lacks): a
    same-family runtime may still take it."""


def _alive(row: dict) -> bool:
    """Is a runtime-table row still updated by its publisher (its end of life after TODAY)?"""
    return datetime.date.fromisoformat(str(row["eol"])) > TODAY


def abs_at(ctx: Context, inst: Instruction, path: str) -> str:
    """``path`` as the build instruction ``inst`` sees it, absolute (relative to its own WORKDIR).

    A build argument in it (``-o /out/${APP}``) is resolved with its default; the path as written is
    remembered (:func:`arg_paths`) so that the runtime's COPY keeps the argument. A variable without a
    value here refuses: which file the runtime needs is decided at build time."""
    raw = path
    scope = ctx.facts.before(inst)
    if "$" in path:
        resolved = expand(path, scope.values, ctx.tree.escape)
        if resolved is None or "$" in resolved:
            raise Refuse(f"line {inst.start_line} writes {path}, whose variable has no value in the Dockerfile "
                         "(a --build-arg without a default): cannot tell which file the runtime needs")
        path = resolved
    if path.startswith("/"):
        out = join("/", path)
        written = join("/", raw)
    else:
        workdir = ctx.facts.workdir_at(inst)
        if workdir is None:
            raise Refuse(f"the WORKDIR of line {inst.start_line} is set from a variable whose value is not in "
                         f"the Dockerfile: cannot tell where {path} is")
        out, written = join(workdir, path), join(workdir, raw)
    names = set(re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", raw))
    if names and names <= set(scope.args) and not names & set(scope.env):
        _ARG_PATHS.get({})[out] = written  # build arguments only: the runtime re-declares them
    return out


def virtualenvs(ctx: Context, stage: Stage, runs: list[tuple[Instruction, Command]]) -> list[str]:
    """Virtualenvs the builder creates (``python -m venv DIR``, ``virtualenv DIR``, ``uv venv DIR``, each
    relative to the WORKDIR of its RUN) or names in ``ENV VIRTUAL_ENV``, as absolute paths."""
    found: list[str] = []
    for inst, c in runs:
        argv = list(c.argv)
        prog = argv[0].rsplit("/", 1)[-1] if argv else ""
        if re.fullmatch(r"python[0-9.]*", prog) and argv[1:3] == ["-m", "venv"]:
            rest = argv[3:]
        elif prog == "virtualenv" or (prog == "uv" and argv[1:2] == ["venv"]):
            rest = argv[2:] if prog == "uv" else argv[1:]
        else:
            continue
        dirs = [a for a in rest if not a.startswith("-")]
        if dirs and "$" not in dirs[-1]:
            found.append(abs_at(ctx, inst, dirs[-1]))
    for inst in stage.instructions:
        if inst.keyword == "ENV" and any(w.text.startswith("VIRTUAL_ENV") for w in inst.words):
            value = ctx.facts.scopes.after(inst).env.get("VIRTUAL_ENV")
            if value and value.startswith("/"):
                found.append(join("/", value))
    return list(dict.fromkeys(found))


def _workdir(ctx: Context, stage: Stage) -> str:
    """The WORKDIR the start runs in (``/`` when the Dockerfile sets none); refused when it is set
    from a variable whose value the Dockerfile does not give."""
    workdir = ctx.facts.final(stage).workdir
    if workdir is None:
        raise Refuse("the WORKDIR is set from a variable whose value is not in the Dockerfile (the base image's "
                      "or a build argument's): cannot tell where the application is")
    return workdir


def _abs(ctx: Context, stage: Stage, path: str) -> str:
    """``path`` of the start command, absolute (relative to the WORKDIR the start runs in)."""
    return path if path.startswith("/") and join("/", path) == path else join(_workdir(ctx, stage), path)


def _stage_value(ctx: Context, stage: Stage, name: str) -> str | None:
    """The value an ENV (or an ARG default) of the stage gives ``name``, the last one set (facts layer)."""
    value = None
    for inst in stage.instructions:
        if inst.keyword in {"ENV", "ARG"}:
            value = ctx.facts.scopes.after(inst).values.get(name, value)
    return value


def _option(argv: tuple[str, ...] | list[str], flag: str) -> str | None:
    for i, a in enumerate(argv):
        if a == flag and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith(flag + "="):
            return a.split("=", 1)[1]
    return None


def _version(tag: str | None, pattern: str) -> str | None:
    m = re.search(pattern, tag or "")
    return m.group(1) if m else None


def _override(ctx: Context, key: str, default: str) -> str:
    return ctx.config.images.get(key, default)


def _glibc_ok(image: ImageRef, runtime_glibc: str) -> bool:
    table = runtimes()["glibc"]
    tag = image.tag or ""
    for release, version in table.items():
        if release in tag and tuple(map(int, version.split("."))) > tuple(map(int, runtime_glibc.split("."))):
            return False
    return True


def _distroless(kind: str) -> dict:
    return runtimes()["distroless"][kind]


def eol_date(stack: str, version: str) -> datetime.date | None:
    """The day ``stack`` ``version`` stops being supported (``families.<stack>.versions``), None when the
    table does not know the version."""
    dates = runtimes()["families"].get(stack, {}).get("versions", {})
    day = dates.get(version)
    return datetime.date.fromisoformat(str(day)) if day is not None else None


def end_of_life_note(stack: str, version: str) -> list[str]:
    """The note a split on a version past end of life carries: the version stays (a split never moves
    it; the ``upgrade`` codemod does, when selected by name)."""
    day = eol_date(stack, version)
    if day is not None and day > TODAY:
        return []
    when = f"since {day.isoformat()}" if day is not None else "or unknown to the runtime table"
    return [f"{stack.capitalize()} {version} is past end of life ({when}): the runtime stays on {version}; "
            f"`dockerfix fix --select upgrade --unsafe-fixes` moves the version (a separate change)"]
