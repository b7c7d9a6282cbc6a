"""Worker processes forked from this one and fed over pipes: the pool behind batch runs on Linux.

Why not ``concurrent.futures.ProcessPoolExecutor``: importing it (multiprocessing, with its
sockets, ``tempfile`` and ``subprocess``) took 18-29 ms on the project's 2-core machine, serially in
the parent before any worker could start -- about a fourteenth of checking the 142-file corpus. A
forked worker needs none of it: it inherits the jobs, the settings and the function, so a task is two
integers (a range of job indices) and a result is one pickled list.

How it works:

* each worker has a task pipe and a result pipe; a message is 8 bytes of length and a pickle;
* a worker runs the tasks it is sent in order and answers each with ``(start, "ok", outcomes)`` or,
  when the function raised, ``(start, "error", text)``; at the end of its task pipe it exits with
  ``os._exit`` (never returning into the parent's stack);
* the parent sends at most :data:`DEPTH` tasks to a worker, so a worker never waits for its next one,
  and reads whichever worker answers first (``poll``);
* a worker that ends before answering (a crash in a native library) died on the first task it had
  not answered: that task is the culprit (its other tasks had not started and go back to the queue);
  a worker that failed outside any task (it could not start) exits with :data:`NOT_A_TASK` and
  blames none.

:func:`run_ordered` delivers the outcomes strictly in job order; a crash costs only the file that
caused it (a chunk is retried file by file, and a file that kills its worker gets an error outcome),
an exception in a worker runs that chunk in the parent, and a pool whose workers keep dying without
any result finishes the run in the parent. Workers ignore SIGINT and die with the parent
(``initializer``); an exception in the parent (``Interrupted``) stops them with SIGTERM.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import signal
import sys
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

#: tasks sent to a worker before it answered the first
DEPTH = 2
#: pool restarts without a single result before the run is finished in the parent
MAX_BREAKS = 3

_HEADER = 8
#: a worker's exit status when it failed outside any task (it could not start, a pipe broke): no file
#: is to blame, its tasks go back to the queue
NOT_A_TASK = 70


@dataclass
class _Worker:
    pid: int
    tasks: int  #: the write end of its task pipe
    results: int  #: the read end of its result pipe
    sent: deque[tuple[int, int, bool]] = field(default_factory=deque)  #: (start, end, alone), in order


def _write_message(fd: int, payload: bytes) -> None:
    view = memoryview(len(payload).to_bytes(_HEADER, "little") + payload)
    while view:
        view = view[os.write(fd, view):]


def _read_exactly(fd: int, size: int) -> bytes | None:
    parts: list[bytes] = []
    while size:
        part = os.read(fd, min(size, 1 << 20))
        if not part:
            return None
        parts.append(part)
        size -= len(part)
    return b"".join(parts)


def _read_message(fd: int) -> bytes | None:
    """One message, or None at the end of the pipe (also in the middle of a message: a writer died)."""
    header = _read_exactly(fd, _HEADER)
    if header is None:
        return None
    return _read_exactly(fd, int.from_bytes(header, "little"))


def _child(tasks: int, results: int, work: Callable[[int, int], Any], initializer: Callable[[], None]) -> None:
    """A worker's life: run each task it is sent, answer, and exit at the end of its task pipe."""
    code = 0
    try:
        initializer()
        while (message := _read_message(tasks)) is not None:
            start, end = pickle.loads(message)
            try:
                answer = pickle.dumps((start, "ok", work(start, end)), pickle.HIGHEST_PROTOCOL)
            except BaseException as exc:  # reported: the parent runs the task itself
                answer = pickle.dumps((start, "error", f"{type(exc).__name__}: {exc}"), pickle.HIGHEST_PROTOCOL)
            _write_message(results, answer)
    except BaseException:  # a worker must never return into the parent's code
        code = NOT_A_TASK
    finally:
        os._exit(code)


class _Pool:
    def __init__(self, size: int, work: Callable[[int, int], Any], initializer: Callable[[], None]) -> None:
        self.work = work
        self.initializer = initializer
        self.workers: list[_Worker] = []
        for _ in range(size):
            if not self.spawn():
                break

    def spawn(self) -> bool:
        """Fork one more worker; False when the system refuses (the run goes on with fewer)."""
        try:
            self._fork()
        except OSError:
            return False
        return True

    def _fork(self) -> None:
        for stream in (sys.stdout, sys.stderr):  # a child must not write out the parent's buffered text
            with contextlib.suppress(OSError, ValueError, AttributeError):
                stream.flush()
        task_r, task_w = os.pipe()
        result_r, result_w = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            for fd in (task_r, task_w, result_r, result_w):
                os.close(fd)
            raise
        if pid == 0:  # the child: keep only its own ends (a sibling's must not hold a pipe open)
            os.close(task_w)
            os.close(result_r)
            for other in self.workers:
                os.close(other.tasks)
                os.close(other.results)
            _child(task_r, result_w, self.work, self.initializer)
        os.close(task_r)
        os.close(result_w)
        self.workers.append(_Worker(pid, task_w, result_r))

    def send(self, worker: _Worker, task: tuple[int, int, bool]) -> bool:
        """Send ``task``; False when the worker's pipe is closed (it died: its end is read next)."""
        try:
            _write_message(worker.tasks, pickle.dumps(task[:2], pickle.HIGHEST_PROTOCOL))
        except BrokenPipeError:
            return False
        worker.sent.append(task)
        return True

    def bury(self, worker: _Worker) -> bool:
        """Reap a worker whose result pipe ended; whether a task killed it (not :data:`NOT_A_TASK`)."""
        self.workers.remove(worker)
        os.close(worker.tasks)
        os.close(worker.results)
        try:
            _pid, status = os.waitpid(worker.pid, 0)
        except ChildProcessError:
            return True
        return not (os.WIFEXITED(status) and os.WEXITSTATUS(status) == NOT_A_TASK)

    def close(self, stop: bool) -> None:
        """End the workers: at the end of their task pipes, or (``stop``) with SIGTERM right away."""
        for worker in self.workers:
            os.close(worker.tasks)
            if stop:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(worker.pid, signal.SIGTERM)
        for worker in self.workers:
            os.close(worker.results)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(worker.pid, 0)
        self.workers = []


def run_ordered(
    count: int,
    sizes: Sequence[int],
    work: Callable[[int, int], list[Any]],
    on_result: Callable[[Any], None],
    *,
    workers: int,
    died: Callable[[int], Any],
    initializer: Callable[[], None] = lambda: None,
) -> None:
    """Run ``work(start, end)`` over ``count`` items cut into chunks of ``sizes``, in forked workers, and
    pass each result of each chunk to ``on_result`` in item order.

    ``died(i)`` is the result for item ``i`` when it killed its worker twice (alone the second time).
    """
    pending: deque[tuple[int, int, bool]] = deque()
    start = 0
    for size in sizes:
        pending.append((start, start + size, False))
        start += size
    done: dict[int, tuple[int, list[Any]]] = {}  # start -> (end, results)
    delivered = 0
    breaks = 0
    #: chunks sent or answered but not yet delivered, at most: while one worker is slow on the next
    #: chunk to deliver, the others do not run ahead through the whole batch (the parent's memory)
    window = workers * 2 * DEPTH
    stopped = True
    pool = _Pool(min(workers, len(pending)), work, initializer)
    try:
        while delivered < count:
            while delivered in done:  # in order, as soon as the next chunk is there
                end, results = done.pop(delivered)
                for result in results:
                    on_result(result)
                delivered = end
            if delivered >= count:
                break
            if not pool.workers:  # the pool kept dying without a result: finish here, in order
                for s, e, _alone in sorted(pending):
                    done[s] = (e, work(s, e))
                pending.clear()
                continue
            held = len(done) + sum(len(w.sent) for w in pool.workers)
            for worker in pool.workers:
                # the next chunk to deliver is always sent: held chunks wait for it, it must never wait
                while (pending and len(worker.sent) < DEPTH and (held < window or pending[0][0] == delivered)
                       and pool.send(worker, pending[0])):
                    pending.popleft()
                    held += 1
            # every worker is watched, busy or not: one that died before its first task (or while a task
            # was being sent) ends its result pipe too
            listening = {w.results: w for w in pool.workers}
            poller = select.poll()  # poll, not select: no limit on the descriptors' numbers
            for fd in listening:
                poller.register(fd, select.POLLIN)
            for fd, _event in poller.poll():  # readable, or the writer's end closed (POLLHUP)
                worker = listening[fd]
                message = _read_message(fd)
                if message is None:  # it died, on the first task it had not answered (if any)
                    if not pool.bury(worker):  # not in a task: nothing to blame
                        pending.extendleft(reversed(worker.sent))
                        worker.sent.clear()
                    if worker.sent:
                        s, e, alone = worker.sent.popleft()
                        pending.extendleft(reversed(worker.sent))  # sent after the culprit: not started
                        if alone:  # it killed its worker twice, the second time alone
                            done[s] = (e, [died(s)])
                        else:  # which file of the chunk? each alone, in order, first in the queue
                            pending.extendleft(reversed([(i, i + 1, True) for i in range(s, e)]))
                    breaks += 1
                    if breaks <= MAX_BREAKS:
                        pool.spawn()
                    continue
                s, status, value = pickle.loads(message)
                sent_s, e, _alone = worker.sent.popleft()
                if s != sent_s:
                    raise RuntimeError(f"worker answered task {s}, expected {sent_s}")
                breaks = 0
                done[s] = (e, value if status == "ok" else work(s, e))  # an exception: run it here
        stopped = False
    finally:
        pool.close(stop=stopped)
