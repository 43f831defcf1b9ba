"""Walking a branch's history, each question one ``git log`` or ``git rev-list`` whatever the
number of files: when each file's content landed, every file ever added, and the first-parent
commits in order (every change along the first-parent history, streamed, is ``log_stream``)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from jitops.errors import GitError
from jitops.git.running import run


@dataclass(frozen=True)
class Landing:
    """When a file's current content arrived on a branch: the first-parent commit that last
    added or changed it, its time, and whether it was an addition (``A``) or an edit in place
    (``M``, or ``T`` for a change of file type)."""

    commit: str
    at: datetime
    status: str = "A"

    @property
    def edited(self) -> bool:
        """The file was there before this commit, with other content or another mode."""
        return self.status != "A"


def landings(
    root: Path, ref: str, paths: Sequence[str], *, wanted: Iterable[str] | None = None
) -> dict[str, Landing]:
    """For each file under ``paths`` that exists at ``ref``: the commit that last added or
    changed it, i.e. the commit whose content (bytes and mode) the file has at ``ref``.

    Walks ``ref``'s first-parent history (the merge commits of the default branch), newest
    first, so a request's window opens when its pull request merged, not when its author
    committed it. An edit in place is a landing of its own: what lands is content, and content
    that no one approved must never inherit the landing of content that someone did. Given
    ``wanted`` (the files of interest), the walk stops as soon as all of them are found: grants
    are short-lived, so their landings are recent, and the cost follows them rather than the
    length of the history.
    """
    missing = set(wanted) if wanted is not None else None
    if missing is not None and not missing:
        return {}
    command = [
        "git", "-C", str(root), "log", "--first-parent", "-m", "--diff-filter=AMT",
        "--no-renames", "--name-status", "-z", "--format=%x01%H %ct", ref, "--", *paths,
    ]  # fmt: skip
    found: dict[str, Landing] = {}
    try:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH — install git") from None
    assert process.stdout is not None
    pending = b""
    with process:
        # -z output: "\x01<sha> <time>\0\n<status>\0<name>\0<status>\0<name>\0" per commit
        while chunk := process.stdout.read(1 << 16):
            blocks = (pending + chunk).split(b"\x01")
            pending = blocks.pop()
            if _record_landings(blocks, found, missing):
                process.kill()
                return found
        _record_landings([pending], found, missing)
        error = process.stderr.read().decode(errors="replace").strip() if process.stderr else ""
    if process.returncode not in (0, None):
        raise GitError(f"git log: {error or 'failed'}")
    return found


def _record_landings(
    blocks: Sequence[bytes], found: dict[str, Landing], missing: set[str] | None
) -> bool:
    """Add the landings in ``blocks``; True when nothing ``missing`` remains."""
    for block in blocks:
        header, *names = block.decode("utf-8", "surrogateescape").split("\0")
        if not header.strip():
            continue
        sha, _, stamp = header.strip().partition(" ")
        at = datetime.fromtimestamp(int(stamp), UTC)
        fields = [field.strip("\n") for field in names]
        for status, name in zip(fields[0::2], fields[1::2], strict=False):
            if name and name not in found:  # newest first: the latest change wins
                found[name] = Landing(sha, at, status[:1] or "A")
                if missing is not None:
                    missing.discard(name)
    return missing is not None and not missing


# Every commit's additions, merges' own included (see added_paths).
HISTORY_OPTIONS = ("--full-history", "-c")


def added_paths(
    root: Path, ref: str, paths: Sequence[str], *, since: str | None = None
) -> set[str]:
    """Every file under ``paths`` that any commit reachable from ``ref`` ever added.

    That is every file in the tree of any such commit: ``--full-history`` because git's default
    history simplification skips the side of a merge the merge is TREESAME to (for a broad path,
    a file added and removed on main while a pull request's branch was open would vanish), and
    ``-c`` for a file that a merge commit itself introduced (in none of its parents). Given
    ``since`` (an ancestor of ``ref``), only the commits ``since..ref``: those reachable from
    ``ref`` but not from ``since``, so the walk's cost follows what is new.
    """
    revisions = [ref] if since is None else [ref, f"^{since}"]
    log = run(
        root,
        [
            "log",
            *HISTORY_OPTIONS,
            "--diff-filter=AMT",
            "--no-renames",
            "--name-only",
            "-z",
            "--format=",
            *revisions,
            "--",
            *paths,
        ],
    )
    return {name.strip("\n") for name in log.stdout.split("\0") if name.strip("\n")}


def first_parent_commits_changing(
    root: Path, ref: str, *, excluding: str | tuple[str, ...], since: str | None = None
) -> list[str]:
    """The first-parent commits of ``ref`` (after ``since``, if given), oldest first, that
    change anything outside the folder (or folders) ``excluding`` — compared with their first
    parent."""
    revisions = [ref] if since is None else [f"{since}..{ref}"]
    folders = (excluding,) if isinstance(excluding, str) else excluding
    log = run(
        root,
        [
            "log", "--first-parent", "-m", "--format=%H", "--reverse", *revisions,
            "--", ".", *(f":(exclude){folder}" for folder in folders),
        ],
    )  # fmt: skip
    return log.stdout.split()


def first_parent_chain(root: Path, ref: str, count: int) -> list[str]:
    """``ref`` and the first-parent commits before it, ``count`` in all, newest first."""
    if count <= 0:
        return []
    return run(root, ["rev-list", "--first-parent", "-n", str(count), ref]).stdout.split()


def first_parent_order(root: Path, ref: str, commits: Iterable[str]) -> list[str]:
    """``commits`` oldest first along ``ref``'s first-parent history; any not on it last."""
    wanted = set(commits)
    chain = run(root, ["rev-list", "--first-parent", "--reverse", ref]).stdout.split()
    ordered = [c for c in chain if c in wanted]
    return ordered + sorted(wanted - set(ordered))


def first_commit_with(root: Path, ref: str, path: str) -> str | None:
    """The oldest first-parent commit of ``ref`` that added ``path``, if any."""
    log = run(
        root,
        ["log", "--first-parent", "-m", "--diff-filter=A", "--format=%H", "--reverse", ref,
         "--", path],
    )  # fmt: skip
    found = log.stdout.split()
    return found[0] if found else None


def root_commit(root: Path, ref: str) -> str:
    """The first commit of ``ref``'s first-parent history."""
    return run(root, ["rev-list", "--first-parent", "--max-parents=0", ref]).stdout.split()[-1]
