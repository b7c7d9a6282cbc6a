"""The pre-commit hooks, run by pre-commit itself in temporary git repositories.

Two ways: ``repo: local`` hooks made from ``.pre-commit-hooks.yaml`` with ``language: system`` and
this interpreter (offline, always run), and the manifest as published (``language: python``:
pre-commit builds its own virtualenv and pip-installs a committed copy of this project; needs the
package index, skipped when it cannot be reached).
"""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / ".pre-commit-hooks.yaml"
PRE_COMMIT = [sys.executable, "-m", "pre_commit"]

NEEDS_FIX = "FROM python:3.12-slim\nCOPY app.py /app/\nUSER 10001\nCMD python app.py\n"


def _env(tmp: Path, home: Path | None = None) -> dict[str, str]:
    gitconfig = tmp / "gitconfig"
    gitconfig.touch()
    env = dict(os.environ)
    env.update({
        "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
        "GIT_CONFIG_GLOBAL": str(gitconfig), "GIT_CONFIG_NOSYSTEM": "1",
        "PRE_COMMIT_HOME": str(home or tmp / "pre-commit-home"), "PRE_COMMIT_COLOR": "never",
    })
    env.pop("NO_COLOR", None)
    return env


def _run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: int = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def _git(repo: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return _run(["git", *args], repo, env)


def _manifest() -> dict[str, dict]:
    return {h["id"]: dict(h) for h in YAML(typ="safe").load(MANIFEST.read_text())}


def _local_hook(hook_id: str, args: list[str] | None = None) -> dict:
    """A manifest hook as a ``repo: local`` hook run by this interpreter (``language: system``)."""
    hook = _manifest()[hook_id]
    words = shlex.split(hook["entry"])
    if words[0] == "dockerfix":
        words[:1] = [sys.executable, "-m", "rewriter.faces.cli"]
    elif words[0] == "python":
        words[0] = sys.executable
    hook.update(language="system", entry=shlex.join(words))
    if args:
        hook["args"] = args
    return hook


def _repo(tmp: Path, env: dict[str, str], config: dict, files: dict[str, str]) -> Path:
    repo = tmp / "work"
    repo.mkdir()
    assert _git(repo, env, "init", "-q").returncode == 0
    with (repo / ".pre-commit-config.yaml").open("w") as fh:
        YAML().dump(config, fh)
    for name, text in files.items():
        (repo / name).write_text(text)
    proc = _run([*PRE_COMMIT, "install"], repo, env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return repo


def _commit(repo: Path, env: dict[str, str], *paths: str, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    """``git add PATHS && git commit``: the installed hook runs; its output (stderr too) in ``stdout``."""
    assert _git(repo, env, "add", *paths).returncode == 0
    return subprocess.run(["git", "commit", "-q", "-m", "change"], cwd=repo, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=timeout)


def _commits(repo: Path, env: dict[str, str]) -> int:
    proc = _git(repo, env, "rev-list", "--count", "HEAD")
    return int(proc.stdout) if proc.returncode == 0 else 0


def test_manifest_is_valid() -> None:
    proc = subprocess.run([*PRE_COMMIT, "validate-manifest", str(MANIFEST)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    hooks = _manifest()
    assert set(hooks) == {"dockerfix-check", "dockerfix-fix"}
    for hook in hooks.values():
        assert hook["language"] == "python"
        assert hook["types"] == ["dockerfile"]


def test_fix_hook_fails_the_commit_then_the_next_commit_passes(tmp_path: Path) -> None:
    env = _env(tmp_path)
    config = {"repos": [{"repo": "local", "hooks": [_local_hook("dockerfix-fix")]}]}
    repo = _repo(tmp_path, env, config, {"Dockerfile": NEEDS_FIX, "app.py": "print('hi')\n"})
    first = _commit(repo, env, ".")
    assert first.returncode != 0, first.stdout
    assert "dockerfix (fix)" in first.stdout and "Failed" in first.stdout
    assert "files were rewritten" in first.stdout
    assert _commits(repo, env) == 0
    fixed = (repo / "Dockerfile").read_text()
    assert 'CMD ["python", "app.py"]' in fixed
    second = _commit(repo, env, "Dockerfile")
    assert second.returncode == 0, second.stdout
    assert "dockerfix (fix)" in second.stdout and "Passed" in second.stdout
    assert _commits(repo, env) == 1
    assert (repo / "Dockerfile").read_text() == fixed


def test_fix_hook_fails_when_only_a_new_side_file_is_written(tmp_path: Path) -> None:
    """``COPY . .`` with a secret in the context: only ``.dockerignore`` is created, which
    pre-commit's own check (``git diff``) does not see; the hook's exit code stops the commit."""
    env = _env(tmp_path)
    # the .dockerignore exclusion is an unsafe fix (npm ci may read the copied .npmrc)
    config = {"repos": [{"repo": "local", "hooks": [_local_hook("dockerfix-fix",
                                                                ["--select", "secrets", "--unsafe-fixes"])]}]}
    dockerfile = "FROM node:22-slim\nWORKDIR /app\nCOPY . .\nRUN npm ci\n"
    repo = _repo(tmp_path, env, config, {"Dockerfile": dockerfile, ".npmrc": "//r/:_authToken=x\n"})
    first = _commit(repo, env, "Dockerfile", ".pre-commit-config.yaml")
    assert first.returncode != 0, first.stdout
    assert (repo / "Dockerfile").read_text() == dockerfile
    assert ".npmrc" in (repo / ".dockerignore").read_text().splitlines()
    assert _commits(repo, env) == 0
    second = _commit(repo, env, ".dockerignore")
    assert second.returncode == 0, second.stdout
    assert _commits(repo, env) == 1


def test_check_hook_fails_and_changes_nothing(tmp_path: Path) -> None:
    env = _env(tmp_path)
    config = {"repos": [{"repo": "local", "hooks": [_local_hook("dockerfix-check")]}]}
    repo = _repo(tmp_path, env, config, {"Dockerfile": NEEDS_FIX})
    first = _commit(repo, env, ".")
    assert first.returncode != 0
    assert "dockerfix (check)" in first.stdout and "Failed" in first.stdout
    assert (repo / "Dockerfile").read_text() == NEEDS_FIX
    fix = _run([sys.executable, "-m", "rewriter.faces.cli", "fix", "Dockerfile"], repo, env)
    assert fix.returncode == 0, fix.stderr
    second = _commit(repo, env, "Dockerfile")
    assert second.returncode == 0, second.stdout
    assert _commits(repo, env) == 1


# ---- the manifest as published: language python, installed by pre-commit ---------------------


def _index_reachable() -> bool:
    url = os.environ.get("PIP_INDEX_URL") or "https://pypi.org/simple"
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "pypi.org", parsed.port or 443), timeout=5):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, Path]:
    """A committed copy of this project (pre-commit clones a commit; the work tree may be unsaved)
    and a pre-commit home shared by the tests of this module, so the hook env is built once."""
    if not _index_reachable():
        pytest.skip("the package index cannot be reached: pre-commit cannot install the hook environment")
    base = tmp_path_factory.mktemp("published")
    env = _env(base)
    copy = base / "dockerfix"
    copy.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("rewriter", "transforms"):
        shutil.copytree(ROOT / name, copy / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml"):
        shutil.copy2(ROOT / name, copy / name)
    assert _git(copy, env, "init", "-q").returncode == 0
    assert _git(copy, env, "add", "-A").returncode == 0
    assert _git(copy, env, "commit", "-q", "-m", "snapshot").returncode == 0
    rev = _git(copy, env, "rev-parse", "HEAD").stdout.strip()
    return copy, rev, base / "pre-commit-home"


def test_published_fix_hook(published: tuple[Path, str, Path], tmp_path: Path) -> None:
    copy, rev, home = published
    env = _env(tmp_path, home)
    config = {"repos": [{"repo": str(copy), "rev": rev, "hooks": [{"id": "dockerfix-fix"}]}]}
    repo = _repo(tmp_path, env, config, {"Dockerfile": NEEDS_FIX})
    first = _commit(repo, env, ".", timeout=600)
    assert first.returncode != 0, first.stdout
    assert "dockerfix (fix)" in first.stdout and "Failed" in first.stdout
    assert 'CMD ["python", "app.py"]' in (repo / "Dockerfile").read_text()
    second = _commit(repo, env, "Dockerfile", timeout=600)
    assert second.returncode == 0, second.stdout
    assert _commits(repo, env) == 1


def test_try_repo_check(published: tuple[Path, str, Path], tmp_path: Path) -> None:
    copy, _rev, home = published
    env = _env(tmp_path, home)
    repo = tmp_path / "work"
    repo.mkdir()
    assert _git(repo, env, "init", "-q").returncode == 0
    (repo / "Dockerfile").write_text(NEEDS_FIX)
    assert _git(repo, env, "add", "Dockerfile").returncode == 0
    proc = _run([*PRE_COMMIT, "try-repo", str(copy), "dockerfix-check", "--files", "Dockerfile"], repo, env,
                timeout=600)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "dockerfix (check)" in proc.stdout and "Failed" in proc.stdout
    assert (repo / "Dockerfile").read_text() == NEEDS_FIX
