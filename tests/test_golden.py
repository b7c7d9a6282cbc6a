"""Golden cases: ``golden/<transform>/<case>/``.

Each case folder holds ``Dockerfile`` (input), ``expected.Dockerfile`` (output; absent = the input
must stay unchanged), optional ``case.yaml`` and any build-context files the transform reads. Files
named ``expected.<name>`` give the expected content of an edited side file ``<name>`` (``__`` for
``/``). ``case.yaml`` keys (any other key is an error)::

    options: [--unsafe-fixes]        # command-line options of the run
    config: {uid: 4242, tables: {secrets: {variable_patterns: ["*LICENSE*"]}}}   # Config fields
    notes:                           # substrings, each in some note, refusal or fix message
      - one application per container

``notes: []`` says the case must run silently: no note, refusal or fix message at all. Every case
asserts something: an output (``expected.*``) or its notes (``notes: []`` included), so a codemod
that does nothing fails at least one case of it.

Every case is also checked for idempotence (a second run changes nothing), for emitted lines older
builders accept and for an output that BuildKit's own parser accepts. ``pytest --update-golden``
rewrites the expected files and adds the notes of a case.yaml that has none.

The tests after ``test_golden`` check these checks themselves, and ``assert_codemod`` of
``tests/codemod.py`` (the before/after helper of the other test modules).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from codemod import assert_codemod, assert_sound, dedent, make_config, messages, run
from ruamel.yaml import YAML

from rewriter.core.source import read_text
from transforms import load

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
KEYS = ("options", "config", "notes")
OPTIONS = ("--unsafe-fixes",)


def _cases() -> list:
    out = []
    for case in sorted(GOLDEN.glob("*/*/Dockerfile")):
        folder = case.parent
        out.append(pytest.param(folder, id=f"{folder.parent.name}/{folder.name}"))
    return out


def _write(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)


def load_spec(case: Path) -> dict[str, Any]:
    """The case's ``case.yaml``, checked: known keys only, each of the right shape."""
    legacy = [name for name in ("options.txt", "notes.txt") if (case / name).exists()]
    assert not legacy, f"{case}: {', '.join(legacy)} replaced by case.yaml (keys: {', '.join(KEYS)})"
    path = case / "case.yaml"
    if not path.exists():
        return {}
    spec = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    assert isinstance(spec, dict), f"{path}: must be a mapping with keys {', '.join(KEYS)}"
    unknown = sorted(set(spec) - set(KEYS))
    assert not unknown, f"{path}: unknown key(s) {unknown}; known: {', '.join(KEYS)}"
    options = spec.get("options", [])
    assert isinstance(options, list) and set(options) <= set(OPTIONS), \
        f"{path}: options must be a list of {', '.join(OPTIONS)}, not {options!r}"
    notes = spec.get("notes", [])
    assert isinstance(notes, list) and all(isinstance(n, str) and n.strip() for n in notes), \
        f"{path}: notes must be a list of non-empty strings, not {notes!r}"
    assert isinstance(spec.get("config", {}), dict), f"{path}: config must be a mapping of Config fields"
    return spec


def _add_notes(case: Path, notes: list[str]) -> None:
    """``--update-golden``: record the notes in case.yaml, keeping its other keys and comments."""
    path = case / "case.yaml"
    yaml = YAML()
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    doc = yaml.load(path.read_text(encoding="utf-8")) if path.exists() else None
    doc = doc if doc is not None else {}
    doc["notes"] = notes
    with open(path, "w", encoding="utf-8", newline="") as fh:
        yaml.dump(doc, fh)


def check_case(case: Path, update: bool = False) -> None:
    """Run the case's transform over its Dockerfile and compare with what the case expects."""
    spec = load_spec(case)
    transforms = [load(case.parent.name)]
    unsafe = "--unsafe-fixes" in spec.get("options", [])
    config = make_config(spec.get("config"))
    source = read_text(case / "Dockerfile")
    with tempfile.TemporaryDirectory(prefix="dockerfix-golden-") as tmp:
        context = _context_of(case, Path(tmp))
        result = run(source, transforms=transforms, unsafe=unsafe, config=config, context_dir=context)
        _check_result(case, spec, source, result, update, transforms, unsafe, config, context)


def _context_of(case: Path, tmp: Path) -> Path:
    """The build context the case stands for: its folder without the harness's own files (case.yaml and
    the expected.* outputs), which a real repository would not hold and a codemod must not see."""
    context = tmp / "context"
    shutil.copytree(case, context, symlinks=True,
                    ignore=lambda folder, names: [n for n in names if Path(folder) == case
                                                  and (n == "case.yaml" or n.startswith("expected."))])
    return context


def _check_result(case: Path, spec: dict[str, Any], source: str, result: Any, update: bool, transforms: list,
                  unsafe: bool, config: Any, context: Path) -> None:  # fmt: skip
    expected_path = case / "expected.Dockerfile"
    told = messages(result)
    if update:
        if result.new_text != source:
            _write(expected_path, result.new_text)
        elif expected_path.exists():
            expected_path.unlink()
        for rel, (_old, new, _e) in result.side_files.items():
            _write(case / f"expected.{rel.replace('/', '__')}", new)
        if told and "notes" not in spec:
            _add_notes(case, told)
            spec = load_spec(case)
    expected = read_text(expected_path) if expected_path.exists() else source
    assert result.new_text == expected
    # side files: every edited one has an expected.<name>, and every expected.<name> was produced
    expected_side = {p.name.removeprefix("expected.").replace("__", "/"): read_text(p)
                     for p in case.glob("expected.*") if p.name != "expected.Dockerfile"}
    produced_side = {rel: new for rel, (_old, new, _e) in result.side_files.items()}
    assert produced_side == expected_side
    if "notes" in spec:
        for want in spec["notes"]:
            assert any(want.strip() in n for n in told), f"note {want!r} not in {told}"
        if not spec["notes"]:
            assert told == [], f"the case says notes: [] but the run said {told}"
    # a case that asserts neither an output nor notes would pass with a codemod that does nothing
    assert expected_path.exists() or expected_side or "notes" in spec, (
        f"{case}: the output is the input and case.yaml lists no notes; add the notes it gives, or "
        "'notes: []' when the codemod must stay silent here")
    assert_sound(result, transforms=transforms, unsafe=unsafe, config=config, context_dir=context)


@pytest.mark.parametrize("case", _cases())
def test_golden(case: Path, update_golden: bool) -> None:
    check_case(case, update=update_golden)


def _case(tmp_path: Path, transform: str, files: dict[str, str]) -> Path:
    case = tmp_path / transform / "case"
    case.mkdir(parents=True)
    for name, text in files.items():
        _write(case / name, text)
    return case


def test_case_yaml_config_reaches_the_codemod(tmp_path: Path) -> None:
    """``config`` fields (here uid/gid) reach the codemod, and ``options`` turns on unsafe fixes."""
    case = _case(tmp_path, "nonroot", {
        "Dockerfile": 'FROM debian:trixie-slim\nCMD ["/app"]\n',
        "case.yaml": "options: [--unsafe-fixes]\nconfig: {uid: 4242, gid: 4343}\nnotes: ['non-root 4242:4343']\n",
    })
    with pytest.raises(AssertionError):
        check_case(case)  # no expected.Dockerfile yet: the input must stay unchanged, and it does not
    check_case(case, update=True)
    assert "\nUSER 4242:4343\n" in (case / "expected.Dockerfile").read_text()
    check_case(case)


SUGGESTS = 'FROM python:3.13-slim\nENTRYPOINT python manage.py\nCMD ["runserver"]\n'  # unchanged, one suggestion
SILENT = 'FROM debian:trixie-slim\nENTRYPOINT ["./server"]\n'  # unchanged, nothing said


@pytest.mark.parametrize(
    ("dockerfile", "yaml", "message"),
    [
        (SUGGESTS, "option: [--unsafe-fixes]\n", "unknown key(s) ['option']"),
        (SUGGESTS, "- notes\n", "must be a mapping"),
        (SUGGESTS, "options: [--unsafe]\n", "options must be a list of --unsafe-fixes"),
        (SUGGESTS, "notes: one note\n", "notes must be a list"),
        (SUGGESTS, "config: {user: 4242}\n", "unknown or unsupported field(s) ['user']"),
        (SUGGESTS, "notes: [PID 1, tini]\n", "note 'tini' not in"),
        (SUGGESTS, "notes: []\n", "the case says notes: []"),
        (SILENT, "options: [--unsafe-fixes]\n", "lists no notes"),
    ],
)
def test_case_yaml_mistakes_fail_clearly(tmp_path: Path, dockerfile: str, yaml: str, message: str) -> None:
    case = _case(tmp_path, "signals", {"Dockerfile": dockerfile, "case.yaml": yaml})
    with pytest.raises(AssertionError) as info:
        check_case(case)
    assert message in str(info.value)


def test_silent_case_passes_with_notes_empty(tmp_path: Path) -> None:
    check_case(_case(tmp_path, "signals", {"Dockerfile": SILENT, "case.yaml": "notes: []\n"}))


def test_legacy_option_files_are_refused(tmp_path: Path) -> None:
    case = _case(tmp_path, "signals", {"Dockerfile": SILENT, "options.txt": "--unsafe-fixes\n"})
    with pytest.raises(AssertionError, match=r"replaced by case\.yaml"):
        check_case(case)


# ----------------------------------------------------------------- the helper the other test modules use


def test_dedent_drops_the_opening_newline_and_a_common_indent_only() -> None:
    assert dedent("""
        FROM a
          && b
        """) == "FROM a\n  && b\n"
    assert dedent("FROM a\n   \nCMD b") == "FROM a\n   \nCMD b"  # no common indent: byte for byte


def test_assert_codemod_fails_on_a_wrong_output_a_missing_note_or_an_undeclared_side_file() -> None:
    text = "FROM debian:trixie-slim\nCMD ./server\n"
    exec_form = 'FROM debian:trixie-slim\nCMD ["./server"]\n'
    assert_codemod(text, exec_form, transform="signals", notes=["CMD in exec form"])
    with pytest.raises(AssertionError):
        assert_codemod(text, None, transform="signals")
    with pytest.raises(AssertionError, match="note 'tini' not in"):
        assert_codemod(text, exec_form, transform="signals", notes=["tini"])
    with pytest.raises(AssertionError, match="select"):
        assert_codemod(text, exec_form, transform="signals", config={"select": ["signals"]})
    script = 'FROM debian:trixie-slim\nCOPY start.sh /start.sh\nENTRYPOINT ["/start.sh"]\n'
    with pytest.raises(AssertionError):  # the script gets an exec: a side file the call does not declare
        assert_codemod(script, None, transform="signals", context={"start.sh": "#!/bin/sh\n./server\n"})
    assert_codemod(script, None, transform="signals", context={"start.sh": "#!/bin/sh\n./server\n"},
                   side_files={"start.sh": "#!/bin/sh\nexec ./server\n"})
