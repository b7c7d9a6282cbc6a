"""``dockerfix verify PATH``: build and run the original and the rewritten Dockerfile, and compare them.

What it does, in order:

1. Rewrites ``PATH`` in memory (the same transforms, ``--select``/``--ignore``/``--unsafe-fixes``,
   configuration and build context -- ``--context``, else the configuration's ``context``, else the
   Dockerfile's folder -- as ``dockerfix fix``, :func:`rewriter.engine.settings.resolve`). Nothing to
   rewrite: ``nothing to verify``, exit 0.
2. Works out what the rewritten build needs (:attr:`FileResult.build_flags`):
   ``--secret id=X,src=REL`` gets the absolute path of the *user's* file ``REL`` (relative to the build
   context; not the temporary copy), ``--secret id=X,env=NAME`` needs ``NAME`` in the environment (its
   value reaches the builder through the environment only, never argv), ``--ssh default`` needs
   ``SSH_AUTH_SOCK``. The original build gets ``--build-arg NAME`` (value from the environment) for
   every ``env=`` secret whose ``ARG NAME`` the rewrite replaced. ``--secret`` options given to
   ``verify`` replace the source of the secret with the same id, or are passed to both builds.
3. Finds a builder (``--builder docker|podman|buildah``; by default the first usable one in that
   order: docker if ``docker info`` succeeds, podman if ``podman info`` succeeds; buildah builds and
   podman runs for ``--builder buildah``).
4. Copies the build context to a temporary folder (the user's tree is never written; folders the
   ``.dockerignore`` excludes are not copied when it has no ``!`` exceptions), builds the original
   there, then writes the rewritten Dockerfile and side files over the copy and builds that. Both
   builds commit one layer per instruction (``--layers``, like ``docker build``) and carry the label
   ``dockerfix.verify=<run id>``, so every image they make, intermediate ones included, is removed
   at the end (unless ``--keep``).
5. Runs both images to completion (``--run-args`` go to ``create``; ``--smoke-cmd`` replaces the
   image's ENTRYPOINT and CMD) and compares the exit code, stdout and stderr; with ``--port`` it
   publishes the port on 127.0.0.1, retries ``GET /`` until ``--timeout`` and compares the HTTP
   status and body instead. With ``--smoke-cmd`` or ``--port`` it also reads the uid the process
   really runs as (podman: from the container's init process; docker: once it runs), if it can.
6. Looks for every secret's bytes (the file's contents, the variable's value; also JSON-escaped; and
   the contents of the files the rewrite newly excludes in ``.dockerignore``) in every blob of both
   images (saved to an archive in the temporary folder, layers gunzipped) and in ``image inspect`` /
   ``history`` output. Secret values are never printed: build and run output
   shown on failure is redacted.

The table goes to stdout, every message to stderr. Exit codes:

* 0 -- verified: the rewritten image builds, the runs agree (exit code and output, or HTTP status and
  body with ``--port``), no secret in the rewritten image. Also 0, with ``nothing to verify``, when
  the file has nothing to rewrite.
* 1 -- not verified: a table row says which check failed (the rewritten build, the run, a secret).
  With ``--port``, an original that gives no HTTP answer is a failure too (check ``--port``). Two runs
  that both hit ``--timeout`` count as the same exit; their output so far is still compared.
* 2 -- cannot verify: bad input or options, no usable builder, a secret the rewritten build needs is
  missing, or the original itself does not build (nothing to compare).

The builder is reached through the small :class:`Builder` protocol (:class:`CliBuilder` runs the
docker/podman/buildah command lines); tests inject a fake one.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import shlex
import shutil
import stat
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from rewriter.proof.buildsecrets import (
    MIN_NEEDLE,
    Secret,
    excluded_secret_files,
    plan_secrets,
    redact,
    scan_archive,
    scan_metadata,
)
from rewriter.proof.containers import (
    BUILD_TIMEOUT,
    Builder,
    HttpResult,
    ImageInfo,
    Proc,
    RunResult,
    VerifyError,
    _decode,
    detect_builder,
)
from rewriter.proof.libraries import adds_stage, lost_libraries

TAG_PREFIX = "localhost/dockerfix-verify-"
ORIGINAL, REWRITTEN = "original", "rewritten"


# --------------------------------------------------------------------------- the build context copy


def copy_context(src: Path, dest: Path, ignore_texts: Sequence[str | None] = ()) -> None:
    """Copy the build context ``src`` to ``dest`` (symlinks as links; sockets, FIFOs and devices left out,
    and ``dest``'s folder if it lies inside ``src``).

    A folder every given ``.dockerignore`` text excludes is left out too, but only when none of them has
    an exception (``!``) pattern: then nothing below it can reach the builder.
    """
    from rewriter.sidefiles.dockerignore import is_excluded, parse

    pattern_sets = []
    for text in ignore_texts:
        pats = parse(text) if text else []
        pattern_sets.append(pats)
    prune = bool(pattern_sets) and all(pattern_sets) and not any(p.exclusion for ps in pattern_sets for p in ps)
    own = os.path.realpath(dest.parent)

    def skip(folder: str, names: list[str]) -> set[str]:
        out = set()
        rel_dir = os.path.relpath(folder, src)
        for name in names:
            try:
                mode = os.lstat(os.path.join(folder, name)).st_mode
            except OSError:
                out.add(name)
                continue
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode)):
                out.add(name)
            elif stat.S_ISDIR(mode) and os.path.realpath(os.path.join(folder, name)) == own:
                out.add(name)  # the temporary folder itself (a context that holds the temp dir)
            elif prune and stat.S_ISDIR(mode):
                rel = name if rel_dir == "." else f"{rel_dir}/{name}".replace(os.sep, "/")
                if all(is_excluded(rel, ps) for ps in pattern_sets):
                    out.add(name)
        return out

    shutil.copytree(src, dest, symlinks=True, ignore=skip)


# --------------------------------------------------------------------------- report


@dataclass
class Side:
    """What happened to one of the two images."""

    label: str
    tag: str
    container: str
    built: bool | None = None
    build_seconds: float = 0.0
    build: Proc | None = None
    info: ImageInfo | None = None
    run: RunResult | None = None
    http: HttpResult | None = None
    secrets_found: set[str] | None = None  # None: not searched
    scan_error: str | None = None


def _human_size(n: int | None) -> str:
    if n is None:
        return "?"
    for unit, div in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= div:
            return f"{n / div:.1f} {unit}"
    return f"{n} B"


def _lines(text: str) -> str:
    if not text:
        return "empty"
    n = len(text.splitlines())
    return f"{n} line" + ("" if n == 1 else "s")


def _user(info: ImageInfo | None) -> str:
    if info is None:
        return "-"
    return info.user or "0"


def _exit(run: RunResult | None) -> str:
    if run is None:
        return "-"
    if run.error:
        return "not started"
    if run.timed_out:
        return "timed out"
    return str(run.exit_code)


@dataclass
class Verdict:
    rows: list[tuple[str, str, str, str]]
    failures: list[str]
    details: list[str]  # extra lines for stderr (diffs), already redacted


def _diff(name: str, a: str, b: str, redactions: Sequence[str], limit: int = 20) -> list[str]:
    lines = list(difflib.unified_diff(
        redact(a, redactions).splitlines(), redact(b, redactions).splitlines(),
        f"{name} ({ORIGINAL})", f"{name} ({REWRITTEN})", lineterm="", n=1,
    ))  # fmt: skip
    if len(lines) > limit:
        lines = [*lines[:limit], f"... ({len(lines) - limit} more diff lines)"]
    return [f"  {ln}" for ln in lines]


def compare(
    orig: Side, new: Side, *, port: int | None, secrets: Sequence[Secret], redactions: Sequence[str]
) -> Verdict:
    """The table rows (check, original, rewritten, result) and the failed checks."""
    rows: list[tuple[str, str, str, str]] = []
    failures: list[str] = []
    details: list[str] = []

    def built(s: Side) -> str:
        return "-" if s.built is None else ("yes" if s.built else "no") + f" ({s.build_seconds:.0f}s)"

    rows.append(("builds", built(orig), built(new), "ok" if new.built else "FAIL"))
    if not new.built:
        failures.append("the rewritten Dockerfile does not build")
    if port is None:
        a, b = orig.run, new.run
        if a is not None and b is not None:
            same_exit = _exit(a) == _exit(b) and not (a.error or b.error)
            rows.append(("exit code", _exit(a), _exit(b), "same" if same_exit else "FAIL"))
            if not same_exit:
                failures.append("exit codes differ" if not (a.error or b.error) else "a container did not start")
            for stream in ("stdout", "stderr"):
                x, y = getattr(a, stream), getattr(b, stream)
                rows.append((stream, _lines(x), _lines(y), "same" if x == y else "FAIL"))
                if x != y:
                    failures.append(f"{stream} differs")
                    details += [f"{stream} differs:", *_diff(stream, x, y, redactions)]
            if a.timed_out or b.timed_out:
                details.append("hint: a run timed out; for a server use --port, or --smoke-cmd for a command that ends")
        elif a is not None or b is not None:
            rows.append(("exit code", _exit(a), _exit(b), "-"))
    else:
        a, b = orig.http, new.http
        if a is not None and b is not None:
            sa = str(a.status) if a.status is not None else "no answer"
            sb = str(b.status) if b.status is not None else "no answer"
            same_status = a.status is not None and a.status == b.status
            rows.append((f"GET / ({port})", sa, sb, "same" if same_status else "FAIL"))
            same_body = a.status is not None and a.body == b.body
            body_a, body_b = _human_size(len(a.body)), _human_size(len(b.body))
            rows.append(("http body", body_a, body_b, "same" if same_body else "FAIL"))
            if not same_status:
                failures.append("HTTP status differs" if a.status is not None and b.status is not None
                                else "no HTTP answer")
            elif not same_body:
                failures.append("HTTP body differs")
                details += ["http body differs:", *_diff("body", _decode(a.body), _decode(b.body), redactions)]
            for s, r in ((orig, a), (new, b)):
                if r.error:
                    details.append(f"{s.label}: {redact(r.error, redactions)}")
                    details += [f"  | {ln}" for ln in redact(r.logs, redactions).splitlines()[-10:]]
        elif a is not None or b is not None:
            rows.append((f"GET / ({port})", "-", "-", "-"))
    rows.append(("user", _user(orig.info), _user(new.info),
                 "-" if new.info is None else ("same" if _user(orig.info) == _user(new.info) else "changed")))
    results = (orig.http, new.http) if port else (orig.run, new.run)
    uids = [r.uid if r is not None else None for r in results]
    if any(u is not None for u in uids):
        ua, ub = ("?" if u is None else str(u) for u in uids)
        rows.append(("process uid", ua, ub, "same" if ua == ub else "changed"))
    sa, sb = (s.info.size if s.info else None for s in (orig, new))
    change = "-"
    if sa and sb is not None:
        change = f"{(sb - sa) / sa * 100:+.1f}%"
    rows.append(("image size", _human_size(sa) if orig.info else "-", _human_size(sb) if new.info else "-", change))
    if secrets:
        def found(s: Side) -> str:
            if s.scan_error:
                return "unknown"
            if s.secrets_found is None:
                return "-"
            return ("found: " + ",".join(sorted(s.secrets_found))) if s.secrets_found else "none"

        ok = new.secrets_found is not None and not new.secrets_found and not new.scan_error
        rows.append(("secrets", found(orig), found(new), "ok" if ok else ("-" if not new.built else "FAIL")))
        if new.built and not ok:
            if new.scan_error:
                failures.append("the rewritten image could not be searched for secrets")
                details.append(f"{REWRITTEN}: {new.scan_error}")
            else:
                failures.append("a secret is in the rewritten image")
    else:
        rows.append(("secrets", "-", "-", "none to check"))
    return Verdict(rows, failures, details)


HEADER = ("check", ORIGINAL, REWRITTEN, "result")


def format_table(rows: Sequence[Sequence[str]], header: Sequence[str] = HEADER) -> str:
    table = [list(header), *[list(r) for r in rows]]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    out = []
    for r in table:
        out.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- the command


def _split(value: Sequence[str] | str | None, option: str) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return shlex.split(value)
        except ValueError as exc:
            raise VerifyError(f"{option}: {exc}") from None
    return list(value)


def _ids(value: Sequence[str] | str | None) -> list[str] | None:
    if value is None:
        return None
    items = value.split(",") if isinstance(value, str) else list(value)
    return [v.strip().lower() for v in items if v.strip()] or None


def _tail(proc: Proc | None, redactions: Sequence[str], n: int = 15) -> list[str]:
    if proc is None:
        return []
    lines = redact(proc.stdout + proc.stderr, redactions).splitlines()
    return [f"  | {ln}" for ln in lines[-n:]]


def run_verify(
    path: Path,
    *,
    builder: str | None = None,
    run_args: Sequence[str] | str = (),
    smoke_cmd: Sequence[str] | str | None = None,
    port: int | None = None,
    timeout: float = 60.0,
    select: Sequence[str] | str | None = None,
    ignore: Sequence[str] | str | None = None,
    unsafe_fixes: bool = False,
    context: Path | None = None,
    secrets: Sequence[str] = (),
    keep: bool = False,
    env: Mapping[str, str] | None = None,
    engine: Builder | None = None,
    build_timeout: float = BUILD_TIMEOUT,
    out: IO[str] | None = None,
    err: IO[str] | None = None,
) -> int:
    """Build, run and compare the original and the rewritten ``path``; returns the exit code (0, 1, 2).

    ``env`` is the environment of every builder command and where ``env=`` secrets are read from
    (default ``os.environ``); ``engine`` replaces the detected builder (tests). Never raises.
    """
    out = out or sys.stdout
    err = err or sys.stderr
    name = str(path)

    def say(msg: str) -> None:
        err.write(f"dockerfix verify: {msg}\n")
        err.flush()

    try:
        return _verify(path, name, say, out, err, builder=builder, run_args=run_args, smoke_cmd=smoke_cmd,
                       port=port, timeout=timeout, select=select, ignore=ignore, unsafe_fixes=unsafe_fixes,
                       context=context, secrets=list(secrets or ()), keep=keep,
                       env=dict(os.environ if env is None else env), engine=engine,
                       build_timeout=build_timeout)  # fmt: skip
    except VerifyError as exc:
        say(f"{name}: error: {exc}")
        return 2
    except Exception as exc:  # a traceback must never reach the user
        say(f"{name}: internal error: {type(exc).__name__}: {exc}")
        return 2


def _verify(
    path: Path,
    name: str,
    say: Callable[[str], None],
    out: IO[str],
    err: IO[str],
    *,
    builder: str | None,
    run_args: Sequence[str] | str,
    smoke_cmd: Sequence[str] | str | None,
    port: int | None,
    timeout: float,
    select: Sequence[str] | str | None,
    ignore: Sequence[str] | str | None,
    unsafe_fixes: bool,
    context: Path | None,
    secrets: Sequence[str],
    keep: bool,
    env: dict[str, str],
    engine: Builder | None,
    build_timeout: float,
) -> int:
    from rewriter.engine.config import ConfigError
    from rewriter.engine.pipeline import Status, process_file
    from rewriter.engine.settings import Overrides, resolve
    from transforms import UnknownTransform

    args = _split(run_args, "--run-args") or []
    cmd = _split(smoke_cmd, "--smoke-cmd") or None
    if port is not None and not 0 < port < 65536:
        raise VerifyError(f"--port {port}: not a port number")
    if timeout <= 0:
        raise VerifyError("--timeout must be positive")
    if name == "-":
        raise VerifyError("verify needs a Dockerfile on disk (its build context), not standard input")
    if not path.exists():
        raise VerifyError("no such file")
    if not path.is_file():
        raise VerifyError("not a file")
    if context is not None and not context.is_dir():
        raise VerifyError(f"--context {context}: not a folder")
    try:
        resolved = resolve(path, Overrides(_ids(select), _ids(ignore), unsafe_fixes, context))
    except ConfigError as exc:
        raise VerifyError(str(exc)) from None
    except UnknownTransform as exc:
        raise VerifyError(f"unknown transform id {exc.args[0]!r} (see `dockerfix list`)") from None
    cfg, chosen = resolved.config, resolved.transforms
    ctx = resolved.context or path.parent  # a Dockerfile on disk always has one

    result = process_file(path, context_dir=ctx, config=cfg, transforms=chosen, unsafe_fixes=cfg.unsafe_fixes,
                          display=name)  # fmt: skip
    if result.status == Status.ERROR:
        raise VerifyError(result.error or "cannot rewrite")
    for problem in result.internal_errors:
        say(f"{name}: warning: {problem}")
    if result.status != Status.CHANGED:
        say(f"{name}: nothing to rewrite, nothing to verify")
        return 0
    try:
        original_bytes = path.read_bytes()
    except OSError as exc:
        raise VerifyError(f"cannot read: {exc.strerror or exc}") from None

    plan = plan_secrets(result.build_secrets, context=ctx.absolute(), original_text=result.original, env=env,
                        user_secrets=secrets)  # fmt: skip
    known = {s.src for s in plan.secrets if s.src is not None}
    ignore_old = _read_optional(ctx / ".dockerignore")
    ignore_new = result.side_files[".dockerignore"][1] if ".dockerignore" in result.side_files else ignore_old
    plan.secrets += [s for s in excluded_secret_files(ignore_old, ignore_new, ctx) if s.src not in known]
    redactions = plan.redactions()
    tool = engine or detect_builder(builder, env)
    from transforms import ids  # the codemods in pipeline order, as the report names them

    rank = {tid: i for i, tid in enumerate(ids())}
    fixes = ", ".join(sorted(dict.fromkeys(f.transform for f in result.fixes), key=lambda t: rank.get(t, len(rank))))
    say(f"{name}: rewritten by {fixes or 'dockerfix'}; verifying with {tool.name}")

    run_id = uuid.uuid4().hex[:12]
    sides = [
        Side(ORIGINAL, f"{TAG_PREFIX}{run_id}:{ORIGINAL}", f"dockerfix-verify-{run_id}-{ORIGINAL}"),
        Side(REWRITTEN, f"{TAG_PREFIX}{run_id}:{REWRITTEN}", f"dockerfix-verify-{run_id}-{REWRITTEN}"),
    ]
    orig, new = sides
    tmp = Path(tempfile.mkdtemp(prefix="dockerfix-verify-"))
    created_containers: list[str] = []
    try:
        copy = tmp / "context"
        copy_context(ctx, copy, [ignore_old, ignore_new] if ignore_old is not None else [])
        try:
            rel = path.resolve().relative_to(ctx.resolve())
            dockerfile = copy / rel
        except ValueError:
            dockerfile = tmp / "dockerfile" / path.name
        dockerfile.parent.mkdir(parents=True, exist_ok=True)
        dockerfile.write_bytes(original_bytes)

        # 1. the original
        say(f"building the {ORIGINAL} image")
        _build(tool, orig, copy, dockerfile, plan.original_flags, plan.original_env, run_id, build_timeout)
        if not orig.built:
            reason = redact(orig.build.reason() if orig.build else "?", redactions)
            raise VerifyError(f"the original Dockerfile does not build with {tool.name} ({reason[:300]});"
                              " nothing to compare")
        # 2. the rewrite, over the same copy
        for rel_side, (_old, new_text, _edits) in result.side_files.items():
            target = copy / rel_side
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.is_symlink():
                target.unlink()
            target.write_bytes(new_text.encode("utf-8"))
        dockerfile.write_bytes(result.new_text.encode("utf-8"))
        say(f"building the {REWRITTEN} image")
        _build(tool, new, copy, dockerfile, plan.rewritten_flags, {}, run_id, build_timeout)

        # 3. run both
        for side in sides:
            if not side.built:
                continue
            side.info = tool.inspect(side.tag)
            created_containers.append(side.container)
            if port is None:
                say(f"running the {side.label} image")
                side.run = tool.run(side.tag, name=side.container, run_args=args, cmd=cmd, timeout=timeout,
                                    want_uid=cmd is not None)  # fmt: skip
            else:
                say(f"running the {side.label} image and requesting GET / on port {port}")
                side.http = tool.serve(side.tag, name=side.container, run_args=args, cmd=cmd, port=port,
                                       timeout=timeout)  # fmt: skip

        # 4. secrets
        if plan.secrets:
            needles = {s.id: s.needles() for s in plan.secrets}
            for s in plan.secrets:
                if not needles[s.id]:
                    say(f"warning: secret `{s.id}` is shorter than {MIN_NEEDLE} bytes; it is not searched for")
            needles = {k: v for k, v in needles.items() if v}
            for side in sides:
                if not side.built:
                    continue
                say(f"searching the {side.label} image for secrets")
                _scan(tool, side, plan.secrets, needles, tmp)

        verdict = compare(orig, new, port=port, secrets=plan.secrets, redactions=redactions)
        if orig.built and new.built and adds_stage(result.original, result.new_text):
            # a split that answers like the original may still lack a library the app loads later (on
            # the request that imports it): the linked libraries of what it carried, as migrate does
            say("comparing the shared libraries the app's files link against")
            lost, problem = lost_libraries(tool, new.tag, orig.tag, tmp)
            if lost:
                verdict.rows.append(("shared libraries", "found", f"{len(lost)} missing", "FAIL"))
                verdict.failures.append("the rewritten image lacks shared libraries the app links against")
                verdict.details.extend(f"{REWRITTEN}: {m.describe()}" for m in lost)
            else:
                verdict.rows.append(("shared libraries", "-", "unknown" if problem else "all found",
                                     "not checked" if problem else "ok"))
                if problem:
                    say(f"{name}: the runtime's shared libraries were not checked: {problem}")
        out.write(format_table(verdict.rows))
        out.flush()
        if not new.built:
            err.write(f"{REWRITTEN} build output (last lines):\n" + "\n".join(_tail(new.build, redactions)) + "\n")
        for line in verdict.details:
            err.write(line + "\n")
        if verdict.failures:
            say(f"{name}: NOT verified: " + "; ".join(dict.fromkeys(verdict.failures)))
            return 1
        say(f"{name}: verified with {tool.name}")
        return 0
    finally:
        with contextlib.suppress(Exception):
            tool.cleanup(containers=created_containers, tags=[s.tag for s in sides], label=run_id, keep=keep)
        if keep:
            say(f"kept images {orig.tag} and {new.tag}, containers {', '.join(created_containers) or '-'},"
                f" build context copy {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def _read_optional(p: Path) -> str | None:
    try:
        return p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _build(tool: Builder, side: Side, context: Path, dockerfile: Path, flags: Sequence[str],
           env: Mapping[str, str], run_id: str, timeout: float) -> None:  # fmt: skip
    t0 = time.monotonic()
    proc = tool.build(context=context, dockerfile=dockerfile, tag=side.tag, flags=flags, label=run_id, env=env,
                      timeout=timeout)  # fmt: skip
    side.build_seconds = time.monotonic() - t0
    side.build = proc
    side.built = proc.ok


def _scan(tool: Builder, side: Side, secrets: Sequence[Secret], needles: Mapping[str, Sequence[bytes]],
          tmp: Path) -> None:  # fmt: skip
    found = scan_metadata(side.info.metadata if side.info else "", secrets)
    archive = tmp / f"{side.label}.tar"
    problem = tool.export(side.tag, archive)
    if problem:
        side.scan_error = problem
        return
    try:
        found |= scan_archive(archive, needles)
    except VerifyError as exc:
        side.scan_error = str(exc)
        return
    finally:
        archive.unlink(missing_ok=True)
    side.secrets_found = found
