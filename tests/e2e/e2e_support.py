"""Helpers for the e2e tests: the image store (env from env.sh) and buildah/podman for one test."""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

E2E = Path(__file__).resolve().parent
APPS = E2E / "apps"
ROOT = E2E.parent.parent
DEFAULT_W = "/var/tmp/dockerfix-images"
TAG_PREFIX = "localhost/dockerfix-e2e-"
SETUP = "bash tests/e2e/offline-images.sh"
#: run by ``python3 -c`` in a sidecar sharing a container's network: GET http://127.0.0.1:PORT/PATH,
#: retried until the deadline; prints the status, a newline and the body (any HTTP status is an answer)
FETCH = """
import sys, time, urllib.error, urllib.request
deadline = time.monotonic() + %(timeout)s
while True:
    try:
        r = urllib.request.urlopen("http://127.0.0.1:%(port)d%(path)s", timeout=5)
        status, body = r.status, r.read()
        break
    except urllib.error.HTTPError as e:
        status, body = e.code, e.read()
        break
    except OSError as e:
        if time.monotonic() > deadline:
            sys.exit(f"no answer on port %(port)d: {e}")
        time.sleep(0.3)
sys.stdout.write(f"{status}\\n{body.decode(errors='replace')}")
"""


def not_ready(reason: str) -> None:
    """Skip, or fail under CI=true (where the setup runs before pytest), naming what is missing."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"e2e setup missing in CI (`{SETUP}` must run before pytest): {reason}", pytrace=False)
    pytest.skip(f"e2e images not built: run `{SETUP}` first ({reason})")


def load_env(env_sh: Path) -> tuple[dict[str, str], dict[str, str]]:
    """(variables env.sh exports, the full environment for subprocesses) without touching os.environ."""
    proc = subprocess.run(
        ["bash", "-c", 'set -e; . "$1"; env -0', "load-env", str(env_sh)],
        env=dict(os.environ),
        capture_output=True,
        timeout=30,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"sourcing {env_sh} failed: {proc.stderr.decode(errors='replace')}")
    full: dict[str, str] = {}
    for entry in proc.stdout.decode().split("\0"):
        key, sep, value = entry.partition("=")
        if sep and key:
            full[key] = value
    full.pop("_", None)
    names = re.findall(r"^\s*export\s+([A-Za-z_][A-Za-z0-9_]*)=", env_sh.read_text(), re.MULTILINE)
    return {k: full[k] for k in names if k in full}, full


class Failed(AssertionError):
    pass


@dataclass
class Images:
    """The offline image store: where it is, the env for buildah/podman, and the raw commands."""

    root: Path
    vars: dict[str, str]
    env: dict[str, str]
    names: frozenset[str] = field(default_factory=frozenset)

    def cmd(
        self, *argv: str, timeout: float = 120, check: bool = False, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            list(argv), env=self.env, capture_output=True, text=True, timeout=timeout, check=False, cwd=cwd
        )
        if check and proc.returncode != 0:
            raise Failed(f"{' '.join(argv)} exited {proc.returncode}\n{tail(proc.stdout)}\n{tail(proc.stderr)}")
        return proc

    def require(self, *names: str) -> None:
        """Skip (fail under CI=true) unless the setup built these base images."""
        missing = [n for n in names if n not in self.names and not self.has_image(n)]
        if missing:
            not_ready(f"base image(s) {', '.join(missing)} not in {self.root}")

    def has_image(self, name: str) -> bool:
        return self.cmd("buildah", "inspect", "-t", "image", name, timeout=60).returncode == 0

    def sweep(self) -> None:
        """Remove every container and image the e2e tests made (also those of an interrupted run)."""
        ps = self.cmd("podman", "ps", "-a", "--format", "{{.ID}} {{.Image}}", timeout=60)
        cids = [line.split()[0] for line in ps.stdout.splitlines() if TAG_PREFIX in line]
        if cids:
            self.cmd("podman", "rm", "-f", "-t", "0", *cids, timeout=120)
        imgs = self.cmd("buildah", "images", "--format", "{{.Name}}:{{.Tag}}", timeout=60)
        tags = [t for t in imgs.stdout.split() if t.startswith(TAG_PREFIX)]
        if tags:
            self.cmd("buildah", "rmi", "-f", *tags, timeout=120)
        self.cmd("buildah", "rmi", "--prune", timeout=120)  # dangling layers of failed builds


@dataclass
class Engine:
    """buildah/podman for one test; everything it creates is removed when the test ends."""

    images: Images
    name: str
    tags: list[str] = field(default_factory=list)
    containers: list[str] = field(default_factory=list)

    def tag(self, label: str = "") -> str:
        """A new unique image name for this test: ``localhost/dockerfix-e2e-<name>:<uuid8>``."""
        base = "".join(c if c.isalnum() or c in "-_." else "-" for c in f"{self.name}-{label}".lower()).strip("-.")
        tag = f"{TAG_PREFIX}{base[:80]}:{uuid.uuid4().hex[:8]}"
        self.tags.append(tag)
        return tag

    def build(
        self,
        ctx_dir: Path,
        tag: str,
        secrets: dict[str, Path] | None = None,
        *,
        dockerfile: Path | None = None,
        timeout: float = 900,
        check: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        """``buildah bud --pull=never --layers=false``; secrets map an id to a file (``--secret id=,src=``)."""
        argv = ["buildah", "bud", "--pull=never", "--layers=false", "--force-rm", "-t", tag]
        if tag not in self.tags:
            self.tags.append(tag)
        for sid, src in (secrets or {}).items():
            argv += ["--secret", f"id={sid},src={src}"]
        argv += ["-f", str(dockerfile or ctx_dir / "Dockerfile"), str(ctx_dir)]
        proc = self.images.cmd(*argv, timeout=timeout)
        if check and proc.returncode != 0:
            pytest.fail(
                f"build of {ctx_dir} failed (exit {proc.returncode}):\n"
                f"--- Dockerfile\n{(dockerfile or ctx_dir / 'Dockerfile').read_text()}\n"
                f"--- output\n{tail(proc.stdout)}\n{tail(proc.stderr)}",
                pytrace=False,
            )
        return proc

    def run(
        self, tag: str, *args: str, timeout: float = 60, network: str = "none", options: Sequence[str] = ()
    ) -> subprocess.CompletedProcess[str]:
        """``podman run --rm`` to completion; returns the finished process (stdout, stderr, exit code)."""
        return self.images.cmd("podman", "run", "--rm", f"--network={network}", *options, tag, *args, timeout=timeout)

    def start(self, tag: str, *args: str, network: str = "none", options: Sequence[str] = ()) -> str:
        """``podman run -d``; returns the container id (removed at the end of the test)."""
        proc = self.images.cmd(
            "podman", "run", "-d", f"--network={network}", "--log-driver=k8s-file", *options, tag, *args,
            timeout=120, check=True,
        )  # fmt: skip
        cid = proc.stdout.strip().splitlines()[-1]
        self.containers.append(cid)
        return cid

    def stop(self, cid: str, timeout: int = 10) -> float:
        """``podman stop -t timeout``; returns the seconds it took."""
        t0 = time.monotonic()
        self.images.cmd("podman", "stop", "-t", str(timeout), cid, timeout=timeout + 60, check=True)
        return time.monotonic() - t0

    def logs(self, cid: str) -> str:
        proc = self.images.cmd("podman", "logs", cid, timeout=60)
        return proc.stdout + proc.stderr

    def state(self, cid: str) -> dict[str, str]:
        fmt = "{{.State.Status}} {{.State.ExitCode}} {{.State.Running}}"
        out = self.images.cmd("podman", "inspect", "-f", fmt, cid, timeout=60, check=True).stdout.split()
        return {"status": out[0], "exit_code": out[1], "running": out[2]}

    def wait_for_log(self, cid: str, text: str, timeout: float = 60) -> str:
        """Poll the logs until ``text`` appears; fail early if the container exits."""
        deadline = time.monotonic() + timeout
        while True:
            logs = self.logs(cid)
            if text in logs:
                return logs
            if self.state(cid)["running"] != "true":
                pytest.fail(f"container exited before logging {text!r}: {self.state(cid)}\n{logs}", pytrace=False)
            if time.monotonic() > deadline:
                pytest.fail(f"no {text!r} in the logs after {timeout}s:\n{logs}", pytrace=False)
            time.sleep(0.2)

    def rm(self, *cids: str) -> None:
        if cids:
            self.images.cmd("podman", "rm", "-f", "-t", "0", *cids, timeout=120)
        self.containers = [c for c in self.containers if c not in cids]

    def rmi(self, *tags: str) -> None:
        if tags:
            self.images.cmd("buildah", "rmi", "-f", *tags, timeout=120)
        self.tags = [t for t in self.tags if t not in tags]

    def cleanup(self) -> None:
        self.rm(*self.containers)
        self.rmi(*[t for t in self.tags if self.images.has_image(t)])


def tail(text: str, lines: int = 60) -> str:
    return "\n".join(text.splitlines()[-lines:])


# ---------------------------------------------------------------- helpers shared by the nonroot/secrets modules


def dockerfix(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``python -m rewriter.faces.cli ARGS`` with this interpreter, in ``cwd`` (stdout, stderr, exit code)."""
    return subprocess.run(
        [sys.executable, "-m", "rewriter.faces.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def qualified(image: str) -> str:
    """``python:3.13-slim`` -> ``docker.io/library/python:3.13-slim`` (how the image store names it)."""
    first, _, rest = image.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return image
    return f"docker.io/{image}" if rest else f"docker.io/library/{image}"


def base_images(dockerfile: Path) -> list[str]:
    """The fully qualified images a Dockerfile starts FROM (not its own stages, not scratch)."""
    bases: list[str] = []
    stages: set[str] = set()
    for line in dockerfile.read_text().splitlines():
        words = line.split()
        if len(words) >= 2 and words[0].upper() == "FROM":
            image = next(w for w in words[1:] if not w.startswith("--"))
            if image not in stages and image != "scratch":
                bases.append(qualified(image))
            if len(words) >= 4 and words[-2].upper() == "AS":
                stages.add(words[-1])
    return bases


class Secret(str):
    """A secret value: a ``str`` everywhere, but ``repr`` (what pytest shows for arguments, locals and
    assertion operands) never reveals it."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<secret>"


def redact(text: str, secrets: Sequence[str]) -> str:
    for s in secrets:
        if s:
            text = text.replace(s, "<redacted>")
    return text


def build_with(
    engine: Engine,
    ctx_dir: Path,
    tag: str,
    *flags: str,
    env: dict[str, str] | None = None,
    layers: bool = True,
    check: bool = True,
    redacted: Sequence[str] = (),
    timeout: float = 900,
) -> subprocess.CompletedProcess[str]:
    """``buildah bud`` with extra ``flags`` and extra environment ``env`` (e.g. a secret's ``env=`` source).

    Unlike :meth:`Engine.build` it commits one layer per instruction by default (``--layers``, as
    ``docker build`` does) and never uses the build cache, so what one RUN leaves behind shows up in
    that RUN's own layer. ``redacted`` strings are blanked out of the failure message.
    """
    if tag not in engine.tags:
        engine.tags.append(tag)
    argv = ["buildah", "bud", "--pull=never", f"--layers={str(layers).lower()}", "--no-cache", "--force-rm"]
    argv += ["-t", tag, *flags, "-f", str(ctx_dir / "Dockerfile"), str(ctx_dir)]
    proc = subprocess.run(
        argv, env={**engine.images.env, **(env or {})}, capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and proc.returncode != 0:
        pytest.fail(
            redact(
                f"build of {ctx_dir} failed (exit {proc.returncode}): {' '.join(argv)}\n"
                f"--- Dockerfile\n{(ctx_dir / 'Dockerfile').read_text()}\n"
                f"--- output\n{tail(proc.stdout)}\n{tail(proc.stderr)}",
                redacted,
            ),
            pytrace=False,
        )
    return proc


def podman_exec(engine: Engine, cid: str, *argv: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``podman exec CID ARGV`` (as the container's user, in its working directory)."""
    return engine.images.cmd("podman", "exec", cid, *argv, timeout=timeout)


def image_inspect(engine: Engine, tag: str) -> dict:
    """``podman image inspect`` of one image, parsed."""
    out = engine.images.cmd("podman", "image", "inspect", tag, timeout=60, check=True).stdout
    return json.loads(out)[0]


def image_metadata_text(engine: Engine, tag: str) -> str:
    """Everything the image says about itself: ``podman image inspect`` and ``podman history --no-trunc``."""
    inspect = engine.images.cmd("podman", "image", "inspect", tag, timeout=60, check=True).stdout
    history = engine.images.cmd("podman", "history", "--no-trunc", "--format", "json", tag, timeout=60, check=True)
    return inspect + "\n" + history.stdout


@dataclass
class BlobScan:
    """What the blobs of an image (pushed to an oci-archive) hold: which contain ``needle``, which list ``paths``."""

    blobs: int
    with_needle: list[str]  # blob digests whose (decompressed) bytes contain the needle
    with_path: list[str]  # "digest: path" for tar entries whose path is one of the wanted ones


def scan_image_blobs(engine: Engine, tag: str, workdir: Path, needle: str, paths: Sequence[str] = ()) -> BlobScan:
    """``buildah push TAG oci-archive:...``, then scan every blob (layers, config, manifest), gunzipped if
    needed, for the bytes of ``needle`` (pass a :class:`Secret`) and, for layers, for tar entries named
    like one of ``paths`` (``root/.netrc``)."""
    needle_bytes = needle.encode()
    workdir.mkdir(parents=True, exist_ok=True)
    archive = workdir / "image.oci.tar"
    engine.images.cmd("buildah", "push", "-q", tag, f"oci-archive:{archive}", timeout=300, check=True)
    wanted = {p.strip("/") for p in paths}
    with_needle: list[str] = []
    with_path: list[str] = []
    count = 0
    with tarfile.open(archive) as outer:
        for member in outer:
            if not member.isfile() or "/blobs/" not in f"/{member.name}":
                continue
            count += 1
            digest = member.name.rsplit("/", 1)[-1]
            raw = outer.extractfile(member)
            assert raw is not None
            data = raw.read()
            if data[:2] == b"\x1f\x8b":
                data = gzip.decompress(data)
            if needle_bytes in data:
                with_needle.append(digest[:12])
            if wanted:
                try:
                    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as layer:
                        for entry in layer:
                            name = entry.name[2:] if entry.name.startswith("./") else entry.name
                            name = name.strip("/")
                            if name in wanted:
                                with_path.append(f"{digest[:12]}: {name}")
                except tarfile.ReadError:
                    pass  # the config or a manifest, not a layer
    archive.unlink()
    return BlobScan(count, with_needle, with_path)
