"""The one YAML loading function of jitops: safe, strict, fast, with positions for errors.

Every file jitops reads (requests, policies, targets, policy tests) goes through
``load_document``. It refuses everything a hostile or mistaken file could use to surprise us:

- more than ``MAX_FILE_BYTES`` bytes, binary data, bytes that are not UTF-8;
- anchors and aliases (the "billion laughs" bomb; access files never need them);
- tags other than YAML's core ones (``!!python/object`` and friends), duplicate keys;
- several documents in one file, and documents that are not a mapping.

It reads YAML 1.2 (``no`` stays the string "no", ``0755`` is the integer 755). Loading uses the
C-accelerated safe loader of ruamel.yaml where available; positions are recovered only when a
file turns out to be wrong (``locate``), so valid files pay nothing for them. Files in a tiny
subset of YAML (``key: value`` lines of plain strings and timestamps, as most request files
are) are read by a recogniser several times cheaper than the parser; it hands anything else to
ruamel, and types every scalar with ruamel's own resolver (``flat_mapping``;
tests/test_loader_subset.py checks it against ruamel on generated documents).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ruamel.yaml.error import MantissaNoDotYAML1_1Warning, MarkedYAMLError, YAMLError
from ruamel.yaml.reader import ReaderError

from jitops.errors import InputError
from jitops.loader.fast_path import flat_mapping
from jitops.loader.limits import MAX_DEPTH, MAX_FILE_BYTES
from jitops.loader.parsing import UnreadableShape, UnreadableValue, load_ruamel
from jitops.loader.refusals import (
    locate,
    marked_error,
    may_nest_deep,
    position,
    reader_error,
    refuse_anchors,
    shape_error,
    shape_problem,
    yaml_type,
)
from jitops.loader.writing import dump_document

__all__ = [
    "MAX_FILE_BYTES",
    "Document",
    "Loaded",
    "check_size",
    "decode",
    "dump_document",
    "load_document",
    "locate",
]

# jitops reads YAML 1.2, where `1e3` is a float as written; ruamel's YAML 1.1 complaint about
# the missing dot would print, unasked, on the user's terminal for every such value.
warnings.filterwarnings("ignore", category=MantissaNoDotYAML1_1Warning)


@dataclass(frozen=True)
class Document:
    """A loaded YAML file: its mapping, its text (for positions) and where it came from."""

    path: str
    data: dict[str, Any]
    text: str

    def locate(self, loc: Sequence[str | int], *, at_key: bool = False) -> tuple[int, int]:
        """Return the 1-based (line, column) of the value at ``loc`` (a pydantic error path).

        For a key that is missing, the position of the mapping that should hold it; for an
        unknown key, the key itself.
        """
        return locate(self.text, loc, at_key=at_key)


@dataclass(frozen=True)
class Loaded:
    """A validated file: its path (relative, POSIX), its model and its text (for positions)."""

    path: str
    text: str
    model: Any

    def locate(self, *loc: str | int) -> tuple[int, int]:
        return locate(self.text, loc)


_SMALL = "access files are small; split it or remove what does not belong"


def check_size(size: int, path: str, limit: int = MAX_FILE_BYTES, why: str | None = None) -> None:
    """Refuse a file over ``limit`` bytes (an access file's limit unless told) before reading
    (or parsing) it; ``why`` says what to do about it."""
    if size > limit:
        raise InputError(
            f"file is {size:,} bytes, over the {limit // 1024:,} KiB limit — {why or _SMALL}",
            path=path,
        )


# A text editor's "Unicode" is often UTF-16 (Windows) or UTF-32: text, not binary, though it
# is full of NUL bytes. In order: the longer byte-order mark first.
_WIDE_MARKS = (
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"),
    (b"\xfe\xff", "UTF-16"),
)


def _wide_text(raw: bytes) -> str | None:
    """The encoding of text saved as UTF-16 or UTF-32 (by its byte-order mark, or, without
    one, ASCII characters each followed or led by a NUL), or None."""
    for mark, name in _WIDE_MARKS:
        if raw.startswith(mark):
            return name
    head = raw[:64]
    if b"\0" not in head:  # the usual case, found at C speed: no NUL, no wide text
        return None
    if len(head) >= 4 and any(not any(head[i::2]) for i in (0, 1)):
        return "UTF-16"
    return None


def decode(raw: bytes, path: str) -> str:
    """Decode a file's bytes as UTF-8 text, refusing oversized, binary and non-UTF-8 input."""
    check_size(len(raw), path)
    if (wide := _wide_text(raw)) is not None:
        raise InputError(
            f"file is {wide} text — jitops reads UTF-8: save it as UTF-8 (most editors offer "
            "it under Save As or the encoding in the status bar)",
            path=path,
            line=1,
            column=1,
        )
    nul = raw.find(b"\x00")
    if nul >= 0:  # the whole file is refused, at its first NUL byte
        line = raw[:nul].count(b"\n") + 1
        column = len(raw[raw.rfind(b"\n", 0, nul) + 1 : nul].decode("utf-8", "replace")) + 1
        raise InputError(
            "file is binary (it contains NUL bytes) — it must be YAML text",
            path=path,
            line=line,
            column=column,
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InputError(
            "file is not valid UTF-8 text — save it as UTF-8", path=path, line=line, column=column
        ) from None
    return text.removeprefix("\ufeff")


def load_document(raw: bytes, path: str) -> Document:
    """Parse one access file. Raises ``InputError`` (with file, line, fix) on any problem."""
    text = decode(raw, path)
    flat = flat_mapping(text)
    if flat is not None:  # a flat mapping of strings and timestamps: nothing left to refuse
        return Document(path=path, data=flat, text=text)
    if "&" in text or "*" in text:  # cheap filter; the precise check parses events
        refuse_anchors(text, path)
    # libyaml composes recursively and in time quadratic in the depth (a 64 KiB file of `[`
    # or of `- ` takes seconds, and overflows the C stack: the process dies), but gives the
    # first events of a deep file at once: refuse deep files from those, before composing.
    if may_nest_deep(text) and (deep := shape_problem(text, path)) is not None:
        raise deep
    try:
        data = load_ruamel(text)
    except MarkedYAMLError as exc:
        raise marked_error(exc, path, text) from None
    except ReaderError as exc:
        raise reader_error(exc, text, path) from None
    except YAMLError as exc:
        raise InputError(f"not valid YAML: {exc}", path=path, line=1, column=1) from None
    except UnreadableValue as exc:
        line, column = position(text, exc.node.start_mark)
        raise InputError(exc.message, path=path, line=line, column=column) from None
    except (UnreadableShape, RecursionError) as exc:
        raise shape_error(text, path, str(exc)) from None
    if data is None:
        raise InputError(
            "file is empty — it must hold one YAML mapping with apiVersion and kind",
            path=path,
            line=1,
            column=1,
        )
    if not isinstance(data, dict):
        raise InputError(
            f"the document is a {yaml_type(data)}, not a mapping — write `key: value` pairs",
            path=path,
            line=1,
            column=1,
        )
    if _bad_shape(data):
        raise shape_error(text, path, "")
    return Document(path=path, data=data, text=text)


def _bad_shape(data: object) -> bool:
    """Whether ``data`` nests deeper than ``MAX_DEPTH`` or has a list as a key.

    A list key (``? [a]``) is built as a tuple; no access file has one, and the code reading
    the data afterwards expects keys that are plain values.
    """
    stack: list[tuple[object, int]] = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            if any(isinstance(key, tuple) for key in node):
                return True
            children: Any = node.values()
        else:
            children = node if isinstance(node, list) else ()
        for child in children:
            if isinstance(child, dict | list):
                if depth >= MAX_DEPTH:
                    return True
                stack.append((child, depth + 1))
    return False
