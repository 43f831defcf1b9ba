"""The one error hierarchy of jitops, and the exit code each kind of error maps to.

Every error carries a message a person can act on. The CLI catches ``JitopsError`` at its single
boundary and exits with ``exit_code``; anything else is a bug and is reported as such (exit 3).
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes, the same for every subcommand."""

    OK = 0
    DENIED = 1  # policy says no, or a check found problems
    USAGE = 2  # bad usage or malformed input
    SYSTEM = 3  # a system failure: git, network, a target unreachable
    INTERRUPTED = 130


class JitopsError(Exception):
    """Base of every error jitops raises on purpose."""

    exit_code: ExitCode = ExitCode.SYSTEM

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(JitopsError):
    """The command was called wrongly, or its input is malformed."""

    exit_code = ExitCode.USAGE


class InputError(UsageError):
    """A file could not be read as what it should be; ``path`` and ``line`` say where."""

    def __init__(
        self, message: str, *, path: str, line: int | None = None, column: int | None = None
    ) -> None:
        where = path if line is None else f"{path}:{line}:{column or 1}"
        super().__init__(f"{where}: {message}")
        self.path = path
        self.line = line
        self.column = column
        self.detail = message


class PolicyDenied(JitopsError):
    """Policy says no."""

    exit_code = ExitCode.DENIED


class GitError(JitopsError):
    """Running git failed, or the repository is not in the state a command needs."""

    exit_code = ExitCode.SYSTEM
