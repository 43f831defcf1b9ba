"""The ledger: what a branch says about access, read from git alone (invariant 8).

A request file on the default branch *asks*; it grants only what ``jitops apply`` verified. Each
file's current content landed with the first-parent commit that last added or changed it (the
merge of its pull request); apply's evidence note on that commit says whether it verified that
exact content (its blob id). So an entry has a window — it opens at landing or ``starts_at``
and closes at ``expires_at`` or landing + ``duration`` — and a standing: granted, refused,
edited after its grant, never granted, or not known here (the clone lacks the notes). Only a
granted entry whose window is open is active access, for every reader: ``status``, ``sweep``,
``reconcile`` and ``apply`` all see the same grants, and an auditor can ask about any moment
in history without the GitHub API. ``read_ledger`` reads every request at a commit in one
``git cat-file --batch`` and one ``git log``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from jitops import evidence, git, request_files
from jitops.findings import Finding, Severity
from jitops.loader import MAX_FILE_BYTES
from jitops.models import AccessRequest
from jitops.parallel import map_streamed
from jitops.policy import request_window
from jitops.repo import REQUESTS_DIR, RequestFile, parse_request


class GrantState(StrEnum):
    """Where a request's window stands at a moment."""

    SCHEDULED = "scheduled"  # landed, window not yet open
    ACTIVE = "active"
    EXPIRED = "expired"  # window closed: the sweep revokes it and removes the file


class Standing(StrEnum):
    """What apply's evidence says of a request file's current content."""

    GRANTED = "granted"  # apply verified this exact content, landed by this commit
    GRANT_FAILED = "grant failed"  # verified, but granting through the target failed
    REFUSED = "refused"  # apply judged it and refused it
    EDITED = "edited after grant"  # changed in place on the branch: content no one approved
    NEVER_GRANTED = "never granted"  # apply has no record of it
    UNRECORDED = "not verified here"  # this clone holds no evidence notes to tell


@dataclass(frozen=True)
class LedgerEntry:
    path: str
    request: AccessRequest
    landing: git.Landing | None
    starts_at: datetime | None
    expires_at: datetime | None
    blob: str = ""
    standing: Standing = Standing.NEVER_GRANTED
    standing_detail: str = ""  # why it is not granted, in apply's words where it gave them

    def state(self, now: datetime) -> GrantState:
        """Where the window stands at ``now`` (whatever its standing)."""
        if self.expires_at is not None and self.expires_at <= now:
            return GrantState.EXPIRED
        if self.starts_at is not None and self.starts_at > now:
            return GrantState.SCHEDULED
        return GrantState.ACTIVE

    @property
    def granted(self) -> bool:
        return self.standing is Standing.GRANTED

    def shown_state(self, now: datetime) -> GrantState | Standing:
        """The window's state for a grant; for anything else, why it is not one."""
        return self.state(now) if self.granted else self.standing


@dataclass(frozen=True)
class Ledger:
    commit: str
    entries: tuple[LedgerEntry, ...]
    findings: tuple[Finding, ...]
    evidence_present: bool = True  # False: the clone lacks the notes (see FETCH_NOTES)

    def in_state(self, state: GrantState, now: datetime) -> list[LedgerEntry]:
        """Granted entries whose window is in ``state`` at ``now``."""
        return [entry for entry in self.entries if entry.granted and entry.state(now) is state]

    def approved(self, state: GrantState, now: datetime) -> list[LedgerEntry]:
        """Entries apply verified whose window is in ``state`` at ``now``, granted or not (a
        grant that failed at the target is still owed)."""
        return [
            entry
            for entry in self.entries
            if entry.standing in (Standing.GRANTED, Standing.GRANT_FAILED)
            and entry.state(now) is state
        ]

    def not_granted(self) -> list[LedgerEntry]:
        return [entry for entry in self.entries if not entry.granted]


def read_ledger(root: Path, ref: str = "HEAD") -> Ledger:
    """Every request at ``ref``, with its landing and window; bad files become findings."""
    commit = git.commit_of(root, ref)
    tree = git.files_listed(root, commit, REQUESTS_DIR, max_bytes=MAX_FILE_BYTES)
    findings = [
        Finding(path, Severity.ERROR, f"file is {size:,} bytes, over the limit — not read")
        for path, size in tree.oversized.items()
    ]
    files = sorted(tree.entries)
    # the other cores parse the first files while git writes the rest
    parsed_files = map_streamed(_parse_chunk, root, _read(root, files))
    landings = (
        git.landings(root, commit, [REQUESTS_DIR], wanted=[p for p, _ in files]) if files else {}
    )
    present = evidence.present(root)
    notes = (
        evidence.read_for(root, {landing.commit for landing in landings.values()})
        if present
        else {}
    )
    entries = []
    for (path, blob), parsed in zip(files, parsed_files, strict=True):
        if parsed is None:  # git has no such blob (a partial clone): nothing was read
            continue
        if isinstance(parsed, AccessRequest):
            landing = landings.get(path)
            start, end = request_window(parsed, landing.at if landing else None)
            note = notes.get(landing.commit) if landing else None
            standing, detail = standing_of(path, parsed.id, blob, landing, note, present)
            entries.append(LedgerEntry(path, parsed, landing, start, end, blob, standing, detail))
        else:
            findings.extend(parsed)
    if not present and entries:
        findings.append(
            Finding(
                git.NOTES_REF,
                Severity.WARNING,
                "this clone holds no evidence notes, so no request can be shown as granted",
                f"fetch them: {evidence.FETCH_NOTES}",
            )
        )
    return Ledger(commit, tuple(entries), tuple(findings), present)


def standing_of(
    path: str,
    request_id: str,
    blob: str,
    landing: git.Landing | None,
    note: evidence.ApprovalEvidence | str | None,
    notes_present: bool,
) -> tuple[Standing, str]:
    """What apply's note on the landing commit says of this content (and why)."""
    found = note.for_request(request_id) if isinstance(note, evidence.ApprovalEvidence) else None
    if found is not None and found.path != path:
        found = None
    if (
        isinstance(note, evidence.ApprovalEvidence)
        and found is not None
        and note.verdict == "allowed"
        and found.verdict == "allowed"
        and (found.blob is None or found.blob == blob)
    ):
        if found.grant_failed is not None:
            return Standing.GRANT_FAILED, found.grant_failed
        return Standing.GRANTED, ""
    reason = ""
    if isinstance(note, str):
        reason = note
    elif found is not None and found.verdict != "allowed":
        reason = found.reason
    elif found is not None and found.blob != blob:
        reason = "apply verified other content at this path"
    elif note is not None:
        reason = note.summary
    if landing is not None and landing.edited:
        return Standing.EDITED, (
            f"changed in place by {landing.commit[:12]}; an edit is a new request"
            + (f" — {reason}" if reason else "")
        )
    if note is not None:
        return Standing.REFUSED, reason or "apply refused it"
    if not notes_present:
        return Standing.UNRECORDED, f"no evidence notes here: {evidence.FETCH_NOTES}"
    if landing is None:
        return Standing.NEVER_GRANTED, "no first-parent commit of the branch landed it"
    return Standing.NEVER_GRANTED, f"apply has no record of {landing.commit[:12]}"


# Files a chunk of the tree holds: small enough that the other cores start early.
_FILES_PER_CHUNK = 250


def _read(root: Path, files: Sequence[tuple[str, str]]) -> Iterator[list[tuple[str, bytes | None]]]:
    """The (path, contents) of ``files`` — (path, blob id) — in chunks as git reads them."""
    paths = iter([path for path, _ in files])
    for chunk in git.stream_blobs(root, [blob for _, blob in files], _FILES_PER_CHUNK):
        yield [(next(paths), raw) for _, raw in chunk]


def _parse_chunk(
    root: Path, files: Sequence[tuple[str, bytes | None]]
) -> list[AccessRequest | list[Finding] | None]:
    """Parse request files read from a tree (run on all cores for large branches); None for
    a file git had no blob for."""
    results: list[AccessRequest | list[Finding] | None] = []
    for path, raw in files:
        if raw is None:
            results.append(None)
            continue
        if not request_files.has_request_name(path):
            results.append([])
            continue
        parsed = parse_request(raw, path)
        results.append(parsed.request if isinstance(parsed, RequestFile) else parsed)
    return results


def commit_at(root: Path, branch: str, moment: datetime) -> str | None:
    """The commit ``branch`` pointed to at ``moment``: its last first-parent commit by then."""
    result = git.run(
        root,
        ["rev-list", "-1", "--first-parent", f"--before={moment.isoformat()}", branch],
        check=False,
    )
    return result.stdout.strip() or None
