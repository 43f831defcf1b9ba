"""``jitops audit``: who held which access when, approved by whom, under which policy — from git.

Walks the branch's first-parent history of ``requests/`` (each merge that added, changed or
removed a request file), reads each request as it was when it landed, and joins the approval
evidence that ``jitops apply`` recorded as git notes. No GitHub API is involved (invariant 8).

``jitops audit verify`` lists every grant that landed without evidence of a valid approval.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from jitops import evidence, git, request_files
from jitops.errors import ExitCode, UsageError
from jitops.findings import Finding, Severity, exit_code
from jitops.kept_issue import KeptIssue, table_cell
from jitops.models import AccessRequest
from jitops.policy import request_window
from jitops.repo import REQUEST_MODELS, REQUESTS_DIR, parse


@dataclass(frozen=True)
class AuditRecord:
    path: str
    request: AccessRequest
    landed_commit: str
    landed_at: datetime
    window_start: datetime | None
    window_end: datetime | None
    removed_commit: str | None = None
    removed_at: datetime | None = None
    pull_request: int | None = None
    policy_commit: str | None = None
    approvers: tuple[str, ...] = ()
    auto_approved: bool = False
    problem: str | None = None  # why this grant has no valid approval evidence
    refused: bool = False  # apply judged it and refused it: it never granted anything
    grant_failed: bool = False  # apply verified it, but granting through the target failed

    @property
    def held_until(self) -> datetime | None:
        """When access ended: its window's end, or its removal if that came first."""
        ends = [t for t in (self.window_end, self.removed_at) if t is not None]
        return min(ends) if ends else None


@dataclass(frozen=True)
class AuditReport:
    commit: str
    records: tuple[AuditRecord, ...]
    findings: tuple[Finding, ...]

    @property
    def unverified(self) -> tuple[AuditRecord, ...]:
        return tuple(r for r in self.records if r.problem is not None)


def audit(root: Path, ref: str = "HEAD") -> AuditReport:
    commit = git.resolve(root, ref)
    if commit is None:
        raise UsageError(f"{ref!r} names no commit in {root}")
    changes = git.first_parent_changes(root, commit, [REQUESTS_DIR])
    wanted = [f"{c.commit}:{c.path}" for c in changes if c.status in ("A", "M")]
    contents = git.read_blobs(root, wanted)
    notes, broken = evidence.read_all(root)
    records: list[AuditRecord] = []
    findings: list[Finding] = []
    open_records: dict[str, int] = {}  # path → index in records

    def close(path: str, change: git.Change) -> None:
        index = open_records.pop(path, None)
        if index is not None:
            records[index] = replace(
                records[index], removed_commit=change.commit, removed_at=change.at
            )

    for change in changes:
        close(change.path, change)  # a change replaces the request: the old grant ends
        if change.status == "D" or not request_files.has_request_name(change.path):
            continue
        raw = contents.get(f"{change.commit}:{change.path}")
        if raw is None:
            continue
        _, model, problems = parse(raw, change.path, REQUEST_MODELS, "requests/")
        if not isinstance(model, AccessRequest):
            findings.extend(
                replace(f, message=f"{f.message} (as landed in {change.commit[:7]})")
                for f in problems
            )
            continue
        start, end = request_window(model, change.at)
        record = AuditRecord(change.path, model, change.commit, change.at, start, end)
        records.append(_with_evidence(record, notes.get(change.commit), broken.get(change.commit)))
        open_records[change.path] = len(records) - 1
    return AuditReport(commit, tuple(records), tuple(findings))


def _with_evidence(
    record: AuditRecord, note: evidence.ApprovalEvidence | None, broken: str | None
) -> AuditRecord:
    if note is None:
        return replace(record, problem=broken or "no approval evidence: apply never verified it")
    found = note.for_request(record.request.id)
    if found is None:
        return replace(
            record,
            pull_request=note.pull_request,
            problem="the evidence note of its merge does not mention this request",
        )
    problem = None
    if found.verdict != "allowed":
        problem = f"apply refused it: {found.reason}"
    elif found.grant_failed is not None:
        problem = f"apply verified it, but granting it failed: {found.grant_failed}"
    return replace(
        record,
        refused=found.verdict != "allowed",
        grant_failed=found.verdict == "allowed" and found.grant_failed is not None,
        pull_request=note.pull_request,
        policy_commit=note.policy_commit,
        approvers=tuple(a.login for a in found.approvers),
        auto_approved=found.auto_approved,
        problem=problem,
    )


def unverified_findings(report: AuditReport) -> list[Finding]:
    """A finding per landing without valid approval evidence. One that apply refused and that
    has left the branch is history (a warning: it never granted anything); one still on the
    branch, or one apply never judged, needs a person."""
    findings = []
    for r in report.unverified:
        text = (
            f"{r.request.id} (landed {r.landed_commit[:7]} {r.landed_at:%Y-%m-%d %H:%M} UTC): "
            f"{r.problem}"
        )
        if (r.refused or r.grant_failed) and r.removed_commit is not None:
            findings.append(
                Finding(
                    r.path,
                    Severity.WARNING,
                    f"{text}; it never granted anything, and left the branch in "
                    f"{r.removed_commit[:7]}",
                )
            )
        elif r.grant_failed:
            findings.append(
                Finding(
                    r.path,
                    Severity.DENIED,
                    f"{text}; no access exists for it",
                    "fix the target, then rerun the apply workflow (its catch-up grants it); "
                    "or remove the file with a pull request",
                )
            )
        elif r.refused:
            findings.append(
                Finding(
                    r.path,
                    Severity.DENIED,
                    f"{text}; it grants nothing but is still on the branch",
                    "check who merged it and why, and remove the file with a pull request",
                )
            )
        else:
            findings.append(
                Finding(
                    r.path,
                    Severity.DENIED,
                    text,
                    "check who merged it and why; revoke if it was not approved",
                )
            )
    return findings


AUDIT_LABEL = "jitops:audit"
AUDIT_MARKER = "<!-- jitops:audit-verify -->"


def audit_issue_body(findings: Sequence[Finding], commit: str, now: datetime) -> str:
    """The issue listing what ``jitops audit verify`` found, and what to do about each."""
    lines = [
        AUDIT_MARKER,
        "`jitops audit verify` found access on the branch that apply did not verify, or a",
        "record that disagrees with history. Every scheduled run checks again, keeps this issue",
        "up to date, and closes it once nothing is found.",
        "",
        "| file | what | what to do |",
        "|---|---|---|",
    ]
    lines += [
        f"| {table_cell(f.location)} | {table_cell(f.message)} | {table_cell(f.hint or '')} |"
        for f in findings
    ]
    lines += ["", f"<sub>Checked {commit[:12]} at {now:%Y-%m-%d %H:%M} UTC.</sub>"]
    return "\n".join(lines) + "\n"


def report_on_github(
    findings: Sequence[Finding],
    commit: str,
    now: datetime,
    *,
    repository: str,
    token: str,
    api_url: str,
) -> KeptIssue | None:
    """Keep one issue open listing the problems ``findings`` name (warnings are history, not
    problems), closed with a comment once there are none. None: nothing found, nothing open."""
    from jitops import kept_issue
    from jitops.github import GitHub

    problems = [f for f in findings if f.severity is not Severity.WARNING]
    github = GitHub(token, repository=repository, api_url=api_url)
    if not problems:
        found = kept_issue.ours(github, AUDIT_LABEL, AUDIT_MARKER)
        return kept_issue.close(
            github,
            found,
            f"`jitops audit verify` finds nothing at {commit[:12]} "
            f"({now:%Y-%m-%d %H:%M} UTC): closing.\n",
        )
    title = f"jitops audit verify: {len(problems)} problem(s) on the branch"
    body = audit_issue_body(problems, commit, now)
    return kept_issue.keep(
        github, AUDIT_LABEL, AUDIT_MARKER, title, body, what="listing audit problems"
    )


@dataclass(frozen=True)
class Verification:
    """``jitops audit verify``: the history read, and every problem found in it (grants
    without valid approval evidence, a request-id index that disagrees with history)."""

    report: AuditReport
    findings: tuple[Finding, ...]

    @property
    def exit_code(self) -> ExitCode:
        return exit_code(self.findings)


def verify(root: Path, ref: str = "HEAD") -> Verification:
    """Audit ``ref`` and check its request-id index (``report_on_github`` keeps the issue)."""
    from jitops import ids

    report = audit(root, ref)
    findings = (
        *report.findings,
        *unverified_findings(report),
        *ids.check_findings(ids.verify(root, ref)),
    )
    return Verification(report, findings)
