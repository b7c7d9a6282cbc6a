"""Migration across many repositories: the report of a ``migrate`` run with totals, shards' reports
merged into one, and the pull-request description of one repository's migration.

``dockerfix migrate --format json`` writes ``{"files": [record, ...], "totals": {...}}`` (a record per
Dockerfile, see :meth:`rewriter.proof.migrate.Outcome.record`). The totals count files by outcome —
``migrated``, ``partly`` (some codemods dropped), ``refused`` (nothing kept: unchanged or not verified),
``unverified`` and ``error`` — and add up builds, seconds and image bytes before and after (over the
files where both are known). ``dockerfix merge-reports`` joins the reports of ``migrate --shard K/N``
runs; the same file in two of them is an error, as for ``check`` reports.

:func:`pr_body` renders the Markdown a batch-change tool (multi-gitter, a platform's batch changes)
opens the pull request with: per Dockerfile, what was kept and dropped with the evidence, image size
and user before and after, the build flags the change needs, and how it was verified.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

#: record status → the group the totals count it in
GROUPS = {
    "migrated": "migrated",
    "partially migrated": "partly",
    "unchanged": "refused",
    "not verified": "refused",
    "unverified": "unverified",
    "error": "error",
}


class FleetReportError(ValueError):
    """A report that is not a migrate report, or shards that overlap."""


def is_migrate_report(doc: Any) -> bool:
    """Whether ``doc`` (parsed JSON) is a ``migrate`` report (records name a ``file`` and a ``status``)."""
    return (isinstance(doc, dict) and isinstance(doc.get("files"), list) and "tool" not in doc
            and (bool(doc["files"]) or "totals" in doc)
            and all(isinstance(r, dict) and "file" in r and "status" in r for r in doc["files"]))


def totals(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The counts and sums of a run (see the module's docstring)."""
    out: dict[str, Any] = {"files": len(records), **{g: 0 for g in dict.fromkeys(GROUPS.values())}}
    out.update(builds=0, seconds=0.0, image_bytes_before=0, image_bytes_after=0)
    for r in records:
        group = GROUPS.get(str(r.get("status")), "error")
        out[group] += 1
        out["builds"] += int(r.get("builds") or 0)
        out["seconds"] += float(r.get("seconds") or 0)
        before, after = r.get("size_before"), r.get("size_after")
        if isinstance(before, int) and isinstance(after, int):
            out["image_bytes_before"] += before
            out["image_bytes_after"] += after
    out["seconds"] = round(out["seconds"], 1)
    return out


def report(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {"files": list(records), "totals": totals(records)}


def dumps(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2) + "\n"


def merge(docs: Sequence[tuple[str, Any]]) -> dict[str, Any]:
    """One migrate report from several (name, document) pairs: files sorted by path, totals recomputed."""
    from rewriter.engine.discover import sort_key

    owner: dict[str, str] = {}
    records: list[dict[str, Any]] = []
    for name, doc in docs:
        if not is_migrate_report(doc):
            raise FleetReportError(f"{name}: not a dockerfix migrate JSON report")
        for rec in doc["files"]:
            path = str(rec["file"])
            if path in owner:
                raise FleetReportError(f"{path}: in both {owner[path]} and {name}")
            owner[path] = name
            records.append(rec)
    records.sort(key=lambda r: sort_key(str(r["file"])))
    return report(records)


@dataclass
class Verification:
    """How the run verified its rewrites, for the description."""

    builder: str = ""
    ports: list[int] = field(default_factory=list)
    path: str = "/"
    smoke_cmd: list[str] | None = None
    run_args: list[str] = field(default_factory=list)


def _mb(n: Any) -> str:
    return f"{n / 1e6:.1f} MB" if isinstance(n, int) else "?"


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def pr_body(records: Sequence[dict[str, Any]], how: Verification | None = None) -> str:
    """The Markdown description of one repository's migration (its migrate report's records)."""
    how = how or Verification()
    t = totals(records)
    changed = [r for r in records if r.get("status") in {"migrated", "partially migrated"}]
    lines = ["## Dockerfiles migrated by dockerfix", ""]
    if not changed:
        lines += ["Nothing here could be migrated with evidence that it still works; no Dockerfile is changed.", ""]
    else:
        lines += [f"{len(changed)} of {len(records)} Dockerfile(s) changed. Each rewrite below was built and run "
                  "next to the original and kept only where it behaved the same.", ""]
    for r in records:
        lines += [f"### `{r['file']}` — {r['status']}", ""]
        if r.get("reason"):
            lines += [f"{r['reason']}", ""]
        lines += ["| codemod | kept? | evidence |", "|---|---|---|"]
        for tid in r.get("kept") or []:
            lines.append(f"| {tid} | kept | builds, runs and answers like the original |")
        for tid, why in (r.get("dropped") or {}).items():
            lines.append(f"| {tid} | dropped | {_cell(why)} |")
        for up in r.get("upgrades") or []:
            state = "kept" if up.get("kept") else "dropped"
            lines.append(f"| upgrade {_cell(up.get('from', '?'))} → {_cell(up.get('to', '?'))} | {state} |"
                         f" {_cell(up.get('evidence', ''))} |")
        if r.get("runtime_packages"):
            pkgs = ", ".join(f"`{p}`" for p in r["runtime_packages"])
            lines.append(f"| runtime installs {pkgs} | kept | the split's runtime lacked libraries the app's files "
                         "link (read from both built images); with these packages it answers like the original |")
        if not (r.get("kept") or r.get("dropped") or r.get("upgrades")):
            lines.append("| - | - | nothing to change |")
        lines += ["", f"- image size: {_mb(r.get('size_before'))} → {_mb(r.get('size_after'))}"]
        user_before = r.get("user_before")
        lines.append(f"- user: {user_before or 'root'} → {r.get('user') or 'root'}" if user_before is not None
                     else f"- user of the migrated image: {r.get('user') or 'root (none set)'}")
        flags = r.get("build_flags") or []
        if flags:
            lines.append("- **the build command changes**: it needs " + ", ".join(f"`{f}`" for f in flags)
                         + " (the scripts, CI workflows, Makefiles, bake, skaffold and compose files found building"
                         " it are changed with it; those it could not change are named in the report)")
        else:
            lines.append("- the build command does not change")
        lines += [f"- {r.get('builds', 0)} build(s), {float(r.get('seconds') or 0):.0f} s", ""]
    probes = [f"`GET {how.path}` on port(s) {', '.join(map(str, how.ports))}" if how.ports
              else f"`GET {how.path}` on the ports the original image exposes"]
    if how.smoke_cmd:
        probes.append("the command `" + " ".join(how.smoke_cmd) + "`")
    lines += ["### How this was verified", "",
              f"Built with {how.builder or 'the local builder'}; original and rewrite were each run"
              + (f" with `{' '.join(how.run_args)}`" if how.run_args else "")
              + ", their state after the settle time compared (running, or exit code), "
              + " and ".join(probes) + " compared by status class, and new error lines in their output looked for.",
              "", f"Totals: {t['migrated']} migrated, {t['partly']} partly, {t['refused']} refused, "
              f"{t['unverified']} unverified, {t['error']} error(s); {t['builds']} builds in {t['seconds']:.0f} s.",
              ""]
    return "\n".join(lines)
