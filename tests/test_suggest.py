"""``dockerfix suggest``: the interactive review, driven through a real pseudo-terminal (pexpect)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

from rewriter.core.edits import Edit, Fix
from rewriter.engine.pipeline import process_file
from rewriter.faces.suggest import Rejected, Review, Terminal, Workbench, map_position, message_key
from transforms import load

PROMPT = r"\[y\]es / \[n\]o / \[a\]ll / \[q\]uit / \[e\]xplain: "
SELECT = "signals,minimal,nonroot"  # pinned: new transforms must not change these reviews

ORIGINAL = (
    "FROM python:3.12-slim\n"
    "RUN apt-get update && apt-get install -y curl\n"
    "COPY app.py /app/\n"
    "CMD python app.py\n"
)
NONROOT = (
    "RUN groupadd --system --gid 10001 app \\\n"
    " && useradd --system --uid 10001 --gid 10001 --create-home --home-dir /home/app"
    " --shell /usr/sbin/nologin app\n"
    "USER 10001:10001\n"
)


def _spawn(tmp_path: Path, *args: str) -> pexpect.spawn:
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env["TERM"] = "xterm"
    child = pexpect.spawn(sys.executable, ["-m", "rewriter.faces.cli", "suggest", *args], cwd=str(tmp_path), env=env,
                          encoding="utf-8", timeout=60, dimensions=(60, 250))
    return child


def _review(tmp_path: Path, answers: list[str], *args: str, select: str = SELECT) -> tuple[list[str], str, int]:
    """Answer the prompts in turn; returns the text shown before each prompt, the rest, the exit code."""
    child = _spawn(tmp_path, "Dockerfile", "--select", select, *args)
    shown = []
    for answer in answers:
        child.expect(PROMPT)
        shown.append(child.before)
        child.sendline(answer)
    child.expect(pexpect.EOF)
    rest = child.before
    child.close()
    return shown, rest, child.exitstatus


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "Dockerfile").write_text(ORIGINAL)
    (tmp_path / "app.py").write_text("print('hi')\n")
    return tmp_path


def test_accept_one_reject_one_quit(project: Path) -> None:
    shown, rest, code = _review(project, ["n", "y", "q"], "--unsafe-fixes")
    assert code == 0
    # offered top to bottom: the two apt-get fixes, then nonroot
    assert "[minimal]" in shown[0] and "--no-install-recommends" in shown[0]
    assert "[minimal]" in shown[1] and "rm -rf /var/lib/apt/lists/*" in shown[1]
    assert "[nonroot]" in shown[2]
    # each fix is shown with its safety and its own hunk only, in colour on a terminal
    assert "unsafe fix" in shown[0]
    assert "\x1b[32m+RUN apt-get update && apt-get install --no-install-recommends -y curl" in shown[0]
    assert "rm -rf" not in shown[0]
    assert "--- a/Dockerfile" in shown[1] and "@@ -1,4 +1,4 @@" in shown[1]
    # the hunk of the second fix is computed on the current text (the first was rejected)
    assert "+RUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*" in shown[1]
    assert "1 fix(es) applied" in rest
    assert (project / "Dockerfile").read_text() == ORIGINAL.replace(
        "install -y curl\n", "install -y curl && rm -rf /var/lib/apt/lists/*\n")


def test_accept_then_later_fixes_see_the_new_text(project: Path) -> None:
    shown, _rest, code = _review(project, ["y", "y", "n", "y"], "--unsafe-fixes")
    assert code == 0
    # after the first apt-get fix the second one is computed on the changed line
    assert "+RUN apt-get update && apt-get install --no-install-recommends -y curl && rm -rf" in shown[1]
    assert "[signals]" in shown[3] and '+CMD ["python", "app.py"]' in shown[3]
    assert (project / "Dockerfile").read_text() == (
        "FROM python:3.12-slim\n"
        "RUN apt-get update && apt-get install --no-install-recommends -y curl && rm -rf /var/lib/apt/lists/*\n"
        "COPY app.py /app/\n"
        'CMD ["python", "app.py"]\n'
    )


def test_all_applies_the_rest_but_not_the_rejected(project: Path) -> None:
    shown, rest, code = _review(project, ["n", "a"], "--unsafe-fixes")
    assert code == 0
    assert len(shown) == 2
    assert "applied [nonroot]" in rest and "applied [signals]" in rest
    # the rejected fix is not offered again although its line changed since
    assert "--no-install-recommends" not in rest
    assert (project / "Dockerfile").read_text() == (
        "FROM python:3.12-slim\n"
        "RUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n"
        "COPY app.py /app/\n" + NONROOT + 'CMD ["python", "app.py"]\n'
    )


def test_all_from_the_start_equals_fix(project: Path) -> None:
    (project / "Dockerfile").write_bytes(ORIGINAL.replace("\n", "\r\n").encode())
    expected = process_file(project / "Dockerfile", transforms=[load(t) for t in SELECT.split(",")]).new_text
    _shown, _rest, code = _review(project, ["a"])
    assert code == 0
    assert (project / "Dockerfile").read_bytes() == expected.encode()
    assert b"\r\n" in expected.encode() and b"\n" not in expected.replace("\r\n", "").encode()


def test_explain_then_quit_writes_nothing(project: Path) -> None:
    before = (project / "Dockerfile").stat().st_mtime_ns
    shown, rest, code = _review(project, ["e", "q"])
    assert code == 0
    first_line = load("minimal").explain.strip().splitlines()[0]
    assert first_line in shown[1]  # the explanation, then the same prompt again
    assert "no fix applied" in rest
    assert (project / "Dockerfile").read_text() == ORIGINAL
    assert (project / "Dockerfile").stat().st_mtime_ns == before


def test_unknown_answer_shows_help(project: Path) -> None:
    shown, _rest, code = _review(project, ["x", "q"])
    assert code == 0
    assert "a - apply this fix and all the remaining ones" in shown[1]


def test_stdin_not_a_terminal_exits_2(project: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "rewriter.faces.cli", "suggest", "Dockerfile"], cwd=project,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "not a terminal" in proc.stderr
    assert "dockerfix diff" in proc.stderr and "dockerfix fix" in proc.stderr
    assert (project / "Dockerfile").read_text() == ORIGINAL


def test_unsafe_fixes_only_with_the_flag(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text("{}\n")
    (tmp_path / "package-lock.json").write_text("{}\n")
    text = 'FROM node:22-slim\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm ci\nCMD ["node", "s.js"]\n'
    (tmp_path / "Dockerfile").write_text(text)
    shown, rest, code = _review(tmp_path, [], select="minimal")
    assert code == 0 and shown == []
    assert "unsafe fix (not offered; review it with --unsafe-fixes) [minimal] npm ci --omit=dev" in rest
    assert (tmp_path / "Dockerfile").read_text() == text
    shown, rest, code = _review(tmp_path, ["y"], "--unsafe-fixes", select="minimal")
    assert code == 0
    assert "unsafe fix" in shown[0] and "+RUN npm ci --omit=dev" in shown[0]
    assert (tmp_path / "Dockerfile").read_text() == text.replace("npm ci", "npm ci --omit=dev")


def test_side_file_written_and_no_secret_printed(tmp_path: Path) -> None:
    token = "npm_Sup3rSecretTokenValue"
    (tmp_path / ".npmrc").write_text(f"//registry.npmjs.org/:_authToken={token}\n")
    text = "FROM node:22-slim\nWORKDIR /app\nCOPY . .\nRUN npm ci\n"
    (tmp_path / "Dockerfile").write_text(text)
    shown, rest, code = _review(tmp_path, ["y"], "--unsafe-fixes", select="secrets")  # .dockerignore: unsafe
    assert code == 0
    assert "+++ b/.dockerignore" in shown[0] and "+.npmrc" in shown[0]
    assert token not in "".join(shown) + rest
    assert ".npmrc" in (tmp_path / ".dockerignore").read_text()
    assert (tmp_path / "Dockerfile").read_text() == text


# ---- the pieces, without a terminal -----------------------------------------------------------


def test_map_position() -> None:
    edits = [Edit(2, 2, "xx"), Edit(5, 7, "y")]
    assert map_position(0, edits, end=False) == 0
    assert map_position(2, edits, end=False) == 4  # an insertion at a start goes before it
    assert map_position(2, edits, end=True) == 2  # ... and after an end
    assert map_position(6, edits, end=False) == 7  # inside a replacement: its start
    assert map_position(6, edits, end=True) == 8  # ... or its end
    assert map_position(9, edits, end=False) == 10


def test_rejected_fix_follows_its_instruction() -> None:
    fix = Fix("signals", "CMD in exec form (line 4)", (Edit(30, 40, "x"),), line=4)
    rejected = Rejected("signals", message_key(fix.message), (30, 41))
    rejected.moved([Edit(30, 30, "USER 1\n")])  # an instruction inserted in front of it
    assert rejected.span == (37, 48)
    moved = Fix("signals", "CMD in exec form (line 5)", (Edit(37, 47, "x"),), line=5)
    assert rejected.matches(moved, (37, 48))
    assert not rejected.matches(moved, (30, 37))
    assert not rejected.matches(Fix("minimal", moved.message, moved.edits, line=5), (37, 48))


class _Fake:
    """A transform proposing fixed fixes."""

    def __init__(self, tid: str, fixes: list[Fix]) -> None:
        self.id = tid
        self.explain = tid
        self.fixes = fixes

    def run(self, ctx: object) -> list[Fix]:
        return self.fixes


def test_exclusive_fix_comes_after_earlier_transforms() -> None:
    import io

    text = "FROM a\nRUN b\nCMD c\n"
    stage = Fix("stage", "new stage", (Edit(0, 0, "FROM x AS build\n"),), line=1, exclusive=True)
    early = Fix("early", "run b better", (Edit(11, 11, " --flag"),), line=2)
    late = Fix("late", "cmd c better", (Edit(16, 17, '["c"]'),), line=3)
    wb = Workbench(text, transforms=[_Fake("early", [early]), _Fake("stage", [stage]), _Fake("late", [late])])
    review = Review(wb, Terminal(io.StringIO(), False), io.StringIO())
    assert [f.transform for f, _ in review.candidates()] == ["early"]
    review.reject(early, (7, 13))
    assert [f.transform for f, _ in review.candidates()] == ["stage"]
