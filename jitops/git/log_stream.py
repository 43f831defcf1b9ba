"""A branch's first-parent history of some paths, streamed: one ``git log --raw``, read as git
writes it, each commit handed over with its changes and the id of each object they leave,
newest first. A reader reads the objects it needs by id, in bulk (``read_blobs``), rather
than by ``commit:path``; and holds only the commit being read, not git's whole output.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from jitops.errors import GitError

_READ = 1 << 16


@dataclass(frozen=True, slots=True)
class RawChange:
    """One path a first-parent commit added, modified, deleted or changed the type of."""

    status: str  # "A", "M", "D" or "T"
    path: str
    mode: str  # git's mode after the change ("000000" when deleted)
    object_id: str  # the object at ``path`` after the change (all zeros when deleted)


@dataclass(frozen=True, slots=True)
class LoggedCommit:
    commit: str
    at: datetime  # its committer time
    changes: tuple[RawChange, ...]  # in git's order (by path)


def first_parent_log(root: Path, ref: str, paths: Sequence[str]) -> Iterator[LoggedCommit]:
    """Every first-parent commit of ``ref`` that changes ``paths``, newest first (a merge by
    its diff against its first parent; no rename detection). Raises ``GitError`` when git fails
    or writes what this does not understand, at the latest instead of the last commit: a
    history cut short is never handed over as the whole one."""
    command = [
        "git", "-C", str(root), "log", "--first-parent", "-m", "--no-renames", "--raw",
        "--no-abbrev", "-z", "--format=%x01%H %ct", ref, "--", *paths,
    ]  # fmt: skip
    with tempfile.TemporaryFile() as errors:
        try:
            process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors)
        except FileNotFoundError:
            raise GitError("git is not installed or not on PATH — install git") from None
        with process:
            assert process.stdout is not None
            try:
                yield from _commits(process.stdout.fileno(), process, errors)
            finally:
                if process.poll() is None:  # the caller stopped early, or the output was wrong
                    process.kill()


def _commits(
    out: int, process: subprocess.Popen[bytes], errors: IO[bytes]
) -> Iterator[LoggedCommit]:
    pending = b""
    current: tuple[str, datetime] | None = None
    changes: list[RawChange] = []
    meta: tuple[str, str, str] | None = None  # the change whose path is the next field
    while chunk := os.read(out, _READ):
        data = pending + chunk
        end = data.rfind(b"\0")
        if end < 0:
            pending = data
            continue
        pending = data[end + 1 :]
        for field in data[:end].decode("utf-8", "surrogateescape").split("\0"):
            if meta is not None:  # the path of the change before, whatever it holds
                changes.append(RawChange(meta[0], field, meta[1], meta[2]))
                meta = None
                continue
            field = field.lstrip("\n")
            if field[:1] == ":" and field[1:2] != ":" and current is not None:
                parts = field[1:].split(" ")
                if len(parts) != 5 or not parts[4]:
                    raise GitError(f"git log: unexpected change line {field[:80]!r}")
                meta = (parts[4][0], parts[1], parts[3])
            elif field[:1] == "\x01":
                if current is not None:
                    yield LoggedCommit(current[0], current[1], tuple(changes))
                sha, _, stamp = field[1:].partition(" ")
                if not sha or not stamp.isdigit():
                    raise GitError(f"git log: unexpected commit line {field[:80]!r}")
                current = (sha, datetime.fromtimestamp(int(stamp), UTC))
                changes = []
            elif field:
                raise GitError(f"git log: unexpected output {field[:80]!r}")
    if process.wait() != 0:
        errors.seek(0)
        message = errors.read().decode(errors="replace").strip()
        raise GitError(f"git log: {message or f'it exited {process.returncode}'}")
    if pending.strip(b"\n") or meta is not None:
        raise GitError("git log: its output ended in the middle of a record")
    if current is not None:
        yield LoggedCommit(current[0], current[1], tuple(changes))
