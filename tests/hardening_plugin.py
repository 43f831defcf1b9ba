"""A pytest plugin for ``scripts/hardening_report.py``: which attack each test makes (its
``attack`` marker), whether it injects a fault (an attack in tests/faults/ or in a module named
``test_*faults*``: GitHub or PostgreSQL failing under jitops), and how each attack and fuzz test
ended, written as JSON to the file named by ``JITOPS_HARDENING_JSON`` when the session ends."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

_RESULTS: dict[str, dict[str, Any]] = {}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        marker = item.get_closest_marker("attack")
        fuzz = "tests/fuzz/" in item.nodeid
        if marker is None and not fuzz:
            continue
        module = item.nodeid.split("::", 1)[0]
        _RESULTS[item.nodeid] = {
            "kind": "attack" if marker is not None else "fuzz",
            "fault": marker is not None and _injects_a_fault(module),
            "invariant": marker.args[0] if marker is not None else None,
            "what": marker.args[1] if marker is not None else item.name,
            "outcome": "not run",
        }


def _injects_a_fault(module: str) -> bool:
    name = module.rsplit("/", 1)[-1]
    return "tests/faults/" in module or (name.startswith("test_") and "faults" in name)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    found = _RESULTS.get(report.nodeid)
    if found is None:
        return
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        found["outcome"] = report.outcome  # passed: refused / survived; failed; skipped


def pytest_sessionfinish(session: pytest.Session) -> None:
    target = os.environ.get("JITOPS_HARDENING_JSON")
    if target:
        Path(target).write_text(json.dumps(_RESULTS, indent=1, sort_keys=True))
