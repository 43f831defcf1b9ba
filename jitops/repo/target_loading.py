"""Targets one by one: what a sweep may still revoke through when ``policies/`` as a whole do
not load."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

from jitops.findings import Finding, Severity
from jitops.loader import MAX_FILE_BYTES, Document, Loaded
from jitops.models import Target
from jitops.repo.files import POLICIES_DIR, POLICY_TESTS_DIR, YAML_SUFFIXES, walk
from jitops.repo.parsing import load_one, parse
from jitops.repo.policy_loading import POLICY_MODELS, PolicyLoad, load_policies, load_policies_at


@dataclass(frozen=True)
class TargetLoad:
    """The targets of ``policies/`` that load on their own, even when the policies as a whole
    do not: revoking removes access and needs no approval, so a sweep revokes through each of
    these while one broken file holds back only its own target.

    ``unloaded`` maps each target name that a broken or ambiguous definition carries to why
    it did not load; nothing about such a target is guessed. ``unnamed`` are the problems of
    files that may define a target whose name cannot be read (YAML that does not parse, a
    missing ``kind``). ``findings`` are every problem of ``policies/``, as ``jitops validate``
    reports them.
    """

    targets: Mapping[str, Target]
    unloaded: Mapping[str, tuple[Finding, ...]]
    unnamed: tuple[Finding, ...]
    findings: tuple[Finding, ...]


_Parsed = tuple[str, Document | None, BaseModel | None, list[Finding]]


def load_targets(root: Path) -> TargetLoad:
    """The targets of the work tree's ``policies/`` that load on their own (``TargetLoad``)."""
    policies = load_policies(root)
    if policies.policy_set is not None or not (root / POLICIES_DIR).is_dir():
        return _whole(policies)
    paths, _ = walk(root, POLICIES_DIR, skip=POLICY_TESTS_DIR)
    parsed = [(path, *load_one(root, path, POLICY_MODELS, "policies/")) for path in paths]
    return _targets_one_by_one(parsed, policies.findings)


def load_targets_at(root: Path, ref: str) -> TargetLoad:
    """``load_targets`` for the policies as they were at commit ``ref``, read from git."""
    from jitops import git

    policies = load_policies_at(root, ref)
    if policies.policy_set is not None:
        return _whole(policies)
    tree = git.files_at(root, ref, POLICIES_DIR, max_bytes=MAX_FILE_BYTES)
    parsed: list[_Parsed] = [
        (
            path,
            None,
            None,
            [Finding(path, Severity.ERROR, f"file is {size:,} bytes, over the limit")],
        )
        for path, size in sorted(tree.oversized.items())
    ]
    parsed += [
        (path, *parse(raw, path, POLICY_MODELS, "policies/"))
        for path, raw in sorted(tree.contents.items())
        if not path.startswith(POLICY_TESTS_DIR + "/") and path.endswith(YAML_SUFFIXES)
    ]
    return _targets_one_by_one(parsed, policies.findings)


def _whole(policies: PolicyLoad) -> TargetLoad:
    targets = policies.policy_set.targets if policies.policy_set is not None else {}
    return TargetLoad(targets, {}, (), policies.findings)


def _targets_one_by_one(parsed: Iterable[_Parsed], findings: Sequence[Finding]) -> TargetLoad:
    from jitops.targets import settings_findings  # imports the provisioner registry

    defined: dict[str, list[Loaded]] = {}
    unloaded: dict[str, list[Finding]] = {}
    unnamed: list[Finding] = []
    for path, document, model, problems in parsed:
        if isinstance(model, Target) and document is not None:
            item = Loaded(path, document.text, model)
            defined.setdefault(model.name, []).append(item)
            if wrong := settings_findings([item]):
                unloaded.setdefault(model.name, []).extend(wrong)
        elif model is None and problems:
            data = document.data if document is not None else {}
            name = data.get("name")
            if data.get("kind") == "Target" and isinstance(name, str):
                unloaded.setdefault(name, []).extend(problems)
            elif data.get("kind") not in POLICY_MODELS:
                unnamed.extend(problems)  # its kind is unknown, so it may define any target
    for name, items in defined.items():
        if len(items) > 1:  # which definition is meant is not ours to guess
            unloaded.setdefault(name, []).append(
                Finding(
                    items[1].path,
                    Severity.ERROR,
                    f"target {name!r} is also defined in {items[0].path}",
                    "keep one definition",
                    *items[1].locate("name"),
                )
            )
    targets = {name: items[0].model for name, items in defined.items() if name not in unloaded}
    return TargetLoad(
        targets,
        {name: tuple(problems) for name, problems in unloaded.items()},
        tuple(unnamed),
        tuple(findings),
    )
