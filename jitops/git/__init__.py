"""The only package that runs git.

Small, typed wrappers over git plumbing. Each call is one ``git`` process; callers ask for what
they need in bulk (one ``git log`` for all landing times) so cost does not grow per file.

Its modules: ``running`` (running git, what every other module builds on), ``commits`` (what a
ref names, ancestry), ``history`` (walks of a branch's history), ``log_stream`` (a long
first-parent history streamed as git writes it), ``branch_history`` (one run's reads of a range,
each once), ``objects`` (reading blobs and trees), ``blob_reader`` (one
``cat-file`` process for a run), ``committing`` (commits made with plumbing), ``note_refs``
(jitops' git notes), ``remotes`` (clone, fetch, push, with a token kept off command lines) and
``checkout`` (a person's checkout). Callers use them through this package: ``git.resolve(...)``.
"""

from __future__ import annotations

import time
from pathlib import Path

from jitops.errors import GitError
from jitops.git.blob_reader import BlobReader
from jitops.git.branch_history import BranchHistory
from jitops.git.checkout import (
    CheckoutState,
    changed_paths,
    checkout_state,
    has_changes,
    head_branch,
    identity_problem,
    init,
    set_identity,
    toplevel,
)
from jitops.git.commits import (
    commit_of,
    count_commits,
    is_ancestor,
    parent,
    parents,
    resolve,
)
from jitops.git.committing import commit_file, write_file_commit
from jitops.git.history import (
    HISTORY_OPTIONS,
    Landing,
    added_paths,
    first_commit_with,
    first_parent_chain,
    first_parent_commits_changing,
    first_parent_order,
    landings,
    root_commit,
)
from jitops.git.log_stream import LoggedCommit, RawChange, first_parent_log
from jitops.git.note_refs import (
    ACTIONS_REF,
    NOTES_REF,
    REVOCATIONS_REF,
    SWEEP_NOTES_REF,
    NotesFetch,
    add_note,
    fetch_notes,
    note_objects,
    notes,
    pull_notes,
)
from jitops.git.objects import (
    TreeFiles,
    TreeListing,
    blob_size,
    files_at,
    files_listed,
    modes_at,
    read_blobs,
    show,
    stream_blobs,
    tree_outside,
)
from jitops.git.remotes import (
    RemoteRefs,
    claim_ref,
    clone,
    fetch_branch,
    fetch_commit,
    fetch_ref,
    push_branch,
    push_ref,
    remote_branches_containing,
    remote_default_branch,
    remote_refs,
    remote_url,
    run_remote,
)
from jitops.git.running import run

# What other modules use from here, wherever it lives in the package.
__all__ = [
    "ACTIONS_REF",
    "HISTORY_OPTIONS",
    "NOTES_PUSH_ATTEMPTS",
    "NOTES_REF",
    "REVOCATIONS_REF",
    "SWEEP_NOTES_REF",
    "BlobReader",
    "BranchHistory",
    "CheckoutState",
    "Landing",
    "LoggedCommit",
    "RawChange",
    "RemoteRefs",
    "TreeFiles",
    "TreeListing",
    "add_note",
    "added_paths",
    "blob_size",
    "changed_paths",
    "claim_ref",
    "checkout_state",
    "has_changes",
    "head_branch",
    "clone",
    "commit_file",
    "count_commits",
    "fetch_branch",
    "fetch_commit",
    "fetch_ref",
    "files_at",
    "files_listed",
    "first_commit_with",
    "first_parent_chain",
    "first_parent_log",
    "first_parent_commits_changing",
    "first_parent_order",
    "identity_problem",
    "init",
    "commit_of",
    "is_ancestor",
    "landings",
    "modes_at",
    "note_objects",
    "notes",
    "parent",
    "parents",
    "NotesFetch",
    "fetch_notes",
    "pull_notes",
    "push_branch",
    "push_notes",
    "push_ref",
    "read_blobs",
    "remote_default_branch",
    "remote_branches_containing",
    "remote_refs",
    "remote_url",
    "resolve",
    "root_commit",
    "run",
    "set_identity",
    "show",
    "stream_blobs",
    "toplevel",
    "tree_outside",
    "write_file_commit",
]


# push_notes lives here, not in note_refs beside pull_notes: it calls ``pull_notes`` through
# this package's namespace, where a test replaces it to stage the lost race it recovers from.
def push_notes(
    root: Path, *, token: str | None = None, remote: str = "origin", ref: str = NOTES_REF
) -> None:
    """Publish the notes under ``ref``, merging notes another run pushed meanwhile.

    Two runs publishing at once race on the notes ref: the loser's push is refused as not a
    fast-forward. It merges what the winner pushed and tries again, a few times, each after
    a short, growing wait; any other refusal is raised at once.
    """
    for attempt in range(NOTES_PUSH_ATTEMPTS):
        pull_notes(root, token=token, remote=remote, ref=ref)
        try:
            run_remote(root, ["push", "--quiet", remote, f"{ref}:{ref}"], token, "git push notes")
            return
        except GitError as exc:
            lost_race = any(word in exc.message for word in _LOST_RACE)
            if not lost_race or attempt == NOTES_PUSH_ATTEMPTS - 1:
                raise
            time.sleep(0.2 * (attempt + 1))


NOTES_PUSH_ATTEMPTS = 5
# what git says when the remote ref moved since it was fetched
_LOST_RACE = ("non-fast-forward", "fetch first", "rejected", "stale info", "cannot lock ref")
