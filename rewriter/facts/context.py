"""Questions every codemod asks about a Dockerfile, answered once per round.

A :class:`Context` carries the parsed tree, the build context folder, the configuration and
read access to side files (entry-point scripts, config files) as the current round sees them, so
transforms never touch the disk themselves.
"""

from __future__ import annotations

import functools
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rewriter.core.source import real_folder
from rewriter.core.syntax import Dockerfile, Instruction, Stage
from rewriter.engine.config import Config
from rewriter.facts.model import Facts

if TYPE_CHECKING:
    from rewriter.facts.base import BaseImage
    from rewriter.facts.startuse import StartUse

#: docker compose file names, in the order compose looks for them
COMPOSE_NAMES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")


@dataclass(frozen=True)
class ImageRef:
    """An image reference split into its parts (``registry/name:tag@digest``)."""

    raw: str
    name: str
    tag: str | None
    digest: str | None

    @property
    def short_name(self) -> str:
        """Last path component of the name (``gcr.io/distroless/static`` -> ``static``)."""
        return self.name.rsplit("/", 1)[-1]

    @property
    def has_variables(self) -> bool:
        return "$" in self.raw


def inside(context_dir: Path | None, rel: str) -> Path | None:
    """``context_dir / rel`` resolved (symlinks followed) when it stays inside the build context, else
    None (never escapes).

    The same answer as ``(context_dir.resolve() / rel).resolve()`` checked against the base, cheaper:
    the base is resolved once per folder, and ``rel`` is walked from it (one ``lstat`` a component of
    ``rel``, not one for every component of the absolute path); a symlink on the way falls back to the
    full resolution.
    """
    if context_dir is None:
        return None
    base = real_folder(os.fspath(context_dir))
    path = base
    if rel.startswith("/"):  # an absolute path (rare): resolved whole, kept when it lands in the context
        path = os.path.realpath(Path(rel))
        rel = ""
    for part in rel.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            path = os.path.dirname(path)
            continue
        step = path + part if path.endswith("/") else f"{path}/{part}"
        try:
            if stat.S_ISLNK(os.lstat(step).st_mode):
                path = os.path.realpath(Path(base, rel))  # Path folds "//" and "." as resolve() did
                break
        except OSError:  # absent (or not a folder): joined as written, as realpath does
            pass
        path = step
    if path != base and not path.startswith(base if base.endswith("/") else base + "/"):
        return None
    return Path(path)


@functools.lru_cache(maxsize=1024)  # asked for every stage by several codemods, every round; immutable
def parse_image(ref: str) -> ImageRef:
    """Split an image reference; the tag is what follows the last ``:`` after the last ``/``."""
    rest, _, digest = ref.partition("@")
    slash = rest.rfind("/")
    colon = rest.rfind(":")
    if colon > slash:
        name, tag = rest[:colon], rest[colon + 1 :]
    else:
        name, tag = rest, None
    return ImageRef(ref, name.lower(), tag, digest or None)


@dataclass
class Context:
    """What a transform sees in one round."""

    tree: Dockerfile
    path: Path | None
    context_dir: Path | None
    config: Config = field(default_factory=Config)
    side_reader: Callable[[str], str | None] = field(default=lambda _p: None)
    #: the Dockerfile on disk, when there is one (compose files refer to it)
    dockerfile: Path | None = None
    #: memo shared by the rounds of one run (the build context does not change during it)
    memo: dict[str, object] = field(default_factory=dict)

    @functools.cached_property
    def facts(self) -> Facts:
        """The model of this round's tree, computed lazily once and shared by every codemod."""
        return Facts(self.tree, self._base_workdir)

    def _base_workdir(self, ref: str) -> str | None:
        """The WORKDIR the image ``ref`` sets (``runtimes.yaml`` ``default_workdirs``), if known."""
        if "$" in ref:
            return None
        from transforms._data import first_match, merged  # the tables live with the codemods' data

        rows = merged("runtimes", self.config.tables.get("runtimes"))["default_workdirs"]
        row = first_match(rows, parse_image(ref))
        return str(row["workdir"]) if row else None

    @property
    def text(self) -> str:
        return self.tree.code

    def read_side(self, rel: str) -> str | None:
        """Current text of a file in the build context (``None`` if absent or unreadable)."""
        return self.side_reader(rel)

    def context_file(self, rel: str) -> Path | None:
        """A regular file of the build context (for binary inspection), or None."""
        path = inside(self.context_dir, rel)
        return path if path is not None and path.is_file() else None

    @property
    def final_stage(self) -> Stage | None:
        return self.tree.final_stage

    def is_final(self, stage: Stage) -> bool:
        final = self.final_stage
        return final is not None and final.index == stage.index

    def stage_of(self, inst: Instruction) -> Stage | None:
        return self.facts.scopes.stage_of(inst)

    def base_image(self, stage: Stage) -> BaseImage:
        """What the tables know of the image ``stage`` is built from (:mod:`rewriter.facts.base`)."""
        from rewriter.facts.base import base_image

        return base_image(self, stage)

    def start_use(self, stage: Stage) -> StartUse | None:
        """What the stage's start runs and writes (:mod:`rewriter.facts.startuse`), once per round."""
        from rewriter.facts.startuse import start_use

        cache = self._start_use
        if stage.index not in cache:
            cache[stage.index] = start_use(self, stage)
        return cache[stage.index]

    @functools.cached_property
    def _start_use(self) -> dict[int, StartUse | None]:
        return {}

    def resolved_base(self, stage: Stage) -> str:
        """The image a stage is ultimately built from, following ``FROM <earlier stage>``."""
        return self.facts.chain(stage)[0].base

    def is_windows(self, stage: Stage) -> bool:
        base = self.resolved_base(stage).lower()
        return (
            "windows" in base
            or "nanoserver" in base
            or "servercore" in base
            or "/dotnet/framework/" in base
            or self.tree.escape == "`"
            or any(i.keyword == "SHELL" and "powershell" in i.arguments.lower() for i in stage.instructions)
        )
