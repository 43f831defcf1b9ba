"""``jitops audit`` streams the history and reads it on every core; what it reports is what the
whole-history reading it replaced reported, record for record and finding for finding, on
random real histories: requests added, edited, removed and added again, bad files, files that
are no requests, side branches, and notes of every kind (allowed, refused, failed at the
target, naming other requests, naming one twice, unreadable)."""

from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from jitops import evidence, git, request_files
from jitops.commands.audit import AuditRecord, AuditReport, audit
from jitops.models import AccessRequest
from jitops.policy import request_window
from jitops.repo import REQUEST_MODELS, REQUESTS_DIR, parse
from tests.commands.test_audit import approval
from tests.gitrepo import commit_all, make_access_repo, write_request
from tests.gitrepo import git as run_git


@dataclass(frozen=True)
class Change:
    """One file added, modified or deleted by a first-parent commit (as the old reader had it)."""

    commit: str
    at: datetime
    status: str
    path: str
    mode: str  # git's mode after the change


def changes_as_before(
    root: Path, ref: str, paths: tuple[str, ...] = (REQUESTS_DIR,)
) -> list[Change]:
    """The whole first-parent history of ``paths`` in one read, oldest first (as before)."""
    log = git.run(
        root,
        [
            "log",
            "--first-parent",
            "-m",
            "--no-renames",
            "--raw",
            "-z",
            "--reverse",
            "--format=%x01%H %ct",
            ref,
            "--",
            *paths,
        ],
    )
    changes: list[Change] = []
    for block in log.stdout.split("\x01"):
        header, *fields = block.split("\0")
        if not header.strip():
            continue
        sha, _, stamp = header.strip().partition(" ")
        at = datetime.fromtimestamp(int(stamp), UTC)
        fields = [f.strip("\n") for f in fields]
        # --raw -z: ":<old mode> <new mode> <old id> <new id> <status>", then the path
        for meta, path in zip(fields[0::2], fields[1::2], strict=False):
            if meta and path:
                _, mode, _, _, status = meta.lstrip(":").split()
                changes.append(Change(sha, at, status[0], path, mode))
    return changes


def audit_as_before(root: Path, ref: str = "HEAD") -> AuditReport:
    """The audit as it was: the whole history read, then every blob by ``commit:path``, every
    note parsed, each record replaced as later changes end it; what lands is a regular file
    added, changed, or made one by a change of type."""
    commit = git.resolve(root, ref)
    assert commit is not None
    changes = changes_as_before(root, commit)
    wanted = [f"{c.commit}:{c.path}" for c in changes if c.status in ("A", "M", "T")]
    contents = git.read_blobs(root, wanted)
    notes, broken = evidence.read_all(root)
    records: list[AuditRecord] = []
    findings = []
    open_records: dict[str, int] = {}
    for change in changes:
        index = open_records.pop(change.path, None)
        if index is not None:
            records[index] = replace(
                records[index], removed_commit=change.commit, removed_at=change.at
            )
        if change.status == "D" or not request_files.has_request_name(change.path):
            continue
        if change.mode not in request_files.REGULAR_MODES:
            continue  # a link or a submodule: apply grants no such thing
        raw = contents.get(f"{change.commit}:{change.path}")
        if raw is None:
            continue
        _, model, problems = parse(raw, change.path, REQUEST_MODELS, "requests/")
        if not isinstance(model, AccessRequest):
            findings.extend(
                replace(f, message=f"{f.message} (as landed in {change.commit[:7]})")
                for f in problems
            )
            continue
        start, end = request_window(model, change.at)
        record = AuditRecord(change.path, model, change.commit, change.at, start, end)
        records.append(_with_evidence(record, notes.get(change.commit), broken.get(change.commit)))
        open_records[change.path] = len(records) - 1
    return AuditReport(commit, tuple(records), tuple(findings))


def _with_evidence(
    record: AuditRecord, note: evidence.ApprovalEvidence | None, broken: str | None
) -> AuditRecord:
    if note is None:
        return replace(record, problem=broken or "no approval evidence: apply never verified it")
    found = note.for_request(record.request.id)
    if found is None:
        return replace(
            record,
            pull_request=note.pull_request,
            problem="the evidence note of its merge does not mention this request",
        )
    problem = None
    if found.verdict != "allowed":
        problem = f"apply refused it: {found.reason}"
    elif found.grant_failed is not None:
        problem = f"apply verified it, but granting it failed: {found.grant_failed}"
    return replace(
        record,
        refused=found.verdict != "allowed",
        grant_failed=found.verdict == "allowed" and found.grant_failed is not None,
        pull_request=note.pull_request,
        policy_commit=note.policy_commit,
        approvers=tuple(a.login for a in found.approvers),
        auto_approved=found.auto_approved,
        problem=problem,
        approver_teams=tuple(sorted({team for a in found.approvers for team in a.teams})),
    )


# -- random histories -----------------------------------------------------------------------


def _note(rng: random.Random, ids_paths: list[tuple[str, str]]) -> str:
    """An evidence note for a merge that landed ``ids_paths``, of a random kind."""
    kind = rng.choice(["allowed", "allowed", "denied", "failed", "others", "twice", "broken"])
    if kind == "broken":
        return rng.choice(['{"forged": true}', "not json", '{"version": 1}'])
    if not ids_paths:
        ids_paths = [("someone-else", "requests/x/y/someone-else.yaml")]
    verdict = "denied" if kind == "denied" else "allowed"
    note = approval(ids_paths[0][0], ids_paths[0][1], verdict=verdict)
    requests = [
        replace_request(note.requests[0], id=request_id, path=path)
        for request_id, path in ids_paths
    ]
    if kind == "others":
        requests = [replace_request(requests[0], id="not-this-one")]
    if kind == "twice":  # the first naming counts
        requests = [replace_request(requests[0], verdict="denied", reason="first"), *requests]
    if kind == "failed":
        requests = [replace_request(r, grant_failed="the target said no") for r in requests]
    auto = rng.random() < 0.3
    requests = [replace_request(r, auto_approved=auto) for r in requests]
    return note.model_copy(update={"requests": requests}).model_dump_json(indent=2) + "\n"


def replace_request(
    request: evidence.RequestEvidence, **changes: object
) -> evidence.RequestEvidence:
    return request.model_copy(update=changes)


BAD_FILES = [
    "apiVersion: jitops/v1\nkind: AccessRequest\nid: [unclosed\n",  # not YAML
    "apiVersion: jitops/v1\nkind: Policy\nname: x\n",  # not a request
    "apiVersion: jitops/v1\nkind: AccessRequest\nid: BAD ID\nrequester: a\n",  # invalid
    "",
]


def random_history(root: Path, seed: int, commits: int = 36) -> Path:
    rng = random.Random(seed)
    make_access_repo(root)
    on_branch: dict[str, str] = {}  # path → request id
    gone: list[tuple[Path, str]] = []  # removed files and their text, to add back
    links: list[tuple[Path, str]] = []  # requests turned into links, and their text
    day = 0
    for number in range(commits):
        day += 1
        date = f"2026-03-{1 + day // 24:02d}T{day % 24:02d}:00:00Z"
        landed: list[tuple[str, str]] = []
        side = rng.random() < 0.15
        if side:
            run_git(root, "switch", "-q", "-c", f"side-{number}")
        for _ in range(rng.choice([1, 1, 1, 2, 3])):
            action = rng.random()
            if action < 0.4 or not on_branch:
                request_id = f"r-{number}-{rng.randrange(10**6)}"
                suffix = ".yml" if rng.random() < 0.1 else ".yaml"
                path = write_request(root, request_id, duration=rng.choice(["1h", "4h", "30m"]))
                if suffix == ".yml":
                    path = path.rename(path.with_suffix(".yml"))
                relative = path.relative_to(root).as_posix()
                on_branch[relative] = request_id
                landed.append((request_id, relative))
            elif action < 0.55:  # an edit in place
                relative = rng.choice(sorted(on_branch))
                (root / relative).write_text(
                    (root / relative).read_text().replace("duration: ", "duration: 1")
                )
                landed.append((on_branch[relative], relative))
            elif action < 0.75:  # removed (revoked)
                relative = rng.choice(sorted(on_branch))
                gone.append((root / relative, (root / relative).read_text()))
                (root / relative).unlink()
                del on_branch[relative]
            elif action < 0.85 and gone:  # the same content again, at the same path
                path, text = gone.pop(rng.randrange(len(gone)))
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
                relative = path.relative_to(root).as_posix()
                request_id = text.split("id: ", 1)[1].split("\n", 1)[0] if "id: " in text else "?"
                on_branch[relative] = request_id
                landed.append((request_id, relative))
            elif action < 0.89:  # a request becomes a link, or a link a file (a change of type)
                relative = rng.choice(sorted(on_branch))
                target = root / relative
                text = target.read_text()
                target.unlink()
                os.symlink("../../../policies", target)
                del on_branch[relative]
                links.append((target, text))
            elif action < 0.93 and links:
                target, text = links.pop()
                target.unlink()
                target.write_text(text)  # lands by a change of type, as apply sees it
            elif action < 0.93:  # a bad file where a request belongs
                bad = root / "requests" / "sandbox-db" / "readonly" / f"bad-{number}.yaml"
                bad.parent.mkdir(parents=True, exist_ok=True)
                bad.write_text(rng.choice(BAD_FILES))
            else:  # files under requests/ that are no requests
                (root / "requests" / f"notes-{number}.md").write_text("hello\n")
                link = root / "requests" / f"link-{number}.yaml"
                os.symlink("../policies", link)
        if number == commits // 2:  # every history has one bad file at least
            bad = root / "requests" / "sandbox-db" / "readonly" / f"bad-{number}-sure.yaml"
            bad.parent.mkdir(parents=True, exist_ok=True)
            bad.write_text(BAD_FILES[number % len(BAD_FILES)])
        merged = commit_all(root, f"change {number}", date=date)
        if side:
            run_git(root, "switch", "-q", "main")
            env = {**os.environ, "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
            run_git(
                root, "merge", "-q", "--no-ff", "-m", f"merge {number}", f"side-{number}", env=env
            )
            merged = run_git(root, "rev-parse", "HEAD").strip()
        if rng.random() < 0.8:
            text = _note(rng, landed)
            run_git(root, "notes", f"--ref={git.NOTES_REF}", "add", "-f", "-m", text, merged)
    return root


@pytest.fixture(params=[1, 2, 3])
def history(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    return random_history(tmp_path / "access", seed=request.param)


def _same(found: AuditReport, expected: AuditReport) -> None:
    assert found.commit == expected.commit
    assert found.findings == expected.findings
    assert found.records == expected.records
    assert len(found.records) > 10 and found.unverified and found.findings  # a real test


def test_the_streamed_audit_reports_what_the_whole_reading_did(history: Path) -> None:
    _same(audit(history), audit_as_before(history))


def test_in_small_chunks_on_several_processes_too(
    history: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("jitops.commands.audit._CHUNK", 2)
    monkeypatch.setattr("jitops.parallel.usable_cpus", lambda: 3)
    _same(audit(history), audit_as_before(history))


def test_at_an_older_commit_too(history: Path) -> None:
    older = run_git(history, "rev-parse", "HEAD~10").strip()
    assert audit(history, older) == audit_as_before(history, older)


def test_a_note_whose_blob_is_missing_is_no_approval(tmp_path: Path) -> None:
    root = make_access_repo(tmp_path / "access")
    path = write_request(root, "ok-1")
    merged = commit_all(root, "grant", date="2026-11-23T09:00:00Z")
    note = approval("ok-1", path.relative_to(root).as_posix()).model_dump_json()
    run_git(root, "notes", f"--ref={git.NOTES_REF}", "add", "-m", note, merged)
    listing = run_git(root, "notes", f"--ref={git.NOTES_REF}", "list")
    [(blob, _)] = [line.split() for line in listing.splitlines()]
    objects = root / ".git" / "objects"
    (objects / blob[:2] / blob[2:]).unlink()  # loose, as git notes add writes it
    [record] = audit(root).records
    assert record.problem == f"unreadable evidence note: git has no object {blob}"
    assert record.approvers == ()


@pytest.mark.attack(8, "a landed request whose blob the clone lacks is left out of the audit")
def test_a_landing_whose_blob_is_missing_is_a_finding_not_a_silence(tmp_path: Path) -> None:
    """A request that landed but whose blob this repository lacks (a partial clone, a damaged
    object store) cannot be audited: it is an error naming the file and the commit, and audit
    verify fails, never a history that simply leaves that grant out."""
    root = make_access_repo(tmp_path / "access")
    path = write_request(root, "gone-1")
    landed = commit_all(root, "grant", date="2026-11-23T09:00:00Z")
    relative = path.relative_to(root).as_posix()
    blob = run_git(root, "rev-parse", f"{landed}:{relative}").strip()
    write_request(root, "kept-1")
    commit_all(root, "another", date="2026-11-23T10:00:00Z")
    objects = root / ".git" / "objects"
    (objects / blob[:2] / blob[2:]).unlink()  # loose, as git add writes it
    report = audit(root)
    assert [r.request.id for r in report.records] == ["kept-1"]
    [finding] = report.findings
    assert finding.path == relative and finding.severity.value == "error"
    assert finding.message.startswith(f"git has no object {blob[:12]}")
    assert landed[:7] in finding.message


def test_json_of_the_evidence_is_read_as_apply_wrote_it(tmp_path: Path) -> None:
    root = make_access_repo(tmp_path / "access")
    path = write_request(root, "ok-1")
    merged = commit_all(root, "grant", date="2026-11-23T09:00:00Z")
    written = approval("ok-1", path.relative_to(root).as_posix())
    evidence.record(root, merged, written)
    [record] = audit(root).records
    assert (record.pull_request, record.approvers, record.problem) == (7, ("bob",), None)
    assert json.loads(written.model_dump_json())["pull_request"] == 7


@pytest.mark.attack(8, "a request that lands by a change of type, from a link to a file")
def test_a_request_landed_by_a_change_of_type_is_audited(tmp_path: Path) -> None:
    """A link at a request's path lands nothing (apply grants no link); turning it into a
    regular file (git's type change, "T") lands the request, as apply sees it. The audit
    records that landing — here without evidence — instead of never reading it."""
    root = make_access_repo(tmp_path / "access")
    path = write_request(root, "typed-1")
    text = path.read_text()
    path.unlink()
    path.symlink_to("elsewhere.yaml")
    commit_all(root, "a link", date="2026-11-23T09:00:00Z")
    path.unlink()
    path.write_text(text)
    landed = commit_all(root, "the link becomes the request", date="2026-11-23T10:00:00Z")
    status = run_git(root, "show", "--format=", "--name-status", landed).split()
    assert status[0] == "T"  # git's type change, not an addition
    report = audit(root)
    [record] = report.records
    assert (record.request.id, record.landed_commit) == ("typed-1", landed)
    assert record.problem == "no approval evidence: apply never verified it"
    assert report.findings == ()  # the link itself was no landing, and no bad request
