"""``Facts``: the model of one parsed Dockerfile, built lazily and shared by every codemod of a round."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from rewriter.core.syntax import Dockerfile, Instruction, Stage
from rewriter.facts.commands import Runs
from rewriter.facts.scope import Scope, Scopes, join
from rewriter.facts.start import Start, start_of


@dataclass(frozen=True)
class ContextCopy:
    """A COPY/ADD from the build context: its sources, and its destination made absolute."""

    inst: Instruction
    sources: tuple[str, ...]
    dest: str  #: absolute and normalised (the WORKDIR in force at the COPY applied)
    into_dir: bool  #: the sources go into the destination folder (``dest/``, several sources, ``.``)


class Facts:
    """Questions about one tree, each answered once (see :mod:`rewriter.facts`)."""

    def __init__(self, tree: Dockerfile, base_workdir: Callable[[str], str | None] | None = None) -> None:
        self.tree = tree
        self.base_workdir = base_workdir
        self._context_copies: dict[int, tuple[ContextCopy, ...]] = {}  # by stage index

    @functools.cached_property
    def scopes(self) -> Scopes:
        return Scopes(self.tree, self.base_workdir)

    @functools.cached_property
    def runs(self) -> Runs:
        return Runs(self.scopes)

    # -- stages
    def parent(self, stage: Stage) -> Stage | None:
        return self.scopes.parent(stage)

    def chain(self, stage: Stage) -> list[Stage]:
        """The stage and the earlier stages it is built FROM, oldest first."""
        return self.scopes.chain(stage)

    def copy_source(self, inst: Instruction) -> Stage | None:
        """The earlier stage a ``COPY --from=NAME`` takes its files from (None: an image or the context)."""
        flag = inst.flag("from") if inst.keyword in {"COPY", "ADD"} else None
        own = self.scopes.stage_of(inst)
        source = self.tree.stage_named(flag.value or "") if flag is not None else None
        if source is None or own is None or source.index >= own.index:
            return None
        return source

    def is_ancestor(self, candidate: Stage, stage: Stage) -> bool:
        """Is ``candidate`` ``stage`` itself or a stage it is built FROM?"""
        return any(st.index == candidate.index for st in self.chain(stage))

    # -- scopes
    def workdir_at(self, inst: Instruction) -> str | None:
        """The working directory ``inst`` runs in (absolute; None when not known here)."""
        return self.scopes.workdir_at(inst)

    def before(self, inst: Instruction) -> Scope:
        return self.scopes.before(inst)

    def final(self, stage: Stage) -> Scope:
        """What the stage's start (CMD/ENTRYPOINT) runs with: WORKDIR, ENV, USER at its end."""
        return self.scopes.final(stage)

    def app_workdir(self, stage: Stage) -> str | None:
        """The WORKDIR the Dockerfile sets for the stage's start (inherited from the stages it is
        built FROM), or None when it sets none or sets it from a variable not known here."""
        scope = self.final(stage)
        return scope.workdir if scope.workdir_set else None

    def start(self, stage: Stage) -> Start:
        """The CMD/ENTRYPOINT in effect at the end of ``stage`` (inherited ones included)."""
        return start_of(self.chain(stage))

    def shell(self, stage: Stage) -> tuple[str, ...] | None:
        """The SHELL in force at the end of ``stage`` (None: the image's ``/bin/sh -c``)."""
        return self.final(stage).shell

    def context_copies(self, stages: Iterable[Stage]) -> Iterator[ContextCopy]:
        """The COPY/ADD instructions of ``stages`` that take files from the build context (not
        ``--from``, no heredoc, no variable in a path, a known WORKDIR), in order, with the WORKDIR
        in force at each applied."""
        for st in stages:
            found = self._context_copies.get(st.index)
            if found is None:
                found = self._context_copies[st.index] = tuple(self._stage_context_copies(st))
            yield from found

    def _stage_context_copies(self, stage: Stage) -> Iterator[ContextCopy]:
        for inst in stage.instructions:
            if inst.keyword not in {"COPY", "ADD"} or inst.flag("from") or inst.heredocs:
                continue
            words = list(inst.argv)
            if len(words) < 2 or any("$" in w for w in words):
                continue
            workdir = self.workdir_at(inst)
            srcs, dest = tuple(words[:-1]), words[-1]
            if workdir is None and not dest.startswith("/"):
                continue
            into_dir = dest.endswith("/") or len(srcs) > 1 or dest in {".", "./"}
            yield ContextCopy(inst, srcs, join(workdir or "/", dest), into_dir)
