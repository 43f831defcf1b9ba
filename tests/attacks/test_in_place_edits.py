"""Attacks on a granted request's file (invariants 3 and 4): edited in place after its grant —
a longer window, another requester, a mode change, a rename, a removal reverted — merged on a
forged status (with or without a colluding approver) or pushed straight to the default branch.

What the attacker can do: change any file on the branch. What they cannot: a grant is the
exact content apply verified, so any change to it revokes the grant in the same run and is
judged as a new request (which the id rule refuses); the window ends where the verified
version said, on the exec fake system and on a real PostgreSQL login's ``VALID UNTIL`` alike,
and ``status``, ``audit verify`` and the sweep agree. Beside each attack its control: the
approved path still grants.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from jitops.ledger import Standing, read_ledger
from jitops.testing.github import GitHubServer
from tests.e2e.apply_world import (
    FAR,
    World,
    apply,
    edit,
    granted,
    make_world,
    status_row,
)
from tests.e2e.conftest import CLI, LegacySystem
from tests.fixtures.postgres import PostgresServer, new_password
from tests.gitrepo import git


@pytest.mark.attack(4, "extend a granted request by editing it in place, merged on a forged status")
def test_an_in_place_edit_that_extends_a_grant_revokes_it_and_grants_nothing(
    world: World, cli: CLI
) -> None:
    path = granted(world, cli, "ext-1")
    _, longer = world.request("ext-1", window=f"expires_at: {FAR}")
    for attempt, approve in (("ext-1-longer", False), ("ext-1-again", True)):
        edit(world, attempt, {path: longer + f"# {attempt}\n"}, approve)
        result = apply(world, cli, world.pull_base())
        assert result.code == 1, result.output
        assert "refused:" in result.out and "already used" in result.out
        assert world.legacy.held() == set()  # the old grant is revoked in the same run
        row = status_row(world, cli, "ext-1")
        assert row["state"] == Standing.EDITED.value and row["standing"] == "edited after grant"
        text = cli("status", "--repo", str(world.base))
        assert "no access" in text.out and "0 active grant(s)" in text.err
        assert "left" not in text.out.split("ext-1")[0].splitlines()[-1]
    verify = cli("audit", "--repo", str(world.base), "verify")
    assert verify.code == 1 and "ext-1" in verify.out


@pytest.mark.attack(3, "shorten a granted request in place, approved, to keep the old grant")
def test_an_edit_that_shortens_a_grant_ends_it_now(world: World, cli: CLI) -> None:
    path = granted(world, cli, "short-1")
    _, shorter = world.request("short-1", window="duration: 1h")
    number = world.open_pull("short-1-shorter", {path: shorter})
    world.server.hub.review(world.repo, number, user=world.login("bob"), event="APPROVE")
    world.merge(number)
    result = apply(world, cli, world.pull_base())
    assert "revoked:" in result.out and "changed on the branch by" in result.out
    assert "the new content is a new request" in result.out
    assert world.legacy.held() == set()
    [entry] = read_ledger(world.base).entries
    assert entry.standing is Standing.EDITED


@pytest.mark.attack(3, "swap the requester of a granted request")
def test_a_requester_swap_revokes_the_original_person(world: World, cli: CLI) -> None:
    path = granted(world, cli, "swap-1")
    _, swapped = world.request("swap-1", requester="bob")
    edit(world, "swap-1-bob", {path: swapped}, approve=False)
    result = apply(world, cli, world.pull_base())
    assert result.code == 1
    assert f"revoked: @{world.login('alice')}" in result.out  # the person who held it
    assert world.legacy.held() == set()  # and bob got nothing


@pytest.mark.attack(3, "push an edit of a granted request straight to main")
def test_an_edit_pushed_straight_to_the_branch_revokes_and_grants_nothing(
    world: World, cli: CLI
) -> None:
    path = granted(world, cli, "push-1")
    _, longer = world.request("push-1", window=f"expires_at: {FAR}")
    world.server.hub.push(world.repo, "main", {path: longer}, author=world.login("alice"))
    result = apply(world, cli, world.pull_base())
    assert result.code == 1 and "without a merged pull request" in result.out
    assert world.legacy.held() == set()
    assert status_row(world, cli, "push-1")["state"] == "edited after grant"


@pytest.mark.attack(3, "change a granted file's mode")
def test_a_mode_change_is_an_edit(world: World, cli: CLI) -> None:
    path = granted(world, cli, "mode-1")
    git(world.base, "update-index", "--chmod=+x", path)
    git(world.base, "commit", "-q", "-m", "make it executable")
    git(world.base, "push", "-q", "origin", "main")  # pushed straight to the branch
    before = git(world.base, "rev-parse", "HEAD~1").strip()
    result = apply(world, cli, before)
    assert "revoked:" in result.out and result.code == 1
    assert world.legacy.held() == set()


@pytest.mark.attack(3, "rename a granted request")
def test_a_rename_ends_the_old_grant_and_is_judged_as_a_new_request(world: World, cli: CLI) -> None:
    old = granted(world, cli, "ren-1")
    new, text = world.request("ren-2")
    number = world.open_pull("ren-1-to-2", {old: None, new: text})
    world.server.hub.review(world.repo, number, user=world.login("bob"), event="APPROVE")
    world.merge(number)
    result = apply(world, cli, world.pull_base())
    assert result.code == 0, result.output
    assert "revoked:" in result.out and "ren-1" in result.out
    assert "granted:" in result.out and "ren-2" in result.out
    state = json.loads(world.legacy.state.read_text())
    assert [g["request_id"] for g in state.values()] == ["ren-2"]

    # the same rename without an approval: the old grant ends, the new one is refused
    newer, text = world.request("ren-3")
    edit(world, "ren-2-to-3", {new: None, newer: text}, approve=False)
    result = apply(world, cli, world.pull_base())
    assert result.code == 1 and "refused:" in result.out
    assert world.legacy.held() == set()


@pytest.mark.attack(3, "revert the removal of an expired request")
def test_reverting_a_revocation_grants_nothing(world: World, cli: CLI) -> None:
    path = granted(world, cli, "back-1")
    _, text = world.request("back-1")
    world.merge(world.open_pull("drop-back-1", {path: None}))
    assert apply(world, cli, world.pull_base()).code == 0
    assert world.legacy.held() == set()
    number = world.open_pull("revert-drop-back-1", {path: text})
    world.server.hub.review(world.repo, number, user=world.login("bob"), event="APPROVE")
    world.merge(number)
    result = apply(world, cli, world.pull_base())
    assert result.code == 1 and "already used" in result.out
    assert world.legacy.held() == set()
    assert status_row(world, cli, "back-1")["state"] == "refused"


@pytest.mark.attack(4, "extend a PostgreSQL grant's VALID UNTIL by an in-place edit")
def test_on_postgresql_an_extending_edit_ends_the_grant_and_moves_no_valid_until(
    legacy: LegacySystem,
    github_server: GitHubServer,
    github_names: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    cli: CLI,
    postgres_server: PostgresServer,
) -> None:
    """The in-place edit attack against a real PostgreSQL target: the approved grant is
    revoked in the run that sees the edit, and the login's VALID UNTIL never moves to the
    edited window."""
    n = github_names.replace("-", "_")
    provisioner_password = new_password()
    for statement in (
        f"CREATE ROLE lc_prov_{n} LOGIN CREATEROLE PASSWORD '{provisioner_password}'",
        f"GRANT pg_signal_backend TO lc_prov_{n}",
        f"CREATE ROLE lc_ro_{n} NOLOGIN",
        f"GRANT lc_ro_{n} TO lc_prov_{n} WITH ADMIN OPTION",
    ):
        postgres_server.admin(statement)
    monkeypatch.setenv("LC_PG_PASSWORD", provisioner_password)
    (legacy.repo / "policies" / "pg.yaml").write_text(
        "apiVersion: jitops/v1\nkind: Target\nname: pg\nprovisioner: postgres\nroles: [readonly]\n"
        f"settings:\n  host: {postgres_server.host}\n  port: {postgres_server.port}\n"
        f"  user: lc_prov_{n}\n  login_template: 'lc{n}_{{login}}'\n"
        f"  roles: {{readonly: lc_ro_{n}}}\nsecrets:\n  password: LC_PG_PASSWORD\n"
    )
    world = make_world(legacy, github_server, github_names, tmp_path, monkeypatch)
    alice, bob = world.login("alice"), world.login("bob")
    policy = (
        "apiVersion: jitops/v1\nkind: Policy\nname: pg\ntargets: [pg]\n"
        f"requesters: [{alice}]\nroles:\n  readonly:\n    max_duration: 8h\n"
        f"    approvals: [{{count: 1, from: [{bob}]}}]\n"
    )
    number = world.open_pull("pg-policy", {"policies/pg-policy.yaml": policy})
    for person in ("p1", "owner"):
        world.server.hub.review(world.repo, number, user=world.login(person), event="APPROVE")
    world.merge(number)
    assert apply(world, cli, world.pull_base()).code == 0
    path = "requests/pg/readonly/pg-1.yaml"

    def request(window: str) -> str:
        return (
            "apiVersion: jitops/v1\nkind: AccessRequest\nid: pg-1\n"
            f"requester: {alice}\ntarget: pg\nrole: readonly\n"
            f"justification: Investigate INC-77 on the orders table\n{window}\n"
        )

    number = world.open_pull("pg-1", {path: request("duration: 2h")})
    world.server.hub.review(world.repo, number, user=bob, event="APPROVE")
    world.merge(number)
    granted_run = apply(world, cli, world.pull_base())
    assert granted_run.code == 0, granted_run.output
    login = f"lc{n}_{alice}".lower()

    def state() -> tuple[list[str], datetime | None]:
        members = postgres_server.admin(
            "SELECT g.rolname FROM pg_auth_members a JOIN pg_roles g ON g.oid = a.roleid "
            "JOIN pg_roles m ON m.oid = a.member WHERE m.rolname = %s",
            (login,),
        )
        until = postgres_server.admin(
            "SELECT rolvaliduntil FROM pg_roles WHERE rolname = %s", (login,)
        )
        return [row[0] for row in members], until[0][0] if until else None

    roles, valid_until = state()
    assert roles == [f"lc_ro_{n}"] and valid_until is not None
    assert valid_until <= datetime.now(UTC) + timedelta(hours=2, minutes=1)

    edit(world, "pg-1-longer", {path: request(f"expires_at: {FAR}")}, approve=True)
    result = apply(world, cli, world.pull_base())
    assert result.code == 1 and "already used" in result.out, result.output
    roles, after = state()
    assert roles == []  # revoked in the same run
    assert after is None or after <= valid_until  # never extended to the edited window
