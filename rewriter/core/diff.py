"""Unified diffs made from the edits themselves, and reading patches back with ``unidiff``.

``unified_diff(path, original, edits)`` turns the net edits of a run (sorted, non-overlapping,
in the original text's coordinates, see :class:`rewriter.core.edits.Tracked`) into a ``git apply``-able
patch: ``--- a/PATH`` / ``+++ b/PATH`` headers, three lines of context, ``\\ No newline at end of
file`` markers, and lines kept with their own endings (CRLF stays CRLF). No text comparison is
run: the changed lines are exactly the lines the edits touch.
"""

from __future__ import annotations

import bisect
import posixpath
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rewriter.core.edits import Edit, apply_edits
from rewriter.core.syntax import split_lines

CONTEXT = 3
NO_NEWLINE = "\\ No newline at end of file\n"


@dataclass(frozen=True)
class _Change:
    a: int  # first old line (0-based)
    b: int  # one past the last old line
    new: tuple[str, ...]


def _changes(original: str, edits: Sequence[Edit]) -> list[_Change]:
    lines = split_lines(original)
    starts = [0]
    for ln in lines:
        starts.append(starts[-1] + len(ln))
    n = len(lines)
    total = len(original)

    def line_of(pos: int) -> int:
        return max(0, bisect.bisect_right(starts, pos) - 1)

    spans: list[tuple[int, int, Edit]] = []
    for e in sorted(edits):
        at_line_start = e.start in starts[:n] or (e.start == total and (total == 0 or original.endswith("\n")))
        end_aligned = e.end in starts or e.end == total
        end_ok = (e.end == total and (total == 0 or original.endswith("\n"))) or e.end in starts[:n]
        if at_line_start and end_ok and end_aligned and (not e.content or e.content.endswith("\n")):
            a = n if e.start == total else line_of(e.start)
            b = n if e.end == total else line_of(e.end)
        else:
            a = n if e.start == total and original.endswith("\n") else line_of(min(e.start, max(total - 1, 0)))
            if e.end == total and (total == 0 or original.endswith("\n")):
                b = n
            else:
                b = min(line_of(e.end) + 1, n) if n else 0
            a = min(a, b)
        spans.append((a, b, e))
    groups: list[tuple[int, int, list[Edit]]] = []
    for a, b, e in spans:
        # edits that share or touch lines form one change, so changes that cancel out show nothing
        if groups and a <= groups[-1][1]:
            ga, gb, ge = groups[-1]
            groups[-1] = (min(ga, a), max(gb, b), [*ge, e])
        else:
            groups.append((a, b, [e]))
    out: list[_Change] = []
    for a, b, eds in groups:
        lo = starts[a]
        hi = starts[b]
        shifted = [Edit(e.start - lo, e.end - lo, e.content) for e in eds]
        new_text = apply_edits(original[lo:hi], shifted)
        out.append(_Change(a, b, tuple(split_lines(new_text))))
    return out


def _range(start: int, length: int) -> str:
    if length == 0:
        return f"{start},0"
    return f"{start + 1}" if length == 1 else f"{start + 1},{length}"


def _emit(prefix: str, line: str) -> str:
    if line.endswith("\n"):
        return prefix + line
    return prefix + line + "\n" + NO_NEWLINE


def patch_path(path: str) -> str:
    """The path to name in a patch header: relative, ``/``-separated, so ``git apply`` takes it.

    An absolute path inside the current folder becomes relative to it; any other absolute path
    loses its leading ``/`` (apply the patch at ``/`` then).
    """
    p = Path(path)
    if p.is_absolute():
        try:
            return p.resolve().relative_to(Path.cwd().resolve()).as_posix()
        except ValueError:
            return p.as_posix().lstrip("/")
    return posixpath.normpath(path.replace("\\", "/"))


def unified_diff(
    path: str, original: str, edits: Sequence[Edit], *, context: int = CONTEXT, new_file: bool = False
) -> str:
    """A unified diff for one file from its net edits; empty when nothing changes.

    ``new_file`` marks a file that does not exist yet (``--- /dev/null``).
    """
    changes = [c for c in _changes(original, edits) if tuple(split_lines(_old(original, c))) != c.new]
    if not changes:
        return ""
    lines = split_lines(original)
    n = len(lines)
    # gather hunks
    hunks: list[list[_Change]] = []
    for c in changes:
        if hunks and c.a - hunks[-1][-1].b <= 2 * context:
            hunks[-1].append(c)
        else:
            hunks.append([c])
    name = patch_path(path)
    out = ["--- /dev/null\n" if new_file else f"--- a/{name}\n", f"+++ b/{name}\n"]
    delta = 0
    prev_delta_by_hunk: list[int] = []
    for h in hunks:
        prev_delta_by_hunk.append(delta)
        for c in h:
            delta += len(c.new) - (c.b - c.a)
    for h, d in zip(hunks, prev_delta_by_hunk, strict=True):
        start = max(0, h[0].a - context)
        end = min(n, h[-1].b + context)
        body: list[str] = []
        old_len = new_len = 0
        pos = start
        for c in h:
            for ln in lines[pos : c.a]:
                body.append(_emit(" ", ln))
                old_len += 1
                new_len += 1
            for ln in lines[c.a : c.b]:
                body.append(_emit("-", ln))
                old_len += 1
            for ln in c.new:
                body.append(_emit("+", ln))
                new_len += 1
            pos = c.b
        for ln in lines[pos:end]:
            body.append(_emit(" ", ln))
            old_len += 1
            new_len += 1
        new_start = start + d
        out.append(f"@@ -{_range(start, old_len)} +{_range(new_start, new_len)} @@\n")
        out.extend(body)
    return "".join(out)


def _old(original: str, c: _Change) -> str:
    lines = split_lines(original)
    return "".join(lines[c.a : c.b])


def check_patch(patch: str) -> int:
    """Parse a patch with ``unidiff`` and return its number of changed files (raises if malformed)."""
    from unidiff import PatchSet

    return len(PatchSet(patch))
