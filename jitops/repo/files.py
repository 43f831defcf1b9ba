"""The files of an access repository: its folders, reading one file without following a
link or reading past the size limit, and walking a folder (what is not YAML is a finding)."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from jitops import request_files
from jitops.errors import InputError, UsageError
from jitops.findings import Finding, Severity
from jitops.loader import MAX_FILE_BYTES, check_size

REQUESTS_DIR = "requests"
POLICIES_DIR = "policies"
POLICY_TESTS_DIR = "policies/tests"
YAML_SUFFIXES = (".yaml", ".yml")
# Files a person may keep beside access files without jitops reading them.
IGNORED_NAMES = request_files.IGNORED_NAMES


LINK_REFUSED = "symbolic links are not allowed here — commit a regular file"


def read_file(
    root: Path,
    path: str,
    *,
    max_bytes: int = MAX_FILE_BYTES,
    too_big: str | None = None,
    plain: str = "a plain YAML file",
) -> bytes:
    """The bytes of regular file ``path`` of ``root``, at most ``max_bytes`` of them; a link, a
    device, a pipe or a folder is an ``InputError`` (commit ``plain`` instead), as is a file
    over the limit (``too_big`` says what to do, an access file's advice unless told)."""
    try:
        # O_NOFOLLOW: a link could pull in a file from outside the repository; refuse it.
        fd = os.open(os.path.join(root, path), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InputError(LINK_REFUSED, path=path) from None
        raise
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            raise InputError(f"not a regular file — commit {plain}", path=path)
        check_size(status.st_size, path, max_bytes, too_big)
        # plain reads, no file object: this runs for every file of the repository
        limit = max_bytes + 1
        raw = os.read(fd, limit)
        while len(raw) < limit and (more := os.read(fd, limit - len(raw))):
            raw += more
        check_size(len(raw), path, max_bytes, too_big)  # it may have grown while read
        return raw
    finally:
        os.close(fd)


def read_or_refuse(root: Path, path: str) -> bytes | list[Finding]:
    """The bytes of ``path``, or why they cannot be read (as findings)."""
    try:
        return read_file(root, path)
    except InputError as exc:
        return [Finding.from_input_error(exc)]
    except OSError as exc:
        return [Finding(path, Severity.ERROR, f"cannot read: {exc.strerror}")]


def walk(root: Path, folder: str, skip: str | None = None) -> tuple[list[str], list[Finding]]:
    """Files under ``folder`` (relative POSIX paths, sorted); non-YAML files are findings."""
    base = root / folder
    found: list[str] = []
    findings: list[Finding] = []
    for directory, dirnames, filenames in os.walk(base):
        rel_dir = Path(directory).relative_to(root).as_posix()
        # A link is refused whatever it points at (a folder, a file, nothing): git stores its
        # text, and what a checkout reads through it is not what was reviewed.
        links = {n for n in (*dirnames, *filenames) if os.path.islink(os.path.join(directory, n))}
        findings.extend(
            Finding(f"{rel_dir}/{name}", Severity.ERROR, LINK_REFUSED)
            for name in sorted(links)
            if not name.startswith(IGNORED_NAMES)
        )
        dirnames[:] = sorted(
            d
            for d in dirnames
            if not d.startswith(".") and f"{rel_dir}/{d}" != skip and d not in links
        )
        for name in filenames:
            path = f"{rel_dir}/{name}"
            if name in links:
                continue
            if name.endswith(YAML_SUFFIXES):
                found.append(path)
            elif not name.startswith(IGNORED_NAMES):
                findings.append(not_yaml(path, folder))
    return sorted(found), findings


def not_yaml(path: str, folder: str) -> Finding:
    hint = "rename it to .yaml or move it out"
    return Finding(path, Severity.ERROR, f"{folder}/ holds only YAML files", hint)


def write_regular_file(root: Path, relative: str, text: str, rerun: str) -> Path:
    """Write ``text`` to ``relative`` as a regular file of ``root`` and return its path: never
    through a link (a checkout's file or folder may point anywhere, e.g. at a file of the
    person who runs jitops), and never over anything but a regular file. ``rerun`` is the
    command to run again once the way is clear."""
    path = root / relative
    for folder in reversed(path.parents):
        if folder == root or root not in folder.parents:
            continue
        if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
            raise UsageError(
                f"{folder.relative_to(root).as_posix()} is not a folder of the repository (a "
                f"link?) — replace it with a folder, then run `{rerun}` again"
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    refused = UsageError(
        f"{relative} is not a regular file (a link, a folder or a device) — remove it, then "
        f"run `{rerun}` again"
    )
    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise refused
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_NONBLOCK
    try:  # O_NOFOLLOW: a link put there since the look above is refused all the same
        fd = os.open(path, flags, 0o644)
    except OSError:
        raise refused from None
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    return path
