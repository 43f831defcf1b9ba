"""The postgres provisioner against a real PostgreSQL (the session's embedded server).

Every test gets its own provisioner role (no superuser: CREATEROLE, ADMIN OPTION on its
grantable roles, pg_signal_backend), its own grantable roles and table, so tests share the
server but never each other's grants.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from jitops.provisioners.interface import (
    CheckStatus,
    ProvisionerError,
    SecretMissing,
    TargetConfig,
)
from jitops.provisioners.postgres import PostgresProvisioner
from tests.fixtures.postgres import PostgresServer, new_password
from tests.provisioners._grants import make_grant

_counter = itertools.count()


@dataclass
class Sandbox:
    server: PostgresServer
    n: int
    provisioner_user: str
    provisioner_password: str
    table: str

    @property
    def ro(self) -> str:
        return f"ro_{self.n}"

    @property
    def rw(self) -> str:
        return f"rw_{self.n}"

    def login(self, github: str) -> str:
        return f"jit{self.n}_{github}"

    def target(self, **settings: Any) -> TargetConfig:
        base: dict[str, object] = {
            "host": self.server.host,
            "port": self.server.port,
            "user": self.provisioner_user,
            "roles": {"readonly": self.ro, "readwrite": self.rw},
            "login_template": f"jit{self.n}_{{login}}",
        }
        return TargetConfig("sandbox", "postgres", base | settings, {"password": "PG_PASSWORD"})

    def provisioner(self, password: str | None = None, **settings: Any) -> PostgresProvisioner:
        env = {"PG_PASSWORD": password or self.provisioner_password}
        return PostgresProvisioner(self.target(**settings), env)

    def set_password(self, github: str) -> str:
        password = new_password()
        self.server.admin(f"ALTER ROLE \"{self.login(github)}\" PASSWORD '{password}'")
        return password

    def connect_as(self, github: str, password: str) -> psycopg.Connection[Any]:
        return self.server.connect(self.login(github), password)

    def memberships(self, github: str) -> list[tuple[str, str, bool, bool]]:
        return [
            tuple(row)
            for row in self.server.admin(
                """
                SELECT r.rolname, g.rolname, a.inherit_option, a.set_option
                FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.roleid
                JOIN pg_roles m ON m.oid = a.member JOIN pg_roles g ON g.oid = a.grantor
                WHERE m.rolname = %s ORDER BY 1
                """,
                (self.login(github),),
            )
        ]

    def valid_until(self, github: str) -> datetime | None:
        rows = self.server.admin(
            "SELECT rolvaliduntil FROM pg_roles WHERE rolname = %s", (self.login(github),)
        )
        return rows[0][0] if rows else None


@pytest.fixture
def sandbox(postgres_server: PostgresServer) -> Iterator[Sandbox]:
    n = next(_counter)
    box = Sandbox(postgres_server, n, f"prov_{n}", new_password(), f"data_{n}")
    for statement in (
        f"CREATE ROLE {box.provisioner_user} LOGIN CREATEROLE "
        f"PASSWORD '{box.provisioner_password}'",
        f"GRANT pg_signal_backend TO {box.provisioner_user}",
        f"CREATE ROLE {box.ro} NOLOGIN",
        f"CREATE ROLE {box.rw} NOLOGIN",
        f"GRANT {box.ro}, {box.rw} TO {box.provisioner_user} WITH ADMIN OPTION",
        f"CREATE TABLE {box.table} (secret_value text)",
        f"INSERT INTO {box.table} VALUES ('only for readers')",
        f"GRANT SELECT ON {box.table} TO {box.ro}",
    ):
        postgres_server.admin(statement)
    yield box


def _can_read(conn: psycopg.Connection[Any], table: str) -> bool:
    try:
        conn.execute(f"SELECT secret_value FROM {table}").fetchall()
    except psycopg.errors.InsufficientPrivilege:
        return False
    return True


def test_provisioner_role_is_not_superuser_and_check_says_least_privilege(
    sandbox: Sandbox,
) -> None:
    [(superuser,)] = sandbox.server.admin(
        "SELECT rolsuper FROM pg_roles WHERE rolname = %s", (sandbox.provisioner_user,)
    )
    assert superuser is False
    results = sandbox.provisioner().check()
    assert [r.status for r in results] == [CheckStatus.OK, CheckStatus.OK]
    assert "exactly what jitops needs" in results[-1].message


def test_grant_lets_the_user_read_but_not_set_role(sandbox: Sandbox) -> None:
    sandbox.provisioner().grant(make_grant("alice", "readonly"))
    assert sandbox.memberships("alice") == [(sandbox.ro, sandbox.provisioner_user, True, False)]
    with sandbox.connect_as("alice", sandbox.set_password("alice")) as conn:
        assert conn.execute(f"SELECT secret_value FROM {sandbox.table}").fetchall() == [
            ("only for readers",)
        ]
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(f"SET ROLE {sandbox.ro}")


def test_grant_twice_is_one_grant(sandbox: Sandbox) -> None:
    provisioner = sandbox.provisioner()
    grant = make_grant("alice", "readonly")
    provisioner.grant(grant)
    provisioner.grant(grant)
    provisioner.grant_all([grant, grant])
    assert len(sandbox.memberships("alice")) == 1
    managed = provisioner.list_managed()
    assert [(m.identity, m.role, m.requester, m.request_id) for m in managed] == [
        (sandbox.login("alice"), "readonly", "alice", grant.request_id)
    ]
    assert managed[0].expires_at == grant.expires_at
    assert sandbox.valid_until("alice") == grant.expires_at


def test_revoke_ends_open_sessions_and_new_ones_cannot_read(sandbox: Sandbox) -> None:
    provisioner = sandbox.provisioner()
    grant = make_grant("alice", "readonly")
    provisioner.grant(grant)
    password = sandbox.set_password("alice")
    session = sandbox.connect_as("alice", password)
    assert _can_read(session, sandbox.table)

    before = datetime.now(UTC)
    provisioner.revoke(grant)

    with pytest.raises(psycopg.OperationalError):
        session.execute("SELECT 1")
    session.close()
    assert sandbox.memberships("alice") == []
    assert provisioner.list_managed() == []
    # The password ended with the last grant: a new password login is refused…
    valid_until = sandbox.valid_until("alice")
    assert valid_until is not None and valid_until <= datetime.now(UTC)
    assert valid_until >= before - timedelta(seconds=1)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        sandbox.connect_as("alice", password)
    # …and even with the password made valid again, the login cannot read.
    sandbox.server.admin(f"ALTER ROLE {sandbox.login('alice')} VALID UNTIL 'infinity'")
    with sandbox.connect_as("alice", password) as conn:
        assert not _can_read(conn, sandbox.table)


def test_revoking_one_role_ends_sessions_but_the_other_role_stays(sandbox: Sandbox) -> None:
    sandbox.server.admin(f"GRANT SELECT ON {sandbox.table} TO {sandbox.rw}")
    sandbox.server.admin(f"GRANT INSERT ON {sandbox.table} TO {sandbox.rw}")
    provisioner = sandbox.provisioner()
    readonly = make_grant("alice", "readonly", expires_in=timedelta(hours=2))
    readwrite = make_grant("alice", "readwrite", expires_in=timedelta(hours=1))
    provisioner.grant_all([readonly, readwrite])
    password = sandbox.set_password("alice")
    session = sandbox.connect_as("alice", password)
    # A cursor opened under readwrite keeps reading after a revoke: only ending the session
    # takes what it already holds.
    session.execute(f"DECLARE held CURSOR WITH HOLD FOR SELECT * FROM {sandbox.table}")

    provisioner.revoke(readwrite)

    with pytest.raises(psycopg.OperationalError):
        session.execute("FETCH ALL FROM held")
    session.close()
    assert [m[0] for m in sandbox.memberships("alice")] == [sandbox.ro]
    assert sandbox.valid_until("alice") == readonly.expires_at  # the remaining grant's expiry
    with sandbox.connect_as("alice", password) as conn:  # reconnecting keeps readonly
        assert _can_read(conn, sandbox.table)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(f"INSERT INTO {sandbox.table} VALUES ('written')")


def test_expiry_through_valid_until_refuses_new_logins(sandbox: Sandbox) -> None:
    grant = make_grant("alice", "readonly", expires_in=timedelta(seconds=3))
    sandbox.provisioner().grant(grant)
    password = sandbox.set_password("alice")
    with sandbox.connect_as("alice", password) as conn:
        assert _can_read(conn, sandbox.table)
    time.sleep(max(0.0, (grant.expires_at - datetime.now(UTC)).total_seconds()) + 0.5)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        sandbox.connect_as("alice", password)


def test_revoke_of_absent_access_succeeds(sandbox: Sandbox) -> None:
    provisioner = sandbox.provisioner()
    provisioner.revoke(make_grant("nobody", "readonly"))  # no login role at all
    grant = make_grant("alice", "readonly")
    provisioner.grant(grant)
    provisioner.revoke(grant)
    provisioner.revoke(grant)  # already revoked
    provisioner.revoke(make_grant("alice", "readwrite"))  # login exists, never had this role
    assert sandbox.memberships("alice") == []


def test_an_extension_keeps_the_shared_membership(sandbox: Sandbox) -> None:
    provisioner = sandbox.provisioner()
    first = make_grant("alice", "readonly", request_id="first", expires_in=timedelta(hours=1))
    extension = make_grant("alice", "readonly", request_id="second", expires_in=timedelta(hours=5))
    other = make_grant("alice", "readwrite", request_id="third", expires_in=timedelta(hours=2))
    provisioner.grant_all([first, extension, other])
    assert sandbox.valid_until("alice") == extension.expires_at

    provisioner.revoke(first)
    assert [row[0] for row in sandbox.memberships("alice")] == [sandbox.ro, sandbox.rw]
    assert {m.request_id for m in provisioner.list_managed()} == {"second", "third"}

    # VALID UNTIL follows the latest expiry among what is left.
    provisioner.revoke(extension)
    assert [row[0] for row in sandbox.memberships("alice")] == [sandbox.rw]
    assert sandbox.valid_until("alice") == other.expires_at


def test_batch_is_all_or_nothing(sandbox: Sandbox) -> None:
    provisioner = sandbox.provisioner()
    grants = [make_grant(f"user{i}", "readonly") for i in range(20)]
    sandbox.server.admin(f"DROP ROLE {sandbox.rw}")
    with pytest.raises(ProvisionerError, match=f"{sandbox.rw} do not exist"):
        provisioner.grant_all([*grants, make_grant("zed", "readwrite")])
    assert provisioner.list_managed() == []
    provisioner.grant_all(grants)
    assert len(provisioner.list_managed()) == 20
    provisioner.revoke_all(grants)
    assert provisioner.list_managed() == []


def test_unknown_role_is_refused_before_touching_the_database(sandbox: Sandbox) -> None:
    with pytest.raises(ProvisionerError, match="does not offer"):
        sandbox.provisioner().grant(make_grant("alice", "superpowers"))
    assert sandbox.valid_until("alice") is None


def test_out_of_band_membership_is_reported_and_left_loudly(sandbox: Sandbox) -> None:
    provisioner = sandbox.provisioner()
    grant = make_grant("alice", "readonly")
    provisioner.grant(grant)
    sandbox.server.admin(f"GRANT {sandbox.ro} TO {sandbox.login('alice')}")  # by the superuser
    with pytest.raises(ProvisionerError, match="still a member .* by 'postgres'"):
        provisioner.revoke(grant)
    # jitops' own membership is gone, the foreign one remains for a person to decide.
    assert sandbox.memberships("alice") == [(sandbox.ro, "postgres", True, True)]


def test_list_managed_reports_memberships_without_records(sandbox: Sandbox) -> None:
    provisioner = sandbox.provisioner()
    provisioner.grant(make_grant("alice", "readonly"))
    # A membership the provisioner role made outside jitops' bookkeeping (drift).
    with sandbox.server.connect(sandbox.provisioner_user, sandbox.provisioner_password) as conn:
        conn.execute(f"GRANT {sandbox.rw} TO {sandbox.login('alice')}")
    managed = {(m.role, m.request_id) for m in provisioner.list_managed()}
    assert managed == {("readonly", "req-alice-readonly"), ("readwrite", None)}


def test_refuses_to_grant_to_a_group_role(sandbox: Sandbox) -> None:
    sandbox.server.admin(f"CREATE ROLE {sandbox.login('team')} NOLOGIN")
    with pytest.raises(ProvisionerError, match="not a LOGIN role"):
        sandbox.provisioner().grant(make_grant("team", "readonly"))


def test_existing_login_needs_admin_option(sandbox: Sandbox) -> None:
    sandbox.server.admin(f"CREATE ROLE {sandbox.login('bob')} LOGIN")
    provisioner = sandbox.provisioner()
    with pytest.raises(ProvisionerError, match="WITH ADMIN OPTION"):
        provisioner.grant(make_grant("bob", "readonly"))
    sandbox.server.admin(
        f"GRANT {sandbox.login('bob')} TO {sandbox.provisioner_user} WITH ADMIN OPTION"
    )
    provisioner.grant(make_grant("bob", "readonly"))
    assert len(sandbox.memberships("bob")) == 1


def test_create_logins_off_refuses_missing_login(sandbox: Sandbox) -> None:
    with pytest.raises(ProvisionerError, match="create_logins"):
        sandbox.provisioner(create_logins=False).grant(make_grant("carol", "readonly"))


def test_wrong_password_error_never_shows_it(sandbox: Sandbox) -> None:
    wrong = "Wr0ng-" + new_password()
    provisioner = sandbox.provisioner(password=wrong)
    with pytest.raises(ProvisionerError) as caught:
        provisioner.grant(make_grant("alice", "readonly"))
    assert "password authentication failed" in caught.value.message
    assert wrong not in caught.value.message
    assert wrong not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    [result] = provisioner.check()
    assert result.status is CheckStatus.ERROR and wrong not in result.message
    assert wrong not in repr(provisioner)


def test_missing_password_variable_is_named(sandbox: Sandbox) -> None:
    provisioner = PostgresProvisioner(sandbox.target(), environ={})
    with pytest.raises(SecretMissing, match="PG_PASSWORD"):
        provisioner.list_managed()


def test_check_names_each_missing_privilege(sandbox: Sandbox) -> None:
    user = sandbox.provisioner_user
    sandbox.server.admin(f"REVOKE pg_signal_backend FROM {user}")
    sandbox.server.admin(f"REVOKE {sandbox.rw} FROM {user}")
    sandbox.server.admin(f"ALTER ROLE {user} NOCREATEROLE")
    results = sandbox.provisioner().check()
    errors = {r.fix for r in results if r.status is CheckStatus.ERROR}
    assert errors == {
        f"ALTER ROLE {user} CREATEROLE",
        f"GRANT pg_signal_backend TO {user}",
        f"GRANT {sandbox.rw} TO {user} WITH ADMIN OPTION",
    }


def test_check_warns_about_superuser(sandbox: Sandbox) -> None:
    sandbox.server.admin(f"ALTER ROLE {sandbox.provisioner_user} SUPERUSER")
    results = sandbox.provisioner().check()
    assert any(r.status is CheckStatus.WARNING and "superuser" in r.message for r in results)


@pytest.mark.parametrize(
    ("settings", "loc"),
    [
        ({"roles": {}}, ("settings", "roles")),
        ({"roles": {"readonly": "pg_read_all_data"}}, ("settings", "roles")),
        ({"login_template": "jit_{user}"}, ("settings", "login_template")),
        ({"port": 0}, ("settings", "port")),
        ({"logins": {"alice": 'x"; DROP ROLE y'}}, ("settings", "logins")),
        ({"sslmode": "sometimes"}, ("settings", "sslmode")),
    ],
)
def test_settings_are_validated_offline(
    sandbox: Sandbox, settings: dict[str, object], loc: tuple[str, ...]
) -> None:
    from jitops.provisioners.interface import SettingsError

    with pytest.raises(SettingsError) as caught:
        PostgresProvisioner.validate_target(sandbox.target(**settings))
    assert [p.loc[:2] for p in caught.value.problems] == [loc]


def test_a_membership_allowing_set_role_is_tightened(sandbox: Sandbox) -> None:
    provisioner = sandbox.provisioner()
    provisioner.grant(make_grant("alice", "readonly"))
    with sandbox.server.connect(sandbox.provisioner_user, sandbox.provisioner_password) as conn:
        conn.execute(f"GRANT {sandbox.ro} TO {sandbox.login('alice')} WITH SET TRUE")
    assert sandbox.memberships("alice") == [(sandbox.ro, sandbox.provisioner_user, True, True)]
    provisioner.grant(make_grant("alice", "readonly"))
    assert sandbox.memberships("alice") == [(sandbox.ro, sandbox.provisioner_user, True, False)]


def test_offered_roles_map_to_same_named_database_roles(sandbox: Sandbox) -> None:
    base = sandbox.target(roles={})
    target = TargetConfig(base.name, base.kind, base.settings, base.secrets, roles=[sandbox.ro])
    provisioner = PostgresProvisioner(target, {"PG_PASSWORD": sandbox.provisioner_password})
    provisioner.grant(make_grant("alice", sandbox.ro))
    assert sandbox.memberships("alice") == [(sandbox.ro, sandbox.provisioner_user, True, False)]
    with pytest.raises(ProvisionerError, match="does not offer"):
        provisioner.grant(make_grant("alice", sandbox.rw))


def test_mapping_a_role_the_target_does_not_offer_is_a_settings_error(sandbox: Sandbox) -> None:
    from jitops.provisioners.interface import SettingsError

    base = sandbox.target()
    target = TargetConfig(base.name, base.kind, base.settings, base.secrets, roles=["readonly"])
    with pytest.raises(SettingsError) as caught:
        PostgresProvisioner.validate_target(target)
    assert [p.loc for p in caught.value.problems] == [("settings", "roles", "readwrite")]


def test_revoke_removes_a_loosened_membership_too(sandbox: Sandbox) -> None:
    provisioner = sandbox.provisioner()
    grant = make_grant("alice", "readonly")
    provisioner.grant(grant)
    with sandbox.server.connect(sandbox.provisioner_user, sandbox.provisioner_password) as conn:
        conn.execute(f"GRANT {sandbox.ro} TO {sandbox.login('alice')} WITH SET TRUE")
    provisioner.revoke(grant)
    assert sandbox.memberships("alice") == []


def test_revoke_works_on_a_login_jitops_does_not_administer(sandbox: Sandbox) -> None:
    provisioner = sandbox.provisioner()
    grant = make_grant("alice", "readonly")
    provisioner.grant(grant)
    # The handed-over ADMIN OPTION is taken back: revoking must still take the access away.
    sandbox.server.admin(f"REVOKE {sandbox.login('alice')} FROM {sandbox.provisioner_user}")
    provisioner.revoke(grant)
    assert sandbox.memberships("alice") == []
