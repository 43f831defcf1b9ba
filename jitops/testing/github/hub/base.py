"""What every part of the test server's ``Hub`` shares: the error GitHub would answer with, the
records it hands out, and ``HubBase``, which declares for the type checker the attributes the
parts keep and the operations one part calls in another.

The parts (one mixin per module of this package) subclass ``HubBase``; ``Hub`` composes them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from jitops.testing.github.gitstore import GitStore, Identity
from jitops.testing.github.state import (
    BranchProtection,
    Issue,
    Label,
    PullRequest,
    Repository,
    State,
    Team,
    User,
)


class HubError(Exception):
    """An operation GitHub would refuse; ``status`` is the HTTP status it would answer with,
    ``errors`` the ``[{resource, field, code}]`` details GitHub gives a 422 "Validation
    Failed"."""

    def __init__(
        self, status: int, message: str, errors: list[dict[str, str]] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors


def validation_failed(**error: str) -> HubError:
    """GitHub's 422 for a request it understood but will not do, with the field at fault."""
    return HubError(422, "Validation Failed", [error])


@dataclass(frozen=True)
class Account:
    """A user and the token that authenticates as them."""

    user: User
    token: str

    @property
    def login(self) -> str:
        return self.user.login


@dataclass(frozen=True)
class EventRecord:
    """Something happened that GitHub would deliver a webhook for."""

    name: str  # pull_request | pull_request_review | push
    action: str | None
    repo_id: int
    sender: str
    number: int | None = None
    review_id: int | None = None
    ref: str | None = None
    before: str | None = None
    after: str | None = None


FileContent = str | bytes | None


class HubBase:
    """The state every part of the hub works on (set by ``Hub.__init__``)."""

    root: Path
    state: State
    event_sink: Callable[[EventRecord], None] | None

    if TYPE_CHECKING:
        # What one part calls in another, for the type checker; each is defined by the part
        # named above it, which Hub composes.

        # PeopleMixin (people.py)
        def user(self, login: str) -> User: ...
        def team(self, org: str, slug: str) -> Team: ...

        # RepositoriesMixin (repositories.py)
        def repo(self, full_name: str) -> Repository: ...
        def git(self, repo: Repository) -> GitStore: ...
        def can(self, repo: Repository, login: str, needed: str) -> bool: ...
        def protection(self, repo: Repository, branch: str) -> BranchProtection | None: ...
        def review_rules(self, repo: Repository, branch: str) -> BranchProtection | None: ...
        def is_governed(self, repo: Repository, branch: str) -> bool: ...
        def required_status_checks(self, repo: Repository, branch: str) -> tuple[str, ...]: ...

        # PushingMixin (pushing.py)
        def identity(self, login: str) -> Identity: ...
        def push(
            self,
            repo: Repository,
            branch: str,
            files: Mapping[str, FileContent],
            *,
            author: str,
            message: str = "Update files",
            base: str | None = None,
        ) -> str: ...
        def refs_changed(
            self, repo: Repository, pusher: str, changes: Sequence[tuple[str, str, str]]
        ) -> None: ...
        def write_pull_refs(self, repo: Repository, pr: PullRequest) -> str | None: ...
        def _emit(self, record: EventRecord) -> None: ...

        # PullRequestsMixin (pull_requests.py)
        def pull(self, repo: Repository, number: int) -> PullRequest: ...
        def mergeable(self, repo: Repository, pr: PullRequest) -> bool: ...
        def blockers(self, repo: Repository, pr: PullRequest) -> list[str]: ...
        def merge(
            self,
            repo: Repository,
            number: int,
            *,
            user: str,
            method: str = "merge",
            sha: str | None = None,
            commit_title: str | None = None,
            commit_message: str | None = None,
        ) -> PullRequest: ...

        # AutoMergeMixin (auto_merge.py)
        def settle_auto_merges(self, repo: Repository) -> list[PullRequest]: ...

        # IssuesMixin (issue_tracking.py)
        def issue_or_pull(self, repo: Repository, number: int) -> Issue | PullRequest: ...

        # CommentsMixin (comments_labels.py)
        def _labels(self, repo: Repository, names: Sequence[str]) -> tuple[Label, ...]: ...

        # StatusesMixin (statuses_checks.py)
        def check_states(self, repo: Repository, sha: str) -> dict[str, str]: ...
