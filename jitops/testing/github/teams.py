"""Users, organisations, teams and team membership."""

from __future__ import annotations

from jitops.testing.github.http import ApiError, Handler, Request, Response, route
from jitops.testing.github.render import JSON, iso, node_id
from jitops.testing.github.state import Team, TeamMembership


def get_authenticated(req: Request) -> Response:
    return Response(200, req.render.private_user(req.need_user()))


def get_user(req: Request) -> Response:
    return Response(200, req.render.public_user(req.hub.user(req.params["username"])))


def get_org(req: Request) -> Response:
    org = req.hub.user(req.params["org"])
    if org.type != "Organization":
        raise ApiError(404, "Not Found")
    api = f"{req.render.api}/orgs/{org.login}"
    body: JSON = {
        "login": org.login,
        "id": org.id,
        "node_id": node_id("O", org.id),
        "url": api,
        "repos_url": f"{api}/repos",
        "events_url": f"{api}/events",
        "hooks_url": f"{api}/hooks",
        "issues_url": f"{api}/issues",
        "members_url": f"{api}/members{{/member}}",
        "public_members_url": f"{api}/public_members{{/member}}",
        "avatar_url": f"{req.render.web}/avatars/{org.login}",
        "description": None,
        "html_url": f"{req.render.web}/{org.login}",
        "has_organization_projects": False,
        "has_repository_projects": False,
        "public_repos": sum(r.owner == org.login for r in req.hub.state.repos.values()),
        "public_gists": 0,
        "followers": 0,
        "following": 0,
        "type": "Organization",
        "created_at": iso(org.created_at),
        "updated_at": iso(org.created_at),
        "archived_at": None,
    }
    return Response(200, body)


def _team(req: Request, team: Team) -> JSON:
    """``team-full``."""
    # GitHub names a team by id in its `url`, and PyGithub's `Team` calls `{url}/members/...`
    # and `{url}/memberships/...`: those are the legacy routes by id below.
    url = f"{req.render.api}/teams/{team.id}"
    org = get_org(req).body
    members = [m for m in req.hub.state.team_members(team.id) if m.state == "active"]
    return {
        "id": team.id,
        "node_id": node_id("T", team.id),
        "url": url,
        "html_url": f"{req.render.web}/orgs/{team.org}/teams/{team.slug}",
        "name": team.name,
        "slug": team.slug,
        "description": team.description,
        "privacy": "closed",
        "notification_setting": "notifications_enabled",
        "permission": "pull",
        "members_url": f"{url}/members{{/member}}",
        "repositories_url": f"{url}/repos",
        "type": "organization",
        "parent": None,
        "members_count": len(members),
        "repos_count": 0,
        "created_at": iso(team.created_at),
        "updated_at": iso(team.created_at),
        "organization": org,
    }


def get_team(req: Request) -> Response:
    return Response(200, _team(req, req.hub.team(req.params["org"], req.params["team_slug"])))


def list_members(req: Request) -> Response:
    team = req.hub.team(req.params["org"], req.params["team_slug"])
    role = req.query.get("role", "all")
    members = [
        m
        for m in req.hub.state.team_members(team.id)
        if m.state == "active" and role in ("all", m.role)
    ]
    return Response(200, [req.render.simple_user(m.login) for m in req.paginate(members)])


def _membership(req: Request, membership: TeamMembership) -> JSON:
    org, slug = req.params["org"], req.params["team_slug"]
    return {
        "url": f"{req.render.api}/orgs/{org}/teams/{slug}/memberships/{membership.login}",
        "role": membership.role,
        "state": membership.state,
    }


def get_membership(req: Request) -> Response:
    p = req.params
    return Response(
        200, _membership(req, req.hub.membership(p["org"], p["team_slug"], p["username"]))
    )


def put_membership(req: Request) -> Response:
    p = req.params
    user = req.need_user()
    if not req.hub.can_admin_org(p["org"], user.login):
        raise ApiError(
            403, "You must be an organization owner or team maintainer to add a team membership."
        )
    role = req.field("role", required=False) or "member"
    if role not in ("member", "maintainer"):
        raise ApiError(422, "Validation Failed")
    # Someone not yet in the organisation is invited: the membership is pending.
    in_org = p["username"] in req.hub.state.org_members.get(p["org"], set())
    membership = req.hub.set_membership(
        p["org"], p["team_slug"], p["username"], role=role, state="active" if in_org else "pending"
    )
    return Response(200, _membership(req, membership))


def delete_membership(req: Request) -> Response:
    p = req.params
    user = req.need_user()
    if not req.hub.can_admin_org(p["org"], user.login):
        raise ApiError(403, "Forbidden")
    req.hub.remove_membership(p["org"], p["team_slug"], p["username"])
    return Response(204)


ROUTES = [
    route("GET", "/user", get_authenticated),
    route("GET", "/users/{username}", get_user),
    route("GET", "/orgs/{org}", get_org),
    route("GET", "/orgs/{org}/teams/{team_slug}", get_team),
    route("GET", "/orgs/{org}/teams/{team_slug}/members", list_members),
    route("GET", "/orgs/{org}/teams/{team_slug}/memberships/{username}", get_membership),
    route("PUT", "/orgs/{org}/teams/{team_slug}/memberships/{username}", put_membership),
    route("DELETE", "/orgs/{org}/teams/{team_slug}/memberships/{username}", delete_membership),
]


def get_rate_limit(req: Request) -> Response:
    """``GET /rate_limit``: the caller's core budget (checking it costs nothing)."""
    server_limits = req.rate
    login = req.user.login if req.user else ""
    used, reset = server_limits.peek(login) if server_limits else (0, 0)
    limit = server_limits.limit if server_limits else 5000
    core = {"limit": limit, "remaining": max(0, limit - used), "reset": reset, "used": used}
    search = {"limit": 30, "remaining": 30, "reset": reset, "used": 0}
    return Response(200, {"resources": {"core": core, "search": search}, "rate": core})


ROUTES.append(route("GET", "/rate_limit", get_rate_limit))


# -- the legacy routes, naming a team by id --------------------------------------------------


def _by_id(handler: Handler) -> Handler:
    """``handler``, written for a route naming its team by ``org`` and ``team_slug``, for the
    legacy route naming it by ``team_id``: both answer alike. 404 for an id no team has."""

    def by_id(req: Request) -> Response:
        try:
            ident = int(req.params["team_id"])
        except ValueError:
            raise ApiError(404, "Not Found") from None
        with req.hub.state.lock:
            team = next((t for t in req.hub.state.teams.values() if t.id == ident), None)
        if team is None:
            raise ApiError(404, "Not Found")
        req.params.update(org=team.org, team_slug=team.slug)
        return handler(req)

    return by_id


def check_member(req: Request) -> Response:
    """204 for an active member; 404 otherwise: a pending (invited) member is not one yet."""
    p = req.params
    if req.hub.membership(p["org"], p["team_slug"], p["username"]).state != "active":
        raise ApiError(404, "Not Found")
    return Response(204)


ROUTES += [
    route("GET", "/teams/{team_id}", _by_id(get_team)),
    route("GET", "/teams/{team_id}/members", _by_id(list_members)),
    route("GET", "/teams/{team_id}/members/{username}", _by_id(check_member)),
    route("GET", "/teams/{team_id}/memberships/{username}", _by_id(get_membership)),
    route("PUT", "/teams/{team_id}/memberships/{username}", _by_id(put_membership)),
    route("DELETE", "/teams/{team_id}/memberships/{username}", _by_id(delete_membership)),
]
