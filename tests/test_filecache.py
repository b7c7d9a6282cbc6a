"""The result cache of check/diff/fix (:mod:`rewriter.engine.filecache`, issue 25).

What it must never do is serve a result a fresh analysis would not give. The soundness test below
changes, empties and removes each file of every golden case (and adds one) and compares the cached
run with a fresh one; a reader that escaped the recorder shows as a difference. The other tests show
that an unchanged file is really not analysed again, and the rules: racy inputs, fix mode, errors,
``--no-cache``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from rewriter.core.source import real_folder
from rewriter.engine import batch, filecache, settings
from rewriter.engine.batch import Job, Settings, process_job

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "golden"
DIFF = Settings(mode="diff", unsafe_fixes=True, messages=True, text_report=True, cache=True)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "cache"
    monkeypatch.setenv("DOCKERFIX_CACHE_DIR", str(folder))
    new_run()
    yield folder / "results"
    new_run()


def new_run() -> None:
    """What a new process would start with: the caches that live for one run are emptied."""
    filecache.new_run()
    settings._config_for.cache_clear()
    settings._resolved_in.cache_clear()
    real_folder.cache_clear()


def age(folder: Path, seconds: float = 60.0) -> None:
    """Every file and folder under ``folder`` last modified ``seconds`` ago (not racy)."""
    then = time.time() - seconds
    for path in [folder, *folder.rglob("*")]:
        os.utime(path, (then, then), follow_symlinks=False)


def outcome(job: Job, s: Settings = DIFF) -> dict:
    return batch._outcome_to(process_job(s, job))


def test_an_unchanged_file_is_not_analysed_again(cache: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "Dockerfile").write_text('FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\nCMD ["npm", "start"]\n')
    (app / "package.json").write_text('{"scripts": {"start": "node server.js"}}')
    age(app)
    job = Job(str(app / "Dockerfile"), "app/Dockerfile")
    first = outcome(job)
    assert first["diff"] and list(cache.rglob("*.json")), "a result with a rewrite is kept"

    new_run()

    def no_analysis(*_a: object, **_k: object) -> None:
        raise AssertionError("analysed again")

    monkeypatch.setattr("rewriter.engine.pipeline.process_file", no_analysis)
    assert outcome(job) == first
    monkeypatch.undo()
    new_run()
    assert outcome(job, Settings(mode="diff", unsafe_fixes=True, messages=True, text_report=True)) == first


def _golden_cases() -> list:
    return [pytest.param(d, id=f"{d.parent.name}/{d.name}") for d in sorted(GOLDEN.glob("*/*"))
            if (d / "Dockerfile").is_file() and _inputs(d)]


def _inputs(case: Path) -> list[Path]:
    """The build-context files of a golden case (not its expected outputs or its case.yaml)."""
    return sorted(p for p in case.rglob("*") if p.is_file() and p.name != "case.yaml"
                  and not p.name.startswith("expected."))


@pytest.mark.parametrize("case", _golden_cases())
def test_a_cached_result_is_always_what_a_fresh_analysis_gives(case: Path, cache: Path, tmp_path: Path) -> None:
    work = tmp_path / "case"
    shutil.copytree(case, work, symlinks=True)
    for p in work.glob("expected.*"):
        p.unlink()
    job = Job(str(work / "Dockerfile"), "Dockerfile")
    age(work)
    outcome(job)  # kept
    files = [p for p in sorted(work.rglob("*")) if p.is_file() and p.name != "case.yaml"]
    changes = [(p, how) for p in files for how in ("edit", "empty", "remove")] + [(work, "add")]
    for target, how in changes:
        saved = {p: p.read_bytes() for p in work.rglob("*") if p.is_file()}
        _change(work, target, how)
        new_run()
        cached = outcome(job)
        new_run()
        fresh = outcome(job, Settings(**{**DIFF.__dict__, "cache": False}))
        assert cached == fresh, f"{how} {target.relative_to(work)}: the cache served a stale result"
        shutil.rmtree(work)
        for p, data in saved.items():
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
        age(work)
        new_run()
        outcome(job)  # the entry for the original files again


def _change(work: Path, target: Path, how: str) -> None:
    if how == "add":
        for name in ("package.json", ".dockerignore", "requirements.txt", "entrypoint.sh", "app.log", ".env"):
            if not (work / name).exists():
                (work / name).write_text('{"scripts": {"start": "node x.js > /var/log/x.log"}}\n'
                                         if name == "package.json" else "x\n")
                break
    elif how == "remove":
        target.unlink()
    elif how == "empty":
        target.write_bytes(b"")
    else:
        data = target.read_bytes()
        target.write_bytes(data.replace(b"\n", b"\nRUN echo changed > /tmp/x\n", 1) if target.name == "Dockerfile"
                           else data + b"\n# changed\nlogfile = /var/log/app.log\n")
    age(work, 30)  # a new modification time, not racy


def test_every_file_the_analysis_opens_is_recorded(tmp_path: Path, cache: Path) -> None:
    """Checked by the interpreter's own audit events, independently of the recorder's wrappers."""
    opened: list[str] = []
    watching = [False]

    def hook(event: str, args: tuple) -> None:
        if watching[0] and event == "open" and isinstance(args[0], str) and not any(
                c in str(args[1] or "r") for c in "wax+"):
            opened.append(os.path.abspath(args[0]))

    sys.addaudithook(hook)  # hooks cannot be removed: this one only listens while watching
    ignore = batch._not_inputs(Path(str(cache)))
    for case in [c.values[0] for c in _golden_cases()]:
        recorder = filecache.Recorder(ignore=ignore)
        watching[0] = True
        with recorder.active():
            process_job(Settings(mode="diff", unsafe_fixes=True), Job(str(case / "Dockerfile"), "Dockerfile"))
        watching[0] = False
        seen = {path for _op, path in recorder.seen}
        missed = [p for p in opened if not p.startswith(ignore) and p not in seen]
        assert not missed, f"{case}: opened but not recorded: {missed}"
        opened.clear()


def test_a_racy_input_is_not_kept(cache: Path, tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM debian:12\nRUN echo hi > /var/log/app.log\n")
    outcome(Job(str(tmp_path / "Dockerfile"), "Dockerfile"))
    assert not list(cache.rglob("*.json")), "written just now: a same-tick edit could go unseen"
    age(tmp_path)
    outcome(Job(str(tmp_path / "Dockerfile"), "Dockerfile"))
    assert len(list(cache.rglob("*.json"))) == 1


def test_fix_keeps_only_results_that_write_nothing(cache: Path, tmp_path: Path) -> None:
    fix = Settings(mode="fix", unsafe_fixes=True, cache=True)
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "Dockerfile").write_text('FROM python:3.12\nCMD python app.py\n')
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "Dockerfile").write_text('FROM scratch\nCOPY app /app\nUSER 10001:10001\nENTRYPOINT ["/app"]\n')
    age(tmp_path)
    changed = process_job(fix, Job(str(tmp_path / "a" / "Dockerfile"), "a"))
    assert changed.writes
    assert not list(cache.rglob("*.json"))
    clean = process_job(fix, Job(str(tmp_path / "b" / "Dockerfile"), "b"))
    assert not clean.writes and len(list(cache.rglob("*.json"))) == 1


def test_no_cache_reads_and_writes_nothing(cache: Path, tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM debian:12\n")
    age(tmp_path)
    process_job(Settings(mode="check"), Job(str(tmp_path / "Dockerfile"), "Dockerfile"))
    assert not cache.exists()


def test_a_damaged_or_foreign_entry_is_a_miss(cache: Path, tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM debian:12\nCMD tail -f /var/log/app.log\n")
    age(tmp_path)
    job = Job(str(tmp_path / "Dockerfile"), "Dockerfile")
    first = outcome(job)
    (entry,) = cache.rglob("*.json")
    entry.write_text("{not json")
    new_run()
    assert outcome(job) == first
    (entry,) = cache.rglob("*.json")
    data = json.loads(entry.read_text())
    data["key"] = "another file's key"
    data["value"]["diff"] = "stale"
    entry.write_text(json.dumps(data))
    new_run()
    assert outcome(job) == first


def test_internal_errors_are_never_kept(cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from transforms import load

    def broken(_ctx: object) -> list:
        raise RuntimeError("bug")

    monkeypatch.setattr(load("logs"), "run", broken)
    (tmp_path / "Dockerfile").write_text("FROM debian:12\nCMD tail -f /var/log/app.log\n")
    age(tmp_path)
    out = outcome(Job(str(tmp_path / "Dockerfile"), "Dockerfile"))
    assert out["status"] == "error" and out["error"].startswith("internal error: RuntimeError")
    assert not list(cache.rglob("*.json"))  # the next run tries again (a fixed bug, another machine)


def test_the_recorder_sees_each_kind_of_filesystem_call(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "f.txt").write_text("x")
    (tmp_path / "link").symlink_to("dir")
    calls = {
        "os.stat": (lambda: os.stat(tmp_path / "dir" / "f.txt"), ("stat", "dir/f.txt")),
        "os.lstat": (lambda: os.lstat(tmp_path / "link"), ("lstat", "link")),
        "os.listdir": (lambda: os.listdir(tmp_path / "dir"), ("list", "dir")),
        "os.scandir": (lambda: list(os.scandir(tmp_path / "dir")), ("list", "dir")),
        "open": (lambda: open(tmp_path / "dir" / "f.txt").close(), ("stat", "dir/f.txt")),
        "Path.read_text": (lambda: (tmp_path / "dir" / "f.txt").read_text(), ("stat", "dir/f.txt")),
        "Path.is_file": (lambda: (tmp_path / "absent").is_file(), ("stat", "absent")),
        "Path.is_symlink": (lambda: (tmp_path / "link").is_symlink(), ("lstat", "link")),
        "os.path.exists": (lambda: os.path.exists(tmp_path / "absent"), ("stat", "absent")),
        "os.path.realpath": (lambda: os.path.realpath(tmp_path / "link" / "f.txt"), ("lstat", "link")),
        "Path.glob": (lambda: list((tmp_path / "dir").glob("*.txt")), ("list", "dir")),
        "os.walk": (lambda: list(os.walk(tmp_path / "dir")), ("list", "dir")),
        "relative": (lambda: os.stat("f.txt"), ("stat", "dir/f.txt")),
    }
    for name, (call, (op, rel)) in calls.items():
        here = os.getcwd()
        os.chdir(tmp_path / "dir")
        try:
            recorder = filecache.Recorder()
            with recorder.active(), contextlib.suppress(OSError):
                call()
        finally:
            os.chdir(here)
        assert (op, str(tmp_path / rel)) in recorder.seen, f"{name}: {sorted(recorder.seen)}"
    assert os.stat is filecache._REAL["stat"] and open is filecache._REAL_OPEN  # put back afterwards


def test_a_recorded_answer_that_changes_invalidates(tmp_path: Path) -> None:
    f = tmp_path / "package.json"
    f.write_text("{}")
    recorder = filecache.Recorder()
    with recorder.active():
        f.read_text()
        (tmp_path / "absent").exists()
        os.listdir(tmp_path)
    reads = [[op, p, fp] for (op, p), fp in recorder.seen.items()]
    assert filecache.still_valid(reads)
    (tmp_path / "absent").write_text("now here")
    filecache.new_run()
    assert not filecache.still_valid(reads)
    (tmp_path / "absent").unlink()
    filecache.new_run()
    assert filecache.still_valid(reads)
    f.write_text('{"a": 1}')
    filecache.new_run()
    assert not filecache.still_valid(reads)


def test_old_entries_are_pruned_when_their_folder_is_next_written(cache: Path, tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM debian:12\nCMD tail -f /var/log/app.log\n")
    age(tmp_path)
    outcome(Job(str(tmp_path / "Dockerfile"), "Dockerfile"))
    (entry,) = cache.rglob("*.json")
    stale = entry.with_name("0" + entry.name)
    stale.write_text("{}")
    old = time.time() - filecache.MAX_AGE_SECONDS - 60
    os.utime(stale, (old, old))
    assert filecache.prune(str(entry.parent)) == 1
    assert entry.exists() and not stale.exists()


def test_entries_spread_over_the_256_folders_even_when_their_keys_are_alike(tmp_path: Path) -> None:
    """Keys of one fleet differ in a few characters and share their length: they must still land in
    many folders (a folder is listed whole when pruned)."""
    keys = [filecache.key_of("check", f"/repos/service-{i:04d}/Dockerfile") for i in range(2000)]
    assert len({len(k) for k in keys}) == 1
    folders = {Path(filecache._entry_path(tmp_path, k)).parent.name for k in keys}
    assert len(folders) > 200 and all(len(f) == 2 and int(f, 16) < 256 for f in folders)


def test_the_command_line_keeps_results_unless_told_not_to(tmp_path: Path) -> None:
    import subprocess

    app = tmp_path / "app"
    app.mkdir()
    (app / "Dockerfile").write_text("FROM debian:12\nCMD tail -f /var/log/app.log\n")
    age(app)
    env = {**os.environ, "DOCKERFIX_CACHE_DIR": str(tmp_path / "cache")}
    run = [sys.executable, "-m", "rewriter.faces.cli", "check", str(app)]
    off = subprocess.run([*run, "--no-cache"], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert not (tmp_path / "cache" / "results").exists()
    first = subprocess.run(run, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert list((tmp_path / "cache" / "results").rglob("*.json"))
    again = subprocess.run(run, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert off.returncode == first.returncode == again.returncode == 1
    assert off.stderr == first.stderr == again.stderr and "[signals]" in again.stderr


def test_a_rerun_mixing_kept_and_new_results_delivers_them_in_order(cache: Path, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from rewriter.engine import forkpool
    from rewriter.engine.batch import _Pool, run_batch

    texts = ["FROM debian:12\nCMD tail -f /var/log/app.log\n", "FROM scratch\nCOPY a /a\nUSER 1:1\n",
             "FROM python:3.12\nCMD python app.py\n"]
    jobs = []
    for i in range(12):
        folder = tmp_path / f"r{i:02d}"
        folder.mkdir()
        (folder / "Dockerfile").write_text(texts[i % 3])
        jobs.append(Job(str(folder / "Dockerfile"), f"r{i:02d}/Dockerfile"))
    age(tmp_path)
    pools: list[int] = []  # the jobs each pool start was given (the forked pool's, or the executor's)
    real_run, real_ordered = _Pool.run, forkpool.run_ordered

    def counted(self: _Pool, chunks: object) -> None:
        pools.append(sum(map(len, chunks)))  # type: ignore[call-overload]
        real_run(self, chunks)  # type: ignore[arg-type]

    def counted_ordered(count: int, *args: object, **kw: object) -> None:
        pools.append(count)
        real_ordered(count, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(_Pool, "run", counted)
    monkeypatch.setattr(forkpool, "run_ordered", counted_ordered)

    def run(s: Settings) -> list[dict]:
        out: list[dict] = []
        new_run()
        run_batch(jobs, s, lambda o: out.append(batch._outcome_to(o)), workers=2)
        return out

    first = run(DIFF)
    assert len(list(cache.rglob("*.json"))) == 12 and pools == [12]
    assert run(DIFF) == first and pools == [12], "all kept: the parent serves them, no worker starts"
    for i in (3, 5, 6, 11):  # these four are analysed again; the parent serves the three before the first
        (tmp_path / f"r{i:02d}" / "Dockerfile").write_text(texts[(i + 1) % 3])
        age(tmp_path / f"r{i:02d}", 30)
    mixed = run(DIFF)
    assert pools == [12, 9]
    assert mixed == run(Settings(**{**DIFF.__dict__, "cache": False}))
    assert [o["display"] for o in mixed] == [j.display for j in jobs]


def test_a_context_shared_by_a_runs_files_is_walked_once_and_still_invalidates_each(
        cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rewriter.core import runmemo
    from rewriter.sidefiles import dockerignore

    repo = tmp_path / "repo"
    (repo / "services").mkdir(parents=True)
    (repo / ".dockerfix.yaml").write_text(f"context: {repo}\n")
    (repo / "config").mkdir()
    (repo / "config" / "logback.xml").write_text("<configuration/>")
    jobs = []
    for name in ("api", "web", "worker"):
        (repo / "services" / f"{name}.Dockerfile").write_text(
            f"FROM python:3.12\nWORKDIR /app\nCOPY . .\nCMD python {name}.py\n")
        jobs.append(Job(str(repo / "services" / f"{name}.Dockerfile"), f"{name}.Dockerfile"))
    age(repo)
    walks = []
    real_walk = dockerignore._walk
    monkeypatch.setattr(dockerignore, "_walk", lambda *a: walks.append(a[0]) or real_walk(*a))

    def run(s: Settings = DIFF) -> list[dict]:
        new_run()
        with runmemo.run():
            return [outcome(j, s) for j in jobs]

    first = run()
    assert len(walks) == 2, "a walk for each codemod that walks (secrets, logs), not one for each file"
    walks.clear()
    fresh = [outcome(j, Settings(**{**DIFF.__dict__, "cache": False})) for j in jobs]  # no run: no memo
    assert first == fresh and len(walks) == 2 * len(jobs)
    assert runmemo.memo("context-files") is None

    (repo / ".npmrc").write_text("//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n")  # now in the context
    age(repo / ".npmrc", 30)
    walks.clear()
    again = run()
    assert walks, "each file's kept result named the shared walk's listings: all three are analysed again"
    assert again == [outcome(j, Settings(**{**DIFF.__dict__, "cache": False})) for j in jobs]
    assert all(".npmrc" in o["diff"] for o in again) and not any(".npmrc" in o["diff"] for o in first)


def test_a_result_served_from_the_cache_imports_no_codemod(tmp_path: Path) -> None:
    import subprocess

    from test_startup import PROBE as probe  # check FILE, then the modules loaded, on stderr
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "Dockerfile").write_text("FROM python:3.12\nRUN pip install flask\nCMD python app.py\n")
    age(tmp_path / "app")
    env = {**os.environ, "DOCKERFIX_CACHE_DIR": str(tmp_path / "cache")}

    def modules() -> list[str]:
        proc = subprocess.run([sys.executable, "-c", probe, str(tmp_path / "app" / "Dockerfile")], cwd=ROOT, env=env,
                              capture_output=True, text=True, check=False)
        return json.loads(proc.stderr.strip().splitlines()[-1])

    first = modules()
    codemods = ("transforms.multistage", "transforms.nonroot", "transforms.secrets", "tree_sitter")
    assert all(m in first for m in codemods)  # the analysis loads them: the check below is not vacuous
    again = modules()
    assert [m for m in codemods if m in again] == []
