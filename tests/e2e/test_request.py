"""``jitops request`` end to end, writing the work tree of a real git repository.

tests/e2e/test_request_pr.py covers ``--open-pr`` on the GitHub test server.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from jitops.repo import load_request
from jitops.request_files import SCHEMA_MODELINE
from tests.e2e.conftest import CLI
from tests.gitrepo import git, make_access_repo

NOW = "2026-11-23T12:00:00Z"
WHY = "Investigate INC-1234: slow queries on the orders table"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_access_repo(tmp_path / "access")


def ask(cli: CLI, repo: Path, *args: str, requester: str | None = "alice"):  # type: ignore[no-untyped-def]
    who = ["--requester", requester] if requester else []
    return cli("request", *args, *who, "--repo", str(repo), "--now", NOW)


def request_files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in (root / "requests").rglob("*.y*ml"))


def test_a_request_is_written_and_says_what_it_needs(repo: Path, cli: CLI) -> None:
    result = ask(
        cli, repo, "sandbox-db", "readwrite", "--for", "4h", "--why", WHY, "--ticket", "INC-1234"
    )
    assert result.code == 0, result.output
    [path] = request_files(repo)
    assert result.out == f"{path}\n"  # the path alone on stdout, for scripts
    assert path.startswith("requests/sandbox-db/readwrite/2026-11-23-alice-sandbox-db-readwrite-")
    assert (
        "allowed by policy sandbox-db; needs 1 approval from @acme/db-leads before it can merge"
        in result.err
    )
    loaded = load_request(repo, path)
    assert not isinstance(loaded, list), loaded
    assert loaded.request.justification == WHY
    # what the gate would say of it, offline: allowed pending approval, nothing malformed
    checked = cli("validate", "--repo", str(repo), "--now", NOW)
    assert checked.code == 0, checked.output
    assert "0 errors, 0 denied" in checked.err


def test_an_auto_approved_role_needs_no_review(repo: Path, cli: CLI) -> None:
    result = ask(cli, repo, "sandbox-db", "readonly", "--for", "4h", "--why", WHY)
    assert result.code == 0, result.output
    assert "allowed by policy sandbox-db; auto-approved, no review" in result.err


def test_the_requester_comes_from_github_actor(
    repo: Path, cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_ACTOR", raising=False)
    missing = ask(cli, repo, "sandbox-db", "readonly", "--for", "1h", "--why", WHY, requester=None)
    assert missing.code == 2
    assert "pass --requester LOGIN" in missing.err and "GITHUB_ACTOR" in missing.err
    monkeypatch.setenv("GITHUB_ACTOR", "Carol")
    result = ask(cli, repo, "sandbox-db", "readonly", "--for", "1h", "--why", WHY, requester=None)
    assert result.code == 0, result.output
    assert "-carol-sandbox-db-readonly-" in result.out
    assert "requester: Carol\n" in (repo / result.out.strip()).read_text()


def test_an_absolute_window_with_an_offset(repo: Path, cli: CLI) -> None:
    result = ask(
        cli, repo, "sandbox-db", "admin", "--from", "2026-11-28T23:00:00+01:00",
        "--until", "2026-11-29T00:00:00+01:00", "--why", WHY, "--ticket", "INC-9",
        "--id", "maintenance-2026-11-28",
    )  # fmt: skip
    assert result.code == 0, result.output
    assert result.out == "requests/sandbox-db/admin/maintenance-2026-11-28.yaml\n"
    text = (repo / result.out.strip()).read_text()
    assert "starts_at: 2026-11-28T22:00:00Z\nexpires_at: 2026-11-28T23:00:00Z\n" in text
    assert "needs 1 approval from @acme/db-leads; needs 1 approval from @acme/security" in (
        result.err
    )


@pytest.mark.parametrize("option", ["--until", "--from"])
def test_a_time_without_a_zone_is_refused(repo: Path, cli: CLI, option: str) -> None:
    times = {"--until": "2026-11-23T18:00:00Z", option: "2026-11-23T16:00"}
    args = [item for pair in times.items() for item in pair]
    result = ask(cli, repo, "sandbox-db", "readonly", *args, "--why", WHY)
    assert result.code == 2
    assert "has no timezone, and jitops never assumes local time" in result.err
    assert request_files(repo) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--why", WHY], "give the window"),
        (["--for", "1h", "--until", "2026-11-23T18:00:00Z", "--why", WHY], "not both"),
        (["--for", "1h"], "Missing option '--why'"),
        (["--for", "1h", "--why", "todo"], "--why: the justification is too thin"),
        (["--for", "soon", "--why", WHY], "--for: 'soon' is not a duration"),
        (["--for", "1h", "--why", WHY, "--id", "Bad Id"], "--id is 'Bad Id'"),
        (["--for", "1h", "--why", WHY, "--github-repo", "o/r"], "--github-repo goes with"),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(
    repo: Path, cli: CLI, args: list[str], message: str
) -> None:
    result = ask(cli, repo, "sandbox-db", "readonly", *args)
    assert result.code == 2, result.output
    assert message in result.err
    assert request_files(repo) == []


@pytest.mark.parametrize(
    ("target", "role", "args", "message"),
    [
        ("orders", "readonly", ["--for", "1h"], "unknown target 'orders' (known: sandbox-db"),
        ("sandbox-db", "owner", ["--for", "1h"], "(roles with a policy: admin, readonly"),
        ("sandbox-db", "readonly", ["--for", "9h"], "over the readonly maximum of 8h"),
        ("sandbox-db", "readwrite", ["--for", "1h"], "a ticket is required for readwrite"),
    ],
)
def test_what_policy_refuses_exits_1_and_writes_nothing(
    repo: Path, cli: CLI, target: str, role: str, args: list[str], message: str
) -> None:
    result = ask(cli, repo, target, role, *args, "--why", WHY)
    assert result.code == 1, result.output
    assert "refused by policy — nothing written" in result.err
    assert message in result.err
    assert result.out == ""
    assert request_files(repo) == []


def test_a_dry_run_prints_the_file_and_writes_nothing(repo: Path, cli: CLI) -> None:
    dry = ask(cli, repo, "sandbox-db", "readonly", "--for", "2h", "--why", WHY, "--dry-run")
    assert dry.code == 0, dry.output
    assert dry.out.startswith(
        f"{SCHEMA_MODELINE}apiVersion: jitops/v1\nkind: AccessRequest\nid: 2026-11-23-alice-"
    )
    assert "would write requests/sandbox-db/readonly/" in dry.err
    assert request_files(repo) == []
    real = ask(cli, repo, "sandbox-db", "readonly", "--for", "2h", "--why", WHY)
    assert (repo / real.out.strip()).read_text() == dry.out


def test_an_id_used_before_is_refused(repo: Path, cli: CLI) -> None:
    first = ask(cli, repo, "sandbox-db", "readonly", "--for", "2h", "--why", WHY, "--id", "inc-1")
    assert first.code == 0, first.output
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "grant")
    git(repo, "rm", "-q", first.out.strip())
    git(repo, "commit", "-q", "-m", "revoke")
    again = ask(cli, repo, "sandbox-db", "readonly", "--for", "2h", "--why", WHY, "--id", "inc-1")
    assert again.code == 1
    assert "request id 'inc-1' was already used in this repository's history" in again.err
    assert request_files(repo) == []


def test_running_it_twice_writes_one_file(repo: Path, cli: CLI) -> None:
    args = ("sandbox-db", "readonly", "--for", "2h", "--why", WHY)
    first = ask(cli, repo, *args)
    second = ask(cli, repo, *args)
    assert second.code == 0
    assert second.out == first.out
    assert "is already there, as it would be written" in second.err
    assert len(request_files(repo)) == 1


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("no-remote", "there is no git remote 'origin'"),
        ("subfolder", "--open-pr works at the top of a git clone"),
        ("not-a-repository", "--open-pr works at the top of a git clone"),
    ],
)
def test_open_pr_needs_a_clone_with_a_remote(
    repo: Path, cli: CLI, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, setup: str, message: str
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "a-token")
    where = {"no-remote": repo, "subfolder": repo / "policies", "not-a-repository": tmp_path}
    result = cli(
        "request", "sandbox-db", "readonly", "--for", "1h", "--why", WHY, "--requester", "alice",
        "--open-pr", "--repo", str(where[setup]),
    )  # fmt: skip
    assert result.code == 2, result.output
    assert message in result.err
    assert "a-token" not in result.output


HOSTILE_WHY = 'Fix "orders": drop index # INC-1234\n- [x] {a: b} &x *x !!python/object'


def test_a_hostile_justification_from_a_real_shell(
    repo: Path, cli_process: CLI, tmp_path: Path
) -> None:
    result = cli_process(
        "request", "sandbox-db", "readonly", "--for", "1h", "--why", HOSTILE_WHY,
        "--requester", "alice", "--repo", str(repo),
    )  # fmt: skip
    assert result.code == 0, result.output
    loaded = load_request(repo, result.out.strip())
    assert not isinstance(loaded, list), loaded
    assert loaded.request.justification == " ".join(HOSTILE_WHY.split())
    assert loaded.request.role == "readonly" and loaded.request.duration is not None


def test_a_requester_written_as_the_policies_write_people_is_that_login(
    repo: Path, cli: CLI
) -> None:
    result = ask(cli, repo, "sandbox-db", "readonly", "--for", "1h", "--why", WHY, requester="@bob")
    assert result.code == 0, result.output
    assert "requester: bob\n" in (repo / result.out.strip()).read_text()
    twice = ask(cli, repo, "sandbox-db", "readonly", "--for", "1h", "--why", WHY, requester="@@b")
    assert twice.code == 2 and "must be a GitHub login" in twice.err


@pytest.mark.parametrize("window", ["0m", "0h0m"])
def test_a_window_of_no_time_is_called_that(repo: Path, cli: CLI, window: str) -> None:
    result = ask(cli, repo, "sandbox-db", "readonly", "--for", window, "--why", WHY)
    assert result.code == 2
    assert f"'{window}' is no time at all — give the window a length" in result.err
    assert request_files(repo) == []
