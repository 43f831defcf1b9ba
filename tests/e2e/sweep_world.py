"""An access repository on the GitHub test server holding grants of the exec fake system,
some expired: the world of the sweep's end-to-end tests and attacks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from jitops.commands.sweep import FAILED_LABEL, SWEEP_BRANCH
from jitops.testing.github import Account, GitHubServer
from jitops.testing.github.state import Issue, Repository
from tests.e2e.conftest import CLI, Run
from tests.gitrepo import git

NOW = "2026-11-23T12:00:00Z"


class Served:
    def __init__(self, server: GitHubServer, repo: Repository, bot: Account, base: Path) -> None:
        self.server, self.repo, self.bot, self.base = server, repo, bot, base

    def env(self) -> dict[str, str]:
        return {
            "GITHUB_TOKEN": self.bot.token,
            "GITHUB_API_URL": self.server.base_url,
            "GITHUB_REPOSITORY": self.repo.full_name,
        }

    def sweep_pulls(self) -> list[int]:
        hub = self.server.hub
        return [
            pr.number
            for pr in hub.state.pulls_of(self.repo.id)
            if pr.head_ref == SWEEP_BRANCH and pr.state == "open"
        ]

    def sweeps_at_once(self, count: int) -> list[tuple[int, str, str]]:
        """Run ``count`` sweeps as processes at the same moment: (exit code, out, err) each."""
        env = {**os.environ, **self.env()}
        command = [sys.executable, "-m", "jitops", "sweep", "--repo", str(self.base)]
        command += ["--now", NOW, "--open-pr"]
        runs = [
            subprocess.Popen(
                command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
            for _ in range(count)
        ]
        outputs = [run.communicate(timeout=120) for run in runs]
        return [(run.returncode, out, err) for run, (out, err) in zip(runs, outputs, strict=True)]

    def failed_issues(self, state: str = "open") -> list[Issue]:
        """Issues labelled as jitops' list of failed revokes, in ``state``."""
        return [
            issue
            for issue in self.server.hub.state.issues_of(self.repo.id)
            if issue.state == state and FAILED_LABEL in {label.name for label in issue.labels}
        ]

    def files_of(self, number: int) -> list[str]:
        hub = self.server.hub
        pr = hub.pull(self.repo, number)
        return sorted(c.filename for c in hub.git(self.repo).diff(pr.base_sha, pr.head_sha))


def serve(server: GitHubServer, suffix: str, source: Path, tmp_path: Path) -> Served:
    hub = server.hub
    owner = hub.add_user(f"owner-{suffix}")
    bot = hub.add_user(f"sweeper-{suffix}")
    repo = hub.create_repo(f"{owner.login}/access", source=source)
    hub.add_collaborator(repo, bot.login, "write")
    base = tmp_path / "base"
    git(tmp_path, "clone", "-q", server.file_url(repo.full_name), str(base))
    return Served(server, repo, bot, base)


def sweep(world: Served, cli: CLI, *extra: str, now: str = NOW) -> Run:
    return cli("sweep", "--repo", str(world.base), "--now", now, "--open-pr", *extra)
