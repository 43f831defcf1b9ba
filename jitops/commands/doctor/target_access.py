"""Doctor's ``targets`` area: each target's provisioner kind is known and its settings fit it,
the environment variables its secrets live in are set (names only, never values), and, unless
offline, the target is reachable with the least privilege jitops needs (``Provisioner.check``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final

from jitops.doctor_checks import Area, DoctorCheck, from_finding
from jitops.errors import JitopsError
from jitops.findings import Finding
from jitops.loader import Loaded
from jitops.models import Target
from jitops.provisioners import create
from jitops.provisioners._secrets import redact
from jitops.provisioners.interface import CheckResult, CheckStatus, Provisioner
from jitops.targets import target_config

# Targets are checked concurrently, so one unreachable host costs its timeout once.
MAX_CHECK_THREADS: Final = 8


def target_checks(
    targets: Sequence[Loaded],
    settings: Mapping[str, Sequence[Finding]],
    environ: Mapping[str, str],
    *,
    offline: bool,
    action_kinds: Mapping[str, frozenset[str]] | None = None,
) -> list[DoctorCheck]:
    """Each target's settings and secrets (offline), then its own ``check`` (online), and for
    a target the policies offer actions on, what its action identity holds
    (``action_kinds``: target → the statement kinds its SQL actions allow)."""
    kinds = action_kinds or {}
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
            checking = lambda t: _provisioner_checks(t, environ, kinds.get(t.name))  # noqa: E731
            for found in pool.map(checking, ready):
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


def _provisioner_checks(
    target: Target, environ: Mapping[str, str], action_kinds: frozenset[str] | None = None
) -> list[DoctorCheck]:
    """``Provisioner.check`` (and ``check_actions`` for ``action_kinds``) as doctor lines; a
    check that raises is an error, not a crash."""
    provisioner: Provisioner[Any] | None = None
    try:
        provisioner = create(target_config(target), environ)
        results = provisioner.check()
        if action_kinds is not None:
            results = [*results, *provisioner.check_actions(action_kinds)]
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
