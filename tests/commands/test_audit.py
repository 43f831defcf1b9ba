"""``jitops audit``: the history of grants and their approvals, from git and its notes alone."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from jitops import evidence
from jitops.commands.audit import audit, unverified_findings
from tests.gitrepo import commit_all, git, make_access_repo, write_request


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def approval(request_id: str, path: str, *, verdict: str = "allowed") -> evidence.ApprovalEvidence:
    return evidence.ApprovalEvidence(
        pull_request=7,
        head_sha="a" * 40,
        policy_commit="b" * 40,
        verified_at=at("2026-11-23T09:00:05Z"),
        verified_by="jitops test",
        verdict=verdict,  # type: ignore[arg-type]
        summary="1 of 1 request(s) ready",
        requests=[
            evidence.RequestEvidence(
                id=request_id,
                path=path,
                verdict=verdict,  # type: ignore[arg-type]
                reason="approved by @bob",
                policy="sandbox-db",
                approvers=[evidence.Approver(login="bob", review_id=11, teams=["acme/db-leads"])],
            )
        ],
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = make_access_repo(tmp_path / "access")
    path = write_request(root, "ok-1", duration="4h")
    merged = commit_all(root, "grant ok-1 (#7)", date="2026-11-23T09:00:00Z")
    evidence.record(root, merged, approval("ok-1", path.relative_to(root).as_posix()))
    write_request(root, "sneaky-1", requester="mallory", duration="8h")
    commit_all(root, "pushed straight to main", date="2026-11-23T10:00:00Z")
    path.write_text(path.read_text().replace("duration: 4h", "duration: 8h"))
    commit_all(root, "extend ok-1 without review", date="2026-11-23T11:00:00Z")
    path.unlink()
    commit_all(root, "revoke ok-1", date="2026-11-23T12:00:00Z")
    return root


def test_history_of_grants_with_their_approvals(repo: Path) -> None:
    report = audit(repo)
    rows = [
        (r.request.id, r.landed_at, r.held_until, r.approvers, r.problem) for r in report.records
    ]
    assert rows == [
        ("ok-1", at("2026-11-23T09:00:00Z"), at("2026-11-23T11:00:00Z"), ("bob",), None),
        (
            "sneaky-1",
            at("2026-11-23T10:00:00Z"),
            at("2026-11-23T18:00:00Z"),
            (),
            "no approval evidence: apply never verified it",
        ),
        # the edit is a new grant: no evidence, and it ended when the file was removed
        (
            "ok-1",
            at("2026-11-23T11:00:00Z"),
            at("2026-11-23T12:00:00Z"),
            (),
            "no approval evidence: apply never verified it",
        ),
    ]
    assert report.records[0].pull_request == 7
    assert report.records[0].policy_commit == "b" * 40


def test_verify_lists_every_grant_without_a_valid_approval(repo: Path) -> None:
    findings = unverified_findings(audit(repo))
    assert [f.message.split(" ")[0] for f in findings] == ["sneaky-1", "ok-1"]


def test_refused_evidence_is_not_an_approval(tmp_path: Path) -> None:
    root = make_access_repo(tmp_path / "access")
    path = write_request(root, "bad-1")
    merged = commit_all(root, "grant", date="2026-11-23T09:00:00Z")
    evidence.record(root, merged, approval("bad-1", "x", verdict="denied"))
    [record] = audit(root).records
    assert record.problem == "apply refused it: approved by @bob"
    assert path.exists()


def test_a_corrupt_note_is_reported_not_trusted(tmp_path: Path) -> None:
    root = make_access_repo(tmp_path / "access")
    write_request(root, "n-1")
    merged = commit_all(root, "grant", date="2026-11-23T09:00:00Z")
    git(root, "notes", "--ref=refs/notes/jitops", "add", "-m", '{"forged": true}', merged)
    [record] = audit(root).records
    assert record.problem is not None and record.problem.startswith("unreadable evidence note")


def test_notes_survive_a_clone(repo: Path, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo), str(clone))
    git(clone, "fetch", "-q", "origin", "refs/notes/jitops:refs/notes/jitops")
    assert audit(clone).records[0].approvers == ("bob",)


def test_audit_of_a_repository_without_history(tmp_path: Path) -> None:
    from jitops.errors import UsageError

    root = tmp_path / "empty"
    root.mkdir()
    git(root, "init", "-q")
    with pytest.raises(UsageError):
        audit(root)


@pytest.mark.attack(8, "an evidence note copied onto an edit in place of a granted request")
def test_a_note_for_other_content_approves_nothing(tmp_path: Path) -> None:
    """apply records the blob it verified. A writer extends a granted request in place and
    copies the merge's note onto the edit's commit (notes are a ref any writer can push): the
    audit does not call the edit approved, and says whose content the note is for; the
    original grant stays approved."""
    root = make_access_repo(tmp_path / "access")
    path = write_request(root, "ok-1", duration="4h")
    relative = path.relative_to(root).as_posix()
    merged = commit_all(root, "grant ok-1 (#7)", date="2026-11-23T09:00:00Z")
    blob = git(root, "rev-parse", f"{merged}:{relative}").strip()
    note = approval("ok-1", relative)
    bound = note.requests[0].model_copy(update={"blob": blob})
    evidence.record(root, merged, note.model_copy(update={"requests": [bound]}))
    path.write_text(path.read_text().replace("duration: 4h", "duration: 4000h"))
    edited = commit_all(root, "extend ok-1", date="2026-11-23T10:00:00Z")
    git(root, "notes", "--ref=refs/notes/jitops", "copy", merged, edited)
    first, second = audit(root).records
    assert first.landed_commit == merged and first.problem is None
    assert first.approvers == ("bob",)
    assert second.landed_commit == edited and second.approvers == ()
    assert second.problem is not None
    assert second.problem.startswith("the evidence note of its merge is for other content")
    assert [f.message.split(" ")[0] for f in unverified_findings(audit(root))] == ["ok-1"]
