"""The ``dockerfix`` command (typer): ``fix``, ``diff``, ``check``, ``list``, ``explain``, ``merge-reports``.

Results (diffs, ``fix -`` output, reports without ``--output``) go to stdout; every message goes
to stderr. Exit codes: 0 no change or done, 1 ``check`` found changes, 2 an error (bad input,
bad option, internal error), 130/143 interrupted by SIGINT/SIGTERM. One file's error never stops
the others.

PATH arguments may be folders (see :mod:`rewriter.engine.discover`); files are processed in worker
processes (:mod:`rewriter.engine.batch`) and come out sorted by path; writes happen here, in the parent
process, one file at a time and atomically.
"""

# ruff: noqa: E402 (the imports follow classcode.install(), which must come first)
from __future__ import annotations

from rewriter.core import classcode

classcode.install()  # the command line's process (and its forked workers): before the first dataclass

import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from rewriter.engine.pipeline import FileResult, Status

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Rewrite legacy Dockerfiles into production-grade ones.",
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help texts contain [y]es/[n]o: print them literally
)


def _version() -> str:
    """The installed distribution's version (package metadata), or the source tree's."""
    from importlib import metadata

    try:
        return metadata.version("dockerfix")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


def _print_version(value: bool) -> None:
    if value:
        sys.stdout.write(f"dockerfix {_version()}\n")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", "-V", help="Print the version and exit.",
                                          callback=_print_version, is_eager=True)] = False,
) -> None:
    """Rewrite legacy Dockerfiles into production-grade ones."""


class Mode(Enum):
    FIX = "fix"
    DIFF = "diff"
    CHECK = "check"


FORMATS = ("text", "json", "sarif", "github")


def _err(msg: str) -> None:
    sys.stderr.write(msg + "\n")


def _ids(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [v.strip().lower() for v in value.split(",") if v.strip()]


PathsArg = Annotated[
    list[str],
    typer.Argument(help="Dockerfiles, or folders to search for them; '-' reads standard input."),
]
SelectOpt = Annotated[str | None, typer.Option("--select", help="Only these transform ids (comma separated).")]
IgnoreOpt = Annotated[str | None, typer.Option("--ignore", help="Skip these transform ids (comma separated).")]
UnsafeOpt = Annotated[bool, typer.Option("--unsafe-fixes", help="Also apply fixes marked unsafe.")]
ContextOpt = Annotated[
    Path | None,
    typer.Option("--context", help="Build context folder (default: the configuration's 'context', else the"
                 " Dockerfile's folder)."),
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Only errors on stderr.")]
FormatOpt = Annotated[
    str,
    typer.Option(
        "--format",
        help="Report format: text (messages on stderr), json, sarif (SARIF 2.1.0) or github (workflow"
        " command annotations). Reports go to --output, else to stdout (to stderr for diff and 'fix -',"
        " whose stdout is the patch or the file).",
    ),
]
OutputOpt = Annotated[Path | None, typer.Option("--output", help="Write the report to this file.")]
StdinNameOpt = Annotated[
    str | None, typer.Option("--stdin-filename", help="Name to show for '-' (and to find configuration).")
]
JobsOpt = Annotated[
    int | None,
    typer.Option("--jobs", "-j", min=1, help="Files processed in parallel, in worker processes (default: the"
                 " number of cores). Output is the same, sorted by path, whatever the number."),
]
ExcludeOpt = Annotated[
    list[str] | None,
    typer.Option("--exclude", metavar="GLOB", help="In folders, skip paths matching this gitignore-style pattern,"
                 " relative to the folder searched (repeatable). Replaces the default: node_modules/, vendor/."
                 " .git and paths in .gitignore files are skipped too. Files named on the command line are"
                 " always processed."),
]
ExtendExcludeOpt = Annotated[
    list[str] | None,
    typer.Option("--extend-exclude", metavar="GLOB", help="Like --exclude, but added to the default patterns"
                 " (repeatable)."),
]
ShardOpt = Annotated[
    str | None,
    typer.Option("--shard", metavar="K/N", help="Process only shard K of N (1 <= K <= N): a stable share of the"
                 " files by a hash of their path relative to the folder searched. Merge the shards' JSON"
                 " reports with 'dockerfix merge-reports'."),
]
SummaryOpt = Annotated[
    bool,
    typer.Option("--summary", help="Print a Markdown table (per transform: files changed, refused, errors) for a"
                 " pull request, to stdout (stderr for diff and 'fix -'). A json/sarif/github report then needs"
                 " --output."),
]
NoCacheOpt = Annotated[
    bool,
    typer.Option("--no-cache", help="Analyse every file afresh: neither reuse nor keep results (by default a file"
                 " whose text, configuration and every file its analysis looked at are unchanged since the last run"
                 " is not analysed again; the cache is in $DOCKERFIX_CACHE_DIR or ~/.cache/dockerfix/results)."),
]


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
class _Options:
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


def _run(mode: Mode, o: _Options) -> int:
    from rewriter.engine.batch import Interrupted, StopSignals
    from rewriter.engine.discover import PatternError, compile_excludes, parse_shard
    from rewriter.engine.settings import Overrides, resolve
    from transforms import UnknownTransform

    if o.report_format not in FORMATS:
        _err(f"dockerfix: --format {o.report_format}: expected one of {', '.join(FORMATS)}")
        return 2
    if o.context is not None and not o.context.is_dir():
        _err(f"dockerfix: --context {o.context}: not a folder")
        return 2
    try:  # ids given on the command line are checked once, before any file (no file: no configuration)
        resolve(None, Overrides(_ids(o.select), _ids(o.ignore)))
    except UnknownTransform as exc:
        _err(f"dockerfix: unknown transform id {exc.args[0]!r} (see `dockerfix list`)")
        return 2
    shard_spec = None
    if o.shard is not None:
        try:
            shard_spec = parse_shard(o.shard)
        except ValueError as exc:
            _err(f"dockerfix: {exc}")
            return 2
        if "-" in o.paths:
            _err("dockerfix: --shard cannot be used with '-' (standard input)")
            return 2
    if o.summary and o.report_format != "text" and o.output is None:
        _err(f"dockerfix: --summary and --format {o.report_format} both write to stdout: give --output FILE")
        return 2
    try:
        if o.exclude is not None or o.extend_exclude:  # the default patterns compile (pathspec stays unloaded)
            compile_excludes(o.exclude, o.extend_exclude or ())
    except PatternError as exc:
        _err(f"dockerfix: {exc}")
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
            _err(f"dockerfix: interrupted ({exc.args[0]}): {tally.changed} file(s) {tally.verb},"
                 f" {tally.errors} error(s), {left} file(s) not processed")
            return exc.exit_code
    busy = mode == Mode.DIFF or "-" in o.paths  # stdout carries the patch / the rewritten file
    report = _render(o.report_format, tally, o.output is not None)
    if report is not None:
        if o.output is not None:
            try:
                o.output.write_text(report, encoding="utf-8")
            except OSError as exc:
                _err(f"dockerfix: --output {o.output}: {exc.strerror or exc}")
                tally.errors += 1
        else:
            (sys.stderr if busy else sys.stdout).write(report)
    if tally.summary is not None:
        (sys.stderr if busy else sys.stdout).write(tally.summary.markdown(mode.value))
    if not o.quiet:
        _err(f"dockerfix: {tally.changed} file(s) {tally.verb}, {tally.errors} error(s)")
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


def _process(mode: Mode, o: _Options, shard: tuple[int, int] | None, tally: _Tally, stops: Any) -> None:
    from rewriter.engine.batch import Job, Outcome, Settings, default_workers, outcome_of, run_batch
    from rewriter.engine.discover import discover, in_shard
    from rewriter.faces.report import file_record

    files = [p for p in o.paths if p != "-"]
    single_root = len(o.paths) == 1 and Path(o.paths[0]).is_dir()
    settings = Settings(
        mode=mode.value,
        select=tuple(_ids(o.select) or ()) or None,
        ignore=tuple(_ids(o.ignore) or ()) or None,
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
            _err(f"{folder}: warning: no Dockerfile found in this folder")
        for link in found.outside_links:
            _err(f"{link}: skipped: symlink to a path outside the folder searched")
    if shard is None or shard[0] == 1:  # a folder that cannot be read is reported by one shard only
        for folder, reason in found.problems:
            _err(f"{folder}: error: {reason}")
            tally.errors += 1
            tally.add(file_record(FileResult(folder, Status.ERROR, error=reason)))

    def handle(o: Outcome, advance: Callable[[], None]) -> None:
        with stops.deferred():  # one file's writes and lines are never cut in half by a signal
            if o.status == Status.ERROR:
                _err(f"{o.display}: error: {o.error}")
                tally.errors += 1
            else:
                for line in o.messages:
                    _err(line)
                if o.diff:
                    sys.stdout.write(o.diff)
                    sys.stdout.flush()
                failure = _write(o.writes) if o.writes else None
                if failure is not None:
                    _err(f"{o.display}: error: {failure}")
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
        _err(f"{name}: error: {msg}")
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
        _err(f"{name}: error: {result.error}")
        tally.errors += 1
        if mode == Mode.FIX:
            sys.stdout.write(result.original)
        return
    for line in o.messages:
        _err(line)
    if result.changed:
        tally.changed += 1
    if mode == Mode.DIFF:
        sys.stdout.write(result.diff())
    if mode == Mode.FIX:
        sys.stdout.write(result.new_text)


def _file_command(mode: Mode, doc: str) -> Callable[..., None]:
    """The fix/diff/check commands: one signature, one body, a mode each."""

    def command(
        paths: PathsArg,
        select: SelectOpt = None,
        ignore: IgnoreOpt = None,
        unsafe_fixes: UnsafeOpt = False,
        context: ContextOpt = None,
        quiet: QuietOpt = False,
        stdin_filename: StdinNameOpt = None,
        report_format: FormatOpt = "text",
        output: OutputOpt = None,
        jobs: JobsOpt = None,
        exclude: ExcludeOpt = None,
        extend_exclude: ExtendExcludeOpt = None,
        shard: ShardOpt = None,
        summary: SummaryOpt = False,
        no_cache: NoCacheOpt = False,
    ) -> None:
        options = _Options(paths, select, ignore, unsafe_fixes, context, quiet, stdin_filename, report_format,
                           output, jobs, exclude, extend_exclude, shard, summary, no_cache)
        raise typer.Exit(_run(mode, options))

    command.__doc__ = doc
    command.__name__ = mode.value
    return command


fix = app.command("fix")(
    _file_command(Mode.FIX, "Rewrite Dockerfiles in place ('-': read stdin, write the result to stdout).")
)
diff = app.command("diff")(_file_command(Mode.DIFF, """Print a unified diff of the rewrites to stdout; change nothing.

    With one folder as PATH, the paths in the patch are relative to that folder: apply it there
    (`dockerfix diff ROOT > p`, then `git apply p` run in ROOT). Otherwise they are relative to the
    current folder.
    """))
check = app.command("check")(_file_command(Mode.CHECK, "Exit 1 if any file would be rewritten (nothing is changed)."))


@app.command("merge-reports")
def merge_reports(
    reports: Annotated[list[Path], typer.Argument(help="JSON reports of the shards (--format json --output).")],
    output: Annotated[Path | None, typer.Option("--output", help="Write the merged report here (default: stdout).")]
    = None,
) -> None:
    """Merge the JSON reports of the shards of one run into one: files sorted, summary recomputed.

    Reports of ``check``/``fix`` and of ``migrate`` (totals: migrated / partly / refused / unverified /
    error, builds, seconds, image bytes) are both understood. The same file in two reports is an error
    (exit 2).
    """
    import json

    from rewriter.faces.report import ReportError, dumps, load_report
    from rewriter.faces.report import merge_reports as merge
    from rewriter.proof import fleet

    docs = []
    texts = []
    try:
        for path in reports:
            try:
                texts.append((str(path), path.read_text(encoding="utf-8")))
            except (OSError, UnicodeDecodeError) as exc:
                raise ReportError(f"{path}: cannot read ({getattr(exc, 'strerror', None) or exc})") from None
        parsed = []
        for name, text in texts:
            try:
                parsed.append((name, json.loads(text)))
            except ValueError:
                parsed.append((name, None))
        if parsed and all(fleet.is_migrate_report(doc) for _n, doc in parsed):
            merged = fleet.dumps(fleet.merge(parsed))
        else:
            for name, text in texts:
                docs.append((name, load_report(text, name)))
            merged = dumps(merge(docs))
    except (ReportError, fleet.FleetReportError) as exc:
        _err(f"dockerfix: error: {exc}")
        raise typer.Exit(2) from None
    if output is None:
        sys.stdout.write(merged)
        return
    try:
        output.write_text(merged, encoding="utf-8")
    except OSError as exc:
        _err(f"dockerfix: --output {output}: {exc.strerror or exc}")
        raise typer.Exit(2) from None


@app.command("list")
def list_() -> None:
    """List the transforms with a one-line description each."""
    from transforms import REGISTRY, load

    for tid, _ in REGISTRY:
        sys.stdout.write(f"{tid:12} {load(tid).description}\n")


@app.command()
def explain(transform_id: Annotated[str, typer.Argument(metavar="ID")]) -> None:
    """Explain a transform: what it changes, when it refuses, how safe it is."""
    from transforms import UnknownTransform, load

    try:
        t = load(transform_id.lower())
    except UnknownTransform:
        _err(f"dockerfix: unknown transform id {transform_id!r} (see `dockerfix list`)")
        raise typer.Exit(2) from None
    sys.stdout.write(f"{t.id}: {t.description}\n\n{t.explain.strip()}\n")


@app.command()
def suggest(
    path: Annotated[Path, typer.Argument(help="The Dockerfile to review fix by fix.")],
    select: SelectOpt = None,
    ignore: IgnoreOpt = None,
    unsafe_fixes: UnsafeOpt = False,
    context: ContextOpt = None,
) -> None:
    """Offer each fix interactively ([y]es/[n]o/[a]ll/[q]uit/[e]xplain); write only the accepted ones."""
    from rewriter.faces.suggest import run_suggest

    raise typer.Exit(run_suggest(path, select=_ids(select), ignore=_ids(ignore), unsafe_fixes=unsafe_fixes,
                                 context=context))


@app.command()
def lsp() -> None:
    """Run the language server (LSP over stdio) for editors (needs the `lsp` extra)."""
    try:
        from rewriter.faces.lsp import serve
    except ModuleNotFoundError as exc:
        typer.echo(f"dockerfix lsp: the language server needs the `lsp` extra ({exc.name} is not installed): "
                   "pip install 'dockerfix[lsp]'", err=True)
        raise typer.Exit(2) from None
    serve()


VerifyPath = Annotated[Path, typer.Argument(help="The Dockerfile to verify (its folder is the build context,"
                                            " unless --context or the configuration's 'context' says otherwise).")]
BuilderOpt = Annotated[
    str | None,
    typer.Option("--builder", metavar="docker|podman|buildah",
                 help="The builder (default: the first usable one: docker, podman, buildah + podman)."),
]
RunArgsOpt = Annotated[
    str, typer.Option("--run-args", help="Options for creating the containers, one shell-quoted string.")
]
SmokeOpt = Annotated[
    str | None, typer.Option("--smoke-cmd", help="Run this shell-quoted command instead of ENTRYPOINT and CMD.")
]
PortOpt = Annotated[
    int | None,
    typer.Option("--port", min=1, max=65535,
                 help="A server's container port: publish it on 127.0.0.1 and compare the answers to GET /."),
]
TimeoutOpt = Annotated[float, typer.Option("--timeout", min=1, help="Seconds each run may take (or to answer).")]
SecretOpt = Annotated[
    list[str] | None,
    typer.Option("--secret", metavar="id=ID,src=PATH|id=ID,env=NAME",
                 help="A build secret's source (repeatable); replaces the one the rewrite names with that id."),
]
KeepOpt = Annotated[bool, typer.Option("--keep", help="Keep the images, containers and temporary context.")]


@app.command()
def verify(
    path: VerifyPath,
    builder: BuilderOpt = None,
    run_args: RunArgsOpt = "",
    smoke_cmd: SmokeOpt = None,
    port: PortOpt = None,
    timeout: TimeoutOpt = 60.0,
    select: SelectOpt = None,
    ignore: IgnoreOpt = None,
    unsafe_fixes: UnsafeOpt = False,
    context: ContextOpt = None,
    secret: SecretOpt = None,
    keep: KeepOpt = False,
) -> None:
    """Build and run the original and the rewrite, and compare them (0 verified, 1 not, 2 cannot verify)."""
    from rewriter.proof.verify import run_verify

    raise typer.Exit(run_verify(path, builder=builder, run_args=run_args, smoke_cmd=smoke_cmd, port=port,
                                timeout=timeout, select=_ids(select), ignore=_ids(ignore), unsafe_fixes=unsafe_fixes,
                                context=context, secrets=secret or [], keep=keep))


@app.command()
def migrate(
    paths: Annotated[list[str], typer.Argument(help="Dockerfiles, or folders to search for them.")],
    builder: BuilderOpt = None,
    run_args: RunArgsOpt = "",
    smoke_cmd: SmokeOpt = None,
    port: Annotated[
        list[int] | None,
        typer.Option("--port", min=1, max=65535, help="A container port to compare (repeatable; default: the"
                     " ports the original image exposes): GET / must answer with the same status class."),
    ] = None,
    path: Annotated[str, typer.Option("--path", help="The HTTP path requested on each port.")] = "/",
    env: Annotated[
        list[str] | None, typer.Option("--env", metavar="NAME=VALUE", help="Environment for both containers"
                                       " (repeatable).")
    ] = None,
    settle: Annotated[float, typer.Option("--settle", min=0.5, help="Seconds a container runs before its state"
                                          " (running, or exited with a code) is compared.")] = 5.0,
    timeout: TimeoutOpt = 60.0,
    max_builds: Annotated[int, typer.Option("--max-builds", min=2, help="Builds per file at most, the"
                                            " original's included.")] = 6,
    no_verify: Annotated[bool, typer.Option("--no-verify", help="Write the full migration without building it"
                                            " (labelled unverified).")] = False,
    select: SelectOpt = None,
    ignore: IgnoreOpt = None,
    context: ContextOpt = None,
    secret: SecretOpt = None,
    keep: KeepOpt = False,
    report_format: Annotated[str, typer.Option("--format", help="text (a table per file) or json.")] = "text",
    output: OutputOpt = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, help="Files migrated in parallel (each builds"
                                      " one image at a time).")] = 1,
    exclude: ExcludeOpt = None,
    extend_exclude: ExtendExcludeOpt = None,
    shard: Annotated[str | None, typer.Option("--shard", metavar="K/N", help="Migrate only shard K of N, the"
                                              " partition of 'check --shard'; join the shards' JSON reports with"
                                              " 'dockerfix merge-reports'.")] = None,
    pr_body: Annotated[Path | None, typer.Option("--pr-body", metavar="FILE", help="Write a Markdown description"
                                                 " of the migration (kept/dropped with evidence, sizes, users,"
                                                 " new build flags, how it was verified) for a pull request.")]
    = None,
    cache_dir: Annotated[Path | None, typer.Option("--cache-dir", help="Where migrate results are kept between"
                                                   " runs (default: the user's cache folder, dockerfix/migrate).")]
    = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Neither read nor write the result cache.")] = False,
    upgrade: Annotated[bool, typer.Option("--upgrade/--no-upgrade", help="Try the opt-in 'upgrade' codemod (an"
                                          " end-of-life language version moved to a supported one) last, on its"
                                          " own, and keep it only when it verifies.")] = True,
    max_seconds: Annotated[float | None, typer.Option("--max-seconds-per-file", min=1, help="Start no new"
                                                      " candidate of a file after this many seconds (a build"
                                                      " gets what is left); what was not tried is reported.")]
    = None,
) -> None:
    """Migrate for real: build and run each original and its full migration, compare them, and write the
    largest set of codemods whose rewrite still behaves like the original (0 done, 1 a file was not
    fully migrated, 2 an error)."""
    from rewriter.faces.migrate_cli import run_migrate

    raise typer.Exit(run_migrate(
        paths, builder=builder, run_args=run_args, smoke_cmd=smoke_cmd, ports=port or [], path=path, env=env or [],
        settle=settle, timeout=timeout, max_builds=max_builds, no_verify=no_verify, select=_ids(select),
        ignore=_ids(ignore), context=context, secrets=secret or [], keep=keep, report_format=report_format,
        output=output, jobs=jobs, exclude=exclude, extend_exclude=extend_exclude or [], shard=shard,
        pr_body=pr_body, cache_dir=cache_dir, no_cache=no_cache, upgrade=upgrade, max_seconds=max_seconds,
    ))  # fmt: skip


def _command_name(info: Any) -> str:
    return info.name or info.callback.__name__.replace("_", "-")


def _only_invoked(argv: list[str]) -> typer.Typer:
    """The app with the one command ``argv`` invokes registered, when it names one.

    typer builds a click command from every registered function's signature before parsing anything
    (about 3 ms a command); a run uses one. The group and its callback stay, so the parse, the help of
    that command and its errors are the same; ``dockerfix --help``, ``-V`` and an unknown or misspelt
    command get the whole app.
    """
    wanted = argv[1] if len(argv) > 1 else ""
    chosen = [c for c in app.registered_commands if _command_name(c) == wanted]
    if not chosen:
        return app
    import copy

    one = copy.copy(app)  # the same settings and callback; its own list of commands
    one.registered_commands = chosen
    return one


def main() -> None:
    """Console entry point: typer's usage errors exit 2; nothing else may raise to the user."""
    try:
        _only_invoked(sys.argv)()
    except KeyboardInterrupt:
        _err("dockerfix: interrupted")
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:
        _err(f"dockerfix: internal error: {type(exc).__name__}: {exc}")
        sys.exit(2)


if __name__ == "__main__":
    main()
