"""Bytes to text and back: reading a Dockerfile safely and writing it atomically.

Reading rejects, with a one-line reason, what is not a Dockerfile we can rewrite safely: a missing
or unreadable path, a directory, an empty file, a file over 1 MiB, binary content (NUL bytes) and
text that is not UTF-8. A UTF-8 BOM stays part of the text, so line endings, BOM and the final
newline are reproduced exactly on write. Writing is atomic: a temporary file in the same folder,
fsync, then ``os.replace``; the file mode is kept, and nothing is written when nothing changed.
"""

from __future__ import annotations

import contextlib
import functools
import os
import stat
import zlib
from pathlib import Path

MAX_BYTES = 1024 * 1024


@functools.lru_cache(maxsize=4096)
def real_folder(folder: str) -> str:
    """A folder's real path, asked once per process (a build context or a configuration's folder does
    not move while dockerfix reads it)."""
    return os.path.realpath(folder)


def checksum(data: bytes) -> str:
    """Length, CRC-32 and Adler-32 of ``data``: a cache key that notices edits (not an adversary), without
    loading OpenSSL (``hashlib`` costs a one-file run a few milliseconds)."""
    return f"{len(data):x}-{zlib.crc32(data):08x}-{zlib.adler32(data):08x}"


def cache_folder() -> Path | None:
    """dockerfix's cache folder (parsed tables, kept results, compiled class code):
    ``$DOCKERFIX_CACHE_DIR``, else the user's cache folder (``$XDG_CACHE_HOME`` or ``~/.cache``) +
    ``dockerfix``; ``None`` when caching is off (``DOCKERFIX_CACHE_DIR`` set to the empty string)."""
    explicit = os.environ.get("DOCKERFIX_CACHE_DIR")
    if explicit is not None:
        return Path(explicit) if explicit else None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "dockerfix"


class SourceError(Exception):
    """A file cannot be read or written; the message names the problem (the caller names the file)."""


def decode(data: bytes) -> str:
    """Decode Dockerfile bytes, rejecting binary and non-UTF-8 content."""
    if len(data) > MAX_BYTES:
        raise SourceError(f"file is larger than 1 MiB ({len(data)} bytes)")
    if b"\x00" in data:
        raise SourceError("file is binary (contains NUL bytes)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(f"file is not UTF-8 text (invalid byte at offset {exc.start})") from None
    if not text.lstrip("\ufeff").strip():
        raise SourceError("file is empty")
    return text


def read_bytes(path: Path) -> bytes:
    """Read a file's bytes, turning OS errors into :class:`SourceError`."""
    try:
        if path.is_dir():
            raise SourceError("is a directory, not a Dockerfile")
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise SourceError(f"file is larger than 1 MiB ({size} bytes)")
        return path.read_bytes()
    except FileNotFoundError:
        raise SourceError("no such file") from None
    except PermissionError:
        raise SourceError("permission denied") from None
    except IsADirectoryError:
        raise SourceError("is a directory, not a Dockerfile") from None
    except OSError as exc:
        raise SourceError(exc.strerror or str(exc)) from None


def read_text(path: Path) -> str:
    """Read a Dockerfile as text with its BOM and line endings intact."""
    return decode(read_bytes(path))


def write_atomic(path: Path, text: str) -> bool:
    """Write ``text`` to ``path`` atomically; returns False (and writes nothing) if unchanged.

    The temporary file lives in the same folder so the final rename is atomic; the original mode
    is kept. Symlinks are written through (the link's target is replaced, the link is kept).
    """
    target = path.resolve() if path.is_symlink() else path
    data = text.encode("utf-8")
    try:
        if target.exists() and target.read_bytes() == data:
            return False
        mode = stat.S_IMODE(target.stat().st_mode) if target.exists() else 0o644
        import tempfile  # only a run that writes needs it

        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".dockerfix", dir=target.parent)
    except OSError as exc:
        raise SourceError(f"cannot write: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise SourceError(f"cannot write: {exc.strerror or exc}") from None
        raise
    return True
