"""The shipped GitHub Actions workflows: least privilege, pinned, and clean under zizmor and
actionlint (only ``dangerous-triggers``, and ``self-repository`` in jitops' own, may be suppressed,
each with its reason inline)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.gitrepo import PROJECT, write_teamless_policies

WORKFLOWS = sorted((PROJECT / ".github" / "workflows").glob("*.yml"))
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")


def load(path: Path) -> dict[str, Any]:
    data = YAML(typ="safe").load(path.read_text())
    assert isinstance(data, dict)
    return data


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: `pip install -e '.[dev]'` brings it")
    return found


def test_there_are_workflows() -> None:
    names = {p.name for p in WORKFLOWS}
    assert {
        "jitops-check.yml",
        "jitops-review-relay.yml",
        "jitops-review.yml",
        "jitops-apply.yml",
        "jitops-sweep.yml",
    } <= names


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_least_privilege_and_pinned(path: Path) -> None:
    workflow = load(path)
    assert workflow["permissions"] == {}, "permissions: {} at the top"
    for name, job in workflow["jobs"].items():
        assert "permissions" in job, f"job {name} must state its permissions"
        for step in job.get("steps", []):
            uses = step.get("uses")
            if uses is None:
                continue
            # ./ is jitops' action in the same checkout: the commit the workflow runs
            assert uses == "./" or PINNED.match(uses), f"{uses} is not pinned by full commit SHA"
            with_ = step.get("with", {})
            if uses.startswith("actions/checkout@"):
                assert with_.get("persist-credentials") is False
            assert "cache" not in with_, "no caches in privileged workflows"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_only_dangerous_triggers_are_suppressed_and_each_says_why(path: Path) -> None:
    for line in path.read_text().splitlines():
        if "zizmor: ignore" in line:
            match = re.search(r"zizmor: ignore\[([^\]]+)\]\s+(\S.{20,})", line)
            assert match, f"suppression without a reason: {line.strip()}"
            # jitops' own workflows use the action from their checkout (`./`): actionlint
            # cannot read the `$/` form zizmor prefers. Init's workflows pin a commit instead.
            assert match.group(1) in ("dangerous-triggers", "self-repository")


def test_the_relay_has_no_permissions_and_runs_nothing_from_the_event() -> None:
    relay = load(PROJECT / ".github" / "workflows" / "jitops-review-relay.yml")
    for job in relay["jobs"].values():
        assert job["permissions"] == {}
        for step in job["steps"]:
            assert "${{" not in step.get("run", ""), "no event data in a shell"


def test_gate_runs_on_base_code_only() -> None:
    for name in ("jitops-check.yml", "jitops-review.yml"):
        workflow = load(PROJECT / ".github" / "workflows" / name)
        triggers = workflow["on"]
        assert set(triggers) <= {"pull_request_target", "workflow_run"}
        for job in workflow["jobs"].values():
            for step in job["steps"]:
                assert "ref" not in step.get("with", {}), "never check out the PR head"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The workflow folders `jitops init` writes: for its starter policies (one target
    secret), for policies whose targets name no secret but a Notify channel does, both with
    the pinned action, and with --release."""
    from jitops.commands.init import InitOptions, run_init

    starter = tmp_path_factory.mktemp("starter") / "access"
    run_init(InitOptions(starter, org="acme", action="acme/jitops@" + "0a" * 20))
    bare = write_teamless_policies(tmp_path_factory.mktemp("bare") / "access")
    (bare / "policies" / "notify.yaml").write_text(
        "apiVersion: jitops/v1\nkind: Notify\nname: siem\nchannel: webhook\n"
        "secrets: {url: JITOPS_SIEM_URL, signing_key: JITOPS_SIEM_KEY}\n"
    )
    run_init(InitOptions(bare, default_branch="trunk", action="acme/jitops@" + "0a" * 20))
    released = tmp_path_factory.mktemp("released") / "access"
    run_init(InitOptions(released, org="acme", release=True))
    return [root / ".github" / "workflows" for root in (starter, bare, released)]


def zizmor(folder: Path) -> None:
    # every persona: regular, pedantic, and auditor (which also flags a secret outside an
    # Environment)
    for persona in ("regular", "pedantic", "auditor"):
        result = subprocess.run(
            [tool("zizmor"), "--offline", "--persona", persona, "--no-progress", str(folder)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, persona + result.stdout + result.stderr
        assert "No findings" in result.stdout + result.stderr, persona


def actionlint(paths: list[Path]) -> None:
    result = subprocess.run(
        [tool("actionlint"), *map(str, paths)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_reports_nothing() -> None:
    zizmor(PROJECT / ".github" / "workflows")
    zizmor(PROJECT / "action.yml")


@pytest.mark.attack(7, "expand the action's input into its script, reaching the secrets")
def test_the_action_pins_what_it_uses_and_passes_no_input_through_an_expression() -> None:
    """Attack (template injection): an input or output expanded into a script is code; the
    action hands every one to its scripts through the environment instead."""
    action = load(PROJECT / "action.yml")
    assert action["runs"]["using"] == "composite"
    assert set(action["inputs"]) == {"command", "python-version"}
    for step in action["runs"]["steps"]:
        if "uses" in step:
            assert PINNED.match(step["uses"]), step["uses"]
        else:
            assert "${{" not in step["run"], step["name"]
    # the release install pins the same setup-python as the action
    pip_steps = (PROJECT / "jitops" / "templates" / "steps" / "pip-install.yml").read_text()
    [setup] = [s["uses"] for s in action["runs"]["steps"] if "setup-python" in s.get("uses", "")]
    assert f"uses: {setup}  #" in pip_steps


def test_actionlint_reports_nothing() -> None:
    actionlint(WORKFLOWS)


def test_the_workflows_init_writes_pass_zizmor_and_actionlint(generated: list[Path]) -> None:
    for folder in generated:
        assert len(list(folder.glob("*.yml"))) == 5
        zizmor(folder)
        actionlint(sorted(folder.glob("*.yml")))


@pytest.mark.attack(7, "read the org-reading token from a branch workflow")
def test_every_job_that_reads_a_secret_names_an_environment() -> None:
    """Attack (the org-reading token): a repository secret can be read by a workflow any
    writer pushes to their own branch; a secret of an Environment limited to the default
    branch reaches only jobs running there. Every job reading a secret names one — the check
    and review jobs `jitops-read-org`, which holds nothing but that token."""
    for path in WORKFLOWS:
        for name, job in load(path)["jobs"].items():
            if "secrets." in str(job.get("steps", [])):
                assert job.get("environment"), f"{path.name}: job {name} reads a secret"
    for name in ("jitops-check.yml", "jitops-review.yml"):
        (job,) = load(PROJECT / ".github" / "workflows" / name)["jobs"].values()
        assert job["environment"] == "jitops-read-org"


def test_apply_runs_for_every_push_that_lands_a_request_of_either_kind() -> None:
    """A push adding an action request must start apply, or the action would wait unseen."""
    apply = load(PROJECT / ".github" / "workflows" / "jitops-apply.yml")
    paths = apply["on"]["push"]["paths"]
    assert {"requests/**", "actions/**"} <= set(paths)
