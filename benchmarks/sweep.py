"""Benchmark: planning a sweep over the 10,000-request synthetic repository, beside its git floor.

``jitops sweep --dry-run`` reads every grant on the branch from git (each request file, with its
landing time and its evidence), and lists what has expired; ``jitops status --all``, timed
beside it against the same floor, reads the same and lists every request. Judged at a
realistic clock by default — today, so the history generated weeks ago has mostly expired, as
a repository whose sweep schedule stopped would — or at ``--now`` (the generator's own moment:
all active).

The floor is the git work the same answer needs, done by git alone in one shell: the files
under ``requests/`` listed (``ls-tree``), their contents read in one ``cat-file --batch``, and
the first-parent history of ``requests/`` with names (``log --name-only``) for landing times.
Targets: issue 6's 1.5 s, and issue 14's at most 2x the floor. Wall and CPU time (the command
and every process it waited for) are printed side by side, best and median of ``--runs`` after
a warm-up.

Run: ``python3 benchmarks/sweep.py [--commits N] [--runs N] [--now TIME]``. Not a test. The
cost of recording the sweep on GitHub (10 API calls for 1,000 expiries) is counted by
tests/e2e/test_sweep_pr.py on the GitHub test server.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate  # noqa: E402  (benchmarks/generate.py, beside this file)
from validate import _program, ensure_repo, machine  # noqa: E402

TARGET_SECONDS = 1.5
TARGET_RATIO = 2.0
FLOOR = (
    "git ls-tree -r --format='%(objectname)' HEAD requests/ | git cat-file --batch >/dev/null"
    " && git log --first-parent --name-only --format=%H%x00%cI HEAD -- requests/ >/dev/null"
)


def _timed(command: Sequence[str], cwd: Path) -> tuple[float, float, str]:
    """(wall s, CPU s of the command and what it waited for, stderr) of one run."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    assert process.stderr is not None
    err = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"sweep benchmark: {' '.join(command)} exited {process.returncode}\n{err}")
    return elapsed, usage.ru_utime + usage.ru_stime, err


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commits", type=int, default=1 + generate.REQUEST_COMMITS)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--now",
        default=None,
        help="judge as of this time (ISO 8601); default: now. The generator's moment, "
        f"{generate.NOW:%Y-%m-%dT%H:%M:%SZ}, has every request active.",
    )
    args = parser.parse_args(argv)
    repo = ensure_repo(10_000, 200, args.commits, 0, False)
    now = args.now or f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}"
    commands = {
        "git floor": ["bash", "-c", FLOOR],
        "jitops sweep --dry-run": [
            *_program("jitops"), "sweep", "--repo", str(repo), "--dry-run", "--now", now,
        ],
        # the same reads (every grant with its landing), then the table of what is active
        "jitops status --all": [*_program("jitops"), "status", "--repo", str(repo), "--all"],
    }  # fmt: skip
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    said = ""
    for index in range(args.runs + 1):  # the first round warms the caches
        for name, command in commands.items():  # alternately, so both see the same machine
            wall, cpu, err = _timed(command, repo)
            if index:
                runs[name].append((wall, cpu))
            said = err if name.startswith("jitops sweep") else said
    print(machine())
    print(f"judged at {now}; jitops said: {said.strip().splitlines()[-1] if said else '—'}")
    floor = min(w for w, _ in runs["git floor"])
    print("| command | best s | median s | median CPU s | best / floor |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, timings in runs.items():
        walls = [w for w, _ in timings]
        cpu = statistics.median(c for _, c in timings)
        print(
            f"| {name} | {min(walls):.2f} | {statistics.median(walls):.2f} | {cpu:.2f} | "
            f"{min(walls) / floor:.1f}x |"
        )
    best = min(w for w, _ in runs["jitops sweep --dry-run"])
    status = min(w for w, _ in runs["jitops status --all"])
    met = best <= TARGET_SECONDS and max(best, status) / floor <= TARGET_RATIO
    print(
        f"targets (sweep at most {TARGET_SECONDS} s, each at most {TARGET_RATIO:.0f}x the floor): "
        + ("met" if met else "missed")
    )
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
