"""The outputs a subcommand offers in several formats (``--format``), each picked here so that
the CLI calls one renderer and the format modules need not know one another."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from jitops.report.comments import review_markdown
from jitops.report.csv import action_csv, audit_csv, review_csv
from jitops.report.html import audit_html
from jitops.report.json import audit_json, listing_json
from jitops.report.text import audit_counts, audit_output

if TYPE_CHECKING:
    from jitops.access_review import AccessReview
    from jitops.audit_records import AuditReport


def audit_rendered(
    report: AuditReport, output_format: str, generated: datetime
) -> tuple[str, list[str]]:
    """``jitops audit`` in ``output_format`` (text, json, csv or html, the page saying it was
    generated at ``generated``): (stdout, its whole text; the lines for stderr: how many
    grants, how many without evidence). CSV holds one kind of row: grants, or with
    ``--actions`` action requests."""
    counts = audit_counts(report)  # the table itself only for text: it is costly
    if output_format == "html":
        return audit_html(report, generated), counts
    if output_format == "json":
        return listing_json(audit_json(report)) + "\n", counts
    if output_format == "csv":
        only_actions = report.query is not None and report.query.only_actions
        return (action_csv(report) if only_actions else audit_csv(report)), counts
    table_lines, _ = audit_output(report)
    return "".join(f"{line}\n" for line in table_lines), counts


def review_rendered(access_review: AccessReview, output_format: str) -> str:
    """``jitops audit review`` in ``output_format``: a Markdown checklist, or CSV."""
    if output_format == "csv":
        return review_csv(access_review)
    return review_markdown(access_review)
