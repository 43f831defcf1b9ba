"""The sweep job's options from flags and the Actions settings: recording on GitHub is on
under Actions, and what needs the API says so before anything is revoked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from jitops.actions_context import ActionsContext
from jitops.commands.sweep import SweepJobOptions, SweepOptions, job_options_from_actions
from jitops.errors import UsageError

SWEEP = SweepOptions(Path("."), datetime(2026, 11, 23, 12, 0, tzinfo=UTC))
ACTIONS = {"GITHUB_ACTIONS": "true", "GITHUB_TOKEN": "t0ken", "GITHUB_REPOSITORY": "acme/access"}


def _options(
    environ: dict[str, str], sweep: SweepOptions = SWEEP, **flags: object
) -> SweepJobOptions:
    settings = {"open_pr": None, "base_branch": "main", "warn_before": None, "record": False}
    return job_options_from_actions(
        ActionsContext.from_environ(environ), sweep, **{**settings, **flags}
    )


def test_under_actions_the_sweep_is_recorded_on_the_repository() -> None:
    options = _options(ACTIONS, warn_before="1h")
    assert options.open_pr and options.github is not None
    assert options.github.repository == "acme/access" and options.github.token == "t0ken"
    assert options.warn_within == timedelta(hours=1)
    assert not _options({}).open_pr  # by hand: nothing on GitHub unless asked


def test_recording_without_a_token_is_a_usage_error_naming_what_to_set() -> None:
    with pytest.raises(UsageError, match="--open-pr needs GITHUB_TOKEN"):
        _options({}, open_pr=True)
    with pytest.raises(UsageError, match="--warn-before needs GITHUB_TOKEN"):
        _options({}, warn_before="1h")


def test_a_dry_run_needs_no_token_and_a_bad_duration_is_named() -> None:
    dry = SweepOptions(Path("."), SWEEP.now, dry_run=True)
    assert _options({}, dry, open_pr=True).github is None
    with pytest.raises(UsageError, match="--warn-before: "):
        _options(ACTIONS, warn_before="soon")
