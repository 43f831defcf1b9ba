"""Workflow commands that GitHub cannot misread."""

from __future__ import annotations

from jitops.findings import Finding, Severity
from jitops.report import annotations as report


def test_an_annotation_escapes_what_would_end_or_split_the_workflow_command() -> None:
    finding = Finding(
        "requests/a,b:c.yaml", Severity.WARNING, "100% wrong\r\nnext::line", None, 2, None
    )
    line = report.github_annotation(finding)
    assert line == (
        "::warning file=requests/a%2Cb%3Ac.yaml,line=2,col=1,title=jitops warning"
        "::100%25 wrong%0D%0Anext::line"
    )
    assert "\n" not in line and "\r" not in line
    error = report.github_annotation(Finding("p.yaml", Severity.DENIED, "no"))
    assert error == "::error file=p.yaml,title=jitops denied::no"
