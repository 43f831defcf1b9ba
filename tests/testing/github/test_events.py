"""Webhook payloads: valid against the webhook schemas of GitHub's description, carrying the
keys of the real examples, and usable as GitHub Actions' event file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jitops.testing.github import Event
from tests.fixtures.github_server import RepoSetup
from tests.testing.github.openapi import schema_errors, undocumented_keys, webhook_schema


def scenario(setup: RepoSetup) -> dict[str, Event]:
    """Open, approve, push, dismiss and merge a pull request, close and reopen another; the
    first event of each kind by schema name."""
    server, hub, repo = setup.server, setup.server.hub, setup.repo
    start = len(server.events)
    number = hub.open_pull(repo, head="feature", title="t", user=setup.author.login).number
    review = hub.review(repo, number, user=setup.reviewer.login, event="APPROVE")
    hub.push(repo, "feature", {"more.txt": "x\n"}, author=setup.author.login)
    hub.dismiss_review(repo, number, review.id, user=setup.admin.login, message="stale")
    hub.merge(repo, number, user=setup.admin.login, method="squash")
    hub.push(repo, "other", {"other.txt": "o\n"}, author=setup.author.login)
    other = hub.open_pull(repo, head="other", title="o", user=setup.author.login).number
    hub.update_pull(repo, other, sender=setup.author.login, state="closed")
    hub.update_pull(repo, other, sender=setup.author.login, state="open")
    names = {}
    for event in server.events[start:]:
        name = event.name.replace("_", "-") + (f"-{event.action}" if event.action else "")
        names.setdefault(name, event)
    return names


EXPECTED = [
    "pull-request-opened",
    "pull-request-synchronize",
    "pull-request-closed",
    "pull-request-reopened",
    "pull-request-review-submitted",
    "pull-request-review-dismissed",
    "push",
]


def test_payloads_validate_against_webhook_schemas(github_repo: RepoSetup) -> None:
    events = scenario(github_repo)
    assert sorted(events) == sorted(EXPECTED)
    problems = [
        f"{name}: {error}"
        for name, event in events.items()
        for error in schema_errors(webhook_schema(name), event.payload)
    ]
    assert problems == [], "\n".join(problems)


def test_payload_facts(github_repo: RepoSetup) -> None:
    events = scenario(github_repo)
    closed = events["pull-request-closed"].payload
    assert closed["pull_request"]["merged"] is True
    sync = events["pull-request-synchronize"].payload
    assert sync["before"] == github_repo.feature_sha != sync["after"]
    assert sync["pull_request"]["head"]["sha"] == sync["after"]
    submitted = events["pull-request-review-submitted"].payload
    assert submitted["review"]["commit_id"] == github_repo.feature_sha
    assert submitted["sender"]["login"] == github_repo.reviewer.login


@pytest.mark.parametrize(
    ("example", "ours"),
    [
        ("pull_request.0.json", "pull-request-opened"),
        ("pull_request_review.0.json", "pull-request-review-submitted"),
        ("push.1.json", "push"),
    ],
)
def test_payloads_have_the_keys_of_real_examples(
    github_repo: RepoSetup, shared_dir: Path, example: str, ours: str
) -> None:
    real = json.loads((shared_dir / "github" / "webhook-examples" / example).read_text())
    payload = scenario(github_repo)[ours].payload
    optional = {"installation", "organization", "enterprise"}
    assert set(real) - optional <= set(payload)
    for key in ("pull_request", "review", "repository", "sender"):
        if key in real and key in payload:
            assert set(real[key]) - set(payload[key]) <= {
                "temp_clone_token",
                "custom_properties",
            }, key


def test_actions_environment(github_repo: RepoSetup, tmp_path: Path) -> None:
    event = scenario(github_repo)["pull-request-review-submitted"]
    env = event.actions_env(tmp_path / "event.json", github_repo.reviewer.token)
    assert env["GITHUB_EVENT_NAME"] == "pull_request_review"
    assert env["GITHUB_REPOSITORY"] == github_repo.full_name
    assert json.loads(Path(env["GITHUB_EVENT_PATH"]).read_text())["action"] == "submitted"


def test_payloads_carry_no_undocumented_fields(github_repo: RepoSetup) -> None:
    invented = [
        f"{name}: {key}"
        for name, event in scenario(github_repo).items()
        for key in undocumented_keys(webhook_schema(name), event.payload)
    ]
    assert invented == [], "\n".join(invented)
