"""Reports of batch runs: the JSON report and SARIF validated against their schemas, GitHub
annotations with GitHub's escaping, the Markdown summary, and where each report goes.

The schemas live in ``tests/data/``: ``dockerfix-report.schema.json`` (ours) and
``sarif-schema-2.1.0.json`` (OASIS, see ``sarif-schema-2.1.0.README.md``).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from test_batch import FIXED, PENDING, SCRIPT_DOCKERFILE, START_SH, UNSAFE, run, write

from rewriter.faces.report import escape_data, escape_property, github_annotations, markdown_summary, merge_reports

DATA = Path(__file__).resolve().parent / "data"
CORPUS = Path(__file__).resolve().parent / "corpus"


def _schema(name: str) -> dict[str, Any]:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def validate_report(doc: object) -> None:
    jsonschema.Draft202012Validator(_schema("dockerfix-report.schema.json")).validate(doc)


def validate_sarif(doc: object) -> None:
    validator = jsonschema.Draft4Validator(_schema("sarif-schema-2.1.0.json"))
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A folder with files of every status: changed (with a side file), unchanged, suggestion only, error,
    and some corpus files run through every transform."""
    root = tmp_path / "project"
    write(root / "api" / "Dockerfile", PENDING)
    write(root / "web" / "Dockerfile", SCRIPT_DOCKERFILE)
    write(root / "web" / "start.sh", START_SH, mode=0o755)
    write(root / "clean" / "Dockerfile", FIXED)
    write(root / "manage" / "Containerfile", UNSAFE)
    write(root / "broken" / "Dockerfile", b"FROM a\n\x00\x01\n")
    (root / "corpus").mkdir()
    for i, src in enumerate(sorted(CORPUS.rglob("*.Dockerfile"))[:12]):
        shutil.copyfile(src, root / "corpus" / f"c{i:02d}.Dockerfile")
    return root


# --------------------------------------------------------------------------------------------------
# JSON


def test_json_report_matches_its_schema(project: Path) -> None:
    proc = run("check", "--format", "json", ".", cwd=project, pin=False)
    assert proc.returncode == 2, proc.stderr
    doc = json.loads(proc.stdout)
    validate_report(doc)
    by_path = {f["path"]: f for f in doc["files"]}
    assert by_path["api/Dockerfile"]["status"] == "changed"
    assert by_path["clean/Dockerfile"]["status"] in {"unchanged", "changed", "refused"}
    assert by_path["broken/Dockerfile"]["status"] == "error" and by_path["broken/Dockerfile"]["error"]
    assert by_path["web/Dockerfile"]["side_files"] == ["start.sh"]
    assert sum(doc["summary"].values()) == len(doc["files"]) == 17
    assert {"changed", "error"} <= set(doc["summary"])
    # the schema is not vacuous
    broken = json.loads(proc.stdout)
    broken["files"][0]["status"] = "done"
    with pytest.raises(jsonschema.ValidationError):
        validate_report(broken)


def test_json_report_of_one_file_keeps_its_shape(tmp_path: Path) -> None:
    write(tmp_path / "Dockerfile", UNSAFE)
    proc = run("check", "--format", "json", "Dockerfile", cwd=tmp_path)
    doc = json.loads(proc.stdout)
    validate_report(doc)
    assert doc == {
        "version": 1, "tool": "dockerfix", "summary": {"unchanged": 1},
        "files": [{
            "path": "Dockerfile", "status": "unchanged", "error": None,
            "fixes": [{"transform": "signals", "line": 2, "message": doc["files"][0]["fixes"][0]["message"],
                       "applicability": "unsafe", "rewrite": False, "applied": False}],
            "notes": doc["files"][0]["notes"], "refusals": [], "build_secrets": [], "side_files": [],
            "internal_errors": [],
        }],
    }


def test_merge_reports_validates_and_rejects_what_is_not_a_report(tmp_path: Path) -> None:
    write(tmp_path / "a.json", '{"version": 1, "tool": "dockerfix", "summary": {}, "files": []}')
    write(tmp_path / "b.json", '{"runs": []}')
    write(tmp_path / "c.json", "not json")
    ok = run("merge-reports", "a.json", cwd=tmp_path)
    assert ok.returncode == 0
    validate_report(json.loads(ok.stdout))
    for bad in ("b.json", "c.json", "missing.json"):
        proc = run("merge-reports", "a.json", bad, cwd=tmp_path)
        assert proc.returncode == 2 and proc.stdout == ""
        assert bad in proc.stderr and len(proc.stderr.splitlines()) == 1


def test_merge_reports_sorts_and_recounts() -> None:
    def rec(path: str, status: str) -> dict[str, Any]:
        return {"path": path, "status": status, "error": "x" if status == "error" else None, "fixes": [],
                "notes": [], "refusals": [], "build_secrets": [], "side_files": [], "internal_errors": []}

    a = {"version": 1, "tool": "dockerfix", "summary": {}, "files": [rec("b/Dockerfile", "changed")]}
    b = {"version": 1, "tool": "dockerfix", "summary": {}, "files": [rec("a/Dockerfile", "error"),
                                                                      rec("a.b/Dockerfile", "changed")]}
    merged = merge_reports([("a", a), ("b", b)])
    validate_report(merged)
    assert [f["path"] for f in merged["files"]] == ["a/Dockerfile", "a.b/Dockerfile", "b/Dockerfile"]
    assert merged["summary"] == {"error": 1, "changed": 2}


# --------------------------------------------------------------------------------------------------
# SARIF


def test_sarif_matches_the_schema_and_names_rules_and_locations(project: Path) -> None:
    from transforms import ids, load

    proc = run("check", "--format", "sarif", "--output", "out.sarif", ".", cwd=project, pin=False)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    doc = json.loads((project / "out.sarif").read_text())
    validate_sarif(doc)
    assert doc["version"] == "2.1.0"
    run_ = doc["runs"][0]
    rules = run_["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ids()
    for rule in rules:
        t = load(rule["id"])
        assert rule["shortDescription"]["text"] == t.description
        assert rule["help"]["text"] == t.explain.strip()
    results = run_["results"]
    assert results
    for res in results:
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"]
        loc = res["locations"][0]["physicalLocation"]
        assert not loc["artifactLocation"]["uri"].startswith(("/", "file:"))
        assert loc["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert loc["region"]["startLine"] >= 1
        assert res["level"] in {"warning", "note"}
    api = [r for r in results if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "api/Dockerfile"
           and r["ruleId"] == "signals"]
    assert api and api[0]["level"] == "warning"
    assert api[0]["locations"][0]["physicalLocation"]["region"]["startLine"] == 2
    unsafe = [r for r in results if r["ruleId"] == "signals"
              and r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "manage/Containerfile"]
    assert unsafe and unsafe[0]["properties"]["applicability"] == "unsafe"
    assert unsafe[0]["message"]["text"].startswith("unsafe: ")
    invocation = run_["invocations"][0]
    assert invocation["executionSuccessful"] is False
    errors = [n for n in invocation["toolExecutionNotifications"] if n["level"] == "error"]
    assert len(errors) == 1 and "broken/Dockerfile" in errors[0]["message"]["text"]


def test_sarif_uris_are_relative_to_the_current_folder(tmp_path: Path) -> None:
    write(tmp_path / "repo" / "my svc" / "Dockerfile", PENDING)
    proc = run("check", "--format", "sarif", "repo", cwd=tmp_path)
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    validate_sarif(doc)
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in doc["runs"][0]["results"]}
    assert uris == {"repo/my%20svc/Dockerfile"}
    assert doc["runs"][0]["invocations"][0]["executionSuccessful"] is True


# --------------------------------------------------------------------------------------------------
# GitHub annotations


def test_github_escaping_follows_the_toolkit() -> None:
    assert escape_data("50% done\r\nnext: a,b") == "50%25 done%0D%0Anext: a,b"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


def test_github_annotations(tmp_path: Path) -> None:
    write(tmp_path / "a,b:c" / "Dockerfile", PENDING)
    write(tmp_path / "unsafe" / "Dockerfile", UNSAFE)
    write(tmp_path / "bad" / "Dockerfile", b"hello world\n")
    proc = run("check", "--format", "github", ".", cwd=tmp_path)
    assert proc.returncode == 2
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("::warning file=a%2Cb%3Ac/Dockerfile,line=2,title=dockerfix/signals::")
    assert lines[1].startswith("::error file=bad/Dockerfile,title=dockerfix::not a valid Dockerfile")
    unsafe = [ln for ln in lines if "file=unsafe/Dockerfile" in ln]
    assert unsafe[0].startswith("::warning file=unsafe/Dockerfile,line=2,title=dockerfix/signals::unsafe: ")
    assert all(ln.startswith(("::warning ", "::error ", "::notice ")) for ln in lines)
    assert all("\r" not in ln for ln in lines)


def test_github_notes_are_notices_and_messages_are_escaped() -> None:
    rec = {"path": "x/Dockerfile", "status": "refused", "error": None,
           "fixes": [{"transform": "signals", "line": 0, "message": "m", "applicability": "suggestion",
                      "applied": False}],
           "notes": [{"transform": "signals", "line": 3, "message": "use tini\nor --init (100%)"}],
           "refusals": [{"transform": "nonroot", "line": 1, "message": "r"}],
           "build_secrets": [], "side_files": [], "internal_errors": []}
    assert github_annotations([rec]).splitlines() == [
        "::notice file=x/Dockerfile,title=dockerfix/signals::suggestion: m",
        "::warning file=x/Dockerfile,line=1,title=dockerfix/nonroot::refused: r",
        "::notice file=x/Dockerfile,line=3,title=dockerfix/signals::use tini%0Aor --init (100%25)",
    ]


# --------------------------------------------------------------------------------------------------
# summary and where reports go


def test_summary_table(tmp_path: Path) -> None:
    from transforms import ids

    for i in range(3):
        write(tmp_path / f"s{i}" / "Dockerfile", PENDING)
    write(tmp_path / "clean" / "Dockerfile", FIXED)
    write(tmp_path / "bad" / "Dockerfile", b"hello world\n")
    proc = run("check", "--summary", "--quiet", ".", cwd=tmp_path)
    assert proc.returncode == 2
    lines = proc.stdout.splitlines()
    assert lines[0] == ("**dockerfix check**: 5 file(s): 3 would be rewritten, 1 unchanged, 0 refused, 1 error(s)")
    assert lines[2] == "| Transform | Files to rewrite | Files refused | Errors |"
    rows = {ln.split("|")[1].strip(): [c.strip() for c in ln.split("|")[2:5]] for ln in lines[4:]}
    assert list(rows) == [f"`{t}`" for t in ids()] + ["**all files**"]
    assert rows["`signals`"] == ["3", "0", "0"]
    assert rows["**all files**"] == ["3", "0", "1"]


def test_summary_goes_to_stderr_for_diff_and_needs_output_beside_a_machine_report(tmp_path: Path) -> None:
    write(tmp_path / "Dockerfile", PENDING)
    diff = run("diff", "--summary", ".", cwd=tmp_path)
    assert diff.stdout.startswith("--- a/Dockerfile")
    assert "| `signals` | 1 | 0 | 0 |" in diff.stderr
    clash = run("check", "--summary", "--format", "json", ".", cwd=tmp_path)
    assert clash.returncode == 2 and clash.stdout == "" and "--output" in clash.stderr
    both = run("check", "--summary", "--format", "sarif", "--output", "r.sarif", ".", cwd=tmp_path)
    assert both.returncode == 1
    assert both.stdout.startswith("**dockerfix check**")
    validate_sarif(json.loads((tmp_path / "r.sarif").read_text()))


def test_markdown_summary_counts_discarded_fixes_per_transform() -> None:
    rec = {"path": "Dockerfile", "status": "unchanged", "error": None, "fixes": [], "notes": [], "refusals": [],
           "build_secrets": [], "side_files": [],
           "internal_errors": ["internal error: signals fix at line 2 discarded: the result does not parse (x)"]}
    table = markdown_summary([rec], "fix")
    assert "| Transform | Files rewritten | Files refused | Errors |" in table
    assert "| `signals` | 0 | 0 | 1 |" in table


def test_reports_beside_a_patch_go_to_stderr(tmp_path: Path) -> None:
    write(tmp_path / "Dockerfile", PENDING)
    proc = run("diff", "--format", "github", ".", cwd=tmp_path)
    assert proc.stdout.startswith("--- a/Dockerfile")
    assert "::warning file=Dockerfile,line=2,title=dockerfix/signals::" in proc.stderr


def test_unknown_format_is_a_usage_error(tmp_path: Path) -> None:
    proc = run("check", "--format", "xml", ".", cwd=tmp_path)
    assert proc.returncode == 2 and "text, json, sarif, github" in proc.stderr


def test_lines_are_counted_in_the_file_as_the_user_has_it() -> None:
    """A line inserted by an applied fix (ENV PYTHONUNBUFFERED after FROM) must not shift the line
    reported for fixes and notes on later instructions: the RUN on line 2 is reported at line 2."""
    from rewriter.engine.pipeline import process_text

    text = ('FROM python:3.13\nRUN apt-get update && apt-get install -y curl\nCOPY . /app\nWORKDIR /app\n'
            'CMD ["python", "app.py"]\n')
    result = process_text(text)
    assert result.new_text.splitlines()[1].startswith("ENV PYTHONUNBUFFERED")  # a line was inserted
    by_transform = {(f.transform, f.line) for f in result.fixes + result.suggestions}
    assert ("minimal", 2) in by_transform  # the apt RUN, as it stands in the user's file
    assert all(f.line != 3 for f in result.fixes + result.suggestions if f.transform == "minimal")
    assert all(1 <= n.line <= 5 for n in result.notes)
