"""logs, end to end: a line the application writes appears in the container's output.

The legacy image sends the app's output into /var/log/app.log inside the container, so `podman logs`
shows nothing; after `dockerfix fix --select logs` the same line reaches the container's output.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from e2e_support import APPS, Engine, dockerfix

pytestmark = pytest.mark.e2e

LINE = "app started: log line 1"


def _logs_after(engine: Engine, tag: str, seconds: float) -> tuple[str, str]:
    cid = engine.start(tag)
    time.sleep(seconds)
    logs = engine.logs(cid)
    inside = engine.images.cmd("podman", "exec", cid, "sh", "-c", "cat /var/log/app.log 2>/dev/null || true",
                               timeout=60).stdout
    engine.rm(cid)
    return logs, inside


def test_log_line_reaches_the_container_output(engine: Engine, tmp_path: Path) -> None:
    ctx = tmp_path / "py-logfile"
    shutil.copytree(APPS / "py-logfile", ctx)
    before = engine.tag("logs-before")
    engine.build(ctx, before)
    logs, inside = _logs_after(engine, before, 2.5)
    assert LINE not in logs, "the legacy image already logs to the container output: the test proves nothing"
    assert LINE in inside, "the legacy image should write its log file inside the container"

    proc = dockerfix("fix", "--select", "logs", "Dockerfile", cwd=ctx)
    assert proc.returncode == 0, proc.stderr
    assert ">> /var/log/app.log" not in (ctx / "Dockerfile").read_text()
    after = engine.tag("logs-after")
    engine.build(ctx, after)
    logs, inside = _logs_after(engine, after, 2.5)
    assert LINE in logs, f"the log line is not in the container output:\n{logs}"
    assert LINE not in inside


CONFIG_CASES = [
    # gunicorn --log-config logging.ini, a FileHandler -> StreamHandler on sys.stdout
    ("py-log-config", "py-log-config app loaded", "logging.ini", "class=StreamHandler"),
    # java -Dlogback.configurationFile=, a RollingFileAppender -> ConsoleAppender (Debian's logback)
    ("java-logback", "java-logback app started", "logback.xml", "ch.qos.logback.core.ConsoleAppender"),
]


@pytest.mark.parametrize(("app", "line", "config", "marker"), CONFIG_CASES, ids=[c[0] for c in CONFIG_CASES])
def test_logging_config_file_rewritten_to_the_console(engine: Engine, tmp_path: Path, app: str, line: str,
                                                      config: str, marker: str) -> None:
    """An app whose logging configuration file writes to /var/log/app/app.log: its log line is in that
    file and not in the container output before; after the side file's rewrite it is in the output."""
    ctx = tmp_path / app
    shutil.copytree(APPS / app, ctx)

    def run(tag: str) -> tuple[str, str]:
        cid = engine.start(tag)
        deadline = time.monotonic() + 30
        while True:
            logs = engine.logs(cid)
            cat = "cat /var/log/app/app.log 2>/dev/null || true"
            inside = engine.images.cmd("podman", "exec", cid, "sh", "-c", cat, timeout=60).stdout
            if line in logs + inside or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        engine.rm(cid)
        return logs, inside

    before = engine.tag("logconfig-before")
    engine.build(ctx, before)
    logs, inside = run(before)
    assert line not in logs, "the legacy image already logs to the container output: the test proves nothing"
    assert line in inside, f"the legacy image should write its log file inside the container:\n{logs}"

    proc = dockerfix("fix", "--select", "logs", "Dockerfile", cwd=ctx)
    assert proc.returncode == 0, proc.stderr
    assert marker in (ctx / config).read_text()
    after = engine.tag("logconfig-after")
    engine.build(ctx, after)
    logs, inside = run(after)
    assert line in logs, f"the log line is not in the container output:\n{logs}"
    assert line not in inside
