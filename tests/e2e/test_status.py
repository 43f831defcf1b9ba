"""``jitops status`` end to end: grants now and at a past moment, from git alone."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import CLI
from tests.gitrepo import PROJECT, commit_all, make_access_repo, record_applied, write_request


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


@pytest.mark.parametrize("command", ["status", "audit", "sweep", "reconcile", "index"])
@pytest.mark.parametrize(
    ("where", "says"),
    [
        ("no-git", "is not in a git repository"),
        ("no-commit", "has no commit yet — commit policies/"),
    ],
)
def test_outside_a_repository_or_before_its_first_commit_it_says_which(
    tmp_path: Path, cli: CLI, command: str, where: str, says: str
) -> None:
    """A newcomer who runs jitops in a plain folder, or in a repository with nothing committed,
    is told that, not to pass a branch."""
    root = tmp_path / where
    root.mkdir()
    shutil.copytree(PROJECT / "policies", root / "policies")
    if where == "no-commit":
        subprocess.run(["git", "init", "-q", str(root)], check=True)
    result = cli(command, "--repo", str(root))
    assert result.code == 2, result.output
    assert says in result.err and "pass a branch" not in result.err
    assert "Traceback" not in result.output
