"""The commit status jitops posts: its verdict on a pull request's head commit."""

from __future__ import annotations

from typing import Any

from jitops.github.client import GitHubBase

STATUS_CONTEXT = "jitops/approval"


class StatusesMixin(GitHubBase):
    """Writing jitops' commit status."""

    def set_status(
        self, sha: str, state: str, description: str, *, target_url: str | None = None
    ) -> None:
        body: dict[str, Any] = {
            "state": state,
            "description": description[:140],  # GitHub's limit
            "context": STATUS_CONTEXT,
        }
        if target_url:
            body["target_url"] = target_url
        self._raw("POST", f"/statuses/{sha}", "commit status", input=body)
