"""``dockerfix migrate`` with a fake builder: every branch of keeping what works.

The fake builder decides from the Dockerfile it is given: a rule maps a marker in the text (say
``USER 10001``, what nonroot adds) to what the container then does (exits with "Permission
denied"), so each test states which codemod breaks the app and checks that migrate finds it.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from rewriter.faces.migrate_cli import run_migrate
from rewriter.proof.containers import HttpResult, ImageInfo, Proc, RunResult
from rewriter.proof.migrate import Observation, Options, differences, migrate_file

#: a legacy app: runs as root, shell-form CMD, apt without cleanup, copies a .netrc it removes again
APP = (
    "FROM python:3.13-slim\n"
    "WORKDIR /app\n"
    "COPY .netrc /root/.netrc\n"
    "COPY requirements.txt .\n"
    "RUN pip install -r requirements.txt && rm /root/.netrc\n"
    "COPY . .\n"
    "EXPOSE 8000\n"
    "CMD python app.py\n"
)


#: a Debian worker: no split applies, so nonroot (USER 10001) and minimal (--no-install-recommends)
#: are the unsafe codemods
WORKER = (
    "FROM debian:trixie-slim\n"
    "RUN apt-get update && apt-get install -y libpq5\n"
    "COPY app.sh /usr/local/bin/app.sh\n"
    "CMD [\"/usr/local/bin/app.sh\"]\n"
)


@dataclass
class Fake:
    """Build/run answers chosen by markers in the Dockerfile text."""

    name: str = "fake"
    build_fails_if: list[str] = field(default_factory=list)
    run_fails_if: list[str] = field(default_factory=list)  # the container exits 1: "Permission denied"
    http_fails_if: list[str] = field(default_factory=list)  # GET / answers 500
    texts: dict[str, str] = field(default_factory=dict)  # tag -> Dockerfile text
    built: list[str] = field(default_factory=list)
    flags: list[list[str]] = field(default_factory=list)
    cleaned: list[dict] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    slow: float = 0.0

    def build(self, *, context, dockerfile, tag, flags, label, env, timeout):
        text = dockerfile.read_text()
        self.texts[tag] = text
        self.built.append(text)
        self.flags.append(list(flags))
        time.sleep(self.slow)
        if any(m in text for m in self.build_fails_if):
            return Proc(1, "STEP 3/9: RUN gcc hello.c\n", "hello.c:1:10: fatal error: stdio.h: No such file\n")
        return Proc(0, "ok\n")

    def run(self, tag, *, name, run_args, cmd, timeout, want_uid):
        text = self.texts[tag]
        if any(m in text for m in self.run_fails_if):
            return RunResult(1, "", "PermissionError: [Errno 13] Permission denied: '/app/data'\n")
        return RunResult(None, "listening on 8000\n", "", timed_out=True)

    def serve(self, tag, *, name, run_args, cmd, port, timeout, path="/"):
        text = self.texts[tag]
        self.paths.append(path)
        if any(m in text for m in self.http_fails_if):
            return HttpResult(500, b"error")
        return HttpResult(200, b"ok")

    def inspect(self, tag):
        text = self.texts[tag]
        size = 50_000_000 if "distroless" in text else 200_000_000
        return ImageInfo("10001" if "USER 10001" in text else "", size, '[{"ExposedPorts": {"8000/tcp": {}}}]')

    def export(self, tag, dest):
        return "not supported"

    def cleanup(self, *, containers, tags, label, keep):
        self.cleaned.append({"containers": list(containers), "tags": list(tags)})


def write_app(root: Path) -> Path:
    """The legacy app of :data:`APP` in ``root`` (made if needed): Dockerfile, .netrc, requirements, app."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "Dockerfile").write_text(APP)
    (root / ".netrc").write_text("machine pypi.example.com login ci password FIXTURE_pw_123\n")
    (root / "requirements.txt").write_text("flask\n")
    (root / "app.py").write_text("print('hi')\n")
    return root


@pytest.fixture
def app(tmp_path: Path) -> Path:
    return write_app(tmp_path)


def _migrate(path: Path, fake: Fake, **kw) -> object:
    opts = Options(env=dict(os.environ), **kw)
    return migrate_file(path / "Dockerfile", opts, lambda: fake)


def test_full_migration_works_and_is_kept(app: Path) -> None:
    fake = Fake()
    o = _migrate(app, fake)
    assert o.status == "migrated" and o.builds == 2  # the original and the full candidate
    assert "multistage" in o.kept
    assert o.size_before == 200_000_000 and o.size_after == 50_000_000
    assert o.result is not None and "FROM gcr.io/distroless/python3-debian13:nonroot" in o.result.new_text
    assert any("--secret id=netrc" in f for f in o.build_flags)
    assert "--secret" in fake.flags[1]  # the candidate was built with the secret
    assert fake.cleaned and fake.cleaned[0]["tags"]  # images and containers removed


@pytest.fixture
def worker(tmp_path: Path) -> Path:
    (tmp_path / "Dockerfile").write_text(WORKER)
    (tmp_path / "app.sh").write_text("#!/bin/sh\nexec sleep 1000\n")
    return tmp_path


def test_a_breaking_codemod_is_found_and_the_others_kept(worker: Path) -> None:
    """nonroot's USER makes the app fail: the full candidate fails, minimal is added back and kept,
    nonroot is dropped with the evidence (the failed check and the container's last lines)."""
    fake = Fake(run_fails_if=["USER 10001"])
    o = _migrate(worker, fake)
    assert o.status == "partially migrated"
    assert o.kept == ["minimal"]
    assert list(o.dropped) == ["nonroot"]
    assert "state after the settle time: running before, exited 1 after" in o.dropped["nonroot"]
    assert "Permission denied" in o.dropped["nonroot"]
    assert o.result is not None and "USER 10001" not in o.result.new_text
    assert "--no-install-recommends" in o.result.new_text
    # original, full, the safe fixes alone (verified like any candidate), +minimal (minimal + nonroot is
    # the full candidate: not built again)
    assert o.builds == 4


def test_safe_fixes_that_break_the_app_are_found_and_dropped(worker: Path) -> None:
    """A safe fix is a claim: the apt-lists cleanup (minimal's safe fix) makes this app fail, so the
    baseline fails too; each codemod's safe fixes are then added back one at a time and minimal's are
    dropped with the evidence, while nonroot (whose USER works here) is still kept."""
    fake = Fake(run_fails_if=["rm -rf /var/lib/apt/lists"])
    o = _migrate(worker, fake)
    assert "minimal" in o.dropped and "its safe fixes do not behave like the original" in o.dropped["minimal"]
    assert o.result is not None and "rm -rf /var/lib/apt/lists" not in o.result.new_text
    assert "USER 10001" in o.result.new_text and o.kept == ["nonroot"]
    assert all("rm -rf /var/lib/apt/lists" not in t for t in fake.built[-1:])
    # every tag is a valid image reference tag (a space broke the safe-fixes build on real builders)
    assert all(re.fullmatch(r"[^:]+:[A-Za-z0-9_.-]+", tag) for tag in fake.texts)


def test_nothing_verifies_so_the_file_is_left_unchanged(worker: Path) -> None:
    """When not even the safe fixes behave like the original, migrate writes nothing and says why
    (before, it wrote the unverified safe fixes as "safe fixes only")."""
    fake = Fake(run_fails_if=["rm -rf /var/lib/apt/lists", "USER 10001", "--no-install-recommends"])
    o = _migrate(worker, fake)
    assert o.status == "unchanged" and o.result is None
    assert "not even its safe fixes" in o.reason


def test_bisection_order_and_evidence(app: Path) -> None:
    """Only multistage breaks (the HTTP answer): it is dropped with the failed check named; the
    codemods after it in pipeline order are still tried, and nonroot's USER (which only shows once
    the split is left out) is kept."""
    fake = Fake(http_fails_if=["distroless"])
    o = _migrate(app, fake)
    assert o.status == "partially migrated"
    assert "multistage" in o.dropped and "port 8000: 2xx before, 5xx after" in o.dropped["multistage"]
    assert "nonroot" in o.kept
    assert o.result is not None and "distroless" not in o.result.new_text and "USER 10001" in o.result.new_text
    assert o.builds == len(fake.built) <= 6
    ids = [t for t in ("secrets", "multistage", "logs", "signals", "minimal", "nonroot")
           if t in o.kept or t in o.dropped]
    assert ids.index("multistage") < ids.index("nonroot")


def test_build_cap_is_respected(app: Path) -> None:
    fake = Fake(http_fails_if=["distroless"], run_fails_if=["USER 10001"])
    o = _migrate(app, fake, max_builds=3)
    assert len(fake.built) <= 3
    assert any("build budget" in why for why in o.dropped.values())


def test_build_failure_is_evidence(app: Path) -> None:
    fake = Fake(build_fails_if=["distroless"])
    o = _migrate(app, fake)
    assert "multistage" in o.dropped
    assert "does not build" in o.dropped["multistage"] and "stdio.h" in o.dropped["multistage"]


def test_original_that_does_not_build_gets_only_safe_fixes(app: Path) -> None:
    fake = Fake(build_fails_if=["CMD python app.py"])  # in the original only: the rewrite has exec form
    o = _migrate(app, fake)
    assert o.status == "not verified" and "the original does not build here" in o.reason
    assert o.builds == 1
    assert o.result is not None and "USER" not in o.result.new_text and "distroless" not in o.result.new_text
    assert 'CMD ["python", "app.py"]' in o.result.new_text  # signals: a safe fix


def test_missing_secret_source_leaves_secrets_out(app: Path) -> None:
    (app / "Dockerfile").write_text(APP)
    fake = Fake()
    opts_env = dict(os.environ)
    (app / ".netrc").unlink()  # still COPYed by the Dockerfile, but the file is gone

    o = migrate_file(app / "Dockerfile", Options(env=opts_env), lambda: fake)
    # the original cannot build without the file either in real life; the fake builds it: what matters
    # is that the secrets codemod is left out with the reason, and no --secret flag is used
    assert "secrets" in o.dropped and "missing" in o.dropped["secrets"]
    assert not any("--secret" in " ".join(f) for f in fake.flags)


def test_no_verify_builds_nothing(app: Path) -> None:
    fake = Fake()
    o = _migrate(app, fake, no_verify=True)
    assert o.status == "unverified" and not fake.built
    assert o.result is not None and "distroless" in o.result.new_text


def test_unchanged_file_builds_nothing(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text('FROM gcr.io/distroless/static-debian13:nonroot\nCOPY app /app\n'
                                         'USER 65532:65532\nENTRYPOINT ["/app"]\n')
    fake = Fake()
    o = migrate_file(tmp_path / "Dockerfile", Options(), lambda: fake)
    assert o.status == "unchanged" and not fake.built


def test_differences_generic_checks() -> None:
    base = Observation(True, state="running", answers={8000: "2xx"}, output="listening\n")
    assert differences(base, Observation(True, state="running", answers={8000: "2xx"}, output="listening"),
                       False) == []
    assert differences(base, Observation(False, detail="x"), False) == ["the rewrite does not build"]
    exited = differences(base, Observation(True, state="exited 1", answers={}, output=""), False)
    assert any("state after the settle time" in d for d in exited)
    new_err = differences(base, Observation(True, state="running", answers={8000: "2xx"},
                                            output="open /var/log/x: permission denied"), False)
    assert new_err == ["new errors in the output: permission denied"]
    same_err = Observation(True, state="running", answers={8000: "2xx"}, output="warn: not found")
    assert differences(same_err, same_err, False) == []
    # nginx's entry point as non-root: an informational line is not an error
    info = Observation(True, state="running", answers={8000: "2xx"}, output=(
        "10-listen-on-ipv6-by-default.sh: info: can not modify /etc/nginx/conf.d/default.conf (read-only file "
        "system?)\n2026/12/01 23:27:22 [notice] 1#1: start worker processes\n"))
    assert differences(base, info, False) == []


def test_cli_writes_only_after_verification_and_reports_json(app: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    fake = Fake(http_fails_if=["distroless"])
    code = run_migrate([str(app / "Dockerfile")], engine=fake, report_format="json", out=out, err=err)
    assert code == 1  # not fully migrated
    report = json.loads(out.getvalue())["files"][0]
    assert report["status"] == "partially migrated" and "multistage" in report["dropped"]
    text = (app / "Dockerfile").read_text()
    assert "distroless" not in text and "USER 10001" in text
    assert "FIXTURE_pw_123" not in out.getvalue() + err.getvalue()
    assert "file(s): 1 partially migrated" in err.getvalue()


def test_cli_text_table(app: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    fake = Fake()
    code = run_migrate([str(app)], engine=fake, path="/health", out=out, err=err)
    assert code == 0
    assert fake.paths and set(fake.paths) == {"/health"}
    table = out.getvalue()
    for row in ("status", "kept", "image size", "200.0 MB -> 50.0 MB", "build flags now", "builds / seconds"):
        assert row in table, row


def test_interrupt_cleans_up_and_leaves_the_file(app: Path, tmp_path: Path) -> None:
    """SIGINT during a build: the images made are removed (the fake records the cleanup in a file)
    and the Dockerfile is untouched."""
    marker = tmp_path / "cleaned.json"
    script = f"""
import json, sys, time
sys.path.insert(0, {str(Path(__file__).parent)!r})
from test_migrate import Fake
from rewriter.faces.migrate_cli import run_migrate
class Slow(Fake):
    def cleanup(self, **kw):
        open({str(marker)!r}, "w").write(json.dumps(kw["tags"]))
fake = Slow(slow=30)
sys.exit(run_migrate([{str(app / "Dockerfile")!r}], engine=fake))
"""
    before = (app / "Dockerfile").read_bytes()
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(3)
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err.decode()
    assert json.loads(marker.read_text()), "the images were not cleaned up"
    assert (app / "Dockerfile").read_bytes() == before


def test_docker_backend_command_lines(app: Path) -> None:
    """migrate through the real CliBuilder for docker (execute faked): docker build with the secret
    flag and BuildKit, docker create/start with the run arguments, and docker rm/rmi at the end."""
    from test_verify import Recorder, which_of

    from rewriter.proof.containers import detect_builder

    inspect = Proc(0, json.dumps([{"Config": {"User": "", "ExposedPorts": {}}, "Size": 1000}]))
    rec = Recorder(ok_info={"docker"}, answers={"docker image": inspect,
                                                "docker start": Proc(None, "up\n", "", timed_out=True)})
    tool = detect_builder(None, dict(os.environ), which=which_of("docker"), execute=rec)
    out, err = io.StringIO(), io.StringIO()
    code = run_migrate([str(app / "Dockerfile")], engine=tool, run_args="-e MODE=test", out=out, err=err)
    assert code == 0, err.getvalue()
    builds = [c for c in rec.calls if c[:2] == ["docker", "build"]]
    assert len(builds) == 2 and "--secret" in builds[1] and "--secret" not in builds[0]
    creates = [c for c in rec.calls if c[:2] == ["docker", "create"]]
    assert creates and all(c[4:6] == ["-e", "MODE=test"] for c in creates)
    assert any(c[:3] == ["docker", "rm", "-f"] for c in rec.calls)
    assert any(c[:2] == ["docker", "rmi"] for c in rec.calls)
