"""``jitops sweep``: expired access is revoked at once (invariant 4).

Load (the targets, the ledger of the branch) → decide (every grant whose window has closed) →
act (revoke each through its provisioner, one batch per target; a failed batch is retried one
grant at a time so one bad grant never holds back the others) → report.

A revocation that fails is not dropped: its request file stays on the branch, so every later
sweep tries again, and the run exits non-zero until it succeeds (invariant 5). Only requests
whose access is gone are listed for the revocation pull request that records the sweep.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path

from jitops import notifications, revocation_record
from jitops.actions_context import ActionsContext
from jitops.errors import ExitCode, UsageError
from jitops.findings import Finding, Severity
from jitops.kept_issue import IssueAction
from jitops.ledger import GrantState, LedgerEntry, read_ledger
from jitops.models import parse_duration
from jitops.notifications import Notice, NotifyReport
from jitops.repo import TargetLoad, load_targets, load_targets_at
from jitops.revoking import Revocation, RevokeOutcome, removed_target, revoke_entries
from jitops.trust import GitHubAccess


@dataclass(frozen=True)
class SweepOptions:
    root: Path
    now: datetime
    branch: str = "HEAD"
    dry_run: bool = False
    # re-verify the policy state through the API, and revoke only through verified targets
    access: GitHubAccess | None = None


@dataclass(frozen=True)
class SweepReport:
    commit: str
    revocations: tuple[Revocation, ...]
    findings: tuple[Finding, ...]
    policy_problem: str | None = None  # the branch's policies are not verified (see trust)
    unverifiable: bool = False  # GitHub could not answer: the targets as installed were used

    @property
    def failed(self) -> tuple[Revocation, ...]:
        return tuple(r for r in self.revocations if r.outcome is RevokeOutcome.FAILED)

    @property
    def revoked(self) -> tuple[Revocation, ...]:
        return tuple(r for r in self.revocations if r.outcome is RevokeOutcome.REVOKED)


SWEEP_BRANCH = "jitops/sweep"
REVOCATION_LABEL = "jitops:revocation"


@dataclass(frozen=True)
class GitHubTarget:
    """Where the revocation pull request goes."""

    repository: str
    token: str
    api_url: str
    base_branch: str


@dataclass(frozen=True)
class SweepTexts:
    """The Markdown a sweep writes on GitHub, given by ``jitops.report.comments.sweep_texts``:
    commands decide and act, and render nothing. The markers and stamps later runs read back
    are the sweep's own, added around these texts."""

    # the revocation pull request's description: the grants revoked, at ``now``
    revocation_body: Callable[[Sequence[LedgerEntry], datetime], str]
    # the failed-revokes issue: the failing revokes, when each began failing, secrets to mask
    failed_revokes_body: Callable[
        [Sequence[Revocation], Mapping[str, datetime], datetime, Sequence[str]], str
    ]
    # the comment closing that issue: what was revoked (by id) of the ids it listed
    closing_comment: Callable[[Mapping[str, LedgerEntry], Sequence[str], datetime], str]
    # the comment on a pull request whose grants expire soon
    expiry_warning: Callable[[Sequence[LedgerEntry], datetime], str]


class AutoMerge(StrEnum):
    REQUESTED = "requested"
    ALREADY = "already requested"
    REFUSED = "refused"


@dataclass(frozen=True)
class RevocationPull:
    """The revocation pull request a sweep opened or updated."""

    number: int
    html_url: str
    created: bool  # False: the open one was updated
    auto_merge: AutoMerge
    warning: str = ""  # why auto-merge is off, and how to fix it


def auto_merge_advice(reasons: tuple[str, ...]) -> str:
    """What to do when GitHub refuses auto-merge, from its own words."""
    said = " ".join(reasons).lower()
    if "not allowed for this repository" in said:
        return (
            'turn on "Allow auto-merge" in the repository settings (Settings → General → '
            "Pull requests), or merge it by hand"
        )
    if "protected branch rules not configured" in said:
        return (
            "protect the default branch with the required status check jitops/approval "
            "(README: Branch protection), or merge it by hand"
        )
    if "clean status" in said or "unstable status" in said:
        return "it can merge now: merge it by hand"
    if "not accessible" in said or "not allowed to push" in said:
        return (
            "the token may not write pull requests (the sweep workflow needs "
            "pull-requests: write), or merge it by hand"
        )
    return "merge it by hand"


def open_revocation_pull(
    report: SweepReport, target: GitHubTarget, now: datetime, texts: SweepTexts
) -> RevocationPull | None:
    """One revocation pull request removing every revoked request's file, with auto-merge
    requested; None if nothing was revoked.

    The sweep branch is rebuilt from the base branch each run and the open pull request
    updated, so reruns and concurrent sweeps leave one pull request. The workflow token's
    pull requests trigger no workflow, so the sweeper — main's own code, which has just
    classified the change as removal-only — posts the ``jitops/approval`` status itself.
    Auto-merge is requested before that status: GitHub refuses it on a pull request that
    could merge at once ("in clean status"), and merges it by itself once the status lands.
    A refusal is a warning, never a failure: the access is gone either way.
    """
    from jitops.github import GitHub, GitHubError, GraphQLRefusal

    revoked = [r.entry for r in report.revoked]
    if not revoked:
        return None
    github = GitHub(target.token, repository=target.repository, api_url=target.api_url)
    paths = sorted(entry.path for entry in revoked)
    message = f"Revoke {len(paths)} expired grant(s)\n\n" + "\n".join(paths) + "\n"
    sha, opened = github.open_removal_pull(
        head=SWEEP_BRANCH,
        base=target.base_branch,
        paths=paths,
        message=message,
        title=f"jitops: revoke {len(paths)} expired grant(s)",
        body=texts.revocation_body(revoked, now),
        labels=[REVOCATION_LABEL],
    )
    auto_merge, warning = AutoMerge.ALREADY, ""
    if not opened.auto_merge:
        try:
            github.enable_auto_merge(opened.number, opened.node_id)
            auto_merge = AutoMerge.REQUESTED
        except GitHubError as exc:
            reasons = exc.reasons if isinstance(exc, GraphQLRefusal) else (exc.message,)
            auto_merge = AutoMerge.REFUSED
            warning = (
                f"auto-merge is off on revocation pull request #{opened.number}: GitHub said "
                f'"{"; ".join(reasons)}" — {auto_merge_advice(reasons)}'
            )
    github.set_status(
        sha, "success", f"removal only: {len(paths)} request file(s), no approval needed"
    )
    return RevocationPull(opened.number, opened.html_url, opened.created, auto_merge, warning)


FAILED_LABEL = "jitops:revoke-failed"
FAILED_MARKER = "<!-- jitops:revoke-failed -->"
_SINCE = re.compile(r"<!-- jitops:failing-since (\{[^<>]*\}) -->")


@dataclass(frozen=True)
class FailedRevokeIssue:
    """The issue that keeps failed revokes in view, and what this sweep did to it."""

    number: int
    html_url: str
    action: IssueAction
    failing: int  # revokes it lists (0 once closed)
    warnings: tuple[str, ...] = ()  # what GitHub refused (pinning, labels) and the fix
    newly_failing: tuple[str, ...] = ()  # request ids the issue did not list before this run


def failing_since(body: str, now: datetime) -> dict[str, datetime]:
    """When each request's revoke first failed, as an earlier sweep wrote it in the issue.

    The issue can be edited by people, so this is read as untrusted text: anything that is
    not a request id mapped to a past, timezone-aware time is ignored (the sweep then counts
    from now). It is only ever shown, never acted on.
    """
    found = _SINCE.search(body)
    try:
        raw = json.loads(found.group(1)) if found else {}
    except ValueError:
        return {}
    since = {}
    for key, value in raw.items() if isinstance(raw, dict) else ():
        try:
            moment = datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            continue
        if moment is not None and moment.tzinfo is not None and moment <= now:
            since[str(key)] = moment
    return since


def failed_revokes_issue_body(
    texts: SweepTexts,
    failed: Sequence[Revocation],
    since: Mapping[str, datetime],
    now: datetime,
    secrets: Sequence[str],
) -> str:
    """The failed-revokes issue's body: the marker that finds it, the texts' list of what is
    failing, and the stamp of when each began failing, which the next sweep reads back."""
    stamps = {r.entry.request.id: since.get(r.entry.request.id, now).isoformat() for r in failed}
    stamp = json.dumps(stamps, sort_keys=True).replace("<", "\\u003c").replace(">", "\\u003e")
    return (
        f"{FAILED_MARKER}\n{texts.failed_revokes_body(failed, since, now, secrets)}"
        f"<!-- jitops:failing-since {stamp} -->\n"
    )


def report_failed_revokes(
    report: SweepReport, target: GitHubTarget, now: datetime, texts: SweepTexts
) -> FailedRevokeIssue | None:
    """Keep one issue, labelled ``jitops:revoke-failed`` and pinned, listing the revokes that
    are failing; close it with a comment once none is. None: nothing failed, nothing open.

    One issue even under concurrent sweeps (``jitops.kept_issue``). Pinning (GraphQL) is
    refused beyond three pinned issues: a warning, no more.
    """
    from jitops import kept_issue
    from jitops.github import GitHub, GitHubError

    github = GitHub(target.token, repository=target.repository, api_url=target.api_url)
    open_issues = kept_issue.ours(github, FAILED_LABEL, FAILED_MARKER)
    failed = list(report.failed)
    if not failed:
        if not open_issues:
            return None
        listed = sorted(failing_since(open_issues[0].body, now))
        revoked = {r.entry.request.id: r.entry for r in report.revoked}
        comment = texts.closing_comment(revoked, listed, now)
        closed = kept_issue.close(github, open_issues, comment)
        for issue in open_issues:
            try:
                github.set_pinned(issue.node_id, False)
            except GitHubError:
                pass  # cosmetic: a closed issue left pinned hides nothing that is failing
        assert closed is not None
        return FailedRevokeIssue(closed.issue.number, closed.issue.html_url, closed.action, 0)
    since = failing_since(open_issues[0].body, now) if open_issues else {}
    title = f"jitops: {len(failed)} revoke(s) failing — expired access is still there"
    body = failed_revokes_issue_body(texts, failed, since, now, [target.token])
    kept = kept_issue.keep(
        github, FAILED_LABEL, FAILED_MARKER, title, body, what="listing failed revokes"
    )
    warnings = list(kept.warnings)
    if kept.action is IssueAction.OPENED:
        try:
            github.set_pinned(kept.issue.node_id, True)
        except GitHubError as exc:
            warnings.append(
                f"issue #{kept.issue.number} listing failed revokes is not pinned "
                f"({exc.message}) — unpin another issue (GitHub pins at most three) or pin it "
                "by hand"
            )
    newly = tuple(r.entry.request.id for r in failed if r.entry.request.id not in since)
    return FailedRevokeIssue(
        kept.issue.number, kept.issue.html_url, kept.action, len(failed), tuple(warnings), newly
    )


@dataclass(frozen=True)
class GitHubRecord:
    """What a sweep recorded on GitHub; what GitHub refused by its settings (warnings, with
    the fix); and what it failed to do while failing itself (5xx, no answer, a rate limit:
    the run fails, and the next sweep records it)."""

    pull: RevocationPull | None = None
    issue: FailedRevokeIssue | None = None
    warnings: tuple[str, ...] = ()
    failures: tuple[str, ...] = ()


def record_on_github(
    report: SweepReport, target: GitHubTarget, now: datetime, texts: SweepTexts
) -> GitHubRecord:
    """Record the sweep on GitHub: the revocation pull request, with auto-merge requested,
    and the issue of failed revokes (opened, updated or closed)."""
    from jitops.github import GitHubError

    failures: list[str] = []
    pull: RevocationPull | None = None
    try:
        pull = open_revocation_pull(report, target, now, texts)
    except GitHubError as exc:
        # the access is gone already; only its record is missing, so the issue is still kept
        failures.append(f"the revocation pull request was not opened or updated: {exc.message}")
    warnings = [pull.warning] if pull is not None and pull.warning else []
    try:
        issue = report_failed_revokes(report, target, now, texts)
    except GitHubError as exc:
        issue = None
        if exc.status is None or exc.status >= 500:
            failures.append(f"the issue of failed revokes was not kept: {exc.message}")
        else:
            # The failures are reported loudly already (exit status, output, job summary):
            # the issue is one more place, so GitHub refusing it is a warning.
            warnings.append(
                f"the issue of failed revokes could not be kept ({exc.message}) — turn Issues "
                "on for the repository and give the sweep workflow issues: write"
            )
    if issue is not None:
        warnings += issue.warnings
    return GitHubRecord(pull, issue, tuple(warnings), tuple(failures))


WARNING_MARKER = "<!-- jitops:expiry-warning -->"


@dataclass(frozen=True)
class Warned:
    """A grant warned of: its pull request, and whether this run warned of it first."""

    entry: LedgerEntry
    pull_request: int
    first: bool


def warn_before_expiry(
    root: Path,
    target: GitHubTarget,
    now: datetime,
    within: timedelta,
    texts: SweepTexts,
    branch: str = "HEAD",
) -> list[Warned]:
    """Comment on the pull request of each grant that expires within ``within``.

    One comment per pull request, kept up to date, so people can re-request in time; reruns
    edit it instead of adding more. Returns each warning, saying whether the comment named the
    grant before (the expiry warning shows its request id).
    """
    from jitops.github import GitHub

    soon = [
        e
        for e in read_ledger(root, branch).in_state(GrantState.ACTIVE, now)
        if e.expires_at is not None and e.expires_at - now <= within and e.landing is not None
    ]
    if not soon:
        return []
    github = GitHub(target.token, repository=target.repository, api_url=target.api_url)
    by_pull: dict[int, list[LedgerEntry]] = {}
    for entry in soon:
        assert entry.landing is not None
        merged = [
            pr.number
            for pr in github.pulls_for_commit(entry.landing.commit)
            if pr.merge_commit_sha == entry.landing.commit
        ]
        if merged:
            by_pull.setdefault(merged[0], []).append(entry)
    warned = []
    for number, entries in by_pull.items():
        ids = sorted(e.request.id for e in entries)
        stamp = f"<!-- jitops:warned {json.dumps(ids)} -->\n"
        body = f"{WARNING_MARKER}\n{texts.expiry_warning(entries, now)}{stamp}"
        _, previous = github.upsert_comment_from(number, WARNING_MARKER, body)
        before = _warned_ids(previous or "")
        warned += [Warned(e, number, e.request.id not in before) for e in entries]
    return warned


_WARNED = re.compile(r"<!-- jitops:warned (\[[^\n]*?\]) -->")


def _warned_ids(body: str) -> set[str]:
    """The request ids an earlier expiry warning named (its stamp; anything else: none)."""
    found = _WARNED.search(body)
    try:
        ids = json.loads(found.group(1)) if found else []
    except ValueError:
        return set()
    return {i for i in ids if isinstance(i, str)} if isinstance(ids, list) else set()


def sweep(options: SweepOptions, environ: Mapping[str, str]) -> SweepReport:
    ledger = read_ledger(options.root, options.branch)
    # Every file whose window closed is revoked, granted or not: revoking is idempotent, and
    # nothing that once asked for access outlives its window because a note is missing.
    expired = [e for e in ledger.entries if e.state(options.now) is GrantState.EXPIRED]
    if options.dry_run or not expired:  # planning needs only the branch, not the targets
        revocations = [Revocation(e, RevokeOutcome.WOULD_REVOKE) for e in expired]
        return SweepReport(ledger.commit, tuple(revocations), ledger.findings)
    # One broken policy file must not keep every expired grant in place: revoking needs no
    # approval, so each target that loads on its own is revoked through, and the grants of a
    # target that does not load fail (exit 3, the issue of failed revokes) until it is fixed.
    loaded, problem, unverifiable = _acting_targets(options, ledger.commit)
    revocations = revoke_entries(
        expired, loaded.targets, environ, missing=lambda name: _not_loaded(name, loaded)
    )
    # the policies' own warnings (a role nobody can request) are validate's to report
    broken = tuple(f for f in loaded.findings if f.severity is not Severity.WARNING)
    return SweepReport(
        ledger.commit, tuple(revocations), ledger.findings + broken, problem, unverifiable
    )


def _acting_targets(options: SweepOptions, ref: str) -> tuple[TargetLoad, str | None, bool]:
    """The targets to revoke through, each loaded on its own: those of the work tree, or with
    ``options.access`` those of ``ref``'s policy state when it is verified, else those of the
    newest verified state, with why (as ``jitops.trust.acting_targets`` chooses them). A
    target defined only in an unverified state is never acted through, loadable or not.

    When GitHub cannot answer whether a state is verified (down, a rate limit, a token that
    may not read), expiry still wins: the targets as installed, trusted without asking, with
    why, and True (the run fails so it is run again)."""
    work = load_targets(options.root)
    access = options.access
    if access is None:
        return work, None, False
    from jitops.github import GitHubError
    from jitops.trust import installation_commit, reading_trust, verified_targets

    try:
        trust, head = reading_trust(options.root, access, options.now, ref)
        _, problem = verified_targets(trust, head, work.targets)
        if problem is None:
            return work, None, False
        # each policy commit is checked once per run, so asking again costs no API call
        return load_targets_at(options.root, trust.state_at(head).trusted_commit), problem, False
    except GitHubError as exc:
        installed = installation_commit(options.root, ref)
        problem = (
            f"GitHub could not say whether the branch's policies are verified ({exc.message}); "
            f"revoked through the targets as installed at {installed[:12]}, which need no "
            "verification — rerun the sweep once GitHub answers, for any target added since"
        )
        return load_targets_at(options.root, installed), problem, True


def _not_loaded(name: str, loaded: TargetLoad) -> str:
    """Why nothing is revoked through target ``name``, and what to fix so the next sweep
    revokes: its own file's first problem, else the files that might define it."""
    fix = (
        "; fix it (`jitops validate` lists every problem) and the next sweep revokes, "
        "or revoke by hand"
    )
    problems = loaded.unloaded.get(name)
    if problems:
        first, more = problems[0], len(problems) - 1
        also = f" (and {more} more)" if more else ""
        return (
            f"target {name!r} did not load, so nothing was revoked through it: "
            f"{first.location}: {first.text}{also}{fix}"
        )
    if loaded.unnamed:
        files = ", ".join(sorted({f.location for f in loaded.unnamed}))
        return (
            f"no target {name!r} among the policy files that load; {files} could not be "
            f"read and may define it{fix}"
        )
    return removed_target(name)


# -- the sweep as its workflow runs it ------------------------------------------------------------


@dataclass(frozen=True)
class SweepJobOptions:
    sweep: SweepOptions
    github: GitHubTarget | None = None  # the repository on GitHub, for what follows
    open_pr: bool = False  # record the sweep there: its pull request, the failed-revokes issue
    warn_within: timedelta | None = None  # comment on grants expiring this soon
    record: bool = False  # note a successful sweep in git, and push the note (doctor reads it)
    token: str | None = None  # for pushing that note


@dataclass(frozen=True)
class SweepJob:
    """A whole run of ``jitops sweep``: what was revoked, what was recorded on GitHub, the
    warnings of grants about to expire, and whether the run's success was noted."""

    report: SweepReport
    on_github: GitHubRecord = GitHubRecord()
    warned: tuple[Warned, ...] = ()
    recorded: bool = False
    notified: NotifyReport = NotifyReport()  # its problems are warnings: they change no exit

    @property
    def exit_code(self) -> ExitCode:
        report = self.report
        if report.failed or self.on_github.failures or report.unverifiable:
            return ExitCode.SYSTEM  # retried (or recorded) by the next run
        return ExitCode.DENIED if report.policy_problem else ExitCode.OK


def job_options_from_actions(
    actions: ActionsContext,
    sweep: SweepOptions,
    *,
    open_pr: bool | None,
    base_branch: str,
    warn_before: str | None,
    record: bool,
) -> SweepJobOptions:
    """The sweep job's options from its flags, falling back to the GitHub Actions settings:
    recording on GitHub is on under Actions unless ``open_pr`` says otherwise, and needs the
    token and the repository, as warning before expiry does."""
    open_pr = actions.in_actions if open_pr is None else open_pr
    try:
        warn_within = parse_duration(warn_before) if warn_before else None
    except ValueError as exc:
        raise UsageError(f"--warn-before: {exc}") from None
    github = None
    if (open_pr or warn_before) and not sweep.dry_run:
        token, repository = actions.needs_api("--open-pr" if open_pr else "--warn-before")
        github = GitHubTarget(repository, token, actions.api_url, base_branch)
    return SweepJobOptions(sweep, github, open_pr, warn_within, record, actions.token)


def _note_revocations(root: Path, report: SweepReport, now: datetime) -> None:
    """Note in git when each grant was revoked, on the commit the sweep judged."""
    revocation_record.record(
        root,
        report.commit,
        [revocation_record.RevocationRecord.of(r.entry, now, "sweep") for r in report.revoked],
    )


def run_sweep_job(
    options: SweepJobOptions, environ: Mapping[str, str], texts: SweepTexts
) -> SweepJob:
    """Revoke what expired, then record it on GitHub, warn of what expires soon, and note the
    run's success: revoking comes first and needs none of the rest."""
    sweep_options = options.sweep
    report = sweep(sweep_options, environ)
    if sweep_options.dry_run:
        return SweepJob(report)
    root = sweep_options.root
    channels = notifications.channels_of(root) if report.revocations or options.warn_within else ()
    # what no earlier run revoked (read before this run's revokes are noted)
    first_revoked = _first_revoked(root, report, options) if channels else []
    _note_revocations(sweep_options.root, report, sweep_options.now)
    if options.record:  # what was revoked is published even when the rest fails
        revocation_record.publish(sweep_options.root, options.token)
    on_github = GitHubRecord()
    if options.open_pr:
        if options.github is None:
            raise UsageError("recording the sweep needs the repository on GitHub")
        on_github = record_on_github(report, options.github, sweep_options.now, texts)
    warned: list[Warned] = []
    if options.warn_within is not None:
        if options.github is None:
            raise UsageError("warning of grants about to expire needs the repository on GitHub")
        warned = warn_before_expiry(
            sweep_options.root,
            options.github,
            sweep_options.now,
            options.warn_within,
            texts,
            sweep_options.branch,
        )
    recorded = options.record and not report.failed and not on_github.failures
    if recorded:
        from jitops import git, sweep_record

        sweep_record.record_success(sweep_options.root, sweep_options.now, sweep_options.branch)
        git.push_notes(sweep_options.root, token=options.token, ref=git.SWEEP_NOTES_REF)
    notified = NotifyReport()
    notices = sweep_notices(report, first_revoked, on_github, warned)
    if channels and notices:
        repository = options.github.repository if options.github else ""
        sender = notifications.sender_for(root, repository, environ, sweep_options.now)
        notified = notifications.send(channels, notices, sender)
    return SweepJob(report, on_github, tuple(warned), recorded, notified)


def _first_revoked(root: Path, report: SweepReport, options: SweepJobOptions) -> list[LedgerEntry]:
    """The grants this sweep revoked that no earlier run had: with ``record``, what other runs
    pushed is fetched first (failing that, a repeat is told, never a revoke missed)."""
    from jitops import git
    from jitops.errors import GitError

    if options.record:
        try:
            git.pull_notes(root, token=options.token, ref=git.REVOCATIONS_REF)
        except GitError:
            pass
    return notifications.unrecorded(root, [r.entry for r in report.revoked])


def sweep_notices(
    report: SweepReport,
    first_revoked: Sequence[LedgerEntry],
    on_github: GitHubRecord,
    warned: Sequence[Warned],
) -> list[Notice]:
    """What a sweep tells the Notify channels: the grants it revoked first, the revokes that
    began failing (each run while no issue keeps track), and the grants first warned of."""
    notices = [
        Notice.of("revoked", e, f"{_who(e)} revoked: its window closed") for e in first_revoked
    ]
    issue = on_github.issue
    newly = None if issue is None else set(issue.newly_failing)
    notices += [
        Notice.of(
            "revoke-failed", r.entry, f"{_who(r.entry)} could not be revoked", detail=r.detail
        )
        for r in report.failed
        if newly is None or r.entry.request.id in newly
    ]
    notices += [
        Notice.of("expiring", w.entry, f"{_who(w.entry)} expires soon", pull_request=w.pull_request)
        for w in warned
        if w.first
    ]
    return notices


def _who(entry: LedgerEntry) -> str:
    request = entry.request
    return f"@{request.requester} {request.target}/{request.role} ({request.id})"
