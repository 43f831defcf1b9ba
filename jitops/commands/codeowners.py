"""``jitops codeowners``: render (or write) .github/CODEOWNERS from the policies."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jitops import owners
from jitops.errors import ExitCode
from jitops.findings import Finding, exit_code
from jitops.repo import load_policies
from jitops.repo.files import write_regular_file


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
        found = owners.find(root) or root / owners.CODEOWNERS_LOCATIONS[0]
        relative = found.relative_to(root).as_posix()
        written = write_regular_file(root, relative, text, "jitops codeowners --write")
    return CodeownersResult(text, policies.findings, written)
