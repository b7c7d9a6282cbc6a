"""Shared pytest configuration: ``--update-golden`` and import paths."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))


_CACHE: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    """dockerfix's caches (parsed tables, migrate results) go to a folder of the test run's own, for the
    tests and the CLI processes they start, unless the caller chose one."""
    if "DOCKERFIX_CACHE_DIR" not in os.environ:
        _CACHE.append(tempfile.mkdtemp(prefix="dockerfix-test-cache-"))
        os.environ["DOCKERFIX_CACHE_DIR"] = _CACHE[0]


def pytest_unconfigure(config: pytest.Config) -> None:
    for folder in _CACHE:
        shutil.rmtree(folder, ignore_errors=True)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite golden/*/*/expected.Dockerfile (and notes.txt) from the current output",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))
