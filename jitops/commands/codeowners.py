"""``jitops codeowners``: render (or write) .github/CODEOWNERS from the policies."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jitops import owners
from jitops.findings import Finding
from jitops.repo import load_policies


@dataclass(frozen=True)
class CodeownersResult:
    text: str | None  # None when the policies cannot be loaded
    findings: tuple[Finding, ...]
    written: Path | None = None


def render_codeowners(root: Path, write: bool = False) -> CodeownersResult:
    policies = load_policies(root)
    if policies.policy_set is None:
        return CodeownersResult(None, policies.findings)
    text = owners.render(policies.policy_set)
    written = None
    if write:
        written = owners.find(root) or root / owners.CODEOWNERS_LOCATIONS[0]
        written.parent.mkdir(parents=True, exist_ok=True)
        written.write_text(text, encoding="utf-8")
    return CodeownersResult(text, policies.findings, written)
