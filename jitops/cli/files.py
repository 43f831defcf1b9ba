"""The subcommands about the repository's files, offline: validate, schema, codeowners, init,
test."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from jitops.cli._shared import (
    TIMESTAMP,
    echo_findings,
    echo_lines,
    repo_option,
)


@click.command()
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
    from jitops.report.json import listing_json, validate_json
    from jitops.report.text import validate_summary

    root = root.resolve()
    relative = tuple(_relative(root, p) for p in paths)
    result = run_validate(ValidateOptions(root, now or datetime.now(UTC), base, relative))
    if output_format == "json":
        click.echo(listing_json(validate_json(result)))
    else:
        echo_findings(result.findings)
        click.echo(validate_summary(result), err=True)
    sys.exit(result.exit_code)


def _relative(root: Path, path: Path) -> str:
    resolved = path.resolve() if path.is_absolute() else (Path.cwd() / path).resolve()
    try:
        return resolved.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


@click.command()
@click.argument(
    "kind",
    required=False,
    type=click.Choice(
        [
            "request",
            "policy",
            "target",
            "policy-change-rule",
            "policy-test",
            "notify",
            "action-request",
            "audit",
        ]
    ),
)
@repo_option
@click.option(
    "--write",
    is_flag=True,
    help="Write every kind's schema into the repository's .jitops/schema/, where the first "
    "line of each request file jitops writes points editors.",
)
def schema(kind: str | None, root: Path, write: bool) -> None:
    """Print the JSON Schema of jitops' files (all kinds, or one KIND), or of `audit`, the
    document `jitops audit --format json` writes.

    Generated from the same models jitops validates with. `jitops schema --write` puts them in
    the repository (commit them): request files that `jitops request` writes start with
    `# yaml-language-server: $schema=…` pointing there, so VS Code's YAML extension (and
    every editor with the YAML language server) completes and checks them as you type.
    """
    from jitops.commands.schema import schema as build_schema
    from jitops.commands.schema import write_schemas
    from jitops.report.json import to_json

    if not write:
        click.echo(to_json(build_schema(kind)))
        return
    for path in write_schemas(root.resolve()):
        click.echo(f"wrote {path}", err=True)


@click.command()
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
        echo_findings(result.findings)
        click.echo("jitops: the policies have errors; no CODEOWNERS rendered", err=True)
        sys.exit(result.exit_code)
    if result.written is not None:
        click.echo(f"wrote {result.written}", err=True)
    else:
        click.echo(result.text, nl=False)


@click.command()
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
@click.option(
    "--action",
    metavar="OWNER/NAME@COMMIT",
    help="The jitops action the workflows run: jitops' repository on GitHub and a full commit "
    "SHA (default: the commit this jitops was installed from).",
)
@click.option(
    "--release",
    is_flag=True,
    help="Install this jitops release from the package index in the workflows instead of "
    "using the action (once it is published there).",
)
@click.option("--force", is_flag=True, help="Replace workflows and CODEOWNERS that differ.")
@click.option("--dry-run", is_flag=True, help="Show what would be written; write nothing.")
def init(
    directory: Path,
    org: str | None,
    security_team: str | None,
    default_branch: str | None,
    action: str | None,
    release: bool,
    force: bool,
    dry_run: bool,
) -> None:
    """Set up an access repository in DIR (default: here), new or existing.

    Writes the five jitops workflows, a starter policies/ with its tests (only into a
    policies/ holding no YAML yet: policies already there are kept, and the rest is rendered
    from them), requests/, and .github/CODEOWNERS rendered from the policies; creates the git
    repository if there is none. Then prints the next steps on GitHub.

    The workflows run jitops through the action at the root of jitops' repository, pinned to
    a commit (uses: OWNER/jitops@COMMIT), which installs jitops from that commit: the commit
    this jitops was installed from (pip install git+https://github.com/OWNER/jitops, or a
    clone's pushed HEAD), or the one --action names. With --release, or when this jitops came
    from a package index, they pip-install this release instead, pinned exactly.

    \b
      jitops init access --org acme --security-team @acme/security
      jitops init access --org acme --action acme/jitops@0123456789abcdef0123456789abcdef01234567
      cd access && jitops validate && jitops test && jitops doctor --offline

    Reruns are safe: identical files are unchanged, and a file that differs is kept unless
    --force (policies/ is never replaced, not even then). --dry-run writes nothing.

    \b
    Exit status: 0 done; 2 bad input (nothing written); 3 writing failed (undone).
    """
    from jitops.commands.init import InitOptions, run_init
    from jitops.report.text import init_output

    options = InitOptions(
        directory,
        org,
        security_team,
        default_branch,
        force,
        dry_run,
        action=action,
        release=release,
    )
    echo_lines(*init_output(run_init(options)))


@click.command("test")
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
    echo_findings(run.findings)
    echo_lines(*policy_tests_text(run, verbose))
    sys.exit(run.exit_code)
