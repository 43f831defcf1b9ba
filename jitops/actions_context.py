"""The GitHub Actions settings a run of jitops reads, read in one place.

Actions hands a job its token, repository, API URL, event and step summary through the
environment; a person sets the same variables by hand (``GH_TOKEN`` is what the ``gh`` CLI
uses, so it is honoured wherever ``GITHUB_TOKEN`` is). The CLI reads them once, with
``from_environ``, and every command takes what it needs from the result. Targets' secrets are
not here: provisioners read those from the environment by the names the policies give.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jitops.errors import UsageError

DEFAULT_API_URL = "https://api.github.com"


@dataclass(frozen=True)
class ActionsContext:
    token: str | None = None  # GITHUB_TOKEN, else GH_TOKEN
    repository: str | None = None  # OWNER/NAME
    api_url: str = DEFAULT_API_URL
    server_url: str | None = None  # https://github.com, or a GitHub Enterprise host
    event_name: str | None = None
    event_path: Path | None = None
    step_summary: Path | None = None
    run_id: str | None = None
    actor: str | None = None
    in_actions: bool = False  # running as a GitHub Actions job (GITHUB_ACTIONS=true)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> ActionsContext:
        def given(name: str) -> str | None:
            return environ.get(name) or None  # set but empty is not set

        event_path, summary = given("GITHUB_EVENT_PATH"), given("GITHUB_STEP_SUMMARY")
        return cls(
            token=given("GITHUB_TOKEN") or given("GH_TOKEN"),
            repository=given("GITHUB_REPOSITORY"),
            api_url=given("GITHUB_API_URL") or DEFAULT_API_URL,
            server_url=given("GITHUB_SERVER_URL"),
            event_name=given("GITHUB_EVENT_NAME"),
            event_path=Path(event_path) if event_path else None,
            step_summary=Path(summary) if summary else None,
            run_id=given("GITHUB_RUN_ID"),
            actor=given("GITHUB_ACTOR"),
            in_actions=environ.get("GITHUB_ACTIONS") == "true",
        )

    @property
    def run_url(self) -> str | None:
        """The page of this workflow run, for a status's link."""
        if not (self.server_url and self.repository and self.run_id):
            return None
        return f"{self.server_url}/{self.repository}/actions/runs/{self.run_id}"

    def needs_api(self, what: str) -> tuple[str, str]:
        """(token, repository), or a usage error saying that ``what`` needs them."""
        if not self.token or not self.repository:
            raise UsageError(
                f"{what} needs GITHUB_TOKEN (or GH_TOKEN) and GITHUB_REPOSITORY — Actions sets "
                "them; by hand: GITHUB_TOKEN=$(gh auth token) GITHUB_REPOSITORY=OWNER/NAME"
            )
        return self.token, self.repository

    def event(self) -> dict[str, Any] | None:
        """The event payload Actions wrote for this run (None outside Actions)."""
        if self.event_path is None:
            return None
        try:
            payload = json.loads(self.event_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UsageError(f"{self.event_path}: cannot read the event payload: {exc}") from None
        return payload if isinstance(payload, dict) else None
