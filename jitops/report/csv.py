"""``--format csv``: one row per grant, RFC 4180 (comma-separated, CRLF line ends, fields
quoted where they must be), for a spreadsheet or a compliance ticket.

What people wrote (a justification, a ticket) reaches a spreadsheet that runs a cell starting
with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return as a formula; such a cell is
written with a leading ``'``, which spreadsheets show as text and do not run.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jitops.access_review import AccessReview
    from jitops.audit_records import AuditRecord, AuditReport

# The columns of ``jitops audit --format csv``, in order, each with what it holds (README).
AUDIT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "the request's id"),
    ("requester", "the GitHub login that held the access"),
    ("target", "the target"),
    ("role", "the role on the target"),
    ("from", "when access began (ISO 8601, UTC)"),
    ("until", "when access ended: the window's end, or the file's removal if earlier"),
    ("window_end", "the end of the window the request asked for"),
    ("revoked_at", "when apply or the sweep recorded revoking it at the target, if recorded"),
    ("revoke_lag_minutes", "how long after `until` that revoke came, in whole minutes"),
    ("landed_commit", "the commit that landed the request on the branch"),
    ("removed_commit", "the commit that removed or replaced it, if any"),
    ("pull_request", "the pull request apply verified it from, if known"),
    ("approvers", "the logins of the approvers apply counted, separated by spaces"),
    ("evidence", "approved, auto-approved, refused, grant failed, none or unknown"),
    ("policy_commit", "the commit whose policies judged it"),
    ("justification", "why it was asked for"),
    ("ticket", "the ticket it names, if any"),
    ("problem", "why it has no valid approval evidence, if it has none"),
)

# The columns of ``jitops audit --actions --format csv``: one row per action request.
ACTION_COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "the action request's id"),
    ("requester", "the GitHub login that asked for it"),
    ("target", "the target"),
    ("action", "the action the policy offers on the target"),
    ("path", "its file on the branch"),
    ("landed_commit", "the commit that landed it on the branch"),
    ("pull_request", "the pull request apply verified it from, if known"),
    ("approvers", "the logins of the approvers apply counted, separated by spaces"),
    ("state", "performed, failed, started (its outcome never recorded) or pending"),
    ("at", "when its outcome (or last step) was recorded (ISO 8601, UTC)"),
    ("identity", "who it ran as on the target"),
    ("rows_affected", "the rows its statements changed"),
    ("digest", "the SHA-256 digest of its recorded result"),
    ("error", "why it failed (redacted), if it did"),
)

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str | int | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    text = str(value)
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


def evidence_of(record: AuditRecord) -> str:
    """What apply's evidence says of a grant, in one word or two."""
    if record.unrecorded:
        return "unknown"
    if record.refused:
        return "refused"
    if record.grant_failed:
        return "grant failed"
    if record.problem is not None:
        return "none"
    return "auto-approved" if record.auto_approved else "approved"


def _row(record: AuditRecord) -> Sequence[str]:
    request = record.request
    values: tuple[str | int | datetime | None, ...] = (
        request.id,
        request.requester,
        request.target,
        request.role,
        record.window_start,
        record.held_until,
        record.window_end,
        record.revoked_at,
        None if (lag := record.revoke_lag) is None else int(lag.total_seconds() // 60),
        record.landed_commit,
        record.removed_commit,
        record.pull_request,
        " ".join(record.approvers) or None,
        evidence_of(record),
        record.policy_commit,
        request.justification,
        request.ticket,
        record.problem,
    )
    return [_cell(v) for v in values]


def audit_csv(report: AuditReport) -> str:
    """``jitops audit --format csv``: a header row, then one row per grant, oldest first."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(name for name, _ in AUDIT_COLUMNS)
    writer.writerows(_row(r) for r in report.records)
    return out.getvalue()


def action_csv(report: AuditReport) -> str:
    """``jitops audit --actions --format csv``: a header row, then one row per action request
    on the branch, by path."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(name for name, _ in ACTION_COLUMNS)
    for a in report.actions:
        values: tuple[str | int | datetime | None, ...] = (
            a.request_id, a.requester, a.target, a.action, a.path, a.landed, a.pull_request,
            " ".join(a.approvers) or None, a.state, a.at, a.detail("identity"), a.rows_affected,
            a.detail("digest"), a.detail("error"),
        )  # fmt: skip
        writer.writerow(_cell(v) for v in values)
    return out.getvalue()


# The columns of ``jitops audit review --format csv``: one row per owner and grant.
REVIEW_COLUMNS = (
    "owner",
    "section",
    "id",
    "requester",
    "target",
    "role",
    "from",
    "until",
    "pull_request",
    "approvers",
    "policy_commit",
    "confirmed",
)


def review_csv(access_review: AccessReview) -> str:
    """``jitops audit review --format csv``: for each owner, a row per grant approved in the
    period (``approved``) and per grant still active (``active``); ``confirmed`` is left for
    the owner to fill in."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(REVIEW_COLUMNS)
    for group in access_review.groups:
        for section, records in (("approved", group.approved), ("active", group.active)):
            for r in records:
                values: tuple[str | int | datetime | None, ...] = (
                    group.owner.removeprefix("@"),  # a login, org/team, or auto-approved
                    section,
                    r.request.id,
                    r.request.requester,
                    r.request.target,
                    r.request.role,
                    r.window_start,
                    r.held_until,
                    r.pull_request,
                    " ".join(r.approvers) or None,
                    r.policy_commit,
                    None,
                )
                writer.writerow(_cell(v) for v in values)
    return out.getvalue()
