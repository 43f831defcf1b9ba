"""Rendering: every output jitops writes, one module per kind of output.

Commands return values that explain themselves; the CLI and the demo pick a renderer here.
Nothing here does I/O or decides anything, and no command imports this package.

- ``text``: what a person reads in a terminal (findings, decisions, tables, summaries);
- ``json``: the ``--format json`` objects, for machines;
- ``comments``: GitHub Markdown (pull-request comments and bodies, issues, job summaries);
- ``annotations``: GitHub Actions workflow commands that show findings on a diff;
- ``outputs``: what each subcommand prints, assembled from the above for the CLI.
"""
