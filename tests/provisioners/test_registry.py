"""The provisioner registry: built-in kinds imported lazily, third-party kinds by entry point."""

from __future__ import annotations

import sys
from importlib.metadata import EntryPoint
from typing import Any

import pytest

import jitops.provisioners as registry
from jitops.provisioners.exec import ExecProvisioner
from jitops.provisioners.interface import ProvisionerError, TargetConfig
from tests.fixtures.imports import imported


def test_builtin_kinds_load_to_provisioner_classes() -> None:
    for kind in registry.BUILTIN_KINDS:
        cls = registry.load_kind(kind)
        assert cls.kind == kind


def test_unknown_kind_lists_the_known_ones() -> None:
    with pytest.raises(ProvisionerError) as caught:
        registry.load_kind("mainframe")
    assert "'mainframe'" in caught.value.message
    for kind in registry.BUILTIN_KINDS:
        assert kind in caught.value.message


def test_create_validates_the_target() -> None:
    target = TargetConfig("legacy", "exec", {"command": [sys.executable]})
    assert isinstance(registry.create(target, environ={}), ExecProvisioner)


def test_loading_jitops_imports_no_driver() -> None:
    code = (
        "import jitops.cli, jitops.provisioners as r; "
        "[r.load_kind(kind) for kind in r.BUILTIN_KINDS]"
    )
    assert imported(code, ("psycopg", "boto3", "botocore", "github")) == []


def _fake_entry_points(entries: list[EntryPoint]) -> Any:
    def entry_points(*, group: str) -> list[EntryPoint]:
        return [e for e in entries if e.group == group]

    return entry_points


def test_entry_point_kinds_are_discovered(monkeypatch: pytest.MonkeyPatch) -> None:
    entries = [
        EntryPoint(
            "legacy", "jitops.provisioners.exec:ExecProvisioner", registry.ENTRY_POINT_GROUP
        ),
        # A plugin cannot take over a built-in kind.
        EntryPoint("exec", "jitops.errors:ExitCode", registry.ENTRY_POINT_GROUP),
        EntryPoint("notaclass", "jitops.errors:ExitCode", registry.ENTRY_POINT_GROUP),
        EntryPoint("broken", "jitops.no_such_module:X", registry.ENTRY_POINT_GROUP),
    ]
    monkeypatch.setattr(registry, "entry_points", _fake_entry_points(entries))
    assert "legacy" in registry.known_kinds()
    assert registry.load_kind("legacy") is ExecProvisioner
    assert registry.load_kind("exec") is ExecProvisioner
    with pytest.raises(ProvisionerError, match="not a subclass"):
        registry.load_kind("notaclass")
    with pytest.raises(ProvisionerError, match="cannot load"):
        registry.load_kind("broken")
