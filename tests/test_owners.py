"""CODEOWNERS rendered from the policies: GitHub's owner rule follows jitops' approver rule."""

from __future__ import annotations

from pathlib import Path

from jitops.owners import find, first_difference, render
from jitops.repo import load_policies
from tests.gitrepo import PROJECT


def test_render_routes_each_role_folder_to_its_approvers() -> None:
    policy_set = load_policies(PROJECT).policy_set
    assert policy_set is not None
    lines = render(policy_set).splitlines()
    assert "* @acme/platform" in lines
    assert "/requests/sandbox-db/admin/ @acme/db-leads @acme/security" in lines
    assert "/requests/sandbox-db/readwrite/ @acme/db-leads" in lines
    assert "/requests/sandbox-deployers/member/ @acme/platform-leads @carol" in lines
    # an auto-approved role has a line with no owners: GitHub then needs no code owner
    assert "/requests/sandbox-db/readonly/" in lines
    # the catch-all comes first: GitHub uses the last matching line
    assert lines.index("* @acme/platform") < lines.index("/requests/sandbox-db/readonly/")


def test_committed_codeowners_of_this_repository_is_in_sync() -> None:
    policy_set = load_policies(PROJECT).policy_set
    assert policy_set is not None
    committed = (PROJECT / ".github" / "CODEOWNERS").read_text()
    assert first_difference(render(policy_set), committed) is None


def test_first_difference() -> None:
    assert first_difference("a\nb\n", "a\nb\n") is None
    assert first_difference("a\nb\n", "a\nc\n") == 2
    assert first_difference("a\nb\n", "a\n") == 2
    assert first_difference("a\n", "a  \n") is None


def test_find_uses_githubs_order(tmp_path: Path) -> None:
    assert find(tmp_path) is None
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "CODEOWNERS").write_text("")
    assert find(tmp_path) == tmp_path / "docs" / "CODEOWNERS"
    (tmp_path / "CODEOWNERS").write_text("")
    assert find(tmp_path) == tmp_path / "CODEOWNERS"
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "CODEOWNERS").write_text("")
    assert find(tmp_path) == tmp_path / ".github" / "CODEOWNERS"
