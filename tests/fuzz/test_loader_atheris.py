"""The atheris harness runs, time-bounded, from the seed corpus, and finds nothing."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from tests.gitrepo import PROJECT


@pytest.mark.skipif(
    importlib.util.find_spec("atheris") is None,
    reason="atheris is not installed (it builds only where libFuzzer's clang is at hand)",
)
def test_the_harness_fuzzes_the_loader_for_a_bounded_time(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tests.fuzz.loader_atheris", "--seconds", "3"]
        # jitops alone: instrumenting ruamel too would double the test's time
        + ["--instrument", "jitops", "--artifacts", str(tmp_path)],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    # it read the seeds, ran for the time given, and left no failing input behind
    assert "INITED" in done.stderr and "Done" in done.stderr, done.stderr[-3000:]
    assert not list(tmp_path.iterdir())


def test_the_harness_says_so_when_atheris_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.fuzz import loader_atheris

    monkeypatch.setitem(sys.modules, "atheris", None)  # makes `import atheris` fail
    assert loader_atheris.main(["--seconds", "1"]) == 2
