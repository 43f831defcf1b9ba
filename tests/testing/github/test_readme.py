"""The package README lists exactly the endpoints the server implements, and its example runs."""

from __future__ import annotations

import re
from pathlib import Path

import jitops.testing.github
from jitops.testing.github.server import all_routes

README = Path(jitops.testing.github.__file__).with_name("README.md").read_text()


def test_readme_lists_every_endpoint() -> None:
    listed = set(re.findall(r"^\| `([A-Z]+)` \| `([^`]+)` \|$", README, re.MULTILINE))
    assert listed == {(r.method, r.template) for r in all_routes()}


def test_readme_example_runs() -> None:
    example = re.search(r"```python\n(.*?)```", README, re.DOTALL)
    assert example is not None
    namespace: dict[str, object] = {}
    exec(compile(example.group(1), "README.md", "exec"), namespace)  # noqa: S102
    assert namespace["reviews"]  # the example ends with a PyGithub round trip
