"""A safe run keeps the build command and the start (issue 22), over every corpus file.

All codemods, default (safe) mode: no fix may add a secret or ssh mount (the build would need a new
``--secret``/``--ssh`` flag), a ``# syntax=`` directive (BuildKit would pull a frontend image), or turn a
shell-form CMD/ENTRYPOINT whose command needs the shell (a variable, a glob, an operator, a
redirection) into a bare exec form (the shell's work would be lost).
"""

from __future__ import annotations

import pytest
from corpus_files import corpus_params, read_text

from rewriter.core.shell import needs_shell
from rewriter.core.syntax import parse
from rewriter.engine.pipeline import Status, process_text
from rewriter.facts.start import shell_c


def _starts(text: str) -> list[list[tuple[str, str | None, tuple[str, ...] | None]]]:
    """Per stage, the CMD/ENTRYPOINT lines: (keyword, shell text or None, exec argv or None)."""
    out = []
    for stage in parse(text).stages:
        lines = [(i.keyword, None if i.is_json else i.arguments, i.exec_args) for i in stage.instructions
                 if i.keyword in {"CMD", "ENTRYPOINT"}]
        out.append(lines)
    return out


@pytest.mark.parametrize("cf", corpus_params())
def test_safe_fixes_keep_the_build_command_and_the_shell(cf) -> None:
    source = read_text(cf.path)
    result = process_text(source, context_dir=cf.path.parent)
    assert result.status != Status.ERROR, result.error
    new = result.new_text
    for kind in ("--mount=type=secret", "--mount=type=ssh"):
        assert new.count(kind) == source.count(kind), f"a safe fix added {kind}"
    assert [d.code for d in parse(new).directives] == [d.code for d in parse(source).directives]
    before, after = _starts(source), _starts(new)
    assert len(before) == len(after)  # the safe run adds no stage
    for old_lines, new_lines in zip(before, after, strict=True):
        for (kw, old_text, _old_argv), (kw2, _new_text, new_argv) in zip(old_lines, new_lines, strict=False):
            assert kw == kw2
            if old_text is None or new_argv is None or not needs_shell(old_text.removeprefix("exec ")):
                continue
            # a command that needs the shell keeps one: [sh, -c, "… exec app"] or the shell form
            assert shell_c(new_argv) is not None, f"{kw} {old_text!r} lost its shell: {list(new_argv)}"


def test_the_check_above_can_fail() -> None:
    """The assertion helpers see what they look for (a check that cannot fail is a defect)."""
    assert _starts('FROM a\nCMD ["gunicorn", "-b", "0.0.0.0:$PORT"]\n')[0][0][2] == ("gunicorn", "-b", "0.0.0.0:$PORT")
    assert needs_shell("gunicorn -b 0.0.0.0:$PORT app:app")
    assert shell_c(["gunicorn", "-b", "0.0.0.0:$PORT"]) is None
