"""Machine-readable reports of a run (JSON). Messages name files and variables, never values."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from rewriter.edits import Fix, Note
from rewriter.pipeline import FileResult

SCHEMA_VERSION = 1


def _fix(fix: Fix, applied: bool) -> dict[str, Any]:
    return {
        "transform": fix.transform,
        "line": fix.line,
        "message": fix.message,
        "applicability": fix.applicability.label,
        "applied": applied,
    }


def _note(note: Note) -> dict[str, Any]:
    return {"transform": note.transform, "line": note.line, "message": note.message}


def file_record(result: FileResult) -> dict[str, Any]:
    """One file's entry: status, fixes (applied and not), notes, refusals, build secrets."""
    return {
        "path": result.path,
        "status": str(result.status),
        "error": result.error,
        "fixes": [_fix(f, True) for f in result.fixes] + [_fix(f, False) for f in result.suggestions],
        "notes": [_note(n) for n in result.notes if not n.refusal],
        "refusals": [_note(n) for n in result.notes if n.refusal],
        "build_secrets": result.build_secrets,
        "side_files": sorted(result.side_files),
        "internal_errors": list(result.internal_errors),
    }


def to_json(results: Sequence[FileResult]) -> str:
    """The JSON report of a run, files in the order given."""
    counts: dict[str, int] = {}
    for r in results:
        counts[str(r.status)] = counts.get(str(r.status), 0) + 1
    doc = {"version": SCHEMA_VERSION, "tool": "dockerfix", "summary": counts,
           "files": [file_record(r) for r in results]}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
