"""What ``jitops doctor`` reports, shared by its check areas (``jitops.commands.doctor``): the
areas, one line of the report, and a finding of the loader or validate as such a line.

It sits below the commands, as other result types do, so the area modules share it without
importing one another or the package's ``__init__``, which imports them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from jitops.findings import Finding, Severity
from jitops.provisioners.interface import CheckStatus

WORKFLOWS_DIR: Final = ".github/workflows"


class Area(StrEnum):
    POLICIES = "policies"
    CODEOWNERS = "codeowners"
    TARGETS = "targets"
    WORKFLOWS = "workflows"
    GITHUB = "github"
    INDEX = "index"
    SWEEP = "sweep"


@dataclass(frozen=True)
class DoctorCheck:
    """One line of the report: what was checked, the outcome and, if wrong, how to fix it."""

    area: Area
    name: str
    status: CheckStatus
    message: str
    fix: str | None = None


_STATUS_OF_SEVERITY = {
    Severity.ERROR: CheckStatus.ERROR,
    Severity.DENIED: CheckStatus.ERROR,
    Severity.WARNING: CheckStatus.WARNING,
}


def from_finding(area: Area, finding: Finding) -> DoctorCheck:
    return DoctorCheck(
        area, finding.location, _STATUS_OF_SEVERITY[finding.severity], finding.message, finding.hint
    )
