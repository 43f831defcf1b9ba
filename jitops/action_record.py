"""What apply did with each action request, in git: ``refs/notes/jitops-actions``, one JSON
line per step on the commit that landed the request — ``started`` before anything runs, then
``performed`` or ``failed`` with the result's digest, timing and identity.

The record is what makes an action run once. Apply performs a landed action request only when
no run recorded one for its id, and records ``started`` (pushed, in the workflow) before it
performs: a run that dies between starting and recording the outcome leaves ``started``, and
no later run performs it again — the outcome is then unknown, and said so. Like the evidence
notes these are records any writer could push; a forged ``started`` can only stop an action
from running, never make one run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from jitops import git
from jitops.models import LOGIN_PATTERN
from jitops.policy import approvers_named


@dataclass(frozen=True)
class ActionStep:
    request_id: str
    path: str
    blob: str  # the landed file's git blob: the exact content approved and performed
    state: str  # "started", "performed" or "failed"
    at: datetime
    details: dict[str, Any]  # the result's digest, identity, rows, error (after starting)

    def line(self) -> str:
        return json.dumps(
            {
                "id": self.request_id,
                "path": self.path,
                "blob": self.blob,
                "state": self.state,
                "at": self.at.isoformat(),
                **self.details,
            },
            sort_keys=True,
        )


def record(root: Path, commit: str, step: ActionStep) -> None:
    """Add ``step`` to the note on ``commit``, keeping the lines already there."""
    earlier = git.notes(root, ref=git.ACTIONS_REF, commits=[commit]).get(commit, b"")
    kept = [line for line in earlier.decode("utf-8", "replace").splitlines() if line.strip()]
    git.add_note(root, commit, "\n".join([*kept, step.line()]) + "\n", ref=git.ACTIONS_REF)


def recorded_ids(root: Path) -> dict[str, str]:
    """Every action request id any run recorded a step for → its last recorded state. A line
    that cannot be read still names its id where it can: the action is not run again."""
    found: dict[str, str] = {}
    for raw in git.notes(root, ref=git.ACTIONS_REF).values():
        for line in raw.decode("utf-8", "replace").splitlines():
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except ValueError:
                continue
            if isinstance(data, dict) and isinstance(data.get("id"), str):
                state = data.get("state")
                if found.get(data["id"]) in (None, "started"):
                    found[data["id"]] = state if isinstance(state, str) else "unknown"
    return found


@dataclass(frozen=True)
class ActionOnBranch:
    """An action request file on the branch, and what the records say apply did with it."""

    path: str
    request_id: str
    requester: str
    target: str
    action: str
    landed: str | None  # the commit that landed it
    state: str  # the last recorded step: performed, failed, started (outcome unknown), or
    # "pending": no run recorded a step (approved and merged, apply not run or refused it)
    steps: tuple[dict[str, Any], ...]  # every recorded step, oldest first

    @property
    def outcome(self) -> dict[str, Any]:
        """The step that says what became of it: its outcome (performed, failed) once one is
        on record, else its last step; empty when none was recorded."""
        return _outcome_of(self.steps)

    @property
    def approvers(self) -> tuple[str, ...]:
        """Who approved it, as apply counted when performing it (the people, never the teams
        the rule asked of); older records name them only inside the approval checks' text."""
        found: list[str] = []
        for step in self.steps:
            listed = step.get("approvers")
            if isinstance(listed, list):
                found += [str(login) for login in listed]
            else:
                found += [a for d in step.get("approved") or () for a in approvers_named(str(d))]
        # a record is a note anyone who can push may write: a login is a login, or nothing
        return tuple(dict.fromkeys(a for a in found if _LOGIN.fullmatch(a)))

    @property
    def at(self) -> datetime | None:
        """When its outcome (or its last step) was recorded."""
        step = self.outcome
        return _moment(step.get("at")) or _moment(step.get("finished_at"))

    @property
    def pull_request(self) -> int | None:
        number = next((s.get("pull_request") for s in self.steps if s.get("pull_request")), None)
        return number if isinstance(number, int) else None

    def detail(self, key: str) -> str | None:
        """A field of its outcome's record as text (digest, identity, error), None if absent."""
        value = self.outcome.get(key)
        return None if value is None else str(value)

    @property
    def rows_affected(self) -> int | None:
        value = self.outcome.get("rows_affected")
        return value if isinstance(value, int) and not isinstance(value, bool) else None


def _moment(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def actions_on(root: Path, ref: str = "HEAD") -> list[ActionOnBranch]:
    """Every action request file at ``ref``, with its recorded steps (from this clone's
    notes: fetch ``refs/notes/jitops-actions`` for origin's)."""
    from jitops.repo.action_loading import ACTIONS_DIR, ActionFile, parse_action

    if git.resolve(root, ref) is None:
        return []
    tree = git.files_at(root, ref, ACTIONS_DIR, max_bytes=1024 * 1024)
    paths = sorted(tree.contents)
    if not paths:
        return []
    landed = git.landings(root, ref, [ACTIONS_DIR], wanted=paths)
    steps: dict[str, list[dict[str, Any]]] = {}
    for raw in git.notes(root, ref=git.ACTIONS_REF).values():
        for line in raw.decode("utf-8", "replace").splitlines():
            try:
                data = json.loads(line) if line.strip() else None
            except ValueError:
                continue
            if isinstance(data, dict) and isinstance(data.get("id"), str):
                steps.setdefault(data["id"], []).append(data)
    found = []
    for path in paths:
        loaded = parse_action(tree.contents[path], path)
        if not isinstance(loaded, ActionFile):
            continue
        request = loaded.request
        recorded = steps.get(request.id, [])  # in the order runs appended them
        state = _state_of(_outcome_of(recorded)) if recorded else "pending"
        landing = landed.get(path)
        found.append(
            ActionOnBranch(
                path,
                request.id,
                request.requester,
                request.target,
                request.action,
                landing.commit if landing else None,
                state,
                tuple(recorded),
            )
        )
    return found


STATES = ("started", "performed", "failed")
_LOGIN = re.compile(LOGIN_PATTERN)


def _state_of(step: dict[str, Any]) -> str:
    """A step's state as recorded, or ``unknown`` for anything a run never writes."""
    state = step.get("state")
    return state if isinstance(state, str) and state in STATES else "unknown"


def _outcome_of(recorded: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """What became of it: an outcome (performed, failed) once one is on record, whatever the
    clocks of the runs said; else the last step (``started``: the outcome is unknown)."""
    outcomes = [s for s in recorded if s.get("state") not in ("started", None)]
    return (outcomes or list(recorded) or [{}])[-1]
