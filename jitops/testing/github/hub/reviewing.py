"""The hub's reviews: submitting them under GitHub's rules (no approving or requesting changes on
your own pull request, a body for a comment, a commit of the pull request), reading them back,
and dismissing them."""

from __future__ import annotations

from dataclasses import replace

from jitops.testing.github.hub.base import EventRecord, HubBase, HubError
from jitops.testing.github.state import Repository, Review


class ReviewsMixin(HubBase):
    """Reviews of pull requests."""

    def review(
        self,
        repo: Repository,
        number: int,
        *,
        user: str,
        event: str,
        body: str = "",
        commit_id: str | None = None,
    ) -> Review:
        """Submit a review: ``APPROVE``, ``REQUEST_CHANGES`` or ``COMMENT``."""
        states = {
            "APPROVE": "APPROVED",
            "REQUEST_CHANGES": "CHANGES_REQUESTED",
            "COMMENT": "COMMENTED",
        }
        if event not in states:
            raise HubError(422, f"Unprocessable Entity: event {event!r}")
        st = self.state
        with st.lock:
            user = self.user(user).login  # the reviewer as the account spells it
            pr = self.pull(repo, number)
            if event in ("APPROVE", "REQUEST_CHANGES") and user == pr.user:
                verb = "approve" if event == "APPROVE" else "request changes on"
                raise HubError(422, f"Unprocessable Entity: Can not {verb} your own pull request")
            if event in ("REQUEST_CHANGES", "COMMENT") and not body:
                raise HubError(
                    422, f"Unprocessable Entity: Review Comment is missing (event {event})"
                )
            commit_id = commit_id or pr.head_sha
            if self.git(repo).object_type(commit_id) != "commit":
                raise HubError(
                    422, "Unprocessable Entity: commit_id is not part of the pull request"
                )
            review = Review(
                st.new_id(), repo.id, number, user, body, states[event], commit_id, st.now()
            )
            st.reviews[review.id] = review
        self._emit(
            EventRecord(
                "pull_request_review",
                "submitted",
                repo.id,
                user,
                number=number,
                review_id=review.id,
            )
        )
        self.settle_auto_merges(repo)
        return review

    def get_review(self, repo: Repository, number: int, review_id: int) -> Review:
        with self.state.lock:
            review = self.state.reviews.get(review_id)
            if review is None or (review.repo_id, review.number) != (repo.id, number):
                raise HubError(404, "Not Found")
            return review

    def dismiss_review(
        self, repo: Repository, number: int, review_id: int, *, user: str, message: str
    ) -> Review:
        """Dismiss an approval or change request. It needs write access (without it GitHub
        answers 404: the operation documents 200, 404 and 422 only) and, when branch
        protection governs the base branch, an administrator ("To dismiss a pull request
        review on a protected branch, you must be a repository administrator or be included
        in the list of people or teams who can dismiss pull request reviews"; no such list
        is modelled)."""
        st = self.state
        with st.lock:
            review = self.get_review(repo, number, review_id)
            if not self.can(repo, user, "write"):
                raise HubError(404, "Not Found")
            base = self.pull(repo, number).base_ref
            if self.protection(repo, base) is not None and not self.can(repo, user, "admin"):
                raise HubError(422, "Branch protections do not permit dismissing this review")
            if review.state not in ("APPROVED", "CHANGES_REQUESTED"):
                raise HubError(422, "Can not dismiss a commented pull request review")
            review = replace(review, state="DISMISSED")
            st.reviews[review_id] = review
        self._emit(
            EventRecord(
                "pull_request_review",
                "dismissed",
                repo.id,
                user,
                number=number,
                review_id=review_id,
            )
        )
        return review
