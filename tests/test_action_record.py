"""``jitops.action_record``: what the records in ``refs/notes/jitops-actions`` say became of
each action request, read back from a real repository."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from jitops import git
from jitops.action_record import ActionStep, actions_on, record, recorded_ids
from tests.gitrepo import commit_all, init_repo

PATH = "actions/sandbox-db/fix-order-state/fix-1002.yaml"
REQUEST = (
    "apiVersion: jitops/v1\nkind: ActionRequest\nid: fix-1002\nrequester: alice\n"
    "target: sandbox-db\naction: fix-order-state\n"
    "justification: Order 1002 is stuck in payment after INC-4211\nticket: INC-4211\n"
    "sql: |\n  UPDATE orders SET state = 'paid' WHERE id = 1002;\n"
)


def landed(tmp_path: Path) -> tuple[Path, str]:
    root = init_repo(tmp_path / "access")
    (root / PATH).parent.mkdir(parents=True)
    (root / PATH).write_text(REQUEST)
    return root, commit_all(root, "land fix-1002")


def step(state: str, at: str, **details: object) -> ActionStep:
    moment = datetime.fromisoformat(at).replace(tzinfo=UTC)
    return ActionStep("fix-1002", PATH, "b" * 40, state, moment, dict(details))


def test_an_outcome_is_what_became_of_it_whatever_the_clocks_of_the_runs_said(
    tmp_path: Path,
) -> None:
    """A run on a fast clock records ``started`` at a moment later than the outcome another
    clock stamped: the outcome still wins, and the steps keep the order they were recorded."""
    root, commit = landed(tmp_path)
    record(root, commit, step("started", "2026-12-01T12:05:00"))
    record(root, commit, step("performed", "2026-12-01T12:00:01", digest="d" * 64))
    [action] = actions_on(root)
    assert action.state == "performed"
    assert [s["state"] for s in action.steps] == ["started", "performed"]
    assert action.landed == commit and action.requester == "alice"
    assert recorded_ids(root) == {"fix-1002": "performed"}


def test_a_start_with_no_outcome_is_unknown_and_no_record_is_pending(tmp_path: Path) -> None:
    root, commit = landed(tmp_path)
    [waiting] = actions_on(root)
    assert waiting.state == "pending" and waiting.steps == ()
    record(root, commit, step("started", "2026-12-01T12:00:00"))
    [started] = actions_on(root)
    assert started.state == "started"  # the run died before its outcome: never run again
    assert git.notes(root, ref=git.ACTIONS_REF)  # the record is a note, where audit reads it
