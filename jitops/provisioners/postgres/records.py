"""What jitops records on a login role: which requests hold which memberships until when, as
JSON in the role's comment, and the login as one transaction sees it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

COMMENT_VERSION = 1


@dataclass
class Login:
    """What jitops knows of one login role inside a transaction."""

    name: str
    exists: bool
    administered: bool = True  # the provisioner has ADMIN OPTION on it (or creates it)
    grants: dict[str, dict[str, str]] = field(default_factory=dict)  # request id → record
    touched: bool = False

    def expiry(self) -> datetime | None:
        ends = [datetime.fromisoformat(g["expires_at"]) for g in self.grants.values()]
        return max(ends, default=None)

    def holds(self, pg_role: str) -> bool:
        return any(g["pg_role"] == pg_role for g in self.grants.values())


def parse_comment(comment: str | None) -> dict[str, dict[str, str]]:
    # A comment that is not ours (or damaged) records nothing: memberships still show in
    # pg_auth_members, so list_managed reports them without a request id.
    try:
        data = json.loads(comment or "")
    except ValueError:
        return {}
    if not isinstance(data, dict) or data.get("jitops") != COMMENT_VERSION:
        return {}
    grants = data.get("grants")
    if not isinstance(grants, dict):
        return {}
    return {
        str(rid): {str(k): str(v) for k, v in record.items()}
        for rid, record in grants.items()
        if isinstance(record, dict) and {"pg_role", "expires_at"} <= record.keys()
    }


def comment_text(grants: Mapping[str, Mapping[str, str]]) -> str:
    return json.dumps({"jitops": COMMENT_VERSION, "grants": grants}, sort_keys=True)
