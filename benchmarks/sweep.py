"""Benchmark: planning a sweep over the 10,000-request synthetic repository.

Issue 6's target: ``jitops sweep --dry-run`` (read every grant on the branch from git, with its
landing time, and list what has expired) takes at most 1.5 s on this 2-core machine. The cost
of the revocation pull request itself (a constant number of API calls, at most 10 for 1,000
files) is counted by tests/e2e/test_sweep_pr.py on the GitHub test server.

Run: ``python3 benchmarks/sweep.py [--commits N] [--runs N]``. Not a test.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate  # noqa: E402  (benchmarks/generate.py, beside this file)
from validate import _program, ensure_repo, machine  # noqa: E402

TARGET_SECONDS = 1.5


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commits", type=int, default=1 + generate.REQUEST_COMMITS)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    repo = ensure_repo(10_000, 200, args.commits, 0, False)
    now = f"{generate.NOW:%Y-%m-%dT%H:%M:%SZ}"
    command = [*_program("jitops"), "sweep", "--repo", str(repo), "--dry-run", "--now", now]
    times = []
    for _ in range(args.runs + 1):  # the first run warms the caches
        started = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        times.append(time.perf_counter() - started)
        if result.returncode != 0:
            print(result.stdout + result.stderr, file=sys.stderr)
            return 2
    print(machine())
    best = min(times[1:])
    verdict = "ok" if best <= TARGET_SECONDS else "MISS"
    print("| operation | requests | best s | target |")
    print("| --- | ---: | ---: | --- |")
    print(f"| sweep --dry-run | 10,000 | {best:.2f} | <= {TARGET_SECONDS} s {verdict} |")
    return 0 if verdict == "ok" else 1


if __name__ == "__main__":
    raise SystemExit(main())
