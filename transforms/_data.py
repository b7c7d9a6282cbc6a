"""Loading the codemods' data tables (``transforms/data/*.yaml``), once per process.

Each table is validated against its schema (:mod:`transforms._schema`) when it is first loaded: a
broken table raises :class:`~transforms._schema.TableError` naming the table and the key path.

End of life, once per version: the language rows of ``runtimes.yaml`` (``python``, ``node``,
``java``) take their ``eol`` from ``families.<stack>.versions`` at load; a row states its own ``eol``
only for a version that ``families`` lacks (stating it in both places is an error).
"""

from __future__ import annotations

import datetime
import fnmatch
import functools
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from rewriter.core.source import cache_folder, checksum
from rewriter.facts import ImageRef
from transforms._schema import (
    CONFIGURABLE,
    EOL_FROM_FAMILIES,
    SCHEMAS,
    TableError,
    additions_schema,
    check,
    format_path,
)

__all__ = ["TableError", "check_additions", "checked_date", "first_match", "image_matches", "load", "matches_any",
           "merged", "validate"]


#: bump when the cache's encoding changes
_CACHE_FORMAT = 2

#: the shipped tables' folder (a package installed as files, as pip does; see _table_text)
_DATA = Path(__file__).resolve().parent / "data"


def _table_text(name: str) -> str:
    """The text of ``transforms/data/<name>.yaml``: read from the package folder, or through
    :mod:`importlib.resources` when the package is not a folder of files (a zip, say)."""
    try:
        return (_DATA / f"{name}.yaml").read_text(encoding="utf-8")
    except FileNotFoundError:
        from importlib import resources

        return resources.files("transforms").joinpath("data", f"{name}.yaml").read_text(encoding="utf-8")


def _encode(value: Any) -> Any:
    if isinstance(value, datetime.date):
        return {"__date__": value.isoformat()}
    raise TypeError(f"cannot cache a {type(value).__name__}")


def _decode(obj: dict[str, Any]) -> Any:
    if len(obj) == 1 and "__date__" in obj:
        return datetime.date.fromisoformat(obj["__date__"])
    return obj


@functools.cache
def _schema_source() -> bytes:
    """The schema module's source: a table checked by another schema is checked again."""
    import transforms._schema as schema

    try:
        return Path(schema.__file__ or "").read_bytes()
    except OSError:
        return b"?"


@functools.cache
def _raw(name: str) -> Any:
    """The parsed YAML text of ``transforms/data/<name>.yaml``, checked against its schema.

    Parsing YAML and checking the schema cost more than the rest of a small run, so the checked result
    is kept as JSON in :func:`cache_folder`, named by checksums of the table's text and of the schema module: an
    edited table or schema is parsed and checked afresh, never served stale. A cache that cannot be
    read or written is ignored.
    """
    text = _table_text(name)
    folder = cache_folder()
    cached: Path | None = None
    if folder is not None:
        key = checksum(f"{_CACHE_FORMAT}\0{text}".encode() + b"\0" + _schema_source())
        cached = folder / "tables" / f"{name}-{key}.json"
        try:
            return json.loads(cached.read_text(encoding="utf-8"), object_hook=_decode)
        except (OSError, ValueError):
            pass
    from ruamel.yaml import YAML

    data = YAML(typ="safe").load(text)
    if name in SCHEMAS:
        check(name, SCHEMAS[name], data)
    if cached is not None:
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            tmp = cached.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(data, default=_encode), encoding="utf-8")
            os.replace(tmp, cached)
        except (OSError, TypeError, ValueError):
            pass
    return data


@functools.cache
def load(name: str) -> Any:
    """The table ``transforms/data/<name>.yaml``: validated, with the derived values filled in.

    Cached: the same object for the whole process (do not modify it).
    """
    return _complete(name, _raw(name))


def validate(name: str, data: Any) -> Any:
    """Table ``name`` given as parsed YAML (a copy of a shipped one, say), validated like :func:`load`
    does; returns it completed (derived values filled in) or raises :class:`TableError`."""
    check(name, SCHEMAS[name], data)
    return _complete(name, data)


def merged(name: str, extra: dict[str, Any] | None) -> Any:
    """Table ``name`` with a configuration's additions: lists prepended (they win), maps merged.

    The additions are checked against the table's schema (a configuration file's were already, when it
    was loaded; :func:`check_additions`), and so is the merged table's consistency; with no additions,
    the cached table itself.
    """
    if not extra:
        return load(name)
    check(name, additions_schema(name), extra)
    base = _raw(name)
    out = dict(base)
    for key, value in extra.items():
        current = base.get(key)
        if isinstance(current, list) and isinstance(value, list):
            out[key] = [*value, *current]
        elif isinstance(current, dict) and isinstance(value, dict):
            out[key] = {**current, **value}
        else:
            out[key] = value
    return _complete(name, out)


def check_additions(name: str, extra: Any) -> None:
    """Raise :class:`TableError` unless ``extra`` is a valid ``tables: {name: ...}`` configuration entry
    (a table the codemods merge; its keys and shapes; the merged table still consistent). The error's
    :attr:`~TableError.where` is the key path inside the entry."""
    if name not in CONFIGURABLE:
        raise TableError(name, (), f"no such table (the tables are {', '.join(CONFIGURABLE)})")
    if isinstance(extra, Mapping) and "checked" in extra:
        raise TableError(name, ("checked",), "the date the shipped table was checked cannot be configured")
    merged(name, extra)


def checked_date(table: str | Mapping[str, Any]) -> datetime.date:
    """The date a table (its name, or the table itself) was last checked against its sources: its
    ``checked`` key. End-of-life decisions take it as "today", so that a run gives the same answer
    whatever day it is, and a table past its review is bumped deliberately."""
    data = load(table) if isinstance(table, str) else table
    value = data["checked"]
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(str(value))


def _complete(name: str, data: Any) -> Any:
    """The table with its derived values filled in, and cross-references checked."""
    if name == "runtimes":
        return _runtime_eols(data)
    if name == "users":
        _check_users(data)
    return data


def _runtime_eols(data: dict[str, Any]) -> dict[str, Any]:
    """``runtimes`` with ``eol`` filled in in the language rows from ``families.<stack>.versions``."""
    out = dict(data)
    families = data.get("families", {})
    for stack in EOL_FROM_FAMILIES:
        if stack not in data:
            continue
        dates = (families.get(stack) or {}).get("versions", {})
        rows = {}
        for version, row in data[stack].items():
            source = ("families", stack, "versions", version)
            if "eol" in row and version in dates:
                raise TableError("runtimes", (stack, version, "eol"),
                                 f"the end of life of {stack} {version} is already stated in "
                                 f"{format_path(source)}: state it once, there")
            if "eol" not in row and version not in dates:
                raise TableError("runtimes", (stack, version),
                                 f"no end of life for {stack} {version}: add it to {format_path(source)}")
            rows[version] = row if "eol" in row else {**row, "eol": dates[version]}
        out[stack] = rows
    return out


def _check_users(data: dict[str, Any]) -> None:
    families = set(data.get("families", {})) | {"distroless"}
    for i, row in enumerate(data.get("images", [])):
        if row["family"] not in families:
            raise TableError("users", ("images", i, "family"),
                             f"unknown family {row['family']!r} (known: {', '.join(sorted(families))})")
    recipes = data.get("unprivileged", {})
    for i, row in enumerate(data.get("root_images", [])):
        if "unprivileged" in row and row["unprivileged"] not in recipes:
            raise TableError("users", ("root_images", i, "unprivileged"),
                             f"no recipe {row['unprivileged']!r} under 'unprivileged'")


def image_matches(entry: dict[str, Any], ref: ImageRef) -> bool:
    """Does a table row's ``name`` (and optional ``tag``) pattern match an image reference?

    ``name`` is matched against the full name (``gcr.io/distroless/static``) and, for Docker Hub
    images, the short form (``library/python`` and ``python`` both match ``python``).
    """
    return _matches(entry, _names(ref.name), ref.tag or "latest")


@functools.lru_cache(maxsize=512)
def _any_of(patterns: tuple[str, ...]) -> Callable[[str], re.Match[str] | None]:
    # fnmatch.translate gives "(?s:...)\Z" (atomic groups, no named ones): the alternatives join safely
    return re.compile("|".join(fnmatch.translate(p) for p in patterns) or "(?!)").match


def matches_any(name: str, patterns: Iterable[str]) -> bool:
    """``any(fnmatch.fnmatchcase(name, p) for p in patterns)``, with the patterns compiled once into one
    regular expression (the secret-variable and log tables hold dozens, asked for every word)."""
    return _any_of(tuple(patterns))(name) is not None


def _names(name: str) -> frozenset[str]:
    return frozenset({name, name.removeprefix("docker.io/").removeprefix("library/"),
                      name.removeprefix("docker.io/library/"), name.removeprefix("index.docker.io/library/")})


def _matches(entry: dict[str, Any], names: frozenset[str], tag: str) -> bool:
    name_matches = glob_matcher(entry["name"])
    tag_pattern = entry.get("tag")
    return any(name_matches(n) for n in names) and (
        tag_pattern is None or glob_matcher(tag_pattern)(tag) is not None)


@functools.lru_cache(maxsize=4096)
def glob_matcher(pattern: str) -> Callable[[str], re.Match[str] | None]:
    """``fnmatch.fnmatchcase(name, pattern)`` as a compiled match (its own definition, without the
    call and cache lookup it makes for every name and row)."""
    return re.compile(fnmatch.translate(pattern)).match


#: first_match's answers: (id of the rows, name, tag) -> (the rows, the row). The rows are kept so that
#: their id cannot be reused by another list while the answer is remembered; tables are never mutated.
_FIRST: dict[tuple[int, str, str], tuple[list[dict[str, Any]], dict[str, Any] | None]] = {}


def first_match(rows: list[dict[str, Any]], ref: ImageRef) -> dict[str, Any] | None:
    """The first row of a table that matches ``ref`` (:func:`image_matches`), remembered for the run."""
    tag = ref.tag or "latest"
    key = (id(rows), ref.name, tag)
    hit = _FIRST.get(key)
    if hit is not None and hit[0] is rows:
        return hit[1]
    names = _names(ref.name)
    row = next((r for r in rows if _matches(r, names, tag)), None)
    if len(_FIRST) >= 8192:  # a batch over many repositories meets many images: stay bounded
        _FIRST.clear()
    _FIRST[key] = (rows, row)
    return row
