"""The ``dockerfix`` command (typer): ``fix``, ``diff``, ``check``, ``list``, ``explain``.

Results (diffs, ``fix -`` output) go to stdout; every message goes to stderr. Exit codes: 0 no
change or done, 1 ``check`` found changes, 2 an error (bad input, bad option, internal error).
One file's error never stops the others.
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from rewriter.pipeline import FileResult, Status

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Rewrite legacy Dockerfiles into production-grade ones.",
    pretty_exceptions_enable=False,
)


class Mode(Enum):
    FIX = "fix"
    DIFF = "diff"
    CHECK = "check"


def _err(msg: str) -> None:
    sys.stderr.write(msg + "\n")


def _ids(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [v.strip().lower() for v in value.split(",") if v.strip()]


PathsArg = Annotated[list[str], typer.Argument(help="Dockerfiles to process; '-' reads standard input.")]
SelectOpt = Annotated[str | None, typer.Option("--select", help="Only these transform ids (comma separated).")]
IgnoreOpt = Annotated[str | None, typer.Option("--ignore", help="Skip these transform ids (comma separated).")]
UnsafeOpt = Annotated[bool, typer.Option("--unsafe-fixes", help="Also apply fixes marked unsafe.")]
ContextOpt = Annotated[
    Path | None, typer.Option("--context", help="Build context folder (default: the Dockerfile's folder).")
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Only errors on stderr.")]
FormatOpt = Annotated[str, typer.Option("--format", help="Report format on stderr/--output: text or json.")]
OutputOpt = Annotated[Path | None, typer.Option("--output", help="Write the report to this file.")]
StdinNameOpt = Annotated[
    str | None, typer.Option("--stdin-filename", help="Name to show for '-' (and to find configuration).")
]


def _run(
    mode: Mode,
    paths: list[str],
    select: str | None,
    ignore: str | None,
    unsafe_fixes: bool,
    context: Path | None,
    quiet: bool,
    stdin_filename: str | None,
    report_format: str = "text",
    output: Path | None = None,
) -> int:
    from rewriter.config import ConfigError, find_config
    from rewriter.pipeline import process_file, process_text
    from rewriter.source import SourceError, decode, write_atomic
    from transforms import UnknownTransform, selected

    if report_format not in {"text", "json"}:
        _err(f"dockerfix: --format {report_format}: expected text or json")
        return 2
    results: list[FileResult] = []
    if context is not None and not context.is_dir():
        _err(f"dockerfix: --context {context}: not a folder")
        return 2
    try:  # ids given on the command line are checked once, before any file
        selected(_ids(select), _ids(ignore) or ())
    except UnknownTransform as exc:
        _err(f"dockerfix: unknown transform id {exc.args[0]!r} (see `dockerfix list`)")
        return 2
    errors = changed = 0
    for raw_path in paths:
        is_stdin = raw_path == "-"
        path = Path(stdin_filename or "Dockerfile") if is_stdin else Path(raw_path)
        name = (stdin_filename or "-") if is_stdin else raw_path
        try:
            cfg = find_config(path.parent)
            cfg = cfg.merged(
                select=tuple(_ids(select) or ()) or None,
                ignore=tuple(_ids(ignore) or ()) or None,
                unsafe_fixes=True if unsafe_fixes else None,
            )
            chosen = selected(cfg.select, cfg.ignore)
        except ConfigError as exc:
            _err(f"{name}: error: {exc}")
            results.append(FileResult(name, Status.ERROR, error=str(exc)))
            errors += 1
            continue
        except UnknownTransform as exc:
            msg = f"{cfg.source}: unknown transform id {exc.args[0]!r} (see `dockerfix list`)"
            _err(f"{name}: error: {msg}")
            results.append(FileResult(name, Status.ERROR, error=msg))
            errors += 1
            continue
        ctx_dir = context if context is not None else path.parent
        if is_stdin:
            try:
                text = decode(sys.stdin.buffer.read())
            except SourceError as exc:
                result = FileResult(name, Status.ERROR, error=str(exc))
            else:
                result = process_text(text, path=name, context_dir=ctx_dir, config=cfg, transforms=chosen)
        else:
            result = process_file(path, context_dir=ctx_dir, config=cfg, transforms=chosen, display=name)
        results.append(result)
        if result.status == Status.ERROR:
            _err(f"{name}: error: {result.error}")
            errors += 1
            if is_stdin and mode == Mode.FIX:
                sys.stdout.write(result.original)
            continue
        for ie in result.internal_errors:
            _err(f"{name}: {ie}")
        if not quiet and report_format == "text":
            _report(name, result, mode)
        if result.changed:
            changed += 1
        if mode == Mode.DIFF:
            sys.stdout.write(result.diff())
        if mode == Mode.FIX:
            if is_stdin:
                sys.stdout.write(result.new_text)
                continue
            if not result.changed:
                continue
            try:
                write_atomic(path, result.new_text)
                for rel, (_old, new, _e) in sorted(result.side_files.items()):
                    write_atomic(ctx_dir / rel, new)
            except SourceError as exc:
                _err(f"{name}: error: {exc}")
                errors += 1
    if report_format == "json":
        from rewriter.report import to_json

        doc = to_json(results)
        if output is not None:
            output.write_text(doc, encoding="utf-8")
        elif mode == Mode.DIFF or "-" in paths:
            sys.stderr.write(doc)  # stdout carries the patch / the rewritten file
        else:
            sys.stdout.write(doc)
    elif output is not None:
        output.write_text("".join(_text_lines(r) for r in results), encoding="utf-8")
    if not quiet:
        verb = {Mode.FIX: "rewritten", Mode.DIFF: "would be rewritten", Mode.CHECK: "would be rewritten"}[mode]
        _err(f"dockerfix: {changed} file(s) {verb}, {errors} error(s)")
    if errors:
        return 2
    if mode == Mode.CHECK and changed:
        return 1
    return 0


def _text_lines(result: FileResult) -> str:
    lines = [f"{result.path}: {result.status}" + (f": {result.error}" if result.error else "")]
    lines += [f"{result.path}:{f.line}: [{f.transform}] {f.message}" for f in result.fixes]
    lines += [f"{result.path}:{n.line}: note [{n.transform}] {n.message}" for n in result.notes]
    return "".join(line + "\n" for line in lines)


def _report(name: str, result: FileResult, mode: Mode) -> None:
    verb = "fixed" if mode == Mode.FIX else "fix"
    for fix in result.fixes:
        _err(f"{name}:{fix.line}: {verb} [{fix.transform}] {fix.message}")
    for fix in result.suggestions:
        _err(f"{name}:{fix.line}: {fix.applicability.label} [{fix.transform}] {fix.message}")
    for note in result.notes:
        kind = "refused" if note.refusal else "note"
        _err(f"{name}:{note.line}: {kind} [{note.transform}] {note.message}")
    if result.build_flags:
        _err(f"{name}: build it now with: docker build {' '.join(result.build_flags)} .")


@app.command()
def fix(
    paths: PathsArg,
    select: SelectOpt = None,
    ignore: IgnoreOpt = None,
    unsafe_fixes: UnsafeOpt = False,
    context: ContextOpt = None,
    quiet: QuietOpt = False,
    stdin_filename: StdinNameOpt = None,
    report_format: FormatOpt = "text",
    output: OutputOpt = None,
) -> None:
    """Rewrite Dockerfiles in place ('-': read stdin, write the result to stdout)."""
    raise typer.Exit(_run(Mode.FIX, paths, select, ignore, unsafe_fixes, context, quiet, stdin_filename,
                          report_format, output))


@app.command()
def diff(
    paths: PathsArg,
    select: SelectOpt = None,
    ignore: IgnoreOpt = None,
    unsafe_fixes: UnsafeOpt = False,
    context: ContextOpt = None,
    quiet: QuietOpt = False,
    stdin_filename: StdinNameOpt = None,
    report_format: FormatOpt = "text",
    output: OutputOpt = None,
) -> None:
    """Print a unified diff of the rewrites to stdout; change nothing."""
    raise typer.Exit(_run(Mode.DIFF, paths, select, ignore, unsafe_fixes, context, quiet, stdin_filename,
                          report_format, output))


@app.command()
def check(
    paths: PathsArg,
    select: SelectOpt = None,
    ignore: IgnoreOpt = None,
    unsafe_fixes: UnsafeOpt = False,
    context: ContextOpt = None,
    quiet: QuietOpt = False,
    stdin_filename: StdinNameOpt = None,
    report_format: FormatOpt = "text",
    output: OutputOpt = None,
) -> None:
    """Exit 1 if any file would be rewritten (nothing is changed)."""
    raise typer.Exit(_run(Mode.CHECK, paths, select, ignore, unsafe_fixes, context, quiet, stdin_filename,
                          report_format, output))


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
    from rewriter.suggest import run_suggest

    raise typer.Exit(run_suggest(path, select=_ids(select), ignore=_ids(ignore), unsafe_fixes=unsafe_fixes,
                                 context=context))


@app.command()
def lsp() -> None:
    """Run the language server (LSP over stdio) for editors."""
    from rewriter.lsp import serve

    serve()


def main() -> None:
    """Console entry point: typer's usage errors exit 2; nothing else may raise to the user."""
    try:
        app()
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
