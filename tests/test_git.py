"""``jitops.git``'s view of a person's checkout: what ``checkout_state`` notices, and who
``set_identity`` makes the author."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from jitops import git
from tests.gitrepo import commit_all, init_repo
from tests.gitrepo import git as run_git


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """A clean clone of a repository with one commit, as a person has it."""
    origin = init_repo(tmp_path / "origin")
    (origin / "README").write_text("hello\n")
    commit_all(origin, "first")
    run_git(tmp_path, "clone", "-q", str(origin), str(tmp_path / "clone"))
    return tmp_path / "clone"


def _stage(root: Path) -> None:
    (root / "README").write_text("staged\n")
    run_git(root, "add", "README")


def _edit(root: Path) -> None:
    (root / "README").write_text("edited\n")


def _untracked(root: Path) -> None:
    (root / "requests").mkdir()
    (root / "requests" / "new.yaml").write_text("id: x\n")


def _commit(root: Path) -> None:
    commit_all(root, "more")


def _new_branch(root: Path) -> None:
    run_git(root, "branch", "jitops/request/x")


def _switch(root: Path) -> None:
    run_git(root, "switch", "-q", "-c", "elsewhere")


def _remove(root: Path) -> None:
    (root / "README").unlink()


@pytest.mark.parametrize(
    "disturb", [_stage, _edit, _untracked, _commit, _new_branch, _switch, _remove]
)
def test_checkout_state_notices_what_a_person_would(
    clone: Path, disturb: Callable[[Path], None]
) -> None:
    before = git.checkout_state(clone)
    assert git.checkout_state(clone) == before  # reading it changes nothing
    disturb(clone)
    assert git.checkout_state(clone) != before


def test_checkout_state_leaves_out_fetches_and_objects(clone: Path, tmp_path: Path) -> None:
    before = git.checkout_state(clone)
    origin = tmp_path / "origin"
    (origin / "README").write_text("upstream moved\n")
    commit_all(origin, "upstream")
    run_git(clone, "fetch", "-q", "origin")  # a new remote-tracking ref and new objects
    run_git(clone, "hash-object", "-w", "README")
    assert git.checkout_state(clone) == before


def test_set_identity_makes_the_author_of_commits_in_that_clone(
    clone: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for who in ("AUTHOR", "COMMITTER"):  # the suite's own identity, set for every test
        monkeypatch.delenv(f"GIT_{who}_NAME")
        monkeypatch.delenv(f"GIT_{who}_EMAIL")
    git.set_identity(clone, "Alice", "alice@users.noreply.example.com")
    assert git.identity_problem(clone) is None
    (clone / "notes").write_text("x\n")
    commit_all(clone, "by alice")
    assert run_git(clone, "log", "-1", "--format=%an <%ae>").strip() == (
        "Alice <alice@users.noreply.example.com>"
    )


def test_a_landing_is_the_last_change_and_says_whether_it_was_an_edit(tmp_path: Path) -> None:
    from jitops import git as jgit
    from tests.gitrepo import commit_all, init_repo

    root = init_repo(tmp_path / "r")
    (root / "requests").mkdir()
    (root / "requests" / "a.yaml").write_text("one\n")
    added = commit_all(root, "add")
    (root / "README").write_text("x\n")
    commit_all(root, "unrelated")
    first = jgit.landings(root, "HEAD", ["requests"])["requests/a.yaml"]
    assert first.commit == added and not first.edited
    (root / "requests" / "a.yaml").write_text("two\n")
    edited = commit_all(root, "edit")
    landing = jgit.landings(root, "HEAD", ["requests"])["requests/a.yaml"]
    assert landing.commit == edited and landing.edited


def test_the_policy_fingerprint_ignores_requests_only(tmp_path: Path) -> None:
    from jitops import git as jgit
    from tests.gitrepo import commit_all, git, init_repo

    root = init_repo(tmp_path / "r")
    (root / "requests").mkdir()
    (root / "requests" / "a.yaml").write_text("one\n")
    (root / "policy.yaml").write_text("p\n")
    first = commit_all(root, "first")
    (root / "requests" / "b.yaml").write_text("two\n")
    second = commit_all(root, "a request")
    git(root, "update-index", "--chmod=+x", "policy.yaml")
    git(root, "commit", "-q", "-m", "mode")
    third = git(root, "rev-parse", "HEAD").strip()
    fingerprint = [jgit.tree_outside(root, c, "requests") for c in (first, second, third)]
    assert fingerprint[0] == fingerprint[1] != fingerprint[2]
    changing = jgit.first_parent_commits_changing(root, "HEAD", excluding="requests")
    assert changing == [first, third]


def _merged_history(tmp_path: Path) -> tuple[Path, str, list[str]]:
    """A branch of merges as GitHub makes them, after a start: side branches that add a file
    and remove it again before merging, an evil merge that brings a file no parent has, a
    policy change, a mode change, a direct push. (repository, the start, the first-parent
    commits after it, oldest first)."""
    root = init_repo(tmp_path / "r")
    (root / "requests").mkdir()
    (root / "policy.yaml").write_text("p\n")
    (root / "requests" / "a-1.yaml").write_text("a\n")
    start = commit_all(root, "installation")

    def merge(branch: str, make: Callable[[], None], *, evil: str | None = None) -> str:
        run_git(root, "checkout", "-q", "-b", branch)
        make()
        run_git(root, "checkout", "-q", "main")
        run_git(root, "merge", "-q", "--no-ff", "--no-commit", branch)
        if evil:
            (root / "requests" / evil).write_text("evil\n")
            run_git(root, "add", "-A")
        run_git(root, "commit", "-q", "-m", f"merge {branch}")
        return run_git(root, "rev-parse", "HEAD").strip()

    def add_then_remove() -> None:
        (root / "requests" / "gone-1.yaml").write_text("g\n")
        commit_all(root, "add gone")
        (root / "requests" / "gone-1.yaml").unlink()
        (root / "requests" / "kept-1.yaml").write_text("k\n")
        commit_all(root, "remove gone")

    def policy() -> None:
        (root / "policy.yaml").write_text("loosened\n")
        commit_all(root, "policy")

    def request(name: str) -> Callable[[], None]:
        def make() -> None:
            (root / "requests" / name).write_text(name + "\n")
            commit_all(root, name)

        return make

    chain = [merge("one", add_then_remove)]
    chain.append(merge("two", request("b-1.yaml"), evil="evil-1.yaml"))
    chain.append(merge("three", policy))
    chain.append(merge("four", request("c-1.yaml")))
    run_git(root, "update-index", "--chmod=+x", "policy.yaml")
    run_git(root, "commit", "-q", "-m", "mode, pushed directly")
    chain.append(run_git(root, "rev-parse", "HEAD").strip())
    chain.append(merge("five", request("d-1.yaml")))
    return root, start, chain


def test_a_branch_history_read_once_answers_as_git_does_at_every_commit(tmp_path: Path) -> None:
    """BranchHistory answers from one read of the range what per-commit git calls answer:
    parents, order, ancestry, the commits changing outside a folder, which commit's state
    outside it a commit shares, what each first-parent commit merged in, what each added."""
    root, start, chain = _merged_history(tmp_path)
    history = git.BranchHistory(root, chain[-1], start)
    assert history.commits == chain and history.since_on_chain
    assert history.order(reversed(chain)) == chain
    merged: set[str] = set()
    for index, commit in enumerate(chain):
        assert history.parents(commit) == git.parents(root, commit)
        assert history.changing_outside("requests", commit) == git.first_parent_commits_changing(
            root, commit, excluding="requests", since=start
        )
        same = history.same_outside("requests", commit)
        assert same is not None
        assert git.tree_outside(root, same, "requests") == git.tree_outside(
            root, commit, "requests"
        )
        for earlier in chain[: index + 1]:
            assert history.is_ancestor(earlier, commit)
        assert not history.is_ancestor(chain[-1], commit) or commit == chain[-1]
        merged |= set(history.merged_in(commit))
        walked = run_git(root, "rev-list", commit, f"^{start}").split()
        assert merged == set(walked), commit
        added = {p for sha in merged for p in history.added_by(["requests"]).get(sha, [])}
        assert added == git.added_paths(root, commit, ["requests"], since=start), commit
    assert {"requests/gone-1.yaml", "requests/evil-1.yaml"} <= added
    # outside the range, the same questions go to git
    side = run_git(root, "rev-parse", "one").strip()
    assert history.position(side) is None
    assert history.parents(side) == git.parents(root, side)
    assert history.changing_outside("requests", side) is None
    assert history.is_ancestor(side, chain[-1]) and not history.is_ancestor(chain[-1], side)


def test_a_blob_reader_answers_as_one_batch_does_and_never_stalls(tmp_path: Path) -> None:
    root, _, chain = _merged_history(tmp_path)
    names = [f"{c}:requests/{n}" for c in chain for n in ("a-1.yaml", "b-1.yaml", "nope.yaml")]
    names += ["0" * 40, "HEAD:policy.yaml", "HEAD:requests\nHEAD:policy.yaml", "HEAD"]
    with git.BlobReader(root) as reader:
        for _ in range(200):  # many questions, one process
            found = reader.read(names)
    expected = git.read_blobs(root, [n for n in names if "\n" not in n])
    assert found == expected
    assert found["HEAD:policy.yaml"] == b"loosened\n"
    assert "HEAD:requests\nHEAD:policy.yaml" not in found
    assert not any(n.endswith("nope.yaml") for n in found)


def test_a_blob_reader_asks_many_names_in_chunks_and_answers_each(tmp_path: Path) -> None:
    """One read of far more questions than a chunk holds (and than a pipe's buffer: some
    hundred kilobytes of names, megabytes of answers) answers every name as git does, in
    order, missing ones absent, without either side waiting on the other for ever."""
    root, _, chain = _merged_history(tmp_path)
    (root / "big.txt").write_bytes(b"x" * 200_000)
    big = commit_all(root, "a big file")
    names = [f"{c}:requests/{n}" for c in chain for n in ("a-1.yaml", "b-1.yaml", "nope.yaml")]
    names = [*names, f"{big}:big.txt"] * 300
    assert len("\n".join(names)) > 10 * 16384
    with git.BlobReader(root) as reader:
        found = reader.read(names)
    assert found == git.read_blobs(root, sorted(set(names)))
    assert found[f"{big}:big.txt"] == b"x" * 200_000


def test_streamed_blobs_come_in_order_in_chunks_as_one_batch_reads_them(tmp_path: Path) -> None:
    """Far more names than a pipe holds, and megabytes of answers: every name answered in
    order, chunk by chunk, a missing one as None, nothing stalled."""
    root, _, chain = _merged_history(tmp_path)
    (root / "big.txt").write_bytes(b"x" * 200_000)
    big = commit_all(root, "a big file")
    names = [f"{c}:requests/{n}" for c in chain for n in ("a-1.yaml", "b-1.yaml", "nope.yaml")]
    names = [*names, f"{big}:big.txt"] * 300
    chunks = list(git.stream_blobs(root, names, 7))
    assert [len(c) for c in chunks] == [7] * (len(names) // 7) + (
        [len(names) % 7] * (len(names) % 7 > 0)
    )
    streamed = [answer for chunk in chunks for answer in chunk]
    assert [name for name, _ in streamed] == names
    batch = git.read_blobs(root, sorted(set(names)))
    assert all(raw == batch.get(name) for name, raw in streamed)
    assert any(raw is None for _, raw in streamed) and any(
        raw == b"x" * 200_000 for _, raw in streamed
    )
    assert list(git.stream_blobs(root, [], 7)) == []


def test_a_blob_reader_remembers_only_names_that_cannot_change(tmp_path: Path) -> None:
    """Within ``remembering`` an answer to a full id (or a full id and a path) is kept, and the
    same object asked by its id is answered from it; a name that moves ("HEAD:…") is asked
    again, so a commit made inside the scope is seen; outside the scope nothing is kept."""
    root = init_repo(tmp_path / "r")
    (root / "f.txt").write_text("one\n")
    first = commit_all(root, "one")
    blob = run_git(root, "rev-parse", f"{first}:f.txt").strip()
    with git.BlobReader(root) as reader:
        with reader.remembering():
            assert reader.read([f"{first}:f.txt", "HEAD:f.txt"]) == {
                f"{first}:f.txt": b"one\n",
                "HEAD:f.txt": b"one\n",
            }
            (root / "f.txt").write_text("two\n")
            commit_all(root, "two")
            assert reader.read(["HEAD:f.txt"]) == {"HEAD:f.txt": b"two\n"}
            assert reader._recent[blob][2] == b"one\n"  # the blob by its id, from the path
            assert reader.read([blob]) == {blob: b"one\n"}
        assert reader._recent == {}
        assert reader.read([f"{first}:f.txt"]) == {f"{first}:f.txt": b"one\n"}


def test_a_blob_reader_reads_modes_as_ls_tree_does(tmp_path: Path) -> None:
    """Modes from the folders' tree objects, as ``ls-tree`` prints them: a file, an
    executable, a link, a path through a link (no file), and nothing for what is
    not there; None for a commit the repository does not have."""
    root = init_repo(tmp_path / "r")
    folder = root / "requests" / "box" / "op"
    folder.mkdir(parents=True)
    (folder / "plain.yaml").write_text("a\n")
    (folder / "run.yaml").write_text("b\n")
    (folder / "link.yaml").symlink_to("plain.yaml")
    (root / "requests" / "through").symlink_to("box")
    (root / "top.yaml").write_text("t\n")
    commit_all(root, "files")
    run_git(root, "update-index", "--chmod=+x", "requests/box/op/run.yaml")
    run_git(root, "commit", "-q", "-m", "executable")
    head = run_git(root, "rev-parse", "HEAD").strip()
    paths = [
        "requests/box/op/plain.yaml", "requests/box/op/run.yaml", "requests/box/op/link.yaml",
        "requests/through/op/plain.yaml", "requests/box/op/none.yaml",
        "requests/none/x.yaml", "top.yaml", "requests/box/op/plain.yaml/x",
    ]  # fmt: skip
    with git.BlobReader(root) as reader:
        found = reader.modes_at(head, paths)
        assert reader.modes_at("0" * 40, paths) is None
        assert reader.modes_at(f"{head}:top.yaml", paths) is None  # a blob, no commit
    assert found == git.modes_at(root, head, paths)
    assert found == {
        "requests/box/op/plain.yaml": "100644",
        "requests/box/op/run.yaml": "100755",
        "requests/box/op/link.yaml": "120000",
        "top.yaml": "100644",
    }


@pytest.mark.attack(3, "a look-alike file lends a regular file's mode to a link")
def test_a_look_alike_entry_cannot_lend_its_mode_to_a_link(tmp_path: Path) -> None:
    """A regular file named ``100644 link.yaml`` holding the link text's bytes sits beside the
    link ``link.yaml``: the one-search reading of a mode is not sure, reads the folder entry by
    entry, and the link is still a link."""
    root = init_repo(tmp_path / "r")
    folder = root / "requests"
    folder.mkdir()
    (folder / "target.yaml").write_text("a\n")
    (folder / "link.yaml").symlink_to("target.yaml")
    (folder / "100644 link.yaml").write_text("target.yaml")  # the link's blob, as a file
    (folder / "x 120000 plain.yaml").write_text("p\n")
    (folder / "plain.yaml").write_text("p\n")
    head = commit_all(root, "look-alikes")
    paths = ["requests/link.yaml", "requests/plain.yaml", "requests/100644 link.yaml"]
    with git.BlobReader(root) as reader:
        found = reader.modes_at(head, paths)
    assert found == git.modes_at(root, head, paths)
    assert found == {
        "requests/link.yaml": "120000",
        "requests/plain.yaml": "100644",
        "requests/100644 link.yaml": "100644",
    }


def test_publishing_notes_wins_a_lost_race_by_merging_and_pushing_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two runs publish notes at once: the other one's push lands between this run's merge
    of the remote's notes and its own push, which git refuses as no fast-forward. It merges
    again and pushes: both runs' notes are on the remote, none lost."""
    origin = init_repo(tmp_path / "origin")
    (origin / "README").write_text("hello\n")
    first = commit_all(origin, "first")
    second = commit_all(origin, "second")
    run_git(tmp_path, "clone", "-q", "--bare", str(origin), str(tmp_path / "remote.git"))
    clones = []
    for name in ("a", "b"):
        run_git(tmp_path, "clone", "-q", str(tmp_path / "remote.git"), str(tmp_path / name))
        clones.append(tmp_path / name)
    a, b = clones
    git.add_note(a, first, "from a\n")
    git.add_note(b, second, "from b\n")
    real_pull = git.pull_notes
    raced = []

    def pull_then_lose_the_race(root: Path, **kwargs: object) -> bool:
        merged = real_pull(root, **kwargs)  # type: ignore[arg-type]
        if root == b and not raced:
            raced.append(True)
            git.push_notes(a)  # the other run pushes now
        return merged

    monkeypatch.setattr(git, "pull_notes", pull_then_lose_the_race)
    git.push_notes(b)
    assert raced
    monkeypatch.setattr(git, "pull_notes", real_pull)
    check = tmp_path / "check"
    run_git(tmp_path, "clone", "-q", str(tmp_path / "remote.git"), str(check))
    assert git.pull_notes(check)
    notes = git.notes(check)
    assert notes[first] == b"from a\n" and notes[second] == b"from b\n"
