"""Edits, fixes and notes, and the loop that applies fixes until the file is stable.

An :class:`Edit` replaces a span of one file's text (``path`` ``None`` means the Dockerfile; a
side file such as an entry-point script is named by its path relative to the build context). A
:class:`Fix` groups the edits of one change with the transform id, a message and its
:class:`Applicability`. A :class:`Note` is something a transform could not or would not change.

``apply_fixes`` follows ruff's model: fixes in position order, one overlapping an already applied
fix waits for the next round; rounds repeat until no transform proposes anything, up to a cap.
Every round's result is re-parsed; a fix that makes the Dockerfile unparsable is discarded and
reported as an internal error.
"""

from __future__ import annotations

import bisect
import dataclasses
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum

from rewriter.core.buildsecret import BuildSecret


class Applicability(IntEnum):
    """How far a fix can be trusted; ordered like ruff's (``DISPLAY_ONLY < UNSAFE < SAFE``)."""

    DISPLAY_ONLY = 0  #: suggestion only: shown, never applied
    UNSAFE = 1  #: may change behaviour; applied with ``--unsafe-fixes``
    SAFE = 2  #: keeps the image's behaviour; applied by default

    @property
    def label(self) -> str:
        return {0: "suggestion", 1: "unsafe", 2: "safe"}[int(self)]


@dataclass(frozen=True, order=True)
class Edit:
    """Replace ``text[start:end]`` of one file with ``content``."""

    start: int
    end: int
    content: str = ""
    path: str | None = None

    @staticmethod
    def insert(at: int, content: str, path: str | None = None) -> Edit:
        return Edit(at, at, content, path)

    @staticmethod
    def delete(start: int, end: int, path: str | None = None) -> Edit:
        return Edit(start, end, "", path)


@dataclass(frozen=True)
class Fix:
    """One change proposed by a transform."""

    transform: str
    message: str
    edits: tuple[Edit, ...]
    applicability: Applicability = Applicability.SAFE
    line: int = 0
    #: what the build needs from now on (secrets, an SSH agent): a new build command
    build_secrets: tuple[BuildSecret, ...] = ()
    #: a structural change (a new stage): applied alone in its round, after the fixes of the
    #: transforms that run before it, so every other transform then sees the new structure
    exclusive: bool = False

    @property
    def build_flags(self) -> tuple[str, ...]:
        """The ``docker build`` flags the fix needs (``--secret id=npmrc,src=.npmrc``)."""
        return tuple(s.flag for s in self.build_secrets)

    @property
    def start(self) -> int:
        own = [e.start for e in self.edits if e.path is None]
        return min(own) if own else 0

    def files(self) -> set[str | None]:
        return {e.path for e in self.edits}


@dataclass(frozen=True)
class Note:
    """Something a transform reports without changing it (``refusal`` when it declined a rewrite)."""

    transform: str
    message: str
    line: int = 0
    refusal: bool = False


class NotConverged(RuntimeError):
    """Fixes kept proposing changes past the round cap."""


@dataclass
class FixResult:
    """What ``apply_fixes`` produced: the new texts and the fixes applied, in order."""

    texts: dict[str | None, str]
    applied: list[Fix] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    #: fixes the last round proposed but ``accept`` declined (unsafe, suggestion-only)
    remaining: list[Fix] = field(default_factory=list)
    internal_errors: list[str] = field(default_factory=list)
    rounds: int = 0
    #: per file, the applied edits expressed in the ORIGINAL text's coordinates (for diffs)
    net_edits: dict[str | None, list[Edit]] = field(default_factory=dict)


def _overlaps(a: Edit, b: Edit) -> bool:
    if a.path != b.path:
        return False
    if a.start == a.end == b.start == b.end:
        return True  # two insertions at one point: order would be ambiguous
    return (a.start < b.end and b.start < a.end) or (a.start == a.end and b.start < a.start < b.end) or (
        b.start == b.end and a.start < b.start < a.end
    )


def _at_original_line(item: Fix | Note, dockerfile: Tracked | None) -> Fix | Note:
    """``item`` with its line counted in the Dockerfile as the user has it (reports name that line,
    not one of a text the earlier rounds rewrote)."""
    if dockerfile is None or item.line <= 0 or dockerfile.text == dockerfile.original:
        return item
    line = dockerfile.original_line(item.line)
    return item if line == item.line else dataclasses.replace(item, line=line)


def apply_edits(text: str, edits: Sequence[Edit]) -> str:
    """Apply non-overlapping edits (all of one file) to ``text``."""
    out: list[str] = []
    pos = 0
    for e in sorted(edits, key=lambda e: (e.start, e.end)):
        if e.start < pos:
            raise ValueError("overlapping edits")
        out.append(text[pos : e.start])
        out.append(e.content)
        pos = e.end
    out.append(text[pos:])
    return "".join(out)


def _newlines(text: str) -> list[int]:
    """The offsets of ``\\n`` in ``text``."""
    out: list[int] = []
    i = text.find("\n")
    while i >= 0:
        out.append(i)
        i = text.find("\n", i + 1)
    return out


class Tracked:
    """A text being edited that remembers which parts are original, to give net edits.

    Edits never move text, so the original pieces stay in order; whatever lies between two
    pieces that are not contiguous in the original is one net edit in original coordinates.
    This is how diffs are made from the edits themselves, however many rounds were applied.
    """

    def __init__(self, text: str) -> None:
        self.original = text
        #: (original start or -1 for inserted text, text); never an empty text
        self._segs: list[tuple[int, str]] = [(0, text)] if text else []
        self._text: str | None = None
        #: per segment: where it starts in the current text, and where the original text before it ended
        self._index: tuple[list[int], list[int], int, int] | None = None
        self._starts: list[int] | None = None  # where each line of the current text starts
        self._newlines: list[int] | None = None  # where the original text has a newline

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = "".join(t for _, t in self._segs)
        return self._text

    def apply(self, edits: Sequence[Edit]) -> None:
        """Apply non-overlapping edits given in current-text coordinates."""
        for e in sorted(edits, key=lambda e: (e.start, e.end), reverse=True):
            self._replace(e.start, e.end, e.content)

    def _split(self, pos: int) -> int:
        """Split so a segment starts at ``pos``; return its index."""
        off = 0
        for i, (o, t) in enumerate(self._segs):
            if off == pos:
                return i
            if off < pos < off + len(t):
                k = pos - off
                first = (o, t[:k])
                second = (o + k if o >= 0 else -1, t[k:])
                self._segs[i : i + 1] = [first, second]
                return i + 1
            off += len(t)
        return len(self._segs)

    def _replace(self, start: int, end: int, content: str) -> None:
        i = self._split(start)
        j = self._split(end) if end > start else i
        if end > start:
            i = self._split(start)
        new = [(-1, content)] if content else []
        self._segs[i:j] = new
        self._text = self._index = self._starts = None

    def _segments(self) -> tuple[list[int], list[int], int, int]:
        if self._index is None:
            offs: list[int] = []
            ends: list[int] = []
            off = last_end = 0
            for o, t in self._segs:
                offs.append(off)
                ends.append(last_end)
                if o >= 0:
                    last_end = o + len(t)
                off += len(t)
            self._index = (offs, ends, off, last_end)
        return self._index

    def original_offset(self, pos: int) -> int:
        """Where offset ``pos`` of the current text was in the original (text inserted since maps
        to its insertion point)."""
        offs, ends, total, last_end = self._segments()
        if pos >= total:
            return len(self.original)
        if pos < 0:
            return last_end
        i = bisect.bisect_right(offs, pos) - 1
        o = self._segs[i][0]
        return o + (pos - offs[i]) if o >= 0 else ends[i]

    def original_line(self, line: int) -> int:
        """The 1-based line of the original text that current-text ``line`` comes from (0 stays 0)."""
        if line <= 0:
            return line
        if self._starts is None:
            text = self.text
            self._starts = [0, *(m + 1 for m in _newlines(text))]
        if self._newlines is None:
            self._newlines = _newlines(self.original)
        pos = self._starts[min(line - 1, len(self._starts) - 1)]
        return bisect.bisect_left(self._newlines, self.original_offset(pos)) + 1

    def net_edits(self) -> list[Edit]:
        """The changes from the original text, as sorted non-overlapping edits on it."""
        out: list[Edit] = []
        opos = 0
        pending: list[str] = []
        for o, t in self._segs:
            if o < 0:
                pending.append(t)
                continue
            if o != opos or pending:
                out.append(Edit(opos, o, "".join(pending)))
                pending = []
            opos = o + len(t)
        if opos != len(self.original) or pending:
            out.append(Edit(opos, len(self.original), "".join(pending)))
        return out


def _exclusive_gate(fixes: Sequence[Fix], order: dict[str, int]) -> tuple[list[Fix], list[Fix]]:
    """Fixes of transforms before the first one with an exclusive fix; or that exclusive fix alone."""
    rank = {f.transform: order.get(f.transform, len(order)) for f in fixes}
    exclusive = sorted((f for f in fixes if f.exclusive), key=lambda f: (rank[f.transform], f.start))
    if not exclusive:
        return list(fixes), []
    first = rank[exclusive[0].transform]
    before = [f for f in fixes if rank[f.transform] < first]
    if before:
        return before, [f for f in fixes if f not in before]
    return [exclusive[0]], [f for f in fixes if f is not exclusive[0]]


def select_round(fixes: Sequence[Fix], order: dict[str, int] | None = None) -> tuple[list[Fix], list[Fix]]:
    """Split fixes into those applied this round (position order, no overlaps) and deferred ones.

    ``order`` ranks transforms (registry order) for exclusive fixes: see :class:`Fix`.
    """
    fixes, deferred = _exclusive_gate(fixes, order or {})
    chosen: list[Fix] = []
    taken = _Taken()
    for fix in sorted(fixes, key=lambda f: (f.start, f.transform, f.message)):
        if taken.clashes(fix) or _self_overlapping(fix):
            deferred.append(fix)
        else:
            chosen.append(fix)
            taken.add(fix)
    return chosen, deferred


class _Taken:
    """The edits of the fixes chosen so far, per file, sorted: does a fix overlap one of them?

    Chosen edits never overlap (:func:`_overlaps`), so sorted by (start, end) their ends never decrease;
    an edit can only overlap those whose closed span meets its own, found by bisection: a round of n
    fixes costs n log n, not n² (a generated Dockerfile of thousands of RUNs has thousands of fixes)."""

    def __init__(self) -> None:
        self.spans: dict[str | None, list[tuple[int, int, int]]] = {}
        self.edits: list[Edit] = []

    def clashes(self, fix: Fix) -> bool:
        for e in fix.edits:
            spans = self.spans.get(e.path)
            if not spans:
                continue
            k = bisect.bisect_right(spans, (e.end, sys.maxsize, sys.maxsize))
            while k > 0 and spans[k - 1][1] >= e.start:
                k -= 1
                if _overlaps(e, self.edits[spans[k][2]]):
                    return True
        return False

    def add(self, fix: Fix) -> None:
        for e in fix.edits:
            bisect.insort(self.spans.setdefault(e.path, []), (e.start, e.end, len(self.edits)))
            self.edits.append(e)


def _self_overlapping(fix: Fix) -> bool:
    eds = fix.edits
    return any(_overlaps(a, b) for i, a in enumerate(eds) for b in eds[i + 1 :])


def _valid_alone(
    text: str, fixes: list[Fix], validate: Callable[[str], None], rejected: set[tuple[str, str]], result: FixResult
) -> list[Fix]:
    """The fixes whose edits, applied alone, leave a valid file; the others are reported and rejected."""
    good: list[Fix] = []
    for fix in fixes:
        own = [e for e in fix.edits if e.path is None]
        if own:
            try:
                validate(apply_edits(text, own))
            except Exception as exc:
                rejected.add((fix.transform, fix.message))
                result.internal_errors.append(
                    f"internal error: {fix.transform} fix at line {fix.line} discarded:"
                    f" the result does not parse ({exc})"
                )
                continue
        good.append(fix)
    return good


def apply_fixes(
    texts: dict[str | None, str],
    propose: Callable[[dict[str | None, str]], Iterable[Fix | Note]],
    validate: Callable[[str], None],
    *,
    accept: Callable[[Fix], bool] = lambda f: f.applicability == Applicability.SAFE,
    max_rounds: int = 10,
    order: dict[str, int] | None = None,
) -> FixResult:
    """Apply proposed fixes round by round until nothing more is proposed.

    ``propose`` sees the current texts (``None`` = the Dockerfile, other keys = side files read
    on demand by the transforms) and returns fixes and notes. ``validate`` raises for an
    unusable Dockerfile text. Notes, and the fixes left unapplied (``remaining``: unsafe or
    suggestion-only), are those of the last round: they describe the file as it ends up, so a
    refusal that a later round overcame is not reported. Raises :class:`NotConverged` past
    ``max_rounds``.
    """
    tracked = {k: Tracked(v) for k, v in texts.items()}
    result = FixResult(texts=dict(texts))
    rejected: set[tuple[str, str]] = set()
    for rnd in range(max_rounds + 1):
        current = {k: t.text for k, t in tracked.items()}
        proposals = [_at_original_line(item, tracked.get(None)) for item in propose(current)]
        result.notes = list(dict.fromkeys(item for item in proposals if isinstance(item, Note)))
        result.remaining = [f for f in proposals if isinstance(f, Fix) and not accept(f)]
        fixes = [
            f for f in proposals
            if isinstance(f, Fix) and accept(f) and f.edits and (f.transform, f.message) not in rejected
        ]
        if not fixes:
            result.rounds = rnd
            break
        if rnd == max_rounds:
            raise NotConverged(f"fixes did not converge after {max_rounds} rounds")
        chosen, _deferred = select_round(fixes, order)
        dockerfile = current.get(None, "")
        try:  # the usual case: all of this round's fixes together give a valid file (one parse)
            validate(apply_edits(dockerfile, [e for f in chosen for e in f.edits if e.path is None]))
            good = chosen
        except Exception:
            good = _valid_alone(dockerfile, chosen, validate, rejected, result)
            if good:
                combined = apply_edits(dockerfile, [e for f in good for e in f.edits if e.path is None])
                try:
                    validate(combined)
                except Exception as exc:
                    # each fix parses alone but not together: keep the first, defer the others
                    result.internal_errors.append(f"internal error: fixes conflict ({exc}); applying one per round")
                    good = good[:1]
        for fix in good:
            for path in fix.files():
                if path not in tracked:
                    tracked[path] = Tracked(texts.get(path, ""))
        by_path: dict[str | None, list[Edit]] = {}
        for fix in good:
            for e in fix.edits:
                by_path.setdefault(e.path, []).append(e)
        for path, eds in by_path.items():
            tracked[path].apply(eds)
        result.applied.extend(good)
    result.texts = {k: t.text for k, t in tracked.items()}
    result.net_edits = {k: t.net_edits() for k, t in tracked.items()}
    return result


def narrow_edit(old: str, new: str, path: str) -> Edit | None:
    """One :class:`~rewriter.core.edits.Edit` turning ``old`` into ``new``, spanning whole lines, or None if equal.

    The common prefix and suffix are left out; the span is widened to line boundaries so the
    diff shows whole lines.
    """
    if old == new:
        return None
    limit = min(len(old), len(new))
    prefix = 0
    while prefix < limit and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while suffix < limit - prefix and old[-1 - suffix] == new[-1 - suffix]:
        suffix += 1
    start = old.rfind("\n", 0, prefix) + 1
    end = len(old) - suffix
    if end > 0 and old[end - 1] != "\n":
        nl = old.find("\n", end)
        end = len(old) if nl < 0 else nl + 1
    tail = len(old) - end
    return Edit(start, end, new[start : len(new) - tail], path)
