"""Benchmark: ``jitops validate`` against ``check-jsonschema`` on the same 10,000 requests.

Issue 2's target: full validation of a synthetic access repository of 10,000 requests and 200
policies takes at most 1.5 s on a 2-core machine, and less than ``check-jsonschema`` validating
the same request files against jitops' exported request schema (although jitops checks far
more: placement, unique ids, policies, CODEOWNERS, windows) — 6x less, issue 14 asks — and at
most 2x the floor of reading and parsing the files with libyaml, a process per core
(``parse_floor.py``).

The repository comes from ``benchmarks/generate.py`` and is cached under ``benchmarks/.data/``
(keyed by its parameters and the generator's source). Both tools run as the real command-line
programs, as subprocesses, alternately, ``--runs`` times each after one warm-up run; the table
shows the best and the median wall time, and the median CPU time (user + system, of the
program and every process it started: workers, git). The machine may be shared, so the load
average is printed before every run: CPU time says what a tool costs whatever else runs, wall
time what a user waits. ``jitops validate`` must exit 0 having checked every request, and
``check-jsonschema`` must pass, so neither is ever timed on an error path.

Run: ``python3 benchmarks/validate.py [--requests N] [--policies N] [--commits N] [--runs N]``
(``pip install -e '.[bench]'`` first). Exits 2 if a tool fails, 1 if a target is missed.
Not a test: timings depend on the machine and on whatever else it runs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import generate  # benchmarks/generate.py, beside this file

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
TARGET_SECONDS = 1.5  # for TARGET_REQUESTS requests
TARGET_REQUESTS = 10_000
TARGET_RATIO = 6.0  # issue 14 (issue 2 asked 4x)
TARGET_MIX = 1.5  # the cost must not depend on the verdicts: judged today / all active
TARGET_FLOOR = 2.0  # at most this times the floor: the files parsed by libyaml on every core


@dataclass(frozen=True)
class Timing:
    tool: str
    files: int
    seconds: list[float]
    cpu_seconds: list[float]

    @property
    def best(self) -> float:
        return min(self.seconds)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu_seconds)


def _program(name: str) -> list[str]:
    """The console script installed beside this Python (not a shim that wraps it)."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return [str(beside)]
    found = shutil.which(name)
    if found is None:
        raise SystemExit(f"validate: {name} is not installed — pip install -e '.[bench]'")
    return [found]


def ensure_repo(requests: int, policies: int, commits: int, seed: int, fresh: bool) -> Path:
    """The synthetic repository for these parameters, generated once and cached."""
    source = hashlib.sha256((HERE / "generate.py").read_bytes()).hexdigest()[:10]
    repo = DATA / f"repo-r{requests}-p{policies}-c{commits}-s{seed}-{source}"
    done = repo.with_name(repo.name + ".done")
    if done.exists() and repo.is_dir() and not fresh:
        print(f"repository: {repo} (cached)", file=sys.stderr)
        return repo
    done.unlink(missing_ok=True)
    generate.generate(
        repo, requests=requests, policies=policies, commits=commits, seed=seed, force=True
    )
    done.write_text("complete\n", encoding="utf-8")
    return repo


def request_files(repo: Path) -> list[str]:
    """Every request file, relative to ``repo``, sorted."""
    found = [
        path.relative_to(repo).as_posix()
        for path in (repo / "requests").rglob("*")
        if path.suffix in (".yaml", ".yml") and path.is_file()
    ]
    return sorted(found)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True)
class Run:
    wall: float
    cpu: float  # user + system of the program and the processes it waited for


def _timed(command: Sequence[str], repo: Path, name: str) -> tuple[Run, bytes]:
    """Run ``command`` in ``repo``; (its times, stdout). A failing tool is never timed."""
    cpu_before = _children_cpu()
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, check=False, cwd=repo)
    elapsed = time.perf_counter() - started
    cpu = _children_cpu() - cpu_before
    if result.returncode != 0:
        sys.stderr.write(result.stdout.decode(errors="replace")[-4000:])
        sys.stderr.write(result.stderr.decode(errors="replace")[-4000:])
        raise SystemExit(f"validate: {name} exited {result.returncode}; not timing that")
    return Run(elapsed, cpu), result.stdout


def run_jitops(command: Sequence[str], repo: Path, expected: int, *, warnings: bool = False) -> Run:
    """One timed run; it must check every request and find nothing (or, with ``warnings``,
    only warnings: requests judged after their windows closed)."""
    timed, stdout = _timed(command, repo, "jitops validate")
    report = json.loads(stdout)
    found = report.get("findings", [])
    wrong = [f for f in found if not warnings or f.get("severity") != "warning"]
    if report.get("request_count") != expected or wrong:
        raise SystemExit(
            f"validate: jitops validate checked {report.get('request_count')} of {expected} "
            f"requests with {len(wrong)} finding(s); not timing that"
        )
    return timed


def run_check_jsonschema(command: Sequence[str], repo: Path) -> Run:
    return _timed(command, repo, "check-jsonschema")[0]


def run_floor(command: Sequence[str], repo: Path, expected: int) -> Run:
    """The floor (``parse_floor.py``): it must have parsed every request file to a mapping."""
    timed, stdout = _timed(command, repo, "the parse floor")
    if int(stdout or b"0") != expected:
        raise SystemExit(f"validate: the floor parsed {stdout!r} of {expected} files")
    return timed


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"


def machine() -> str:
    """The CPUs and the load average, to print beside a table (the machine may be shared)."""
    return f"CPUs: {os.cpu_count()}; load average: {_load()}"


def _version(command: Sequence[str]) -> str:
    result = subprocess.run([*command, "--version"], capture_output=True, text=True, check=False)
    lines = (result.stdout or result.stderr).strip().splitlines()
    return lines[0] if lines else "?"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=TARGET_REQUESTS)
    parser.add_argument("--policies", type=int, default=200)
    parser.add_argument(
        "--commits",
        type=int,
        default=1 + generate.REQUEST_COMMITS,
        help="first-parent history of the repository (the brief's yardstick: 50000)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each tool")
    parser.add_argument("--fresh", action="store_true", help="regenerate the cached repository")
    parser.add_argument(
        "--now",
        help="the moment of the 'judged today' run (default: now); the history ends months "
        "before it, so most requests have expired and are warned about",
    )
    args = parser.parse_args(argv)

    repo = ensure_repo(args.requests, args.policies, args.commits, args.seed, args.fresh)
    files = request_files(repo)
    now = f"{generate.NOW:%Y-%m-%dT%H:%M:%SZ}"
    jitops = _program("jitops")
    schema = DATA / "request.schema.json"
    exported = subprocess.run([*jitops, "schema", "request"], capture_output=True, check=True)
    schema.write_bytes(exported.stdout)

    jitops_command = [*jitops, "validate", "--repo", str(repo), "--format", "json", "--now", now]
    today = args.now or f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}"
    today_command = [*jitops_command[:-1], today]
    cjs_command = [*_program("check-jsonschema"), "--schemafile", str(schema), *files]
    floor_command = [sys.executable, str(HERE / "parse_floor.py"), str(repo)]

    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    print(f"python {platform.python_version()} on {platform.machine()}, {_version(jitops)}")
    print(f"check-jsonschema: {_version(cjs_command[:1])}")
    print(f"CPUs: {os.cpu_count()} (usable {affinity}); load average before: {_load()}")
    print(f"repository: {repo.name}: {len(files):,} request files; judged at {now} (all active)")
    print(f"and judged at {today} (today: most windows closed, each one warned about)")

    print("warm-up run of each tool…", file=sys.stderr, flush=True)
    run_jitops(jitops_command, repo, len(files))
    run_jitops(today_command, repo, len(files), warnings=True)
    run_check_jsonschema(cjs_command, repo)
    run_floor(floor_command, repo, len(files))
    jitops_runs: list[Run] = []
    today_runs: list[Run] = []
    cjs_runs: list[Run] = []
    floor_runs: list[Run] = []
    for run in range(args.runs):
        # alternate, so a burst of load elsewhere on the machine hits both
        load = _load()
        jitops_runs.append(run_jitops(jitops_command, repo, len(files)))
        today_runs.append(run_jitops(today_command, repo, len(files), warnings=True))
        cjs_runs.append(run_check_jsonschema(cjs_command, repo))
        floor_runs.append(run_floor(floor_command, repo, len(files)))
        print(
            f"run {run + 1}/{args.runs} (load {load}): "
            f"jitops {jitops_runs[-1].wall:.2f}s wall {jitops_runs[-1].cpu:.2f}s CPU, "
            f"check-jsonschema {cjs_runs[-1].wall:.2f}s wall {cjs_runs[-1].cpu:.2f}s CPU",
            file=sys.stderr,
            flush=True,
        )
    print(f"load average after: {_load()}")

    timings = [
        Timing(
            "jitops validate",
            len(files),
            [r.wall for r in jitops_runs],
            [r.cpu for r in jitops_runs],
        ),
        Timing(
            "check-jsonschema", len(files), [r.wall for r in cjs_runs], [r.cpu for r in cjs_runs]
        ),
        Timing(
            "jitops validate, judged today",
            len(files),
            [r.wall for r in today_runs],
            [r.cpu for r in today_runs],
        ),
        Timing(
            "floor: libyaml parsing the files, a process per core",
            len(files),
            [r.wall for r in floor_runs],
            [r.cpu for r in floor_runs],
        ),
    ]
    ratio_best = timings[1].best / timings[0].best
    ratio_median = timings[1].median / timings[0].median
    print()
    ratio_cpu = timings[1].cpu_median / timings[0].cpu_median
    print("| tool | files | best s | median s | median CPU s |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for timing in timings:
        print(
            f"| {timing.tool} | {timing.files:,} | {timing.best:.2f} | {timing.median:.2f} "
            f"| {timing.cpu_median:.2f} |"
        )
    print(
        f"| ratio (check-jsonschema / jitops) | | {ratio_best:.1f}x | {ratio_median:.1f}x "
        f"| {ratio_cpu:.1f}x |"
    )
    mix_best = timings[2].best / timings[0].best
    mix_median = timings[2].median / timings[0].median
    print(
        f"| ratio (judged today / all active) | | {mix_best:.2f}x | {mix_median:.2f}x "
        f"| {timings[2].cpu_median / timings[0].cpu_median:.2f}x |"
    )
    floor_best = timings[0].best / timings[3].best
    print(
        f"| ratio (jitops / floor) | | {floor_best:.2f}x | "
        f"{timings[0].median / timings[3].median:.2f}x "
        f"| {timings[0].cpu_median / timings[3].cpu_median:.2f}x |"
    )
    print()

    budget = TARGET_SECONDS * len(files) / TARGET_REQUESTS
    checks = [
        (f"jitops validate <= {budget:.2f} s (best)", timings[0].best <= budget),
        (f">= {TARGET_RATIO:g}x faster than check-jsonschema (best)", ratio_best >= TARGET_RATIO),
        (f"judged today <= {TARGET_MIX:g}x all active (best)", mix_best <= TARGET_MIX),
        (f"<= {TARGET_FLOOR:g}x the floor of parsing the files (best)", floor_best <= TARGET_FLOOR),
    ]
    for label, ok in checks:
        print(f"{'PASS' if ok else 'MISS'}  {label}")
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
