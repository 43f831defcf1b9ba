"""The sweep's record of success: written as a git note, read back by doctor and by every
apply run, which warns (never fails) when no sweep succeeded lately — or a forged note says so."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from jitops import git
from jitops.sweep_record import DEFAULT_SWEEP_INTERVAL, last_success, record_success, stale_warning
from tests.gitrepo import make_access_repo

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_no_record_is_a_warning_and_a_recent_one_is_none(tmp_path: Path) -> None:
    repo = make_access_repo(tmp_path / "access")
    warning = stale_warning(repo, NOW)
    assert warning is not None and warning.startswith("last successful sweep unknown — ")
    record_success(repo, NOW)
    assert last_success(repo) == NOW
    assert stale_warning(repo, NOW + DEFAULT_SWEEP_INTERVAL) is None
    late = stale_warning(repo, NOW + 3 * DEFAULT_SWEEP_INTERVAL)
    assert late is not None and "more than two intervals" in late


def test_a_hostile_note_is_ignored_not_trusted(tmp_path: Path) -> None:
    repo = make_access_repo(tmp_path / "access")
    head = git.resolve(repo, "HEAD")
    assert head is not None
    # a writer's note with a naive time or no time at all says nothing about the schedule
    git.add_note(repo, head, '{"swept_at": "2026-11-23T11:59:00"}\n', ref=git.SWEEP_NOTES_REF)
    assert last_success(repo) is None
    assert stale_warning(repo, NOW) is not None
