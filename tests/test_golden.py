"""Golden cases: ``golden/<transform>/<case>/``.

Each case folder holds ``Dockerfile`` (input), ``expected.Dockerfile`` (output; absent = the input
must stay unchanged), optional ``notes.txt`` (one expected note substring per line), optional
``options.txt`` (``--unsafe-fixes``) and any build-context files the transform reads. Files named
``expected.<name>`` give the expected content of an edited side file ``<name>``.

Every case is also checked for idempotence (a second run changes nothing) and for an output that
BuildKit's own parser accepts. ``pytest --update-golden`` rewrites the expected files.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import dockerfile
import pytest
from portability import assert_portable

from rewriter.pipeline import Status, process_text
from rewriter.source import read_text
from transforms import load

GOLDEN = Path(__file__).resolve().parent.parent / "golden"


def _cases() -> list:
    out = []
    for case in sorted(GOLDEN.glob("*/*/Dockerfile")):
        folder = case.parent
        out.append(pytest.param(folder, id=f"{folder.parent.name}/{folder.name}"))
    return out


def _write(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)


@pytest.mark.parametrize("case", _cases())
def test_golden(case: Path, update_golden: bool, tmp_path: Path) -> None:
    transform = load(case.parent.name)
    options = (case / "options.txt").read_text().split() if (case / "options.txt").exists() else []
    unsafe = "--unsafe-fixes" in options
    source = read_text(case / "Dockerfile")
    result = process_text(source, path="Dockerfile", context_dir=case, transforms=[transform], unsafe_fixes=unsafe)
    assert result.status != Status.ERROR, result.error
    assert not result.internal_errors
    expected_path = case / "expected.Dockerfile"
    # what the user is told: notes, refusals and the fixes not applied (unsafe, suggestions)
    notes = [n.message for n in result.notes] + [f.message for f in result.suggestions + result.fixes]
    if update_golden:
        if result.new_text != source:
            _write(expected_path, result.new_text)
        elif expected_path.exists():
            expected_path.unlink()
        for rel, (_old, new, _e) in result.side_files.items():
            _write(case / f"expected.{rel.replace('/', '__')}", new)
        if notes and not (case / "notes.txt").exists():
            _write(case / "notes.txt", "".join(n + "\n" for n in notes))
    expected = read_text(expected_path) if expected_path.exists() else source
    assert result.new_text == expected
    # side files: every edited one has an expected.<name>, and every expected.<name> was produced
    expected_side = {p.name.removeprefix("expected.").replace("__", "/"): read_text(p)
                     for p in case.glob("expected.*") if p.name != "expected.Dockerfile"}
    produced_side = {rel: new for rel, (_old, new, _e) in result.side_files.items()}
    assert produced_side == expected_side
    if (case / "notes.txt").exists():
        for want in (case / "notes.txt").read_text().splitlines():
            if want.strip():
                assert any(want.strip() in n for n in notes), f"note {want!r} not in {notes}"
    assert_portable(result)
    # the output is a Dockerfile BuildKit accepts, and a second run changes nothing
    dockerfile.parse_string(result.new_text)
    # a second run over the rewritten Dockerfile and side files changes nothing
    shutil.copytree(case, tmp_path / "ctx")
    for rel, new in produced_side.items():
        _write(tmp_path / "ctx" / rel, new)
    again = process_text(result.new_text, path="Dockerfile", context_dir=tmp_path / "ctx",
                         transforms=[transform], unsafe_fixes=unsafe)
    assert again.new_text == result.new_text, "not idempotent"
    assert not again.side_files, "side files not idempotent"
