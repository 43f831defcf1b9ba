"""The ``github-team`` provisioner against the GitHub test server: real HTTP through
``jitops.github``, team memberships as GitHub keeps them."""

from __future__ import annotations

import pytest

from jitops.provisioners.github_team import GitHubTeamProvisioner
from jitops.provisioners.interface import CheckStatus, ProvisionerError, TargetConfig
from jitops.testing.github import GitHubServer
from tests.provisioners._grants import make_grant


@pytest.fixture
def team(github_server: GitHubServer, github_names: str) -> tuple[GitHubServer, str, str, str]:
    hub = github_server.hub
    manager = hub.add_user(f"manager-{github_names}")
    alice = hub.add_user(f"alice-{github_names}")
    org = f"acme-{github_names}"
    hub.add_org(org, members=[alice.login])
    hub.add_org_owner(org, manager.login)
    hub.add_team(org, "deployers")
    return github_server, org, manager.token, alice.login


def provisioner(server: GitHubServer, org: str, token: str) -> GitHubTeamProvisioner:
    target = TargetConfig(
        "deployers",
        "github-team",
        {"org": org, "roles": {"member": "deployers"}, "api_url": server.base_url},
        {"token": "TEAM_TOKEN"},
        roles=("member",),
    )
    return GitHubTeamProvisioner(target, {"TEAM_TOKEN": token})


def test_grant_list_and_revoke_membership(team: tuple[GitHubServer, str, str, str]) -> None:
    server, org, token, alice = team
    prov = provisioner(server, org, token)
    grant = make_grant(alice, "member", target="deployers")
    prov.grant(grant)
    prov.grant(grant)  # idempotent
    assert server.hub.membership(org, "deployers", alice).state == "active"
    assert [(m.identity, m.role) for m in prov.list_managed()] == [(alice, "member")]
    prov.revoke(grant)
    prov.revoke(grant)  # revoking absent access succeeds
    assert prov.list_managed() == []


def test_check_reports_a_missing_team(team: tuple[GitHubServer, str, str, str]) -> None:
    server, org, token, _ = team
    good = provisioner(server, org, token).check()
    assert [r.status for r in good] == [CheckStatus.OK]
    target = TargetConfig(
        "deployers", "github-team",
        {"org": org, "roles": {"member": "ghosts"}, "api_url": server.base_url},
        {"token": "TEAM_TOKEN"}, roles=("member",),
    )  # fmt: skip
    [result] = GitHubTeamProvisioner(target, {"TEAM_TOKEN": token}).check()
    assert result.status is CheckStatus.ERROR and "does not exist" in result.message


def test_a_token_that_may_not_manage_the_team_fails_without_leaking_it(
    team: tuple[GitHubServer, str, str, str], github_names: str
) -> None:
    server, org, _, alice = team
    outsider = server.hub.add_user(f"outsider-{github_names}")
    with pytest.raises(ProvisionerError) as failed:
        provisioner(server, org, outsider.token).grant(
            make_grant(alice, "member", target="deployers")
        )
    assert "HTTP 403" in failed.value.message
    assert outsider.token not in failed.value.message
