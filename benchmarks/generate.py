"""Generate a synthetic access repository, the yardstick of jitops' speed targets.

The brief's yardstick is an access repository of 10,000 active requests, 200 policies and
50,000 commits. This script builds one, deterministically from ``--seed``:

- ``policies/targets/<target>.yaml``: one ``Target`` per two policies, of the four provisioner
  kinds (postgres, aws, github-team, exec) with settings that fit each kind;
- ``policies/access/<policy>.yaml``: two policies per target, one for its low-risk role
  (often auto-approved, a long maximum) and one for its elevated roles (approvals from the
  domain's leads, and from security for admin roles; a ticket rule on most);
- ``policies/policy-changes.yaml``: the one ``PolicyChangeRule``;
- ``policies/tests/smoke.yaml``: a few ``PolicyTest`` cases, so ``jitops test`` runs too;
- ``.github/CODEOWNERS``: rendered by jitops itself (``jitops.owners.render``);
- ``requests/<target>/<role>/<id>.yaml``: the active requests, every one allowed by its policy
  (or pending approval) and within its role's maximum: a ``duration`` mostly, a scheduled
  window far in the future for some.

Everything is committed with ``git fast-import``: one commit of policies, then (with
``--commits``) a long first-parent history in which requests are added one per merge and swept
away in batches, as in a real access repository, then the active requests in a handful of
commits. Commit times are fixed (the last commit is at ``HEAD_TIME``), so the same seed gives
the same commit ids; run ``jitops validate --now`` a minute after the last commit (the script
prints the exact command) and every request is active.

Run: ``python3 benchmarks/generate.py OUT_DIR [--requests N] [--policies N] [--commits N]
[--seed S] [--force]``.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

ORG = "acme"
# The time of the last commit. Fixed, so a seed always yields the same repository.
HEAD_TIME = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
# The time to judge the repository at (``jitops validate --now``): every request is active.
NOW = HEAD_TIME + timedelta(minutes=1)
# Commits that add the active requests (when --commits allows), three minutes apart.
REQUEST_COMMITS = 7
REQUEST_COMMIT_SPACING = timedelta(minutes=3)
# Older history: one merged request per commit, ten minutes apart, swept every SWEEP_EVERY.
HISTORY_SPACING = timedelta(minutes=10)
SWEEP_EVERY = 10
COMMITTER = "GitHub <noreply@github.com>"

DOMAINS = (
    "orders",
    "payments",
    "billing",
    "search",
    "catalog",
    "inventory",
    "shipping",
    "identity",
    "notifications",
    "analytics",
    "ledger",
    "pricing",
    "reviews",
    "recommendations",
    "media",
    "checkout",
    "fraud",
    "support",
    "marketing",
    "reporting",
    "gateway",
    "warehouse",
    "loyalty",
    "returns",
)
FIRST_NAMES = (
    "alice",
    "bob",
    "carol",
    "dave",
    "erin",
    "frank",
    "grace",
    "heidi",
    "ivan",
    "judy",
    "mallory",
    "niaj",
    "olivia",
    "peggy",
    "rupert",
    "sybil",
    "trent",
    "victor",
    "walter",
    "yusuf",
    "zoe",
    "amara",
    "bjorn",
    "chen",
    "dmitri",
    "elif",
    "fatima",
    "goran",
    "hana",
    "ines",
    "jonas",
    "kenji",
    "leila",
    "mateo",
    "noor",
    "oskar",
    "priya",
    "quinn",
    "rosa",
    "santiago",
)
PROBLEMS = (
    "p99 latency on the {thing} after the index change",
    "failed nightly job that rebuilds the {thing}",
    "customer report of missing rows in the {thing}",
    "replication lag alerts on the {thing}",
    "a migration that left the {thing} half updated",
    "error spike in the {thing} after the last deploy",
    "capacity review of the {thing} before the sale",
    "a data fix for duplicated entries in the {thing}",
    "checking the {thing} against the audit export",
    "the rollout of the new {thing} schema",
)
THINGS = ("orders table", "events queue", "nightly export", "cache", "ledger", "index", "reports")
VERBS = ("Investigate", "Debug", "Fix", "Verify", "Follow up on", "Look into", "Repair")

# Request windows people ask for, smallest first; a request picks one within its maximum.
DURATIONS = ("30m", "1h", "1h30m", "2h", "3h", "4h", "6h", "8h", "12h", "1d")
DURATION_MINUTES = {"m": 1, "h": 60, "d": 1440}


@dataclass(frozen=True)
class RoleSpec:
    """One role of a target kind and its risk: low (often auto-approved), mid or high."""

    name: str
    risk: str


KINDS: dict[str, tuple[str, tuple[RoleSpec, ...]]] = {
    # kind → (suffix of target names, its roles, lowest risk first)
    "postgres": ("db", (RoleSpec("readonly", "low"), RoleSpec("readwrite", "mid"),
                        RoleSpec("admin", "high"))),
    "aws": ("aws", (RoleSpec("viewer", "low"), RoleSpec("operator", "mid"),
                    RoleSpec("admin", "high"))),
    "github-team": ("deployers", (RoleSpec("member", "low"), RoleSpec("maintainer", "high"))),
    "exec": ("jobs", (RoleSpec("read", "low"), RoleSpec("write", "mid"),
                      RoleSpec("break-glass", "high"))),
}  # fmt: skip
KIND_WEIGHTS = {"postgres": 5, "aws": 2, "github-team": 1.5, "exec": 1.5}
RISK_WEIGHTS = {"low": 6, "mid": 3, "high": 1}


@dataclass
class RoleRule:
    target: str
    role: str
    risk: str
    max_minutes: int
    auto_approve: bool
    ticket_pattern: str | None


@dataclass
class Plan:
    """What the generator decided: the files of the first commit and the rules requests meet."""

    files: dict[str, str] = field(default_factory=dict)
    rules: list[RoleRule] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)


def minutes(duration: str) -> int:
    """``1h30m`` → 90."""
    return sum(int(n) * DURATION_MINUTES[u] for n, u in re.findall(r"(\d+)([mhd])", duration))


def scalar(text: str) -> str:
    """``text`` as a YAML scalar: plain when that is unambiguous, else double-quoted."""
    if re.fullmatch(r"[A-Za-z][A-Za-z0-9 ,.()/_'+-]*[A-Za-z0-9).]", text) and ": " not in text:
        return text
    return json.dumps(text)


def env_name(target: str, secret: str) -> str:
    return f"JITOPS_{target.upper().replace('-', '_')}_{secret.upper()}"


# -- policies -------------------------------------------------------------------------------


def _target_yaml(name: str, kind: str, domain: str, roles: list[str], rng: random.Random) -> str:
    lines = [
        "apiVersion: jitops/v1",
        "kind: Target",
        f"name: {name}",
        f"description: {scalar(f'Sandbox {kind} target of the {domain} team')}",
        f"provisioner: {kind}",
        f"roles: [{', '.join(roles)}]",
        "settings:",
    ]
    if kind == "postgres":
        lines += [
            f"  host: {name}.sandbox.internal.example.com",
            "  port: 5432",
            f"  dbname: {domain}",
            "  user: jitops_provisioner",
            f"  sslmode: {rng.choice(['require', 'verify-full'])}",
            "secrets:",
            f"  password: {env_name(name, 'password')}",
        ]
    elif kind == "aws":
        lines += [
            f"  region: {rng.choice(['us-east-1', 'eu-west-1', 'eu-central-1', 'ap-south-1'])}",
            f"  group_path: /jitops/{domain}/",
            "  roles:",
            *(f"    {role}: {name}-{role}" for role in roles),
        ]
    elif kind == "github-team":
        lines += [
            f"  org: {ORG}",
            "  roles:",
            *(f"    {role}: {name}-{role}s" for role in roles),
            "secrets:",
            "  token: JITOPS_GITHUB_TEAM_TOKEN",
        ]
    else:
        lines += [
            f"  command: [/opt/jitops/bin/{domain}-access, --target, {name}]",
            f"  timeout: {rng.choice([30, 60, 120])}",
            "  can_list: true",
            "secrets:",
            f"  api_token: {env_name(name, 'api_token')}",
        ]
    return "\n".join(lines) + "\n"


def _role_yaml(rule: RoleRule, domain: str, rng: random.Random) -> list[str]:
    max_text = next(d for d in DURATIONS if minutes(d) == rule.max_minutes)
    lines = [f"  {rule.role}:", f"    max_duration: {max_text}"]
    if rule.auto_approve:
        lines.append("    auto_approve: true")
    else:
        leads = [f"@{ORG}/{domain}-leads"]
        if rng.random() < 0.2:
            leads.append(rng.choice(FIRST_NAMES))  # a named person beside the team
        lines += ["    approvals:", "      - count: 1", f"        from: {json.dumps(leads)}"]
        if rule.risk == "high":
            lines += ["      - count: 1", f'        from: ["@{ORG}/security"]']
    if rule.ticket_pattern is not None:
        lines += [
            "    ticket:",
            "      required: true",
            f"      pattern: {json.dumps(rule.ticket_pattern)}",
        ]
    return lines


def _policy_yaml(
    name: str, target: str, domain: str, rules: list[RoleRule], rng: random.Random
) -> str:
    requesters = [f"@{ORG}/engineering"]
    if rng.random() < 0.3:
        requesters.append(f"@{ORG}/{domain}")
    lines = [
        "apiVersion: jitops/v1",
        "kind: Policy",
        f"name: {name}",
        f"description: {scalar(f'Who may use {target}, for how long, approved by whom')}",
        f"targets: [{target}]",
        f"requesters: {json.dumps(requesters)}",
    ]
    if rng.random() < 0.5:
        lines.append(f'request_for_others: ["@{ORG}/oncall"]')
    lines.append("roles:")
    for rule in rules:
        lines += _role_yaml(rule, domain, rng)
    return "\n".join(lines) + "\n"


def _rule(target: str, spec: RoleSpec, rng: random.Random) -> RoleRule:
    if spec.risk == "low":
        return RoleRule(
            target,
            spec.name,
            spec.risk,
            minutes(rng.choice(["8h", "12h", "1d"])),
            auto_approve=rng.random() < 0.6,
            ticket_pattern=None,
        )
    if spec.risk == "mid":
        return RoleRule(
            target,
            spec.name,
            spec.risk,
            minutes(rng.choice(["2h", "4h", "8h"])),
            auto_approve=False,
            ticket_pattern="INC-[0-9]+|CHG-[0-9]+" if rng.random() < 0.6 else None,
        )
    return RoleRule(
        target,
        spec.name,
        spec.risk,
        minutes(rng.choice(["30m", "1h", "2h"])),
        auto_approve=False,
        ticket_pattern="INC-[0-9]+",
    )


POLICY_CHANGE_RULE = f"""\
# Changes to policies/, CODEOWNERS, workflows or jitops itself need two platform engineers.
apiVersion: jitops/v1
kind: PolicyChangeRule
description: Two platform engineers review every change to how access is granted.
approvals:
  - count: 2
    from: ["@{ORG}/platform"]
"""


def _policy_tests(first: list[RoleRule]) -> str:
    """A few cases on the first target: its low-risk role without review, its riskiest with."""
    low, high = first[0], first[-1]
    low_expect = "allowed" if low.auto_approve else "pending"
    ticket = "\n      ticket: INC-1" if high.ticket_pattern else ""
    return f"""\
apiVersion: jitops/v1
kind: PolicyTest
description: Smoke cases for the synthetic repository.
cases:
  - name: {low.role} on {low.target} without review
    now: {HEAD_TIME:%Y-%m-%dT%H:%M:%SZ}
    request: {{requester: alice, target: {low.target}, role: {low.role}, duration: 30m}}
    requester_teams: ["@{ORG}/engineering"]
    expect: {{decision: {low_expect}}}
  - name: {high.role} on {high.target} waits for its approvers
    now: {HEAD_TIME:%Y-%m-%dT%H:%M:%SZ}
    request:
      requester: alice
      target: {high.target}
      role: {high.role}
      duration: 30m{ticket}
    requester_teams: ["@{ORG}/engineering"]
    expect: {{decision: pending, reason: needs 1 approval}}
  - name: nobody asks for longer than the maximum
    now: {HEAD_TIME:%Y-%m-%dT%H:%M:%SZ}
    request: {{requester: alice, target: {low.target}, role: {low.role}, duration: 2d}}
    requester_teams: ["@{ORG}/engineering"]
    expect: {{decision: denied, reason: over the {low.role} maximum}}
"""


def plan_policies(policy_count: int, rng: random.Random) -> Plan:
    """Targets and policies: two policies per target (the last alone when the count is odd)."""
    plan = Plan()
    kinds = list(KIND_WEIGHTS)
    weights = list(KIND_WEIGHTS.values())
    target_count = -(-policy_count // 2)
    first_rules: list[RoleRule] = []
    for index in range(target_count):
        domain = DOMAINS[index % len(DOMAINS)]
        kind = rng.choices(kinds, weights)[0]
        suffix, specs = KINDS[kind]
        name = f"{domain}-{suffix}-{index + 1:03d}"
        rules = [_rule(name, spec, rng) for spec in specs]
        plan.files[f"policies/targets/{name}.yaml"] = _target_yaml(
            name, kind, domain, [r.role for r in rules], rng
        )
        if index == target_count - 1 and policy_count % 2:
            groups = [(f"{name}-all", rules)]
        else:
            groups = [(f"{name}-read", rules[:1]), (f"{name}-elevated", rules[1:])]
        for policy_name, group in groups:
            text = _policy_yaml(policy_name, name, domain, group, rng)
            plan.files[f"policies/access/{policy_name}.yaml"] = text
        plan.rules.extend(rules)
        if index == 0:
            first_rules = rules
    plan.files["policies/policy-changes.yaml"] = POLICY_CHANGE_RULE
    plan.files["policies/tests/smoke.yaml"] = _policy_tests(first_rules)
    return plan


def render_codeowners(root: Path) -> str:
    """CODEOWNERS as jitops renders it from the policies written under ``root``."""
    from jitops.findings import Severity
    from jitops.owners import render
    from jitops.repo import load_policies

    loaded = load_policies(root)
    errors = [f for f in loaded.findings if f.severity is not Severity.WARNING]
    if loaded.policy_set is None or errors:
        problems = "\n".join(f"  {f.path}:{f.line}: {f.message}" for f in loaded.findings[:20])
        raise SystemExit(f"generate: the generated policies do not load:\n{problems}")
    return render(loaded.policy_set)


# -- requests -------------------------------------------------------------------------------


def _logins(rng: random.Random, count: int = 600) -> list[str]:
    logins: set[str] = set()
    while len(logins) < count:
        name = rng.choice(FIRST_NAMES)
        style = rng.random()
        if style < 0.4:
            login = f"{name}{rng.randint(1, 999)}"
        elif style < 0.7:
            login = f"{name}-{rng.choice('abcdefghijklmnoprstwz')}{rng.randint(1, 99)}"
        else:
            login = f"{name.capitalize()}-{rng.choice(DOMAINS)[:4]}{rng.randint(1, 9)}"
        logins.add(login)
    return sorted(logins)


def request_text(
    rule: RoleRule,
    request_id: str,
    requester: str,
    rng: random.Random,
    *,
    scheduled: bool,
) -> str:
    """One AccessRequest, allowed (or pending approval) by ``rule`` and within its maximum."""
    ticket: str | None = None
    if rule.ticket_pattern is not None or rng.random() < 0.4:
        ticket = f"{rng.choice(['INC', 'INC', 'CHG'])}-{rng.randint(1000, 99999)}"
        if rule.ticket_pattern == "INC-[0-9]+":
            ticket = "INC-" + ticket.split("-")[1]
    thing = rng.choice(THINGS)
    problem = rng.choice(PROBLEMS).format(thing=thing)
    why = f"{rng.choice(VERBS)} {ticket + ', ' if ticket else ''}{problem}"
    fitting = [d for d in DURATIONS if minutes(d) <= rule.max_minutes]
    duration = rng.choice(fitting)
    lines = []
    if rng.random() < 0.15:
        lines.append(f"# {rng.choice(VERBS)} {thing}, requested through jitops request")
    lines += [
        "apiVersion: jitops/v1",
        "kind: AccessRequest",
        f"id: {request_id}",
        f"requester: {requester}",
        f"target: {rule.target}",
        f"role: {rule.role}",
        f"justification: {scalar(why)}",
    ]
    if ticket is not None:
        lines.append(f"ticket: {ticket}")
    if scheduled:
        # a maintenance window far in the future: not closed, and within the maximum
        start = datetime(
            2099, rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23), tzinfo=UTC
        )
        end = start + timedelta(minutes=minutes(duration))
        lines.append(f"starts_at: {start:%Y-%m-%dT%H:%M:%SZ}")
        lines.append(f"expires_at: {end:%Y-%m-%dT%H:%M:%SZ}")
    else:
        lines.append(f"duration: {duration}")
    return "\n".join(lines) + "\n"


def request_path(rule: RoleRule, request_id: str) -> str:
    return f"requests/{rule.target}/{rule.role}/{request_id}.yaml"


# -- git ------------------------------------------------------------------------------------


class FastImport:
    """A ``git fast-import`` stream onto ``refs/heads/main``."""

    def __init__(self, root: Path) -> None:
        self.process = subprocess.Popen(
            ["git", "-C", str(root), "fast-import", "--quiet", "--done"],
            stdin=subprocess.PIPE,
        )
        assert self.process.stdin is not None
        self.out: IO[bytes] = self.process.stdin

    def _data(self, payload: bytes) -> None:
        self.out.write(b"data %d\n" % len(payload))
        self.out.write(payload)
        self.out.write(b"\n")

    def commit(
        self,
        at: datetime,
        author: str,
        message: str,
        added: dict[str, str],
        deleted: Sequence[str] = (),
    ) -> None:
        stamp = int(at.timestamp())
        self.out.write(b"commit refs/heads/main\n")
        self.out.write(f"author {author} {stamp} +0000\n".encode())
        self.out.write(f"committer {COMMITTER} {stamp} +0000\n".encode())
        self._data(message.encode())
        for path in deleted:
            self.out.write(f"D {path}\n".encode())
        for path, text in added.items():
            self.out.write(f"M 100644 inline {path}\n".encode())
            self._data(text.encode())
        self.out.write(b"\n")

    def close(self) -> None:
        self.out.write(b"done\n")
        self.out.close()
        if self.process.wait() != 0:
            raise SystemExit("generate: git fast-import failed")


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, stdout=subprocess.DEVNULL)


def _person(login: str) -> str:
    return f"{login} <{login.lower()}@users.noreply.github.com>"


def _progress(message: str, started: float) -> None:
    print(f"generate: {message} ({time.monotonic() - started:.1f}s)", file=sys.stderr, flush=True)


def _history(
    stream: FastImport,
    plan: Plan,
    count: int,
    end: datetime,
    rng: random.Random,
    started: float,
) -> None:
    """``count`` commits before ``end``: a request merged per commit, swept every tenth."""
    outstanding: list[str] = []
    rule_weights = [RISK_WEIGHTS[r.risk] for r in plan.rules]
    for index in range(count):
        at = end - HISTORY_SPACING * (count - index)
        if index % SWEEP_EVERY == SWEEP_EVERY - 1 or index == count - 1:
            stream.commit(
                at,
                "jitops <jitops@users.noreply.github.com>",
                f"jitops sweep: revoke {len(outstanding)} expired grant(s)",
                {},
                outstanding,
            )
            outstanding = []
        else:
            rule = rng.choices(plan.rules, rule_weights)[0]
            login = rng.choice(plan.logins)
            request_id = f"{at:%Y-%m-%d}-{login.lower()}-h{index:06d}"
            path = request_path(rule, request_id)
            text = request_text(rule, request_id, login, rng, scheduled=False)
            stream.commit(
                at,
                _person(login),
                f"Merge pull request #{index + 2} from {login}/{request_id}\n\n"
                f"Access request {rule.target}/{rule.role}",
                {path: text},
            )
            outstanding.append(path)
        if index and index % 10_000 == 0:
            _progress(f"{index:,} of {count:,} history commits", started)


def generate(
    out: Path,
    *,
    requests: int = 10_000,
    policies: int = 200,
    commits: int = 1 + REQUEST_COMMITS,
    seed: int = 0,
    force: bool = False,
) -> datetime:
    """Build the repository in ``out``; return the time to judge it at (``--now``)."""
    if requests < 0 or policies < 1 or commits < 2:
        raise SystemExit("generate: need --requests >= 0, --policies >= 1 and --commits >= 2")
    started = time.monotonic()
    if out.exists() and any(out.iterdir()):
        if not force:
            raise SystemExit(f"generate: {out} is not empty (use --force to replace it)")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)

    plan = plan_policies(policies, rng)
    plan.logins = _logins(rng)
    for path, text in plan.files.items():
        (out / path).parent.mkdir(parents=True, exist_ok=True)
        (out / path).write_text(text, encoding="utf-8")
    plan.files[".github/CODEOWNERS"] = render_codeowners(out)
    now = NOW
    plan.files["README.md"] = (
        f"# A synthetic access repository\n\nGenerated by jitops' `benchmarks/generate.py` "
        f"(seed {seed}): {requests:,} requests, {policies:,} policies, {commits:,} commits.\n"
        f"Every request is active a minute after the last commit:\n\n"
        f"    jitops validate --repo . --now {now:%Y-%m-%dT%H:%M:%SZ}\n"
    )
    _progress(f"{len(plan.rules)} target roles, {policies} policies", started)

    _git(out, "init", "-q", "-b", "main")
    _git(out, "config", "gc.auto", "0")
    stream = FastImport(out)
    request_commits = min(REQUEST_COMMITS, commits - 1)
    history = commits - 1 - request_commits
    first_request_at = HEAD_TIME - REQUEST_COMMIT_SPACING * (request_commits - 1)
    history_end = first_request_at - HISTORY_SPACING
    stream.commit(
        history_end - HISTORY_SPACING * (history + 6),
        _person("platform-bot"),
        "Access repository: targets, policies, CODEOWNERS",
        plan.files,
    )
    _history(stream, plan, history, history_end, rng, started)

    rule_weights = [RISK_WEIGHTS[r.risk] for r in plan.rules]
    batches: list[dict[str, str]] = [{} for _ in range(request_commits)]
    for index in range(requests):
        batch = index * request_commits // max(requests, 1)
        at = first_request_at + REQUEST_COMMIT_SPACING * batch
        rule = rng.choices(plan.rules, rule_weights)[0]
        login = rng.choice(plan.logins)
        request_id = f"{at:%Y-%m-%d}-{login.lower()}-{index:06d}"
        text = request_text(rule, request_id, login, rng, scheduled=rng.random() < 0.1)
        batches[batch][request_path(rule, request_id)] = text
    for batch, added in enumerate(batches):
        stream.commit(
            first_request_at + REQUEST_COMMIT_SPACING * batch,
            _person("platform-bot"),
            f"Merge {len(added):,} access requests (batch {batch + 1} of {request_commits})",
            added,
        )
    stream.close()
    _progress(f"{commits:,} commits imported", started)

    # the work tree and index from the last commit; then refresh the index after a second,
    # so git's racy-timestamp check never re-reads every file on the first `git diff`
    _git(out, "read-tree", "-u", "--reset", "HEAD")
    time.sleep(1.1)
    _git(out, "update-index", "-q", "--refresh")
    _progress(f"{requests:,} request files checked out in {out}", started)
    return now


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="where to create the repository")
    parser.add_argument("--requests", type=int, default=10_000, help="active requests")
    parser.add_argument("--policies", type=int, default=200, help="policies (two per target)")
    parser.add_argument(
        "--commits",
        type=int,
        default=1 + REQUEST_COMMITS,
        help="first-parent commits in all (the brief's yardstick is 50000)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--force", action="store_true", help="replace a non-empty OUT")
    args = parser.parse_args(argv)
    now = generate(
        args.out,
        requests=args.requests,
        policies=args.policies,
        commits=args.commits,
        seed=args.seed,
        force=args.force,
    )
    print(f"jitops validate --repo {args.out} --now {now:%Y-%m-%dT%H:%M:%SZ}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
