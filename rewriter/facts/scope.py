"""What is in force at each instruction: WORKDIR, ENV and ARG values, USER, SHELL; stage ancestry.

BuildKit's rules, as far as the Dockerfile alone tells them:

* A stage built ``FROM`` an earlier stage starts with that stage's WORKDIR, ENV, USER and SHELL; a
  stage built from an image starts at ``/`` with nothing known of the image's own ENV.
* ARG is in scope from its declaration to the end of its stage. A global ARG (before the first
  FROM) is in scope in a stage only when the stage declares it again (``ARG NAME``), with the
  global default. ENV wins over an ARG of the same name. Values are the defaults: the facts describe
  the build the Dockerfile makes without ``--build-arg``.
* ``WORKDIR``, ``ENV``, ``USER`` values are expanded with what is in scope (``$X``, ``${X}``,
  ``${X:-d}``, ``${X-d}``, ``${X:+a}``, ``${X+a}``, quotes, the escape character). A value that
  names a variable nobody in the file set (one of the base image's, a build argument without a
  default) is *unresolved*: ``None``, never a guess.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from rewriter.core.syntax import Dockerfile, Instruction, Stage

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class Unresolved(Exception):
    """A word names a variable whose value the Dockerfile does not give."""


def expand(text: str, values: Mapping[str, str | None], escape: str = "\\") -> str | None:
    """``text`` as BuildKit's word expansion gives it (quotes removed, variables replaced), or None
    when it names a variable whose value is not known here."""
    try:
        return _expand(text, values, escape)
    except Unresolved:
        return None


def _expand(text: str, values: Mapping[str, str | None], escape: str) -> str:
    out: list[str] = []
    i, n, quote = 0, len(text), ""
    while i < n:
        c = text[i]
        if quote == "'":
            if c == "'":
                quote = ""
            else:
                out.append(c)
            i += 1
        elif c == escape and i + 1 < n:
            nxt = text[i + 1]
            if quote == '"' and nxt not in ('"', "$", escape):
                out.append(c)
                i += 1
            else:
                out.append(nxt)
                i += 2
        elif c == "'" and not quote:
            quote = "'"
            i += 1
        elif c == '"':
            quote = "" if quote else '"'
            i += 1
        elif c == "$" and i + 1 < n:
            value, i = _variable(text, i, values, escape)
            out.append(value)
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _lookup(name: str, values: Mapping[str, str | None]) -> str | None:
    return values.get(name)


def _variable(text: str, i: int, values: Mapping[str, str | None], escape: str) -> tuple[str, int]:
    """Expand the ``$`` at ``text[i]``; return the value and the index after the reference."""
    if text[i + 1] != "{":
        m = _NAME.match(text, i + 1)
        if not m:
            return "$", i + 1
        value = _lookup(m.group(0), values)
        if value is None:
            raise Unresolved(m.group(0))
        return value, m.end()
    close = text.find("}", i + 2)
    m = _NAME.match(text, i + 2)
    if close < 0 or not m:
        raise Unresolved(text[i:])
    name, rest = m.group(0), text[m.end() : close]
    known = name in values and values[name] is not None
    value = values.get(name)
    if rest == "":
        if not known:
            raise Unresolved(name)
        return value or "", close + 1
    op = next((o for o in (":-", ":+", "-", "+") if rest.startswith(o)), None)
    if op is None:
        raise Unresolved(name)  # ${X%…}, ${X:?…}, ${#X}: not resolved here
    if not known:
        raise Unresolved(name)  # it may be set by the base image or a build argument
    word = _expand(rest[len(op) :], values, escape)
    if op == ":-":
        return (value or word), close + 1
    if op == "-":
        return value or "", close + 1
    if op == ":+":
        return (word if value else ""), close + 1
    return word, close + 1


def join(base: str, path: str) -> str:
    """``path`` made absolute against ``base`` and normalised (``WORKDIR`` and COPY destinations)."""
    return posixpath.normpath(posixpath.join(base, path))


@dataclass(frozen=True)
class Scope:
    """What is in force after an instruction (and so during the next one)."""

    #: the working directory, absolute and normalised; ``"/"`` when nothing set it; None when a WORKDIR
    #: was set from a variable whose value is not known here
    workdir: str | None = "/"
    #: some WORKDIR of this stage or of a stage it is built from set it (else it is the base image's)
    workdir_set: bool = False
    #: ENV values in force (None: set from something unresolved)
    env: Mapping[str, str | None] = field(default_factory=dict)
    #: ARG values in scope, their defaults (None: no default, or unresolved)
    args: Mapping[str, str | None] = field(default_factory=dict)
    #: the USER in force (expanded), None when no USER set it (the base image's user)
    user: str | None = None
    #: the SHELL in force (its JSON arguments), None for the image's default ``/bin/sh -c``
    shell: tuple[str, ...] | None = None
    values: Mapping[str, str | None] = field(default_factory=dict, compare=False)

    def expand(self, text: str, escape: str = "\\") -> str | None:
        return expand(text, self.values, escape)


def _with_values(scope: Scope, **changes: object) -> Scope:
    base = {**scope.__dict__, **changes}
    env, args = base["env"], base["args"]
    base["values"] = MappingProxyType({**args, **env})  # ENV wins over an ARG of the same name
    return Scope(**base)  # type: ignore[arg-type]


def env_written(inst: Instruction) -> list[tuple[str, str]]:
    """The (name, value) pairs an ENV sets, in order, as written (quotes resolved, variables not
    expanded); the legacy ``ENV NAME value`` form too."""
    words = inst.words
    if not words:
        return []
    if "=" not in words[0].text:  # legacy form: ENV NAME the rest of the line
        return [(words[0].text, inst.arguments[len(words[0].text) :].strip())]
    out: list[tuple[str, str]] = []
    for w in words:
        name, eq, value = w.text.partition("=")
        if eq:
            out.append((name, value))
    return out


def env_pairs(inst: Instruction, values: Mapping[str, str | None]) -> list[tuple[str, str | None]]:
    """The (name, value) pairs an ENV sets, in order, expanded with ``values`` (in BuildKit every pair of
    one ENV sees the values from before that instruction); the legacy ``ENV NAME value`` form too."""
    return [(name, expand(value, values, inst.escape)) for name, value in env_written(inst)]


def arg_pairs(inst: Instruction, values: Mapping[str, str | None]) -> list[tuple[str, str | None, bool]]:
    """(name, default, has_default) for each name an ARG declares."""
    out: list[tuple[str, str | None, bool]] = []
    for w in inst.words:
        name, eq, value = w.text.partition("=")
        out.append((name, expand(value, values, inst.escape) if eq else None, bool(eq)))
    return out


class Scopes:
    """Per-instruction scopes and stage ancestry of one parsed Dockerfile, computed in one pass."""

    def __init__(self, tree: Dockerfile, base_workdir: Callable[[str], str | None] | None = None) -> None:
        self.tree = tree
        #: the WORKDIR an image sets (``golang`` -> /go), for stages built FROM an image
        self.base_workdir = base_workdir
        self._after: dict[int, Scope] = {}
        self._before: dict[int, Scope] = {}
        self._stage_of: dict[int, Stage] = {}
        self._final: dict[int, Scope] = {}
        self._parent: dict[int, Stage | None] = {}  # by stage index
        globals_: dict[str, str | None] = {}
        for inst in tree.instructions:
            if inst.keyword == "FROM":
                break
            if inst.keyword == "ARG":
                for name, value, _has in arg_pairs(inst, globals_):
                    globals_[name] = value
        self.global_args: Mapping[str, str | None] = MappingProxyType(globals_)
        for stage in tree.stages:
            self._walk(stage)

    # -- ancestry
    def parent(self, stage: Stage) -> Stage | None:
        """The earlier stage this one is built ``FROM``, if any."""
        if stage.index not in self._parent:
            ref = self.tree.stage_named(stage.base)
            self._parent[stage.index] = ref if ref is not None and ref.index < stage.index else None
        return self._parent[stage.index]

    def chain(self, stage: Stage) -> list[Stage]:
        """The stage and the earlier stages it is built FROM, oldest first."""
        out = [stage]
        current: Stage | None = self.parent(stage)
        while current is not None and current not in out:
            out.insert(0, current)
            current = self.parent(current)
        return out

    def stage_of(self, inst: Instruction) -> Stage | None:
        return self._stage_of.get(inst.start)

    # -- scopes
    def before(self, inst: Instruction) -> Scope:
        """What is in force when ``inst`` runs."""
        return self._before[inst.start]

    def after(self, inst: Instruction) -> Scope:
        """What is in force after ``inst`` (for a WORKDIR: the folder it set)."""
        return self._after[inst.start]

    def workdir_at(self, inst: Instruction) -> str | None:
        """The working directory ``inst`` runs in (a WORKDIR: the one it sets)."""
        return self._after[inst.start].workdir

    def final(self, stage: Stage) -> Scope:
        """What is in force at the end of ``stage`` (what its CMD/ENTRYPOINT run with)."""
        return self._final[stage.index]

    def _walk(self, stage: Stage) -> None:
        parent = self.parent(stage)
        if parent is not None:
            p = self._final[parent.index]
            scope = _with_values(Scope(), workdir=p.workdir, workdir_set=p.workdir_set, env=p.env, user=p.user,
                                 shell=p.shell)
        else:
            escape = self.tree.escape
            base = expand(stage.base, self.global_args, escape) if self.base_workdir else None
            scope = _with_values(Scope(workdir=(self.base_workdir(base) if base else None) or "/"))
        escape = self.tree.escape
        for inst in stage.instructions:
            self._stage_of[inst.start] = stage
            self._before[inst.start] = scope
            kw = inst.keyword
            if kw == "WORKDIR" and inst.arguments.strip():
                value = expand(inst.arguments.strip(), scope.values, escape)
                if value is None or (scope.workdir is None and not value.startswith("/")):
                    scope = _with_values(scope, workdir=None, workdir_set=True)
                else:
                    scope = _with_values(scope, workdir=join(scope.workdir or "/", value), workdir_set=True)
            elif kw == "ENV":
                env = dict(scope.env)
                env.update(env_pairs(inst, scope.values))
                scope = _with_values(scope, env=MappingProxyType(env))
            elif kw == "ARG":
                args = dict(scope.args)
                for name, value, has_default in arg_pairs(inst, scope.values):
                    args[name] = value if has_default else self.global_args.get(name)
                scope = _with_values(scope, args=MappingProxyType(args))
            elif kw == "USER" and inst.arguments.strip():
                scope = _with_values(scope, user=expand(inst.arguments.strip(), scope.values, escape))
            elif kw == "SHELL" and inst.exec_args:
                scope = _with_values(scope, shell=tuple(inst.exec_args))
            self._after[inst.start] = scope
        self._final[stage.index] = scope
