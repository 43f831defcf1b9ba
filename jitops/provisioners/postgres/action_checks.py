"""What ``jitops doctor`` checks of a ``postgres`` target's action login (``action_user``):
that it holds no more than the SQL actions its policies offer need.

Read in one connection as the provisioner (the catalogs say what any role holds), judged
without I/O, one finding per kind of excess, each with the statement that removes it:

- no role attribute beyond ``LOGIN`` (superuser, CREATEROLE, CREATEDB, REPLICATION,
  BYPASSRLS), and no membership that brings one, nor a predefined ``pg_`` role;
- it owns no table (an owner may do anything with it) and may create in no schema;
- on tables, only the privileges the offered statement kinds use: ``SELECT`` (for select and
  explain), ``INSERT``, ``UPDATE``, ``DELETE`` (``MERGE`` needs the three it may do) — and never
  ``TRUNCATE``, ``TRIGGER`` or ``REFERENCES``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from jitops.provisioners.interface import CheckResult, CheckStatus
from jitops.provisioners.postgres.checks import ResultMaker

if TYPE_CHECKING:
    import psycopg

# statement kind → the table privileges it may use
_NEEDS: dict[str, frozenset[str]] = {
    "select": frozenset({"SELECT"}),
    "explain": frozenset({"SELECT"}),
    "insert": frozenset({"INSERT", "SELECT"}),
    "update": frozenset({"UPDATE", "SELECT"}),
    "delete": frozenset({"DELETE", "SELECT"}),
    "merge": frozenset({"INSERT", "UPDATE", "DELETE", "SELECT"}),
}
_TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "TRIGGER", "REFERENCES")
_ATTRIBUTES = ("rolsuper", "rolcreaterole", "rolcreatedb", "rolreplication", "rolbypassrls")
_SPOKEN = {
    "rolsuper": "SUPERUSER",
    "rolcreaterole": "CREATEROLE",
    "rolcreatedb": "CREATEDB",
    "rolreplication": "REPLICATION",
    "rolbypassrls": "BYPASSRLS",
}


@dataclass(frozen=True)
class ActionPrivileges:
    exists: bool
    attributes: tuple[str, ...] = ()  # its own, beyond LOGIN
    member_of: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (role, that role's attributes)
    owned_tables: tuple[str, ...] = ()
    create_schemas: tuple[str, ...] = ()
    table_privileges: tuple[tuple[str, str], ...] = ()  # (privilege, table)


def read_action_privileges(conn: psycopg.Connection[Any], user: str) -> ActionPrivileges:
    attributes = ", ".join(_ATTRIBUTES)
    row = conn.execute(f"SELECT {attributes} FROM pg_roles WHERE rolname = %s", (user,)).fetchone()
    if row is None:
        return ActionPrivileges(False)
    own = tuple(_SPOKEN[a] for a, held in zip(_ATTRIBUTES, row, strict=True) if held)
    member_of = tuple(
        (str(name), tuple(_SPOKEN[a] for a, held in zip(_ATTRIBUTES, flags, strict=True) if held))
        for name, *flags in conn.execute(
            f"SELECT r.rolname, {', '.join('r.' + a for a in _ATTRIBUTES)} FROM pg_roles r "
            "WHERE r.rolname <> %s AND pg_has_role(%s, r.oid, 'USAGE') ORDER BY 1",
            (user, user),
        ).fetchall()
    )
    owned = tuple(
        str(name)
        for (name,) in conn.execute(
            "SELECT c.oid::regclass::text FROM pg_class c JOIN pg_roles o ON o.oid = c.relowner "
            "WHERE o.rolname = %s AND c.relkind IN ('r', 'p', 'v', 'm', 'f') ORDER BY 1",
            (user,),
        ).fetchall()
    )
    schemas = tuple(
        str(name)
        for (name,) in conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%%' "
            "AND nspname <> 'information_schema' AND has_schema_privilege(%s, oid, 'CREATE') "
            "ORDER BY 1",
            (user,),
        ).fetchall()
    )
    held = []
    for privilege in _TABLE_PRIVILEGES:
        column_level = privilege in ("SELECT", "INSERT", "UPDATE", "REFERENCES")
        test = (
            "(has_table_privilege(%s, c.oid, %s) OR has_any_column_privilege(%s, c.oid, %s))"
            if column_level
            else "has_table_privilege(%s, c.oid, %s)"
        )
        args = (user, privilege, user, privilege) if column_level else (user, privilege)
        held += [
            (privilege, str(name))
            for (name,) in conn.execute(
                "SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n "
                "ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') "
                "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
                f"AND n.nspname NOT LIKE 'pg\\_toast%%' AND {test} ORDER BY 1",
                args,
            ).fetchall()
        ]
    return ActionPrivileges(True, own, member_of, owned, schemas, tuple(held))


def action_privilege_checks(
    found: ActionPrivileges, user: str, allowed: Iterable[str], result: ResultMaker
) -> list[CheckResult]:
    """One result per kind of excess (none: one OK), each with the statement that fixes it."""
    kinds = sorted(set(allowed))
    needed = frozenset().union(*(_NEEDS.get(k, frozenset()) for k in kinds))
    name = "action-privileges"
    if not found.exists:
        return [
            result(
                name,
                CheckStatus.ERROR,
                f"the action login {user} does not exist",
                f"CREATE ROLE {user} LOGIN PASSWORD '…' (its password: the action_password "
                "secret), then grant it only what the actions need",
            )
        ]
    problems = [
        result(name, CheckStatus.ERROR, f"{user} has {a}", f"ALTER ROLE {user} NO{a}")
        for a in found.attributes
    ]
    for role, attributes in found.member_of:
        if attributes or role.startswith("pg_"):
            what = f" ({', '.join(attributes)})" if attributes else ""
            problems.append(
                result(
                    name,
                    CheckStatus.ERROR,
                    f"{user} is a member of {role}{what}, more than the actions need",
                    f"REVOKE {role} FROM {user}",
                )
            )
    if found.owned_tables:
        owned = ", ".join(found.owned_tables[:5])
        problems.append(
            result(
                name,
                CheckStatus.ERROR,
                f"{user} owns {owned}: an owner may do anything with them",
                f"ALTER TABLE … OWNER TO another role, for each of {owned}",
            )
        )
    problems += [
        result(
            name,
            CheckStatus.ERROR,
            f"{user} may create objects in schema {schema}",
            f"REVOKE CREATE ON SCHEMA {schema} FROM {user} (and from PUBLIC)",
        )
        for schema in found.create_schemas
    ]
    excess: dict[str, list[str]] = {}
    for privilege, table in found.table_privileges:
        if privilege not in needed:
            excess.setdefault(privilege, []).append(table)
    for privilege, tables in sorted(excess.items()):
        shown = ", ".join(tables[:5]) + (
            f" (and {len(tables) - 5} more)" if len(tables) > 5 else ""
        )
        problems.append(
            result(
                name,
                CheckStatus.ERROR,
                f"{user} holds {privilege} on {shown}, which no action on this target needs "
                f"(they run {', '.join(kinds) or 'nothing'})",
                f"REVOKE {privilege} ON {', '.join(tables[:5])} FROM {user}",
            )
        )
    if problems:
        return problems
    return [
        result(
            name,
            CheckStatus.OK,
            f"{user} holds no more than the actions need ({', '.join(kinds)})",
        )
    ]
