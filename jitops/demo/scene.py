"""What every act of the demo's story shares: the cast's names, what the story remembers
from step to step, narration (``say``, ``show``, ``expect``), and the pull-request check
each review runs."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import Any

from jitops.actions_context import ActionsContext
from jitops.commands.apply import ApplyJob, ApplyOptions, run_apply_job
from jitops.commands.check_pr import CheckOutcome, check_pull_request, options_from_actions
from jitops.demo.lines import Line, Tone
from jitops.demo.world import ROLE, TARGET, DemoClock, World
from jitops.models import AccessRequest, ActionRequest
from jitops.report.comments import action_result_markdown, apply_comment, gate_markdown
from jitops.report.text import decision_text
from jitops.testing.github import Event

Say = Callable[[Line], None]
Inject = Callable[[str, World], None]  # called before each step after the first (tests)


class StepFailed(Exception):
    """What happened in a step is not what should have."""


REQUESTER, REVIEWER, APPROVER, AUDITOR = "alice", "eve", "bob", "erin"
TICKET = "INC-4211"
WHY = "Fix order 1002, stuck in payment"
ASKED, LONGER = "2h", "4h"  # the window asked for, and the one the attack swaps in


class Scene:
    """The story's state and voice; the acts (``opening``, ``reviewing``, ``granting``,
    ``acting``, ``ending``) add the steps."""

    def __init__(
        self, work: Path, resources: ExitStack, say: Say, *, keep: bool, inject: Inject | None
    ) -> None:
        self.work, self.resources, self._say = work, resources, say
        self.keep, self.inject = keep, inject
        self.clock = DemoClock()
        self._world: World | None = None
        self.verdicts: list[str] = []
        self.pr = 0
        self.asked: AccessRequest | None = None  # as `jitops request` wrote it
        self.request_file = ""
        self.branch = ""
        self.session: Any = None  # the requester's open database session
        self.expires_at: datetime | None = None
        # the action request (``acting``): its pull request, branch, file as asked, and path
        self.action_pr = 0
        self.action_branch = ""
        self.action_asked: ActionRequest | None = None
        self.action_file = ""

    # -- narration -------------------------------------------------------------------------

    def say(self, text: str, tone: Tone = Tone.SAY) -> None:
        self._say(Line(tone, text))

    def show(self, lines: list[str] | str) -> None:
        for line in lines.splitlines() if isinstance(lines, str) else lines:
            self._say(Line(Tone.SHOW, line))

    def expect(self, ok: bool, good: str, bad: str) -> None:
        if not ok:
            raise StepFailed(bad)
        self._say(Line(Tone.OK, good))

    @property
    def world(self) -> World:
        assert self._world is not None, "the world is built by the first step"
        return self._world

    # -- helpers ---------------------------------------------------------------------------

    @property
    def request_id(self) -> str:
        """The id `jitops request` gave alice's request (date-requester-target-role-suffix)."""
        if self.asked is None:
            raise StepFailed("there is no request yet: step 2 did not open one")
        return self.asked.id

    def approver_team(self) -> str:
        found = self.world.policy_set.rule_for(TARGET, ROLE)
        if found is None or not found[1].approvals:
            raise StepFailed(
                f"the example policies no longer ask for approval of {ROLE} on {TARGET}"
            )
        return found[1].approvals[0].from_[0]

    def approve(
        self, person: str, body: str, narration: str, number: int | None = None
    ) -> CheckOutcome:
        """``person`` approves the head of pull request ``number`` (the access request's by
        default); the check runs on the review event."""
        world = self.world
        world.hub.review(world.repo, number or self.pr, user=person, event="APPROVE", body=body)
        self.say(narration)
        event = world.server.last_event("pull_request_review", "submitted")
        return self.check(event, f"{REQUESTER} and {person}")

    @staticmethod
    def missing(outcome: CheckOutcome, team: str) -> bool:
        return any(f"needs 1 approval from {team}" in d.reason for d in outcome.result.decisions)

    def check(self, event: Event, people: str) -> CheckOutcome:
        world = self.world
        workflow = {
            "pull_request": f"jitops-check.yml, on pull_request_target {event.action}",
            "pull_request_review": f"jitops-review.yml, after the review relay ({event.action})",
        }[event.name]
        self.say(f"`jitops check-pr` runs with main's code ({workflow}):")
        checkout = world.checkout("check")
        options = options_from_actions(
            ActionsContext.from_environ(world.job_env(event)),
            repository=None,
            number=None,
            base_checkout=checkout,
            now=self.clock.now(),
            post=False,
        )
        outcome = check_pull_request(options, gate_markdown)
        # The first time in full, as the comment on the pull request shows it; after that what
        # the step is about.
        rules = None if not self.verdicts else ("window", "approval")
        self.verdicts.append(outcome.result.verdict.value)
        state, description = world.status(outcome.pull_request.head_sha)
        verb = "sees" if people == "everyone" else "see"
        self.say(f"{people} {verb} on pull request #{outcome.pull_request.number}:")
        self.show(f"status jitops/approval: {state} — {description}")
        for decision in outcome.result.decisions:
            self.show(decision_text(decision, rules))
        return outcome

    def run_apply_workflow(self, push: Event, checkout: Path) -> ApplyJob:
        """The apply workflow on ``push``, in ``checkout``: with the targets' secrets, its
        records pushed (--push-notes: the evidence for the auditor, the request-id index and
        the action records later runs read), and a comment on each pull request it acted on."""
        env = self.world.job_env(push, secrets=True, performs=True)
        options = ApplyOptions(
            root=checkout,
            now=self.clock.now(),
            before=str(push.payload["before"]),
            after=str(push.payload["after"]),
            repository=env["GITHUB_REPOSITORY"],
            token=env["GITHUB_TOKEN"],
            api_url=env["GITHUB_API_URL"],
            comment=True,
        )
        return run_apply_job(
            options,
            env,
            push_notes=True,
            comment=apply_comment,
            action_comment=action_result_markdown,
        )
