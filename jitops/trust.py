"""Which states of the default branch's policies may be acted on: invariant 1, enforced where a
status cannot be forged.

Everything outside ``requests/`` and ``actions/`` — policies and targets, CODEOWNERS,
workflows, jitops itself — is a policy. A writer can merge a change to it on a forged status,
or push one directly; what must not follow is a grant judged by it, or a target command
from it run with the target's secrets. ``PolicyTrust`` re-verifies, through the API, the pull
request behind every change since a verified state; ``apply``, ``sweep`` and ``reconcile`` act
only through the targets of the newest verified state.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from jitops import __version__, evidence, git
from jitops.actions_context import ActionsContext
from jitops.gate import ChangeKind, evaluate
from jitops.github import GitHub, PullRequestInfo
from jitops.pr_facts import gather
from jitops.repo import PolicyLoad, load_policies_at


@dataclass(frozen=True)
class Landed:
    """The merged pull request that put a commit on the default branch, the commit its
    policies come from (the branch just before the merge), or why none can be trusted."""

    pull_request: PullRequestInfo | None
    base: str | None
    problem: str | None = None


def landed_by(
    github: GitHub,
    root: Path,
    commit: str,
    default_branch: str,
    history: git.BranchHistory | None = None,
) -> Landed:
    """Which merged pull request landed ``commit``, as GitHub merges: its merge or squash
    commit, or one of the commits a rebase merge replayed onto the branch. Its policies are
    those just before that merge: for a rebase, before the first replayed commit.

    A rebase's replayed commits are told from a squash's earlier history by GitHub's own
    word, never by their content (anyone can make commits with any trees): each of the
    pull request's commit count of first-parent commits ending at its ``merge_commit_sha``
    must be one GitHub lists as introduced by that pull request. ``history`` (the run's read
    of the branch) answers the git questions it can.
    """
    parents_of = history.parents if history is not None else partial(git.parents, root)
    merged = [pr for pr in github.pulls_for_commit(commit) if pr.merged and pr.merge_commit_sha]
    pr = next((p for p in merged if p.merge_commit_sha == commit), None)
    if pr is not None:
        parents = parents_of(commit)
        if not parents:
            return Landed(pr, None, "its merge commit has no parent to take policies from")
        if len(parents) != 1 or github.commit_count(pr.number) == 1:
            return Landed(pr, parents[0], landing_problem(pr, parents, default_branch))
        rebased = _replayed(github, root, pr)
        if rebased is None:  # a squash merge: the branch just before it
            return Landed(pr, parents[0], landing_problem(pr, parents, default_branch))
        return _rebase_landing(parents_of, pr, rebased, default_branch)
    for candidate in merged:
        rebased = _replayed(github, root, candidate)
        if rebased is not None and commit in rebased:
            return _rebase_landing(parents_of, candidate, rebased, default_branch)
    return Landed(None, None, "it reached the branch without a merged pull request")


def _replayed(github: GitHub, root: Path, pr: PullRequestInfo) -> list[str] | None:
    """The commits a rebase merge of ``pr`` replayed, newest first, or None when the
    first-parent commits ending at its merge are not all ones GitHub says it introduced."""
    assert pr.merge_commit_sha is not None
    chain = git.first_parent_chain(root, pr.merge_commit_sha, github.commit_count(pr.number))
    for sha in chain:
        introduced = [p.number for p in github.pulls_for_commit(sha) if p.merged]
        if introduced != [pr.number]:
            return None
    return chain


def _rebase_landing(
    parents_of: Callable[[str], list[str]],
    pr: PullRequestInfo,
    rebased: list[str],
    default_branch: str,
) -> Landed:
    parents = [parents_of(sha) for sha in rebased]
    if any(len(found) != 1 for found in parents):
        return Landed(pr, None, f"pull request #{pr.number} is no rebase merge GitHub made")
    return Landed(pr, parents[-1][0], landing_problem(pr, parents[-1], default_branch))


def landing_problem(pr: PullRequestInfo, parents: Sequence[str], default_branch: str) -> str | None:
    """Why ``pr`` did not land its merge commit on the default branch as GitHub merges do.

    A grant lands only from a pull request into the default branch, merged as GitHub creates
    merges there: a merge commit whose parents are the branch as it was and the reviewed head,
    or a squash commit with the branch as its one parent. The policies it is judged by are
    those of that first parent — the branch just before the merge.
    """
    if pr.base_ref != default_branch:
        return (
            f"pull request #{pr.number} was merged into {pr.base_ref!r}, not the default "
            f"branch {default_branch!r}: only a merge into the default branch grants — "
            "open the request against the default branch"
        )
    if len(parents) == 2 and parents[1] != pr.head_sha:
        return (
            f"its merge commit does not merge the reviewed head of #{pr.number} "
            f"({pr.head_sha[:12]})"
        )
    if len(parents) not in (1, 2):
        return f"its commit has {len(parents)} parents; GitHub's merges have one or two"
    return None


APPLY_WORKFLOW = ".github/workflows/jitops-apply.yml"
APPLY_WORKFLOW_FILE = APPLY_WORKFLOW.rsplit("/", 1)[-1]
# The top-level folders whose changes are no policy changes: access and action requests, each
# judged by the policies of the state before them.
POLICY_FREE = ("requests", "actions")


@dataclass(frozen=True)
class PolicyState:
    """Whether the policies at a commit may be judged by, and the newest state that may."""

    trusted_commit: str  # the newest first-parent commit whose policy state is verified
    problem: str | None  # None: the state asked about is verified itself


class PolicyTrust:
    """Which states of everything outside ``requests/`` (policies, CODEOWNERS, workflows,
    jitops itself) apply may judge by: invariant 1, enforced where a status cannot be forged.

    A state is verified when it is the state at installation (the first commit of the branch
    holding the apply workflow, or the branch's first commit), or when the first-parent commit
    that made it was the merge of a pull request into the default branch whose reviews satisfy
    the ``PolicyChangeRule`` of a verified state just before it, checked through the API. A
    state identical to a verified one (a revert) is verified too. Anything else — a direct
    push, a merge on a forged status — taints every later state until it is approved or
    reverted. Each policy commit is checked at most once per run.
    """

    def __init__(
        self, github: GitHub, root: Path, default_branch: str, now: datetime, *, record: bool
    ) -> None:
        self.github = github
        self.root = root
        self.default_branch = default_branch
        self.now = now
        self.record = record
        self._checked: dict[str, str | None] = {}
        self._fingerprints: dict[str, str] = {}
        self._policies: dict[str, PolicyLoad] = {}
        self._installed: str | None = None
        self._completed: str | None = None  # see ``completed``
        self._completed_read = False
        self._history: git.BranchHistory | None = None

    def history(self, head: str) -> git.BranchHistory:
        """The run's one read of ``head``'s first-parent history from where its policy walk
        starts (see ``_start``): every landing a run judges, and its base, are in it."""
        if self._history is None or self._history.head != head:
            self._history = git.BranchHistory(self.root, head, self._start(head))
        return self._history

    def _is_ancestor(self, ancestor: str, descendant: str) -> bool:
        if self._history is not None:
            return self._history.is_ancestor(ancestor, descendant)
        return git.is_ancestor(self.root, ancestor, descendant)

    def policies_at(self, commit: str) -> PolicyLoad:
        """The policies at ``commit``, loaded once per distinct state of them in a run."""
        fingerprint = self._fingerprint(commit)
        if fingerprint not in self._policies:
            self._policies[fingerprint] = load_policies_at(self.root, commit)
        return self._policies[fingerprint]

    def _fingerprint(self, commit: str) -> str:
        if commit not in self._fingerprints:
            # a commit that changed nothing outside requests/ has its first parent's state
            same = self._history.same_outside(POLICY_FREE, commit) if self._history else None
            anchor = same or commit
            if anchor not in self._fingerprints:
                self._fingerprints[anchor] = git.tree_outside(self.root, anchor, POLICY_FREE)
            self._fingerprints[commit] = self._fingerprints[anchor]
        return self._fingerprints[commit]

    def install_commit(self, commit: str) -> str:
        """The installation commit of ``commit``'s history (found once per run: every commit
        apply asks about descends from it)."""
        if self._installed is None or not self._is_ancestor(self._installed, commit):
            self._installed = installation_commit(self.root, commit)
        return self._installed

    def completed(self, head: str) -> str | None:
        """The newest commit of ``head``'s history that a successful run of the apply workflow
        on the default branch completed, running the same workflow file as ``head`` (read once
        from the Actions API, which no writer can forge).

        The workflow a run executes is the file of the commit it runs on: a writer who replaced
        it with one that always succeeds would otherwise leave "successful" runs that moved the
        start past what the real apply never saw. A run of the same workflow ran this apply,
        which exits 0 only when the policy state it ran at is verified: the policy walk starts
        there too, so its cost follows what is new. (What runs in the apply job of the default
        branch is trusted with the targets' secrets anyway: that workflow is itself a policy.)
        """
        if not self._completed_read:
            self._completed_read = True
            root = self.root
            running = git.read_blobs(root, [f"{head}:{APPLY_WORKFLOW}"]).get(
                f"{head}:{APPLY_WORKFLOW}"
            )
            for sha in self.github.completed_runs(APPLY_WORKFLOW_FILE, self.default_branch):
                if git.resolve(root, sha) is None or not git.is_ancestor(root, sha, head):
                    continue
                ran = git.read_blobs(root, [f"{sha}:{APPLY_WORKFLOW}"]).get(
                    f"{sha}:{APPLY_WORKFLOW}"
                )
                if ran is not None and ran == running:
                    self._completed = sha
                    break
        return self._completed

    def _start(self, commit: str) -> str:
        """Where the walk to ``commit`` starts: the last completed run's commit when it is in
        ``commit``'s history, else the installation."""
        completed = self._completed
        if completed is not None and self._is_ancestor(completed, commit):
            return completed
        return self.install_commit(commit)

    def state_at(self, commit: str) -> PolicyState:
        root = self.root
        start = self._start(commit)
        trusted = {self._fingerprint(start)}
        last_trusted: str = start
        culprit: tuple[str, str] | None = None
        history = self._history
        changes = (
            history.changing_outside(POLICY_FREE, commit)
            if history is not None and history.since == start
            else None
        )
        if changes is None:
            changes = git.first_parent_commits_changing(
                root, commit, excluding=POLICY_FREE, since=start
            )
        for change in changes:
            if self._fingerprint(change) in trusted:
                last_trusted, culprit = change, None  # back to a verified state
                continue
            if culprit is None:
                why = self._check(change)
                if why is None:
                    trusted.add(self._fingerprint(change))
                    last_trusted = change
                    continue
                culprit = (change, why)
        if culprit is None:
            return PolicyState(last_trusted, None)
        change, why = culprit
        return PolicyState(
            last_trusted,
            f"the policies it would be judged by are not verified: {change[:12]} changed "
            f"files outside requests/ and actions/, and {why} — have that pull request "
            "approved as the PolicyChangeRule asks (a review after the merge counts), or "
            "revert the change with a pull request",
        )

    def _check(self, commit: str) -> str | None:
        if commit not in self._checked:
            self._checked[commit] = self._verify(commit)
        return self._checked[commit]

    def _verify(self, commit: str) -> str | None:
        github, root = self.github, self.root
        landed = landed_by(github, root, commit, self.default_branch, self._history)
        pr = landed.pull_request
        if landed.problem is not None or pr is None or landed.base is None:
            return landed.problem or "reached the branch without a merged pull request"
        base = landed.base
        policies = self.policies_at(base)
        if policies.policy_set is None:
            return f"the policies before it (at {base[:12]}) cannot be loaded"
        gathered = gather(
            github,
            number=pr.number,
            author=pr.author,
            head_sha=pr.head_sha,
            files=github.changed_files(pr.number),
            policy_set=policies.policy_set,
            requests=[],
            policy_change=True,
        )
        result = evaluate(gathered.facts, policies.policy_set, [], self.now)
        if result.classification.kind is not ChangeKind.POLICY_CHANGE:
            return (
                f"its pull request #{pr.number} reads as {result.classification.kind.value}, "
                "not as the policy change git shows"
            )
        if not result.allowed:
            return f"pull request #{pr.number} was not approved: {result.summary}"
        if self.record:
            evidence.record(
                root,
                commit,
                evidence.ApprovalEvidence(
                    pull_request=pr.number,
                    head_sha=pr.head_sha,
                    policy_commit=base,
                    verified_at=self.now,
                    verified_by=f"jitops {__version__}",
                    verdict="allowed",
                    summary=result.summary,
                ),
            )
        return None


def installation_commit(root: Path, commit: str) -> str:
    """The first commit of ``commit``'s history holding the apply workflow (or its root): the
    policy state trusted without asking GitHub, since jitops was installed on it."""
    return git.first_commit_with(root, commit, APPLY_WORKFLOW) or git.root_commit(root, commit)


def verified_targets(
    trust: PolicyTrust, head: str, targets: Mapping[str, Any]
) -> tuple[Mapping[str, Any], str | None]:
    """The targets to act through at ``head``: ``targets`` (those of the work tree) when the
    policy state there is verified, else those of the newest verified state, with the reason."""
    state = trust.state_at(git.resolve(trust.root, head) or head)
    if state.problem is None:
        return targets, None
    trusted = load_policies_at(trust.root, state.trusted_commit).policy_set
    problem = state.problem.replace("the policies it would be judged by", "the branch's policies")
    return (trusted.targets if trusted is not None else {}), problem


@dataclass(frozen=True)
class GitHubAccess:
    """Where to re-verify the policy state: a token for the repository's API."""

    token: str
    repository: str
    api_url: str

    @classmethod
    def from_context(cls, actions: ActionsContext) -> GitHubAccess | None:
        """The run's token and repository (as Actions sets them), or None without them."""
        if not actions.token or not actions.repository:
            return None
        return cls(actions.token, actions.repository, actions.api_url)


def acting_targets(
    root: Path,
    targets: Mapping[str, Any],
    access: GitHubAccess | None,
    now: datetime,
    ref: str = "HEAD",
) -> tuple[Mapping[str, Any], str | None]:
    """The targets a sweep or reconcile may run provisioners of, with their secrets: those of
    ``ref`` when its policy state is verified through ``access``, else the newest verified
    state's, with why. Without ``access`` (a person's own run, with their own credentials),
    the checked-out ones."""
    if access is None:
        return targets, None
    trust, head = reading_trust(root, access, now, ref)
    return verified_targets(trust, head, targets)


def reading_trust(
    root: Path, access: GitHubAccess, now: datetime, ref: str = "HEAD"
) -> tuple[PolicyTrust, str]:
    """A ``PolicyTrust`` that records nothing, its walk starting at the last completed apply
    run, and ``ref`` resolved: what a sweep or reconcile asks before acting through targets."""
    github = GitHub(access.token, repository=access.repository, api_url=access.api_url)
    trust = PolicyTrust(
        github, root, github.repository_settings().default_branch, now, record=False
    )
    head = git.resolve(root, ref) or ref
    trust.completed(head)
    return trust, head
