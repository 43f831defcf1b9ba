"""What a request file is: one definition for the check, validate, apply and the ledger.

A request file is a regular file under ``requests/`` whose name ends in ``.yaml`` or ``.yml``.
Anything else there is either a placeholder a person may keep (``README``, ``.gitkeep``), which
nobody reads, or no request file at all: a ``.json`` or ``.txt`` file, a symbolic link (its
link text could parse as a request), a submodule. The check refuses a pull request that adds
one, so nothing reaches the branch that one reader would take as a request and another would
skip.
"""

from __future__ import annotations

from pathlib import PurePosixPath

REQUESTS_DIR = "requests"
REQUESTS_PREFIX = REQUESTS_DIR + "/"
SUFFIXES = (".yaml", ".yml")
# Files a person may keep beside request files without jitops reading them.
IGNORED_NAMES = ("README", ".gitkeep", ".keep")
# git's modes of a regular file (plain and executable); 120000 is a link, 160000 a submodule
REGULAR_MODES = ("100644", "100755")

FIX = "request files are regular files named requests/<target>/<role>/<id>.yaml"


def under_requests(path: str) -> bool:
    return path.startswith(REQUESTS_PREFIX)


def is_ignored(path: str) -> bool:
    """A placeholder under ``requests/`` that nobody reads (``README``, ``.gitkeep``)."""
    return under_requests(path) and PurePosixPath(path).name.startswith(IGNORED_NAMES)


def has_request_name(path: str) -> bool:
    return under_requests(path) and path.endswith(SUFFIXES)


def problem(path: str, mode: str | None) -> str | None:
    """Why ``path`` (with git ``mode``, when known) under ``requests/`` is no request file;
    None when it is one, or when it is a placeholder nobody reads."""
    if not under_requests(path) or is_ignored(path):
        return None
    if not path.endswith(SUFFIXES):
        return f"{path} is not a request file: its name does not end in .yaml or .yml"
    if mode is not None and mode not in REGULAR_MODES:
        what = {"120000": "a symbolic link", "160000": "a submodule"}.get(mode, f"mode {mode}")
        return f"{path} is not a request file: it is {what}"
    return None


def home(target: str, role: str, request_id: str) -> str:
    """Where the request ``request_id`` for ``role`` on ``target`` lives: the folder is what
    CODEOWNERS routes approval by, and the name is the id."""
    return f"{REQUESTS_PREFIX}{target}/{role}/{request_id}.yaml"


def is_home(path: str, target: str, role: str, request_id: str) -> bool:
    """Whether ``path`` is that request's place (``.yml`` as good as ``.yaml``)."""
    expected = home(target, role, request_id)
    return path == expected or path == expected.removesuffix(".yaml") + ".yml"


# Where `jitops schema --write` puts the JSON Schema of each kind of file, in the repository.
SCHEMA_DIR = ".jitops/schema"
# The first line of every request file jitops writes: editors with the YAML language server
# (VS Code's YAML extension and others) complete and check the file against the schema there,
# found from the file at requests/<target>/<role>/<id>.yaml.
SCHEMA_MODELINE = f"# yaml-language-server: $schema=../../../{SCHEMA_DIR}/request.schema.json\n"
# The same for an action request, at actions/<target>/<action>/<id>.yaml.
ACTION_SCHEMA_MODELINE = (
    f"# yaml-language-server: $schema=../../../{SCHEMA_DIR}/action-request.schema.json\n"
)
