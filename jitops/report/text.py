"""Text for a terminal: findings, decisions, tables and each command's summary lines."""

from __future__ import annotations

import textwrap
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from jitops.findings import Finding, Severity
from jitops.models import format_duration
from jitops.policy import Decision, Status, Verdict

if TYPE_CHECKING:
    from datetime import datetime

    from jitops.audit_records import AuditRecord, AuditReport
    from jitops.commands.apply import ApplyJob
    from jitops.commands.apply import Outcome as ApplyOutcome
    from jitops.commands.audit import Verification, VerifyJob
    from jitops.commands.check_pr import CheckOutcome
    from jitops.commands.doctor import DoctorCheck, DoctorReport
    from jitops.commands.index import IndexRun
    from jitops.commands.init import InitReport
    from jitops.commands.policy_tests import TestRun
    from jitops.commands.reconcile import ReconcileReport
    from jitops.commands.request import ActionRequestOutcome, RequestOutcome
    from jitops.commands.status import StatusReport
    from jitops.commands.sweep import SweepJob
    from jitops.commands.validate import ValidateResult
    from jitops.demo.lines import Line
    from jitops.ids import IndexOutcome
    from jitops.kept_issue import KeptIssue
    from jitops.ledger import GrantState, LedgerEntry, Standing
    from jitops.models import AccessRequest
    from jitops.notifications import NotifyReport


CHECK_MARKS = {Status.PASS: "✓", Status.FAIL: "✗", Status.WAITING: "…", Status.UNVERIFIED: "?"}


def finding_line(finding: Finding) -> str:
    """``file:line:col: severity: what is wrong — how to fix it``."""
    return printable(f"{finding.location}: {finding.severity.value}: {finding.text}", lines=False)


def printable(text: str, *, lines: bool = True) -> str:
    """``text`` for a terminal or a workflow's log: a character that is not printable — an
    escape sequence's ESC (which could clear the screen, move the cursor over earlier lines,
    retitle the window), a carriage return, a bidirectional override — is written as its
    escape (``\\x1b``), and a line that GitHub Actions would run as a workflow command
    (``::stop-commands::…``, ``::add-mask::…``, ``##[…``) has its first ``:`` (or ``[``)
    written so, so that what a forged git note or a target's error says shows as text and
    never acts. Line breaks and tabs are kept (a file shown whole is still a file) unless
    ``lines`` is false: a table cell or a finding is one line."""
    if text.isprintable() and "::" not in text and "##[" not in text:
        return text
    kept = "\n\t" if lines else ""
    shown = "".join(c if c.isprintable() or c in kept else _escaped(c) for c in text)
    return "\n".join(_inert(line) for line in shown.split("\n"))


def _inert(line: str) -> str:
    """``line``, never a workflow command: the runner reads one where a line, its leading
    blanks trimmed, starts with ``::``, and the old form ``##[`` anywhere in it."""
    body = line.lstrip()
    if body.startswith("::"):
        start = len(line) - len(body)
        line = f"{line[:start]}\\x3a{line[start + 1 :]}"
    return line.replace("##[", "##\\x5b")


def _escaped(character: str) -> str:
    code = ord(character)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def decision_text(decision: Decision, rules: Collection[str] | None = None) -> list[str]:
    """A decision, one check per line (only those of ``rules`` when given): the same words the
    PR comment uses."""
    lines = [f"{decision.request_id}: {decision.verdict.value} — {decision.reason}"]
    lines.extend(
        f"  {CHECK_MARKS[c.status]} {c.rule}: {c.detail}"
        for c in decision.checks
        if rules is None or c.rule in rules
    )
    return lines


def summary_line(counts: Sequence[tuple[str, int]]) -> str:
    return ", ".join(f"{n} {label}" for label, n in counts)


def window_text(request: AccessRequest) -> str:
    """The window a request asks for, as a reviewer reads it: ``4h from merge``, or
    ``merge → 2026-11-29 01:00 UTC``."""
    if request.duration is not None:
        return f"{format_duration(request.duration)} from merge"
    start = request.starts_at.strftime("%Y-%m-%d %H:%M UTC") if request.starts_at else "merge"
    assert request.expires_at is not None
    return f"{start} → {request.expires_at:%Y-%m-%d %H:%M} UTC"


def request_verdict(decision: Decision) -> str:
    """What a new request needs, judged before any review, in one line: "allowed by policy
    sandbox-db; needs 1 approval from @acme/db-leads before it can merge", or why not."""
    if decision.verdict is Verdict.DENIED:
        return "refused: " + "; ".join(c.detail for c in decision.checks if c.status is Status.FAIL)
    waiting = [c.detail for c in decision.checks if c.status is Status.WAITING]
    needs = "; ".join(waiting) + " before it can merge" if waiting else "auto-approved, no review"
    unverified = [c.detail for c in decision.checks if c.status is Status.UNVERIFIED]
    confirm = "".join(f"; unverified offline: {detail}" for detail in unverified)
    return f"allowed by policy {decision.policy}; {needs}{confirm}"


def check_pr_text(outcome: CheckOutcome) -> tuple[list[str], list[str]]:
    """What ``jitops check-pr`` prints: (on stdout the verdict and each request's checks; on
    stderr how the check was made and what it posted)."""
    result = outcome.result
    out = [f"#{outcome.pull_request.number}: {result.verdict.value} — {result.summary}"]
    out += [f"  {line}" for decision in result.decisions for line in decision_text(decision)]
    err = [f"jitops: note: {note}" for note in outcome.notes]
    if outcome.posted:
        err.append("posted the jitops/approval status and the pull request comment")
    return out, err + notified_text(outcome.notified)


def request_output(outcome: RequestOutcome) -> tuple[list[str], list[str]]:
    """What ``jitops request`` prints: (on stdout the file (a dry run), the pull request's URL
    or the file's path; on stderr what it did and what the request still needs)."""
    from jitops.commands.request import Result

    out: list[str] = []
    if outcome.result in (Result.WOULD_WRITE, Result.WOULD_OPEN):
        out = [outcome.draft.text.removesuffix("\n")]
    elif outcome.pull is not None:
        out = [outcome.pull.html_url]
    elif outcome.result is not Result.REFUSED:
        out = [str(outcome.draft.path)]
    return out, request_text(outcome)


def action_request_output(outcome: ActionRequestOutcome) -> tuple[list[str], list[str]]:
    """What ``jitops request`` prints for an action: (on stdout the file on a dry run, the
    pull request's URL or the file's path; on stderr what it did, the action plainly, and
    what the policies say of it)."""
    from jitops.commands.request import Result

    draft, result = outcome.draft, outcome.result
    out: list[str] = []
    if result in (Result.WOULD_WRITE, Result.WOULD_OPEN):
        out = [draft.text.removesuffix("\n")]
    elif outcome.pull is not None:
        out = [outcome.pull.html_url]
    elif result is not Result.REFUSED:
        out = [draft.path]
    number = outcome.pull.number if outcome.pull else ""
    headline = {
        Result.REFUSED: "refused by policy — nothing written",
        Result.WOULD_WRITE: f"would write {draft.path} (dry run: nothing written)",
        Result.WRITTEN: f"wrote {draft.path}",
        Result.UNCHANGED: f"{draft.path} is already there, as it would be written",
        Result.WOULD_OPEN: f"would push branch {outcome.branch} holding only {draft.path} and "
        "open its pull request (dry run: nothing pushed)",
        Result.OPENED: f"opened pull request #{number} from branch {outcome.branch}",
        Result.ALREADY_OPEN: f"pull request #{number} of this action request is already open "
        f"(branch {outcome.branch}); nothing pushed",
    }[result]
    request, check = draft.request, draft.check
    lines = [
        f"jitops: {headline}",
        f"  @{request.requester}: action {request.action} on {request.target}, once, on merge",
        f"  why: {request.justification}" + (f" ({request.ticket})" if request.ticket else ""),
    ]
    if check.sql is not None and check.sql.statements:
        lines.append(f"  statements: {', '.join(k.upper() for k in check.sql.kinds)}")
    lines.append(f"  judged by the policies of {draft.policies_from}:")
    lines += [f"  ✗ {p.message} — {p.hint}" for p in check.problems]
    if check.allowed:
        lines.append(f"  allowed by policy {check.policy}; it runs as {check.runs_as}")
    if result is Result.WRITTEN:
        lines.append(
            "jitops: next: commit it on a branch of its own and open a pull request "
            "(or run this again with --open-pr)"
        )
    return out, lines


def request_text(outcome: RequestOutcome) -> list[str]:
    """What ``jitops request`` did, the request plainly, and what it still needs."""
    from jitops.commands.request import Result

    headlines = {
        Result.REFUSED: "refused by policy — nothing written",
        Result.WOULD_WRITE: "would write {path} (dry run: nothing written)",
        Result.WRITTEN: "wrote {path}",
        Result.UNCHANGED: "{path} is already there, as it would be written",
        Result.WOULD_OPEN: "would push branch {branch} holding only {path} and open its pull "
        "request (dry run: nothing pushed)",
        Result.OPENED: "opened pull request #{number} from branch {branch}",
        Result.ALREADY_OPEN: "pull request #{number} of this request is already open "
        "(branch {branch}); nothing pushed",
    }
    draft = outcome.draft
    request = draft.request
    headline = headlines[outcome.result].format(
        path=draft.path,
        branch=outcome.branch,
        number=outcome.pull.number if outcome.pull else "",
    )
    lines = [
        f"jitops: {headline}",
        f"  @{request.requester}: {request.role} on {request.target}, {window_text(request)}",
        f"  why: {request.justification}" + (f" ({request.ticket})" if request.ticket else ""),
        f"  {request_verdict(draft.decision)}",
    ]
    if any(c.rule == "ticket" and c.status is Status.FAIL for c in draft.decision.checks):
        lines.append("  give the ticket with --ticket")
    lines.append(f"  judged by the policies of {draft.policies_from}:")
    lines.extend(f"    {CHECK_MARKS[c.status]} {c.rule}: {c.detail}" for c in draft.decision.checks)
    lines.extend(f"jitops: note: {note}" for note in outcome.notes)
    if outcome.result is Result.WRITTEN:
        lines.append(
            "jitops: next: commit it on a branch of its own and open a pull request "
            "(or run this again with --open-pr)"
        )
    return lines


def _left(entry: LedgerEntry, at: datetime) -> str:
    if entry.expires_at is None:
        return "until merged + duration"
    minutes = int((entry.expires_at - at).total_seconds() // 60)
    if minutes < 0:
        return f"expired {format_duration(timedelta(minutes=-minutes))} ago"
    return f"{format_duration(timedelta(minutes=minutes)) if minutes else '<1m'} left"


def status_rows(
    entries: Sequence[tuple[LedgerEntry, GrantState | Standing]], at: datetime
) -> list[tuple[str, ...]]:
    """One row per grant: state, requester, target/role, window end, time left, request id."""
    rows: list[tuple[str, ...]] = []
    for entry, state in entries:
        request = entry.request
        end = f"{entry.expires_at:%Y-%m-%d %H:%M}" if entry.expires_at else "—"
        rows.append(
            (
                state.value,
                f"@{request.requester}",
                f"{request.target}/{request.role}",
                end,
                _left(entry, at) if entry.granted else "no access",
                request.id,
            )
        )
    return rows


def status_text(report: StatusReport, show_all: bool = False) -> tuple[list[str], str]:
    """``jitops status``: (the table and why each file not granted is not, the summary)."""
    from jitops.ledger import GrantState

    shown = report.shown(show_all)
    rows = status_rows(shown, report.at)
    lines = []
    if rows:
        lines = table(("state", "who", "access", "until (UTC)", "left", "request"), rows)
    lines += [
        f"  {entry.request.id}: {state.value} — {entry.standing_detail}"
        for entry, state in shown
        if not entry.granted
    ]
    for action in report.actions if show_all else report.pending_actions:
        landed = f" (landed {action.landed[:7]})" if action.landed else ""
        what = (
            "approved and merged, not performed yet: `jitops apply` performs it"
            if action.state == "pending"
            else action.state
        )
        lines.append(
            f"  action {action.request_id}: @{action.requester} {action.target}/{action.action}"
            f"{landed} — {what}"
        )
    pending = len(report.pending_actions)
    summary = (
        f"jitops: {len(report.in_state(GrantState.ACTIVE))} active grant(s) at "
        f"{report.at:%Y-%m-%d %H:%M} UTC (commit {report.commit[:7]})"
        + (f", {pending} action(s) waiting to be performed" if pending else "")
    )
    return lines, summary


def reconcile_text(report: ReconcileReport) -> tuple[list[str], list[str]]:
    """``jitops reconcile``: (a line per target problem and per drift; why the policies are
    not trusted, and the summary). Findings are the CLI's to print, with their annotations."""
    lines = [
        f"{p.target}: {'error' if p.fatal else 'warning'}: {p.message}" for p in report.problems
    ]
    for drift in report.drifts:
        who = f"@{drift.requester}" if drift.requester else drift.identity
        lines.append(
            f"{drift.target}: {drift.outcome.value}: {who} {drift.role} "
            f"({drift.kind.value}) — {drift.detail}"
        )
    failed = sum(1 for p in report.problems if p.fatal)
    summary = (
        f"jitops: {report.targets_checked} target(s) checked, {len(report.drifts)} drift(s), "
        f"{len(report.unresolved)} unresolved"
        # a target that could not be read hides its drift: "0 unresolved" alone would reassure
        + (f", {failed} target error(s): not known to be in line" if failed else "")
    )
    problem = [f"jitops: error: {report.policy_problem}"] if report.policy_problem else []
    return lines, [*problem, summary]


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A plain text table with aligned columns, every cell :func:`printable`."""
    cells = [[printable(str(cell), lines=False) for cell in row] for row in [header, *rows]]
    widths = [max(len(cell) for cell in column) for column in zip(*cells, strict=False)]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)).rstrip()
        for row in cells
    ]


_DOCTOR_MARKS = {"ok": "✓", "warning": "!", "error": "✗"}


def doctor_line(check: DoctorCheck) -> str:
    """``✓ name: what was found``, or ``✗ name: what is wrong — how to fix it``."""
    line = f"{_DOCTOR_MARKS[check.status.value]} {check.name}: {check.message}"
    return f"{line} — {check.fix}" if check.fix else line


def doctor_text(report: DoctorReport) -> list[str]:
    """The report grouped by area (in the order checked), one indented line per check."""
    lines = []
    for area in dict.fromkeys(check.area for check in report.checks):
        lines.append(area.value)
        lines.extend(f"  {doctor_line(c)}" for c in report.checks if c.area is area)
    return lines


def doctor_summary(report: DoctorReport) -> str:
    counts = {
        status: sum(c.status.value == status for c in report.checks) for status in _DOCTOR_MARKS
    }
    text = summary_line(
        [
            ("ok", counts["ok"]),
            ("warning" if counts["warning"] == 1 else "warnings", counts["warning"]),
            ("error" if counts["error"] == 1 else "errors", counts["error"]),
        ]
    )
    return f"{text} (offline: targets not contacted)" if report.offline else text


def init_text(report: InitReport) -> list[str]:
    """What ``jitops init`` did (or would do) to each file, one line each."""
    from jitops.commands.init import Action

    would = "would " if report.dry_run else ""
    rows = [(f"{would}run", f"git init --initial-branch={report.default_branch}")] * int(
        report.new_repository
    )
    if report.kept_policies:
        rows.append(
            (
                Action.KEEP.value,
                f"policies/ — yours ({report.kept_policies} YAML files): the starter goes only "
                "into an empty policies/",
            )
        )
    for item in report.files:
        verb = item.action.value
        if item.action in (Action.CREATE, Action.REPLACE):
            verb = would + verb
        rows.append((verb, f"{item.path} — {item.note}" if item.note else item.path))
    where = "a new git repository" if report.new_repository else "a git repository"
    # one column for every verb this mode can print, so lines align from run to run
    width = max(len(f"{would}replace"), len(Action.UNCHANGED.value))
    return [
        f"{report.root}: {where}, default branch {report.default_branch}",
        f"the workflows run {report.install.name} ({report.install_source})",
    ] + [f"  {verb:<{width}}  {what}" for verb, what in rows]


def init_summary(report: InitReport) -> str:
    from jitops.commands.init import Action

    to = "to " if report.dry_run else ""
    text = summary_line(
        [
            (f"{to}create" if to else "created", report.count(Action.CREATE)),
            (f"{to}replace" if to else "replaced", report.count(Action.REPLACE)),
            ("unchanged", report.count(Action.UNCHANGED)),
            ("kept", report.count(Action.KEEP) + int(report.kept_policies > 0)),
        ]
    )
    return f"{text} (dry run: nothing was written)" if report.dry_run else text


def init_next_steps(report: InitReport) -> list[str]:
    """What the platform team does next, on GitHub and here, in order."""
    import textwrap

    branch = f"`{report.default_branch}`"
    steps = []
    if not report.kept_policies:
        steps.append(
            "Make the starter policies yours: policies/targets.yaml describes a placeholder "
            "PostgreSQL database, and policies/sandbox-db.yaml lets "
            f"@{report.org}/engineering request it. After each change run `jitops validate` "
            "and `jitops test`, and `jitops codeowners --write` when approvers change."
        )
    else:
        steps.append(
            "Your policies/ was kept as it is; CODEOWNERS and the workflows were rendered from "
            "it. Check them with `jitops validate` and `jitops test`."
        )
    steps.append(
        "A target's secret reaches jitops only through the apply and sweep workflows: after "
        "adding a target or a secret, `jitops init --dry-run` shows which workflows change, "
        "and `jitops init --force` rewrites the workflows and CODEOWNERS that differ (never "
        "policies/)."
    )
    steps.append(f"Commit everything and push it to {branch} on GitHub.")
    secrets = ", ".join(report.secret_variables) or "none yet: no target names a secret"
    steps.append(
        "Create the GitHub Environment `jitops` (Settings → Environments → New environment), "
        f"limit it to the default branch (Deployment branches and tags → Selected branches: "
        f"{branch}) and give it the targets' secrets: {secrets}. Only the apply and sweep jobs "
        "use this Environment; nothing a pull request triggers can read it."
    )
    if report.notify_variables:
        names = ", ".join(report.notify_variables)
        steps.append(
            f"The Notify channels' secrets ({names}) are in `jitops` above for apply and the "
            "sweep; the pull-request check tells the channels too, from the Environment "
            "`jitops-read-org` (create it as `jitops`, limited to the default branch): put "
            "them there as well — never as repository secrets."
        )
    if report.teams:
        steps.append(
            f"The policies name teams ({', '.join(report.teams)}): reading team membership "
            "needs the organisation permission Members: read, which the workflow token cannot "
            "have. Put a token with it in the secret JITOPS_READ_ORG_TOKEN of two Environments "
            "limited to the default branch: `jitops-read-org` (create it as `jitops` above; the "
            "check and review jobs name it) and `jitops` (apply and sweep) — never as a "
            "repository secret, which a workflow any writer adds on their own branch can read. "
            "E.g. a fine-grained personal access "
            "token of a machine account with Members: read on the organisation and Contents: "
            "write, Pull requests: write, Commit statuses: write, Actions: read on this "
            "repository (apply reads its own workflow's runs to catch up; an App "
            "installation token expires within the hour, so it cannot be stored). Without it "
            "team members are not recognised and the gate says no."
        )
    steps.append(
        f"Protect {branch} with a ruleset (Settings → Rules → Rulesets) or branch protection: "
        "require the status check `jitops/approval`; require review from Code Owners; "
        "dismiss stale approvals when new commits are pushed; require approval of the most "
        "recent push; allow no bypass, administrators included."
    )
    steps.append(
        "Settings → Actions → General → Workflow permissions: allow GitHub Actions to create "
        "and approve pull requests — the sweep opens its revocation pull request with the "
        "workflow token. A workflow's approval gains nothing: jitops counts no bot's review "
        "unless a policy names the bot, and a bot is no code owner."
    )
    steps.append(
        'Settings → General → Pull requests: turn on "Allow auto-merge", so GitHub merges '
        "the sweep's revocation pull requests by itself."
    )
    uses = report.install.uses
    if uses is not None:
        repository = uses.partition("@")[0]
        steps.append(
            f"The workflows run jitops' action from {repository}, pinned to one commit. If "
            "Settings → Actions → General allows only selected actions, add "
            f"`{repository}@*`; if {repository} is private, let this organisation's "
            f"repositories use it ({repository}: Settings → Actions → General → Access). "
            "To move to another jitops, run `jitops init --force` with it (or with --action)."
        )
    steps.append(
        "Run `jitops doctor`: with the targets' secrets in the environment it also checks "
        "that each target is reachable with the least privilege jitops needs (`--offline` "
        "checks everything else)."
    )
    lines = ["Next steps:"]
    for number, step in enumerate(steps, start=1):
        lines += textwrap.wrap(
            step,
            width=98,
            initial_indent=f"  {number}. ",
            subsequent_indent="     ",
            break_long_words=False,
            break_on_hyphens=False,
        )
    return lines


def _moment(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M}" if value is not None else "—"


def revoked_text(record: AuditRecord) -> str:
    """When the revoke was recorded, and how late it came if it did (``+2h``)."""
    lag = record.revoke_lag
    if record.revoked_at is None or lag is None:
        return "—"
    late = f" (+{format_duration(lag)})" if lag.total_seconds() >= 60 else ""
    return f"{record.revoked_at:%Y-%m-%d %H:%M}{late}"


def approved_by(record: AuditRecord) -> str:
    """Who approved a grant, as the audit shows it: the approvers, auto-approval, unknown
    (no evidence here), or why there is no valid approval."""
    if record.unrecorded:
        return "unknown (no evidence notes in this clone)"
    if record.auto_approved:
        return "auto-approved"
    return ", ".join(f"@{a}" for a in record.approvers) or f"— ({record.problem})"


def audit_rows(report: AuditReport) -> list[tuple[str, ...]]:
    """Audit records as table rows: request, who, access, from, until, approved by, PR, and
    the commit whose policies judged it."""
    rows: list[tuple[str, ...]] = []
    for r in report.records:
        approved = approved_by(r)
        rows.append(
            (
                r.request.id,
                f"@{r.request.requester}",
                f"{r.request.target}/{r.request.role}",
                _moment(r.window_start),
                _moment(r.held_until),
                approved,
                revoked_text(r),
                f"#{r.pull_request}" if r.pull_request else "—",
                r.policy_commit[:12] if r.policy_commit else "—",
            )
        )
    return rows


def sweep_text(job: SweepJob) -> tuple[list[str], list[str]]:
    """What ``jitops sweep`` prints: (lines for stdout, lines for stderr). Findings are the
    CLI's to print, with their annotations."""
    from jitops.commands.sweep import AutoMerge

    report, on_github = job.report, job.on_github
    out: list[str] = []
    err = [f"jitops: error: {report.policy_problem}"] if report.policy_problem else []
    for revocation in report.revocations:
        request = revocation.entry.request
        end = revocation.entry.expires_at
        line = (
            f"{revocation.outcome.value}: @{request.requester} {request.target}/{request.role} "
            f"({request.id}, expired {end:%Y-%m-%d %H:%M} UTC)"
        )
        out.append(line + (f" — {revocation.detail}" if revocation.detail else ""))
    pull = on_github.pull
    if pull is not None:
        verb = "opened" if pull.created else "updated"
        out.append(f"{verb} revocation pull request #{pull.number} {pull.html_url}")
        if pull.auto_merge is not AutoMerge.REFUSED:
            out.append(f"auto-merge {pull.auto_merge.value} on #{pull.number}")
    issue = on_github.issue
    if issue is not None:
        out.append(f"{issue.action.value} issue #{issue.number} of failed revokes {issue.html_url}")
    err += [f"jitops: warning: {warning}" for warning in on_github.warnings]
    done = f"{len(report.revoked)} expired grant(s) were revoked, but " if report.revoked else ""
    err += [
        f"jitops: error: {done}{failure} — rerun the sweep once GitHub answers; it records "
        "what this run could not"
        for failure in on_github.failures
    ]
    out += [
        f"warned: @{w.entry.request.requester} {w.entry.request.id} expires soon "
        f"(#{w.pull_request})"
        for w in job.warned
    ]
    failed = len(report.failed)
    retried = " — they stay on the branch and are retried next run" if failed else ""
    err += notified_text(job.notified)
    err.append(
        f"jitops: {len(report.revocations)} expired, {len(report.revoked)} revoked, "
        f"{failed} failed{retried}"
    )
    return out, err


def notified_text(notified: NotifyReport) -> list[str]:
    """Each Notify channel that was told, and each that could not be (a warning: a failed
    notification holds up nothing)."""
    lines = [
        f"jitops: notified {d.channel!r} of {d.notices} event(s)"
        for d in notified.deliveries
        if d.problem is None
    ]
    return lines + [f"jitops: warning: {problem}" for problem in notified.problems]


def apply_text(job: ApplyJob) -> tuple[list[str], list[str]]:
    """What ``jitops apply`` prints: (lines for stdout, lines for stderr)."""

    report = job.report
    err = []
    if report.caught_up_from:
        err.append(
            f"jitops: catching up from {report.caught_up_from[:12]} ({report.caught_up_reason})"
        )
    out = []
    for outcome in report.outcomes:
        request = outcome.entry.request
        pr = f" (#{outcome.pull_request})" if outcome.pull_request else ""
        out.append(
            f"{outcome.action.value}: @{request.requester} {request.target}/{request.role} "
            f"{request.id}{pr} — {outcome.detail}"
        )
    for action in report.actions:
        asked = action.request
        who = (
            f"@{asked.requester} {asked.target}/{asked.action} {asked.id}" if asked else action.path
        )
        pr = f" (#{action.pull_request})" if action.pull_request else ""
        out.append(f"{action.state}: {who}{pr} — {action.detail}")
    published = job.published
    if published is not None and published.index is not None:
        err.append(f"jitops: {index_line(published.index)}")
    elif published is not None:
        err.append(
            f"jitops: warning: the request-id index was not updated "
            f"({published.index_problem}) — pull-request checks stay exact but search the "
            "whole history; `jitops index --rebuild --push` repairs it"
        )
    if report.policy_problem:
        err.append(f"jitops: error: {report.policy_problem}")
    err += notified_text(job.notified)
    err.append(f"jitops: {apply_counts(report.outcomes)}")
    if job.stale_sweep:
        err.append(f"jitops: warning: {job.stale_sweep}")
    return out, err


def apply_counts(outcomes: Sequence[ApplyOutcome]) -> str:
    """How many requests apply judged, and what it did (or would do) with them, by action: a
    request refused or already refused is no change, and is not counted as one."""
    if not outcomes:
        return "nothing to grant or revoke"
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.action.value] = counts.get(outcome.action.value, 0) + 1
    done = ", ".join(f"{n} {action}" for action, n in counts.items())
    return f"{len(outcomes)} request(s) judged: {done}"


_DEMO_PREFIX = {"say": "  ", "show": "    │ ", "ok": "  ✓ ", "fail": "  ✗ ", "skip": "  · "}


def demo_text(line: Line) -> str:
    """One line of ``jitops demo``'s narration, for a terminal."""
    tone = line.tone.value
    if tone == "heading":
        return f"\n── {line.text} " + "─" * max(3, 74 - len(line.text))
    if tone == "show":  # verbatim, as the person or the job sees it
        return (_DEMO_PREFIX[tone] + line.text).rstrip()
    prefix = _DEMO_PREFIX.get(tone, "")
    return textwrap.fill(
        line.text,
        width=96,
        initial_indent=prefix,
        subsequent_indent=" " * (len(prefix) + 2),
        break_on_hyphens=False,
        break_long_words=False,
    )


def index_line(outcome: IndexOutcome) -> str:
    """One line: what happened to the request-id index."""
    from jitops import ids

    update = outcome.update
    index = update.index
    covers = f"{len(index.ids):,} id(s) up to {index.covers[:12]}"
    if update.how is ids.Update.UNCHANGED:
        text = f"request-id index unchanged: {covers}"
    elif update.how is ids.Update.EXTENDED:
        text = (
            f"request-id index extended over {(update.previous or '')[:12]}..{index.covers[:12]}"
            f": {covers}, {update.added:,} new"
        )
    else:
        text = f"request-id index rebuilt from the whole history ({update.reason}): {covers}"
    return text + (f"; pushed {ids.INDEX_REF}" if outcome.pushed else "")


def index_text(run: IndexRun) -> tuple[list[str], list[str]]:
    """What ``jitops index`` prints: (lines for stdout, lines for stderr). Findings are the
    CLI's to print, with their annotations."""
    from jitops import ids

    if run.checked:
        if run.check is None:
            return [], [f"jitops: there is no request-id index ({ids.INDEX_REF})"]
        if run.check.agrees:
            covers = (run.check.covers or "")[:12]
            return [], [f"jitops: the request-id index agrees with the history of {covers}"]
        return [], []
    assert run.outcome is not None
    problem = run.outcome.fetch_problem
    err = [f"jitops: note: the remote's index was not read: {problem}"] if problem else []
    return [index_line(run.outcome)], err


def policy_tests_text(run: TestRun, verbose: bool = False) -> tuple[list[str], list[str]]:
    """``jitops test``: (a PASS or FAIL line per case, with the decision of each failing case
    (of every case when ``verbose``) and what was expected; the count of passed and failed)."""
    out = []
    for result in run.results:
        out.append(
            f"{'PASS' if result.passed else 'FAIL'} {result.path}:{result.line}: {result.name}"
        )
        if result.decision is not None and (verbose or not result.passed):
            if not result.passed:
                out.append(f"  expected {result.expected}")
            out += [f"  {line}" for line in decision_text(result.decision)]
    failed = len(run.failed)
    return out, [f"jitops: {len(run.results) - failed} passed, {failed} failed"]


def validate_summary(result: ValidateResult) -> str:
    """``jitops validate``'s last line: what it checked, and the count of each kind of problem."""
    findings = result.findings
    errors, warnings = (
        sum(f.severity is s for f in findings) for s in (Severity.ERROR, Severity.WARNING)
    )
    counts = summary_line(
        [
            ("errors" if errors != 1 else "error", errors),
            ("denied", sum(f.severity is Severity.DENIED for f in findings)),
            ("warnings" if warnings != 1 else "warning", warnings),
        ]
    )
    actions = f", {len(result.actions)} action request(s)" if result.actions else ""
    return (
        f"jitops: checked {result.request_count} request(s){actions} and "
        f"{result.policy_file_count} policy file(s): {counts}"
    )


def init_output(report: InitReport) -> tuple[list[str], list[str]]:
    """``jitops init``: (each file and the next steps; the summary)."""
    return [*init_text(report), "", *init_next_steps(report)], [
        *(f"jitops: warning: {warning}" for warning in report.warnings),
        f"jitops init: {init_summary(report)}",
    ]


def doctor_output(report: DoctorReport) -> tuple[list[str], list[str]]:
    """``jitops doctor``: (the checks by area; the summary)."""
    return doctor_text(report), [f"jitops doctor: {doctor_summary(report)}"]


AUDIT_HEADER = (
    "request",
    "who",
    "access",
    "from (UTC)",
    "until (UTC)",
    "approved by",
    "revoked (UTC)",
    "PR",
    "policies of",
)


def audit_output(report: AuditReport) -> tuple[list[str], list[str]]:
    """``jitops audit``: (the table of grants, then of action requests; how many lack approval
    evidence). Findings are the CLI's to print, with their annotations."""
    only_actions = report.query is not None and report.query.only_actions
    lines = [] if only_actions else table(AUDIT_HEADER, audit_rows(report))
    if report.actions or only_actions:
        actions = table(ACTION_AUDIT_HEADER, action_audit_rows(report))
        lines += [*([""] if lines else []), *actions]
    return lines, audit_counts(report)


ACTION_AUDIT_HEADER = (
    "action request",
    "who",
    "action",
    "approved",
    "outcome",
    "at (UTC)",
    "result",
)


def action_audit_rows(report: AuditReport) -> list[tuple[str, ...]]:
    """Each action request on the branch: who asked for what, who approved it, what became of
    it and when, and the digest of its result."""
    return [
        (
            action.request_id,
            f"@{action.requester}",
            f"{action.target}/{action.action}",
            " ".join(f"@{a}" for a in action.approvers) or "—",
            action.state,
            f"{action.at:%Y-%m-%d %H:%M}" if action.at else "—",
            (action.detail("digest") or "")[:12] or "—",
        )
        for action in report.actions
    ]


def audit_counts(report: AuditReport) -> list[str]:
    """How many grants ``jitops audit`` listed, and how many lack approval evidence; how many
    action requests, and how many were performed."""
    performed = sum(1 for a in report.actions if a.state == "performed")
    actions = f"{len(report.actions)} action request(s), {performed} performed"
    if report.query is not None and report.query.only_actions:
        return [f"jitops: {actions}"]
    evidence = (
        f"{len(report.unverified)} without approval evidence"
        if report.evidence_known
        else "approvals unknown: this clone holds no evidence notes"
    )
    counts = f"jitops: {len(report.records)} grant(s) in history, {evidence}"
    return [counts + (f"; {actions}" if report.actions else "")]


def audit_verify_text(verified: Verification) -> list[str]:
    """``jitops audit verify``'s count, for stderr. Findings are the CLI's to print."""
    report = verified.report
    return [
        f"jitops: {len(report.records)} grant(s) checked, "
        f"{len(report.unverified)} without approval evidence"
    ]


def audit_verify_job_text(job: VerifyJob) -> list[str]:
    """``jitops audit verify``'s stderr: the count, the issue it kept, whom it told."""
    return [
        *audit_verify_text(job.verified),
        *kept_issue_text(job.kept),
        *notified_text(job.notified),
    ]


def kept_issue_text(kept: KeptIssue | None) -> list[str]:
    """What happened to the issue kept open for the problems, and what GitHub refused."""
    if kept is None:
        return []
    return [
        f"jitops: {kept.action.value} issue #{kept.issue.number}: {kept.issue.html_url}",
        *(f"jitops: warning: {warning}" for warning in kept.warnings),
    ]
