"""The HTTP edge shared by every resource module: routes, the request context, errors.

A route's template is the path key of the operation in GitHub's OpenAPI description (for example
``/repos/{owner}/{repo}/pulls/{pull_number}``), so the schema test can look up the response
schema of every route the server implements.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from jitops.testing.github.hub import Hub, HubError
from jitops.testing.github.state import Repository, User

if TYPE_CHECKING:
    from jitops.testing.github.rate_limits import RateLimits
    from jitops.testing.github.render import Renderer

DOCS = "https://docs.github.com/rest"
# Path parameters that may contain slashes.
_GREEDY = {"ref", "path", "basehead"}


class ApiError(HubError):
    """An error response: GitHub's ``{"message", "documentation_url"}`` body."""


@dataclass
class Request:
    """One API request as a handler sees it."""

    method: str
    path: str
    params: dict[str, str]
    query: dict[str, str]
    body: Any
    user: User | None
    hub: Hub
    render: Renderer
    headers: dict[str, str] = field(default_factory=dict)  # response headers to add
    rate: RateLimits | None = None

    def need_user(self) -> User:
        if self.user is None:
            raise ApiError(401, "Requires authentication")
        return self.user

    def repo(self, needed: str = "read") -> Repository:
        """The repository named by ``{owner}/{repo}``, if the caller may see it."""
        repo = self.hub.repo(f"{self.params['owner']}/{self.params['repo']}")
        login = self.user.login if self.user else ""
        if not self.hub.can(repo, login, "read"):
            raise ApiError(404, "Not Found")
        if needed != "read" and not self.hub.can(repo, login, needed):
            raise ApiError(403, "Resource not accessible by personal access token")
        return repo

    def int_param(self, name: str) -> int:
        try:
            return int(self.params[name])
        except ValueError:
            raise ApiError(404, "Not Found") from None

    def field(
        self, name: str, kind: type | tuple[type, ...] = str, *, required: bool = True
    ) -> Any:
        """A field of the JSON body, type-checked; 422 if missing or of the wrong type."""
        if not isinstance(self.body, dict) or (required and name not in self.body):
            if required:
                raise ApiError(422, f'Invalid request.\n\n"{name}" wasn\'t supplied.')
            return None
        value = self.body.get(name)
        if value is None and not required:
            return None
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ApiError(422, f"Invalid request.\n\nInvalid value for {name!r}.")
        return value

    def paginate(self, items: list[Any]) -> list[Any]:
        """The requested page of ``items`` (``page``, ``per_page``), with a ``Link`` header."""
        try:
            per_page = max(1, min(100, int(self.query.get("per_page", "30"))))
            page = max(1, int(self.query.get("page", "1")))
        except ValueError:
            per_page, page = 30, 1
        last = max(1, -(-len(items) // per_page))
        links = []
        base = self.render.api + self.path
        rest = "".join(f"&{k}={v}" for k, v in self.query.items() if k not in ("page", "per_page"))

        def link(n: int, rel: str) -> str:
            return f'<{base}?per_page={per_page}&page={n}{rest}>; rel="{rel}"'

        if page > 1:
            links += [link(page - 1, "prev"), link(1, "first")]
        if page < last:
            links += [link(page + 1, "next"), link(last, "last")]
        if links:
            self.headers["Link"] = ", ".join(links)
        return items[(page - 1) * per_page : page * per_page]


@dataclass(frozen=True)
class Response:
    status: int
    body: Any = None


Handler = Callable[[Request], Response]


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    handler: Handler
    regex: re.Pattern[str]

    @property
    def endpoint(self) -> str:
        """``METHOD template``: the key of the call counter and of fault rules."""
        return f"{self.method} {self.template}"


def route(method: str, template: str, handler: Handler) -> Route:
    """A route for ``template``, whose ``{name}`` parts match one path segment (or, for
    ``ref``/``path``/``basehead``, the rest of the path)."""

    def part(match: re.Match[str]) -> str:
        name = match.group(1)
        return f"(?P<{name}>.+)" if name in _GREEDY else f"(?P<{name}>[^/]+)"

    pattern = re.sub(r"\\\{(\w+)\\\}", part, re.escape(template))
    return Route(method, template, handler, re.compile(f"^{pattern}$"))


def match(routes: list[Route], method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The route for ``method`` and ``path`` and its parameters, or None."""
    for candidate in routes:
        if candidate.method != method:
            continue
        found = candidate.regex.match(path)
        if found:
            return candidate, dict(found.groupdict())
    return None


def error_body(
    status: int, message: str, errors: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"message": message, "documentation_url": DOCS, "status": str(status)}
    if errors is not None:
        body["errors"] = errors
    return body
