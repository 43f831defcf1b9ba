"""Reading the common case cheaply: a flat mapping of plain strings, from the text (a
recogniser several times cheaper than the parser) or from a composed node. Anything else goes
to the parser; every scalar is typed with ruamel's own resolver, so both read alike
(tests/test_loader_subset.py checks it on generated documents)."""

from __future__ import annotations

import functools
from typing import Any

from ruamel.yaml.constructor import SafeConstructor
from ruamel.yaml.nodes import MappingNode, ScalarNode
from ruamel.yaml.resolver import Resolver

STR_TAG = "tag:yaml.org,2002:str"


def flat_strings(node: Any) -> dict[str, str] | None:
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
        if str(key.ctag) != STR_TAG or str(value.ctag) != STR_TAG:
            return None
        name = key.value
        if name in result or name == "<<":
            return None
        result[name] = value.value
    return result


# The longest key the recogniser below accepts (YAML allows 1024 characters in a simple key).
_FLAT_KEY_MAX = 64
TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_RESOLVER = Resolver()
_CONSTRUCTOR = SafeConstructor()


@functools.lru_cache(maxsize=4096)
def plain_scalar_tag(value: str) -> str:
    """The tag ruamel's own YAML 1.2 resolver gives the plain scalar ``value``.

    Exactly the call the parser makes for an untagged plain scalar; cached, because keys and
    many values repeat from file to file.
    """
    return str(_RESOLVER.resolve(ScalarNode, value, (True, False)))


def flat_mapping(text: str) -> dict[str, Any] | None:
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
            or plain_scalar_tag(key) != STR_TAG
        ):
            return None
        tag = plain_scalar_tag(value)
        if tag == STR_TAG:
            result[key] = value
        elif tag == TIMESTAMP_TAG:
            try:
                result[key] = _CONSTRUCTOR.construct_yaml_timestamp(ScalarNode(tag, value))
            except Exception:  # ruamel refuses it too, and says where
                return None
        else:
            return None
    return result or None
