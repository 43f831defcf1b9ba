"""Repositories: the repository itself, collaborators, contents, commits, CODEOWNERS errors."""

from __future__ import annotations

import base64
import binascii

from jitops.testing.github import owner_rules
from jitops.testing.github.git_data import git_commit_body
from jitops.testing.github.gitstore import FileChange, TreeEntry
from jitops.testing.github.http import ApiError, Request, Response, route
from jitops.testing.github.render import JSON
from jitops.testing.github.state import Repository

# GitHub shows a repository's merge settings only to callers that can write its contents.
MERGE_SETTINGS = (
    "allow_merge_commit",
    "allow_squash_merge",
    "allow_rebase_merge",
    "allow_auto_merge",
)


def get_repo(req: Request) -> Response:
    repo = req.repo()
    login = req.user.login if req.user else None
    body = req.render.repository(repo, login)
    if login is None or not req.hub.can(repo, login, "write"):
        for key in MERGE_SETTINGS:
            body.pop(key, None)
    return Response(200, body)


def collaborator_permission(req: Request) -> Response:
    repo = req.repo()
    login = req.params["username"]
    req.hub.user(login)
    permission = req.hub.permission(repo, login)
    # The legacy `permission` field folds maintain into write and triage into read.
    legacy = {"maintain": "write", "triage": "read"}.get(permission, permission)
    user = req.render.simple_user(login) | {
        "role_name": permission,
        "permissions": {
            "admin": permission == "admin",
            "maintain": permission in ("admin", "maintain"),
            "push": permission in ("admin", "maintain", "write"),
            "triage": permission in ("admin", "maintain", "write", "triage"),
            "pull": permission != "none",
        },
    }
    return Response(200, {"permission": legacy, "role_name": permission, "user": user})


def codeowners_errors(req: Request) -> Response:
    repo = req.repo()
    ref = req.query.get("ref", repo.default_branch)
    found = req.hub.codeowners_file(repo, ref)
    if found is None:
        raise ApiError(404, "Not Found")
    path, text = found

    def known(owner: str) -> bool:
        name = owner.lstrip("@")
        if "@" in name:
            return True
        if "/" in name:
            org, _, slug = name.partition("/")
            return (org, slug) in req.hub.state.teams
        return name in req.hub.state.users

    return Response(
        200,
        {
            "errors": [
                {
                    "line": e.line,
                    "column": e.column,
                    "kind": e.kind,
                    "source": e.source,
                    "suggestion": e.suggestion,
                    "message": e.message,
                    "path": e.path,
                }
                for e in owner_rules.errors(text, path, known)
            ]
        },
    )


def _content_entry(req: Request, repo: Repository, entry: TreeEntry, ref: str) -> JSON:
    api = f"{req.render.repo_url(repo)}/contents/{entry.path}?ref={ref}"
    kind = {"blob": "file", "tree": "dir", "commit": "submodule"}[entry.type]
    view = "blob" if kind == "file" else "tree"
    html = f"{req.render.web}/{repo.full_name}/{view}/{ref}/{entry.path}"
    git_url = (
        f"{req.render.repo_url(repo)}/git/{'blobs' if kind == 'file' else 'trees'}/{entry.sha}"
    )
    body: JSON = {
        "type": kind,
        "size": entry.size or 0,
        "name": entry.path.rsplit("/", 1)[-1],
        "path": entry.path,
        "sha": entry.sha,
        "url": api,
        "git_url": git_url,
        "html_url": html,
        "download_url": f"{req.render.web}/{repo.full_name}/raw/{ref}/{entry.path}"
        if kind == "file"
        else None,
        "_links": {"self": api, "git": git_url, "html": html},
    }
    return body


def get_contents(req: Request) -> Response:
    repo = req.repo()
    store = req.hub.git(repo)
    ref = req.query.get("ref", repo.default_branch)
    commit = store.resolve_commit(ref) or store.resolve_commit(f"refs/heads/{ref}")
    if commit is None:
        raise ApiError(404, f"No commit found for the ref {ref}")
    path = req.params.get("path", "").strip("/")
    entry = store.entry_at(commit, path)
    if entry is None:
        raise ApiError(404, "Not Found")
    if entry.type == "tree":
        children = sorted(store.ls_tree(f"{entry.sha}"), key=lambda e: e.path)
        listing = [
            _content_entry(
                req,
                repo,
                TreeEntry(c.mode, c.type, c.sha, f"{path}/{c.path}".lstrip("/"), c.size),
                ref,
            )
            for c in children
        ]
        return Response(200, listing)
    body = _content_entry(req, repo, entry, ref)
    content = store.read_blob(entry.sha)
    encoded = base64.encodebytes(content).decode()
    return Response(200, body | {"content": encoded, "encoding": "base64"})


def put_contents(req: Request) -> Response:
    repo = req.repo("write")
    user = req.need_user()
    store = req.hub.git(repo)
    path = req.params["path"].strip("/")
    message = req.field("message")
    branch = req.field("branch", required=False) or repo.default_branch
    try:
        content = base64.b64decode(req.field("content"), validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(422, "content is not valid Base64") from None
    head = store.branch_sha(branch)
    existing = store.entry_at(head, path) if head else None
    given_sha = req.field("sha", required=False)
    if existing is not None and given_sha != existing.sha:
        raise ApiError(
            409 if given_sha else 422,
            '"sha" wasn\'t supplied.' if not given_sha else f"{path} does not match {given_sha}",
        )
    sha = req.hub.push(repo, branch, {path: content}, author=user.login, message=message)
    entry = store.entry_at(sha, path)
    assert entry is not None
    body = {
        "content": _content_entry(req, repo, entry, branch),
        "commit": git_commit_body(req, repo, sha),
    }
    return Response(201 if existing is None else 200, body)


def get_commit(req: Request) -> Response:
    repo = req.repo()
    store = req.hub.git(repo)
    ref = req.params["ref"]
    sha = store.resolve_commit(ref) or store.resolve_commit(f"refs/heads/{ref}")
    if sha is None:
        raise ApiError(422, f"No commit found for SHA: {ref}")
    info = store.commit(sha)
    body = req.render.commit(repo, info)
    files = store.diff(info.parents[0], sha) if info.parents else store.diff(sha, sha)
    body["files"] = [diff_entry(req, repo, f) for f in files]
    body["stats"] = {
        "additions": sum(f.additions for f in files),
        "deletions": sum(f.deletions for f in files),
        "total": sum(f.additions + f.deletions for f in files),
    }
    return Response(200, body)


def diff_entry(req: Request, repo: Repository, change: FileChange) -> JSON:
    """``diff-entry`` for one ``FileChange``."""
    sha = change.sha or "0" * 40
    body: JSON = {
        "sha": change.sha,
        "filename": change.filename,
        "status": change.status,
        "additions": change.additions,
        "deletions": change.deletions,
        "changes": change.additions + change.deletions,
        "blob_url": f"{req.render.web}/{repo.full_name}/blob/{sha}/{change.filename}",
        "raw_url": f"{req.render.web}/{repo.full_name}/raw/{sha}/{change.filename}",
        "contents_url": f"{req.render.repo_url(repo)}/contents/{change.filename}?ref={sha}",
    }
    if change.patch is not None:
        body["patch"] = change.patch
    if change.previous_filename is not None:
        body["previous_filename"] = change.previous_filename
    return body


def pulls_for_commit(req: Request) -> Response:
    repo = req.repo()
    sha = req.hub.git(repo).resolve_commit(req.params["commit_sha"])
    if sha is None:
        raise ApiError(422, f"No commit found for SHA: {req.params['commit_sha']}")
    pulls = req.hub.pulls_for_commit(repo, sha)
    return Response(200, [req.render.pull_simple(repo, p) for p in req.paginate(pulls)])


ROUTES = [
    route("GET", "/repos/{owner}/{repo}", get_repo),
    route(
        "GET", "/repos/{owner}/{repo}/collaborators/{username}/permission", collaborator_permission
    ),
    route("GET", "/repos/{owner}/{repo}/codeowners/errors", codeowners_errors),
    route("GET", "/repos/{owner}/{repo}/contents/{path}", get_contents),
    route("PUT", "/repos/{owner}/{repo}/contents/{path}", put_contents),
    route("GET", "/repos/{owner}/{repo}/commits/{commit_sha}/pulls", pulls_for_commit),
    route("GET", "/repos/{owner}/{repo}/commits/{ref}", get_commit),
]


def _protection(req: Request, repo: Repository, branch: str) -> JSON:
    """``branch-protection`` as GitHub shows it, for protected and unprotected branches."""
    protection = req.hub.protection(repo, branch)
    url = f"{req.render.repo_url(repo)}/branches/{branch}/protection"
    if protection is None:
        checks_off: JSON = {"enforcement_level": "off", "contexts": [], "checks": []}
        return {"enabled": False, "required_status_checks": checks_off}
    checks = protection.required_status_checks
    return {
        "url": url,
        "enabled": True,
        "required_status_checks": {
            "url": f"{url}/required_status_checks",
            "enforcement_level": "non_admins",
            "strict": False,
            "contexts": list(checks),
            "contexts_url": f"{url}/required_status_checks/contexts",
            "checks": [{"context": c, "app_id": None} for c in checks],
        },
        "enforce_admins": {"url": f"{url}/enforce_admins", "enabled": False},
        "required_pull_request_reviews": {
            "url": f"{url}/required_pull_request_reviews",
            "dismiss_stale_reviews": protection.dismiss_stale_reviews,
            "require_code_owner_reviews": protection.require_code_owner_reviews,
            "required_approving_review_count": protection.required_approving_review_count,
            "require_last_push_approval": protection.require_last_push_approval,
        },
    }


def get_branch_protection(req: Request) -> Response:
    repo = req.repo()
    if not req.hub.can(repo, req.user.login if req.user else "", "admin"):
        # the operation documents 200 and 404 only: without admin rights GitHub hides it
        raise ApiError(404, "Not Found")
    branch = req.params["branch"]
    if req.hub.protection(repo, branch) is None:
        raise ApiError(404, "Branch not protected")
    body = _protection(req, repo, branch)
    del body["enabled"]
    del body["required_status_checks"]["enforcement_level"]
    return Response(200, body)


def get_branch(req: Request) -> Response:
    repo = req.repo()
    branch = req.params["branch"]
    store = req.hub.git(repo)
    sha = store.branch_sha(branch)
    if sha is None:
        raise ApiError(404, "Branch not found")
    protected = req.hub.protection(repo, branch) is not None
    url = f"{req.render.repo_url(repo)}/branches/{branch}"
    body: JSON = {
        "name": branch,
        "commit": req.render.commit(repo, store.commit(sha)),
        "_links": {"self": url, "html": f"{req.render.web}/{repo.full_name}/tree/{branch}"},
        "protected": protected,
        "protection": _protection(req, repo, branch),
        "protection_url": f"{url}/protection",
    }
    return Response(200, body)


ROUTES.append(route("GET", "/repos/{owner}/{repo}/branches/{branch}", get_branch))
ROUTES.append(
    route("GET", "/repos/{owner}/{repo}/branches/{branch}/protection", get_branch_protection)
)


def get_branch_rules(req: Request) -> Response:
    """``repository-rule-detailed``: every rule of every active ruleset that applies to the
    branch (which need not exist), with the ruleset it comes from. Read access suffices."""
    repo = req.repo()
    rules: list[JSON] = [
        {
            "type": "required_status_checks",
            "parameters": {
                "required_status_checks": [{"context": c} for c in ruleset.required_status_checks],
                "strict_required_status_checks_policy": False,
            },
            "ruleset_source_type": "Repository",
            "ruleset_source": repo.full_name,
            "ruleset_id": ruleset.id,
        }
        for ruleset in req.hub.rulesets(repo, req.params["branch"])
        if ruleset.required_status_checks
    ]
    rules += [
        {
            "type": "pull_request",
            "parameters": {
                "required_approving_review_count": reviews.required_approving_review_count,
                "require_code_owner_review": reviews.require_code_owner_reviews,
                "dismiss_stale_reviews_on_push": reviews.dismiss_stale_reviews,
                "require_last_push_approval": reviews.require_last_push_approval,
                "required_review_thread_resolution": False,
            },
            "ruleset_source_type": "Repository",
            "ruleset_source": repo.full_name,
            "ruleset_id": ruleset.id,
        }
        for ruleset in req.hub.rulesets(repo, req.params["branch"])
        if (reviews := ruleset.reviews) is not None
    ]
    return Response(200, req.paginate(rules))


ROUTES.append(route("GET", "/repos/{owner}/{repo}/rules/branches/{branch}", get_branch_rules))
