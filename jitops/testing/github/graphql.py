"""A minimal GraphQL endpoint (``POST /api/graphql``): the mutations jitops sends, no more.

Documents are parsed for real (operations, variables, aliases, arguments, nested selections,
inline fragments) and every selection is checked against a small schema before anything runs,
so a misspelt field is refused as GitHub refuses it rather than silently answered. Only these
fields exist: ``Mutation.enablePullRequestAutoMerge``, ``Mutation.pinIssue`` and
``Mutation.unpinIssue``, each taking node ids the REST answers carry (``node_id``); ``Query`` has
no fields, so any query is an ``undefinedField`` error.

Answers have GraphQL's shape with HTTP 200, as GitHub's: ``{"data": ...}``; a refused mutation
is ``null`` in ``data`` with an entry in ``errors`` (``type`` ``NOT_FOUND``, ``FORBIDDEN`` or
``UNPROCESSABLE``, GitHub's wording where it is known); a document that does not parse or
validate is ``{"errors": [...]}`` alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from jitops.testing.github.hub import Hub, HubError
from jitops.testing.github.render import JSON, Renderer, iso, node_id, parse_node_id
from jitops.testing.github.state import Issue, PullRequest, Repository, User

# -- the schema: type -> field -> the object type it returns (None: a scalar or an enum) ------

SCHEMA: dict[str, dict[str, str | None]] = {
    "Query": {},
    "Mutation": {
        "enablePullRequestAutoMerge": "EnablePullRequestAutoMergePayload",
        "pinIssue": "PinIssuePayload",
        "unpinIssue": "UnpinIssuePayload",
    },
    "EnablePullRequestAutoMergePayload": {
        "actor": "User",
        "clientMutationId": None,
        "pullRequest": "PullRequest",
    },
    "PinIssuePayload": {"clientMutationId": None, "issue": "Issue"},
    "UnpinIssuePayload": {"clientMutationId": None, "issue": "Issue"},
    "User": {"id": None, "login": None, "avatarUrl": None, "resourcePath": None, "url": None},
    "PullRequest": {
        "id": None,
        "number": None,
        "title": None,
        "url": None,
        "state": None,
        "merged": None,
        "autoMergeRequest": "AutoMergeRequest",
    },
    "AutoMergeRequest": {
        "enabledAt": None,
        "enabledBy": "User",
        "mergeMethod": None,
        "commitHeadline": None,
        "commitBody": None,
    },
    "Issue": {
        "id": None,
        "number": None,
        "title": None,
        "url": None,
        "state": None,
        "isPinned": None,
    },
}
# What an inline fragment's type condition may name besides the object type itself.
INTERFACES = {"User": {"Actor", "Node"}, "PullRequest": {"Node"}, "Issue": {"Node"}}
INPUTS = {
    "enablePullRequestAutoMerge": {
        "pullRequestId",
        "mergeMethod",
        "commitHeadline",
        "commitBody",
        "authorEmail",
        "expectedHeadOid",
        "clientMutationId",
    },
    "pinIssue": {"issueId", "clientMutationId"},
    "unpinIssue": {"issueId", "clientMutationId"},
}


class GraphQLError(Exception):
    """One entry of ``errors``."""

    def __init__(
        self,
        message: str,
        *,
        line: int | None = None,
        column: int | None = None,
        path: list[str] | None = None,
        type: str | None = None,
        extensions: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.body: JSON = {}
        if type is not None:
            self.body["type"] = type
        if path is not None:
            self.body["path"] = path
        if extensions is not None:
            self.body["extensions"] = extensions
        if line is not None:
            self.body["locations"] = [{"line": line, "column": column or 1}]
        self.body["message"] = message


# -- parsing -----------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<skip>[\s,\ufeff]+|\#[^\n\r]*)
  | (?P<spread>\.\.\.)
  | (?P<punct>[!$&():=@\[\]{}|])
  | (?P<name>[_A-Za-z][_0-9A-Za-z]*)
  | (?P<number>-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)
  | (?P<block>\"\"\"(?:\\\"\"\"|[^"]|"(?!""))*\"\"\")
  | (?P<string>"(?:\\.|[^"\\\n\r])*")
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    kind: str
    value: str
    line: int
    column: int


def tokens(text: str) -> list[Token]:
    found = []
    position, line, line_start = 0, 1, 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        column = position - line_start + 1
        if match is None:
            raise GraphQLError(
                f'Parse error on "{text[position]}" at [{line}, {column}]',
                line=line,
                column=column,
            )
        kind = match.lastgroup or ""
        if kind != "skip":
            found.append(Token(kind, match.group(), line, column))
        for newline in re.finditer(r"\r\n|\n|\r", match.group()):
            line += 1
            line_start = match.start() + newline.end()
        position = match.end()
    return found


@dataclass(frozen=True)
class Variable:
    name: str


@dataclass(frozen=True)
class Selection:
    """A field (``name``) or, with ``on`` set or ``name`` empty, an inline fragment."""

    name: str
    alias: str
    arguments: dict[str, Any]
    selections: tuple[Selection, ...]
    line: int
    column: int
    on: str | None = None

    @property
    def fragment(self) -> bool:
        return not self.name


@dataclass(frozen=True)
class Operation:
    kind: str  # query | mutation | subscription
    name: str | None
    variables: dict[str, tuple[str, Any]]  # name -> (type, default)
    selections: tuple[Selection, ...]

    @property
    def label(self) -> str:
        """How GitHub names the operation at the start of an error's ``path``."""
        return f"{self.kind} {self.name}" if self.name else self.kind


def _parse_error(token: Token, message: str | None = None) -> GraphQLError:
    where = f"[{token.line}, {token.column}]"
    return GraphQLError(
        message or f'Parse error on "{token.value}" at {where}',
        line=token.line,
        column=token.column,
    )


class Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokens(text)
        self.at = 0

    def peek(self, value: str | None = None) -> bool:
        if self.at >= len(self.tokens):
            return False
        return value is None or self.tokens[self.at].value == value

    def take(self, value: str | None = None, kind: str | None = None) -> Token:
        if self.at >= len(self.tokens):
            raise GraphQLError("Unexpected end of document")
        token = self.tokens[self.at]
        if (value is not None and token.value != value) or (
            kind is not None and token.kind != kind
        ):
            raise _parse_error(token)
        self.at += 1
        return token

    def document(self) -> list[Operation]:
        operations = []
        while self.peek():
            if self.peek("fragment"):
                token = self.take()
                raise _parse_error(
                    token, "Fragment definitions are not supported by this test server"
                )
            operations.append(self.operation())
        if not operations:
            raise GraphQLError("Unexpected end of document")
        return operations

    def operation(self) -> Operation:
        if self.peek("{"):
            return Operation("query", None, {}, self.selection_set())
        kind = self.take(kind="name")
        if kind.value not in ("query", "mutation", "subscription"):
            raise _parse_error(kind)
        named = self.at < len(self.tokens) and self.tokens[self.at].kind == "name"
        name = self.take(kind="name").value if named else None
        variables: dict[str, tuple[str, Any]] = {}
        if self.peek("("):
            self.take("(")
            while not self.peek(")"):
                self.take("$")
                variable = self.take(kind="name").value
                self.take(":")
                kind_of = self.type_ref()
                default = self.value(const=True) if self.peek("=") and self.take("=") else None
                variables[variable] = (kind_of, default)
            self.take(")")
        return Operation(kind.value, name, variables, self.selection_set())

    def type_ref(self) -> str:
        if self.peek("["):
            self.take("[")
            inner = f"[{self.type_ref()}]"
            self.take("]")
        else:
            inner = self.take(kind="name").value
        if self.peek("!"):
            self.take("!")
            inner += "!"
        return inner

    def selection_set(self) -> tuple[Selection, ...]:
        self.take("{")
        selections = []
        while not self.peek("}"):
            selections.append(self.selection())
        self.take("}")
        if not selections:
            raise GraphQLError("A selection set may not be empty")
        return tuple(selections)

    def selection(self) -> Selection:
        if self.peek("..."):
            spread = self.take("...")
            on = None
            if self.peek("on"):
                self.take("on")
                on = self.take(kind="name").value
            elif not self.peek("{"):
                raise _parse_error(spread, "Fragment spreads are not supported by this test server")
            return Selection("", "", {}, self.selection_set(), spread.line, spread.column, on)
        first = self.take(kind="name")
        alias, name = first.value, first.value
        if self.peek(":"):
            self.take(":")
            name = self.take(kind="name").value
        arguments: dict[str, Any] = {}
        if self.peek("("):
            self.take("(")
            while not self.peek(")"):
                key = self.take(kind="name").value
                self.take(":")
                arguments[key] = self.value()
            self.take(")")
        if self.peek("@"):
            token = self.take("@")
            raise _parse_error(token, "Directives are not supported by this test server")
        selections = self.selection_set() if self.peek("{") else ()
        return Selection(name, alias, arguments, selections, first.line, first.column)

    def value(self, const: bool = False) -> Any:
        token = self.take()
        if token.value == "$" and not const:
            return Variable(self.take(kind="name").value)
        if token.kind == "number":
            return float(token.value) if re.search(r"[.eE]", token.value) else int(token.value)
        if token.kind == "string":
            return json.loads(token.value)
        if token.kind == "block":
            return token.value[3:-3].replace('\\"""', '"""')
        if token.kind == "name":
            return {"true": True, "false": False, "null": None}.get(token.value, token.value)
        if token.value == "[":
            items = []
            while not self.peek("]"):
                items.append(self.value(const))
            self.take("]")
            return items
        if token.value == "{":
            fields = {}
            while not self.peek("}"):
                key = self.take(kind="name").value
                self.take(":")
                fields[key] = self.value(const)
            self.take("}")
            return fields
        raise _parse_error(token)


# -- validation ----------------------------------------------------------------------------------


def validate(operation: Operation) -> list[GraphQLError]:
    """Every selection of a field the schema does not have, or shaped wrongly for its type."""
    root = {"query": "Query", "mutation": "Mutation"}.get(operation.kind)
    if root is None:
        return [GraphQLError("Subscriptions are not supported")]
    errors = _check(operation.selections, root, [operation.label])
    for selection in operation.selections:
        for name in _variables_in(selection.arguments):
            if name not in operation.variables:
                errors.append(
                    _invalid(
                        selection,
                        [operation.label, selection.alias],
                        f"Variable ${name} is used by {operation.label} but not declared",
                        code="variableNotDefined",
                        variableName=name,
                    )
                )
    return errors


def _variables_in(value: Any) -> set[str]:
    if isinstance(value, Variable):
        return {value.name}
    if isinstance(value, dict):
        return set().union(*map(_variables_in, value.values()))
    if isinstance(value, list):
        return set().union(*map(_variables_in, value))
    return set()


def _invalid(
    selection: Selection, path: list[str], message: str, **extensions: str
) -> GraphQLError:
    """A validation error at ``selection``, with graphql-ruby's ``extensions`` (as GitHub's)."""
    return GraphQLError(
        message, line=selection.line, column=selection.column, path=path, extensions=extensions
    )


def _check(
    selections: tuple[Selection, ...], type_name: str, path: list[str]
) -> list[GraphQLError]:
    errors = []
    fields = SCHEMA[type_name]
    for selection in selections:
        if selection.fragment:
            on = selection.on or type_name
            if on != type_name and on not in INTERFACES.get(type_name, set()):
                continue  # a fragment on another type selects nothing here
            errors += _check(selection.selections, type_name, [*path, f"... on {on}"])
            continue
        where = [*path, selection.alias]
        if selection.name == "__typename":
            continue
        if selection.name not in fields:
            errors.append(
                _invalid(
                    selection,
                    where,
                    f"Field '{selection.name}' doesn't exist on type '{type_name}'",
                    code="undefinedField",
                    typeName=type_name,
                    fieldName=selection.name,
                )
            )
            continue
        returns = fields[selection.name]
        if returns is None and selection.selections:
            errors.append(
                _invalid(
                    selection,
                    where,
                    f"Selections can't be made on scalars (field '{selection.name}' returns "
                    "a scalar but has selections)",
                    code="selectionMismatch",
                    nodeName=selection.name,
                )
            )
        elif returns is not None and not selection.selections:
            errors.append(
                _invalid(
                    selection,
                    where,
                    f"Field must have selections (field '{selection.name}' returns {returns} "
                    f"but has no selections. Did you mean '{selection.name} {{ ... }}'?)",
                    code="selectionMismatch",
                    nodeName=selection.name,
                )
            )
        elif returns is not None:
            errors += _check(selection.selections, returns, where)
        if type_name == "Mutation" and set(selection.arguments) != {"input"}:
            errors.append(
                _invalid(
                    selection,
                    where,
                    f"Field '{selection.name}' is missing required arguments: input",
                    code="missingRequiredArguments",
                    className="Field",
                    name=selection.name,
                    arguments="input",
                )
            )
    return errors


# -- execution -----------------------------------------------------------------------------------


@dataclass
class Context:
    render: Renderer
    viewer: User
    errors: list[JSON] = field(default_factory=list)

    @property
    def hub(self) -> Hub:
        return self.render.hub


def execute(render: Renderer, viewer: User, payload: Any) -> JSON:
    """The answer to one GraphQL request body from ``viewer``."""
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        return {
            "errors": [{"message": "A query attribute must be specified and must be a string."}]
        }
    variables = payload.get("variables") or {}
    if not isinstance(variables, dict):
        return {"errors": [{"message": "Variables must be a JSON object."}]}
    try:
        operations = Parser(payload["query"]).document()
    except GraphQLError as exc:
        return {"errors": [exc.body]}
    wanted = payload.get("operationName")
    chosen = [o for o in operations if wanted in (None, o.name)]
    if len(chosen) != 1:
        message = (
            "An operation name is required" if wanted is None else f'No operation named "{wanted}"'
        )
        return {"errors": [{"message": message}]}
    operation = chosen[0]
    invalid = validate(operation)
    for name, (kind, default) in operation.variables.items():
        if kind.endswith("!") and default is None and variables.get(name) is None:
            invalid.append(
                GraphQLError(
                    f"Variable ${name} of type {kind} was provided invalid value",
                    extensions={
                        "value": None,
                        "problems": [{"path": [], "explanation": "Expected value to not be null"}],
                    },
                )
            )
    if invalid:
        return {"errors": [e.body for e in invalid]}
    context = Context(render, viewer)
    data: JSON = {}
    for selection in operation.selections:  # mutations run one after another, in order
        if selection.name == "__typename":
            data[selection.alias] = "Mutation" if operation.kind == "mutation" else "Query"
            continue
        try:
            arguments = {
                k: _resolve(v, operation, variables) for k, v in selection.arguments.items()
            }
            result = MUTATIONS[selection.name](context, arguments["input"])
        except GraphQLError as exc:
            if "locations" not in exc.body:
                exc.body["locations"] = [{"line": selection.line, "column": selection.column}]
            exc.body.setdefault("path", [selection.alias])
            context.errors.append(exc.body)
            data[selection.alias] = None
            continue
        returns = SCHEMA["Mutation"][selection.name]
        assert returns is not None
        data[selection.alias] = _project(result, selection.selections, returns)
    answer: JSON = {"data": data}
    if context.errors:
        answer["errors"] = context.errors
    return answer


def _resolve(value: Any, operation: Operation, variables: Mapping[str, Any]) -> Any:
    """An argument's value with its variables filled in (validated: all are declared)."""
    if isinstance(value, Variable):
        return variables.get(value.name, operation.variables[value.name][1])
    if isinstance(value, list):
        return [_resolve(v, operation, variables) for v in value]
    if isinstance(value, dict):
        return {k: _resolve(v, operation, variables) for k, v in value.items()}
    return value


def _project(value: Any, selections: tuple[Selection, ...], type_name: str) -> Any:
    """``value`` (an object as a dict with every field) cut down to what was selected."""
    if value is None:
        return None
    out: JSON = {}
    for selection in selections:
        if selection.fragment:
            on = selection.on or type_name
            if on == type_name or on in INTERFACES.get(type_name, set()):
                out.update(_project(value, selection.selections, type_name))
            continue
        if selection.name == "__typename":
            out[selection.alias] = type_name
            continue
        returns = SCHEMA[type_name][selection.name]
        field_value = value.get(selection.name)
        out[selection.alias] = (
            field_value if returns is None else _project(field_value, selection.selections, returns)
        )
    return out


# -- the objects -------------------------------------------------------------------------------


def _user(render: Renderer, login: str) -> JSON:
    user = render.hub.user(login)
    return {
        "id": node_id("U", user.id),
        "login": login,
        "avatarUrl": f"{render.web}/avatars/{login}",
        "resourcePath": f"/{login}",
        "url": f"{render.web}/{login}",
    }


def _pull(render: Renderer, repo: Repository, pr: PullRequest) -> JSON:
    request = pr.auto_merge
    return {
        "id": node_id("PR", pr.id),
        "number": pr.number,
        "title": pr.title,
        "url": f"{render.web}/{repo.full_name}/pull/{pr.number}",
        "state": "MERGED" if pr.merged else pr.state.upper(),
        "merged": pr.merged,
        "autoMergeRequest": None
        if request is None
        else {
            "enabledAt": iso(request.enabled_at),
            "enabledBy": _user(render, request.enabled_by),
            "mergeMethod": request.merge_method.upper(),
            "commitHeadline": request.commit_title,
            "commitBody": request.commit_message,
        },
    }


def _issue(render: Renderer, repo: Repository, issue: Issue) -> JSON:
    return {
        "id": node_id("I", issue.id),
        "number": issue.number,
        "title": issue.title,
        "url": f"{render.web}/{repo.full_name}/issues/{issue.number}",
        "state": issue.state.upper(),
        "isPinned": issue.pinned,
    }


def _input(name: str, given: Any) -> dict[str, Any]:
    if not isinstance(given, dict) or not set(given) <= INPUTS[name]:
        unknown = sorted(set(given) - INPUTS[name]) if isinstance(given, dict) else []
        raise GraphQLError(
            f"Argument 'input' on Field '{name}' has an invalid value"
            + (f": unknown fields {', '.join(unknown)}" if unknown else ""),
            extensions={"code": "argumentLiteralsIncompatible", "argumentName": "input"},
        )
    return given


def _node(context: Context, ident: Any, kind: str) -> tuple[Repository, Any]:
    """The repository and record behind node id ``ident`` of ``kind``, if the viewer sees it."""
    hub = context.hub
    parsed = parse_node_id(ident) if isinstance(ident, str) else None
    found = None
    if parsed is not None and parsed[0] == kind and parsed[1].isdigit():
        wanted = int(parsed[1])
        with hub.state.lock:
            table = hub.state.pulls if kind == "PR" else hub.state.issues
            found = next((r for r in table.values() if r.id == wanted), None)
    if found is not None:
        repo = hub.state.repo_by_id(found.repo_id)
        if hub.can(repo, context.viewer.login, "read"):
            return repo, found
    raise GraphQLError(
        f"Could not resolve to a node with the global id of '{ident}'", type="NOT_FOUND"
    )


def _refused(exc: HubError) -> GraphQLError:
    kind = {403: "FORBIDDEN", 404: "NOT_FOUND"}.get(exc.status, "UNPROCESSABLE")
    return GraphQLError(exc.message, type=kind)


def enable_pull_request_auto_merge(context: Context, given: Any) -> JSON:
    values = _input("enablePullRequestAutoMerge", given)
    repo, pr = _node(context, values.get("pullRequestId"), "PR")
    method = str(values.get("mergeMethod") or "MERGE")
    if method not in ("MERGE", "SQUASH", "REBASE"):
        raise GraphQLError(
            f"Argument 'mergeMethod' on InputObject 'EnablePullRequestAutoMergeInput' has an "
            f"invalid value ({method}). Expected type 'PullRequestMergeMethod'.",
            extensions={"code": "argumentLiteralsIncompatible", "argumentName": "mergeMethod"},
        )
    expected = values.get("expectedHeadOid")
    if expected is not None and expected != pr.head_sha:
        raise GraphQLError(
            "Head branch was modified. Review and try the merge again.", type="UNPROCESSABLE"
        )
    try:
        pr = context.hub.enable_auto_merge(
            repo,
            pr.number,
            user=context.viewer.login,
            method=method.lower(),
            commit_title=values.get("commitHeadline"),
            commit_message=values.get("commitBody"),
        )
    except HubError as exc:
        raise _refused(exc) from None
    return {
        "actor": _user(context.render, context.viewer.login),
        "clientMutationId": values.get("clientMutationId"),
        "pullRequest": _pull(context.render, repo, pr),
    }


def _pinning(pinned: bool, name: str) -> Callable[[Context, Any], JSON]:
    def mutate(context: Context, given: Any) -> JSON:
        values = _input(name, given)
        repo, issue = _node(context, values.get("issueId"), "I")
        if not context.hub.can(repo, context.viewer.login, "write"):
            raise GraphQLError("Resource not accessible by personal access token", type="FORBIDDEN")
        try:
            issue = context.hub.set_pinned(repo, issue.number, pinned)
        except HubError as exc:
            raise _refused(exc) from None
        return {
            "clientMutationId": values.get("clientMutationId"),
            "issue": _issue(context.render, repo, issue),
        }

    return mutate


MUTATIONS: dict[str, Callable[[Context, Any], JSON]] = {
    "enablePullRequestAutoMerge": enable_pull_request_auto_merge,
    "pinIssue": _pinning(True, "pinIssue"),
    "unpinIssue": _pinning(False, "unpinIssue"),
}
