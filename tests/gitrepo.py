"""Small helpers for tests that drive real git repositories in ``tmp_path``."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]


def git(root: Path, *args: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=True, env=env
    )
    return result.stdout


def init_repo(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "commit.gpgsign", "false")
    return root


def commit_all(root: Path, message: str = "change", *, date: str | None = None) -> str:
    """Commit everything in the work tree; ``date`` (ISO-8601) sets author and committer time."""
    import os

    env = dict(os.environ)
    if date is not None:
        env["GIT_AUTHOR_DATE"] = date
        env["GIT_COMMITTER_DATE"] = date
    git(root, "add", "-A")
    git(root, "commit", "-q", "--allow-empty", "-m", message, env=env)
    return git(root, "rev-parse", "HEAD").strip()


def make_access_repo(root: Path, *, with_requests: bool = False) -> Path:
    """A git repository holding a copy of jitops' example policies and CODEOWNERS, committed."""
    init_repo(root)
    shutil.copytree(PROJECT / "policies", root / "policies")
    (root / ".github").mkdir()
    shutil.copy(PROJECT / ".github" / "CODEOWNERS", root / ".github" / "CODEOWNERS")
    if with_requests:
        shutil.copytree(PROJECT / "requests", root / "requests")
    else:
        (root / "requests").mkdir()
    commit_all(root, "access repository", date="2026-11-01T00:00:00Z")
    return root


def drop_example_actions(root: Path) -> None:
    """Take the example ``actions:`` block (and the comment above it) out of sandbox-db.yaml,
    for tests that write the actions they check, or check access roles alone."""
    policy = root / "policies" / "sandbox-db.yaml"
    lines = policy.read_text(encoding="utf-8").splitlines(keepends=True)
    end = lines.index("actions:\n")
    while end > 0 and lines[end - 1].startswith("#"):
        end -= 1
    policy.write_text("".join(lines[:end]), encoding="utf-8")


def write_request(
    root: Path,
    request_id: str,
    *,
    target: str = "sandbox-db",
    role: str = "readonly",
    requester: str = "alice",
    **fields: str,
) -> Path:
    """Write a valid request file (``fields`` add or replace YAML keys, as raw YAML text)."""
    values = {
        "apiVersion": "jitops/v1",
        "kind": "AccessRequest",
        "id": request_id,
        "requester": requester,
        "target": target,
        "role": role,
        "justification": "Investigate INC-1234, slow queries on the orders table",
        "duration": "2h",
    }
    values.update(fields)
    text = "".join(f"{key}: {value}\n" for key, value in values.items() if value != "")
    path = root / "requests" / target / role / f"{request_id}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def write_teamless_policies(root: Path) -> Path:
    """Minimal valid policies naming no team: an ``exec`` target ``box`` without secrets,
    its auto-approved role ``op``, and a PolicyChangeRule approved by user carol."""
    policies = root / "policies"
    policies.mkdir(parents=True)
    (policies / "target.yaml").write_text(
        "apiVersion: jitops/v1\nkind: Target\nname: box\nprovisioner: exec\nroles: [op]\n"
        "settings: {command: [/bin/true]}\n"
    )
    (policies / "policy.yaml").write_text(
        "apiVersion: jitops/v1\nkind: Policy\nname: box\ntargets: [box]\n"
        "requesters: [alice, bob]\nroles:\n  op: {max_duration: 1h, auto_approve: true}\n"
    )
    (policies / "changes.yaml").write_text(
        "apiVersion: jitops/v1\nkind: PolicyChangeRule\napprovals: [{count: 1, from: [carol]}]\n"
    )
    return root


def record_applied(root: Path, ref: str = "HEAD", *, only: set[str] | None = None) -> None:
    """Record evidence notes as ``jitops apply`` does once it verified every request (or the
    ids in ``only``) as the branch holds it at ``ref``: each bound to its landing commit and
    its exact content. For tests of the readers, which trust only what apply verified."""
    from datetime import UTC, datetime

    from jitops import evidence
    from jitops.ledger import read_ledger

    by_commit: dict[str, list[evidence.RequestEvidence]] = {}
    for entry in read_ledger(root, ref).entries:
        if entry.landing is None or (only is not None and entry.request.id not in only):
            continue
        by_commit.setdefault(entry.landing.commit, []).append(
            evidence.RequestEvidence(
                id=entry.request.id,
                path=entry.path,
                blob=entry.blob,
                verdict="allowed",
                reason="auto-approved",
                auto_approved=True,
            )
        )
    known, _ = evidence.read_all(root)
    for commit, records in by_commit.items():
        earlier = known.get(commit)
        kept = [
            r for r in (earlier.requests if earlier else []) if r.id not in {x.id for x in records}
        ]
        evidence.record(
            root,
            commit,
            evidence.ApprovalEvidence(
                pull_request=None,
                head_sha=None,
                policy_commit=git(root, "rev-parse", f"{commit}^").strip(),
                verified_at=datetime(2026, 11, 1, tzinfo=UTC),
                verified_by="tests",
                verdict="allowed",
                summary="verified",
                requests=[*kept, *records],
            ),
        )


def land_action(
    root: Path,
    request_id: str,
    *,
    requester: str = "alice",
    date: str = "2026-11-23T09:00:00Z",
    pull_request: int | None = None,
    **outcome: object,
) -> str:
    """Commit an action request (fix-order-state on sandbox-db) and, given an ``outcome``
    (``state=`` and the result's fields), record a started step and that outcome as apply
    does; returns the landing commit."""
    from datetime import datetime

    from jitops.action_record import ActionStep, record

    path = f"actions/sandbox-db/fix-order-state/{request_id}.yaml"
    (root / path).parent.mkdir(parents=True, exist_ok=True)
    (root / path).write_text(
        "apiVersion: jitops/v1\nkind: ActionRequest\n"
        f"id: {request_id}\nrequester: {requester}\ntarget: sandbox-db\n"
        "action: fix-order-state\njustification: Order 1002 is stuck in payment\n"
        "ticket: INC-4211\nsql: |\n  UPDATE orders SET state = 'paid' WHERE id = 1002;\n",
        encoding="utf-8",
    )
    suffix = f" (#{pull_request})" if pull_request else ""
    commit = commit_all(root, f"action {request_id}{suffix}", date=date)
    if outcome:
        blob = git(root, "rev-parse", f"{commit}:{path}")
        at = datetime.fromisoformat(date.replace("Z", "+00:00"))
        approval = {"approvers": ["bob"], "pull_request": pull_request}
        state = str(outcome.pop("state", "performed"))
        record(root, commit, ActionStep(request_id, path, blob, "started", at, approval))
        record(root, commit, ActionStep(request_id, path, blob, state, at, {**approval, **outcome}))
    return commit
