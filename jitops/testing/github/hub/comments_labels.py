"""The hub's comments and labels on issues and pull requests: writing, reading and editing
comments, and adding or replacing labels (created on first use, as GitHub does)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from jitops.testing.github.hub.base import HubBase, HubError
from jitops.testing.github.state import Issue, IssueComment, Label, Repository


class CommentsMixin(HubBase):
    """Comments and labels."""

    def comment(self, repo: Repository, number: int, *, user: str, body: str) -> IssueComment:
        """Comment on an issue or a pull request."""
        st = self.state
        with st.lock:
            self.issue_or_pull(repo, number)
            now = st.now()
            comment = IssueComment(st.new_id(), repo.id, number, user, body, now, now)
            st.comments[comment.id] = comment
            return comment

    def get_comment(self, repo: Repository, comment_id: int) -> IssueComment:
        with self.state.lock:
            found = self.state.comments.get(comment_id)
            if found is None or found.repo_id != repo.id:
                raise HubError(404, "Not Found")
            return found

    def edit_comment(
        self, repo: Repository, comment_id: int, *, user: str, body: str
    ) -> IssueComment:
        st = self.state
        with st.lock:
            comment = self.get_comment(repo, comment_id)
            if comment.user != user and not self.can(repo, user, "write"):
                raise HubError(403, "Resource not accessible by personal access token")
            comment = replace(comment, body=body, updated_at=st.now())
            st.comments[comment_id] = comment
            return comment

    def comments_of(self, repo: Repository, number: int) -> list[IssueComment]:
        with self.state.lock:
            self.issue_or_pull(repo, number)
            return sorted(
                (
                    c
                    for c in self.state.comments.values()
                    if (c.repo_id, c.number) == (repo.id, number)
                ),
                key=lambda c: c.id,
            )

    def _labels(self, repo: Repository, names: Sequence[str]) -> tuple[Label, ...]:
        """The repository's labels named ``names``, created on first use, without repeats."""
        st = self.state
        with st.lock:
            labels: list[Label] = []
            for name in names:
                label = st.labels.get((repo.id, name))
                if label is None:
                    label = Label(st.new_id(), name)
                    st.labels[(repo.id, name)] = label
                if label not in labels:
                    labels.append(label)
            return tuple(labels)

    def add_labels(self, repo: Repository, number: int, names: Sequence[str]) -> tuple[Label, ...]:
        """Add labels to an issue or a pull request; return all of its labels."""
        with self.state.lock:
            item = self.issue_or_pull(repo, number)
            return self.set_labels(repo, number, [*(label.name for label in item.labels), *names])

    def set_labels(self, repo: Repository, number: int, names: Sequence[str]) -> tuple[Label, ...]:
        """Replace the labels of an issue or a pull request."""
        st = self.state
        with st.lock:
            item = self.issue_or_pull(repo, number)
            labels = self._labels(repo, names)
            if isinstance(item, Issue):
                st.issues[(repo.id, number)] = replace(item, labels=labels)
            else:
                st.pulls[(repo.id, number)] = replace(item, labels=labels)
            return labels
