"""``jitops status`` end to end: grants now and at a past moment, from git alone."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.conftest import CLI
from tests.gitrepo import commit_all, make_access_repo, record_applied, write_request


def test_status_cli(tmp_path: Path, cli: CLI) -> None:
    repo = make_access_repo(tmp_path / "access")
    write_request(repo, "dur-1", duration="2h")
    commit_all(repo, "grant dur-1", date="2026-11-23T09:00:00Z")
    write_request(repo, "abs-1", duration="", expires_at="2026-11-23T12:00:00Z")
    commit_all(repo, "grant abs-1", date="2026-11-23T10:00:00Z")
    record_applied(repo)
    result = cli("status", "--repo", str(repo), "--at", "2026-11-23T10:30:00Z")
    assert result.code == 0, result.output
    assert "@alice  sandbox-db/readonly  2026-11-23 11:00  30m left    dur-1" in result.out
    assert "2 active grant(s)" in result.err
    result = cli("status", "--repo", str(repo), "--at", "2026-11-23T09:30:00Z", "--format", "json")
    assert {g["id"] for g in json.loads(result.out)["grants"]} == {"dur-1"}
