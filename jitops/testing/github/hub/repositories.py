"""The hub's repositories: creating them (from a local repository, from files, or empty),
collaborators and their permissions, and the rules on merging into a branch: classic branch
protection, rulesets, and what the two require together."""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from jitops.testing.github.gitstore import GitStore
from jitops.testing.github.hub.base import FileContent, HubBase, HubError
from jitops.testing.github.state import (
    DEFAULT_BRANCH,
    PERMISSIONS,
    BranchProtection,
    Repository,
    Ruleset,
)


class RepositoriesMixin(HubBase):
    """Repositories, collaborators, branch protection and rulesets."""

    def create_repo(
        self,
        full_name: str,
        *,
        files: Mapping[str, FileContent] | None = None,
        source: Path | None = None,
        default_branch: str = "main",
        private: bool = False,
        description: str | None = None,
        author: str | None = None,
    ) -> Repository:
        """Create a repository: from the branches of the local git repository ``source``, or
        with one commit of ``files`` on ``default_branch``, or empty."""
        owner, _, name = full_name.partition("/")
        st = self.state
        with st.lock:
            owner = self.user(owner).login
            full_name = f"{owner}/{name}"
            if st.full_name(full_name) in st.repos:
                raise HubError(422, "name already exists on this account")
            path = self.root / owner / f"{name}.git"
            if path.exists():
                shutil.rmtree(path)
            store = GitStore.init(path, default_branch)
            repo = Repository(
                st.new_id(), owner, name, path, default_branch, private, description, st.now()
            )
            st.repos[full_name] = repo
            st.next_number[repo.id] = 1
        if source is not None:
            store.git("fetch", "--quiet", str(source), "+refs/heads/*:refs/heads/*")
        elif files is not None:
            self.push(repo, default_branch, files, author=author or owner, message="Initial commit")
        return repo

    def repo(self, full_name: str) -> Repository:
        with self.state.lock:
            found = self.state.repos.get(self.state.full_name(full_name))
            if found is None:
                raise HubError(404, "Not Found")
            return found

    def git(self, repo: Repository) -> GitStore:
        """The git repository behind ``repo``."""
        return GitStore(repo.path)

    def add_collaborator(self, repo: Repository, login: str, permission: str = "write") -> None:
        if permission not in PERMISSIONS:
            raise ValueError(f"unknown permission {permission!r}")
        with self.state.lock:
            login = self.user(login).login
            self.state.collaborators[(repo.id, login)] = permission

    def permission(self, repo: Repository, login: str) -> str:
        """``admin``, ``maintain``, ``write``, ``triage``, ``read`` or ``none``."""
        with self.state.lock:
            login = self.state.canonical(login)
            if login == repo.owner:
                return "admin"
            explicit = self.state.collaborators.get((repo.id, login))
            if explicit:
                return explicit
            if login in self.state.org_members.get(repo.owner, set()):
                return "read"
            return "none" if repo.private else "read"

    def can(self, repo: Repository, login: str, needed: str) -> bool:
        return PERMISSIONS.index(self.permission(repo, login)) >= PERMISSIONS.index(needed)

    def protect_branch(self, repo: Repository, branch: str, protection: BranchProtection) -> None:
        """Turn on branch protection for ``branch`` with these options."""
        with self.state.lock:
            self.state.protection[(repo.id, branch)] = protection
        self.settle_auto_merges(repo)

    def set_allow_auto_merge(self, repo: Repository, allowed: bool = True) -> Repository:
        """The repository setting "Allow auto-merge" (off on GitHub until an admin turns it
        on); returns the updated record."""
        with self.state.lock:
            updated = replace(self.repo(repo.full_name), allow_auto_merge=allowed)
            self.state.repos[repo.full_name] = updated
            return updated

    def protection(self, repo: Repository, branch: str) -> BranchProtection | None:
        with self.state.lock:
            return self.state.protection.get((repo.id, branch))

    def review_rules(self, repo: Repository, branch: str) -> BranchProtection | None:
        """The review settings a merge into ``branch`` must meet: classic protection's and
        every applying ruleset's ``pull_request`` rule together (GitHub enforces all of them:
        the highest count, and any rule that is on). None: neither asks for anything."""
        sources = [self.protection(repo, branch)]
        sources += [r.reviews for r in self.rulesets(repo, branch)]
        found = [s for s in sources if s is not None]
        if not found:
            return None
        return BranchProtection(
            required_approving_review_count=max(s.required_approving_review_count for s in found),
            require_code_owner_reviews=any(s.require_code_owner_reviews for s in found),
            dismiss_stale_reviews=any(s.dismiss_stale_reviews for s in found),
            require_last_push_approval=any(s.require_last_push_approval for s in found),
        )

    def add_ruleset(
        self,
        repo: Repository,
        name: str,
        *,
        branches: Sequence[str] = (DEFAULT_BRANCH,),
        required_status_checks: Sequence[str] = (),
        reviews: BranchProtection | None = None,
    ) -> Ruleset:
        """An active branch ruleset on ``repo`` for ``branches`` (names, ``~DEFAULT_BRANCH`` or
        ``~ALL``) requiring these status checks before a merge, as classic protection does,
        and with ``reviews`` a ``pull_request`` rule (its review settings; status checks in it
        are ignored)."""
        with self.state.lock:
            ruleset = Ruleset(
                self.state.new_id(),
                repo.id,
                name,
                tuple(branches),
                tuple(required_status_checks),
                reviews,
            )
            self.state.rulesets[ruleset.id] = ruleset
        self.settle_auto_merges(repo)
        return ruleset

    def rulesets(self, repo: Repository, branch: str) -> list[Ruleset]:
        """The active rulesets that apply to ``branch`` (existing or not, as GitHub matches)."""
        with self.state.lock:
            default = self.repo(repo.full_name).default_branch
            return [
                r
                for r in self.state.rulesets.values()
                if r.repo_id == repo.id and r.applies_to(branch, default)
            ]

    def is_governed(self, repo: Repository, branch: str) -> bool:
        """Whether branch protection or a ruleset applies to ``branch`` (GitHub allows
        auto-merge only then)."""
        return self.protection(repo, branch) is not None or bool(self.rulesets(repo, branch))

    def required_status_checks(self, repo: Repository, branch: str) -> tuple[str, ...]:
        """Every status check a merge into ``branch`` needs: branch protection's and every
        ruleset's, each once."""
        protection = self.protection(repo, branch)
        contexts = list(protection.required_status_checks if protection else ())
        for ruleset in self.rulesets(repo, branch):
            contexts += ruleset.required_status_checks
        return tuple(dict.fromkeys(contexts))
