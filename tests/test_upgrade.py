"""Language versions stay unless the ``upgrade`` codemod is asked for (issue 23 item 1).

* Over the corpus, ``--unsafe-fixes`` changes no file's language version (a split keeps it).
* ``upgrade`` is opt-in: it runs only when selected by name, and then moves each end-of-life version to
  a supported one the project's pins allow.
* The pin readers (``rewriter/facts/pins.py``) read each file kind's range syntax.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from corpus_files import corpus_params, read_text

from rewriter.engine.config import Config
from rewriter.engine.pipeline import Status, process_text
from rewriter.facts import parse_image
from rewriter.facts.pins import _exact, _pep440, _range
from transforms import OPT_IN, selected
from transforms._data import load as load_data
from transforms._languages import language_version

_FAMILY = {"python": "python", "node": "node", "ruby": "ruby", "php": "php"}
#: distroless language images and the version they carry
_DISTROLESS = re.compile(r"distroless/(?:python3|nodejs(?P<node>\d+)|java(?P<java>\d+))-debian(?P<deb>\d+)")


def versions(text: str) -> set[tuple[str, str]]:
    """The (language, version) pairs the FROM lines of ``text`` name (family images and distroless)."""
    table = load_data("runtimes")
    out: set[tuple[str, str]] = set()
    for m in re.finditer(r"(?im)^\s*FROM\s+(?:--platform=\S+\s+)?(\S+)", text):
        ref = m.group(1)
        d = _DISTROLESS.search(ref)
        if d:
            out.add(("node", d["node"]) if d["node"] else ("java", d["java"]) if d["java"] else ("python", "3.13"))
            continue
        if "$" in ref:
            continue
        image = parse_image(ref)
        stack = _FAMILY.get(image.short_name)
        if stack is None:
            continue
        version, _moving = language_version(stack, image, table)
        if version is not None:
            out.add((stack, version))
    return out


@pytest.mark.parametrize("cf", corpus_params())
def test_unsafe_fixes_keep_every_language_version(cf) -> None:
    """``--unsafe-fixes`` (every default codemod) never moves a language version: what a rewritten file
    names is a version the original named (a runtime of the same version, a moving tag pinned to the
    release it names today)."""
    source = read_text(cf.path)
    result = process_text(source, context_dir=cf.path.parent, unsafe_fixes=True)
    assert result.status != Status.ERROR, result.error
    added = versions(result.new_text) - versions(source)
    # a split onto distroless python3 is Python 3.13: allowed only when the original was on 3.13
    assert not added, f"language versions appeared: {sorted(added)}"


def test_the_version_reader_sees_moves() -> None:
    """The check above can fail: it reads versions of family images and of distroless runtimes."""
    assert versions("FROM python:3.8-slim\n") == {("python", "3.8")}
    assert versions("FROM python:3.13 AS b\nFROM gcr.io/distroless/python3-debian13:nonroot\n") == {("python", "3.13")}
    assert versions("FROM node:14\nFROM gcr.io/distroless/nodejs22-debian13\n") == {("node", "14"), ("node", "22")}
    assert versions("FROM php:7.4-apache\n") == {("php", "7.4")}


def test_upgrade_is_opt_in() -> None:
    assert "upgrade" in OPT_IN
    assert "upgrade" not in [t.id for t in selected(None)]
    assert "upgrade" not in [t.id for t in selected(None, ["nonroot"])]
    assert [t.id for t in selected(["upgrade"])] == ["upgrade"]


EOL = "FROM python:3.8\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\nCMD [\"python\", \"app.py\"]\n"


def test_unsafe_fixes_do_not_upgrade_unless_selected(tmp_path: Path) -> None:
    default = process_text(EOL, context_dir=tmp_path, unsafe_fixes=True)
    assert versions(default.new_text) == {("python", "3.8")}
    chosen = process_text(EOL, context_dir=tmp_path, unsafe_fixes=True, config=Config(select=["upgrade"]))
    assert chosen.new_text.startswith("FROM python:3.11\n")
    assert [f.transform for f in chosen.fixes] == ["upgrade"]
    safe_only = process_text(EOL, context_dir=tmp_path, config=Config(select=["upgrade"]))
    assert safe_only.new_text == EOL  # unsafe: never applied without --unsafe-fixes


def test_upgrade_then_split_is_two_fixes(tmp_path: Path) -> None:
    """Selected together, the version move and the split are separate fixes (migrate can keep one)."""
    result = process_text(EOL, context_dir=tmp_path, unsafe_fixes=True,
                          config=Config(select=["upgrade", "multistage"]))
    assert [f.transform for f in result.fixes] == ["upgrade", "multistage"]
    assert versions(result.new_text) == {("python", "3.11")}


@pytest.mark.parametrize(
    ("flavour", "text", "allowed", "refused"),
    [
        ("semver", "14.x", ["14"], ["16"]),
        ("semver", ">=14 <17", ["16"], ["12", "18"]),
        ("semver", "^16.13.0", ["16"], ["18"]),
        ("semver", "12 || 14 || >=16", ["22", "12"], ["13"]),
        ("semver", "10.0.0 - 14.x", ["12"], ["16"]),
        ("semver", "*", ["22"], []),
        ("pessimistic", "^7.4|^8.0", ["7.4", "8.3"], ["7.3", "9.0"]),
        ("pessimistic", "~7.4", ["7.4", "7.9"], ["8.2"]),
        ("pessimistic", "7.4.*", ["7.4"], ["8.2"]),
        ("pessimistic", "~> 2.7", ["2.7", "2.9"], ["3.0"]),
        ("pessimistic", "~> 2.7.2", ["2.7"], ["2.8"]),
        ("pessimistic", ">= 2.7, < 3.3", ["3.2"], ["3.3"]),
    ],
)
def test_ranges(flavour: str, text: str, allowed: list[str], refused: list[str]) -> None:
    pin = _range("f", text, flavour)
    assert [v for v in allowed if not pin.allows(v)] == []
    assert [v for v in refused if pin.allows(v)] == []


@pytest.mark.parametrize(
    ("text", "allowed", "refused"),
    [
        (">=3.8,<3.11", ["3.10"], ["3.11"]),
        ("~=3.8", ["3.12"], ["3.7"]),
        ("==3.9.*", ["3.9"], ["3.10"]),
        ("^3.8", ["3.12"], ["4.0"]),  # Poetry
        ("~3.8", ["3.8"], ["3.9"]),  # Poetry
        ("<3.12.4", ["3.12"], ["3.13"]),
    ],
)
def test_python_specifiers(text: str, allowed: list[str], refused: list[str]) -> None:
    pin = _pep440("f", text)
    assert [v for v in allowed if not pin.allows(v)] == []
    assert [v for v in refused if pin.allows(v)] == []


def test_exact_pins_and_unreadable_ones() -> None:
    assert _exact("f", "3.8.10").allows("3.8") and not _exact("f", "3.8.10").allows("3.9")
    assert _exact("f", "v14.17.0").allows("14")
    assert not _range("f", "banana", "semver").allows("22")  # not understood: allows nothing


@pytest.mark.parametrize("cf", corpus_params())
def test_selected_upgrade_moves_only_versions_to_supported_ones(cf) -> None:
    """``--select upgrade --unsafe-fixes`` over the corpus: a changed FROM line differs from the original
    only in its tag's version part (and an end-of-life suite suffix), moves up to a version that is
    supported, and respects the pins of the file's folder (none lies beside most corpus files, so the
    nearest supported version is taken)."""
    from transforms.multistage.samefamily import family_alive

    source = read_text(cf.path)
    result = process_text(source, context_dir=cf.path.parent, unsafe_fixes=True, config=Config(select=["upgrade"]))
    assert result.status != Status.ERROR, result.error
    old_lines, new_lines = source.splitlines(), result.new_text.splitlines()
    assert len(old_lines) == len(new_lines)
    table = load_data("runtimes")
    for old, new in zip(old_lines, new_lines, strict=True):
        if old == new:
            continue
        assert re.match(r"(?i)\s*FROM\s", old), (old, new)
        word = next(w for w in old.split()[1:] if not w.startswith("--"))
        new_word = next(w for w in new.split()[1:] if not w.startswith("--"))
        before, after = parse_image(word), parse_image(new_word)
        assert before.name == after.name
        stack = _FAMILY[before.short_name]
        v_old, _ = language_version(stack, before, table)
        v_new, _ = language_version(stack, after, table)
        assert v_old and v_new and family_alive(stack, v_new) and not family_alive(stack, v_old), (old, new)
        key = lambda v: tuple(map(int, v.split(".")))  # noqa: E731
        assert key(v_new) > key(v_old)
