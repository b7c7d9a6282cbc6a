"""Benchmarks (not tests): parse + print of the corpus in-process, `dockerfix check` wall time.

Targets from the foundation issue: the whole corpus parsed and printed in under 100 ms in-process;
`dockerfix check` on one file under 300 ms wall including interpreter start.

    python bench/bench.py [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from corpus_files import corpus_files, read_text  # noqa: E402

from rewriter import parse  # noqa: E402


def bench_parse(rounds: int = 20) -> dict[str, float]:
    texts = [read_text(cf.path) for cf in corpus_files() if cf.path is not None]
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for t in texts:
            if parse.__wrapped__(t).code != t:  # uncached: the cache would measure a dict lookup
                raise SystemExit("round trip failed")
        times.append(time.perf_counter() - t0)
    return {"files": len(texts), "median_ms": statistics.median(times) * 1000, "min_ms": min(times) * 1000}


def bench_check(rounds: int = 10) -> dict[str, float]:
    exe = shutil.which("dockerfix") or str(Path(sys.executable).parent / "dockerfix")
    sample = next(cf.path for cf in corpus_files() if cf.path is not None)
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        subprocess.run([exe, "check", "--quiet", str(sample)], capture_output=True, check=False)
        times.append(time.perf_counter() - t0)
    return {"file": str(sample.name), "median_ms": statistics.median(times) * 1000, "min_ms": min(times) * 1000}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    res = {"parse_print_corpus": bench_parse(), "check_one_file": bench_check()}
    p, c = res["parse_print_corpus"], res["check_one_file"]
    print(f"parse+print {p['files']} corpus files: median {p['median_ms']:.1f} ms (target < 100 ms)")
    print(f"dockerfix check one file (wall, with interpreter start): median {c['median_ms']:.0f} ms (target < 300 ms)")
    if args.json:
        args.json.write_text(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
