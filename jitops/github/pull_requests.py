"""Reading a pull request: itself, its changed files, its reviews and who made its commits; and a
file at a commit (its bytes, its mode)."""

from __future__ import annotations

import base64
from collections.abc import Iterable

from jitops.gate import ChangedFile, FileStatus
from jitops.github.client import GitHubBase
from jitops.github.errors import GitHubError
from jitops.github.values import CommitPeople, PullRequestInfo, pull_info
from jitops.policy import Review, ReviewState


class PullRequestsMixin(GitHubBase):
    """Pull requests, their files, reviews and commits, and files at a commit."""

    def pull_request(self, number: int) -> PullRequestInfo:
        # the client is lazy: the call happens when a field is first read, so read them all
        # inside _call, where GitHub's refusals and a lost connection become GitHubError
        def read() -> PullRequestInfo:
            return pull_info(self.repo.get_pull(number))

        return self._call(f"reading pull request #{number}", read)  # type: ignore[no-any-return]

    def commit_count(self, number: int) -> int:
        """How many commits pull request ``number`` has (one call; GitHub counts its head's)."""

        def count() -> int:
            return int(self.repo.get_pull(number).commits)

        return self._call(f"pull request #{number}", count)  # type: ignore[no-any-return]

    def pulls_for_commit(self, sha: str) -> tuple[PullRequestInfo, ...]:
        """The pull requests associated with commit ``sha`` (e.g. the one it merged)."""

        def collect() -> tuple[PullRequestInfo, ...]:
            return tuple(pull_info(pr) for pr in self.repo.get_commit(sha).get_pulls())

        return self._call(f"pull requests of {sha[:7]}", collect)  # type: ignore[no-any-return]

    def changed_files(self, number: int) -> tuple[ChangedFile, ...]:
        def collect() -> tuple[ChangedFile, ...]:
            return tuple(
                ChangedFile(
                    path=f.filename,
                    status=_file_status(f.status),
                    previous_path=f.previous_filename,
                )
                for f in self._pull(number).get_files()
            )

        return self._call(f"files of pull request #{number}", collect)  # type: ignore[no-any-return]

    def reviews(self, number: int) -> tuple[Review, ...]:
        """Reviews oldest first, without teams (see ``active_teams``)."""

        def collect() -> tuple[Review, ...]:
            reviews = []
            for review in self._pull(number).get_reviews():
                try:
                    state = ReviewState(review.state)
                except ValueError:  # PENDING (a draft review) decides nothing
                    continue
                if review.user is None:  # a deleted account
                    continue
                reviews.append(
                    Review(
                        reviewer=review.user.login,
                        state=state,
                        commit_id=review.commit_id,
                        is_bot=review.user.type == "Bot",
                        review_id=review.id,
                    )
                )
            return tuple(reviews)

        return self._call(f"reviews of pull request #{number}", collect)  # type: ignore[no-any-return]

    def commit_people(self, number: int) -> CommitPeople:
        """GitHub logins of the authors and committers of the pull request's commits, how
        many commits GitHub listed (it lists at most ``MAX_LISTED_COMMITS``), and which of
        them have an author or committer GitHub maps to no account."""

        def collect() -> CommitPeople:
            people: set[str] = set()
            unattributed: list[str] = []
            listed = 0
            for commit in self._pull(number).get_commits():
                listed += 1
                users = (commit.author, commit.committer)
                for user in users:
                    if user is not None and user.login:
                        people.add(user.login.lower())
                if any(user is None or not user.login for user in users):
                    unattributed.append(commit.sha)
            return CommitPeople(frozenset(people), listed, tuple(unattributed))

        return self._call(f"commits of pull request #{number}", collect)  # type: ignore[no-any-return]

    def modes_at(self, ref: str, paths: Iterable[str]) -> dict[str, str]:
        """git's mode of each of ``paths`` at commit ``ref`` (absent: not there), from one
        recursive read of its tree (the contents API would follow a symbolic link)."""
        wanted = set(paths)
        if not wanted:
            return {}

        def fetch() -> dict[str, str]:
            tree = self.repo.get_git_tree(ref, recursive=True)
            return {e.path: e.mode for e in tree.tree if e.path in wanted}

        return self._call(f"tree of {ref[:7]}", fetch)  # type: ignore[no-any-return]

    def file_at(self, ref: str, path: str) -> bytes:
        """A file's bytes at ``ref``, read as data (never executed)."""

        def fetch() -> bytes:
            content = self.repo.get_contents(path, ref=ref)
            if isinstance(content, list):
                raise GitHubError(f"{path} is a directory at {ref[:7]}")
            if content.encoding == "base64" and content.content is not None:
                return base64.b64decode(content.content)
            return bytes(content.decoded_content)

        return self._call(f"contents of {path}", fetch)  # type: ignore[no-any-return]


def _file_status(status: str) -> FileStatus:
    try:
        return FileStatus(status)
    except ValueError:
        return FileStatus.CHANGED
