"""An action request judged offline by its policy: is the action offered on the target, is its
input what the action takes, and — for SQL — is every statement one the action allows. Pure:
no I/O; who approves, and whether they did, is the gate's to count with the API.

The result explains itself: each problem names the field it is about (its path in the file,
for the caller to turn into a line) and how to fix it; a SQL action carries the review of its
statements (``jitops.sql_review``), which the pull-request comment shows the approver.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from jitops.models import (
    ActionRequest,
    ActionRule,
    Policy,
    is_team,
    login_key,
    normalise_principal,
)
from jitops.policy import PolicySet
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
    return ActionCheck(request, policy.name, rule, review, tuple(problems))


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
