"""The only module that runs git.

Small, typed wrappers over git plumbing. Each call is one ``git`` process; callers ask for what
they need in bulk (one ``git log`` for all landing times) so cost does not grow per file.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from jitops.errors import GitError


def run(root: Path, args: Sequence[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``git args`` in ``root``; raise ``GitError`` with git's own message on failure."""
    try:
        result = subprocess.run(
            ["git", "-C", str(root), *args],
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="surrogateescape",
            check=False,
        )
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH — install git") from None
    if check and result.returncode != 0:
        message = result.stderr.strip() or f"git {' '.join(args)} failed"
        raise GitError(f"git {args[0]}: {message}")
    return result


def toplevel(path: Path) -> Path | None:
    """The root of the work tree holding ``path``, or None outside a git repository."""
    result = run(path, ["rev-parse", "--show-toplevel"], check=False)
    return Path(result.stdout.strip()) if result.returncode == 0 else None


def resolve(root: Path, ref: str) -> str | None:
    """The commit ``ref`` names, or None when it names nothing (e.g. HEAD before any commit)."""
    result = run(root, ["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], check=False)
    return result.stdout.strip() if result.returncode == 0 else None


def changed_paths(root: Path, base: str, paths: Sequence[str]) -> set[str]:
    """Files under ``paths`` that differ between ``base`` and the work tree, untracked included.

    Paths are relative to ``root``, with forward slashes.
    """
    diff = run(root, ["diff", "--name-only", "--no-renames", "-z", base, "--", *paths])
    untracked = run(root, ["ls-files", "--others", "--exclude-standard", "-z", "--", *paths])
    return {p for p in (diff.stdout + untracked.stdout).split("\0") if p}


@dataclass(frozen=True)
class Landing:
    """When a file arrived on a branch: the first-parent commit that added it, and its time."""

    commit: str
    at: datetime


def landings(root: Path, ref: str, paths: Sequence[str]) -> dict[str, Landing]:
    """For each file under ``paths`` that exists at ``ref``: the commit that last added it.

    Walks ``ref``'s first-parent history once (the merge commits of the default branch), so a
    request's window opens when its pull request merged, not when its author committed it.
    """
    log = run(
        root,
        [
            "log",
            "--first-parent",
            "-m",
            "--diff-filter=A",
            "--no-renames",
            "--name-only",
            "-z",
            "--format=%x01%H %ct",
            ref,
            "--",
            *paths,
        ],
    )
    found: dict[str, Landing] = {}
    # -z output: "\x01<sha> <time>\0\n<name>\0<name>\0" per commit
    for block in log.stdout.split("\x01"):
        header, *names = block.split("\0")
        if not header.strip():
            continue
        sha, _, stamp = header.strip().partition(" ")
        landing = Landing(sha, datetime.fromtimestamp(int(stamp), UTC))
        for name in names:
            name = name.strip("\n")
            if name and name not in found:  # newest first: the latest addition wins
                found[name] = landing
    return found


def added_paths(root: Path, ref: str, paths: Sequence[str]) -> set[str]:
    """Every file under ``paths`` that any commit reachable from ``ref`` ever added."""
    log = run(
        root,
        [
            "log",
            "--diff-filter=A",
            "--no-renames",
            "--name-only",
            "-z",
            "--format=",
            ref,
            "--",
            *paths,
        ],
    )
    return {name.strip("\n") for name in log.stdout.split("\0") if name.strip("\n")}


@dataclass(frozen=True)
class TreeFiles:
    """Files of a tree: their bytes, and the sizes of those too large to read."""

    contents: dict[str, bytes]
    oversized: dict[str, int]


def files_at(root: Path, ref: str, folder: str, *, max_bytes: int) -> TreeFiles:
    """Every file under ``folder`` at ``ref``, read in one ``git cat-file --batch`` process.

    Files over ``max_bytes`` are not read (a hostile commit cannot make us load a huge blob);
    symbolic links are skipped.
    """
    listing = run(root, ["ls-tree", "-r", "-l", "-z", "--full-tree", ref, "--", folder])
    entries = []
    oversized: dict[str, int] = {}
    for record in listing.stdout.split("\0"):
        if not record:
            continue
        meta, _, path = record.partition("\t")
        mode, kind, sha, size = meta.split()
        if kind != "blob" or mode == "120000":
            continue
        if int(size) > max_bytes:
            oversized[path] = int(size)
        else:
            entries.append((path, sha))
    if not entries:
        return TreeFiles({}, oversized)
    try:
        result = subprocess.run(
            ["git", "-C", str(root), "cat-file", "--batch"],
            input="".join(f"{sha}\n" for _, sha in entries).encode(),
            capture_output=True,
            check=False,
        )
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH — install git") from None
    if result.returncode != 0:
        raise GitError(f"git cat-file: {result.stderr.decode(errors='replace').strip()}")
    out = result.stdout
    files: dict[str, bytes] = {}
    position = 0
    for path, _ in entries:
        header_end = out.index(b"\n", position)
        length = int(out[position:header_end].split()[2])
        start = header_end + 1
        files[path] = out[start : start + length]
        position = start + length + 1
    return TreeFiles(files, oversized)


def show(root: Path, ref: str, path: str) -> bytes:
    """The bytes of ``path`` at ``ref``."""
    try:
        result = subprocess.run(
            ["git", "-C", str(root), "show", f"{ref}:{path}"], capture_output=True, check=False
        )
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH — install git") from None
    if result.returncode != 0:
        raise GitError(f"git show {ref}:{path}: {result.stderr.decode(errors='replace').strip()}")
    return result.stdout
