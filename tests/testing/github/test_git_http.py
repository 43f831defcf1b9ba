"""The served repositories are real: git clones and fetches them (smart HTTP and file URL), and
a push over smart HTTP moves a pull request's head like a push to GitHub."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.fixtures.github_server import RepoSetup


def git(*args: str, cwd: Path | None = None) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_clone_over_smart_http_and_file_url(github_repo: RepoSetup, tmp_path: Path) -> None:
    server = github_repo.server
    main = server.hub.git(github_repo.repo).branch_sha("main")
    git("clone", "-q", server.clone_url(github_repo.full_name), str(tmp_path / "http"))
    assert git("rev-parse", "HEAD", cwd=tmp_path / "http") == main
    assert (tmp_path / "http" / "policies" / "db.yaml").read_text() == "role: readonly\n"
    git("clone", "-q", server.file_url(github_repo.full_name), str(tmp_path / "file"))
    git("fetch", "-q", "origin", "feature", cwd=tmp_path / "file")
    assert git("rev-parse", "FETCH_HEAD", cwd=tmp_path / "file") == github_repo.feature_sha


def test_push_over_smart_http_synchronizes_the_pull(github_repo: RepoSetup, tmp_path: Path) -> None:
    server = github_repo.server
    hub = server.hub
    number = hub.open_pull(
        github_repo.repo, head="feature", title="t", user=github_repo.author.login
    ).number
    url = server.clone_url(github_repo.full_name).replace(
        "http://", f"http://x-access-token:{github_repo.author.token}@"
    )
    work = tmp_path / "work"
    git("clone", "-q", "-b", "feature", url, str(work))
    (work / "late.txt").write_text("late\n")
    git("add", ".", cwd=work)
    git("commit", "-qm", "late change", cwd=work)
    git("push", "-q", "origin", "feature", cwd=work)
    new = git("rev-parse", "HEAD", cwd=work)
    assert hub.pull(github_repo.repo, number).head_sha == new
    assert server.last_event("pull_request", "synchronize").payload["after"] == new


def test_a_token_in_a_header_of_any_case_authenticates_a_push(
    github_repo: RepoSetup, tmp_path: Path
) -> None:
    # HTTP header names ignore case; git's http.extraHeader sends them as written, and jitops
    # sends its token as `AUTHORIZATION: basic ...` (never on a command line or in a URL).
    import base64

    server = github_repo.server
    work = tmp_path / "work"
    git("clone", "-q", server.clone_url(github_repo.full_name), str(work))
    (work / "x").write_text("x\n")
    git("add", ".", cwd=work)
    git("commit", "-qm", "x", cwd=work)
    basic = base64.b64encode(f"x-access-token:{github_repo.author.token}".encode()).decode()
    header = f"http.extraHeader=AUTHORIZATION: basic {basic}"
    git("-c", header, "push", "-q", "origin", "HEAD:refs/heads/by-header", cwd=work)
    assert server.hub.git(github_repo.repo).branch_sha("by-header") == git(
        "rev-parse", "HEAD", cwd=work
    )


def test_anonymous_push_is_refused(github_repo: RepoSetup, tmp_path: Path) -> None:
    work = tmp_path / "work"
    git("clone", "-q", github_repo.server.clone_url(github_repo.full_name), str(work))
    (work / "x").write_text("x\n")
    git("add", ".", cwd=work)
    git("commit", "-qm", "x", cwd=work)
    pushed = subprocess.run(
        ["git", "push", "-q", "origin", "HEAD:main"],
        cwd=work,
        capture_output=True,
        text=True,
        env={"GIT_TERMINAL_PROMPT": "0", "PATH": "/usr/bin:/bin:/usr/local/bin"},
    )
    assert pushed.returncode != 0


def test_pull_refs_follow_head_and_base(github_repo: RepoSetup, tmp_path: Path) -> None:
    """refs/pull/N/head and the test merge refs/pull/N/merge, as Actions' checkout fetches."""
    server, hub, repo = github_repo.server, github_repo.server.hub, github_repo.repo
    number = hub.open_pull(repo, head="feature", title="t", user=github_repo.author.login).number
    work = tmp_path / "work"
    git("clone", "-q", server.clone_url(github_repo.full_name), str(work))
    git("fetch", "-q", "origin", f"refs/pull/{number}/merge", cwd=work)
    merge = git("rev-parse", "FETCH_HEAD", cwd=work)
    main = hub.git(repo).branch_sha("main")
    assert git("rev-parse", "FETCH_HEAD^1", "FETCH_HEAD^2", cwd=work).split() == [
        main,
        github_repo.feature_sha,
    ]
    assert server.last_event("pull_request", "opened").sha == merge
    new = hub.push(repo, "feature", {"more": "m\n"}, author=github_repo.author.login)
    git("fetch", "-q", "origin", f"refs/pull/{number}/head", cwd=work)
    assert git("rev-parse", "FETCH_HEAD", cwd=work) == new
    event = server.last_event("pull_request", "synchronize")
    assert hub.git(repo).commit(event.sha).parents == (main, new)


def test_jitops_pushes_notes_with_its_token_header(github_repo: RepoSetup, tmp_path: Path) -> None:
    """jitops sends its token as an ``http.extraHeader`` (``AUTHORIZATION: basic …``); header
    names are case-insensitive, so the server must take it as GitHub does."""
    from jitops import git as jgit
    from jitops.git import NOTES_REF

    server = github_repo.server
    work = tmp_path / "work"
    jgit.clone(server.clone_url(github_repo.full_name), work, token=github_repo.author.token)
    main = server.hub.git(github_repo.repo).branch_sha("main")
    assert main is not None
    jgit.add_note(work, main, "evidence\n")
    jgit.push_notes(work, token=github_repo.author.token)
    assert server.hub.git(github_repo.repo).resolve(NOTES_REF) is not None
