"""The files jitops writes into an access repository, and how they are rendered.

The templates are package data beside this module, shipped in the wheel:

- ``workflows/``: the five GitHub Actions workflows. They are the one source of truth for
  jitops' own ``.github/workflows/`` too (a test renders them for this repository and compares),
  so what ``jitops init`` installs is exactly what jitops runs and tests (zizmor, actionlint).
- ``steps/``: steps the workflows share, rendered into them (installing a release with pip).
- ``starter/``: the starter ``policies/`` of a new access repository.

A placeholder is ``%{name}``. One alone on its line with a list of lines as its value is a
block: each line is indented like the placeholder, and an empty list removes the line. A block
may take an argument, ``%{name: words}``: its value is then a function of the words, giving the
lines (``%{jitops: check-pr}`` is the step that runs ``jitops check-pr``, through the action or
the installed release). Every placeholder must have a value: a template and its caller cannot
drift apart silently.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Final

from jitops.models import Notify, Target

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
_BLOCK = re.compile(r"^( *)%\{([a-z_]+)(?:: ([^}\n]+))?\}\n", re.MULTILINE)
# The composite action at the root of jitops' repository: its own workflows use it from their
# checkout; an access repository's from jitops' repository at a commit.
LOCAL_ACTION: Final = "./"

Value = str | Sequence[str] | Callable[[str], Sequence[str]]


class TemplateError(Exception):
    """A template and the values given for it disagree: a bug in jitops, not bad input."""


def render(text: str, values: Mapping[str, Value]) -> str:
    """``text`` with its ``%{name}`` placeholders replaced by ``values``."""

    def value(name: str) -> Value:
        if name not in values:
            raise TemplateError(f"no value for placeholder %{{{name}}}")
        return values[name]

    def block(match: re.Match[str]) -> str:
        name, argument = match.group(2), match.group(3)
        found = value(name)
        if callable(found) != (argument is not None):
            wanted = "an argument: %{name: words}" if callable(found) else "no argument"
            raise TemplateError(f"%{{{name}}} takes {wanted}")
        if callable(found):
            lines: Sequence[str] = found(argument)
        else:
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
    """How the workflows get jitops: the composite action at a pinned commit of jitops'
    repository (``uses``), or a release from the package index, installed with pip."""

    name: str  # what the steps are called: where jitops comes from
    uses: str | None  # `OWNER/jitops@<commit SHA>  # comment`, or LOCAL_ACTION; None: pip
    base: str = ""  # pip: the argument of `python -m pip install --quiet`, quoted for the shell
    provisioners: str = ""  # the same with the provisioners' extras, for apply and sweep

    @classmethod
    def action(cls, repository: str, commit: str, version: str | None = None) -> Install:
        """jitops' composite action in ``repository`` (``OWNER/NAME``) at ``commit``, which
        installs jitops from its own checkout: the default, needing no published release."""
        comment = f"  # jitops {version}" if version else ""
        return cls(f"jitops from {repository} at {commit}", f"{repository}@{commit}{comment}")

    @classmethod
    def local(cls) -> Install:
        """The action from the workflow's own checkout: jitops' own repository. (GitHub's
        ``$/`` form, which zizmor prefers, is not read by actionlint yet.)"""
        return cls(
            "jitops from this repository's default branch",
            f"{LOCAL_ACTION}  # zizmor: ignore[self-repository] actionlint does not read $/ yet",
        )

    @classmethod
    def release(cls, version: str) -> Install:
        """A published release, pinned exactly, from the package index."""
        return cls(
            f"Install jitops {version}",
            None,
            f"'jitops=={version}'",
            f"'jitops[{PROVISIONER_EXTRAS}]=={version}'",
        )

    def install_steps(self, which: str) -> list[str]:
        """The steps before the first jitops step: none for the action (it installs itself);
        for a release, Python and ``pip install`` (``which``: ``base`` or ``provisioners``)."""
        if self.uses is not None:
            return []
        if which not in ("base", "provisioners"):
            raise TemplateError(f"%{{install_steps: {which}}}: say base or provisioners")
        argument = self.base if which == "base" else self.provisioners
        text = render(
            _read("steps", "pip-install.yml"), {"install_name": self.name, "install": argument}
        )
        return text.splitlines()

    def jitops_step(self, command: str) -> list[str]:
        """The lines of a step (after its name) that run ``jitops COMMAND``."""
        if self.uses is None:
            return [f"run: jitops {command}"]
        return [f"uses: {self.uses}", "with:", f"  command: {command}"]


@dataclass(frozen=True)
class WorkflowSettings:
    install: Install
    default_branch: str
    # The environment variables the targets' and the Notify channels' secrets live in; apply
    # and sweep pass each one from the Actions secret of the same name.
    secret_variables: tuple[str, ...]
    # The Notify channels' alone: the pull-request check tells them too, and sees no other
    notify_variables: tuple[str, ...] = ()
    # The targets' action_… secrets: only the steps that perform actions (apply) get them
    action_variables: tuple[str, ...] = ()


ACTION_SECRET_PREFIX = "action_"


def secret_variables(targets: Iterable[Target], notify: Iterable[Notify] = ()) -> tuple[str, ...]:
    """Every environment variable the targets' secrets for granting and revoking (all but
    their ``action_…`` ones) and the Notify channels' secrets live in, sorted, once each."""
    found = {
        v
        for target in targets
        for name, v in target.secrets.items()
        if not name.startswith(ACTION_SECRET_PREFIX)
    }
    found |= {v for c in notify for v in (c.secrets.url, c.secrets.signing_key) if v}
    return tuple(sorted(found))


def action_variables(targets: Iterable[Target]) -> tuple[str, ...]:
    """The environment variables the targets' ``action_…`` secrets live in (the login an
    approved action runs as): only a step that performs actions needs them, sorted, once each.
    One also used for granting stays out: it is in :func:`secret_variables`."""
    listed = list(targets)
    found = {
        v
        for target in listed
        for name, v in target.secrets.items()
        if name.startswith(ACTION_SECRET_PREFIX)
    }
    return tuple(sorted(found - set(secret_variables(listed))))


def render_workflows(settings: WorkflowSettings) -> dict[str, str]:
    """File name under ``.github/workflows/`` → its text."""
    secrets = [f"{name}: ${{{{ secrets.{name} }}}}" for name in settings.secret_variables]
    notify = [f"{name}: ${{{{ secrets.{name} }}}}" for name in settings.notify_variables]
    performing = secrets + [
        f"{name}: ${{{{ secrets.{name} }}}}" for name in settings.action_variables
    ]
    values: dict[str, Value] = {
        "install_steps": settings.install.install_steps,
        "jitops": settings.install.jitops_step,
        "default_branch": settings.default_branch,
        "target_secrets": secrets,
        "performing_secrets": sorted(performing),
        "notify_secrets": notify,
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
