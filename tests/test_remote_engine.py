"""A remote engine (issue 27 item 2): the engine's host from DOCKER_HOST / the docker context /
CONTAINER_HOST, a served port published on the engine's host and requested there, the user from the
engine (``top``), never from this host's ``/proc``."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import pytest
from test_verify import Recorder, which_of

from rewriter.proof import containers
from rewriter.proof.containers import CliBuilder, Proc, VerifyError, detect_builder, engine_host


@pytest.mark.parametrize(("cli", "env", "host"), [
    ("podman", {"CONTAINER_HOST": "tcp://10.231.0.2:8888"}, "10.231.0.2"),
    ("podman", {"CONTAINER_HOST": "ssh://core@build.example.com:22/run/podman/podman.sock"}, "build.example.com"),
    ("podman", {"CONTAINER_HOST": "unix:///run/podman/podman.sock"}, None),
    ("podman", {}, None),
    ("docker", {"DOCKER_HOST": "tcp://192.0.2.7:2376"}, "192.0.2.7"),
    ("docker", {"DOCKER_HOST": "unix:///var/run/docker.sock"}, None),
    ("docker", {"DOCKER_CONTEXT": "default"}, None),
])  # fmt: skip
def test_engine_host_from_the_environment(cli: str, env: dict[str, str], host: str | None) -> None:
    assert engine_host(cli, env, Recorder()) == host


def test_engine_host_from_the_current_docker_context() -> None:
    rec = Recorder(answers={"docker context": Proc(0, "ssh://deploy@builder.internal\n")})
    assert engine_host("docker", {}, rec) == "builder.internal"
    assert ["docker", "context", "show"] in rec.calls


@pytest.fixture
def web() -> Iterator[int]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"from the engine's host")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.2", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


def test_serve_on_a_remote_engine_publishes_there_and_asks_the_engine(web: int,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The port is published without a host address (the engine picks one of its own), read back with
    ``port`` and requested on the engine's host (127.0.0.2 stands in for it); the uid comes from
    ``top``; this host's /proc is never read."""
    rec = Recorder(answers={"podman port": Proc(0, f"0.0.0.0:{web}\n"),
                            "podman top": Proc(0, "HUSER\n65532\n")})  # fmt: skip
    monkeypatch.setattr(containers, "process_uid", lambda pid: pytest.fail("read this host's /proc"))
    b = CliBuilder("podman", {}, execute=rec, remote_host="127.0.0.2")
    res = b.serve("t:1", name="c1", run_args=[], cmd=None, port=8080, timeout=10)
    assert res.status == 200 and res.body == b"from the engine's host" and res.uid == 65532
    create = next(c for c in rec.calls if c[:2] == ["podman", "create"])
    assert create[create.index("-p") + 1] == "8080"
    assert ["podman", "port", "c1", "8080/tcp"] in rec.calls
    assert not any(c[:2] == ["podman", "inspect"] and "{{.State.Pid}}" in c for c in rec.calls)


def test_remote_uid_is_a_number_or_unknown() -> None:
    for out, uid in (("HUSER\nroot\n", 0), ("HUSER\n1000\n", 1000), ("HUSER\nwww-data\n", None), ("", None)):
        rec = Recorder(answers={"podman top": Proc(0, out)})
        assert CliBuilder("podman", {}, execute=rec, remote_host="h")._engine_uid("c") == uid
    rec = Recorder(answers={"docker top": Proc(0, "UID\n0\n")})
    assert CliBuilder("docker", {}, execute=rec, remote_host="h")._engine_uid("c") == 0
    assert ["docker", "top", "c", "-o", "uid"] in rec.calls


def test_a_local_engine_keeps_the_loopback_port() -> None:
    rec = Recorder(answers={"podman inspect": Proc(0, "false 3\n")})
    b = CliBuilder("podman", {}, execute=rec)
    b.serve("t:1", name="c1", run_args=[], cmd=None, port=8080, timeout=0.5)
    create = next(c for c in rec.calls if c[:2] == ["podman", "create"])
    assert create[create.index("-p") + 1].startswith("127.0.0.1:") and create[create.index("-p") + 1].endswith(":8080")
    assert not any(c[:2] == ["podman", "port"] for c in rec.calls)


def test_detect_builder_makes_a_remote_builder_and_refuses_buildah_for_it() -> None:
    env = {"CONTAINER_HOST": "tcp://10.0.0.5:8888"}
    b = detect_builder("podman", env, which=which_of("podman"), execute=Recorder(ok_info={"podman"}))
    assert b.remote_host == "10.0.0.5"
    with pytest.raises(VerifyError, match="remote engine"):
        detect_builder("buildah", env, which=which_of("buildah", "podman"),
                       execute=Recorder(ok_info={"buildah", "podman"}))
    local = detect_builder("podman", {}, which=which_of("podman"), execute=Recorder(ok_info={"podman"}))
    assert local.remote_host is None
