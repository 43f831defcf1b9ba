"""Which repository a git remote URL names, and whether a GitHub's token may be sent to it."""

from __future__ import annotations

import re


def repository_from_url(url: str) -> str | None:
    """``owner/name`` of a git remote URL on GitHub (or GitHub Enterprise, or the test server):
    ``https://github.com/o/r.git``, ``git@github.com:o/r.git``, ``ssh://git@github.com/o/r``."""
    from urllib.parse import urlsplit

    if "://" in url:
        path = urlsplit(url).path
    elif ":" in url:  # scp-like: [user@]host:owner/name
        path = url.partition(":")[2]
    else:
        return None
    parts = [p for p in path.removesuffix("/").removesuffix(".git").split("/") if p]
    if len(parts) < 2:
        return None
    owner, name = parts[-2], parts[-1]
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9-]*", owner) or not re.fullmatch(
        r"[A-Za-z0-9._-]+", name
    ):
        return None
    return f"{owner}/{name}"


def web_url(remote_url: str) -> str | None:
    """The repository's web address for a git remote URL (``https://host/owner/name``), with
    any user name or token the URL carries left out; None when it names no repository."""
    from urllib.parse import urlsplit

    repository = repository_from_url(remote_url)
    if repository is None:
        return None
    if "://" in remote_url:
        parts = urlsplit(remote_url)
        host = parts.hostname or ""
        scheme = "http" if parts.scheme == "http" else "https"
        port = f":{parts.port}" if parts.port and parts.scheme in ("http", "https") else ""
    else:  # scp-like: [user@]host:owner/name
        host, scheme, port = remote_url.partition(":")[0].rpartition("@")[2], "https", ""
    if not re.fullmatch(r"[A-Za-z0-9.-]+", host):
        return None
    return f"{scheme}://{host}{port}/{repository}"


def serves_git_for(api_url: str, remote_url: str) -> bool:
    """Whether the GitHub at ``api_url`` is where ``remote_url`` lives, so its token may be
    sent there: the same host (GitHub Enterprise, ``https://ghe.example.com/api/v3``), or
    ``api.<host>`` (``https://api.github.com`` for ``https://github.com/o/r``). A token is never
    sent to any other server a remote happens to name."""
    from urllib.parse import urlsplit

    if "://" not in remote_url:
        return False  # scp-like ssh: git uses the person's own keys
    remote = urlsplit(remote_url)
    api = urlsplit(api_url)
    if remote.scheme not in ("http", "https") or not remote.hostname or not api.hostname:
        return False
    host, api_host = remote.hostname.lower(), api.hostname.lower()
    same_server = (remote.scheme, remote.port) == (api.scheme, api.port)
    return same_server and api_host in (host, f"api.{host}")
