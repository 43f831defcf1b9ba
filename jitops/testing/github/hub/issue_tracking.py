"""The hub's issues: opening, reading and editing plain issues (closing records who and why), and
pinning at most ``MAX_PINNED`` of them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from jitops.testing.github.hub.base import HubBase, HubError
from jitops.testing.github.state import Issue, PullRequest, Repository

MAX_PINNED = 3  # pinned issues per repository


class IssuesMixin(HubBase):
    """Issues, and pinning them."""

    def open_issue(
        self,
        repo: Repository,
        *,
        title: str,
        user: str,
        body: str | None = None,
        labels: Sequence[str] = (),
    ) -> Issue:
        """Open a plain issue; it takes the next number, shared with pull requests."""
        st = self.state
        with st.lock:
            self.user(user)
            number = st.next_number[repo.id]
            st.next_number[repo.id] = number + 1
            now = st.now()
            issue = Issue(
                st.new_id(), repo.id, number, title, body, user,
                labels=self._labels(repo, labels), created_at=now, updated_at=now,
            )  # fmt: skip
            st.issues[(repo.id, number)] = issue
            return issue

    def issue(self, repo: Repository, number: int) -> Issue:
        """The plain issue ``number`` (a pull request's number is not one); 404 if absent."""
        with self.state.lock:
            found = self.state.issues.get((repo.id, number))
            if found is None:
                raise HubError(404, "Not Found")
            return found

    def issue_or_pull(self, repo: Repository, number: int) -> Issue | PullRequest:
        """What ``/issues/{number}`` names: GitHub treats every pull request as an issue."""
        with self.state.lock:
            found = self.state.issues.get((repo.id, number)) or self.state.pulls.get(
                (repo.id, number)
            )
            if found is None:
                raise HubError(404, "Not Found")
            return found

    def update_issue(
        self,
        repo: Repository,
        number: int,
        *,
        sender: str,
        title: str | None = None,
        body: str | None = None,
        state: str | None = None,
        state_reason: str | None = None,
    ) -> Issue:
        """Edit a plain issue; closing records who and why (``completed`` unless told), and
        reopening makes the reason ``reopened``, as GitHub does."""
        st = self.state
        with st.lock:
            issue = self.issue(repo, number)
            now = st.now()
            changed = replace(
                issue,
                title=title if title is not None else issue.title,
                body=body if body is not None else issue.body,
                updated_at=now,
            )
            if state == "closed" and issue.state == "open":
                changed = replace(
                    changed, state="closed", state_reason=state_reason or "completed",
                    closed_at=now, closed_by=sender,
                )  # fmt: skip
            elif state == "open" and issue.state == "closed":
                changed = replace(
                    changed, state="open", state_reason="reopened", closed_at=None, closed_by=None
                )
            st.issues[(repo.id, number)] = changed
            return changed

    def set_pinned(self, repo: Repository, number: int, pinned: bool) -> Issue:
        """Pin an issue to the top of the repository's issue list (at most ``MAX_PINNED``,
        as on GitHub), or unpin it."""
        st = self.state
        with st.lock:
            issue = self.issue(repo, number)
            others = [i for i in st.issues_of(repo.id) if i.pinned and i.number != number]
            if pinned and not issue.pinned and len(others) >= MAX_PINNED:
                raise HubError(422, f"A repository can have at most {MAX_PINNED} pinned issues")
            issue = replace(issue, pinned=pinned)
            st.issues[(repo.id, number)] = issue
            return issue
