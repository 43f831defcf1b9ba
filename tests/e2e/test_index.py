"""``jitops index``: build, extend and publish the request-id index, and check it."""

from __future__ import annotations

from pathlib import Path

import pytest

from jitops import git, ids
from tests.e2e.conftest import CLI
from tests.gitrepo import commit_all, make_access_repo, write_request
from tests.gitrepo import git as run_git


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = make_access_repo(tmp_path / "access")
    write_request(root, "one-1")
    commit_all(root, "grant one-1")
    return root


def test_build_extend_and_check(repo: Path, cli: CLI) -> None:
    built = cli("index", "--repo", str(repo))
    assert built.code == 0, built.output
    assert "request-id index rebuilt from the whole history" in built.out
    assert "1 id(s) up to" in built.out
    write_request(repo, "two-2")
    commit_all(repo, "grant two-2")
    extended = cli("index", "--repo", str(repo))
    assert "extended over" in extended.out and "2 id(s)" in extended.out and "1 new" in extended.out
    assert "unchanged" in cli("index", "--repo", str(repo)).out
    checked = cli("index", "--repo", str(repo), "--check")
    assert checked.code == 0 and "agrees with the history" in checked.err


def test_publishing_starts_from_the_remotes_index(repo: Path, cli: CLI, tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    run_git(tmp_path, "clone", "-q", "--bare", str(repo), str(remote))
    run_git(repo, "remote", "add", "origin", str(remote))
    first = cli("index", "--repo", str(repo), "--push")
    assert first.code == 0, first.output
    assert "note: the remote's index was not read" in first.err  # none there yet
    assert f"pushed {ids.INDEX_REF}" in first.out
    assert ids.load(remote).index == ids.load(repo).index

    clone = tmp_path / "clone"
    run_git(tmp_path, "clone", "-q", str(remote), str(clone))
    write_request(clone, "two-2")
    commit_all(clone, "grant two-2")
    second = cli("index", "--repo", str(clone), "--push")
    assert second.code == 0 and "extended over" in second.out and "note:" not in second.err
    index = ids.load(remote).index
    assert index is not None and index.ids == ("one-1", "two-2")


def test_check_reports_disagreement_and_writes_nothing(repo: Path, cli: CLI) -> None:
    head = git.resolve(repo, "HEAD") or ""
    forged = ids.encode(ids.IdIndex(head, ("made-up-1",)))
    git.write_file_commit(repo, ids.INDEX_REF, ids.INDEX_FILE, forged, "forged\n")
    before = git.resolve(repo, ids.INDEX_REF)
    result = cli("index", "--repo", str(repo), "--check")
    assert result.code == 1
    assert "refs/jitops/ids: denied: hides 1 request id(s)" in result.out and "one-1" in result.out
    assert "lists 1 request id(s) never used" in result.out and "made-up-1" in result.out
    assert git.resolve(repo, ids.INDEX_REF) == before


def test_an_index_the_check_cannot_use_is_a_warning(repo: Path, cli: CLI) -> None:
    assert cli("index", "--repo", str(repo), "--check").err.startswith(
        "jitops: there is no request-id index"
    )
    git.write_file_commit(repo, ids.INDEX_REF, ids.INDEX_FILE, b"garbage\n", "broken\n")
    result = cli("index", "--repo", str(repo), "--check")
    assert result.code == 0
    assert "warning: not used by the replay check" in result.out and "malformed" in result.out


def test_check_takes_no_write_options(repo: Path, cli: CLI) -> None:
    result = cli("index", "--repo", str(repo), "--check", "--push")
    assert result.code == 2 and "--check writes nothing" in result.err
