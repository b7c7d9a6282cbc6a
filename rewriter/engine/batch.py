"""Run the pipeline over many files: in worker processes, results in a deterministic order.

:func:`process_chunk` is what a worker runs: for each :class:`Job` it finds the configuration,
runs :func:`rewriter.engine.pipeline.process_file` and returns a compact :class:`Outcome` (report record,
message lines, the diff in diff mode, the texts to write in fix mode); it never raises.
:func:`run_batch` hands chunks of jobs (:func:`chunk_sizes`: large first, single files at the end) to
worker processes -- forked and fed over pipes on Linux (:mod:`rewriter.engine.forkpool`), a
``ProcessPoolExecutor`` elsewhere -- or runs them in-process for a few jobs or ``workers == 1``,
keeps a bounded number of chunks in flight, and passes outcomes to a callback strictly in job order,
so output is the same whatever ``workers`` is. Writing is the callback's business (the parent
process, in order). A worker that dies (a crash in a native library) costs only the file that killed
it: the chunk it was on is retried file by file, and the file that kills its worker again gets an
error outcome; the other files are still processed.

:class:`StopSignals` turns SIGINT and SIGTERM into :class:`Interrupted` in the parent, and can
defer them while one file's writes are in progress. Workers ignore SIGINT (a terminal sends it to
the whole process group; the parent decides), keep the default SIGTERM, and on Linux die with the
parent if it is killed outright. Workers are forked on Linux (fast start, modules already loaded).
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import sys
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from rewriter.core import classcode, collector
from rewriter.core.diff import unified_diff
from rewriter.engine.pipeline import FileResult, Status

if TYPE_CHECKING:  # the process pool is imported when --jobs asks for workers, not for one file
    from concurrent.futures import Future, ProcessPoolExecutor


@dataclass(frozen=True)
class Settings:
    """What is the same for every file of a run."""

    mode: str  #: "fix", "diff" or "check"
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] | None = None
    unsafe_fixes: bool = False
    context: str | None = None  #: --context (default: each Dockerfile's folder)
    messages: bool = True  #: per-fix lines for stderr (text format, not --quiet)
    text_report: bool = False  #: text lines for --output
    #: folder the paths of a patch are relative to (None: the current folder)
    patch_base: str | None = None
    #: reuse and keep results whose inputs did not change (:mod:`rewriter.engine.filecache`)
    cache: bool = False


@dataclass(frozen=True)
class Job:
    path: str  #: where to read the file
    display: str  #: how to name it


@dataclass
class Outcome:
    """One file's result, small enough to send between processes."""

    display: str
    status: Status
    error: str | None = None
    record: dict[str, Any] = field(default_factory=dict)  #: :func:`rewriter.faces.report.file_record`
    messages: list[str] = field(default_factory=list)  #: stderr lines (internal errors, then the fixes)
    text: str = ""  #: text-format report lines (``--output`` with ``--format text``)
    diff: str = ""  #: diff mode: the patch for this file and its side files
    #: fix mode: (path, text read, new text) to write, the Dockerfile first (text read None: a new file)
    writes: list[tuple[str, str | None, str]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.status == Status.CHANGED


# --------------------------------------------------------------------------------------------------
# one file


def fix_messages(name: str, result: FileResult, mode: str) -> list[str]:
    """The stderr lines for a processed file (``fixed``/``fix``, suggestions, refusals, notes)."""
    verb = "fixed" if mode == "fix" else "fix"
    lines = [f"{name}:{f.line}: {verb} [{f.transform}] {f.message}" for f in result.fixes]
    lines += [f"{name}:{f.line}: {f.applicability.label} [{f.transform}] {f.message}" for f in result.suggestions]
    for note in result.notes:
        kind = "refused" if note.refusal else "note"
        lines.append(f"{name}:{note.line}: {kind} [{note.transform}] {note.message}")
    if result.build_flags:
        lines.append(f"{name}: build it now with: docker build {' '.join(result.build_flags)} .")
    return lines


def text_lines(result: FileResult) -> str:
    """The text report of one file (``--format text --output FILE``)."""
    lines = [f"{result.path}: {result.status}" + (f": {result.error}" if result.error else "")]
    lines += [f"{result.path}:{f.line}: [{f.transform}] {f.message}" for f in result.fixes]
    lines += [f"{result.path}:{n.line}: note [{n.transform}] {n.message}" for n in result.notes]
    return "".join(line + "\n" for line in lines)


def patch_for(result: FileResult, base: str | None, dockerfile: Path | None = None) -> str:
    """The diff of a result with paths relative to ``base`` (None: as :meth:`FileResult.diff`).

    ``dockerfile`` is where the Dockerfile was read (default: its display path).
    """
    if base is None or result.status != Status.CHANGED:
        return result.diff()
    root = os.path.abspath(base)

    def rel(p: Path | str) -> str:
        return Path(os.path.relpath(os.path.abspath(p), root)).as_posix()

    parts = [unified_diff(rel(dockerfile or result.path), result.original, result.net_edits)]
    ctx = result.context_dir or Path(".")
    for side, (old, _new, edits) in sorted(result.side_files.items()):
        parts.append(unified_diff(rel(ctx / side), old, edits, new_file=side in result.created))
    return "".join(parts)


def process_job(settings: Settings, job: Job) -> Outcome:
    """Run one file; every failure becomes an error outcome."""
    try:
        return _process_job(settings, job)
    except Exception as exc:  # the pipeline never raises; this is the last line of defence
        return _error(job.display, f"internal error: {type(exc).__name__}: {exc}")


def _process_job(settings: Settings, job: Job) -> Outcome:
    from rewriter.engine.pipeline import process_file

    resolved = _resolve(settings, job)
    if isinstance(resolved, Outcome):
        return resolved
    path = Path(job.path)

    def run() -> Outcome:
        result = process_file(path, context_dir=resolved.context, config=resolved.config,
                              transforms=resolved.transforms, display=job.display)
        return outcome_of(result, settings, dockerfile=path)

    key = _cache_key(settings, job, resolved)
    if key is None:
        return run()
    from rewriter.engine import filecache

    store, text = key
    hit = _kept(store, text)
    if hit is not None:
        return hit
    recorder = filecache.Recorder(ignore=_not_inputs(store))
    with recorder.active():
        out = run()
    # errors are not kept (an internal one may be fixed or the machine's); nor, in fix mode, a result
    # that writes (the next run reads what it wrote)
    if out.status != Status.ERROR and not out.record.get("internal_errors") and not out.writes:
        filecache.store(store, text, recorder, _outcome_to(out))
    return out


def _resolve(settings: Settings, job: Job) -> Any:
    """The file's settings (:class:`rewriter.engine.settings.Settings`), or the error outcome."""
    from rewriter.engine.config import ConfigError
    from rewriter.engine.settings import Overrides, UnknownId, resolve

    overrides = Overrides(settings.select, settings.ignore, settings.unsafe_fixes,
                          Path(settings.context) if settings.context is not None else None)
    try:  # each folder's configuration is cached for the run; an error is not: each file reports it
        return resolve(Path(job.path), overrides, cached=True)
    except ConfigError as exc:
        return _error(job.display, str(exc))
    except UnknownId as exc:
        return _error(job.display, f"{exc.source}: unknown transform id {exc.args[0]!r} (see `dockerfix list`)")


def _cache_key(settings: Settings, job: Job, resolved: Any) -> tuple[Path, str] | None:
    """Where the file's result is kept and under which key (None: the run keeps no results)."""
    if not settings.cache:
        return None
    from rewriter.engine import filecache

    store = filecache.folder()
    if store is None:
        return None
    return store, filecache.key_of(settings, resolved.identity, os.path.abspath(job.path), job.display)


def _kept(store: Path, key: str) -> Outcome | None:
    from rewriter.engine import filecache

    hit = filecache.lookup(store, key)
    if hit is None:
        return None
    try:
        return _outcome_from(hit)
    except (KeyError, TypeError, ValueError):  # a damaged entry is a miss
        return None


def kept_outcome(settings: Settings, job: Job) -> Outcome | None:
    """The outcome kept for ``job`` by an earlier run, when nothing it depends on changed; None when
    there is none (this never analyses, and never raises)."""
    try:
        resolved = _resolve(settings, job)
        if isinstance(resolved, Outcome):
            return None
        key = _cache_key(settings, job, resolved)
        return None if key is None else _kept(*key)
    except Exception:  # the worker will analyse it, and report what goes wrong
        return None


@functools.lru_cache(maxsize=4)
def _not_inputs(store: Path) -> tuple[str, ...]:
    """Folders whose files the analysis reads but that are not its inputs: dockerfix's code and tables
    (the key's code digest covers them), the caches, and the Python installation (modules imported on
    first use)."""
    import rewriter
    import transforms

    folders = (Path(rewriter.__file__ or ".").parent, Path(transforms.__file__ or ".").parent, store.parent,
               *{Path(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)})  # Python and its libraries
    return tuple(os.path.join(os.path.realpath(p), "") for p in folders)


def _outcome_to(out: Outcome) -> dict[str, Any]:
    return {"display": out.display, "status": str(out.status), "error": out.error, "record": out.record,
            "messages": out.messages, "text": out.text, "diff": out.diff, "writes": [list(w) for w in out.writes]}


def _outcome_from(value: dict[str, Any]) -> Outcome:
    return Outcome(value["display"], Status(value["status"]), value["error"], record=value["record"],
                   messages=list(value["messages"]), text=value["text"], diff=value["diff"],
                   writes=[(a, b, c) for a, b, c in value["writes"]])


def outcome_of(result: FileResult, settings: Settings, *, dockerfile: Path | None = None) -> Outcome:
    """The outcome of a pipeline result (also used for standard input, in the parent)."""
    from rewriter.faces.report import file_record

    written = settings.mode == "fix" and result.changed
    out = Outcome(result.path, result.status, result.error, record=file_record(result, written=written))
    if result.status == Status.ERROR:
        if settings.text_report:
            out.text = text_lines(result)
        return out
    out.messages = [f"{result.path}: {ie}" for ie in result.internal_errors]
    if settings.messages:
        out.messages += fix_messages(result.path, result, settings.mode)
    if settings.text_report:
        out.text = text_lines(result)
    if settings.mode == "diff":
        out.diff = patch_for(result, settings.patch_base, dockerfile)
    if settings.mode == "fix" and result.changed and dockerfile is not None:
        out.writes.append((str(dockerfile), result.original, result.new_text))
        ctx = result.context_dir if result.context_dir is not None else dockerfile.parent
        out.writes += [(str(ctx / rel), None if rel in result.created else old, new)
                       for rel, (old, new, _e) in sorted(result.side_files.items())]
    return out


def stale_write(writes: Sequence[tuple[str, str | None, str]]) -> str | None:
    """The first file to write whose content is no longer what the worker read, or None.

    A worker reads each file before the parent writes anything, so a side file shared by two
    Dockerfiles (or a file edited during the run) may have changed meanwhile; a file that already
    holds the new text is fine.
    """
    for path, old, new in writes:
        try:
            current: str | None = Path(path).read_bytes().decode("utf-8")
        except FileNotFoundError:
            current = None
        except (OSError, UnicodeDecodeError):
            return path
        if current != old and current != new:
            return path
    return None


def _error(name: str, message: str) -> Outcome:
    from rewriter.faces.report import file_record

    result = FileResult(name, Status.ERROR, error=message)
    return Outcome(name, Status.ERROR, message, record=file_record(result))


def process_chunk(settings: Settings, jobs: Sequence[Job]) -> list[Outcome]:
    """A worker's unit of work: the outcomes of ``jobs``, in order."""
    outcomes = []
    for job in jobs:
        outcomes.append(process_job(settings, job))
        collector.file_done()  # the command line holds the collector off for a process's first files
    classcode.save()  # a forked worker ends without atexit: keep the code of the classes it imported
    return outcomes


def _worker_init(parent: int) -> None:
    """Ignore Ctrl-C (the parent stops the run) and die with the parent (Linux: PR_SET_PDEATHSIG),
    so a parent killed outright never leaves workers behind holding its stdout open."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if sys.platform == "linux":
        with contextlib.suppress(Exception):
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG = 1
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)


# --------------------------------------------------------------------------------------------------
# signals


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived; ``exit_code`` is 128 + the signal number (130, 143)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


class StopSignals:
    """Raise :class:`Interrupted` on SIGINT/SIGTERM in the main thread; ``deferred()`` holds it back.

    Use as a context manager; the previous handlers come back on exit.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.pending: int | None = None
        self._depth = 0
        self._stopped = False
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        if self._depth or self._stopped:
            self.pending = self.pending or signum
            return
        self._stopped = True
        raise Interrupted(signum)

    def __enter__(self) -> StopSignals:
        for sig in self.SIGNALS:
            with contextlib.suppress(ValueError, OSError):  # not the main thread: nothing to do
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        """Finish the block before a signal that arrives inside it takes effect."""
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
        if not self._depth and self.pending is not None and not self._stopped:
            self._stopped = True
            raise Interrupted(self.pending)

    def quiet(self) -> None:
        """From now on only record signals (clean-up after an interruption)."""
        self._stopped = True


# --------------------------------------------------------------------------------------------------
# many files


def default_workers() -> int:
    """The number of cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def chunk_size(count: int, workers: int) -> int:
    """Jobs per chunk: about four chunks per worker, between 1 and 32 files."""
    return max(1, min(32, -(-count // (workers * 4))))


def chunk_sizes(count: int, workers: int) -> list[int]:
    """The sizes of the chunks ``count`` jobs are cut into for ``workers`` (guided scheduling).

    Each chunk takes about a quarter of a worker's share of what is left, between 1 and 32 files: big
    chunks while much is left (few hand-overs), shrinking towards single files at the end, so the
    workers finish within about one file of each other instead of one idling while the other does a
    last chunk of 18 (measured on the corpus, 142 files and 2 workers: ~35 ms of ~330).
    """
    sizes: list[int] = []
    left = count
    while left > 0:
        size = max(1, min(32, left // (workers * 4)))
        sizes.append(size)
        left -= size
    return sizes


#: Fewer files than this run in-process: starting workers would cost more than it saves.
MIN_PARALLEL = 8

Worker = Callable[[Settings, Sequence[Job]], list[Outcome]]


def _context() -> Any:
    # fork is by far the fastest start on Linux and the parent has no threads when the pool starts;
    # elsewhere use the platform default
    if sys.platform == "linux":
        import multiprocessing

        return multiprocessing.get_context("fork")
    return None


def run_batch(
    jobs: Sequence[Job],
    settings: Settings,
    on_outcome: Callable[[Outcome], None],
    *,
    workers: int = 1,
    worker: Worker = process_chunk,
) -> None:
    """Process ``jobs`` and call ``on_outcome`` for each, in order.

    With workers and the result cache (``settings.cache``), the parent first looks for the results
    kept for the files (:func:`kept_outcome`), serving them up to the first file that must be analysed.

    Exceptions from ``on_outcome`` (including :class:`Interrupted`) stop the run: work not yet
    started is cancelled and the pool is shut down before the exception propagates.
    """
    if not jobs:
        return
    if settings.cache and workers > 1 and len(jobs) >= MIN_PARALLEL and worker is process_chunk:
        # a re-run: the parent serves the results kept for the files, in order, up to the first one
        # that must be analysed (~0.1 ms a file, less than sending it to a worker and its outcome back,
        # and nothing is held); that file and those after it go to the workers, which look too
        served = 0
        for job in jobs:
            outcome = kept_outcome(settings, job)
            if outcome is None:
                break
            on_outcome(outcome)
            served += 1
        jobs = jobs[served:]
        if not jobs:
            return
    if workers <= 1 or len(jobs) < MIN_PARALLEL:
        size = chunk_size(len(jobs), 1)
        for i in range(0, len(jobs), size):
            for outcome in worker(settings, jobs[i : i + size]):
                on_outcome(outcome)
        return
    sizes = chunk_sizes(len(jobs), workers)
    if FORK_POOL:
        from rewriter.engine.forkpool import run_ordered

        run_ordered(len(jobs), sizes, lambda s, e: worker(settings, jobs[s:e]), on_outcome, workers=workers,
                    died=lambda i: _error(jobs[i].display, "internal error: the worker process died on this file"),
                    initializer=functools.partial(_worker_init, os.getpid()))
        return
    chunks: deque[list[Job]] = deque()
    start = 0
    for size in sizes:
        chunks.append(list(jobs[start : start + size]))
        start += size
    _Pool(settings, on_outcome, min(workers, len(chunks)), worker).run(chunks)


#: worker processes forked and fed over pipes (:mod:`rewriter.engine.forkpool`) on Linux; elsewhere
#: (macOS, where forking a process that loaded system frameworks is unsafe, and Windows) a
#: ``ProcessPoolExecutor`` with the platform's start method
FORK_POOL = sys.platform == "linux"


class _Pool:
    """The ordered pipeline over a process pool, with recovery from a broken pool."""

    def __init__(self, settings: Settings, on_outcome: Callable[[Outcome], None], workers: int, worker: Worker):
        self.settings = settings
        self.on_outcome = on_outcome
        self.workers = workers
        self.worker = worker
        self.executor: ProcessPoolExecutor | None = None

    def _start(self) -> ProcessPoolExecutor:
        from concurrent.futures import ProcessPoolExecutor

        self.executor = ProcessPoolExecutor(self.workers, mp_context=_context(), initializer=_worker_init,
                                            initargs=(os.getpid(),))
        return self.executor

    def run(self, chunks: deque[list[Job]]) -> None:
        from concurrent.futures.process import BrokenProcessPool

        executor = self._start()
        window = self.workers * 2
        #: (jobs, future, submitted alone): a job submitted alone that breaks the pool is the culprit
        inflight: deque[tuple[list[Job], Future[list[Outcome]], bool]] = deque()
        suspects: deque[Job] = deque()  # after a crash: the jobs that were in flight, one at a time
        breaks = 0  # pool restarts since the last result: a pool that cannot work at all ends the retries
        try:
            while chunks or inflight or suspects:
                try:
                    if suspects:
                        if not inflight:
                            future = executor.submit(self.worker, self.settings, [suspects[0]])
                            inflight.append(([suspects.popleft()], future, True))
                    else:
                        while chunks and len(inflight) < window:
                            future = executor.submit(self.worker, self.settings, chunks[0])
                            inflight.append((chunks.popleft(), future, False))
                    outcomes = inflight[0][1].result()
                    chunk = inflight.popleft()[0]
                    breaks = 0
                except BrokenProcessPool:
                    breaks += 1
                    executor.shutdown(wait=True, cancel_futures=True)
                    if breaks > 3:
                        break
                    executor = self._start()
                    if not (inflight and inflight[0][2]):
                        suspects.extendleft(reversed([j for c, _f, _a in inflight for j in c]))
                        inflight.clear()
                        continue
                    chunk = inflight.popleft()[0]
                    outcomes = [_error(chunk[0].display, "internal error: the worker process died on this file")]
                except Exception:  # e.g. a result that could not be sent back: run the chunk here
                    chunk = inflight.popleft()[0]
                    outcomes = self.worker(self.settings, chunk)
                for outcome in outcomes:
                    self.on_outcome(outcome)
            # the pool kept breaking without a result: finish here, in order
            rest = [j for c, _f, _a in inflight for j in c] + list(suspects) + [j for c in chunks for j in c]
            for outcome in self.worker(self.settings, rest) if rest else []:
                self.on_outcome(outcome)
        finally:
            if self.executor is not None:
                self.executor.shutdown(wait=True, cancel_futures=True)
