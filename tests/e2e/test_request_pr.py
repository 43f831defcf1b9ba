"""``jitops request --open-pr`` end to end: a real clone, real git pushes over smart HTTP to the
GitHub test server, PyGithub for the pull request, and the approval gate judging the result."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from jitops.models import AccessRequest
from jitops.repo import REQUEST_MODELS, parse
from jitops.request_files import SCHEMA_MODELINE
from jitops.testing.github import GitHubServer
from tests.e2e.conftest import CLI, Run
from tests.e2e.gate_world import GateWorld, make_world
from tests.gitrepo import git

WHY = 'Fix the "orders" backfill: INC-1234 # then verify'


@pytest.fixture
def world(github_server: GitHubServer, github_names: str, tmp_path: Path) -> GateWorld:
    return make_world(github_server, github_names, tmp_path)


@pytest.fixture
def mine(world: GateWorld, tmp_path: Path) -> Path:
    """alice's own clone, over HTTP like any clone of github.com, in the middle of other work:
    on a branch of her own, with a staged change, an unstaged change and an untracked file."""
    work = tmp_path / "mine"
    url = world.server.clone_url(world.repo.full_name)
    subprocess.run(["git", "clone", "-q", url, str(work)], check=True)
    git(work, "checkout", "-q", "-b", "alice/notes")
    (work / "notes.txt").write_text("staged\n")
    git(work, "add", "notes.txt")
    (work / "requests" / ".gitkeep").write_text("unstaged\n")
    (work / "scratch.txt").write_text("untracked\n")
    return work


def checkout_state(work: Path) -> tuple[str, ...]:
    return (
        git(work, "symbolic-ref", "HEAD"),
        git(work, "rev-parse", "HEAD"),
        git(work, "status", "--porcelain=v1", "--untracked-files=all"),
        git(work, "diff"),
        git(work, "diff", "--cached"),
        git(work, "for-each-ref", "--format=%(refname) %(objectname)", "refs/heads"),
    )


@pytest.fixture
def ask(world: GateWorld, mine: Path, cli: CLI, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("GITHUB_TOKEN", world.accounts["alice"].token)
    monkeypatch.setenv("GITHUB_API_URL", world.server.base_url)
    monkeypatch.delenv("GITHUB_REPOSITORY", raising=False)
    # alice commits with the email of her GitHub account, or the gate cannot tell her commit
    # from an approver's
    for variable in ("GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"):
        monkeypatch.setenv(variable, world.accounts["alice"].user.email)

    def run(*args: str, role: str = "readwrite", ticket: str | None = "INC-1234") -> Run:
        extra = ["--ticket", ticket] if ticket else []
        return cli(
            "request", "sandbox-db", role, "--why", WHY, *extra,
            "--requester", world.login("alice"), "--open-pr", "--repo", str(mine), *args,
        )  # fmt: skip

    return run


def pulls(world: GateWorld) -> list[int]:
    return [p.number for p in world.server.hub.state.pulls_of(world.repo.id)]


def branches(world: GateWorld) -> set[str]:
    store = world.server.hub.git(world.repo)
    return {ref.removeprefix("refs/heads/") for ref, _ in store.refs("refs/heads/")}


def test_open_pr_opens_a_pull_request_the_gate_then_judges(
    world: GateWorld, mine: Path, ask, cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    before = checkout_state(mine)
    result = ask("--for", "2h")
    assert result.code == 0, result.output
    assert "allowed by policy sandbox-db; needs 1 approval from" in result.err
    [number] = pulls(world)
    hub = world.server.hub
    pr = hub.pull(world.repo, number)
    assert result.out.strip().endswith(f"/pull/{number}")  # the URL alone on stdout
    assert pr.user == world.login("alice") and pr.base_ref == "main"
    assert pr.head_ref.startswith("jitops/request/2")
    request_id = pr.head_ref.removeprefix("jitops/request/")
    path = f"requests/sandbox-db/readwrite/{request_id}.yaml"

    # the pull request holds that one file, on top of main, and it reads back as asked
    store = hub.git(world.repo)
    assert [change.filename for change in store.diff(pr.base_sha, pr.head_sha)] == [path]
    entry = store.entry_at(pr.head_sha, path)
    assert entry is not None
    _, model, findings = parse(store.read_blob(entry.sha), path, REQUEST_MODELS, "requests/")
    assert findings == [] and isinstance(model, AccessRequest)
    assert model.justification == WHY and model.ticket == "INC-1234"
    assert model.requester == world.login("alice") and model.id == request_id
    assert store.commit(pr.head_sha).parents == (pr.base_sha,)
    # its description renders the request plainly
    assert pr.body is not None
    assert f"| who | @{world.login('alice')} |" in pr.body
    assert "| what | `readwrite` on `sandbox-db` |" in pr.body
    assert "| until | 2h from merge |" in pr.body
    assert '| why | Fix the "orders" backfill: INC-1234 # then verify |' in pr.body
    assert f"needs 1 approval from {world.team('db-leads')}" in pr.body

    # alice's checkout is as she left it
    assert checkout_state(mine) == before
    assert not (mine / path).exists()

    # the gate on the pull request says exactly what is missing, then lets it through
    for name, value in world.env().items():
        monkeypatch.setenv(name, value)

    def check() -> Run:
        return cli("check-pr", "--pr", str(number), "--base-checkout", str(world.base))

    pending = check()
    assert pending.code == 1, pending.output
    assert f"needs 1 approval from {world.team('db-leads')}" in pending.out
    world.review(number, "bob")
    assert check().code == 0


def test_running_it_again_reports_the_pull_request_it_opened(
    world: GateWorld, mine: Path, ask
) -> None:  # type: ignore[no-untyped-def]
    first = ask("--for", "2h")
    assert first.code == 0, first.output
    head = world.server.hub.pull(world.repo, pulls(world)[0]).head_sha
    again = ask("--for", "2h")
    assert again.code == 0, again.output
    assert again.out == first.out
    assert "is already open" in again.err and "nothing pushed" in again.err
    [number] = pulls(world)
    assert world.server.hub.pull(world.repo, number).head_sha == head
    # asking for something else is another request, with a pull request of its own
    other = ask("--for", "3h")
    assert other.code == 0, other.output
    assert len(pulls(world)) == 2


def test_a_dry_run_pushes_nothing(world: GateWorld, mine: Path, ask) -> None:  # type: ignore[no-untyped-def]
    before = branches(world)
    result = ask("--for", "2h", "--dry-run")
    assert result.code == 0, result.output
    assert result.out.startswith(f"{SCHEMA_MODELINE}apiVersion: jitops/v1\n")
    assert "would push branch jitops/request/" in result.err
    assert branches(world) == before and pulls(world) == []


def test_what_policy_refuses_is_never_pushed(world: GateWorld, mine: Path, ask) -> None:  # type: ignore[no-untyped-def]
    before = branches(world)
    result = ask("--for", "2h", ticket=None)
    assert result.code == 1, result.output
    assert "a ticket is required for readwrite" in result.err
    assert branches(world) == before and pulls(world) == []


def test_it_is_judged_by_the_policies_of_main_not_the_work_tree(
    world: GateWorld, mine: Path, ask
) -> None:  # type: ignore[no-untyped-def]
    # Loosening the policy in one's own checkout changes nothing: the gate reads main's.
    policy = mine / "policies" / "sandbox-db.yaml"
    policy.write_text(policy.read_text().replace("max_duration: 4h", "max_duration: 8h"))
    result = ask("--for", "6h")
    assert result.code == 1, result.output
    assert "over the readwrite maximum of 4h" in result.err
    assert "judged by the policies of main at " in result.err
    assert pulls(world) == []


def test_an_id_used_on_main_is_refused(world: GateWorld, mine: Path, ask) -> None:  # type: ignore[no-untyped-def]
    number = world.open_request("inc-1234-used")
    world.review(number, "bob")
    world.merge(number)
    result = ask("--for", "2h", "--id", "inc-1234-used")
    assert result.code == 1
    assert "'inc-1234-used' was already used" in result.err
    assert len(pulls(world)) == 1


def test_it_needs_a_token(world: GateWorld, ask, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("GITHUB_TOKEN")
    monkeypatch.delenv("GH_TOKEN", raising=False)
    result = ask("--for", "2h")
    assert result.code == 2
    assert "--open-pr needs a GitHub token" in result.err


def test_a_token_without_write_access_is_a_clear_failure(
    world: GateWorld, ask, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    stranger = world.server.hub.add_user(f"stranger-{world.suffix}")
    monkeypatch.setenv("GITHUB_TOKEN", stranger.token)
    result = ask("--for", "2h")
    assert result.code == 3, result.output
    assert "git push origin jitops/request/" in result.err
    assert stranger.token not in result.output
    assert pulls(world) == []


def test_github_gone_after_the_push_says_what_was_done_and_a_rerun_completes_it(
    world: GateWorld, mine: Path, ask
) -> None:  # type: ignore[no-untyped-def]
    """The branch is pushed, then opening its pull request gets no answer: the error names the
    host and says the branch is there and that running again completes it — which it does."""
    world.server.faults.inject("drop", "POST /repos/{owner}/{repo}/pulls", times=None)
    failed = ask("--for", "2h")
    assert failed.code == 3, failed.output
    [branch] = [b for b in branches(world) if b.startswith("jitops/request/")]
    host = world.server.base_url.split("//", 1)[1].split("/", 1)[0]
    assert f"no answer from {host}" in failed.err
    assert f"The request is pushed already, as branch {branch} on origin" in failed.err
    assert "run the same command again" in failed.err and "Traceback" not in failed.output
    assert pulls(world) == []
    world.server.faults.clear()
    again = ask("--for", "2h")
    assert again.code == 0, again.output
    assert len(pulls(world)) == 1


# -- action requests ------------------------------------------------------------------------------

FIX = "UPDATE orders SET state = 'paid'\n  WHERE id = 1002;\n"


@pytest.fixture
def ask_action(world: GateWorld, mine: Path, ask, cli: CLI, tmp_path: Path):  # type: ignore[no-untyped-def]
    """``jitops request sandbox-db fix-order-state --sql-file … --open-pr`` as alice (the
    ``ask`` fixture has set her token and commit email)."""

    def run(*args: str, sql: str = FIX, ticket: str = "INC-4211") -> Run:
        statements = tmp_path / "fix.sql"
        statements.write_text(sql)
        return cli(
            "request", "sandbox-db", "fix-order-state", "--sql-file", str(statements),
            "--ticket", ticket, "--why", "Order 1002 is stuck in payment",
            "--requester", world.login("alice"), "--open-pr", "--repo", str(mine), *args,
        )  # fmt: skip

    return run


def test_an_action_request_opens_a_pull_request_of_one_file_showing_what_will_run(
    world: GateWorld, mine: Path, ask_action, cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    before = checkout_state(mine)
    result = ask_action()
    assert result.code == 0, result.output
    assert "opened pull request #" in result.err and "statements: UPDATE" in result.err
    [number] = pulls(world)
    assert result.out.strip().endswith(f"/pull/{number}")
    hub = world.server.hub
    pr = hub.pull(world.repo, number)
    assert pr.user == world.login("alice") and pr.head_ref.startswith("jitops/action/")
    request_id = pr.head_ref.removeprefix("jitops/action/")
    path = f"actions/sandbox-db/fix-order-state/{request_id}.yaml"
    store = hub.git(world.repo)
    assert [change.filename for change in store.diff(pr.base_sha, pr.head_sha)] == [path]
    assert store.commit(pr.head_sha).parents == (pr.base_sha,)
    entry = store.entry_at(pr.head_sha, path)
    assert entry is not None
    text = store.read_blob(entry.sha).decode()
    assert "sql: |\n  UPDATE orders SET state = 'paid'\n    WHERE id = 1002;\n" in text
    assert "ticket: INC-4211" in text
    # the description shows exactly what will run
    assert pr.body is not None and "UPDATE orders SET state = 'paid'" in pr.body
    assert checkout_state(mine) == before and not (mine / path).exists()

    # the gate judges it as any action request: it waits for a db lead
    for name, value in world.env().items():
        monkeypatch.setenv(name, value)
    gate = cli("check-pr", "--pr", str(number), "--base-checkout", str(world.base))
    assert gate.code == 1, gate.output
    assert f"needs 1 approval from {world.team('db-leads')}" in gate.out
    world.review(number, "bob")
    assert cli("check-pr", "--pr", str(number), "--base-checkout", str(world.base)).code == 0

    # running it again finds that pull request, pushes nothing
    again = ask_action()
    assert again.code == 0, again.output
    assert "is already open" in again.err and "nothing pushed" in again.err
    assert pulls(world) == [number] and hub.pull(world.repo, number).head_sha == pr.head_sha


def test_an_action_request_dry_run_pushes_nothing(world: GateWorld, ask_action) -> None:  # type: ignore[no-untyped-def]
    before = branches(world)
    result = ask_action("--dry-run")
    assert result.code == 0, result.output
    assert "kind: ActionRequest" in result.out
    assert "would push branch jitops/action/" in result.err
    assert branches(world) == before and pulls(world) == []


@pytest.mark.attack(3, "open an action request whose SQL the policy refuses")
def test_an_action_request_the_policy_refuses_is_never_pushed(world: GateWorld, ask_action) -> None:  # type: ignore[no-untyped-def]
    before = branches(world)
    result = ask_action(sql="UPDATE orders SET state = 'paid' WHERE id = 1;\nDROP TABLE orders;\n")
    assert result.code == 1, result.output
    assert "DROP is not a statement an action runs" in result.err
    assert branches(world) == before and pulls(world) == []


def test_an_action_request_is_judged_by_the_policies_of_main(
    world: GateWorld, mine: Path, ask_action
) -> None:  # type: ignore[no-untyped-def]
    # Allowing DELETE in one's own checkout changes nothing: the gate reads main's policies.
    policy = mine / "policies" / "sandbox-db.yaml"
    policy.write_text(policy.read_text().replace("allow: [select, update]", "allow: [delete]"))
    result = ask_action(sql="DELETE FROM orders WHERE id = 1002;\n")
    assert result.code == 1, result.output
    assert "judged by the policies of main at " in result.err
    assert "DELETE is not allowed by this action — it allows select, update" in result.err
    assert pulls(world) == []
