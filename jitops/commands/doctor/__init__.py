"""``jitops doctor``: check an access repository's set-up against what jitops needs.

Each check says what it found and, when something is wrong, how to fix it. The checks are
grouped by area, in the order a platform team would fix them; each area is a module of this
package, whose docstring says what it checks (``jitops.doctor_checks`` holds the types they share):

- ``policies`` and ``codeowners`` (``policy_files``): the files under ``policies/`` load, and
  ``.github/CODEOWNERS`` is what they render;
- ``targets`` (``target_access``): each target's settings and secret variables, and, unless
  offline, its own ``Provisioner.check``;
- ``workflows`` (``workflow_files``): the jitops workflows exist and are locked down, and the
  steps that reach the targets have their secrets;
- ``github`` (``repository_settings``): unless offline, the repository's settings on GitHub
  (auto-merge, the ``jitops/approval`` status check and reviews the default branch requires,
  where the org-reading token lives);
- ``index`` (``request_index``): the request-id index covers the branch, from local git only;
- ``sweep`` (``sweep_schedule``): the last successful sweep is recent.

``run_doctor`` prints nothing and never exits: it returns a ``DoctorReport`` the CLI renders.
An error fails the run; a warning does not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from jitops.commands.doctor.policy_files import codeowners_checks, policy_checks
from jitops.commands.doctor.repository_settings import github_checks
from jitops.commands.doctor.request_index import index_check
from jitops.commands.doctor.target_access import target_checks
from jitops.commands.doctor.workflow_files import EXPECTED_WORKFLOWS, workflow_checks
from jitops.doctor_checks import Area, DoctorCheck
from jitops.errors import ExitCode, UsageError
from jitops.models import Notify, Policy, Target
from jitops.provisioners.interface import CheckStatus
from jitops.repo import load_policies
from jitops.sweep_record import DEFAULT_SWEEP_INTERVAL, sweep_check
from jitops.targets import settings_findings
from jitops.templates import action_variables, secret_variables

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
    # Told before each part that talks to a target or to GitHub (each may take seconds).
    progress: Callable[[str], None] = field(default=lambda _text: None)


def run_doctor(options: DoctorOptions) -> DoctorReport:
    root = options.root
    if not root.is_dir():
        raise UsageError(f"{root}: no such directory")
    policies = load_policies(root)
    targets = [item for item in policies.files if isinstance(item.model, Target)]
    settings = {item.path: settings_findings([item]) for item in targets}
    # load_policies may report a target's settings itself; they are shown under the target.
    shown_with_targets = {finding for found in settings.values() for finding in found}
    checks = policy_checks(
        [f for f in policies.findings if f not in shown_with_targets],
        len(policies.files),
        loaded=policies.policy_set is not None,
    )
    checks += codeowners_checks(root, policies.policy_set)
    if targets and not options.offline:
        options.progress(f"connecting to {len(targets)} target(s) to check their privileges…")
    checks += target_checks(
        targets, settings, options.environ, offline=options.offline,
        action_kinds=sql_action_kinds(item.model for item in policies.files),
    )  # fmt: skip
    channels = [item.model for item in policies.files if isinstance(item.model, Notify)]
    models = [t.model for t in targets]
    checks += workflow_checks(root, secret_variables(models, channels), action_variables(models))
    if not options.offline:
        options.progress("asking GitHub for the repository's settings, rules and secrets…")
        checks += github_checks(root, options.environ)
    checks.append(index_check(root, options.branch))
    checks.append(sweep_check(options.last_sweep, options.sweep_interval, options.now))
    return DoctorReport(tuple(checks), options.offline)


def sql_action_kinds(models: Iterable[object]) -> dict[str, frozenset[str]]:
    """Target → every statement kind the policies' SQL actions on it allow."""
    kinds: dict[str, set[str]] = {}
    for policy in models:
        if not isinstance(policy, Policy):
            continue
        for rule in policy.actions.values():
            if rule.sql is None:
                continue
            for target in policy.targets:
                kinds.setdefault(target, set()).update(rule.sql.allow)
    return {target: frozenset(found) for target, found in kinds.items()}
