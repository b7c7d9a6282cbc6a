"""upgrade — a language version past end of life moves to the nearest supported version the project allows.

What it changes
    The tag of the FROM lines that name an official Python, Node, Ruby or PHP image (``python:3.8``,
    ``node:14-alpine``, ``ruby:2.7-slim``, ``php:7.4-apache``) whose version is past its end of life
    (``data/runtimes.yaml`` ``families``, with their dates): the version part moves to the nearest
    version still supported for at least ``upgrade_margin_days`` that every pin of the project allows,
    the rest of the tag stays (an end-of-life Debian suite suffix such as ``-buster`` is dropped, an
    ``-alpine3.12`` becomes ``-alpine``). One fix per version move: every FROM of that language and
    version moves together (a builder and its runtime must install into the same version's paths), and
    nothing else changes — a split, a user, a package set are other codemods' fixes.

    The pins read (``rewriter/facts/pins.py``): ``.python-version``, ``runtime.txt``,
    ``pyproject.toml`` ``requires-python`` / Poetry's ``python``, ``Pipfile``, ``setup.py``/``setup.cfg``
    ``python_requires``; ``Gemfile`` ``ruby``, ``.ruby-version``; ``package.json`` ``engines.node``,
    ``.nvmrc``, ``.node-version``; ``composer.json`` ``require.php``.

When it refuses (a note, file unchanged)
    A pin that allows no supported version (the note names the file and the statement — a
    ``.python-version`` of ``3.8.10`` pins the version exactly); an image given by digest or a
    variable; no supported version newer than the image's. Go, Java and .NET images are not moved (their
    toolchains read ``go.mod``/Maven/Gradle settings this codemod does not rewrite).

Fix safety
    **Unsafe**, and opt-in: a new language version can break dependencies (removed modules, native
    extensions that do not build, stricter package metadata). ``fix --unsafe-fixes`` never applies it
    unless it is selected by name (``--select upgrade`` or ``select: [upgrade]`` in the configuration);
    ``migrate`` tries it last, on its own, and keeps it only when the upgraded image verifies.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from typing import Any

from rewriter.core.edits import Applicability, Edit, Fix, Note
from rewriter.core.syntax import Stage
from rewriter.facts import Context, ImageRef, parse_image
from rewriter.facts.pins import Pin, pins
from transforms._base import Codemod
from transforms._data import checked_date, merged
from transforms._languages import language_version

ID = "upgrade"
_STACKS = ("python", "node", "ruby", "php")
#: end-of-life Debian suites: a moved tag drops them (the new version is published on a current suite)
_OLD_DEBIAN = re.compile(r"-(?:jessie|stretch|buster|bullseye)(?=-|$)")


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


def _stack_of(image: ImageRef) -> str | None:
    name = image.name.removeprefix("docker.io/").removeprefix("library/")
    return name if name in _STACKS else None


def _new_tag(tag: str, version: str, target: str) -> str | None:
    """``tag`` with its version part ``version`` replaced by ``target`` (None when the tag does not start
    with the version: a moving tag or another shape)."""
    m = re.match(r"^(\d+(?:\.\d+)*)", tag)
    if m is None or not m.group(1).startswith(version) or _key(m.group(1))[: len(_key(version))] != _key(version):
        return None
    rest = tag[m.end():]
    rest = _OLD_DEBIAN.sub("", rest)
    rest = re.sub(r"-alpine3\.\d+", "-alpine", rest)
    return target + rest


class UpgradeTransform(Codemod):
    id = ID
    description = ("Move an end-of-life Python/Node/Ruby/PHP image to the nearest supported version the "
                   "project's pins allow.")

    def run(self, ctx: Context) -> Iterator[Fix | Note]:
        table = merged("runtimes", ctx.config.tables.get("runtimes"))
        today = checked_date("runtimes")
        moves: dict[tuple[str, str], list[tuple[Stage, ImageRef]]] = {}
        for stage in ctx.tree.stages:
            if ctx.facts.parent(stage) is not None:
                continue  # FROM an earlier stage: it moves with that stage
            image = parse_image(ctx.resolved_base(stage))
            stack = _stack_of(image)
            if stack is None:
                continue
            version, moving = language_version(stack, image, table)
            if version is None or moving is not None:
                continue  # a moving tag follows its publisher: nothing to move
            moves.setdefault((stack, version), []).append((stage, image))
        for (stack, version), stages in moves.items():
            dates = table["families"][stack]["versions"]
            day = dates.get(version)
            if day is None or datetime.date.fromisoformat(str(day)) > today:
                continue  # supported (or unknown to the table: nothing known to move from)
            yield self._move(ctx, table, today, stack, version, stages)

    def _move(self, ctx: Context, table: Any, today: datetime.date, stack: str, version: str,
              stages: list[tuple[Stage, ImageRef]]) -> Fix | Note:
        line = stages[0][0].from_instruction.start_line
        lang = stack.capitalize()
        margin = datetime.timedelta(days=int(table.get("upgrade_margin_days", 180)))
        supported = sorted((v for v, d in table["families"][stack]["versions"].items()
                            if datetime.date.fromisoformat(str(d)) > today + margin and _key(v) > _key(version)),
                           key=_key)
        if not supported:
            return Note(ID, f"{lang} {version} is past end of life and the runtime table knows no supported version "
                            "to move to", line, refusal=True)
        found: list[Pin] = pins(ctx, stack)
        allowed = [v for v in supported if all(p.allows(v) for p in found)]
        if not allowed:
            blocking = [p.where for p in found if not any(p.allows(v) for v in supported)] or [p.where for p in found]
            return Note(ID, f"{lang} {version} is past end of life, but {', '.join(blocking)} allows no supported "
                            f"version ({', '.join(supported)}): change the pin first", line, refusal=True)
        target = allowed[0]
        edits: list[Edit] = []
        moved: list[str] = []
        for stage, image in stages:
            frm = stage.from_instruction
            word = frm.words[0]
            if image.digest or "$" in word.text or image.tag is None:
                return Note(ID, f"{lang} {version} is past end of life, but {word.text} is given by digest or a "
                                "variable: move it by hand", frm.start_line, refusal=True)
            new_tag = _new_tag(image.tag, version, target)
            if new_tag is None:
                return Note(ID, f"{lang} {version} is past end of life, but the tag of {word.text} cannot be "
                                "rewritten", frm.start_line, refusal=True)
            new = word.text[: len(word.text) - len(image.tag)] + new_tag if word.text.endswith(image.tag) else None
            if new is None:
                return Note(ID, f"{lang} {version} is past end of life, but {word.text} cannot be rewritten",
                            frm.start_line, refusal=True)
            edits.append(Edit(frm.start + word.start, frm.start + word.end, new))
            moved.append(f"{word.text} → {new}")
        day = table["families"][stack]["versions"][version]
        checked = f"; pins honoured: {', '.join(p.where for p in found)}" if found else "; no version pin found"
        return Fix(ID, f"{lang} {version} is past end of life (since {day}): {'; '.join(moved)} ({lang} {target}, the "
                       f"nearest supported version){checked}; check that the dependencies support it",
                   tuple(edits), Applicability.UNSAFE, line, exclusive=True)


TRANSFORM = UpgradeTransform()
