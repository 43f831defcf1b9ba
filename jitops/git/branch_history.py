"""``BranchHistory``: what one run reads of a branch's first-parent history after a start, each
thing read once for the whole range."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from jitops.git.commits import is_ancestor, parents, resolve
from jitops.git.history import HISTORY_OPTIONS, first_parent_commits_changing, first_parent_order
from jitops.git.running import run


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
        self._changing: dict[str | tuple[str, ...], list[int]] = {}
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

    def changing_outside(self, folder: str | tuple[str, ...], until: str) -> list[str] | None:
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

    def same_outside(self, folder: str | tuple[str, ...], commit: str) -> str | None:
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
