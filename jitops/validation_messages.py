"""What a pydantic validation error means, in words a person acts on: the field, what is
wrong with it, and what to write instead — never a regular expression or pydantic's own
phrasing. Used for every file jitops reads, and for a target's settings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

_PATTERN_MEANINGS = {
    "requester": "a GitHub login: ASCII letters, digits and hyphens, at most 39 characters",
    "by": "a GitHub login: ASCII letters, digits and hyphens, at most 39 characters",
    "id": "lower-case letters, digits, '.', '_' and '-', 3 to 100 characters",
    "target": "a name: lower-case letters, digits, '_' and '-'",
    "role": "a name: lower-case letters, digits, '_' and '-'",
    "name": "a name: lower-case letters, digits, '_' and '-'",
    "provisioner": "a provisioner kind such as postgres, github-team, aws or exec",
}
# Fields that name people or teams (a list's items are named by their list).
_PRINCIPAL_FIELDS = {"requesters", "request_for_others", "from", "approvers", "members"}
_PRINCIPAL = "a GitHub login (alice or @alice) or a team, written @org/team"
_BOUNDS = {
    "greater_than_equal": ("ge", "at least"),
    "greater_than": ("gt", "more than"),
    "less_than_equal": ("le", "at most"),
    "less_than": ("lt", "less than"),
}
_PARSING = {
    "int_parsing": "a whole number, e.g. 5432",
    "int_from_float": "a whole number, e.g. 5432",
    "float_parsing": "a number",
    "bool_parsing": "true or false",
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
        named = next((str(p) for p in reversed(loc) if isinstance(p, str)), "")
        if named in _PRINCIPAL_FIELDS:
            if isinstance(value, str) and "/" in value and not value.startswith("@"):
                return f"`{field}` is {value!r}", f"a team is written with an @: '@{value}'"
            return f"`{field}` is {value!r}", f"it must be {_PRINCIPAL}"
        meaning = _PATTERN_MEANINGS.get(last, f"a value matching {error['ctx']['pattern']}")
        return f"`{field}` is {value!r}", f"it must be {meaning}"
    if kind in _BOUNDS:
        key, words = _BOUNDS[kind]
        return f"`{field}` is {value!r}", f"it must be {words} {error.get('ctx', {}).get(key)}"
    if kind in _PARSING:
        return f"`{field}` is {value!r}", f"it must be {_PARSING[kind]}"
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
