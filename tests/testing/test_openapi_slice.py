"""The vendored OpenAPI slice is exactly what ``scripts/extract_openapi.py`` makes from GitHub's
description (so nobody edits it by hand, and it covers every route the server has)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.testing.github.openapi import SLICE

ROOT = Path(__file__).resolve().parents[2]


def test_vendored_slice_is_up_to_date(shared_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "github.json"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "extract_openapi.py"),
            "--source",
            str(shared_dir / "github" / "api.github.com.json"),
            "--out",
            str(out),
        ],
        check=True,
    )
    assert out.read_text() == SLICE.read_text(), "run scripts/extract_openapi.py"
