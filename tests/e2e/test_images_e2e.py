"""The multi-stage base images, end to end: each build stand-in builds an app, each distroless runtime runs it.

``offline-images.sh`` assembles the images a ``multistage`` rewrite builds FROM: the toolchains
``golang:1.24``, ``eclipse-temurin:21-jdk``, ``maven:3.9-eclipse-temurin-21`` (Debian 13's Go, OpenJDK
and Maven) and the runtimes ``gcr.io/distroless/{static,nodejs22,java21}-debian13:nonroot``. Here a tiny
app from tests/e2e/apps goes through a two-stage Dockerfile for each pair, is built without any network
(``unshare --net buildah bud``: with chroot isolation buildah ignores ``--network=none``, RUN steps would
share the host's network) and run with ``--network=none``; it prints what it is and who runs it, and that
must be uid/gid 65532.

The runtimes are also checked for the real images' layout: ENTRYPOINT, USER 65532, WORKDIR
/home/nonroot, no shell, node without npm under /nodejs, java at /usr/bin/java and at Temurin's path.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from e2e_support import APPS, Engine, Images, base_images, image_inspect, tail

pytestmark = pytest.mark.e2e

NODEJS = "gcr.io/distroless/nodejs22-debian13:nonroot"
JAVA = "gcr.io/distroless/java21-debian13:nonroot"
GOLANG = "docker.io/library/golang:1.24"
WHO = re.compile(r"uid=(\d+) gid=(\d+) cwd=(\S+)")


@dataclass(frozen=True)
class App:
    folder: str
    output: str  # a regular expression for the whole output
    workdir: str  # the working directory the app must report


APPS_ = [
    App("go-hello", r"hello from go go1\.24(\.\d+)? uid=\d+ gid=\d+ cwd=\S+", "/home/nonroot"),
    App("node-hello", r"200 hello from node v22\.\d+\.\d+ uid=\d+ gid=\d+ cwd=\S+", "/app"),
    App("java-hello", r"hello from java 21\.[\d.]+ uid=\d+ gid=\d+ cwd=\S+ trusted=(\d+)", "/app"),
    App("java-maven-hello", r"hello from maven-built java 21\.[\d.]+ uid=\d+ gid=\d+ cwd=\S+", "/app"),
]


def build_offline(engine: Engine, ctx: Path, tag: str) -> None:
    """``buildah bud`` in an empty network namespace: a RUN step that reaches for the network fails."""
    if tag not in engine.tags:
        engine.tags.append(tag)
    if shutil.which("unshare") is None:
        pytest.skip("`unshare` (util-linux) is not installed")
    argv = ["unshare", "--net", "buildah", "bud", "--pull=never", "--layers=false", "--force-rm"]
    argv += ["-t", tag, "-f", str(ctx / "Dockerfile"), str(ctx)]
    proc = engine.images.cmd(*argv, timeout=900)
    if proc.returncode != 0:
        pytest.fail(
            f"offline build of {ctx} failed (exit {proc.returncode}):\n"
            f"--- Dockerfile\n{(ctx / 'Dockerfile').read_text()}\n"
            f"--- output\n{tail(proc.stdout)}\n{tail(proc.stderr)}",
            pytrace=False,
        )


@pytest.mark.parametrize("app", APPS_, ids=lambda a: a.folder)
def test_multistage_app_builds_offline_and_runs_as_nonroot(
    app: App, engine: Engine, images: Images, tmp_path: Path
) -> None:
    ctx = tmp_path / app.folder
    shutil.copytree(APPS / app.folder, ctx)
    bases = base_images(ctx / "Dockerfile")
    assert len(bases) == 2 and bases[1].startswith("gcr.io/distroless/") and bases[1].endswith(":nonroot"), bases
    images.require(*bases)

    tag = engine.tag(app.folder)
    build_offline(engine, ctx, tag)
    assert image_inspect(engine, tag)["Config"].get("User") == "65532", "USER 65532 of the runtime was not inherited"

    proc = engine.run(tag)
    out = proc.stdout.strip()
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    m = re.fullmatch(app.output, out)
    assert m, f"unexpected output from {app.folder}: {out!r}\n{proc.stderr}"
    who = WHO.search(out)
    assert who, out
    assert (int(who[1]), int(who[2])) == (65532, 65532), out
    assert who[3] == app.workdir, out
    if app.folder == "java-hello":
        assert int(m[1]) > 100, f"the JVM's default trust store is (nearly) empty: {out}"


@dataclass(frozen=True)
class Runtime:
    image: str
    entrypoint: list[str]
    env: dict[str, str]  # variable -> regular expression its value must match
    present: list[str]  # programs that must run (with --version / -version)
    absent: list[str]  # programs that must not exist


RUNTIMES = [
    Runtime(
        NODEJS,
        ["/nodejs/bin/node"],
        {},
        ["/nodejs/bin/node"],
        ["/bin/sh", "/nodejs/bin/npm", "/nodejs/bin/npx", "/nodejs/bin/corepack"],
    ),
    Runtime(
        JAVA,
        ["/usr/bin/java", "-jar"],
        {"JAVA_VERSION": r"21\.[\d.]+", "LANG": r"C\.UTF-8"},
        ["/usr/bin/java", "/usr/lib/jvm/temurin-21-jre-amd64/bin/java"],
        ["/bin/sh", "/usr/lib/jvm/temurin-21-jre-amd64/bin/javac"],
    ),
]


@pytest.mark.parametrize("rt", RUNTIMES, ids=lambda r: r.image.split("/")[-1])
def test_distroless_runtime_has_the_real_layout(rt: Runtime, engine: Engine, images: Images) -> None:
    images.require(rt.image)
    config = image_inspect(engine, rt.image)["Config"]
    assert config.get("Entrypoint") == rt.entrypoint
    assert config.get("User") == "65532"
    assert config.get("WorkingDir") == "/home/nonroot"
    env = dict(e.partition("=")[::2] for e in config.get("Env", []))
    for name, pattern in rt.env.items():
        assert re.fullmatch(pattern, env.get(name, "")), f"{name}={env.get(name)!r}"
    for prog in rt.present:
        flag = "-version" if prog.endswith("java") else "--version"
        proc = engine.run(rt.image, flag, options=["--entrypoint", prog])
        assert proc.returncode == 0, f"{prog} {flag}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
        assert re.search(r"\b(v22\.|21\.)", proc.stdout + proc.stderr), proc.stdout + proc.stderr
    for prog in rt.absent:
        proc = engine.run(rt.image, options=["--entrypoint", prog])
        assert proc.returncode != 0, f"{prog} exists in {rt.image}"
        assert "no such file" in (proc.stdout + proc.stderr).lower(), proc.stdout + proc.stderr


def test_golang_builds_cgo_offline(engine: Engine, images: Images) -> None:
    """The Go stand-in has gcc/libc6-dev for cgo, GOPATH=/go, GOPROXY=off, GOTOOLCHAIN=local."""
    images.require(GOLANG)
    script = (
        "set -e; mkdir -p /tmp/c && cd /tmp/c; go mod init example.com/c >/dev/null 2>&1;"
        ' printf \'package main\\n// int twice(int x) { return 2 * x; }\\nimport "C"\\nimport "fmt"\\n'
        'func main() { fmt.Println("cgo", C.twice(21)) }\\n\' > main.go;'
        " CGO_ENABLED=1 go build -o c . && ./c && go env GOPATH GOPROXY GOTOOLCHAIN"
    )
    proc = engine.run(GOLANG, "sh", "-c", script, timeout=300)
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    assert proc.stdout.split() == ["cgo", "42", "/go", "off", "local"], proc.stdout
