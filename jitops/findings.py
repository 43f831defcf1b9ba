"""Findings: what a check found wrong in a file, where, and how to fix it.

Checks collect findings instead of raising at the first problem, so one run reports every bad
file. The exit code follows from the worst finding.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from jitops.errors import ExitCode, InputError


class Severity(StrEnum):
    ERROR = "error"  # malformed input: the file cannot be read as what it should be
    DENIED = "denied"  # well-formed, but the policies (or the repository's rules) say no
    WARNING = "warning"  # worth knowing; does not fail the run


@dataclass(frozen=True)
class Finding:
    path: str
    severity: Severity
    message: str
    hint: str | None = None
    line: int | None = None
    column: int | None = None

    @property
    def location(self) -> str:
        if self.line is None:
            return self.path
        return f"{self.path}:{self.line}:{self.column or 1}"

    @property
    def text(self) -> str:
        """``message — hint``: what is wrong, then how to fix it."""
        return f"{self.message} — {self.hint}" if self.hint else self.message

    @classmethod
    def from_input_error(cls, error: InputError) -> Finding:
        message, _, hint = error.detail.partition(" — ")
        return cls(
            path=error.path,
            severity=Severity.ERROR,
            message=message,
            hint=hint or None,
            line=error.line,
            column=error.column,
        )


def exit_code(findings: Iterable[Finding]) -> ExitCode:
    """2 when any input is malformed, else 1 when anything is denied, else 0."""
    severities = {f.severity for f in findings}
    if Severity.ERROR in severities:
        return ExitCode.USAGE
    if Severity.DENIED in severities:
        return ExitCode.DENIED
    return ExitCode.OK
