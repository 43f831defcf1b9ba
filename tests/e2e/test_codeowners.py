"""``jitops codeowners`` end to end, on real git repos: rendered from the policies, written in
place, and never written or read through a link."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from jitops import owners
from tests.e2e.conftest import CLI
from tests.gitrepo import make_access_repo


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_access_repo(tmp_path / "access")


def test_codeowners_out_of_date_fails_until_rewritten(repo: Path, cli: CLI) -> None:
    policy = repo / "policies" / "sandbox-db.yaml"
    policy.write_text(policy.read_text().replace('"@acme/security"', '"@acme/secops"'))
    result = cli("validate", "--repo", str(repo))
    assert result.code == 1
    assert ".github/CODEOWNERS:8:1: denied: CODEOWNERS does not match the policies" in result.out
    assert "jitops codeowners --write" in result.out
    assert cli("codeowners", "--repo", str(repo), "--write").code == 0
    assert "@acme/secops" in (repo / ".github" / "CODEOWNERS").read_text()
    assert cli("validate", "--repo", str(repo)).code == 0


def test_without_write_it_prints_and_changes_nothing(repo: Path, cli: CLI) -> None:
    committed = repo / ".github" / "CODEOWNERS"
    committed.unlink()
    result = cli("codeowners", "--repo", str(repo))
    assert result.code == 0
    assert "/requests/sandbox-db/readwrite/ @acme/db-leads" in result.out
    assert not committed.exists()


def test_it_writes_where_github_reads_an_existing_file(repo: Path, cli: CLI) -> None:
    """GitHub reads the first of .github/, the root and docs/: an existing docs/CODEOWNERS is
    rewritten there, not shadowed by a new .github/CODEOWNERS."""
    (repo / ".github" / "CODEOWNERS").unlink()
    (repo / "docs").mkdir()
    (repo / "docs" / "CODEOWNERS").write_text("* @someone\n")
    result = cli("codeowners", "--repo", str(repo), "--write")
    assert result.code == 0 and "docs/CODEOWNERS" in result.err
    assert not (repo / ".github" / "CODEOWNERS").exists()
    written = (repo / "docs" / "CODEOWNERS").read_text()
    assert "/requests/sandbox-db/readwrite/ @acme/db-leads" in written


def test_broken_policies_render_nothing_and_exit_2(repo: Path, cli: CLI) -> None:
    committed = repo / ".github" / "CODEOWNERS"
    before = committed.read_text()
    policy = repo / "policies" / "sandbox-db.yaml"
    policy.write_text(policy.read_text().replace("roles:", "rolez:", 1))
    result = cli("codeowners", "--repo", str(repo), "--write")
    assert result.code == 2
    assert "policies/sandbox-db.yaml" in result.out and "no CODEOWNERS rendered" in result.err
    assert committed.read_text() == before


@pytest.mark.attack(6, "a checkout's CODEOWNERS is a link: --write would overwrite its target")
@pytest.mark.parametrize("link", [".github/CODEOWNERS", ".github"])
def test_write_never_follows_a_link(repo: Path, cli: CLI, tmp_path: Path, link: str) -> None:
    """A pull request's branch can make CODEOWNERS (or .github/) a link to a file of whoever
    runs ``jitops codeowners --write`` in its checkout; the file pointed at stays untouched."""
    victim = tmp_path / "outside"
    victim.mkdir()
    (victim / "CODEOWNERS").write_text("not yours\n")
    target = repo / link
    if target.is_dir():
        for child in target.iterdir():
            child.unlink()
        target.rmdir()
    else:
        target.unlink()
    target.symlink_to(victim if link == ".github" else victim / "CODEOWNERS")
    result = cli("codeowners", "--repo", str(repo), "--write")
    assert result.code == 2
    assert "link" in result.err and "Traceback" not in result.output
    assert (victim / "CODEOWNERS").read_text() == "not yours\n"


@pytest.mark.attack(6, "CODEOWNERS a link to a file that matches, to a device, or a pipe")
@pytest.mark.parametrize("kind", ["link to a matching file", "link to /dev/zero", "pipe"])
def test_validate_refuses_a_codeowners_that_is_not_a_regular_file(
    repo: Path, cli: CLI, tmp_path: Path, kind: str
) -> None:
    """A link is refused even when what it points at matches (GitHub reads the repository's
    file, not what a checkout's link reaches), and nothing is read to the end of a device or
    waited on from a pipe."""
    committed = repo / ".github" / "CODEOWNERS"
    elsewhere = tmp_path / "CODEOWNERS"
    elsewhere.write_text(committed.read_text())
    committed.unlink()
    if kind == "pipe":
        os.mkfifo(committed)
    else:
        committed.symlink_to(elsewhere if "matching" in kind else Path("/dev/zero"))
    result = cli("validate", "--repo", str(repo))
    assert result.code == 2, result.output
    expected = "symbolic links are not allowed" if "link" in kind else "not a regular file"
    assert f".github/CODEOWNERS: error: {expected}" in result.out
    assert "Traceback" not in result.output


@pytest.mark.attack(6, "CODEOWNERS over GitHub's size limit is refused without being read")
def test_validate_refuses_a_codeowners_github_would_not_load(repo: Path, cli: CLI) -> None:
    committed = repo / ".github" / "CODEOWNERS"
    with committed.open("a") as out:
        out.truncate(3 * 1000 * 1000 + 1)
    result = cli("validate", "--repo", str(repo))
    assert result.code == 2
    assert "GitHub ignores a CODEOWNERS file over 3 MB" in result.out


def test_a_repository_reached_through_a_link_is_read_as_itself(
    repo: Path, cli: CLI, tmp_path: Path
) -> None:
    """--repo may be a link to the checkout (a home folder's shortcut): only a link inside the
    repository is refused, and a CODEOWNERS at the root is found wherever it lives."""
    (repo / ".github" / "CODEOWNERS").rename(repo / "CODEOWNERS")
    shortcut = tmp_path / "shortcut"
    shortcut.symlink_to(repo, target_is_directory=True)
    assert owners.find(shortcut) == shortcut / "CODEOWNERS"
    (repo / "CODEOWNERS").unlink()
    assert owners.find(shortcut) is None  # not "found" because the folder is a link
