""".dockerignore semantics, as implemented by moby (``patternmatcher`` and ``ignorefile.ReadAll``).

Reading (``ignorefile.ReadAll``): a UTF-8 BOM is dropped; a line whose first character is ``#`` is a
comment (checked *before* trimming, so ``" #x"`` is the pattern ``#x``); other lines are trimmed;
blank lines are skipped; a leading ``!`` marks an exception; the rest is cleaned like Go's
``filepath.Clean`` (``./x`` -> ``x``, ``a//b/`` -> ``a/b``) and one leading ``/`` is removed.

Matching (``PatternMatcher.MatchesOrParentMatches``): patterns are tried in order and the last one
that matches decides; a pattern matches a path when it matches the path itself or any of its
parent directories (so ``docs`` excludes ``docs/a/b``). ``*`` and ``?`` do not cross ``/``;
``[...]`` is a Go ``filepath.Match`` class (``^`` negates; ``\\`` escapes); ``**`` matches any
number of directories (``**/x``, ``a/**``, ``a/**/b``). moby's shortcuts are reproduced too: a
pattern made of ``**`` followed by literal text is a plain suffix test (``**.env`` matches
``a.env``), and literal text followed by ``**`` is a plain prefix test.

Deliberate differences from moby, all on patterns nobody writes: a character class or an escaped
character is translated as ``filepath.Match`` defines it (moby copies ``[...]`` and ``\\x``
verbatim into a Go regexp, where ``\\d`` means a digit), and ``^`` outside a class is literal. A
pattern Docker rejects (``!`` alone, ``[`` unclosed, a trailing ``\\``) makes ``docker build``
fail; :func:`parse` drops it, or raises :class:`ValueError` with ``strict=True``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rewriter.core import runmemo
from rewriter.core.source import real_folder

__all__ = [
    "BLOCK_COMMENT",
    "PRUNED_DIRS",
    "Pattern",
    "clean",
    "escape",
    "extend",
    "find_files",
    "is_excluded",
    "parse",
]

#: the comment line written before the patterns :func:`extend` appends
BLOCK_COMMENT = "# dockerfix: secrets must not be sent to the build context"

#: directories :func:`find_files` never enters (tooling caches, dependencies, build output)
PRUNED_DIRS = frozenset({".git", "node_modules", "vendor", ".venv", "venv", "__pycache__", "target", "dist", "build"})

_BOM = "\ufeff"
_GLOB_META = frozenset("*?[\\")


@dataclass(frozen=True)
class Pattern:
    """One .dockerignore pattern: the cleaned text (without ``!``), whether it is an exception, the matcher.

    ``regex`` is always used with ``fullmatch`` on a ``/``-separated path relative to the context.
    """

    text: str
    exclusion: bool
    regex: re.Pattern[str] = field(compare=False, repr=False)

    def matches(self, path: str) -> bool:
        """Whether this pattern matches exactly ``path`` (no parent-directory logic)."""
        return self.regex.fullmatch(path) is not None


def clean(path: str) -> str:
    """Go's ``path.Clean``: the shortest equivalent path (``""`` -> ``"."``, ``/..`` -> ``/``)."""
    if not path:
        return "."
    rooted = path.startswith("/")
    parts: list[str] = []
    for seg in path.split("/"):
        if seg in ("", "."):
            continue
        if seg == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            elif not rooted:
                parts.append("..")
            continue
        parts.append(seg)
    out = ("/" if rooted else "") + "/".join(parts)
    return out or "."


def parse(text: str, *, strict: bool = False) -> list[Pattern]:
    """Parse ``.dockerignore`` text into patterns, in file order (see the module docstring).

    Patterns that Docker rejects are dropped, or raise :class:`ValueError` when ``strict``.
    """
    if text.startswith(_BOM):
        text = text[len(_BOM) :]
    out: list[Pattern] = []
    for raw in text.split("\n"):
        if raw.startswith("#"):
            continue
        line = raw.strip()
        if not line:
            continue
        exclusion = line.startswith("!")
        if exclusion:
            line = line[1:].strip()
        if line:
            line = clean(line)
            if len(line) > 1 and line.startswith("/"):
                line = line[1:]
        if exclusion and not line:
            if strict:
                raise ValueError('illegal exclusion pattern: "!"')
            continue
        if not _valid_glob(line):
            if strict:
                raise ValueError(f"syntax error in pattern: {line!r}")
            continue
        out.append(Pattern(line, exclusion, _compile(line)))
    return out


def is_excluded(rel_path: str, patterns: list[Pattern]) -> bool:
    """Whether Docker leaves ``rel_path`` (``/``-separated, relative to the context root) out of the context.

    moby's ``MatchesOrParentMatches``: the last pattern matching the path or one of its parent
    directories decides; an exception only counts once something matched before it.
    """
    path = clean(rel_path if os.sep == "/" else rel_path.replace(os.sep, "/")).lstrip("/")
    if path in ("", "."):
        return False  # the context root itself is never excluded
    parents = path.split("/")[:-1]
    prefixes = ["/".join(parents[: i + 1]) for i in range(len(parents))]
    matched = False
    for pattern in patterns:
        if pattern.exclusion != matched:
            continue  # an include when already excluded, or an exception when nothing is excluded
        hit = pattern.matches(path) or any(pattern.matches(p) for p in prefixes)
        if hit:
            matched = not pattern.exclusion
    return matched


def find_files(
    context_dir: Path,
    wanted: Callable[[str], bool],
    *,
    max_depth: int = 4,
    max_files: int = 20000,
) -> list[str]:
    """Relative ``/``-paths of the regular files under ``context_dir`` for which ``wanted(rel_path)`` is true.

    The walk is sorted (files of a directory before its subdirectories), never follows symlinks
    (symlinked files are not reported: Docker sends the link, not its target), skips
    :data:`PRUNED_DIRS`, descends at most ``max_depth`` directory levels below the root (0 = the
    root's own files only) and stops quietly after examining ``max_files`` files.
    """
    memo = runmemo.memo("context-files")
    if memo is None:
        return [rel for rel in _walk(context_dir, max_depth, max_files) if wanted(rel)]
    key = (real_folder(os.fspath(context_dir)), max_depth, max_files)
    entry = memo.get(key)
    if entry is None or (runmemo.recording() and not entry[2]):
        # the walk of a build context that several Dockerfiles of the run share is done once; what it
        # listed is given to the result cache of each file that uses it (rewriter.core.runmemo)
        with runmemo.capturing() as reads:
            files = _walk(context_dir, max_depth, max_files)
        if len(memo) >= 64:
            memo.clear()
        entry = memo[key] = (files, reads, runmemo.recording())
    else:
        runmemo.replay(entry[1])
    return [rel for rel in entry[0] if wanted(rel)]


def _walk(context_dir: Path, max_depth: int, max_files: int) -> list[str]:
    """The first ``max_files`` regular files of the walk :func:`find_files` describes."""
    found: list[str] = []
    seen = 0
    # breadth-first by level, like os.walk top-down; DirEntry types come from the directory read itself
    # (no stat per file), and a symlink is neither a file nor a folder here
    pending: list[tuple[str, str, int]] = [(str(context_dir), "", 0)]
    while pending:
        folder, rel_dir, depth = pending.pop(0)
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            continue
        subfolders: list[tuple[str, str, int]] = []
        for entry in entries:
            rel = entry.name if not rel_dir else f"{rel_dir}/{entry.name}"
            try:
                if entry.is_dir(follow_symlinks=False):
                    if depth < max_depth and entry.name not in PRUNED_DIRS:
                        subfolders.append((entry.path, rel, depth + 1))
                    continue
                if not entry.is_file(follow_symlinks=False):
                    continue
            except OSError:
                continue
            if seen >= max_files:
                return found
            seen += 1
            found.append(rel)
        pending[:0] = subfolders  # depth-first into sorted subfolders, as os.walk top-down does
    return found


def extend(original: str | None, paths: list[str], newline: str = "\n") -> str:
    """The ``.dockerignore`` text that also excludes ``paths`` (``original`` ``None``: no file yet).

    Paths already excluded by ``original`` are skipped; the others are appended, after
    :data:`BLOCK_COMMENT`, as escaped literal patterns. The original's line ending (CRLF or LF) is
    kept, ``newline`` being used only when it has none; a missing final newline is added before
    the block. Returns ``original`` unchanged when nothing needs adding. Raises
    :class:`ValueError` for a path outside the context or containing a line break.
    """
    text = original or ""
    patterns = parse(text)
    added: list[str] = []
    for raw in paths:
        path = _context_path(raw)
        if is_excluded(path, patterns):
            continue
        line = escape(path)
        added.append(line)
        patterns.append(Pattern(line, False, _compile(line)))
    if not added:
        return text if original is not None else ""
    eol = _line_ending(text, newline)
    prefix = text if not text or text.endswith("\n") else text + eol
    return prefix + eol.join([BLOCK_COMMENT, *added]) + eol


def escape(path: str) -> str:
    """A .dockerignore line matching exactly the cleaned relative ``path``.

    Glob metacharacters get a backslash; a leading ``#`` or ``!`` too (comment / exception); a
    leading or trailing blank becomes a one-character class so that trimming keeps it.
    """
    out = "".join("\\" + ch if ch in _GLOB_META else ch for ch in path)
    if out[:1] in ("#", "!"):
        out = "\\" + out
    lead = len(out) - len(out.lstrip())
    trail = len(out) - len(out.rstrip())
    if lead or trail:
        body = out[lead : len(out) - trail] if trail else out[lead:]
        out = "".join(f"[{c}]" for c in out[:lead]) + body + "".join(f"[{c}]" for c in out[len(out) - trail :])
    return out


# --- internals -------------------------------------------------------------------------------


def _context_path(raw: str) -> str:
    """The cleaned context-relative form of ``raw`` (raises ValueError if unusable)."""
    if "\n" in raw or "\r" in raw:
        raise ValueError(f"path with a line break cannot be written to .dockerignore: {raw!r}")
    path = clean(raw.replace("\\", "/") if os.sep == "\\" else raw).lstrip("/")
    if path in ("", ".") or path == ".." or path.startswith("../"):
        raise ValueError(f"not a file inside the build context: {raw!r}")
    return path


def _line_ending(text: str, default: str) -> str:
    """``text``'s line ending, or ``default`` when it has none."""
    if "\r\n" in text:
        return "\r\n"
    if "\n" in text:
        return "\n"
    return default


def _valid_glob(pattern: str) -> bool:
    """Whether Go's ``filepath.Match`` accepts ``pattern`` (the syntax check moby runs on each pattern)."""
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            if i + 1 >= n:
                return False
            i += 2
        elif ch == "[":
            end = _class_end(pattern, i)
            if end < 0:
                return False
            i = end
        else:
            i += 1
    return True


def _class_end(pattern: str, start: int) -> int:
    """Index just past the class opened at ``pattern[start] == '['``, or -1 if malformed (Go's rules)."""
    i = start + 1
    if i < len(pattern) and pattern[i] == "^":
        i += 1
    nrange = 0
    while True:
        if i < len(pattern) and pattern[i] == "]" and nrange > 0:
            return i + 1
        lo = _class_char(pattern, i)
        if lo is None:
            return -1
        _, i = lo
        if pattern[i] == "-":
            hi = _class_char(pattern, i + 1)
            if hi is None:
                return -1
            _, i = hi
        nrange += 1


def _class_char(pattern: str, i: int) -> tuple[str, int] | None:
    """Go's ``getEsc``: one (possibly escaped) class character at ``i`` and the index after it."""
    if i >= len(pattern) or pattern[i] in "-]":
        return None
    if pattern[i] == "\\":
        i += 1
        if i >= len(pattern):
            return None
    ch = pattern[i]
    i += 1
    if i >= len(pattern):
        return None  # a class must be closed
    return ch, i


def _class_regex(pattern: str, start: int) -> tuple[str, int]:
    """The regex for the (valid) class at ``start`` and the index after it."""
    i = start + 1
    negated = i < len(pattern) and pattern[i] == "^"
    if negated:
        i += 1
    ranges: list[str] = []
    first = True
    while first or pattern[i] != "]":
        first = False
        got = _class_char(pattern, i)
        assert got is not None  # validated by _valid_glob
        lo, i = got
        hi = lo
        if pattern[i] == "-":
            got = _class_char(pattern, i + 1)
            assert got is not None
            hi, i = got
        if lo <= hi:  # Go accepts a reversed range, which matches nothing
            ranges.append(re.escape(lo) if lo == hi else f"{re.escape(lo)}-{re.escape(hi)}")
    i += 1
    if not ranges:
        return ("[\\s\\S]" if negated else "(?!)"), i
    return "[" + ("^" if negated else "") + "".join(ranges) + "]", i


def _compile(pattern: str) -> re.Pattern[str]:
    """Translate a cleaned, valid pattern the way moby's ``Pattern.compile`` does (see module docstring)."""
    parts: list[str] = []
    kind = "exact"
    i, n, token = 0, len(pattern), 0
    while i < n:
        ch = pattern[i]
        if ch == "*" and i + 1 < n and pattern[i + 1] == "*":
            i += 2
            if i < n and pattern[i] == "/":
                i += 1
            if i >= n:
                if kind == "exact":
                    kind = "prefix"
                else:
                    parts.append(".*")
                    kind = "regex"
            else:
                parts.append("(?:.*/)?")
                kind = "regex"
            if token == 0:
                kind = "suffix"
        elif ch == "*":
            parts.append("[^/]*")
            kind = "regex"
            i += 1
        elif ch == "?":
            parts.append("[^/]")
            kind = "regex"
            i += 1
        elif ch == "\\":
            parts.append(re.escape(pattern[i + 1]))
            kind = "regex"
            i += 2
        elif ch == "[":
            regex, i = _class_regex(pattern, i)
            parts.append(regex)
            kind = "regex"
        elif ch == "]":
            parts.append(re.escape(ch))
            kind = "regex"
            i += 1
        else:
            # includes moby's escaped set .+()|{}$, which keeps the match type
            parts.append(re.escape(ch))
            i += 1
        token += 1
    if kind == "exact":
        return re.compile(re.escape(pattern), re.DOTALL)
    if kind == "prefix":  # literal text then "**": a string prefix test
        return re.compile(re.escape(pattern[:-2]) + ".*", re.DOTALL)
    if kind == "suffix":  # "**" then literal text: a string suffix test ("**/x" also matches "x")
        suffix = pattern[2:]
        alt = f"|{re.escape(suffix[1:])}" if suffix.startswith("/") else ""
        return re.compile(f"(?:.*{re.escape(suffix)}{alt})", re.DOTALL)
    return re.compile("".join(parts))
