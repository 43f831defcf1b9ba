"""``jitops doctor`` end to end, with a real PostgreSQL target (the session's embedded server).

Each test makes its own provisioner role and grantable roles on the shared server, with the
least privilege the postgres provisioner needs (CREATEROLE, ADMIN OPTION on the grantable
roles, pg_signal_backend), then takes one away or adds too much.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.commands.test_doctor import PASSWORD_VARIABLE, doctor_repo, write_target
from tests.e2e.conftest import CLI
from tests.fixtures.postgres import PostgresServer, new_password
from tests.gitrepo import PROJECT, commit_all
from tests.gitrepo import git as run_git

_counter = itertools.count()
ROLES = ("readonly", "readwrite", "admin")


@dataclass(frozen=True)
class Provisioner:
    server: PostgresServer
    user: str
    password: str
    pg_roles: dict[str, str]  # jitops role → PostgreSQL role


@pytest.fixture
def provisioner(postgres_server: PostgresServer) -> Iterator[Provisioner]:
    n = next(_counter)
    made = Provisioner(
        postgres_server,
        f"doctor_prov_{n}",
        new_password(),
        {role: f"doctor_{role}_{n}" for role in ROLES},
    )
    postgres_server.admin(f"CREATE ROLE {made.user} LOGIN CREATEROLE PASSWORD '{made.password}'")
    postgres_server.admin(f"GRANT pg_signal_backend TO {made.user}")
    for pg_role in made.pg_roles.values():
        postgres_server.admin(f"CREATE ROLE {pg_role} NOLOGIN")
        postgres_server.admin(f"GRANT {pg_role} TO {made.user} WITH ADMIN OPTION")
    yield made


@pytest.fixture
def repo(tmp_path: Path, provisioner: Provisioner, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = doctor_repo(tmp_path / "access")
    write_target(
        root,
        {
            "host": provisioner.server.host,
            "port": provisioner.server.port,
            "user": provisioner.user,
            "roles": provisioner.pg_roles,
        },
    )
    monkeypatch.setenv(PASSWORD_VARIABLE, provisioner.password)
    return root


def lines(output: str, prefix: str) -> list[str]:
    return [line.strip() for line in output.splitlines() if line.strip().startswith(prefix)]


def test_least_privilege_role_passes(repo: Path, provisioner: Provisioner, cli: CLI) -> None:
    result = cli("doctor", "--repo", str(repo))
    assert result.code == 0, result.output
    assert lines(result.out, "✓ sandbox-db/") == [
        "✓ sandbox-db/settings: postgres settings are valid",
        f"✓ sandbox-db/secrets: environment variable {PASSWORD_VARIABLE} (secret 'password') "
        "is set",
        f"✓ sandbox-db/reachable: connected as {provisioner.user}",
        f"✓ sandbox-db/least-privilege: {provisioner.user} has exactly what jitops needs: "
        f"CREATEROLE, pg_signal_backend, ADMIN OPTION on "
        f"{', '.join(sorted(provisioner.pg_roles.values()))}",
    ]
    assert "✗" not in result.out
    assert "0 errors" in result.err
    assert provisioner.password not in result.output


def test_a_missing_privilege_fails_with_the_statement_that_fixes_it(
    repo: Path, provisioner: Provisioner, cli: CLI
) -> None:
    user = provisioner.user
    provisioner.server.admin(f"REVOKE pg_signal_backend FROM {user}")
    admin_role = provisioner.pg_roles["admin"]
    provisioner.server.admin(f"REVOKE ADMIN OPTION FOR {admin_role} FROM {user}")
    result = cli("doctor", "--repo", str(repo))
    assert result.code == 1, result.output
    assert lines(result.out, "✗") == [
        f"✗ sandbox-db/least-privilege: {user} is not a member of pg_signal_backend, needed to "
        f"end the sessions of revoked logins — GRANT pg_signal_backend TO {user}",
        f"✗ sandbox-db/roles: {user} has no ADMIN OPTION on {admin_role}, so it cannot grant it "
        f"— GRANT {admin_role} TO {user} WITH ADMIN OPTION",
    ]
    assert "2 errors" in result.err


def test_a_superuser_is_a_warning_not_a_failure(
    repo: Path, provisioner: Provisioner, cli: CLI
) -> None:
    provisioner.server.admin(f"ALTER ROLE {provisioner.user} SUPERUSER")
    try:
        result = cli("doctor", "--repo", str(repo))
    finally:
        provisioner.server.admin(f"ALTER ROLE {provisioner.user} NOSUPERUSER")
    assert result.code == 0, result.output
    [warning] = lines(result.out, "! sandbox-db/")
    assert warning.startswith(f"! sandbox-db/least-privilege: {provisioner.user} is a superuser")
    assert f"ALTER ROLE {provisioner.user} NOSUPERUSER" in warning


def test_the_secret_value_never_appears_even_when_the_check_fails(
    repo: Path, provisioner: Provisioner, cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = "doctor-Wrong-Password-" + new_password()
    monkeypatch.setenv(PASSWORD_VARIABLE, wrong)
    for output_format in ("text", "json"):
        result = cli("doctor", "--repo", str(repo), "--format", output_format)
        assert result.code == 1, result.output
        assert "sandbox-db/reachable" in result.out
        assert "password authentication failed" in result.out
        assert wrong not in result.output
        assert provisioner.password not in result.output


def test_json_lists_every_check(repo: Path, cli: CLI) -> None:
    result = cli("doctor", "--repo", str(repo), "--format", "json")
    assert result.code == 0, result.output
    payload = json.loads(result.out)
    assert payload["exit_code"] == 0 and payload["offline"] is False
    assert {c["area"] for c in payload["checks"]} == {
        "policies",
        "codeowners",
        "targets",
        "workflows",
        "github",  # online: here "not checked", since no GITHUB_TOKEN is set
        "index",
        "sweep",
    }
    [sweep] = [c for c in payload["checks"] if c["area"] == "sweep"]
    assert sweep == {
        "area": "sweep",
        "name": "last sweep",
        "status": "warning",
        "message": "last successful sweep unknown",
        "fix": sweep["fix"],
    }


def test_offline_does_not_contact_the_target(
    repo: Path, provisioner: Provisioner, cli: CLI
) -> None:
    # the provisioner cannot log in at all: only a check that connects would notice
    provisioner.server.admin(f"ALTER ROLE {provisioner.user} NOLOGIN")
    offline = cli("doctor", "--repo", str(repo), "--offline")
    assert offline.code == 0, offline.output
    assert "sandbox-db/reachable" not in offline.out
    assert "offline: targets not contacted" in offline.err
    assert "connecting to" not in offline.err and "asking GitHub" not in offline.err
    online = cli("doctor", "--repo", str(repo))
    assert online.code == 1
    assert lines(online.out, "✗ sandbox-db/reachable")
    # the parts that wait on a target or on GitHub say so before they start
    assert "jitops: connecting to 1 target(s) to check their privileges…" in online.err
    assert "jitops: asking GitHub for the repository's settings" in online.err


def test_runs_in_the_current_directory_and_reports_broken_workflows(repo: Path, cli: CLI) -> None:
    check = repo / ".github" / "workflows" / "jitops-check.yml"
    check.write_text(check.read_text().replace("permissions: {}\n", "", 1))
    result = cli("doctor", "--offline", cwd=repo)
    assert result.code == 1
    assert lines(result.out, "✗ .github/workflows/jitops-check.yml: has no `permissions: {}`")


@pytest.mark.parametrize(
    "args", [("--format", "xml"), ("--repo", "/nonexistent/jitops-doctor"), ("--bogus",)]
)
def test_usage_errors_exit_2(cli: CLI, args: tuple[str, ...]) -> None:
    result = cli("doctor", *args)
    assert result.code == 2, result.output


def test_the_index_is_checked_on_the_branch_given(tmp_path: Path, cli: CLI) -> None:
    root = doctor_repo(tmp_path / "access")
    assert cli("index", "--repo", str(root)).code == 0
    run_git(root, "checkout", "-q", "-b", "work")
    commit_all(root, "work in progress")
    here = cli("doctor", "--repo", str(root), "--offline")
    assert lines(here.out, "! request-id index: stale by 1 commit(s) on HEAD")
    main = cli("doctor", "--repo", str(root), "--offline", "--branch", "main")
    assert lines(main.out, "✓ request-id index: covers main (0 id(s) up to ")


def test_the_readme_s_doctor_example_is_what_it_prints(
    repo: Path, provisioner: Provisioner, cli: CLI
) -> None:
    """README's example: a provisioner role without pg_signal_backend, and no sweep
    workflow (README calls the role jitops_provisioner)."""
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### `jitops doctor") :]
    example = section.split("```\n", 2)[1].splitlines()
    provisioner.server.admin(f"REVOKE pg_signal_backend FROM {provisioner.user}")
    (repo / ".github" / "workflows" / "jitops-sweep.yml").unlink()
    result = cli("doctor", "--repo", str(repo))
    assert result.code == 1, result.output
    printed = result.out.replace(provisioner.user, "jitops_provisioner").splitlines()
    assert example and all(line in printed for line in example), result.out


def test_sql_actions_need_an_action_login_holding_no_more_than_they_use(
    repo: Path, provisioner: Provisioner, cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = repo / "policies" / "sandbox-db.yaml"
    policy.write_text(
        policy.read_text()
        + "actions:\n  fix-order-state:\n    sql: {allow: [update]}\n"
        + "    approvals: [{count: 1, from: ['@acme/db-leads']}]\n"
    )
    assert cli("codeowners", "--repo", str(repo), "--write").code == 0
    result = cli("doctor", "--repo", str(repo))
    assert result.code == 1, result.output
    assert (
        "✗ sandbox-db/action-privileges: the policies offer SQL actions on this target, but "
        "it names no `action_user`"
    ) in " ".join(result.out.split())

    action_user, password = f"{provisioner.user}_actions", new_password()
    provisioner.server.admin(f"CREATE ROLE {action_user} LOGIN PASSWORD '{password}'")
    provisioner.server.admin(f"GRANT pg_signal_backend TO {action_user}")
    targets = repo / "policies" / "targets.yaml"
    targets.write_text(
        targets.read_text().replace('"user": ', f'"action_user": "{action_user}", "user": ')
    )
    result = cli("doctor", "--repo", str(repo))
    assert result.code == 1, result.output
    assert (
        f"✗ sandbox-db/action-privileges: {action_user} is a member of pg_signal_backend, more "
        f"than the actions need — REVOKE pg_signal_backend FROM {action_user}"
    ) in result.out
    provisioner.server.admin(f"REVOKE pg_signal_backend FROM {action_user}")
    assert cli("doctor", "--repo", str(repo)).code == 0
