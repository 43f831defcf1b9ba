"""``jitops sweep``: expired access is revoked at once (invariant 4).

Load (the targets, the ledger of the branch) → decide (every grant whose window has closed) →
act (revoke each through its provisioner, one batch per target; a failed batch is retried one
grant at a time so one bad grant never holds back the others) → report.

A revocation that fails is not dropped: its request file stays on the branch, so every later
sweep tries again, and the run exits non-zero until it succeeds (invariant 5). Only requests
whose access is gone are listed for the revocation pull request that records the sweep.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from jitops.errors import JitopsError, UsageError
from jitops.findings import Finding
from jitops.ledger import GrantState, LedgerEntry, read_ledger
from jitops.provisioners import create
from jitops.provisioners.interface import Grant, Provisioner
from jitops.repo import load_policies
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


@dataclass(frozen=True)
class SweepOptions:
    root: Path
    now: datetime
    branch: str = "HEAD"
    dry_run: bool = False


@dataclass(frozen=True)
class SweepReport:
    commit: str
    revocations: tuple[Revocation, ...]
    findings: tuple[Finding, ...]

    @property
    def failed(self) -> tuple[Revocation, ...]:
        return tuple(r for r in self.revocations if r.outcome is RevokeOutcome.FAILED)

    @property
    def revoked(self) -> tuple[Revocation, ...]:
        return tuple(r for r in self.revocations if r.outcome is RevokeOutcome.REVOKED)


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


def revoke_entries(
    entries: list[LedgerEntry], targets: Mapping[str, Any], environ: Mapping[str, str]
) -> list[Revocation]:
    """Revoke ``entries``: a batch per target, then one by one where the batch failed."""
    by_target: dict[str, list[LedgerEntry]] = defaultdict(list)
    for entry in entries:
        by_target[entry.request.target].append(entry)
    results: list[Revocation] = []
    for name, group in sorted(by_target.items()):
        target = targets.get(name)
        if target is None:
            results.extend(
                Revocation(
                    e,
                    RevokeOutcome.FAILED,
                    f"no target {name!r} in policies/ any more; "
                    "restore it so jitops can revoke, or revoke by hand",
                )
                for e in group
            )
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


SWEEP_BRANCH = "jitops/sweep"
REVOCATION_LABEL = "jitops:revocation"


@dataclass(frozen=True)
class GitHubTarget:
    """Where the revocation pull request goes."""

    repository: str
    token: str
    api_url: str
    base_branch: str


def revocation_body(revoked: list[LedgerEntry], now: datetime) -> str:
    lines = [
        "Access that expired has been revoked by `jitops sweep`; merging this pull request",
        "removes the request files to record it. It only deletes request files, so it needs",
        "no approval. Access is already gone whether or not this merges.",
        "",
        "| who | access | expired (UTC) | request |",
        "|---|---|---|---|",
    ]
    for entry in sorted(revoked, key=lambda e: (e.expires_at or now, e.request.id)):
        request = entry.request
        end = f"{entry.expires_at:%Y-%m-%d %H:%M}" if entry.expires_at else "—"
        lines.append(
            f"| @{request.requester} | `{request.role}` on `{request.target}` | {end} | "
            f"`{request.id}` |"
        )
    lines += ["", f"<sub>Swept at {now:%Y-%m-%d %H:%M} UTC.</sub>"]
    return "\n".join(lines) + "\n"


class AutoMerge(StrEnum):
    REQUESTED = "requested"
    ALREADY = "already requested"
    REFUSED = "refused"


@dataclass(frozen=True)
class RevocationPull:
    """The revocation pull request a sweep opened or updated."""

    number: int
    html_url: str
    created: bool  # False: the open one was updated
    auto_merge: AutoMerge
    warning: str = ""  # why auto-merge is off, and how to fix it


def auto_merge_advice(reasons: tuple[str, ...]) -> str:
    """What to do when GitHub refuses auto-merge, from its own words."""
    said = " ".join(reasons).lower()
    if "not allowed for this repository" in said:
        return (
            'turn on "Allow auto-merge" in the repository settings (Settings → General → '
            "Pull requests), or merge it by hand"
        )
    if "protected branch rules not configured" in said:
        return (
            "protect the default branch with the required status check jitops/approval "
            "(README: Branch protection), or merge it by hand"
        )
    if "clean status" in said or "unstable status" in said:
        return "it can merge now: merge it by hand"
    if "not accessible" in said or "not allowed to push" in said:
        return (
            "the token may not write pull requests (the sweep workflow needs "
            "pull-requests: write), or merge it by hand"
        )
    return "merge it by hand"


def open_revocation_pull(
    report: SweepReport, target: GitHubTarget, now: datetime
) -> RevocationPull | None:
    """One revocation pull request removing every revoked request's file, with auto-merge
    requested; None if nothing was revoked.

    The sweep branch is rebuilt from the base branch each run and the open pull request
    updated, so reruns and concurrent sweeps leave one pull request. The workflow token's
    pull requests trigger no workflow, so the sweeper — main's own code, which has just
    classified the change as removal-only — posts the ``jitops/approval`` status itself.
    Auto-merge is requested before that status: GitHub refuses it on a pull request that
    could merge at once ("in clean status"), and merges it by itself once the status lands.
    A refusal is a warning, never a failure: the access is gone either way.
    """
    from jitops.github import GitHub, GitHubError, GraphQLRefusal

    revoked = [r.entry for r in report.revoked]
    if not revoked:
        return None
    github = GitHub(target.token, repository=target.repository, api_url=target.api_url)
    paths = sorted(entry.path for entry in revoked)
    message = f"Revoke {len(paths)} expired grant(s)\n\n" + "\n".join(paths) + "\n"
    sha = github.commit_removals(target.base_branch, SWEEP_BRANCH, paths, message)
    opened = github.open_or_update_pull(
        head=SWEEP_BRANCH,
        base=target.base_branch,
        title=f"jitops: revoke {len(paths)} expired grant(s)",
        body=revocation_body(revoked, now),
        labels=[REVOCATION_LABEL],
    )
    auto_merge, warning = AutoMerge.ALREADY, ""
    if not opened.auto_merge:
        try:
            github.enable_auto_merge(opened.number, opened.node_id)
            auto_merge = AutoMerge.REQUESTED
        except GitHubError as exc:
            reasons = exc.reasons if isinstance(exc, GraphQLRefusal) else (exc.message,)
            auto_merge = AutoMerge.REFUSED
            warning = (
                f"auto-merge is off on revocation pull request #{opened.number}: GitHub said "
                f'"{"; ".join(reasons)}" — {auto_merge_advice(reasons)}'
            )
    github.set_status(
        sha, "success", f"removal only: {len(paths)} request file(s), no approval needed"
    )
    return RevocationPull(opened.number, opened.html_url, opened.created, auto_merge, warning)


@dataclass(frozen=True)
class GitHubRecord:
    """What a sweep recorded on GitHub, and what GitHub refused (warnings, not failures)."""

    pull: RevocationPull | None = None
    warnings: tuple[str, ...] = ()


def record_on_github(report: SweepReport, target: GitHubTarget, now: datetime) -> GitHubRecord:
    """Record the sweep on GitHub: the revocation pull request, with auto-merge requested."""
    pull = open_revocation_pull(report, target, now)
    warnings = (pull.warning,) if pull is not None and pull.warning else ()
    return GitHubRecord(pull, warnings)


WARNING_MARKER = "<!-- jitops:expiry-warning -->"


def warn_before_expiry(
    root: Path, target: GitHubTarget, now: datetime, within: timedelta, branch: str = "HEAD"
) -> list[tuple[LedgerEntry, int]]:
    """Comment on the pull request of each grant that expires within ``within``.

    One comment per pull request, kept up to date, so people can re-request in time; reruns
    edit it instead of adding more. Returns (entry, pull request number) for each warning.
    """
    from jitops.github import GitHub

    soon = [
        e
        for e in read_ledger(root, branch).in_state(GrantState.ACTIVE, now)
        if e.expires_at is not None and e.expires_at - now <= within and e.landing is not None
    ]
    if not soon:
        return []
    github = GitHub(target.token, repository=target.repository, api_url=target.api_url)
    by_pull: dict[int, list[LedgerEntry]] = {}
    for entry in soon:
        assert entry.landing is not None
        merged = [
            pr.number
            for pr in github.pulls_for_commit(entry.landing.commit)
            if pr.merge_commit_sha == entry.landing.commit
        ]
        if merged:
            by_pull.setdefault(merged[0], []).append(entry)
    warned = []
    for number, entries in by_pull.items():
        lines = [WARNING_MARKER, "### jitops: access expires soon", ""]
        for entry in entries:
            request = entry.request
            assert entry.expires_at is not None
            left = int((entry.expires_at - now).total_seconds() // 60)
            lines.append(
                f"- @{request.requester}: `{request.role}` on `{request.target}` ends at "
                f"{entry.expires_at:%Y-%m-%d %H:%M} UTC (in {left} min). To keep it, open a "
                "new request with a new id."
            )
            warned.append((entry, number))
        github.upsert_comment(number, WARNING_MARKER, "\n".join(lines) + "\n")
    return warned


def sweep(options: SweepOptions, environ: Mapping[str, str]) -> SweepReport:
    ledger = read_ledger(options.root, options.branch)
    expired = ledger.in_state(GrantState.EXPIRED, options.now)
    if options.dry_run:  # planning needs only the branch, not the targets
        revocations = [Revocation(e, RevokeOutcome.WOULD_REVOKE) for e in expired]
    else:
        policies = load_policies(options.root)
        if policies.policy_set is None:
            raise UsageError("the policies have errors; run `jitops validate` and fix them first")
        revocations = revoke_entries(expired, policies.policy_set.targets, environ)
    return SweepReport(ledger.commit, tuple(revocations), ledger.findings)


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
