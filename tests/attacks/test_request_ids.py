"""Attacks on request ids (invariants 3 and 8): a landed request added again, and the
request-id index (``refs/jitops/ids``, a ref any writer can push) forged to leave a used id
out, or pointed at another history.

What the attacker can do: push any ref, and fool the check's fast lookup with a forged index.
What they cannot: get a replayed id granted — apply judges ids against the whole history —
or hide the forgery from ``index --check`` and ``audit verify``.
"""

from __future__ import annotations

import subprocess

import pytest

from jitops import git, ids
from tests.e2e.apply_world import World, apply, grant, remote_index
from tests.e2e.conftest import CLI, Run
from tests.e2e.gate_world import GateWorld, comments_of


def land_and_remove(gate: GateWorld, request_id: str) -> None:
    """A readonly (auto-approved) request merges, then a removal takes it off the branch."""
    number = gate.open_request(request_id, role="readonly", ticket=None)
    gate.merge(number)
    path = f"requests/sandbox-db/readonly/{request_id}.yaml"
    gate.merge(gate.open_pull(f"drop-{request_id}", {path: None}))


def publish_index(gate: GateWorld, cli: CLI) -> str:
    """``jitops index --push`` from a checkout of its own, as apply does in its workflow."""
    checkout = gate.work / "apply-checkout"
    if not checkout.exists():
        url = gate.server.file_url(gate.repo.full_name)
        subprocess.run(["git", "clone", "-q", url, str(checkout)], check=True)
    subprocess.run(["git", "-C", str(checkout), "pull", "-q", "--ff-only"], check=True)
    result = cli("index", "--repo", str(checkout), "--push")
    assert result.code == 0, result.output
    return result.out


def replay(gate: GateWorld, check, request_id: str) -> tuple[int, Run]:  # type: ignore[no-untyped-def]
    """Open a pull request that adds ``request_id`` again, and check it."""
    number = gate.open_request(
        request_id,
        role="readonly",
        ticket=None,
        branch=f"replay-{request_id}-{len(gate.server.hub.state.pulls_of(gate.repo.id))}",
    )
    return number, check(number)


@pytest.mark.attack(3, "replay a landed request id")
def test_replaying_a_landed_request_id_is_refused(gate: GateWorld, check) -> None:  # type: ignore[no-untyped-def]
    land_and_remove(gate, "old-1")
    number, result = replay(gate, check, "old-1")
    assert result.code == 1
    assert "already used on the base branch" in result.out
    # no index on the remote: the whole history was searched, and the check says so
    assert "jitops: note: there is no request-id index" in result.err
    [comment] = comments_of(gate, number)
    assert "**Note:** there is no request-id index" in comment
    assert "searched the whole history instead (exact, slower)" in comment


def test_replaying_is_refused_through_the_index_and_after_it_moves_on(
    gate: GateWorld,
    check,  # type: ignore[no-untyped-def]
    cli: CLI,
) -> None:
    land_and_remove(gate, "idx-1")
    assert "rebuilt from the whole history" in publish_index(gate, cli)
    covered = git.resolve(gate.base, "HEAD")
    assert git.resolve(gate.base, ids.INDEX_REF) is None
    land_and_remove(gate, "idx-2")  # after the index: found by walking covered..base
    for request_id in ("idx-1", "idx-2"):
        _, result = replay(gate, check, request_id)
        assert result.code == 1, result.output
        assert "already used on the base branch" in result.out
        assert "note:" not in result.err  # the index was used, so nothing to say
    # The workflow's checkout has no index of its own: check-pr fetched the remote's.
    assert ids.load(gate.base).index == ids.IdIndex(covered or "", ("idx-1",))

    land_and_remove(gate, "idx-3")
    assert "extended over" in publish_index(gate, cli)  # as apply does after a merge
    for request_id in ("idx-1", "idx-2", "idx-3"):
        _, result = replay(gate, check, request_id)
        assert result.code == 1 and "note:" not in result.err
    fresh = gate.open_request("idx-4", role="readonly", ticket=None)
    assert check(fresh).code == 0  # a new id passes


@pytest.mark.attack(8, "forge the request-id index to hide a replay")
def test_a_forged_index_can_hide_an_id_from_the_gate_and_audit_verify_finds_it(
    gate: GateWorld,
    check,  # type: ignore[no-untyped-def]
    cli: CLI,
) -> None:
    """The residual risk, attacked: anyone with push access can write refs/jitops/ids. An index
    that leaves out a used id gets a replay past the gate's fast check — which is why apply
    judges ids against the whole history before it grants (the next test but one), and why
    audit verify compares the index with history."""
    land_and_remove(gate, "forged-1")
    head = git.resolve(gate.base, "HEAD") or ""
    git.write_file_commit(
        gate.base, ids.INDEX_REF, ids.INDEX_FILE, ids.encode(ids.IdIndex(head, ())), "x\n"
    )
    git.push_ref(gate.base, ids.INDEX_REF)
    _, fooled = replay(gate, check, "forged-1")
    assert "already used" not in fooled.out  # the fast check believed the index
    audit = cli("audit", "--repo", str(gate.base), "verify")
    assert audit.code == 1
    assert "refs/jitops/ids: denied: hides 1 request id(s) used in the history of" in audit.out
    assert "forged-1" in audit.out
    assert cli("index", "--repo", str(gate.base), "--check").code == 1
    assert cli("index", "--repo", str(gate.base), "--rebuild", "--push").code == 0
    assert cli("index", "--repo", str(gate.base), "--check").code == 0
    _, refused = replay(gate, check, "forged-1")
    assert refused.code == 1 and "already used on the base branch" in refused.out


@pytest.mark.attack(3, "point the request-id index at another history")
def test_an_index_outside_the_base_history_is_not_trusted(gate: GateWorld, check) -> None:  # type: ignore[no-untyped-def]
    land_and_remove(gate, "rw-old-1")
    # An index covering a commit of some other branch, claiming nothing was ever used there.
    other = gate.server.hub.push(
        gate.repo, "elsewhere", {"README.md": "x\n"}, author=gate.login("mallory")
    )
    git.fetch_commit(gate.base, other)
    git.write_file_commit(
        gate.base, ids.INDEX_REF, ids.INDEX_FILE, ids.encode(ids.IdIndex(other, ())), "x\n"
    )
    git.push_ref(gate.base, ids.INDEX_REF)
    _, result = replay(gate, check, "rw-old-1")
    assert result.code == 1
    assert "already used on the base branch" in result.out
    assert "not in the base branch's history" in result.err


@pytest.mark.attack(3, "forge the request-id index to replay an id at apply")
def test_a_forged_index_gets_no_replay_granted(world: World, cli: CLI) -> None:
    """Someone with push access rewrites refs/jitops/ids to hide a used id. The gate's fast
    check can be fooled; apply, which judges ids against the whole history, is not, and audit
    verify names the forgery."""
    path, _ = world.request("rp-1")
    grant(world, "rp-1")
    assert apply(world, cli, world.pull_base(), "--push-notes").code == 0
    world.merge(world.open_pull("drop-rp-1", {path: None}))
    assert apply(world, cli, world.pull_base(), "--push-notes").code == 0
    assert world.legacy.held() == set()

    head = git.resolve(world.base, "HEAD") or ""
    forged = ids.encode(ids.IdIndex(head, ()))
    git.write_file_commit(world.base, ids.INDEX_REF, ids.INDEX_FILE, forged, "nothing to see\n")
    git.push_ref(world.base, ids.INDEX_REF)
    verify = cli("audit", "--repo", str(world.base), "verify")
    assert verify.code == 1
    assert "refs/jitops/ids: denied: hides 1 request id(s)" in verify.out
    assert ": rp-1 — rebuild it with `jitops index --rebuild --push`" in verify.out

    grant(world, "rp-1", "replay-rp-1")  # the old file again, freshly approved and merged
    result = apply(world, cli, world.pull_base(), "--push-notes")
    assert result.code == 1
    assert "refused:" in result.out and "id 'rp-1' was already used" in result.out
    assert world.legacy.held() == set()
    assert cli("index", "--repo", str(world.base), "--rebuild", "--push").code == 0
    assert cli("index", "--repo", str(world.base), "--check").code == 0
    assert remote_index(world) == ids.load(world.base).index
