"""The file schemas: strict types, no unknown fields, aware timestamps, real durations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from jitops.models import AccessRequest, Policy, RolePolicy, Target, format_duration, parse_duration


def request(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "apiVersion": "jitops/v1",
        "kind": "AccessRequest",
        "id": "inc-1234-alice",
        "requester": "alice",
        "target": "sandbox-db",
        "role": "readonly",
        "justification": "Investigate INC-1234 on the orders table",
        "duration": "4h",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def error_types(data: dict[str, Any], model: Any = AccessRequest) -> set[str]:
    with pytest.raises(ValidationError) as info:
        model.model_validate(data)
    return {e["type"] for e in info.value.errors()}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", timedelta(minutes=30)),
        ("4h", timedelta(hours=4)),
        ("1h30m", timedelta(minutes=90)),
        ("2d", timedelta(days=2)),
        ("1 hour", timedelta(hours=1)),
    ],
)
def test_durations_parse(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["4", "0h", "-1h", "soon", "", "h", "400d"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_a_duration_of_no_time_says_so_rather_than_not_a_duration() -> None:
    with pytest.raises(ValueError, match="'0m' is no time at all"):
        parse_duration("0m")
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration("0")  # no unit: not a duration at all


def test_integer_duration_is_refused_with_a_unit_hint() -> None:
    with pytest.raises(ValidationError, match="with a unit"):
        AccessRequest.model_validate(request(duration=4))


def test_format_duration_round_trips() -> None:
    for text in ("30m", "4h", "1d4h", "1h30m"):
        assert format_duration(parse_duration(text)) == text


def test_expires_at_is_kept_in_utc() -> None:
    moment = datetime(2026, 11, 24, 19, 0, tzinfo=UTC) + timedelta(hours=0)
    parsed = AccessRequest.model_validate(
        request(duration=None, expires_at="2026-11-24T20:00:00+01:00")
    )
    assert parsed.expires_at == moment and parsed.expires_at.tzinfo == UTC


def test_naive_timestamps_are_refused() -> None:
    assert "timezone_aware" in error_types(request(duration=None, expires_at="2026-11-24T18:00:00"))
    naive = datetime(2026, 11, 24, 18, 0)
    assert "timezone_aware" in error_types(request(duration=None, expires_at=naive))


def test_exactly_one_window() -> None:
    assert "value_error" in error_types(request(expires_at="2026-11-24T18:00:00Z"))
    assert "value_error" in error_types(request(duration=None))
    assert "value_error" in error_types(request(starts_at="2026-11-24T18:00:00Z"))
    assert "value_error" in error_types(
        request(duration=None, starts_at="2026-11-25T00:00:00Z", expires_at="2026-11-24T00:00:00Z")
    )


def test_unknown_fields_are_errors() -> None:
    assert error_types(request(aproved_by="bob")) == {"extra_forbidden"}


@pytest.mark.parametrize(
    "login",
    ["-alice", "alice\n", "al ice", "a" * 40, "álice", "alice@example.com", "", "alice_b"],
)
def test_requester_must_be_a_github_login(login: str) -> None:
    assert "string_pattern_mismatch" in error_types(request(requester=login))


def test_logins_of_39_characters_are_fine() -> None:
    assert AccessRequest.model_validate(request(requester="A" * 39)).requester == "A" * 39


def test_types_are_not_coerced() -> None:
    assert "string_type" in error_types(request(ticket=1234))
    assert "string_type" in error_types(request(id=123456))


@pytest.mark.parametrize("justification", ["test", "access", "n/a", "TODO.", "short"])
def test_trivial_justifications_are_refused(justification: str) -> None:
    assert "value_error" in error_types(request(justification=justification))


@pytest.mark.parametrize(
    "hidden",
    ["\x1b[2J", "\x07", "\x00", "\x7f", "\x9b", "\u202e", "\u2066", "\u200f"],
    ids=["escape", "bell", "nul", "delete", "csi", "rlo", "lri", "rlm"],
)
def test_control_characters_are_refused_in_justification_and_ticket(hidden: str) -> None:
    # a terminal escape or a bidi override can make a request read differently to its reviewer
    text = f"Investigate INC-1234 {hidden}on the orders table"
    with pytest.raises(ValidationError, match="control character U\\+"):
        AccessRequest.model_validate(request(justification=text))
    with pytest.raises(ValidationError, match="control character U\\+"):
        AccessRequest.model_validate(request(ticket=f"INC-{hidden}1"))


def test_whitespace_in_a_justification_is_folded_not_refused() -> None:
    text = "Investigate\tINC-1234\r\n on the\u2028orders table"
    folded = AccessRequest.model_validate(request(justification=text)).justification
    assert folded == "Investigate INC-1234 on the orders table"


def test_wrong_api_version_is_refused() -> None:
    assert "literal_error" in error_types(request(apiVersion="jitops/v2"))


def target(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "apiVersion": "jitops/v1",
        "kind": "Target",
        "name": "sandbox-db",
        "provisioner": "postgres",
        "roles": ["readonly"],
        "settings": {"host": "db"},
        "secrets": {"password": "DB_PASSWORD"},
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize("key", ["password", "api_token", "client_secret", "PrivateKey"])
def test_secrets_may_not_be_written_into_target_settings(key: str) -> None:
    with pytest.raises(ValidationError, match="looks like a secret"):
        Target.model_validate(target(settings={key: "hunter2"}))


def test_secrets_name_environment_variables_only() -> None:
    assert "string_pattern_mismatch" in error_types(
        target(secrets={"password": "hunter2 is my password"}), Target
    )


def test_a_role_is_auto_approved_or_has_approvals() -> None:
    with pytest.raises(ValidationError, match="has no `approvals`"):
        RolePolicy.model_validate({"max_duration": "1h"})
    with pytest.raises(ValidationError, match="not both"):
        RolePolicy.model_validate(
            {"max_duration": "1h", "auto_approve": True, "approvals": [{"from": ["bob"]}]}
        )


def test_auto_approve_must_be_a_real_boolean() -> None:
    assert "bool_type" in error_types({"max_duration": "1h", "auto_approve": "yes"}, RolePolicy)


def test_policy_principals_are_users_or_teams() -> None:
    base = {
        "apiVersion": "jitops/v1",
        "kind": "Policy",
        "name": "p",
        "targets": ["t"],
        "roles": {"r": {"max_duration": "1h", "auto_approve": True}},
    }
    assert Policy.model_validate({**base, "requesters": ["alice", "@bob", "@acme/db-leads"]})
    assert "string_pattern_mismatch" in error_types(
        {**base, "requesters": ["acme/db-leads"]}, Policy
    )


def test_bad_ticket_pattern_is_refused() -> None:
    with pytest.raises(ValidationError, match="not a valid regular expression"):
        RolePolicy.model_validate(
            {"max_duration": "1h", "auto_approve": True, "ticket": {"pattern": "INC-("}}
        )


@pytest.mark.parametrize("variable", ["GITHUB_DB_PASSWORD", "GITHUB_"])
def test_a_secret_github_actions_could_not_hold_is_refused_by_validate_too(variable: str) -> None:
    """The workflows hand a target its secret from an Actions secret of the same name, and
    GitHub refuses any named GITHUB_…: validate says so, as init does."""
    with pytest.raises(ValidationError, match="GitHub Actions secrets cannot be named GITHUB_"):
        Target.model_validate(target(secrets={"password": variable}))
