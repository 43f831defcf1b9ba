"""Attacks on the sweep through a broken policy file (invariant 4, expiry always wins):
``jitops sweep`` with one target's file broken (a provisioner it does not know, YAML that does
not parse, a setting a newer jitops refuses, a policy naming a missing target) still revokes
through every other target; the broken one's grants fail with file, line and fix (exit 3)
until it is fixed, and nothing about a target that does not load — or loads only in an
unverified state — is guessed or acted on.

What the attacker can do: break one policy file (or push an unreviewed "fix" of it). What they
cannot: stop the revocations through the other targets, or get the sweep to act through a
target state nobody approved."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from jitops.testing.github import GitHubServer
from tests.e2e.conftest import CLI, FAKE_SYSTEM, LegacySystem, Run
from tests.e2e.sweep_world import Served, serve
from tests.gitrepo import commit_all, git, write_request

NOW = "2026-11-23T12:00:00Z"
VAULT = "policies/vault.yaml"
# Passes each call on to the fake system, after noting (target, action, request id) in
# $CALLS_LOG, so a test can tell what was revoked through which target, and how often.
RECORDER = """\
import json, os, subprocess, sys
raw = sys.stdin.read()
request = json.loads(raw)
with open(os.environ["CALLS_LOG"], "a") as log:
    log.write(json.dumps([sys.argv[1], request["action"], request.get("request_id")]) + "\\n")
sys.exit(subprocess.run([sys.executable, {fake!r}], input=raw, text=True).returncode)
"""


class Systems:
    """The ``legacy`` (role operator) and ``vault`` (role reader) exec targets, both backed by
    the fake system (one state, keyed ``requester/role``) through the recorder."""

    def __init__(self, legacy: LegacySystem, calls: Path) -> None:
        self.repo, self.state, self.calls = legacy.repo, legacy.state, calls

    def held(self) -> set[str]:
        return set(json.loads(self.state.read_text())) if self.state.exists() else set()

    def revokes(self) -> list[tuple[str, str]]:
        """(target, request id) of every revoke the targets were asked for, in order."""
        if not self.calls.exists():
            return []
        lines = [json.loads(line) for line in self.calls.read_text().splitlines()]
        return [(target, request_id) for target, action, request_id in lines if action == "revoke"]

    def requests(self, root: Path | None = None) -> list[str]:
        return sorted(p.name for p in ((root or self.repo) / "requests").rglob("*.yaml"))


def _target(name: str, role: str, recorder: Path, extra_setting: str = "") -> str:
    command = json.dumps([sys.executable, str(recorder), name])
    return (
        f"apiVersion: jitops/v1\nkind: Target\nname: {name}\nprovisioner: exec\n"
        f"roles: [{role}]\n"
        f"settings:\n{extra_setting}  command: {command}\n"
        "  env: [FAKE_STATE, FAKE_EXPECTED_TOKEN, FAKE_REFUSE, CALLS_LOG]\n"
        "secrets:\n  token: FAKE_TOKEN\n"
    )


def _install(legacy: LegacySystem, tmp_path: Path, *, vault_setting: str = "") -> Systems:
    """Both targets in the installation commit (the verified policy state), each expired
    grant of bob and a current one of alice on each, all held by the systems."""
    recorder = tmp_path / "recorder.py"
    recorder.write_text(RECORDER.format(fake=str(FAKE_SYSTEM)))
    policies = legacy.repo / "policies"
    (policies / "legacy.yaml").write_text(_target("legacy", "operator", recorder))
    (policies / "vault.yaml").write_text(_target("vault", "reader", recorder, vault_setting))
    (policies / "vault-policy.yaml").write_text(
        "apiVersion: jitops/v1\nkind: Policy\nname: vault\ntargets: [vault]\n"
        "requesters: [alice, bob]\nroles:\n  reader: {max_duration: 8h, auto_approve: true}\n"
    )
    date = "2026-11-01T00:00:00Z"
    git(legacy.repo, "add", "policies")
    git(
        legacy.repo,
        "commit",
        "-q",
        "--amend",
        "--no-edit",
        env={**os.environ, "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date},
    )
    for target, role in (("legacy", "operator"), ("vault", "reader")):
        write_request(
            legacy.repo, f"bob-{target}", target=target, role=role, requester="bob"
        )  # lands at 09:00 for 2h: expired at NOW
        write_request(
            legacy.repo,
            f"alice-{target}",
            target=target,
            role=role,
            requester="alice",
            duration="",
            expires_at="2026-11-23T18:00:00Z",
        )
    commit_all(legacy.repo, "grants", date="2026-11-23T09:00:00Z")
    legacy.state.write_text(
        json.dumps(
            {
                f"{who}/{role}": {
                    "requester": who,
                    "role": role,
                    "request_id": f"{who}-{target}",
                    "expires_at": "2026-11-23T18:00:00Z",
                }
                for who in ("alice", "bob")
                for target, role in (("legacy", "operator"), ("vault", "reader"))
            }
        )
    )
    return Systems(legacy, tmp_path / "calls.jsonl")


@pytest.fixture
def systems(legacy: LegacySystem, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Systems:
    monkeypatch.setenv("CALLS_LOG", str(tmp_path / "calls.jsonl"))
    return _install(legacy, tmp_path)


def _break(systems: Systems, old: str, new: str) -> str:
    """Replace ``old`` with ``new`` in the vault target's file; return the good text."""
    path = systems.repo / VAULT
    good = path.read_text()
    assert old in good
    path.write_text(good.replace(old, new))
    return good


def _sweep(cli: CLI, root: Path, now: str = NOW) -> Run:
    return cli("sweep", "--repo", str(root), "--now", now)


def _assert_only_legacy_revoked(systems: Systems, result: Run, *, line: str) -> None:
    out = result.out
    assert result.code == 3, result.output
    assert "revoked: @bob legacy/operator (bob-legacy" in out
    assert "failed: @bob vault/reader (bob-vault" in out
    assert f"{VAULT}:{line}" in out, out  # where to fix it, in the failure and the findings
    assert systems.held() == {"alice/operator", "alice/reader", "bob/reader"}
    assert systems.revokes() == [("legacy", "bob-legacy")]  # nothing through the broken one


@pytest.mark.attack(4, "break one policy file to stop every revoke")
def test_one_target_with_an_unknown_provisioner_holds_back_only_its_own_grants(
    systems: Systems, cli: CLI
) -> None:
    good = _break(systems, "provisioner: exec", "provisioner: vaultish")
    commit_all(systems.repo, "vault: a provisioner this jitops does not know")
    head = git(systems.repo, "rev-parse", "HEAD")
    files = systems.requests()

    first = _sweep(cli, systems.repo)
    _assert_only_legacy_revoked(systems, first, line="4:14")
    assert "unknown provisioner 'vaultish' — use one of: aws, exec" in first.out
    assert "fix it (`jitops validate` lists every problem) and the next sweep revokes" in first.out
    assert "1 failed — they stay on the branch and are retried next run" in first.err
    # nothing else changed: the branch, the work tree and every request file are as they were
    assert git(systems.repo, "rev-parse", "HEAD") == head
    assert git(systems.repo, "status", "--porcelain") == ""
    assert systems.requests() == files

    # merging the revocation pull request removes the revoked file; then the fix lands
    (systems.repo / "requests/legacy/operator/bob-legacy.yaml").unlink()
    (systems.repo / VAULT).write_text(good)
    commit_all(systems.repo, "revoked bob-legacy; vault: provisioner exec again")
    rerun = _sweep(cli, systems.repo, now="2026-11-23T12:15:00Z")
    assert rerun.code == 0, rerun.output
    assert "revoked: @bob vault/reader (bob-vault" in rerun.out and "legacy" not in rerun.out
    assert systems.held() == {"alice/operator", "alice/reader"}
    # every expired grant revoked exactly once, each through its own target
    assert systems.revokes() == [("legacy", "bob-legacy"), ("vault", "bob-vault")]


def test_a_policy_file_whose_yaml_does_not_parse_holds_back_only_the_targets_it_may_define(
    systems: Systems, cli: CLI
) -> None:
    _break(systems, "roles: [reader]\n", "roles: [reader\n")
    commit_all(systems.repo, "vault: broken YAML")
    result = _sweep(cli, systems.repo)
    _assert_only_legacy_revoked(systems, result, line="6:9")  # where the parser stops
    assert f"{VAULT}:6:9: error: not valid YAML" in result.out
    assert (
        "no target 'vault' among the policy files that load; "
        "policies/vault.yaml:6:9 could not be read and may define it"
    ) in result.out


def test_a_setting_a_newer_jitops_refuses_holds_back_only_that_target(
    legacy: LegacySystem, tmp_path: Path, cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file was accepted when it landed; this jitops knows no ``timeout_s``."""
    monkeypatch.setenv("CALLS_LOG", str(tmp_path / "calls.jsonl"))
    systems = _install(legacy, tmp_path, vault_setting="  timeout_s: 30\n")
    result = _sweep(cli, systems.repo)
    _assert_only_legacy_revoked(systems, result, line="7:3")
    assert (
        "target 'vault' did not load, so nothing was revoked through it: policies/vault.yaml:7:3: "
        "`settings.timeout_s`: not a setting of the exec provisioner — remove it or fix its "
        "spelling"
    ) in result.out


def test_a_policy_naming_a_missing_target_holds_back_no_target(systems: Systems, cli: CLI) -> None:
    path = systems.repo / "policies/vault-policy.yaml"
    path.write_text(path.read_text().replace("targets: [vault]", "targets: [vault, gone]"))
    commit_all(systems.repo, "vault policy: a target that does not exist")
    result = _sweep(cli, systems.repo)
    assert result.code == 0, result.output  # every expired grant could be revoked
    assert "policies/vault-policy.yaml:4:18: error: policy vault names unknown target" in result.out
    assert systems.held() == {"alice/operator", "alice/reader"}


# -- with the policy state verified through the API, as in the sweep workflow ----------------


@pytest.mark.attack(4, "push an unapproved fix of a broken target")
def test_the_verified_state_is_loaded_target_by_target_and_an_unverified_fix_is_not_used(
    legacy: LegacySystem,
    github_server: GitHubServer,
    github_names: str,
    tmp_path: Path,
    cli: CLI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CALLS_LOG", str(tmp_path / "calls.jsonl"))
    systems = _install(legacy, tmp_path, vault_setting="  timeout_s: 30\n")
    world: Served = serve(github_server, github_names, legacy.repo, tmp_path)
    for name, value in world.env().items():
        monkeypatch.setenv(name, value)

    def sweep(now: str) -> Run:
        return cli("sweep", "--repo", str(world.base), "--now", now, "--open-pr")

    first = sweep(NOW)
    _assert_only_legacy_revoked(systems, first, line="7:3")
    [number] = world.sweep_pulls()  # the revocation pull request records the revoked only
    assert world.files_of(number) == ["requests/legacy/operator/bob-legacy.yaml"]
    [issue] = world.failed_issues()  # and the issue lists what is left, with where to fix it
    body = issue.body or ""
    assert "| `vault` | `reader` | @bob | `bob-vault`" in body
    assert "policies/vault.yaml:7:3" in body and "bob-legacy" not in body

    # a fix pushed straight to the branch is not verified, so vault is not acted through
    (world.base / VAULT).write_text(
        (world.base / VAULT).read_text().replace("  timeout_s: 30\n", "")
    )
    commit_all(world.base, "vault: drop timeout_s, unreviewed")
    git(world.base, "push", "-q", "origin", "main")
    second = sweep("2026-11-23T12:15:00Z")
    assert second.code == 3, second.output
    assert "the branch's policies are not verified" in second.err
    assert "failed: @bob vault/reader (bob-vault" in second.out
    assert "bob/reader" in systems.held()
    assert ("vault", "bob-vault") not in systems.revokes()
