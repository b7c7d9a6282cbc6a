"""The facts layer (``rewriter/facts``): one model of the file that every codemod reads.

Unit tests of the scopes (WORKDIR, ENV/ARG, USER by BuildKit's rules), the RUN view (program seen
through wrappers, package calls, code we cannot read), and the defects that separate readers had:
each codemod test below fails on the code before the facts layer.
"""

from __future__ import annotations

import os
from pathlib import Path
from textwrap import dedent

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rewriter.core.shell import parse_shell
from rewriter.core.syntax import parse
from rewriter.engine.pipeline import process_text
from rewriter.facts import Context, Facts, inside
from rewriter.facts.commands import package_call, program, runs_unknown_code
from rewriter.facts.scope import expand
from transforms import load


def _facts(text: str) -> Facts:
    return Facts(parse(dedent(text)))


def _inst(facts: Facts, keyword: str, nth: int = 0):
    return [i for i in facts.tree.instructions if i.keyword == keyword][nth]


# --------------------------------------------------------------------------- scopes


@pytest.mark.parametrize(
    ("text", "values", "want"),
    [
        ("/app", {}, "/app"),
        ('"/my app"', {}, "/my app"),
        ("'$HOME'", {}, "$HOME"),
        ("$APP/src", {"APP": "/srv"}, "/srv/src"),
        ("${APP}/src", {"APP": "/srv"}, "/srv/src"),
        ("${APP:-/opt}", {"APP": ""}, "/opt"),
        ("${APP:+/set}", {"APP": "x"}, "/set"),
        ("\\$APP", {}, "$APP"),
        ("$UNKNOWN/x", {}, None),
        ("${UNKNOWN:-/d}", {}, None),  # the base image may set it: not guessed
        ("${APP%/*}", {"APP": "/a/b"}, None),
        ("$NODEFAULT", {"NODEFAULT": None}, None),
    ],
)
def test_expand(text: str, values: dict, want: str | None) -> None:
    assert expand(text, values) == want


def test_workdir_per_instruction_relative_and_quoted() -> None:
    f = _facts("""\
        FROM debian:13
        RUN true
        WORKDIR "/app"
        WORKDIR src/
        RUN make
        """)
    assert f.workdir_at(_inst(f, "RUN", 0)) == "/"
    assert f.workdir_at(_inst(f, "RUN", 1)) == "/app/src"
    assert f.app_workdir(f.tree.stages[0]) == "/app/src"


def test_workdir_from_env_arg_and_unknown_variables() -> None:
    f = _facts("""\
        ARG BASE=/opt
        FROM debian:13
        ARG BASE
        ENV APP_HOME=$BASE/app
        WORKDIR $APP_HOME
        RUN a
        WORKDIR $HOME/x
        RUN b
        WORKDIR sub
        RUN c
        WORKDIR /abs
        RUN d
        """)
    assert f.workdir_at(_inst(f, "RUN", 0)) == "/opt/app"
    assert f.workdir_at(_inst(f, "RUN", 1)) is None  # $HOME is the base image's: unknown
    assert f.workdir_at(_inst(f, "RUN", 2)) is None  # relative to an unknown folder
    assert f.workdir_at(_inst(f, "RUN", 3)) == "/abs"


def test_global_arg_only_in_scope_when_declared_again() -> None:
    f = _facts("""\
        ARG DIR=/g
        FROM debian:13
        WORKDIR $DIR
        FROM debian:13
        ARG DIR
        WORKDIR $DIR
        """)
    assert f.app_workdir(f.tree.stages[0]) is None
    assert f.app_workdir(f.tree.stages[1]) == "/g"


def test_stage_inherits_from_its_parent_only() -> None:
    f = _facts("""\
        FROM node:22 AS base
        WORKDIR /app
        ENV NODE_ENV=production
        USER node
        FROM base AS dev
        RUN npm ci
        FROM python:3.13 AS other
        RUN pip install x
        """)
    _base, dev, other = f.tree.stages
    assert [s.index for s in f.chain(dev)] == [0, 1]
    assert f.workdir_at(_inst(f, "RUN", 0)) == "/app"
    assert f.before(_inst(f, "RUN", 0)).env["NODE_ENV"] == "production"
    assert f.final(dev).user == "node"
    assert f.workdir_at(_inst(f, "RUN", 1)) == "/"  # an unrelated stage starts at the image's default
    assert f.app_workdir(other) is None
    assert f.final(other).user is None


def test_env_forms_and_same_instruction_values() -> None:
    f = _facts("""\
        FROM debian:13
        ENV A=1
        ENV A=2 B=$A
        ENV LEGACY some value here
        ARG A=arg
        RUN x
        """)
    scope = f.before(_inst(f, "RUN"))
    assert scope.env["B"] == "1"  # every pair of one ENV sees the values from before it (BuildKit)
    assert scope.env["LEGACY"] == "some value here"
    assert scope.values["A"] == "2"  # ENV wins over an ARG of the same name


def test_context_copies_take_each_stage_own_workdir() -> None:
    f = _facts("""\
        FROM node:22 AS web
        WORKDIR /web
        COPY package.json pkg.json
        FROM python:3.13
        COPY app.py main.py
        """)
    dests = [c.dest for c in f.context_copies(f.tree.stages)]
    assert dests == ["/web/pkg.json", "/main.py"]  # not /web/main.py: the second stage is unrelated


def test_context_copies_are_kept_per_stage_and_equal_a_fresh_reading() -> None:
    f = _facts("""\
        FROM node:22 AS web
        WORKDIR /web
        COPY package.json pkg.json
        COPY --from=other /x /y
        FROM web
        COPY a b ./
        FROM python:3.13
        COPY app.py main.py
        """)
    stages = f.tree.stages
    first = list(f.context_copies(stages))
    assert list(f.context_copies(stages)) == first  # a generator each time, never an exhausted one
    assert [c.dest for c in f.context_copies(stages[1:2])] == ["/web"]  # the stage's own, WORKDIR inherited
    assert first == [c for st in stages for c in f._stage_context_copies(st)]


# --------------------------------------------------------------------------- commands


@pytest.mark.parametrize(
    ("line", "prog"),
    [("sudo -E apt-get install -y x", "apt-get"), ("env DEBIAN_FRONTEND=noninteractive apt-get install x", "apt-get"),
     ("exec gunicorn app", "gunicorn"), ("nice -n 5 make", "make"), ("$CMD run", "")],
)
def test_program_through_wrappers(line: str, prog: str) -> None:
    assert program(parse_shell(line).commands[0]) == prog


def test_package_calls() -> None:
    call = package_call(parse_shell("sudo apt-get -o Dpkg::Options::=--force-confold install -y "
                                    "--no-install-recommends libpq-dev=15.* gcc").commands[0])
    assert call is not None and call.family == "apt" and call.subcommand == "install"
    assert call.packages == ["libpq-dev", "gcc"]
    apk = package_call(parse_shell("apk add --no-cache --virtual .build-deps musl-dev>1.2 gcc").commands[0])
    assert apk is not None and apk.option("--virtual") == ".build-deps" and apk.packages == ["musl-dev", "gcc"]
    pip = package_call(parse_shell("python3 -m pip install -r requirements.txt flask").commands[0])
    assert pip is not None and pip.family == "pip" and pip.packages == ["flask"]


def test_package_calls_of_a_script_are_kept_and_equal_a_fresh_reading() -> None:
    from rewriter.facts import commands

    script = parse_shell("apt-get update && echo hi && sudo apt-get install -y curl | tee log; pip install x")
    calls = commands.package_calls(script)
    assert [(c.index, c.family, c.subcommand) for c in calls] == [(0, "apt", "update"), (2, "apt", "install"),
                                                                 (4, "pip", "install")]
    assert commands.package_calls(script) is calls  # kept: every round and codemod asks again
    other = parse_shell.__wrapped__(script.text)  # an equal script, another object: answered on its own
    assert commands.package_calls(other) == calls and commands.package_calls(other)[0].cmd is other.commands[0]


@pytest.mark.parametrize(
    ("line", "unknown"),
    [("./configure", True), ("sh build.sh", True), ("bash -e setup", True), ("make", True),
     ("python setup.py install", True), ("node build.js", True), ("sh -c 'echo hi'", False),
     ("bash -ec 'echo hi'", False), ("node -e 'x'", False), ("apt-get install x", False), ("/opt/setup.sh", True)],
)
def test_runs_unknown_code(line: str, unknown: bool) -> None:
    assert runs_unknown_code(parse_shell(line).commands[0]) is unknown


def test_facts_are_computed_once_per_context() -> None:
    tree = parse("FROM debian:13\nRUN true\n")
    ctx = Context(tree, None, None)
    assert ctx.facts is ctx.facts
    assert ctx.facts.runs.run(tree.instructions[1]) is ctx.facts.runs.run(tree.instructions[1])


# --------------------------------------------------------------------------- defects of the separate readers


def _run(text: str, tid: str, unsafe: bool = True) -> str:
    result = process_text(dedent(text), transforms=[load(tid)], unsafe_fixes=unsafe)
    assert not result.internal_errors
    return result.new_text


def test_multistage_resolves_the_build_output_in_the_build_workdir() -> None:
    out = _run("""\
        FROM golang:1.24
        WORKDIR /src
        COPY . .
        RUN go build -o server .
        WORKDIR /app
        CMD ["/src/server"]
        """, "multistage")
    # before: `-o server` was resolved against the last WORKDIR (/app): "not the binary the build produces"
    assert "COPY --from=build /src/server /src/server" in out
    assert 'CMD ["/src/server"]' in out and "WORKDIR /app" in out  # CMD stays CMD, run where it ran


def test_nonroot_gives_the_user_the_folder_made_in_the_workdir_of_its_run() -> None:
    out = _run("""\
        FROM python:3.13-slim
        WORKDIR /app
        RUN mkdir data
        WORKDIR /srv
        COPY . .
        CMD ["python", "app.py"]
        """, "nonroot")
    assert "chown -R 10001:10001 /app/data" in out
    assert "/srv/data" not in out


def test_samefamily_sees_apt_get_through_sudo() -> None:
    out = _run("""\
        FROM python:3.12
        WORKDIR /app
        RUN sudo apt-get update && sudo apt-get install -y libpq-dev
        COPY requirements.txt .
        RUN pip install -r requirements.txt
        COPY . .
        CMD ["sh", "-c", "python app.py"]
        """, "multistage")
    # the same-family runtime installs the runtime library of the -dev package installed through sudo
    assert "FROM python:3.12-slim" in out
    assert "libpq5" in out


def test_logs_keeps_a_start_line_that_needs_the_shell() -> None:
    text = "FROM python:3.13-slim\nCMD gunicorn -b 0.0.0.0:$PORT --log-file /tmp/g.log app:app\n"
    out = _run(text, "logs", unsafe=False)
    assert '"0.0.0.0:$PORT"' not in out  # never exec form with a literal $PORT
    assert "--log-file -" in out and "$PORT" in out


@pytest.mark.parametrize(
    "command",
    ["gunicorn -b 0.0.0.0:${PORT:-8000} --log-file /tmp/g.log app:app",
     "celery -A proj worker --concurrency=$WORKERS --logfile=/var/log/celery.log"],
)
def test_logs_keeps_expansions_in_a_users_sh_c(command: str) -> None:
    import json

    text = f"FROM python:3.13-slim\nCMD {json.dumps(['sh', '-c', command])}\n"
    out = _run(text, "logs", unsafe=False)
    argv = json.loads(out.splitlines()[-1].removeprefix("CMD "))
    assert argv[:2] == ["sh", "-c"] and "$" in argv[2] and "/log" not in argv[2]


def test_start_in_effect_follows_buildkit() -> None:
    f = _facts("""\
        FROM node:22 AS base
        CMD ["node", "a.js"]
        FROM base AS with_ep
        ENTRYPOINT ["tini", "--"]
        FROM base AS both
        CMD ["node", "b.js"]
        ENTRYPOINT ["tini", "--"]
        FROM base AS inherits
        RUN true
        """)
    base, with_ep, both, inherits = f.tree.stages
    assert f.start(with_ep).cmd is None  # an ENTRYPOINT clears the inherited CMD
    assert f.start(both).cmd is not None and f.start(both).cmd.exec_args == ("node", "b.js")
    assert f.start(inherits).texts() == ["node a.js"]
    assert f.start(base).entrypoint is None


@pytest.mark.parametrize(
    ("argv", "text"),
    [(["sh", "-c", "x"], "x"), (["/bin/bash", "-ec", "y", "arg0"], "y"), (["bash", "script.sh"], None),
     (["python", "-c", "x"], None), (["sh", "--", "x"], None)],
)
def test_shell_c(argv: list[str], text: str | None) -> None:
    from rewriter.facts.start import shell_c

    assert shell_c(argv) == text


def test_shell_in_force_is_inherited_from_the_parent_stage() -> None:
    f = _facts("""\
        FROM mcr.microsoft.com/powershell AS base
        SHELL ["pwsh", "-Command"]
        FROM base
        CMD Write-Host hi
        """)
    from rewriter.facts.start import is_posix_shell

    assert not is_posix_shell(f.shell(f.tree.stages[1]))
    # signals leaves a stage alone whose inherited SHELL is not POSIX (it read only the stage's own SHELL)
    out = _run(f.tree.code, "signals", unsafe=False)
    assert out == f.tree.code


@pytest.mark.parametrize(
    ("text", "family", "shell", "ca", "entrypoint"),
    [
        ("FROM node:22\nRUN true\n", "debian", True, True, "docker-entrypoint.sh"),
        ("FROM node:22-slim\nRUN true\n", "debian", True, False, "docker-entrypoint.sh"),
        ("FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled\nCOPY app /app\n", "distroless", False, False,
         None),
        ("FROM registry.example.com/base:1\nRUN sudo apt-get install -y curl\n", "debian", True, False, None),
        ("FROM redis:8 AS db\nFROM db\nRUN true\n", None, True, False, "docker-entrypoint.sh"),
        ("FROM registry.example.com/base:1\nRUN true\n", None, True, False, None),
    ],
)
def test_base_image_facts(text: str, family: str | None, shell: bool, ca: bool, entrypoint: str | None) -> None:
    tree = parse(text)
    base = Context(tree, None, None).base_image(tree.stages[-1])
    assert (base.family, base.has_shell, base.ca_certificates) == (family, shell, ca)
    assert (base.entrypoint or {}).get("entrypoint") == entrypoint


def test_copy_source_is_an_earlier_stage_only() -> None:
    f = _facts("""\
        FROM golang:1.24 AS build
        RUN go build -o /out/app
        FROM scratch
        COPY --from=build /out/app /app
        COPY --from=alpine:3 /etc/ssl /etc/ssl
        COPY app.conf /etc/app.conf
        """)
    copies = [i for i in f.tree.instructions if i.keyword == "COPY"]
    assert [s.name if s else None for s in map(f.copy_source, copies)] == ["build", None, None]


def test_a_stage_from_an_official_image_starts_in_that_images_workdir() -> None:
    ctx = Context(parse("ARG GO=1.24\nFROM golang:${GO} AS build\nCOPY . .\nRUN go build -o app .\n"
                        "FROM build AS again\nRUN ls\nFROM debian:13\nCOPY x .\n"
                        "FROM php:8.4-apache\nCOPY src/ .\n"), None, None)
    copies = [i for i in ctx.tree.instructions if i.keyword in {"COPY", "RUN"}]
    assert [ctx.facts.workdir_at(i) for i in copies] == ["/go", "/go", "/go", "/", "/var/www/html"]
    assert ctx.facts.app_workdir(ctx.tree.stages[0]) is None  # the Dockerfile set none itself
    assert Facts(ctx.tree).workdir_at(copies[0]) == "/"  # without the table (no context): the root


# --------------------------------------------------------------------------------------------------
# inside(): the fast walk answers like resolving the whole path (issue 25 made it cheaper)


def _inside_by_full_resolution(context_dir: Path, rel: str) -> Path | None:
    base = context_dir.resolve()
    target = Path(os.path.realpath(base / rel))  # Path.resolve() raises on a symlink loop (the old code did)
    if target != base and base not in target.parents:
        return None
    return target


@pytest.fixture(scope="module")
def linked_context(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A context with folders, files, and symlinks that stay inside, leave it, loop and dangle."""
    root = tmp_path_factory.mktemp("inside")
    outside = root / "outside"
    ctx = root / "ctx"
    (outside / "secret").mkdir(parents=True)
    (outside / "secret" / "key").write_text("x")
    (ctx / "app" / "src").mkdir(parents=True)
    (ctx / "app" / "src" / "main.py").write_text("x")
    (ctx / "app" / "package.json").write_text("{}")
    (ctx / "in").symlink_to("app")
    (ctx / "app" / "up").symlink_to("..")
    (ctx / "out").symlink_to(outside / "secret")
    (ctx / "app" / "abs-in").symlink_to(ctx / "app" / "src")
    (ctx / "loop").symlink_to("loop")
    (ctx / "dangling").symlink_to("nowhere/at/all")
    (ctx / "via").symlink_to("in/up/out")
    return ctx


_PARTS = st.sampled_from(["app", "src", "main.py", "package.json", "in", "up", "out", "abs-in", "loop",
                          "dangling", "via", "key", "missing", "..", ".", ""])


@settings(max_examples=400, deadline=None)
@given(parts=st.lists(_PARTS, max_size=5), absolute=st.booleans())
def test_inside_answers_like_resolving_the_whole_path(linked_context: Path, parts: list[str],
                                                      absolute: bool) -> None:
    rel = "/".join(parts)
    if absolute:
        rel = str(linked_context / rel)
    assert inside(linked_context, rel) == _inside_by_full_resolution(linked_context, rel)


def test_inside_refuses_what_leaves_the_context(linked_context: Path) -> None:
    assert inside(linked_context, "out/key") is None  # through a symlink
    assert inside(linked_context, "../outside/secret/key") is None
    assert inside(linked_context, "/etc/passwd") is None
    assert inside(linked_context, "in/src/main.py") == linked_context.resolve() / "app" / "src" / "main.py"
    assert inside(None, "app") is None
    assert inside(linked_context, "loop/x") is not None and not inside(linked_context, "loop/x").exists()
