"""The issue of failed revokes as text: what it shows, what it hides, and how the next sweep
reads back (as untrusted text) when each revoke started failing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from jitops.commands.sweep import (
    FAILED_MARKER,
    failed_revokes_issue_body,
    failing_since,
)
from jitops.ledger import read_ledger
from jitops.report.comments import sweep_texts
from jitops.revoking import Revocation, RevokeOutcome
from tests.gitrepo import commit_all, make_access_repo, write_request

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
TOKEN = "ghs_0123456789abcdefghij"


def failed_revokes_body(
    failed: list[Revocation], since: dict[str, datetime], now: datetime, secrets: list[str]
) -> str:
    """The issue's body as the sweep writes it: the marker, report's text, the stamps."""
    return failed_revokes_issue_body(sweep_texts(), failed, since, now, secrets)


@pytest.fixture
def failed(tmp_path: Path) -> list[Revocation]:
    root = make_access_repo(tmp_path / "access")
    write_request(root, "bob-1", requester="bob", duration="1h")
    commit_all(root, "grant", date="2026-11-23T09:00:00Z")
    [entry] = read_ledger(root).entries
    detail = (
        f"connect failed: postgresql://jitops:hunter22@db/orders | retry\n"
        f"with `{TOKEN}` then " + "x" * 400
    )
    return [Revocation(entry, RevokeOutcome.FAILED, detail)]


def test_the_body_lists_each_failure_without_secrets_on_one_table_row(
    failed: list[Revocation],
) -> None:
    body = failed_revokes_body(failed, {}, NOW, [TOKEN])
    assert body.startswith(FAILED_MARKER)
    [row] = [line for line in body.splitlines() if line.startswith("| `sandbox-db`")]
    assert row.startswith(
        "| `sandbox-db` | `readonly` | @bob | `bob-1` "
        "(`requests/sandbox-db/readonly/bob-1.yaml`) | 2026-11-23 10:00 | 2026-11-23 12:00 | `"
    )
    assert "hunter22" not in body and TOKEN not in body  # masked, whatever the message says
    assert "\\| retry" in row  # the pipe cannot end the cell
    assert row.count("`") % 2 == 0  # backticks in the message cannot break the code span
    assert len(row) < 600 and row.endswith("…` |")  # long messages are cut


def test_failing_since_is_carried_from_one_sweep_to_the_next(failed: list[Revocation]) -> None:
    first = failed_revokes_body(failed, {}, NOW, [])
    later = NOW + timedelta(minutes=30)
    since = failing_since(first, later)
    assert since == {"bob-1": NOW}
    second = failed_revokes_body(failed, since, later, [])
    assert "| 2026-11-23 12:00 | `" in second and "Last sweep: 2026-11-23 12:30 UTC" in second


@pytest.mark.parametrize(
    "marker",
    [
        "",
        "<!-- jitops:failing-since {not json} -->",
        '<!-- jitops:failing-since ["bob-1"] -->',
        '<!-- jitops:failing-since {"bob-1": 5} -->',
        '<!-- jitops:failing-since {"bob-1": "yesterday"} -->',
        '<!-- jitops:failing-since {"bob-1": "2026-11-23T08:00:00"} -->',  # no timezone
        '<!-- jitops:failing-since {"bob-1": "2027-01-01T00:00:00+00:00"} -->',  # future
    ],
)
def test_an_edited_issue_cannot_break_the_sweep(marker: str) -> None:
    assert failing_since(f"{FAILED_MARKER}\nedited by hand\n{marker}\n", NOW) == {}


def test_the_stamps_are_valid_json_in_an_html_comment(failed: list[Revocation]) -> None:
    body = failed_revokes_body(failed, {}, NOW, [])
    stamps = body.split("<!-- jitops:failing-since ", 1)[1].split(" -->", 1)[0]
    assert json.loads(stamps) == {"bob-1": NOW.isoformat()}


def test_a_hostile_file_name_stays_inside_its_cell(failed: list[Revocation]) -> None:
    """A request file's name is the requester's to choose: a backtick, a pipe or a mention in
    it must not end its code span, split the table row or notify anyone."""
    from dataclasses import replace

    hostile = "requests/sandbox-db/readonly/x`|@acme/security <img src=x>.yaml"
    entries = [replace(failed[0], entry=replace(failed[0].entry, path=hostile))]
    body = failed_revokes_body(entries, {}, NOW, [TOKEN])
    [row] = [line for line in body.splitlines() if line.startswith("| `sandbox-db`")]
    assert "(`requests/sandbox-db/readonly/x'\\|@acme/security <img src=x>.yaml`)" in row
    assert row.count("`") % 2 == 0 and row.count(" | ") == 6  # seven cells, still
