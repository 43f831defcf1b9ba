"""Action request files: ``actions/<target>/<action>/<id>.yaml``, beside ``requests/``, one
``ActionRequest`` per file — parsed, in their place (the folder is what CODEOWNERS routes
approval by), ids unique, and judged offline by the policies (``jitops.action_policy``), each
problem at its line: a SQL problem at the line of its statement inside ``sql``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from pydantic import BaseModel

from jitops.action_policy import ActionCheck, ActionProblem, check_action
from jitops.findings import Finding, Severity
from jitops.loader import locate
from jitops.models import ActionRequest
from jitops.policy import PolicySet
from jitops.repo.files import read_or_refuse, walk
from jitops.repo.parsing import parse
from jitops.repo.request_loading import duplicate_id_findings

ACTIONS_DIR = "actions"
ACTION_MODELS: dict[str, type[BaseModel]] = {"ActionRequest": ActionRequest}


def action_home(target: str, action: str, request_id: str) -> str:
    return f"{ACTIONS_DIR}/{target}/{action}/{request_id}.yaml"


@dataclass(frozen=True)
class ActionFile:
    path: str
    text: str
    request: ActionRequest

    def locate(self, *loc: str | int) -> tuple[int, int]:
        return locate(self.text, loc)


@dataclass(frozen=True)
class ActionLoad:
    files: tuple[ActionFile, ...]
    findings: tuple[Finding, ...]


def parse_action(raw: bytes, path: str) -> ActionFile | list[Finding]:
    """One action request file's bytes, validated and in its place; or why not."""
    document, model, findings = parse(raw, path, ACTION_MODELS, f"{ACTIONS_DIR}/")
    if not isinstance(model, ActionRequest) or document is None:
        return list(findings)
    request = model
    expected = action_home(request.target, request.action, request.id)
    if path not in (expected, expected.removesuffix(".yaml") + ".yml"):
        parts = PurePosixPath(path).parts
        field = "id"
        if len(parts) == 4 and parts[1] != request.target:
            field = "target"
        elif len(parts) == 4 and parts[2] != request.action:
            field = "action"
        line, column = document.locate((field,))
        return [
            Finding(
                path,
                Severity.ERROR,
                f"an action request lives at {ACTIONS_DIR}/<target>/<action>/<id>.yaml, and "
                f"this one says `{field}: {getattr(request, field)}`",
                f"move it to {expected} (CODEOWNERS routes approval by folder)",
                line,
                column,
            )
        ]
    return ActionFile(path, document.text, request)


def load_actions(root: Path) -> ActionLoad:
    """Every action request file of the work tree, with what is wrong with the others."""
    if not (root / ACTIONS_DIR).is_dir():
        return ActionLoad((), ())
    paths, findings = walk(root, ACTIONS_DIR)
    files: list[ActionFile] = []
    for path in paths:
        raw = read_or_refuse(root, path)
        loaded = raw if isinstance(raw, list) else parse_action(raw, path)
        if isinstance(loaded, ActionFile):
            files.append(loaded)
        else:
            findings.extend(loaded)
    by_path = {f.path: f for f in files}
    findings += duplicate_id_findings(
        ((f.path, f.request.id) for f in files), lambda path: by_path[path].locate("id")
    )
    return ActionLoad(tuple(files), tuple(findings))


def judge_actions(
    files: Sequence[ActionFile], policy_set: PolicySet
) -> tuple[list[ActionCheck], list[Finding]]:
    """Each file judged by the policies offline, and its problems as findings at their lines
    (a refused action is ``denied``, as a refused access request is)."""
    checks, findings = [], []
    for item in files:
        check = check_action(item.request, policy_set)
        checks.append(check)
        findings += [_finding(item, problem) for problem in check.problems]
    return checks, findings


def _finding(item: ActionFile, problem: ActionProblem) -> Finding:
    line, column = item.locate(*problem.at) if problem.at else (None, None)
    if problem.sql_line is not None and line is not None:
        text_line = item.text.splitlines()[line - 1] if line <= len(item.text.splitlines()) else ""
        block = text_line[(column or 1) - 1 :].lstrip()[:1] in ("|", ">")
        # a block scalar's first line is the one after `sql: |`
        line, column = line + problem.sql_line - (0 if block else 1), None
    return Finding(item.path, Severity.DENIED, problem.message, problem.hint, line, column)
