"""Example files under tests/examples/{valid,invalid}/, each validated in a real access repo.

Each file says where it goes (``# at: requests/<target>/<role>``, default
``requests/sandbox-db/readonly``) and, if invalid, what validate must say
(``# expect exit=N line=L: words``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e.conftest import CLI
from tests.gitrepo import make_access_repo

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NOW = "2026-11-23T12:00:00Z"
EXPECT = re.compile(rb"^# expect exit=(\d) line=(\d+): (.+)$", re.M)
AT = re.compile(rb"^# at: (\S+)$", re.M)


def place(repo: Path, example: Path) -> str:
    raw = example.read_bytes()
    at = AT.search(raw)
    folder = at.group(1).decode() if at else "requests/sandbox-db/readonly"
    relative = f"{folder}/{example.name}"
    (repo / folder).mkdir(parents=True, exist_ok=True)
    (repo / relative).write_bytes(raw)
    return relative


@pytest.mark.parametrize(
    "example", sorted((EXAMPLES / "valid").glob("*.yaml")), ids=lambda p: p.stem
)
def test_valid_example(example: Path, tmp_path: Path, cli: CLI) -> None:
    repo = make_access_repo(tmp_path / "repo")
    place(repo, example)
    result = cli("validate", "--repo", str(repo), "--now", NOW)
    assert result.code == 0, result.output
    assert "0 errors, 0 denied" in result.err


@pytest.mark.parametrize(
    "example", sorted((EXAMPLES / "invalid").glob("*.yaml")), ids=lambda p: p.stem
)
def test_invalid_example(example: Path, tmp_path: Path, cli: CLI) -> None:
    expect = EXPECT.search(example.read_bytes())
    assert expect, f"{example.name} lacks an '# expect exit=N line=L: words' line"
    code, line, words = int(expect.group(1)), int(expect.group(2)), expect.group(3).decode()
    repo = make_access_repo(tmp_path / "repo")
    relative = place(repo, example)
    result = cli("validate", "--repo", str(repo), "--now", NOW)
    assert result.code == code, result.output
    located = [row for row in result.out.splitlines() if row.startswith(f"{relative}:{line}:")]
    assert any(words in row for row in located), result.output
    assert "Traceback" not in result.output
