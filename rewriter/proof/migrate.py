"""``dockerfix migrate``: the full migration, proved by building and running it, keeping what works.

For each Dockerfile: compute the full migration (every selected codemod, unsafe fixes included,
with the settings and build context every command uses: :func:`rewriter.engine.settings.resolve`), build
and run the original and the candidate with the builder found (the machinery of
:mod:`rewriter.proof.verify`), compare them with checks that need no knowledge of the app, and write the
largest set of codemods whose rewrite still behaves like the original.

The comparison (:func:`differences`)
    * the candidate builds;
    * started with the same arguments, it is in the same state after ``settle`` seconds (still
      running, or exited with the same code);
    * every TCP port the original image exposes (or ``--port``) answers ``GET /`` (or ``--path``) with
      the same HTTP status class (2xx, 3xx, ...) when the original answers at all;
    * its output shows no error signature (permission denied, not found, a traceback, a panic...)
      that the original's does not;
    * with ``--smoke-cmd``, that command prints the same and exits the same.

Keeping what works
    The full candidate first. When it fails, the safe fixes alone are built and compared like any
    candidate ("safe" is a claim; the build is the proof); when they fail too, each codemod's safe
    fixes are added back one at a time in pipeline order and kept only when they behave. Then the
    codemods whose unsafe fixes the full candidate applied are added back one at a time onto the
    kept safe fixes, each kept only when its candidate behaves like the original: at most
    ``--max-builds`` builds per file, the original's included. When nothing behaves like the
    original, not even the safe fixes, the file is left unchanged and the report says why. What is
    dropped is reported with the evidence (the failed checks and the first lines of the build or
    container output). Candidates are told apart by the Dockerfile and their side files (a
    ``.dockerignore`` alone makes another candidate).

    When the original itself does not build or run here, nothing is guessed: only the safe fixes are
    written, and the file is reported "not verified". A build secret whose source is missing (a
    file no longer copied, a variable not set, no SSH agent) leaves the ``secrets`` codemod out.
    ``--no-verify`` writes the full migration without building, labelled unverified. When the original
    builds but cannot be seen working (it exits with an error code, answers on none of its ports, or its
    state cannot be read: :func:`unobserved`), the file is reported unverified with the reason and nothing
    is written: a rewrite that fails the same way proves nothing.

Nothing is written to a file before its verification ends; every image and container made is
removed at the end, also on Ctrl-C.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from rewriter.core.edits import Applicability
from rewriter.engine.pipeline import FileResult, Status, process_file
from rewriter.proof.buildsecrets import plan_secrets, redact
from rewriter.proof.containers import Builder, VerifyError
from rewriter.proof.libraries import adds_stage
from rewriter.proof.verify import copy_context

if TYPE_CHECKING:
    from rewriter.proof.libraries import LibraryCheck

#: output lines that mean something went wrong in the container
ERROR_SIGNATURES = re.compile(
    r"permission denied|operation not permitted|no such file or directory|not found|command not found|"
    r"traceback \(most recent call last\)|^panic:|segmentation fault|cannot open|read-only file system|"
    r"eacces|enoent|address already in use|unable to|failed to",
    re.IGNORECASE | re.MULTILINE,
)
TAG_PREFIX = "localhost/dockerfix-migrate"


@dataclass
class Options:
    """What the user said (see ``dockerfix migrate --help``)."""

    run_args: list[str] = field(default_factory=list)
    smoke_cmd: list[str] | None = None
    ports: list[int] = field(default_factory=list)
    path: str = "/"
    settle: float = 5.0
    timeout: float = 60.0
    max_builds: int = 6
    no_verify: bool = False
    select: Sequence[str] | None = None
    ignore: Sequence[str] | None = None
    context: Path | None = None
    secrets: list[str] = field(default_factory=list)
    keep: bool = False
    build_timeout: float = 1800.0
    env: dict[str, str] = field(default_factory=dict)
    #: try the opt-in ``upgrade`` codemod last, on its own (when it is not selected already)
    upgrade: bool = True
    #: no new candidate is started after this many seconds on one file (None: no limit)
    max_seconds: float | None = None


@dataclass
class Observation:
    """What one image did: built or not, its state after the settle time, its answers, its output."""

    built: bool
    detail: str = ""  # first lines of the build output when it failed
    state: str = ""  # "running", "exited 0", "error: ..."
    answers: dict[int, str] = field(default_factory=dict)  # port -> "2xx" / "answers, not HTTP" / "no answer"
    output: str = ""
    smoke: str | None = None  # exit code and stdout of --smoke-cmd
    size: int | None = None
    user: str = ""
    ports: list[int] = field(default_factory=list)
    tag: str = ""  # the image built (removed when the file is done)


@dataclass
class Outcome:
    """One file's migration."""

    path: str
    status: str  # migrated, partially migrated, unchanged, not verified, unverified, error
    reason: str = ""
    kept: list[str] = field(default_factory=list)
    dropped: dict[str, str] = field(default_factory=dict)
    size_before: int | None = None
    size_after: int | None = None
    user: str = ""
    build_flags: list[str] = field(default_factory=list)
    builds: int = 0
    seconds: float = 0.0
    result: FileResult | None = None  # what is written (None: nothing)
    #: language version moves tried last: {"from", "to", "kept", "evidence"}
    upgrades: list[dict] = field(default_factory=list)
    #: packages the split's runtime installs because the build showed the app links their libraries
    runtime_packages: list[str] = field(default_factory=list)

    def record(self) -> dict:
        return {
            "file": self.path, "status": self.status, "reason": self.reason, "kept": self.kept,
            "dropped": self.dropped, "size_before": self.size_before, "size_after": self.size_after,
            "user": self.user, "build_flags": self.build_flags, "builds": self.builds,
            "seconds": round(self.seconds, 1), "upgrades": self.upgrades,
            "runtime_packages": self.runtime_packages,
        }  # fmt: skip


def _status_class(status: int | None) -> str:
    return "no answer" if status is None else f"{status // 100}xx"


def _ports(metadata: str) -> list[int]:
    return sorted({int(p) for p in re.findall(r'"(\d{1,5})/tcp"', metadata)})


#: a line a program marks as information only (``info:``, ``[notice]``, ``INFO``): not an error
_INFORMATIONAL = re.compile(r"\b(?:info|notice|debug)\b\s*[:\]]|\[(?:info|notice|debug)\]|^\S*\s*(?:INFO|DEBUG)\b",
                            re.IGNORECASE)


def _signatures(text: str) -> set[str]:
    """The error signatures in ``text``, lines marked as information left out."""
    return {m.group(0).lower() for line in text.splitlines() if not _INFORMATIONAL.search(line)
            for m in ERROR_SIGNATURES.finditer(line)}


def unobserved(orig: Observation) -> str | None:
    """Why the original cannot serve as evidence (``None``: it was seen working).

    Seen working: still running after the settle time and answering on at least one of its ports (or
    having none), or ended with exit code 0 (a one-shot command). Not seen: it ended with another code,
    its state is unknown, or none of its ports answered — then a rewrite that does the same proves
    nothing (absence of evidence on both sides is not equal behaviour).
    """
    if not orig.state:
        return "the original's state could not be read"
    if orig.state.startswith("exited") and orig.state != "exited 0":
        return (f"the original {orig.state.replace('exited', 'exits with code')} here (it may need a service, a"
                " variable or a volume this run does not give it)")
    if orig.state == "running" and orig.answers and all(a == "no answer" for a in orig.answers.values()):
        ports = ", ".join(str(p) for p in orig.answers)
        return f"the original answers on none of its ports ({ports}) within --timeout"
    return None


def differences(orig: Observation, new: Observation, smoke: bool) -> list[str]:
    """The checks ``new`` fails against ``orig`` (empty: it behaves like the original)."""
    if not new.built:
        return ["the rewrite does not build"]
    out: list[str] = []
    if new.state != orig.state:
        out.append(f"state after the settle time: {orig.state} before, {new.state} after")
    for port, answer in orig.answers.items():
        if answer != "no answer" and new.answers.get(port) != answer:
            out.append(f"port {port}: {answer} before, {new.answers.get(port, 'not probed')} after")
    fresh = _signatures(new.output) - _signatures(orig.output)
    if fresh:
        out.append("new errors in the output: " + ", ".join(sorted(fresh)))
    if smoke and new.smoke != orig.smoke:
        out.append("--smoke-cmd answers differently")
    return out


class Lab:
    """Builds, runs and probes images for one file, within a build budget; cleans up after itself."""

    def __init__(self, tool: Builder, opts: Options, context: Path, dockerfile: Path) -> None:
        self.tool = tool
        self.opts = opts
        self.context = context
        self.dockerfile = dockerfile
        self.run_id = uuid.uuid4().hex[:12]
        self.tags: list[str] = []
        self.containers: list[str] = []
        self.builds = 0
        self.tmp = Path(tempfile.mkdtemp(prefix="dockerfix-migrate-"))
        self.libraries: LibraryCheck | None = None
        #: of the last library check: the original's packages that had what the rewrite lacks, and
        #: whether every missing library has one (then installing them is a candidate worth a build)
        self.missing_packages: list[str] = []
        self.missing_only = False
        self.t0 = time.monotonic()

    def spent(self) -> str | None:
        """Why no further candidate may be built (the build budget or the time per file is used up)."""
        if self.builds >= self.opts.max_builds:
            return f"the build budget (--max-builds {self.opts.max_builds}) is used up"
        if self.opts.max_seconds is not None and time.monotonic() - self.t0 >= self.opts.max_seconds:
            return f"the time for this file (--max-seconds-per-file {self.opts.max_seconds:g}) is used up"
        return None

    def build_timeout(self) -> float:
        """A build may take what is left of the file's time (and never more than --build-timeout)."""
        if self.opts.max_seconds is None:
            return self.opts.build_timeout
        left = self.opts.max_seconds - (time.monotonic() - self.t0)
        return max(1.0, min(self.opts.build_timeout, left))

    def observe(self, label: str, text: str, side_files: dict[str, str], flags: Sequence[str],
                env: dict[str, str], redactions: Sequence[str], ports: Sequence[int] = ()) -> Observation:
        """Build ``text`` (with its side files) in a fresh copy of the context, then run and probe it."""
        self.builds += 1
        work = self.tmp / f"{label}-{self.builds}"
        copy_context(self.context, work)
        try:
            rel = self.dockerfile.resolve().relative_to(self.context.resolve())
            dockerfile = work / rel
        except ValueError:
            dockerfile = self.tmp / f"dockerfile-{self.builds}" / self.dockerfile.name
        for rel_side, content in side_files.items():
            target = work / rel_side
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.is_symlink():
                target.unlink()
            target.write_text(content, encoding="utf-8")
        dockerfile.parent.mkdir(parents=True, exist_ok=True)
        dockerfile.write_text(text, encoding="utf-8")
        # an image tag allows [A-Za-z0-9_.-] only (a label such as "safe fixes" must not break the build)
        tag = f"{TAG_PREFIX}-{self.run_id}:{re.sub(r'[^A-Za-z0-9_.-]', '-', label)}-{self.builds}"
        self.tags.append(tag)
        proc = self.tool.build(context=work, dockerfile=dockerfile, tag=tag, flags=flags, label=self.run_id,
                               env=env, timeout=self.build_timeout())
        if not proc.ok:
            lines = redact(proc.stdout + proc.stderr, redactions).splitlines()
            return Observation(False, detail=" | ".join(lines[-6:])[-600:])
        info = self.tool.inspect(tag)
        obs = Observation(True, size=info.size if info else None, user=info.user if info else "",
                          ports=list(ports) or (_ports(info.metadata) if info else []), tag=tag)
        name = f"dockerfix-migrate-{self.run_id}-{self.builds}"
        self.containers.append(name)
        run = self.tool.run(tag, name=name, run_args=self.opts.run_args, cmd=None, timeout=self.opts.settle,
                            want_uid=False)
        obs.output = redact(run.stdout + run.stderr, redactions)
        if run.error:
            obs.state = "error: " + redact(run.error, redactions)[:200]
        elif run.timed_out:
            obs.state = "running"
        else:
            obs.state = f"exited {run.exit_code}"
        if obs.state == "running":
            for port in obs.ports[:3]:
                pname = f"{name}-p{port}"
                self.containers.append(pname)
                http = self.tool.serve(tag, name=pname, run_args=self.opts.run_args, cmd=None, port=port,
                                       timeout=self.opts.timeout, path=self.opts.path)
                obs.answers[port] = "answers, not HTTP" if http.not_http else _status_class(http.status)
                obs.output += redact(http.logs, redactions)
        if self.opts.smoke_cmd:
            sname = f"{name}-smoke"
            self.containers.append(sname)
            smoke = self.tool.run(tag, name=sname, run_args=self.opts.run_args, cmd=self.opts.smoke_cmd,
                                  timeout=self.opts.timeout, want_uid=False)
            obs.smoke = f"{smoke.exit_code}\n{smoke.stdout}"
        return obs

    def lost_libraries(self, original: Observation, candidate: Observation) -> tuple[list[str], str | None]:
        """The shared libraries the candidate's app files need that the original had and it lacks
        (:mod:`rewriter.proof.libraries`), as differences; with the reason when it could not look."""
        from rewriter.proof.libraries import LibraryCheck

        if self.libraries is None:
            self.libraries = LibraryCheck(self.tool, original.tag, self.tmp)
        missing, problem = self.libraries.lost(candidate.tag)
        self.missing_packages = list(dict.fromkeys(m.package for m in missing if m.package))
        self.missing_only = bool(missing) and all(m.package for m in missing)
        return [m.describe() for m in missing], problem

    def cleanup(self) -> None:
        if self.libraries is not None:
            self.libraries.close()
        with contextlib.suppress(Exception):
            self.tool.cleanup(containers=self.containers, tags=self.tags, label=self.run_id, keep=self.opts.keep)
        if not self.opts.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)


_MOVE = re.compile(r"^(\S+) (\S+) is past end of life.*\((\S+) (\S+), the nearest supported version\)")


def _move_of(result: FileResult) -> tuple[str, str]:
    """(from, to) of the upgrade fix applied in ``result`` ("Python 3.9", "Python 3.12")."""
    for fix in result.fixes:
        if fix.transform == "upgrade":
            m = _MOVE.match(fix.message)
            if m:
                return f"{m.group(1)} {m.group(2)}", f"{m.group(3)} {m.group(4)}"
            return "?", fix.message.split(":", 1)[0]
    return "?", "?"


def _unsafe_ids(result: FileResult, order: Sequence[str]) -> list[str]:
    """The codemods whose unsafe fixes the result applied, in pipeline order."""
    used = {f.transform for f in result.fixes if f.applicability == Applicability.UNSAFE}
    return [t for t in order if t in used]


Candidate = tuple[FileResult, "Observation | None"]


def _add_back(ids: Sequence[str], candidate: Callable[[list[str], str], FileResult], label: str, best: Candidate,
              attempt: Callable[[FileResult, str], tuple[list[str], Observation | None]], lab: Lab, opts: Options,
              dropped: dict[str, str], *, why: str = "", keep_unchanged: bool = False) -> tuple[list[str], Candidate]:
    """Add the codemods ``ids`` back one at a time, in pipeline order: each candidate (``candidate(kept,
    tid)``) is built and kept only when it behaves like the original; one that adds nothing to ``best``
    costs no build (and its codemod counts as kept with ``keep_unchanged``). Returns the codemods kept
    and the best candidate."""
    kept: list[str] = []
    for tid in ids:
        cand = candidate(kept, tid)
        if cand.new_text == best[0].new_text and cand.side_files == best[0].side_files:
            if keep_unchanged:
                kept.append(tid)
            continue
        spent = lab.spent()
        if spent:
            dropped[tid] = f"not tried: {spent}"
            continue
        failed, obs = attempt(cand, f"{label}-{tid}")
        if failed:
            dropped[tid] = why + "; ".join(failed)
        else:
            kept.append(tid)
            best = (cand, obs)
    return kept, best


def migrate_file(path: Path, opts: Options, tool_of: Callable[[], Builder],
                 say: Callable[[str], None] = lambda _m: None) -> Outcome:
    """Migrate one Dockerfile (nothing written here: the caller writes ``outcome.result``)."""
    from rewriter.engine.config import ConfigError
    from rewriter.engine.settings import Overrides, resolve
    from transforms import UnknownTransform

    t0 = time.monotonic()
    name = str(path)
    try:
        resolved = resolve(path, Overrides(opts.select, opts.ignore, True, opts.context))
    except ConfigError as exc:
        return Outcome(name, "error", str(exc))
    except UnknownTransform as exc:
        return Outcome(name, "error", f"unknown transform id {exc.args[0]!r} (see `dockerfix list`)")
    cfg, chosen = resolved.config, list(resolved.transforms)
    context = resolved.context or path.parent  # a Dockerfile on disk always has one
    order = [t.id for t in chosen]

    learned: dict[str, tuple[str, ...]] = {}  #: runtime packages the builds showed the split needs
    added_packages: list[str] = []

    def rewrite(unsafe_for: Sequence[str] | None, transforms: Sequence = chosen) -> FileResult:
        config = cfg if not learned else replace(cfg, runtime_packages={
            k: tuple(dict.fromkeys([*cfg.runtime_packages.get(k, ()), *v])) for k, v in learned.items()})
        return process_file(path, context_dir=context, config=config, transforms=transforms, unsafe_fixes=True,
                            unsafe_for=unsafe_for)

    full = rewrite(None)
    if full.status == Status.ERROR:
        return Outcome(name, "error", full.error or "cannot rewrite", seconds=time.monotonic() - t0)
    if not full.changed:
        return Outcome(name, "unchanged", "nothing to migrate", seconds=time.monotonic() - t0)
    if opts.no_verify:
        return Outcome(name, "unverified", "--no-verify: the full migration, not built", _unsafe_ids(full, order),
                       build_flags=list(full.build_flags), seconds=time.monotonic() - t0, result=full)
    tool = tool_of()
    lab = Lab(tool, opts, context, path)
    dropped: dict[str, str] = {}
    try:
        # secrets whose sources are missing: leave the secrets codemod out
        try:
            plan_secrets(full.build_secrets, context=context.absolute(), original_text=full.original, env=opts.env,
                         user_secrets=opts.secrets)
        except VerifyError as exc:
            dropped["secrets"] = f"a build secret's source is missing: {exc}"
            chosen = [t for t in chosen if t.id != "secrets"]
            order = [t.id for t in chosen]
            full = rewrite(None, chosen)
            if not full.changed:
                return Outcome(name, "unchanged", dropped["secrets"], dropped=dropped,
                               seconds=time.monotonic() - t0)
        base_plan = plan_secrets((), context=context.absolute(), original_text=full.original, env=opts.env,
                                 user_secrets=opts.secrets)
        say(f"{name}: building and running the original")
        original = lab.observe("original", full.original, {}, base_plan.original_flags,
                               {**opts.env, **base_plan.original_env}, base_plan.redactions(), opts.ports)
        safe = rewrite(())
        if not original.built or original.state.startswith("error"):
            why = ("the original does not build here (" + original.detail + ")" if not original.built
                   else f"the original does not run here ({original.state})")
            return Outcome(name, "not verified", why + "; only the safe fixes were applied",
                           build_flags=list(safe.build_flags), builds=lab.builds,
                           seconds=time.monotonic() - t0, result=safe if safe.changed else None)
        blind = unobserved(original)
        if blind:
            # no positive evidence that the original works here: nothing to compare a rewrite against
            return Outcome(name, "unverified", blind + "; nothing was written (pass --port, --smoke-cmd, --env or"
                           " --run-args so that the original can be seen working)", builds=lab.builds,
                           size_before=original.size, seconds=time.monotonic() - t0)
        tested: dict[tuple[str, tuple[tuple[str, str], ...]], list[str]] = {}

        def attempt(result: FileResult, label: str) -> tuple[list[str], Observation | None]:
            sides = {rel: new for rel, (_old, new, _e) in result.side_files.items()}
            key = (result.new_text, tuple(sorted(sides.items())))  # a .dockerignore alone makes another candidate
            if key in tested:
                return tested[key], None
            lab.missing_packages, lab.missing_only = [], False
            plan = plan_secrets(result.build_secrets, context=context.absolute(), original_text=result.original,
                                env=opts.env, user_secrets=opts.secrets)
            say(f"{name}: building and running the rewrite ({label})")
            obs = lab.observe(label, result.new_text, sides, plan.rewritten_flags, opts.env, plan.redactions(),
                              original.ports)
            failed = differences(original, obs, bool(opts.smoke_cmd))
            if obs.built and adds_stage(result.original, result.new_text):
                # a split that answers like the original may still lack a library the app loads later
                # (on the request that imports it): compare the linked libraries of what it carried. One
                # that fails anyway is read too: the packages it lacks make the next candidate
                lost, problem = lab.lost_libraries(original, obs)
                failed = failed + [x for x in lost if x not in failed]
                if problem:
                    say(f"{name}: the runtime's shared libraries were not checked: {problem}")
            if failed and obs.built is False:
                failed = [f"{failed[0]}: {obs.detail}"]
            elif failed and obs.output:
                tail = [ln for ln in obs.output.splitlines() if ln.strip()][-3:]
                failed.append("output: " + " | ".join(tail)[-400:])
            tested[key] = failed
            return failed, obs

        upgrades: list[dict] = []

        def try_upgrade(kept_ids: list[str], best: Candidate) -> Candidate:
            """The opt-in version move, tried last and on its own on top of what is kept; kept only when it
            behaves like the original (reported apart from the codemods either way)."""
            if not opts.upgrade or "upgrade" in order:
                return best
            from transforms import REGISTRY, load

            with_upgrade = [load(tid) for tid, _m in REGISTRY if tid == "upgrade" or tid in order]
            cand = rewrite([*kept_ids, "upgrade"], with_upgrade)
            if not any(f.transform == "upgrade" for f in cand.fixes) or cand.new_text == best[0].new_text:
                return best
            move_from, move_to = _move_of(cand)
            spent = lab.spent()
            if spent:
                upgrades.append({"from": move_from, "to": move_to, "kept": False, "evidence": f"not tried: {spent}"})
                return best
            failed, obs = attempt(cand, "upgrade")
            upgrades.append({"from": move_from, "to": move_to, "kept": not failed,
                             "evidence": "; ".join(failed) if failed else "builds, runs and answers like the original"})
            return best if failed else (cand, obs)

        failed, obs = attempt(full, "full")
        packages = lab.missing_packages
        if failed and packages and lab.missing_only:
            # the split's runtime lacks libraries the original had from these packages: the runtime
            # installs them (the same-family slim image when distroless cannot), and the build decides
            say(f"{name}: the split's runtime lacks {', '.join(packages)}; trying it with the runtime installing them")
            learned["apt"] = tuple(packages)
            retry = rewrite(None)
            # worth a build only when the split is still made, now with the packages in its runtime
            if retry.new_text != full.new_text and adds_stage(retry.original, retry.new_text) and all(
                    p in retry.new_text for p in packages):
                again, obs_again = attempt(retry, "full-with-packages")
                if not again:
                    full, failed, obs = retry, [], obs_again
                    added_packages.extend(packages)
                else:
                    say(f"{name}: with {', '.join(packages)} installed it still differs ({'; '.join(again)})")
            if failed:
                learned.clear()
        if not failed:
            kept_ids = _unsafe_ids(full, order)
            full, obs = try_upgrade(kept_ids, (full, obs))
            return Outcome(name, "migrated", "", kept_ids, dropped, original.size,
                           obs.size if obs else None, obs.user if obs else "", list(full.build_flags), lab.builds,
                           time.monotonic() - t0, full, upgrades, added_packages)
        say(f"{name}: the full migration does not behave like the original ({'; '.join(failed)}); "
            "adding the codemods back one at a time")

        def only(ids: Sequence[str]) -> list:
            return [t for t in chosen if t.id in ids]

        best: Candidate = (safe, None)
        base = list(order)  # the codemods whose safe fixes every candidate keeps
        spent = lab.spent()
        if spent:
            return Outcome(name, "unchanged", f"the full migration does not behave like the original "
                           f"({'; '.join(failed)}) and no other candidate was tried: {spent}",
                           [], {t: f"not tried: {spent}" for t in _unsafe_ids(full, order)}, original.size, None,
                           "", [], lab.builds, time.monotonic() - t0)
        if safe.changed and safe.new_text != full.new_text:
            # the safe fixes are verified like any candidate: "safe" is a claim, the build is the proof
            failed, obs = attempt(safe, "safe")
            if not failed:
                best = (safe, obs)
            else:
                say(f"{name}: the safe fixes alone do not behave like the original ({'; '.join(failed)}); "
                    "adding each codemod's safe fixes back one at a time")
                # each codemod's safe fixes, kept only when they behave (a codemod without any stays)
                base, best = _add_back(order, lambda kept, tid: rewrite((), only([*kept, tid])), "safe",
                                       (rewrite((), []), None), attempt, lab, opts, dropped,
                                       why="its safe fixes do not behave like the original: ", keep_unchanged=True)

        # every codemod in pipeline order (one whose unsafe fixes only show once another is left out, such
        # as nonroot's USER when the distroless split is dropped, gets its chance too); a candidate that
        # adds nothing to what is kept costs no build
        kept, best = _add_back(base, lambda kept, tid: rewrite([*kept, tid], only(base)), "with", best, attempt,
                               lab, opts, dropped)
        if best[0].changed:
            best = try_upgrade(kept, best)
        result, obs = best
        if not result.changed:
            return Outcome(name, "unchanged", "no codemod's rewrite behaves like the original, not even its safe "
                           "fixes: the file is left as it is", [], dropped, original.size, None, "", [], lab.builds,
                           time.monotonic() - t0)
        status = "migrated" if not dropped else ("partially migrated" if kept else "safe fixes only")
        return Outcome(name, status, "", kept, dropped, original.size, obs.size if obs else None,
                       obs.user if obs else "", list(result.build_flags), lab.builds, time.monotonic() - t0, result,
                       upgrades)
    except VerifyError as exc:
        return Outcome(name, "error", str(exc), builds=lab.builds, seconds=time.monotonic() - t0)
    finally:
        lab.cleanup()


def _size(n: int | None) -> str:
    return "-" if n is None else f"{n / 1e6:.1f} MB"


def format_outcome(o: Outcome) -> str:
    """A short table for one file."""
    rows = [("file", o.path), ("status", o.status + (f": {o.reason}" if o.reason else ""))]
    rows.append(("kept", ", ".join(o.kept) or "-"))
    for tid, why in o.dropped.items():
        rows.append((f"dropped {tid}", why))
    if o.runtime_packages:
        rows.append(("runtime installs", ", ".join(o.runtime_packages)
                     + " (the app's files link their libraries: found by reading the built images)"))
    for up in o.upgrades:
        rows.append((f"upgrade {up['from']} -> {up['to']}", ("kept: " if up["kept"] else "dropped: ") + up["evidence"]))
    rows.append(("image size", f"{_size(o.size_before)} -> {_size(o.size_after)}"))
    rows.append(("user", o.user or "-"))
    rows.append(("build flags now", " ".join(o.build_flags) or "-"))
    rows.append(("builds / seconds", f"{o.builds} / {o.seconds:.0f}"))
    width = max(len(k) for k, _v in rows)
    return "".join(f"{k.ljust(width)}  {v}\n" for k, v in rows)


def to_json(outcomes: Sequence[Outcome]) -> str:
    return json.dumps({"files": [o.record() for o in outcomes]}, indent=2) + "\n"
