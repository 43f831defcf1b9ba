"""``jitops index``: keep the request-id index (``refs/jitops/ids``) up to date, or check it.

``jitops apply`` runs the update on every push to the default branch and publishes it with the
evidence notes; this command does the same by hand (``--rebuild`` from the whole history), and
``--check`` rebuilds the ids from history and reports every way the stored index disagrees —
the audit of a ref that anyone with push access can write (see ``jitops.ids``).
"""

from __future__ import annotations

from dataclasses import dataclass

from jitops import ids
from jitops.errors import ExitCode, UsageError
from jitops.findings import Finding, exit_code
from jitops.ids import IndexCheck, IndexOptions, IndexOutcome


@dataclass(frozen=True)
class IndexRun:
    """What ``jitops index`` did: the update (extend, rebuild, push), or, with ``--check``,
    how the stored index compares with history and the findings where it disagrees."""

    outcome: IndexOutcome | None = None
    checked: bool = False
    check: IndexCheck | None = None  # None when checked: there is no index
    findings: tuple[Finding, ...] = ()

    @property
    def exit_code(self) -> ExitCode:
        return exit_code(self.findings) if self.checked else ExitCode.OK


def run_index(options: IndexOptions, *, check: bool = False) -> IndexRun:
    """Update the index as ``options`` say, or (``check``) compare it with history, writing
    nothing."""
    if not check:
        return IndexRun(outcome=ids.refresh(options))
    if options.rebuild or options.push:
        raise UsageError("--check writes nothing: give it without --rebuild and --push")
    found = ids.verify(options.root, options.branch)
    return IndexRun(checked=True, check=found, findings=tuple(ids.check_findings(found)))
