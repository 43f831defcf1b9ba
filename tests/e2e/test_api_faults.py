"""Faults of GitHub's API while apply verifies and grants: whatever GitHub answers (5xx
bursts, primary and secondary rate limits, dropped connections, answers slower than the
client waits), access is granted once the fault clears — idempotently, so a rerun leaves the
same one grant — and never while what grants it could not be verified (invariant 5: nothing
is lost; invariant 3: only verified grants exist). A rate limit or a slow answer is waited
out in the run when it is short; one that lasts fails the run cleanly (exit 3)."""

from __future__ import annotations

from pathlib import Path

import pytest

from jitops import evidence
from tests.e2e.apply_world import World, apply, grant
from tests.e2e.conftest import CLI, Run

REVIEWS = "GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews"
PULLS_OF_COMMIT = "GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls"
FILES = "GET /repos/{owner}/{repo}/pulls/{pull_number}/files"


def _done(world: World) -> list[str]:
    """Every grant and revoke the target system made, in order."""
    log = Path(str(world.legacy.state) + ".log")
    return log.read_text().splitlines() if log.exists() else []


@pytest.fixture
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    """Backoff of 0, 0.1, 0.2 s between tries, and a 1 s timeout: the same tries, sooner."""
    from jitops import retries

    monkeypatch.setattr(retries, "BACKOFF", 0.05)
    monkeypatch.setattr(retries, "TIMEOUT", 1.0)


@pytest.mark.attack(5, "GitHub answers 5xx for as long as apply retries")
def test_a_5xx_burst_during_apply_grants_nothing_then_once(
    world: World, cli: CLI, quick: None
) -> None:
    merge = grant(world, "burst-1")
    before = world.pull_base()
    world.server.faults.inject("server_error", REVIEWS, status=502, times=None)
    failed = apply(world, cli, before)
    assert failed.code == 3, failed.output
    assert "could not verify" in failed.out and "burst-1" in failed.out
    assert world.legacy.held() == set() and _done(world) == []
    assert merge not in evidence.read_all(world.base)[0]  # nothing recorded as verified
    world.server.faults.clear()
    again = apply(world, cli, before)
    assert again.code == 0, again.output
    alice = world.login("alice")
    assert world.legacy.held() == {f"{alice}/operator"}
    assert apply(world, cli, before).code == 0  # a rerun is safe: the same grant, again
    assert set(_done(world)) == {f"grant {alice}/operator burst-1"}
    assert world.legacy.held() == {f"{alice}/operator"}


@pytest.mark.attack(5, "a secondary rate limit and a dropped connection while apply verifies")
def test_a_rate_limit_and_a_dropped_answer_are_waited_out_in_one_run(
    world: World, cli: CLI
) -> None:
    grant(world, "limit-1")
    before = world.pull_base()
    world.server.faults.inject("secondary_rate_limit", PULLS_OF_COMMIT, retry_after=1)
    world.server.faults.inject("drop", FILES)
    calls = world.server.calls[PULLS_OF_COMMIT]
    result = apply(world, cli, before)
    assert result.code == 0, result.output
    assert world.server.calls[PULLS_OF_COMMIT] - calls == 2  # refused once, then answered
    assert _done(world) == [f"grant {world.login('alice')}/operator limit-1"]


@pytest.mark.attack(5, "two applies of the same push at once")
def test_two_applies_at_once_grant_once_and_both_publish_their_evidence(
    world: World, cli_process: CLI, tmp_path: Path
) -> None:
    """Actions may run a rerun beside the first run: both verify, the grant is made (and
    made again, idempotently), and both publish the evidence notes — the one that loses the
    race on the notes ref merges the other's and pushes again."""
    import os
    import subprocess
    from concurrent.futures import ThreadPoolExecutor

    merge = grant(world, "twice-1")
    before = world.pull_base()
    second = tmp_path / "second"
    origin = subprocess.run(
        ["git", "-C", str(world.base), "remote", "get-url", "origin"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    subprocess.run(["git", "clone", "-q", origin, str(second)], check=True)
    env = {k: v for k, v in os.environ.items() if k.startswith(("GITHUB_", "FAKE_"))}

    def run(root: Path):  # type: ignore[no-untyped-def]
        return cli_process("apply", "--repo", str(root), "--before", before, "--push-notes",
                           env=env)  # fmt: skip

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(run, [world.base, second]))
    assert [r.code for r in results] == [0, 0], [r.output for r in results]
    alice = world.login("alice")
    assert world.legacy.held() == {f"{alice}/operator"}
    assert set(_done(world)) == {f"grant {alice}/operator twice-1"}
    check = tmp_path / "check"
    subprocess.run(["git", "clone", "-q", origin, str(check)], check=True)
    subprocess.run(
        ["git", "-C", str(check), "fetch", "-q", "origin", "refs/notes/jitops:refs/notes/jitops"],
        check=True,
    )
    assert evidence.read_all(check)[0][merge].verdict == "allowed"


@pytest.mark.attack(5, "a primary rate limit, reset a second ahead, while apply verifies")
def test_a_primary_rate_limit_is_waited_out_in_one_run(world: World, cli: CLI, quick: None) -> None:
    grant(world, "primary-1")
    before = world.pull_base()
    world.server.faults.inject("rate_limit", REVIEWS, reset_in=1)
    calls = world.server.calls[REVIEWS]
    result = apply(world, cli, before)
    assert result.code == 0, result.output
    assert world.server.calls[REVIEWS] - calls == 2  # refused, waited for the reset, answered
    assert _done(world) == [f"grant {world.login('alice')}/operator primary-1"]


def _fails_then_grants_once(
    world: World, cli: CLI, request_id: str, kind: str, **options: object
) -> Run:
    """A run of apply while a fault of ``kind`` lasts on its reads of reviews: exit 3 with no
    traceback, nothing granted and nothing recorded as verified; once the fault clears, the
    rerun grants, once however often it runs. The failed run, for what it says."""
    merge = grant(world, request_id)
    before = world.pull_base()
    world.server.faults.inject(kind, REVIEWS, times=None, **options)
    try:
        failed = apply(world, cli, before)
    finally:
        world.server.faults.clear()
    assert failed.code == 3, failed.output
    assert "Traceback" not in failed.output and "internal error" not in failed.output
    assert "could not verify" in failed.out and request_id in failed.out
    assert _done(world) == [] and merge not in evidence.read_all(world.base)[0]
    assert apply(world, cli, before).code == 0
    assert apply(world, cli, before).code == 0
    assert _done(world) == [f"grant {world.login('alice')}/operator {request_id}"]
    return failed


@pytest.mark.attack(3, "a primary rate limit that resets in an hour, while apply verifies")
def test_a_rate_limit_far_from_its_reset_grants_nothing_and_says_when_to_rerun(
    world: World, cli: CLI, quick: None
) -> None:
    failed = _fails_then_grants_once(
        world, cli, "primary-2", "rate_limit", status=429, reset_in=3600
    )
    assert "(in 60 min) — rerun after that" in failed.output


@pytest.mark.attack(5, "GitHub answers apply's verification slower than the client waits")
def test_an_answer_slower_than_the_timeout_is_asked_again_in_the_same_run(
    world: World, cli: CLI, quick: None
) -> None:
    grant(world, "slow-1")
    before = world.pull_base()
    world.server.faults.inject("slow", FILES, delay=2)
    calls = world.server.calls[FILES]
    result = apply(world, cli, before)
    assert result.code == 0, result.output
    assert world.server.calls[FILES] - calls == 2  # given up after 1 s, then answered
    assert _done(world) == [f"grant {world.login('alice')}/operator slow-1"]


@pytest.mark.attack(3, "GitHub stays slower than the client waits while apply verifies")
def test_a_github_that_stays_slow_fails_the_run_cleanly_and_the_rerun_grants_once(
    world: World, cli: CLI, quick: None
) -> None:
    failed = _fails_then_grants_once(world, cli, "slow-2", "slow", delay=2)
    assert "within 1 s (4 tries)" in failed.output
