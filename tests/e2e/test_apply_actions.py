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
from tests.e2e.conftest import CLI, LegacySystem

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
    result = apply(acting, cli, before)
    assert result.code == 0, result.output
    assert f"performed: @{acting.login('alice')} legacy/restart restart-1 (#{number})" in result.out
    [sent] = performed(acting)
    assert (sent["name"], sent["params"]) == ("restart", {"service": "export"})
    comments = [c.body for c in acting.server.hub.comments_of(acting.repo, number)]
    [told] = [c for c in comments if "jitops: ✅ action performed" in c]
    assert "restarted export for" in told and "| result digest |" in told

    again = apply(acting, cli, before)  # a rerun of the same range
    assert again.code == 0, again.output
    assert "already performed: " in again.out
    assert len(performed(acting)) == 1


@pytest.mark.attack(3, "have an action performed on a forged status")
def test_a_merge_on_a_forged_status_performs_nothing(acting: World, cli: CLI) -> None:
    """Attack (a writer's own success status, a merge nobody approved): apply re-judges the
    pull request through the API and performs nothing."""
    path, text = ask(acting, "sneak-1")
    number = acting.open_pull("sneak-1", {path: text})
    forge_status(acting, number)
    acting.merge(number)
    result = apply(acting, cli, acting.pull_base())
    assert result.code == 1, result.output
    assert "refused: " in result.out and "its approval does not hold" in result.out
    assert performed(acting) == []


@pytest.mark.attack(3, "run an action twice by reverting and re-merging it")
def test_a_revert_and_re_merge_performs_nothing_again(acting: World, cli: CLI) -> None:
    approved_and_merged(acting, "restart-2")
    assert apply(acting, cli, acting.pull_base()).code == 0
    path, text = ask(acting, "restart-2")
    removal = acting.open_pull("drop-restart-2", {path: None})
    acting.merge(removal)
    acting.pull_base()
    readd = acting.open_pull("readd-restart-2", {path: text})
    acting.server.hub.review(acting.repo, readd, user=acting.login("bob"), event="APPROVE")
    acting.merge(readd)
    result = apply(acting, cli, acting.pull_base())
    assert "restart-2" in result.out and "performed: " not in result.out.replace(
        "already performed: ", ""
    )
    assert len(performed(acting)) == 1


@pytest.mark.attack(3, "have an unapproved copy of an approved action performed")
def test_an_unapproved_copy_under_another_id_is_refused(acting: World, cli: CLI) -> None:
    """Attack (a copy): the approved request's content under a new id, merged without an
    approval of its own — it is its own request, and nobody approved it."""
    approved_and_merged(acting, "restart-3")
    assert apply(acting, cli, acting.pull_base()).code == 0
    path, text = ask(acting, "restart-3-copy")
    copy = acting.open_pull("copy", {path: text})
    acting.merge(copy)
    result = apply(acting, cli, acting.pull_base())
    assert result.code == 1
    assert "refused: " in result.out and "restart-3-copy" in result.out
    assert [p["request_id"] for p in performed(acting)] == ["restart-3"]
