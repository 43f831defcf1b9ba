"""The hub's people: users and their tokens, organisations and their owners, teams and their
memberships."""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from jitops.testing.github.hub.base import Account, HubBase, HubError
from jitops.testing.github.state import Team, TeamMembership, User


class PeopleMixin(HubBase):
    """Users, organisations and teams."""

    def add_user(
        self,
        login: str,
        *,
        name: str | None = None,
        token: str | None = None,
        user_type: str = "User",
    ) -> Account:
        """Create a user with one token (``token`` or a fresh random one); ``user_type`` "Bot"
        makes an app's account such as ``github-actions[bot]``."""
        st = self.state
        with st.lock:
            if st.canonical(login) in st.users:  # logins are unique whatever their case
                raise HubError(422, f"user {login} already exists")
            user = User(
                id=st.new_id(),
                login=login,
                name=name or login,
                email=f"{login}@users.noreply.example.com",
                type=user_type,
                created_at=st.now(),
            )
            st.users[login] = user
            token = token or f"ghp_{secrets.token_hex(18)}"
            st.tokens[token] = login
            return Account(user, token)

    def user(self, login: str) -> User:
        """The user or organisation ``login``; 404 if absent."""
        with self.state.lock:
            found = self.state.users.get(self.state.canonical(login))
            if found is None:
                raise HubError(404, "Not Found")
            return found

    def user_for_token(self, token: str) -> User | None:
        with self.state.lock:
            login = self.state.tokens.get(token)
            return self.state.users.get(login) if login else None

    def add_org(
        self, login: str, members: Sequence[str] = (), *, owners: Sequence[str] = ()
    ) -> User:
        """Create an organisation (a ``User`` of type ``Organization``) with ``members``;
        ``owners`` are members who may also manage its teams."""
        st = self.state
        with st.lock:
            if st.canonical(login) in st.users:
                raise HubError(422, f"{login} already exists")
            members = [st.canonical(m) for m in members]
            owners = [st.canonical(o) for o in owners]
            org = User(st.new_id(), login, login, f"{login}@example.com", "Organization", st.now())
            st.users[login] = org
            st.org_members[login] = set(members) | set(owners)
            st.org_owners[login] = set(owners)
            return org

    def add_team(
        self,
        org: str,
        slug: str,
        *,
        members: Sequence[str] = (),
        maintainers: Sequence[str] = (),
        pending: Sequence[str] = (),
        name: str | None = None,
    ) -> Team:
        """Create team ``org/slug``; ``pending`` are invited but have not accepted."""
        st = self.state
        with st.lock:
            org = self.user(org).login
            if self.user(org).type != "Organization":
                raise HubError(404, "Not Found")
            team = Team(st.new_id(), org, slug, name or slug, created_at=st.now())
            st.teams[(org, slug)] = team
            for login in members:
                self.set_membership(org, slug, login)
            for login in maintainers:
                self.set_membership(org, slug, login, role="maintainer")
            for login in pending:
                self.set_membership(org, slug, login, state="pending")
            return team

    def team(self, org: str, slug: str) -> Team:
        with self.state.lock:
            # an organisation's login matches any case; a slug is lower case on GitHub
            found = self.state.teams.get((self.state.canonical(org), slug)) or next(
                (
                    team
                    for (owner, known), team in self.state.teams.items()
                    if owner == self.state.canonical(org) and known.casefold() == slug.casefold()
                ),
                None,
            )
            if found is None:
                raise HubError(404, "Not Found")
            return found

    def set_membership(
        self, org: str, slug: str, login: str, *, role: str = "member", state: str = "active"
    ) -> TeamMembership:
        """Add ``login`` to a team, or change their role or state."""
        with self.state.lock:
            team = self.team(org, slug)
            login = self.user(login).login
            membership = TeamMembership(team.id, login, role, state)
            self.state.memberships[(team.id, login)] = membership
            if state == "active":
                self.state.org_members.setdefault(team.org, set()).add(login)
            return membership

    def add_org_owner(self, org: str, login: str) -> None:
        """Make ``login`` an owner of ``org`` (may manage its teams)."""
        with self.state.lock:
            org, login = self.state.canonical(org), self.state.canonical(login)
            self.state.org_members.setdefault(org, set()).add(login)
            self.state.org_owners.setdefault(org, set()).add(login)

    def can_admin_org(self, org: str, login: str) -> bool:
        with self.state.lock:
            org, login = self.state.canonical(org), self.state.canonical(login)
            return login in self.state.org_owners.get(org, set())

    def remove_membership(self, org: str, slug: str, login: str) -> None:
        with self.state.lock:
            team = self.team(org, slug)
            self.state.memberships.pop((team.id, self.state.canonical(login)), None)

    def membership(self, org: str, slug: str, login: str) -> TeamMembership:
        with self.state.lock:
            team = self.team(org, slug)
            found = self.state.memberships.get((team.id, self.state.canonical(login)))
            if found is None:
                raise HubError(404, "Not Found")
            return found
