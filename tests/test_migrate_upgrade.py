"""``migrate`` tries the opt-in ``upgrade`` codemod last, on its own, on top of what it kept, and keeps the
version move only when it verifies; the report lists it apart from the codemods (issue 23)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from test_migrate import Fake

from rewriter.faces.migrate_cli import run_migrate
from rewriter.proof.containers import RunResult

EOL_APP = (
    "FROM python:3.9-slim\n"
    "WORKDIR /app\n"
    "COPY . .\n"
    "RUN pip install -r requirements.txt\n"
    "EXPOSE 8000\n"
    'CMD ["python", "app.py"]\n'
)


class OldDependencies(Fake):
    """The app's pinned dependencies do not run on a newer Python (typed-ast, uvloop 0.16 ...)."""

    def run(self, tag, *, name, run_args, cmd, timeout, want_uid):
        if "python:3.9" not in self.texts[tag]:
            return RunResult(1, "", "ModuleNotFoundError: No module named 'cgi'\n")
        return super().run(tag, name=name, run_args=run_args, cmd=cmd, timeout=timeout, want_uid=want_uid)


@pytest.fixture
def eol(tmp_path: Path) -> Path:
    (tmp_path / "Dockerfile").write_text(EOL_APP)
    (tmp_path / "requirements.txt").write_text("django==3.2\n")
    (tmp_path / "app.py").write_text("print('hi')\n")
    return tmp_path


def _migrate(folder: Path, fake: Fake, **kw: object) -> tuple[dict, str]:
    out, err = io.StringIO(), io.StringIO()
    run_migrate([str(folder / "Dockerfile")], engine=fake, report_format="json", out=out, err=err, no_cache=True,
                **kw)  # type: ignore[arg-type]
    return json.loads(out.getvalue())["files"][0], (folder / "Dockerfile").read_text()


def test_an_upgrade_that_verifies_is_kept_and_reported_apart(eol: Path) -> None:
    fake = Fake()
    record, text = _migrate(eol, fake)
    assert "upgrade" not in record["kept"]  # not a codemod of the migration's set
    (up,) = record["upgrades"]
    assert up["kept"] is True and up["from"] == "Python 3.9" and up["to"].startswith("Python 3.")
    assert "FROM python:3.9" not in text and f"FROM python:{up['to'].split()[1]}-slim" in text
    assert "python:3.9" not in fake.built[-1]  # tried last, on top of what was kept
    assert "USER 10001" in fake.built[-1]


def test_an_upgrade_that_breaks_the_app_is_dropped_with_evidence_and_the_rest_kept(eol: Path) -> None:
    fake = OldDependencies()
    record, text = _migrate(eol, fake)
    (up,) = record["upgrades"]
    assert up["kept"] is False and "exited 1" in up["evidence"] and "No module named 'cgi'" in up["evidence"]
    assert record["status"] == "migrated" and "nonroot" in record["kept"]  # the other codemods stand
    assert "FROM python:3.9-slim" in text and "USER 10001" in text


def test_no_upgrade_tries_none(eol: Path) -> None:
    fake = Fake()
    record, text = _migrate(eol, fake, upgrade=False)
    assert record["upgrades"] == [] and "FROM python:3.9-slim" in text
    assert all("python:3.9" in t for t in fake.built)


def test_a_selected_upgrade_is_one_codemod_among_the_others(eol: Path) -> None:
    record, _text = _migrate(eol, Fake(), select=["upgrade", "nonroot"])
    assert "upgrade" in record["kept"] and record["upgrades"] == []
