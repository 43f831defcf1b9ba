"""The review acts: an approval that does not count, one that does, a push after it that makes
it stale, and the merge."""

from __future__ import annotations

from jitops.commands.request import render
from jitops.demo.scene import APPROVER, ASKED, LONGER, REQUESTER, REVIEWER, TICKET, Scene
from jitops.models import AccessRequest
from jitops.policy import Verdict
from jitops.testing.github import HubError


class Reviewing(Scene):
    """Reviews, the stale-approval attack, and the merge."""

    def unqualified_review(self) -> None:
        outcome = self.approve(REVIEWER, "LGTM", f"{REVIEWER} approves pull request #{self.pr}")
        team = self.approver_team()
        self.expect(
            outcome.result.verdict is Verdict.PENDING and self.missing(outcome, team),
            f"still pending: {REVIEWER}'s approval does not count, {team} must approve",
            f"{REVIEWER}'s approval should not count: {outcome.result.summary}",
        )

    def approval(self) -> None:
        self.approved_by_approver(
            f"Approved for {TICKET}",
            f"{APPROVER} reads the request on the pull request and approves",
            f"{APPROVER}'s approval should be enough",
        )

    def stale_push(self) -> None:
        world = self.world
        assert self.asked is not None
        self.say(
            f"{REQUESTER} pushes one more commit to {self.branch}, making it {LONGER} "
            f"instead of {ASKED}:"
        )
        longer = AccessRequest.model_validate(
            {**self.asked.model_dump(by_alias=True, exclude_none=True), "duration": LONGER}
        )
        world.hub.push(
            world.repo,
            self.branch,
            {self.request_file: render(longer)},
            author=REQUESTER,
            message=f"Make it {LONGER}",
        )
        head = world.hub.pull(world.repo, self.pr).head_sha
        self.show(f"duration: {ASKED}  →  duration: {LONGER}   (commit {head[:7]})")
        outcome = self.check(
            world.server.last_event("pull_request", "synchronize"), f"{REQUESTER} and {APPROVER}"
        )
        self.expect(
            outcome.result.verdict is Verdict.PENDING,
            f"pending again: {APPROVER} approved the {ASKED} version, not this commit",
            f"an approval of an older commit still counted: {outcome.result.summary}",
        )
        try:
            world.hub.merge(world.repo, self.pr, user=REQUESTER)
            refused = ""
        except HubError as exc:
            refused = exc.message.splitlines()[-1]
        self.expect(
            bool(refused),
            f"{REQUESTER} tries to merge anyway; GitHub refuses: {refused}",
            "GitHub merged a request whose approval was stale",
        )

    def merge(self) -> None:
        world = self.world
        self.approved_by_approver(
            f"{LONGER} is fine",
            f"{APPROVER} reviews the {LONGER} version and approves it",
            "the fresh approval should count",
        )
        merged = world.hub.merge(world.repo, self.pr, user=REQUESTER)
        self.expect(
            merged.merged,
            f"{REQUESTER} merges pull request #{self.pr} "
            f"(merge commit {str(merged.merge_commit_sha)[:7]})",
            "the pull request did not merge",
        )

    def approved_by_approver(self, body: str, narration: str, otherwise: str) -> None:
        """The approver approves the head, and the check then allows the request."""
        outcome = self.approve(APPROVER, body, narration)
        self.expect(
            outcome.result.verdict is Verdict.ALLOWED,
            f"allowed: {outcome.result.summary}",
            f"{otherwise}: {outcome.result.summary}",
        )
