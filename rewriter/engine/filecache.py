"""The result cache of ``check``, ``diff`` and ``fix``: a file whose inputs did not change since the
last run is not analysed again.

A file's result depends on more than its text: the codemods read side files of the build context
(entry scripts, ``package.json``, settings modules, ``.dockerignore``), list folders, look for compose
files and CI workflows up to the repository's root. Rather than trusting every reader to declare what
it looked at, :class:`Recorder` watches the filesystem calls the analysis makes (``os.stat``,
``os.lstat``, ``os.listdir``, ``os.scandir`` and ``open``, through which ``pathlib``, ``os.path``
and every reader go) while one file is analysed, and the entry keeps what each returned:

- ``stat``/``lstat``: the file type, size, modification time (ns) and inode, or "absent" (of a
  folder: its type and inode; its content is its listing's);
- a folder listing: its sorted names, folders marked;
- a file opened for reading: its ``stat`` at the time.

An entry is used only when every recorded call answers the same again (a changed, added or removed
file the analysis looked at is a miss), and when its key matches: the dockerfix code and data
(each module's size and modification time), the Python version, the run's settings, the file's path
and how it is named, the working folder, the resolved configuration and build context, and the
``DOCKERFIX_*`` environment. The Dockerfile itself is one of the recorded reads.

A racy input (modified less than :data:`RACY_SECONDS` before the analysis started, when a write in
the same clock tick could go unseen) makes the result uncacheable, as git does for its index. Results
with errors or internal errors are never stored; in ``fix`` mode only results that write nothing are.

Entries live in the user's cache folder (``$DOCKERFIX_CACHE_DIR`` or ``$XDG_CACHE_HOME``/``~/.cache``
+ ``dockerfix/results``), one per file path and settings (a new result replaces the old one); an
unreadable or half-written entry is a miss; an entry not rewritten for 30 days is removed (:func:`prune`).
``--no-cache`` (or ``DOCKERFIX_CACHE_DIR=""``) turns it off.
The recorder replaces the ``os`` functions for the duration of one analysis in one process: batch
workers and the command line are single-threaded; the language server does not use the cache.
"""

from __future__ import annotations

import builtins
import functools
import io
import json
import os
import stat
import sys
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rewriter.core import runmemo
from rewriter.core.source import checksum

#: bump when an entry's meaning changes
FORMAT = 1
#: an input modified this recently when the analysis started makes its result uncacheable
RACY_SECONDS = 2.0

Fingerprint = Any  # JSON-able: a list, a string, or None


@functools.lru_cache(maxsize=1)
def folder() -> Path | None:
    """Where results are kept (None: caching is off); read once per process."""
    from rewriter.core.source import cache_folder

    base = cache_folder()
    return None if base is None else base / "results"


@functools.lru_cache(maxsize=1)
def _code_digest() -> str:
    """The code and data this run uses: every module and table file of dockerfix, by size and mtime."""
    parts = [sys.version]
    for package in ("rewriter", "transforms"):
        root = Path(sys.modules[package].__file__ or ".").parent
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
            for name in sorted(filenames):
                if name.endswith((".py", ".yaml", ".json")):
                    st = os.stat(os.path.join(dirpath, name))
                    parts.append(f"{dirpath}/{name}:{st.st_size}:{st.st_mtime_ns}")
    return _checksum("\n".join(parts))


def _checksum(text: str) -> str:
    return checksum(text.encode("utf-8", "surrogateescape"))


def key_of(*parts: object) -> str:
    """The key of an entry: the code digest, the working folder, the ``DOCKERFIX_*`` environment and
    ``parts`` (the run's settings, the file, ...)."""
    return _run_part() + json.dumps([repr(p) for p in parts])


@functools.lru_cache(maxsize=1)
def _run_part() -> str:
    """What is the same for every file of a run (the environment is read once)."""
    env = sorted((k, v) for k, v in os.environ.items() if k.startswith("DOCKERFIX_"))
    return json.dumps([FORMAT, _code_digest(), os.getcwd(), env])


# --------------------------------------------------------------------------------------------------
# what the analysis looked at


def _stat_print(st: os.stat_result) -> Fingerprint:
    kind = stat.S_IFMT(st.st_mode)
    if kind == stat.S_IFDIR:  # a folder's type and identity: what is in it is its listing's business
        return [kind, 0, 0, st.st_ino]
    return [kind, st.st_size, st.st_mtime_ns, st.st_ino]


def _fingerprint(op: str, path: str) -> Fingerprint:
    """What ``op`` on ``path`` answers now (the same function records and validates)."""
    try:
        if op == "stat":
            return _stat_print(_REAL["stat"](path))
        if op == "lstat":
            return _stat_print(_REAL["lstat"](path))
        if op == "list":  # the names, and which are folders (a file replaced by a folder changes it)
            with _REAL["scandir"](path) as it:
                names = sorted(e.name + ("/" if e.is_dir(follow_symlinks=False) else "") for e in it)
            return _checksum("\0".join(names))
    except OSError as exc:
        return f"error {exc.errno}"
    raise ValueError(op)


_REAL: dict[str, Callable[..., Any]] = {"stat": os.stat, "lstat": os.lstat, "listdir": os.listdir,
                                        "scandir": os.scandir}


class Recorder:
    """The filesystem calls made while it is active: ``(op, absolute path) -> fingerprint``."""

    def __init__(self, ignore: tuple[str, ...] = ()) -> None:
        self.seen: dict[tuple[str, str], Fingerprint] = {}
        self.ignore = ignore  # folders whose files are not inputs (the code, the caches)
        self.started = time.time()
        self.cwd = os.getcwd()

    def _path(self, path: Any) -> str | None:
        """The absolute path a call names, or None when it is not recorded (a file descriptor, a file
        that is not an input)."""
        if isinstance(path, int):  # a file descriptor: what was opened is recorded already
            return None
        try:
            text = os.fsdecode(path)
        except (TypeError, ValueError):
            return None
        if not text.startswith("/"):  # relative to the working folder (part of the key)
            text = os.path.join(self.cwd, text)
        return None if text.startswith(self.ignore) else text

    def _call(self, op: str, real: Callable[..., Any], path: Any, *args: Any, **kw: Any) -> Any:
        """``real(path, ...)``, its answer recorded (the answer itself, not a second call)."""
        text = self._path(path)
        if text is None or (op, text) in self.seen:
            if text is not None and runmemo.captures:
                _captured(op, text, self.seen[(op, text)])
            return real(path, *args, **kw)
        try:
            result = real(path, *args, **kw)
        except OSError as exc:
            self._seen(op, text, f"error {exc.errno}")
            raise
        self._seen(op, text, _stat_print(result))
        return result

    def _note(self, op: str, path: Any) -> None:
        text = self._path(path)
        if text is None:
            return
        if (op, text) not in self.seen:
            self._seen(op, text, _fingerprint(op, text))
        elif runmemo.captures:
            _captured(op, text, self.seen[(op, text)])

    def _seen(self, op: str, path: str, fp: Fingerprint) -> None:
        self.seen[(op, path)] = fp
        if runmemo.captures:
            _captured(op, path, fp)

    def _replay(self, reads: list[runmemo.Read]) -> None:
        """Calls a run's memo entry made for an earlier file, as if this file's analysis made them."""
        for op, path, fp in reads:
            self.seen.setdefault((op, path), fp)

    @contextmanager
    def active(self) -> Iterator[Recorder]:
        real_stat, real_lstat, real_listdir, real_scandir, real_open = (
            os.stat, os.lstat, os.listdir, os.scandir, io.open)
        call, note = self._call, self._note

        def stat_(path: Any, *args: Any, dir_fd: Any = None, follow_symlinks: bool = True) -> Any:
            if dir_fd is not None:
                return real_stat(path, *args, dir_fd=dir_fd, follow_symlinks=follow_symlinks)
            return call("stat" if follow_symlinks else "lstat", real_stat, path, *args,
                        follow_symlinks=follow_symlinks)

        def lstat_(path: Any, *args: Any, **kw: Any) -> Any:
            if kw:
                return real_lstat(path, *args, **kw)
            return call("lstat", real_lstat, path, *args)

        def listdir_(path: Any = ".") -> Any:
            note("list", path)
            return real_listdir(path)

        def scandir_(path: Any = ".") -> Any:
            note("list", path)
            return real_scandir(path)

        def open_(file: Any, mode: str = "r", *args: Any, **kw: Any) -> Any:
            if not any(c in mode for c in "wax+"):
                note("stat", file)
            return real_open(file, mode, *args, **kw)

        os.stat, os.lstat, os.listdir, os.scandir = stat_, lstat_, listdir_, scandir_  # type: ignore[assignment]
        io.open = builtins.open = open_  # type: ignore[assignment]
        runmemo.recorders.append(self._replay)
        try:
            yield self
        finally:
            runmemo.recorders.remove(self._replay)
            os.stat, os.lstat, os.listdir, os.scandir = real_stat, real_lstat, real_listdir, real_scandir
            io.open = builtins.open = real_open

    def racy(self) -> bool:
        """Was an input modified so recently that a write in the same clock tick could go unseen?"""
        limit = (self.started - RACY_SECONDS) * 1e9
        return any(isinstance(fp, list) and fp[2] > limit for fp in self.seen.values())


def _captured(op: str, path: str, fp: Fingerprint) -> None:
    for reads in runmemo.captures:
        reads.append((op, path, fp))


def still_valid(reads: list[list[Any]]) -> bool:
    """Does every recorded call answer as it did? Within a command-line run (:mod:`rewriter.core.runmemo`)
    each call's answer is asked once: the files of one folder share most of them (its listing, its
    absent ``.dockerignore``), and the build context does not change while a run reads it (the
    assumption the configuration cache makes). Outside a run every answer is asked afresh."""
    answers = runmemo.memo("cache-answers")
    if answers is None:
        return all(_fingerprint(op, path) == fp for op, path, fp in reads)
    if len(answers) > 20_000:  # a few MB at most
        answers.clear()
    for op, path, fp in reads:
        key = (op, path)
        now = answers.get(key, _UNASKED)
        if now is _UNASKED:
            now = answers[key] = _fingerprint(op, path)
        if now != fp:
            return False
    return True


_UNASKED = object()


def new_run() -> None:
    """Forget what this process read once for a run: the environment, the working folder, the cache
    folder (a process serving several runs calls it)."""
    _run_part.cache_clear()
    folder.cache_clear()
    _MADE.clear()


# --------------------------------------------------------------------------------------------------
# entries


def _entry_path(base: Path, key: str) -> str:
    """``<base>/<xx>/<checksum>.json``: one of 256 folders, by the first byte of the key's CRC-32 (not
    by the checksum's first characters, its length in hex, on which the keys of one fleet agree)."""
    name = _checksum(key)
    return f"{base}/{name.split('-')[1][:2]}/{name}.json"


def lookup(base: Path, key: str) -> dict[str, Any] | None:
    """The stored value for ``key`` when every input it recorded is unchanged, else None."""
    try:
        with _REAL_OPEN(_entry_path(base, key), encoding="utf-8") as fh:
            entry = json.load(fh)
    except (OSError, ValueError):
        return None
    if not isinstance(entry, dict) or entry.get("key") != key or not still_valid(entry.get("reads", [])):
        return None
    value = entry.get("value")
    return value if isinstance(value, dict) else None


def store(base: Path, key: str, recorder: Recorder, value: dict[str, Any]) -> None:
    """Keep ``value`` for ``key`` with what the analysis read (nothing when an input is racy)."""
    if recorder.racy():
        return
    path = _entry_path(base, key)
    reads = [[op, p, fp] for (op, p), fp in recorder.seen.items()]
    try:
        parent = os.path.dirname(path)
        if parent not in _MADE:
            os.makedirs(parent, exist_ok=True)
            _MADE.add(parent)
            if zlib.crc32(f"{parent}\0{os.getpid()}".encode()) % 16 == 0:  # a sixteenth of the time
                prune(parent)
        # written in place, in one write: a reader that meets it half-written (or two writers mixed)
        # reads invalid JSON, which is a miss; a rename would cost a second file per entry
        data = json.dumps({"key": key, "reads": reads, "value": value}, separators=(",", ":"))  # the C encoder
        with _REAL_OPEN(path, "w", encoding="utf-8") as fh:
            fh.write(data)
    except (OSError, TypeError, ValueError):
        pass


_REAL_OPEN = io.open
_MADE: set[str] = set()  #: entry folders known to exist (made or found) in this process
#: an entry not rewritten for this long is removed (a file checked out in a new folder each time, or
#: deleted, leaves entries nobody reads)
MAX_AGE_SECONDS = 30 * 86400


def prune(entries: str, now: float | None = None) -> int:
    """Remove the entries of one of the 256 entry folders older than :data:`MAX_AGE_SECONDS`. A process
    prunes about one in sixteen of the folders it writes to, once (a folder's listing costs a stat of
    each entry). Returns how many it removed."""
    limit = (time.time() if now is None else now) - MAX_AGE_SECONDS
    removed = 0
    try:
        with os.scandir(entries) as it:
            for entry in it:
                try:
                    if entry.stat(follow_symlinks=False).st_mtime < limit:
                        os.unlink(entry.path)
                        removed += 1
                except OSError:
                    continue
    except OSError:
        pass
    return removed
