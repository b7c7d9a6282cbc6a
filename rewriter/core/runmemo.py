"""Work shared by the files of one batch run, and the filesystem answers it was built from.

Inside :func:`run` (the command line opens one around a batch; its forked workers inherit it),
:func:`memo` gives a named dictionary that lives for the run: the walk of a build context that many
Dockerfiles share is done once, not once a file. Outside a run (the language server, a library call)
:func:`memo` gives None and callers compute afresh, so a long-lived process never serves an old walk.

A memo entry must not hide what it read from the result cache (:mod:`rewriter.engine.filecache`),
which keeps a file's result only with every filesystem call its analysis made: :func:`capturing`
collects the calls the active recorder sees while an entry is built (``(op, path, answer)``), and
:func:`replay` hands them to the recorder of each later file that uses the entry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

Read = tuple[str, str, Any]  #: (op, absolute path, the answer's fingerprint)

_memos: dict[str, dict[Any, Any]] = {}
_in_run = False
#: open captures (lists the recorder appends every call it sees to)
captures: list[list[Read]] = []
#: the active recorders' hooks that take replayed calls
recorders: list[Callable[[list[Read]], None]] = []


@contextmanager
def run() -> Iterator[None]:
    """The scope of one run: memos start empty and are dropped at its end."""
    global _in_run
    _memos.clear()
    _in_run = True
    try:
        yield
    finally:
        _in_run = False
        _memos.clear()


def memo(name: str) -> dict[Any, Any] | None:
    """The run's memo ``name`` (None outside a run)."""
    if not _in_run:
        return None
    return _memos.setdefault(name, {})


def recording() -> bool:
    """Is a result-cache recorder watching the filesystem calls now?"""
    return bool(recorders)


@contextmanager
def capturing() -> Iterator[list[Read]]:
    """The filesystem calls the active recorder sees inside the block (none without a recorder)."""
    reads: list[Read] = []
    captures.append(reads)
    try:
        yield reads
    finally:
        captures.remove(reads)


def replay(reads: list[Read]) -> None:
    """Tell the active recorder about calls a memo entry made for an earlier file."""
    for hook in recorders:
        hook(reads)
