"""A repository's commits through PyGithub: ``Repository.get_commits`` (GitHub's "List
commits") and ``Repository.compare`` (GitHub's "Compare two commits"), answered from git."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from github import Github, GithubException, UnknownObjectException
from github.Repository import Repository as PyGithubRepository

from tests.fixtures.github_server import RepoSetup

COMMITS = "GET /repos/{owner}/{repo}/commits"
COMPARE = "GET /repos/{owner}/{repo}/compare/{basehead}"


def client(setup: RepoSetup, **options: int) -> Github:
    return setup.server.pygithub(setup.author.token, **options)


def pyrepo(setup: RepoSetup, **options: int) -> PyGithubRepository:
    return client(setup, **options).get_repo(setup.full_name)


def sha_of(setup: RepoSetup, branch: str) -> str:
    sha = setup.server.hub.git(setup.repo).branch_sha(branch)
    assert sha is not None
    return sha


def chain(
    setup: RepoSetup,
    branch: str,
    count: int,
    *,
    dates: Sequence[datetime] = (),
    committer: str | None = None,
    files: int = 1,
) -> list[str]:
    """``count`` commits on top of ``branch`` (a new branch starts at main), oldest first,
    each adding ``files`` files under ``{branch}/`` (none: the commit keeps its parent's tree).
    Written by one ``git fast-import`` rather than ``hub.push``, so that their dates and
    committer are the test's and hundreds take one git process."""
    hub = setup.server.hub
    store = hub.git(setup.repo)
    parent = store.branch_sha(branch) or sha_of(setup, "main")
    author = hub.user(setup.author.login)
    by = hub.user(committer) if committer else author
    stream = []
    for i in range(count):
        when = int((dates[i] if dates else datetime(2024, 1, 1, tzinfo=UTC)).timestamp())
        message = f"commit {i}"
        stream += [
            f"commit refs/heads/{branch}",
            f"mark :{i + 1}",
            f"author {author.name} <{author.email}> {when} +0000",
            f"committer {by.name} <{by.email}> {when} +0000",
            f"data {len(message)}",
            message,
        ]
        if i == 0:
            stream.append(f"from {parent}")
        for j in range(files):
            content = f"{i} {j}"
            stream += [f"M 100644 inline {branch}/{i}-{j}.txt", f"data {len(content)}", content]
    with tempfile.TemporaryDirectory() as tmp:
        marks = Path(tmp) / "marks"
        store.git(
            "fast-import", "--quiet", f"--export-marks={marks}", input="\n".join(stream).encode()
        )
        shas = dict(line.split() for line in marks.read_text().splitlines())
    return [shas[f":{i + 1}"] for i in range(count)]


# -- List commits: https://docs.github.com/rest/commits/commits#list-commits -----------------


def test_commits_of_the_default_branch_newest_first(github_repo: RepoSetup) -> None:
    """Without ``sha`` the list starts at the default branch, newest first as ``git log``
    (https://docs.github.com/rest/commits/commits#list-commits)."""
    first = sha_of(github_repo, "main")
    later = chain(github_repo, "main", 2)
    commits = list(pyrepo(github_repo).get_commits())
    assert [c.sha for c in commits] == [*reversed(later), first]
    assert commits[0].commit.message == "commit 1"
    assert commits[0].author.login == github_repo.author.login  # linked by the author's email


def test_commits_from_a_branch_or_a_sha(github_repo: RepoSetup) -> None:
    """``sha``: "SHA or branch to start listing commits from"; 404 when it names no commit
    (https://docs.github.com/rest/commits/commits#list-commits)."""
    repo = pyrepo(github_repo)
    first, feature = sha_of(github_repo, "main"), github_repo.feature_sha
    assert [c.sha for c in repo.get_commits(sha="feature")] == [feature, first]
    assert [c.sha for c in repo.get_commits(sha=feature)] == [feature, first]
    assert [c.sha for c in repo.get_commits(sha=feature[:10])] == [feature, first]
    with pytest.raises(UnknownObjectException):
        list(repo.get_commits(sha="no-such-branch"))
    with pytest.raises(UnknownObjectException):
        list(repo.get_commits(sha="main~1"))  # a revision expression is not a ref


def test_commits_touching_a_path(github_repo: RepoSetup) -> None:
    """``path``: "Only commits containing this file path will be returned" — a file or a
    directory, as ``git log -- path``
    (https://docs.github.com/rest/commits/commits#list-commits)."""
    hub, admin = github_repo.server.hub, github_repo.admin.login
    repo = pyrepo(github_repo)
    first = sha_of(github_repo, "main")
    policy = hub.push(github_repo.repo, "main", {"policies/db.yaml": "role: admin\n"}, author=admin)
    hub.push(github_repo.repo, "main", {"README.md": "# new\n"}, author=admin)
    assert [c.sha for c in repo.get_commits(path="policies/db.yaml")] == [policy, first]
    assert [c.sha for c in repo.get_commits(path="policies")] == [policy, first]
    feature = repo.get_commits(sha="feature", path="requests")
    assert [c.sha for c in feature] == [github_repo.feature_sha]
    assert list(repo.get_commits(path="nowhere")) == []


def test_commits_by_author_login_or_email_and_by_committer(github_repo: RepoSetup) -> None:
    """``author``/``committer``: "GitHub username or email address"
    (https://docs.github.com/rest/commits/commits#list-commits)."""
    gh = client(github_repo)
    repo = gh.get_repo(github_repo.full_name)
    first = sha_of(github_repo, "main")  # by the admin
    (theirs,) = chain(github_repo, "main", 1, committer=github_repo.reviewer.login)
    author = github_repo.author.login
    assert [c.sha for c in repo.get_commits(author=author)] == [theirs]
    assert [c.sha for c in repo.get_commits(author=gh.get_user(author))] == [theirs]
    assert [c.sha for c in repo.get_commits(author=author.upper())] == [theirs]
    email = github_repo.server.hub.user(github_repo.admin.login).email
    assert [c.sha for c in repo.get_commits(author=email)] == [first]
    assert list(repo.get_commits(author="nobody-at-all")) == []
    # PyGithub has no argument for `committer`: through its requester.
    _, data = gh.requester.requestJsonAndCheck(
        "GET",
        f"/repos/{github_repo.full_name}/commits",
        parameters={"committer": github_repo.reviewer.login},
    )
    assert [c["sha"] for c in data] == [theirs]
    assert data[0]["committer"]["login"] == github_repo.reviewer.login


def test_commits_since_and_until(github_repo: RepoSetup) -> None:
    """``since``/``until`` bound the commit's date, both ends included; a timestamp that is
    not ISO 8601 is a bad request (https://docs.github.com/rest/commits/commits#list-commits)."""
    repo = pyrepo(github_repo)
    dates = [datetime(year, month, 1, tzinfo=UTC) for year, month in ((2020, 1), (2020, 6))]
    old, middle, new = chain(github_repo, "dated", 3, dates=[*dates, datetime(2021, 1, 1)])

    def listed(since: datetime | None = None, until: datetime | None = None) -> list[str]:
        bounds = {"since": since, "until": until}
        commits = repo.get_commits(sha="dated", **{k: v for k, v in bounds.items() if v})
        return [c.sha for c in commits]

    assert listed(datetime(2020, 3, 1), datetime(2020, 12, 31)) == [middle]
    assert listed(datetime(2020, 6, 1), datetime(2020, 6, 1)) == [middle]
    assert listed(until=datetime(2020, 1, 2)) == [old]
    assert listed(datetime(2020, 12, 1), datetime(2021, 6, 1)) == [new]
    assert listed(since=datetime(2020, 12, 1))[-2:] == [new, sha_of(github_repo, "main")]
    with pytest.raises(GithubException) as refused:
        client(github_repo).requester.requestJsonAndCheck(
            "GET", f"/repos/{github_repo.full_name}/commits", parameters={"since": "yesterday"}
        )
    assert refused.value.status == 400


def test_commits_are_paginated(github_repo: RepoSetup) -> None:
    """``per_page``/``page`` with a ``Link`` header, as the server's other lists
    (https://docs.github.com/rest/using-the-rest-api/using-pagination-in-the-rest-api)."""
    server = github_repo.server
    first = sha_of(github_repo, "main")
    made = chain(github_repo, "main", 4)
    before = server.calls[COMMITS]
    assert [c.sha for c in pyrepo(github_repo, per_page=2).get_commits()] == [
        *reversed(made),
        first,
    ]
    assert server.calls[COMMITS] - before == 3  # 5 commits, 2 a page


def test_commits_of_an_empty_repository_is_a_conflict(github_repo: RepoSetup) -> None:
    """409 "Git Repository is empty." (https://docs.github.com/rest/commits/commits#list-commits
    documents 409 for the operation)."""
    github_repo.server.hub.create_repo(f"{github_repo.org}/empty")
    repo = client(github_repo).get_repo(f"{github_repo.org}/empty")
    with pytest.raises(GithubException) as refused:
        list(repo.get_commits())
    assert refused.value.status == 409
    assert refused.value.data["message"] == "Git Repository is empty."


# -- Compare two commits: https://docs.github.com/rest/commits/commits#compare-two-commits ---


def test_compare_ahead(github_repo: RepoSetup) -> None:
    """``BASE...HEAD``: the commits reachable from head and not from base, oldest first, the
    files of the three-dot diff and the comparison's URLs
    (https://docs.github.com/rest/commits/commits#compare-two-commits)."""
    main = sha_of(github_repo, "main")
    comparison = pyrepo(github_repo).compare("main", "feature")
    assert (comparison.status, comparison.ahead_by, comparison.behind_by) == ("ahead", 1, 0)
    assert comparison.total_commits == 1
    assert [c.sha for c in comparison.commits] == [github_repo.feature_sha]
    assert [f.filename for f in comparison.files] == ["requests/alice.yaml"]
    assert comparison.files[0].status == "added"
    assert comparison.base_commit.sha == comparison.merge_base_commit.sha == main
    web = f"{github_repo.server.url}/{github_repo.full_name}/compare"
    assert comparison.url == f"{github_repo.server.base_url}/repos/{github_repo.full_name}" + (
        "/compare/main...feature"
    )
    assert comparison.html_url == f"{web}/main...feature"
    assert comparison.diff_url == f"{web}/main...feature.diff"
    assert comparison.patch_url == f"{web}/main...feature.patch"
    owner = github_repo.org
    expected = f"{web}/{owner}:{main[:7]}...{owner}:{github_repo.feature_sha[:7]}"
    assert comparison.permalink_url == expected


def test_compare_behind_identical_and_diverged(github_repo: RepoSetup) -> None:
    """``status`` is ``behind``, ``identical`` or ``diverged`` as the sides stand; a diverged
    comparison's files are head's changes since the merge base, not base's
    (https://docs.github.com/rest/commits/commits#compare-two-commits)."""
    repo = pyrepo(github_repo)
    behind = repo.compare("feature", "main")
    assert (behind.status, behind.ahead_by, behind.behind_by) == ("behind", 0, 1)
    assert (list(behind.commits), behind.files) == ([], [])
    same = repo.compare("main", "main")
    assert (same.status, same.ahead_by, same.behind_by, same.total_commits) == (
        "identical",
        0,
        0,
        0,
    )
    old_main = sha_of(github_repo, "main")
    chain(github_repo, "main", 2)
    diverged = repo.compare("main", "feature")
    assert (diverged.status, diverged.ahead_by, diverged.behind_by) == ("diverged", 1, 2)
    assert diverged.merge_base_commit.sha == old_main != diverged.base_commit.sha
    assert [f.filename for f in diverged.files] == ["requests/alice.yaml"]


def test_compare_shas_tags_and_owner_prefixed_refs(github_repo: RepoSetup) -> None:
    """Either side may be a branch, a tag or a commit SHA, and ``OWNER:ref`` names a ref of
    ``OWNER``'s repository (https://docs.github.com/rest/commits/commits#compare-two-commits)."""
    repo = pyrepo(github_repo)
    main, feature = sha_of(github_repo, "main"), github_repo.feature_sha
    github_repo.server.hub.git(github_repo.repo).update_ref("refs/tags/v1", main)
    for base, head in (
        (main, feature),
        ("v1", feature[:7]),
        (f"{github_repo.org}:main", "feature"),
    ):
        comparison = repo.compare(base, head)
        assert (comparison.status, [c.sha for c in comparison.commits]) == ("ahead", [feature])
    with pytest.raises(UnknownObjectException):
        repo.compare("someone-else:main", "feature")  # a fork: there are none here


def test_compare_unknown_ref_or_unrelated_histories_is_not_found(github_repo: RepoSetup) -> None:
    """404 for a ref that names no commit, and for two commits with no common ancestor
    (https://docs.github.com/rest/commits/commits#compare-two-commits)."""
    repo = pyrepo(github_repo)
    for base, head in (("main", "nope"), ("nope", "main"), ("main~1", "main")):
        with pytest.raises(UnknownObjectException):
            repo.compare(base, head)
    store = github_repo.server.hub.git(github_repo.repo)
    info = store.commit(sha_of(github_repo, "main"))
    orphan = store.commit_tree(info.tree, [], "unrelated", info.author)
    store.update_ref("refs/heads/orphan", orphan)
    with pytest.raises(GithubException) as unrelated:
        repo.compare("main", "orphan")
    assert unrelated.value.status == 404
    assert unrelated.value.data["message"] == "No common ancestor between main and orphan."


def test_compare_lists_250_commits_unpaged_and_every_commit_by_page(
    github_repo: RepoSetup,
) -> None:
    """Unpaged, the list "is limited to 250 commits, and the last commit in the list is the most
    recent"; by page it lists every commit, and "the list of changed files is only shown on
    the first page" (https://docs.github.com/rest/commits/commits#compare-two-commits)."""
    server, name = github_repo.server, github_repo.full_name
    made = chain(github_repo, "long", 260, files=0)
    gh = client(github_repo)
    _, unpaged = gh.requester.requestJsonAndCheck("GET", f"/repos/{name}/compare/main...long")
    assert [c["sha"] for c in unpaged["commits"]] == made[-250:]
    assert unpaged["total_commits"] == 260 and unpaged["files"] == []
    before = server.calls[COMPARE]
    # PyGithub asks by page (page=1): 250 a page unless told otherwise.
    assert [c.sha for c in gh.get_repo(name).compare("main", "long").commits] == made
    assert server.calls[COMPARE] - before == 2
    by_100 = gh.get_repo(name).compare("main", "long", comparison_commits_per_page=100)
    assert [c.sha for c in by_100.commits] == made
    _, second = gh.requester.requestJsonAndCheck(
        "GET", f"/repos/{name}/compare/main...long", parameters={"per_page": 100, "page": 2}
    )
    assert [c["sha"] for c in second["commits"]] == made[100:200]
    assert "files" not in second


def test_compare_lists_at_most_300_files(github_repo: RepoSetup) -> None:
    """The files stop at 300 (https://docs.github.com/rest/commits/commits#compare-two-commits:
    "it includes up to 300 changed files for the entire comparison")."""
    chain(github_repo, "wide", 1, files=301)
    comparison = pyrepo(github_repo).compare("main", "wide")
    assert len(comparison.files) == 300
