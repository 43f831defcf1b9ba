"""The only package that talks to GitHub: REST through PyGithub, facts out as frozen values.

Callers get ``jitops.gate`` and ``jitops.policy`` value types (and those of ``values``), never
PyGithub objects, so the rest of jitops stays testable and GitHub's quirks stay here:

- reviews come oldest first with their ``commit_id``; a bot is ``user.type == "Bot"``;
- team membership counts only when its ``state`` is ``active`` (a pending invitation is not
  membership), and is cached for the run: one call per (team, user) pair at most;
- transient failures (5xx, lost or slow answers, rate limits) are retried as
  ``jitops.retries`` says; what still fails becomes ``GitHubError`` (exit 3) with the status and
  the endpoint — for a rate limit, when to rerun — never the token.

``GitHub`` is composed of one mixin per area of GitHub's API, each in a module of this package:
``pull_requests`` (reading one), ``opening_pulls``, ``people``, ``repository`` (settings and
branch rules), ``actions``, ``statuses`` and ``issues`` (with comments). ``client`` holds what
they share (``GitHubBase``: the connection, and every call wrapped into ``GitHubError``);
``errors`` the errors, ``values`` the frozen values they return, and ``urls`` what a git remote
URL says about GitHub.
"""

from __future__ import annotations

from jitops.github.actions import ActionsMixin
from jitops.github.errors import GitHubError, GraphQLRefusal
from jitops.github.issues import IssuesMixin
from jitops.github.opening_pulls import OpeningPullsMixin
from jitops.github.people import PeopleMixin
from jitops.github.pull_requests import PullRequestsMixin
from jitops.github.repository import RepositoryMixin
from jitops.github.statuses import STATUS_CONTEXT, StatusesMixin
from jitops.github.urls import repository_from_url, serves_git_for
from jitops.github.values import (
    MAX_LISTED_COMMITS,
    MAX_LISTED_FILES,
    CommitPeople,
    EnvironmentBranches,
    IssueInfo,
    OpenedPull,
    PullRequestInfo,
    RepositorySettings,
    RequiredChecks,
    ReviewRules,
)

# What other modules import from here, wherever it lives in the package.
__all__ = [
    "MAX_LISTED_COMMITS",
    "MAX_LISTED_FILES",
    "STATUS_CONTEXT",
    "CommitPeople",
    "EnvironmentBranches",
    "GitHub",
    "GitHubError",
    "GraphQLRefusal",
    "IssueInfo",
    "OpenedPull",
    "PullRequestInfo",
    "RepositorySettings",
    "RequiredChecks",
    "ReviewRules",
    "repository_from_url",
    "serves_git_for",
]


class GitHub(
    PullRequestsMixin,
    OpeningPullsMixin,
    PeopleMixin,
    RepositoryMixin,
    ActionsMixin,
    StatusesMixin,
    IssuesMixin,
):
    """One repository on one GitHub (or GitHub Enterprise, or the jitops test server)."""
