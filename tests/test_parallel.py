"""Per-file work on all cores: results in order, stages where they belong, failures surfaced."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from typing import Any

import pytest

from jitops.errors import InputError
from jitops.parallel import CHUNKS_PER_PROCESS, WorkerFailed, map_chunks, map_in_stages

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
