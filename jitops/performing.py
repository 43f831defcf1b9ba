"""Performing the action requests a push landed: each once, after re-verifying its approval
through the API, with its outcome recorded in git and told on its pull request. Two runs at
once (the workflow's and one by hand) race for a ref on origin (``refs/jitops/actions/<id>``,
created only if absent): only the one that creates it performs.

For every file under ``actions/`` that a commit of the pushed range added (an edit in place is
refused by the check, and never performed):

1. **Never twice.** An id any run recorded a step for (``jitops.action_record``), or that a
   file added before the range already used (a revert and re-merge), is not performed again.
2. **Re-verified.** The pull request that landed it is found through the API (a status can be
   forged; a merged pull request and its reviews cannot), the policies before its merge must
   be a verified state, the pull request must add action requests and nothing else, the file
   at its head must be byte for byte what landed, and the gate's decision on it, made again
   from the API's reviews, must be allowed.
3. **Recorded, then performed.** ``started`` is recorded (and, in the workflow, pushed) before
   the target is asked; should that fail, nothing is performed. Then the target's provisioner
   performs it once (``Provisioner.perform``) and the outcome is recorded: a failure is
   reported, never retried — asking again is a new request.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from jitops import action_record, git
from jitops.errors import JitopsError
from jitops.gate import ChangeKind, ParsedAction, classify, evaluate
from jitops.models import ActionRequest
from jitops.pr_facts import gather, with_modes
from jitops.provisioners import create
from jitops.provisioners.interface import ActionResult, ActionRun
from jitops.repo.action_loading import ACTIONS_DIR, ActionFile, parse_action
from jitops.sql_review import review_sql
from jitops.targets import target_config
from jitops.trust import landed_by

if TYPE_CHECKING:
    from jitops.github import GitHub
    from jitops.trust import PolicyTrust

ZERO_SHA = "0" * 40


@dataclass(frozen=True)
class ActionOutcome:
    path: str
    request: ActionRequest | None
    state: str  # performed, failed, refused, already performed, would perform
    detail: str
    pull_request: int | None = None
    result: ActionResult | None = None

    @property
    def failed(self) -> bool:
        return self.state in ("failed", "refused")


@dataclass(frozen=True)
class Performing:
    """What performing a pushed range needs: the API, the run's trust in policy states, the
    range, the targets' secrets, and how to publish a record before acting (None: do not)."""

    github: GitHub
    trust: PolicyTrust
    root: Path
    before: str | None
    after: str
    environ: Mapping[str, str]
    now: datetime
    dry_run: bool = False
    publish: Callable[[], None] | None = None
    # claim an action request id on origin before performing it: True for the one run that
    # does (None: no origin to race with)
    claim: Callable[[str], bool] | None = None


def landed_actions(root: Path, before: str | None, after: str) -> list[tuple[str, str]]:
    """(path, landing commit) of each action request file the range added, oldest first."""
    since = before if before and before != ZERO_SHA else None
    added = git.added_paths(root, after, [ACTIONS_DIR], since=since)
    if not added:
        return []
    landed = git.landings(root, after, [ACTIONS_DIR], wanted=sorted(added))
    found = [(path, landing.commit) for path, landing in landed.items() if path in added]
    order = {c: i for i, c in enumerate(git.first_parent_order(root, after, {c for _, c in found}))}
    return sorted(found, key=lambda item: (order[item[1]], item[0]))


def perform_actions(performing: Performing) -> list[ActionOutcome]:
    """Perform each action request the range landed, once; what became of each."""
    root = performing.root
    landed = landed_actions(root, performing.before, performing.after)
    if not landed:
        return []
    recorded = action_record.recorded_ids(root)
    since = performing.before if performing.before not in (None, ZERO_SHA) else None
    earlier = (
        {PurePosixPath(p).stem for p in git.added_paths(root, since, [ACTIONS_DIR])}
        if since
        else set()
    )
    outcomes = []
    for path, commit in landed:
        outcomes.append(_one(performing, path, commit, recorded, earlier))
    return outcomes


def _one(
    performing: Performing, path: str, commit: str, recorded: Mapping[str, str], earlier: set[str]
) -> ActionOutcome:
    root = performing.root
    try:
        raw = git.show(root, commit, path)
    except JitopsError as exc:
        return ActionOutcome(path, None, "refused", f"cannot be read: {exc.message}")
    loaded = parse_action(raw, path)
    if not isinstance(loaded, ActionFile):
        problems = "; ".join(f.text for f in loaded)
        return ActionOutcome(path, None, "refused", f"not a valid action request: {problems}")
    request = loaded.request
    if request.id in recorded:
        return ActionOutcome(
            path, request, "already performed", f"a run recorded it ({recorded[request.id]})"
        )
    if request.id in earlier:
        return ActionOutcome(
            path, request, "refused", f"id {request.id!r} was used by an earlier action request"
        )
    try:
        verified = _verify(performing, path, commit, raw, request)
    except JitopsError as exc:
        return ActionOutcome(path, request, "refused", f"could not verify: {exc.message}")
    number, problem, rule_limits = verified
    if problem is not None:
        return ActionOutcome(path, request, "refused", problem, number)
    if performing.dry_run:
        return ActionOutcome(path, request, "would perform", "verified", number)
    blob = git.run(root, ["rev-parse", f"{commit}:{path}"]).stdout.strip()
    try:
        claimed = performing.claim is None or performing.claim(request.id)
    except JitopsError as exc:
        return ActionOutcome(
            path, request, "failed", f"could not be claimed, so it was not performed: "
            f"{exc.message} — rerun apply", number
        )  # fmt: skip
    if not claimed:
        return ActionOutcome(
            path, request, "already performed", "another run claimed it first", number
        )
    approval = {
        "approved": rule_limits["approved"],
        "approvers": rule_limits["approvers"],
        "pull_request": number,
    }
    start = action_record.ActionStep(request.id, path, blob, "started", performing.now, approval)
    try:
        action_record.record(root, commit, start)
        if performing.publish is not None:
            performing.publish()
    except JitopsError as exc:
        return ActionOutcome(
            path, request, "failed", f"its start could not be recorded, so it was not "
            f"performed: {exc.message} — rerun apply", number
        )  # fmt: skip
    result = _run_on_target(performing, request, rule_limits)
    state = "performed" if result.succeeded else "failed"
    details = {
        **approval,
        "digest": result.digest,
        "identity": result.identity,
        "rows_affected": result.rows_affected,
        "started_at": result.started_at.isoformat(),
        "finished_at": result.finished_at.isoformat(),
        "error": result.error,
    }
    # on the run's clock, as `started` is: its outcome never reads as older than its start
    finished = performing.now + (result.finished_at - result.started_at)
    try:
        action_record.record(
            root, commit, action_record.ActionStep(request.id, path, blob, state, finished, details)
        )
        if performing.publish is not None:
            performing.publish()
    except JitopsError:
        pass  # `started` is on record: it is never performed again; the outcome is said here
    detail = f"{result.rows_affected} row(s) affected" if result.succeeded else (result.error or "")
    return ActionOutcome(path, request, state, detail, number, result)


def _verify(
    performing: Performing, path: str, commit: str, raw: bytes, request: ActionRequest
) -> tuple[int | None, str | None, dict[str, Any]]:
    """(its pull request, why it may not be performed or None, the limits to run it with)."""
    github, trust, root = performing.github, performing.trust, performing.root
    history = trust.history(git.resolve(root, performing.after) or performing.after)
    landing = landed_by(github, root, commit, trust.default_branch, history)
    pr, base = landing.pull_request, landing.base
    number = pr.number if pr else None
    if pr is None or base is None or landing.problem is not None:
        return number, landing.problem or "no merged pull request landed it", {}
    untrusted = trust.state_at(base).problem
    if untrusted is not None:
        return number, untrusted, {}
    policies = trust.policies_at(base)
    if policies.policy_set is None:
        return number, "the policies before its merge do not load", {}
    files = github.changed_files(pr.number)
    files = with_modes(github, partial(git.modes_at, root), pr.head_sha, files)
    classification = classify(files)
    if (
        classification.kind is not ChangeKind.ACTION_REQUEST
        or path not in classification.action_paths
    ):
        return number, "its pull request is not one adding action requests only", {}
    if github.file_at(pr.head_sha, path) != raw:
        return number, "what landed is not the file its pull request's head holds", {}
    gathered = gather(
        github, number=pr.number, author=pr.author, head_sha=pr.head_sha, files=files,
        policy_set=policies.policy_set, requests=[], policy_change=False, actions=[request],
    )  # fmt: skip
    used_before = {PurePosixPath(p).stem for p in git.added_paths(root, base, [ACTIONS_DIR])}
    result = evaluate(
        gathered.facts,
        policies.policy_set,
        [],
        performing.now,
        requester_teams=gathered.requester_teams,
        actions=[ParsedAction(path, request)],
        known_action_ids=frozenset(used_before),
    )
    decision = next((d for d in result.decisions if d.request_id == request.id), None)
    if not result.allowed or decision is None or not decision.allowed:
        return number, f"its approval does not hold: {result.summary}", {}
    offered = policies.policy_set.action_for(request.target, request.action)
    target = policies.policy_set.targets.get(request.target)
    if offered is None or target is None:
        return number, "its policy no longer offers it", {}
    approved = [c.detail for c in decision.checks if c.rule == "approval"]
    limits = {"rule": offered[1], "target": target, "approved": approved}
    return number, None, {**limits, "approvers": list(decision.approvers)}


def _run_on_target(
    performing: Performing, request: ActionRequest, limits: Mapping[str, Any]
) -> ActionResult:
    rule, target = limits["rule"], limits["target"]
    run_kwargs: dict[str, Any] = {}
    if rule.sql is not None:
        review = review_sql(request.sql or "", rule.sql)
        run_kwargs = {
            "statements": tuple(s.text for s in review.statements),
            "read_only": rule.sql.read_only,
            "timeout": rule.sql.statement_timeout,
            "max_rows_returned": rule.sql.max_rows_returned,
            "max_rows_affected": rule.sql.max_rows_affected,
        }
    elif rule.command is not None:
        run_kwargs = {"params": dict(request.params or {}), "timeout": rule.command.timeout}
    run = ActionRun(request.id, request.requester, request.target, request.action, **run_kwargs)
    started = datetime.now(UTC)
    try:
        return create(target_config(target), performing.environ).perform(run)
    except JitopsError as exc:
        return ActionResult(False, "", started, datetime.now(UTC), error=exc.message)
