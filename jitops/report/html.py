"""``jitops audit --format html``: one self-contained page an auditor attaches to a ticket.

One file, no network and no script: the styles are inline and a Content-Security-Policy
forbids everything else, so the page shows the same offline, years later, as today, and text
that people wrote (a justification is the requester's) is escaped and could not run even if it
were not. It shows where it was generated from (repository, branch, commit, time, filters), the
problems first, a timeline of access windows per person and target, and every grant with its
approvers, pull request and policy commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from html import escape
from typing import TYPE_CHECKING

from jitops.report.csv import evidence_of
from jitops.report.text import approved_by, revoked_text

if TYPE_CHECKING:
    from jitops.commands.audit import AuditQuery, AuditRecord, AuditReport

_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'"

_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em; color: #1f2328; }
h1 { font-size: 1.5em; margin-bottom: .2em; } h2 { font-size: 1.2em; margin-top: 2em; }
dl.source { display: grid; grid-template-columns: max-content auto; gap: .1em 1em; }
dl.source dt { font-weight: 600; } code, .mono { font-family: ui-monospace, monospace; }
.problems { border-left: 4px solid #cf222e; background: #ffebe9; padding: .5em 1em; }
.problems li { margin: .3em 0; } .ok { border-left: 4px solid #1a7f37; padding: .3em 1em; }
table { border-collapse: collapse; width: 100%; } th, td { padding: .25em .5em; }
th { text-align: left; border-bottom: 2px solid #d0d7de; position: sticky; top: 0;
  background: #fff; }
td { border-bottom: 1px solid #eaeef2; vertical-align: top; }
tr.problem td { background: #ffebe9; } tr.unknown td { background: #fff8c5; }
.timeline { display: grid; grid-template-columns: minmax(12em, max-content) 1fr;
  gap: 2px 1em; align-items: center; }
.lane { position: relative; background: #f6f8fa; }
.bar { position: absolute; height: 1.2em; min-width: 2px; background: #0969da; }
.bar.problem { background: #cf222e; } .bar.unknown { background: #bf8700; }
.axis { display: flex; justify-content: space-between; color: #57606a; font-size: .85em; }
.legend span { display: inline-block; width: 1em; height: .8em; margin: 0 .3em 0 1em; }
"""


def _text(value: object) -> str:
    return escape(str(value), quote=True)


def _moment(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M} UTC" if value is not None else "—"


def _kind(record: AuditRecord) -> str:
    """The record's class: a grant without valid evidence, one whose evidence is not in this
    clone, or a plain one."""
    if record.unrecorded:
        return "unknown"
    return "problem" if record.problem is not None else "grant"


def _source(report: AuditReport, generated: datetime) -> str:
    rows = [
        ("repository", report.repository_url or "(no origin)"),
        ("branch", report.ref),
        ("commit", report.commit),
        ("generated", _moment(generated)),
        ("grants shown", f"{len(report.records):,}"),
        ("evidence", _evidence_summary(report)),
    ]
    if report.query is not None and report.query.asks:
        rows.append(("filters", _filters(report.query)))
    cells = "".join(f"<dt>{_text(k)}</dt><dd>{_text(v)}</dd>" for k, v in rows)
    return f'<dl class="source">{cells}</dl>'


def _evidence_summary(report: AuditReport) -> str:
    if not report.evidence_known:
        return "unknown: this clone holds no evidence notes (fetch refs/notes/jitops)"
    return f"{len(report.unverified):,} grant(s) without valid approval evidence"


def _filters(query: AuditQuery) -> str:
    parts = [
        *(f"--user {u}" for u in sorted(query.users)),
        *(f"--target {t}" for t in sorted(query.targets)),
        *(f"--role {r}" for r in sorted(query.roles)),
        *(f"--approver {a}" for a in sorted(query.approvers)),
    ]
    for flag, moment in (
        ("--since", query.since),
        ("--until", query.until),
        ("--active-at", query.active_at),
    ):
        if moment is not None:
            parts.append(f"{flag} {moment.isoformat()}")
    return " ".join(parts)


def _problems(report: AuditReport) -> str:
    items = [
        f"<li><code>{_text(f.path)}</code>: {_text(f.message)}"
        + (f" — {_text(f.hint)}" if f.hint else "")
        + "</li>"
        for f in report.findings
    ]
    items += [
        f'<li><a href="#{_anchor(r)}"><code>{_text(r.request.id)}</code></a> '
        f"(@{_text(r.request.requester)}, {_text(r.request.target)}/{_text(r.request.role)}, "
        f"landed {_text(r.landed_commit[:12])}): {_text(r.problem)}</li>"
        for r in report.records
        if r.problem is not None
    ]
    if not items:
        return '<p class="ok" id="problems">No problems: every grant shown has valid evidence.</p>'
    return f'<ul class="problems" id="problems">{"".join(items)}</ul>'


def _anchor(record: AuditRecord) -> str:
    return f"g-{record.landed_commit[:12]}-{record.request.id}"


def _timeline(records: Iterable[AuditRecord], generated: datetime) -> str:
    """One lane per person and target, a bar per grant from its start to its end."""
    lanes: dict[tuple[str, str], list[AuditRecord]] = {}
    spans = []
    for record in records:
        start = record.window_start or record.landed_at
        end = record.held_until or generated
        spans.append((start, end))
        lanes.setdefault((record.request.requester.lower(), record.request.target), []).append(
            record
        )
    if not spans:
        return "<p>No grants to show.</p>"
    first = min(start for start, _ in spans)
    last = max(end for _, end in spans)
    total = max((last - first).total_seconds(), 1.0)
    rows = []
    for (person, target), held in sorted(lanes.items()):
        bars = []
        for track, r in _tracks(held, generated):
            start = r.window_start or r.landed_at
            end = r.held_until or generated
            left = (start - first).total_seconds() / total * 100
            width = max((end - start).total_seconds() / total * 100, 0.0)
            label = f"{r.request.id}: {r.request.role}, {_moment(start)} – {_moment(end)}"
            bars.append(
                f'<a class="bar {_kind(r)}" href="#{_anchor(r)}" title="{_text(label)}" '
                f'style="left:{left:.3f}%;width:{width:.3f}%;top:{track * 1.3}em"></a>'
            )
        height = (1 + max(track for track, _ in _tracks(held, generated))) * 1.3
        rows.append(
            f'<div class="who">@{_text(person)} · {_text(target)}</div>'
            f'<div class="lane" style="height:{height:.1f}em">{"".join(bars)}</div>'
        )
    ticks = [first + (last - first) * i / 4 for i in range(5)]
    axis = "".join(f"<span>{t:%Y-%m-%d %H:%M}</span>" for t in ticks)
    legend = (
        '<p class="legend"><span style="background:#0969da"></span>approved'
        '<span style="background:#cf222e"></span>without valid evidence'
        '<span style="background:#bf8700"></span>evidence not in this clone (times UTC)</p>'
    )
    return (
        f'<div class="timeline" id="timeline">{"".join(rows)}<div></div>'
        f'<div class="axis">{axis}</div></div>{legend}'
    )


def _tracks(held: list[AuditRecord], generated: datetime) -> list[tuple[int, AuditRecord]]:
    """Each grant of a lane with the track it is drawn on: grants that overlap in time go on
    tracks of their own, so no bar hides another (the first track that is free by then)."""
    ends: list[datetime] = []  # the end of the last bar on each track
    placed = []
    for record in sorted(held, key=lambda r: r.window_start or r.landed_at):
        start = record.window_start or record.landed_at
        track = next((i for i, end in enumerate(ends) if end <= start), len(ends))
        if track == len(ends):
            ends.append(start)
        ends[track] = record.held_until or generated
        placed.append((track, record))
    return placed


def _pull(record: AuditRecord, repository_url: str | None) -> str:
    if record.pull_request is None:
        return "—"
    number = int(record.pull_request)
    if repository_url is None:
        return f"#{number}"
    return f'<a href="{_text(repository_url)}/pull/{number}">#{number}</a>'


def _grant_row(record: AuditRecord, repository_url: str | None) -> str:
    request = record.request
    cells = [
        f"<code>{_text(request.id)}</code>",
        f"@{_text(request.requester)}",
        f"{_text(request.target)}/{_text(request.role)}",
        _text(_moment(record.window_start)),
        _text(_moment(record.held_until)),
        _text(revoked_text(record)),
        _text(approved_by(record)),
        _pull(record, repository_url),
        f'<span class="mono">{_text((record.policy_commit or "—")[:12])}</span>',
        _text(evidence_of(record)),
        _text(request.justification),
    ]
    return (
        f'<tr id="{_anchor(record)}" class="{_kind(record)}" data-grant="{_text(request.id)}">'
        + "".join(f"<td>{cell}</td>" for cell in cells)
        + "</tr>"
    )


_HEADER = (
    "request",
    "who",
    "access",
    "from",
    "until",
    "revoked",
    "approved by",
    "pull request",
    "policies of",
    "evidence",
    "justification",
)


def audit_html(report: AuditReport, generated: datetime) -> str:
    """The whole page for ``report``, generated at ``generated``."""
    title = f"jitops audit — {report.repository_url or 'access repository'} at {report.commit[:12]}"
    head = "".join(f"<th>{_text(h)}</th>" for h in _HEADER)
    rows = "\n".join(_grant_row(r, report.repository_url) for r in report.records)
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_POLICY}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_text(title)}</title><style>{_STYLE}</style></head>\n"
        f"<body><h1>Access audit</h1>{_source(report, generated)}\n"
        f"<h2>Problems</h2>{_problems(report)}\n"
        f"<h2>Access over time</h2>{_timeline(report.records, generated)}\n"
        f'<h2>Every grant</h2><table id="grants"><thead><tr>{head}</tr></thead>\n'
        f"<tbody>\n{rows}\n</tbody></table>\n"
        "</body></html>\n"
    )
