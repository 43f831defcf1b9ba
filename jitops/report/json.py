"""The ``--format json`` objects: what machines read, one function per result."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from jitops.findings import Finding
from jitops.policy import Decision

if TYPE_CHECKING:
    from jitops.audit_records import AuditReport
    from jitops.commands.doctor import DoctorReport
    from jitops.commands.status import StatusReport
    from jitops.commands.validate import ValidateResult


def finding_dict(finding: Finding) -> dict[str, Any]:
    return {
        "path": finding.path,
        "line": finding.line,
        "column": finding.column,
        "severity": finding.severity.value,
        "message": finding.message,
        "hint": finding.hint,
    }


def decision_dict(decision: Decision) -> dict[str, Any]:
    return {
        "request": decision.request_id,
        "verdict": decision.verdict.value,
        "policy": decision.policy,
        "reason": decision.reason,
        "window": {
            "start": decision.window_start.isoformat() if decision.window_start else None,
            "end": decision.window_end.isoformat() if decision.window_end else None,
        },
        "checks": [
            {"rule": c.rule, "status": c.status.value, "detail": c.detail} for c in decision.checks
        ],
    }


def validate_json(result: ValidateResult) -> dict[str, Any]:
    """``jitops validate --format json``: the exit code, the counts, every finding, each
    request's verdict, and the whole decision of each request the policies refuse."""
    return {
        "exit_code": int(result.exit_code),
        "request_count": result.request_count,
        "policy_files": result.policy_file_count,
        "findings": [finding_dict(f) for f in result.findings],
        "requests": [
            {
                "path": v.path,
                "id": v.request_id,
                "verdict": v.verdict.value if v.verdict else None,
                "reason": v.reason,
            }
            for v in result.verdicts
        ],
        "denied": [decision_dict(d) for d in result.denied],
    }


def to_json(payload: dict[str, Any]) -> str:
    """``payload`` indented throughout, for a small document (a schema, doctor's checks)."""
    return json.dumps(payload, indent=2, sort_keys=False)


def listing_json(payload: dict[str, Any]) -> str:
    """``payload`` with its top-level keys indented and each element of a top-level list on a
    line of its own: a listing of tens of thousands of grants or requests reads (and greps)
    record by record, and is encoded by json's C encoder, which indentation would turn off
    (the pure-Python one it falls back to takes 4x as long on an audit's history)."""
    fields = []
    for key, value in payload.items():
        head = f"  {json.dumps(key)}: "
        if isinstance(value, list) and value:
            items = ",\n".join(f"    {json.dumps(item)}" for item in value)
            fields.append(f"{head}[\n{items}\n  ]")
        else:
            fields.append(head + json.dumps(value, indent=2).replace("\n", "\n  "))
    return "{\n" + ",\n".join(fields) + "\n}" if fields else "{}"


def status_json(report: StatusReport, show_all: bool = False) -> dict[str, Any]:
    """``jitops status --format json``: the moment, the commit, and each grant shown."""
    return {
        "at": report.at.isoformat(),
        "commit": report.commit,
        "grants": [
            {
                "id": e.request.id,
                "state": s.value,
                "standing": e.standing.value,
                "why": e.standing_detail or None,
                "requester": e.request.requester,
                "target": e.request.target,
                "role": e.request.role,
                "starts_at": e.starts_at.isoformat() if e.starts_at else None,
                "expires_at": e.expires_at.isoformat() if e.expires_at else None,
                "landed_commit": e.landing.commit if e.landing else None,
                "path": e.path,
            }
            for e, s in report.shown(show_all)
        ],
    }


def doctor_dict(report: DoctorReport) -> dict[str, Any]:
    return {
        "exit_code": int(report.exit_code),
        "offline": report.offline,
        "checks": [
            {
                "area": c.area.value,
                "name": c.name,
                "status": c.status.value,
                "message": c.message,
                "fix": c.fix,
            }
            for c in report.checks
        ],
    }


def audit_json(report: AuditReport) -> dict[str, Any]:
    """``jitops audit --format json``: the commit read, whether the evidence notes were there
    to read, the problems met reading history, one object per grant and one per action
    request."""
    return {
        "commit": report.commit,
        "evidence_known": report.evidence_known,
        "findings": [finding_dict(f) for f in report.findings],
        "grants": [
            {
                "id": r.request.id,
                "requester": r.request.requester,
                "target": r.request.target,
                "role": r.request.role,
                "justification": r.request.justification,
                "ticket": r.request.ticket,
                "landed_commit": r.landed_commit,
                "from": r.window_start.isoformat() if r.window_start else None,
                "until": r.held_until.isoformat() if r.held_until else None,
                "revoked_at": r.revoked_at.isoformat() if r.revoked_at else None,
                "removed_commit": r.removed_commit,
                "pull_request": r.pull_request,
                "approvers": list(r.approvers),
                "auto_approved": r.auto_approved,
                "policy_commit": r.policy_commit,
                "problem": r.problem,
                "unrecorded": r.unrecorded,
            }
            for r in report.records
        ],
        "actions": [
            {
                "id": a.request_id,
                "requester": a.requester,
                "target": a.target,
                "action": a.action,
                "path": a.path,
                "landed_commit": a.landed,
                "pull_request": a.pull_request,
                "approvers": list(a.approvers),
                "state": a.state,
                "at": a.at.isoformat() if a.at else None,
                "identity": a.detail("identity"),
                "rows_affected": a.rows_affected,
                "digest": a.detail("digest"),
                "error": a.detail("error"),
            }
            for a in report.actions
        ],
    }
