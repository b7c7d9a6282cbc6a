"""Runtime libraries of the app's native dependencies (issue 23 item 4): the dependency readers of
``transforms/multistage/native.py`` and the table ``data/native.yaml``; the splits themselves are the
golden cases ``python-full-image-psycopg2``, ``ruby-full-image-mysql2`` and
``python313-mysqlclient-not-distroless``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from rewriter.engine.config import Config
from rewriter.engine.pipeline import process_text
from transforms._data import load
from transforms.multistage.native import _normal, _requirement_name, app_libraries


@pytest.mark.parametrize(
    ("line", "name"),
    [
        ("psycopg2==2.9.9  # db", "psycopg2"),
        ("mysqlclient[extra]>=2; python_version >= '3.8'", "mysqlclient"),
        ("git+https://github.com/acme/x.git#egg=acme_x", "acme_x"),
        ("-r base.txt", None),
        ("# comment", None),
        ("https://example.com/pkg.tar.gz", None),
    ],
)
def test_requirement_lines(line: str, name: str | None) -> None:
    assert _requirement_name(line) == name


def test_names_are_compared_normalised() -> None:
    assert _normal("MySQL_client") == _normal("mysql.client") == "mysql-client"


@dataclass
class _Ctx:
    files: dict[str, str]
    config: Config = field(default_factory=Config)  # no runtime-packages: only the tables speak

    def read_side(self, rel: str) -> str | None:
        return self.files.get(rel)


def _libs(files: dict[str, str], stack: str, dockerfile: str, installer: str = "apt") -> list[tuple[str, str]]:
    from rewriter.core.syntax import parse
    from rewriter.facts.commands import Runs
    from rewriter.facts.scope import Scopes

    tree = parse(dockerfile)
    runs = Runs(Scopes(tree)).commands(tree.stages[-1])
    return app_libraries(_Ctx(files), stack, runs, installer)  # type: ignore[arg-type]


def test_readers_of_each_dependency_file() -> None:
    run = "FROM python:3.11\nRUN pip install -r requirements/prod.txt\n"
    assert _libs({"requirements/prod.txt": "Psycopg2==2.9\n"}, "python", run) == [("psycopg2", "libpq5")]
    assert _libs({}, "python", "FROM python:3.11\nRUN python -m pip install mysqlclient gunicorn\n") == \
        [("mysqlclient", "libmariadb3")]
    assert _libs({"Pipfile": "[packages]\npsycopg2 = '*'\n"}, "python", "FROM python:3.11\nRUN pip install pipenv\n") \
        == [("psycopg2", "libpq5")]
    assert _libs({"setup.py": "setup(install_requires=['pyodbc>=4'])\n"}, "python", "FROM python:3.11\n") == \
        [("pyodbc", "libodbc2")]
    assert _libs({"Gemfile.lock": "GEM\n  specs:\n    pg (1.5.4)\n"}, "ruby", "FROM ruby:3.3\n", "apk") == \
        [("pg", "libpq")]
    assert _libs({}, "node", "FROM node:22\nRUN npm install pg-native@3 express\n") == [("pg-native", "libpq5")]
    assert _libs({"package.json": '{"dependencies": {"express": "4"}}'}, "node", "FROM node:22\n") == []


def test_self_contained_packages_are_not_in_the_table() -> None:
    table = load("native")
    for name in ("psycopg2-binary", "lxml", "pillow", "better-sqlite3", "bcrypt"):
        assert name not in table["pip"] and name not in table["npm"]


def test_a_slim_split_installs_what_the_app_links(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("psycopg2==2.9.9\n")
    text = ('FROM python:3.11\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n'
            'CMD ["python", "app.py"]\n')
    result = process_text(text, context_dir=tmp_path, unsafe_fixes=True)
    runtime = result.new_text.split("FROM python:3.11-slim", 1)[1]
    assert "apt-get install -y --no-install-recommends libpq5" in runtime
    (tmp_path / "requirements.txt").write_text("psycopg2-binary==2.9.9\n")
    result = process_text(text, context_dir=tmp_path, unsafe_fixes=True)
    assert "libpq5" not in result.new_text
