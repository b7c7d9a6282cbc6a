"""Benchmark of ``dockerfix migrate`` over a small fleet (not a test): N copies of real-world e2e cases,
migrated three ways with a real builder and the offline base images of ``tests/e2e/offline-images.sh``:

1. one process, ``--jobs 2``, no result cache;
2. two shards (``--shard 1/2`` and ``--shard 2/2``) as two processes at once, filling a result cache,
   their reports joined by ``merge-reports``;
3. a rerun of the whole fleet with that warm cache (fresh copies of the same checkouts).

For each: wall seconds, builds, cache hits and the outcome totals.

    python bench/bench_migrate.py [--copies 3] [--cases go-service,python-venv] [--builder buildah]

Run it as root after ``bash tests/e2e/offline-images.sh`` (it sources the image store's env.sh).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "e2e" / "realworld"
STORE = Path(os.environ.get("DOCKERFIX_E2E_IMAGES") or "/var/tmp/dockerfix-images")


def _env() -> dict[str, str]:
    out = subprocess.run(["bash", "-c", f'. "{STORE}/env.sh"; env -0'], capture_output=True, check=True).stdout
    env = dict(e.split("=", 1) for e in out.decode().split("\0") if "=" in e)
    env.pop("CONTAINER_HOST", None)
    return env


def _fleet(dest: Path, cases: list[str], copies: int) -> None:
    if dest.exists():
        shutil.rmtree(dest)
    for case in cases:
        for i in range(copies):
            shutil.copytree(CASES / case, dest / f"{case}-{i}", ignore=shutil.ignore_patterns("case.yaml"))


def _migrate(args: list[str], env: dict[str, str], report: Path, cwd: Path) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "rewriter.faces.cli", "migrate", "--format", "json", "--output", str(report),
            "--settle", "4", "--run-args", "--sysctl net.ipv4.ip_unprivileged_port_start=1024", *args]
    return subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _wait(procs: list[subprocess.Popen[str]]) -> None:
    for p in procs:
        _out, err = p.communicate()
        if p.returncode not in (0, 1):
            print(f"  note: migrate exited {p.returncode}: {err.strip().splitlines()[-1:] if err else ''}")


def _summary(report: dict, wall: float) -> dict[str, object]:
    t = report["totals"]
    hits = sum(1 for r in report["files"] if "from the result cache" in (r.get("reason") or ""))
    return {"wall_s": round(wall, 1), "files": t["files"], "builds": t["builds"], "cache_hits": hits,
            "migrated": t["migrated"], "partly": t["partly"], "refused": t["refused"],
            "unverified": t["unverified"], "error": t["error"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--copies", type=int, default=3)
    ap.add_argument("--cases", default="go-service,python-venv")
    ap.add_argument("--builder", default="buildah")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    env = _env()
    cases = args.cases.split(",")
    results: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory(prefix="dockerfix-bench-migrate-") as tmp_s:
        tmp = Path(tmp_s)
        fleet, cache = tmp / "fleet", tmp / "cache"
        common = ["--builder", args.builder]

        _fleet(fleet, cases, args.copies)
        t0 = time.monotonic()
        _wait([_migrate([*common, "--jobs", "2", "--no-cache", "."], env, tmp / "one.json", fleet)])
        results["one process, --jobs 2"] = _summary(json.loads((tmp / "one.json").read_text()), time.monotonic() - t0)

        _fleet(fleet, cases, args.copies)
        t0 = time.monotonic()
        _wait([_migrate([*common, "--cache-dir", str(cache), "--shard", f"{k}/2", "."], env, tmp / f"s{k}.json",
                        fleet) for k in (1, 2)])  # fmt: skip
        wall = time.monotonic() - t0
        merged = subprocess.run([sys.executable, "-m", "rewriter.faces.cli", "merge-reports", str(tmp / "s1.json"),
                                 str(tmp / "s2.json")], capture_output=True, text=True, check=True, env=env).stdout
        results["two shards at once"] = _summary(json.loads(merged), wall)

        _fleet(fleet, cases, args.copies)
        t0 = time.monotonic()
        _wait([_migrate([*common, "--jobs", "2", "--cache-dir", str(cache), "."], env, tmp / "warm.json", fleet)])
        results["rerun, warm cache"] = _summary(json.loads((tmp / "warm.json").read_text()), time.monotonic() - t0)

    files = len(cases) * args.copies
    print(f"migrate over {files} files ({args.copies} copies of {', '.join(cases)}), builder {args.builder}, "
          f"{os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}")
    print(f"{'way':24} {'wall s':>7} {'builds':>7} {'cache hits':>10}  outcomes")
    for way, r in results.items():
        print(f"{way:24} {r['wall_s']:>7} {r['builds']:>7} {r['cache_hits']:>10}  {r['migrated']} migrated, "
              f"{r['partly']} partly, {r['refused']} refused, {r['unverified']} unverified, {r['error']} error")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
