"""``jitops schema`` end to end: the JSON Schema of jitops' files, from the models validate uses."""

from __future__ import annotations

import json

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
