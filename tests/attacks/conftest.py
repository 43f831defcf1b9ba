"""The attack suite's fixtures: the end-to-end ones of tests/e2e/conftest.py, reused as they
are (one definition each)."""

from __future__ import annotations

from tests.e2e.conftest import cli, cli_process, legacy, world

__all__ = ["cli", "cli_process", "legacy", "world"]
