"""PostgreSQL fails under jitops, end to end: nothing is lost (invariant 5).

Each test runs the real CLI (``jitops apply``, ``jitops sweep``) in-process against a GitHub
test server and a PostgreSQL server that it stops and starts (tests/faults/conftest.py), then
reads the outcome from PostgreSQL itself: ``pg_auth_members`` (one row per membership, with
its grantor and oid, so a grant made twice or revoked and made again shows), the login's
``VALID UNTIL`` and comment, and a password login that tries to read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from jitops.commands.sweep import FAILED_LABEL, SWEEP_BRANCH
from jitops.provisioners.interface import Grant
from jitops.provisioners.postgres import PostgresProvisioner
from jitops.testing.github import GitHubServer
from tests.e2e.apply_world import World, apply, make_world, workflow_apply
from tests.e2e.conftest import CLI, LegacySystem, Run
from tests.faults.conftest import Flapping
from tests.fixtures.postgres import new_password

# What PostgreSQL holds for one login: its memberships (role, grantor, row oid), VALID UNTIL
# and comment.
State = tuple[list[tuple[str, str, int]], datetime | None, str | None]


@dataclass
class Sandbox:
    """An access repository on the GitHub test server whose ``pg`` target is the stoppable
    PostgreSQL server, with a policy (verified by apply) that lets alice request ``readonly``
    and ``readwrite`` on bob's approval."""

    world: World
    pg: Flapping
    provisioner: str
    roles: dict[str, str]  # jitops role → PostgreSQL role
    table: str
    login: str  # alice's database login, named by the target's login_template

    @property
    def alice(self) -> str:
        return self.world.login("alice")

    def land(self, *requests: tuple[str, str]) -> str:
        """Open, approve and merge one pull request with ``(request id, role)`` requests; the
        commit before it, for ``apply --before``."""
        files: dict[str, str | None] = {
            f"requests/pg/{role}/{request_id}.yaml": (
                "apiVersion: jitops/v1\nkind: AccessRequest\n"
                f"id: {request_id}\nrequester: {self.alice}\ntarget: pg\nrole: {role}\n"
                "justification: Investigate INC-77 on the orders table\nduration: 2h\n"
            )
            for request_id, role in requests
        }
        world = self.world
        number = world.open_pull(requests[0][0], files)
        world.server.hub.review(world.repo, number, user=world.login("bob"), event="APPROVE")
        world.merge(number)
        return world.pull_base()

    def line(self, action: str, request_id: str, role: str) -> str:
        """The start of the line apply prints for one request."""
        return f"{action}: @{self.alice} pg/{role} {request_id}"

    def swept(self, action: str, request_id: str, role: str) -> str:
        """The start of the line sweep prints for one request."""
        return f"{action}: @{self.alice} pg/{role} ({request_id}, expired"

    def state(self) -> State:
        members = self.pg.server.admin(
            "SELECT g.rolname, gr.rolname, a.oid::int FROM pg_auth_members a "
            "JOIN pg_roles g ON g.oid = a.roleid JOIN pg_roles m ON m.oid = a.member "
            "JOIN pg_roles gr ON gr.oid = a.grantor WHERE m.rolname = %s ORDER BY 1, 3",
            (self.login,),
        )
        role = self.pg.server.admin(
            "SELECT rolvaliduntil, shobj_description(oid, 'pg_authid') FROM pg_roles "
            "WHERE rolname = %s",
            (self.login,),
        )
        until, comment = role[0] if role else (None, None)
        return [tuple(row) for row in members], until, comment

    def members(self) -> list[str]:
        """The roles alice's login is a member of, once per membership row."""
        return [role for role, _, _ in self.state()[0]]

    def can_read(self) -> bool:
        """Whether alice, logging in with a password, can read the table the roles give."""
        password = new_password()
        with self.pg.server.connect() as admin:
            admin.execute(
                sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                    sql.Identifier(self.login), sql.Literal(password)
                )
            )
        try:
            with self.pg.server.connect(self.login, password) as conn:
                conn.execute(f"SELECT v FROM {self.table}").fetchall()
        except (psycopg.OperationalError, psycopg.errors.InsufficientPrivilege):
            return False
        return True


@pytest.fixture
def sandbox(
    legacy: LegacySystem,
    github_server: GitHubServer,
    github_names: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    cli: CLI,
    flapping_postgres: Flapping,
) -> Sandbox:
    n = github_names.replace("-", "_")
    server = flapping_postgres.server
    provisioner, password = f"flt_prov_{n}", new_password()
    roles = {"readonly": f"flt_ro_{n}", "readwrite": f"flt_rw_{n}"}
    table = f"flt_data_{n}"
    for statement in (
        f"CREATE ROLE {provisioner} LOGIN CREATEROLE PASSWORD '{password}'",
        f"GRANT pg_signal_backend TO {provisioner}",
        *(f"CREATE ROLE {role} NOLOGIN" for role in roles.values()),
        *(f"GRANT {role} TO {provisioner} WITH ADMIN OPTION" for role in roles.values()),
        f"CREATE TABLE {table} (v text)",
        f"INSERT INTO {table} VALUES ('x')",
        *(f"GRANT SELECT ON {table} TO {role}" for role in roles.values()),
    ):
        server.admin(statement)
    monkeypatch.setenv("FLT_PG_PASSWORD", password)
    # a short connect timeout: a server that is down refuses at once anyway (its socket is
    # gone), and a hanging connect would only slow the failing run
    (legacy.repo / "policies" / "pg.yaml").write_text(
        "apiVersion: jitops/v1\nkind: Target\nname: pg\nprovisioner: postgres\n"
        "roles: [readonly, readwrite]\n"
        f"settings:\n  host: {server.host}\n  port: {server.port}\n  user: {provisioner}\n"
        f"  connect_timeout: 2\n  login_template: 'flt{n}_{{login}}'\n"
        f"  roles: {{readonly: {roles['readonly']}, readwrite: {roles['readwrite']}}}\n"
        "secrets:\n  password: FLT_PG_PASSWORD\n"
    )
    world = make_world(legacy, github_server, github_names, tmp_path, monkeypatch)
    alice, bob = world.login("alice"), world.login("bob")
    policy = (
        "apiVersion: jitops/v1\nkind: Policy\nname: pg\ntargets: [pg]\n"
        f"requesters: [{alice}]\nroles:\n"
        + "".join(
            f"  {role}:\n    max_duration: 8h\n    approvals: [{{count: 1, from: [{bob}]}}]\n"
            for role in roles
        )
    )
    number = world.open_pull("pg-policy", {"policies/pg-policy.yaml": policy})
    for person in ("p1", "owner"):
        world.server.hub.review(world.repo, number, user=world.login(person), event="APPROVE")
    world.merge(number)
    installed = apply(world, cli, world.pull_base())
    assert installed.code == 0, installed.output
    return Sandbox(world, flapping_postgres, provisioner, roles, table, f"flt{n}_{alice}".lower())


def _later() -> str:
    """A moment past every 2-hour window these tests grant."""
    return f"{datetime.now(UTC) + timedelta(hours=3):%Y-%m-%dT%H:%M:%SZ}"


def _granted_for_two_hours(sandbox: Sandbox) -> None:
    _, until, _ = sandbox.state()
    now = datetime.now(UTC)
    assert until is not None and now < until <= now + timedelta(hours=2, minutes=1)


def _assert_ran(run: Run, code: int, *lines: str) -> None:
    assert run.code == code, run.output
    for line in lines:
        assert line in run.out, run.output


@pytest.mark.attack(5, "PostgreSQL is down while apply grants")
def test_a_grant_that_failed_while_postgresql_was_down_is_granted_once_by_the_rerun(
    sandbox: Sandbox, cli: CLI
) -> None:
    world, pg = sandbox.world, sandbox.pg
    before = sandbox.land(("down-1", "readonly"))
    pg.stop()
    failed = apply(world, cli, before)
    _assert_ran(failed, 3, sandbox.line("failed", "down-1", "readonly"))
    assert "granted:" not in failed.out
    assert "cannot connect" in failed.out  # what failed, in the failed grant's own line
    pg.start()
    # nothing was recorded anywhere as granted: no login, no membership, no comment
    assert sandbox.state() == ([], None, None)
    # and jitops still knows the grant is owed: reconcile sees it missing on the target
    drift = cli("reconcile", "--repo", str(world.base), "--target", "pg", "--dry-run")
    assert "missing" in drift.out and "down-1" in drift.out, drift.output
    # every reader says no access exists, not that it is active
    shown = cli("status", "--repo", str(world.base))
    assert "down-1" in shown.out and "grant failed" in shown.out, shown.output
    audit = cli("audit", "--repo", str(world.base), "verify")
    assert audit.code == 1 and "granting it failed" in audit.out, audit.output

    rerun = apply(world, cli, before)
    _assert_ran(rerun, 0, sandbox.line("granted", "down-1", "readonly"))
    shown = cli("status", "--repo", str(world.base))
    assert "grant failed" not in shown.out and "active" in shown.out, shown.output
    assert cli("audit", "--repo", str(world.base), "verify").code == 0
    assert sandbox.members() == [sandbox.roles["readonly"]]  # exactly one membership
    assert sandbox.state()[0][0][1] == sandbox.provisioner
    _granted_for_two_hours(sandbox)
    granted = sandbox.state()

    third = apply(world, cli, before)
    assert third.code == 0, third.output
    assert sandbox.state() == granted  # the same row, the same VALID UNTIL and comment
    assert sandbox.can_read()


@pytest.mark.attack(5, "a grant failed at the target, and only a later push is applied")
def test_a_failed_grant_is_retried_by_the_next_push_s_apply_without_catching_up(
    sandbox: Sandbox, cli: CLI
) -> None:
    """A grant failed while PostgreSQL was down, and the run is never rerun: the next push's
    plain ``apply --before`` (its own range only, no catching up) still grants it, once,
    because a verified grant that failed is owed whenever it landed."""
    world, pg = sandbox.world, sandbox.pg
    before = sandbox.land(("owed-1", "readonly"))
    pg.stop()
    _assert_ran(apply(world, cli, before), 3, sandbox.line("failed", "owed-1", "readonly"))
    pg.start()
    later = sandbox.land(("next-1", "readwrite"))
    run = apply(world, cli, later)
    _assert_ran(
        run,
        0,
        sandbox.line("granted", "owed-1", "readonly"),
        sandbox.line("granted", "next-1", "readwrite"),
    )
    assert sandbox.members() == sorted(sandbox.roles.values())  # each once
    again = apply(world, cli, later)  # owed no more: the rerun of the range leaves it be
    assert again.code == 0 and "owed-1" not in again.out, again.output
    assert sandbox.members() == sorted(sandbox.roles.values())


@pytest.mark.attack(5, "PostgreSQL is down during a run of the apply workflow")
def test_the_next_workflow_run_catches_up_a_grant_that_failed_while_postgresql_was_down(
    sandbox: Sandbox, cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As Actions runs it: nobody reruns the failed run; the next push's run (``--catch-up``)
    starts at the last commit a successful run completed, so it grants what failed, once."""
    world, pg = sandbox.world, sandbox.pg
    sandbox.land(("wf-1", "readonly"))
    pg.stop()
    failed, _ = workflow_apply(world, cli, monkeypatch, 1)
    _assert_ran(failed, 3, sandbox.line("failed", "wf-1", "readonly"))
    pg.start()
    assert sandbox.state() == ([], None, None)

    sandbox.land(("wf-2", "readwrite"))
    caught_up, _ = workflow_apply(world, cli, monkeypatch, 2)
    _assert_ran(
        caught_up,
        0,
        sandbox.line("granted", "wf-1", "readonly"),
        sandbox.line("granted", "wf-2", "readwrite"),
    )
    assert "catching up from" in caught_up.err
    assert sandbox.members() == sorted(sandbox.roles.values())  # each once
    _granted_for_two_hours(sandbox)
    complete = sandbox.state()

    rerun, _ = workflow_apply(world, cli, monkeypatch, 3)  # the same push, run again
    assert rerun.code == 0, rerun.output
    assert sandbox.state() == complete


@pytest.mark.attack(5, "PostgreSQL stops between the grants of one apply run")
def test_a_batch_of_grants_cut_by_a_stop_is_completed_by_the_rerun_and_nothing_twice(
    sandbox: Sandbox, cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    world, pg = sandbox.world, sandbox.pg
    requests = (("batch-ro", "readonly"), ("batch-rw", "readwrite"))
    before = sandbox.land(*requests)
    # apply grants each request in its own transaction; the server goes down right after the
    # first one commits, so the second meets a dead server
    grant_all = PostgresProvisioner.grant_all

    def then_stop(self: PostgresProvisioner, grants: Sequence[Grant]) -> None:
        grant_all(self, grants)
        pg.stop()

    with monkeypatch.context() as patch:
        patch.setattr(PostgresProvisioner, "grant_all", then_stop)
        cut = apply(world, cli, before)
    assert cut.code == 3, cut.output
    granted = [(i, r) for i, r in requests if sandbox.line("granted", i, r) in cut.out]
    failed = [(i, r) for i, r in requests if sandbox.line("failed", i, r) in cut.out]
    assert len(granted) == 1 and len(failed) == 1, cut.output
    pg.start()
    [(_, first_role)] = granted
    assert sandbox.members() == [sandbox.roles[first_role]]  # the first one committed, alone
    [first_row] = sandbox.state()[0]

    rerun = apply(world, cli, before)
    _assert_ran(rerun, 0, *(sandbox.line("granted", i, r) for i, r in requests))
    assert sandbox.members() == sorted(sandbox.roles.values())  # each once
    assert first_row in sandbox.state()[0]  # the first grant's row untouched, not made again
    _granted_for_two_hours(sandbox)
    complete = sandbox.state()

    third = apply(world, cli, before)
    assert third.code == 0, third.output
    assert sandbox.state() == complete


@pytest.mark.attack(5, "PostgreSQL crashes inside a sweep's batch of revokes")
def test_a_batch_of_revokes_cut_inside_its_transaction_loses_nothing_and_is_retried(
    sandbox: Sandbox, cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    world, pg = sandbox.world, sandbox.pg
    requests = (("sweep-ro", "readonly"), ("sweep-rw", "readwrite"))
    before = sandbox.land(*requests)
    assert apply(world, cli, before).code == 0
    held = sandbox.state()
    assert len(held[0]) == 2
    # The sweep revokes both in one transaction. The server crashes after its REVOKE
    # statements were sent and before it commits: PostgreSQL must roll all of it back, and
    # jitops must report both as failed (it retries them one by one, on a dead server).
    write_logins: Callable[..., None] = PostgresProvisioner._write_logins

    def crash_before_commit(self: PostgresProvisioner, *args: Any) -> None:
        pg.stop()
        write_logins(self, *args)

    later = _later()
    with monkeypatch.context() as patch:
        patch.setattr(PostgresProvisioner, "_write_logins", crash_before_commit)
        cut = cli("sweep", "--repo", str(world.base), "--now", later, "--no-pr")
    _assert_ran(cut, 3, *(sandbox.swept("failed", i, r) for i, r in requests))
    assert "revoked:" not in cut.out
    pg.start()
    assert sandbox.state() == held  # nothing half-revoked: memberships, comment, VALID UNTIL

    retried = cli("sweep", "--repo", str(world.base), "--now", later, "--no-pr")
    _assert_ran(retried, 0, *(sandbox.swept("revoked", i, r) for i, r in requests))
    assert sandbox.members() == []
    assert not sandbox.can_read()
    gone = sandbox.state()
    again = cli("sweep", "--repo", str(world.base), "--now", later, "--no-pr")
    assert again.code == 0, again.output
    assert sandbox.state() == gone


@pytest.mark.attack(5, "PostgreSQL is down while the sweep revokes expired access")
def test_revokes_that_failed_while_postgresql_was_down_are_kept_and_done_next_sweep(
    sandbox: Sandbox, cli: CLI
) -> None:
    world, pg = sandbox.world, sandbox.pg
    before = sandbox.land(("exp-1", "readonly"))
    assert apply(world, cli, before).code == 0
    assert sandbox.can_read()
    held = sandbox.state()
    hub = world.server.hub

    def failed_issues(state: str) -> list[str]:
        return [
            issue.body or ""
            for issue in hub.state.issues_of(world.repo.id)
            if issue.state == state and FAILED_LABEL in {label.name for label in issue.labels}
        ]

    def sweep_pulls() -> int:
        return sum(
            1
            for pr in hub.state.pulls_of(world.repo.id)
            if pr.head_ref == SWEEP_BRANCH and pr.state == "open"
        )

    later = _later()
    sweep = ("sweep", "--repo", str(world.base), "--now", later, "--open-pr")
    pg.stop()
    down = cli(*sweep)
    _assert_ran(down, 3, sandbox.swept("failed", "exp-1", "readonly"))
    assert "retried next run" in down.err
    [record] = failed_issues("open")  # the failed-revokes record keeps it
    assert "exp-1" in record
    assert sweep_pulls() == 0  # nothing is recorded as revoked
    pg.start()
    assert sandbox.state() == held  # still granted: the revoke did not happen

    back = cli(*sweep)
    _assert_ran(back, 0, sandbox.swept("revoked", "exp-1", "readonly"))
    assert sandbox.members() == []
    assert not sandbox.can_read()
    assert failed_issues("open") == [] and len(failed_issues("closed")) == 1
    assert sweep_pulls() == 1
    gone = sandbox.state()

    after = cli(*sweep)
    assert after.code == 0, after.output
    assert sandbox.state() == gone
    assert failed_issues("open") == [] and sweep_pulls() == 1
