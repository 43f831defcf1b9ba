"""The ``postgres`` provisioner: role membership on a PostgreSQL (16 or newer) server.

A grant makes the requester's login role a member of a grantable role::

    GRANT "ro" TO "jit_alice" WITH INHERIT TRUE, SET FALSE GRANTED BY CURRENT_USER

``INHERIT TRUE`` gives the role's privileges; ``SET FALSE`` refuses ``SET ROLE "ro"``, so the
login cannot act *as* the role (create objects it owns, escape into its other memberships). As a
backstop for password logins the login role also gets ``VALID UNTIL`` the grant's expiry
(invariant 4): even if no sweep ever runs, the password stops working then.

A revoke runs ``REVOKE "ro" FROM "jit_alice" GRANTED BY CURRENT_USER``, checks in
``pg_auth_members`` that no membership in the role remains (a grant someone made by hand is
reported loudly: jitops cannot take it away), and terminates the login's open sessions so that
no session carries on with the access.

Decisions, and why:

- **Login roles are dedicated to jitops**, named from the GitHub login by ``login_template``
  (default ``jit_{login}``, or an explicit ``logins`` entry). ``VALID UNTIL`` applies to the
  whole login, so a login that also carries standing access would lose it at expiry.
- **jitops creates a missing login role** (``create_logins``, on by default) as a plain
  ``LOGIN`` role without a password: how people authenticate (password set by an admin, a
  certificate, IAM…) is the database's business. Creating it gives the provisioner ADMIN on it,
  which PostgreSQL 16+ requires to set ``VALID UNTIL``. A login role made by someone else must
  be handed over once: ``GRANT "jit_alice" TO provisioner WITH ADMIN OPTION``. jitops only
  grants to LOGIN roles it administers, never to a group role (which would pass the access on
  to all its members) and never to a superuser.
- **Which requests hold a membership** is recorded as JSON in the login role's comment
  (``COMMENT ON ROLE``), readable by any user of the cluster; it holds request ids, roles and
  expiries, nothing secret. It lets two requests share one membership (an extension is a new
  request for the same role): revoking the older one keeps the membership for the newer. It
  also gives ``VALID UNTIL`` its value: the latest expiry among the login's recorded grants, or
  the moment of the revoke once none remains.
- **The provisioner role needs no superuser**: ``CREATEROLE`` (which since PostgreSQL 16 only
  reaches roles it has ADMIN on), ADMIN OPTION on each grantable role, and membership in
  ``pg_signal_backend`` to end sessions. ``check`` verifies exactly this.
- **A revoke ends all of the login's sessions**, even when the login keeps another role: a
  session keeps what it obtained under the revoked role (an open cursor reads on, a running
  query finishes) and nothing but ending it takes that away. The person reconnects with the
  access that remains.
- Every run takes a transaction-level advisory lock, so two jitops runs against one server
  never interleave; a batch is one connection, one transaction, pipelined.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from jitops.provisioners.interface import (
    ActionResult,
    ActionRun,
    CheckResult,
    CheckStatus,
    Grant,
    ManagedAccess,
    Provisioner,
    ProvisionerError,
    requester_of,
)
from jitops.provisioners.postgres.checks import (
    MIN_SERVER_VERSION,
    privilege_checks,
    read_privileges,
)
from jitops.provisioners.postgres.driver import psycopg_module as _psycopg
from jitops.provisioners.postgres.records import Login, comment_text, parse_comment
from jitops.provisioners.postgres.settings import PostgresSettings, role_name

if TYPE_CHECKING:
    import psycopg

__all__ = ["MIN_SERVER_VERSION", "PostgresProvisioner", "PostgresSettings"]

_LOCK_KEY = "jitops.provisioners.postgres"
_TERMINATE_WAIT_MS = 5000


class PostgresProvisioner(Provisioner[PostgresSettings]):
    """Grants PostgreSQL roles to per-person login roles, with ``VALID UNTIL`` as a backstop."""

    kind = "postgres"
    performs = frozenset({"sql"})
    settings_model = PostgresSettings
    required_secrets = frozenset({"password"})
    optional_secrets = frozenset({"action_password"})

    def describe(self) -> str:
        s = self.settings
        roles = ", ".join(f"{name}→{pg}" for name, pg in sorted(s.roles.items()))
        return (
            f"postgres target {self.target.name!r}: {s.user}@{s.host}:{s.port}/{s.dbname}, "
            f"roles {roles}, logins {s.login_template!r}"
        )

    # -- mapping -------------------------------------------------------------------------------

    def login_for(self, requester: str) -> str:
        """The database login role of GitHub login ``requester``."""
        github = requester.lower()
        login = self.settings.logins.get(github)
        if login is None:
            try:
                login = role_name(self.settings.login_template.replace("{login}", github))
            except ValueError as exc:
                raise self.error(
                    f"cannot map GitHub login {requester!r} to a database role: {exc}; "
                    f"add it to `logins`"
                ) from None
        if login == self.settings.user or login in self.roles.values():
            raise self.error(
                f"GitHub login {requester!r} maps to {login!r}, which is the provisioner or a "
                f"grantable role; change `login_template` or add a `logins` entry"
            )
        return login

    def _requester_for(self, login: str) -> str | None:
        return requester_of(login, self.settings.login_template, self.settings.logins)

    def _pg_role(self, grant: Grant) -> str:
        pg_role = self.mapped_role(grant, self.roles)
        if pg_role == self.settings.user:
            raise self.error(f"role {grant.role!r} maps to the provisioner's own role; fix `roles`")
        try:
            return role_name(pg_role)
        except ValueError as exc:
            raise self.error(
                f"role {grant.role!r} cannot be granted: {exc}; map it in `roles`"
            ) from None

    # -- connection ----------------------------------------------------------------------------

    @contextmanager
    def _connect(self, *, autocommit: bool = False) -> Iterator[psycopg.Connection[Any]]:
        pg = _psycopg()
        s = self.settings
        password = self.secret("password")
        try:
            conn = pg.connect(
                host=s.host,
                port=s.port,
                dbname=s.dbname,
                user=s.user,
                password=password,
                sslmode=s.sslmode,
                connect_timeout=s.connect_timeout,
                application_name="jitops",
                autocommit=autocommit,
            )
        except pg.Error as exc:
            # `from None`: the driver's exception is not kept, so no traceback can show more
            # than the redacted message.
            raise self.error(
                f"cannot connect to {s.host}:{s.port}/{s.dbname} as {s.user}: "
                f"{str(exc).strip()}; check host, port, user and the password secret"
            ) from None
        try:
            with conn:
                yield conn
        except pg.Error as exc:
            raise self.error(f"database error: {str(exc).strip()}") from None

    # -- actions -------------------------------------------------------------------------------

    def perform(self, run: ActionRun) -> ActionResult:
        """Run a SQL action's statements once, as ``action_user`` (``actions``)."""
        from jitops.provisioners.postgres.actions import perform_sql

        if run.target != self.target.name:
            raise self.error(f"action {run.request_id!r} is for target {run.target!r}")
        return perform_sql(self.settings, lambda: self.secret("action_password"), self.redact, run)

    def check_actions(self, kinds: frozenset[str]) -> list[CheckResult]:
        """The action login holds no more than statements of ``kinds`` need
        (``action_checks``)."""
        from jitops.provisioners.postgres.action_checks import (
            action_privilege_checks,
            read_action_privileges,
        )

        user = self.settings.action_user
        if user is None:
            return [
                self.result(
                    "action-privileges",
                    CheckStatus.ERROR,
                    "the policies offer SQL actions on this target, but it names no "
                    "`action_user` to run them as",
                    "create a login for actions only and set `action_user` (its password: "
                    "the secret action_password)",
                )
            ]
        try:
            with self._connect() as conn:
                found = read_action_privileges(conn, user)
        except ProvisionerError as exc:
            return [self.result("action-privileges", CheckStatus.ERROR, exc.message)]
        return action_privilege_checks(found, user, kinds, self.result)

    # -- grant ---------------------------------------------------------------------------------

    def grant(self, grant: Grant) -> None:
        self.grant_all([grant])

    def revoke(self, grant: Grant) -> None:
        self.revoke_all([grant])

    def grant_all(self, grants: Sequence[Grant]) -> None:
        """Grant all of ``grants`` over one connection, in one transaction (all or nothing)."""
        if not grants:
            return
        now = datetime.now(UTC)
        planned = [
            (grant, self.login_for(grant.requester), self._pg_role(grant)) for grant in grants
        ]
        for grant, _, _ in planned:
            if grant.expires_at <= now:
                raise self.error(f"request {grant.request_id!r} expired at {grant.expires_at}")
        sql = _psycopg().sql
        grant_sql = sql.SQL("GRANT {} TO {} WITH INHERIT TRUE, SET FALSE GRANTED BY CURRENT_USER")
        with self._connect() as conn:
            self._lock(conn)
            self._require_roles(conn, {pg_role for _, _, pg_role in planned})
            logins = self._load_logins(conn, {n for _, n, _ in planned}, for_revoke=False)
            existing = self._memberships(conn, logins, as_intended=True)
            with conn.pipeline():
                for login in logins.values():
                    if not login.exists:
                        conn.execute(
                            sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(login.name))
                        )
                        login.exists = True
                for grant, name, pg_role in planned:
                    login = logins[name]
                    if (name, pg_role) not in existing:
                        conn.execute(
                            grant_sql.format(sql.Identifier(pg_role), sql.Identifier(name))
                        )
                        existing.add((name, pg_role))
                    login.grants[grant.request_id] = {
                        "role": grant.role,
                        "pg_role": pg_role,
                        "requester": grant.requester,
                        "expires_at": grant.expires_at.isoformat(),
                    }
                    login.touched = True
                self._write_logins(conn, logins.values(), now)

    # -- revoke --------------------------------------------------------------------------------

    def revoke_all(self, grants: Sequence[Grant]) -> None:
        """Revoke all of ``grants`` in one transaction, then end the logins' open sessions.

        Raises after committing if a membership remains that jitops did not grant, or a session
        could not be ended: the revocation itself is kept, and the problem is reported loudly.
        """
        if not grants:
            return
        now = datetime.now(UTC)
        planned = [
            (grant, self.login_for(grant.requester), self._pg_role(grant)) for grant in grants
        ]
        pg = _psycopg()
        sql = pg.sql
        problems: list[str] = []
        with self._connect() as conn:
            self._lock(conn)
            logins = self._load_logins(conn, {n for _, n, _ in planned}, for_revoke=True)
            for grant, name, _ in planned:
                login = logins[name]
                if login.grants.pop(grant.request_id, None) is not None:
                    login.touched = True
            # A membership another recorded request still needs is kept (an extension shares it).
            released = {
                (name, pg_role)
                for _, name, pg_role in planned
                if logins[name].exists and not logins[name].holds(pg_role)
            }
            existing = self._memberships(conn, logins, as_intended=False)
            with conn.pipeline():
                for name, pg_role in sorted(released & existing):
                    conn.execute(
                        sql.SQL("REVOKE {} FROM {} GRANTED BY CURRENT_USER").format(
                            sql.Identifier(pg_role), sql.Identifier(name)
                        )
                    )
                    logins[name].touched = True
                self._write_logins(conn, logins.values(), now)
            problems.extend(self._remaining(conn, released))
        # After commit: ended before it, a session could reconnect while the grant still stood.
        problems.extend(self._terminate(sorted({name for name, _ in released})))
        if problems:
            raise self.error("revoked, but: " + "; ".join(problems))

    def _remaining(self, conn: psycopg.Connection[Any], pairs: set[tuple[str, str]]) -> list[str]:
        if not pairs:
            return []
        rows = conn.execute(
            """
            SELECT m.rolname, r.rolname, g.rolname
            FROM pg_auth_members a
            JOIN pg_roles m ON m.oid = a.member
            JOIN pg_roles r ON r.oid = a.roleid
            JOIN pg_roles g ON g.oid = a.grantor
            WHERE (m.rolname, r.rolname) IN (SELECT * FROM unnest(%s::text[], %s::text[]))
            """,
            ([name for name, _ in pairs], [pg_role for _, pg_role in pairs]),
        ).fetchall()
        return [
            f"{login!r} is still a member of {role!r} through a grant by {grantor!r} that jitops "
            f"did not make; revoke it by hand: REVOKE {role} FROM {login} GRANTED BY {grantor}"
            for login, role, grantor in rows
        ]

    def _terminate(self, names: list[str]) -> list[str]:
        if not names:
            return []
        with self._connect(autocommit=True) as conn:
            rows = conn.execute(
                """
                SELECT usename, pid, pg_terminate_backend(pid, %s)
                FROM pg_stat_activity
                WHERE usename = ANY(%s) AND pid <> pg_backend_pid()
                """,
                (_TERMINATE_WAIT_MS, names),
            ).fetchall()
        return [
            f"session {pid} of {login!r} did not end within {_TERMINATE_WAIT_MS} ms"
            for login, pid, ended in rows
            if not ended
        ]

    # -- state ---------------------------------------------------------------------------------

    def _lock(self, conn: psycopg.Connection[Any]) -> None:
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (_LOCK_KEY,))

    def _require_roles(self, conn: psycopg.Connection[Any], pg_roles: set[str]) -> None:
        rows = conn.execute(
            "SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)", (sorted(pg_roles),)
        ).fetchall()
        missing = pg_roles - {row[0] for row in rows}
        if missing:
            names = ", ".join(sorted(missing))
            raise self.error(
                f"grantable role(s) {names} do not exist; create them (CREATE ROLE … NOLOGIN) "
                f"and GRANT them TO {self.settings.user} WITH ADMIN OPTION"
            )

    def _load_logins(
        self, conn: psycopg.Connection[Any], names: set[str], *, for_revoke: bool
    ) -> dict[str, Login]:
        rows = conn.execute(
            """
            SELECT r.rolname, r.rolcanlogin, r.rolsuper,
                   shobj_description(r.oid, 'pg_authid'),
                   EXISTS (SELECT 1 FROM pg_auth_members a
                           WHERE a.roleid = r.oid AND a.admin_option
                             AND a.member = (SELECT oid FROM pg_roles WHERE rolname = current_user))
            FROM pg_roles r WHERE r.rolname = ANY(%s)
            """,
            (sorted(names),),
        ).fetchall()
        logins = {name: Login(name, exists=False) for name in names}
        for name, can_login, superuser, comment, administered in rows:
            login = Login(name, exists=True, administered=administered)
            login.grants = parse_comment(comment) if administered else {}
            logins[name] = login
            if for_revoke:
                # Taking access away must not depend on how the login was set up: REVOKE only
                # needs ADMIN on the granted role. A login jitops does not administer just
                # keeps its VALID UNTIL and comment.
                continue
            if not can_login or superuser:
                what = "a superuser" if superuser else "not a LOGIN role (a group?)"
                raise self.error(
                    f"role {name!r} is {what}; jitops only grants to dedicated login roles; "
                    f"change `login_template` or `logins`"
                )
            if not administered:
                raise self.error(
                    f"login role {name!r} exists but {self.settings.user!r} has no ADMIN OPTION "
                    f"on it, which setting VALID UNTIL needs; run: "
                    f"GRANT {name} TO {self.settings.user} WITH ADMIN OPTION"
                )
        missing = sorted(name for name, login in logins.items() if not login.exists)
        if missing and not for_revoke and not self.settings.create_logins:
            raise self.error(
                f"login role(s) {', '.join(missing)} do not exist and `create_logins` is off; "
                f"create them and GRANT each TO {self.settings.user} WITH ADMIN OPTION"
            )
        return logins

    def _memberships(
        self, conn: psycopg.Connection[Any], logins: Mapping[str, Login], *, as_intended: bool
    ) -> set[tuple[str, str]]:
        """(login, role) memberships the provisioner granted; with ``as_intended`` only those
        with exactly jitops' options (so a loosened one is granted again, which tightens it)."""
        rows = conn.execute(
            """
            SELECT m.rolname, r.rolname
            FROM pg_auth_members a
            JOIN pg_roles m ON m.oid = a.member
            JOIN pg_roles r ON r.oid = a.roleid
            WHERE m.rolname = ANY(%s)
              AND a.grantor = (SELECT oid FROM pg_roles WHERE rolname = current_user)
              AND (NOT %s OR (a.inherit_option AND NOT a.set_option))
            """,
            (sorted(logins), as_intended),
        ).fetchall()
        return {(login, role) for login, role in rows}

    def _write_logins(
        self, conn: psycopg.Connection[Any], logins: Iterable[Login], now: datetime
    ) -> None:
        sql = _psycopg().sql
        for login in logins:
            if not login.touched or not login.exists or not login.administered:
                continue
            # The latest expiry among the login's grants; with none left, the password ends now.
            until = login.expiry() or now
            name = sql.Identifier(login.name)
            conn.execute(
                sql.SQL("ALTER ROLE {} VALID UNTIL {}").format(name, sql.Literal(until.isoformat()))
            )
            comment = sql.Literal(comment_text(login.grants)) if login.grants else sql.SQL("NULL")
            conn.execute(sql.SQL("COMMENT ON ROLE {} IS {}").format(name, comment))

    # -- listing and checks ------------------------------------------------------------------

    def list_managed(self) -> list[ManagedAccess]:
        with self._connect() as conn:
            rows = conn.execute(
                """
                SELECT m.rolname, r.rolname, shobj_description(m.oid, 'pg_authid')
                FROM pg_auth_members a
                JOIN pg_roles m ON m.oid = a.member
                JOIN pg_roles r ON r.oid = a.roleid
                WHERE a.grantor = (SELECT oid FROM pg_roles WHERE rolname = current_user)
                ORDER BY 1, 2
                """
            ).fetchall()
        by_pg_role = {pg_role: name for name, pg_role in sorted(self.roles.items())}
        managed: list[ManagedAccess] = []
        for login, pg_role, comment in rows:
            records = [
                (rid, g) for rid, g in parse_comment(comment).items() if g["pg_role"] == pg_role
            ]
            if not records:
                managed.append(
                    ManagedAccess(
                        target=self.target.name,
                        identity=login,
                        role=by_pg_role.get(pg_role, pg_role),
                        requester=self._requester_for(login),
                    )
                )
            managed.extend(
                ManagedAccess(
                    target=self.target.name,
                    identity=login,
                    role=record.get("role", by_pg_role.get(pg_role, pg_role)),
                    requester=record.get("requester") or self._requester_for(login),
                    expires_at=datetime.fromisoformat(record["expires_at"]),
                    request_id=rid,
                )
                for rid, record in sorted(records)
            )
        return managed

    def check(self) -> list[CheckResult]:
        """Reachable, and with the least privilege jitops needs (``checks``): one small check
        per thing, from what one connection reads."""
        try:
            with self._connect() as conn:
                found = read_privileges(conn, list(self.roles.values()))
        except ProvisionerError as exc:
            return [
                self.result(
                    "reachable",
                    CheckStatus.ERROR,
                    exc.message,
                    "check the target's host, port, dbname, user and its password secret",
                )
            ]
        user = self.settings.user
        reachable = self.result("reachable", CheckStatus.OK, f"connected as {user}")
        grantable = list(self.roles.values())
        return [reachable, *privilege_checks(found, user, grantable, self.result)]
