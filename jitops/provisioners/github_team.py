"""The ``github-team`` provisioner: access is membership of a GitHub team.

Each role of the target maps to a team of ``org`` (by default the team whose slug is the role's
name; ``roles`` names others). Granting adds the requester as a ``member`` of that team (for a
login outside the organisation GitHub sends an invitation: the membership is then pending until
accepted); revoking removes the membership, and removing an absent one succeeds.

The teams must be dedicated to jitops: ``list_managed`` reports every member as jitops-managed,
so ``jitops reconcile`` removes anyone whom no active request names. GitHub has no native
expiry for team membership, so the sweeper alone enforces it (invariant 4).

Talks to GitHub only through ``jitops.github``. Secret: ``token``, a token that may manage the
teams' membership (a GitHub App installation token with organisation ``members: write``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import pydantic

from jitops.actions_context import DEFAULT_API_URL
from jitops.errors import JitopsError
from jitops.provisioners.interface import (
    CheckResult,
    CheckStatus,
    Grant,
    ManagedAccess,
    Provisioner,
)

if TYPE_CHECKING:
    from jitops.github import GitHub

__all__ = ["GitHubTeamProvisioner", "GitHubTeamSettings"]

T = TypeVar("T")

_SLUG = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"


class GitHubTeamSettings(pydantic.BaseModel):
    """Settings of a ``github-team`` target."""

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)

    org: str = pydantic.Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}$")
    roles: dict[str, str] = pydantic.Field(
        default_factory=dict, description="role → team slug (default: a team named as the role)"
    )
    api_url: str = pydantic.Field(
        DEFAULT_API_URL, description="GitHub Enterprise: https://HOST/api/v3"
    )

    @pydantic.field_validator("roles")
    @classmethod
    def _slugs(cls, roles: dict[str, str]) -> dict[str, str]:
        import re

        wrong = [slug for slug in roles.values() if not re.match(_SLUG, slug)]
        if wrong:
            raise ValueError(f"not team slugs: {', '.join(map(repr, wrong))}")
        return roles


class GitHubTeamProvisioner(Provisioner[GitHubTeamSettings]):
    kind = "github-team"
    settings_model = GitHubTeamSettings
    required_secrets = frozenset({"token"})

    def _client(self) -> GitHub:
        from jitops.github import GitHub

        return GitHub(self.secret("token"), api_url=self.settings.api_url)

    def describe(self) -> str:
        teams = ", ".join(
            f"{role} → @{self.settings.org}/{team}" for role, team in self.roles.items()
        )
        return f"github-team target {self.target.name!r}: {teams or 'no roles'}"

    def _call(self, what: str, action: Callable[[], T]) -> T:
        try:
            return action()
        except JitopsError as exc:
            raise self.error(f"{what}: {exc.message}") from None

    def grant(self, grant: Grant) -> None:
        team = self.mapped_role(grant, self.roles)
        client = self._client()
        self._call(
            f"granting {grant.request_id}",
            lambda: client.add_team_member(self.settings.org, team, grant.requester),
        )

    def revoke(self, grant: Grant) -> None:
        team = self.mapped_role(grant, self.roles)
        client = self._client()
        self._call(
            f"revoking {grant.request_id}",
            lambda: client.remove_team_member(self.settings.org, team, grant.requester),
        )

    def list_managed(self) -> list[ManagedAccess]:
        client = self._client()
        managed: list[ManagedAccess] = []
        for role, team in sorted(self.roles.items()):
            members = self._call(
                f"listing @{self.settings.org}/{team}",
                lambda team=team: client.team_members(self.settings.org, team),  # type: ignore[misc]
            )
            managed.extend(
                ManagedAccess(target=self.target.name, identity=login, role=role, requester=login)
                for login in members
            )
        return managed

    def check(self) -> list[CheckResult]:
        try:
            client = self._client()
        except JitopsError as exc:
            return [self.result("secrets", CheckStatus.ERROR, exc.message)]
        results: list[CheckResult] = []
        for role, team in sorted(self.roles.items()):
            name = f"@{self.settings.org}/{team}"
            try:
                exists = client.team_exists(self.settings.org, team)
            except JitopsError as exc:
                results.append(self.result("reachable", CheckStatus.ERROR, exc.message))
                continue
            if exists:
                results.append(
                    self.result("team", CheckStatus.OK, f"role {role}: team {name} exists")
                )
            else:
                results.append(
                    self.result(
                        "team",
                        CheckStatus.ERROR,
                        f"role {role}: team {name} does not exist or the token cannot see it",
                        f"create {name} (dedicated to jitops) or map the role to another team",
                    )
                )
        return results
