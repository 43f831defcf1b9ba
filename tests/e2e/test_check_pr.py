"""The approval gate end to end: real HTTP from PyGithub to the GitHub test server, real git,
and the real CLI. Each attack on the gate is its own test."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import CLI
from tests.e2e.gate_world import GateWorld, comments_of, status_of


def test_the_approval_lifecycle(gate: GateWorld, check) -> None:  # type: ignore[no-untyped-def]
    number = gate.open_request("rw-1")
    first = check(number)
    assert first.code == 1
    assert status_of(gate, number)[0] == "pending"
    assert f"needs 1 approval from {gate.team('db-leads')}" in status_of(gate, number)[1]

    gate.review(number, "eve")  # an engineer, not a db lead
    assert check(number).code == 1
    assert (
        f"@{gate.login('eve')} is not one of {gate.team('db-leads')}"
        in comments_of(gate, number)[0]
    )

    gate.review(number, "bob")  # a db lead
    assert check(number).code == 0
    assert status_of(gate, number)[0] == "success"

    gate.push(
        number,
        {
            "requests/sandbox-db/readwrite/rw-1.yaml": gate.request_text(
                "rw-1", window="duration: 3h"
            )
        },
    )
    stale = check(number)
    assert stale.code == 1
    assert "approved an older commit" in stale.out
    assert status_of(gate, number)[0] == "pending"

    gate.review(number, "bob")
    assert check(number).code == 0
    assert status_of(gate, number)[0] == "success"
    # one comment, kept up to date, rendering the request plainly
    [comment] = comments_of(gate, number)
    assert "### jitops: ✅ ready to merge" in comment
    assert f"| who | @{gate.login('alice')} |" in comment
    assert "| what | `readwrite` on `sandbox-db` |" in comment
    assert "| until | 3h from merge |" in comment
    assert "| policy | sandbox-db |" in comment


def test_under_actions_the_event_names_the_pull_request(
    gate: GateWorld, cli: CLI, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    number = gate.open_request("ev-1", role="readonly", ticket=None)
    event = gate.server.last_event("pull_request", "opened")
    for name, value in event.actions_env(tmp_path / "event.json", gate.bot.token).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("GITHUB_API_URL", gate.server.base_url)
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    result = cli("check-pr", "--base-checkout", str(gate.base))
    assert result.code == 0, result.output
    assert status_of(gate, number) == ("success", "1 of 1 request(s) ready")
    assert "auto-approved" in summary.read_text()


def test_requesting_for_someone_else(gate: GateWorld, check) -> None:  # type: ignore[no-untyped-def]
    by_mallory = gate.open_request("for-1", by="mallory")  # requester alice, opened by mallory
    gate.review(by_mallory, "bob")
    assert check(by_mallory).code == 1
    assert "opened a request for" in status_of(gate, by_mallory)[1]
    by_oncall = gate.open_request("for-2", by="olivia")  # the on-call team may
    gate.review(by_oncall, "bob")
    assert check(by_oncall).code == 0


def test_removal_only_passes_at_once_whoever_opens_it(gate: GateWorld, check) -> None:  # type: ignore[no-untyped-def]
    number = gate.open_request("rm-1", role="readonly", ticket=None)
    assert check(number).code == 0
    gate.merge(number)
    removal = gate.open_pull(
        "remove-rm-1", {"requests/sandbox-db/readonly/rm-1.yaml": None}, by="mallory"
    )
    result = check(removal)
    assert result.code == 0, result.output
    assert "no approval needed" in status_of(gate, removal)[1]


def test_read_only_from_a_laptop_unless_post(
    gate: GateWorld, cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in gate.env().items():
        monkeypatch.setenv(name, value)
    number = gate.open_request("ro-1")
    result = cli(
        "check-pr",
        "--repo",
        gate.repo.full_name,
        "--pr",
        str(number),
        "--base-checkout",
        str(gate.base),
    )
    assert result.code == 1
    assert f"#{number}: pending" in result.out
    pr = gate.server.hub.pull(gate.repo, number)
    assert gate.server.hub.statuses_for(gate.repo, pr.head_sha) == []
    assert comments_of(gate, number) == []


def test_api_budget_per_check_of_five_requests(gate: GateWorld, check) -> None:  # type: ignore[no-untyped-def]
    files: dict[str, str | None] = {
        f"requests/sandbox-db/readwrite/b5-{i}.yaml": gate.request_text(f"b5-{i}") for i in range(5)
    }
    number = gate.open_pull("five", files)
    gate.review(number, "bob")
    gate.server.calls.reset()
    assert check(number).code == 0
    calls = gate.server.calls.snapshot()
    reads = {k: v for k, v in calls.items() if k.startswith("GET")}
    assert sum(reads.values()) <= 8, reads  # files come through git, memberships are cached
    assert not any("/contents/" in k for k in calls)
    assert sum(calls.values()) - sum(reads.values()) == 2  # the status and the comment


def test_request_files_come_through_the_api_when_git_cannot_fetch(gate: GateWorld, check) -> None:  # type: ignore[no-untyped-def]
    number = gate.open_request("nofetch-1")
    gate.review(number, "bob")
    subprocess.run(
        ["git", "-C", str(gate.base), "remote", "set-url", "origin", "/nonexistent/repo.git"],
        check=True,
    )
    gate.server.calls.reset()
    assert check(number).code == 0
    assert gate.server.calls["GET /repos/{owner}/{repo}/contents/{path}"] == 1


@pytest.mark.attack(6, "an event or --pr for a pull request GitHub does not know")
def test_a_pull_request_github_does_not_know_is_an_input_error(
    gate: GateWorld,
    check,  # type: ignore[no-untyped-def]
) -> None:
    """A wrong --pr (or an event about something else) says so and exits 2: no "internal
    error", no traceback, no status posted anywhere."""
    result = check(99999)
    assert result.code == 2
    assert "pull request #99999" in result.out + result.err
    assert "was not found" in result.out + result.err
    assert "internal error" not in result.out + result.err


@pytest.mark.attack(6, "GitHub out of reach while check-pr runs")
def test_github_out_of_reach_is_named_and_exits_3(
    gate: GateWorld,
    cli: CLI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No answer at all names the host and what to check, exit 3 — the check, and apply."""
    for name, value in gate.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("GITHUB_API_URL", "http://127.0.0.1:9/api/v3")  # nothing listens
    number = gate.open_request("away-1")
    for args in (
        ("check-pr", "--pr", str(number), "--base-checkout", str(gate.base)),
        ("apply", "--repo", str(gate.base), "--catch-up"),
    ):
        result = cli(*args)
        said = result.out + result.err
        assert result.code == 3, said
        assert "no answer from 127.0.0.1:9" in said and "GITHUB_API_URL" in said
        assert "internal error" not in said and "Traceback" not in said
