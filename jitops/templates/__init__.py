"""The files jitops writes into an access repository, and how they are rendered.

The templates are package data beside this module, shipped in the wheel:

- ``workflows/``: the five GitHub Actions workflows. They are the one source of truth for
  jitops' own ``.github/workflows/`` too (a test renders them for this repository and compares),
  so what ``jitops init`` installs is exactly what jitops runs and tests (zizmor, actionlint).
- ``starter/``: the starter ``policies/`` of a new access repository.

A placeholder is ``%{name}``. One alone on its line with a list of lines as its value is a
block: each line is indented like the placeholder, and an empty list removes the line. Every
placeholder must have a value: a template and its caller cannot drift apart silently.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Final

from jitops.models import Target

# Under .github/workflows/, in the order they act on a pull request and after it.
WORKFLOW_NAMES: Final = (
    "jitops-check.yml",
    "jitops-review-relay.yml",
    "jitops-review.yml",
    "jitops-apply.yml",
    "jitops-sweep.yml",
)
# The starter policies/ of a new access repository, relative to its root.
STARTER_POLICY_FILES: Final = (
    "policies/targets.yaml",
    "policies/sandbox-db.yaml",
    "policies/policy-changes.yaml",
    "policies/tests/sandbox-db.yaml",
)
# The extras the granting workflows install: the built-in provisioners' client libraries.
PROVISIONER_EXTRAS: Final = "postgres,aws"

_PLACEHOLDER = re.compile(r"%\{([a-z_]+)\}")
_BLOCK = re.compile(r"^( *)%\{([a-z_]+)\}\n", re.MULTILINE)


class TemplateError(Exception):
    """A template and the values given for it disagree: a bug in jitops, not bad input."""


def render(text: str, values: Mapping[str, str | Sequence[str]]) -> str:
    """``text`` with its ``%{name}`` placeholders replaced by ``values``."""

    def value(name: str) -> str | Sequence[str]:
        if name not in values:
            raise TemplateError(f"no value for placeholder %{{{name}}}")
        return values[name]

    def block(match: re.Match[str]) -> str:
        found = value(match.group(2))
        lines = [found] if isinstance(found, str) else found
        return "".join(f"{match.group(1)}{line}\n" for line in lines)

    def inline(match: re.Match[str]) -> str:
        found = value(match.group(1))
        if not isinstance(found, str):
            raise TemplateError(f"%{{{match.group(1)}}} is a block: give it a line of its own")
        return found

    return _PLACEHOLDER.sub(inline, _BLOCK.sub(block, text))


def _read(*parts: str) -> str:
    return resources.files(__name__).joinpath(*parts).read_text(encoding="utf-8")


@dataclass(frozen=True)
class Install:
    """How the workflows install jitops: the step's name and what ``pip install`` gets."""

    name: str
    base: str  # the argument of `python -m pip install --quiet`, quoted for the shell
    provisioners: str  # the same with the provisioners' extras, for apply and sweep

    @classmethod
    def release(cls, version: str) -> Install:
        """A published release, pinned exactly: an access repository's workflows."""
        return cls(
            f"Install jitops {version}",
            f"'jitops=={version}'",
            f"'jitops[{PROVISIONER_EXTRAS}]=={version}'",
        )

    @classmethod
    def checkout(cls) -> Install:
        """The checked-out source: jitops' own repository, where jitops is the code itself."""
        return cls("Install jitops from the default branch", ".", f"'.[{PROVISIONER_EXTRAS}]'")


@dataclass(frozen=True)
class WorkflowSettings:
    install: Install
    default_branch: str
    # The environment variables the targets' secrets live in; apply and sweep pass each one
    # from the Actions secret of the same name.
    secret_variables: tuple[str, ...]


def secret_variables(targets: Iterable[Target]) -> tuple[str, ...]:
    """Every environment variable the targets' secrets live in, sorted, once each."""
    return tuple(sorted({v for target in targets for v in target.secrets.values()}))


def render_workflows(settings: WorkflowSettings) -> dict[str, str]:
    """File name under ``.github/workflows/`` → its text."""
    secrets = [f"{name}: ${{{{ secrets.{name} }}}}" for name in settings.secret_variables]
    values: dict[str, str | Sequence[str]] = {
        "install_name": settings.install.name,
        "install": settings.install.base,
        "install_provisioners": settings.install.provisioners,
        "default_branch": settings.default_branch,
        "target_secrets": secrets,
    }
    rendered = {}
    for name in WORKFLOW_NAMES:
        rendered[name] = render(_read("workflows", name), values)
    return rendered


def render_starter_policies(org: str, security_team: str) -> dict[str, str]:
    """Path of each starter policy file → its text, for organisation ``org`` (``acme``) and
    the team that approves policy changes (``@acme/security``)."""
    values = {"org": org, "security_team": security_team}
    rendered = {}
    for path in STARTER_POLICY_FILES:
        rendered[path] = render(_read("starter", *path.split("/")), values)
    return rendered
