"""Teams named by id, as PyGithub's ``Team`` reaches them: GitHub gives a team's ``url`` by
id, and ``Team`` calls ``{url}/members/{username}``, ``{url}/memberships/{username}``... —
GitHub's legacy team routes, answering as the routes naming a team by org and slug."""

from __future__ import annotations

import pytest
from github import Github, GithubException
from github.Team import Team

from tests.fixtures.github_server import RepoSetup


def team_of(setup: RepoSetup, token: str, **people: list[str]) -> tuple[Github, Team]:
    """A new team ``leads-by-id`` of the setup's org with ``people`` (``members=``,
    ``pending=``), as ``token``'s client gets it by slug."""
    setup.server.hub.add_team(setup.org, "leads-by-id", name="Leads by id", **people)
    gh = setup.server.pygithub(token)
    return gh, gh.get_organization(setup.org).get_team_by_slug("leads-by-id")


def test_team_has_in_members_only_for_active_members(github_repo: RepoSetup) -> None:
    """``Team.has_in_members`` calls the legacy "Get team member": 204 if the user is a member,
    404 if not — and a pending (invited) member is not one
    (https://docs.github.com/rest/teams/members#get-team-member-legacy)."""
    active, invited = github_repo.reviewer.login, github_repo.author.login
    gh, team = team_of(github_repo, github_repo.author.token, members=[active], pending=[invited])
    assert team.has_in_members(gh.get_user(active))
    assert not team.has_in_members(gh.get_user(invited))
    assert not team.has_in_members(gh.get_user(github_repo.admin.login))  # never invited


def test_team_by_id(github_repo: RepoSetup) -> None:
    """``Organization.get_team(id)`` calls the legacy "Get a team", which answers as "Get a team
    by name"; 404 for an id no team has
    (https://docs.github.com/rest/teams/teams#get-a-team-legacy)."""
    gh, by_slug = team_of(github_repo, github_repo.author.token)
    org = gh.get_organization(github_repo.org)
    team = org.get_team(by_slug.id)
    assert (team.slug, team.name) == ("leads-by-id", "Leads by id")
    assert team.url == f"{github_repo.server.base_url}/teams/{by_slug.id}"
    assert team.raw_data == by_slug.raw_data
    with pytest.raises(GithubException) as missing:
        org.get_team(1)
    assert missing.value.status == 404


def test_team_membership_changes_through_the_team(github_repo: RepoSetup) -> None:
    """``Team.add_membership``/``remove_membership`` call the legacy "Add or update team
    membership" and "Remove team membership"; only an organisation owner may
    (https://docs.github.com/rest/teams/members#add-or-update-team-membership-for-a-user-legacy,
    https://docs.github.com/rest/teams/members#remove-team-membership-for-a-user-legacy)."""
    gh, team = team_of(github_repo, github_repo.admin.token)  # an owner of the organisation
    author = gh.get_user(github_repo.author.login)
    team.add_membership(author, role="maintainer")
    membership = team.get_team_membership(author)
    assert (membership.state, membership.role) == ("active", "maintainer")
    assert team.has_in_members(author)
    team.remove_membership(author)
    assert not team.has_in_members(author)
    theirs = github_repo.server.pygithub(github_repo.author.token).get_organization(github_repo.org)
    with pytest.raises(GithubException) as refused:
        theirs.get_team_by_slug("leads-by-id").add_membership(author)
    assert refused.value.status == 403
