"""``jitops index`` as a command: its result says what it did, and its exit code is the
check's verdict — a forged index that hides an id fails it."""

from __future__ import annotations

from pathlib import Path

import pytest

from jitops import git, ids
from jitops.commands.index import run_index
from jitops.errors import ExitCode, UsageError
from jitops.ids import IndexOptions
from jitops.report.text import index_text
from tests.gitrepo import commit_all, make_access_repo, write_request
from tests.gitrepo import git as run_git


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """An access repository whose history used the id one-1."""
    root = make_access_repo(tmp_path / "access")
    write_request(root, "one-1")
    commit_all(root, "grant one-1")
    return root


def test_check_writes_nothing_so_it_refuses_rebuild_and_push(repo: Path) -> None:
    with pytest.raises(UsageError, match="--check writes nothing"):
        run_index(IndexOptions(repo, push=True), check=True)
    assert ids.load(repo).missing


def test_no_index_is_no_finding_and_an_update_builds_one(repo: Path) -> None:
    absent = run_index(IndexOptions(repo), check=True)
    assert absent.checked and absent.check is None and absent.exit_code is ExitCode.OK
    assert index_text(absent)[1] == [f"jitops: there is no request-id index ({ids.INDEX_REF})"]
    built = run_index(IndexOptions(repo))
    assert built.outcome is not None and built.outcome.update.how is ids.Update.REBUILT
    assert "rebuilt from the whole history" in index_text(built)[0][0]
    agreed = run_index(IndexOptions(repo), check=True)
    assert agreed.check is not None and agreed.check.agrees and agreed.exit_code is ExitCode.OK


def test_an_index_that_hides_a_used_id_fails_the_check(repo: Path) -> None:
    run_index(IndexOptions(repo))
    write_request(repo, "two-2")
    commit_all(repo, "grant two-2")
    # forge: the index claims to cover the new commit but leaves two-2 out
    head = run_git(repo, "rev-parse", "HEAD").strip()
    forged = ids.encode(ids.IdIndex(head, ("one-1",)))
    git.write_file_commit(repo, ids.INDEX_REF, ids.INDEX_FILE, forged, "forged\n")
    checked = run_index(IndexOptions(repo), check=True)
    assert checked.check is not None and "two-2" in checked.check.hidden
    assert checked.exit_code is ExitCode.DENIED and checked.findings
    assert index_text(checked) == ([], [])
