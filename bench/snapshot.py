"""Snapshot of dockerfix's outputs, to show a refactor changes nothing (or exactly what it meant to).

``python bench/snapshot.py OUT.json`` runs every transform, safe and with ``--unsafe-fixes``, over
the shared corpus (``../shared/corpus``, when present), ``tests/corpus``, every golden case and every
real-world e2e case (with its build context), and writes each result: the new Dockerfile, side
files, notes, and the fixes applied and left. ``python bench/snapshot.py --compare A.json B.json``
lists the cases whose results differ.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _cases() -> list[tuple[str, Path, Path]]:
    out: list[tuple[str, Path, Path]] = []
    shared = ROOT.parent / "shared" / "corpus"
    for base in (shared, ROOT / "tests" / "corpus"):
        if base.is_dir():
            for p in sorted(base.rglob("*")):
                if p.is_file() and p.suffix not in {".tsv", ".md"}:
                    out.append((f"corpus:{p.relative_to(base.parent)}", p, p.parent))
    for p in sorted((ROOT / "golden").glob("*/*/Dockerfile")):
        out.append((f"golden:{p.parent.relative_to(ROOT / 'golden')}", p, p.parent))
    for p in sorted((ROOT / "tests" / "e2e" / "realworld").glob("*/Dockerfile")):
        out.append((f"realworld:{p.parent.name}", p, p.parent))
    return out


def snapshot() -> dict[str, object]:
    from rewriter.core.source import SourceError, read_text
    from rewriter.engine.pipeline import process_text

    results: dict[str, object] = {}
    for name, path, ctx in _cases():
        try:
            text = read_text(path)
        except SourceError:
            continue
        for unsafe in (False, True):
            r = process_text(text, path="Dockerfile", context_dir=ctx, unsafe_fixes=unsafe, dockerfile_path=path)
            results[f"{name}|{'unsafe' if unsafe else 'safe'}"] = {
                "status": str(r.status),
                "error": r.error,
                "text": r.new_text,
                "side": {k: v[1] for k, v in sorted(r.side_files.items())},
                "notes": [n.message for n in r.notes],
                "applied": [f"{f.transform}:{f.applicability}:{f.message}" for f in r.fixes],
                "left": [f"{f.transform}:{f.applicability}:{f.message}" for f in r.suggestions],
                "internal": r.internal_errors,
            }
    return results


def main(argv: list[str]) -> int:
    if argv[:1] == ["--compare"]:
        a, b = (json.loads(Path(p).read_text()) for p in argv[1:3])
        differ = 0
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                differ += 1
                fields = [f for f in ("status", "text", "side", "notes", "applied", "left", "internal", "error")
                          if (a.get(key) or {}).get(f) != (b.get(key) or {}).get(f)]
                print(f"{key}: {', '.join(fields)}")
        print(f"{differ} of {len(set(a) | set(b))} results differ")
        return 1 if differ else 0
    Path(argv[0]).write_text(json.dumps(snapshot(), indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
