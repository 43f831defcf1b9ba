"""The command-line interface: parse, call a command, render, exit. No logic lives here.

Exit codes are the same for every subcommand: 0 ok, 1 policy says no (or a check found
problems), 2 usage or malformed input, 3 system failure, 130 interrupted.
"""

from __future__ import annotations

import sys
import tempfile
import traceback
from collections.abc import Sequence
from typing import NoReturn

import click

from jitops import __version__
from jitops.cli import demo, files, granting, pull_requests, reading
from jitops.errors import ExitCode, JitopsError


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="jitops")
def cli() -> None:
    """Just-in-time, time-boxed access to sandbox environments through pull requests.

    An access repository holds policies/ (who may request which role on which target, for how
    long, approved by whom) and requests/ (one YAML file per grant). Start with
    `jitops validate` at its root.
    """


for _command in (
    files.validate,
    files.schema,
    files.codeowners,
    files.init,
    files.test_command,
    pull_requests.request,
    pull_requests.check_pr,
    granting.apply,
    granting.sweep,
    granting.reconcile,
    granting.index,
    reading.status,
    reading.doctor,
    reading.audit,
    demo.demo,
):
    cli.add_command(_command)


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
        from jitops.report.text import printable  # a remote's refusal is the remote's text

        click.echo(printable(f"jitops: {exc.message}"), err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("jitops: interrupted", err=True)
        sys.exit(ExitCode.INTERRUPTED)
    except SystemExit:
        raise
    except Exception as exc:
        _crash(exc)
    sys.exit(ExitCode.OK)
