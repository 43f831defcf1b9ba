"""The ``--format json`` encoders: a listing is the same JSON as the indented document, one
record to a line."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from jitops.report.json import listing_json, to_json

scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=20)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)


@given(st.dictionaries(st.text(max_size=10), values, max_size=6))
def test_a_listing_is_the_same_json_as_the_indented_document(payload: dict[str, Any]) -> None:
    assert json.loads(listing_json(payload)) == json.loads(to_json(payload)) == payload


def test_each_record_of_a_listing_is_one_line_and_the_rest_indented() -> None:
    payload = {
        "commit": "abc",
        "grants": [{"id": "a-1", "approvers": ["bob"]}, {"id": "b-2\nline", "approvers": []}],
        "none": [],
        "counts": {"total": 2},
    }
    lines = listing_json(payload).splitlines()
    assert lines[0] == "{" and lines[-1] == "}"
    assert lines[1] == '  "commit": "abc",'
    assert lines[2:6] == [
        '  "grants": [',
        '    {"id": "a-1", "approvers": ["bob"]},',
        '    {"id": "b-2\\nline", "approvers": []}',
        "  ],",
    ]
    assert lines[6] == '  "none": [],'
    assert lines[7:] == ['  "counts": {', '    "total": 2', "  }", "}"]
