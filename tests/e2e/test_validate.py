"""``jitops validate`` end to end, on real git repos (``test``, ``schema`` and ``codeowners``
have their own files beside this one)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import CLI
from tests.gitrepo import PROJECT, commit_all, git, make_access_repo, write_request

NOW = "2026-11-23T12:00:00Z"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_access_repo(tmp_path / "access")


def test_this_repository_is_a_valid_access_repository(cli: CLI) -> None:
    result = cli("validate", "--repo", str(PROJECT))
    assert result.code == 0, result.output
    assert "0 errors, 0 denied" in result.err


def test_validate_runs_in_the_current_directory(repo: Path, cli: CLI) -> None:
    write_request(repo, "cwd-1")
    result = cli("validate", "--now", NOW, cwd=repo)
    assert result.code == 0, result.output
    assert "checked 1 request(s)" in result.err


@pytest.mark.parametrize("command", ["validate", "status", "codeowners", "test"])
def test_from_a_subfolder_every_command_reads_the_repository_it_is_in(
    repo: Path, cli: CLI, command: str
) -> None:
    """Run in requests/sandbox-db/ (where a person writes a request), a command reads the
    access repository around it, as it does at its root; --repo given is taken as given."""
    write_request(repo, "cwd-1")
    commit_all(repo, "grant", date="2026-11-23T09:00:00Z")
    extra = ["--now", NOW] if command == "validate" else []
    at_root = cli(command, *extra, cwd=repo)
    inside = cli(command, *extra, cwd=repo / "requests" / "sandbox-db")
    assert (inside.code, inside.out, inside.err) == (at_root.code, at_root.out, at_root.err)
    assert at_root.code == 0, at_root.output
    if command == "validate":  # given, --repo is taken as given
        elsewhere = cli(command, "--repo", str(repo / "requests"), *extra, cwd=repo)
        assert elsewhere.code == 2 and "no policies/ folder here" in elsewhere.out


def test_landed_expired_request_is_a_warning_but_an_edit_is_a_new_request(
    repo: Path, cli: CLI
) -> None:
    path = write_request(repo, "landed-1", duration="", expires_at="2026-11-22T00:00:00Z")
    commit_all(repo, "grant", date="2026-11-21T12:00:00Z")
    result = cli("validate", "--repo", str(repo), "--now", NOW)
    assert result.code == 0, result.output
    assert (
        "landed-1.yaml:8:13: warning: expired at 2026-11-22 00:00 UTC, awaiting sweep" in result.out
    )
    # changing a landed request makes it new: it is judged again, and its window has closed
    path.write_text(path.read_text().replace("orders table", "orders and users tables"))
    result = cli("validate", "--repo", str(repo), "--now", NOW)
    assert result.code == 1
    assert "expired before approval" in result.out


def test_duration_window_opens_when_the_request_lands_on_main(repo: Path, cli: CLI) -> None:
    write_request(repo, "dur-1", duration="2h")
    commit_all(repo, "grant", date="2026-11-23T09:00:00Z")
    still_open = cli("validate", "--repo", str(repo), "--now", "2026-11-23T10:59:00Z")
    assert still_open.code == 0 and "warning" not in still_open.out
    closed = cli("validate", "--repo", str(repo), "--now", "2026-11-23T11:01:00Z")
    assert closed.code == 0
    assert "dur-1.yaml:8:11: warning: expired at 2026-11-23 11:00 UTC, awaiting sweep" in closed.out


def test_landing_time_is_the_merge_commit_on_the_first_parent_history(repo: Path, cli: CLI) -> None:
    git(repo, "checkout", "-q", "-b", "request")
    write_request(repo, "merged-1", duration="2h")
    commit_all(repo, "request", date="2026-11-20T09:00:00Z")  # authored three days earlier
    git(repo, "checkout", "-q", "main")
    import os

    env = {
        **os.environ,
        "GIT_COMMITTER_DATE": "2026-11-23T09:00:00Z",
        "GIT_AUTHOR_DATE": "2026-11-23T09:00:00Z",
    }
    git(repo, "merge", "-q", "--no-ff", "-m", "merge", "request", env=env)
    result = cli("validate", "--repo", str(repo), "--now", "2026-11-23T10:00:00Z")
    assert result.code == 0 and "warning" not in result.out, result.output


def test_base_ref_decides_what_is_new(repo: Path, cli: CLI) -> None:
    git(repo, "checkout", "-q", "-b", "pr")
    write_request(repo, "pr-1", duration="12h")  # over the 8h maximum
    commit_all(repo, "request")
    against_head = cli("validate", "--repo", str(repo), "--now", NOW)
    assert against_head.code == 0  # landed on this branch: window rules do not apply
    against_main = cli("validate", "--repo", str(repo), "--now", NOW, "--base", "main")
    assert against_main.code == 1
    assert "over the readonly maximum of 8h" in against_main.out


def test_json_output(repo: Path, cli: CLI) -> None:
    write_request(repo, "json-1", duration="12h")
    result = cli("validate", "--repo", str(repo), "--now", NOW, "--format", "json")
    payload = json.loads(result.out)
    assert result.code == payload["exit_code"] == 1
    [finding] = payload["findings"]
    assert finding["path"] == "requests/sandbox-db/readonly/json-1.yaml"
    assert finding["line"] == 8 and finding["severity"] == "denied"
    assert payload["requests"] == [
        {
            "path": "requests/sandbox-db/readonly/json-1.yaml",
            "id": "json-1",
            "verdict": "denied",
            "reason": payload["denied"][0]["reason"],
        }
    ]
    assert payload["denied"][0]["checks"][-2]["rule"] == "window"
    assert "over the readonly maximum" in payload["denied"][0]["reason"]


def test_github_annotations_under_actions(
    repo: Path, cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_request(repo, "gha-1", duration="12h")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    result = cli("validate", "--repo", str(repo), "--now", NOW)
    assert (
        "::error file=requests/sandbox-db/readonly/gha-1.yaml,line=8,col=11,title=jitops denied::"
        "duration 12h is over the readonly maximum of 8h" in result.out
    )


def test_missing_codeowners_fails(repo: Path, cli: CLI) -> None:
    (repo / ".github" / "CODEOWNERS").unlink()
    result = cli("validate", "--repo", str(repo))
    assert result.code == 1 and "no CODEOWNERS file" in result.out


def test_requester_not_allowed(repo: Path, cli: CLI) -> None:
    policy = repo / "policies" / "sandbox-db.yaml"
    policy.write_text(
        policy.read_text().replace('requesters: ["@acme/engineering"]', "requesters: [alice, bob]")
    )
    write_request(repo, "mallory-1", requester="mallory")
    write_request(repo, "bob-1", requester="BOB")
    result = cli("validate", "--repo", str(repo), "--now", NOW)
    assert result.code == 1
    assert "mallory-1.yaml:4:12: denied: @mallory may not request sandbox-db/readonly" in result.out
    assert "bob-1" not in result.out


def test_request_file_outside_requests_is_refused(repo: Path, cli: CLI, tmp_path: Path) -> None:
    stray = write_request(repo, "stray-1")
    (repo / "elsewhere").mkdir()
    moved = stray.rename(repo / "elsewhere" / "stray-1.yaml")
    result = cli("validate", "--repo", str(repo), str(moved))
    assert result.code == 2
    assert "elsewhere/stray-1.yaml: error: request files live under requests/" in result.out


def test_explicit_paths_limit_the_check(repo: Path, cli: CLI) -> None:
    good = write_request(repo, "good-1")
    write_request(repo, "bad-1", duration="12h")
    result = cli("validate", "--now", NOW, str(good.relative_to(repo)), cwd=repo)
    assert result.code == 0 and "checked 1 request(s)" in result.err


def test_oversized_and_binary_files(repo: Path, cli: CLI) -> None:
    folder = repo / "requests" / "sandbox-db" / "readonly"
    folder.mkdir(parents=True)
    (folder / "huge.yaml").write_bytes(b"# " + b"x" * 70_000 + b"\n")
    (folder / "blob.yaml").write_bytes(bytes(range(256)))
    result = cli("validate", "--repo", str(repo))
    assert result.code == 2
    assert "huge.yaml: error: file is 70,003 bytes, over the 64 KiB limit" in result.out
    assert "blob.yaml:1:1: error: file is binary" in result.out  # its first byte is NUL


def test_duplicate_ids_across_folders(repo: Path, cli: CLI) -> None:
    write_request(repo, "same-id")
    write_request(repo, "same-id", target="sandbox-deployers", role="member")
    result = cli("validate", "--repo", str(repo), "--now", NOW)
    assert result.code == 2
    assert "id 'same-id' is already used by" in result.out


def test_broken_policies_fail_closed_and_leave_requests_unchecked(repo: Path, cli: CLI) -> None:
    write_request(repo, "r-1")
    policy = repo / "policies" / "sandbox-db.yaml"
    policy.write_text(policy.read_text().replace("max_duration: 8h", "max_duration: forever"))
    result = cli("validate", "--repo", str(repo))
    assert result.code == 2
    assert "policies/sandbox-db.yaml:10:19: error: `roles.readonly.max_duration`" in result.out
    assert "were not checked against policy" in result.out
    assert "warning" not in result.out  # no echo of the same error as coverage warnings


def test_not_an_access_repository(tmp_path: Path, cli: CLI) -> None:
    result = cli("validate", "--repo", str(tmp_path))
    assert result.code == 2
    assert "no policies/ folder here" in result.out


def test_validate_works_outside_git(tmp_path: Path, cli: CLI) -> None:
    import shutil

    shutil.copytree(PROJECT / "policies", tmp_path / "policies")
    shutil.copytree(
        PROJECT / ".github", tmp_path / ".github", ignore=shutil.ignore_patterns("workflows")
    )
    write_request(tmp_path, "plain-1", duration="12h")
    result = cli("validate", "--repo", str(tmp_path), "--now", NOW)
    assert result.code == 1 and "over the readonly maximum" in result.out


def test_hostile_file_as_a_real_process_gives_no_traceback(repo: Path, cli_process: CLI) -> None:
    folder = repo / "requests" / "sandbox-db" / "readonly"
    folder.mkdir(parents=True)
    (folder / "evil.yaml").write_text("a: !!python/object/apply:os.system ['touch pwned']\n")
    result = cli_process("validate", "--repo", str(repo))
    assert result.code == 2
    assert "evil.yaml:1:4: error: could not determine a constructor" in result.out
    assert "Traceback" not in result.output
    assert not (repo / "pwned").exists()


def test_help_teaches(cli_process: CLI) -> None:
    result = cli_process("--help")
    assert result.code == 0
    for command in ("validate", "test", "schema", "codeowners"):
        assert command in result.out
    assert "Exit status" in cli_process("validate", "--help").out


def test_bad_now_is_a_usage_error(cli: CLI) -> None:
    result = cli("validate", "--now", "2026-11-23T12:00:00")
    assert result.code == 2 and "has no timezone" in result.output


def test_target_settings_are_checked_against_their_provisioner(repo: Path, cli: CLI) -> None:
    targets = repo / "policies" / "targets.yaml"
    targets.write_text(
        targets.read_text().replace("  port: 5432\n", "  port: 5432\n  colour: blue\n")
    )
    team = repo / "policies" / "github-team.yaml"
    team.write_text(team.read_text().replace("provisioner: github-team", "provisioner: githubteam"))
    result = cli("validate", "--repo", str(repo))
    assert result.code == 2
    assert (
        "policies/targets.yaml:12:3: error: `settings.colour`: not a setting of the postgres "
        "provisioner — remove it or fix its spelling" in result.out
    )
    assert (
        "github-team.yaml:5:14: error: unknown provisioner 'githubteam' — use one of:" in result.out
    )


def test_on_all_cores_validate_says_exactly_what_it_says_on_one(
    repo: Path, cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    for index in range(30):
        write_request(repo, f"landed-{index:02}", duration="2h")
    write_request(repo, "expired-1", duration="", expires_at="2026-11-22T00:00:00Z")
    commit_all(repo, "grants", date="2026-11-21T12:00:00Z")
    for index in range(30):
        write_request(repo, f"new-{index:02}", requester="Zed" if index % 7 == 0 else "alice")
    write_request(repo, "too-long-1", duration="12h")
    write_request(repo, "landed-03", target="sandbox-deployers", role="member")  # a second id
    write_request(repo, "tagged-1", justification="!!python/object:os.system ['x']")
    write_request(repo, "typo-1", extra="field")
    one_core = cli("validate", "--repo", str(repo), "--now", NOW, "--format", "json")
    assert one_core.code == 2 and len(json.loads(one_core.out)["findings"]) >= 6
    monkeypatch.setattr("jitops.parallel.PARALLEL_THRESHOLD", 10)
    monkeypatch.setattr("jitops.parallel.usable_cpus", lambda: 3)
    all_cores = cli("validate", "--repo", str(repo), "--now", NOW, "--format", "json")
    assert all_cores == one_core


def test_policy_and_settings_mistakes_say_what_to_write_never_a_pattern(
    repo: Path, cli: CLI
) -> None:
    """A team without its @, a login that is none, a count of 0 and a port that is not a
    number each get words a person acts on, not a regular expression or pydantic's phrase."""
    policy = repo / "policies" / "sandbox-db.yaml"
    text = policy.read_text().replace(
        'requesters: ["@acme/engineering"]', 'requesters: ["acme/engineering", "bad login!"]'
    )
    policy.write_text(text.replace("      - count: 1\n", "      - count: 0\n", 1))
    targets = repo / "policies" / "targets.yaml"
    targets.write_text(targets.read_text().replace("  port: 5432", "  port: abc"))
    result = cli("validate", "--repo", str(repo))
    assert result.code == 2
    out = result.out
    assert "`requesters.0` is 'acme/engineering' — a team is written with an @: " in out
    assert "'@acme/engineering'" in out
    assert "`requesters.1` is 'bad login!' — it must be a GitHub login (alice or @alice)" in out
    assert "`roles.readwrite.approvals.0.count` is 0 — it must be at least 1" in out
    assert "policies/targets.yaml:11:9: error: `settings.port` is 'abc' — it must be a whole" in out
    assert "^(" not in out and "Input should" not in out


def test_a_secret_written_into_settings_is_one_error_at_its_line(repo: Path, cli: CLI) -> None:
    """Located at the setting, not the target's first line; and the policy naming that target
    is not told the target is unknown (it is defined, in the file with the error)."""
    targets = repo / "policies" / "targets.yaml"
    text = targets.read_text()
    targets.write_text(text.replace("  port: 5432\n", "  port: 5432\n  password: hunter2\n", 1))
    line = targets.read_text().splitlines().index("  password: hunter2") + 1
    result = cli("validate", "--repo", str(repo))
    assert result.code == 2
    assert f"policies/targets.yaml:{line}:" in result.out
    assert "`settings.password`: looks like a secret" in result.out
    assert "unknown target" not in result.out and "hunter2" not in result.output


def test_the_readme_s_validate_example_and_json_keys_are_what_it_prints(
    repo: Path, cli: CLI
) -> None:
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### `jitops validate") :]
    example = section.split("```\n", 2)[1].splitlines()
    write_request(repo, "alice-1", duration="12h", ticket="INC-1234")
    bob = write_request(repo, "bob-1", requester="bob", ticket="INC-1234")
    bob.write_text(bob.read_text() + "aproved_by: carol\n")
    result = cli("validate", "--repo", str(repo), "--now", NOW)
    assert example and all(line in result.out.splitlines() for line in example), result.out
    document = json.loads(
        cli("validate", "--repo", str(repo), "--now", NOW, "--format", "json").out
    )
    keys = "`exit_code`, `request_count`, `policy_files`,\n  `findings` (each with `path`, `line`"
    assert keys in section
    assert list(document) == [
        "exit_code",
        "request_count",
        "policy_files",
        "findings",
        "requests",
        "denied",
    ]
    assert list(document["findings"][0]) == [
        "path",
        "line",
        "column",
        "severity",
        "message",
        "hint",
    ]
    assert set(document["requests"][0]) == {"path", "id", "verdict", "reason"}
