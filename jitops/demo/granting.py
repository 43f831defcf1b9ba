"""The granting acts: the apply workflow re-verifies and grants; alice reads the table."""

from __future__ import annotations

from jitops.commands.apply import Action
from jitops.commands.status import StatusOptions, status
from jitops.demo.scene import REQUESTER, Scene, StepFailed
from jitops.demo.world import DATABASE, TABLE, TARGET
from jitops.ledger import GrantState
from jitops.report.text import status_rows, table


class Granting(Scene):
    """The grant, and using it."""

    def apply(self) -> None:
        world = self.world
        push = world.server.last_event("push")
        self.say(
            f"on the push to main, the apply workflow runs `jitops apply --push-notes` (it alone "
            f"has the {TARGET} password)"
        )
        checkout = world.checkout("apply")
        job = self.run_apply_workflow(push, checkout)
        report, published = job.report, job.published
        if published is None or published.index is None:
            why = published.index_problem if published is not None else "nothing was published"
            raise StepFailed(f"the request-id index was not updated: {why}")
        granted = report.with_action(Action.GRANTED)
        self.say(f"{REQUESTER} sees on pull request #{self.pr}:")
        comments = world.hub.comments_of(world.repo, self.pr)
        self.show(
            [
                line
                for c in comments
                if "jitops:apply" in c.body
                for line in c.body.splitlines()[1:]
                if line
            ]
        )
        self.expect(
            len(granted) == 1 and not report.failed,
            "re-verified through the API (reviews on the merged head, team memberships, the "
            f"policies before the merge), then granted {granted[0].detail if granted else ''}",
            "apply did not grant: "
            + "; ".join(f"{o.action.value}: {o.detail}" for o in report.outcomes),
        )
        self.expires_at = granted[0].entry.expires_at
        listing = status(StatusOptions(root=checkout, at=self.clock.now()))
        self.say("`jitops status` in any checkout:")
        self.show(
            table(
                ("state", "who", "access", "until (UTC)", "left", "request"),
                status_rows(listing.entries, self.clock.now()),
            )
        )
        active = listing.in_state(GrantState.ACTIVE)
        self.expect(
            [e.request.id for e in active] == [self.request_id],
            "active, from git alone",
            f"status does not list the grant as active: {[e.request.id for e in active]}",
        )

    def read(self) -> None:
        database = self.world.database
        memberships = database.memberships(REQUESTER)
        self.say(
            f"{database.login(REQUESTER)} is now a member of "
            + ", ".join(
                f"{role} (INHERIT {str(inherit).upper()}, SET {str(set_).upper()})"
                for role, inherit, set_ in memberships
            )
            + f", VALID UNTIL {database.valid_until(REQUESTER):%Y-%m-%d %H:%M} UTC"
        )
        self.say(f"{REQUESTER} connects to {DATABASE} and runs SELECT * FROM {TABLE}:")
        self.session = self.resources.enter_context(database.connect_as(REQUESTER))
        rows = self.session.execute(
            f"SELECT id, customer, total, state FROM {TABLE} ORDER BY id"
        ).fetchall()
        self.show(
            table(
                ("id", "customer", "total", "state"), [tuple(str(v) for v in row) for row in rows]
            )
        )
        self.expect(
            len(rows) == 3,
            f"read succeeded: {len(rows)} rows; she keeps the session open",
            f"read returned {len(rows)} rows",
        )
