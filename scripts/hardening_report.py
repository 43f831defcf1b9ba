"""Print what the hardening suites prove: attacks tried and refused, per invariant of the
brief; faults injected (GitHub and PostgreSQL failing under jitops) and survived; and fuzz
tests with the inputs each tried and what crashed.

Runs the tests marked ``attack`` and those under tests/fuzz/ (one pytest run, with
tests/hardening_plugin.py recording each outcome), then prints one table. Exit status: 0
when every attack was refused and no fuzz test failed, 1 otherwise, 2 when pytest could not
run them at all (nothing is counted as proven then).

    python3 scripts/hardening_report.py [--examples N]   # fuzz inputs per property (100)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
INVARIANTS = {
    1: "policy comes from the base branch",
    2: "approval is real",
    3: "only verified grants exist",
    4: "expiry always wins",
    5: "nothing is lost",
    6: "bad input gets a clear error",
    7: "secrets never print",
    8: "git answers the audit",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=100, help="fuzz inputs per property")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        out = Path(work) / "hardening.json"
        env = {
            **os.environ,
            "JITOPS_HARDENING_JSON": str(out),
            "JITOPS_FUZZ_EXAMPLES": str(args.examples),
        }
        command = [
            sys.executable, "-m", "pytest", "-q", "-p", "tests.hardening_plugin",
            "-m", "attack", "tests",  # the attacks
        ]  # fmt: skip
        ran = subprocess.run(command, cwd=PROJECT, env=env, check=False)
        attacks = json.loads(out.read_text()) if out.exists() else {}
        if ran.returncode not in (0, 1) or not attacks:
            print(f"pytest could not run the attacks (exit {ran.returncode})", file=sys.stderr)
            return 2
        fuzz_command = [sys.executable, "-m", "pytest", "-q", "-p", "tests.hardening_plugin",
                        "tests/fuzz"]  # fmt: skip
        out.unlink()
        ran = subprocess.run(fuzz_command, cwd=PROJECT, env=env, check=False)
        fuzz = json.loads(out.read_text()) if out.exists() else {}
        if ran.returncode not in (0, 1) or not fuzz:
            print(f"pytest could not run the fuzz tests (exit {ran.returncode})", file=sys.stderr)
            return 2
    rows = [("invariant", "attacks tried", "refused", "not refused")]
    tried: Counter[int] = Counter()
    refused: Counter[int] = Counter()
    for result in attacks.values():
        if result["kind"] != "attack":
            continue
        tried[result["invariant"]] += 1
        refused[result["invariant"]] += result["outcome"] == "passed"
    for number, name in INVARIANTS.items():
        rows.append((f"{number}. {name}", str(tried[number]), str(refused[number]),
                     str(tried[number] - refused[number])))  # fmt: skip
    rows.append(("all", str(sum(tried.values())), str(sum(refused.values())),
                 str(sum(tried.values()) - sum(refused.values()))))  # fmt: skip
    fuzz_tests = [r for r in fuzz.values() if r["kind"] == "fuzz"]
    crashed = [r["what"] for r in fuzz_tests if r["outcome"] == "failed"]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    faults = [r for r in attacks.values() if r["kind"] == "attack" and r.get("fault")]
    survived = sum(r["outcome"] == "passed" for r in faults)
    print(f"faults: {len(faults)} injected, {survived} survived")
    print(
        f"fuzz: {len(fuzz_tests)} tests, up to {args.examples} inputs per property, "
        f"{len(crashed)} failed{': ' + ', '.join(crashed) if crashed else ''}"
    )
    missed = [
        r["what"] for r in attacks.values() if r["kind"] == "attack" and r["outcome"] != "passed"
    ]
    for what in missed:
        print(f"  not refused: {what}")
    return 1 if missed or crashed else 0


if __name__ == "__main__":
    sys.exit(main())
