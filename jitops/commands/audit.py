"""``jitops audit``: who held which access when, approved by whom, under which policy — from git.

Walks the branch's first-parent history of ``requests/`` (each merge that added, changed or
removed a request file), reads each request as it was when it landed, and joins the approval
evidence that ``jitops apply`` recorded as git notes. No GitHub API is involved (invariant 8).

``jitops audit verify`` lists every grant that landed without evidence of a valid approval.
"""

from __future__ import annotations

import gc
import hashlib
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from jitops import (
    action_record,
    evidence,
    git,
    notifications,
    request_files,
    revocation_record,
)
from jitops.access_review import AccessReview, ReviewBy, ReviewSource, review
from jitops.actions_context import ActionsContext
from jitops.audit_records import AuditQuery, AuditRecord, AuditReport
from jitops.errors import ExitCode, UsageError
from jitops.findings import Finding, Severity, exit_code
from jitops.kept_issue import KeptIssue
from jitops.models import AccessRequest, format_duration
from jitops.notifications import Notice, NotifyReport
from jitops.parallel import map_streamed
from jitops.policy import request_window
from jitops.repo import REQUEST_MODELS, REQUESTS_DIR, parse
from jitops.sweep_record import DEFAULT_SWEEP_INTERVAL

__all__ = [
    "AccessReview",
    "AuditQuery",
    "AuditRecord",
    "AuditReport",
    "ReviewBy",
]


def audit(
    root: Path, ref: str = "HEAD", *, fetch_notes: bool = False, token: str | None = None
) -> AuditReport:
    """Every request that landed on ``ref``'s first-parent history, with its approval evidence
    (with ``fetch_notes``, origin's evidence notes merged into this clone's first).

    The history is one ``git log`` read as it streams, newest first: going backwards, the
    change that ends a grant (the next change at its path) is known when the grant is met.
    While git walks on, the landed requests and their merges' evidence notes are read by object
    id in chunks (one ``git cat-file --batch`` each) and parsed on the other cores, each blob
    once and each note once per chunk; each record is built once, oldest first."""
    commit = git.commit_of(root, ref)
    known, notes_findings = _evidence_notes(root, fetch_notes, token)
    landings: list[_Landing] = []  # newest first
    reading = _Reading(root, git.note_objects(root))
    with _no_cycle_collection():
        judged = map_streamed(_judge, reading, _chunks(root, commit, landings))
        report = _with_revocations(root, _report(commit, landings, judged))
    if known:
        return replace(report, findings=(*notes_findings, *report.findings))
    records = tuple(replace(r, problem=None, unrecorded=True) for r in report.records)
    unknown = Finding(
        git.NOTES_REF,
        Severity.WARNING,
        "this clone holds no evidence notes (a clone does not fetch them), so who approved "
        "each grant is not known here",
        f"fetch them: {evidence.FETCH_NOTES}, or run jitops audit without --no-fetch-notes",
    )
    findings = (*notes_findings, unknown, *report.findings) if records else report.findings
    return AuditReport(commit, records, findings, evidence_known=False)


def audit_listing(
    root: Path, ref: str, query: AuditQuery, fetch_notes: bool, token: str | None
) -> AuditReport:
    """``jitops audit``: the records of ``ref``'s history that ``query`` asks about, with the
    repository's web address for links to its pull requests."""
    from jitops.github.urls import web_url

    report = audit(root, ref, fetch_notes=fetch_notes, token=token)
    remote = git.remote_url(root)
    branch = (git.head_branch(root) or ref) if ref == "HEAD" else ref
    return replace(
        report,
        ref=branch,
        repository_url=web_url(remote) if remote else None,
        actions=tuple(action_record.actions_on(root, ref)),
    ).select(query)


def review_listing(
    source: ReviewSource, query: AuditQuery, by: ReviewBy, at: datetime
) -> AccessReview:
    """``jitops audit review``: the review of the whole history of ``source`` (read as
    ``jitops audit`` reads it)."""
    report = audit_listing(source.root, source.ref, AuditQuery(), source.fetch_notes, source.token)
    return review(report, query, by, at)


def _with_revocations(root: Path, report: AuditReport) -> AuditReport:
    """``report`` with the revoke time apply or the sweep recorded for each grant."""
    times = revocation_record.read_all(root)
    records = tuple(
        replace(r, revoked_at=at)
        if (at := times.first.get((r.request.id, r.landed_commit))) is not None
        else r
        for r in report.records
    )
    findings = report.findings
    if times.unreadable:
        findings = (
            *findings,
            Finding(
                git.REVOCATIONS_REF,
                Severity.WARNING,
                f"{times.unreadable} line(s) of the revocation notes cannot be read; those "
                "revoke times are not shown",
                "see who pushed refs/notes/jitops-revocations (git log of that ref)",
            ),
        )
    return replace(report, records=records, findings=findings)


def _evidence_notes(root: Path, fetch: bool, token: str | None) -> tuple[bool, list[Finding]]:
    """Whether this clone's evidence notes are the record to read (after merging origin's into
    them, with ``fetch``), and what to say about reading them. They are not when this clone
    has none and origin's were not read: a fresh clone does not fetch notes, and reading
    "apply never verified it" into that would accuse every grant falsely."""
    fetched = git.fetch_notes(root, token=token) if fetch else None
    if fetched is not None and fetched.fetched:  # when access ended at the targets, too
        git.fetch_notes(root, token=token, ref=git.REVOCATIONS_REF)
    if fetch:  # what became of each action request (a repository may hold actions alone)
        git.fetch_notes(root, token=token, ref=git.ACTIONS_REF)
    findings = []
    if fetched is not None and fetched.failure is not None:
        findings.append(
            Finding(
                git.NOTES_REF,
                Severity.WARNING,
                f"could not fetch the evidence notes from origin: {fetched.failure}",
                f"the audit reads this clone's notes as they are; fetch them: "
                f"{evidence.FETCH_NOTES}",
            )
        )
    if evidence.present(root):
        return True, findings
    # With no notes here, none on origin (or no origin to have them) is the record: none.
    origin_has_none = fetched is not None and fetched.failure is None
    return origin_has_none or git.remote_url(root) is None, findings


def _report(commit: str, landings: list[_Landing], judged: list[_Judged]) -> AuditReport:
    """The records and findings, oldest first, of ``landings`` (newest first) and what was
    found in each."""
    records: list[AuditRecord] = []
    findings: list[Finding] = []
    for (landed, at, path, blob, removed), result in zip(
        reversed(landings), reversed(judged), strict=True
    ):
        if result is None:  # git has no such blob: a partial clone, or a damaged repository
            findings.append(
                Finding(
                    path,
                    Severity.ERROR,
                    f"git has no object {blob[:12]}, the request landed in {landed[:7]}: "
                    "the audit cannot say who had what",
                    "audit a full clone (git fetch --unshallow --refetch, or clone without "
                    "--filter), or run git fsck",
                )
            )
            continue
        request, problems, fields = result
        if request is None:
            findings.extend(
                replace(f, message=f"{f.message} (as landed in {landed[:7]})") for f in problems
            )
            continue
        start, end = request_window(request, at)
        pull_request, policy_commit, approvers, auto_approved, problem, refused, failed, teams = (
            fields
        )
        records.append(
            AuditRecord(
                path,
                request,
                landed,
                at,
                start,
                end,
                removed_commit=removed[0] if removed is not None else None,
                removed_at=removed[1] if removed is not None else None,
                pull_request=pull_request,
                policy_commit=policy_commit,
                approvers=approvers,
                auto_approved=auto_approved,
                problem=problem,
                refused=refused,
                grant_failed=failed,
                approver_teams=teams,
            )
        )
    return AuditReport(commit, tuple(records), tuple(findings))


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Pause the cyclic garbage collector: the report's objects are many, live to the end and
    form no cycles, and scanning them again and again as they grow cost a fifth of the run's
    time (the workers, forked meanwhile, pause it too). Memory is still freed as it is
    released; only cycles wait for the end."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# A request file's content landing: (commit, time, path, blob, the next change at the path).
_Landing = tuple[str, datetime, str, str, tuple[str, datetime] | None]

# Landings per chunk (cut between commits): what one ``git cat-file`` reads, one process parses.
_CHUNK = 1500


def _chunks(
    root: Path, commit: str, landings: list[_Landing]
) -> Iterator[list[tuple[str, str, str]]]:
    """The (commit, path, blob) of each landing in ``commit``'s history, newest first, in
    chunks as ``git log`` streams; each landing is appended to ``landings`` too."""
    later: dict[str, tuple[str, datetime]] = {}  # path → the next change there (commit, time)
    chunk: list[tuple[str, str, str]] = []
    for logged in git.first_parent_log(root, commit, [REQUESTS_DIR]):
        for change in reversed(logged.changes):
            removed = later.get(change.path)  # a change replaces the request: its grant ends
            later[change.path] = (logged.commit, logged.at)
            if _landed(change):
                landings.append((logged.commit, logged.at, change.path, change.object_id, removed))
                chunk.append((logged.commit, change.path, change.object_id))
        if len(chunk) >= _CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _landed(change: git.RawChange) -> bool:
    """A request file added, changed, or made a regular file by a change of type (a link
    turned into a file): content that lands, as apply sees it. A deletion, a link or a
    submodule lands nothing (apply grants no such thing)."""
    return (
        change.status in ("A", "M", "T")
        and change.mode in request_files.REGULAR_MODES
        and request_files.has_request_name(change.path)
    )


@dataclass(frozen=True)
class _Reading:
    """What every chunk of landings needs: the repository, and which commits have a note."""

    root: Path
    note_ids: dict[str, str]  # commit → its note's blob


# A record's evidence: pull_request, policy_commit, approvers, auto_approved, problem, refused,
# grant_failed, approver_teams (tuples: they travel back from the workers by the ten thousand).
_Fields = tuple[
    int | None, str | None, tuple[str, ...], bool, str | None, bool, bool, tuple[str, ...]
]
# What a landing's blob holds: its request (or None and why not), and its note's fields.
_Judged = tuple[AccessRequest | None, list[Finding], _Fields] | None


def _judge(reading: _Reading, landings: Sequence[tuple[str, str, str]]) -> list[_Judged]:
    """For each (commit, path, blob) landing: the request it holds and its evidence (run on
    every core, a chunk at a time)."""
    note_ids = {c: reading.note_ids.get(c) for c, _, _ in landings}
    wanted = [blob for _, _, blob in landings] + [n for n in note_ids.values() if n is not None]
    objects = git.read_blobs(reading.root, list(dict.fromkeys(wanted)))
    notes = {commit: _Note.of(note_id, objects) for commit, note_id in note_ids.items()}
    parsed: dict[tuple[str, str], tuple[AccessRequest | None, list[Finding]]] = {}
    results: list[_Judged] = []
    for commit, path, blob in landings:
        raw = objects.get(blob)
        if raw is None:
            results.append(None)
            continue
        key = (path, blob)
        if key not in parsed:
            _, model, problems = parse(raw, path, REQUEST_MODELS, "requests/")
            parsed[key] = (model if isinstance(model, AccessRequest) else None, problems)
        request, problems = parsed[key]
        if request is None:
            results.append((None, problems, _NO_FIELDS))
        else:
            results.append((request, [], notes[commit].fields(request.id, path, blob)))
    return results


_NO_FIELDS: _Fields = (None, None, (), False, None, False, False, ())


@dataclass(frozen=True)
class _Note:
    """The evidence note of one merge, read once, its requests found by id at once."""

    parsed: evidence.ApprovalEvidence | None
    broken: str | None  # why the note cannot be read
    requests: dict[str, evidence.RequestEvidence]  # by id: the first the note names

    @classmethod
    def of(cls, note_id: str | None, objects: dict[str, bytes]) -> _Note:
        """The note ``note_id`` (None: the merge has none), read among ``objects``."""
        if note_id is None:
            return cls(None, None, {})
        raw = objects.get(note_id)
        if raw is None:  # listed, but not in the repository
            return cls(None, f"unreadable evidence note: git has no object {note_id}", {})
        parsed = evidence.parse_note(raw)
        if isinstance(parsed, str):
            return cls(None, parsed, {})
        found: dict[str, evidence.RequestEvidence] = {}
        for request in parsed.requests:
            found.setdefault(request.id, request)
        return cls(parsed, None, found)

    def fields(self, request_id: str, path: str, blob: str) -> _Fields:
        """What the note says of ``request_id``'s grant landed as ``blob`` at ``path``, as
        fields of its record. A note that binds the request to other content (apply records
        the blob it judged) is no evidence for this one: notes can be written by any writer,
        and a note copied onto an edit in place must not approve the edit."""
        note = self.parsed
        if note is None:
            missing = self.broken or "no approval evidence: apply never verified it"
            return (None, None, (), False, missing, False, False, ())
        found = self.requests.get(request_id)
        if found is None:
            unnamed = "the evidence note of its merge does not mention this request"
            return (note.pull_request, None, (), False, unnamed, False, False, ())
        if found.blob is not None and (found.blob != blob or found.path != path):
            other = (
                f"the evidence note of its merge is for other content: apply verified "
                f"{found.path} as blob {found.blob[:12]}, this is {path} as {blob[:12]}"
            )
            return (note.pull_request, None, (), False, other, False, False, ())
        allowed = found.verdict == "allowed"
        problem: str | None = None
        if not allowed:
            problem = f"apply refused it: {found.reason}"
        elif found.grant_failed is not None:
            problem = f"apply verified it, but granting it failed: {found.grant_failed}"
        return (
            note.pull_request,
            note.policy_commit,
            tuple(a.login for a in found.approvers),
            found.auto_approved,
            problem,
            not allowed,
            allowed and found.grant_failed is not None,
            tuple(sorted({team for a in found.approvers for team in a.teams})),
        )


def late_revoke_findings(report: AuditReport, interval: timedelta) -> list[Finding]:
    """A warning for each grant whose recorded revoke came later than its access should have
    ended by more than the sweep's interval: access held longer than the window says (a
    sweep delayed, a target down). History, not a standing problem: the revoke did happen."""
    findings = []
    for r in report.records:
        lag = r.revoke_lag
        if lag is None or lag <= interval:
            continue
        end = r.held_until
        findings.append(
            Finding(
                r.path,
                Severity.WARNING,
                f"{r.request.id} (landed {r.landed_commit[:7]}): revoked "
                f"{r.revoked_at:%Y-%m-%d %H:%M} UTC, {format_duration(lag)} after its access "
                f"should have ended ({end:%Y-%m-%d %H:%M} UTC): more than the sweep interval of "
                f"{format_duration(interval)}",
                "check why the sweep was late then (its runs in the Actions tab, the target's "
                "availability)",
            )
        )
    return findings


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


@dataclass(frozen=True)
class AuditIssueTexts:
    """The Markdown of the audit issue, given by ``jitops.report.comments.audit_issue_texts``
    (commands render nothing): the body listing the problems, found at ``commit`` at ``now``,
    and the comment that closes it."""

    body: Callable[[Sequence[Finding], str, datetime], str]
    closing_comment: Callable[[str, datetime], str]


def report_on_github(
    verified: Verification, actions: ActionsContext, now: datetime, texts: AuditIssueTexts
) -> KeptIssue | None:
    """Keep one issue open listing the problems ``verified`` found (warnings are history, not
    problems), closed with a comment once there are none. None: nothing found, nothing open.
    Needs the token and the repository of ``actions``."""
    from jitops import kept_issue
    from jitops.github import GitHub

    token, repository = actions.needs_api("--open-issue")
    findings, commit = verified.findings, verified.report.commit
    problems = [f for f in findings if f.severity is not Severity.WARNING]
    github = GitHub(token, repository=repository, api_url=actions.api_url)
    if not problems:
        found = kept_issue.ours(github, AUDIT_LABEL, AUDIT_MARKER)
        return kept_issue.close(github, found, texts.closing_comment(commit, now))
    title = f"jitops audit verify: {len(problems)} problem(s) on the branch"
    stamp = f"<!-- jitops:problems {json.dumps(sorted({_digest(f) for f in problems}))} -->\n"
    body = f"{AUDIT_MARKER}\n{texts.body(problems, commit, now)}{stamp}"
    return kept_issue.keep(
        github, AUDIT_LABEL, AUDIT_MARKER, title, body, what="listing audit problems"
    )


_STAMPED = re.compile(r"<!-- jitops:problems (\[[^\n]*?\]) -->")


def _digest(finding: Finding) -> str:
    return hashlib.sha256(f"{finding.location}\0{finding.text}".encode()).hexdigest()[:16]


def new_problems(verified: Verification, kept: KeptIssue | None) -> list[Finding]:
    """The problems the issue did not list before this run (all of them without an issue)."""
    problems = [f for f in verified.findings if f.severity is not Severity.WARNING]
    listed: set[str] = set()
    found = _STAMPED.search(kept.previous_body or "") if kept is not None else None
    if found:
        try:
            stamp = json.loads(found.group(1))
        except ValueError:
            stamp = []
        listed = {s for s in stamp if isinstance(s, str)} if isinstance(stamp, list) else set()
    return [f for f in problems if _digest(f) not in listed]


@dataclass(frozen=True)
class VerifyJob:
    """A run of ``jitops audit verify``: what it found, the issue it kept, whom it told."""

    verified: Verification
    kept: KeptIssue | None = None
    notified: NotifyReport = NotifyReport()

    @property
    def exit_code(self) -> ExitCode:
        return self.verified.exit_code


def run_verify_job(
    root: Path,
    ref: str,
    query: AuditQuery | None,
    *,
    fetch_notes: bool,
    token: str | None,
    open_issue: bool,
    actions: ActionsContext,
    now: datetime,
    environ: Mapping[str, str],
    texts: AuditIssueTexts,
) -> VerifyJob:
    """Verify the branch; with ``open_issue`` keep the issue of its problems; tell the Notify
    channels of the problems the issue did not list before."""
    verified = verify(root, ref, fetch_notes=fetch_notes, token=token, query=query)
    kept = report_on_github(verified, actions, now, texts) if open_issue else None
    fresh = new_problems(verified, kept)
    repository = actions.repository or ""
    return VerifyJob(verified, kept, notify_problems(root, fresh, repository, environ, now))


def notify_problems(
    root: Path,
    problems: Sequence[Finding],
    repository: str,
    environ: Mapping[str, str],
    now: datetime,
) -> NotifyReport:
    """Tell the Notify channels of each new problem ``jitops audit verify`` found."""
    notices = [
        Notice("audit-problems", f"{f.location}: {f.message}", detail=f.hint or "")
        for f in problems
    ]
    return notifications.notify(root, notices, repository, environ, now)


@dataclass(frozen=True)
class Verification:
    """``jitops audit verify``: the history read, and every problem found in it (grants
    without valid approval evidence, a request-id index that disagrees with history)."""

    report: AuditReport
    findings: tuple[Finding, ...]

    @property
    def exit_code(self) -> ExitCode:
        return exit_code(self.findings)


def verify(
    root: Path,
    ref: str = "HEAD",
    *,
    fetch_notes: bool = False,
    token: str | None = None,
    query: AuditQuery | None = None,
) -> Verification:
    """Audit ``ref`` and check its request-id index (``report_on_github`` keeps the issue).
    It checks the whole history: a ``query`` that narrows it is a usage error."""
    from jitops import ids

    if query is not None and query.asks:
        raise UsageError(
            "audit verify checks every grant in history; the filters (--user, --since, …) "
            "narrow only the listing: run `jitops audit verify` without them"
        )
    report = audit(root, ref, fetch_notes=fetch_notes, token=token)
    unverifiable: tuple[Finding, ...] = ()
    if not report.evidence_known and report.records:
        unverifiable = (
            Finding(
                git.NOTES_REF,
                Severity.ERROR,
                f"cannot verify {len(report.records)} grant(s): this clone holds no evidence "
                "notes and origin's could not be read",
                f"fetch them ({evidence.FETCH_NOTES}), then run jitops audit verify again",
            ),
        )
    findings = (
        *report.findings,
        *unverifiable,
        *unverified_findings(report),
        *late_revoke_findings(report, DEFAULT_SWEEP_INTERVAL),
        *ids.check_findings(ids.verify(root, ref)),
        *action_findings(root, ref),
    )
    return Verification(report, findings)


def action_findings(root: Path, ref: str) -> list[Finding]:
    """What the action records say is wrong: an action whose outcome is unknown (a run began
    it and recorded nothing after), one merged but never performed, and a record of a file
    other than the one on the branch."""
    findings = []
    for action in action_record.actions_on(root, ref):
        if action.state == "pending":
            findings.append(
                Finding(
                    action.path,
                    Severity.WARNING,
                    f"action {action.request_id} landed but no run performed it",
                    "run `jitops apply` (it performs the action requests of its pushed range)",
                )
            )
        elif action.state == "started":
            findings.append(
                Finding(
                    action.path,
                    Severity.WARNING,
                    f"action {action.request_id} was begun and its outcome never recorded",
                    "look at the target: it may or may not have run, and is never run again",
                )
            )
        landed_blob = (
            git.run(root, ["rev-parse", f"{action.landed}:{action.path}"]).stdout.strip()
            if action.landed
            else None
        )
        if any(step.get("blob") != landed_blob for step in action.steps):
            findings.append(
                Finding(
                    action.path,
                    Severity.ERROR,
                    f"a record of action {action.request_id} is of other content than landed",
                    "someone wrote that record: find who pushed refs/notes/jitops-actions",
                )
            )
    return findings
