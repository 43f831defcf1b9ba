"""What the test server knows besides git: users, tokens, orgs, teams, pull requests, reviews...

Each record is a frozen dataclass; ``State`` holds them and replaces a record to change it.
All access goes through one lock, since the HTTP server answers on many threads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

PERMISSIONS = ("none", "read", "triage", "write", "maintain", "admin")


def utcnow() -> datetime:
    """The current time, UTC, to the second (GitHub's timestamps have no fraction)."""
    return datetime.now(UTC).replace(microsecond=0)


@dataclass(frozen=True)
class User:
    id: int
    login: str
    name: str
    email: str
    type: str = "User"  # or "Organization"
    created_at: datetime = field(default_factory=utcnow)


@dataclass(frozen=True)
class Team:
    id: int
    org: str
    slug: str
    name: str
    description: str | None = None
    created_at: datetime = field(default_factory=utcnow)


@dataclass(frozen=True)
class TeamMembership:
    team_id: int
    login: str
    role: str = "member"  # member | maintainer
    state: str = "active"  # active | pending (invited, not yet accepted)


@dataclass(frozen=True)
class BranchProtection:
    """The branch protection options jitops relies on GitHub to enforce (or not)."""

    required_status_checks: tuple[str, ...] = ()
    required_approving_review_count: int = 0
    require_code_owner_reviews: bool = False
    dismiss_stale_reviews: bool = False
    require_last_push_approval: bool = False  # shown, not enforced: pushers are not tracked


DEFAULT_BRANCH = "~DEFAULT_BRANCH"  # GitHub's name, in a ruleset, for the default branch
ALL_BRANCHES = "~ALL"


@dataclass(frozen=True)
class Ruleset:
    """An active branch ruleset of one repository, as far as jitops relies on one: the
    branches it applies to (names, or ``~DEFAULT_BRANCH`` / ``~ALL`` as GitHub spells them)
    the status checks it requires before a merge, and its ``pull_request`` rule (review
    settings enforced on merge like branch protection's; None: no such rule)."""

    id: int
    repo_id: int
    name: str
    branches: tuple[str, ...] = (DEFAULT_BRANCH,)
    required_status_checks: tuple[str, ...] = ()
    reviews: BranchProtection | None = None

    def applies_to(self, branch: str, default_branch: str) -> bool:
        return any(
            pattern in (branch, ALL_BRANCHES)
            or (pattern == DEFAULT_BRANCH and branch == default_branch)
            for pattern in self.branches
        )


@dataclass(frozen=True)
class Repository:
    id: int
    owner: str
    name: str
    path: Path  # the bare git repository
    default_branch: str = "main"
    private: bool = False
    description: str | None = None
    created_at: datetime = field(default_factory=utcnow)
    allow_auto_merge: bool = False  # GitHub's default: off until an admin allows it

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass(frozen=True)
class Label:
    id: int
    name: str
    color: str = "ededed"
    description: str | None = None


@dataclass(frozen=True)
class AutoMerge:
    """Auto-merge requested on a pull request: GitHub merges it, as ``enabled_by``, once
    branch protection is satisfied."""

    enabled_by: str
    merge_method: str  # merge | squash
    commit_title: str
    commit_message: str
    enabled_at: datetime = field(default_factory=utcnow)


@dataclass(frozen=True)
class PullRequest:
    id: int
    repo_id: int
    number: int
    title: str
    body: str | None
    user: str
    head_ref: str
    base_ref: str
    head_sha: str
    base_sha: str
    state: str = "open"  # open | closed
    draft: bool = False
    merged: bool = False
    merged_at: datetime | None = None
    merged_by: str | None = None
    merge_commit_sha: str | None = None
    rebased: tuple[str, ...] = ()  # a rebase merge's new commits, oldest first
    closed_at: datetime | None = None
    labels: tuple[Label, ...] = ()
    auto_merge: AutoMerge | None = None
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)


@dataclass(frozen=True)
class Issue:
    """A plain issue; it shares its number sequence with the repository's pull requests."""

    id: int
    repo_id: int
    number: int
    title: str
    body: str | None
    user: str
    state: str = "open"  # open | closed
    state_reason: str | None = None  # completed | not_planned | duplicate | reopened
    labels: tuple[Label, ...] = ()
    pinned: bool = False
    closed_by: str | None = None
    closed_at: datetime | None = None
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)


@dataclass(frozen=True)
class Review:
    id: int
    repo_id: int
    number: int
    user: str
    body: str
    state: str  # APPROVED | CHANGES_REQUESTED | COMMENTED | DISMISSED
    commit_id: str
    submitted_at: datetime = field(default_factory=utcnow)


@dataclass(frozen=True)
class IssueComment:
    id: int
    repo_id: int
    number: int
    user: str
    body: str
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)


@dataclass(frozen=True)
class CommitStatus:
    id: int
    repo_id: int
    sha: str
    state: str  # error | failure | pending | success
    context: str
    creator: str
    description: str | None = None
    target_url: str | None = None
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)


@dataclass(frozen=True)
class CheckRun:
    id: int
    repo_id: int
    head_sha: str
    name: str
    status: str = "queued"  # queued | in_progress | completed
    conclusion: str | None = None
    details_url: str | None = None
    external_id: str | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    title: str | None = None
    summary: str | None = None
    text: str | None = None


@dataclass(frozen=True)
class WorkflowRun:
    """One run of a GitHub Actions workflow, as a test records it (nothing runs here)."""

    id: int
    repo_id: int
    path: str  # the workflow file, e.g. .github/workflows/jitops-apply.yml
    head_sha: str
    head_branch: str | None
    event: str  # push, schedule, workflow_dispatch, pull_request, ...
    actor: str
    run_number: int
    status: str = "completed"  # queued | in_progress | completed
    conclusion: str | None = "success"  # success | failure | cancelled | ... (None: running)
    head_repo_id: int | None = None  # None: the repository itself; else a fork's id
    created_at: datetime = field(default_factory=utcnow)


@dataclass(frozen=True)
class Environment:
    """A GitHub Actions Environment: which branches may deploy to it, and so which jobs get
    its secrets. ``branches`` None: any branch; else only those (custom branch policies)."""

    id: int
    repo_id: int
    name: str
    branches: tuple[str, ...] | None = None
    protected_branches: bool = False  # "Protected branches only"
    created_at: datetime = field(default_factory=utcnow)


class State:
    """Every record the server holds, behind one re-entrant lock."""

    def __init__(self, clock: Callable[[], datetime] = utcnow) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self._next_id = 1000
        self.users: dict[str, User] = {}
        self.tokens: dict[str, str] = {}  # token -> login
        self.org_members: dict[str, set[str]] = {}
        self.org_owners: dict[str, set[str]] = {}
        self.teams: dict[tuple[str, str], Team] = {}
        self.memberships: dict[tuple[int, str], TeamMembership] = {}
        self.repos: dict[str, Repository] = {}  # full name -> repository
        self.collaborators: dict[tuple[int, str], str] = {}  # (repo id, login) -> permission
        self.protection: dict[tuple[int, str], BranchProtection] = {}
        self.rulesets: dict[int, Ruleset] = {}  # id -> ruleset
        self.pulls: dict[tuple[int, int], PullRequest] = {}
        self.issues: dict[tuple[int, int], Issue] = {}
        self.next_number: dict[int, int] = {}
        self.reviews: dict[int, Review] = {}
        self.comments: dict[int, IssueComment] = {}
        self.labels: dict[tuple[int, str], Label] = {}
        self.statuses: list[CommitStatus] = []
        self.check_runs: dict[int, CheckRun] = {}
        self.workflow_runs: dict[int, WorkflowRun] = {}
        self.environments: dict[tuple[int, str], Environment] = {}  # (repo id, name)
        self.repo_secrets: dict[tuple[int, str], datetime] = {}  # (repo id, name) -> set at

    def new_id(self) -> int:
        """A fresh id, unique across every kind of record."""
        with self.lock:
            self._next_id += 1
            return self._next_id

    def now(self) -> datetime:
        return self.clock()

    def canonical(self, login: str) -> str:
        """The login as the account spells it: GitHub matches logins (users, organisations,
        and so owners of repositories) without regard to case, and answers with its own
        spelling. ``login`` itself when no account has it."""
        with self.lock:
            if login in self.users:
                return login
            folded = login.casefold()
            return next((known for known in self.users if known.casefold() == folded), login)

    def full_name(self, full_name: str) -> str:
        """A repository's ``owner/name`` as it was created: both halves match any case."""
        with self.lock:
            if full_name in self.repos:
                return full_name
            folded = full_name.casefold()
            return next((known for known in self.repos if known.casefold() == folded), full_name)

    def repo_by_id(self, repo_id: int) -> Repository:
        with self.lock:
            return next(r for r in self.repos.values() if r.id == repo_id)

    def pulls_of(self, repo_id: int) -> list[PullRequest]:
        with self.lock:
            return sorted(
                (p for (rid, _), p in self.pulls.items() if rid == repo_id),
                key=lambda p: p.number,
            )

    def issues_of(self, repo_id: int) -> list[Issue]:
        with self.lock:
            return sorted(
                (i for (rid, _), i in self.issues.items() if rid == repo_id),
                key=lambda i: i.number,
            )

    def reviews_of(self, repo_id: int, number: int) -> list[Review]:
        with self.lock:
            return sorted(
                (r for r in self.reviews.values() if (r.repo_id, r.number) == (repo_id, number)),
                key=lambda r: r.id,
            )

    def team_members(self, team_id: int) -> list[TeamMembership]:
        with self.lock:
            return [m for (tid, _), m in sorted(self.memberships.items()) if tid == team_id]
