"""Doctor's ``github`` area: unless offline, and given a token (``GITHUB_TOKEN``) and the
repository (``GITHUB_REPOSITORY``, else the ``origin`` remote), the repository's settings on
GitHub (``GITHUB_API_URL``): "Allow auto-merge" is on, for the sweep's revocation pull requests;
the default branch's protection (classic branch protection or a ruleset) requires the
``jitops/approval`` status check and the reviews the policies ask for; and the org-reading token
lives only in an Environment limited to the default branch."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Final

from jitops import git
from jitops.actions_context import ActionsContext
from jitops.doctor_checks import Area, DoctorCheck
from jitops.github import (
    STATUS_CONTEXT,
    GitHub,
    GitHubError,
    RequiredChecks,
    ReviewRules,
    repository_from_url,
)
from jitops.policy import named_teams
from jitops.provisioners.interface import CheckStatus
from jitops.repo import load_policies

# Where each setting lives in GitHub's web interface: the fix names the exact switch.
AUTO_MERGE_SETTING: Final = (
    'Settings → General → Pull Requests → "Allow auto-merge" (a repository admin turns it on)'
)
PROTECTION_SETTING: Final = (
    'Settings → Branches → {rule} → "Require status checks to pass before merging" → add '
    f"`{STATUS_CONTEXT}`, or require it in a ruleset for the branch (Settings → Rules → "
    f'Rulesets → "Require status checks to pass") (README, "Branch protection"); doctor reads '
    "both"
)
READ_PROTECTION: Final = (
    "to let doctor check it, run it with a token that can read branch protection: a "
    'fine-grained token with the repository permission "Administration: read", or a classic '
    "token of a repository admin (the Actions GITHUB_TOKEN cannot); or require the check in a "
    "ruleset, which any token that can read the repository sees"
)


def github_checks(root: Path, environ: Mapping[str, str]) -> list[DoctorCheck]:
    """The repository's settings on GitHub that jitops relies on; one line each.

    Nothing here fails the run for want of access: a setting the token cannot read is a
    warning that says which permission would let doctor read it.
    """
    actions = ActionsContext.from_environ(environ)
    token, repository = actions.token or "", actions.repository or ""
    if not repository and git.toplevel(root) is not None:
        url = git.remote_url(root)
        repository = (repository_from_url(url) if url else None) or ""
    if not token or not repository:
        missing = " and ".join(
            name
            for name, value in (("GITHUB_TOKEN", token), ("GITHUB_REPOSITORY", repository))
            if not value
        )
        return [
            DoctorCheck(
                Area.GITHUB,
                "settings",
                CheckStatus.WARNING,
                f"not checked: no {missing} (the repository's settings on GitHub need both)",
                "set GITHUB_TOKEN (and GITHUB_REPOSITORY=owner/name where the clone has no "
                "origin on GitHub) to check them, or run with --offline to skip them",
            )
        ]
    try:
        hub = GitHub(token, repository=repository, api_url=actions.api_url, retries=1, timeout=15)
        settings = hub.repository_settings()
    except GitHubError as exc:
        return [
            DoctorCheck(
                Area.GITHUB,
                repository,
                CheckStatus.WARNING,
                f"not checked: {exc.message}",
                f"check GITHUB_REPOSITORY and that the token can read {repository} "
                f'("Metadata: read") at {actions.api_url}',
            )
        ]
    branch = settings.default_branch
    classic = _read_checks(hub.required_checks, branch)
    rulesets = _read_checks(hub.ruleset_checks, branch)
    rule = load_policies(root).policy_set
    change_rule = rule.policy_change_rule if rule is not None else None
    return [
        _auto_merge_check(settings.allow_auto_merge),
        _protection_check(branch, classic, rulesets),
        _reviews_check(
            branch,
            classic,
            rulesets,
            sum(a.count for a in change_rule.approvals) if change_rule else None,
        ),
        *_org_token_checks(hub, branch, named_teams(rule) if rule is not None else ()),
    ]


ORG_TOKEN: Final = "JITOPS_READ_ORG_TOKEN"
ORG_TOKEN_ENVIRONMENT: Final = "jitops-read-org"


def _org_token_checks(hub: GitHub, branch: str, teams: Sequence[str]) -> list[DoctorCheck]:
    """Where the org-reading token lives: in the Environment the check and review jobs name,
    limited to the default branch — never a repository secret, which a workflow any writer
    pushes to their own branch can read."""
    name = "org-reading token"
    limit = (
        f"limit it to {branch} (Settings → Environments → {ORG_TOKEN_ENVIRONMENT} → Deployment "
        f"branches and tags → Selected branches: {branch})"
    )
    checks: list[DoctorCheck] = []
    try:
        found = hub.environment_branches(ORG_TOKEN_ENVIRONMENT)
    except GitHubError as exc:
        found = None
        checks.append(
            DoctorCheck(
                Area.GITHUB, name, CheckStatus.WARNING,
                f"not checked: the Environment {ORG_TOKEN_ENVIRONMENT} could not be read "
                f"({_why(exc)})",
                'run doctor with a token that can read the repository ("Metadata: read")',
            )
        )  # fmt: skip
    else:
        if found is None:
            needed = CheckStatus.ERROR if teams else CheckStatus.WARNING
            why = (
                f"the policies name teams ({', '.join(teams)}), so the check needs {ORG_TOKEN}"
                if teams
                else "the check and review jobs name it"
            )
            checks.append(
                DoctorCheck(
                    Area.GITHUB, name, needed,
                    f"there is no Environment {ORG_TOKEN_ENVIRONMENT}: {why}, and GitHub "
                    "creates a missing Environment on first use with no branch limit",
                    f"create the Environment {ORG_TOKEN_ENVIRONMENT}, {limit}, and put "
                    f"{ORG_TOKEN} in it",
                )
            )  # fmt: skip
        elif found.any_branch or (not found.protected_only and set(found.branches) != {branch}):
            where = (
                "any branch"
                if found.any_branch or not found.branches
                else ", ".join(found.branches)
            )
            checks.append(
                DoctorCheck(
                    Area.GITHUB, name, CheckStatus.ERROR,
                    f"the Environment {ORG_TOKEN_ENVIRONMENT} hands its secrets to jobs of "
                    f"{where}: a writer's workflow on such a branch that names it reads "
                    f"{ORG_TOKEN}",
                    limit,
                )
            )  # fmt: skip
        else:
            limited = "protected branches" if found.protected_only else branch
            checks.append(
                DoctorCheck(
                    Area.GITHUB, name, CheckStatus.OK,
                    f"the Environment {ORG_TOKEN_ENVIRONMENT} is limited to {limited}",
                )
            )  # fmt: skip
    try:
        exposed = hub.has_repo_secret(ORG_TOKEN)
    except GitHubError as exc:
        checks.append(
            DoctorCheck(
                Area.GITHUB, name, CheckStatus.WARNING,
                f"not checked whether {ORG_TOKEN} is a repository secret ({_why(exc)})",
                'run doctor with a token that can read the repository\'s secrets ("Secrets: '
                'read")',
            )
        )  # fmt: skip
    else:
        if exposed:
            checks.append(
                DoctorCheck(
                    Area.GITHUB, name, CheckStatus.ERROR,
                    f"{ORG_TOKEN} is a repository secret: any workflow a writer pushes to a "
                    "branch of their own can read it",
                    f"delete it (Settings → Secrets and variables → Actions → Repository "
                    f"secrets) and keep it only in the Environments {ORG_TOKEN_ENVIRONMENT} "
                    "and jitops",
                )
            )  # fmt: skip
    return checks


def _auto_merge_check(allowed: bool | None) -> DoctorCheck:
    name = "auto-merge"
    if allowed:
        return DoctorCheck(Area.GITHUB, name, CheckStatus.OK, '"Allow auto-merge" is on')
    if allowed is None:
        return DoctorCheck(
            Area.GITHUB,
            name,
            CheckStatus.WARNING,
            'not checked: GitHub shows "Allow auto-merge" only to a token that can write the '
            "repository's contents",
            'run doctor with a token that has "Contents: read and write" to check it',
        )
    return DoctorCheck(
        Area.GITHUB,
        name,
        CheckStatus.WARNING,
        '"Allow auto-merge" is off: the sweep\'s revocation pull requests wait for someone to '
        "merge them (access is revoked anyway; its record in git waits)",
        f"turn it on: {AUTO_MERGE_SETTING}",
    )


def _protection_check(
    branch: str, classic: RequiredChecks | GitHubError, rulesets: RequiredChecks | GitHubError
) -> DoctorCheck:
    """Whether a merge into the default branch needs ``jitops/approval``.

    GitHub enforces classic branch protection and rulesets together, so either one requiring
    the check is enough. Only when both were read and neither requires it is it an error; a
    source that could not be read turns "no" into "not checked", never into a false error.
    """

    def line(status: CheckStatus, message: str, fix: str | None = None) -> DoctorCheck:
        return DoctorCheck(Area.GITHUB, f"{branch} protection", status, message, fix)

    if isinstance(classic, RequiredChecks) and classic.requires(STATUS_CONTEXT):
        return line(CheckStatus.OK, f"requires the {STATUS_CONTEXT} status check")
    if isinstance(rulesets, RequiredChecks) and rulesets.requires(STATUS_CONTEXT):
        unread = (
            f" (the branch protection of {branch} could not be read: {_why(classic)})"
            if isinstance(classic, GitHubError)
            else ""
        )
        return line(CheckStatus.OK, f"a ruleset requires the {STATUS_CONTEXT} status check{unread}")
    if isinstance(classic, GitHubError):
        # no ruleset requires it (or the rulesets could not be read either); protection might
        rulesets_say = (
            f"no ruleset requires the {STATUS_CONTEXT} status check, and "
            if isinstance(rulesets, RequiredChecks)
            else f"{rulesets.message}, and "
        )
        if classic.status in (403, 404):
            return line(
                CheckStatus.WARNING,
                f"not checked: {rulesets_say}the token cannot read the branch protection of "
                f"{branch} (HTTP {classic.status})",
                READ_PROTECTION,
            )
        return line(
            CheckStatus.WARNING, f"not checked: {rulesets_say}{classic.message}", "run doctor again"
        )
    classic_says = (
        f"the branch protection of {branch} does not require the {STATUS_CONTEXT} status check"
        if classic.protected
        else f"{branch} has no branch protection"
    )
    if isinstance(rulesets, GitHubError):
        return line(
            CheckStatus.WARNING,
            f"not checked: {classic_says}, and {rulesets.message}; unless a ruleset requires "
            f"{STATUS_CONTEXT}, a pull request can merge without jitops' approval",
            "run doctor again, with a token that can read the repository's rulesets",
        )
    what = (
        f"{classic_says}, nor does any ruleset"
        if classic.protected
        else f"{classic_says} and no ruleset requires the {STATUS_CONTEXT} status check"
    )
    return line(
        CheckStatus.ERROR,
        f"{what}, so a pull request can merge without jitops' approval",
        PROTECTION_SETTING.format(
            rule=f"edit the rule for {branch}"
            if classic.protected
            else f'"Add branch protection rule" for {branch}'
        ),
    )


def _reviews_check(
    branch: str,
    classic: RequiredChecks | GitHubError,
    rulesets: RequiredChecks | GitHubError,
    needed: int | None,
) -> DoctorCheck:
    """Whether GitHub itself holds a merge into ``branch`` to the reviews jitops asks for.

    apply refuses a grant or a policy change that lacks its approvals whatever GitHub allows,
    so this is defence in depth: with these settings GitHub blocks the merge too, and a forged
    status alone merges nothing. Both sources are enforced together, so they are combined.
    """
    name = f"{branch} reviews"
    read = [source for source in (classic, rulesets) if isinstance(source, RequiredChecks)]
    rules = ReviewRules()
    for source in read:
        rules = rules.combined(source.reviews)
    missing = []
    wanted = needed or 1
    if rules.approvals < wanted:
        missing.append(
            f"{rules.approvals} approving review(s) required where the PolicyChangeRule asks for "
            f"{wanted}"
        )
    for on, what in (
        (rules.code_owners, "review from code owners"),
        (rules.dismiss_stale, "dismissing stale approvals on push"),
        (rules.last_push, "approval of the most recent push"),
    ):
        if not on:
            missing.append(f"no {what}")
    if not missing:
        return DoctorCheck(
            Area.GITHUB,
            name,
            CheckStatus.OK,
            f"GitHub requires {rules.approvals} approving review(s), code-owner review, "
            "dismisses stale approvals and requires approval of the most recent push",
        )
    unread = "" if len(read) == 2 else " (not every source of branch rules could be read)"
    return DoctorCheck(
        Area.GITHUB,
        name,
        CheckStatus.WARNING,
        f"{'; '.join(missing)}{unread}: GitHub lets such a pull request merge, and only apply "
        "refuses it afterwards",
        f"in a ruleset (Settings → Rules → Rulesets) or the branch protection of {branch}: "
        f"require {wanted} approval(s), review from Code Owners, dismiss stale approvals when "
        "new commits are pushed, and approval of the most recent reviewable push",
    )


def _read_checks(
    read: Callable[[str], RequiredChecks], branch: str
) -> RequiredChecks | GitHubError:
    """One source's answer, or why it gave none (the other source may still settle it)."""
    try:
        return read(branch)
    except GitHubError as exc:
        return exc


def _why(error: GitHubError) -> str:
    return f"HTTP {error.status}" if error.status else error.message
