"""The request-id index: kept in git beside the branches, extended over new commits only, and
never trusted further than the history it claims to cover."""

from __future__ import annotations

from pathlib import Path

import pytest

from jitops import git, ids
from tests.gitrepo import commit_all, make_access_repo, write_request
from tests.gitrepo import git as run_git

SHA = "0123456789abcdef0123456789abcdef01234567"


def head(root: Path) -> str:
    return run_git(root, "rev-parse", "HEAD").strip()


def forge(root: Path, data: bytes) -> None:
    """Write any bytes as the index, the way anyone with push access could."""
    git.write_file_commit(root, ids.INDEX_REF, ids.INDEX_FILE, data, "forged\n")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """History: a-1 landed and was removed, b-1 landed on a side branch through a merge, c-1
    is on the branch now; plus files under requests/ that are no request id."""
    root = make_access_repo(tmp_path / "access")
    write_request(root, "a-1")
    commit_all(root, "grant a-1")
    (root / "requests" / "sandbox-db" / "readonly" / "a-1.yaml").unlink()
    commit_all(root, "revoke a-1")
    run_git(root, "checkout", "-q", "-b", "side")
    write_request(root, "b-1")
    commit_all(root, "request b-1")
    run_git(root, "checkout", "-q", "main")
    run_git(root, "merge", "-q", "--no-ff", "-m", "merge b-1", "side")
    write_request(root, "c-1", role="readwrite")
    (root / "requests" / "README.md").write_text("not a request\n")
    (root / "requests" / "Not An Id.yaml").write_text("x: 1\n")
    (root / "requests" / "top-1.yml").write_text("x: 1\n")
    commit_all(root, "c-1 and other files")
    return root


def test_the_format_round_trips() -> None:
    index = ids.IdIndex(SHA, ("a-1", "b-1", "c-1.x"))
    assert ids.decode(ids.encode(index)) == index
    assert ids.encode(index).decode().splitlines()[:3] == [ids.HEADER, f"covers {SHA}", "ids 3"]
    empty = ids.IdIndex(SHA, ())
    assert ids.decode(ids.encode(empty)) == empty


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "does not start with"),
        (b"jitops request-id index v2\ncovers " + SHA.encode() + b"\nids 0\n", "does not start"),
        (f"{ids.HEADER}\ncovers abc\nids 0\n".encode(), "covers <commit id>"),
        (f"{ids.HEADER}\ncovers {SHA.upper()}\nids 0\n".encode(), "covers <commit id>"),
        (f"{ids.HEADER}\ncovers {SHA}\nids many\n".encode(), "ids <count>"),
        (f"{ids.HEADER}\ncovers {SHA}\nids 2\na-1\n".encode(), "says 2 ids but holds 1"),
        (f"{ids.HEADER}\ncovers {SHA}\nids 2\nb-1\na-1\n".encode(), "sorted and unique"),
        (f"{ids.HEADER}\ncovers {SHA}\nids 2\na-1\na-1\n".encode(), "sorted and unique"),
        (f"{ids.HEADER}\ncovers {SHA}\nids 1\nA-1\n".encode(), "not a request id"),
        (f"{ids.HEADER}\ncovers {SHA}\nids 1\na-1".encode(), "not a request id"),
        (f"{ids.HEADER}\ncovers {SHA}\nids 1\na-1\n\n".encode(), "not a request id"),
        (f"{ids.HEADER}\ncovers {SHA}\nids 1\na-1\r\n".encode(), "not a request id"),
        (f"{ids.HEADER}\ncovers {SHA}\nids 1\nä-1\n".encode(), "not ASCII"),
    ],
)
def test_a_malformed_blob_is_refused(data: bytes, reason: str) -> None:
    with pytest.raises(ids.MalformedIndex, match=reason):
        ids.decode(data)


def test_built_from_history_it_holds_every_id_ever_added(repo: Path) -> None:
    made = ids.update(repo)
    assert made.how is ids.Update.REBUILT and made.previous is None
    assert "no request-id index" in (made.reason or "")
    # removed (a-1), merged from a side branch (b-1), current (c-1), .yml at any depth (top-1);
    # "Not An Id" can never be asked about, README.md is no request file
    assert made.index.ids == ("a-1", "b-1", "c-1", "top-1")
    assert made.index.covers == head(repo)
    assert ids.load(repo).index == made.index
    # it lives beside the branches, in no branch's history
    assert not git.is_ancestor(repo, git.resolve(repo, ids.INDEX_REF) or "", head(repo))
    assert run_git(repo, "status", "--porcelain") == ""


def test_an_update_walks_only_the_new_commits(repo: Path) -> None:
    first = ids.update(repo).index
    # Leave c-1 out of the stored index: an update that rewalked history would put it back.
    forge(repo, ids.encode(ids.IdIndex(first.covers, ("a-1", "b-1", "top-1"))))
    write_request(repo, "d-1")
    commit_all(repo, "grant d-1")
    write_request(repo, "e-1")
    commit_all(repo, "grant e-1")
    extended = ids.update(repo)
    assert extended.how is ids.Update.EXTENDED and extended.reason is None
    assert extended.previous == first.covers and extended.index.covers == head(repo)
    assert extended.index.ids == ("a-1", "b-1", "d-1", "e-1", "top-1")
    assert extended.added == 2
    again = ids.update(repo)
    assert again.how is ids.Update.UNCHANGED and again.index == extended.index


def test_a_rewritten_branch_rebuilds_the_index(repo: Path) -> None:
    ids.update(repo)
    run_git(repo, "reset", "-q", "--hard", "HEAD~1")  # c-1 leaves the history
    write_request(repo, "f-1")
    commit_all(repo, "grant f-1")
    rebuilt = ids.update(repo)
    assert rebuilt.how is ids.Update.REBUILT
    assert "not in the history of HEAD" in (rebuilt.reason or "")
    assert rebuilt.index.ids == ("a-1", "b-1", "f-1")


def test_rebuild_on_request_ignores_the_stored_index(repo: Path) -> None:
    ids.update(repo)
    forge(repo, ids.encode(ids.IdIndex(head(repo), ("a-1",))))
    assert ids.update(repo).how is ids.Update.UNCHANGED  # it trusts what it is told to extend
    rebuilt = ids.update(repo, rebuild=True)
    assert rebuilt.how is ids.Update.REBUILT
    assert rebuilt.index.ids == ("a-1", "b-1", "c-1", "top-1")


ASKED = ("a-1", "b-1", "c-1", "d-1", "g-1", "never-1")


def test_with_the_index_the_answer_is_the_full_walks(repo: Path) -> None:
    ids.update(repo)
    write_request(repo, "d-1")  # after the index: found by walking covered..HEAD
    commit_all(repo, "grant d-1")
    full = ids.used_request_ids(repo, ASKED, index_ref=None)
    indexed = ids.used_request_ids(repo, ASKED)
    assert full.ids == indexed.ids == {"a-1", "b-1", "c-1", "d-1"}
    assert indexed.note is None and indexed.walked_from is not None
    assert full.walked_from is None


@pytest.mark.parametrize("since_base", [True, False])
def test_an_index_of_an_older_base_is_still_exact(repo: Path, since_base: bool) -> None:
    run_git(repo, "checkout", "-q", "-b", "later")
    write_request(repo, "g-1")
    commit_all(repo, "grant g-1")
    ids.update(repo, "later" if since_base else "main")
    used = ids.used_request_ids(repo, ASKED, "later")
    assert used.ids == {"a-1", "b-1", "c-1", "g-1"} and used.note is None


def test_an_index_outside_the_base_history_falls_back_and_says_so(repo: Path) -> None:
    ids.update(repo)
    run_git(repo, "reset", "-q", "--hard", "HEAD~1")  # rewritten: the index covers a lost commit
    write_request(repo, "c-1")
    commit_all(repo, "c-1 again, differently")
    used = ids.used_request_ids(repo, ASKED)
    assert used.ids == {"a-1", "b-1", "c-1"}
    assert used.walked_from is None
    assert used.note and "not in the base branch's history" in used.note
    assert "searched the whole history instead" in used.note


@pytest.mark.parametrize(
    "data",
    [
        b"garbage\n",
        f"{ids.HEADER}\ncovers {SHA}\nids 1\nb-1\n".encode(),  # a commit this repository lacks
    ],
)
def test_a_malformed_or_unknown_index_falls_back(repo: Path, data: bytes) -> None:
    forge(repo, data)
    used = ids.used_request_ids(repo, ASKED)
    assert used.ids == {"a-1", "b-1", "c-1"} and used.walked_from is None
    assert used.note and "the replay check searched the whole history" in used.note


def test_a_missing_index_falls_back_and_says_so(repo: Path) -> None:
    used = ids.used_request_ids(repo, ASKED)
    assert used.ids == {"a-1", "b-1", "c-1"}
    assert used.note and "there is no request-id index" in used.note


def test_an_index_ref_that_holds_no_index_file(repo: Path) -> None:
    git.write_file_commit(repo, ids.INDEX_REF, "other", b"x\n", "not an index\n")
    used = ids.used_request_ids(repo, ASKED)
    assert used.ids == {"a-1", "b-1", "c-1"}
    assert used.note and "has no `ids` file" in used.note


def test_an_oversized_index_is_not_read(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ids.update(repo)
    monkeypatch.setattr(ids, "MAX_INDEX_BYTES", 64)
    used = ids.used_request_ids(repo, ASKED)
    assert used.ids == {"a-1", "b-1", "c-1"}
    assert used.note and "over the limit" in used.note


def test_no_ids_asked_reads_nothing(repo: Path) -> None:
    assert ids.used_request_ids(repo, []) == ids.UsedIds(frozenset())


def test_a_forged_index_can_hide_an_id_from_the_fast_check_and_verify_finds_it(
    repo: Path,
) -> None:
    """The residual risk, stated as a test: someone with push access writes an index that
    omits a used id. The gate's fast path misses it; the full walk (apply's) and verify do
    not."""
    forge(repo, ids.encode(ids.IdIndex(head(repo), ("b-1", "c-1", "top-1", "zz-invented"))))
    assert ids.used_request_ids(repo, ["a-1"]).ids == frozenset()  # hidden from the gate
    assert ids.used_request_ids(repo, ["a-1"], index_ref=None).ids == {"a-1"}  # apply's walk
    check = ids.verify(repo)
    assert check is not None and not check.agrees
    assert check.hidden == ("a-1",)
    assert check.invented == ("zz-invented",)


def test_verify_agrees_with_an_honest_index_and_reports_the_rest(repo: Path) -> None:
    assert ids.verify(repo) is None  # no index: nothing to disagree
    ids.update(repo)
    honest = ids.verify(repo)
    assert honest is not None and honest.agrees and honest.covers == head(repo)
    forge(repo, b"garbage\n")
    broken = ids.verify(repo)
    assert broken is not None and broken.problem and "malformed" in broken.problem
    forge(repo, ids.encode(ids.IdIndex(SHA, ())))
    elsewhere = ids.verify(repo)
    assert elsewhere is not None and elsewhere.problem
    assert "not in the history of HEAD" in elsewhere.problem


def test_every_file_in_any_reachable_tree_counts(tmp_path: Path) -> None:
    """Git's default history simplification would lose x-1 here when asked about all of
    requests/ (the merge is TREESAME to the side branch), and never shows a file that a merge
    commit itself brings in (evil-1). The index and the full walk both see them."""
    root = make_access_repo(tmp_path / "access")
    run_git(root, "checkout", "-q", "-b", "pr")
    write_request(root, "y-1")
    commit_all(root, "request y-1")
    run_git(root, "checkout", "-q", "main")
    write_request(root, "x-1")
    commit_all(root, "grant x-1")
    (root / "requests" / "sandbox-db" / "readonly" / "x-1.yaml").unlink()
    commit_all(root, "revoke x-1")
    run_git(root, "merge", "-q", "--no-ff", "-m", "merge y-1", "pr")
    run_git(root, "checkout", "-q", "-b", "evil")
    run_git(root, "commit", "-q", "--allow-empty", "-m", "side")
    run_git(root, "checkout", "-q", "main")
    run_git(root, "merge", "-q", "--no-ff", "--no-commit", "evil")
    write_request(root, "evil-1")
    run_git(root, "add", "-A")
    run_git(root, "commit", "-q", "-m", "a merge that adds a file of its own")
    asked = ["x-1", "y-1", "evil-1", "never-1"]
    assert ids.used_request_ids(root, asked, index_ref=None).ids == {"x-1", "y-1", "evil-1"}
    assert ids.update(root).index.ids == ("evil-1", "x-1", "y-1")
    assert ids.used_request_ids(root, asked).ids == {"x-1", "y-1", "evil-1"}


def test_without_history_it_says_nothing_was_checked(tmp_path: Path) -> None:
    used = ids.used_request_ids(tmp_path, ["a-1"])
    assert used.ids == frozenset()
    assert used.note and "were not checked against history" in used.note


def test_ids_used_along_a_branch_agree_with_a_whole_walk_at_every_commit(tmp_path: Path) -> None:
    """UsedAlong walks each commit's history only from the one before; at every commit it
    must say what a walk of the whole history says, removed files and side branches included,
    and also after a jump to a commit that is no descendant."""
    root = make_access_repo(tmp_path / "access")
    commits = [head(root)]
    for step in range(4):
        write_request(root, f"along-{step}")
        if step == 2:
            (root / "requests" / "sandbox-db" / "readonly" / "along-0.yaml").unlink()
        commits.append(commit_all(root, f"step {step}"))
    run_git(root, "checkout", "-q", "-b", "side", commits[1])
    write_request(root, "side-1")
    side = commit_all(root, "side")
    used = ids.UsedAlong(root)
    asked = ["along-0", "along-1", "along-2", "along-3", "side-1"]
    for commit in [*commits, side, commits[-1]]:
        whole = ids.used_request_ids(root, asked, commit, index_ref=None).ids
        assert used.at(commit) & set(asked) == whole, commit


def test_ids_used_along_a_read_history_agree_with_a_whole_walk(tmp_path: Path) -> None:
    """Given the run's one read of the branch, UsedAlong answers without a git walk per
    commit, and still exactly: files a side branch added and removed before its merge, a file
    only an evil merge brought, and after a jump back to an earlier commit."""
    from tests.test_git import _merged_history

    root, start, chain = _merged_history(tmp_path)
    used = ids.UsedAlong(root, git.BranchHistory(root, chain[-1], start))
    asked = ["a-1", "gone-1", "kept-1", "b-1", "evil-1", "c-1", "d-1", "never-1"]
    for commit in [start, *chain, chain[1], chain[-1]]:
        whole = ids.used_request_ids(root, asked, commit, index_ref=None).ids
        assert used.at(commit) & set(asked) == whole, commit
    assert {"gone-1", "evil-1"} <= used.at(chain[-1])
