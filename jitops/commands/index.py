"""``jitops index``: keep the request-id index (``refs/jitops/ids``) up to date, or check it.

``jitops apply`` runs the update on every push to the default branch and publishes it with the
evidence notes; this command does the same by hand (``--rebuild`` from the whole history), and
``--check`` rebuilds the ids from history and reports every way the stored index disagrees —
the audit of a ref that anyone with push access can write (see ``jitops.ids``).
"""

from __future__ import annotations

from jitops import ids
from jitops.findings import Finding, Severity
from jitops.ids import REBUILD_HINT, IndexOutcome


def describe(outcome: IndexOutcome) -> str:
    """One line: what happened to the index."""
    update = outcome.update
    index = update.index
    covers = f"{len(index.ids):,} id(s) up to {index.covers[:12]}"
    if update.how is ids.Update.UNCHANGED:
        text = f"request-id index unchanged: {covers}"
    elif update.how is ids.Update.EXTENDED:
        text = (
            f"request-id index extended over {(update.previous or '')[:12]}..{index.covers[:12]}"
            f": {covers}, {update.added:,} new"
        )
    else:
        text = f"request-id index rebuilt from the whole history ({update.reason}): {covers}"
    return text + (f"; pushed {ids.INDEX_REF}" if outcome.pushed else "")


def _listed(names: tuple[str, ...]) -> str:
    shown = ", ".join(names[:10])
    return shown + (f" and {len(names) - 10} more" if len(names) > 10 else "")


def check_findings(check: ids.IndexCheck | None) -> list[Finding]:
    """Findings for an index that disagrees with history (none when it agrees or is absent).

    Hidden ids (used, but not in the index) are what a forged index would use to let a replay
    through the gate's fast check; invented ids would refuse fresh requests. An index the gate
    cannot use at all (malformed, not in the branch's history) weakens nothing — the check
    falls back to the whole history — so it is a warning.
    """
    if check is None:
        return []
    where = ids.INDEX_REF
    if check.problem is not None:
        return [
            Finding(
                where,
                Severity.WARNING,
                f"not used by the replay check: {check.problem}",
                "rebuild it with `jitops index --rebuild --push`",
            )
        ]
    findings = []
    if check.hidden:
        findings.append(
            Finding(
                where,
                Severity.DENIED,
                f"hides {len(check.hidden)} request id(s) used in the history of "
                f"{(check.covers or '')[:12]}: {_listed(check.hidden)}",
                REBUILD_HINT,
            )
        )
    if check.invented:
        findings.append(
            Finding(
                where,
                Severity.DENIED,
                f"lists {len(check.invented)} request id(s) never used in the history of "
                f"{(check.covers or '')[:12]}: {_listed(check.invented)}",
                REBUILD_HINT,
            )
        )
    return findings
