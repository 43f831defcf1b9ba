"""The hub's commit statuses and check runs: setting and listing them, and the state of each
context on a commit, which required status checks and auto-merge read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from jitops.testing.github.hub.base import HubBase, HubError
from jitops.testing.github.state import CheckRun, CommitStatus, Repository


class StatusesMixin(HubBase):
    """Commit statuses and check runs."""

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
