"""``jitops sweep``: expired access is revoked at once; a failed revoke is retried, never lost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.e2e.conftest import CLI, LEGACY_TOKEN, LegacySystem
from tests.fixtures.postgres import PostgresServer, new_password
from tests.gitrepo import commit_all, make_access_repo, write_request

NOW = "2026-11-23T12:00:00Z"


@pytest.fixture
def system(legacy: LegacySystem) -> LegacySystem:
    write_request(
        legacy.repo,
        "alice-1",
        target="legacy",
        role="operator",
        requester="alice",
        duration="",
        expires_at="2026-11-23T18:00:00Z",
    )
    write_request(
        legacy.repo, "bob-1", target="legacy", role="operator", requester="bob", duration="2h"
    )  # lands at 09:00, expires 11:00
    commit_all(legacy.repo, "grants", date="2026-11-23T09:00:00Z")
    legacy.hold(("alice", "alice-1"), ("bob", "bob-1"))
    return legacy


def test_sweep_revokes_expired_access_only(system: LegacySystem, cli: CLI) -> None:
    result = cli("sweep", "--repo", str(system.repo), "--now", NOW)
    assert result.code == 0, result.output
    assert "revoked: @bob legacy/operator (bob-1, expired 2026-11-23 11:00 UTC)" in result.out
    assert system.held() == {"alice/operator"}
    again = cli("sweep", "--repo", str(system.repo), "--now", NOW)
    assert again.code == 0 and system.held() == {"alice/operator"}  # rerun is safe


def test_dry_run_changes_nothing(system: LegacySystem, cli: CLI) -> None:
    result = cli("sweep", "--repo", str(system.repo), "--now", NOW, "--dry-run")
    assert result.code == 0 and "would revoke: @bob" in result.out
    assert system.held() == {"alice/operator", "bob/operator"}


def test_a_failed_revoke_fails_loudly_and_is_retried_next_run(
    system: LegacySystem, cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_TOKEN", "expired-" + LEGACY_TOKEN)
    summary = system.repo.parent / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    failed = cli("sweep", "--repo", str(system.repo), "--now", NOW)
    assert "**1 revoke(s) failed**" in summary.read_text()
    assert LEGACY_TOKEN not in summary.read_text()
    assert failed.code == 3
    assert "failed: @bob legacy/operator" in failed.out
    assert "retried next run" in failed.err
    assert LEGACY_TOKEN not in failed.output
    assert system.held() == {"alice/operator", "bob/operator"}
    monkeypatch.setenv("FAKE_TOKEN", LEGACY_TOKEN)
    retried = cli("sweep", "--repo", str(system.repo), "--now", NOW)
    assert retried.code == 0 and system.held() == {"alice/operator"}


def test_expired_request_of_a_removed_target_is_reported_not_dropped(
    system: LegacySystem, cli: CLI
) -> None:
    (system.repo / "policies" / "legacy.yaml").unlink()
    (system.repo / "policies" / "legacy-policy.yaml").unlink()
    result = cli("sweep", "--repo", str(system.repo), "--now", NOW)
    assert result.code == 3
    assert "no target 'legacy' in policies/ any more" in result.out


# -- against a real PostgreSQL ---------------------------------------------------------------


def _can_read(conn: psycopg.Connection[Any], table: str) -> bool:
    try:
        conn.execute(f"SELECT v FROM {table}").fetchall()
    except psycopg.errors.InsufficientPrivilege:
        return False
    return True


def test_grant_then_time_passes_then_sweep_cuts_the_postgres_user_off(
    tmp_path: Path, cli: CLI, postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jitops.ledger import read_ledger
    from jitops.provisioners import create
    from jitops.repo import load_policies
    from jitops.revoking import grant_of
    from jitops.targets import target_config

    server, password = postgres_server, new_password()
    for statement in (
        f"CREATE ROLE sweep_prov LOGIN CREATEROLE PASSWORD '{password}'",
        "GRANT pg_signal_backend TO sweep_prov",
        "CREATE ROLE sweep_ro NOLOGIN",
        "GRANT sweep_ro TO sweep_prov WITH ADMIN OPTION",
        "CREATE TABLE sweep_data (v text)",
        "INSERT INTO sweep_data VALUES ('x')",
        "GRANT SELECT ON sweep_data TO sweep_ro",
    ):
        server.admin(statement)
    monkeypatch.setenv("SWEEP_PG_PASSWORD", password)
    repo = make_access_repo(tmp_path / "access")
    (repo / "policies" / "targets.yaml").write_text(
        "apiVersion: jitops/v1\nkind: Target\nname: sandbox-db\nprovisioner: postgres\n"
        "roles: [readonly, readwrite, admin]\n"
        f"settings:\n  host: {server.host}\n  port: {server.port}\n  user: sweep_prov\n"
        "  login_template: 'sweep_{login}'\n  roles: {readonly: sweep_ro}\n"
        "secrets:\n  password: SWEEP_PG_PASSWORD\n"
    )
    now = datetime.now(UTC)
    expires = (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    write_request(repo, "pg-1", duration="", expires_at=expires)
    commit_all(repo, "grant")
    # grant as apply will: through the target's provisioner
    policy_set = load_policies(repo).policy_set
    assert policy_set is not None
    provisioner = create(target_config(policy_set.targets["sandbox-db"]))
    provisioner.grant(grant_of(read_ledger(repo).entries[0]))
    user_password = new_password()
    server.admin(f"ALTER ROLE sweep_alice PASSWORD '{user_password}'")
    session = server.connect("sweep_alice", user_password)
    assert _can_read(session, "sweep_data")

    later = (now + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    result = cli("sweep", "--repo", str(repo), "--now", later)
    assert result.code == 0, result.output
    assert "revoked: @alice sandbox-db/readonly (pg-1" in result.out
    with pytest.raises(psycopg.OperationalError):  # the open session was ended
        session.execute("SELECT 1")
    # the membership is gone, and VALID UNTIL (the backstop) now refuses a password login
    assert server.admin(
        "SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member "
        "WHERE r.rolname = 'sweep_alice'"
    ) == [(0,)]
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        server.connect("sweep_alice", user_password)


def test_the_sweep_notes_when_it_revoked_and_the_audit_shows_the_lag(
    system: LegacySystem, cli: CLI
) -> None:
    """bob-1's window closed at 11:00; a sweep that ran only at 12:00 held access an hour
    longer than the window says, and the audit says so (a dry run notes nothing)."""
    import json

    from jitops import git

    cli("sweep", "--repo", str(system.repo), "--now", NOW, "--dry-run")
    assert git.note_objects(system.repo, git.REVOCATIONS_REF) == {}
    assert cli("sweep", "--repo", str(system.repo), "--now", NOW).code == 0
    listing = cli("audit", "--repo", str(system.repo), "--format", "json")
    revoked = {g["id"]: g["revoked_at"] for g in json.loads(listing.out)["grants"]}
    assert revoked == {"alice-1": None, "bob-1": "2026-11-23T12:00:00+00:00"}
    table = cli("audit", "--repo", str(system.repo)).out
    assert "2026-11-23 12:00 (+1h)" in table
    verify = cli("audit", "--repo", str(system.repo), "verify")
    assert (
        "bob-1 (landed" in verify.out
        and "revoked 2026-11-23 12:00 UTC, 1h after its access should have ended "
        "(2026-11-23 11:00 UTC): more than the sweep interval of 15m"
        in verify.out
    )
    assert verify.out.count("more than the sweep interval") == 1  # alice-1 is not revoked
