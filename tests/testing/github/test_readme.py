"""The package README lists exactly the endpoints the server implements."""

from __future__ import annotations

import re
from pathlib import Path

import jitops.testing.github
from jitops.testing.github.server import all_routes


def test_readme_lists_every_endpoint() -> None:
    readme = Path(jitops.testing.github.__file__).with_name("README.md").read_text()
    listed = set(re.findall(r"^\| `([A-Z]+)` \| `([^`]+)` \|$", readme, re.MULTILINE))
    assert listed == {(r.method, r.template) for r in all_routes()}
