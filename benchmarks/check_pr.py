"""Benchmark: checking one request costs about the same in any repository, long history or not.

Issue 4's target: the approval gate's cost grows with the files in the pull request, not with
the size of the repository, and its GitHub API calls are a small constant. This script serves
synthetic access repositories (from ``benchmarks/generate.py``: 10 and 10,000 requests, with 8
and 50,000 commits of history by default) on jitops' GitHub test server, opens in each a pull
request that adds one request the policies allow (pending approval: the requester may ask for
the role, which needs reviews), and times ``jitops check-pr`` in process, best of ``--runs``,
while the server counts the API calls. Each repository is checked twice: without the
request-id index (the replay check walks the whole history) and with it (``refs/jitops/ids``
on the server, covering the base branch, as ``jitops apply`` leaves it; check-pr fetches it).
One table shows all of it side by side, a second how long building the index takes, and a
third check-pr's fixed start-up as a process: from its start to its first API call (the
interpreter, the imports, reading the event and the base checkout), beside the interpreter's
own start, against issue 14's 0.3 s.

Run: ``python3 benchmarks/check_pr.py [--commits N [N ...]] [--runs N]``.
Not a test: timings depend on the machine and on whatever else it runs.
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate  # noqa: E402  (benchmarks/generate.py, beside this file)
from validate import ensure_repo, machine  # noqa: E402

from jitops import git, ids  # noqa: E402
from jitops.commands.check_pr import CheckOptions, check_pull_request  # noqa: E402
from jitops.report.comments import gate_markdown  # noqa: E402
from jitops.testing.github import GitHubServer  # noqa: E402

SIZES = {"10 requests": (10, 2), "10,000 requests": (10_000, 200)}
REQUESTER_TEAM = "engineering"  # every generated policy lets @acme/engineering request


def _owners_exist(server: GitHubServer, source: Path) -> None:
    """Create the users and teams CODEOWNERS names, so GitHub reports no CODEOWNERS error."""
    hub = server.hub
    text = (source / ".github" / "CODEOWNERS").read_text()
    for owner in {word for line in text.splitlines() for word in line.split()[1:]}:
        if not owner.startswith("@"):
            continue
        name = owner[1:]
        if "/" in name:
            org, _, slug = name.partition("/")
            if org not in hub.state.users:
                hub.add_org(org)
            if (org, slug) not in hub.state.teams:
                hub.add_team(org, slug)
        elif name not in hub.state.users:
            hub.add_user(name)


def _field(text: str, name: str) -> str:
    return next(line.split(": ", 1)[1] for line in text.splitlines() if line.startswith(f"{name}:"))


def _open_pull(server: GitHubServer, source: Path, owner: str, tmp: Path) -> tuple[str, int, Path]:
    """A pull request adding one request the policies allow; (repository, number, base)."""
    hub = server.hub
    _owners_exist(server, source)
    repo = hub.create_repo(f"{owner}/access", source=source)
    template_path = min((source / "requests").rglob("*.yaml"))
    template = template_path.read_text()
    requester = _field(template, "requester")
    new_id = "benchmark-one-more"
    path = template_path.relative_to(source).with_name(f"{new_id}.yaml").as_posix()
    if requester not in hub.state.users:
        hub.add_user(requester)
    hub.add_collaborator(repo, requester, "write")
    # An engineer: the generated policies let @acme/engineering request every role.
    if (generate.ORG, REQUESTER_TEAM) not in hub.state.teams:
        hub.add_team(generate.ORG, REQUESTER_TEAM)
    hub.set_membership(generate.ORG, REQUESTER_TEAM, requester)
    text = template.replace(_field(template, "id"), new_id)
    hub.push(repo, "one-more", {path: text}, author=requester)
    number = hub.open_pull(repo, head="one-more", title="one more", user=requester).number
    base = tmp / f"base-{owner}"
    subprocess.run(["git", "clone", "-q", server.file_url(repo.full_name), str(base)], check=True)
    return repo.full_name, number, base


@dataclass(frozen=True)
class Measured:
    seconds: float
    calls: int
    verdict: str
    note: bool  # the check said it walked the whole history


def _measure(server: GitHubServer, options: CheckOptions, runs: int) -> Measured:
    best, calls, verdict, note = float("inf"), 0, "", False
    for _ in range(runs):
        server.calls.reset()
        started = time.perf_counter()
        outcome = check_pull_request(options, gate_markdown)
        best = min(best, time.perf_counter() - started)
        calls = server.calls.total()
        verdict, note = outcome.result.verdict.value, bool(outcome.notes)
    if verdict == "denied":  # the normal path is measured, never a refusal's shortcut
        raise SystemExit(f"check_pr: the benchmark request was denied:\n{outcome.markdown}")
    return Measured(best, calls, verdict, note)


STARTUP_TARGET = 0.3


def _until_first_call(command: list[str], env: dict[str, str]) -> float:
    """Seconds from starting ``command`` to its first connection to the API (a socket that
    accepts it and answers nothing); the process is stopped there."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        env = {**env, "GITHUB_API_URL": f"http://127.0.0.1:{port}"}
        started = time.perf_counter()
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        listener.settimeout(30)
        try:
            connection, _ = listener.accept()
        except TimeoutError:
            process.kill()
            _, err = process.communicate()
            raise SystemExit(f"check_pr: check-pr made no API call:\n{err.decode()}") from None
        elapsed = time.perf_counter() - started
        connection.close()
        process.kill()
        process.wait()
    return elapsed


def _startup(base: Path, runs: int) -> tuple[list[float], list[float]]:
    """check-pr's start-up until its first API call, and the bare interpreter's start, each
    ``runs`` times after a warm-up."""
    env = {
        **os.environ,
        "GITHUB_TOKEN": "ghs_benchmark",
        "GITHUB_REPOSITORY": "bench/access",
        "GITHUB_ACTIONS": "",
    }
    command = [
        sys.executable,
        "-m",
        "jitops",
        "check-pr",
        "--pr",
        "1",
        "--base-checkout",
        str(base),
    ]
    jitops, bare = [], []
    for index in range(runs + 1):
        took = _until_first_call(command, env)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        if index:
            jitops.append(took)
            bare.append(time.perf_counter() - started)
    return jitops, bare


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--commits", type=int, nargs="+", default=[1 + generate.REQUEST_COMMITS, 50_000]
    )
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    load = os.getloadavg()
    print(
        f"python {platform.python_version()}, CPUs: {os.cpu_count()}, "
        f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
        file=sys.stderr,
    )
    checks: dict[tuple[int, str, bool], Measured] = {}
    builds: dict[tuple[int, str], tuple[float, int]] = {}
    with tempfile.TemporaryDirectory() as scratch, GitHubServer(Path(scratch) / "server") as server:
        bot = server.hub.add_user("jitops-bench-bot")
        for commits in args.commits:
            for label, (requests, policies) in SIZES.items():
                source = ensure_repo(requests, policies, commits, 0, False)
                owner = f"bench{requests}c{commits}"
                server.hub.add_user(owner)
                full_name, number, base = _open_pull(server, source, owner, Path(scratch))
                options = CheckOptions(
                    repository=full_name,
                    number=number,
                    token=bot.token,
                    api_url=server.base_url,
                    base_checkout=base,
                    now=datetime.now(UTC),
                )
                checks[commits, label, False] = _measure(server, options, args.runs)
                # What `jitops apply --push-notes` leaves behind: the index, on the server.
                started = time.perf_counter()
                made = ids.update(base, rebuild=True)
                builds[commits, label] = (time.perf_counter() - started, len(made.index.ids))
                git.push_ref(base, ids.INDEX_REF)
                git.run(base, ["update-ref", "-d", ids.INDEX_REF])  # check-pr fetches it
                checks[commits, label, True] = _measure(server, options, args.runs)
    labels = list(SIZES)
    header = [f"{label}, {how}" for label in labels for how in ("no index", "index")]
    print(machine())
    print("| history | " + " | ".join(header) + " | API calls |")
    print("| --- | " + " | ".join("---:" for _ in header) + " | ---: |")
    for commits in args.commits:
        cells = [
            f"{checks[commits, label, indexed].seconds:.2f} s"
            for label in labels
            for indexed in (False, True)
        ]
        calls = {m.calls for (c, _, _), m in checks.items() if c == commits}
        print(f"| {commits:,} commits | " + " | ".join(cells) + f" | {'/'.join(map(str, calls))} |")
    verdicts = sorted({m.verdict for m in checks.values()})
    fallbacks = sorted({indexed for (_, _, indexed), m in checks.items() if m.note})
    print(f"\nverdict: {', '.join(verdicts)}; said it walked the whole history: ", end="")
    print("without the index only" if fallbacks == [False] else f"{fallbacks}")
    print("\n| history | repository | ids in history | index built from scratch |")
    print("| --- | --- | ---: | ---: |")
    for (commits, label), (seconds, count) in builds.items():
        print(f"| {commits:,} commits | {label} | {count:,} | {seconds:.2f} s |")
    base = ensure_repo(10, 2, args.commits[0], 0, False)
    startup, bare = _startup(base, max(args.runs, 5))
    print("\n| start-up until the first API call | best s | median s | target |")
    print("| --- | ---: | ---: | --- |")
    print(f"| python3 -c pass | {min(bare):.3f} | {statistics.median(bare):.3f} | — |")
    met = min(startup) <= STARTUP_TARGET
    print(
        f"| jitops check-pr | {min(startup):.3f} | {statistics.median(startup):.3f} | "
        f"<= {STARTUP_TARGET} s {'met' if met else 'MISSED'} |"
    )
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
