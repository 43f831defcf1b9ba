"""Revocation notes: when apply or the sweep revoked each grant, kept line by line across runs
and clones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from jitops import git, revocation_record
from jitops.revocation_record import RevocationRecord
from tests.gitrepo import commit_all, make_access_repo
from tests.gitrepo import git as run_git

AT = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def revocation(request_id: str, minutes: int = 0, by: str = "sweep") -> RevocationRecord:
    return RevocationRecord(
        request_id, f"requests/x/y/{request_id}.yaml", "c" * 40, AT + timedelta(minutes=minutes), by
    )


def test_runs_on_one_commit_add_lines_and_the_first_revoke_counts(tmp_path: Path) -> None:
    root = make_access_repo(tmp_path / "access")
    head = git.resolve(root, "HEAD") or ""
    revocation_record.record(root, head, [revocation("a-1", 30, "apply")])
    revocation_record.record(root, head, [revocation("a-1"), revocation("b-1", 15)])
    revocation_record.record(root, head, [])  # nothing revoked: nothing written
    times = revocation_record.read_all(root)
    assert times.first == {("a-1", "c" * 40): AT, ("b-1", "c" * 40): AT + timedelta(minutes=15)}
    assert times.unreadable == 0


def test_a_line_that_cannot_be_read_is_counted_not_trusted(tmp_path: Path) -> None:
    root = make_access_repo(tmp_path / "access")
    head = git.resolve(root, "HEAD") or ""
    lines = [
        revocation("a-1").line(),
        '{"id": "b-1", "revoked_at": "2026-11-23T12:00:00"}',  # no timezone
        '{"id": 7, "revoked_at": "2026-11-23T12:00:00+00:00"}',
        "not json",
    ]
    git.add_note(root, head, "\n".join(lines) + "\n", ref=git.REVOCATIONS_REF)
    times = revocation_record.read_all(root)
    assert list(times.first) == [("a-1", "c" * 40)] and times.unreadable == 3


def test_two_runs_publishing_on_one_commit_keep_each_other_s_lines(tmp_path: Path) -> None:
    """Two sweeps of an unmoved branch from fresh checkouts both note on its head: the second
    push merges the first's lines in instead of replacing them."""
    origin = make_access_repo(tmp_path / "origin")
    commit_all(origin, "x", date="2026-11-23T09:00:00Z")
    bare = tmp_path / "origin.git"
    run_git(tmp_path, "clone", "-q", "--bare", str(origin), str(bare))
    clones = []
    for name in ("first", "second"):
        clone = tmp_path / name
        run_git(tmp_path, "clone", "-q", str(bare), str(clone))
        clones.append(clone)
    head = git.resolve(clones[0], "HEAD") or ""
    revocation_record.record(clones[0], head, [revocation("a-1")])
    revocation_record.publish(clones[0], None)
    revocation_record.record(clones[1], head, [revocation("b-1", 15)])
    revocation_record.publish(clones[1], None)
    auditor = tmp_path / "auditor"
    run_git(tmp_path, "clone", "-q", str(bare), str(auditor))
    assert git.fetch_notes(auditor, ref=git.REVOCATIONS_REF).fetched
    assert set(revocation_record.read_all(auditor).first) == {
        ("a-1", "c" * 40),
        ("b-1", "c" * 40),
    }
