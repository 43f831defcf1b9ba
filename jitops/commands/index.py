"""``jitops index``: keep the request-id index (``refs/jitops/ids``) up to date, or check it.

``jitops apply`` runs the update on every push to the default branch and publishes it with the
evidence notes; this command does the same by hand (``--rebuild`` from the whole history), and
``--check`` rebuilds the ids from history and reports every way the stored index disagrees —
the audit of a ref that anyone with push access can write (see ``jitops.ids``).
"""

from __future__ import annotations

from jitops import ids
from jitops.ids import IndexOutcome


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
