"""Loading an access repository: cross-file rules, placement, and errors with positions."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from jitops.commands.validate import ValidateOptions, ValidateResult, validate
from jitops.findings import Severity
from jitops.repo import load_policies, load_policies_at
from tests.gitrepo import make_access_repo, write_request


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_access_repo(tmp_path / "access")


def load_requests(repo: Path) -> ValidateResult:
    """The request files as validate loads them (jitops' one loader of a work tree's requests),
    judged at the moment the test repository's requests were written for."""
    return validate(ValidateOptions(repo, datetime(2026, 11, 24, 9, 0, tzinfo=UTC)))


def messages(findings: tuple) -> list[str]:  # type: ignore[type-arg]
    return [f"{f.location}: {f.text}" for f in findings]


def test_example_policies_load(repo: Path) -> None:
    loaded = load_policies(repo)
    assert loaded.findings == ()
    assert loaded.policy_set is not None
    assert loaded.policy_set.rule_for("sandbox-db", "admin") is not None


def test_unknown_policy_field_is_an_error_with_its_line(repo: Path) -> None:
    path = repo / "policies" / "sandbox-db.yaml"
    path.write_text(path.read_text().replace("    auto_approve: true", "    auto_aprove: true"))
    loaded = load_policies(repo)
    assert loaded.policy_set is None  # fail closed
    [finding] = [f for f in loaded.findings if "auto_aprove" in f.message]
    assert finding.line == 11 and finding.severity is Severity.ERROR
    assert "remove it or fix its spelling" in (finding.hint or "")


def test_policy_naming_unknown_target_or_role(repo: Path) -> None:
    path = repo / "policies" / "sandbox-db.yaml"
    text = path.read_text().replace("targets: [sandbox-db]", "targets: [sandbox-db, prod-db]")
    path.write_text(text.replace("admin:", "root:"))
    found = messages(load_policies(repo).findings)
    assert any("unknown target 'prod-db'" in m and ":5:23" in m for m in found)
    assert any("target sandbox-db has no role 'root'" in m for m in found)


def test_two_policies_for_one_target_role_is_an_error(repo: Path) -> None:
    path = repo / "policies" / "sandbox-db.yaml"
    copy = path.read_text().replace("name: sandbox-db", "name: sandbox-db-2")
    (repo / "policies" / "copy.yaml").write_text(copy)
    found = messages(load_policies(repo).findings)
    assert any("sandbox-db/readonly is also governed by policy" in m for m in found)


def test_a_name_defined_twice_is_an_error_on_the_second_file_and_fails_closed(
    repo: Path,
) -> None:
    """Which of two definitions is meant is not jitops' to guess: a copy of a policy or of the
    targets under another file name refuses to load, pointing at the copy's ``name``."""
    policies = repo / "policies"
    (policies / "zz-policy-copy.yaml").write_text((policies / "sandbox-db.yaml").read_text())
    (policies / "zz-targets-copy.yaml").write_text((policies / "targets.yaml").read_text())
    loaded = load_policies(repo)
    assert loaded.policy_set is None
    found = messages(loaded.findings)
    assert any(
        m.startswith("policies/zz-policy-copy.yaml:3:")
        and "policy 'sandbox-db' is also defined in policies/sandbox-db.yaml" in m
        for m in found
    ), found
    assert any(
        m.startswith("policies/zz-targets-copy.yaml:")
        and "target 'sandbox-db' is also defined in policies/targets.yaml" in m
        for m in found
    ), found


def test_missing_policy_change_rule_fails_closed(repo: Path) -> None:
    (repo / "policies" / "policy-changes.yaml").unlink()
    loaded = load_policies(repo)
    assert loaded.policy_set is None
    assert any("no PolicyChangeRule" in f.message for f in loaded.findings)


def test_request_in_policies_is_refused(repo: Path) -> None:
    request = write_request(repo, "r-1")
    request.rename(repo / "policies" / "r-1.yaml")
    found = messages(load_policies(repo).findings)
    assert any("kind: AccessRequest` does not belong here" in m and "requests/" in m for m in found)


def test_request_placement(repo: Path) -> None:
    write_request(repo, "right-1")
    misplaced = write_request(repo, "wrong-1", role="readonly")
    target = repo / "requests" / "sandbox-db" / "admin" / "wrong-1.yaml"
    target.parent.mkdir(parents=True)
    misplaced.rename(target)
    renamed = write_request(repo, "named-1")
    renamed.rename(renamed.with_name("other-name.yaml"))
    top = write_request(repo, "top-1")
    top.rename(repo / "requests" / "top-1.yaml")
    loaded = load_requests(repo)
    assert [r.request_id for r in loaded.verdicts] == ["right-1"]
    found = messages(loaded.findings)
    assert any("under requests/sandbox-db/admin/ but says `role: readonly`" in m for m in found)
    assert any("file name does not match `id: named-1`" in m for m in found)
    assert any("must be at requests/<target>/<role>/<id>.yaml" in m for m in found)


def test_non_yaml_files_in_requests_are_errors_but_readme_is_fine(repo: Path) -> None:
    (repo / "requests" / "README.md").write_text("how to request\n")
    (repo / "requests" / "notes.txt").write_text("x\n")
    found = messages(load_requests(repo).findings)
    assert found == [
        "requests/notes.txt: requests/ holds only YAML files — rename it to .yaml or move it out"
    ]


def test_symlinks_are_refused(repo: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.yaml"
    secret.write_text("a: 1\n")
    link = repo / "requests" / "sandbox-db" / "readonly" / "link-1.yaml"
    link.parent.mkdir(parents=True)
    link.symlink_to(secret)
    assert any("symbolic links" in m for m in messages(load_requests(repo).findings))


def test_many_requests_load_in_parallel_with_the_same_result(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for index in range(60):
        write_request(repo, f"req-{index:03}")
    write_request(repo, "bad-1", duration="forever")
    serial = load_requests(repo)
    monkeypatch.setattr("jitops.parallel.PARALLEL_THRESHOLD", 10)
    parallel = load_requests(repo)
    assert [r.path for r in parallel.verdicts] == [r.path for r in serial.verdicts]
    assert parallel.findings == serial.findings
    assert len(serial.verdicts) == 60 and len(serial.findings) == 1


@pytest.mark.attack(1, "a policy file git holds that a checkout would not read, or reads otherwise")
def test_policies_at_a_commit_are_the_policies_of_its_checkout(repo: Path) -> None:
    """apply and the sweep read policies from a commit; check-pr and validate from a checkout.
    Both must see the same files and refuse the same ones: a YAML file in a hidden folder is
    no policy in either, a link (to a file or a folder) and a file that is not YAML are refused
    in both, README and policy tests are let be."""
    from tests.gitrepo import commit_all

    policies = repo / "policies"
    (policies / ".hidden").mkdir()
    (policies / ".hidden" / "loose.yaml").write_text((policies / "sandbox-db.yaml").read_text())
    (policies / "notes.txt").write_text("not a policy\n")
    (policies / "README").write_text("let be\n")
    (policies / "linked.yaml").symlink_to("sandbox-db.yaml")
    (policies / "elsewhere").symlink_to("/etc")
    commit = commit_all(repo, "odd files under policies/")
    in_checkout = load_policies(repo)
    at_commit = load_policies_at(repo, commit)
    assert messages(at_commit.findings) == messages(in_checkout.findings)
    assert sorted(messages(in_checkout.findings)) == [
        "policies/elsewhere: symbolic links are not allowed here — commit a regular file",
        "policies/linked.yaml: symbolic links are not allowed here — commit a regular file",
        "policies/notes.txt: policies/ holds only YAML files — rename it to .yaml or move it out",
    ]
    assert [f.path for f in at_commit.files] == [f.path for f in in_checkout.files]
    assert not any(".hidden" in f.path for f in at_commit.files)
    assert at_commit.policy_set is None and in_checkout.policy_set is None  # fail closed
