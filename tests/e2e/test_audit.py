"""``jitops audit`` and ``jitops audit verify`` through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

from jitops import evidence
from tests.commands.test_audit import approval
from tests.e2e.conftest import CLI
from tests.gitrepo import commit_all, make_access_repo, write_request


def test_audit_cli(tmp_path: Path, cli: CLI) -> None:
    repo = make_access_repo(tmp_path / "access")
    path = write_request(repo, "ok-1", duration="4h")
    merged = commit_all(repo, "grant", date="2026-11-23T09:00:00Z")
    evidence.record(repo, merged, approval("ok-1", path.relative_to(repo).as_posix()))
    result = cli("audit", "--repo", str(repo))
    assert result.code == 0, result.output
    assert (
        "ok-1     @alice  sandbox-db/readonly  2026-11-23 09:00  2026-11-23 13:00  @bob"
        in result.out
    )
    assert result.out.startswith("request  who     access               from (UTC)")
    assert "jitops: 1 grant(s) in history, 0 without approval evidence" in result.err
    assert cli("audit", "--repo", str(repo), "verify").code == 0

    write_request(repo, "sneaky-1", duration="1h")
    commit_all(repo, "no review", date="2026-11-23T10:00:00Z")
    verify = cli("audit", "--repo", str(repo), "verify")
    assert verify.code == 1
    assert "sneaky-1 (landed" in verify.out and "no approval evidence" in verify.out
    grants = json.loads(cli("audit", "--repo", str(repo), "--format", "json").out)["grants"]
    assert [(g["id"], g["approvers"], g["pull_request"]) for g in grants] == [
        ("ok-1", ["bob"], 7),
        ("sneaky-1", [], None),
    ]
