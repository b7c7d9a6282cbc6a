"""Build commands in shell scripts, Makefiles, Jenkinsfiles (``sh '…'``) and GitLab CI ``script:`` lines.

Each handler returns ``(new text, [(line, status, reason)])``; the commands themselves are read and
rewritten by :mod:`.shellcmd`. A script may be run from its own folder or from the repository root,
so both are tried; a Makefile's recipes run in its folder; a Jenkinsfile's and GitLab's in the
repository root (the folder they are in).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from rewriter.core.buildsecret import BuildSecret
from rewriter.sidefiles.callsites import Target, apply, line_of
from rewriter.sidefiles.callsites.shellcmd import rewrite_commands

Found = list[tuple[int, str, str]]


def _run(text: str, spans: list[tuple[int, int]], cwds: Sequence[Path], target: Target,
         secrets: Sequence[BuildSecret], folded: Sequence[bool] = ()) -> tuple[str, Found]:
    def matches(ctx: str, file: str | None) -> bool:
        return any(target.builds(cwd, ctx, file) for cwd in cwds)

    edits, found = rewrite_commands(text, spans, secrets, matches, folded=folded)
    return apply(text, edits), [(line_of(text, f.offset), f.status, f.reason) for f in found]


def rewrite_script(text: str, *, path: Path, level: Path, target: Target,
                   secrets: Sequence[BuildSecret]) -> tuple[str, Found]:
    return _run(text, [(0, len(text))], [path.parent, level], target, secrets)


def rewrite_make(text: str, *, path: Path, level: Path, target: Target,
                 secrets: Sequence[BuildSecret]) -> tuple[str, Found]:
    # recipe lines only (a tab first), with the lines a backslash continues
    spans: list[tuple[int, int]] = []
    pos = 0
    continued = False
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        if continued and spans:
            spans[-1] = (spans[-1][0], pos + len(body))
        elif line.startswith("\t"):
            spans.append((pos, pos + len(body)))
        else:
            pos += len(line)
            continue
        continued = body.endswith("\\")
        pos += len(line)
    merged = spans
    return _run(text, merged, [path.parent], target, secrets)


_SH = re.compile(r"""\bsh\s*\(?\s*(?:script\s*:\s*)?('''|\"\"\"|'|")""")


def rewrite_jenkinsfile(text: str, *, path: Path, level: Path, target: Target,
                        secrets: Sequence[BuildSecret]) -> tuple[str, Found]:
    spans: list[tuple[int, int]] = []
    for m in _SH.finditer(text):
        quote = m.group(1)
        close = text.find(quote, m.end())
        while close > 0 and len(quote) == 1 and text[close - 1] == "\\":
            close = text.find(quote, close + 1)
        if close > 0:
            spans.append((m.end(), close))
    return _run(text, spans, [path.parent], target, secrets)


def rewrite_gitlab(text: str, *, path: Path, level: Path, target: Target,
                   secrets: Sequence[BuildSecret]) -> tuple[str, Found]:
    data = YAML().load(text.replace("\r\n", "\n"))
    spans = sorted(script_spans(text, data))
    folded = [is_folded(text, lo) for lo, _hi in spans]
    new, found = _run(text, spans, [path.parent], target, secrets, folded)
    if new != text:
        YAML().load(new.replace("\r\n", "\n"))  # must still load (raises otherwise)
    return new, found


def line_starts(text: str) -> list[int]:
    starts = [0]
    for i, c in enumerate(text):
        if c == "\n":
            starts.append(i + 1)
    return starts


def scalar_span(text: str, starts: list[int], line: int, col: int, floor: int) -> tuple[int, int]:
    """The span of a scalar starting at 0-based ``(line, col)``: to the end of the last line below it
    indented deeper than ``floor`` (its key's column, or its dash's)."""
    def row(i: int) -> str:
        end = starts[i + 1] if i + 1 < len(starts) else len(text)
        return text[starts[i]:end].rstrip("\r\n")

    last = line
    for i in range(line + 1, len(starts)):
        r = row(i)
        if not r.strip():
            continue
        if len(r) - len(r.lstrip(" ")) <= floor:
            break
        last = i
    return starts[line] + col, starts[last] + len(row(last))


def is_folded(text: str, lo: int) -> bool:
    """Whether the YAML scalar starting at ``lo`` folds its line breaks into spaces (all but ``|``)."""
    return not text.startswith("|", lo)


_SCRIPT_KEYS = ("script", "before_script", "after_script")


def script_spans(text: str, data: object) -> list[tuple[int, int]]:
    """Spans of every ``script``/``before_script``/``after_script`` line of a GitLab CI file."""
    starts = line_starts(text)
    out: list[tuple[int, int]] = []
    if not isinstance(data, CommentedMap):
        return out
    for job in data.values():
        if not isinstance(job, CommentedMap):
            continue
        for key in _SCRIPT_KEYS:
            value = job.get(key)
            if isinstance(value, CommentedSeq):
                for i, item in enumerate(value):
                    if isinstance(item, str):
                        line, col = value.lc.item(i)
                        out.append(scalar_span(text, starts, line, col, col - 1))
            elif isinstance(value, str):
                line, col = job.lc.value(key)
                out.append(scalar_span(text, starts, line, col, job.lc.key(key)[1]))
    return out
