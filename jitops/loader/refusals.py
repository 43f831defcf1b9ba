"""A file's problem stated with its place and its fix: ruamel's errors translated, anchors and
deep nesting refused before composing, and positions recovered from the text only when a
file turns out to be wrong (``locate``)."""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    MappingStartEvent,
    NodeEvent,
)
from ruamel.yaml.reader import ReaderError

from jitops.errors import InputError
from jitops.loader.fast_path import flat_mapping
from jitops.loader.limits import MAX_DEPTH
from jitops.loader.parsing import (
    EXPECTED,
    SafeLoader,
    shown,
)

_local = threading.local()


def positional_yaml() -> YAML:
    """This thread's round-trip parser, for positions, reading YAML 1.2 whatever it read last:
    a ``%YAML 1.1`` directive in one file sets the version on the parser, and the next file
    would be read with it (``Y`` a boolean key, and its position not found)."""
    return _this_thread_s("rt")


def event_yaml() -> YAML:
    """This thread's pure-Python safe parser, for events and their positions: the round-trip
    one also gathers comments, and gives up on some layouts of them (NotImplementedError
    "overlap in comment" from a file any writer can push); events need none."""
    return _this_thread_s("safe")


def _this_thread_s(typ: str) -> YAML:
    yaml: YAML | None = getattr(_local, typ, None)
    if yaml is None:
        yaml = YAML(typ=typ, pure=True)
        setattr(_local, typ, yaml)
    yaml.version = (1, 2)
    return yaml


def shape_error(text: str, path: str, reason: str) -> InputError:
    """The refusal of a document whose structure is wrong, where it goes wrong if it can say."""
    found = shape_problem(text, path)
    if found is not None:
        return found
    detail = f" ({shown(reason)})" if reason else ""
    return InputError(
        f"the document cannot be read as data{detail} — write plain `key: value` pairs",
        path=path,
        line=1,
        column=1,
    )


_BRACKETS = re.compile(r"[^\[\]{}]+")
# Past this length a line could hold block collections nested deep enough to matter.
_LONG_LINE = 200


def may_nest_deep(text: str) -> bool:
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


def shape_problem(text: str, path: str) -> InputError | None:
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
    loader = SafeLoader(text)
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, NodeEvent) and frames:
                is_mapping, count = frames[-1]
                frames[-1][1] += 1
                if isinstance(event, CollectionStartEvent) and is_mapping and count % 2 == 0:
                    return at(
                        text,
                        event,
                        path,
                        "a key must be a plain value, not a list or mapping — write the key as "
                        "a string (quote it if it starts with `[`, `{` or `?`)",
                    )
            if isinstance(event, CollectionStartEvent):
                if len(frames) >= MAX_DEPTH:
                    return at(
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


def at(text: str, event: Any, path: str, message: str) -> InputError:
    line, column = position(text, event.start_mark)
    return InputError(message, path=path, line=line, column=column)


def line_column(text: str, index: int) -> tuple[int, int]:
    """The 1-based line and column of the character at ``index`` of ``text``."""
    return text.count("\n", 0, index) + 1, index - (text.rfind("\n", 0, index) + 1) + 1


def position(text: str, mark: Any) -> tuple[int, int]:
    """The 1-based line and column of a parser's ``mark``, as an editor or git counts them.

    The parsers count lines YAML 1.1's way, where NEL, U+2028 and U+2029 break lines too, so
    their line numbers drift from the file's; their character index does not.
    """
    index = getattr(mark, "index", None)
    if isinstance(index, int) and 0 <= index <= len(text):
        return line_column(text, index)
    return mark.line + 1, mark.column + 1


def reader_error(exc: ReaderError, text: str, path: str) -> InputError:
    """A character YAML does not allow (a control character), refused where it is.

    The pure reader counts its position in characters, the C one in UTF-8 bytes; the first
    occurrence of the character itself is where either stopped.
    """
    code = exc.character if isinstance(exc.character, int) else None
    index = text.find(chr(code)) if code is not None else -1
    line, column = line_column(text, index) if index >= 0 else (1, 1)
    what = f"unacceptable character #x{code:04x}: " if code is not None else ""
    return InputError(
        f"not valid YAML: {what}{exc.reason} — remove it, or write it as the escape "
        f'"\\u{code or 0:04x}" inside a double-quoted string',
        path=path,
        line=line,
        column=column,
    )


def refuse_anchors(text: str, path: str) -> None:
    try:
        for event in event_yaml().parse(text):
            if isinstance(event, AliasEvent) or (
                isinstance(event, NodeEvent) and event.anchor is not None
            ):
                line, column = position(text, event.start_mark) if event.start_mark else (1, 1)
                raise InputError(
                    "YAML anchors and aliases (&name, *name) are not allowed in access files "
                    "— write each value out in full",
                    path=path,
                    line=line,
                    column=column,
                )
    except MarkedYAMLError as exc:
        raise marked_error(exc, path, text) from None
    except ReaderError as exc:  # a control character: refused as the full parse refuses it
        raise reader_error(exc, text, path) from None
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
        f"write {EXPECTED['timestamp']}, or remove the `!!timestamp` tag if it is meant as text",
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


def marked_error(exc: MarkedYAMLError, path: str, text: str = "") -> InputError:
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
    line, column = position(text, mark) if mark is not None else (1, 1)
    return InputError(message, path=path, line=line, column=column)


def _char_at(text: str, mark: Any) -> str:
    """The character of ``text`` at ``mark``."""
    line, column = position(text, mark)
    lines = text.split("\n")
    return lines[line - 1][column - 1 : column] if line <= len(lines) else ""


def yaml_type(value: object) -> str:
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    return type(value).__name__


def flat_position(text: str, key: str, *, at_key: bool) -> tuple[int, int] | None:
    """``locate`` of a top-level key in a file of the flat subset (``flat_mapping``), without
    the positional parser: every such line is ``key: value`` from column 1. None for any other
    file, or a key it does not hold."""
    if flat_mapping(text) is None:
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
        found = flat_position(text, loc[0], at_key=at_key)
        if found is not None:
            return found
    try:
        node: Any = positional_yaml().load(text)
    except (YAMLError, NotImplementedError):  # ruamel's comment handling gives up: the top
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
