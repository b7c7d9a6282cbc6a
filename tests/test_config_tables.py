"""Configuration that reaches the codemods: table additions and the build context."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from rewriter.engine.config import ConfigError, load_file
from rewriter.engine.pipeline import process_text
from transforms import load


def _cfg(tmp_path: Path, text: str):
    (tmp_path / ".dockerfix.yaml").write_text(text)
    cfg = load_file(tmp_path / ".dockerfix.yaml")
    assert cfg is not None
    return cfg


def test_secret_file_table_is_extended_by_configuration(tmp_path: Path) -> None:
    (tmp_path / ".mytoolrc").write_text("token=abc\n")
    text = "FROM debian:trixie-slim\nCOPY .mytoolrc /root/.mytoolrc\nRUN mytool fetch\nRUN rm /root/.mytoolrc\n"
    plain = process_text(text, context_dir=tmp_path, transforms=[load("secrets")], unsafe_fixes=True)
    assert not plain.changed
    cfg = _cfg(tmp_path, "tables:\n  secrets:\n    files:\n"
                         "      - {pattern: .mytoolrc, id: mytoolrc, used_by: [mytool]}\n")
    r = process_text(text, context_dir=tmp_path, transforms=[load("secrets")], config=cfg, unsafe_fixes=True)
    assert "--mount=type=secret,id=mytoolrc,target=/root/.mytoolrc,required=true mytool fetch" in r.new_text
    assert "COPY .mytoolrc" not in r.new_text


def test_secret_variable_patterns_are_extended_by_configuration(tmp_path: Path) -> None:
    text = "FROM debian:trixie-slim\nARG CORP_LICENSE\nRUN install-it --license $CORP_LICENSE\n"
    assert not process_text(text, transforms=[load("secrets")], unsafe_fixes=True).changed
    cfg = _cfg(tmp_path, "tables:\n  secrets:\n    variable_patterns: ['*LICENSE*']\n")
    r = process_text(text, transforms=[load("secrets")], config=cfg, unsafe_fixes=True)
    assert "ARG CORP_LICENSE" not in r.new_text and "id=corp_license" in r.new_text


def test_log_env_names_are_extended_by_configuration(tmp_path: Path) -> None:
    text = "FROM debian:trixie-slim\nENV AUDIT_TRAIL=/var/log/audit.log\nCMD [\"/app\"]\n"
    assert not process_text(text, transforms=[load("logs")]).changed
    cfg = _cfg(tmp_path, "tables:\n  logs:\n    env_names: ['AUDIT_TRAIL']\n")
    assert "ENV AUDIT_TRAIL=/dev/stdout" in process_text(text, transforms=[load("logs")], config=cfg).new_text


@pytest.mark.parametrize("bad", ["tables: [1]\n", "tables: {secrets: 3}\n", "context: 7\n", "context: nowhere\n"])
def test_invalid_tables_or_context_name_the_file(tmp_path: Path, bad: str) -> None:
    (tmp_path / ".dockerfix.yaml").write_text(bad)
    with pytest.raises(ConfigError, match=r"\.dockerfix\.yaml"):
        load_file(tmp_path / ".dockerfix.yaml")


def test_context_from_configuration_is_used_for_side_files(tmp_path: Path) -> None:
    """The script lives at the repository root (the build context); the Dockerfile in docker/."""
    (tmp_path / "docker").mkdir()
    (tmp_path / "start.sh").write_text("#!/bin/sh\n./server\n")
    (tmp_path / "docker" / "Dockerfile").write_text(
        'FROM debian:trixie-slim\nCOPY start.sh /start.sh\nENTRYPOINT ["/start.sh"]\n')
    run = [sys.executable, "-m", "rewriter.faces.cli", "diff", "--select", "signals", "docker/Dockerfile"]
    before = subprocess.run(run, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert "start.sh" not in before.stdout  # context = docker/: the script is not found
    (tmp_path / "docker" / ".dockerfix.yaml").write_text("context: ..\n")
    after = subprocess.run(run, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert "+exec ./server" in after.stdout, after.stderr


def test_runtimes_table_is_extended_by_configuration(tmp_path: Path) -> None:
    """`tables: runtimes` reaches multistage (it was validated and ignored): a console script the
    configuration names runs as `python3 -m MODULE` on distroless instead of the same-family runtime."""
    text = 'FROM python:3.13\nWORKDIR /app\nCOPY . .\nRUN pip install .\nCMD ["mycli", "serve"]\n'
    plain = process_text(text, transforms=[load("multistage")], unsafe_fixes=True)
    assert "FROM python:3.13-slim" in plain.new_text and 'CMD ["mycli", "serve"]' in plain.new_text
    cfg = _cfg(tmp_path, "tables:\n  runtimes:\n    python_modules: {mycli: mycli.main}\n")
    r = process_text(text, transforms=[load("multistage")], unsafe_fixes=True, config=cfg)
    assert 'ENTRYPOINT []\nCMD ["/usr/bin/python3", "-m", "mycli.main", "serve"]' in r.new_text
    assert "distroless" in r.new_text
