"""Schemas of the codemods' data tables (``transforms/data/*.yaml``) and a small validator.

A schema is built from a few node types: scalars (:data:`STR`, :data:`INT`, :data:`BOOL`,
:data:`DATE`, :data:`NULL`, :class:`OneOf` for a fixed set of values), :class:`ListOf` (every item of
one shape), :class:`MapOf` (string keys of any name, every value of one shape), :class:`Obj` (known
keys only, some required) and :class:`AnyOf` (the first alternative that fits). :func:`check`
raises :class:`TableError` at the first problem, with the key path (``python.'3.13'.eol``).

The same schemas validate the configuration's ``tables:`` additions (:func:`additions_schema`): there
no top-level key is required, and a top-level mapping of fixed keys (``secrets.ssh_users``) may be
given in part, since :func:`transforms._data.merged` merges it key by key; a row (an item of a list,
a value of a map) is always whole.
"""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

Path = tuple[str | int, ...]

_BARE_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def format_path(path: Path) -> str:
    """``python.'3.13'.eol``, ``files[3].pattern``: keys that are not plain names are quoted."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            key = part if _BARE_KEY.match(part) else "'" + part.replace("'", "''") + "'"
            out += ("." if out else "") + key
    return out


class TableError(ValueError):
    """A data table (or a configuration's addition to one) does not fit its schema.

    ``str()`` is ``<table>.yaml: <key path>: <problem>``; :attr:`where` is the key path alone.
    """

    def __init__(self, table: str, path: Path, problem: str) -> None:
        self.table = table
        self.path = path
        self.problem = problem
        super().__init__(f"{table}.yaml: {self.where + ': ' if path else ''}{problem}")

    @property
    def where(self) -> str:
        return format_path(self.path)


class _Problem(Exception):
    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(problem)
        self.path = path
        self.problem = problem


class Node:
    """A shape of value; :attr:`what` says it in words ("a list of strings")."""

    what = "a value"

    def check(self, value: Any, path: Path) -> None:
        raise NotImplementedError

    def _wrong(self, value: Any, path: Path) -> _Problem:
        return _Problem(path, f"expected {self.what}, not {_shown(value)}")


class _Scalar(Node):
    def __init__(self, what: str, test: Callable[[Any], bool]) -> None:
        self.what = what
        self.test = test

    def check(self, value: Any, path: Path) -> None:
        if not self.test(value):
            raise self._wrong(value, path)


def _is_date(value: Any) -> bool:
    if isinstance(value, datetime.datetime):
        return False
    if isinstance(value, datetime.date):
        return True
    if isinstance(value, str) and _ISO_DATE.match(value):
        try:
            datetime.date.fromisoformat(value)
        except ValueError:
            return False
        return True
    return False


def _is_regex(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        re.compile(value)
    except re.error:
        return False
    return True


STR = _Scalar("a string", lambda v: isinstance(v, str))
INT = _Scalar("an integer", lambda v: isinstance(v, int) and not isinstance(v, bool))
BOOL = _Scalar("true or false", lambda v: isinstance(v, bool))
#: a calendar date: YAML's unquoted ``2026-12-01`` or the string ``"2026-12-01"``
DATE = _Scalar("a date (YYYY-MM-DD)", _is_date)
NULL = _Scalar("null", lambda v: v is None)
REGEX = _Scalar("a regular expression", _is_regex)


class OneOf(Node):
    """One of a fixed set of values."""

    def __init__(self, *values: Any) -> None:
        self.values = values
        self.what = "one of " + ", ".join(repr(v) for v in values)

    def check(self, value: Any, path: Path) -> None:
        if isinstance(value, bool) or not isinstance(value, Hashable) or value not in self.values:
            raise self._wrong(value, path)


class AnyOf(Node):
    """The first of several shapes that fits."""

    def __init__(self, *options: Node) -> None:
        self.options = options
        self.what = " or ".join(o.what for o in options)

    def check(self, value: Any, path: Path) -> None:
        for option in self.options:
            try:
                option.check(value, path)
            except _Problem:
                continue
            return
        raise self._wrong(value, path)


class ListOf(Node):
    """A list whose every item has one shape."""

    def __init__(self, item: Node) -> None:
        self.item = item
        self.what = f"a list of {_plural(item.what)}"

    def check(self, value: Any, path: Path) -> None:
        if not isinstance(value, list):
            raise self._wrong(value, path)
        for i, item in enumerate(value):
            self.item.check(item, (*path, i))


class MapOf(Node):
    """A mapping from names of the table's choosing (versions, programs, image kinds) to one shape."""

    def __init__(self, value: Node) -> None:
        self.value = value
        self.what = f"a mapping of names to {_plural(value.what)}"

    def check(self, value: Any, path: Path) -> None:
        if not isinstance(value, Mapping):
            raise self._wrong(value, path)
        for key, item in value.items():
            _check_key(key, path)
            self.value.check(item, (*path, key))


class Obj(Node):
    """A mapping with known keys only: ``required`` ones and ``optional`` ones."""

    def __init__(self, required: Mapping[str, Node], optional: Mapping[str, Node] | None = None) -> None:
        self.required = dict(required)
        self.optional = dict(optional or {})
        self.what = f"a mapping with keys {', '.join(self.keys)}"

    @property
    def keys(self) -> list[str]:
        return [*self.required, *self.optional]

    def check(self, value: Any, path: Path) -> None:
        if not isinstance(value, Mapping):
            raise self._wrong(value, path)
        for key in value:
            _check_key(key, path)
            if key not in self.required and key not in self.optional:
                raise _Problem((*path, key), f"unknown key (known: {', '.join(self.keys)})")
        for key in self.required:
            if key not in value:
                raise _Problem((*path, key), "missing")
        for key, item in value.items():
            (self.required.get(key) or self.optional[key]).check(item, (*path, key))

    def partial(self) -> Obj:
        """The same keys, none of them required."""
        return Obj({}, {**self.required, **self.optional})


def _check_key(key: Any, path: Path) -> None:
    if not isinstance(key, str):
        raise _Problem((*path, str(key)), f"the key {key!r} must be a string (quote it in YAML: \"{key}\")")


def _plural(what: str) -> str:
    for article in ("an ", "a "):
        if what.startswith(article):
            rest = what.removeprefix(article)
            head, sep, tail = rest.partition(" ")
            return head + ("s" if not head.endswith("s") else "") + sep + tail
    return what


def _shown(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    text = repr(value) if isinstance(value, str) else f"{value} ({type(value).__name__})"
    return text if len(text) <= 60 else text[:57] + "..."


# --- the tables ---------------------------------------------------------------------------------

STRS = ListOf(STR)
STR_MAP = MapOf(STR)
#: ``name`` (fnmatch pattern on the image name) and optional ``tag`` pattern (transforms._data.image_matches)
_IMAGE = {"name": STR}
_TAG = {"tag": STR}


def _image_row(required: Mapping[str, Node], optional: Mapping[str, Node] | None = None) -> Obj:
    return Obj({**_IMAGE, **required}, {**_TAG, **(optional or {})})


LOGS = Obj({
    "checked": DATE,
    "flags": ListOf(Obj({"programs": STRS, "flags": STRS, "to": OneOf("-", "drop")})),
    "config_directives": ListOf(Obj({"kind": STR, "directive": STR, "stream": OneOf("stdout", "stderr")})),
    "console_values": STRS,
    "prelinked": ListOf(_image_row({"files": STRS})),
    "env_names": STRS,
    "foreground": MapOf(STRS),
    "framework_env": ListOf(Obj({"markers": STRS, "env": STR_MAP}, {"images": STRS})),
    "unbuffered": ListOf(Obj({"markers": STRS, "env": STR_MAP}, {"images": STRS})),
})

SECRETS = Obj({
    "checked": DATE,
    "files": ListOf(Obj({"pattern": STR, "id": STR},
                        {"used_by": STRS, "content": STRS, "runtime": BOOL, "ssh": BOOL})),
    "variable_patterns": STRS,
    "variable_exceptions": STRS,
    "env_consumers": STRS,
    "ssh_users": Obj({"always": STRS, "with_ssh_url": STRS, "url_markers": STRS, "fetchers": STRS}),
    "env_prefix_consumers": ListOf(Obj({"prefixes": STRS, "programs": STRS})),
    "token_config_files": STRS,
})

USERS = Obj({
    "checked": DATE,
    "families": MapOf(Obj({"create": AnyOf(STR, NULL)})),
    "images": ListOf(_image_row({"family": STR})),
    "existing_users": ListOf(_image_row({"uid": INT, "gid": INT, "default": BOOL}, {"env": STR_MAP, "home": STR})),
    "privileged_servers": ListOf(_image_row({"port": INT}, {"unprivileged_image": STR, "unprivileged_port": INT})),
    "privilege_droppers": STRS,
    "root_commands": STR_MAP,
    "root_images": ListOf(_image_row({"reason": STR}, {"unprivileged": STR})),
    "writable_dirs": ListOf(Obj({"markers": STRS, "dirs": STRS})),
    "home_state": ListOf(Obj({"command": STRS, "path": STR}, {"unless": STRS, "unless_keys": STR, "maybe": BOOL})),
    "unprivileged": MapOf(Obj({"uid": INT, "gid": INT, "config_dir": STR, "replaces": STRS, "listen": REGEX,
                               "run": STR})),
})

#: language rows whose end of life is the version's, stated once in ``families.<stack>.versions``
#: (filled in at load, see transforms._data); a row states ``eol`` only for a version ``families`` lacks
EOL_FROM_FAMILIES = ("python", "node", "java")

RUNTIMES = Obj({
    "checked": DATE,
    "distroless": MapOf(Obj({"image": STR, "eol": DATE, "glibc": STR})),
    "python": MapOf(Obj({"image": STR, "python": STR, "site": STR}, {"eol": DATE, "distroless": BOOL})),
    "node": MapOf(Obj({"image": STR, "node": STR}, {"eol": DATE, "distroless": BOOL})),
    "java": MapOf(Obj({"image": STR, "java": STR}, {"eol": DATE, "distroless": BOOL})),
    "dotnet": MapOf(Obj({"aspnet": STR, "runtime_deps": STR, "eol": DATE})),
    "glibc": STR_MAP,
    "python_modules": STR_MAP,
    "build_only_packages": STRS,
    "runtime_libraries": STR_MAP,
    "distroless_libraries": STRS,
    "families": MapOf(Obj({"slim": STR, "alpine": STR, "versions": MapOf(DATE)})),
    "moving_tags": MapOf(STR_MAP),
    "upgrade_margin_days": INT,
    "compilers": Obj({"apt": STRS, "apk": STRS}),
    "build_helpers": STRS,
    "apk_runtime_libraries": STR_MAP,
    "services": STRS,
    "default_workdirs": ListOf(_image_row({"workdir": STR})),
})

ENTRYPOINTS = Obj({
    "checked": DATE,
    "images": ListOf(_image_row({"programs": STRS, "entrypoint": STR, "does": STR}, {"options": BOOL})),
})

IMAGES = Obj({
    "checked": DATE,
    "ca_certificates": STRS,
    "ca_certificates_unless_slim": STRS,
    "package_manager_families": STR_MAP,
    "stacks": STR_MAP,
})

#: native app dependencies → the runtime library packages they link, per package manager and OS family
NATIVE = Obj({
    "checked": DATE,
    "pip": MapOf(Obj({"apt": STRS, "apk": STRS})),
    "gem": MapOf(Obj({"apt": STRS, "apk": STRS})),
    "npm": MapOf(Obj({"apt": STRS, "apk": STRS})),
})

#: Go modules and packages that need cgo and the system libraries they link (multistage/cgo.py)
CGO = Obj({
    "checked": DATE,
    "modules": MapOf(Obj({"libraries": STRS, "tags": MapOf(STRS), "source": STR})),
    "packages": MapOf(Obj({"libraries": STRS, "source": STR})),
    "source_packages": MapOf(Obj({"libraries": STRS, "source": STR})),
    "provided": STRS,
    "libraries": MapOf(Obj({}, {"apt": STRS, "apk": STRS})),
    "runtimes": Obj({"debian": Obj({"image": STR, "eol": DATE}), "alpine": Obj({"image": STR, "eol": DATE})}),
})

SCHEMAS: dict[str, Obj] = {
    "native": NATIVE,
    "cgo": CGO,
    "logs": LOGS,
    "runtimes": RUNTIMES,
    "secrets": SECRETS,
    "users": USERS,
    "entrypoints": ENTRYPOINTS,
    "images": IMAGES,
}

#: the tables a configuration's ``tables:`` may add to (the ones the codemods merge with it)
CONFIGURABLE = ("secrets", "logs", "users", "runtimes")


@functools.cache
def additions_schema(name: str) -> Obj:
    """What a configuration may add to table ``name``: any of its keys but ``checked`` (the date the
    shipped table was reviewed), none required; a top-level mapping of fixed keys may be partial."""
    full = SCHEMAS[name]
    keys = {k: (v.partial() if isinstance(v, Obj) else v) for k, v in full.required.items() if k != "checked"}
    return Obj({}, keys)


def check(table: str, schema: Node, value: Any, path: Sequence[str | int] = ()) -> None:
    """Raise :class:`TableError` (naming ``table`` and the key path) if ``value`` does not fit ``schema``."""
    try:
        schema.check(value, tuple(path))
    except _Problem as problem:
        raise TableError(table, problem.path, problem.problem) from None
