"""``jitops test`` end to end: the policy test cases under ``policies/tests/`` pin what each role
decides, so a policy change is reviewed together with its effect."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import CLI
from tests.gitrepo import PROJECT, make_access_repo


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_access_repo(tmp_path / "access")


CASE = """\
apiVersion: jitops/v1
kind: PolicyTest
cases:
  - name: readonly is auto-approved
    now: 2026-11-23T10:00:00Z
    request: {requester: alice, target: sandbox-db, role: readonly, duration: 4h}
    requester_teams: ["@acme/engineering"]
    expect: {decision: allowed, reason: auto-approved}
"""


def test_policy_tests_pass_on_this_repository(cli: CLI) -> None:
    result = cli("test", "--repo", str(PROJECT))
    assert result.code == 0, result.output
    assert " 0 failed" in result.err


def test_a_policy_change_that_breaks_a_case_fails_jitops_test(repo: Path, cli: CLI) -> None:
    policy = repo / "policies" / "sandbox-db.yaml"
    policy.write_text(policy.read_text().replace("max_duration: 8h", "max_duration: 24h"))
    result = cli("test", "--repo", str(repo))
    assert result.code == 1
    assert (
        "FAIL policies/tests/sandbox-db.yaml:11: readonly for longer than 8h is refused"
        in result.out
    )
    assert "expected denied" in result.out


def test_verbose_shows_the_decision_of_every_case(repo: Path, cli: CLI) -> None:
    quiet = cli("test", "--repo", str(repo))
    loud = cli("test", "--repo", str(repo), "--verbose")
    assert quiet.code == loud.code == 0
    assert "PASS policies/tests/sandbox-db.yaml:5: readonly is auto-approved" in quiet.out
    assert len(loud.out.splitlines()) > len(quiet.out.splitlines())
    assert "auto-approved" in loud.out.split("readonly is auto-approved", 1)[1]


def test_a_case_expecting_the_wrong_reason_fails(repo: Path, cli: CLI) -> None:
    (repo / "policies" / "tests" / "extra.yaml").write_text(
        CASE.replace("reason: auto-approved", "reason: approved by @bob")
    )
    result = cli("test", "--repo", str(repo))
    assert result.code == 1
    assert "FAIL policies/tests/extra.yaml:4: readonly is auto-approved" in result.out
    assert "expected allowed ('approved by @bob')" in result.out


def test_a_broken_test_file_is_an_input_error_with_its_line(repo: Path, cli: CLI) -> None:
    (repo / "policies" / "tests" / "extra.yaml").write_text(
        CASE.replace("    expect:", "    expekt:")
    )
    result = cli("test", "--repo", str(repo))
    assert result.code == 2
    assert "policies/tests/extra.yaml:8:" in result.out and "expekt" in result.out
    assert "Traceback" not in result.output


def test_without_cases_it_says_what_to_add(repo: Path, cli: CLI) -> None:
    for case in (repo / "policies" / "tests").iterdir():
        case.unlink()
    result = cli("test", "--repo", str(repo))
    assert result.code == 1
    assert "no policy test cases" in result.out and "kind: PolicyTest" in result.out


def test_broken_policies_run_no_case_and_exit_2(repo: Path, cli: CLI) -> None:
    policy = repo / "policies" / "sandbox-db.yaml"
    policy.write_text(policy.read_text().replace("roles:", "rolez:", 1))
    result = cli("test", "--repo", str(repo))
    assert result.code == 2
    assert "PASS" not in result.out and "policies/sandbox-db.yaml" in result.out
