"""What a terminal shows is text (invariants 6 and 8): git notes are records anyone who can push
may write, and a target's error is the target's text. An escape sequence in one — clearing the
screen, moving the cursor up over the row of a grant nobody approved, retitling the window —
is printed as its escape (``\\x1b``), never sent to the terminal raw."""

from __future__ import annotations

from pathlib import Path

import pytest

from jitops import evidence
from tests.commands.test_audit import approval
from tests.e2e.conftest import CLI
from tests.gitrepo import commit_all, land_action, make_access_repo, write_request

HIDE_ROW = "\x1b[1A\x1b[2K"  # cursor up one line, erase it
RETITLE = "\x1b]0;all clear\x07"


@pytest.mark.attack(8, "hide an audit row behind escape sequences in a forged note")
def test_escape_sequences_in_forged_notes_print_as_text(tmp_path: Path, cli: CLI) -> None:
    root = make_access_repo(tmp_path / "access")
    path = write_request(root, "ok-1", duration="4h")
    merged = commit_all(root, "grant (#7)", date="2026-11-23T09:00:00Z")
    forged = approval("ok-1", path.relative_to(root).as_posix())
    [request] = forged.requests
    approver = evidence.Approver(login=f"bob{HIDE_ROW}", review_id=11)
    forged = forged.model_copy(
        update={"requests": [request.model_copy(update={"approvers": [approver]})]}
    )
    evidence.record(root, merged, forged)
    land_action(
        root, "fix-1", date="2026-11-23T10:00:00Z", pull_request=8,
        state=f"performed{RETITLE}", identity=RETITLE, digest=HIDE_ROW + "ab" * 30,
        approvers=[f"bob{HIDE_ROW}", "carol"],
    )  # fmt: skip
    listing = cli("audit", "--repo", str(root), "--no-fetch-notes")
    assert listing.code == 0, listing.output
    assert "\x1b" not in listing.output and "\x07" not in listing.output
    assert "bob\\x1b[1A\\x1b[2K" in listing.out  # the forged login, shown as what it is
    [row] = [line for line in listing.out.splitlines() if line.startswith("fix-1 ")]
    # an approver that is no login is dropped (bob: from the started step), a state no run
    # writes is unknown
    assert row.split()[3:6] == ["@bob", "@carol", "unknown"], row
    assert "\\x1b[1A" in row  # the digest's escapes, as text
    verified = cli("audit", "--repo", str(root), "--no-fetch-notes", "verify")
    assert "\x1b" not in verified.output
