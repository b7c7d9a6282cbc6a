"""The fast parse of ``fix``/``diff``/``check`` (rewriter.faces.fastargs) against typer's.

Every command line the fast parse accepts must give exactly the options typer gives (typer's parse
is the reference: it is what users' other command lines meet), its tables must name exactly the
options typer declares, and a run must exit as typer's standalone mode does.
"""

from __future__ import annotations

import errno
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from hypothesis import given, settings
from hypothesis import strategies as st

from rewriter.faces import app as app_module
from rewriter.faces import cli, fastargs, filerun
from rewriter.faces.filerun import FileOptions, Mode


def _command(name: str) -> Any:
    return typer.main.get_command(app_module._only_invoked(["dockerfix", name])).commands[name]


COMMANDS = {name: _command(name) for name in fastargs.COMMANDS}


def _typer_parse(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> tuple[Mode, FileOptions] | str:
    """What typer passes to ``run`` for ``argv``, or the name of the error it raised."""
    seen: list[tuple[Mode, FileOptions]] = []

    def fake_run(mode: Mode, options: FileOptions) -> int:
        seen.append((mode, options))
        return 0

    monkeypatch.setattr(app_module, "run", fake_run)
    group = typer.main.get_command(app_module._only_invoked(["dockerfix", *argv]))
    try:
        code = group.main(args=argv, prog_name="dockerfix", standalone_mode=False)
    except Exception as exc:  # click's usage errors
        return type(exc).__name__
    assert code == 0 and len(seen) == 1
    return seen[0]


def test_the_tables_name_exactly_the_options_typer_declares() -> None:
    for name, command in COMMANDS.items():
        declared: dict[str, str] = {}
        for param in command.params:
            if param.param_type_name == "argument":
                assert param.name == "paths" and param.nargs == -1
                continue
            if param.name == "help":
                continue
            kind = "flag" if param.is_flag else "repeated" if param.multiple else "value"
            for opt in [*param.opts, *param.secondary_opts]:
                declared[opt] = f"{kind}:{param.name}"
        ours = {**{k: f"flag:{v}" for k, v in fastargs.FLAGS.items()},
                **{k: f"value:{v}" for k, v in fastargs.VALUES.items()},
                **{k: f"repeated:{v}" for k, v in fastargs.REPEATED.items()}}
        assert ours == declared, name


PATHS = st.sampled_from(["Dockerfile", "-", "app/Dockerfile", "x=y", "Dockerfile.prod", "./a b", "", "é/Dockerfile"])
GOOD_VALUES = st.sampled_from(["a,b", "secrets", "json", "text", "1", "2", "07", "1/2", "ctx", "out.json",
                               "a=b", "**/vendor/"])
ODD_VALUES = st.sampled_from(["0", "+3", " 3", "", "-", "--quiet", "-q"])
VALUES = st.one_of(GOOD_VALUES, GOOD_VALUES, GOOD_VALUES, ODD_VALUES)  # mostly lines the fast parse takes
BAD = st.sampled_from(["-j=1", "-q=", "--help", "--", "--bogus", "-x", "-qj2", "-j2", "--quiet=1", "--no-cache=yes",
                       "--version", "-V", "--unsafe-fixes=", "--jobs=", "--select="])


@st.composite
def command_lines(draw: st.DrawFn) -> list[str]:
    argv = [draw(st.sampled_from(sorted(fastargs.COMMANDS)))]
    for _ in range(draw(st.integers(0, 7))):
        kind = draw(st.sampled_from(["path", "flag", "value", "value=", "repeated"] * 3 + ["bad"]))
        if kind == "path":
            argv.append(draw(PATHS))
        elif kind == "flag":
            argv.append(draw(st.sampled_from(sorted(fastargs.FLAGS))))
        elif kind == "bad":
            argv.append(draw(BAD))
        else:
            table = fastargs.REPEATED if kind == "repeated" else fastargs.VALUES
            opt, value = draw(st.sampled_from(sorted(table))), draw(VALUES)
            argv.extend([f"{opt}={value}"] if kind == "value=" else [opt, value])
    if draw(st.integers(0, 9)):  # mostly with a path somewhere (a line without one is a usage error)
        argv.insert(draw(st.integers(1, len(argv))), draw(PATHS))
    return argv


@settings(max_examples=400, deadline=None)
@given(argv=command_lines())
def test_every_line_the_fast_parse_accepts_gives_typers_options(argv: list[str]) -> None:
    fast = fastargs.parse(argv)
    if fast is None:
        return  # typer parses it: nothing to compare
    with pytest.MonkeyPatch.context() as mp:
        assert _typer_parse(argv, mp) == fast, argv


COMMON = [
    ["check", "Dockerfile"],
    ["check", "--quiet", "Dockerfile", "docker/Dockerfile.prod"],
    ["fix", "-q", "Dockerfile"],
    ["diff", "--select", "secrets,logs", "--no-cache", "."],
    ["check", "--format=json", "--output", "report.json", "--jobs", "2", "repos/"],
    ["check", "-j", "4", "--exclude", "vendor/", "--exclude=third_party/", "--extend-exclude", "x/", "."],
    ["fix", "--unsafe-fixes", "--context", "app", "--stdin-filename", "app/Dockerfile", "-"],
    ["check", "--shard", "1/4", "--summary", "--ignore", "upgrade", "--format", "github", "."],
]


@pytest.mark.parametrize("argv", COMMON, ids=" ".join)
def test_the_common_lines_skip_typer_and_parse_as_typer_does(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    fast = fastargs.parse(argv)
    assert fast is not None
    assert _typer_parse(argv, monkeypatch) == fast


@pytest.mark.parametrize("argv", [["check"], ["check", "--help"], ["lint", "Dockerfile"], ["--version"],
                                  ["check", "--jobs", "0", "D"], ["check", "--", "-D"], []], ids=str)
def test_help_errors_and_other_commands_go_to_typer(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    assert fastargs.parse(argv) is None


def test_a_shell_completion_request_goes_to_typer(monkeypatch: pytest.MonkeyPatch) -> None:
    assert fastargs.parse(["check", "Dockerfile"]) is not None
    monkeypatch.setenv("_DOCKERFIX_COMPLETE", "bash_complete")
    assert fastargs.parse(["check", "Dockerfile"]) is None


def _raise(exc: BaseException) -> Any:
    def fake_run(mode: Mode, options: FileOptions) -> int:
        if isinstance(exc, OSError) and exc.errno == errno.EPIPE:
            sys.stdout = _Closed()  # what a closed pipe leaves behind
        raise exc

    return fake_run


class _Closed:
    def write(self, _text: str) -> int:
        raise BrokenPipeError(errno.EPIPE, "Broken pipe")

    def flush(self) -> None:
        raise BrokenPipeError(errno.EPIPE, "Broken pipe")


def _main(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[Any, str]:
    saved_out, saved_argv = sys.stdout, sys.argv
    sys.argv = ["dockerfix", *argv]
    try:
        with pytest.raises(SystemExit) as stop:
            cli.main()
        sys.stdout.flush()  # a pacified stream swallows the closed pipe
    finally:
        sys.stdout, sys.argv = saved_out, saved_argv
    return stop.value.code, capsys.readouterr().err


@pytest.mark.parametrize("exc", [KeyboardInterrupt(), EOFError(), BrokenPipeError(errno.EPIPE, "Broken pipe"),
                                 ValueError("boom"), OSError(errno.EACCES, "denied")], ids=repr)
def test_a_run_ends_as_under_typer(exc: BaseException, capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fastargs, "run", _raise(exc))
    monkeypatch.setattr(app_module, "run", _raise(exc))
    fast = _main(["check", "Dockerfile"], capsys)
    slow = _main(["check", "--select=", "Dockerfile"], capsys)  # an empty value: the fast parse declines
    assert fast == slow


@pytest.mark.parametrize("code", [0, 1, 2, 130])
def test_the_exit_code_is_runs(code: int, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fastargs, "run", lambda mode, options: code)
    assert _main(["check", "Dockerfile"], capsys) == (code, "")


def test_a_real_check_runs_through_the_fast_parse(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "Dockerfile").write_text("FROM python:3.12\nCMD python app.py\n")
    calls: list[Mode] = []

    def spy(mode: Mode, options: FileOptions) -> int:
        calls.append(mode)
        return filerun.run(mode, options)

    monkeypatch.setattr(fastargs, "run", spy)
    monkeypatch.setattr(app_module, "run", lambda *a: pytest.fail("typer parsed a common line"))
    code, err = _main(["check", "--no-cache", str(tmp_path / "Dockerfile")], capsys)
    assert calls == [Mode.CHECK] and code == 1 and "would be rewritten" in err
