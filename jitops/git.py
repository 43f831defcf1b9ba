"""The only module that runs git.

Small, typed wrappers over git plumbing. Each call is one ``git`` process; callers ask for what
they need in bulk (one ``git log`` for all landing times) so cost does not grow per file.
"""

from __future__ import annotations

import bisect
import hashlib
import os
import subprocess
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from jitops.errors import GitError

# Notes (and the request-id index) are commits of their own; jitops signs them with a fixed
# identity so they can be written where no git identity is configured (a CI runner).
_JITOPS_IDENTITY = ["-c", "user.name=jitops", "-c", "user.email=jitops@users.noreply.github.com"]


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
    """When a file's current content arrived on a branch: the first-parent commit that last
    added or changed it, its time, and whether it was an addition (``A``) or an edit in place
    (``M``, or ``T`` for a change of file type)."""

    commit: str
    at: datetime
    status: str = "A"

    @property
    def edited(self) -> bool:
        """The file was there before this commit, with other content or another mode."""
        return self.status != "A"


def landings(
    root: Path, ref: str, paths: Sequence[str], *, wanted: Iterable[str] | None = None
) -> dict[str, Landing]:
    """For each file under ``paths`` that exists at ``ref``: the commit that last added or
    changed it, i.e. the commit whose content (bytes and mode) the file has at ``ref``.

    Walks ``ref``'s first-parent history (the merge commits of the default branch), newest
    first, so a request's window opens when its pull request merged, not when its author
    committed it. An edit in place is a landing of its own: what lands is content, and content
    that no one approved must never inherit the landing of content that someone did. Given
    ``wanted`` (the files of interest), the walk stops as soon as all of them are found: grants
    are short-lived, so their landings are recent, and the cost follows them rather than the
    length of the history.
    """
    missing = set(wanted) if wanted is not None else None
    if missing is not None and not missing:
        return {}
    command = [
        "git", "-C", str(root), "log", "--first-parent", "-m", "--diff-filter=AMT",
        "--no-renames", "--name-status", "-z", "--format=%x01%H %ct", ref, "--", *paths,
    ]  # fmt: skip
    found: dict[str, Landing] = {}
    try:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH — install git") from None
    assert process.stdout is not None
    pending = b""
    with process:
        # -z output: "\x01<sha> <time>\0\n<status>\0<name>\0<status>\0<name>\0" per commit
        while chunk := process.stdout.read(1 << 16):
            blocks = (pending + chunk).split(b"\x01")
            pending = blocks.pop()
            if _record_landings(blocks, found, missing):
                process.kill()
                return found
        _record_landings([pending], found, missing)
        error = process.stderr.read().decode(errors="replace").strip() if process.stderr else ""
    if process.returncode not in (0, None):
        raise GitError(f"git log: {error or 'failed'}")
    return found


def _record_landings(
    blocks: Sequence[bytes], found: dict[str, Landing], missing: set[str] | None
) -> bool:
    """Add the landings in ``blocks``; True when nothing ``missing`` remains."""
    for block in blocks:
        header, *names = block.decode("utf-8", "surrogateescape").split("\0")
        if not header.strip():
            continue
        sha, _, stamp = header.strip().partition(" ")
        at = datetime.fromtimestamp(int(stamp), UTC)
        fields = [field.strip("\n") for field in names]
        for status, name in zip(fields[0::2], fields[1::2], strict=False):
            if name and name not in found:  # newest first: the latest change wins
                found[name] = Landing(sha, at, status[:1] or "A")
                if missing is not None:
                    missing.discard(name)
    return missing is not None and not missing


# Every commit's additions, merges' own included (see added_paths).
HISTORY_OPTIONS = ("--full-history", "-c")


def added_paths(
    root: Path, ref: str, paths: Sequence[str], *, since: str | None = None
) -> set[str]:
    """Every file under ``paths`` that any commit reachable from ``ref`` ever added.

    That is every file in the tree of any such commit: ``--full-history`` because git's default
    history simplification skips the side of a merge the merge is TREESAME to (for a broad path,
    a file added and removed on main while a pull request's branch was open would vanish), and
    ``-c`` for a file that a merge commit itself introduced (in none of its parents). Given
    ``since`` (an ancestor of ``ref``), only the commits ``since..ref``: those reachable from
    ``ref`` but not from ``since``, so the walk's cost follows what is new.
    """
    revisions = [ref] if since is None else [ref, f"^{since}"]
    log = run(
        root,
        [
            "log",
            *HISTORY_OPTIONS,
            "--diff-filter=AMT",
            "--no-renames",
            "--name-only",
            "-z",
            "--format=",
            *revisions,
            "--",
            *paths,
        ],
    )
    return {name.strip("\n") for name in log.stdout.split("\0") if name.strip("\n")}


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


def blob_size(root: Path, name: str) -> int | None:
    """The size in bytes of blob ``name`` (a blob id, or ``rev:path``), or None if absent."""
    fields = _run_bytes(root, ["cat-file", "--batch-check"], f"{name}\n".encode()).split()
    if len(fields) != 3 or fields[1] != b"blob":  # "<name> missing", or not a blob
        return None
    return int(fields[2])


def _run_bytes(
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


def write_file_commit(root: Path, ref: str, name: str, data: bytes, message: str) -> str:
    """Point ``ref`` at a new parentless commit whose tree holds one file, ``name``.

    For data jitops keeps in git beside the branches (never on one): the commit is not part of
    any branch's history, and replacing it is a plain ref update. Returns the commit id.
    """
    blob = _run_bytes(root, ["hash-object", "-w", "--stdin"], data).decode().strip()
    tree = _run_bytes(root, ["mktree"], f"100644 blob {blob}\t{name}\n".encode())
    commit = _run_bytes(
        root,
        ["commit-tree", tree.decode().strip(), "-F", "-"],
        message.encode(),
        options=_JITOPS_IDENTITY,
    )
    sha = commit.decode().strip()
    run(root, ["update-ref", ref, sha])
    return sha


@dataclass(frozen=True)
class TreeFiles:
    """Files of a tree: their bytes, and the sizes of those too large to read."""

    contents: dict[str, bytes]
    oversized: dict[str, int]
    blobs: dict[str, str] = field(default_factory=dict)  # path → blob id, for those read


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
    blobs = read_blobs(root, [sha for _, sha in entries])
    files = {path: blobs[sha] for path, sha in entries if sha in blobs}
    return TreeFiles(files, oversized, {path: sha for path, sha in entries if sha in blobs})


NOTES_REF = "refs/notes/jitops"


SWEEP_NOTES_REF = "refs/notes/jitops-sweep"


def add_note(root: Path, commit: str, text: str, *, ref: str = NOTES_REF) -> None:
    """Attach ``text`` to ``commit`` under ``ref`` (replacing an earlier note there)."""
    _run_bytes(
        root,
        ["notes", f"--ref={ref}", "add", "-f", "-F", "-", commit],
        text.encode(),
        options=_JITOPS_IDENTITY,
    )


def notes(
    root: Path, *, ref: str = NOTES_REF, commits: Iterable[str] | None = None
) -> dict[str, bytes]:
    """Every note under ``ref`` (or only those of ``commits``): annotated commit → note bytes
    (empty when there are none)."""
    if resolve(root, ref) is None:
        return {}
    listing = run(root, ["notes", f"--ref={ref}", "list"])
    pairs = [line.split() for line in listing.stdout.splitlines() if line.strip()]
    if commits is not None:
        wanted = set(commits)
        pairs = [pair for pair in pairs if pair[1] in wanted]
    blobs = read_blobs(root, [blob for blob, _ in pairs])
    return {commit: blobs[blob] for blob, commit in pairs}


def read_blobs(root: Path, names: Sequence[str]) -> dict[str, bytes]:
    """The contents of ``names`` (blob ids, or ``commit:path``) in one ``git cat-file --batch``.

    A name git cannot find is absent from the result.
    """
    if not names:
        return {}
    out = _run_bytes(root, ["cat-file", "--batch"], "".join(f"{n}\n" for n in names).encode())
    found: dict[str, bytes] = {}
    position = 0
    for name in names:
        header_end = out.index(b"\n", position)
        header = out[position:header_end].split()
        if header[-1] == b"missing":
            position = header_end + 1
            continue
        length = int(header[2])
        start = header_end + 1
        found[name] = out[start : start + length]
        position = start + length + 1
    return found


@dataclass(frozen=True)
class Change:
    """One file added, modified or deleted by a first-parent commit of a branch."""

    commit: str
    at: datetime
    status: str  # "A", "M" or "D"
    path: str


def first_parent_changes(root: Path, ref: str, paths: Sequence[str]) -> list[Change]:
    """Every change to ``paths`` along ``ref``'s first-parent history, oldest first."""
    log = run(
        root,
        [
            "log",
            "--first-parent",
            "-m",
            "--no-renames",
            "--name-status",
            "-z",
            "--reverse",
            "--format=%x01%H %ct",
            ref,
            "--",
            *paths,
        ],
    )
    changes: list[Change] = []
    for block in log.stdout.split("\x01"):
        header, *fields = block.split("\0")
        if not header.strip():
            continue
        sha, _, stamp = header.strip().partition(" ")
        at = datetime.fromtimestamp(int(stamp), UTC)
        fields = [f.strip("\n") for f in fields]
        for status, path in zip(fields[0::2], fields[1::2], strict=False):
            if status and path:
                changes.append(Change(sha, at, status[0], path))
    return changes


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


def _network(root: Path, args: Sequence[str], token: str | None, what: str) -> str:
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
            _network(root, ["push", "--quiet", remote, f"{ref}:{ref}"], token, "git push notes")
            return
        except GitError as exc:
            lost_race = any(word in exc.message for word in _LOST_RACE)
            if not lost_race or attempt == NOTES_PUSH_ATTEMPTS - 1:
                raise
            time.sleep(0.2 * (attempt + 1))


NOTES_PUSH_ATTEMPTS = 5
# what git says when the remote ref moved since it was fetched
_LOST_RACE = ("non-fast-forward", "fetch first", "rejected", "stale info", "cannot lock ref")


def pull_notes(
    root: Path, *, token: str | None = None, remote: str = "origin", ref: str = NOTES_REF
) -> bool:
    """Merge the remote's notes under ``ref`` into this clone's (a note of this clone wins
    where both have one). False when the remote has none (yet)."""
    try:
        _network(
            root,
            ["fetch", "--quiet", "--no-tags", remote, f"+{ref}:{ref}-remote"],
            token,
            "git fetch notes",
        )
    except GitError:
        return False  # no notes on the remote yet
    run(
        root,
        [*_JITOPS_IDENTITY, "notes", f"--ref={ref}", "merge", "-s", "ours", f"{ref}-remote"],
        check=False,
    )
    return True


def first_parent_commits_changing(
    root: Path, ref: str, *, excluding: str, since: str | None = None
) -> list[str]:
    """The first-parent commits of ``ref`` (after ``since``, if given), oldest first, that
    change anything outside the folder ``excluding`` — compared with their first parent."""
    revisions = [ref] if since is None else [f"{since}..{ref}"]
    log = run(
        root,
        [
            "log", "--first-parent", "-m", "--format=%H", "--reverse", *revisions,
            "--", ".", f":(exclude){excluding}",
        ],
    )  # fmt: skip
    return log.stdout.split()


def first_parent_chain(root: Path, ref: str, count: int) -> list[str]:
    """``ref`` and the first-parent commits before it, ``count`` in all, newest first."""
    if count <= 0:
        return []
    return run(root, ["rev-list", "--first-parent", "-n", str(count), ref]).stdout.split()


def first_parent_order(root: Path, ref: str, commits: Iterable[str]) -> list[str]:
    """``commits`` oldest first along ``ref``'s first-parent history; any not on it last."""
    wanted = set(commits)
    chain = run(root, ["rev-list", "--first-parent", "--reverse", ref]).stdout.split()
    ordered = [c for c in chain if c in wanted]
    return ordered + sorted(wanted - set(ordered))


def first_commit_with(root: Path, ref: str, path: str) -> str | None:
    """The oldest first-parent commit of ``ref`` that added ``path``, if any."""
    log = run(
        root,
        ["log", "--first-parent", "-m", "--diff-filter=A", "--format=%H", "--reverse", ref,
         "--", path],
    )  # fmt: skip
    found = log.stdout.split()
    return found[0] if found else None


def root_commit(root: Path, ref: str) -> str:
    """The first commit of ``ref``'s first-parent history."""
    return run(root, ["rev-list", "--first-parent", "--max-parents=0", ref]).stdout.split()[-1]


def tree_outside(root: Path, commit: str, folder: str) -> str:
    """A fingerprint of ``commit``'s tree without the top-level ``folder``: equal for two
    commits exactly when everything outside ``folder`` is identical (modes included)."""
    listing = run(root, ["ls-tree", "-z", commit]).stdout
    kept = [entry for entry in listing.split("\0") if entry and not entry.endswith("\t" + folder)]
    return hashlib.sha256("\0".join(kept).encode("utf-8", "surrogateescape")).hexdigest()


def modes_at(root: Path, ref: str, paths: Sequence[str]) -> dict[str, str] | None:
    """git's mode of each of ``paths`` at ``ref`` (absent: not there); None when this
    repository does not have ``ref``."""
    if not paths:
        return {}
    listing = run(root, ["ls-tree", "-z", "--full-tree", ref, "--", *paths], check=False)
    if listing.returncode != 0:
        return None
    found: dict[str, str] = {}
    for record in listing.stdout.split("\0"):
        meta, _, path = record.partition("\t")
        if path:
            found[path] = meta.split()[0]
    return found


def parents(root: Path, commit: str) -> list[str]:
    """The parents of ``commit``, first parent first."""
    result = run(root, ["rev-list", "--parents", "-n", "1", commit], check=False)
    return result.stdout.split()[1:]


def parent(root: Path, commit: str) -> str | None:
    """The first parent of ``commit`` (the branch before a merge), or None for a root."""
    return resolve(root, f"{commit}^1")


class BranchHistory:
    """What one run reads of a branch's first-parent history after a start, each thing once for
    the whole range: the commits and their parents, which changed anything outside a folder,
    the commits each one merged in, and what they added under some paths.

    A catch-up asks about every landing of the range; asking git per landing would start
    several processes each, so the cost would follow the range length times a process start.
    Questions about commits outside the range fall back to git, with the same answers.
    """

    def __init__(self, root: Path, head: str, since: str | None) -> None:
        self.root, self.head, self.since = root, head, since
        revisions = [head] if since is None else [head, f"^{since}"]
        listing = run(root, ["rev-list", "--first-parent", "--parents", "--reverse", *revisions])
        self.commits: list[str] = []
        self._parents: dict[str, list[str]] = {}
        for line in listing.stdout.splitlines():
            sha, *its_parents = line.split()
            self.commits.append(sha)
            self._parents[sha] = its_parents
        self._position = {sha: index for index, sha in enumerate(self.commits)}
        first = self._parents[self.commits[0]] if self.commits else []
        # ``since`` orders before the range only when it is on the first-parent chain itself
        self.since_on_chain = since is not None and (
            (first[:1] == [since]) if self.commits else resolve(root, head) == since
        )
        if since is not None and self.since_on_chain:
            self._position[since] = -1
        self._changing: dict[str, list[int]] = {}
        self._merged_in: dict[str, list[str]] | None = None
        self._added: dict[tuple[str, ...], dict[str, list[str]]] = {}

    def position(self, commit: str) -> int | None:
        """Where ``commit`` is along the range, oldest first (``since`` is -1), or None."""
        return self._position.get(commit)

    def parents(self, commit: str) -> list[str]:
        found = self._parents.get(commit)
        return list(found) if found is not None else parents(self.root, commit)

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        before, after = self._position.get(ancestor), self._position.get(descendant)
        if before is not None and after is not None:
            return before <= after  # one first-parent chain: its order is ancestry
        return is_ancestor(self.root, ancestor, descendant)

    def order(self, commits: Iterable[str]) -> list[str]:
        """``commits`` oldest first along the branch; any not on it last (as
        ``first_parent_order``)."""
        wanted = set(commits)
        if not all(c in self._position and self._position[c] >= 0 for c in wanted):
            return first_parent_order(self.root, self.head, wanted)
        return sorted(wanted, key=self._position.__getitem__)

    def changing_outside(self, folder: str, until: str) -> list[str] | None:
        """The range's first-parent commits up to ``until``, oldest first, that change anything
        outside the folder ``folder`` (as ``first_parent_commits_changing``); None when
        ``until`` is not in the range."""
        end = self._position.get(until)
        if end is None:
            return None
        if folder not in self._changing:
            found = first_parent_commits_changing(
                self.root, self.head, excluding=folder, since=self.since
            )
            self._changing[folder] = sorted(
                self._position[c] for c in found if self._position.get(c, -1) >= 0
            )
        changes = self._changing[folder]
        return [self.commits[i] for i in changes[: bisect.bisect_right(changes, end)]]

    def same_outside(self, folder: str, commit: str) -> str | None:
        """A commit whose tree outside ``folder`` is ``commit``'s: the last change outside it
        at or before ``commit`` (or ``since`` when none is in the range), read from the one
        walk of ``changing_outside``; None when ``commit`` is not in the range."""
        changes = self.changing_outside(folder, commit)
        if changes is None:
            return None
        if changes:
            return changes[-1]
        return self.since if self.since_on_chain else None

    def merged_in(self, commit: str) -> list[str]:
        """The commits that first-parent commit ``commit`` of the range brought into the
        branch: itself and those of its other parents' histories no earlier commit of the
        range (nor ``since``) has."""
        if self._merged_in is None:
            revisions = [self.head] if self.since is None else [self.head, f"^{self.since}"]
            graph: dict[str, list[str]] = {}
            for line in run(self.root, ["rev-list", "--parents", *revisions]).stdout.splitlines():
                sha, *its_parents = line.split()
                graph[sha] = its_parents
            seen: set[str] = set()
            self._merged_in = {}
            for tip in self.commits:
                brought: list[str] = []
                pending = [tip]
                while pending:
                    sha = pending.pop()
                    if sha in seen or sha not in graph:  # not in graph: ``since`` has it
                        continue
                    seen.add(sha)
                    brought.append(sha)
                    pending.extend(graph[sha])
                self._merged_in[tip] = brought
        return self._merged_in.get(commit, [])

    def added_by(self, paths: Sequence[str]) -> Mapping[str, list[str]]:
        """Each commit of the range's whole history (side branches too) → the files under
        ``paths`` it added or changed, merges' own included (as ``added_paths``): one walk."""
        key = tuple(paths)
        if key not in self._added:
            revisions = [self.head] if self.since is None else [self.head, f"^{self.since}"]
            log = run(
                self.root,
                [
                    "log", *HISTORY_OPTIONS, "--diff-filter=AMT", "--no-renames",
                    "--name-only", "-z", "--format=%x01%H", *revisions, "--", *paths,
                ],
            )  # fmt: skip
            found: dict[str, list[str]] = {}
            for block in log.stdout.split("\x01"):
                sha, *names = block.split("\0")
                if sha.strip():
                    found[sha.strip()] = [n.strip("\n") for n in names if n.strip("\n")]
            self._added[key] = found
        return self._added[key]


class BlobReader:
    """One ``git cat-file --batch`` process for a whole run: blobs read one question at a time
    (a question, then its answer, so neither pipe ever fills), without a process per read."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> BlobReader:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        if self._process is not None:
            assert self._process.stdin is not None
            self._process.stdin.close()
            self._process.wait()
            self._process = None

    def _started(self) -> subprocess.Popen[bytes]:
        if self._process is None:
            try:
                self._process = subprocess.Popen(
                    ["git", "-C", str(self.root), "cat-file", "--batch"],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                )
            except FileNotFoundError:
                raise GitError("git is not installed or not on PATH — install git") from None
        return self._process

    def _object(self, name: str) -> tuple[bytes, bytes] | None:
        """(type, contents) of the object git names ``name``, or None when it has none."""
        answer = self._identified(name)
        return None if answer is None else (answer[1], answer[2])

    def _identified(self, name: str) -> tuple[bytes, bytes, bytes] | None:
        """(id in hex, type, contents) of the object git names ``name``, or None."""
        if "\n" in name:
            return None  # no object is named so; it would end the question early
        process = self._started()
        assert process.stdin is not None and process.stdout is not None
        try:
            process.stdin.write(f"{name}\n".encode("utf-8", "surrogateescape"))
            process.stdin.flush()
            header = process.stdout.readline().split()
        except OSError as exc:
            raise GitError(f"git cat-file: {exc}") from None
        if not header:
            raise GitError("git cat-file: it ended without answering")
        if header[-1] in (b"missing", b"ambiguous"):
            return None
        length = int(header[2])
        data = process.stdout.read(length + 1)  # the contents and a newline
        return header[0], header[1], data[:length]

    def read(self, names: Sequence[str]) -> dict[str, bytes]:
        """The contents of ``names`` (as ``read_blobs``); a name git cannot find is absent."""
        found: dict[str, bytes] = {}
        for name in names:
            answer = self._object(name)
            if answer is not None:
                found[name] = answer[1]
        return found

    def modes_at(self, ref: str, paths: Sequence[str]) -> dict[str, str] | None:
        """git's mode of each of ``paths`` at commit ``ref`` (absent: not there), as
        ``modes_at``, read from the trees of their folders; None when this repository does not
        have ``ref``."""
        commit = self._object(ref)
        if commit is None or commit[0] != b"commit":
            return None
        found: dict[str, str] = {}
        folders: dict[str, list[str]] = {}
        for path in paths:
            folder, _, name = path.rpartition("/")
            folders.setdefault(folder, []).append(name)
        for folder, names in folders.items():
            tree = self._object(f"{ref}:{folder}" if folder else f"{ref}^{{tree}}")
            if tree is None or tree[0] != b"tree":
                continue  # the folder is not there (or is a file): neither are the paths
            slow: dict[bytes, str] = {}
            for name in names:
                path = f"{folder}/{name}" if folder else name
                entry = self._identified(f"{ref}:{path}")
                if entry is None:
                    continue  # not there
                raw = name.encode("utf-8", "surrogateescape")
                mode = _entry_mode(tree[1], raw, bytes.fromhex(entry[0].decode()))
                if mode is None:
                    slow[raw] = path
                else:
                    found[path] = mode
            if slow:
                for raw, mode in _tree_modes(tree[1], set(slow)).items():
                    found[slow[raw]] = mode
        return found


# Every mode git writes in a tree, as its raw trees spell them (a folder without its 0).
_TREE_MODES = {b"100644", b"100755", b"120000", b"160000"}


def _entry_mode(tree: bytes, name: bytes, object_id: bytes) -> str | None:
    """The mode of the entry ``name`` → ``object_id`` in a tree object's raw contents, found by
    one search (no walk over the folder's other entries); None when the search cannot be sure
    (another entry's name ends in " <name>" with the same object, or an unusual mode), and the
    caller reads the tree entry by entry.

    Only the real entry and an entry named ``<anything> <name>`` holding the same object can
    contain `` <name>\\0<id>`` (a name holds no NUL): one match is the real entry."""
    needle = b" " + name + b"\0" + object_id
    at = tree.find(needle)
    if at < 0 or tree.find(needle, at + 1) >= 0:
        return None
    if tree[max(0, at - 6) : at] in _TREE_MODES:
        return tree[at - 6 : at].decode()
    if tree[max(0, at - 5) : at] == b"40000":
        return "040000"
    return None


def _tree_modes(tree: bytes, names: set[bytes]) -> dict[bytes, str]:
    """The mode of each of ``names`` in a tree object's raw contents (entries of
    ``<mode> <name>\\0<20-byte id>``), zero-padded as ``ls-tree`` prints it; read entry by
    entry (an id's bytes may be anything) until all are found."""
    modes: dict[bytes, str] = {}
    at = 0
    while at < len(tree) and len(modes) < len(names):
        space = tree.index(b" ", at)
        nul = tree.index(b"\0", space)
        name = tree[space + 1 : nul]
        if name in names:
            modes[name] = tree[at:space].decode().rjust(6, "0")
        at = nul + 21
    return modes


def set_identity(root: Path, name: str, email: str) -> None:
    """Make ``name <email>`` the author of commits made in ``root`` (its own git config), as a
    person does once in a new clone."""
    run(root, ["config", "user.name", name])
    run(root, ["config", "user.email", email])


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


def clone(url: str, dest: Path, *, token: str | None = None) -> None:
    """Clone ``url`` into ``dest`` (new) with all of its history, as a workflow's checkout with
    ``fetch-depth: 0``; the token goes as a header for this command only, never into the clone."""
    _network(dest.parent, ["clone", "--quiet", "--no-tags", url, str(dest)], token, "git clone")


def fetch_commit(root: Path, sha: str, *, token: str | None = None, remote: str = "origin") -> None:
    """Fetch commit ``sha`` (and what it needs) from ``remote``, checking nothing out."""
    _network(root, ["fetch", "--quiet", "--no-tags", remote, sha], token, f"git fetch {sha[:7]}")


def fetch_ref(root: Path, ref: str, *, token: str | None = None, remote: str = "origin") -> None:
    """Fetch ``ref`` from ``remote`` into the same local ref, replacing whatever it held."""
    _network(
        root, ["fetch", "--quiet", "--no-tags", remote, f"+{ref}:{ref}"], token, f"git fetch {ref}"
    )


def push_ref(root: Path, ref: str, *, token: str | None = None, remote: str = "origin") -> None:
    """Publish ``ref`` to ``remote``, replacing what it held there (not for branches)."""
    _network(root, ["push", "--quiet", remote, f"+{ref}:{ref}"], token, f"git push {ref}")


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


# -- publishing one new file on a branch of its own (``jitops request --open-pr``) -------------


def identity_problem(root: Path) -> str | None:
    """Why git could not author a commit here (no user.name/user.email), or None."""
    for who in ("GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT"):
        result = run(root, ["var", who], check=False)
        if result.returncode != 0:
            return result.stderr.strip().splitlines()[-1] if result.stderr.strip() else who
    return None


def remote_url(root: Path, remote: str = "origin") -> str | None:
    """The URL ``remote`` fetches from, or None when there is no such remote."""
    result = run(root, ["remote", "get-url", remote], check=False)
    if result.returncode != 0:
        return None
    return result.stdout.strip() or None


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
    out = _network(
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
    _network(
        root,
        ["fetch", "--quiet", "--no-tags", remote, f"+refs/heads/{branch}:{tracking}"],
        token,
        f"git fetch {remote} {branch}",
    )
    sha = resolve(root, tracking)
    if sha is None:
        raise GitError(f"git fetch {remote} {branch}: nothing was fetched")
    return sha


def commit_file(root: Path, parent: str, path: str, data: bytes, message: str) -> str:
    """A new commit on ``parent`` that adds (or replaces) the one file ``path``; its id.

    Built with plumbing and an index of its own: the work tree, the index and every branch stay
    as they are. Author and committer are git's configured identity.
    """
    import tempfile

    blob = _run_bytes(root, ["hash-object", "-w", "--stdin"], data).decode().strip()
    with tempfile.TemporaryDirectory(prefix="jitops-index-") as scratch:
        index = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
        run(root, ["read-tree", parent], env=index)
        run(root, ["update-index", "--add", "--cacheinfo", f"100644,{blob},{path}"], env=index)
        tree = run(root, ["write-tree"], env=index).stdout.strip()
    commit = _run_bytes(root, ["commit-tree", tree, "-p", parent, "-F", "-"], message.encode())
    return commit.decode().strip()


def push_branch(
    root: Path, commit: str, branch: str, *, token: str | None = None, remote: str = "origin"
) -> None:
    """Create ``branch`` on ``remote`` at ``commit``. Never forced: a branch that appeared
    meanwhile is refused by the remote, not overwritten."""
    _network(
        root,
        ["push", "--quiet", remote, f"{commit}:refs/heads/{branch}"],
        token,
        f"git push {remote} {branch}",
    )


def init(root: Path, branch: str) -> None:
    """Make ``root`` (an existing folder) a new git repository whose first branch is ``branch``."""
    run(root, ["init", "--quiet", f"--initial-branch={branch}"])


def remote_default_branch(root: Path, remote: str = "origin") -> str | None:
    """The default branch of ``remote`` as the last clone or fetch saw it (``main``), if known."""
    result = run(
        root, ["symbolic-ref", "--quiet", "--short", f"refs/remotes/{remote}/HEAD"], check=False
    )
    name = result.stdout.strip().removeprefix(f"{remote}/")
    return (name or None) if result.returncode == 0 else None
