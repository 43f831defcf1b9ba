"""The provisioner interface: value types, settings validation, secrets and redaction."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta, timezone

import pytest

from jitops.errors import JitopsError
from jitops.provisioners._secrets import redact
from jitops.provisioners.exec import ExecProvisioner
from jitops.provisioners.interface import (
    Grant,
    ProvisionerError,
    SecretMissing,
    SettingsError,
    TargetConfig,
)


def _exec_target(**secrets: str) -> TargetConfig:
    return TargetConfig("legacy", "exec", {"command": [sys.executable, "-V"]}, secrets)


def test_grant_requires_aware_datetimes_and_normalises_to_utc() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Grant("r", "alice", "t", "ro", datetime(2030, 1, 1))
    cet = timezone(timedelta(hours=1))
    grant = Grant("r", "alice", "t", "ro", datetime(2030, 1, 1, 13, tzinfo=cet))
    assert grant.expires_at == datetime(2030, 1, 1, 12, tzinfo=UTC)
    assert grant.expires_at.utcoffset() == timedelta(0)


def test_grant_window_must_open_before_it_closes() -> None:
    end = datetime(2030, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="starts_at"):
        Grant("r", "alice", "t", "ro", end, starts_at=end)


def test_target_config_is_frozen_all_the_way_down() -> None:
    settings = {"command": ["x"]}
    target = TargetConfig("legacy", "exec", settings, {"token": "TOKEN_VAR"})
    settings["command"] = ["changed"]  # the caller's dict is copied, not shared
    assert target.settings["command"] == ["x"]
    with pytest.raises(TypeError):
        target.secrets["token"] = "other"  # type: ignore[index]


def test_settings_errors_name_each_wrong_field() -> None:
    target = TargetConfig(
        "legacy", "exec", {"command": [], "timeout": -1, "colour": "red"}, {"token": "not a name"}
    )
    with pytest.raises(SettingsError) as caught:
        ExecProvisioner(target)
    locs = {problem.loc for problem in caught.value.problems}
    assert locs == {
        ("settings", "command"),
        ("settings", "timeout"),
        ("settings", "colour"),
        ("secrets", "token"),
    }
    assert isinstance(caught.value, JitopsError)
    assert "target 'legacy' is misconfigured" in caught.value.message


def test_missing_secret_names_the_variable_never_a_value() -> None:
    provisioner = ExecProvisioner(_exec_target(token="LEGACY_TOKEN"), environ={})
    with pytest.raises(SecretMissing, match="LEGACY_TOKEN"):
        provisioner.secret("token")
    with pytest.raises(SecretMissing, match="not configured"):
        provisioner.secret("password")


def test_repr_and_errors_never_show_secret_values() -> None:
    value = "hunter2-very-secret"
    provisioner = ExecProvisioner(
        _exec_target(token="LEGACY_TOKEN"), environ={"LEGACY_TOKEN": value}
    )
    assert provisioner.secret("token") == value
    assert value not in repr(provisioner)
    assert value not in repr(provisioner.target)
    error = provisioner.error(f"the server said: bad token {value}")
    assert isinstance(error, ProvisionerError)
    assert value not in error.message
    assert value not in str(error)
    assert "***" in error.message


@pytest.mark.parametrize(
    ("text", "leaked"),
    [
        ("connect postgresql://prov:pa55word@db:5432/app failed", "pa55word"),
        ("host=db user=prov password=pa55word dbname=app", "pa55word"),
        ('{"secret_access_key": "wJalrXUtnFEMI/K7MDENG"}', "wJalrXUtnFEMI"),
        ("Authorization: Bearer ghp_0123456789abcdef", "ghp_0123456789abcdef"),
    ],
)
def test_redact_hides_credential_shaped_text(text: str, leaked: str) -> None:
    assert leaked not in redact(text)


def test_redact_keeps_ordinary_text() -> None:
    text = 'password authentication failed for user "alice"'
    assert redact(text, ["s3cret"]) == text
