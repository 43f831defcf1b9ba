"""The approval gate on action requests, end to end on the GitHub test server: an action request
is judged by the base branch's policy — its statements by PostgreSQL's parser, its approvals
by the rules of a role — and its approver sees exactly what will run."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Check
from tests.e2e.gate_world import GateWorld, comments_of, status_of


@pytest.fixture
def offered(gate: GateWorld) -> GateWorld:
    """The example policies (the base checkout's) offer fix-order-state on sandbox-db, run as
    jitops_actions; the fixture checks they still do, so these tests never pass vacuously."""
    policy = (gate.base / "policies" / "sandbox-db.yaml").read_text()
    assert "  fix-order-state:\n" in policy
    assert "action_user: jitops_actions" in (gate.base / "policies" / "targets.yaml").read_text()
    return gate


def action_text(gate: GateWorld, request_id: str, sql: str, requester: str = "alice") -> str:
    body = "\n".join(f"  {line}" for line in sql.splitlines())
    return (
        "apiVersion: jitops/v1\nkind: ActionRequest\n"
        f"id: {request_id}\nrequester: {gate.login(requester)}\ntarget: sandbox-db\n"
        "action: fix-order-state\njustification: Order 1002 is stuck in payment after INC-4211\n"
        "ticket: INC-4211\n"
        f"sql: |\n{body}\n"
    )


def open_action(gate: GateWorld, request_id: str, sql: str) -> int:
    path = f"actions/sandbox-db/fix-order-state/{request_id}.yaml"
    return gate.open_pull(request_id, {path: action_text(gate, request_id, sql)})


def test_an_action_request_is_shown_exactly_and_needs_its_approval(
    offered: GateWorld, check: Check
) -> None:
    gate = offered
    number = open_action(gate, "fix-1002", "UPDATE orders SET state = 'paid' WHERE id = 1002;")
    waiting = check(number)
    assert waiting.code == 1, waiting.output
    state, description = status_of(gate, number)
    assert state == "pending"
    assert f"needs 1 approval from {gate.team('db-leads')}" in description
    [comment] = comments_of(gate, number)
    assert "| what | action `fix-order-state` on `sandbox-db` |" in comment
    assert "| runs as | the login jitops\\_actions |" in comment
    assert "at most 1 row(s) affected" in comment
    assert "(PostgreSQL parsed: UPDATE)" in comment
    assert "```sql\nUPDATE orders SET state = 'paid' WHERE id = 1002;\n```" in comment

    gate.review(number, "eve")  # an engineer, no db lead: does not count
    assert check(number).code == 1
    gate.review(number, "bob")  # a db lead
    assert check(number).code == 0
    assert status_of(gate, number)[0] == "success"


@pytest.mark.attack(2, "have an action approved, then change what it runs")
def test_a_statement_changed_after_approval_needs_approval_again(
    offered: GateWorld, check: Check
) -> None:
    """Attack (a push after approval): the approval binds to the head it was given on; the new
    statements are judged, and wait for a new approval."""
    gate = offered
    number = open_action(gate, "fix-1003", "UPDATE orders SET state = 'paid' WHERE id = 1003;")
    gate.review(number, "bob")
    assert check(number).code == 0
    path = "actions/sandbox-db/fix-order-state/fix-1003.yaml"
    gate.push(number, {path: action_text(gate, "fix-1003", "UPDATE orders SET state = 'paid';")})
    stale = check(number)
    assert stale.code == 1
    assert "approved an older commit" in stale.out
    assert status_of(gate, number)[0] == "pending"


@pytest.mark.attack(3, "get SQL the action does not allow approved")
def test_a_statement_the_action_does_not_allow_is_refused_whoever_approves(
    offered: GateWorld, check: Check
) -> None:
    gate = offered
    number = open_action(
        gate,
        "fix-1004",
        "UPDATE orders SET state = 'paid' WHERE id = 1004;\nDROP TABLE orders;\n"
        "-- ``` </details> <img src=x onerror=alert(1)> @" + gate.org + "/db-leads",
    )
    gate.review(number, "bob")
    refused = check(number)
    assert refused.code == 1
    assert status_of(gate, number)[0] == "failure"
    [comment] = comments_of(gate, number)
    assert "DROP is not a statement an action runs" in comment
    # the statements are shown, all of them, inside a fence they cannot close
    assert "````sql\nUPDATE orders" in comment and "\n````\n" in comment


@pytest.mark.attack(3, "run an action twice: edit it in place, or revert and re-merge it")
def test_an_action_request_on_the_branch_is_never_changed_nor_asked_again(
    offered: GateWorld, check: Check
) -> None:
    """Attack (a second run under the first approval): an action request on the branch was
    approved (or performed) as it is; editing it is refused, and once removed its id cannot
    come back — a revert and re-merge asks again under a used id."""
    gate = offered
    path = "actions/sandbox-db/fix-order-state/fix-1005.yaml"
    text = action_text(gate, "fix-1005", "UPDATE orders SET state = 'paid' WHERE id = 1005;")
    first = gate.open_pull("fix-1005", {path: text})
    gate.review(first, "bob")
    assert check(first).code == 0
    gate.merge(first)  # the base checkout pulls it; its policy edits stay

    edited = gate.open_pull("edit-1005", {path: text.replace("id = 1005", "id > 0")})
    gate.review(edited, "bob")
    assert check(edited).code == 1
    assert "never changed in place" in comments_of(gate, edited)[0]

    removal = gate.open_pull("drop-1005", {path: None})
    assert check(removal).code == 0  # removing one changes nothing: no approval needed
    gate.merge(removal)
    again = gate.open_pull("again-1005", {path: text})
    gate.review(again, "bob")
    assert check(again).code == 1
    assert "id 'fix-1005' was already used for an action request" in comments_of(gate, again)[0]
