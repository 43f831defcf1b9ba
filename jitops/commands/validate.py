"""``jitops validate``: check every request and policy file of an access repository.

Load → decide → report. Malformed files, requests the policies refuse, a CODEOWNERS out of step
with the policies: each becomes a finding with file, line and fix. Window rules (not yet closed,
within the role's maximum) apply to request files that are new or changed against ``base``;
a request already landed whose window has closed is "expired, awaiting sweep", a warning.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from jitops import codeowners, git
from jitops.errors import UsageError
from jitops.findings import Finding, Severity
from jitops.policy import Decision, PolicySet, Status, decide, expiry
from jitops.repo import REQUESTS_DIR, RequestFile, load_policies, load_requests

# Which field of a request a failed check points at.
_CHECK_FIELDS = {
    "target": ("target",),
    "role": ("role",),
    "requester": ("requester",),
}


@dataclass(frozen=True)
class ValidateOptions:
    root: Path
    now: datetime
    base: str = "HEAD"
    paths: tuple[str, ...] = ()  # only these request files (relative to root); all if empty


@dataclass(frozen=True)
class ValidateResult:
    findings: tuple[Finding, ...]
    decisions: tuple[Decision, ...]
    request_count: int
    policy_file_count: int


def _window_field(item: RequestFile) -> tuple[str, ...]:
    return ("duration",) if item.request.duration is not None else ("expires_at",)


def _decision_findings(item: RequestFile, decision: Decision) -> list[Finding]:
    findings = []
    for check in decision.checks:
        if check.status is not Status.FAIL:
            continue
        if check.rule == "ticket":
            # a missing ticket is required because of the role: point there
            loc: tuple[str, ...] = ("ticket",) if item.request.ticket else ("role",)
        else:
            loc = _CHECK_FIELDS.get(check.rule) or _window_field(item)
        line, column = item.locate(*loc)
        message, _, hint = check.detail.partition(" — ")
        findings.append(Finding(item.path, Severity.DENIED, message, hint or None, line, column))
    return findings


def codeowners_findings(root: Path, policy_set: PolicySet) -> list[Finding]:
    """CODEOWNERS must be exactly what the policies render, so GitHub enforces the same owners."""
    expected = codeowners.render(policy_set)
    found = codeowners.find(root)
    if found is None:
        return [
            Finding(
                ".github/CODEOWNERS",
                Severity.DENIED,
                "there is no CODEOWNERS file, so GitHub enforces no code-owner review",
                "run `jitops codeowners --write` and commit .github/CODEOWNERS",
            )
        ]
    relative = found.relative_to(root).as_posix()
    actual = found.read_text(encoding="utf-8", errors="replace")
    line = codeowners.first_difference(expected, actual)
    if line is None:
        return []
    return [
        Finding(
            relative,
            Severity.DENIED,
            "CODEOWNERS does not match the policies",
            "run `jitops codeowners --write` and commit the result",
            line,
            1,
        )
    ]


def _selected_paths(root: Path, paths: tuple[str, ...]) -> tuple[list[str], list[Finding]]:
    selected, findings = [], []
    for path in paths:
        posix = PurePosixPath(path)
        if posix.parts[:1] != (REQUESTS_DIR,):
            findings.append(
                Finding(
                    path,
                    Severity.ERROR,
                    "request files live under requests/",
                    "move it to requests/<target>/<role>/<id>.yaml",
                )
            )
        elif not (root / path).is_file():
            findings.append(Finding(path, Severity.ERROR, "no such file"))
        else:
            selected.append(path)
    return selected, findings


def validate(options: ValidateOptions) -> ValidateResult:
    root = options.root
    if not root.is_dir():
        raise UsageError(f"{root}: no such directory")
    findings: list[Finding] = []
    policies = load_policies(root)
    findings.extend(policies.findings)
    if options.paths:
        selected, problems = _selected_paths(root, options.paths)
        findings.extend(problems)
        requests = load_requests(root, selected)
    else:
        requests = load_requests(root)
    findings.extend(requests.findings)
    decisions: list[Decision] = []
    policy_set = policies.policy_set
    if policy_set is not None:
        findings.extend(codeowners_findings(root, policy_set))
        findings.extend(_check_requests(options, policy_set, requests.requests, decisions))
    elif requests.requests:
        findings.append(
            Finding(
                "policies",
                Severity.ERROR,
                f"{len(requests.requests)} request(s) were not checked against policy, because "
                "the policies have errors",
                "fix the errors in policies/ first",
            )
        )
    findings.sort(key=lambda f: (f.path, f.line or 0, f.column or 0))
    return ValidateResult(
        tuple(findings), tuple(decisions), len(requests.requests), len(policies.files)
    )


def _check_requests(
    options: ValidateOptions,
    policy_set: PolicySet,
    requests: tuple[RequestFile, ...],
    decisions: list[Decision],
) -> list[Finding]:
    root = options.root
    base = git.resolve(root, options.base) if git.toplevel(root) is not None else None
    if base is None:
        new = {item.path for item in requests}  # no history: every file is new
        landed_at = {}
    else:
        # git prints paths from the top of the work tree; the access repository may be below it
        prefix = root.resolve().relative_to(git.toplevel(root) or root).as_posix()
        strip = "" if prefix == "." else prefix + "/"
        new = {p.removeprefix(strip) for p in git.changed_paths(root, base, [REQUESTS_DIR])}
        landed = [item for item in requests if item.path not in new]
        landed_at = (
            {
                path.removeprefix(strip): landing.at
                for path, landing in git.landings(root, base, [REQUESTS_DIR]).items()
            }
            if landed
            else {}
        )
    findings: list[Finding] = []
    for item in requests:
        # Every file present at base has a landing commit on its first-parent history; one
        # without (history rewritten) is judged as new, which is the stricter reading.
        when = None if item.path in new else landed_at.get(item.path)
        is_new = when is None
        decision = decide(item.request, policy_set, (), options.now, landed_at=when)
        decisions.append(decision)
        findings.extend(_decision_findings(item, decision))
        end = expiry(item.request, when) if not is_new else None
        if end is not None and end <= options.now:
            line, column = item.locate(*_window_field(item))
            findings.append(
                Finding(
                    item.path,
                    Severity.WARNING,
                    f"expired at {end:%Y-%m-%d %H:%M} UTC, awaiting sweep",
                    "the next `jitops sweep` revokes it and removes this file",
                    line,
                    column,
                )
            )
    return findings
