"""The exec provisioner, against scripts in ``tests/provisioners/scripts``."""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from jitops.provisioners.exec import ExecProvisioner
from jitops.provisioners.interface import (
    ActionResult,
    ActionRun,
    CheckStatus,
    ListingNotSupported,
    ProvisionerError,
    TargetConfig,
)
from tests.provisioners._grants import make_grant

SCRIPTS = Path(__file__).parent / "scripts"
TOKEN = "tok-3f9a8b7c6d5e"


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / "state.json"


def _provisioner(
    state: Path,
    script: str = "fake_system.py",
    *,
    token: str = TOKEN,
    can_list: bool = True,
    timeout: float = 20,
) -> ExecProvisioner:
    target = TargetConfig(
        "sandbox",
        "exec",
        {
            "command": [sys.executable, str(SCRIPTS / script)],
            "env": ["FAKE_STATE", "FAKE_EXPECTED_TOKEN"],
            "can_list": can_list,
            "timeout": timeout,
        },
        {"token": "FAKE_TOKEN"},
    )
    environ = {
        "PATH": "/usr/bin:/bin",
        "FAKE_STATE": str(state),
        "FAKE_EXPECTED_TOKEN": TOKEN,
        "FAKE_TOKEN": token,
        "UNRELATED_SECRET": "must-not-reach-the-command",
    }
    return ExecProvisioner(target, environ)


def test_grant_sends_the_documented_json(state: Path) -> None:
    grant = make_grant("alice", "operator")
    _provisioner(state).grant(grant)
    sent = json.loads(state.read_text())["alice/operator"]
    assert sent == {
        "version": 1,
        "action": "grant",
        "target": "sandbox",
        "request_id": grant.request_id,
        "requester": "alice",
        "role": "operator",
        "expires_at": grant.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "starts_at": None,
    }


def test_command_sees_only_path_listed_env_and_secrets(state: Path) -> None:
    _provisioner(state).grant(make_grant())
    seen = set(json.loads(Path(f"{state}.env").read_text()))
    assert {"PATH", "FAKE_STATE", "FAKE_EXPECTED_TOKEN", "FAKE_TOKEN"} <= seen
    assert "UNRELATED_SECRET" not in seen


def test_grant_list_revoke_round_trip_is_idempotent(state: Path) -> None:
    provisioner = _provisioner(state)
    grant = make_grant("alice", "operator")
    provisioner.grant_all([grant, grant])
    managed = provisioner.list_managed()
    assert [(m.identity, m.role, m.request_id) for m in managed] == [
        ("alice", "operator", grant.request_id)
    ]
    assert managed[0].expires_at == grant.expires_at
    provisioner.revoke_all([grant, grant])
    assert provisioner.list_managed() == []


def test_failure_reports_stderr_without_the_secret(state: Path) -> None:
    wrong = "wrong-token-77aa"
    provisioner = _provisioner(state, token=wrong)
    with pytest.raises(ProvisionerError) as caught:
        provisioner.grant(make_grant())
    message = caught.value.message
    assert "exited with status 4" in message
    assert "authentication failed with token ***" in message
    assert wrong not in message
    assert not state.exists()


def test_timeout_kills_the_command(state: Path) -> None:
    with pytest.raises(ProvisionerError, match="did not finish within 0.5s"):
        _provisioner(state, "sleepy.py", timeout=0.5).grant(make_grant())


def test_missing_command_is_a_clear_error(state: Path, tmp_path: Path) -> None:
    target = TargetConfig("sandbox", "exec", {"command": [str(tmp_path / "nope")]})
    provisioner = ExecProvisioner(target, {"PATH": "/usr/bin"})
    with pytest.raises(ProvisionerError, match="not found"):
        provisioner.grant(make_grant())
    [result] = provisioner.check()
    assert result.status is CheckStatus.ERROR
    assert result.fix


def test_listing_needs_can_list(state: Path) -> None:
    with pytest.raises(ListingNotSupported, match="can_list"):
        _provisioner(state, can_list=False).list_managed()


def test_malformed_list_output_is_refused(state: Path) -> None:
    with pytest.raises(ProvisionerError) as caught:
        _provisioner(state, "bad_list.py").list_managed()
    assert "managed.0.role" in caught.value.message
    assert "extra" in caught.value.message


def test_check_reports_reachability_and_missing_environment(state: Path) -> None:
    results = {r.check: r for r in _provisioner(state).check()}
    assert results["command"].status is CheckStatus.OK
    assert results["reachable"].status is CheckStatus.OK
    broken = _provisioner(state, token="")
    broken_results = broken.check()
    secrets = [r for r in broken_results if r.check == "secrets"]
    assert secrets and secrets[0].status is CheckStatus.ERROR
    assert "FAKE_TOKEN" in secrets[0].message


def test_grant_for_another_target_is_refused(state: Path) -> None:
    with pytest.raises(ProvisionerError, match="is for target 'other'"):
        _provisioner(state).grant(make_grant(target="other"))
    assert not state.exists()


def test_describe_shows_the_command_not_secrets(state: Path) -> None:
    text = _provisioner(state).describe()
    assert "fake_system.py" in text
    assert TOKEN not in text


def _restart(state: Path, request_id: str, service: str, *, seconds: int = 20) -> ActionResult:
    """alice's approved ``restart-export`` action on ``service``, performed through exec."""
    run = ActionRun(
        request_id, "alice", "sandbox", "restart-export", params={"service": service},
        timeout=timedelta(seconds=seconds),
    )  # fmt: skip
    return _provisioner(state).perform(run)


def test_a_command_action_is_performed_once_with_its_parameters(state: Path) -> None:
    result = _restart(state, "act-1", "export")
    assert result.succeeded, result.error
    assert result.output.strip() == "restarted export for alice"
    [sent] = [json.loads(line) for line in Path(f"{state}.performed").read_text().splitlines()]
    assert sent == {
        "version": 1,
        "action": "perform",
        "target": "sandbox",
        "request_id": "act-1",
        "requester": "alice",
        "name": "restart-export",
        "params": {"service": "export"},
    }


def test_a_failed_command_action_is_reported_redacted_and_not_retried(state: Path) -> None:
    result = _restart(state, "act-2", "broken")
    assert not result.succeeded
    assert "exited with status 3" in (result.error or "")
    assert TOKEN not in (result.error or "")
    assert len(Path(f"{state}.performed").read_text().splitlines()) == 1


@pytest.mark.attack(7, "print a secret through a command action's long output")
def test_a_command_action_s_output_is_redacted_then_cut_to_what_a_result_keeps(
    state: Path,
) -> None:
    from jitops.provisioners.exec import OUTPUT_KEPT

    result = _restart(state, "act-3", "chatty")
    assert result.succeeded, result.error
    assert len(result.output) == OUTPUT_KEPT and result.output.endswith("…")
    assert result.output.startswith("token ") and TOKEN not in result.output


def test_a_command_action_over_its_timeout_is_stopped_and_reported(state: Path) -> None:
    result = _restart(state, "act-4", "slow", seconds=1)
    assert not result.succeeded
    assert "perform: command did not finish within 1s" in (result.error or "")
    assert (result.finished_at - result.started_at).total_seconds() < 10
