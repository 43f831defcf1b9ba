"""The ledger: grants and their windows read from git alone, now or at any past moment."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest

from jitops.commands.status import StatusOptions, status
from jitops.ledger import GrantState, commit_at, read_ledger
from tests.gitrepo import commit_all, git, make_access_repo, record_applied, write_request


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = make_access_repo(tmp_path / "access")
    write_request(root, "dur-1", duration="2h")
    commit_all(root, "grant dur-1", date="2026-11-23T09:00:00Z")
    write_request(root, "abs-1", duration="", expires_at="2026-11-23T12:00:00Z")
    write_request(
        root,
        "sched-1",
        duration="",
        starts_at="2026-11-24T22:00:00Z",
        expires_at="2026-11-24T23:00:00Z",
    )
    commit_all(root, "grant abs-1 and sched-1", date="2026-11-23T10:00:00Z")
    record_applied(root)
    (root / "requests" / "sandbox-db" / "readonly" / "dur-1.yaml").unlink()
    commit_all(root, "revoke dur-1", date="2026-11-23T11:30:00Z")
    return root


def test_windows_come_from_landing_times(repo: Path) -> None:
    git(repo, "checkout", "-q", "HEAD~1")
    ledger = read_ledger(repo)
    by_id = {e.request.id: e for e in ledger.entries}
    assert by_id["dur-1"].starts_at == at("2026-11-23T09:00:00Z")
    assert by_id["dur-1"].expires_at == at("2026-11-23T11:00:00Z")
    assert by_id["abs-1"].starts_at == at("2026-11-23T10:00:00Z")  # opened when it landed
    assert by_id["sched-1"].state(at("2026-11-24T00:00:00Z")) is GrantState.SCHEDULED
    assert by_id["dur-1"].state(at("2026-11-23T10:59:00Z")) is GrantState.ACTIVE
    assert by_id["dur-1"].state(at("2026-11-23T11:00:00Z")) is GrantState.EXPIRED


def test_a_duration_window_opens_at_the_merge_not_the_authoring(tmp_path: Path) -> None:
    root = make_access_repo(tmp_path / "access")
    git(root, "checkout", "-q", "-b", "pr")
    write_request(root, "merged-1", duration="2h")
    commit_all(root, "request", date="2026-11-20T09:00:00Z")
    git(root, "checkout", "-q", "main")
    env = {
        **os.environ,
        "GIT_COMMITTER_DATE": "2026-11-23T09:00:00Z",
        "GIT_AUTHOR_DATE": "2026-11-23T09:00:00Z",
    }
    git(root, "merge", "-q", "--no-ff", "-m", "merge", "pr", env=env)
    [entry] = read_ledger(root).entries
    assert entry.starts_at == at("2026-11-23T09:00:00Z")
    assert (
        entry.landing is not None and entry.landing.commit == git(root, "rev-parse", "HEAD").strip()
    )


def test_status_now_lists_what_the_branch_holds(repo: Path) -> None:
    report = status(StatusOptions(root=repo, at=at("2026-11-23T11:45:00Z")))
    states = {e.request.id: s for e, s in report.entries}
    assert states == {"abs-1": GrantState.ACTIVE, "sched-1": GrantState.SCHEDULED}


def test_status_at_a_past_moment_reads_history(repo: Path) -> None:
    report = status(StatusOptions(root=repo, at=at("2026-11-23T10:30:00Z"), historical=True))
    active = {e.request.id for e in report.in_state(GrantState.ACTIVE)}
    assert active == {"dur-1", "abs-1"}  # dur-1 had not yet been removed
    before = status(StatusOptions(root=repo, at=at("2026-11-23T09:30:00Z"), historical=True))
    assert {e.request.id for e in before.in_state(GrantState.ACTIVE)} == {"dur-1"}


def test_commit_at(repo: Path) -> None:
    assert commit_at(repo, "HEAD", at("2026-10-01T00:00:00Z")) is None
    assert (
        commit_at(repo, "HEAD", at("2026-12-01T00:00:00Z"))
        == git(repo, "rev-parse", "HEAD").strip()
    )


def test_a_bad_file_on_the_branch_is_a_finding_not_a_crash(repo: Path) -> None:
    bad = repo / "requests" / "sandbox-db" / "readonly" / "bad-1.yaml"
    bad.write_text("a: &x 1\nb: *x\n")
    huge = repo / "requests" / "sandbox-db" / "readonly" / "huge-1.yaml"
    huge.write_text("# " + "x" * 70_000)
    commit_all(repo, "bad")
    ledger = read_ledger(repo)
    messages = " ".join(f.text for f in ledger.findings)
    assert "anchors and aliases" in messages and "over the limit" in messages
    assert {e.request.id for e in ledger.entries} == {"abs-1", "sched-1"}


def test_a_large_branch_is_parsed_on_all_cores_with_the_same_result(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serial = read_ledger(repo)
    monkeypatch.setattr("jitops.parallel.PARALLEL_THRESHOLD", 1)
    parallel = read_ledger(repo)
    assert parallel == serial


def test_only_what_apply_verified_is_granted(tmp_path: Path) -> None:
    """A file's standing comes from apply's note on the commit that landed its content."""
    from jitops import evidence
    from jitops.ledger import Standing

    root = make_access_repo(tmp_path / "access")
    write_request(root, "ok-1")
    write_request(root, "no-1")
    write_request(root, "other-1")
    commit_all(root, "land three", date="2026-11-23T09:00:00Z")
    record_applied(root, only={"ok-1", "other-1"})
    head = git(root, "rev-parse", "HEAD").strip()
    note = evidence.read_all(root)[0][head]
    # apply verified other content for other-1 than the branch holds
    forged = [
        r.model_copy(update={"blob": "0" * 40}) if r.id == "other-1" else r for r in note.requests
    ]
    evidence.record(root, head, note.model_copy(update={"requests": forged}))
    by_id = {e.request.id: e for e in read_ledger(root).entries}
    assert by_id["ok-1"].standing is Standing.GRANTED
    assert by_id["no-1"].standing is Standing.REFUSED  # the note of its merge leaves it out
    assert by_id["other-1"].standing is Standing.REFUSED
    assert "other content" in by_id["other-1"].standing_detail
    moment = at("2026-11-23T10:00:00Z")
    assert [e.request.id for e in read_ledger(root).in_state(GrantState.ACTIVE, moment)] == ["ok-1"]

    write_request(root, "ok-1", duration="8h")  # edited in place, after its grant
    write_request(root, "late-1")
    commit_all(root, "edit", date="2026-11-23T09:30:00Z")
    by_id = {e.request.id: e for e in read_ledger(root).entries}
    assert by_id["ok-1"].standing is Standing.EDITED
    assert by_id["ok-1"].landing is not None and by_id["ok-1"].landing.edited
    assert by_id["ok-1"].expires_at == at("2026-11-23T17:30:00Z")  # its own, ungranted window
    assert by_id["late-1"].standing is Standing.NEVER_GRANTED
    assert status(StatusOptions(root=root, at=moment)).in_state(GrantState.ACTIVE) == []


def test_a_clone_without_notes_says_so(tmp_path: Path) -> None:
    from jitops.ledger import Standing

    root = make_access_repo(tmp_path / "access")
    write_request(root, "a-1")
    commit_all(root, "land", date="2026-11-23T09:00:00Z")
    ledger = read_ledger(root)
    assert not ledger.evidence_present
    assert [e.standing for e in ledger.entries] == [Standing.UNRECORDED]
    assert any("git fetch origin refs/notes/jitops" in (f.hint or "") for f in ledger.findings)
