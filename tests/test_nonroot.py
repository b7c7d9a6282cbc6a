"""The ``nonroot`` codemod beyond its golden cases: the corpus with trivy and hadolint, and edges."""

from __future__ import annotations

from pathlib import Path

import dockerfile
import pytest
from corpus_files import corpus_files, read_text
from linters import hadolint, trivy_dockerfiles

from rewriter import parse
from rewriter.config import Config
from rewriter.edits import Applicability
from rewriter.facts import parse_image
from rewriter.pipeline import Status, process_text
from transforms._data import first_match, load
from transforms.nonroot import TRANSFORM


def _run(text: str, ctx: Path | None = None, config: Config | None = None):
    return process_text(text, context_dir=ctx, transforms=[TRANSFORM], config=config, unsafe_fixes=True)


@pytest.fixture(scope="module")
def corpus_results() -> dict[str, tuple[str, object]]:
    out = {}
    for cf in corpus_files():
        if cf.path is None:
            continue
        out[cf.rel] = (read_text(cf.path), _run(read_text(cf.path)))
    return out


def test_corpus_changed_files_no_longer_run_as_root(corpus_results, tmp_path: Path) -> None:
    """trivy DS-0002 and hadolint DL3002 do not fire on any file the codemod changed; all parse."""
    changed = {rel: r for rel, (_s, r) in corpus_results.items() if r.changed}
    assert len(changed) >= 40, "the codemod should apply to most root-running corpus files"
    for rel, r in changed.items():
        target = tmp_path / rel.replace("/", "__")
        target.write_text(r.new_text, encoding="utf-8", newline="")
        dockerfile.parse_string(r.new_text)
        assert _run(r.new_text).new_text == r.new_text, f"{rel}: not idempotent"
        assert not [f for f in hadolint(r.new_text) if f["code"] == "DL3002"], rel
    findings = trivy_dockerfiles(tmp_path)
    root = sorted(t for t, ms in findings.items() if any(m["ID"] in {"DS-0002", "DS002"} for m in ms))
    assert root == []


def test_corpus_untouched_files_are_explained(corpus_results) -> None:
    """Every corpus file the codemod leaves running as root got a note saying why."""
    for rel, (source, r) in corpus_results.items():
        assert r.status != Status.ERROR, (rel, r.error)
        if r.changed:
            continue
        final = parse(source).final_stage
        users = [i.arguments.strip() for i in final.instructions if i.keyword == "USER"]
        runs_as_root = not users or users[-1].split(":")[0] in {"root", "0"}
        if runs_as_root and r.status == Status.UNCHANGED and not r.notes:
            # silent only when the image's default user is known to be unprivileged
            tree = parse(source)
            base = final.base
            while tree.stage_named(base) is not None and tree.stage_named(base).index < final.index:
                base = tree.stage_named(base).base
            row = first_match(load("users")["existing_users"], parse_image(base))
            assert row is not None and row["default"], (rel, base)


def test_uid_and_gid_come_from_configuration() -> None:
    r = _run("FROM debian:trixie-slim\nCMD [\"/app\"]\n", config=Config(uid=4242, gid=4343))
    assert r.new_text.splitlines()[-2] == "USER 4242:4343"
    assert "useradd --system --uid 4242 --gid 4343" in r.new_text


def test_user_inserted_after_last_root_instruction_and_before_cmd() -> None:
    text = ("FROM debian:trixie-slim\nRUN apt-get update\nCOPY app /app\nENV A=1\n# start\n"
            "EXPOSE 8080\nCMD [\"/app\"]\n")
    lines = _run(text).new_text.splitlines()
    assert lines[2] == "COPY app /app" and lines[3].startswith("RUN groupadd")
    assert lines[5] == "USER 10001:10001" and lines[6] == "ENV A=1"
    assert lines[-1] == 'CMD ["/app"]'


def test_numeric_chown_uid_is_reused() -> None:
    r = _run("FROM debian:trixie-slim\nCOPY --chown=1001:1001 . /srv\nCMD [\"/srv/app\"]\n")
    assert "USER 1001:1001" in r.new_text
    assert "useradd" not in r.new_text


def test_dotnet_app_uid_variable_is_known() -> None:
    text = "FROM mcr.microsoft.com/dotnet/aspnet:9.0\nUSER $APP_UID\nENTRYPOINT [\"dotnet\", \"app.dll\"]\n"
    r = _run(text)
    assert r.new_text == text and not r.notes


def test_arg_default_user_is_resolved() -> None:
    text = "FROM debian:trixie-slim\nARG UID=0\nUSER $UID\nCMD [\"/app\"]\n"
    assert "USER 10001:10001" in _run(text).new_text


def test_named_user_suggestion_names_the_uid_and_is_not_applied() -> None:
    text = "FROM debian:trixie-slim\nRUN useradd --uid 1234 --gid 1234 svc\nUSER svc\nCMD [\"/app\"]\n"
    r = _run(text)
    assert r.new_text == text
    assert [(f.applicability, f.message.split(":")[0]) for f in r.suggestions] == [
        (Applicability.DISPLAY_ONLY, "USER svc is a name")]
    assert "USER 1234:1234" in r.suggestions[0].message


@pytest.mark.parametrize(
    "cmd", ['CMD ["gunicorn", "--bind", "0.0.0.0:80", "app:app"]', 'CMD ["node", "server.js", "--port=443"]']
)
def test_privileged_port_in_command_refuses(cmd: str) -> None:
    r = _run(f"FROM python:3.13-slim\n{cmd}\n")
    assert not r.changed and r.status == Status.REFUSED


def test_second_run_adds_no_second_user() -> None:
    once = _run("FROM alpine:3.22\nRUN apk add --no-cache curl\nCMD [\"curl\"]\n").new_text
    assert once.count("USER ") == 1 and once.count("adduser") == 1
    assert _run(once).new_text == once


def test_entry_script_copied_with_the_whole_tree_into_the_workdir_is_read(tmp_path: Path) -> None:
    """``WORKDIR /app`` + ``COPY . .`` + ``ENTRYPOINT ["./docker-entrypoint.sh"]``: the script that drops
    privileges is found through the copy (``.`` into the WORKDIR), so no USER is added."""
    (tmp_path / "docker-entrypoint.sh").write_text('#!/bin/sh\nchown -R app /app/data\nexec gosu app "$@"\n')
    text = ('FROM python:3.13-slim\nRUN useradd -u 1000 app\nWORKDIR /app\nCOPY . .\n'
            'ENTRYPOINT ["./docker-entrypoint.sh"]\nCMD ["python", "app.py"]\n')
    r = _run(text, tmp_path)
    assert r.new_text == text
    assert any("docker-entrypoint.sh (run at start)" in n.message for n in r.notes), [n.message for n in r.notes]
