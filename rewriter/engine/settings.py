"""The settings one Dockerfile is processed with, resolved the same way by every command.

``fix``/``diff``/``check`` (:mod:`rewriter.faces.cli`, :mod:`rewriter.engine.batch`), ``suggest``, ``lsp``,
``verify`` and ``migrate`` all call :func:`resolve`, so ``select``, ``ignore``, ``unsafe-fixes``,
``uid``/``gid``, ``images``, ``tables`` and ``context`` mean the same everywhere:

* the configuration is the file found upward from the Dockerfile's folder
  (:func:`rewriter.engine.config.find_config`; defaults without one, or without a file on disk);
* command-line options override it through :meth:`rewriter.engine.config.Config.merged` (a command-line
  ``--select`` replaces the file's selection and its ``ignore``; ``--unsafe-fixes`` can only turn
  unsafe fixes on; an empty selection is no selection);
* the transforms are ``transforms.selected(select, ignore)``, in registry order;
* the build context is ``--context`` (as given) if any, else the file's ``context:`` (absolute,
  relative to the configuration file), else the Dockerfile's folder (as given: for standard input
  that is the folder of ``--stdin-filename``, or the current folder). Without a file on disk there
  is no context unless one is given.

Errors are the configuration's: :class:`rewriter.engine.config.ConfigError` (the message names the file)
and :class:`UnknownId`, a :class:`transforms.UnknownTransform` (an unknown id, from the file or the
command line) that also names the configuration file in effect; each command words them as it
always has. Whether a ``--context`` folder exists is each command's check.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from rewriter.core.source import real_folder
from rewriter.engine.config import Config, config_in, find_config
from transforms import Transform, UnknownTransform, load, selected_ids


class UnknownId(UnknownTransform):
    """An unknown transform id (``args[0]``); ``source`` is the configuration file in effect, if any."""

    def __init__(self, tid: str, source: Path | None) -> None:
        super().__init__(tid)
        self.source = source


@dataclass(frozen=True)
class Overrides:
    """What the command line says; ``None``, empty or ``False``: not given, the file decides."""

    select: Sequence[str] | None = None
    ignore: Sequence[str] | None = None
    #: ``--unsafe-fixes`` given (``migrate`` always gives it)
    unsafe_fixes: bool = False
    #: ``--context DIR``
    context: Path | None = None


@dataclass(frozen=True)
class Settings:
    """What one Dockerfile is processed with."""

    config: Config
    #: the ids of the codemods to run, in run order (checked: each names one)
    ids: tuple[str, ...]
    #: the build context (``None``: no file on disk and no ``--context``)
    context: Path | None

    @functools.cached_property
    def identity(self) -> str:
        """What decides a file's result besides the file and the run's options, as text (a key of the
        result cache): the configuration, the codemods and the real build context. Made once for the
        files of a folder, which share their settings in a batch."""
        context = real_folder(str(self.context)) if self.context is not None else None
        return repr((self.config, self.ids, context))

    @property
    def transforms(self) -> tuple[Transform, ...]:
        """The codemods, imported on first use (a result served from the cache needs only their ids)."""
        return tuple(load(t) for t in self.ids)


def resolve(path: Path | None, overrides: Overrides, *, cached: bool = False) -> Settings:
    """The settings for the Dockerfile at ``path`` (``None``: a text with no file on disk).

    ``cached`` shares each folder's configuration and each selection's transforms for the life of
    the process: for a batch run, whose configuration files do not change while it runs (an error is
    never cached, so every file reports it). Raises ``ConfigError`` or :class:`UnknownId`.
    """
    if cached and path is not None:
        key = replace(overrides, select=None if overrides.select is None else tuple(overrides.select),
                      ignore=None if overrides.ignore is None else tuple(overrides.ignore))  # hashable
        return _resolved_in(str(path.parent), key)
    return _resolve(path, overrides, cached)


@lru_cache(maxsize=1024)
def _resolved_in(folder: str, overrides: Overrides) -> Settings:
    """The settings of a batch's files in one folder: the same for each of them."""
    return _resolve(Path(folder, "Dockerfile"), overrides, True)


def _resolve(path: Path | None, overrides: Overrides, cached: bool) -> Settings:
    find: Callable[[Path], Config] = _find_cached if cached else find_config
    cfg = Config() if path is None else find(path.parent)
    cfg = cfg.merged(
        select=tuple(overrides.select or ()) or None,
        ignore=tuple(overrides.ignore or ()) or None,
        unsafe_fixes=True if overrides.unsafe_fixes else None,
    )
    try:
        chosen = tuple(selected_ids(cfg.select, tuple(cfg.ignore)))
    except UnknownTransform as exc:
        raise UnknownId(exc.args[0], cfg.source) from None
    if overrides.context is not None:
        context: Path | None = overrides.context
    elif cfg.context is not None:
        context = cfg.context
    else:
        context = None if path is None else path.parent
    return Settings(cfg, chosen, context)


def _find_cached(start: Path) -> Config:
    """:func:`rewriter.engine.config.find_config`, each folder's answer cached (shared by siblings)."""
    return _config_for(real_folder(str(start)))


@lru_cache(maxsize=4096)
def _config_for(folder: str) -> Config:
    here = Path(folder)
    cfg = config_in(here)
    if cfg is not None:
        return cfg
    if here.parent == here:
        return Config()
    return _config_for(str(here.parent))
