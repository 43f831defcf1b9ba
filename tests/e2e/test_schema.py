"""``jitops schema`` end to end: the JSON Schema of jitops' files, from the models validate uses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jitops.models import SCHEMA_KINDS
from tests.e2e.conftest import CLI
from tests.gitrepo import PROJECT


def test_schema_is_generated_and_checks_request_files(cli: CLI) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    from ruamel.yaml import YAML

    schema = json.loads(cli("schema", "request").out)
    validator = jsonschema.Draft202012Validator(schema)
    example = (
        PROJECT / "requests" / "sandbox-db" / "readonly" / "2026-11-20-alice-orders-latency.yaml"
    )
    data = YAML(typ="safe").load(example.read_text())
    assert list(validator.iter_errors(data)) == []
    assert list(validator.iter_errors({**data, "aproved_by": "bob"}))
    everything = json.loads(cli("schema").out)
    assert {"AccessRequest", "Policy", "Target"} <= set(everything["$defs"])


@pytest.mark.parametrize("kind", sorted(SCHEMA_KINDS))
def test_every_kind_has_a_valid_2020_12_schema(cli: CLI, kind: str) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    result = cli("schema", kind)
    assert result.code == 0
    schema = json.loads(result.out)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_an_unknown_kind_is_a_usage_error_naming_the_kinds(cli: CLI) -> None:
    result = cli("schema", "requets")
    assert result.code == 2
    assert "'requets' is not one of" in result.err
    assert all(kind in result.err for kind in SCHEMA_KINDS)
    assert result.out == ""


def test_the_kinds_offered_are_every_file_and_every_document(cli: CLI) -> None:
    from jitops.cli import cli as jitops_cli
    from jitops.output_models import OUTPUT_SCHEMAS

    [argument] = [p for p in jitops_cli.commands["schema"].params if p.name == "kind"]
    assert list(argument.type.choices) == [*SCHEMA_KINDS, *OUTPUT_SCHEMAS]  # type: ignore[attr-defined]
    for kind in (*SCHEMA_KINDS, *OUTPUT_SCHEMAS):
        assert cli("schema", kind).code == 0


def test_audit_json_is_what_the_audit_schema_says(cli: CLI, tmp_path: Path) -> None:
    """Written by the renderer, checked against the exported schema: grants with and without
    evidence, a removed one, a finding, and a clone without the notes."""
    jsonschema = pytest.importorskip("jsonschema")
    from jitops import evidence
    from tests.commands.test_audit import approval
    from tests.gitrepo import commit_all, git, land_action, make_access_repo, write_request

    validator = jsonschema.Draft202012Validator(json.loads(cli("schema", "audit").out))
    root = make_access_repo(tmp_path / "access")
    path = write_request(root, "ok-1", duration="4h", ticket="INC-1")
    merged = commit_all(root, "grant (#7)", date="2026-11-23T09:00:00Z")
    evidence.record(root, merged, approval("ok-1", path.relative_to(root).as_posix()))
    write_request(root, "sneaky-1")
    commit_all(root, "no review", date="2026-11-23T10:00:00Z")
    path.unlink()
    (root / "requests" / "sandbox-db" / "readonly" / "broken-1.yaml").write_text("id: [\n")
    commit_all(root, "revoke ok-1, and a broken file", date="2026-11-23T11:00:00Z")
    land_action(
        root, "fix-1", date="2026-11-23T12:00:00Z", pull_request=8, state="performed",
        identity="jitops_actions", rows_affected=1, digest="ab" * 32, error=None,
    )  # fmt: skip
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(root), str(clone))
    for repo, args in ((root, []), (clone, ["--no-fetch-notes"])):
        document = json.loads(cli("audit", "--repo", str(repo), *args, "--format", "json").out)
        errors = [e.message for e in validator.iter_errors(document)]
        assert errors == [], errors
        assert len(document["grants"]) == 2 and document["findings"]
        [action] = document["actions"]
        assert action["id"] == "fix-1" and action["pull_request"] == (8 if repo == root else None)
        assert action["state"] == ("performed" if repo == root else "pending")  # no notes
    aproved = {**document["grants"][0], "aproved_by": "bob"}
    assert list(validator.iter_errors({**document, "grants": [aproved]}))


def test_a_request_file_points_editors_at_the_schema_schema_write_puts_there(
    cli: CLI, tmp_path: Path
) -> None:
    """The first line of a request file jitops writes names a schema by a path relative to
    the file; `jitops schema --write` writes that file, and it accepts the request."""
    jsonschema = pytest.importorskip("jsonschema")
    from ruamel.yaml import YAML

    from tests.gitrepo import make_access_repo

    repo = make_access_repo(tmp_path / "access")
    written = cli("schema", "--write", "--repo", str(repo))
    assert written.code == 0 and written.out == ""
    assert {p.name for p in (repo / ".jitops" / "schema").iterdir()} == {
        f"{kind}.schema.json" for kind in SCHEMA_KINDS
    }
    asked = cli(
        "request", "sandbox-db", "readonly", "--for", "1h", "--requester", "alice",
        "--why", "Investigate INC-1234: slow queries", "--repo", str(repo),
    )  # fmt: skip
    assert asked.code == 0, asked.output
    request = repo / asked.out.strip()
    first, *_ = request.read_text().splitlines()
    assert first.startswith("# yaml-language-server: $schema=")
    schema_file = (request.parent / first.split("$schema=", 1)[1]).resolve()
    assert schema_file == (repo / ".jitops" / "schema" / "request.schema.json").resolve()
    validator = jsonschema.Draft202012Validator(json.loads(schema_file.read_text()))
    assert list(validator.iter_errors(YAML(typ="safe").load(request.read_text()))) == []
    assert cli("validate", "--repo", str(repo)).code == 0


@pytest.mark.attack(6, "a checkout's .jitops/ is a link: schema --write would write through it")
def test_schema_write_never_writes_through_a_link(cli: CLI, tmp_path: Path) -> None:
    from tests.gitrepo import make_access_repo

    repo = make_access_repo(tmp_path / "access")
    outside = tmp_path / "outside"
    outside.mkdir()
    (repo / ".jitops").symlink_to(outside, target_is_directory=True)
    result = cli("schema", "--write", "--repo", str(repo))
    assert result.code == 2 and "is not a folder of the repository" in result.err
    assert list(outside.iterdir()) == []


def test_this_repository_s_schemas_are_what_schema_write_writes(cli: CLI, tmp_path: Path) -> None:
    """The example access repository carries its editor schemas; a change to the models that
    leaves them stale fails here (run `jitops schema --write` and commit the result)."""
    from tests.gitrepo import make_access_repo

    fresh = make_access_repo(tmp_path / "access")
    assert cli("schema", "--write", "--repo", str(fresh)).code == 0
    for kind in SCHEMA_KINDS:
        name = f".jitops/schema/{kind}.schema.json"
        assert (PROJECT / name).read_text() == (fresh / name).read_text(), f"{name} is stale"
    example = next((PROJECT / "requests").rglob("*.yaml")).read_text()
    assert example.startswith("# yaml-language-server: $schema=../../../.jitops/schema/")
