"""Benchmark: checking one request costs the same in a repository of ten as of ten thousand.

Issue 4's target: the approval gate's cost grows with the files in the pull request, not with
the size of the repository, and its GitHub API calls are a small constant. This script serves
two synthetic access repositories (from ``benchmarks/generate.py``: 10 and 10,000 requests,
with ``--commits`` of history) on jitops' GitHub test server, opens in each a pull request that
adds one request, and times ``jitops check-pr`` (in process, best of ``--runs``) while the
server counts the API calls. It prints one table with both side by side.

Run: ``python3 benchmarks/check_pr.py [--commits N] [--runs N]``.
Not a test: timings depend on the machine and on whatever else it runs.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate  # noqa: E402  (benchmarks/generate.py, beside this file)
from validate import ensure_repo, machine  # noqa: E402

from jitops.commands.check_pr import CheckOptions, check_pull_request  # noqa: E402
from jitops.testing.github import GitHubServer  # noqa: E402


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


def _open_pull(server: GitHubServer, source: Path, owner: str, tmp: Path) -> tuple[str, int, Path]:
    hub = server.hub
    _owners_exist(server, source)
    repo = hub.create_repo(f"{owner}/access", source=source)
    files = sorted(p for p in (source / "requests").rglob("*.yaml"))
    template = files[0].read_text()
    old_id = next(
        line.split(": ", 1)[1] for line in template.splitlines() if line.startswith("id:")
    )
    requester = next(
        line.split(": ", 1)[1] for line in template.splitlines() if line.startswith("requester:")
    )
    new_id = "benchmark-one-more"
    path = files[0].relative_to(source).with_name(f"{new_id}.yaml").as_posix()
    if requester not in hub.state.users:
        hub.add_user(requester)
    hub.add_collaborator(repo, requester, "write")
    for org, slug in list(hub.state.teams):  # an engineer: may request, may not approve alone
        if slug == "engineering":
            hub.set_membership(org, slug, requester)
    hub.push(repo, "one-more", {path: template.replace(old_id, new_id)}, author=requester)
    number = hub.open_pull(repo, head="one-more", title="one more", user=requester).number
    base = tmp / f"base-{owner}"
    subprocess.run(["git", "clone", "-q", server.file_url(repo.full_name), str(base)], check=True)
    return repo.full_name, number, base


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commits", type=int, default=1 + generate.REQUEST_COMMITS)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    sizes = {"10 requests": (10, 2), "10,000 requests": (10_000, 200)}
    rows = []
    with tempfile.TemporaryDirectory() as scratch, GitHubServer(Path(scratch) / "server") as server:
        bot = server.hub.add_user("jitops-bench-bot")
        for label, (requests, policies) in sizes.items():
            source = ensure_repo(requests, policies, args.commits, 0, False)
            owner = f"bench{requests}"
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
            best, calls = float("inf"), 0
            for _ in range(args.runs):
                server.calls.reset()
                started = time.perf_counter()
                outcome = check_pull_request(options)
                best = min(best, time.perf_counter() - started)
                calls = server.calls.total()
            rows.append((label, best, calls, outcome.result.verdict.value))
    print(machine())
    print("| repository | check-pr best s | API calls | verdict |")
    print("| --- | ---: | ---: | --- |")
    for label, best, calls, verdict in rows:
        print(f"| {label} | {best:.2f} | {calls} | {verdict} |")
    ratio = rows[1][1] / rows[0][1]
    print(f"\nlarge / small: {ratio:.1f}x (history: {args.commits} commits)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
