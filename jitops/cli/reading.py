"""The subcommands that read and check what is there: status, audit, doctor."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from jitops.cli._shared import (
    DAY_OR_TIMESTAMP,
    TIMESTAMP,
    branch_option,
    echo_findings,
    echo_lines,
    repo_option,
    run_context,
    say_progress,
)


@dataclass(frozen=True)
class AuditSource:
    """What ``jitops audit`` and its subcommands read: the repository, the branch, whether
    origin's evidence notes are merged in first, and the token to fetch them with."""

    root: Path
    ref: str
    fetch_notes: bool
    token: str | None


@click.command()
@repo_option
@click.option(
    "--at",
    type=TIMESTAMP,
    default=None,
    help="A past moment: who had access then, read from the branch as it was (audit).",
)
@branch_option
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
    from jitops.report.json import listing_json, status_json
    from jitops.report.text import status_text

    moment, historical = at or datetime.now(UTC), at is not None
    report = run_status(StatusOptions(root.resolve(), moment, branch, historical))
    if output_format == "json":
        click.echo(listing_json(status_json(report, show_all)))
    else:
        echo_findings(report.findings)
        out, summary = status_text(report, show_all)
        echo_lines(out, [summary])
    sys.exit(report.exit_code)


@click.command()
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
    options = DoctorOptions(root, now, os.environ, offline, branch, last_sweep)
    report = run_doctor(replace(options, progress=say_progress))
    if output_format == "json":
        click.echo(to_json(doctor_dict(report)))
    else:
        echo_lines(*doctor_output(report))
    sys.exit(report.exit_code)


def _audit_filters(function: Any) -> Any:
    """The options that narrow ``jitops audit``'s listing; they combine."""
    options = [
        click.option(
            "--user", "users", multiple=True, metavar="LOGIN", help="Grants held by LOGIN."
        ),
        click.option("--target", "targets", multiple=True, help="Grants on this target."),
        click.option("--role", "roles", multiple=True, help="Grants of this role."),
        click.option(
            "--approver", "approvers", multiple=True, metavar="LOGIN", help="Grants LOGIN approved."
        ),
        click.option(
            "--since",
            type=DAY_OR_TIMESTAMP,
            help="Grants whose access lasted past this moment (a date is its 00:00 UTC).",
        ),
        click.option(
            "--until", type=DAY_OR_TIMESTAMP, help="Grants whose access began before this moment."
        ),
        click.option(
            "--active-at",
            type=DAY_OR_TIMESTAMP,
            help="Grants whose access was open at this moment (as `jitops status --at` shows).",
        ),
        click.option(
            "--actions",
            "only_actions",
            is_flag=True,
            help="Action requests alone: who asked for which action, who approved it, what "
            "became of it (the only way to get them as CSV). --user, --target, --approver, "
            "--since and --until narrow them too.",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


@click.group(invoke_without_command=True)
@repo_option
@branch_option
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "csv", "html"]),
    default="text",
    help="text: tables; json: one object per grant and per action request; csv: one row per "
    "grant (RFC 4180), or per action request with --actions; "
    "html: one self-contained page with a timeline (e.g. `--format html > audit.html`).",
)
@click.option(
    "--no-fetch-notes",
    "fetch_notes",
    is_flag=True,
    flag_value=False,
    default=True,
    help="Read only this clone's evidence notes; by default origin's are merged in first "
    "(a clone does not fetch them).",
)
@_audit_filters
@click.pass_context
def audit(
    ctx: click.Context,
    /,
    root: Path,
    branch: str,
    output_format: str,
    fetch_notes: bool,
    **filters: Any,
) -> None:
    """Who held which access when, approved by whom, under which policy — from git alone.

    Reads the branch's first-parent history of requests/ and the approval evidence that
    `jitops apply` records as git notes, merging origin's notes into this clone's first
    (a clone does not fetch them; without them, approvals read as unknown, never as
    missing). The filters narrow the listing and combine, e.g. `jitops audit --user alice
    --since 2026-11-01 --until 2026-12-01 --format csv`. `jitops audit verify` lists grants
    that landed without evidence of a valid approval.
    """
    from jitops.commands.audit import AuditQuery, audit_listing
    from jitops.report.formats import audit_rendered

    source = AuditSource(root.resolve(), branch, fetch_notes, run_context().token)
    ctx.obj = (source, AuditQuery.of(**filters))
    if ctx.invoked_subcommand is not None:
        return
    report = audit_listing(source.root, source.ref, ctx.obj[1], fetch_notes, source.token)
    echo_findings(report.findings, err=output_format != "text")
    out, counts = audit_rendered(report, output_format, datetime.now(UTC))
    click.echo(out, nl=False)
    echo_lines([], counts)
    sys.exit(report.exit_code)


@audit.command("verify")
@click.option(
    "--open-issue",
    is_flag=True,
    help="Keep one issue (label jitops:audit) open listing the problems, up to date, and "
    "close it when there are none (GITHUB_TOKEN, GITHUB_REPOSITORY); the sweep workflow "
    "passes it.",
)
@click.pass_obj
def audit_verify(obj: tuple[AuditSource, Any], open_issue: bool) -> None:
    """Exit 1 listing every grant that landed without evidence of a valid approval.

    It also checks the request-id index (refs/jitops/ids, when there is one; fetch it with
    `git fetch origin refs/jitops/ids:refs/jitops/ids`) against history: an index that hides
    or invents ids is a finding too. A request apply refused that has since left the branch
    is history, shown as a warning: it never granted anything.
    """
    from jitops.commands.audit import run_verify_job
    from jitops.report.comments import audit_issue_texts
    from jitops.report.text import audit_verify_job_text

    source, query = obj
    job = run_verify_job(source.root, source.ref, query, fetch_notes=source.fetch_notes,
        token=source.token, open_issue=open_issue, actions=run_context(),
        now=datetime.now(UTC), environ=os.environ, texts=audit_issue_texts())  # fmt: skip
    echo_findings(job.verified.findings)
    echo_lines([], audit_verify_job_text(job))
    sys.exit(job.exit_code)


@audit.command("review")
@click.option(
    "--by",
    type=click.Choice(["approver", "team"]),
    default="approver",
    show_default=True,
    help="Group the grants by the person who approved them, or by the team they were counted for.",
)
@click.option(
    "--at",
    type=DAY_OR_TIMESTAMP,
    default=None,
    help="What 'still active' means: active at this moment (default: now).",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["markdown", "csv"]),
    default="markdown",
    show_default=True,
    help="markdown: a checklist for an issue; csv: one row per owner and grant.",
)
@click.pass_obj
def audit_review(
    obj: tuple[AuditSource, Any], by: str, at: datetime | None, output_format: str
) -> None:
    """An access review: per approver (or team), the grants they approved in the period the
    filters give, and those still active, as a checklist to ask the owners to confirm.

    E.g. `jitops audit --since 2026-10-01 --until 2027-01-01 review --by team > review.md`.
    Auto-approved grants form a group of their own (the policies' owners confirm them);
    grants without valid evidence are `jitops audit verify`'s to report.
    """
    from jitops.commands.audit import ReviewBy, review_listing
    from jitops.report.formats import review_rendered

    source, query = obj
    access_review = review_listing(source, query, ReviewBy(by), at or datetime.now(UTC))
    echo_findings(access_review.report.findings, err=True)
    click.echo(review_rendered(access_review, output_format), nl=False)
    sys.exit(access_review.report.exit_code)
