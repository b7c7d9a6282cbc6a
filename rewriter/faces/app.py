"""The typer app: every ``dockerfix`` command, its options, help and usage errors.

``fix``, ``diff`` and ``check`` are :func:`rewriter.faces.filerun.run` under typer's parse; the
command line (:mod:`rewriter.faces.cli`) skips this module for the common forms of those three
(see :mod:`rewriter.faces.fastargs`). Exit codes as in :mod:`rewriter.faces.filerun`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from rewriter.faces.filerun import FileOptions, Mode, err, ids, run

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
        options = FileOptions(paths, select, ignore, unsafe_fixes, context, quiet, stdin_filename, report_format,
                           output, jobs, exclude, extend_exclude, shard, summary, no_cache)
        raise typer.Exit(run(mode, options))

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
        err(f"dockerfix: error: {exc}")
        raise typer.Exit(2) from None
    if output is None:
        sys.stdout.write(merged)
        return
    try:
        output.write_text(merged, encoding="utf-8")
    except OSError as exc:
        err(f"dockerfix: --output {output}: {exc.strerror or exc}")
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
        err(f"dockerfix: unknown transform id {transform_id!r} (see `dockerfix list`)")
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

    raise typer.Exit(run_suggest(path, select=ids(select), ignore=ids(ignore), unsafe_fixes=unsafe_fixes,
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
                                timeout=timeout, select=ids(select), ignore=ids(ignore), unsafe_fixes=unsafe_fixes,
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
        settle=settle, timeout=timeout, max_builds=max_builds, no_verify=no_verify, select=ids(select),
        ignore=ids(ignore), context=context, secrets=secret or [], keep=keep, report_format=report_format,
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


def run_app(argv: list[str]) -> None:
    """Parse ``argv`` (``sys.argv``) with typer and run the command; exits through ``SystemExit``."""
    _only_invoked(argv)()
