"""Per-file work on all cores: a repository of 10,000 requests is checked in chunks.

Three shapes, each returning one result per item, in order, whichever process computed it:

- ``map_chunks(worker, context, items)``: ``worker(context, chunk)`` on a pool of processes.
- ``map_streamed(worker, context, chunks)``: the same for chunks that come one by one from a
  producer (a ``git log`` as it streams), the workers at work while it produces the next.
- ``map_in_stages(first, context, items, second, later)``: ``second(later(), first(context,
  chunk))``, where the first stage (read and parse files) starts on every core at once and the
  main process works out ``later()`` (load the policies, ask git) meanwhile. Each process then
  runs the second stage on the chunks it parsed, so parsed files never travel between
  processes.

Workers are forked on Linux, so they start with everything the main process has imported and
loaded. In every shape the main process works too, and its results skip the pipe. Functions
passed here must be module-level (other start methods send them to the workers by name).
"""

from __future__ import annotations

import gc
import itertools
import multiprocessing
import multiprocessing.connection
import multiprocessing.context
import multiprocessing.process
import os
import pickle
import sys
import traceback
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar

from jitops.errors import JitopsError

if sys.platform != "win32":
    from multiprocessing.context import ForkContext

C = TypeVar("C")
D = TypeVar("D")
T = TypeVar("T")
U = TypeVar("U")
R = TypeVar("R")

# Below this many items a process costs more than it saves.
PARALLEL_THRESHOLD = 400
# Chunks per process: enough that a worker slowed by other load on the machine leaves its
# share to the others, few enough that each chunk's round trip stays small.
CHUNKS_PER_PROCESS = 6


def usable_cpus() -> int:
    """The CPUs this process may run on (a container or ``taskset`` may allow fewer)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def _process_context() -> multiprocessing.context.DefaultContext | ForkContext:
    # fork: a worker starts with everything the main process has imported and loaded, at no
    # cost; other start methods import jitops again in every worker. Linux only: elsewhere
    # fork is unsafe or unavailable.
    if sys.platform == "linux":
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context()


def _chunked(items: Sequence[T], processes: int) -> list[Sequence[T]]:
    size = -(-len(items) // (processes * CHUNKS_PER_PROCESS))
    return [items[i : i + size] for i in range(0, len(items), size)]


# -- map_chunks: one stage, on a process pool ---------------------------------------------

# The context of the chunks a pool worker runs, set once when the process starts.
_worker_context: Any = None


def _set_worker_context(context: object) -> None:
    global _worker_context
    _worker_context = context


def _run_chunk(worker: Callable[[Any, Sequence[T]], list[R]], items: Sequence[T]) -> list[R]:
    return worker(_worker_context, items)


def map_chunks(
    worker: Callable[[C, Sequence[T]], list[R]], context: C, items: Sequence[T]
) -> list[R]:
    """``worker(context, items)``, on all cores in chunks when there are many items.

    ``context`` (the repository root, loaded policies…) reaches each worker process once, when
    it starts, rather than with every chunk. The main process takes chunks from the end of the
    queue while the workers take them from the front.
    """
    cpus = usable_cpus()
    if len(items) < PARALLEL_THRESHOLD or cpus == 1:
        return worker(context, items)
    return _on_a_pool(worker, context, _chunked(items, cpus), cpus)


def map_streamed(
    worker: Callable[[C, Sequence[T]], list[R]], context: C, chunks: Iterable[Sequence[T]]
) -> list[R]:
    """``worker(context, chunk)`` for each chunk ``chunks`` yields, while it yields the next.

    For a producer that is slow itself (a chunk ready as ``git log`` streams): the workers
    start on the second chunk, before the producer is done, and the main process takes the
    chunks no worker has started once it is. One chunk in all, or one CPU: no process is
    started. Results in order, one per item.
    """
    iterator = iter(chunks)
    first = next(iterator, None)
    if first is None:
        return []
    second = next(iterator, None)
    cpus = usable_cpus()
    if second is None or cpus == 1:
        done = worker(context, first)
        for chunk in () if second is None else itertools.chain([second], iterator):
            done.extend(worker(context, chunk))
        return done
    return _on_a_pool(worker, context, itertools.chain([first, second], iterator), cpus)


def _on_a_pool(
    worker: Callable[[C, Sequence[T]], list[R]],
    context: C,
    chunks: Iterable[Sequence[T]],
    cpus: int,
) -> list[R]:
    """Each chunk submitted to ``cpus - 1`` workers as ``chunks`` yields it; then the main
    process takes the chunks no worker has started, from the end, while they take the rest."""
    started: list[tuple[Sequence[T], Future[list[R]]]] = []
    results: list[list[R]] = []
    # Workers inherit the main process's objects; frozen, their garbage collector neither
    # scans them nor, by touching them, copies the pages that hold them.
    gc.freeze()
    try:
        with ProcessPoolExecutor(
            max_workers=cpus - 1,
            mp_context=_process_context(),
            initializer=_set_worker_context,
            initargs=(context,),
        ) as pool:
            try:
                started.extend((chunk, pool.submit(_run_chunk, worker, chunk)) for chunk in chunks)
            except BaseException:  # the producer failed: no more work for its chunks
                pool.shutdown(cancel_futures=True)
                raise
            mine: dict[int, list[R]] = {}
            for index in reversed(range(len(started))):
                chunk, future = started[index]
                if future.cancel():  # no worker has taken it yet: do it here
                    mine[index] = worker(context, chunk)
            for index, (_, future) in enumerate(started):
                results.append(mine[index] if index in mine else future.result())
    finally:
        gc.unfreeze()
    return [item for part in results for item in part]


# -- map_in_stages: the first stage starts before the second's input is known ---------------


class WorkerFailed(JitopsError):
    """A worker process failed in a way its own error cannot tell: killed, out of memory, or
    an error that does not survive the trip back."""


@dataclass(frozen=True)
class _Failure:
    """What a worker sends back instead of results when its work raised."""

    error: bytes | None  # the exception, pickled, when it can be
    trace: str  # where it happened, in the worker

    def raise_it(self) -> NoReturn:
        error: object = None
        try:
            error = pickle.loads(self.error) if self.error is not None else None
        except Exception:  # e.g. an exception class that cannot be rebuilt from its args
            pass
        if not isinstance(error, BaseException):
            raise WorkerFailed(f"a worker process failed:\n{self.trace}")
        error.add_note(f"raised in a worker process:\n{self.trace}")
        raise error


# A claim holds the lock for microseconds; a process killed while holding it must not leave
# the others waiting for ever.
_CLAIM_TIMEOUT = 60.0


def _claim(counter: Any, total: int) -> int | None:
    """The next unclaimed chunk, shared by every process; None when all are taken."""
    lock = counter.get_lock()
    if not lock.acquire(timeout=_CLAIM_TIMEOUT):
        raise WorkerFailed("the processes checking files stopped sharing their work — run again")
    try:
        index: int = counter.value
        if index >= total:
            return None
        counter.value = index + 1
        return index
    finally:
        lock.release()


def _stage_worker(
    first: Callable[[Any, Sequence[Any]], list[Any]],
    context: Any,
    chunks: Sequence[Sequence[Any]],
    second: Callable[[Any, Sequence[Any]], list[Any]],
    counter: Any,
    connection: multiprocessing.connection.Connection,
) -> None:
    try:
        waiting: list[tuple[int, list[Any]]] = []  # parsed before the second stage could run
        done: list[tuple[int, list[Any]]] = []
        known: Any = None
        has_known = False
        while (index := _claim(counter, len(chunks))) is not None:
            parsed = first(context, chunks[index])
            if not has_known and connection.poll():
                known, has_known = connection.recv(), True
                done.extend((i, second(known, part)) for i, part in waiting)
                waiting.clear()
            if has_known:
                done.append((index, second(known, parsed)))
            else:
                waiting.append((index, parsed))
        if not has_known:
            known = connection.recv()
        done.extend((i, second(known, part)) for i, part in waiting)
        connection.send(done)
    except KeyboardInterrupt:
        pass  # Ctrl-C reaches every process of the group; the main process reports it
    except BaseException as exc:  # the main process raises it again
        try:
            pickled: bytes | None = pickle.dumps(exc)
        except Exception:
            pickled = None
        try:
            connection.send(_Failure(pickled, "".join(traceback.format_exception(exc))))
        except OSError:
            pass  # the main process has stopped already
    finally:
        connection.close()


def map_in_stages(
    first: Callable[[C, Sequence[T]], list[U]],
    context: C,
    items: Sequence[T],
    second: Callable[[D, Sequence[U]], list[R]],
    later: Callable[[], D],
) -> list[R]:
    """``second(later(), first(context, items))``, the first stage started before ``later()``.

    ``first`` and ``second`` return one result per item, in order. ``later`` runs once, in the
    main process, while the workers run ``first``; its value reaches each worker once. Worker
    processes start before ``later`` runs, so it may start threads (no fork follows).
    """
    cpus = usable_cpus()
    if len(items) < PARALLEL_THRESHOLD or cpus == 1:
        return second(later(), first(context, items))
    chunks = _chunked(items, cpus)
    mp = _process_context()
    counter = mp.Value("i", 0)
    workers: list[tuple[multiprocessing.process.BaseProcess, Any]] = []
    results: list[list[R] | None] = [None] * len(chunks)
    finished = False
    try:
        gc.freeze()  # see map_chunks
        try:
            for _ in range(cpus - 1):
                here, there = mp.Pipe()
                started = mp.Process(
                    target=_stage_worker,
                    args=(first, context, chunks, second, counter, there),
                    daemon=True,
                )
                started.start()
                there.close()
                workers.append((started, here))
        finally:
            gc.unfreeze()
        known = later()
        for _, connection in workers:
            try:
                connection.send(known)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the worker has stopped; its answer (or its silence) says why
        while (index := _claim(counter, len(chunks))) is not None:
            results[index] = second(known, first(context, chunks[index]))
        for process, connection in workers:
            try:
                answer = connection.recv()
            except (EOFError, OSError):  # closed, or reset by a process that died
                process.join()
                raise WorkerFailed(
                    f"a worker process stopped without an answer (exit code {process.exitcode})"
                    " — run again; if it recurs, report it with the size of the repository"
                ) from None
            if isinstance(answer, _Failure):
                answer.raise_it()
            for index, part in answer:
                results[index] = part
        finished = True
    finally:
        for process, connection in workers:
            connection.close()
            if not finished:
                process.terminate()
            process.join()
    return [item for part in results if part is not None for item in part]
