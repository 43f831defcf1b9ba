"""The hub's pushes: commits written as a user, and what a ref update sets off however it
happened (API, smart HTTP, test set-up): open pull requests' heads and ``refs/pull/N/*`` move,
stale approvals are dismissed, and the events are handed to ``event_sink``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from jitops.testing.github.gitstore import ZERO_SHA, Identity, TreeChange
from jitops.testing.github.hub.base import EventRecord, FileContent, HubBase
from jitops.testing.github.state import PullRequest, Repository


class PushingMixin(HubBase):
    """Commits, ref updates and the events they announce."""

    def identity(self, login: str) -> Identity:
        user = self.user(login)
        return Identity(user.name, user.email, self.state.now())

    def push(
        self,
        repo: Repository,
        branch: str,
        files: Mapping[str, FileContent],
        *,
        author: str,
        message: str = "Update files",
        base: str | None = None,
    ) -> str:
        """Commit ``files`` (path -> content; None deletes) on top of ``branch`` (or, when the
        branch is new, on top of ``base``, by default the default branch) as ``author``, move
        the branch, and return the new commit's sha."""
        store = self.git(repo)
        ref = f"refs/heads/{branch}"
        before = store.branch_sha(branch)
        parent = before or store.branch_sha(base or repo.default_branch)
        changes = [
            TreeChange(path, content.encode() if isinstance(content, str) else content)
            for path, content in files.items()
        ]
        tree = store.write_tree(changes, store.commit(parent).tree if parent else None)
        sha = store.commit_tree(tree, [parent] if parent else [], message, self.identity(author))
        store.update_ref(ref, sha, before or ZERO_SHA)
        self.refs_changed(repo, author, [(ref, before or ZERO_SHA, sha)])
        return sha

    def refs_changed(
        self, repo: Repository, pusher: str, changes: Sequence[tuple[str, str, str]]
    ) -> None:
        """React to ref updates however they happened (API, smart HTTP push, test setup):
        move open pull requests' heads, dismiss stale approvals, announce pushes."""
        for ref, before, after in changes:
            self._emit(
                EventRecord("push", None, repo.id, pusher, ref=ref, before=before, after=after)
            )
            if not ref.startswith("refs/heads/") or after == ZERO_SHA:
                continue
            branch = ref.removeprefix("refs/heads/")
            for pr in self.state.pulls_of(repo.id):
                if pr.state == "open" and pr.head_ref == branch and pr.head_sha != after:
                    self._synchronize(repo, pr, after, pusher)
                elif pr.state == "open" and pr.base_ref == branch:
                    self.write_pull_refs(repo, pr)
        self.settle_auto_merges(repo)

    def write_pull_refs(self, repo: Repository, pr: PullRequest) -> str | None:
        """Write ``refs/pull/N/head`` and, when it merges cleanly, ``refs/pull/N/merge`` (the
        test merge of head into base that Actions checks out); return the merge commit."""
        store = self.git(repo)
        store.update_ref(f"refs/pull/{pr.number}/head", pr.head_sha)
        base = store.branch_sha(pr.base_ref)
        tree = store.merge_tree(base, pr.head_sha) if base else None
        merge_ref = f"refs/pull/{pr.number}/merge"
        if base is None or tree is None:
            if store.resolve(merge_ref):
                store.delete_ref(merge_ref)
            return None
        message = f"Merge {pr.head_sha} into {base}\n"
        github = Identity("GitHub", "noreply@github.com", self.state.now())
        merge = store.commit_tree(tree, [base, pr.head_sha], message, github)
        store.update_ref(merge_ref, merge)
        return merge

    def merge_ref_sha(self, repo: Repository, number: int) -> str | None:
        """The commit at ``refs/pull/N/merge``, if there is one."""
        return self.git(repo).resolve_commit(f"refs/pull/{number}/merge")

    def _synchronize(self, repo: Repository, pr: PullRequest, after: str, pusher: str) -> None:
        st = self.state
        with st.lock:
            updated = replace(pr, head_sha=after, updated_at=st.now())
            if not self.can(repo, pusher, "write"):
                # GitHub turns auto-merge off when someone without write access pushes
                updated = replace(updated, auto_merge=None)
            st.pulls[(repo.id, pr.number)] = updated
            self.write_pull_refs(repo, updated)
            protection = self.review_rules(repo, pr.base_ref)
            dismissed = []
            if protection and protection.dismiss_stale_reviews:
                for review in st.reviews_of(repo.id, pr.number):
                    if review.state == "APPROVED" and review.commit_id != after:
                        st.reviews[review.id] = replace(review, state="DISMISSED")
                        dismissed.append(review.id)
        self._emit(
            EventRecord(
                "pull_request",
                "synchronize",
                repo.id,
                pusher,
                number=pr.number,
                before=pr.head_sha,
                after=after,
            )
        )
        for review_id in dismissed:
            self._emit(
                EventRecord(
                    "pull_request_review",
                    "dismissed",
                    repo.id,
                    pusher,
                    number=pr.number,
                    review_id=review_id,
                )
            )

    def _emit(self, record: EventRecord) -> None:
        if self.event_sink is not None:
            self.event_sink(record)
