"""The demo's world: an organisation on the GitHub test server, its access repository, and a
PostgreSQL database with a table to read.

Everything is made from this repository's example ``policies/``, changed only where the demo
must: the PostgreSQL target points at the demo's own server. The teams and people the policies
name are created on the server, with the demo's cast in the teams the story needs.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jitops
from jitops import git
from jitops.errors import JitopsError
from jitops.models import is_team, login_key
from jitops.owners import render as render_codeowners
from jitops.policy import PolicySet
from jitops.repo import load_policies
from jitops.testing.github import Account, BranchProtection, Event, GitHubServer, Hub
from jitops.testing.github.state import Repository
from jitops.testing.postgres import (
    EmbeddedPostgres,
    PostgresServer,
    create_login,
    create_provisioner,
    new_password,
)

ORG = "acme"
REPOSITORY = f"{ORG}/access"
TARGET, ROLE = "sandbox-db", "readwrite"  # the access the story asks for
DATABASE, TABLE = "orders", "orders"
PROVISIONER = "jitops_provisioner"
ACTION_LOGIN = "jitops_actions"  # who approved actions run as: may read orders, set a state
STATUS_CONTEXT = "jitops/approval"
BOT = "jitops-bot"  # the workflows' GITHUB_TOKEN (github-actions[bot] on GitHub)


class DemoSetupError(JitopsError):
    """The demo could not build its world (example policies missing or changed)."""


@dataclass(frozen=True)
class Person:
    login: str
    part: str  # what they do in the story
    teams: tuple[str, ...]  # team slugs in the organisation, where the policies name them


CAST = (
    Person("alice", "asks for access", ("engineering",)),
    Person("eve", "reviews, but is no db-lead", ("engineering",)),
    Person("bob", "approves database access", ("engineering", "db-leads")),
    Person("erin", "security: approves admin access, audits", ("security",)),
    Person("dave", "security", ("security",)),
    Person("pat", "platform: owns policies/", ("platform", "platform-leads")),
    Person("quinn", "platform", ("platform",)),
    Person("olivia", "on call", ("oncall",)),
)


class DemoClock:
    """The demo's time: the real clock, moved forward by ``jump_to`` so hours pass at once.

    The GitHub test server stamps commits, reviews and merges with it, and the commands get
    it as their ``now``, so nothing ever sleeps for a window to close.
    """

    def __init__(self) -> None:
        self._offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def jump_to(self, moment: datetime) -> None:
        self._offset = max(self._offset, moment - datetime.now(UTC))


def example_policies() -> Path:
    """This repository's example ``policies/``: beside the package in a checkout (or an
    editable install), inside it in a wheel."""
    package = Path(jitops.__file__).resolve().parent
    for candidate in (package.parent / "policies", package / "examples" / "policies"):
        if (candidate / "targets.yaml").is_file():
            return candidate
    raise DemoSetupError(
        "cannot find the example policies/ the demo builds its access repository from; "
        "run it from a checkout of jitops (python -m pip install -e '.[demo]')"
    )


def load_example(root: Path) -> PolicySet:
    """The policies of the access repository at ``root`` (this repository's example, or the
    demo's adaptation of it), loaded as jitops loads them; the demo cannot run on policies
    with errors."""
    loaded = load_policies(root, parallel=False)  # no worker processes beside server threads
    if loaded.policy_set is None:
        problems = "; ".join(f"{f.location}: {f.text}" for f in loaded.findings)
        raise DemoSetupError(f"the example policies do not load: {problems}")
    if TARGET not in loaded.policy_set.targets or loaded.policy_set.rule_for(TARGET, ROLE) is None:
        raise DemoSetupError(f"the example policies no longer offer {ROLE} on {TARGET}")
    return loaded.policy_set


def principals(policy_set: PolicySet) -> tuple[set[tuple[str, str]], set[str]]:
    """(teams as (org, slug), users) that the policies name."""
    named: list[str] = []
    for policy in policy_set.policies:
        named += policy.requesters + policy.request_for_others
        for rule in policy.roles.values():
            for approval in rule.approvals:
                named += approval.from_
    if policy_set.policy_change_rule is not None:
        for approval in policy_set.policy_change_rule.approvals:
            named += approval.from_
    teams = {login_key(p).partition("/") for p in named if is_team(p)}
    users = {login_key(p) for p in named if not is_team(p)}
    return {(org, slug) for org, _, slug in teams}, users


# -- the database ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Database:
    """The demo's PostgreSQL: database ``orders`` with table ``orders``, roles for each jitops
    role, a least-privilege provisioner, the login approved actions run as (it may read the
    orders and set their state, nothing more), and a login for the requester (set up by the
    DBA: jitops grants roles, it does not hand out passwords)."""

    server: PostgresServer
    version: str
    provisioner_password: str
    action_password: str
    pg_roles: dict[str, str]  # jitops role → PostgreSQL role
    passwords: dict[str, str]  # person → their own database password

    @staticmethod
    def login(person: str) -> str:
        return f"jit_{person}"

    def connect_as(self, person: str) -> Any:
        return self.server.connect(
            self.login(person), self.passwords[person], dbname=DATABASE, autocommit=True
        )

    def memberships(self, person: str) -> list[tuple[str, bool, bool]]:
        """(role, inherit, set) of each role ``person``'s login is a member of."""
        rows = self.server.admin(
            """
            SELECT r.rolname, a.inherit_option, a.set_option
            FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.roleid
            JOIN pg_roles m ON m.oid = a.member WHERE m.rolname = %s ORDER BY 1
            """,
            (self.login(person),),
        )
        return [(str(role), bool(inherit), bool(set_)) for role, inherit, set_ in rows]

    def valid_until(self, person: str) -> datetime | None:
        rows = self.server.admin(
            "SELECT rolvaliduntil FROM pg_roles WHERE rolname = %s", (self.login(person),)
        )
        return rows[0][0] if rows and rows[0][0] is not None else None

    def states(self) -> dict[int, str]:
        """Each order's state, as the database holds it."""
        rows = self.server.admin(f"SELECT id, state FROM {TABLE} ORDER BY id", dbname=DATABASE)
        return {int(i): str(state) for i, state in rows}

    def target_settings(self) -> dict[str, Any]:
        return {
            "host": self.server.host,
            "port": self.server.port,
            "dbname": DATABASE,
            "user": PROVISIONER,
            "action_user": ACTION_LOGIN,
            "roles": dict(self.pg_roles),
        }


def start_database(
    parent: Path, roles: list[str], people: list[str], *, keep: bool
) -> tuple[EmbeddedPostgres, Database]:
    parent.mkdir(parents=True, exist_ok=True)
    embedded = EmbeddedPostgres(parent, keep_data=keep)
    try:
        server = embedded.server
        pg_roles = {role: f"{DATABASE}_{role}" for role in roles}
        password, action_password = new_password(), new_password()
        server.admin(f"CREATE DATABASE {DATABASE}")
        create_provisioner(server, PROVISIONER, password, pg_roles.values())
        create_login(server, ACTION_LOGIN, action_password)
        statements = [
            f"CREATE TABLE {TABLE} (id int PRIMARY KEY, customer text, total numeric, state text)",
            f"INSERT INTO {TABLE} VALUES (1001, 'Ada', 42.50, 'shipped'), "
            "(1002, 'Grace', 17.00, 'stuck in payment'), (1003, 'Linus', 99.90, 'shipped')",
        ]
        reads = [pg_roles[r] for r in ("readonly", "readwrite", "admin") if r in pg_roles]
        statements += [f"GRANT SELECT ON {TABLE} TO {role}" for role in reads]
        statements += [
            f"GRANT INSERT, UPDATE ON {TABLE} TO {pg_roles[r]}"
            for r in ("readwrite", "admin")
            if r in pg_roles
        ]
        statements.append(f"GRANT SELECT, UPDATE (state) ON {TABLE} TO {ACTION_LOGIN}")
        for statement in statements:
            server.admin(statement, dbname=DATABASE)
        passwords = {}
        for person in people:
            passwords[person] = new_password()
            create_login(server, Database.login(person), passwords[person])
            # Handed over once, so the provisioner may set VALID UNTIL on it.
            server.admin(f"GRANT {Database.login(person)} TO {PROVISIONER} WITH ADMIN OPTION")
        database = Database(
            server, embedded.version, password, action_password, pg_roles, passwords
        )
        return embedded, database
    except BaseException:
        embedded.stop()
        raise


# -- GitHub ----------------------------------------------------------------------------------


def _adapted_target(text: str, settings: dict[str, Any]) -> str:
    """A postgres Target file with its settings replaced, comments kept."""
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    document = yaml.load(text)
    document["settings"] = settings
    out = io.StringIO()
    yaml.dump(document, out)
    return out.getvalue()


def access_files(policies: Path, database: Database) -> dict[str, str]:
    """The access repository's first commit: the example policies with the postgres target
    pointed at the demo's database, and CODEOWNERS rendered from them."""
    files: dict[str, str] = {}
    adapted = False
    for path in sorted(policies.rglob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        if "kind: Target" in text and f"name: {TARGET}" in text:
            text = _adapted_target(text, database.target_settings())
            adapted = True
        files[f"policies/{path.relative_to(policies).as_posix()}"] = text
    if not adapted:
        raise DemoSetupError(f"the example policies have no target {TARGET!r} to point at")
    files["requests/.gitkeep"] = ""
    return files


@dataclass
class World:
    """Both servers, the people, and where the workflows' checkouts go."""

    server: GitHubServer
    repo: Repository
    accounts: dict[str, Account]
    bot: Account
    database: Database
    policy_set: PolicySet
    secret_env: dict[str, str]  # the target secrets, as the apply and sweep jobs get them
    action_env: dict[str, str]  # the action login's secret: the apply jobs alone get it
    work: Path
    clock: DemoClock
    _runs: Iterator[int] = field(default_factory=lambda: iter(range(1, 10_000)))

    @property
    def hub(self) -> Hub:
        return self.server.hub

    def checkout(self, job: str) -> Path:
        """A fresh clone of the default branch, as a workflow job's checkout."""
        dest = self.work / "checkouts" / f"{next(self._runs):02}-{job}"
        dest.parent.mkdir(parents=True, exist_ok=True)
        git.clone(self.server.clone_url(self.repo.full_name), dest, token=self.bot.token)
        return dest

    def own_clone(self, login: str) -> Path:
        """``login``'s own clone of the access repository, over smart HTTP with their token
        (sent as ``jitops request`` sends it: a header, never stored in the clone), with git
        told who they are; made once (``--open-pr`` fetches the default branch itself)."""
        account = self.accounts[login]
        dest = self.work / "people" / login / self.repo.name
        if dest.is_dir():
            return dest
        dest.parent.mkdir(parents=True, exist_ok=True)
        git.clone(self.server.clone_url(self.repo.full_name), dest, token=account.token)
        git.set_identity(dest, account.user.name, account.user.email)
        return dest

    def person_env(self, login: str) -> dict[str, str]:
        """What ``jitops request --open-pr`` reads from a person's shell: their token, and the
        API of the GitHub the access repository lives on."""
        return {"GITHUB_TOKEN": self.accounts[login].token, "GITHUB_API_URL": self.server.base_url}

    def job_env(
        self, event: Event | None = None, *, secrets: bool = False, performs: bool = False
    ) -> dict[str, str]:
        """The environment of a workflow step: the event, the token, the API; the target
        secrets only for the jobs that provision (apply and sweep), the action login's only
        for those that perform actions (apply), as the workflows jitops init writes."""
        env = {
            "GITHUB_TOKEN": self.bot.token,
            "GITHUB_API_URL": self.server.base_url,
            "GITHUB_REPOSITORY": self.repo.full_name,
        }
        if event is not None:
            events = self.work / "events"
            events.mkdir(exist_ok=True)
            path = events / f"{len(list(events.iterdir())) + 1:02}-{event.name}.json"
            env |= event.actions_env(path, self.bot.token)
        if secrets:
            env |= self.secret_env
        if performs:
            env |= self.action_env
        return env

    def status(self, sha: str) -> tuple[str, str]:
        """(state, description) of the jitops/approval status on ``sha``, as GitHub shows."""
        found = [s for s in self.hub.statuses_for(self.repo, sha) if s.context == STATUS_CONTEXT]
        if not found:
            return "none", ""
        latest = max(found, key=lambda s: s.id)
        return str(latest.state), str(latest.description or "")


def build_world(server: GitHubServer, database: Database, work: Path, clock: DemoClock) -> World:
    hub = server.hub
    hub.state.clock = clock.now
    files = access_files(example_policies(), database)
    staged = work / "access-source"  # the first commit, loaded as jitops will load it
    for name, text in files.items():
        path = staged / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    policy_set = load_example(staged)
    files[".github/CODEOWNERS"] = render_codeowners(policy_set)

    teams, users = principals(policy_set)
    logins = [p.login for p in CAST] + sorted(users - {p.login for p in CAST})
    accounts = {login: hub.add_user(login) for login in logins}
    bot = hub.add_user(BOT, user_type="Bot")
    for org in sorted({org for org, _ in teams} | {ORG}):
        hub.add_org(org, members=logins)
    for org, slug in sorted(teams):
        members = [p.login for p in CAST if slug in p.teams and org == ORG]
        hub.add_team(org, slug, members=members)
    owner = next(p.login for p in CAST if "platform" in p.teams)
    repo = hub.create_repo(REPOSITORY, files=files, author=owner)
    for login in [*logins, bot.login]:
        hub.add_collaborator(repo, login, "write")
    hub.protect_branch(
        repo, repo.default_branch, BranchProtection(required_status_checks=(STATUS_CONTEXT,))
    )
    repo = hub.set_allow_auto_merge(repo)
    target = policy_set.targets[TARGET]
    secret_env = {target.secrets["password"]: database.provisioner_password}
    action_env = {target.secrets["action_password"]: database.action_password}
    return World(
        server, repo, accounts, bot, database, policy_set, secret_env, action_env, work, clock
    )
