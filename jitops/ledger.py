"""The ledger: what a branch says about access, read from git alone (invariant 8).

A request file present on the default branch is a grant. Its window opens when it landed — the
first-parent commit that added it, i.e. the merge of its pull request — or at ``starts_at``, and
closes at ``expires_at`` or landing + ``duration``. ``read_ledger`` reads every request at a
commit in one ``git cat-file --batch`` and one ``git log``, so ``status``, ``sweep``,
``reconcile`` and ``apply`` all see the same grants, and an auditor can ask about any moment
in history without the GitHub API.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from jitops import git
from jitops.errors import UsageError
from jitops.findings import Finding, Severity
from jitops.loader import MAX_FILE_BYTES
from jitops.models import AccessRequest
from jitops.parallel import map_chunks
from jitops.policy import request_window
from jitops.repo import REQUEST_MODELS, REQUESTS_DIR, parse, placement_findings


class GrantState(StrEnum):
    SCHEDULED = "scheduled"  # landed, window not yet open
    ACTIVE = "active"
    EXPIRED = "expired"  # window closed: the sweep revokes it and removes the file


@dataclass(frozen=True)
class LedgerEntry:
    path: str
    request: AccessRequest
    landing: git.Landing | None
    starts_at: datetime | None
    expires_at: datetime | None

    def state(self, now: datetime) -> GrantState:
        if self.expires_at is not None and self.expires_at <= now:
            return GrantState.EXPIRED
        if self.starts_at is not None and self.starts_at > now:
            return GrantState.SCHEDULED
        return GrantState.ACTIVE


@dataclass(frozen=True)
class Ledger:
    commit: str
    entries: tuple[LedgerEntry, ...]
    findings: tuple[Finding, ...]

    def in_state(self, state: GrantState, now: datetime) -> list[LedgerEntry]:
        return [entry for entry in self.entries if entry.state(now) is state]


def read_ledger(root: Path, ref: str = "HEAD") -> Ledger:
    """Every request at ``ref``, with its landing and window; bad files become findings."""
    commit = git.resolve(root, ref)
    if commit is None:
        raise UsageError(f"{ref!r} names no commit in {root} — pass a branch, tag or commit")
    tree = git.files_at(root, commit, REQUESTS_DIR, max_bytes=MAX_FILE_BYTES)
    findings = [
        Finding(path, Severity.ERROR, f"file is {size:,} bytes, over the limit — not read")
        for path, size in tree.oversized.items()
    ]
    landings = (
        git.landings(root, commit, [REQUESTS_DIR], wanted=tree.contents) if tree.contents else {}
    )
    files = [(path, raw) for path, raw in sorted(tree.contents.items())]
    entries = []
    for path, parsed in zip(
        (path for path, _ in files), map_chunks(_parse_chunk, root, files), strict=True
    ):
        if isinstance(parsed, AccessRequest):
            landing = landings.get(path)
            start, end = request_window(parsed, landing.at if landing else None)
            entries.append(LedgerEntry(path, parsed, landing, start, end))
        else:
            findings.extend(parsed)
    return Ledger(commit, tuple(entries), tuple(findings))


def _parse_chunk(
    root: Path, files: Sequence[tuple[str, bytes]]
) -> list[AccessRequest | list[Finding]]:
    """Parse request files read from a tree (run on all cores for large branches)."""
    results: list[AccessRequest | list[Finding]] = []
    for path, raw in files:
        if not path.endswith((".yaml", ".yml")):
            results.append([])
            continue
        document, model, problems = parse(raw, path, REQUEST_MODELS, "requests/")
        if isinstance(model, AccessRequest) and document is not None:
            problems = placement_findings(path, document, model)
            if not problems:
                results.append(model)
                continue
        results.append(list(problems))
    return results


def commit_at(root: Path, branch: str, moment: datetime) -> str | None:
    """The commit ``branch`` pointed to at ``moment``: its last first-parent commit by then."""
    result = git.run(
        root,
        ["rev-list", "-1", "--first-parent", f"--before={moment.isoformat()}", branch],
        check=False,
    )
    return result.stdout.strip() or None
