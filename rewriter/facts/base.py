"""The base image of a stage, as the tables know it: family, shell, users, entry point, CA certificates.

:func:`base_image` follows ``FROM <earlier stage>`` to the image the stage is built from and reads
the dated tables in ``transforms/data`` (``users.yaml``, with the configuration's ``tables: users``
additions; ``entrypoints.yaml``; ``images.yaml``). What a table does not know stays None: a codemod
refuses rather than guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rewriter.core.syntax import Stage
from rewriter.facts.commands import program
from rewriter.facts.context import ImageRef, parse_image

if TYPE_CHECKING:
    from rewriter.facts.context import Context

#: families whose images have no shell
_SHELL_LESS = frozenset({"distroless", "scratch"})


@dataclass(frozen=True)
class BaseImage:
    """What is known of the image a stage is ultimately built from."""

    ref: ImageRef
    #: debian / alpine / rhel / minimal / scratch / distroless (users.yaml), else the family of the package
    #: manager the stage's RUNs use; None when neither tells
    family: str | None
    windows: bool
    #: the unprivileged user the image ships (users.yaml ``existing_users``: uid, gid, default, env)
    existing_user: Mapping[str, Any] | None
    #: its entry point script, when it acts on its first argument (entrypoints.yaml)
    entrypoint: Mapping[str, Any] | None
    #: its Debian/Ubuntu variant ships ca-certificates (images.yaml)
    ca_certificates: bool

    @property
    def has_shell(self) -> bool:
        """Can a RUN or a shell-form line run in it (not distroless, chainguard or scratch)?"""
        name = self.ref.name
        return (self.family not in _SHELL_LESS and "distroless" not in name and "chainguard" not in name
                and name != "scratch")


def base_image(ctx: Context, stage: Stage) -> BaseImage:
    """The base image facts of ``stage`` (computed once per round and stage)."""
    cache: dict[int, BaseImage] = ctx.__dict__.setdefault("_base_images", {})
    found = cache.get(stage.index)
    if found is None:
        found = cache[stage.index] = _base_image(ctx, stage)
    return found


def _base_image(ctx: Context, stage: Stage) -> BaseImage:
    from transforms._data import first_match, load, merged  # the tables live with the codemods' data

    ref = parse_image(ctx.resolved_base(stage))
    users = merged("users", ctx.config.tables.get("users"))
    images = load("images")
    row = first_match(users["images"], ref)
    family = row["family"] if row else None
    if family is None:
        managers = images["package_manager_families"]
        for st in ctx.facts.chain(stage):
            for _inst, cmd in ctx.facts.runs.commands(st):
                family = managers.get(program(cmd) or cmd.name.rsplit("/", 1)[-1])
                if family:
                    break
            if family:
                break
    short = ref.short_name
    official = ref.name in {short, "library/" + short, "docker.io/library/" + short}
    ca = official and (short in images["ca_certificates"] or (
        short in images["ca_certificates_unless_slim"] and "slim" not in (ref.tag or "")))
    return BaseImage(ref, family, ctx.is_windows(stage), first_match(users["existing_users"], ref),
                     first_match(load("entrypoints")["images"], ref), ca)
