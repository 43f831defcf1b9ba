"""GitHub Markdown that people read: pull-request comments and bodies, issues, job summaries.

Whatever a requester wrote goes through ``jitops.markdown`` so it renders as those characters
and nothing more (no HTML, links or mentions).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from jitops.markdown import markdown_code, markdown_text
from jitops.models import format_duration
from jitops.policy import Status, Verdict
from jitops.report.text import CHECK_MARKS, request_verdict, window_text

if TYPE_CHECKING:
    from jitops.access_review import AccessReview
    from jitops.action_policy import ActionCheck
    from jitops.audit_records import AuditRecord
    from jitops.commands.apply import ApplyReport
    from jitops.commands.apply import Outcome as ApplyOutcome
    from jitops.commands.audit import AuditIssueTexts
    from jitops.commands.request import ActionDraft, ActionPullTexts, Draft, PullTexts
    from jitops.commands.sweep import GitHubRecord, SweepJob, SweepReport, SweepTexts
    from jitops.findings import Finding
    from jitops.gate import GateResult, ParsedRequest
    from jitops.github import PullRequestInfo
    from jitops.ledger import LedgerEntry
    from jitops.models import AccessRequest, ActionRequest
    from jitops.performing import ActionOutcome
    from jitops.policy import Decision
    from jitops.revoking import Revocation


_HEADLINES = {
    Verdict.ALLOWED: "✅ ready to merge",
    Verdict.PENDING: "⏳ waiting",
    Verdict.DENIED: "❌ cannot merge",
}


def _detail(text: str, request: AccessRequest) -> str:
    """A grant's or revoke's outcome, which a provisioner's error may fill with the request's
    own words (an ``exec`` script echoing the justification)."""
    return markdown_text(text, quoting=[request.justification, request.ticket or ""])


def _quoted_input(result: GateResult, parsed: Sequence[ParsedRequest]) -> list[str]:
    """What a pull request's author wrote that jitops' sentences about it may quote."""
    kinds = result.classification
    found = [*kinds.request_paths, *kinds.removed_requests, *kinds.other_paths]
    found += kinds.not_requests
    for item in parsed:
        found.append(item.path)
        if item.request is not None:
            request = item.request
            found += [request.id, request.justification, request.ticket or ""]
    return found


def request_table(request: AccessRequest, policy: str | None) -> list[str]:
    """A request plainly, as Markdown table lines: who, what, until when, why, which policy."""
    lines = [
        "| | |",
        "|---|---|",
        f"| who | @{request.requester} |",
        f"| what | `{request.role}` on `{request.target}` |",
        f"| until | {window_text(request)} |",
        f"| why | {markdown_text(request.justification)} |",
    ]
    if request.ticket:
        lines.append(f"| ticket | {markdown_text(request.ticket)} |")
    return [*lines, f"| policy | {markdown_text(policy or '—', quoting=())} |"]


def code_block(text: str, language: str = "") -> list[str]:
    """``text`` as a fenced code block it cannot close: the fence is longer than any run of
    backticks in it. Inside, GitHub renders no HTML, link or mention."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{language}", *text.rstrip("\n").split("\n"), fence]


def action_section(check: ActionCheck, decision: Decision | None) -> list[str]:
    """An action request as its approver must see it: who asks what and why, the identity it
    runs as, the limits, and exactly what will run — the statements (with the kinds
    PostgreSQL's parser found in them) or the parameters — then what is still missing."""
    request = check.request
    headline = _HEADLINES[decision.verdict] if decision is not None else _HEADLINES[Verdict.DENIED]
    lines = [
        f"#### {markdown_code(request.id)} — {headline}",
        "",
        "| | |",
        "|---|---|",
        f"| who | @{request.requester} |",
        f"| what | action `{request.action}` on `{request.target}` |",
        f"| why | {markdown_text(request.justification)} |",
    ]
    if request.ticket:
        lines.append(f"| ticket | {markdown_text(request.ticket)} |")
    lines.append(f"| policy | {markdown_text(check.policy or '—', quoting=())} |")
    lines.append(f"| runs as | {markdown_text(check.runs_as, quoting=())} |")
    rule = check.rule
    if rule is not None and rule.sql is not None:
        limits = rule.sql
        mode = "read-only" if limits.read_only else "may write"
        lines.append(
            f"| limits | {mode}; `statement_timeout` {format_duration(limits.statement_timeout)}"
            f"; at most {limits.max_rows_affected} row(s) affected, {limits.max_rows_returned} "
            "shown |"
        )
    elif rule is not None and rule.command is not None:
        lines.append(f"| limits | timeout {format_duration(rule.command.timeout)} |")
    lines.append("")
    if request.sql is not None:
        kinds = ", ".join(k.upper() for k in check.sql.kinds) if check.sql else "not parsed"
        lines.append(f"Exactly what will run, in one transaction (PostgreSQL parsed: {kinds}):")
        lines += ["", *code_block(request.sql, "sql"), ""]
    if request.params is not None:
        lines.append("The parameters the target's command is given:")
        params = json.dumps(request.params, indent=2, sort_keys=True)
        lines += ["", *code_block(params, "json"), ""]
    if decision is not None:
        lines += [
            f"- {CHECK_MARKS[c.status]} **{c.rule}**: {markdown_text(c.detail)}"
            for c in decision.checks
        ]
        lines.append("")
    return lines


_ACTION_HEADLINES = {
    "performed": "✅ action performed",
    "failed": "❌ action failed (not retried: asking again is a new request)",
    "refused": "⛔ action refused: not performed",
    "already performed": "action already performed: not run again",
    "would perform": "action would be performed",
}


_CHANGED = {"UPDATE": "updated", "DELETE": "deleted", "INSERT": "inserted", "MERGE": "merged"}


def changed_text(tags: Sequence[str]) -> str:
    """What PostgreSQL's command tags say was changed, in words: ``1 row updated``."""
    counts: dict[str, int] = {}
    for tag in tags:
        words = tag.split()
        if words and words[0] in _CHANGED and words[-1].isdigit():
            counts[words[0]] = counts.get(words[0], 0) + int(words[-1])
    return ", ".join(
        f"{n} row{'' if n == 1 else 's'} {_CHANGED[kind]}" for kind, n in counts.items()
    )


def action_result_markdown(outcome: ActionOutcome) -> str:
    """apply's comment on an action request's pull request: what performing it did — who it
    ran as, the rows it affected, the first rows it returned (what the database holds is
    shown as text, never as Markdown), or its error — with the result's digest."""
    headline = _ACTION_HEADLINES.get(outcome.state, outcome.state)
    said = changed_text(outcome.result.tags) if outcome.result is not None else ""
    if outcome.state == "performed" and said:
        headline += f": {said}"
    lines = [f"### jitops: {headline}", ""]
    request = outcome.request
    if request is not None:
        lines += [
            f"`{request.action}` on `{request.target}` for @{request.requester} "
            f"({markdown_code(request.id)})",
            "",
        ]
    result = outcome.result
    if result is None:
        lines.append(markdown_text(outcome.detail))
        return "\n".join(lines) + "\n"
    seconds = (result.finished_at - result.started_at).total_seconds()
    lines += [
        "| | |",
        "|---|---|",
        f"| ran as | {markdown_text(result.identity, quoting=())} |",
        f"| rows affected | {result.rows_affected} |",
        *(
            [f"| the target said | {markdown_code('; '.join(result.tags))} |"]
            if result.tags
            else []
        ),
        f"| took | {seconds:.2f} s |",
        f"| result digest | `{result.digest}` |",
        "",
    ]
    if result.error:
        lines += ["Error:", "", *code_block(result.error), ""]
    if result.columns:
        lines.append("| " + " | ".join(markdown_text(c) for c in result.columns) + " |")
        lines.append("|" + "---|" * len(result.columns))
        lines += ["| " + " | ".join(markdown_text(c) for c in row) + " |" for row in result.rows]
        if result.more_rows:
            lines.append("")
            lines.append("(more rows were returned than the action shows)")
        lines.append("")
    if result.output:
        lines += ["Output:", "", *code_block(result.output), ""]
    return "\n".join(lines) + "\n"


def gate_markdown(
    result: GateResult,
    parsed: Sequence[ParsedRequest],
    pull_request: PullRequestInfo,
    policy_commit: str | None,
    notes: Sequence[str] = (),
) -> str:
    """The PR comment and job summary: each request plainly, and what is still missing.

    ``notes`` say how the check was made where that matters (the replay check walked the
    whole history because the request-id index could not be used).
    """
    quoting = _quoted_input(result, parsed)
    lines = [
        f"### jitops: {_HEADLINES[result.verdict]}",
        "",
        f"{result.classification.kind.value.capitalize()}: "
        + markdown_text(result.summary, quoting=quoting),
        "",
    ]
    by_id = {p.request.id: p for p in parsed if p.request is not None}
    for decision in result.decisions:
        item = by_id.get(decision.request_id)
        if item is None or item.request is None:
            continue
        request = item.request
        lines += [f"#### {markdown_code(request.id)} — {_HEADLINES[decision.verdict]}", ""]
        lines += [*request_table(request, decision.policy), ""]
        lines += [
            f"- {CHECK_MARKS[c.status]} **{c.rule}**: {markdown_text(c.detail, quoting=quoting)}"
            for c in decision.checks
        ]
        lines.append("")
    decided = {d.request_id: d for d in result.decisions}
    for action in result.actions:
        lines += action_section(action, decided.get(action.request.id))
    if result.findings:
        # a finding is about the author's file and may quote any of it: all of it is input
        lines.append("#### Problems")
        lines += [
            f"- {markdown_code(f.location)}: {markdown_text(f.text)}" for f in result.findings
        ]
        lines.append("")
    for check in result.checks:
        if check.status is not Status.PASS:
            detail = markdown_text(check.detail, quoting=quoting)
            lines.append(f"- {CHECK_MARKS[check.status]} **{check.rule}**: {detail}")
    if notes:
        lines.append("")
    # notes are jitops' own Markdown (`jitops index --push`), about the index, never input
    lines += [f"> **Note:** {' '.join(note.split())}" for note in notes]
    base = f"`{policy_commit[:7]}`" if policy_commit else "the base branch"
    lines += [
        "",
        f"<sub>Judged at head `{pull_request.head_sha[:7]}` by the policies of {base}. "
        "A push voids approvals; approve again after it.</sub>",
    ]
    return "\n".join(lines) + "\n"


def sweep_markdown(report: SweepReport, record: GitHubRecord | None = None) -> str:
    """The sweep's job summary: failed revokes first and loud, then what GitHub refused (with
    the fix), the revocation pull request, and every revocation."""
    lines = ["### jitops sweep", ""]
    if report.failed:
        lines += [
            f"**{len(report.failed)} revoke(s) failed**: the access is still there; every "
            "sweep retries until it works.",
            "",
        ]
    if record is not None:
        lines += [
            f"> [!CAUTION]\n> Not recorded on GitHub: {markdown_text(failure, quoting=())} — "
            "the next sweep records it\n"
            for failure in record.failures
        ]
        lines += [f"> [!WARNING]\n> {warning}\n" for warning in record.warnings]
        issue = record.issue
        if issue is not None and issue.failing:
            lines += [f"Failed revokes are listed in issue #{issue.number}: {issue.html_url}", ""]
        elif issue is not None:
            lines += [f"Nothing is failing any more: issue #{issue.number} closed.", ""]
        pull = record.pull
        if pull is not None:
            verb = "opened" if pull.created else "updated"
            merging = f", auto-merge {pull.auto_merge.value}" if not pull.warning else ""
            lines += [
                f"Revocation pull request #{pull.number} {verb}{merging}: {pull.html_url}",
                "",
            ]
    for revocation in report.revocations:
        request = revocation.entry.request
        detail = f" — {_detail(revocation.detail, request)}" if revocation.detail else ""
        lines.append(
            f"- **{revocation.outcome.value}**: @{request.requester} `{request.role}` on "
            f"`{request.target}` ({markdown_text(request.id)}){detail}"
        )
    return "\n".join(lines) + "\n"


def apply_comment(outcomes: Sequence[ApplyOutcome]) -> str:
    """apply's comment on a merged pull request: what was done for each of its requests."""
    lines = ["### jitops apply", ""]
    for o in outcomes:
        request = o.entry.request
        # the detail may quote the request's own words (a reason, a provisioner's echo)
        lines.append(
            f"- **{o.action.value}**: @{request.requester} `{request.role}` on "
            f"`{request.target}` ({markdown_text(request.id)}) — {_detail(o.detail, request)}"
        )
    return "\n".join(lines) + "\n"


def apply_markdown(report: ApplyReport) -> str:
    """Apply's job summary: one line per grant, revocation or refusal."""
    lines = ["### jitops apply", ""]
    if report.policy_problem:
        lines += [f"> **Error:** {markdown_text(report.policy_problem, quoting=())}", ""]
    for outcome in report.outcomes:
        request = outcome.entry.request
        lines.append(
            f"- **{outcome.action.value}**: @{request.requester} `{request.role}` on "
            f"`{request.target}` ({markdown_text(request.id)}) — "
            + _detail(outcome.detail, request)
        )
    return "\n".join(lines) + "\n"


def pull_title(request: AccessRequest) -> str:
    return (
        f"Access request: @{request.requester} {request.role} on {request.target} "
        f"({window_text(request)})"
    )


def pull_body(draft: Draft) -> str:
    """The pull request's description: the request plainly, and what the policies said."""
    return _pull_description(
        f"@{draft.request.requester} asks for access with `jitops request`.",
        [*request_table(draft.request, draft.decision.policy), ""],
        f"Judged by the policies of {draft.policies_from} before opening: "
        f"{request_verdict(draft.decision)}.",
        "The `jitops/approval` check on this pull request has the final word.",
        draft.path,
    )


def _pull_description(lead: str, shown: list[str], judged: str, final_word: str, path: str) -> str:
    """A pull request ``jitops request --open-pr`` opened: who asks, what (``shown``), what the
    policies said before opening, who has the final word, and the file."""
    from jitops.commands.request import PR_MARKER

    lines = [
        PR_MARKER,
        lead,
        "",
        *shown,
        judged,
        final_word,
        "",
        f"<sub>Request file: `{path}`.</sub>",
    ]
    return "\n".join(lines) + "\n"


def commit_message(request: AccessRequest) -> str:
    ticket = f"\nTicket: {request.ticket}" if request.ticket else ""
    return (
        f"Request {request.role} on {request.target} for @{request.requester} "
        f"({window_text(request)})\n\n{request.justification}\n{ticket}\n"
        f"Request-Id: {request.id}\n"
    )


def pull_texts() -> PullTexts:
    """The texts ``jitops request --open-pr`` writes its pull request with."""
    from jitops.commands.request import PullTexts

    return PullTexts(pull_title, pull_body, commit_message)


def action_pull_title(request: ActionRequest) -> str:
    return f"Action request: @{request.requester} {request.action} on {request.target}"


def action_pull_body(draft: ActionDraft) -> str:
    """The action request's pull request description: exactly what will run, and what the
    policies said of it before opening."""
    return _pull_description(
        f"@{draft.request.requester} asks for an action with `jitops request`: it is performed "
        "once, by jitops, when this pull request merges.",
        action_section(draft.check, None)[2:],  # without the check's verdict headline
        f"Judged by the policies of {draft.policies_from} before opening: allowed, pending "
        "approval.",
        "The `jitops/approval` check on this pull request has the final word; any change to the "
        "file after an approval needs a new one.",
        draft.path,
    )


def action_commit_message(request: ActionRequest) -> str:
    ticket = f"\nTicket: {request.ticket}" if request.ticket else ""
    return (
        f"Request action {request.action} on {request.target} for @{request.requester}\n\n"
        f"{request.justification}\n{ticket}\nRequest-Id: {request.id}\n"
    )


def action_pull_texts() -> ActionPullTexts:
    """The texts ``jitops request --open-pr`` writes an action request's pull request with."""
    from jitops.commands.request import ActionPullTexts

    return ActionPullTexts(action_pull_title, action_pull_body, action_commit_message)


def sweep_job_summary(job: SweepJob) -> str | None:
    """The sweep's job summary, when there is anything to say (None on a quiet run)."""
    on_github = job.on_github
    if job.report.revocations or on_github.issue or on_github.warnings or on_github.failures:
        return sweep_markdown(job.report, on_github)
    return None


# -- what the sweep and audit verify write on GitHub ---------------------------------------------


def table_cell(text: str, secrets: Sequence[str] = ()) -> str:
    """``text`` as a Markdown table cell of an issue: secrets masked (a second line of
    defence: the provisioners' messages are redacted already), on one line, short, as code —
    so nothing in it (a file name, a login) renders as markup or mentions anyone."""
    from jitops.provisioners._secrets import redact

    flat = " ".join(redact(text, list(secrets)).split()).replace("`", "'")
    if len(flat) > 300:
        flat = flat[:299] + "…"
    return "`" + flat.replace("|", "\\|") + "`" if flat else "—"


def revocation_body(revoked: Sequence[LedgerEntry], now: datetime) -> str:
    """The revocation pull request's description: whose access went, and when it expired."""
    lines = [
        "Access that expired has been revoked by `jitops sweep`; merging this pull request",
        "removes the request files to record it. It only deletes request files, so it needs",
        "no approval. Access is already gone whether or not this merges.",
        "",
        "| who | access | expired (UTC) | request |",
        "|---|---|---|---|",
    ]
    for entry in sorted(revoked, key=lambda e: (e.expires_at or now, e.request.id)):
        request = entry.request
        end = f"{entry.expires_at:%Y-%m-%d %H:%M}" if entry.expires_at else "—"
        lines.append(
            f"| @{request.requester} | `{request.role}` on `{request.target}` | {end} | "
            f"`{request.id}` |"
        )
    lines += ["", f"<sub>Swept at {now:%Y-%m-%d %H:%M} UTC.</sub>"]
    return "\n".join(lines) + "\n"


def failed_revokes_body(
    failed: Sequence[Revocation],
    since: Mapping[str, datetime],
    now: datetime,
    secrets: Sequence[str],
) -> str:
    """The issue listing every revoke that is failing, and what to do about it."""
    lines = [
        "`jitops sweep` could not revoke this access when it expired, so **it is still there**.",
        "Every sweep retries it; this issue is kept up to date by each run and closed once",
        "every revoke below has succeeded.",
        "",
        "| target | role | who | request | expired (UTC) | failing since (UTC) | last error |",
        "|---|---|---|---|---|---|---|",
    ]
    for revocation in sorted(failed, key=lambda r: (r.entry.request.target, r.entry.request.id)):
        entry, request = revocation.entry, revocation.entry.request
        end = f"{entry.expires_at:%Y-%m-%d %H:%M}" if entry.expires_at else "—"
        lines.append(
            f"| `{request.target}` | `{request.role}` | @{request.requester} | "
            f"`{request.id}` ({table_cell(entry.path)}) | {end} | "
            f"{since.get(request.id, now):%Y-%m-%d %H:%M} | "
            f"{table_cell(revocation.detail, secrets)} |"
        )
    lines += [
        "",
        "Fix what the error says (the target's credentials or reachability, a policy file that",
        "does not load, a target removed from `policies/`), or revoke the access by hand;",
        "`jitops reconcile` shows what each target still holds.",
        "",
        f"<sub>Last sweep: {now:%Y-%m-%d %H:%M} UTC.</sub>",
    ]
    return "\n".join(lines) + "\n"


def closing_comment(
    revoked: Mapping[str, LedgerEntry], listed: Sequence[str], now: datetime
) -> str:
    """The comment closing the failed-revokes issue: what became of each revoke it listed."""
    lines = [
        "Nothing is failing any more, so this issue is closed "
        f"(sweep at {now:%Y-%m-%d %H:%M} UTC):",
        "",
    ]
    for request_id in sorted(listed):
        entry = revoked.get(request_id)
        if entry is not None:
            request = entry.request
            lines.append(
                f"- revoked: @{request.requester} `{request.role}` on `{request.target}` "
                f"(`{request_id}`)"
            )
        else:
            lines.append(
                f"- {table_cell(request_id)}: no longer on the branch (`jitops reconcile` "
                "checks that nothing is left)"
            )
    return "\n".join(lines) + "\n"


def expiry_warning(entries: Sequence[LedgerEntry], now: datetime) -> str:
    """The comment on a pull request whose grants expire soon: when, and how to keep them."""
    lines = ["### jitops: access expires soon", ""]
    for entry in entries:
        request = entry.request
        end = entry.expires_at or now
        left = int((end - now).total_seconds() // 60)
        lines.append(
            f"- @{request.requester}: `{request.role}` on `{request.target}` ends at "
            f"{end:%Y-%m-%d %H:%M} UTC (in {left} min). To keep it, open a new request with a "
            "new id."
        )
    return "\n".join(lines) + "\n"


def sweep_texts() -> SweepTexts:
    """The texts ``jitops sweep`` records itself on GitHub with."""
    from jitops.commands.sweep import SweepTexts

    return SweepTexts(revocation_body, failed_revokes_body, closing_comment, expiry_warning)


def audit_issue_body(findings: Sequence[Finding], commit: str, now: datetime) -> str:
    """The issue listing what ``jitops audit verify`` found, and what to do about each."""
    lines = [
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


def audit_closing_comment(commit: str, now: datetime) -> str:
    """The comment closing the audit issue once nothing is found."""
    return (
        f"`jitops audit verify` finds nothing at {commit[:12]} "
        f"({now:%Y-%m-%d %H:%M} UTC): closing.\n"
    )


def audit_issue_texts() -> AuditIssueTexts:
    """The texts ``jitops audit verify --open-issue`` keeps its issue with."""
    from jitops.commands.audit import AuditIssueTexts

    return AuditIssueTexts(audit_issue_body, audit_closing_comment)


def _review_item(record: AuditRecord) -> str:
    request = record.request
    until = record.held_until
    pull = f", #{record.pull_request}" if record.pull_request else ""
    return (
        f"- [ ] {markdown_code(request.id)} — {markdown_text('@' + request.requester)} "
        f"{markdown_text(request.target)}/{markdown_text(request.role)}, "
        f"{_review_moment(record.window_start)} – {_review_moment(until)}{pull}"
    )


def _review_moment(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment is not None else "—"


def review_markdown(access_review: AccessReview) -> str:
    """``jitops audit review --format markdown``: a checklist per owner, for an issue that asks
    each one to confirm the grants they approved and those still open. The owners are
    mentioned (that is the point); nothing people wrote can mention or link."""
    report, query = access_review.report, access_review.query
    period = (
        f"from {_review_moment(query.since)}" if query.since else "since the start of history"
    ) + (f" until {_review_moment(query.until)}" if query.until else "")
    where = markdown_text(report.repository_url or "the access repository")
    lines = [
        f"## Access review: {where}, {markdown_code(report.ref)} at "
        f"{markdown_code(report.commit[:12])}",
        "",
        f"Grants approved {period}, and grants still active at "
        f"{_review_moment(access_review.at)}, per {access_review.by.value}. Each owner ticks "
        "what they confirm was right, and says so here about anything that was not.",
    ]
    if not access_review.groups:
        lines += ["", "No grant with valid approval evidence matches."]
    for group in access_review.groups:
        owner = group.owner if group.owner != "auto-approved" else "auto-approved (no approver)"
        lines += ["", f"### {owner}"]
        for title, records in (
            ("Approved in the period", group.approved),
            ("Still active", group.active),
        ):
            if records:
                lines += ["", f"{title} ({len(records)}):", *map(_review_item, records)]
    lines += [
        "",
        "Grants without valid evidence are not listed: `jitops audit verify` reports them.",
    ]
    return "\n".join(lines) + "\n"
