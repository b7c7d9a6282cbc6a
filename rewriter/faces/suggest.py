"""``dockerfix suggest``: review the fixes one by one, like ``git add -p``, and write the accepted ones.

Each fix is shown with its transform, its reason (the fix message; ``[e]xplain`` adds the
transform's explanation), its safety and a unified diff of just that fix, then the user answers
``[y]es / [n]o / [a]ll / [q]uit / [e]xplain``.

The review works round by round on the *current* text: the transforms run on the file as it is
after the fixes accepted so far, the first fix not yet answered is offered, and after each accepted
fix the transforms run again. So every fix offered was computed on valid text, fixes that only
appear once another has been applied (or that would have overlapped it) come in a valid order, and
no diff is ever stale. Fixes are offered top to bottom, except that an exclusive (structural) fix,
such as a new stage, is offered after the pending fixes of the transforms that run before it, as
``dockerfix fix`` applies them. A rejected fix is remembered by its transform, its message (digits ignored,
since line numbers move) and the span of the instruction it belongs to, which is carried through the
edits accepted later; it is not offered again.

Unsafe fixes are offered only with ``--unsafe-fixes``; without it they, display-only suggestions and
notes (refusals) are printed once as information, without a prompt. Nothing is written until the
review ends (all fixes answered, or ``q``); then the Dockerfile and any side file an accepted fix
edits (``.dockerignore``, an entry-point script, a compose file) are written atomically. Ctrl-C
writes nothing. Messages never hold secret values and the diffs show Dockerfile lines and the
changed lines of side files only (side-file diffs have no context lines).

:class:`~rewriter.engine.workbench.Workbench` (the current texts and the transforms' proposals on them)
is the engine's, shared with the language server (:mod:`rewriter.faces.lsp`).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

from rewriter.core.diff import unified_diff
from rewriter.core.edits import Applicability, Edit, Fix, Note
from rewriter.core.source import SourceError, read_text
from rewriter.core.syntax import Dockerfile
from rewriter.engine.workbench import FixNotApplicable, Workbench, instruction_at

if TYPE_CHECKING:
    pass

#: a review never takes more steps than this (each step accepts or rejects one fix)
MAX_STEPS = 500


def message_key(message: str) -> str:
    """A fix message without its numbers (line numbers move as fixes are applied)."""
    return re.sub(r"\d+", "#", message)


def anchor(tree: Dockerfile, fix: Fix) -> tuple[int, int] | None:
    """The span a fix belongs to: its instruction (by ``fix.line``), else its first Dockerfile edit."""
    inst = instruction_at(tree, fix.line)
    if inst is not None:
        return inst.start, inst.end
    own = [e for e in fix.edits if e.path is None]
    if own:
        first = min(own)
        return first.start, first.end
    return None


def map_position(pos: int, edits: Iterable[Edit], *, end: bool) -> int:
    """Where offset ``pos`` of a text lands after ``edits`` (current-text coordinates).

    Text inserted exactly at ``pos`` goes before a start and inside an end; a position inside a
    replaced span moves to the start (``end=False``) or the end (``end=True``) of the replacement.
    """
    delta = 0
    for e in sorted(edits):
        if e.start > pos:
            break
        if e.start == e.end == pos:  # an insertion at pos
            if end:
                break
            delta += len(e.content)
        elif e.end <= pos:
            delta += len(e.content) - (e.end - e.start)
        elif e.start < pos:  # pos lies inside the replaced span
            return e.start + delta + (len(e.content) if end else 0)
        else:  # a replacement starting at pos
            break
    return pos + delta


@dataclass
class Rejected:
    """A fix the user declined: transform, message key and the (moving) span of its instruction."""

    transform: str
    message: str
    span: tuple[int, int] | None

    def matches(self, fix: Fix, span: tuple[int, int] | None) -> bool:
        if fix.transform != self.transform or message_key(fix.message) != self.message:
            return False
        if self.span is None or span is None:
            return self.span is None and span is None
        a, b = self.span
        return a <= span[0] < b or (a == b == span[0])

    def moved(self, edits: Sequence[Edit]) -> None:
        if self.span is not None:
            a, b = self.span
            self.span = (map_position(a, edits, end=False), map_position(b, edits, end=True))


# ---- terminal output --------------------------------------------------------------------------

_RESET = "\x1b[0m"
_STYLES = {"bold": "\x1b[1m", "red": "\x1b[31m", "green": "\x1b[32m", "yellow": "\x1b[33m",
           "cyan": "\x1b[36m", "dim": "\x1b[2m", "magenta": "\x1b[35m"}
_SAFETY_STYLE = {Applicability.SAFE: "green", Applicability.UNSAFE: "yellow", Applicability.DISPLAY_ONLY: "cyan"}


class Terminal:
    """Writes the review to ``out``, in colour when ``color`` (ANSI escapes)."""

    def __init__(self, out: IO[str], color: bool) -> None:
        self.out = out
        self.color = color

    def style(self, text: str, *styles: str) -> str:
        if not self.color or not styles:
            return text
        return "".join(_STYLES[s] for s in styles) + text + _RESET

    def write(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def diff(self, patch: str) -> None:
        """Print a unified diff, coloured like git's (line endings shown as plain newlines)."""
        for line in patch.split("\n")[:-1] if patch.endswith("\n") else patch.split("\n"):
            shown = line.rstrip("\r")
            if shown.startswith(("---", "+++")):
                self.write(self.style(shown, "bold"))
            elif shown.startswith("@@"):
                self.write(self.style(shown, "cyan"))
            elif shown.startswith("-"):
                self.write(self.style(shown, "red"))
            elif shown.startswith("+"):
                self.write(self.style(shown, "green"))
            else:
                self.write(shown)


def use_color(stream: IO[str]) -> bool:
    """ANSI colour when ``stream`` is a terminal, unless ``NO_COLOR`` is set (https://no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def fix_hunks(wb: Workbench, fix: Fix) -> str:
    """The unified diff of ``fix`` alone on the current texts (side files without context lines)."""
    parts = [unified_diff(wb.path, wb.text, [e for e in fix.edits if e.path is None])]
    for rel in sorted({e.path for e in fix.edits if e.path is not None}):
        current = wb.read_side(rel)
        eds = [Edit(e.start, e.end, e.content) for e in fix.edits if e.path == rel]
        parts.append(unified_diff(_side_name(wb, rel), current or "", eds, context=0, new_file=current is None))
    return "".join(parts)


def _side_name(wb: Workbench, rel: str) -> str:
    if wb.context_dir is None:
        return rel
    try:
        return os.path.relpath(wb.context_dir / rel)
    except ValueError:
        return str(wb.context_dir / rel)


# ---- the review -------------------------------------------------------------------------------

PROMPT = "Apply this fix? [y]es / [n]o / [a]ll / [q]uit / [e]xplain: "
HELP = ("y - apply this fix\nn - do not apply this fix\na - apply this fix and all the remaining ones\n"
        "q - quit; apply none of the remaining fixes (the accepted ones are written)\n"
        "e - explain the transform behind this fix")


@dataclass
class Review:
    """The state of one interactive review (see the module docstring)."""

    wb: Workbench
    term: Terminal
    stdin: IO[str]
    unsafe_fixes: bool = False
    explains: dict[str, str] = field(default_factory=dict)
    accepted: list[Fix] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    shown: set[tuple[str, str, str]] = field(default_factory=set)
    internal_errors: int = 0

    def offerable(self, fix: Fix) -> bool:
        if not fix.edits:
            return False
        if fix.applicability == Applicability.SAFE:
            return True
        return self.unsafe_fixes and fix.applicability == Applicability.UNSAFE

    def show_info(self, items: Sequence[Fix | Note]) -> None:
        """Print, once each, the notes and the fixes that are not offered."""
        for item in items:
            if isinstance(item, Note):
                kind = "refused" if item.refusal else "note"
            elif item.applicability == Applicability.DISPLAY_ONLY or not item.edits:
                kind = "suggestion"
            elif item.applicability == Applicability.UNSAFE and not self.unsafe_fixes:
                kind = "unsafe fix (not offered; review it with --unsafe-fixes)"
            else:
                continue
            key = (kind, item.transform, message_key(item.message))
            if key in self.shown:
                continue
            self.shown.add(key)
            where = f"{self.wb.path}:{item.line}" if item.line else self.wb.path
            self.term.write(self.style_info(f"{where}: {kind} [{item.transform}] {item.message}"))

    def style_info(self, text: str) -> str:
        return self.term.style(text, "dim")

    def candidates(self) -> list[tuple[Fix, tuple[int, int] | None]]:
        items = self.wb.propose()
        self.show_info(items)
        tree = self.wb.tree()
        out: list[tuple[Fix, tuple[int, int] | None]] = []
        for f in items:
            if not isinstance(f, Fix) or not self.offerable(f):
                continue
            span = anchor(tree, f)
            if any(r.matches(f, span) for r in self.rejected):
                continue
            out.append((f, span))
        out.sort(key=lambda fs: ((fs[1] or (0, 0))[0], fs[0].start, fs[0].transform, fs[0].message))
        return self._exclusive_gate(out)

    def _exclusive_gate(self, cands: list[tuple[Fix, tuple[int, int] | None]]
                        ) -> list[tuple[Fix, tuple[int, int] | None]]:
        """As the pipeline does: an exclusive (structural) fix comes after every pending fix of the
        transforms that run before it, and alone; the fixes after it are computed on its result."""
        rank = {t.id: i for i, t in enumerate(self.wb.transforms)}

        def rank_of(f: Fix) -> int:
            return rank.get(f.transform, len(rank))

        exclusive = sorted((f for f, _ in cands if f.exclusive), key=lambda f: (rank_of(f), f.start))
        if not exclusive:
            return cands
        first = exclusive[0]
        before = [c for c in cands if rank_of(c[0]) < rank_of(first)]
        return before or [c for c in cands if c[0] is first]

    def reject(self, fix: Fix, span: tuple[int, int] | None) -> None:
        self.rejected.append(Rejected(fix.transform, message_key(fix.message), span))

    def accept(self, fix: Fix) -> None:
        own = [e for e in fix.edits if e.path is None]
        self.wb.apply(fix)
        for r in self.rejected:
            r.moved(own)
        self.accepted.append(fix)

    def show(self, fix: Fix) -> None:
        t = self.term
        safety = fix.applicability.label + (" fix" if fix.applicability != Applicability.DISPLAY_ONLY else "")
        t.write()
        t.write(t.style(f"{self.wb.path}:{fix.line}", "bold") + " " + t.style(f"[{fix.transform}]", "magenta")
                + " " + t.style(safety, _SAFETY_STYLE[fix.applicability], "bold"))
        t.write(fix.message)
        t.diff(fix_hunks(self.wb, fix))

    def explain(self, fix: Fix) -> None:
        text = self.explains.get(fix.transform, "").strip()
        self.term.write(text or f"(no explanation for {fix.transform})")

    def ask(self) -> str:
        """Read one answer; end of input counts as ``q``."""
        while True:
            self.term.out.write(self.term.style(PROMPT, "bold"))
            self.term.out.flush()
            line = self.stdin.readline()
            if not line:
                self.term.write()
                return "q"
            answer = line.strip().lower()
            if answer in {"y", "yes", "n", "no", "a", "all", "q", "quit", "e", "explain"}:
                return answer[0]
            self.term.write(HELP)

    def run(self) -> bool:
        """Review every fix; returns False if the fixes did not settle (an internal error)."""
        all_mode = False
        for _ in range(MAX_STEPS):
            cands = self.candidates()
            if not cands:
                return True
            fix, span = cands[0]
            try:
                self.wb.trial(fix)
            except FixNotApplicable as exc:
                self.internal_errors += 1
                sys.stderr.write(f"{self.wb.path}: internal error: {fix.transform} fix at line {fix.line}"
                                 f" skipped: {exc}\n")
                self.reject(fix, span)
                continue
            if all_mode:
                self.term.write(f"{self.wb.path}:{fix.line}: applied [{fix.transform}] {fix.message}")
                self.accept(fix)
                continue
            self.show(fix)
            while (answer := self.ask()) == "e":
                self.explain(fix)
            if answer == "q":
                return True
            if answer == "n":
                self.reject(fix, span)
            else:
                self.accept(fix)
                all_mode = answer == "a"
        sys.stderr.write(f"{self.wb.path}: internal error: the fixes did not settle after {MAX_STEPS} steps;"
                         " nothing written\n")
        return False


def run_suggest(
    path: Path,
    *,
    select: list[str] | None = None,
    ignore: list[str] | None = None,
    unsafe_fixes: bool = False,
    context: Path | None = None,
    stdin: IO[str] | None = None,
    stdout: IO[str] | None = None,
) -> int:
    """Review the fixes for ``path`` interactively; returns the exit code (0 done, 2 error)."""
    from rewriter.core.source import write_atomic
    from rewriter.core.syntax import DockerfileSyntaxError
    from rewriter.engine.config import ConfigError
    from rewriter.engine.settings import Overrides, resolve
    from rewriter.engine.workbench import validate_text
    from transforms import UnknownTransform

    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    err = sys.stderr.write
    if not stdin.isatty():
        err(f"dockerfix suggest: standard input is not a terminal, so fixes cannot be reviewed one by one;"
            f" use `dockerfix diff {path}` to see them or `dockerfix fix {path}` to apply them\n")
        return 2
    name = str(path)
    if context is not None and not context.is_dir():
        err(f"dockerfix: --context {context}: not a folder\n")
        return 2
    try:
        resolved = resolve(path, Overrides(select, ignore, unsafe_fixes, context))
    except ConfigError as exc:
        err(f"{name}: error: {exc}\n")
        return 2
    except UnknownTransform as exc:
        err(f"dockerfix: unknown transform id {exc.args[0]!r} (see `dockerfix list`)\n")
        return 2
    try:
        text = read_text(path)
    except SourceError as exc:
        err(f"{name}: error: {exc}\n")
        return 2
    try:
        validate_text(text)
    except DockerfileSyntaxError as exc:
        err(f"{name}: error: not a valid Dockerfile: {exc}\n")
        return 2
    cfg, chosen = resolved.config, resolved.transforms
    ctx_dir = resolved.context or path.parent  # a Dockerfile on disk always has one
    wb = Workbench(text, path=name, context_dir=ctx_dir, config=cfg, transforms=chosen, dockerfile_path=path)
    term = Terminal(stdout, use_color(stdout))
    review = Review(wb, term, stdin, unsafe_fixes=cfg.unsafe_fixes,
                    explains={t.id: t.explain for t in chosen})
    if not review.run():
        return 2
    if not review.accepted:
        term.write(f"dockerfix: no fix applied; {name} unchanged")
        return 2 if review.internal_errors else 0
    try:
        write_atomic(path, wb.text)
        for rel, new in wb.changed_sides().items():
            write_atomic(ctx_dir / rel, new)
    except SourceError as exc:
        err(f"{name}: error: {exc}\n")
        return 2
    sides = wb.changed_sides()
    also = f" (and {', '.join(sides)})" if sides else ""
    term.write(f"dockerfix: {len(review.accepted)} fix(es) applied to {name}{also}")
    flags = list(dict.fromkeys(flag for f in review.accepted for flag in f.build_flags))
    if flags:
        term.write(f"{name}: build it now with: docker build {' '.join(flags)} .")
    return 2 if review.internal_errors else 0
