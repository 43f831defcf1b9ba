"""Attacks on secrets (invariant 7, secrets never print): a target whose command prints its
token when it fails, as careless real tools do, and the long-lived org-reading token kept
where a workflow any writer pushes to their own branch can read it.

What the attacker can do: make a target fail (or wait for it to), push a workflow of their own
to a branch. What they cannot: get a target's secret into apply's output, the job summary, the
pull request's comment or the sweep's issue — each says the grant failed, with the secret
masked — or keep ``jitops doctor`` quiet while the org-reading token is a repository secret or
lives in an Environment any branch may use.
"""

from __future__ import annotations

import pytest

from jitops.testing.github.environments import add_environment, add_repo_secret
from tests.e2e.apply_world import World, apply, grant
from tests.e2e.conftest import CLI, LEGACY_TOKEN, LegacySystem, Run
from tests.e2e.gate_world import GateWorld
from tests.e2e.sweep_world import Served, sweep


@pytest.mark.attack(7, "make a target print its token while apply grants through it")
def test_a_failing_target_s_token_reaches_no_output_summary_or_comment(
    world: World, cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    grant(world, "leak-1")
    [pull] = world.server.hub.state.pulls_of(world.repo.id)
    before = world.pull_base()
    wrong = "rotated-" + LEGACY_TOKEN  # the system refuses it, and prints it on stderr
    monkeypatch.setenv("FAKE_TOKEN", wrong)
    summary = world.base.parent / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    failed = apply(world, cli, before)
    assert failed.code == 3 and "failed: @" in failed.out, failed.output
    assert world.legacy.held() == set()
    comments = [c.body for c in world.server.hub.comments_of(world.repo, pull.number)]
    said = [failed.output, summary.read_text(), *comments]
    assert any("**failed**" in body for body in comments)
    for text in said:
        assert LEGACY_TOKEN not in text, text
    # the control: with the right token the rerun grants, and nothing printed it either
    monkeypatch.setenv("FAKE_TOKEN", LEGACY_TOKEN)
    rerun = apply(world, cli, before)
    assert rerun.code == 0 and world.legacy.held() == {f"{world.login('alice')}/operator"}
    assert LEGACY_TOKEN not in rerun.output


@pytest.mark.attack(7, "make a target print its token while the sweep revokes through it")
def test_a_failing_target_s_token_reaches_neither_the_sweep_s_output_nor_its_issue(
    served: tuple[LegacySystem, Served], cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, world = served
    monkeypatch.setenv("FAKE_TOKEN", "expired-" + LEGACY_TOKEN)
    summary = world.base.parent / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    result = sweep(world, cli)
    assert result.code == 3, result.output
    [issue] = world.failed_issues()
    comments = [c.body for c in world.server.hub.comments_of(world.repo, issue.number)]
    for text in (result.output, summary.read_text(), issue.body or "", issue.title, *comments):
        assert LEGACY_TOKEN not in text, text
    assert "bob-1" in (issue.body or "")  # the issue still says what failed


def org_token_lines(gate: GateWorld, cli: CLI) -> tuple[Run, list[str]]:
    """``jitops doctor`` on the gate's checkout as its admin runs it; its org-token lines."""
    result = cli("doctor", "--repo", str(gate.base))
    return result, [line.strip() for line in result.out.splitlines() if "org-reading" in line]


@pytest.mark.attack(7, "keep the org-reading token where a workflow on any branch reads it")
def test_doctor_fails_until_the_org_reading_token_is_only_in_an_environment_for_main(
    gate: GateWorld, cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The policies name teams, so the check needs the org-reading token (long-lived, with
    write permissions). As a repository secret, or in an Environment any branch may use, a
    writer's workflow on their own branch reads it: doctor fails naming where it is, and
    passes only when it is a secret of ``jitops-read-org`` limited to the default branch."""
    hub = gate.server.hub
    for name, value in gate.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("GITHUB_TOKEN", gate.accounts["p1"].token)
    add_repo_secret(hub, gate.repo, "JITOPS_READ_ORG_TOKEN")  # where it used to live
    add_environment(hub, gate.repo, "jitops-read-org")  # any branch
    result, lines = org_token_lines(gate, cli)
    assert result.code == 1, result.output
    assert any("hands its secrets to jobs of any branch" in line for line in lines), lines
    assert any("JITOPS_READ_ORG_TOKEN is a repository secret" in line for line in lines), lines
    add_environment(hub, gate.repo, "jitops-read-org", branches=("main",))
    _, lines = org_token_lines(gate, cli)
    assert any("limited to main" in line for line in lines), lines
    assert any("is a repository secret" in line for line in lines), lines  # still exposed
    with hub.state.lock:  # the fix doctor names: delete the repository secret
        del hub.state.repo_secrets[(gate.repo.id, "JITOPS_READ_ORG_TOKEN")]
    _, lines = org_token_lines(gate, cli)
    assert lines == ["✓ org-reading token: the Environment jitops-read-org is limited to main"]
