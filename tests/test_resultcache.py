"""The migrate result cache (issue 27 item 4): a rerun over an unchanged repository costs no build;
any change to the Dockerfile, a side file, a context file or a base image's ID costs builds again."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from test_migrate import APP, Fake, write_app

from rewriter.faces.migrate_cli import run_migrate
from rewriter.proof.containers import ImageInfo


class Bases(Fake):
    """A fake engine that also knows the base images, by ID."""

    ids: dict[str, str]

    def __init__(self, ids: dict[str, str], **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.ids = ids

    def inspect(self, tag):
        if tag in self.texts:
            return super().inspect(tag)
        if tag in self.ids:
            return ImageInfo("", 1, json.dumps([{"Id": self.ids[tag]}]))
        return None


def _run(repo: Path, cache: Path, fake: Fake, *, no_cache: bool = False) -> tuple[int, dict, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run_migrate([str(repo / "Dockerfile")], engine=fake, report_format="json", out=out, err=err,
                       cache_dir=cache, no_cache=no_cache)
    return code, json.loads(out.getvalue())["files"][0], err.getvalue()


@pytest.fixture
def copies(tmp_path: Path):
    """Fresh checkouts of the same repository at the same place, as a CI job gets on every run."""
    where = tmp_path / "checkout"

    def fresh() -> Path:
        import shutil

        shutil.rmtree(where, ignore_errors=True)
        where.mkdir()
        return write_app(where)

    return fresh


def test_a_rerun_costs_no_build_and_writes_the_same(copies, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    ids = {"python:3.13-slim": "sha256:aaa", "gcr.io/distroless/python3-debian13:nonroot": "sha256:bbb"}
    first_fake = Bases(ids)
    repo = copies()
    code, first, _ = _run(repo, cache, first_fake)
    written = (repo / "Dockerfile").read_text()
    assert first["builds"] >= 2 and len(first_fake.built) >= 2
    second_fake = Bases(ids)
    repo = copies()
    code2, second, err = _run(repo, cache, second_fake)
    assert second_fake.built == [] and second["builds"] == 0 and code2 == code
    assert (second["status"], second["kept"], second["dropped"]) == (first["status"], first["kept"], first["dropped"])
    assert (repo / "Dockerfile").read_text() == written  # the same file written, without a build
    assert "from the result cache" in err
    assert "FIXTURE_pw_123" not in "".join(p.read_text() for p in cache.glob("*.json"))  # no secret value kept


@pytest.mark.parametrize("change", ["dockerfile", "side file", "context file", "base image", "option"])
def test_any_change_that_decides_the_outcome_costs_builds(copies, tmp_path: Path, change: str) -> None:
    cache = tmp_path / "cache"
    ids = {"python:3.13-slim": "sha256:aaa"}
    _run(copies(), cache, Bases(ids))
    repo = copies()
    fake = Bases(dict(ids))
    kw: dict = {}
    if change == "dockerfile":
        (repo / "Dockerfile").write_text(APP.replace("EXPOSE 8000", "EXPOSE 8000\nENV MODE=prod"))
    elif change == "side file":  # a .dockerignore the rewrite extends: another side-file text
        (repo / ".dockerignore").write_text("*.md\n")
    elif change == "context file":
        (repo / "app.py").write_text("print('changed')\n")
    elif change == "base image":
        fake.ids["python:3.13-slim"] = "sha256:ccc"
    out, err = io.StringIO(), io.StringIO()
    if change == "option":
        kw["settle"] = 9.0
    run_migrate([str(repo / "Dockerfile")], engine=fake, report_format="json", out=out, err=err, cache_dir=cache,
                **kw)
    assert fake.built, f"a {change} change must be built again"


def test_an_ignored_context_file_does_not_count(copies, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    repo = copies()
    (repo / ".dockerignore").write_text("notes/\n")
    _run(repo, cache, Bases({}))
    repo = copies()
    (repo / ".dockerignore").write_text("notes/\n")
    (repo / "notes").mkdir()
    (repo / "notes" / "todo.txt").write_text("the builder never sees this\n")
    fake = Bases({})
    _run(repo, cache, fake)
    assert fake.built == []


def test_no_cache_neither_reads_nor_writes(copies, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _run(copies(), cache, Bases({}), no_cache=True)
    assert not cache.exists()
    _run(copies(), cache, Bases({}))
    fake = Bases({})
    _run(copies(), cache, fake, no_cache=True)
    assert fake.built  # not read either
