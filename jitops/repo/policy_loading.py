"""``policies/`` from a work tree or a commit: every file validated, the rules that span files
(names unique, references resolve, one policy per target and role), and the ``PolicySet``
built only when nothing is broken (fail closed)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

from jitops.findings import Finding, Severity
from jitops.loader import MAX_FILE_BYTES, Loaded
from jitops.models import Notify, Policy, PolicyChangeRule, PolicyTest, Target
from jitops.parallel import map_chunks
from jitops.policy import PolicySet
from jitops.repo.files import (
    IGNORED_NAMES,
    LINK_REFUSED,
    POLICIES_DIR,
    POLICY_TESTS_DIR,
    YAML_SUFFIXES,
    not_yaml,
    walk,
)
from jitops.repo.parsing import load_one, parse

POLICY_MODELS: dict[str, type[BaseModel]] = {
    "Policy": Policy,
    "Target": Target,
    "PolicyChangeRule": PolicyChangeRule,
    "Notify": Notify,
}
POLICY_TEST_MODELS: dict[str, type[BaseModel]] = {"PolicyTest": PolicyTest}


@dataclass(frozen=True)
class PolicyLoad:
    """The policies of a repository; ``policy_set`` is None when they cannot be trusted."""

    policy_set: PolicySet | None
    files: tuple[Loaded, ...]
    findings: tuple[Finding, ...]


def _load_policy_chunk(root: Path, paths: Sequence[str]) -> list[Loaded | list[Finding]]:
    results: list[Loaded | list[Finding]] = []
    for path in paths:
        document, model, findings = load_one(root, path, POLICY_MODELS, "policies/")
        if model is not None and document is not None:
            results.append(Loaded(path, document.text, model))
        else:
            results.append(findings)
    return results


def load_policies(root: Path, *, parallel: bool = True) -> PolicyLoad:
    """Load ``policies/``; the set is None (fail closed) when any policy file is broken.

    A large ``policies/`` is read on all cores unless ``parallel`` is false (the caller keeps
    the other cores busy, or runs threads that must not see a fork).
    """
    if not (root / POLICIES_DIR).is_dir():
        return PolicyLoad(
            None,
            (),
            (
                Finding(
                    POLICIES_DIR,
                    Severity.ERROR,
                    "no policies/ folder here",
                    "run jitops at the root of an access repository, or pass --repo",
                ),
            ),
        )
    paths, findings = walk(root, POLICIES_DIR, skip=POLICY_TESTS_DIR)
    loaded = (
        map_chunks(_load_policy_chunk, root, paths) if parallel else _load_policy_chunk(root, paths)
    )
    return _policy_load(loaded, findings)


def load_policies_at(root: Path, ref: str) -> PolicyLoad:
    """The policies as they were at commit ``ref``, read from git (the work tree untouched),
    with the same answer ``load_policies`` gives for a checkout of ``ref``: the same files
    read (none under a hidden folder or ``policies/tests/``) and the same ones refused (a file
    that is not YAML, a symbolic link)."""
    from jitops import git

    tree = git.files_at(root, ref, POLICIES_DIR, max_bytes=MAX_FILE_BYTES)
    findings = [
        Finding(path, Severity.ERROR, f"file is {size:,} bytes, over the limit")
        for path, size in tree.oversized.items()
    ]
    results: list[Loaded | list[Finding]] = []
    entries = [(path, tree.contents.get(path)) for path in sorted({*tree.contents, *tree.links})]
    for path, raw in entries:
        if not _read_as_in_a_checkout(path):
            continue
        if raw is None:  # a link, to a file or a folder: refused, as in a checkout
            findings.append(Finding(path, Severity.ERROR, LINK_REFUSED))
        elif not path.endswith(YAML_SUFFIXES):
            findings.append(not_yaml(path, POLICIES_DIR))
        else:
            document, model, problems = parse(raw, path, POLICY_MODELS, "policies/")
            results.append(Loaded(path, document.text, model) if model and document else problems)
    if not results and not findings:
        findings.append(Finding(POLICIES_DIR, Severity.ERROR, f"no policies at {ref[:7]}"))
    return _policy_load(results, findings)


def _read_as_in_a_checkout(path: str) -> bool:
    """Whether ``load_policies`` would look at this file of ``policies/`` in a checkout: not in
    a hidden folder, not a policy test, not a name that is let be (README, .gitkeep)."""
    folders, _, name = path.rpartition("/")
    if any(part.startswith(".") for part in folders.split("/")[1:]):
        return False
    if path.startswith(POLICY_TESTS_DIR + "/"):
        return False
    return name.endswith(YAML_SUFFIXES) or not name.startswith(IGNORED_NAMES)


def _policy_load(results: Iterable[Loaded | list[Finding]], findings: list[Finding]) -> PolicyLoad:
    files: list[Loaded] = []
    for result in results:
        if isinstance(result, Loaded):
            files.append(result)
        else:
            findings.extend(result)
    # with a file unreadable, coverage warnings would only echo that error
    findings.extend(cross_check_policies(files, complete=not findings))
    from jitops.targets import action_findings, settings_findings  # the provisioner registry

    findings.extend(settings_findings(files))
    findings.extend(action_findings(files))
    broken = any(f.severity is not Severity.WARNING for f in findings)
    policy_set = None if broken else build_policy_set(files)
    return PolicyLoad(policy_set, tuple(files), tuple(findings))


def build_policy_set(files: Iterable[Loaded]) -> PolicySet:
    models = [f.model for f in files]
    rules = [m for m in models if isinstance(m, PolicyChangeRule)]
    return PolicySet.build(
        policies=[m for m in models if isinstance(m, Policy)],
        targets=[m for m in models if isinstance(m, Target)],
        policy_change_rule=rules[0] if rules else None,
        notify=[m for m in models if isinstance(m, Notify)],
    )


def _error(item: Loaded, message: str, hint: str | None, *loc: str | int) -> Finding:
    line, column = item.locate(*loc)
    return Finding(item.path, Severity.ERROR, message, hint, line, column)


def _defined_once(
    seen: dict[str, Loaded], item: Loaded, name: str, kind: str, hint: str
) -> list[Finding]:
    """Record ``item`` as the definition of ``name`` unless an earlier file holds it (then a
    finding on this one's ``name``)."""
    first = seen.setdefault(name, item)
    if first is item:
        return []
    return [_error(item, f"{kind} {name!r} is also defined in {first.path}", hint, "name")]


def cross_check_policies(files: Sequence[Loaded], *, complete: bool = True) -> list[Finding]:
    """Rules that span files: names unique, references resolve, one policy per target/role."""
    findings: list[Finding] = []
    targets: dict[str, Loaded] = {}
    policies: dict[str, Loaded] = {}
    rules: list[Loaded] = []
    channels: dict[str, Loaded] = {}
    for item in files:
        model = item.model
        if isinstance(model, Target):
            findings.extend(
                _defined_once(targets, item, model.name, "target", "keep one definition")
            )
        elif isinstance(model, Policy):
            findings.extend(
                _defined_once(policies, item, model.name, "policy", "give each policy its own name")
            )
        elif isinstance(model, PolicyChangeRule):
            rules.append(item)
        elif isinstance(model, Notify):
            findings.extend(
                _defined_once(channels, item, model.name, "Notify", "give each its own name")
            )
    if not rules:
        findings.append(
            Finding(
                POLICIES_DIR,
                Severity.ERROR,
                "no PolicyChangeRule: changes to policies would have no approval rule",
                "add policies/policy-changes.yaml with `kind: PolicyChangeRule` and its approvals",
            )
        )
    findings.extend(
        _error(
            item,
            f"a second PolicyChangeRule (the first is in {rules[0].path})",
            "keep exactly one",
            "kind",
        )
        for item in rules[1:]
    )
    governed: dict[tuple[str, str], Loaded] = {}
    offered_actions: dict[tuple[str, str], Loaded] = {}
    for item in policies.values():
        policy: Policy = item.model
        for t_index, target_name in enumerate(policy.targets):
            target_item = targets.get(target_name)
            if target_item is None and not complete:
                continue  # it may be the broken file's target: its own error says what is wrong
            if target_item is None:
                findings.append(
                    _error(
                        item,
                        f"policy {policy.name} names unknown target {target_name!r}",
                        f"define it (kind: Target) or use one of: "
                        f"{', '.join(sorted(targets)) or 'none defined'}",
                        "targets",
                        t_index,
                    )
                )
                continue
            offered = target_item.model.roles
            for role in policy.roles:
                if role not in offered:
                    findings.append(
                        _error(
                            item,
                            f"target {target_name} has no role {role!r}",
                            f"its roles are {', '.join(offered)} ({target_item.path})",
                            "roles",
                            role,
                        )
                    )
                    continue
                other = governed.setdefault((target_name, role), item)
                if other is not item:
                    findings.append(
                        _error(
                            item,
                            f"{target_name}/{role} is also governed by policy "
                            f"{other.model.name} ({other.path})",
                            "each target/role must have exactly one policy",
                            "roles",
                            role,
                        )
                    )
            for action in policy.actions:
                other = offered_actions.setdefault((target_name, action), item)
                if other is not item:
                    findings.append(
                        _error(
                            item,
                            f"action {action!r} on {target_name} is also offered by policy "
                            f"{other.model.name} ({other.path})",
                            "each action on a target must have exactly one policy",
                            "actions",
                            action,
                        )
                    )
    for name, item in targets.items() if complete else ():
        for index, role in enumerate(item.model.roles):
            if (name, role) not in governed:
                line, column = item.locate("roles", index)
                findings.append(
                    Finding(
                        item.path,
                        Severity.WARNING,
                        f"no policy covers {name}/{role}, so nobody can request it",
                        "add it to a policy's roles, or remove it from the target",
                        line,
                        column,
                    )
                )
    return findings


def load_policy_tests(root: Path) -> tuple[list[Loaded], list[Finding]]:
    folder = root / POLICY_TESTS_DIR
    if not folder.is_dir():
        return [], []
    paths, findings = walk(root, POLICY_TESTS_DIR)
    loaded: list[Loaded] = []
    for path in paths:
        document, model, problems = load_one(root, path, POLICY_TEST_MODELS, "policies/tests/")
        if model is not None and document is not None:
            loaded.append(Loaded(path, document.text, model))
        findings.extend(problems)
    return loaded, findings
