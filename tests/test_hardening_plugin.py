"""The hardening report's plugin records each attack's invariant and whether it was refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.gitrepo import PROJECT


def test_the_plugin_records_each_attack_and_how_it_ended(tmp_path: Path) -> None:
    (tmp_path / "test_sample.py").write_text(
        "import pytest\n\n"
        "@pytest.mark.attack(2, 'approve alone')\n"
        "def test_refused():\n    assert True\n\n"
        "@pytest.mark.attack(3, 'grant unverified')\n"
        "def test_not_refused():\n    assert False\n\n"
        "def test_plain():\n    pass\n"
    )
    out = tmp_path / "out.json"
    subprocess.run(
        [
            sys.executable, "-m", "pytest", "-q", "-p", "tests.hardening_plugin",
            "-o", "markers=attack(invariant, what): an attack", "--rootdir", str(tmp_path),
            "-c", os.devnull, str(tmp_path / "test_sample.py"),
        ],
        cwd=PROJECT,
        env={**os.environ, "JITOPS_HARDENING_JSON": str(out)},
        capture_output=True,
        check=False,
    )  # fmt: skip
    found = {key.rsplit("::", 1)[-1]: value for key, value in json.loads(out.read_text()).items()}
    assert found == {
        "test_refused": {
            "kind": "attack", "invariant": 2, "what": "approve alone", "outcome": "passed",
            "fault": False,
        },
        "test_not_refused": {
            "kind": "attack", "invariant": 3, "what": "grant unverified", "outcome": "failed",
            "fault": False,
        },
    }  # fmt: skip


def test_an_attack_in_a_faults_module_injects_a_fault(tmp_path: Path) -> None:
    from tests.hardening_plugin import _injects_a_fault

    assert _injects_a_fault("tests/faults/test_postgres_faults.py")
    assert _injects_a_fault("tests/e2e/test_api_faults.py")
    assert not _injects_a_fault("tests/attacks/test_landing.py")
    assert not _injects_a_fault("tests/e2e/faults_world.py")  # not a test module


def test_the_readme_table_counts_the_attacks_the_suite_makes(tmp_path: Path) -> None:
    """The README's table of attacks per invariant says what the suite holds."""
    import re
    from collections import Counter

    out = tmp_path / "out.json"
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "--collect-only", "-p", "tests.hardening_plugin",
         "tests"],
        cwd=PROJECT,
        env={**os.environ, "JITOPS_HARDENING_JSON": str(out)},
        capture_output=True,
        check=False,
    )  # fmt: skip
    found = json.loads(out.read_text()).values()
    counted = Counter(r["invariant"] for r in found if r["kind"] == "attack")
    readme = (PROJECT / "README.md").read_text()
    table = {
        int(number): int(tried)
        for number, tried in re.findall(r"^\| (\d)\. [^|]+\| (\d+) \|", readme, re.M)
    }
    assert table == dict(counted), "rerun scripts/hardening_report.py and update the README"
    faults = sum(bool(r["fault"]) for r in found if r["kind"] == "attack")
    injected = re.search(r"^Faults: (\d+) injected", readme, re.M)
    assert injected is not None and int(injected.group(1)) == faults
