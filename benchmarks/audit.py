"""Benchmark: ``jitops audit`` over 50,000 commits against the floor of reading that history.

Issue 14's target: 10,000 requests over 50,000 commits audited in at most 2x the time of one
``git log --first-parent --name-status <branch> -- requests/`` over the same history (the
floor: git listing what changed under ``requests/``, which audit must read at least), in every
output format ``jitops audit`` offers (text, JSON, CSV and HTML); memory bounded (streaming,
not the whole history in objects), so the peak RSS is printed too. Issue 15's: the HTML page of
that history opens in a browser in under 2 s, timed here in headless Chromium (until its first
screenshot) beside an empty page, when chromium is installed.

The repository comes from ``benchmarks/generate.py`` (cached under ``benchmarks/.data/`` as for
``validate.py``). Its 50,000 commits are ten minutes apart: a history of about a year, with the
generator's fixed clock (the audit does not depend on the time it runs at). The generator
records no approval evidence, so this script clones it once (cached too) and writes the notes
``jitops apply`` would have written on every landing merge (``refs/notes/jitops``, through
``git fast-import``), with a deterministic few left out, refused, or failed at the target: the
audit must report each of those as without valid evidence, so every run checks that no grant
was dropped and none was called approved that was not.

Each command runs as a real subprocess, alternately, one warm-up run each and then ``--runs``
timed runs; output goes to a file (the same for the floor). The table shows the best and the
median wall time, the median CPU time (user + system of the command and every process it
waited for: git), the peak RSS (the largest process of its tree, from ``wait4``), and the
ratio to the floor. ``jitops audit verify`` runs too, for information (the target is about the
formats). Every jitops run must exit with its expected code having reported every grant, so an
error path is never timed.

Run: ``python3 benchmarks/audit.py [--requests N] [--commits N] [--runs N] [--jitops CMD]``.
Exits 0 if every format is within the target, 1 if one is missed, 2 if a command failed.
Not a test: timings depend on the machine and on whatever else it runs.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import platform
import random
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))  # the root: tests.fixtures

import generate  # noqa: E402  (benchmarks/generate.py, beside this file)
from validate import _load, _version, ensure_repo  # noqa: E402

from tests.fixtures.chromium import HEADLESS_FLAGS  # noqa: E402  (the tests' browser flags)

HERE = Path(__file__).resolve().parent
TARGET_RATIO = 2.0  # audit / floor, in every format
# Bump when the notes written below change, so the cached clone is rebuilt.
NOTES_VERSION = 1
NOTES_REF = "refs/notes/jitops"
# Of the landing merges: share left without a note, refused by apply, failed at the target.
NO_NOTE = 0.02
REFUSED = 0.01
GRANT_FAILED = 0.005


@dataclass(frozen=True)
class Expected:
    """What a correct audit reports: every landing, and how many lack valid evidence."""

    grants: int
    unverified: int


@dataclass
class Landing:
    commit: str
    at: int
    subject: str
    requests: list[tuple[str, str]] = field(default_factory=list)  # (path, blob)


def _landings(repo: Path) -> list[Landing]:
    """Every first-parent commit that added or changed a request file, oldest first."""
    log = subprocess.run(
        [
            "git",
            "-C",
            str(repo),
            "log",
            "--first-parent",
            "--no-renames",
            "--raw",
            "--no-abbrev",
            "-z",
            "--reverse",
            "--format=%x01%H %ct %s",
            "main",
            "--",
            "requests/",
        ],  # fmt: skip
        capture_output=True,
        check=True,
    ).stdout.decode()
    found: list[Landing] = []
    for block in log.split("\x01")[1:]:
        header, _, rest = block.partition("\n")
        commit, stamp, subject = header.split(" ", 2)
        landing = Landing(commit, int(stamp), subject)
        fields = rest.strip("\n").split("\0")
        for meta, path in zip(fields[0::2], fields[1::2], strict=False):
            parts = meta.strip("\n").split()
            if len(parts) == 5 and parts[4] in ("A", "M") and path.endswith((".yaml", ".yml")):
                landing.requests.append((path, parts[3]))
        if landing.requests:
            found.append(landing)
    return found


def _note(landing: Landing, outcome: str, policy_commit: str, rng: random.Random) -> bytes:
    """The evidence note apply would write for ``landing`` (see jitops.evidence)."""
    number = landing.subject.split("#", 1)[1].split()[0] if "#" in landing.subject else None
    refused = outcome == "refused"
    requests = []
    for path, blob in landing.requests:
        request_id = path.rsplit("/", 1)[1].rsplit(".", 1)[0]
        auto = rng.random() < 0.2
        login = f"lead-{rng.randrange(40)}"
        requests.append(
            {
                "id": request_id,
                "path": path,
                "blob": blob,
                "verdict": "denied" if refused else "allowed",
                "reason": "needs 1 approval from @acme/leads" if refused else "approved",
                "policy": path.split("/")[1],
                "approvers": []
                if auto or refused
                else [{"login": login, "review_id": rng.randrange(10**9), "teams": ["acme/leads"]}],
                "auto_approved": auto and not refused,
                "grant_failed": "the target did not answer" if outcome == "failed" else None,
            }
        )
    verified = datetime.fromtimestamp(landing.at, UTC) + timedelta(minutes=1)
    note = {
        "version": 1,
        "pull_request": int(number) if number and number.isdigit() else None,
        "head_sha": f"{rng.getrandbits(160):040x}",
        "policy_commit": policy_commit,
        "verified_at": verified.isoformat(),
        "verified_by": "jitops 0.1.0",
        "verdict": "denied" if refused else "allowed",
        "summary": "not approved" if refused else "verified",
        "requests": requests,
    }
    return (json.dumps(note, indent=2) + "\n").encode()


def ensure_evidence_repo(base: Path, seed: int, fresh: bool) -> tuple[Path, Expected]:
    """A clone of ``base`` holding apply's evidence notes (cached), and what audit must say."""
    repo = base.with_name(f"{base.name}-notes{NOTES_VERSION}")
    done = repo.with_name(repo.name + ".done")
    if done.exists() and repo.is_dir() and not fresh:
        print(f"evidence clone: {repo} (cached)", file=sys.stderr)
        counts = json.loads(done.read_text(encoding="utf-8"))
        return repo, Expected(counts["grants"], counts["unverified"])
    done.unlink(missing_ok=True)
    if repo.exists():
        subprocess.run(["rm", "-rf", str(repo)], check=True)
    started = time.monotonic()
    subprocess.run(["git", "clone", "-q", "--local", str(base), str(repo)], check=True)
    subprocess.run(["git", "-C", str(repo), "config", "gc.auto", "0"], check=True)
    root_commit = subprocess.run(
        ["git", "-C", str(repo), "rev-list", "--max-parents=0", "main"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[0]
    rng = random.Random(seed)
    grants = unverified = 0
    stream = subprocess.Popen(
        ["git", "-C", str(repo), "fast-import", "--quiet", "--done"], stdin=subprocess.PIPE
    )
    assert stream.stdin is not None
    out = stream.stdin
    stamp = int(generate.HEAD_TIME.timestamp()) + 120
    out.write(f"commit {NOTES_REF}\n".encode())
    out.write(f"committer jitops <jitops@users.noreply.github.com> {stamp} +0000\n".encode())
    message = b"Notes added by 'git notes add'\n"
    out.write(b"data %d\n%s\n" % (len(message), message))
    for landing in _landings(repo):
        grants += len(landing.requests)
        draw = rng.random()
        if draw < NO_NOTE:
            unverified += len(landing.requests)
            continue
        outcome = (
            "refused"
            if draw < NO_NOTE + REFUSED
            else "failed"
            if draw < NO_NOTE + REFUSED + GRANT_FAILED
            else "allowed"
        )
        if outcome != "allowed":
            unverified += len(landing.requests)
        note = _note(landing, outcome, root_commit, rng)
        out.write(f"N inline {landing.commit}\n".encode())
        out.write(b"data %d\n%s\n" % (len(note), note))
    out.write(b"\ndone\n")
    out.close()
    if stream.wait() != 0:
        raise SystemExit("audit: git fast-import of the notes failed")
    print(
        f"evidence clone: {repo}: notes written ({time.monotonic() - started:.1f}s)",
        file=sys.stderr,
    )
    done.write_text(json.dumps({"grants": grants, "unverified": unverified}), encoding="utf-8")
    return repo, Expected(grants, unverified)


@dataclass(frozen=True)
class Run:
    wall: float
    cpu: float  # user + system of the command and every process it waited for
    rss_mb: float  # the largest resident set of the command's process tree


def _timed(
    command: Sequence[str], cwd: Path, name: str, expected_code: int
) -> tuple[Run, bytes, bytes]:
    """Run ``command``; (its times, stdout, stderr). A command that fails is never timed."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped: Popen must not wait
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if process.returncode != expected_code:
        sys.stderr.write(stdout.decode(errors="replace")[-4000:])
        sys.stderr.write(stderr.decode(errors="replace")[-4000:])
        raise SystemExit(
            f"audit: {name} exited {process.returncode}, not {expected_code}; not timing that"
        )
    run = Run(elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)
    return run, stdout, stderr


def _fail(name: str, what: str) -> SystemExit:
    return SystemExit(f"audit: {name} {what}; not timing that")


def check_floor(stdout: bytes, stderr: bytes, expected: Expected) -> None:
    # every added or modified request file is one line "A\t<path>" or "M\t<path>"
    lines = [line for line in stdout.split(b"\n") if line[:2] in (b"A\t", b"M\t")]
    if len(lines) != expected.grants:
        raise _fail("the floor", f"listed {len(lines)} landings, not {expected.grants}")


def _summary(stderr: bytes, verb: str, expected: Expected) -> str | None:
    want = f"{expected.grants} grant(s) {verb}, {expected.unverified} without approval evidence"
    return None if want in stderr.decode(errors="replace") else want


def check_text(stdout: bytes, stderr: bytes, expected: Expected) -> None:
    rows = stdout.count(b"\n") - 1  # the header
    if rows != expected.grants or _summary(stderr, "in history", expected):
        raise _fail("jitops audit --format text", f"printed {rows} rows (want {expected})")


def check_json(stdout: bytes, stderr: bytes, expected: Expected) -> None:
    grants = json.loads(stdout)["grants"]
    unverified = sum(1 for g in grants if g["problem"] is not None)
    if (len(grants), unverified) != (expected.grants, expected.unverified):
        raise _fail(
            "jitops audit --format json",
            f"reported {len(grants)} grants, {unverified} unverified (want {expected})",
        )


def check_csv(stdout: bytes, stderr: bytes, expected: Expected) -> None:
    rows = list(csv.DictReader(io.StringIO(stdout.decode(), newline="")))
    unverified = sum(1 for r in rows if r["evidence"] in ("none", "refused", "grant failed"))
    if (len(rows), unverified) != (expected.grants, expected.unverified):
        raise _fail(
            "jitops audit --format csv",
            f"wrote {len(rows)} rows, {unverified} unverified (want {expected})",
        )


def html_grants(page: bytes) -> list[list[object]]:
    """The grants an audit page carries (its script lists them from this data)."""
    data = page.split(b'id="grant-data">', 1)[1].split(b"</script>", 1)[0]
    grants: list[list[object]] = json.loads(data)
    return grants


def check_html(stdout: bytes, stderr: bytes, expected: Expected) -> None:
    grants = html_grants(stdout)
    unverified = sum(1 for g in grants if g[1] == "problem")
    if (len(grants), unverified) != (expected.grants, expected.unverified):
        raise _fail(
            "jitops audit --format html",
            f"carried {len(grants)} grants, {unverified} unverified (want {expected})",
        )


def check_verify(stdout: bytes, stderr: bytes, expected: Expected) -> None:
    if want := _summary(stderr, "checked", expected):
        raise _fail("jitops audit verify", f"did not report {want!r}")


@dataclass
class Command:
    name: str
    argv: list[str]
    check: Callable[[bytes, bytes, Expected], None]
    expected_code: int = 0
    target: bool = True  # held to TARGET_RATIO
    runs: list[Run] = field(default_factory=list)

    def run(self, cwd: Path, expected: Expected) -> Run:
        timed, stdout, stderr = _timed(self.argv, cwd, self.name, self.expected_code)
        self.check(stdout, stderr, expected)
        return timed

    @property
    def best(self) -> float:
        return min(r.wall for r in self.runs)

    @property
    def median(self) -> float:
        return statistics.median(r.wall for r in self.runs)

    @property
    def cpu(self) -> float:
        return statistics.median(r.cpu for r in self.runs)

    @property
    def rss(self) -> float:
        return max(r.rss_mb for r in self.runs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--policies", type=int, default=200)
    parser.add_argument("--commits", type=int, default=50_000, help="first-parent history")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each command")
    parser.add_argument("--fresh", action="store_true", help="regenerate the cached repositories")
    parser.add_argument(
        "--jitops",
        help="the jitops command to time (default: this checkout's, as `python3 -m jitops` "
        "with PYTHONPATH set to it, whatever is installed), e.g. "
        "'env PYTHONPATH=/tmp/old python3 -m jitops' to time another checkout",
    )
    args = parser.parse_args(argv)

    base = ensure_repo(args.requests, args.policies, args.commits, args.seed, args.fresh)
    repo, expected = ensure_evidence_repo(base, args.seed, args.fresh)
    jitops = (
        shlex.split(args.jitops)
        if args.jitops
        else ["env", f"PYTHONPATH={HERE.parent}", sys.executable, "-m", "jitops"]
    )
    audit = [*jitops, "audit", "--repo", str(repo)]
    commands = [
        Command(
            "floor: git log --first-parent --name-status main -- requests/",
            ["git", "log", "--first-parent", "--name-status", "main", "--", "requests/"],
            check_floor,
            target=False,
        ),
        Command("jitops audit --format text", [*audit, "--format", "text"], check_text),
        Command("jitops audit --format json", [*audit, "--format", "json"], check_json),
        Command("jitops audit --format csv", [*audit, "--format", "csv"], check_csv),
        Command("jitops audit --format html", [*audit, "--format", "html"], check_html),
        # it exits 1: some landings have no valid evidence, and it must say so
        Command("jitops audit verify", [*audit, "verify"], check_verify, 1, target=False),
    ]

    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    print(f"python {platform.python_version()} on {platform.machine()}, {_version(jitops)}")
    print(f"{_version(['git'])}")
    print(f"CPUs: {os.cpu_count()} (usable {affinity}); load average before: {_load()}")
    print(
        f"repository: {repo.name}: {args.commits:,} commits, {expected.grants:,} landings of "
        f"requests ({args.requests:,} on the branch), {expected.unverified:,} without valid "
        f"evidence"
    )

    print("warm-up run of each command…", file=sys.stderr, flush=True)
    for command in commands:
        command.run(repo, expected)
    for run in range(args.runs):
        # alternate, so a burst of load elsewhere on the machine hits every command
        load = _load()
        for command in commands:
            command.runs.append(command.run(repo, expected))
        times = ", ".join(f"{c.runs[-1].wall:.2f}s" for c in commands)
        print(f"run {run + 1}/{args.runs} (load {load}): {times}", file=sys.stderr, flush=True)
    print(f"load average after: {_load()}")

    floor = commands[0]
    print()
    print("| command | best s | median s | median CPU s | peak RSS MB | best / floor "
          "| median / floor |")  # fmt: skip
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for command in commands:
        print(
            f"| {command.name} | {command.best:.2f} | {command.median:.2f} | {command.cpu:.2f} "
            f"| {command.rss:.0f} | {command.best / floor.best:.2f}x "
            f"| {command.median / floor.median:.2f}x |"
        )
    print()
    checks = [
        (f"{c.name} <= {TARGET_RATIO:g}x the floor (best)", c.best <= TARGET_RATIO * floor.best)
        for c in commands
        if c.target
    ]
    checks += _page_opening(repo, audit, args.runs)
    for label, ok in checks:
        print(f"{'PASS' if ok else 'MISS'}  {label}")
    return 0 if all(ok for _, ok in checks) else 1


HTML_OPEN_TARGET = 2.0  # seconds for the audit page to open in a browser
_CHROMIUM_FLAGS = (*HEADLESS_FLAGS, "--window-size=1400,900")


def _page_opening(repo: Path, audit: list[str], runs: int) -> list[tuple[str, bool]]:
    """Time headless Chromium opening the audit page until its first screenshot (load, the
    page's script, layout, paint), beside the same for an empty page; none without chromium."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        print("\n(no chromium: the page's opening is not timed; apt-get install chromium)")
        return []
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        page, empty = folder / "audit.html", folder / "empty.html"
        page.write_bytes(subprocess.run([*audit, "--format", "html"], cwd=repo,
                                        capture_output=True, check=True).stdout)  # fmt: skip
        empty.write_text("<!doctype html><title>empty</title>")
        timings: dict[Path, list[float]] = {page: [], empty: []}
        for index in range(runs + 1):
            for target in (page, empty):
                started = time.perf_counter()
                subprocess.run(
                    [browser, *_CHROMIUM_FLAGS, f"--user-data-dir={folder / 'profile'}",
                     f"--screenshot={folder / 'shot.png'}", target.as_uri()],
                    capture_output=True, check=True, timeout=300,
                )  # fmt: skip
                if index:  # the first is a warm-up
                    timings[target].append(time.perf_counter() - started)
        size = page.stat().st_size / 1e6
    best, blank = min(timings[page]), min(timings[empty])
    print(f"\n| opening in headless Chromium ({size:.1f} MB page) | best s | median s |")
    print("| --- | ---: | ---: |")
    for label, seconds in (("the audit page", timings[page]), ("an empty page", timings[empty])):
        print(f"| {label} | {min(seconds):.2f} | {statistics.median(seconds):.2f} |")
    print()
    return [(f"the audit page opens in <= {HTML_OPEN_TARGET:g} s (best; empty page {blank:.2f} s)",
             best <= HTML_OPEN_TARGET)]  # fmt: skip


if __name__ == "__main__":
    try:
        sys.exit(main())
    except SystemExit as exc:
        if isinstance(exc.code, str):  # a command failed or reported wrongly
            print(exc.code, file=sys.stderr)
            sys.exit(2)
        raise
