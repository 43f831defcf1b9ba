"""Where the running jitops came from, and the commit ``jitops init`` pins its workflows to:
pip's record (PEP 610 ``direct_url.json``) read from a stand-in distribution, and real git
clones in ``tmp_path``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jitops import installed_from
from jitops.errors import UsageError
from jitops.installed_from import ActionPin, origin, parse_pin
from tests.gitrepo import commit_all, git, init_repo

COMMIT = "0123456789abcdef" * 2 + "01234567"


class Recorded:
    """A distribution whose direct_url.json holds ``direct`` (None: not there)."""

    def __init__(self, direct: object) -> None:
        self.direct = direct

    def read_text(self, name: str) -> str | None:
        assert name == "direct_url.json"
        if self.direct is None:
            return None
        return self.direct if isinstance(self.direct, str) else json.dumps(self.direct)


def recorded(monkeypatch: pytest.MonkeyPatch, direct: object) -> None:
    monkeypatch.setattr(installed_from.metadata, "distribution", lambda name: Recorded(direct))


def github_clone(root: Path, *, pushed: bool = True) -> Path:
    """A clone of github.com/acme/jitops with one commit; ``pushed``: origin/main holds it."""
    init_repo(root)
    (root / "pyproject.toml").write_text("[project]\nname = 'jitops'\n")
    commit = commit_all(root, "jitops")
    git(root, "remote", "add", "origin", "https://github.com/acme/jitops.git")
    if pushed:
        git(root, "update-ref", "refs/remotes/origin/main", commit)
    return root


def test_a_pin_is_a_repository_and_a_full_commit() -> None:
    assert parse_pin(f"acme/jitops@{COMMIT}") == ActionPin("acme/jitops", COMMIT)
    assert parse_pin(f" my-org/jitops.fork@{COMMIT} ").repository == "my-org/jitops.fork"
    for bad in ("acme/jitops", "acme/jitops@v1", f"acme/jitops@{COMMIT[:12]}", f"@{COMMIT}"):
        with pytest.raises(UsageError, match="not OWNER/NAME@COMMIT"):
            parse_pin(bad)


def test_installed_by_pip_from_github_names_that_commit(monkeypatch: pytest.MonkeyPatch) -> None:
    recorded(
        monkeypatch,
        {"url": "https://github.com/acme/jitops", "vcs_info": {"vcs": "git", "commit_id": COMMIT}},
    )
    found = origin()
    assert found.pin == ActionPin("acme/jitops", COMMIT)
    assert not found.warnings and not found.from_index


def test_from_a_package_index_it_is_a_release(monkeypatch: pytest.MonkeyPatch) -> None:
    recorded(monkeypatch, None)
    found = origin()
    assert found.from_index and found.pin is None


@pytest.mark.parametrize(
    "direct, problem",
    [
        (
            {"url": "https://hg.example/jitops", "vcs_info": {"vcs": "hg", "commit_id": "x"}},
            "not git",
        ),
        ({"url": "/srv/jitops", "vcs_info": {"vcs": "git", "commit_id": COMMIT}}, "not a GitHub"),
        ({"url": "https://example.com/jitops-0.1.0.tar.gz", "archive_info": {}}, "names no commit"),
        ("{not json", "unreadable"),
    ],
)
def test_what_names_no_github_commit_says_why(
    monkeypatch: pytest.MonkeyPatch, direct: object, problem: str
) -> None:
    recorded(monkeypatch, direct)
    found = origin()
    assert found.pin is None and not found.from_index
    assert problem in found.problem


def test_a_clone_names_its_head_on_origin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clone = github_clone(tmp_path / "jitops")
    recorded(monkeypatch, {"url": clone.as_uri(), "dir_info": {"editable": True}})
    found = origin()
    head = git(clone, "rev-parse", "HEAD").strip()
    assert found.pin == ActionPin("acme/jitops", head)
    assert found.warnings == ()
    assert str(clone) in found.described


def test_a_clone_warns_of_an_unpushed_commit_and_of_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clone = github_clone(tmp_path / "jitops", pushed=False)
    (clone / "pyproject.toml").write_text("[project]\nname = 'changed'\n")
    recorded(monkeypatch, {"url": clone.as_uri(), "dir_info": {"editable": True}})
    found = origin()
    assert found.pin is not None
    unpushed, changed = found.warnings
    assert "is on no branch of origin (acme/jitops)" in unpushed and "push it" in unpushed
    assert "changes not committed" in changed


def test_a_folder_that_is_no_github_clone_names_no_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    local = init_repo(tmp_path / "local")
    commit_all(local, "jitops")
    git(local, "remote", "add", "origin", str(tmp_path / "elsewhere"))  # a path, not GitHub
    for folder, problem in ((plain, "not a git clone"), (local, "no GitHub remote")):
        recorded(monkeypatch, {"url": folder.as_uri(), "dir_info": {}})
        found = origin()
        assert found.pin is None and problem in found.problem
