"""The policy engine is monotone in approvals: an approval never hurts, removing one never helps.

Policies, requests, reviews, pull requests and the time are all generated from small pools of
people and teams, so that reviewers often are the requester, a commit author, a bot, a team
member, or someone the policy does not name, and review histories interleave approvals,
change requests and dismissals on the head and on older commits.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jitops.models import AccessRequest, Policy, Target
from jitops.policy import (
    Decision,
    PolicySet,
    PullRequestContext,
    Review,
    ReviewState,
    Verdict,
    decide,
)

EXAMPLES = int(os.environ.get("JITOPS_FUZZ_EXAMPLES", "100"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

HEAD = "a" * 40
OLD = "b" * 40
USERS = ["alice", "Bob", "carol", "dave", "erin", "ci-bot"]
TEAMS = ["acme/leads", "acme/security", "acme/eng"]
RANK = {Verdict.DENIED: 0, Verdict.PENDING: 1, Verdict.ALLOWED: 2}
START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)

logins = st.sampled_from(USERS)
principals = st.one_of(logins, st.sampled_from(TEAMS).map(lambda team: f"@{team}"))
approval_rules = st.lists(
    st.fixed_dictionaries(
        {"count": st.integers(1, 3), "from": st.lists(principals, min_size=1, max_size=3)}
    ),
    min_size=1,
    max_size=3,
)


def policy_set(rules: list[dict[str, Any]], requesters: list[str]) -> PolicySet:
    policy = Policy.model_validate(
        {
            "apiVersion": "jitops/v1",
            "kind": "Policy",
            "name": "db",
            "targets": ["db"],
            "requesters": requesters,
            "roles": {
                "rw": {"max_duration": "4h", "approvals": rules},
                "ro": {"max_duration": "8h", "auto_approve": True},
            },
        }
    )
    target = Target.model_validate(
        {
            "apiVersion": "jitops/v1",
            "kind": "Target",
            "name": "db",
            "provisioner": "postgres",
            "roles": ["rw", "ro"],
        }
    )
    return PolicySet.build([policy], [target])


# A reviewer's teams and being a bot are facts about the person, the same on each of their
# reviews; what varies from review to review is the spelling, the state and the commit.
people = st.fixed_dictionaries(
    {login: st.tuples(st.frozensets(st.sampled_from(TEAMS), max_size=2), st.booleans())
     for login in USERS}
)  # fmt: skip
# who, written in capitals or not (GitHub logins are case-insensitive), state, commit
Facts = tuple[str, bool, ReviewState, str | None]
review_facts = st.tuples(
    logins, st.booleans(), st.sampled_from(list(ReviewState)), st.sampled_from([HEAD, OLD, None])
)


def review(people: dict[str, tuple[frozenset[str], bool]], facts: Facts) -> Review:
    login, shouted, state, commit = facts
    teams, is_bot = people[login]
    return Review(login.upper() if shouted else login, state, commit, teams, is_bot)


contexts = st.one_of(
    st.none(),
    st.builds(
        PullRequestContext,
        head_sha=st.just(HEAD),
        author=logins,
        commit_authors=st.frozensets(logins, max_size=2),
        author_teams=st.frozensets(st.sampled_from(TEAMS), max_size=2),
    ),
)


@st.composite
def situations(draw: st.DrawFn) -> dict[str, Any]:
    """Everything ``decide`` takes, the time included (no clock: ``now`` is drawn)."""
    requester = draw(logins)
    window = draw(st.sampled_from(["duration", "expires_at"]))
    request: dict[str, Any] = {
        "apiVersion": "jitops/v1",
        "kind": "AccessRequest",
        "id": "2026-11-23-fuzz-001",
        "requester": requester,
        "target": "db",
        "role": draw(st.sampled_from(["rw", "rw", "ro"])),
        "justification": "Investigate INC-1234, slow queries on the orders table",
    }
    if window == "duration":
        request["duration"] = draw(st.sampled_from(["1h", "4h", "9h"]))
    else:
        request["expires_at"] = START + timedelta(hours=draw(st.integers(-2, 10)))
    who = draw(people)
    return {
        "people": who,
        "request": AccessRequest.model_validate(request),
        "policies": policy_set(
            draw(approval_rules),
            draw(st.lists(principals, min_size=1, max_size=3)) + [requester],
        ),
        "reviews": [review(who, facts) for facts in draw(st.lists(review_facts, max_size=6))],
        "now": START + timedelta(minutes=draw(st.integers(-600, 900))),
        "requester_teams": draw(st.one_of(st.none(), st.frozensets(st.sampled_from(TEAMS)))),
        "context": draw(contexts),
    }


def decision(situation: dict[str, Any], reviews: list[Review]) -> Decision:
    return decide(
        situation["request"],
        situation["policies"],
        reviews,
        situation["now"],
        requester_teams=situation["requester_teams"],
        context=situation["context"],
    )


@FUZZ
@given(situations(), logins, st.booleans(), st.integers(0, 10))
def test_adding_an_approval_of_the_head_never_lowers_the_verdict(
    situation: dict[str, Any], approver: str, shouted: bool, at: int
) -> None:
    before = decision(situation, situation["reviews"])
    approval = review(situation["people"], (approver, shouted, ReviewState.APPROVED, HEAD))
    after_reviews = list(situation["reviews"])
    after_reviews.insert(at % (len(after_reviews) + 1), approval)
    after = decision(situation, after_reviews)
    assert not (before.allowed and after.verdict is Verdict.DENIED)
    assert RANK[after.verdict] >= RANK[before.verdict], (before.reason, after.reason)


@FUZZ
@given(situations(), st.integers(0, 10))
def test_removing_an_approval_never_turns_a_denial_into_an_allowance(
    situation: dict[str, Any], which: int
) -> None:
    approvals = [i for i, r in enumerate(situation["reviews"]) if r.state is ReviewState.APPROVED]
    if not approvals:
        return
    index = approvals[which % len(approvals)]
    before = decision(situation, situation["reviews"])
    fewer = [r for i, r in enumerate(situation["reviews"]) if i != index]
    after = decision(situation, fewer)
    assert not (before.verdict is Verdict.DENIED and after.allowed)
    removed = situation["reviews"][index]
    # an approval of the head, or anywhere when no pull request is known, only ever helped:
    # taking it away cannot raise the verdict (a stale approval later than a fresh one by the
    # same reviewer hides the fresh one, so removing that one may)
    if situation["context"] is None or removed.commit_id == HEAD:
        assert RANK[after.verdict] <= RANK[before.verdict], (before.reason, after.reason)


@FUZZ
@given(situations())
def test_the_decision_depends_on_the_time_given_not_on_a_clock(situation: dict[str, Any]) -> None:
    assert decision(situation, situation["reviews"]) == decision(situation, situation["reviews"])
