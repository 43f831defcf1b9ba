"""``.pre-commit-hooks.yaml``: pre-commit itself runs jitops' hooks on a scratch access
repository, installing jitops from this checkout as a user's pre-commit would from GitHub."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.gitrepo import PROJECT, commit_all, git, make_access_repo, write_request


def pre_commit(root: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", *args],
        cwd=root,
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )


@pytest.fixture(scope="module")
def hooks_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("pre_commit")
    if shutil.which("git") is None:
        pytest.skip("git is needed")
    return tmp_path_factory.mktemp("pre-commit-home")


def test_the_hooks_refuse_a_bad_request_and_pass_a_good_one(
    tmp_path: Path, hooks_home: Path
) -> None:
    root = make_access_repo(tmp_path / "access")
    commit_all(root, "policies", date="2026-11-23T09:00:00Z")
    bad = write_request(root, "bad-1", duration="forever")
    git(root, "add", "-A")
    refused = pre_commit(root, hooks_home, "try-repo", str(PROJECT), "jitops-validate")
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "jitops validate" in refused.stdout and "Failed" in refused.stdout
    assert "bad-1.yaml" in refused.stdout and "`duration`" in refused.stdout
    bad.unlink()
    write_request(root, "good-1", duration="2h")
    git(root, "add", "-A")
    passed = pre_commit(root, hooks_home, "try-repo", str(PROJECT), "jitops-validate")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "Passed" in passed.stdout
