"""GitHub's refusals and failures as ``GitHubError``: the HTTP status, the endpoint and GitHub's
own words (a 422's field errors, GraphQL's reasons, when to rerun after a rate limit), never the
token."""

from __future__ import annotations

from jitops.errors import JitopsError


class GitHubError(JitopsError):
    """GitHub could not be reached or refused a call; the gate fails closed on it.

    ``status`` is the HTTP status GitHub answered with (None when it did not answer), and
    ``reason`` its own message, so a caller can tell "not there" from "not allowed to see".
    """

    def __init__(self, message: str, *, status: int | None = None, reason: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


class GraphQLRefusal(GitHubError):
    """GitHub's GraphQL API refused a call (HTTP 200 with ``errors``); ``reasons`` are its own
    words, which name the cause (``Auto merge is not allowed for this repository``)."""

    def __init__(self, what: str, reasons: tuple[str, ...]) -> None:
        super().__init__(f"GitHub refused {what}: {'; '.join(reasons)}")
        self.reasons = reasons


def error_from(exc: Exception, what: str) -> GitHubError:
    status = getattr(exc, "status", None)
    data = getattr(exc, "data", None)
    said = data.get("message") if isinstance(data, dict) else None
    rerun = _rerun_after(status, getattr(exc, "headers", None), said)
    if rerun is not None:
        # no status: a rate limit says nothing about permissions or existence, which is what
        # callers read a 403 or a 404 as
        return GitHubError(
            f"GitHub {what} failed: rate limit (HTTP {status}: {said or 'no message'}); {rerun}",
            reason=str(said or ""),
        )
    errors = data.get("errors") if isinstance(data, dict) and "message" not in data else None
    if isinstance(errors, list) and errors:  # GraphQL's answer; REST errors have a message
        reasons = tuple(
            str(e["message"]) for e in errors if isinstance(e, dict) and e.get("message")
        )
        return GraphQLRefusal(what, reasons or ("no reason given",))
    message = data.get("message") if isinstance(data, dict) else None
    details = _validation_details(data.get("errors") if isinstance(data, dict) else None)
    if message and details:  # "Validation Failed" says little; its errors say what and where
        message = f"{message}: {details}"
    detail = (
        f"HTTP {status}" + (f": {message}" if message else "") if status else type(exc).__name__
    )
    return GitHubError(
        f"GitHub {what} failed ({detail})",
        status=status if isinstance(status, int) else None,
        reason=str(message or ""),
    )


def _rerun_after(status: object, headers: object, message: object) -> str | None:
    """When to rerun, if the answer is a rate-limit refusal (None: it is not one)."""
    import time

    from jitops import retries

    if not isinstance(status, int) or not isinstance(headers, dict):
        return None
    said = message if isinstance(message, str) else None
    if retries.rate_limit_wait(status, headers, said, time.time()) is None:
        return None
    return retries.rerun_after(status, headers, said)


def _validation_details(errors: object) -> str:
    """A REST 422's ``errors`` (``[{resource, field, code, message}]``) in a few words:
    each one's own message, else which field of which resource was refused and why."""
    if not isinstance(errors, list):
        return ""
    found = []
    for error in errors:
        if isinstance(error, dict):
            text = error.get("message") or " ".join(
                str(error[key]) for key in ("resource", "field", "code") if error.get(key)
            )
            if text:
                found.append(str(text))
        elif isinstance(error, str):
            found.append(error)
    return "; ".join(found)
