"""``BlobReader``: one ``git cat-file --batch`` process for a whole run, for blobs and modes; the
questions of one read go to git in chunks, and one landing's answers can serve its later reads."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Sequence
from pathlib import Path

from jitops.errors import GitError

Answer = tuple[bytes, bytes, bytes]  # (object id in hex, type, contents)
_CHUNK = 16384  # bytes of questions per chunk: well within a pipe's buffer
# a name that means one object for ever: a full id, or a full commit id and a path in it
_FIXED = re.compile(r"[0-9a-f]{40}(:.*)?\Z", re.DOTALL)


class BlobReader:
    """One ``git cat-file --batch`` process for a whole run: blobs and modes read without a
    process per read, the questions of one read written in chunks and their answers read
    after each chunk (so neither pipe ever fills)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._process: subprocess.Popen[bytes] | None = None
        self._recent: dict[str, Answer] = {}  # within ``remembering``: name → answer
        self._remember = False

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
        answer = self._identified_many([name])[0]
        return None if answer is None else (answer[1], answer[2])

    def _identified_many(self, names: Sequence[str]) -> list[Answer | None]:
        """(id in hex, type, contents) of the object git names by each of ``names``, or None,
        in order. The questions go to git in chunks, each written whole before its answers are
        read: one wait for git per chunk, not per name. A chunk's questions fit in the pipe
        git reads them from (it has answered every earlier question, so that pipe is empty),
        so writing never waits on git while git waits on its answers being read."""
        answers: list[Answer | None] = [None] * len(names)
        asked: list[int] = []  # positions of the names put to git, in order
        chunk = bytearray()
        for position, name in enumerate(names):
            if name in self._recent:
                answers[position] = self._recent[name]
                continue
            if "\n" in name:
                continue  # no object is named so; it would end the question early
            question = f"{name}\n".encode("utf-8", "surrogateescape")
            if len(chunk) + len(question) > _CHUNK and asked:
                self._answer(bytes(chunk), asked, names, answers)
                chunk, asked = bytearray(), []
            chunk += question
            asked.append(position)
        if asked:
            self._answer(bytes(chunk), asked, names, answers)
        return answers

    def _answer(
        self,
        chunk: bytes,
        asked: Sequence[int],
        names: Sequence[str],
        answers: list[Answer | None],
    ) -> None:
        process = self._started()
        assert process.stdin is not None and process.stdout is not None
        try:
            process.stdin.write(chunk)
            process.stdin.flush()
            for position in asked:
                header = process.stdout.readline().split()
                if not header:
                    raise GitError("git cat-file: it ended without answering")
                if header[-1] in (b"missing", b"ambiguous"):
                    continue
                length = int(header[2])
                data = process.stdout.read(length + 1)  # the contents and a newline
                answer = (header[0], header[1], data[:length])
                answers[position] = answer
                if self._remember:
                    # the object is known by its id from now on, whatever it was asked as
                    self._recent[header[0].decode()] = answer
                    if _FIXED.match(names[position]):
                        self._recent[names[position]] = answer
        except OSError as exc:
            raise GitError(f"git cat-file: {exc}") from None

    def remembering(self) -> _Remembering:
        """A scope within which answers to names that always mean the same object (a full
        commit or object id, with or without a path) are kept, so that asking again costs no
        question to git: as for one landing's modes, head contents and landed blobs. Memory
        is one scope's answers."""
        return _Remembering(self)

    def read(self, names: Sequence[str]) -> dict[str, bytes]:
        """The contents of ``names`` (as ``read_blobs``); a name git cannot find is absent."""
        return {
            name: answer[2]
            for name, answer in zip(names, self._identified_many(names), strict=True)
            if answer is not None
        }

    def modes_at(self, ref: str, paths: Sequence[str]) -> dict[str, str] | None:
        """git's mode of each of ``paths`` at commit ``ref`` (absent: not there), as
        ``modes_at``, read from the trees of their folders; None when this repository does not
        have ``ref``. One chunk of questions: the commit, each folder's tree, each path."""
        folders: dict[str, list[str]] = {}
        for path in paths:
            folder, _, name = path.rpartition("/")
            folders.setdefault(folder, []).append(name)
        folder_names = [f"{ref}:{folder}" if folder else f"{ref}^{{tree}}" for folder in folders]
        entry_names = [
            f"{ref}:{folder}/{name}" if folder else f"{ref}:{name}"
            for folder, names in folders.items()
            for name in names
        ]
        answers = self._identified_many([ref, *folder_names, *entry_names])
        commit = answers[0]
        if commit is None or commit[1] != b"commit":
            return None
        trees = dict(zip(folders, answers[1 : 1 + len(folders)], strict=True))
        entries = iter(answers[1 + len(folders) :])
        found: dict[str, str] = {}
        for folder, names in folders.items():
            tree = trees[folder]
            answered = [next(entries) for _ in names]
            if tree is None or tree[1] != b"tree":
                continue  # the folder is not there (or is a file): neither are the paths
            slow: dict[bytes, str] = {}
            for name, entry in zip(names, answered, strict=True):
                path = f"{folder}/{name}" if folder else name
                if entry is None:
                    continue  # not there
                raw = name.encode("utf-8", "surrogateescape")
                mode = _entry_mode(tree[2], raw, bytes.fromhex(entry[0].decode()))
                if mode is None:
                    slow[raw] = path
                else:
                    found[path] = mode
            if slow:
                for raw, mode in _tree_modes(tree[2], set(slow)).items():
                    found[slow[raw]] = mode
        return found


class _Remembering:
    def __init__(self, reader: BlobReader) -> None:
        self.reader = reader

    def __enter__(self) -> None:
        self.reader._recent = {}
        self.reader._remember = True

    def __exit__(self, *_: object) -> None:
        self.reader._recent = {}
        self.reader._remember = False


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
