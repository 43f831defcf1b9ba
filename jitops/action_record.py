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
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from jitops import git


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
        state = _last_state(recorded)
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


def _last_state(recorded: list[dict[str, Any]]) -> str:
    """What became of it: an outcome (performed, failed) once one is on record, whatever the
    clocks of the runs said; else the last step (``started``: the outcome is unknown)."""
    if not recorded:
        return "pending"
    outcomes = [s for s in recorded if s.get("state") not in ("started", None)]
    return str((outcomes or recorded)[-1].get("state", "unknown"))
