"""The access review ``jitops audit review`` prints: what an auditor asks the owners to confirm.

Per approver (or per team the approvers were counted for), every grant they approved in a
period, and every grant of theirs still active at a moment; auto-approved grants have no
approver, so they are the policy's owners' to confirm, in a group of their own. Pure: the audit
report in, the review out (time is a parameter).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from jitops.audit_records import AuditQuery, AuditRecord, AuditReport

AUTO_APPROVED = "auto-approved"  # the group of grants no person approved


class ReviewSource(Protocol):
    """Where the review reads history: the repository, the branch, and the evidence notes."""

    @property
    def root(self) -> Path: ...
    @property
    def ref(self) -> str: ...
    @property
    def fetch_notes(self) -> bool: ...
    @property
    def token(self) -> str | None: ...


class ReviewBy(StrEnum):
    APPROVER = "approver"
    TEAM = "team"


@dataclass(frozen=True)
class ReviewGroup:
    """One owner's part of the review: ``owner`` is ``@login``, ``@org/team`` or
    ``auto-approved``."""

    owner: str
    approved: tuple[AuditRecord, ...]  # approved in the period asked about
    active: tuple[AuditRecord, ...]  # still active at the review's moment


@dataclass(frozen=True)
class AccessReview:
    report: AuditReport  # the history it was made from (where, which commit)
    by: ReviewBy
    at: datetime  # "still active" means at this moment
    query: AuditQuery  # the period and the rest the approved grants were chosen by
    groups: tuple[ReviewGroup, ...]


def review(report: AuditReport, query: AuditQuery, by: ReviewBy, at: datetime) -> AccessReview:
    """The review of ``report``'s grants with valid evidence: those ``query`` asks about, and
    those open at ``at`` (whatever the period), grouped by who approved them."""
    approved_in_period: dict[str, list[AuditRecord]] = {}
    still_active: dict[str, list[AuditRecord]] = {}
    timeless = replace(query, since=None, until=None, active_at=at)
    for record in report.records:
        if record.problem is not None or record.unrecorded:
            continue  # audit verify's to report; nobody approved it
        owners = _owners(record, by)
        if query.matches(record):
            for owner in owners:
                approved_in_period.setdefault(owner, []).append(record)
        if timeless.matches(record):
            for owner in owners:
                still_active.setdefault(owner, []).append(record)
    names = sorted({*approved_in_period, *still_active}, key=lambda o: (o == AUTO_APPROVED, o))
    groups = tuple(
        ReviewGroup(
            owner,
            tuple(approved_in_period.get(owner, ())),
            tuple(still_active.get(owner, ())),
        )
        for owner in names
    )
    return AccessReview(report, by, at, query, groups)


def _owners(record: AuditRecord, by: ReviewBy) -> list[str]:
    if record.auto_approved or not record.approvers:
        return [AUTO_APPROVED]
    if by is ReviewBy.TEAM:
        teams = [f"@{team.removeprefix('@')}" for team in record.approver_teams]
        return teams or [f"@{login}" for login in record.approvers]
    return [f"@{login}" for login in record.approvers]
