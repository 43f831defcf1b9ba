"""``jitops status``: who has which access now (or at any past moment), from git alone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from jitops.action_record import ActionOnBranch, actions_on
from jitops.errors import ExitCode, UsageError
from jitops.findings import Finding, exit_code
from jitops.ledger import GrantState, LedgerEntry, Standing, commit_at, read_ledger


@dataclass(frozen=True)
class StatusOptions:
    root: Path
    at: datetime
    branch: str = "HEAD"
    historical: bool = False  # ``at`` is a past moment: read the branch as it was then


@dataclass(frozen=True)
class StatusReport:
    at: datetime
    commit: str
    # a grant's window state, or — for a file apply did not verify as it stands — why not
    entries: tuple[tuple[LedgerEntry, GrantState | Standing], ...]
    findings: tuple[Finding, ...]
    actions: tuple[ActionOnBranch, ...] = ()  # action requests on the branch, and their records

    @property
    def pending_actions(self) -> list[ActionOnBranch]:
        """Action requests on the branch no run performed (or began to): merged, waiting."""
        return [a for a in self.actions if a.state == "pending"]

    @property
    def exit_code(self) -> ExitCode:
        return exit_code(self.findings)

    def in_state(self, state: GrantState | Standing) -> list[LedgerEntry]:
        return [entry for entry, s in self.entries if s is state]

    def shown(self, show_all: bool = False) -> list[tuple[LedgerEntry, GrantState | Standing]]:
        """What to list: active grants, and every file that looks like one but is not
        (refused, edited after its grant, never granted, its grant failed) while its window is
        open — what a reader would mistake for access; with ``show_all``, everything."""
        return [
            (entry, state)
            for entry, state in self.entries
            if show_all
            or state is GrantState.ACTIVE
            or (not entry.granted and entry.state(self.at) is not GrantState.EXPIRED)
        ]


def status(options: StatusOptions) -> StatusReport:
    ref = options.branch
    if options.historical:
        found = commit_at(options.root, options.branch, options.at)
        if found is None:
            raise UsageError(
                f"{options.branch} has no commit at or before {options.at:%Y-%m-%d %H:%M} UTC"
            )
        ref = found
    ledger = read_ledger(options.root, ref)
    entries = tuple(
        sorted(
            ((entry, entry.shown_state(options.at)) for entry in ledger.entries),
            key=lambda pair: (pair[0].expires_at or options.at, pair[0].request.id),
        )
    )
    actions = tuple(actions_on(options.root, ref))
    return StatusReport(options.at, ledger.commit, entries, ledger.findings, actions)
