"""Where the running jitops was installed from, so ``jitops init`` can pin its workflows to it.

The workflows run jitops through the composite action at the root of jitops' repository,
pinned by commit: ``uses: OWNER/jitops@<commit SHA>``. The commit is the one this jitops is:

- installed by pip from git (``pip install git+https://github.com/OWNER/jitops@…``): pip
  recorded the repository and the exact commit (PEP 610's ``direct_url.json``);
- installed from a folder (``pip install -e .`` in a clone): that clone's HEAD and the GitHub
  repository its ``origin`` names — with a warning when the commit is not on any branch of
  origin the clone knows of (the workflows would not find it) or the clone has changes the
  commit does not hold;
- installed from a package index (no ``direct_url.json``): a published release, which the
  workflows can install the same way, pinned exactly.

Anything else (an archive, a folder that is no GitHub clone) names no commit the workflows
could use: ``jitops init`` then asks for ``--action`` or ``--release``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Final
from urllib.parse import unquote, urlsplit

from jitops import git
from jitops.errors import UsageError
from jitops.github.urls import repository_from_url

DISTRIBUTION: Final = "jitops"
_COMMIT = re.compile(r"[0-9a-f]{40}")
_REPOSITORY = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}")


@dataclass(frozen=True)
class ActionPin:
    """jitops' composite action at one commit: ``uses: REPOSITORY@COMMIT``."""

    repository: str  # OWNER/NAME
    commit: str  # the full 40-hex commit SHA


@dataclass(frozen=True)
class Origin:
    """What is known of where this jitops came from."""

    pin: ActionPin | None  # the action at the commit this jitops is, when one is known
    from_index: bool  # installed from a package index: a release the workflows can pin
    described: str  # where it came from, for people: "the clone at /src/jitops"
    warnings: tuple[str, ...] = ()
    problem: str = ""  # why no commit is known, when neither pin nor from_index


def parse_pin(text: str) -> ActionPin:
    """``OWNER/NAME@COMMIT`` as given to ``--action``; a clear error for anything else."""
    repository, at, commit = text.strip().partition("@")
    if not at or not _REPOSITORY.fullmatch(repository) or not _COMMIT.fullmatch(commit):
        raise UsageError(
            f"--action {text!r} is not OWNER/NAME@COMMIT — give jitops' repository and a full "
            "40-hex commit SHA (not a branch or tag, which can move), e.g. "
            "acme/jitops@0123456789abcdef0123456789abcdef01234567"
        )
    return ActionPin(repository, commit)


def origin() -> Origin:
    """Where the installed jitops came from (read from pip's records and, for a clone, git)."""
    try:
        recorded = metadata.distribution(DISTRIBUTION).read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        return Origin(None, False, "no installed package", problem="jitops is not installed")
    if recorded is None:
        return Origin(None, True, "a package index")
    try:
        direct = json.loads(recorded)
    except ValueError:
        direct = None
    if not isinstance(direct, dict) or not isinstance(direct.get("url"), str):
        return Origin(None, False, "unknown", problem="pip's record of its origin is unreadable")
    url: str = direct["url"]
    vcs = direct.get("vcs_info")
    if isinstance(vcs, dict):
        return _from_vcs(url, vcs)
    if isinstance(direct.get("dir_info"), dict) and url.startswith("file://"):
        return _from_folder(Path(unquote(urlsplit(url).path)))
    return Origin(None, False, url, problem=f"it was installed from {url}, which names no commit")


def _from_vcs(url: str, vcs: dict[str, object]) -> Origin:
    commit, repository = vcs.get("commit_id"), repository_from_url(url)
    described = f"{url} at {commit}"
    if vcs.get("vcs") != "git" or not isinstance(commit, str) or not _COMMIT.fullmatch(commit):
        return Origin(None, False, described, problem=f"it was installed from {url}, not git")
    if repository is None:
        return Origin(None, False, described, problem=f"{url} is not a GitHub repository's address")
    return Origin(ActionPin(repository, commit), False, described)


def _from_folder(folder: Path) -> Origin:
    described = f"the folder {folder}"
    root = git.toplevel(folder) if folder.is_dir() else None
    if root is None:
        return Origin(None, False, described, problem=f"{folder} is not a git clone")
    commit = git.resolve(root, "HEAD")
    url = git.remote_url(root)
    repository = repository_from_url(url) if url else None
    described = f"the clone at {root}"
    if commit is None:
        return Origin(None, False, described, problem=f"{root} has no commit yet")
    if repository is None:
        return Origin(
            None,
            False,
            described,
            problem=f"{root} has no GitHub remote named origin, so its commit is on no GitHub",
        )
    warnings = []
    if not git.remote_branches_containing(root, commit):
        warnings.append(
            f"commit {commit} of {root} is on no branch of origin ({repository}) this clone "
            "knows of: push it before the workflows run, or they cannot find the action"
        )
    if git.has_changes(root):
        warnings.append(
            f"{root} has changes not committed: the workflows run commit {commit}, without them"
        )
    return Origin(ActionPin(repository, commit), False, described, tuple(warnings))
