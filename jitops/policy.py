"""The policy engine: pure decisions, no I/O and no clock (the time is a parameter).

``decide(request, policies, approvals, now)`` returns a ``Decision`` that explains itself: every
rule checked, what passed, what is missing and why. The CLI, the PR comment and the job summary
all render that same value (see ``jitops.report``).

Approvals are plain facts (``Review``: who, on which commit, which state, their teams). What
counts is decided here, once, for every caller:

- a reviewer's *latest decisive* review (APPROVED / CHANGES_REQUESTED / DISMISSED; a later
  COMMENTED review changes nothing) is the one that counts, and only if it is APPROVED;
- on the pull request's current head commit, when the head is known;
- not by the requester, nor by any author or committer of the pull request's commits;
- not by a bot, unless the policy names that bot directly;
- by a user the rule names, or a member (active, not invited) of a team it names;
- each approver fills at most one requirement: "1 from @acme/db-leads and 1 from @acme/security"
  needs two different people.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from jitops.models import (
    AccessRequest,
    ActionRule,
    ApprovalRule,
    Notify,
    Policy,
    PolicyChangeRule,
    RolePolicy,
    Target,
    format_duration,
    is_team,
    login_key,
    normalise_principal,
)


class ReviewState(StrEnum):
    APPROVED = "APPROVED"
    CHANGES_REQUESTED = "CHANGES_REQUESTED"
    COMMENTED = "COMMENTED"
    DISMISSED = "DISMISSED"


DECISIVE_STATES = frozenset(
    {ReviewState.APPROVED, ReviewState.CHANGES_REQUESTED, ReviewState.DISMISSED}
)


@dataclass(frozen=True)
class Review:
    """One review, as a fact. ``teams`` are the reviewer's *active* team memberships."""

    reviewer: str
    state: ReviewState
    commit_id: str | None = None
    teams: frozenset[str] = frozenset()
    is_bot: bool = False
    review_id: int | None = None  # GitHub's id, recorded as evidence


@dataclass(frozen=True)
class PullRequestContext:
    """Facts about the pull request that carries a request, when there is one."""

    head_sha: str
    author: str
    commit_authors: frozenset[str] = frozenset()  # authors and committers of the PR's commits
    author_teams: frozenset[str] = frozenset()  # the author's active teams


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"  # the policy refuses this, whatever approvals come
    WAITING = "waiting"  # not yet: approvals are missing
    UNVERIFIED = "unverified"  # needs facts this caller does not have (e.g. team membership)


class Verdict(StrEnum):
    ALLOWED = "allowed"
    PENDING = "pending"
    DENIED = "denied"


@dataclass(frozen=True)
class Check:
    """One rule checked: its name, its outcome and a sentence a person can act on."""

    rule: str
    status: Status
    detail: str


_SERIOUSNESS = {Status.FAIL: 0, Status.UNVERIFIED: 1, Status.WAITING: 2}


@dataclass(frozen=True)
class FixedChecks:
    """The checks of a target/role that depend on the policies alone, not on the request."""

    found: tuple[Check, ...]  # the target exists, the role has a policy
    unreviewed: tuple[Check, ...]  # the approval checks while nobody has reviewed


@dataclass(frozen=True)
class Decision:
    request_id: str
    verdict: Verdict
    checks: tuple[Check, ...]
    policy: str | None = None
    window_start: datetime | None = None
    window_end: datetime | None = None

    @property
    def allowed(self) -> bool:
        return self.verdict is Verdict.ALLOWED

    @property
    def problems(self) -> tuple[Check, ...]:
        """The checks that did not pass, most serious first."""
        return tuple(
            sorted(
                (c for c in self.checks if c.status is not Status.PASS),
                key=lambda c: _SERIOUSNESS[c.status],
            )
        )

    @property
    def approvers(self) -> tuple[str, ...]:
        """The logins whose approvals the passing approval rules counted, in order, once each."""
        return tuple(
            dict.fromkeys(
                login
                for c in self.checks
                if c.rule == "approval" and c.status is Status.PASS
                for login in approvers_named(c.detail)
            )
        )

    @property
    def reason(self) -> str:
        """One line: why the verdict is what it is."""
        problems = self.problems
        if not problems:
            return "; ".join(c.detail for c in self.checks if c.rule == "approval") or "allowed"
        return "; ".join(c.detail for c in problems)


@dataclass(frozen=True)
class PolicySet:
    """Everything the policies say, indexed for decisions. Built from validated documents."""

    policies: tuple[Policy, ...]
    targets: Mapping[str, Target]
    policy_change_rule: PolicyChangeRule | None = None
    notify: tuple[Notify, ...] = ()  # where jitops tells of what happens
    _actions: Mapping[tuple[str, str], tuple[Policy, ActionRule]] = field(
        default_factory=dict, repr=False
    )
    _index: Mapping[tuple[str, str], tuple[Policy, RolePolicy]] = field(
        default_factory=dict, repr=False
    )
    # Worked out once per target/role rather than for each of thousands of requests.
    _fixed: Mapping[tuple[str, str], FixedChecks] = field(
        default_factory=dict, repr=False, compare=False
    )

    @classmethod
    def build(
        cls,
        policies: Iterable[Policy],
        targets: Iterable[Target],
        policy_change_rule: PolicyChangeRule | None = None,
        notify: Iterable[Notify] = (),
    ) -> PolicySet:
        policies = tuple(policies)
        by_name = {t.name: t for t in targets}
        index: dict[tuple[str, str], tuple[Policy, RolePolicy]] = {}
        for policy in policies:
            for target in policy.targets:
                for role, rule in policy.roles.items():
                    index.setdefault((target, role), (policy, rule))
        actions: dict[tuple[str, str], tuple[Policy, ActionRule]] = {}
        for policy in policies:
            for target in policy.targets:
                for action, action_rule in policy.actions.items():
                    actions.setdefault((target, action), (policy, action_rule))
        fixed = {
            (name, role): _fixed_checks(by_name[name], role, policy, rule)
            for (name, role), (policy, rule) in index.items()
            if name in by_name
        }
        return cls(
            policies=policies,
            targets=by_name,
            policy_change_rule=policy_change_rule,
            notify=tuple(notify),
            _actions=actions,
            _index=index,
            _fixed=fixed,
        )

    def rule_for(self, target: str, role: str) -> tuple[Policy, RolePolicy] | None:
        return self._index.get((target, role))

    def action_for(self, target: str, action: str) -> tuple[Policy, ActionRule] | None:
        """The policy offering ``action`` on ``target``, and the action's rule."""
        return self._actions.get((target, action))

    def actions_of(self, target: str) -> list[str]:
        return sorted(a for t, a in self._actions if t == target)

    def fixed_checks(self, target: Target, role: str) -> FixedChecks | None:
        """The request-independent checks of ``target``/``role``; None if no policy covers it."""
        fixed = self._fixed.get((target.name, role))
        if fixed is None and (found := self.rule_for(target.name, role)) is not None:
            fixed = _fixed_checks(target, role, *found)
        return fixed

    def roles_for(self, target: str) -> list[str]:
        """The roles on ``target`` that some policy covers."""
        return sorted(role for (name, role) in self._index if name == target)


def _fixed_checks(target: Target, role: str, policy: Policy, rule: RolePolicy) -> FixedChecks:
    found = (
        Check("target", Status.PASS, f"target {target.name} ({target.provisioner})"),
        Check("role", Status.PASS, f"role {role} under policy {policy.name}"),
    )
    unreviewed: tuple[Check, ...]
    if rule.auto_approve:
        unreviewed = (
            Check(
                "approval",
                Status.PASS,
                f"auto-approved: policy {policy.name} allows {role} without review",
            ),
        )
    else:
        # without reviews the requester and the pull request change nothing
        unreviewed = tuple(approval_checks((), rule.approvals, "", None))
    return FixedChecks(found, unreviewed)


def member_of(login: str, teams: frozenset[str], principals: Iterable[str]) -> str | None:
    """The principal through which ``login`` (with ``teams``) is named, or None."""
    key = login_key(login)
    team_keys = {login_key(t) for t in teams}
    for principal in principals:
        norm = normalise_principal(principal)
        if (is_team(principal) and norm in team_keys) or (not is_team(principal) and norm == key):
            return principal
    return None


def _short(sha: str | None) -> str:
    return (sha or "unknown")[:7]


def _requester_check(
    request: AccessRequest,
    policy: Policy,
    requester_teams: frozenset[str] | None,
    context: PullRequestContext | None,
) -> Check:
    allowed_by = member_of(request.requester, requester_teams or frozenset(), policy.requesters)
    if allowed_by is None:
        named_teams = [p for p in policy.requesters if is_team(p)]
        if requester_teams is None and named_teams:
            return Check(
                "requester",
                Status.UNVERIFIED,
                f"@{request.requester} may request only as a member of {', '.join(named_teams)}, "
                "which needs GitHub to verify",
            )
        return Check(
            "requester",
            Status.FAIL,
            f"@{request.requester} may not request {request.target}/{request.role} under policy "
            f"{policy.name} (allowed: {', '.join(policy.requesters)})",
        )
    if context is not None and login_key(context.author) != login_key(request.requester):
        on_behalf = member_of(context.author, context.author_teams, policy.request_for_others)
        if on_behalf is None:
            return Check(
                "requester",
                Status.FAIL,
                f"@{context.author} opened a request for @{request.requester}; only "
                f"{', '.join(policy.request_for_others) or 'nobody'} may request for others "
                f"under policy {policy.name}",
            )
        return Check(
            "requester",
            Status.PASS,
            f"@{context.author} requests for @{request.requester} (allowed via {on_behalf})",
        )
    return Check("requester", Status.PASS, f"@{request.requester} may request (via {allowed_by})")


def _ticket_check(request: AccessRequest, rule: RolePolicy) -> Check | None:
    if rule.ticket is None:
        return None
    if request.ticket is None:
        if rule.ticket.required:
            hint = f" matching {rule.ticket.pattern}" if rule.ticket.pattern else ""
            return Check("ticket", Status.FAIL, f"a ticket is required for {request.role}{hint}")
        return Check("ticket", Status.PASS, "no ticket (optional)")
    if rule.ticket.pattern and not re.fullmatch(rule.ticket.pattern, request.ticket):
        return Check(
            "ticket",
            Status.FAIL,
            f"ticket {request.ticket!r} does not match {rule.ticket.pattern}",
        )
    return Check("ticket", Status.PASS, f"ticket {request.ticket}")


def request_window(
    request: AccessRequest, landed_at: datetime | None
) -> tuple[datetime | None, datetime | None]:
    """The (start, end) of a request's window; a duration's window opens when it lands."""
    if request.expires_at is not None:
        return (request.starts_at or landed_at, request.expires_at)
    assert request.duration is not None  # the model guarantees one of the two
    if landed_at is None:
        return (None, None)
    return (landed_at, landed_at + request.duration)


@functools.lru_cache(maxsize=4096)
def _fmt(moment: datetime) -> str:
    # cached: thousands of requests share a handful of landing and end times
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _window_check(
    request: AccessRequest, rule: RolePolicy, now: datetime, landed_at: datetime | None
) -> Check:
    maximum = rule.max_duration
    if landed_at is not None:
        _, end = request_window(request, landed_at)
        assert end is not None
        state = "closed" if end <= now else "open"
        return Check(
            "window", Status.PASS, f"landed {_fmt(landed_at)}; window {state} until {_fmt(end)}"
        )
    if request.duration is not None:
        if request.duration > maximum:
            return Check(
                "window",
                Status.FAIL,
                f"duration {format_duration(request.duration)} is over the {request.role} maximum "
                f"of {format_duration(maximum)} — ask for {format_duration(maximum)} or less",
            )
        return Check(
            "window",
            Status.PASS,
            f"{format_duration(request.duration)} from merge (max {format_duration(maximum)})",
        )
    assert request.expires_at is not None
    if request.expires_at <= now:
        return Check(
            "window",
            Status.FAIL,
            f"expired before approval (expires_at {_fmt(request.expires_at)} has passed) "
            "— open a new request",
        )
    start = max(request.starts_at or now, now)
    length = request.expires_at - start
    if length > maximum:
        return Check(
            "window",
            Status.FAIL,
            f"window {_fmt(start)} → {_fmt(request.expires_at)} is {format_duration(length)}, over "
            f"the {request.role} maximum of {format_duration(maximum)} — shorten it",
        )
    return Check(
        "window",
        Status.PASS,
        f"{_fmt(start)} → {_fmt(request.expires_at)} ({format_duration(length)}, "
        f"max {format_duration(maximum)})",
    )


@dataclass(frozen=True)
class ApprovalCount:
    """Which reviews count toward approval rules, and why the others do not."""

    approvers: tuple[tuple[str, frozenset[str]], ...]  # (login, teams) of counted approvals
    ignored: tuple[str, ...]  # one sentence per review that does not count
    blocking: tuple[str, ...]  # approvers whose latest decisive review requests changes


def count_approvals(
    reviews: Sequence[Review],
    rules: Sequence[ApprovalRule],
    requester: str,
    context: PullRequestContext | None,
) -> ApprovalCount:
    """Apply the approval rules of this module's docstring to ``reviews`` (oldest first)."""
    latest: dict[str, Review] = {}
    for review in reviews:
        if review.state in DECISIVE_STATES:
            latest[login_key(review.reviewer)] = review
    excluded = {login_key(requester)}
    authors = {login_key(a) for a in context.commit_authors} if context else set()
    principals = [p for rule in rules for p in rule.from_]
    named_users = {normalise_principal(p) for p in principals if not is_team(p)}
    counted: list[tuple[str, frozenset[str]]] = []
    ignored: list[str] = []
    blocking: list[str] = []
    for key, review in latest.items():
        who = f"@{review.reviewer}"
        eligible_by = member_of(review.reviewer, review.teams, principals)
        if review.state is ReviewState.CHANGES_REQUESTED:
            if eligible_by is not None:
                blocking.append(f"{who} requested changes")
            continue
        if review.state is not ReviewState.APPROVED:
            if eligible_by is not None:
                ignored.append(f"{who}'s approval was dismissed")
            continue
        if key in excluded:
            ignored.append(f"{who} cannot approve their own request")
        elif key in authors:
            ignored.append(
                f"{who} authored or committed to this pull request and cannot approve it"
            )
        elif review.is_bot and key not in named_users:
            ignored.append(f"{who} is a bot, and no policy names it as an approver")
        elif context is not None and review.commit_id != context.head_sha:
            ignored.append(
                f"{who} approved an older commit {_short(review.commit_id)} "
                f"(head is {_short(context.head_sha)}) — re-approve"
            )
        elif eligible_by is None:
            ignored.append(f"{who} is not one of {', '.join(dict.fromkeys(principals))}")
        else:
            counted.append((review.reviewer, review.teams))
    return ApprovalCount(tuple(counted), tuple(ignored), tuple(blocking))


def assign_approvers(
    approvers: Sequence[tuple[str, frozenset[str]]], rules: Sequence[ApprovalRule]
) -> list[list[str]]:
    """Assign each approver to at most one rule slot, filling as many slots as possible.

    A small bipartite matching (augmenting paths): with "1 from A and 1 from B", one person in
    both A and B fills one slot, never two.
    """
    slots = [i for i, rule in enumerate(rules) for _ in range(rule.count)]
    eligible = [
        [
            s
            for s, rule_index in enumerate(slots)
            if member_of(login, teams, rules[rule_index].from_)
        ]
        for login, teams in approvers
    ]
    slot_owner: list[int | None] = [None] * len(slots)

    def augment(approver: int, seen: set[int]) -> bool:
        for slot in eligible[approver]:
            if slot in seen:
                continue
            seen.add(slot)
            owner = slot_owner[slot]
            if owner is None or augment(owner, seen):
                slot_owner[slot] = approver
                return True
        return False

    for approver in range(len(approvers)):
        augment(approver, set())
    filled: list[list[str]] = [[] for _ in rules]
    for slot, owner in enumerate(slot_owner):
        if owner is not None:
            filled[slots[slot]].append(approvers[owner][0])
    return filled


def approvers_named(detail: str) -> list[str]:
    """The logins a passing approval check's detail names (``approved by @bob, @dave
    (@acme/db-leads or @carol)``, as :func:`approval_checks` writes it): those before the
    parenthesis — never the teams or people the rule asked of."""
    if not detail.startswith("approved by "):
        return []
    names = detail.removeprefix("approved by ").split(" (", 1)[0]
    return [word.strip(",").removeprefix("@") for word in names.split() if word.startswith("@")]


def approval_checks(
    reviews: Sequence[Review],
    rules: Sequence[ApprovalRule],
    requester: str,
    context: PullRequestContext | None,
) -> list[Check]:
    """One check per approval rule, plus one for outstanding change requests."""
    tally = count_approvals(reviews, rules, requester, context)
    filled = assign_approvers(tally.approvers, rules)
    checks: list[Check] = []
    why_not = f" ({'; '.join(tally.ignored)})" if tally.ignored else ""
    for rule, approvers in zip(rules, filled, strict=True):
        source = " or ".join(rule.from_)
        if len(approvers) >= rule.count:
            names = ", ".join(f"@{a}" for a in approvers)
            checks.append(Check("approval", Status.PASS, f"approved by {names} ({source})"))
        else:
            missing = rule.count - len(approvers)
            plural = "approval" if missing == 1 else "approvals"
            more = " more" if approvers else ""
            checks.append(
                Check(
                    "approval",
                    Status.WAITING,
                    f"needs {missing}{more} {plural} from {source}{why_not}",
                )
            )
            why_not = ""  # say it once
    checks.extend(Check("changes-requested", Status.WAITING, b) for b in tally.blocking)
    return checks


def verdict_of(checks: Sequence[Check]) -> Verdict:
    """Any failure denies; anything waiting or unverified is pending; else allowed."""
    statuses = {c.status for c in checks}
    if Status.FAIL in statuses:
        return Verdict.DENIED
    if statuses & {Status.WAITING, Status.UNVERIFIED}:
        return Verdict.PENDING
    return Verdict.ALLOWED


def decide(
    request: AccessRequest,
    policies: PolicySet,
    approvals: Sequence[Review],
    now: datetime,
    *,
    requester_teams: frozenset[str] | None = None,
    context: PullRequestContext | None = None,
    landed_at: datetime | None = None,
) -> Decision:
    """Decide whether ``request`` may be granted at ``now``, and explain why.

    ``requester_teams`` are the requester's active teams (``None``: unknown, as offline);
    ``context`` describes the pull request (head commit, author, commit authors) when known;
    ``landed_at`` is set for a request already on the default branch, whose window rules were
    checked when it was admitted.
    """
    target = policies.targets.get(request.target)
    if target is None:
        known = ", ".join(sorted(policies.targets)) or "none"
        check = Check("target", Status.FAIL, f"unknown target {request.target!r} (known: {known})")
        return Decision(request.id, Verdict.DENIED, (check,))
    fixed = policies.fixed_checks(target, request.role)
    found = policies.rule_for(request.target, request.role)
    if fixed is None or found is None:
        covered = policies.roles_for(request.target)
        refused = (
            Check("target", Status.PASS, f"target {target.name} ({target.provisioner})"),
            Check(
                "role",
                Status.FAIL,
                f"no policy grants role {request.role!r} on {request.target} "
                f"(roles with a policy: {', '.join(covered) or 'none'})",
            ),
        )
        return Decision(request.id, Verdict.DENIED, refused)
    policy, rule = found
    checks = [*fixed.found, _requester_check(request, policy, requester_teams, context)]
    ticket = _ticket_check(request, rule)
    if ticket is not None:
        checks.append(ticket)
    checks.append(_window_check(request, rule, now, landed_at))
    if rule.auto_approve or not approvals:
        checks.extend(fixed.unreviewed)
    else:
        checks.extend(approval_checks(approvals, rule.approvals, request.requester, context))
    start, end = request_window(request, landed_at)
    return Decision(
        request.id,
        verdict_of(checks),
        tuple(checks),
        policy.name,
        window_start=start,
        window_end=end,
    )


def expiry(request: AccessRequest, landed_at: datetime | None) -> datetime | None:
    """When access ends: ``expires_at``, or landing time + ``duration`` (None if not landed)."""
    return request_window(request, landed_at)[1]


def named_teams(policy_set: PolicySet) -> tuple[str, ...]:
    """Every team (``@org/team``) the policies name anywhere: requesters, requests for
    others, approvers, the policy-change rule. Reading their membership needs a token with
    the organisation permission Members: read."""

    def named() -> Iterator[str]:
        for policy in policy_set.policies:
            yield from policy.requesters
            yield from policy.request_for_others
            for rule in policy.roles.values():
                for approval in rule.approvals:
                    yield from approval.from_
        if policy_set.policy_change_rule is not None:
            for approval in policy_set.policy_change_rule.approvals:
                yield from approval.from_

    teams = {p if p.startswith("@") else f"@{p}" for p in named() if is_team(p)}
    return tuple(sorted(teams, key=str.lower))
