"""The layout holds: no import cycles in ``jitops/``, no command imports another, no command
imports the report (commands return values; the CLI and the demo render them), and every
command has its own test file.

The graph is read from the source with ``ast``, every import counted wherever it stands (in a
function, or under ``TYPE_CHECKING``): a cycle of lazy imports is still a cycle to a reader.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "jitops"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(name: str, path: Path, known: set[str]) -> Iterator[str]:
    """The jitops modules ``name`` imports (``from jitops import git`` is ``jitops.git``)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name in known)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                if f"{base}.{alias.name}" in known:
                    yield f"{base}.{alias.name}"
                elif base in known:
                    yield base


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {
        name: {i for i in _imports(name, path, known) if i != name}
        for name, path in modules.items()
    }


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_graph_reader_sees_imports_of_every_kind() -> None:
    """Against known edges: a top-level import, a lazy one, one under TYPE_CHECKING, and
    ``from jitops import <module>``."""
    graph = import_graph()
    assert "jitops.git" in graph["jitops.ids"]  # from jitops import git, request_files
    assert "jitops.commands.apply" in graph["jitops.report.text"]  # under TYPE_CHECKING
    assert "jitops.targets" in graph["jitops.repo.policy_loading"]  # imported inside a function
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_there_is_no_import_cycle() -> None:
    found = cycles(import_graph())
    assert found == [], "import cycles: " + "; ".join(" ↔ ".join(c) for c in found)


def command_of(module: str) -> str:
    """The command a module belongs to: ``jitops.commands.<command>``, whether the command is
    one module or a package (``jitops.commands.doctor.checks`` is part of doctor)."""
    return ".".join(module.split(".")[:3])


def wrong_imports(graph: dict[str, set[str]], forbidden: str) -> list[str]:
    """Imports from a command of a module starting with ``forbidden`` outside that command, and
    a command package's module importing the package itself (its ``__init__`` is the command:
    the parts it is made of serve it, never the other way round)."""
    return sorted(
        f"{name} -> {target}"
        for name, targets in graph.items()
        if name.startswith("jitops.commands.")
        for target in targets
        if target.startswith(forbidden)
        and (command_of(target) != command_of(name) or target == command_of(name) != name)
    )


def test_a_command_is_its_module_or_its_package() -> None:
    graph = {
        "jitops.commands.apply": {"jitops.commands.sweep", "jitops.git"},
        "jitops.commands.doctor": {"jitops.commands.doctor.checks"},
        "jitops.commands.doctor.request_index": {"jitops.commands.doctor.checks"},
        "jitops.commands.doctor.checks": {"jitops.commands.validate"},
        "jitops.commands.audit.review": {"jitops.commands.audit"},
    }
    assert wrong_imports(graph, "jitops.commands.") == [
        "jitops.commands.apply -> jitops.commands.sweep",
        "jitops.commands.audit.review -> jitops.commands.audit",
        "jitops.commands.doctor.checks -> jitops.commands.validate",
    ]


@pytest.mark.parametrize("forbidden", ["jitops.commands.", "jitops.report"])
def test_no_command_imports_another_command_or_the_report(forbidden: str) -> None:
    assert wrong_imports(import_graph(), forbidden) == []


def test_the_readme_module_map_names_every_module_and_package() -> None:
    """Every module and package of jitops/ has its name in README's map (``name.py``, or
    ``name/`` for a package), in the order of the flow: load, decide, act, report."""
    readme = (PACKAGE.parent / "README.md").read_text(encoding="utf-8")
    start = readme.index("```\njitops/\n")
    drawn = readme[start : readme.index("\n```", start + 4)]
    named = set(re.findall(r"\w+\.py|\w+/", drawn))
    missing = sorted(
        p.relative_to(PACKAGE).as_posix()
        for p in PACKAGE.rglob("*")
        if (p.suffix == ".py" and not p.name.startswith("__") and p.name not in named)
        or ((p / "__init__.py").exists() and f"{p.name}/" not in named)
    )
    assert missing == [], f"README's module map leaves out: {', '.join(missing)}"
    headings = re.findall(r"^  # (\w+)", drawn, re.M)
    assert headings == ["load", "decide", "act", "report"]


def test_every_command_has_its_own_test_file() -> None:
    """``tests/`` mirrors the commands: ``jitops.commands.<name>`` (a module or a package) is
    tested in ``tests/commands/test_<name>*.py`` or ``tests/e2e/test_<name>*.py``."""
    tests = PACKAGE.parent / "tests"
    files = [p.name for folder in ("commands", "e2e") for p in (tests / folder).glob("test_*.py")]
    commands = sorted(
        p.stem if p.suffix == ".py" else p.name
        for p in (PACKAGE / "commands").iterdir()
        if (p.suffix == ".py" and not p.name.startswith("_")) or (p / "__init__.py").exists()
    )
    untested = [
        name
        for name in commands
        if not any(f == f"test_{name}.py" or f.startswith(f"test_{name}_") for f in files)
    ]
    assert len(commands) >= 14
    assert untested == [], f"commands without their own test file: {', '.join(untested)}"


def test_every_subcommand_exits_with_its_result_s_exit_code() -> None:
    """The same failure exits the same everywhere because only results choose exit codes: each
    subcommand's ``sys.exit`` is given ``<result>.exit_code`` (the group's error boundary in
    ``cli/__init__`` alone exits with a fixed code)."""
    chosen = [
        f"{path.name}:{node.lineno}"
        for path in sorted((PACKAGE / "cli").glob("*.py"))
        if path.name != "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call)
        and ast.unparse(node.func) in ("sys.exit", "ctx.exit", "SystemExit")
        and not (
            len(node.args) == 1
            and isinstance(node.args[0], ast.Attribute)
            and node.args[0].attr == "exit_code"
        )
    ]
    assert chosen == [], f"exit codes chosen by the CLI, not by a result: {', '.join(chosen)}"


def _command_bodies(source: str) -> dict[str, int]:
    """Each click command's function in ``source`` → the lines of its body (its docstring
    left out): the functions decorated ``@<group>.command(…)`` or ``@<group>.group(…)``."""
    lengths = {}
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.FunctionDef):
            continue
        calls = [d.func if isinstance(d, ast.Call) else d for d in node.decorator_list]
        if not any(isinstance(c, ast.Attribute) and c.attr in ("command", "group") for c in calls):
            continue
        body = node.body
        if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            body = body[1:]  # the docstring is --help, not logic
        lengths[node.name] = (body[-1].end_lineno or 0) - body[0].lineno + 1 if body else 0
    return lengths


def test_the_line_counter_counts_a_commands_body_and_only_commands() -> None:
    source = (
        "@cli.command()\n@click.option('--x')\ndef short(x):\n    '''Help.'''\n    a = 1\n"
        "    return a\n\n@cli.group(invoke_without_command=True)\ndef grouped():\n    pass\n\n"
        "def helper():\n    return 1\n"
    )
    assert _command_bodies(source) == {"short": 2, "grouped": 1}


def test_every_cli_command_is_thin() -> None:
    """A click function parses, calls one command function, renders its result and exits with
    its code: 15 lines or fewer. More means logic has crept into the CLI."""
    bodies = {
        name: lines
        for module in sorted((PACKAGE / "cli").glob("*.py"))
        for name, lines in _command_bodies(module.read_text(encoding="utf-8")).items()
    }
    assert len(bodies) >= 15  # every subcommand was found
    assert {name: n for name, n in bodies.items() if n > 15} == {}
