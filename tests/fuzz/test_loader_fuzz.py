"""No file, however hostile, makes the loader or the request parser raise anything but
``InputError``, or return anything but a mapping or findings."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jitops.repo import POLICY_MODELS, REQUEST_MODELS, parse
from tests.fuzz.grammar import SEEDS, documents, hostile_bytes
from tests.fuzz.oracle import PATH, check_load

# Modest by default, so the suite stays fast; JITOPS_FUZZ_EXAMPLES=20000 for a long search.
EXAMPLES = int(os.environ.get("JITOPS_FUZZ_EXAMPLES", "100"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(hostile_bytes)
def test_the_loader_refuses_or_reads_any_bytes(raw: bytes) -> None:
    check_load(raw)


@FUZZ
@given(documents)
def test_the_loader_refuses_or_reads_any_grammar_document(text: str) -> None:
    check_load(text.encode("utf-8", "surrogatepass"))


@FUZZ
@given(st.text(max_size=300))
def test_the_loader_refuses_or_reads_any_text(text: str) -> None:
    check_load(text.encode())


@pytest.mark.parametrize(
    ("models", "where"), [(REQUEST_MODELS, "requests/"), (POLICY_MODELS, "policies/")]
)
@FUZZ
@given(
    st.one_of(
        hostile_bytes,
        # documents that look like the files they stand for, so the models see them
        st.tuples(st.sampled_from([b"AccessRequest", b"Policy", b"Target"]), documents).map(
            lambda kind_text: (
                b"apiVersion: jitops/v1\nkind: "
                + kind_text[0]
                + b"\n"
                + kind_text[1].encode("utf-8", "surrogatepass")
            )
        ),
    )
)
def test_a_file_parses_or_gets_findings_never_a_crash(
    models: dict[str, type], where: str, raw: bytes
) -> None:
    document, model, findings = parse(raw, PATH, models, where)
    assert (model is None) == bool(findings)
    for finding in findings:
        assert finding.path == PATH and finding.message


def test_the_seed_corpus_is_not_empty() -> None:
    assert len(SEEDS) >= 10
