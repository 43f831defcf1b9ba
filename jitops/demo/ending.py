"""The closing acts: the sweep revokes at expiry, the access is gone, and an auditor reads
it all from git."""

from __future__ import annotations

from datetime import timedelta

from jitops.commands.audit import AuditQuery, audit_listing
from jitops.commands.sweep import (
    AutoMerge,
    GitHubTarget,
    SweepJobOptions,
    SweepOptions,
    run_sweep_job,
)
from jitops.demo.probes import new_session_error, read_error
from jitops.demo.scene import APPROVER, AUDITOR, REQUESTER, Scene
from jitops.demo.world import ROLE, TABLE, TARGET
from jitops.report.comments import sweep_markdown, sweep_texts
from jitops.report.text import action_audit_rows, audit_output


class Ending(Scene):
    """Expiry, revocation and the audit."""

    def sweep(self) -> None:
        world = self.world
        assert self.expires_at is not None
        moment = self.expires_at + timedelta(minutes=1)
        self.clock.jump_to(moment)
        self.say(
            f"the demo's clock jumps to {moment:%Y-%m-%d %H:%M} UTC, a minute past the expiry "
            "(nothing sleeps)"
        )
        self.say("the scheduled sweep workflow runs `jitops sweep --open-pr --record`:")
        checkout = world.checkout("sweep")
        env = world.job_env(secrets=True)
        job = run_sweep_job(
            SweepJobOptions(
                SweepOptions(root=checkout, now=self.clock.now()),
                GitHubTarget(
                    env["GITHUB_REPOSITORY"], env["GITHUB_TOKEN"], env["GITHUB_API_URL"], "main"
                ),
                open_pr=True,
                record=True,
                token=env["GITHUB_TOKEN"],
            ),
            env,
            sweep_texts(),
        )
        report, record = job.report, job.on_github
        self.say("its job summary:")
        self.show([line for line in sweep_markdown(report, record).splitlines()[1:] if line])
        self.expect(
            [r.entry.request.id for r in report.revoked] == [self.request_id] and not report.failed,
            "revoked at once, whether or not anyone merges the revocation pull request",
            "the expired grant was not revoked: "
            + "; ".join(f"{r.outcome.value}: {r.detail}" for r in report.revocations),
        )
        pull = record.pull
        self.expect(
            pull is not None and pull.auto_merge is AutoMerge.REQUESTED,
            f"revocation pull request #{pull.number if pull else 0} opened, auto-merge "
            "requested, jitops/approval posted",
            "no revocation pull request with auto-merge: " + "; ".join(record.warnings),
        )
        assert pull is not None
        merged = world.hub.pull(world.repo, pull.number)
        self.say(f"everyone sees pull request #{pull.number}, {merged.title!r}:")
        self.show([line for line in (merged.body or "").splitlines() if line.startswith("|")])
        self.expect(
            merged.merged,
            f"GitHub merged #{pull.number} by itself once the status was green "
            f"(for @{merged.merged_by}, who asked for auto-merge)",
            f"revocation pull request #{pull.number} did not merge",
        )

    def revoked(self) -> None:
        database = self.world.database
        ended = read_error(self.session)
        self.expect(
            ended is not None and "terminat" in ended,
            f"her open session was ended: {ended}",
            f"her open session still works after the revoke ({ended or 'it read the table'})",
        )
        fresh = new_session_error(database, REQUESTER)
        self.expect(
            fresh is not None,
            f"a new session cannot read: {fresh}",
            f"a new session could read {TABLE} after the revoke",
        )
        memberships = database.memberships(REQUESTER)
        self.expect(
            not memberships,
            f"{database.login(REQUESTER)} is a member of no role, and its password stopped "
            "working at the revoke (VALID UNTIL)",
            f"{database.login(REQUESTER)} is still a member of {memberships}",
        )

    def audit(self) -> None:
        world = self.world
        self.say(
            f"{AUDITOR} clones {world.repo.full_name} and runs `jitops audit` (which fetches the "
            "evidence and revocation notes a clone lacks):"
        )
        checkout = world.checkout("audit")
        # as `jitops audit` does: origin's evidence and revocation notes merged in first
        report = audit_listing(checkout, "HEAD", AuditQuery(), True, world.bot.token)
        self.show(audit_output(report)[0])
        records = [r for r in report.records if r.request.id == self.request_id]
        record = records[0] if records else None
        self.expect(
            record is not None
            and record.approvers == (APPROVER,)
            and record.pull_request == self.pr,
            f"@{REQUESTER} held {ROLE} on {TARGET} for its window, approved by @{APPROVER} "
            f"({self.approver_team()}) on pull request #{self.pr}",
            f"the audit does not show who approved the grant: {record}",
        )
        assert record is not None
        self.expect(
            record.removed_commit is not None
            and record.policy_commit is not None
            and not report.unverified,
            f"under the policies of commit {str(record.policy_commit)[:7]}; its file removed by "
            f"{str(record.removed_commit)[:7]}; nothing landed without a valid approval",
            f"the audit is incomplete: removed by {record.removed_commit}, policies of "
            f"{record.policy_commit}, {len(report.unverified)} without approval evidence",
        )
        revoked, lag = record.revoked_at, record.revoke_lag
        self.expect(
            revoked is not None and lag is not None and lag <= timedelta(minutes=15),
            f"access ended at the target {revoked:%H:%M} UTC, as the sweep recorded it: "
            f"{int(lag.total_seconds() // 60) if lag else 0} minute(s) after the window",
            f"the audit does not show when the sweep revoked the grant ({revoked})",
        )
        acted = [a for a in report.actions if a.path == self.action_file]
        rows = action_audit_rows(report)
        self.expect(
            len(acted) == 1
            and acted[0].state == "performed"
            and any(r[0] == acted[0].request_id and f"@{APPROVER}" in r[3] for r in rows),
            f"and the action: @{REQUESTER} asked, @{APPROVER} approved, performed once, with "
            "its result's digest — from git alone",
            f"the audit does not show the action as performed: {[a.state for a in acted]}",
        )
