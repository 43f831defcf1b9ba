"""When each grant was really revoked: apply and the sweep note every revocation they make in
git (``refs/notes/jitops-revocations``, one JSON line per revocation, on the commit of the
branch they judged), so an audit can show when access ended at the target beside when its
window ended — a sweep delayed by an outage held access longer than the window says.

A note is a record, as the evidence notes are: anyone who can push can write one, so the audit
shows what was recorded and ``audit verify`` warns of a late revoke; it never takes a record as
proof that access is gone (``jitops reconcile`` asks the targets).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from jitops import git
from jitops.git import REVOCATIONS_REF

if TYPE_CHECKING:
    from jitops.ledger import LedgerEntry


@dataclass(frozen=True)
class RevocationRecord:
    """One revocation: the grant (its request, file and landing commit), when, and by whom."""

    request_id: str
    path: str
    landed_commit: str | None
    revoked_at: datetime
    by: str  # "sweep" or "apply"

    @classmethod
    def of(cls, entry: LedgerEntry, revoked_at: datetime, by: str) -> RevocationRecord:
        """The record of revoking ledger entry ``entry`` at ``revoked_at``."""
        landed = entry.landing.commit if entry.landing is not None else None
        return cls(entry.request.id, entry.path, landed, revoked_at, by)

    def line(self) -> str:
        return json.dumps(
            {
                "id": self.request_id,
                "path": self.path,
                "landed_commit": self.landed_commit,
                "revoked_at": self.revoked_at.isoformat(),
                "by": self.by,
            },
            sort_keys=True,
        )


def record(root: Path, commit: str, revocations: Iterable[RevocationRecord]) -> None:
    """Add ``revocations`` to the note on ``commit`` (a sweep every few minutes on a branch
    that did not move notes them all on one commit: earlier lines are kept)."""
    lines = [r.line() for r in revocations]
    if not lines:
        return
    earlier = git.notes(root, ref=REVOCATIONS_REF, commits=[commit]).get(commit, b"")
    kept = [line for line in earlier.decode("utf-8", "replace").splitlines() if line.strip()]
    git.add_note(root, commit, "\n".join([*kept, *lines]) + "\n", ref=REVOCATIONS_REF)


def publish(root: Path, token: str | None) -> None:
    """Push this clone's revocation notes (merging another run's first), if it has any."""
    if git.resolve(root, REVOCATIONS_REF) is not None:
        git.push_notes(root, token=token, ref=REVOCATIONS_REF)


@dataclass(frozen=True)
class RevocationTimes:
    """The first recorded revocation of each grant, by (request id, landing commit), and how
    many lines could not be read."""

    first: dict[tuple[str, str | None], datetime]
    unreadable: int


def read_all(root: Path) -> RevocationTimes:
    """Every revocation noted in this clone (the notes are few: one per run that revoked)."""
    first: dict[tuple[str, str | None], datetime] = {}
    unreadable = 0
    for raw in git.notes(root, ref=REVOCATIONS_REF).values():
        for line in raw.decode("utf-8", "replace").splitlines():
            if not line.strip():
                continue
            parsed = _parse(line)
            if parsed is None:
                unreadable += 1
                continue
            key, at = parsed
            if key not in first or at < first[key]:
                first[key] = at
    return RevocationTimes(first, unreadable)


def _parse(line: str) -> tuple[tuple[str, str | None], datetime] | None:
    try:
        data = json.loads(line)
        request_id, landed, at = data["id"], data.get("landed_commit"), data["revoked_at"]
        moment = datetime.fromisoformat(at)
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(request_id, str) or not (landed is None or isinstance(landed, str)):
        return None
    if moment.tzinfo is None:
        return None
    return (request_id, landed), moment
