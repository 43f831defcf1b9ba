"""The command-line interface: parse, call a command, render, exit. No logic lives here."""

from __future__ import annotations

import click

from jitops import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="jitops")
def cli() -> None:
    """Just-in-time, time-boxed access to sandbox environments through pull requests."""


def main() -> None:
    cli()
