"""A world for the approval gate: an organisation with teams and people on the GitHub test
server, an access repository holding jitops' example policies, and a checkout of its base.

Names carry a per-test suffix because tests share one server: ``@acme`` becomes
``@acme-t7``, ``alice`` becomes ``alice-t7`` (in policies and requests alike).
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path

from jitops.testing.github import Account, GitHubServer
from jitops.testing.github.state import Repository
from tests.gitrepo import PROJECT, commit_all, init_repo

PEOPLE = ("alice", "bob", "carol", "dave", "erin", "eve", "olivia", "mallory", "p1", "p2")
TEAMS = {
    "engineering": ("alice", "bob", "dave", "eve", "mallory"),
    "db-leads": ("bob", "dave"),
    "security": ("dave", "erin"),
    "platform": ("p1", "p2"),
    "platform-leads": ("p1",),
    "oncall": ("olivia",),
}


@dataclass
class GateWorld:
    server: GitHubServer
    suffix: str
    repo: Repository
    accounts: dict[str, Account]
    bot: Account  # the token jitops runs with (Actions' github-actions[bot])
    base: Path  # a clone of the default branch: what the workflow checks out
    work: Path  # the workspace for making request files

    def login(self, person: str) -> str:
        return f"{person}-{self.suffix}"

    @property
    def org(self) -> str:
        return f"acme-{self.suffix}"

    def team(self, slug: str) -> str:
        return f"@{self.org}/{slug}"

    def request_text(
        self,
        request_id: str,
        *,
        requester: str = "alice",
        target: str = "sandbox-db",
        role: str = "readwrite",
        window: str = "duration: 2h",
        ticket: str | None = "INC-1234",
    ) -> str:
        lines = [
            "apiVersion: jitops/v1",
            "kind: AccessRequest",
            f"id: {request_id}",
            f"requester: {self.login(requester)}",
            f"target: {target}",
            f"role: {role}",
            "justification: Investigate INC-1234, slow queries on the orders table",
            window,
        ]
        if ticket:
            lines.append(f"ticket: {ticket}")
        return "\n".join(lines) + "\n"

    def open_request(
        self,
        request_id: str,
        *,
        by: str = "alice",
        role: str = "readwrite",
        target: str = "sandbox-db",
        extra: dict[str, str | None] | None = None,
        branch: str | None = None,
        **fields: str | None,
    ) -> int:
        """Push a branch adding a request file as ``by`` and open a PR; its number."""
        path = f"requests/{target}/{role}/{request_id}.yaml"
        files: dict[str, str | None] = {
            path: self.request_text(request_id, role=role, target=target, **fields)  # type: ignore[arg-type]
        }
        files.update(extra or {})
        return self.open_pull(branch or f"req-{request_id}", files, by=by)

    def open_pull(self, branch: str, files: dict[str, str | None], *, by: str = "alice") -> int:
        hub = self.server.hub
        hub.push(self.repo, branch, files, author=self.login(by), message=f"{branch}")
        pr = hub.open_pull(self.repo, head=branch, title=branch, user=self.login(by))
        return pr.number

    def push(self, number: int, files: dict[str, str | None], *, by: str = "alice") -> str:
        hub = self.server.hub
        pr = hub.pull(self.repo, number)
        return hub.push(self.repo, pr.head_ref, files, author=self.login(by), message="update")

    def review(self, number: int, person: str, event: str = "APPROVE", **kwargs: str) -> int:
        body = kwargs.pop("body", "" if event == "APPROVE" else "please change")
        review = self.server.hub.review(
            self.repo, number, user=self.login(person), event=event, body=body, **kwargs
        )
        return review.id

    def merge(self, number: int, method: str = "merge") -> str:
        """Merge as p1 (a platform engineer with write access); the merge commit's sha."""
        merged = self.server.hub.merge(self.repo, number, user=self.login("p1"), method=method)
        self.refresh_base()
        assert merged.merge_commit_sha is not None
        return merged.merge_commit_sha

    def refresh_base(self) -> None:
        subprocess.run(["git", "-C", str(self.base), "pull", "-q", "--ff-only"], check=True)

    def env(self) -> dict[str, str]:
        return {
            "GITHUB_TOKEN": self.bot.token,
            "GITHUB_API_URL": self.server.base_url,
            "GITHUB_REPOSITORY": self.repo.full_name,
        }


def make_world(server: GitHubServer, suffix: str, tmp_path: Path) -> GateWorld:
    hub = server.hub
    accounts = {p: hub.add_user(f"{p}-{suffix}") for p in PEOPLE}
    bot = hub.add_user(f"jitops-bot-{suffix}")
    with hub.state.lock:  # Actions' token acts as github-actions[bot], a Bot account
        hub.state.users[bot.login] = replace(bot.user, type="Bot")
    org = f"acme-{suffix}"
    hub.add_org(org, members=[a.login for a in accounts.values()])
    for slug, members in TEAMS.items():
        hub.add_team(org, slug, members=[f"{m}-{suffix}" for m in members])

    source = init_repo(tmp_path / "source")
    shutil.copytree(PROJECT / "policies", source / "policies")
    for path in (source / "policies").rglob("*.yaml"):
        text = path.read_text().replace("@acme/", f"@{org}/")
        for person in PEOPLE:
            text = text.replace(f'"{person}"', f'"{person}-{suffix}"')
            text = text.replace(f"requester: {person},", f"requester: {person}-{suffix},")
            text = text.replace(f"by: {person}", f"by: {person}-{suffix}")
        path.write_text(text)
    (source / "requests").mkdir()
    (source / "requests" / ".gitkeep").write_text("")
    from jitops.owners import render
    from jitops.repo import load_policies

    policy_set = load_policies(source).policy_set
    assert policy_set is not None
    (source / ".github").mkdir()
    (source / ".github" / "CODEOWNERS").write_text(render(policy_set))
    commit_all(source, "access repository")
    repo = hub.create_repo(f"{org}/access", source=source)
    hub.add_collaborator(repo, bot.login, "write")
    for account in accounts.values():
        hub.add_collaborator(repo, account.login, "write")
    base = tmp_path / "base"
    subprocess.run(["git", "clone", "-q", server.file_url(repo.full_name), str(base)], check=True)
    return GateWorld(server, suffix, repo, accounts, bot, base, tmp_path)


def status_of(gate: GateWorld, number: int) -> tuple[str, str]:
    """State and description of the newest ``jitops/approval`` status on the PR's head."""
    hub = gate.server.hub
    pr = hub.pull(gate.repo, number)
    statuses = [
        s for s in hub.statuses_for(gate.repo, pr.head_sha) if s.context == "jitops/approval"
    ]
    assert statuses, "no jitops/approval status was posted"
    return statuses[0].state, statuses[0].description or ""  # newest first


def comments_of(gate: GateWorld, number: int) -> list[str]:
    """The bodies of the pull request's comments, oldest first."""
    return [c.body for c in gate.server.hub.comments_of(gate.repo, number)]
