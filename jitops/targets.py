"""The bridge between ``Target`` documents and provisioners.

``jitops.models.Target`` is what a file says; ``jitops.provisioners.interface.TargetConfig`` is
what a provisioner is built from. This module converts one into the other, and checks a
target's settings against its provisioner kind offline (no network, no secrets), turning each
wrong field into a finding with its file and line.
"""

from __future__ import annotations

from collections.abc import Iterable

from jitops.errors import JitopsError
from jitops.findings import Finding, Severity
from jitops.loader import Loaded, locate
from jitops.models import Policy, Target
from jitops.provisioners import known_kinds, load_kind
from jitops.provisioners.interface import SettingsError, TargetConfig


def target_config(target: Target) -> TargetConfig:
    return TargetConfig(
        name=target.name,
        kind=target.provisioner,
        settings=dict(target.settings),
        secrets=dict(target.secrets),
        roles=tuple(target.roles),
    )


def settings_findings(files: Iterable[Loaded]) -> list[Finding]:
    """Every target whose provisioner kind is unknown or whose settings do not fit it."""
    findings: list[Finding] = []
    for item in files:
        target = item.model
        if not isinstance(target, Target):
            continue
        try:
            kind = load_kind(target.provisioner)
        except JitopsError:
            line, column = item.locate("provisioner")
            findings.append(
                Finding(
                    item.path,
                    Severity.ERROR,
                    f"unknown provisioner {target.provisioner!r}",
                    f"use one of: {', '.join(known_kinds())}",
                    line,
                    column,
                )
            )
            continue
        try:
            kind.validate_target(target_config(target))
        except SettingsError as exc:
            known = ", ".join(kind.settings_model.model_fields)
            for problem in exc.problems:
                message, _, hint = problem.message.partition(" — ")
                extra = message == "Extra inputs are not permitted"
                line, column = locate(item.text, problem.loc, at_key=extra)
                if extra:
                    message = f"not a setting of the {target.provisioner} provisioner"
                    hint = f"remove it or fix its spelling (settings: {known})"
                where = ".".join(str(part) for part in problem.loc)
                findings.append(
                    Finding(
                        item.path,
                        Severity.ERROR,
                        f"`{where}`: {message}"
                        if where and not message.startswith(f"`{where}`")
                        else message,
                        hint or None,
                        line,
                        column,
                    )
                )
    return findings


def action_findings(files: Iterable[Loaded]) -> list[Finding]:
    """Every action a policy offers on a target whose provisioner cannot perform it (a SQL
    action needs a kind that runs SQL, ``postgres``; a command action one that runs commands,
    ``exec``)."""
    loaded = list(files)
    kinds = {f.model.name: f.model.provisioner for f in loaded if isinstance(f.model, Target)}
    findings: list[Finding] = []
    for item in loaded:
        policy = item.model
        if not isinstance(policy, Policy):
            continue
        for name, rule in policy.actions.items():
            for target in policy.targets:
                provisioner = kinds.get(target)
                try:
                    performs = load_kind(provisioner).performs if provisioner else None
                except JitopsError:
                    continue  # an unknown kind is its target's own error
                if performs is None or rule.kind in performs:
                    continue
                line, column = item.locate("actions", name)
                findings.append(
                    Finding(
                        item.path,
                        Severity.ERROR,
                        f"action {name!r} is a {rule.kind} action, but target {target} "
                        f"({provisioner}) performs "
                        + (", ".join(sorted(performs)) + " actions" if performs else "no actions"),
                        "offer it on a target that can perform it (sql: postgres; command: "
                        "exec), or remove it",
                        line,
                        column,
                    )
                )
    return findings
