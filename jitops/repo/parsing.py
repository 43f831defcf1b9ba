"""One file's bytes into a validated model, and pydantic's errors into findings a person acts
on (field, line, what to write)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from jitops.errors import InputError
from jitops.findings import Finding, Severity
from jitops.loader import Document, load_document
from jitops.repo.files import read_or_refuse
from jitops.validation_messages import describe_error

__all__ = ["describe_error", "load_one", "parse", "validation_findings"]


def validation_findings(
    exc: ValidationError, document: Document, model: type[BaseModel]
) -> list[Finding]:
    findings = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        # pydantic puts the union member's tag in the path; it is not a key of the file
        if loc and loc[0] in ("Policy", "Target", "PolicyChangeRule", "Notify"):
            loc = loc[1:]
        # a mapping's key that is wrong: pydantic adds "[key]" to the path; the file has the key
        on_key = error["type"] == "extra_forbidden" or (bool(loc) and loc[-1] == "[key]")
        loc = loc[:-1] if loc and loc[-1] == "[key]" else loc
        error = {**error, "loc": loc}
        message, hint = describe_error(error, model)
        line, column = document.locate(loc, at_key=on_key)
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
