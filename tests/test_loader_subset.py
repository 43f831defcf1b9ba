"""The flat-file recogniser of jitops.loader against ruamel: it never disagrees, never accepts more.

``flat_mapping`` reads the tiny subset of YAML most access files are written in and leaves
everything else to ruamel. A second parser in a security tool is a risk, so these tests
generate documents — ordinary ones, ones a character away from the subset, and hostile ones —
and check, for each, that whenever the recogniser accepts, ruamel accepts too and builds the
same mapping, and that ``load_document`` answers the same (data, or error with message, line
and column) with the recogniser as without it.
"""

from __future__ import annotations

import datetime
import os
from unittest import mock

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from jitops import loader
from jitops.errors import InputError
from jitops.loader import load_document, refusals
from jitops.loader.fast_path import flat_mapping
from jitops.loader.parsing import load_ruamel

REQUEST = (
    "# a comment: kept out of the data\n"
    "apiVersion: jitops/v1\n"
    "kind: AccessRequest\n"
    "id: 2026-06-01-alice-001\n"
    "requester: Alice-1\n"
    "target: sandbox-db\n"
    "role: readonly\n"
    "justification: Investigate INC-1234, slow queries (p99) on orders; see https://x/y?z=1\n"
    "ticket: INC-1234\n"
    "duration: 4h\n"
)

KEYS = [
    "apiVersion", "kind", "id", "requester", "target", "role", "justification", "ticket",
    "duration", "expires_at", "starts_at", "a", "_", "y", "n", "no", "yes", "on", "off",
    "true", "True", "false", "null", "Null", "NULL", "<<", "1", "0x1F", "k" * 64, "k" * 65,
    "k" * 1100, "two words", "dash-key", "dot.key", "ключ", "é", "kind ", " kind",
]  # fmt: skip

VALUES = [
    # ordinary
    "jitops/v1", "AccessRequest", "sandbox-db", "readonly", "4h", "30m", "1h30m", "INC-1234",
    "Alice-1", "2026-06-01-alice-001", "Fix INC-1, a data fix (p99); see http://x/y?z=1&w=2",
    "it's \"fine\"", "a:b", "a :b", "a::b", "x,y", "a[0]", "a{b}", "a|b", "a>b", "a!b",
    "a%b", "a@b", "a`b", "a*b", "a&b", "a\\b", "a~", "a - b", "a ? b",
    # typed by the YAML 1.2 core schema, or by YAML 1.1 only
    "yes", "no", "on", "off", "y", "n", "true", "True", "TRUE", "false", "null", "Null", "~",
    "", "0", "0755", "0o17", "0x1F", "0b101", "1_000", "1e3", "1.5", "-1", "+1", ".5",
    ".inf", "-.inf", ".nan", "12:30", "1:20:30", "190:20:30", "2026-06-01",
    "2026-06-01T12:00:00Z", "2026-06-01 12:00:00", "2026-6-1 1:2:3", "<<", "=",
    # YAML syntax where a plain value would be
    "&anchor x", "*alias", "!!python/object:os.system x", "!tag x", "!!str 1", "!!int 1",
    "'single'", '"double"', "'unclosed", '"unclosed', "|", ">", "|-\n  x", "[a, b]",
    "{a: b}", "a: b", "a:", "a: ", "a #c", "a#b", "#c", "@at", "`tick", "%pct", "-", "- x",
    "? x", ",x", "]x", "}x", "x ", " x", "x  ", "\tx", "x\ty", "x\t", "x\r", "x\ry",
    # characters YAML treats specially
    "café", "\ufeffx", "x\ufeffy", "x\x85y", "x\u2028y", "x\u2029y", "x\x7f", "x\x1b",
    "x\x00", "\ud7ff", "x\U0001f600",
]  # fmt: skip

SEPARATORS = [": ", ":", ":  ", " : ", ":\t", ": \t", "\t: ", "::", ": : "]
EXTRA_LINES = [
    "", " ", "# comment", "#", "#: x", "# \x85", "# \t", " # indented comment", "---", "--- x",
    "...", "%YAML 1.1", "%YAML 1.2", "%TAG ! tag:example.com,2000:", "- item", "? key",
    ": value", "  nested: x", "\tkey: v", "key:", "key: |", "  literal", "key: &a x", "b: *a",
    "!!map", "{a: b}", "[a]", "a: b: c", "\ufeff# bom", "\ufeffa: b",
]  # fmt: skip
BREAKS = ["\n", "\n", "\n", "\n", "\r\n", "\r", "\x85", "\u2028"]


def _key_value_line(key: str, separator: str, value: str) -> str:
    return f"{key}{separator}{value}"


def _joined(first: str, rest: str) -> str:
    return first + rest


IDENTIFIER_START = "ABCXYZabckmnxyz_"
# identifiers of the subset's alphabet (st.from_regex is slower to draw from by far)
identifiers = st.builds(
    _joined, st.sampled_from(IDENTIFIER_START), st.text(IDENTIFIER_START + "0189", max_size=6)
)
printable_ascii = st.characters(min_codepoint=0x20, max_codepoint=0x7E)


@st.composite
def timestamps(draw: st.DrawFn) -> str:
    """Timestamp-shaped text: real dates and times, impossible ones, and odd spellings."""
    number = st.integers(0, 99)
    text = f"{draw(st.sampled_from([2026, 1, 99999, 2099, 0]))}-"
    text += f"{draw(number):0{draw(st.sampled_from([1, 2, 2, 3]))}d}-{draw(number):02d}"
    if draw(st.booleans()):
        text += draw(st.sampled_from(["T", "t", " ", "  ", "_"]))
        text += f"{draw(number):02d}:{draw(number):02d}:{draw(number):02d}"
        text += draw(st.sampled_from(["", "", ".5", ".1234567", ".9999999", "."]))
        text += draw(st.sampled_from(["", "Z", "z", " Z", "+01:00", "-05:30", "+1", "+0100"]))
    return text


lines = st.one_of(
    st.builds(
        _key_value_line,
        st.sampled_from(KEYS) | identifiers,
        st.sampled_from(SEPARATORS[:1] * 6 + SEPARATORS),
        st.sampled_from(VALUES)
        | timestamps()
        | st.text(printable_ascii, max_size=30)
        | st.text(max_size=8),
    ),
    st.sampled_from(EXTRA_LINES),
)


@st.composite
def documents(draw: st.DrawFn) -> str:
    """A document of lines, mostly ``key: value`` and line feeds, with hostile ones mixed in."""
    body = draw(st.lists(lines, min_size=0, max_size=8))
    text = "".join(line + draw(st.sampled_from(BREAKS)) for line in body)
    if draw(st.booleans()):
        text = text.rstrip("\n")  # a last line without its line break
    return text


# Characters YAML gives meaning to, and some it refuses or treats as line breaks.
SPECIAL = list(" \t\n\r:#-?&*!|>'\"%@`,[]{}~<=abkyn019_./\\\x85\u2028\ufeff\x00\x7fé")

# Any text at all, over an alphabet dense in what YAML gives meaning to.
yaml_noise = st.text(st.sampled_from(SPECIAL), max_size=60)


@st.composite
def near_subset(draw: st.DrawFn) -> str:
    """A document inside the subset, or one edit (insert, replace, delete) away from it."""
    pairs = draw(
        st.lists(
            st.tuples(
                identifiers,
                st.builds(_joined, st.sampled_from("aZ09yn"), st.text(printable_ascii, max_size=24))
                | timestamps(),
            ),
            min_size=1,
            max_size=6,
        )
    )
    text = "".join(f"{key}: {value}\n" for key, value in pairs)
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(0, len(text)))
        edit = draw(st.sampled_from(["insert", "replace", "delete"]))
        char = draw(st.sampled_from(SPECIAL))
        if edit == "insert":
            text = text[:at] + char + text[at:]
        elif edit == "replace":
            text = text[:at] + char + text[at + 1 :]
        else:
            text = text[:at] + text[at + 1 :]
    return text


def _ruamel(text: str) -> object:
    """What ruamel alone makes of ``text``: the data, or the kind of its refusal."""
    try:
        return ("ok", load_ruamel(text))
    except Exception as exc:  # any refusal, whatever its class
        return ("refused", type(exc).__name__)


def _agrees_with_ruamel(text: str) -> None:
    fast = flat_mapping(text)
    if fast is None:
        return
    outcome = _ruamel(text)
    assert outcome == ("ok", fast), f"the recogniser accepted {text!r}; ruamel: {outcome!r}"
    # the same types and time zones too, which == alone does not tell apart
    assert repr(outcome[1]) == repr(fast)
    assert all(type(key) is str for key in fast)
    assert all(type(value) in (str, datetime.date, datetime.datetime) for value in fast.values())


def _load(raw: bytes) -> object:
    try:
        document = load_document(raw, "requests/x.yaml")
    except InputError as exc:
        return ("refused", exc.message, exc.line, exc.column)
    return ("ok", document.data, document.text)


def _same_with_and_without_the_recogniser(text: str) -> None:
    raw = text.encode("utf-8", "surrogatepass")
    with_it = _load(raw)
    with (
        mock.patch.object(loader, "flat_mapping", _never),
        mock.patch.object(refusals, "flat_mapping", _never),
    ):
        without = _load(raw)
    assert with_it == without


def _never(text: str) -> None:
    return None


# Each run draws new documents (and replays any that ever failed, from .hypothesis/); for a
# deeper search: JITOPS_SUBSET_EXAMPLES=20000 python3 -m pytest tests/test_loader_subset.py
SETTINGS = settings(
    max_examples=int(os.environ.get("JITOPS_SUBSET_EXAMPLES", "500")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@SETTINGS
@given(documents())
@example(REQUEST)
@example("a: b\na: c\n")
@example("a: b\n---\nc: d\n")
@example("a: yes\nb: no\nc: on\n")
def test_generated_documents_never_disagree_with_ruamel(text: str) -> None:
    _agrees_with_ruamel(text)
    _same_with_and_without_the_recogniser(text)


@SETTINGS
@given(near_subset())
def test_documents_at_the_edge_of_the_subset_never_disagree_with_ruamel(text: str) -> None:
    _agrees_with_ruamel(text)
    _same_with_and_without_the_recogniser(text)


@SETTINGS
@given(yaml_noise)
def test_arbitrary_text_never_disagrees_with_ruamel(text: str) -> None:
    _agrees_with_ruamel(text)
    _same_with_and_without_the_recogniser(text)


def test_an_ordinary_request_takes_the_recogniser_and_matches_ruamel() -> None:
    # the property tests would pass vacuously if the recogniser accepted nothing
    fast = flat_mapping(REQUEST)
    assert fast is not None and fast["justification"].endswith("see https://x/y?z=1")
    assert _ruamel(REQUEST) == ("ok", fast)
    assert flat_mapping("starts_at: 2026-06-01T12:00:00Z\nday: 2026-06-01\n") == {
        "starts_at": datetime.datetime(2026, 6, 1, 12, tzinfo=datetime.UTC),
        "day": datetime.date(2026, 6, 1),
    }
    assert flat_mapping("a: yes\nb: no\nc: on\nd: y\n") == {
        "a": "yes",
        "b": "no",
        "c": "on",
        "d": "y",
    }


@pytest.mark.parametrize(
    "text",
    [
        "a: b\na: c\n",  # duplicate key
        "a: !!python/object:os.system x\n",  # tag
        "a: !custom x\n",
        "a: &x b\nc: *x\n",  # anchor, alias
        "a: b\n---\nc: d\n",  # two documents
        "---\na: b\n",  # a document marker
        "a: b\n...\n",
        "%YAML 1.1\n---\na: b\n",  # a directive
        "%TAG ! tag:example.com,2000:\n---\na: b\n",
        "a:\tb\n",  # tabs
        "\ta: b\n",
        "a: b\r\nc: d\r\n",  # other line breaks
        "a: b\x85c: d\n",
        "a: b\n\nc: d\n",  # a blank line
        "a: 1\n",  # typed values: ruamel builds them
        "a: true\n",
        "a: null\n",
        "a: 2026-13-01T12:00:00Z\n",  # no such date: ruamel says where
        "2026-06-01: a\n",  # a key that is not a string
        "a: 0755\n",
        "true: a\n",
        "<<: a\n",
        "a: 'quoted'\n",
        "a: b: c\n",
        "a: b #comment\n",
        "a: b \n",
        "a: caf\u00e9\n",
        "k" * 65 + ": v\n",
        "a:\n  b: c\n",
        "- a\n",
        "# only a comment\n",
        "",
    ],
)
def test_anything_outside_the_subset_goes_to_ruamel(text: str) -> None:
    assert flat_mapping(text) is None


@st.composite
def flat_documents(draw: st.DrawFn) -> str:
    """Files of the flat subset, with comments between their lines: what ``locate``'s fast
    path reads (most generated ``documents()`` fall outside it)."""
    keys = draw(st.lists(identifiers | st.sampled_from(KEYS[:11]), min_size=1, max_size=8))
    lines = []
    for key in dict.fromkeys(keys):
        lines += draw(st.lists(st.sampled_from(["#", "# key: x", "#: x"]), max_size=1))
        lines.append(f"{key}: {draw(st.sampled_from(VALUES[:15]) | timestamps())}")
    return "\n".join(lines) + draw(st.sampled_from(["\n", ""]))


@settings(max_examples=int(os.environ.get("JITOPS_FUZZ_EXAMPLES", "300")), deadline=None)
@given(documents() | flat_documents(), st.data(), st.booleans())
def test_locating_a_key_of_a_flat_file_answers_as_the_positional_parser(
    text: str, data: st.DataObject, at_key: bool
) -> None:
    """``locate`` skips the positional parser for flat files: same line and column for every
    key the file holds; any other file, or a key it does not hold, goes to the parser."""
    flat = flat_mapping(text)
    keys = sorted(flat) if flat else []
    key = data.draw(st.sampled_from(keys) if keys else st.sampled_from(KEYS))
    fast = refusals.flat_position(text, key, at_key=at_key)
    assert (fast is not None) == (key in keys)
    if fast is not None:
        with mock.patch.object(refusals, "flat_position", return_value=None):
            assert fast == loader.locate(text, (key,), at_key=at_key)


def test_locating_in_a_request_file_needs_no_positional_parse() -> None:
    with mock.patch.object(refusals, "positional_yaml", side_effect=AssertionError):
        assert loader.locate(REQUEST, ("duration",)) == (10, 11)
        assert loader.locate(REQUEST, ("justification",), at_key=True) == (8, 1)


def test_a_yaml_1_1_directive_in_one_file_does_not_change_how_the_next_is_located() -> None:
    """The positional parser is shared by a thread's files; a ``%YAML 1.1`` file read through
    it must not leave it reading ``Y`` as a boolean in the next (where the key is not found)."""
    list(refusals.positional_yaml().parse("%YAML 1.1\n---\nroles: [a, b]\n"))
    with mock.patch.object(refusals, "flat_position", return_value=None):
        assert loader.locate("Y: jitops/v1\n", ("Y",)) == (1, 4)
