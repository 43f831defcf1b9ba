"""GitHub Actions workflow commands (``::error file=…::message``): findings on the diff."""

from __future__ import annotations

from jitops.findings import Finding, Severity


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def github_annotation(finding: Finding) -> str:
    """A workflow command that shows the finding on the pull request's diff."""
    level = "warning" if finding.severity is Severity.WARNING else "error"
    props = [f"file={_escape_property(finding.path)}"]
    if finding.line is not None:
        props.append(f"line={finding.line}")
        props.append(f"col={finding.column or 1}")
    props.append(f"title={_escape_property('jitops ' + finding.severity.value)}")
    return f"::{level} {','.join(props)}::{_escape_data(finding.text)}"
