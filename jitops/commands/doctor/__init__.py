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

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

from jitops.commands.doctor.checks import Area, DoctorCheck, from_finding
from jitops.commands.doctor.repository_settings import github_checks
from jitops.commands.doctor.request_index import index_check
from jitops.commands.doctor.sweep_schedule import DEFAULT_SWEEP_INTERVAL, sweep_check
from jitops.commands.doctor.workflow_files import EXPECTED_WORKFLOWS, workflow_checks
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

# Targets are checked concurrently, so one unreachable host costs its timeout once.
MAX_CHECK_THREADS: Final = 8


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
