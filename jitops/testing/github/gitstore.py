"""The real git repository behind each repository the test server serves.

Every branch, commit, tree, blob and diff the server reports is git's own: this module runs
``git`` on a bare repository and parses its plumbing output. Merges use
``git merge-tree --write-tree`` (git 2.38 or later), so a conflicting pull request is
unmergeable for the same reason it would be on GitHub.
"""

from __future__ import annotations

import functools
import os
import subprocess
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
ZERO_SHA = "0" * 40


class GitStoreError(Exception):
    """A git command failed, or an object is not what the caller asked for."""


@dataclass(frozen=True)
class Identity:
    """An author or committer line: who, and when (timezone-aware)."""

    name: str
    email: str
    date: datetime


@dataclass(frozen=True)
class CommitInfo:
    """A parsed commit object."""

    sha: str
    tree: str
    parents: tuple[str, ...]
    author: Identity
    committer: Identity
    message: str


@dataclass(frozen=True)
class TreeEntry:
    """One entry of ``git ls-tree -l``; ``size`` is None for trees and submodules."""

    mode: str
    type: str
    sha: str
    path: str
    size: int | None


@dataclass(frozen=True)
class FileChange:
    """One file of a diff, with the numbers GitHub reports for it."""

    filename: str
    status: str  # added | removed | modified | renamed
    sha: str | None  # the blob on the head side, None when removed
    additions: int
    deletions: int
    patch: str | None
    previous_filename: str | None = None


@dataclass(frozen=True)
class TreeChange:
    """A change to apply on top of a tree: ``content`` None removes ``path``."""

    path: str
    content: bytes | None
    mode: str = "100644"


_HEX = frozenset("0123456789abcdef")


def _is_sha(value: str) -> bool:
    return len(value) == 40 and set(value) <= _HEX


# Git objects never change, so answers about them (given full shas) are kept per repository.
_cache: dict[tuple[str, str, tuple[object, ...]], Any] = {}
_cache_lock = threading.Lock()


def _cached(method: Callable[..., T]) -> Callable[..., T]:
    @functools.wraps(method)
    def wrapper(self: GitStore, *args: str, **kwargs: Any) -> T:
        if kwargs or not all(_is_sha(a) for a in args if isinstance(a, str)):
            return method(self, *args, **kwargs)
        key = (str(self.path), method.__name__, args)
        with _cache_lock:
            if key in _cache:
                return _cache[key]  # type: ignore[no-any-return]
        value = method(self, *args)
        with _cache_lock:
            _cache[key] = value
        return value

    return wrapper


_STATUS = {"A": "added", "D": "removed", "M": "modified", "R": "renamed", "T": "changed"}


class GitStore:
    """A bare git repository and the operations the server needs on it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def init(cls, path: Path, default_branch: str) -> GitStore:
        """Create an empty bare repository whose HEAD names ``default_branch``."""
        path.mkdir(parents=True, exist_ok=True)
        store = cls(path)
        store.git("init", "--quiet", "--bare", f"--initial-branch={default_branch}")
        # Smart HTTP pushes are received by `git http-backend`, which needs this.
        store.git("config", "http.receivepack", "true")
        return store

    # -- running git -----------------------------------------------------------------------

    def _env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        env.update({"GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"})
        if extra:
            env.update(extra)
        return env

    def run(
        self,
        *args: str,
        input: bytes | None = None,
        env: Mapping[str, str] | None = None,
        check: bool = True,
    ) -> subprocess.CompletedProcess[bytes]:
        """Run ``git`` in the repository and return the completed process."""
        proc = subprocess.run(
            ["git", f"--git-dir={self.path}", *args],
            input=input,
            capture_output=True,
            env=self._env(env),
            check=False,
        )
        if check and proc.returncode != 0:
            message = proc.stderr.decode(errors="replace").strip()
            raise GitStoreError(f"git {' '.join(args)}: {message}")
        return proc

    def git(
        self, *args: str, input: bytes | None = None, env: Mapping[str, str] | None = None
    ) -> str:
        """Run ``git`` and return its standard output as text, trailing newline removed."""
        return self.run(*args, input=input, env=env).stdout.decode().rstrip("\n")

    # -- refs ------------------------------------------------------------------------------

    def resolve(self, rev: str) -> str | None:
        """The object id ``rev`` names, or None if it names nothing."""
        proc = self.run("rev-parse", "--verify", "--quiet", f"{rev}^{{object}}", check=False)
        return proc.stdout.decode().strip() or None if proc.returncode == 0 else None

    def resolve_commit(self, rev: str) -> str | None:
        """The commit ``rev`` names (a sha, a branch, a full ref), or None."""
        proc = self.run("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", check=False)
        return proc.stdout.decode().strip() or None if proc.returncode == 0 else None

    def branch_sha(self, branch: str) -> str | None:
        """The commit at ``refs/heads/<branch>``, or None if there is no such branch."""
        # Read the ref files directly: this runs for every pull request rendered.
        ref = f"refs/heads/{branch}"
        try:
            value = (self.path / ref).read_text().strip()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            value = ""
        if _is_sha(value):
            return value
        if not value:
            try:
                packed = (self.path / "packed-refs").read_text()
            except FileNotFoundError:
                packed = ""
            for line in packed.splitlines():
                sha, _, name = line.partition(" ")
                if name == ref and _is_sha(sha):
                    return sha
            if not packed:
                return None
        return self.resolve_commit(ref)

    def refs(self, prefix: str = "refs/") -> list[tuple[str, str]]:
        """Every ref under ``prefix`` with the object it points at, sorted by name."""
        out = self.git("for-each-ref", "--format=%(refname) %(objectname)", prefix)
        pairs = [tuple(line.split(" ", 1)) for line in out.splitlines() if line]
        return sorted((ref, sha) for ref, sha in pairs)

    def update_ref(self, ref: str, new: str, old: str | None = None) -> None:
        """Point ``ref`` at ``new``; with ``old``, only if it still points there."""
        args = ["update-ref", ref, new] + ([old] if old is not None else [])
        self.git(*args)

    def delete_ref(self, ref: str) -> None:
        """Delete ``ref``."""
        self.git("update-ref", "-d", ref)

    # -- objects ---------------------------------------------------------------------------

    def object_type(self, sha: str) -> str | None:
        """``commit``, ``tree``, ``blob`` or ``tag``; None if no such object."""
        proc = self.run("cat-file", "-t", sha, check=False)
        return proc.stdout.decode().strip() if proc.returncode == 0 else None

    @_cached
    def read_blob(self, sha: str) -> bytes:
        """The content of blob ``sha``."""
        return self.run("cat-file", "blob", sha).stdout

    def write_blob(self, content: bytes) -> str:
        """Store ``content`` as a blob and return its sha."""
        return self.git("hash-object", "-w", "--stdin", input=content)

    def write_blobs(self, contents: Sequence[bytes]) -> list[str]:
        """Store each of ``contents`` as a blob, in one git process; their shas, in order."""
        distinct = list(dict.fromkeys(contents))
        if len(distinct) == 1:
            return [self.write_blob(distinct[0])] * len(contents)
        if not distinct:
            return []
        with tempfile.TemporaryDirectory(prefix="jitops-blobs-") as tmp:
            paths = []
            for index, content in enumerate(distinct):
                path = Path(tmp) / str(index)
                path.write_bytes(content)
                paths.append(str(path))
            out = self.git(
                "hash-object", "-w", "--no-filters", "--stdin-paths",
                input="".join(f"{p}\n" for p in paths).encode(),
            )  # fmt: skip
        sha_of = dict(zip(distinct, out.split(), strict=True))
        return [sha_of[c] for c in contents]

    @_cached
    def commit(self, sha: str) -> CommitInfo:
        """Parse commit ``sha``."""
        proc = self.run("cat-file", "commit", sha, check=False)
        if proc.returncode != 0:
            raise GitStoreError(f"{sha} is not a commit")
        raw = proc.stdout.decode(errors="replace")
        header, _, message = raw.partition("\n\n")
        tree = ""
        parents: list[str] = []
        people: dict[str, Identity] = {}
        for line in header.splitlines():
            key, _, value = line.partition(" ")
            if key == "tree":
                tree = value
            elif key == "parent":
                parents.append(value)
            elif key in ("author", "committer"):
                people[key] = _parse_identity(value)
        return CommitInfo(
            sha=sha,
            tree=tree,
            parents=tuple(parents),
            author=people["author"],
            committer=people["committer"],
            message=message,
        )

    @_cached
    def ls_tree(self, tree: str, *, recursive: bool = False) -> list[TreeEntry]:
        """The entries of ``tree`` (a tree or commit sha); recursive lists subtrees too."""
        args = ["ls-tree", "-l", "-z", "--full-tree"] + (["-r", "-t"] if recursive else [])
        out = self.run(*args, tree).stdout.decode(errors="replace")
        entries = []
        for record in out.split("\0"):
            if not record:
                continue
            meta, _, path = record.partition("\t")
            mode, kind, sha, size = meta.split()
            entries.append(TreeEntry(mode, kind, sha, path, None if size == "-" else int(size)))
        return entries

    def entry_at(self, commit: str, path: str) -> TreeEntry | None:
        """The tree entry at ``path`` in ``commit``, or None if there is none."""
        path = path.strip("/")
        if not path:
            tree = self.commit(commit).tree
            return TreeEntry("040000", "tree", tree, "", None)
        out = self.run("ls-tree", "-l", "-z", commit, "--", path).stdout.decode(errors="replace")
        for record in out.split("\0"):
            meta, _, found = record.partition("\t")
            if found == path:
                mode, kind, sha, size = meta.split()
                return TreeEntry(mode, kind, sha, path, None if size == "-" else int(size))
        return None

    def write_tree(self, changes: Sequence[TreeChange], base_tree: str | None) -> str:
        """A new tree: ``base_tree`` (or empty) with ``changes`` applied; returns its sha."""
        shas = iter(self.write_blobs([c.content for c in changes if c.content is not None]))
        entries = [(c.path, c.mode, None if c.content is None else next(shas)) for c in changes]
        return self.write_tree_entries(entries, base_tree)

    def write_tree_entries(
        self, entries: Sequence[tuple[str, str, str | None]], base_tree: str | None
    ) -> str:
        """A new tree from ``(path, mode, blob sha or None to delete)`` over ``base_tree``."""
        with tempfile.TemporaryDirectory(prefix="jitops-index-") as tmp:
            env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
            self.git("read-tree", base_tree or EMPTY_TREE, env=env)
            lines = [
                f"0 {ZERO_SHA}\t{path}" if sha is None else f"{mode} {sha}\t{path}"
                for path, mode, sha in entries
            ]
            self.git(
                "update-index",
                "--index-info",
                input="".join(f"{x}\n" for x in lines).encode(),
                env=env,
            )
            return self.git("write-tree", env=env)

    def commit_tree(
        self,
        tree: str,
        parents: Sequence[str],
        message: str,
        author: Identity,
        committer: Identity | None = None,
    ) -> str:
        """Write a commit object and return its sha (no ref moves)."""
        committer = committer or author
        env = {
            "GIT_AUTHOR_NAME": author.name,
            "GIT_AUTHOR_EMAIL": author.email,
            "GIT_AUTHOR_DATE": _git_date(author.date),
            "GIT_COMMITTER_NAME": committer.name,
            "GIT_COMMITTER_EMAIL": committer.email,
            "GIT_COMMITTER_DATE": _git_date(committer.date),
        }
        args = ["commit-tree", tree]
        for parent in parents:
            args += ["-p", parent]
        return self.git(*args, input=message.encode(), env=env)

    # -- history and diffs -----------------------------------------------------------------

    @_cached
    def merge_base(self, a: str, b: str) -> str | None:
        """The best common ancestor of ``a`` and ``b``, or None if unrelated."""
        proc = self.run("merge-base", a, b, check=False)
        return proc.stdout.decode().strip() or None if proc.returncode == 0 else None

    @_cached
    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        """Whether ``ancestor`` is reachable from ``descendant``."""
        return (
            self.run("merge-base", "--is-ancestor", ancestor, descendant, check=False).returncode
            == 0
        )

    @_cached
    def commits_between(self, base: str, head: str) -> list[str]:
        """Commits reachable from ``head`` but not ``base``, oldest first."""
        out = self.git("rev-list", "--reverse", "--topo-order", head, f"^{base}")
        return [line for line in out.splitlines() if line]

    def log(self, rev: str, *, path: str | None = None, limit: int | None = None) -> list[str]:
        """Commits reachable from ``rev`` (newest first), optionally touching ``path``."""
        args = ["rev-list", rev] + ([f"--max-count={limit}"] if limit else [])
        if path:
            args += ["--", path]
        return [line for line in self.git(*args).splitlines() if line]

    @_cached
    def diff(self, base: str, head: str) -> list[FileChange]:
        """The files ``head`` changes relative to its merge base with ``base`` (GitHub's
        three-dot diff), with line counts and unified-diff hunks."""
        start = self.merge_base(base, head) or EMPTY_TREE
        raw = self.run("diff", "--raw", "-z", "-M", "--no-abbrev", start, head).stdout.decode(
            errors="replace"
        )
        numstat = self.run("diff", "--numstat", "-z", "-M", start, head).stdout.decode(
            errors="replace"
        )
        counts = _parse_numstat(numstat)
        changes: list[FileChange] = []
        # One patch for all files, cut at each file's header: git writes the files in the
        # order --raw lists them (same options), so the n-th section is the n-th file's.
        full = self.run("diff", "-M", "--no-color", start, head).stdout.decode(errors="replace")
        sections = [f"{cut}\n" for cut in ("\n" + full).rstrip("\n").split("\ndiff --git ")[1:]]
        fields = raw.split("\0")
        i = 0
        while i < len(fields) and fields[i]:
            meta = fields[i].lstrip(":").split()
            status_letter = meta[4][0]
            if status_letter in ("R", "C"):
                old_path, new_path = fields[i + 1], fields[i + 2]
                i += 3
            else:
                old_path = new_path = fields[i + 1]
                i += 2
            head_sha = None if status_letter == "D" else meta[3]
            additions, deletions = counts.get(new_path, (0, 0))
            patch = (
                _hunks(sections[len(changes)])
                if len(sections) > len(changes)
                else self._patch(start, head, old_path, new_path)
            )
            changes.append(
                FileChange(
                    filename=new_path,
                    status=_STATUS.get(status_letter, "modified"),
                    sha=head_sha,
                    additions=additions,
                    deletions=deletions,
                    patch=patch,
                    previous_filename=old_path if old_path != new_path else None,
                )
            )
        return changes

    def _patch(self, start: str, head: str, old_path: str, new_path: str) -> str | None:
        paths = [old_path] if old_path == new_path else [old_path, new_path]
        out = self.run("diff", "-M", start, head, "--", *paths).stdout.decode(errors="replace")
        return _hunks(out)

    @_cached
    def merge_tree(self, ours: str, theirs: str) -> str | None:
        """The tree of merging ``theirs`` into ``ours``, or None when they conflict."""
        proc = self.run("merge-tree", "--write-tree", "--no-messages", ours, theirs, check=False)
        if proc.returncode == 1:
            return None
        if proc.returncode != 0:
            raise GitStoreError(f"git merge-tree: {proc.stderr.decode(errors='replace').strip()}")
        return proc.stdout.decode().split("\n", 1)[0].strip()


def _hunks(section: str) -> str | None:
    """GitHub's ``patch`` of one file's diff: the hunks only; a binary file has none."""
    at = section.find("\n@@")
    return section[at + 1 :] if at >= 0 else None


def _parse_numstat(out: str) -> dict[str, tuple[int, int]]:
    counts: dict[str, tuple[int, int]] = {}
    fields = out.split("\0")
    i = 0
    while i < len(fields) and fields[i]:
        added, deleted, path = fields[i].split("\t", 2)
        if path == "":  # a rename: the two paths follow as their own fields
            path = fields[i + 2]
            i += 3
        else:
            i += 1
        counts[path] = (int(added) if added != "-" else 0, int(deleted) if deleted != "-" else 0)
    return counts


def _parse_identity(value: str) -> Identity:
    name_email, _, when = value.rpartition("> ")
    name, _, email = name_email.partition(" <")
    stamp, _, offset = when.partition(" ")
    sign = -1 if offset.startswith("-") else 1
    minutes = sign * (int(offset[1:3]) * 60 + int(offset[3:5])) if len(offset) == 5 else 0
    tz = timezone(timedelta(minutes=minutes))
    return Identity(name=name, email=email, date=datetime.fromtimestamp(int(stamp), tz))


def _git_date(when: datetime) -> str:
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    offset = when.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    minutes = abs(minutes)
    return f"{int(when.timestamp())} {sign}{minutes // 60:02d}{minutes % 60:02d}"
