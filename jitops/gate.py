"""The approval gate's decision for a whole pull request: pure, like ``jitops.policy``.

Plain facts in (the PR's changed files, its reviews, its author and commit authors, the
requests parsed from its head, the ids already used on the base branch, the time), one
``GateResult`` out. ``jitops check-pr`` gathers the facts through the GitHub API and renders the
result as a commit status, a PR comment and a job summary; nothing here does I/O.

What a pull request is, decided by its diff alone — never by its author, branch name or labels:

- **removal only**: it only deletes request files. Giving up access needs no approval.
- **access request**: it only touches ``requests/``. Every added or changed request file is a
  new request (a change to a window, role, target or requester needs full approval again) and
  is judged by the base branch's policies.
- **policy change**: it touches nothing under ``requests/``. Everything else — policies,
  CODEOWNERS, workflows, jitops' code, even a README — is judged by the ``PolicyChangeRule``.
- **action request**: it only adds files under ``actions/``. Each is a new action request,
  judged by the base branch's policies (``jitops.action_policy.decide_action``): its SQL or
  parameters, its requester and its approvals. An action file is never changed in place — a
  change is a new request with a new id — and removing one changes nothing.
- **mixed**: several of the above. Refused: a policy change may carry no request, and access
  and action requests go in pull requests of their own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from jitops import request_files
from jitops.action_policy import ActionCheck, check_action, decide_action
from jitops.findings import Finding, Severity
from jitops.models import AccessRequest, ActionRequest
from jitops.policy import (
    Check,
    Decision,
    PolicySet,
    PullRequestContext,
    Review,
    Status,
    Verdict,
    approval_checks,
    decide,
    verdict_of,
)

REQUESTS_PREFIX = request_files.REQUESTS_PREFIX


class FileStatus(StrEnum):
    ADDED = "added"
    MODIFIED = "modified"
    REMOVED = "removed"
    RENAMED = "renamed"
    COPIED = "copied"
    CHANGED = "changed"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class ChangedFile:
    path: str
    status: FileStatus
    previous_path: str | None = None  # for renames
    mode: str | None = None  # git's mode at the head, when known (a link is no request file)


class ChangeKind(StrEnum):
    REMOVAL_ONLY = "removal only"
    ACCESS_REQUEST = "access request"
    ACTION_REQUEST = "action request"
    POLICY_CHANGE = "policy change"
    MIXED = "mixed"
    EMPTY = "empty"


def is_request_path(path: str) -> bool:
    return request_files.under_requests(path)


ACTIONS_PREFIX = "actions/"


def is_action_path(path: str) -> bool:
    return path.startswith(ACTIONS_PREFIX)


@dataclass(frozen=True)
class Classification:
    kind: ChangeKind
    request_paths: tuple[str, ...]  # request files added or changed: each needs a decision
    removed_requests: tuple[str, ...]
    other_paths: tuple[str, ...]  # everything outside requests/
    # files added or changed under requests/ that are no request file, and why
    not_requests: tuple[str, ...] = ()
    action_paths: tuple[str, ...] = ()  # action request files added: each needs a decision
    changed_actions: tuple[str, ...] = ()  # action files edited in place: refused
    removed_actions: tuple[str, ...] = ()

    @property
    def explanation(self) -> str:
        if self.kind is ChangeKind.MIXED and (self.action_paths or self.changed_actions):
            return (
                "this pull request adds action requests and also changes other files; an "
                "action request goes in a pull request of its own"
            )
        if self.kind is ChangeKind.MIXED:
            shown = ", ".join(self.other_paths[:3]) + (" …" if len(self.other_paths) > 3 else "")
            return (
                f"this pull request changes access requests and also {shown}; a policy change "
                "may not carry access requests — split it into two pull requests"
            )
        if self.kind is ChangeKind.REMOVAL_ONLY:
            removed = len(self.removed_requests) + len(self.removed_actions)
            return f"only removes {removed} request file(s): no approval needed"
        if self.kind is ChangeKind.ACTION_REQUEST:
            return f"adds {len(self.action_paths)} action request(s)"
        if self.kind is ChangeKind.EMPTY:
            return "changes no files"
        if self.kind is ChangeKind.POLICY_CHANGE:
            return f"changes {len(self.other_paths)} file(s) outside requests/: a policy change"
        return f"adds or changes {len(self.request_paths)} access request(s)"


def classify(files: Sequence[ChangedFile]) -> Classification:
    """Classify a pull request by its diff."""
    requests: list[str] = []
    removed: list[str] = []
    others: list[str] = []
    not_requests: list[str] = []
    actions: list[str] = []
    changed_actions: list[str] = []
    removed_actions: list[str] = []
    for changed in files:
        if changed.previous_path and changed.previous_path != changed.path:
            # a rename removes the old file: the old path counts as a removal
            if is_request_path(changed.previous_path):
                removed.append(changed.previous_path)
            elif is_action_path(changed.previous_path):
                removed_actions.append(changed.previous_path)
        if changed.status is FileStatus.UNCHANGED:
            continue
        if is_action_path(changed.path):
            if changed.status is FileStatus.REMOVED:
                removed_actions.append(changed.path)
            elif changed.status in (FileStatus.ADDED, FileStatus.RENAMED, FileStatus.COPIED):
                actions.append(changed.path)
            else:
                changed_actions.append(changed.path)
        elif not is_request_path(changed.path):
            others.append(changed.path)
        elif changed.status is FileStatus.REMOVED:
            removed.append(changed.path)
        elif request_files.is_ignored(changed.path):
            pass  # a placeholder nobody reads: neither a request nor a policy
        elif (why := request_files.problem(changed.path, changed.mode)) is not None:
            not_requests.append(why)
        else:
            requests.append(changed.path)
        previous = changed.previous_path
        if previous and not is_request_path(previous) and not is_action_path(previous):
            others.append(previous)
    touches_requests = bool(requests or removed)
    touches_actions = bool(actions or changed_actions)
    if sum((touches_requests, touches_actions, bool(others))) > 1:
        kind = ChangeKind.MIXED
    elif others:
        kind = ChangeKind.POLICY_CHANGE
    elif touches_actions:
        kind = ChangeKind.ACTION_REQUEST
    elif requests:
        kind = ChangeKind.ACCESS_REQUEST
    elif removed or removed_actions:
        kind = ChangeKind.REMOVAL_ONLY
    else:
        kind = ChangeKind.EMPTY
    return Classification(
        kind,
        tuple(sorted(requests)),
        tuple(sorted(removed)),
        tuple(sorted(others)),
        tuple(sorted(not_requests)),
        tuple(sorted(actions)),
        tuple(sorted(changed_actions)),
        tuple(sorted(removed_actions)),
    )


@dataclass(frozen=True)
class PullRequestFacts:
    """What the gate needs to know about a pull request; gathered by ``jitops.github``."""

    number: int
    author: str
    head_sha: str
    files: tuple[ChangedFile, ...]
    reviews: tuple[Review, ...]  # oldest first
    commit_authors: frozenset[str] = frozenset()  # authors and committers of its commits
    author_teams: frozenset[str] = frozenset()
    # why the facts above may be short of the truth (a list GitHub stopped at its cap):
    # nothing is judged from them then
    incomplete: tuple[str, ...] = ()


@dataclass(frozen=True)
class ParsedRequest:
    """A request file of the PR's head, parsed as data: the request, or why it is not one."""

    path: str
    request: AccessRequest | None
    findings: tuple[Finding, ...] = ()


@dataclass(frozen=True)
class ParsedAction:
    """An action request file of the PR's head, parsed as data: the request and its offline
    check, or why it is not one."""

    path: str
    request: ActionRequest | None
    findings: tuple[Finding, ...] = ()


@dataclass(frozen=True)
class GateResult:
    verdict: Verdict
    summary: str  # one line, for the commit status description
    classification: Classification
    decisions: tuple[Decision, ...] = ()
    findings: tuple[Finding, ...] = ()
    checks: tuple[Check, ...] = ()  # PR-level checks: classification, policy change approvals
    # each action request, as its approvers must see it: the statements, limits, identity
    actions: tuple[ActionCheck, ...] = ()

    @property
    def allowed(self) -> bool:
        return self.verdict is Verdict.ALLOWED


def _refuse(classification: Classification, reason: str, **extra: object) -> GateResult:
    return GateResult(
        Verdict.DENIED,
        reason,
        classification,
        checks=(Check("pull request", Status.FAIL, reason),),
        **extra,  # type: ignore[arg-type]
    )


def _placement(item: ParsedRequest, request: AccessRequest) -> str | None:
    if not request_files.is_home(item.path, request.target, request.role, request.id):
        return (
            f"{item.path} must be at {request_files.home(request.target, request.role, request.id)}"
        )
    return None


def evaluate(
    pr: PullRequestFacts,
    policies: PolicySet | None,
    parsed: Sequence[ParsedRequest],
    now: datetime,
    *,
    known_ids: frozenset[str] = frozenset(),
    requester_teams: Mapping[str, frozenset[str]] | None = None,
    policy_problems: Sequence[str] = (),
    actions: Sequence[ParsedAction] = (),
    known_action_ids: frozenset[str] = frozenset(),
) -> GateResult:
    """Decide whether a pull request may merge, and explain why.

    ``policies`` come from the base branch (None: they could not be loaded — fail closed, with
    ``policy_problems`` saying why). ``parsed`` are the PR's added or changed request files as
    read from its head. ``known_ids`` are request ids already used on the base branch's history.
    ``requester_teams`` maps a login (lower-case) to its active teams.
    """
    classification = classify(pr.files)
    if pr.incomplete:
        # even "only removals" may be an addition GitHub did not list
        return _refuse(classification, "; ".join(pr.incomplete))
    if classification.not_requests:
        # one reader would take it as a request and another skip it: never let it land
        reason = "; ".join(classification.not_requests) + f" — {request_files.FIX}"
        return _refuse(classification, reason)
    if policies is None:
        reason = "the base branch's policies cannot be loaded: " + (
            "; ".join(policy_problems) or "unknown error"
        )
        return _refuse(classification, reason)
    kind = classification.kind
    if kind is ChangeKind.MIXED:
        return _refuse(classification, classification.explanation)
    if kind in (ChangeKind.REMOVAL_ONLY, ChangeKind.EMPTY):
        check = Check("pull request", Status.PASS, classification.explanation)
        return GateResult(
            Verdict.ALLOWED, classification.explanation, classification, checks=(check,)
        )
    context = PullRequestContext(pr.head_sha, pr.author, pr.commit_authors, pr.author_teams)
    if kind is ChangeKind.POLICY_CHANGE:
        return _policy_change(pr, policies, classification, context)
    if kind is ChangeKind.ACTION_REQUEST:
        return _action_requests(
            pr, policies, classification, context, actions, known_action_ids, requester_teams
        )
    return _access_requests(
        pr, policies, classification, context, parsed, now, known_ids, requester_teams
    )


def _policy_change(
    pr: PullRequestFacts,
    policies: PolicySet,
    classification: Classification,
    context: PullRequestContext,
) -> GateResult:
    rule = policies.policy_change_rule
    if rule is None:
        return _refuse(
            classification, "the base branch has no PolicyChangeRule; nothing may change"
        )
    checks = (
        Check("pull request", Status.PASS, classification.explanation),
        *approval_checks(pr.reviews, rule.approvals, pr.author, context),
    )
    verdict = verdict_of(checks)
    problems = [c.detail for c in checks if c.status is not Status.PASS]
    summary = "policy change approved" if not problems else "policy change: " + "; ".join(problems)
    return GateResult(verdict, summary, classification, checks=checks)


def _access_requests(
    pr: PullRequestFacts,
    policies: PolicySet,
    classification: Classification,
    context: PullRequestContext,
    parsed: Sequence[ParsedRequest],
    now: datetime,
    known_ids: frozenset[str],
    requester_teams: Mapping[str, frozenset[str]] | None,
) -> GateResult:
    findings: list[Finding] = []
    decisions: list[Decision] = []
    by_path = {item.path: item for item in parsed}
    seen_ids: dict[str, str] = {}
    for path in classification.request_paths:
        item = by_path.get(path)
        request = _read(path, item, findings, "access request")
        if item is None or not isinstance(request, AccessRequest):
            continue
        misplaced = _placement(item, request)
        if misplaced:
            findings.append(Finding(path, Severity.ERROR, misplaced))
            continue
        if request.id in known_ids:
            findings.append(
                Finding(
                    path,
                    Severity.DENIED,
                    f"id {request.id!r} was already used on the base branch",
                    "a changed or restored request is a new request: give it a new id and file",
                )
            )
            continue
        other = seen_ids.setdefault(request.id, path)
        if other != path:
            findings.append(
                Finding(path, Severity.ERROR, f"id {request.id!r} is also used by {other}")
            )
            continue
        teams = (requester_teams or {}).get(request.requester.lower(), frozenset())
        decisions.append(
            decide(
                request,
                policies,
                pr.reviews,
                now,
                requester_teams=teams if requester_teams is not None else None,
                context=context,
            )
        )
    return _requests_result(
        classification, decisions, findings, len(classification.request_paths), "request(s)"
    )


def _action_requests(
    pr: PullRequestFacts,
    policies: PolicySet,
    classification: Classification,
    context: PullRequestContext,
    parsed: Sequence[ParsedAction],
    known_ids: frozenset[str],
    requester_teams: Mapping[str, frozenset[str]] | None,
) -> GateResult:
    findings = [
        Finding(
            path,
            Severity.DENIED,
            "an action request is never changed in place: what was approved, or performed, "
            "stays as it was",
            "ask again with a new file and a new id",
        )
        for path in classification.changed_actions
    ]
    decisions: list[Decision] = []
    shown: list[ActionCheck] = []
    by_path = {item.path: item for item in parsed}
    seen: dict[str, str] = {}
    for path in classification.action_paths:
        request = _read(path, by_path.get(path), findings, "action request")
        if not isinstance(request, ActionRequest):
            continue
        if request.id in known_ids or seen.setdefault(request.id, path) != path:
            findings.append(
                Finding(
                    path,
                    Severity.DENIED,
                    f"id {request.id!r} was already used for an action request",
                    "an action is performed once: a new request needs a new id and file",
                )
            )
            continue
        shown.append(check_action(request, policies))
        teams = (requester_teams or {}).get(request.requester.lower(), frozenset())
        decisions.append(
            decide_action(
                request,
                policies,
                pr.reviews,
                requester_teams=teams if requester_teams is not None else None,
                context=context,
            )
        )
    total = len(classification.action_paths)
    return _requests_result(
        classification, decisions, findings, total, "action request(s)", tuple(shown)
    )


def _read(
    path: str, item: ParsedRequest | ParsedAction | None, findings: list[Finding], what: str
) -> AccessRequest | ActionRequest | None:
    """The request ``item`` holds (added to ``findings``: why it holds none)."""
    if item is None:
        findings.append(Finding(path, Severity.ERROR, "could not be read from the head commit"))
        return None
    findings.extend(item.findings)
    if item.request is None and not item.findings:
        findings.append(Finding(path, Severity.ERROR, f"not a valid {what}"))
    return item.request


def _requests_result(
    classification: Classification,
    decisions: Sequence[Decision],
    findings: Sequence[Finding],
    total: int,
    noun: str,
    actions: tuple[ActionCheck, ...] = (),
) -> GateResult:
    """The verdict on a pull request of requests: denied by any problem, else the requests'
    own verdicts combined; the summary counts those ready and says the first thing missing."""
    if any(f.severity is not Severity.WARNING for f in findings):
        verdict = Verdict.DENIED
    else:
        verdict = _combine([d.verdict for d in decisions])
    ready = sum(d.allowed for d in decisions)
    summary = f"{ready} of {total} {noun} ready"
    if verdict is not Verdict.ALLOWED:
        first = next((f.text for f in findings), None) or next(
            (d.reason for d in decisions if not d.allowed), ""
        )
        summary = f"{summary}: {first}"
    check = Check("pull request", Status.PASS, classification.explanation)
    return GateResult(
        verdict,
        summary,
        classification,
        tuple(decisions),
        tuple(findings),
        checks=(check,),
        actions=actions,
    )


def _combine(verdicts: Sequence[Verdict]) -> Verdict:
    if not verdicts or Verdict.DENIED in verdicts:
        return Verdict.DENIED
    if Verdict.PENDING in verdicts:
        return Verdict.PENDING
    return Verdict.ALLOWED
