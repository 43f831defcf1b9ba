"""Validation of the test server's answers against GitHub's OpenAPI description (the vendored
slice in ``tests/testing/openapi/github.json``, made by ``scripts/extract_openapi.py``)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema.exceptions import ValidationError
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

SLICE = Path(__file__).resolve().parents[1] / "openapi" / "github.json"
_URI = "https://api.github.com/openapi.json"


@cache
def spec() -> dict[str, Any]:
    """The vendored slice, read as GitHub means it (see ``_as_meant``)."""
    raw = json.loads(SLICE.read_text())
    return _as_meant(raw, raw)  # type: ignore[no-any-return]


def _as_meant(node: Any, root: dict[str, Any]) -> Any:
    """Two readings of the description that a strict OAS 3.0 validator would otherwise miss:

    - ``nullable: true`` with an ``enum`` allows null (GitHub documents e.g. a queued check
      run's ``conclusion`` so; OAS 3.0.3 wants ``null`` listed in the enum too);
    - a ``discriminator`` cannot pick between alternatives when one of them is an array
      (``contents`` answers a directory with a list): there the plain ``oneOf`` decides.
    """
    if isinstance(node, list):
        return [_as_meant(v, root) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _as_meant(v, root) for k, v in node.items()}
    if out.get("nullable") is True and "enum" in out and None not in out["enum"]:
        out["enum"] = [*out["enum"], None]
    if "discriminator" in out and any(
        _target(alt, root).get("type") == "array" for alt in out.get("oneOf", [])
    ):
        del out["discriminator"]
    return out


def _target(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        _, _, kind, name = node["$ref"].split("/", 3)
        node = root["components"][kind][name]
    return node


@cache
def _registry() -> Registry:
    resource = Resource.from_contents(_absolute(spec()), default_specification=DRAFT4)
    return Registry().with_resource(_URI, resource)


def _deref(node: dict[str, Any]) -> dict[str, Any]:
    return _target(node, spec())


def response_schema(template: str, method: str, status: int) -> dict[str, Any] | None:
    """The JSON schema of the documented answer, None when it has no body; KeyError when the
    status code is not documented for the operation.

    For errors, GitHub always sends its error body, including where the description documents
    none, and its alternative error shapes (``basic-error`` or ``repository-rule-violation-
    error``) overlap so that no body matches exactly one: an error must match ``basic-error``
    or any one documented alternative.
    """
    operation = spec()["paths"][template][method.lower()]
    response = _deref(operation["responses"][str(status)])
    content = response.get("content", {}).get("application/json")
    schema = None if content is None else content.get("schema")
    if status < 400:
        return schema
    basic = {"$ref": "#/components/schemas/basic-error"}
    if schema is None:
        return basic
    return {"anyOf": [basic, *schema.get("oneOf", [schema])]}


def schema_errors(schema: dict[str, Any], instance: Any) -> list[str]:
    """Every way ``instance`` breaks ``schema`` (refs resolve inside the slice)."""
    validator = OAS30Validator(
        _absolute(schema), registry=_registry(), format_checker=oas30_format_checker
    )
    errors: list[ValidationError] = sorted(validator.iter_errors(instance), key=str)
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errors]


def _absolute(node: Any) -> Any:
    """``node`` with its local references made absolute (refs and discriminator mappings)."""
    if isinstance(node, dict):
        out = {
            k: (
                _URI + v
                if k == "$ref" and isinstance(v, str) and v.startswith("#")
                else _absolute(v)
            )
            for k, v in node.items()
        }
        if isinstance(out.get("mapping"), dict):
            out["mapping"] = {k: _URI + v for k, v in node["mapping"].items()}
        return out
    if isinstance(node, list):
        return [_absolute(v) for v in node]
    return node


def webhook_schema(name: str) -> dict[str, Any]:
    """The payload schema of webhook ``name`` (e.g. ``pull-request-opened``)."""
    body = spec()["x-webhooks"][name]["post"]["requestBody"]
    return body["content"]["application/json"]["schema"]  # type: ignore[no-any-return]


def undocumented_keys(schema: dict[str, Any], instance: Any, where: str = "") -> list[str]:
    """Keys of ``instance`` that ``schema`` does not name (where it names its properties and
    allows no others by ``additionalProperties``): fields the server made up."""
    schema = _target(schema, spec())
    if isinstance(instance, list) and "items" in schema:
        found = []
        for i, item in enumerate(instance):
            found += undocumented_keys(schema["items"], item, f"{where}/{i}")
        return found
    if not isinstance(instance, dict):
        return []
    if schema.get("anyOf"):
        # any of them may describe the body, together: a key is documented when one fitting
        # alternative names it (an error's ``status`` from basic-error, its ``errors`` from
        # validation-error)
        alternatives = schema["anyOf"]
        fitting = [a for a in alternatives if not schema_errors(a, instance)] or alternatives
        results = [set(undocumented_keys(a, instance, where)) for a in fitting]
        return sorted(set.intersection(*results))
    alternatives = schema.get("oneOf", [])
    if alternatives:
        fitting = [a for a in alternatives if not schema_errors(a, instance)] or alternatives
        one_of = [undocumented_keys(a, instance, where) for a in fitting]
        return min(one_of, key=len)
    properties: dict[str, Any] = dict(schema.get("properties", {}))
    for part in schema.get("allOf", []):
        properties |= _target(part, spec()).get("properties", {})
    if not properties or schema.get("additionalProperties") not in (None, False):
        return []
    found = [f"{where}/{key}" for key in instance if key not in properties]
    for key, value in instance.items():
        if key in properties:
            found += undocumented_keys(properties[key], value, f"{where}/{key}")
    return found
