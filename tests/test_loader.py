"""The one YAML loader refuses every hostile or surprising input, with file and line."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from jitops.errors import InputError
from jitops.loader import MAX_FILE_BYTES, load_document, locate
from tests.gitrepo import make_access_repo


def refused(raw: bytes) -> InputError:
    with pytest.raises(InputError) as info:
        load_document(raw, "requests/x.yaml")
    assert info.value.path == "requests/x.yaml"
    return info.value


def test_yaml_1_2_semantics_no_norway_no_octal() -> None:
    doc = load_document(b"a: no\nb: yes\nc: 0755\nd: on\ne: 0o17\n", "f.yaml")
    assert doc.data == {"a": "no", "b": "yes", "c": 755, "d": "on", "e": 15}


def test_billion_laughs_is_refused_at_the_first_anchor() -> None:
    bomb = b'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    for name, previous in zip("bcdefghi", "abcdefgh", strict=True):
        bomb += f"{name}: &{name} [{','.join(['*' + previous] * 9)}]\n".encode()
    error = refused(bomb)
    assert "anchors and aliases" in error.message
    assert (error.line, error.column) == (1, 4)


def test_even_a_scalar_alias_is_refused() -> None:
    error = refused(b"a: &x hello\nb: *x\n")
    assert error.line == 1


def test_ampersand_and_star_inside_strings_are_fine() -> None:
    doc = load_document(b'a: "R&D * all"\nb: fish & chips\n', "f.yaml")
    assert doc.data == {"a": "R&D * all", "b": "fish & chips"}


@pytest.mark.parametrize(
    "tag", [b"!!python/object:os.system", b"!!python/object/apply:os.system", b"!custom"]
)
def test_custom_tags_are_refused(tag: bytes) -> None:
    error = refused(b"a: 1\nb: " + tag + b" ['echo pwned']\n")
    assert error.line == 2
    assert "custom tags are not allowed" in error.message


def test_duplicate_keys_are_refused_at_the_second_key() -> None:
    error = refused(b"role: readonly\nrole: admin\n")
    assert error.line == 2
    assert "duplicate key" in error.message


def test_multiple_documents_are_refused() -> None:
    error = refused(b"a: 1\n---\nb: 2\n")
    assert "one file holds one document" in error.message
    assert error.line == 2


@pytest.mark.parametrize(
    ("raw", "what"), [(b"- a\n- b\n", "list"), (b"just text\n", "string"), (b"42\n", "int")]
)
def test_non_mapping_documents_are_refused(raw: bytes, what: str) -> None:
    assert f"is a {what}, not a mapping" in refused(raw).message


def test_empty_file_is_refused() -> None:
    assert "file is empty" in refused(b"# only a comment\n").message


def test_oversized_file_is_refused_before_parsing() -> None:
    raw = b"a: " + b"x" * MAX_FILE_BYTES + b"\n"
    assert "KiB limit" in refused(raw).message


def test_binary_is_refused_at_its_first_nul_byte() -> None:
    error = refused(b"a: 1\nbb\x00\x01\x02")
    assert "binary" in error.message and (error.line, error.column) == (2, 3)
    assert (refused(b"\x00").line, refused(b"\x00").column) == (1, 1)
    assert refused("é\x00".encode()).column == 2  # counted in characters, not bytes


def test_non_utf8_is_refused_with_its_position() -> None:
    error = refused(b"a: 1\nb: caf\xe9\n")
    assert "not valid UTF-8" in error.message
    assert (error.line, error.column) == (2, 7)


@pytest.mark.parametrize("raw", [b"a: \x1f\n", b"a: \x1f\nb: &x c\n", b"b: &x c\na: \x7f\n"])
def test_control_characters_are_refused_with_or_without_an_anchor(raw: bytes) -> None:
    # the anchor check parses with the pure reader, which refuses them before any anchor
    error = refused(raw)
    assert "not valid YAML: unacceptable character #x00" in error.message
    assert (error.line, error.column) == ((1, 4) if raw.startswith(b"a") else (2, 4))


@pytest.mark.parametrize(
    ("raw", "line", "column", "what"),
    [
        (b"a: b\nexpires_at: 2026-13-01T00:00:00Z\n", 2, 13, "`2026-13-01T00:00:00Z` is not a"),
        (b"a: 2026-02-30\n", 1, 4, "`2026-02-30` is not a valid timestamp"),
        (b"a:\n  - 1\n  - 0x_\n", 3, 5, "`0x_` is not a valid int"),
        (b"._: a\n", 1, 1, "`._` is not a valid float"),
    ],
)
def test_a_typed_value_that_is_no_such_value_is_refused_where_it_is(
    raw: bytes, line: int, column: int, what: str
) -> None:
    error = refused(raw)
    assert what in error.message and "quote it" in error.message
    assert (error.line, error.column) == (line, column)


def test_syntax_error_has_a_line() -> None:
    error = refused(b"a: 1\nb: [unclosed\nc: 2\n")
    assert error.line is not None and error.line >= 2


def test_deep_nesting_is_refused_not_a_crash() -> None:
    error = refused(b"a: " + b"[" * 20000 + b"]" * 20000 + b"\n")
    # the root mapping is the first level, `a`'s list the second: the 16th `[` is the 17th
    assert "nests deeper than 16 levels" in error.message
    assert (error.line, error.column) == (1, 19)


def test_the_deepest_file_under_the_size_limit_is_refused_at_once() -> None:
    # the parser's own cost grows with the square of the depth: seconds for this file
    half = (MAX_FILE_BYTES - 8) // 2
    started = time.perf_counter()
    error = refused(b"a: " + b"[" * half + b"]" * half + b"\n")
    assert time.perf_counter() - started < 0.5
    assert (error.line, error.column) == (1, 19)


def test_brackets_in_strings_do_not_count_as_depth() -> None:
    deep_text = "[" * 40
    doc = load_document(f"a: '{deep_text}'\nb: [[x]]\n".encode(), "f.yaml")
    assert doc.data == {"a": deep_text, "b": [["x"]]}


def test_utf8_bom_is_accepted() -> None:
    assert load_document("\ufeffa: 1\n".encode(), "f.yaml").data == {"a": 1}


def test_locate_points_at_values_keys_and_list_items() -> None:
    text = "a: 1\nb:\n  c: hello\n  d:\n    - x\n    - y\n"
    assert locate(text, ("a",)) == (1, 4)
    assert locate(text, ("b", "c")) == (3, 6)
    assert locate(text, ("b", "d", 1)) == (6, 7)
    assert locate(text, ("b", "missing")) == (2, 1)


def test_a_yaml_1_1_directive_cannot_bring_back_1_1_booleans() -> None:
    doc = load_document(b"%YAML 1.1\n---\na: no\nb: 0755\n", "f.yaml")
    assert doc.data == {"a": "no", "b": 755}


EQUIVALENCE_CASES = [
    "a: b\nc: d\n",
    "a: 'quoted'\nb: \"double\"\n",
    "a: !!str 1\nb: '2'\n",
    "a: 1\nb: two\n",
    "a: null\nb: ~\n",
    "a: true\nb: 'true'\n",
    "a: 2026-11-24T18:00:00Z\n",
    "a: [1, 2]\nb: c\n",
    "a: {b: c}\n",
    "<<: {b: c}\nd: e\n",
    "? complex\n: value\n",
    "'a b': c\n",
    "a: |\n  block\n  text\nb: >\n  folded\n",
    "1: one\n",
]


@pytest.mark.parametrize("text", EQUIVALENCE_CASES)
def test_the_fast_path_builds_exactly_what_the_general_constructor_builds(text: str) -> None:
    from ruamel.yaml import YAML

    general = YAML(typ="safe", pure=True)
    expected = general.load(text)
    assert load_document(text.encode(), "f.yaml").data == expected


def test_the_fast_path_still_refuses_duplicate_keys() -> None:
    error = refused(b"a: b\nc: d\na: e\n")
    assert "duplicate key" in error.message and error.line == 3


def test_a_float_without_a_dot_prints_no_yaml_1_1_warning() -> None:
    # YAML 1.2 writes `1e3` without a dot; ruamel's 1.1 warning must not reach the terminal.
    import subprocess
    import sys

    code = (
        "from jitops.loader import load_document\n"
        "print(load_document(b'apiVersion: jitops/v1\\nvalue: 1e3\\n', 'x.yaml').data['value'])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "1000.0"
    assert done.stderr == ""


# Hostile documents that ruamel's constructors (not its parser) refuse, and what jitops says of
# each. Each file of tests/fuzz/corpus/ (the fuzzers' seeds too) states its expected refusal on
# its first line: `# expect line=L column=C: words`.
CORPUS = Path(__file__).resolve().parent / "fuzz" / "corpus"
EXPECT = re.compile(rb"^# expect line=(\d+) column=(\d+): (.+)$")


def expectation(path: Path) -> tuple[int, int, str]:
    match = EXPECT.match(path.read_bytes().split(b"\n", 1)[0])
    assert match, f"{path.name} does not start with `# expect line=L column=C: words`"
    return int(match[1]), int(match[2]), match[3].decode()


HOSTILE = sorted(CORPUS.glob("*.yaml"))


def test_the_corpus_covers_each_kind_of_hostile_document() -> None:
    names = {path.stem for path in HOSTILE}
    assert {
        "bool-tag", "int-tag-empty", "float-tag", "timestamp-tag", "nested-list-key",
        "complex-key", "binary-reserved", "merge-scalar", "anchor-key", "deep-flow",
        "duplicate-key", "plain-equals", "control-character",
    } <= names  # fmt: skip


@pytest.mark.parametrize("path", HOSTILE, ids=lambda path: path.stem)
def test_a_hostile_document_is_refused_where_it_goes_wrong_with_a_fix(path: Path) -> None:
    line, column, words = expectation(path)
    error = refused(path.read_bytes())
    assert words in error.detail
    assert (error.line, error.column) == (line, column)
    assert " — " in error.detail, "a refusal says what to do about it"


def test_a_plain_equals_sign_gets_a_hint_about_equals_not_about_custom_tags() -> None:
    error = refused(b"a: =\n")
    assert "`=`" in error.detail and "quote it" in error.detail
    assert "custom tags" not in error.detail
    # a `!!value` tag written out is a tag like any other
    assert "custom tags are not allowed" in refused(b"a: !!value x\n").detail


def test_a_written_tag_is_fixed_by_removing_it_an_untagged_value_by_quoting_it() -> None:
    assert "remove the `!!int` tag" in refused(b"a: !!int x\n").detail
    assert "quote it" in refused(b"a: 0x_\n").detail


def test_a_huge_bad_value_is_cut_short_in_the_message() -> None:
    error = refused(b"a: " + b"9" * 5000 + b"\n")
    assert "is not a valid int" in error.detail
    assert len(error.detail) < 400


def test_validate_refuses_each_hostile_file_with_its_position_and_no_traceback(
    tmp_path: Path,
) -> None:
    # one real `python -m jitops validate` over a repository holding all of them: every bad
    # file is reported, none crashes the run
    repo = make_access_repo(tmp_path / "access")
    folder = repo / "requests" / "sandbox-db" / "readonly"
    folder.mkdir(parents=True, exist_ok=True)
    for path in HOSTILE:
        (folder / path.name).write_bytes(path.read_bytes())
    done = subprocess.run(
        [sys.executable, "-m", "jitops", "validate", "--repo", str(repo)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "Traceback" not in output and "internal error" not in output
    for path in HOSTILE:
        line, column, words = expectation(path)
        where = f"requests/sandbox-db/readonly/{path.name}:{line}:{column}: error: "
        assert where in output, f"{path.name} not reported at {line}:{column}:\n{output}"
        assert words in output


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85"])
def test_positions_count_lines_as_editors_do(separator: str) -> None:
    # YAML 1.1 parsers also break lines at NEL, U+2028 and U+2029; editors and git do not
    error = refused(f"a: 'x{separator}y'\nb: [c,{separator} !!bool q]\n".encode())
    assert (error.line, error.column) == (2, 9)
    assert "`q` is not a valid bool" in error.detail


@pytest.mark.parametrize(
    ("encoding", "name"),
    [("utf-16", "UTF-16"), ("utf-16-le", "UTF-16"), ("utf-16-be", "UTF-16"), ("utf-32", "UTF-32")],
)
def test_text_saved_as_utf16_or_utf32_is_called_that_not_binary(encoding: str, name: str) -> None:
    raw = "apiVersion: jitops/v1\nkind: AccessRequest\n".encode(encoding)
    with pytest.raises(InputError, match=f"file is {name} text — jitops reads UTF-8: save it"):
        load_document(raw, "requests/a/b/c.yaml")


@pytest.mark.attack(6, "a comment layout that makes ruamel's round-trip parser give up")
def test_comments_that_ruamel_s_round_trip_parser_gives_up_on_are_read_all_the_same() -> None:
    """Found by the fuzzer: ruamel's round-trip parser raises NotImplementedError ("overlap in
    comment") on these comments; the `&` in one sends the file through the anchor scan, which
    reads events with a parser that keeps no comments. The file is what it says."""
    raw = b"l: #e ke\n #oo0 a]v\n##t&0e2\n 2\n\nb:"
    assert load_document(raw, "requests/x.yaml").data == {"l": 2, "b": None}
    with pytest.raises(InputError) as refused:  # and an anchor after them is still found
        load_document(raw + b" &a 1\n", "requests/x.yaml")
    assert "anchors and aliases" in refused.value.message and refused.value.line == 6
    # locating inside it (the round-trip parser again) answers with the top of the file
    assert locate(raw.decode(), ["b", "x"]) == (1, 1)
