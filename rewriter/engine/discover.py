"""Which files a run processes: folder discovery, ``.gitignore``, excludes, symlinks and shards.

A PATH argument that is a folder is searched for Dockerfiles; any other argument is processed as
named (like black's force behaviour: an explicitly named file is never filtered out). A folder
whose own name is a Dockerfile name (``Dockerfile``, ``app.Dockerfile``...) is taken as a file
argument that went wrong, and so is reported as an error, not searched.

Discovery rules, for each folder argument (the *root*):

- File names, matched case-sensitively: ``Dockerfile``, ``Containerfile``, ``*.Dockerfile``,
  ``*.dockerfile``, ``Dockerfile.*``, ``Containerfile.*`` -- but not ``*.dockerignore`` (BuildKit's
  per-Dockerfile ignore file, e.g. ``Dockerfile.dockerignore``). Only regular files count.
- ``.git`` folders are never entered. ``.gitignore`` files are respected: the root's, every nested
  one (a deeper file overrides a shallower one, as in git), and those of the root's parent folders
  up to the top of the git work tree that holds the root.
- Exclude patterns are gitignore-style globs matched against the path relative to the root (so
  ``build/`` means any folder named build, ``/build/`` only the one at the root). The default list
  is :data:`DEFAULT_EXCLUDES`; ``--exclude`` replaces it, ``--extend-exclude`` adds to it.
- Symlinks are followed only when their target lies inside the root; a target already reached
  through its real path (or through an earlier link) is not processed twice.

Files are returned sorted by path (see :func:`sort_key`). ``--shard K/N`` keeps the files whose
sha256 of the path relative to the root, taken modulo N, is K-1.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where a folder is walked or a pattern compiled: not for named files
    import pathspec

#: Skipped unless ``--exclude`` replaces this list (``.git`` is always skipped).
DEFAULT_EXCLUDES: tuple[str, ...] = ("node_modules/", "vendor/")

_EXACT = frozenset({"Dockerfile", "Containerfile"})
_SUFFIXES = (".Dockerfile", ".dockerfile")
_PREFIXES = ("Dockerfile.", "Containerfile.")


def is_dockerfile_name(name: str) -> bool:
    """Whether a file name is one that discovery picks up (case-sensitive)."""
    if name in _EXACT:
        return True
    if name.endswith(".dockerignore"):
        return False
    if any(name.endswith(s) and len(name) > len(s) for s in _SUFFIXES):
        return True
    return any(name.startswith(p) and len(name) > len(p) for p in _PREFIXES)


def sort_key(path: str) -> tuple[str, ...]:
    """Order of files in every output: by path components, ``/`` and ``\\`` alike."""
    return tuple(path.replace("\\", "/").split("/"))


def shard_index(key: str, count: int) -> int:
    """The 0-based shard of a file, from the sha256 of its path relative to its root."""
    import hashlib  # only a sharded run needs it (loading OpenSSL costs a one-file check ~3 ms)

    digest = hashlib.sha256(key.encode("utf-8", "surrogateescape")).digest()
    return int.from_bytes(digest[:8], "big") % count


def parse_shard(value: str) -> tuple[int, int]:
    """``"K/N"`` -> ``(K, N)`` with ``1 <= K <= N``; raises ValueError with a readable message."""
    k, sep, n = value.partition("/")
    try:
        shard, count = int(k), int(n)
    except ValueError:
        shard = count = 0
    if not sep or count < 1 or not 1 <= shard <= count:
        raise ValueError(f"--shard {value}: expected K/N with 1 <= K <= N, e.g. 1/3")
    return shard, count


class _FolderNames:
    """Exclude patterns that each name a folder (``node_modules/``), matched as pathspec's
    ``GitIgnoreSpec`` matches them -- a folder of that name at any depth, and everything under it --
    without loading pathspec (~2.5 ms of a run's start, before any file is read): a run that gives no
    exclude pattern and meets no ``.gitignore`` never needs it."""

    def __init__(self, names: frozenset[str]) -> None:
        self.names = names

    def match_file(self, rel: str) -> bool:
        """``rel`` is root-relative, ``/``-separated; a trailing ``/`` marks a folder."""
        return any(part in self.names for part in rel.split("/")[:-1])


def _folder_names(patterns: Sequence[str]) -> frozenset[str] | None:
    """The folder names when every pattern is a plain ``name/`` (no glob, slash or escape), else None."""
    names = [p[:-1] for p in patterns if p.endswith("/")]
    if len(names) != len(patterns) or not all(n and not set(n) & set("/*?[]!\\ #") for n in names):
        return None
    return frozenset(names)


class PatternError(ValueError):
    """An exclude pattern pathspec cannot compile."""


def compile_excludes(exclude: Sequence[str] | None, extend_exclude: Sequence[str] = ()) -> pathspec.GitIgnoreSpec:
    """The exclude spec: ``exclude`` (default :data:`DEFAULT_EXCLUDES`) plus ``extend_exclude``."""
    import pathspec

    lines = [*(DEFAULT_EXCLUDES if exclude is None else exclude), *extend_exclude]
    try:
        return pathspec.GitIgnoreSpec.from_lines(lines)
    except Exception as exc:  # pathspec raises several types for a bad pattern
        raise PatternError(f"invalid exclude pattern: {exc}") from None


@dataclass(frozen=True)
class Target:
    """One file to process."""

    path: Path  #: where to read it (as given or joined to the root; not resolved)
    display: str  #: how messages and reports name it
    key: str  #: path relative to its root (``/``-separated); the shard key
    root: Path | None = None  #: the folder argument it was found in (None: named explicitly)


@dataclass
class Discovery:
    targets: list[Target] = field(default_factory=list)
    #: (folder display path, reason) for folders that could not be read
    problems: list[tuple[str, str]] = field(default_factory=list)
    #: display paths of symlinks skipped because they point outside their root
    outside_links: list[str] = field(default_factory=list)
    #: folder arguments in which no Dockerfile was found
    empty: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Ignore:
    """One ``.gitignore``: paths are matched relative to its folder."""

    strip: str  #: root-relative folder of the file ("" for the root); stripped from the path
    prefix: str  #: for a parent of the root: the root's path relative to it, prepended
    spec: pathspec.GitIgnoreSpec


def _read_ignore(folder: str) -> pathspec.GitIgnoreSpec | None:
    import pathspec

    try:
        with open(os.path.join(folder, ".gitignore"), encoding="utf-8", errors="replace") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return None
    try:
        spec = pathspec.GitIgnoreSpec.from_lines(lines)
    except Exception:  # one bad line should not hide the others; git skips what it cannot parse
        spec = pathspec.GitIgnoreSpec.from_lines([ln for ln in lines if _valid_line(ln)])
    return spec if len(spec) else None


def _valid_line(line: str) -> bool:
    import pathspec

    try:
        pathspec.GitIgnoreSpec.from_lines([line])
    except Exception:
        return False
    return True


def _ancestor_ignores(root_real: str) -> list[_Ignore]:
    """``.gitignore`` files of the root's parents, up to the top of its git work tree."""
    parents: list[str] = []
    here = root_real
    while True:
        if os.path.exists(os.path.join(here, ".git")):
            break
        up = os.path.dirname(here)
        if up == here:
            return []  # not inside a git work tree: only the root's own files apply
        parents.append(up)
        here = up
    out = []
    for folder in reversed(parents):  # outermost first
        spec = _read_ignore(folder)
        if spec is not None:
            rel = Path(os.path.relpath(root_real, folder)).as_posix()
            out.append(_Ignore("", rel + "/", spec))
    return out


def _ignored(ignores: Sequence[_Ignore], rel: str) -> bool:
    """git's answer for root-relative ``rel`` (a trailing ``/`` marks a folder): deepest file wins."""
    for ig in reversed(ignores):
        if ig.strip:
            if not rel.startswith(ig.strip + "/"):
                continue
            candidate = rel[len(ig.strip) + 1 :]
        else:
            candidate = ig.prefix + rel
        result = ig.spec.check_file(candidate)
        if result.include is not None:
            return bool(result.include)
    return False


def _inside(real: str, root_real: str) -> bool:
    return real == root_real or real.startswith(root_real.rstrip(os.sep) + os.sep)


class _Walker:
    """Discovery in one root: real folders first, then symlinks whose targets stay inside."""

    def __init__(self, root: Path, display_root: str, excludes: pathspec.GitIgnoreSpec | _FolderNames,
                 out: Discovery) -> None:
        self.root = root
        self.display_root = display_root
        self.root_real = os.path.realpath(root)
        self.excludes = excludes
        self.out = out
        self.found: list[tuple[Target, str]] = []  #: each file found, with its real path
        self.seen_files: set[str] = set()
        self.walked: set[str] = set()
        self.links: deque[tuple[str, str, list[_Ignore]]] = deque()

    def display(self, rel: str) -> str:
        if self.display_root in ("", "."):
            return rel
        return os.path.normpath(os.path.join(self.display_root, rel))

    def skip(self, rel: str, ignores: Sequence[_Ignore]) -> bool:
        return bool(self.excludes.match_file(rel)) or _ignored(ignores, rel)

    def run(self) -> list[tuple[Target, str]]:
        self.walk("", self.root_real, _ancestor_ignores(self.root_real))
        while self.links:
            rel, path, ignores = self.links.popleft()
            self.follow(rel, path, ignores)
        return self.found

    def walk(self, rel_dir: str, real_dir: str, ignores: list[_Ignore]) -> None:
        """Walk a folder without following symlinks; symlinks are queued for :meth:`follow`."""
        stack = [(rel_dir, real_dir, ignores)]
        while stack:
            rel_dir, real_dir, ignores = stack.pop()
            if real_dir in self.walked:
                continue
            self.walked.add(real_dir)
            try:
                with os.scandir(real_dir) as it:
                    entries = sorted(it, key=lambda e: e.name)
            except OSError as exc:
                shown = self.display(rel_dir) if rel_dir else (self.display_root or ".")
                self.out.problems.append((shown, f"cannot read folder: {exc.strerror or exc}"))
                continue
            if any(e.name == ".gitignore" for e in entries):
                spec = _read_ignore(real_dir)
                if spec is not None:
                    ignores = [*ignores, _Ignore(rel_dir, "", spec)]
            subdirs: list[tuple[str, str, list[_Ignore]]] = []
            for entry in entries:
                rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
                try:
                    sub = self.entry(entry, rel, real_dir, ignores)
                except OSError:
                    continue
                if sub is not None:
                    subdirs.append(sub)
            stack.extend(reversed(subdirs))

    def entry(
        self, entry: os.DirEntry[str], rel: str, real_dir: str, ignores: list[_Ignore]
    ) -> tuple[str, str, list[_Ignore]] | None:
        """Take one folder entry; returns a subfolder to walk, if it is one."""
        if entry.name == ".git":
            return None
        if entry.is_symlink():
            is_dir = entry.is_dir()  # follows the link; False when it dangles
            wanted = is_dir or is_dockerfile_name(entry.name)
            if wanted and not self.skip(rel + "/" if is_dir else rel, ignores):
                self.links.append((rel, entry.path, ignores))
        elif entry.is_dir(follow_symlinks=False):
            if not self.skip(rel + "/", ignores):
                return rel, os.path.join(real_dir, entry.name), ignores
        elif is_dockerfile_name(entry.name) and entry.is_file(follow_symlinks=False) and not self.skip(rel, ignores):
            self.add(rel, os.path.join(real_dir, entry.name))
        return None

    def follow(self, rel: str, path: str, ignores: list[_Ignore]) -> None:
        real = os.path.realpath(path)
        if not _inside(real, self.root_real):
            self.out.outside_links.append(self.display(rel))
            return
        if os.path.isdir(real):
            if real not in self.walked:
                self.walk(rel, real, ignores)
        elif os.path.isfile(real):
            self.add(rel, real)

    def add(self, rel: str, real: str) -> None:
        if real in self.seen_files:
            return
        self.seen_files.add(real)
        self.found.append((Target(self.root / rel, self.display(rel), rel, self.root), real))


def discover(
    paths: Iterable[str],
    *,
    exclude: Sequence[str] | None = None,
    extend_exclude: Sequence[str] = (),
) -> Discovery:
    """The files to process for PATH arguments (``-`` excluded), sorted, each real file once."""
    # the default patterns are plain folder names (matched without pathspec, which is loaded only for a
    # .gitignore met on the way); other patterns are compiled now, so a bad one fails before any walk
    excludes: pathspec.GitIgnoreSpec | _FolderNames | None = None
    if exclude is not None or extend_exclude:
        excludes = compile_excludes(exclude, extend_exclude)
    out = Discovery()
    found: list[tuple[Target, str | None]] = []  #: (target, its real path when the walk knows it)
    for raw in paths:
        p = Path(raw)
        if p.is_dir() and not is_dockerfile_name(p.name):
            if excludes is None:
                names = _folder_names(DEFAULT_EXCLUDES)
                excludes = _FolderNames(names) if names is not None else compile_excludes(None)
            targets = _Walker(p, raw, excludes, out).run()
            if not targets:
                out.empty.append(raw)
            found.extend(targets)
        else:
            key = Path(os.path.normpath(raw)).as_posix()
            found.append((Target(p, raw, key, None), None))
    seen: set[str] = set()
    for target, known in found:  # the same real file named twice (or found twice) is processed once
        try:
            real = known or (os.path.realpath(target.path) if target.path.exists() else str(target.path))
        except OSError:
            real = str(target.path)
        if real in seen:
            continue
        seen.add(real)
        out.targets.append(target)
    out.targets.sort(key=lambda t: sort_key(t.display))
    return out


def in_shard(targets: Iterable[Target], shard: int, count: int) -> list[Target]:
    """The targets of shard ``shard`` (1-based) out of ``count``."""
    return [t for t in targets if shard_index(t.key, count) == shard - 1]
