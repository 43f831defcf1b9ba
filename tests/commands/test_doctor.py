"""``run_doctor`` on real access repositories in ``tmp_path``: each area finds what it should.

Targets here are never contacted (``offline``, or a provisioner whose ``check`` is replaced);
tests/e2e/test_doctor.py checks a real PostgreSQL target through the CLI.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from jitops import git, ids
from jitops.commands.codeowners import render_codeowners
from jitops.commands.doctor import (
    EXPECTED_WORKFLOWS,
    Area,
    CheckStatus,
    DoctorCheck,
    DoctorOptions,
    DoctorReport,
    github_checks,
    index_check,
    run_doctor,
    sweep_check,
    workflow_checks,
)
from jitops.errors import ExitCode, UsageError
from jitops.provisioners.interface import ProvisionerError
from jitops.provisioners.postgres import PostgresProvisioner
from jitops.report.json import doctor_dict
from jitops.report.text import doctor_text
from jitops.testing.github import BranchProtection
from jitops.testing.github.environments import add_environment, add_repo_secret
from tests.fixtures.github_server import RepoSetup
from tests.gitrepo import PROJECT, commit_all, drop_example_actions, make_access_repo, write_request
from tests.gitrepo import git as run_git

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
PASSWORD_VARIABLE = "JITOPS_SANDBOX_DB_PASSWORD"
SECRET = "hunter2-very-secret-value"
# A socket directory that does not exist: nothing can be reached there.
NOWHERE = {"host": "/nonexistent/jitops-doctor", "user": "jitops_provisioner"}


def doctor_repo(root: Path, settings: dict[str, Any] | None = None) -> Path:
    """An access repository with one target, sandbox-db (postgres), CODEOWNERS and workflows.

    ``settings`` are the target's settings (default: a host nothing listens on).
    """
    make_access_repo(root)
    drop_example_actions(root)  # access roles only: action tests add the actions they check
    # Only the PostgreSQL target: the GitHub team one would need a GitHub to talk to.
    for name in ("github-team.yaml", "sandbox-deployers.yaml"):
        (root / "policies" / name).unlink(missing_ok=True)
    write_target(root, NOWHERE if settings is None else settings)
    shutil.copytree(PROJECT / ".github" / "workflows", root / ".github" / "workflows")
    assert render_codeowners(root, write=True).written is not None
    return root


def write_target(root: Path, settings: dict[str, Any]) -> None:
    """policies/targets.yaml: sandbox-db on PostgreSQL, ``settings`` as a JSON flow mapping."""
    (root / "policies" / "targets.yaml").write_text(
        "apiVersion: jitops/v1\n"
        "kind: Target\n"
        "name: sandbox-db\n"
        "provisioner: postgres\n"
        "roles: [readonly, readwrite, admin]\n"
        f"settings: {json.dumps(settings)}\n"
        f"secrets: {{password: {PASSWORD_VARIABLE}}}\n",
        encoding="utf-8",
    )


def doctor(root: Path, *, offline: bool = True, **environ: str) -> DoctorReport:
    return run_doctor(DoctorOptions(root=root, now=NOW, environ=environ, offline=offline))


def by_status(report: DoctorReport, status: CheckStatus, area: Area | None = None) -> list[str]:
    return [
        f"{c.name}: {c.message}"
        for c in report.checks
        if c.status is status and (area is None or c.area is area)
    ]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return doctor_repo(tmp_path / "access")


def test_a_well_set_up_repository_has_no_errors(repo: Path) -> None:
    report = doctor(repo, **{PASSWORD_VARIABLE: SECRET})
    assert report.exit_code is ExitCode.OK, doctor_text(report)
    assert by_status(report, CheckStatus.ERROR) == []
    # offline: GitHub is not asked
    assert list(dict.fromkeys(c.area for c in report.checks)) == [
        area for area in Area if area is not Area.GITHUB
    ]
    assert "sandbox-db/secrets: environment variable JITOPS_SANDBOX_DB_PASSWORD (secret " in (
        "\n".join(by_status(report, CheckStatus.OK, Area.TARGETS))
    )
    # no sweep has recorded its time, and no index was built yet
    assert sorted(by_status(report, CheckStatus.WARNING)) == [
        "last sweep: last successful sweep unknown",
        f"request-id index: there is no {ids.INDEX_REF} here: the pull-request check stays "
        "exact but walks the whole history for every request id",
    ]


def test_not_a_directory_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such directory"):
        doctor(tmp_path / "absent")


def test_broken_policies_are_reported_and_codeowners_is_not_checked(repo: Path) -> None:
    policy = repo / "policies" / "sandbox-db.yaml"
    policy.write_text(policy.read_text().replace("max_duration: 8h", "max_duraton: 8h"))
    report = doctor(repo, **{PASSWORD_VARIABLE: SECRET})
    assert report.exit_code is ExitCode.DENIED
    errors = [c for c in report.checks if c.area is Area.POLICIES and c.status is CheckStatus.ERROR]
    assert [e.name for e in errors] == [
        "policies/sandbox-db.yaml:9:3",
        "policies/sandbox-db.yaml:10:5",  # at the unknown key itself
    ]
    assert "unknown field `roles.readonly.max_duraton`" in errors[1].message
    assert errors[1].fix is not None and "fix its spelling" in errors[1].fix
    assert by_status(report, CheckStatus.WARNING, Area.CODEOWNERS) == [
        "CODEOWNERS: not checked, because the policies have errors"
    ]


def test_codeowners_out_of_date_says_how_to_regenerate(repo: Path) -> None:
    path = repo / ".github" / "CODEOWNERS"
    path.write_text(path.read_text() + "/requests/ @someone\n")
    [check] = [c for c in doctor(repo).checks if c.area is Area.CODEOWNERS]
    assert check.status is CheckStatus.ERROR
    assert check.message == "CODEOWNERS does not match the policies"
    assert check.fix is not None and "jitops codeowners --write" in check.fix


def test_wrong_target_settings_are_reported_once_under_the_target(repo: Path) -> None:
    write_target(repo, {**NOWHERE, "port": 70000})
    report = doctor(repo, **{PASSWORD_VARIABLE: SECRET})
    assert report.exit_code is ExitCode.DENIED
    mentions = [c for c in report.checks if "settings.port" in c.message]
    assert len(mentions) == 1
    assert mentions[0].area is Area.TARGETS and mentions[0].status is CheckStatus.ERROR
    assert mentions[0].name.startswith("policies/targets.yaml:")


def test_unknown_provisioner_kind(repo: Path) -> None:
    targets = repo / "policies" / "targets.yaml"
    targets.write_text(targets.read_text().replace("provisioner: postgres", "provisioner: vault"))
    report = doctor(repo, **{PASSWORD_VARIABLE: SECRET})
    [error] = [c for c in report.checks if c.area is Area.TARGETS and c.status is CheckStatus.ERROR]
    assert error.message == "unknown provisioner 'vault'"
    assert error.fix is not None and "postgres" in error.fix


def test_missing_secret_warns_offline_and_fails_online_without_contacting(repo: Path) -> None:
    offline = doctor(repo)
    assert by_status(offline, CheckStatus.WARNING, Area.TARGETS) == [
        "sandbox-db/secrets: environment variable JITOPS_SANDBOX_DB_PASSWORD (secret 'password') "
        "is not set here"
    ]
    assert offline.exit_code is ExitCode.OK
    online = doctor(repo, offline=False, **{PASSWORD_VARIABLE: ""})  # empty counts as unset
    assert online.exit_code is ExitCode.DENIED
    # the target is not checked without its password: only the secret line, no "reachable"
    assert [c.name for c in online.checks if c.area is Area.TARGETS] == [
        "sandbox-db/settings",
        "sandbox-db/secrets",
    ]


@pytest.mark.parametrize(
    "raised",
    [
        RuntimeError(f"driver blew up, password={SECRET} was refused"),
        # a provisioner that forgot to redact its own message
        ProvisionerError(f"cannot connect with {SECRET}"),
    ],
    ids=["bug", "unredacted-error"],
)
def test_a_check_that_raises_is_an_error_and_never_shows_the_secret(
    repo: Path, monkeypatch: pytest.MonkeyPatch, raised: Exception
) -> None:
    def explode(self: PostgresProvisioner) -> list[Any]:
        raise raised

    monkeypatch.setattr(PostgresProvisioner, "check", explode)
    report = doctor(repo, offline=False, **{PASSWORD_VARIABLE: SECRET})
    assert report.exit_code is ExitCode.DENIED
    [error] = [c for c in report.checks if c.name == "sandbox-db/check"]
    assert error.status is CheckStatus.ERROR
    assert error.message.startswith("checking the target failed: ")
    assert "***" in error.message
    rendered = "\n".join(doctor_text(report)) + json.dumps(doctor_dict(report))
    assert SECRET not in rendered


def test_an_unreachable_target_is_an_error_with_a_fix(repo: Path) -> None:
    report = doctor(repo, offline=False, **{PASSWORD_VARIABLE: SECRET})
    [reachable] = [c for c in report.checks if c.name == "sandbox-db/reachable"]
    assert reachable.status is CheckStatus.ERROR
    assert "cannot connect" in reachable.message and reachable.fix
    assert SECRET not in "\n".join(doctor_text(report))


def test_offline_never_runs_the_check(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(self: PostgresProvisioner) -> list[Any]:
        raise AssertionError("offline doctor contacted the target")

    monkeypatch.setattr(PostgresProvisioner, "check", fail)
    report = doctor(repo, offline=True, **{PASSWORD_VARIABLE: SECRET})
    assert report.exit_code is ExitCode.OK
    assert report.offline


def test_no_target_at_all_is_a_warning(tmp_path: Path) -> None:
    from jitops.commands.doctor import target_checks

    [check] = target_checks([], {}, {}, offline=True)
    assert check.status is CheckStatus.WARNING and "no Target" in check.message


# -- GitHub settings -------------------------------------------------------------------------

PROTECTION = "GET /repos/{owner}/{repo}/branches/{branch}/protection"
RULES = "GET /repos/{owner}/{repo}/rules/branches/{branch}"


def github_environ(setup: RepoSetup, token: str, **more: str) -> dict[str, str]:
    return {
        "GITHUB_TOKEN": token,
        "GITHUB_REPOSITORY": setup.full_name,
        "GITHUB_API_URL": setup.server.base_url,
        **more,
    }


def protect(setup: RepoSetup, *checks: str) -> None:
    setup.server.hub.protect_branch(
        setup.repo, "main", BranchProtection(required_status_checks=checks)
    )


def settings_of(root: Path, environ: dict[str, str]) -> dict[str, DoctorCheck]:
    checks = github_checks(root, environ)
    assert {c.area for c in checks} == {Area.GITHUB}
    return {c.name: c for c in checks}


def main_protection(root: Path, setup: RepoSetup, token: str = "") -> DoctorCheck:
    return settings_of(root, github_environ(setup, token or setup.admin.token))["main protection"]


@contextmanager
def failing(setup: RepoSetup, endpoint: str) -> Iterator[None]:
    """GitHub answering 502 on ``endpoint`` for as long as the block runs."""
    setup.server.faults.inject("server_error", endpoint, times=None, status=502)
    try:
        yield
    finally:
        setup.server.faults.clear()


FULL_REVIEWS = BranchProtection(
    required_approving_review_count=2,
    require_code_owner_reviews=True,
    dismiss_stale_reviews=True,
    require_last_push_approval=True,
)


def test_github_settings_as_jitops_needs_them_are_ok(repo: Path, github_repo: RepoSetup) -> None:
    github_repo.server.hub.protect_branch(
        github_repo.repo,
        "main",
        replace(FULL_REVIEWS, required_status_checks=("ci", "jitops/approval")),
    )
    github_repo.server.hub.set_allow_auto_merge(github_repo.repo)
    add_environment(github_repo.server.hub, github_repo.repo, "jitops-read-org", branches=("main",))
    found = settings_of(repo, github_environ(github_repo, github_repo.admin.token))
    assert {name: (c.status, c.message) for name, c in found.items()} == {
        "auto-merge": (CheckStatus.OK, '"Allow auto-merge" is on'),
        "main protection": (CheckStatus.OK, "requires the jitops/approval status check"),
        "main reviews": (
            CheckStatus.OK,
            "GitHub requires 2 approving review(s), code-owner review, dismisses stale "
            "approvals and requires approval of the most recent push",
        ),
        "org-reading token": (CheckStatus.OK, "the Environment jitops-read-org is limited to main"),
    }


def test_reviews_github_does_not_enforce_are_a_warning_naming_each(
    repo: Path, github_repo: RepoSetup
) -> None:
    github_repo.server.hub.protect_branch(
        github_repo.repo,
        "main",
        BranchProtection(required_status_checks=("jitops/approval",), dismiss_stale_reviews=True),
    )
    check = settings_of(repo, github_environ(github_repo, github_repo.admin.token))["main reviews"]
    assert check.status is CheckStatus.WARNING
    assert "0 approving review(s) required where the PolicyChangeRule asks for 2" in check.message
    assert "no review from code owners" in check.message
    assert "no approval of the most recent push" in check.message
    assert "dismissing stale" not in check.message
    assert check.fix is not None and "require 2 approval(s)" in check.fix


def test_a_ruleset_pull_request_rule_counts_with_branch_protection(
    repo: Path, github_repo: RepoSetup
) -> None:
    hub = github_repo.server.hub
    protect(github_repo, "jitops/approval")
    hub.add_ruleset(
        github_repo.repo, "reviews", reviews=replace(FULL_REVIEWS, dismiss_stale_reviews=False)
    )
    hub.add_ruleset(github_repo.repo, "stale", reviews=BranchProtection(dismiss_stale_reviews=True))
    # a token that cannot read branch protection still reads the rulesets
    check = settings_of(repo, github_environ(github_repo, github_repo.author.token))["main reviews"]
    assert check.status is CheckStatus.OK, check.message


def test_auto_merge_off_is_a_warning_naming_the_setting(repo: Path, github_repo: RepoSetup) -> None:
    protect(github_repo, "jitops/approval")
    check = settings_of(repo, github_environ(github_repo, github_repo.admin.token))["auto-merge"]
    assert check.status is CheckStatus.WARNING
    assert "revocation pull requests wait for someone to merge them" in check.message
    assert check.fix is not None and '"Allow auto-merge"' in check.fix
    assert "Settings → General → Pull Requests" in check.fix


def test_protection_without_the_approval_check_is_an_error_with_the_setting(
    repo: Path, github_repo: RepoSetup
) -> None:
    protect(github_repo, "ci")
    github_repo.server.hub.set_allow_auto_merge(github_repo.repo)
    environ = github_environ(github_repo, github_repo.admin.token, **{PASSWORD_VARIABLE: SECRET})
    check = settings_of(repo, environ)["main protection"]
    assert check.status is CheckStatus.ERROR
    assert check.message == (
        "the branch protection of main does not require the jitops/approval status check, nor "
        "does any ruleset, so a pull request can merge without jitops' approval"
    )
    assert check.fix == (
        'Settings → Branches → edit the rule for main → "Require status checks to pass before '
        'merging" → add `jitops/approval`, or require it in a ruleset for the branch (Settings → '
        'Rules → Rulesets → "Require status checks to pass") (README, "Branch protection"); '
        "doctor reads both"
    )
    # the whole run fails on it
    report = run_doctor(DoctorOptions(root=repo, now=NOW, environ=environ, offline=False))
    assert report.exit_code is ExitCode.DENIED
    assert "main protection: the branch protection of main does not require" in "\n".join(
        by_status(report, CheckStatus.ERROR, Area.GITHUB)
    )


def ruleset(
    setup: RepoSetup, *checks: str, branches: tuple[str, ...] = ("~DEFAULT_BRANCH",)
) -> None:
    setup.server.hub.add_ruleset(
        setup.repo, "jitops", branches=branches, required_status_checks=checks
    )


def test_a_ruleset_requiring_the_approval_check_is_enough(
    repo: Path, github_repo: RepoSetup
) -> None:
    ruleset(github_repo, "ci", "jitops/approval")
    github_repo.server.hub.set_allow_auto_merge(github_repo.repo)
    add_environment(github_repo.server.hub, github_repo.repo, "jitops-read-org", branches=("main",))
    environ = github_environ(github_repo, github_repo.admin.token, **{PASSWORD_VARIABLE: SECRET})
    check = settings_of(repo, environ)["main protection"]
    assert (check.status, check.message, check.fix) == (
        CheckStatus.OK,
        "a ruleset requires the jitops/approval status check",
        None,
    )
    report = run_doctor(DoctorOptions(root=repo, now=NOW, environ=environ, offline=False))
    assert not [c for c in report.checks if c.area is Area.GITHUB and c.status is CheckStatus.ERROR]


def test_a_ruleset_counts_next_to_protection_that_does_not_require_the_check(
    repo: Path, github_repo: RepoSetup
) -> None:
    protect(github_repo, "ci")
    ruleset(github_repo, "jitops/approval")
    check = main_protection(repo, github_repo)
    assert (check.status, check.message) == (
        CheckStatus.OK,
        "a ruleset requires the jitops/approval status check",
    )


def test_a_ruleset_for_another_branch_or_check_does_not_count(
    repo: Path, github_repo: RepoSetup
) -> None:
    ruleset(github_repo, "jitops/approval", branches=("release",))
    ruleset(github_repo, "ci")  # on main, but not the check jitops posts
    check = main_protection(repo, github_repo)
    assert check.status is CheckStatus.ERROR
    assert check.message.startswith(
        "main has no branch protection and no ruleset requires the jitops/approval status check"
    )


def test_every_page_of_rules_is_read(repo: Path, github_repo: RepoSetup) -> None:
    for n in range(100):  # a full first page of rules, none requiring the approval check
        ruleset(github_repo, f"ci-{n}")
    ruleset(github_repo, "jitops/approval")  # the 101st rule: page two
    before = github_repo.server.calls[RULES]
    check = main_protection(repo, github_repo)
    assert check.status is CheckStatus.OK
    assert github_repo.server.calls[RULES] - before == 2


def test_a_ruleset_is_seen_by_a_token_that_cannot_read_protection(
    repo: Path, github_repo: RepoSetup
) -> None:
    ruleset(github_repo, "jitops/approval")
    # a collaborator with write access: rulesets need only read access, protection admin
    check = main_protection(repo, github_repo, github_repo.author.token)
    assert (check.status, check.message) == (
        CheckStatus.OK,
        "a ruleset requires the jitops/approval status check (the branch protection of main "
        "could not be read: HTTP 404)",
    )


def test_rulesets_that_cannot_be_read_make_no_requirement_a_warning_not_an_error(
    repo: Path, github_repo: RepoSetup
) -> None:
    protect(github_repo, "ci")
    with failing(github_repo, RULES):
        check = main_protection(repo, github_repo)
        protect(github_repo, "jitops/approval")
        settled = main_protection(repo, github_repo)
    assert check.status is CheckStatus.WARNING
    assert check.message.startswith(
        "not checked: the branch protection of main does not require the jitops/approval status "
        "check, and GitHub reading the rulesets of main failed"
    )
    assert check.message.endswith(
        "unless a ruleset requires jitops/approval, a pull request can merge without jitops' "
        "approval"
    )
    # branch protection requiring it settles it without the rulesets
    assert (settled.status, settled.message) == (
        CheckStatus.OK,
        "requires the jitops/approval status check",
    )


def test_an_unprotected_default_branch_is_an_error(repo: Path, github_repo: RepoSetup) -> None:
    check = main_protection(repo, github_repo)
    assert check.status is CheckStatus.ERROR
    assert check.message == (
        "main has no branch protection and no ruleset requires the jitops/approval status check, "
        "so a pull request can merge without jitops' approval"
    )
    assert check.fix is not None
    assert check.fix.startswith('Settings → Branches → "Add branch protection rule" for main')


def test_a_token_that_cannot_read_protection_gets_a_warning_with_the_permission(
    repo: Path, github_repo: RepoSetup
) -> None:
    protect(github_repo, "jitops/approval")
    # a collaborator with write access: it sees the merge settings, not the protection
    found = settings_of(repo, github_environ(github_repo, github_repo.author.token))
    check = found["main protection"]
    assert check.status is CheckStatus.WARNING
    assert check.message == (
        "not checked: no ruleset requires the jitops/approval status check, and the token "
        "cannot read the branch protection of main (HTTP 404)"
    )
    assert check.fix is not None and '"Administration: read"' in check.fix
    assert found["auto-merge"].status is CheckStatus.WARNING  # off, and visible to a writer
    assert "is off" in found["auto-merge"].message


def test_a_read_only_token_cannot_see_auto_merge_and_says_so(
    repo: Path, github_repo: RepoSetup, github_names: str
) -> None:
    hub = github_repo.server.hub
    reader = hub.add_user(f"reader-{github_names}")
    hub.add_collaborator(github_repo.repo, reader.login, "read")
    hub.set_allow_auto_merge(github_repo.repo)
    found = settings_of(repo, github_environ(github_repo, reader.token))
    assert found["auto-merge"].status is CheckStatus.WARNING
    assert found["auto-merge"].message.startswith('not checked: GitHub shows "Allow auto-merge"')
    assert found["auto-merge"].fix is not None
    assert '"Contents: read and write"' in found["auto-merge"].fix
    assert found["main protection"].status is CheckStatus.WARNING


def test_the_repository_comes_from_origin_when_not_given(
    repo: Path, github_repo: RepoSetup
) -> None:
    protect(github_repo, "jitops/approval")
    run_git(repo, "remote", "add", "origin", github_repo.server.clone_url(github_repo.full_name))
    environ = github_environ(github_repo, github_repo.admin.token)
    del environ["GITHUB_REPOSITORY"]
    assert settings_of(repo, environ)["main protection"].status is CheckStatus.OK


def test_without_a_token_github_is_not_asked(repo: Path, github_repo: RepoSetup) -> None:
    before = github_repo.server.calls.total()
    [check] = github_checks(repo, {"GITHUB_REPOSITORY": github_repo.full_name})
    assert (check.status, check.message) == (
        CheckStatus.WARNING,
        "not checked: no GITHUB_TOKEN (the repository's settings on GitHub need both)",
    )
    assert check.fix is not None and "--offline" in check.fix
    [nothing] = github_checks(repo, {"GITHUB_TOKEN": "t"})  # no origin: no repository
    assert nothing.message.startswith("not checked: no GITHUB_REPOSITORY")
    assert github_repo.server.calls.total() == before


def test_offline_never_asks_github(repo: Path, github_repo: RepoSetup) -> None:
    before = github_repo.server.calls.total()
    environ = github_environ(github_repo, github_repo.admin.token)
    report = run_doctor(DoctorOptions(root=repo, now=NOW, environ=environ, offline=True))
    assert not [c for c in report.checks if c.area is Area.GITHUB]
    assert github_repo.server.calls.total() == before


def test_an_unreadable_repository_is_a_warning_without_the_token(
    repo: Path, github_repo: RepoSetup
) -> None:
    token = github_repo.admin.token
    environ = github_environ(github_repo, token) | {"GITHUB_REPOSITORY": "nobody/nothing"}
    [check] = github_checks(repo, environ)
    assert check.status is CheckStatus.WARNING and check.name == "nobody/nothing"
    assert check.message.startswith("not checked: GitHub reading the repository failed (HTTP 404")
    assert check.fix is not None and "GITHUB_REPOSITORY" in check.fix
    assert token not in check.message + check.fix


def test_github_failing_is_a_warning_never_a_crash(repo: Path, github_repo: RepoSetup) -> None:
    protect(github_repo, "jitops/approval")
    with failing(github_repo, PROTECTION):
        check = main_protection(repo, github_repo)
    assert check.status is CheckStatus.WARNING
    assert check.message.startswith(
        "not checked: no ruleset requires the jitops/approval status check, and GitHub reading "
        "the protection of main failed"
    )


# -- request-id index -----------------------------------------------------------------------


def index_line(report: DoctorReport) -> DoctorCheck:
    [check] = [c for c in report.checks if c.area is Area.INDEX]
    return check


def head(root: Path, ref: str = "HEAD") -> str:
    return run_git(root, "rev-parse", ref).strip()


def test_an_index_covering_the_branch_is_ok(repo: Path) -> None:
    write_request(repo, "a-1")
    commit_all(repo, "grant a-1")
    ids.update(repo)
    check = index_line(doctor(repo))
    assert (check.status, check.fix) == (CheckStatus.OK, None)
    assert check.message == f"covers HEAD (1 id(s) up to {head(repo)[:12]})"


def test_a_missing_index_is_a_warning_that_says_how_to_create_it(repo: Path) -> None:
    check = index_line(doctor(repo))
    assert check.status is CheckStatus.WARNING
    assert "walks the whole history" in check.message
    assert check.fix is not None
    assert "`jitops index --push`" in check.fix and "`jitops apply --push-notes`" in check.fix
    assert f"git fetch origin {ids.INDEX_REF}:{ids.INDEX_REF}" in check.fix


def test_a_stale_index_says_by_how_many_commits(repo: Path) -> None:
    covered = head(repo)
    ids.update(repo)
    for n in range(3):
        write_request(repo, f"s-{n}")
        commit_all(repo, f"grant s-{n}")
    report = doctor(repo)
    check = index_line(report)
    assert check.status is CheckStatus.WARNING and report.exit_code is ExitCode.OK
    assert check.message.startswith(f"stale by 3 commit(s) on HEAD (0 id(s) up to {covered[:12]})")
    assert check.fix is not None and "jitops index --push" in check.fix


def test_a_malformed_index_is_an_error_with_the_rebuild(repo: Path) -> None:
    git.write_file_commit(repo, ids.INDEX_REF, ids.INDEX_FILE, b"not an index\n", "forged\n")
    report = doctor(repo)
    check = index_line(report)
    assert check.status is CheckStatus.ERROR and report.exit_code is ExitCode.DENIED
    assert check.message.startswith(f"the request-id index ({ids.INDEX_REF}) is malformed")
    assert check.fix is not None and "jitops index --rebuild --push" in check.fix


def test_an_index_outside_the_branch_history_is_an_error(repo: Path) -> None:
    run_git(repo, "checkout", "-q", "-b", "rewritten")
    write_request(repo, "r-1")
    commit_all(repo, "a commit main never gets")
    ids.update(repo)
    elsewhere = head(repo)
    run_git(repo, "checkout", "-q", "main")
    commit_all(repo, "main moves on")
    report = doctor(repo)
    check = index_line(report)
    assert check.status is CheckStatus.ERROR and report.exit_code is ExitCode.DENIED
    assert f"covers {elsewhere[:12]}, which is not in the history of HEAD" in check.message
    assert check.fix == "rebuild it with `jitops index --rebuild --push`"


def test_an_index_ahead_of_this_checkout_is_a_warning(repo: Path) -> None:
    behind = head(repo)
    write_request(repo, "a-1")
    commit_all(repo, "grant a-1")
    ids.update(repo)
    run_git(repo, "checkout", "-q", "--detach", behind)
    check = index_line(doctor(repo))
    assert check.status is CheckStatus.WARNING
    assert check.message.startswith("it covers 1 commit(s) past HEAD here")
    assert check.fix is not None and "pull and run `jitops doctor` again" in check.fix


def test_an_index_of_a_commit_this_clone_lacks_asks_for_a_fetch(repo: Path) -> None:
    unknown = "0123456789abcdef0123456789abcdef01234567"
    index = ids.IdIndex(unknown, ("a-1",))
    git.write_file_commit(repo, ids.INDEX_REF, ids.INDEX_FILE, ids.encode(index), "index\n")
    check = index_line(doctor(repo))
    assert check.status is CheckStatus.WARNING
    assert check.message == f"it covers {unknown[:12]}, a commit this clone does not have"
    assert check.fix is not None and check.fix.startswith("fetch the branch")


def test_the_index_is_checked_against_the_branch_asked_for(repo: Path) -> None:
    ids.update(repo)
    run_git(repo, "checkout", "-q", "-b", "work")
    commit_all(repo, "work in progress")
    on_work = run_doctor(DoctorOptions(root=repo, now=NOW, offline=True))
    on_main = run_doctor(DoctorOptions(root=repo, now=NOW, offline=True, branch="main"))
    assert index_line(on_work).message.startswith("stale by 1 commit(s) on HEAD")
    assert index_line(on_main).status is CheckStatus.OK


def test_doctor_never_walks_the_whole_history_nor_writes_the_index(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids.update(repo)
    commit_all(repo, "one more")

    def walk(*args: object, **kwargs: object) -> set[str]:
        raise AssertionError("doctor walked the history")

    monkeypatch.setattr(git, "added_paths", walk)
    before = head(repo, ids.INDEX_REF)
    assert index_line(doctor(repo)).status is CheckStatus.WARNING
    assert head(repo, ids.INDEX_REF) == before


def test_outside_git_or_without_a_commit_the_index_is_not_checked(tmp_path: Path) -> None:
    plain = index_check(tmp_path)
    assert plain.status is CheckStatus.WARNING and "is not a git repository" in plain.message
    run_git(tmp_path, "init", "-q", "-b", "main")
    empty = index_check(tmp_path)
    assert empty.status is CheckStatus.WARNING and "'HEAD' names no commit here" in empty.message


# -- workflows -------------------------------------------------------------------------------

GOOD_JOB = """\
  approval:
    runs-on: ubuntu-latest
    permissions:
      contents: read
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683  # v4.2.2
        with:
          persist-credentials: false
"""


def write_workflow(root: Path, text: str, name: str = "jitops-check.yml") -> None:
    folder = root / ".github" / "workflows"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")


def check_workflow_problems(root: Path) -> list[DoctorCheck]:
    return [
        c
        for c in workflow_checks(root)
        if c.name == ".github/workflows/jitops-check.yml" and c.status is CheckStatus.ERROR
    ]


def test_the_shipped_workflows_pass(tmp_path: Path) -> None:
    shutil.copytree(PROJECT / ".github" / "workflows", tmp_path / ".github" / "workflows")
    assert [c.status for c in workflow_checks(tmp_path)[:3]] == [CheckStatus.OK] * 3


def test_every_missing_jitops_workflow_is_an_error(tmp_path: Path) -> None:
    statuses = {c.name.rpartition("/")[2]: c.status for c in workflow_checks(tmp_path)}
    assert statuses == {expected.name: expected.missing for expected in EXPECTED_WORKFLOWS}
    assert statuses["jitops-check.yml"] is CheckStatus.ERROR
    assert statuses["jitops-sweep.yml"] is CheckStatus.ERROR


def test_a_yaml_extension_counts(tmp_path: Path) -> None:
    write_workflow(tmp_path, "permissions: {}\njobs:\n" + GOOD_JOB, "jitops-check.yaml")
    [check] = [c for c in workflow_checks(tmp_path) if "jitops-check" in c.name]
    assert (check.name, check.status) == (".github/workflows/jitops-check.yaml", CheckStatus.OK)


def test_anchors_are_allowed_in_workflows(tmp_path: Path) -> None:
    write_workflow(
        tmp_path,
        "permissions: {}\n"
        "x-perms: &perms {contents: read}\n"
        "jobs:\n"
        "  one: {runs-on: ubuntu-latest, permissions: *perms, steps: []}\n"
        "  two: {runs-on: ubuntu-latest, permissions: *perms, steps: []}\n",
    )
    assert check_workflow_problems(tmp_path) == []


@pytest.mark.parametrize(
    ("text", "message", "fix"),
    [
        (
            "jobs:\n" + GOOD_JOB,
            "has no `permissions: {}` at the top",
            "add `permissions: {}` at the top level",
        ),
        (
            "permissions: write-all\njobs:\n" + GOOD_JOB,
            "has no `permissions: {}` at the top",
            "add `permissions: {}`",
        ),
        (
            "permissions: {}\njobs:\n"
            + GOOD_JOB.replace("    permissions:\n      contents: read\n", ""),
            "job 'approval' states no permissions",
            "`permissions:` mapping",
        ),
        (
            "permissions: {}\njobs:\n"
            + GOOD_JOB.replace("contents: read", "contents: write").replace(
                "    permissions:\n      contents: write\n", "    permissions: write-all\n"
            ),
            "job 'approval' has 'write-all'",
            "only what it needs",
        ),
        (
            "permissions: {}\njobs:\n"
            + GOOD_JOB.replace("11bd71901bbe5b1630ceea73d27597364c9af683  # v4.2.2", "v4"),
            "`actions/checkout@v4` is not pinned by a full commit SHA",
            "actions/checkout@<40-hex commit SHA>",
        ),
        (
            "permissions: {}\njobs:\n" + GOOD_JOB.replace("false", "true"),
            "actions/checkout keeps the token",
            "persist-credentials: false",
        ),
        (
            "permissions: {}\njobs:\n"
            + GOOD_JOB.replace("        with:\n", "        with:\n          ref: main\n").replace(
                "          persist-credentials: false\n", ""
            ),
            "actions/checkout keeps the token",
            "persist-credentials: false",
        ),
        (
            "permissions: {}\njobs:\n"
            + GOOD_JOB
            + "      - uses: actions/cache@5a3ec84eff668545956fd18022155c47e93e2684\n",
            "uses a cache (actions/cache)",
            "remove the step",
        ),
        (
            "permissions: {}\njobs:\n"
            + GOOD_JOB
            + "      - uses: actions/setup-python@a26af69be951a213d495a4c3e4e4022e16d87065\n"
            "        with: {python-version: '3.11', cache: pip}\n",
            "actions/setup-python restores a cache",
            "cache: false",
        ),
        (
            "permissions: {}\njobs:\n"
            + GOOD_JOB
            + "      - uses: actions/setup-go@d35c59abb061a4a6fb18e82ac0862c26744d6ab5\n",
            "actions/setup-go restores a cache",
            "cache: false",
        ),
        (
            "permissions: {}\njobs:\n"
            "  reuse:\n"
            "    permissions: {}\n"
            "    uses: acme/workflows/.github/workflows/x.yml@main\n",
            "`acme/workflows/.github/workflows/x.yml@main` is not pinned",
            "pin it",
        ),
        ("permissions: {}\njobs: [1\n", "is not valid YAML: line 3", "fix the YAML"),
        ("permissions: {}\npermissions: {}\njobs: {}\n", "is not valid YAML: line", "fix"),
        ("- just a list\n", "is not a workflow", "replace it"),
        ("permissions: {}\n", "has no jobs", "replace it"),
        (b"permissions: {}\n\xff\n", "cannot be read", "UTF-8"),
    ],
    ids=[
        "no-top-permissions",
        "top-write-all",
        "job-without-permissions",
        "job-write-all",
        "unpinned",
        "persisted-credentials",
        "default-persisted-credentials",
        "cache-action",
        "setup-cache",
        "setup-go-default-cache",
        "unpinned-reusable-workflow",
        "bad-yaml",
        "duplicate-key",
        "not-a-mapping",
        "no-jobs",
        "not-utf8",
    ],
)
def test_workflow_problems(tmp_path: Path, text: str | bytes, message: str, fix: str) -> None:
    if isinstance(text, bytes):
        folder = tmp_path / ".github" / "workflows"
        folder.mkdir(parents=True)
        (folder / "jitops-check.yml").write_bytes(text)
    else:
        write_workflow(tmp_path, text)
    problems = check_workflow_problems(tmp_path)
    assert any(message in c.message and fix in (c.fix or "") for c in problems), problems


def test_local_actions_and_digest_pinned_images_count_as_pinned(tmp_path: Path) -> None:
    write_workflow(
        tmp_path,
        "permissions: {}\njobs:\n" + GOOD_JOB + "      - uses: ./.github/actions/local\n"
        "      - uses: docker://alpine@sha256:" + "a" * 64 + "\n",
    )
    assert check_workflow_problems(tmp_path) == []
    write_workflow(
        tmp_path, "permissions: {}\njobs:\n" + GOOD_JOB + "      - uses: docker://alpine:3\n"
    )
    [problem] = check_workflow_problems(tmp_path)
    assert "docker://alpine:3" in problem.message


def test_a_step_that_reaches_the_targets_needs_every_target_secret(tmp_path: Path) -> None:
    step = "      - name: Grant\n        run: jitops apply --push-notes\n"
    # the variable set on the step, on the job or on the workflow: all the same to the step
    for text in (
        "permissions: {}\njobs:\n" + GOOD_JOB + step + "        env: {JITOPS_A: x, JITOPS_B: y}\n",
        "permissions: {}\nenv: {JITOPS_A: x}\njobs:\n"
        + GOOD_JOB.replace("    steps:", "    env: {JITOPS_B: y}\n    steps:")
        + step,
    ):
        write_workflow(tmp_path, text, "jitops-apply.yml")
        checks = workflow_checks(tmp_path, ["JITOPS_A", "JITOPS_B"])
        [apply] = [c for c in checks if c.name.endswith("jitops-apply.yml")]
        assert apply.status is CheckStatus.OK, apply

    write_workflow(
        tmp_path,
        "permissions: {}\njobs:\n" + GOOD_JOB + step + "        env: {JITOPS_A: x}\n"
        "      - run: echo jitops sweeps\n"  # not a jitops command: needs nothing
        "      - run: |\n          set -e\n          jitops reconcile --dry-run\n",
        "jitops-apply.yml",
    )
    checks = workflow_checks(tmp_path, ["JITOPS_A", "JITOPS_B"])
    problems = [c for c in checks if c.name.endswith("jitops-apply.yml")]
    assert [(c.status, c.message) for c in problems] == [
        (
            CheckStatus.ERROR,
            "job 'approval', step 'Grant': `jitops apply` runs without JITOPS_B in its "
            "environment, so it cannot reach the targets whose secrets live there",
        ),
        (
            CheckStatus.ERROR,
            "job 'approval', step 'jitops reconcile': `jitops reconcile` runs without "
            "JITOPS_A, JITOPS_B in its environment, so it cannot reach the targets whose "
            "secrets live there",
        ),
    ]
    assert "`JITOPS_B: ${{ secrets.JITOPS_B }}`" in (problems[0].fix or "")
    assert "jitops init --force" in (problems[0].fix or "")


def test_a_step_running_jitops_through_its_action_needs_the_secrets_too(tmp_path: Path) -> None:
    action = "acme/jitops@" + "a" * 40
    write_workflow(
        tmp_path,
        "permissions: {}\njobs:\n" + GOOD_JOB + "      - name: Revoke\n"
        f"        uses: {action}\n        with: {{command: sweep --open-pr}}\n"
        "        env: {JITOPS_A: x}\n"
        f"      - uses: {action}\n        with: {{command: check-pr}}\n"  # needs none
        "      - uses: ./\n        with: {command: reconcile}\n        env: {JITOPS_A: x}\n",
        "jitops-sweep.yml",
    )
    problems = [
        c.message
        for c in workflow_checks(tmp_path, ["JITOPS_A", "JITOPS_B"])
        if c.name.endswith("jitops-sweep.yml")
    ]
    assert problems == [
        "job 'approval', step 'Revoke': `jitops sweep` runs without JITOPS_B in its "
        "environment, so it cannot reach the targets whose secrets live there",
        "job 'approval', step 'jitops reconcile': `jitops reconcile` runs without JITOPS_B in "
        "its environment, so it cannot reach the targets whose secrets live there",
    ]


@pytest.mark.attack(7, "leave the action login's secret with sweep or reconcile")
def test_an_action_login_s_secret_belongs_to_apply_steps_alone(tmp_path: Path) -> None:
    """apply needs the action login's secret (it performs approved actions); sweep holding
    it, on its step or inherited from the job, is more than it needs — doctor says so."""
    write_workflow(
        tmp_path,
        "permissions: {}\njobs:\n"
        + GOOD_JOB.replace("    steps:", "    env: {JITOPS_ACT: z}\n    steps:")
        + "      - name: Revoke\n        run: jitops sweep --open-pr\n"
        "        env: {JITOPS_A: x}\n"
        "      - name: Catch up\n        run: jitops apply --catch-up\n"
        "        env: {JITOPS_A: x}\n",
        "jitops-sweep.yml",
    )
    problems = [
        c
        for c in workflow_checks(tmp_path, ["JITOPS_A"], ["JITOPS_ACT"])
        if c.name.endswith("jitops-sweep.yml")
    ]
    assert [c.message for c in problems] == [
        "job 'approval', step 'Revoke': `jitops sweep` has JITOPS_ACT in its environment, the "
        "secret of the login approved actions run as, which it never uses"
    ]
    assert "only the apply steps perform actions" in (problems[0].fix or "")
    # apply without the action login's secret cannot perform the actions it is there for
    write_workflow(
        tmp_path,
        "permissions: {}\njobs:\n" + GOOD_JOB
        + "      - name: Apply\n        run: jitops apply\n        env: {JITOPS_A: x}\n",
        "jitops-apply.yml",
    )  # fmt: skip
    [apply] = [
        c.message
        for c in workflow_checks(tmp_path, ["JITOPS_A"], ["JITOPS_ACT"])
        if c.name.endswith("jitops-apply.yml")
    ]
    assert "`jitops apply` runs without JITOPS_ACT in its environment" in apply


def test_doctor_checks_the_workflows_against_the_targets_secrets(tmp_path: Path) -> None:
    root = doctor_repo(tmp_path / "access")
    assert not by_status(doctor(root), CheckStatus.ERROR, Area.WORKFLOWS)
    targets = root / "policies" / "targets.yaml"
    targets.write_text(targets.read_text().replace(PASSWORD_VARIABLE, "JITOPS_OTHER_PASSWORD"))
    errors = by_status(doctor(root), CheckStatus.ERROR, Area.WORKFLOWS)
    # apply; and sweep, scheduled apply and reconcile in the sweep workflow
    assert len(errors) == 4
    assert all("without JITOPS_OTHER_PASSWORD" in e for e in errors)


# -- sweep -----------------------------------------------------------------------------------

INTERVAL = timedelta(minutes=15)


def test_sweep_unknown_is_a_warning() -> None:
    check = sweep_check(None, INTERVAL, NOW)
    assert (check.status, check.message) == (CheckStatus.WARNING, "last successful sweep unknown")
    assert check.fix is not None and "jitops-sweep.yml" in check.fix


def test_sweep_within_two_intervals_is_ok_and_older_is_a_warning() -> None:
    assert sweep_check(NOW - 2 * INTERVAL, INTERVAL, NOW).status is CheckStatus.OK
    stale = sweep_check(NOW - 2 * INTERVAL - timedelta(minutes=1), INTERVAL, NOW)
    assert stale.status is CheckStatus.WARNING
    assert stale.message == (
        "last successful sweep was 31m ago (2026-11-23 11:29 UTC), more than two intervals of 15m"
    )


def test_doctor_uses_the_sweep_time_it_is_given(repo: Path) -> None:
    options = DoctorOptions(
        root=repo, now=NOW, environ={}, offline=True, last_sweep=NOW - timedelta(minutes=5)
    )
    [check] = [c for c in run_doctor(options).checks if c.area is Area.SWEEP]
    assert check.status is CheckStatus.OK and "5m ago" in check.message


def _org_token(root: Path, setup: RepoSetup) -> list[DoctorCheck]:
    checks = github_checks(root, github_environ(setup, setup.admin.token))
    return [c for c in checks if c.name == "org-reading token"]


@pytest.mark.attack(7, "keep the org-reading token where a branch workflow reads it")
def test_the_org_reading_token_must_live_in_an_environment_limited_to_main(
    repo: Path, github_repo: RepoSetup
) -> None:
    """Attack (the org-reading token): a repository secret, or an Environment any branch may
    use, hands the long-lived token to a workflow any writer pushes to their own branch."""
    hub, setup = github_repo.server.hub, github_repo
    [missing] = _org_token(repo, setup)  # the policies name teams: the token is needed
    assert (
        missing.status is CheckStatus.ERROR and "no Environment jitops-read-org" in missing.message
    )
    assert missing.fix is not None and "Selected branches: main" in missing.fix
    add_environment(hub, setup.repo, "jitops-read-org")
    [anywhere] = _org_token(repo, setup)
    assert anywhere.status is CheckStatus.ERROR and "jobs of any branch" in anywhere.message
    add_environment(hub, setup.repo, "jitops-read-org", branches=("main", "release/*"))
    [wider] = _org_token(repo, setup)
    assert wider.status is CheckStatus.ERROR and "main, release/*" in wider.message
    for limit in ({"branches": ("main",)}, {"protected_branches": True}):
        add_environment(hub, setup.repo, "JITOPS-READ-ORG", **limit)  # type: ignore[arg-type]
        [ok] = _org_token(repo, setup)
        assert ok.status is CheckStatus.OK, ok.message
    add_repo_secret(hub, setup.repo, "JITOPS_READ_ORG_TOKEN")
    [_, exposed] = _org_token(repo, setup)
    assert exposed.status is CheckStatus.ERROR and "is a repository secret" in exposed.message
    assert exposed.fix is not None and "delete it" in exposed.fix
