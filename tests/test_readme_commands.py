"""README's commands are jitops' commands: every subcommand a section heading names exists,
with every option the heading shows, and every command line in README's examples parses with
the real command-line parser (nothing is run: the e2e tests run them)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest

from jitops.cli import cli

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def _command(words: list[str]) -> tuple[click.Command, list[str]]:
    """The (sub)command ``words`` names, and the words left for it."""
    command: click.Command = cli
    rest = list(words)
    while isinstance(command, click.Group) and rest and rest[0] in command.commands:
        command, rest = command.commands[rest[0]], rest[1:]
    return command, rest


def _options(command: click.Command) -> set[str]:
    return {name for p in command.params for name in (*p.opts, *p.secondary_opts)}


HEADINGS = re.findall(r"^### `jitops ([^`]+)`", README, re.M)


@pytest.mark.parametrize("heading", HEADINGS)
def test_each_heading_names_a_command_and_options_it_has(heading: str) -> None:
    names = [w for w in heading.split() if re.fullmatch(r"[a-z][a-z-]*", w)]
    command, _ = _command(names[:2])
    assert command is not cli, f"no command {heading!r}"
    shown = set(re.findall(r"(--[a-z][a-z-]*)", heading))
    missing = shown - _options(command)
    assert not missing, f"`jitops {heading}`: {command.name} has no {', '.join(sorted(missing))}"


def _example_lines() -> list[str]:
    """Command lines of README's code blocks; synopsis lines (with TARGET-like placeholders or
    alternatives) are the headings' to check."""
    lines, inside = [], False
    placeholder = re.compile(r"(?<![\w-])[A-Z][A-Z_]{2,}(?![\w-])|\(|\s\|\s")
    for line in README.splitlines():
        if line.startswith("```"):
            inside = not inside
            continue
        text = line.strip().removeprefix("│ ").removeprefix("$ ")
        if inside and text.startswith("jitops ") and not placeholder.search(text):
            lines.append(text.split(" > ", 1)[0])  # a redirection is the shell's
    return lines


def _parse(words: list[str]) -> click.Command:
    """Parse ``words`` as the real CLI would, group options and all, invoking nothing; the
    command they reach."""
    command: click.Command = cli
    context: click.Context | None = None
    while True:
        context = command.make_context(command.name or "jitops", list(words), parent=context)
        if not isinstance(command, click.Group):
            return command
        left = [*getattr(context, "_protected_args", []), *context.args]
        if not left:
            return command
        command, words = command.commands[left[0]], left[1:]


@pytest.mark.parametrize("line", _example_lines())
def test_each_example_command_line_parses(line: str) -> None:
    words = shlex.split(line)[1:]
    reached = _parse(words)
    assert reached is not cli and reached.name in words, line


def test_the_examples_found_are_the_ones_readme_shows() -> None:
    found = _example_lines()
    assert any(line.startswith("jitops request sandbox-db readwrite") for line in found)
    assert any(line.startswith("jitops init") for line in found)
    assert any(" review " in line for line in found) and len(found) >= 4
