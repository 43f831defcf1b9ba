"""The HTTP server: routing, authentication, pagination, ETags, rate limits and instruments.

``GitHubServer`` serves GitHub's REST API at ``/api/v3`` (as GitHub Enterprise does, so
PyGithub's ``Github(base_url=server.base_url)`` works unchanged) and the repositories over git's
smart HTTP at ``/{owner}/{repo}.git``. It is a test double: the schema test in
``tests/testing/github`` measures how faithfully its answers follow GitHub's OpenAPI description.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import github

from jitops.testing.github import (
    actions,
    checks,
    commits,
    environments,
    git_data,
    issues,
    pulls,
    repos,
    reviews,
    teams,
)
from jitops.testing.github.events import Event, build_event
from jitops.testing.github.gitstore import GitStore, GitStoreError
from jitops.testing.github.http import Request, Response, Route, error_body, match
from jitops.testing.github.hub import EventRecord, Hub, HubError
from jitops.testing.github.rate_limits import RateLimits
from jitops.testing.github.render import Renderer
from jitops.testing.github.state import State, User

API_PREFIX = "/api/v3"
GRAPHQL_PATH = "/api/graphql"  # where PyGithub sends GraphQL for a base URL ending in /api/v3
GRAPHQL_ENDPOINT = "POST /graphql"  # its name for the call counter and fault rules


def all_routes() -> list[Route]:
    """Every route the server implements; routes with slash-swallowing parameters last."""
    routes = [
        *teams.ROUTES,
        *repos.ROUTES,
        *git_data.ROUTES,
        *pulls.ROUTES,
        *reviews.ROUTES,
        *issues.ROUTES,
        *checks.ROUTES,
        *actions.ROUTES,
        *commits.ROUTES,
        *environments.ROUTES,
    ]
    # A greedy parameter must not swallow a longer route's literal tail (`/commits/{ref}` vs
    # `/commits/{ref}/status`): try greedy routes last, longest first.
    return sorted(
        routes,
        key=lambda r: ("{ref}" in r.template or "{path}" in r.template, -len(r.template)),
    )


# -- instruments -----------------------------------------------------------------------------


class CallCounter:
    """API calls per endpoint (``"GET /repos/{owner}/{repo}/pulls/{pull_number}"``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def add(self, endpoint: str) -> None:
        with self._lock:
            self._counts[endpoint] += 1

    def __getitem__(self, endpoint: str) -> int:
        with self._lock:
            return self._counts[endpoint]

    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()


@dataclass(frozen=True)
class RecordedResponse:
    """One API answer, kept when ``GitHubServer.record_responses`` is on."""

    method: str
    template: str | None  # the route's template; None when no route matched
    status: int
    body: bytes


@dataclass
class Fault:
    """A failure to inject on matching calls, ``times`` times (None: until removed).

    ``kind`` is one of ``server_error`` (``status``, 500 by default), ``rate_limit`` (primary
    limit: ``status`` 403 or 429 with ``X-RateLimit-Remaining: 0`` and a reset ``reset_in``
    seconds ahead), ``secondary_rate_limit`` (403 with ``Retry-After: retry_after``), ``slow``
    (answer normally after ``delay`` seconds) or ``drop`` (close the connection, no answer).
    ``endpoint`` is ``"METHOD template"`` as the call counter names it, or None for every call.
    """

    kind: str
    endpoint: str | None = None
    times: int | None = 1
    status: int | None = None
    delay: float = 0.0
    retry_after: int = 1
    reset_in: int = 1
    hits: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        kinds = ("server_error", "rate_limit", "secondary_rate_limit", "slow", "drop")
        if self.kind not in kinds:
            raise ValueError(f"fault kind must be one of {kinds}")


class Faults:
    """The fault rules in force; the first matching rule with calls left applies."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[Fault] = []

    def inject(self, kind: str, endpoint: str | None = None, **options: Any) -> Fault:
        rule = Fault(kind, endpoint, **options)
        with self._lock:
            self._rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def take(self, endpoint: str) -> Fault | None:
        with self._lock:
            for rule in self._rules:
                if rule.endpoint not in (None, endpoint):
                    continue
                if rule.times is not None and rule.hits >= rule.times:
                    continue
                rule.hits += 1
                return rule
        return None


# -- the server ------------------------------------------------------------------------------


class GitHubServer:
    """A GitHub-compatible REST server on 127.0.0.1, backed by real git repositories.

    Use it as a context manager (or call ``start``/``stop``). Set up state through ``hub``
    (users, orgs, teams, repositories, pushes, pull requests, reviews); read ``calls``;
    inject failures through ``faults``; read the webhook payloads of what happened in
    ``events``.
    """

    def __init__(self, root: Path | None = None, *, port: int = 0, host: str = "127.0.0.1") -> None:
        self._own_root = root is None
        self.root = root or Path(tempfile.mkdtemp(prefix="jitops-github-"))
        self.hub = Hub(self.root / "repos", State())
        self.calls = CallCounter()
        self.faults = Faults()
        self.rate_limits = RateLimits()
        self.events: list[Event] = []
        self.failures: list[Exception] = []  # unexpected exceptions in handlers (bugs)
        self.record_responses = False
        self.responses: list[RecordedResponse] = []
        self._events_lock = threading.Lock()
        self.routes = all_routes()
        self._httpd = _HTTPServer((host, port), _handler_class(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None
        host_, port_ = self._httpd.server_address[:2]
        self.url = f"http://{host_!s}:{port_}"
        self.base_url = self.url + API_PREFIX
        self.render = Renderer(self.hub, self.base_url, self.url)
        self.hub.event_sink = self._record_event

    def start(self) -> GitHubServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread:
            self._thread.join()
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> GitHubServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def pygithub(self, token: str, **options: Any) -> github.Github:
        """A PyGithub client for this server authenticated by ``token``: no retries and none of
        PyGithub's pauses between calls (0.25 s, 1 s after writes), so tests stay fast.
        ``options`` override (``retry=GithubRetry(...)`` to test retrying)."""
        settings: dict[str, Any] = {
            "retry": None,
            "seconds_between_requests": None,
            "seconds_between_writes": None,
            "timeout": 10,
        }
        settings.update(options)
        return github.Github(base_url=self.base_url, auth=github.Auth.Token(token), **settings)

    def clone_url(self, full_name: str) -> str:
        """The smart-HTTP URL of a repository, for ``git clone``/``git fetch``."""
        return f"{self.url}/{full_name}.git"

    def file_url(self, full_name: str) -> str:
        """The repository's bare git directory as a ``file://`` URL."""
        return self.hub.repo(full_name).path.as_uri()

    # -- events --------------------------------------------------------------------------

    def _record_event(self, record: EventRecord) -> None:
        event = build_event(self.render, record)
        with self._events_lock:
            self.events.append(event)

    def events_named(self, name: str, action: str | None = None) -> list[Event]:
        with self._events_lock:
            return [e for e in self.events if e.name == name and action in (None, e.action)]

    def last_event(self, name: str, action: str | None = None) -> Event:
        found = self.events_named(name, action)
        if not found:
            raise LookupError(f"no {name} {action or ''} event recorded")
        return found[-1]

    # -- answering -----------------------------------------------------------------------

    def answer(self, method: str, target: str, headers: dict[str, str], body: bytes) -> _Answer:
        """The answer to one API request (path relative to the API root)."""
        out = self._answer(method, target, headers, body)
        if self.record_responses and not out.drop:
            found = match(self.routes, method, unquote(urlsplit(target).path).rstrip("/") or "/")
            template = found[0].template if found else None
            with self._events_lock:
                self.responses.append(RecordedResponse(method, template, out.status, out.body))
        return out

    def _admit(
        self, endpoint: str, headers: dict[str, str], out: _Answer, *, spend: bool = True
    ) -> tuple[User | None, _Answer | None]:
        """Count the call, inject its fault, authenticate and rate-limit: ``(user, None)``
        to go on, or ``(None, answer)`` when the call ends here."""
        self.calls.add(endpoint)
        fault = self.faults.take(endpoint)
        if fault is not None:
            if fault.kind == "drop":
                out.drop = True
                return None, out
            if fault.kind == "slow":
                time.sleep(fault.delay)
            elif fault.kind == "server_error":
                status = fault.status or 500
                return None, out.json(status, error_body(status, "Server Error"))
            elif fault.kind == "secondary_rate_limit":
                out.headers["Retry-After"] = str(fault.retry_after)
                status = fault.status or 403
                message = (
                    "You have exceeded a secondary rate limit. "
                    "Please wait a few minutes before you try again."
                )
                return None, out.json(status, error_body(status, message))
            elif fault.kind == "rate_limit":
                reset = int(time.time()) + fault.reset_in
                out.headers.update(
                    _rate_headers(self.rate_limits.limit, self.rate_limits.limit, reset)
                )
                status = fault.status or 403
                message = "API rate limit exceeded for user."
                return None, out.json(status, error_body(status, message))
        auth = headers.get("authorization", "")
        if not auth:
            return None, None
        scheme, _, token = auth.partition(" ")
        user = (
            self.hub.user_for_token(token.strip())
            if scheme.lower() in ("token", "bearer")
            else None
        )
        if user is None:
            return None, out.json(401, error_body(401, "Bad credentials"))
        limits = self.rate_limits
        used, reset = limits.spend(user.login) if spend else limits.peek(user.login)
        out.headers.update(_rate_headers(self.rate_limits.limit, used, reset))
        if spend and used > self.rate_limits.limit:
            message = f"API rate limit exceeded for user ID {user.id}."
            return None, out.json(403, error_body(403, message))
        return user, None

    def answer_graphql(self, headers: dict[str, str], body: bytes) -> _Answer:
        """The answer to one ``POST /api/graphql`` (see ``graphql.py``)."""
        out = _Answer()
        user, ended = self._admit(GRAPHQL_ENDPOINT, headers, out)
        if ended is not None:
            return ended
        if user is None:
            message = "This endpoint requires you to be authenticated."
            return out.json(401, error_body(401, message))
        out.headers["X-RateLimit-Resource"] = "graphql"  # GitHub's name; one shared budget here
        try:
            payload = json.loads(body) if body else None
        except ValueError:
            return out.json(400, error_body(400, "Problems parsing JSON"))
        try:
            # Imported here: only GraphQL needs graphql-core (the dev extra), not the REST API.
            from jitops.testing.github import graphql

            return out.json(200, graphql.execute(self.render, user, payload))
        except Exception as exc:  # a bug in the server: answer 500 and keep it for the test
            self.failures.append(exc)
            return out.json(500, error_body(500, "Server Error"))

    def _answer(self, method: str, target: str, headers: dict[str, str], body: bytes) -> _Answer:
        split = urlsplit(target)
        path = unquote(split.path).rstrip("/") or "/"
        query = dict(parse_qsl(split.query))
        found = match(self.routes, "GET" if method == "HEAD" else method, path)
        endpoint = found[0].endpoint if found else f"{method} {path}"
        out = _Answer()
        spend = found is None or found[0].template != "/rate_limit"
        user, ended = self._admit(endpoint, headers, out, spend=spend)
        if ended is not None:
            return ended
        if found is None:
            return out.json(404, error_body(404, "Not Found"))
        route, params = found
        for name in ("username", "owner", "org"):
            if name in params:  # GitHub matches logins in any case
                params[name] = self.hub.state.canonical(params[name])
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            return out.json(400, error_body(400, "Problems parsing JSON"))
        req = Request(method, path, params, query, parsed, user, self.hub, self.render)
        req.rate = self.rate_limits
        try:
            response = route.handler(req)
        except HubError as exc:  # ApiError too
            response = Response(exc.status, error_body(exc.status, exc.message, exc.errors))
        except GitStoreError as exc:
            # A ref moved between check and update (two clients racing): GitHub says 422.
            response = Response(422, error_body(422, f"Reference update failed: {exc}"))
        except Exception as exc:  # a bug in the server: answer 500 and keep it for the test
            self.failures.append(exc)
            response = Response(500, error_body(500, "Server Error"))
        out.headers.update(req.headers)
        if response.body is None:
            out.status = response.status
            return out
        out.json(response.status, response.body)
        if method in ("GET", "HEAD") and response.status == 200:
            etag = 'W/"' + hashlib.sha256(out.body).hexdigest()[:32] + '"'
            out.headers["ETag"] = etag
            if etag in headers.get("if-none-match", ""):
                out.status, out.body = 304, b""
                if user is not None:
                    self.rate_limits.refund(user.login)
                    used, reset = self.rate_limits.peek(user.login)
                    out.headers.update(_rate_headers(self.rate_limits.limit, used, reset))
        return out


@dataclass
class _Answer:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False

    def json(self, status: int, body: Any) -> _Answer:
        self.status = status
        self.body = json.dumps(body).encode()
        self.headers["Content-Type"] = "application/json; charset=utf-8"
        return self


def _rate_headers(limit: int, used: int, reset: int) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(max(0, limit - used)),
        "X-RateLimit-Used": str(used),
        "X-RateLimit-Reset": str(reset),
        "X-RateLimit-Resource": "core",
    }


class _HTTPServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up mid-answer (a test that finished, Ctrl-C in a demo) is no
        fault of the server: say nothing. Anything else is printed, as the base class does."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


def _handler_class(server: GitHubServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "jitops-github-test-server"
        # Headers and body go out as two writes: with Nagle's algorithm the body would wait
        # for the client's delayed ACK of the headers, some 40 ms on every keep-alive answer.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: tests read the call counter instead of a log."""

        def _body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _handle(self) -> None:
            body = self._body()
            headers = {k.lower(): v for k, v in self.headers.items()}
            answer = None
            if self.path.startswith(API_PREFIX + "/") or self.path == API_PREFIX:
                target = self.path[len(API_PREFIX) :] or "/"
                answer = server.answer(self.command, target, headers, body)
            elif urlsplit(self.path).path == GRAPHQL_PATH and self.command == "POST":
                answer = server.answer_graphql(headers, body)
            if answer is not None:
                if answer.drop:
                    self.close_connection = True
                    return
                self.send_response(answer.status)
                for key, value in answer.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(answer.body)
                return
            if ".git/" in self.path or self.path.endswith(".git"):
                self._git(body)
                return
            self.send_error(404)

        def _git(self, body: bytes) -> None:
            status, headers, payload = serve_git(
                server,
                self.command,
                self.path,
                {k.lower(): v for k, v in self.headers.items()},
                body,
            )
            self.send_response(status)
            for key, value in headers:
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = _handle

    return Handler


def serve_git(
    server: GitHubServer, method: str, target: str, headers: dict[str, str], body: bytes
) -> tuple[int, list[tuple[str, str]], bytes]:
    """Answer a git smart-HTTP request through ``git http-backend``; pushes need a token
    (as the HTTP basic-auth password) with write access, and update pull requests.

    ``headers`` have lower-case names: HTTP's are case-insensitive, and git sends an
    ``http.extraHeader`` in whatever case it was configured with."""
    split = urlsplit(target)
    full_name = unquote(split.path).lstrip("/").split(".git", 1)[0]
    try:
        repo = server.hub.repo(full_name)
    except HubError:
        return 404, [], b"Repository not found\n"
    pushing = "git-receive-pack" in target
    login = ""
    auth = headers.get("authorization", "")
    if auth.lower().startswith("basic "):
        _, _, secret = base64.b64decode(auth[6:]).decode(errors="replace").partition(":")
        user = server.hub.user_for_token(secret)
        login = user.login if user else ""
    if pushing and not server.hub.can(repo, login, "write"):
        return 401, [("WWW-Authenticate", 'Basic realm="GitHub"')], b"Authentication required\n"
    if not server.hub.can(repo, login, "read"):
        return 404, [], b"Repository not found\n"
    store = GitStore(repo.path)
    before = dict(store.refs("refs/heads/"))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
        "GIT_PROJECT_ROOT": str(server.hub.root),
        "GIT_HTTP_EXPORT_ALL": "1",
        "PATH_INFO": unquote(split.path),
        "REQUEST_METHOD": method,
        "QUERY_STRING": split.query,
        "CONTENT_TYPE": headers.get("content-type", ""),
        "CONTENT_LENGTH": str(len(body)),
        "REMOTE_USER": login or "anonymous",
        "REMOTE_ADDR": "127.0.0.1",
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    if headers.get("git-protocol"):
        env["GIT_PROTOCOL"] = headers["git-protocol"]
    if headers.get("content-encoding") == "gzip":
        body = gzip.decompress(body)
        env["CONTENT_LENGTH"] = str(len(body))
    proc = subprocess.run(
        ["git", "http-backend"], input=body, capture_output=True, env=env, check=False
    )
    head, _, payload = proc.stdout.partition(b"\r\n\r\n")
    status = 200
    out_headers = []
    for line in head.decode(errors="replace").split("\r\n"):
        key, _, value = line.partition(":")
        if key.lower() == "status":
            status = int(value.strip().split()[0])
        elif key:
            out_headers.append((key, value.strip()))
    if pushing:
        after = dict(store.refs("refs/heads/"))
        changes = [
            (ref, before.get(ref, "0" * 40), after.get(ref, "0" * 40))
            for ref in sorted(set(before) | set(after))
            if before.get(ref) != after.get(ref)
        ]
        if changes:
            server.hub.refs_changed(repo, login, changes)
    return status, out_headers, payload
