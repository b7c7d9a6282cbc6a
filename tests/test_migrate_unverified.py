"""Sound verification (issue 27 item 1): a rewrite is kept only on positive evidence that the original
worked here. An original that answers on none of its ports, exits with an error code or whose state
cannot be read makes the file ``unverified``: reported with the reason, nothing written, exit 1."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from test_migrate import Fake, write_app

from rewriter.faces.migrate_cli import run_migrate
from rewriter.proof.containers import HttpResult, RunResult
from rewriter.proof.migrate import Observation, unobserved


class Silent(Fake):
    """Every image runs, and none answers on its port (the probe cannot reach it, or the app listens
    elsewhere): absence of evidence on both sides."""

    def serve(self, tag, *, name, run_args, cmd, port, timeout, path="/"):
        return HttpResult(error="no HTTP answer before the deadline (--timeout)")


class Failing(Fake):
    """Every image exits 1 at once (it needs a database this run does not give it)."""

    def run(self, tag, *, name, run_args, cmd, timeout, want_uid):
        return RunResult(1, "", "could not connect to server: Connection refused\n")


@pytest.fixture
def app(tmp_path: Path) -> Path:
    return write_app(tmp_path)


@pytest.mark.parametrize(("fake", "why"), [(Silent, "answers on none of its ports (8000)"),
                                           (Failing, "exits with code 1")])
def test_an_original_not_seen_working_makes_the_file_unverified(app: Path, fake: type, why: str) -> None:
    before = (app / "Dockerfile").read_bytes()
    out, err = io.StringIO(), io.StringIO()
    code = run_migrate([str(app / "Dockerfile")], engine=fake(), report_format="json", out=out, err=err,
                       no_cache=True)
    record = json.loads(out.getvalue())["files"][0]
    assert record["status"] == "unverified" and why in record["reason"], record
    assert record["kept"] == [] and record["builds"] == 1  # only the original was built: nothing to compare
    assert (app / "Dockerfile").read_bytes() == before and not (app / ".dockerignore").exists()
    assert code == 1


def test_an_original_seen_working_is_still_migrated(app: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = run_migrate([str(app / "Dockerfile")], engine=Fake(), report_format="json", out=out, err=err,
                       no_cache=True)
    assert json.loads(out.getvalue())["files"][0]["status"] == "migrated" and code == 0


def test_no_verify_is_unverified_by_request_and_done(app: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = run_migrate([str(app / "Dockerfile")], engine=Silent(), no_verify=True, out=out, err=err, no_cache=True)
    assert code == 0 and "unverified" in out.getvalue()


@pytest.mark.parametrize(("obs", "seen"), [
    (Observation(True, state="running", answers={8000: "2xx"}), True),
    (Observation(True, state="running", answers={8000: "5xx"}), True),   # an answer is evidence
    (Observation(True, state="running", answers={8000: "no answer", 9000: "2xx"}), True),
    (Observation(True, state="running"), True),                          # a worker with no port
    (Observation(True, state="exited 0", output="42"), True),            # a one-shot command
    (Observation(True, state="running", answers={8000: "no answer"}), False),
    (Observation(True, state="exited 2"), False),
    (Observation(True, state=""), False),
])  # fmt: skip
def test_what_counts_as_seen_working(obs: Observation, seen: bool) -> None:
    assert (unobserved(obs) is None) is seen


NODE_ENV_APP = (
    "FROM node:22\n"
    "WORKDIR /usr/src/app\n"
    "COPY package*.json ./\n"
    "RUN npm install\n"
    "COPY . .\n"
    "EXPOSE 3000\n"
    'CMD ["node", "server.js"]\n'
)


class ReadsEnvAtStart(Fake):
    """The app reads .env at start: an image built from a context whose .dockerignore leaves .env out
    exits at once. (The fake reads the build context it is given, as a builder would.)"""

    broken: set[str]

    def __init__(self) -> None:
        super().__init__()
        self.broken = set()

    def build(self, *, context, dockerfile, tag, flags, label, env, timeout):
        ignore = context / ".dockerignore"
        if ignore.exists() and ".env" in ignore.read_text().split():
            self.broken.add(tag)
        return super().build(context=context, dockerfile=dockerfile, tag=tag, flags=flags, label=label, env=env,
                             timeout=timeout)

    def run(self, tag, *, name, run_args, cmd, timeout, want_uid):
        if tag in self.broken:
            return RunResult(1, "", "Error: ENOENT: no such file or directory, open '.env'\n")
        return super().run(tag, name=name, run_args=run_args, cmd=cmd, timeout=timeout, want_uid=want_uid)


def test_a_candidate_differing_only_in_a_side_file_is_built_and_the_split_kept(tmp_path: Path) -> None:
    """The full migration (split + .dockerignore listing .env) fails at start; the split alone differs
    from it only by the .dockerignore, and must be built and kept (not "dropped" on the full one's
    verdict, as a cache keyed on the Dockerfile's text alone did)."""
    (tmp_path / "Dockerfile").write_text(NODE_ENV_APP)
    (tmp_path / "package.json").write_text('{"name": "a", "version": "1.0.0", "dependencies": {"dotenv": "16"}}\n')
    (tmp_path / "package-lock.json").write_text("{}\n")
    (tmp_path / "server.js").write_text("require('dotenv').config();\n")
    (tmp_path / ".env").write_text("GREETING=hello\n")
    out, err = io.StringIO(), io.StringIO()
    run_migrate([str(tmp_path / "Dockerfile")], engine=ReadsEnvAtStart(), report_format="json", out=out, err=err,
                no_cache=True)
    record = json.loads(out.getvalue())["files"][0]
    assert "multistage" in record["kept"], record
    assert "secrets" in record["dropped"] and "exited 1" in record["dropped"]["secrets"], record
    assert "gcr.io/distroless/nodejs" in (tmp_path / "Dockerfile").read_text()
    assert not (tmp_path / ".dockerignore").exists()


def _server(reply: bytes | None):
    import socket
    import threading

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()

    def serve() -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            conn.recv(200)
            if reply:
                conn.sendall(reply)
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    return sock


def test_a_port_answering_another_protocol_is_seen_listening_and_a_bare_close_is_not() -> None:
    """redis answers an HTTP request with "-ERR …": the service listens (evidence); a proxy that closes
    without a byte says nothing about what is behind it."""
    import time

    from rewriter.proof.containers import http_get

    redis = _server(b"-ERR wrong number of arguments for 'get' command\r\n")
    res = http_get(redis.getsockname()[1], time.monotonic() + 3, lambda: None)
    assert res.not_http and res.status is None
    closer = _server(None)
    res = http_get(closer.getsockname()[1], time.monotonic() + 1, lambda: None)
    assert not res.not_http and res.status is None
    redis.close()
    closer.close()
    assert unobserved(Observation(True, state="running", answers={6379: "answers, not HTTP"})) is None
