"""Notifications against a real HTTP receiver on this machine: what each channel is sent, how
it is signed, and what a failure says (never the address or the key)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

import pytest

from jitops import notifications
from jitops.models import Notify
from jitops.notifications import Channels, Notice, Sender, send
from tests.fixtures.receiver import SECRET_PATH, Receiver

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


def channel(
    name: str, kind: str = "webhook", events: list[str] | None = None, **secrets: str
) -> Notify:
    return Notify.model_validate(
        {
            "apiVersion": "jitops/v1",
            "kind": "Notify",
            "name": name,
            "channel": kind,
            **({"events": events} if events is not None else {}),
            "secrets": {"url": "JITOPS_HOOK_URL", **secrets},
        }
    )


def notice(event: str = "granted", summary: str = "alice got readonly on sandbox-db") -> Notice:
    return Notice(event, summary, "r-1", "alice", "sandbox-db", "readonly", NOW, 7)  # type: ignore[arg-type]


def sender(receiver: Receiver, path: str = SECRET_PATH, **environ: str) -> Sender:
    return Sender(
        "acme/access",
        "https://github.com/acme/access",
        NOW,
        {"JITOPS_HOOK_URL": receiver.url + path, **environ},
    )


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(notifications, "TIMEOUT", 2.0)


def test_a_webhook_gets_the_notices_it_asked_for_as_json(receiver: Receiver) -> None:
    hooks = [channel("siem", events=["granted", "revoked"])]
    report = send(
        Channels(tuple(hooks)), [notice(), notice("opened"), notice("revoked")], sender(receiver)
    )
    assert report.problems == []
    [body] = receiver.bodies()
    assert body["schema"] == "jitops.notifications/v1"
    assert body["repository"] == "acme/access"
    assert [n["event"] for n in body["notices"]] == ["granted", "revoked"]
    assert body["notices"][0]["request"] == {
        "id": "r-1",
        "requester": "alice",
        "target": "sandbox-db",
        "role": "readonly",
        "action": None,
        "until": NOW.isoformat(),
    }
    assert body["notices"][0]["pull_request"] == 7


def test_a_signed_webhook_can_be_checked_with_the_key(receiver: Receiver) -> None:
    hooks = [channel("siem", signing_key="JITOPS_HOOK_KEY")]
    assert (
        send(Channels(tuple(hooks)), [notice()], sender(receiver, JITOPS_HOOK_KEY="k3y")).problems
        == []
    )
    [(_, headers, body)] = receiver.received
    expected = hmac.new(b"k3y", body, hashlib.sha256).hexdigest()
    assert headers["X-Jitops-Signature-256"] == f"sha256={expected}"


@pytest.mark.attack(6, "mention @channel or forge a link in Slack through a justification")
def test_slack_shows_what_people_wrote_as_text(receiver: Receiver) -> None:
    """Attack (a hostile justification): `<!channel>` would page everyone in the channel and
    `<https://evil|approve here>` would be a link jitops seemed to send."""
    hostile = "fix <!channel> <https://evil.example|approve here> & see https://evil.example"
    send(Channels((channel("slack", "slack"),)), [notice("opened", hostile)], sender(receiver))
    [body] = receiver.bodies()
    text = body["text"]
    assert "<!channel>" not in text and "<https://evil" not in text
    assert "&lt;!channel&gt;" in text and "&amp;" in text
    assert "https://evil" not in text  # a bare address is broken, so not linked
    # jitops' own link to the pull request stays one
    assert "<https://github.com/acme/access/pull/7|#7>" in text


def test_many_notices_are_one_slack_message_and_batches_of_json(receiver: Receiver) -> None:
    many = [notice("revoked", f"revoked r-{i}") for i in range(250)]
    send(Channels((channel("slack", "slack"),)), many, sender(receiver, "/slack"))
    [slack] = receiver.bodies("/slack")
    assert slack["text"].count("\n• ") == notifications.SLACK_LINES
    assert slack["text"].endswith("…and 230 more")
    send(Channels((channel("siem"),)), many, sender(receiver))
    assert [len(b["notices"]) for b in receiver.bodies()] == [100, 100, 50]


@pytest.mark.attack(7, "read a notification channel's address or key from jitops' output")
@pytest.mark.parametrize(
    "environ, status, expected",
    [
        ({"JITOPS_HOOK_URL": ""}, 200, "JITOPS_HOOK_URL is not set"),
        ({"JITOPS_HOOK_URL": "ghp_s3cr3t-webhook-path"}, 200, "does not hold an https:// URL"),
        ({"JITOPS_HOOK_URL": "http://example.com/s3cr3t-webhook-path"}, 200, "https://"),
        ({}, 404, "answered HTTP 404"),
        ({}, 503, "answered HTTP 503"),
        ({"JITOPS_HOOK_KEY": ""}, 200, "JITOPS_HOOK_KEY is not set"),
    ],
)
def test_a_failed_channel_says_why_and_never_shows_its_secrets(
    receiver: Receiver, environ: dict[str, str], status: int, expected: str
) -> None:
    """Attack (secrets in logs): a Slack webhook's URL is its secret; an error echoing it, or
    a variable holding another secret named as a URL, would print it in the job's log."""
    receiver.status[SECRET_PATH] = status
    base = sender(receiver)
    hooks = [channel("siem", signing_key="JITOPS_HOOK_KEY"), channel("second")]
    report = send(
        Channels(tuple(hooks)),
        [notice()],
        Sender(
            base.repository,
            base.web_url,
            NOW,
            {**base.environ, "JITOPS_HOOK_KEY": "k3y", **environ},
        ),
    )
    problems = report.problems
    assert len(problems) == 2 or expected.startswith("JITOPS_HOOK_KEY"), problems
    assert expected in problems[0], problems
    assert problems[0].startswith("notifying 'siem' of 1 event(s) failed: ")
    assert all("s3cr3t" not in p and "k3y" not in p for p in problems)
    if status == 503:  # a passing failure is tried again before it is reported
        assert len([p for p, _, _ in receiver.received if p == SECRET_PATH]) >= notifications.TRIES


def test_no_answer_is_reported_without_the_address(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(notifications, "TIMEOUT", 0.5)
    closed = Sender("", None, NOW, {"JITOPS_HOOK_URL": "http://127.0.0.1:9/s3cr3t"})
    [problem] = send(Channels((channel("siem"),)), [notice()], closed).problems
    assert "no answer after 3 tries" in problem and "s3cr3t" not in problem


@pytest.mark.attack(7, "carry a target's password to Slack in a revoke's error")
def test_a_secret_in_what_a_notice_says_is_masked(receiver: Receiver) -> None:
    """Attack (secrets in a message): a target's error may quote what it was given; the value
    of every secret the policies name is masked before anything is sent."""
    leaky = Notice("revoke-failed", "could not revoke", detail="login failed for pw=hunter22")  # type: ignore[arg-type]
    channels = Channels((channel("slack", "slack"),), ("JITOPS_DB_PASSWORD",))
    send(channels, [leaky], sender(receiver, JITOPS_DB_PASSWORD="hunter22"))
    [body] = receiver.bodies()
    assert "hunter22" not in body["text"] and "pw=***" in body["text"]


def test_a_channel_that_asks_for_nothing_that_happened_is_not_sent_to(receiver: Receiver) -> None:
    report = send(
        Channels((channel("quiet", events=["audit-problems"]),)), [notice()], sender(receiver)
    )
    assert report.deliveries == () and receiver.received == []
