"""Real-world-style apps: the original works, and still works after ``dockerfix fix`` (and after
``dockerfix fix --unsafe-fixes``).

Each case is a folder ``tests/e2e/realworld/<name>/`` holding a Dockerfile in the style of real
repositories, the app's files and ``case.yaml``:

```yaml
about: PHP app on php:8.4-apache (docroot /var/www/html, port 80 from the base image)
check:                       # what "works" means; every given probe must pass
  http: {port: 80, path: /, expect: "hello"}    # GET from a sidecar in the container's network namespace
  exec: {argv: [sh, -c, "pidof cron"], expect: ""}   # run inside the running container: exit 0 (+ text)
  logs: "worker started"     # text that must show in the container's output (podman logs)
  output: "42"               # no server: run to completion, exit 0, stdout contains this
settle: 3                    # seconds before probing (default 2)
run_args: [--flag]           # arguments after the image name
secrets:                     # files written into the build context at test time ({secret}: a random value)
  .npmrc: "//registry.example.com/:_authToken={secret}\n"
child: child                 # optional: a folder whose Dockerfile is built FROM this image (tag below)
child_tag: localhost/dockerfix-e2e-acme-base:latest
service: pypi-index          # optional (a name or a list): a stand-in server the build reaches on 127.0.0.1
unsafe_broken: "reason"      # optional: --unsafe-fixes is known to break it (strict xfail)
unsafe_applies: [multistage] # optional: codemods --unsafe-fixes must apply (the rewrite the case is for)
also_run: {argv: [python3, manage.py, check], output: "no issues"}   # optional: the image is also run with
                             # another command (a migration, a one-off job): it must print this and exit 0
build_script: build.sh       # optional: the repository's own build command (run with sh in the context,
                             # the tag in $IMAGE) builds every variant instead of the runner's flags: after
                             # --unsafe-fixes/migrate the script itself must pass the new --secret flags
```

Services are started once per module, on first use, and stopped at its end; each gives tokens that
are replaced in the case's secrets and in every text file of its build context (Dockerfile included):

- ``pypi-index``: a PEP 503 "simple" index on ``127.0.0.1:{index_port}`` serving one wheel built at
  test time (``acme-greeting 1.0.0``, module ``acme_greeting``); it wants basic auth as user ``ci``
  with a password that starts with ``E2E_SECRET_`` (``{secret}``).
- ``git-ssh``: sshd (Debian's openssh-server, in a container on the host's network) on
  ``127.0.0.1:{git_ssh_port}``, serving the bare repository ``/srv/repo.git`` (a module ``acme_dep``
  with ``MESSAGE``) to user ``git``, who authorizes the key ``{git_ssh_key}`` (an RSA private key).

buildah runs RUN steps with ``BUILDAH_ISOLATION=chroot`` here (see env.sh), in the host's network
namespace, so a build reaches these services on 127.0.0.1.

Containers run as Kubernetes runs them: no network but loopback and
``net.ipv4.ip_unprivileged_port_start=1024`` (podman 4.3's default here, passed explicitly). Builds
use buildah's layer cache (``--layers``), so a rewrite only rebuilds from its first changed line.

Four variants per case: ``original`` (must work: the case proves something only then), ``fix``
(the default, safe fixes: must work; "unchanged" when dockerfix changes nothing), ``unsafe``
(``--unsafe-fixes``: must work) and ``migrate`` (``dockerfix migrate``: must work). ``fix`` is built
with exactly the original's build flags (:func:`original_flags`): a safe fix never changes the build
command, so a ``fix`` run whose report names build secrets (``--secret``/``--ssh``) fails as "needs
build flags" whatever the build does. ``unsafe`` and ``migrate`` get the flags their report names.
Each test prints one ``[realworld]`` line with the result, which the README's table records.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import http.server
import io
import json
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from e2e_support import E2E, FETCH, Engine, Images, base_images, dockerfix, scan_image_blobs, tail
from ruamel.yaml import YAML

pytestmark = pytest.mark.e2e

CASES_DIR = E2E / "realworld"
PROBE_IMAGE = "docker.io/library/python:3.13-slim"
K8S = ("--sysctl", "net.ipv4.ip_unprivileged_port_start=1024")
TIMEOUT = 25.0

def _cases() -> list[str]:
    if not CASES_DIR.is_dir():
        return []
    return sorted(d.name for d in CASES_DIR.iterdir() if (d / "case.yaml").is_file())


CASES = _cases()


def spec_of(name: str) -> dict:
    return dict(YAML(typ="safe").load((CASES_DIR / name / "case.yaml").read_text()) or {})


# ---------------------------------------------------------------- stand-in servers the builds reach on 127.0.0.1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tiny_wheel(name: str, version: str, module: str, source: str) -> tuple[str, bytes]:
    """(file name, bytes) of a pure-Python wheel holding ``module/__init__.py``."""
    dist = f"{name.replace('-', '_')}-{version}"
    files = {
        f"{module}/__init__.py": source.encode(),
        f"{dist}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"{dist}.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: dockerfix-e2e\nRoot-Is-Purelib: true\n"
        b"Tag: py3-none-any\n",
    }
    record = [
        f"{path},sha256={base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()},{len(data)}"
        for path, data in files.items()
    ]
    files[f"{dist}.dist-info/RECORD"] = ("\n".join([*record, f"{dist}.dist-info/RECORD,,"]) + "\n").encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for path, data in files.items():
            z.writestr(path, data)
    return f"{dist}-py3-none-any.whl", buf.getvalue()


class PypiIndex:
    """A PEP 503 index with one wheel, basic auth (user ``ci``, password ``E2E_SECRET_...``)."""

    def __init__(self, images: Images, workdir: Path) -> None:
        source = '__version__ = "1.0.0"\n\n\ndef greet():\n    return "hello from the private index"\n'
        wheel, data = tiny_wheel("acme-greeting", "1.0.0", "acme_greeting", source)
        digest = hashlib.sha256(data).hexdigest()
        project = f'<a href="/packages/{wheel}#sha256={digest}">{wheel}</a>'
        pages = {
            "/simple/": b'<!DOCTYPE html><html><body><a href="/simple/acme-greeting/">acme-greeting</a></body></html>',
            "/simple/acme-greeting/": f"<!DOCTYPE html><html><body>{project}</body></html>".encode(),
            f"/packages/{wheel}": data,
        }
        self.requests: list[str] = []
        requests = self.requests

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                auth = self.headers.get("Authorization", "")
                user, _, password = base64.b64decode(auth[6:] or b"").decode(errors="replace").partition(":")
                requests.append(f"{self.path} {'auth' if auth else 'no auth'}")
                if not auth.startswith("Basic ") or user != "ci" or not password.startswith("E2E_SECRET_"):
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="acme"')
                    self.end_headers()
                    return
                body = pages.get(self.path if self.path in pages else self.path.rstrip("/") + "/")
                self.send_response(200 if body else 404)
                ctype = "application/octet-stream" if self.path.endswith(".whl") else "text/html"
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="pypi-index", daemon=True)
        self.thread.start()
        self.tokens = {"index_port": str(self.server.server_address[1])}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)


GIT_SSH_DOCKERFILE = """\
FROM debian:trixie-slim
RUN apt-get update && apt-get install -y --no-install-recommends openssh-server git \\
 && rm -rf /var/lib/apt/lists/* && useradd -m -s /bin/sh git && usermod -p '*' git && mkdir -p /run/sshd
"""

GIT_SSH_START = """\
set -e
cp -a /seed/repo.git /srv/repo.git && chown -R git:git /srv/repo.git
install -d -o git -g git -m 700 /home/git/.ssh
install -o git -g git -m 600 /seed/id_rsa.pub /home/git/.ssh/authorized_keys
install -m 600 /seed/host_key /etc/ssh/dockerfix_host_key
# PerSourcePenalties=no: ssh-keyscan's unauthenticated connections must not get 127.0.0.1 refused
exec /usr/sbin/sshd -D -e -p "$1" -o ListenAddress=127.0.0.1 -h /etc/ssh/dockerfix_host_key \\
    -o UsePAM=no -o PerSourcePenalties=no
"""


class GitSsh:
    """sshd from Debian's openssh-server (a container on the host's network) serving /srv/repo.git."""

    TAG = "localhost/dockerfix-e2e-git-ssh:latest"

    def __init__(self, images: Images, workdir: Path) -> None:
        self.images = images
        self.cid = ""
        seed = workdir / "seed"
        (seed / "work" / "acme_dep").mkdir(parents=True)
        (seed / "work" / "acme_dep" / "__init__.py").write_text('MESSAGE = "private dep from git over ssh"\n')

        def run(*argv: str, cwd: Path | None = None) -> None:
            subprocess.run(list(argv), cwd=cwd, check=True, capture_output=True, timeout=120)

        git = ["git", "-c", "user.name=e2e", "-c", "user.email=e2e@example.com", "-c", "init.defaultBranch=main"]
        run(*git, "init", "-q", cwd=seed / "work")
        run(*git, "add", ".", cwd=seed / "work")
        run(*git, "commit", "-q", "-m", "acme_dep 1.0", cwd=seed / "work")
        run(*git, "clone", "-q", "--bare", str(seed / "work"), str(seed / "repo.git"))
        run("ssh-keygen", "-q", "-t", "rsa", "-b", "3072", "-N", "", "-C", "deploy@e2e", "-f", str(seed / "id_rsa"))
        run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(seed / "host_key"))
        ctx = workdir / "image"
        ctx.mkdir()
        (ctx / "Dockerfile").write_text(GIT_SSH_DOCKERFILE)
        images.cmd("buildah", "bud", "--pull=never", "--layers", "-t", self.TAG, str(ctx), timeout=900, check=True)
        port = free_port()
        argv = ["podman", "run", "-d", "--network=host", "-v", f"{seed}:/seed:ro", self.TAG]
        proc = images.cmd(*argv, "sh", "-c", GIT_SSH_START, "git-ssh", str(port), timeout=120, check=True)
        self.cid = proc.stdout.strip().splitlines()[-1]
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                    if s.recv(64).startswith(b"SSH-"):
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                logs = images.cmd("podman", "logs", self.cid).stdout
                self.close()
                raise RuntimeError(f"git-ssh: sshd does not answer on 127.0.0.1:{port}\n{tail(logs, 20)}")
            time.sleep(0.3)
        self.tokens = {"git_ssh_port": str(port), "git_ssh_key": (seed / "id_rsa").read_text()}

    def close(self) -> None:
        if self.cid:
            self.images.cmd("podman", "rm", "-f", "-t", "0", self.cid, timeout=120)
            self.cid = ""


SERVICES = {"pypi-index": PypiIndex, "git-ssh": GitSsh}


class Services:
    """The stand-in servers, started on first use and stopped together at the end of the module."""

    def __init__(self, images: Images, root: Path) -> None:
        self.images = images
        self.root = root
        self.running: dict[str, PypiIndex | GitSsh] = {}

    def tokens(self, spec: dict) -> dict[str, str]:
        names = spec.get("service") or []
        tokens: dict[str, str] = {}
        for name in [names] if isinstance(names, str) else names:
            if name not in self.running:
                workdir = self.root / name
                workdir.mkdir(parents=True)
                self.running[name] = SERVICES[name](self.images, workdir)
            tokens.update(self.running[name].tokens)
        return tokens

    def close(self) -> None:
        for service in self.running.values():
            service.close()
        self.running.clear()


@dataclass
class Outcome:
    """What one variant of a case did."""

    variant: str
    status: str  # "works", "unchanged", "broken", "build failed"
    detail: str = ""
    applied: list[str] = field(default_factory=list)
    size: int | None = None
    dockerfile: str = ""
    migrate: dict = field(default_factory=dict)  # dockerfix migrate's JSON record (migrate variant)

    @property
    def ok(self) -> bool:
        return self.status in {"works", "unchanged"}

    def line(self, name: str) -> str:
        size = f", {self.size / 1e6:.1f} MB" if self.size else ""
        extra = ""
        if self.migrate:
            extra = (f"; migrate: {self.migrate.get('status')}, kept {self.migrate.get('kept') or '-'}, dropped "
                     f"{sorted(self.migrate.get('dropped') or {}) or '-'}, {self.migrate.get('builds')} builds, "
                     f"{self.migrate.get('seconds')} s")
        return f"[realworld] {name} {self.variant}: {self.status}{size}; applied {self.applied or '-'}{extra}"


def _digest(ctx: Path, spec: dict) -> str:
    """A digest of the build context's files, the secret files (random per variant) left out."""
    secrets = {ctx / rel for rel in spec.get("secrets") or {}}
    h = hashlib.sha256()
    for path in sorted(p for p in ctx.rglob("*") if p.is_file() and p not in secrets):
        h.update(str(path.relative_to(ctx)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def original_flags(spec: dict) -> list[str]:
    """The build flags of the original: none (its secrets are files of the build context). The ``fix``
    variant is built with exactly these."""
    return []


class Lab:
    """Builds and probes each case's variants once per module."""

    def __init__(self, engine: Engine, root: Path, services: Services) -> None:
        self.engine = engine
        self.root = root
        self.services = services
        self.done: dict[tuple[str, str], Outcome] = {}
        self.built: dict[tuple[str, str], Outcome] = {}
        self.secret_of: dict[Path, str] = {}

    def context(self, name: str, variant: str, spec: dict) -> Path:
        ctx = self.root / variant / name
        shutil.copytree(CASES_DIR / name, ctx, ignore=shutil.ignore_patterns("case.yaml"))
        secret = f"E2E_SECRET_{uuid.uuid4().hex}"
        self.secret_of[ctx] = secret
        tokens = {f"{{{k}}}": v for k, v in self.services.tokens(spec).items()}

        def substitute(text: str) -> str:
            for token, value in tokens.items():
                text = text.replace(token, value)
            return text

        if tokens:
            for path in ctx.rglob("*"):
                if path.is_file():
                    try:
                        text = path.read_text()
                    except UnicodeDecodeError:
                        continue
                    if substitute(text) != text:
                        path.write_text(substitute(text))
        for rel, text in (spec.get("secrets") or {}).items():
            path = ctx / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(substitute(str(text).replace("{secret}", secret)))
            path.chmod(0o600)
        return ctx

    def build(self, ctx: Path, tag: str, flags: list[str], dockerfile: Path | None = None) -> tuple[bool, str]:
        if tag not in self.engine.tags:
            self.engine.tags.append(tag)
        argv = ["buildah", "bud", "--pull=never", "--layers", "--force-rm", "-t", tag, *flags,
                "-f", str(dockerfile or ctx / "Dockerfile"), str(dockerfile.parent if dockerfile else ctx)]
        proc = self.engine.images.cmd(*argv, timeout=1200)
        return proc.returncode == 0, tail(proc.stdout + proc.stderr, 25)

    def build_by_script(self, ctx: Path, tag: str, script: str) -> tuple[bool, str]:
        """The repository's own build command: ``sh SCRIPT`` in the context, the tag in ``$IMAGE``."""
        if tag not in self.engine.tags:
            self.engine.tags.append(tag)
        proc = subprocess.run(["sh", script], cwd=ctx, env={**self.engine.images.env, "IMAGE": tag},
                              capture_output=True, text=True, timeout=1200, check=False)
        return proc.returncode == 0, tail(proc.stdout + proc.stderr, 25)

    def variant(self, name: str, variant: str) -> Outcome:
        key = (name, variant)
        if key not in self.done:
            self.done[key] = self._variant(name, variant)
        return self.done[key]

    def _variant(self, name: str, variant: str) -> Outcome:
        spec = spec_of(name)
        self.engine.images.require(*base_images(CASES_DIR / name / "Dockerfile"))
        ctx = self.context(name, variant, spec)
        flags = list(original_flags(spec))  # `fix` is built with exactly these
        applied: list[str] = []
        needs: list[str] = []  # build flags a safe `fix` run asks for: a bug in a safe fix
        migrated: dict = {}
        if variant == "migrate":
            # dockerfix migrate builds and runs with the same buildah/podman store, as Kubernetes would run it
            report = self.root / variant / f"{name}-report.json"
            before = (ctx / "Dockerfile").read_text()
            argv = [sys.executable, "-m", "rewriter.faces.cli", "migrate", "--builder", "buildah", "--format", "json",
                    "--output", str(report), "--settle", "4", "--run-args",
                    "--sysctl net.ipv4.ip_unprivileged_port_start=1024", "Dockerfile"]
            proc = subprocess.run(argv, cwd=ctx, env=self.engine.images.env, capture_output=True, text=True,
                                  timeout=3000, check=False)
            assert report.exists(), f"dockerfix migrate wrote no report (exit {proc.returncode}):\n{proc.stderr}"
            migrated = json.loads(report.read_text())["files"][0]
            assert migrated["status"] != "error", f"dockerfix migrate: {migrated}\n{tail(proc.stderr, 30)}"
            applied = list(migrated.get("kept") or [])
            if (ctx / "Dockerfile").read_text() == before:
                return Outcome(variant, "unchanged", tail(proc.stderr, 10), applied, migrate=migrated)
            for flag in migrated.get("build_flags") or []:
                kind, _, spec_text = flag.partition(" ")
                parts = dict(p.split("=", 1) for p in spec_text.split(",") if "=" in p)
                if kind == "--secret" and "src" in parts:
                    flags += ["--secret", f"id={parts['id']},src={ctx / parts['src']}"]
        elif variant != "original":
            report = self.root / variant / f"{name}-report.json"
            args = ["fix", "--format", "json", "--output", str(report)]
            if variant == "unsafe":
                args.append("--unsafe-fixes")
            proc = dockerfix(*args, "Dockerfile", cwd=ctx)
            assert proc.returncode == 0, f"dockerfix {' '.join(args)} exited {proc.returncode}:\n{proc.stderr}"
            entry = json.loads(report.read_text())["files"][0]
            applied = sorted({f["transform"] for f in entry.get("fixes", []) if f.get("applied")})
            if variant == "fix":
                needs = [f"--ssh {s['id']}" if s.get("type") == "ssh" else
                         f"--secret id={s['id']},{'src=' + s['src'] if 'src' in s else 'env=' + str(s.get('env'))}"
                         for s in entry.get("build_secrets", [])]
            if entry.get("status") != "changed":
                return Outcome(variant, "unchanged" if not needs else "needs build flags",
                               tail(proc.stderr, 10), applied)
            for s in entry.get("build_secrets", []) if variant == "unsafe" else []:
                if s.get("type") == "ssh":
                    # the agent buildah runs holds the case's private keys (else: $SSH_AUTH_SOCK's)
                    secrets = [ctx / rel for rel in spec.get("secrets") or {}]
                    keys = [str(path) for path in secrets if "PRIVATE KEY" in path.read_text()]
                    flags += ["--ssh", f"default={','.join(keys)}" if keys else "default"]
                else:
                    flags += ["--secret", f"id={s['id']},src={ctx / s['src']}"]
        dockerfile = (ctx / "Dockerfile").read_text()
        # the same build context and flags (the variant's folder left out of their paths) as a variant
        # already built (e.g. --unsafe-fixes adds nothing to the safe fixes): the same image, the same outcome
        key = (name, _digest(ctx, spec), tuple(f.replace(str(ctx), "<context>") for f in flags))
        same = self.built.get(key)
        if same is not None:
            outcome = dataclasses.replace(same, variant=variant, applied=applied, migrate=migrated)
        else:
            outcome = self._build_and_probe(name, variant, spec, ctx, flags, applied, dockerfile)
            self.built[key] = outcome
            if migrated:
                outcome = dataclasses.replace(outcome, migrate=migrated)
        if needs:
            # built with the original's flags all the same: the detail says what that gave
            return dataclasses.replace(
                outcome, status="needs build flags",
                detail=f"dockerfix fix (safe fixes only) asks for new build flags {needs}; a safe fix must "
                       f"never change the build command. Built with the original's flags "
                       f"{original_flags(spec) or '(none)'}: {outcome.status}\n{outcome.detail}")
        return outcome

    def _build_and_probe(self, name: str, variant: str, spec: dict, ctx: Path, flags: list[str],
                         applied: list[str], dockerfile: str) -> Outcome:
        tag = self.engine.tag(f"{name}-{variant}")
        if spec.get("build_script"):
            ok, log = self.build_by_script(ctx, tag, str(spec["build_script"]))
        else:
            ok, log = self.build(ctx, tag, flags)
        if not ok:
            return Outcome(variant, "build failed", log, applied, dockerfile=dockerfile)
        if spec.get("build_script") and spec.get("secrets"):
            # the script's build must keep the secret out of every layer, config and history; the
            # original's must not (else the case proves nothing)
            scan = scan_image_blobs(self.engine, tag, self.root / "scan" / f"{name}-{variant}", self.secret_of[ctx])
            if variant == "original" and not scan.with_needle:
                return Outcome(variant, "proves nothing", "no layer of the original holds the secret", applied,
                               dockerfile=dockerfile)
            if scan.with_needle and "secrets" in applied:
                return Outcome(variant, "secret in a layer", f"blobs {scan.with_needle}", applied,
                               dockerfile=dockerfile)
        size = int(json.loads(self.engine.images.cmd("podman", "image", "inspect", tag, check=True).stdout)[0]["Size"])
        if spec.get("child"):
            child_tag = spec["child_tag"]
            self.engine.images.cmd("buildah", "tag", tag, child_tag, check=True)
            if child_tag not in self.engine.tags:
                self.engine.tags.append(child_tag)
            tag = self.engine.tag(f"{name}-{variant}-child")
            ok, log = self.build(ctx / spec["child"], tag, [], ctx / spec["child"] / "Dockerfile")
            if not ok:
                return Outcome(variant, "build failed", "child image: " + log, applied, size, dockerfile)
        ok, detail = self.probe(spec, tag)
        if ok and spec.get("also_run"):
            also = spec["also_run"]
            argv = [str(a) for a in also["argv"]]
            proc = self.engine.images.cmd("podman", "run", "--rm", "--network=none", *K8S, tag, *argv, timeout=120)
            if proc.returncode != 0 or str(also.get("output", "")) not in proc.stdout + proc.stderr:
                ok, detail = False, (f"`docker run IMAGE {' '.join(argv)}`: exit {proc.returncode}\n"
                                     f"{tail(proc.stdout + proc.stderr, 15)}")
        return Outcome(variant, "works" if ok else "broken", detail, applied, size, dockerfile)

    def probe(self, spec: dict, tag: str) -> tuple[bool, str]:
        check = spec.get("check") or {}
        run_args = [str(a) for a in spec.get("run_args") or []]
        if "output" in check:
            proc = self.engine.images.cmd("podman", "run", "--rm", "--network=none", *K8S, tag, *run_args,
                                          timeout=120)
            text = proc.stdout + proc.stderr
            ok = proc.returncode == 0 and str(check["output"]) in proc.stdout
            return ok, f"exit {proc.returncode}\n{tail(text, 20)}"
        cid = self.engine.start(tag, *run_args, options=K8S)
        problems: list[str] = []
        try:
            time.sleep(float(spec.get("settle", 2)))
            if "http" in check:
                h = check["http"]
                script = FETCH % {"port": int(h["port"]), "path": h.get("path", "/"), "timeout": TIMEOUT}
                proc = self.engine.images.cmd("podman", "run", "--rm", f"--network=container:{cid}", PROBE_IMAGE,
                                              "python3", "-c", script, timeout=TIMEOUT + 60)
                status, _, body = proc.stdout.partition("\n")
                if proc.returncode != 0 or status != str(h.get("status", 200)) or str(h.get("expect", "")) not in body:
                    problems.append(f"http: exit {proc.returncode}, status {status!r}, body {body[:200]!r} "
                                    f"{proc.stderr.strip()[-300:]}")
            if "exec" in check:
                e = check["exec"]
                proc = self.engine.images.cmd("podman", "exec", cid, *[str(a) for a in e["argv"]], timeout=60)
                if proc.returncode != 0 or str(e.get("expect", "")) not in proc.stdout:
                    problems.append(f"exec {e['argv']}: exit {proc.returncode}, {(proc.stdout + proc.stderr)[-300:]!r}")
            if "logs" in check:
                deadline = time.monotonic() + TIMEOUT
                while str(check["logs"]) not in self.engine.logs(cid) and time.monotonic() < deadline:
                    time.sleep(0.3)
                if str(check["logs"]) not in self.engine.logs(cid):
                    problems.append(f"logs: no {check['logs']!r}")
            state = self.engine.state(cid)
            if state["running"] != "true":
                problems.append(f"not running: {state}")
            logs = self.engine.logs(cid)
        finally:
            self.engine.rm(cid)
        return not problems, "; ".join(problems) + ("\n--- logs\n" + tail(logs, 20) if problems else "")


@pytest.fixture(scope="module")
def lab(images: Images, tmp_path_factory: pytest.TempPathFactory) -> Lab:
    images.require(PROBE_IMAGE)
    engine = Engine(images, "realworld")
    services = Services(images, tmp_path_factory.mktemp("services"))
    try:
        yield Lab(engine, tmp_path_factory.mktemp("realworld"), services)  # type: ignore[misc]
    finally:
        services.close()
        engine.cleanup()


def _explain(name: str, o: Outcome) -> str:
    return f"{name} {o.variant}: {o.status}\n{o.detail}\n--- Dockerfile\n{o.dockerfile}"


@pytest.mark.parametrize("name", CASES)
def test_original_works(name: str, lab: Lab) -> None:
    """The case proves something only when the original image works here."""
    o = lab.variant(name, "original")
    print(o.line(name))
    assert o.ok, _explain(name, o)


@pytest.mark.parametrize("name", CASES)
def test_default_fix_keeps_it_working(name: str, lab: Lab) -> None:
    """``dockerfix fix`` (safe fixes only) must never break a working container."""
    if not lab.variant(name, "original").ok:
        pytest.skip("the original does not work (test_original_works says why)")
    o = lab.variant(name, "fix")
    print(o.line(name))
    assert o.ok, _explain(name, o)


@pytest.mark.parametrize("name", CASES)
def test_unsafe_fixes_keep_it_working(name: str, lab: Lab) -> None:
    """``dockerfix fix --unsafe-fixes``: the migration must still work (or refuse and leave it alone)."""
    if not lab.variant(name, "original").ok:
        pytest.skip("the original does not work (test_original_works says why)")
    known = spec_of(name).get("unsafe_broken")
    o = lab.variant(name, "unsafe")
    print(o.line(name))
    if known:
        assert not o.ok, f"{name}: --unsafe-fixes works now; remove unsafe_broken from case.yaml"
        pytest.xfail(f"known: {known}")
    assert o.ok, _explain(name, o)
    wanted = set(spec_of(name).get("unsafe_applies") or [])
    assert wanted <= set(o.applied), f"{name}: --unsafe-fixes did not apply {sorted(wanted - set(o.applied))}"


@pytest.mark.parametrize("name", CASES)
def test_migrate_keeps_it_working(name: str, lab: Lab) -> None:
    """``dockerfix migrate``: builds and runs the original and the candidates itself, writes the largest
    set of codemods that behaves like the original; the written Dockerfile must work."""
    if not lab.variant(name, "original").ok:
        pytest.skip("the original does not work (test_original_works says why)")
    o = lab.variant(name, "migrate")
    print(o.line(name))
    assert o.ok, _explain(name, o)


def test_migrate_changes_most_cases_and_bisects(lab: Lab) -> None:
    """Over the suite: most cases migrated (not everything refused), and where the full rewrite breaks
    (state-by-setup-script: nonroot) the breaking codemod is dropped with evidence and the others kept."""
    outcomes = {n: lab.variant(n, "migrate") for n in CASES if lab.variant(n, "original").ok}
    changed = [n for n, o in outcomes.items() if o.status != "unchanged"]
    share = len(changed) / len(outcomes)
    print(f"[realworld] migrate changed {len(changed)} of {len(outcomes)} cases ({share:.0%})")
    assert share >= 0.85, sorted(set(outcomes) - set(changed))
    seeded = outcomes["state-by-setup-script"].migrate
    assert seeded["status"] == "partially migrated", seeded
    assert "nonroot" in seeded["dropped"] and "state after the settle time" in seeded["dropped"]["nonroot"]
    assert "minimal" in seeded["kept"], seeded


def test_migrate_keeps_a_split_whose_runtime_installs_a_linked_library(lab: Lab) -> None:
    """pyyaml-libyaml-lazy: the split answers / like the original; only the library check (ELF NEEDED of
    what the split carried, against the runtime image) shows that libyaml-0.so.2 is gone -- and which
    package had it. migrate makes the split again with its runtime installing libyaml-0-2 and keeps it."""
    if not lab.variant("pyyaml-libyaml-lazy", "original").ok:
        pytest.skip("the original does not work (test_original_works says why)")
    o = lab.variant("pyyaml-libyaml-lazy", "migrate")
    record = o.migrate
    assert "multistage" in record["kept"], record
    assert record["runtime_packages"] == ["libyaml-0-2"], record
    assert "libyaml-0-2" in o.dockerfile and "distroless" not in o.dockerfile, o.dockerfile


def test_migrate_tries_upgrades_last_and_reports_them_apart(lab: Lab) -> None:
    """Node 20 apps without a version pin: the move to a supported Node is tried after the codemods, on
    its own, kept where the app still works (node20-upgrade-kept) and dropped with the app's own error
    where it does not (node20-upgrade-dropped: an addon built for Node 20's ABI); the split stays."""
    for name, kept in (("node20-upgrade-kept", True), ("node20-upgrade-dropped", False)):
        if not lab.variant(name, "original").ok:
            pytest.skip(f"{name}: the original does not work (test_original_works says why)")
        o = lab.variant(name, "migrate")
        record = o.migrate
        assert "multistage" in record["kept"] and "upgrade" not in record["kept"], record
        (up,) = record["upgrades"]
        assert up["from"] == "Node 20" and up["kept"] is kept, up
        if kept:
            assert f"FROM node:{up['to'].split()[1]}" in o.dockerfile, o.dockerfile
        else:
            assert "NODE_MODULE_VERSION 115" in up["evidence"] and "FROM node:20" in o.dockerfile, up


def test_migrate_original_that_does_not_build_gets_only_safe_fixes(images: Images, tmp_path: Path) -> None:
    """The original fails to build here (a COPY of a file the checkout lacks): migrate guesses nothing,
    writes only the safe fixes and reports the file "not verified" with the reason."""
    images.require("docker.io/library/python:3.13-slim")
    (tmp_path / "Dockerfile").write_text(
        "FROM python:3.13-slim\nWORKDIR /app\nCOPY generated-config.ini /app/\nCOPY app.py /app/\n"
        "CMD python app.py\n")
    (tmp_path / "app.py").write_text("print('hi')\n")
    report = tmp_path / "report.json"
    argv = [sys.executable, "-m", "rewriter.faces.cli", "migrate", "--builder", "buildah", "--format", "json",
            "--output", str(report), "Dockerfile"]
    proc = subprocess.run(argv, cwd=tmp_path, env=images.env, capture_output=True, text=True, timeout=900,
                          check=False)
    assert proc.returncode == 1, proc.stderr
    record = json.loads(report.read_text())["files"][0]
    assert record["status"] == "not verified", record
    assert "the original does not build here" in record["reason"]
    text = (tmp_path / "Dockerfile").read_text()
    assert 'CMD ["python", "app.py"]' in text  # signals: safe
    assert "USER" not in text  # nonroot: unsafe, not applied
