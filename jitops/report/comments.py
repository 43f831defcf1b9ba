"""GitHub Markdown that people read: pull-request comments and bodies, issues, job summaries.

Whatever a requester wrote goes through ``jitops.markdown`` so it renders as those characters
and nothing more (no HTML, links or mentions).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from jitops.markdown import markdown_code, markdown_text
from jitops.policy import Status, Verdict
from jitops.report.text import CHECK_MARKS, request_verdict, window_text

if TYPE_CHECKING:
    from jitops.commands.apply import ApplyReport
    from jitops.commands.apply import Outcome as ApplyOutcome
    from jitops.commands.request import Draft, PullTexts
    from jitops.commands.sweep import GitHubRecord, SweepJob, SweepReport
    from jitops.gate import GateResult, ParsedRequest
    from jitops.github import PullRequestInfo
    from jitops.models import AccessRequest


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
    from jitops.commands.request import PR_MARKER

    lines = [
        PR_MARKER,
        f"@{draft.request.requester} asks for access with `jitops request`.",
        "",
        *request_table(draft.request, draft.decision.policy),
        "",
        f"Judged by the policies of {draft.policies_from} before opening: "
        f"{request_verdict(draft.decision)}.",
        "The `jitops/approval` check on this pull request has the final word.",
        "",
        f"<sub>Request file: `{draft.path}`.</sub>",
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


def sweep_job_summary(job: SweepJob) -> str | None:
    """The sweep's job summary, when there is anything to say (None on a quiet run)."""
    on_github = job.on_github
    if job.report.revocations or on_github.issue or on_github.warnings or on_github.failures:
        return sweep_markdown(job.report, on_github)
    return None
