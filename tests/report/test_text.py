"""Text for a terminal: one finding per line, windows and verdicts as a reviewer reads
them, aligned tables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from jitops.findings import Finding, Severity
from jitops.models import AccessRequest
from jitops.policy import Check, Decision, Status, Verdict
from jitops.report import text as report


def a_request(**window: object) -> AccessRequest:
    return AccessRequest.model_validate(
        {
            "apiVersion": "jitops/v1",
            "kind": "AccessRequest",
            "id": "db-1",
            "requester": "alice",
            "target": "db",
            "role": "reader",
            "justification": "Look at the stuck export of INC-9",
            **window,
        }
    )


def test_a_finding_line_says_where_how_bad_what_and_the_fix() -> None:
    finding = Finding("requests/a.yaml", Severity.ERROR, "unknown field `x`", "remove it", 3, 5)
    assert report.finding_line(finding) == (
        "requests/a.yaml:3:5: error: unknown field `x` — remove it"
    )


def test_a_window_reads_as_a_duration_from_merge_or_as_its_times() -> None:
    assert report.window_text(a_request(duration="4h")) == "4h from merge"
    end = datetime(2026, 12, 3, 1, 0, tzinfo=UTC)
    assert report.window_text(a_request(expires_at=end)) == "merge → 2026-12-03 01:00 UTC"
    start = end - timedelta(hours=2)
    assert (
        report.window_text(a_request(starts_at=start, expires_at=end))
        == "2026-12-02 23:00 UTC → 2026-12-03 01:00 UTC"
    )


def test_a_verdict_before_review_says_what_it_still_needs_or_why_not() -> None:
    waiting = Decision(
        "db-1",
        Verdict.PENDING,
        (
            Check("requester", Status.PASS, "alice may ask"),
            Check("approval", Status.WAITING, "needs 1 approval from @acme/db-leads"),
        ),
        "sandbox-db",
    )
    assert report.request_verdict(waiting) == (
        "allowed by policy sandbox-db; needs 1 approval from @acme/db-leads before it can merge"
    )
    denied = Decision(
        "db-1", Verdict.DENIED, (Check("window", Status.FAIL, "8h is over the 4h maximum"),)
    )
    assert report.request_verdict(denied) == "refused: 8h is over the 4h maximum"


def test_a_text_table_aligns_every_column_to_its_widest_cell() -> None:
    lines = report.table(("id", "who", "until"), [("db-1", "@alice", "—"), ("x", "@b", "later")])
    assert lines == ["id    who     until", "db-1  @alice  —", "x     @b      later"]


def test_validates_last_line_counts_each_kind_of_problem_in_words_that_agree() -> None:
    from jitops.commands.validate import ValidateResult

    found = (
        Finding("requests/a.yaml", Severity.ERROR, "bad", None, 1),
        Finding("requests/b.yaml", Severity.WARNING, "old", None, 2),
        Finding("requests/c.yaml", Severity.WARNING, "old", None, 3),
    )
    result = ValidateResult(found, (), (), 4)
    assert report.validate_summary(result) == (
        "jitops: checked 0 request(s) and 4 policy file(s): 1 error, 0 denied, 2 warnings"
    )


def test_apply_counts_what_it_did_by_action_and_calls_nothing_a_change() -> None:
    from types import SimpleNamespace

    from jitops.commands.apply import Action
    from jitops.report.text import apply_counts

    def outcome(action: Action) -> SimpleNamespace:
        return SimpleNamespace(action=action)

    assert apply_counts([]) == "nothing to grant or revoke"
    judged = [outcome(Action.WOULD_GRANT), outcome(Action.STILL_REFUSED), outcome(Action.REFUSED)]
    assert apply_counts(judged) == (  # type: ignore[arg-type]
        "3 request(s) judged: 1 would grant, 1 still refused, 1 refused"
    )


def test_the_audit_of_actions_names_who_approved_never_whom_the_rule_asked() -> None:
    from types import SimpleNamespace

    from jitops.action_record import ActionOnBranch
    from jitops.report.text import action_audit_rows

    performed = {
        "state": "performed",
        "at": "2026-12-01T12:00:03+00:00",
        "digest": "ab" * 32,
        "approved": ["approved by @bob, @dave (@acme/db-leads or @carol)", "approved by @erin"],
    }
    action = ActionOnBranch(
        "actions/sandbox-db/fix-order-state/fix-1.yaml", "fix-1", "alice", "sandbox-db",
        "fix-order-state", "c" * 40, "performed", ({"state": "started"}, performed),
    )  # fmt: skip
    [row] = action_audit_rows(SimpleNamespace(actions=[action]))  # type: ignore[arg-type]
    assert row == (
        "fix-1", "@alice", "sandbox-db/fix-order-state", "@bob @dave @erin", "performed",
        "2026-12-01 12:00", "abababababab",
    )  # fmt: skip
