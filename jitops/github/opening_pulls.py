"""Pull requests jitops opens: the revocation branch's one commit (Git Data API: a constant number
of calls whatever the number of files), one open pull request per branch however many runs race
to open it, and auto-merge (GraphQL)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from jitops.github.client import GitHubBase
from jitops.github.errors import GitHubError, error_from
from jitops.github.values import OpenedPull, opened_pull


class OpeningPullsMixin(GitHubBase):
    """The revocation commit, finding or opening a pull request, and auto-merge."""

    def commit_removals(
        self, base_branch: str, branch: str, paths: list[str], message: str, *, exists: bool = True
    ) -> str:
        """Point ``branch`` at a new commit on top of ``base_branch`` that deletes ``paths``.

        Four calls whatever the number of paths: the base branch with its commit's tree, one
        tree, one commit, the branch ref — force-moved when ``exists`` says the branch is
        there, created when it says not (one call more when it is wrong, or another run
        created the branch a moment ago).
        """
        base = self._raw("GET", f"/branches/{quote(base_branch, safe='')}", f"branch {base_branch}")
        base_sha = base["commit"]["sha"]
        tree = self._raw(
            "POST",
            "/git/trees",
            "revocation tree",
            input={
                "base_tree": base["commit"]["commit"]["tree"]["sha"],
                "tree": [
                    {"path": path, "mode": "100644", "type": "blob", "sha": None} for path in paths
                ],
            },
        )
        commit = self._raw(
            "POST",
            "/git/commits",
            "revocation commit",
            input={"message": message, "tree": tree["sha"], "parents": [base_sha]},
        )
        sha = str(commit["sha"])
        if not (exists and self._move_branch(branch, sha)):
            if not self._create_branch(branch, sha):
                self._raw(
                    "PATCH",
                    f"/git/refs/heads/{branch}",
                    f"moving {branch}",
                    input={"sha": sha, "force": True},
                )
        return sha

    def _move_branch(self, branch: str, sha: str) -> bool:
        """Force ``branch`` to ``sha``; False when there is no such branch."""
        body = {"sha": sha, "force": True}
        return self._unless(
            (404, 422), "PATCH", f"/git/refs/heads/{branch}", f"moving {branch}", input=body
        )

    def _create_branch(self, branch: str, sha: str) -> bool:
        """Create ``branch`` at ``sha``; False when it is there already (422)."""
        body = {"ref": f"refs/heads/{branch}", "sha": sha}
        return self._unless((422,), "POST", "/git/refs", f"creating {branch}", input=body)

    def _unless(
        self, statuses: tuple[int, ...], verb: str, path: str, what: str, **kwargs: Any
    ) -> bool:
        """``_raw``, False when GitHub answers one of ``statuses`` instead of doing it."""
        try:
            self._raw(verb, path, what, **kwargs)
        except GitHubError as exc:
            if exc.status in statuses:
                return False
            raise
        return True

    def _open_pull_data(self, head: str, base: str) -> dict[str, Any] | None:
        owner = self.repository.split("/")[0]
        found = self._raw(
            "GET",
            "/pulls",
            "open pull requests",
            parameters={"head": f"{owner}:{head}", "base": base, "state": "open"},
        )
        return found[0] if isinstance(found, list) and found else None

    def _find_or_open_pull(
        self,
        head: str,
        base: str,
        title: str,
        body: str,
        what: str,
        looked_up: tuple[dict[str, Any] | None] | None = None,
    ) -> tuple[dict[str, Any], bool]:
        """The open pull request from ``head`` into ``base`` (``looked_up``'s, when it was
        just looked up), or a new one (True). Never two: a 422 because another run opened it
        a moment ago yields that one."""
        current = looked_up[0] if looked_up is not None else self._open_pull_data(head, base)
        if current is not None:
            return current, False
        from github import GithubException

        try:
            _, created = self.repo.requester.requestJsonAndCheck(
                "POST",
                f"{self.repo.url}/pulls",
                input={"title": title, "head": head, "base": base, "body": body},
            )
            return created, True
        except GithubException as exc:
            current = self._open_pull_data(head, base) if exc.status == 422 else None
            if current is None:
                raise error_from(exc, f"opening {what}") from None
            return current, False
        except OSError as exc:
            raise self._unreachable(f"opening {what}", exc) from None

    def find_or_open_pull(self, *, head: str, base: str, title: str, body: str) -> OpenedPull:
        """The open pull request from branch ``head`` into ``base`` as it is, or a new one."""
        data, created = self._find_or_open_pull(head, base, title, body, "the pull request")
        return opened_pull(data, created)

    def open_removal_pull(
        self,
        *,
        head: str,
        base: str,
        paths: list[str],
        message: str,
        title: str,
        body: str,
        labels: list[str],
    ) -> tuple[str, OpenedPull]:
        """Commit the removal of ``paths`` on top of ``base`` to branch ``head``, and open the
        one pull request from it, or update the open one: (the commit, the pull request).

        The open pull request is looked up first: with one, its branch is there to move;
        without, the branch most likely went with the last one's merge and is created — one
        call for the branch either way. Labels it already has are not asked for again.
        """
        current = self._open_pull_data(head, base)
        sha = self.commit_removals(base, head, paths, message, exists=current is not None)
        found, created = self._find_or_open_pull(
            head, base, title, body, "the revocation pull request", (current,)
        )
        number = int(found["number"])
        if not created and (found.get("title") != title or found.get("body") != body):
            self._raw(
                "PATCH",
                f"/pulls/{number}",
                "updating the pull request",
                input={"title": title, "body": body},
            )
        had = {
            str(label.get("name")) for label in found.get("labels") or [] if isinstance(label, dict)
        }
        if set(labels) - had:
            self._raw("POST", f"/issues/{number}/labels", "labels", input={"labels": labels})
        return sha, opened_pull(found, created)

    def enable_auto_merge(self, number: int, node_id: str, *, method: str = "MERGE") -> None:
        """Ask GitHub to merge pull request #``number`` itself once its base branch's
        protection is satisfied. Only GraphQL can (``enablePullRequestAutoMerge``); GitHub's
        refusal (auto-merge not allowed on the repository, no branch protection, a pull
        request that could merge now) raises ``GraphQLRefusal`` with its reason."""
        pull = self._pull(number, node_id=node_id)
        self._call(f"auto-merge of #{number}", pull.enable_automerge, merge_method=method)
