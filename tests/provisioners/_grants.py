"""Building ``Grant`` values for the provisioner tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from jitops.provisioners.interface import Grant


def make_grant(
    requester: str = "alice",
    role: str = "readonly",
    *,
    target: str = "sandbox",
    request_id: str | None = None,
    expires_in: timedelta = timedelta(hours=4),
) -> Grant:
    return Grant(
        request_id=request_id or f"req-{requester}-{role}",
        requester=requester,
        target=target,
        role=role,
        expires_at=datetime.now(UTC).replace(microsecond=0) + expires_in,
    )
