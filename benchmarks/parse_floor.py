"""The floor ``jitops validate`` is measured against: read and parse every request file of a
repository with ruamel's C loader (libyaml), one process per usable core, and nothing else — no
models, no policies, no git. Prints how many files parsed to a mapping.

Run: ``python3 benchmarks/parse_floor.py REPO`` (``benchmarks/validate.py`` runs it beside
jitops). Not a test.
"""

from __future__ import annotations

import os
import sys
from multiprocessing import get_context
from pathlib import Path


def _parse(paths: list[str]) -> int:
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=False)  # the C loader
    mappings = 0
    for path in paths:
        with open(path, "rb") as file:
            mappings += isinstance(yaml.load(file.read()), dict)
    return mappings


def main(argv: list[str]) -> int:
    root = Path(argv[0]) / "requests"
    files = [
        os.path.join(folder, name)
        for folder, _, names in os.walk(root)
        for name in names
        if name.endswith((".yaml", ".yml"))
    ]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    shares = [files[i :: cores or 1] for i in range(cores or 1)]
    with get_context("fork").Pool(len(shares)) as pool:
        print(sum(pool.map(_parse, shares)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
