"""``jitops apply``: make the targets match what the default branch says, after re-verifying.

Load (the ledger before and after the pushed range) → decide (which grants are new, which are
gone; for each new one, the pull request that landed it, re-judged through the API against the
policies of the branch *before* that merge — invariant 3: a status can be forged, the approval
cannot) → act (grant what is verified and open, revoke what left the branch or expired, record
the evidence as a git note) → report (a PR comment, the job summary, the exit code).

A grant whose landing cannot be verified is not provisioned: it fails loudly (exit 1, a comment
on its pull request, a "denied" evidence note) and ``jitops audit verify`` lists it later.
Provisioning is idempotent, so a rerun completes whatever a failed run left.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from jitops import __version__, evidence, git, ids, notifications, revocation_record
from jitops.actions_context import DEFAULT_API_URL, ActionsContext
from jitops.errors import ExitCode, JitopsError, UsageError
from jitops.gate import ParsedRequest, classify, evaluate
from jitops.github import GitHub, PullRequestInfo
from jitops.ids import IndexOptions, IndexOutcome, refresh
from jitops.ledger import GrantState, LedgerEntry, Standing, read_ledger
from jitops.models import AccessRequest, NotifyEvent, login_key
from jitops.notifications import Notice, NotifyReport
from jitops.performing import ActionOutcome, Performing, landed_actions, perform_actions
from jitops.policy import Decision, Review, Verdict
from jitops.pr_facts import gather, with_modes
from jitops.provisioners import create
from jitops.repo import REQUEST_MODELS, load_policies, parse
from jitops.revoking import grant_of, revoke_entries
from jitops.sweep_record import stale_warning
from jitops.targets import target_config
from jitops.trust import (
    PolicyTrust,
    landed_by,
    verified_targets,
)

ZERO_SHA = "0" * 40


class Action(StrEnum):
    GRANTED = "granted"
    WOULD_GRANT = "would grant"
    SCHEDULED = "scheduled"  # verified; granted when its window opens (a later apply)
    REVOKED = "revoked"
    WOULD_REVOKE = "would revoke"
    REFUSED = "refused"  # landed without a valid approval: not granted
    EXPIRED = "expired"  # its window closed before it could be granted
    FAILED = "failed"  # verified, but the target refused (retried by a rerun)
    # caught up: refused by an earlier run, as its evidence note says (not judged again)
    STILL_REFUSED = "still refused"


@dataclass(frozen=True)
class Outcome:
    entry: LedgerEntry
    action: Action
    detail: str = ""
    pull_request: int | None = None
    revoking: bool = False  # the request left the branch: its FAILED is a revoke's


@dataclass(frozen=True)
class ApplyOptions:
    root: Path
    now: datetime
    after: str = "HEAD"
    before: str | None = None  # None or the zero sha: everything on ``after`` is new
    dry_run: bool = False
    repository: str = ""
    token: str = ""
    api_url: str = DEFAULT_API_URL
    comment: bool = False  # report back on each pull request
    scheduled: bool = False  # also grant landed scheduled requests whose window has opened
    # start at the last commit a successful apply run completed, when that is older than
    # ``before``: a cancelled, failed or never-run apply loses nothing
    catch_up: bool = False
    # push each action request's record (its start, then its outcome) as it is made: in the
    # workflow, no action runs before its start is on origin
    push_action_records: bool = False


def options_from_actions(
    actions: ActionsContext,
    *,
    root: Path,
    now: datetime,
    before: str | None,
    after: str | None,
    dry_run: bool,
    scheduled: bool,
    catch_up: bool,
) -> ApplyOptions:
    """Apply's options from its flags, falling back to the GitHub Actions settings: the pushed
    range of a push event (else ``after`` alone, HEAD by default), the repository and token,
    and a comment on each merged pull request when there is a token and this is no dry run."""
    if (before is None or after is None) and actions.event_name == "push":
        payload = actions.event() or {}
        before = before or payload.get("before")
        after = after or payload.get("after")
    return ApplyOptions(
        root=root,
        now=now,
        after=after or "HEAD",
        before=before,
        dry_run=dry_run,
        repository=actions.repository or "",
        token=actions.token or "",
        api_url=actions.api_url,
        comment=not dry_run and bool(actions.token),
        scheduled=scheduled,
        catch_up=catch_up,
    )


@dataclass(frozen=True)
class ApplyReport:
    outcomes: tuple[Outcome, ...]
    # the branch's policy state is not verified: targets were taken from the newest one that is
    policy_problem: str | None = None
    caught_up_from: str | None = None  # catch-up: where the range started, and why
    caught_up_reason: str = ""
    actions: tuple[ActionOutcome, ...] = ()  # the action requests the range landed

    def with_action(self, *actions: Action) -> list[Outcome]:
        return [o for o in self.outcomes if o.action in actions]

    @property
    def failed(self) -> bool:
        refused = bool(self.with_action(Action.REFUSED, Action.FAILED))
        return refused or bool(self.policy_problem) or any(a.failed for a in self.actions)


def _key(entry: LedgerEntry) -> tuple[str, str | None]:
    return (entry.path, entry.landing.commit if entry.landing else None)


def plan(root: Path, before: str | None, after: str) -> tuple[list[LedgerEntry], list[LedgerEntry]]:
    """(entries to grant on ``after``, entries of ``before`` gone from ``after``). To grant:
    what is new since ``before``, and every verified grant whose provisioning failed, whenever
    it landed — access that is owed, which every run retries until it exists."""
    new_ledger = read_ledger(root, after)
    old = read_ledger(root, before).entries if before and before != ZERO_SHA else ()
    old_keys = {_key(e) for e in old}
    new_keys = {_key(e) for e in new_ledger.entries}
    added = [
        e
        for e in new_ledger.entries
        if _key(e) not in old_keys or e.standing is Standing.GRANT_FAILED
    ]
    removed = [e for e in old if _key(e) not in new_keys]
    return added, removed


@dataclass(frozen=True)
class Verification:
    """What re-judging the pull request behind a landing commit concluded."""

    pull_request: PullRequestInfo | None
    decisions: Mapping[str, Decision]  # request id → decision
    problem: str | None  # why nothing landed by this commit can be trusted
    policy_commit: str | None
    reviews: tuple[Review, ...] = ()


@dataclass(frozen=True)
class Judging:
    """What judging the landings of one run shares: the API, the policy states, and the run's
    one read of the branch's history, of the used request ids along it and of its blobs."""

    github: GitHub
    root: Path
    trust: PolicyTrust
    history: git.BranchHistory
    used: ids.UsedAlong
    blobs: git.BlobReader


def verify_landing(
    judging: Judging, commit: str, entries: Sequence[LedgerEntry], at: datetime
) -> Verification:
    """Re-judge, through the API, the pull request that merged ``commit``."""
    github, root, trust = judging.github, judging.root, judging.trust
    landing = landed_by(github, root, commit, trust.default_branch, judging.history)
    pr, base = landing.pull_request, landing.base
    if pr is None or base is None:
        return Verification(pr, {}, landing.problem, None)
    if landing.problem is not None:
        return Verification(pr, {}, landing.problem, base)
    untrusted = trust.state_at(base).problem
    if untrusted is not None:
        return Verification(pr, {}, untrusted, base)
    policies = trust.policies_at(base)
    problems = [f.text for f in policies.findings if f.severity != "warning"]
    files = with_modes(github, judging.blobs.modes_at, pr.head_sha, github.changed_files(pr.number))
    # Every request of the pull request is judged, as the check judged them: a rebase merge
    # lands them one commit at a time, and each landing is verified with all of them.
    request_paths = classify(files).request_paths
    wanted = sorted(set(request_paths) | {e.path for e in entries})
    contents = _head_contents(github, judging.blobs, pr.head_sha, wanted)
    landed = judging.blobs.read([e.blob for e in entries if e.blob])
    parsed: list[ParsedRequest] = []
    for path in request_paths:
        if path in {e.path for e in entries} or path not in contents:
            continue
        _, other, findings = parse(contents[path], path, REQUEST_MODELS, "requests/")
        parsed.append(
            ParsedRequest(
                path, other if isinstance(other, AccessRequest) else None, tuple(findings)
            )
        )
    for entry in entries:
        raw = contents.get(entry.path)
        if raw is None:
            return Verification(pr, {}, f"{entry.path} is not in the approved head", base)
        if landed.get(entry.blob) != raw:
            # the merge changed the file after approval (a conflict resolution, an edit):
            # what was reviewed is the head's bytes, and only those bytes may grant
            return Verification(
                pr, {}, f"{entry.path} on the branch differs from the approved head", base
            )
        _, model, findings = parse(raw, entry.path, REQUEST_MODELS, "requests/")
        if not isinstance(model, AccessRequest) or model != entry.request:
            return Verification(
                pr, {}, f"{entry.path} on the branch differs from the approved head", base
            )
        parsed.append(ParsedRequest(entry.path, model, tuple(findings)))
    policy_set = policies.policy_set if not problems else None
    gathered = gather(
        github,
        number=pr.number,
        author=pr.author,
        head_sha=pr.head_sha,
        files=files,
        policy_set=policy_set,
        requests=[p.request for p in parsed if p.request],
        policy_change=False,
    )
    reviews = gathered.facts.reviews
    result = evaluate(
        gathered.facts,
        policy_set,
        parsed,
        at,
        # The whole history, never the request-id index: anyone with push access could
        # write that ref, and this is the check that decides whether access is granted.
        known_ids=judging.used.at(base),
        requester_teams=gathered.requester_teams,
        policy_problems=problems,
    )
    decisions = {d.request_id: d for d in result.decisions}
    problem = None if result.decisions or result.allowed else result.summary
    if result.findings:
        # each with its file and position, as check-pr and validate name them
        problem = "; ".join(f"{f.location}: {f.text}" for f in result.findings)
    return Verification(pr, decisions, problem, base, reviews)


def _head_contents(
    github: GitHub, blobs: git.BlobReader, head_sha: str, paths: Sequence[str]
) -> dict[str, bytes]:
    names = [f"{head_sha}:{p}" for p in paths]
    found = blobs.read(names)  # a merge commit's second parent is the head
    if len(found) == len(names):
        return {p: found[f"{head_sha}:{p}"] for p in paths}
    return {p: github.file_at(head_sha, p) for p in paths}


def _evidence_of(
    verification: Verification, entries: Sequence[LedgerEntry], now: datetime
) -> evidence.ApprovalEvidence:
    pr = verification.pull_request
    review_ids = {login_key(r.reviewer): r.review_id for r in verification.reviews}
    teams_of = {login_key(r.reviewer): sorted(r.teams) for r in verification.reviews}
    records = []
    for entry in entries:
        decision = verification.decisions.get(entry.request.id)
        verdict = decision.verdict.value if decision else Verdict.DENIED.value
        approvers = decision.approvers if decision is not None else ()
        records.append(
            evidence.RequestEvidence(
                id=entry.request.id,
                path=entry.path,
                blob=entry.blob or None,
                verdict=verdict,
                reason=decision.reason if decision else (verification.problem or "not verified"),
                policy=decision.policy if decision else None,
                approvers=[
                    evidence.Approver(
                        login=a,
                        review_id=review_ids.get(login_key(a)),
                        teams=teams_of.get(login_key(a), []),
                    )
                    for a in approvers
                ],
                auto_approved=bool(
                    decision and any("auto-approved" in c.detail for c in decision.checks)
                ),
            )
        )
    allowed = all(r.verdict == "allowed" for r in records) and verification.problem is None
    return evidence.ApprovalEvidence(
        pull_request=pr.number if pr else None,
        head_sha=pr.head_sha if pr else None,
        policy_commit=verification.policy_commit,
        verified_at=now,
        verified_by=f"jitops {__version__}",
        verdict="allowed" if allowed else "denied",
        summary=verification.problem or ("verified" if allowed else "not approved"),
        requests=records,
    )


def apply(options: ApplyOptions, environ: Mapping[str, str]) -> ApplyReport:
    root = options.root
    policies = load_policies(root)
    if policies.policy_set is None:
        raise UsageError("the policies have errors; run `jitops validate` and fix them first")
    targets = policies.policy_set.targets
    github: GitHub | None = None
    trust: PolicyTrust | None = None
    policy_problem: str | None = None
    if options.token and options.repository:
        # The targets (an exec command, a host) act with the targets' secrets: take them from a
        # policy state that was verified, never from one a writer merged on a forged status.
        github = GitHub(options.token, repository=options.repository, api_url=options.api_url)
        trust = PolicyTrust(
            github,
            root,
            github.repository_settings().default_branch,
            options.now,
            record=not options.dry_run,
        )
        head = git.resolve(root, options.after) or options.after
        trust.completed(head)  # the policy walks start there, and so does a catch-up
        targets, policy_problem = verified_targets(trust, head, targets)
    before = options.before
    caught_up: tuple[str, str] | None = None
    if options.catch_up:
        if github is None or trust is None:
            raise UsageError(
                "--catch-up reads the apply workflow's runs through the GitHub API: set "
                "GITHUB_TOKEN and GITHUB_REPOSITORY"
            )
        caught_up = catch_up_start(trust, options.after, before)
        if caught_up is not None:
            before = caught_up[0]
    added, removed = plan(root, before, options.after)
    if options.scheduled:
        # A scheduled request was verified when it landed but granted nothing then; once its
        # window opens it is verified again and granted (idempotently, so reruns are safe).
        seen = {_key(e) for e in added}
        added += [
            e
            for e in read_ledger(root, options.after).entries
            if e.request.starts_at is not None
            and e.state(options.now) is GrantState.ACTIVE
            and _key(e) not in seen
        ]
    outcomes: list[Outcome] = []
    # A path in both lists was changed in place: its verified content's grant ends, and what
    # replaced it is judged as a new request.
    replaced = {e.path: e for e in added}

    # Gone from the branch (or replaced by other content): revoke. Giving access up needs no
    # approval.
    if options.dry_run:
        outcomes += [
            Outcome(e, Action.WOULD_REVOKE, _removal(e, options.now, replaced)) for e in removed
        ]
    else:
        for revocation in revoke_entries(removed, targets, environ):
            if revocation.outcome.value == "revoked":
                outcomes.append(
                    Outcome(
                        revocation.entry,
                        Action.REVOKED,
                        _removal(revocation.entry, options.now, replaced),
                    )
                )
            else:
                outcomes.append(
                    Outcome(revocation.entry, Action.FAILED, revocation.detail, revoking=True)
                )

    by_commit: dict[str, list[LedgerEntry]] = {}
    for entry in added:
        if entry.state(options.now) is GrantState.EXPIRED:
            outcomes.append(Outcome(entry, Action.EXPIRED, "its window closed; never granted"))
        elif (
            caught_up is not None
            and entry.standing in (Standing.REFUSED, Standing.EDITED)
            and entry.landing is not None
            and _before_push(root, entry.landing.commit, options.before)
        ):
            # An earlier run judged and refused it (and failed for it); refusing again would
            # keep every later run failing. Granting is never taken from a note, only this.
            outcomes.append(Outcome(entry, Action.STILL_REFUSED, entry.standing_detail))
        elif entry.landing is not None:
            by_commit.setdefault(entry.landing.commit, []).append(entry)
    caught = caught_up or (None, "")
    performed = _perform(options, github, trust, before, environ)
    if not by_commit:
        return ApplyReport(tuple(outcomes), policy_problem, caught[0], caught[1], tuple(performed))
    if github is None or trust is None:
        raise UsageError(
            "apply re-verifies approvals through the GitHub API: set GITHUB_TOKEN and "
            "GITHUB_REPOSITORY (or pass --repository)"
        )
    head = git.resolve(root, options.after) or options.after
    history = trust.history(head)
    with git.BlobReader(root) as blobs:
        judging = Judging(github, root, trust, history, ids.UsedAlong(root, history), blobs)
        for commit in history.order(by_commit):
            entries = by_commit[commit]
            landed_at = entries[0].landing.at if entries[0].landing else options.now
            try:
                # one landing's modes, head files and landed blobs: one set of questions
                with blobs.remembering():
                    verification = verify_landing(judging, commit, entries, landed_at)
            except JitopsError as exc:
                outcomes += [
                    Outcome(e, Action.FAILED, f"could not verify: {exc.message}") for e in entries
                ]
                continue
            outcomes += _act_on(verification, commit, entries, targets, environ, options)
    return ApplyReport(tuple(outcomes), policy_problem, caught[0], caught[1], tuple(performed))


def _perform(
    options: ApplyOptions,
    github: GitHub | None,
    trust: PolicyTrust | None,
    before: str | None,
    environ: Mapping[str, str],
) -> list[ActionOutcome]:
    """Perform the action requests the range landed (``jitops.performing``), once each."""
    if not landed_actions(options.root, before, options.after):
        return []
    if github is None or trust is None:
        raise UsageError(
            "apply re-verifies action requests through the GitHub API: set GITHUB_TOKEN and "
            "GITHUB_REPOSITORY (or pass --repository)"
        )
    token = options.token or None
    if not options.dry_run and not options.push_action_records and git.remote_url(options.root):
        # another clone (the workflow's) would not see a record kept only here, and could
        # perform the action again
        return [
            ActionOutcome(path, None, "refused", "not performed: performing an action needs "
                "--push-notes, so that its record reaches origin before it runs")
            for path, _ in landed_actions(options.root, before, options.after)
        ]  # fmt: skip
    if options.push_action_records:
        fetched = git.fetch_notes(options.root, token=token, ref=git.ACTIONS_REF)
        if fetched.failure is not None:
            raise JitopsError(
                f"origin's records of performed actions cannot be read ({fetched.failure}), so "
                "no action is performed: one might have run already — rerun apply"
            )
    publish = (
        (lambda: git.push_notes(options.root, token=token, ref=git.ACTIONS_REF))
        if options.push_action_records
        else None
    )
    claim = (lambda request_id: _claim(options.root, request_id, token)) if publish else None
    return perform_actions(
        Performing(
            github,
            trust,
            options.root,
            before,
            options.after,
            environ,
            options.now,
            options.dry_run,
            publish,
            claim,
        )
    )


def _claim(root: Path, request_id: str, token: str | None) -> bool:
    """Create refs/jitops/actions/<id> on origin, a parentless commit of this run's own: git
    lets only one run create it."""
    import secrets

    ref = f"refs/jitops/actions/{request_id}"
    nonce = secrets.token_hex(16)
    git.write_file_commit(root, ref, "claim", nonce.encode(), f"jitops apply claims {request_id}")
    return git.claim_ref(root, ref, token=token)


def _act_on(
    verification: Verification,
    commit: str,
    entries: Sequence[LedgerEntry],
    targets: Mapping[str, Any],
    environ: Mapping[str, str],
    options: ApplyOptions,
) -> list[Outcome]:
    """Record what verifying a landing found, then grant what it allowed."""
    root = options.root
    outcomes: list[Outcome] = []
    number = verification.pull_request.number if verification.pull_request else None
    recorded: evidence.ApprovalEvidence | None = None
    if not options.dry_run:
        found = _evidence_of(verification, entries, options.now)
        earlier = evidence.read_for(root, [commit]).get(commit)
        # Evidence is history: a later re-judgement (a catch-up, a rerun after a team
        # changed) that refuses never overwrites what an earlier run verified and
        # recorded; it is reported, and grants nothing now.
        if not (
            found.verdict != "allowed"
            and isinstance(earlier, evidence.ApprovalEvidence)
            and earlier.verdict == "allowed"
        ):
            # recorded before granting: a run that stops mid-grant leaves access with its
            # evidence, never access without it
            evidence.record(root, commit, found)
            recorded = found
    for entry in entries:
        decision = verification.decisions.get(entry.request.id)
        if verification.problem or decision is None or not decision.allowed:
            reason = verification.problem or (decision.reason if decision else "not verified")
            outcomes.append(Outcome(entry, Action.REFUSED, reason, number))
        elif entry.state(options.now) is GrantState.SCHEDULED:
            outcomes.append(Outcome(entry, Action.SCHEDULED, "verified", number))
        elif options.dry_run:
            outcomes.append(Outcome(entry, Action.WOULD_GRANT, "verified", number))
        else:
            outcomes.append(_grant(entry, targets, environ, number))
    failed = {o.entry.request.id: o.detail for o in outcomes if o.action is Action.FAILED}
    if recorded is not None and failed:
        # no access exists for these: readers say "grant failed", and the run that grants
        # them later records the evidence again without it
        evidence.record(root, commit, _with_failed_grants(recorded, failed))
    return outcomes


def _with_failed_grants(
    found: evidence.ApprovalEvidence, failed: Mapping[str, str]
) -> evidence.ApprovalEvidence:
    requests = [
        r.model_copy(update={"grant_failed": failed[r.id]}) if r.id in failed else r
        for r in found.requests
    ]
    return found.model_copy(update={"requests": requests})


def catch_up_start(trust: PolicyTrust, after: str, before: str | None) -> tuple[str, str] | None:
    """Where a catching-up apply starts, and why: the newest commit of ``after``'s history
    that a successful run of the apply workflow on the default branch completed (the Actions
    API's record, which no writer can forge or move), or with none on record, the
    installation commit. None when ``before`` is already at or behind it."""
    root = trust.root
    head = git.resolve(root, after) or after
    start = trust.completed(head)
    why = "the last commit a successful apply run completed"
    if start is None:
        start, why = (
            trust.install_commit(head),
            "no successful apply run on record: since installation",
        )
    if before is None or before == ZERO_SHA:
        return start, why
    if start != before and git.is_ancestor(root, start, before):
        return start, why
    return None


def _before_push(root: Path, commit: str, before: str | None) -> bool:
    """Whether ``commit`` came before the pushed range (the catch-up part of a run)."""
    return before not in (None, ZERO_SHA) and git.is_ancestor(root, commit, before or "")


@dataclass(frozen=True)
class Published:
    """What apply left behind for later runs: the request-id index, or why it was not updated."""

    index: IndexOutcome | None
    index_problem: str | None = None


def publish(root: Path, after: str, *, push: bool, token: str | None) -> Published:
    """After apply acts: push the evidence notes (``push``), then extend the request-id index
    over ``after`` (and push it too).

    The index failing changes no grant or revoke: pull-request checks stay exact, they only
    search more history, and say so; the problem is returned for the caller to report.
    """
    if push:
        if git.resolve(root, git.NOTES_REF) is not None:  # a run that granted nothing has none
            git.push_notes(root, token=token)
        revocation_record.publish(root, token)
    try:
        outcome = refresh(IndexOptions(root=root, branch=after, push=push, token=token))
    except JitopsError as exc:
        return Published(None, exc.message)
    return Published(outcome)


def _removal(entry: LedgerEntry, now: datetime, replaced: Mapping[str, LedgerEntry]) -> str:
    """Why a request that left the branch is revoked, so a confirming revoke reads as one."""
    successor = replaced.get(entry.path)
    if successor is not None and successor.landing is not None:
        return (
            f"changed on the branch by {successor.landing.commit[:12]}: the grant of the "
            "approved content ends, and the new content is a new request"
        )
    end = entry.expires_at
    if end is not None and end <= now:
        # The sweep revoked it at expiry and its pull request removed the file: revoking
        # again is the idempotent confirmation, not new news.
        return (
            f"expired at {end:%Y-%m-%d %H:%M} UTC; confirmed revoked (the sweep revokes at expiry)"
        )
    return "removed from the branch before its window closed"


def _grant(
    entry: LedgerEntry, targets: Mapping[str, Any], environ: Mapping[str, str], number: int | None
) -> Outcome:
    target = targets.get(entry.request.target)
    if target is None:
        return Outcome(entry, Action.FAILED, f"no target {entry.request.target!r}", number)
    try:
        create(target_config(target), environ).grant(grant_of(entry))
    except JitopsError as exc:
        return Outcome(entry, Action.FAILED, exc.message, number)
    until = f"{entry.expires_at:%Y-%m-%d %H:%M} UTC" if entry.expires_at else "its window ends"
    return Outcome(entry, Action.GRANTED, f"until {until}", number)


APPLY_MARKER = "<!-- jitops:apply -->"
# The Markdown of apply's comment on one merged pull request, from what was done for it (the
# report's ``apply_comment``)
CommentText = Callable[[Sequence[Outcome]], str]


def _comment(options: ApplyOptions, report: ApplyReport, text: CommentText) -> None:
    """One comment per merged pull request, edited in place by later runs."""
    by_pr: dict[int, list[Outcome]] = {}
    for outcome in report.outcomes:
        if outcome.pull_request is not None:
            by_pr.setdefault(outcome.pull_request, []).append(outcome)
    if not by_pr:
        return
    github = GitHub(options.token, repository=options.repository, api_url=options.api_url)
    for number, outcomes in by_pr.items():
        try:
            github.upsert_comment(number, APPLY_MARKER, f"{APPLY_MARKER}\n{text(outcomes)}")
        except JitopsError:
            continue  # the exit code and the job summary still report it


@dataclass(frozen=True)
class ApplyJob:
    """A whole run of ``jitops apply``: what it granted and revoked, and what it published."""

    report: ApplyReport
    published: Published | None = None  # None: a dry run publishes nothing
    stale_sweep: str | None = None  # no sweep succeeded lately: what to do about it
    notified: NotifyReport = NotifyReport()  # its problems are warnings: they change no exit

    @property
    def exit_code(self) -> ExitCode:
        if self.report.with_action(Action.FAILED):
            return ExitCode.SYSTEM  # a target or GitHub failed: the next run retries it
        return ExitCode.DENIED if self.report.failed else ExitCode.OK


ACTION_MARKER = "<!-- jitops:action -->"


def _comment_actions(
    options: ApplyOptions, report: ApplyReport, text: Callable[[ActionOutcome], str]
) -> None:
    """One comment per action request's pull request: what performing it did."""
    github = GitHub(options.token, repository=options.repository, api_url=options.api_url)
    for outcome in report.actions:
        if outcome.pull_request is None:
            continue
        marker = f"{ACTION_MARKER}<!-- {outcome.path} -->"
        try:
            github.upsert_comment(outcome.pull_request, marker, f"{marker}\n{text(outcome)}")
        except JitopsError:
            continue  # the exit code and the job's output still say it


def run_apply_job(
    options: ApplyOptions,
    environ: Mapping[str, str],
    *,
    push_notes: bool,
    comment: CommentText,
    action_comment: Callable[[ActionOutcome], str] | None = None,
) -> ApplyJob:
    """Apply as the workflow runs it: with ``push_notes``, fetch what earlier runs verified
    first (the standing of every request, before judging any) and push this run's evidence
    and the request-id index after; with ``options.comment``, tell each merged pull request
    what was done for it (``comment`` renders it)."""
    token = options.token or None
    if push_notes:
        git.pull_notes(options.root, token=token)
        options = replace(options, push_action_records=True)
    report = apply(options, environ)
    if options.dry_run:
        return ApplyJob(report, stale_sweep=stale_warning(options.root, options.now))
    # which revokes are news, read before this run's are noted
    happened = report.outcomes or report.actions
    channels = notifications.channels_of(options.root) if happened else None
    first_revoked = (
        _first_revoked(options.root, report, token, push_notes)
        if channels and report.outcomes
        else set()
    )
    after = git.resolve(options.root, options.after)
    if after is not None:
        revoked = report.with_action(Action.REVOKED)
        revocation_record.record(
            options.root,
            after,
            [revocation_record.RevocationRecord.of(o.entry, options.now, "apply") for o in revoked],
        )
    if options.comment and options.token and options.repository:
        _comment(options, report, comment)
        if action_comment is not None and report.actions:
            _comment_actions(options, report, action_comment)
    published = publish(options.root, options.after, push=push_notes, token=token)
    notified = NotifyReport()
    notices = apply_notices(report, first_revoked)
    if channels and notices:
        sender = notifications.sender_for(options.root, options.repository, environ, options.now)
        notified = notifications.send(channels, notices, sender)
    return ApplyJob(report, published, stale_warning(options.root, options.now), notified)


def _first_revoked(root: Path, report: ApplyReport, token: str | None, fetch: bool) -> set[int]:
    """The ``id`` of each revoked entry no earlier run recorded revoking: apply's confirming
    revoke of what the sweep revoked is no news. With ``fetch``, what the sweeps pushed is
    fetched first (failing that, a repeat may be told; a revoke is never missed)."""
    revoked = [o.entry for o in report.with_action(Action.REVOKED)]
    if not revoked:
        return set()
    if fetch:
        try:
            git.pull_notes(root, token=token, ref=git.REVOCATIONS_REF)
        except JitopsError:
            pass
    return {id(e) for e in notifications.unrecorded(root, revoked)}


def apply_notices(report: ApplyReport, first_revoked: set[int]) -> list[Notice]:
    """What apply tells the Notify channels: each grant, refusal and failure, and the revokes
    no earlier run made (``first_revoked``: the ``id`` of those outcomes' entries)."""
    notices = []
    for outcome in report.outcomes:
        entry, request = outcome.entry, outcome.entry.request
        who = f"@{request.requester} {request.target}/{request.role} ({request.id})"
        number, detail = outcome.pull_request, outcome.detail
        if outcome.action is Action.GRANTED:
            notices.append(
                Notice.of("granted", entry, f"{who} granted {detail}", pull_request=number)
            )
        elif outcome.action is Action.REFUSED:
            notices.append(
                Notice.of(
                    "refused", entry, f"{who} refused at merge", detail=detail, pull_request=number
                )
            )
        elif outcome.action is Action.FAILED:
            event: NotifyEvent = "revoke-failed" if outcome.revoking else "grant-failed"
            verb = "could not be revoked" if outcome.revoking else "could not be granted"
            notices.append(
                Notice.of(event, entry, f"{who} {verb}", detail=detail, pull_request=number)
            )
        elif outcome.action is Action.REVOKED and id(entry) in first_revoked:
            notices.append(Notice.of("revoked", entry, f"{who} revoked", detail=detail))
    return notices + [n for a in report.actions if (n := action_notice(a)) is not None]


def action_notice(outcome: ActionOutcome) -> Notice | None:
    """What the channels hear of an action request apply performed, or refused at merge; a
    rerun's "already performed" and a dry run are no news."""
    events: dict[str, tuple[NotifyEvent, str]] = {
        "performed": ("action-performed", "performed"),
        "failed": ("action-failed", "failed"),
        "refused": ("refused", "refused at merge"),
    }
    request = outcome.request
    if outcome.state not in events or request is None:
        return None
    event, verb = events[outcome.state]
    who = f"@{request.requester} {request.target}/{request.action} ({request.id})"
    return Notice(
        event,
        f"{who} {verb}",
        request_id=request.id,
        requester=request.requester,
        target=request.target,
        pull_request=outcome.pull_request,
        detail=outcome.detail,
        action=request.action,
    )
