"""Verified rewrites, end to end: three realistic legacy apps rewritten by every codemod.

The apps (``apps/full-*``, stdlib only, offline): a Python web app (``pip install -r``, a copied
``.netrc`` read by a RUN then removed, ``CMD python app.py >> /var/log/app/app.log 2>&1``), a Node web
app (a copied ``.npmrc``, ``npm ci``, ``COPY . .``, shell-form ``CMD npm start``) and a Debian shell
worker (``CMD app.sh >> /var/log/app.log 2>&1``, no HTTP).

For each app: build the ORIGINAL Dockerfile like ``docker build`` (one layer per instruction, its
credentials file in the context) and run it; run ``dockerfix fix --unsafe-fixes --format json`` on a
copy; build the REWRITTEN Dockerfile with the report's ``build_secrets`` as ``--secret`` flags; run it;
then :func:`failed_checks` names every check the rewrite fails:

``runs``     the rewritten container is still running when it is probed
``output``   the same answer: HTTP status and JSON body (the uid left out, it is checked apart), or the
             worker's first output line (from its log file in the original, its output after the rewrite)
``uid``      no process of the rewritten container runs as uid 0 (``/proc`` on the host), nor does the
             app report uid 0
``logs``     the line the app logs at start is in ``podman logs``
``secrets``  no blob of the rewritten image (pushed to an oci-archive: layers, config, manifest) holds
             the secret's bytes
``size``     the rewritten image is smaller where the multistage split applies; elsewhere it may grow
             by at most SIZE_SLACK (the user/group files nonroot writes, ~12 kB)

Both sizes are printed (``pytest -s``) and recorded as junit properties. The originals are built once
for the module and shared by every rewrite of the same app, and each (app, ``--ignore``) rewrite is
built once (the ``lab`` fixture).

``test_disabling_a_codemod_fails_its_check`` shows the checks are the codemods' doing: with the
codemod ignored, the matching check must fail. Where another codemod would make up for the missing
one, that one is ignored too: multistage's split alone leaves the builder's ``COPY .netrc`` layer
out of the runtime image (secrets), and distroless ``:nonroot`` runs as 65532 by itself (nonroot).

The containers run with ``--network=none``; the HTTP apps are queried from a sidecar container that
joins the app container's network namespace, so the same probe works on distroless images. Secret
values are made per module run and never appear in argv, assertion messages or output.
"""

from __future__ import annotations

import json
import re
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from e2e_support import (
    APPS,
    FETCH,
    Engine,
    Images,
    Secret,
    base_images,
    build_with,
    dockerfix,
    image_inspect,
    redact,
    scan_image_blobs,
    tail,
)

pytestmark = pytest.mark.e2e

PROBE_IMAGE = "docker.io/library/python:3.13-slim"  # the sidecar that sends the HTTP request
SIZE_SLACK = 64 * 1024  # bytes a rewrite without the split may add (nonroot's groupadd/useradd layer)
START_TIMEOUT = 20.0  # seconds for an app to answer / print its first line

@dataclass(frozen=True)
class App:
    name: str  # folder under apps/
    log_line: str  # a line the app writes at start
    port: int | None  # HTTP port; None: compare the first output line
    split: bool  # multistage applies: the rewrite must be smaller
    codemods: frozenset[str]  # transforms the full rewrite must apply
    secret_file: str | None = None  # credentials file written into the context (not kept in apps/)
    secret_text: str = ""  # its content; {secret} is the secret value
    log_file: str | None = None  # where the original writes its output (read for the first line)
    legacy_hides_logs: bool = False  # the original's podman logs lack log_line (the problem is real)


PYTHON = App(
    "full-python",
    "full-python listening on 8080",
    8080,
    split=True,
    codemods=frozenset({"secrets", "logs", "multistage"}),
    secret_file=".netrc",
    secret_text="machine pypi.example.com login e2e password {secret}\n",
    legacy_hides_logs=True,
)
NODE = App(
    "full-node",
    "full-node listening on 8080",
    8080,
    split=True,
    codemods=frozenset({"secrets", "multistage"}),
    secret_file=".npmrc",
    # npm reads the whole file during `npm ci`; the settings keep it from reaching for the network
    secret_text="//registry.npmjs.org/:_authToken={secret}\naudit=false\nfund=false\nupdate-notifier=false\n",
)
DEBIAN = App(
    "full-debian",
    "full-debian worker started",
    None,
    split=False,
    codemods=frozenset({"logs", "nonroot"}),
    log_file="/var/log/app.log",
    legacy_hides_logs=True,
)
FULL_APPS = [PYTHON, NODE, DEBIAN]


# ---------------------------------------------------------------- running an image and looking at it


@dataclass
class Run:
    """What one image did when it was started."""

    tag: str
    size: int
    running: bool  # still running when probed
    answer: str | None  # "200 {json without uid}" or the first output line; None: no answer
    reported_uid: int | None  # the uid the app says it runs as (HTTP apps)
    uids: list[int]  # effective uids of the container's processes
    logs: str  # podman logs
    secret_blobs: list[str] | None  # blobs holding the secret's bytes; None: the app has no secret
    detail: str  # probe errors, for failure messages

    def describe(self) -> str:
        return (
            f"{self.tag}: size {self.size}, running {self.running}, answer {self.answer!r}, "
            f"reported uid {self.reported_uid}, process uids {self.uids}, secret in blobs {self.secret_blobs}\n"
            f"  probe: {self.detail or '-'}\n  logs:\n{tail(self.logs, 15)}"
        )


def _process_uids(engine: Engine, cid: str) -> list[int]:
    """The effective uid of every process of the container, from /proc on the host (no ps in distroless)."""
    proc = engine.images.cmd("podman", "top", cid, "hpid", timeout=60)
    uids: list[int] = []
    for word in proc.stdout.split()[1:]:
        try:
            status = Path(f"/proc/{int(word)}/status").read_text()
        except (ValueError, OSError):
            continue  # a process that ended meanwhile
        m = re.search(r"^Uid:\s+\d+\s+(\d+)", status, re.MULTILINE)
        if m:
            uids.append(int(m[1]))
    return uids


def _http_answer(engine: Engine, cid: str, port: int) -> tuple[str | None, int | None, str]:
    """GET / from a sidecar in the container's network namespace: (answer without uid, uid, error)."""
    script = FETCH % {"port": port, "path": "/", "timeout": START_TIMEOUT}
    proc = engine.images.cmd(
        "podman", "run", "--rm", f"--network=container:{cid}", PROBE_IMAGE, "python3", "-c", script,
        timeout=START_TIMEOUT + 60,
    )  # fmt: skip
    if proc.returncode != 0:
        return None, None, f"GET / failed (exit {proc.returncode}): {proc.stderr.strip()[-500:]}"
    status, _, body = proc.stdout.partition("\n")
    try:
        data = json.loads(body)
    except json.JSONDecodeError:
        return f"{status} {body}", None, "the body is not JSON"
    reported = data.pop("uid", None)
    return f"{status} {json.dumps(data, sort_keys=True)}", reported, ""


def _first_line(engine: Engine, cid: str, log_file: str | None) -> tuple[str | None, str]:
    """The first line the app wrote: in its output, or else in its log file (read only if it is a
    regular file: after the logs rewrite it is a link to /dev/stdout)."""
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        text = engine.logs(cid)
        if log_file:
            cat = f'[ -f "{log_file}" ] && cat "{log_file}" || true'
            text += engine.images.cmd("podman", "exec", cid, "sh", "-c", cat, timeout=60).stdout
        lines = [line for line in text.splitlines() if line.strip()]
        if lines:
            return lines[0], ""
        if engine.state(cid)["running"] != "true":
            return None, "the container exited before writing a line"
        if time.monotonic() > deadline:
            return None, f"no output line after {START_TIMEOUT}s"
        time.sleep(0.3)


def _logs_with(engine: Engine, cid: str, line: str, wait: float = 3.0) -> str:
    """podman logs, given ``wait`` seconds to show ``line`` (conmon writes the log file asynchronously)."""
    deadline = time.monotonic() + wait
    while True:
        logs = engine.logs(cid)
        if line in logs or time.monotonic() > deadline:
            return logs
        time.sleep(0.2)


def observe(engine: Engine, app: App, tag: str, secret: Secret | None, workdir: Path) -> Run:
    """Start the image, probe the app, read its logs and processes; scan the image for the secret."""
    size = int(image_inspect(engine, tag)["Size"])
    cid = engine.start(tag)
    try:
        if app.port:
            answer, reported, detail = _http_answer(engine, cid, app.port)
        else:
            (answer, detail), reported = _first_line(engine, cid, app.log_file), None
        running = engine.state(cid)["running"] == "true"
        uids = _process_uids(engine, cid) if running else []
        logs = _logs_with(engine, cid, app.log_line)
    finally:
        engine.rm(cid)
    blobs = None
    if secret is not None:
        scan = scan_image_blobs(engine, tag, workdir, secret)
        assert scan.blobs >= 3, f"only {scan.blobs} blobs in the pushed image {tag}"
        blobs = scan.with_needle
    return Run(tag, size, running, answer, reported, uids, logs, blobs, detail)


def failed_checks(app: App, original: Run, rewritten: Run) -> list[str]:
    """The checks the rewritten image fails (see the module docstring); empty when it is verified."""
    failed = []
    if not rewritten.running:
        failed.append("runs")
    if rewritten.answer is None or rewritten.answer != original.answer:
        failed.append("output")
    if not rewritten.uids or 0 in rewritten.uids or rewritten.reported_uid == 0:
        failed.append("uid")
    if app.log_line not in rewritten.logs:
        failed.append("logs")
    if rewritten.secret_blobs:
        failed.append("secrets")
    limit = original.size - 1 if app.split else original.size + SIZE_SLACK
    if rewritten.size > limit:
        failed.append("size")
    return failed


def size_line(label: str, app: App, original: Run, rewritten: Run) -> str:
    change = (rewritten.size - original.size) / original.size * 100
    rule = "smaller required (multistage split)" if app.split else f"at most +{SIZE_SLACK // 1024} KiB allowed"
    return (
        f"[{label}] image size: original {original.size / 1e6:.1f} MB ({original.size} B) -> "
        f"rewritten {rewritten.size / 1e6:.1f} MB ({rewritten.size} B), {change:+.1f}%; {rule}"
    )


# ---------------------------------------------------------------- building the originals and the rewrites


@dataclass
class Built:
    """One Dockerfile of an app, built and observed."""

    run: Run
    dockerfile: str
    report: dict  # the dockerfix JSON report's file entry ({} for the original)
    messages: str  # dockerfix's stderr
    seconds: float  # dockerfix + build + observe

    @property
    def applied(self) -> set[str]:
        return {f["transform"] for f in self.report.get("fixes", []) if f.get("applied")}


class Lab:
    """Builds each original once, and each (app, ``--ignore``) rewrite once, for the whole module."""

    def __init__(self, engine: Engine, root: Path) -> None:
        self.engine = engine
        self.root = root
        self.secrets: dict[str, Secret] = {}
        self.originals: dict[str, Built] = {}
        self.rewrites: dict[tuple[str, str], Built] = {}

    def secret(self, app: App) -> Secret | None:
        if not app.secret_file:
            return None
        return self.secrets.setdefault(app.name, Secret(f"E2E_SECRET_{uuid.uuid4().hex}"))

    def context(self, app: App, label: str) -> Path:
        """A fresh copy of the app, with its credentials file written into it."""
        self.engine.images.require(*base_images(APPS / app.name / "Dockerfile"))
        ctx = self.root / label / app.name
        shutil.copytree(APPS / app.name, ctx)
        secret = self.secret(app)
        if app.secret_file and secret:
            path = ctx / app.secret_file
            path.write_text(app.secret_text.format(secret=secret))
            path.chmod(0o600)
        return ctx

    def original(self, app: App) -> Built:
        if app.name not in self.originals:
            t0 = time.monotonic()
            ctx = self.context(app, "original")
            secret = self.secret(app)
            tag = self.engine.tag(f"{app.name}-original")
            build_with(self.engine, ctx, tag, redacted=[secret] if secret else [])
            run = observe(self.engine, app, tag, secret, self.root / "scan" / tag.rsplit(":", 1)[-1])
            self.originals[app.name] = Built(run, (ctx / "Dockerfile").read_text(), {}, "", time.monotonic() - t0)
        return self.originals[app.name]

    def rewritten(self, app: App, ignore: str = "") -> Built:
        key = (app.name, ignore)
        if key not in self.rewrites:
            t0 = time.monotonic()
            label = f"ignore-{ignore.replace(',', '-')}" if ignore else "rewritten"
            ctx = self.context(app, label)
            secret = self.secret(app)
            redacted = [secret] if secret else []
            report_path = self.root / label / f"{app.name}-report.json"  # outside the build context
            args = ["fix", "--unsafe-fixes", "--format", "json", "--output", str(report_path)]
            proc = dockerfix(*args, *(["--ignore", ignore] if ignore else []), "Dockerfile", cwd=ctx)
            report_text = report_path.read_text() if report_path.exists() else ""
            printed = bool(secret) and secret in proc.stdout + proc.stderr + report_text  # a bool, never the text
            assert not printed, "dockerfix printed the secret value in its output or report"
            assert proc.returncode == 0, redact(f"dockerfix exited {proc.returncode}:\n{proc.stderr}", redacted)
            files = json.loads(report_text)["files"]
            assert len(files) == 1, files
            entry = files[0]
            dockerfile = (ctx / "Dockerfile").read_text()
            tag = self.engine.tag(f"{app.name}-{label}")
            build_with(self.engine, ctx, tag, *secret_flags(ctx, entry), redacted=redacted)
            run = observe(self.engine, app, tag, secret, self.root / "scan" / tag.rsplit(":", 1)[-1])
            self.rewrites[key] = Built(run, dockerfile, entry, proc.stderr, time.monotonic() - t0)
        return self.rewrites[key]


def secret_flags(ctx: Path, entry: dict) -> list[str]:
    """The report's ``build_secrets`` as buildah flags (``src`` is relative to the build context)."""
    flags: list[str] = []
    for s in entry.get("build_secrets", []):
        if s.get("type") != "secret" or "src" not in s:
            pytest.fail(f"this test can only pass file secrets, not {s}", pytrace=False)
        flags += ["--secret", f"id={s['id']},src={ctx / s['src']}"]
    return flags


@pytest.fixture(scope="module")
def lab(images: Images, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    images.require(PROBE_IMAGE)
    engine = Engine(images, "apps")
    try:
        yield Lab(engine, tmp_path_factory.mktemp("apps"))
    finally:
        engine.cleanup()


def explain(app: App, failed: list[str], original: Built, rewritten: Built) -> str:
    return (
        f"{app.name}: the rewrite fails {failed}\n--- original\n{original.run.describe()}\n"
        f"--- rewritten\n{rewritten.run.describe()}\n--- rewritten Dockerfile\n{rewritten.dockerfile}"
        f"--- dockerfix\n{tail(rewritten.messages, 30)}"
    )


# ---------------------------------------------------------------- every codemod: the rewrite is verified


@pytest.mark.parametrize("app", FULL_APPS, ids=[a.name for a in FULL_APPS])
def test_rewritten_app_is_verified(app: App, lab: Lab, record_property: Callable[[str, object], None]) -> None:
    original = lab.original(app)
    orig = original.run
    # the original works, and has the problems the rewrite is about
    assert orig.running and orig.answer, f"the original does not work:\n{orig.describe()}"
    assert 0 in orig.uids, f"the original does not run as root; the case proves nothing:\n{orig.describe()}"
    if app.secret_file:
        assert orig.secret_blobs, "no layer of the original holds the secret; the case proves nothing"
    if app.legacy_hides_logs:
        assert app.log_line not in orig.logs, "the original already logs to podman logs; the case proves nothing"

    rewritten = lab.rewritten(app)
    failed = failed_checks(app, orig, rewritten.run)
    print(f"\n{size_line(app.name, app, orig, rewritten.run)}")
    print(
        f"[{app.name}] applied: {sorted(rewritten.applied)}; build secrets: "
        f"{[s['id'] for s in rewritten.report.get('build_secrets', [])]}; original {original.seconds:.1f}s, "
        f"rewrite {rewritten.seconds:.1f}s; failed checks: {failed or 'none'}"
    )
    print(
        f"[{app.name}] answer: {orig.answer!r} -> {rewritten.run.answer!r}; process uids: {orig.uids} -> "
        f"{rewritten.run.uids}; secret in blobs: {orig.secret_blobs} -> {rewritten.run.secret_blobs}"
    )
    record_property("size_original", orig.size)
    record_property("size_rewritten", rewritten.run.size)
    assert not failed, explain(app, failed, original, rewritten)
    missing = app.codemods - rewritten.applied
    assert not missing, f"{app.name}: {sorted(missing)} not applied:\n{rewritten.messages}"


# ---------------------------------------------------------------- each check fails without its codemod


@dataclass(frozen=True)
class Disabled:
    codemod: str
    app: App
    ignore: str  # the --ignore list
    check: str  # the check that must fail


DISABLED = [
    # multistage's split alone keeps the builder's `COPY .netrc` layer out of the runtime: ignore it too
    Disabled("secrets", PYTHON, "secrets,multistage", "secrets"),
    Disabled("logs", PYTHON, "logs", "logs"),
    # distroless :nonroot runs as 65532 by itself: ignore the split too (the Debian app has none anyway)
    Disabled("nonroot", DEBIAN, "nonroot,multistage", "uid"),
    Disabled("multistage", PYTHON, "multistage", "size"),
]


@pytest.mark.parametrize("case", DISABLED, ids=[c.codemod for c in DISABLED])
def test_disabling_a_codemod_fails_its_check(case: Disabled, lab: Lab) -> None:
    original = lab.original(case.app)
    rewritten = lab.rewritten(case.app, case.ignore)
    failed = failed_checks(case.app, original.run, rewritten.run)
    print(
        f"\n[--ignore {case.ignore}] {case.app.name}: failed checks {failed} (expected: {case.check!r}); "
        f"applied {sorted(rewritten.applied)}; {rewritten.seconds:.1f}s"
    )
    print(size_line(f"--ignore {case.ignore}", case.app, original.run, rewritten.run))
    assert case.codemod not in rewritten.applied, f"--ignore {case.ignore} still applied {case.codemod}"
    assert case.check in failed, (
        f"with --ignore {case.ignore} the {case.check!r} check still passes: it does not depend on {case.codemod}\n"
        + explain(case.app, failed, original, rewritten)
    )


def test_rewrite_without_logs_codemod_still_runs(lab: Lab) -> None:
    """``fix --unsafe-fixes --ignore logs`` (the logs ablation above): nonroot makes the app run as
    10001 but leaves /var/log/app, which the CMD appends to, owned by root; the app must still start."""
    original = lab.original(PYTHON)
    rewritten = lab.rewritten(PYTHON, "logs")
    failed = [c for c in failed_checks(PYTHON, original.run, rewritten.run) if c in ("runs", "output")]
    assert not failed, "dockerfix bug: the rewrite no longer runs\n" + explain(PYTHON, failed, original, rewritten)
