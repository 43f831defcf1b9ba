"""Redaction of secret values and credential-shaped text from anything jitops may print.

Invariant 7: provisioner credentials never reach logs, PR comments or exceptions. Errors from
drivers and commands are passed through ``redact`` before they become a jitops message: it hides
the exact secret values jitops read, and, as a second line of defence, anything shaped like a
credential (a password in a connection URI or a ``key=value`` DSN, a bearer token).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "***"

# A secret shorter than this is too likely to appear by chance in ordinary text ("a", "1"); such
# values are still hidden inside the credential patterns below.
_MIN_EXACT = 3

_PATTERNS = (
    # scheme://user:password@host
    (re.compile(r"(?P<keep>[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*:)[^@\s]+(?=@)"), rf"\g<keep>{MASK}"),
    # password=... / secret_access_key: ... in DSNs, JSON-ish and log lines
    (
        re.compile(
            r"(?P<keep>(?:password|passwd|pwd|secret|token|secret_access_key|session_token)"
            r"[\"']?\s*[=:]\s*[\"']?)[^\s\"',;&]+",
            re.IGNORECASE,
        ),
        rf"\g<keep>{MASK}",
    ),
    (re.compile(r"(?P<keep>\b(?:Bearer|token)\s+)[A-Za-z0-9._~+/=-]{8,}"), rf"\g<keep>{MASK}"),
)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with each of ``secrets`` and every credential-shaped substring replaced."""
    # Longest first, so a secret that contains another is hidden whole.
    for value in sorted({s for s in secrets if len(s) >= _MIN_EXACT}, key=len, reverse=True):
        text = text.replace(value, MASK)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def is_env_name(name: str) -> bool:
    """Whether ``name`` can be an environment variable's name (and so is not a secret value)."""
    return _ENV_NAME.fullmatch(name) is not None
