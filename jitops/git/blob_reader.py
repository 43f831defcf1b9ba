"""``BlobReader``: one ``git cat-file --batch`` process for a whole run, for blobs and modes read
one question at a time."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

from jitops.errors import GitError


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
