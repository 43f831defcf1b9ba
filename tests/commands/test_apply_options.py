"""Apply's options from flags and the Actions settings: the pushed range comes from the push
event unless a flag gives it, and only a real run with a token comments on pull requests."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from jitops.actions_context import ActionsContext
from jitops.commands.apply import ApplyOptions, options_from_actions

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _options(environ: dict[str, str], **flags: object) -> ApplyOptions:
    given = {"before": None, "after": None, "dry_run": False, "scheduled": False}
    return options_from_actions(
        ActionsContext.from_environ(environ),
        root=Path("."),
        now=NOW,
        **{**given, "catch_up": False, **flags},  # type: ignore[arg-type]
    )


def test_the_push_events_range_unless_a_flag_gives_it(tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"before": "a" * 40, "after": "b" * 40}), encoding="utf-8")
    pushed = {"GITHUB_EVENT_NAME": "push", "GITHUB_EVENT_PATH": str(event), "GITHUB_TOKEN": "t"}
    options = _options(pushed)
    assert (options.before, options.after, options.comment) == ("a" * 40, "b" * 40, True)
    assert _options(pushed, before="c" * 40).before == "c" * 40
    assert not _options(pushed, dry_run=True).comment  # a dry run tells no pull request


def test_by_hand_it_is_head_alone_and_comments_nowhere() -> None:
    options = _options({})
    assert (options.before, options.after, options.comment, options.token) == (
        None,
        "HEAD",
        False,
        "",
    )
    other = {"GITHUB_EVENT_NAME": "schedule", "GITHUB_EVENT_PATH": "/nonexistent"}
    assert _options(other).after == "HEAD"  # only a push event names a range
