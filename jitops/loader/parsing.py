"""The parser: ruamel.yaml's C-accelerated safe loader, YAML 1.2 whatever the file says, and
the value that cannot be constructed found and named."""

from __future__ import annotations

from typing import Any

from ruamel.yaml.constructor import SafeConstructor
from ruamel.yaml.nodes import MappingNode, ScalarNode
from ruamel.yaml.resolver import Resolver

from jitops.loader.fast_path import flat_strings, plain_scalar_tag

try:  # the C-accelerated parser of ruamel.yaml.clib, 2-3x faster than the pure one
    from ruamel.yaml.cyaml import CSafeLoader as SafeLoader
except ImportError:  # pragma: no cover - interpreters without the C extension
    from ruamel.yaml.composer import Composer
    from ruamel.yaml.parser import Parser
    from ruamel.yaml.reader import Reader
    from ruamel.yaml.scanner import Scanner

    class SafeLoader(Reader, Scanner, Parser, Composer, SafeConstructor, Resolver):  # type: ignore[no-redef]
        def __init__(self, stream: str) -> None:
            Reader.__init__(self, stream, loader=self)
            Scanner.__init__(self, loader=self)
            Parser.__init__(self, loader=self)
            Composer.__init__(self, loader=self)
            SafeConstructor.__init__(self, loader=self)
            Resolver.__init__(self, loadumper=self)


__all__ = [
    "CONSTRUCTION_ERRORS",
    "EXPECTED",
    "SafeLoader",
    "UnreadableShape",
    "UnreadableValue",
    "load_ruamel",
    "shown",
]


class UnreadableValue(Exception):
    """A scalar the schema (or its tag) types as a value it is not a valid one of."""

    def __init__(self, node: Any, message: str) -> None:
        super().__init__(message)
        self.node = node
        self.message = message


class UnreadableShape(Exception):
    """The constructor refused the document's structure (not a scalar): a collection as a key,
    or nesting past what it can recurse into; the event stream says where."""


# What ruamel's constructors raise for a value that is no such value: ValueError for most,
# OverflowError for huge exponents, KeyError for `!!bool x`, IndexError for `!!int ""`,
# TypeError for a list that holds a list used as a key.
CONSTRUCTION_ERRORS = (ValueError, OverflowError, KeyError, IndexError, TypeError)

# What a valid value of each core type looks like, for errors whose own text says nothing
# (a KeyError's text is the bad value itself).
EXPECTED = {
    "bool": "true or false",
    "int": "a whole number such as 42, 0x2a or 0o52",
    "float": "a number such as 1.5 or 1e3",
    "timestamp": "a date such as 2026-06-01 or a time such as 2026-06-01T12:00:00Z",
    "binary": "base64 text",
}
# A value quoted back in a message is cut here: a 4,000-digit number is no help on a terminal.
_SHOWN_CHARS = 40


def shown(value: str) -> str:
    return value if len(value) <= _SHOWN_CHARS else value[: _SHOWN_CHARS - 1] + "…"


def unreadable_message(node: Any, exc: Exception) -> str:
    kind = str(node.tag).rpartition(":")[2]
    if isinstance(exc, ValueError | OverflowError) and str(exc):
        reason = shown(str(exc))
    else:
        reason = f"expected {EXPECTED.get(kind, f'a valid {kind}')}"
    # A tag written in the file (`!!bool x`) or on a quoted value types it on purpose: quoting
    # cannot help, removing the tag does. An untagged plain value (style None in the pure
    # parser, "" in the C one) is typed by how it looks.
    tagged = bool(node.style) or plain_scalar_tag(node.value) != str(node.tag)
    fix = (
        f"write a valid {kind}, or remove the `!!{kind}` tag if it is meant as text"
        if tagged
        else "correct it, or quote it if it is meant as text"
    )
    return f"`{shown(node.value)}` is not a valid {kind} ({reason}) — {fix}"


def load_ruamel(text: str) -> Any:
    # ``Resolver`` (not ``VersionedResolver``) applies YAML 1.2 rules whatever the file says:
    # a ``%YAML 1.1`` directive cannot bring back ``no`` → False or 0755 → 493.
    loader = SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        flat = flat_strings(node)
        if flat is not None:
            return flat
        try:
            return loader.construct_document(node)
        except CONSTRUCTION_ERRORS as exc:  # e.g. `2026-13-01`, `0x_`, `!!bool x`
            found = first_unreadable(loader, node)
            if found is None:  # no scalar is at fault: the structure is
                raise UnreadableShape(str(exc)) from None
            raise UnreadableValue(found[0], unreadable_message(*found)) from None
    finally:
        loader.dispose()


def first_unreadable(loader: Any, root: Any) -> tuple[Any, Exception] | None:
    """The first scalar under ``root`` (in file order) that cannot be constructed, and why."""
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, ScalarNode):
            try:
                loader.construct_non_recursive_object(node)
            except CONSTRUCTION_ERRORS as exc:
                return node, exc
        elif isinstance(node, MappingNode):
            stack.extend(item for pair in reversed(node.value) for item in reversed(pair))
        else:
            stack.extend(reversed(node.value))
    return None
