"""``jitops reconcile``: access no open grant covers is revoked; missing grants are reported."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import CLI
from tests.gitrepo import commit_all, make_access_repo, write_request

FAKE_SYSTEM = Path(__file__).resolve().parents[1] / "provisioners" / "scripts" / "fake_system.py"
TOKEN = "s3cret-token-value"
NOW = "2026-11-23T12:00:00Z"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = make_access_repo(tmp_path / "access")
    (root / "policies" / "legacy.yaml").write_text(
        f"""apiVersion: jitops/v1
kind: Target
name: legacy
provisioner: exec
roles: [operator]
settings:
  command: [{json.dumps(sys.executable)}, {json.dumps(str(FAKE_SYSTEM))}]
  env: [FAKE_STATE, FAKE_EXPECTED_TOKEN]
  can_list: true
secrets:
  token: FAKE_TOKEN
---
""".removesuffix("---\n")
    )
    (root / "policies" / "legacy-policy.yaml").write_text(
        """apiVersion: jitops/v1
kind: Policy
name: legacy
targets: [legacy]
requesters: [alice, bob, carol]
roles:
  operator: {max_duration: 8h, auto_approve: true}
"""
    )
    write_request(
        root,
        "alice-1",
        target="legacy",
        role="operator",
        requester="alice",
        duration="",
        expires_at="2026-11-23T18:00:00Z",
    )
    write_request(
        root,
        "bob-1",
        target="legacy",
        role="operator",
        requester="bob",
        duration="",
        expires_at="2026-11-23T11:00:00Z",
    )  # expired
    write_request(
        root,
        "carol-1",
        target="legacy",
        role="operator",
        requester="carol",
        duration="",
        expires_at="2026-11-23T18:00:00Z",
    )
    commit_all(root, "grants", date="2026-11-23T09:00:00Z")
    state = tmp_path / "state.json"
    grant = {"role": "operator", "expires_at": "2026-11-23T18:00:00Z"}
    state.write_text(
        json.dumps(
            {
                "alice/operator": {**grant, "requester": "alice", "request_id": "alice-1"},
                "bob/operator": {**grant, "requester": "bob", "request_id": "bob-1"},
                "mallory/operator": {**grant, "requester": "mallory", "request_id": "by-hand"},
            }
        )
    )
    monkeypatch.setenv("FAKE_STATE", str(state))
    monkeypatch.setenv("FAKE_EXPECTED_TOKEN", TOKEN)
    monkeypatch.setenv("FAKE_TOKEN", TOKEN)
    return root


def held(repo: Path) -> set[str]:
    import os

    return set(json.loads(Path(os.environ["FAKE_STATE"]).read_text()))


def test_dry_run_reports_and_changes_nothing(repo: Path, cli: CLI) -> None:
    result = cli("reconcile", "--repo", str(repo), "--now", NOW, "--dry-run", "--target", "legacy")
    assert result.code == 1, result.output
    assert "legacy: would revoke: @mallory operator (unapproved)" in result.out
    assert "legacy: would revoke: @bob operator (unapproved)" in result.out
    assert "legacy: left to apply: @carol operator (missing)" in result.out
    assert held(repo) == {"alice/operator", "bob/operator", "mallory/operator"}


def test_reconcile_revokes_unapproved_and_expired_access(repo: Path, cli: CLI) -> None:
    result = cli("reconcile", "--repo", str(repo), "--now", NOW, "--target", "legacy")
    assert result.code == 0, result.output
    assert held(repo) == {"alice/operator"}
    again = cli("reconcile", "--repo", str(repo), "--now", NOW, "--target", "legacy")
    assert again.code == 0
    assert "revoked" not in again.out  # rerunning is safe and finds nothing more


def test_an_unreachable_target_fails_loudly_without_leaking_its_secret(
    repo: Path, cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_TOKEN", "wrong-" + TOKEN)
    result = cli("reconcile", "--repo", str(repo), "--now", NOW, "--target", "legacy")
    assert result.code == 3
    assert "legacy: error:" in result.out
    assert TOKEN not in result.output


def test_unknown_target(repo: Path, cli: CLI) -> None:
    result = cli("reconcile", "--repo", str(repo), "--target", "nope")
    assert result.code == 2 and "no target 'nope'" in result.output
