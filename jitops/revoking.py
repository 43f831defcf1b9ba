"""Revoking ledger entries through their targets' provisioners: a batch per target, then one
by one where a batch failed, so one bad grant never holds back the others. apply revokes what
left the branch with it, the sweep what expired."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from jitops.errors import JitopsError, UsageError
from jitops.ledger import LedgerEntry
from jitops.provisioners import create
from jitops.provisioners.interface import Grant, Provisioner
from jitops.targets import target_config


class RevokeOutcome(StrEnum):
    REVOKED = "revoked"
    WOULD_REVOKE = "would revoke"
    FAILED = "failed"


@dataclass(frozen=True)
class Revocation:
    entry: LedgerEntry
    outcome: RevokeOutcome
    detail: str = ""


def grant_of(entry: LedgerEntry) -> Grant:
    """The provisioner's view of a ledger entry (its window as the ledger computed it)."""
    request = entry.request
    if entry.expires_at is None:
        raise UsageError(f"{entry.path}: its window is unknown (it has not landed)")
    return Grant(
        request_id=request.id,
        requester=request.requester,
        target=request.target,
        role=request.role,
        expires_at=entry.expires_at,
        starts_at=entry.starts_at
        if entry.starts_at and entry.starts_at < entry.expires_at
        else None,
    )


def removed_target(name: str) -> str:
    """Why nothing is revoked through target ``name`` when no policy file defines it."""
    return (
        f"no target {name!r} in policies/ any more; "
        "restore it so jitops can revoke, or revoke by hand"
    )


def revoke_entries(
    entries: list[LedgerEntry],
    targets: Mapping[str, Any],
    environ: Mapping[str, str],
    *,
    missing: Callable[[str], str] = removed_target,
) -> list[Revocation]:
    """Revoke ``entries``: a batch per target, then one by one where the batch failed. The
    entries of a target not in ``targets`` fail, with ``missing(name)`` as the reason."""
    by_target: dict[str, list[LedgerEntry]] = defaultdict(list)
    for entry in entries:
        by_target[entry.request.target].append(entry)
    results: list[Revocation] = []
    for name, group in sorted(by_target.items()):
        target = targets.get(name)
        if target is None:
            why = missing(name)
            results.extend(Revocation(e, RevokeOutcome.FAILED, why) for e in group)
            continue
        try:
            provisioner: Provisioner[Any] = create(target_config(target), environ)
            provisioner.revoke_all([grant_of(e) for e in group])
        except JitopsError:
            results.extend(_one_by_one(target, group, environ))
            continue
        results.extend(Revocation(e, RevokeOutcome.REVOKED) for e in group)
    return results


def _one_by_one(
    target: Any, group: list[LedgerEntry], environ: Mapping[str, str]
) -> list[Revocation]:
    results = []
    for entry in group:
        try:
            create(target_config(target), environ).revoke(grant_of(entry))
        except JitopsError as exc:
            results.append(Revocation(entry, RevokeOutcome.FAILED, exc.message))
        else:
            results.append(Revocation(entry, RevokeOutcome.REVOKED))
    return results
