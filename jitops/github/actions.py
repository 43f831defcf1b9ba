"""The Actions side of a repository: the runs a workflow completed on a branch, the branches an
Environment gives its secrets to, and whether a repository secret exists."""

from __future__ import annotations

from urllib.parse import quote

from jitops.github.client import GitHubBase
from jitops.github.errors import GitHubError
from jitops.github.values import EnvironmentBranches


class ActionsMixin(GitHubBase):
    """Workflow runs, Environments and secrets."""

    def completed_runs(self, workflow_file: str, branch: str) -> tuple[str, ...]:
        """The head commits of the successful runs of ``workflow_file`` on ``branch``, newest
        first, that this repository's own pushes or manual runs started (``actions: read``).

        Only GitHub Actions makes a run, from the workflow file of the commit it runs, so this
        is a record no writer can forge with a status or a git note. A pull request's run is
        left out (its branch may be named like the default one, even from a fork), and so is
        any run whose head repository is another. No such workflow: none.
        """
        path = f"/actions/workflows/{quote(workflow_file, safe='')}/runs"
        try:
            data = self._raw(
                "GET",
                path,
                f"reading the runs of {workflow_file}",
                parameters={"branch": branch, "status": "success", "per_page": 30},
            )
        except GitHubError as exc:
            if exc.status == 404:
                return ()
            raise
        runs = data.get("workflow_runs") if isinstance(data, dict) else None
        heads = []
        for run in runs if isinstance(runs, list) else []:
            if not isinstance(run, dict):
                continue
            head_repo = run.get("head_repository")
            name = head_repo.get("full_name") if isinstance(head_repo, dict) else None
            if (
                run.get("event") in ("push", "workflow_dispatch")
                and run.get("conclusion") == "success"
                and run.get("head_branch") == branch
                and isinstance(name, str)
                and name.lower() == self.repository.lower()
                and isinstance(run.get("head_sha"), str)
            ):
                heads.append(str(run["head_sha"]))
        return tuple(heads)

    def environment_branches(self, name: str) -> EnvironmentBranches | None:
        """Which branches may deploy to Environment ``name`` (and so get its secrets); None
        when it does not exist. Read access is enough."""
        path = f"/environments/{quote(name, safe='')}"
        try:
            data = self._raw("GET", path, f"reading the Environment {name}")
        except GitHubError as exc:
            if exc.status == 404:
                return None
            raise
        policy = data.get("deployment_branch_policy") if isinstance(data, dict) else None
        if not isinstance(policy, dict):
            return EnvironmentBranches(name, any_branch=True)
        if policy.get("protected_branches"):
            return EnvironmentBranches(name, protected_only=True)
        listed = self._raw(
            "GET",
            f"{path}/deployment-branch-policies",
            f"reading the deployment branches of {name}",
            parameters={"per_page": 100},
        )
        policies = listed.get("branch_policies") if isinstance(listed, dict) else None
        names = tuple(
            str(p["name"])
            for p in (policies if isinstance(policies, list) else [])
            if isinstance(p, dict) and p.get("type", "branch") == "branch" and "name" in p
        )
        return EnvironmentBranches(name, branches=names)

    def has_repo_secret(self, name: str) -> bool:
        """Whether the repository has an Actions secret ``name`` of its own (not an
        Environment's). GitHub answers 404 both for none and for a token that may not see
        secrets: False is "none that this token can see"."""
        try:
            self._raw("GET", f"/actions/secrets/{quote(name, safe='')}", f"reading secret {name}")
        except GitHubError as exc:
            if exc.status == 404:
                return False
            raise
        return True
