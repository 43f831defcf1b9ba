"""Per-file work on all cores: results in order, stages where they belong, failures surfaced."""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from jitops.errors import InputError
from jitops.parallel import (
    CHUNKS_PER_PROCESS,
    WorkerFailed,
    map_chunks,
    map_in_stages,
    map_streamed,
)

ITEMS = list(range(1000))


@pytest.fixture(autouse=True)
def _several_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("jitops.parallel.PARALLEL_THRESHOLD", 1)
    monkeypatch.setattr("jitops.parallel.usable_cpus", lambda: 3)


def _chunk_starts(cpus: int = 3) -> range:
    size = -(-len(ITEMS) // (cpus * CHUNKS_PER_PROCESS))
    return range(0, len(ITEMS), size)


def _scaled(factor: int, items: Sequence[int]) -> list[tuple[int, int]]:
    return [(factor * item, os.getpid()) for item in items]


def test_chunks_on_several_processes_keep_their_order_and_share_the_context() -> None:
    results = map_chunks(_scaled, 7, ITEMS)
    assert [value for value, _ in results] == [7 * item for item in ITEMS]
    # each chunk runs whole in one process: the main one or a worker
    starts = list(_chunk_starts())
    for start, end in zip(starts, [*starts[1:], len(ITEMS)], strict=True):
        assert len({pid for _, pid in results[start:end]}) == 1


def _plus(known: int, parsed: Sequence[tuple[int, int]]) -> list[tuple[int, int, int]]:
    return [(value + known, pid, os.getpid()) for value, pid in parsed]


def test_two_stages_keep_order_and_each_chunk_stays_in_the_process_that_parsed_it() -> None:
    results = map_in_stages(_scaled, 7, ITEMS, _plus, lambda: 1000)
    assert [value for value, _, _ in results] == [7 * item + 1000 for item in ITEMS]
    assert all(first == second for _, first, second in results)


# A worker reaches the poisoned item while the main process is still working out `later`: the
# main process waits for the event, so it never takes that chunk itself.
POISON = 500


def _poisoned(context: tuple[Any, str], items: Sequence[int]) -> list[tuple[int, int]]:
    reached, how = context
    if POISON in items:
        reached.set()
        if how == "exit":
            os._exit(7)
        if how == "input":  # an error that cannot be rebuilt from its pickle
            raise InputError("bad file", path="requests/x.yaml", line=3)
        raise ValueError(f"item {POISON} is poisoned")
    return _scaled(1, items)


def _run_poisoned(how: str) -> None:
    reached = multiprocessing.get_context("fork").Event()

    def later() -> int:
        assert reached.wait(timeout=60)
        return 0

    map_in_stages(_poisoned, (reached, how), ITEMS, _plus, later)


def test_an_error_in_a_worker_is_raised_in_the_main_process() -> None:
    with pytest.raises(ValueError, match="item 500 is poisoned") as info:
        _run_poisoned("raise")
    assert any("raised in a worker process" in note for note in info.value.__notes__)
    assert multiprocessing.active_children() == []


def test_an_error_that_does_not_unpickle_still_says_what_happened() -> None:
    with pytest.raises(WorkerFailed, match="InputError: requests/x.yaml:3:1: bad file"):
        _run_poisoned("input")
    assert multiprocessing.active_children() == []


def test_a_worker_that_dies_is_a_system_failure_not_a_hang() -> None:
    with pytest.raises(WorkerFailed, match="exit code 7"):
        _run_poisoned("exit")
    assert multiprocessing.active_children() == []


def _never_later() -> int:
    raise RuntimeError("the policies could not be read")


def test_a_failure_while_the_workers_parse_stops_them() -> None:
    with pytest.raises(RuntimeError, match="could not be read"):
        map_in_stages(_scaled, 1, ITEMS, _plus, _never_later)
    assert multiprocessing.active_children() == []


def test_few_items_run_in_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("jitops.parallel.PARALLEL_THRESHOLD", 400)
    here = os.getpid()
    assert map_in_stages(_scaled, 2, [1, 2], _plus, lambda: 5) == [(7, here, here), (9, here, here)]


# -- map_streamed: chunks as a producer yields them ------------------------------------------


def _produced(count: int, size: int, fail_at: int | None = None) -> Iterator[list[int]]:
    for start in range(0, count * size, size):
        if fail_at is not None and start // size == fail_at:
            raise RuntimeError("git log failed")
        time.sleep(0.002)  # a producer slower than the workers
        yield list(range(start, start + size))


def test_streamed_chunks_keep_their_order_and_run_where_there_is_room() -> None:
    results = map_streamed(_scaled, 3, _produced(40, 25))
    assert [value for value, _ in results] == [3 * item for item in range(1000)]
    for start in range(0, 1000, 25):  # each chunk runs whole in one process
        assert len({pid for _, pid in results[start : start + 25]}) == 1
    assert {pid for _, pid in results} - {os.getpid()}  # workers took some
    assert multiprocessing.active_children() == []


@pytest.mark.parametrize("cpus", [1, 3])
def test_one_chunk_or_one_cpu_starts_no_process(monkeypatch: pytest.MonkeyPatch, cpus: int) -> None:
    monkeypatch.setattr("jitops.parallel.usable_cpus", lambda: cpus)
    chunks = 1 if cpus == 3 else 5
    results = map_streamed(_scaled, 2, _produced(chunks, 10))
    assert results == [(2 * item, os.getpid()) for item in range(chunks * 10)]
    assert map_streamed(_scaled, 2, iter([])) == []


def test_a_producer_that_fails_stops_the_workers() -> None:
    with pytest.raises(RuntimeError, match="git log failed"):
        map_streamed(_scaled, 1, _produced(40, 25, fail_at=20))
    assert multiprocessing.active_children() == []


def _poisoned_chunk(factor: int, items: Sequence[int]) -> list[tuple[int, int]]:
    if POISON in items:
        raise ValueError(f"item {POISON} is poisoned")
    return _scaled(factor, items)


def test_an_error_in_a_streamed_chunk_is_raised_wherever_it_ran() -> None:
    with pytest.raises(ValueError, match="item 500 is poisoned"):
        map_streamed(_poisoned_chunk, 1, _produced(40, 25))
    assert multiprocessing.active_children() == []
