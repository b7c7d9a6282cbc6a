"""``fix``, ``diff`` and ``check`` as a run: options in, files processed, messages and reports out.

No typer here: the command line (:mod:`rewriter.faces.cli`) parses the common forms of these
commands itself (:mod:`rewriter.faces.fastargs`) and calls :func:`run` without importing the CLI
framework; every other form goes through the typer app (:mod:`rewriter.faces.app`), which calls
the same :func:`run`.

Results (diffs, ``fix -`` output, reports without ``--output``) go to stdout; every message goes
to stderr. Exit codes: 0 no change or done, 1 ``check`` found changes, 2 an error (bad input,
bad option, internal error), 130/143 interrupted by SIGINT/SIGTERM. One file's error never stops
the others.

PATH arguments may be folders (see :mod:`rewriter.engine.discover`); files are processed in worker
processes (:mod:`rewriter.engine.batch`) and come out sorted by path; writes happen here, in the parent
process, one file at a time and atomically.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from rewriter.engine.pipeline import FileResult, Status


class Mode(Enum):
    FIX = "fix"
    DIFF = "diff"
    CHECK = "check"


FORMATS = ("text", "json", "sarif", "github")


def err(msg: str) -> None:
    sys.stderr.write(msg + "\n")


def ids(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [v.strip().lower() for v in value.split(",") if v.strip()]


@dataclass
class _Tally:
    """What the parent process has done so far (for reports and for the interrupted summary).

    Report records are kept only when a report needs them, as compact JSON (a few hundred bytes a
    file); the Markdown summary is counted as the files come.
    """

    mode: Mode
    keep_records: bool = False
    text_report: bool = False  #: --format text --output: keep text lines
    summary: Any = None  #: a :class:`rewriter.faces.report.SummaryCounter` with --summary
    total: int = 0
    done: int = 0
    changed: int = 0
    errors: int = 0
    records: list[tuple[str, str]] = field(default_factory=list)  #: (path, compact JSON record)
    texts: list[str] = field(default_factory=list)

    @property
    def verb(self) -> str:
        return "rewritten" if self.mode == Mode.FIX else "would be rewritten"

    def add(self, record: dict[str, Any], text: str | None = None) -> None:
        """Count one file's record; ``text`` is its text-report lines (None: made from the record)."""
        if text is None and self.text_report:
            text = f"{record['path']}: {record['status']}" + (f": {record['error']}" if record["error"] else "") + "\n"
        if self.keep_records:
            self.records.append((record["path"], json.dumps(record, ensure_ascii=False, separators=(",", ":"))))
        if self.summary is not None:
            self.summary.add(record)
        if text:
            self.texts.append(text)

    def sorted_records(self) -> list[dict[str, Any]]:
        """The records sorted by path (stdin and unreadable folders land in their place too)."""
        from rewriter.engine.discover import sort_key

        return [json.loads(rec) for _p, rec in sorted(self.records, key=lambda r: sort_key(r[0]))]


@contextlib.contextmanager
def _progress(total: int, enabled: bool) -> Iterator[Callable[[], None]]:
    """A progress bar on stderr (rich), redrawn at most ten times a second; a no-op when disabled."""
    if not enabled:
        yield lambda: None
        return
    import time

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    # no auto-refresh thread: worker processes are forked while the bar is shown
    bar = Progress(TextColumn("dockerfix"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   console=Console(file=sys.stderr), transient=True, auto_refresh=False,
                   redirect_stdout=False, redirect_stderr=True)
    task = bar.add_task("files", total=total)
    last = 0.0

    def advance() -> None:
        nonlocal last
        bar.advance(task)
        now = time.monotonic()
        if now - last > 0.1:
            last = now
            bar.refresh()

    with bar:
        yield advance


@dataclass(frozen=True)
class FileOptions:
    """The options shared by fix, diff and check."""

    paths: list[str]
    select: str | None
    ignore: str | None
    unsafe_fixes: bool
    context: Path | None
    quiet: bool
    stdin_filename: str | None
    report_format: str = "text"
    output: Path | None = None
    jobs: int | None = None
    exclude: list[str] | None = None
    extend_exclude: list[str] | None = None
    shard: str | None = None
    summary: bool = False
    no_cache: bool = False


def run(mode: Mode, o: FileOptions) -> int:
    from rewriter.engine.batch import Interrupted, StopSignals
    from rewriter.engine.discover import PatternError, compile_excludes, parse_shard
    from rewriter.engine.settings import Overrides, resolve
    from transforms import UnknownTransform

    if o.report_format not in FORMATS:
        err(f"dockerfix: --format {o.report_format}: expected one of {', '.join(FORMATS)}")
        return 2
    if o.context is not None and not o.context.is_dir():
        err(f"dockerfix: --context {o.context}: not a folder")
        return 2
    try:  # ids given on the command line are checked once, before any file (no file: no configuration)
        resolve(None, Overrides(ids(o.select), ids(o.ignore)))
    except UnknownTransform as exc:
        err(f"dockerfix: unknown transform id {exc.args[0]!r} (see `dockerfix list`)")
        return 2
    shard_spec = None
    if o.shard is not None:
        try:
            shard_spec = parse_shard(o.shard)
        except ValueError as exc:
            err(f"dockerfix: {exc}")
            return 2
        if "-" in o.paths:
            err("dockerfix: --shard cannot be used with '-' (standard input)")
            return 2
    if o.summary and o.report_format != "text" and o.output is None:
        err(f"dockerfix: --summary and --format {o.report_format} both write to stdout: give --output FILE")
        return 2
    try:
        if o.exclude is not None or o.extend_exclude:  # the default patterns compile (pathspec stays unloaded)
            compile_excludes(o.exclude, o.extend_exclude or ())
    except PatternError as exc:
        err(f"dockerfix: {exc}")
        return 2

    from rewriter.faces.report import SummaryCounter

    tally = _Tally(mode, keep_records=o.report_format in {"json", "sarif", "github"},
                   text_report=o.report_format == "text" and o.output is not None,
                   summary=SummaryCounter() if o.summary else None)
    with StopSignals() as stops:
        try:
            _process(mode, o, shard_spec, tally, stops)
        except Interrupted as exc:
            stops.quiet()  # a second Ctrl-C must not cut the clean-up short
            left = tally.total - tally.done
            err(f"dockerfix: interrupted ({exc.args[0]}): {tally.changed} file(s) {tally.verb},"
                 f" {tally.errors} error(s), {left} file(s) not processed")
            return exc.exit_code
    busy = mode == Mode.DIFF or "-" in o.paths  # stdout carries the patch / the rewritten file
    report = _render(o.report_format, tally, o.output is not None)
    if report is not None:
        if o.output is not None:
            try:
                o.output.write_text(report, encoding="utf-8")
            except OSError as exc:
                err(f"dockerfix: --output {o.output}: {exc.strerror or exc}")
                tally.errors += 1
        else:
            (sys.stderr if busy else sys.stdout).write(report)
    if tally.summary is not None:
        (sys.stderr if busy else sys.stdout).write(tally.summary.markdown(mode.value))
    if not o.quiet:
        err(f"dockerfix: {tally.changed} file(s) {tally.verb}, {tally.errors} error(s)")
    if tally.errors:
        return 2
    if mode == Mode.CHECK and tally.changed:
        return 1
    return 0


def _render(report_format: str, tally: _Tally, to_file: bool) -> str | None:
    """The report text for the format; None for text without --output (the messages are the report)."""
    if report_format == "json":
        from rewriter.faces.report import document, dumps

        return dumps(document(tally.sorted_records()))
    if report_format == "sarif":
        from rewriter.faces import sarif

        return sarif.dumps(sarif.to_sarif(tally.sorted_records()))
    if report_format == "github":
        from rewriter.faces.report import github_annotations

        return github_annotations(tally.sorted_records())
    return "".join(tally.texts) if to_file else None


def _process(mode: Mode, o: FileOptions, shard: tuple[int, int] | None, tally: _Tally, stops: Any) -> None:
    from rewriter.engine.batch import Job, Outcome, Settings, default_workers, outcome_of, run_batch
    from rewriter.engine.discover import discover, in_shard
    from rewriter.faces.report import file_record

    files = [p for p in o.paths if p != "-"]
    single_root = len(o.paths) == 1 and Path(o.paths[0]).is_dir()
    settings = Settings(
        mode=mode.value,
        select=tuple(ids(o.select) or ()) or None,
        ignore=tuple(ids(o.ignore) or ()) or None,
        unsafe_fixes=o.unsafe_fixes,
        context=str(o.context) if o.context is not None else None,
        messages=not o.quiet and o.report_format == "text",
        text_report=o.report_format == "text" and o.output is not None,
        patch_base=o.paths[0] if single_root else None,
        cache=not o.no_cache,
    )
    if settings.cache:  # a run starts with no answers about the files (several runs may share a process)
        from rewriter.engine.filecache import new_run

        new_run()
    found = discover(files, exclude=o.exclude, extend_exclude=o.extend_exclude or ())
    targets = found.targets if shard is None else in_shard(found.targets, *shard)
    tally.total = len(targets) + o.paths.count("-")

    if "-" in o.paths:
        _stdin(mode, settings, o.context, o.stdin_filename, tally, outcome_of)
    if not o.quiet:
        for folder in found.empty:
            err(f"{folder}: warning: no Dockerfile found in this folder")
        for link in found.outside_links:
            err(f"{link}: skipped: symlink to a path outside the folder searched")
    if shard is None or shard[0] == 1:  # a folder that cannot be read is reported by one shard only
        for folder, reason in found.problems:
            err(f"{folder}: error: {reason}")
            tally.errors += 1
            tally.add(file_record(FileResult(folder, Status.ERROR, error=reason)))

    def handle(o: Outcome, advance: Callable[[], None]) -> None:
        with stops.deferred():  # one file's writes and lines are never cut in half by a signal
            if o.status == Status.ERROR:
                err(f"{o.display}: error: {o.error}")
                tally.errors += 1
            else:
                for line in o.messages:
                    err(line)
                if o.diff:
                    sys.stdout.write(o.diff)
                    sys.stdout.flush()
                failure = _write(o.writes) if o.writes else None
                if failure is not None:
                    err(f"{o.display}: error: {failure}")
                    tally.errors += 1
                    o.record.update(status=str(Status.ERROR), error=failure)
                elif o.changed:
                    tally.changed += 1
            tally.add(o.record, o.text)
            tally.done += 1
            advance()

    job_list = [Job(str(t.path), t.display) for t in targets]
    show = not o.quiet and len(job_list) > 1 and sys.stderr.isatty()
    from rewriter.core import runmemo

    with _progress(len(job_list), show) as advance, runmemo.run():  # work shared by the run's files
        run_batch(job_list, settings, lambda o: handle(o, advance), workers=o.jobs or default_workers())


def _write(writes: list[tuple[str, str | None, str]]) -> str | None:
    """Write one file's results (the Dockerfile, then its side files) atomically; the error, if any.

    Nothing is written when a file no longer holds the text the worker read (see
    :func:`rewriter.engine.batch.stale_write`).
    """
    from rewriter.core.source import SourceError, write_atomic
    from rewriter.engine.batch import stale_write

    stale = stale_write(writes)
    if stale is not None:
        return (f"{stale} changed since it was read (by another fix in this run, or on disk);"
                " nothing written for this file: run dockerfix fix again")
    for target, _old, text in writes:
        try:
            write_atomic(Path(target), text)
        except SourceError as exc:
            return str(exc)
    return None


def _stdin(
    mode: Mode, settings: Any, context: Path | None, stdin_filename: str | None, tally: _Tally, outcome_of: Any
) -> None:
    """Standard input, processed here in the parent (``fix -`` writes the result to stdout)."""
    from rewriter.core.source import SourceError, decode
    from rewriter.engine.config import ConfigError
    from rewriter.engine.pipeline import process_text
    from rewriter.engine.settings import Overrides, UnknownId, resolve
    from rewriter.faces.report import file_record

    path = Path(stdin_filename or "Dockerfile")  # its folder: where the configuration is found, the context
    name = stdin_filename or "-"
    tally.done += 1
    try:
        resolved = resolve(path, Overrides(settings.select, settings.ignore, settings.unsafe_fixes, context))
    except (ConfigError, UnknownId) as exc:
        msg = str(exc)
        if isinstance(exc, UnknownId):
            msg = f"{exc.source}: unknown transform id {exc.args[0]!r} (see `dockerfix list`)"
        err(f"{name}: error: {msg}")
        tally.errors += 1
        tally.add(file_record(FileResult(name, Status.ERROR, error=msg)))
        return
    try:
        text = decode(sys.stdin.buffer.read())
    except SourceError as exc:
        result = FileResult(name, Status.ERROR, error=str(exc))
    else:
        result = process_text(text, path=name, context_dir=resolved.context, config=resolved.config,
                              transforms=resolved.transforms)
    o = outcome_of(result, settings)
    tally.add(o.record, o.text)
    if result.status == Status.ERROR:
        err(f"{name}: error: {result.error}")
        tally.errors += 1
        if mode == Mode.FIX:
            sys.stdout.write(result.original)
        return
    for line in o.messages:
        err(line)
    if result.changed:
        tally.changed += 1
    if mode == Mode.DIFF:
        sys.stdout.write(result.diff())
    if mode == Mode.FIX:
        sys.stdout.write(result.new_text)
