"""A GitHub-compatible REST test server backed by real git repositories.

Start it in-process with ``GitHubServer`` (a context manager), or standalone with
``python -m jitops.testing.github --port N``. See ``README.md`` beside this module.
"""

from __future__ import annotations

from jitops.testing.github.events import Event
from jitops.testing.github.hub import Account, Hub, HubError
from jitops.testing.github.server import CallCounter, Fault, Faults, GitHubServer
from jitops.testing.github.state import BranchProtection

__all__ = [
    "Account",
    "BranchProtection",
    "CallCounter",
    "Event",
    "Fault",
    "Faults",
    "GitHubServer",
    "Hub",
    "HubError",
]
