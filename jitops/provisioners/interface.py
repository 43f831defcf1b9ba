"""The provisioner interface: what every kind of target (PostgreSQL, AWS, a command…) offers.

A provisioner makes a target system match a grant: ``grant`` gives access, ``revoke`` takes it
away, ``list_managed`` reports what jitops manages there (for drift detection), ``describe``
says plainly what the target is and ``check`` says whether it is set up with the least
privilege jitops needs (for ``jitops doctor``).

This module holds only the abstract base class, its frozen value types and the base error, so
the rest of jitops depends on this interface and never on a concrete backend. It deliberately
has its own value types (``Grant``, ``TargetConfig``) instead of the request models: the apply
flow converts a request into a ``Grant``, and a provisioner never needs to know about files,
policies or GitHub.

Contract every provisioner keeps:

- every method is idempotent: granting twice gives one grant; revoking access that is absent
  succeeds; so a failed run can simply be run again (invariant 5);
- secrets are read from the environment by the *names* the target configuration gives, and never
  appear in messages, ``repr`` or exceptions (invariant 7);
- the target's non-secret settings are described by a pydantic model (``settings_model``) so
  ``jitops validate`` can check them offline, with a path to each wrong field.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Any, ClassVar, Generic, TypeVar, cast

import pydantic

from jitops.errors import ExitCode, JitopsError, UsageError
from jitops.provisioners._secrets import is_env_name, redact
from jitops.validation_messages import describe_error

__all__ = [
    "CheckResult",
    "Grant",
    "ListingNotSupported",
    "ManagedAccess",
    "Provisioner",
    "ProvisionerError",
    "SecretMissing",
    "SettingsError",
    "SettingsProblem",
    "CheckStatus",
    "TargetConfig",
    "requester_of",
]


class ProvisionerError(JitopsError):
    """A target could not be provisioned, or is not set up as jitops needs.

    The message says what failed and how to fix it, and never contains a secret value: every
    provisioner builds its messages through ``Provisioner.error`` which redacts them.
    """

    exit_code = ExitCode.SYSTEM


class SecretMissing(ProvisionerError):
    """A secret the target needs is not configured, or its environment variable is unset."""


class ListingNotSupported(ProvisionerError):
    """The target cannot report what jitops manages on it, so drift cannot be checked there."""


@dataclass(frozen=True)
class SettingsProblem:
    """One wrong field in a target's configuration: where (``loc``) and what is wrong.

    ``loc`` is the path inside the target's document, e.g. ``("settings", "roles", "ro")`` or
    ``("secrets", "password")``, so the caller can turn it into a file and line.
    """

    loc: tuple[str | int, ...]
    message: str

    def __str__(self) -> str:
        where = ".".join(str(part) for part in self.loc) or "(target)"
        return f"{where}: {self.message}"


class SettingsError(UsageError):
    """A target's settings or secrets do not fit its kind; ``problems`` lists every wrong field."""

    def __init__(self, target: str, problems: Sequence[SettingsProblem]) -> None:
        listed = "; ".join(str(problem) for problem in problems)
        super().__init__(f"target {target!r} is misconfigured: {listed}")
        self.target = target
        self.problems = tuple(problems)


def requester_of(name: str, template: str, overrides: Mapping[str, str]) -> str | None:
    """The GitHub login whose target identity is ``name``, if the naming says (for listings).

    ``template`` holds ``{login}`` once; ``overrides`` maps GitHub logins to identities.
    """
    for github, identity in overrides.items():
        if identity == name:
            return github
    prefix, _, suffix = template.partition("{login}")
    if name.startswith(prefix) and name.endswith(suffix) and len(name) > len(prefix + suffix):
        return name[len(prefix) : len(name) - len(suffix)]
    return None


def _utc(value: datetime, what: str) -> datetime:
    # Naive datetimes are ambiguous (whose local time?); an expiry must never be guessed.
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware (UTC), got naive {value.isoformat()}")
    return value.astimezone(UTC)


@dataclass(frozen=True)
class TargetConfig:
    """A configured target: its name, kind, non-secret settings and where its secrets live.

    ``secrets`` maps a secret's name (``password``) to the NAME of the environment variable that
    holds it (``SANDBOX_DB_PASSWORD``), never to the secret itself, so a ``TargetConfig`` can be
    printed, logged and compared freely. ``roles`` are the roles the target offers (its
    ``roles:`` list); a kind maps each to something on the target, by default a thing of the
    same name, unless its settings' ``roles`` mapping says otherwise.
    """

    name: str
    kind: str
    settings: Mapping[str, object] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict)
    roles: Sequence[str] = ()

    def __post_init__(self) -> None:
        # Read-only views: a frozen dataclass holding a mutable dict would not really be frozen.
        object.__setattr__(self, "settings", MappingProxyType(dict(self.settings)))
        object.__setattr__(self, "secrets", MappingProxyType(dict(self.secrets)))
        object.__setattr__(self, "roles", tuple(self.roles))

    def __repr__(self) -> str:
        return (
            f"TargetConfig(name={self.name!r}, kind={self.kind!r}, "
            f"settings={dict(self.settings)!r}, secrets={dict(self.secrets)!r}, "
            f"roles={self.roles!r})"
        )


@dataclass(frozen=True)
class Grant:
    """One approved access to provision: who gets which role on which target until when.

    ``request_id`` identifies the request file the grant comes from; provisioners record it
    where the target allows, so ``list_managed`` can tie access back to its request.
    """

    request_id: str
    requester: str  # GitHub login
    target: str
    role: str
    expires_at: datetime
    starts_at: datetime | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "expires_at", _utc(self.expires_at, "expires_at"))
        if self.starts_at is not None:
            object.__setattr__(self, "starts_at", _utc(self.starts_at, "starts_at"))
            if self.starts_at >= self.expires_at:
                raise ValueError("starts_at must be before expires_at")


@dataclass(frozen=True)
class ActionRun:
    """One approved action to perform, once: a SQL action's statements (as reviewed), or a
    command action's parameters, with the limits its policy sets."""

    request_id: str
    requester: str  # GitHub login of who asked
    target: str
    action: str
    statements: tuple[str, ...] = ()  # SQL: each statement, in order
    params: Mapping[str, Any] | None = None  # command: handed over as JSON
    read_only: bool = False
    timeout: timedelta = timedelta(seconds=30)  # SQL: per statement; command: in all
    max_rows_returned: int = 100
    max_rows_affected: int = 100


@dataclass(frozen=True)
class ActionResult:
    """What performing an action did: who ran it, what it changed and returned, or why it
    failed (already redacted). Recorded as evidence, its digest binds the record to it."""

    succeeded: bool
    identity: str  # who it ran as on the target
    started_at: datetime
    finished_at: datetime
    rows_affected: int = 0
    columns: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()  # the first rows returned, as text
    more_rows: bool = False  # more were returned than are kept
    output: str = ""  # a command's output, cut
    error: str | None = None
    tags: tuple[str, ...] = ()  # what the target said of each statement (``UPDATE 1``)

    def as_json(self) -> dict[str, Any]:
        return {
            "succeeded": self.succeeded,
            "identity": self.identity,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
            "rows_affected": self.rows_affected,
            "columns": list(self.columns),
            "rows": [list(row) for row in self.rows],
            "more_rows": self.more_rows,
            "output": self.output,
            "error": self.error,
            "tags": list(self.tags),
        }

    @property
    def digest(self) -> str:
        """SHA-256 of the result's canonical JSON: what the evidence record is bound to."""
        import hashlib
        import json

        canonical = json.dumps(self.as_json(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class ManagedAccess:
    """Access that a provisioner reports jitops manages on a target (for drift and reconcile).

    ``identity`` is the principal on the target (a database login, an IAM user); ``requester``
    is the GitHub login it maps back to, when known. ``expires_at`` and ``request_id`` are known
    when the target stores them alongside the access.
    """

    target: str
    identity: str
    role: str
    requester: str | None = None
    expires_at: datetime | None = None
    request_id: str | None = None


class CheckStatus(StrEnum):
    """How a ``check`` came out: ``ERROR`` means grants will fail or be unsafe. ``jitops
    doctor`` rates every check it makes, on targets or not, the same way."""

    OK = "ok"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True)
class CheckResult:
    """One thing ``jitops doctor`` shows about a target: what was checked, the outcome, a fix."""

    target: str
    check: str  # short name, e.g. "reachable", "least-privilege"
    status: CheckStatus
    message: str
    fix: str | None = None


SettingsT = TypeVar("SettingsT", bound=pydantic.BaseModel)


class Provisioner(ABC, Generic[SettingsT]):
    """Base of every provisioner kind.

    A subclass sets ``kind``, ``settings_model`` (a pydantic model with ``extra="forbid"``
    describing the kind's non-secret settings), ``required_secrets`` and ``optional_secrets``
    (or ``any_secrets``), and implements the abstract methods. Constructing one validates its
    settings (``SettingsError`` lists every wrong field) but touches no environment variable
    and no network: secrets are read, and connections opened, only when an operation needs them.
    """

    kind: ClassVar[str]
    settings_model: ClassVar[type[pydantic.BaseModel]]
    required_secrets: ClassVar[frozenset[str]] = frozenset()
    optional_secrets: ClassVar[frozenset[str]] = frozenset()
    # A kind that hands its secrets on (``exec``) accepts any secret name.
    any_secrets: ClassVar[bool] = False
    # The kinds of action (``sql``, ``command``) this kind performs for an ActionRequest
    # (``perform``).
    performs: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, target: TargetConfig, environ: Mapping[str, str] | None = None) -> None:
        self.target = target
        self.settings = cast(SettingsT, self.validate_target(target))
        # Role → what it is on the target: the offered roles map to themselves unless the
        # settings' ``roles`` mapping (kinds that have one) names something else.
        explicit = getattr(self.settings, "roles", None)
        self.roles: dict[str, str] = {role: role for role in target.roles} | dict(explicit or {})
        # Not copied: os.environ is read at the moment a secret is needed.
        self._environ: Mapping[str, str] = os.environ if environ is None else environ

    def __repr__(self) -> str:
        # Only names: the environment (where the secret values are) is never shown.
        return f"{type(self).__name__}(target={self.target.name!r}, kind={self.target.kind!r})"

    # -- configuration -------------------------------------------------------------------------

    @classmethod
    def secret_names(cls) -> frozenset[str]:
        """Every secret name the kind knows (required and optional; ``any_secrets`` aside)."""
        return cls.required_secrets | cls.optional_secrets

    @classmethod
    def validate_target(cls, target: TargetConfig) -> pydantic.BaseModel:
        """The target's settings as ``settings_model``; ``SettingsError`` lists every problem.

        Pure: needs no environment and no network, so ``jitops validate`` can call it offline.
        """
        problems: list[SettingsProblem] = []
        settings: pydantic.BaseModel | None = None
        try:
            settings = cls.settings_model.model_validate(dict(target.settings))
        except pydantic.ValidationError as exc:
            problems.extend(
                SettingsProblem(("settings", *error["loc"]), _settings_message(error, cls))
                for error in exc.errors(include_url=False)
            )
        problems.extend(cls._role_problems(target, settings))
        problems.extend(cls._secret_problems(target.secrets))
        if problems or settings is None:
            raise SettingsError(target.name, problems)
        return settings

    @classmethod
    def _role_problems(
        cls, target: TargetConfig, settings: pydantic.BaseModel | None
    ) -> Iterable[SettingsProblem]:
        if "roles" not in cls.settings_model.model_fields or settings is None:
            return
        mapping: Mapping[str, str] = getattr(settings, "roles", None) or {}
        if not target.roles and not mapping:
            yield SettingsProblem(
                ("settings", "roles"), "no roles: list the target's roles, or map them here"
            )
        if target.roles:
            offered = ", ".join(target.roles)
            yield from (
                SettingsProblem(
                    ("settings", "roles", role), f"not a role of this target (roles: {offered})"
                )
                for role in mapping
                if role not in target.roles
            )

    @classmethod
    def _secret_problems(cls, secrets: Mapping[str, str]) -> Iterable[SettingsProblem]:
        for name in sorted(cls.required_secrets - secrets.keys()):
            yield SettingsProblem(
                ("secrets", name),
                f"required secret is missing: name the environment variable that holds it, "
                f"e.g. `{name}: {cls.kind.upper().replace('-', '_')}_{name.upper()}`",
            )
        allowed = cls.secret_names()
        for name, variable in sorted(secrets.items()):
            if not cls.any_secrets and name not in allowed:
                known = ", ".join(sorted(allowed)) or "none"
                yield SettingsProblem(
                    ("secrets", name), f"unknown secret for kind {cls.kind!r} (known: {known})"
                )
            if not is_env_name(variable):
                yield SettingsProblem(
                    ("secrets", name),
                    "must be the NAME of an environment variable (letters, digits, underscore), "
                    "never the secret itself",
                )

    # -- secrets -------------------------------------------------------------------------------

    def secret(self, name: str) -> str:
        """The value of secret ``name``, read from the environment variable the target names."""
        variable = self.target.secrets.get(name)
        if variable is None:
            raise SecretMissing(
                f"target {self.target.name!r}: secret {name!r} is not configured; add "
                f"`secrets: {{{name}: ENV_VAR_NAME}}` to the target"
            )
        value = self._environ.get(variable)
        if not value:
            raise SecretMissing(
                f"target {self.target.name!r}: environment variable {variable} (secret {name!r}) "
                f"is not set; set it, e.g. from a GitHub Actions secret"
            )
        return value

    def optional_secret(self, name: str) -> str | None:
        """Like ``secret``, but ``None`` when the target does not configure ``name``."""
        return self.secret(name) if name in self.target.secrets else None

    def secret_values(self) -> list[str]:
        """Every configured secret value that is set: what ``redact`` must hide."""
        values = (self._environ.get(variable) for variable in self.target.secrets.values())
        return [value for value in values if value]

    def redact(self, text: str) -> str:
        """``text`` with every secret value of this target and any credential pattern hidden."""
        return redact(text, self.secret_values())

    def error(
        self, message: str, cls: type[ProvisionerError] = ProvisionerError
    ) -> ProvisionerError:
        """A ``ProvisionerError`` about this target whose message is redacted."""
        return cls(self.redact(f"target {self.target.name!r} ({self.kind}): {message}"))

    # -- helpers for kinds ---------------------------------------------------------------------

    def mapped_role(self, grant: Grant, roles: Mapping[str, str]) -> str:
        """What ``grant``'s role maps to in ``roles``, refusing a grant for another target."""
        if grant.target != self.target.name:
            raise self.error(f"grant {grant.request_id!r} is for target {grant.target!r}")
        mapped = roles.get(grant.role)
        if mapped is None:
            known = ", ".join(sorted(roles))
            raise self.error(
                f"request {grant.request_id!r} asks for role {grant.role!r}, which this target "
                f"does not offer (roles: {known}); add it to the target's `roles`"
            )
        return mapped

    # -- operations ----------------------------------------------------------------------------

    @abstractmethod
    def grant(self, grant: Grant) -> None:
        """Give ``grant``'s access; granting what is already granted changes nothing.

        Called when the access should begin: the caller, not the provisioner, waits for a
        ``starts_at`` in the future. ``expires_at`` is recorded where the target can hold it.
        """

    @abstractmethod
    def revoke(self, grant: Grant) -> None:
        """Take ``grant``'s access away; revoking absent access succeeds."""

    def grant_all(self, grants: Sequence[Grant]) -> None:
        """Grant several; kinds that can batch (one connection, one transaction) override this."""
        for one in grants:
            self.grant(one)

    def revoke_all(self, grants: Sequence[Grant]) -> None:
        """Revoke several; kinds that can batch override this."""
        for one in grants:
            self.revoke(one)

    def perform(self, run: ActionRun) -> ActionResult:
        """Perform ``run`` once, within its limits; a failure is in the result (redacted),
        never retried. Kinds that perform actions (``performs``) override this."""
        raise self.error(f"performs no actions (asked to perform {run.action!r})")

    def check_actions(self, kinds: frozenset[str]) -> list[CheckResult]:
        """Whether the identity actions run as holds no more than actions of ``kinds`` (SQL
        statement kinds, say) need; kinds that perform actions override this."""
        return []

    @abstractmethod
    def list_managed(self) -> list[ManagedAccess]:
        """What jitops manages on the target now (``ListingNotSupported`` if it cannot say)."""

    @abstractmethod
    def describe(self) -> str:
        """One line saying what the target is, without any secret."""

    @abstractmethod
    def check(self) -> list[CheckResult]:
        """Whether the target is reachable and set up with the least privilege jitops needs."""

    def result(
        self, check: str, status: CheckStatus, message: str, fix: str | None = None
    ) -> CheckResult:
        """A ``CheckResult`` for this target, its texts redacted."""
        return CheckResult(
            target=self.target.name,
            check=check,
            status=status,
            message=self.redact(message),
            fix=None if fix is None else self.redact(fix),
        )


def _settings_message(error: Any, kind: type[Provisioner[Any]]) -> str:
    """A settings error in words (``the field and what is wrong — what to write``); an unknown
    setting keeps pydantic's phrase, which the caller words with the kind's settings. What was
    written is shown masked where it looks like a credential, and cut when long: settings are
    not secret, but a secret pasted into one must not be echoed."""
    if error["type"] == "extra_forbidden":
        return str(error["msg"])
    loc = ("settings", *error["loc"])
    shown = {**error, "loc": loc, "input": _redacted_input(error.get("input"))}
    message, hint = describe_error(shown, kind.settings_model)
    return f"{message} — {hint}" if hint else message


def _redacted_input(value: Any) -> Any:
    """What was written, as a person sees it, with anything credential-shaped masked."""
    if isinstance(value, int | float | bool) or value is None:
        return value
    return redact(str(value)) if isinstance(value, str) and len(value) <= 80 else "…"
