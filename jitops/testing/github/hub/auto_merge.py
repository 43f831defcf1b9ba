"""The hub's auto-merge: requesting it as GitHub's ``enablePullRequestAutoMerge`` allows it,
merging the pull requests waiting on it once nothing blocks them, and finding the pull requests a
commit belongs to."""

from __future__ import annotations

from dataclasses import replace

from jitops.testing.github.hub.base import HubBase, HubError
from jitops.testing.github.state import AutoMerge, PullRequest, Repository


class AutoMergeMixin(HubBase):
    """Auto-merge and the pull requests of a commit."""

    def enable_auto_merge(
        self,
        repo: Repository,
        number: int,
        *,
        user: str,
        method: str = "merge",
        commit_title: str | None = None,
        commit_message: str | None = None,
    ) -> PullRequest:
        """Request auto-merge, refused as GitHub's ``enablePullRequestAutoMerge`` refuses it:
        the repository must allow it, and the pull request must be open and still waiting on
        its base branch's protection (one that could merge now is "in clean status")."""
        st = self.state
        with st.lock:
            repo = self.repo(repo.full_name)  # the current settings
            pr = self.pull(repo, number)
            if not self.can(repo, user, "write"):
                raise HubError(403, "Resource not accessible by personal access token")
            if not repo.allow_auto_merge:
                raise HubError(422, "Auto merge is not allowed for this repository")
            if pr.state != "open":
                raise HubError(422, "Pull request Pull request is closed")
            if method not in ("merge", "squash"):
                raise HubError(422, f"Merge method {method} is not allowed on this repository")
            if not self.is_governed(repo, pr.base_ref):
                raise HubError(
                    422, "Pull request Protected branch rules not configured for this branch"
                )
            if self.mergeable(repo, pr) and not self.blockers(repo, pr):
                raise HubError(422, "Pull request Pull request is in clean status")
            if method == "merge":
                title = f"Merge pull request #{number} from {repo.owner}/{pr.head_ref}"
                message = pr.title
            else:
                title, message = f"{pr.title} (#{number})", ""
            request = AutoMerge(
                user,
                method,
                commit_title if commit_title is not None else title,
                commit_message if commit_message is not None else message,
                st.now(),
            )
            pr = replace(pr, auto_merge=request, updated_at=st.now())
            st.pulls[(repo.id, number)] = pr
            return pr

    def settle_auto_merges(self, repo: Repository) -> list[PullRequest]:
        """Merge every open pull request with auto-merge on whose base branch's protection is
        now satisfied, as the person who turned it on (GitHub does this on its own after each
        status, check, review or push); returns the merged ones."""
        merged = []
        for pr in self.state.pulls_of(repo.id):
            request = pr.auto_merge
            if pr.state != "open" or request is None:
                continue
            if not self.mergeable(repo, pr) or self.blockers(repo, pr):
                continue
            try:
                merged.append(
                    self.merge(
                        repo,
                        pr.number,
                        user=request.enabled_by,
                        method=request.merge_method,
                        sha=pr.head_sha,
                        commit_title=request.commit_title,
                        commit_message=request.commit_message,
                    )
                )
            except HubError:
                continue  # lost the race, or the person lost write access: it stays open
        return merged

    def pulls_for_commit(self, repo: Repository, sha: str) -> list[PullRequest]:
        """As GitHub lists them: for a commit on the default branch, the merged pull request
        that introduced it (whose merge it is, or whose own commits hold it, not those it was
        branched from); for any other commit, the open pull requests whose head holds it."""
        store = self.git(repo)
        pulls = self.state.pulls_of(repo.id)
        merged_by = [pr for pr in pulls if pr.merge_commit_sha == sha or sha in pr.rebased]
        if merged_by:
            return merged_by
        default = store.branch_sha(repo.default_branch)
        if default is not None and store.is_ancestor(sha, default):
            return [
                pr
                for pr in pulls
                if pr.merged
                and store.is_ancestor(sha, pr.head_sha)
                and not store.is_ancestor(sha, pr.base_sha)
            ]
        return [pr for pr in pulls if pr.state == "open" and store.is_ancestor(sha, pr.head_sha)]
