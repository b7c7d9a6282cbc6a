"""Fleet migration (issue 27 items 3 and 6): ``migrate --shard``, migrate reports with totals merged by
``merge-reports``, the pull-request description (``--pr-body``) and the Indexed Job example."""

from __future__ import annotations

import io
import json
import re
import shlex
from pathlib import Path

import pytest
import typer
from ruamel.yaml import YAML
from test_migrate import Fake, write_app
from typer.testing import CliRunner

from rewriter.engine.discover import discover, in_shard
from rewriter.faces.app import app as cli_app
from rewriter.faces.migrate_cli import run_migrate
from rewriter.proof import fleet

ROOT = Path(__file__).resolve().parent.parent


def _repos(root: Path, n: int) -> list[Path]:
    out = []
    for i in range(n):
        out.append(write_app(root / f"repo{i:02d}"))
    return out


def _migrate_json(paths: list[str], **kw: object) -> tuple[int, dict]:
    out, err = io.StringIO(), io.StringIO()
    code = run_migrate(paths, engine=Fake(), report_format="json", out=out, err=err, **kw)  # type: ignore[arg-type]
    return code, json.loads(out.getvalue()) if out.getvalue() else {}


def test_shards_partition_the_files_like_check_and_merge_into_one_report(tmp_path: Path) -> None:
    _repos(tmp_path, 6)
    every = {str(t.path) for t in discover([str(tmp_path)]).targets}
    reports = []
    seen: list[str] = []
    for k in (1, 2, 3):
        _code, doc = _migrate_json([str(tmp_path)], shard=f"{k}/3")
        files = [r["file"] for r in doc.get("files", [])]
        # the same partition as check --shard
        assert set(files) == {str(t.path) for t in in_shard(discover([str(tmp_path)]).targets, k, 3)}
        seen += files
        path = tmp_path / f"shard-{k}.json"
        path.write_text(json.dumps(doc))
        reports.append((str(path), doc))
    assert sorted(seen) == sorted(every)  # every file in exactly one shard
    merged = fleet.merge(reports)
    assert [r["file"] for r in merged["files"]] == sorted(every)
    t = merged["totals"]
    assert t["files"] == 6 and t["migrated"] == 6 and t["builds"] == 12
    assert t["image_bytes_before"] == 6 * 200_000_000 and t["image_bytes_after"] == 6 * 50_000_000
    # merge-reports on the command line does the same, and refuses overlapping shards
    result = CliRunner().invoke(cli_app, ["merge-reports", *(p for p, _d in reports)])
    assert result.exit_code == 0 and json.loads(result.stdout)["totals"] == t
    bad = CliRunner().invoke(cli_app, ["merge-reports", reports[0][0], reports[0][0]])
    assert bad.exit_code == 2 and "in both" in bad.output


def test_a_bad_shard_is_a_usage_error(tmp_path: Path) -> None:
    _repos(tmp_path, 1)
    out, err = io.StringIO(), io.StringIO()
    assert run_migrate([str(tmp_path)], engine=Fake(), shard="4/3", out=out, err=err) == 2
    assert "--shard 4/3" in err.getvalue()


def test_totals_group_the_statuses() -> None:
    records = [{"file": "a", "status": s, "builds": 2, "seconds": 1.5, "size_before": 10, "size_after": 5}
               for s in ("migrated", "partially migrated", "unchanged", "not verified", "unverified", "error")]
    t = fleet.totals(records)
    assert (t["migrated"], t["partly"], t["refused"], t["unverified"], t["error"]) == (1, 1, 2, 1, 1)
    assert t["builds"] == 12 and t["seconds"] == 9.0 and t["image_bytes_before"] == 60


def test_pr_body_states_evidence_sizes_flags_and_how(tmp_path: Path) -> None:
    repo = _repos(tmp_path, 1)[0]
    body_file = tmp_path / "pr.md"
    fake = Fake(run_fails_if=["USER 65532"])
    out, err = io.StringIO(), io.StringIO()
    run_migrate([str(repo)], engine=fake, report_format="json", out=out, err=err, pr_body=body_file,
                ports=[8000], path="/health")
    record = json.loads(out.getvalue())["files"][0]
    body = body_file.read_text()
    assert f"### `{record['file']}` — {record['status']}" in body
    for tid in record["kept"]:
        assert re.search(rf"\| {tid} \| kept \|", body)
    for tid in record["dropped"]:
        assert re.search(rf"\| {tid} \| dropped \| .+\|", body)
    assert "200.0 MB →" in body
    assert "**the build command changes**" in body and "--secret id=netrc" in body
    assert "Built with fake" in body and "`GET /health` on port(s) 8000" in body
    assert "FIXTURE_pw_123" not in body  # names and paths only


def test_the_indexed_job_example_parses_and_its_command_is_accepted() -> None:
    manifest = YAML(typ="safe").load((ROOT / "examples" / "k8s-indexed-job.yaml").read_text())
    spec = manifest["spec"]
    assert manifest["kind"] == "Job" and spec["completionMode"] == "Indexed"
    assert spec["completions"] == int(spec["template"]["spec"]["containers"][0]["env"][0]["value"])
    script = spec["template"]["spec"]["containers"][0]["args"][0]
    command = script.split("exec ", 1)[1]
    # the shell's expansions as the pod would make them for index 2 of 8
    command = command.replace("$((JOB_COMPLETION_INDEX + 1))", "3").replace("$SHARDS", "8")
    command = command.replace("$JOB_COMPLETION_INDEX", "2")
    argv = shlex.split(command)
    assert argv[:2] == ["dockerfix", "migrate"] and "--shard" in argv
    click_cmd = typer.main.get_command(cli_app)
    ctx = click_cmd.make_context("dockerfix", argv[1:2], resilient_parsing=True)
    sub = click_cmd.get_command(ctx, "migrate")
    assert sub is not None
    parsed = sub.make_context("migrate", argv[2:])  # raises on an unknown option or a bad value
    assert parsed.params["shard"] == "3/8" and str(parsed.params["pr_body"]) == "/reports/shard-2.md"
    with pytest.raises(Exception, match="No such option"):
        sub.make_context("migrate", [*argv[2:], "--no-such-option"])


def test_check_reports_are_not_taken_for_migrate_reports() -> None:
    assert not fleet.is_migrate_report({"version": 1, "tool": "dockerfix", "summary": {}, "files": []})
    assert fleet.is_migrate_report({"files": [], "totals": fleet.totals([])})
    assert fleet.is_migrate_report({"files": [{"file": "a/Dockerfile", "status": "migrated"}]})


def test_pr_body_names_the_packages_a_split_runtime_installs() -> None:
    from rewriter.proof.fleet import pr_body

    body = pr_body([{"file": "Dockerfile", "status": "migrated", "kept": ["multistage"], "dropped": {},
                     "runtime_packages": ["libyaml-0-2"], "size_before": 600e6, "size_after": 150e6}])
    assert re.search(r"\| runtime installs `libyaml-0-2` \| kept \| .*link", body)
