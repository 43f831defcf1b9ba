"""GitHub Actions Environments and repository secrets, as their REST API shows them.

Only what can be read is modelled: which branches may deploy to an Environment (and so which
jobs get its secrets), and which repository secrets exist (names and times, never values).
Tests set them up with ``add_environment`` and ``add_repo_secret``; nothing runs here.
"""

from __future__ import annotations

from collections.abc import Sequence

from jitops.testing.github.http import ApiError, Request, Response, route
from jitops.testing.github.hub import Hub
from jitops.testing.github.render import JSON, iso, node_id
from jitops.testing.github.state import Environment, Repository


def add_environment(
    hub: Hub,
    repo: Repository,
    name: str,
    *,
    branches: Sequence[str] | None = None,
    protected_branches: bool = False,
) -> Environment:
    """Create (or replace) Environment ``name``: deployable from ``branches`` only (custom
    branch policies), from protected branches only, or from any branch (neither)."""
    st = hub.state
    with st.lock:
        environment = Environment(
            st.new_id(),
            repo.id,
            name,
            tuple(branches) if branches is not None else None,
            protected_branches,
            st.now(),
        )
        st.environments[(repo.id, name.casefold())] = environment
        return environment


def add_repo_secret(hub: Hub, repo: Repository, name: str) -> None:
    """A repository secret ``name`` (its value is never anyone's business here)."""
    with hub.state.lock:
        hub.state.repo_secrets[(repo.id, name.upper())] = hub.state.now()


def _environment(req: Request) -> tuple[Repository, Environment]:
    repo = req.repo()
    # environment names match in any case on GitHub
    found = req.hub.state.environments.get((repo.id, req.params["environment_name"].casefold()))
    if found is None:
        raise ApiError(404, "Not Found")
    return repo, found


def get_environment(req: Request) -> Response:
    repo, environment = _environment(req)
    url = f"{req.render.repo_url(repo)}/environments/{environment.name}"
    custom = environment.branches is not None
    policy: JSON | None = (
        {"protected_branches": environment.protected_branches, "custom_branch_policies": custom}
        if custom or environment.protected_branches
        else None  # any branch may deploy
    )
    body: JSON = {
        "id": environment.id,
        "node_id": node_id("Environment", environment.id),
        "name": environment.name,
        "url": url,
        "html_url": f"{req.render.web}/{repo.full_name}/deployments/{environment.name}",
        "created_at": iso(environment.created_at),
        "updated_at": iso(environment.created_at),
        "protection_rules": (
            [{"id": environment.id + 1, "node_id": node_id("Gate", environment.id + 1),
              "type": "branch_policy"}]
            if policy is not None
            else []
        ),
        "deployment_branch_policy": policy,
    }  # fmt: skip
    return Response(200, body)


def list_branch_policies(req: Request) -> Response:
    _, environment = _environment(req)
    names = environment.branches or ()
    policies = [
        {"id": environment.id * 100 + i, "node_id": node_id("DeploymentBranchPolicy", i),
         "name": name, "type": "branch"}
        for i, name in enumerate(names, start=1)
    ]  # fmt: skip
    page = req.paginate(policies)
    return Response(200, {"total_count": len(policies), "branch_policies": page})


def get_repo_secret(req: Request) -> Response:
    repo = req.repo()
    login = req.user.login if req.user else ""
    if not req.hub.can(repo, login, "write"):
        # "The authenticated user must have collaborator access to the repository"
        raise ApiError(404, "Not Found")
    name = req.params["secret_name"].upper()  # secret names are upper case on GitHub
    at = req.hub.state.repo_secrets.get((repo.id, name))
    if at is None:
        raise ApiError(404, "Not Found")
    return Response(200, {"name": name, "created_at": iso(at), "updated_at": iso(at)})


ROUTES = [
    route("GET", "/repos/{owner}/{repo}/environments/{environment_name}", get_environment),
    route(
        "GET",
        "/repos/{owner}/{repo}/environments/{environment_name}/deployment-branch-policies",
        list_branch_policies,
    ),
    route("GET", "/repos/{owner}/{repo}/actions/secrets/{secret_name}", get_repo_secret),
]
