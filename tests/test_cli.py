"""End-to-end tests of the ``dockerfix`` command, run as a real subprocess on files in tmp_path.

The ``signals`` transform is the change-producing transform throughout: ``CMD python app.py``
becomes ``CMD ["python", "app.py"]``, and an entry-point script copied from the build context gets
``exec`` on its last line (a side file, shown as a second file in the diff).
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from linters import dockerfix_command

# --------------------------------------------------------------------------------------------------
# helpers


DOCKERFIX = dockerfix_command()


def run(*args: str | Path, cwd: Path, stdin: bytes | None = None, pin: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``dockerfix ARGS`` in ``cwd``; asserts no traceback was printed.

    Other transforms are being written concurrently, so ``fix``/``diff``/``check`` are pinned to
    ``--select signals`` unless the arguments choose transforms themselves or ``pin=False``.
    """
    argv = [str(a) for a in args]
    if pin and argv and argv[0] in {"fix", "diff", "check"} and not {"--select", "--ignore"} & set(argv):
        argv[1:1] = ["--select", "signals"]
    proc = subprocess.run(
        [*DOCKERFIX, *argv],
        cwd=cwd,
        input=stdin if stdin is not None else b"",
        capture_output=True,
        timeout=60,
        check=False,
    )
    out = proc.stdout.decode("utf-8", "replace")
    err = proc.stderr.decode("utf-8", "replace")
    assert "Traceback" not in out and "Traceback" not in err, err
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def err_lines(proc: subprocess.CompletedProcess[str]) -> list[str]:
    return proc.stderr.splitlines()


def snapshot(path: Path) -> tuple[bytes, int, int, int]:
    st = path.stat()
    return path.read_bytes(), st.st_mtime_ns, st.st_ino, stat.S_IMODE(st.st_mode)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.name.endswith(".dockerfix"))


PENDING = "FROM python:3.12\nCMD python app.py\n"
FIXED = 'FROM python:3.12\nCMD ["python", "app.py"]\n'
CLEAN = FIXED

# the entry script receives the CMD, so its form stays in a safe run; the HEALTHCHECK becomes exec form
SCRIPT_DOCKERFILE = ('FROM python:3.12\nCOPY start.sh /start.sh\nENTRYPOINT ["/start.sh"]\nCMD ["python", "app.py"]\n'
                     "HEALTHCHECK CMD python healthcheck.py\n")
SCRIPT_DOCKERFILE_FIXED = SCRIPT_DOCKERFILE.replace("CMD python healthcheck.py", 'CMD ["python", "healthcheck.py"]')
START_SH = "#!/bin/sh\nset -e\necho starting\n./server\n"
START_SH_FIXED = "#!/bin/sh\nset -e\necho starting\nexec ./server\n"

UNSAFE = 'FROM python:3.12\nENTRYPOINT python manage.py\nCMD ["runserver"]\n'
UNSAFE_FIXED = 'FROM python:3.12\nENTRYPOINT ["python", "manage.py"]\nCMD ["runserver"]\n'


def write(path: Path, text: str | bytes, mode: int | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, str):
        path.write_bytes(text.encode("utf-8"))
    else:
        path.write_bytes(text)
    if mode is not None:
        path.chmod(mode)
    return path


# --------------------------------------------------------------------------------------------------
# fix / diff / check basics


def test_fix_rewrites_in_place_then_second_fix_writes_nothing(tmp_path: Path) -> None:
    df = write(tmp_path / "Dockerfile", PENDING)
    first = run("fix", "Dockerfile", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert df.read_text() == FIXED
    assert first.stdout == ""
    assert "[signals]" in first.stderr

    before = snapshot(df)
    second = run("fix", "Dockerfile", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert second.stdout == ""
    assert snapshot(df) == before  # same bytes, mtime, inode and mode: nothing was written
    assert leftovers(tmp_path) == []


def test_fix_edits_entrypoint_script_and_second_fix_touches_neither_file(tmp_path: Path) -> None:
    df = write(tmp_path / "Dockerfile", SCRIPT_DOCKERFILE)
    sh = write(tmp_path / "start.sh", START_SH, mode=0o755)
    proc = run("fix", "Dockerfile", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert df.read_text() == SCRIPT_DOCKERFILE_FIXED
    assert sh.read_text() == START_SH_FIXED
    assert stat.S_IMODE(sh.stat().st_mode) == 0o755  # the script stays executable

    before = (snapshot(df), snapshot(sh))
    again = run("fix", "Dockerfile", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert (snapshot(df), snapshot(sh)) == before
    assert leftovers(tmp_path) == []


def test_diff_prints_unified_diff_and_changes_nothing(tmp_path: Path) -> None:
    df = write(tmp_path / "Dockerfile", PENDING)
    before = snapshot(df)
    proc = run("diff", "Dockerfile", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("--- a/Dockerfile\n+++ b/Dockerfile\n@@ ")
    assert "-CMD python app.py\n" in proc.stdout
    assert '+CMD ["python", "app.py"]\n' in proc.stdout
    assert snapshot(df) == before
    assert leftovers(tmp_path) == []


def test_diff_of_clean_file_is_empty_and_exits_0(tmp_path: Path) -> None:
    write(tmp_path / "Dockerfile", CLEAN)
    proc = run("diff", "Dockerfile", cwd=tmp_path)
    assert proc.returncode == 0
    assert proc.stdout == ""


def _git_apply(patch: str, cwd: Path) -> None:
    env = dict(os.environ, GIT_CEILING_DIRECTORIES=str(cwd.parent))
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        env.pop(var, None)
    res = subprocess.run(
        ["git", "apply", "--verbose", "-"],
        cwd=cwd,
        input=patch.encode("utf-8"),
        capture_output=True,
        env=env,
        timeout=30,
        check=False,
    )
    assert res.returncode == 0, res.stderr.decode()


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
@pytest.mark.parametrize("where", ["Dockerfile", "app/deploy/Dockerfile.prod"])
def test_diff_applies_with_git_apply_and_equals_what_fix_writes(tmp_path: Path, where: str) -> None:
    trees = {}
    for name in ("via-diff", "via-fix"):
        root = tmp_path / name
        df = write(root / where, SCRIPT_DOCKERFILE)
        write(df.parent / "start.sh", START_SH, mode=0o755)
        trees[name] = root

    patch = run("diff", where, cwd=trees["via-diff"])
    assert patch.returncode == 0, patch.stderr
    side = (Path(where).parent / "start.sh").as_posix()
    assert f"--- a/{where}\n" in patch.stdout
    assert f"--- a/{side}\n+++ b/{side}\n" in patch.stdout  # the side file is a second file in the diff
    # diff changed nothing on disk
    assert (trees["via-diff"] / where).read_text() == SCRIPT_DOCKERFILE
    assert (trees["via-diff"] / side).read_text() == START_SH

    _git_apply(patch.stdout, trees["via-diff"])
    fixed = run("fix", where, cwd=trees["via-fix"])
    assert fixed.returncode == 0, fixed.stderr

    for rel in (where, side):
        assert (trees["via-diff"] / rel).read_bytes() == (trees["via-fix"] / rel).read_bytes(), rel
    assert (trees["via-fix"] / where).read_text() == SCRIPT_DOCKERFILE_FIXED
    assert (trees["via-fix"] / side).read_text() == START_SH_FIXED


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_diff_with_all_transforms_applies_and_equals_fix(tmp_path: Path) -> None:
    """Whatever the registered transforms do, ``diff`` + ``git apply`` == ``fix``."""
    content = (
        "FROM python:3.12-slim\n"
        "WORKDIR /app\n"
        "RUN apt-get update && apt-get install -y curl\n"
        "RUN pip install flask\n"
        "COPY start.sh /start.sh\n"
        'ENTRYPOINT ["/start.sh"]\n'
        "CMD python app.py\n"
        "HEALTHCHECK CMD python healthcheck.py\n"
    )
    roots = [tmp_path / "via-diff", tmp_path / "via-fix"]
    for root in roots:
        write(root / "app" / "Dockerfile", content)
        write(root / "app" / "start.sh", START_SH, mode=0o755)
    patch = run("diff", "app/Dockerfile", cwd=roots[0], pin=False)
    assert patch.returncode == 0, patch.stderr
    assert "+++ b/app/Dockerfile\n" in patch.stdout
    _git_apply(patch.stdout, roots[0])
    assert run("fix", "app/Dockerfile", cwd=roots[1], pin=False).returncode == 0
    for rel in ("app/Dockerfile", "app/start.sh"):
        assert (roots[0] / rel).read_bytes() == (roots[1] / rel).read_bytes(), rel
    assert (roots[1] / "app" / "start.sh").read_text() == START_SH_FIXED
    again = run("check", "app/Dockerfile", cwd=roots[1], pin=False)
    assert again.returncode == 0, again.stderr  # fix reaches a fixed point


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"FROM python:3.12\r\nCMD python app.py\r\n", id="crlf"),
        pytest.param(b"\xef\xbb\xbfFROM python:3.12\nCMD python app.py\n", id="bom"),
        pytest.param(b"FROM python:3.12\nCMD python app.py", id="no-final-newline"),
        pytest.param(
            b"FROM python:3.12\n" + b"".join(b"RUN echo %d\n" % i for i in range(12)) + b"CMD python app.py\n",
            id="long",
        ),
    ],
)
def test_diff_applies_exactly_for_line_ending_variants(tmp_path: Path, content: bytes) -> None:
    a = write(tmp_path / "a" / "Dockerfile", content)
    b = write(tmp_path / "b" / "Dockerfile", content)
    patch = run("diff", "Dockerfile", cwd=a.parent)
    assert patch.returncode == 0, patch.stderr
    _git_apply(patch.stdout, a.parent)
    assert run("fix", "Dockerfile", cwd=b.parent).returncode == 0
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != content


def test_check_exits_1_when_pending_and_0_when_clean(tmp_path: Path) -> None:
    df = write(tmp_path / "Dockerfile", PENDING)
    before = snapshot(df)
    pending = run("check", "Dockerfile", cwd=tmp_path)
    assert pending.returncode == 1
    assert pending.stdout == ""
    assert "Dockerfile:2:" in pending.stderr
    assert snapshot(df) == before

    write(df, CLEAN)
    clean = run("check", "Dockerfile", cwd=tmp_path)
    assert clean.returncode == 0
    assert clean.stdout == ""


def test_check_reports_side_file_changes(tmp_path: Path) -> None:
    write(tmp_path / "Dockerfile", 'FROM python:3.12\nCOPY start.sh /start.sh\nENTRYPOINT ["/start.sh"]\n')
    sh = write(tmp_path / "start.sh", START_SH)
    before = snapshot(sh)
    proc = run("check", "Dockerfile", cwd=tmp_path)
    assert proc.returncode == 1
    assert snapshot(sh) == before


def test_messages_go_to_stderr_only(tmp_path: Path) -> None:
    write(tmp_path / "Dockerfile", PENDING)
    check = run("check", "Dockerfile", cwd=tmp_path)
    assert check.stdout == "" and check.stderr
    diff = run("diff", "Dockerfile", cwd=tmp_path)
    assert diff.stdout.startswith("--- a/Dockerfile")
    assert "[signals]" not in diff.stdout and "dockerfix:" not in diff.stdout
    assert "[signals]" in diff.stderr
    fix = run("fix", "Dockerfile", cwd=tmp_path)
    assert fix.stdout == "" and fix.stderr


def test_several_paths_in_one_invocation(tmp_path: Path) -> None:
    a = write(tmp_path / "a" / "Dockerfile", PENDING)
    b = write(tmp_path / "b" / "Dockerfile", CLEAN)
    c = write(tmp_path / "c" / "Dockerfile", PENDING)
    assert run("check", "a/Dockerfile", "b/Dockerfile", cwd=tmp_path).returncode == 1
    assert run("check", "b/Dockerfile", cwd=tmp_path).returncode == 0
    diff = run("diff", "a/Dockerfile", "b/Dockerfile", "c/Dockerfile", cwd=tmp_path)
    assert diff.returncode == 0
    assert "--- a/a/Dockerfile\n" in diff.stdout and "--- a/c/Dockerfile\n" in diff.stdout
    assert "b/Dockerfile" not in diff.stdout
    fix = run("fix", "a/Dockerfile", "b/Dockerfile", "c/Dockerfile", cwd=tmp_path)
    assert fix.returncode == 0
    assert a.read_text() == c.read_text() == b.read_text() == FIXED


# --------------------------------------------------------------------------------------------------
# standard input


def test_fix_stdin_writes_result_to_stdout(tmp_path: Path) -> None:
    proc = run("fix", "-", cwd=tmp_path, stdin=PENDING.encode())
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == FIXED
    assert "-:2:" in proc.stderr
    assert list(tmp_path.iterdir()) == []  # nothing written to disk


def test_fix_stdin_clean_input_is_echoed_unchanged(tmp_path: Path) -> None:
    proc = run("fix", "-", cwd=tmp_path, stdin=CLEAN.encode())
    assert proc.returncode == 0
    assert proc.stdout == CLEAN


def test_fix_stdin_keeps_crlf_and_bom(tmp_path: Path) -> None:
    data = b"\xef\xbb\xbfFROM python:3.12\r\nCMD python app.py\r\n"
    proc = subprocess.run(
        [*DOCKERFIX, "fix", "--select", "signals", "-q", "-"],
        cwd=tmp_path,
        input=data,
        capture_output=True,
        check=False,
    )
    assert proc.returncode == 0
    assert proc.stdout == b'\xef\xbb\xbfFROM python:3.12\r\nCMD ["python", "app.py"]\r\n'


def test_diff_stdin(tmp_path: Path) -> None:
    proc = run("diff", "-", cwd=tmp_path, stdin=PENDING.encode())
    assert proc.returncode == 0
    assert "-CMD python app.py\n" in proc.stdout
    assert '+CMD ["python", "app.py"]\n' in proc.stdout


def test_check_stdin(tmp_path: Path) -> None:
    assert run("check", "-", cwd=tmp_path, stdin=PENDING.encode()).returncode == 1
    clean = run("check", "-", cwd=tmp_path, stdin=CLEAN.encode())
    assert clean.returncode == 0
    assert clean.stdout == ""


def test_stdin_filename_names_the_input(tmp_path: Path) -> None:
    diff = run("diff", "--stdin-filename", "svc/Dockerfile", "-", cwd=tmp_path, stdin=PENDING.encode())
    assert diff.returncode == 0
    assert diff.stdout.startswith("--- a/svc/Dockerfile\n+++ b/svc/Dockerfile\n")
    assert "svc/Dockerfile:2:" in diff.stderr
    fix = run("fix", "--stdin-filename", "svc/Dockerfile", "-", cwd=tmp_path, stdin=PENDING.encode())
    assert fix.returncode == 0
    assert fix.stdout == FIXED
    assert "svc/Dockerfile:2:" in fix.stderr
    assert not (tmp_path / "svc").exists()
    check = run("check", "--stdin-filename", "svc/Dockerfile", "-", cwd=tmp_path, stdin=PENDING.encode())
    assert check.returncode == 1


def test_stdin_filename_folder_is_the_default_context(tmp_path: Path) -> None:
    write(tmp_path / "svc" / "start.sh", START_SH)
    proc = run("diff", "--stdin-filename", "svc/Dockerfile", "-", cwd=tmp_path, stdin=SCRIPT_DOCKERFILE.encode())
    assert proc.returncode == 0
    assert "--- a/svc/start.sh\n" in proc.stdout


def test_stdin_uses_cwd_as_context_without_filename(tmp_path: Path) -> None:
    write(tmp_path / "start.sh", START_SH)
    proc = run("diff", "-", cwd=tmp_path, stdin=SCRIPT_DOCKERFILE.encode())
    assert proc.returncode == 0
    assert "--- a/start.sh\n+++ b/start.sh\n" in proc.stdout
    assert "+exec ./server\n" in proc.stdout


# --------------------------------------------------------------------------------------------------
# options


def test_select_signals_changes(tmp_path: Path) -> None:
    df = write(tmp_path / "Dockerfile", PENDING)
    assert run("check", "--select", "signals", "Dockerfile", cwd=tmp_path).returncode == 1
    assert run("check", "--select", "SIGNALS,minimal", "Dockerfile", cwd=tmp_path).returncode == 1
    assert run("fix", "--select", "signals", "Dockerfile", cwd=tmp_path).returncode == 0
    assert df.read_text() == FIXED


def test_select_other_transform_only_makes_no_change(tmp_path: Path) -> None:
    df = write(tmp_path / "Dockerfile", PENDING)
    before = snapshot(df)
    assert run("check", "--select", "minimal", "Dockerfile", cwd=tmp_path).returncode == 0
    assert run("fix", "--select", "minimal", "Dockerfile", cwd=tmp_path).returncode == 0
    assert snapshot(df) == before


def test_ignore_signals_makes_no_change(tmp_path: Path) -> None:
    df = write(tmp_path / "Dockerfile", PENDING)
    before = snapshot(df)
    # only signals selected and signals ignored: nothing runs, nothing changes
    assert run("check", "--select", "signals", "--ignore", "signals", "Dockerfile", cwd=tmp_path).returncode == 0
    diff = run("diff", "--select", "signals", "--ignore", "signals", "Dockerfile", cwd=tmp_path)
    assert diff.returncode == 0 and diff.stdout == ""
    assert run("fix", "--select", "signals", "--ignore", "signals", "Dockerfile", cwd=tmp_path).returncode == 0
    assert snapshot(df) == before
    # --ignore signals alone: whatever the other transforms do, the CMD is not converted
    diff = run("diff", "--ignore", "signals", "Dockerfile", cwd=tmp_path)
    assert diff.returncode == 0
    assert '+CMD ["python", "app.py"]' not in diff.stdout
    assert "[signals]" not in diff.stderr
    assert run("fix", "--ignore", "signals", "Dockerfile", cwd=tmp_path).returncode == 0
    assert "CMD python app.py\n" in df.read_text()


@pytest.mark.parametrize(("mode", "option"), [("fix", "--select"), ("diff", "--ignore"), ("check", "--select")])
def test_unknown_transform_id_is_a_one_line_error(tmp_path: Path, mode: str, option: str) -> None:
    df = write(tmp_path / "Dockerfile", PENDING)
    before = snapshot(df)
    proc = run(mode, option, "signals,nope", "Dockerfile", cwd=tmp_path)
    assert proc.returncode == 2
    assert len(err_lines(proc)) == 1, proc.stderr
    assert "nope" in proc.stderr
    assert proc.stdout == ""
    assert snapshot(df) == before


def test_unsafe_fix_needs_the_flag(tmp_path: Path) -> None:
    df = write(tmp_path / "Dockerfile", UNSAFE)
    before = snapshot(df)
    check = run("check", "Dockerfile", cwd=tmp_path)
    assert check.returncode == 0
    assert "unsafe" in check.stderr.lower()
    assert "Dockerfile:2:" in check.stderr
    fix = run("fix", "Dockerfile", cwd=tmp_path)
    assert fix.returncode == 0
    assert "unsafe" in fix.stderr.lower()
    assert snapshot(df) == before

    assert run("check", "--unsafe-fixes", "Dockerfile", cwd=tmp_path).returncode == 1
    diff = run("diff", "--unsafe-fixes", "Dockerfile", cwd=tmp_path)
    assert '+ENTRYPOINT ["python", "manage.py"]\n' in diff.stdout
    assert snapshot(df) == before
    done = run("fix", "--unsafe-fixes", "Dockerfile", cwd=tmp_path)
    assert done.returncode == 0
    assert df.read_text() == UNSAFE_FIXED


def test_context_dir_is_where_the_entrypoint_script_is_read(tmp_path: Path) -> None:
    df = write(
        tmp_path / "docker" / "Dockerfile", 'FROM python:3.12\nCOPY start.sh /start.sh\nENTRYPOINT ["/start.sh"]\n'
    )
    sh = write(tmp_path / "ctx" / "start.sh", START_SH)
    df_before, sh_before = snapshot(df), snapshot(sh)

    # the default context is the Dockerfile's folder, which has no start.sh: nothing to do
    assert run("check", "docker/Dockerfile", cwd=tmp_path).returncode == 0

    diff = run("diff", "--context", "ctx", "docker/Dockerfile", cwd=tmp_path)
    assert diff.returncode == 0
    assert "--- a/ctx/start.sh\n+++ b/ctx/start.sh\n" in diff.stdout
    assert (snapshot(df), snapshot(sh)) == (df_before, sh_before)

    assert run("check", "--context", "ctx", "docker/Dockerfile", cwd=tmp_path).returncode == 1
    fix = run("fix", "--context", str(tmp_path / "ctx"), "docker/Dockerfile", cwd=tmp_path)
    assert fix.returncode == 0
    assert sh.read_text() == START_SH_FIXED
    assert snapshot(df) == df_before  # the Dockerfile itself needed nothing


def test_context_that_is_not_a_folder_is_an_error(tmp_path: Path) -> None:
    df = write(tmp_path / "Dockerfile", PENDING)
    before = snapshot(df)
    proc = run("fix", "--context", "nowhere", "Dockerfile", cwd=tmp_path)
    assert proc.returncode == 2
    assert len(err_lines(proc)) == 1
    assert "nowhere" in proc.stderr
    assert snapshot(df) == before


def test_quiet_prints_nothing_but_results(tmp_path: Path) -> None:
    df = write(tmp_path / "Dockerfile", PENDING)
    check = run("check", "-q", "Dockerfile", cwd=tmp_path)
    assert check.returncode == 1
    assert check.stdout == "" and check.stderr == ""
    diff = run("diff", "--quiet", "Dockerfile", cwd=tmp_path)
    assert diff.returncode == 0 and diff.stderr == ""
    assert diff.stdout.startswith("--- a/Dockerfile")
    fix = run("fix", "--quiet", "Dockerfile", cwd=tmp_path)
    assert fix.returncode == 0
    assert fix.stdout == "" and fix.stderr == ""
    assert df.read_text() == FIXED


def test_quiet_still_reports_errors(tmp_path: Path) -> None:
    proc = run("fix", "--quiet", "missing", cwd=tmp_path)
    assert proc.returncode == 2
    assert len(err_lines(proc)) == 1
    assert "missing" in proc.stderr


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    proc = run("fix", "--no-such-option", "Dockerfile", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert run("frobnicate", cwd=tmp_path).returncode == 2


# --------------------------------------------------------------------------------------------------
# list / explain


def test_list_prints_every_transform_with_a_description(tmp_path: Path) -> None:
    from transforms import REGISTRY, load

    proc = run("list", cwd=tmp_path)
    assert proc.returncode == 0
    lines = proc.stdout.splitlines()
    assert len(lines) == len(REGISTRY)
    for line, (tid, _module) in zip(lines, REGISTRY, strict=True):
        assert line.split()[0] == tid
        description = load(tid).description
        assert description and "\n" not in description
        assert line.rstrip().endswith(description)
    assert any(line.startswith("signals ") for line in lines)


@pytest.mark.parametrize("tid", ["signals", "SIGNALS"])
def test_explain_prints_docstring_sections(tmp_path: Path, tid: str) -> None:
    proc = run("explain", tid, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("signals: ")
    for section in ("What it changes", "When it refuses", "Fix safety"):
        assert section in proc.stdout
    assert proc.stderr == ""


def test_explain_unknown_id_exits_2(tmp_path: Path) -> None:
    proc = run("explain", "nope", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert len(err_lines(proc)) == 1
    assert "nope" in proc.stderr


# --------------------------------------------------------------------------------------------------
# bad input: one line naming the file, exit 2, file untouched, other paths still processed


def _big(path: Path) -> None:
    head = b"FROM python:3.12\nCMD python app.py\n"
    write(path, head + b"#" * (1024 * 1024) + b"\n")


BAD_INPUTS: dict[str, Callable[[Path], object]] = {
    "binary": lambda p: write(p, b"FROM python:3.12\n\x00\x01\x02CMD python app.py\n"),
    "latin-1": lambda p: write(p, "FROM python:3.12\nLABEL author=Jos\u00e9\nCMD python app.py\n".encode("latin-1")),
    "empty": lambda p: write(p, b""),
    "whitespace-only": lambda p: write(p, b"  \n\t\n\r\n"),
    "bom-only": lambda p: write(p, b"\xef\xbb\xbf\n"),
    "over-1-MiB": _big,
    "directory": lambda p: p.mkdir(),
    "missing": lambda p: None,
    "hello-world": lambda p: write(p, b"hello world\n"),
    "python-file": lambda p: write(p, b"import os\n\n\ndef main():\n    print(os.getcwd())\n"),
    "run-without-from": lambda p: write(p, b"RUN x\n"),
    "unterminated-heredoc": lambda p: write(p, b"FROM python:3.12\nRUN <<EOF\necho hi\nCMD python app.py\n"),
}


def _state(p: Path) -> object:
    if not p.exists():
        return None
    if p.is_dir():
        return ("dir", p.stat().st_mtime_ns, sorted(os.listdir(p)))
    return snapshot(p)


@pytest.mark.parametrize(
    ("case", "mode"),
    [
        *[(case, "fix --quiet") for case in BAD_INPUTS],
        *[(case, mode) for case in ("binary", "directory", "hello-world") for mode in ("fix", "diff", "check")],
    ],
)
def test_bad_input_is_a_one_line_error_and_others_still_run(tmp_path: Path, case: str, mode: str) -> None:
    bad = tmp_path / "bad.Dockerfile"
    BAD_INPUTS[case](bad)
    good = write(tmp_path / "good" / "Dockerfile", PENDING)
    before = _state(bad)

    proc = run(*mode.split(), "bad.Dockerfile", "good/Dockerfile", cwd=tmp_path)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    naming = [ln for ln in err_lines(proc) if "bad.Dockerfile" in ln]
    assert len(naming) == 1, proc.stderr
    assert naming[0].startswith("bad.Dockerfile: ")
    assert "error" in naming[0]
    assert _state(bad) == before
    assert leftovers(tmp_path) == []
    if mode.startswith("fix"):
        assert good.read_text() == FIXED
        assert proc.stdout == ""
    else:
        assert good.read_text() == PENDING
    if mode.endswith("--quiet"):
        assert err_lines(proc) == naming  # the only line on stderr
    if mode == "diff":
        assert proc.stdout.startswith("--- a/good/Dockerfile\n")
        assert "bad.Dockerfile" not in proc.stdout
    if mode.startswith("check"):
        assert proc.stdout == ""
    if mode == "check":
        assert "good/Dockerfile:2:" in proc.stderr


def test_good_file_before_bad_is_processed_too(tmp_path: Path) -> None:
    good = write(tmp_path / "good" / "Dockerfile", PENDING)
    bad = write(tmp_path / "bad", b"hello world\n")
    before = snapshot(bad)
    proc = run("fix", "good/Dockerfile", "bad", cwd=tmp_path)
    assert proc.returncode == 2
    assert good.read_text() == FIXED
    assert snapshot(bad) == before


@pytest.mark.skipif(
    hasattr(os, "geteuid") and os.geteuid() == 0, reason="running as root: chmod 000 does not stop reads"
)
def test_unreadable_file_is_a_one_line_error(tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.Dockerfile", PENDING, mode=0o000)
    good = write(tmp_path / "good" / "Dockerfile", PENDING)
    try:
        proc = run("fix", "bad.Dockerfile", "good/Dockerfile", cwd=tmp_path)
        assert proc.returncode == 2
        naming = [ln for ln in err_lines(proc) if "bad.Dockerfile" in ln]
        assert len(naming) == 1, proc.stderr
        assert stat.S_IMODE(bad.stat().st_mode) == 0
        assert good.read_text() == FIXED
    finally:
        bad.chmod(0o644)
    assert bad.read_text() == PENDING


def test_exactly_one_mib_is_accepted(tmp_path: Path) -> None:
    head = b"FROM python:3.12\nCMD python app.py\n"
    data = head + b"#" * (1024 * 1024 - len(head) - 1) + b"\n"
    assert len(data) == 1024 * 1024
    write(tmp_path / "Dockerfile", data)
    assert run("check", "Dockerfile", cwd=tmp_path).returncode == 1


@pytest.mark.parametrize("mode", ["fix", "diff", "check"])
@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"FROM a\n\x00\n", id="binary"),
        pytest.param(b"FROM a\nLABEL x=\xe9\n", id="latin-1"),
        pytest.param(b"", id="empty"),
        pytest.param(b"hello world\n", id="not-a-dockerfile"),
    ],
)
def test_bad_stdin_is_a_one_line_error(tmp_path: Path, data: bytes, mode: str) -> None:
    proc = run(mode, "--quiet", "-", cwd=tmp_path, stdin=data)
    assert proc.returncode == 2
    assert len(err_lines(proc)) == 1, proc.stderr
    assert err_lines(proc)[0].startswith("-: ")
    if mode != "fix":
        assert proc.stdout == ""


# --------------------------------------------------------------------------------------------------
# preservation on write


@pytest.mark.parametrize(
    ("before", "after"),
    [
        pytest.param(
            b"FROM python:3.12\r\nCMD python app.py\r\n", b'FROM python:3.12\r\nCMD ["python", "app.py"]\r\n', id="crlf"
        ),
        pytest.param(
            b"\xef\xbb\xbfFROM python:3.12\nCMD python app.py\n",
            b'\xef\xbb\xbfFROM python:3.12\nCMD ["python", "app.py"]\n',
            id="bom",
        ),
        pytest.param(
            b"FROM python:3.12\nCMD python app.py", b'FROM python:3.12\nCMD ["python", "app.py"]', id="no-final-newline"
        ),
        pytest.param(
            b"\xef\xbb\xbfFROM python:3.12\r\nCMD python app.py",
            b'\xef\xbb\xbfFROM python:3.12\r\nCMD ["python", "app.py"]',
            id="bom-crlf-no-final-newline",
        ),
        pytest.param(
            'FROM python:3.12\nLABEL author="Jos\u00e9 \u2603"\nCMD python app.py\n'.encode(),
            'FROM python:3.12\nLABEL author="Jos\u00e9 \u2603"\nCMD ["python", "app.py"]\n'.encode(),
            id="non-ascii",
        ),
    ],
)
def test_fix_preserves_bytes_around_the_edit(tmp_path: Path, before: bytes, after: bytes) -> None:
    df = write(tmp_path / "Dockerfile", before)
    proc = run("fix", "Dockerfile", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert df.read_bytes() == after
    assert leftovers(tmp_path) == []


def test_crlf_entrypoint_script_stays_crlf(tmp_path: Path) -> None:
    write(tmp_path / "Dockerfile", 'FROM python:3.12\nCOPY start.sh /start.sh\nENTRYPOINT ["/start.sh"]\n')
    sh = write(tmp_path / "start.sh", b"#!/bin/sh\r\nset -e\r\n./server\r\n")
    proc = run("fix", "Dockerfile", cwd=tmp_path)
    assert proc.returncode == 0
    assert sh.read_bytes() == b"#!/bin/sh\r\nset -e\r\nexec ./server\r\n"


@pytest.mark.parametrize("mode", [0o640, 0o600])
def test_fix_keeps_file_mode(tmp_path: Path, mode: int) -> None:
    df = write(tmp_path / "Dockerfile", PENDING, mode=mode)
    assert stat.S_IMODE(df.stat().st_mode) == mode
    assert run("fix", "Dockerfile", cwd=tmp_path).returncode == 0
    assert df.read_text() == FIXED
    assert stat.S_IMODE(df.stat().st_mode) == mode


def test_fix_through_symlink_keeps_the_link_and_rewrites_the_target(tmp_path: Path) -> None:
    target = write(tmp_path / "real" / "Dockerfile", PENDING, mode=0o640)
    link = tmp_path / "Dockerfile"
    link.symlink_to(Path("real") / "Dockerfile")
    proc = run("fix", "Dockerfile", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert link.is_symlink()
    assert os.readlink(link) == str(Path("real") / "Dockerfile")
    assert target.read_text() == FIXED
    assert not target.is_symlink()
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert leftovers(tmp_path) == []


def test_fix_is_atomic_replace_and_leaves_no_temp_files(tmp_path: Path) -> None:
    df = write(tmp_path / "Dockerfile", SCRIPT_DOCKERFILE)
    write(tmp_path / "start.sh", START_SH, mode=0o755)
    old_inode = df.stat().st_ino
    names_before = sorted(os.listdir(tmp_path))
    assert run("fix", "Dockerfile", cwd=tmp_path).returncode == 0
    assert df.read_text() == SCRIPT_DOCKERFILE_FIXED
    assert df.stat().st_ino != old_inode  # a new file was renamed over the old one
    assert sorted(os.listdir(tmp_path)) == names_before
    assert leftovers(tmp_path) == []
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".")]


# --------------------------------------------------------------------------------------------------
# exit codes


def test_exit_code_summary(tmp_path: Path) -> None:
    write(tmp_path / "pending", PENDING)
    write(tmp_path / "clean", CLEAN)
    write(tmp_path / "bad", b"hello world\n")

    assert run("check", "clean", cwd=tmp_path).returncode == 0
    assert run("check", "clean", "pending", cwd=tmp_path).returncode == 1
    assert run("check", "pending", "bad", cwd=tmp_path).returncode == 2  # an error wins over "pending"
    assert run("diff", "pending", cwd=tmp_path).returncode == 0  # diff never exits 1
    assert run("diff", "clean", "pending", cwd=tmp_path).returncode == 0
    assert run("diff", "bad", "pending", cwd=tmp_path).returncode == 2
    assert run("fix", "clean", cwd=tmp_path).returncode == 0
    assert run("fix", "bad", "pending", cwd=tmp_path).returncode == 2
    assert (tmp_path / "pending").read_text() == FIXED
    assert run("check", "pending", "clean", cwd=tmp_path).returncode == 0


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_diff_of_absolute_path_applies_with_git_apply(tmp_path: Path) -> None:
    df = write(tmp_path / "app" / "Dockerfile", SCRIPT_DOCKERFILE)
    write(tmp_path / "app" / "start.sh", START_SH)
    patch = run("diff", str(df), cwd=tmp_path)
    assert patch.returncode == 0
    _git_apply(patch.stdout, tmp_path)
    assert df.read_text() == SCRIPT_DOCKERFILE_FIXED


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version_from_package_metadata(flag: str, tmp_path: Path) -> None:
    from importlib import metadata

    proc = run(flag, cwd=tmp_path)
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"dockerfix {metadata.version('dockerfix')}"


def test_json_applied_only_for_fixes_written(tmp_path: Path) -> None:
    import json

    (tmp_path / "Dockerfile").write_text("FROM debian:13\nCMD nginx -g daemon\n")
    for mode, want in (("check", False), ("fix", True)):
        proc = run(mode, "--format", "json", "Dockerfile", cwd=tmp_path)
        fixes = json.loads(proc.stdout)["files"][0]["fixes"]
        assert fixes and all(f["applied"] is want for f in fixes), (mode, fixes)
