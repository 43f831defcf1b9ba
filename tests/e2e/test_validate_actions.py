"""``jitops validate`` on action requests (``actions/<target>/<action>/<id>.yaml``) and the
policies offering actions: each problem at its file and line, in a real repository."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import CLI
from tests.gitrepo import drop_example_actions, make_access_repo

NOW = "2026-11-23T12:00:00Z"
ACTIONS = """\
actions:
  fix-order-state:
    sql:
      allow: [update]
      statement_timeout: 5s
      max_rows_affected: 1
    approvals: [{count: 1, from: ["@acme/db-leads"]}]
    ticket: {required: true, pattern: "INC-[0-9]+"}
"""


@pytest.fixture
def repo(tmp_path: Path, cli: CLI) -> Path:
    root = make_access_repo(tmp_path / "access")
    drop_example_actions(root)  # these tests judge the action below: update only
    policy = root / "policies" / "sandbox-db.yaml"
    policy.write_text(policy.read_text() + ACTIONS)
    assert cli("codeowners", "--repo", str(root), "--write").code == 0
    return root


def write_action(root: Path, request_id: str, sql: str, **fields: str) -> Path:
    body = {
        "requester": "alice",
        "target": "sandbox-db",
        "action": "fix-order-state",
        "justification": "Order 1002 is stuck in payment after INC-4211",
        "ticket": "INC-4211",
        **fields,
    }
    path = root / "actions" / body["target"] / body["action"] / f"{request_id}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["apiVersion: jitops/v1", "kind: ActionRequest", f"id: {request_id}"]
    lines += [f"{key}: {value}" for key, value in body.items()]
    lines += ["sql: |", *(f"  {line}" for line in sql.splitlines())]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_an_allowed_action_request_passes_and_codeowners_routes_it(repo: Path, cli: CLI) -> None:
    write_action(repo, "fix-1002", "UPDATE orders SET state = 'paid' WHERE id = 1002;")
    result = cli("validate", "--repo", str(repo), "--now", NOW)
    assert result.code == 0, result.output
    assert "1 action request(s)" in result.err
    owners = (repo / ".github" / "CODEOWNERS").read_text()
    assert "/actions/sandbox-db/fix-order-state/ @acme/db-leads\n" in owners


@pytest.mark.attack(3, "smuggle a second statement into an approved-looking SQL action")
def test_a_statement_the_action_does_not_allow_is_denied_at_its_line(repo: Path, cli: CLI) -> None:
    path = write_action(
        repo,
        "fix-1003",
        "UPDATE orders SET state = 'paid' WHERE id = 1003;\n"
        "WITH gone AS (DELETE FROM orders RETURNING id) SELECT count(*) FROM gone;",
    )
    result = cli("validate", "--repo", str(repo), "--now", NOW)
    assert result.code == 1, result.output
    line = (
        path.read_text()
        .splitlines()
        .index("  WITH gone AS (DELETE FROM orders RETURNING id) SELECT count(*) FROM gone;")
        + 1
    )
    assert (
        f"actions/sandbox-db/fix-order-state/fix-1003.yaml:{line}:1: denied: SELECT and DELETE "
        "are not allowed by this action — it allows update" in result.out
    ), result.out


def test_a_misplaced_or_twice_used_action_request_is_an_error(repo: Path, cli: CLI) -> None:
    moved = write_action(repo, "fix-1", "UPDATE t SET a = 1")
    moved.rename(moved.parent.parent / "readonly-fix.yaml")
    write_action(repo, "fix-2", "UPDATE t SET a = 1")
    twin = write_action(repo, "fix-2", "UPDATE t SET a = 2", action="fix-order-state")
    (twin.parent / "copy").mkdir()
    twin.rename(twin.parent / "copy" / "fix-2.yaml")
    result = cli("validate", "--repo", str(repo), "--now", NOW)
    assert result.code == 2, result.output
    assert "an action request lives at actions/<target>/<action>/<id>.yaml" in result.out


def test_the_ticket_the_action_requires_is_denied_at_its_line(repo: Path, cli: CLI) -> None:
    write_action(repo, "fix-9", "UPDATE t SET a = 1", ticket="TODO")
    result = cli("validate", "--repo", str(repo), "--now", NOW)
    assert result.code == 1
    assert "fix-9.yaml:8:9: denied: ticket 'TODO' does not match INC-[0-9]+" in result.out


def test_an_action_on_a_target_that_cannot_perform_it_is_refused(repo: Path, cli: CLI) -> None:
    policy = repo / "policies" / "sandbox-deployers.yaml"
    policy.write_text(
        policy.read_text()
        + "actions:\n  purge:\n    sql: {allow: [delete]}\n"
        + "    approvals: [{count: 1, from: ['@acme/platform-leads']}]\n"
    )
    result = cli("validate", "--repo", str(repo), "--now", NOW)
    assert result.code == 2, result.output
    assert (
        "action 'purge' is a sql action, but target sandbox-deployers (github-team) performs "
        "no actions" in result.out
    )


def test_a_read_only_action_that_allows_writing_is_refused_in_the_policy(
    repo: Path, cli: CLI
) -> None:
    policy = repo / "policies" / "sandbox-db.yaml"
    policy.write_text(
        policy.read_text().replace(
            "      allow: [update]\n", "      allow: [update]\n      read_only: true\n"
        )
    )
    result = cli("validate", "--repo", str(repo), "--now", NOW)
    assert result.code == 2
    assert "a read-only action cannot allow update" in result.out


# -- jitops request, for an action ------------------------------------------------------------


def test_request_writes_an_action_request_validate_accepts(
    repo: Path, cli: CLI, tmp_path: Path
) -> None:
    sql = tmp_path / "fix.sql"
    sql.write_text("UPDATE orders SET state = 'paid'\n  WHERE id = 1002;\n")
    result = cli(
        "request", "sandbox-db", "fix-order-state", "--sql-file", str(sql), "--ticket",
        "INC-4211", "--why", "Order 1002 is stuck in payment", "--requester", "alice",
        "--repo", str(repo), "--now", NOW,
    )  # fmt: skip
    assert result.code == 0, result.output
    [path] = result.out.split()
    assert path.startswith("actions/sandbox-db/fix-order-state/2026-11-23-alice-")
    text = (repo / path).read_text()
    assert text.startswith("# yaml-language-server: $schema=../../../.jitops/schema/action-")
    assert "sql: |\n  UPDATE orders SET state = 'paid'\n    WHERE id = 1002;\n" in text
    assert "statements: UPDATE" in result.err and "runs as" in result.err
    assert cli("validate", "--repo", str(repo), "--now", NOW).code == 0
    again = cli(
        "request", "sandbox-db", "fix-order-state", "--sql-file", str(sql), "--ticket",
        "INC-4211", "--why", "Order 1002 is stuck in payment", "--requester", "alice",
        "--repo", str(repo), "--now", NOW,
    )  # fmt: skip
    assert again.code == 0 and "is already there" in again.err  # a rerun writes nothing new


@pytest.mark.attack(3, "write an action request the policy refuses")
def test_request_refuses_sql_the_action_does_not_allow_and_writes_nothing(
    repo: Path, cli: CLI, tmp_path: Path
) -> None:
    sql = tmp_path / "drop.sql"
    sql.write_text("UPDATE orders SET state = 'paid' WHERE id = 1;\nDROP TABLE orders;\n")
    result = cli(
        "request", "sandbox-db", "fix-order-state", "--sql-file", str(sql), "--ticket",
        "INC-1", "--why", "Order 1 is stuck in payment", "--requester", "alice",
        "--repo", str(repo),
    )  # fmt: skip
    assert result.code == 1, result.output
    assert "refused by policy — nothing written" in result.err
    assert "DROP is not a statement an action runs" in result.err
    assert not (repo / "actions").exists()


@pytest.mark.parametrize(
    "args, words",
    [
        (("--param", "oops"), "is not NAME=VALUE"),
        (("--sql-file", "SQL", "--for", "1h"), "has no window"),
        (("--sql-file", "EMPTY"), "is empty — write the statements the action should run"),
        (("--sql-file", "SQL", "--open-pr"), "--open-pr needs a GitHub token"),
    ],
)
def test_request_for_an_action_refuses_what_does_not_fit_with_exit_2(
    repo: Path, cli: CLI, tmp_path: Path, args: tuple[str, ...], words: str
) -> None:
    sql = tmp_path / "fix.sql"
    sql.write_text("UPDATE orders SET state = 'paid' WHERE id = 1;\n")
    empty = tmp_path / "empty.sql"
    empty.write_text("\n  \n")
    args = tuple({"SQL": str(sql), "EMPTY": str(empty)}.get(a, a) for a in args)
    result = cli(
        "request", "sandbox-db", "fix-order-state", *args, "--why", "Order 1 is stuck now",
        "--requester", "alice", "--repo", str(repo),
    )  # fmt: skip
    assert result.code == 2, result.output
    assert words in result.err


def test_a_dry_run_prints_the_action_request_file_exactly(
    repo: Path, cli: CLI, tmp_path: Path
) -> None:
    """stdout is the file (a script may save it): a statement line starting `::` (a cast,
    which a workflow's log would read as a command) is printed as written, not escaped."""
    sql = tmp_path / "fix.sql"
    sql.write_text("UPDATE orders SET state = 'paid'\n  WHERE id = '1002'\n  ::int;\n")
    result = cli(
        "request", "sandbox-db", "fix-order-state", "--sql-file", str(sql), "--ticket",
        "INC-4211", "--why", "Order 1002 is stuck in payment", "--requester", "alice",
        "--repo", str(repo), "--dry-run",
    )  # fmt: skip
    assert result.code == 0, result.output
    assert "\n    ::int;\n" in result.out and "\\x3a" not in result.out
