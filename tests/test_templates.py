"""The templates jitops renders into access repositories: one source of truth for workflows."""

from __future__ import annotations

import re

import pytest
from ruamel.yaml import YAML

from jitops import __version__
from jitops.commands.doctor import EXPECTED_WORKFLOWS
from jitops.repo import load_policies
from jitops.templates import (
    STARTER_POLICY_FILES,
    WORKFLOW_NAMES,
    Install,
    TemplateError,
    WorkflowSettings,
    action_variables,
    render,
    render_starter_policies,
    render_workflows,
    secret_variables,
)
from tests.gitrepo import PROJECT

WORKFLOWS = PROJECT / ".github" / "workflows"


def own_settings() -> WorkflowSettings:
    policies = load_policies(PROJECT)
    assert policies.policy_set is not None
    policy_set = policies.policy_set
    return WorkflowSettings(
        Install.local(),
        "main",
        secret_variables(policy_set.targets.values(), policy_set.notify),
        secret_variables((), policy_set.notify),
        action_variables(policy_set.targets.values()),
    )


def test_jitops_own_workflows_are_the_templates_rendered_for_this_repository() -> None:
    # If this fails, change jitops/templates/workflows/ (not .github/workflows/) and render
    # again: `jitops init` installs the templates, so they must be what jitops itself runs.
    rendered = render_workflows(own_settings())
    assert sorted(rendered) == sorted(WORKFLOW_NAMES)
    for name, text in rendered.items():
        assert (WORKFLOWS / name).read_text(encoding="utf-8") == text, name


def test_every_target_secret_reaches_every_granting_step() -> None:
    rendered = render_workflows(own_settings())
    variables = own_settings().secret_variables
    assert variables == ("JITOPS_GITHUB_TEAM_TOKEN", "JITOPS_SANDBOX_DB_PASSWORD")
    for variable in variables:
        line = f"{variable}: ${{{{ secrets.{variable} }}}}"
        # apply once; sweep, scheduled apply and reconcile in the sweep workflow
        assert rendered["jitops-apply.yml"].count(line) == 1
        assert rendered["jitops-sweep.yml"].count(line) == 3
        for name in ("jitops-check.yml", "jitops-review.yml", "jitops-review-relay.yml"):
            assert variable not in rendered[name], "a pull request's workflows see no target secret"


@pytest.mark.attack(7, "read the action login's secret from the sweep or reconcile step")
def test_an_action_login_s_secret_reaches_only_the_steps_that_perform_actions() -> None:
    """Least privilege: sandbox-db's action_password is the login approved actions run as;
    apply performs them (on push, and catching up in the sweep workflow), sweep and reconcile
    never do, so they never hold it."""
    settings = own_settings()
    assert settings.action_variables == ("JITOPS_SANDBOX_DB_ACTION_PASSWORD",)
    assert "JITOPS_SANDBOX_DB_ACTION_PASSWORD" not in settings.secret_variables
    rendered = render_workflows(settings)
    line = "JITOPS_SANDBOX_DB_ACTION_PASSWORD: ${{ secrets.JITOPS_SANDBOX_DB_ACTION_PASSWORD }}"
    assert rendered["jitops-apply.yml"].count(line) == 1
    sweep = YAML(typ="safe").load(rendered["jitops-sweep.yml"])
    [job] = sweep["jobs"].values()
    holding = {
        step["with"]["command"].split()[0]
        for step in job["steps"]
        if "JITOPS_SANDBOX_DB_ACTION_PASSWORD" in step.get("env", {})
    }
    assert holding == {"apply"}
    for name in ("jitops-check.yml", "jitops-review.yml", "jitops-review-relay.yml"):
        assert "ACTION_PASSWORD" not in rendered[name]


def test_an_access_repository_installs_an_exact_release_never_its_own_checkout() -> None:
    rendered = render_workflows(WorkflowSettings(Install.release(__version__), "main", ()))
    installs = [
        line.strip()
        for text in rendered.values()
        for line in text.splitlines()
        if "pip install" in line
    ]
    assert len(installs) == 4  # check, review, apply, sweep; the relay runs nothing
    pinned = rf"'jitops(\[postgres,aws\])?=={re.escape(__version__)}'"
    for line in installs:
        assert re.fullmatch(rf"run: python -m pip install --quiet {pinned}", line), line
    assert all("%{" not in text for text in rendered.values())


@pytest.mark.attack(7, "read a target's secret from a pull request's workflow via notify")
def test_the_check_gets_the_notify_secrets_and_never_a_target_s() -> None:
    """Attack (a widened environment): the check runs for every pull request; it may hold
    the Notify channels' addresses, never a target's credentials."""
    settings = WorkflowSettings(
        Install.release("1.2.3"), "main", ("JITOPS_DB_PASSWORD", "JITOPS_HOOK"), ("JITOPS_HOOK",)
    )
    rendered = render_workflows(settings)
    hook = "JITOPS_HOOK: ${{ secrets.JITOPS_HOOK }}"
    for name in ("jitops-check.yml", "jitops-review.yml"):
        assert rendered[name].count(hook) == 1
        assert "JITOPS_DB_PASSWORD" not in rendered[name]
    assert rendered["jitops-apply.yml"].count(hook) == 1
    assert rendered["jitops-sweep.yml"].count(hook) == 3


def test_without_secrets_no_step_gets_an_empty_env() -> None:
    rendered = render_workflows(WorkflowSettings(Install.release("1.2.3"), "trunk", ()))
    # the reconcile step keeps only the token it re-verifies the policies with
    assert (
        "run: jitops reconcile\n        env:\n          GITHUB_TOKEN: ${{ github.token }}\n"
        "      - name:"
    ) in rendered["jitops-sweep.yml"]
    assert "branches: [trunk]" in rendered["jitops-apply.yml"]


def test_doctor_expects_exactly_the_workflows_jitops_ships() -> None:
    assert [w.name for w in EXPECTED_WORKFLOWS] == list(WORKFLOW_NAMES)


def test_blocks_take_the_placeholders_indentation_and_vanish_when_empty() -> None:
    text = "env:\n  A: 1\n  %{more}\nafter: %{value}\n"
    assert render(text, {"more": ["B: 2", "C: 3"], "value": "x"}) == (
        "env:\n  A: 1\n  B: 2\n  C: 3\nafter: x\n"
    )
    assert render(text, {"more": [], "value": "x"}) == "env:\n  A: 1\nafter: x\n"


def test_a_placeholder_without_a_value_is_an_error_not_a_hole() -> None:
    with pytest.raises(TemplateError, match="no value for placeholder %{missing}"):
        render("a: %{missing}\n", {})
    with pytest.raises(TemplateError, match="is a block"):
        render("a: %{lines}\n", {"lines": ["x"]})


def test_starter_policies_name_the_organisation_and_security_team() -> None:
    files = render_starter_policies("example-org", "@example-org/sec")
    assert sorted(files) == sorted(STARTER_POLICY_FILES)
    text = "".join(files.values())
    assert "%{" not in text
    assert '"@example-org/engineering"' in files["policies/sandbox-db.yaml"]
    assert '"@example-org/sec"' in files["policies/policy-changes.yaml"]
    assert "JITOPS_SANDBOX_DB_PASSWORD" in files["policies/targets.yaml"]
