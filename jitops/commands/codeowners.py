"""``jitops codeowners``: render (or write) .github/CODEOWNERS from the policies."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from jitops import owners
from jitops.errors import ExitCode, UsageError
from jitops.findings import Finding, exit_code
from jitops.repo import load_policies


@dataclass(frozen=True)
class CodeownersResult:
    text: str | None  # None when the policies cannot be loaded
    findings: tuple[Finding, ...]
    written: Path | None = None

    @property
    def exit_code(self) -> ExitCode:
        """Policies that do not load are bad input (nothing is rendered or written)."""
        if self.text is None:
            return exit_code(self.findings) or ExitCode.USAGE
        return ExitCode.OK


def render_codeowners(root: Path, write: bool = False) -> CodeownersResult:
    policies = load_policies(root)
    if policies.policy_set is None:
        return CodeownersResult(None, policies.findings)
    text = owners.render(policies.policy_set)
    written = None
    if write:
        written = owners.find(root) or root / owners.CODEOWNERS_LOCATIONS[0]
        _write_in_place(root, written, text)
    return CodeownersResult(text, policies.findings, written)


def _write_in_place(root: Path, path: Path, text: str) -> None:
    """Write ``text`` to ``path`` as a regular file of ``root``: never through a link (a
    checkout's CODEOWNERS or its folder may point anywhere, e.g. at a file of the person who
    runs this), and never over anything but a regular file."""
    relative = path.relative_to(root).as_posix()
    folder = path.parent
    if folder != root and (folder.is_symlink() or (folder.exists() and not folder.is_dir())):
        raise UsageError(
            f"{folder.relative_to(root).as_posix()} is not a folder of the repository (a link?) "
            f"— replace it with a folder, then run `jitops codeowners --write` again"
        )
    folder.mkdir(parents=True, exist_ok=True)
    refused = UsageError(
        f"{relative} is not a regular file (a link, a folder or a device) — remove it, then "
        f"run `jitops codeowners --write` again"
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
