"""``jitops reconcile``: make each target hold no more access than the branch approves.

Load (the targets from ``policies/``, the grants from the ledger of the branch) → decide (what
each provisioner reports as jitops-managed, compared with the grants whose window is open) →
act (revoke what no open grant covers: out-of-band access, leftovers of failed revokes, access
granted before its scheduled window) → report the drift.

It never grants: a grant missing on a target is reported, and ``jitops apply`` — which
re-verifies the approval through the API first — is what grants.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from jitops.errors import ExitCode, JitopsError, UsageError
from jitops.evidence import FETCH_NOTES
from jitops.findings import Finding
from jitops.ledger import GrantState, read_ledger
from jitops.models import login_key
from jitops.provisioners import create
from jitops.provisioners.interface import (
    Grant,
    ListingNotSupported,
    ManagedAccess,
    Provisioner,
)
from jitops.repo import load_policies
from jitops.targets import target_config
from jitops.trust import GitHubAccess, acting_targets


class DriftKind(StrEnum):
    UNAPPROVED = "unapproved"  # on the target, but no open grant on the branch covers it
    MISSING = "missing"  # an open grant the target does not hold (apply grants it)


class DriftOutcome(StrEnum):
    REVOKED = "revoked"
    WOULD_REVOKE = "would revoke"
    FAILED = "failed"
    LEFT_TO_APPLY = "left to apply"


@dataclass(frozen=True)
class Drift:
    target: str
    role: str
    identity: str
    requester: str | None
    kind: DriftKind
    outcome: DriftOutcome
    detail: str = ""


@dataclass(frozen=True)
class TargetProblem:
    target: str
    message: str
    fatal: bool  # the target could not be checked at all


@dataclass(frozen=True)
class ReconcileReport:
    drifts: tuple[Drift, ...]
    problems: tuple[TargetProblem, ...]
    findings: tuple[Finding, ...]
    targets_checked: int
    policy_problem: str | None = None  # the branch's policies are not verified (see trust)

    @property
    def unresolved(self) -> tuple[Drift, ...]:
        return tuple(
            d for d in self.drifts if d.outcome in (DriftOutcome.FAILED, DriftOutcome.WOULD_REVOKE)
        )

    @property
    def exit_code(self) -> ExitCode:
        """3 when a revoke or a target failed (the next run retries), else 1 while anything is
        unresolved or the policies are not verified, else 0."""
        failed = any(d.outcome is DriftOutcome.FAILED for d in self.drifts)
        if failed or any(p.fatal for p in self.problems):
            return ExitCode.SYSTEM
        return ExitCode.DENIED if self.unresolved or self.policy_problem else ExitCode.OK


@dataclass(frozen=True)
class ReconcileOptions:
    root: Path
    now: datetime
    branch: str = "HEAD"
    dry_run: bool = False
    only_target: str | None = None
    # re-verify the policy state through the API, and act only through verified targets
    access: GitHubAccess | None = None


def _key(role: str, requester: str | None) -> tuple[str, str]:
    return (role, login_key(requester or ""))


def reconcile(options: ReconcileOptions, environ: Mapping[str, str]) -> ReconcileReport:
    policies = load_policies(options.root)
    if policies.policy_set is None:
        raise UsageError("the policies have errors; run `jitops validate` and fix them first")
    targets, policy_problem = acting_targets(
        options.root, policies.policy_set.targets, options.access, options.now, options.branch
    )
    if options.only_target is not None and options.only_target not in targets:
        raise UsageError(f"no target {options.only_target!r} (targets: {', '.join(targets)})")
    ledger = read_ledger(options.root, options.branch)
    if not ledger.evidence_present and ledger.entries:
        # Without apply's record every request would look ungranted and be revoked: a missing
        # fetch must not read as "revoke everyone".
        raise UsageError(
            "this clone holds no evidence notes, so reconcile cannot tell what apply granted; "
            f"fetch them first: {FETCH_NOTES}"
        )
    open_grants: dict[str, dict[tuple[str, str], str]] = {}
    # approved and within its window: held at the target, or (its grant failed) still owed
    for entry in ledger.approved(GrantState.ACTIVE, options.now):
        request = entry.request
        open_grants.setdefault(request.target, {})[_key(request.role, request.requester)] = (
            request.id
        )
    drifts: list[Drift] = []
    problems: list[TargetProblem] = []
    checked = 0
    for name in sorted(targets):
        if options.only_target not in (None, name):
            continue
        try:
            provisioner = create(target_config(targets[name]), environ)
            managed = provisioner.list_managed()
        except ListingNotSupported as exc:
            problems.append(TargetProblem(name, exc.message, fatal=False))
            continue
        except JitopsError as exc:
            problems.append(TargetProblem(name, exc.message, fatal=True))
            continue
        checked += 1
        wanted = open_grants.get(name, {})
        held = {_key(access.role, access.requester) for access in managed}
        drifts.extend(
            _revoke(provisioner, access, options)
            for access in managed
            if _key(access.role, access.requester) not in wanted
        )
        drifts.extend(
            Drift(
                name,
                role,
                requester,
                requester,
                DriftKind.MISSING,
                DriftOutcome.LEFT_TO_APPLY,
                f"request {request_id} is open but not granted; `jitops apply` grants it",
            )
            for (role, requester), request_id in sorted(wanted.items())
            if (role, requester) not in held
        )
    return ReconcileReport(tuple(drifts), tuple(problems), ledger.findings, checked, policy_problem)


def _revoke(
    provisioner: Provisioner[Any], access: ManagedAccess, options: ReconcileOptions
) -> Drift:
    def drift(outcome: DriftOutcome, detail: str) -> Drift:
        return Drift(
            access.target,
            access.role,
            access.identity,
            access.requester,
            DriftKind.UNAPPROVED,
            outcome,
            detail,
        )

    if access.requester is None:
        return drift(
            DriftOutcome.FAILED,
            f"{access.identity} maps to no GitHub login, so jitops cannot revoke it; "
            "remove it by hand",
        )
    if options.dry_run:
        return drift(DriftOutcome.WOULD_REVOKE, "no open grant on the branch covers it")
    grant = Grant(
        request_id=access.request_id or "reconcile",
        requester=access.requester,
        target=access.target,
        role=access.role,
        expires_at=options.now,
    )
    try:
        provisioner.revoke(grant)
    except JitopsError as exc:
        return drift(DriftOutcome.FAILED, exc.message)
    return drift(DriftOutcome.REVOKED, "no open grant on the branch covered it")
