"""What an audit finds, as values: each grant in history (``AuditRecord``), what an auditor
asks about (``AuditQuery``: who, what, when, approved by whom), and the report of a branch's
history (``AuditReport``). Pure: ``jitops.commands.audit`` reads history into them; the
access review and the renderers read them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from jitops.action_record import ActionOnBranch
from jitops.errors import ExitCode, UsageError
from jitops.findings import Finding, exit_code
from jitops.models import AccessRequest, login_key


@dataclass(frozen=True, slots=True)
class AuditRecord:
    path: str
    request: AccessRequest
    landed_commit: str
    landed_at: datetime
    window_start: datetime | None
    window_end: datetime | None
    removed_commit: str | None = None
    removed_at: datetime | None = None
    pull_request: int | None = None
    policy_commit: str | None = None
    approvers: tuple[str, ...] = ()
    auto_approved: bool = False
    problem: str | None = None  # why this grant has no valid approval evidence
    refused: bool = False  # apply judged it and refused it: it never granted anything
    grant_failed: bool = False  # apply verified it, but granting through the target failed
    unrecorded: bool = False  # this clone holds no evidence notes to tell whether it was
    approver_teams: tuple[str, ...] = ()  # the teams the counted approvers were counted for
    revoked_at: datetime | None = None  # when apply or the sweep recorded revoking it

    @property
    def revoke_lag(self) -> timedelta | None:
        """How long after its access should have ended (its window's end, or the file's
        removal) the revoke was recorded; None when no revoke was recorded."""
        end = self.held_until
        if self.revoked_at is None or end is None:
            return None
        return max(self.revoked_at - end, timedelta(0))

    @property
    def held_until(self) -> datetime | None:
        """When access ended: its window's end, or its removal if that came first."""
        ends = [t for t in (self.window_end, self.removed_at) if t is not None]
        return min(ends) if ends else None


@dataclass(frozen=True)
class AuditQuery:
    """Which grants an auditor asks about; the conditions combine (all must hold), and a set
    left empty asks nothing of its field. Logins and teams compare case-insensitively, with
    or without ``@``.

    ``since``/``until`` keep the grants whose access overlapped that period; ``active_at``
    those whose access was open at that moment (what ``jitops status --at`` lists as active
    for the grants apply verified).

    Action requests answer the same questions where they apply: who asked (``users``), on
    which target, approved by whom, and performed within the period (one not performed yet
    is still open: ``since`` keeps it, ``until`` does not). An action holds no role and is
    held at no moment: ``roles`` or ``active_at`` ask for grants only. ``only_actions`` asks
    for action requests alone."""

    users: frozenset[str] = frozenset()
    targets: frozenset[str] = frozenset()
    roles: frozenset[str] = frozenset()
    approvers: frozenset[str] = frozenset()
    since: datetime | None = None
    until: datetime | None = None
    active_at: datetime | None = None
    only_actions: bool = False

    @classmethod
    def of(
        cls,
        *,
        users: Iterable[str] = (),
        targets: Iterable[str] = (),
        roles: Iterable[str] = (),
        approvers: Iterable[str] = (),
        since: datetime | None = None,
        until: datetime | None = None,
        active_at: datetime | None = None,
        only_actions: bool = False,
    ) -> AuditQuery:
        """A query from what a person typed (``@Alice`` is ``alice``); a period that ends
        before it starts is a usage error."""
        if only_actions and (roles or active_at is not None):
            given = "--role" if roles else "--active-at"
            raise UsageError(
                f"{given} asks about grants, and --actions lists action requests, which hold "
                f"no role and are held at no moment — drop {given}, or drop --actions"
            )
        if since is not None and until is not None and until <= since:
            raise UsageError(
                f"--until {until:%Y-%m-%d %H:%M} UTC is not after --since "
                f"{since:%Y-%m-%d %H:%M} UTC — give a period that ends after it starts"
            )
        return cls(
            frozenset(login_key(u) for u in users),
            frozenset(targets),
            frozenset(roles),
            frozenset(login_key(a) for a in approvers),
            since,
            until,
            active_at,
            only_actions,
        )

    @property
    def asks(self) -> bool:
        return self != AuditQuery()

    def matches(self, record: AuditRecord) -> bool:
        request = record.request
        start = record.window_start or record.landed_at
        end = record.held_until
        return (
            (not self.users or login_key(request.requester) in self.users)
            and (not self.targets or request.target in self.targets)
            and (not self.roles or request.role in self.roles)
            and (
                not self.approvers or any(login_key(a) in self.approvers for a in record.approvers)
            )
            and (self.until is None or start < self.until)
            and (self.since is None or end is None or end > self.since)
            and (
                self.active_at is None
                or (
                    max(start, record.landed_at) <= self.active_at
                    and (end is None or self.active_at < end)
                )
            )
        )

    def matches_action(self, action: ActionOnBranch) -> bool:
        at = action.at
        return (
            not self.roles
            and self.active_at is None
            and (not self.users or login_key(action.requester) in self.users)
            and (not self.targets or action.target in self.targets)
            and (
                not self.approvers or any(login_key(a) in self.approvers for a in action.approvers)
            )
            and (self.until is None or (at is not None and at < self.until))
            and (self.since is None or at is None or at > self.since)
        )


@dataclass(frozen=True)
class AuditReport:
    commit: str
    records: tuple[AuditRecord, ...]
    findings: tuple[Finding, ...]
    # False: this clone lacks the evidence notes and origin's could not be read, so no record
    # says who approved it (each is ``unrecorded``) and nothing can be verified
    evidence_known: bool = True
    ref: str = "HEAD"  # the branch as asked for
    repository_url: str | None = None  # its web address, from origin's URL (links to pulls)
    query: AuditQuery | None = None  # what the listing was narrowed to
    actions: tuple[ActionOnBranch, ...] = ()  # action requests on the branch, and their records

    @property
    def unverified(self) -> tuple[AuditRecord, ...]:
        return tuple(r for r in self.records if r.problem is not None)

    def select(self, query: AuditQuery) -> AuditReport:
        """The report with only the records ``query`` asks about."""
        if not query.asks:
            return self
        records = () if query.only_actions else tuple(r for r in self.records if query.matches(r))
        actions = tuple(a for a in self.actions if query.matches_action(a))
        return replace(self, records=records, actions=actions, query=query)

    @property
    def exit_code(self) -> ExitCode:
        """A history that cannot be read fully is an error (2 or 3 by its findings); the
        listing itself says no to nothing (``audit verify`` judges it)."""
        return exit_code(self.findings)
