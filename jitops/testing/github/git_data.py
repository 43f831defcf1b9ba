"""Git data: refs, trees, commits and blobs, read from and written to the real repository."""

from __future__ import annotations

import base64
import binascii

from jitops.testing.github.gitstore import ZERO_SHA, GitStore, GitStoreError, Identity
from jitops.testing.github.http import ApiError, Request, Response, route
from jitops.testing.github.render import JSON, git_identity, node_id
from jitops.testing.github.state import Repository


def _ref(req: Request, repo: Repository, ref: str, sha: str) -> JSON:
    kind = GitStore(repo.path).object_type(sha) or "commit"
    plural = {"commit": "commits", "tag": "tags", "tree": "trees", "blob": "blobs"}[kind]
    return {
        "ref": ref,
        "node_id": node_id("REF", ref),
        "url": f"{req.render.repo_url(repo)}/git/{ref}",
        "object": {
            "type": kind,
            "sha": sha,
            "url": f"{req.render.repo_url(repo)}/git/{plural}/{sha}",
        },
    }


def get_ref(req: Request) -> Response:
    repo = req.repo()
    ref = "refs/" + req.params["ref"]
    for name, sha in req.hub.git(repo).refs(ref):
        if name == ref:
            return Response(200, _ref(req, repo, name, sha))
    raise ApiError(404, "Not Found")


def matching_refs(req: Request) -> Response:
    repo = req.repo()
    prefix = "refs/" + req.params["ref"]
    found = [(n, s) for n, s in req.hub.git(repo).refs("refs/") if n.startswith(prefix)]
    return Response(200, [_ref(req, repo, n, s) for n, s in found])


def create_ref(req: Request) -> Response:
    repo = req.repo("write")
    user = req.need_user()
    ref, sha = req.field("ref"), req.field("sha")
    if not ref.startswith("refs/") or ref.count("/") < 2:
        raise ApiError(422, "Reference name must start with 'refs/' and have at least two slashes.")
    store = req.hub.git(repo)
    if store.resolve(ref) is not None:
        raise ApiError(422, "Reference already exists")
    if store.object_type(sha) is None:
        raise ApiError(422, "Object does not exist")
    try:
        store.update_ref(ref, sha, ZERO_SHA)
    except GitStoreError:  # another client created it since the check above
        raise ApiError(422, "Reference already exists") from None
    req.hub.refs_changed(repo, user.login, [(ref, ZERO_SHA, sha)])
    return Response(201, _ref(req, repo, ref, sha))


def update_ref(req: Request) -> Response:
    repo = req.repo("write")
    user = req.need_user()
    ref = "refs/" + req.params["ref"]
    sha = req.field("sha")
    force = req.field("force", bool, required=False) or False
    store = req.hub.git(repo)
    old = store.resolve(ref)
    if old is None:
        raise ApiError(422, "Reference does not exist")
    if store.object_type(sha) is None:
        raise ApiError(422, "Object does not exist")
    if not force and not store.is_ancestor(old, sha):
        raise ApiError(422, "Update is not a fast forward")
    store.update_ref(ref, sha, old)
    req.hub.refs_changed(repo, user.login, [(ref, old, sha)])
    return Response(200, _ref(req, repo, ref, sha))


def delete_ref(req: Request) -> Response:
    repo = req.repo("write")
    user = req.need_user()
    ref = "refs/" + req.params["ref"]
    store = req.hub.git(repo)
    old = store.resolve(ref)
    if old is None:
        raise ApiError(422, "Reference does not exist")
    store.delete_ref(ref)
    req.hub.refs_changed(repo, user.login, [(ref, old, ZERO_SHA)])
    return Response(204)


def _tree(req: Request, repo: Repository, sha: str, recursive: bool) -> JSON:
    store = req.hub.git(repo)
    entries = []
    for e in store.ls_tree(sha, recursive=recursive):
        plural = "blobs" if e.type == "blob" else "trees"
        item: JSON = {"path": e.path, "mode": e.mode, "type": e.type, "sha": e.sha}
        if e.type != "commit":
            item["url"] = f"{req.render.repo_url(repo)}/git/{plural}/{e.sha}"
        if e.size is not None:
            item["size"] = e.size
        entries.append(item)
    return {
        "sha": sha,
        "url": f"{req.render.repo_url(repo)}/git/trees/{sha}",
        "tree": entries,
        "truncated": False,
    }


def get_tree(req: Request) -> Response:
    repo = req.repo()
    store = req.hub.git(repo)
    sha = store.resolve(f"{req.params['tree_sha']}^{{tree}}")
    if sha is None:
        raise ApiError(404, "Not Found")
    recursive = req.query.get("recursive", "") not in ("", "0", "false")
    return Response(200, _tree(req, repo, sha, recursive))


def create_tree(req: Request) -> Response:
    repo = req.repo("write")
    store = req.hub.git(repo)
    base = req.field("base_tree", required=False)
    if base is not None and store.object_type(base) != "tree":
        raise ApiError(422, "Invalid tree info")
    items = req.field("tree", list)
    entries: list[tuple[str, str, str | None]] = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("path"), str):
            raise ApiError(422, "Invalid tree info")
        mode = str(item.get("mode", "100644"))
        if "content" in item:
            if not isinstance(item["content"], str):
                raise ApiError(422, "Invalid tree info")
            entries.append((item["path"], mode, store.write_blob(item["content"].encode())))
        elif item.get("sha") is None:
            entries.append((item["path"], mode, None))
        elif item.get("type", "blob") == "blob" and store.object_type(str(item["sha"])) == "blob":
            entries.append((item["path"], mode, str(item["sha"])))
        else:
            raise ApiError(422, "Invalid tree info")
    try:
        sha = store.write_tree_entries(entries, base)
    except GitStoreError as exc:
        raise ApiError(422, f"Invalid tree info: {exc}") from None
    return Response(201, _tree(req, repo, sha, False))


def git_commit_body(req: Request, repo: Repository, sha: str) -> JSON:
    """``git-commit``: a commit as the git data API shows it."""
    info = req.hub.git(repo).commit(sha)
    url = f"{req.render.repo_url(repo)}/git/commits/{sha}"
    return {
        "sha": sha,
        "node_id": node_id("C", sha),
        "url": url,
        "html_url": f"{req.render.web}/{repo.full_name}/commit/{sha}",
        "author": git_identity(info.author),
        "committer": git_identity(info.committer),
        "tree": {"sha": info.tree, "url": f"{req.render.repo_url(repo)}/git/trees/{info.tree}"},
        "message": info.message.rstrip("\n"),
        "parents": [
            {
                "sha": p,
                "url": f"{req.render.repo_url(repo)}/git/commits/{p}",
                "html_url": f"{req.render.web}/{repo.full_name}/commit/{p}",
            }
            for p in info.parents
        ],
        "verification": req.render.verification(),
    }


def get_git_commit(req: Request) -> Response:
    repo = req.repo()
    sha = req.params["commit_sha"]
    if req.hub.git(repo).object_type(sha) != "commit":
        raise ApiError(404, "Not Found")
    return Response(200, git_commit_body(req, repo, sha))


def create_git_commit(req: Request) -> Response:
    repo = req.repo("write")
    user = req.need_user()
    store = req.hub.git(repo)
    message, tree = req.field("message"), req.field("tree")
    parents = req.field("parents", list, required=False) or []
    if store.object_type(tree) != "tree" or any(
        store.object_type(str(p)) != "commit" for p in parents
    ):
        raise ApiError(
            422,
            "Tree SHA does not exist"
            if store.object_type(tree) != "tree"
            else "Parent SHA does not exist or is not a commit object",
        )
    me = req.hub.identity(user.login)

    def person(name: str) -> Identity:
        given = req.field(name, dict, required=False)
        if not given:
            return me
        return Identity(str(given.get("name", me.name)), str(given.get("email", me.email)), me.date)

    sha = store.commit_tree(
        tree, [str(p) for p in parents], message, person("author"), person("committer")
    )
    return Response(201, git_commit_body(req, repo, sha))


def get_blob(req: Request) -> Response:
    repo = req.repo()
    store = req.hub.git(repo)
    sha = req.params["file_sha"]
    if store.object_type(sha) != "blob":
        raise ApiError(404, "Not Found")
    content = store.read_blob(sha)
    return Response(
        200,
        {
            "sha": sha,
            "node_id": node_id("B", sha),
            "size": len(content),
            "url": f"{req.render.repo_url(repo)}/git/blobs/{sha}",
            "content": base64.encodebytes(content).decode(),
            "encoding": "base64",
        },
    )


def create_blob(req: Request) -> Response:
    repo = req.repo("write")
    content = req.field("content")
    encoding = req.field("encoding", required=False) or "utf-8"
    if encoding == "base64":
        try:
            raw = base64.b64decode(content)
        except (binascii.Error, ValueError):
            raise ApiError(422, "content is not valid Base64") from None
    elif encoding in ("utf-8", "utf8"):
        raw = content.encode()
    else:
        raise ApiError(422, f"encoding {encoding!r} is not supported")
    sha = req.hub.git(repo).write_blob(raw)
    return Response(201, {"sha": sha, "url": f"{req.render.repo_url(repo)}/git/blobs/{sha}"})


ROUTES = [
    route("GET", "/repos/{owner}/{repo}/git/ref/{ref}", get_ref),
    route("GET", "/repos/{owner}/{repo}/git/matching-refs/{ref}", matching_refs),
    route("POST", "/repos/{owner}/{repo}/git/refs", create_ref),
    route("PATCH", "/repos/{owner}/{repo}/git/refs/{ref}", update_ref),
    route("DELETE", "/repos/{owner}/{repo}/git/refs/{ref}", delete_ref),
    route("GET", "/repos/{owner}/{repo}/git/trees/{tree_sha}", get_tree),
    route("POST", "/repos/{owner}/{repo}/git/trees", create_tree),
    route("GET", "/repos/{owner}/{repo}/git/commits/{commit_sha}", get_git_commit),
    route("POST", "/repos/{owner}/{repo}/git/commits", create_git_commit),
    route("GET", "/repos/{owner}/{repo}/git/blobs/{file_sha}", get_blob),
    route("POST", "/repos/{owner}/{repo}/git/blobs", create_blob),
]
