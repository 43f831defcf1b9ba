"""An action request judged by its policy: offline (``check_action``: is the action offered on
the target, is its input what the action takes, and — for SQL — is every statement one the
action allows), and with the pull request's reviews (``decide_action``: who may ask, and the
approvals, counted as for access). Pure: no I/O.

The result explains itself: each problem names the field it is about (its path in the file,
for the caller to turn into a line) and how to fix it; a SQL action carries the review of its
statements (``jitops.sql_review``), which the pull-request comment shows the approver.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from jitops.models import (
    ActionRequest,
    ActionRule,
    Policy,
    is_team,
    login_key,
    normalise_principal,
)
from jitops.policy import (
    Check,
    Decision,
    PolicySet,
    PullRequestContext,
    Review,
    Status,
    Verdict,
    approval_checks,
    member_of,
    verdict_of,
)
from jitops.sql_review import SqlReview, review_sql


@dataclass(frozen=True)
class ActionProblem:
    message: str
    hint: str
    at: tuple[str | int, ...] = ()  # the field of the file it is about
    sql_line: int | None = None  # for a SQL problem: its line within `sql`


@dataclass(frozen=True)
class ActionCheck:
    request: ActionRequest
    policy: str | None  # the policy offering the action
    rule: ActionRule | None
    sql: SqlReview | None  # a SQL action's statements, judged
    problems: tuple[ActionProblem, ...]
    runs_as: str = ""  # the identity the action would run as on the target

    @property
    def allowed(self) -> bool:
        """Nothing the policy refuses offline (approval is still to come)."""
        return not self.problems


def check_action(request: ActionRequest, policy_set: PolicySet) -> ActionCheck:
    """What the policies say of ``request`` before anyone approves it."""
    found = policy_set.action_for(request.target, request.action)
    if request.target not in policy_set.targets:
        known = ", ".join(sorted(policy_set.targets)) or "none"
        problem = ActionProblem(
            f"unknown target {request.target!r}", f"use one of: {known}", ("target",)
        )
        return ActionCheck(request, None, None, None, (problem,))
    if found is None:
        offered = ", ".join(policy_set.actions_of(request.target)) or "none"
        problem = ActionProblem(
            f"no policy offers action {request.action!r} on {request.target}",
            f"its actions are: {offered}",
            ("action",),
        )
        return ActionCheck(request, None, None, None, (problem,))
    policy, rule = found
    problems: list[ActionProblem] = []
    review = None
    if rule.sql is not None:
        if request.params is not None:
            problems.append(
                ActionProblem(
                    f"{request.action} is a SQL action: it takes `sql`, not `params`",
                    "write the statements under `sql:`",
                    ("params",),
                )
            )
        if request.sql is None:
            problems.append(
                ActionProblem(
                    f"{request.action} is a SQL action and the request has no `sql`",
                    "add `sql: |` with the exact statements to run",
                )
            )
        else:
            review = review_sql(request.sql, rule.sql)
            problems += [
                ActionProblem(p.message, p.hint, ("sql",), p.line) for p in review.problems
            ]
    elif rule.command is not None:
        if request.sql is not None:
            problems.append(
                ActionProblem(
                    f"{request.action} runs a command: it takes `params`, not `sql`",
                    "give the command's parameters under `params:`",
                    ("sql",),
                )
            )
        problems += _params_problems(request, rule)
    problems += _ticket_problems(request, rule)
    problems += _requester_problems(request, policy)
    target = policy_set.targets[request.target]
    return ActionCheck(
        request, policy.name, rule, review, tuple(problems), runs_as=_identity(target.settings)
    )


def _identity(settings: Mapping[str, object]) -> str:
    """Who a target performs actions as, as its settings say (a SQL login, a command)."""
    if settings.get("action_user"):
        return f"the login {settings['action_user']}"
    command = settings.get("command")
    if isinstance(command, list):
        return "the command " + " ".join(str(word) for word in command)
    return "the target's action identity (not set: the action cannot run)"


def _requester_problems(request: ActionRequest, policy: Policy) -> list[ActionProblem]:
    """A requester the policy cannot allow, whatever their teams (membership itself is the
    gate's to ask GitHub)."""
    if any(is_team(p) for p in policy.requesters):
        return []
    if any(normalise_principal(p) == login_key(request.requester) for p in policy.requesters):
        return []
    return [
        ActionProblem(
            f"@{request.requester} may not ask for {request.action} on {request.target} "
            f"under policy {policy.name}",
            f"its requesters are {', '.join(policy.requesters)}",
            ("requester",),
        )
    ]


def _params_problems(request: ActionRequest, rule: ActionRule) -> list[ActionProblem]:
    from jsonschema import Draft202012Validator

    assert rule.command is not None
    validator = Draft202012Validator(rule.command.parameters)
    problems = []
    for error in sorted(validator.iter_errors(request.params or {}), key=lambda e: e.path):
        at = tuple(error.absolute_path)
        problems.append(
            ActionProblem(
                f"`params{''.join(f'.{p}' for p in at)}`: {error.message}",
                "give the parameters the action's schema describes",
                ("params", *at) if request.params is not None else (),
            )
        )
    return problems


def _ticket_problems(request: ActionRequest, rule: ActionRule) -> list[ActionProblem]:
    ticket = rule.ticket
    if ticket is None:
        return []
    if request.ticket is None:
        if not ticket.required:
            return []
        return [ActionProblem("the action requires a ticket", "add `ticket: …`")]
    if ticket.pattern is not None and not re.fullmatch(ticket.pattern, request.ticket):
        return [
            ActionProblem(
                f"ticket {request.ticket!r} does not match {ticket.pattern}",
                "give the ticket the policy asks for",
                ("ticket",),
            )
        ]
    return []


def decide_action(
    request: ActionRequest,
    policies: PolicySet,
    approvals: Sequence[Review],
    *,
    requester_teams: frozenset[str] | None = None,
    context: PullRequestContext | None = None,
) -> Decision:
    """Decide whether action ``request`` may be performed, and explain why: what its policy
    says offline (``jitops.action_policy``: the action offered, its input, every statement
    allowed, the ticket), who may ask, and the approvals — the rules of a role's: all-of
    groups, distinct people, never the requester or a committer, reviews of the head only."""
    offline = check_action(request, policies)
    found = policies.action_for(request.target, request.action)
    checks = [Check("action", Status.FAIL, f"{p.message} — {p.hint}") for p in offline.problems]
    if found is None:
        return Decision(request.id, Verdict.DENIED, tuple(checks))
    policy, rule = found
    if not checks:
        what = (
            f"statements: {', '.join(offline.sql.kinds)}" if offline.sql is not None else "command"
        )
        checks.append(Check("action", Status.PASS, f"action {request.action} ({what})"))
    allowed_by = member_of(request.requester, requester_teams or frozenset(), policy.requesters)
    teams = [p for p in policy.requesters if is_team(p)]
    if allowed_by is not None:
        checks.append(Check("requester", Status.PASS, f"@{request.requester} may ask"))
    elif requester_teams is None and teams:
        checks.append(
            Check(
                "requester",
                Status.UNVERIFIED,
                f"@{request.requester} may ask only as a member of {', '.join(teams)}, which "
                "needs GitHub to verify",
            )
        )
    else:
        checks.append(
            Check(
                "requester",
                Status.FAIL,
                f"@{request.requester} may not ask for {request.action} on {request.target} "
                f"(allowed: {', '.join(policy.requesters)})",
            )
        )
    if context is not None and login_key(context.author) != login_key(request.requester):
        checks.append(
            Check(
                "requester",
                Status.FAIL,
                f"@{context.author} opened a request in @{request.requester}'s name: an action "
                "is asked for by the one who wants it",
            )
        )
    if rule.auto_approve:
        checks.append(Check("approval", Status.PASS, "auto-approved by policy"))
    else:
        checks.extend(approval_checks(approvals, rule.approvals, request.requester, context))
    return Decision(request.id, verdict_of(checks), tuple(checks), policy.name)
