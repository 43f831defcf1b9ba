"""Evidence notes: what apply verified, kept in git beside the merge it verified, read back as
recorded, and a note nobody can read reported as such, never taken as evidence."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from jitops import evidence, git
from tests.gitrepo import commit_all, init_repo
from tests.gitrepo import git as run_git


def _evidence(pull: int) -> evidence.ApprovalEvidence:
    return evidence.ApprovalEvidence(
        pull_request=pull,
        head_sha="a" * 40,
        policy_commit="b" * 40,
        verified_at=datetime(2026, 12, 1, 9, 30, tzinfo=UTC),
        verified_by="jitops apply",
        verdict="allowed",
        summary="1 request allowed",
        requests=[
            evidence.RequestEvidence(
                id="db-1",
                path="requests/db/reader/db-1.yaml",
                blob="c" * 40,
                verdict="allowed",
                reason="approved",
                policy="sandbox-db",
                approvers=[evidence.Approver(login="bob", review_id=7, teams=["@acme/leads"])],
            )
        ],
    )


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, list[str]]:
    root = init_repo(tmp_path / "r")
    commits = []
    for name in ("one", "two", "three"):
        (root / f"{name}.txt").write_text(name)
        commits.append(commit_all(root, name))
    return root, commits


def test_recorded_evidence_reads_back_as_it_was_written(repo: tuple[Path, list[str]]) -> None:
    root, (first, second, third) = repo
    assert not evidence.present(root)
    evidence.record(root, first, _evidence(1))
    evidence.record(root, third, _evidence(3))
    assert evidence.present(root)
    assert evidence.read_for(root, [first, second]) == {first: _evidence(1)}
    found, broken = evidence.read_all(root)
    assert found == {first: _evidence(1), third: _evidence(3)} and broken == {}
    assert found[first].for_request("db-1") == _evidence(1).requests[0]
    assert found[first].for_request("db-2") is None
    evidence.record(root, first, _evidence(11))  # a rerun replaces its own note
    assert evidence.read_for(root, [first])[first] == _evidence(11)


@pytest.mark.parametrize(
    "note",
    [
        "not json\n",
        '{"version": 1}\n',  # fields missing
        _evidence(1).model_dump_json()[:-1] + ', "granted_forever": true}\n',  # unknown field
        _evidence(1).model_dump_json().replace('"allowed"', '"approved"', 1),  # no such verdict
    ],
)
def test_a_note_that_does_not_read_as_evidence_is_reported_not_trusted(
    repo: tuple[Path, list[str]], note: str
) -> None:
    root, (first, second, _) = repo
    evidence.record(root, second, _evidence(2))
    git.add_note(root, first, note)
    assert isinstance(evidence.read_for(root, [first])[first], str)
    found, broken = evidence.read_all(root)
    assert set(found) == {second}
    assert broken[first].startswith("unreadable evidence note")


def test_a_fresh_clone_has_no_notes_until_it_fetches_them(
    repo: tuple[Path, list[str]], tmp_path: Path
) -> None:
    root, (first, *_) = repo
    evidence.record(root, first, _evidence(1))
    clone = tmp_path / "clone"
    run_git(tmp_path, "clone", "-q", str(root), str(clone))
    assert not evidence.present(clone)
    run_git(clone, *evidence.FETCH_NOTES.split()[1:])
    assert evidence.read_for(clone, [first]) == {first: _evidence(1)}


def test_evidence_needs_a_time_with_its_zone() -> None:
    with pytest.raises(ValidationError):
        evidence.ApprovalEvidence.model_validate(
            {**_evidence(1).model_dump(mode="json"), "verified_at": "2026-12-01T09:30:00"}
        )


def test_an_unreadable_note_says_where_and_why() -> None:
    assert evidence.parse_note(b"not json") == (
        "unreadable evidence note: Invalid JSON: expected ident at line 1 column 2"
    )
    extra = _evidence(1).model_dump_json()[:-1] + ', "granted_forever": true}'
    assert evidence.parse_note(extra.encode()) == (
        "unreadable evidence note: granted_forever: Extra inputs are not permitted"
    )
    assert isinstance(
        evidence.parse_note(_evidence(1).model_dump_json().encode()), evidence.ApprovalEvidence
    )
