"""The documents jitops writes for machines, as pydantic models: their JSON Schema is what
``jitops schema audit`` exports, and tests hold what the renderers write to it."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Output(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FindingOutput(_Output):
    """A problem met, where it is and how to fix it."""

    path: str
    line: int | None
    column: int | None
    severity: Literal["error", "denied", "warning"]
    message: str
    hint: str | None


class AuditGrantOutput(_Output):
    """One grant in history: a request file's content that landed on the branch."""

    id: str = Field(description="the request's id")
    requester: str = Field(description="the GitHub login that held the access")
    target: str
    role: str
    justification: str
    ticket: str | None
    landed_commit: str = Field(description="the commit that landed it on the branch")
    from_: datetime | None = Field(alias="from", description="when access began (UTC)")
    until: datetime | None = Field(
        description="when access ended: the window's end, or the file's removal if earlier"
    )
    revoked_at: datetime | None = Field(
        description="when apply or the sweep recorded revoking it at the target, if recorded"
    )
    removed_commit: str | None = Field(description="the commit that removed or replaced it")
    pull_request: int | None = Field(description="the pull request apply verified it from")
    approvers: list[str] = Field(description="the logins of the approvers apply counted")
    auto_approved: bool
    policy_commit: str | None = Field(description="the commit whose policies judged it")
    problem: str | None = Field(description="why it has no valid approval evidence, if not")
    unrecorded: bool = Field(
        description="true: this clone holds no evidence notes, so whether apply verified it "
        "is not known here"
    )


class AuditActionOutput(_Output):
    """One action request on the branch, and what the records say became of it."""

    id: str = Field(description="the action request's id")
    requester: str = Field(description="the GitHub login that asked for it")
    target: str
    action: str
    path: str = Field(description="its file on the branch")
    landed_commit: str | None = Field(description="the commit that landed it on the branch")
    pull_request: int | None = Field(description="the pull request apply verified it from")
    approvers: list[str] = Field(description="the logins of the approvers apply counted")
    state: str = Field(
        description="performed, failed, started (its outcome was never recorded) or pending "
        "(no run recorded a step)"
    )
    at: datetime | None = Field(description="when its outcome (or last step) was recorded")
    identity: str | None = Field(description="who it ran as on the target")
    rows_affected: int | None
    digest: str | None = Field(description="the SHA-256 digest of its recorded result")
    error: str | None = Field(description="why it failed (redacted), if it did")


class AuditOutput(_Output):
    """``jitops audit --format json``."""

    commit: str = Field(description="the commit whose history was read")
    evidence_known: bool = Field(
        description="false: the clone lacks the evidence notes and origin's could not be read"
    )
    findings: list[FindingOutput] = Field(description="problems met reading history")
    grants: list[AuditGrantOutput] = Field(description="every grant asked about, oldest first")
    actions: list[AuditActionOutput] = Field(
        description="every action request asked about, on the branch, by path"
    )


OUTPUT_SCHEMAS: dict[str, type[BaseModel]] = {"audit": AuditOutput}
