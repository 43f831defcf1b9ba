"""The hub's pull requests: opening and updating them, what blocks a merge (reviews, code
owners, required status checks, from branch protection and rulesets together), and merging by
merge commit, squash or rebase."""

from __future__ import annotations

from dataclasses import replace

from jitops.testing.github import owner_rules
from jitops.testing.github.hub.base import EventRecord, HubBase, HubError, validation_failed
from jitops.testing.github.state import PullRequest, Repository


class PullRequestsMixin(HubBase):
    """Pull requests, their blockers and merging."""

    def open_pull(
        self,
        repo: Repository,
        *,
        head: str,
        base: str | None = None,
        title: str,
        user: str,
        body: str | None = None,
        draft: bool = False,
    ) -> PullRequest:
        """Open a pull request from branch ``head`` into ``base`` (default branch)."""
        base = base or repo.default_branch
        store = self.git(repo)
        head_sha = store.branch_sha(head.split(":", 1)[-1])
        base_sha = store.branch_sha(base)
        if head_sha is None:
            raise validation_failed(resource="PullRequest", field="head", code="invalid")
        if base_sha is None:
            raise validation_failed(resource="PullRequest", field="base", code="invalid")
        if store.is_ancestor(head_sha, base_sha):
            raise validation_failed(
                resource="PullRequest",
                code="custom",
                message=f"No commits between {base} and {head}",
            )
        st = self.state
        with st.lock:
            for pr in st.pulls_of(repo.id):
                if pr.state == "open" and pr.head_ref == head and pr.base_ref == base:
                    raise validation_failed(
                        resource="PullRequest",
                        code="custom",
                        message=f"A pull request already exists for {repo.owner}:{head}.",
                    )
            number = st.next_number[repo.id]
            st.next_number[repo.id] = number + 1
            now = st.now()
            pr = PullRequest(
                st.new_id(), repo.id, number, title, body, user, head, base, head_sha, base_sha,
                draft=draft, created_at=now, updated_at=now,
            )  # fmt: skip
            st.pulls[(repo.id, number)] = pr
            self.write_pull_refs(repo, pr)
        self._emit(EventRecord("pull_request", "opened", repo.id, user, number=number))
        return pr

    def pull(self, repo: Repository, number: int) -> PullRequest:
        with self.state.lock:
            found = self.state.pulls.get((repo.id, number))
            if found is None:
                raise HubError(404, "Not Found")
            return found

    def update_pull(
        self,
        repo: Repository,
        number: int,
        *,
        sender: str,
        title: str | None = None,
        body: str | None = None,
        state: str | None = None,
        base: str | None = None,
    ) -> PullRequest:
        """Edit title, body or base, or close / reopen a pull request."""
        st = self.state
        with st.lock:
            pr = self.pull(repo, number)
            now = st.now()
            changed = replace(
                pr,
                title=title if title is not None else pr.title,
                body=body if body is not None else pr.body,
                base_ref=base or pr.base_ref,
                updated_at=now,
            )
            if state == "closed" and pr.state == "open":
                changed = replace(changed, state="closed", closed_at=now, auto_merge=None)
            elif state == "open" and pr.state == "closed" and not pr.merged:
                changed = replace(changed, state="open", closed_at=None)
            st.pulls[(repo.id, number)] = changed
        if changed.state != pr.state:
            action = "closed" if changed.state == "closed" else "reopened"
            self._emit(EventRecord("pull_request", action, repo.id, sender, number=number))
        return changed

    def mergeable(self, repo: Repository, pr: PullRequest) -> bool:
        store = self.git(repo)
        base = store.branch_sha(pr.base_ref)
        return base is not None and store.merge_tree(base, pr.head_sha) is not None

    def blockers(self, repo: Repository, pr: PullRequest) -> list[str]:
        """Why branch protection or a ruleset on the base branch would refuse to merge ``pr``
        now."""
        required = self.required_status_checks(repo, pr.base_ref)
        states = self.check_states(repo, pr.head_sha) if required else {}
        problems = [
            f'Required status check "{context}" is expected.'
            for context in required
            if states.get(context) != "success"
        ]
        protection = self.review_rules(repo, pr.base_ref)
        if protection is None:
            return problems
        approvers = self.approvers(repo, pr)
        if protection.required_approving_review_count > 0 and self.requested_changes(repo, pr):
            # "Approving a pull request with required reviews": a writer's review asking for
            # changes blocks the merge until they approve or their review is dismissed
            problems.append("Changes were requested by a reviewer with write access.")
        if len(approvers) < protection.required_approving_review_count:
            problems.append(
                f"At least {protection.required_approving_review_count} approving review"
                " is required by reviewers with write access."
            )
        if protection.require_code_owner_reviews:
            for path, owners in self.code_owners_of_changes(repo, pr).items():
                if owners and not any(self._is_owner(owner, approvers) for owner in owners):
                    problems.append(
                        f"Waiting on code owner review from {' '.join(owners)} ({path})."
                    )
        return problems

    def _latest_decisions(self, repo: Repository, pr: PullRequest) -> dict[str, str]:
        """Each reviewer's latest deciding review state (GitHub's own count: any commit)."""
        latest: dict[str, str] = {}
        for review in self.state.reviews_of(repo.id, pr.number):
            if review.state in ("APPROVED", "CHANGES_REQUESTED", "DISMISSED"):
                latest[review.user] = review.state
        return latest

    def approvers(self, repo: Repository, pr: PullRequest) -> set[str]:
        """Users with write access whose latest deciding review approves."""
        return {
            login
            for login, state in self._latest_decisions(repo, pr).items()
            if state == "APPROVED" and self.can(repo, login, "write")
        }

    def requested_changes(self, repo: Repository, pr: PullRequest) -> set[str]:
        """Users with write access whose latest deciding review asks for changes."""
        return {
            login
            for login, state in self._latest_decisions(repo, pr).items()
            if state == "CHANGES_REQUESTED" and self.can(repo, login, "write")
        }

    def _is_owner(self, owner: str, logins: set[str]) -> bool:
        name = owner.lstrip("@")
        if "/" not in name:  # CODEOWNERS names people in any case
            return self.state.canonical(name) in logins
        org, _, slug = name.partition("/")
        try:
            team = self.team(org, slug)
        except HubError:
            return False
        return any(
            m.state == "active" and m.login in logins for m in self.state.team_members(team.id)
        )

    def codeowners_file(self, repo: Repository, ref: str) -> tuple[str, str] | None:
        """``(path, text)`` of the CODEOWNERS file GitHub would use at ``ref``."""
        store = self.git(repo)
        for path in owner_rules.LOCATIONS:
            entry = store.entry_at(ref, path)
            if entry is not None and entry.type == "blob":
                return path, store.read_blob(entry.sha).decode(errors="replace")
        return None

    def code_owners_of_changes(
        self, repo: Repository, pr: PullRequest
    ) -> dict[str, tuple[str, ...]]:
        """Each changed file of ``pr`` and its owners under the base branch's CODEOWNERS."""
        found = self.codeowners_file(repo, f"refs/heads/{pr.base_ref}")
        if found is None:
            return {}
        rules = owner_rules.parse(found[1])
        store = self.git(repo)
        base = store.branch_sha(pr.base_ref) or pr.base_sha
        return {
            c.filename: owner_rules.owners_of(rules, c.filename)
            for c in store.diff(base, pr.head_sha)
        }

    def merge(
        self,
        repo: Repository,
        number: int,
        *,
        user: str,
        method: str = "merge",
        sha: str | None = None,
        commit_title: str | None = None,
        commit_message: str | None = None,
    ) -> PullRequest:
        """Merge a pull request (``merge``, ``squash`` or ``rebase``) as ``user``, as GitHub
        would. A rebase replays each commit of the pull request on the base branch as a new
        commit (committed by ``user``); here only when the head already sits on the base
        branch's tip, so every replayed tree is the original's (GitHub refuses a rebase it
        cannot do cleanly too)."""
        if method not in ("merge", "squash", "rebase"):
            raise HubError(422, f"Merge method {method} is not allowed on this repository")
        store = self.git(repo)
        st = self.state
        with st.lock:
            pr = self.pull(repo, number)
            if not self.can(repo, user, "write"):
                raise HubError(403, "Resource not accessible by personal access token")
            if pr.state != "open":
                raise HubError(405, "Pull Request is not mergeable")
            if sha is not None and sha != pr.head_sha:
                raise HubError(409, "Head branch was modified. Review and try the merge again.")
            blockers = self.blockers(repo, pr)
            if blockers:
                raise HubError(405, f"Repository rule violations found\n\n{blockers[0]}")
            base_sha = store.branch_sha(pr.base_ref)
            tree = store.merge_tree(base_sha, pr.head_sha) if base_sha else None
            if base_sha is None or tree is None:
                raise HubError(405, "Pull Request is not mergeable")
            rebased: tuple[str, ...] = ()
            if method == "rebase":
                if not store.is_ancestor(base_sha, pr.head_sha):
                    raise HubError(405, "This branch can't be rebased")
                tip = base_sha
                replayed = []
                for original in store.commits_between(base_sha, pr.head_sha):
                    info = store.commit(original)
                    if len(info.parents) != 1:
                        raise HubError(405, "This branch can't be rebased")
                    tip = store.commit_tree(info.tree, [tip], info.message, self.identity(user))
                    replayed.append(tip)
                rebased = tuple(replayed)
            if method == "rebase":
                merged = rebased[-1]
            elif method == "merge":
                title = (
                    commit_title or f"Merge pull request #{number} from {repo.owner}/{pr.head_ref}"
                )
                parents = [base_sha, pr.head_sha]
                message = (
                    f"{title}\n\n{commit_message if commit_message is not None else pr.title}\n"
                )
            else:
                title = commit_title or f"{pr.title} (#{number})"
                parents = [base_sha]
                message = f"{title}\n\n{commit_message or ''}".rstrip() + "\n"
            if method != "rebase":
                merged = store.commit_tree(tree, parents, message, self.identity(user))
            store.update_ref(f"refs/heads/{pr.base_ref}", merged, base_sha)
            now = st.now()
            pr = replace(
                pr, state="closed", merged=True, merged_at=now, merged_by=user,
                merge_commit_sha=merged, rebased=rebased, closed_at=now, updated_at=now,
            )  # fmt: skip
            st.pulls[(repo.id, number)] = pr
        self.refs_changed(repo, user, [(f"refs/heads/{pr.base_ref}", base_sha, merged)])
        self._emit(EventRecord("pull_request", "closed", repo.id, user, number=number))
        return pr
