"""The test server's domain operations, shared by the HTTP handlers and by tests setting up state.

``Hub`` owns the ``State`` records and one ``GitStore`` per repository. Every change that GitHub
would announce with a webhook (a pull request opened, a push, a review submitted...) is handed to
``event_sink`` as an ``EventRecord``; the server turns those into payloads (``events.py``).
Rules GitHub itself enforces (no approving your own pull request, branch protection and rulesets
on merge, dismissing stale approvals on push) are enforced here and raise ``HubError``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from jitops.testing.github import owner_rules
from jitops.testing.github.hub.base import (
    Account,
    EventRecord,
    FileContent,
    HubBase,
    HubError,
    validation_failed,
)
from jitops.testing.github.hub.people import PeopleMixin
from jitops.testing.github.hub.pushing import PushingMixin
from jitops.testing.github.hub.repositories import RepositoriesMixin
from jitops.testing.github.state import (
    AutoMerge,
    CheckRun,
    CommitStatus,
    Issue,
    IssueComment,
    Label,
    PullRequest,
    Repository,
    Review,
    State,
)

# What other modules import from here, wherever it lives in the package.
__all__ = [
    "MAX_PINNED",
    "Account",
    "EventRecord",
    "FileContent",
    "Hub",
    "HubError",
    "validation_failed",
]

MAX_PINNED = 3  # pinned issues per repository


class Hub(PeopleMixin, RepositoriesMixin, PushingMixin, HubBase):
    """Users, organisations, repositories and pull requests, backed by real git repositories."""

    def __init__(self, root: Path, state: State | None = None) -> None:
        self.root = root
        self.state = state or State()
        self.event_sink: Callable[[EventRecord], None] | None = None

    # -- pull requests -----------------------------------------------------------------------

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

    # -- auto-merge --------------------------------------------------------------------------

    def enable_auto_merge(
        self,
        repo: Repository,
        number: int,
        *,
        user: str,
        method: str = "merge",
        commit_title: str | None = None,
        commit_message: str | None = None,
    ) -> PullRequest:
        """Request auto-merge, refused as GitHub's ``enablePullRequestAutoMerge`` refuses it:
        the repository must allow it, and the pull request must be open and still waiting on
        its base branch's protection (one that could merge now is "in clean status")."""
        st = self.state
        with st.lock:
            repo = self.repo(repo.full_name)  # the current settings
            pr = self.pull(repo, number)
            if not self.can(repo, user, "write"):
                raise HubError(403, "Resource not accessible by personal access token")
            if not repo.allow_auto_merge:
                raise HubError(422, "Auto merge is not allowed for this repository")
            if pr.state != "open":
                raise HubError(422, "Pull request Pull request is closed")
            if method not in ("merge", "squash"):
                raise HubError(422, f"Merge method {method} is not allowed on this repository")
            if not self.is_governed(repo, pr.base_ref):
                raise HubError(
                    422, "Pull request Protected branch rules not configured for this branch"
                )
            if self.mergeable(repo, pr) and not self.blockers(repo, pr):
                raise HubError(422, "Pull request Pull request is in clean status")
            if method == "merge":
                title = f"Merge pull request #{number} from {repo.owner}/{pr.head_ref}"
                message = pr.title
            else:
                title, message = f"{pr.title} (#{number})", ""
            request = AutoMerge(
                user,
                method,
                commit_title if commit_title is not None else title,
                commit_message if commit_message is not None else message,
                st.now(),
            )
            pr = replace(pr, auto_merge=request, updated_at=st.now())
            st.pulls[(repo.id, number)] = pr
            return pr

    def settle_auto_merges(self, repo: Repository) -> list[PullRequest]:
        """Merge every open pull request with auto-merge on whose base branch's protection is
        now satisfied, as the person who turned it on (GitHub does this on its own after each
        status, check, review or push); returns the merged ones."""
        merged = []
        for pr in self.state.pulls_of(repo.id):
            request = pr.auto_merge
            if pr.state != "open" or request is None:
                continue
            if not self.mergeable(repo, pr) or self.blockers(repo, pr):
                continue
            try:
                merged.append(
                    self.merge(
                        repo,
                        pr.number,
                        user=request.enabled_by,
                        method=request.merge_method,
                        sha=pr.head_sha,
                        commit_title=request.commit_title,
                        commit_message=request.commit_message,
                    )
                )
            except HubError:
                continue  # lost the race, or the person lost write access: it stays open
        return merged

    def pulls_for_commit(self, repo: Repository, sha: str) -> list[PullRequest]:
        """As GitHub lists them: for a commit on the default branch, the merged pull request
        that introduced it (whose merge it is, or whose own commits hold it, not those it was
        branched from); for any other commit, the open pull requests whose head holds it."""
        store = self.git(repo)
        pulls = self.state.pulls_of(repo.id)
        merged_by = [pr for pr in pulls if pr.merge_commit_sha == sha or sha in pr.rebased]
        if merged_by:
            return merged_by
        default = store.branch_sha(repo.default_branch)
        if default is not None and store.is_ancestor(sha, default):
            return [
                pr
                for pr in pulls
                if pr.merged
                and store.is_ancestor(sha, pr.head_sha)
                and not store.is_ancestor(sha, pr.base_sha)
            ]
        return [pr for pr in pulls if pr.state == "open" and store.is_ancestor(sha, pr.head_sha)]

    # -- reviews -----------------------------------------------------------------------------

    def review(
        self,
        repo: Repository,
        number: int,
        *,
        user: str,
        event: str,
        body: str = "",
        commit_id: str | None = None,
    ) -> Review:
        """Submit a review: ``APPROVE``, ``REQUEST_CHANGES`` or ``COMMENT``."""
        states = {
            "APPROVE": "APPROVED",
            "REQUEST_CHANGES": "CHANGES_REQUESTED",
            "COMMENT": "COMMENTED",
        }
        if event not in states:
            raise HubError(422, f"Unprocessable Entity: event {event!r}")
        st = self.state
        with st.lock:
            user = self.user(user).login  # the reviewer as the account spells it
            pr = self.pull(repo, number)
            if event in ("APPROVE", "REQUEST_CHANGES") and user == pr.user:
                verb = "approve" if event == "APPROVE" else "request changes on"
                raise HubError(422, f"Unprocessable Entity: Can not {verb} your own pull request")
            if event in ("REQUEST_CHANGES", "COMMENT") and not body:
                raise HubError(
                    422, f"Unprocessable Entity: Review Comment is missing (event {event})"
                )
            commit_id = commit_id or pr.head_sha
            if self.git(repo).object_type(commit_id) != "commit":
                raise HubError(
                    422, "Unprocessable Entity: commit_id is not part of the pull request"
                )
            review = Review(
                st.new_id(), repo.id, number, user, body, states[event], commit_id, st.now()
            )
            st.reviews[review.id] = review
        self._emit(
            EventRecord(
                "pull_request_review",
                "submitted",
                repo.id,
                user,
                number=number,
                review_id=review.id,
            )
        )
        self.settle_auto_merges(repo)
        return review

    def get_review(self, repo: Repository, number: int, review_id: int) -> Review:
        with self.state.lock:
            review = self.state.reviews.get(review_id)
            if review is None or (review.repo_id, review.number) != (repo.id, number):
                raise HubError(404, "Not Found")
            return review

    def dismiss_review(
        self, repo: Repository, number: int, review_id: int, *, user: str, message: str
    ) -> Review:
        """Dismiss an approval or change request. It needs write access (without it GitHub
        answers 404: the operation documents 200, 404 and 422 only) and, when branch
        protection governs the base branch, an administrator ("To dismiss a pull request
        review on a protected branch, you must be a repository administrator or be included
        in the list of people or teams who can dismiss pull request reviews"; no such list
        is modelled)."""
        st = self.state
        with st.lock:
            review = self.get_review(repo, number, review_id)
            if not self.can(repo, user, "write"):
                raise HubError(404, "Not Found")
            base = self.pull(repo, number).base_ref
            if self.protection(repo, base) is not None and not self.can(repo, user, "admin"):
                raise HubError(422, "Branch protections do not permit dismissing this review")
            if review.state not in ("APPROVED", "CHANGES_REQUESTED"):
                raise HubError(422, "Can not dismiss a commented pull request review")
            review = replace(review, state="DISMISSED")
            st.reviews[review_id] = review
        self._emit(
            EventRecord(
                "pull_request_review",
                "dismissed",
                repo.id,
                user,
                number=number,
                review_id=review_id,
            )
        )
        return review

    # -- issues ------------------------------------------------------------------------------

    def open_issue(
        self,
        repo: Repository,
        *,
        title: str,
        user: str,
        body: str | None = None,
        labels: Sequence[str] = (),
    ) -> Issue:
        """Open a plain issue; it takes the next number, shared with pull requests."""
        st = self.state
        with st.lock:
            self.user(user)
            number = st.next_number[repo.id]
            st.next_number[repo.id] = number + 1
            now = st.now()
            issue = Issue(
                st.new_id(), repo.id, number, title, body, user,
                labels=self._labels(repo, labels), created_at=now, updated_at=now,
            )  # fmt: skip
            st.issues[(repo.id, number)] = issue
            return issue

    def issue(self, repo: Repository, number: int) -> Issue:
        """The plain issue ``number`` (a pull request's number is not one); 404 if absent."""
        with self.state.lock:
            found = self.state.issues.get((repo.id, number))
            if found is None:
                raise HubError(404, "Not Found")
            return found

    def issue_or_pull(self, repo: Repository, number: int) -> Issue | PullRequest:
        """What ``/issues/{number}`` names: GitHub treats every pull request as an issue."""
        with self.state.lock:
            found = self.state.issues.get((repo.id, number)) or self.state.pulls.get(
                (repo.id, number)
            )
            if found is None:
                raise HubError(404, "Not Found")
            return found

    def update_issue(
        self,
        repo: Repository,
        number: int,
        *,
        sender: str,
        title: str | None = None,
        body: str | None = None,
        state: str | None = None,
        state_reason: str | None = None,
    ) -> Issue:
        """Edit a plain issue; closing records who and why (``completed`` unless told), and
        reopening makes the reason ``reopened``, as GitHub does."""
        st = self.state
        with st.lock:
            issue = self.issue(repo, number)
            now = st.now()
            changed = replace(
                issue,
                title=title if title is not None else issue.title,
                body=body if body is not None else issue.body,
                updated_at=now,
            )
            if state == "closed" and issue.state == "open":
                changed = replace(
                    changed, state="closed", state_reason=state_reason or "completed",
                    closed_at=now, closed_by=sender,
                )  # fmt: skip
            elif state == "open" and issue.state == "closed":
                changed = replace(
                    changed, state="open", state_reason="reopened", closed_at=None, closed_by=None
                )
            st.issues[(repo.id, number)] = changed
            return changed

    def set_pinned(self, repo: Repository, number: int, pinned: bool) -> Issue:
        """Pin an issue to the top of the repository's issue list (at most ``MAX_PINNED``,
        as on GitHub), or unpin it."""
        st = self.state
        with st.lock:
            issue = self.issue(repo, number)
            others = [i for i in st.issues_of(repo.id) if i.pinned and i.number != number]
            if pinned and not issue.pinned and len(others) >= MAX_PINNED:
                raise HubError(422, f"A repository can have at most {MAX_PINNED} pinned issues")
            issue = replace(issue, pinned=pinned)
            st.issues[(repo.id, number)] = issue
            return issue

    # -- comments and labels -----------------------------------------------------------------

    def comment(self, repo: Repository, number: int, *, user: str, body: str) -> IssueComment:
        """Comment on an issue or a pull request."""
        st = self.state
        with st.lock:
            self.issue_or_pull(repo, number)
            now = st.now()
            comment = IssueComment(st.new_id(), repo.id, number, user, body, now, now)
            st.comments[comment.id] = comment
            return comment

    def get_comment(self, repo: Repository, comment_id: int) -> IssueComment:
        with self.state.lock:
            found = self.state.comments.get(comment_id)
            if found is None or found.repo_id != repo.id:
                raise HubError(404, "Not Found")
            return found

    def edit_comment(
        self, repo: Repository, comment_id: int, *, user: str, body: str
    ) -> IssueComment:
        st = self.state
        with st.lock:
            comment = self.get_comment(repo, comment_id)
            if comment.user != user and not self.can(repo, user, "write"):
                raise HubError(403, "Resource not accessible by personal access token")
            comment = replace(comment, body=body, updated_at=st.now())
            st.comments[comment_id] = comment
            return comment

    def comments_of(self, repo: Repository, number: int) -> list[IssueComment]:
        with self.state.lock:
            self.issue_or_pull(repo, number)
            return sorted(
                (
                    c
                    for c in self.state.comments.values()
                    if (c.repo_id, c.number) == (repo.id, number)
                ),
                key=lambda c: c.id,
            )

    def _labels(self, repo: Repository, names: Sequence[str]) -> tuple[Label, ...]:
        """The repository's labels named ``names``, created on first use, without repeats."""
        st = self.state
        with st.lock:
            labels: list[Label] = []
            for name in names:
                label = st.labels.get((repo.id, name))
                if label is None:
                    label = Label(st.new_id(), name)
                    st.labels[(repo.id, name)] = label
                if label not in labels:
                    labels.append(label)
            return tuple(labels)

    def add_labels(self, repo: Repository, number: int, names: Sequence[str]) -> tuple[Label, ...]:
        """Add labels to an issue or a pull request; return all of its labels."""
        with self.state.lock:
            item = self.issue_or_pull(repo, number)
            return self.set_labels(repo, number, [*(label.name for label in item.labels), *names])

    def set_labels(self, repo: Repository, number: int, names: Sequence[str]) -> tuple[Label, ...]:
        """Replace the labels of an issue or a pull request."""
        st = self.state
        with st.lock:
            item = self.issue_or_pull(repo, number)
            labels = self._labels(repo, names)
            if isinstance(item, Issue):
                st.issues[(repo.id, number)] = replace(item, labels=labels)
            else:
                st.pulls[(repo.id, number)] = replace(item, labels=labels)
            return labels

    # -- statuses and checks -----------------------------------------------------------------

    def set_status(
        self,
        repo: Repository,
        sha: str,
        *,
        state: str,
        context: str = "default",
        creator: str,
        description: str | None = None,
        target_url: str | None = None,
    ) -> CommitStatus:
        if state not in ("error", "failure", "pending", "success"):
            raise HubError(422, "Validation Failed")
        if self.git(repo).resolve_commit(sha) is None:
            raise HubError(422, f"No commit found for SHA: {sha}")
        st = self.state
        with st.lock:
            now = st.now()
            status = CommitStatus(
                st.new_id(),
                repo.id,
                sha,
                state,
                context,
                creator,
                description,
                target_url,
                now,
                now,
            )
            st.statuses.append(status)
        self.settle_auto_merges(repo)
        return status

    def statuses_for(self, repo: Repository, sha: str) -> list[CommitStatus]:
        """Every status on ``sha``, newest first."""
        with self.state.lock:
            return [
                s for s in reversed(self.state.statuses) if s.repo_id == repo.id and s.sha == sha
            ]

    def check_states(self, repo: Repository, sha: str) -> dict[str, str]:
        """The latest outcome per context, from statuses and completed check runs."""
        result: dict[str, str] = {}
        for status in reversed(self.statuses_for(repo, sha)):
            result[status.context] = status.state
        for run in self.check_runs_for(repo, sha):
            if run.status == "completed":
                ok = run.conclusion in ("success", "neutral", "skipped")
                result[run.name] = "success" if ok else "failure"
            else:
                result[run.name] = "pending"
        return result

    def create_check_run(
        self, repo: Repository, *, name: str, head_sha: str, **fields: object
    ) -> CheckRun:
        if self.git(repo).resolve_commit(head_sha) is None:
            raise HubError(422, "Validation Failed")
        st = self.state
        with st.lock:
            run = CheckRun(st.new_id(), repo.id, head_sha, name)
            run = self._apply_check_fields(run, fields)
            st.check_runs[run.id] = run
        self.settle_auto_merges(repo)
        return run

    def update_check_run(self, repo: Repository, run_id: int, **fields: object) -> CheckRun:
        st = self.state
        with st.lock:
            run = self.check_run(repo, run_id)
            run = self._apply_check_fields(run, fields)
            st.check_runs[run.id] = run
        self.settle_auto_merges(repo)
        return run

    def _apply_check_fields(self, run: CheckRun, fields: Mapping[str, object]) -> CheckRun:
        allowed = {
            "name",
            "status",
            "conclusion",
            "details_url",
            "external_id",
            "title",
            "summary",
            "text",
        }
        unknown = set(fields) - allowed
        if unknown:
            raise HubError(422, f"Invalid fields: {', '.join(sorted(unknown))}")
        run = replace(run, **fields)  # type: ignore[arg-type]
        now = self.state.now()
        if run.conclusion is not None:
            run = replace(run, status="completed")
        if run.status not in ("queued", "in_progress", "completed"):
            raise HubError(422, "Validation Failed")
        if run.status != "queued" and run.started_at is None:
            run = replace(run, started_at=now)
        if run.status == "completed" and run.completed_at is None:
            if run.conclusion is None:
                raise HubError(422, "conclusion is required when status is completed")
            run = replace(run, completed_at=now)
        return run

    def check_run(self, repo: Repository, run_id: int) -> CheckRun:
        with self.state.lock:
            run = self.state.check_runs.get(run_id)
            if run is None or run.repo_id != repo.id:
                raise HubError(404, "Not Found")
            return run

    def check_runs_for(self, repo: Repository, sha: str) -> list[CheckRun]:
        """The latest check run per name on ``sha``."""
        with self.state.lock:
            latest: dict[str, CheckRun] = {}
            for run in sorted(self.state.check_runs.values(), key=lambda r: r.id):
                if run.repo_id == repo.id and run.head_sha == sha:
                    latest[run.name] = run
            return list(latest.values())
