"""Running git: one process per call, its failure a ``GitError`` with git's own message. What
every module of the package builds on."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from jitops.errors import GitError

# Notes (and the request-id index) are commits of their own; jitops signs them with a fixed
# identity so they can be written where no git identity is configured (a CI runner).
JITOPS_IDENTITY = ["-c", "user.name=jitops", "-c", "user.email=jitops@users.noreply.github.com"]


def run(
    root: Path,
    args: Sequence[str],
    *,
    check: bool = True,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``git args`` in ``root`` (``env`` added to the environment); raise ``GitError`` with
    git's own message on failure."""
    try:
        result = subprocess.run(
            ["git", "-C", str(root), *args],
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="surrogateescape",
            check=False,
            env={**os.environ, **env} if env is not None else None,
        )
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH — install git") from None
    if check and result.returncode != 0:
        message = result.stderr.strip() or f"git {' '.join(args)} failed"
        raise GitError(f"git {args[0]}: {message}")
    return result


def run_bytes(
    root: Path, args: Sequence[str], data: bytes, *, options: Sequence[str] = ()
) -> bytes:
    """Run ``git [options] -C root args`` with ``data`` on stdin; its stdout as bytes."""
    try:
        result = subprocess.run(
            ["git", *options, "-C", str(root), *args],
            input=data,
            capture_output=True,
            check=False,
        )
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH — install git") from None
    if result.returncode != 0:
        raise GitError(f"git {args[0]}: {result.stderr.decode(errors='replace').strip()}")
    return result.stdout
