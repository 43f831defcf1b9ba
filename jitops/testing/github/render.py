"""Records to GitHub's JSON shapes, named after the OpenAPI component schemas they produce
(``simple-user``, ``full-repository``, ``pull-request``...). Only the shapes several resource
families share live here; the schema test checks every one of them against GitHub's description.
"""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime
from typing import Any

from jitops.testing.github.gitstore import CommitInfo, GitStore, Identity
from jitops.testing.github.hub import Hub
from jitops.testing.github.state import Issue, Label, PullRequest, Repository, Review, User

JSON = dict[str, Any]


def iso(when: datetime | None) -> str | None:
    """GitHub's timestamp format: ISO 8601 in UTC with a ``Z`` (naive times are UTC)."""
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def node_id(kind: str, ident: int | str) -> str:
    return base64.b64encode(f"0:{kind}{ident}".encode()).decode().rstrip("=")


def parse_node_id(text: str) -> tuple[str, str] | None:
    """``(kind, ident)`` of a ``node_id`` this server made, None for anything else."""
    try:
        decoded = base64.b64decode(text + "=" * (-len(text) % 4), validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    found = re.fullmatch(r"0:([A-Z]+)([0-9a-f]+)", decoded)
    return (found.group(1), found.group(2)) if found else None


def git_identity(person: Identity) -> JSON:
    return {"name": person.name, "email": person.email, "date": iso(person.date)}


_REPO_URLS = {
    "archive_url": "/{archive_format}{/ref}",
    "assignees_url": "/assignees{/user}",
    "blobs_url": "/git/blobs{/sha}",
    "branches_url": "/branches{/branch}",
    "collaborators_url": "/collaborators{/collaborator}",
    "comments_url": "/comments{/number}",
    "commits_url": "/commits{/sha}",
    "compare_url": "/compare/{base}...{head}",
    "contents_url": "/contents/{+path}",
    "contributors_url": "/contributors",
    "deployments_url": "/deployments",
    "downloads_url": "/downloads",
    "events_url": "/events",
    "forks_url": "/forks",
    "git_commits_url": "/git/commits{/sha}",
    "git_refs_url": "/git/refs{/sha}",
    "git_tags_url": "/git/tags{/sha}",
    "hooks_url": "/hooks",
    "issue_comment_url": "/issues/comments{/number}",
    "issue_events_url": "/issues/events{/number}",
    "issues_url": "/issues{/number}",
    "keys_url": "/keys{/key_id}",
    "labels_url": "/labels{/name}",
    "languages_url": "/languages",
    "merges_url": "/merges",
    "milestones_url": "/milestones{/number}",
    "notifications_url": "/notifications{?since,all,participating}",
    "pulls_url": "/pulls{/number}",
    "releases_url": "/releases{/id}",
    "stargazers_url": "/stargazers",
    "statuses_url": "/statuses/{sha}",
    "subscribers_url": "/subscribers",
    "subscription_url": "/subscription",
    "tags_url": "/tags",
    "teams_url": "/teams",
    "trees_url": "/git/trees{/sha}",
}


class Renderer:
    """Builds response bodies with URLs under this server's ``api`` and ``web`` roots."""

    def __init__(self, hub: Hub, api: str, web: str) -> None:
        self.hub = hub
        self.api = api
        self.web = web

    # -- people ----------------------------------------------------------------------------

    def simple_user(self, login: str) -> JSON:
        user = self.hub.user(login)
        url = f"{self.api}/users/{login}"
        return {
            "login": login,
            "id": user.id,
            "node_id": node_id("U", user.id),
            "avatar_url": f"{self.web}/avatars/{login}",
            "gravatar_id": "",
            "url": url,
            "html_url": f"{self.web}/{login}",
            "followers_url": f"{url}/followers",
            "following_url": f"{url}/following{{/other_user}}",
            "gists_url": f"{url}/gists{{/gist_id}}",
            "starred_url": f"{url}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{url}/subscriptions",
            "organizations_url": f"{url}/orgs",
            "repos_url": f"{url}/repos",
            "events_url": f"{url}/events{{/privacy}}",
            "received_events_url": f"{url}/received_events",
            "type": user.type,
            "site_admin": False,
        }

    def public_user(self, user: User) -> JSON:
        repos = [r for r in self.hub.state.repos.values() if r.owner == user.login]
        return self.simple_user(user.login) | {
            "name": user.name,
            "company": None,
            "blog": "",
            "location": None,
            "email": user.email,
            "hireable": None,
            "bio": None,
            "public_repos": sum(not r.private for r in repos),
            "public_gists": 0,
            "followers": 0,
            "following": 0,
            "created_at": iso(user.created_at),
            "updated_at": iso(user.created_at),
            "user_view_type": "public",
        }

    def private_user(self, user: User) -> JSON:
        repos = [r for r in self.hub.state.repos.values() if r.owner == user.login]
        return self.public_user(user) | {
            "private_gists": 0,
            "total_private_repos": sum(r.private for r in repos),
            "owned_private_repos": sum(r.private for r in repos),
            "disk_usage": 0,
            "collaborators": 0,
            "two_factor_authentication": True,
            "user_view_type": "private",
        }

    # -- repositories ----------------------------------------------------------------------

    def repo_url(self, repo: Repository) -> str:
        return f"{self.api}/repos/{repo.full_name}"

    def minimal_repository(self, repo: Repository) -> JSON:
        url = self.repo_url(repo)
        body: JSON = {
            "id": repo.id,
            "node_id": node_id("R", repo.id),
            "name": repo.name,
            "full_name": repo.full_name,
            "owner": self.simple_user(repo.owner),
            "private": repo.private,
            "html_url": f"{self.web}/{repo.full_name}",
            "description": repo.description,
            "fork": False,
            "url": url,
        }
        body.update({key: url + suffix for key, suffix in _REPO_URLS.items()})
        return body

    def repository(self, repo: Repository, viewer: str | None = None, *, full: bool = True) -> JSON:
        """``full-repository``, or with ``full=False`` the ``repository`` a pull request's
        head and base carry (no organization, network or subscriber counts)."""
        store = GitStore(repo.path)
        head = store.branch_sha(repo.default_branch)
        pushed = store.commit(head).committer.date if head else repo.created_at
        open_count = sum(p.state == "open" for p in self.hub.state.pulls_of(repo.id))
        body = self.minimal_repository(repo) | {
            "clone_url": f"{self.web}/{repo.full_name}.git",
            "git_url": f"{self.web}/{repo.full_name}.git",
            "ssh_url": f"git@localhost:{repo.full_name}.git",
            "svn_url": f"{self.web}/{repo.full_name}",
            "mirror_url": None,
            "homepage": None,
            "language": None,
            "forks": 0,
            "forks_count": 0,
            "stargazers_count": 0,
            "watchers_count": 0,
            "watchers": 0,
            "size": 0,
            "default_branch": repo.default_branch,
            "open_issues": open_count,
            "open_issues_count": open_count,
            "has_issues": True,
            "has_projects": False,
            "has_wiki": False,
            "has_pages": False,
            "has_downloads": False,
            "has_discussions": False,
            "archived": False,
            "disabled": False,
            "topics": [],
            "is_template": False,
            "web_commit_signoff_required": False,
            "visibility": "private" if repo.private else "public",
            "license": None,
            "pushed_at": iso(pushed),
            "created_at": iso(repo.created_at),
            "updated_at": iso(pushed),
            "network_count": 0,
            "subscribers_count": 0,
            "allow_merge_commit": True,
            "allow_squash_merge": True,
            "allow_rebase_merge": False,
            "allow_auto_merge": repo.allow_auto_merge,
        }
        if not full:
            for key in ("network_count", "subscribers_count"):
                del body[key]
        elif self.hub.user(repo.owner).type == "Organization":
            body["organization"] = self.simple_user(repo.owner)
        if viewer is not None:
            perm = self.hub.permission(repo, viewer)
            order = ["read", "triage", "write", "maintain", "admin"]
            rank = order.index(perm) if perm in order else -1
            body["permissions"] = {
                "admin": rank >= 4,
                "maintain": rank >= 3,
                "push": rank >= 2,
                "triage": rank >= 1,
                "pull": rank >= 0,
            }
        return body

    # -- git -------------------------------------------------------------------------------

    def commit(self, repo: Repository, info: CommitInfo) -> JSON:
        """``commit``: the REST commit resource (``/repos/{o}/{r}/commits/{sha}``)."""
        url = f"{self.repo_url(repo)}/commits/{info.sha}"

        def account(person: Identity) -> JSON | None:
            for user in self.hub.state.users.values():
                if user.email == person.email:
                    return self.simple_user(user.login)
            return None

        return {
            "sha": info.sha,
            "node_id": node_id("C", info.sha),
            "url": url,
            "html_url": f"{self.web}/{repo.full_name}/commit/{info.sha}",
            "comments_url": f"{url}/comments",
            "commit": {
                "url": f"{self.repo_url(repo)}/git/commits/{info.sha}",
                "author": git_identity(info.author),
                "committer": git_identity(info.committer),
                "message": info.message.rstrip("\n"),
                "tree": {"sha": info.tree, "url": f"{self.repo_url(repo)}/git/trees/{info.tree}"},
                "comment_count": 0,
                "verification": self.verification(),
            },
            "author": account(info.author),
            "committer": account(info.committer),
            "parents": [
                {
                    "sha": p,
                    "url": f"{self.repo_url(repo)}/commits/{p}",
                    "html_url": f"{self.web}/{repo.full_name}/commit/{p}",
                }
                for p in info.parents
            ],
        }

    @staticmethod
    def verification() -> JSON:
        return {
            "verified": False,
            "reason": "unsigned",
            "signature": None,
            "payload": None,
            "verified_at": None,
        }

    # -- pull requests ---------------------------------------------------------------------

    def label(self, repo: Repository, label: Label) -> JSON:
        return {
            "id": label.id,
            "node_id": node_id("LA", label.id),
            "url": f"{self.repo_url(repo)}/labels/{label.name}",
            "name": label.name,
            "description": label.description,
            "color": label.color,
            "default": False,
        }

    def author_association(self, repo: Repository, login: str) -> str:
        if login == repo.owner:
            return "OWNER"
        if login in self.hub.state.org_members.get(repo.owner, set()):
            return "MEMBER"
        if (repo.id, login) in self.hub.state.collaborators:
            return "COLLABORATOR"
        return "CONTRIBUTOR"

    def pull_simple(self, repo: Repository, pr: PullRequest) -> JSON:
        """``pull-request-simple``: a pull request as lists show it."""
        url = f"{self.repo_url(repo)}/pulls/{pr.number}"
        issue = f"{self.repo_url(repo)}/issues/{pr.number}"
        html = f"{self.web}/{repo.full_name}/pull/{pr.number}"
        statuses = f"{self.repo_url(repo)}/statuses/{pr.head_sha}"

        def side(ref: str, sha: str) -> JSON:
            return {
                "label": f"{repo.owner}:{ref}",
                "ref": ref,
                "sha": sha,
                "user": self.simple_user(repo.owner),
                "repo": self.repository(repo, full=False),
            }

        base_sha = GitStore(repo.path).branch_sha(pr.base_ref) or pr.base_sha
        return {
            "url": url,
            "id": pr.id,
            "node_id": node_id("PR", pr.id),
            "html_url": html,
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "issue_url": issue,
            "commits_url": f"{url}/commits",
            "review_comments_url": f"{url}/comments",
            "review_comment_url": f"{self.repo_url(repo)}/pulls/comments{{/number}}",
            "comments_url": f"{issue}/comments",
            "statuses_url": statuses,
            "number": pr.number,
            "state": pr.state,
            "locked": False,
            "title": pr.title,
            "user": self.simple_user(pr.user),
            "body": pr.body,
            "labels": [self.label(repo, label) for label in pr.labels],
            "milestone": None,
            "active_lock_reason": None,
            "created_at": iso(pr.created_at),
            "updated_at": iso(pr.updated_at),
            "closed_at": iso(pr.closed_at),
            "merged_at": iso(pr.merged_at),
            "merge_commit_sha": pr.merge_commit_sha,
            "assignee": None,
            "assignees": [],
            "requested_reviewers": [],
            "requested_teams": [],
            "head": side(pr.head_ref, pr.head_sha),
            "base": side(pr.base_ref, base_sha if pr.state == "open" else pr.base_sha),
            "_links": {
                "self": {"href": url},
                "html": {"href": html},
                "issue": {"href": issue},
                "comments": {"href": f"{issue}/comments"},
                "review_comments": {"href": f"{url}/comments"},
                "review_comment": {"href": f"{self.repo_url(repo)}/pulls/comments{{/number}}"},
                "commits": {"href": f"{url}/commits"},
                "statuses": {"href": statuses},
            },
            "author_association": self.author_association(repo, pr.user),
            "auto_merge": self.auto_merge(pr),
            "draft": pr.draft,
        }

    def auto_merge(self, pr: PullRequest) -> JSON | None:
        """``auto-merge``: who asked GitHub to merge the pull request when it can, and how."""
        request = pr.auto_merge
        if request is None:
            return None
        return {
            "enabled_by": self.simple_user(request.enabled_by),
            "merge_method": request.merge_method,
            "commit_title": request.commit_title,
            "commit_message": request.commit_message,
        }

    def pull(self, repo: Repository, pr: PullRequest) -> JSON:
        """``pull-request``: one pull request in full, with its diff statistics."""
        store = GitStore(repo.path)
        base = store.branch_sha(pr.base_ref) or pr.base_sha
        files = store.diff(pr.base_sha if pr.merged else base, pr.head_sha)
        commits = store.commits_between(pr.base_sha if pr.merged else base, pr.head_sha)
        mergeable = None if pr.state != "open" else self.hub.mergeable(repo, pr)
        if pr.state != "open":
            mergeable_state = "unknown"
        elif not mergeable:
            mergeable_state = "dirty"
        elif self.hub.blockers(repo, pr):
            mergeable_state = "blocked"
        else:
            mergeable_state = "clean"
        comments = len(self.hub.comments_of(repo, pr.number))
        return self.pull_simple(repo, pr) | {
            "merged": pr.merged,
            "mergeable": mergeable,
            "rebaseable": mergeable,
            "mergeable_state": mergeable_state,
            "merged_by": self.simple_user(pr.merged_by) if pr.merged_by else None,
            "comments": comments,
            "review_comments": 0,
            "maintainer_can_modify": False,
            "commits": len(commits),
            "additions": sum(f.additions for f in files),
            "deletions": sum(f.deletions for f in files),
            "changed_files": len(files),
        }

    def issue(self, repo: Repository, item: Issue | PullRequest) -> JSON:
        """``issue``: a plain issue, or a pull request as the issues endpoints show it."""
        url = f"{self.repo_url(repo)}/issues/{item.number}"
        pull = isinstance(item, PullRequest)
        html = f"{self.web}/{repo.full_name}/{'pull' if pull else 'issues'}/{item.number}"
        closed_by = item.merged_by if isinstance(item, PullRequest) else item.closed_by
        body: JSON = {
            "id": item.id,
            "node_id": node_id("PR" if pull else "I", item.id),
            "url": url,
            "repository_url": self.repo_url(repo),
            "labels_url": f"{url}/labels{{/name}}",
            "comments_url": f"{url}/comments",
            "events_url": f"{url}/events",
            "timeline_url": f"{url}/timeline",
            "html_url": html,
            "number": item.number,
            "state": item.state,
            "state_reason": None if isinstance(item, PullRequest) else item.state_reason,
            "title": item.title,
            "body": item.body,
            "user": self.simple_user(item.user),
            "labels": [self.label(repo, label) for label in item.labels],
            "assignee": None,
            "assignees": [],
            "milestone": None,
            "locked": False,
            "active_lock_reason": None,
            "comments": len(self.hub.comments_of(repo, item.number)),
            "closed_at": iso(item.closed_at),
            "closed_by": self.simple_user(closed_by) if closed_by else None,
            "created_at": iso(item.created_at),
            "updated_at": iso(item.updated_at),
            "author_association": self.author_association(repo, item.user),
        }
        if isinstance(item, PullRequest):
            pulls = f"{self.repo_url(repo)}/pulls/{item.number}"
            body["draft"] = item.draft
            body["pull_request"] = {
                "url": pulls,
                "html_url": html,
                "diff_url": f"{html}.diff",
                "patch_url": f"{html}.patch",
                "merged_at": iso(item.merged_at),
            }
        return body

    def review(self, repo: Repository, review: Review) -> JSON:
        """``pull-request-review``."""
        pull_url = f"{self.repo_url(repo)}/pulls/{review.number}"
        html = f"{self.web}/{repo.full_name}/pull/{review.number}#pullrequestreview-{review.id}"
        return {
            "id": review.id,
            "node_id": node_id("PRR", review.id),
            "user": self.simple_user(review.user),
            "body": review.body,
            "state": review.state,
            "html_url": html,
            "pull_request_url": pull_url,
            "_links": {"html": {"href": html}, "pull_request": {"href": pull_url}},
            "submitted_at": iso(review.submitted_at),
            "commit_id": review.commit_id,
            "author_association": self.author_association(repo, review.user),
        }
