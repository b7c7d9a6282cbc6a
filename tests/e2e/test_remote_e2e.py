"""``dockerfix migrate`` against a remote engine (issue 27 item 2): a ``podman system service`` started in
a network and PID namespace of its own, reached over TCP through a veth pair, as a build server is.

From this host, the engine's containers are not on 127.0.0.1 and their PIDs mean nothing in this
host's ``/proc``: a migrate that assumed either would probe nothing or read another process. Each case
is migrated twice from copies of the same folder, locally and with ``CONTAINER_HOST`` pointing at the
service; the verdicts (status, codemods kept and dropped) must be the same. One case is a rewrite that
breaks at start (``state-by-setup-script``: the non-root user cannot write the state a build script made).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_support import E2E, Images, base_images, tail

pytestmark = pytest.mark.e2e

CASES = ("go-service", "state-by-setup-script", "node-express-style")
NETNS = f"dfx-{uuid.uuid4().hex[:6]}"
HOST_IP, ENGINE_IP, PORT, NAT_SOURCE = "10.231.7.1", "10.231.7.2", 8888, "10.231.7.0/24"


def _run(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=60, check=check)


@pytest.fixture(scope="module")
def remote(images: Images) -> Iterator[str]:
    """A podman service in its own network namespace (veth to this host) and PID namespace."""
    for tool in ("ip", "unshare", "nsenter"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    host_if, engine_if = f"{NETNS}-h", f"{NETNS}-e"
    _run("ip", "netns", "add", NETNS)
    service: subprocess.Popen[bytes] | None = None
    try:
        _run("ip", "link", "add", host_if, "type", "veth", "peer", "name", engine_if)
        _run("ip", "link", "set", engine_if, "netns", NETNS)
        _run("ip", "addr", "add", f"{HOST_IP}/24", "dev", host_if)
        _run("ip", "link", "set", host_if, "up")
        for cmd in (("ip", "addr", "add", f"{ENGINE_IP}/24", "dev", engine_if), ("ip", "link", "set", engine_if, "up"),
                    ("ip", "link", "set", "lo", "up"), ("ip", "route", "add", "default", "via", HOST_IP)):  # fmt: skip
            _run("ip", "netns", "exec", NETNS, *cmd)
        # the build server reaches the package mirrors through this host, as a build server has a way out
        if shutil.which("iptables"):
            _run("iptables", "-t", "nat", "-A", "POSTROUTING", "-s", NAT_SOURCE, "-j", "MASQUERADE", check=False)
        # nsenter (not `ip netns exec`, which remounts /sys and hides the cgroup hierarchy podman needs)
        service = subprocess.Popen(
            ["unshare", "--pid", "--fork", "--mount-proc", "nsenter", f"--net=/run/netns/{NETNS}",
             "podman", "system", "service", "--time=0", f"tcp://{ENGINE_IP}:{PORT}"],
            env=images.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
        url = f"tcp://{ENGINE_IP}:{PORT}"
        deadline = time.monotonic() + 30
        while True:
            ok = subprocess.run(["podman", "info"], env={**images.env, "CONTAINER_HOST": url},
                                capture_output=True, timeout=30, check=False).returncode == 0
            if ok:
                break
            if time.monotonic() > deadline or service.poll() is not None:
                dead = service.poll() is not None and service.stderr is not None
                err = service.stderr.read().decode(errors="replace") if dead and service.stderr else ""
                pytest.skip(f"the podman service did not start: {err[-300:]}")
            time.sleep(0.5)
        yield url
    finally:
        if service is not None:
            service.terminate()
            try:
                service.wait(timeout=20)
            except subprocess.TimeoutExpired:
                service.kill()
        if shutil.which("iptables"):
            _run("iptables", "-t", "nat", "-D", "POSTROUTING", "-s", NAT_SOURCE, "-j", "MASQUERADE", check=False)
        _run("ip", "link", "del", host_if, check=False)
        _run("ip", "netns", "del", NETNS, check=False)


def _migrate(images: Images, folder: Path, extra_env: dict[str, str]) -> dict:
    report = folder.parent / f"{folder.name}-report.json"
    argv = [sys.executable, "-m", "rewriter.faces.cli", "migrate", "--builder", "podman", "--format", "json",
            "--output", str(report), "--settle", "4", "--run-args",
            "--sysctl net.ipv4.ip_unprivileged_port_start=1024", "Dockerfile"]  # fmt: skip
    env = {k: v for k, v in images.env.items() if k != "CONTAINER_HOST"}
    proc = subprocess.run(argv, cwd=folder, env={**env, **extra_env}, capture_output=True, text=True, timeout=3000,
                          check=False)
    assert report.exists(), f"no report (exit {proc.returncode}):\n{tail(proc.stderr, 30)}"
    record = json.loads(report.read_text())["files"][0]
    record["_stderr"] = tail(proc.stderr, 20)
    return record


@pytest.mark.parametrize("name", CASES)
def test_remote_engine_gives_the_local_verdict(name: str, images: Images, remote: str, tmp_path: Path) -> None:
    src = E2E / "realworld" / name
    images.require(*base_images(src / "Dockerfile"))
    verdicts = {}
    for where, env in (("local", {}), ("remote", {"CONTAINER_HOST": remote})):
        folder = tmp_path / where
        shutil.copytree(src, folder, ignore=shutil.ignore_patterns("case.yaml"))
        verdicts[where] = _migrate(images, folder, env)
    local, far = verdicts["local"], verdicts["remote"]
    summary = {w: (v["status"], sorted(v["kept"]), sorted(v["dropped"])) for w, v in verdicts.items()}
    print(f"[remote] {name}: {summary}")
    assert summary["local"] == summary["remote"], (f"local:\n{local['_stderr']}\n{local['dropped']}\n"
                                                   f"remote:\n{far['_stderr']}\n{far['dropped']}\n{far['reason']}")
    assert far["status"] in {"migrated", "partially migrated"}, far
    if name == "state-by-setup-script":  # the rewrite that breaks at start is seen remotely too
        assert "nonroot" in far["dropped"], far


SILENT_DOCKERFILE = """FROM python:3.13-slim
WORKDIR /app
COPY server.py .
EXPOSE 8000
CMD python server.py
"""
#: EXPOSE says 8000, the app listens on 9000: from outside, the original answers on no port
SILENT_SERVER = """import http.server
http.server.HTTPServer(("0.0.0.0", 9000), http.server.SimpleHTTPRequestHandler).serve_forever()
"""


def test_an_original_answering_on_no_port_is_unverified_locally_and_remotely(images: Images, remote: str,
                                                                              tmp_path: Path) -> None:
    images.require("docker.io/library/python:3.13-slim")
    for where, env in (("local", {}), ("remote", {"CONTAINER_HOST": remote})):
        folder = tmp_path / where
        folder.mkdir()
        (folder / "Dockerfile").write_text(SILENT_DOCKERFILE)
        (folder / "server.py").write_text(SILENT_SERVER)
        record = _migrate(images, folder, env)
        print(f"[remote] silent original, {where}: {record['status']}: {record['reason']}")
        assert record["status"] == "unverified" and "answers on none of its ports (8000)" in record["reason"]
        assert (folder / "Dockerfile").read_text() == SILENT_DOCKERFILE  # nothing written
        assert not (folder / ".dockerignore").exists()
