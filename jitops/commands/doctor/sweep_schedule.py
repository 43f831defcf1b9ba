"""Doctor's ``sweep`` area: the last successful sweep is recent (``jitops sweep --record`` notes
its time), so expired access is being revoked on schedule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
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
