"""Commits: a branch's history and the comparison of two commits, as git itself answers them.

Listing is ``git rev-list`` (``path`` is git's own pathspec, with its history simplification,
as ``git log -- path``); a comparison is ``git rev-list`` both ways from the two commits, their
merge base and the three-dot diff, as a pull request's files are.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from urllib.parse import quote, urlencode

from jitops.testing.github.gitstore import FileChange, GitStore
from jitops.testing.github.http import ApiError, Request, Response, route
from jitops.testing.github.render import JSON
from jitops.testing.github.repos import diff_entry
from jitops.testing.github.state import Repository

# GitHub's limits for a comparison ("Compare two commits" in the REST docs): asked without
# `page` or `per_page` it lists the 250 most recent of its commits; its files stop at 300 and
# come on the first page only.
UNPAGED_COMMITS = 250
MAX_FILES = 300
# Asked by page, a comparison's pages hold 250 commits unless `per_page` says otherwise, up to
# 1000 (as PyGithub documents the endpoint), where other lists stop at 100.
COMPARE_PER_PAGE = 250
COMPARE_MAX_PER_PAGE = 1000

_HEX = re.compile(r"[0-9a-fA-F]{4,40}")
# What git accepts in a ref name (git check-ref-format), so that nothing else — an option,
# a revision expression such as `main~1`, a path out of the repository — reaches git.
_REF = re.compile(r"[^\x00-\x20\x7f~^:?*\[\\]+")


def resolve(store: GitStore, ref: str) -> str | None:
    """The commit ``ref`` names — a branch, a tag (``heads/``/``tags/`` may lead) or a full or
    abbreviated sha — or None."""
    if not _REF.fullmatch(ref) or ".." in ref or "@{" in ref or ref.startswith(("-", "/")):
        return None
    sha = store.branch_sha(ref)
    if sha is not None:
        return sha
    names = [f"refs/tags/{ref}"]
    if ref.startswith(("heads/", "tags/")):
        names.append(f"refs/{ref}")
    if _HEX.fullmatch(ref):
        names.append(ref)
    for name in names:
        sha = store.resolve_commit(name)
        if sha is not None:
            return sha
    return None


# -- GET /repos/{owner}/{repo}/commits -------------------------------------------------------


def _timestamp(req: Request, name: str) -> datetime | None:
    text = req.query.get(name)
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ApiError(400, f"{name} must be an ISO 8601 timestamp") from None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _emails(req: Request, who: str) -> set[str]:
    """The commit emails a ``login`` or email address stands for (a login: its account's)."""
    if "@" in who:
        return {who.lower()}
    with req.hub.state.lock:
        users = list(req.hub.state.users.values())
    return {u.email.lower() for u in users if u.login.lower() == who.lower()}


def list_commits(req: Request) -> Response:
    """Newest first, from ``sha`` (default: the default branch), filtered by ``path``,
    ``author``, ``committer`` and the committer date (``since``/``until``, inclusive)."""
    repo = req.repo()
    store = req.hub.git(repo)
    if not store.refs("refs/heads/"):
        raise ApiError(409, "Git Repository is empty.")
    start = resolve(store, req.query.get("sha") or repo.default_branch)
    if start is None:
        raise ApiError(404, "Not Found")
    since, until = _timestamp(req, "since"), _timestamp(req, "until")
    authors = _emails(req, req.query["author"]) if "author" in req.query else None
    committers = _emails(req, req.query["committer"]) if "committer" in req.query else None
    # One git process for the whole history: the filters need only these three fields.
    args = ["rev-list", "--format=%ct%x00%ae%x00%ce", start]
    path = req.query.get("path", "").strip("/")
    if path:
        args += ["--", path]
    lines = store.git(*args).splitlines()
    shas = []
    for header, fields in zip(lines[::2], lines[1::2], strict=True):
        stamp, author, committer = fields.split("\0")
        when = datetime.fromtimestamp(int(stamp), UTC)
        if (
            (since is None or when >= since)
            and (until is None or when <= until)
            and (authors is None or author.lower() in authors)
            and (committers is None or committer.lower() in committers)
        ):
            shas.append(header.removeprefix("commit "))
    page = req.paginate(shas)
    return Response(200, [req.render.commit(repo, store.commit(sha)) for sha in page])


# -- GET /repos/{owner}/{repo}/compare/{basehead} --------------------------------------------


def _side(store: GitStore, repo: Repository, ref: str) -> str | None:
    """The commit one side of ``BASE...HEAD`` names; ``OWNER:ref`` names this repository's
    ref when ``OWNER`` owns it (there are no forks here to name)."""
    owner, colon, name = ref.rpartition(":")
    if colon and owner.lower() != repo.owner.lower():
        return None
    return resolve(store, name)


def _page(req: Request) -> tuple[int, int]:
    try:
        per_page = max(1, min(COMPARE_MAX_PER_PAGE, int(req.query.get("per_page", ""))))
    except ValueError:
        per_page = COMPARE_PER_PAGE
    try:
        page = max(1, int(req.query.get("page", "1")))
    except ValueError:
        page = 1
    return per_page, page


def _compare_links(req: Request, page: int, pages: int) -> str:
    """The ``Link`` header of a paged comparison, as GitHub writes it: ``first`` on every
    page, ``last`` whenever there is more than one, the client's parameters in its order."""

    def link(n: int, rel: str) -> str:
        query = dict(req.query)
        query["page"] = str(n)  # stays where the client put it, else goes last
        url = f"{req.render.api}{quote(req.path, safe='/:@')}?{urlencode(query)}"
        return f'<{url}>; rel="{rel}"'

    links = [link(pages, "last")] if pages > 1 else []
    if page < pages:
        links.append(link(page + 1, "next"))
    links.append(link(1, "first"))
    if page > 1:
        links.append(link(page - 1, "prev"))
    return ", ".join(links)


def _compared_file(req: Request, repo: Repository, head: str, change: FileChange) -> JSON:
    """``diff-entry`` of a comparison: GitHub addresses each file at the head commit."""
    web = f"{req.render.web}/{repo.full_name}"
    return diff_entry(req, repo, change) | {
        "blob_url": f"{web}/blob/{head}/{change.filename}",
        "raw_url": f"{web}/raw/{head}/{change.filename}",
        "contents_url": f"{req.render.repo_url(repo)}/contents/{change.filename}?ref={head}",
    }


def compare(req: Request) -> Response:
    """``commit-comparison`` of ``BASE...HEAD``: the commits reachable from head and not from
    base (oldest first), how far each side is ahead of the other, and the three-dot diff."""
    repo = req.repo()
    store = req.hub.git(repo)
    basehead = req.params["basehead"]
    base_ref, dots, head_ref = basehead.partition("...")
    base = _side(store, repo, base_ref) if dots else None
    head = _side(store, repo, head_ref) if dots else None
    if base is None or head is None:
        raise ApiError(404, "Not Found")
    merge_base = store.merge_base(base, head)
    if merge_base is None:
        raise ApiError(404, f"No common ancestor between {base_ref} and {head_ref}.")
    ahead = store.commits_between(base, head)
    behind_by = len(store.commits_between(head, base))
    if ahead and behind_by:
        status = "diverged"
    elif ahead:
        status = "ahead"
    else:
        status = "behind" if behind_by else "identical"
    if "page" in req.query or "per_page" in req.query:
        per_page, page = _page(req)
        listed = ahead[(page - 1) * per_page : page * per_page]
        req.headers["Link"] = _compare_links(req, page, max(1, math.ceil(len(ahead) / per_page)))
    else:
        page, listed = 1, ahead[-UNPAGED_COMMITS:]
    html = f"{req.render.web}/{repo.full_name}/compare/{basehead}"
    permalink = f"{repo.owner}:{base[:7]}...{repo.owner}:{head[:7]}"
    body: JSON = {
        "url": f"{req.render.repo_url(repo)}/compare/{basehead}",
        "html_url": html,
        "permalink_url": f"{req.render.web}/{repo.full_name}/compare/{permalink}",
        "diff_url": f"{html}.diff",
        "patch_url": f"{html}.patch",
        "base_commit": req.render.commit(repo, store.commit(base)),
        "merge_base_commit": req.render.commit(repo, store.commit(merge_base)),
        "status": status,
        "ahead_by": len(ahead),
        "behind_by": behind_by,
        "total_commits": len(ahead),
        "commits": [req.render.commit(repo, store.commit(sha)) for sha in listed],
    }
    if page == 1:
        files = store.diff(base, head)[:MAX_FILES]
        body["files"] = [_compared_file(req, repo, head, f) for f in files]
    return Response(200, body)


ROUTES = [
    route("GET", "/repos/{owner}/{repo}/commits", list_commits),
    route("GET", "/repos/{owner}/{repo}/compare/{basehead}", compare),
]
