"""Commits made with git plumbing, touching neither the work tree, the index nor any branch: one
file kept beside the branches (the request-id index), or one file added on a parent (a request
on a branch of its own)."""

from __future__ import annotations

from pathlib import Path

from jitops.git.running import JITOPS_IDENTITY, run, run_bytes


def write_file_commit(root: Path, ref: str, name: str, data: bytes, message: str) -> str:
    """Point ``ref`` at a new parentless commit whose tree holds one file, ``name``.

    For data jitops keeps in git beside the branches (never on one): the commit is not part of
    any branch's history, and replacing it is a plain ref update. Returns the commit id.
    """
    blob = run_bytes(root, ["hash-object", "-w", "--stdin"], data).decode().strip()
    tree = run_bytes(root, ["mktree"], f"100644 blob {blob}\t{name}\n".encode())
    commit = run_bytes(
        root,
        ["commit-tree", tree.decode().strip(), "-F", "-"],
        message.encode(),
        options=JITOPS_IDENTITY,
    )
    sha = commit.decode().strip()
    run(root, ["update-ref", ref, sha])
    return sha


def commit_file(root: Path, parent: str, path: str, data: bytes, message: str) -> str:
    """A new commit on ``parent`` that adds (or replaces) the one file ``path``; its id.

    Built with plumbing and an index of its own: the work tree, the index and every branch stay
    as they are. Author and committer are git's configured identity.
    """
    import tempfile

    blob = run_bytes(root, ["hash-object", "-w", "--stdin"], data).decode().strip()
    with tempfile.TemporaryDirectory(prefix="jitops-index-") as scratch:
        index = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
        run(root, ["read-tree", parent], env=index)
        run(root, ["update-index", "--add", "--cacheinfo", f"100644,{blob},{path}"], env=index)
        tree = run(root, ["write-tree"], env=index).stdout.strip()
    commit = run_bytes(root, ["commit-tree", tree, "-p", parent, "-F", "-"], message.encode())
    return commit.decode().strip()
