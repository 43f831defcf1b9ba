"""``jitops doctor``: check an access repository's set-up against what jitops needs.

Each check says what it found and, when something is wrong, how to fix it. The checks are
grouped by area, in the order a platform team would fix them:

- ``policies``: the files under ``policies/`` load (``load_policies``' own findings);
- ``codeowners``: ``.github/CODEOWNERS`` is what the policies render (validate's rule);
- ``targets``: each target's provisioner kind is known and its settings fit it, the
  environment variables its secrets live in are set (names only, never values), and, unless
  offline, the target is reachable with the least privilege jitops needs
  (``Provisioner.check``);
- ``workflows``: the jitops workflows exist and are locked down: ``permissions: {}`` at the
  top, permissions per job, every action pinned by a full commit SHA, checkouts without
  persisted credentials, no caches; and every step running ``jitops apply``, ``sweep`` or
  ``reconcile`` has each target's secret variable in its environment;
- ``github``: unless offline, and given a token (``GITHUB_TOKEN``) and the repository
  (``GITHUB_REPOSITORY``, else the ``origin`` remote), the repository's settings on GitHub
  (``GITHUB_API_URL``): "Allow auto-merge" is on, for the sweep's revocation pull requests, and
  the default branch's protection (classic branch protection or a ruleset) requires the
  ``jitops/approval`` status check;
- ``index``: the request-id index (``refs/jitops/ids``) is here and covers the branch, from
  what git has locally: a read of one blob, an ancestor test and a count of the commits after
  the one it covers — never the full-history rebuild of ``jitops index --check``;
- ``sweep``: the last successful sweep is recent (``jitops sweep --record`` notes its time).

``run_doctor`` prints nothing and never exits: it returns a ``DoctorReport`` the CLI renders.
An error fails the run; a warning does not.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from jitops.commands.doctor.checks import WORKFLOWS_DIR, Area, DoctorCheck, from_finding
from jitops.commands.doctor.repository_settings import github_checks
from jitops.commands.doctor.request_index import index_check
from jitops.commands.doctor.sweep_schedule import DEFAULT_SWEEP_INTERVAL, sweep_check
from jitops.errors import ExitCode, JitopsError, UsageError
from jitops.findings import Finding
from jitops.loader import Loaded
from jitops.models import Target
from jitops.owners import codeowners_findings
from jitops.provisioners import create
from jitops.provisioners._secrets import redact
from jitops.provisioners.interface import CheckResult, CheckStatus, Provisioner
from jitops.repo import load_policies
from jitops.targets import settings_findings, target_config
from jitops.templates import secret_variables

# What callers import from here: the public face, whatever module each name lives in.
__all__ = [
    "DEFAULT_SWEEP_INTERVAL",
    "EXPECTED_WORKFLOWS",
    "Area",
    "CheckStatus",
    "DoctorCheck",
    "DoctorOptions",
    "DoctorReport",
    "github_checks",
    "index_check",
    "run_doctor",
    "sweep_check",
    "target_checks",
    "workflow_checks",
]

# Workflow files are small; anything far bigger is not one of ours.
MAX_WORKFLOW_BYTES: Final = 256 * 1024
# Targets are checked concurrently, so one unreachable host costs its timeout once.
MAX_CHECK_THREADS: Final = 8


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


@dataclass(frozen=True)
class DoctorReport:
    checks: tuple[DoctorCheck, ...]
    offline: bool

    def count(self, status: CheckStatus) -> int:
        return sum(check.status is status for check in self.checks)

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.DENIED if self.count(CheckStatus.ERROR) else ExitCode.OK


@dataclass(frozen=True)
class DoctorOptions:
    root: Path
    now: datetime
    environ: Mapping[str, str] = field(default_factory=dict)
    offline: bool = False
    branch: str = "HEAD"  # the branch that grants, whose history the request-id index covers
    # The hook for the sweeper: when it is built, the time of its last successful run.
    last_sweep: datetime | None = None
    sweep_interval: timedelta = DEFAULT_SWEEP_INTERVAL


def run_doctor(options: DoctorOptions) -> DoctorReport:
    root = options.root
    if not root.is_dir():
        raise UsageError(f"{root}: no such directory")
    policies = load_policies(root)
    targets = [item for item in policies.files if isinstance(item.model, Target)]
    settings = {item.path: settings_findings([item]) for item in targets}
    # load_policies may report a target's settings itself; they are shown under the target.
    shown_with_targets = {finding for found in settings.values() for finding in found}
    checks = _policy_checks(
        [f for f in policies.findings if f not in shown_with_targets],
        len(policies.files),
        loaded=policies.policy_set is not None,
    )
    if policies.policy_set is None:
        checks.append(
            DoctorCheck(
                Area.CODEOWNERS,
                "CODEOWNERS",
                CheckStatus.WARNING,
                "not checked, because the policies have errors",
                "fix the errors in policies/ first",
            )
        )
    else:
        found = codeowners_findings(root, policies.policy_set)
        checks += [from_finding(Area.CODEOWNERS, f) for f in found] or [
            DoctorCheck(Area.CODEOWNERS, "CODEOWNERS", CheckStatus.OK, "in sync with the policies")
        ]
    checks += target_checks(targets, settings, options.environ, offline=options.offline)
    checks += workflow_checks(root, secret_variables(item.model for item in targets))
    if not options.offline:
        checks += github_checks(root, options.environ)
    checks.append(index_check(root, options.branch))
    checks.append(sweep_check(options.last_sweep, options.sweep_interval, options.now))
    return DoctorReport(tuple(checks), options.offline)


# -- policies and CODEOWNERS ----------------------------------------------------------------


def _policy_checks(findings: Sequence[Finding], files: int, *, loaded: bool) -> list[DoctorCheck]:
    checks = []
    if loaded:
        checks.append(
            DoctorCheck(Area.POLICIES, "policies/", CheckStatus.OK, f"{files} policy file(s) load")
        )
    checks += [from_finding(Area.POLICIES, f) for f in findings]
    return checks


# -- targets --------------------------------------------------------------------------------


def target_checks(
    targets: Sequence[Loaded],
    settings: Mapping[str, Sequence[Finding]],
    environ: Mapping[str, str],
    *,
    offline: bool,
) -> list[DoctorCheck]:
    """Each target's settings and secrets (offline), then its own ``check`` (online)."""
    if not targets:
        return [
            DoctorCheck(
                Area.TARGETS,
                "policies/",
                CheckStatus.WARNING,
                "no Target is defined, so there is nothing to grant access to",
                "add a `kind: Target` document under policies/",
            )
        ]
    checks: list[DoctorCheck] = []
    ready: list[Target] = []
    for item in targets:
        target: Target = item.model
        problems = settings.get(item.path, ())
        checks += [from_finding(Area.TARGETS, f) for f in problems] or [
            DoctorCheck(
                Area.TARGETS,
                f"{target.name}/settings",
                CheckStatus.OK,
                f"{target.provisioner} settings are valid",
            )
        ]
        secrets = _secret_checks(target, environ, offline=offline)
        checks += secrets
        if not problems and all(check.status is CheckStatus.OK for check in secrets):
            ready.append(target)
    if not offline and ready:
        with ThreadPoolExecutor(max_workers=min(MAX_CHECK_THREADS, len(ready))) as pool:
            for found in pool.map(lambda t: _provisioner_checks(t, environ), ready):
                checks += found
    return checks


def _secret_checks(
    target: Target, environ: Mapping[str, str], *, offline: bool
) -> list[DoctorCheck]:
    # Offline is how doctor runs on a laptop, where Actions secrets are not set: worth saying,
    # not a failure. Online, a missing secret means the target cannot even be checked.
    if offline:
        missing, then = CheckStatus.WARNING, ""
    else:
        missing, then = CheckStatus.ERROR, ", then run `jitops doctor` again to check the target"
    return [
        DoctorCheck(
            Area.TARGETS,
            f"{target.name}/secrets",
            CheckStatus.OK,
            f"environment variable {variable} (secret {name!r}) is set",
        )
        if environ.get(variable)
        else DoctorCheck(
            Area.TARGETS,
            f"{target.name}/secrets",
            missing,
            f"environment variable {variable} (secret {name!r}) is not set here",
            f"set {variable} where jitops runs (in workflows, from a GitHub Actions secret){then}",
        )
        for name, variable in sorted(target.secrets.items())
    ]


def _provisioner_checks(target: Target, environ: Mapping[str, str]) -> list[DoctorCheck]:
    """``Provisioner.check`` as doctor lines; a check that raises is an error, not a crash."""
    provisioner: Provisioner[Any] | None = None
    try:
        provisioner = create(target_config(target), environ)
        results = provisioner.check()
    except Exception as exc:  # a third-party provisioner may raise anything
        # Provisioner messages are redacted already; redacting again costs nothing and also
        # covers exceptions that did not come through ``Provisioner.error``.
        text = exc.message if isinstance(exc, JitopsError) else f"{type(exc).__name__}: {exc}"
        hide = provisioner.redact if provisioner is not None else _redact_values(target, environ)
        return [
            DoctorCheck(
                Area.TARGETS,
                f"{target.name}/check",
                CheckStatus.ERROR,
                f"checking the target failed: {hide(text)}",
                "fix the cause above; if it is not a set-up problem, report it as a bug",
            )
        ]
    if not results:
        return [
            DoctorCheck(
                Area.TARGETS,
                f"{target.name}/check",
                CheckStatus.OK,
                "the provisioner found no problem",
            )
        ]
    return [_from_result(target.name, result, provisioner.redact) for result in results]


def _from_result(target: str, result: CheckResult, hide: Callable[[str], str]) -> DoctorCheck:
    return DoctorCheck(
        Area.TARGETS,
        f"{target}/{result.check}",
        result.status,
        hide(result.message),
        None if result.fix is None else hide(result.fix),
    )


def _redact_values(target: Target, environ: Mapping[str, str]) -> Callable[[str], str]:
    values = [environ.get(variable, "") for variable in target.secrets.values()]
    return lambda text: redact(text, [v for v in values if v])


# -- workflows ------------------------------------------------------------------------------

# `jitops init` writes the workflows; with --force it replaces those that differ.
REPLACE_IT: Final = "replace it with jitops' own (`jitops init --force` writes it)"
_PINNED_ACTION = re.compile(r"[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}")
_PINNED_IMAGE = re.compile(r"docker://[^@\s]+@sha256:[0-9a-f]{64}")
# Actions that restore or save a cache: a poisoned cache is code run in a privileged workflow.
_CACHE_ACTIONS = ("actions/cache@", "actions/cache/restore@", "actions/cache/save@")
# setup-go caches unless told not to; the other setup-* actions only when asked.
_CACHES_BY_DEFAULT = ("actions/setup-go@",)


def workflow_checks(root: Path, secret_variables: Sequence[str] = ()) -> list[DoctorCheck]:
    """The expected workflows are present and locked down, and every step that reaches the
    targets has each of ``secret_variables`` in its environment; one line per file or problem.
    """
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
        problems = list(_workflow_problems(path, secret_variables))
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


def _workflow_problems(path: Path, secret_variables: Sequence[str]) -> Iterator[Problem]:
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
        yield from _secret_problems(
            str(job_name), job, _env_names(workflow) | _env_names(job), secret_variables
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


# The jitops commands that reach the targets, so need the targets' secrets.
_TARGET_COMMANDS = re.compile(r"\bjitops\s+(apply|sweep|reconcile)\b")


def _env_names(section: dict[str, Any]) -> set[str]:
    env = section.get("env")
    return {str(name) for name in env} if isinstance(env, dict) else set()


def _secret_problems(
    job: str, section: dict[str, Any], inherited: set[str], variables: Sequence[str]
) -> Iterator[Problem]:
    """A step that runs jitops apply, sweep or reconcile without a target's secret variable
    fails on that target, at the moment it should grant or revoke: say so now."""
    steps = section.get("steps")
    for step in steps if isinstance(steps, list) else []:
        run = step.get("run") if isinstance(step, dict) else None
        found = _TARGET_COMMANDS.search(run) if isinstance(run, str) else None
        if found is None:
            continue
        missing = [v for v in variables if v not in inherited | _env_names(step)]
        if missing:
            name = step.get("name") or found.group(0)
            yield (
                f"job {job!r}, step {name!r}: `{found.group(0)}` runs without "
                f"{', '.join(missing)} in its environment, so it cannot reach the targets whose "
                "secrets live there",
                f"add `{missing[0]}: ${{{{ secrets.{missing[0]} }}}}` (and any other) to the "
                "step's `env:`, or let `jitops init --force` render the workflows from the "
                "policies",
            )
