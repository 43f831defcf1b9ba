"""An access repository on the GitHub test server whose ``legacy`` target is the exec fake
system, with people to request, approve and merge: the world of apply's end-to-end tests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from jitops import ids
from jitops.testing.github import Account, GitHubServer
from jitops.testing.github.actions import record_run
from jitops.testing.github.state import Repository
from tests.e2e.conftest import CLI, LegacySystem, Run
from tests.gitrepo import git

APPLY = ".github/workflows/jitops-apply.yml"


@dataclass
class World:
    server: GitHubServer
    repo: Repository
    people: dict[str, Account]
    bot: Account
    base: Path
    legacy: LegacySystem

    def login(self, person: str) -> str:
        return self.people[person].login

    def request(
        self, request_id: str, requester: str = "alice", window: str = "duration: 2h"
    ) -> tuple[str, str]:
        path = f"requests/legacy/operator/{request_id}.yaml"
        text = (
            "apiVersion: jitops/v1\nkind: AccessRequest\n"
            f"id: {request_id}\nrequester: {self.login(requester)}\ntarget: legacy\n"
            f"role: operator\njustification: Restart the stuck export job of INC-9\n{window}\n"
        )
        return path, text

    def open_pull(self, branch: str, files: dict[str, str | None], by: str = "alice") -> int:
        hub = self.server.hub
        hub.push(self.repo, branch, files, author=self.login(by))
        return hub.open_pull(self.repo, head=branch, title=branch, user=self.login(by)).number

    def merge(self, number: int) -> str:
        merged = self.server.hub.merge(self.repo, number, user=self.login("p1"))
        assert merged.merge_commit_sha
        return merged.merge_commit_sha

    def pull_base(self) -> str:
        before = git(self.base, "rev-parse", "HEAD").strip()
        git(self.base, "pull", "-q", "--ff-only")
        return before


def make_world(
    legacy: LegacySystem,
    github_server: GitHubServer,
    github_names: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    extra_policy: str = "",
) -> World:
    """``extra_policy`` is appended to the legacy policy (its actions, say), installed with it."""
    hub = github_server.hub
    people = {p: hub.add_user(f"{p}-{github_names}") for p in ("alice", "bob", "p1", "owner")}
    bot = hub.add_user(f"applier-{github_names}", user_type="Bot")
    for extra in (legacy.repo / "policies").glob("*.yaml"):  # people named by other policies
        text = extra.read_text()
        if "ALICE" in text or "BOB" in text:
            extra.write_text(
                text.replace("ALICE", people["alice"].login).replace("BOB", people["bob"].login)
            )
    (legacy.repo / "policies" / "legacy-policy.yaml").write_text(
        "apiVersion: jitops/v1\nkind: Policy\nname: legacy\ntargets: [legacy]\n"
        f"requesters: [{people['alice'].login}]\n"
        "roles:\n  operator:\n    max_duration: 8h\n"
        f"    approvals: [{{count: 1, from: [{people['bob'].login}]}}]\n"
        + extra_policy.replace("BOB", people["bob"].login)
    )
    (legacy.repo / "policies" / "policy-changes.yaml").write_text(
        "apiVersion: jitops/v1\nkind: PolicyChangeRule\n"
        f"approvals: [{{count: 2, from: [{people['p1'].login}, {people['owner'].login}]}}]\n"
    )
    # part of the installation commit, where apply's trust in the policies starts
    git(legacy.repo, "add", "-A")
    git(legacy.repo, "commit", "-q", "--amend", "--no-edit")
    repo = hub.create_repo(f"{people['owner'].login}/access", source=legacy.repo)
    for account in (*people.values(), bot):
        hub.add_collaborator(repo, account.login, "write")
    base = tmp_path / "base"
    git(tmp_path, "clone", "-q", github_server.file_url(repo.full_name), str(base))
    monkeypatch.setenv("GITHUB_TOKEN", bot.token)
    monkeypatch.setenv("GITHUB_API_URL", github_server.base_url)
    monkeypatch.setenv("GITHUB_REPOSITORY", repo.full_name)
    return World(github_server, repo, people, bot, base, legacy)


def apply(world: World, cli: CLI, before: str, *extra: str) -> Run:
    return cli("apply", "--repo", str(world.base), "--before", before, *extra)


def grant(world: World, request_id: str, branch: str | None = None) -> str:
    """Open, approve and merge a request; the merge commit."""
    path, text = world.request(request_id)
    number = world.open_pull(branch or request_id, {path: text})
    world.server.hub.review(world.repo, number, user=world.login("bob"), event="APPROVE")
    return world.merge(number)


def forge_status(world: World, number: int, by: str = "alice") -> None:
    """What any writer can do: claim the check passed (one API call)."""
    pr = world.server.hub.pull(world.repo, number)
    world.server.hub.set_status(
        world.repo,
        pr.head_sha,
        state="success",
        context="jitops/approval",
        description="1 of 1 request(s) ready",
        creator=world.login(by),
    )


def workflow_apply(
    world: World, cli: CLI, monkeypatch: pytest.MonkeyPatch, run: int
) -> tuple[Run, Path]:
    """One run of the apply workflow for the latest push, as Actions runs it: a fresh checkout
    (no notes), the push event's payload, the workflow's token, `jitops apply --catch-up
    --push-notes`; recorded in the Actions API with the conclusion its exit code gives."""
    event = world.server.last_event("push")
    checkout = world.base.parent / f"run-{run}"
    url = world.server.file_url(world.repo.full_name)
    git(world.base.parent, "clone", "-q", url, str(checkout))
    with monkeypatch.context() as env:
        for name, value in event.actions_env(
            checkout.parent / f"event-{run}.json", world.bot.token
        ).items():
            env.setenv(name, value)
        env.setenv("GITHUB_API_URL", world.server.base_url)
        result = cli("apply", "--repo", str(checkout), "--catch-up", "--push-notes")
    record_run(
        world.server.hub,
        world.repo,
        APPLY,
        event.sha,
        conclusion="success" if result.code == 0 else "failure",
    )
    return result, checkout


# a window far past any role's maximum: what an attacker would extend a grant to
FAR = (datetime.now(UTC) + timedelta(days=300)).strftime("%Y-%m-%dT%H:%M:%SZ")


def granted(world: World, cli: CLI, request_id: str) -> str:
    """Grant ``request_id`` the approved way and apply it; the path of its file."""
    path, _ = world.request(request_id)
    grant(world, request_id)
    result = apply(world, cli, world.pull_base())
    assert result.code == 0, result.output
    assert world.legacy.held() == {f"{world.login('alice')}/operator"}
    return path


def edit(world: World, branch: str, files: dict[str, str | None], approve: bool) -> int:
    """A writer's pull request changing ``files``, merged on a forged status (with bob's
    approval when ``approve``); its number."""
    number = world.open_pull(branch, files)
    forge_status(world, number)
    if approve:  # a colluding approver
        world.server.hub.review(world.repo, number, user=world.login("bob"), event="APPROVE")
    world.merge(number)
    return number


def status_row(world: World, cli: CLI, request_id: str) -> dict[str, object]:
    """What ``jitops status --format json`` says of ``request_id``."""
    result = cli("status", "--repo", str(world.base), "--format", "json")
    [row] = [g for g in json.loads(result.out)["grants"] if g["id"] == request_id]
    return row


def remote_index(world: World) -> ids.IdIndex | None:
    """The request-id index as the remote holds it: what check-pr fetches."""
    return ids.load(world.server.hub.repo(world.repo.full_name).path).index
