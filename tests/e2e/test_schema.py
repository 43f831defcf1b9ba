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

    [argument] = jitops_cli.commands["schema"].params
    assert list(argument.type.choices) == [*SCHEMA_KINDS, *OUTPUT_SCHEMAS]  # type: ignore[attr-defined]
    for kind in (*SCHEMA_KINDS, *OUTPUT_SCHEMAS):
        assert cli("schema", kind).code == 0


def test_audit_json_is_what_the_audit_schema_says(cli: CLI, tmp_path: Path) -> None:
    """Written by the renderer, checked against the exported schema: grants with and without
    evidence, a removed one, a finding, and a clone without the notes."""
    jsonschema = pytest.importorskip("jsonschema")
    from jitops import evidence
    from tests.commands.test_audit import approval
    from tests.gitrepo import commit_all, git, make_access_repo, write_request

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
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(root), str(clone))
    for repo, args in ((root, []), (clone, ["--no-fetch-notes"])):
        document = json.loads(cli("audit", "--repo", str(repo), *args, "--format", "json").out)
        errors = [e.message for e in validator.iter_errors(document)]
        assert errors == [], errors
        assert len(document["grants"]) == 2 and document["findings"]
    aproved = {**document["grants"][0], "aproved_by": "bob"}
    assert list(validator.iter_errors({**document, "grants": [aproved]}))
