"""The compiled code of the methods ``dataclasses`` generates, kept between runs.

Why: ``@dataclass`` writes each class's ``__init__``, ``__repr__``, ``__eq__``, ``__hash__`` and, for a
frozen class, ``__setattr__``/``__delattr__`` as source text and compiles it (``exec``) while the
module is imported. Python 3.11 and 3.12 compile each method alone: the ~55 dataclasses a one-file
``check`` imports cost ~20 ms of its ~120 ms, every run, in every worker.

What: :func:`install` gives the ``dataclasses`` module its own ``exec`` (a module global shadows the
builtin) that compiles a text once and keeps the code object, then runs it exactly as the builtin
would: the same text, compiled with the same file name (``<string>``) and no inherited ``__future__``
flags (``dataclasses`` has none), in the same namespaces. The code objects are kept in one
``marshal`` file per Python build in the cache folder (:func:`cache_folder`), keyed by the full text,
so a text that changes (a field added, another Python) is compiled afresh and nothing can be served
stale. A file that cannot be read or written is ignored (each text is then compiled, as without it).

Scope: the hook covers every dataclass created in the process after :func:`install`, ours and
libraries' alike; it is the builtin's behaviour with one compile saved. It is not installed when
caching is off (``DOCKERFIX_CACHE_DIR=""``), and only by the command line (:mod:`rewriter.faces.cli`):
a program importing ``rewriter`` as a library keeps its dataclasses as they are.

Trust: the file is code, like a ``__pycache__`` ``.pyc``. It is written readable and writable by its
user only (0600), and read only when it is this user's and neither group nor others may write it
(another user's or a loosened file is ignored, then replaced); a symbolic link is not followed. Do not
share ``code/`` between machines or jobs (a CI cache should hold ``results/`` only). A damaged file
fails to load and is replaced.
"""

from __future__ import annotations

import atexit
import builtins
import marshal
import os
import sys
from pathlib import Path
from types import CodeType
from typing import Any

from rewriter.core.source import cache_folder

#: the file holds at most this many texts; past it, a save keeps only those this process used
MAX_ENTRIES = 4000

_codes: dict[str, CodeType] = {}
_used: set[str] = set()
_state = {"file": None, "dirty": False}  # type: dict[str, Any]


def _file(folder: Path) -> Path:
    tag = sys.implementation.cache_tag or sys.implementation.name
    return folder / "code" / f"dataclasses-{tag}-{sys.hexversion:x}.marshal"


def _exec(source: Any, globals: dict[str, Any] | None = None, locals: Any = None, /) -> None:
    """``exec`` for the ``dataclasses`` module: a text is compiled once (as the builtin compiles it)."""
    if globals is None:  # never so in 3.11-3.13 (each call names the class's module); the builtin would
        globals = vars(sys.modules["dataclasses"])  # take the caller's, which is dataclasses
    if isinstance(source, str):
        code = _codes.get(source)
        if code is None:
            code = compile(source, "<string>", "exec", dont_inherit=True)
            _codes[source] = code
            _state["dirty"] = True
        _used.add(source)
        source = code
    builtins.exec(source, globals, locals)


def _read_own(path: Path) -> bytes:
    """The file's bytes, only when this user wrote it and nobody else can (Jinja's bytecode cache rule):
    another user's file, or one that group or others may write, is ignored and later replaced."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    try:
        st = os.fstat(fd)
        if hasattr(os, "getuid") and (st.st_uid != os.getuid() or st.st_mode & 0o022):
            raise PermissionError("not this user's own file")
        with os.fdopen(os.dup(fd), "rb") as f:
            return f.read()
    finally:
        os.close(fd)


def install() -> None:
    """Load the kept code and hook ``dataclasses`` (once per process; a no-op when caching is off)."""
    if _state["file"] is not None:
        return
    folder = cache_folder()
    if folder is None:
        return
    import dataclasses

    path = _file(folder)
    try:
        loaded = marshal.loads(_read_own(path))
        if isinstance(loaded, dict):
            _codes.update((k, v) for k, v in loaded.items() if isinstance(k, str) and isinstance(v, CodeType))
    except (OSError, ValueError, EOFError, TypeError):
        pass
    _state["file"] = path
    dataclasses.exec = _exec  # type: ignore[attr-defined]
    atexit.register(save)


def save() -> None:
    """Keep the code compiled since the last save (atomic; a failure is ignored)."""
    path = _state["file"]
    if path is None or not _state["dirty"]:
        return
    keep = _codes if len(_codes) <= MAX_ENTRIES else {k: _codes[k] for k in _used}
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(marshal.dumps(keep))
        os.replace(tmp, path)
        _state["dirty"] = False
    except (OSError, ValueError):
        pass
