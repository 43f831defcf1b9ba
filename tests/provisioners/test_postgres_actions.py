"""SQL actions performed on a real PostgreSQL (the session's embedded server): as the action
login, in one transaction, with PostgreSQL enforcing read-only, the timeout and — through
jitops — the rows-affected cap; every failure reported, redacted, nothing half done.

The statements here are handed to ``perform`` directly, past the offline review: what the
parser would refuse must still be stopped by the database and the watchdog.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from jitops.provisioners import postgres as postgres_provisioner
from jitops.provisioners.interface import ActionRun, TargetConfig
from jitops.provisioners.postgres import PostgresProvisioner
from jitops.provisioners.postgres import actions as postgres_actions
from tests.fixtures.shop import Shop


def run(*statements: str, **limits: Any) -> ActionRun:
    return ActionRun("fix-1", "alice", "shop", "fix-order-state", statements, **limits)


def test_an_update_runs_once_as_the_action_login(shop: Shop) -> None:
    result = shop.provisioner().perform(
        run("UPDATE orders SET state = 'paid' WHERE id = 1002", max_rows_affected=1)
    )
    assert result.succeeded, result.error
    assert (result.identity, result.rows_affected) == (shop.action_user, 1)
    assert result.tags == ("UPDATE 1",)  # PostgreSQL's own command tag, kept in the result
    assert shop.states()[1002] == "paid"
    assert len(result.digest) == 64


def test_rows_returned_are_kept_up_to_the_cap_as_text(shop: Shop) -> None:
    result = shop.provisioner().perform(
        run("SELECT id, customer, state FROM orders ORDER BY id", max_rows_returned=2)
    )
    assert result.succeeded
    assert result.columns == ("id", "customer", "state")
    assert result.rows == (("1001", "Ada", "paid"), ("1002", "Grace", "stuck in payment"))
    assert result.more_rows


@pytest.mark.attack(3, "change more rows than the action allows")
def test_over_the_rows_affected_cap_everything_is_rolled_back(shop: Shop) -> None:
    """Attack (a WHERE that is too wide): the action may change one row; this changes two.
    Nothing stays changed, not even the statements before."""
    before = shop.states()
    result = shop.provisioner().perform(
        run(
            "UPDATE orders SET state = 'shipped' WHERE id = 1001",
            "UPDATE orders SET state = 'paid' WHERE state = 'stuck in payment'",
            max_rows_affected=1,
        )
    )
    assert not result.succeeded
    assert "3 rows affected, over the action's cap of 1" in (result.error or "")
    assert shop.states() == before


@pytest.mark.attack(3, "write through a read-only action")
def test_a_read_only_action_that_writes_is_refused_by_postgresql(shop: Shop) -> None:
    before = shop.states()
    result = shop.provisioner().perform(
        run("UPDATE orders SET state = 'paid' WHERE id = 1002", read_only=True)
    )
    assert not result.succeeded
    assert "read-only transaction" in (result.error or "")
    assert shop.states() == before


def test_a_statement_over_its_timeout_is_stopped(shop: Shop) -> None:
    result = shop.provisioner().perform(
        run("SELECT pg_sleep(3)", timeout=timedelta(milliseconds=300))
    )
    assert not result.succeeded
    assert "statement timeout" in (result.error or "")


@pytest.mark.attack(3, "lift the action's timeout from inside the transaction")
def test_a_timeout_lifted_from_inside_is_still_stopped_by_the_watchdog(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Attack (the parser bypassed): `set_config` lifts statement_timeout for the rest of
    the transaction; the client's watchdog cancels the query anyway."""
    monkeypatch.setattr(postgres_actions, "WATCHDOG_MARGIN_SECONDS", 0.5)
    result = shop.provisioner().perform(
        run(
            "SELECT set_config('statement_timeout', '0', true)",
            "SELECT pg_sleep(30)",
            timeout=timedelta(milliseconds=300),
        )
    )
    assert not result.succeeded
    assert "cancel" in (result.error or "").lower()


@pytest.mark.attack(3, "reach the provisioner's privileges from an action")
def test_the_action_login_is_not_the_provisioner(shop: Shop) -> None:
    """Attack (RESET ROLE, a role of its own): the statements run as the action login, so
    there is no more privileged identity to return to, and it cannot create a role."""
    result = shop.provisioner().perform(run("RESET ROLE", "CREATE ROLE escaped LOGIN"))
    assert not result.succeeded
    assert "permission denied" in (result.error or "")
    assert shop.server.admin("SELECT 1 FROM pg_roles WHERE rolname = 'escaped'") == []


@pytest.mark.attack(7, "print a target's secret through an action's error")
def test_a_secret_in_an_error_is_redacted(shop: Shop) -> None:
    result = shop.provisioner().perform(run(f"SELECT '{shop.action_password}'::int"))
    assert not result.succeeded
    assert shop.action_password not in (result.error or "")
    assert "invalid input syntax" in (result.error or "")


def test_a_target_without_an_action_login_says_what_to_set(shop: Shop) -> None:
    target = shop.provisioner().target
    settings = {k: v for k, v in target.settings.items() if k != "action_user"}
    bare = PostgresProvisioner(
        TargetConfig(target.name, target.kind, settings, target.secrets, target.roles),
        {"PG_PASSWORD": shop.provisioner_password},
    )
    result = bare.perform(run("SELECT 1"))
    assert not result.succeeded and "no `action_user`" in (result.error or "")
    assert postgres_provisioner.PostgresProvisioner.performs == frozenset({"sql"})


# -- doctor: the action login's privileges ----------------------------------------------------


def privilege_messages(shop: Shop, kinds: set[str]) -> list[tuple[str, str]]:
    return [(r.status.value, r.message) for r in shop.provisioner().check_actions(frozenset(kinds))]


def test_an_action_login_with_just_what_the_actions_need_passes(shop: Shop) -> None:
    assert privilege_messages(shop, {"select", "update"}) == [
        ("ok", f"{shop.action_user} holds no more than the actions need (select, update)")
    ]


@pytest.mark.attack(3, "run actions as a login that can do more than they need")
def test_more_than_the_actions_need_is_an_error_with_its_fix(shop: Shop) -> None:
    """Attack (an over-privileged action login): whatever the parser lets through runs with
    the login's privileges, so doctor holds them to what the offered statements use."""
    user = shop.action_user
    shop.server.admin(f"ALTER ROLE {user} CREATEDB")
    shop.server.admin(f"GRANT DELETE, TRUNCATE ON orders TO {user}", dbname=shop.dbname)
    shop.server.admin(f"GRANT CREATE ON SCHEMA public TO {user}", dbname=shop.dbname)
    shop.server.admin(f"GRANT pg_read_server_files TO {user}")
    results = shop.provisioner().check_actions(frozenset({"select", "update"}))
    found = {(r.message, r.fix) for r in results}
    assert all(r.status.value == "error" for r in results)
    assert (f"{user} has CREATEDB", f"ALTER ROLE {user} NOCREATEDB") in found
    assert any("holds DELETE on orders" in m and f == f"REVOKE DELETE ON orders FROM {user}"
               for m, f in found)  # fmt: skip
    assert any("holds TRUNCATE on orders" in m for m, _ in found)
    assert any("may create objects in schema public" in m for m, _ in found)
    assert any("member of pg_read_server_files" in m for m, _ in found)
    # a read-only set of actions: UPDATE is too much as well
    assert any("holds UPDATE on orders" in m for _, m in privilege_messages(shop, {"select"}))


def test_an_action_login_that_is_missing_or_owns_tables_is_an_error(shop: Shop) -> None:
    shop.server.admin(f"ALTER TABLE orders OWNER TO {shop.action_user}", dbname=shop.dbname)
    [owned] = [m for _, m in privilege_messages(shop, {"update"}) if "owns" in m]
    assert owned.startswith(f"{shop.action_user} owns orders")
    target = shop.provisioner().target
    settings = dict(target.settings) | {"action_user": "nobody_here"}
    missing = PostgresProvisioner(
        TargetConfig(target.name, target.kind, settings, target.secrets, target.roles),
        {"PG_PASSWORD": shop.provisioner_password},
    ).check_actions(frozenset({"update"}))
    assert missing[0].message == "the action login nobody_here does not exist"


@pytest.mark.attack(7, "print a secret through a cell an action returns")
def test_a_returned_cell_is_redacted_then_cut(shop: Shop) -> None:
    result = shop.provisioner().perform(
        run(f"SELECT repeat('x', 500) AS long, '{shop.action_password}' AS leaked")
    )
    assert result.succeeded, result.error
    [(long, leaked)] = result.rows
    assert len(long) == postgres_actions.MAX_CELL_CHARS and long.endswith("…")
    assert shop.action_password not in leaked
