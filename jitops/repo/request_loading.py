"""Request files: parsed, validated and in their place (``requests/<target>/<role>/<id>.yaml``),
from a work tree or from a commit's bytes; and the rule that ids are unique."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from pydantic import BaseModel

from jitops import request_files
from jitops.findings import Finding, Severity
from jitops.loader import Document, locate
from jitops.models import AccessRequest
from jitops.repo.files import REQUESTS_DIR, read_or_refuse, walk
from jitops.repo.parsing import parse

REQUEST_MODELS: dict[str, type[BaseModel]] = {"AccessRequest": AccessRequest}


@dataclass(frozen=True)
class RequestFile:
    path: str
    text: str
    request: AccessRequest

    def locate(self, *loc: str | int) -> tuple[int, int]:
        return locate(self.text, loc)


def placement_findings(path: str, document: Document, request: AccessRequest) -> list[Finding]:
    """A request lives at requests/<target>/<role>/<id>.yaml, so CODEOWNERS can route it."""
    if request_files.is_home(path, request.target, request.role, request.id):
        return []
    expected = request_files.home(request.target, request.role, request.id)
    parts = PurePosixPath(path).parts
    if len(parts) == 4 and parts[0] == REQUESTS_DIR:
        for index, field in ((1, "target"), (2, "role")):
            if parts[index] != getattr(request, field):
                line, column = document.locate((field,))
                return [
                    Finding(
                        path,
                        Severity.ERROR,
                        f"the file is under {'/'.join(parts[: index + 1])}/ but says "
                        f"`{field}: {getattr(request, field)}`",
                        f"move it to {expected} (CODEOWNERS routes approval by folder)",
                        line,
                        column,
                    )
                ]
    stem = PurePosixPath(path).stem
    if stem != request.id:
        line, column = document.locate(("id",))
        return [
            Finding(
                path,
                Severity.ERROR,
                f"the file name does not match `id: {request.id}`",
                f"rename it to {expected}",
                line,
                column,
            )
        ]
    return [
        Finding(
            path,
            Severity.ERROR,
            "a request file must be at requests/<target>/<role>/<id>.yaml",
            f"move it to {expected}",
        )
    ]


def parse_request(raw: bytes, path: str) -> RequestFile | list[Finding]:
    """One request file's bytes (from a work tree or from a commit), validated and in its
    place; or why it is not. Every reader of request files at rest goes through here."""
    document, model, findings = parse(raw, path, REQUEST_MODELS, "requests/")
    if isinstance(model, AccessRequest) and document is not None:
        findings = placement_findings(path, document, model)
        if not findings:
            return RequestFile(path, document.text, model)
    return list(findings)


def load_request(root: Path, path: str) -> RequestFile | list[Finding]:
    """One request file of the work tree: ``parse_request`` of what ``path`` holds."""
    raw = read_or_refuse(root, path)
    return raw if isinstance(raw, list) else parse_request(raw, path)


def load_request_chunk(root: Path, paths: Sequence[str]) -> list[RequestFile | list[Finding]]:
    """``load_request`` for each of ``paths``, in order."""
    return [load_request(root, path) for path in paths]


def request_paths(root: Path) -> tuple[list[str], list[Finding]]:
    if not (root / REQUESTS_DIR).is_dir():
        return [], []
    return walk(root, REQUESTS_DIR)


def duplicate_id_findings(
    ids: Iterable[tuple[str, str]], locate_id: Callable[[str], tuple[int, int]]
) -> list[Finding]:
    """A finding for each (path, id) whose id an earlier path already uses."""
    first: dict[str, str] = {}
    findings = []
    for path, request_id in ids:
        seen = first.setdefault(request_id, path)
        if seen != path:
            line, column = locate_id(path)
            findings.append(
                Finding(
                    path,
                    Severity.ERROR,
                    f"id {request_id!r} is already used by {seen}",
                    "give each request its own id (and file name)",
                    line,
                    column,
                )
            )
    return findings
