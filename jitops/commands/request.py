"""``jitops request``: the requester's command — write a request file, or open its pull request.

Load (the policies: the work tree's, or with ``--open-pr`` those of the remote's default branch,
by which the pull-request check will judge it) → decide (``jitops.policy.decide``, the engine
validate uses, offline: no reviews yet) → act (write ``requests/<target>/<role>/<id>.yaml``; or
push a branch holding only that file and open a pull request) → report what the request still
needs. A request the policies refuse writes nothing.

The file is the validated model written by jitops' YAML writer, never a template filled with
what was typed: whatever a justification holds (quotes, colons, ``#``, line breaks), the file
reads back as the same request. With ``--open-pr`` the user's work tree, index and current
branch are left alone: the commit is built with git plumbing on the default branch.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import Any, TextIO

from pydantic import ValidationError

from jitops import git, ids, request_files
from jitops.action_policy import ActionCheck, check_action
from jitops.actions_context import ActionsContext
from jitops.errors import ExitCode, PolicyDenied, UsageError
from jitops.github import GitHubError, OpenedPull
from jitops.loader import dump_document
from jitops.models import API_VERSION, AccessRequest, ActionRequest
from jitops.policy import Decision, PolicySet, Verdict, decide
from jitops.repo import REQUESTS_DIR, PolicyLoad, describe_error, load_policies, load_policies_at
from jitops.repo.action_loading import ACTIONS_DIR

BRANCH_PREFIX = "jitops/request/"
ACTION_BRANCH_PREFIX = "jitops/action/"
PR_MARKER = "<!-- jitops:request -->"
# A placeholder while the fields are checked, before the id is chosen (the id needs them).
_PLACEHOLDER_ID = "request-id"

# How each field of a request is given on the command line, for error messages.
OPTION_OF_FIELD = {
    "id": "--id",
    "requester": "--requester",
    "target": "TARGET",
    "role": "ROLE",
    "justification": "--why",
    "ticket": "--ticket",
    "duration": "--for",
    "starts_at": "--from",
    "expires_at": "--until",
}


@dataclass(frozen=True)
class Ask:
    """What the person asked for, as given (times already parsed, with their zone)."""

    target: str
    role: str
    justification: str
    requester: str
    ticket: str | None = None
    duration: str | None = None
    expires_at: datetime | None = None
    starts_at: datetime | None = None
    request_id: str | None = None  # None: jitops names it


@dataclass(frozen=True)
class PullTarget:
    """Where ``--open-pr`` publishes: a git remote, and the GitHub repository it is."""

    token: str
    api_url: str
    repository: str | None = None  # owner/name; None: read from the remote's URL
    remote: str = "origin"


@dataclass(frozen=True)
class RequestOptions:
    root: Path
    ask: Ask
    now: datetime
    dry_run: bool = False
    pull: PullTarget | None = None  # open a pull request instead of writing the work tree


class Result(StrEnum):
    REFUSED = "refused"  # the policies say no: nothing written
    WOULD_WRITE = "would write"  # --dry-run
    WRITTEN = "written"
    UNCHANGED = "unchanged"  # the same file was there already (a rerun)
    WOULD_OPEN = "would open"  # --dry-run --open-pr
    OPENED = "opened"
    ALREADY_OPEN = "already open"  # a rerun: the pull request of this request exists


@dataclass(frozen=True)
class Draft:
    """The request as it will be written, and what the policies say of it."""

    request: AccessRequest
    path: str  # requests/<target>/<role>/<id>.yaml, relative to the repository's root
    text: str
    decision: Decision
    policies_from: str  # whose policies judged it, in words


@dataclass(frozen=True)
class PullTexts:
    """What a request's pull request says (the report renders them): its title, its
    description, and the message of the commit that adds the file."""

    title: Callable[[AccessRequest], str]
    body: Callable[[Draft], str]
    commit_message: Callable[[AccessRequest], str]


@dataclass(frozen=True)
class RequestOutcome:
    draft: Draft
    result: Result
    branch: str | None = None
    pull: OpenedPull | None = None
    notes: tuple[str, ...] = ()

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.DENIED if self.result is Result.REFUSED else ExitCode.OK


def requester_login(given: str | None, actions: ActionsContext) -> str:
    """``--requester``, else ``GITHUB_ACTOR`` (set in Actions, or by hand); else a clear no.
    ``@alice`` is ``alice``, as the policies write people."""
    login = (given or actions.actor or "").removeprefix("@")
    if not login:
        raise UsageError(
            "who is asking? pass --requester LOGIN (your GitHub login), "
            "or set GITHUB_ACTOR=LOGIN in your environment"
        )
    return login


def _input_error(exc: ValidationError) -> UsageError:
    problems = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        name = str(loc[0]) if loc else ""
        option = OPTION_OF_FIELD.get(name, name)
        message, hint = describe_error(error, AccessRequest)
        text = f"{message} — {hint}" if hint else message
        if f"`{name}`" in text:
            text = text.replace(f"`{name}`:", f"{option}:").replace(f"`{name}`", option)
        else:
            text = f"{option}: {text}" if option else text
        problems.append(text)
    return UsageError("; ".join(problems))


def build_request(ask: Ask, request_id: str) -> AccessRequest:
    """The request ``ask`` describes, validated by the model; bad input is a ``UsageError``
    that names the option to fix."""
    if (ask.duration is None) == (ask.expires_at is None):
        raise UsageError(
            "give the window: --for DURATION (e.g. 4h, counted from the merge) or "
            "--until TIME (e.g. 2026-11-24T18:00:00Z), not both"
        )
    if ask.starts_at is not None and ask.expires_at is None:
        raise UsageError("--from needs --until: a scheduled window has an absolute end")
    data: dict[str, Any] = {
        "apiVersion": API_VERSION,
        "kind": "AccessRequest",
        "id": request_id,
        "requester": ask.requester,
        "target": ask.target,
        "role": ask.role,
        "justification": ask.justification,
        "ticket": ask.ticket,
        "duration": ask.duration,
        "starts_at": ask.starts_at,
        "expires_at": ask.expires_at,
    }
    try:
        return AccessRequest.model_validate({k: v for k, v in data.items() if v is not None})
    except ValidationError as exc:
        raise _input_error(exc) from None


def with_id(request: AccessRequest, request_id: str) -> AccessRequest:
    """``request`` named ``request_id`` (validated again: the id has a pattern to meet)."""
    data = request.model_dump(by_alias=True, exclude_none=True)
    try:
        return AccessRequest.model_validate({**data, "id": request_id})
    except ValidationError as exc:
        raise _input_error(exc) from None


def request_path(request: AccessRequest) -> str:
    """Where validate expects the file: the folder routes approval through CODEOWNERS."""
    return f"{REQUESTS_DIR}/{request.target}/{request.role}/{request.id}.yaml"


def render(request: AccessRequest) -> str:
    """The request file: the line that points editors at its schema, then the model's fields
    in its order, as jitops' example requests are."""
    fields = dump_document(request.model_dump(by_alias=True, exclude_none=True))
    return request_files.SCHEMA_MODELINE + fields


def fingerprint(request: AccessRequest) -> str:
    """What is asked, without the id: the same request asked again has the same print."""
    return json.dumps(request.model_dump(mode="json", exclude={"id"}), sort_keys=True)


def candidate_ids(request: AccessRequest, ask: Ask, now: datetime) -> list[str]:
    """The id asked for, or the generated proposals, best first."""
    if ask.request_id is not None:
        return [with_id(request, ask.request_id).id]
    return ids.proposals(
        request.requester, request.target, request.role, now.date(), fingerprint(request)
    )


def _policy_set(loaded: PolicyLoad, where: str) -> PolicySet:
    if loaded.policy_set is None:
        problems = [f for f in loaded.findings if f.severity != "warning"]
        first = f"{problems[0].location}: {problems[0].text}" if problems else "no policies"
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise UsageError(
            f"the policies of {where} cannot be used: {first}{more} — "
            "`jitops validate` lists them all"
        )
    return loaded.policy_set


def _draft(request: AccessRequest, policy_set: PolicySet, now: datetime, where: str) -> Draft:
    decision = decide(request, policy_set, (), now)
    return Draft(request, request_path(request), render(request), decision, where)


def _refuse_used(request_id: str) -> PolicyDenied:
    return PolicyDenied(
        f"request id {request_id!r} was already used in this repository's history, and an id "
        "is used once (the pull-request check refuses it, so an old approval cannot be "
        "replayed) — choose another --id, or leave --id out and jitops names the request"
    )


def _used_ids(root: Path, candidates: list[str], refs: Iterable[str]) -> tuple[set[str], list[str]]:
    """Which ``candidates`` the history of ``refs`` used; notes say what could not be checked.

    Exact either way (the request-id index only saves time), so how it was established is
    not the requester's concern.
    """
    used: set[str] = set()
    notes: list[str] = []
    in_git = git.toplevel(root) is not None
    for ref in refs:
        if not in_git or git.resolve(root, ref) is None:
            notes.append(
                f"{root} has no git history ({ref}), so the id was not checked against it; "
                "the pull-request check will"
            )
            continue
        used |= ids.used_request_ids(root, candidates, ref).ids
    return used, notes


class Slot(StrEnum):
    """Where a request of a given id would go: free, or holding it already (a rerun)."""

    FREE = "free"
    SAME = "same"  # the same request is there already
    TAKEN = "taken"  # another request is there


def _choose(
    request: AccessRequest,
    ask: Ask,
    candidates: list[str],
    used: set[str],
    judge: Callable[[AccessRequest], Draft],
    place: Callable[[Draft], tuple[Slot, str]],
) -> tuple[Draft, Slot]:
    """The first candidate id that history has not used and whose place is free or already
    holds this very request; ``place`` says why one is taken. An id given with --id that is
    used or taken is refused rather than replaced."""
    for request_id in candidates:
        if request_id in used:
            if ask.request_id is not None:
                raise _refuse_used(request_id)
            continue
        draft = judge(with_id(request, request_id))
        slot, taken_by = place(draft)
        if slot is not Slot.TAKEN:
            return draft, slot
        if ask.request_id is not None:
            raise UsageError(f"{taken_by} — choose another --id, or leave --id out")
    raise UsageError(  # eight digests of one request, all taken: not chance
        f"every id jitops proposes for this request is taken ({candidates[0]} …) — "
        "choose one with --id"
    )


# -- writing the work tree -----------------------------------------------------------------------


def _files_named(root: Path, request_id: str) -> list[str]:
    folder = root / REQUESTS_DIR
    if not folder.is_dir():
        return []
    found = [*folder.glob(f"**/{request_id}.yaml"), *folder.glob(f"**/{request_id}.yml")]
    return sorted(p.relative_to(root).as_posix() for p in found)


def _refuse_links(root: Path, folder: Path) -> None:
    """Refuse to write through a symbolic link under ``root``: a request file belongs in the
    repository, and a link committed there could point anywhere (validate refuses them too)."""
    for part in [folder, *folder.parents]:
        if part == root:
            return
        if part.is_symlink():
            raise UsageError(
                f"{part.relative_to(root)} is a symbolic link; request files are written only "
                "inside the repository — replace it with a folder"
            )


def write_request(options: RequestOptions) -> RequestOutcome:
    """Write the request into the work tree at ``options.root`` (unless a dry run)."""
    root, ask, now = options.root, options.ask, options.now
    request = build_request(ask, _PLACEHOLDER_ID)
    candidates = candidate_ids(request, ask, now)
    where = "the work tree (policies/)"
    policy_set = _policy_set(load_policies(root), where)
    refs = ["HEAD"]
    if git.toplevel(root) is not None and git.resolve(root, "refs/remotes/origin/HEAD"):
        refs.append("refs/remotes/origin/HEAD")  # ids used on main, where this is going
    used, notes = _used_ids(root, candidates, refs)

    def place(draft: Draft) -> tuple[Slot, str]:
        present = _files_named(root, draft.request.id)
        if not present:
            return Slot.FREE, ""
        if present == [draft.path] and (root / draft.path).read_text("utf-8") == draft.text:
            return Slot.SAME, ""  # asked again: the file is there as it would be written
        return Slot.TAKEN, f"{present[0]} already uses id {draft.request.id!r} for another request"

    def judge(request: AccessRequest) -> Draft:
        return _draft(request, policy_set, now, where)

    draft, slot = _choose(request, ask, candidates, used, judge, place)
    if slot is Slot.SAME:
        return RequestOutcome(draft, Result.UNCHANGED, notes=tuple(notes))
    if draft.decision.verdict is Verdict.DENIED:
        return RequestOutcome(draft, Result.REFUSED, notes=tuple(notes))
    if options.dry_run:
        return RequestOutcome(draft, Result.WOULD_WRITE, notes=tuple(notes))
    target = root / draft.path
    _refuse_links(root, target.parent)
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "x", encoding="utf-8", newline="\n") as file:  # never overwrite
        file.write(draft.text)
    return RequestOutcome(draft, Result.WRITTEN, notes=tuple(notes))


# -- opening a pull request ----------------------------------------------------------------------


def branch_for(request_id: str) -> str:
    return f"{BRANCH_PREFIX}{request_id}"


def _repository(pull: PullTarget, url: str) -> str:
    from jitops.github import repository_from_url

    repository = pull.repository or repository_from_url(url)
    if repository is None:
        raise UsageError(
            f"which GitHub repository is {pull.remote} ({url})? pass --github-repo OWNER/NAME"
        )
    return repository


@dataclass(frozen=True)
class _Remote:
    """The remote a request is published to, its default branch fetched."""

    repository: str  # owner/name on GitHub
    token: str | None  # for git, only when the remote is that GitHub's
    default_branch: str
    base: str  # the default branch's tip, fetched
    branches: dict[str, str]  # of the candidate branches, those that exist → their tips

    @property
    def where(self) -> str:
        return f"{self.default_branch} at {self.base[:7]}"


def _reach_remote(root: Path, pull: PullTarget, branches: list[str]) -> _Remote:
    """The remote ``--open-pr`` publishes to, its default branch fetched and which of
    ``branches`` it has."""
    from jitops.github import serves_git_for

    top = git.toplevel(root)
    if top is None or top.resolve() != root.resolve():
        raise UsageError(
            f"--open-pr works at the top of a git clone of the access repository; {root} is not"
        )
    url = git.remote_url(root, pull.remote)
    if url is None:
        raise UsageError(f"there is no git remote {pull.remote!r} to push the request to")
    repository = _repository(pull, url)
    # The token goes only to the GitHub it belongs to; any other remote gets the person's own
    # git credentials.
    token = pull.token if serves_git_for(pull.api_url, url) else None
    remote = git.remote_refs(root, branches, token=token)
    base = git.fetch_branch(root, remote.default_branch, token=token, remote=pull.remote)
    return _Remote(repository, token, remote.default_branch, base, dict(remote.branches))


def _push_request(
    root: Path, pull: PullTarget, remote: _Remote, branch: str, file: tuple[str, str], message: str
) -> None:
    """Push ``branch``: one commit on the default branch adding ``file`` (path, text)."""
    problem = git.identity_problem(root)
    if problem is not None:
        raise UsageError(
            f"git cannot author the commit ({problem}) — set your name and email: "
            'git config --global user.name "Your Name"; '
            "git config --global user.email you@example.com"
        )
    path, text = file
    commit = git.commit_file(root, remote.base, path, text.encode("utf-8"), message)
    git.push_branch(root, commit, branch, token=remote.token, remote=pull.remote)


def _open_pull(pull: PullTarget, remote: _Remote, branch: str, title: str, body: str) -> OpenedPull:
    """The pull request from ``branch``: found if open, else opened."""
    from jitops.github import GitHub

    github = GitHub(pull.token, repository=remote.repository, api_url=pull.api_url)
    try:
        return github.find_or_open_pull(
            head=branch, base=remote.default_branch, title=title, body=body
        )
    except GitHubError as exc:
        # the branch is on the remote by now: say so, and that running again completes it
        raise GitHubError(
            f"{exc.message}. The request is pushed already, as branch {branch} on "
            f"{pull.remote}; only its pull request is missing — run the same command again "
            f"(it finds the branch and opens the pull request), or open one from {branch} "
            f"into {remote.default_branch} by hand",
            status=exc.status,
            reason=exc.reason,
        ) from None


def open_request(options: RequestOptions, texts: PullTexts) -> RequestOutcome:
    """Publish the request as a pull request of its own, leaving the work tree alone."""
    pull = options.pull
    assert pull is not None
    root, ask, now = options.root, options.ask, options.now
    request = build_request(ask, _PLACEHOLDER_ID)
    candidates = candidate_ids(request, ask, now)
    remote = _reach_remote(root, pull, [branch_for(i) for i in candidates])
    where = remote.where
    policy_set = _policy_set(load_policies_at(root, remote.base), where)
    used, notes = _used_ids(root, candidates, [remote.base])

    def place(draft: Draft) -> tuple[Slot, str]:
        branch = branch_for(draft.request.id)
        existing = remote.branches.get(branch)
        if existing is None:
            return Slot.FREE, ""
        if _branch_holds(root, existing, (draft.path, draft.text), remote.token, pull.remote):
            return Slot.SAME, ""  # asked again: pushed before, as it would be now
        return Slot.TAKEN, f"branch {branch} on {pull.remote} holds another version of it"

    def judge(request: AccessRequest) -> Draft:
        return _draft(request, policy_set, now, where)

    draft, slot = _choose(request, ask, candidates, used, judge, place)
    branch = branch_for(draft.request.id)
    if draft.decision.verdict is Verdict.DENIED:
        return RequestOutcome(draft, Result.REFUSED, branch, notes=tuple(notes))
    if options.dry_run:
        return RequestOutcome(draft, Result.WOULD_OPEN, branch, notes=tuple(notes))
    if slot is Slot.FREE:
        message = texts.commit_message(draft.request)
        _push_request(root, pull, remote, branch, (draft.path, draft.text), message)
    opened = _open_pull(pull, remote, branch, texts.title(draft.request), texts.body(draft))
    result = Result.OPENED if opened.created else Result.ALREADY_OPEN
    return RequestOutcome(draft, result, branch, opened, tuple(notes))


def _branch_holds(
    root: Path, commit: str, file: tuple[str, str], token: str | None, remote: str
) -> bool:
    """Whether ``commit`` (a request branch's tip) holds exactly this request's ``file``
    (path, text)."""
    git.fetch_commit(root, commit, token=token, remote=remote)
    name = f"{commit}:{file[0]}"
    return git.read_blobs(root, [name]).get(name) == file[1].encode("utf-8")


def run_request(options: RequestOptions, texts: PullTexts) -> RequestOutcome:
    """Write the request, or (with ``options.pull``) open its pull request, written with
    ``texts``."""
    if options.pull is not None:
        return open_request(options, texts)
    return write_request(options)


def pull_target(
    actions: ActionsContext, repository: str | None, open_pr: bool
) -> PullTarget | None:
    """``--open-pr``'s GitHub (``environment_pull_target``), or None without it."""
    if repository is not None and not open_pr:
        raise UsageError("--github-repo goes with --open-pr")
    return environment_pull_target(actions, repository) if open_pr else None


def environment_pull_target(
    actions: ActionsContext, repository: str | None, remote: str = "origin"
) -> PullTarget:
    """``--open-pr``'s GitHub: ``GITHUB_TOKEN`` (or ``GH_TOKEN``), ``GITHUB_API_URL``."""
    token = actions.token
    if not token:
        raise UsageError(
            "--open-pr needs a GitHub token that may push branches and open pull requests: "
            "set GITHUB_TOKEN (e.g. GITHUB_TOKEN=$(gh auth token))"
        )
    if repository is not None and "/" not in repository:
        raise UsageError(f"--github-repo {repository!r} is not OWNER/NAME")
    return PullTarget(token, actions.api_url, repository, remote)


# -- action requests -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionAsk:
    """An action asked for: the action a policy offers on the target, why, and its input —
    the statements of a SQL action, or a command action's parameters."""

    target: str
    action: str
    justification: str
    requester: str
    ticket: str | None = None
    sql: str | None = None
    params: dict[str, Any] | None = None
    request_id: str | None = None


@dataclass(frozen=True)
class ActionDraft:
    request: ActionRequest
    path: str  # actions/<target>/<action>/<id>.yaml
    text: str
    check: ActionCheck  # what the policies say of it, offline
    policies_from: str  # whose policies judged it, in words


@dataclass(frozen=True)
class ActionPullTexts:
    """What an action request's pull request says: title, description, commit message."""

    title: Callable[[ActionRequest], str]
    body: Callable[[ActionDraft], str]
    commit_message: Callable[[ActionRequest], str]


@dataclass(frozen=True)
class ActionRequestOutcome:
    draft: ActionDraft
    result: Result
    branch: str | None = None
    pull: OpenedPull | None = None

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.DENIED if self.result is Result.REFUSED else ExitCode.OK


def action_ask(
    target: str,
    action: str,
    justification: str,
    requester: str,
    ticket: str | None,
    sql_file: TextIO | None,
    params: Iterable[str],
    request_id: str | None,
) -> ActionAsk:
    """The action asked for on the command line: the statements read from ``sql_file``, the
    parameters parsed from ``NAME=VALUE`` pairs."""
    try:
        sql = sql_file.read() if sql_file is not None else None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--sql-file cannot be read: {exc}") from None
    if sql is not None and not sql.strip():
        name = getattr(sql_file, "name", "FILE")
        raise UsageError(
            f"--sql-file {name} is empty — write the statements the action should run in it, "
            "each ending in `;`"
        )
    return ActionAsk(
        target, action, justification, requester, ticket, sql, parse_params(params), request_id
    )


def parse_params(pairs: Iterable[str]) -> dict[str, Any] | None:
    """``--param name=value`` pairs: a value that reads as JSON (a number, true, a quoted
    string, a list) is that, any other is the text as written. None when there are none."""
    params: dict[str, Any] = {}
    for pair in pairs:
        name, equals, value = pair.partition("=")
        if not equals or not name:
            raise UsageError(f"--param {pair!r} is not NAME=VALUE (e.g. --param service=export)")
        try:
            params[name] = json.loads(value)
        except ValueError:
            params[name] = value
    return params or None


def _action_request(ask: ActionAsk, request_id: str) -> ActionRequest:
    data: dict[str, Any] = {
        "apiVersion": API_VERSION,
        "kind": "ActionRequest",
        "id": request_id,
        "requester": ask.requester,
        "target": ask.target,
        "action": ask.action,
        "justification": ask.justification,
        "ticket": ask.ticket,
        "sql": ask.sql,
        "params": ask.params,
    }
    try:
        return ActionRequest.model_validate({k: v for k, v in data.items() if v is not None})
    except ValidationError as exc:
        raise UsageError(
            "; ".join(
                " — ".join(filter(None, describe_error(e, ActionRequest))) for e in exc.errors()
            )
        ) from None


def render_action(request: ActionRequest) -> str:
    """The action request file: the schema line, then the model's fields in its order."""
    fields = dump_document(request.model_dump(by_alias=True, exclude_none=True))
    return request_files.ACTION_SCHEMA_MODELINE + fields


def action_path(request: ActionRequest) -> str:
    """Where validate expects the file: the folder routes approval through CODEOWNERS."""
    return f"{ACTIONS_DIR}/{request.target}/{request.action}/{request.id}.yaml"


def _action_draft(
    ask: ActionAsk, request_id: str, policy_set: PolicySet, where: str
) -> ActionDraft:
    request = _action_request(ask, request_id)
    text = render_action(request)
    check = check_action(request, policy_set)
    return ActionDraft(request, action_path(request), text, check, where)


def _action_candidates(ask: ActionAsk, now: datetime) -> list[str]:
    """The id asked for, or the generated proposals (from what is asked), best first."""
    if ask.sql is None and ask.params is None:
        raise UsageError(
            "an action request needs its input: --sql-file FILE (a SQL action's statements) "
            "or --param NAME=VALUE (a command action's parameters)"
        )
    if ask.request_id is not None:
        return [_action_request(ask, ask.request_id).id]
    probe = _action_request(ask, _PLACEHOLDER_ID)
    printed = json.dumps(probe.model_dump(mode="json", exclude={"id"}), sort_keys=True)
    return ids.proposals(ask.requester, ask.target, ask.action, now.date(), printed)


def _choose_action(
    ask: ActionAsk,
    candidates: list[str],
    used: set[str],
    judge: Callable[[str], ActionDraft],
    place: Callable[[ActionDraft], Slot],
) -> tuple[ActionDraft, Slot]:
    """The first candidate id whose place already holds this very request (a rerun), or that
    history has not used and whose place is free; an id given with --id is never replaced."""
    for candidate in candidates:
        draft = judge(candidate)
        slot = place(draft)
        if slot is Slot.SAME:
            return draft, slot
        if candidate not in used and slot is Slot.FREE:
            return draft, slot
        if ask.request_id is not None:
            raise _refuse_used(candidate)
    raise _refuse_used(candidates[-1])


def write_action_request(
    root: Path, ask: ActionAsk, now: datetime, dry_run: bool
) -> ActionRequestOutcome:
    """Write the action request into the work tree (unless a dry run), once judged offline;
    a request its policy refuses writes nothing."""
    candidates = _action_candidates(ask, now)
    where = "the work tree (policies/)"
    policy_set = _policy_set(load_policies(root), where)
    used = {PurePosixPath(p).stem for p in _action_history(root, ["HEAD"])}

    def place(draft: ActionDraft) -> Slot:
        existing = root / draft.path
        if existing.is_file() and existing.read_text("utf-8") == draft.text:
            return Slot.SAME
        return Slot.TAKEN if existing.exists() else Slot.FREE

    draft, slot = _choose_action(
        ask, candidates, used, lambda i: _action_draft(ask, i, policy_set, where), place
    )
    if slot is Slot.SAME:
        return ActionRequestOutcome(draft, Result.UNCHANGED)
    if not draft.check.allowed:
        return ActionRequestOutcome(draft, Result.REFUSED)
    if dry_run:
        return ActionRequestOutcome(draft, Result.WOULD_WRITE)
    target = root / draft.path
    _refuse_links(root, target.parent)
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "x", encoding="utf-8", newline="\n") as file:  # never overwrite
        file.write(draft.text)
    return ActionRequestOutcome(draft, Result.WRITTEN)


def action_branch_for(request_id: str) -> str:
    return f"{ACTION_BRANCH_PREFIX}{request_id}"


def open_action_request(
    root: Path, ask: ActionAsk, now: datetime, pull: PullTarget, dry_run: bool,
    texts: ActionPullTexts,
) -> ActionRequestOutcome:  # fmt: skip
    """Publish the action request as a pull request of its own, judged by the policies of
    the remote's default branch, leaving the work tree alone."""
    candidates = _action_candidates(ask, now)
    remote = _reach_remote(root, pull, [action_branch_for(i) for i in candidates])
    policy_set = _policy_set(load_policies_at(root, remote.base), remote.where)
    used = {PurePosixPath(p).stem for p in _action_history(root, [remote.base])}

    def place(draft: ActionDraft) -> Slot:
        existing = remote.branches.get(action_branch_for(draft.request.id))
        if draft.request.id in used:  # merged before: a branch left behind is no rerun
            return Slot.TAKEN
        if existing is None:
            return Slot.FREE
        held = _branch_holds(root, existing, (draft.path, draft.text), remote.token, pull.remote)
        return Slot.SAME if held else Slot.TAKEN

    draft, slot = _choose_action(
        ask, candidates, used, lambda i: _action_draft(ask, i, policy_set, remote.where), place
    )
    branch = action_branch_for(draft.request.id)
    if not draft.check.allowed:
        return ActionRequestOutcome(draft, Result.REFUSED, branch)
    if dry_run:
        return ActionRequestOutcome(draft, Result.WOULD_OPEN, branch)
    if slot is Slot.FREE:
        message = texts.commit_message(draft.request)
        _push_request(root, pull, remote, branch, (draft.path, draft.text), message)
    body = texts.body(draft)
    opened = _open_pull(pull, remote, branch, texts.title(draft.request), body)
    result = Result.OPENED if opened.created else Result.ALREADY_OPEN
    return ActionRequestOutcome(draft, result, branch, opened)


def _action_history(root: Path, refs: list[str]) -> set[str]:
    """Every action request file any commit of ``refs`` (and origin's default branch, when
    the clone has one) added."""
    if git.toplevel(root) is None or git.resolve(root, "HEAD") is None:
        return set()
    found: set[str] = set()
    for ref in [*refs, "refs/remotes/origin/HEAD"]:
        if git.resolve(root, ref) is not None:
            found |= git.added_paths(root, ref, [ACTIONS_DIR])
    return found


def run_action_ask(
    ask: ActionAsk,
    root: Path,
    now: datetime | None,
    window: tuple[object, ...],
    pull: PullTarget | None,
    dry_run: bool,
    texts: ActionPullTexts,
) -> ActionRequestOutcome:
    """``jitops request`` for an action (no window: it is performed once, not held): write
    the file, or (with ``pull``) open its pull request, written with ``texts``."""
    if any(value is not None for value in window):
        raise UsageError(
            "an action request has no window (--for, --until, --from): it is performed once, "
            "on merge"
        )
    moment = now or datetime.now(UTC)
    if pull is not None:
        return open_action_request(root, ask, moment, pull, dry_run, texts)
    return write_action_request(root, ask, moment, dry_run)
