"""The composite GitHub Action (``action.yml``): its steps' shell commands run on a fixture repository.

Each ``run:`` of the action is executed with bash, with the ``env:`` GitHub would give it (inputs
substituted), the installed dockerfix on ``PATH`` and no network: the install step finds it there.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parent.parent
ACTION = YAML(typ="safe").load((ROOT / "action.yml").read_text(encoding="utf-8"))

pytestmark = pytest.mark.skipif(shutil.which("bash") is None or shutil.which("dockerfix") is None,
                                reason="needs bash and an installed dockerfix")


def _expand(value: str, inputs: dict[str, str], repo: Path) -> str:
    def one(m: re.Match[str]) -> str:
        expr = m.group(1).strip()
        if expr.startswith("inputs."):
            return inputs[expr.removeprefix("inputs.")]
        if expr == "github.action_path":
            return str(ROOT)
        raise AssertionError(f"unexpected expression {expr}")

    return re.sub(r"\$\{\{(.*?)\}\}", one, value)


def run_action(repo: Path, **given: str) -> tuple[int, str, dict[str, str]]:
    """Run the action's steps in ``repo``; (exit code of the failing step or 0, stdout, outputs)."""
    inputs = {name: str(spec.get("default", "")) for name, spec in ACTION["inputs"].items()}
    inputs.update({k.replace("_", "-"): v for k, v in given.items()})
    out_file = repo / ".github-output"
    out_file.write_text("")
    stdout = ""
    for step in ACTION["runs"]["steps"]:
        env = {**os.environ, "GITHUB_OUTPUT": str(out_file),
               "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
        env.update({k: _expand(str(v), inputs, repo) for k, v in step.get("env", {}).items()})
        assert step["shell"] == "bash"
        proc = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=repo, env=env, capture_output=True,
                              text=True, timeout=120)
        stdout += proc.stdout
        if proc.returncode:
            break
    outputs = dict(line.split("=", 1) for line in out_file.read_text().splitlines() if "=" in line)
    return proc.returncode, stdout, outputs


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "Dockerfile").write_text('FROM python:3.13-slim\nCMD python app.py\n')
    (tmp_path / "clean").mkdir()
    (tmp_path / "clean" / "Dockerfile").write_text('FROM python:3.13-slim\nCMD ["python", "app.py"]\n')
    return tmp_path


def test_inputs_are_the_documented_ones() -> None:
    assert {"paths", "select", "ignore", "unsafe-fixes", "fail-on-change"} <= set(ACTION["inputs"])
    assert ACTION["runs"]["using"] == "composite"


def test_annotations_and_fail_on_change(repo: Path) -> None:
    code, stdout, outputs = run_action(repo)
    assert code == 1 and outputs["exit-code"] == "1"
    assert "::warning file=app/Dockerfile,line=2,title=dockerfix/signals::" in stdout
    code, _stdout, outputs = run_action(repo, fail_on_change="false")
    assert code == 0 and outputs["exit-code"] == "1"


def test_nothing_to_change_passes(repo: Path) -> None:
    code, stdout, outputs = run_action(repo, paths="clean", select="signals")
    assert (code, outputs["exit-code"], stdout) == (0, "0", "")


def test_sarif_with_select_and_ignore(repo: Path) -> None:
    code, _stdout, outputs = run_action(repo, format="sarif", select="signals,logs", ignore="logs",
                                        fail_on_change="false")
    assert code == 0 and outputs["sarif-file"] == "dockerfix.sarif"
    doc: dict[str, Any] = json.loads((repo / "dockerfix.sarif").read_text())
    results = doc["runs"][0]["results"]
    assert results and {r["ruleId"] for r in results} == {"signals"}
    code, _stdout, _outputs = run_action(repo, format="sarif", select="nonroot", fail_on_change="false")
    rules = {r["ruleId"] for r in json.loads((repo / "dockerfix.sarif").read_text())["runs"][0]["results"]}
    assert "nonroot" in rules  # unsafe: reported as a suggestion without unsafe-fixes
    run_action(repo, format="sarif", select="nonroot", unsafe_fixes="true", fail_on_change="false")
    fixes = json.loads((repo / "dockerfix.sarif").read_text())["runs"][0]["results"]
    assert any(r["properties"].get("rewrite") for r in fixes)


def test_an_error_fails_even_without_fail_on_change(repo: Path) -> None:
    code, _stdout, outputs = run_action(repo, paths="missing/Dockerfile", fail_on_change="false")
    assert code == 2 and outputs["exit-code"] == "2"
