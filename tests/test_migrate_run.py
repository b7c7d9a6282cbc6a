"""``migrate`` as a long batch (issue 27 item 5): SIGTERM ends it like Ctrl-C (builds cleaned up, the
partial report written, files not done left untouched); a live progress line on a terminal only."""

from __future__ import annotations

import io
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from test_migrate import APP, Fake, write_app

from rewriter.faces.migrate_cli import run_migrate

TESTS = Path(__file__).resolve().parent


def _repo(root: Path) -> Path:
    return write_app(root)


def test_sigterm_cleans_up_and_writes_the_partial_report(tmp_path: Path) -> None:
    first, second = _repo(tmp_path / "a"), _repo(tmp_path / "b")
    marker, report = tmp_path / "cleaned.json", tmp_path / "report.json"
    script = f"""
import json, sys
sys.path.insert(0, {str(TESTS)!r})
from test_migrate import Fake
from rewriter.faces.migrate_cli import run_migrate
class Slow(Fake):
    def build(self, **kw):
        if len(self.built) >= 2:  # the first file's two builds are quick, then the second file's hangs
            import time
            time.sleep(60)
        return super().build(**kw)
    def cleanup(self, **kw):
        prior = json.loads(open({str(marker)!r}).read()) if __import__("os").path.exists({str(marker)!r}) else []
        open({str(marker)!r}, "w").write(json.dumps(prior + kw["tags"]))
sys.exit(run_migrate([{str(first)!r}, {str(second)!r}], engine=Slow(), report_format="json",
                     output=__import__("pathlib").Path({str(report)!r}), no_cache=True))
"""
    before = (second / "Dockerfile").read_bytes()
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while (first / "Dockerfile").read_bytes() == APP.encode() and time.monotonic() < deadline:
        time.sleep(0.2)  # until the first file is migrated and written
    time.sleep(1.5)
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err.decode()
    doc = json.loads(report.read_text())
    assert doc["interrupted"] is True and [r["file"] for r in doc["files"]] == [str(first / "Dockerfile")]
    assert doc["totals"]["files"] == 1
    assert json.loads(marker.read_text()), "the images were not cleaned up"
    assert (second / "Dockerfile").read_bytes() == before  # the file in flight is untouched
    assert b"FIXTURE_pw_123" not in err


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_line_on_a_terminal_only(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("TERM", "xterm")
    repos = [str(_repo(tmp_path / n)) for n in ("a", "b")]
    err = Tty()
    run_migrate(repos, engine=Fake(), out=io.StringIO(), err=err, no_cache=True)
    text = err.getvalue()
    assert "\r\x1b[K[0/2]" in text and "[1/2]" in text and " builds · " in text and "left" in text
    plain = io.StringIO()
    run_migrate([str(_repo(tmp_path / "c"))], engine=Fake(), out=io.StringIO(), err=plain, no_cache=True)
    assert "\r" not in plain.getvalue() and "\x1b[" not in plain.getvalue()


def test_max_seconds_per_file_stops_new_candidates_and_says_so(tmp_path: Path) -> None:
    """Each build takes 0.6 s; after the original and the full candidate (which fails) the file's 1 s
    is spent: nothing more is built, and what was not tried says why."""
    repo = write_app(tmp_path / "a")
    fake = Fake(slow=0.6, run_fails_if=["USER 10001", "USER 65532"])
    out, err = io.StringIO(), io.StringIO()
    run_migrate([str(repo)], engine=fake, report_format="json", out=out, err=err, no_cache=True, max_seconds=1)
    record = json.loads(out.getvalue())["files"][0]
    assert len(fake.built) == 2, fake.built
    assert record["dropped"] and all("--max-seconds-per-file 1" in why for why in record["dropped"].values())
