"""The forked worker pool of batch runs (rewriter.engine.forkpool): order, crashes, errors, clean-up."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rewriter.engine import forkpool
from rewriter.engine.batch import chunk_sizes

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the fork pool is used on Linux")
PARENT = os.getpid()


@pytest.fixture(autouse=True)
def _deadline() -> Iterator[None]:
    """A hang (a worker never answered, a pipe never closed) fails the test instead of the run."""

    def hang(_sig: int, _frame: Any) -> None:
        raise TimeoutError("the pool hung")

    old = signal.signal(signal.SIGALRM, hang)
    signal.alarm(60)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


def _children() -> set[int]:
    """This process's live (or unreaped) children, from /proc."""
    out = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as fh:
                    if int(fh.read().rsplit(b")", 1)[1].split()[1]) == PARENT:
                        out.add(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    return out


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _run(count: int, work: Any, workers: int = 2, sizes: list[int] | None = None, **kw: Any) -> list[Any]:
    seen: list[Any] = []
    forkpool.run_ordered(count, sizes or chunk_sizes(count, workers), work, seen.append, workers=workers,
                         died=lambda i: ("died", i), **kw)
    return seen


def _pids(s: int, e: int) -> list[tuple[int, int]]:
    return [(i, os.getpid()) for i in range(s, e)]


@settings(max_examples=25, deadline=None)
@given(count=st.integers(1, 120), workers=st.integers(1, 4), seed=st.integers(0, 1000))
def test_results_come_in_item_order_whatever_finishes_first(count: int, workers: int, seed: int) -> None:
    def work(s: int, e: int) -> list[int]:
        time.sleep(((s * 7919 + seed) % 5) / 2000)  # chunks finish out of order
        return list(range(s, e))

    fds = _fds()
    assert _run(count, work, workers) == list(range(count))
    assert _fds() == fds and not _children()  # every pipe closed, every worker reaped


def test_the_work_runs_in_forked_workers() -> None:
    seen = _run(60, _pids)
    assert [i for i, _pid in seen] == list(range(60))
    pids = {pid for _i, pid in seen}
    assert PARENT not in pids and len(pids) == 2


def test_a_crash_costs_only_the_item_that_caused_it() -> None:
    def work(s: int, e: int) -> list[Any]:
        if s <= 13 < e and os.getpid() != PARENT:
            os._exit(3)  # a crash in native code: no exception, no answer
        return list(range(s, e))

    seen = _run(40, work)
    assert seen == [*range(13), ("died", 13), *range(14, 40)]
    assert not _children()


def test_an_exception_in_a_worker_runs_that_chunk_in_the_parent() -> None:
    def work(s: int, e: int) -> list[Any]:
        if s <= 7 < e and os.getpid() != PARENT:
            raise ValueError("only in a worker")
        return [(i, os.getpid() == PARENT) for i in range(s, e)]

    seen = _run(30, work)
    assert [i for i, _p in seen] == list(range(30))
    assert [i for i, in_parent in seen if in_parent] == [i for i in range(30) if any(
        s <= 7 < s + n and s <= i < s + n for s, n in _starts(chunk_sizes(30, 2)))]


def _starts(sizes: list[int]) -> list[tuple[int, int]]:
    out, s = [], 0
    for n in sizes:
        out.append((s, n))
        s += n
    return out


def test_workers_that_cannot_start_leave_the_run_to_the_parent() -> None:
    def init() -> None:
        raise OSError("cannot start")  # no file is to blame: none gets an error, the parent does them all

    seen = _run(20, lambda s, e: [(i, os.getpid() == PARENT) for i in range(s, e)], initializer=init)
    assert seen == [(i, True) for i in range(20)]
    assert not _children()


def test_results_larger_than_a_pipe_arrive_whole() -> None:
    big = "x" * 3_000_000
    assert _run(6, lambda s, e: [big + str(i) for i in range(s, e)], sizes=[1] * 6) == [big + str(i) for i in range(6)]


def test_an_exception_in_the_parent_stops_the_workers() -> None:
    def work(s: int, e: int) -> list[int]:
        time.sleep(0.01)
        return list(range(s, e))

    def on_result(i: int) -> None:
        if i == 5:
            raise KeyboardInterrupt

    fds = _fds()
    with pytest.raises(KeyboardInterrupt):
        forkpool.run_ordered(200, chunk_sizes(200, 2), work, on_result, workers=2, died=lambda i: None)
    assert not _children() and _fds() == fds


def test_a_slow_chunk_holds_the_others_back_within_a_window() -> None:
    running: list[int] = []

    def work(s: int, e: int) -> list[int]:
        if s == 0:
            time.sleep(0.5)  # the first chunk is slow: the other worker must not run through the batch
        return list(range(s, e))

    def on_result(i: int) -> None:
        running.append(i)

    started: list[int] = []
    real_send = forkpool._Pool.send

    def send(self: Any, worker: Any, task: tuple[int, int, bool]) -> bool:
        if not running:
            started.append(task[0])
        return real_send(self, worker, task)

    forkpool._Pool.send = send  # type: ignore[method-assign]
    try:
        forkpool.run_ordered(400, [1] * 400, work, on_result, workers=2, died=lambda i: None)
    finally:
        forkpool._Pool.send = real_send  # type: ignore[method-assign]
    assert running == list(range(400))
    assert len(started) <= 2 * 2 * forkpool.DEPTH + 1  # sent before the first result was delivered


def test_a_crash_of_the_next_chunk_to_deliver_while_the_others_fill_the_window() -> None:
    def work(s: int, e: int) -> list[int]:
        if s == 0 and e > 1 and os.getpid() != PARENT:
            time.sleep(0.2)  # the others fill the window meanwhile
            os._exit(3)
        return list(range(s, e))

    assert _run(50, work, sizes=[5] + [1] * 45) == list(range(50))
