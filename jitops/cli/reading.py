"""The subcommands that read and check what is there: status, audit, doctor."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import click

from jitops.cli._shared import (
    TIMESTAMP,
    branch_option,
    echo_findings,
    echo_lines,
    repo_option,
    run_context,
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
    report = run_doctor(DoctorOptions(root, now, os.environ, offline, branch, last_sweep))
    if output_format == "json":
        click.echo(to_json(doctor_dict(report)))
    else:
        echo_lines(*doctor_output(report))
    sys.exit(report.exit_code)


@click.group(invoke_without_command=True)
@repo_option
@branch_option
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
@click.option(
    "--no-fetch-notes",
    "fetch_notes",
    is_flag=True,
    flag_value=False,
    default=True,
    help="Read only this clone's evidence notes; by default origin's are merged in first "
    "(a clone does not fetch them).",
)
@click.pass_context
def audit(
    ctx: click.Context, root: Path, branch: str, output_format: str, fetch_notes: bool
) -> None:
    """Who held which access when, approved by whom, under which policy — from git alone.

    Reads the branch's first-parent history of requests/ and the approval evidence that
    `jitops apply` records as git notes, merging origin's notes into this clone's first
    (a clone does not fetch them; without them, approvals read as unknown, never as
    missing). `jitops audit verify` lists grants that landed without evidence of a valid
    approval.
    """
    ctx.obj = AuditSource(root.resolve(), branch, fetch_notes, run_context().token)
    if ctx.invoked_subcommand is not None:
        return
    from jitops.commands.audit import audit as run_audit
    from jitops.report.json import audit_json, listing_json
    from jitops.report.text import audit_output

    source: AuditSource = ctx.obj
    report = run_audit(source.root, source.ref, fetch_notes=fetch_notes, token=source.token)
    if output_format == "json":
        click.echo(listing_json(audit_json(report)))
    else:
        echo_findings(report.findings)
        echo_lines(*audit_output(report))
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
def audit_verify(source: AuditSource, open_issue: bool) -> None:
    """Exit 1 listing every grant that landed without evidence of a valid approval.

    It also checks the request-id index (refs/jitops/ids, when there is one; fetch it with
    `git fetch origin refs/jitops/ids:refs/jitops/ids`) against history: an index that hides
    or invents ids is a finding too. A request apply refused that has since left the branch
    is history, shown as a warning: it never granted anything.
    """
    from jitops.commands.audit import report_on_github, verify
    from jitops.report.comments import audit_issue_texts
    from jitops.report.text import audit_verify_text, kept_issue_text

    verified = verify(source.root, source.ref, fetch_notes=source.fetch_notes, token=source.token)
    echo_findings(verified.findings)
    echo_lines([], audit_verify_text(verified))
    if open_issue:
        kept = report_on_github(verified, run_context(), datetime.now(UTC), audit_issue_texts())
        echo_lines([], kept_issue_text(kept))
    sys.exit(verified.exit_code)
