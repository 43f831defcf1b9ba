"""People on GitHub: who is an active member of a team (asked once per run), and the team
memberships the github-team provisioner grants and revokes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from jitops.github.client import PAGE_SIZE, GitHubBase, every_page
from jitops.github.errors import error_from


class PeopleMixin(GitHubBase):
    """Team membership, read and changed."""

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
                    raise error_from(exc, f"membership of @{login} in @{org}/{slug}") from None
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
            raise error_from(exc, what) from None
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
        members = every_page(
            lambda page: self._org_call(
                "GET",
                f"/orgs/{org}/teams/{team}/members",
                f"members of @{org}/{team}",
                parameters={"per_page": PAGE_SIZE, "page": page},
            )
        )
        return [m["login"] for m in members if isinstance(m.get("login"), str)]

    def team_exists(self, org: str, team: str) -> bool:
        from github import GithubException

        try:
            self._client.requester.requestJsonAndCheck(
                "GET", f"{self.api_url}/orgs/{org}/teams/{team}"
            )
        except GithubException as exc:
            if exc.status == 404:
                return False
            raise error_from(exc, f"team @{org}/{team}") from None
        except OSError as exc:
            raise self._unreachable(f"team @{org}/{team}", exc) from None
        return True
