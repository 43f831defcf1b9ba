"""When the sweep last succeeded, and whether that is recent enough.

``jitops sweep --record`` notes its time in git (``refs/notes/jitops-sweep``); doctor's
``sweep`` area and every apply run read it back, so a schedule GitHub disabled is said out loud
while granting goes on.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

from jitops.doctor_checks import WORKFLOWS_DIR, Area, DoctorCheck
from jitops.models import format_duration
from jitops.provisioners.interface import CheckStatus

DEFAULT_SWEEP_INTERVAL: Final = timedelta(minutes=15)


def sweep_check(last_success: datetime | None, interval: timedelta, now: datetime) -> DoctorCheck:
    """A warning when the last successful sweep is unknown or older than two intervals.

    Schedules are delayed under load and disabled after 60 days without activity in public
    repositories; native expiry and ``jitops reconcile`` bound the damage, this says it.
    """
    name = "last sweep"
    fix = (
        f"check the runs of {WORKFLOWS_DIR}/jitops-sweep.yml in the Actions tab, and enable its "
        "schedule if GitHub disabled it"
    )
    if last_success is None:
        return DoctorCheck(
            Area.SWEEP, name, CheckStatus.WARNING, "last successful sweep unknown", fix
        )
    age = max(now - last_success, timedelta(0))
    when = f"{last_success.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    if age > 2 * interval:
        return DoctorCheck(
            Area.SWEEP,
            name,
            CheckStatus.WARNING,
            f"last successful sweep was {format_duration(age)} ago ({when}), more than two "
            f"intervals of {format_duration(interval)}",
            fix,
        )
    return DoctorCheck(
        Area.SWEEP,
        name,
        CheckStatus.OK,
        f"last successful sweep {format_duration(age)} ago ({when})",
    )


def record_success(root: Path, now: datetime, branch: str = "HEAD") -> None:
    """Note on the swept commit that a sweep succeeded, so doctor can tell a stale schedule."""
    from jitops import git

    commit = git.resolve(root, branch)
    if commit is not None:
        git.add_note(
            root, commit, json.dumps({"swept_at": now.isoformat()}) + "\n", ref=git.SWEEP_NOTES_REF
        )


def last_success(root: Path) -> datetime | None:
    """When the newest recorded successful sweep ran (from git notes), if any."""
    from jitops import git

    latest: datetime | None = None
    for raw in git.notes(root, ref=git.SWEEP_NOTES_REF).values():
        try:
            moment = datetime.fromisoformat(json.loads(raw)["swept_at"])
        except (ValueError, KeyError, TypeError):
            continue
        if moment.tzinfo is not None and (latest is None or moment > latest):
            latest = moment
    return latest


def stale_warning(root: Path, now: datetime) -> str | None:
    """What to say when no sweep has succeeded lately: granting goes on, revoking may not."""
    check = sweep_check(last_success(root), DEFAULT_SWEEP_INTERVAL, now)
    return None if check.status is CheckStatus.OK else f"{check.message} — {check.fix}"
