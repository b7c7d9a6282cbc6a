"""Python's cyclic garbage collector in the command line's file commands: held off for the first files.

Why: while the modules load, the collector traverses them again and again as they pile up, and during
a run each file's short-lived objects are traversed before they are freed. Over the 142-file corpus
that is ~15 ms of CPU (~5 % of a ``check``) for ~50 objects of cyclic garbage a file (~140 with what
they hold). So :func:`hold` (called first thing by :mod:`rewriter.faces.cli`) turns it off, and each
file a process analyses counts (:func:`file_done`, from the batch loop); after :data:`HELD_FILES`
files the collector is turned back on with Python's own thresholds, and a long batch pays what it
always paid. A run of fewer files never collects: the garbage of at most 128 files waits for the
process's end (a worker's peak memory on a 2,500-file batch: 30 -> 32 MB). Periodic full collections
instead were measured and dropped: each traverses every live object, the per-text memos included
(~20 ms), and a 2,500-file batch took 13 % more CPU.

:func:`release` turns it back on at once: the commands other than ``fix``/``diff``/``check`` (the
language server, ``migrate``) run with the collector as Python sets it. A library importing
``rewriter`` never meets any of this (only the command line holds the collector).
"""

from __future__ import annotations

import gc

#: files a process analyses with the collector off
HELD_FILES = 128

_state = {"held": False, "left": 0}


def hold(files: int = HELD_FILES) -> None:
    """Turn the collector off until ``files`` files were analysed in this process (or :func:`release`)."""
    gc.disable()
    _state.update(held=True, left=files)


def file_done() -> None:
    """One more file analysed: past the held count, the collector is turned back on."""
    if _state["held"]:
        _state["left"] -= 1
        if _state["left"] <= 0:
            release()


def release() -> None:
    """Turn the collector back on if :func:`hold` turned it off."""
    if _state["held"]:
        _state["held"] = False
        gc.enable()
