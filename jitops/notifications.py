"""Telling people and systems what happened: the ``Notify`` channels of the policies.

A command that grants, revokes, judges or audits collects ``Notice`` values (what happened to
which request) and hands them to ``send`` once, at its end. Each channel gets one message per
run with the notices it asked for (``events``), so a sweep revoking a thousand grants posts
once, not a thousand times:

- ``slack``: an incoming webhook's ``{"text": …}``, one line per notice (the first
  ``SLACK_LINES``, then how many more), with what people wrote escaped so it can neither
  mention ``@channel`` nor forge a link;
- ``webhook``: ``{"schema": "jitops.notifications/v1", "repository", "sent_at", "notices":
  [...]}`` as JSON, ``JSON_BATCH`` notices a request, signed with HMAC-SHA256 in
  ``X-Jitops-Signature-256: sha256=<hex>`` when the channel names a signing key.

The address and the key come from the environment (the variables ``secrets`` names), never the
repository. A channel that fails — its variable unset, not an https URL, no answer, a refusal
— becomes a problem in the ``NotifyReport`` for the command to print as a warning: a
notification never holds up a grant or a revoke, and changes no exit status. No message ever
shows the address or the key (a Slack webhook's URL is its secret), nor an exception's text,
which may hold them.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit

from jitops.models import Notify, NotifyEvent, Target

if TYPE_CHECKING:
    from jitops.ledger import LedgerEntry

SCHEMA: Final = "jitops.notifications/v1"
SIGNATURE_HEADER: Final = "X-Jitops-Signature-256"
SLACK_LINES: Final = 20  # notices listed in one Slack message; the rest are counted
JSON_BATCH: Final = 100  # notices in one webhook request
TIMEOUT: Final = 10.0  # seconds for each try
_BARE_LINK = re.compile(r"(?i)(?<=:)(?=//)|(?<=\bwww)(?=\.)")
# tokens the workflows hand jitops, whatever the policies say
ALWAYS_SECRET: Final = ("GITHUB_TOKEN", "JITOPS_READ_ORG_TOKEN")
TRIES: Final = 3  # a dropped connection or a 5xx is tried again, twice, after a short wait


@dataclass(frozen=True)
class Notice:
    """One thing that happened, for a channel to tell."""

    event: NotifyEvent
    summary: str  # one line for people, as plain text
    request_id: str | None = None
    requester: str | None = None
    target: str | None = None
    role: str | None = None
    until: datetime | None = None
    pull_request: int | None = None
    detail: str = ""  # why it was refused, what failed, what is missing
    approvers: tuple[str, ...] = ()  # who can approve (opened)
    action: str | None = None  # an action request's action (it has no role)

    @classmethod
    def of(
        cls,
        event: NotifyEvent,
        entry: LedgerEntry,
        summary: str,
        *,
        detail: str = "",
        pull_request: int | None = None,
    ) -> Notice:
        request = entry.request
        return cls(
            event,
            summary,
            request.id,
            request.requester,
            request.target,
            request.role,
            entry.expires_at,
            pull_request,
            detail,
        )

    def as_json(self) -> dict[str, object]:
        return {
            "event": self.event,
            "summary": self.summary,
            "request": None
            if self.request_id is None
            else {
                "id": self.request_id,
                "requester": self.requester,
                "target": self.target,
                "role": self.role,
                "action": self.action,
                "until": self.until.isoformat() if self.until else None,
            },
            "pull_request": self.pull_request,
            "detail": self.detail,
            "approvers": list(self.approvers),
        }


@dataclass(frozen=True)
class Delivery:
    """What became of one channel's message."""

    channel: str  # the Notify's name
    notices: int  # how many notices it was to carry
    problem: str | None = None  # why it was not delivered (never the address or the key)


@dataclass(frozen=True)
class NotifyReport:
    deliveries: tuple[Delivery, ...] = ()

    @property
    def problems(self) -> list[str]:
        return [
            f"notifying {d.channel!r} of {d.notices} event(s) failed: {d.problem}"
            for d in self.deliveries
            if d.problem is not None
        ]


@dataclass(frozen=True)
class Sender:
    """Where the messages say they come from: the repository and its web address."""

    repository: str = ""
    web_url: str | None = None  # https://github.com/acme/access: pull requests are linked
    now: datetime | None = None
    environ: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Channels:
    """The Notify channels of the policies, and every environment variable the policies
    name for a secret (targets' and channels'), whose values no message may show."""

    notify: tuple[Notify, ...] = ()
    secret_variables: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.notify)


def channels_of(root: Path) -> Channels:
    """The Notify channels of the policies in ``root``'s work tree (the default branch, in
    the workflows), each loaded on its own: one broken policy file silences no channel."""
    from jitops.repo import load_policies

    loaded = load_policies(root, parallel=False)
    channels = tuple(f.model for f in loaded.files if isinstance(f.model, Notify))
    variables = {
        v for f in loaded.files if isinstance(f.model, Target) for v in f.model.secrets.values()
    } | {v for c in channels for v in (c.secrets.url, c.secrets.signing_key) if v}
    return Channels(channels, tuple(sorted(variables | set(ALWAYS_SECRET))))


def sender_for(root: Path, repository: str, environ: Mapping[str, str], now: datetime) -> Sender:
    """Who sends, as the checkout at ``root`` says: its origin's web address links the pull
    requests (never with a token origin's URL may carry)."""
    from jitops import git
    from jitops.github.urls import web_url

    remote = git.remote_url(root)
    return Sender(repository, web_url(remote) if remote else None, now, environ)


def unrecorded(root: Path, entries: Sequence[LedgerEntry]) -> list[LedgerEntry]:
    """The entries no earlier run recorded revoking (``jitops.revocation_record``): the sweep
    revokes an expired grant again on every run until its file leaves the branch, and apply
    confirms it once more then; only the first revoke is news."""
    from jitops import revocation_record

    first = revocation_record.read_all(root).first
    return [
        e for e in entries if (e.request.id, e.landing.commit if e.landing else None) not in first
    ]


def notify(
    root: Path,
    notices: Sequence[Notice],
    repository: str,
    environ: Mapping[str, str],
    now: datetime,
) -> NotifyReport:
    """Tell the channels of ``root``'s policies the notices; nothing when there are none."""
    if not notices:
        return NotifyReport()
    channels = channels_of(root)
    if not channels:
        return NotifyReport()
    return send(channels, notices, sender_for(root, repository, environ, now))


def send(channels: Channels, notices: Sequence[Notice], sender: Sender) -> NotifyReport:
    """Tell each channel the notices it asked for; every failure is in the report. Any
    secret's value in what the notices say is masked first."""
    values = [sender.environ.get(v, "") for v in channels.secret_variables]
    masked = [_masked(n, [v for v in values if len(v) >= 4]) for n in notices]
    deliveries = []
    for channel in channels.notify:
        wanted = [n for n in masked if n.event in channel.events]
        if not wanted:
            continue
        problem = _deliver(channel, wanted, sender)
        deliveries.append(Delivery(channel.name, len(wanted), problem))
    return NotifyReport(tuple(deliveries))


def _masked(notice: Notice, secrets: Sequence[str]) -> Notice:
    summary, detail = notice.summary, notice.detail
    for secret in sorted(secrets, key=len, reverse=True):
        summary, detail = summary.replace(secret, "***"), detail.replace(secret, "***")
    return replace(notice, summary=summary, detail=detail)


def _deliver(channel: Notify, notices: Sequence[Notice], sender: Sender) -> str | None:
    variable = channel.secrets.url
    url = sender.environ.get(variable, "").strip()
    if not url:
        return f"{variable} is not set (it holds the address to send to)"
    if not _acceptable(url):
        return f"{variable} does not hold an https:// URL (http:// only to this machine)"
    key = None
    if channel.secrets.signing_key is not None:
        key = sender.environ.get(channel.secrets.signing_key)
        if not key:
            return f"{channel.secrets.signing_key} is not set (it holds the signing key)"
    bodies = (
        [slack_message(notices, sender)]
        if channel.channel == "slack"
        else [
            webhook_body(notices[i : i + JSON_BATCH], sender)
            for i in range(0, len(notices), JSON_BATCH)
        ]
    )
    for body in bodies:
        problem = _post(url, body, key)
        if problem is not None:
            return problem
    return None


def _acceptable(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return True
    if parts.scheme != "http" or not parts.hostname:
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


def _post(url: str, body: bytes, key: str | None) -> str | None:
    import urllib3
    from urllib3.exceptions import HTTPError, MaxRetryError

    headers = {"Content-Type": "application/json", "User-Agent": "jitops"}
    if key is not None:
        digest = hmac.new(key.encode(), body, hashlib.sha256).hexdigest()
        headers[SIGNATURE_HEADER] = f"sha256={digest}"
    retry = urllib3.Retry(
        total=TRIES - 1,
        backoff_factor=0.5,
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=None,  # POST too: a message told twice beats one never told
        raise_on_status=False,
        respect_retry_after_header=True,
    )
    try:
        with urllib3.PoolManager(retries=retry, timeout=TIMEOUT) as pool:
            answer = pool.request("POST", url, body=body, headers=headers, redirect=False)
    except MaxRetryError as exc:
        reason = type(exc.reason).__name__ if exc.reason is not None else "no answer"
        return f"no answer after {TRIES} tries ({reason})"
    except (HTTPError, OSError, ValueError) as exc:
        return f"could not send ({type(exc).__name__})"
    if 200 <= answer.status < 300:
        return None
    return f"the receiver answered HTTP {answer.status}"


# -- the messages ---------------------------------------------------------------------------


def webhook_body(notices: Sequence[Notice], sender: Sender) -> bytes:
    document = {
        "schema": SCHEMA,
        "repository": sender.repository or None,
        "sent_at": sender.now.isoformat() if sender.now else None,
        "notices": [n.as_json() for n in notices],
    }
    return json.dumps(document, sort_keys=True).encode()


def slack_escape(text: str) -> str:
    """Text as Slack shows it literally, on one line: ``&``, ``<`` and ``>`` are escaped, so
    ``<!channel>`` notifies no one and ``<https://x|label>`` is no link; a bare address is
    broken by an invisible WORD JOINER after its ``:``, so Slack does not link it either."""
    line = " ".join(text.split())
    line = line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BARE_LINK.sub("\u2060", line)


def slack_message(notices: Sequence[Notice], sender: Sender) -> bytes:
    where = f" in {slack_escape(sender.repository)}" if sender.repository else ""
    lines = [f"*jitops*{where}: {len(notices)} event(s)"]
    for notice in notices[:SLACK_LINES]:
        line = f"• `{notice.event}` {slack_escape(notice.summary)}"
        if notice.detail:
            line += f" — {slack_escape(notice.detail)}"
        if notice.pull_request is not None and sender.web_url:
            line += f" (<{sender.web_url}/pull/{notice.pull_request}|#{notice.pull_request}>)"
        lines.append(line)
    if len(notices) > SLACK_LINES:
        lines.append(f"…and {len(notices) - SLACK_LINES} more")
    return json.dumps({"text": "\n".join(lines)}).encode()
