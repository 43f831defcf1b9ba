"""Faults of GitHub's API while apply verifies and grants: whatever GitHub answers (5xx
bursts, secondary rate limits, dropped connections), access is granted once the fault clears
— idempotently, so a rerun leaves the same one grant — and never while what grants it could
not be verified (invariant 5: nothing is lost; invariant 3: only verified grants exist)."""

from __future__ import annotations

from pathlib import Path

import pytest

from jitops import evidence
from tests.e2e.apply_world import World, apply, grant
from tests.e2e.conftest import CLI

REVIEWS = "GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews"
PULLS_OF_COMMIT = "GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls"
FILES = "GET /repos/{owner}/{repo}/pulls/{pull_number}/files"


def _done(world: World) -> list[str]:
    """Every grant and revoke the target system made, in order."""
    log = Path(str(world.legacy.state) + ".log")
    return log.read_text().splitlines() if log.exists() else []


@pytest.mark.attack(5, "GitHub answers 5xx for as long as apply retries")
def test_a_5xx_burst_during_apply_grants_nothing_then_once(world: World, cli: CLI) -> None:
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
