"""Attacks on what counts as a request file (invariants 3 and 6): a symbolic link whose link
text reads as a request, a request named ``.json`` or ``.txt`` (which the ledger would
skip), and a malformed file.

What the attacker can do: commit any git entry under requests/. What they cannot: get the
check to say "approved" for something validate refuses and apply and the ledger skip — one
definition of a request file serves them all — or get past the loader without file and line.
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.apply_world import World, apply, forge_status
from tests.e2e.conftest import CLI
from tests.e2e.gate_world import GateWorld, status_of
from tests.gitrepo import PROJECT


def _push_entry(gate: GateWorld, branch: str, path: str, content: bytes, mode: str) -> None:
    """Push one file with any git mode (a link, a submodule) as alice: what git allows."""
    from jitops.testing.github.gitstore import TreeChange

    hub = gate.server.hub
    store, ref = hub.git(gate.repo), f"refs/heads/{branch}"
    before = store.branch_sha(branch)
    parent = before or store.branch_sha("main")
    assert parent is not None
    tree = store.write_tree([TreeChange(path, content, mode)], store.commit(parent).tree)
    sha = store.commit_tree(tree, [parent], "add\n", hub.identity(gate.login("alice")))
    store.update_ref(ref, sha, before or "0" * 40)
    hub.refs_changed(gate.repo, gate.login("alice"), [(ref, before or "0" * 40, sha)])


@pytest.mark.attack(3, "a symbolic link whose link text reads as a request")
def test_a_link_whose_text_reads_as_a_request_is_no_request(
    gate: GateWorld,
    check,  # type: ignore[no-untyped-def]
) -> None:
    """Attack (one definition of a request file): a symbolic link whose link text is a valid
    auto-approvable request. validate refuses it and apply and the ledger skip it, so the
    check must not pass it either: it is refused, naming it; the same bytes as a regular file
    pass (control)."""
    path = "requests/sandbox-db/readonly/link-1.yaml"
    text = gate.request_text("link-1", role="readonly").encode()
    _push_entry(gate, "link", path, text, "120000")
    number = gate.server.hub.open_pull(
        gate.repo, head="link", title="link", user=gate.login("alice")
    ).number
    assert check(number).code == 1
    state, description = status_of(gate, number)
    assert state == "failure" and "is a symbolic link" in description
    _push_entry(gate, "plain", path, text, "100644")
    plain = gate.server.hub.open_pull(
        gate.repo, head="plain", title="plain", user=gate.login("alice")
    ).number
    assert check(plain).code == 0


@pytest.mark.attack(3, "a request the ledger would skip (.json, .txt)")
def test_a_request_file_of_another_name_is_refused(
    gate: GateWorld,
    check,  # type: ignore[no-untyped-def]
) -> None:
    """A ``.json`` or ``.txt`` file under requests/ is skipped by the ledger, so it would
    grant nothing while the check said "approved": it is refused with the fix. A placeholder
    nobody reads (``.gitkeep``) is neither a request nor a policy change."""
    text = gate.request_text("json-1", role="readonly")
    for suffix in (".json", ".txt"):
        path = f"requests/sandbox-db/readonly/json-1{suffix}"
        number = gate.open_pull(f"odd{suffix}", {path: text})
        assert check(number).code == 1
        assert "does not end in .yaml or .yml" in status_of(gate, number)[1]
    keep = gate.open_pull("keep", {"requests/sandbox-db/.gitkeep": ""}, by="mallory")
    assert check(keep).code == 0


@pytest.mark.attack(6, "a malformed request file")
def test_malformed_request_file_is_refused_with_its_line(gate: GateWorld, check) -> None:  # type: ignore[no-untyped-def]
    path = "requests/sandbox-db/readonly/bad-1.yaml"
    number = gate.open_pull("bad", {path: "apiVersion: jitops/v1\nkind: AccessRequest\nkind: x\n"})
    result = check(number)
    assert result.code == 1
    assert f"{path}:3:1: error: duplicate key" in result.out
    assert f"::error file={path},line=3,col=1" not in result.out  # annotations only in Actions


# Hostile documents, each stating its refusal on its first line: `# expect line=L column=C: words`
CORPUS = PROJECT / "tests" / "fuzz" / "corpus"
EXPECT = re.compile(r"^# expect line=(\d+) column=(\d+): (.+)$")


def hostile_documents() -> dict[str, tuple[bytes, tuple[str, str]]]:
    """Each corpus document as a request file: its path, its bytes, and how the refusal
    expected of it starts and what it says."""
    found = {}
    for document in sorted(CORPUS.glob("*.yaml")):
        raw = document.read_bytes()
        match = EXPECT.match(raw.split(b"\n", 1)[0].decode())
        assert match, document
        path = f"requests/sandbox-db/readonly/{document.stem}.yaml"
        found[path] = (raw, (f"{path}:{match[1]}:{match[2]}: error: ", match[3]))
    return found


@pytest.mark.attack(6, "hostile YAML as request files: tags, complex keys, control characters")
def test_every_hostile_document_is_refused_at_its_line_and_column(
    gate: GateWorld,
    check,  # type: ignore[no-untyped-def]
) -> None:
    """Documents that made ruamel's constructors raise (``!!bool x``, ``!!int ""``, a list as a
    key), a control character, a plain ``=``, nesting past 16 levels, anchors, duplicate and
    merge keys: one pull request adds them all. The check refuses each with file, line,
    column and what to fix, in one run; nothing reads "internal error"."""
    documents = hostile_documents()
    number = gate.open_pull("hostile", {path: raw for path, (raw, _) in documents.items()})
    result = check(number)
    assert result.code == 1, result.output
    lines = result.out.splitlines()
    for where, words in (expected for _, expected in documents.values()):
        [line] = [line for line in lines if line.startswith(where)]
        assert words in line and " — " in line, line  # what is wrong, and what to do
    assert "internal error" not in result.output and "Traceback" not in result.output
    assert status_of(gate, number)[0] == "failure"


@pytest.mark.attack(6, "merge hostile YAML beside an approved request, on a forged status")
def test_apply_refuses_a_merge_holding_a_hostile_document_and_grants_nothing_of_it(
    world: World, cli: CLI
) -> None:
    """Merged anyway (a forged status, bob's approval of the request beside it): apply names
    each hostile file with line and column, grants nothing from that merge and exits 1 — no
    traceback, no partial apply."""
    documents = {
        f"requests/legacy/operator/{path.rsplit('/', 1)[1]}": raw
        for path, (raw, _) in hostile_documents().items()
        if any(kind in path for kind in ("bool-tag.", "complex-key", "control-character."))
    }
    path, text = world.request("beside-1")
    number = world.open_pull("hostile", {path: text, **documents})
    forge_status(world, number)
    world.server.hub.review(world.repo, number, user=world.login("bob"), event="APPROVE")
    world.merge(number)
    result = apply(world, cli, world.pull_base())
    assert result.code == 1, result.output
    for hostile in documents:
        assert hostile in result.output, result.output
    assert "internal error" not in result.output and "Traceback" not in result.output
    assert world.legacy.held() == set()
