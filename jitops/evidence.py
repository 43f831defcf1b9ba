"""Approval evidence kept in git itself (invariant 8).

When ``jitops apply`` has re-verified a merged pull request, it attaches a note to the merge
commit under ``refs/notes/jitops``: which pull request, its head commit, the policy commit it
was judged by, the verdict, and for each request the approvers and their review ids. Notes live
outside the branch, so writing them needs no bypass of branch protection, and they travel with
``git fetch origin refs/notes/jitops:refs/notes/jitops``. With them, ``jitops audit`` answers
"who had what, when, approved by whom, under which policy" from the repository alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from jitops import git

EVIDENCE_VERSION: Literal[1] = 1


class _Evidence(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Approver(_Evidence):
    login: str
    review_id: int | None = None
    teams: list[str] = Field(default_factory=list)


class RequestEvidence(_Evidence):
    id: str
    path: str
    # The git blob id of the exact file apply judged: a grant is bound to that content, and
    # any other content at the same path (an edit in place) is not what was approved.
    blob: str | None = None
    verdict: Literal["allowed", "pending", "denied"]
    reason: str
    policy: str | None = None
    approvers: list[Approver] = Field(default_factory=list)
    auto_approved: bool = False
    # Verified, but the grant through the target failed (the run says why): no access exists.
    # The run that later grants it records its evidence again, without this.
    grant_failed: str | None = None


class ApprovalEvidence(_Evidence):
    """What apply verified about the pull request behind one merge commit."""

    version: Literal[1] = EVIDENCE_VERSION
    pull_request: int | None  # None: the change reached the branch without a pull request
    head_sha: str | None
    policy_commit: str | None
    verified_at: AwareDatetime
    verified_by: str
    verdict: Literal["allowed", "pending", "denied"]
    summary: str
    requests: list[RequestEvidence] = Field(default_factory=list)

    def for_request(self, request_id: str) -> RequestEvidence | None:
        return next((r for r in self.requests if r.id == request_id), None)


def record(root: Path, commit: str, evidence: ApprovalEvidence) -> None:
    """Attach ``evidence`` to ``commit`` (a rerun replaces it with the same facts)."""
    git.add_note(root, commit, evidence.model_dump_json(indent=2) + "\n")


def present(root: Path) -> bool:
    """Whether this clone holds the evidence notes at all (a fresh clone does not fetch them)."""
    return git.resolve(root, git.NOTES_REF) is not None


FETCH_NOTES = f"git fetch origin {git.NOTES_REF}:{git.NOTES_REF}"


def read_for(root: Path, commits: Iterable[str]) -> dict[str, ApprovalEvidence | str]:
    """The evidence notes of ``commits`` (those that have one): commit → evidence, or why its
    note cannot be read. Only the notes asked for are read and parsed."""
    wanted = set(commits)
    found: dict[str, ApprovalEvidence | str] = {}
    for commit, raw in git.notes(root, commits=wanted).items():
        found[commit] = parse_note(raw)
    return found


def read_all(root: Path) -> tuple[dict[str, ApprovalEvidence], dict[str, str]]:
    """Every evidence note: (commit → evidence, commit → why its note cannot be read)."""
    found: dict[str, ApprovalEvidence] = {}
    broken: dict[str, str] = {}
    for commit, raw in git.notes(root).items():
        parsed = parse_note(raw)
        if isinstance(parsed, str):
            broken[commit] = parsed
        else:
            found[commit] = parsed
    return found, broken


def parse_note(raw: bytes) -> ApprovalEvidence | str:
    """One evidence note's bytes as evidence, or why they cannot be read as evidence."""
    try:  # parsed and validated in one pass by pydantic's own JSON reader (the audit reads
        # one note per merge: tens of thousands)
        return ApprovalEvidence.model_validate_json(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        return f"unreadable evidence note: {where + ': ' if where else ''}{first['msg']}"
    except ValueError as exc:
        return f"unreadable evidence note: {str(exc).splitlines()[0]}"
