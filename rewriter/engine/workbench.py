"""The one engine that runs the codemods over a Dockerfile's text and the side files beside it.

Every command goes through it: ``fix``/``diff``/``check`` and batches (:mod:`rewriter.engine.pipeline`,
rounds until stable), ``suggest`` and the language server (:class:`Workbench`, one fix at a time),
``verify`` and ``migrate`` (through the pipeline).

* :class:`SideFiles` reads files of the build context once (``None``: absent or unreadable), never
  outside it, and never writes.
* :func:`propose` builds the round's :class:`~rewriter.facts.Context` (the facts are computed once per
  round from it) and collects every codemod's fixes and notes, in registry order.
* :func:`validate_text` is the check every output passes before it is used or written.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rewriter.core.edits import Edit, Fix, Note, apply_edits
from rewriter.core.source import SourceError, read_text
from rewriter.core.syntax import Dockerfile, DockerfileSyntaxError, Instruction, parse
from rewriter.engine.config import Config
from rewriter.facts import Context, inside

if TYPE_CHECKING:
    from transforms import Transform


def validate_text(text: str) -> None:
    """Raise :class:`DockerfileSyntaxError` unless ``text`` is a usable Dockerfile."""
    tree = parse(text)
    if tree.code != text:  # a broken invariant must never reach a user's file
        raise DockerfileSyntaxError("internal error: the syntax tree lost bytes")
    tree.validate()


class SideFiles:
    """Files of the build context as they are on disk, each read once."""

    def __init__(self, context_dir: Path | None) -> None:
        self.context_dir = context_dir
        self.originals: dict[str, str | None] = {}

    def original(self, rel: str) -> str | None:
        """The text on disk of ``rel`` (``None``: it does not exist, cannot be read, or is outside)."""
        if rel not in self.originals:
            target = inside(self.context_dir, rel)
            try:
                self.originals[rel] = read_text(target) if target and target.is_file() else None
            except SourceError:
                self.originals[rel] = None
        return self.originals[rel]


def propose(
    tree: Dockerfile,
    transforms: Sequence[object],
    *,
    path: str,
    context_dir: Path | None,
    config: Config,
    side_reader: Callable[[str], str | None],
    dockerfile_path: Path | None = None,
    memo: dict[str, object] | None = None,
) -> list[Fix | Note]:
    """Every fix and note ``transforms`` propose on ``tree`` (with side files read by ``side_reader``)."""
    ctx = Context(tree, Path(path), context_dir, config, side_reader, dockerfile_path,
                  memo if memo is not None else {})
    out: list[Fix | Note] = []
    for t in transforms:
        out.extend(t.run(ctx))  # type: ignore[attr-defined]
    return out


class FixNotApplicable(Exception):
    """A proposed fix cannot be applied to the current text (it would break the Dockerfile)."""


def instruction_at(tree: Dockerfile, line: int) -> Instruction | None:
    """The instruction whose lines include 1-based ``line`` (``None`` for comments, blanks, line 0)."""
    for inst in tree.instructions:
        if inst.start_line <= line <= inst.end_line:
            return inst
    return None


@dataclass
class Workbench:
    """One Dockerfile's current text and the side files the accepted fixes changed.

    ``propose()`` runs the transforms on the current texts (cached until the next ``apply``);
    ``apply(fix)`` applies one fix proposed on them. Side files are read from the build context
    on first use and never written here. Used by ``suggest`` and the language server.
    """

    text: str
    path: str = "Dockerfile"
    context_dir: Path | None = None
    config: Config = field(default_factory=Config)
    transforms: Sequence[Transform] = ()
    dockerfile_path: Path | None = None
    #: current text of each side file an accepted fix edited
    sides: dict[str, str] = field(default_factory=dict)
    _disk: SideFiles | None = field(default=None, repr=False)
    _cache: list[Fix | Note] | None = field(default=None, repr=False)

    @property
    def side_originals(self) -> dict[str, str | None]:
        """Text on disk of each side file read so far (``None``: it does not exist)."""
        return self.disk.originals

    @property
    def disk(self) -> SideFiles:
        if self._disk is None:
            self._disk = SideFiles(self.context_dir)
        return self._disk

    def read_side(self, rel: str) -> str | None:
        """Current text of side file ``rel`` (``None`` if it does not exist or cannot be read)."""
        if rel in self.sides:
            return self.sides[rel]
        return self.disk.original(rel)

    def tree(self) -> Dockerfile:
        return parse(self.text)

    def propose(self) -> list[Fix | Note]:
        """Every fix and note the transforms propose on the current texts, in registry order."""
        if self._cache is None:
            self._cache = propose(self.tree(), self.transforms, path=self.path, context_dir=self.context_dir,
                                  config=self.config, side_reader=self.read_side,
                                  dockerfile_path=self.dockerfile_path)
        return list(self._cache)

    def trial(self, fix: Fix) -> tuple[str, dict[str, str]]:
        """The texts after ``fix``; raises :class:`FixNotApplicable` if they are not usable."""
        by_path: dict[str | None, list[Edit]] = {}
        for e in fix.edits:
            by_path.setdefault(e.path, []).append(e)
        if not by_path:
            raise FixNotApplicable("the fix has no edits")
        sides: dict[str, str] = {}
        text = self.text
        try:
            for p, eds in by_path.items():
                if p is None:
                    text = apply_edits(self.text, eds)
                    continue
                if inside(self.context_dir, p) is None:
                    raise FixNotApplicable(f"{p} is outside the build context")
                sides[p] = apply_edits(self.read_side(p) or "", eds)
            validate_text(text)
        except FixNotApplicable:
            raise
        except Exception as exc:
            raise FixNotApplicable(str(exc)) from None
        return text, sides

    def apply(self, fix: Fix) -> None:
        """Apply ``fix`` (proposed on the current texts)."""
        text, sides = self.trial(fix)
        self.text = text
        self.sides.update(sides)
        self._cache = None

    def changed_sides(self) -> dict[str, str]:
        """Side files whose current text differs from the disk: relative path -> new text."""
        return {rel: new for rel, new in sorted(self.sides.items()) if new != self.side_originals.get(rel)}
