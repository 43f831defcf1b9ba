"""Vendor the slice of GitHub's OpenAPI description that the test server's tests need.

Reads ``../shared/github/api.github.com.json`` and writes ``tests/testing/openapi/github.json``:
the operations of every route ``jitops.testing.github`` implements, the webhook payload schemas
of the events it produces, and every component they reference (refs kept, not inlined).

    python3 scripts/extract_openapi.py [--source PATH] [--out PATH]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from jitops.testing.github.server import all_routes  # noqa: E402

WEBHOOKS = (
    "pull-request-opened",
    "pull-request-synchronize",
    "pull-request-closed",
    "pull-request-reopened",
    "pull-request-review-submitted",
    "pull-request-review-dismissed",
    "push",
)


def _refs(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            found.add(ref)
        for value in node.values():
            found |= _refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= _refs(value)
    return found


def _drop_examples(node: Any) -> Any:
    """``node`` without ``examples`` (sample bodies the validator does not need)."""
    if isinstance(node, dict):
        return {k: _drop_examples(v) for k, v in node.items() if k != "examples"}
    if isinstance(node, list):
        return [_drop_examples(v) for v in node]
    return node


def extract(spec: dict[str, Any]) -> dict[str, Any]:
    """The slice of ``spec`` the server's routes and events need."""
    paths: dict[str, Any] = {}
    for route in all_routes():
        operation = spec["paths"][route.template][route.method.lower()]
        keep = ("operationId", "parameters", "responses")
        slim = _drop_examples({k: operation[k] for k in keep if k in operation})
        paths.setdefault(route.template, {})[route.method.lower()] = slim
    webhooks = {name: _drop_examples(spec["x-webhooks"][name]) for name in WEBHOOKS}
    components: dict[str, dict[str, Any]] = {}
    # Tests check every error body against basic-error, documented or not.
    pending = _refs(paths) | _refs(webhooks) | {"#/components/schemas/basic-error"}
    seen: set[str] = set()
    while pending:
        ref = pending.pop()
        if ref in seen:
            continue
        seen.add(ref)
        _, _, kind, name = ref.split("/", 3)
        value = _drop_examples(spec["components"][kind][name])
        components.setdefault(kind, {})[name] = value
        pending |= _refs(value) - seen
    for kind in components:
        components[kind] = dict(sorted(components[kind].items()))
    return {
        "openapi": spec["openapi"],
        "info": spec["info"],
        "paths": dict(sorted(paths.items())),
        "x-webhooks": webhooks,
        "components": dict(sorted(components.items())),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--source", type=Path, default=ROOT.parent / "shared" / "github" / "api.github.com.json"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "tests/testing/openapi/github.json")
    args = parser.parse_args(argv)
    spec = json.loads(args.source.read_text())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(extract(spec), indent=1, sort_keys=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
