"""The gate's pull-request decision: classification by diff, and attacks on it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from jitops.findings import Finding, Severity
from jitops.gate import (
    ChangedFile,
    ChangeKind,
    FileStatus,
    ParsedRequest,
    PullRequestFacts,
    classify,
    evaluate,
)
from jitops.models import AccessRequest
from jitops.policy import Review, ReviewState, Verdict
from jitops.repo import load_policies
from tests.gitrepo import PROJECT

NOW = datetime(2026, 11, 23, 10, tzinfo=UTC)
HEAD = "c" * 40
POLICIES = load_policies(PROJECT).policy_set
ENG = {"alice": frozenset({"acme/engineering"})}
A, M, R = FileStatus.ADDED, FileStatus.MODIFIED, FileStatus.REMOVED


def request(request_id: str = "r-1", role: str = "readwrite", **extra: str) -> AccessRequest:
    data = {
        "apiVersion": "jitops/v1",
        "kind": "AccessRequest",
        "id": request_id,
        "requester": "alice",
        "target": "sandbox-db",
        "role": role,
        "ticket": "INC-1",
        "justification": "Investigate INC-1 on the orders table",
        "duration": "2h",
        **extra,
    }
    return AccessRequest.model_validate(data)


def path_of(req: AccessRequest) -> str:
    return f"requests/{req.target}/{req.role}/{req.id}.yaml"


def pr(
    *files: ChangedFile, reviews: tuple[Review, ...] = (), author: str = "alice"
) -> PullRequestFacts:
    return PullRequestFacts(
        number=7,
        author=author,
        head_sha=HEAD,
        files=files,
        reviews=reviews,
        commit_authors=frozenset({author}),
    )


def lead(who: str = "bob", state: ReviewState = ReviewState.APPROVED) -> Review:
    return Review(who, state, HEAD, frozenset({"acme/db-leads"}))


def run(facts: PullRequestFacts, *requests: AccessRequest, known: frozenset[str] = frozenset()):  # type: ignore[no-untyped-def]
    parsed = [ParsedRequest(path_of(r), r) for r in requests]
    return evaluate(facts, POLICIES, parsed, NOW, known_ids=known, requester_teams=ENG)


@pytest.mark.parametrize(
    ("files", "kind"),
    [
        ([ChangedFile("requests/a/b/x.yaml", R)], ChangeKind.REMOVAL_ONLY),
        ([ChangedFile("requests/a/b/x.yaml", A)], ChangeKind.ACCESS_REQUEST),
        (
            [ChangedFile("requests/a/b/x.yaml", M), ChangedFile("requests/a/b/y.yaml", R)],
            ChangeKind.ACCESS_REQUEST,
        ),
        ([ChangedFile("policies/p.yaml", M)], ChangeKind.POLICY_CHANGE),
        ([ChangedFile("README.md", M)], ChangeKind.POLICY_CHANGE),
        ([ChangedFile("actions/db/fix/a-1.yaml", A)], ChangeKind.ACTION_REQUEST),
        ([ChangedFile("actions/db/fix/a-1.yaml", M)], ChangeKind.ACTION_REQUEST),  # refused
        ([ChangedFile("actions/db/fix/a-1.yaml", R)], ChangeKind.REMOVAL_ONLY),
        (
            [ChangedFile("actions/db/fix/a-1.yaml", A), ChangedFile("requests/a/b/x.yaml", A)],
            ChangeKind.MIXED,
        ),
        (
            [ChangedFile("actions/db/fix/a-1.yaml", A), ChangedFile("policies/p.yaml", M)],
            ChangeKind.MIXED,
        ),
        (
            [ChangedFile("requests/a/b/x.yaml", R), ChangedFile(".github/CODEOWNERS", M)],
            ChangeKind.MIXED,
        ),
        (
            [ChangedFile("requests/a/b/x.yaml", A), ChangedFile("jitops/policy.py", M)],
            ChangeKind.MIXED,
        ),
        # a rename out of requests/ both removes a request and changes something else
        (
            [ChangedFile("notes/x.yaml", FileStatus.RENAMED, "requests/a/b/x.yaml")],
            ChangeKind.MIXED,
        ),
        # a rename within requests/ is a new request file
        (
            [ChangedFile("requests/a/b/y.yaml", FileStatus.RENAMED, "requests/a/b/x.yaml")],
            ChangeKind.ACCESS_REQUEST,
        ),
        ([], ChangeKind.EMPTY),
    ],
)
def test_classification_by_diff(files: list[ChangedFile], kind: ChangeKind) -> None:
    assert classify(files).kind is kind


def test_removal_only_passes_without_review() -> None:
    result = run(pr(ChangedFile("requests/sandbox-db/admin/old.yaml", R), author="mallory"))
    assert result.allowed
    assert "no approval needed" in result.summary


def test_facts_github_may_have_cut_short_are_never_judged() -> None:
    """A list GitHub stopped at its cap may hide the change that matters: even "only
    removals" is refused then, with the reason."""
    from dataclasses import replace

    facts = pr(ChangedFile("requests/sandbox-db/admin/old.yaml", R), author="mallory")
    result = run(replace(facts, incomplete=("GitHub lists at most 3,000 files",)))
    assert not result.allowed and result.summary == "GitHub lists at most 3,000 files"


def test_mixed_pull_request_is_refused_whatever_its_approvals() -> None:
    req = request()
    reviews = tuple(
        Review(w, ReviewState.APPROVED, HEAD, frozenset({"acme/platform", "acme/db-leads"}))
        for w in ("p1", "p2", "p3")
    )
    facts = pr(
        ChangedFile(path_of(req), A), ChangedFile("policies/sandbox-db.yaml", M), reviews=reviews
    )
    result = run(facts, req)
    assert result.verdict is Verdict.DENIED
    assert "may not carry access requests" in result.summary


def test_access_request_needs_its_approval() -> None:
    req = request()
    facts = pr(ChangedFile(path_of(req), A))
    assert run(facts, req).verdict is Verdict.PENDING
    approved = pr(ChangedFile(path_of(req), A), reviews=(lead(),))
    result = run(approved, req)
    assert result.allowed, result.summary
    assert result.summary == "1 of 1 request(s) ready"


def test_changed_request_is_judged_in_full() -> None:
    req = request(duration="3h")  # e.g. extended from 2h
    result = run(pr(ChangedFile(path_of(req), M)), req)
    assert result.verdict is Verdict.PENDING
    assert "needs 1 approval from @acme/db-leads" in result.summary


def test_replaying_an_id_used_on_the_base_branch_is_refused() -> None:
    req = request("old-1")
    facts = pr(ChangedFile(path_of(req), A), reviews=(lead(),))
    result = run(facts, req, known=frozenset({"old-1"}))
    assert result.verdict is Verdict.DENIED
    assert "already used on the base branch" in result.summary


def test_a_malformed_request_file_denies_the_pull_request() -> None:
    path = "requests/sandbox-db/readwrite/bad.yaml"
    bad = ParsedRequest(path, None, (Finding(path, Severity.ERROR, "duplicate key", line=3),))
    facts = pr(ChangedFile(path, A), reviews=(lead(),))
    result = evaluate(facts, POLICIES, [bad], NOW, requester_teams=ENG)
    assert result.verdict is Verdict.DENIED
    assert result.findings[0].line == 3


def test_request_for_someone_else_is_refused() -> None:
    req = request()
    result = run(pr(ChangedFile(path_of(req), A), reviews=(lead(),), author="mallory"), req)
    assert result.verdict is Verdict.DENIED
    assert "@mallory opened a request for @alice" in result.summary


def test_policies_that_cannot_load_fail_closed() -> None:
    req = request()
    facts = pr(ChangedFile(path_of(req), A), reviews=(lead(),))
    result = evaluate(
        facts,
        None,
        [ParsedRequest(path_of(req), req)],
        NOW,
        policy_problems=["GitHub reports CODEOWNERS errors"],
    )
    assert result.verdict is Verdict.DENIED
    assert "CODEOWNERS errors" in result.summary


def test_policy_change_needs_the_policy_change_rule() -> None:
    platform = frozenset({"acme/platform"})
    files = (ChangedFile("policies/sandbox-db.yaml", M),)
    one = run(pr(*files, reviews=(Review("p1", ReviewState.APPROVED, HEAD, platform),)))
    assert one.verdict is Verdict.PENDING
    assert "needs 1 more approval from @acme/platform" in one.summary
    two = run(
        pr(
            *files,
            reviews=(
                Review("p1", ReviewState.APPROVED, HEAD, platform),
                Review("p2", ReviewState.APPROVED, HEAD, platform),
            ),
        )
    )
    assert two.allowed


def test_policy_change_author_cannot_approve_it() -> None:
    platform = frozenset({"acme/platform"})
    reviews = (
        Review("p1", ReviewState.APPROVED, HEAD, platform),
        Review("P2", ReviewState.APPROVED, HEAD, platform),
    )
    result = run(pr(ChangedFile(".github/workflows/x.yml", M), reviews=reviews, author="p2"))
    assert result.verdict is Verdict.PENDING
    assert "cannot approve their own request" in result.summary


def test_a_misplaced_request_is_refused() -> None:
    req = request(role="readwrite")
    wrong = "requests/sandbox-db/readonly/r-1.yaml"
    facts = pr(ChangedFile(wrong, A), reviews=(lead(),))
    result = evaluate(facts, POLICIES, [ParsedRequest(wrong, req)], NOW, requester_teams=ENG)
    assert result.verdict is Verdict.DENIED
    assert "must be at requests/sandbox-db/readwrite/r-1.yaml" in result.summary


@pytest.mark.parametrize(
    ("path", "mode", "refused"),
    [
        ("requests/sandbox-db/readonly/a-1.yaml", "100644", None),
        ("requests/sandbox-db/readonly/a-1.yml", "100755", None),
        ("requests/sandbox-db/readonly/a-1.yaml", None, None),  # mode unknown: by its name
        ("requests/sandbox-db/readonly/a-1.yaml", "120000", "is a symbolic link"),
        ("requests/sandbox-db/readonly/a-1", "160000", "does not end in .yaml"),
        ("requests/sandbox-db/readonly/a-1.yaml", "160000", "is a submodule"),
        ("requests/sandbox-db/readonly/a-1.json", "100644", "does not end in .yaml"),
        ("requests/sandbox-db/README", "100644", None),  # a placeholder nobody reads
        ("policies/x.json", "100644", None),  # not under requests/: a policy file
    ],
)
def test_one_definition_of_a_request_file(path: str, mode: str | None, refused: str | None) -> None:
    from jitops import request_files

    why = request_files.problem(path, mode)
    assert (why is None) if refused is None else (why is not None and refused in why)


def test_a_pull_request_adding_something_that_is_no_request_file_is_refused() -> None:
    link = ChangedFile("requests/sandbox-db/readonly/l-1.yaml", A, mode="120000")
    result = run(pr(link))
    assert not result.allowed and "is a symbolic link" in result.summary
    assert "regular files named requests/<target>/<role>/<id>.yaml" in result.summary
