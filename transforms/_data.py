"""Loading the codemods' data tables (``transforms/data/*.yaml``), once per process."""

from __future__ import annotations

import fnmatch
import functools
from importlib import resources
from typing import Any

from rewriter.facts import ImageRef


@functools.cache
def load(name: str) -> Any:
    """The parsed YAML table ``transforms/data/<name>.yaml``."""
    from ruamel.yaml import YAML

    text = resources.files("transforms").joinpath("data", f"{name}.yaml").read_text(encoding="utf-8")
    return YAML(typ="safe").load(text)


def merged(name: str, extra: dict[str, Any] | None) -> Any:
    """Table ``name`` with a configuration's additions: lists prepended (they win), maps merged."""
    base = load(name)
    if not extra:
        return base
    out = dict(base)
    for key, value in extra.items():
        current = base.get(key)
        if isinstance(current, list) and isinstance(value, list):
            out[key] = [*value, *current]
        elif isinstance(current, dict) and isinstance(value, dict):
            out[key] = {**current, **value}
        else:
            out[key] = value
    return out


def image_matches(entry: dict[str, Any], ref: ImageRef) -> bool:
    """Does a table row's ``name`` (and optional ``tag``) pattern match an image reference?

    ``name`` is matched against the full name (``gcr.io/distroless/static``) and, for Docker Hub
    images, the short form (``library/python`` and ``python`` both match ``python``).
    """
    names = {ref.name, ref.name.removeprefix("docker.io/").removeprefix("library/"),
             ref.name.removeprefix("docker.io/library/"), ref.name.removeprefix("index.docker.io/library/")}
    if not any(fnmatch.fnmatchcase(n, entry["name"]) for n in names):
        return False
    tag_pattern = entry.get("tag")
    return tag_pattern is None or fnmatch.fnmatchcase(ref.tag or "latest", tag_pattern)


def first_match(rows: list[dict[str, Any]], ref: ImageRef) -> dict[str, Any] | None:
    return next((row for row in rows if image_matches(row, ref)), None)
