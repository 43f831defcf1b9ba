"""GitHub Markdown: a request's pull-request texts."""

from __future__ import annotations

from jitops.report import comments as report
from tests.report.test_text import a_request


def test_a_pull_requests_texts_name_the_request_and_its_window() -> None:
    request = a_request(duration="2h")
    assert report.pull_title(request) == "Access request: @alice reader on db (2h from merge)"
    message = report.commit_message(request)
    assert message.startswith("Request reader on db for @alice (2h from merge)\n\n")
    assert message.endswith("Request-Id: db-1\n")
