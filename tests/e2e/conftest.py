"""End-to-end fixtures: the real CLI in-process (fast) or as a subprocess (as users run it)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from jitops.cli import main


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    @property
    def output(self) -> str:
        return self.out + self.err


CLI = Callable[..., Run]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> CLI:
    """Run ``jitops ARGS`` in-process in ``cwd``; return exit code and output."""

    def run(*args: str, cwd: Path | None = None) -> Run:
        if cwd is not None:
            monkeypatch.chdir(cwd)
        capsys.readouterr()
        with pytest.raises(SystemExit) as info:
            main(list(args))
        captured = capsys.readouterr()
        code = info.value.code
        return Run(code if isinstance(code, int) else 1, captured.out, captured.err)

    return run


@pytest.fixture
def cli_process() -> CLI:
    """Run ``python -m jitops ARGS`` as a real process."""

    def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> Run:
        result = subprocess.run(
            [sys.executable, "-m", "jitops", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            env={**os.environ, **(env or {})},
            timeout=120,
        )
        return Run(result.returncode, result.stdout, result.stderr)

    return run
