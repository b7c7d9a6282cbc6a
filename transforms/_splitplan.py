"""The plan a ``multistage`` split carries out, shared by the per-stack planners."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from rewriter.edits import Edit

#: the day the runtime tables (``data/runtimes.yaml`` ``checked``) were last reviewed: end of life is
#: judged against it
TODAY = datetime.date(2026, 12, 1)


@dataclass
class Plan:
    """What the runtime stage needs."""

    stack: str
    runtime: str
    copies: list[tuple[str, str]] = field(default_factory=list)  # (builder path, runtime path)
    entrypoint: list[str] = field(default_factory=list)
    builder_edits: list[Edit] = field(default_factory=list)
    #: no builder: only the base image changes (a prebuilt static binary)
    rebase_only: bool = False
    packages: list[str] = field(default_factory=list)  # runtime libraries a slim runtime installs
    notes: list[str] = field(default_factory=list)
    #: a same-family runtime with a shell: the start lines move as they are (no exec-form rewrite)
    shell: bool = False
    #: the package manager of the runtime stage (``apt`` or ``apk``)
    installer: str = "apt"
    #: ``--no-install-recommends`` on the runtime's apt-get install (as every install of the builder had it)
    no_recommends: bool = True
    #: the USER the runtime stage runs as (the builder's last USER), if any
    user: str | None = None
    #: no split (a runtime stage would leave nothing behind): only the image's version moves
    upgrade_only: bool = False


class Refuse(Exception):
    """Leave the file unchanged; the message is the note."""
