"""The subcommands that change access: apply, sweep, reconcile; and index, the request-id index
apply keeps."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from jitops.cli._shared import (
    branch_option,
    echo_findings,
    echo_lines,
    fetch_evidence_notes,
    fetch_notes_option,
    now_option,
    repo_option,
    run_context,
    show_run,
)


@click.command()
@repo_option
@click.option(
    "--before", metavar="SHA", help="The branch before the push (default: from the event)."
)
@click.option("--after", metavar="REF", help="The branch after the push (default: HEAD).")
@click.option(
    "--dry-run", is_flag=True, help="Show what would be granted and revoked; touch nothing."
)
@now_option
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
    from jitops.report.comments import action_result_markdown, apply_comment, apply_markdown
    from jitops.report.text import apply_text

    options = options_from_actions(
        run_context(), root=root.resolve(), now=now or datetime.now(UTC), before=before,
        after=after, dry_run=dry_run, scheduled=scheduled, catch_up=catch_up,
    )  # fmt: skip
    job = run_apply_job(options, os.environ, push_notes=push_notes, comment=apply_comment,
        action_comment=action_result_markdown)  # fmt: skip
    show_run((), *apply_text(job), lambda: apply_markdown(job.report))
    sys.exit(job.exit_code)


@click.command()
@repo_option
@fetch_notes_option
@click.option("--dry-run", is_flag=True, help="List what has expired; revoke nothing.")
@branch_option
@now_option
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

    fetch_evidence_notes(root, fetch_notes)
    actions, when = run_context(), now or datetime.now(UTC)
    access = GitHubAccess.from_context(actions)
    sweeping = SweepOptions(root.resolve(), when, branch, dry_run, access)
    options = job_options_from_actions(actions, sweeping, open_pr=open_pr, record=record,
        base_branch=base_branch, warn_before=warn_before)  # fmt: skip
    job = run_sweep_job(options, os.environ, sweep_texts())
    show_run(job.report.findings, *sweep_text(job), lambda: sweep_job_summary(job))
    sys.exit(job.exit_code)


@click.command()
@repo_option
@fetch_notes_option
@click.option("--dry-run", is_flag=True, help="Report the drift; revoke nothing.")
@click.option("--target", "only_target", metavar="NAME", help="Only this target.")
@branch_option
@now_option
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
        fetch_evidence_notes(root)
    access = GitHubAccess.from_context(run_context())
    when = now or datetime.now(UTC)
    options = ReconcileOptions(root.resolve(), when, branch, dry_run, only_target, access)
    report = run_reconcile(options, os.environ)
    echo_findings(report.findings)
    echo_lines(*reconcile_text(report))
    sys.exit(report.exit_code)


@click.command()
@repo_option
@branch_option
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

    options = IndexOptions(root.resolve(), branch, rebuild, push, run_context().token)
    run = run_index(options, check=check)
    echo_findings(run.findings)
    echo_lines(*index_text(run))
    sys.exit(run.exit_code)
