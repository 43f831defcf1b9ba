"""End-to-end fixtures: the real CLI in-process (fast) or as a subprocess (as users run it)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from jitops.cli import main

if TYPE_CHECKING:
    from jitops.testing.github import GitHubServer
    from tests.e2e.apply_world import World
    from tests.e2e.gate_world import GateWorld
    from tests.e2e.sweep_world import Served


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    @property
    def output(self) -> str:
        return self.out + self.err


CLI = Callable[..., Run]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> CLI:
    """Run ``jitops ARGS`` in-process in ``cwd``; return exit code and output."""

    def run(*args: str, cwd: Path | None = None) -> Run:
        if cwd is not None:
            monkeypatch.chdir(cwd)
        capsys.readouterr()
        with pytest.raises(SystemExit) as info:
            main(list(args))
        captured = capsys.readouterr()
        code = info.value.code
        return Run(code if isinstance(code, int) else 1, captured.out, captured.err)

    return run


@pytest.fixture
def cli_process() -> CLI:
    """Run ``python -m jitops ARGS`` as a real process."""

    def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> Run:
        result = subprocess.run(
            [sys.executable, "-m", "jitops", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            env={**os.environ, **(env or {})},
            timeout=120,
        )
        return Run(result.returncode, result.stdout, result.stderr)

    return run


FAKE_SYSTEM = Path(__file__).resolve().parents[1] / "provisioners" / "scripts" / "fake_system.py"
LEGACY_TOKEN = "s3cret-token-value"


@dataclass(frozen=True)
class LegacySystem:
    """An access repository whose ``legacy`` target is the exec fake system of the tests."""

    repo: Path
    state: Path

    def held(self) -> set[str]:
        """What the fake system grants now, as ``requester/role``."""
        return set(json.loads(self.state.read_text())) if self.state.exists() else set()

    def hold(self, *grants: tuple[str, str]) -> None:
        """Make the system hold ``(requester, request_id)`` grants of role operator."""
        self.state.write_text(
            json.dumps(
                {
                    f"{who}/operator": {
                        "requester": who,
                        "role": "operator",
                        "request_id": request_id,
                        "expires_at": "2026-11-23T18:00:00Z",
                    }
                    for who, request_id in grants
                }
            )
        )


@pytest.fixture
def legacy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LegacySystem:
    """The example access repository plus an exec target ``legacy`` (role ``operator``,
    auto-approved for alice, bob and carol) backed by tests/provisioners/scripts/fake_system.py.
    """
    from tests.gitrepo import PROJECT, commit_all, make_access_repo

    root = make_access_repo(tmp_path / "access")
    command = json.dumps([sys.executable, str(FAKE_SYSTEM)])
    (root / "policies" / "legacy.yaml").write_text(
        "apiVersion: jitops/v1\nkind: Target\nname: legacy\nprovisioner: exec\n"
        "roles: [operator]\n"
        f"settings:\n  command: {command}\n  env: [FAKE_STATE, FAKE_EXPECTED_TOKEN, FAKE_REFUSE]\n"
        "  can_list: true\nsecrets:\n  token: FAKE_TOKEN\n"
    )
    (root / "policies" / "legacy-policy.yaml").write_text(
        "apiVersion: jitops/v1\nkind: Policy\nname: legacy\ntargets: [legacy]\n"
        "requesters: [alice, bob, carol]\n"
        "roles:\n  operator: {max_duration: 8h, auto_approve: true}\n"
    )
    # installed: the apply workflow lands with the target, so this policy state is where
    # apply's trust in the policies starts (jitops.commands.apply.PolicyTrust)
    workflows = root / ".github" / "workflows"
    workflows.mkdir(parents=True, exist_ok=True)
    shutil.copy(PROJECT / ".github" / "workflows" / "jitops-apply.yml", workflows)
    commit_all(root, "install jitops with the legacy target", date="2026-11-01T00:00:00Z")
    state = tmp_path / "legacy-state.json"
    monkeypatch.setenv("FAKE_STATE", str(state))
    monkeypatch.setenv("FAKE_EXPECTED_TOKEN", LEGACY_TOKEN)
    monkeypatch.setenv("FAKE_TOKEN", LEGACY_TOKEN)
    monkeypatch.setenv("FAKE_REFUSE", "")  # request ids whose grant the system refuses
    return LegacySystem(root, state)


@pytest.fixture
def world(
    legacy: LegacySystem,
    github_server: GitHubServer,
    github_names: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> World:
    """People, an access repository on the GitHub test server with the ``legacy`` target,
    and a clone of it, as apply's tests need (tests/e2e/apply_world.py)."""
    from tests.e2e.apply_world import make_world

    return make_world(legacy, github_server, github_names, tmp_path, monkeypatch)


@pytest.fixture
def served(
    legacy: LegacySystem,
    github_server: GitHubServer,
    github_names: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[LegacySystem, Served]:
    """The ``legacy`` system holding grants of alice (until 18:00), bob (expired at 11:00) and
    carol (expired at 10:00), in an access repository on the GitHub test server whose token
    the environment names (tests/e2e/sweep_world.py)."""
    from tests.e2e.sweep_world import serve
    from tests.gitrepo import commit_all, write_request

    for who, window in (
        ("alice", "expires_at: 2026-11-23T18:00:00Z"),
        ("bob", "duration: 2h"),
        ("carol", "expires_at: 2026-11-23T10:00:00Z"),
    ):
        key, _, value = window.partition(": ")
        fields = {"duration": "", key: value}
        write_request(
            legacy.repo, f"{who}-1", target="legacy", role="operator", requester=who, **fields
        )
    commit_all(legacy.repo, "grants", date="2026-11-23T09:00:00Z")
    legacy.hold(("alice", "alice-1"), ("bob", "bob-1"), ("carol", "carol-1"))
    world = serve(github_server, github_names, legacy.repo, tmp_path)
    for name, value in world.env().items():
        monkeypatch.setenv(name, value)
    return legacy, world


@pytest.fixture
def gate(github_server: GitHubServer, github_names: str, tmp_path: Path) -> GateWorld:
    """An organisation with teams and people, and an access repository holding jitops'
    example policies, on the GitHub test server (tests/e2e/gate_world.py)."""
    from tests.e2e.gate_world import make_world

    return make_world(github_server, github_names, tmp_path)


Check = Callable[..., Run]


@pytest.fixture
def check(gate: GateWorld, cli: CLI, monkeypatch: pytest.MonkeyPatch) -> Check:
    """``jitops check-pr --pr N --post`` on ``gate``'s repository with its bot's token (or
    ``token``), as the check workflow runs it."""
    for name, value in gate.env().items():
        monkeypatch.setenv(name, value)

    def run(number: int, *extra: str, token: str | None = None) -> Run:
        monkeypatch.setenv("GITHUB_TOKEN", token or gate.bot.token)
        return cli(
            "check-pr", "--pr", str(number), "--post", "--base-checkout", str(gate.base), *extra
        )

    return run
