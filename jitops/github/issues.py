"""Issues and comments: jitops' own issues (listed, opened, edited, pinned), comments, and the one
comment of jitops' own on a pull request, told from forgeries by the token's account."""

from __future__ import annotations

from typing import Any

from jitops.github.client import PAGE_SIZE, GitHubBase, every_page
from jitops.github.errors import GitHubError
from jitops.github.values import IssueInfo, issue_info


class IssuesMixin(GitHubBase):
    """Issues, comments, and the account the token acts as."""

    def open_issues(self, label: str) -> tuple[IssueInfo, ...]:
        """Open issues labelled ``label``, oldest first; GitHub lists pull requests among
        issues, so they are left out. One page (100) is plenty for jitops' own issues."""
        found = self._raw(
            "GET",
            "/issues",
            f"open issues labelled {label}",
            parameters={
                "state": "open",
                "labels": label,
                "sort": "created",
                "direction": "asc",
                "per_page": 100,
            },
        )
        return tuple(
            issue_info(item)
            for item in (found if isinstance(found, list) else [])
            if isinstance(item, dict) and "pull_request" not in item
        )

    def create_issue(self, title: str, body: str, labels: list[str]) -> IssueInfo:
        created = self._raw(
            "POST",
            "/issues",
            "opening an issue",
            input={"title": title, "body": body, "labels": labels},
        )
        return issue_info(created)

    def edit_issue(self, number: int, **changes: str) -> None:
        """Change an issue's ``title``, ``body``, ``state`` or ``state_reason``."""
        self._raw("PATCH", f"/issues/{number}", f"updating issue #{number}", input=changes)

    def comment(self, number: int, body: str) -> None:
        """A new comment on issue or pull request #``number``."""
        path = f"/issues/{number}/comments"
        self._raw("POST", path, f"comment on #{number}", input={"body": body})

    def set_pinned(self, node_id: str, pinned: bool) -> None:
        """Pin an issue to the top of the repository's issues, or unpin it (GraphQL only); a
        refusal (at most 3 pinned issues) raises ``GraphQLRefusal``."""
        mutation = "pinIssue" if pinned else "unpinIssue"
        self._call(
            "pinning the issue" if pinned else "unpinning the issue",
            self.repo.requester.graphql_named_mutation,
            mutation,
            {"issueId": node_id},
            "clientMutationId",
        )

    def authenticated_login(self) -> str:
        """The login of the account the token acts as, asked once per run.

        ``GET /user`` answers for a person's or machine user's token; an installation token
        (Actions' own, a GitHub App's) gets 403 there, and GraphQL's ``viewer`` names its bot
        account (``github-actions[bot]``) instead.
        """
        if self._login is None:
            try:
                data = self._call("reading the token's account", self._raw_user)
            except GitHubError as exc:
                if exc.status != 403:
                    raise
                data = self._viewer()
            login = data.get("login") if isinstance(data, dict) else None
            if not isinstance(login, str) or not login:
                raise GitHubError("GitHub did not say which account the token belongs to")
            self._login = login
        return self._login

    def _raw_user(self) -> Any:
        _, data = self._client.requester.requestJsonAndCheck("GET", f"{self.api_url}/user")
        return data

    def _viewer(self) -> Any:
        def ask() -> Any:
            _, data = self._client.requester.graphql_query("query { viewer { login } }", {})
            return (data.get("data") or {}).get("viewer") if isinstance(data, dict) else None

        return self._call("reading the token's account (GraphQL viewer)", ask)

    def _comments(self, number: int) -> list[dict[str, Any]]:
        """Every comment on issue or pull request #``number``, oldest first, page by page: a
        busy pull request's own comment may be past the first hundred."""
        return every_page(
            lambda page: self._raw(
                "GET",
                f"/issues/{number}/comments",
                f"comments on #{number}",
                parameters={"per_page": PAGE_SIZE, "page": page},
            )
        )

    def upsert_comment(self, number: int, marker: str, body: str) -> str:
        """Create the PR comment that starts with ``marker``, or edit it; return its URL.

        jitops' comment is the one the token's own account wrote (Actions' bot or a machine
        user alike). A comment by anyone else is never edited or trusted, whatever it says:
        anyone who can comment can paste the marker above a forged verdict.
        """
        return self.upsert_comment_from(number, marker, body)[0]

    def upsert_comment_from(self, number: int, marker: str, body: str) -> tuple[str, str | None]:
        """``upsert_comment``, also returning what jitops' comment said before (None: it is
        new), so a caller can tell what is news."""
        marked = [c for c in self._comments(number) if str(c.get("body", "")).startswith(marker)]
        me = self.authenticated_login().lower() if marked else ""  # a first run needs no call
        for comment in marked:
            user = comment.get("user")
            author = user.get("login") if isinstance(user, dict) else None
            if isinstance(author, str) and author.lower() == me:
                previous = str(comment.get("body", ""))
                if previous != body:
                    self._raw(
                        "PATCH",
                        f"/issues/comments/{comment['id']}",
                        "comment update",
                        input={"body": body},
                    )
                return str(comment.get("html_url", "")), previous
        created = self._raw(
            "POST", f"/issues/{number}/comments", f"comment on #{number}", input={"body": body}
        )
        return (str(created.get("html_url", "")) if isinstance(created, dict) else ""), None
