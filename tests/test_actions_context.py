"""The GitHub Actions settings, read once from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from jitops.actions_context import DEFAULT_API_URL, ActionsContext
from jitops.errors import UsageError


def test_a_job_s_environment_is_read_whole() -> None:
    actions = ActionsContext.from_environ(
        {
            "GITHUB_ACTIONS": "true",
            "GITHUB_TOKEN": "ghs_job",
            "GH_TOKEN": "gho_person",
            "GITHUB_REPOSITORY": "acme/access",
            "GITHUB_API_URL": "https://ghe.example/api/v3",
            "GITHUB_SERVER_URL": "https://ghe.example",
            "GITHUB_RUN_ID": "42",
            "GITHUB_EVENT_NAME": "push",
            "GITHUB_EVENT_PATH": "/tmp/event.json",
            "GITHUB_STEP_SUMMARY": "/tmp/summary.md",
            "GITHUB_ACTOR": "alice",
        }
    )
    assert actions.in_actions and actions.token == "ghs_job"  # the job's token first
    assert actions.api_url == "https://ghe.example/api/v3"
    assert actions.run_url == "https://ghe.example/acme/access/actions/runs/42"
    assert (actions.event_path, actions.step_summary) == (
        Path("/tmp/event.json"),
        Path("/tmp/summary.md"),
    )
    assert actions.needs_api("--open-pr") == ("ghs_job", "acme/access")


def test_by_hand_gh_token_serves_and_empty_means_unset() -> None:
    actions = ActionsContext.from_environ(
        {"GH_TOKEN": "gho_person", "GITHUB_TOKEN": "", "GITHUB_API_URL": ""}
    )
    assert actions.token == "gho_person" and actions.api_url == DEFAULT_API_URL
    assert not actions.in_actions and actions.run_url is None and actions.event() is None


def test_what_needs_the_api_says_which_variables_are_missing() -> None:
    with pytest.raises(UsageError, match="--open-issue needs GITHUB_TOKEN .* GITHUB_REPOSITORY"):
        ActionsContext.from_environ({"GITHUB_TOKEN": "t"}).needs_api("--open-issue")


def test_an_unreadable_event_payload_is_a_usage_error_naming_the_file(tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text("{not json")
    with pytest.raises(UsageError, match="event.json: cannot read the event payload"):
        ActionsContext(event_path=event).event()
    event.write_text('{"before": "a", "after": "b"}')
    assert ActionsContext(event_path=event).event() == {"before": "a", "after": "b"}
