"""The aws provisioner against moto's server mode (real HTTP on loopback, no AWS)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from jitops.provisioners.aws import TAG_PREFIX, AwsProvisioner
from jitops.provisioners.interface import (
    CheckStatus,
    ProvisionerError,
    SecretMissing,
    SettingsError,
    TargetConfig,
)
from tests.fixtures.moto import MotoServer
from tests.provisioners._grants import make_grant

_counter = itertools.count()


@dataclass
class Account:
    moto: MotoServer
    n: int
    iam: Any

    @property
    def path(self) -> str:
        return f"/jitops/t{self.n}/"

    @property
    def readonly(self) -> str:
        return f"sandbox-ro-{self.n}"

    @property
    def admin(self) -> str:
        return f"sandbox-admin-{self.n}"

    def user(self, github: str) -> str:
        return f"u{self.n}-{github}"

    def add_user(self, github: str) -> str:
        self.iam.create_user(UserName=self.user(github))
        return self.user(github)

    def target(self, secrets: dict[str, str] | None = None, **settings: Any) -> TargetConfig:
        base: dict[str, object] = {
            "region": self.moto.region,
            "endpoint_url": self.moto.endpoint_url,
            "roles": {"readonly": self.readonly, "admin": self.admin},
            "group_path": self.path,
            "user_template": f"u{self.n}-{{login}}",
        }
        return TargetConfig("sandbox", "aws", base | settings, secrets or {})

    def provisioner(self, environ: dict[str, str] | None = None, **kw: Any) -> AwsProvisioner:
        return AwsProvisioner(self.target(**kw), environ)

    def groups_of(self, github: str) -> list[str]:
        groups = self.iam.list_groups_for_user(UserName=self.user(github))["Groups"]
        return sorted(group["GroupName"] for group in groups)

    def tags_of(self, github: str) -> dict[str, str]:
        tags = self.iam.list_user_tags(UserName=self.user(github))["Tags"]
        return {tag["Key"]: tag["Value"] for tag in tags}


@pytest.fixture
def account(moto_server: MotoServer) -> Account:
    box = Account(moto_server, next(_counter), moto_server.client("iam"))
    box.iam.create_group(GroupName=box.readonly, Path=box.path)
    box.iam.create_group(GroupName=box.admin, Path=box.path)
    return box


def test_grant_adds_the_user_to_the_group_once(account: Account) -> None:
    account.add_user("alice")
    provisioner = account.provisioner()
    grant = make_grant("alice", "readonly")
    provisioner.grant(grant)
    provisioner.grant_all([grant, grant])
    assert account.groups_of("alice") == [account.readonly]
    [managed] = provisioner.list_managed()
    assert (managed.identity, managed.role, managed.requester) == (
        account.user("alice"),
        "readonly",
        "alice",
    )
    assert (managed.request_id, managed.expires_at) == (grant.request_id, grant.expires_at)


def test_revoke_removes_and_is_idempotent(account: Account) -> None:
    account.add_user("alice")
    provisioner = account.provisioner()
    grant = make_grant("alice", "readonly")
    provisioner.grant(grant)
    provisioner.revoke(grant)
    assert account.groups_of("alice") == []
    assert TAG_PREFIX + account.readonly not in account.tags_of("alice")
    provisioner.revoke_all([grant, grant])
    provisioner.revoke(make_grant("nobody", "readonly"))  # no such IAM user
    assert provisioner.list_managed() == []


def test_an_extension_keeps_the_shared_membership(account: Account) -> None:
    account.add_user("alice")
    provisioner = account.provisioner()
    first = make_grant("alice", "readonly", request_id="first")
    extension = make_grant("alice", "readonly", request_id="second", expires_in=timedelta(hours=8))
    provisioner.grant_all([first, extension])
    provisioner.revoke(first)
    assert account.groups_of("alice") == [account.readonly]
    assert [m.request_id for m in provisioner.list_managed()] == ["second"]
    provisioner.revoke(extension)
    assert account.groups_of("alice") == []


def test_missing_user_is_not_created(account: Account) -> None:
    with pytest.raises(ProvisionerError, match="does not create IAM users"):
        account.provisioner().grant(make_grant("ghost", "readonly"))
    users = {user["UserName"] for user in account.iam.list_users()["Users"]}
    assert account.user("ghost") not in users


def test_group_outside_the_jitops_path_is_refused(account: Account) -> None:
    account.add_user("alice")
    outside = f"Administrators-{account.n}"
    account.iam.create_group(GroupName=outside, Path="/")
    provisioner = account.provisioner(roles={"readonly": outside})
    with pytest.raises(ProvisionerError, match="only manages groups under its path"):
        provisioner.grant(make_grant("alice", "readonly"))
    assert account.groups_of("alice") == []


def test_list_managed_reports_members_added_by_hand(account: Account) -> None:
    account.add_user("alice")
    account.add_user("mallory")
    provisioner = account.provisioner()
    provisioner.grant(make_grant("alice", "readonly"))
    account.iam.add_user_to_group(GroupName=account.admin, UserName=account.user("mallory"))
    managed = {(m.identity, m.role, m.request_id) for m in provisioner.list_managed()}
    assert managed == {
        (account.user("alice"), "readonly", "req-alice-readonly"),
        (account.user("mallory"), "admin", None),
    }


def test_unknown_role_is_refused(account: Account) -> None:
    with pytest.raises(ProvisionerError, match="does not offer"):
        account.provisioner().grant(make_grant("alice", "root"))


def test_credentials_from_named_variables_and_never_shown(account: Account) -> None:
    secret = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"
    secrets = {"access_key_id": "SANDBOX_AWS_KEY", "secret_access_key": "SANDBOX_AWS_SECRET"}
    provisioner = AwsProvisioner(
        account.target(secrets=secrets),
        {"SANDBOX_AWS_KEY": "AKIAEXAMPLE", "SANDBOX_AWS_SECRET": secret},
    )
    results = provisioner.check()
    assert [r.status for r in results] == [CheckStatus.OK] * 3
    assert all(secret not in r.message for r in results)
    assert secret not in repr(provisioner)
    unset = AwsProvisioner(account.target(secrets=secrets), {"SANDBOX_AWS_KEY": "AKIAEXAMPLE"})
    with pytest.raises(SecretMissing, match="SANDBOX_AWS_SECRET"):
        unset.list_managed()


def test_check_reports_a_missing_group_with_a_fix(account: Account) -> None:
    results = account.provisioner(roles={"readonly": f"missing-{account.n}"}).check()
    [group] = [r for r in results if r.check == "groups"]
    assert group.status is CheckStatus.ERROR
    assert group.fix is not None and account.path in group.fix


def test_unreachable_endpoint_is_a_clear_error(account: Account) -> None:
    # A closed loopback port: connection refused at once, never a call outside this machine.
    provisioner = account.provisioner(endpoint_url="http://127.0.0.1:9", max_attempts=1)
    [result] = provisioner.check()
    assert result.status is CheckStatus.ERROR
    assert "127.0.0.1:9" in result.message


@pytest.mark.parametrize(
    ("settings", "secrets", "loc"),
    [
        ({"roles": {"ro": "bad group!"}}, {}, ("settings", "roles")),
        ({"group_path": "/"}, {}, ("settings", "group_path")),
        ({"region": "mars"}, {}, ("settings", "region")),
        ({}, {"access_key_id": "KEY_VAR"}, ("secrets", "secret_access_key")),
        ({}, {"password": "PW"}, ("secrets", "password")),
    ],
)
def test_settings_are_validated_offline(
    account: Account, settings: dict[str, Any], secrets: dict[str, str], loc: tuple[str, ...]
) -> None:
    with pytest.raises(SettingsError) as caught:
        AwsProvisioner.validate_target(account.target(secrets=secrets, **settings))
    assert [p.loc[:2] for p in caught.value.problems] == [loc]
