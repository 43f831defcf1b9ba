"""The facts about a pull request that the gate judges, gathered through the API in one place.

``jitops check-pr`` gathers them before a merge and ``jitops apply`` again after it (for the
requests it grants, and for the policy changes it verifies): the same calls and the same
reading, so what apply re-verifies is exactly what the check judged. Which team memberships are
looked up follows from the policies: only the teams a decision may need, each person once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace

from jitops import request_files
from jitops.gate import ChangedFile, FileStatus, PullRequestFacts
from jitops.github import MAX_LISTED_COMMITS, MAX_LISTED_FILES, GitHub
from jitops.models import AccessRequest, ActionRequest, is_team, login_key
from jitops.policy import PolicySet, Review, ReviewState


@dataclass(frozen=True)
class GatheredFacts:
    """What the gate's ``evaluate`` takes about a pull request besides its requests."""

    facts: PullRequestFacts
    requester_teams: dict[str, frozenset[str]] = field(default_factory=dict)


def _incomplete(files: int, commits: int) -> tuple[str, ...]:
    """Why lists GitHub may have cut short cannot be judged: past its caps a mixed pull
    request could read as a plain removal, or an approver's own commit could hide."""
    found = []
    if files >= MAX_LISTED_FILES:
        found.append(
            f"GitHub lists at most {MAX_LISTED_FILES:,} files of a pull request and this one "
            "reaches that: what it changes cannot be known in full — split it into smaller "
            "pull requests"
        )
    if commits >= MAX_LISTED_COMMITS:
        found.append(
            f"GitHub lists at most {MAX_LISTED_COMMITS} commits of a pull request and this one "
            "reaches that: who made its commits cannot be checked — squash or split it"
        )
    return tuple(found)


UNATTRIBUTED_SHOWN = 5  # commits named in the reason; the rest are counted


def _unattributed(shas: Sequence[str]) -> tuple[str, ...]:
    """Why commits GitHub maps to no account cannot be judged: approvals are counted only
    from people who made none of the pull request's commits, and the person behind an email
    GitHub does not know could be the approver."""
    if not shas:
        return ()
    named = ", ".join(sha[:7] for sha in shas[:UNATTRIBUTED_SHOWN])
    more = len(shas) - UNATTRIBUTED_SHOWN
    listed = named + (f" and {more} more" if more > 0 else "")
    which = "commit" if len(shas) == 1 else "commits"
    it = "it" if len(shas) == 1 else "them"
    return (
        f"{which} {listed}: GitHub links the author or committer email to no GitHub account, "
        f"so whoever made {it} cannot be kept from approving — commit with an email that "
        "belongs to your GitHub account (or add and verify that email in your GitHub "
        "settings) and push again",
    )


LocalModes = Callable[[str, Sequence[str]], dict[str, str] | None]


def with_modes(
    github: GitHub, local: LocalModes, head_sha: str, files: Sequence[ChangedFile]
) -> tuple[ChangedFile, ...]:
    """``files`` with git's mode at the head for those added or changed under ``requests/``
    (GitHub's files list has none): read by ``local`` (as ``git.modes_at``: None when the
    local repository does not have the head), else from the head's tree through the API. A
    link is no request file, however its link text reads."""
    paths = [
        f.path
        for f in files
        if request_files.under_requests(f.path) and f.status is not FileStatus.REMOVED
    ]
    if not paths:
        return tuple(files)
    modes = local(head_sha, paths)  # None: no such commit, or no repository
    if modes is None:
        modes = github.modes_at(head_sha, paths)
    return tuple(replace(f, mode=modes.get(f.path, f.mode)) for f in files)


def _teams_named(principals: Iterable[str]) -> set[str]:
    return {login_key(p) for p in principals if is_team(p)}


def relevant_teams(
    policy_set: PolicySet,
    requests: Iterable[AccessRequest],
    policy_change: bool,
    actions: Iterable[ActionRequest] = (),
) -> tuple[set[str], set[str], set[str]]:
    """(approver teams, requester teams, request-for-others teams) the decision may need."""
    approvers: set[str] = set()
    requesters: set[str] = set()
    others: set[str] = set()
    if policy_change and policy_set.policy_change_rule is not None:
        for rule in policy_set.policy_change_rule.approvals:
            approvers |= _teams_named(rule.from_)
    for request in requests:
        found = policy_set.rule_for(request.target, request.role)
        if found is None:
            continue
        policy, role = found
        requesters |= _teams_named(policy.requesters)
        others |= _teams_named(policy.request_for_others)
        for rule in role.approvals:
            approvers |= _teams_named(rule.from_)
    for action in actions:
        offered = policy_set.action_for(action.target, action.action)
        if offered is None:
            continue
        policy, action_rule = offered
        requesters |= _teams_named(policy.requesters)
        for rule in action_rule.approvals:
            approvers |= _teams_named(rule.from_)
    return approvers, requesters, others


def with_teams(github: GitHub, reviews: Iterable[Review], teams: set[str]) -> tuple[Review, ...]:
    """``reviews`` with each decisive reviewer's active memberships of ``teams``."""
    decisive_reviewers = {
        login_key(r.reviewer) for r in reviews if r.state is not ReviewState.COMMENTED
    }
    result = []
    for review in reviews:
        member_of = (
            github.active_teams(review.reviewer, sorted(teams))
            if login_key(review.reviewer) in decisive_reviewers and teams
            else frozenset()
        )
        result.append(replace(review, teams=member_of))
    return tuple(result)


def gather(
    github: GitHub,
    *,
    number: int,
    author: str,
    head_sha: str,
    files: Sequence[ChangedFile],
    policy_set: PolicySet | None,
    requests: Sequence[AccessRequest],
    policy_change: bool,
    actions: Sequence[ActionRequest] = (),
) -> GatheredFacts:
    """Reviews, commit people and the team memberships the decision may need (none when
    the policies could not be loaded: nothing is judged then)."""
    reviews = github.reviews(number)
    commit_people = github.commit_people(number)
    incomplete = _incomplete(len(files), commit_people.listed) + _unattributed(
        commit_people.unattributed
    )
    requester_teams: dict[str, frozenset[str]] = {}
    author_teams: frozenset[str] = frozenset()
    if policy_set is not None:
        approver_teams, requester_team_names, other_teams = relevant_teams(
            policy_set, requests, policy_change, actions
        )
        reviews = with_teams(github, reviews, approver_teams)
        requesters: list[AccessRequest | ActionRequest] = [*requests, *actions]
        for request in requesters:
            key = login_key(request.requester)
            if key not in requester_teams:
                requester_teams[key] = github.active_teams(request.requester, requester_team_names)
        if any(login_key(r.requester) != login_key(author) for r in requests):
            author_teams = github.active_teams(author, other_teams)
    facts = PullRequestFacts(
        number=number,
        author=author,
        head_sha=head_sha,
        files=tuple(files),
        reviews=reviews,
        commit_authors=commit_people.logins,
        author_teams=author_teams,
        incomplete=incomplete,
    )
    return GatheredFacts(facts, requester_teams)
