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
ruamel, and types every scalar with ruamel's own resolver (``_flat_mapping``;
tests/test_loader_subset.py checks it against ruamel on generated documents).
"""

from __future__ import annotations

import functools
import io
import re
import threading
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.constructor import SafeConstructor
from ruamel.yaml.error import MantissaNoDotYAML1_1Warning, MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    MappingStartEvent,
    NodeEvent,
)
from ruamel.yaml.nodes import MappingNode, ScalarNode
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.representer import SafeRepresenter
from ruamel.yaml.resolver import Resolver, VersionedResolver

from jitops.errors import InputError

# jitops reads YAML 1.2, where `1e3` is a float as written; ruamel's YAML 1.1 complaint about
# the missing dot would print, unasked, on the user's terminal for every such value.
warnings.filterwarnings("ignore", category=MantissaNoDotYAML1_1Warning)

MAX_FILE_BYTES = 64 * 1024
# Access files are a few levels deep; anything deeper is a mistake or an attack on the
# recursive code that walks the data afterwards.
MAX_DEPTH = 16

_local = threading.local()

try:  # the C-accelerated parser of ruamel.yaml.clib, 2-3x faster than the pure one
    from ruamel.yaml.cyaml import CSafeLoader as _SafeLoader
except ImportError:  # pragma: no cover - interpreters without the C extension
    from ruamel.yaml.composer import Composer
    from ruamel.yaml.parser import Parser
    from ruamel.yaml.reader import Reader
    from ruamel.yaml.scanner import Scanner

    class _SafeLoader(Reader, Scanner, Parser, Composer, SafeConstructor, Resolver):  # type: ignore[no-redef]
        def __init__(self, stream: str) -> None:
            Reader.__init__(self, stream, loader=self)
            Scanner.__init__(self, loader=self)
            Parser.__init__(self, loader=self)
            Composer.__init__(self, loader=self)
            SafeConstructor.__init__(self, loader=self)
            Resolver.__init__(self, loadumper=self)


_STR_TAG = "tag:yaml.org,2002:str"


def _flat_strings(node: Any) -> dict[str, str] | None:
    """A mapping of plain strings to plain strings, built directly; None for anything else.

    Most access files are exactly that, and building them here costs half of what the
    general constructor does. Anything else — another type, a nested value, a merge key, a
    repeated key — returns None, and the general constructor builds (or refuses) it.
    """
    if node.__class__ is not MappingNode:
        return None
    result: dict[str, str] = {}
    for key, value in node.value:
        if key.__class__ is not ScalarNode or value.__class__ is not ScalarNode:
            return None
        if str(key.ctag) != _STR_TAG or str(value.ctag) != _STR_TAG:
            return None
        name = key.value
        if name in result or name == "<<":
            return None
        result[name] = value.value
    return result


class _UnreadableValue(Exception):
    """A scalar the schema (or its tag) types as a value it is not a valid one of."""

    def __init__(self, node: Any, message: str) -> None:
        super().__init__(message)
        self.node = node
        self.message = message


class _UnreadableShape(Exception):
    """The constructor refused the document's structure (not a scalar): a collection as a key,
    or nesting past what it can recurse into; the event stream says where."""


# What ruamel's constructors raise for a value that is no such value: ValueError for most,
# OverflowError for huge exponents, KeyError for `!!bool x`, IndexError for `!!int ""`,
# TypeError for a list that holds a list used as a key.
_CONSTRUCTION_ERRORS = (ValueError, OverflowError, KeyError, IndexError, TypeError)

# What a valid value of each core type looks like, for errors whose own text says nothing
# (a KeyError's text is the bad value itself).
_EXPECTED = {
    "bool": "true or false",
    "int": "a whole number such as 42, 0x2a or 0o52",
    "float": "a number such as 1.5 or 1e3",
    "timestamp": "a date such as 2026-06-01 or a time such as 2026-06-01T12:00:00Z",
    "binary": "base64 text",
}
# A value quoted back in a message is cut here: a 4,000-digit number is no help on a terminal.
_SHOWN_CHARS = 40


def _shown(value: str) -> str:
    return value if len(value) <= _SHOWN_CHARS else value[: _SHOWN_CHARS - 1] + "…"


def _unreadable_message(node: Any, exc: Exception) -> str:
    kind = str(node.tag).rpartition(":")[2]
    if isinstance(exc, ValueError | OverflowError) and str(exc):
        reason = _shown(str(exc))
    else:
        reason = f"expected {_EXPECTED.get(kind, f'a valid {kind}')}"
    # A tag written in the file (`!!bool x`) or on a quoted value types it on purpose: quoting
    # cannot help, removing the tag does. An untagged plain value (style None in the pure
    # parser, "" in the C one) is typed by how it looks.
    tagged = bool(node.style) or _plain_scalar_tag(node.value) != str(node.tag)
    fix = (
        f"write a valid {kind}, or remove the `!!{kind}` tag if it is meant as text"
        if tagged
        else "correct it, or quote it if it is meant as text"
    )
    return f"`{_shown(node.value)}` is not a valid {kind} ({reason}) — {fix}"


# The longest key the recogniser below accepts (YAML allows 1024 characters in a simple key).
_FLAT_KEY_MAX = 64
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_RESOLVER = Resolver()
_CONSTRUCTOR = SafeConstructor()


@functools.lru_cache(maxsize=4096)
def _plain_scalar_tag(value: str) -> str:
    """The tag ruamel's own YAML 1.2 resolver gives the plain scalar ``value``.

    Exactly the call the parser makes for an untagged plain scalar; cached, because keys and
    many values repeat from file to file.
    """
    return str(_RESOLVER.resolve(ScalarNode, value, (True, False)))


def _flat_mapping(text: str) -> dict[str, Any] | None:
    """The mapping of a file in the tiny subset of YAML most access files are written in.

    The subset: printable ASCII lines, each a whole-line comment (``#`` in column 1) or
    ``key: value``, where the key is an identifier of at most 64 characters, and the value
    starts with a letter or digit, holds no ``#`` and no ``": "``, and ends with neither a
    space nor a colon; every key different. ruamel's own resolver types each key and value:
    keys must be strings, values strings or timestamps, and a timestamp is built by ruamel's
    own constructor. Anything else — quotes, nesting, flow collections, tags, anchors,
    directives, document markers, blank lines, tabs, non-ASCII text, another type, a timestamp
    that is no date — returns None, and the file goes to ruamel, which builds it or refuses it
    with its position. On the subset both give the same mapping, which
    tests/test_loader_subset.py checks against ruamel on generated documents, hostile ones
    included.
    """
    if not text.isascii():
        return None
    lines = text.split("\n")
    if lines[-1] == "":  # the file's last line break
        lines.pop()
    result: dict[str, Any] = {}
    for line in lines:
        if not line.isprintable():  # control characters, tabs, carriage returns
            return None
        if line[:1] == "#":
            continue
        key, separator, value = line.partition(": ")
        if (
            not separator
            or len(key) > _FLAT_KEY_MAX
            or not key.isidentifier()
            or not value[:1].isalnum()
            or "#" in value
            or ": " in value
            or value[-1] in " :"
            or key in result
            or _plain_scalar_tag(key) != _STR_TAG
        ):
            return None
        tag = _plain_scalar_tag(value)
        if tag == _STR_TAG:
            result[key] = value
        elif tag == _TIMESTAMP_TAG:
            try:
                result[key] = _CONSTRUCTOR.construct_yaml_timestamp(ScalarNode(tag, value))
            except Exception:  # ruamel refuses it too, and says where
                return None
        else:
            return None
    return result or None


def _load_ruamel(text: str) -> Any:
    # ``Resolver`` (not ``VersionedResolver``) applies YAML 1.2 rules whatever the file says:
    # a ``%YAML 1.1`` directive cannot bring back ``no`` → False or 0755 → 493.
    loader = _SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        flat = _flat_strings(node)
        if flat is not None:
            return flat
        try:
            return loader.construct_document(node)
        except _CONSTRUCTION_ERRORS as exc:  # e.g. `2026-13-01`, `0x_`, `!!bool x`
            found = _first_unreadable(loader, node)
            if found is None:  # no scalar is at fault: the structure is
                raise _UnreadableShape(str(exc)) from None
            raise _UnreadableValue(found[0], _unreadable_message(*found)) from None
    finally:
        loader.dispose()


def _first_unreadable(loader: Any, root: Any) -> tuple[Any, Exception] | None:
    """The first scalar under ``root`` (in file order) that cannot be constructed, and why."""
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, ScalarNode):
            try:
                loader.construct_non_recursive_object(node)
            except _CONSTRUCTION_ERRORS as exc:
                return node, exc
        elif isinstance(node, MappingNode):
            stack.extend(item for pair in reversed(node.value) for item in reversed(pair))
        else:
            stack.extend(reversed(node.value))
    return None


def _positional_yaml() -> YAML:
    yaml: YAML | None = getattr(_local, "positional", None)
    if yaml is None:
        yaml = YAML(typ="rt", pure=True)
        yaml.version = (1, 2)
        _local.positional = yaml
    return yaml


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
        return locate(self.text, loc)


@dataclass(frozen=True)
class Loaded:
    """A validated file: its path (relative, POSIX), its model and its text (for positions)."""

    path: str
    text: str
    model: Any

    def locate(self, *loc: str | int) -> tuple[int, int]:
        return locate(self.text, loc)


def check_size(size: int, path: str) -> None:
    """Refuse a file over ``MAX_FILE_BYTES`` before reading (or parsing) it."""
    if size > MAX_FILE_BYTES:
        raise InputError(
            f"file is {size:,} bytes, over the {MAX_FILE_BYTES // 1024} KiB limit — "
            "access files are small; split it or remove what does not belong",
            path=path,
        )


def decode(raw: bytes, path: str) -> str:
    """Decode a file's bytes as UTF-8 text, refusing oversized, binary and non-UTF-8 input."""
    check_size(len(raw), path)
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
    flat = _flat_mapping(text)
    if flat is not None:  # a flat mapping of strings and timestamps: nothing left to refuse
        return Document(path=path, data=flat, text=text)
    if "&" in text or "*" in text:  # cheap filter; the precise check parses events
        _refuse_anchors(text, path)
    # libyaml composes recursively and in time quadratic in the depth (a 64 KiB file of `[`
    # or of `- ` takes seconds, and overflows the C stack: the process dies), but gives the
    # first events of a deep file at once: refuse deep files from those, before composing.
    if _may_nest_deep(text) and (deep := _shape_problem(text, path)) is not None:
        raise deep
    try:
        data = _load_ruamel(text)
    except MarkedYAMLError as exc:
        raise _marked_error(exc, path, text) from None
    except ReaderError as exc:
        raise _reader_error(exc, text, path) from None
    except YAMLError as exc:
        raise InputError(f"not valid YAML: {exc}", path=path, line=1, column=1) from None
    except _UnreadableValue as exc:
        line, column = _position(text, exc.node.start_mark)
        raise InputError(exc.message, path=path, line=line, column=column) from None
    except (_UnreadableShape, RecursionError) as exc:
        raise _shape_error(text, path, str(exc)) from None
    if data is None:
        raise InputError(
            "file is empty — it must hold one YAML mapping with apiVersion and kind",
            path=path,
            line=1,
            column=1,
        )
    if not isinstance(data, dict):
        raise InputError(
            f"the document is a {_yaml_type(data)}, not a mapping — write `key: value` pairs",
            path=path,
            line=1,
            column=1,
        )
    if _bad_shape(data):
        raise _shape_error(text, path, "")
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


def _shape_error(text: str, path: str, reason: str) -> InputError:
    """The refusal of a document whose structure is wrong, where it goes wrong if it can say."""
    found = _shape_problem(text, path)
    if found is not None:
        return found
    detail = f" ({_shown(reason)})" if reason else ""
    return InputError(
        f"the document cannot be read as data{detail} — write plain `key: value` pairs",
        path=path,
        line=1,
        column=1,
    )


_BRACKETS = re.compile(r"[^\[\]{}]+")
# Past this length a line could hold block collections nested deep enough to matter.
_LONG_LINE = 200


def _may_nest_deep(text: str) -> bool:
    """Whether ``text`` could nest deeper than ``MAX_DEPTH``, decided cheaply.

    It may say yes of a shallow file (brackets in strings count too), never no of a deep
    one but for block nesting under ``2 * _LONG_LINE`` levels, which the parser and the check
    after it handle fine. Flow collections nest by brackets, counted here. Block collections
    nest by indentation or by indicators on one line (``- - x``, ``? - x``); along any chain of
    them the column grows at least every second level (only a sequence under a mapping key
    may start at its key's column), so their depth is at most about twice the longest line.
    """
    if any(len(line) > _LONG_LINE for line in text.splitlines()):
        return True
    depth = deepest = 0
    for char in _BRACKETS.sub("", text):
        depth = depth + 1 if char in "[{" else max(depth - 1, 0)
        deepest = max(deepest, depth)
    return deepest > MAX_DEPTH


def _shape_problem(text: str, path: str) -> InputError | None:
    """The first place where the document's structure is wrong, if there is one.

    The events of a parse tell where a collection is used as a key or opens past
    ``MAX_DEPTH`` levels, however deep it goes. Events, not nodes: reading them recurses into
    nothing, and it stops at the first wrong one. The C parser where there is one, because the
    pure one scans a flow collection to its end before its first event, in time quadratic in
    the depth.
    """
    # one frame per open collection: whether it is a mapping, and how many nodes it holds so
    # far (in a mapping, an even count means the next node is a key)
    frames: list[list[int]] = []
    loader = _SafeLoader(text)
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, NodeEvent) and frames:
                is_mapping, count = frames[-1]
                frames[-1][1] += 1
                if isinstance(event, CollectionStartEvent) and is_mapping and count % 2 == 0:
                    return _at(
                        text,
                        event,
                        path,
                        "a key must be a plain value, not a list or mapping — write the key as "
                        "a string (quote it if it starts with `[`, `{` or `?`)",
                    )
            if isinstance(event, CollectionStartEvent):
                if len(frames) >= MAX_DEPTH:
                    return _at(
                        text,
                        event,
                        path,
                        f"the document nests deeper than {MAX_DEPTH} levels here — access files "
                        "are shallow; flatten it",
                    )
                frames.append([isinstance(event, MappingStartEvent), 0])
            elif isinstance(event, CollectionEndEvent):
                frames.pop()
    except YAMLError:  # the caller's parse says what is wrong with the syntax
        pass
    finally:
        loader.dispose()
    return None


def _at(text: str, event: Any, path: str, message: str) -> InputError:
    line, column = _position(text, event.start_mark)
    return InputError(message, path=path, line=line, column=column)


def _line_column(text: str, index: int) -> tuple[int, int]:
    """The 1-based line and column of the character at ``index`` of ``text``."""
    return text.count("\n", 0, index) + 1, index - (text.rfind("\n", 0, index) + 1) + 1


def _position(text: str, mark: Any) -> tuple[int, int]:
    """The 1-based line and column of a parser's ``mark``, as an editor or git counts them.

    The parsers count lines YAML 1.1's way, where NEL, U+2028 and U+2029 break lines too, so
    their line numbers drift from the file's; their character index does not.
    """
    index = getattr(mark, "index", None)
    if isinstance(index, int) and 0 <= index <= len(text):
        return _line_column(text, index)
    return mark.line + 1, mark.column + 1


def _reader_error(exc: ReaderError, text: str, path: str) -> InputError:
    """A character YAML does not allow (a control character), refused where it is.

    The pure reader counts its position in characters, the C one in UTF-8 bytes; the first
    occurrence of the character itself is where either stopped.
    """
    code = exc.character if isinstance(exc.character, int) else None
    index = text.find(chr(code)) if code is not None else -1
    line, column = _line_column(text, index) if index >= 0 else (1, 1)
    what = f"unacceptable character #x{code:04x}: " if code is not None else ""
    return InputError(
        f"not valid YAML: {what}{exc.reason} — remove it, or write it as the escape "
        f'"\\u{code or 0:04x}" inside a double-quoted string',
        path=path,
        line=line,
        column=column,
    )


def _refuse_anchors(text: str, path: str) -> None:
    try:
        for event in _positional_yaml().parse(text):
            if isinstance(event, AliasEvent) or (
                isinstance(event, NodeEvent) and event.anchor is not None
            ):
                line, column = _position(text, event.start_mark) if event.start_mark else (1, 1)
                raise InputError(
                    "YAML anchors and aliases (&name, *name) are not allowed in access files "
                    "— write each value out in full",
                    path=path,
                    line=line,
                    column=column,
                )
    except MarkedYAMLError as exc:
        raise _marked_error(exc, path, text) from None
    except ReaderError as exc:  # a control character: refused as the full parse refuses it
        raise _reader_error(exc, text, path) from None
    except YAMLError as exc:
        raise InputError(f"not valid YAML: {exc}", path=path, line=1, column=1) from None


_VALUE_TAG = "tag:yaml.org,2002:value"
_MERGE_FIX = (
    "`<<` merges mappings into this one (`<<: {key: value}`); write the keys out instead, "
    "or quote it (`'<<'`) if it is meant as a key"
)
_TAG_FIX = "the tag does not fit the value; remove the `!!tag` and write a plain value"

# ruamel's message (a part of it) → the problem as we state it (None: ruamel's words), the fix.
# The first that matches wins, so the narrower come first.
_FIXES: dict[str, tuple[str | None, str]] = {
    "found duplicate key": (None, "remove or rename the repeated key"),
    # YAML 1.1's "value key" tag, which the resolver still gives a plain `=`
    _VALUE_TAG: (
        "a plain `=` is YAML's value key, not a value",
        "quote it (`'='`) if it is meant as text",
    ),
    "could not determine a constructor for the tag": (
        None,
        "custom tags are not allowed; remove the `!tag` and write a plain value",
    ),
    "expected a single document in the stream": (
        None,
        "one file holds one document; remove the `---` separator and split the file",
    ),
    "duplicate merge key": ("more than one `<<` merge key", _MERGE_FIX),
    "for merging": ("a `<<` merge key holds something other than a mapping", _MERGE_FIX),
    "found unhashable key": (
        "a key must be a plain value, not a list or mapping",
        "write the key as a string (quote it if it starts with `[`, `{` or `?`)",
    ),
    "failed to construct timestamp": (
        None,
        f"write {_EXPECTED['timestamp']}, or remove the `!!timestamp` tag if it is meant as text",
    ),
    "expected a mapping of length 1": (None, _TAG_FIX),
    "node, but found": (None, _TAG_FIX),
    "cannot start any token": (
        None,
        "quote the value: `@` and `` ` `` are reserved in YAML and cannot start a plain value",
    ),
}
# Any other mistake is one of syntax; what most often causes one.
_SYNTAX_FIX = (
    "correct the YAML here; a value that holds `: ` or ` #`, or starts with one of "
    "`[]{}&*!|>'\"%@` or a backtick, must be quoted"
)


def _marked_error(exc: MarkedYAMLError, path: str, text: str = "") -> InputError:
    mark = exc.problem_mark or exc.context_mark
    problem = (exc.problem or exc.context or "not valid YAML").strip()
    said, fix = next(
        (entry for key, entry in _FIXES.items() if key in str(exc) and key != _VALUE_TAG),
        (None, _SYNTAX_FIX),
    )
    if _VALUE_TAG in str(exc) and mark is not None and _char_at(text, mark) == "=":
        said, fix = _FIXES[_VALUE_TAG]  # a plain `=`, not a written `!!value` tag
    if "duplicate key" in problem and exc.problem_mark is not None:
        problem = "duplicate key"
    if said is not None:
        message = f"{said} — {fix}"
    elif fix is _SYNTAX_FIX or fix is _TAG_FIX:
        message = f"not valid YAML: {problem} — {fix}"
    else:
        message = f"{problem} — {fix}"
    line, column = _position(text, mark) if mark is not None else (1, 1)
    return InputError(message, path=path, line=line, column=column)


def _char_at(text: str, mark: Any) -> str:
    """The character of ``text`` at ``mark``."""
    line, column = _position(text, mark)
    lines = text.split("\n")
    return lines[line - 1][column - 1 : column] if line <= len(lines) else ""


def _yaml_type(value: object) -> str:
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    return type(value).__name__


def _flat_position(text: str, key: str, *, at_key: bool) -> tuple[int, int] | None:
    """``locate`` of a top-level key in a file of the flat subset (``_flat_mapping``), without
    the positional parser: every such line is ``key: value`` from column 1. None for any other
    file, or a key it does not hold."""
    if _flat_mapping(text) is None:
        return None
    prefix = f"{key}: "
    for number, line in enumerate(text.split("\n"), start=1):
        if line.startswith(prefix):
            return (number, 1 if at_key else len(prefix) + 1)
    return None


def locate(text: str, loc: Sequence[str | int], *, at_key: bool = False) -> tuple[int, int]:
    """The 1-based (line, column) of ``loc`` in ``text``, as close as the document allows.

    A scalar is located at its value, unless ``at_key`` asks for the key that holds it.
    """
    if len(loc) == 1 and isinstance(loc[0], str):
        found = _flat_position(text, loc[0], at_key=at_key)
        if found is not None:
            return found
    try:
        node: Any = _positional_yaml().load(text)
    except YAMLError:
        return (1, 1)
    line, column = (node.lc.line, node.lc.col) if hasattr(node, "lc") else (0, 0)
    for key in loc:
        if isinstance(node, Mapping) and key in node:
            line, column = node.lc.key(key) if hasattr(node, "lc") else (line, column)
            child = node[key]
            if hasattr(node, "lc") and not isinstance(child, Mapping | list) and not at_key:
                line, column = node.lc.value(key)
            node = child
        elif isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
            if hasattr(node, "lc"):
                line, column = node.lc.item(key)
            node = node[key]
        else:
            break
    return (line + 1, column + 1)


# -- writing ------------------------------------------------------------------------------------

_YAML_11 = VersionedResolver(version=(1, 1))


class _Representer(SafeRepresenter):
    """Plain block style as people write access files: timestamps as ``2026-11-29T01:00:00Z``
    and strings quoted whenever a reader could take them for anything else."""

    def represent_str(self, data: str) -> Any:
        node = super().represent_str(data)
        # ruamel quotes what YAML 1.2 would read as another type; quote what YAML 1.1 tools
        # (editors, linters) would misread too, such as `no`, `on` or `0755`
        if node.style is None and _YAML_11.resolve(ScalarNode, data, (True, False)) != _STR_TAG:
            node.style = "'"
        return node

    def represent_datetime(self, data: datetime) -> Any:
        if data.tzinfo is None:
            raise ValueError("a timestamp without a timezone cannot be written")
        text = data.astimezone(UTC).isoformat().replace("+00:00", "Z")
        return self.represent_scalar(_TIMESTAMP_TAG, text)


_Representer.add_representer(str, _Representer.represent_str)
_Representer.add_representer(datetime, _Representer.represent_datetime)


def dump_document(data: Mapping[str, Any]) -> str:
    """Write a mapping of plain values as a YAML document ``load_document`` reads back equal.

    Keys keep their order; nothing is folded onto a second line, so each field is one line.
    """
    yaml = YAML(typ="safe", pure=True)
    yaml.Representer = _Representer
    yaml.default_flow_style = False
    yaml.width = 1 << 16  # never fold: a file longer than MAX_FILE_BYTES is refused anyway
    yaml.allow_unicode = True
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]
    stream = io.StringIO()
    yaml.dump(dict(data), stream)
    return stream.getvalue()
