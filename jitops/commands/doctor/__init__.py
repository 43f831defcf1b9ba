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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from jitops.commands.doctor.checks import Area, DoctorCheck, from_finding
from jitops.commands.doctor.repository_settings import github_checks
from jitops.commands.doctor.request_index import index_check
from jitops.commands.doctor.sweep_schedule import DEFAULT_SWEEP_INTERVAL, sweep_check
from jitops.commands.doctor.target_access import target_checks
from jitops.commands.doctor.workflow_files import EXPECTED_WORKFLOWS, workflow_checks
from jitops.errors import ExitCode, UsageError
from jitops.findings import Finding
from jitops.models import Target
from jitops.owners import codeowners_findings
from jitops.provisioners.interface import CheckStatus
from jitops.repo import load_policies
from jitops.targets import settings_findings
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
