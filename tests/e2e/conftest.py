"""End-to-end fixtures: build with Debian's buildah, run with podman, on offline base images.

The base images come from ``tests/e2e/offline-images.sh`` (run it first; CI runs it before pytest).
It keeps everything under ``$W`` (``DOCKERFIX_E2E_IMAGES``, default ``/var/tmp/dockerfix-images``)
and writes ``$W/env.sh`` (where the private containers configuration is) and, last, ``$W/ready``.

Without that setup the tests skip, except under ``CI=true``, where they fail: there the setup is
part of the run, so a missing image store is a broken run, not a reason to skip.

The variables of ``env.sh`` are read into a dict that is passed as ``env`` to every buildah/podman
call; ``os.environ`` is never changed. Every image a test builds is tagged
``localhost/dockerfix-e2e-<name>:<uuid8>`` and removed, with the test's containers, when the test
ends; leftovers of an interrupted run are swept at the start and at the end of the session.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_support import DEFAULT_W, E2E, Engine, Images, load_env, not_ready


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test in this folder is an e2e test, whether or not its module says so."""
    for item in items:
        if E2E in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def images() -> Iterator[Images]:
    """The built image store; skips (or fails under CI=true) when the setup has not been run."""
    root = Path(os.environ.get("DOCKERFIX_E2E_IMAGES") or DEFAULT_W)
    env_sh = root / "env.sh"
    if os.geteuid() != 0:
        not_ready("the e2e tests need root (rootful buildah/podman)")
    for tool in ("buildah", "podman"):
        if shutil.which(tool) is None:
            not_ready(f"`{tool}` is not installed")
    if not env_sh.is_file():
        not_ready(f"{env_sh} does not exist")
    if not (root / "ready").is_file():
        not_ready(f"{root / 'ready'} does not exist: the setup did not finish")
    exported, full = load_env(env_sh)
    store = Images(root, exported, full, frozenset((root / "ready").read_text().split()))
    store.sweep()
    yield store
    store.sweep()


@pytest.fixture
def engine(images: Images, request: pytest.FixtureRequest) -> Iterator[Engine]:
    """buildah/podman helpers for one test, with unique tags and cleanup of what the test made."""
    eng = Engine(images, request.node.name)
    try:
        yield eng
    finally:
        eng.cleanup()
