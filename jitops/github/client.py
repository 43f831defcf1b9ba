"""What every part of ``GitHub`` builds on: the PyGithub clients of a run (bounded, retrying as
``jitops.retries`` says), each call wrapped so that GitHub's refusals and a lost connection
become ``GitHubError``, and the repository and its pull requests as lazy objects.

PyGithub is imported lazily so ``jitops --help`` stays fast.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from jitops.actions_context import DEFAULT_API_URL
from jitops.github.errors import GitHubError, error_from

if TYPE_CHECKING:
    from github.Repository import Repository


class GitHubBase:
    """One repository on one GitHub: the connection and the calls every part makes through it."""

    def __init__(
        self,
        token: str,
        *,
        repository: str = "",
        api_url: str = DEFAULT_API_URL,
        retries: int = 3,
        timeout: float | None = None,
    ) -> None:
        if repository and "/" not in repository:
            raise GitHubError(f"repository {repository!r} is not owner/name")
        from github import Auth, Github

        from jitops import retries as retrying

        # Reads and idempotent writes (PUT, PATCH, DELETE: the same request twice leaves the
        # same state) are retried with backoff on 5xx and lost or slow answers; a POST is not:
        # repeated after a lost answer it could open a second pull request or post a second
        # comment. A rate limit is waited out for every call, as long as it is short.
        retry: Any = (
            retrying.GitHubRetry(total=retries, backoff_factor=retrying.BACKOFF)
            if retries
            else None
        )
        # Always bounded: a GitHub that stops answering fails the run after a few tries
        # instead of holding a workflow until Actions cancels it six hours later.
        self.timeout = retrying.TIMEOUT if timeout is None else timeout
        self.tries = retries + 1
        settings: dict[str, Any] = {
            "auth": Auth.Token(token),
            "base_url": api_url.rstrip("/"),
            "retry": retry,
            "timeout": max(1, math.ceil(self.timeout)),  # PyGithub takes whole seconds
            "per_page": 100,
        }
        if _is_loopback(api_url):
            # PyGithub paces requests (0.25 s, 1 s between writes) to spare GitHub's shared
            # service from secondary rate limits; a server on this machine needs no pacing.
            settings |= {"seconds_between_requests": None, "seconds_between_writes": None}
        self._client = Github(**settings)
        # Objects from this client fetch nothing until an attribute needs it: a pull request's
        # reviews can be listed without first fetching the pull request.
        self._lazy_client = Github(**settings, lazy=True)
        self.repository = repository
        self.api_url = api_url.rstrip("/")
        self._repo: Repository | None = None
        self._membership_cache: dict[tuple[str, str], bool] = {}
        self._login: str | None = None  # the token's account, once asked

    def __repr__(self) -> str:  # never show the token
        return f"GitHub({self.repository!r})"

    def _call(self, what: str, function: Any, *args: Any, **kwargs: Any) -> Any:
        from github import GithubException

        try:
            return function(*args, **kwargs)
        except GithubException as exc:
            raise error_from(exc, what) from None
        except OSError as exc:  # connection refused, reset, timed out
            raise self._unreachable(f"{what}", exc) from None

    def _unreachable(self, what: str, exc: OSError) -> GitHubError:
        """No answer at all (refused, reset, timed out, no such host): say which host."""
        host = urlsplit(self.api_url).netloc or self.api_url
        if "timed out" in str(exc).lower():
            tries = f"{self.tries} tries" if self.tries > 1 else "1 try"
            return GitHubError(
                f"GitHub {what} failed: no answer from {host} within {self.timeout:g} s "
                f"({tries}) — GitHub is slow or down; rerun once it answers again"
            )
        return GitHubError(
            f"GitHub {what} failed: no answer from {host} ({type(exc).__name__}) — check the "
            "network, and GITHUB_API_URL if it is not github.com"
        )

    @property
    def repo(self) -> Repository:
        if not self.repository:
            raise GitHubError("no repository given: pass owner/name")
        if self._repo is None:
            # lazy: no call until something of the repository itself is needed
            self._repo = self._lazy_client.get_repo(self.repository)
        assert self._repo is not None
        return self._repo

    def _raw(self, verb: str, path: str, what: str, **kwargs: Any) -> Any:
        from github import GithubException

        try:
            _, data = self.repo.requester.requestJsonAndCheck(verb, self.repo.url + path, **kwargs)
        except GithubException as exc:
            raise error_from(exc, what) from None
        except OSError as exc:
            raise self._unreachable(f"{what}", exc) from None
        return data

    def _pull(self, number: int, **attributes: Any) -> Any:
        from github.PullRequest import PullRequest

        # A lazy object: listing its files or reviews costs no extra call for the PR itself.
        return PullRequest(
            self.repo.requester,
            headers={},
            attributes={"number": number, "url": f"{self.repo.url}/pulls/{number}", **attributes},
            completed=False,
        )


def _is_loopback(url: str) -> bool:
    import ipaddress
    from urllib.parse import urlsplit

    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


PAGE_SIZE = 100  # GitHub's largest page for the listings jitops reads


def every_page(ask: Callable[[int], Any]) -> list[dict[str, Any]]:
    """Every object of a listing GitHub answers a page at a time: ``ask(page)`` (numbered
    from 1, ``PAGE_SIZE`` a page) until a page comes back short. What is no object is left out."""
    found: list[dict[str, Any]] = []
    page = 1
    while True:
        batch = ask(page)
        items = batch if isinstance(batch, list) else []
        found += [item for item in items if isinstance(item, dict)]
        if len(items) < PAGE_SIZE:
            return found
        page += 1
