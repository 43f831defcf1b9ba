"""What the loader may do with any input: return a mapping, or refuse it with a located error.

One oracle for both fuzzers (hypothesis in tests/fuzz/test_loader_fuzz.py, atheris in
tests/fuzz/loader_atheris.py); it raises ``AssertionError`` itself rather than through
``assert``, so that it holds under ``python -O`` too.
"""

from __future__ import annotations

from jitops.errors import InputError
from jitops.loader import load_document

PATH = "requests/sandbox-db/readonly/fuzz.yaml"


def _whole_file(exc: InputError) -> bool:
    """A refusal of the file as a whole (its size, NUL bytes): the only ones without a line."""
    return "KiB limit" in exc.detail or exc.detail.startswith("file is binary")


def check_load(raw: bytes) -> None:
    """Load ``raw``; raise ``AssertionError`` if the loader did anything it must not."""
    try:
        document = load_document(raw, PATH)
    except InputError as exc:
        if exc.path != PATH or not exc.detail or "Traceback" in exc.message:
            raise AssertionError(f"a refusal that does not name the file: {exc.message}") from exc
        if not _whole_file(exc):
            if exc.line is None or exc.column is None:
                raise AssertionError(f"a refusal without line and column: {exc.message}") from exc
            if not (1 <= exc.line <= raw.count(b"\n") + 1 and exc.column >= 1):
                raise AssertionError(f"a refusal outside the file: {exc.message}") from exc
        return
    if not isinstance(document.data, dict):
        raise AssertionError(f"a document that is no mapping: {document.data!r}")
    if any(isinstance(key, tuple | list | dict) for key in document.data):
        raise AssertionError(f"a collection as a key: {document.data!r}")
