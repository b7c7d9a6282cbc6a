"""SARIF 2.1.0 reports, for GitHub code scanning and other SARIF readers.

One run, tool ``dockerfix``; one rule per transform (short description = its one-line
description, help = its ``explain`` text); one result per fix, refusal and note, located by a
URI relative to the current folder (``uriBaseId`` ``%SRCROOT%``) and a start line. Levels:
``warning`` for safe and unsafe fixes and for refusals, ``note`` for suggestions and notes.
Files that could not be processed are tool execution notifications (level ``error``), and make
``executionSuccessful`` false.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from rewriter.faces.report import finding_message, findings, repo_path

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SRCROOT = "%SRCROOT%"


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("dockerfix")
    except PackageNotFoundError:
        return "0.0.0"


def _rule(tid: str) -> dict[str, Any]:
    from transforms import UnknownTransform, load

    try:
        t = load(tid)
    except UnknownTransform:  # a merged report from another version can name a transform we lack
        return {"id": tid, "shortDescription": {"text": tid}}
    explain = t.explain.strip()
    return {
        "id": t.id,
        "name": t.id,
        "shortDescription": {"text": t.description},
        "fullDescription": {"text": explain.split("\n\n")[0] if explain else t.description},
        "help": {"text": explain or t.description, "markdown": explain or t.description},
        "defaultConfiguration": {"level": "warning"},
        "properties": {"tags": ["dockerfile", "maintainability"]},
    }


def _uri(path: str) -> dict[str, str]:
    p = repo_path(path)
    if p.startswith("/"):
        return {"uri": "file://" + quote(p)}
    return {"uri": quote(p), "uriBaseId": SRCROOT}


def _location(path: str, line: int) -> dict[str, Any]:
    return {"physicalLocation": {"artifactLocation": _uri(path), "region": {"startLine": max(1, line)}}}


def to_sarif(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The SARIF log for file records (see :func:`rewriter.faces.report.file_record`)."""
    from transforms import ids

    rule_ids = list(ids())
    extra = sorted({item["transform"] for rec in records for _l, item, _k in findings(rec)} - set(rule_ids))
    rule_ids += extra
    index = {tid: i for i, tid in enumerate(rule_ids)}
    results: list[dict[str, Any]] = []
    notifications: list[dict[str, Any]] = []
    for rec in records:
        if rec["status"] == "error":
            notifications.append({"level": "error", "message": {"text": f"{rec['path']}: {rec.get('error')}"},
                                  "locations": [_location(rec["path"], 1)]})
            continue
        for ie in rec.get("internal_errors", []):
            notifications.append({"level": "warning", "message": {"text": f"{rec['path']}: {ie}"},
                                  "locations": [_location(rec["path"], 1)]})
        for level, item, kind in findings(rec):
            props: dict[str, Any] = {"kind": kind}
            if kind == "fix":
                props.update(applicability=item["applicability"], rewrite=item.get("rewrite", item["applied"]),
                             applied=item["applied"])
            results.append({
                "ruleId": item["transform"],
                "ruleIndex": index[item["transform"]],
                "level": level,
                "message": {"text": finding_message(item, kind)},
                "locations": [_location(rec["path"], item["line"])],
                "properties": props,
            })
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [{
            "tool": {"driver": {
                "name": "dockerfix",
                "version": _version(),
                "semanticVersion": _version(),
                "rules": [_rule(tid) for tid in rule_ids],
            }},
            "invocations": [{
                "executionSuccessful": not any(n["level"] == "error" for n in notifications),
                "toolExecutionNotifications": notifications,
            }],
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }


def dumps(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
