"""Configuration: ``[tool.dockerfix]`` in ``pyproject.toml`` or ``.dockerfix.yaml``.

Found by walking up from the Dockerfile's folder; the nearest file that holds a dockerfix section
wins (``.dockerfix.yaml`` before ``pyproject.toml`` in the same folder). Keys::

    select: [secrets, nonroot]     # transform ids to run (default: all)
    ignore: [multistage]           # transform ids to skip
    unsafe-fixes: false
    uid: 10001                     # default non-root user
    gid: 10001
    images: {python-3.13: "gcr.io/distroless/python3-debian13:nonroot"}   # image-table overrides
    context: ..                    # build context, relative to this file (default: the Dockerfile's folder)
    tables:                        # additions to transforms/data/*.yaml (lists prepended, maps merged)
      secrets: {files: [{pattern: ".mytoolrc", id: mytoolrc, used_by: [mytool]}]}

``tables`` is checked against the tables' own schemas (transforms/_schema.py): a table the codemods
merge (secrets, logs, users, runtimes), its keys, and whole rows of the right shape.

Command-line options override the file. An invalid file is an error naming the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any


class ConfigError(Exception):
    """The configuration file is invalid; the message names the file."""


@dataclass(frozen=True)
class Config:
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    unsafe_fixes: bool = False
    uid: int = 10001
    gid: int = 10001
    images: dict[str, str] = field(default_factory=dict)
    #: build context for the Dockerfiles under this configuration (absolute); None: each one's folder
    context: Path | None = None
    #: additions to the codemods' data tables: {"secrets": {"files": [...]}, "logs": {...}}
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: packages a split's runtime stage installs besides those the tables find, per package manager
    #: (``{"apt": ["libyaml-0-2"]}``): what ``migrate`` learns from the libraries the app links
    runtime_packages: dict[str, tuple[str, ...]] = field(default_factory=dict)
    source: Path | None = None

    def merged(self, **overrides: Any) -> Config:
        """A copy with the given non-None overrides (command-line options).

        A command-line ``select`` replaces the file's selection entirely, including its ``ignore``
        (unless ``ignore`` is given on the command line too).
        """
        given = {k: v for k, v in overrides.items() if v is not None}
        if "select" in given and "ignore" not in given:
            given["ignore"] = ()
        return replace(self, **given)


def _ids(value: Any, key: str, where: Path) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [v for v in value.split(",") if v.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: '{key}' must be a list of transform ids")
    return tuple(v.strip().lower() for v in value)


def _from_mapping(data: Any, where: Path) -> Config:
    if data is None:
        return Config(source=where)
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: the dockerfix settings must be a mapping")
    known = {"select", "ignore", "unsafe-fixes", "unsafe_fixes", "uid", "gid", "images", "context", "tables",
             "runtime-packages"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{where}: unknown setting {unknown[0]!r}")
    cfg = Config(source=where)
    if "select" in data:
        cfg = replace(cfg, select=_ids(data["select"], "select", where))
    if "ignore" in data:
        cfg = replace(cfg, ignore=_ids(data["ignore"], "ignore", where))
    unsafe = data.get("unsafe-fixes", data.get("unsafe_fixes", False))
    if not isinstance(unsafe, bool):
        raise ConfigError(f"{where}: 'unsafe-fixes' must be true or false")
    cfg = replace(cfg, unsafe_fixes=unsafe)
    for key in ("uid", "gid"):
        if key in data:
            val = data[key]
            if not isinstance(val, int) or isinstance(val, bool) or not 0 < val < 2**31:
                raise ConfigError(f"{where}: '{key}' must be a positive integer (not 0, which is root)")
            cfg = replace(cfg, **{key: val})
    if "context" in data:
        if not isinstance(data["context"], str) or not data["context"].strip():
            raise ConfigError(f"{where}: 'context' must be a folder path (relative to this file)")
        folder = (where.parent / data["context"]).resolve()
        if not folder.is_dir():
            raise ConfigError(f"{where}: context {data['context']!r} is not a folder")
        cfg = replace(cfg, context=folder)
    if "tables" in data:
        cfg = replace(cfg, tables=_tables(data["tables"], where))
    if "runtime-packages" in data:
        pkgs = data["runtime-packages"]
        name = re.compile(r"[a-z0-9][a-z0-9+.-]*")
        valid = isinstance(pkgs, dict) and all(
            k in {"apt", "apk"} and isinstance(v, list) and all(isinstance(x, str) and name.fullmatch(x) for x in v)
            for k, v in pkgs.items())
        if not valid:
            raise ConfigError(f"{where}: 'runtime-packages' must map apt/apk to lists of package names")
        cfg = replace(cfg, runtime_packages={k: tuple(v) for k, v in pkgs.items()})
    if "images" in data:
        images = data["images"]
        valid = isinstance(images, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in images.items())
        if not valid:
            raise ConfigError(f"{where}: 'images' must map names to image references")
        cfg = replace(cfg, images=dict(images))
    return cfg


def _tables(tables: Any, where: Path) -> dict[str, dict[str, Any]]:
    """``tables:``, checked against the data tables' schemas (transforms/_schema.py): known tables,
    known keys, the shapes of the rows, and the merged table still consistent."""
    from transforms._data import TableError, check_additions
    from transforms._schema import format_path

    if not isinstance(tables, dict) or not all(isinstance(k, str) and isinstance(v, dict)
                                               for k, v in tables.items()):
        raise ConfigError(f"{where}: 'tables' must map a table name (secrets, logs, users, runtimes) to "
                          "the entries to add")
    for name, extra in tables.items():
        try:
            check_additions(name, extra)
        except TableError as exc:
            raise ConfigError(f"{where}: {format_path(('tables', name, *exc.path))}: {exc.problem}") from None
    return {k: dict(v) for k, v in tables.items()}


def load_file(path: Path) -> Config | None:
    """Read one config file; None when it has no dockerfix section."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if path.name == "pyproject.toml":
        import tomllib  # only when there is TOML to read (a few ms at start-up)

        try:
            doc = tomllib.loads(raw.decode("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: invalid TOML ({exc})") from None
        tool = doc.get("tool", {})
        if not isinstance(tool, dict):
            raise ConfigError(f"{path}: 'tool' must be a table")
        section = tool.get("dockerfix")
        return None if section is None else _from_mapping(section, path)
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        data = YAML(typ="safe").load(raw.decode("utf-8"))
    except (YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: invalid YAML ({str(exc).splitlines()[0]})") from None
    return _from_mapping(data, path)


#: configuration files in one folder, in order of precedence
CONFIG_NAMES = (".dockerfix.yaml", ".dockerfix.yml", "pyproject.toml")


def config_in(folder: Path) -> Config | None:
    """The configuration a folder itself holds (None when no file there has a dockerfix section)."""
    for name in CONFIG_NAMES:
        candidate = folder / name
        if candidate.is_file():
            cfg = load_file(candidate)
            if cfg is not None:
                return cfg
    return None


def find_config(start: Path) -> Config:
    """The configuration that applies to a Dockerfile in folder ``start`` (defaults if none)."""
    folder = start.resolve()
    for d in (folder, *folder.parents):
        cfg = config_in(d)
        if cfg is not None:
            return cfg
    return Config()
