"""The ``secrets`` codemod beyond its golden cases: no secret value ever printed, corpus, edges."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import dockerfile
import pytest
from codemod import assert_codemod
from corpus_files import corpus_params, read_text
from portability import assert_portable

from rewriter import parse
from rewriter.core.edits import Applicability
from rewriter.engine.pipeline import Status, process_text
from transforms.secrets import TRANSFORM

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "secrets"
FIXTURE_VALUE = re.compile(r"[A-Za-z0-9_]*FIXTURE[A-Za-z0-9_]*")


def _run(text: str, ctx: Path | None = None, unsafe: bool = True):
    return process_text(text, context_dir=ctx, transforms=[TRANSFORM], unsafe_fixes=unsafe)


def _fixture_values(folder: Path) -> set[str]:
    values: set[str] = set()
    for p in folder.rglob("*"):
        if p.is_file():
            values |= set(FIXTURE_VALUE.findall(p.read_text(errors="replace")))
    return values


@pytest.mark.parametrize("case", sorted(p.name for p in GOLDEN.iterdir() if p.is_dir()))
@pytest.mark.parametrize("command", ["diff", "fix", "check"])
def test_no_secret_value_reaches_any_output(case: str, command: str, tmp_path: Path) -> None:
    """stdout, stderr and every file dockerfix writes are free of the fixtures' secret values."""
    work = tmp_path / case
    shutil.copytree(GOLDEN / case, work)
    for p in work.glob("expected.*"):
        p.unlink()
    values = _fixture_values(work)
    before = {p: p.read_bytes() for p in work.rglob("*") if p.is_file()}
    proc = subprocess.run([sys.executable, "-m", "rewriter.faces.cli", command, "--unsafe-fixes", "Dockerfile"],
                          cwd=work, capture_output=True, text=True, check=False)
    assert proc.returncode in {0, 1}, proc.stderr
    outputs = proc.stdout + proc.stderr
    for p in work.rglob("*"):
        if p.is_file() and before.get(p) != p.read_bytes():
            outputs += p.read_text(errors="replace")  # files dockerfix wrote or created
    leaked = sorted(v for v in values if v in outputs)
    assert not leaked, f"secret values printed or written: {len(leaked)}"


def test_every_secret_fixture_holds_a_value_the_test_looks_for() -> None:
    """The leak test above would be vacuous without fixture values in the secret files."""
    # a case whose file holds no credential by design (settings only) must stay silent instead
    cases_with_files = [c for c in GOLDEN.iterdir() if c.is_dir() and any(
        p.name in {".npmrc", ".netrc", "pip.conf", "settings.xml", "auth.json", "id_ed25519", ".env"}
        for p in c.iterdir()) and "notes: []" not in (c / "case.yaml").read_text()]
    assert len(cases_with_files) >= 6
    for case in cases_with_files:
        assert _fixture_values(case), case.name


@pytest.mark.parametrize("cf", corpus_params())
def test_corpus_outputs_parse_and_are_stable(cf) -> None:
    source = read_text(cf.path)
    for unsafe in (False, True):
        result = _run(source, unsafe=unsafe)
        assert result.status != Status.ERROR, result.error
        assert not result.internal_errors
        if result.changed:
            new = result.new_text
            dockerfile.parse_string(new)
            # no frontend image to pull: BuildKit >= 0.10 and buildah >= 1.28 know mounts without it
            assert [d.code for d in parse(new).directives] == [d.code for d in parse(source).directives]
            if not unsafe:  # a safe run never changes the build command
                assert new.count("--mount=type=secret") == source.count("--mount=type=secret")
                assert new.count("--mount=type=ssh") == source.count("--mount=type=ssh")
            assert _run(new, unsafe=unsafe).new_text == new
            assert_portable(result)


def test_other_sources_of_a_copy_are_kept() -> None:
    text = """
        FROM python:3.13-slim
        WORKDIR /app
        COPY requirements.txt .netrc ./
        RUN pip install -r requirements.txt
        """
    context = {".netrc": "machine x login a password b\n"}
    # no cleanup in the final stage: the app may read it (unsafe)
    assert_codemod(text, None, transform="secrets", context=context)
    assert_codemod(text, """
        FROM python:3.13-slim
        WORKDIR /app
        COPY requirements.txt ./
        RUN --mount=type=secret,id=netrc,target=/app/.netrc,required=true pip install -r requirements.txt
        """, transform="secrets", unsafe=True, context=context)


def test_only_runs_that_read_the_file_get_the_mount() -> None:
    assert_codemod(
        """
        FROM node:22-slim
        WORKDIR /app
        COPY .npmrc .
        RUN apt-get update
        RUN npm ci
        RUN rm .npmrc
        RUN npm run build
        """,
        """
        FROM node:22-slim
        WORKDIR /app
        RUN apt-get update
        RUN --mount=type=secret,id=npmrc,target=/app/.npmrc,required=true npm ci
        RUN npm run build
        """,
        transform="secrets",
        context={".npmrc": "//r/:_authToken=x\n"},
        unsafe=True,
        notes=["unsafe: the build command changes, build with `docker build --secret id=npmrc,src=.npmrc .`"],
    )


def test_file_not_in_context_is_an_unsafe_fix() -> None:
    r = assert_codemod(
        """
        FROM maven:3.9-eclipse-temurin-21
        COPY settings.xml /root/.m2/settings.xml
        RUN mvn -B package
        """,
        None,
        transform="secrets",
    )
    assert [f.applicability for f in r.suggestions] == [Applicability.UNSAFE]
    assert "could not be checked" in r.suggestions[0].message


def test_config_file_without_credentials_is_not_a_secret() -> None:
    r = assert_codemod(
        """
        FROM python:3.13-slim
        COPY pip.conf /etc/pip.conf
        RUN pip install flask
        """,
        None,
        transform="secrets",
        context={"pip.conf": "[global]\nindex-url = https://mirror.example.com/simple\n"},
    )
    assert not r.notes and not r.suggestions


def test_public_certificate_is_not_a_secret() -> None:
    assert_codemod(
        """
        FROM debian:trixie-slim
        COPY ca.pem /usr/local/share/ca-certificates/ca.crt
        RUN update-ca-certificates
        """,
        None,
        transform="secrets",
        context={"ca.pem": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"},
    )


def test_cleanup_inside_a_pipeline_refuses() -> None:
    r = assert_codemod(
        """
        FROM node:22-slim
        COPY .npmrc /root/.npmrc
        RUN npm ci || rm /root/.npmrc
        """,
        None,
        transform="secrets",
        context={".npmrc": "//r/:_authToken=x\n"},
        notes=["inside a pipeline or `||` chain"],
    )
    assert r.status == Status.REFUSED


def test_variable_used_at_runtime_is_only_a_suggestion() -> None:
    r = assert_codemod(
        """
        FROM python:3.13-slim
        ARG API_TOKEN
        ENV API_TOKEN=$API_TOKEN
        CMD ["python", "app.py"]
        """,
        None,
        transform="secrets",
    )
    assert any("orchestrator" in n.message for n in r.notes)


def test_secret_written_to_a_file_that_stays_refuses() -> None:
    r = assert_codemod(
        """
        FROM node:22-slim
        ARG NPM_TOKEN
        RUN echo "//r/:_authToken=$NPM_TOKEN" > /root/.npmrc
        RUN npm ci
        """,
        None,
        transform="secrets",
        notes=["writes NPM_TOKEN into /root/.npmrc, which stays in the layer"],
    )
    assert r.status == Status.REFUSED


def test_non_secret_args_are_kept_and_names_are_exact() -> None:
    text = ("FROM node:22-slim\nARG NODE_ENV=production\nARG NPM_TOKEN\nARG NPM_TOKEN_URL=https://x\n"
            "RUN npm ci --token-url $NPM_TOKEN_URL\nRUN curl -H \"Authorization: $NPM_TOKEN\" https://x\n")
    new = _run(text).new_text
    assert "ARG NODE_ENV=production\n" in new and "ARG NPM_TOKEN_URL=https://x\n" in new
    assert "ARG NPM_TOKEN\n" not in new
    runs = [i for i in parse(new).instructions if i.keyword == "RUN"]
    # an ARG without a default was empty without --build-arg: the mount is not required (same without it)
    assert runs[0].mounts == [] and runs[1].mounts == [{"type": "secret", "id": "npm_token"}]


def test_no_syntax_directive_is_added_and_the_file_own_directives_stay() -> None:
    """BuildKit >= 0.10 and buildah >= 1.28 know mounts without a frontend image: a `# syntax` line
    would make BuildKit pull one, which air-gapped builders cannot (issue 22)."""
    r = assert_codemod(
        "\ufeff# escape=\\\nFROM node:22-slim\nARG NPM_TOKEN\nRUN npm ci\n",
        "\ufeff# escape=\\\nFROM node:22-slim\n"
        'RUN --mount=type=secret,id=npm_token export NPM_TOKEN="$(cat /run/secrets/npm_token)"'
        " && npm ci\n",
        transform="secrets",
        unsafe=True,
    )
    assert [d.name for d in parse(r.new_text).directives] == ["escape"]


def test_a_safe_run_never_changes_the_build_command() -> None:
    """A mount needs --secret: a safe run reports it with the command it will need and changes nothing
    (the CI that runs `docker build --build-arg NPM_TOKEN=…` keeps working)."""
    r = assert_codemod("FROM node:22-slim\nARG NPM_TOKEN\nRUN npm ci\n", None, transform="secrets",
                       notes=["build with `docker build --secret id=npm_token,env=NPM_TOKEN .`"])
    assert [f.applicability.label for f in r.suggestions] == ["unsafe"]


def test_a_secret_with_a_default_stays_required() -> None:
    new = _run("FROM node:22-slim\nARG NPM_TOKEN=dev-token\nRUN npm ci\n").new_text
    assert "--mount=type=secret,id=npm_token,required=true " in new


def test_windows_stages_are_left_alone() -> None:
    assert_codemod(
        """
        FROM mcr.microsoft.com/dotnet/framework/sdk:4.8.1
        COPY NuGet.config .
        RUN nuget restore
        """,
        None,
        transform="secrets",
        context={"NuGet.config": "<configuration><ClearTextPassword>x</ClearTextPassword></configuration>"},
    )


def test_json_report_lists_build_secrets_without_values(tmp_path: Path) -> None:
    import json

    work = tmp_path / "case"
    shutil.copytree(GOLDEN / "pip-netrc", work)
    proc = subprocess.run([sys.executable, "-m", "rewriter.faces.cli", "check", "--select", "secrets",
                           "--unsafe-fixes", "--format", "json",
                           "Dockerfile"], cwd=work, capture_output=True, text=True, check=False)
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    assert doc["files"][0]["build_secrets"] == [{"type": "secret", "id": "netrc", "src": ".netrc"}]
    assert "NETRC_FIXTURE_PW_31337" not in proc.stdout + proc.stderr
    text = subprocess.run([sys.executable, "-m", "rewriter.faces.cli", "check", "--select", "secrets",
                           "--unsafe-fixes", "Dockerfile"],
                          cwd=work, capture_output=True, text=True, check=False).stderr
    assert "build it now with: docker build --secret id=netrc,src=.netrc ." in text


def test_compose_with_two_services_and_two_secrets_is_wired_once_each(tmp_path: Path) -> None:
    (tmp_path / ".npmrc").write_text("//r/:_authToken=x\n")
    (tmp_path / "compose.yaml").write_text(
        "services:\n  web:\n    build: .\n  worker:\n    build:\n      context: .\n      dockerfile: Dockerfile\n")
    text = "FROM node:22-slim\nARG NPM_TOKEN\nCOPY .npmrc /root/.npmrc\nRUN npm ci\nRUN rm /root/.npmrc\n"
    (tmp_path / "Dockerfile").write_text(text)
    r = _run(text, tmp_path)
    compose = r.side_files["compose.yaml"][1]
    from ruamel.yaml import YAML

    doc = YAML(typ="safe").load(compose)
    assert sorted(doc["services"]["web"]["build"]["secrets"]) == ["npm_token", "npmrc"]
    assert sorted(doc["services"]["worker"]["build"]["secrets"]) == ["npm_token", "npmrc"]
    assert doc["secrets"] == {"npmrc": {"file": ".npmrc"}, "npm_token": {"environment": "NPM_TOKEN"}}
    assert "+    build:\n" in r.diff() and "compose.yaml" in r.diff()


def test_variable_named_in_a_run_without_dollar_is_a_use() -> None:
    text = ("FROM python:3.13-slim\nARG API_TOKEN\n"
            "RUN python -c \"import os; print(len(os.environ['API_TOKEN']))\"\n")
    runs = [i for i in parse(_run(text).new_text).instructions if i.keyword == "RUN"]
    assert runs[0].mounts == [{"type": "secret", "id": "api_token"}]


def test_unused_secret_arg_is_removed_as_an_unsafe_fix() -> None:
    """An ARG no step uses still lands in the history of every later RUN: removed (unsafe)."""
    text = "FROM python:3.13-slim\nARG API_TOKEN\nRUN echo hello\n"
    r = assert_codemod(text, None, transform="secrets")
    assert any("no step uses it" in f.message for f in r.suggestions)
    assert_codemod(text, "FROM python:3.13-slim\nRUN echo hello\n", transform="secrets", unsafe=True)
    # a RUN that runs a script may read it: only a note
    r = assert_codemod(text.replace("RUN echo hello", "RUN ./build.sh"), None, transform="secrets", unsafe=True)
    assert any("runs code that may read it" in n.message for n in r.notes)


def test_literal_secret_env_in_the_final_stage_is_removed_as_an_unsafe_fix() -> None:
    r = assert_codemod(
        """
        FROM python:3.13-slim
        ENV DB_PASSWORD=hunter2
        CMD ["python", "app.py"]
        """,
        """
        FROM python:3.13-slim
        CMD ["python", "app.py"]
        """,
        transform="secrets",
        unsafe=True,
    )
    assert any("orchestrator" in f.message and "hunter2" not in f.message for f in r.fixes)
    from_arg = 'FROM python:3.13-slim\nARG X\nENV DB_PASSWORD=$X\nCMD ["python", "app.py"]\n'
    assert_codemod(from_arg, None, transform="secrets", unsafe=True)  # the app may read it: a note only


def test_a_script_reading_a_mounted_variable_gets_the_mount_too() -> None:
    text = ("FROM node:22\nARG NPM_TOKEN\nRUN echo \"//r/:_authToken=${NPM_TOKEN}\" > .npmrc && npm ci && rm .npmrc\n"
            "RUN ./scripts/postinstall.sh\nRUN echo done\n")
    lines = _run(text).new_text.splitlines()
    assert any(ln.startswith("RUN --mount=type=secret,id=npm_token") and "postinstall" in ln for ln in lines)
    assert "RUN echo done" in lines


def test_a_script_run_between_copy_and_cleanup_gets_the_mount() -> None:
    """pip.conf read by `sh install-deps.sh`: the script may read it, so it gets the mount; the COPY is
    never removed without a RUN that gets the mount."""
    context = {"pip.conf": "[global]\nindex-url = https://u:FIXTURE_pw@pypi.internal/simple\n"}
    text = """
        FROM python:3.13-slim
        WORKDIR /app
        COPY pip.conf /etc/pip.conf
        RUN apt-get update
        RUN sh install-deps.sh
        RUN rm /etc/pip.conf
        CMD ["python", "app.py"]
        """
    assert_codemod(text, """
        FROM python:3.13-slim
        WORKDIR /app
        RUN apt-get update
        RUN --mount=type=secret,id=pipconf,target=/etc/pip.conf,required=true sh install-deps.sh
        CMD ["python", "app.py"]
        """, transform="secrets", context=context, unsafe=True)
    only_utils = text.replace("RUN sh install-deps.sh\n", "RUN mkdir -p /data\n")
    r = assert_codemod(only_utils, None, transform="secrets", context=context)
    assert any("no RUN in between reads it" in n.message for n in r.notes)


def test_the_folder_a_removed_copy_created_is_kept() -> None:
    context = {"id_rsa": "-----BEGIN OPENSSH PRIVATE KEY-----\nFIXTURE_k\n"}
    text = """
        FROM debian:trixie-slim AS deps
        COPY id_rsa /root/.ssh/id_rsa
        RUN ssh-keyscan example.com >> /root/.ssh/known_hosts
        RUN git clone git@example.com:a/b.git /b
        FROM debian:trixie-slim
        COPY --from=deps /b /b
        """
    after = """
        FROM debian:trixie-slim AS deps
        RUN mkdir -p /root/.ssh
        RUN ssh-keyscan example.com >> /root/.ssh/known_hosts
        RUN --mount=type=ssh git clone git@example.com:a/b.git /b
        FROM debian:trixie-slim
        COPY --from=deps /b /b
        """
    assert_codemod(text, after, transform="secrets", context=context, unsafe=True)
    # a folder the Dockerfile already makes is not made twice
    made = text.replace("AS deps\n", "AS deps\n        RUN mkdir -p /root/.ssh\n")
    assert_codemod(made, after, transform="secrets", context=context, unsafe=True)
