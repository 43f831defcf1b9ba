"""Doctor's ``workflows`` area: the jitops workflows exist and are locked down: ``permissions:
{}`` at the top, permissions per job, every action pinned by a full commit SHA, checkouts
without persisted credentials, no caches; and every step running ``jitops apply``, ``sweep`` or
``reconcile`` has each target's secret variable in its environment."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from jitops.doctor_checks import WORKFLOWS_DIR, Area, DoctorCheck
from jitops.provisioners.interface import CheckStatus

# Workflow files are small; anything far bigger is not one of ours.
MAX_WORKFLOW_BYTES: Final = 256 * 1024


@dataclass(frozen=True)
class ExpectedWorkflow:
    name: str  # file name under .github/workflows/ (.yml, or the same stem with .yaml)
    purpose: str
    missing: CheckStatus  # how bad it is that the file is absent


# The workflows an access repository needs. Apply and sweep are not built yet: their absence
# is a warning until they are, then an error like the others.
EXPECTED_WORKFLOWS: Final[tuple[ExpectedWorkflow, ...]] = (
    ExpectedWorkflow("jitops-check.yml", "checks approvals on pull requests", CheckStatus.ERROR),
    ExpectedWorkflow(
        "jitops-review-relay.yml", "hands review events to jitops-review.yml", CheckStatus.ERROR
    ),
    ExpectedWorkflow("jitops-review.yml", "re-checks approvals after a review", CheckStatus.ERROR),
    ExpectedWorkflow("jitops-apply.yml", "grants access when a request merges", CheckStatus.ERROR),
    ExpectedWorkflow("jitops-sweep.yml", "revokes access when it expires", CheckStatus.ERROR),
)

# `jitops init` writes the workflows; with --force it replaces those that differ.
REPLACE_IT: Final = "replace it with jitops' own (`jitops init --force` writes it)"
_PINNED_ACTION = re.compile(r"[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}")
_PINNED_IMAGE = re.compile(r"docker://[^@\s]+@sha256:[0-9a-f]{64}")
# Actions that restore or save a cache: a poisoned cache is code run in a privileged workflow.
_CACHE_ACTIONS = ("actions/cache@", "actions/cache/restore@", "actions/cache/save@")
# setup-go caches unless told not to; the other setup-* actions only when asked.
_CACHES_BY_DEFAULT = ("actions/setup-go@",)


def workflow_checks(
    root: Path, secret_variables: Sequence[str] = (), action_variables: Sequence[str] = ()
) -> list[DoctorCheck]:
    """The expected workflows are present and locked down, every step that reaches the
    targets has each of ``secret_variables`` in its environment, and ``action_variables``
    (the logins approved actions run as) only the apply steps that perform actions; one line
    per file or problem."""
    checks: list[DoctorCheck] = []
    folder = root / WORKFLOWS_DIR
    for expected in EXPECTED_WORKFLOWS:
        path = _find_workflow(folder, expected.name)
        if path is None:
            checks.append(
                DoctorCheck(
                    Area.WORKFLOWS,
                    f"{WORKFLOWS_DIR}/{expected.name}",
                    expected.missing,
                    f"missing (it {expected.purpose})",
                    "run `jitops init`: it writes the missing workflows and keeps the files "
                    "already there",
                )
            )
            continue
        name = path.relative_to(root).as_posix()
        problems = list(_workflow_problems(path, secret_variables, action_variables))
        checks += [
            DoctorCheck(Area.WORKFLOWS, name, CheckStatus.ERROR, message, fix)
            for message, fix in problems
        ] or [
            DoctorCheck(
                Area.WORKFLOWS,
                name,
                CheckStatus.OK,
                "least privilege, actions pinned by commit SHA, no persisted credentials, "
                "no caches",
            )
        ]
    return checks


def _find_workflow(folder: Path, name: str) -> Path | None:
    # GitHub runs both extensions; a workflow written as .yaml is the same workflow.
    for candidate in (name, name.removesuffix(".yml") + ".yaml"):
        if (folder / candidate).is_file():
            return folder / candidate
    return None


Problem = tuple[str, str]  # (what is wrong, how to fix it)


def _load_workflow(path: Path) -> tuple[dict[str, Any] | None, Problem | None]:
    try:
        data = path.read_bytes()
        if len(data) > MAX_WORKFLOW_BYTES:
            return None, (
                f"is {len(data)} bytes, over {MAX_WORKFLOW_BYTES}",
                f"a jitops workflow is a few kilobytes; {REPLACE_IT}",
            )
        # Workflows may use anchors (GitHub supports them), so not jitops' request loader.
        document = YAML(typ="safe").load(data.decode("utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        return None, (f"cannot be read: {exc}", "make it a readable UTF-8 text file")
    except MarkedYAMLError as exc:
        line = f"line {exc.problem_mark.line + 1}: " if exc.problem_mark else ""
        return None, (f"is not valid YAML: {line}{exc.problem or exc.context}", "fix the YAML")
    except (YAMLError, RecursionError) as exc:
        return None, (f"is not valid YAML: {exc}", "fix the YAML")
    if not isinstance(document, dict):
        return None, ("is not a workflow (not a mapping)", REPLACE_IT)
    return document, None


def _workflow_problems(
    path: Path, secret_variables: Sequence[str], action_variables: Sequence[str]
) -> Iterator[Problem]:
    workflow, problem = _load_workflow(path)
    if problem is not None or workflow is None:
        yield problem or ("cannot be read", REPLACE_IT)
        return
    if workflow.get("permissions") != {}:
        yield (
            "has no `permissions: {}` at the top, so jobs get the repository's default token "
            "permissions",
            "add `permissions: {}` at the top level and grant each job only what it needs",
        )
    jobs = workflow.get("jobs")
    if not isinstance(jobs, dict) or not jobs:
        yield "has no jobs", REPLACE_IT
        return
    for job_name, job in jobs.items():
        if not isinstance(job, dict):
            yield f"job {job_name!r} is not a mapping", REPLACE_IT
            continue
        yield from _job_problems(str(job_name), job)
        inherited = _env_names(workflow) | _env_names(job)
        yield from _secret_problems(
            str(job_name), job, inherited, secret_variables, action_variables
        )


def _job_problems(name: str, job: dict[str, Any]) -> Iterator[Problem]:
    permissions = job.get("permissions")
    if not isinstance(permissions, dict):
        what = "states no permissions" if permissions is None else f"has {permissions!r}"
        yield (
            f"job {name!r} {what}",
            f"give job {name!r} a `permissions:` mapping with only what it needs ({{}} for none)",
        )
    if "uses" in job:  # a reusable workflow
        yield from _uses_problems(name, job.get("uses"), job.get("with"))
    steps = job.get("steps", [])
    if not isinstance(steps, list):
        yield f"job {name!r}: `steps` is not a list", REPLACE_IT
        return
    for step in steps:
        if isinstance(step, dict) and "uses" in step:
            yield from _uses_problems(name, step.get("uses"), step.get("with"))


def _uses_problems(job: str, uses: object, with_: object) -> Iterator[Problem]:
    reference = str(uses)
    options = with_ if isinstance(with_, dict) else {}
    if not (
        reference.startswith("./")
        or _PINNED_ACTION.fullmatch(reference)
        or _PINNED_IMAGE.fullmatch(reference)
    ):
        yield (
            f"job {job!r}: `{reference}` is not pinned by a full commit SHA",
            f"pin it: `{reference.partition('@')[0]}@<40-hex commit SHA>  # <tag>`",
        )
    if (
        reference.startswith("actions/checkout@")
        and options.get("persist-credentials") is not False
    ):
        yield (
            f"job {job!r}: actions/checkout keeps the token in .git/config",
            "add `persist-credentials: false` under its `with:`",
        )
    if reference.startswith(_CACHE_ACTIONS):
        yield (
            f"job {job!r}: uses a cache ({reference.partition('@')[0]})",
            "remove the step: a poisoned cache would run in a privileged workflow",
        )
    cache = options.get("cache")
    caches = (
        cache not in (False, "false", "")
        if "cache" in options
        else reference.startswith(_CACHES_BY_DEFAULT)
    )
    if caches:
        yield (
            f"job {job!r}: {reference.partition('@')[0]} restores a cache",
            "set `cache: false` under its `with:` (or remove the `cache:` option)",
        )


# The jitops commands that reach the targets, so need the targets' secrets: run by a shell
# (`run: jitops apply …`) or by jitops' action (`with: command: apply …`).
_TARGET_COMMANDS = re.compile(r"\bjitops\s+(apply|sweep|reconcile)\b")


def _env_names(section: dict[str, Any]) -> set[str]:
    env = section.get("env")
    return {str(name) for name in env} if isinstance(env, dict) else set()


def _jitops_command(step: dict[str, Any]) -> str | None:
    """What the step runs, as a command line: its ``run:``, or for an action given a
    ``command`` input (jitops' action) ``jitops COMMAND``."""
    run = step.get("run")
    if isinstance(run, str):
        return run
    options = step.get("with")
    command = options.get("command") if isinstance(options, dict) else None
    return f"jitops {command}" if "uses" in step and isinstance(command, str) else None


def _secret_problems(
    job: str,
    section: dict[str, Any],
    inherited: set[str],
    variables: Sequence[str],
    action_variables: Sequence[str],
) -> Iterator[Problem]:
    """A step that runs jitops apply, sweep or reconcile without a target's secret variable
    fails on that target, at the moment it should grant or revoke: say so now. Only apply
    performs actions: sweep or reconcile holding an action login's secret is more than it
    needs."""
    steps = section.get("steps")
    for step in steps if isinstance(steps, list) else []:
        run = _jitops_command(step) if isinstance(step, dict) else None
        found = _TARGET_COMMANDS.search(run) if isinstance(run, str) else None
        if found is None:
            continue
        seen = inherited | _env_names(step)
        name = step.get("name") or found.group(0)
        performs = found.group(1) == "apply"
        needed = [*variables, *action_variables] if performs else list(variables)
        excess = [] if performs else [v for v in action_variables if v in seen]
        if excess:
            yield (
                f"job {job!r}, step {name!r}: `{found.group(0)}` has {', '.join(excess)} in "
                "its environment, the secret of the login approved actions run as, which it "
                "never uses",
                f"remove `{excess[0]}` from that step's `env:` (and the job's): only the apply "
                "steps perform actions",
            )
        missing = [v for v in needed if v not in seen]
        if missing:
            yield (
                f"job {job!r}, step {name!r}: `{found.group(0)}` runs without "
                f"{', '.join(missing)} in its environment, so it cannot reach the targets whose "
                "secrets live there",
                f"add `{missing[0]}: ${{{{ secrets.{missing[0]} }}}}` (and any other) to the "
                "step's `env:`, or let `jitops init --force` render the workflows from the "
                "policies",
            )
