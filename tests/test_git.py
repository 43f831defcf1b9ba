"""``jitops.git``'s view of a person's checkout: what ``checkout_state`` notices, and who
``set_identity`` makes the author."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from jitops import git
from tests.gitrepo import commit_all, init_repo
from tests.gitrepo import git as run_git


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """A clean clone of a repository with one commit, as a person has it."""
    origin = init_repo(tmp_path / "origin")
    (origin / "README").write_text("hello\n")
    commit_all(origin, "first")
    run_git(tmp_path, "clone", "-q", str(origin), str(tmp_path / "clone"))
    return tmp_path / "clone"


def _stage(root: Path) -> None:
    (root / "README").write_text("staged\n")
    run_git(root, "add", "README")


def _edit(root: Path) -> None:
    (root / "README").write_text("edited\n")


def _untracked(root: Path) -> None:
    (root / "requests").mkdir()
    (root / "requests" / "new.yaml").write_text("id: x\n")


def _commit(root: Path) -> None:
    commit_all(root, "more")


def _new_branch(root: Path) -> None:
    run_git(root, "branch", "jitops/request/x")


def _switch(root: Path) -> None:
    run_git(root, "switch", "-q", "-c", "elsewhere")


def _remove(root: Path) -> None:
    (root / "README").unlink()


@pytest.mark.parametrize(
    "disturb", [_stage, _edit, _untracked, _commit, _new_branch, _switch, _remove]
)
def test_checkout_state_notices_what_a_person_would(
    clone: Path, disturb: Callable[[Path], None]
) -> None:
    before = git.checkout_state(clone)
    assert git.checkout_state(clone) == before  # reading it changes nothing
    disturb(clone)
    assert git.checkout_state(clone) != before


def test_checkout_state_leaves_out_fetches_and_objects(clone: Path, tmp_path: Path) -> None:
    before = git.checkout_state(clone)
    origin = tmp_path / "origin"
    (origin / "README").write_text("upstream moved\n")
    commit_all(origin, "upstream")
    run_git(clone, "fetch", "-q", "origin")  # a new remote-tracking ref and new objects
    run_git(clone, "hash-object", "-w", "README")
    assert git.checkout_state(clone) == before


def test_set_identity_makes_the_author_of_commits_in_that_clone(
    clone: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for who in ("AUTHOR", "COMMITTER"):  # the suite's own identity, set for every test
        monkeypatch.delenv(f"GIT_{who}_NAME")
        monkeypatch.delenv(f"GIT_{who}_EMAIL")
    git.set_identity(clone, "Alice", "alice@users.noreply.example.com")
    assert git.identity_problem(clone) is None
    (clone / "notes").write_text("x\n")
    commit_all(clone, "by alice")
    assert run_git(clone, "log", "-1", "--format=%an <%ae>").strip() == (
        "Alice <alice@users.noreply.example.com>"
    )


def test_a_landing_is_the_last_change_and_says_whether_it_was_an_edit(tmp_path: Path) -> None:
    from jitops import git as jgit
    from tests.gitrepo import commit_all, init_repo

    root = init_repo(tmp_path / "r")
    (root / "requests").mkdir()
    (root / "requests" / "a.yaml").write_text("one\n")
    added = commit_all(root, "add")
    (root / "README").write_text("x\n")
    commit_all(root, "unrelated")
    first = jgit.landings(root, "HEAD", ["requests"])["requests/a.yaml"]
    assert first.commit == added and not first.edited
    (root / "requests" / "a.yaml").write_text("two\n")
    edited = commit_all(root, "edit")
    landing = jgit.landings(root, "HEAD", ["requests"])["requests/a.yaml"]
    assert landing.commit == edited and landing.edited


def test_the_policy_fingerprint_ignores_requests_only(tmp_path: Path) -> None:
    from jitops import git as jgit
    from tests.gitrepo import commit_all, git, init_repo

    root = init_repo(tmp_path / "r")
    (root / "requests").mkdir()
    (root / "requests" / "a.yaml").write_text("one\n")
    (root / "policy.yaml").write_text("p\n")
    first = commit_all(root, "first")
    (root / "requests" / "b.yaml").write_text("two\n")
    second = commit_all(root, "a request")
    git(root, "update-index", "--chmod=+x", "policy.yaml")
    git(root, "commit", "-q", "-m", "mode")
    third = git(root, "rev-parse", "HEAD").strip()
    fingerprint = [jgit.tree_outside(root, c, "requests") for c in (first, second, third)]
    assert fingerprint[0] == fingerprint[1] != fingerprint[2]
    changing = jgit.first_parent_commits_changing(root, "HEAD", excluding="requests")
    assert changing == [first, third]
