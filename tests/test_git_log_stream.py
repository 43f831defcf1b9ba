"""``jitops.git.log_stream``: the first-parent history streamed, the same as read whole, and a
history git cut short or wrote oddly is an error, never a shorter history."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from jitops import git
from jitops.errors import GitError
from jitops.git import log_stream
from tests.commands.test_audit_history import changes_as_before
from tests.gitrepo import commit_all, init_repo
from tests.gitrepo import git as run_git

ODD_NAMES = [
    "requests/a b/c.yaml",  # a space
    "requests/x/y/\x01z.yaml",  # the byte that starts a commit in the log
    "requests/x/y/new\nline.yaml",
    "requests/x/y/:colon.yaml",
    "requests/x/y/ünï.yaml",
]


@pytest.fixture
def history(tmp_path: Path) -> Path:
    """Adds, edits, deletions, odd names, a change of type, and a merged side branch."""
    root = init_repo(tmp_path / "r")
    (root / "README").write_text("x\n")
    commit_all(root, "start", date="2026-01-01T00:00:00Z")
    for index, name in enumerate(ODD_NAMES):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(f"{index}\n")
    commit_all(root, "odd names", date="2026-01-02T00:00:00Z")
    (root / ODD_NAMES[0]).write_text("edited\n")
    (root / ODD_NAMES[1]).unlink()
    (root / "outside.txt").write_text("not under requests\n")
    commit_all(root, "edit and delete", date="2026-01-03T00:00:00Z")
    (root / ODD_NAMES[3]).unlink()
    os.symlink("elsewhere", root / ODD_NAMES[3])
    commit_all(root, "a file becomes a link", date="2026-01-04T00:00:00Z")
    run_git(root, "switch", "-q", "-c", "side")
    (root / "requests" / "side.yaml").write_text("side\n")
    commit_all(root, "side 1", date="2026-01-05T00:00:00Z")
    (root / "requests" / "side.yaml").write_text("side again\n")
    commit_all(root, "side 2", date="2026-01-06T00:00:00Z")
    run_git(root, "switch", "-q", "main")
    run_git(root, "merge", "-q", "--no-ff", "-m", "merge side", "side")
    (root / "README").write_text("only outside\n")
    commit_all(root, "outside only", date="2026-01-08T00:00:00Z")
    return root


def test_the_stream_is_the_whole_history_newest_first(history: Path) -> None:
    streamed = list(log_stream.first_parent_log(history, "HEAD", ["requests"]))
    flat = [
        (c.commit, c.at, change.status, change.path)
        for c in reversed(streamed)
        for change in c.changes
    ]
    # as the whole history read at once saw it (which fails on a name holding \x01: left out)
    others = ("requests/a b", "requests/x/y/new\nline.yaml", "requests/x/y/:*", "requests/x/y/ü*")
    as_before = changes_as_before(history, "HEAD", (*others, "requests/side.yaml"))
    assert [c for c in flat if c[3] != ODD_NAMES[1]] == [
        (c.commit, c.at, c.status, c.path) for c in as_before
    ]
    assert len(streamed) == 4  # the side branch comes as its merge; "outside only" is not there
    latest = {change.path: change for c in reversed(streamed) for change in c.changes}
    assert set(ODD_NAMES) <= set(latest)
    assert latest[ODD_NAMES[1]].status == "D"
    assert latest[ODD_NAMES[3]].status == "T" and latest[ODD_NAMES[3]].mode == "120000"
    for c in streamed:  # each id is the object at the path after the change
        for change in c.changes:
            if change.status != "D":
                shown = run_git(history, "rev-parse", f"{c.commit}:{change.path}").strip()
                assert change.object_id == shown, change


def test_a_ref_git_cannot_walk_is_an_error(history: Path) -> None:
    with pytest.raises(GitError, match="git log"):
        list(log_stream.first_parent_log(history, "no-such-branch", ["requests"]))


class _Exited:
    def __init__(self, code: int) -> None:
        self.returncode = code

    def wait(self) -> int:
        return self.returncode


def _parsed(output: bytes, code: int = 0) -> list[log_stream.LoggedCommit]:
    read, write = os.pipe()
    os.write(write, output)
    os.close(write)
    errors = open(os.devnull, "rb")  # noqa: SIM115
    try:
        process: subprocess.Popen[bytes] = _Exited(code)  # type: ignore[assignment]
        return list(log_stream._commits(read, process, errors))
    finally:
        os.close(read)
        errors.close()


SHA = "a" * 40
CHANGE = f":000000 100644 {'0' * 40} {'b' * 40} A\0requests/x.yaml\0".encode()


def test_well_formed_output_parses() -> None:
    [commit] = _parsed(f"\x01{SHA} 1700000000\0\n".encode() + CHANGE)
    assert commit.commit == SHA
    assert commit.changes == (log_stream.RawChange("A", "requests/x.yaml", "100644", "b" * 40),)


@pytest.mark.parametrize(
    "output",
    [
        f"\x01{SHA} 1700000000\0\n".encode() + CHANGE[:-18],  # cut before the path
        f"\x01{SHA} 1700000000\0\n".encode() + CHANGE + b"\x01trailing",  # cut in a record
        f"\x01{SHA} soon\0".encode(),  # no time
        f"\x01{SHA} 1700000000\0::100644 100644 x y z\0".encode(),  # a combined diff
        f"\x01{SHA} 1700000000\0something else\0".encode(),
        CHANGE,  # a change before any commit
    ],
)
def test_output_it_does_not_understand_is_an_error(output: bytes) -> None:
    with pytest.raises(GitError):
        _parsed(output)


def test_a_failed_git_is_an_error_even_after_good_output() -> None:
    with pytest.raises(GitError, match="exited 128"):
        _parsed(f"\x01{SHA} 1700000000\0\n".encode() + CHANGE, code=128)


def test_note_objects_name_each_commits_note_blob(history: Path) -> None:
    assert git.note_objects(history) == {}
    head = run_git(history, "rev-parse", "HEAD").strip()
    run_git(history, "notes", f"--ref={git.NOTES_REF}", "add", "-m", "hello", head)
    [(commit, blob)] = git.note_objects(history).items()
    assert git.notes(history) == {head: b"hello\n"}
    assert commit == head
    assert git.read_blobs(history, [blob])[blob] == b"hello\n"
