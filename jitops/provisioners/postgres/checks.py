"""What ``jitops doctor`` checks on a ``postgres`` target: the server's version, and that the
provisioner's role holds exactly the privileges jitops needs — no superuser, no attribute it does
not use, CREATEROLE, pg_signal_backend, and ADMIN OPTION on every grantable role.

Everything is read in one connection (``read_privileges``) and judged without I/O
(``privilege_checks``), so each judgement is one small function with one fix.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from jitops.provisioners.interface import CheckResult, CheckStatus

if TYPE_CHECKING:
    import psycopg

MIN_SERVER_VERSION = 160000  # GRANT … WITH INHERIT/SET options


class ResultMaker(Protocol):
    """The target's own ``CheckResult`` maker (``Provisioner.result``)."""

    def __call__(
        self, check: str, status: CheckStatus, message: str, fix: str | None = None
    ) -> CheckResult: ...


@dataclass(frozen=True)
class Privileges:
    """What the checks read from the server, in one connection."""

    version: int  # server_version_num
    superuser: bool
    createrole: bool
    bypassrls: bool
    replication: bool
    signal_backend: bool  # a member of pg_signal_backend
    administered: dict[str, bool]  # grantable role that exists -> holds ADMIN OPTION on it


def read_privileges(conn: psycopg.Connection[Any], grantable: Sequence[str]) -> Privileges:
    """The server's version and what the connected role may do."""
    version = int(conn.execute("SHOW server_version_num").fetchone()[0])  # type: ignore[index]
    row = conn.execute(
        """
        SELECT rolsuper, rolcreaterole, rolbypassrls, rolreplication,
               pg_has_role(current_user, 'pg_signal_backend', 'MEMBER')
        FROM pg_roles WHERE rolname = current_user
        """
    ).fetchone()
    admin_rows = conn.execute(
        """
        SELECT r.rolname,
               EXISTS (SELECT 1 FROM pg_auth_members a
                       WHERE a.roleid = r.oid AND a.admin_option
                         AND a.member = (SELECT oid FROM pg_roles
                                         WHERE rolname = current_user))
        FROM pg_roles r WHERE r.rolname = ANY(%s)
        """,
        (sorted(set(grantable)),),
    ).fetchall()
    assert row is not None
    superuser, createrole, bypassrls, replication, signal_backend = row
    return Privileges(
        version, superuser, createrole, bypassrls, replication, signal_backend, dict(admin_rows)
    )


def privilege_checks(
    found: Privileges, user: str, grantable: Sequence[str], result: ResultMaker
) -> list[CheckResult]:
    """Every problem with ``found`` for provisioner role ``user``; one OK when there is none."""
    results = _server_version(found.version, result)
    if found.superuser:
        # Nothing else matters while it is a superuser: it can do everything below.
        return [*results, _superuser_warning(user, result)]
    results += _unneeded_attributes(found, user, result)
    results += _needed_privileges(found, user, result)
    results += _grantable_roles(found.administered, user, grantable, result)
    if not results:
        results.append(_least_privilege_ok(found.administered, user, result))
    return results


def _server_version(version: int, result: ResultMaker) -> list[CheckResult]:
    if version >= MIN_SERVER_VERSION:
        return []
    return [
        result(
            "server-version",
            CheckStatus.ERROR,
            f"server version {version} is older than PostgreSQL 16, which jitops needs "
            f"for GRANT … WITH INHERIT TRUE, SET FALSE",
            "upgrade the server to PostgreSQL 16 or newer",
        )
    ]


def _superuser_warning(user: str, result: ResultMaker) -> CheckResult:
    return result(
        "least-privilege",
        CheckStatus.WARNING,
        f"{user} is a superuser: far more than jitops needs",
        f"use a role with only: CREATEROLE, ADMIN OPTION on the grantable roles, "
        f"and pg_signal_backend (ALTER ROLE {user} NOSUPERUSER)",
    )


def _unneeded_attributes(found: Privileges, user: str, result: ResultMaker) -> list[CheckResult]:
    return [
        result(
            "least-privilege",
            CheckStatus.WARNING,
            f"{user} has {name}, which jitops does not need",
            f"ALTER ROLE {user} NO{name}",
        )
        for flag, name in ((found.bypassrls, "BYPASSRLS"), (found.replication, "REPLICATION"))
        if flag
    ]


def _needed_privileges(found: Privileges, user: str, result: ResultMaker) -> list[CheckResult]:
    """CREATEROLE and pg_signal_backend: without either, grants or revokes fail."""
    needed = (
        (
            found.createrole,
            f"{user} lacks CREATEROLE, needed to create login roles and set VALID UNTIL",
            f"ALTER ROLE {user} CREATEROLE",
        ),
        (
            found.signal_backend,
            f"{user} is not a member of pg_signal_backend, needed to end the sessions "
            f"of revoked logins",
            f"GRANT pg_signal_backend TO {user}",
        ),
    )
    return [
        result("least-privilege", CheckStatus.ERROR, message, fix)
        for held, message, fix in needed
        if not held
    ]


def _grantable_roles(
    administered: Mapping[str, bool], user: str, grantable: Sequence[str], result: ResultMaker
) -> list[CheckResult]:
    """Each grantable role exists, and the provisioner's role holds ADMIN OPTION on it."""
    results = []
    for pg_role in sorted(set(grantable)):
        if pg_role not in administered:
            results.append(
                result(
                    "roles",
                    CheckStatus.ERROR,
                    f"grantable role {pg_role} does not exist",
                    f"CREATE ROLE {pg_role} NOLOGIN; GRANT {pg_role} TO {user} WITH ADMIN OPTION",
                )
            )
        elif not administered[pg_role]:
            results.append(
                result(
                    "roles",
                    CheckStatus.ERROR,
                    f"{user} has no ADMIN OPTION on {pg_role}, so it cannot grant it",
                    f"GRANT {pg_role} TO {user} WITH ADMIN OPTION",
                )
            )
    return results


def _least_privilege_ok(
    administered: Mapping[str, bool], user: str, result: ResultMaker
) -> CheckResult:
    return result(
        "least-privilege",
        CheckStatus.OK,
        f"{user} has exactly what jitops needs: CREATEROLE, pg_signal_backend, "
        f"ADMIN OPTION on {', '.join(sorted(administered))}",
    )
