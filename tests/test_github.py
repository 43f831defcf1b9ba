"""What ``jitops.github`` works out without calling GitHub: which repository a git remote is, and
whether a token may be sent to it."""

from __future__ import annotations

import pytest

from jitops.github import repository_from_url, serves_git_for


@pytest.mark.parametrize(
    ("url", "repository"),
    [
        ("https://github.com/acme/access.git", "acme/access"),
        ("https://github.com/acme/access", "acme/access"),
        ("https://github.com/acme/access/", "acme/access"),
        ("https://x-access-token:secret@github.com/acme/access.git", "acme/access"),
        ("git@github.com:acme/access.git", "acme/access"),
        ("ssh://git@github.com/acme/access", "acme/access"),
        ("https://ghe.example.com/acme/access.git", "acme/access"),
        ("http://127.0.0.1:8080/acme-t1/access.git", "acme-t1/access"),
        ("https://github.com/acme", None),
        ("/srv/git/access.git", None),
        ("https://github.com/-bad/access.git", None),
    ],
)
def test_the_repository_of_a_remote(url: str, repository: str | None) -> None:
    assert repository_from_url(url) == repository


@pytest.mark.parametrize(
    ("api_url", "remote", "sent"),
    [
        ("https://api.github.com", "https://github.com/acme/access.git", True),
        ("https://api.github.com/", "https://GitHub.com/acme/access", True),
        ("https://ghe.example.com/api/v3", "https://ghe.example.com/acme/access.git", True),
        ("http://127.0.0.1:8080/api/v3", "http://127.0.0.1:8080/acme/access.git", True),
        # anywhere else, git uses the person's own credentials
        ("https://api.github.com", "https://gitlab.example.com/acme/access.git", False),
        ("https://api.github.com", "https://github.com.evil.example/acme/access.git", False),
        ("https://api.github.com", "https://api.github.com.evil.example/a/b.git", False),
        ("https://api.github.com", "http://github.com/acme/access.git", False),  # plain text
        ("http://127.0.0.1:8080/api/v3", "http://127.0.0.1:9090/acme/access.git", False),
        ("https://api.github.com", "git@github.com:acme/access.git", False),  # ssh keys
        ("https://api.github.com", "file:///srv/git/access.git", False),
    ],
)
def test_a_token_goes_only_to_its_own_github(api_url: str, remote: str, sent: bool) -> None:
    assert serves_git_for(api_url, remote) is sent
