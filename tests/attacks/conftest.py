"""The attack suite's fixtures: the end-to-end ones of tests/e2e/conftest.py, reused as they
are (one definition each).

- ``world``: an access repository on the GitHub test server whose ``legacy`` target is the
  exec fake system, with a requester, an approver and two platform engineers
  (tests/e2e/apply_world.py) — what apply grants and revokes through.
- ``gate`` and ``check``: an organisation with teams and an access repository holding jitops'
  example policies (tests/e2e/gate_world.py), and ``jitops check-pr --post`` on it.
- ``served``: grants of the fake system, some expired, for the sweep (tests/e2e/sweep_world.py).
- ``legacy``, ``cli``, ``cli_process``: the access repository alone, and the CLI in-process or
  as a process.
"""

from __future__ import annotations

from tests.e2e.conftest import check, cli, cli_process, gate, legacy, served, world

__all__ = ["check", "cli", "cli_process", "gate", "legacy", "served", "world"]
