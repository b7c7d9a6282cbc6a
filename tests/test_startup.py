"""Start-up cost (issue 25): what ``dockerfix check`` imports, and the parsed-table cache.

The import budget is checked by the list of modules a run loads, not by a timer: a timed unit test on
a shared 2-core machine either flakes or proves nothing (``bench/`` measures time).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_tables import tables_reading_as

import transforms._data as data_module

ROOT = Path(__file__).resolve().parent.parent

#: off the hot path of ``check`` on a file that needs none of them (the CLI framework included: the
#: common command lines are read by rewriter.faces.fastargs)
HEAVY = ("typer", "click", "subprocess",
         "ruamel", "tree_sitter", "tree_sitter_bash", "rich", "pygls", "lsprotocol", "unidiff", "packaging", "pydantic",
         "pathspec", "multiprocessing", "concurrent.futures", "tomllib",
         "rewriter.proof", "rewriter.faces.lsp", "rewriter.faces.suggest", "rewriter.sidefiles.callsites")

PROBE = """
import json, sys
sys.argv = ["dockerfix", "check", *sys.argv[1:]]
from rewriter.faces import cli
try:
    cli.main()
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def _modules(tmp_path: Path, text: str, cache: Path) -> tuple[list[str], str]:
    path = tmp_path / "Dockerfile"
    path.write_text(text)
    env = {**os.environ, "DOCKERFIX_CACHE_DIR": str(cache)}
    proc = subprocess.run([sys.executable, "-c", PROBE, str(path)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    return json.loads(proc.stderr.strip().splitlines()[-1]), proc.stdout


def _heavy(modules: list[str]) -> list[str]:
    return [m for m in modules if m.startswith(HEAVY) and (m in HEAVY or m.startswith(tuple(h + "." for h in HEAVY)))]


def test_check_on_a_plain_file_imports_no_heavy_module_once_tables_are_cached(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first, _ = _modules(tmp_path, "FROM scratch\nCOPY app /app\n", cache)
    assert any(m.startswith("ruamel") for m in first), "a cold cache parses the YAML tables"
    assert list((cache / "tables").glob("*.json")), "and keeps them"
    second, _ = _modules(tmp_path, "FROM scratch\nCOPY app /app\n", cache)
    assert _heavy(second) == []


def test_toml_is_read_when_the_project_has_a_pyproject_config(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.dockerfix]\nignore = ["logs"]\n')
    modules, _ = _modules(tmp_path, "FROM scratch\nCOPY app /app\n", tmp_path / "cache")
    assert "tomllib" in modules  # the lazy import is real: the budget above is not vacuous


def test_a_run_builds_only_the_command_it_invokes() -> None:
    from rewriter.faces import app as cli

    one = cli._only_invoked(["dockerfix", "check", "Dockerfile"])
    assert [cli._command_name(c) for c in one.registered_commands] == ["check"]
    assert one.registered_callback is cli.app.registered_callback  # -V/--version still work
    assert len(cli.app.registered_commands) > 5  # the whole app is untouched
    for argv in (["dockerfix"], ["dockerfix", "--help"], ["dockerfix", "chek"], ["dockerfix", "-V"]):
        assert cli._only_invoked(argv) is cli.app  # help lists every command; a typo gets suggestions


def test_a_single_command_app_parses_and_reports_like_the_whole_one(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text("FROM scratch\n")
    run = [sys.executable, "-m", "rewriter.faces.cli"]
    ok = subprocess.run([*run, "check", "--quiet", str(path)], cwd=ROOT, capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stderr
    bad = subprocess.run([*run, "check", "--bogus", str(path)], cwd=ROOT, capture_output=True, text=True, check=False)
    assert bad.returncode == 2 and "No such option: --bogus" in bad.stderr
    typo = subprocess.run([*run, "chek", str(path)], cwd=ROOT, capture_output=True, text=True, check=False)
    assert typo.returncode == 2 and "Did you mean 'check'" in typo.stderr
    helped = subprocess.run([*run, "migrate", "--help"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert helped.returncode == 0 and "Usage: " in helped.stdout and "migrate" in helped.stdout


def test_shell_parsing_is_loaded_when_a_file_has_a_run_line(tmp_path: Path) -> None:
    modules, _ = _modules(tmp_path, "FROM debian:12\nRUN apt-get update && apt-get install -y curl\n",
                          tmp_path / "cache")
    assert "tree_sitter" in modules  # the lazy import is real: the check above is not vacuous
    # the grammar is loaded from its compiled binding: the package's __init__ would import
    # importlib.resources, and with it tempfile, shutil, bz2, lzma and random, in every batch worker
    assert "tree_sitter_bash._binding" in modules
    assert not [m for m in modules if m in {"tree_sitter_bash", "tempfile", "importlib.resources"}]


def test_the_grammar_falls_back_to_the_package_import(monkeypatch: pytest.MonkeyPatch) -> None:
    """An installation where the binding cannot be found on its own still gets the grammar."""
    from importlib.machinery import PathFinder

    import tree_sitter_bash  # noqa: F401  (imported ahead: the finder is broken below)
    from tree_sitter import Language, Parser

    from rewriter.core import shell

    monkeypatch.delitem(sys.modules, "tree_sitter_bash._binding")
    monkeypatch.setattr(PathFinder, "find_spec", classmethod(lambda cls, name, path=None, target=None: None))
    tree = Parser(Language(shell._bash_language())).parse(b"apt-get update && apt-get install -y curl")
    assert tree.root_node.type == "program" and not tree.root_node.has_error


@pytest.fixture
def fresh_tables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DOCKERFIX_CACHE_DIR", str(tmp_path))
    data_module._raw.cache_clear()
    yield tmp_path
    data_module._raw.cache_clear()


def test_a_cached_table_equals_the_parsed_one_dates_included(fresh_tables: Path) -> None:
    parsed = data_module._raw("runtimes")
    files = list((fresh_tables / "tables").glob("runtimes-*.json"))
    assert len(files) == 1
    data_module._raw.cache_clear()
    assert data_module._raw("runtimes") == parsed  # served from the JSON, dates decoded as dates


def test_an_edited_table_is_never_served_stale(fresh_tables: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data_module._raw("users")
    original = (ROOT / "transforms" / "data" / "users.yaml").read_text(encoding="utf-8")
    edited = original.replace("uid: 1654", "uid: app", 1)
    assert edited != original

    monkeypatch.setattr(data_module, "_table_text", tables_reading_as(edited))
    data_module._raw.cache_clear()
    with pytest.raises(data_module.TableError):
        data_module._raw("users")  # the damaged text is parsed and checked, not the cached good one


def test_a_damaged_cache_file_is_ignored_and_caching_can_be_turned_off(
        fresh_tables: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    good = data_module._raw("logs")
    (cached,) = (fresh_tables / "tables").glob("logs-*.json")
    cached.write_text("{not json")
    data_module._raw.cache_clear()
    assert data_module._raw("logs") == good
    monkeypatch.setenv("DOCKERFIX_CACHE_DIR", "")
    assert data_module.cache_folder() is None


SECRET_COPY = ('FROM node:20\nWORKDIR /app\nCOPY .npmrc package.json ./\nRUN npm ci\nCOPY . .\n'
               'CMD ["node", "app.js"]\n')


def _secret_project(tmp_path: Path) -> None:
    (tmp_path / ".npmrc").write_text("//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n")
    (tmp_path / "package.json").write_text('{"name": "app"}\n')


def test_a_secret_fix_loads_no_yaml_library_without_a_compose_or_ci_file(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _secret_project(tmp_path)
    _modules(tmp_path, "FROM scratch\n", cache)  # the tables are cached
    modules, _ = _modules(tmp_path, SECRET_COPY, cache)
    assert "transforms.secrets.files" in modules and "rewriter.sidefiles.callsites" in modules  # it did run
    assert not [m for m in modules if m.startswith(("ruamel", "rewriter.sidefiles.compose"))]
    (tmp_path / "compose.yaml").write_text("services:\n  app:\n    build: .\n")
    modules, _ = _modules(tmp_path, SECRET_COPY, cache)
    assert "rewriter.sidefiles.compose" in modules and "ruamel.yaml" in modules  # and is loaded when needed


def test_every_kind_of_call_site_file_has_a_rewriter() -> None:
    from rewriter.sidefiles import callsites

    source = Path(callsites.__file__).read_text(encoding="utf-8")
    kinds = {kind for _name, kind in callsites.NAMES} | set(re.findall(r'add\([^,]+, "([a-z-]+)"', source))
    assert {"workflow", "script", "makefile", "skaffold"} <= kinds
    assert kinds == set(callsites.HANDLERS)
    for kind in kinds:
        assert callable(callsites._handler(kind))


def test_a_batch_run_forks_its_workers_without_loading_multiprocessing(tmp_path: Path) -> None:
    for i in range(12):  # enough files for worker processes
        (tmp_path / f"s{i:02d}").mkdir()
        (tmp_path / f"s{i:02d}" / "Dockerfile").write_text("FROM debian:12\nCMD tail -f /var/log/app.log\n")
    env = {**os.environ, "DOCKERFIX_CACHE_DIR": str(tmp_path / "cache")}
    probe = PROBE.replace('"check", *sys.argv[1:]', '"check", "--jobs", "2", "--no-cache", *sys.argv[1:]')
    proc = subprocess.run([sys.executable, "-c", probe, str(tmp_path)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    modules = json.loads(proc.stderr.strip().splitlines()[-1])
    assert "12 file(s) would be rewritten" in proc.stderr
    assert "rewriter.engine.forkpool" in modules
    assert not [m for m in modules if m.startswith(("multiprocessing", "concurrent.futures", "subprocess"))]


# --------------------------------------------------------------------------------------------------
# the end of a run: the console script leaves without tearing the interpreter down (cli.leave)

EXIT_PROBE = """
import atexit, sys
class Teardown:
    def __del__(self):
        sys.stderr.write("torn down\\n")
keep = Teardown()  # freed only when the interpreter tears the modules down
atexit.register(lambda: sys.stderr.write("atexit ran\\n"))
sys.stdout.write("buffered")  # no newline into a pipe: held until the exit flushes it
if sys.argv[1] == "thread":  # only then is threading loaded (a check alone does not load it)
    import threading, time
    threading.Thread(target=lambda: (time.sleep(0.3), sys.stderr.write("thread done\\n"))).start()
sys.argv = ["dockerfix", "check", "--quiet", *sys.argv[2:]]
from rewriter.faces import cli
cli.entry()
"""


def _end(tmp_path: Path, mode: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DOCKERFIX_CACHE_DIR": str(tmp_path / "cache")}
    return subprocess.run([sys.executable, "-c", EXIT_PROBE, mode, *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize(("text", "code"), [("FROM scratch\n", 0), ("FROM python:3.12\nCMD python app.py\n", 1),
                                            (None, 2)])
def test_a_run_ends_without_teardown_keeping_its_exit_code_output_and_atexit(tmp_path: Path, text: str | None,
                                                                               code: int) -> None:
    path = tmp_path / "Dockerfile"
    if text is not None:
        path.write_text(text)
    proc = _end(tmp_path, "plain", str(path))
    assert proc.returncode == code, proc.stderr
    assert proc.stdout == "buffered"  # flushed before the process ended
    assert "atexit ran" in proc.stderr  # the atexit functions ran (the dataclass code cache is saved there)
    assert "torn down" not in proc.stderr  # and the interpreter was not torn down


def test_a_live_thread_gets_the_normal_exit(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    proc = _end(tmp_path, "thread", str(tmp_path / "Dockerfile"))
    assert proc.returncode == 0, proc.stderr
    assert "thread done" in proc.stderr and "torn down" in proc.stderr  # the interpreter waited for it


class _Exited(Exception):
    pass


def _fake_exit(code: int) -> None:
    raise _Exited(code)


def test_leave_falls_back_to_the_interpreters_exit(monkeypatch: pytest.MonkeyPatch) -> None:
    import atexit
    import errno
    import threading

    from rewriter.faces import cli

    ran: list[int] = []
    monkeypatch.setattr(os, "_exit", _fake_exit)
    monkeypatch.setattr(atexit, "_run_exitfuncs", lambda: ran.append(1))  # not this test process's own
    monkeypatch.setattr(threading, "active_count", lambda: 1)  # other tests may leave threads behind
    for code, status in ((None, 0), (0, 0), (1, 1), (130, 130)):
        with pytest.raises(_Exited) as ended:
            cli.leave(code)
        assert ended.value.args == (status,)
    assert ran == [1, 1, 1, 1]
    monkeypatch.setattr(threading, "active_count", lambda: 2)
    with pytest.raises(SystemExit) as stop:  # another thread alive: the interpreter waits for it
        cli.leave(1)
    assert stop.value.code == 1 and ran == [1, 1, 1, 1]
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    with pytest.raises(SystemExit) as stop:  # a message: Python prints it and exits 1
        cli.leave("dockerfix: bad")
    assert stop.value.code == "dockerfix: bad"

    class Closed:
        def write(self, _text: str) -> int:
            raise BrokenPipeError(errno.EPIPE, "Broken pipe")

        def flush(self) -> None:
            raise BrokenPipeError(errno.EPIPE, "Broken pipe")

    monkeypatch.setattr(sys, "stdout", Closed())
    with pytest.raises(SystemExit) as stop:  # a flush that fails: the interpreter reports it (status 120)
        cli.leave(0)
    assert stop.value.code == 0


GC_PROBE = """
import atexit, gc, sys
atexit.register(lambda: sys.stderr.write(f"collector on: {gc.isenabled()}\\n"))
sys.argv = ["dockerfix", *sys.argv[1:]]
from rewriter.faces import cli
cli.entry()
"""


@pytest.mark.parametrize(("args", "enabled"), [(["check", "--quiet", "Dockerfile"], False), (["list"], True)])
def test_file_commands_hold_the_collector_off_and_the_others_run_with_it(tmp_path: Path, args: list[str],
                                                                          enabled: bool) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    env = {**os.environ, "DOCKERFIX_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.run([sys.executable, "-c", GC_PROBE, *args], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert f"collector on: {enabled}" in proc.stderr


@pytest.fixture
def gc_restored() -> None:
    import gc

    from rewriter.core import collector

    was_on = gc.isenabled()
    yield
    collector._state.update(held=False, left=0)
    if was_on:
        gc.enable()
    else:
        gc.disable()


def test_the_collector_comes_back_after_the_held_files_and_only_if_it_was_held(gc_restored: None, tmp_path: Path,
                                                                                ) -> None:
    import gc

    from rewriter.core import collector
    from rewriter.engine.batch import Job, Settings, process_chunk

    for i in range(3):
        (tmp_path / f"{i}.Dockerfile").write_text("FROM scratch\n")
    jobs = [Job(str(p), p.name) for p in sorted(tmp_path.glob("*.Dockerfile"))]
    collector.hold(4)
    process_chunk(Settings(mode="check", messages=False), jobs)  # each analysed file counts
    assert not gc.isenabled()
    process_chunk(Settings(mode="check", messages=False), jobs[:1])
    assert gc.isenabled()  # the 4th file turned it back on
    gc.disable()  # off by someone else: neither a file nor release() turns it on
    collector.file_done()
    collector.release()
    assert not gc.isenabled()
    collector.hold()
    collector.release()
    assert gc.isenabled()
