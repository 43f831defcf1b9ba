"""The schemas of the files in an access repository (``apiVersion: jitops/v1``).

Pydantic models at the edge: every YAML file is validated into one of these, strictly. Unknown
fields are errors (a typo must never silently weaken a policy), types are not coerced (``"no"``
is not ``False``), timestamps must carry a timezone and are kept in UTC.

Kinds:
- ``AccessRequest``  one file per grant under ``requests/<target>/<role>/<id>.yaml``
- ``Target``         a system jitops grants access to, and its provisioner's non-secret settings
- ``Policy``         who may request which roles on which targets, for how long, approved by whom
- ``PolicyChangeRule`` the (stricter) approval rule for changes to policies, CODEOWNERS,
  workflows and jitops itself
- ``PolicyTest``     cases under ``policies/tests/`` that pin a policy's decisions
- ``Notify``         a place jitops tells of what happens (a Slack webhook, a JSON webhook)
- ``ActionRequest``  one file per action to perform once, under
  ``actions/<target>/<action>/<id>.yaml``: the exact SQL, or a command's parameters
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

API_VERSION = "jitops/v1"

# GitHub logins: ASCII letters, digits and hyphens, at most 39 characters, not starting with a
# hyphen. Compared case-insensitively everywhere (see ``login_key``).
LOGIN_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}$"
PRINCIPAL_PATTERN = (
    r"^(@?[A-Za-z0-9][A-Za-z0-9-]{0,38}"  # a user: alice or @alice
    r"|@[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9][A-Za-z0-9._-]{0,99})$"  # a team: @org/team
)
NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"
ID_PATTERN = r"^[a-z0-9][a-z0-9._-]{2,99}$"
ENV_VAR_PATTERN = r"^[A-Z_][A-Z0-9_]{0,127}$"

_DURATION_RE = re.compile(r"^\s*\d+(\.\d+)?\s*[A-Za-z]")
# Longest window any role may grant: a year. Real maxima are set per role by policy.
DURATION_CEILING = timedelta(days=366)


def login_key(login: str) -> str:
    """The comparison key of a GitHub login or team: logins are case-insensitive."""
    return login.removeprefix("@").lower()


def parse_duration(value: object) -> timedelta:
    """Parse ``30m``, ``4h``, ``1h30m``, ``2d`` (a unit is required) into a timedelta."""
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str):
        raise ValueError(
            f"a duration is a string with a unit, like 4h or 30m, not {type(value).__name__}"
        )
    return _parse_duration_text(value)


@functools.lru_cache(maxsize=1024)
def _parse_duration_text(value: str) -> timedelta:
    # cached: a repository uses a handful of distinct durations across thousands of files
    from pytimeparse2 import parse  # small, pure; imported here to keep start-up light

    seconds = parse(value) if _DURATION_RE.match(value) else None
    if seconds == 0:  # a duration, of no time: a window that grants nothing
        raise ValueError(f"{value!r} is no time at all — give the window a length, e.g. 30m or 4h")
    if not isinstance(seconds, int | float) or seconds < 0:
        raise ValueError(f"{value!r} is not a duration — write it like 30m, 4h, 1h30m or 2d")
    result = timedelta(seconds=seconds)
    if result > DURATION_CEILING:
        raise ValueError(f"{value!r} is longer than a year — access is meant to be short-lived")
    return result


def format_duration(value: timedelta) -> str:
    """Render a timedelta the way it is written in files: ``1d4h``, ``4h``, ``1h30m``, ``45s``."""
    total = int(value.total_seconds())
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        amount, total = divmod(total, size)
        if amount:
            parts.append(f"{amount}{unit}")
    return "".join(parts) or "0s"


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


Login = Annotated[str, StringConstraints(pattern=LOGIN_PATTERN)]
Principal = Annotated[
    str,
    StringConstraints(pattern=PRINCIPAL_PATTERN),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": PRINCIPAL_PATTERN,
            "description": "a GitHub user (`alice` or `@alice`) or team (`@org/team`)",
        }
    ),
]
Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]


def _not_reserved_by_github(variable: str) -> str:
    # The workflows pass `secrets.NAME` as NAME, and GitHub refuses secrets named GITHUB_*.
    if variable.upper().startswith("GITHUB_"):
        raise ValueError(
            f"{variable!r}: GitHub Actions secrets cannot be named GITHUB_… (GitHub keeps the "
            "prefix for itself) — choose another name, e.g. JITOPS_DB_PASSWORD"
        )
    return variable


EnvVarName = Annotated[
    str, StringConstraints(pattern=ENV_VAR_PATTERN), AfterValidator(_not_reserved_by_github)
]
Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^\s*\d+(\.\d+)?\s*[A-Za-z]",
            "description": "a duration with units, e.g. 30m, 4h, 1h30m, 2d",
            "examples": ["30m", "4h", "1d"],
        }
    ),
]
UtcDatetime = Annotated[AwareDatetime, Field(strict=False), AfterValidator(_to_utc)]
OneLine = Annotated[str, StringConstraints(pattern=r"^[^\r\n]*$")]


def is_team(principal: str) -> bool:
    return "/" in principal


def normalise_principal(principal: str) -> str:
    """Comparison key of a principal: ``@Alice`` → ``alice``, ``@Acme/Leads`` → ``acme/leads``."""
    return login_key(principal)


class StrictModel(BaseModel):
    """Base of every file schema: unknown fields are errors, types are not coerced."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        frozen=True,
        populate_by_name=True,
        str_strip_whitespace=False,
        # build each validator on first use: a command pays only for the kinds it reads
        defer_build=True,
    )


_TRIVIAL_JUSTIFICATIONS = {
    "access",
    "need access",
    "needed",
    "please",
    "test",
    "testing",
    "todo",
    "n/a",
    "na",
    "none",
    "work",
    "debug",
    "debugging",
}


# Control characters (C0 and C1: terminal escapes, which YAML's "\e" and friends can write)
# and bidirectional-text controls, which reorder what a reviewer sees ("Trojan Source").
_UNSAFE_CHARACTER = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _check_plain_text(value: str, what: str) -> None:
    found = _UNSAFE_CHARACTER.search(value)
    if found is not None:
        raise ValueError(
            f"{what} holds the control character U+{ord(found.group()):04X}, which can hide or "
            "reorder what a reviewer sees — write plain text"
        )


def _check_ticket(value: str) -> str:
    _check_plain_text(value, "the ticket")
    return value


def _check_justification(value: str) -> str:
    text = " ".join(value.split())
    _check_plain_text(text, "the justification")
    if text.lower().strip(".! ") in _TRIVIAL_JUSTIFICATIONS or len(text) < 10:
        raise ValueError(
            "the justification is too thin — say what you will do and why "
            '(e.g. "Investigate INC-1234: slow queries on orders"), at least 10 characters'
        )
    return text


Justification = Annotated[
    str, StringConstraints(max_length=2000), AfterValidator(_check_justification)
]
Ticket = Annotated[
    OneLine, StringConstraints(min_length=1, max_length=200), AfterValidator(_check_ticket)
]


class AccessRequest(StrictModel):
    """One request for time-boxed access: who, what, why and for how long."""

    api_version: Literal["jitops/v1"] = Field(alias="apiVersion")
    kind: Literal["AccessRequest"]
    id: Annotated[str, StringConstraints(pattern=ID_PATTERN)] = Field(
        description="Unique across the repository's history; the file is named <id>.yaml."
    )
    requester: Login = Field(description="The GitHub login of the person who gets access.")
    target: Name
    role: Name
    justification: Justification
    ticket: Ticket | None = None
    duration: Duration | None = Field(
        default=None, description="How long access lasts once the request lands on main."
    )
    starts_at: UtcDatetime | None = Field(
        default=None, description="Scheduled access: the window opens at this time (UTC)."
    )
    expires_at: UtcDatetime | None = Field(
        default=None, description="Absolute end of the window, with a timezone (e.g. ...Z)."
    )

    @model_validator(mode="after")
    def _one_window(self) -> AccessRequest:
        if (self.duration is None) == (self.expires_at is None):
            raise ValueError(
                "give exactly one of `duration` (e.g. 4h, counted from the merge) "
                "or `expires_at` (an absolute UTC time)"
            )
        if self.starts_at is not None:
            if self.expires_at is None:
                raise ValueError("`starts_at` needs `expires_at`; with `duration` drop `starts_at`")
            if self.starts_at >= self.expires_at:
                raise ValueError("`starts_at` must be before `expires_at`")
        return self


ActionId = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
# The SQL an action may run: its statements, each a statement PostgreSQL parses.
MAX_SQL_CHARS = 20_000


class ActionRequest(StrictModel):
    """One request to have an action performed, once, after approval: who asks, on which
    target, which action its policy defines, why, and the action's input — the exact SQL
    statements, or the parameters of a command the target defines (never a command line)."""

    api_version: Literal["jitops/v1"] = Field(alias="apiVersion")
    kind: Literal["ActionRequest"]
    id: ActionId = Field(
        description="Unique across the repository's history; the file is named <id>.yaml."
    )
    requester: Login = Field(description="The GitHub login of the person who asks.")
    target: Name
    action: Name = Field(description="An action a policy defines for the target.")
    justification: Justification
    ticket: Ticket | None = None
    sql: Annotated[str, StringConstraints(min_length=1, max_length=MAX_SQL_CHARS)] | None = Field(
        default=None, description="A SQL action's statements, exactly as they will run."
    )
    params: dict[Annotated[str, StringConstraints(pattern=NAME_PATTERN)], Any] | None = Field(
        default=None,
        description="A command action's parameters, checked against the action's JSON Schema.",
    )

    @model_validator(mode="after")
    def _one_input(self) -> ActionRequest:
        if self.sql is not None and self.params is not None:
            raise ValueError(
                "give `sql` (for a SQL action) or `params` (for a command action), not both"
            )
        if self.sql is not None and not self.sql.strip():
            raise ValueError("`sql` is empty — write the statements the action runs")
        return self


def _not_a_secret(key: str) -> str:
    """A setting's name, refused when it names a secret: secrets never live in the repository
    (the error points at the key, in the target's settings)."""
    if re.search(r"pass(word)?|secret|token|private.?key|credential", key, re.I):
        raise ValueError(
            f"looks like a secret, and secrets never live in the repository — name the "
            f"environment variable instead: `secrets: {{{key}: SOME_ENV_VAR}}`"
        )
    return key


SettingName = Annotated[str, AfterValidator(_not_a_secret)]


class Target(StrictModel):
    """A system jitops grants access to, through one provisioner."""

    api_version: Literal["jitops/v1"] = Field(alias="apiVersion")
    kind: Literal["Target"]
    name: Name
    description: str | None = None
    provisioner: Name = Field(description="The provisioner kind: postgres, github-team, aws, exec…")
    roles: list[Name] = Field(min_length=1, description="The roles this target offers.")
    settings: dict[SettingName, Any] = Field(
        default_factory=dict, description="Non-secret provisioner settings."
    )
    secrets: dict[Name, EnvVarName] = Field(
        default_factory=dict,
        description="Secret name → the environment variable that holds it (never the secret). "
        "A secret whose name starts with action_ (action_password) is used only to perform "
        "actions: the workflows give it to the steps that perform them, never to sweep or "
        "reconcile.",
    )

    @model_validator(mode="after")
    def _roles_once(self) -> Target:
        if len(set(self.roles)) != len(self.roles):
            raise ValueError("`roles` lists a role twice")
        return self


class ApprovalRule(StrictModel):
    """``count`` approvals from any of ``from`` (users or teams)."""

    count: int = Field(default=1, ge=1, le=10)
    from_: list[Principal] = Field(alias="from", min_length=1)


class TicketRule(StrictModel):
    required: bool = True
    pattern: str | None = Field(
        default=None, description="A regular expression the whole ticket must match."
    )

    @model_validator(mode="after")
    def _pattern_compiles(self) -> TicketRule:
        if self.pattern is not None:
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(
                    f"ticket.pattern is not a valid regular expression: {exc}"
                ) from None
        return self


class RolePolicy(StrictModel):
    """The rules for one role: its maximum window and how it is approved."""

    max_duration: Duration
    approvals: list[ApprovalRule] = Field(
        default_factory=list, description="All must be met, each by different approvers."
    )
    auto_approve: bool = Field(
        default=False, description="Low-risk roles only: allowed without a review."
    )
    ticket: TicketRule | None = None

    @model_validator(mode="after")
    def _approved_somehow(self) -> RolePolicy:
        if self.auto_approve and self.approvals:
            raise ValueError("a role is either `auto_approve: true` or has `approvals`, not both")
        if not self.auto_approve and not self.approvals:
            raise ValueError(
                "the role has no `approvals` — add at least one "
                "(`approvals: [{count: 1, from: ['@org/team']}]`) or set `auto_approve: true`"
            )
        return self


SqlStatementKind = Literal["select", "insert", "update", "delete", "merge", "explain"]
SQL_STATEMENT_KINDS: tuple[SqlStatementKind, ...] = get_args(SqlStatementKind)
WRITING_KINDS = frozenset({"insert", "update", "delete", "merge"})


class SqlLimits(StrictModel):
    """What a SQL action may run, enforced offline by parsing (the check, validate) and by
    PostgreSQL itself when it runs."""

    allow: list[SqlStatementKind] = Field(
        min_length=1,
        description="The statement kinds allowed, anywhere in a statement (a DELETE inside a "
        "WITH counts); anything else (DDL, SET, COPY, DO, transaction control) never is.",
    )
    read_only: bool = Field(
        default=False, description="Run in a READ ONLY transaction: no statement may write."
    )
    statement_timeout: Duration = Field(
        default=timedelta(seconds=30), description="PostgreSQL's statement_timeout, per statement."
    )
    max_rows_returned: int = Field(
        default=100, ge=0, le=10_000, description="Rows of results kept and shown, at most."
    )
    max_rows_affected: int = Field(
        default=100,
        ge=0,
        le=1_000_000,
        description="More rows inserted, updated or deleted in all rolls the whole action back.",
    )

    @model_validator(mode="after")
    def _read_only_allows_no_write(self) -> SqlLimits:
        if len(set(self.allow)) != len(self.allow):
            raise ValueError("`allow` lists a statement kind twice")
        writing = sorted(WRITING_KINDS & set(self.allow))
        if self.read_only and writing:
            raise ValueError(
                f"a read-only action cannot allow {', '.join(writing)} — drop them from "
                "`allow`, or set `read_only: false`"
            )
        return self


class CommandLimits(StrictModel):
    """What a command action takes: its parameters' JSON Schema, and how long it may run."""

    parameters: dict[str, Any] = Field(
        default_factory=lambda: {"type": "object", "additionalProperties": False},
        description="A JSON Schema (2020-12) the request's `params` must match.",
    )
    timeout: Duration = Field(default=timedelta(minutes=5))

    @field_validator("parameters")
    @classmethod
    def _a_schema(cls, schema: dict[str, Any]) -> dict[str, Any]:
        from jsonschema import Draft202012Validator
        from jsonschema.exceptions import SchemaError

        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            where = "/".join(str(p) for p in exc.absolute_path) or "the top"
            raise ValueError(f"is not a JSON Schema (at {where}: {exc.message})") from None
        return schema


class ActionRule(StrictModel):
    """One action a policy offers on its targets: SQL or a command, its limits, and how it
    is approved (the rules of a role: all-of approvals by distinct people, or auto-approval
    for low-risk actions)."""

    description: str | None = None
    sql: SqlLimits | None = None
    command: CommandLimits | None = None
    approvals: list[ApprovalRule] = Field(
        default_factory=list, description="All must be met, each by different approvers."
    )
    auto_approve: bool = Field(
        default=False, description="Low-risk actions only: performed without a review."
    )
    ticket: TicketRule | None = None

    @property
    def kind(self) -> Literal["sql", "command"]:
        return "sql" if self.sql is not None else "command"

    @model_validator(mode="after")
    def _one_kind_approved_somehow(self) -> ActionRule:
        if (self.sql is None) == (self.command is None):
            raise ValueError(
                "an action is either `sql:` (with its allowed statements) or `command:` "
                "(with its parameters), exactly one"
            )
        if self.auto_approve and self.approvals:
            raise ValueError("an action is either `auto_approve: true` or has `approvals`")
        if not self.auto_approve and not self.approvals:
            raise ValueError(
                "the action has no `approvals` — add at least one "
                "(`approvals: [{count: 1, from: ['@org/team']}]`) or set `auto_approve: true`"
            )
        return self


class Policy(StrictModel):
    """Who may request which roles on which targets, and how each role is approved."""

    api_version: Literal["jitops/v1"] = Field(alias="apiVersion")
    kind: Literal["Policy"]
    name: Name
    description: str | None = None
    targets: list[Name] = Field(min_length=1)
    requesters: list[Principal] = Field(
        min_length=1, description="Who may request: users and @org/team teams."
    )
    request_for_others: list[Principal] = Field(
        default_factory=list,
        description="Who may open a request whose requester is someone else.",
    )
    roles: dict[Name, RolePolicy] = Field(default_factory=dict)
    actions: dict[Name, ActionRule] = Field(
        default_factory=dict,
        description="Actions that may be asked for on the targets, performed once on merge.",
    )

    @model_validator(mode="after")
    def _offers_something(self) -> Policy:
        if not self.roles and not self.actions:
            raise ValueError("the policy offers nothing — give it `roles`, `actions` or both")
        return self


class PolicyChangeRule(StrictModel):
    """Approvals needed for a change to policies, CODEOWNERS, workflows or jitops itself."""

    api_version: Literal["jitops/v1"] = Field(alias="apiVersion")
    kind: Literal["PolicyChangeRule"]
    description: str | None = None
    approvals: list[ApprovalRule] = Field(min_length=1)


# What jitops tells a Notify channel of, in the order a request lives them: opened (a pull
# request asks for access: what it needs, who can approve), approved (its check turned
# green), refused (the policies said no: the check, or apply re-verifying), granted,
# grant-failed (approved, but the target refused: apply retries), expiring (the sweep's
# warning before a grant ends), revoked, revoke-failed, audit-problems (access apply did not
# verify, found by `jitops audit verify`), action-performed and action-failed (apply performing
# an approved action request; one it refuses at merge is `refused`).
NotifyEvent = Literal[
    "opened",
    "approved",
    "refused",
    "granted",
    "grant-failed",
    "expiring",
    "revoked",
    "revoke-failed",
    "audit-problems",
    "action-performed",
    "action-failed",
]
NOTIFY_EVENTS: tuple[NotifyEvent, ...] = get_args(NotifyEvent)


class NotifySecrets(StrictModel):
    """The environment variables a channel's secrets live in (never the secrets)."""

    url: EnvVarName = Field(
        description="Holds the address to POST to: a Slack incoming webhook's URL is a secret, "
        "and a SIEM's may carry a token."
    )
    signing_key: EnvVarName | None = Field(
        default=None,
        description="webhook only: holds a key; each body is signed with HMAC-SHA256 in the "
        "X-Jitops-Signature-256 header (sha256=<hex>).",
    )


class Notify(StrictModel):
    """A place jitops tells of what happens to requests, whatever the target: a Slack incoming
    webhook, or any HTTPS endpoint taking JSON (a SIEM). A failed notification is reported and
    never holds up a grant or a revoke."""

    api_version: Literal["jitops/v1"] = Field(alias="apiVersion")
    kind: Literal["Notify"]
    name: Name
    description: str | None = None
    channel: Literal["slack", "webhook"]
    events: list[NotifyEvent] = Field(
        default_factory=lambda: list(NOTIFY_EVENTS),
        min_length=1,
        description="What to tell (default: everything).",
    )
    secrets: NotifySecrets

    @field_validator("events")
    @classmethod
    def _events_once(cls, events: list[NotifyEvent]) -> list[NotifyEvent]:
        if len(set(events)) != len(events):
            raise ValueError("`events` lists an event twice")
        return events

    @field_validator("secrets")
    @classmethod
    def _signing_is_for_webhooks(
        cls, secrets: NotifySecrets, info: ValidationInfo
    ) -> NotifySecrets:
        if info.data.get("channel") == "slack" and secrets.signing_key is not None:
            raise ValueError(
                "a Slack webhook takes no signing key (its URL is the secret) — remove "
                "`signing_key`, or use `channel: webhook`"
            )
        return secrets


ReviewStateName = Literal["APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED"]


class TestApproval(StrictModel):
    """A review in a policy test case."""

    by: Login
    state: ReviewStateName = "APPROVED"
    teams: list[Principal] = Field(default_factory=list)
    on_head: bool = Field(default=True, description="False: the review is on an older commit.")
    bot: bool = False


class TestRequest(StrictModel):
    """The request of a policy test case: an AccessRequest without apiVersion/kind."""

    id: Annotated[str, StringConstraints(pattern=ID_PATTERN)] = "policy-test"
    requester: Login
    target: Name
    role: Name
    justification: Justification = "Policy test case justification"
    ticket: str | None = None
    duration: Duration | None = None
    starts_at: UtcDatetime | None = None
    expires_at: UtcDatetime | None = None

    def to_request(self) -> AccessRequest:
        return AccessRequest.model_validate(
            {"apiVersion": API_VERSION, "kind": "AccessRequest", **dict(self)}
        )


class TestExpectation(StrictModel):
    decision: Literal["allowed", "pending", "denied"]
    reason: str | None = Field(
        default=None, description="Text that must appear in the decision's explanation."
    )


class PolicyTestCase(StrictModel):
    name: str = Field(min_length=1)
    now: UtcDatetime
    request: TestRequest
    requester_teams: list[Principal] = Field(default_factory=list)
    author: Login | None = Field(default=None, description="PR author; default the requester.")
    author_teams: list[Principal] = Field(default_factory=list)
    commit_authors: list[Login] = Field(default_factory=list)
    approvals: list[TestApproval] = Field(default_factory=list)
    expect: TestExpectation


class PolicyTest(StrictModel):
    """Cases that pin what the policies decide, run by ``jitops test``."""

    api_version: Literal["jitops/v1"] = Field(alias="apiVersion")
    kind: Literal["PolicyTest"]
    description: str | None = None
    cases: list[PolicyTestCase] = Field(min_length=1)


SCHEMA_KINDS: dict[str, type[StrictModel]] = {
    "request": AccessRequest,
    "policy": Policy,
    "target": Target,
    "policy-change-rule": PolicyChangeRule,
    "policy-test": PolicyTest,
    "notify": Notify,
    "action-request": ActionRequest,
}
