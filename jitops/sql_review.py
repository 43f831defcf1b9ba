"""What a SQL action's statements are, read by PostgreSQL's own parser (pglast embeds it), and
whether the action's limits allow them. Pure: no database, no I/O.

Each statement is parsed, never matched by a regular expression, and every node of its tree
is looked at: a ``DELETE`` inside a ``WITH`` of a ``SELECT`` is a delete, the statement an
``EXPLAIN`` wraps counts (``EXPLAIN ANALYZE`` runs it), ``SELECT … INTO`` creates a table. A
statement kind the action does not allow is refused, and so, whatever the action allows, is
anything that would step outside the one transaction jitops runs the action in, or outside
its limits: transaction control (``BEGIN``, ``COMMIT``, ``SAVEPOINT``), ``SET`` and
``set_config(…)`` (a new ``statement_timeout``, another role), ``DO``, ``COPY``, ``CALL``
and every DDL statement. The result explains itself: each statement with its kinds and where
it starts, each problem with its line and how to fix it.

What a parse cannot see — what a function does, what the rows are — PostgreSQL bounds when
the action runs: the action role's privileges, a ``READ ONLY`` transaction, the timeout and
the rows-affected cap.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from jitops.models import WRITING_KINDS, SqlLimits

MAX_STATEMENTS: Final = 50

# The statements an action may be made of, by their parse-tree node.
_KINDS: Final = {
    "SelectStmt": "select",
    "InsertStmt": "insert",
    "UpdateStmt": "update",
    "DeleteStmt": "delete",
    "MergeStmt": "merge",
    "ExplainStmt": "explain",
}
# Statements never part of an action, and why.
_NEVER: Final = {
    "TransactionStmt": "transaction control: jitops runs the whole action in one transaction "
    "of its own, and commits or rolls it back itself",
    "VariableSetStmt": "SET: the action's settings (its role, its timeout) are the policy's",
    "VariableShowStmt": "SHOW is not an action",
    "DoStmt": "DO runs code the parse cannot see",
    "CopyStmt": "COPY reads and writes files and programs",
    "CallStmt": "CALL runs a procedure, which may commit",
    "LockStmt": "LOCK holds tables beyond what the statements need",
}
_LIMIT_FUNCTIONS: Final = frozenset({"set_config"})


@dataclass(frozen=True)
class Statement:
    text: str  # the statement as written, without its ending `;`
    kinds: tuple[str, ...]  # what it does: its own kind first, then what it holds (a WITH's)
    line: int  # the line of the SQL it starts on, from 1

    @property
    def writes(self) -> bool:
        return bool(WRITING_KINDS & set(self.kinds))


@dataclass(frozen=True)
class SqlProblem:
    line: int  # the line of the SQL, from 1
    message: str
    hint: str


@dataclass(frozen=True)
class SqlReview:
    """The statements, and what the limits say of them."""

    statements: tuple[Statement, ...]
    problems: tuple[SqlProblem, ...]

    @property
    def allowed(self) -> bool:
        return not self.problems and bool(self.statements)

    @property
    def kinds(self) -> tuple[str, ...]:
        """Every statement kind in the SQL, once each, in order of first appearance."""
        return tuple(dict.fromkeys(k for s in self.statements for k in s.kinds))


def review_sql(sql: str, limits: SqlLimits) -> SqlReview:
    """Parse ``sql`` and judge every statement by ``limits``."""
    from pglast import parse_sql
    from pglast.parser import ParseError

    raw = sql.encode("utf-8")
    try:
        parsed = parse_sql(sql)
    except ParseError as exc:
        message, location = (exc.args + (None, None))[:2]
        line = _line(raw, location) if isinstance(location, int) else 1
        return SqlReview(
            (),
            (
                SqlProblem(
                    line,
                    f"PostgreSQL cannot parse the SQL: {message}",
                    "write statements PostgreSQL accepts, each ending in `;`",
                ),
            ),
        )
    statements: list[Statement] = []
    problems: list[SqlProblem] = []
    for item in parsed:
        start = item.stmt_location or 0
        end = start + item.stmt_len if item.stmt_len else len(raw)
        text = raw[start:end].decode("utf-8", "replace").strip().removesuffix(";").strip()
        line = _line(raw, start + (len(raw[start:end]) - len(raw[start:end].lstrip())))
        kinds, found = _judge(item.stmt, limits)
        statements.append(Statement(text, kinds, line))
        problems += [SqlProblem(line, message, hint) for message, hint in found]
    if not statements:
        problems.append(SqlProblem(1, "the SQL holds no statement", "write the statements"))
    if len(statements) > MAX_STATEMENTS:
        problems.append(
            SqlProblem(
                statements[MAX_STATEMENTS].line,
                f"{len(statements)} statements, over the {MAX_STATEMENTS} an action may run",
                "split the work into several requests",
            )
        )
    return SqlReview(tuple(statements), tuple(problems))


def _line(raw: bytes, offset: int) -> int:
    return raw[: max(offset, 0)].count(b"\n") + 1


def _judge(node: object, limits: SqlLimits) -> tuple[tuple[str, ...], list[tuple[str, str]]]:
    """(what the statement does, what is wrong with it under ``limits``)."""
    allowed = ", ".join(limits.allow)
    name = type(node).__name__
    kind = _KINDS.get(name)
    if kind is None:
        what = _NEVER.get(name) or f"{_spoken(name)} is not a statement an action runs"
        return (_spoken(name).lower(),), [
            (
                f"{what}",
                f"an action runs only {allowed} statements (its policy's `allow`); ask for "
                "anything else through your database team",
            )
        ]
    kinds = [kind]
    problems: list[tuple[str, str]] = []
    if kind == "select" and getattr(node, "intoClause", None) is not None:
        problems.append(
            ("SELECT … INTO creates a table", "select the rows without INTO, or ask for DDL")
        )
    for inner in _nodes(node):
        inner_name = type(inner).__name__
        inner_kind = _KINDS.get(inner_name)
        if inner_kind in WRITING_KINDS or (kind == "explain" and inner_kind is not None):
            kinds.append(inner_kind)
        elif inner_name.endswith("Stmt") and inner_kind is None:
            problems.append((f"it holds {_spoken(inner_name)}", f"run only {allowed} statements"))
        if inner_name == "FuncCall" and _function_name(inner) in _LIMIT_FUNCTIONS:
            problems.append(
                (
                    "set_config(…) changes the action's settings (its timeout, its role)",
                    "leave the settings to the policy: remove the call",
                )
            )
    kinds = list(dict.fromkeys(kinds))
    refused = [k for k in kinds if k not in limits.allow]
    if refused:
        named = " and ".join(k.upper() for k in refused)
        verb = "are" if len(refused) > 1 else "is"
        problems.append((f"{named} {verb} not allowed by this action", f"it allows {allowed}"))
    if limits.read_only and WRITING_KINDS & set(kinds) and not refused:
        problems.append(("the action is read-only, and this statement writes", "only read"))
    return tuple(kinds), problems


def _nodes(node: object) -> Iterator[object]:
    """Every node below ``node`` in its parse tree."""
    from pglast import ast

    stack: list[object] = [node]
    while stack:
        current = stack.pop()
        children: list[object] = []
        if isinstance(current, ast.Node):
            children.extend(getattr(current, attribute) for attribute in current)
        elif isinstance(current, tuple | list):
            children.extend(current)
        for child in children:
            if isinstance(child, ast.Node | tuple | list):
                if isinstance(child, ast.Node):
                    yield child
                stack.append(child)


def _function_name(call: object) -> str:
    names = getattr(call, "funcname", None) or ()
    last = names[-1] if names else None
    return str(getattr(last, "sval", "")).lower()


def _spoken(node_name: str) -> str:
    """``CreateTableAsStmt`` → ``CREATE TABLE AS``."""
    words: list[str] = []
    for char in node_name.removesuffix("Stmt"):
        if char.isupper() and words:
            words.append(" ")
        words.append(char.upper())
    return "".join(words)
