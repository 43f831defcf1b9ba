"""``jitops schema``: the JSON Schema of jitops' files, generated from the pydantic models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from jitops import request_files
from jitops.errors import UsageError
from jitops.models import SCHEMA_KINDS
from jitops.output_models import OUTPUT_SCHEMAS
from jitops.repo.files import write_regular_file

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def schema(kind: str | None = None) -> dict[str, Any]:
    """The schema of one kind of file (``request``, ``policy``…) or of a document jitops writes
    (``audit``, ``audit --format json``); without a kind, of any of the files."""
    if kind is None:
        models = tuple(SCHEMA_KINDS.values())
        adapter: TypeAdapter[Any] = TypeAdapter(models[0] if len(models) == 1 else _union())
        result = adapter.json_schema(mode="validation", by_alias=True)
        result["title"] = "jitops file"
    else:
        model = SCHEMA_KINDS.get(kind) or OUTPUT_SCHEMAS.get(kind)
        if model is None:
            kinds = ", ".join([*SCHEMA_KINDS, *OUTPUT_SCHEMAS])
            raise UsageError(f"unknown kind {kind!r} — choose one of {kinds}")
        result = model.model_json_schema(mode="validation", by_alias=True)
    return {"$schema": SCHEMA_DIALECT, **result}


def _union() -> Any:
    from typing import Annotated, Union

    from pydantic import Field

    return Annotated[Union[tuple(SCHEMA_KINDS.values())], Field(discriminator="kind")]  # noqa: UP007


def write_schemas(root: Path) -> list[Path]:
    """Write the schema of every kind of file into ``root``'s ``.jitops/schema/`` (as
    ``<kind>.schema.json``), where the line jitops puts atop each request file points editors;
    never through a link. Returns the files written."""
    written = []
    for kind in SCHEMA_KINDS:
        text = json.dumps(schema(kind), indent=2) + "\n"
        relative = f"{request_files.SCHEMA_DIR}/{kind}.schema.json"
        written.append(write_regular_file(root, relative, text, "jitops schema --write"))
    return written
