"""``dockerfix verify PATH``: build and run the original and the rewritten Dockerfile, and compare them.

What it does, in order:

1. Rewrites ``PATH`` in memory (the same transforms, ``--select``/``--ignore``/``--unsafe-fixes`` and
   configuration as ``dockerfix fix``). Nothing to rewrite: ``nothing to verify``, exit 0.
2. Works out what the rewritten build needs (:attr:`FileResult.build_flags`):
   ``--secret id=X,src=REL`` gets the absolute path of the *user's* file ``REL`` (relative to the build
   context; not the temporary copy), ``--secret id=X,env=NAME`` needs ``NAME`` in the environment (its
   value reaches the builder through the environment only, never argv), ``--ssh default`` needs
   ``SSH_AUTH_SOCK``. The original build gets ``--build-arg NAME`` (value from the environment) for
   every ``env=`` secret whose ``ARG NAME`` the rewrite replaced. ``--secret`` options given to
   ``verify`` replace the source of the secret with the same id, or are passed to both builds.
3. Finds a builder (``--builder docker|podman|buildah``; by default the first usable one in that
   order: docker if ``docker info`` succeeds, podman if ``podman info`` succeeds; buildah builds and
   podman runs for ``--builder buildah``).
4. Copies the build context to a temporary folder (the user's tree is never written; folders the
   ``.dockerignore`` excludes are not copied when it has no ``!`` exceptions), builds the original
   there, then writes the rewritten Dockerfile and side files over the copy and builds that. Both
   builds commit one layer per instruction (``--layers``, like ``docker build``) and carry the label
   ``dockerfix.verify=<run id>``, so every image they make, intermediate ones included, is removed
   at the end (unless ``--keep``).
5. Runs both images to completion (``--run-args`` go to ``create``; ``--smoke-cmd`` replaces the
   image's ENTRYPOINT and CMD) and compares the exit code, stdout and stderr; with ``--port`` it
   publishes the port on 127.0.0.1, retries ``GET /`` until ``--timeout`` and compares the HTTP
   status and body instead. With ``--smoke-cmd`` or ``--port`` it also reads the uid the process
   really runs as (podman: from the container's init process; docker: once it runs), if it can.
6. Looks for every secret's bytes (the file's contents, the variable's value; also JSON-escaped; and
   the contents of the files the rewrite newly excludes in ``.dockerignore``) in every blob of both
   images (saved to an archive in the temporary folder, layers gunzipped) and in ``image inspect`` /
   ``history`` output. Secret values are never printed: build and run output
   shown on failure is redacted.

The table goes to stdout, every message to stderr. Exit codes:

* 0 -- verified: the rewritten image builds, the runs agree (exit code and output, or HTTP status and
  body with ``--port``), no secret in the rewritten image. Also 0, with ``nothing to verify``, when
  the file has nothing to rewrite.
* 1 -- not verified: a table row says which check failed (the rewritten build, the run, a secret).
  With ``--port``, an original that gives no HTTP answer is a failure too (check ``--port``). Two runs
  that both hit ``--timeout`` count as the same exit; their output so far is still compared.
* 2 -- cannot verify: bad input or options, no usable builder, a secret the rewritten build needs is
  missing, or the original itself does not build (nothing to compare).

The builder is reached through the small :class:`Builder` protocol (:class:`CliBuilder` runs the
docker/podman/buildah command lines); tests inject a fake one.
"""

from __future__ import annotations

import contextlib
import difflib
import gzip
import http.client
import json
import os
import shlex
import shutil
import socket
import stat
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, BinaryIO, Protocol

BUILDERS = ("docker", "podman", "buildah")
LABEL = "dockerfix.verify"
TAG_PREFIX = "localhost/dockerfix-verify-"
#: how long one build may take (seconds)
BUILD_TIMEOUT = 1800.0
#: how long a short builder command (inspect, create, rm ...) may take
CMD_TIMEOUT = 120.0
MAX_BODY = 4 * 1024 * 1024
#: files the rewrite keeps out of the context larger than this are not searched for
MAX_SECRET_FILE = 1024 * 1024
#: secrets shorter than this are not searched for (too many false hits)
MIN_NEEDLE = 4
ORIGINAL, REWRITTEN = "original", "rewritten"


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


class CliBuilder:
    """docker, podman (build and run) or buildah (build) + podman (run), through their command lines."""

    def __init__(self, name: str, env: Mapping[str, str], execute: Execute = execute) -> None:
        if name not in BUILDERS:
            raise ValueError(name)
        self.name = name
        self.env = dict(env)
        self.execute = execute
        self.run_cli = "docker" if name == "docker" else "podman"
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
        p = self._cmd(self.run_cli, "inspect", "-f", "{{.State.Pid}}", name, timeout=60)
        try:
            pid = int(p.stdout.strip())
        except ValueError:
            return None
        return process_uid(pid) if pid > 0 else None

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
        host_port = free_port()
        argv = self.create_argv(tag, name, run_args, cmd, publish=f"127.0.0.1:{host_port}:{port}")
        error, uid = self._create(argv, name, True)
        if error:
            return HttpResult(error=error)
        p = self._cmd(self.run_cli, "start", name)
        if not p.ok:
            return HttpResult(error=f"cannot start the container: {p.reason()}", uid=uid)
        if uid is None:
            uid = self._uid(name)

        def exited() -> int | None:
            s = self._cmd(self.run_cli, "inspect", "-f", "{{.State.Running}} {{.State.ExitCode}}", name, timeout=60)
            words = s.stdout.split()
            if not s.ok or len(words) != 2 or words[0] == "true":
                return None
            try:
                return int(words[1])
            except ValueError:
                return None

        res = http_get(host_port, deadline, exited, path=path)
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
        if why is None and name == "buildah":
            runner = _usable("podman", env, which, execute)
            if runner is not None:
                why = f"podman is needed to run the images it builds: {runner}"
        if why is None:
            return CliBuilder(name, env, execute)
        problems.append(f"{name}: {why}")
    if preferred:
        raise VerifyError(f"--builder {preferred} is not usable: {problems[0].split(': ', 1)[1]}")
    raise VerifyError(
        "no usable container builder (" + "; ".join(problems) + "); install Docker or Podman, or pass --builder"
    )


# --------------------------------------------------------------------------- secrets


@dataclass
class Secret:
    """One secret a build needs: where its value comes from (a file or a variable) and its bytes."""

    id: str
    src: Path | None = None
    env: str | None = None
    value: bytes = b""
    #: not a build secret: a file the rewrite keeps out of the context, searched for all the same
    scan_only: bool = False

    def flag(self) -> list[str]:
        if self.src is not None:
            return ["--secret", f"id={self.id},src={self.src}"]
        return ["--secret", f"id={self.id},env={self.env}"]

    def needles(self) -> list[bytes]:
        """What to search the images for: the value, trimmed, and JSON-escaped (config, history)."""
        out: list[bytes] = []
        for raw in (self.value, self.value.strip()):
            if len(raw) < MIN_NEEDLE:
                continue
            out.append(raw)
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                continue
            out.append(json.dumps(text)[1:-1].encode())
            out.append(json.dumps(text, ensure_ascii=False)[1:-1].encode())
        return list(dict.fromkeys(out))

    def redactions(self) -> list[str]:
        """Strings to blank out of anything printed: the value, its lines and its longer words."""
        text = self.value.decode("utf-8", errors="replace")
        out = {text, text.strip()}
        for line in text.splitlines():
            out.add(line.strip())
            out.update(w for w in line.split() if len(w) >= 6)
        return sorted((s for s in out if len(s) >= 3), key=len, reverse=True)


@dataclass
class SecretPlan:
    """The flags and environment of both builds, and what to search the images for."""

    original_flags: list[str] = field(default_factory=list)
    rewritten_flags: list[str] = field(default_factory=list)
    original_env: dict[str, str] = field(default_factory=dict)
    secrets: list[Secret] = field(default_factory=list)

    def redactions(self) -> list[str]:
        return sorted({r for s in self.secrets for r in s.redactions()}, key=len, reverse=True)


def parse_flag(flag: str) -> tuple[str, dict[str, str]]:
    """``--secret id=x,src=.npmrc`` -> (``secret``, {id, src}); ``--ssh default`` -> (``ssh``, {id: default})."""
    kind, _, spec = flag.strip().removeprefix("--").partition(" ")
    return kind, parse_spec(spec)


def parse_spec(spec: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in spec.split(","):
        key, eq, value = part.strip().partition("=")
        if eq:
            out[key.strip()] = value.strip()
        elif key:
            out["id"] = key.strip()
    return out


def _read_secret_file(sid: str, path: Path, shown: str) -> bytes:
    if not path.is_file():
        raise VerifyError(f"secret `{sid}`: {shown} does not exist (or is not a file)")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise VerifyError(f"secret `{sid}`: cannot read {shown}: {exc.strerror or exc}") from None


def _user_secret(spec: str, env: Mapping[str, str], cwd: Path) -> Secret:
    parts = parse_spec(spec.removeprefix("--secret").strip())
    sid = parts.get("id", "")
    if not sid or ("src" in parts) == ("env" in parts):
        raise VerifyError(f"--secret {spec!r}: expected id=ID,src=PATH or id=ID,env=NAME")
    if "src" in parts:
        path = (cwd / parts["src"]).absolute()
        return Secret(sid, src=path, value=_read_secret_file(sid, path, parts["src"]))
    name = parts["env"]
    value = env.get(name)
    if not value:
        raise VerifyError(f"--secret {sid}: environment variable {name} is not set (or empty)")
    return Secret(sid, env=name, value=value.encode())


def arg_names(text: str) -> set[str]:
    """The names every ``ARG`` of a Dockerfile declares."""
    from rewriter.syntax import parse

    names: set[str] = set()
    for inst in parse(text).instructions:
        if inst.keyword == "ARG":
            for word in inst.arguments.split():
                names.add(word.split("=", 1)[0])
    return names


def plan_secrets(
    build_flags: Sequence[str],
    *,
    context: Path,
    original_text: str,
    env: Mapping[str, str],
    user_secrets: Sequence[str] = (),
    cwd: Path | None = None,
) -> SecretPlan:
    """Map the rewrite's ``build_flags`` (and ``--secret`` options) to real builder flags.

    Raises :class:`VerifyError` for a secret file that does not exist, an unset variable, or ``--ssh``
    without an agent. Values never go into the flags: files by absolute path, variables by name.
    """
    cwd = cwd or Path.cwd()
    given = {s.id: s for s in (_user_secret(spec, env, cwd) for spec in user_secrets)}
    plan = SecretPlan()
    declared = arg_names(original_text)
    used: set[str] = set()
    for flag in build_flags:
        kind, parts = parse_flag(flag)
        if kind == "ssh":
            if not env.get("SSH_AUTH_SOCK"):
                raise VerifyError(
                    "the rewritten build needs `--ssh default` (an SSH agent), but SSH_AUTH_SOCK is not set"
                )
            plan.rewritten_flags += ["--ssh", parts.get("id", "default")]
            continue
        if kind != "secret" or not parts.get("id"):
            raise VerifyError(f"internal error: unexpected build flag {flag!r}")
        sid = parts["id"]
        if sid in given:
            secret = given[sid]
            used.add(sid)
        elif "src" in parts:
            path = (context / parts["src"]).absolute()
            secret = Secret(sid, src=path, value=_read_secret_file(sid, path, f"{parts['src']} in {context}"))
        elif "env" in parts:
            name = parts["env"]
            value = env.get(name)
            if not value:
                raise VerifyError(
                    f"the rewritten build needs secret `{sid}` from environment variable {name}, which is not set"
                    f" (or empty): export it, or pass --secret id={sid},src=FILE"
                )
            secret = Secret(sid, env=name, value=value.encode())
        else:
            raise VerifyError(f"internal error: build flag {flag!r} names no source")
        plan.secrets.append(secret)
        plan.rewritten_flags += secret.flag()
        name = parts.get("env")
        if name and name in declared:
            # the original took the value as a build argument: --build-arg NAME, the value in the environment
            plan.original_flags += ["--build-arg", name]
            if secret.env != name:
                plan.original_env[name] = secret.value.decode("utf-8", errors="replace").strip()
    for sid, secret in given.items():
        if sid not in used:  # secrets the original already mounts: both builds get them
            plan.secrets.append(secret)
            plan.original_flags += secret.flag()
            plan.rewritten_flags += secret.flag()
    return plan


def excluded_secret_files(old_ignore: str | None, new_ignore: str | None, context: Path,
                          limit: int = 20) -> list[Secret]:  # fmt: skip
    """Files of ``context`` the rewrite newly excludes in ``.dockerignore`` (the secrets transform's block):
    their contents are searched for in the images too, though no build flag names them."""
    from rewriter.dockerignore import BLOCK_COMMENT, find_files, is_excluded, parse

    if not new_ignore or BLOCK_COMMENT not in new_ignore:
        return []
    old_lines = set((old_ignore or "").splitlines())
    block = new_ignore.rsplit(BLOCK_COMMENT, 1)[1]
    added = [p for p in parse("\n".join(ln for ln in block.splitlines() if ln not in old_lines)) if not p.exclusion]
    if not added:
        return []
    out: list[Secret] = []
    for rel in find_files(context, lambda r: is_excluded(r, added))[:limit]:
        path = (context / rel).absolute()
        with contextlib.suppress(OSError):
            if path.stat().st_size <= MAX_SECRET_FILE:
                out.append(Secret(rel, src=path, value=path.read_bytes(), scan_only=True))
    return out


def redact(text: str, secrets: Iterable[str]) -> str:
    for s in secrets:
        if s:
            text = text.replace(s, "<redacted>")
    return text


def _chunks(stream: BinaryIO, size: int = 1 << 20) -> Iterator[bytes]:
    while True:
        data = stream.read(size)
        if not data:
            return
        yield data


def _scan_stream(stream: BinaryIO, needles: Mapping[str, Sequence[bytes]], found: set[str]) -> None:
    longest = max((len(n) for ns in needles.values() for n in ns), default=1)
    tail = b""
    for chunk in _chunks(stream):
        buf = tail + chunk
        for sid, ns in needles.items():
            if sid not in found and any(n in buf for n in ns):
                found.add(sid)
        tail = buf[max(0, len(buf) - longest + 1) :] if longest > 1 else b""


def scan_archive(archive: Path, needles: Mapping[str, Sequence[bytes]]) -> set[str]:
    """The ids whose needles occur in any file of the image archive (oci or docker), gunzipped if needed.

    Raises :class:`VerifyError` for a blob that cannot be read (e.g. zstd-compressed).
    """
    found: set[str] = set()
    try:
        with tarfile.open(archive) as outer:
            for member in outer:
                if not member.isfile():
                    continue
                raw = outer.extractfile(member)
                if raw is None:
                    continue
                head = raw.read(4)
                raw.seek(0)
                if head[:2] == b"\x1f\x8b":
                    with gzip.GzipFile(fileobj=raw) as gz:
                        _scan_stream(gz, needles, found)  # type: ignore[arg-type]
                elif head == b"\x28\xb5\x2f\xfd":
                    raise VerifyError(f"{member.name}: zstd-compressed layer, cannot search it for secrets")
                else:
                    _scan_stream(raw, needles, found)
    except (OSError, tarfile.TarError, EOFError) as exc:
        raise VerifyError(f"cannot read the saved image: {exc}") from None
    return found


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def scan_metadata(text: str, secrets: Sequence[Secret]) -> set[str]:
    """The ids of ``secrets`` found in inspect/history output (raw, or in any JSON string it holds)."""
    data = text.encode("utf-8", errors="replace")
    decoded: list[str] = []
    for line in [text, *text.splitlines()]:
        with contextlib.suppress(ValueError):
            decoded.extend(_strings(json.loads(line)))
    blob = "\n".join(decoded).encode("utf-8", errors="replace")
    found = set()
    for s in secrets:
        ns = s.needles()
        if any(n in data or n in blob for n in ns):
            found.add(s.id)
    return found


# --------------------------------------------------------------------------- the build context copy


def copy_context(src: Path, dest: Path, ignore_texts: Sequence[str | None] = ()) -> None:
    """Copy the build context ``src`` to ``dest`` (symlinks as links; sockets, FIFOs and devices left out,
    and ``dest``'s folder if it lies inside ``src``).

    A folder every given ``.dockerignore`` text excludes is left out too, but only when none of them has
    an exception (``!``) pattern: then nothing below it can reach the builder.
    """
    from rewriter.dockerignore import is_excluded, parse

    pattern_sets = []
    for text in ignore_texts:
        pats = parse(text) if text else []
        pattern_sets.append(pats)
    prune = bool(pattern_sets) and all(pattern_sets) and not any(p.exclusion for ps in pattern_sets for p in ps)
    own = os.path.realpath(dest.parent)

    def skip(folder: str, names: list[str]) -> set[str]:
        out = set()
        rel_dir = os.path.relpath(folder, src)
        for name in names:
            try:
                mode = os.lstat(os.path.join(folder, name)).st_mode
            except OSError:
                out.add(name)
                continue
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode)):
                out.add(name)
            elif stat.S_ISDIR(mode) and os.path.realpath(os.path.join(folder, name)) == own:
                out.add(name)  # the temporary folder itself (a context that holds the temp dir)
            elif prune and stat.S_ISDIR(mode):
                rel = name if rel_dir == "." else f"{rel_dir}/{name}".replace(os.sep, "/")
                if all(is_excluded(rel, ps) for ps in pattern_sets):
                    out.add(name)
        return out

    shutil.copytree(src, dest, symlinks=True, ignore=skip)


# --------------------------------------------------------------------------- report


@dataclass
class Side:
    """What happened to one of the two images."""

    label: str
    tag: str
    container: str
    built: bool | None = None
    build_seconds: float = 0.0
    build: Proc | None = None
    info: ImageInfo | None = None
    run: RunResult | None = None
    http: HttpResult | None = None
    secrets_found: set[str] | None = None  # None: not searched
    scan_error: str | None = None


def _human_size(n: int | None) -> str:
    if n is None:
        return "?"
    for unit, div in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= div:
            return f"{n / div:.1f} {unit}"
    return f"{n} B"


def _lines(text: str) -> str:
    if not text:
        return "empty"
    n = len(text.splitlines())
    return f"{n} line" + ("" if n == 1 else "s")


def _user(info: ImageInfo | None) -> str:
    if info is None:
        return "-"
    return info.user or "0"


def _exit(run: RunResult | None) -> str:
    if run is None:
        return "-"
    if run.error:
        return "not started"
    if run.timed_out:
        return "timed out"
    return str(run.exit_code)


@dataclass
class Verdict:
    rows: list[tuple[str, str, str, str]]
    failures: list[str]
    details: list[str]  # extra lines for stderr (diffs), already redacted


def _diff(name: str, a: str, b: str, redactions: Sequence[str], limit: int = 20) -> list[str]:
    lines = list(difflib.unified_diff(
        redact(a, redactions).splitlines(), redact(b, redactions).splitlines(),
        f"{name} ({ORIGINAL})", f"{name} ({REWRITTEN})", lineterm="", n=1,
    ))  # fmt: skip
    if len(lines) > limit:
        lines = [*lines[:limit], f"... ({len(lines) - limit} more diff lines)"]
    return [f"  {ln}" for ln in lines]


def compare(
    orig: Side, new: Side, *, port: int | None, secrets: Sequence[Secret], redactions: Sequence[str]
) -> Verdict:
    """The table rows (check, original, rewritten, result) and the failed checks."""
    rows: list[tuple[str, str, str, str]] = []
    failures: list[str] = []
    details: list[str] = []

    def built(s: Side) -> str:
        return "-" if s.built is None else ("yes" if s.built else "no") + f" ({s.build_seconds:.0f}s)"

    rows.append(("builds", built(orig), built(new), "ok" if new.built else "FAIL"))
    if not new.built:
        failures.append("the rewritten Dockerfile does not build")
    if port is None:
        a, b = orig.run, new.run
        if a is not None and b is not None:
            same_exit = _exit(a) == _exit(b) and not (a.error or b.error)
            rows.append(("exit code", _exit(a), _exit(b), "same" if same_exit else "FAIL"))
            if not same_exit:
                failures.append("exit codes differ" if not (a.error or b.error) else "a container did not start")
            for stream in ("stdout", "stderr"):
                x, y = getattr(a, stream), getattr(b, stream)
                rows.append((stream, _lines(x), _lines(y), "same" if x == y else "FAIL"))
                if x != y:
                    failures.append(f"{stream} differs")
                    details += [f"{stream} differs:", *_diff(stream, x, y, redactions)]
            if a.timed_out or b.timed_out:
                details.append("hint: a run timed out; for a server use --port, or --smoke-cmd for a command that ends")
        elif a is not None or b is not None:
            rows.append(("exit code", _exit(a), _exit(b), "-"))
    else:
        a, b = orig.http, new.http
        if a is not None and b is not None:
            sa = str(a.status) if a.status is not None else "no answer"
            sb = str(b.status) if b.status is not None else "no answer"
            same_status = a.status is not None and a.status == b.status
            rows.append((f"GET / ({port})", sa, sb, "same" if same_status else "FAIL"))
            same_body = a.status is not None and a.body == b.body
            body_a, body_b = _human_size(len(a.body)), _human_size(len(b.body))
            rows.append(("http body", body_a, body_b, "same" if same_body else "FAIL"))
            if not same_status:
                failures.append("HTTP status differs" if a.status is not None and b.status is not None
                                else "no HTTP answer")
            elif not same_body:
                failures.append("HTTP body differs")
                details += ["http body differs:", *_diff("body", _decode(a.body), _decode(b.body), redactions)]
            for s, r in ((orig, a), (new, b)):
                if r.error:
                    details.append(f"{s.label}: {redact(r.error, redactions)}")
                    details += [f"  | {ln}" for ln in redact(r.logs, redactions).splitlines()[-10:]]
        elif a is not None or b is not None:
            rows.append((f"GET / ({port})", "-", "-", "-"))
    rows.append(("user", _user(orig.info), _user(new.info),
                 "-" if new.info is None else ("same" if _user(orig.info) == _user(new.info) else "changed")))
    results = (orig.http, new.http) if port else (orig.run, new.run)
    uids = [r.uid if r is not None else None for r in results]
    if any(u is not None for u in uids):
        ua, ub = ("?" if u is None else str(u) for u in uids)
        rows.append(("process uid", ua, ub, "same" if ua == ub else "changed"))
    sa, sb = (s.info.size if s.info else None for s in (orig, new))
    change = "-"
    if sa and sb is not None:
        change = f"{(sb - sa) / sa * 100:+.1f}%"
    rows.append(("image size", _human_size(sa) if orig.info else "-", _human_size(sb) if new.info else "-", change))
    if secrets:
        def found(s: Side) -> str:
            if s.scan_error:
                return "unknown"
            if s.secrets_found is None:
                return "-"
            return ("found: " + ",".join(sorted(s.secrets_found))) if s.secrets_found else "none"

        ok = new.secrets_found is not None and not new.secrets_found and not new.scan_error
        rows.append(("secrets", found(orig), found(new), "ok" if ok else ("-" if not new.built else "FAIL")))
        if new.built and not ok:
            if new.scan_error:
                failures.append("the rewritten image could not be searched for secrets")
                details.append(f"{REWRITTEN}: {new.scan_error}")
            else:
                failures.append("a secret is in the rewritten image")
    else:
        rows.append(("secrets", "-", "-", "none to check"))
    return Verdict(rows, failures, details)


HEADER = ("check", ORIGINAL, REWRITTEN, "result")


def format_table(rows: Sequence[Sequence[str]], header: Sequence[str] = HEADER) -> str:
    table = [list(header), *[list(r) for r in rows]]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    out = []
    for r in table:
        out.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- the command


def _split(value: Sequence[str] | str | None, option: str) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return shlex.split(value)
        except ValueError as exc:
            raise VerifyError(f"{option}: {exc}") from None
    return list(value)


def _ids(value: Sequence[str] | str | None) -> list[str] | None:
    if value is None:
        return None
    items = value.split(",") if isinstance(value, str) else list(value)
    return [v.strip().lower() for v in items if v.strip()] or None


def _tail(proc: Proc | None, redactions: Sequence[str], n: int = 15) -> list[str]:
    if proc is None:
        return []
    lines = redact(proc.stdout + proc.stderr, redactions).splitlines()
    return [f"  | {ln}" for ln in lines[-n:]]


def run_verify(
    path: Path,
    *,
    builder: str | None = None,
    run_args: Sequence[str] | str = (),
    smoke_cmd: Sequence[str] | str | None = None,
    port: int | None = None,
    timeout: float = 60.0,
    select: Sequence[str] | str | None = None,
    ignore: Sequence[str] | str | None = None,
    unsafe_fixes: bool = False,
    context: Path | None = None,
    secrets: Sequence[str] = (),
    keep: bool = False,
    env: Mapping[str, str] | None = None,
    engine: Builder | None = None,
    build_timeout: float = BUILD_TIMEOUT,
    out: IO[str] | None = None,
    err: IO[str] | None = None,
) -> int:
    """Build, run and compare the original and the rewritten ``path``; returns the exit code (0, 1, 2).

    ``env`` is the environment of every builder command and where ``env=`` secrets are read from
    (default ``os.environ``); ``engine`` replaces the detected builder (tests). Never raises.
    """
    out = out or sys.stdout
    err = err or sys.stderr
    name = str(path)

    def say(msg: str) -> None:
        err.write(f"dockerfix verify: {msg}\n")
        err.flush()

    try:
        return _verify(path, name, say, out, err, builder=builder, run_args=run_args, smoke_cmd=smoke_cmd,
                       port=port, timeout=timeout, select=select, ignore=ignore, unsafe_fixes=unsafe_fixes,
                       context=context, secrets=list(secrets or ()), keep=keep,
                       env=dict(os.environ if env is None else env), engine=engine,
                       build_timeout=build_timeout)  # fmt: skip
    except VerifyError as exc:
        say(f"{name}: error: {exc}")
        return 2
    except Exception as exc:  # a traceback must never reach the user
        say(f"{name}: internal error: {type(exc).__name__}: {exc}")
        return 2


def _verify(
    path: Path,
    name: str,
    say: Callable[[str], None],
    out: IO[str],
    err: IO[str],
    *,
    builder: str | None,
    run_args: Sequence[str] | str,
    smoke_cmd: Sequence[str] | str | None,
    port: int | None,
    timeout: float,
    select: Sequence[str] | str | None,
    ignore: Sequence[str] | str | None,
    unsafe_fixes: bool,
    context: Path | None,
    secrets: Sequence[str],
    keep: bool,
    env: dict[str, str],
    engine: Builder | None,
    build_timeout: float,
) -> int:
    from rewriter.config import ConfigError, find_config
    from rewriter.pipeline import Status, process_file
    from transforms import UnknownTransform, selected

    args = _split(run_args, "--run-args") or []
    cmd = _split(smoke_cmd, "--smoke-cmd") or None
    if port is not None and not 0 < port < 65536:
        raise VerifyError(f"--port {port}: not a port number")
    if timeout <= 0:
        raise VerifyError("--timeout must be positive")
    if name == "-":
        raise VerifyError("verify needs a Dockerfile on disk (its build context), not standard input")
    if not path.exists():
        raise VerifyError("no such file")
    if not path.is_file():
        raise VerifyError("not a file")
    ctx = context if context is not None else path.parent
    if not ctx.is_dir():
        raise VerifyError(f"--context {ctx}: not a folder")
    try:
        cfg = find_config(path.parent).merged(
            select=tuple(_ids(select) or ()) or None,
            ignore=tuple(_ids(ignore) or ()) or None,
            unsafe_fixes=True if unsafe_fixes else None,
        )
        chosen = selected(cfg.select, cfg.ignore)
    except ConfigError as exc:
        raise VerifyError(str(exc)) from None
    except UnknownTransform as exc:
        raise VerifyError(f"unknown transform id {exc.args[0]!r} (see `dockerfix list`)") from None

    result = process_file(path, context_dir=ctx, config=cfg, transforms=chosen, unsafe_fixes=cfg.unsafe_fixes,
                          display=name)  # fmt: skip
    if result.status == Status.ERROR:
        raise VerifyError(result.error or "cannot rewrite")
    for problem in result.internal_errors:
        say(f"{name}: warning: {problem}")
    if result.status != Status.CHANGED:
        say(f"{name}: nothing to rewrite, nothing to verify")
        return 0
    try:
        original_bytes = path.read_bytes()
    except OSError as exc:
        raise VerifyError(f"cannot read: {exc.strerror or exc}") from None

    plan = plan_secrets(result.build_flags, context=ctx.absolute(), original_text=result.original, env=env,
                        user_secrets=secrets)  # fmt: skip
    known = {s.src for s in plan.secrets if s.src is not None}
    ignore_old = _read_optional(ctx / ".dockerignore")
    ignore_new = result.side_files[".dockerignore"][1] if ".dockerignore" in result.side_files else ignore_old
    plan.secrets += [s for s in excluded_secret_files(ignore_old, ignore_new, ctx) if s.src not in known]
    redactions = plan.redactions()
    tool = engine or detect_builder(builder, env)
    fixes = ", ".join(dict.fromkeys(f.transform for f in result.fixes))
    say(f"{name}: rewritten by {fixes or 'dockerfix'}; verifying with {tool.name}")

    run_id = uuid.uuid4().hex[:12]
    sides = [
        Side(ORIGINAL, f"{TAG_PREFIX}{run_id}:{ORIGINAL}", f"dockerfix-verify-{run_id}-{ORIGINAL}"),
        Side(REWRITTEN, f"{TAG_PREFIX}{run_id}:{REWRITTEN}", f"dockerfix-verify-{run_id}-{REWRITTEN}"),
    ]
    orig, new = sides
    tmp = Path(tempfile.mkdtemp(prefix="dockerfix-verify-"))
    created_containers: list[str] = []
    try:
        copy = tmp / "context"
        copy_context(ctx, copy, [ignore_old, ignore_new] if ignore_old is not None else [])
        try:
            rel = path.resolve().relative_to(ctx.resolve())
            dockerfile = copy / rel
        except ValueError:
            dockerfile = tmp / "dockerfile" / path.name
        dockerfile.parent.mkdir(parents=True, exist_ok=True)
        dockerfile.write_bytes(original_bytes)

        # 1. the original
        say(f"building the {ORIGINAL} image")
        _build(tool, orig, copy, dockerfile, plan.original_flags, plan.original_env, run_id, build_timeout)
        if not orig.built:
            reason = redact(orig.build.reason() if orig.build else "?", redactions)
            raise VerifyError(f"the original Dockerfile does not build with {tool.name} ({reason[:300]});"
                              " nothing to compare")
        # 2. the rewrite, over the same copy
        for rel_side, (_old, new_text, _edits) in result.side_files.items():
            target = copy / rel_side
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.is_symlink():
                target.unlink()
            target.write_bytes(new_text.encode("utf-8"))
        dockerfile.write_bytes(result.new_text.encode("utf-8"))
        say(f"building the {REWRITTEN} image")
        _build(tool, new, copy, dockerfile, plan.rewritten_flags, {}, run_id, build_timeout)

        # 3. run both
        for side in sides:
            if not side.built:
                continue
            side.info = tool.inspect(side.tag)
            created_containers.append(side.container)
            if port is None:
                say(f"running the {side.label} image")
                side.run = tool.run(side.tag, name=side.container, run_args=args, cmd=cmd, timeout=timeout,
                                    want_uid=cmd is not None)  # fmt: skip
            else:
                say(f"running the {side.label} image and requesting GET / on port {port}")
                side.http = tool.serve(side.tag, name=side.container, run_args=args, cmd=cmd, port=port,
                                       timeout=timeout)  # fmt: skip

        # 4. secrets
        if plan.secrets:
            needles = {s.id: s.needles() for s in plan.secrets}
            for s in plan.secrets:
                if not needles[s.id]:
                    say(f"warning: secret `{s.id}` is shorter than {MIN_NEEDLE} bytes; it is not searched for")
            needles = {k: v for k, v in needles.items() if v}
            for side in sides:
                if not side.built:
                    continue
                say(f"searching the {side.label} image for secrets")
                _scan(tool, side, plan.secrets, needles, tmp)

        verdict = compare(orig, new, port=port, secrets=plan.secrets, redactions=redactions)
        out.write(format_table(verdict.rows))
        out.flush()
        if not new.built:
            err.write(f"{REWRITTEN} build output (last lines):\n" + "\n".join(_tail(new.build, redactions)) + "\n")
        for line in verdict.details:
            err.write(line + "\n")
        if verdict.failures:
            say(f"{name}: NOT verified: " + "; ".join(dict.fromkeys(verdict.failures)))
            return 1
        say(f"{name}: verified with {tool.name}")
        return 0
    finally:
        with contextlib.suppress(Exception):
            tool.cleanup(containers=created_containers, tags=[s.tag for s in sides], label=run_id, keep=keep)
        if keep:
            say(f"kept images {orig.tag} and {new.tag}, containers {', '.join(created_containers) or '-'},"
                f" build context copy {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def _read_optional(p: Path) -> str | None:
    try:
        return p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _build(tool: Builder, side: Side, context: Path, dockerfile: Path, flags: Sequence[str],
           env: Mapping[str, str], run_id: str, timeout: float) -> None:  # fmt: skip
    t0 = time.monotonic()
    proc = tool.build(context=context, dockerfile=dockerfile, tag=side.tag, flags=flags, label=run_id, env=env,
                      timeout=timeout)  # fmt: skip
    side.build_seconds = time.monotonic() - t0
    side.build = proc
    side.built = proc.ok


def _scan(tool: Builder, side: Side, secrets: Sequence[Secret], needles: Mapping[str, Sequence[bytes]],
          tmp: Path) -> None:  # fmt: skip
    found = scan_metadata(side.info.metadata if side.info else "", secrets)
    archive = tmp / f"{side.label}.tar"
    problem = tool.export(side.tag, archive)
    if problem:
        side.scan_error = problem
        return
    try:
        found |= scan_archive(archive, needles)
    except VerifyError as exc:
        side.scan_error = str(exc)
        return
    finally:
        archive.unlink(missing_ok=True)
    side.secrets_found = found
