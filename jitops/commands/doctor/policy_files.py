"""Doctor's ``policies`` and ``codeowners`` areas: the files under ``policies/`` load
(``load_policies``' own findings), and ``.github/CODEOWNERS`` is what the policies render
(validate's rule, ``owners.codeowners_findings``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from jitops.doctor_checks import Area, DoctorCheck, from_finding
from jitops.findings import Finding
from jitops.owners import codeowners_findings
from jitops.policy import PolicySet
from jitops.provisioners.interface import CheckStatus


def policy_checks(findings: Sequence[Finding], files: int, *, loaded: bool) -> list[DoctorCheck]:
    checks = []
    if loaded:
        checks.append(
            DoctorCheck(Area.POLICIES, "policies/", CheckStatus.OK, f"{files} policy file(s) load")
        )
    checks += [from_finding(Area.POLICIES, f) for f in findings]
    return checks


def codeowners_checks(root: Path, policy_set: PolicySet | None) -> list[DoctorCheck]:
    """CODEOWNERS against what the policies render; not checked when they do not load."""
    if policy_set is None:
        return [
            DoctorCheck(
                Area.CODEOWNERS,
                "CODEOWNERS",
                CheckStatus.WARNING,
                "not checked, because the policies have errors",
                "fix the errors in policies/ first",
            )
        ]
    found = codeowners_findings(root, policy_set)
    return [from_finding(Area.CODEOWNERS, f) for f in found] or [
        DoctorCheck(Area.CODEOWNERS, "CODEOWNERS", CheckStatus.OK, "in sync with the policies")
    ]
