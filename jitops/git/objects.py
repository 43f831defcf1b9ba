"""Reading git objects, never the work tree: blobs by id or ``rev:path`` (in one ``git cat-file
--batch``), the files of a folder at a commit, a file's bytes, modes, and a fingerprint of a
tree."""

from __future__ import annotations

import hashlib
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from jitops.errors import GitError
from jitops.git.running import run, run_bytes


def blob_size(root: Path, name: str) -> int | None:
    """The size in bytes of blob ``name`` (a blob id, or ``rev:path``), or None if absent."""
    fields = run_bytes(root, ["cat-file", "--batch-check"], f"{name}\n".encode()).split()
    if len(fields) != 3 or fields[1] != b"blob":  # "<name> missing", or not a blob
        return None
    return int(fields[2])


def read_blobs(root: Path, names: Sequence[str]) -> dict[str, bytes]:
    """The contents of ``names`` (blob ids, or ``commit:path``) in one ``git cat-file --batch``.

    A name git cannot find is absent from the result.
    """
    if not names:
        return {}
    out = run_bytes(root, ["cat-file", "--batch"], "".join(f"{n}\n" for n in names).encode())
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


def stream_blobs(
    root: Path, names: Sequence[str], per_chunk: int
) -> Iterator[list[tuple[str, bytes | None]]]:
    """The contents of ``names`` (blob ids) from one ``git cat-file --batch``, in chunks of
    ``per_chunk`` as git writes them (None for a name git cannot find): a caller can hand
    the first chunks to other cores while git writes the rest. The names reach git from a
    file, so neither pipe can fill while the other waits. Raises ``GitError`` if git stops
    early, at the latest instead of the last chunk: a listing cut short is never whole."""
    if not names:
        return
    with tempfile.TemporaryFile() as questions:
        questions.write("".join(f"{n}\n" for n in names).encode())
        questions.seek(0)
        try:
            process = subprocess.Popen(
                ["git", "-C", str(root), "cat-file", "--batch"],
                stdin=questions,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                bufsize=1 << 16,
            )
        except FileNotFoundError:
            raise GitError("git is not installed or not on PATH — install git") from None
        with process:
            assert process.stdout is not None
            answers = process.stdout
            chunk: list[tuple[str, bytes | None]] = []
            for name in names:
                header = answers.readline().split()
                if not header:
                    process.kill()
                    raise GitError(f"git cat-file: stopped before {name}")
                if header[-1] == b"missing":
                    chunk.append((name, None))
                else:
                    size = int(header[2])
                    chunk.append((name, answers.read(size)))
                    answers.read(1)  # the line feed after the contents
                if len(chunk) >= per_chunk:
                    yield chunk
                    chunk = []
            if chunk:
                yield chunk


@dataclass(frozen=True)
class TreeListing:
    """The files of a tree, unread: (path, blob id) of each one to read, the sizes of those
    too large to read, and the symbolic links."""

    entries: list[tuple[str, str]]
    oversized: dict[str, int]
    links: tuple[str, ...] = ()


@dataclass(frozen=True)
class TreeFiles:
    """Files of a tree: their bytes, and the sizes of those too large to read."""

    contents: dict[str, bytes]
    oversized: dict[str, int]
    blobs: dict[str, str] = field(default_factory=dict)  # path → blob id, for those read
    links: tuple[str, ...] = ()  # symbolic links (never read: their text is no file)


def files_at(root: Path, ref: str, folder: str, *, max_bytes: int) -> TreeFiles:
    """Every file under ``folder`` at ``ref``, read in one ``git cat-file --batch`` process.

    Files over ``max_bytes`` are not read (a hostile commit cannot make us load a huge blob);
    symbolic links are skipped.
    """
    listing = files_listed(root, ref, folder, max_bytes=max_bytes)
    entries, oversized, links = listing.entries, listing.oversized, listing.links
    if not entries:
        return TreeFiles({}, oversized, links=links)
    blobs = read_blobs(root, [sha for _, sha in entries])
    files = {path: blobs[sha] for path, sha in entries if sha in blobs}
    found = {path: sha for path, sha in entries if sha in blobs}
    return TreeFiles(files, oversized, found, links)


def files_listed(root: Path, ref: str, folder: str, *, max_bytes: int) -> TreeListing:
    """Every file under ``folder`` at ``ref``, listed, not read (for :func:`stream_blobs`):
    those over ``max_bytes`` and symbolic links set apart, as :func:`files_at` does."""
    listing = run(root, ["ls-tree", "-r", "-l", "-z", "--full-tree", ref, "--", folder])
    entries = []
    oversized: dict[str, int] = {}
    links: list[str] = []
    for record in listing.stdout.split("\0"):
        if not record:
            continue
        meta, _, path = record.partition("\t")
        mode, kind, sha, size = meta.split()
        if kind == "blob" and mode == "120000":
            links.append(path)
            continue
        if kind != "blob":
            continue  # a submodule
        if int(size) > max_bytes:
            oversized[path] = int(size)
        else:
            entries.append((path, sha))
    return TreeListing(entries, oversized, tuple(links))


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


def tree_outside(root: Path, commit: str, folder: str | tuple[str, ...]) -> str:
    """A fingerprint of ``commit``'s tree without the top-level ``folder`` (or folders): equal
    for two commits exactly when everything outside them is identical (modes included)."""
    folders = (folder,) if isinstance(folder, str) else folder
    listing = run(root, ["ls-tree", "-z", commit]).stdout
    left_out = tuple("\t" + f for f in folders)
    kept = [entry for entry in listing.split("\0") if entry and not entry.endswith(left_out)]
    return hashlib.sha256("\0".join(kept).encode("utf-8", "surrogateescape")).hexdigest()
