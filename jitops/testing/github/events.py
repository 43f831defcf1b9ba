"""Webhook payloads for what happened on the server, as GitHub Actions hands them to a workflow.

``build_event`` turns a ``hub.EventRecord`` into an ``Event`` at the moment it happens, so the
payload is a snapshot (a ``synchronize`` payload keeps the head it announced). Payloads are
shaped like ``shared/github/webhook-examples`` and validated against the webhook schemas of
GitHub's OpenAPI description by the test suite. ``Event.actions_env`` gives the environment a
workflow step would see (``GITHUB_EVENT_NAME``, ``GITHUB_EVENT_PATH``, ``GITHUB_SHA``...).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jitops.testing.github.gitstore import ZERO_SHA, GitStore
from jitops.testing.github.hub import EventRecord
from jitops.testing.github.render import JSON, Renderer, iso
from jitops.testing.github.state import Repository


@dataclass(frozen=True)
class Event:
    """One webhook delivery: its event name, action, and JSON payload."""

    name: str
    action: str | None
    payload: dict[str, Any]
    sha: str
    ref: str

    def write(self, path: Path) -> Path:
        """Write the payload where ``GITHUB_EVENT_PATH`` will point."""
        path.write_text(json.dumps(self.payload, indent=2))
        return path

    def actions_env(self, event_path: Path, token: str) -> dict[str, str]:
        """The environment GitHub Actions gives a step for this event (writes the payload)."""
        self.write(event_path)
        repository = self.payload["repository"]
        return {
            "GITHUB_ACTIONS": "true",
            "GITHUB_EVENT_NAME": self.name,
            "GITHUB_EVENT_PATH": str(event_path),
            "GITHUB_SHA": self.sha,
            "GITHUB_REF": self.ref,
            "GITHUB_REPOSITORY": repository["full_name"],
            "GITHUB_REPOSITORY_OWNER": repository["owner"]["login"],
            "GITHUB_TOKEN": token,
        }


def build_event(render: Renderer, record: EventRecord) -> Event:
    """The payload for ``record``, rendered from the server's state now."""
    hub = render.hub
    repo = hub.state.repo_by_id(record.repo_id)
    repository = _webhook_repository(render, repo)
    sender = render.simple_user(record.sender) if record.sender in hub.state.users else None
    if record.name == "push":
        return _push(render, record, repository, sender)
    assert record.number is not None
    pr = hub.pull(repo, record.number)
    # Review events carry the pull request as lists show it; pull_request events in full.
    pull = render.pull(repo, pr) if record.name == "pull_request" else render.pull_simple(repo, pr)
    payload: JSON = {"action": record.action}
    if record.name == "pull_request":
        payload["number"] = pr.number
        if record.action == "synchronize":
            payload["before"] = record.before or pr.base_sha
            payload["after"] = pr.head_sha
    else:
        assert record.review_id is not None
        review = render.review(repo, hub.state.reviews[record.review_id])
        # Webhook payloads spell review states in lower case (REST: "APPROVED").
        payload["review"] = review | {"state": review["state"].lower()}
    payload |= {"pull_request": pull, "repository": repository, "sender": sender}
    # Actions runs pull_request(_review) workflows on the test merge (refs/pull/N/merge); once
    # merged, on the merge commit.
    merge = hub.merge_ref_sha(repo, pr.number)
    sha = (pr.merge_commit_sha if pr.merged else merge) or pr.head_sha
    ref = f"refs/pull/{pr.number}/merge"
    return Event(record.name, record.action, payload, sha, ref)


def _webhook_repository(render: Renderer, repo: Repository, *, org_login: bool = False) -> JSON:
    body = render.repository(repo)
    body.pop("permissions", None)
    # The description has a push's repository name its organization by login; elsewhere the
    # event's repository has the user object.
    if org_login and "organization" in body:
        body["organization"] = repo.owner
    return body


def _push(render: Renderer, record: EventRecord, repository: JSON, sender: JSON | None) -> Event:
    repo = render.hub.state.repo_by_id(record.repo_id)
    store = GitStore(repo.path)
    before, after = record.before or ZERO_SHA, record.after or ZERO_SHA
    created, deleted = before == ZERO_SHA, after == ZERO_SHA
    shas: list[str] = []
    if not deleted:
        shas = store.commits_between(before, after) if not created else [after]
    commits = [_push_commit(render, repo, store, sha) for sha in shas]
    forced = not created and not deleted and not store.is_ancestor(before, after)
    # In push payloads GitHub gives the repository's times as epoch seconds.
    repository = _webhook_repository(render, repo, org_login=True)
    for key in ("network_count", "subscribers_count"):
        del repository[key]
    repository |= {
        "created_at": int(repo.created_at.timestamp()),
        "pushed_at": int(store.commit(after).committer.date.timestamp()) if not deleted else None,
        "stargazers": 0,
        "master_branch": repo.default_branch,
    }
    pusher = render.hub.state.users.get(record.sender)
    payload: JSON = {
        "ref": record.ref,
        "before": before,
        "after": after,
        "created": created,
        "deleted": deleted,
        "forced": forced,
        "base_ref": None,
        "compare": f"{render.web}/{repo.full_name}/compare/{before[:12]}...{after[:12]}",
        "commits": commits,
        "head_commit": commits[-1] if commits else None,
        "repository": repository,
        "pusher": {"name": record.sender, "email": pusher.email if pusher else None},
        "sender": sender,
    }
    return Event("push", None, payload, after, record.ref or "")


def _push_commit(render: Renderer, repo: Repository, store: GitStore, sha: str) -> JSON:
    info = store.commit(sha)
    changes = store.diff(info.parents[0], sha) if info.parents else store.diff(sha, sha)
    users = {u.email: u.login for u in render.hub.state.users.values()}

    def person(name: str, email: str) -> JSON:
        found: JSON = {"name": name, "email": email}
        if email in users:
            found["username"] = users[email]
        return found

    return {
        "id": sha,
        "tree_id": info.tree,
        "distinct": True,
        "message": info.message.rstrip("\n"),
        "timestamp": iso(info.committer.date),
        "url": f"{render.web}/{repo.full_name}/commit/{sha}",
        "author": person(info.author.name, info.author.email),
        "committer": person(info.committer.name, info.committer.email),
        "added": [c.filename for c in changes if c.status == "added"],
        "removed": [c.filename for c in changes if c.status == "removed"],
        "modified": [c.filename for c in changes if c.status not in ("added", "removed")],
    }
