"""Doctor's ``index`` area: the request-id index (``refs/jitops/ids``) is here and covers the
branch, from what git has locally: a read of one blob, an ancestor test and a count of the
commits after the one it covers — never the full-history rebuild of ``jitops index --check``."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from jitops import git, ids
from jitops.doctor_checks import Area, DoctorCheck
from jitops.ids import REBUILD_HINT
from jitops.provisioners.interface import CheckStatus

INDEX_NAME: Final = "request-id index"
_WHOLE_HISTORY: Final = (
    "the pull-request check stays exact but walks the whole history for every request id"
)


def index_check(root: Path, branch: str = "HEAD") -> DoctorCheck:
    """Whether the request-id index here covers ``branch``: one line, from local git only.

    Cheap by design: the index's blob, an ancestor test and ``covered..branch`` counted. Whether
    its ids agree with history is ``jitops index --check`` (a full walk, run by the sweep).
    """

    def line(status: CheckStatus, message: str, fix: str | None = None) -> DoctorCheck:
        return DoctorCheck(Area.INDEX, INDEX_NAME, status, message, fix)

    if git.toplevel(root) is None:
        return line(
            CheckStatus.WARNING,
            f"not checked: {root} is not a git repository",
            "run `jitops doctor` in a clone of the access repository",
        )
    head = git.resolve(root, branch)
    if head is None:
        return line(
            CheckStatus.WARNING,
            f"not checked: {branch!r} names no commit here",
            "run `jitops doctor` in a clone with the default branch checked out, or name it with "
            "--branch",
        )
    loaded = ids.load(root)
    index = loaded.index
    if loaded.missing:
        return line(
            CheckStatus.WARNING,
            f"there is no {ids.INDEX_REF} here: {_WHOLE_HISTORY}",
            "run `jitops index --push` once, or let `jitops apply --push-notes` create it; if "
            f"origin has one, fetch it: `git fetch origin {ids.INDEX_REF}:{ids.INDEX_REF}`",
        )
    if index is None:
        return line(CheckStatus.ERROR, f"{loaded.problem}: {_WHOLE_HISTORY}", REBUILD_HINT)
    covers = f"{len(index.ids):,} id(s) up to {index.covers[:12]}"
    if index.covers == head:
        return line(CheckStatus.OK, f"covers {branch} ({covers})")
    if git.resolve(root, index.covers) is None:
        return line(
            CheckStatus.WARNING,
            f"it covers {index.covers[:12]}, a commit this clone does not have",
            "fetch the branch (`git fetch origin`) and run `jitops doctor` again; if the branch "
            "was rewritten, `jitops index --rebuild --push`",
        )
    if git.is_ancestor(root, index.covers, head):
        behind = git.count_commits(root, index.covers, head)
        return line(
            CheckStatus.WARNING,
            f"stale by {behind:,} commit(s) on {branch} ({covers}): the pull-request check walks "
            "those too",
            "`jitops apply --push-notes` extends it on the next push to the default branch, or "
            "run `jitops index --push`",
        )
    if git.is_ancestor(root, head, index.covers):
        ahead = git.count_commits(root, head, index.covers)
        # Either this checkout is behind, or the index was built on a branch that does not
        # grant: only the remote knows which, and doctor reads local git.
        return line(
            CheckStatus.WARNING,
            f"it covers {ahead:,} commit(s) past {branch} here ({covers})",
            "if this checkout is behind, pull and run `jitops doctor` again; if those commits "
            "are not on the default branch, `jitops index --rebuild --push` from it",
        )
    return line(
        CheckStatus.ERROR,
        f"it covers {index.covers[:12]}, which is not in the history of {branch} (rewritten?): "
        f"{_WHOLE_HISTORY}",
        "rebuild it with `jitops index --rebuild --push`",
    )
