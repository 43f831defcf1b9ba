"""The test server reads CODEOWNERS as GitHub does: patterns, comments, escapes, skipped lines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from jitops.testing.github import owner_rules

SUITE = Path(__file__).parent / "codeowners_suite" / "patterns.json"


def _suite_cases() -> list[Any]:
    cases = []
    for entry in json.loads(SUITE.read_text()):
        for path, expected in entry["paths"].items():
            verdict = "matches" if expected else "does not match"
            cases.append(
                pytest.param(
                    entry["pattern"],
                    path,
                    expected,
                    id=f"{entry['name']}: {entry['pattern']} {verdict} {path}",
                )
            )
    return cases


SUITE_CASES = _suite_cases()


def test_the_suite_is_whole() -> None:
    # A truncated or edited copy of the data would quietly test less.
    assert len(SUITE_CASES) == 153


@pytest.mark.parametrize(("pattern", "path", "expected"), SUITE_CASES)
def test_pattern_suite(pattern: str, path: str, expected: bool) -> None:
    rules = owner_rules.parse(f"{pattern} @owner\n")
    assert [r.pattern for r in rules] == [pattern]  # the line is valid, so it is kept
    assert (owner_rules.owners_of(rules, path) == ("@owner",)) is expected


# Every example of GitHub's "About code owners" page, as (CODEOWNERS text, path, owners):
# https://docs.github.com/en/repositories/managing-your-repositorys-settings-and-features/customizing-your-repository/about-code-owners
DEFAULT = "* @global-owner1 @global-owner2\n"
GLOBAL = ("@global-owner1", "@global-owner2")
DOCS_PAGE = [
    # default owners for the whole repository
    (DEFAULT, "README.md", GLOBAL),
    (DEFAULT, "src/deep/main.c", GLOBAL),
    # a later match wins; the inline comment is not an owner
    (DEFAULT + "*.js    @js-owner #This is an inline comment.\n", "web/app.js", ("@js-owner",)),
    (DEFAULT + "*.js    @js-owner #This is an inline comment.\n", "README.md", GLOBAL),
    # an owner given by email address
    (DEFAULT + "*.go docs@example.com\n", "cmd/main.go", ("docs@example.com",)),
    # a team owner, at any depth
    (DEFAULT + "*.txt @octo-org/octocats\n", "notes.txt", ("@octo-org/octocats",)),
    (DEFAULT + "*.txt @octo-org/octocats\n", "a/b/notes.txt", ("@octo-org/octocats",)),
    # /build/logs/ at the root, with its subdirectories
    ("/build/logs/ @doctocat\n", "build/logs/out.log", ("@doctocat",)),
    ("/build/logs/ @doctocat\n", "build/logs/2024/out.log", ("@doctocat",)),
    ("/build/logs/ @doctocat\n", "src/build/logs/out.log", ()),
    ("/build/logs/ @doctocat\n", "build/logs", ()),
    # docs/* takes the files of docs/, not those of its subdirectories
    ("docs/* docs@example.com\n", "docs/getting-started.md", ("docs@example.com",)),
    ("docs/* docs@example.com\n", "docs/build-app/troubleshooting.md", ()),
    # apps/ is an apps directory anywhere
    ("apps/ @octocat\n", "apps/web/index.js", ("@octocat",)),
    ("apps/ @octocat\n", "services/apps/worker.py", ("@octocat",)),
    ("apps/ @octocat\n", "apps", ()),
    # /docs/ is the root's docs directory and its subdirectories
    ("/docs/ @doctocat\n", "docs/index.md", ("@doctocat",)),
    ("/docs/ @doctocat\n", "docs/guides/setup.md", ("@doctocat",)),
    ("/docs/ @doctocat\n", "site/docs/index.md", ()),
    # /scripts/ with two owners
    ("/scripts/ @doctocat @octocat\n", "scripts/deploy.sh", ("@doctocat", "@octocat")),
    # **/logs is a logs directory at any depth
    ("**/logs @octocat\n", "build/logs/out.log", ("@octocat",)),
    ("**/logs @octocat\n", "scripts/logs/run.log", ("@octocat",)),
    ("**/logs @octocat\n", "deeply/nested/logs/x.log", ("@octocat",)),
    ("**/logs @octocat\n", "logs/x.log", ("@octocat",)),
    # a later rule with no owners leaves its paths without an owner
    ("/apps/ @octocat\n/apps/github\n", "apps/web/index.js", ("@octocat",)),
    ("/apps/ @octocat\n/apps/github\n", "apps/github/index.js", ()),
    # a later rule with its own owner takes over its paths
    ("/apps/ @octocat\n/apps/github @doctocat\n", "apps/github/index.js", ("@doctocat",)),
    ("/apps/ @octocat\n/apps/github @doctocat\n", "apps/web/index.js", ("@octocat",)),
    # "!" does not negate: the line is skipped, so the earlier rule still applies
    ("* @a\n!*.md @b\n", "README.md", ("@a",)),
    ("* @a\n!*.md @b\n", "!x.md", ("@a",)),
    # "[ ]" is no character range: the brackets are plain characters
    ("*.[ch] @c\n", "main.c", ()),
    ("*.[ch] @c\n", "main.[ch]", ("@c",)),
    # "\#" does not escape "#": the rest of the line is a comment, the pattern is not used
    ("* @a\n\\#notes.txt @b\n", "#notes.txt", ("@a",)),
    ("\\#notes.txt @b\n", "#notes.txt", ()),
    # paths are case-sensitive
    ("/Docs/ @a\n", "Docs/index.md", ("@a",)),
    ("/Docs/ @a\n", "docs/index.md", ()),
    ("*.MD @a\n", "README.md", ()),
]


@pytest.mark.parametrize(
    ("text", "path", "owners"),
    [pytest.param(t, p, o, id=f"{t.splitlines()[-1]} -> {p}") for t, p, o in DOCS_PAGE],
)
def test_docs_page_examples(text: str, path: str, owners: tuple[str, ...]) -> None:
    assert owner_rules.owners_of(owner_rules.parse(text), path) == owners


@pytest.mark.parametrize(
    ("text", "path", "owners"),
    [
        pytest.param("*.py\t@py-owner\t# python files\n", "a.py", ("@py-owner",), id="tab-comment"),
        pytest.param("*.py @a @b# note\n", "a.py", ("@a", "@b"), id="comment-after-owners"),
        pytest.param("*.py @a#note\n", "a.py", ("@a",), id="comment-glued-to-owner"),
        pytest.param("/my\\ docs/ @a\n", "my docs/x.md", ("@a",), id="escaped-space"),
        pytest.param("/my\\ docs/ @a\n", "my/x.md", (), id="escaped-space-is-one-pattern"),
        pytest.param("* @a\n***/*.rb @b\n", "x.rb", ("@a",), id="triple-star-skipped"),
        pytest.param("* @a\n/ @b\n", "x.rb", ("@a",), id="bare-slash-skipped"),
        pytest.param("* @a\nfoo\\\n", "foo", ("@a",), id="dangling-backslash-skipped"),
        pytest.param("   \t\n# only a comment\n*.md @a\n", "x.md", ("@a",), id="blank-lines"),
        pytest.param("foo\\*bar @a\n", "fooXbar", (), id="escaped-star-is-literal"),
    ],
)
def test_line_syntax(text: str, path: str, owners: tuple[str, ...]) -> None:
    assert owner_rules.owners_of(owner_rules.parse(text), path) == owners


def test_escaped_space_keeps_the_pattern_whole() -> None:
    [rule] = owner_rules.parse("/my\\ docs/ @a @b\n")
    assert (rule.pattern, rule.owners) == ("/my\\ docs/", ("@a", "@b"))


def _kinds(text: str) -> list[tuple[int, int, str, str | None]]:
    found = owner_rules.errors(text, ".github/CODEOWNERS", lambda owner: owner != "@ghost")
    return [(e.line, e.column, e.kind, e.suggestion) for e in found]


def test_errors_report_invalid_patterns_and_skip_their_owners() -> None:
    text = "* @a\n***/*.rb @ghost\n  !x @ghost\n/ @a\n"
    assert _kinds(text) == [
        (2, 1, "Invalid pattern", "Did you mean `**/*.rb`?"),
        (3, 3, "Invalid pattern", None),
        (
            4,
            1,
            "Invalid pattern",
            "The pattern `/` will never match anything, did you mean `*` instead?",
        ),
    ]
    [first, *_] = owner_rules.errors(text, ".github/CODEOWNERS", lambda owner: True)
    assert first.message == (
        "Invalid pattern on line 2: Did you mean `**/*.rb`?\n\n  ***/*.rb @ghost\n  ^"
    )


def test_errors_point_at_owners_after_tabs_and_ignore_comments() -> None:
    text = "*.py\t@ghost\tnot-an-owner # @ghost in a comment\n"
    assert _kinds(text) == [(1, 6, "Unknown owner", None), (1, 13, "Invalid owner", None)]
