"""The subcommands of a pull request: request (write it, or open it), check-pr (judge it)."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import click

from jitops.cli._shared import (
    TIMESTAMP,
    echo_lines,
    now_option,
    repo_option,
    run_context,
    show_run,
)


@click.command()
@click.argument("target")
@click.argument("role", metavar="ROLE|ACTION")
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
@click.option(
    "--sql-file",
    type=click.File("r", encoding="utf-8"),
    help="An action request: the SQL action's statements, exactly as they will run (- for "
    "standard input).",
)
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    help="An action request: a command action's parameter (repeat it; a value that reads as "
    "JSON is that, e.g. --param count=3).",
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
    sql_file: TextIO | None,
    params: tuple[str, ...],
    dry_run: bool,
    now: datetime | None,
) -> None:
    """Ask for ROLE on TARGET (or for an ACTION to be performed): write the request file, or
    open its pull request.

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

    With --sql-file or --param it asks for an ACTION its policy offers on TARGET instead, to
    be performed once on merge: the file is actions/TARGET/ACTION/ID.yaml, holding the
    statements or the parameters, judged offline (statement kinds by PostgreSQL's parser).
    With --open-pr its branch is jitops/action/ID. Actions have no window.

    \b
      jitops request sandbox-db fix-order-state --sql-file fix.sql --ticket INC-4211 \\
          --why "Order 1002 is stuck in payment" --open-pr

    \b
    Prints the file (--dry-run), its path, or the pull request's URL; the rest on stderr.
    Exit status: 0 written or opened; 1 refused by policy, or an id used before;
    2 bad input; 3 git or GitHub failed.
    """
    from jitops.commands import request as ask_for
    from jitops.report.comments import pull_texts
    from jitops.report.text import request_output

    login = ask_for.requester_login(requester, run_context())
    pull = ask_for.pull_target(run_context(), github_repo, open_pr)
    if sql_file is not None or params:
        action = ask_for.action_ask(target, role, why, login, ticket, sql_file, params, request_id)
        _request_action(action, root, now, (duration, until, starts_at), pull, dry_run)
    ask = ask_for.Ask(target, role, why, login, ticket, duration, until, starts_at, request_id)
    options = ask_for.RequestOptions(root.resolve(), ask, now or datetime.now(UTC), dry_run, pull)
    outcome = ask_for.run_request(options, pull_texts())
    echo_lines(*request_output(outcome))
    sys.exit(outcome.exit_code)


@click.command("check-pr")
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
@now_option
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

    options = options_from_actions(run_context(), repository=repository, number=number,
        base_checkout=base_checkout.resolve(), now=now or datetime.now(UTC), post=post,
        environ=os.environ)  # fmt: skip
    outcome = check_pull_request(options, gate_markdown)
    show_run(outcome.result.findings, *check_pr_text(outcome), None)  # annotated on the diff
    sys.exit(outcome.exit_code)


def _request_action(
    action: Any, root: Path, now: datetime | None, window: tuple[object, ...], pull: Any,
    dry_run: bool,
) -> None:  # fmt: skip
    """``jitops request`` for an action request: call, render, exit with its code."""
    from jitops.commands import request as ask_for
    from jitops.report.comments import action_pull_texts
    from jitops.report.text import action_request_output

    texts = action_pull_texts()
    done = ask_for.run_action_ask(action, root.resolve(), now, window, pull, dry_run, texts)
    echo_lines(*action_request_output(done), exact_out=True)  # the file, byte for byte
    sys.exit(done.exit_code)
