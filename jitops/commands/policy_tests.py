"""``jitops test``: run the policy test cases under ``policies/tests/``.

Each case gives a request, the approvals it has and a time, and expects a decision (and words
its reason must contain). A policy change is reviewed together with its effect on these cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from jitops.errors import ExitCode
from jitops.findings import Finding, Severity, exit_code
from jitops.models import PolicyTest, PolicyTestCase
from jitops.policy import Decision, PolicySet, PullRequestContext, Review, ReviewState, decide
from jitops.repo import load_policies, load_policy_tests

_HEAD = "0" * 40
_OLD = "1" * 40


@dataclass(frozen=True)
class CaseResult:
    path: str
    name: str
    passed: bool
    expected: str
    decision: Decision | None
    line: int


@dataclass(frozen=True)
class TestRun:
    results: tuple[CaseResult, ...]
    findings: tuple[Finding, ...]

    @property
    def failed(self) -> tuple[CaseResult, ...]:
        return tuple(r for r in self.results if not r.passed)

    @property
    def exit_code(self) -> ExitCode:
        """A test file that does not load is bad input (2); a failing case is a no (1)."""
        return exit_code(self.findings) or (ExitCode.DENIED if self.failed else ExitCode.OK)


def run_case(case: PolicyTestCase, policy_set: PolicySet) -> tuple[Decision, bool]:
    request = case.request.to_request()
    reviews = [
        Review(
            reviewer=a.by,
            state=ReviewState(a.state),
            commit_id=_HEAD if a.on_head else _OLD,
            teams=frozenset(t.lower() for t in a.teams),
            is_bot=a.bot,
        )
        for a in case.approvals
    ]
    context = PullRequestContext(
        head_sha=_HEAD,
        author=case.author or request.requester,
        commit_authors=frozenset(case.commit_authors),
        author_teams=frozenset(t.lower() for t in case.author_teams),
    )
    decision = decide(
        request,
        policy_set,
        reviews,
        case.now,
        requester_teams=frozenset(t.lower() for t in case.requester_teams),
        context=context,
    )
    explanation = " ".join([decision.reason, *(c.detail for c in decision.checks)])
    passed = decision.verdict.value == case.expect.decision and (
        case.expect.reason is None or case.expect.reason.lower() in explanation.lower()
    )
    return decision, passed


def run_policy_tests(root: Path) -> TestRun:
    policies = load_policies(root)
    tests, findings = load_policy_tests(root)
    findings = [*policies.findings, *findings]
    if policies.policy_set is None:
        return TestRun((), tuple(findings))
    if not tests:
        findings.append(
            Finding(
                "policies/tests",
                Severity.DENIED,
                "no policy test cases",
                "add policies/tests/*.yaml (kind: PolicyTest) pinning what each role decides",
            )
        )
    results: list[CaseResult] = []
    for loaded in tests:
        suite: PolicyTest = loaded.model
        for index, case in enumerate(suite.cases):
            line = loaded.locate("cases", index)[0]
            try:
                decision, passed = run_case(case, policies.policy_set)
            except ValidationError as exc:
                message = exc.errors()[0]["msg"].removeprefix("Value error, ")
                findings.append(
                    Finding(
                        loaded.path, Severity.ERROR, f"case {case.name!r}: {message}", None, line, 1
                    )
                )
                continue
            expected = case.expect.decision + (
                f" ({case.expect.reason!r})" if case.expect.reason else ""
            )
            results.append(CaseResult(loaded.path, case.name, passed, expected, decision, line))
    return TestRun(tuple(results), tuple(findings))
