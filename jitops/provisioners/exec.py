"""The ``exec`` provisioner: a configured command does the work, for any system without a built-in.

The command receives one JSON document on standard input and its exit status decides: 0 is
success, anything else a failure whose standard error (secret values redacted, last
``STDERR_TAIL`` characters) becomes the error message. The document (``version`` 1)::

    {"version": 1, "action": "grant",            # or "revoke"
     "target": "legacy-app", "request_id": "2026-05-01-alice-legacy",
     "requester": "alice", "role": "operator",
     "expires_at": "2026-05-01T16:00:00Z",        # ISO-8601, UTC, always present
     "starts_at": null}                           # ISO-8601 UTC, or null

Both actions must be idempotent (a grant of what is granted and a revoke of what is absent
exit 0): jitops retries them. An approved command action (an ``ActionRequest``) is the action
``perform``, run once and never retried; its parameters are the request's, checked against the
action's JSON Schema, and the command — never the requester — decides what they do::

    {"version": 1, "action": "perform", "target": "legacy-app", "request_id": "…",
     "requester": "alice", "name": "restart-export", "params": {"service": "export"}}

Its standard output (cut to ``OUTPUT_KEPT`` characters, redacted) is the action's result.

With ``can_list: true`` the command also answers
``{"version": 1, "action": "list", "target": "legacy-app"}`` by printing on standard output::

    {"managed": [{"identity": "alice", "role": "operator",
                  "requester": "alice", "expires_at": "…", "request_id": "…"}]}

(only ``identity`` and ``role`` are required). Without it, ``list_managed`` raises
``ListingNotSupported``.

The command runs without a shell and with a minimal environment: ``PATH``, the variables the
target lists under ``env``, and the target's secrets, each under its own environment variable
name. Nothing else of jitops' environment (tokens of other targets) reaches it.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
from datetime import UTC, datetime
from typing import Literal

import pydantic

from jitops.provisioners._secrets import is_env_name
from jitops.provisioners.interface import (
    ActionResult,
    ActionRun,
    CheckResult,
    CheckStatus,
    Grant,
    ListingNotSupported,
    ManagedAccess,
    Provisioner,
    ProvisionerError,
)

__all__ = ["ExecProvisioner", "ExecSettings", "PROTOCOL_VERSION"]

PROTOCOL_VERSION = 1
STDERR_TAIL = 2000
OUTPUT_KEPT = 4000  # characters of a performed action's output kept and shown
# A listing larger than this is a runaway command, not a target.
MAX_LIST_OUTPUT = 16 * 1024 * 1024


class ExecSettings(pydantic.BaseModel):
    """Settings of an ``exec`` target."""

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)

    command: list[str] = pydantic.Field(min_length=1, description="argv; no shell is involved")
    timeout: float = pydantic.Field(60.0, gt=0, le=3600, description="seconds per run")
    env: list[str] = pydantic.Field(
        default_factory=list, description="names of environment variables passed to the command"
    )
    can_list: bool = pydantic.Field(False, description="the command answers the list action")

    @pydantic.field_validator("command")
    @classmethod
    def _program_given(cls, command: list[str]) -> list[str]:
        if not command[0].strip():
            raise ValueError("the first element (the program) must not be empty")
        return command

    @pydantic.field_validator("env")
    @classmethod
    def _env_names(cls, names: list[str]) -> list[str]:
        wrong = [name for name in names if not is_env_name(name)]
        if wrong:
            raise ValueError(f"not environment variable names: {', '.join(map(repr, wrong))}")
        return names


class _Listed(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")

    identity: str = pydantic.Field(min_length=1)
    role: str = pydantic.Field(min_length=1)
    requester: str | None = None
    expires_at: pydantic.AwareDatetime | None = None
    request_id: str | None = None


class _ListOutput(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")

    managed: list[_Listed]


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


class ExecProvisioner(Provisioner[ExecSettings]):
    """Runs the target's command with the grant as JSON on standard input."""

    kind = "exec"
    performs = frozenset({"command"})
    settings_model = ExecSettings
    any_secrets = True  # they are handed to the command, whatever it calls them

    def describe(self) -> str:
        listing = ", lists managed access" if self.settings.can_list else ""
        return (
            f"exec target {self.target.name!r}: runs `{shlex.join(self.settings.command)}` "
            f"(timeout {self.settings.timeout:g}s{listing})"
        )

    def grant(self, grant: Grant) -> None:
        self._run(self._payload("grant", grant))

    def revoke(self, grant: Grant) -> None:
        self._run(self._payload("revoke", grant))

    def perform(self, run: ActionRun) -> ActionResult:
        """Run the command once with the action ``perform``; its outcome as the result."""
        if run.target != self.target.name:
            raise self.error(f"action {run.request_id!r} is for target {run.target!r}")
        started = datetime.now(UTC)
        payload = {
            "version": PROTOCOL_VERSION,
            "action": "perform",
            "target": self.target.name,
            "request_id": run.request_id,
            "requester": run.requester,
            "name": run.action,
            "params": dict(run.params or {}),
        }
        identity = f"exec {shlex.join(self.settings.command)}"
        try:
            stdout = self._run(payload, timeout=run.timeout.total_seconds())
        except ProvisionerError as exc:
            return ActionResult(False, identity, started, datetime.now(UTC), error=exc.message)
        output = self.redact(stdout)
        if len(output) > OUTPUT_KEPT:
            output = output[: OUTPUT_KEPT - 1] + "…"
        return ActionResult(True, identity, started, datetime.now(UTC), output=output)

    def list_managed(self) -> list[ManagedAccess]:
        if not self.settings.can_list:
            raise self.error(
                "the command does not answer the list action, so drift cannot be checked here; "
                "implement it and set `can_list: true`",
                ListingNotSupported,
            )
        stdout = self._run(
            {"version": PROTOCOL_VERSION, "action": "list", "target": self.target.name}
        )
        if len(stdout) > MAX_LIST_OUTPUT:
            raise self.error(f"list output is larger than {MAX_LIST_OUTPUT} bytes")
        try:
            listed = _ListOutput.model_validate_json(stdout)
        except pydantic.ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'output'}: {e['msg']}"
                for e in exc.errors(include_url=False, include_input=False)
            )
            raise self.error(
                f'list output is not the expected JSON ({{"managed": [...]}}): {problems}'
            ) from None
        return [
            ManagedAccess(
                target=self.target.name,
                identity=item.identity,
                role=item.role,
                requester=item.requester,
                expires_at=item.expires_at,
                request_id=item.request_id,
            )
            for item in listed.managed
        ]

    def check(self) -> list[CheckResult]:
        results: list[CheckResult] = []
        program = self.settings.command[0]
        found = self._resolve(program)
        if found is None:
            results.append(
                self.result(
                    "command",
                    CheckStatus.ERROR,
                    f"command {program!r} is not found or not executable",
                    "install it, fix `command`, or make the file executable (chmod +x)",
                )
            )
        else:
            results.append(self.result("command", CheckStatus.OK, f"command found at {found}"))
        results.extend(
            self.result(
                "environment",
                CheckStatus.WARNING,
                f"environment variable {variable} (listed in `env`) is not set",
                f"set {variable} in the workflow, or remove it from `env`",
            )
            for variable in self.settings.env
            if variable not in self._environ
        )
        for name in sorted(self.target.secrets):
            try:
                self.secret(name)
            except ProvisionerError as exc:
                results.append(self.result("secrets", CheckStatus.ERROR, exc.message))
        if found is not None and self.settings.can_list:
            try:
                count = len(self.list_managed())
            except ProvisionerError as exc:
                results.append(self.result("reachable", CheckStatus.ERROR, exc.message))
            else:
                results.append(
                    self.result(
                        "reachable", CheckStatus.OK, f"list action answered: {count} managed"
                    )
                )
        return results

    # -- running the command -------------------------------------------------------------------

    def _payload(self, action: Literal["grant", "revoke"], grant: Grant) -> dict[str, object]:
        if grant.target != self.target.name:
            raise self.error(f"grant {grant.request_id!r} is for target {grant.target!r}")
        return {
            "version": PROTOCOL_VERSION,
            "action": action,
            "target": self.target.name,
            "request_id": grant.request_id,
            "requester": grant.requester,
            "role": grant.role,
            "expires_at": _iso(grant.expires_at),
            "starts_at": _iso(grant.starts_at),
        }

    def _child_environment(self) -> dict[str, str]:
        env = {"PATH": self._environ.get("PATH", os.defpath)}
        for variable in self.settings.env:
            if variable in self._environ:
                env[variable] = self._environ[variable]
        for name, variable in self.target.secrets.items():
            env[variable] = self.secret(name)
        return env

    def _resolve(self, program: str) -> str | None:
        if os.sep in program:
            return program if os.access(program, os.X_OK) and os.path.isfile(program) else None
        return shutil.which(program, path=self._environ.get("PATH", os.defpath))

    def _run(self, payload: dict[str, object], timeout: float | None = None) -> str:
        action = payload["action"]
        command = self.settings.command
        timeout = self.settings.timeout if timeout is None else timeout
        try:
            completed = subprocess.run(
                command,
                input=json.dumps(payload),
                capture_output=True,
                text=True,
                timeout=timeout,
                env=self._child_environment(),
                check=False,
            )
        except FileNotFoundError:
            raise self.error(
                f"command {command[0]!r} not found; install it or fix `command`"
            ) from None
        except PermissionError:
            raise self.error(
                f"command {command[0]!r} is not executable; chmod +x it or fix `command`"
            ) from None
        except subprocess.TimeoutExpired:
            raise self.error(
                f"{action}: command did not finish within {timeout:g}s and was "
                f"killed; raise `timeout` or make the command faster"
            ) from None
        if completed.returncode != 0:
            stderr = completed.stderr.strip()[-STDERR_TAIL:] or "(no output on stderr)"
            raise self.error(
                f"{action}: command exited with status {completed.returncode}: {stderr}"
            )
        return completed.stdout
