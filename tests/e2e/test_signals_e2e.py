"""signals, end to end: the legacy image ignores SIGTERM; dockerfix's rewrite shuts down gracefully.

Each case builds the ORIGINAL Dockerfile with buildah and shows the problem is real (``/bin/sh -c``
is PID 1, SIGTERM never reaches the app, ``podman stop -t 3`` waits out the timeout and kills it),
then runs ``dockerfix fix`` on a copy, builds the REWRITTEN files and shows the app now gets SIGTERM:
it logs "graceful shutdown", exits 0, and the stop takes well under the timeout.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from e2e_support import APPS, Engine

pytestmark = pytest.mark.e2e

STOP_TIMEOUT = 3  # seconds podman waits after SIGTERM before SIGKILL
GRACEFUL = "graceful shutdown"


@dataclass(frozen=True)
class Case:
    id: str
    app: str  # folder under apps/ with the Dockerfile (and side files)
    changed: tuple[str, ...]  # files dockerfix must change
    expect: tuple[tuple[str, str], ...]  # (file, text it must contain after the rewrite)
    shared: tuple[str, ...] = ()  # files from other app folders (relative to apps/) copied into the context


CASES = [
    Case("shell-form-cmd", "py-signal", ("Dockerfile",), (("Dockerfile", 'CMD ["python", "app.py"]'),)),
    Case(
        "entrypoint-script",
        "py-signal-entrypoint",
        ("start.sh",),
        (("start.sh", "exec python /app/app.py\n"),),
        shared=("py-signal/app.py",),
    ),
    # node:22's ENTRYPOINT docker-entrypoint.sh execs the CMD: `/bin/sh -c "node server.js"` is PID 1
    Case("node-shell-form-cmd", "node-signal", ("Dockerfile",), (("Dockerfile", 'CMD ["node", "server.js"]'),)),
]


def _context(tmp_path: Path, case: Case) -> Path:
    ctx = tmp_path / case.id
    shutil.copytree(APPS / case.app, ctx)
    for rel in case.shared:
        shutil.copy2(APPS / rel, ctx / Path(rel).name)
    return ctx


def _bases(dockerfile: Path) -> list[str]:
    """The fully qualified images a Dockerfile starts FROM (not its own stages)."""
    bases, stages = [], set()
    for line in dockerfile.read_text().splitlines():
        words = line.split()
        if len(words) >= 2 and words[0].upper() == "FROM":
            image = next(w for w in words[1:] if not w.startswith("--"))
            if image not in stages and image != "scratch":
                bases.append(_qualified(image))
            if len(words) >= 4 and words[-2].upper() == "AS":
                stages.add(words[-1])
    return bases


def _qualified(image: str) -> str:
    """``python:3.13-slim`` -> ``docker.io/library/python:3.13-slim`` (how the image store names it)."""
    first, _, rest = image.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return image
    return f"docker.io/{image}" if rest else f"docker.io/library/{image}"


def _dockerfix(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rewriter.faces.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _stop_run(engine: Engine, tag: str) -> tuple[float, str, dict[str, str]]:
    """Start ``tag``, wait for "ready", ``podman stop -t 3``: (seconds the stop took, logs, final state)."""
    cid = engine.start(tag)
    engine.wait_for_log(cid, "ready")
    elapsed = engine.stop(cid, timeout=STOP_TIMEOUT)
    return elapsed, engine.logs(cid), engine.state(cid)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_rewrite_makes_shutdown_graceful(case: Case, engine: Engine, tmp_path: Path) -> None:
    engine.images.require(*_bases(APPS / case.app / "Dockerfile"))
    ctx = _context(tmp_path, case)
    before = {p.name: p.read_bytes() for p in ctx.iterdir() if p.is_file()}

    # 1. the original: the shell is PID 1 and swallows SIGTERM -> killed after the timeout
    legacy = engine.tag("legacy")
    engine.build(ctx, legacy)
    elapsed, logs, state = _stop_run(engine, legacy)
    assert GRACEFUL not in logs, f"the legacy image already shuts down gracefully; the case proves nothing:\n{logs}"
    assert elapsed >= STOP_TIMEOUT - 0.5, f"legacy stop took {elapsed:.2f}s, expected the {STOP_TIMEOUT}s timeout"
    assert state["exit_code"] == "137", state  # SIGKILL

    # 2. dockerfix rewrites it
    fixed = _dockerfix("fix", str(ctx / "Dockerfile"), cwd=tmp_path)
    assert fixed.returncode == 0, fixed.stderr
    after = {p.name: p.read_bytes() for p in ctx.iterdir() if p.is_file()}
    changed = {name for name in before if before[name] != after.get(name)}
    assert set(case.changed) <= changed, f"dockerfix changed {sorted(changed)}:\n{fixed.stderr}"
    for name, text in case.expect:
        assert text in (ctx / name).read_text(), f"{name} after dockerfix:\n{(ctx / name).read_text()}"
    for name in changed - {"Dockerfile"}:  # a rewritten side file keeps its mode: the script stays executable
        mode = (ctx / name).stat().st_mode & 0o7777
        assert mode == (APPS / case.app / name).stat().st_mode & 0o7777, f"{name}: mode {mode:o} after dockerfix"
    again = _dockerfix("check", str(ctx / "Dockerfile"), cwd=tmp_path)
    assert again.returncode == 0, f"dockerfix is not idempotent here:\n{again.stdout}\n{again.stderr}"

    # 3. the rewrite: builds, runs, and the app gets SIGTERM as PID 1
    rewritten = engine.tag("rewritten")
    engine.build(ctx, rewritten)
    elapsed, logs, state = _stop_run(engine, rewritten)
    dockerfile = (ctx / "Dockerfile").read_text()
    assert GRACEFUL in logs, f"no graceful shutdown after the rewrite:\n{logs}\n--- Dockerfile\n{dockerfile}"
    assert elapsed < STOP_TIMEOUT - 1, f"stop took {elapsed:.2f}s of the {STOP_TIMEOUT}s timeout:\n{logs}"
    assert state["exit_code"] == "0", (state, logs)
