"""The ``dockerfix migrate`` command: discovery, the builder, parallel files, writing, reports.

Kept apart from :mod:`rewriter.proof.migrate` (which decides what to keep for one file) so that the
decision logic is testable with a fake builder and this face stays thin.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO

from rewriter.proof.containers import Builder, VerifyError, detect_builder
from rewriter.proof.migrate import Options, Outcome, format_outcome, migrate_file

#: statuses after which the file holds everything dockerfix would write
_DONE = {"migrated", "unchanged"}
#: outcomes that depend on this machine and this moment (a service down, a port not answering): not cached
_NOT_CACHED = {"error", "unverified", "not verified"}


def _write(outcome: Outcome, cached: dict[str, str] | None = None) -> str | None:
    """Write the outcome's Dockerfile and side files atomically (or, for a cached outcome, the texts the
    cache holds: "" the Dockerfile, the rest relative to the build context); the error, if any."""
    from rewriter.core.source import SourceError, write_atomic

    if cached is not None:
        try:
            base = Path(outcome.path).parent if cached.get("\0context") is None else Path(cached["\0context"])
            for rel, text in cached.items():
                if rel == "\0context":
                    continue
                write_atomic(Path(outcome.path) if rel == "" else base / rel, text)
        except SourceError as exc:
            return str(exc)
        return None
    result = outcome.result
    if result is None or not result.changed:
        return None
    try:
        write_atomic(Path(outcome.path), result.new_text)
        base = result.context_dir or Path(outcome.path).parent
        for rel, (_old, new, _edits) in result.side_files.items():
            write_atomic(base / rel, new)
    except SourceError as exc:
        return str(exc)
    return None


class Progress:
    """One live line on a terminal: files done/total, the current file and step, builds, elapsed time and
    an estimate; nothing at all when the output is not a terminal (logs and CI stay clean)."""

    def __init__(self, err: IO[str], total: int, enabled: bool) -> None:
        self.err = err
        self.total = total
        self.enabled = enabled
        self.done = 0
        self.builds = 0
        self.t0 = time.monotonic()
        self.step = ""
        self.lock = threading.Lock()

    def line(self) -> str:
        elapsed = time.monotonic() - self.t0
        left = ""
        if self.done:
            rest = elapsed / self.done * (self.total - self.done)
            left = f" · ~{_clock(rest)} left"
        return (f"[{self.done}/{self.total}] {self.step[:90]} · {self.builds} builds · {_clock(elapsed)}{left}")

    def show(self, step: str | None = None) -> None:
        if not self.enabled:
            return
        with self.lock:
            if step is not None:
                self.step = step
            self.err.write("\r\x1b[K" + self.line())
            self.err.flush()

    def clear(self) -> None:
        if self.enabled:
            with self.lock:
                self.err.write("\r\x1b[K")
                self.err.flush()


def _clock(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    return f"{m}m{s:02d}s" if m else f"{s}s"


def run_migrate(
    paths: Sequence[str],
    *,
    builder: str | None = None,
    run_args: str = "",
    smoke_cmd: str | None = None,
    ports: Sequence[int] = (),
    path: str = "/",
    env: Sequence[str] = (),
    settle: float = 5.0,
    timeout: float = 60.0,
    max_builds: int = 6,
    no_verify: bool = False,
    select: Sequence[str] | None = None,
    ignore: Sequence[str] | None = None,
    context: Path | None = None,
    secrets: Sequence[str] = (),
    keep: bool = False,
    report_format: str = "text",
    output: Path | None = None,
    jobs: int = 1,
    exclude: Sequence[str] | None = None,
    extend_exclude: Sequence[str] = (),
    environ: dict[str, str] | None = None,
    engine: Builder | None = None,
    shard: str | None = None,
    pr_body: Path | None = None,
    cache_dir: Path | None = None,
    no_cache: bool = False,
    upgrade: bool = True,
    max_seconds: float | None = None,
    out: IO[str] | None = None,
    err: IO[str] | None = None,
) -> int:
    """Migrate every Dockerfile found; returns the exit code. Never raises (but KeyboardInterrupt).

    ``shard`` ``"K/N"`` keeps the files of shard K (the partition of ``check --shard``); ``pr_body``
    is where the Markdown description of the migration goes (:func:`rewriter.proof.fleet.pr_body`).
    """
    from rewriter.engine.discover import PatternError, discover, in_shard, parse_shard

    out = out or sys.stdout
    err = err or sys.stderr

    progress: Progress | None = None

    def say(msg: str) -> None:
        if progress is not None and progress.enabled:
            progress.clear()
        err.write(f"dockerfix migrate: {msg}\n")
        err.flush()

    if report_format not in {"text", "json"}:
        say(f"--format {report_format}: use text or json")
        return 2
    if "-" in paths:
        say("migrate needs Dockerfiles on disk (their build context), not standard input")
        return 2
    environ = dict(os.environ if environ is None else environ)
    try:
        args = shlex.split(run_args)
        cmd = shlex.split(smoke_cmd) if smoke_cmd else None
    except ValueError as exc:
        say(f"--run-args/--smoke-cmd: {exc}")
        return 2
    for item in env:
        if "=" not in item:
            say(f"--env {item}: use NAME=VALUE")
            return 2
        args += ["-e", item]
    if not path.startswith("/"):
        say(f"--path {path}: must start with /")
        return 2
    probe_path = path  # (``path`` is reused for the files below)
    shard_spec = None
    if shard is not None:
        try:
            shard_spec = parse_shard(shard)
        except ValueError as exc:
            say(str(exc))
            return 2
    opts = Options(run_args=args, smoke_cmd=cmd, ports=list(ports), path=path, settle=settle, timeout=timeout,
                   max_builds=max_builds, no_verify=no_verify, select=select, ignore=ignore, context=context,
                   secrets=list(secrets), keep=keep, env=environ, upgrade=upgrade,
                   max_seconds=max_seconds)
    try:
        found = discover(list(paths), exclude=exclude, extend_exclude=extend_exclude)
    except PatternError as exc:
        say(str(exc))
        return 2
    for folder, why in found.problems:
        say(f"{folder}: {why}")
    if not found.targets:
        say("no Dockerfile found")
        return 2
    chosen = in_shard(found.targets, *shard_spec) if shard_spec else found.targets
    if shard_spec and not chosen:
        say(f"shard {shard}: none of the {len(found.targets)} Dockerfile(s) falls in this shard")

    tools: list[Builder] = []

    def tool_of() -> Builder:
        if not tools:
            tools.append(engine or detect_builder(builder, environ))
        return tools[0]

    from rewriter.proof import resultcache

    folder = None if no_cache else (cache_dir or resultcache.default_folder())
    cache = resultcache.ResultCache(folder) if folder is not None else None
    cached_writes: dict[str, dict[str, str]] = {}

    def one(path: Path) -> Outcome:
        try:
            key = resultcache.key_for(cache, path, opts, tool_of()) if cache is not None else None
            entry = cache.get(key) if cache is not None and key is not None else None
            if entry is not None:
                rec = entry.record
                o = Outcome(str(path), str(rec.get("status")), str(rec.get("reason") or ""),
                            list(rec.get("kept") or []), dict(rec.get("dropped") or {}), rec.get("size_before"),
                            rec.get("size_after"), str(rec.get("user") or ""), list(rec.get("build_flags") or []),
                            0, 0.0, None)
                o.upgrades = list(rec.get("upgrades") or [])
                o.runtime_packages = list(rec.get("runtime_packages") or [])
                o.reason = (o.reason + "; " if o.reason else "") + "from the result cache (nothing changed since)"
                if entry.written:
                    cached_writes[o.path] = entry.written
                return o
            def step(msg: str) -> None:
                if progress is not None and progress.enabled:
                    progress.show(msg.replace(str(path), path.name, 1) if len(msg) > 60 else msg)
                elif report_format == "text":
                    say(msg)

            o = migrate_file(path, opts, tool_of, step)
            if progress is not None:
                progress.builds += o.builds
            if cache is not None and key is not None and o.status not in _NOT_CACHED:
                written = resultcache.written_texts(o.result)
                if written and o.result is not None and o.result.context_dir is not None:
                    written["\0context"] = str(o.result.context_dir)
                cache.put(key, o.record(), written)
            return o
        except VerifyError as exc:
            return Outcome(str(path), "error", str(exc))

    outcomes: list[Outcome] = []
    write_errors = 0

    def finish(o: Outcome) -> None:
        nonlocal write_errors
        problem = _write(o, cached_writes.pop(o.path, None))
        if problem:
            write_errors += 1
            o.status, o.reason = "error", f"cannot write: {problem}"
        outcomes.append(o)
        if progress is not None:
            progress.done += 1
            progress.clear()
        if report_format == "text":
            out.write(format_outcome(o) + "\n")
            out.flush()
        if progress is not None:
            progress.show()

    targets = [t.path for t in chosen]
    is_tty = getattr(err, "isatty", lambda: False)()
    progress = Progress(err, len(targets), enabled=bool(is_tty) and os.environ.get("TERM") != "dumb")

    def terminated(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(signum)

    # SIGTERM (a CI job cancelled, a pod evicted) ends the run like Ctrl-C: the builds in flight are
    # cleaned up by their own `finally`, and what is done is written and reported
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, terminated)
    try:
        if jobs <= 1 or len(targets) == 1:
            for path in targets:
                finish(one(path))
        else:
            with ThreadPoolExecutor(max_workers=jobs) as pool:
                for o in pool.map(one, targets):
                    finish(o)
    except KeyboardInterrupt as exc:
        progress.clear()
        code = 143 if exc.args and exc.args[0] == signal.SIGTERM else 130
        say(f"interrupted: {len(outcomes)} of {len(targets)} file(s) done; the others are untouched")
        if report_format == "json":
            from rewriter.proof import fleet

            doc = fleet.report([o.record() for o in outcomes])
            doc["interrupted"] = True
            text = fleet.dumps(doc)
            if output is not None:
                with contextlib.suppress(OSError):
                    output.write_text(text)
            else:
                out.write(text)
        elif output is not None:
            with contextlib.suppress(OSError):
                output.write_text("".join(format_outcome(o) + "\n" for o in outcomes))
        return code
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    progress.clear()
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    say(f"{len(outcomes)} file(s): {summary}" + (f"; {cache.hits} from the result cache" if cache and cache.hits
                                                     else ""))
    from rewriter.proof import fleet

    if pr_body is not None:
        how = fleet.Verification(builder=getattr(tools[0], "name", "") if tools else "", ports=list(ports),
                                 path=probe_path, smoke_cmd=cmd, run_args=args)
        try:
            pr_body.write_text(fleet.pr_body([o.record() for o in outcomes], how), encoding="utf-8")
        except OSError as exc:
            say(f"--pr-body {pr_body}: {exc.strerror or exc}")
            return 2
    if report_format == "json":
        text = fleet.dumps(fleet.report([o.record() for o in outcomes]))
        if output is not None:
            output.write_text(text)
        else:
            out.write(text)
    elif output is not None:
        output.write_text("".join(format_outcome(o) + "\n" for o in outcomes))
    if any(o.status == "error" for o in outcomes):
        return 2
    # --no-verify asks for unverified rewrites; otherwise an unverified file is not done
    return 0 if all(o.status in _DONE or (no_verify and o.status == "unverified") for o in outcomes) else 1
