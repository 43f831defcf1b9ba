"""Naming commits and their ancestry: what a ref names, a commit's parents, whether one commit is
in another's history, and how many commits one has that another has not."""

from __future__ import annotations

from pathlib import Path

from jitops.errors import UsageError
from jitops.git.running import run


def resolve(root: Path, ref: str) -> str | None:
    """The commit ``ref`` names, or None when it names nothing (e.g. HEAD before any commit)."""
    result = run(root, ["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], check=False)
    return result.stdout.strip() if result.returncode == 0 else None


def commit_of(root: Path, ref: str) -> str:
    """The commit ``ref`` names, or a usage error that says what is wrong: ``root`` is no git
    repository, it has no commit yet, or ``ref`` names nothing there."""
    commit = resolve(root, ref)
    if commit is not None:
        return commit
    if run(root, ["rev-parse", "--git-dir"], check=False).returncode != 0:
        raise UsageError(
            f"{root} is not in a git repository — jitops reads the access repository's history: "
            "run it in a clone of the access repository, or pass --repo"
        )
    if ref == "HEAD":  # a repository whose first commit is still to be made
        raise UsageError(
            f"the git repository at {root} has no commit yet — commit policies/ (and any "
            "requests/) first, e.g. git add policies && git commit -m 'jitops policies'"
        )
    raise UsageError(f"{ref!r} names no commit in {root} — pass a branch, tag or commit")


def is_ancestor(root: Path, ancestor: str, descendant: str) -> bool:
    """Whether ``ancestor`` is in ``descendant``'s history (a commit is its own ancestor).

    False, too, when either is not a commit this repository has.
    """
    result = run(root, ["merge-base", "--is-ancestor", ancestor, descendant], check=False)
    return result.returncode == 0


def count_commits(root: Path, since: str, until: str) -> int:
    """How many commits ``until`` has that ``since`` does not (``git rev-list --count``): a walk
    of ``since..until`` only."""
    result = run(root, ["rev-list", "--count", f"{since}..{until}"])
    return int(result.stdout.strip() or 0)


def parents(root: Path, commit: str) -> list[str]:
    """The parents of ``commit``, first parent first."""
    result = run(root, ["rev-list", "--parents", "-n", "1", commit], check=False)
    return result.stdout.split()[1:]


def parent(root: Path, commit: str) -> str | None:
    """The first parent of ``commit`` (the branch before a merge), or None for a root."""
    return resolve(root, f"{commit}^1")
