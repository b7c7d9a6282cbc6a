"""The result cache of ``dockerfix migrate``: a rerun after an interruption, or over an unchanged
repository, costs no build.

A file's outcome is stored under a key made of everything that decides it:

- the Dockerfile's path and text, and every side file the full migration writes (``.dockerignore``,
  compose, scripts and workflows it changes, configuration files), path and content;
- the build context as the builder receives it: each file's path and content hash, the files the
  context's ``.dockerignore`` excludes left out;
- the base images' IDs as the engine knows them (the original's and the rewrite's ``FROM`` images;
  ``absent`` for one it does not have, which a build would pull);
- the dockerfix version, the builder (and its remote host) and every option of the run that can change
  the verdict (run arguments, probes, settle time, timeouts, codemods selected, build budget, secrets).

The cache lives in the user's cache folder (``$DOCKERFIX_CACHE_DIR`` or ``$XDG_CACHE_HOME``/
``~/.cache`` + ``dockerfix/migrate``) or in ``--cache-dir``; ``--no-cache`` neither reads nor writes it.
An entry holds the outcome's record and the texts it wrote (nothing when nothing was written); secret
values are never part of it (a secret's source file counts only through its hash in the context).
Errors are not cached (they are usually the machine's, not the file's). An unreadable entry is a miss.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rewriter.proof.containers import Builder

#: bump when an entry's meaning changes
FORMAT = 1
_FROM = re.compile(r"^\s*FROM\s+(?:--\S+\s+)*(\S+)", re.IGNORECASE | re.MULTILINE)


def default_folder() -> Path | None:
    from rewriter.core.source import cache_folder

    base = cache_folder()
    return None if base is None else base / "migrate"


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("dockerfix")
    except Exception:  # an uninstalled checkout: the source tree's own state decides
        return "source"


def context_digest(context: Path, ignore_text: str | None) -> str:
    """A hash of the build context as the builder sees it: relative paths, file contents and symlink
    targets, without what ``ignore_text`` (the context's ``.dockerignore``) excludes."""
    from rewriter.sidefiles.dockerignore import is_excluded, parse

    patterns = parse(ignore_text) if ignore_text else []
    h = hashlib.sha256()
    for folder, dirs, files in os.walk(context):
        dirs.sort()
        rel_dir = os.path.relpath(folder, context).replace(os.sep, "/")
        for name in sorted(files):
            rel = name if rel_dir == "." else f"{rel_dir}/{name}"
            if patterns and is_excluded(rel, patterns):
                continue
            full = os.path.join(folder, name)
            h.update(rel.encode("utf-8", "surrogateescape") + b"\0")
            try:
                if os.path.islink(full):
                    h.update(b"L" + os.readlink(full).encode("utf-8", "surrogateescape"))
                else:
                    with open(full, "rb") as fh:
                        for chunk in iter(lambda: fh.read(1 << 20), b""):
                            h.update(chunk)
            except OSError:
                h.update(b"?")
            h.update(b"\0")
    return h.hexdigest()


def base_images(*texts: str) -> list[str]:
    """The images the ``FROM`` lines of these Dockerfiles name (earlier stages left out)."""
    out: list[str] = []
    for text in texts:
        stages: set[str] = set()
        for line in text.splitlines():
            m = _FROM.match(line)
            if not m:
                continue
            ref = m.group(1)
            alias = re.search(r"\s+AS\s+(\S+)\s*$", line, re.IGNORECASE)
            if ref.lower() not in stages and ref.lower() != "scratch" and ref not in out:
                out.append(ref)
            if alias:
                stages.add(alias.group(1).lower())
    return out


def image_id(tool: Builder, ref: str) -> str:
    """The engine's ID of ``ref`` (``absent`` when it does not have it)."""
    try:
        info = tool.inspect(ref)
    except Exception:  # an engine (or a stand-in) that cannot say: the key still differs from any ID
        return "unknown"
    if info is None:
        return "absent"
    try:
        data = json.loads(info.metadata.split("\n", 1)[0])
    except ValueError:
        data = None
    if isinstance(data, list):
        data = data[0] if data else None
    if isinstance(data, dict):
        return str(data.get("Id") or data.get("ID") or data.get("Digest") or "unknown")
    return "unknown"


@dataclass
class Entry:
    record: dict[str, Any]
    written: dict[str, str]  #: path relative to the context ("" = the Dockerfile) → text written


class ResultCache:
    """Entries in ``folder``, one JSON file per key."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.hits = 0

    def key(self, *, where: str, dockerfile: str, side_files: Mapping[str, str], context: str,
            images: Mapping[str, str], builder: str, options: Mapping[str, Any]) -> str:  # fmt: skip
        doc = {"format": FORMAT, "dockerfix": _version(), "where": where, "dockerfile": dockerfile,
               "side_files": dict(side_files),
               "context": context, "images": dict(images), "builder": builder, "options": dict(options)}
        return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()

    def get(self, key: str) -> Entry | None:
        try:
            doc = json.loads((self.folder / f"{key}.json").read_text(encoding="utf-8"))
            entry = Entry(dict(doc["record"]), {str(k): str(v) for k, v in doc["written"].items()})
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None
        self.hits += 1
        return entry

    def put(self, key: str, record: Mapping[str, Any], written: Mapping[str, str]) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = self.folder / f".{key}.{os.getpid()}.tmp"
            tmp.write_text(json.dumps({"record": dict(record), "written": dict(written)}), encoding="utf-8")
            os.replace(tmp, self.folder / f"{key}.json")
        except OSError:
            pass  # a cache that cannot be written costs the next run its builds, nothing else


def options_of(opts: Any) -> dict[str, Any]:
    """The migrate options that can change a verdict (secret values are not among them: only ids)."""
    return {
        "run_args": list(opts.run_args), "smoke_cmd": opts.smoke_cmd, "ports": list(opts.ports), "path": opts.path,
        "settle": opts.settle, "timeout": opts.timeout, "max_builds": opts.max_builds,
        "select": list(opts.select) if opts.select else None, "ignore": list(opts.ignore) if opts.ignore else None,
        "secrets": sorted(s.split(",", 1)[0] for s in opts.secrets), "build_timeout": opts.build_timeout,
        "upgrade": getattr(opts, "upgrade", True), "max_seconds": getattr(opts, "max_seconds", None),
    }  # fmt: skip


def written_texts(result: Any) -> dict[str, str]:
    """What a rewrite writes: "" for the Dockerfile, then its side files by path."""
    if result is None or not result.changed:
        return {}
    return {"": result.new_text, **{rel: new for rel, (_old, new, _e) in result.side_files.items()}}


def side_texts(result: Any) -> dict[str, str]:
    return {rel: new for rel, (_old, new, _e) in result.side_files.items()} if result is not None else {}


def engine_name(tool: Builder) -> str:
    return f"{getattr(tool, 'name', type(tool).__name__)}@{getattr(tool, 'remote_host', None) or 'local'}"


def key_for(cache: ResultCache, path: Path, opts: Any, tool: Builder) -> str | None:
    """The cache key of migrating ``path`` with ``opts`` on ``tool`` (None: the file cannot be read or
    rewritten, which the migration itself will report)."""
    from rewriter.engine.config import ConfigError
    from rewriter.engine.pipeline import Status, process_file
    from rewriter.engine.settings import Overrides, resolve
    from transforms import UnknownTransform

    try:
        resolved = resolve(path, Overrides(opts.select, opts.ignore, True, opts.context))
    except (ConfigError, UnknownTransform):
        return None
    context = resolved.context or path.parent
    full = process_file(path, context_dir=context, config=resolved.config, transforms=list(resolved.transforms),
                        unsafe_fixes=True, unsafe_for=None)
    if full.status == Status.ERROR:
        return None
    try:
        ignore = (context / ".dockerignore").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        ignore = None
    images = {ref: image_id(tool, ref) for ref in base_images(full.original, full.new_text)}
    return cache.key(where=str(path.resolve()), dockerfile=full.original, side_files=side_texts(full),
                     context=context_digest(context, ignore), images=images, builder=engine_name(tool),
                     options=options_of(opts))
