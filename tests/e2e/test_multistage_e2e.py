"""multistage, end to end: the split image builds, runs the same app, as non-root, and is smaller.

For the Python (pip), Node (npm start) and Go apps: build and run the original; run `dockerfix fix
--unsafe-fixes` (every codemod, the split included); build and run the rewrite; the output is the
same, the final stage is a distroless image, the process runs with a non-zero uid and the image is
smaller.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from e2e_support import APPS, Engine, dockerfix, image_inspect

pytestmark = pytest.mark.e2e

CASES = [
    ("py-pip", "gcr.io/distroless/python3-debian13:nonroot", "hello from multistage python 3.13"),
    ("node-npm-start", "gcr.io/distroless/nodejs22-debian13:nonroot", "hello from multistage node 22"),
    ("go-single", "gcr.io/distroless/static-debian13:nonroot", None),
    ("java-single", "gcr.io/distroless/java21-debian13:nonroot", "hello from maven-built java 21"),
]


def _needs(engine: Engine, *images: str) -> None:
    missing = [i for i in images if engine.images.cmd("buildah", "inspect", "-t", "image", i, timeout=60).returncode]
    if missing:
        pytest.skip(f"offline images missing (run tests/e2e/offline-images.sh): {', '.join(missing)}")


def _app_lines(out: str) -> list[str]:
    """The app's own output (npm start's `> name start` banner and blank lines are npm's, not the app's)."""
    lines = [line for line in out.splitlines() if line.strip() and not line.startswith("> ")]
    # who runs it and where are expected to change (java-single prints them): compare the rest
    return [re.sub(r" uid=\d+ gid=\d+ cwd=\S+", "", line) for line in lines]


@pytest.mark.parametrize(("app", "runtime", "expected"), CASES, ids=[c[0] for c in CASES])
def test_split_image_runs_the_same_app(engine: Engine, tmp_path: Path, app: str, runtime: str,
                                       expected: str | None) -> None:
    ctx = tmp_path / app
    shutil.copytree(APPS / app, ctx)
    base = re.search(r"(?m)^FROM (\S+)", (ctx / "Dockerfile").read_text()).group(1)
    _needs(engine, base, runtime)
    before = engine.tag(f"{app}-before")
    engine.build(ctx, before)
    original = engine.run(before, timeout=120)
    assert original.returncode == 0, original.stderr
    if expected:
        assert expected in original.stdout

    proc = dockerfix("fix", "--unsafe-fixes", "Dockerfile", cwd=ctx)
    assert proc.returncode == 0, proc.stderr
    text = (ctx / "Dockerfile").read_text()
    assert f"FROM {runtime}" in text, text
    assert "[multistage]" in proc.stderr
    after = engine.tag(f"{app}-after")
    engine.build(ctx, after)
    rewritten = engine.run(after, timeout=120)
    assert rewritten.returncode == 0, rewritten.stderr
    assert _app_lines(rewritten.stdout) == _app_lines(original.stdout)
    if "uid" in original.stderr:  # the apps that report the uid they run as
        assert "uid 0" in original.stderr
        assert re.search(r"uid [1-9]\d*", rewritten.stderr), rewritten.stderr
    if "uid=" in original.stdout:
        assert "uid=0 " in original.stdout and re.search(r"uid=[1-9]\d* ", rewritten.stdout), rewritten.stdout
    user = image_inspect(engine, after)["Config"].get("User", "")
    assert user.split(":")[0].isdigit() and user.split(":")[0] != "0", user
    assert image_inspect(engine, after)["Size"] < image_inspect(engine, before)["Size"]
