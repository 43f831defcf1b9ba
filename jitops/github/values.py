"""The frozen values GitHub's answers become (callers never see a PyGithub object): pull requests
and their commits' people, pull requests jitops opened, issues, repository settings, the checks
and reviews branch rules require, and the branches an Environment deploys from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jitops.github.errors import GitHubError


@dataclass(frozen=True)
class RepositorySettings:
    """What ``GET /repos/{owner}/{repo}`` says about the settings jitops relies on."""

    default_branch: str
    # None: not shown. GitHub shows merge settings only to a token that can write contents.
    allow_auto_merge: bool | None


@dataclass(frozen=True)
class RequiredChecks:
    """Which status checks one source of branch rules requires before a merge into a branch:
    its classic branch protection, or the active rulesets that apply to it."""

    branch: str
    # False: nothing from this source applies to the branch at all (no branch protection; no
    # active ruleset rule)
    protected: bool
    contexts: frozenset[str] = frozenset()
    reviews: ReviewRules | None = None  # its review settings, if it has any

    def requires(self, context: str) -> bool:
        return context in self.contexts


@dataclass(frozen=True)
class ReviewRules:
    """The review settings GitHub enforces on a merge (classic protection's
    ``required_pull_request_reviews``, or a ruleset's ``pull_request`` rules, combined)."""

    approvals: int = 0
    code_owners: bool = False
    dismiss_stale: bool = False
    last_push: bool = False

    def combined(self, other: ReviewRules | None) -> ReviewRules:
        """Both enforced at once, as GitHub enforces every source."""
        if other is None:
            return self
        return ReviewRules(
            max(self.approvals, other.approvals),
            self.code_owners or other.code_owners,
            self.dismiss_stale or other.dismiss_stale,
            self.last_push or other.last_push,
        )


# GitHub's pull-request lists stop here, silently: "Responses include a maximum of 3000
# files"; "Lists a maximum of 250 commits for a pull request".
MAX_LISTED_FILES = 3000
MAX_LISTED_COMMITS = 250


@dataclass(frozen=True)
class EnvironmentBranches:
    """Which branches' jobs get an Environment's secrets."""

    name: str
    any_branch: bool = False  # no deployment branch policy: every branch
    protected_only: bool = False  # "Protected branches only"
    branches: tuple[str, ...] = ()  # custom branch policies (name patterns)


@dataclass(frozen=True)
class CommitPeople:
    """Who made a pull request's commits, as far as GitHub listed them."""

    logins: frozenset[str]  # lower case
    listed: int  # commits GitHub listed
    # Commits whose author or committer email GitHub maps to no account (``author: null``):
    # whoever made them cannot be kept from approving, so the gate cannot judge them.
    unattributed: tuple[str, ...] = ()  # full shas, in the order GitHub listed them


@dataclass(frozen=True)
class PullRequestInfo:
    number: int
    author: str
    author_is_bot: bool
    head_sha: str
    base_ref: str
    base_sha: str
    state: str
    merged: bool
    merge_commit_sha: str | None
    html_url: str


@dataclass(frozen=True)
class OpenedPull:
    number: int
    html_url: str
    created: bool  # False: an open pull request of the same branch was updated instead
    node_id: str = ""  # GraphQL's id of the pull request
    auto_merge: bool = False  # auto-merge was already requested on it


@dataclass(frozen=True)
class IssueInfo:
    number: int
    node_id: str  # GraphQL's id, to pin it
    body: str
    html_url: str
    labels: tuple[str, ...] = ()


def opened_pull(data: dict[str, Any], created: bool) -> OpenedPull:
    return OpenedPull(
        int(data["number"]),
        str(data.get("html_url", "")),
        created,
        node_id=str(data.get("node_id", "")),
        auto_merge=data.get("auto_merge") is not None,
    )


def issue_info(data: Any) -> IssueInfo:
    if not isinstance(data, dict) or not isinstance(data.get("number"), int):
        raise GitHubError("GitHub answered with something that is not an issue")
    return IssueInfo(
        number=data["number"],
        node_id=str(data.get("node_id", "")),
        body=str(data.get("body") or ""),
        html_url=str(data.get("html_url", "")),
        labels=tuple(
            str(label.get("name"))
            for label in data.get("labels") or []
            if isinstance(label, dict) and label.get("name")
        ),
    )


def pull_info(pr: Any) -> PullRequestInfo:
    return PullRequestInfo(
        number=pr.number,
        author=pr.user.login,
        author_is_bot=pr.user.type == "Bot",
        head_sha=pr.head.sha,
        base_ref=pr.base.ref,
        base_sha=pr.base.sha,
        state=pr.state,
        # merged_at is in every pull request GitHub lists (``pull-request-simple``); merged is
        # not, and reading it would cost one more call per pull request
        merged=pr.merged_at is not None,
        merge_commit_sha=pr.merge_commit_sha,
        html_url=pr.html_url,
    )
