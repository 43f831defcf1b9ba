"""Notifications end to end: apply and the sweep tell a ``Notify`` channel of the policies what
they did, to a real HTTP receiver — once per thing that happened, never holding up a grant or
a revoke, never showing a secret."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.apply_world import World, apply
from tests.e2e.conftest import CLI, LEGACY_TOKEN, Check, LegacySystem
from tests.e2e.gate_world import GateWorld
from tests.fixtures.receiver import SECRET_PATH, Receiver
from tests.gitrepo import commit_all, write_request

NOW = "2026-11-23T12:00:00Z"


def add_channel(
    root: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch, *, commit: bool = True
) -> None:
    """A JSON webhook channel told of everything, at ``receiver``, in ``root``'s policies
    (committed, or only in the checkout of a clone that pulls: what the workflow reads)."""
    (root / "policies" / "notify.yaml").write_text(
        "apiVersion: jitops/v1\nkind: Notify\nname: siem\nchannel: webhook\n"
        "secrets: {url: JITOPS_SIEM_URL}\n"
    )
    if commit:
        commit_all(root, "tell the SIEM")
    monkeypatch.setenv("JITOPS_SIEM_URL", receiver.url + SECRET_PATH)


def told(receiver: Receiver) -> list[tuple[str, Any]]:
    """(event, request id) of every notice the receiver got, in order."""
    return [
        (n["event"], (n["request"] or {}).get("id"))
        for body in receiver.bodies()
        for n in body["notices"]
    ]


@pytest.fixture
def expired(legacy: LegacySystem) -> LegacySystem:
    """``legacy`` holding alice's grant (until 18:00) and bob's, expired at 11:00."""
    for who, fields in (("alice", {"expires_at": "2026-11-23T18:00:00Z"}), ("bob", {})):
        write_request(
            legacy.repo, f"{who}-1", target="legacy", role="operator", requester=who,
            **({"duration": ""} | fields if fields else {"duration": "2h"}),
        )  # fmt: skip
    commit_all(legacy.repo, "grants", date="2026-11-23T09:00:00Z")
    legacy.hold(("alice", "alice-1"), ("bob", "bob-1"))
    return legacy


def test_the_sweep_tells_of_a_revoke_once(
    expired: LegacySystem, cli: CLI, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_channel(expired.repo, receiver, monkeypatch)
    first = cli("sweep", "--repo", str(expired.repo), "--now", NOW)
    assert first.code == 0, first.output
    assert told(receiver) == [("revoked", "bob-1")]
    assert "jitops: notified 'siem' of 1 event(s)" in first.err
    [body] = receiver.bodies()
    assert body["notices"][0]["request"]["requester"] == "bob"

    # every later sweep revokes the expired file again until it leaves the branch: no news
    again = cli("sweep", "--repo", str(expired.repo), "--now", NOW)
    assert again.code == 0 and told(receiver) == [("revoked", "bob-1")]


def test_a_failing_revoke_is_told_without_the_target_s_secret(
    expired: LegacySystem, cli: CLI, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_channel(expired.repo, receiver, monkeypatch)
    monkeypatch.setenv("FAKE_TOKEN", "expired-" + LEGACY_TOKEN)
    failed = cli("sweep", "--repo", str(expired.repo), "--now", NOW)
    assert failed.code == 3
    assert told(receiver) == [("revoke-failed", "bob-1")]
    sent = b"".join(body for _, _, body in receiver.received)
    assert LEGACY_TOKEN.encode() not in sent
    assert expired.held() == {"alice/operator", "bob/operator"}


@pytest.mark.attack(5, "silence a revoke by making its notification fail")
def test_a_channel_that_fails_holds_up_no_revoke(
    expired: LegacySystem, cli: CLI, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Attack (a receiver down, or made to fail): the revoke happens, the run succeeds, and
    the failed notification is a warning that never shows the webhook's address."""
    add_channel(expired.repo, receiver, monkeypatch)
    receiver.status[SECRET_PATH] = 500
    result = cli("sweep", "--repo", str(expired.repo), "--now", NOW)
    assert result.code == 0, result.output
    assert expired.held() == {"alice/operator"}
    assert "jitops: warning: notifying 'siem' of 1 event(s) failed: " in result.err
    assert "s3cr3t" not in result.output


def test_apply_tells_of_a_grant_and_of_a_revoke(
    world: World, cli: CLI, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_channel(world.base, receiver, monkeypatch, commit=False)
    path, text = world.request("told-1")
    number = world.open_pull("told-1", {path: text})
    world.server.hub.review(world.repo, number, user=world.login("bob"), event="APPROVE")
    world.merge(number)
    before = world.pull_base()
    granted = apply(world, cli, before)
    assert granted.code == 0, granted.output
    assert told(receiver) == [("granted", "told-1")]
    [body] = receiver.bodies()
    assert body["notices"][0]["pull_request"] == number

    removal = world.open_pull("drop-told-1", {path: None})
    world.merge(removal)
    before = world.pull_base()
    assert apply(world, cli, before).code == 0
    assert told(receiver)[1:] == [("revoked", "told-1")]
    assert apply(world, cli, before).code == 0  # the rerun confirms the revoke: no news
    assert len(told(receiver)) == 2


@pytest.mark.attack(3, "merge without approval and have no one hear of it")
def test_apply_tells_of_a_refused_merge(
    world: World, cli: CLI, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Attack (a merge past the check): apply refuses it, and the channel hears why."""
    add_channel(world.base, receiver, monkeypatch, commit=False)
    path, text = world.request("sneak-1")
    number = world.open_pull("sneak-1", {path: text})  # nobody approves
    world.merge(number)
    result = apply(world, cli, world.pull_base())
    assert result.code == 1
    assert told(receiver) == [("refused", "sneak-1")]
    [body] = receiver.bodies()
    assert body["notices"][0]["detail"]


def test_audit_verify_tells_of_a_problem_once_it_keeps_an_issue(
    world: World, cli: CLI, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_channel(world.base, receiver, monkeypatch, commit=False)
    path, text = world.request("pushed-1")
    world.server.hub.push(world.repo, "main", {path: text}, author=world.login("alice"))
    world.pull_base()  # on the branch with no pull request: no evidence of an approval
    for _ in range(2):
        result = cli("audit", "--repo", str(world.base), "verify", "--open-issue")
        assert result.code == 1, result.output
    events = [event for event, _ in told(receiver)]
    assert events == ["audit-problems"]  # the second run's issue listed it already
    [body] = receiver.bodies()
    assert "pushed-1" in body["notices"][0]["summary"] + body["notices"][0]["detail"]


def test_the_check_tells_of_a_request_opened_then_approved_once_each(
    gate: GateWorld, check: Check, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_channel(gate.base, receiver, monkeypatch, commit=False)
    number = gate.open_request("ask-1")
    assert check(number).code == 1
    [(event, request_id)] = told(receiver)
    assert (event, request_id) == ("opened", "ask-1")
    [opened] = receiver.bodies()[0]["notices"]
    assert opened["pull_request"] == number
    assert gate.team("db-leads") in opened["approvers"]  # who can approve
    assert "needs 1 approval" in opened["detail"]  # what it needs

    assert check(number).code == 1  # a rerun, nothing new: no news
    gate.review(number, "bob")
    assert check(number).code == 0
    assert check(number).code == 0
    assert told(receiver) == [("opened", "ask-1"), ("approved", "ask-1")]


@pytest.mark.attack(2, "make the check announce an approval by forging its comment")
def test_a_forged_comment_tells_the_channel_nothing(
    gate: GateWorld, check: Check, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Attack (a pasted marker): anyone who can comment can paste jitops' marker and a
    verdict stamp; the check reads back only its own comment, so nothing is announced from it,
    and the request is still told as opened, waiting."""
    add_channel(gate.base, receiver, monkeypatch, commit=False)
    number = gate.open_request("ask-2")
    gate.server.hub.comment(
        gate.repo, number,
        body="<!-- jitops:approval -->\nready\n<!-- jitops:verdict allowed -->\n",
        user=gate.login("alice"),
    )  # fmt: skip
    assert check(number).code == 1
    assert told(receiver) == [("opened", "ask-2")]


def test_the_sweep_tells_of_an_expiring_grant_once(
    world: World, cli: CLI, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import UTC, datetime, timedelta

    add_channel(world.base, receiver, monkeypatch, commit=False)
    path, text = world.request("ending-2")
    number = world.open_pull("ending-2", {path: text})
    world.server.hub.review(world.repo, number, user=world.login("bob"), event="APPROVE")
    world.merge(number)
    assert apply(world, cli, world.pull_base()).code == 0
    soon = f"{datetime.now(UTC) + timedelta(minutes=90):%Y-%m-%dT%H:%M:%SZ}"  # 2h window
    for _ in range(2):  # the next sweep edits the same warning: no news
        result = cli("sweep", "--repo", str(world.base), "--now", soon, "--warn-before", "1h")
        assert result.code == 0, result.output
    expiring = [
        n for body in receiver.bodies() for n in body["notices"] if n["event"] == "expiring"
    ]
    assert [(n["request"]["id"], n["pull_request"]) for n in expiring] == [("ending-2", number)]
