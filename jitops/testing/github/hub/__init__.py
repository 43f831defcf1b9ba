"""The test server's domain operations, shared by the HTTP handlers and by tests setting up state.

``Hub`` owns the ``State`` records and one ``GitStore`` per repository. Every change that GitHub
would announce with a webhook (a pull request opened, a push, a review submitted...) is handed to
``event_sink`` as an ``EventRecord``; the server turns those into payloads (``events.py``).
Rules GitHub itself enforces (no approving your own pull request, branch protection and rulesets
on merge, dismissing stale approvals on push) are enforced here and raise ``HubError``.

``Hub`` is composed of one mixin per part, each in a module of this package: ``people``,
``repositories`` (with branch protection and rulesets), ``pushing``, ``pull_requests``,
``auto_merge``, ``reviewing``, ``issue_tracking``, ``comments_labels`` and
``statuses_checks``. ``base`` holds what they share: the records, ``HubError``, and
``HubBase``, which declares for the type checker the attributes the parts keep and the
operations one part calls in another.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from jitops.testing.github.hub.auto_merge import AutoMergeMixin
from jitops.testing.github.hub.base import (
    Account,
    EventRecord,
    FileContent,
    HubError,
    validation_failed,
)
from jitops.testing.github.hub.comments_labels import CommentsMixin
from jitops.testing.github.hub.issue_tracking import MAX_PINNED, IssuesMixin
from jitops.testing.github.hub.people import PeopleMixin
from jitops.testing.github.hub.pull_requests import PullRequestsMixin
from jitops.testing.github.hub.pushing import PushingMixin
from jitops.testing.github.hub.repositories import RepositoriesMixin
from jitops.testing.github.hub.reviewing import ReviewsMixin
from jitops.testing.github.hub.statuses_checks import StatusesMixin
from jitops.testing.github.state import State

# What other modules import from here, wherever it lives in the package.
__all__ = [
    "MAX_PINNED",
    "Account",
    "EventRecord",
    "FileContent",
    "Hub",
    "HubError",
    "validation_failed",
]


class Hub(
    PeopleMixin,
    RepositoriesMixin,
    PushingMixin,
    PullRequestsMixin,
    AutoMergeMixin,
    ReviewsMixin,
    IssuesMixin,
    CommentsMixin,
    StatusesMixin,
):
    """Users, organisations, repositories and pull requests, backed by real git repositories."""

    def __init__(self, root: Path, state: State | None = None) -> None:
        self.root = root
        self.state = state or State()
        self.event_sink: Callable[[EventRecord], None] | None = None
