"""Provisioners: one module per kind of target, all behind ``interface.Provisioner``.

The built-in kinds are listed in one explicit mapping and imported only when used, so loading
jitops (``jitops --help``) never imports a database driver or a cloud SDK. Other packages add
kinds through the ``jitops.provisioners`` entry-point group, for example in their pyproject::

    [project.entry-points."jitops.provisioners"]
    vault = "jitops_vault:VaultProvisioner"

A built-in kind cannot be replaced by an entry point of the same name: installing a package must
never silently change how an existing target is provisioned.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Final

from jitops.provisioners.interface import Provisioner, ProvisionerError, TargetConfig

__all__ = ["BUILTIN_KINDS", "ENTRY_POINT_GROUP", "create", "known_kinds", "load_kind"]

ENTRY_POINT_GROUP: Final = "jitops.provisioners"

BUILTIN_KINDS: Final[Mapping[str, str]] = {
    "aws": "jitops.provisioners.aws:AwsProvisioner",
    "exec": "jitops.provisioners.exec:ExecProvisioner",
    "github-team": "jitops.provisioners.github_team:GitHubTeamProvisioner",
    "postgres": "jitops.provisioners.postgres:PostgresProvisioner",
}

ProvisionerClass = type[Provisioner[Any]]


def _plugins() -> dict[str, EntryPoint]:
    return {
        entry.name: entry
        for entry in entry_points(group=ENTRY_POINT_GROUP)
        if entry.name not in BUILTIN_KINDS
    }


def known_kinds() -> list[str]:
    """Every kind that can be used: the built-ins and those installed packages provide."""
    return sorted({*BUILTIN_KINDS, *_plugins()})


def load_kind(kind: str) -> ProvisionerClass:
    """The provisioner class of ``kind``; a clear error lists the known kinds if it is unknown."""
    if kind in BUILTIN_KINDS:
        module_name, _, attribute = BUILTIN_KINDS[kind].partition(":")
        loaded: object = getattr(importlib.import_module(module_name), attribute)
        origin = f"built-in kind {kind!r}"
    else:
        plugin = _plugins().get(kind)
        if plugin is None:
            raise ProvisionerError(
                f"unknown provisioner kind {kind!r}; known kinds: {', '.join(known_kinds())} "
                f"(a package can add kinds through the {ENTRY_POINT_GROUP!r} entry-point group)"
            )
        origin = f"entry point {plugin.value!r} (kind {kind!r})"
        try:
            loaded = plugin.load()
        except Exception as exc:  # a broken plugin is a set-up problem to report, not a crash
            raise ProvisionerError(f"cannot load {origin}: {type(exc).__name__}: {exc}") from exc
    if not (isinstance(loaded, type) and issubclass(loaded, Provisioner)):
        raise ProvisionerError(f"{origin} is not a subclass of jitops' Provisioner")
    return loaded


def create(target: TargetConfig, environ: Mapping[str, str] | None = None) -> Provisioner[Any]:
    """The provisioner for ``target``, its settings validated (``SettingsError`` if wrong)."""
    return load_kind(target.kind)(target, environ)
