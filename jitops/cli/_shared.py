"""What every subcommand's parsing and printing shares: the timestamp type, the common
options, printing findings and lines, the job summary, and this run's Actions settings."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from jitops.actions_context import ActionsContext
from jitops.findings import Finding


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


class DayOrTimestamp(Timestamp):
    """A timestamp as ``Timestamp``, or a date alone, which is its 00:00 UTC."""

    name = "DATE|TIMESTAMP"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, str) and len(value) == 10:
            try:
                return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
            except ValueError:
                self.fail(f"{value!r} is not a date; write e.g. 2026-11-24", param, ctx)
        return super().convert(value, param, ctx)


DAY_OR_TIMESTAMP = DayOrTimestamp()


def _access_root(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path:
    """``--repo`` as given; left out, the access repository this directory is in: the nearest
    folder up from here that holds ``policies/`` (so a command run in ``requests/x/`` reads
    the same repository as one run at its root), else the current directory."""
    if value is not None:
        return value
    here = Path.cwd()
    for folder in (here, *here.parents):
        if (folder / "policies").is_dir():
            return folder
        if (folder / ".git").exists():  # the repository's top: no access repository above
            break
    return Path(".")


repo_option = click.option(
    "--repo",
    "root",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    show_default="the access repository this directory is in",
    callback=_access_root,
    help="Root of the access repository (the folder holding policies/ and requests/).",
)
branch_option = click.option(
    "--branch", default="HEAD", show_default=True, help="The branch that grants."
)
now_option = click.option(
    "--now", type=TIMESTAMP, default=None, help="Judge windows as of this time."
)


def echo_findings(findings: Sequence[Finding], *, err: bool = False) -> None:
    """Print ``findings``, one line each (on stderr with ``err``: stdout carries a document)."""
    from jitops.report.annotations import github_annotation
    from jitops.report.text import finding_line

    for finding in findings:
        click.echo(finding_line(finding), err=err)
    if run_context().in_actions:
        for finding in findings:
            click.echo(github_annotation(finding))


def say_progress(text: str) -> None:
    """A line on stderr about long work under way, so a slow step is never silent."""
    click.echo(f"jitops: {text}", err=True)


def echo_lines(out: Sequence[str], err: Sequence[str], *, exact_out: bool = False) -> None:
    """Print a renderer's (stdout, stderr) lines, each :func:`printable` (a terminal reads
    them) — stdout as it is with ``exact_out``: a file jitops wrote itself, which a script
    may save, and whose writer never writes a control character."""
    from jitops.report.text import printable

    for line in out:
        click.echo(line if exact_out else printable(line))
    for line in err:
        click.echo(printable(line), err=True)


def show_run(
    findings: Sequence[Finding],
    out: Sequence[str],
    err: Sequence[str],
    summary: Callable[[], str | None] | None,
) -> None:
    """Print a run's findings, then its renderer's stdout lines; add what ``summary`` renders
    to the job summary under Actions (rendered only there: a sweep's is one line per grant);
    then its stderr lines."""
    echo_findings(findings)
    echo_lines(out, [])
    append_summary(summary)
    echo_lines([], err)


def run_context() -> ActionsContext:
    """The GitHub Actions settings of this run (its environment), read in one place."""
    return ActionsContext.from_environ(os.environ)


def append_summary(render: Callable[[], str | None] | None) -> None:
    """Add what ``render`` gives to the job summary under GitHub Actions
    ($GITHUB_STEP_SUMMARY); elsewhere it is not even rendered."""
    path = run_context().step_summary
    markdown = render() if path and render is not None else None
    if path and markdown:
        with open(path, "a", encoding="utf-8") as summary:
            summary.write(markdown)


def fetch_notes_option(function: Any) -> Any:
    """``--fetch-notes``: first merge the remote's evidence notes into this clone (a workflow's
    checkout has none), so what apply verified is known."""
    return click.option(
        "--fetch-notes",
        is_flag=True,
        help="First fetch apply's evidence notes (refs/notes/jitops) from origin, as a "
        "fresh checkout lacks them; the workflows pass it.",
    )(function)


def fetch_evidence_notes(root: Path, wanted: bool = True) -> None:
    from jitops import git

    if wanted and not git.pull_notes(root, token=run_context().token):
        click.echo("jitops: origin has no evidence notes yet", err=True)
