"""The composite action at the repository root (``action.yml``), run step by step as a runner
runs it: its scripts in bash with the runner's variables, ``$GITHUB_OUTPUT`` read back, each
step's ``if:`` obeyed. Only ``actions/setup-python`` is stood in for, by this Python; the
install is real (a virtual environment and pip, from this checkout), and so is jitops.

The stand-in runner understands exactly the expressions the action uses (``inputs.NAME``,
``steps.ID.outputs.NAME``, and ``!= 'true'`` in an ``if:``); anything else fails the test,
so the action cannot grow an expression this test does not run.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from tests.gitrepo import PROJECT, commit_all, make_access_repo

EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
CONDITION = re.compile(r"steps\.([\w-]+)\.outputs\.([\w-]+) != 'true'")


@dataclass
class Run:
    """One use of the action: what each step printed, and the outputs the steps set."""

    steps: list[tuple[str, subprocess.CompletedProcess[str] | None]] = field(default_factory=list)
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def last(self) -> subprocess.CompletedProcess[str]:
        result = self.steps[-1][1]
        assert result is not None
        return result

    def ran(self, name: str) -> bool:
        return any(step == name and result is not None for step, result in self.steps)


def use_action(command: str, runner_temp: Path, env: dict[str, str] | None = None) -> Run:
    """Run the action with ``with: command: COMMAND``, as one step of a job whose temporary
    folder is ``runner_temp``; stops at the first step that fails, as a runner does."""
    action = YAML(typ="safe").load((PROJECT / "action.yml").read_text())
    inputs = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
    inputs["command"] = command
    run = Run()

    def evaluate(text: str) -> str:
        def one(match: re.Match[str]) -> str:
            words = match.group(1).split(".")
            if len(words) == 2 and words[0] == "inputs":
                return inputs[words[1]]
            if len(words) == 4 and words[0] == "steps" and words[2] == "outputs":
                return run.outputs.get(words[1], {}).get(words[3], "")
            raise AssertionError(f"the stand-in runner does not know {match.group(0)}")

        return EXPRESSION.sub(one, text)

    for step in action["runs"]["steps"]:
        name, outputs = step["name"], run.outputs.setdefault(step.get("id", step["name"]), {})
        condition = step.get("if")
        if condition is not None:
            matched = CONDITION.fullmatch(condition)
            assert matched, f"the stand-in runner does not know `if: {condition}`"
            if run.outputs.get(matched.group(1), {}).get(matched.group(2)) == "true":
                run.steps.append((name, None))
                continue
        if "uses" in step:
            assert step["uses"].startswith("actions/setup-python@"), step["uses"]
            outputs["python-path"] = sys.executable  # what setup-python would give
            run.steps.append((name, None))
            continue
        output_file = runner_temp / f"output-{len(run.steps)}"
        output_file.write_text("")
        step_env = {
            **os.environ,
            **(env or {}),
            "GITHUB_ACTION_PATH": str(PROJECT),
            "RUNNER_TEMP": str(runner_temp),
            "GITHUB_OUTPUT": str(output_file),
            **{key: evaluate(str(value)) for key, value in step.get("env", {}).items()},
        }
        assert step["shell"] == "bash"
        result = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            env=step_env,
            capture_output=True,
            text=True,
            check=False,
            cwd=runner_temp,
        )
        run.steps.append((name, result))
        for line in output_file.read_text().splitlines():
            key, equals, value = line.partition("=")
            assert equals and "<<" not in key, line
            outputs[key] = value
        if result.returncode != 0:
            break
    return run


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A job's temporary folder after the action's first use installed jitops in it."""
    runner_temp = tmp_path_factory.mktemp("runner-temp")
    first = use_action("--version", runner_temp)
    assert first.ran("Install jitops from this action's checkout"), first.steps
    assert first.last.returncode == 0, first.steps
    return runner_temp


def test_the_first_use_installs_jitops_from_the_checkout_and_runs_it(installed: Path) -> None:
    [environment] = installed.glob("jitops-*")
    assert (environment / "bin" / "jitops").is_file()
    version = subprocess.run(
        [environment / "bin" / "python", "-c", "import jitops; print(jitops.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        cwd=installed,  # not this checkout, which `python -c` would import from
    )
    assert "site-packages" in version.stdout, "installed, not linked to the checkout"
    # the provisioners' libraries come with it: apply and sweep need them
    for module in ("psycopg", "boto3"):
        subprocess.run([environment / "bin" / "python", "-c", f"import {module}"], check=True)


def test_later_uses_in_the_job_run_without_installing(installed: Path, tmp_path: Path) -> None:
    access = make_access_repo(tmp_path / "access")
    commit_all(access, "access repository")
    run = use_action(f"validate --repo {access}", installed)
    assert not run.ran("Install jitops from this action's checkout")
    assert run.last.returncode == 0, run.last.stderr
    assert "0 errors" in run.last.stderr

    # jitops' exit status is the step's: a policy error fails the step with 2
    (access / "policies" / "broken.yaml").write_text("kind: Nonsense\n")
    failed = use_action(f"validate --repo {access}", installed)
    assert failed.last.returncode == 2
    assert "policies/broken.yaml" in failed.last.stdout + failed.last.stderr


def test_every_line_of_the_command_is_read(installed: Path, tmp_path: Path) -> None:
    access = make_access_repo(tmp_path / "access")
    run = use_action(f"validate\n  --repo {access}\n  --format json\n", installed)
    assert run.last.returncode == 0, run.last.stderr
    assert run.last.stdout.lstrip().startswith("{")


@pytest.mark.attack(7, "run a shell command through the action's command input")
def test_the_command_is_words_never_shell(installed: Path, tmp_path: Path) -> None:
    """Attack (injection through the input): were the command run by a shell, `$(…)`, `;`
    and globs in it would run with the job's secrets in reach. They are only words."""
    canary = tmp_path / "ran"
    run = use_action(f'validate --repo "$(touch {canary})" ; touch {canary} *', installed)
    assert run.last.returncode == 2, run.last.stderr
    assert not canary.exists()
    assert "$(touch" in run.last.stderr  # jitops was handed the literal word, and refused it


def test_an_empty_command_fails_the_step_saying_what_to_give(installed: Path) -> None:
    run = use_action("  \n ", installed)
    assert run.last.returncode == 2
    assert "::error title=jitops::the input 'command' is empty" in run.last.stdout
