"""One file's bytes into a validated model, and pydantic's errors into findings a person acts
on (field, line, what to write)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from jitops.errors import InputError
from jitops.findings import Finding, Severity
from jitops.loader import Document, load_document
from jitops.repo.files import read_or_refuse

# -- turning validation errors into findings -----------------------------------------------

_PATTERN_MEANINGS = {
    "requester": "a GitHub login: ASCII letters, digits and hyphens, at most 39 characters",
    "by": "a GitHub login: ASCII letters, digits and hyphens, at most 39 characters",
    "id": "lower-case letters, digits, '.', '_' and '-', 3 to 100 characters",
    "target": "a name: lower-case letters, digits, '_' and '-'",
    "role": "a name: lower-case letters, digits, '_' and '-'",
    "name": "a name: lower-case letters, digits, '_' and '-'",
    "provisioner": "a provisioner kind such as postgres, github-team, aws or exec",
}


def _field_name(loc: Sequence[str | int]) -> str:
    return ".".join(str(part) for part in loc) or "(document)"


def describe_error(error: Any, model: type[BaseModel]) -> tuple[str, str | None]:
    """A pydantic error as (what is wrong, how to fix it), in words a person acts on."""
    loc = tuple(error["loc"])
    field = _field_name(loc)
    kind = error["type"]
    value = error.get("input")
    last = str(loc[-1]) if loc else ""
    if kind == "extra_forbidden":
        known = (
            ", ".join(f.alias or name for name, f in model.model_fields.items())
            if len(loc) == 1
            else None
        )
        hint = "remove it or fix its spelling" + (f" (known fields: {known})" if known else "")
        return f"unknown field `{field}`", hint
    if kind == "missing":
        return f"missing required field `{field}`", f"add `{last}:`"
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return f"`{field}` is {value!r}", f"it must be {expected}"
    if kind == "string_pattern_mismatch":
        meaning = _PATTERN_MEANINGS.get(last, f"a value matching {error['ctx']['pattern']}")
        return f"`{field}` is {value!r}", f"it must be {meaning}"
    if kind == "timezone_aware":
        return (
            f"`{field}` has no timezone",
            "add one, e.g. 2026-11-24T18:00:00Z (UTC) or 2026-11-24T19:00:00+01:00",
        )
    if kind in ("datetime_type", "datetime_parsing", "datetime_from_date_parsing"):
        return f"`{field}` is not a timestamp", "write e.g. 2026-11-24T18:00:00Z"
    if kind in ("value_error", "assertion_error"):
        message = str(error["msg"]).removeprefix("Value error, ")
        where = f"`{field}`: " if loc else ""
        head, _, fix = message.partition(" — ")
        return where + head, fix or None
    if kind.endswith("_type"):
        expected = kind.removesuffix("_type").replace("_", " ")
        got = type(value).__name__ if value is not None else "nothing"
        advice = "quote it to make it a string" if expected == "string" else None
        return f"`{field}` should be a {expected}, not {got} ({value!r})", advice or None
    return f"`{field}`: {error['msg']}", None


def validation_findings(
    exc: ValidationError, document: Document, model: type[BaseModel]
) -> list[Finding]:
    findings = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        # pydantic puts the union member's tag in the path; it is not a key of the file
        if loc and loc[0] in ("Policy", "Target", "PolicyChangeRule"):
            loc = loc[1:]
        error = {**error, "loc": loc}
        message, hint = describe_error(error, model)
        line, column = document.locate(loc, at_key=error["type"] == "extra_forbidden")
        findings.append(Finding(document.path, Severity.ERROR, message, hint, line, column))
    return findings


def parse(
    raw: bytes, path: str, models: dict[str, type[BaseModel]], where: str
) -> tuple[Document | None, BaseModel | None, list[Finding]]:
    """Load and validate one file as one of ``models`` (keyed by ``kind``)."""
    try:
        document = load_document(raw, path)
    except InputError as exc:
        return None, None, [Finding.from_input_error(exc)]
    kind = document.data.get("kind")
    model = models.get(kind) if isinstance(kind, str) else None
    if model is None:
        line, column = document.locate(("kind",))
        expected = " or ".join(models)
        hint = f"files under {where} are {expected}"
        if kind == "AccessRequest":
            hint = "request files live under requests/<target>/<role>/<id>.yaml — move it there"
        message = "missing `kind`" if kind is None else f"`kind: {kind}` does not belong here"
        return document, None, [Finding(path, Severity.ERROR, message, hint, line, column)]
    try:
        return document, model.model_validate(document.data), []
    except ValidationError as exc:
        return document, None, validation_findings(exc, document, model)


def load_one(root: Path, path: str, models: dict[str, type[BaseModel]], where: str) -> Any:
    raw = read_or_refuse(root, path)
    return (None, None, raw) if isinstance(raw, list) else parse(raw, path, models, where)
