"""Attacks through jitops' PR comment and the commits it judges (invariants 2 and 6), end to
end on the GitHub test server: one comment per pull request, found by the token's own account
whatever kind it is; look-alikes carrying jitops' marker by anyone else left alone; requester
text (justification, ticket, file names) inert; and commits GitHub cannot attribute refused.

What the attacker can do: comment with jitops' marker above a forged "ready to merge", write
HTML, links, images or @mentions into a request, commit with an email of no account. What
they cannot: have their comment taken for jitops', make reviewers see live markup or notify
anyone, or approve a pull request holding a commit that cannot be tied to its author."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from jitops.testing.github import Account
from jitops.testing.github.gitstore import Identity, TreeChange
from tests.e2e.gate_world import GateWorld, status_of

MARKER = "<!-- jitops:approval -->"
FORGED = MARKER + "\n### jitops: ✅ ready to merge\n\nAll approvals are in.\n"


def machine_user(gate: GateWorld) -> Account:
    """A machine account (a person-type user) whose personal access token runs jitops."""
    account = gate.server.hub.add_user(f"jitops-machine-{gate.suffix}")
    gate.server.hub.add_collaborator(gate.repo, account.login, "write")
    return account


def other_bot(gate: GateWorld) -> Account:
    """Another app's bot account that can comment: a Bot, but not jitops."""
    hub = gate.server.hub
    account = hub.add_user(f"other-app-{gate.suffix}[bot]")
    with hub.state.lock:
        hub.state.users[account.login] = replace(account.user, type="Bot")
    hub.add_collaborator(gate.repo, account.login, "write")
    return account


def comments(gate: GateWorld, number: int) -> list[tuple[str, str]]:
    """(author, body) of every comment, oldest first, as the server holds them."""
    return [(c.user, c.body) for c in gate.server.hub.comments_of(gate.repo, number)]


@pytest.mark.parametrize("kind", ["actions", "machine user"])
def test_every_run_edits_one_comment_whatever_account_the_token_is(
    gate: GateWorld,
    check,  # type: ignore[no-untyped-def]
    kind: str,
) -> None:
    account = gate.bot if kind == "actions" else machine_user(gate)
    number = gate.open_request("one-1")
    assert check(number, token=account.token).code == 1
    gate.review(number, "bob")
    assert check(number, token=account.token).code == 0
    assert check(number, token=account.token).code == 0  # a rerun changes nothing
    [(author, body)] = comments(gate, number)
    assert author == account.login
    assert body.startswith(MARKER) and "ready to merge" in body


def test_the_token_s_account_is_asked_once_per_run(
    gate: GateWorld,
    check,  # type: ignore[no-untyped-def]
) -> None:
    number = gate.open_request("once-1")
    gate.server.calls.reset()
    assert check(number).code == 1
    assert gate.server.calls["GET /user"] == 0  # no comment carries the marker yet
    gate.server.calls.reset()
    assert check(number).code == 1
    assert gate.server.calls["GET /user"] == 1


def test_an_installation_token_is_named_by_graphql_when_get_user_refuses_it(
    gate: GateWorld,
    check,  # type: ignore[no-untyped-def]
) -> None:
    """On GitHub, ``GET /user`` answers 403 "Resource not accessible by integration" to an
    installation token (Actions' own); GraphQL's ``viewer`` names its bot instead."""
    number = gate.open_request("inst-1")
    assert check(number).code == 1
    for _ in range(2):
        gate.server.faults.inject("server_error", "GET /user", status=403)
        assert check(number).code == 1
    gate.server.faults.clear()
    [(author, _)] = comments(gate, number)
    assert author == gate.bot.login


@pytest.mark.attack(2, "plant a look-alike jitops comment saying ready to merge")
@pytest.mark.parametrize("kind", ["actions", "machine user"])
def test_a_look_alike_comment_by_anyone_else_is_never_taken_for_jitops_own(
    gate: GateWorld,
    check,  # type: ignore[no-untyped-def]
    kind: str,
) -> None:
    """mallory (a person) and another app's bot each post jitops' marker above a forged
    "ready to merge": jitops posts its own comment, keeps editing that one, and leaves theirs
    exactly as they wrote them."""
    account = gate.bot if kind == "actions" else machine_user(gate)
    number = gate.open_request("fake-1")
    hub = gate.server.hub
    forgers = [gate.login("mallory"), other_bot(gate).login]
    for forger in forgers:
        hub.comment(gate.repo, number, user=forger, body=FORGED)
    assert check(number, token=account.token).code == 1
    gate.review(number, "bob")
    assert check(number, token=account.token).code == 0
    found = comments(gate, number)
    assert found[:2] == [(forger, FORGED) for forger in forgers]
    [(author, body)] = found[2:]
    assert author == account.login and "ready to merge" in body and "All approvals" not in body


def test_jitops_own_comment_is_found_past_the_first_page(
    gate: GateWorld,
    check,  # type: ignore[no-untyped-def]
) -> None:
    number = gate.open_request("busy-1")
    for i in range(120):  # a busy pull request: jitops' comment comes on the second page
        gate.server.hub.comment(gate.repo, number, user=gate.login("carol"), body=f"+{i}")
    assert check(number).code == 1
    gate.review(number, "bob")
    assert check(number).code == 0
    mine = [body for author, body in comments(gate, number) if author == gate.bot.login]
    assert len(mine) == 1 and "ready to merge" in mine[0]


# -- requester text, inert --------------------------------------------------------------------

# (what the requester writes, what must not appear live in the posted comment)
HOSTILE = [
    ("<img src=x onerror=alert(1)>", "<img"),
    ("<details><summary>ok</summary>approved</details>", "<details>"),
    ("[approve here](http://evil.example/x)", "](http://evil"),
    ("![pixel](https://evil.example/p.png)", "![pixel]("),
    ("see https://evil.example/login now", "https://evil"),
    ("see www.evil.example now", "www.evil"),
    ("ping @ORG/security and @mallory", "@mallory"),
    ("cell | break | here", "cell | break"),
    ("**bold** _it_ ~~gone~~ `code`", "**bold**"),
    ("&lt;script&gt; &#64;someone", "&lt;script&gt;"),
    ("<!-- jitops:approval --> forged", "<!-- jitops:approval --> forged"),
]


@pytest.mark.attack(6, "HTML, links and mentions in a justification")
def test_hostile_justification_and_ticket_render_inert_in_the_posted_comment(
    gate: GateWorld,
    check,  # type: ignore[no-untyped-def]
) -> None:
    hub = gate.server.hub
    for index, (hostile, live) in enumerate(HOSTILE):
        hostile = hostile.replace("ORG", gate.org)
        live = live.replace("ORG", gate.org)
        request_id = f"esc-{index}"
        text = gate.request_text(request_id, role="readonly", ticket=None).replace(
            "justification: Investigate INC-1234, slow queries on the orders table",
            "justification: 'Investigate INC-1234: " + hostile.replace("'", "''") + "'",
        )
        text += "ticket: '" + hostile.replace("'", "''") + "'\n"
        path = f"requests/sandbox-db/readonly/{request_id}.yaml"
        number = gate.open_pull(f"esc-{index}", {path: text})
        check(number)
        [(_, body)] = comments(gate, number)
        assert body.startswith(MARKER + "\n")
        rest = body.removeprefix(MARKER + "\n")
        assert live not in rest, (hostile, body)
        assert f"@{gate.org}/security" not in rest and "@mallory" not in rest
        why = next(line for line in rest.splitlines() if line.startswith("| why |"))
        ticket = next(line for line in rest.splitlines() if line.startswith("| ticket |"))
        for row in (why, ticket):
            # one row of two cells: no "|" but the table's own, unescaped
            assert len(re.findall(r"(?<!\\)\|", row)) == 3, row
            # and it still reads as written, once markup escapes and invisible joiners go
            shown = re.sub(r"\\(.)", r"\1", row.replace("\u2060", ""))
            shown = shown.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
            assert hostile in shown, row
        assert hub.pull(gate.repo, number).state == "open"


@pytest.mark.attack(6, "HTML, links and mentions in a justification, in the job summary")
def test_hostile_justification_renders_inert_in_the_job_summary(
    gate: GateWorld,
    check,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The check's job summary renders the request as its comment does: the same hostile
    justification and ticket reach it inert."""
    hostile = " ".join(text for text, _ in HOSTILE).replace("ORG", gate.org)
    text = gate.request_text("esc-sum", role="readonly", ticket=None).replace(
        "justification: Investigate INC-1234, slow queries on the orders table",
        "justification: 'Investigate INC-1234: " + hostile.replace("'", "''") + "'",
    )
    number = gate.open_pull("esc-sum", {"requests/sandbox-db/readonly/esc-sum.yaml": text})
    summary = gate.work / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    check(number)
    written = summary.read_text()
    assert "esc-sum" in written and "Investigate INC-1234" in written
    for _, live in HOSTILE:
        assert live.replace("ORG", gate.org) not in written, (live, written)
    assert f"@{gate.org}/security" not in written and "@mallory" not in written


@pytest.mark.attack(6, "markup in a request's file name")
def test_a_hostile_file_name_is_inert_in_the_problems(
    gate: GateWorld,
    check,  # type: ignore[no-untyped-def]
) -> None:
    path = "requests/sandbox-db/readonly/<img src=x onerror=alert(1)>@mallory`x`.yaml"
    number = gate.open_pull("esc-path", {path: "not: [a, request\n"})
    assert check(number).code == 1
    [(_, body)] = comments(gate, number)
    assert "mallory" in body  # the file is named
    live = outside_code(body.removeprefix(MARKER + "\n"))
    assert "<img" not in live and "@mallory" not in live


def outside_code(markdown: str) -> str:
    """``markdown`` without its inline code spans, where GitHub renders nothing as markup."""
    return re.sub(r"(?<![`\\])(`+)(?!`).*?(?<!`)\1(?!`)", "", markdown)


# -- commits GitHub cannot attribute ----------------------------------------------------------


def push_as(gate: GateWorld, number: int, identity: Identity, committer: Identity) -> str:
    """Push one commit to the pull request's branch written by ``identity`` and committed by
    ``committer``, as ``git push`` from someone's laptop would; its sha."""
    hub = gate.server.hub
    pr = hub.pull(gate.repo, number)
    store, ref = hub.git(gate.repo), f"refs/heads/{pr.head_ref}"
    before = store.branch_sha(pr.head_ref)
    assert before is not None
    change = TreeChange("requests/README.md", b"notes\n")
    tree = store.write_tree([change], store.commit(before).tree)
    sha = store.commit_tree(tree, [before], "tidy\n", identity, committer=committer)
    store.update_ref(ref, sha, before)
    hub.refs_changed(gate.repo, gate.login("bob"), [(ref, before, sha)])
    return sha


def unmapped(name: str) -> Identity:
    """An identity whose email belongs to no account on the server."""
    from datetime import UTC, datetime

    return Identity(name, f"{name}@personal.example", datetime.now(UTC))


@pytest.mark.attack(2, "approve after committing with an unmapped email")
@pytest.mark.parametrize("unknown", ["author and committer", "author", "committer"])
def test_an_approver_s_unattributed_commit_in_a_pull_request_they_approve_is_refused(
    gate: GateWorld,
    check,  # type: ignore[no-untyped-def]
    unknown: str,
) -> None:
    """bob, a db lead, commits to alice's request with his personal email (which GitHub maps
    to no account, so the commit's ``author`` is null) and approves: nothing could keep him
    from approving a change he made, so the check refuses and names the commit and the fix."""
    number = gate.open_request("un-1")
    bob = gate.server.hub.identity(gate.login("bob"))
    stranger = unmapped("bob")
    author = stranger if "author" in unknown else bob
    committer = stranger if "committer" in unknown else bob
    sha = push_as(gate, number, author, committer)
    gate.review(number, "bob")
    result = check(number)
    assert result.code == 1, result.output
    state, description = status_of(gate, number)
    assert state == "failure"
    assert sha[:7] in description
    [(_, body)] = comments(gate, number)
    assert sha[:7] in body
    assert "email that belongs to your GitHub account" in body
