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
import threading
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.constructor import SafeConstructor
from ruamel.yaml.error import MantissaNoDotYAML1_1Warning, MarkedYAMLError, YAMLError
from ruamel.yaml.events import AliasEvent, NodeEvent
from ruamel.yaml.nodes import MappingNode, ScalarNode
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
    """A scalar the schema types as a timestamp or a number that is not a valid one."""

    def __init__(self, node: Any, reason: str) -> None:
        super().__init__(reason)
        self.node = node
        self.reason = reason


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
        except (ValueError, OverflowError) as exc:  # e.g. `2026-13-01`, `0x_`: no such value
            raise _UnreadableValue(_first_unreadable(loader, node) or node, str(exc)) from None
    finally:
        loader.dispose()


def _first_unreadable(loader: Any, root: Any) -> Any:
    """The first scalar under ``root`` (in file order) that cannot be constructed, if any."""
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, ScalarNode):
            try:
                loader.construct_non_recursive_object(node)
            except (ValueError, OverflowError):
                return node
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
    if b"\x00" in raw:
        raise InputError("file is binary (it contains NUL bytes) — it must be YAML text", path=path)
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
    try:
        data = _load_ruamel(text)
    except MarkedYAMLError as exc:
        raise _marked_error(exc, path) from None
    except YAMLError as exc:
        raise InputError(f"not valid YAML: {exc}", path=path) from None
    except _UnreadableValue as exc:
        kind = str(exc.node.tag).rpartition(":")[2]
        mark = exc.node.start_mark
        raise InputError(
            f"`{exc.node.value}` is not a valid {kind} ({exc.reason}) — correct it, or quote it "
            "if it is meant as text",
            path=path,
            line=mark.line + 1,
            column=mark.column + 1,
        ) from None
    except RecursionError:
        raise InputError("YAML nesting is too deep", path=path) from None
    if data is None:
        raise InputError(
            "file is empty — it must hold one YAML mapping with apiVersion and kind",
            path=path,
            line=1,
        )
    if not isinstance(data, dict):
        raise InputError(
            f"the document is a {_yaml_type(data)}, not a mapping — write `key: value` pairs",
            path=path,
            line=1,
            column=1,
        )
    if _too_deep(data):
        raise InputError(
            f"the document nests deeper than {MAX_DEPTH} levels — access files are shallow",
            path=path,
            line=1,
        )
    return Document(path=path, data=data, text=text)


def _too_deep(data: object) -> bool:
    stack: list[tuple[object, int]] = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        children = (
            node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        )
        for child in children:
            if isinstance(child, dict | list):
                if depth >= MAX_DEPTH:
                    return True
                stack.append((child, depth + 1))
    return False


def _refuse_anchors(text: str, path: str) -> None:
    try:
        for event in _positional_yaml().parse(text):
            if isinstance(event, AliasEvent) or (
                isinstance(event, NodeEvent) and event.anchor is not None
            ):
                mark = event.start_mark
                raise InputError(
                    "YAML anchors and aliases (&name, *name) are not allowed in access files "
                    "— write each value out in full",
                    path=path,
                    line=mark.line + 1 if mark else None,
                    column=mark.column + 1 if mark else None,
                )
    except MarkedYAMLError as exc:
        raise _marked_error(exc, path) from None
    except YAMLError as exc:  # e.g. a control character: refused as the full parse refuses it
        raise InputError(f"not valid YAML: {exc}", path=path) from None


_FIXES = {
    "found duplicate key": "remove or rename the repeated key",
    "could not determine a constructor for the tag": (
        "custom tags are not allowed; remove the `!tag` and write a plain value"
    ),
    "expected a single document in the stream": (
        "one file holds one document; remove the `---` separator and split the file"
    ),
}


def _marked_error(exc: MarkedYAMLError, path: str) -> InputError:
    mark = exc.problem_mark or exc.context_mark
    problem = (exc.problem or exc.context or "not valid YAML").strip()
    fix = next((hint for key, hint in _FIXES.items() if key in str(exc)), None)
    if "duplicate key" in problem and exc.problem_mark is not None:
        problem = "duplicate key"
    message = f"{problem} — {fix}" if fix else f"not valid YAML: {problem}"
    return InputError(
        message,
        path=path,
        line=mark.line + 1 if mark is not None else None,
        column=mark.column + 1 if mark is not None else None,
    )


def _yaml_type(value: object) -> str:
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    return type(value).__name__


def locate(text: str, loc: Sequence[str | int], *, at_key: bool = False) -> tuple[int, int]:
    """The 1-based (line, column) of ``loc`` in ``text``, as close as the document allows.

    A scalar is located at its value, unless ``at_key`` asks for the key that holds it.
    """
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
