"""``jitops check-pr``: the approval gate for one pull request.

Load (the base branch's policies from the local checkout, which is the default branch's code in
``pull_request_target``/``workflow_run``; the PR's facts and files through the API, read as
data) → decide (``jitops.gate.evaluate``) → act (a ``jitops/approval`` commit status and one PR
comment, kept up to date) → report (the same words in the job summary).

Nothing in the pull request is imported or executed: request files are bytes parsed by the safe
loader, and policies, CODEOWNERS and this code all come from the base branch.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from jitops import git, ids, notifications, request_files
from jitops.actions_context import ActionsContext
from jitops.errors import ExitCode, JitopsError, UsageError
from jitops.gate import (
    ChangeKind,
    GateResult,
    ParsedAction,
    ParsedRequest,
    classify,
    evaluate,
)
from jitops.github import GitHub, GitHubError, PullRequestInfo
from jitops.models import AccessRequest, NotifyEvent
from jitops.notifications import Notice, NotifyReport
from jitops.policy import PolicySet, Verdict
from jitops.pr_facts import gather, with_modes
from jitops.repo import REQUEST_MODELS, load_policies, parse
from jitops.repo.action_loading import ACTIONS_DIR, ActionFile, parse_action

COMMENT_MARKER = "<!-- jitops:approval -->"
STATES = {Verdict.ALLOWED: "success", Verdict.PENDING: "pending", Verdict.DENIED: "failure"}


@dataclass(frozen=True)
class CheckOptions:
    repository: str
    number: int
    token: str
    api_url: str
    base_checkout: Path  # the default branch, checked out: policies and history come from here
    now: datetime
    post: bool = False  # write the status and comment (Actions does; a laptop asks for it)
    summary_path: Path | None = None
    run_url: str | None = None
    environ: Mapping[str, str] = field(default_factory=dict)  # the Notify channels' secrets


@dataclass(frozen=True)
class CheckOutcome:
    pull_request: PullRequestInfo
    result: GateResult
    policy_commit: str | None
    markdown: str
    posted: bool
    notes: tuple[str, ...] = ()  # how the check was made, where that is worth knowing
    notified: NotifyReport = NotifyReport()  # its problems are warnings: they change no exit

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OK if self.result.allowed else ExitCode.DENIED


# The comment's Markdown from what was decided: (the gate's result, the parsed requests, the
# pull request, the policies' commit, notes on how the check was made)
CommentText = Callable[
    [GateResult, Sequence[ParsedRequest], PullRequestInfo, str | None, Sequence[str]], str
]

RELAY_WORKFLOW = ".github/workflows/jitops-review-relay.yml"


def pr_number_from_event(event_name: str, event_path: Path, repository: str | None = None) -> int:
    """The pull request an Actions event is about. A ``workflow_run`` event counts only as a
    run of the review relay (in ``repository``) made by a ``pull_request_review``."""
    try:
        payload = json.loads(event_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read the event payload {event_path}: {exc}") from None
    if not isinstance(payload, dict):
        raise UsageError(f"{event_path}: the event payload is not a JSON object")
    pull = payload.get("pull_request")
    if isinstance(pull, dict) and isinstance(pull.get("number"), int):
        return int(pull["number"])
    run = payload.get("workflow_run")
    if isinstance(run, dict):
        path = str(run.get("path") or "").partition("@")[0]  # "o/r/.github/…@ref" or bare
        relay = path == RELAY_WORKFLOW or (
            repository is not None and path.lower() == f"{repository}/{RELAY_WORKFLOW}".lower()
        )
        if run.get("event") != "pull_request_review" or not relay:
            # anyone with push access can add a workflow of the relay's name on any branch
            raise UsageError(
                f"the workflow_run event is not a run of {RELAY_WORKFLOW} made by a review "
                f"(it is {run.get('path')!r}, run for {run.get('event')!r}): nothing to check"
            )
        pulls = run.get("pull_requests") or []
        if pulls and isinstance(pulls[0], dict) and isinstance(pulls[0].get("number"), int):
            return int(pulls[0]["number"])
        raise UsageError(
            "the workflow_run event names no pull request (a fork's run does not) — "
            "run `jitops check-pr --pr N` instead"
        )
    raise UsageError(f"a {event_name!r} event is not about a pull request")


def head_files(
    github: GitHub, options: CheckOptions, head_sha: str, paths: Iterable[str]
) -> dict[str, bytes]:
    """The bytes of ``paths`` at the PR's head, as data: fetched into the base checkout with
    git (no API call per file), or through the contents API when git cannot fetch."""
    paths = list(paths)
    try:
        git.fetch_commit(options.base_checkout, head_sha, token=options.token)
        found = git.read_blobs(options.base_checkout, [f"{head_sha}:{p}" for p in paths])
        return {p: found[f"{head_sha}:{p}"] for p in paths}
    except (JitopsError, KeyError):
        return {p: github.file_at(head_sha, p) for p in paths}


def check_pull_request(options: CheckOptions, comment: CommentText) -> CheckOutcome:
    """Judge the pull request; post its status and its comment (``comment`` renders it: the
    report's ``gate_markdown``) when asked."""
    github = GitHub(options.token, repository=options.repository, api_url=options.api_url)
    info = _pull_request(github, options)
    try:
        return _check(github, options, info, comment)
    except GitHubError as exc:
        # a fact could not be read: no verdict, and no earlier one left standing
        raise CheckFailed(_not_judged(github, options, info, exc)) from None


class CheckFailed(JitopsError):
    """GitHub did not answer what the check reads, or what it posts (exit 3): nothing is
    judged on facts that could not be read. The message says what was done."""


def _rerun(options: CheckOptions, said: str) -> str:
    host = urlsplit(options.api_url).netloc or options.api_url
    where = "" if host in said else f" at {host}"
    return f"rerun the check (re-run its workflow) once GitHub{where} answers"


def _pull_request(github: GitHub, options: CheckOptions) -> PullRequestInfo:
    try:
        return github.pull_request(options.number)
    except GitHubError as exc:
        if exc.status != 404:
            raise CheckFailed(
                f"could not judge pull request #{options.number}: {exc.message}; nothing was "
                f"posted — {_rerun(options, exc.message)}"
            ) from None
        # an input mistake (a wrong --pr or repository, an event about something else), not
        # a failure of the system
        raise UsageError(
            f"pull request #{options.number} of {options.repository} was not found at "
            f"{options.api_url}: check --pr and --repo (or the event), and that the token can "
            "read the repository"
        ) from None


def _not_judged(
    github: GitHub, options: CheckOptions, info: PullRequestInfo, exc: GitHubError
) -> str:
    """What to say when a fact could not be read, after setting the status to ``error`` (a
    ``success`` an earlier run posted on this head must not stand on facts that may have
    changed: a dismissed review, a new commit author)."""
    done = "nothing was posted"
    if options.post:
        try:
            github.set_status(
                info.head_sha,
                "error",
                "GitHub did not answer what the check reads: rerun it",
                target_url=options.run_url,
            )
            done = (
                f"the jitops/approval status of {info.head_sha[:7]} is set to error, so no "
                "earlier verdict lets it merge"
            )
        except GitHubError as again:
            done = (
                f"setting the jitops/approval status to error failed too ({again.message}): "
                "it may still show an earlier verdict"
            )
    return (
        f"could not judge pull request #{info.number}: {exc.message}; {done} — "
        f"{_rerun(options, exc.message)}"
    )


def _post(
    github: GitHub, options: CheckOptions, info: PullRequestInfo, result: GateResult, text: str
) -> str | None:
    """The status, then the comment; each failure says what is already posted. Returns what
    jitops' comment said before (None: this is the first)."""
    state = STATES[result.verdict]
    try:
        github.set_status(info.head_sha, state, result.summary, target_url=options.run_url)
    except GitHubError as exc:
        raise CheckFailed(
            f"pull request #{info.number} was judged ({state}), but posting its "
            f"jitops/approval status failed: {exc.message}; the status may still show an "
            f"earlier verdict — {_rerun(options, exc.message)}"
        ) from None
    stamp = f"\n<!-- jitops:verdict {result.verdict.value} -->\n"
    try:
        _, previous = github.upsert_comment_from(info.number, COMMENT_MARKER, text + stamp)
    except GitHubError as exc:
        raise CheckFailed(
            f"pull request #{info.number} was judged ({state}) and its jitops/approval status "
            f"posted, but its comment was not: {exc.message} — {_rerun(options, exc.message)} "
            "to post it"
        ) from None
    return previous


_VERDICT_STAMP = re.compile(r"<!-- jitops:verdict (allowed|pending|denied) -->")


def check_notices(
    result: GateResult,
    parsed: Sequence[ParsedRequest],
    info: PullRequestInfo,
    policy_set: PolicySet | None,
    previous: str | None,
) -> list[Notice]:
    """What the check tells the Notify channels, from what its comment said before: a pull
    request asking for access is ``opened`` when jitops first comments on it (with what each
    request needs and who can approve it), ``approved`` when the verdict turns to allowed, and
    ``refused`` when it turns to denied. A rerun with the same verdict is no news."""
    requests = [p.request for p in parsed if p.request is not None]
    if not requests:
        return []
    found = _VERDICT_STAMP.search(previous or "")
    before = Verdict(found.group(1)) if found else None
    decisions = {d.request_id: d for d in result.decisions}
    turned = result.verdict if result.verdict is not before else None
    notices = []
    for request in requests:
        decision = decisions.get(request.id)
        reason = decision.reason if decision is not None else result.summary
        about = (request, info.number, reason)
        if previous is None:
            approvers = _approvers(policy_set, request)
            notices.append(_notice("opened", "asked for", *about, approvers))
        if turned is Verdict.ALLOWED:
            notices.append(_notice("approved", "approved", *about))
        elif turned is Verdict.DENIED:
            notices.append(_notice("refused", "refused", *about))
    return notices


def _notice(
    event: NotifyEvent,
    what: str,
    request: AccessRequest,
    number: int,
    reason: str,
    approvers: tuple[str, ...] = (),
) -> Notice:
    who = f"@{request.requester} {request.target}/{request.role} ({request.id})"
    return Notice(
        event,
        f"{who} {what}",
        request.id,
        request.requester,
        request.target,
        request.role,
        pull_request=number,
        detail=reason,
        approvers=approvers,
    )


def _approvers(policy_set: PolicySet | None, request: AccessRequest) -> tuple[str, ...]:
    found = policy_set.rule_for(request.target, request.role) if policy_set else None
    if found is None:
        return ()
    _, rule = found
    return tuple(dict.fromkeys(who for approval in rule.approvals for who in approval.from_))


def _check(
    github: GitHub, options: CheckOptions, info: PullRequestInfo, comment: CommentText
) -> CheckOutcome:
    files = github.changed_files(options.number)
    if any(request_files.under_requests(f.path) for f in files):
        try:  # the head's objects, for the modes and bytes of its request files
            git.fetch_commit(options.base_checkout, info.head_sha, token=options.token)
        except JitopsError:
            pass  # read through the API instead
    files = with_modes(github, partial(git.modes_at, options.base_checkout), info.head_sha, files)
    classification = classify(files)
    policies = load_policies(options.base_checkout)
    policy_commit = (
        git.resolve(options.base_checkout, "HEAD")
        if git.toplevel(options.base_checkout) is not None
        else None
    )
    problems = [f"{f.location}: {f.text}" for f in policies.findings if f.severity != "warning"]
    try:
        codeowners_errors = github.codeowners_errors(info.base_ref)
    except GitHubError as exc:
        if exc.status is None or exc.status >= 500:
            raise  # GitHub failing is no CODEOWNERS problem: the check cannot judge now
        codeowners_errors = [exc.message]
    if codeowners_errors:
        problems.append("GitHub reports CODEOWNERS errors: " + "; ".join(codeowners_errors))
    policy_set = policies.policy_set if not problems else None

    parsed: list[ParsedRequest] = []
    if classification.kind is ChangeKind.ACCESS_REQUEST:
        contents = head_files(github, options, info.head_sha, classification.request_paths)
        for path in classification.request_paths:
            _, model, findings = parse(contents[path], path, REQUEST_MODELS, "requests/")
            request = model if isinstance(model, AccessRequest) else None
            parsed.append(ParsedRequest(path, request, tuple(findings)))

    actions: list[ParsedAction] = []
    if classification.kind is ChangeKind.ACTION_REQUEST:
        contents = head_files(github, options, info.head_sha, classification.action_paths)
        for path in classification.action_paths:
            loaded = parse_action(contents[path], path)
            if isinstance(loaded, ActionFile):
                actions.append(ParsedAction(path, loaded.request))
            else:
                actions.append(ParsedAction(path, None, tuple(loaded)))
    requests = [p.request for p in parsed if p.request is not None]
    gathered = gather(
        github,
        number=info.number,
        author=info.author,
        head_sha=info.head_sha,
        files=files,
        policy_set=policy_set,
        requests=requests,
        policy_change=classification.kind is ChangeKind.POLICY_CHANGE,
        actions=[a.request for a in actions if a.request is not None],
    )
    used = used_ids(options, [p.request.id for p in parsed if p.request is not None])
    result = evaluate(
        gathered.facts,
        policy_set,
        parsed,
        options.now,
        known_ids=used.ids,
        requester_teams=gathered.requester_teams,
        policy_problems=problems,
        actions=actions,
        known_action_ids=used_action_ids(options.base_checkout) if actions else frozenset(),
    )
    notes = (used.note,) if used.note else ()
    markdown = COMMENT_MARKER + "\n" + comment(result, parsed, info, policy_commit, notes)
    if options.summary_path is not None:
        with options.summary_path.open("a", encoding="utf-8") as summary:
            summary.write(markdown + "\n")
    notified = NotifyReport()
    if options.post:
        previous = _post(github, options, info, result, markdown)
        notices = check_notices(result, parsed, info, policy_set, previous)
        notified = notifications.notify(
            options.base_checkout, notices, options.repository, options.environ, options.now
        )
    return CheckOutcome(info, result, policy_commit, markdown, options.post, notes, notified)


def used_action_ids(base_checkout: Path) -> frozenset[str]:
    """Every action request id the base branch's history ever added a file for: an action is
    performed once, so an id is never asked for again (a revert and re-merge included)."""
    if git.toplevel(base_checkout) is None:
        return frozenset()
    added = git.added_paths(base_checkout, "HEAD", [ACTIONS_DIR])
    return frozenset(PurePosixPath(p).stem for p in added)


def used_ids(options: CheckOptions, request_ids: list[str]) -> ids.UsedIds:
    """The PR's request ids already used on the base branch, through the request-id index.

    The index is fetched first (the checkout has only branches and tags); when it cannot be,
    the one already in the checkout, if any, is used — an older index is still exact, it only
    leaves more history to walk.
    """
    if request_ids and git.toplevel(options.base_checkout) is not None:
        try:
            git.fetch_ref(options.base_checkout, ids.INDEX_REF, token=options.token)
        except JitopsError:
            pass  # no remote, or no index there yet: used_request_ids says so
    return ids.used_request_ids(options.base_checkout, request_ids)


def options_from_actions(
    actions: ActionsContext,
    *,
    repository: str | None,
    number: int | None,
    base_checkout: Path,
    now: datetime,
    post: bool,
    environ: Mapping[str, str] | None = None,
) -> CheckOptions:
    """Build options from flags, falling back to the GitHub Actions settings; ``environ``
    holds the Notify channels' secrets."""
    repository = repository or actions.repository
    if not repository:
        raise UsageError(
            "which repository? pass --repo OWNER/NAME (Actions sets GITHUB_REPOSITORY)"
        )
    if number is None:
        if actions.event_path is None:
            raise UsageError("which pull request? pass --pr N (Actions sets GITHUB_EVENT_PATH)")
        number = pr_number_from_event(actions.event_name or "", actions.event_path, repository)
    if not actions.token:
        raise UsageError(
            "no GitHub token: set GITHUB_TOKEN (in Actions: `GITHUB_TOKEN: ${{ github.token }}`)"
        )
    server, run_id = actions.server_url, actions.run_id
    run_url = f"{server}/{repository}/actions/runs/{run_id}" if server and run_id else None
    return CheckOptions(
        repository=repository,
        number=number,
        token=actions.token,
        api_url=actions.api_url,
        base_checkout=base_checkout,
        now=now,
        post=post or actions.in_actions,
        summary_path=actions.step_summary,
        run_url=run_url,
        environ=dict(environ or {}),
    )
