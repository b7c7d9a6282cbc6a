"""The ``nonroot`` codemod beyond its golden cases: the corpus with trivy and hadolint, and edges."""

from __future__ import annotations

from pathlib import Path

import dockerfile
import pytest
from codemod import assert_codemod
from corpus_files import corpus_files, read_text
from linters import hadolint, trivy_dockerfiles

from rewriter import parse
from rewriter.core.edits import Applicability
from rewriter.engine.pipeline import Status, process_text
from rewriter.facts import parse_image
from transforms._data import first_match, load
from transforms.nonroot import TRANSFORM


def _run(text: str):
    return process_text(text, transforms=[TRANSFORM], unsafe_fixes=True)


def _debian_user(uid: int = 10001, gid: int = 10001) -> str:
    """The lines the codemod adds to a Debian-family final stage."""
    return (f"RUN groupadd --system --gid {gid} app \\\n"
            f" && useradd --system --uid {uid} --gid {gid} --create-home --home-dir /home/app"
            f" --shell /usr/sbin/nologin app\nUSER {uid}:{gid}\n")


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
    assert_codemod(
        """
        FROM debian:trixie-slim
        CMD ["/app"]
        """,
        "FROM debian:trixie-slim\n" + _debian_user(4242, 4343) + 'CMD ["/app"]\n',
        transform="nonroot",
        unsafe=True,
        config={"uid": 4242, "gid": 4343},
        notes=["non-root 4242:4343"],
    )


def test_user_inserted_after_last_root_instruction_and_before_cmd() -> None:
    assert_codemod(
        """
        FROM debian:trixie-slim
        RUN apt-get update
        COPY app /app
        ENV A=1
        # start
        EXPOSE 8080
        CMD ["/app"]
        """,
        "FROM debian:trixie-slim\nRUN apt-get update\nCOPY app /app\n" + _debian_user()
        + 'ENV A=1\n# start\nEXPOSE 8080\nCMD ["/app"]\n',
        transform="nonroot",
        unsafe=True,
    )


def test_numeric_chown_uid_is_reused() -> None:
    assert_codemod(
        """
        FROM debian:trixie-slim
        COPY --chown=1001:1001 . /srv
        CMD ["/srv/app"]
        """,
        """
        FROM debian:trixie-slim
        COPY --chown=1001:1001 . /srv
        USER 1001:1001
        CMD ["/srv/app"]
        """,
        transform="nonroot",
        unsafe=True,
        notes=["the uid the Dockerfile's COPY --chown uses"],
    )


def test_dotnet_app_uid_variable_is_known() -> None:
    r = assert_codemod(
        """
        FROM mcr.microsoft.com/dotnet/aspnet:9.0
        USER $APP_UID
        ENTRYPOINT ["dotnet", "app.dll"]
        """,
        None,
        transform="nonroot",
        unsafe=True,
    )
    assert not r.notes


def test_arg_default_user_is_resolved() -> None:
    assert_codemod(
        """
        FROM debian:trixie-slim
        ARG UID=0
        USER $UID
        CMD ["/app"]
        """,
        "FROM debian:trixie-slim\nARG UID=0\n" + _debian_user() + 'CMD ["/app"]\n',
        transform="nonroot",
        unsafe=True,
    )


def test_named_user_suggestion_names_the_uid_and_is_not_applied() -> None:
    r = assert_codemod(
        """
        FROM debian:trixie-slim
        RUN useradd --uid 1234 --gid 1234 svc
        USER svc
        CMD ["/app"]
        """,
        None,
        transform="nonroot",
        unsafe=True,
        notes=["USER 1234:1234"],
    )
    assert [(f.applicability, f.message.split(":")[0]) for f in r.suggestions] == [
        (Applicability.DISPLAY_ONLY, "USER svc is a name")]
    assert "USER 1234:1234" in r.suggestions[0].message


@pytest.mark.parametrize(
    "cmd", ['CMD ["gunicorn", "--bind", "0.0.0.0:80", "app:app"]', 'CMD ["node", "server.js", "--port=443"]']
)
def test_privileged_port_in_command_refuses(cmd: str) -> None:
    r = assert_codemod(f"FROM python:3.13-slim\n{cmd}\n", None, transform="nonroot", unsafe=True,
                       notes=["which a non-root user cannot bind"])
    assert r.status == Status.REFUSED


def test_second_run_adds_no_second_user() -> None:
    """The idempotence check of assert_codemod runs the codemod over its own output."""
    assert_codemod(
        """
        FROM alpine:3.22
        RUN apk add --no-cache curl
        CMD ["curl"]
        """,
        r"""
        FROM alpine:3.22
        RUN apk add --no-cache curl
        RUN addgroup -S -g 10001 app \
         && adduser -S -D -h /home/app -s /sbin/nologin -u 10001 -G app app
        USER 10001:10001
        CMD ["curl"]
        """,
        transform="nonroot",
        unsafe=True,
    )


def test_entry_script_copied_with_the_whole_tree_into_the_workdir_is_read() -> None:
    """``WORKDIR /app`` + ``COPY . .`` + ``ENTRYPOINT ["./docker-entrypoint.sh"]``: the script that drops
    privileges is found through the copy (``.`` into the WORKDIR), so no USER is added."""
    r = assert_codemod(
        """
        FROM python:3.13-slim
        RUN useradd -u 1000 app
        WORKDIR /app
        COPY . .
        ENTRYPOINT ["./docker-entrypoint.sh"]
        CMD ["python", "app.py"]
        """,
        None,
        transform="nonroot",
        unsafe=True,
        context={"docker-entrypoint.sh": '#!/bin/sh\nchown -R app /app/data\nexec gosu app "$@"\n'},
    )
    assert any("docker-entrypoint.sh (run at start)" in n.message for n in r.notes), [n.message for n in r.notes]
