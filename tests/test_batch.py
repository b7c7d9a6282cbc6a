"""Batch runs: folder discovery, parallel processing in a deterministic order, shards, interrupts.

Discovery is tested through :func:`rewriter.engine.discover.discover` and through the command; everything
else runs the real ``dockerfix`` command in a subprocess. ``--select signals`` is pinned (other
transforms are written concurrently): ``CMD python app.py`` becomes ``CMD ["python", "app.py"]``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from linters import dockerfix_command

from rewriter.engine.batch import Job, Outcome, Settings, process_chunk, run_batch, stale_write
from rewriter.engine.discover import discover, in_shard, is_dockerfile_name, parse_shard, shard_index, sort_key
from rewriter.engine.pipeline import Status

# --------------------------------------------------------------------------------------------------
# helpers (test_reports.py uses them too)


DOCKERFIX = dockerfix_command()

PENDING = "FROM python:3.12\nCMD python app.py\n"
FIXED = 'FROM python:3.12\nCMD ["python", "app.py"]\n'
SCRIPT_DOCKERFILE = 'FROM python:3.12\nCOPY start.sh /start.sh\nENTRYPOINT ["/start.sh"]\nCMD python app.py\n'
START_SH = "#!/bin/sh\nset -e\necho starting\n./server\n"
START_SH_FIXED = "#!/bin/sh\nset -e\necho starting\nexec ./server\n"
UNSAFE = 'FROM python:3.12\nENTRYPOINT python manage.py\nCMD ["runserver"]\n'


def run(*args: str | Path, cwd: Path, pin: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``dockerfix ARGS`` in ``cwd`` (``--select signals`` added to fix/diff/check unless ``pin=False``)."""
    argv = [str(a) for a in args]
    if pin and argv and argv[0] in {"fix", "diff", "check"} and "--select" not in argv:
        argv[1:1] = ["--select", "signals"]
    proc = subprocess.run([*DOCKERFIX, *argv], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          check=False, stdin=subprocess.DEVNULL)
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    return proc


def write(path: Path, text: str | bytes, mode: int | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    if mode is not None:
        path.chmod(mode)
    return path


def found(root: Path, **kwargs: object) -> list[str]:
    """Discovered paths relative to ``root``, as discovery orders them."""
    return [t.key for t in discover([str(root)], **kwargs).targets]  # type: ignore[arg-type]


def make_tree(root: Path, count: int) -> list[Path]:
    """``count`` Dockerfiles in nested folders with varied content (changed, unchanged, side file, unsafe)."""
    files = []
    for i in range(count):
        folder = root / f"team{i % 3}" / f"svc{i:03d}"
        kind = i % 4
        if kind == 0:
            files.append(write(folder / "Dockerfile", PENDING))
        elif kind == 1:
            files.append(write(folder / "Dockerfile", FIXED))
        elif kind == 2:
            files.append(write(folder / "app.Dockerfile", SCRIPT_DOCKERFILE))
            write(folder / "start.sh", START_SH, mode=0o755)
        else:
            files.append(write(folder / "Containerfile.dev", UNSAFE))
    return files


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# --------------------------------------------------------------------------------------------------
# discovery: names, case, skipped folders, .gitignore, excludes


def test_dockerfile_names_are_matched_case_sensitively(tmp_path: Path) -> None:
    wanted = ["Dockerfile", "Containerfile", "app.Dockerfile", "app.dockerfile", "Dockerfile.prod",
              "Containerfile.dev", "Dockerfile.d/Dockerfile"]
    unwanted = ["dockerfile", "DOCKERFILE", "containerfile", "app.DOCKERFILE", "Dockerfile.dockerignore",
                "app.Dockerfile.dockerignore", ".Dockerfile", "Dockerfile.", "README.md", "Dockerfile-old",
                "Dockerfileprod", "my_Dockerfile"]
    for name in wanted + unwanted:
        write(tmp_path / name, PENDING)
    (tmp_path / "Containerfile.d").mkdir()  # a folder with a Dockerfile name is not a file
    assert found(tmp_path) == sorted(wanted, key=sort_key)
    assert not is_dockerfile_name("docker-compose.yml")


def test_skipped_folders_and_hidden_folders(tmp_path: Path) -> None:
    for rel in ["node_modules/pkg/Dockerfile", "web/node_modules/x/Dockerfile", "vendor/lib/Dockerfile",
                "go/vendor/Dockerfile", ".git/Dockerfile", "sub/.git/Dockerfile",
                ".devcontainer/Dockerfile", "vendored/Dockerfile", "node_modules_notes/Dockerfile",
                "svc/Dockerfile"]:
        write(tmp_path / rel, PENDING)
    assert found(tmp_path) == [".devcontainer/Dockerfile", "node_modules_notes/Dockerfile", "svc/Dockerfile",
                               "vendored/Dockerfile"]


_PART = st.sampled_from(["node_modules", "vendor", "Node_modules", "vendors", "xvendor", "src", "a.b", "-", "_"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_PART, min_size=1, max_size=5), st.booleans())
def test_default_excludes_match_as_pathspec_without_loading_it(parts: list[str], folder: bool) -> None:
    """The default patterns are matched by folder name (no pathspec); pathspec's answer is the reference."""
    import pathspec

    from rewriter.engine.discover import DEFAULT_EXCLUDES, _folder_names, _FolderNames

    names = _folder_names(DEFAULT_EXCLUDES)
    assert names == {"node_modules", "vendor"}
    rel = "/".join(parts) + ("/" if folder else "")
    reference = pathspec.GitIgnoreSpec.from_lines(DEFAULT_EXCLUDES)
    assert _FolderNames(names).match_file(rel) == bool(reference.match_file(rel))


def test_only_plain_folder_patterns_skip_pathspec() -> None:
    from rewriter.engine.discover import _folder_names

    assert _folder_names(["build/", "dist/"]) == {"build", "dist"}
    for patterns in (["build"], ["/build/"], ["a/b/"], ["*.tmp/"], ["!keep/"], ["x/", "y"], ["/"], ["\\#x/"]):
        assert _folder_names(patterns) is None, patterns


def test_a_folder_run_without_patterns_or_gitignore_does_not_load_pathspec(tmp_path: Path) -> None:
    for rel in ["svc/Dockerfile", "node_modules/x/Dockerfile"]:
        write(tmp_path / rel, PENDING)
    probe = ("import sys\nfrom rewriter.engine.discover import discover\n"
             "print([t.display for t in discover([sys.argv[1]]).targets], 'pathspec' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe, str(tmp_path / "svc"), ], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip().endswith("False")
    write(tmp_path / "svc" / ".gitignore", "old/\n")  # a .gitignore on the way: pathspec reads it
    out = subprocess.run([sys.executable, "-c", probe, str(tmp_path / "svc")], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip().endswith("True")


def test_nested_gitignore_files(tmp_path: Path) -> None:
    write(tmp_path / ".gitignore", "build/\n*.tmp.Dockerfile\n/top.Dockerfile\n")
    write(tmp_path / "svc" / ".gitignore", "!keep.tmp.Dockerfile\nlocal/\n/only-here.Dockerfile\n")
    write(tmp_path / "svc" / "deep" / ".gitignore", "Dockerfile.*\n")
    for rel in ["Dockerfile", "top.Dockerfile", "x/top.Dockerfile", "build/Dockerfile", "svc/build/Dockerfile",
                "a.tmp.Dockerfile", "svc/b.tmp.Dockerfile", "svc/keep.tmp.Dockerfile", "svc/local/Dockerfile",
                "local/Dockerfile", "svc/only-here.Dockerfile", "svc/x/only-here.Dockerfile",
                "svc/deep/Dockerfile", "svc/deep/Dockerfile.prod", "svc/Dockerfile.prod"]:
        write(tmp_path / rel, PENDING)
    assert found(tmp_path) == [
        "Dockerfile",
        "local/Dockerfile",  # local/ is ignored only under svc/
        "svc/Dockerfile.prod",
        "svc/deep/Dockerfile",
        "svc/keep.tmp.Dockerfile",  # re-included by the deeper .gitignore
        "svc/x/only-here.Dockerfile",  # /only-here is anchored to svc/
        "x/top.Dockerfile",  # /top.Dockerfile is anchored to the root
    ]


def test_gitignore_of_the_work_tree_above_the_folder_applies(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    write(repo / ".gitignore", "generated/\nsvc/*.bak.Dockerfile\n")
    write(tmp_path / ".gitignore", "*\n")  # outside the work tree: not ours
    for rel in ["svc/Dockerfile", "svc/generated/Dockerfile", "svc/old.bak.Dockerfile"]:
        write(repo / rel, PENDING)
    assert found(repo / "svc") == ["Dockerfile"]
    assert found(repo) == ["svc/Dockerfile"]


def test_exclude_replaces_the_defaults_and_extend_exclude_adds(tmp_path: Path) -> None:
    for rel in ["svc/Dockerfile", "legacy/Dockerfile", "node_modules/x/Dockerfile", "svc/legacy/Dockerfile",
                "old.Dockerfile"]:
        write(tmp_path / rel, PENDING)
    assert found(tmp_path) == ["legacy/Dockerfile", "old.Dockerfile", "svc/Dockerfile", "svc/legacy/Dockerfile"]
    assert found(tmp_path, extend_exclude=["/legacy/", "old.*"]) == ["svc/Dockerfile", "svc/legacy/Dockerfile"]
    # --exclude replaces node_modules/ and vendor/
    assert found(tmp_path, exclude=["legacy/"]) == ["node_modules/x/Dockerfile", "old.Dockerfile", "svc/Dockerfile"]


def test_exclude_and_extend_exclude_on_the_command_line(tmp_path: Path) -> None:
    for rel in ["svc/Dockerfile", "legacy/Dockerfile", "node_modules/x/Dockerfile"]:
        write(tmp_path / rel, PENDING)
    proc = run("check", "--format", "json", "--extend-exclude", "legacy/", ".", cwd=tmp_path)
    assert [f["path"] for f in json.loads(proc.stdout)["files"]] == ["svc/Dockerfile"]
    proc = run("check", "--format", "json", "--exclude", "svc/", "--exclude", "legacy/", ".", cwd=tmp_path)
    assert [f["path"] for f in json.loads(proc.stdout)["files"]] == ["node_modules/x/Dockerfile"]


def test_named_files_are_always_processed(tmp_path: Path) -> None:
    write(tmp_path / ".gitignore", "ignored/\n")
    a = write(tmp_path / "node_modules" / "x" / "Dockerfile", PENDING)
    b = write(tmp_path / "ignored" / "Dockerfile", PENDING)
    c = write(tmp_path / "notes.txt", PENDING)  # not a Dockerfile name: named, so processed
    proc = run("fix", "--extend-exclude", "notes.txt", "node_modules/x/Dockerfile", "ignored/Dockerfile", "notes.txt",
               ".", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert a.read_text() == b.read_text() == c.read_text() == FIXED


def test_a_folder_that_cannot_be_read_is_a_problem_and_the_rest_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "a" / "Dockerfile", PENDING)
    write(tmp_path / "locked" / "Dockerfile", PENDING)
    write(tmp_path / "z" / "Dockerfile", PENDING)
    real_scandir = os.scandir

    def scandir(path: str) -> object:
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr("rewriter.engine.discover.os.scandir", scandir)
    result = discover([str(tmp_path)])
    assert [t.key for t in result.targets] == ["a/Dockerfile", "z/Dockerfile"]
    assert result.problems == [(str(tmp_path / "locked"), "cannot read folder: Permission denied")]


def test_empty_folder_is_a_warning_not_an_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    proc = run("check", "empty", cwd=tmp_path)
    assert proc.returncode == 0
    assert "empty: warning: no Dockerfile found" in proc.stderr


# --------------------------------------------------------------------------------------------------
# symlinks


def test_symlink_out_of_the_root_is_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    secret = write(outside / "Dockerfile", PENDING)
    write(outside / "other.Dockerfile", PENDING)
    root = tmp_path / "root"
    write(root / "svc" / "Dockerfile", PENDING)
    (root / "linked-dir").symlink_to(outside, target_is_directory=True)
    (root / "svc" / "linked.Dockerfile").symlink_to(outside / "other.Dockerfile")
    (root / "svc" / "up").symlink_to(Path(".."), target_is_directory=True)  # a loop inside the root
    result = discover([str(root)])
    assert [t.key for t in result.targets] == ["svc/Dockerfile"]
    assert sorted(result.outside_links) == sorted([str(root / "linked-dir"), str(root / "svc" / "linked.Dockerfile")])

    proc = run("fix", "root", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert secret.read_text() == PENDING and (outside / "other.Dockerfile").read_text() == PENDING
    assert (root / "svc" / "Dockerfile").read_text() == FIXED
    assert "linked-dir: skipped: symlink to a path outside" in proc.stderr


def test_symlink_inside_the_root_is_followed_once(tmp_path: Path) -> None:
    write(tmp_path / "real" / "Dockerfile", PENDING)
    write(tmp_path / "real" / "nested" / "app.Dockerfile", PENDING)
    write(tmp_path / "only-via-link" / "target.txt", PENDING)
    (tmp_path / "alias").symlink_to(Path("real"), target_is_directory=True)
    (tmp_path / "Dockerfile").symlink_to(Path("real") / "Dockerfile")
    (tmp_path / "svc.Dockerfile").symlink_to(Path("only-via-link") / "target.txt")
    assert found(tmp_path) == ["real/Dockerfile", "real/nested/app.Dockerfile", "svc.Dockerfile"]
    proc = run("fix", "--format", "json", ".", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert [f["status"] for f in json.loads(proc.stdout)["files"]] == ["changed"] * 3
    assert (tmp_path / "only-via-link" / "target.txt").read_text() == FIXED
    assert (tmp_path / "svc.Dockerfile").is_symlink()


def test_a_symlinked_folder_whose_target_is_excluded_is_walked_by_its_own_path(tmp_path: Path) -> None:
    write(tmp_path / "node_modules" / "tool" / "Dockerfile", PENDING)
    (tmp_path / "docker").symlink_to(Path("node_modules") / "tool", target_is_directory=True)
    assert found(tmp_path) == ["docker/Dockerfile"]


# --------------------------------------------------------------------------------------------------
# parallel runs: order, errors, crashes


def _outputs(proc: subprocess.CompletedProcess[str]) -> tuple[int, str, str]:
    return proc.returncode, proc.stdout, proc.stderr


def test_jobs_1_and_4_give_byte_identical_output(tmp_path: Path) -> None:
    make_tree(tmp_path, 40)
    diffs = [run("diff", "--jobs", jobs, ".", cwd=tmp_path) for jobs in ("1", "4")]
    assert _outputs(diffs[0]) == _outputs(diffs[1])
    assert diffs[0].returncode == 0 and diffs[0].stdout
    headers = re.findall(r"^\+\+\+ b/(.*)$", diffs[0].stdout, flags=re.M)
    dockerfiles = [h for h in headers if not h.endswith("start.sh")]
    # PENDING files change; SCRIPT_DOCKERFILE's CMD reaches its exec-form ENTRYPOINT script, so its
    # form stays in a safe run (only start.sh gets `exec`)
    assert dockerfiles == sorted(dockerfiles, key=sort_key) and len(dockerfiles) == 10
    reports = [run("check", "--jobs", jobs, "--format", "json", ".", cwd=tmp_path) for jobs in ("1", "4")]
    assert reports[0].stdout == reports[1].stdout
    paths = [f["path"] for f in json.loads(reports[0].stdout)["files"]]
    assert paths == sorted(paths, key=sort_key) and len(paths) == 40


def test_corrupt_file_in_the_middle_of_a_batch(tmp_path: Path) -> None:
    def build(root: Path) -> None:
        for i in range(12):
            write(root / f"svc{i:02d}" / "Dockerfile", PENDING)
        write(root / "svc05" / "Dockerfile", b"FROM python:3.12\n\x00\x01CMD python app.py\n")  # binary
        write(root / "svc07" / "Dockerfile", b"hello world\n")  # not a Dockerfile

    outs = []
    for jobs in ("1", "4"):
        root = tmp_path / f"jobs{jobs}"
        build(root)
        proc = run("fix", "--jobs", jobs, "--format", "json", "--output", "report.json", ".", cwd=root)
        assert proc.returncode == 2, proc.stderr
        errors = [ln for ln in proc.stderr.splitlines() if ": error: " in ln]
        assert [ln.split(":")[0] for ln in errors] == ["svc05/Dockerfile", "svc07/Dockerfile"]
        for i in range(12):
            text = (root / f"svc{i:02d}" / "Dockerfile").read_bytes()
            assert (text == FIXED.encode()) == (i not in (5, 7)), i
        report = json.loads((root / "report.json").read_text())
        assert report["summary"] == {"changed": 10, "error": 2}
        outs.append((proc.stdout, proc.stderr, report))
    assert outs[0] == outs[1]


def _pid_worker(settings: Settings, jobs: Sequence[Job]) -> list[Outcome]:
    time.sleep(0.02)  # long enough that every worker gets a chunk
    return [Outcome(j.display, Status.UNCHANGED, messages=[str(os.getpid())]) for j in jobs]


def _crashing_worker(settings: Settings, jobs: Sequence[Job]) -> list[Outcome]:
    if any(j.display == "f13" for j in jobs):
        os._exit(3)  # a crash in native code kills the worker without a Python exception
    return process_chunk(settings, jobs)


@pytest.fixture(params=["fork pool", "ProcessPoolExecutor"])
def pool_kind(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both pools: the forked one (Linux) and the executor other platforms use."""
    import rewriter.engine.batch as batch_module

    monkeypatch.setattr(batch_module, "FORK_POOL", request.param == "fork pool")
    return request.param


def test_run_batch_uses_worker_processes_and_keeps_the_order(pool_kind: str) -> None:
    jobs = [Job(f"/nowhere/f{i:02d}", f"f{i:02d}") for i in range(200)]
    seen: list[Outcome] = []
    run_batch(jobs, Settings(mode="check"), seen.append, workers=4, worker=_pid_worker)
    assert [o.display for o in seen] == [j.display for j in jobs]
    pids = {o.messages[0] for o in seen}
    assert str(os.getpid()) not in pids and len(pids) > 1


def test_a_worker_that_dies_costs_only_its_file(tmp_path: Path, pool_kind: str) -> None:
    jobs = []
    for i in range(30):
        write(tmp_path / f"f{i}" / "Dockerfile", PENDING)
        jobs.append(Job(str(tmp_path / f"f{i}" / "Dockerfile"), f"f{i}"))
    seen: list[Outcome] = []
    run_batch(jobs, Settings(mode="check", select=("signals",)), seen.append, workers=2, worker=_crashing_worker)
    assert [o.display for o in seen] == [j.display for j in jobs]
    assert {o.display: o.status for o in seen if o.status != Status.CHANGED} == {"f13": Status.ERROR}
    assert "worker process died" in str(next(o.error for o in seen if o.display == "f13"))


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_side_file_shared_by_two_dockerfiles_is_written_once(tmp_path: Path, jobs: str) -> None:
    for i in range(10):  # enough files for worker processes
        write(tmp_path / f"svc{i}" / "Dockerfile", PENDING)
    write(tmp_path / "app" / "Dockerfile", SCRIPT_DOCKERFILE)
    write(tmp_path / "app" / "worker.Dockerfile", SCRIPT_DOCKERFILE)
    sh = write(tmp_path / "app" / "start.sh", START_SH, mode=0o755)
    proc = run("fix", "--jobs", jobs, ".", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert sh.read_text() == START_SH_FIXED
    assert "12 file(s) rewritten, 0 error(s)" in proc.stderr


def test_stale_write_detects_a_file_changed_since_it_was_read(tmp_path: Path) -> None:
    a = write(tmp_path / "a", "old")
    new_file = tmp_path / "new"
    assert stale_write([(str(a), "old", "new"), (str(new_file), None, "x")]) is None
    a.write_text("new")
    assert stale_write([(str(a), "old", "new")]) is None  # already written by an earlier fix
    a.write_text("edited meanwhile")
    assert stale_write([(str(new_file), None, "x"), (str(a), "old", "new")]) == str(a)
    assert stale_write([(str(tmp_path / "gone"), "old", "new")]) == str(tmp_path / "gone")


# --------------------------------------------------------------------------------------------------
# shards


def test_shards_partition_the_files_stably_and_their_reports_merge(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    make_tree(root, 45)
    write(root / "broken" / "Dockerfile", b"hello world\n")
    full = run("check", "--format", "json", "repo", cwd=tmp_path)
    assert full.returncode == 2
    all_paths = [f["path"] for f in json.loads(full.stdout)["files"]]
    shard_paths = []
    for k in (1, 2, 3):
        out = tmp_path / f"shard{k}.json"
        proc = run("check", "--shard", f"{k}/3", "--format", "json", "--output", out, "repo", cwd=tmp_path)
        assert proc.returncode in (1, 2), proc.stderr
        again = run("check", "--shard", f"{k}/3", "--format", "json", "repo", cwd=tmp_path)
        assert again.stdout == out.read_text()  # stable across runs
        paths = [f["path"] for f in json.loads(out.read_text())["files"]]
        assert paths
        shard_paths.append(paths)
    assert sorted(p for s in shard_paths for p in s) == sorted(all_paths)  # every file in exactly one shard
    assert len({p for s in shard_paths for p in s}) == len(all_paths)

    merged = run("merge-reports", *(f"shard{k}.json" for k in (1, 2, 3)), cwd=tmp_path)
    assert merged.returncode == 0, merged.stderr
    assert merged.stdout == full.stdout
    to_file = run("merge-reports", "shard3.json", "shard1.json", "shard2.json", "--output", "m.json", cwd=tmp_path)
    assert to_file.returncode == 0 and (tmp_path / "m.json").read_text() == full.stdout

    twice = run("merge-reports", "shard1.json", "shard2.json", "shard1.json", cwd=tmp_path)
    assert twice.returncode == 2 and twice.stdout == ""
    assert "in both shard1.json and shard1.json" in twice.stderr


def test_shard_is_by_path_relative_to_the_root(tmp_path: Path) -> None:
    root = tmp_path / "deep" / "repo"
    make_tree(root, 12)
    targets_abs = discover([str(root)]).targets
    keys = [t.key for t in targets_abs]
    old = Path.cwd()
    try:
        os.chdir(root)
        keys_rel = [t.key for t in discover(["."]).targets]
    finally:
        os.chdir(old)
    assert keys == keys_rel
    for k in (1, 2, 3):
        assert [t.key for t in in_shard(targets_abs, k, 3)] == [key for key in keys if shard_index(key, 3) == k - 1]


@pytest.mark.parametrize("bad", ["0/3", "4/3", "1/0", "x", "1/", "a/b"])
def test_bad_shard_is_a_usage_error(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ValueError, match="K/N"):
        parse_shard(bad)
    proc = run("check", "--shard", bad, ".", cwd=tmp_path)
    assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1


# --------------------------------------------------------------------------------------------------
# diff ROOT | git apply at ROOT


def _git_apply(patch: str, cwd: Path) -> None:
    env = dict(os.environ, GIT_CEILING_DIRECTORIES=str(cwd.parent))
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        env.pop(var, None)
    res = subprocess.run(["git", "apply", "--verbose", "-"], cwd=cwd, input=patch.encode(), capture_output=True,
                         env=env, timeout=60, check=False)
    assert res.returncode == 0, res.stderr.decode()


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
@pytest.mark.parametrize("where", ["inside", "outside"])
def test_diff_of_a_folder_applies_at_that_folder(tmp_path: Path, where: str) -> None:
    trees = {name: tmp_path / name / "project" for name in ("via-diff", "via-fix")}
    for root in trees.values():
        make_tree(root, 16)
    patch = (run("diff", ".", cwd=trees["via-diff"]) if where == "inside"
             else run("diff", "project", cwd=trees["via-diff"].parent))
    assert patch.returncode == 0, patch.stderr
    assert "+++ b/team2/svc002/start.sh\n" in patch.stdout
    assert "project/" not in patch.stdout
    _git_apply(patch.stdout, trees["via-diff"])
    assert run("fix", "project", cwd=trees["via-fix"].parent).returncode == 0
    assert snapshot(trees["via-diff"]) == snapshot(trees["via-fix"])
    assert (trees["via-fix"] / "team2" / "svc002" / "start.sh").read_text() == START_SH_FIXED


# --------------------------------------------------------------------------------------------------
# interrupts


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_interrupt_leaves_every_file_old_or_new_and_says_what_was_done(
    tmp_path: Path, signum: signal.Signals, code: int
) -> None:
    count = 3000
    files = [write(tmp_path / f"d{i // 100:02d}" / f"s{i:04d}.Dockerfile", PENDING) for i in range(count)]
    files.sort(key=lambda p: sort_key(p.relative_to(tmp_path).as_posix()))
    proc = subprocess.Popen([*DOCKERFIX, "fix", "--select", "signals", "--jobs", "2", "."], cwd=tmp_path,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while files[0].read_text() == PENDING and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)  # wait until the run is writing files
    time.sleep(0.05)
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert "Traceback" not in err
    contents = [f.read_text() for f in files]
    assert set(contents) <= {PENDING, FIXED}
    fixed = contents.count(FIXED)
    assert 0 < fixed < count, "the signal should arrive mid-run"
    assert contents == [FIXED] * fixed + [PENDING] * (count - fixed)  # written in order
    summary = [ln for ln in err.splitlines() if "interrupted" in ln]
    assert len(summary) == 1, err
    assert f"{fixed} file(s) rewritten" in summary[0]
    assert f"{count - fixed} file(s) not processed" in summary[0]
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".dockerfix")]  # no temporary files left
    assert out == ""


@settings(max_examples=300, deadline=None)
@given(count=st.integers(1, 20_000), workers=st.integers(2, 16))
def test_chunks_shrink_towards_single_files_at_the_end(count: int, workers: int) -> None:
    from rewriter.engine.batch import chunk_sizes

    sizes = chunk_sizes(count, workers)
    assert sum(sizes) == count and all(1 <= s <= 32 for s in sizes)
    assert sizes == sorted(sizes, reverse=True)
    left = count
    for size in sizes:  # a quarter of a worker's share of what is left: the last chunks are single files
        assert size == max(1, min(32, left // (workers * 4)))
        left -= size
    assert sizes[-min(count, workers * 4):] == [1] * min(count, workers * 4)
    if count >= 32 * 4 * workers:
        assert sizes[0] == 32  # few hand-overs while much is left


def test_a_pool_run_delivers_guided_chunks_in_order(tmp_path: Path, pool_kind: str) -> None:
    jobs = [Job(str(tmp_path / f"{i:03d}.Dockerfile"), f"{i:03d}") for i in range(60)]
    seen: list[str] = []
    run_batch(jobs, Settings(mode="check"), lambda o: seen.append(o.display), workers=2)
    assert seen == [j.display for j in jobs]
