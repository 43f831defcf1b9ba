"""jitops' git notes: their refs, adding one, reading them, and merging the remote's into this
clone's (``push_notes``, which publishes them, is in the package's ``__init__``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from jitops.errors import GitError
from jitops.git.commits import resolve
from jitops.git.objects import read_blobs
from jitops.git.remotes import remote_url, run_remote
from jitops.git.running import JITOPS_IDENTITY, run, run_bytes

NOTES_REF = "refs/notes/jitops"


SWEEP_NOTES_REF = "refs/notes/jitops-sweep"
# One JSON line per revocation: notes of one commit from two runs are both kept (merged line by
# line), where for the others this clone's note wins.
REVOCATIONS_REF = "refs/notes/jitops-revocations"
# One JSON line per step of performing an action request (started, then its outcome): kept
# line by line too, so no run's record of an action can hide another's.
ACTIONS_REF = "refs/notes/jitops-actions"
_MERGE_STRATEGY = {REVOCATIONS_REF: "cat_sort_uniq", ACTIONS_REF: "cat_sort_uniq"}


def add_note(root: Path, commit: str, text: str, *, ref: str = NOTES_REF) -> None:
    """Attach ``text`` to ``commit`` under ``ref`` (replacing an earlier note there)."""
    run_bytes(
        root,
        ["notes", f"--ref={ref}", "add", "-f", "-F", "-", commit],
        text.encode(),
        options=JITOPS_IDENTITY,
    )


def notes(
    root: Path, *, ref: str = NOTES_REF, commits: Iterable[str] | None = None
) -> dict[str, bytes]:
    """Every note under ``ref`` (or only those of ``commits``): annotated commit → note bytes
    (empty when there are none)."""
    pairs = note_objects(root, ref)
    if commits is not None:
        wanted = set(commits)
        pairs = {commit: blob for commit, blob in pairs.items() if commit in wanted}
    blobs = read_blobs(root, list(pairs.values()))
    return {commit: blobs[blob] for commit, blob in pairs.items()}


def note_objects(root: Path, ref: str = NOTES_REF) -> dict[str, str]:
    """Every note under ``ref``: annotated commit → the id of its note's blob (one ``git notes
    list``; no note read), for a reader that reads the notes it meets, and only those."""
    if resolve(root, ref) is None:
        return {}
    listing = run(root, ["notes", f"--ref={ref}", "list"])
    pairs = (line.split() for line in listing.stdout.splitlines() if line.strip())
    return {commit: blob for blob, commit in pairs}


@dataclass(frozen=True)
class NotesFetch:
    """What fetching a remote's notes came to: merged into this clone's (``fetched``), or why
    not — there is no such remote, the remote has no notes (yet), or git failed (``failure``,
    git's own words)."""

    fetched: bool
    remote_missing: bool = False
    failure: str | None = None  # None with nothing fetched: the remote holds no notes


def fetch_notes(
    root: Path, *, token: str | None = None, remote: str = "origin", ref: str = NOTES_REF
) -> NotesFetch:
    """Merge the remote's notes under ``ref`` into this clone's (a note of this clone wins
    where both have one, but for revocation notes, whose lines are all kept), telling a
    remote without notes from one that cannot be reached."""
    if remote_url(root, remote) is None:
        return NotesFetch(False, remote_missing=True)
    try:
        run_remote(
            root,
            ["fetch", "--quiet", "--no-tags", remote, f"+{ref}:{ref}-remote"],
            token,
            "git fetch notes",
        )
    except GitError as exc:
        if "couldn't find remote ref" in exc.message:
            return NotesFetch(False)  # no notes on the remote yet
        return NotesFetch(False, failure=exc.message)
    run(
        root,
        [
            *JITOPS_IDENTITY,
            "notes",
            f"--ref={ref}",
            "merge",
            "-s",
            _MERGE_STRATEGY.get(ref, "ours"),
            f"{ref}-remote",
        ],
        check=False,
    )
    return NotesFetch(True)


def pull_notes(
    root: Path, *, token: str | None = None, remote: str = "origin", ref: str = NOTES_REF
) -> bool:
    """``fetch_notes``, true when the remote's notes were merged; false when the remote has
    none (yet) or cannot be read."""
    return fetch_notes(root, token=token, remote=remote, ref=ref).fetched
