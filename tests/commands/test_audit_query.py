"""``jitops audit``'s filters: who, what, when and who approved, combined; and at any moment
the same active grants as ``jitops status --at``."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from jitops import evidence
from jitops.commands.audit import AuditQuery, audit, verify
from jitops.commands.status import StatusOptions, status
from jitops.errors import UsageError
from jitops.ledger import GrantState
from tests.commands.test_audit import approval
from tests.gitrepo import commit_all, git, make_access_repo, record_applied, write_request


def at(text: str) -> datetime:
    return datetime.fromisoformat(f"2026-11-23T{text}:00+00:00")


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A morning of grants: a-1 and b-1 verified by apply, c-1 pushed with no review, b-1
    revoked early, a-1 then extended in place (content no one approved), d-1 verified and
    approved through a pull request that named bob."""
    root = make_access_repo(tmp_path_factory.mktemp("audit") / "access")
    a = write_request(root, "a-1", duration="2h")
    commit_all(root, "grant a-1", date="2026-11-23T09:00:00Z")
    record_applied(root, only={"a-1"})
    b = write_request(root, "b-1", requester="Carol", role="readwrite", duration="4h")
    commit_all(root, "grant b-1", date="2026-11-23T09:30:00Z")
    record_applied(root, only={"b-1"})
    write_request(root, "c-1", duration="1h")
    commit_all(root, "no review", date="2026-11-23T10:00:00Z")
    b.unlink()
    commit_all(root, "revoke b-1", date="2026-11-23T10:30:00Z")
    a.write_text(a.read_text().replace("duration: 2h", "duration: 8h"))
    commit_all(root, "extend a-1 in place", date="2026-11-23T11:00:00Z")
    d = write_request(root, "d-1", requester="dave", target="sandbox-db", duration="3h")
    merged = commit_all(root, "grant d-1 (#7)", date="2026-11-23T12:00:00Z")
    evidence.record(root, merged, approval("d-1", d.relative_to(root).as_posix()))
    return root


def ids(root: Path, **query: object) -> list[str]:
    report = audit(root).select(AuditQuery.of(**query))  # type: ignore[arg-type]
    return [r.request.id for r in report.records]


def test_without_a_filter_every_grant_in_history(history: Path) -> None:
    assert ids(history) == ["a-1", "b-1", "c-1", "a-1", "d-1"]


def test_by_user_target_and_role_case_and_at_sign_ignored(history: Path) -> None:
    assert ids(history, users=["@CAROL"]) == ["b-1"]
    assert ids(history, users=["alice", "dave"]) == ["a-1", "c-1", "a-1", "d-1"]
    assert ids(history, roles=["readwrite"]) == ["b-1"]
    assert ids(history, targets=["sandbox-db"], roles=["readonly"], users=["dave"]) == ["d-1"]
    assert ids(history, targets=["prod-db"]) == []


def test_by_approver(history: Path) -> None:
    assert ids(history, approvers=["@BOB"]) == ["d-1"]  # auto-approved grants name no one
    assert ids(history, approvers=["bob"], users=["alice"]) == []
    assert ids(history, approvers=["nobody"]) == []


def test_by_period_keeps_what_overlapped_it(history: Path) -> None:
    # a-1's first grant 09:00–11:00 (ended by the edit), b-1 09:30–10:30 (revoked early),
    # c-1 10:00–11:00, the edited a-1 11:00–19:00, d-1 12:00–15:00
    assert ids(history, since=at("10:30")) == ["a-1", "c-1", "a-1", "d-1"]
    assert ids(history, until=at("09:30")) == ["a-1"]
    assert ids(history, since=at("10:45"), until=at("11:30")) == ["a-1", "c-1", "a-1"]
    assert ids(history, since=at("15:00")) == ["a-1"]
    assert ids(history, since=at("10:31"), users=["carol"]) == []


def test_a_period_that_ends_before_it_starts_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="not after --since"):
        AuditQuery.of(since=at("11:00"), until=at("10:00"))


def test_verify_checks_all_of_history_and_refuses_filters(history: Path) -> None:
    with pytest.raises(UsageError, match="checks every grant in history"):
        verify(history, query=AuditQuery.of(users=["alice"]))


@pytest.mark.parametrize(
    "moment", ["09:15", "09:45", "10:15", "10:45", "11:15", "12:30", "15:30", "20:00"]
)
def test_at_any_moment_audit_and_status_agree_on_who_had_access(history: Path, moment: str) -> None:
    """``audit --active-at T`` and ``status --at T`` read the same history two ways (every
    landing from the log and its note; the branch as it stood at T and its ledger)."""
    when = at(moment)
    listed = audit(history).select(AuditQuery.of(active_at=when)).records
    shown = status(StatusOptions(history, when, historical=True))
    assert sorted(r.request.id for r in listed if r.problem is None) == sorted(
        e.request.id for e in shown.in_state(GrantState.ACTIVE)
    )
    # what status shows as a file that is not a grant, audit lists with the reason
    not_granted = {e.request.id for e, s in shown.shown() if not e.granted}
    in_window = {r.request.id for r in listed if r.problem is not None}
    assert not_granted == in_window


def test_active_at_a_moment_before_any_landing_lists_nothing(history: Path) -> None:
    assert ids(history, active_at=at("09:00") - timedelta(seconds=1)) == []
    assert ids(history, active_at=at("09:00")) == ["a-1"]


def test_a_grant_revoked_early_ends_at_its_removal(history: Path) -> None:
    [b] = [r for r in audit(history).records if r.request.id == "b-1"]
    assert b.window_end == at("13:30") and b.held_until == at("10:30")
    assert ids(history, active_at=at("10:29"), users=["carol"]) == ["b-1"]
    assert ids(history, active_at=at("10:30"), users=["carol"]) == []
    assert git(history, "log", "-1", "--format=%s", str(b.removed_commit)).strip() == "revoke b-1"
