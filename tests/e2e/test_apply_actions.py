"""apply performing action requests end to end: on the GitHub test server, through the exec
fake system (tests/provisioners/scripts/fake_system.py, which logs every ``perform`` it gets),
each approved action runs once — never on a rerun, a revert and re-merge, a forged status or
an unapproved copy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jitops.testing.github import GitHubServer
from tests.e2e.apply_world import World, apply, forge_status, make_world
from tests.e2e.conftest import CLI, LegacySystem, Run
from tests.e2e.test_notify import add_channel, told
from tests.fixtures.receiver import Receiver
from tests.fixtures.shop import Shop
from tests.gitrepo import git

RESTART = """\
actions:
  restart:
    command:
      parameters:
        type: object
        properties: {service: {enum: [export, billing]}}
        required: [service]
        additionalProperties: false
      timeout: 20s
    approvals: [{count: 1, from: [BOB]}]
"""


@pytest.fixture
def acting(
    legacy: LegacySystem,
    github_server: GitHubServer,
    github_names: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> World:
    return make_world(legacy, github_server, github_names, tmp_path, monkeypatch, RESTART)


def perform(world: World, cli: CLI, before: str) -> Run:
    """apply as the workflow runs it for actions: their records pushed to origin as made."""
    return apply(world, cli, before, "--push-notes")


def performed(world: World) -> list[dict[str, object]]:
    log = Path(f"{world.legacy.state}.performed")
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def ask(world: World, request_id: str, service: str = "export") -> tuple[str, str]:
    path = f"actions/legacy/restart/{request_id}.yaml"
    text = (
        "apiVersion: jitops/v1\nkind: ActionRequest\n"
        f"id: {request_id}\nrequester: {world.login('alice')}\ntarget: legacy\n"
        "action: restart\njustification: The export job is stuck since INC-9\n"
        f"params: {{service: {service}}}\n"
    )
    return path, text


def approved_and_merged(world: World, request_id: str) -> int:
    path, text = ask(world, request_id)
    number = world.open_pull(request_id, {path: text})
    world.server.hub.review(world.repo, number, user=world.login("bob"), event="APPROVE")
    world.merge(number)
    return number


def test_an_approved_action_is_performed_once_and_its_result_told(acting: World, cli: CLI) -> None:
    number = approved_and_merged(acting, "restart-1")
    before = acting.pull_base()
    result = perform(acting, cli, before)
    assert result.code == 0, result.output
    assert f"performed: @{acting.login('alice')} legacy/restart restart-1 (#{number})" in result.out
    [sent] = performed(acting)
    assert (sent["name"], sent["params"]) == ("restart", {"service": "export"})
    comments = [c.body for c in acting.server.hub.comments_of(acting.repo, number)]
    [told] = [c for c in comments if "jitops: ✅ action performed" in c]
    assert "restarted export for" in told and "| result digest |" in told

    again = perform(acting, cli, before)  # a rerun of the same range
    assert again.code == 0, again.output
    assert "already performed: " in again.out
    assert len(performed(acting)) == 1

    # another run in a fresh clone (the workflow's) reads the record from origin
    fresh = acting.base.parent / "fresh"
    git(
        acting.base.parent, "clone", "-q", acting.server.file_url(acting.repo.full_name), str(fresh)
    )
    elsewhere = cli("apply", "--repo", str(fresh), "--before", before, "--push-notes")
    assert "already performed: " in elsewhere.out, elsewhere.output
    assert len(performed(acting)) == 1


@pytest.mark.attack(3, "perform an action from a run whose record never reaches origin")
def test_an_action_is_not_performed_without_its_record_reaching_origin(
    acting: World, cli: CLI
) -> None:
    """Attack (two clones): a record kept only in one clone does not stop the workflow's run,
    so apply performs an action only when it pushes the record first."""
    approved_and_merged(acting, "restart-9")
    result = apply(acting, cli, acting.pull_base())  # no --push-notes
    assert result.code == 1
    assert "performing an action needs --push-notes" in result.out
    assert performed(acting) == []


@pytest.mark.attack(3, "have an action performed on a forged status")
def test_a_merge_on_a_forged_status_performs_nothing(acting: World, cli: CLI) -> None:
    """Attack (a writer's own success status, a merge nobody approved): apply re-judges the
    pull request through the API and performs nothing."""
    path, text = ask(acting, "sneak-1")
    number = acting.open_pull("sneak-1", {path: text})
    forge_status(acting, number)
    acting.merge(number)
    result = perform(acting, cli, acting.pull_base())
    assert result.code == 1, result.output
    assert "refused: " in result.out and "its approval does not hold" in result.out
    assert performed(acting) == []


@pytest.mark.attack(3, "run an action twice by reverting and re-merging it")
def test_a_revert_and_re_merge_performs_nothing_again(acting: World, cli: CLI) -> None:
    approved_and_merged(acting, "restart-2")
    assert perform(acting, cli, acting.pull_base()).code == 0
    path, text = ask(acting, "restart-2")
    removal = acting.open_pull("drop-restart-2", {path: None})
    acting.merge(removal)
    acting.pull_base()
    readd = acting.open_pull("readd-restart-2", {path: text})
    acting.server.hub.review(acting.repo, readd, user=acting.login("bob"), event="APPROVE")
    acting.merge(readd)
    result = perform(acting, cli, acting.pull_base())
    assert "restart-2" in result.out and "performed: " not in result.out.replace(
        "already performed: ", ""
    )
    assert len(performed(acting)) == 1


@pytest.mark.attack(3, "have an unapproved copy of an approved action performed")
def test_an_unapproved_copy_under_another_id_is_refused(acting: World, cli: CLI) -> None:
    """Attack (a copy): the approved request's content under a new id, merged without an
    approval of its own — it is its own request, and nobody approved it."""
    approved_and_merged(acting, "restart-3")
    assert perform(acting, cli, acting.pull_base()).code == 0
    path, text = ask(acting, "restart-3-copy")
    copy = acting.open_pull("copy", {path: text})
    acting.merge(copy)
    result = perform(acting, cli, acting.pull_base())
    assert result.code == 1
    assert "refused: " in result.out and "restart-3-copy" in result.out
    assert [p["request_id"] for p in performed(acting)] == ["restart-3"]


# -- a SQL action, on the real PostgreSQL ---------------------------------------------------


@pytest.fixture
def sql_acting(
    legacy: LegacySystem,
    github_server: GitHubServer,
    github_names: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    shop: Shop,
) -> tuple[World, Shop]:
    settings = {
        "host": shop.server.host,
        "port": shop.server.port,
        "dbname": shop.dbname,
        "user": f"{shop.dbname}_prov",
        "action_user": shop.action_user,
    }
    (legacy.repo / "policies" / "shop.yaml").write_text(
        "apiVersion: jitops/v1\nkind: Target\nname: shop\nprovisioner: postgres\n"
        f"roles: [readonly]\nsettings: {json.dumps(settings)}\n"
        "secrets: {password: SHOP_PASSWORD, action_password: SHOP_ACTION_PASSWORD}\n"
    )
    (legacy.repo / "policies" / "shop-policy.yaml").write_text(
        "apiVersion: jitops/v1\nkind: Policy\nname: shop\ntargets: [shop]\n"
        "requesters: [ALICE]\nroles:\n  readonly: {max_duration: 1h, auto_approve: true}\n"
        "actions:\n  fix-order-state:\n    sql: {allow: [update], statement_timeout: 5s, "
        "max_rows_affected: 1}\n    approvals: [{count: 1, from: [BOB]}]\n"
        "  read-orders:\n    sql: {allow: [select], read_only: true, statement_timeout: 1s, "
        "max_rows_returned: 2}\n    auto_approve: true\n"
    )
    monkeypatch.setenv("SHOP_PASSWORD", shop.provisioner_password)
    monkeypatch.setenv("SHOP_ACTION_PASSWORD", shop.action_password)
    world = make_world(legacy, github_server, github_names, tmp_path, monkeypatch)
    return world, shop


def sql_request(
    world: World, request_id: str, sql: str, action: str = "fix-order-state"
) -> tuple[str, str]:
    path = f"actions/shop/{action}/{request_id}.yaml"
    body = "\n".join(f"  {line}" for line in sql.splitlines())
    text = (
        "apiVersion: jitops/v1\nkind: ActionRequest\n"
        f"id: {request_id}\nrequester: {world.login('alice')}\ntarget: shop\n"
        f"action: {action}\njustification: Order 1002 is stuck in payment after INC-9\n"
        f"sql: |\n{body}\n"
    )
    return path, text


def test_an_approved_update_runs_once_as_the_action_login(
    sql_acting: tuple[World, Shop], cli: CLI
) -> None:
    world, shop = sql_acting
    path, text = sql_request(world, "fix-1002", "UPDATE orders SET state = 'paid' WHERE id = 1002;")
    number = world.open_pull("fix-1002", {path: text})
    world.server.hub.review(world.repo, number, user=world.login("bob"), event="APPROVE")
    world.merge(number)
    before = world.pull_base()
    result = perform(world, cli, before)
    assert result.code == 0, result.output
    assert "performed: " in result.out and "1 row(s) affected" in result.out
    assert shop.states()[1002] == "paid"
    comments = [c.body for c in world.server.hub.comments_of(world.repo, number)]
    [told] = [c for c in comments if "action performed" in c]
    assert "### jitops: ✅ action performed: 1 row updated\n" in told
    assert "| the target said | `UPDATE 1` |" in told
    assert f"| ran as | {shop.action_user.replace('_', chr(92) + '_')} |" in told
    assert "| rows affected | 1 |" in told
    assert perform(world, cli, before).code == 0 and shop.states()[1002] == "paid"


@pytest.mark.attack(3, "change more rows than the action allows, through apply")
def test_an_action_over_its_cap_is_rolled_back_and_reported_not_retried(
    sql_acting: tuple[World, Shop], cli: CLI
) -> None:
    world, shop = sql_acting
    before_states = shop.states()
    path, text = sql_request(world, "fix-all", "UPDATE orders SET state = 'paid' WHERE id > 0;")
    number = world.open_pull("fix-all", {path: text})
    world.server.hub.review(world.repo, number, user=world.login("bob"), event="APPROVE")
    world.merge(number)
    before = world.pull_base()
    result = perform(world, cli, before)
    assert result.code == 1, result.output
    assert "failed: " in result.out and "over the action's cap of 1" in result.out
    assert shop.states() == before_states
    rerun = perform(world, cli, before)  # never retried: asking again is a new request
    assert "already performed: " in rerun.out
    assert shop.states() == before_states


def test_status_shows_a_waiting_action_and_audit_what_became_of_it(acting: World, cli: CLI) -> None:
    approved_and_merged(acting, "restart-5")
    before = acting.pull_base()
    waiting = cli("status", "--repo", str(acting.base))
    assert "1 action(s) waiting to be performed" in waiting.err, waiting.output
    assert "action restart-5: @" in waiting.out and "not performed yet" in waiting.out
    assert perform(acting, cli, before).code == 0
    assert "waiting" not in cli("status", "--repo", str(acting.base)).err
    listing = cli("audit", "--repo", str(acting.base), "--no-fetch-notes")
    [row] = [line for line in listing.out.splitlines() if line.startswith("restart-5 ")]
    assert f"@{acting.login('alice')}" in row and "legacy/restart" in row
    assert f"@{acting.login('bob')}" in row and "performed" in row


@pytest.mark.attack(8, "forge a record of an action other than the one that landed")
def test_audit_verify_refuses_a_record_of_other_content(acting: World, cli: CLI) -> None:
    """Attack (a pushed note): anyone who can push may write an action record; audit verify
    checks each against the file that landed, and says when one is of other content."""
    from jitops import git

    approved_and_merged(acting, "restart-6")
    head = acting.pull_base()
    assert perform(acting, cli, head).code == 0
    clean = cli("audit", "--repo", str(acting.base), "--no-fetch-notes", "verify")
    assert clean.code == 0, clean.output
    commit = git.resolve(acting.base, "HEAD") or ""
    forged = json.dumps(
        {"id": "restart-6", "blob": "0000", "state": "performed", "at": "2026-12-01T00:00:00Z"}
    )
    git.add_note(acting.base, commit, forged + "\n", ref=git.ACTIONS_REF)
    result = cli("audit", "--repo", str(acting.base), "--no-fetch-notes", "verify")
    assert result.code == 2, result.output
    assert "a record of action restart-6 is of other content than landed" in result.out


@pytest.mark.attack(5, "perform an action twice from two apply runs at once")
def test_of_two_runs_at_once_only_the_one_that_claims_the_id_performs(
    acting: World, cli: CLI
) -> None:
    """Attack (a race): two runs that both found no record of an action would both perform it;
    each first creates refs/jitops/actions/<id> on origin, which git lets only one do. Here the
    other run claimed it a moment before."""
    from jitops import git as jgit

    approved_and_merged(acting, "restart-7")
    before = acting.pull_base()
    other = acting.base.parent / "other-run"
    git(
        acting.base.parent, "clone", "-q", acting.server.file_url(acting.repo.full_name), str(other)
    )
    ref = "refs/jitops/actions/restart-7"
    jgit.write_file_commit(other, ref, "claim", b"the other run", "claims restart-7")
    assert jgit.claim_ref(other, ref)
    result = perform(acting, cli, before)
    assert "already performed: " in result.out and "another run claimed it first" in result.out
    assert performed(acting) == []


def test_audit_in_a_fresh_clone_fetches_the_action_records_and_names_the_approvers(
    acting: World, cli: CLI, tmp_path: Path
) -> None:
    """An auditor's clone holds no notes: audit fetches origin's action records along with
    the evidence, and the approved column names the people who approved, never their teams."""
    number = approved_and_merged(acting, "restart-9")
    assert perform(acting, cli, acting.pull_base()).code == 0
    fresh = tmp_path / "auditor"
    git(tmp_path, "clone", "-q", acting.server.file_url(acting.repo.full_name), str(fresh))
    listing = cli("audit", "--repo", str(fresh))
    assert listing.code == 0, listing.output
    [row] = [line for line in listing.out.splitlines() if line.startswith("restart-9 ")]
    # id, requester, action, approved by (bob alone: not the team he approved for), outcome
    assert row.split()[:5] == [
        "restart-9", f"@{acting.login('alice')}", "legacy/restart", f"@{acting.login('bob')}",
        "performed",
    ], row  # fmt: skip
    # the same in JSON, with what apply recorded of it
    document = json.loads(cli("audit", "--repo", str(fresh), "--format", "json").out)
    [recorded] = [a for a in document["actions"] if a["id"] == "restart-9"]
    assert recorded["approvers"] == [acting.login("bob")] and recorded["pull_request"] == number
    assert recorded["state"] == "performed" and len(recorded["digest"]) == 64
    # and alone, as CSV: only the actions someone else asked for are none
    alone = cli("audit", "--repo", str(fresh), "--actions", "--format", "csv")
    assert alone.code == 0 and "1 action request(s), 1 performed" in alone.err
    assert alone.out.startswith("id,requester,target,action,") and "restart-9," in alone.out
    others = cli("audit", "--repo", str(fresh), "--actions", "--user", acting.login("bob"))
    assert "restart-9" not in others.out and "0 action request(s)" in others.err


@pytest.mark.attack(3, "merge an action on a forged status and have no one hear of it")
def test_the_channels_hear_an_action_performed_once_and_a_forged_merge_refused(
    acting: World, cli: CLI, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Notify channel hears what apply did with each action request: performed (once: the
    rerun's "already performed" is no news), and refused when merged on a forged status."""
    add_channel(acting.base, receiver, monkeypatch, commit=False)
    number = approved_and_merged(acting, "restart-10")
    before = acting.pull_base()
    assert perform(acting, cli, before).code == 0
    assert told(receiver) == [("action-performed", "restart-10")]
    [body] = receiver.bodies()
    [notice] = body["notices"]
    assert notice["request"]["action"] == "restart" and notice["request"]["role"] is None
    assert notice["pull_request"] == number
    assert notice["summary"] == f"@{acting.login('alice')} legacy/restart (restart-10) performed"
    assert perform(acting, cli, before).code == 0  # the rerun
    assert told(receiver) == [("action-performed", "restart-10")]

    path, text = ask(acting, "sneak-2")
    forged = acting.open_pull("sneak-2", {path: text})
    forge_status(acting, forged)
    acting.merge(forged)
    assert perform(acting, cli, acting.pull_base()).code == 1
    assert told(receiver)[1:] == [("refused", "sneak-2")]
    assert "its approval does not hold" in receiver.bodies()[-1]["notices"][0]["detail"]


def test_the_channels_hear_an_action_that_failed(
    sql_acting: tuple[World, Shop], cli: CLI, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    world, shop = sql_acting
    add_channel(world.base, receiver, monkeypatch, commit=False)
    path, text = sql_request(world, "fix-wide", "UPDATE orders SET state = 'paid' WHERE id > 0;")
    number = world.open_pull("fix-wide", {path: text})
    world.server.hub.review(world.repo, number, user=world.login("bob"), event="APPROVE")
    world.merge(number)
    assert perform(world, cli, world.pull_base()).code == 1
    assert told(receiver) == [("action-failed", "fix-wide")]
    [body] = receiver.bodies()
    detail = body["notices"][0]["detail"]
    assert "over the action's cap of 1" in detail
    assert shop.action_password not in str(body)  # invariant 7: the channel gets no secret


def read_orders(world: World, cli: CLI, request_id: str, sql: str) -> tuple[Run, str]:
    """Merge a read-orders request (auto-approved: nobody reviews it) and apply its push:
    (apply's run, the result comment on its pull request)."""
    path, text = sql_request(world, request_id, sql, "read-orders")
    number = world.open_pull(request_id, {path: text})
    world.merge(number)
    result = perform(world, cli, world.pull_base())
    comments = [c.body for c in world.server.hub.comments_of(world.repo, number)]
    return result, next((c for c in comments if "jitops:action" in c), "")


def test_a_read_only_action_auto_approved_returns_its_first_rows(
    sql_acting: tuple[World, Shop], cli: CLI
) -> None:
    world, shop = sql_acting
    result, told = read_orders(world, cli, "read-1", "SELECT id, customer FROM orders ORDER BY id;")
    assert result.code == 0, result.output
    assert "| id | customer |" in told and "| 1001 | Ada |" in told and "| 1002 | Grace |" in told
    assert "1003" not in told  # the first 2 rows, as the action caps them


@pytest.mark.attack(3, "write through a read-only action, past the parser, through apply")
def test_a_read_only_action_that_writes_is_refused_by_postgresql_and_reported(
    sql_acting: tuple[World, Shop], cli: CLI
) -> None:
    """Attack (a write the parser cannot see: a function that updates): the statement is a
    SELECT, so the offline review lets it through; PostgreSQL's read-only transaction
    refuses it, nothing changes, and the failure is told on the pull request."""
    world, shop = sql_acting
    shop.server.admin(
        "CREATE FUNCTION pay(order_id int) RETURNS int LANGUAGE sql AS "
        "$$ UPDATE orders SET state = 'paid' WHERE id = order_id RETURNING id $$",
        dbname=shop.dbname,
    )
    before = shop.states()
    result, told = read_orders(world, cli, "read-2", "SELECT pay(1002);")
    assert result.code == 1, result.output
    assert "read-only transaction" in result.out and "read-only transaction" in told
    assert "action failed" in told and shop.states() == before


def test_a_read_only_action_over_its_timeout_is_stopped_and_reported(
    sql_acting: tuple[World, Shop], cli: CLI
) -> None:
    world, _ = sql_acting
    result, told = read_orders(world, cli, "read-3", "SELECT pg_sleep(5);")
    assert result.code == 1, result.output
    assert "statement timeout" in told and "action failed" in told


@pytest.mark.attack(7, "print the action login's password through an action's error")
def test_a_secret_in_an_action_s_error_is_redacted_on_the_pull_request(
    sql_acting: tuple[World, Shop], cli: CLI
) -> None:
    world, shop = sql_acting
    result, told = read_orders(world, cli, "read-4", f"SELECT '{shop.action_password}'::int;")
    assert result.code == 1, result.output
    assert "invalid input syntax" in told
    assert shop.action_password not in told and shop.action_password not in result.output


@pytest.mark.attack(6, "run a workflow command through an action's error in apply's log")
def test_an_error_that_spells_a_workflow_command_is_printed_inert(
    sql_acting: tuple[World, Shop], cli: CLI
) -> None:
    """Attack (the requester shapes the target's error): PostgreSQL quotes the bad value, line
    break and all, so a line of apply's log would start `::stop-commands::` — and GitHub
    Actions would stop reading jitops' own annotations. Printed, it is inert text."""
    world, _ = sql_acting
    sql = "SELECT 'x\n::stop-commands::pwned\n##[error]forged'::int;"
    result, told = read_orders(world, cli, "read-5", sql)
    assert result.code == 1, result.output
    assert "invalid input syntax" in told  # the comment shows the error, in a code block
    lines = result.output.splitlines()
    assert any("stop-commands" in line for line in lines)  # it is shown…
    assert not any(line.lstrip().startswith("::") for line in lines)  # …and never a command
    assert "##[" not in result.output
