"""``jitops reconcile``: access no open grant covers is revoked; missing grants are reported."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import CLI, LEGACY_TOKEN, LegacySystem
from tests.gitrepo import commit_all, record_applied, write_request

NOW = "2026-11-23T12:00:00Z"


@pytest.fixture
def system(legacy: LegacySystem) -> LegacySystem:
    for who, expires in (("alice", "18:00"), ("bob", "11:00"), ("carol", "18:00")):
        write_request(
            legacy.repo,
            f"{who}-1",
            target="legacy",
            role="operator",
            requester=who,
            duration="",
            expires_at=f"2026-11-23T{expires}:00Z",
        )
    commit_all(legacy.repo, "grants", date="2026-11-23T09:00:00Z")
    record_applied(legacy.repo)  # as apply records what it verified
    legacy.hold(("alice", "alice-1"), ("bob", "bob-1"), ("mallory", "by-hand"))
    return legacy


def reconcile(system: LegacySystem, cli: CLI, *extra: str):  # type: ignore[no-untyped-def]
    return cli("reconcile", "--repo", str(system.repo), "--now", NOW, "--target", "legacy", *extra)


def test_dry_run_reports_and_changes_nothing(system: LegacySystem, cli: CLI) -> None:
    result = reconcile(system, cli, "--dry-run")
    assert result.code == 1, result.output
    assert "legacy: would revoke: @mallory operator (unapproved)" in result.out
    assert "legacy: would revoke: @bob operator (unapproved)" in result.out  # expired
    assert "legacy: left to apply: @carol operator (missing)" in result.out
    assert system.held() == {"alice/operator", "bob/operator", "mallory/operator"}


def test_reconcile_revokes_unapproved_and_expired_access(system: LegacySystem, cli: CLI) -> None:
    assert reconcile(system, cli).code == 0
    assert system.held() == {"alice/operator"}
    again = reconcile(system, cli)
    assert again.code == 0 and "revoked" not in again.out  # rerunning is safe


def test_an_unreachable_target_fails_loudly_without_leaking_its_secret(
    system: LegacySystem, cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_TOKEN", "wrong-" + LEGACY_TOKEN)
    result = reconcile(system, cli)
    assert result.code == 3
    assert "legacy: error:" in result.out
    assert LEGACY_TOKEN not in result.output
    assert "0 unresolved, 1 target error(s): not known to be in line" in result.err


def test_unknown_target(system: LegacySystem, cli: CLI) -> None:
    result = cli("reconcile", "--repo", str(system.repo), "--target", "nope")
    assert result.code == 2 and "no target 'nope'" in result.output
