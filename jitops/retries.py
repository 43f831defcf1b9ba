"""How jitops waits out GitHub's passing failures: one retry policy for every API call.

- A 5xx answer, a dropped connection or an answer slower than ``TIMEOUT`` is retried with a
  growing backoff, for reads and idempotent writes only (``RETRIED_METHODS``): a POST repeated
  after an answer it never got could open a second pull request or post a second comment.
- A rate-limit refusal (HTTP 403 or 429) is retried for every method, POST included: GitHub
  refuses such a request before acting on it, so repeating it cannot make anything twice. The
  wait is the one GitHub asks for — ``Retry-After``, else until ``X-RateLimit-Reset`` when
  ``X-RateLimit-Remaining`` is 0, else a minute for a secondary limit — up to
  ``MAX_RATE_LIMIT_WAIT``. A longer wait is not slept through (a scheduled workflow would hang
  for up to an hour): the call fails at once and the error says when to rerun.

The settings are module attributes read when a client is made, so tests can shorten them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from github.GithubException import RateLimitExceededException
from urllib3 import Retry
from urllib3.exceptions import MaxRetryError

if TYPE_CHECKING:
    from types import TracebackType

    from urllib3.connectionpool import ConnectionPool
    from urllib3.response import BaseHTTPResponse

TIMEOUT = 30.0  # seconds without a byte of answer before a call is given up (whole seconds)
BACKOFF = 0.5  # seconds: waits of 0, 1, 2 … between tries after a 5xx or a lost answer
MAX_RATE_LIMIT_WAIT = 90.0  # seconds a rate limit may hold a run before it fails instead
SECONDARY_WAIT = 60.0  # GitHub: "wait at least one minute" when it does not say how long

RETRIED_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"})
RATE_LIMIT_STATUSES = (403, 429)


def _header(headers: Mapping[str, Any], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return str(value)
    return None


def rate_limit_wait(
    status: int | None, headers: Mapping[str, Any], message: str | None, now: float
) -> float | None:
    """Seconds GitHub asks to wait before asking again, if the answer is a rate-limit
    refusal (None: it is not one, e.g. a 403 for a missing permission)."""
    if status not in RATE_LIMIT_STATUSES:
        return None
    retry_after = _header(headers, "retry-after")
    if retry_after is not None and retry_after.strip().isdigit():
        return float(retry_after.strip())
    remaining, reset = (
        _header(headers, "x-ratelimit-remaining"),
        _header(headers, "x-ratelimit-reset"),
    )
    if remaining is not None and remaining.strip() == "0":
        if reset is not None and reset.strip().isdigit():
            # one second more: GitHub does not say when within that second the window opens
            return max(0.0, float(reset) - now) + 1.0
        return SECONDARY_WAIT
    if message and "rate limit" in message.lower():
        return SECONDARY_WAIT
    return None


def rerun_after(status: int | None, headers: Mapping[str, Any], message: str | None) -> str:
    """When to rerun after a rate-limit refusal, in words: ``until 14:05:03 UTC (in 52
    min) — rerun after that``."""
    now = time.time()
    wait = rate_limit_wait(status, headers, message, now) or SECONDARY_WAIT
    until = datetime.fromtimestamp(now, UTC) + timedelta(seconds=wait)
    minutes = int(wait // 60)
    left = f"{minutes} min" if minutes else f"{int(wait)} s"
    return f"GitHub refuses calls until {until:%H:%M:%S} UTC (in {left}) — rerun after that"


class RateLimited(RateLimitExceededException):
    """GitHub's rate limit would hold the call longer than ``MAX_RATE_LIMIT_WAIT``, or every
    retry met it: the refusal as GitHub gave it (a PyGithub exception, as every other refusal
    is, for ``jitops.github`` to word)."""

    def __init__(self, status: int, headers: Mapping[str, Any], message: str) -> None:
        super().__init__(status, {"message": message}, dict(headers), message)


class GitHubRetry(Retry):
    """The retry policy of the module docstring, for PyGithub's ``retry`` setting."""

    def __init__(self, *, max_wait: float | None = None, **kwargs: Any) -> None:
        self.max_wait = MAX_RATE_LIMIT_WAIT if max_wait is None else max_wait
        self.rate_wait: float | None = None  # the rate limit's wait before the next try
        kwargs.setdefault("status_forcelist", list(range(500, 600)))
        kwargs.setdefault("allowed_methods", RETRIED_METHODS)
        # the last answer is handed on as it is (PyGithub raises it with GitHub's status and
        # message) rather than as urllib3's "too many 502 error responses"
        kwargs.setdefault("raise_on_status", False)
        # Retry-After is read here, for rate limits; urllib3 would sleep it however long
        kwargs.setdefault("respect_retry_after_header", False)
        super().__init__(**kwargs)

    def new(self, **kw: Any) -> GitHubRetry:
        kw.setdefault("max_wait", self.max_wait)
        retry: GitHubRetry = super().new(**kw)
        return retry

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if status_code in RATE_LIMIT_STATUSES:
            return True  # any method; ``increment`` tells a rate limit from a refusal
        return super().is_retry(method, status_code, has_retry_after)

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: BaseHTTPResponse | None = None,
        error: Exception | None = None,
        _pool: ConnectionPool | None = None,
        _stacktrace: TracebackType | None = None,
    ) -> GitHubRetry:
        if response is None or response.status not in RATE_LIMIT_STATUSES:
            retry: GitHubRetry = super().increment(method, url, response, error, _pool, _stacktrace)
            return retry
        headers = dict(response.headers)
        message = ""
        wait = rate_limit_wait(response.status, headers, None, time.time())
        if wait is None or wait > self.max_wait:
            # the body is read only where the headers do not tell: reading it uses it up
            message = _message(response)
            wait = rate_limit_wait(response.status, headers, message, time.time())
        if wait is None:
            # not a rate limit (a missing permission): its body is used up, so it is raised
            # here as PyGithub would raise it, with GitHub's whole answer
            from github.Requester import Requester

            raise Requester.createException(response.status, headers, _body(response))
        if wait > self.max_wait:
            raise RateLimited(response.status, headers, message or _message(response))
        try:
            retry = super().increment(method, url, response, error, _pool, _stacktrace)
        except MaxRetryError:
            raise RateLimited(response.status, headers, message or _message(response)) from None
        retry.rate_wait = wait
        return retry

    def sleep(self, response: BaseHTTPResponse | None = None) -> None:
        if self.rate_wait is not None:
            time.sleep(self.rate_wait)
        else:
            super().sleep(response)


def _body(response: BaseHTTPResponse) -> dict[str, Any]:
    """An answer's JSON object ({} when it is none); urllib3 keeps it once read."""
    try:
        data = json.loads(response.data or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _message(response: BaseHTTPResponse) -> str:
    """GitHub's ``message`` in an answer's JSON body ("" when there is none)."""
    message = _body(response).get("message")
    return str(message) if message else ""
