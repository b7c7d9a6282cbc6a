"""Reports of a run: JSON, GitHub workflow commands, a Markdown summary; merging JSON reports.

Every report is made from per-file records (:func:`file_record`), so the parent process of a
batch run keeps one small dict per file and reports of shards can be merged. Messages name files
and variables, never values. SARIF lives in :mod:`rewriter.faces.sarif`.

JSON (``version`` 1)::

    {"version": 1, "tool": "dockerfix", "summary": {"changed": 2, "unchanged": 1},
     "files": [{"path", "status": "changed|unchanged|refused|error", "error",
                "fixes": [{"transform", "line", "message", "applicability", "rewrite", "applied"}],
                "notes": [{"transform", "line", "message"}], "refusals": [...],
                "build_secrets": [{"type", "id", "src"|"env"}], "side_files", "internal_errors"}]}
"""

from __future__ import annotations

import json
import os
import posixpath
from collections.abc import Iterable, Sequence
from typing import Any

from rewriter.core.edits import Fix, Note
from rewriter.engine.pipeline import FileResult

SCHEMA_VERSION = 1
STATUSES = ("changed", "unchanged", "refused", "error")


class ReportError(ValueError):
    """A file given to ``merge-reports`` is not a dockerfix JSON report, or reports overlap."""


def _fix(fix: Fix, rewrite: bool, written: bool) -> dict[str, Any]:
    return {
        "transform": fix.transform,
        "line": fix.line,
        "message": fix.message,
        "applicability": fix.applicability.label,
        "rewrite": rewrite,
        "applied": rewrite and written,
    }


def _note(note: Note) -> dict[str, Any]:
    return {"transform": note.transform, "line": note.line, "message": note.message}


def file_record(result: FileResult, *, written: bool = False) -> dict[str, Any]:
    """One file's entry: status, fixes, notes, refusals, build secrets. ``rewrite``: the fix is part of
    the rewrite (written by ``fix``, shown by ``diff``/``check``); ``applied``: the run wrote it.

    A build secret's ``call_sites`` lists the places that build the file (CI workflows, scripts,
    Makefiles, bake, skaffold), changed or left alone; those left alone are notes too (so SARIF and
    GitHub annotations show them)."""
    secrets, left = _call_sites(result)
    return {
        "path": result.path,
        "status": str(result.status),
        "error": result.error,
        "fixes": [_fix(f, True, written) for f in result.fixes] + [_fix(f, False, False) for f in result.suggestions],
        "notes": [_note(n) for n in result.notes if not n.refusal] + left,
        "refusals": [_note(n) for n in result.notes if n.refusal],
        "build_secrets": secrets,
        "side_files": sorted(result.side_files),
        "internal_errors": list(result.internal_errors),
    }


def _call_sites(result: FileResult) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The build secret records with their call sites, and a note for each call site left alone."""
    records = [s.record() for s in result.build_secrets]
    if not records or result.context_dir is None:
        return records, []
    from pathlib import Path

    from rewriter.sidefiles.callsites import plan

    ctx = Path(result.context_dir)
    dockerfile = Path(result.path) if Path(result.path).is_file() else ctx / Path(result.path).name

    def read(rel: str) -> str | None:
        if rel in result.side_files:
            return result.side_files[rel][0]
        try:
            return (ctx / rel).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    left: dict[str, dict[str, Any]] = {}
    line = next((f.line for f in result.fixes if f.build_secrets), 0)
    for secret, record in zip(result.build_secrets, records, strict=True):
        try:
            _texts, sites = plan(ctx, dockerfile, [secret], read)
        except Exception:  # a report never fails on a call site it cannot read
            continue
        if sites:
            record["call_sites"] = "; ".join(
                f"{s.path}:{s.line} {s.status}" + (f" ({s.reason})" if s.reason else "") for s in sites)
        for s in sites:
            if s.status == "left":
                left.setdefault(s.describe(), {"transform": "secrets", "line": line, "message": s.describe()})
    return records, list(left.values())


def _rewrite(fix: dict[str, Any]) -> bool:
    """Is a reported fix part of the rewrite? (reports before ``rewrite`` existed: ``applied``)"""
    return bool(fix.get("rewrite", fix.get("applied")))


def summary_counts(records: Iterable[dict[str, Any]]) -> dict[str, int]:
    """Files per status, keys in the order the statuses first occur."""
    counts: dict[str, int] = {}
    for r in records:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    return counts


def document(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The JSON report document for file records, in the order given."""
    return {"version": SCHEMA_VERSION, "tool": "dockerfix", "summary": summary_counts(records),
            "files": list(records)}


def dumps(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------------------------------
# merging the reports of shards


def load_report(text: str, name: str) -> dict[str, Any]:
    """Parse and check one JSON report; :class:`ReportError` names ``name`` when it is not one."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReportError(f"{name}: not JSON ({exc})") from None
    if not isinstance(doc, dict) or doc.get("tool") != "dockerfix" or not isinstance(doc.get("files"), list):
        raise ReportError(f"{name}: not a dockerfix JSON report")
    if doc.get("version") != SCHEMA_VERSION:
        raise ReportError(f"{name}: report version {doc.get('version')!r}, expected {SCHEMA_VERSION}")
    for rec in doc["files"]:
        if not isinstance(rec, dict) or not isinstance(rec.get("path"), str) or rec.get("status") not in STATUSES:
            raise ReportError(f"{name}: a file entry lacks a path or a valid status")
    return doc


def merge_reports(docs: Sequence[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """One report from several (name, document) pairs: files sorted by path, summary recomputed.

    The same path in two reports is a :class:`ReportError` (shards never overlap).
    """
    from rewriter.engine.discover import sort_key

    owner: dict[str, str] = {}
    records: list[dict[str, Any]] = []
    for name, doc in docs:
        for rec in doc["files"]:
            if rec["path"] in owner:
                raise ReportError(f"{rec['path']}: in both {owner[rec['path']]} and {name}")
            owner[rec["path"]] = name
            records.append(rec)
    records.sort(key=lambda r: sort_key(r["path"]))
    return document(records)


# --------------------------------------------------------------------------------------------------
# levels shared by SARIF and GitHub annotations


def fix_level(fix: dict[str, Any]) -> str:
    """SARIF level of a fix: ``warning`` for safe and unsafe fixes, ``note`` for suggestions."""
    return "note" if fix["applicability"] == "suggestion" else "warning"


def findings(record: dict[str, Any]) -> list[tuple[str, dict[str, Any], str]]:
    """(level, item, kind) for each fix, refusal and note of a file, in that order.

    Refusals are warnings (the file still needs a person), notes are notes.
    """
    out = [(fix_level(f), f, "fix") for f in record["fixes"]]
    out += [("warning", n, "refusal") for n in record["refusals"]]
    out += [("note", n, "note") for n in record["notes"]]
    return out


def finding_message(item: dict[str, Any], kind: str) -> str:
    """The text of a finding: fixes not applied say why (``unsafe: ``, ``suggestion: ``)."""
    if kind == "fix":
        return item["message"] if _rewrite(item) else f"{item['applicability']}: {item['message']}"
    if kind == "refusal":
        return f"refused: {item['message']}"
    return item["message"]


def repo_path(path: str) -> str:
    """A report path relative to the current folder, ``/``-separated (absolute if outside it)."""
    if os.path.isabs(path):
        rel = os.path.relpath(path)
        if not rel.startswith(".."):
            path = rel
    return posixpath.normpath(path.replace("\\", "/"))


# --------------------------------------------------------------------------------------------------
# GitHub workflow commands


def escape_data(value: str) -> str:
    """Escape a workflow command's message (``%``, CR, LF), as GitHub's toolkit does."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    """Escape a workflow command property value: as :func:`escape_data` plus ``:`` and ``,``."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


_COMMAND = {"error": "error", "warning": "warning", "note": "notice"}


def _command(level: str, file: str, line: int, title: str, message: str) -> str:
    props = [f"file={escape_property(file)}"]
    if line > 0:
        props.append(f"line={line}")
    props.append(f"title={escape_property(title)}")
    return f"::{_COMMAND[level]} {','.join(props)}::{escape_data(message)}\n"


def github_annotations(records: Iterable[dict[str, Any]]) -> str:
    """GitHub Actions workflow commands: ``::warning`` for fixes and refusals, ``::notice`` for
    suggestions and notes, ``::error`` for files that could not be processed."""
    out: list[str] = []
    for rec in records:
        file = repo_path(rec["path"])
        if rec["status"] == "error":
            out.append(_command("error", file, 0, "dockerfix", rec.get("error") or "error"))
            continue
        for level, item, kind in findings(rec):
            title = f"dockerfix/{item['transform']}"
            out.append(_command(level, file, item["line"], title, finding_message(item, kind)))
        for ie in rec.get("internal_errors", []):
            out.append(_command("warning", file, 0, "dockerfix", ie))
    return "".join(out)


# --------------------------------------------------------------------------------------------------
# Markdown summary for a pull request


def _transform_of_internal_error(message: str) -> str | None:
    # "internal error: <id> fix at line N discarded: ..." (rewriter.core.edits.apply_fixes)
    words = message.split()
    if len(words) > 3 and words[0] == "internal" and words[1] == "error:" and words[3] == "fix":
        return words[2]
    return None


class SummaryCounter:
    """Counts for :func:`markdown_summary`, fed one record at a time (no record is kept)."""

    def __init__(self) -> None:
        self.files = 0
        self.status: dict[str, int] = {}
        self.changed: dict[str, int] = {}
        self.refused: dict[str, int] = {}
        self.errors: dict[str, int] = {}

    def add(self, rec: dict[str, Any]) -> None:
        self.files += 1
        self.status[rec["status"]] = self.status.get(rec["status"], 0) + 1
        if rec["status"] == "changed":
            for tid in {f["transform"] for f in rec["fixes"] if _rewrite(f)}:
                self.changed[tid] = self.changed.get(tid, 0) + 1
        for tid in {n["transform"] for n in rec["refusals"]}:
            self.refused[tid] = self.refused.get(tid, 0) + 1
        for tid in {_transform_of_internal_error(m) for m in rec.get("internal_errors", [])} - {None}:
            self.errors[str(tid)] = self.errors.get(str(tid), 0) + 1

    def markdown(self, mode: str) -> str:
        from transforms import ids

        order = list(ids())
        order += sorted((set(self.changed) | set(self.refused) | set(self.errors)) - set(order))
        counts = self.status
        verb = {"fix": "rewritten", "diff": "would be rewritten", "check": "would be rewritten"}.get(mode, "changed")
        head = "Files rewritten" if mode == "fix" else "Files to rewrite"
        lines = [
            f"**dockerfix {mode}**: {self.files} file(s): {counts.get('changed', 0)} {verb}, "
            f"{counts.get('unchanged', 0)} unchanged, {counts.get('refused', 0)} refused, "
            f"{counts.get('error', 0)} error(s)",
            "",
            f"| Transform | {head} | Files refused | Errors |",
            "|---|---:|---:|---:|",
        ]
        for tid in order:
            lines.append(f"| `{tid}` | {self.changed.get(tid, 0)} | {self.refused.get(tid, 0)} |"
                         f" {self.errors.get(tid, 0)} |")
        lines.append(
            f"| **all files** | {counts.get('changed', 0)} | {counts.get('refused', 0)} | {counts.get('error', 0)} |"
        )
        return "\n".join(lines) + "\n"


def markdown_summary(records: Iterable[dict[str, Any]], mode: str) -> str:
    """A Markdown table, per transform: files changed, files refused, errors; then all files.

    Per transform, *changed* counts files it changed (applied fixes in a changed file), *refused*
    files where it refused something, *errors* files where one of its fixes was discarded (its
    result did not parse). The last row counts files by status: changed, refused (nothing
    changed, something refused) and errors (files that could not be processed at all).
    """
    counter = SummaryCounter()
    for rec in records:
        counter.add(rec)
    return counter.markdown(mode)
