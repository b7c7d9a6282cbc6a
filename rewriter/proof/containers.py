"""Builds and containers for ``verify`` and ``migrate``: running commands, the small :class:`Builder`
protocol, and :class:`CliBuilder`, which drives the docker/podman/buildah command lines (tests inject a
fake builder instead). No knowledge of Dockerfiles or rewrites lives here.

The engine may be elsewhere: Docker through ``DOCKER_HOST`` or the current docker context (``tcp://``,
``ssh://``), Podman through ``CONTAINER_HOST`` (a ``podman system service``). Then nothing assumes the
container runs on this host: a served port is published on the engine's host (a port the engine picks,
read back with ``port``) and requested there; the container's user comes from the engine (``top``), not
from this host's ``/proc``; images are saved through the engine's API into a local file. With a local
engine the behaviour is the one it always was (a port on 127.0.0.1, the uid from ``/proc``).
"""

from __future__ import annotations

import http.client
import json
import shutil
import socket
import subprocess
import time
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

BUILDERS = ("docker", "podman", "buildah")
#: the label every image a verification builds carries (its run id), so all of them can be removed
LABEL = "dockerfix.verify"
#: how long one build may take (seconds)
BUILD_TIMEOUT = 1800.0
#: how long a short builder command (inspect, create, rm ...) may take
CMD_TIMEOUT = 120.0
MAX_BODY = 4 * 1024 * 1024


class VerifyError(Exception):
    """Verification cannot be done (exit 2); the message is one line."""


# --------------------------------------------------------------------------- running commands


@dataclass
class Proc:
    """A finished command: exit code (``None`` if it timed out or could not start), output."""

    returncode: int | None
    stdout: str = ""
    stderr: str = ""
    timed_out: bool = False
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def reason(self) -> str:
        """One line saying why the command failed (the last line of its error output)."""
        if self.error:
            return self.error
        if self.timed_out:
            return "timed out"
        lines = [ln.strip() for ln in (self.stderr or self.stdout).splitlines() if ln.strip()]
        return f"exit {self.returncode}" + (f": {lines[-1]}" if lines else "")


def _decode(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data if isinstance(data, str) else data.decode("utf-8", errors="replace")


def execute(argv: Sequence[str], *, env: Mapping[str, str], timeout: float) -> Proc:
    """Run ``argv`` (stdin closed) and capture its output; never raises."""
    try:
        proc = subprocess.run(
            list(argv), env=dict(env), capture_output=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired as exc:
        return Proc(None, _decode(exc.stdout), _decode(exc.stderr), timed_out=True)
    except OSError as exc:
        return Proc(None, error=f"cannot run {argv[0]}: {exc.strerror or exc}")
    return Proc(proc.returncode, _decode(proc.stdout), _decode(proc.stderr))


Execute = Callable[..., Proc]


# --------------------------------------------------------------------------- the builder protocol


@dataclass
class RunResult:
    """A container run to completion."""

    exit_code: int | None = None
    stdout: str = ""
    stderr: str = ""
    uid: int | None = None
    timed_out: bool = False
    error: str | None = None  # the container could not be created or started


@dataclass
class HttpResult:
    """A container serving HTTP: the answer to ``GET /`` (or why there was none)."""

    status: int | None = None
    body: bytes = b""
    uid: int | None = None
    error: str | None = None
    #: no HTTP answer, but the port answered in another protocol (redis, postgres): the service listens
    not_http: bool = False
    logs: str = ""


@dataclass
class ImageInfo:
    user: str
    size: int | None
    metadata: str = ""  # image inspect + history output, searched for secrets


class Builder(Protocol):
    """What verify needs from a container tool; :class:`CliBuilder` is the real one."""

    name: str

    def build(
        self, *, context: Path, dockerfile: Path, tag: str, flags: Sequence[str], label: str,
        env: Mapping[str, str], timeout: float,
    ) -> Proc: ...  # fmt: skip

    def run(
        self, tag: str, *, name: str, run_args: Sequence[str], cmd: Sequence[str] | None, timeout: float,
        want_uid: bool,
    ) -> RunResult: ...  # fmt: skip

    def serve(
        self, tag: str, *, name: str, run_args: Sequence[str], cmd: Sequence[str] | None, port: int, timeout: float,
        path: str = "/",
    ) -> HttpResult: ...

    def inspect(self, tag: str) -> ImageInfo | None: ...

    def export(self, tag: str, dest: Path) -> str | None:
        """Write the image as an archive (oci/docker) to ``dest``; an error message or ``None``."""
        ...

    def cleanup(self, *, containers: Sequence[str], tags: Sequence[str], label: str, keep: bool) -> None: ...


def _first_line(text: str) -> str:
    return next((ln.strip() for ln in text.splitlines() if ln.strip()), "")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_get(
    port: int,
    deadline: float,
    exited: Callable[[], int | None],
    *,
    host: str = "127.0.0.1",
    sleep: Callable[[float], None] = time.sleep,
    path: str = "/",
) -> HttpResult:
    """``GET path`` (default ``/``) on ``host:port``, retried until an answer or ``deadline`` (``time.monotonic``).

    ``exited()`` returns the container's exit code once it has stopped (``None`` while it runs).
    No proxy is used. Any HTTP status is an answer.
    """
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return HttpResult(error="no HTTP answer before the deadline (--timeout)")
        conn = http.client.HTTPConnection(host, port, timeout=max(0.2, min(5.0, remaining)))
        try:
            conn.request("GET", path)
            resp = conn.getresponse()
            return HttpResult(status=resp.status, body=resp.read(MAX_BODY))
        except http.client.RemoteDisconnected:
            pass  # closed without a byte: a proxy with nothing behind it, or a server still starting
        except http.client.BadStatusLine:
            # bytes came back that are not HTTP (redis' "-ERR …", a database's greeting): it listens
            return HttpResult(error="the port answers, but not in HTTP", not_http=True)
        except (OSError, http.client.HTTPException):
            pass
        finally:
            conn.close()
        code = exited()
        if code is not None:
            return HttpResult(error=f"the container exited (code {code}) before answering")
        sleep(0.25)


def process_uid(pid: int) -> int | None:
    """The effective uid of host process ``pid`` (``/proc``), or ``None``."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("Uid:"):
                return int(line.split()[2])
    except (OSError, ValueError, IndexError):
        return None
    return None


def _url_host(url: str) -> str | None:
    """The host of an engine URL that is not on this machine (``tcp://``, ``ssh://``, ``http(s)://``);
    ``None`` for a local socket (``unix://``, ``npipe://``)."""
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme in {"tcp", "ssh", "http", "https"} and parts.hostname:
        return parts.hostname
    return None


def engine_host(run_cli: str, env: Mapping[str, str], run: Execute = execute) -> str | None:
    """Where a remote engine runs its containers (published ports are reached there), ``None`` when the
    engine is local: ``CONTAINER_HOST`` for podman (it makes podman remote by itself), ``DOCKER_HOST`` or
    the current docker context for docker."""
    if run_cli == "podman":
        return _url_host(env.get("CONTAINER_HOST") or "")
    if env.get("DOCKER_HOST"):
        return _url_host(env["DOCKER_HOST"])
    context = env.get("DOCKER_CONTEXT")
    if context is None:
        p = run(["docker", "context", "show"], env=env, timeout=30)
        context = p.stdout.strip() if p.ok else "default"
    if context in {"", "default"}:
        return None
    p = run(["docker", "context", "inspect", "--format", "{{.Endpoints.docker.Host}}", context], env=env,
            timeout=30)
    return _url_host(p.stdout) if p.ok else None


class CliBuilder:
    """docker, podman (build and run) or buildah (build) + podman (run), through their command lines."""

    def __init__(self, name: str, env: Mapping[str, str], execute: Execute = execute,
                 remote_host: str | None = None) -> None:  # fmt: skip
        if name not in BUILDERS:
            raise ValueError(name)
        self.name = name
        self.env = dict(env)
        self.execute = execute
        self.run_cli = "docker" if name == "docker" else "podman"
        #: the engine's host when it is remote (:func:`engine_host`); None: this machine
        self.remote_host = remote_host
        #: podman can create the container's process (already switched to its user) before starting it
        self.can_init = self.run_cli == "podman"

    def _cmd(self, *argv: str, timeout: float = CMD_TIMEOUT, env: Mapping[str, str] | None = None) -> Proc:
        return self.execute(list(argv), env={**self.env, **(env or {})}, timeout=timeout)

    # -- build
    def build_argv(self, *, context: Path, dockerfile: Path, tag: str, flags: Sequence[str], label: str) -> list[str]:
        common = ["--label", f"{LABEL}={label}", "-t", tag, *flags, "-f", str(dockerfile), str(context)]
        if self.name == "docker":
            return ["docker", "build", *common]
        head = ["podman", "build"] if self.name == "podman" else ["buildah", "bud"]
        # one layer per instruction like docker build; docker image format keeps SHELL/HEALTHCHECK
        return [*head, "--layers", "--force-rm", "--format", "docker", *common]

    def build(
        self, *, context: Path, dockerfile: Path, tag: str, flags: Sequence[str], label: str,
        env: Mapping[str, str], timeout: float,
    ) -> Proc:  # fmt: skip
        argv = self.build_argv(context=context, dockerfile=dockerfile, tag=tag, flags=flags, label=label)
        extra = {"DOCKER_BUILDKIT": "1"} if self.name == "docker" else {}
        return self._cmd(*argv, timeout=timeout, env={**env, **extra})

    # -- run
    def create_argv(self, tag: str, name: str, run_args: Sequence[str], cmd: Sequence[str] | None,
                    publish: str | None = None) -> list[str]:  # fmt: skip
        argv = [self.run_cli, "create", "--name", name]
        if publish:
            argv += ["-p", publish]
        argv += list(run_args)
        if cmd:
            argv += ["--entrypoint", cmd[0], tag, *cmd[1:]]
        else:
            argv.append(tag)
        return argv

    def _uid(self, name: str) -> int | None:
        if self.remote_host is not None:
            return self._engine_uid(name)
        p = self._cmd(self.run_cli, "inspect", "-f", "{{.State.Pid}}", name, timeout=60)
        try:
            pid = int(p.stdout.strip())
        except ValueError:
            return None
        return process_uid(pid) if pid > 0 else None

    def _engine_uid(self, name: str) -> int | None:
        """The uid of the container's first process as the engine sees it (``top``): a number, or
        ``root``; a name it cannot turn into a number gives ``None``, never a guess."""
        if self.run_cli == "docker":
            p = self._cmd("docker", "top", name, "-o", "uid", timeout=60)
        else:
            p = self._cmd("podman", "top", name, "huser", timeout=60)
        lines = [ln.strip() for ln in p.stdout.splitlines()[1:] if ln.strip()] if p.ok else []
        if not lines:
            return None
        first = lines[0].split()[0]
        if first == "root":
            return 0
        return int(first) if first.isdigit() else None

    def _published(self, name: str, port: int) -> int | None:
        """The engine host's port that the container's ``port`` is published on."""
        p = self._cmd(self.run_cli, "port", name, f"{port}/tcp", timeout=60)
        for line in p.stdout.splitlines() if p.ok else []:
            _host, sep, number = line.strip().rpartition(":")
            if sep and number.isdigit():
                return int(number)
        return None

    def _create(self, argv: Sequence[str], name: str, want_uid: bool) -> tuple[str | None, int | None]:
        p = self._cmd(*argv)
        if not p.ok:
            return f"cannot create the container: {p.reason()}", None
        uid = None
        if want_uid and self.can_init:
            init = self._cmd(self.run_cli, "init", name)
            if init.ok:
                uid = self._uid(name)
        return None, uid

    def run(
        self, tag: str, *, name: str, run_args: Sequence[str], cmd: Sequence[str] | None, timeout: float,
        want_uid: bool,
    ) -> RunResult:  # fmt: skip
        error, uid = self._create(self.create_argv(tag, name, run_args, cmd), name, want_uid)
        if error:
            return RunResult(error=error)
        p = self._cmd(self.run_cli, "start", "-a", name, timeout=timeout)
        if p.timed_out:
            self._cmd(self.run_cli, "kill", name)
            return RunResult(None, p.stdout, p.stderr, uid, timed_out=True)
        if p.error:
            return RunResult(error=p.error, uid=uid)
        return RunResult(p.returncode, p.stdout, p.stderr, uid)

    def serve(
        self, tag: str, *, name: str, run_args: Sequence[str], cmd: Sequence[str] | None, port: int, timeout: float,
        path: str = "/",
    ) -> HttpResult:
        deadline = time.monotonic() + timeout
        remote = self.remote_host is not None
        # a remote engine picks a free port of its own host; a local one gets one of 127.0.0.1's
        host_port: int | None = None if remote else free_port()
        publish = str(port) if remote else f"127.0.0.1:{host_port}:{port}"
        argv = self.create_argv(tag, name, run_args, cmd, publish=publish)
        error, uid = self._create(argv, name, True)
        if error:
            return HttpResult(error=error)
        p = self._cmd(self.run_cli, "start", name)
        if not p.ok:
            return HttpResult(error=f"cannot start the container: {p.reason()}", uid=uid)
        if uid is None:
            uid = self._uid(name)
        if remote:
            host_port = self._published(name, port)
            if host_port is None:
                self._cmd(self.run_cli, "kill", name)
                return HttpResult(error=f"the engine did not say where port {port} is published", uid=uid)

        def exited() -> int | None:
            s = self._cmd(self.run_cli, "inspect", "-f", "{{.State.Running}} {{.State.ExitCode}}", name, timeout=60)
            words = s.stdout.split()
            if not s.ok or len(words) != 2 or words[0] == "true":
                return None
            try:
                return int(words[1])
            except ValueError:
                return None

        res = http_get(host_port, deadline, exited, path=path, host=self.remote_host or "127.0.0.1")
        res.uid = uid
        if res.error:
            logs = self._cmd(self.run_cli, "logs", name, timeout=60)
            res.logs = logs.stdout + logs.stderr
        self._cmd(self.run_cli, "kill", name)
        return res

    # -- images
    def inspect(self, tag: str) -> ImageInfo | None:
        p = self._cmd(self.run_cli, "image", "inspect", tag)
        try:
            data = json.loads(p.stdout) if p.ok else None
        except ValueError:
            data = None
        if isinstance(data, list):
            data = data[0] if data else None
        if not isinstance(data, dict):
            return None
        config = data.get("Config") or data.get("config") or {}
        user = str(config.get("User") or "") if isinstance(config, dict) else ""
        size = data.get("Size")
        fmt = "{{json .}}" if self.run_cli == "docker" else "json"
        history = self._cmd(self.run_cli, "history", "--no-trunc", "--format", fmt, tag)
        return ImageInfo(user, size if isinstance(size, int) else None, p.stdout + "\n" + history.stdout)

    def export(self, tag: str, dest: Path) -> str | None:
        if self.run_cli == "docker":
            argv = ["docker", "save", "-o", str(dest), tag]
        else:
            argv = ["podman", "save", "--format", "oci-archive", "-o", str(dest), tag]
        p = self._cmd(*argv, timeout=900)
        return None if p.ok else f"cannot save the image: {p.reason()}"

    def cleanup(self, *, containers: Sequence[str], tags: Sequence[str], label: str, keep: bool) -> None:
        if keep:
            return
        if containers:
            force = ["-f"] if self.run_cli == "docker" else ["-f", "-t", "0"]
            self._cmd(self.run_cli, "rm", *force, *containers)
        image_cli = "buildah" if self.name == "buildah" else self.run_cli
        for tag in tags:
            self._cmd(image_cli, "rmi", tag)
        if self.name == "docker":
            self._cmd("docker", "image", "prune", "-f", "--filter", f"label={LABEL}={label}")
            return
        # intermediate images (--layers), those of other stages and of failed builds
        listed = self._cmd(image_cli, "images", "-a", "-q", "--filter", f"label={LABEL}={label}")
        ids = list(dict.fromkeys(listed.stdout.split())) if listed.ok else []
        if ids:
            self._cmd(image_cli, "rmi", "-f", *ids)


def _usable(tool: str, env: Mapping[str, str], which: Callable[..., str | None], run: Execute) -> str | None:
    """``None`` if ``tool info`` succeeds, else why not."""
    if which(tool, path=env.get("PATH")) is None:
        return "not installed"
    p = run([tool, "info"], env=env, timeout=30)
    return None if p.ok else f"`{tool} info` failed ({p.reason()})"


def detect_builder(
    preferred: str | None,
    env: Mapping[str, str],
    *,
    which: Callable[..., str | None] = shutil.which,
    execute: Execute = execute,
) -> CliBuilder:
    """The builder to use: ``preferred``, or docker, podman, buildah+podman, the first usable one.

    Raises :class:`VerifyError` (one line) when none is usable.
    """
    if preferred is not None and preferred not in BUILDERS:
        raise VerifyError(f"--builder {preferred}: unknown builder (use docker, podman or buildah)")
    candidates = [preferred] if preferred else list(BUILDERS)
    problems: list[str] = []
    for name in candidates:
        why = _usable(name, env, which, execute)
        if why is None and name == "buildah" and _url_host(env.get("CONTAINER_HOST") or "") is not None:
            why = "buildah builds on this machine only, and CONTAINER_HOST names a remote engine (use podman)"
        if why is None and name == "buildah":
            runner = _usable("podman", env, which, execute)
            if runner is not None:
                why = f"podman is needed to run the images it builds: {runner}"
        if why is None:
            run_cli = "docker" if name == "docker" else "podman"
            return CliBuilder(name, env, execute, remote_host=engine_host(run_cli, env, execute))
        problems.append(f"{name}: {why}")
    if preferred:
        raise VerifyError(f"--builder {preferred} is not usable: {problems[0].split(': ', 1)[1]}")
    raise VerifyError(
        "no usable container builder (" + "; ".join(problems) + "); install Docker or Podman, or pass --builder"
    )


