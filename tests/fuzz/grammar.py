"""Hostile YAML built from fragments of YAML's grammar, for the loader's fuzz tests.

Random bytes rarely get past the parser's first character; documents assembled from YAML's
own pieces (tags, anchors, merge keys, complex keys, flow and block collections, directives,
escapes, odd scalars) reach the constructors and the code after them, where the surprises are.
The hostile documents of ``tests/fuzz/corpus`` are mixed in whole and spliced into.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import strategies as st

CORPUS = Path(__file__).resolve().parent / "corpus"
SEEDS = tuple(path.read_bytes() for path in sorted(CORPUS.glob("*.yaml")))

TAGS = [
    "!!bool", "!!int", "!!float", "!!timestamp", "!!binary", "!!str", "!!null", "!!map",
    "!!seq", "!!set", "!!omap", "!!pairs", "!!merge", "!!value", "!!yaml", "!custom",
    "!!python/object:os.system", "!<tag:yaml.org,2002:int>", "!", "!e!x",
]  # fmt: skip
SCALARS = [
    "x", "", "=", "~", "null", "true", "no", "on", "0", "-0", "0x", "0x_", "0o9", "0b2", "1_0",
    "1e3", "1e99999", ".", "._", ".inf", ".nan", "-.inf", "9" * 30, "2026-06-01",
    "2026-13-01", "2026-02-30", "2026-06-01T25:00:00Z", "2026-06-01 12:00:00 +99:00",
    "12:30:45", "<<", "@@", "`x", "%x", "YQ==", "'q'", '"q"', '"\\x1f"', '"\\ud800"',
    '"\\U0010ffff"', '"\\N"', "'unclosed", '"unclosed', "ключ", "é", "\u2028", "\ufeff",
    "\x85", "\x1f", "\x7f", "\t", "a: b", "a #c", "- x", "? x", "|", ">-", "|+9",
]  # fmt: skip
KEYS = [
    "a", "b", "kind", "apiVersion", "<<", "=", "~", "1", "0x1", "1.0", "true", "null",
    "2026-06-01", "'a'", '"a"', "? a", "[a]", "[[a]]", "{a: 1}", "&k a", "*k", "!!str 1",
    "!!int 1", "!!bool x", "? [a]", "? - a", "", " ", "a b", "a:b",
]  # fmt: skip
PIECES = [
    "\n", " ", "  ", ": ", ":", "- ", "? ", ", ", "[", "]", "{", "}", "#", "&a ", "*a", "!!",
    "!", "'", '"', "|", ">", "%YAML 1.1\n", "%YAML 1.2\n", "%TAG ! tag:x,2000:\n", "---\n",
    "...\n", "\t", "\r\n", "\r", "\\", "\x00", "\x1f", "\x85", "\ufeff", "\u2028",
]  # fmt: skip


def _tagged(scalar: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(st.sampled_from(TAGS), scalar).map(lambda pair: f"{pair[0]} {pair[1]}")


scalars = st.one_of(
    st.sampled_from(SCALARS),
    _tagged(st.sampled_from(SCALARS)),
    st.text(max_size=8),
)
keys = st.one_of(st.sampled_from(KEYS), _tagged(st.sampled_from(SCALARS)), st.text(max_size=4))


def _flow(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    items = st.lists(children, max_size=3)
    pairs = st.lists(st.tuples(keys, children), max_size=3)
    return st.one_of(
        items.map(lambda xs: "[" + ", ".join(xs) + "]"),
        pairs.map(lambda kvs: "{" + ", ".join(f"{k}: {v}" for k, v in kvs) + "}"),
        st.tuples(st.sampled_from(TAGS), items).map(lambda t: f"{t[0]} [{', '.join(t[1])}]"),
    )


flow_values = st.recursive(scalars, _flow, max_leaves=12)


def _indent(block: str) -> str:
    return "".join(f"  {line}\n" for line in block.splitlines())


def _block(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    entries = st.lists(
        st.one_of(
            st.tuples(keys, flow_values).map(lambda kv: f"{kv[0]}: {kv[1]}\n"),
            st.tuples(keys, children).map(lambda kv: f"{kv[0]}:\n{_indent(kv[1])}"),
            st.tuples(keys, flow_values).map(lambda kv: f"? {kv[0]}\n: {kv[1]}\n"),
            children.map(lambda block: f"-\n{_indent(block)}"),
            flow_values.map(lambda value: f"- {value}\n"),
        ),
        min_size=1,
        max_size=4,
    )
    return entries.map("".join)


blocks = st.recursive(
    st.tuples(keys, flow_values).map(lambda kv: f"{kv[0]}: {kv[1]}\n"), _block, max_leaves=10
)


def _splice(base: bytes, insert: bytes, at: int) -> bytes:
    at = at % (len(base) + 1)
    return base[:at] + insert + base[at:]


documents = st.one_of(
    blocks,
    flow_values,
    st.lists(st.one_of(st.sampled_from(PIECES), keys, scalars), max_size=30).map("".join),
)
"""YAML text assembled from grammar fragments: mostly well-formed, often not."""

hostile_bytes = st.one_of(
    documents.map(lambda text: text.encode("utf-8", "surrogatepass")),
    st.sampled_from(SEEDS),
    st.builds(_splice, st.sampled_from(SEEDS), documents.map(str.encode), st.integers(0, 10_000)),
    st.binary(max_size=200),
)
"""Bytes as a file could hold them: grammar documents, seeds, seeds spliced, random bytes."""
