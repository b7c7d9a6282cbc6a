"""The codemods and their registry.

Each codemod is one module exposing a ``TRANSFORM`` object with ``id``, ``description`` (one
line), ``explain`` (the module docstring: what it changes, when it refuses, fix safety) and
``run(ctx) -> Iterable[Fix | Note]``. The registry fixes the order in which they run and in which
their fixes win ties. Modules are imported lazily so ``dockerfix`` starts fast.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import Protocol

from rewriter.core.edits import Fix, Note
from rewriter.facts import Context


class Transform(Protocol):
    id: str
    description: str

    @property
    def explain(self) -> str: ...

    def run(self, ctx: Context) -> Iterable[Fix | Note]: ...


#: (id, module) in run order. ``secrets`` must run before ``multistage`` (design), so it is
#: listed first when present.
REGISTRY: tuple[tuple[str, str], ...] = (
    ("secrets", "transforms.secrets"),
    ("upgrade", "transforms.upgrade"),
    ("multistage", "transforms.multistage"),
    ("logs", "transforms.logs"),
    ("signals", "transforms.signals"),
    ("minimal", "transforms.minimal"),
    ("nonroot", "transforms.nonroot"),
)


#: codemods that run only when named in ``select`` (command line or configuration): a language version
#: move is never part of ``--unsafe-fixes`` by default, and ``migrate`` tries these last, each on its own
OPT_IN: frozenset[str] = frozenset({"upgrade"})


class UnknownTransform(KeyError):
    """An id given to ``--select``/``--ignore``/``explain`` names no transform."""


def ids() -> list[str]:
    return [tid for tid, _ in REGISTRY]


def load(tid: str) -> Transform:
    for known, module in REGISTRY:
        if known == tid:
            return importlib.import_module(module).TRANSFORM  # type: ignore[no-any-return]
    raise UnknownTransform(tid)


def selected(select: Iterable[str] | None, ignore: Iterable[str] = ()) -> list[Transform]:
    """The transforms to run, in registry order; unknown ids raise :class:`UnknownTransform`. Without
    ``select`` every codemod but the opt-in ones (:data:`OPT_IN`) runs."""
    return [load(t) for t in selected_ids(select, ignore)]


def selected_ids(select: Iterable[str] | None, ignore: Iterable[str] = ()) -> list[str]:
    """The ids :func:`selected` gives, without importing a codemod."""
    known = ids()
    chosen = list(select) if select else [t for t in known if t not in OPT_IN]
    skip = set(ignore)
    for tid in [*chosen, *skip]:
        if tid not in known:
            raise UnknownTransform(tid)
    return [t for t in known if t in chosen and t not in skip]
