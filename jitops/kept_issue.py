"""One issue kept open for a standing problem: opened once, edited in place by every run while
the problem lasts, closed with a comment when it is gone.

An issue is jitops' when it carries the label *and* the marker in its body. GitHub has no way
to create an issue only if none exists, so two runs at once may both open one: each then lists
again, keeps the oldest and closes the others as duplicates, so one stays open.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jitops.github import GitHub, IssueInfo


class IssueAction(StrEnum):
    OPENED = "opened"
    UPDATED = "updated"
    CLOSED = "closed"


@dataclass(frozen=True)
class KeptIssue:
    """The issue, and what this run did to it."""

    issue: IssueInfo
    action: IssueAction
    warnings: tuple[str, ...] = ()  # what GitHub refused, and the fix
    changed: bool = True  # it says something new: opened, closed, or its body changed
    previous_body: str | None = None  # what it said before this run updated it


def ours(github: GitHub, label: str, marker: str) -> list[IssueInfo]:
    """jitops' open issues for ``label``, oldest first."""
    return sorted(
        (i for i in github.open_issues(label) if marker in i.body), key=lambda i: i.number
    )


def keep(github: GitHub, label: str, marker: str, title: str, body: str, *, what: str) -> KeptIssue:
    """Open the issue (``body`` must hold ``marker``), or bring the open one up to date;
    ``what`` says what it lists, for the warnings."""
    found = ours(github, label, marker)
    if not found:
        created = github.create_issue(title, body, [label])
        found = ours(github, label, marker) or [created]
        if found[0].number == created.number:
            warnings: tuple[str, ...] = ()
            if label not in created.labels:  # GitHub drops labels silently
                warnings = (
                    f"issue #{created.number} {what} could not be labelled {label}, so later runs "
                    "cannot find it and will open another — give the token push access "
                    "(issues: write under Actions), or label it by hand",
                )
            return KeptIssue(created, IssueAction.OPENED, warnings)
    keeper, extra = found[0], found[1:]
    changed = keeper.body != body
    github.edit_issue(keeper.number, title=title, body=body)
    for duplicate in extra:  # left by runs at the same moment
        github.comment(duplicate.number, f"Duplicate of #{keeper.number}.\n")
        github.edit_issue(duplicate.number, state="closed", state_reason="duplicate")
    return KeptIssue(keeper, IssueAction.UPDATED, changed=changed, previous_body=keeper.body)


def close(github: GitHub, found: list[IssueInfo], comment: str) -> KeptIssue | None:
    """Close the issues ``found`` (see ``ours``) with ``comment``; None when there were none."""
    for issue in found:
        github.comment(issue.number, comment)
        github.edit_issue(issue.number, state="closed", state_reason="completed")
    return KeptIssue(found[0], IssueAction.CLOSED) if found else None
