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


def test_every_page_asks_until_a_page_comes_back_short() -> None:
    """Two full pages and a short one: three questions, every object kept in order; a full
    last page costs one more (empty) question; what is not an object is dropped but counts
    toward the page being full, so a page padded with junk never ends the listing early."""
    from jitops.github.client import every_page

    asked: list[int] = []

    def pages(sizes: list[int]) -> list[dict[str, int]]:
        def ask(page: int) -> object:
            asked.append(page)
            size = sizes[page - 1] if page <= len(sizes) else 0
            return [{"n": page * 1000 + i} if i % 10 else "junk" for i in range(size)]

        return every_page(ask)

    found = pages([100, 100, 7])
    assert asked == [1, 2, 3] and len(found) == 90 + 90 + 6
    assert found[0] == {"n": 1001} and found[-1] == {"n": 3006}
    asked.clear()
    assert len(pages([100])) == 90 and asked == [1, 2]
    asked.clear()
    assert pages([]) == [] and asked == [1]
