"""The settings of a ``postgres`` target, and the role names jitops will write."""

from __future__ import annotations

import re
from typing import Literal

import pydantic

# Role names jitops writes. Always quoted (psycopg.sql.Identifier), so this is not about
# injection: it keeps names unsurprising, and refuses names PostgreSQL would silently truncate
# (63 bytes), which could make two people share one login.
ROLE_NAME = re.compile(r"[a-z0-9_][a-z0-9_$-]{0,62}")


def role_name(value: str) -> str:
    if not ROLE_NAME.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a usable role name: lower-case letters, digits, _ $ -, "
            f"not starting with $ or -, at most 63 characters"
        )
    if value.startswith("pg_"):
        raise ValueError(f"{value!r}: names starting with pg_ are reserved by PostgreSQL")
    return value


class PostgresSettings(pydantic.BaseModel):
    """Settings of a ``postgres`` target (the password is the secret ``password``)."""

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)

    host: str = pydantic.Field(min_length=1, description="host name, or a Unix socket directory")
    port: int = pydantic.Field(5432, ge=1, le=65535)
    dbname: str = pydantic.Field("postgres", min_length=1)
    user: str = pydantic.Field(min_length=1, description="the provisioner's own login role")
    sslmode: Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] = "prefer"
    connect_timeout: int = pydantic.Field(10, ge=1, le=300)
    roles: dict[str, str] = pydantic.Field(
        default_factory=dict,
        description="jitops role → PostgreSQL role granted for it (default: the same name)",
    )
    login_template: str = pydantic.Field(
        "jit_{login}", description="database login role for a GitHub login ({login}, lower-case)"
    )
    logins: dict[str, str] = pydantic.Field(
        default_factory=dict, description="GitHub login → database login role, overriding"
    )
    create_logins: bool = True
    action_user: str | None = pydantic.Field(
        None,
        description="the login SQL actions run as (its password: the secret action_password); "
        "never the provisioner",
    )

    @pydantic.field_validator("roles")
    @classmethod
    def _roles(cls, roles: dict[str, str]) -> dict[str, str]:
        for pg_role in roles.values():
            role_name(pg_role)
        return roles

    @pydantic.field_validator("logins")
    @classmethod
    def _logins(cls, logins: dict[str, str]) -> dict[str, str]:
        return {github.lower(): role_name(login) for github, login in logins.items()}

    @pydantic.field_validator("login_template")
    @classmethod
    def _template(cls, template: str) -> str:
        if (
            template.count("{login}") != 1
            or template.replace("{login}", "").count("{")
            or (template.replace("{login}", "").count("}"))
        ):
            raise ValueError("must contain {login} exactly once and no other braces")
        role_name(template.replace("{login}", "x"))
        return template

    @pydantic.field_validator("action_user")
    @classmethod
    def _action_user(cls, user: str | None) -> str | None:
        return None if user is None else role_name(user)

    @pydantic.model_validator(mode="after")
    def _provisioner_is_not_a_target(self) -> PostgresSettings:
        if self.user in self.roles.values():
            raise ValueError(f"the provisioner user {self.user!r} cannot be a grantable role")
        if self.action_user is not None and (
            self.action_user == self.user or self.action_user in self.roles.values()
        ):
            raise ValueError(
                f"the action user {self.action_user!r} must be a login of its own, not the "
                "provisioner nor a grantable role"
            )
        return self
