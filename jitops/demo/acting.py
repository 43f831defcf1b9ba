"""The action acts: alice asks jitops to perform one reviewed UPDATE instead of holding write
access; a review asks for a WHERE; bob approves the new version; apply performs it once, as
the target's action login, and a rerun does not perform it again."""

from __future__ import annotations

from jitops.actions_context import ActionsContext
from jitops.commands.check_pr import COMMENT_MARKER
from jitops.commands.request import (
    ActionAsk,
    Result,
    environment_pull_target,
    render_action,
    run_action_ask,
)
from jitops.demo.opening import shell_word
from jitops.demo.scene import APPROVER, REQUESTER, TICKET, Scene, StepFailed
from jitops.demo.world import ACTION_LOGIN, TABLE, TARGET
from jitops.markdown import markdown_text
from jitops.models import ActionRequest
from jitops.performing import ActionOutcome
from jitops.policy import Verdict
from jitops.report.comments import action_pull_texts
from jitops.report.text import action_request_output

ACTION = "fix-order-state"  # the action the example policies offer on the database
ORDER = 1002
ACTION_WHY = f"Order {ORDER} is still stuck in payment after {TICKET}"
EVERY_ORDER = "UPDATE orders SET state = 'paid';\n"  # the first version: no WHERE
ONE_ORDER = f"UPDATE orders SET state = 'paid' WHERE id = {ORDER};\n"


class Acting(Scene):
    """An action request, its review, and performing it once."""

    def action_request(self) -> None:
        world = self.world
        clone = world.own_clone(REQUESTER)
        env = world.person_env(REQUESTER)
        sql = world.work / "people" / REQUESTER / "fix.sql"
        sql.write_text(EVERY_ORDER, encoding="utf-8")
        self.say(
            f"order {ORDER} is still stuck. This time {REQUESTER} holds no access at all: she "
            f"asks jitops to run one statement, written in {sql.name}:"
        )
        self.show(EVERY_ORDER)
        ask = ActionAsk(
            TARGET, ACTION, ACTION_WHY, REQUESTER, TICKET, sql=sql.read_text(encoding="utf-8")
        )
        words = ["jitops", "request", TARGET, ACTION, "--sql-file", sql.name, "--ticket"]
        words += [TICKET, "--why", ACTION_WHY, "--requester", REQUESTER, "--open-pr"]
        self.show(f"$ {' '.join(shell_word(w) for w in words)}")
        pull = environment_pull_target(ActionsContext.from_environ(env), None)
        outcome = run_action_ask(
            ask, clone.resolve(), self.clock.now(), (), pull, False, action_pull_texts()
        )
        out, err = action_request_output(outcome)
        self.show(out + err)
        if outcome.result is not Result.OPENED or outcome.pull is None or not outcome.branch:
            raise StepFailed(f"jitops request did not open the action's pull request ({outcome})")
        self.action_pr, self.action_branch = outcome.pull.number, outcome.branch
        self.action_asked, self.action_file = outcome.draft.request, outcome.draft.path
        checked = self.check(world.server.last_event("pull_request", "opened"), "everyone")
        comment = self._gate_comment(self.action_pr)
        self.say(f"the check's comment shows {APPROVER} exactly what will run, and as whom:")
        self.show(_shown_to_approver(comment))
        team = self.approver_team()
        self.expect(
            checked.result.verdict is Verdict.PENDING
            and self.missing(checked, team)
            and EVERY_ORDER.strip() in comment
            and markdown_text(ACTION_LOGIN, quoting=()) in comment,
            f"pending: it needs 1 approval from {team}; the statement is shown as it will run, "
            f"as {ACTION_LOGIN}",
            f"the action request should wait for {team}: {checked.result.summary}",
        )

    def action_review(self) -> None:
        world = self.world
        assert self.action_asked is not None
        world.hub.review(
            world.repo,
            self.action_pr,
            user=APPROVER,
            event="REQUEST_CHANGES",
            body=f"This updates every order. Add WHERE id = {ORDER}.",
        )
        self.say(
            f'{APPROVER} requests changes: "This updates every order. Add WHERE id = {ORDER}." '
            "(merged as it was, the cap of 1 row affected would have rolled it back)"
        )
        fixed = ActionRequest.model_validate(
            {**self.action_asked.model_dump(by_alias=True, exclude_none=True), "sql": ONE_ORDER}
        )
        world.hub.push(
            world.repo,
            self.action_branch,
            {self.action_file: render_action(fixed)},
            author=REQUESTER,
            message=f"Only order {ORDER}",
        )
        self.say(f"{REQUESTER} pushes the statement with its WHERE:")
        self.show(ONE_ORDER)
        pushed = self.check(
            world.server.last_event("pull_request", "synchronize"), f"{REQUESTER} and {APPROVER}"
        )
        self.expect(
            pushed.result.verdict is Verdict.PENDING,
            "pending: a new version of the statement needs an approval of its own",
            f"the changed statement should wait for approval: {pushed.result.summary}",
        )
        outcome = self.approve(
            APPROVER, "One order, as asked", f"{APPROVER} approves it", self.action_pr
        )
        self.expect(
            outcome.result.verdict is Verdict.ALLOWED,
            f"allowed: {outcome.result.summary}",
            f"{APPROVER}'s approval should be enough: {outcome.result.summary}",
        )
        merged = world.hub.merge(world.repo, self.action_pr, user=REQUESTER)
        self.expect(
            merged.merged,
            f"{REQUESTER} merges pull request #{self.action_pr}",
            "the action's pull request did not merge",
        )

    def perform(self) -> None:
        world = self.world
        before = world.database.states()
        first = self._apply_action("on the push to main, the apply workflow runs again")
        self.say(f"{REQUESTER} sees on pull request #{self.action_pr}:")
        comment = next(
            (
                c.body
                for c in world.hub.comments_of(world.repo, self.action_pr)
                if "jitops:action" in c.body
            ),
            "",
        )
        self.show([line for line in comment.splitlines()[1:] if line])
        after = world.database.states()
        changed = {i: s for i, s in after.items() if before.get(i) != s}
        result = first.result
        self.expect(
            first.state == "performed"
            and result is not None
            and result.rows_affected == 1
            and changed == {ORDER: "paid"}
            and "1 row updated" in comment,
            f"performed once as {ACTION_LOGIN}: 1 row updated — order {ORDER} is paid, the other "
            f"orders in {TABLE} untouched; its result digest is recorded in git",
            f"the action was not performed as approved: {first.state}: {first.detail} "
            f"(changed {changed})",
        )
        again = self._apply_action("the workflow is rerun on the same push")
        self.expect(
            again.state == "already performed" and world.database.states() == after,
            "not performed again: its record on origin says it ran",
            f"a rerun performed the action again: {again.state}: {again.detail}",
        )

    # -- helpers ---------------------------------------------------------------------------

    def _gate_comment(self, number: int) -> str:
        world = self.world
        for comment in world.hub.comments_of(world.repo, number):
            if COMMENT_MARKER in comment.body:
                return comment.body
        return ""

    def _apply_action(self, narration: str) -> ActionOutcome:
        world = self.world
        push = world.server.last_event("push")
        self.say(f"{narration}: `jitops apply --push-notes`")
        job = self.run_apply_workflow(push, world.checkout("apply"))
        mine = [a for a in job.report.actions if a.path == self.action_file]
        if len(mine) != 1:
            raise StepFailed(f"apply did not consider the action request: {job.report.actions}")
        return mine[0]


def _shown_to_approver(comment: str) -> list[str]:
    """The lines of the check's comment that say what will run: as whom, within which
    limits, and the statements."""
    lines = comment.splitlines()
    shown = [line for line in lines if line.startswith(("| runs as", "| limits"))]
    if "```sql" in lines:
        start = lines.index("```sql")
        end = lines.index("```", start + 1) if "```" in lines[start + 1 :] else len(lines)
        shown += lines[start - 2 : end + 1]
    return [line for line in shown if line]
