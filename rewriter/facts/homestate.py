"""Settings the build writes into root's home: what ``git config --global``, ``npm config set``,
``bundle config``, ``pip config``, ``pip install --user``, ``mix local.hex`` (``home_state`` in
``transforms/data/users.yaml``) or a COPY into /root leave in ``/root`` while the RUNs run as root.

Two codemods move them: ``nonroot`` copies them into the user's own home (root's is mode 700, and the
user's HOME is not /root), ``multistage`` copies those sure to exist from the builder into the runtime
(the original image had them). Credentials (``.npmrc`` tokens, ``.ssh``, ``.netrc``…) are never
listed: they are the secrets codemod's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rewriter.core.syntax import Stage
from rewriter.facts.commands import basename, program_argv

if TYPE_CHECKING:
    from rewriter.facts.context import Context

#: what never moves from root's home: credentials (the secrets codemod's), caches
_SECRET_PLACES = re.compile(r"(?:^|/)\.(?:ssh|npmrc|netrc|pypirc|git-credentials|aws|docker|gnupg|kube|"
                            r"gem/credentials|cache|composer/auth\.json)(?:/|$)")
_PIP = re.compile(r"pip\d*(?:\.\d+)*")
_PYTHON = re.compile(r"python\d*(?:\.\d+)*")


@dataclass(frozen=True)
class HomeSetting:
    """A path under root's home (relative to it) that the build writes; ``sure``: it exists at the end
    of the build (a command that always writes it, a COPY), not merely may (``bundle config`` in an app
    folder is local)."""

    path: str
    sure: bool


def _words(argv: Sequence[str]) -> list[str]:
    """A command's words with ``python -m pip`` read as ``pip``, any pip3/pip3.12 as ``pip``."""
    words = list(argv)
    if len(words) >= 3 and _PYTHON.fullmatch(basename(words[0])) and words[1:3] == ["-m", "pip"]:
        return ["pip", *words[3:]]
    if words and _PIP.fullmatch(basename(words[0])):
        return ["pip", *words[1:]]
    return [basename(words[0]), *words[1:]] if words else []


def _matches(words: list[str], row: dict) -> bool:
    command = row["command"]
    if not words or words[0] != command[0]:
        return False
    rest = iter(words[1:])
    if not all(any(w == c for w in rest) for c in command[1:]):
        return False
    unless = set(row.get("unless", ()))
    if any(w in unless or w.split("=", 1)[0] in unless for w in words[1:]):
        return False
    keys = row.get("unless_keys")
    return not (keys and any(re.search(keys, w) for w in words[len(command):]))


def root_home_state(ctx: Context, chain: Sequence[Stage]) -> list[HomeSetting]:
    """What the stages of ``chain`` leave in root's home, in order, each path once."""
    from transforms._data import merged  # the table lives with the codemods' data

    rows = merged("users", ctx.config.tables.get("users"))["home_state"]
    out: dict[str, bool] = {}
    for st in chain:
        for run in ctx.facts.runs.of(st):
            for cmd in run.commands:
                words = _words(program_argv(cmd))
                for row in rows:
                    if _matches(words, row):
                        out[row["path"]] = out.get(row["path"], False) or not row.get("maybe", False)
        for inst in st.instructions:
            if inst.keyword not in {"COPY", "ADD"} or inst.heredocs:
                continue
            words = list(inst.argv)
            if len(words) < 2 or any("$" in w for w in words):
                continue
            dest = words[-1]
            into = dest.endswith("/") or len(words) > 2
            dest = dest.rstrip("/")
            if dest.startswith("/root/") and not into:
                paths = [dest.removeprefix("/root/")]
            elif dest == "/root" or (dest.startswith("/root/") and into):
                base = dest.removeprefix("/root").strip("/")
                paths = [f"{base}/{basename(s.rstrip('/'))}".lstrip("/") for s in words[:-1] if s not in {".", "./"}]
            else:
                continue
            for p in paths:
                if p and not _SECRET_PLACES.search(p):
                    out[p] = True
    return [HomeSetting(p, sure) for p, sure in out.items()]
