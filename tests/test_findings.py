"""Findings: where a problem is, what it is and how to fix it, and the exit code they add up to."""

from __future__ import annotations

import pytest

from jitops.errors import ExitCode, InputError
from jitops.findings import Finding, Severity, exit_code


def test_a_location_has_line_and_column_only_when_known() -> None:
    assert Finding("policies/a.yaml", Severity.ERROR, "bad").location == "policies/a.yaml"
    assert Finding("a.yaml", Severity.ERROR, "bad", line=3).location == "a.yaml:3:1"
    assert Finding("a.yaml", Severity.ERROR, "bad", line=3, column=7).location == "a.yaml:3:7"


def test_the_text_is_what_is_wrong_then_how_to_fix_it() -> None:
    assert Finding("a", Severity.DENIED, "no", "ask @leads").text == "no — ask @leads"
    assert Finding("a", Severity.DENIED, "no").text == "no"


def test_an_input_error_keeps_its_place_and_splits_its_fix() -> None:
    error = InputError("duplicate key `role` — keep one", path="r.yaml", line=4, column=2)
    finding = Finding.from_input_error(error)
    assert finding == Finding("r.yaml", Severity.ERROR, "duplicate key `role`", "keep one", 4, 2)
    bare = Finding.from_input_error(InputError("not YAML", path="r.yaml"))
    assert (bare.message, bare.hint, bare.line) == ("not YAML", None, None)


@pytest.mark.parametrize(
    ("severities", "code"),
    [
        ([], ExitCode.OK),
        ([Severity.WARNING], ExitCode.OK),
        ([Severity.WARNING, Severity.DENIED], ExitCode.DENIED),
        ([Severity.DENIED, Severity.ERROR, Severity.WARNING], ExitCode.USAGE),
    ],
)
def test_the_worst_finding_decides_the_exit_code(
    severities: list[Severity], code: ExitCode
) -> None:
    assert exit_code(Finding("f", s, "m") for s in severities) is code
