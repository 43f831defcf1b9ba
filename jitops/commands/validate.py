"""``jitops validate``: check every request and policy file of an access repository.

Load → decide → report. Malformed files, requests the policies refuse, a CODEOWNERS out of step
with the policies: each becomes a finding with file, line and fix. Window rules (not yet closed,
within the role's maximum) apply to request files that are new or changed against ``base``;
a request already landed whose window has closed is "expired, awaiting sweep", a warning.

Request files are read and parsed on every core while this process loads the policies and git
works out the landing times; each process then judges the files it parsed
(``jitops.parallel.map_in_stages``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from jitops import git
from jitops.action_policy import ActionCheck
from jitops.errors import ExitCode, UsageError
from jitops.findings import Finding, Severity, exit_code
from jitops.owners import codeowners_findings
from jitops.parallel import map_in_stages
from jitops.policy import Decision, PolicySet, Status, Verdict, decide, expiry
from jitops.repo import (
    REQUESTS_DIR,
    PolicyLoad,
    RequestFile,
    duplicate_id_findings,
    load_policies,
    load_request,
    load_request_chunk,
    request_paths,
)
from jitops.repo.action_loading import ACTIONS_DIR, judge_actions, load_actions

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
class RequestVerdict:
    """What validate concluded about one well-formed request file."""

    path: str
    request_id: str
    verdict: Verdict | None  # None: the policies could not be loaded
    reason: str


@dataclass(frozen=True)
class ValidateResult:
    findings: tuple[Finding, ...]
    verdicts: tuple[RequestVerdict, ...]
    denied: tuple[Decision, ...]  # the full decision of every request the policies refuse
    policy_file_count: int
    actions: tuple[ActionCheck, ...] = ()  # each action request, judged offline

    @property
    def request_count(self) -> int:
        return len(self.verdicts)

    @property
    def exit_code(self) -> ExitCode:
        """2 when a file is malformed, else 1 when anything is denied, else 0."""
        return exit_code(self.findings)


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


def _selected_paths(root: Path, paths: tuple[str, ...]) -> tuple[list[str], list[Finding]]:
    selected, findings = [], []
    for path in paths:
        posix = PurePosixPath(path)
        if posix.parts[:1] == (ACTIONS_DIR,):
            continue  # an action request: judged with the others (validate's actions)
        if posix.parts[:1] != (REQUESTS_DIR,):
            findings.append(
                Finding(
                    path,
                    Severity.ERROR,
                    "request files live under requests/ (action requests under actions/)",
                    "move it to requests/<target>/<role>/<id>.yaml",
                )
            )
        elif not (root / path).is_file():
            findings.append(Finding(path, Severity.ERROR, "no such file"))
        else:
            selected.append(path)
    return selected, findings


@dataclass(frozen=True)
class _Judge:
    """What every request file is checked against, worked out while the files are parsed."""

    policy_set: PolicySet | None
    now: datetime
    # when each file unchanged since the base landed; absent: new or changed, so window rules
    # apply
    landed_at: Mapping[str, datetime]


@dataclass(frozen=True)
class _FileResult:
    # Small on purpose: results travel back from worker processes, pickled.
    verdict: RequestVerdict | None
    denied: Decision | None
    findings: tuple[Finding, ...]


def _judge_file(judge: _Judge, loaded: RequestFile | list[Finding]) -> _FileResult:
    if not isinstance(loaded, RequestFile):
        return _FileResult(None, None, tuple(loaded))
    path = loaded.path
    if judge.policy_set is None:
        return _FileResult(RequestVerdict(path, loaded.request.id, None, ""), None, ())
    landed_at = judge.landed_at.get(path)
    decision = decide(loaded.request, judge.policy_set, (), judge.now, landed_at=landed_at)
    findings = _decision_findings(loaded, decision)
    end = expiry(loaded.request, landed_at) if landed_at is not None else None
    if end is not None and end <= judge.now:
        line, column = loaded.locate(*_window_field(loaded))
        findings.append(
            Finding(
                loaded.path,
                Severity.WARNING,
                f"expired at {end:%Y-%m-%d %H:%M} UTC, awaiting sweep",
                "the next `jitops sweep` revokes it and removes this file",
                line,
                column,
            )
        )
    verdict = RequestVerdict(path, decision.request_id, decision.verdict, decision.reason)
    denied = decision if decision.verdict is Verdict.DENIED else None
    return _FileResult(verdict, denied, tuple(findings))


def _judge_chunk(judge: _Judge, loaded: Sequence[RequestFile | list[Finding]]) -> list[_FileResult]:
    return [_judge_file(judge, item) for item in loaded]


def _landing_times(root: Path, base_ref: str, paths: Sequence[str]) -> dict[str, datetime]:
    """When each of ``paths`` that is unchanged since ``base_ref`` landed; new ones are absent.

    Every file present at base has a landing commit on its first-parent history; one without
    (history rewritten) is judged as new, which is the stricter reading.
    """
    top = git.toplevel(root)
    base = git.resolve(root, base_ref) if top is not None else None
    if top is None or base is None:
        return {}  # no history: every file is new
    # git prints paths from the top of the work tree; the access repository may be below it
    prefix = root.resolve().relative_to(top).as_posix()
    strip = "" if prefix == "." else prefix + "/"
    new = {p.removeprefix(strip) for p in git.changed_paths(root, base, [REQUESTS_DIR])}
    unchanged = [strip + path for path in paths if path not in new]
    if not unchanged:
        return {}
    landed = git.landings(root, base, [REQUESTS_DIR], wanted=unchanged)
    times = {path.removeprefix(strip): landing.at for path, landing in landed.items()}
    return {path: at for path, at in times.items() if path not in new}


def validate(options: ValidateOptions) -> ValidateResult:
    root = options.root
    if not root.is_dir():
        raise UsageError(f"{root}: no such directory")
    findings: list[Finding] = []
    if options.paths:
        paths, problems = _selected_paths(root, options.paths)
    else:
        paths, problems = request_paths(root)
    loaded_policies: list[PolicyLoad] = []

    def judge() -> _Judge:
        # Runs while worker processes parse the request files. git works out the landing
        # times in its own processes while this one reads the policies (alone: the other cores
        # are busy with requests).
        with ThreadPoolExecutor(max_workers=1) as background:
            landings = background.submit(_landing_times, root, options.base, paths)
            policies = load_policies(root, parallel=False)
            # without trusted policies nothing is judged, so nothing git says matters
            landed_at = landings.result() if policies.policy_set is not None else {}
        loaded_policies.append(policies)
        return _Judge(policies.policy_set, options.now, landed_at)

    results = map_in_stages(load_request_chunk, root, paths, _judge_chunk, judge)
    [policies] = loaded_policies
    policy_set = policies.policy_set
    findings.extend(policies.findings)
    findings.extend(problems)
    verdicts = [r.verdict for r in results if r.verdict is not None]
    for result in results:
        findings.extend(result.findings)
    findings.extend(
        duplicate_id_findings(
            ((v.path, v.request_id) for v in verdicts), lambda path: _locate_id(root, path)
        )
    )
    if policy_set is not None:
        findings.extend(codeowners_findings(root, policy_set))
    elif verdicts:
        findings.append(
            Finding(
                "policies",
                Severity.ERROR,
                f"{len(verdicts)} request(s) were not checked against policy, because "
                "the policies have errors",
                "fix the errors in policies/ first",
            )
        )
    checks, action_findings = _actions(root, options.paths, policy_set)
    findings.extend(action_findings)
    findings.sort(key=lambda f: (f.path, f.line or 0, f.column or 0))
    denied = tuple(r.denied for r in results if r.denied is not None)
    return ValidateResult(
        tuple(findings), tuple(verdicts), denied, len(policies.files), tuple(checks)
    )


def _actions(
    root: Path, paths: tuple[str, ...], policy_set: PolicySet | None
) -> tuple[list[ActionCheck], list[Finding]]:
    """The action requests (all, or those among ``paths``), judged when the policies load."""
    loaded = load_actions(root)
    wanted = {p for p in paths if PurePosixPath(p).parts[:1] == (ACTIONS_DIR,)}
    files = [f for f in loaded.files if not paths or f.path in wanted]
    findings = [f for f in loaded.findings if not paths or f.path in wanted]
    findings += [
        Finding(p, Severity.ERROR, "no such action request file")
        for p in sorted(wanted - {f.path for f in loaded.files} - {f.path for f in findings})
    ]
    if policy_set is None:
        return [], findings
    checks, judged = judge_actions(files, policy_set)
    return checks, findings + judged


def _locate_id(root: Path, path: str) -> tuple[int, int]:
    loaded = load_request(root, path)
    return loaded.locate("id") if isinstance(loaded, RequestFile) else (1, 1)
