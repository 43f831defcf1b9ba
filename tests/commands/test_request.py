"""``jitops request`` below the CLI: ids, the file written, and every refusal, on real git
repositories in ``tmp_path``. tests/e2e/test_request.py drives the command itself."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from jitops import ids
from jitops.actions_context import ActionsContext
from jitops.commands.request import (
    Ask,
    RequestOptions,
    Result,
    build_request,
    render,
    request_path,
    requester_login,
    with_id,
    write_request,
)
from jitops.errors import PolicyDenied, UsageError
from jitops.loader import load_document
from jitops.models import ID_PATTERN, AccessRequest
from jitops.policy import Verdict
from jitops.repo import REQUEST_MODELS, load_request, parse
from jitops.request_files import SCHEMA_MODELINE
from tests.gitrepo import PROJECT, commit_all, make_access_repo
from tests.gitrepo import write_request as put_request

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
WHY = "Investigate INC-1234: slow queries on the orders table"
ASK = Ask("sandbox-db", "readwrite", WHY, "alice", ticket="INC-1234", duration="2h")

# What people type into --why, and what an attacker would.
HOSTILE = [
    'He said "it\'s fine": ship it',
    "key: value # not a comment",
    "- looks like a list item, INC-1",
    "[flow, sequence] and {flow: mapping}",
    "&anchor *alias !!python/object:os.system",
    "!tag at the start of INC-1234",
    "%YAML 1.1 directive at the start",
    "--- a document marker inside",
    "... and an end marker",
    "| a block scalar indicator",
    "> a folded scalar indicator",
    "@mention and `backticks`",
    "no, not yet: INC-1234",
    "yes, on, off: INC-1",
    "0755 octal and 0x1F hex and 1e3",
    "2026-11-23T12:00:00Z looks like a timestamp",
    "line one\nline two\r\nline three",
    "  leading and trailing spaces  ",
    "trailing colon:",
    "tab\tseparated\tvalues",
    "ünïcödé, emoji 🔥 and 中文 text",
    "'single quoted'",
    '"double quoted"',
    "null pointer in INC-1234",
    "~ tilde and null",
    "a backslash \\ and \\n escape",
    "x" * 2000,
]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_access_repo(tmp_path / "access")


def options(root: Path, ask: Ask = ASK, **changes: object) -> RequestOptions:
    return replace(RequestOptions(root, ask, NOW), **changes)  # type: ignore[arg-type]


def request_files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in (root / "requests").rglob("*.y*ml"))


def round_trip(request: AccessRequest) -> AccessRequest:
    """Write ``request`` as ``jitops request`` does and read it back as validate does."""
    path = request_path(request)
    document, model, findings = parse(render(request).encode(), path, REQUEST_MODELS, "requests/")
    assert findings == [] and isinstance(model, AccessRequest), findings
    return model


# -- ids ---------------------------------------------------------------------------------


def test_proposed_ids_are_readable_valid_and_distinct() -> None:
    found = ids.proposals("Alice", "sandbox-db", "readwrite", date(2026, 11, 20), "print")
    assert len(found) == len(set(found)) == 8
    for request_id in found:
        assert re.fullmatch(ID_PATTERN, request_id)
        assert re.fullmatch(r"2026-11-20-alice-sandbox-db-readwrite-[a-z2-7]{4}", request_id)


def test_proposed_ids_follow_what_is_asked_not_chance() -> None:
    day = date(2026, 11, 20)
    first = ids.proposals("alice", "sandbox-db", "readonly", day, "4h: orders")
    assert ids.proposals("alice", "sandbox-db", "readonly", day, "4h: orders") == first
    assert ids.proposals("alice", "sandbox-db", "readonly", day, "2h: orders") != first


def test_the_longest_names_still_make_a_valid_id() -> None:
    found = ids.proposals("A" * 39, "t" * 63, "r" * 63, date(2026, 11, 20), "print", count=1)
    [request_id] = found
    assert len(request_id) <= 100 and re.fullmatch(ID_PATTERN, request_id)
    assert request_id.startswith("2026-11-20-" + "a" * 39 + "-ttt")


def test_an_id_used_in_history_is_never_proposed_twice(repo: Path) -> None:
    first = write_request(options(repo))
    assert first.result is Result.WRITTEN
    commit_all(repo, "the first request")
    (repo / first.draft.path).unlink()  # gone from the branch, still in its history
    commit_all(repo, "revoked")
    again = write_request(options(repo))
    assert again.result is Result.WRITTEN
    assert again.draft.request.id != first.draft.request.id
    assert again.draft.request.id.startswith("2026-11-23-alice-sandbox-db-readwrite-")


def test_an_explicit_id_used_before_is_refused(repo: Path) -> None:
    put_request(repo, "inc-1234-old", role="readonly")
    commit_all(repo, "an old request")
    (repo / "requests/sandbox-db/readonly/inc-1234-old.yaml").unlink()
    commit_all(repo, "revoked")
    with pytest.raises(PolicyDenied, match="already used in this repository's history"):
        write_request(options(repo, replace(ASK, request_id="inc-1234-old")))
    assert request_files(repo) == []


def test_an_explicit_id_of_another_file_in_the_work_tree_is_refused(repo: Path) -> None:
    put_request(repo, "inc-1234-alice", role="readonly")  # not committed yet
    with pytest.raises(UsageError, match="already uses id 'inc-1234-alice'"):
        write_request(options(repo, replace(ASK, request_id="inc-1234-alice")))


def test_an_explicit_id_must_be_a_valid_id(repo: Path) -> None:
    with pytest.raises(UsageError, match="--id is 'Not An Id'"):
        write_request(options(repo, replace(ASK, request_id="Not An Id")))


# -- the file written ------------------------------------------------------------------------


def test_the_file_reads_back_as_the_same_request_in_its_place(repo: Path) -> None:
    outcome = write_request(options(repo))
    assert outcome.result is Result.WRITTEN
    loaded = load_request(repo, outcome.draft.path)
    assert not isinstance(loaded, list), loaded
    assert loaded.request == outcome.draft.request
    assert outcome.draft.path == f"requests/sandbox-db/readwrite/{loaded.request.id}.yaml"


def test_fields_come_in_the_order_and_style_of_the_example_request() -> None:
    example_path = next((PROJECT / "requests").rglob("*.yaml"))
    example = load_document(example_path.read_bytes(), "example")
    request = AccessRequest.model_validate(example.data)
    assert list(load_document(render(request).encode(), "x").data) == list(example.data)
    modeline, *written = render(request).splitlines()
    assert modeline == SCHEMA_MODELINE.rstrip("\n")  # editors find the schema from it
    assert written == [line for line in example.text.splitlines() if not line.startswith("#")]


def test_an_absolute_window_is_written_in_utc_as_people_write_it() -> None:
    plus_one = timezone(timedelta(hours=1))
    ask = replace(
        ASK,
        duration=None,
        starts_at=datetime(2026, 11, 28, 23, 0, tzinfo=plus_one),
        expires_at=datetime(2026, 11, 29, 2, 0, tzinfo=plus_one),
    )
    request = build_request(ask, "maintenance-1")
    text = render(request)
    assert text.endswith(
        "ticket: INC-1234\nstarts_at: 2026-11-28T22:00:00Z\nexpires_at: 2026-11-29T01:00:00Z\n"
    )
    assert round_trip(request) == request


@pytest.mark.parametrize("justification", HOSTILE)
def test_hostile_justifications_read_back_unchanged(justification: str) -> None:
    request = build_request(replace(ASK, justification=justification), "hostile-1")
    assert round_trip(request) == request
    # folded whitespace aside, it is what was typed
    assert request.justification == " ".join(justification.split())


@pytest.mark.parametrize("ticket", ["no", "0755", "INC-1 # not a comment", "'quoted'", "a: b"])
def test_hostile_tickets_read_back_unchanged(ticket: str) -> None:
    request = build_request(replace(ASK, ticket=ticket), "hostile-2")
    assert round_trip(request).ticket == ticket


def _valid_justification(text: str) -> bool:
    try:
        build_request(replace(ASK, justification=text), "generated-1")
    except UsageError:
        return False
    return True


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(min_size=10, max_size=300).filter(_valid_justification))
@example("#: - ? [ { & * ! | > ' \" % @ ` ,")
@example("\u00a0non-breaking\u2003spaces\u3000and more")
def test_any_valid_justification_reads_back_unchanged(justification: str) -> None:
    request = build_request(replace(ASK, justification=justification), "generated-1")
    assert round_trip(request) == request


@pytest.mark.parametrize(("field", "option"), [("expires_at", "--until"), ("starts_at", "--from")])
def test_a_time_without_a_zone_is_refused_never_guessed(field: str, option: str) -> None:
    naive = datetime(2026, 11, 29, 1, 0)
    aware = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
    times = {"expires_at": aware, field: naive}
    with pytest.raises(UsageError, match=f"{option} has no timezone"):
        build_request(replace(ASK, duration=None, **times), "naive-1")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"duration": None}, "give the window: --for DURATION"),
        ({"expires_at": NOW + timedelta(hours=1)}, "not both"),
        ({"starts_at": NOW}, "--from needs --until"),
        ({"justification": "testing"}, "--why: the justification is too thin"),
        ({"justification": "Fix INC-1 \x1b[31m now"}, "--why: the justification holds the"),
        ({"requester": "not a login"}, "--requester is 'not a login'"),
        ({"target": "Sandbox DB"}, "TARGET is 'Sandbox DB'"),
        ({"duration": "forever"}, "--for: 'forever' is not a duration"),
        ({"ticket": "INC-1\nRM -rf"}, "--ticket"),
    ],
)
def test_bad_input_names_the_option_to_fix(changes: dict[str, object], message: str) -> None:
    with pytest.raises(UsageError, match=re.escape(message)):
        build_request(replace(ASK, **changes), "bad-1")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "changes",
    [
        {"target": "../../outside"},
        {"role": "readonly/../../../outside"},
        {"request_id": "../../../outside"},
        {"request_id": "x/../../y"},
    ],
)
def test_names_cannot_climb_out_of_requests(repo: Path, changes: dict[str, str]) -> None:
    with pytest.raises(UsageError):
        write_request(options(repo, replace(ASK, **changes)))
    assert not (repo.parent / "outside.yaml").exists()
    assert request_files(repo) == []


def test_a_linked_folder_is_never_written_through(repo: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (repo / "requests" / "sandbox-db").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(UsageError, match="requests/sandbox-db is a symbolic link"):
        write_request(options(repo))
    assert list(elsewhere.iterdir()) == []


def test_the_requester_is_given_or_comes_from_github_actor() -> None:
    alice = ActionsContext.from_environ({"GITHUB_ACTOR": "alice"})
    assert requester_login("bob", alice) == "bob"
    assert requester_login(None, alice) == "alice"
    with pytest.raises(UsageError, match="pass --requester LOGIN"):
        requester_login(None, ActionsContext())


# -- judged before it is written -----------------------------------------------------------------


def test_what_the_request_needs_is_worked_out_before_it_is_written(repo: Path) -> None:
    outcome = write_request(options(repo))
    decision = outcome.draft.decision
    assert decision.verdict is Verdict.PENDING
    assert decision.policy == "sandbox-db"
    assert "needs 1 approval from @acme/db-leads" in decision.reason


def _refused(root: Path, ask: Ask) -> str:
    outcome = write_request(options(root, ask))
    assert outcome.result is Result.REFUSED
    assert request_files(root) == []  # nothing written
    return outcome.draft.decision.reason


def test_an_unknown_target_is_refused_listing_the_known_ones(repo: Path) -> None:
    reason = _refused(repo, replace(ASK, target="sandbox-dbx"))
    assert "unknown target 'sandbox-dbx' (known: sandbox-db, sandbox-deployers)" in reason


def test_an_unknown_role_is_refused_listing_the_roles(repo: Path) -> None:
    reason = _refused(repo, replace(ASK, role="owner"))
    assert "no policy grants role 'owner' on sandbox-db" in reason
    assert "admin, readonly, readwrite" in reason


def test_a_window_over_the_maximum_is_refused_saying_the_maximum(repo: Path) -> None:
    assert "over the readwrite maximum of 4h" in _refused(repo, replace(ASK, duration="5h"))
    until = replace(ASK, duration=None, expires_at=NOW + timedelta(hours=5))
    assert "over the readwrite maximum of 4h" in _refused(repo, until)


def test_a_window_already_closed_is_refused(repo: Path) -> None:
    past = replace(ASK, duration=None, expires_at=NOW - timedelta(minutes=1))
    assert "expired before approval" in _refused(repo, past)


def test_a_missing_ticket_the_policy_requires_is_refused(repo: Path) -> None:
    reason = _refused(repo, replace(ASK, ticket=None))
    assert "a ticket is required for readwrite matching INC-[0-9]+|CHG-[0-9]+" in reason
    assert "does not match" in _refused(repo, replace(ASK, ticket="JIRA-1"))


def test_a_requester_the_policy_does_not_allow_is_refused(repo: Path) -> None:
    (repo / "policies" / "wiki.yaml").write_text(
        "apiVersion: jitops/v1\nkind: Target\nname: wiki\nprovisioner: exec\n"
        'roles: [editor]\nsettings: {command: ["true"]}\n'
    )
    (repo / "policies" / "wiki-policy.yaml").write_text(
        "apiVersion: jitops/v1\nkind: Policy\nname: wiki\ntargets: [wiki]\n"
        "requesters: [alice]\nroles:\n  editor: {max_duration: 2h, auto_approve: true}\n"
    )
    wiki = Ask("wiki", "editor", WHY, "mallory", duration="1h")
    assert "@mallory may not request wiki/editor under policy wiki" in _refused(repo, wiki)
    allowed = write_request(options(repo, replace(wiki, requester="alice")))
    assert allowed.result is Result.WRITTEN
    assert allowed.draft.decision.verdict is Verdict.ALLOWED


def test_policies_with_errors_are_a_clear_error(repo: Path) -> None:
    (repo / "policies" / "broken.yaml").write_text("apiVersion: jitops/v1\nkind: Policy\n")
    with pytest.raises(UsageError, match="policies of the work tree .* cannot be used"):
        write_request(options(repo))


# -- dry runs and reruns ----------------------------------------------------------------------


def test_a_dry_run_writes_nothing_and_shows_the_file_a_real_run_writes(repo: Path) -> None:
    dry = write_request(options(repo, dry_run=True))
    assert dry.result is Result.WOULD_WRITE
    assert request_files(repo) == []
    real = write_request(options(repo))
    assert (repo / real.draft.path).read_text() == dry.draft.text


def test_asking_again_finds_the_file_already_written(repo: Path) -> None:
    first = write_request(options(repo))
    again = write_request(options(repo))
    assert again.result is Result.UNCHANGED
    assert again.draft.path == first.draft.path
    assert request_files(repo) == [first.draft.path]


def test_a_file_edited_by_hand_is_never_overwritten(repo: Path) -> None:
    first = write_request(options(repo))
    path = repo / first.draft.path
    path.write_text(path.read_text().replace("2h", "3h"))
    again = write_request(options(repo))
    assert again.result is Result.WRITTEN and again.draft.path != first.draft.path
    assert "duration: 3h" in path.read_text()
    explicit = replace(ASK, request_id=first.draft.request.id)
    with pytest.raises(UsageError, match="already uses id"):
        write_request(options(repo, explicit))


def test_with_id_validates_the_new_id() -> None:
    request = build_request(ASK, "first-1")
    assert with_id(request, "second-2").id == "second-2"
    with pytest.raises(UsageError, match="--id"):
        with_id(request, "-bad")
