"""``jitops audit`` and ``jitops audit verify`` through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jitops import evidence
from jitops.report.csv import REVIEW_COLUMNS
from tests.commands.test_audit import approval
from tests.e2e.conftest import CLI
from tests.gitrepo import commit_all, git, make_access_repo, write_request


def test_audit_cli(tmp_path: Path, cli: CLI) -> None:
    repo = make_access_repo(tmp_path / "access")
    path = write_request(repo, "ok-1", duration="4h")
    merged = commit_all(repo, "grant", date="2026-11-23T09:00:00Z")
    evidence.record(repo, merged, approval("ok-1", path.relative_to(repo).as_posix()))
    result = cli("audit", "--repo", str(repo))
    assert result.code == 0, result.output
    assert (
        "ok-1     @alice  sandbox-db/readonly  2026-11-23 09:00  2026-11-23 13:00  @bob"
        in result.out
    )
    assert result.out.startswith("request  who     access               from (UTC)")
    assert "jitops: 1 grant(s) in history, 0 without approval evidence" in result.err
    assert cli("audit", "--repo", str(repo), "verify").code == 0

    write_request(repo, "sneaky-1", duration="1h")
    commit_all(repo, "no review", date="2026-11-23T10:00:00Z")
    verify = cli("audit", "--repo", str(repo), "verify")
    assert verify.code == 1
    assert "sneaky-1 (landed" in verify.out and "no approval evidence" in verify.out
    grants = json.loads(cli("audit", "--repo", str(repo), "--format", "json").out)["grants"]
    assert [(g["id"], g["approvers"], g["pull_request"]) for g in grants] == [
        ("ok-1", ["bob"], 7),
        ("sneaky-1", [], None),
    ]


def _audited_origin(tmp_path: Path) -> Path:
    """An access repository where apply verified ok-1 (its note on the merge) and nothing
    verified sneaky-1, as an auditor's origin."""
    origin = make_access_repo(tmp_path / "origin")
    path = write_request(origin, "ok-1", duration="4h")
    merged = commit_all(origin, "grant", date="2026-11-23T09:00:00Z")
    evidence.record(origin, merged, approval("ok-1", path.relative_to(origin).as_posix()))
    write_request(origin, "sneaky-1", duration="1h")
    commit_all(origin, "no review", date="2026-11-23T10:00:00Z")
    return origin


def _fresh_clone(origin: Path, tmp_path: Path) -> Path:
    clone = tmp_path / "auditor"
    git(tmp_path, "clone", "-q", str(origin), str(clone))  # a clone fetches no notes
    assert "refs/notes/jitops" not in git(clone, "for-each-ref")
    return clone


def test_in_a_fresh_clone_audit_fetches_the_evidence_notes_from_origin(
    tmp_path: Path, cli: CLI
) -> None:
    clone = _fresh_clone(_audited_origin(tmp_path), tmp_path)
    listing = cli("audit", "--repo", str(clone))
    assert listing.code == 0, listing.output
    assert "@bob" in listing.out and "unknown" not in listing.out
    verify = cli("audit", "--repo", str(clone), "verify")
    assert verify.code == 1
    assert "sneaky-1 (landed" in verify.out and "ok-1 (landed" not in verify.out


@pytest.mark.attack(8, "a fresh clone's missing notes read as 'apply never verified it'")
def test_without_the_notes_approvals_are_unknown_never_missing(tmp_path: Path, cli: CLI) -> None:
    """An auditor who does not fetch the notes (or whose origin cannot be read) is told how to
    fetch them: no grant is called unapproved, and verify refuses to pass or to accuse."""
    origin = _audited_origin(tmp_path)
    clone = _fresh_clone(origin, tmp_path)
    for args in (["--no-fetch-notes"], []):
        if args == []:  # origin gone: the notes cannot be fetched
            git(clone, "remote", "set-url", "origin", str(tmp_path / "gone"))
        listing = cli("audit", "--repo", str(clone), *args)
        assert listing.code == 0, listing.output
        assert "no approval evidence" not in listing.output
        assert "unknown (no evidence notes in this clone)" in listing.out
        assert f"fetch them: {evidence.FETCH_NOTES}" in listing.out
        assert "approvals unknown: this clone holds no evidence notes" in listing.err
        grants = json.loads(cli("audit", "--repo", str(clone), *args, "--format", "json").out)
        assert [g["unrecorded"] for g in grants["grants"]] == [True, True]
        assert grants["evidence_known"] is False
        verify = cli("audit", "--repo", str(clone), *args, "verify")
        assert verify.code == 2, verify.output
        assert "cannot verify 2 grant(s)" in verify.out and evidence.FETCH_NOTES in verify.out
        assert "no approval evidence" not in verify.output
    assert "could not fetch the evidence notes from origin" in listing.out


def test_an_origin_that_never_ran_apply_has_no_evidence_to_fetch(tmp_path: Path, cli: CLI) -> None:
    """With no notes on origin either, none is the record: every grant lacks evidence."""
    origin = make_access_repo(tmp_path / "origin")
    write_request(origin, "sneaky-1", duration="1h")
    commit_all(origin, "no review", date="2026-11-23T10:00:00Z")
    clone = _fresh_clone(origin, tmp_path)
    verify = cli("audit", "--repo", str(clone), "verify")
    assert verify.code == 1
    assert "sneaky-1 (landed" in verify.out and "no approval evidence" in verify.out


def test_filters_and_formats_through_the_cli(tmp_path: Path, cli: CLI) -> None:
    origin = _audited_origin(tmp_path)
    by_alice = cli("audit", "--repo", str(origin), "--user", "@Alice", "--format", "csv")
    assert by_alice.code == 0, by_alice.output
    lines = by_alice.out.split("\r\n")
    assert lines[0].startswith("id,requester,target,role,from,until,")
    assert [line.split(",")[0] for line in lines[1:-1]] == ["ok-1", "sneaky-1"]
    assert "jitops: 2 grant(s) in history" in by_alice.err
    only_bob = cli("audit", "--repo", str(origin), "--approver", "bob", "--format", "json")
    assert [g["id"] for g in json.loads(only_bob.out)["grants"]] == ["ok-1"]
    later = cli("audit", "--repo", str(origin), "--since", "2026-11-23T13:30:00Z")
    assert "sneaky-1" not in later.out and "ok-1" not in later.out
    day = cli("audit", "--repo", str(origin), "--since", "2026-11-23", "--until", "2026-11-24")
    assert "ok-1" in day.out and "sneaky-1" in day.out
    at_ten = cli("audit", "--repo", str(origin), "--active-at", "2026-11-23T10:30:00Z")
    assert "ok-1" in at_ten.out and "sneaky-1" in at_ten.out
    assert (
        "sneaky-1"
        not in cli("audit", "--repo", str(origin), "--active-at", "2026-11-23T11:00:00Z").out
    )


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--since", "2026-11-24", "--until", "2026-11-23"], "is not after --since"),
        (["--since", "2026-13-01"], "is not a date"),
        (["--active-at", "2026-11-23T10:00:00"], "has no timezone"),
        (["--user", "alice", "verify"], "checks every grant in history"),
        (["--format", "xml"], "'xml' is not one of"),
    ],
)
def test_a_wrong_filter_is_a_usage_error(
    tmp_path: Path, cli: CLI, args: list[str], says: str
) -> None:
    result = cli("audit", "--repo", str(_audited_origin(tmp_path)), *args)
    assert result.code == 2 and says in result.err, result.output
    assert "Traceback" not in result.output


def test_review_through_the_cli(tmp_path: Path, cli: CLI) -> None:
    history = _audited_origin(tmp_path)
    result = cli(
        "audit", "--repo", str(history), "--since", "2026-11-01", "--until", "2026-12-01",
        "review", "--by", "team", "--at", "2026-11-30T12:00:00Z",
    )  # fmt: skip
    assert result.code == 0, result.output
    assert result.out.startswith("## Access review:") and "### @bob" not in result.out
    assert "### @acme/db-leads" in result.out  # ok-1's approver bob, counted for db-leads
    as_csv = cli("audit", "--repo", str(history), "review", "--format", "csv")
    assert as_csv.code == 0 and as_csv.out.startswith(",".join(REVIEW_COLUMNS))
    wrong = cli("audit", "--repo", str(history), "review", "--by", "manager")
    assert wrong.code == 2 and "'manager' is not one of" in wrong.err
