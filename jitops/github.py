"""The only module that talks to GitHub: REST through PyGithub, facts out as frozen values.

Callers get ``jitops.gate`` and ``jitops.policy`` value types, never PyGithub objects, so the
rest of jitops stays testable and GitHub's quirks stay here:

- reviews come oldest first with their ``commit_id``; a bot is ``user.type == "Bot"``;
- team membership counts only when its ``state`` is ``active`` (a pending invitation is not
  membership), and is cached for the run: one call per (team, user) pair at most;
- transient failures (5xx, lost or slow answers, rate limits) are retried as
  ``jitops.retries`` says; what still fails becomes ``GitHubError`` (exit 3) with the status and
  the endpoint — for a rate limit, when to rerun — never the token.

PyGithub is imported lazily so ``jitops --help`` stays fast.
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from jitops.actions_context import DEFAULT_API_URL
from jitops.errors import JitopsError
from jitops.gate import ChangedFile, FileStatus
from jitops.policy import Review, ReviewState

if TYPE_CHECKING:
    from github.Repository import Repository

STATUS_CONTEXT = "jitops/approval"


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


def _review_rules(settings: Any, names: tuple[str, str, str, str]) -> ReviewRules | None:
    """Review settings from a JSON object, by their names in that source."""
    if not isinstance(settings, dict):
        return None
    count, owners, stale, last = names
    approvals = settings.get(count)
    return ReviewRules(
        approvals if isinstance(approvals, int) else 0,
        settings.get(owners) is True,
        settings.get(stale) is True,
        settings.get(last) is True,
    )


_CLASSIC_REVIEWS = (
    "required_approving_review_count",
    "require_code_owner_reviews",
    "dismiss_stale_reviews",
    "require_last_push_approval",
)
_RULESET_REVIEWS = (
    "required_approving_review_count",
    "require_code_owner_review",
    "dismiss_stale_reviews_on_push",
    "require_last_push_approval",
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


def _error(exc: Exception, what: str) -> GitHubError:
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


def _rule_contexts(rule: object) -> set[str]:
    """The status checks one ``repository-rule-detailed`` requires (none, for other rules)."""
    if not isinstance(rule, dict) or rule.get("type") != "required_status_checks":
        return set()
    parameters = rule.get("parameters")
    checks = parameters.get("required_status_checks") if isinstance(parameters, dict) else None
    return {
        str(check["context"])
        for check in (checks if isinstance(checks, list) else [])
        if isinstance(check, dict) and isinstance(check.get("context"), str)
    }


class GitHub:
    """One repository on one GitHub (or GitHub Enterprise, or the jitops test server)."""

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
            raise _error(exc, what) from None
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

    # -- pull requests ----------------------------------------------------------------------

    def pull_request(self, number: int) -> PullRequestInfo:
        # the client is lazy: the call happens when a field is first read, so read them all
        # inside _call, where GitHub's refusals and a lost connection become GitHubError
        def read() -> PullRequestInfo:
            return _pull_info(self.repo.get_pull(number))

        return self._call(f"reading pull request #{number}", read)  # type: ignore[no-any-return]

    def commit_count(self, number: int) -> int:
        """How many commits pull request ``number`` has (one call; GitHub counts its head's)."""

        def count() -> int:
            return int(self.repo.get_pull(number).commits)

        return self._call(f"pull request #{number}", count)  # type: ignore[no-any-return]

    def pulls_for_commit(self, sha: str) -> tuple[PullRequestInfo, ...]:
        """The pull requests associated with commit ``sha`` (e.g. the one it merged)."""

        def collect() -> tuple[PullRequestInfo, ...]:
            return tuple(_pull_info(pr) for pr in self.repo.get_commit(sha).get_pulls())

        return self._call(f"pull requests of {sha[:7]}", collect)  # type: ignore[no-any-return]

    def _pull(self, number: int, **attributes: Any) -> Any:
        from github.PullRequest import PullRequest

        # A lazy object: listing its files or reviews costs no extra call for the PR itself.
        return PullRequest(
            self.repo.requester,
            headers={},
            attributes={"number": number, "url": f"{self.repo.url}/pulls/{number}", **attributes},
            completed=False,
        )

    def changed_files(self, number: int) -> tuple[ChangedFile, ...]:
        def collect() -> tuple[ChangedFile, ...]:
            return tuple(
                ChangedFile(
                    path=f.filename,
                    status=_file_status(f.status),
                    previous_path=f.previous_filename,
                )
                for f in self._pull(number).get_files()
            )

        return self._call(f"files of pull request #{number}", collect)  # type: ignore[no-any-return]

    def reviews(self, number: int) -> tuple[Review, ...]:
        """Reviews oldest first, without teams (see ``active_teams``)."""

        def collect() -> tuple[Review, ...]:
            reviews = []
            for review in self._pull(number).get_reviews():
                try:
                    state = ReviewState(review.state)
                except ValueError:  # PENDING (a draft review) decides nothing
                    continue
                if review.user is None:  # a deleted account
                    continue
                reviews.append(
                    Review(
                        reviewer=review.user.login,
                        state=state,
                        commit_id=review.commit_id,
                        is_bot=review.user.type == "Bot",
                        review_id=review.id,
                    )
                )
            return tuple(reviews)

        return self._call(f"reviews of pull request #{number}", collect)  # type: ignore[no-any-return]

    def commit_people(self, number: int) -> CommitPeople:
        """GitHub logins of the authors and committers of the pull request's commits, how
        many commits GitHub listed (it lists at most ``MAX_LISTED_COMMITS``), and which of
        them have an author or committer GitHub maps to no account."""

        def collect() -> CommitPeople:
            people: set[str] = set()
            unattributed: list[str] = []
            listed = 0
            for commit in self._pull(number).get_commits():
                listed += 1
                users = (commit.author, commit.committer)
                for user in users:
                    if user is not None and user.login:
                        people.add(user.login.lower())
                if any(user is None or not user.login for user in users):
                    unattributed.append(commit.sha)
            return CommitPeople(frozenset(people), listed, tuple(unattributed))

        return self._call(f"commits of pull request #{number}", collect)  # type: ignore[no-any-return]

    def modes_at(self, ref: str, paths: Iterable[str]) -> dict[str, str]:
        """git's mode of each of ``paths`` at commit ``ref`` (absent: not there), from one
        recursive read of its tree (the contents API would follow a symbolic link)."""
        wanted = set(paths)
        if not wanted:
            return {}

        def fetch() -> dict[str, str]:
            tree = self.repo.get_git_tree(ref, recursive=True)
            return {e.path: e.mode for e in tree.tree if e.path in wanted}

        return self._call(f"tree of {ref[:7]}", fetch)  # type: ignore[no-any-return]

    def file_at(self, ref: str, path: str) -> bytes:
        """A file's bytes at ``ref``, read as data (never executed)."""

        def fetch() -> bytes:
            content = self.repo.get_contents(path, ref=ref)
            if isinstance(content, list):
                raise GitHubError(f"{path} is a directory at {ref[:7]}")
            if content.encoding == "base64" and content.content is not None:
                return base64.b64decode(content.content)
            return bytes(content.decoded_content)

        return self._call(f"contents of {path}", fetch)  # type: ignore[no-any-return]

    # -- people -----------------------------------------------------------------------------

    def is_active_member(self, team: str, login: str) -> bool:
        """Whether ``login`` is an *active* member of ``org/team`` (pending invites are not)."""
        from github import GithubException

        org, _, slug = team.removeprefix("@").partition("/")
        key = (team.lower().removeprefix("@"), login.lower())
        if key not in self._membership_cache:
            url = f"{self.api_url}/orgs/{org}/teams/{slug}/memberships/{login}"
            try:
                _, data = self._client.requester.requestJsonAndCheck("GET", url)
                active = isinstance(data, dict) and data.get("state") == "active"
            except GithubException as exc:
                if exc.status != 404:
                    raise _error(exc, f"membership of @{login} in @{org}/{slug}") from None
                active = False
            except OSError as exc:
                raise self._unreachable("team membership", exc) from None
            self._membership_cache[key] = active
        return self._membership_cache[key]

    def active_teams(self, login: str, teams: Iterable[str]) -> frozenset[str]:
        """Which of ``teams`` (``org/team``) ``login`` actively belongs to, lower-cased."""
        return frozenset(
            t.lower().removeprefix("@") for t in teams if self.is_active_member(t, login)
        )

    # -- team membership (the github-team provisioner) ----------------------------------------

    def _org_call(self, verb: str, path: str, what: str, **kwargs: Any) -> Any:
        from github import GithubException

        try:
            _, data = self._client.requester.requestJsonAndCheck(
                verb, self.api_url + path, **kwargs
            )
        except GithubException as exc:
            if verb == "DELETE" and exc.status == 404:
                return None  # already gone: revoking absent access succeeds
            raise _error(exc, what) from None
        except OSError as exc:
            raise self._unreachable(f"{what}", exc) from None
        return data

    def add_team_member(self, org: str, team: str, login: str) -> str:
        """Make ``login`` a member of ``org/team``; returns the membership state."""
        data = self._org_call(
            "PUT",
            f"/orgs/{org}/teams/{team}/memberships/{login}",
            f"adding @{login} to @{org}/{team}",
            input={"role": "member"},
        )
        self._membership_cache.pop((f"{org}/{team}".lower(), login.lower()), None)
        return str(data.get("state", "")) if isinstance(data, dict) else ""

    def remove_team_member(self, org: str, team: str, login: str) -> None:
        self._org_call(
            "DELETE",
            f"/orgs/{org}/teams/{team}/memberships/{login}",
            f"removing @{login} from @{org}/{team}",
        )
        self._membership_cache.pop((f"{org}/{team}".lower(), login.lower()), None)

    def team_members(self, org: str, team: str) -> list[str]:
        """Logins of the team's members (every page)."""
        members: list[str] = []
        page = 1
        while True:
            data = self._org_call(
                "GET",
                f"/orgs/{org}/teams/{team}/members",
                f"members of @{org}/{team}",
                parameters={"per_page": 100, "page": page},
            )
            batch = [m["login"] for m in data or [] if isinstance(m, dict) and "login" in m]
            members.extend(batch)
            if len(batch) < 100:
                return members
            page += 1

    def team_exists(self, org: str, team: str) -> bool:
        from github import GithubException

        try:
            self._client.requester.requestJsonAndCheck(
                "GET", f"{self.api_url}/orgs/{org}/teams/{team}"
            )
        except GithubException as exc:
            if exc.status == 404:
                return False
            raise _error(exc, f"team @{org}/{team}") from None
        except OSError as exc:
            raise self._unreachable(f"team @{org}/{team}", exc) from None
        return True

    # -- repository checks ------------------------------------------------------------------

    def codeowners_errors(self, ref: str) -> list[str]:
        """GitHub's own complaints about the CODEOWNERS file at ``ref``."""
        data = self._raw("GET", "/codeowners/errors", "CODEOWNERS errors", parameters={"ref": ref})
        errors = data.get("errors", []) if isinstance(data, dict) else []
        return [
            f"{e.get('path', 'CODEOWNERS')}:{e.get('line', '?')}: {e.get('message', e.get('kind'))}"
            for e in errors
            if isinstance(e, dict)
        ]

    # -- repository settings ----------------------------------------------------------------

    def repository_settings(self) -> RepositorySettings:
        """The default branch and "Allow auto-merge" (``full-repository``), in one call."""
        data = self._raw("GET", "", "reading the repository")
        if not isinstance(data, dict) or not isinstance(data.get("default_branch"), str):
            raise GitHubError("GitHub answered with something that is not a repository")
        allowed = data.get("allow_auto_merge")
        return RepositorySettings(
            data["default_branch"], allowed if isinstance(allowed, bool) else None
        )

    def completed_runs(self, workflow_file: str, branch: str) -> tuple[str, ...]:
        """The head commits of the successful runs of ``workflow_file`` on ``branch``, newest
        first, that this repository's own pushes or manual runs started (``actions: read``).

        Only GitHub Actions makes a run, from the workflow file of the commit it runs, so this
        is a record no writer can forge with a status or a git note. A pull request's run is
        left out (its branch may be named like the default one, even from a fork), and so is
        any run whose head repository is another. No such workflow: none.
        """
        path = f"/actions/workflows/{quote(workflow_file, safe='')}/runs"
        try:
            data = self._raw(
                "GET",
                path,
                f"reading the runs of {workflow_file}",
                parameters={"branch": branch, "status": "success", "per_page": 30},
            )
        except GitHubError as exc:
            if exc.status == 404:
                return ()
            raise
        runs = data.get("workflow_runs") if isinstance(data, dict) else None
        heads = []
        for run in runs if isinstance(runs, list) else []:
            if not isinstance(run, dict):
                continue
            head_repo = run.get("head_repository")
            name = head_repo.get("full_name") if isinstance(head_repo, dict) else None
            if (
                run.get("event") in ("push", "workflow_dispatch")
                and run.get("conclusion") == "success"
                and run.get("head_branch") == branch
                and isinstance(name, str)
                and name.lower() == self.repository.lower()
                and isinstance(run.get("head_sha"), str)
            ):
                heads.append(str(run["head_sha"]))
        return tuple(heads)

    def required_checks(self, branch: str) -> RequiredChecks:
        """The status checks ``branch``'s protection requires (``branch-protection``).

        GitHub answers 404 "Branch not protected" for a branch without protection: that is an
        answer, returned as ``protected=False``. Reading protection needs administration
        (read) permission; without it GitHub answers 403 or 404, raised as ``GitHubError``
        with that ``status``. Rulesets are read by :meth:`ruleset_checks`.
        """
        path = f"/branches/{quote(branch, safe='')}/protection"
        try:
            data = self._raw("GET", path, f"reading the protection of {branch}")
        except GitHubError as exc:
            if exc.status == 404 and exc.reason.lower() == "branch not protected":
                return RequiredChecks(branch, protected=False)
            raise
        reviews = _review_rules(
            data.get("required_pull_request_reviews") if isinstance(data, dict) else None,
            _CLASSIC_REVIEWS,
        )
        checks = data.get("required_status_checks") if isinstance(data, dict) else None
        if not isinstance(checks, dict):  # protected, but no status check is required
            return RequiredChecks(branch, protected=True, reviews=reviews)
        # ``contexts`` is the older list of names; ``checks`` adds the app expected to post.
        contexts = {str(c) for c in checks.get("contexts") or [] if isinstance(c, str)}
        contexts |= {
            str(c["context"])
            for c in checks.get("checks") or []
            if isinstance(c, dict) and isinstance(c.get("context"), str)
        }
        return RequiredChecks(branch, protected=True, contexts=frozenset(contexts), reviews=reviews)

    def ruleset_checks(self, branch: str) -> RequiredChecks:
        """The status checks the active rulesets applying to ``branch`` require
        (``repos/get-branch-rules``: every active rule, from repository and organization
        rulesets alike; ``evaluate`` and disabled rulesets are not returned).

        Read access is enough, so this answers where :meth:`required_checks` may not. A
        ``required_status_checks`` rule names its checks in
        ``parameters.required_status_checks[].context``.
        """
        path = f"/rules/branches/{quote(branch, safe='')}"
        rules: list[Any] = []
        page = 1
        while True:
            data = self._raw(
                "GET",
                path,
                f"reading the rulesets of {branch}",
                parameters={"per_page": 100, "page": page},
            )
            batch = data if isinstance(data, list) else []
            rules.extend(batch)
            if len(batch) < 100:
                break
            page += 1
        contexts = {context for rule in rules for context in _rule_contexts(rule)}
        reviews: ReviewRules | None = None
        for rule in rules:
            if isinstance(rule, dict) and rule.get("type") == "pull_request":
                found = _review_rules(rule.get("parameters"), _RULESET_REVIEWS)
                if found is not None:
                    reviews = found.combined(reviews)
        return RequiredChecks(
            branch, protected=bool(rules), contexts=frozenset(contexts), reviews=reviews
        )

    def environment_branches(self, name: str) -> EnvironmentBranches | None:
        """Which branches may deploy to Environment ``name`` (and so get its secrets); None
        when it does not exist. Read access is enough."""
        path = f"/environments/{quote(name, safe='')}"
        try:
            data = self._raw("GET", path, f"reading the Environment {name}")
        except GitHubError as exc:
            if exc.status == 404:
                return None
            raise
        policy = data.get("deployment_branch_policy") if isinstance(data, dict) else None
        if not isinstance(policy, dict):
            return EnvironmentBranches(name, any_branch=True)
        if policy.get("protected_branches"):
            return EnvironmentBranches(name, protected_only=True)
        listed = self._raw(
            "GET",
            f"{path}/deployment-branch-policies",
            f"reading the deployment branches of {name}",
            parameters={"per_page": 100},
        )
        policies = listed.get("branch_policies") if isinstance(listed, dict) else None
        names = tuple(
            str(p["name"])
            for p in (policies if isinstance(policies, list) else [])
            if isinstance(p, dict) and p.get("type", "branch") == "branch" and "name" in p
        )
        return EnvironmentBranches(name, branches=names)

    def has_repo_secret(self, name: str) -> bool:
        """Whether the repository has an Actions secret ``name`` of its own (not an
        Environment's). GitHub answers 404 both for none and for a token that may not see
        secrets: False is "none that this token can see"."""
        try:
            self._raw("GET", f"/actions/secrets/{quote(name, safe='')}", f"reading secret {name}")
        except GitHubError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    # -- writing back -----------------------------------------------------------------------

    def _raw(self, verb: str, path: str, what: str, **kwargs: Any) -> Any:
        from github import GithubException

        try:
            _, data = self.repo.requester.requestJsonAndCheck(verb, self.repo.url + path, **kwargs)
        except GithubException as exc:
            raise _error(exc, what) from None
        except OSError as exc:
            raise self._unreachable(f"{what}", exc) from None
        return data

    def set_status(
        self, sha: str, state: str, description: str, *, target_url: str | None = None
    ) -> None:
        body: dict[str, Any] = {
            "state": state,
            "description": description[:140],  # GitHub's limit
            "context": STATUS_CONTEXT,
        }
        if target_url:
            body["target_url"] = target_url
        self._raw("POST", f"/statuses/{sha}", "commit status", input=body)

    # -- revocation pull requests (Git Data API: a constant number of calls) --------------------

    def commit_removals(self, base_branch: str, branch: str, paths: list[str], message: str) -> str:
        """Point ``branch`` at a new commit on top of ``base_branch`` that deletes ``paths``.

        Four calls whatever the number of paths (five the first time): the base branch with
        its commit's tree, one tree, one commit, the branch ref (force-moved, or created).
        """
        base = self._raw("GET", f"/branches/{quote(base_branch, safe='')}", f"branch {base_branch}")
        base_sha = base["commit"]["sha"]
        tree = self._raw(
            "POST",
            "/git/trees",
            "revocation tree",
            input={
                "base_tree": base["commit"]["commit"]["tree"]["sha"],
                "tree": [
                    {"path": path, "mode": "100644", "type": "blob", "sha": None} for path in paths
                ],
            },
        )
        commit = self._raw(
            "POST",
            "/git/commits",
            "revocation commit",
            input={"message": message, "tree": tree["sha"], "parents": [base_sha]},
        )
        sha = str(commit["sha"])
        from github import GithubException

        try:
            self.repo.requester.requestJsonAndCheck(
                "PATCH",
                f"{self.repo.url}/git/refs/heads/{branch}",
                input={"sha": sha, "force": True},
            )
        except GithubException as exc:
            if exc.status not in (404, 422):
                raise _error(exc, f"moving {branch}") from None
            try:
                self.repo.requester.requestJsonAndCheck(
                    "POST",
                    f"{self.repo.url}/git/refs",
                    input={"ref": f"refs/heads/{branch}", "sha": sha},
                )
            except GithubException as again:
                if again.status != 422:  # 422: another sweep created it a moment ago
                    raise _error(again, f"creating {branch}") from None
                self._raw(
                    "PATCH",
                    f"/git/refs/heads/{branch}",
                    f"moving {branch}",
                    input={"sha": sha, "force": True},
                )
        except OSError as exc:
            raise self._unreachable(f"moving {branch}", exc) from None
        return sha

    def _open_pull_data(self, head: str, base: str) -> dict[str, Any] | None:
        owner = self.repository.split("/")[0]
        found = self._raw(
            "GET",
            "/pulls",
            "open pull requests",
            parameters={"head": f"{owner}:{head}", "base": base, "state": "open"},
        )
        return found[0] if isinstance(found, list) and found else None

    def _find_or_open_pull(
        self, head: str, base: str, title: str, body: str, what: str
    ) -> tuple[dict[str, Any], bool]:
        """The open pull request from ``head`` into ``base``, or a new one (True). Never two:
        a 422 because another run opened it a moment ago yields that one."""
        current = self._open_pull_data(head, base)
        if current is not None:
            return current, False
        from github import GithubException

        try:
            _, created = self.repo.requester.requestJsonAndCheck(
                "POST",
                f"{self.repo.url}/pulls",
                input={"title": title, "head": head, "base": base, "body": body},
            )
            return created, True
        except GithubException as exc:
            current = self._open_pull_data(head, base) if exc.status == 422 else None
            if current is None:
                raise _error(exc, f"opening {what}") from None
            return current, False
        except OSError as exc:
            raise self._unreachable(f"opening {what}", exc) from None

    def find_or_open_pull(self, *, head: str, base: str, title: str, body: str) -> OpenedPull:
        """The open pull request from branch ``head`` into ``base`` as it is, or a new one."""
        data, created = self._find_or_open_pull(head, base, title, body, "the pull request")
        return _opened(data, created)

    def open_or_update_pull(
        self, *, head: str, base: str, title: str, body: str, labels: list[str]
    ) -> OpenedPull:
        """The open pull request from ``head``, updated; or a new one. Never two."""
        current, created = self._find_or_open_pull(
            head, base, title, body, "the revocation pull request"
        )
        number = int(current["number"])
        if not created and (current.get("title") != title or current.get("body") != body):
            self._raw(
                "PATCH",
                f"/pulls/{number}",
                "updating the pull request",
                input={"title": title, "body": body},
            )
        if labels:
            self._raw("POST", f"/issues/{number}/labels", "labels", input={"labels": labels})
        return _opened(current, created)

    def enable_auto_merge(self, number: int, node_id: str, *, method: str = "MERGE") -> None:
        """Ask GitHub to merge pull request #``number`` itself once its base branch's
        protection is satisfied. Only GraphQL can (``enablePullRequestAutoMerge``); GitHub's
        refusal (auto-merge not allowed on the repository, no branch protection, a pull
        request that could merge now) raises ``GraphQLRefusal`` with its reason."""
        pull = self._pull(number, node_id=node_id)
        self._call(f"auto-merge of #{number}", pull.enable_automerge, merge_method=method)

    # -- issues ------------------------------------------------------------------------------

    def open_issues(self, label: str) -> tuple[IssueInfo, ...]:
        """Open issues labelled ``label``, oldest first; GitHub lists pull requests among
        issues, so they are left out. One page (100) is plenty for jitops' own issues."""
        found = self._raw(
            "GET",
            "/issues",
            f"open issues labelled {label}",
            parameters={
                "state": "open",
                "labels": label,
                "sort": "created",
                "direction": "asc",
                "per_page": 100,
            },
        )
        return tuple(
            _issue_info(item)
            for item in (found if isinstance(found, list) else [])
            if isinstance(item, dict) and "pull_request" not in item
        )

    def create_issue(self, title: str, body: str, labels: list[str]) -> IssueInfo:
        created = self._raw(
            "POST",
            "/issues",
            "opening an issue",
            input={"title": title, "body": body, "labels": labels},
        )
        return _issue_info(created)

    def edit_issue(self, number: int, **changes: str) -> None:
        """Change an issue's ``title``, ``body``, ``state`` or ``state_reason``."""
        self._raw("PATCH", f"/issues/{number}", f"updating issue #{number}", input=changes)

    def comment(self, number: int, body: str) -> None:
        """A new comment on issue or pull request #``number``."""
        path = f"/issues/{number}/comments"
        self._raw("POST", path, f"comment on #{number}", input={"body": body})

    def set_pinned(self, node_id: str, pinned: bool) -> None:
        """Pin an issue to the top of the repository's issues, or unpin it (GraphQL only); a
        refusal (at most 3 pinned issues) raises ``GraphQLRefusal``."""
        mutation = "pinIssue" if pinned else "unpinIssue"
        self._call(
            "pinning the issue" if pinned else "unpinning the issue",
            self.repo.requester.graphql_named_mutation,
            mutation,
            {"issueId": node_id},
            "clientMutationId",
        )

    def authenticated_login(self) -> str:
        """The login of the account the token acts as, asked once per run.

        ``GET /user`` answers for a person's or machine user's token; an installation token
        (Actions' own, a GitHub App's) gets 403 there, and GraphQL's ``viewer`` names its bot
        account (``github-actions[bot]``) instead.
        """
        if self._login is None:
            try:
                data = self._call("reading the token's account", self._raw_user)
            except GitHubError as exc:
                if exc.status != 403:
                    raise
                data = self._viewer()
            login = data.get("login") if isinstance(data, dict) else None
            if not isinstance(login, str) or not login:
                raise GitHubError("GitHub did not say which account the token belongs to")
            self._login = login
        return self._login

    def _raw_user(self) -> Any:
        _, data = self._client.requester.requestJsonAndCheck("GET", f"{self.api_url}/user")
        return data

    def _viewer(self) -> Any:
        def ask() -> Any:
            _, data = self._client.requester.graphql_query("query { viewer { login } }", {})
            return (data.get("data") or {}).get("viewer") if isinstance(data, dict) else None

        return self._call("reading the token's account (GraphQL viewer)", ask)

    def _comments(self, number: int) -> list[dict[str, Any]]:
        """Every comment on issue or pull request #``number``, oldest first, page by page: a
        busy pull request's own comment may be past the first hundred."""
        found: list[dict[str, Any]] = []
        page = 1
        while True:
            batch = self._raw(
                "GET",
                f"/issues/{number}/comments",
                f"comments on #{number}",
                parameters={"per_page": 100, "page": page},
            )
            items = [c for c in batch if isinstance(c, dict)] if isinstance(batch, list) else []
            found += items
            if len(items) < 100:
                return found
            page += 1

    def upsert_comment(self, number: int, marker: str, body: str) -> str:
        """Create the PR comment that starts with ``marker``, or edit it; return its URL.

        jitops' comment is the one the token's own account wrote (Actions' bot or a machine
        user alike). A comment by anyone else is never edited or trusted, whatever it says:
        anyone who can comment can paste the marker above a forged verdict.
        """
        marked = [c for c in self._comments(number) if str(c.get("body", "")).startswith(marker)]
        me = self.authenticated_login().lower() if marked else ""  # a first run needs no call
        for comment in marked:
            user = comment.get("user")
            author = user.get("login") if isinstance(user, dict) else None
            if isinstance(author, str) and author.lower() == me:
                if comment.get("body") != body:
                    self._raw(
                        "PATCH",
                        f"/issues/comments/{comment['id']}",
                        "comment update",
                        input={"body": body},
                    )
                return str(comment.get("html_url", ""))
        created = self._raw(
            "POST", f"/issues/{number}/comments", f"comment on #{number}", input={"body": body}
        )
        return str(created.get("html_url", "")) if isinstance(created, dict) else ""


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


def _opened(data: dict[str, Any], created: bool) -> OpenedPull:
    return OpenedPull(
        int(data["number"]),
        str(data.get("html_url", "")),
        created,
        node_id=str(data.get("node_id", "")),
        auto_merge=data.get("auto_merge") is not None,
    )


def repository_from_url(url: str) -> str | None:
    """``owner/name`` of a git remote URL on GitHub (or GitHub Enterprise, or the test server):
    ``https://github.com/o/r.git``, ``git@github.com:o/r.git``, ``ssh://git@github.com/o/r``."""
    from urllib.parse import urlsplit

    if "://" in url:
        path = urlsplit(url).path
    elif ":" in url:  # scp-like: [user@]host:owner/name
        path = url.partition(":")[2]
    else:
        return None
    parts = [p for p in path.removesuffix("/").removesuffix(".git").split("/") if p]
    if len(parts) < 2:
        return None
    owner, name = parts[-2], parts[-1]
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9-]*", owner) or not re.fullmatch(
        r"[A-Za-z0-9._-]+", name
    ):
        return None
    return f"{owner}/{name}"


def serves_git_for(api_url: str, remote_url: str) -> bool:
    """Whether the GitHub at ``api_url`` is where ``remote_url`` lives, so its token may be
    sent there: the same host (GitHub Enterprise, ``https://ghe.example.com/api/v3``), or
    ``api.<host>`` (``https://api.github.com`` for ``https://github.com/o/r``). A token is never
    sent to any other server a remote happens to name."""
    from urllib.parse import urlsplit

    if "://" not in remote_url:
        return False  # scp-like ssh: git uses the person's own keys
    remote = urlsplit(remote_url)
    api = urlsplit(api_url)
    if remote.scheme not in ("http", "https") or not remote.hostname or not api.hostname:
        return False
    host, api_host = remote.hostname.lower(), api.hostname.lower()
    same_server = (remote.scheme, remote.port) == (api.scheme, api.port)
    return same_server and api_host in (host, f"api.{host}")


def _issue_info(data: Any) -> IssueInfo:
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


def _pull_info(pr: Any) -> PullRequestInfo:
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


def _file_status(status: str) -> FileStatus:
    try:
        return FileStatus(status)
    except ValueError:
        return FileStatus.CHANGED
