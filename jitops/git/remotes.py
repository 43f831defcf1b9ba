"""Talking to remotes: clone, fetch and push, with a token sent as an HTTP header that never
reaches a command line, ``.git/config`` or an error message; and what a clone knows of its
remotes."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from jitops.errors import GitError
from jitops.git.commits import resolve
from jitops.git.running import run


def _auth_env(token: str | None) -> dict[str, str]:
    """The environment for a git network command, with ``token`` as an HTTP header.

    Environment-only git settings keep the token off command lines (where other processes could
    read it) and out of .git/config.
    """
    import base64

    env = dict(os.environ)
    if token:
        basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
        env |= {
            "GIT_CONFIG_COUNT": "1",
            "GIT_CONFIG_KEY_0": "http.extraHeader",
            "GIT_CONFIG_VALUE_0": f"AUTHORIZATION: basic {basic}",
        }
    env["GIT_TERMINAL_PROMPT"] = "0"
    return env


def run_remote(root: Path, args: Sequence[str], token: str | None, what: str) -> str:
    """Run a git command that talks to a remote, with ``token`` if given; its output."""
    try:
        result = subprocess.run(
            ["git", "-C", str(root), *args],
            capture_output=True,
            text=True,
            env=_auth_env(token),
            check=False,
            timeout=300,
        )
    except (FileNotFoundError, subprocess.TimeoutExpired) as exc:
        raise GitError(f"{what}: {type(exc).__name__}") from None
    if result.returncode != 0:
        message = result.stderr.strip()
        raise GitError(f"{what}: {message.replace(token, '***') if token else message}")
    return result.stdout


def clone(url: str, dest: Path, *, token: str | None = None) -> None:
    """Clone ``url`` into ``dest`` (new) with all of its history, as a workflow's checkout with
    ``fetch-depth: 0``; the token goes as a header for this command only, never into the clone."""
    run_remote(dest.parent, ["clone", "--quiet", "--no-tags", url, str(dest)], token, "git clone")


def fetch_commit(root: Path, sha: str, *, token: str | None = None, remote: str = "origin") -> None:
    """Fetch commit ``sha`` (and what it needs) from ``remote``, checking nothing out."""
    run_remote(root, ["fetch", "--quiet", "--no-tags", remote, sha], token, f"git fetch {sha[:7]}")


def fetch_ref(root: Path, ref: str, *, token: str | None = None, remote: str = "origin") -> None:
    """Fetch ``ref`` from ``remote`` into the same local ref, replacing whatever it held."""
    run_remote(
        root, ["fetch", "--quiet", "--no-tags", remote, f"+{ref}:{ref}"], token, f"git fetch {ref}"
    )


def claim_ref(root: Path, ref: str, *, token: str | None = None, remote: str = "origin") -> bool:
    """Create ``ref`` on ``remote`` from this clone's ``ref``, only if the remote has no such
    ref yet: git refuses a push that is no fast-forward, so of two runs pushing parentless
    commits of their own, one wins. False when the remote held it already."""
    try:
        run_remote(root, ["push", "--quiet", remote, f"{ref}:{ref}"], token, f"git push {ref}")
    except GitError as exc:
        if any(word in exc.message for word in ("rejected", "already exists", "fetch first")):
            return False
        raise
    return True


def push_ref(root: Path, ref: str, *, token: str | None = None, remote: str = "origin") -> None:
    """Publish ``ref`` to ``remote``, replacing what it held there (not for branches)."""
    run_remote(root, ["push", "--quiet", remote, f"+{ref}:{ref}"], token, f"git push {ref}")


@dataclass(frozen=True)
class RemoteRefs:
    """What a remote's default branch is, and which of the asked branches it has."""

    default_branch: str
    branches: dict[str, str]  # branch name → commit, for the asked branches that exist


def remote_refs(
    root: Path, branches: Sequence[str], *, token: str | None = None, remote: str = "origin"
) -> RemoteRefs:
    """The remote's default branch (where its HEAD points) and the commits of ``branches``,
    in one ``git ls-remote``."""
    out = run_remote(
        root,
        ["ls-remote", "--symref", remote, "HEAD", *(f"refs/heads/{b}" for b in branches)],
        token,
        f"git ls-remote {remote}",
    )
    default = ""
    shas: dict[str, str] = {}
    for line in out.splitlines():
        value, _, name = line.partition("\t")
        if value.startswith("ref: ") and name == "HEAD":
            default = value.removeprefix("ref: ").removeprefix("refs/heads/")
        else:
            shas[name] = value
    if not default or "HEAD" not in shas:
        raise GitError(f"git ls-remote {remote}: it has no default branch (an empty repository?)")
    return RemoteRefs(
        default,
        {b: shas[f"refs/heads/{b}"] for b in branches if f"refs/heads/{b}" in shas},
    )


def fetch_branch(
    root: Path, branch: str, *, token: str | None = None, remote: str = "origin"
) -> str:
    """Fetch ``branch`` into ``refs/remotes/<remote>/<branch>`` (as ``git fetch`` does, touching
    no local branch nor the work tree); the commit it points at."""
    tracking = f"refs/remotes/{remote}/{branch}"
    run_remote(
        root,
        ["fetch", "--quiet", "--no-tags", remote, f"+refs/heads/{branch}:{tracking}"],
        token,
        f"git fetch {remote} {branch}",
    )
    sha = resolve(root, tracking)
    if sha is None:
        raise GitError(f"git fetch {remote} {branch}: nothing was fetched")
    return sha


def push_branch(
    root: Path, commit: str, branch: str, *, token: str | None = None, remote: str = "origin"
) -> None:
    """Create ``branch`` on ``remote`` at ``commit``. Never forced: a branch that appeared
    meanwhile is refused by the remote, not overwritten."""
    run_remote(
        root,
        ["push", "--quiet", remote, f"{commit}:refs/heads/{branch}"],
        token,
        f"git push {remote} {branch}",
    )


def remote_url(root: Path, remote: str = "origin") -> str | None:
    """The URL ``remote`` fetches from, or None when there is no such remote."""
    result = run(root, ["remote", "get-url", remote], check=False)
    if result.returncode != 0:
        return None
    return result.stdout.strip() or None


def remote_default_branch(root: Path, remote: str = "origin") -> str | None:
    """The default branch of ``remote`` as the last clone or fetch saw it (``main``), if known."""
    result = run(
        root, ["symbolic-ref", "--quiet", "--short", f"refs/remotes/{remote}/HEAD"], check=False
    )
    name = result.stdout.strip().removeprefix(f"{remote}/")
    return (name or None) if result.returncode == 0 else None


def remote_branches_containing(root: Path, commit: str, remote: str = "origin") -> list[str]:
    """The branches of ``remote``, as the last fetch saw them, whose history holds ``commit``
    (``origin/main``): whether the commit has been pushed there."""
    result = run(
        root,
        [
            "for-each-ref",
            "--format=%(refname:short)",
            "--contains",
            commit,
            f"refs/remotes/{remote}/",
        ],
        check=False,
    )
    if result.returncode != 0:
        return []
    return [name for name in result.stdout.split() if not name.endswith("/HEAD")]
