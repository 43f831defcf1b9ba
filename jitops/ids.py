"""Request ids already used on a branch's history, and the index that keeps the check cheap.

A request id may be used once (issue 4, rule 4): an old approved file cannot be replayed. Proving
an id was *never* used means walking the whole history, so its cost would grow with the
repository. The index bounds it: one blob in git, outside every branch, under
``refs/jitops/ids`` — the sorted ids of every request file ever added to the history of one
commit, and that commit. ``jitops apply`` (the default branch's code, run on every push to it)
extends it over ``covered..HEAD``; a check then reads the blob and walks only ``covered..base``.
The answer is the same as the full walk's, because ``covered`` is an ancestor of ``base``: what
is reachable from ``base`` is what is reachable from ``covered`` plus ``covered..base``.

"Used" means a file named for the id was in the tree of some commit reachable from the branch:
added by any commit, on any side of any merge, or by a merge commit itself (``git.added_paths``
walks the full history, not git's default simplified one, which can skip a merge's side).

The index is trusted only that far. Anyone who can push to the repository can push any ref, so a
forged index could hide an id from the gate. It cannot get access granted: a replayed file still
needs full, fresh approval on its new pull request, and ``jitops apply`` judges the id against
the whole history, never against the index. ``verify`` (``jitops index --check``,
``jitops audit verify``) rebuilds the index from history and reports every disagreement.

The blob (ASCII, one item a line, ids strictly ascending)::

    jitops request-id index v1
    covers <commit id>
    ids <count>
    <id>
    ...
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path, PurePosixPath

from jitops import git, request_files
from jitops.errors import JitopsError
from jitops.findings import Finding, Severity
from jitops.models import ID_PATTERN
from jitops.repo import REQUESTS_DIR

INDEX_REF = "refs/jitops/ids"
INDEX_FILE = "ids"
HEADER = "jitops request-id index v1"
# Ids are at most 100 characters: this holds over half a million of them, and keeps a forged,
# huge blob from being read into memory by every check.
MAX_INDEX_BYTES = 64 * 1024 * 1024
REQUEST_SUFFIXES = request_files.SUFFIXES

_ID = re.compile(ID_PATTERN)
_IDS_BODY = re.compile(rf"(?:{ID_PATTERN.strip('^$')}\n)*")
_COMMIT = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


class MalformedIndex(ValueError):
    """The index blob is not what ``encode`` writes; the reason says what is wrong."""


@dataclass(frozen=True)
class IdIndex:
    """Every request id added in the history of ``covers`` (ancestors included)."""

    covers: str
    ids: tuple[str, ...]  # strictly ascending

    def __contains__(self, request_id: object) -> bool:
        if not isinstance(request_id, str):
            return False
        at = bisect.bisect_left(self.ids, request_id)
        return at < len(self.ids) and self.ids[at] == request_id


def encode(index: IdIndex) -> bytes:
    lines = [HEADER, f"covers {index.covers}", f"ids {len(index.ids)}", *index.ids]
    return ("\n".join(lines) + "\n").encode("ascii")


def decode(data: bytes) -> IdIndex:
    """Parse an index blob, refusing anything ``encode`` would not have written."""
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise MalformedIndex("it is not ASCII text") from None
    head = text.split("\n", 3)
    if len(head) < 4 or head[0] != HEADER:
        raise MalformedIndex(f"it does not start with {HEADER!r}")
    covers = head[1].removeprefix("covers ")
    if not head[1].startswith("covers ") or not _COMMIT.fullmatch(covers):
        raise MalformedIndex("its second line is not `covers <commit id>`")
    count = head[2].removeprefix("ids ")
    if not head[2].startswith("ids ") or not count.isdigit():
        raise MalformedIndex("its third line is not `ids <count>`")
    body = head[3]
    if not _IDS_BODY.fullmatch(body):
        raise MalformedIndex("a line after the header is not a request id")
    ids = tuple(body.split("\n")[:-1])
    if len(ids) != int(count):
        raise MalformedIndex(f"it says {count} ids but holds {len(ids)}")
    if any(a >= b for a, b in zip(ids, ids[1:], strict=False)):
        raise MalformedIndex("its ids are not sorted and unique")
    return IdIndex(covers, ids)


@dataclass(frozen=True)
class Loaded:
    """The index under a ref, or why there is none that can be used."""

    index: IdIndex | None
    problem: str | None = None  # None with no index: there is none at all
    missing: bool = False


def load(root: Path, ref: str = INDEX_REF) -> Loaded:
    """Read the index under ``ref`` (one blob), validating its form, never trusting its size."""
    name = f"{ref}:{INDEX_FILE}"
    size = git.blob_size(root, name)
    if size is None and git.resolve(root, ref) is None:
        return Loaded(None, f"there is no request-id index ({ref})", missing=True)
    if size is None:
        return Loaded(None, f"the request-id index ({ref}) has no `{INDEX_FILE}` file")
    if size > MAX_INDEX_BYTES:
        return Loaded(None, f"the request-id index ({ref}) is {size:,} bytes, over the limit")
    try:
        return Loaded(decode(git.read_blobs(root, [name])[name]))
    except MalformedIndex as exc:
        return Loaded(None, f"the request-id index ({ref}) is malformed: {exc}")


def _id_of(path: str) -> str | None:
    """The request id a file under ``requests/`` would claim (its name), if it could be one."""
    if not path.endswith(REQUEST_SUFFIXES):
        return None
    stem = path.rpartition("/")[2].rpartition(".")[0]  # PurePosixPath.stem, a lot faster
    return stem if _ID.fullmatch(stem) else None


def ids_added(root: Path, ref: str, *, since: str | None = None) -> set[str]:
    """Every request id a file added in ``ref``'s history (``since..ref`` given ``since``) had.

    A name that is no valid id is left out: no request can ask about it.
    """
    found = (_id_of(p) for p in git.added_paths(root, ref, [REQUESTS_DIR], since=since))
    return {i for i in found if i is not None}


class UsedAlong:
    """Request ids used in the history of successive commits of one branch, oldest first, each
    walked only from the one before: a commit's history is its ancestor's plus what lies
    between, so the union is exact. Never the index: this is what apply grants by.

    Given the run's ``history`` of the branch, a commit of its range costs no git process:
    what lies between two of its commits is what the first-parent commits between them merged
    in, and what each of those added was read in one walk.
    """

    def __init__(self, root: Path, history: git.BranchHistory | None = None) -> None:
        self.root = root
        self.history = history
        self._at: str | None = None
        self._ids: set[str] = set()
        self._position: int | None = None  # ``_at``'s position in ``history``

    def at(self, commit: str) -> frozenset[str]:
        history = self.history
        position = history.position(commit) if history is not None else None
        if history is not None and position is not None and history.since_on_chain:
            return self._along(history, position)
        self._position = None
        if self._at is not None and git.is_ancestor(self.root, self._at, commit):
            if self._at != commit:
                self._ids |= ids_added(self.root, commit, since=self._at)
        else:
            self._ids = ids_added(self.root, commit)
        self._at = commit
        return frozenset(self._ids)

    def _along(self, history: git.BranchHistory, position: int) -> frozenset[str]:
        if self._position is None or self._position > position:
            assert history.since is not None  # on the chain: a commit
            self._ids = ids_added(self.root, history.since)
            self._position = -1
        added = history.added_by([REQUESTS_DIR])
        for tip in history.commits[self._position + 1 : position + 1]:
            for sha in history.merged_in(tip):
                found = (_id_of(p) for p in added.get(sha, ()))
                self._ids |= {i for i in found if i is not None}
        self._position = position
        self._at = history.commits[position] if position >= 0 else history.since
        return frozenset(self._ids)


def _specs(ids: Iterable[str]) -> list[str]:
    """Pathspecs for the files these ids would have had, at any depth under ``requests/``."""
    return [f":(glob){REQUESTS_DIR}/**/{i}{suffix}" for i in ids for suffix in REQUEST_SUFFIXES]


@dataclass(frozen=True)
class UsedIds:
    """Which of the asked ids the history already used, and how that was established."""

    ids: frozenset[str]
    walked_from: str | None = None  # the index's commit: only ``walked_from..ref`` was walked
    note: str | None = None  # why the whole history was walked (the index could not be used)


def used_request_ids(
    root: Path, ids: Iterable[str], ref: str = "HEAD", *, index_ref: str | None = INDEX_REF
) -> UsedIds:
    """Which of ``ids`` a request file in ``ref``'s history ever had (a file's name is its id).

    Asks git only about the files those ids would have had, so the cost follows the pull
    request. With ``index_ref`` it reads the index there and walks only the commits after the
    one it covers; an index that is missing, malformed or not in ``ref``'s history is not
    used — the whole history is walked instead, and ``note`` says why. Without ``index_ref``
    (``jitops apply``, which must not depend on a ref anyone with push access can write) the
    whole history is always walked.
    """
    wanted = sorted(set(ids))
    if not wanted:
        return UsedIds(frozenset())
    base = git.resolve(root, ref) if git.toplevel(root) is not None else None
    if base is None:
        missing = f"{root} has no commit {ref!r}: request ids were not checked against history"
        return UsedIds(frozenset(), note=missing)
    found: set[str] = set()
    since: str | None = None
    note: str | None = None
    if index_ref is not None:
        loaded = load(root, index_ref)
        index = loaded.index
        if index is not None and git.is_ancestor(root, index.covers, base):
            found = {i for i in wanted if i in index}
            since = index.covers
        elif index is not None:
            note = (
                f"the request-id index covers {index.covers[:12]}, which is not in the base "
                "branch's history (rewritten?)"
            )
        else:
            note = loaded.problem
    if since != base:
        added = git.added_paths(root, base, _specs(wanted), since=since)
        found |= {PurePosixPath(p).stem for p in added}
    if note is not None:
        note = (
            f"{note}: the replay check searched the whole history instead (exact, slower) — "
            "`jitops index --push` rebuilds the index, and `jitops apply` keeps it up to date"
        )
    return UsedIds(frozenset(found) & set(wanted), since, note)


# -- naming new requests ---------------------------------------------------------------------

_ID_MAX = 100  # ID_PATTERN's limit
SUFFIX_LENGTH = 4


def proposals(
    requester: str, target: str, role: str, day: date, fingerprint: str, *, count: int = 8
) -> list[str]:
    """Ids for a new request, best first: ``<day>-<requester>-<target>-<role>-<suffix>``.

    Readable (who, what and when, in the file name and the branch) and valid for ``ID_PATTERN``
    (lower case, at most 100 characters). The suffix is a digest of ``fingerprint`` (what is
    asked) and the proposal's rank rather than chance: asking for the same thing twice on one
    day names the same request, so a rerun finds the file or pull request it made before
    instead of opening a second one. The caller takes the first proposal that history has not
    used (``used_request_ids``): one git walk for all of them.
    """
    stem = f"{day:%Y-%m-%d}-{requester}-{target}-{role}".lower()
    stem = stem[: _ID_MAX - SUFFIX_LENGTH - 1].rstrip("-._")
    found = []
    for rank in range(count):
        digest = hashlib.sha256(f"{fingerprint}\n{rank}".encode()).digest()
        suffix = base64.b32encode(digest).decode("ascii")[:SUFFIX_LENGTH].lower()
        found.append(f"{stem}-{suffix}")
    return found


class Update(StrEnum):
    UNCHANGED = "unchanged"  # it already covered the commit
    EXTENDED = "extended"  # read, and extended over covered..commit
    REBUILT = "rebuilt"  # built from the whole history


@dataclass(frozen=True)
class IndexUpdate:
    how: Update
    index: IdIndex
    previous: str | None  # the commit the index covered before
    added: int  # ids new to the index
    reason: str | None = None  # why it was rebuilt rather than extended


def update(
    root: Path, ref: str = "HEAD", *, rebuild: bool = False, index_ref: str = INDEX_REF
) -> IndexUpdate:
    """Make the index under ``index_ref`` cover ``ref``: extend it, or rebuild it from history.

    The existing index is extended when the commit it covers is in ``ref``'s history (a walk
    of ``covered..ref`` only). It is rebuilt from the whole history when ``rebuild`` is asked,
    or when it is missing, malformed or covers a commit ``ref`` does not descend from (a
    rewritten branch).
    """
    commit = git.commit_of(root, ref)
    loaded = Loaded(None, "a rebuild was asked for") if rebuild else load(root, index_ref)
    old = loaded.index
    reason = loaded.problem
    if old is not None and old.covers == commit:
        return IndexUpdate(Update.UNCHANGED, old, old.covers, 0)
    if old is not None and git.is_ancestor(root, old.covers, commit):
        new = ids_added(root, commit, since=old.covers) - set(old.ids)
        index = IdIndex(commit, tuple(sorted({*old.ids, *new})))
        how = Update.EXTENDED
        reason = None
    else:
        if old is not None:
            reason = f"it covered {old.covers[:12]}, which is not in the history of {ref}"
        index = IdIndex(commit, tuple(sorted(ids_added(root, commit))))
        new = set(index.ids) - set(old.ids if old else ())
        how = Update.REBUILT
    message = f"jitops request-id index: {len(index.ids)} id(s) up to {commit}\n"
    git.write_file_commit(root, index_ref, INDEX_FILE, encode(index), message)
    return IndexUpdate(how, index, old.covers if old else None, len(new), reason)


@dataclass(frozen=True)
class IndexCheck:
    """How the index agrees with the history of the commit it claims to cover."""

    covers: str | None
    problem: str | None = None  # unreadable, or not in the branch's history
    hidden: tuple[str, ...] = ()  # used in history, absent from the index: hides a replay
    invented: tuple[str, ...] = ()  # in the index, never used: refuses a fresh request

    @property
    def agrees(self) -> bool:
        return self.problem is None and not self.hidden and not self.invented


def verify(root: Path, ref: str = "HEAD", *, index_ref: str = INDEX_REF) -> IndexCheck | None:
    """Rebuild the index's ids from history and compare (None: there is no index to check).

    Walks the whole history of the covered commit: an explicit audit, not the fast path.
    """
    loaded = load(root, index_ref)
    if loaded.missing:
        return None
    index = loaded.index
    if index is None:
        return IndexCheck(None, loaded.problem)
    branch = git.commit_of(root, ref)
    if not git.is_ancestor(root, index.covers, branch):
        problem = f"it covers {index.covers[:12]}, which is not in the history of {ref}"
        return IndexCheck(index.covers, problem)
    truth = ids_added(root, index.covers)
    listed = set(index.ids)
    return IndexCheck(
        index.covers,
        hidden=tuple(sorted(truth - listed)),
        invented=tuple(sorted(listed - truth)),
    )


# -- keeping the index up to date (apply, and `jitops index`) ----------------------------------


@dataclass(frozen=True)
class IndexOptions:
    root: Path
    branch: str = "HEAD"
    rebuild: bool = False  # from the whole history, ignoring the stored index
    push: bool = False  # start from the remote's index, and publish the result
    token: str | None = None
    remote: str = "origin"


@dataclass(frozen=True)
class IndexOutcome:
    update: IndexUpdate
    pushed: bool
    fetch_problem: str | None = None  # why the remote's index could not be read


def refresh(options: IndexOptions) -> IndexOutcome:
    """Extend (or rebuild) the index to cover ``options.branch``; publish it if asked."""
    fetch_problem = None
    if options.push and not options.rebuild:
        try:
            git.fetch_ref(options.root, INDEX_REF, token=options.token, remote=options.remote)
        except JitopsError as exc:  # none there yet, or unreachable: build from what is here
            fetch_problem = exc.message
    updated = update(options.root, options.branch, rebuild=options.rebuild)
    if options.push:
        git.push_ref(options.root, INDEX_REF, token=options.token, remote=options.remote)
    return IndexOutcome(updated, options.push, fetch_problem)


REBUILD_HINT = (
    f"rebuild it with `jitops index --rebuild --push`, and find out who pushed {INDEX_REF}"
)


# -- what `jitops index --check` and `audit verify` report of it --------------------------------


def _listed(names: tuple[str, ...]) -> str:
    shown = ", ".join(names[:10])
    return shown + (f" and {len(names) - 10} more" if len(names) > 10 else "")


def check_findings(check: IndexCheck | None) -> list[Finding]:
    """Findings for an index that disagrees with history (none when it agrees or is absent).

    Hidden ids (used, but not in the index) are what a forged index would use to let a replay
    through the gate's fast check; invented ids would refuse fresh requests. An index the gate
    cannot use at all (malformed, not in the branch's history) weakens nothing — the check
    falls back to the whole history — so it is a warning.
    """
    if check is None:
        return []
    where = INDEX_REF
    if check.problem is not None:
        return [
            Finding(
                where,
                Severity.WARNING,
                f"not used by the replay check: {check.problem}",
                "rebuild it with `jitops index --rebuild --push`",
            )
        ]
    findings = []
    if check.hidden:
        findings.append(
            Finding(
                where,
                Severity.DENIED,
                f"hides {len(check.hidden)} request id(s) used in the history of "
                f"{(check.covers or '')[:12]}: {_listed(check.hidden)}",
                REBUILD_HINT,
            )
        )
    if check.invented:
        findings.append(
            Finding(
                where,
                Severity.DENIED,
                f"lists {len(check.invented)} request id(s) never used in the history of "
                f"{(check.covers or '')[:12]}: {_listed(check.invented)}",
                REBUILD_HINT,
            )
        )
    return findings
