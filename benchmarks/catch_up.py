"""Benchmark: what a catching-up apply costs, beside the floor of reading the same history.

Issue 10's target: catching up over 1,000 unapplied first-parent commits takes at most 2x one
``git log --first-parent --name-status`` over the same commits, plus at most 4 GitHub API calls
per merged pull request in the range. This script builds an access repository on jitops' GitHub
test server whose default branch holds ``--pulls`` merged pull requests, each adding one
auto-approved request, after the last successful apply run on record (so all of them are
unapplied), clones it as the workflow does, and times, alternately, best of ``--runs``:

- the floor: ``git log --first-parent --name-status`` over the range;
- ``jitops apply --catch-up --dry-run`` as a process (it verifies every landing through the API
  and would grant each; ``--dry-run`` keeps the provisioner out of what is measured), while the
  server counts its API calls;
- the same apply called in this process (imports warm: no start-up), timing each API call as
  jitops makes it (the client's side included), so that its own work — reading the history,
  judging every landing — is the run's time outside them: what the 2x target is about.

It prints one table side by side, the ratio and the calls per merged pull request, and exits 1
when a target is missed. Run: ``python3 benchmarks/catch_up.py [--pulls N] [--runs N]``.
Not a test: timings depend on the machine and on whatever else it runs.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from validate import machine  # noqa: E402  (benchmarks/validate.py, beside this file)

from jitops.testing.github import GitHubServer  # noqa: E402
from jitops.testing.github.actions import record_run  # noqa: E402

APPLY = ".github/workflows/jitops-apply.yml"
# e.g. CATCH_UP_PROFILE="-m cProfile -s tottime": run jitops under a profiler, print its report
PROFILE = os.environ.get("CATCH_UP_PROFILE", "").split()


def _installation(requester: str, approver: str) -> dict[str, str]:
    """The first commit: an exec target, an auto-approved role, the rule for policy changes,
    and the apply workflow (where apply's trust in the policies starts)."""
    return {
        "policies/target.yaml": (
            "apiVersion: jitops/v1\nkind: Target\nname: box\nprovisioner: exec\nroles: [op]\n"
            "settings: {command: [/bin/true]}\n"
        ),
        "policies/policy.yaml": (
            "apiVersion: jitops/v1\nkind: Policy\nname: box\ntargets: [box]\n"
            f"requesters: [{requester}]\nroles:\n  op: {{max_duration: 8h, auto_approve: true}}\n"
        ),
        "policies/changes.yaml": (
            "apiVersion: jitops/v1\nkind: PolicyChangeRule\n"
            f"approvals: [{{count: 1, from: [{approver}]}}]\n"
        ),
        APPLY: "name: jitops apply\non: push\njobs: {}\n",
        "requests/.gitkeep": "",
    }


def build(server: GitHubServer, pulls: int) -> tuple[str, str, str]:
    """(repository, the bot's token, the checkpoint commit) with ``pulls`` merged requests."""
    hub = server.hub
    owner = hub.add_user("owner")
    alice = hub.add_user("alice")
    bot = hub.add_user("applier", user_type="Bot")
    repo = hub.create_repo(f"{owner.login}/access")
    checkpoint = hub.push(repo, "main", _installation(alice.login, owner.login), author="owner")
    for account in (alice, bot):
        hub.add_collaborator(repo, account.login, "write")
    record_run(hub, repo, APPLY, checkpoint)  # the last apply that completed
    started = time.perf_counter()
    for index in range(pulls):
        request_id = f"cu-{index:04}"
        text = (
            "apiVersion: jitops/v1\nkind: AccessRequest\n"
            f"id: {request_id}\nrequester: {alice.login}\ntarget: box\nrole: op\n"
            "justification: Restart the stuck export job of INC-9\nduration: 2h\n"
        )
        branch = f"ask-{index:04}"
        hub.push(repo, branch, {f"requests/box/op/{request_id}.yaml": text}, author="alice")
        number = hub.open_pull(repo, head=branch, title=request_id, user=alice.login).number
        hub.merge(repo, number, user=owner.login)
        if index % 100 == 99:
            print(f"  {index + 1} pull requests merged ({time.perf_counter() - started:.0f} s)")
    return repo.full_name, bot.token, checkpoint


def timed(
    command: list[str], env: dict[str, str] | None = None, profiled: bool = False
) -> tuple[float, float, int]:
    """(wall s, CPU s of the process and its children, exit code); ``profiled`` prints the
    profiler's report from the process's output."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0 or profiled:
        print(done.stdout[-9000:] if profiled else done.stdout[-2000:], done.stderr[-2000:])
    return wall, cpu, done.returncode


def in_process(clone: Path, env: dict[str, str]) -> tuple[float, float, int]:
    """(wall s, s inside GitHub API calls, exit code) of apply called in this process."""
    from datetime import UTC, datetime
    from unittest import mock

    from jitops.commands.apply import Action, ApplyOptions
    from jitops.commands.apply import apply as run_apply
    from jitops.github import GitHub

    inside = [0.0]
    call = GitHub._call

    def timed_call(
        self: GitHub, what: str, function: object, *args: object, **kw: object
    ) -> object:
        started = time.perf_counter()
        try:
            return call(self, what, function, *args, **kw)
        finally:
            inside[0] += time.perf_counter() - started

    options = ApplyOptions(
        root=clone, now=datetime.now(UTC), after="HEAD", before="HEAD", dry_run=True,
        repository=env["GITHUB_REPOSITORY"], token=env["GITHUB_TOKEN"],
        api_url=env["GITHUB_API_URL"], catch_up=True,
    )  # fmt: skip
    started = time.perf_counter()
    with mock.patch.object(GitHub, "_call", timed_call):
        report = run_apply(options, env)
    wall = time.perf_counter() - started
    granted = all(o.action is Action.WOULD_GRANT for o in report.outcomes)
    return wall, inside[0], 0 if granted and report.outcomes else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pulls", type=int, default=1000, help="merged pull requests to catch up")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(machine())
    with tempfile.TemporaryDirectory() as work, GitHubServer(Path(work) / "github") as server:
        # several runs of 4 calls per pull request would spend the 5,000 calls an hour a user
        # has, and apply would wait for the window to reset: what is timed is apply, not that
        server.rate_limits.limit = 10**9
        print(f"building {args.pulls} merged pull requests on the GitHub test server …")
        full_name, token, checkpoint = build(server, args.pulls)
        clone = Path(work) / "checkout"
        subprocess.run(["git", "clone", "-q", server.file_url(full_name), str(clone)], check=True)
        env = {
            **os.environ,
            "GITHUB_TOKEN": token,
            "GITHUB_REPOSITORY": full_name,
            "GITHUB_API_URL": server.base_url,
        }
        floor_cmd = [
            "git", "-C", str(clone), "log", "--first-parent", "--name-status",
            f"{checkpoint}..HEAD",
        ]  # fmt: skip
        apply_cmd = [
            sys.executable, *PROFILE, "-m", "jitops", "apply", "--repo", str(clone),
            "--catch-up", "--dry-run", "--before", "HEAD",
        ]  # fmt: skip
        floors, applies, calls, owns = [], [], [], []
        for _ in range(args.runs):
            floors.append(timed(floor_cmd))
            server.calls.reset()
            result = timed(apply_cmd, env, profiled=bool(PROFILE))
            if result[2] != 0:
                print("jitops apply failed: nothing to compare", file=sys.stderr)
                return 2
            applies.append(result)
            calls.append(server.calls.total())
            endpoints = server.calls.snapshot()
            own = in_process(clone, env)
            if own[2] != 0:
                print("jitops apply in process did not grant every landing", file=sys.stderr)
                return 2
            owns.append(own)
    for endpoint, count in sorted(endpoints.items(), key=lambda item: -item[1]):
        print(f"  {count:6}  {endpoint}")
    floor, applied = min(floors), min(applies)
    own = min(owns, key=lambda run: run[0] - run[1])
    own_work = own[0] - own[1]
    ratio = own_work / floor[0]
    per_pull = max(calls) / args.pulls
    rows = [
        ("git log --first-parent --name-status", f"{floor[0]:.2f}", f"{floor[1]:.2f}", "—"),
        ("jitops apply --catch-up --dry-run", f"{applied[0]:.2f}", f"{applied[1]:.2f}",
         str(max(calls))),
        ("  in process: inside API calls", f"{own[1]:.2f}", "", ""),
        ("  in process: its own work", f"{own_work:.2f}", "", ""),
        ("own work / floor; calls per merged PR", f"{ratio:.1f}x", "", f"{per_pull:.1f}"),
    ]  # fmt: skip
    header = ("", "best wall s", "its CPU s", "API calls")
    widths = [max(len(str(r[i])) for r in (header, *rows)) for i in range(4)]
    for row in (header, *rows):
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))
    met = ratio <= 2 and per_pull <= 4
    print(
        f"targets (own work at most 2x the floor, at most 4 calls per merged PR): "
        f"{'met' if met else 'missed'}"
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
