"""nonroot, end to end: the running container reports a non-zero uid and still serves.

Each case builds the ORIGINAL Dockerfile (no ``USER``) with buildah and shows the app runs as uid 0,
then runs ``dockerfix fix --select nonroot`` on a copy, builds the REWRITTEN Dockerfile and shows:
the image's ``Config.User`` is numeric, the app reports exactly that uid/gid (non-zero), and it still
does its job, which includes writing a file into its WORKDIR (so the ownership handover of the
WORKDIR is what makes it work). The containers run with ``--network=none``; the HTTP apps are
queried from inside the container (``podman exec``, loopback).
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from e2e_support import APPS, Engine, base_images, dockerfix, image_inspect, podman_exec

pytestmark = pytest.mark.e2e

USER_LINE = re.compile(r"^USER[ \t]+(\S+)[ \t]*$", re.MULTILINE)
NUMERIC_USER = re.compile(r"^(\d+)(?::(\d+))?$")

PY_FETCH = """
import sys, urllib.error, urllib.request
try:
    r = urllib.request.urlopen("http://127.0.0.1:8080/", timeout=10)
    status, body = r.status, r.read()
except urllib.error.HTTPError as e:
    status, body = e.code, e.read()
sys.stdout.write(f"{status}\\n{body.decode()}")
"""
NODE_FETCH = """
require("http").get("http://127.0.0.1:8080/", (r) => {
  let b = "";
  r.on("data", (d) => (b += d));
  r.on("end", () => process.stdout.write(`${r.statusCode}\\n${b}`));
}).on("error", (e) => { console.error(e.message); process.exit(1); });
"""


@dataclass
class Report:
    """What the running app says about itself."""

    uid: int
    gid: int
    wrote: str  # absolute path of the file it wrote into its WORKDIR
    detail: str  # raw output, for failure messages


def _http_probe(fetch: tuple[str, ...]) -> Callable[[Engine, str], Report]:
    """GET / twice from inside the container: 200 both times, and the hit counter file grows."""

    def probe(engine: Engine, cid: str) -> Report:
        bodies = []
        for expected_hits in (1, 2):
            proc = podman_exec(engine, cid, *fetch)
            status, _, body = proc.stdout.partition("\n")
            detail = f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}\n--- logs\n{engine.logs(cid)}"
            assert proc.returncode == 0 and status == "200", f"GET / did not succeed: {detail}"
            data = json.loads(body)
            assert data["hits"] == expected_hits, f"the hit counter in the WORKDIR did not grow: {detail}"
            bodies.append(data)
        return Report(bodies[-1]["uid"], bodies[-1]["gid"], bodies[-1]["file"], json.dumps(bodies))

    return probe


def _log_probe(engine: Engine, cid: str) -> Report:
    """The shell app logs ``ready uid=N gid=N`` only after it wrote ``state.txt`` into its WORKDIR."""
    logs = engine.wait_for_log(cid, "ready uid=")
    m = re.search(r"ready uid=(\d+) gid=(\d+)", logs)
    assert m, logs
    state = podman_exec(engine, cid, "cat", "state.txt")
    pwd = podman_exec(engine, cid, "pwd").stdout.strip()
    assert state.returncode == 0 and f"uid={m[1]} gid={m[2]} site=ok" in state.stdout, (state, logs)
    return Report(int(m[1]), int(m[2]), f"{pwd}/state.txt", logs)


@dataclass(frozen=True)
class Case:
    id: str
    app: str  # folder under apps/
    uid: int  # the uid/gid the rewritten image must run as
    gid: int
    probe: Callable[[Engine, str], Report]
    ready: str | None  # log line to wait for before probing (None: the probe waits itself)


CASES = [
    Case("python-http", "py-web", 10001, 10001, _http_probe(("python", "-c", PY_FETCH)), "ready"),
    Case("debian-shell", "debian-sh", 10001, 10001, _log_probe, None),
    # node:22 ships user `node` (1000:1000): dockerfix uses it rather than creating one
    Case("node-http", "node-web", 1000, 1000, _http_probe(("node", "-e", NODE_FETCH)), "ready"),
]


def _run_and_probe(engine: Engine, tag: str, case: Case) -> tuple[Report, str]:
    """Start the image, probe the app; (its report, ``uid:gid`` owning the file it wrote)."""
    cid = engine.start(tag)
    if case.ready:
        engine.wait_for_log(cid, case.ready)
    report = case.probe(engine, cid)
    owner = podman_exec(engine, cid, "stat", "-c", "%u:%g", report.wrote)
    assert owner.returncode == 0, owner
    engine.rm(cid)
    return report, owner.stdout.strip()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_rewrite_runs_as_numeric_nonroot_and_still_serves(case: Case, engine: Engine, tmp_path: Path) -> None:
    engine.images.require(*base_images(APPS / case.app / "Dockerfile"))
    ctx = tmp_path / case.id
    shutil.copytree(APPS / case.app, ctx)
    original = (ctx / "Dockerfile").read_text()
    assert not USER_LINE.search(original), "the legacy Dockerfile already sets USER; the case proves nothing"

    # 1. the original runs as root (the problem is real), and works
    legacy = engine.tag("legacy")
    engine.build(ctx, legacy)
    assert image_inspect(engine, legacy)["Config"].get("User", "") in {"", "0", "root", "0:0"}
    report, owner = _run_and_probe(engine, legacy, case)
    assert report.uid == 0, f"the legacy image does not run as root; the case proves nothing: {report.detail}"

    # 2. dockerfix adds a numeric non-root USER
    # changing the user is an unsafe fix
    fixed = dockerfix("fix", "--unsafe-fixes", "--select", "nonroot", "Dockerfile", cwd=ctx)
    assert fixed.returncode == 0, fixed.stderr
    dockerfile = (ctx / "Dockerfile").read_text()
    assert dockerfile != original, f"dockerfix did not change the Dockerfile:\n{fixed.stderr}"
    users = USER_LINE.findall(dockerfile)
    assert users, f"no USER after the rewrite:\n{dockerfile}"
    m = NUMERIC_USER.match(users[-1])
    assert m, f"USER {users[-1]} is not numeric:\n{dockerfile}"
    assert (int(m[1]), int(m[2] or m[1])) == (case.uid, case.gid), f"unexpected USER {users[-1]}:\n{dockerfile}"
    again = dockerfix("check", "--unsafe-fixes", "--select", "nonroot", "Dockerfile", cwd=ctx)
    assert again.returncode == 0, f"dockerfix is not idempotent here:\n{again.stdout}\n{again.stderr}"

    # 3. the rewrite builds; the image says it runs as that numeric user
    rewritten = engine.tag("rewritten")
    engine.build(ctx, rewritten)
    config = image_inspect(engine, rewritten)["Config"]
    assert config.get("User") == f"{case.uid}:{case.gid}", f"Config.User is {config.get('User')!r}"

    # 4. the running app reports that non-zero uid/gid, serves, and writes into its WORKDIR
    report, owner = _run_and_probe(engine, rewritten, case)
    context = f"{report.detail}\n--- Dockerfile\n{dockerfile}"
    assert report.uid != 0, f"still root after the rewrite: {context}"
    assert (report.uid, report.gid) == (case.uid, case.gid), f"runs as {report.uid}:{report.gid}: {context}"
    workdir = config.get("WorkingDir", "").rstrip("/")
    assert workdir and report.wrote.startswith(f"{workdir}/"), f"{report.wrote} is not in WORKDIR {workdir!r}"
    assert owner == f"{case.uid}:{case.gid}", f"{report.wrote} is owned by {owner}: {context}"
