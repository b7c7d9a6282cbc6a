"""The start-use fact (rewriter.facts.startuse): what the start runs and which paths it writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rewriter.core.syntax import parse
from rewriter.facts.context import Context
from rewriter.facts.startuse import StartUse


def _use(tmp_path: Path, dockerfile: str, files: dict[str, str] | None = None) -> StartUse | None:
    for rel, text in (files or {}).items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)

    def side(rel: str) -> str | None:
        p = tmp_path / rel
        return p.read_text() if p.is_file() else None

    ctx = Context(parse(dockerfile), tmp_path / "Dockerfile", tmp_path, side_reader=side)
    assert ctx.final_stage is not None
    return ctx.start_use(ctx.final_stage)


def _writes(use: StartUse | None) -> set[tuple[str, bool, bool]]:
    assert use is not None
    return {(w.path, w.is_dir, w.precreate) for w in use.writes}


def test_no_start_line_means_the_start_is_not_known(tmp_path: Path) -> None:
    assert _use(tmp_path, "FROM python:3.12\nRUN echo hi\n") is None


def test_writes_of_the_start_line_relative_to_workdir_and_after_cd(tmp_path: Path) -> None:
    use = _use(tmp_path, 'FROM debian:13\nWORKDIR /app\nCMD sed -i -e "s/a/b/" conf/app.ini /etc/x.conf'
                         ' && mkdir cache && mkdir -p /data/db && touch ready && cd /srv && tee -a out.log'
                         ' < /dev/null > /dev/null && echo hi >> logs/run.log\n')
    assert _writes(use) == {("/app/conf/app.ini", False, False), ("/etc/x.conf", False, False),
                            ("/app/cache", True, False), ("/data/db", True, True), ("/app/ready", False, False),
                            ("/srv/out.log", False, False), ("/srv/logs/run.log", False, False)}


def test_sed_without_e_takes_its_first_operand_as_the_script(tmp_path: Path) -> None:
    use = _use(tmp_path, "FROM debian:13\nCMD [\"sh\", \"-c\", \"sed -i s/80/8080/ /etc/a.conf /etc/b.conf\"]\n")
    assert {w.path for w in use.writes} == {"/etc/a.conf", "/etc/b.conf"}  # type: ignore[union-attr]


def test_copy_targets_and_clones_are_not_made_before_the_start(tmp_path: Path) -> None:
    use = _use(tmp_path, "FROM debian:13\nWORKDIR /w\nCMD cp -r defaults/ /w/data && git clone https://x.org/a/"
                         "repo.git && git clone --depth 1 https://x.org/b.git vendor/b && exec app\n")
    assert _writes(use) == {("/w/data", False, False), ("/w/repo", True, False), ("/w/vendor/b", True, False)}


def test_variables_are_not_resolved_into_paths(tmp_path: Path) -> None:
    use = _use(tmp_path, "FROM debian:13\nCMD echo x > $LOG_DIR/a.log && mkdir -p ~/x && exec app\n")
    assert _writes(use) == set()


def test_entry_scripts_and_package_scripts_are_followed(tmp_path: Path) -> None:
    use = _use(tmp_path, "FROM node:24\nWORKDIR /app\nCOPY . .\nENTRYPOINT [\"./docker/entry.sh\"]\n"
                         "CMD [\"npm\", \"start\"]\n",
               {"docker/entry.sh": "#!/bin/sh\necho ok > /app/public/env.js\nexec \"$@\"\n",
                "package.json": json.dumps({"scripts": {"prestart": "tsc -p .", "start": "node dist/run.js"}})})
    assert use is not None
    found = {(c.program, c.where) for c in use.commands}
    assert ("tsc", "scripts.prestart of package.json") in found
    assert ("node", "scripts.start of package.json") in found
    assert ("echo", "the script docker/entry.sh (run at start)") in found
    assert ("/app/public/env.js", False, False) in _writes(use)


@pytest.mark.parametrize(("env", "settings", "expected"), [
    ("ENV STATIC_ROOT=/static\n", None, "/static"),
    ("", 'STATIC_ROOT = "/var/www/static"\n', "/var/www/static"),
    ("", "STATIC_ROOT = BASE_DIR / 'static'\n", None),  # not a literal path: not guessed
])
def test_collectstatic_writes_static_root(tmp_path: Path, env: str, settings: str | None, expected: str | None) -> None:
    files = {"manage.py": "", **({"mysite/settings.py": settings} if settings else {})}
    use = _use(tmp_path, f"FROM python:3.12\nWORKDIR /app\nCOPY . .\n{env}"
                         "CMD python manage.py collectstatic --noinput && exec gunicorn mysite.wsgi\n", files)
    got = {(w.path, w.precreate) for w in use.writes if w.how.startswith("collectstatic")}  # type: ignore[union-attr]
    assert got == ({(expected, True)} if expected else set())


def test_a_shell_command_text_inside_the_start_is_read_too(tmp_path: Path) -> None:
    use = _use(tmp_path, 'FROM debian:13\nWORKDIR /app\nCMD sh -c "echo $$ > /var/run/app.pid && exec app"\n')
    assert use is not None
    assert ("/var/run/app.pid", False, False) in _writes(use)
    assert "app" in {c.program for c in use.commands}
