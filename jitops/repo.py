"""Loading an access repository: ``policies/`` and ``requests/`` into validated models.

Every file is read through ``jitops.loader`` and validated by ``jitops.models``. Problems become
``Finding``s (file, line, column, what is wrong, how to fix it); nothing is raised for a bad file,
so one run reports them all. Cross-file rules live here too: a request's path must match its
contents, ids are unique, policies refer to targets and roles that exist, and each
target/role pair is governed by exactly one policy.

Layout::

    policies/*.yaml                       Policy, Target and PolicyChangeRule documents
    policies/tests/*.yaml                 PolicyTest documents (``jitops test``)
    requests/<target>/<role>/<id>.yaml    one AccessRequest per file
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from jitops import request_files
from jitops.errors import InputError
from jitops.findings import Finding, Severity
from jitops.loader import MAX_FILE_BYTES, Document, Loaded, check_size, load_document, locate
from jitops.models import (
    AccessRequest,
    Policy,
    PolicyChangeRule,
    PolicyTest,
    Target,
)
from jitops.parallel import map_chunks
from jitops.policy import PolicySet

REQUESTS_DIR = "requests"
POLICIES_DIR = "policies"
POLICY_TESTS_DIR = "policies/tests"
YAML_SUFFIXES = (".yaml", ".yml")
# Files a person may keep beside access files without jitops reading them.
IGNORED_NAMES = request_files.IGNORED_NAMES

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class RequestFile:
    path: str
    text: str
    request: AccessRequest

    def locate(self, *loc: str | int) -> tuple[int, int]:
        return locate(self.text, loc)


@dataclass(frozen=True)
class PolicyLoad:
    """The policies of a repository; ``policy_set`` is None when they cannot be trusted."""

    policy_set: PolicySet | None
    files: tuple[Loaded, ...]
    findings: tuple[Finding, ...]


# -- turning validation errors into findings -----------------------------------------------

_PATTERN_MEANINGS = {
    "requester": "a GitHub login: ASCII letters, digits and hyphens, at most 39 characters",
    "by": "a GitHub login: ASCII letters, digits and hyphens, at most 39 characters",
    "id": "lower-case letters, digits, '.', '_' and '-', 3 to 100 characters",
    "target": "a name: lower-case letters, digits, '_' and '-'",
    "role": "a name: lower-case letters, digits, '_' and '-'",
    "name": "a name: lower-case letters, digits, '_' and '-'",
    "provisioner": "a provisioner kind such as postgres, github-team, aws or exec",
}


def _field_name(loc: Sequence[str | int]) -> str:
    return ".".join(str(part) for part in loc) or "(document)"


def describe_error(error: Any, model: type[BaseModel]) -> tuple[str, str | None]:
    """A pydantic error as (what is wrong, how to fix it), in words a person acts on."""
    loc = tuple(error["loc"])
    field = _field_name(loc)
    kind = error["type"]
    value = error.get("input")
    last = str(loc[-1]) if loc else ""
    if kind == "extra_forbidden":
        known = (
            ", ".join(f.alias or name for name, f in model.model_fields.items())
            if len(loc) == 1
            else None
        )
        hint = "remove it or fix its spelling" + (f" (known fields: {known})" if known else "")
        return f"unknown field `{field}`", hint
    if kind == "missing":
        return f"missing required field `{field}`", f"add `{last}:`"
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return f"`{field}` is {value!r}", f"it must be {expected}"
    if kind == "string_pattern_mismatch":
        meaning = _PATTERN_MEANINGS.get(last, f"a value matching {error['ctx']['pattern']}")
        return f"`{field}` is {value!r}", f"it must be {meaning}"
    if kind == "timezone_aware":
        return (
            f"`{field}` has no timezone",
            "add one, e.g. 2026-11-24T18:00:00Z (UTC) or 2026-11-24T19:00:00+01:00",
        )
    if kind in ("datetime_type", "datetime_parsing", "datetime_from_date_parsing"):
        return f"`{field}` is not a timestamp", "write e.g. 2026-11-24T18:00:00Z"
    if kind in ("value_error", "assertion_error"):
        message = str(error["msg"]).removeprefix("Value error, ")
        where = f"`{field}`: " if loc else ""
        head, _, fix = message.partition(" — ")
        return where + head, fix or None
    if kind.endswith("_type"):
        expected = kind.removesuffix("_type").replace("_", " ")
        got = type(value).__name__ if value is not None else "nothing"
        advice = "quote it to make it a string" if expected == "string" else None
        return f"`{field}` should be a {expected}, not {got} ({value!r})", advice or None
    return f"`{field}`: {error['msg']}", None


def validation_findings(
    exc: ValidationError, document: Document, model: type[BaseModel]
) -> list[Finding]:
    findings = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        # pydantic puts the union member's tag in the path; it is not a key of the file
        if loc and loc[0] in ("Policy", "Target", "PolicyChangeRule"):
            loc = loc[1:]
        error = {**error, "loc": loc}
        message, hint = describe_error(error, model)
        line, column = document.locate(loc, at_key=error["type"] == "extra_forbidden")
        findings.append(Finding(document.path, Severity.ERROR, message, hint, line, column))
    return findings


def parse(
    raw: bytes, path: str, models: dict[str, type[BaseModel]], where: str
) -> tuple[Document | None, BaseModel | None, list[Finding]]:
    """Load and validate one file as one of ``models`` (keyed by ``kind``)."""
    try:
        document = load_document(raw, path)
    except InputError as exc:
        return None, None, [Finding.from_input_error(exc)]
    kind = document.data.get("kind")
    model = models.get(kind) if isinstance(kind, str) else None
    if model is None:
        line, column = document.locate(("kind",))
        expected = " or ".join(models)
        hint = f"files under {where} are {expected}"
        if kind == "AccessRequest":
            hint = "request files live under requests/<target>/<role>/<id>.yaml — move it there"
        message = "missing `kind`" if kind is None else f"`kind: {kind}` does not belong here"
        return document, None, [Finding(path, Severity.ERROR, message, hint, line, column)]
    try:
        return document, model.model_validate(document.data), []
    except ValidationError as exc:
        return document, None, validation_findings(exc, document, model)


_LINK_REFUSED = "symbolic links are not allowed here — commit a regular file"


def _read(root: Path, path: str) -> bytes:
    try:
        # O_NOFOLLOW: a link could pull in a file from outside the repository; refuse it.
        fd = os.open(os.path.join(root, path), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InputError(_LINK_REFUSED, path=path) from None
        raise
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            raise InputError("not a regular file — commit a plain YAML file", path=path)
        check_size(status.st_size, path)
        # plain reads, no file object: this runs for every file of the repository
        limit = MAX_FILE_BYTES + 1
        raw = os.read(fd, limit)
        while len(raw) < limit and (more := os.read(fd, limit - len(raw))):
            raw += more
        return raw
    finally:
        os.close(fd)


def _read_or_refuse(root: Path, path: str) -> bytes | list[Finding]:
    """The bytes of ``path``, or why they cannot be read (as findings)."""
    try:
        return _read(root, path)
    except InputError as exc:
        return [Finding.from_input_error(exc)]
    except OSError as exc:
        return [Finding(path, Severity.ERROR, f"cannot read: {exc.strerror}")]


def _load_one(root: Path, path: str, models: dict[str, type[BaseModel]], where: str) -> Any:
    raw = _read_or_refuse(root, path)
    return (None, None, raw) if isinstance(raw, list) else parse(raw, path, models, where)


# -- requests -------------------------------------------------------------------------------

REQUEST_MODELS: dict[str, type[BaseModel]] = {"AccessRequest": AccessRequest}


def placement_findings(path: str, document: Document, request: AccessRequest) -> list[Finding]:
    """A request lives at requests/<target>/<role>/<id>.yaml, so CODEOWNERS can route it."""
    if request_files.is_home(path, request.target, request.role, request.id):
        return []
    expected = request_files.home(request.target, request.role, request.id)
    parts = PurePosixPath(path).parts
    if len(parts) == 4 and parts[0] == REQUESTS_DIR:
        for index, field in ((1, "target"), (2, "role")):
            if parts[index] != getattr(request, field):
                line, column = document.locate((field,))
                return [
                    Finding(
                        path,
                        Severity.ERROR,
                        f"the file is under {'/'.join(parts[: index + 1])}/ but says "
                        f"`{field}: {getattr(request, field)}`",
                        f"move it to {expected} (CODEOWNERS routes approval by folder)",
                        line,
                        column,
                    )
                ]
    stem = PurePosixPath(path).stem
    if stem != request.id:
        line, column = document.locate(("id",))
        return [
            Finding(
                path,
                Severity.ERROR,
                f"the file name does not match `id: {request.id}`",
                f"rename it to {expected}",
                line,
                column,
            )
        ]
    return [
        Finding(
            path,
            Severity.ERROR,
            "a request file must be at requests/<target>/<role>/<id>.yaml",
            f"move it to {expected}",
        )
    ]


def parse_request(raw: bytes, path: str) -> RequestFile | list[Finding]:
    """One request file's bytes (from a work tree or from a commit), validated and in its
    place; or why it is not. Every reader of request files at rest goes through here."""
    document, model, findings = parse(raw, path, REQUEST_MODELS, "requests/")
    if isinstance(model, AccessRequest) and document is not None:
        findings = placement_findings(path, document, model)
        if not findings:
            return RequestFile(path, document.text, model)
    return list(findings)


def load_request(root: Path, path: str) -> RequestFile | list[Finding]:
    """One request file of the work tree: ``parse_request`` of what ``path`` holds."""
    raw = _read_or_refuse(root, path)
    return raw if isinstance(raw, list) else parse_request(raw, path)


def load_request_chunk(root: Path, paths: Sequence[str]) -> list[RequestFile | list[Finding]]:
    """``load_request`` for each of ``paths``, in order."""
    return [load_request(root, path) for path in paths]


def _walk(root: Path, folder: str, skip: str | None = None) -> tuple[list[str], list[Finding]]:
    """Files under ``folder`` (relative POSIX paths, sorted); non-YAML files are findings."""
    base = root / folder
    found: list[str] = []
    findings: list[Finding] = []
    for directory, dirnames, filenames in os.walk(base):
        rel_dir = Path(directory).relative_to(root).as_posix()
        # A link is refused whatever it points at (a folder, a file, nothing): git stores its
        # text, and what a checkout reads through it is not what was reviewed.
        links = {n for n in (*dirnames, *filenames) if os.path.islink(os.path.join(directory, n))}
        findings.extend(
            Finding(f"{rel_dir}/{name}", Severity.ERROR, _LINK_REFUSED)
            for name in sorted(links)
            if not name.startswith(IGNORED_NAMES)
        )
        dirnames[:] = sorted(
            d
            for d in dirnames
            if not d.startswith(".") and f"{rel_dir}/{d}" != skip and d not in links
        )
        for name in filenames:
            path = f"{rel_dir}/{name}"
            if name in links:
                continue
            if name.endswith(YAML_SUFFIXES):
                found.append(path)
            elif not name.startswith(IGNORED_NAMES):
                findings.append(_not_yaml(path, folder))
    return sorted(found), findings


def _not_yaml(path: str, folder: str) -> Finding:
    hint = "rename it to .yaml or move it out"
    return Finding(path, Severity.ERROR, f"{folder}/ holds only YAML files", hint)


def request_paths(root: Path) -> tuple[list[str], list[Finding]]:
    if not (root / REQUESTS_DIR).is_dir():
        return [], []
    return _walk(root, REQUESTS_DIR)


def duplicate_id_findings(
    ids: Iterable[tuple[str, str]], locate_id: Callable[[str], tuple[int, int]]
) -> list[Finding]:
    """A finding for each (path, id) whose id an earlier path already uses."""
    first: dict[str, str] = {}
    findings = []
    for path, request_id in ids:
        seen = first.setdefault(request_id, path)
        if seen != path:
            line, column = locate_id(path)
            findings.append(
                Finding(
                    path,
                    Severity.ERROR,
                    f"id {request_id!r} is already used by {seen}",
                    "give each request its own id (and file name)",
                    line,
                    column,
                )
            )
    return findings


# -- policies -------------------------------------------------------------------------------

POLICY_MODELS: dict[str, type[BaseModel]] = {
    "Policy": Policy,
    "Target": Target,
    "PolicyChangeRule": PolicyChangeRule,
}
POLICY_TEST_MODELS: dict[str, type[BaseModel]] = {"PolicyTest": PolicyTest}


def _load_policy_chunk(root: Path, paths: Sequence[str]) -> list[Loaded | list[Finding]]:
    results: list[Loaded | list[Finding]] = []
    for path in paths:
        document, model, findings = _load_one(root, path, POLICY_MODELS, "policies/")
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
    paths, findings = _walk(root, POLICIES_DIR, skip=POLICY_TESTS_DIR)
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
            findings.append(Finding(path, Severity.ERROR, _LINK_REFUSED))
        elif not path.endswith(YAML_SUFFIXES):
            findings.append(_not_yaml(path, POLICIES_DIR))
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
    from jitops.targets import settings_findings  # imports the provisioner registry

    findings.extend(settings_findings(files))
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
    )


def _error(item: Loaded, message: str, hint: str | None, *loc: str | int) -> Finding:
    line, column = item.locate(*loc)
    return Finding(item.path, Severity.ERROR, message, hint, line, column)


def cross_check_policies(files: Sequence[Loaded], *, complete: bool = True) -> list[Finding]:
    """Rules that span files: names unique, references resolve, one policy per target/role."""
    findings: list[Finding] = []
    targets: dict[str, Loaded] = {}
    policies: dict[str, Loaded] = {}
    rules: list[Loaded] = []
    for item in files:
        model = item.model
        if isinstance(model, Target):
            if model.name in targets:
                findings.append(
                    _error(
                        item,
                        f"target {model.name!r} is also defined in {targets[model.name].path}",
                        "keep one definition",
                        "name",
                    )
                )
            targets.setdefault(model.name, item)
        elif isinstance(model, Policy):
            if model.name in policies:
                findings.append(
                    _error(
                        item,
                        f"policy {model.name!r} is also defined in {policies[model.name].path}",
                        "give each policy its own name",
                        "name",
                    )
                )
            policies.setdefault(model.name, item)
        elif isinstance(model, PolicyChangeRule):
            rules.append(item)
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
    for item in policies.values():
        policy: Policy = item.model
        for t_index, target_name in enumerate(policy.targets):
            target_item = targets.get(target_name)
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
    paths, findings = _walk(root, POLICY_TESTS_DIR)
    loaded: list[Loaded] = []
    for path in paths:
        document, model, problems = _load_one(root, path, POLICY_TEST_MODELS, "policies/tests/")
        if model is not None and document is not None:
            loaded.append(Loaded(path, document.text, model))
        findings.extend(problems)
    return loaded, findings


# -- targets, one by one (what a sweep may still revoke through) ----------------------------


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
    paths, _ = _walk(root, POLICIES_DIR, skip=POLICY_TESTS_DIR)
    parsed = [(path, *_load_one(root, path, POLICY_MODELS, "policies/")) for path in paths]
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
