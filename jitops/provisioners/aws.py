"""The ``aws`` provisioner: membership of IAM users in jitops-managed IAM groups.

A role of the target maps to an IAM group of the same name, or the one its settings' ``roles``
mapping names (``roles: {readonly: sandbox-readonly}``); a grant
adds the requester's IAM user (``user_template``, default the GitHub login, or a ``users``
entry) to that group, a revoke removes it. The group's policies are the access.

Why IAM groups and not IAM Identity Center account assignments: both fit the model, but the
Identity Center API can attach no metadata to an assignment (so ``list_managed`` could not say
which request it belongs to or when it ends), its assignments are asynchronous, and moto, which
the tests run against, implements group membership faithfully while its account assignments
are not idempotent. Identity Center can come later as its own kind behind the same interface.

What jitops manages, and how it knows:

- **Groups under ``group_path``** (default ``/jitops/``) are jitops'. jitops only ever adds to
  or removes from a group on that path, and ``list_managed`` lists every member of every group
  there, so a group dropped from ``roles`` still shows its leftover members as drift.
- **Which requests hold a membership, until when,** is recorded in a tag on the IAM user:
  key ``jitops/<group>``, value ``<request id>@<expiry>`` entries separated by spaces (IAM tag
  values allow no JSON). Two requests can share one membership (an extension is a new
  request): revoking one keeps the membership while the other is recorded.
- IAM group membership has no native expiry; the sweeper's revoke enforces it, and the tag
  makes the expiry visible. jitops never creates IAM users or credentials: users must exist.

Credentials: the optional secrets ``access_key_id``, ``secret_access_key`` and
``session_token`` name the environment variables holding them; without them boto3's default
chain is used (for example the credentials of a role assumed through GitHub's OIDC).
The identity needs: iam:GetUser, iam:GetGroup, iam:ListGroups, iam:ListGroupsForUser,
iam:AddUserToGroup, iam:RemoveUserFromGroup, iam:ListUserTags, iam:TagUser, iam:UntagUser,
restricted to the group path, and sts:GetCallerIdentity for ``check``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pydantic

from jitops.provisioners.interface import (
    CheckResult,
    CheckStatus,
    Grant,
    ManagedAccess,
    Provisioner,
    ProvisionerError,
    SettingsProblem,
    requester_of,
)

__all__ = ["AwsProvisioner", "AwsSettings", "TAG_PREFIX"]

TAG_PREFIX = "jitops/"
_MAX_TAG_VALUE = 256
# IAM user and group names; group names are kept short enough for the tag key to fit 128.
_IAM_NAME = re.compile(r"[\w+=,.@-]{1,64}")
_GROUP_NAME = re.compile(rf"[\w+=,.@-]{{1,{128 - len(TAG_PREFIX)}}}")
_IAM_PATH = re.compile(r"/(?:[\x21-\x7e]{1,510}/)?")
# Characters an IAM tag value may hold: a request id must survive the round trip.
_TAG_SAFE = re.compile(r"[\w.:/=+@-]+")


class AwsSettings(pydantic.BaseModel):
    """Settings of an ``aws`` target."""

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)

    region: str = pydantic.Field("us-east-1", pattern=r"^[a-z]{2}(-[a-z]+)+-\d+$")
    endpoint_url: str | None = pydantic.Field(
        None, pattern=r"^https?://", description="a non-default IAM/STS endpoint (tests, VPC)"
    )
    roles: dict[str, str] = pydantic.Field(
        default_factory=dict, description="jitops role → IAM group (default: the same name)"
    )
    group_path: str = pydantic.Field("/jitops/", description="IAM path of jitops' groups")
    user_template: str = pydantic.Field("{login}", description="IAM user for a GitHub login")
    users: dict[str, str] = pydantic.Field(
        default_factory=dict, description="GitHub login → IAM user name, overriding"
    )
    max_attempts: int = pydantic.Field(5, ge=1, le=10, description="tries per AWS call")

    @pydantic.field_validator("roles")
    @classmethod
    def _groups(cls, roles: dict[str, str]) -> dict[str, str]:
        wrong = [group for group in roles.values() if not _GROUP_NAME.fullmatch(group)]
        if wrong:
            raise ValueError(f"not IAM group names (or longer than 121): {', '.join(wrong)}")
        return roles

    @pydantic.field_validator("group_path")
    @classmethod
    def _path(cls, path: str) -> str:
        if not _IAM_PATH.fullmatch(path) or path == "/":
            raise ValueError("must be an IAM path of its own such as /jitops/ (not /)")
        return path

    @pydantic.field_validator("user_template")
    @classmethod
    def _template(cls, template: str) -> str:
        if template.count("{login}") != 1 or not _IAM_NAME.fullmatch(
            template.replace("{login}", "x")
        ):
            raise ValueError("must contain {login} once and otherwise IAM name characters")
        return template

    @pydantic.field_validator("users")
    @classmethod
    def _users(cls, users: dict[str, str]) -> dict[str, str]:
        wrong = [user for user in users.values() if not _IAM_NAME.fullmatch(user)]
        if wrong:
            raise ValueError(f"not IAM user names: {', '.join(wrong)}")
        return {github.lower(): user for github, user in users.items()}


def _parse_tag(value: str) -> dict[str, datetime]:
    records: dict[str, datetime] = {}
    for entry in value.split():
        request_id, _, expiry = entry.rpartition("@")
        try:
            records[request_id] = datetime.fromisoformat(expiry)
        except ValueError:
            continue  # not ours, or damaged: the membership still shows, without a request
    return records


def _format_tag(records: Mapping[str, datetime]) -> str:
    return " ".join(
        f"{rid}@{expiry.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}"
        for rid, expiry in sorted(records.items())
    )


def _boto3() -> Any:
    try:
        import boto3
    except ImportError:
        raise ProvisionerError(
            "the aws provisioner needs boto3: pip install 'jitops[aws]'"
        ) from None
    return boto3


class AwsProvisioner(Provisioner[AwsSettings]):
    """Adds IAM users to, and removes them from, IAM groups under the jitops path."""

    kind = "aws"
    settings_model = AwsSettings
    optional_secrets = frozenset({"access_key_id", "secret_access_key", "session_token"})

    _session: Any = None

    @classmethod
    def _secret_problems(cls, secrets: Mapping[str, str]) -> Iterable[SettingsProblem]:
        yield from super()._secret_problems(secrets)
        pair = {"access_key_id", "secret_access_key"}
        if len(pair & secrets.keys()) == 1:
            [missing] = pair - secrets.keys()
            yield SettingsProblem(
                ("secrets", missing), "access_key_id and secret_access_key go together"
            )

    def describe(self) -> str:
        s = self.settings
        roles = ", ".join(f"{name}→{group}" for name, group in sorted(s.roles.items()))
        where = s.endpoint_url or f"IAM ({s.region})"
        return f"aws target {self.target.name!r}: {where}, groups under {s.group_path}: {roles}"

    # -- mapping -------------------------------------------------------------------------------

    def user_for(self, requester: str) -> str:
        """The IAM user name of GitHub login ``requester``."""
        github = requester.lower()
        user = self.settings.users.get(github) or self.settings.user_template.replace(
            "{login}", github
        )
        if not _IAM_NAME.fullmatch(user):
            raise self.error(f"GitHub login {requester!r} maps to {user!r}, not an IAM user name")
        return user

    def _group_for(self, grant: Grant) -> str:
        group = self.mapped_role(grant, self.roles)
        if not _GROUP_NAME.fullmatch(group):
            raise self.error(
                f"role {grant.role!r} is not a usable IAM group name; map it in `roles`"
            )
        if not _TAG_SAFE.fullmatch(grant.request_id) or "@" in grant.request_id:
            raise self.error(f"request id {grant.request_id!r} cannot be recorded in an IAM tag")
        return group

    # -- AWS -----------------------------------------------------------------------------------

    def _client(self, service: str) -> Any:
        boto3 = _boto3()
        if self._session is None:
            key = self.optional_secret("access_key_id")
            self._session = boto3.session.Session(
                aws_access_key_id=key,
                aws_secret_access_key=self.secret("secret_access_key") if key else None,
                aws_session_token=self.optional_secret("session_token"),
                region_name=self.settings.region,
            )
        from botocore.config import Config

        return self._session.client(
            service,
            endpoint_url=self.settings.endpoint_url,
            config=Config(
                connect_timeout=10,
                read_timeout=30,
                retries={"mode": "standard", "max_attempts": self.settings.max_attempts},
            ),
        )

    @contextmanager
    def _aws(self, doing: str) -> Iterator[None]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            yield
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise self.error(
                f"{doing}: {error.get('Code', 'error')}: {error.get('Message', str(exc))}"
            ) from None
        except BotoCoreError as exc:
            raise self.error(f"{doing}: {exc}") from None

    @staticmethod
    def _missing(exc: Exception) -> bool:
        response: Mapping[str, Any] = getattr(exc, "response", {})
        return bool(response.get("Error", {}).get("Code") == "NoSuchEntity")

    def _group(self, iam: Any, group: str) -> dict[str, Any]:
        from botocore.exceptions import ClientError

        try:
            found: dict[str, Any] = iam.get_group(GroupName=group, MaxItems=1)["Group"]
        except ClientError as exc:
            if self._missing(exc):
                raise self.error(
                    f"IAM group {group!r} does not exist; create it with path "
                    f"{self.settings.group_path} (aws iam create-group --group-name {group} "
                    f"--path {self.settings.group_path})"
                ) from None
            raise
        if found["Path"] != self.settings.group_path:
            raise self.error(
                f"IAM group {group!r} has path {found['Path']}, not {self.settings.group_path}; "
                f"jitops only manages groups under its path"
            )
        return found

    def _records(self, iam: Any, user: str, group: str) -> dict[str, datetime]:
        tags = iam.list_user_tags(UserName=user)["Tags"]  # at most 50 per user: one page
        for tag in tags:
            if tag["Key"] == TAG_PREFIX + group:
                return _parse_tag(tag["Value"])
        return {}

    def _write_records(
        self, iam: Any, user: str, group: str, records: Mapping[str, datetime]
    ) -> None:
        key = TAG_PREFIX + group
        if not records:
            iam.untag_user(UserName=user, TagKeys=[key])
            return
        value = _format_tag(records)
        if len(value) > _MAX_TAG_VALUE:
            raise self.error(
                f"too many overlapping requests for {user!r} in {group!r} to record in one IAM "
                f"tag ({', '.join(sorted(records))}); revoke the older ones first"
            )
        iam.tag_user(UserName=user, Tags=[{"Key": key, "Value": value}])

    # -- operations ----------------------------------------------------------------------------

    def grant(self, grant: Grant) -> None:
        group = self._group_for(grant)
        user = self.user_for(grant.requester)
        from botocore.exceptions import ClientError

        with self._aws(f"granting {group} to {user}"):
            iam = self._client("iam")
            self._group(iam, group)
            try:
                iam.get_user(UserName=user)
            except ClientError as exc:
                if self._missing(exc):
                    raise self.error(
                        f"IAM user {user!r} (GitHub login {grant.requester!r}) does not exist; "
                        f"jitops does not create IAM users: create it, or map the login in "
                        f"`users`"
                    ) from None
                raise
            records = self._records(iam, user, group)
            records[grant.request_id] = grant.expires_at
            # Record first: a failure between the two steps leaves a record without a
            # membership, which a retry completes, never a membership nobody accounts for.
            self._write_records(iam, user, group, records)
            iam.add_user_to_group(GroupName=group, UserName=user)

    def revoke(self, grant: Grant) -> None:
        group = self._group_for(grant)
        user = self.user_for(grant.requester)
        from botocore.exceptions import ClientError

        with self._aws(f"revoking {group} from {user}"):
            iam = self._client("iam")
            try:
                records = self._records(iam, user, group)
            except ClientError as exc:
                if self._missing(exc):
                    return  # no such user: nothing to revoke
                raise
            records.pop(grant.request_id, None)
            if not records:  # no other request shares this membership
                try:
                    iam.remove_user_from_group(GroupName=group, UserName=user)
                except ClientError as exc:
                    if not self._missing(exc):
                        raise
                still = iam.list_groups_for_user(UserName=user)["Groups"]
                if any(g["GroupName"] == group for g in still):
                    raise self.error(f"{user!r} is still in {group!r} after removal; retry")
            self._write_records(iam, user, group, records)

    def list_managed(self) -> list[ManagedAccess]:
        by_group = {group: role for role, group in sorted(self.roles.items())}
        managed: list[ManagedAccess] = []
        with self._aws("listing jitops' groups"):
            iam = self._client("iam")
            groups = [
                group["GroupName"]
                for page in iam.get_paginator("list_groups").paginate(
                    PathPrefix=self.settings.group_path
                )
                for group in page["Groups"]
                if group["Path"] == self.settings.group_path
            ]
            for group in sorted(groups):
                members = [
                    user["UserName"]
                    for page in iam.get_paginator("get_group").paginate(GroupName=group)
                    for user in page["Users"]
                ]
                for user in sorted(members):
                    requester = requester_of(user, self.settings.user_template, self.settings.users)
                    found = self._records(iam, user, group)
                    # A member without a record is still managed (drift): report it bare.
                    records: dict[str | None, datetime | None] = {None: None}
                    if found:
                        records = dict(found.items())
                    managed.extend(
                        ManagedAccess(
                            target=self.target.name,
                            identity=user,
                            role=by_group.get(group, group),
                            requester=requester,
                            expires_at=expiry,
                            request_id=rid,
                        )
                        for rid, expiry in sorted(records.items(), key=lambda r: str(r[0]))
                    )
        return managed

    def check(self) -> list[CheckResult]:
        try:
            with self._aws("checking credentials"):
                identity = self._client("sts").get_caller_identity()
        except ProvisionerError as exc:
            return [
                self.result(
                    "reachable",
                    CheckStatus.ERROR,
                    exc.message,
                    "check the credentials secrets (or the workflow's role) and endpoint_url",
                )
            ]
        arn = str(identity.get("Arn", "?"))
        results = [self.result("reachable", CheckStatus.OK, f"authenticated as {arn}")]
        if arn.endswith(":root"):
            results.append(
                self.result(
                    "least-privilege",
                    CheckStatus.WARNING,
                    "these are the account's root credentials: far more than jitops needs",
                    "use a dedicated IAM role allowed only the actions listed in jitops' docs, "
                    f"on groups under {self.settings.group_path}",
                )
            )
        iam = self._client("iam")
        for group in sorted(set(self.roles.values())):
            try:
                with self._aws(f"reading group {group}"):
                    self._group(iam, group)
            except ProvisionerError as exc:
                results.append(
                    self.result(
                        "groups",
                        CheckStatus.ERROR,
                        exc.message,
                        f"create {group} with path {self.settings.group_path}, or fix `roles`",
                    )
                )
            else:
                results.append(self.result("groups", CheckStatus.OK, f"group {group} is ready"))
        return results
