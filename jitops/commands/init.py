"""``jitops init``: set up an access repository — workflows, starter policies, CODEOWNERS.

Plan first, then write. The plan decides for every file what happens to it: created, replaced
(only with ``force``), unchanged (identical already) or kept (it differs and is not ours to
replace). Everything that can go wrong with the input — a path that is not a folder, a folder
inside another repository, a team name that is not one, policies that do not load — is found
while planning, before anything is written. Writing then creates folders and files in order
and, should the disk refuse one, undoes what it did: nothing is left half-written.

What gets written:

- ``policies/``: a starter (a target, a policy with an auto-approved and an approved role, the
  ``PolicyChangeRule`` naming the security team, and test cases), only into a ``policies/``
  holding no YAML yet. Policies already there are the team's own: never replaced, not even
  with ``force``; CODEOWNERS and the workflows are rendered from them instead.
- ``requests/.gitkeep`` while ``requests/`` is empty, so the folder exists in git.
- ``.github/CODEOWNERS`` (or the CODEOWNERS file GitHub already reads), rendered by
  ``jitops.owners`` from the resulting policies.
- ``.github/workflows/``: the five jitops workflows (``jitops.templates``), passing each
  target's secret variable to the steps that grant and revoke. They run jitops through its
  composite action pinned to a commit (``uses: OWNER/jitops@<commit SHA>``): the commit given
  with ``--action``, else the one this jitops was installed from (``jitops.installed_from``).
  With ``--release``, or when this jitops came from a package index, they install this release
  from the index instead, pinned exactly.

``run_init`` prints nothing; the CLI renders the ``InitReport`` and the next steps.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Final

from jitops import __version__, git, installed_from, owners
from jitops.errors import JitopsError, UsageError
from jitops.findings import Severity
from jitops.github.urls import repository_from_url
from jitops.models import LOGIN_PATTERN
from jitops.policy import PolicySet, named_teams
from jitops.repo import POLICIES_DIR, REQUESTS_DIR, YAML_SUFFIXES, load_policies
from jitops.templates import (
    Install,
    WorkflowSettings,
    action_variables,
    render_starter_policies,
    render_workflows,
    secret_variables,
)

WORKFLOWS_DIR: Final = ".github/workflows"
KEEP_FILE: Final = f"{REQUESTS_DIR}/.gitkeep"
DEFAULT_BRANCH: Final = "main"
CODEOWNERS_DEFAULT: Final = owners.CODEOWNERS_LOCATIONS[0]
DIFFERS: Final = "differs from what init writes; --force replaces it"

_ORG = re.compile(LOGIN_PATTERN)
_TEAM = re.compile(r"^@?([A-Za-z0-9][A-Za-z0-9-]{0,38})/([A-Za-z0-9][A-Za-z0-9._-]{0,99})$")
# A branch name that is also a plain YAML scalar in `branches: [NAME]` (no quoting needed).
_BRANCH = re.compile(r"^[A-Za-z][A-Za-z0-9._/-]{0,99}$")
_YAML_WORDS = {"true", "false", "yes", "no", "on", "off", "null", "y", "n"}


class Action(StrEnum):
    CREATE = "create"
    REPLACE = "replace"  # it differed; --force
    UNCHANGED = "unchanged"  # identical already
    KEEP = "keep"  # it differs, and stays as it is


@dataclass(frozen=True)
class PlannedFile:
    path: str  # relative to the repository root, with forward slashes
    action: Action
    text: str  # what init writes (or would have written)
    note: str = ""  # why a file is kept


@dataclass(frozen=True)
class InitOptions:
    root: Path
    org: str | None = None
    security_team: str | None = None
    default_branch: str | None = None
    force: bool = False
    dry_run: bool = False
    version: str = __version__
    action: str | None = None  # OWNER/NAME@COMMIT: the jitops action the workflows use
    release: bool = False  # install this release from the package index instead


@dataclass(frozen=True)
class InitReport:
    root: Path
    files: tuple[PlannedFile, ...]
    new_repository: bool  # init ran (or would run) `git init`
    # YAML files policies/ held already: the team's own, kept as they are (then no starter)
    kept_policies: int
    org: str | None  # None: not needed (no starter) and not given
    security_team: str | None
    default_branch: str
    secret_variables: tuple[str, ...]  # what the `jitops` Environment must hold
    teams: tuple[str, ...]  # teams the policies name: JITOPS_READ_ORG_TOKEN is needed
    dry_run: bool
    install: Install  # how the workflows get jitops
    notify_variables: tuple[str, ...]  # the Notify channels': `jitops-read-org` holds them too
    install_source: str  # where that choice came from, for people
    warnings: tuple[str, ...] = ()  # about the install: a commit not pushed, changes

    def count(self, action: Action) -> int:
        return sum(item.action is action for item in self.files)


def run_init(options: InitOptions) -> InitReport:
    report = plan(options)
    if not options.dry_run:
        write(report)
    return report


# -- planning -------------------------------------------------------------------------------


def plan(options: InitOptions) -> InitReport:
    """Everything init would do, decided without writing anything; bad input raises."""
    root = options.root.absolute()
    new_repository = _check_location(root)
    existing = _policy_files(root)
    org, team = _organisation(options, root, new_repository, needed=not existing)
    branch = _default_branch(options.default_branch, root, new_repository)

    files: list[PlannedFile] = []
    if org is not None and team is not None and not existing:
        rendered = render_starter_policies(org, team)
        files += [_planned(root, path, text, force=False) for path, text in rendered.items()]
    policy_set = _resulting_policies(root, files)
    variables = secret_variables(policy_set.targets.values(), policy_set.notify)
    performing = action_variables(policy_set.targets.values())

    requests = root / REQUESTS_DIR
    if not requests.is_dir() or all(p.name == ".gitkeep" for p in requests.iterdir()):
        files.append(_planned(root, KEEP_FILE, "", force=options.force))
    found_owners = owners.find(root)  # the file GitHub reads already, if there is one
    owners_path = found_owners.relative_to(root).as_posix() if found_owners else CODEOWNERS_DEFAULT
    files.append(_planned(root, owners_path, owners.render(policy_set), force=options.force))
    install, source, warnings = _install(options)
    notify_variables = secret_variables((), policy_set.notify)
    settings = WorkflowSettings(install, branch, variables, notify_variables, performing)
    workflows = render_workflows(settings)
    for name, text in workflows.items():
        files.append(_planned(root, _workflow_path(root, name), text, force=options.force))
    return InitReport(
        root=root,
        files=tuple(files),
        new_repository=new_repository,
        kept_policies=len(existing),
        org=org,
        security_team=team,
        default_branch=branch,
        secret_variables=tuple(sorted(variables + performing)),
        teams=named_teams(policy_set),
        dry_run=options.dry_run,
        install=install,
        notify_variables=notify_variables,
        install_source=source,
        warnings=warnings,
    )


def _install(options: InitOptions) -> tuple[Install, str, tuple[str, ...]]:
    """How the workflows get jitops, where that came from, and warnings about it."""
    if options.action is not None and options.release:
        raise UsageError(
            "--action and --release both say how the workflows get jitops: give one of them"
        )
    if options.release:
        return Install.release(options.version), "--release", ()
    if options.action is not None:
        pin = installed_from.parse_pin(options.action)
        return Install.action(pin.repository, pin.commit), "--action", ()
    origin = installed_from.origin()
    if origin.pin is not None:
        pin = origin.pin
        install = Install.action(pin.repository, pin.commit, options.version)
        return install, f"this jitops, installed from {origin.described}", origin.warnings
    if origin.from_index:
        return Install.release(options.version), "this jitops, a release from a package index", ()
    raise UsageError(
        f"which jitops should the workflows run? This one names no commit on GitHub: "
        f"{origin.problem}. Give --action OWNER/jitops@COMMIT (jitops' repository and a full "
        f"commit SHA; its action.yml installs jitops from that commit), or --release to "
        f"install jitops=={options.version} from the package index once it is published"
    )


def _check_location(root: Path) -> bool:
    """Whether ``root`` needs ``git init``; refuses a path git or GitHub could not use."""
    existing = root
    while not existing.exists():
        if existing.is_symlink():  # a dangling link: mkdir would fail on it later
            raise UsageError(f"{existing} is a broken symbolic link — remove it or pick another")
        existing = existing.parent
    if not existing.is_dir():
        raise UsageError(f"{existing} is not a directory — give a folder (new or existing)")
    toplevel = git.toplevel(existing)
    if toplevel is None:
        return True
    if existing == root and toplevel.resolve() == root.resolve():
        return False
    raise UsageError(
        f"{root} is inside the git repository {toplevel}, not its root: GitHub reads .github/ "
        f"only at the root — run `jitops init {toplevel}`, or give a folder outside it"
    )


def _organisation(
    options: InitOptions, root: Path, new_repository: bool, *, needed: bool
) -> tuple[str | None, str | None]:
    """The organisation and the security team, checked, as ``acme`` and ``@acme/security``;
    an error when ``needed`` (for the starter policies) and they cannot be known."""
    team_org = team_slug = None
    if options.security_team is not None:
        match = _TEAM.fullmatch(options.security_team.strip())
        if match is None:
            raise UsageError(
                f"--security-team {options.security_team!r} is not a team — write it as "
                "@org/team-slug, e.g. @acme/security"
            )
        team_org, team_slug = match.groups()
    org = options.org
    if org is not None and not _ORG.fullmatch(org):
        raise UsageError(
            f"--org {org!r} is not a GitHub organisation name (letters, digits and hyphens, "
            "at most 39, not starting with a hyphen)"
        )
    org = org or team_org or (None if new_repository else _remote_owner(root))
    if org is None:
        if not needed:
            return None, None
        raise UsageError(
            "which GitHub organisation owns this access repository? Give --org ORG "
            "(or --security-team @ORG/TEAM); there is no GitHub remote to read it from"
        )
    if team_org is not None and team_org.lower() != org.lower():
        raise UsageError(
            f"--security-team @{team_org}/{team_slug} is a team of {team_org}, not of {org}: "
            "jitops reads team membership in the repository's own organisation"
        )
    return org, f"@{org}/{team_slug or 'security'}"


def _remote_owner(root: Path) -> str | None:
    url = git.remote_url(root)
    repository = repository_from_url(url) if url else None  # never a local path's folders
    return repository.partition("/")[0] if repository else None


def _default_branch(given: str | None, root: Path, new_repository: bool) -> str:
    branch = given or (None if new_repository else git.remote_default_branch(root))
    branch = branch or DEFAULT_BRANCH
    if not _BRANCH.fullmatch(branch) or ".." in branch or branch.lower() in _YAML_WORDS:
        raise UsageError(
            f"--default-branch {branch!r} is not a branch name init can use — letters, digits, "
            "'.', '_', '-' and '/', starting with a letter (e.g. main)"
        )
    return branch


def _policy_files(root: Path) -> list[Path]:
    folder = root / POLICIES_DIR
    if not folder.is_dir():
        return []
    return [p for p in folder.rglob("*") if p.name.endswith(YAML_SUFFIXES)]


def _planned(root: Path, path: str, text: str, *, force: bool) -> PlannedFile:
    target = root / path
    for parent in reversed(Path(path).parents[:-1]):
        folder = root / parent
        if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
            raise UsageError(
                f"{folder} is in the way: init writes {path} there — it must be a folder"
            )
    if target.is_symlink() or (target.exists() and not target.is_file()):
        raise UsageError(f"{target} is not a regular file — move it away, then run init again")
    if not target.exists():
        return PlannedFile(path, Action.CREATE, text)
    try:
        current = target.read_bytes()
    except OSError as exc:
        raise UsageError(f"{target} cannot be read: {exc.strerror or exc}") from None
    if current == text.encode("utf-8"):
        return PlannedFile(path, Action.UNCHANGED, text)
    if force:
        return PlannedFile(path, Action.REPLACE, text)
    return PlannedFile(path, Action.KEEP, text, DIFFERS)


def _workflow_path(root: Path, name: str) -> str:
    # GitHub runs both extensions: an existing jitops-check.yaml is the same workflow, and
    # writing jitops-check.yml beside it would run the check twice.
    alternative = f"{WORKFLOWS_DIR}/{name.removesuffix('.yml')}.yaml"
    return alternative if (root / alternative).exists() else f"{WORKFLOWS_DIR}/{name}"


def _resulting_policies(root: Path, planned: Sequence[PlannedFile]) -> PolicySet:
    """The policies as they will be after init: the files there, plus the starter's."""
    with tempfile.TemporaryDirectory(prefix="jitops-init-") as staging:
        view = Path(staging)
        if (root / POLICIES_DIR).is_dir():
            shutil.copytree(root / POLICIES_DIR, view / POLICIES_DIR, symlinks=True)
        for item in planned:
            if item.action in (Action.CREATE, Action.REPLACE):
                (view / item.path).parent.mkdir(parents=True, exist_ok=True)
                (view / item.path).write_text(item.text, encoding="utf-8")
        loaded = load_policies(view, parallel=False)
    if loaded.policy_set is None:
        problems = [f for f in loaded.findings if f.severity is not Severity.WARNING]
        shown = "; ".join(f"{f.location}: {f.message}" for f in problems[:3]) + (
            f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        )
        raise UsageError(
            f"the policies in {root / POLICIES_DIR} have errors, so init cannot render "
            f"CODEOWNERS and the workflows from them: {shown} — fix them (`jitops validate` "
            "lists every one) and run init again"
        )
    return loaded.policy_set


# -- writing --------------------------------------------------------------------------------


class InitWriteError(JitopsError):
    """Writing the access repository failed; what had been written was undone."""


def write(report: InitReport) -> None:
    """Carry out ``report``'s plan; on any failure undo it and raise ``InitWriteError``."""
    created: list[Path] = []  # folders and files that did not exist, in creation order
    replaced: list[tuple[Path, bytes]] = []  # files replaced, with what they held
    try:
        _make_folder(report.root, created)
        if report.new_repository:
            created.append(report.root / ".git")
            git.init(report.root, report.default_branch)
        for item in report.files:
            if item.action not in (Action.CREATE, Action.REPLACE):
                continue
            target = report.root / item.path
            _make_folder(target.parent, created)
            if item.action is Action.REPLACE:
                replaced.append((target, target.read_bytes()))
            else:
                created.append(target)
            target.write_bytes(item.text.encode("utf-8"))
    except (OSError, JitopsError) as exc:
        problems = _undo(created, replaced)
        what = exc.message if isinstance(exc, JitopsError) else f"{exc.strerror or exc}"
        where = f" ({exc.filename})" if isinstance(exc, OSError) and exc.filename else ""
        undone = (
            "what it had written was undone"
            if not problems
            else f"undoing failed too, check by hand: {'; '.join(problems)}"
        )
        raise InitWriteError(f"init could not write{where}: {what}; {undone}") from None


def _make_folder(folder: Path, created: list[Path]) -> None:
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        path.mkdir()
        created.append(path)


def _undo(created: Sequence[Path], replaced: Sequence[tuple[Path, bytes]]) -> list[str]:
    problems = []
    for path, previous in replaced:
        try:
            path.write_bytes(previous)
        except OSError as exc:
            problems.append(f"{path}: {exc.strerror or exc}")
    for path in reversed(created):
        try:
            if not path.is_dir() or path.is_symlink():
                path.unlink(missing_ok=True)
            elif path.name == ".git":
                shutil.rmtree(path)  # init made it, so nothing of anyone else's is in it
            else:
                path.rmdir()
        except OSError as exc:
            problems.append(f"{path}: {exc.strerror or exc}")
    return problems
