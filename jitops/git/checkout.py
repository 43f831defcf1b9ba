"""A person's checkout: where its work tree is, a new repository, the identity commits are made
with, what changed in the work tree, and the state a command must leave as it found it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from jitops.git.commits import resolve
from jitops.git.running import run


def toplevel(path: Path) -> Path | None:
    """The root of the work tree holding ``path``, or None outside a git repository."""
    result = run(path, ["rev-parse", "--show-toplevel"], check=False)
    return Path(result.stdout.strip()) if result.returncode == 0 else None


def init(root: Path, branch: str) -> None:
    """Make ``root`` (an existing folder) a new git repository whose first branch is ``branch``."""
    run(root, ["init", "--quiet", f"--initial-branch={branch}"])


def set_identity(root: Path, name: str, email: str) -> None:
    """Make ``name <email>`` the author of commits made in ``root`` (its own git config), as a
    person does once in a new clone."""
    run(root, ["config", "user.name", name])
    run(root, ["config", "user.email", email])


def identity_problem(root: Path) -> str | None:
    """Why git could not author a commit here (no user.name/user.email), or None."""
    for who in ("GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT"):
        result = run(root, ["var", who], check=False)
        if result.returncode != 0:
            return result.stderr.strip().splitlines()[-1] if result.stderr.strip() else who
    return None


def changed_paths(root: Path, base: str, paths: Sequence[str]) -> set[str]:
    """Files under ``paths`` that differ between ``base`` and the work tree, untracked included.

    Paths are relative to ``root``, with forward slashes.
    """
    diff = run(root, ["diff", "--name-only", "--no-renames", "-z", base, "--", *paths])
    untracked = run(root, ["ls-files", "--others", "--exclude-standard", "-z", "--", *paths])
    return {p for p in (diff.stdout + untracked.stdout).split("\0") if p}


@dataclass(frozen=True)
class CheckoutState:
    """What a person's checkout is, everything a command might disturb: the current branch and
    its commit, the index and work tree (untracked files included), and the local branches."""

    head: str
    commit: str | None
    status: str
    branches: str


def checkout_state(root: Path) -> CheckoutState:
    """The state of the checkout at ``root``. A clean checkout whose state is the same later
    was left alone: no branch moved, nothing staged, no file written, changed or removed
    (remote-tracking refs and fetched objects are not a person's work, and are left out)."""
    head = run(root, ["symbolic-ref", "--quiet", "HEAD"], check=False).stdout.strip()
    # --no-optional-locks: reading the status must not itself refresh the index.
    status = run(
        root, ["--no-optional-locks", "status", "--porcelain=v2", "--untracked-files=all"]
    ).stdout
    branches = run(
        root, ["for-each-ref", "--format=%(refname) %(objectname)", "refs/heads/"]
    ).stdout
    return CheckoutState(head or "(detached)", resolve(root, "HEAD"), status, branches)


def head_branch(root: Path) -> str | None:
    """The branch HEAD is on (``main``), or None when HEAD is detached."""
    result = run(root, ["symbolic-ref", "--quiet", "--short", "HEAD"], check=False)
    return result.stdout.strip() or None if result.returncode == 0 else None


def has_changes(root: Path) -> bool:
    """Whether tracked files in the checkout differ from its HEAD commit (staged or not)."""
    result = run(
        root, ["--no-optional-locks", "status", "--porcelain", "--untracked-files=no"], check=False
    )
    return result.returncode != 0 or bool(result.stdout.strip())
